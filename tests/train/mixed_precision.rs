//! Autocast and `Trainer::mixed_precision`: products round through the half
//! dtype and come back `F32`, gradients reach `F32` master weights, and
//! training in BF16 / F16 (with loss scaling) tracks F32 training.

use crate::common::{serial, xor_data};
use neurite::nn::{Conv2d, Forward, Linear, Module, ReLU, Sequential};
use neurite::optim::{Sgd, SgdConfig};
use neurite::train::Trainer;
use neurite::{Conv2dArgs, DType, Device, Tensor, autocast, autocast_dtype};

fn randn(dims: &[usize]) -> Tensor {
    Tensor::randn(dims, DType::F32, &Device::cpu()).unwrap()
}

fn close(a: &Tensor, b: &Tensor, tol: f32) {
    let (a, b) = (a.to_vec::<f32>().unwrap(), b.to_vec::<f32>().unwrap());
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= tol * (1.0 + y.abs()), "{x} vs {y}");
    }
}

/// The product computed by hand: operands rounded to `d`, multiplied, the
/// result rounded to `d`, returned as F32.
fn by_hand(d: DType, f: impl Fn(&Tensor, &Tensor) -> Tensor, a: &Tensor, b: &Tensor) -> Tensor {
    f(&a.to_dtype(d).unwrap(), &b.to_dtype(d).unwrap())
        .to_dtype(DType::F32)
        .unwrap()
}

#[test]
fn products_in_an_autocast_scope_round_through_the_half_dtype() {
    let _g = serial();
    neurite::manual_seed(3);
    let (a, b) = (randn(&[5, 7]), randn(&[7, 3]));
    let (x, w) = (randn(&[2, 3, 6, 6]), randn(&[4, 3, 3, 3]));
    for d in [DType::BF16, DType::F16] {
        let mm = autocast(d, || a.matmul(&b)).unwrap().unwrap();
        assert_eq!(mm.dtype(), DType::F32);
        assert_eq!(
            mm.to_vec::<f32>().unwrap(),
            by_hand(d, |p, q| p.matmul(q).unwrap(), &a, &b).to_vec::<f32>().unwrap()
        );
        let conv = autocast(d, || x.conv2d_with(&w, None, &Conv2dArgs::default()))
            .unwrap()
            .unwrap();
        let want = by_hand(
            d,
            |p, q| p.conv2d_with(q, None, &Conv2dArgs::default()).unwrap(),
            &x,
            &w,
        );
        assert_eq!(conv.to_vec::<f32>().unwrap(), want.to_vec::<f32>().unwrap());
        // The rounding is visible: the F32 product differs, by about the half dtype's epsilon.
        let exact = a.matmul(&b).unwrap();
        assert_ne!(mm.to_vec::<f32>().unwrap(), exact.to_vec::<f32>().unwrap());
        close(&mm, &exact, 5e-2);
    }
    // Element-wise ops, reductions and softmax are not cast.
    let s = autocast(DType::BF16, || a.softmax(1usize).unwrap().sum_all().unwrap()).unwrap();
    assert_eq!(
        s.to_vec::<f32>().unwrap(),
        a.softmax(1usize).unwrap().sum_all().unwrap().to_vec::<f32>().unwrap()
    );
    // F64 is never cast; the scope ends with the closure.
    let a64 = a.to_dtype(DType::F64).unwrap();
    let m64 = autocast(DType::BF16, || a64.matmul(&b.to_dtype(DType::F64).unwrap()))
        .unwrap()
        .unwrap();
    assert_eq!(m64.dtype(), DType::F64);
    assert_eq!(autocast_dtype(), None);
    assert!(autocast(DType::I64, || ()).is_err());
    assert!(autocast(DType::F32, || ()).is_err());
}

#[test]
fn gradients_reach_f32_master_weights() {
    let _g = serial();
    neurite::manual_seed(4);
    let layer = Linear::new(6, 3);
    let x = randn(&[8, 6]);
    let loss_f32 = layer.forward(&x).unwrap().sqr().unwrap().mean_all().unwrap();
    let g32 = loss_f32.backward().unwrap();
    let loss_bf16 = autocast(DType::BF16, || {
        layer.forward(&x).unwrap().sqr().unwrap().mean_all().unwrap()
    })
    .unwrap();
    assert_eq!(loss_bf16.dtype(), DType::F32);
    let g16 = loss_bf16.backward().unwrap();
    for p in layer.parameters() {
        let (a, b) = (g16.get(&p).unwrap(), g32.get(&p).unwrap());
        assert_eq!(a.dtype(), DType::F32);
        close(a, b, 3e-2);
    }
}

fn xor_run(precision: Option<DType>) -> (f64, Option<f64>) {
    neurite::manual_seed(0);
    let data = xor_data(32, 0.1).unwrap();
    let mut model = Sequential::new()
        .add(Linear::new(2, 16))
        .add(ReLU)
        .add(Linear::new(16, 2));
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.3)).unwrap();
    let mut trainer = Trainer::new(neurite::loss::cross_entropy)
        .epochs(15)
        .batch_size(16)
        .quiet();
    if let Some(d) = precision {
        trainer = trainer.mixed_precision(d);
    }
    let history = trainer.fit(&mut model, &mut opt, &data).unwrap();
    for p in model.parameters() {
        assert_eq!(p.dtype(), DType::F32);
    }
    (
        *history.loss.last().unwrap(),
        trainer.get_grad_scaler().map(|s| s.get_scale()),
    )
}

#[test]
fn mixed_precision_training_tracks_f32_training() {
    let _g = serial();
    let (f32_loss, none) = xor_run(None);
    let (bf16_loss, no_scaler) = xor_run(Some(DType::BF16));
    let (f16_loss, scale) = xor_run(Some(DType::F16));
    assert!(none.is_none() && no_scaler.is_none());
    // F16 trains behind a loss scaler with PyTorch's initial scale 2^16 (no
    // overflow on this problem, fewer than 2000 steps: it never changed).
    assert_eq!(scale, Some(65536.0));
    assert!(f32_loss < 0.2, "f32 {f32_loss}");
    for (name, l) in [("bf16", bf16_loss), ("f16", f16_loss)] {
        assert!((l - f32_loss).abs() < 0.05, "{name} {l} vs f32 {f32_loss}");
    }
    let data = xor_data(4, 0.1).unwrap();
    let mut model = Sequential::new().add(Linear::new(2, 2));
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let r = Trainer::new(neurite::loss::cross_entropy)
        .mixed_precision(DType::I64)
        .quiet()
        .fit(&mut model, &mut opt, &data);
    assert!(r.unwrap_err().to_string().contains("BF16 or F16"));
}

#[test]
fn convolutions_train_under_autocast() {
    let _g = serial();
    neurite::manual_seed(5);
    let conv = Conv2d::new(1, 2, 3);
    let x = randn(&[2, 1, 5, 5]);
    let loss = autocast(DType::BF16, || conv.forward(&x).unwrap().mean_all().unwrap()).unwrap();
    let grads = loss.backward().unwrap();
    let gw = grads.get(conv.parameters().first().unwrap()).unwrap();
    assert_eq!(gw.dtype(), DType::F32);
    let exact = conv.forward(&x).unwrap().mean_all().unwrap().backward().unwrap();
    close(gw, exact.get(conv.parameters().first().unwrap()).unwrap(), 3e-2);
}
