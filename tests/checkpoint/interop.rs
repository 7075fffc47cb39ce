//! safetensors: PyTorch's state_dicts load into neurite models and give
//! PyTorch's outputs; neurite's exports read back exactly.

use crate::common::{small_model, tmp_dir, values};
use neurite::checkpoint::{parse_safetensors, read_safetensors, safetensors_bytes};
use neurite::nn::{BatchNorm1d, Conv2d, Dropout, Flatten, Forward, Linear, MaxPool2d, Module, ReLU, Sequential};
use neurite::{DType, Device, Error, Tensor};
use serde_json::Value;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("tests/fixtures")
        .join(name)
}

fn torch_json() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture("checkpoint_torch.json")).unwrap()).unwrap()
}

fn tensor(v: &Value, key: &str) -> Tensor {
    let shape: Vec<usize> = serde_json::from_value(v[format!("{key}_shape")].clone()).unwrap();
    let data: Vec<f32> = serde_json::from_value(v[key].clone()).unwrap();
    Tensor::from_vec(data, shape, &Device::cpu()).unwrap()
}

fn assert_close(a: &[f32], b: &[f32], tol: f32) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "element {i}: {x} vs {y}");
    }
}

fn torch_mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(4, 8))
        .add(BatchNorm1d::new(8))
        .add(ReLU)
        .add(Dropout::new(0.5))
        .add(Linear::new(8, 3))
}

#[test]
fn a_pytorch_mlp_state_dict_loads_and_gives_pytorch_outputs() {
    let fx = &torch_json()["mlp"];
    let mut model = torch_mlp();
    model
        .load_safetensors(fixture("checkpoint_torch_mlp.safetensors"))
        .unwrap();
    let nbt = model
        .named_buffers()
        .into_iter()
        .find(|(n, _)| n == "1.num_batches_tracked")
        .unwrap()
        .1;
    assert_eq!(
        nbt.to_vec::<i64>().unwrap(),
        vec![fx["num_batches_tracked"].as_i64().unwrap()]
    );
    model.eval();
    let y = model.forward(&tensor(fx, "input")).unwrap();
    assert_eq!(y.dims(), &[5, 3]);
    assert_close(
        &y.to_vec::<f32>().unwrap(),
        &tensor(fx, "output").to_vec::<f32>().unwrap(),
        1e-5,
    );
}

#[test]
fn a_pytorch_cnn_state_dict_loads_and_gives_pytorch_outputs() {
    let fx = &torch_json()["cnn"];
    let mut model = Sequential::new()
        .add(Conv2d::new(1, 2, 3).with_padding(1))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(2 * 3 * 3, 4));
    model
        .load_safetensors(fixture("checkpoint_torch_cnn.safetensors"))
        .unwrap();
    model.eval();
    let y = model.forward(&tensor(fx, "input")).unwrap();
    assert_close(
        &y.to_vec::<f32>().unwrap(),
        &tensor(fx, "output").to_vec::<f32>().unwrap(),
        1e-5,
    );
}

#[test]
fn a_pytorch_state_dict_for_another_architecture_lists_every_problem() {
    let mut model = Sequential::new()
        .add(Linear::new(4, 8))
        .add(ReLU)
        .add(Linear::new(8, 2));
    let err = model
        .load_safetensors(fixture("checkpoint_torch_mlp.safetensors"))
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("9 problem(s)"), "{msg}");
    for needle in [
        "missing \"2.weight\" (expected shape [2, 8], dtype f32)",
        "unexpected \"1.running_mean\"",
        "unexpected \"4.weight\"",
    ] {
        assert!(msg.contains(needle), "missing {needle:?} in {msg}");
    }
}

#[test]
fn export_and_import_round_trip_exactly() {
    let dir = tmp_dir("safetensors");
    let path = dir.join("model.safetensors");
    let mut model = small_model();
    model.save_safetensors(&path).unwrap();
    let map = read_safetensors(&path).unwrap();
    let mut names: Vec<&String> = map.keys().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "0.bias",
            "0.weight",
            "1.bias",
            "1.num_batches_tracked",
            "1.running_mean",
            "1.running_var",
            "1.weight",
            "4.bias",
            "4.weight"
        ]
    );
    assert_eq!(map["1.num_batches_tracked"].dtype(), DType::I64);
    let mut copy = small_model();
    copy.load_safetensors(&path).unwrap();
    assert_eq!(values(&copy), values(&model));

    // With NEURITE_WRITE_EXPORT set, also leave an MLP export and its outputs
    // for `checkpoint_torch.py --check` to load into PyTorch.
    if let Ok(out) = std::env::var("NEURITE_WRITE_EXPORT") {
        let mut mlp = torch_mlp();
        mlp.eval();
        model.eval();
        let x = Tensor::randn((3, 4), DType::F32, &Device::cpu()).unwrap();
        let y = mlp.forward(&x).unwrap();
        mlp.save_safetensors(&out).unwrap();
        let rec = serde_json::json!({"input": x.to_vec2::<f32>().unwrap(), "output": y.to_vec2::<f32>().unwrap()});
        std::fs::write(format!("{out}.json"), rec.to_string()).unwrap();
    }
}

#[test]
fn malformed_safetensors_are_format_errors() {
    let good = safetensors_bytes(&small_model().named_tensors()).unwrap();
    for cut in [0, 4, 8, 20, good.len() / 2, good.len() - 1] {
        let err = parse_safetensors(&good[..cut], "cut").unwrap_err();
        assert!(matches!(err, Error::Format { .. }), "cut {cut}: {err:?}");
    }
    // Every single-byte corruption: a map or an error, never a panic.
    for i in 0..good.len() {
        let mut bad = good.clone();
        bad[i] ^= 0xff;
        let _ = parse_safetensors(&bad, "flip");
    }
    // A u16 tensor (which neurite has no dtype for) is refused by name.
    let header = br#"{"x":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}}"#;
    let mut file = (header.len() as u64).to_le_bytes().to_vec();
    file.extend_from_slice(header);
    file.extend_from_slice(&[0; 4]);
    let err = parse_safetensors(&file, "u16").unwrap_err();
    assert!(
        err.to_string().contains("\"x\"") && err.to_string().contains("U16"),
        "{err}"
    );
}
