//! Batch-norm folding (`fuse_conv_bn_eval`, `fuse_linear_bn_eval`): the fused
//! layer against the unfused pair in evaluation mode, with running statistics
//! gathered in training mode, hand-computed answers, and the errors.

use crate::rng_lock;
use neurite::nn::{BatchNorm1d, BatchNorm2d, Conv2d, Forward, Linear, Module, fuse_conv_bn_eval, fuse_linear_bn_eval};
use neurite::{DType, Device, Tensor};

const TOL_F32: f64 = 1e-5;

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

/// Random values in `[lo, hi)`, for scales and shifts that are far from the
/// defaults (gamma = 1, beta = 0) so that a dropped term would show.
fn uniform(shape: &[usize], lo: f64, hi: f64, dtype: DType) -> Tensor {
    Tensor::rand(shape, dtype, &cpu()).unwrap().affine(hi - lo, lo).unwrap()
}

/// Runs `bn` in training mode on a few shifted and scaled random batches (so
/// that the running statistics are far from 0 and 1), gives it a random
/// affine part when it has one, and switches it to evaluation mode.
fn gather_statistics(bn: &mut dyn Forward, batches: &[Tensor]) {
    bn.train();
    for x in batches {
        bn.forward(x).unwrap();
    }
    for (name, p) in bn.named_parameters() {
        let v = match name.as_str() {
            "weight" => uniform(p.dims(), 0.5, 1.5, p.dtype()),
            _ => uniform(p.dims(), -1.0, 1.0, p.dtype()),
        };
        p.set_data(&v).unwrap();
    }
    bn.eval();
}

#[derive(Clone, Copy, Debug)]
struct ConvCase {
    in_c: usize,
    out_c: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    groups: usize,
    bias: bool,
    affine: bool,
}

const BASE: ConvCase = ConvCase {
    in_c: 3,
    out_c: 4,
    kernel: [3, 3],
    stride: [1, 1],
    padding: [0, 0],
    dilation: [1, 1],
    groups: 1,
    bias: true,
    affine: true,
};

fn check_conv(case: ConvCase, dtype: DType, tol: f64) {
    let _rng = rng_lock();
    neurite::manual_seed(7);
    let c = case;
    let mut conv = Conv2d::try_new_full(
        c.in_c, c.out_c, c.kernel, c.stride, c.padding, c.dilation, c.groups, c.bias,
    )
    .unwrap();
    let mut bn = BatchNorm2d::new(c.out_c).with_affine(c.affine);
    conv.to_dtype(dtype).unwrap();
    bn.to_dtype(dtype).unwrap();
    let input = |n| {
        Tensor::randn((n, c.in_c, 9, 8), dtype, &cpu())
            .unwrap()
            .affine(3.0, 2.0)
            .unwrap()
    };
    let batches: Vec<Tensor> = (0..3).map(|_| conv.forward(&input(4)).unwrap()).collect();
    gather_statistics(&mut bn, &batches);
    assert_eq!(bn.num_batches_tracked(), 3);
    let mean = values(bn.running_mean());
    assert!(
        mean.iter().any(|m| m.abs() > 0.05),
        "{case:?}: trivial running mean {mean:?}"
    );

    let fused = fuse_conv_bn_eval(&conv, &bn).unwrap();
    assert_eq!(fused.in_channels(), conv.in_channels(), "{case:?}");
    assert_eq!(fused.out_channels(), conv.out_channels(), "{case:?}");
    assert_eq!(fused.kernel_size(), conv.kernel_size(), "{case:?}");
    assert_eq!(fused.stride(), c.stride, "{case:?}");
    assert_eq!(fused.padding(), c.padding, "{case:?}");
    assert_eq!(fused.dilation(), c.dilation, "{case:?}");
    assert_eq!(fused.groups(), c.groups, "{case:?}");
    assert_eq!(fused.weight().dims(), conv.weight().dims(), "{case:?}");
    assert!(fused.bias().is_some(), "{case:?}: the fused conv always has a bias");
    assert_eq!(fused.weight().dtype(), dtype);
    assert_eq!(fused.bias().unwrap().dtype(), dtype);
    fused.validate().unwrap();

    let x = input(2);
    let want = bn.forward(&conv.forward(&x).unwrap()).unwrap();
    assert_close(&format!("{case:?} {dtype}"), &fused.forward(&x).unwrap(), &want, tol);
    // The unbatched (C, H, W) form too.
    let x1 = x.narrow(0, 0, 1).unwrap().squeeze(0usize).unwrap();
    let want1 = want.narrow(0, 0, 1).unwrap().squeeze(0usize).unwrap();
    assert_close(
        &format!("{case:?} unbatched"),
        &fused.forward(&x1).unwrap(),
        &want1,
        tol,
    );
}

#[test]
fn conv_with_bias_matches_conv_then_batch_norm() {
    check_conv(BASE, DType::F32, TOL_F32);
}

#[test]
fn conv_without_bias_matches() {
    check_conv(ConvCase { bias: false, ..BASE }, DType::F32, TOL_F32);
}

#[test]
fn conv_with_stride_and_padding_matches() {
    check_conv(
        ConvCase {
            stride: [2, 2],
            padding: [1, 1],
            ..BASE
        },
        DType::F32,
        TOL_F32,
    );
}

#[test]
fn grouped_conv_matches() {
    check_conv(
        ConvCase {
            in_c: 4,
            out_c: 6,
            groups: 2,
            padding: [1, 1],
            ..BASE
        },
        DType::F32,
        TOL_F32,
    );
}

#[test]
fn depthwise_conv_without_bias_matches() {
    check_conv(
        ConvCase {
            in_c: 4,
            out_c: 8,
            groups: 4,
            bias: false,
            ..BASE
        },
        DType::F32,
        TOL_F32,
    );
}

#[test]
fn dilated_conv_matches() {
    check_conv(
        ConvCase {
            dilation: [2, 2],
            padding: [2, 2],
            ..BASE
        },
        DType::F32,
        TOL_F32,
    );
}

#[test]
fn conv_with_non_affine_batch_norm_matches() {
    check_conv(ConvCase { affine: false, ..BASE }, DType::F32, TOL_F32);
    check_conv(
        ConvCase {
            affine: false,
            bias: false,
            ..BASE
        },
        DType::F32,
        TOL_F32,
    );
}

#[test]
fn conv_with_every_hyperparameter_at_once_matches() {
    check_conv(
        ConvCase {
            in_c: 4,
            out_c: 6,
            kernel: [3, 2],
            stride: [2, 1],
            padding: [1, 2],
            dilation: [2, 1],
            groups: 2,
            bias: false,
            affine: false,
        },
        DType::F32,
        TOL_F32,
    );
    check_conv(
        ConvCase {
            in_c: 4,
            out_c: 6,
            kernel: [1, 3],
            stride: [1, 2],
            padding: [0, 1],
            dilation: [1, 2],
            groups: 2,
            bias: true,
            affine: true,
        },
        DType::F32,
        TOL_F32,
    );
}

#[test]
fn f64_layers_fuse_in_f64() {
    check_conv(
        ConvCase {
            in_c: 4,
            out_c: 6,
            groups: 2,
            stride: [2, 2],
            padding: [1, 1],
            ..BASE
        },
        DType::F64,
        1e-12,
    );
    check_linear(true, true, DType::F64, 1e-12);
}

#[test]
fn conv_known_answer_by_hand() {
    // One channel, 1x1: y = 2x + 1, then BN with mean 3, var 3, eps 1
    // (sqrt(var + eps) = 2), gamma 4, beta 0.5: scale 2, so
    // w' = 2 * 2 = 4 and b' = (1 - 3) * 2 + 0.5 = -3.5.
    let w = Tensor::from_vec(vec![2f32], (1, 1, 1, 1), &cpu()).unwrap();
    let b = Tensor::from_vec(vec![1f32], 1, &cpu()).unwrap();
    let conv = Conv2d::from_tensors(w, Some(b), 1, 0).unwrap();
    let mut bn = BatchNorm2d::new(1).with_eps(1.0);
    let one = |v: f32| Tensor::from_vec(vec![v], 1, &cpu()).unwrap();
    bn.running_mean().set_data(&one(3.0)).unwrap();
    bn.running_var().set_data(&one(3.0)).unwrap();
    bn.weight().unwrap().set_data(&one(4.0)).unwrap();
    bn.bias().unwrap().set_data(&one(0.5)).unwrap();
    bn.eval();

    let fused = fuse_conv_bn_eval(&conv, &bn).unwrap();
    assert_eq!(fused.weight().to_vec::<f32>().unwrap(), vec![4.0]);
    assert_eq!(fused.bias().unwrap().to_vec::<f32>().unwrap(), vec![-3.5]);
    let x = Tensor::from_vec(vec![1f32, 2.0], (1, 1, 1, 2), &cpu()).unwrap();
    // conv: 3, 5; bn: (3 - 3) / 2 * 4 + 0.5 = 0.5, (5 - 3) / 2 * 4 + 0.5 = 4.5.
    assert_eq!(fused.forward(&x).unwrap().to_vec::<f32>().unwrap(), vec![0.5, 4.5]);
    assert_eq!(
        bn.forward(&conv.forward(&x).unwrap()).unwrap().to_vec::<f32>().unwrap(),
        vec![0.5, 4.5]
    );

    // No conv bias and no affine part: w' = 2 / 2 = 1, b' = (0 - 3) / 2 = -1.5.
    let conv = Conv2d::from_tensors(Tensor::full(2.0, (1, 1, 1, 1), DType::F32, &cpu()).unwrap(), None, 1, 0).unwrap();
    let bn = BatchNorm2d::new(1).with_eps(1.0).with_affine(false);
    bn.running_mean().set_data(&one(3.0)).unwrap();
    bn.running_var().set_data(&one(3.0)).unwrap();
    let fused = fuse_conv_bn_eval(&conv, &bn).unwrap();
    assert_eq!(fused.weight().to_vec::<f32>().unwrap(), vec![1.0]);
    assert_eq!(fused.bias().unwrap().to_vec::<f32>().unwrap(), vec![-1.5]);
}

#[test]
fn linear_known_answer_by_hand() {
    // Two outputs: rows [1, 2] and [3, 4], bias [1, -1]; BN eps 0, means
    // [1, 2], vars [4, 16] (std 2 and 4), gammas [2, 8], betas [0, 1]:
    // scales [1, 2], so w' = [[1, 2], [6, 8]], b' = [(1 - 1) * 1 + 0, (-1 - 2) * 2 + 1] = [0, -5].
    let w = Tensor::from_vec(vec![1f32, 2.0, 3.0, 4.0], (2, 2), &cpu()).unwrap();
    let b = Tensor::from_vec(vec![1f32, -1.0], 2, &cpu()).unwrap();
    let fc = Linear::from_tensors(w, Some(b)).unwrap();
    let mut bn = BatchNorm1d::new(2).with_eps(0.0);
    let two = |a: f32, b: f32| Tensor::from_vec(vec![a, b], 2, &cpu()).unwrap();
    bn.running_mean().set_data(&two(1.0, 2.0)).unwrap();
    bn.running_var().set_data(&two(4.0, 16.0)).unwrap();
    bn.weight().unwrap().set_data(&two(2.0, 8.0)).unwrap();
    bn.bias().unwrap().set_data(&two(0.0, 1.0)).unwrap();
    bn.eval();

    let fused = fuse_linear_bn_eval(&fc, &bn).unwrap();
    assert_eq!(
        fused.weight().to_vec2::<f32>().unwrap(),
        vec![vec![1.0, 2.0], vec![6.0, 8.0]]
    );
    assert_eq!(fused.bias().unwrap().to_vec::<f32>().unwrap(), vec![0.0, -5.0]);
    let x = Tensor::from_vec(vec![1f32, 1.0], (1, 2), &cpu()).unwrap();
    // linear: [4, 6]; bn: [(4 - 1) / 2 * 2, (6 - 2) / 4 * 8 + 1] = [3, 9].
    assert_eq!(fused.forward(&x).unwrap().to_vec::<f32>().unwrap(), vec![3.0, 9.0]);
    assert_eq!(
        bn.forward(&fc.forward(&x).unwrap()).unwrap().to_vec::<f32>().unwrap(),
        vec![3.0, 9.0]
    );
}

fn check_linear(bias: bool, affine: bool, dtype: DType, tol: f64) {
    let _rng = rng_lock();
    neurite::manual_seed(11);
    let mut fc = Linear::try_new(5, 7, bias).unwrap();
    let mut bn = BatchNorm1d::new(7).with_affine(affine);
    fc.to_dtype(dtype).unwrap();
    bn.to_dtype(dtype).unwrap();
    let input = |n| Tensor::randn((n, 5), dtype, &cpu()).unwrap().affine(2.0, -1.5).unwrap();
    let batches: Vec<Tensor> = (0..4).map(|_| fc.forward(&input(16)).unwrap()).collect();
    gather_statistics(&mut bn, &batches);
    let var = values(bn.running_var());
    assert!(
        var.iter().any(|v| (v - 1.0).abs() > 0.05),
        "trivial running var {var:?}"
    );

    let fused = fuse_linear_bn_eval(&fc, &bn).unwrap();
    assert_eq!((fused.in_features(), fused.out_features()), (5, 7));
    assert!(fused.bias().is_some());
    assert_eq!(fused.weight().dtype(), dtype);
    let x = input(6);
    let want = bn.forward(&fc.forward(&x).unwrap()).unwrap();
    let what = format!("linear bias={bias} affine={affine} {dtype}");
    assert_close(&what, &fused.forward(&x).unwrap(), &want, tol);
}

#[test]
fn linear_matches_linear_then_batch_norm() {
    check_linear(true, true, DType::F32, TOL_F32);
    check_linear(false, true, DType::F32, TOL_F32);
    check_linear(true, false, DType::F32, TOL_F32);
    check_linear(false, false, DType::F32, TOL_F32);
}

#[test]
fn fused_parameters_are_fresh_trainable_tensors() {
    let _rng = rng_lock();
    let conv = Conv2d::new(2, 2, 1);
    let bn = BatchNorm2d::new(2);
    let fused = fuse_conv_bn_eval(&conv, &bn).unwrap();
    for (name, p) in fused.named_parameters() {
        assert!(p.is_requires_grad(), "{name} is not trainable");
    }
    let before = values(fused.weight());
    let conv_before = values(conv.weight());
    // Writing through either layer leaves the other alone.
    fused.weight().set_data(&fused.weight().ones_like().unwrap()).unwrap();
    fused
        .bias()
        .unwrap()
        .set_data(&fused.bias().unwrap().ones_like().unwrap())
        .unwrap();
    assert_eq!(values(conv.weight()), conv_before);
    assert!(values(bn.weight().unwrap()).iter().all(|&v| v == 1.0));
    assert!(values(bn.bias().unwrap()).iter().all(|&v| v == 0.0));
    let fused_again = fuse_conv_bn_eval(&conv, &bn).unwrap();
    assert_eq!(values(fused_again.weight()), before);
    conv.weight().set_data(&conv.weight().zeros_like().unwrap()).unwrap();
    assert_eq!(values(fused_again.weight()), before);

    // Gradients reach the fused parameters.
    let x = Tensor::randn((1, 2, 3, 3), DType::F32, &cpu()).unwrap();
    let grads = fused.forward(&x).unwrap().sum_all().unwrap().backward().unwrap();
    assert!(grads.get(fused.weight()).is_some());
    assert!(grads.get(fused.bias().unwrap()).is_some());

    let fc = Linear::new(3, 2);
    let bn1 = BatchNorm1d::new(2);
    let fused = fuse_linear_bn_eval(&fc, &bn1).unwrap();
    fc.weight().set_data(&fc.weight().zeros_like().unwrap()).unwrap();
    assert!(values(fused.weight()).iter().any(|&v| v != 0.0));
    assert!(fused.weight().is_requires_grad() && fused.bias().unwrap().is_requires_grad());
}

#[test]
fn ungrouped_fusion_draws_no_random_numbers() {
    let _rng = rng_lock();
    let conv = Conv2d::new(3, 4, 3).with_dilation(2);
    let bn = BatchNorm2d::new(4);
    let fc = Linear::new(3, 4);
    let bn1 = BatchNorm1d::new(4);
    let state = neurite::rng_state();
    fuse_conv_bn_eval(&conv, &bn).unwrap();
    fuse_linear_bn_eval(&fc, &bn1).unwrap();
    assert_eq!(neurite::rng_state(), state);
}

#[test]
fn running_statistics_are_used_even_in_training_mode() {
    let _rng = rng_lock();
    neurite::manual_seed(3);
    let conv = Conv2d::new(2, 3, 3);
    let mut bn = BatchNorm2d::new(3);
    gather_statistics(&mut bn, &[uniform(&[4, 3, 5, 5], -2.0, 5.0, DType::F32)]);
    bn.train();
    let fused = fuse_conv_bn_eval(&conv, &bn).unwrap();
    bn.eval();
    let x = Tensor::randn((2, 2, 6, 6), DType::F32, &cpu()).unwrap();
    let want = bn.forward(&conv.forward(&x).unwrap()).unwrap();
    assert_close("fused in training mode", &fused.forward(&x).unwrap(), &want, TOL_F32);
}

#[test]
fn mismatched_features_are_errors_naming_both_sizes() {
    let _rng = rng_lock();
    let e = fuse_conv_bn_eval(&Conv2d::new(3, 4, 3), &BatchNorm2d::new(5))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("fuse_conv_bn_eval"), "{e}");
    assert!(e.contains("5 features") && e.contains("4 output channels"), "{e}");
    assert!(e.contains("[4, 3, 3, 3]"), "{e}");

    let e = fuse_linear_bn_eval(&Linear::new(3, 2), &BatchNorm1d::new(3))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("fuse_linear_bn_eval"), "{e}");
    assert!(e.contains("3 features") && e.contains("2 output features"), "{e}");
}

#[test]
fn dtype_mismatch_is_an_error() {
    let _rng = rng_lock();
    let conv = Conv2d::new(3, 4, 3);
    let mut bn = BatchNorm2d::new(4);
    bn.to_dtype(DType::F64).unwrap();
    let e = fuse_conv_bn_eval(&conv, &bn).unwrap_err().to_string();
    assert!(e.starts_with("fuse_conv_bn_eval"), "{e}");
    assert!(e.contains("Conv2d is f32") && e.contains("BatchNorm2d is f64"), "{e}");

    let mut fc = Linear::new(3, 2);
    fc.to_dtype(DType::F64).unwrap();
    let e = fuse_linear_bn_eval(&fc, &BatchNorm1d::new(2)).unwrap_err().to_string();
    assert!(e.starts_with("fuse_linear_bn_eval"), "{e}");
    assert!(e.contains("Linear is f64") && e.contains("BatchNorm1d is f32"), "{e}");
}

#[test]
fn invalid_layers_are_errors() {
    let _rng = rng_lock();
    // Parameters that could not be created.
    let e = fuse_linear_bn_eval(&Linear::new(usize::MAX, 2), &BatchNorm1d::new(2))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("fuse_linear_bn_eval") && e.contains("the Linear cannot be fused"),
        "{e}"
    );
    let e = fuse_linear_bn_eval(&Linear::new(3, 2), &BatchNorm1d::new(usize::MAX))
        .unwrap_err()
        .to_string();
    assert!(e.contains("the BatchNorm1d cannot be fused"), "{e}");
    // Invalid hyperparameters.
    let e = fuse_conv_bn_eval(&Conv2d::new(3, 4, 3).with_stride(0), &BatchNorm2d::new(4))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("fuse_conv_bn_eval") && e.contains("the Conv2d cannot be fused") && e.contains("stride"),
        "{e}"
    );
    let e = fuse_conv_bn_eval(&Conv2d::new(3, 4, 3), &BatchNorm2d::new(4).with_eps(-1.0))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("the BatchNorm2d cannot be fused") && e.contains("eps"),
        "{e}"
    );
    let e = fuse_conv_bn_eval(&Conv2d::new(3, 4, 3).with_groups(2), &BatchNorm2d::new(4))
        .unwrap_err()
        .to_string();
    assert!(e.contains("groups (2)"), "{e}");
}

/// The MNIST CNN's shape (conv-BN-ReLU-pool twice, dropout, flatten, linear)
/// and an MLP with a `BatchNorm1d`: the folded model equals the original in
/// evaluation mode, loses exactly the batch norms, and keeps the other
/// layers' tensors under their new indices.
#[test]
fn fuse_batch_norms_folds_every_pair_of_a_sequential() {
    use neurite::nn::{Dropout, Flatten, MaxPool2d, ReLU, Sequential, fuse_batch_norms};
    let _g = rng_lock();
    neurite::manual_seed(11);
    let mut cnn = Sequential::new()
        .add(Conv2d::new(1, 4, 3).with_padding(1))
        .add(BatchNorm2d::new(4))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(4, 6, 3).with_padding(1).with_bias(false))
        .add(BatchNorm2d::new(6))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Dropout::new(0.25))
        .add(Flatten::new())
        .add(Linear::new(6 * 2 * 2, 3));
    let batches: Vec<Tensor> = (0..3).map(|_| uniform(&[5, 1, 8, 8], -2.0, 3.0, DType::F32)).collect();
    cnn.train();
    for x in &batches {
        cnn.forward(x).unwrap();
    }
    cnn.eval();
    let fused = fuse_batch_norms(&cnn).unwrap();
    assert_eq!(fused.len(), cnn.len() - 2);
    let names: Vec<String> = fused.named_parameters().into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["0.weight", "0.bias", "3.weight", "3.bias", "8.weight", "8.bias"]
    );
    assert!(fused.named_buffers().is_empty(), "no batch-norm statistics left");
    let x = uniform(&[4, 1, 8, 8], -2.0, 3.0, DType::F32);
    assert_close("cnn", &fused.forward(&x).unwrap(), &cnn.forward(&x).unwrap(), TOL_F32);
    // The classifier is the same tensor values under a new name.
    assert_eq!(
        values(&fused.named_parameters()[4].1),
        values(
            &cnn.named_parameters()
                .into_iter()
                .find(|(n, _)| n == "10.weight")
                .unwrap()
                .1
        )
    );

    let mut mlp = Sequential::new()
        .add(Linear::new(5, 7))
        .add(BatchNorm1d::new(7))
        .add(ReLU)
        .add(Linear::new(7, 2));
    mlp.train();
    for _ in 0..3 {
        mlp.forward(&uniform(&[16, 5], -1.0, 4.0, DType::F32)).unwrap();
    }
    mlp.eval();
    let fused = fuse_batch_norms(&mlp).unwrap();
    assert_eq!(fused.len(), 3);
    let x = uniform(&[6, 5], -1.0, 4.0, DType::F32);
    assert_close("mlp", &fused.forward(&x).unwrap(), &mlp.forward(&x).unwrap(), TOL_F32);

    // Nothing to fold, and mismatched sizes, are errors.
    let e = fuse_batch_norms(&Sequential::new().add(Linear::new(3, 2)).add(ReLU))
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("fuse_batch_norms") && e.contains("no Conv2d followed by a BatchNorm2d"),
        "{e}"
    );
    let e = fuse_batch_norms(&Sequential::new().add(Linear::new(3, 2)).add(BatchNorm1d::new(4)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("2 output channels") && e.contains("4 features"), "{e}");
}
