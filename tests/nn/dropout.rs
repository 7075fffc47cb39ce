//! Dropout: identity in eval mode; in train mode a zero fraction close to p,
//! survivors scaled by 1/(1-p), gradients through the same mask, and masks
//! reproducible with manual_seed.

use neurite::nn::{Dropout, Forward, Linear, Module, Sequential};
use neurite::{DType, Device, Tensor};

#[test]
fn eval_mode_is_the_identity() {
    let _rng = crate::rng_lock();
    let mut d = Dropout::new(0.5);
    d.eval();
    assert!(!d.is_training());
    let x = Tensor::randn((64, 32), DType::F32, &Device::cpu()).unwrap();
    assert_eq!(
        d.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        x.to_vec::<f32>().unwrap()
    );
}

#[test]
fn train_mode_drops_about_p_and_scales_the_rest() {
    let _rng = crate::rng_lock();
    let n = 200_000;
    for p in [0.1, 0.3, 0.5, 0.8] {
        let d = Dropout::new(p);
        let x = Tensor::full(2.0, n, DType::F32, &Device::cpu())
            .unwrap()
            .requires_grad();
        let y = d.forward(&x).unwrap();
        let v = y.to_vec::<f32>().unwrap();
        let zeros = v.iter().filter(|&&e| e == 0.0).count() as f64 / n as f64;
        // Standard deviation of the fraction is sqrt(p(1-p)/n) < 0.0012; allow ~8 of them.
        assert!((zeros - p).abs() < 0.01, "p = {p}: zero fraction {zeros}");
        let kept = (2.0 / (1.0 - p)) as f32;
        assert!(
            v.iter().all(|&e| e == 0.0 || (e - kept).abs() <= 1e-5 * kept),
            "p = {p}: survivors must equal 2 / (1 - p) = {kept}"
        );
        let mean = v.iter().map(|&e| e as f64).sum::<f64>() / n as f64;
        assert!((mean - 2.0).abs() < 0.05, "p = {p}: mean {mean} should stay near 2");
        // The gradient is the same scaled mask.
        let g = y.sum_all().unwrap().backward().unwrap();
        let gv = g.get(&x).unwrap().to_vec::<f32>().unwrap();
        for (gi, yi) in gv.iter().zip(&v) {
            assert!((gi * 2.0 - yi).abs() <= 1e-5 * kept);
        }
    }
}

#[test]
fn masks_follow_the_global_seed() {
    let _rng = crate::rng_lock();
    let d = Dropout::new(0.5);
    let x = Tensor::ones(1000, DType::F32, &Device::cpu()).unwrap();
    neurite::manual_seed(42);
    let a = d.forward(&x).unwrap().to_vec::<f32>().unwrap();
    let b = d.forward(&x).unwrap().to_vec::<f32>().unwrap();
    neurite::manual_seed(42);
    let a2 = d.forward(&x).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(a, a2, "same seed, same mask");
    assert_ne!(a, b, "consecutive calls draw new masks");
}

#[test]
fn edge_probabilities_and_invalid_ones() {
    let _rng = crate::rng_lock();
    let x = Tensor::randn(100, DType::F32, &Device::cpu()).unwrap();
    assert_eq!(
        Dropout::new(0.0).forward(&x).unwrap().to_vec::<f32>().unwrap(),
        x.to_vec::<f32>().unwrap()
    );
    assert!(
        Dropout::new(1.0)
            .forward(&x)
            .unwrap()
            .to_vec::<f32>()
            .unwrap()
            .iter()
            .all(|&v| v == 0.0)
    );
    let e = Dropout::new(1.5).forward(&x).unwrap_err();
    assert!(
        e.to_string().contains("Dropout") && e.to_string().contains("1.5"),
        "{e}"
    );
    assert!(Dropout::try_new(-0.1).is_err());
    assert!(Dropout::try_new(f64::NAN).is_err());
}

#[test]
fn sequential_mode_switches_dropout() {
    let _rng = crate::rng_lock();
    let mut model = Sequential::new().add(Linear::new(8, 8)).add(Dropout::new(0.9));
    let x = Tensor::ones((16, 8), DType::F32, &Device::cpu()).unwrap();
    model.eval();
    let a = model.forward(&x).unwrap().to_vec::<f32>().unwrap();
    let b = model.forward(&x).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(a, b, "deterministic in eval mode");
    model.train();
    let c = model.forward(&x).unwrap().to_vec::<f32>().unwrap();
    assert!(
        c.iter().filter(|&&v| v == 0.0).count() > 64,
        "dropout active again in train mode"
    );
}
