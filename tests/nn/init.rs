//! Initialisers: PyTorch's fans, gains, bounds and standard deviations.

use neurite::nn::init::{FanMode, Init, Nonlinearity, fan_in_and_fan_out};
use neurite::{DType, Device, Shape, Tensor};

fn stats(t: &Tensor) -> (f64, f64, f64) {
    let v: Vec<f64> = t.to_vec().unwrap();
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
    let max = v.iter().fold(0f64, |m, x| m.max(x.abs()));
    (mean, var.sqrt(), max)
}

#[test]
fn fans_and_gains_follow_pytorch() {
    assert_eq!(fan_in_and_fan_out(&Shape::from([256, 784])).unwrap(), (784, 256));
    assert_eq!(fan_in_and_fan_out(&Shape::from([16, 3, 5, 5])).unwrap(), (75, 400));
    assert!(fan_in_and_fan_out(&Shape::from([10])).is_err());
    assert_eq!(Nonlinearity::Relu.gain(), 2f64.sqrt());
    assert_eq!(Nonlinearity::Tanh.gain(), 5.0 / 3.0);
    assert_eq!(Nonlinearity::Linear.gain(), 1.0);
    assert!((Nonlinearity::LeakyRelu(5f64.sqrt()).gain() - (1.0f64 / 3.0).sqrt()).abs() < 1e-15);
}

#[test]
fn schemes_have_the_documented_spread() {
    let _rng = crate::rng_lock();
    let cpu = Device::cpu();
    let shape = (300, 500);
    let (fi, fo) = (500.0f64, 300.0f64);
    let xu = Init::XavierUniform { gain: 2.0 }
        .tensor(shape, DType::F64, &cpu)
        .unwrap();
    let b = 2.0 * (6.0 / (fi + fo)).sqrt();
    let (m, s, mx) = stats(&xu);
    assert!(m.abs() < 0.01 * b && mx <= b && mx > 0.99 * b && (s / (b / 3f64.sqrt()) - 1.0).abs() < 0.02);
    let xn = Init::XavierNormal { gain: 1.0 }
        .tensor(shape, DType::F64, &cpu)
        .unwrap();
    let (_, s, _) = stats(&xn);
    assert!(
        (s / (2.0 / (fi + fo)).sqrt() - 1.0).abs() < 0.02,
        "xavier normal std {s}"
    );
    let kn = Init::KaimingNormal {
        nonlinearity: Nonlinearity::Relu,
        mode: FanMode::FanOut,
    }
    .tensor(shape, DType::F64, &cpu)
    .unwrap();
    let (_, s, _) = stats(&kn);
    assert!(
        (s / (2.0 / fo).sqrt() - 1.0).abs() < 0.02,
        "kaiming normal fan_out std {s}"
    );
    let ku = Init::kaiming_uniform(Nonlinearity::LeakyRelu(0.2))
        .tensor(shape, DType::F64, &cpu)
        .unwrap();
    let b = (2.0 / (1.0 + 0.04f64)).sqrt() * (3.0 / fi).sqrt();
    let (_, _, mx) = stats(&ku);
    assert!(mx <= b && mx > 0.99 * b, "kaiming uniform max {mx} vs bound {b}");
    let z = Init::Zeros.tensor(4, DType::F32, &cpu).unwrap();
    assert_eq!(z.to_vec::<f32>().unwrap(), vec![0.0; 4]);
    let o = Init::Ones.tensor(4, DType::F32, &cpu).unwrap();
    assert_eq!(o.to_vec::<f32>().unwrap(), vec![1.0; 4]);
    assert!(
        Init::XavierUniform { gain: 1.0 }.tensor(7, DType::F32, &cpu).is_err(),
        "rank 1 has no fans"
    );
    assert!(Init::Ones.tensor(2, DType::I64, &cpu).is_err());
}

#[test]
fn fill_rewrites_a_parameter_in_place() {
    let _rng = crate::rng_lock();
    let layer = neurite::nn::Linear::new(3, 2);
    let w = layer.weight().clone();
    Init::Constant(0.25).fill(&w).unwrap();
    assert_eq!(layer.weight().to_vec::<f32>().unwrap(), vec![0.25; 6]);
    assert!(layer.weight().is_requires_grad() && layer.weight().id() == w.id());
}
