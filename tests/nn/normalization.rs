//! Normalization: statistics from data, forward values, gradient, errors, and
//! the statistics surviving a checkpoint.

use neurite::data::StandardScaler;
use neurite::nn::{Forward, Linear, Module, Normalization, Sequential};
use neurite::{DType, Device, Tensor};

fn cpu() -> Device {
    Device::cpu()
}

/// A deterministic, uneven `(n, c, h, w)` batch: channel `k` has a different
/// mean and spread from the others.
fn images(n: usize, c: usize, h: usize, w: usize) -> Tensor {
    let v: Vec<f64> = (0..n * c * h * w)
        .map(|i| {
            let ch = (i / (h * w)) % c;
            ((i * 37 % 101) as f64 / 10.0) * (ch + 1) as f64 + 3.0 * ch as f64
        })
        .collect();
    Tensor::from_vec(v, (n, c, h, w), &cpu()).unwrap()
}

#[test]
fn global_statistics_match_hand_computed_values() {
    let x = Tensor::from_vec(vec![1f32, 3., 5., 7.], (4, 1), &cpu()).unwrap();
    let norm = Normalization::adapt(&x, None).unwrap();
    assert_eq!(norm.mean().unwrap(), vec![4.0]);
    assert_eq!(norm.variance().unwrap(), vec![5.0]); // population variance
    let y = norm.forward(&x).unwrap().to_vec2::<f32>().unwrap();
    let s = 5f32.sqrt();
    let want = [-3.0 / s, -1.0 / s, 1.0 / s, 3.0 / s];
    for (got, want) in y.iter().zip(want) {
        assert!((got[0] - want).abs() < 1e-6, "{got:?} vs {want}");
    }
}

#[test]
fn per_channel_statistics_standardise_each_channel() {
    let x = images(6, 3, 4, 5);
    let norm = Normalization::adapt(&x, Some(1)).unwrap();
    assert_eq!(norm.num_features(), 3);
    // The same statistics computed directly, channel by channel.
    let v = x.to_vec::<f64>().unwrap();
    for ch in 0..3 {
        let vals: Vec<f64> = (0..v.len()).filter(|i| (i / 20) % 3 == ch).map(|i| v[i]).collect();
        let mean = vals.iter().sum::<f64>() / vals.len() as f64;
        let var = vals.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / vals.len() as f64;
        assert!((norm.mean().unwrap()[ch] - mean).abs() < 1e-5 * mean.abs().max(1.0));
        assert!((norm.variance().unwrap()[ch] - var).abs() < 1e-5 * var);
    }
    // On the data it was adapted to, every channel comes out with mean 0 and variance 1.
    let y = norm.forward(&x.to_dtype(DType::F32).unwrap()).unwrap();
    let mean = y.mean_dims(&[0usize, 2, 3], false).unwrap().to_vec::<f64>().unwrap();
    let var = y
        .var_dims(&[0usize, 2, 3], false, false)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    for ch in 0..3 {
        assert!(mean[ch].abs() < 1e-5, "channel {ch} mean {}", mean[ch]);
        assert!((var[ch] - 1.0).abs() < 1e-4, "channel {ch} variance {}", var[ch]);
    }
}

#[test]
fn negative_axis_and_scaler_agree_with_standard_scaler() {
    let v: Vec<f32> = (0..40).map(|i| ((i * 13 % 17) as f32) * (1 + i % 4) as f32).collect();
    let x = Tensor::from_vec(v, (10, 4), &cpu()).unwrap();
    let scaler = StandardScaler::fit(&x).unwrap();
    let want = scaler.transform(&x).unwrap().to_vec2::<f32>().unwrap();
    for layer in [
        Normalization::adapt(&x, Some(-1)).unwrap(),
        Normalization::from_scaler(&scaler).unwrap(),
    ] {
        let got = layer.forward(&x).unwrap().to_vec2::<f32>().unwrap();
        for (g, w) in got.iter().flatten().zip(want.iter().flatten()) {
            assert!((g - w).abs() < 1e-5, "{g} vs {w}");
        }
    }
}

#[test]
fn constant_feature_maps_to_zero() {
    let x = Tensor::from_vec(vec![2f32, 1., 2., 3.], (2, 2), &cpu()).unwrap();
    let norm = Normalization::adapt(&x, Some(1)).unwrap();
    let y = norm.forward(&x).unwrap().to_vec2::<f32>().unwrap();
    assert_eq!(y[0][0], 0.0);
    assert_eq!(y[1][0], 0.0);
    assert!((y[0][1] + 1.0).abs() < 1e-6 && (y[1][1] - 1.0).abs() < 1e-6);
}

#[test]
fn gradient_is_one_over_the_standard_deviation() {
    let norm = Normalization::with_stats(Some(1), &[1.0, -2.0], &[4.0, 0.25]).unwrap();
    let x = Tensor::from_vec(vec![0.5f64, 1.0, 1.5, 2.0, 2.5, 3.0], (3, 2), &cpu())
        .unwrap()
        .requires_grad();
    let mut layer = norm.clone();
    layer.to_dtype(DType::F64).unwrap();
    let g = layer.forward(&x).unwrap().sum_all().unwrap().backward().unwrap();
    let g = g.get(&x).unwrap().to_vec2::<f64>().unwrap();
    for row in g {
        assert_eq!(row, vec![0.5, 2.0]);
    }
    // Statistics are buffers: nothing for an optimizer to change.
    assert_eq!(layer.num_parameters(), 0);
    let names: Vec<String> = layer.named_buffers().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["mean", "variance"]);
}

#[test]
fn statistics_survive_a_checkpoint_round_trip() {
    let x = images(4, 2, 3, 3).to_dtype(DType::F32).unwrap();
    let flat = x.reshape((4, 18)).unwrap();
    let model = Sequential::new()
        .add(Normalization::adapt(&flat, None).unwrap())
        .add(Linear::new(18, 3));
    let bytes = model.to_checkpoint_bytes(&Default::default()).unwrap();
    let loaded = Sequential::from_checkpoint_bytes(&bytes, &cpu()).unwrap();
    assert_eq!(loaded.layer(0).unwrap().name(), "Normalization");
    let (a, b) = (model.forward(&flat).unwrap(), loaded.forward(&flat).unwrap());
    assert_eq!(a.to_vec2::<f32>().unwrap(), b.to_vec2::<f32>().unwrap());
    // And through the JSON configuration.
    let cfg = serde_json::to_string(&model.to_config().unwrap()).unwrap();
    assert!(cfg.contains("Normalization"), "{cfg}");
}

#[test]
fn bad_input_is_an_error_naming_the_problem() {
    let err = |r: neurite::Result<Normalization>| r.unwrap_err().to_string();
    assert!(err(Normalization::try_new(Some(0), 3)).contains("axis 0 is the batch dim"));
    assert!(err(Normalization::with_stats(Some(1), &[0.0, 1.0], &[1.0])).contains("2 means and 1 variances"));
    assert!(err(Normalization::with_stats(None, &[0.0], &[-1.0])).contains("variance 0 is -1"));
    assert!(err(Normalization::with_stats(None, &[0.0, 1.0], &[1.0, 1.0])).contains("one each when axis is None"));
    let vector = Tensor::from_vec(vec![1f32, 2.], 2, &cpu()).unwrap();
    assert!(err(Normalization::adapt(&vector, None)).contains("(N, *)"));
    let nan = Tensor::from_vec(vec![1f32, f32::NAN], (2, 1), &cpu()).unwrap();
    assert!(err(Normalization::adapt(&nan, None)).contains("not finite"));
    let ids = Tensor::from_vec(vec![1i64, 2], (2, 1), &cpu()).unwrap();
    assert!(Normalization::adapt(&ids, None).is_err());
    // Forward: the wrong number of features, or an axis the input does not have.
    let norm = Normalization::with_stats(Some(1), &[0.0; 3], &[1.0; 3]).unwrap();
    let x = Tensor::zeros((2, 4), DType::F32, &cpu()).unwrap();
    let msg = norm.forward(&x).unwrap_err().to_string();
    assert!(msg.contains("4 entries on axis 1") && msg.contains("have 3"), "{msg}");
    let msg = Normalization::new(Some(5), 3).forward(&x).unwrap_err().to_string();
    assert!(msg.contains("axis 5 is not a feature dim"), "{msg}");
    let msg = Normalization::new(Some(0), 3).forward(&x).unwrap_err().to_string();
    assert!(msg.contains("axis 0"), "{msg}");
}
