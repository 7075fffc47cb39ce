//! Finite-difference checks of whole models and of loss kinks, in f64.

use neurite::loss::{BceWithLogitsLoss, CrossEntropyLoss, Loss};
use neurite::nn::{
    BatchNorm1d, Conv2d, Flatten, Forward, GELU, LayerNorm, Linear, MaxPool2d, Module, Sequential, Tanh,
};
use neurite::{DType, Device, Tensor};

/// Checks d loss / d parameter of `model` against central differences.
fn check_params(model: &dyn Module, loss: impl Fn() -> f64, grads: &neurite::GradStore, tol: f64) {
    for (name, p) in model.named_parameters() {
        let analytic = grads.get(&p).unwrap_or_else(|| panic!("{name} got no gradient"));
        let analytic: Vec<f64> = analytic.to_vec().unwrap();
        let base: Vec<f64> = p.to_vec().unwrap();
        let h = 1e-6;
        for i in 0..base.len() {
            let set = |delta: f64| {
                let mut v = base.clone();
                v[i] += delta;
                let t = Tensor::from_vec(v, p.shape(), &Device::cpu()).unwrap();
                neurite::no_grad(|| p.set_data(&t)).unwrap();
            };
            set(h);
            let up = loss();
            set(-h);
            let down = loss();
            set(0.0);
            let numeric = (up - down) / (2.0 * h);
            let err = (analytic[i] - numeric).abs() / numeric.abs().max(1.0);
            assert!(err < tol, "{name}[{i}]: autograd {} vs numeric {numeric}", analytic[i]);
        }
    }
}

#[test]
fn mlp_with_batch_norm_and_smoothed_cross_entropy_matches_finite_differences() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(11);
    let mut model = Sequential::new()
        .add(Linear::new(4, 6))
        .add(BatchNorm1d::new(6))
        .add(Tanh)
        .add(Linear::new(6, 5))
        .add(LayerNorm::new(5))
        .add(GELU)
        .add(Linear::new(5, 3));
    model.to_dtype(DType::F64).unwrap();
    let x = Tensor::randn((7, 4), DType::F64, &Device::cpu()).unwrap();
    let y = Tensor::from_vec(vec![0i64, 2, 1, 1, 0, 2, 2], 7, &Device::cpu()).unwrap();
    let w = Tensor::from_vec(vec![0.5f64, 1.0, 2.0], 3, &Device::cpu()).unwrap();
    let ce = CrossEntropyLoss::new().with_weight(w).with_label_smoothing(0.15);
    // Train mode: batch statistics, a function of the parameters only.
    let loss_of = || ce.forward(&model.forward(&x).unwrap(), &y).unwrap();
    let grads = loss_of().backward().unwrap();
    check_params(
        &model,
        || neurite::no_grad(|| loss_of().to_scalar::<f64>().unwrap()),
        &grads,
        1e-6,
    );
}

#[test]
fn small_cnn_matches_finite_differences() {
    let _rng = crate::rng_lock();
    neurite::manual_seed(12);
    let mut model = Sequential::new()
        .add(Conv2d::new(2, 3, 3).with_stride(2).with_padding(1))
        .add(Tanh)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(3 * 2 * 2, 2));
    model.to_dtype(DType::F64).unwrap();
    let x = Tensor::randn((2, 2, 9, 9), DType::F64, &Device::cpu()).unwrap();
    let t = Tensor::from_vec(vec![1.0f64, 0.0, 0.0, 1.0], (2, 2), &Device::cpu()).unwrap();
    let loss_of = || {
        BceWithLogitsLoss::new()
            .forward(&model.forward(&x).unwrap(), &t)
            .unwrap()
    };
    let grads = loss_of().backward().unwrap();
    check_params(
        &model,
        || neurite::no_grad(|| loss_of().to_scalar::<f64>().unwrap()),
        &grads,
        1e-6,
    );
}

#[test]
fn bce_with_logits_gradient_is_exact_at_zero() {
    // |x| has a kink at 0; the loss does not: d/dx = sigmoid(0) - y = 0.5 - y.
    let x = Tensor::zeros(3, DType::F64, &Device::cpu()).unwrap().requires_grad();
    let t = Tensor::from_vec(vec![0.0f64, 1.0, 0.25], 3, &Device::cpu()).unwrap();
    let l = BceWithLogitsLoss::new()
        .with_reduction(neurite::loss::Reduction::Sum)
        .forward(&x, &t)
        .unwrap();
    assert!((l.to_scalar::<f64>().unwrap() - 3.0 * 2f64.ln()).abs() < 1e-12);
    let g = l.backward().unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec::<f64>().unwrap(), vec![0.5, -0.5, 0.25]);
}
