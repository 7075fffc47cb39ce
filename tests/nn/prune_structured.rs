//! Structured pruning (`prune_channels`, `prune_channels_all`,
//! `prune_channels_keeping`): the pruned model against the original with the
//! removed channels zeroed, the channels chosen by L1 and L2 on hand-made
//! weights, PyTorch's rounding, parameter counts, training and checkpoints
//! of the result, and every error.

use crate::rng_lock;
use neurite::checkpoint::{SaveOptions, save_model};
use neurite::nn::prune::{
    ChannelNorm, ChannelPruneReport, channel_norms, channels_to_keep, prune_channels, prune_channels_all,
    prune_channels_keeping,
};
use neurite::nn::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Flatten, Forward, GELU, Identity, LayerNorm, Linear,
    MaxPool2d, Module, ReLU, Sequential, Softmax, Tanh,
};
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::{DType, Device, Result, Tensor};
use std::collections::HashMap;

const TOL: f64 = 1e-5;

fn cpu() -> Device {
    Device::cpu()
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_vec::<f64>().unwrap()
}

fn assert_close(what: &str, got: &Tensor, want: &Tensor, tol: f64) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let (g, w) = (values(got), values(want));
    let worst = g.iter().zip(&w).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
    assert!(worst <= tol, "{what}: max abs difference {worst} > {tol}");
}

fn tensors(m: &dyn Module) -> HashMap<String, Tensor> {
    m.named_tensors().into_iter().collect()
}

fn dims(m: &dyn Module, name: &str) -> Vec<usize> {
    tensors(m)[name].dims().to_vec()
}

/// Sets `t` from `f64` values, in its own dtype.
fn set(t: &Tensor, v: Vec<f64>) {
    let new = Tensor::from_vec(v, t.dims(), &cpu())
        .unwrap()
        .to_dtype(t.dtype())
        .unwrap();
    t.set_data(&new).unwrap();
}

/// Zeroes the slices of `names` (dim 0) that belong to the `removed` channels,
/// in place: the reference a pruned model must reproduce.
fn zero_channels(model: &dyn Module, names: &[&str], removed: &[usize]) {
    let all = tensors(model);
    for name in names {
        let t = &all[*name];
        let per = t.elem_count() / t.dims()[0];
        let mut v = values(t);
        for &c in removed {
            v[c * per..(c + 1) * per].fill(0.0);
        }
        set(t, v);
    }
}

/// Fills every parameter with values far from zero and from each other, so
/// that a channel, column block or bias taken from the wrong place shows.
fn randomise(model: &dyn Module) {
    for (_, p) in model.named_parameters() {
        let r = Tensor::rand(p.dims(), p.dtype(), &cpu())
            .unwrap()
            .affine(2.0, -1.0)
            .unwrap();
        p.set_data(&r).unwrap();
    }
}

/// Runs `model` in training mode on a few shifted batches so that batch-norm
/// statistics are far from 0 and 1, then switches it to evaluation mode.
fn gather_statistics(model: &mut Sequential, input: &[usize]) {
    model.train();
    for _ in 0..3 {
        let x = Tensor::randn(input, DType::F32, &cpu())
            .unwrap()
            .affine(2.0, 1.0)
            .unwrap();
        model.forward(&x).unwrap();
    }
    model.eval();
}

/// Prunes `layer`, then checks the pruned model against the original with
/// the removed channels zeroed in `zeroed` (weight rows, biases, batch-norm
/// scale and shift). Returns the report.
fn check_against_zeroed(
    model: &Sequential,
    layer: usize,
    amount: f64,
    norm: ChannelNorm,
    zeroed: &[&str],
    input: &[usize],
) -> ChannelPruneReport {
    let x = Tensor::randn(input, DType::F32, &cpu()).unwrap();
    let before = model.forward(&x).unwrap();
    let (pruned, report) = prune_channels(model, layer, amount, norm).unwrap();
    assert_eq!(report.layers.len(), 1);
    let removed = report.layers[0].removed();
    assert!(!removed.is_empty(), "something must go for the check to mean anything");
    // The original is untouched by pruning.
    assert_close("original after pruning", &model.forward(&x).unwrap(), &before, 0.0);
    zero_channels(model, zeroed, &removed);
    let want = model.forward(&x).unwrap();
    assert!(
        values(&want)
            .iter()
            .zip(values(&before))
            .any(|(a, b)| (a - b).abs() > 1e-3),
        "zeroing the removed channels must change the output, or the check proves nothing"
    );
    assert_close("pruned vs zeroed reference", &pruned.forward(&x).unwrap(), &want, TOL);
    report
}

#[test]
fn linear_relu_linear_equals_the_zeroed_original() {
    let _rng = rng_lock();
    neurite::manual_seed(1);
    for norm in [ChannelNorm::L1, ChannelNorm::L2] {
        let model = Sequential::new()
            .add(Linear::new(5, 8))
            .add(ReLU)
            .add(Linear::new(8, 3));
        let expected_keep = channels_to_keep(&model.layer(0).unwrap().named_parameters()[0].1, 0.5, norm);
        let (pruned, _) = prune_channels(&model, 0, 0.5, norm).unwrap();
        assert_eq!(dims(&pruned, "0.weight"), [4, 5]);
        assert_eq!(dims(&pruned, "0.bias"), [4]);
        assert_eq!(dims(&pruned, "2.weight"), [3, 4]);
        assert_eq!(dims(&pruned, "2.bias"), [3], "the consumer keeps all its outputs");
        let report = check_against_zeroed(&model, 0, 0.5, norm, &["0.weight", "0.bias"], &[6, 5]);
        assert_eq!(report.layers[0].kept, expected_keep.unwrap());
        assert_eq!(report.layers[0].adjusted, vec![2]);
        assert_eq!(report.layers[0].kind, "Linear");
        assert_eq!(report.layers[0].channels_before, 8);
    }
}

#[test]
fn linear_batchnorm1d_and_elementwise_layers_pass_through() {
    let _rng = rng_lock();
    neurite::manual_seed(2);
    let mut model = Sequential::new()
        .add(Linear::new(4, 6))
        .add(BatchNorm1d::new(6))
        .add(GELU)
        .add(Dropout::new(0.3))
        .add(Identity)
        .add(Tanh)
        .add(Linear::new(6, 2));
    randomise(&model);
    gather_statistics(&mut model, &[16, 4]);
    let old_mean = values(&tensors(&model)["1.running_mean"]);
    let report = check_against_zeroed(
        &model,
        0,
        0.5,
        ChannelNorm::L2,
        &["0.weight", "0.bias", "1.weight", "1.bias"],
        &[5, 4],
    );
    let kept = &report.layers[0].kept;
    assert_eq!(report.layers[0].adjusted, vec![1, 6]);
    let (pruned, _) = prune_channels_keeping(&model, 0, kept).unwrap();
    let new_mean = values(&tensors(&pruned)["1.running_mean"]);
    let want: Vec<f64> = kept.iter().map(|&k| old_mean[k]).collect();
    assert_eq!(new_mean, want, "running statistics follow their channels");
    assert_eq!(dims(&pruned, "6.weight"), [2, 3]);
}

#[test]
fn conv_batchnorm_relu_conv_equals_the_zeroed_original() {
    let _rng = rng_lock();
    neurite::manual_seed(3);
    let mut model = Sequential::new()
        .add(Conv2d::new(3, 6, 3).with_padding(1))
        .add(BatchNorm2d::new(6))
        .add(ReLU)
        .add(Conv2d::new(6, 4, 3));
    randomise(&model);
    gather_statistics(&mut model, &[4, 3, 7, 7]);
    let old = tensors(&model);
    let report = check_against_zeroed(
        &model,
        0,
        0.5,
        ChannelNorm::L2,
        &["0.weight", "0.bias", "1.weight", "1.bias"],
        &[2, 3, 7, 7],
    );
    assert_eq!(report.layers[0].adjusted, vec![1, 3]);
    // Check the sliced tensors one by one, against the original's values.
    let kept = report.layers[0].kept.clone();
    let (pruned, _) = prune_channels_keeping(&model, 0, &kept).unwrap();
    assert!(!pruned.is_training(), "the mode is kept");
    let new = tensors(&pruned);
    assert_eq!(new["0.weight"].dims(), [3, 3, 3, 3]);
    assert_eq!(new["3.weight"].dims(), [4, 3, 3, 3]);
    for name in ["1.running_mean", "1.running_var", "1.weight", "1.bias"] {
        let o = values(&old[name]);
        assert_eq!(
            values(&new[name]),
            kept.iter().map(|&k| o[k]).collect::<Vec<_>>(),
            "{name}"
        );
    }
    let w3 = values(&old["3.weight"]);
    let want: Vec<f64> = (0..4)
        .flat_map(|o| kept.iter().flat_map(move |&k| (0..9).map(move |t| (o, k, t))))
        .map(|(o, k, t)| w3[(o * 6 + k) * 9 + t])
        .collect();
    assert_eq!(values(&new["3.weight"]), want, "input channels of the next conv");
    assert_eq!(values(&new["3.bias"]), values(&old["3.bias"]));
    assert_eq!(
        tensors(&pruned)["1.num_batches_tracked"].to_vec::<i64>().unwrap(),
        vec![3]
    );
}

#[test]
fn conv_relu_maxpool_flatten_linear_equals_the_zeroed_original() {
    let _rng = rng_lock();
    neurite::manual_seed(4);
    let model = Sequential::new()
        .add(Conv2d::new(2, 6, 3))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Dropout::new(0.1))
        .add(Linear::new(6 * 3 * 3, 5));
    let mut model = model;
    model.eval();
    let old = tensors(&model);
    // round(6 / 3) = 2 channels go.
    let report = check_against_zeroed(
        &model,
        0,
        1.0 / 3.0,
        ChannelNorm::L1,
        &["0.weight", "0.bias"],
        &[3, 2, 8, 8],
    );
    let kept = report.layers[0].kept.clone();
    assert_eq!(kept.len(), 4);
    let (pruned, _) = prune_channels_keeping(&model, 0, &kept).unwrap();
    let w = values(&old["5.weight"]);
    let want: Vec<f64> = (0..5)
        .flat_map(|o| kept.iter().flat_map(move |&k| (0..9).map(move |t| (o, k, t))))
        .map(|(o, k, t)| w[o * 54 + k * 9 + t])
        .collect();
    assert_eq!(dims(&pruned, "5.weight"), [5, 4 * 9]);
    assert_eq!(
        values(&tensors(&pruned)["5.weight"]),
        want,
        "each channel's block of H*W columns"
    );
}

#[test]
fn spatial_layers_pass_through_before_a_conv() {
    let _rng = rng_lock();
    neurite::manual_seed(5);
    let mut model = Sequential::new()
        .add(Conv2d::new(1, 5, 3).with_padding(1))
        .add(ReLU)
        .add(AvgPool2d::new(2))
        .add(Dropout::new(0.5))
        .add(Conv2d::new(5, 3, 2).with_dilation(2))
        .add(Flatten::new());
    model.eval();
    let report = check_against_zeroed(&model, 0, 0.4, ChannelNorm::L2, &["0.weight", "0.bias"], &[2, 1, 8, 8]);
    assert_eq!(report.layers[0].kept.len(), 3);
}

/// Rows with L1 norms (3, 4, 2.5) and L2 norms (3, 2, 2.5): removing one, L1
/// drops row 2 and L2 drops row 1.
fn hand_made() -> Sequential {
    let model = Sequential::new()
        .add(Linear::new(4, 3))
        .add(ReLU)
        .add(Linear::new(3, 1));
    let w = &tensors(&model)["0.weight"];
    set(w, vec![3., 0., 0., 0., 1., -1., 1., -1., 0., -2.5, 0., 0.]);
    model
}

#[test]
fn l1_and_l2_choose_different_channels_on_hand_made_weights() {
    let model = hand_made();
    let w = &tensors(&model)["0.weight"];
    assert_eq!(channel_norms(w, ChannelNorm::L1).unwrap(), vec![3.0, 4.0, 2.5]);
    assert_eq!(channel_norms(w, ChannelNorm::L2).unwrap(), vec![3.0, 2.0, 2.5]);
    let (_, l1) = prune_channels(&model, 0, 0.34, ChannelNorm::L1).unwrap();
    let (_, l2) = prune_channels(&model, 0, 0.34, ChannelNorm::L2).unwrap();
    assert_eq!(l1.layers[0].kept, vec![0, 1]);
    assert_eq!(l2.layers[0].kept, vec![0, 2]);
    assert_eq!(l2.layers[0].removed(), vec![1]);

    // The same on a conv weight [3, 1, 2, 2], with the bias ignored as in PyTorch.
    let conv = Conv2d::new(1, 3, 2);
    set(conv.weight(), vec![3., 0., 0., 0., 1., -1., 1., -1., 0., -2.5, 0., 0.]);
    set(conv.bias().unwrap(), vec![0.0, 0.0, 100.0]);
    assert_eq!(
        channels_to_keep(conv.weight(), 0.34, ChannelNorm::L1).unwrap(),
        vec![0, 1]
    );
    assert_eq!(
        channels_to_keep(conv.weight(), 0.34, ChannelNorm::L2).unwrap(),
        vec![0, 2]
    );
}

#[test]
fn counts_round_like_pytorch_and_keep_one_channel() {
    // Ten rows with increasing norms: the first ones go.
    let rows = |n: usize| Tensor::from_vec((1..=n).map(|v| v as f32).collect(), (n, 1), &cpu()).unwrap();
    let kept = |n: usize, amount: f64| channels_to_keep(&rows(n), amount, ChannelNorm::L1).unwrap().len();
    assert_eq!(kept(10, 0.25), 8, "round(2.5) = 2, half to even");
    assert_eq!(kept(10, 0.35), 6, "round(3.5000000000000004) = 4");
    assert_eq!(kept(10, 0.45), 6, "round(4.5) = 4");
    assert_eq!(kept(5, 0.5), 3, "round(2.5) = 2");
    assert_eq!(kept(3, 0.5), 1, "round(1.5) = 2");
    assert_eq!(kept(10, 0.0), 10);
    assert_eq!(kept(2, 0.9), 1, "round(1.8) = 2, but one channel stays");
    assert_eq!(kept(1, 0.99), 1);
    assert_eq!(channels_to_keep(&rows(4), 0.5, ChannelNorm::L2).unwrap(), vec![2, 3]);
    // Equal norms: the lower index goes first. NaN counts as the largest.
    let ties = Tensor::from_vec(vec![1f32, -1.0, 1.0, 1.0], (4, 1), &cpu()).unwrap();
    assert_eq!(channels_to_keep(&ties, 0.5, ChannelNorm::L1).unwrap(), vec![2, 3]);
    let nan = Tensor::from_vec(vec![f32::NAN, 1.0, 2.0], (3, 1), &cpu()).unwrap();
    assert_eq!(channels_to_keep(&nan, 0.34, ChannelNorm::L2).unwrap(), vec![0, 2]);
}

#[test]
fn parameter_counts_shrink_as_expected() {
    let _rng = rng_lock();
    let mlp = Sequential::new()
        .add(Linear::new(10, 20))
        .add(ReLU)
        .add(Linear::new(20, 30))
        .add(ReLU)
        .add(Linear::new(30, 5));
    let (small, report) = prune_channels_all(&mlp, 0.5, ChannelNorm::L1).unwrap();
    let want = (10 * 10 + 10) + (10 * 15 + 15) + (15 * 5 + 5);
    assert_eq!(small.num_parameters(), want);
    assert_eq!(report.params_before, mlp.num_parameters());
    assert_eq!(report.params_after, want);
    assert_eq!(report.layers.iter().map(|l| l.index).collect::<Vec<_>>(), [0, 2]);
    assert!((report.fraction_removed() - (1.0 - want as f64 / mlp.num_parameters() as f64)).abs() < 1e-12);
    let text = report.to_string();
    assert!(text.contains("layer 0 (Linear): 20 -> 10 output channels"), "{text}");
    assert!(text.contains("layer 2 (Linear): 30 -> 15"), "{text}");

    // The MNIST CNN shape, both convs halved.
    let cnn = mnist_cnn();
    let (small, report) = prune_channels_all(&cnn, 0.5, ChannelNorm::L2).unwrap();
    let want = (16 * 9 + 16) + (32 * 16 * 9 + 32) + (10 * 32 * 25 + 10);
    assert_eq!((report.params_after, small.num_parameters()), (want, want));
    assert_eq!(report.layers[1].adjusted, vec![7]);
    let x = Tensor::randn((2, 1, 28, 28), DType::F32, &cpu()).unwrap();
    assert_eq!(small.forward(&x).unwrap().dims(), [2, 10]);
}

fn mnist_cnn() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 32, 3))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(32, 64, 3))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(64 * 5 * 5, 10))
}

#[test]
fn prune_all_equals_pruning_each_layer_in_turn() {
    let _rng = rng_lock();
    neurite::manual_seed(6);
    let model = Sequential::new()
        .add(Conv2d::new(2, 6, 3))
        .add(ReLU)
        .add(Conv2d::new(6, 8, 3))
        .add(BatchNorm2d::new(8))
        .add(Flatten::new())
        .add(Linear::new(8 * 4 * 4, 3));
    randomise(&model);
    let (all, report) = prune_channels_all(&model, 0.5, ChannelNorm::L1).unwrap();
    let (step, first) = prune_channels(&model, 0, 0.5, ChannelNorm::L1).unwrap();
    let (step, second) = prune_channels(&step, 2, 0.5, ChannelNorm::L1).unwrap();
    assert_eq!(report.layers, vec![first.layers[0].clone(), second.layers[0].clone()]);
    let (a, b) = (tensors(&all), tensors(&step));
    assert_eq!(a.len(), b.len());
    for (name, t) in &a {
        assert_eq!(values(t), values(&b[name]), "{name}");
    }
    // A model with one prunable layer has nothing to prune but still copies.
    let single = Sequential::new().add(Linear::new(3, 2)).add(ReLU);
    let (copy, report) = prune_channels_all(&single, 0.5, ChannelNorm::L1).unwrap();
    assert!(report.layers.is_empty());
    assert_eq!(copy.num_parameters(), single.num_parameters());
}

#[test]
fn the_pruned_model_trains_alone_and_round_trips_through_a_checkpoint() -> Result<()> {
    let _rng = rng_lock();
    neurite::manual_seed(7);
    let model = Sequential::new()
        .add(Conv2d::new(1, 8, 3))
        .add(BatchNorm2d::new(8))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(8 * 3 * 3, 2));
    let original = tensors(&model);
    let snapshot: HashMap<String, Vec<f64>> = original.iter().map(|(n, t)| (n.clone(), values(t))).collect();
    let (pruned, _) = prune_channels(&model, 0, 0.5, ChannelNorm::L2)?;
    assert!(pruned.is_training());
    let x = Tensor::randn((16, 1, 8, 8), DType::F32, &cpu())?;
    let y = Tensor::randn((16, 2), DType::F32, &cpu())?;
    let mut opt = Sgd::new(pruned.parameters(), SgdConfig::new(0.01))?;
    let loss = |m: &Sequential| neurite::loss::mse_loss(&m.forward(&x)?, &y);
    let first = loss(&pruned)?.to_scalar::<f32>()?;
    for _ in 0..10 {
        let l = loss(&pruned)?;
        opt.step(&l.backward()?)?;
    }
    let last = loss(&pruned)?.to_scalar::<f32>()?;
    assert!(last < first * 0.9, "loss {first} -> {last}");
    for (name, t) in &original {
        assert_eq!(
            values(t),
            snapshot[name],
            "{name}: training the pruned model left the original alone"
        );
    }

    let dir = std::env::temp_dir().join(format!("neurite-prune-structured-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pruned.ckpt");
    let mut pruned = pruned;
    pruned.eval();
    save_model(&pruned, &path, &SaveOptions::default())?;
    let loaded = Sequential::load(&path, &cpu())?;
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(!loaded.is_training());
    assert_eq!(loaded.num_parameters(), pruned.num_parameters());
    assert_close("loaded", &loaded.forward(&x)?, &pruned.forward(&x)?, 0.0);
    Ok(())
}

#[test]
fn dtype_layer_modes_and_frozen_parameters_are_kept() {
    let _rng = rng_lock();
    let mut model = Sequential::new()
        .add(Linear::new(3, 4))
        .add(BatchNorm1d::new(4))
        .add(Dropout::new(0.5))
        .add(Linear::new(4, 2));
    model.to_dtype(DType::F64).unwrap();
    model.layer_mut(1).unwrap().eval();
    model.layer_mut(3).unwrap().freeze();
    let (pruned, _) = prune_channels(&model, 0, 0.5, ChannelNorm::L1).unwrap();
    assert!(pruned.is_training());
    assert!(pruned.layer(2).unwrap().is_training(), "the dropout follows the model");
    assert!(
        !pruned.layer(1).unwrap().is_training(),
        "the batch norm stays in eval mode"
    );
    for (name, t) in pruned.named_tensors() {
        let want = if name.ends_with("num_batches_tracked") {
            DType::I64
        } else {
            DType::F64
        };
        assert_eq!(t.dtype(), want, "{name}");
    }
    let frozen: Vec<(String, bool)> = pruned
        .named_parameters()
        .into_iter()
        .map(|(n, t)| (n, t.is_requires_grad()))
        .collect();
    assert_eq!(
        frozen,
        [
            ("0.weight", true),
            ("0.bias", true),
            ("1.weight", true),
            ("1.bias", true),
            ("3.weight", false),
            ("3.bias", false)
        ]
        .map(|(n, f)| (n.to_string(), f))
    );
}

/// The message of an error, after checking that it is one.
fn message<T>(r: Result<T>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

fn assert_mentions(msg: &str, parts: &[&str]) {
    for p in parts {
        assert!(msg.contains(p), "{msg:?} should mention {p:?}");
    }
}

/// A module with no configuration, so that a model holding it cannot be rebuilt.
struct Opaque;
impl Module for Opaque {}
impl Forward for Opaque {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        Ok(x.clone())
    }
}

#[test]
fn bad_arguments_and_layers_are_errors() {
    let _rng = rng_lock();
    let mlp = || {
        Sequential::new()
            .add(Linear::new(3, 4))
            .add(ReLU)
            .add(Linear::new(4, 2))
    };
    let model = mlp();
    for amount in [-0.1, 1.0, 1.5, f64::NAN, f64::INFINITY] {
        let msg = message(prune_channels(&model, 0, amount, ChannelNorm::L1));
        assert_mentions(&msg, &["amount", "[0, 1)"]);
        assert_mentions(
            &message(prune_channels_all(&model, amount, ChannelNorm::L2)),
            &["amount"],
        );
        assert!(channels_to_keep(&model.parameters()[0], amount, ChannelNorm::L1).is_err());
    }
    assert_mentions(
        &message(prune_channels(&model, 3, 0.5, ChannelNorm::L1)),
        &["layer index 3", "3 layers"],
    );
    assert_mentions(
        &message(prune_channels(&model, 1, 0.5, ChannelNorm::L1)),
        &["layer 1 (ReLU)", "no structured form"],
    );
    assert_mentions(
        &message(prune_channels(&model, 2, 0.5, ChannelNorm::L1)),
        &["layer 2 (Linear, 2 output channels)", "no later layer"],
    );
    // Layers that may mix features.
    for (mixer, name) in [
        (Box::new(Softmax::new(-1)) as Box<dyn Forward>, "Softmax"),
        (Box::new(LayerNorm::new(4)), "LayerNorm"),
        (Box::new(Sequential::new().add(ReLU)), "Sequential"),
        (Box::new(Flatten::new()), "Flatten"),
        (Box::new(MaxPool2d::new(2)), "MaxPool2d"),
    ] {
        let m = Sequential::new()
            .add(Linear::new(3, 4))
            .add_module(mixer)
            .add(Linear::new(4, 2));
        let msg = message(prune_channels(&m, 0, 0.5, ChannelNorm::L1));
        assert_mentions(&msg, &[&format!("layer 1 ({name})"), "layer 0 (Linear", "may mix"]);
    }
    // Grouped convolutions, as the pruned layer and as the reader.
    let grouped = Sequential::new()
        .add(Conv2d::new(4, 4, 3).with_groups(2))
        .add(Conv2d::new(4, 2, 1));
    assert_mentions(
        &message(prune_channels(&grouped, 0, 0.5, ChannelNorm::L1)),
        &["layer 0 (Conv2d)", "groups = 2", "[4, 2, 3, 3]"],
    );
    let reader = Sequential::new()
        .add(Conv2d::new(1, 4, 3))
        .add(Conv2d::new(4, 4, 1).with_groups(4));
    assert_mentions(
        &message(prune_channels(&reader, 0, 0.5, ChannelNorm::L1)),
        &["layer 1 (Conv2d)", "groups = 4", "input channels"],
    );
    assert_mentions(
        &message(prune_channels_all(
            &grouped.add(Linear::new(1, 1)),
            0.5,
            ChannelNorm::L1,
        )),
        &["groups = 2"],
    );
    // Sizes that disagree.
    let cases: Vec<(Sequential, Vec<&str>)> = vec![
        (
            Sequential::new()
                .add(Linear::new(3, 4))
                .add(ReLU)
                .add(Linear::new(5, 2)),
            vec!["layer 2 (Linear) has 5 input features", "expected weight [_, 4]"],
        ),
        (
            Sequential::new()
                .add(Conv2d::new(1, 4, 3))
                .add(Flatten::new())
                .add(Linear::new(10, 2)),
            vec!["layer 2 (Linear) has 10 input features", "multiple of 4"],
        ),
        (
            Sequential::new()
                .add(Conv2d::new(1, 4, 3))
                .add(BatchNorm2d::new(5))
                .add(Conv2d::new(4, 2, 1)),
            vec!["layer 1 (BatchNorm2d) normalises 5 features", "expected 4"],
        ),
        (
            Sequential::new().add(Conv2d::new(1, 4, 3)).add(Conv2d::new(3, 2, 1)),
            vec!["layer 1 (Conv2d) has 3 input channels", "expected 4"],
        ),
        (
            Sequential::new()
                .add(Conv2d::new(1, 4, 3))
                .add(Flatten::with_dims(0, -1))
                .add(Linear::new(36, 2)),
            vec!["layer 1 (Flatten) flattens dims 0..=-1"],
        ),
        (
            Sequential::new().add(Conv2d::new(1, 4, 3)).add(Linear::new(4, 2)),
            vec!["layer 1 (Linear)", "without a Flatten"],
        ),
        (
            Sequential::new()
                .add(Conv2d::new(1, 4, 3))
                .add(BatchNorm1d::new(4))
                .add(Conv2d::new(4, 2, 1)),
            vec!["layer 1 (BatchNorm1d)", "may mix"],
        ),
        (
            Sequential::new()
                .add(Linear::new(2, 4))
                .add(BatchNorm2d::new(4))
                .add(Linear::new(4, 2)),
            vec!["layer 1 (BatchNorm2d)", "may mix"],
        ),
    ];
    for (m, parts) in cases {
        assert_mentions(&message(prune_channels(&m, 0, 0.5, ChannelNorm::L1)), &parts);
    }
    // Chosen channels that cannot be kept.
    assert_mentions(
        &message(prune_channels_keeping(&model, 0, &[])),
        &["layer 0 (Linear)", "at least one"],
    );
    assert_mentions(
        &message(prune_channels_keeping(&model, 0, &[1, 1])),
        &["channel 1 is listed twice"],
    );
    assert_mentions(
        &message(prune_channels_keeping(&model, 0, &[0, 4])),
        &["4 output channels", "channel 4"],
    );
    // A layer the pruned model cannot be rebuilt without.
    let opaque = mlp().add(Opaque);
    assert_mentions(
        &message(prune_channels(&opaque, 0, 0.5, ChannelNorm::L1)),
        &["layer 3 (Opaque) has no configuration"],
    );
    // Not a weight.
    assert!(channel_norms(&Tensor::ones(3, DType::F32, &cpu()).unwrap(), ChannelNorm::L1).is_err());
    assert!(channels_to_keep(&Tensor::ones((0, 2), DType::F32, &cpu()).unwrap(), 0.5, ChannelNorm::L1).is_err());
    // Nothing changed in the models that were refused.
    assert_eq!(model.num_parameters(), 3 * 4 + 4 + 4 * 2 + 2);
}
