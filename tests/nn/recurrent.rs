//! RNN, LSTM, GRU, their cells, GroupNorm and InstanceNorm2d against PyTorch
//! (tests/fixtures/recurrent_torch.py: outputs and gradients of seeded
//! modules loaded by name), against finite differences in f64, and their
//! argument errors, configurations and checkpoints.

use neurite::nn::{
    Dropout1d, Dropout2d, Forward, GRU, GRUCell, GroupNorm, Identity, InstanceNorm2d, LSTM, LSTMCell, LayerConfig,
    Module, RNN, RNNCell, RecurrentConfig, RnnNonlinearity, Sequential, Unflatten,
};
use neurite::{DType, Device, Tensor};
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn assert_close(what: &str, got: &Tensor, want: &Tensor, tol: f32) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let (g, w) = (got.to_vec::<f32>().unwrap(), want.to_vec::<f32>().unwrap());
    for (i, (a, b)) in g.iter().zip(&w).enumerate() {
        assert!(
            (a - b).abs() <= tol * (1.0 + b.abs()),
            "{what}[{i}]: neurite {a} vs torch {b}"
        );
    }
}

/// The outputs of one fixture case, named as the fixture names them.
type Outputs = Vec<(&'static str, Tensor)>;

fn recurrent_config(c: &Value) -> RecurrentConfig {
    RecurrentConfig::new(
        c["input_size"].as_u64().unwrap() as usize,
        c["hidden_size"].as_u64().unwrap() as usize,
    )
    .with_num_layers(c["num_layers"].as_u64().unwrap() as usize)
    .with_bias(c["bias"].as_bool().unwrap())
    .with_batch_first(c["batch_first"].as_bool().unwrap())
    .with_bidirectional(c["bidirectional"].as_bool().unwrap())
}

fn nonlinearity(c: &Value) -> RnnNonlinearity {
    match c["nonlinearity"].as_str().unwrap() {
        "relu" => RnnNonlinearity::Relu,
        _ => RnnNonlinearity::Tanh,
    }
}

/// Builds the case's module, loads its PyTorch weights by name and runs it.
fn run_case(
    c: &Value,
    t: &HashMap<String, Tensor>,
    x: &Tensor,
    h0: Option<&Tensor>,
    c0: Option<&Tensor>,
) -> (Box<dyn Module>, Outputs) {
    let name = c["name"].as_str().unwrap();
    let prefix = format!("{name}.param.");
    let weights: HashMap<String, Tensor> = t
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|p| (p.to_string(), v.clone())))
        .collect();
    let (i, h) = (
        c["input_size"].as_u64().unwrap() as usize,
        c["hidden_size"].as_u64().unwrap() as usize,
    );
    let bias = c["bias"].as_bool().unwrap();
    fn load<M: Module>(mut m: M, w: &HashMap<String, Tensor>) -> M {
        m.load_named_tensors(w).unwrap();
        m
    }
    match c["kind"].as_str().unwrap() {
        "RNN" => {
            let m = load(RNN::try_new(recurrent_config(c), nonlinearity(c)).unwrap(), &weights);
            let (y, h_n) = m.forward_with_state(x, h0).unwrap();
            (Box::new(m), vec![("output", y), ("h_n", h_n)])
        }
        "LSTM" => {
            let m = load(LSTM::try_new(recurrent_config(c)).unwrap(), &weights);
            let state = h0.zip(c0);
            let (y, (h_n, c_n)) = m.forward_with_state(x, state).unwrap();
            (Box::new(m), vec![("output", y), ("h_n", h_n), ("c_n", c_n)])
        }
        "GRU" => {
            let m = load(GRU::try_new(recurrent_config(c)).unwrap(), &weights);
            let (y, h_n) = m.forward_with_state(x, h0).unwrap();
            (Box::new(m), vec![("output", y), ("h_n", h_n)])
        }
        "RNNCell" => {
            let m = load(RNNCell::try_new(i, h, bias, nonlinearity(c)).unwrap(), &weights);
            let y = m.forward_with_state(x, h0).unwrap();
            (Box::new(m), vec![("output", y)])
        }
        "LSTMCell" => {
            let m = load(LSTMCell::try_new(i, h, bias).unwrap(), &weights);
            let (y, c_n) = m.forward_with_state(x, h0.zip(c0)).unwrap();
            (Box::new(m), vec![("output", y), ("c_n", c_n)])
        }
        "GRUCell" => {
            let m = load(GRUCell::try_new(i, h, bias).unwrap(), &weights);
            let y = m.forward_with_state(x, h0).unwrap();
            (Box::new(m), vec![("output", y)])
        }
        "GroupNorm" => {
            let g = c["num_groups"].as_u64().unwrap() as usize;
            let ch = c["num_channels"].as_u64().unwrap() as usize;
            let m = load(GroupNorm::try_new(g, ch, 1e-5, true).unwrap(), &weights);
            let y = m.forward(x).unwrap();
            (Box::new(m), vec![("output", y)])
        }
        "InstanceNorm2d" => {
            let f = c["num_features"].as_u64().unwrap() as usize;
            let affine = c["affine"].as_bool().unwrap_or(false);
            let m = load(
                InstanceNorm2d::try_new(f, 1e-5, Some(0.1), affine, false).unwrap(),
                &weights,
            );
            let y = m.forward(x).unwrap();
            (Box::new(m), vec![("output", y)])
        }
        other => panic!("unknown fixture kind {other}"),
    }
}

#[test]
fn every_layer_matches_pytorch_outputs_and_gradients() {
    let meta: Value = serde_json::from_str(&std::fs::read_to_string(fixture("recurrent_torch.json")).unwrap()).unwrap();
    let t = neurite::checkpoint::read_safetensors(fixture("recurrent_torch.safetensors")).unwrap();
    let get = |k: String| {
        t.get(&k)
            .unwrap_or_else(|| panic!("fixture tensor {k} missing"))
            .clone()
    };
    let cases = meta["cases"].as_array().unwrap();
    assert!(cases.len() >= 20);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let states: Vec<&str> = c["states"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        let x = get(format!("{name}.input")).requires_grad();
        let h0 = states
            .contains(&"h0")
            .then(|| get(format!("{name}.h0")).requires_grad());
        let c0 = states
            .contains(&"c0")
            .then(|| get(format!("{name}.c0")).requires_grad());
        let (module, outs) = run_case(c, &t, &x, h0.as_ref(), c0.as_ref());
        let mut loss: Option<Tensor> = None;
        for (k, y) in &outs {
            assert_close(&format!("{name}.{k}"), y, &get(format!("{name}.{k}")), 1e-5);
            let term = y.mul(&get(format!("{name}.cot.{k}"))).unwrap().sum_all().unwrap();
            loss = Some(match loss {
                None => term,
                Some(l) => l.add(&term).unwrap(),
            });
        }
        let grads = loss.unwrap().backward().unwrap();
        let mut checked = vec![("input".to_string(), x.clone())];
        checked.extend(h0.iter().map(|h| ("h0".to_string(), h.clone())));
        checked.extend(c0.iter().map(|c| ("c0".to_string(), c.clone())));
        checked.extend(
            module
                .named_parameters()
                .into_iter()
                .map(|(n, p)| (format!("param.{n}"), p)),
        );
        for (g, tensor) in checked {
            let got = grads
                .get(&tensor)
                .unwrap_or_else(|| panic!("{name}: no gradient for {g}"));
            assert_close(&format!("{name}.grad.{g}"), got, &get(format!("{name}.grad.{g}")), 1e-5);
        }
    }
}

/// Central differences of `loss` with respect to every element of `inputs`
/// against the autograd gradients, in f64.
fn gradcheck(inputs: &[Tensor], loss: impl Fn() -> Tensor) {
    let grads = loss().backward().unwrap();
    for (k, p) in inputs.iter().enumerate() {
        let analytic: Vec<f64> = grads
            .get(p)
            .unwrap_or_else(|| panic!("input {k}: no gradient"))
            .to_vec()
            .unwrap();
        let base: Vec<f64> = p.to_vec().unwrap();
        let eps = 1e-6;
        for i in 0..base.len() {
            let at = |delta: f64| {
                let mut v = base.clone();
                v[i] += delta;
                let t = Tensor::from_vec(v, p.shape(), &Device::cpu()).unwrap();
                neurite::no_grad(|| p.set_data(&t)).unwrap();
                neurite::no_grad(|| loss().to_scalar::<f64>().unwrap())
            };
            let numeric = (at(eps) - at(-eps)) / (2.0 * eps);
            at(0.0);
            let err = (analytic[i] - numeric).abs() / numeric.abs().max(1.0);
            assert!(
                err < 1e-6,
                "input {k}[{i}]: autograd {} vs numeric {numeric}",
                analytic[i]
            );
        }
    }
}

fn randn64(dims: &[usize]) -> Tensor {
    Tensor::randn(dims.to_vec(), DType::F64, &Device::cpu())
        .unwrap()
        .requires_grad()
}

/// A fixed, non-uniform weighting of `y`, so that the loss sees every element differently.
fn weighted_sum(y: &Tensor) -> Tensor {
    let n = y.elem_count();
    let w = Tensor::arange(1.0, n as f64 + 1.0, 1.0, DType::F64, &Device::cpu())
        .unwrap()
        .mul_scalar(1.0 / n as f64)
        .unwrap()
        .sin_like();
    y.mul(&w.reshape(y.shape()).unwrap()).unwrap().sum_all().unwrap()
}

trait SinLike {
    fn sin_like(self) -> Tensor;
}

impl SinLike for Tensor {
    /// A smooth stand-in for sin with the crate's ops: `tanh(3x) - x / 2`.
    fn sin_like(self) -> Tensor {
        self.mul_scalar(3.0)
            .unwrap()
            .tanh()
            .unwrap()
            .sub(&self.mul_scalar(0.5).unwrap())
            .unwrap()
    }
}

#[test]
fn recurrent_layers_match_finite_differences_in_f64() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(5);
    let cfg = RecurrentConfig::new(2, 3).with_num_layers(2).with_bidirectional(true);
    let mut lstm = LSTM::try_new(cfg.clone()).unwrap();
    let mut gru = GRU::try_new(cfg.clone()).unwrap();
    let mut rnn = RNN::try_new(cfg, RnnNonlinearity::Tanh).unwrap();
    lstm.to_dtype(DType::F64).unwrap();
    gru.to_dtype(DType::F64).unwrap();
    rnn.to_dtype(DType::F64).unwrap();
    let x = randn64(&[3, 2, 2]);
    let h0 = randn64(&[4, 2, 3]);
    let c0 = randn64(&[4, 2, 3]);

    let mut inputs = vec![x.clone(), h0.clone(), c0.clone()];
    inputs.extend(lstm.parameters());
    gradcheck(&inputs, || {
        let (y, (h, c)) = lstm.forward_with_state(&x, Some((&h0, &c0))).unwrap();
        weighted_sum(&y)
            .add(&weighted_sum(&h))
            .unwrap()
            .add(&weighted_sum(&c))
            .unwrap()
    });
    let mut inputs = vec![x.clone(), h0.clone()];
    inputs.extend(gru.parameters());
    gradcheck(&inputs, || {
        let (y, h) = gru.forward_with_state(&x, Some(&h0)).unwrap();
        weighted_sum(&y).add(&weighted_sum(&h)).unwrap()
    });
    let mut inputs = vec![x.clone(), h0.clone()];
    inputs.extend(rnn.parameters());
    gradcheck(&inputs, || {
        let (y, h) = rnn.forward_with_state(&x, Some(&h0)).unwrap();
        weighted_sum(&y).add(&weighted_sum(&h)).unwrap()
    });
}

#[test]
fn cells_and_norms_match_finite_differences_in_f64() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(6);
    let mut lstm = LSTMCell::new(3, 2);
    let mut gru = GRUCell::new(3, 2);
    let mut rnn = RNNCell::new(3, 2).with_nonlinearity(RnnNonlinearity::Relu);
    let mut gn = GroupNorm::try_new(2, 4, 1e-5, true).unwrap();
    let mut inorm = InstanceNorm2d::try_new(2, 1e-5, Some(0.1), true, false).unwrap();
    for m in [&mut lstm as &mut dyn Module, &mut gru, &mut rnn, &mut gn, &mut inorm] {
        m.to_dtype(DType::F64).unwrap();
    }
    let x = randn64(&[2, 3]);
    let (h, c) = (randn64(&[2, 2]), randn64(&[2, 2]));
    let mut inputs = vec![x.clone(), h.clone(), c.clone()];
    inputs.extend(lstm.parameters());
    gradcheck(&inputs, || {
        let (h2, c2) = lstm.forward_with_state(&x, Some((&h, &c))).unwrap();
        weighted_sum(&h2).add(&weighted_sum(&c2)).unwrap()
    });
    let mut inputs = vec![x.clone(), h.clone()];
    inputs.extend(gru.parameters());
    gradcheck(&inputs, || weighted_sum(&gru.forward_with_state(&x, Some(&h)).unwrap()));
    let mut inputs = vec![x.clone(), h.clone()];
    inputs.extend(rnn.parameters());
    gradcheck(&inputs, || weighted_sum(&rnn.forward_with_state(&x, Some(&h)).unwrap()));

    let img = randn64(&[2, 4, 2, 3]);
    let mut inputs = vec![img.clone()];
    inputs.extend(gn.parameters());
    gradcheck(&inputs, || weighted_sum(&gn.forward(&img).unwrap()));
    let img = randn64(&[2, 2, 3, 2]);
    let mut inputs = vec![img.clone()];
    inputs.extend(inorm.parameters());
    gradcheck(&inputs, || weighted_sum(&inorm.forward(&img).unwrap()));
}

fn err_text<T: std::fmt::Debug>(r: neurite::Result<T>) -> String {
    r.expect_err("expected an error").to_string()
}

#[test]
fn bad_arguments_are_errors_naming_the_op_and_the_values() {
    let e = err_text(LSTM::try_new(RecurrentConfig::new(3, 0)));
    assert!(
        e.contains("LSTM") && e.contains("hidden_size") && e.contains('0'),
        "{e}"
    );
    let e = err_text(LSTM::new(3, 0).forward(&Tensor::zeros((2, 1, 3), DType::F32, &Device::cpu()).unwrap()));
    assert!(e.contains("LSTM") && e.contains("hidden_size"), "{e}");
    let e = err_text(GRU::try_new(RecurrentConfig::new(3, 4).with_num_layers(0)));
    assert!(e.contains("GRU") && e.contains("num_layers"), "{e}");
    let e = err_text(RNN::try_new(
        RecurrentConfig::new(3, 4).with_dropout(1.5),
        RnnNonlinearity::Tanh,
    ));
    assert!(e.contains("RNN") && e.contains("1.5"), "{e}");
    let e = err_text(GRUCell::try_new(3, 0, true));
    assert!(e.contains("GRUCell") && e.contains("hidden_size"), "{e}");

    let lstm = LSTM::new(3, 4);
    let x = Tensor::zeros((5, 2, 7), DType::F32, &Device::cpu()).unwrap();
    let e = err_text(lstm.forward(&x));
    assert!(
        e.contains("LSTM") && e.contains("input_size 3") && e.contains("[5, 2, 7]"),
        "{e}"
    );
    let e = err_text(lstm.forward(&Tensor::zeros((2, 3, 4, 3), DType::F32, &Device::cpu()).unwrap()));
    assert!(e.contains("LSTM") && e.contains("rank"), "{e}");
    let x = Tensor::zeros((5, 2, 3), DType::F32, &Device::cpu()).unwrap();
    let h0 = Tensor::zeros((2, 2, 4), DType::F32, &Device::cpu()).unwrap();
    let c0 = Tensor::zeros((1, 2, 4), DType::F32, &Device::cpu()).unwrap();
    let e = err_text(lstm.forward_with_state(&x, Some((&h0, &c0))));
    assert!(
        e.contains("LSTM") && e.contains("h_0") && e.contains("[1, 2, 4]") && e.contains("[2, 2, 4]"),
        "{e}"
    );
    let e = err_text(lstm.forward_with_state(&x, Some((&c0, &h0))));
    assert!(e.contains("c_0") && e.contains("[2, 2, 4]"), "{e}");
    let e = err_text(
        GRU::new(3, 4).forward_with_state(&x, Some(&Tensor::zeros((1, 3, 4), DType::F32, &Device::cpu()).unwrap())),
    );
    assert!(e.contains("GRU") && e.contains("[1, 3, 4]"), "{e}");
    let e = err_text(LSTMCell::new(3, 4).forward(&Tensor::zeros((2, 5), DType::F32, &Device::cpu()).unwrap()));
    assert!(e.contains("LSTMCell") && e.contains("input_size 3"), "{e}");

    let e = err_text(GroupNorm::try_new(3, 4, 1e-5, true));
    assert!(
        e.contains("GroupNorm") && e.contains("num_groups 3") && e.contains("num_channels 4"),
        "{e}"
    );
    let e = err_text(GroupNorm::new(3, 4).forward(&Tensor::zeros((2, 4, 3), DType::F32, &Device::cpu()).unwrap()));
    assert!(e.contains("GroupNorm") && e.contains("num_groups 3"), "{e}");
    let e = err_text(GroupNorm::new(2, 4).forward(&Tensor::zeros((2, 6, 3), DType::F32, &Device::cpu()).unwrap()));
    assert!(e.contains("GroupNorm") && e.contains("[2, 6, 3]"), "{e}");
    let e = err_text(InstanceNorm2d::new(3).forward(&Tensor::zeros((2, 4, 3, 3), DType::F32, &Device::cpu()).unwrap()));
    assert!(e.contains("InstanceNorm2d") && e.contains("[2, 4, 3, 3]"), "{e}");
    let e = err_text(Dropout2d::try_new(1.2));
    assert!(e.contains("Dropout2d") && e.contains("1.2"), "{e}");
    let e = err_text(Dropout2d::new(0.5).forward(&Tensor::zeros((2, 3), DType::F32, &Device::cpu()).unwrap()));
    assert!(e.contains("Dropout2d") && e.contains("[2, 3]"), "{e}");
    let e =
        err_text(Unflatten::new(1, vec![3, 3]).forward(&Tensor::zeros((2, 8), DType::F32, &Device::cpu()).unwrap()));
    assert!(
        e.contains("Unflatten") && e.contains("[3, 3]") && e.contains('8'),
        "{e}"
    );
}

#[test]
fn parameter_names_and_shapes_follow_pytorch() {
    let lstm = LSTM::new(3, 4).with_num_layers(2).with_bidirectional(true);
    let names: Vec<(String, Vec<usize>)> = lstm
        .named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.dims().to_vec()))
        .collect();
    assert_eq!(names.len(), 16);
    assert_eq!(names[0], ("weight_ih_l0".to_string(), vec![16, 3]));
    assert_eq!(names[1], ("weight_hh_l0".to_string(), vec![16, 4]));
    assert_eq!(names[2], ("bias_ih_l0".to_string(), vec![16]));
    assert_eq!(names[4], ("weight_ih_l0_reverse".to_string(), vec![16, 3]));
    assert_eq!(names[8], ("weight_ih_l1".to_string(), vec![16, 8]));
    assert_eq!(names[15], ("bias_hh_l1_reverse".to_string(), vec![16]));
    let gru = GRU::new(3, 4).with_bias(false);
    let names: Vec<String> = gru.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight_ih_l0", "weight_hh_l0"]);
    let cell = GRUCell::new(3, 4);
    let names: Vec<String> = cell.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]);
    // PyTorch's init: U(-1/sqrt(H), 1/sqrt(H)) everywhere.
    let big = LSTM::new(10, 100);
    for (n, p) in big.named_parameters() {
        let v = p.to_vec::<f32>().unwrap();
        let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
        assert!(max <= 0.1 && max > 0.09, "{n}: max |w| {max}");
    }
}

#[test]
fn dropout_between_layers_acts_in_training_mode_only() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(1);
    let mut lstm = LSTM::new(3, 8).with_num_layers(2).with_dropout(0.5);
    let x = Tensor::randn((4, 2, 3), DType::F32, &Device::cpu()).unwrap();
    let a = lstm.forward(&x).unwrap().to_vec::<f32>().unwrap();
    let b = lstm.forward(&x).unwrap().to_vec::<f32>().unwrap();
    assert_ne!(a, b, "training mode draws new masks");
    lstm.eval();
    assert!(!lstm.is_training());
    let a = lstm.forward(&x).unwrap().to_vec::<f32>().unwrap();
    let b = lstm.forward(&x).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(a, b, "evaluation mode is deterministic");
}

#[test]
fn channel_dropout_zeroes_whole_channels_and_is_the_identity_in_eval() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(2);
    let mut d2 = Dropout2d::new(0.5);
    let y = d2
        .forward(&Tensor::ones((8, 6, 3, 3), DType::F32, &Device::cpu()).unwrap())
        .unwrap();
    let mut kept = 0;
    for ch in y.reshape((48, 9)).unwrap().to_vec2::<f32>().unwrap() {
        assert!(ch.iter().all(|&v| v == 0.0) || ch.iter().all(|&v| v == 2.0), "{ch:?}");
        kept += usize::from(ch[0] == 2.0);
    }
    assert!((10..=38).contains(&kept), "{kept} of 48 channels kept");
    d2.eval();
    let x = Tensor::randn((2, 3, 2, 2), DType::F32, &Device::cpu()).unwrap();
    assert_eq!(
        d2.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        x.to_vec::<f32>().unwrap()
    );
    let d1 = Dropout1d::new(0.5);
    let y = d1
        .forward(&Tensor::ones((3, 5, 4), DType::F32, &Device::cpu()).unwrap())
        .unwrap();
    for ch in y.reshape((15, 4)).unwrap().to_vec2::<f32>().unwrap() {
        assert!(ch.iter().all(|&v| v == 0.0) || ch.iter().all(|&v| v == 2.0), "{ch:?}");
    }
    // Unbatched (C, L) works too.
    assert_eq!(
        d1.forward(&Tensor::ones((5, 4), DType::F32, &Device::cpu()).unwrap())
            .unwrap()
            .dims(),
        &[5, 4]
    );
}

#[test]
fn every_new_layer_rebuilds_from_its_config_and_reloads_its_weights() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(3);
    let model = Sequential::new()
        .add(Unflatten::new(1, vec![4, 6]))
        .add(
            LSTM::new(6, 5)
                .with_batch_first(true)
                .with_num_layers(2)
                .with_bidirectional(true),
        )
        .add(GRU::new(10, 3).with_batch_first(true))
        .add(
            RNN::new(3, 3)
                .with_batch_first(true)
                .with_nonlinearity(RnnNonlinearity::Relu),
        )
        .add(Identity)
        .add(Unflatten::new(2, vec![3, 1]))
        .add(InstanceNorm2d::try_new(4, 1e-5, None, true, true).unwrap())
        .add(GroupNorm::new(2, 4))
        .add(Dropout2d::new(0.3))
        .add(neurite::nn::Flatten::with_dims(2, 3))
        .add(Dropout1d::new(0.2))
        .add(neurite::nn::Flatten::new())
        .add(LSTMCell::new(12, 2));
    let mut model = model;
    let x = Tensor::randn((2, 24), DType::F32, &Device::cpu()).unwrap();
    neurite::no_grad(|| model.forward(&x)).unwrap();
    model.eval();
    let want = model.forward(&x).unwrap().to_vec::<f32>().unwrap();
    let json = serde_json::to_string(&model.to_config().unwrap()).unwrap();
    let mut copy = Sequential::from_config(&serde_json::from_str(&json).unwrap(), &Device::cpu()).unwrap();
    copy.load_named_tensors(&model.named_tensors().into_iter().collect())
        .unwrap();
    copy.eval();
    assert_eq!(copy.forward(&x).unwrap().to_vec::<f32>().unwrap(), want);

    let dir = std::env::temp_dir().join(format!("neurite-recurrent-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("model.ckpt");
    model.save(&path).unwrap();
    let loaded = Sequential::load(&path, &Device::cpu()).unwrap();
    assert_eq!(loaded.forward(&x).unwrap().to_vec::<f32>().unwrap(), want);
    std::fs::remove_dir_all(&dir).unwrap();

    for cfg in [
        GRUCell::new(2, 3).config().unwrap(),
        RNNCell::new(2, 3).config().unwrap(),
        LayerConfig::Identity,
    ] {
        cfg.build(&Device::cpu()).unwrap();
    }
    assert!(LSTM::new(3, 0).config().is_err());
}

#[derive(Module)]
struct Tagger {
    embed: neurite::nn::Linear,
    lstm: LSTM,
    head: neurite::nn::Linear,
}

impl Forward for Tagger {
    fn forward(&self, x: &Tensor) -> neurite::Result<Tensor> {
        let (_, (h_n, _)) = self.lstm.forward_with_state(&self.embed.forward(x)?, None)?;
        self.head.forward(&h_n.squeeze(0)?)
    }
}

#[test]
fn a_derived_model_holding_an_lstm_names_trains_and_round_trips() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(4);
    let mut m = Tagger {
        embed: neurite::nn::Linear::new(3, 4),
        lstm: LSTM::new(4, 5).with_batch_first(true),
        head: neurite::nn::Linear::new(5, 2),
    };
    let names: Vec<String> = m.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert!(names.contains(&"lstm.weight_hh_l0".to_string()), "{names:?}");
    m.eval();
    assert!(!m.lstm.is_training());
    let x = Tensor::randn((2, 6, 3), DType::F32, &Device::cpu()).unwrap();
    let y = m.forward(&x).unwrap();
    assert_eq!(y.dims(), &[2, 2]);
    let grads = y.sum_all().unwrap().backward().unwrap();
    assert!(m.parameters().iter().all(|p| grads.get(p).is_some()));
    let dir = std::env::temp_dir().join(format!("neurite-tagger-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("tagger.safetensors");
    m.save_safetensors(&path).unwrap();
    let mut other = Tagger {
        embed: neurite::nn::Linear::new(3, 4),
        lstm: LSTM::new(4, 5).with_batch_first(true),
        head: neurite::nn::Linear::new(5, 2),
    };
    other.load_safetensors(&path).unwrap();
    assert_eq!(
        other.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        y.to_vec::<f32>().unwrap()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
