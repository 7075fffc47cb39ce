//! Scalers against NumPy (tests/fixtures/data_scalers.py, scikit-learn's
//! definitions) and against values worked out by hand.

use crate::manifest_dir;
use neurite::data::{MinMaxScaler, StandardScaler};
use neurite::{DType, Device, Tensor};
use serde_json::Value;

fn fixture() -> Value {
    let p = manifest_dir().join("tests/fixtures/data_scalers.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn tensor(v: &Value, shape: &Value, dtype: DType) -> Tensor {
    let dims: Vec<usize> = shape
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    Tensor::from_vec(floats(v), dims, &Device::cpu())
        .unwrap()
        .to_dtype(dtype)
        .unwrap()
}

fn close(got: &[f64], want: &[f64], tol: f64, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!((g - w).abs() <= tol * (1.0 + w.abs()), "{what}[{i}]: got {g}, want {w}");
    }
}

#[test]
fn standard_scaler_matches_numpy() {
    let f = fixture();
    let s = &f["standard"];
    let train = tensor(&f["train"], &f["shape_train"], DType::F64);
    let test = tensor(&f["test"], &f["shape_test"], DType::F64);
    let sc = StandardScaler::fit(&train).unwrap();
    close(&sc.mean, &floats(&s["mean"]), 1e-12, "mean");
    close(&sc.var, &floats(&s["var"]), 1e-9, "var");
    close(&sc.scale, &floats(&s["scale"]), 1e-9, "scale");
    assert_eq!(sc.scale[2], 1.0, "constant column gets scale 1");
    close(
        &sc.transform(&train).unwrap().to_vec().unwrap(),
        &floats(&s["train_t"]),
        1e-9,
        "train_t",
    );
    close(
        &sc.transform(&test).unwrap().to_vec().unwrap(),
        &floats(&s["test_t"]),
        1e-9,
        "test_t",
    );
    let back = sc.inverse_transform(&sc.transform(&test).unwrap()).unwrap();
    close(&back.to_vec().unwrap(), &floats(&f["test"]), 1e-12, "inverse");

    // In f32 the transform keeps the f64 statistics and subtracts first, so the
    // large-offset column keeps its precision to f32 rounding of the input.
    let test32 = tensor(&f["test"], &f["shape_test"], DType::F32);
    let t32 = sc.transform(&test32).unwrap();
    assert_eq!(t32.dtype(), DType::F32);
    let want = floats(&s["test_t"]);
    for (i, (g, w)) in t32.to_vec::<f64>().unwrap().iter().zip(&want).enumerate() {
        let tol = if i % 4 == 1 { 0.2 } else { 1e-5 }; // 1e4 in f32 has a 1e-3 ulp, the column's std is 1e-2
        assert!((g - w).abs() <= tol, "f32 test_t[{i}]: got {g}, want {w}");
    }
}

#[test]
fn min_max_scaler_matches_numpy() {
    let f = fixture();
    let s = &f["minmax"];
    let train = tensor(&f["train"], &f["shape_train"], DType::F64);
    let test = tensor(&f["test"], &f["shape_test"], DType::F64);
    let sc = MinMaxScaler::fit_range(&train, (-1.0, 2.0)).unwrap();
    close(&sc.data_min, &floats(&s["data_min"]), 1e-15, "data_min");
    close(&sc.data_max, &floats(&s["data_max"]), 1e-15, "data_max");
    close(&sc.scale, &floats(&s["scale"]), 1e-9, "scale");
    close(&sc.min, &floats(&s["min"]), 1e-9, "min");
    let tt = sc.transform(&train).unwrap().to_vec::<f64>().unwrap();
    close(&tt, &floats(&s["train_t"]), 1e-9, "train_t");
    // Training columns span exactly [-1, 2]; the constant one sits at lo.
    for c in [0, 1, 3] {
        let col: Vec<f64> = tt.iter().skip(c).step_by(4).copied().collect();
        close(
            &[col.iter().cloned().fold(f64::INFINITY, f64::min)],
            &[-1.0],
            1e-9,
            "col min",
        );
        close(
            &[col.iter().cloned().fold(f64::NEG_INFINITY, f64::max)],
            &[2.0],
            1e-9,
            "col max",
        );
    }
    close(
        &sc.transform(&test).unwrap().to_vec().unwrap(),
        &floats(&s["test_t"]),
        1e-9,
        "test_t",
    );
    let back = sc.inverse_transform(&sc.transform(&test).unwrap()).unwrap();
    close(&back.to_vec().unwrap(), &floats(&f["test"]), 1e-9, "inverse");
}

#[test]
fn hand_computed_values_and_zero_variance() {
    let dev = Device::cpu();
    // Column 0: 1, 2, 3, 6 -> mean 3, population var (4 + 1 + 0 + 9) / 4 = 3.5.
    // Column 1: constant 5 -> var 0, scale 1, transforms to x - 5.
    let x = Tensor::from_vec(vec![1f32, 5., 2., 5., 3., 5., 6., 5.], (4, 2), &dev).unwrap();
    let sc = StandardScaler::fit(&x).unwrap();
    assert_eq!(sc.mean, vec![3.0, 5.0]);
    assert_eq!(sc.var, vec![3.5, 0.0]);
    assert_eq!(sc.scale, vec![3.5f64.sqrt(), 1.0]);
    let probe = Tensor::from_vec(vec![3f32 + 3.5f32.sqrt(), 7.], (1, 2), &dev).unwrap();
    let t = sc.transform(&probe).unwrap().to_vec::<f32>().unwrap();
    assert!((t[0] - 1.0).abs() < 1e-6 && t[1] == 2.0, "{t:?}");

    let mm = MinMaxScaler::fit(&x).unwrap();
    assert_eq!(
        (mm.data_min.clone(), mm.data_max.clone()),
        (vec![1.0, 5.0], vec![6.0, 5.0])
    );
    assert_eq!(mm.scale, vec![0.2, 1.0]);
    let t = mm.transform(&x).unwrap().to_vec::<f64>().unwrap();
    close(&t, &[0.0, 0.0, 0.2, 0.0, 0.4, 0.0, 1.0, 0.0], 1e-7, "min-max");
}

#[test]
fn image_tensors_scale_per_pixel_and_round_trip_through_serde() {
    let dev = Device::cpu();
    neurite::manual_seed(3);
    let x = Tensor::randn((6, 1, 2, 3), DType::F32, &dev).unwrap();
    let sc = StandardScaler::fit(&x).unwrap();
    assert_eq!(sc.num_features(), 6);
    let t = sc.transform(&x).unwrap();
    assert_eq!(t.dims(), &[6, 1, 2, 3]);
    let again = StandardScaler::fit(&t).unwrap();
    close(&again.mean, &[0.0; 6], 1e-6, "standardised mean");
    close(&again.var, &[1.0; 6], 1e-5, "standardised var");

    // Saved as checkpoints save them (bincode through serde): bit-exact.
    let cfg = bincode::config::standard();
    let bytes = bincode::serde::encode_to_vec(&sc, cfg).unwrap();
    let (back, _): (StandardScaler, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert_eq!(back, sc);
    let mm = MinMaxScaler::fit(&x).unwrap();
    let bytes = bincode::serde::encode_to_vec(&mm, cfg).unwrap();
    let (back, _): (MinMaxScaler, usize) = bincode::serde::decode_from_slice(&bytes, cfg).unwrap();
    assert_eq!(back, mm);
    // JSON works too (to within its float printing).
    let back: StandardScaler = serde_json::from_str(&serde_json::to_string(&sc).unwrap()).unwrap();
    close(&back.scale, &sc.scale, 1e-15, "json scale");
}

#[test]
fn scaler_errors() {
    let dev = Device::cpu();
    let x = Tensor::from_vec(vec![1f32, 2., 3., 4.], (2, 2), &dev).unwrap();
    let sc = StandardScaler::fit(&x).unwrap();
    let wrong = Tensor::zeros((2, 3), DType::F32, &dev).unwrap();
    let e = sc.transform(&wrong).unwrap_err().to_string();
    assert!(e.contains("2 features") && e.contains("[2, 3]"), "{e}");
    let nan = Tensor::from_vec(vec![1f32, f32::NAN], (1, 2), &dev).unwrap();
    let e = StandardScaler::fit(&nan).unwrap_err().to_string();
    assert!(e.contains("sample 0 feature 1") && e.contains("NaN"), "{e}");
    let empty = Tensor::zeros((0, 2), DType::F32, &dev).unwrap();
    assert!(StandardScaler::fit(&empty).is_err());
    assert!(MinMaxScaler::fit_range(&x, (1.0, 1.0)).is_err());
    let ints = Tensor::zeros((2, 2), DType::I64, &dev).unwrap();
    assert!(MinMaxScaler::fit(&ints).is_err());
}
