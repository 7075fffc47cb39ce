//! The Module/Sequential API: PyTorch naming, modes, devices and dtypes,
//! summary tables, configuration round trips (JSON and bincode), loading by
//! name with every mismatch reported, and user-defined modules.

use neurite::nn::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, Flatten, Forward, GELU, LayerConfig, LayerNorm,
    LeakyReLU, Linear, MaxPool2d, Module, ReLU, Sequential, SequentialConfig, Sigmoid, Softmax, Tanh, register_layer,
};
use neurite::{DType, Device, Result, Tensor};
use std::collections::HashMap;

fn names(v: Vec<(String, Tensor)>) -> Vec<String> {
    v.into_iter().map(|(n, _)| n).collect()
}

fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(6, 5))
        .add(ReLU)
        .add(BatchNorm1d::new(5))
        .add(Dropout::new(0.1))
        .add(Sequential::new().add(Linear::new(5, 4)).add(Tanh))
        .add(Linear::new(4, 2).with_bias(false))
}

#[test]
fn tensors_are_named_as_in_pytorch() {
    let _rng = crate::rng_lock();
    let model = mlp();
    assert_eq!(
        names(model.named_parameters()),
        [
            "0.weight",
            "0.bias",
            "2.weight",
            "2.bias",
            "4.0.weight",
            "4.0.bias",
            "5.weight"
        ]
    );
    assert_eq!(
        names(model.named_buffers()),
        ["2.running_mean", "2.running_var", "2.num_batches_tracked"]
    );
    assert_eq!(model.parameters().len(), 7);
    assert_eq!(model.num_parameters(), 6 * 5 + 5 + 5 + 5 + 5 * 4 + 4 + 4 * 2);
    let w = &model.named_parameters()[0].1;
    assert_eq!(w.dims(), &[5, 6], "Linear weight is [out, in]");
    assert!(model.parameters().iter().all(|p| p.is_requires_grad()));
    assert!(model.named_buffers().iter().all(|(_, b)| !b.is_requires_grad()));
    // The named tensors share storage with the model: in-place updates are seen by forward.
    let lin = Linear::new(2, 1);
    let x = Tensor::ones((1, 2), DType::F32, &Device::cpu()).unwrap();
    for (_, p) in lin.named_parameters() {
        neurite::no_grad(|| p.set_data(&p.zeros_like().unwrap())).unwrap();
    }
    assert_eq!(lin.forward(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.0]);
}

#[test]
fn modes_propagate_through_containers() {
    let _rng = crate::rng_lock();
    let mut model = mlp();
    assert!(model.is_training());
    model.eval();
    assert!(!model.is_training());
    assert!(!model.layer(2).unwrap().is_training() && !model.layer(3).unwrap().is_training());
    assert!(!model.layer(4).unwrap().is_training());
    model.train();
    assert!(model.layer(3).unwrap().is_training());
    // A layer added to an eval-mode container joins in eval mode.
    let mut s = Sequential::new();
    s.eval();
    let s = s.add(Dropout::new(0.5));
    assert!(!s.layer(0).unwrap().is_training());
}

#[test]
fn dtype_and_device_moves_keep_trainable_leaves() {
    let _rng = crate::rng_lock();
    let mut model = mlp();
    let before: Vec<Vec<f64>> = model.parameters().iter().map(|p| p.to_vec().unwrap()).collect();
    model.to_dtype(DType::F64).unwrap();
    for (n, t) in model.named_tensors() {
        let want = if n.ends_with("num_batches_tracked") {
            DType::I64
        } else {
            DType::F64
        };
        assert_eq!(t.dtype(), want, "{n}");
    }
    let after: Vec<Vec<f64>> = model.parameters().iter().map(|p| p.to_vec().unwrap()).collect();
    for (a, b) in before.iter().zip(&after) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-7);
        }
    }
    let ids: Vec<_> = model.parameters().iter().map(|p| p.id()).collect();
    model.to_device(&Device::cpu()).unwrap();
    let ids2: Vec<_> = model.parameters().iter().map(|p| p.id()).collect();
    assert_eq!(ids, ids2, "moving to the current device keeps the same tensors");
    let x = Tensor::ones((3, 6), DType::F64, &Device::cpu()).unwrap();
    let loss = model.forward(&x).unwrap().sqr().unwrap().mean_all().unwrap();
    let grads = loss.backward().unwrap();
    assert!(
        model
            .parameters()
            .iter()
            .all(|p| p.is_requires_grad() && grads.get(p).is_some())
    );
    assert!(model.to_dtype(DType::I64).is_err());
}

#[test]
fn summary_lists_layers_shapes_and_counts() {
    let _rng = crate::rng_lock();
    let mut model = Sequential::new()
        .add(Conv2d::new(1, 4, 3).with_padding(1))
        .add(BatchNorm2d::new(4))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(4 * 14 * 14, 10));
    let table = model.summary(&[1, 1, 28, 28]).unwrap();
    println!("{table}");
    for needle in [
        "Layer (type)",
        "Output Shape",
        "0 (Conv2d)",
        "[1, 4, 28, 28]",
        "1 (BatchNorm2d)",
        "3 (MaxPool2d)",
        "[1, 4, 14, 14]",
        "[1, 784]",
        "5 (Linear)",
        "[1, 10]",
        "7,850",
        "Total params: 7,898",
        "Trainable params: 7,898",
        "Non-trainable params: 0",
    ] {
        assert!(table.contains(needle), "summary lacks {needle:?}:\n{table}");
    }
    let conv_row = table.lines().find(|l| l.starts_with("0 (Conv2d)")).unwrap();
    assert!(
        conv_row.trim_end().ends_with(" 40"),
        "conv has 4*1*3*3 + 4 = 40 params: {conv_row}"
    );
    // Batch 1 works with BatchNorm (eval mode inside), the mode is restored and
    // the running statistics are untouched.
    assert!(model.is_training());
    let bn = model.named_buffers();
    assert_eq!(bn[0].1.to_vec::<f32>().unwrap(), vec![0.0; 4]);
    assert_eq!(bn[2].1.to_scalar::<i64>().unwrap(), 0);
    // Embedding first: the summary feeds i64 ids.
    let mut text = Sequential::new()
        .add(Embedding::new(50, 8))
        .add(Flatten::new())
        .add(Linear::new(40, 3));
    let t = text.summary(&[2, 5]).unwrap();
    assert!(
        t.contains("[2, 5, 8]") && t.contains("[2, 40]") && t.contains("Total params: 523"),
        "{t}"
    );
    // A wrong input shape names the failing layer.
    let e = model.summary(&[1, 3, 28, 28]).unwrap_err();
    assert!(e.to_string().contains("layer 0 (Conv2d)"), "{e}");
}

/// A model using every built-in layer type.
fn zoo() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(2, 4, 3).with_padding(1))
        .add(BatchNorm2d::new(4).with_momentum(0.2))
        .add(LeakyReLU::new(0.1))
        .add(MaxPool2d::new(2))
        .add(AvgPool2d::new(1))
        .add(Dropout::new(0.25))
        .add(Flatten::new())
        .add(Linear::new(4 * 4 * 4, 12))
        .add(BatchNorm1d::new(12).with_eps(1e-3))
        .add(GELU)
        .add(LayerNorm::new(12))
        .add(Sequential::new().add(Linear::new(12, 6)).add(Tanh).add(Sigmoid))
        .add(Softmax::new(-1))
}

#[test]
fn config_round_trip_rebuilds_an_identical_model() {
    let _rng = crate::rng_lock();
    let mut model = zoo();
    // One training step so that running statistics differ from their initial values.
    let x = Tensor::randn((5, 2, 8, 8), DType::F32, &Device::cpu()).unwrap();
    model.forward(&x).unwrap();
    model.eval();
    let cfg = model.to_config().unwrap();
    let json = serde_json::to_string_pretty(&cfg).unwrap();
    assert!(
        json.contains("\"BatchNorm2d\"") && json.contains("\"momentum\": 0.2"),
        "{json}"
    );
    let parsed: SequentialConfig = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed, cfg);
    let bytes = bincode::serde::encode_to_vec(&cfg, bincode::config::standard()).unwrap();
    let (from_bin, _): (SequentialConfig, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(from_bin, cfg);

    let mut rebuilt = Sequential::from_config(&parsed, &Device::cpu()).unwrap();
    assert_eq!(rebuilt.to_config().unwrap(), cfg);
    assert_eq!(names(rebuilt.named_tensors()), names(model.named_tensors()));
    let state: HashMap<String, Tensor> = model.named_tensors().into_iter().collect();
    rebuilt.load_named_tensors(&state).unwrap();
    rebuilt.eval();
    let probe = Tensor::randn((3, 2, 8, 8), DType::F32, &Device::cpu()).unwrap();
    assert_eq!(
        rebuilt.forward(&probe).unwrap().to_vec::<f32>().unwrap(),
        model.forward(&probe).unwrap().to_vec::<f32>().unwrap()
    );
    for ((n, a), (_, b)) in rebuilt.named_tensors().iter().zip(model.named_tensors()) {
        assert_eq!(a.to_vec::<f64>().unwrap(), b.to_vec::<f64>().unwrap(), "{n}");
    }
    let bn: HashMap<String, Tensor> = rebuilt.named_buffers().into_iter().collect();
    assert_eq!(bn["1.num_batches_tracked"].to_scalar::<i64>().unwrap(), 1);
    assert!(rebuilt.parameters().iter().all(|p| p.is_requires_grad()));
}

#[test]
fn invalid_configurations_fail_at_build_time() {
    let _rng = crate::rng_lock();
    for json in [
        r#"{"layers": [{"Dropout": {"p": 2.0}}]}"#,
        r#"{"layers": [{"Conv2d": {"in_channels": 1, "out_channels": 2, "kernel_size": [0, 3], "stride": [1, 1], "padding": [0, 0], "bias": true}}]}"#,
        r#"{"layers": ["ReLU", {"MaxPool2d": {"kernel_size": [2, 2], "stride": [0, 2], "padding": [0, 0]}}]}"#,
        r#"{"layers": [{"Custom": {"name": "never-registered", "params": null}}]}"#,
    ] {
        let cfg: SequentialConfig = serde_json::from_str(json).unwrap();
        let e = Sequential::from_config(&cfg, &Device::cpu()).unwrap_err();
        assert!(e.to_string().contains("layer"), "{e}");
    }
}

#[test]
fn loading_reports_every_mismatch_at_once() {
    let _rng = crate::rng_lock();
    let mut model = mlp();
    let mut state: HashMap<String, Tensor> = model.named_tensors().into_iter().collect();
    let cpu = Device::cpu();
    state.remove("4.0.bias");
    state.insert("0.weight".into(), Tensor::zeros((6, 5), DType::F32, &cpu).unwrap());
    state.insert("2.running_var".into(), Tensor::ones(5, DType::F64, &cpu).unwrap());
    state.insert("9.weight".into(), Tensor::ones(1, DType::F32, &cpu).unwrap());
    let before: Vec<Vec<f64>> = model.named_tensors().iter().map(|(_, t)| t.to_vec().unwrap()).collect();
    let msg = model.load_named_tensors(&state).unwrap_err().to_string();
    for needle in [
        "4 problem(s)",
        "missing \"4.0.bias\"",
        "\"0.weight\": shape [6, 5] given, expected [5, 6]",
        "\"2.running_var\": dtype f64 given, expected f32",
        "unexpected \"9.weight\"",
    ] {
        assert!(msg.contains(needle), "error lacks {needle:?}:\n{msg}");
    }
    let after: Vec<Vec<f64>> = model.named_tensors().iter().map(|(_, t)| t.to_vec().unwrap()).collect();
    assert_eq!(before, after, "nothing is written when any check fails");
}

/// `x * scale + shift` with trainable scalars: a user-defined module.
struct Affine1 {
    scale: Tensor,
    shift: Tensor,
    init: f64,
}

impl Affine1 {
    fn new(init: f64) -> Affine1 {
        let cpu = Device::cpu();
        Affine1 {
            scale: Tensor::full(init, 1, DType::F32, &cpu).unwrap().requires_grad(),
            shift: Tensor::zeros(1, DType::F32, &cpu).unwrap().requires_grad(),
            init,
        }
    }
}

impl Forward for Affine1 {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        x.mul(&self.scale)?.add(&self.shift)
    }
}

impl Module for Affine1 {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        vec![
            ("scale".into(), self.scale.clone()),
            ("shift".into(), self.shift.clone()),
        ]
    }
    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.scale = f(&self.scale)?;
        self.shift = f(&self.shift)?;
        Ok(())
    }
    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::Custom {
            name: "test.Affine1".into(),
            params: serde_json::json!({ "init": self.init }),
        })
    }
}

/// A user module without a configuration.
struct Opaque;
impl Module for Opaque {}
impl Forward for Opaque {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
}

#[test]
fn user_defined_modules_join_sequential_and_its_config() {
    let _rng = crate::rng_lock();
    register_layer("test.Affine1", |p| {
        let init = p["init"]
            .as_f64()
            .ok_or_else(|| neurite::Error::invalid("Affine1", "missing init"))?;
        Ok(Box::new(Affine1::new(init)))
    });
    let model = Sequential::new()
        .add(Linear::new(3, 2))
        .add(Affine1::new(2.0))
        .add_module(Box::new(ReLU));
    assert_eq!(names(model.named_parameters())[2..], ["1.scale", "1.shift"]);
    assert_eq!(model.layer(1).unwrap().name(), "Affine1");
    neurite::no_grad(|| {
        model.named_parameters()[3]
            .1
            .set_data(&Tensor::full(0.5, 1, DType::F32, &Device::cpu())?)
    })
    .unwrap();

    let cfg = model.to_config().unwrap();
    let json = serde_json::to_string(&cfg).unwrap();
    assert!(
        json.contains(r#"{"Custom":{"name":"test.Affine1","params":{"init":2.0}}}"#),
        "{json}"
    );
    let bytes = bincode::serde::encode_to_vec(&cfg, bincode::config::standard()).unwrap();
    let (from_bin, _): (SequentialConfig, usize) =
        bincode::serde::decode_from_slice(&bytes, bincode::config::standard()).unwrap();
    assert_eq!(from_bin, cfg);
    let mut rebuilt = Sequential::from_config(&from_bin, &Device::cpu()).unwrap();
    rebuilt
        .load_named_tensors(&model.named_tensors().into_iter().collect())
        .unwrap();
    let x = Tensor::randn((4, 3), DType::F32, &Device::cpu()).unwrap();
    assert_eq!(
        rebuilt.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        model.forward(&x).unwrap().to_vec::<f32>().unwrap()
    );

    let opaque = Sequential::new().add(ReLU).add(Opaque);
    let e = opaque.to_config().unwrap_err().to_string();
    assert!(e.contains("layer 1 (Opaque)") && e.contains("register_layer"), "{e}");
}

#[test]
fn summary_tree_lists_every_descendant_with_its_parameters() {
    let _rng = crate::rng_lock();
    let inner = Sequential::new().add(Linear::new(4, 3)).add(ReLU);
    let model = Sequential::new().add(inner).add(Linear::new(3, 2));
    model.named_parameters()[0].1.set_requires_grad(false);
    let text = model.summary_tree();
    let lines: Vec<&str> = text.lines().collect();
    let row = |name: &str| {
        lines
            .iter()
            .find(|l| l.trim_start().starts_with(name))
            .copied()
            .unwrap_or("")
    };
    assert!(row("0 (Sequential)").trim_end().ends_with("15"), "{text}");
    assert!(row("0 (Linear)").trim_end().ends_with("15"), "{text}");
    assert!(row("1 (ReLU)").trim_end().ends_with('0'), "{text}");
    assert!(row("1 (Linear)").trim_end().ends_with('8'), "{text}");
    // Depth shows as indentation: the inner Linear sits under the inner Sequential.
    assert!(row("0 (Linear)").starts_with("    0 (Linear)"), "{text}");
    assert!(text.contains("Total params: 23"), "{text}");
    assert!(text.contains("Trainable params: 11"), "{text}");
    assert!(text.contains("Non-trainable params: 12"), "{text}");
}
