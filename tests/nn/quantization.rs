//! Dynamic int8 quantization (`QuantizedLinear`, `quantize_dynamic`): exact
//! answers on inputs the int8 grids hold exactly, error bounds on random
//! ones, checkpoints, and the errors.

use crate::rng_lock;
use neurite::nn::{Forward, Linear, Module, ReLU, Sequential};
use neurite::quant::{QuantizedLinear, quantize_dynamic};
use neurite::{DType, Device, Tensor};

fn cpu() -> Device {
    Device::cpu()
}

fn f32s(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32).unwrap().to_vec::<f32>().unwrap()
}

#[test]
fn values_on_both_grids_give_the_float_answer() {
    // Weights with row maxima 1.27 and 0.635 quantize exactly (scales 0.01 and
    // 0.005); inputs in [0, 2.55] are exact with scale 0.01, zero point -128.
    let w = Tensor::from_vec(vec![1.27f32, -0.5, 0.02, 0.0, 0.635, -0.1, 0.3, 0.005], (2, 4), &cpu()).unwrap();
    let b = Tensor::from_vec(vec![0.25f32, -1.0], 2, &cpu()).unwrap();
    let fc = Linear::from_tensors(w, Some(b)).unwrap();
    let q = QuantizedLinear::from_linear(&fc).unwrap();
    assert_eq!(q.weight().dtype(), DType::I8);
    assert_eq!(
        q.weight().to_vec::<i8>().unwrap(),
        vec![127, -50, 2, 0, 127, -20, 60, 1]
    );
    let x = Tensor::from_vec(vec![2.55f32, 0.0, 1.0, 0.37, 0.01, 2.0, 0.5, 1.23], (2, 4), &cpu()).unwrap();
    let (want, got) = (f32s(&fc.forward(&x).unwrap()), f32s(&q.forward(&x).unwrap()));
    for (a, b) in want.iter().zip(&got) {
        assert!((a - b).abs() < 1e-4, "{want:?} vs {got:?}");
    }
}

#[test]
fn random_layers_stay_within_the_quantization_error() {
    let _g = rng_lock();
    neurite::manual_seed(3);
    for (batch, k, n) in [(1, 784, 512), (64, 784, 512), (7, 33, 5), (3, 1, 2)] {
        let fc = Linear::new(k, n);
        let q = QuantizedLinear::from_linear(&fc).unwrap();
        let x = Tensor::randn((batch, k), DType::F32, &cpu()).unwrap();
        let (want, got) = (f32s(&fc.forward(&x).unwrap()), f32s(&q.forward(&x).unwrap()));
        let xs = f32s(&x);
        let amax_x = xs.iter().fold(0f32, |m, v| m.max(v.abs()));
        let w = f32s(fc.weight());
        let amax_w = w.iter().fold(0f32, |m, v| m.max(v.abs()));
        // Each product errs by at most |x| * dw + |w| * dx + dx * dw, with
        // dw = amax_w / 254 and dx = 2 * amax_x / 510 (half a step each).
        let (dw, dx) = (amax_w / 254.0, amax_x / 255.0);
        let bound = k as f32 * (amax_x * dw + amax_w * dx + dx * dw) * 1.01 + 1e-5;
        let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst <= bound, "{batch}x{k}x{n}: {worst} > {bound}");
        // And far below the bound on average: rounding errors cancel.
        let mean = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).sum::<f32>() / want.len() as f32;
        let typical = want.iter().map(|v| v.abs()).sum::<f32>() / want.len() as f32;
        assert!(
            mean < 0.03 * typical + 1e-4,
            "{batch}x{k}x{n}: mean error {mean}, typical value {typical}"
        );
    }
}

#[test]
fn shapes_dtypes_and_empty_layers() {
    let _g = rng_lock();
    let fc = Linear::new(6, 3);
    let q = QuantizedLinear::from_linear(&fc).unwrap();
    let x = Tensor::randn((2, 5, 6), DType::F64, &cpu()).unwrap();
    let y = q.forward(&x).unwrap();
    assert_eq!((y.dims(), y.dtype()), (&[2, 5, 3][..], DType::F64));
    assert!(!y.is_requires_grad());
    let y0 = q.forward(&Tensor::zeros((0, 6), DType::F32, &cpu()).unwrap()).unwrap();
    assert_eq!(y0.dims(), &[0, 3]);
    // No input features: the output is the bias.
    let b = Tensor::from_vec(vec![1.5f32, -2.0], 2, &cpu()).unwrap();
    let fc0 = Linear::from_tensors(Tensor::zeros((2, 0), DType::F32, &cpu()).unwrap(), Some(b)).unwrap();
    let q0 = QuantizedLinear::from_linear(&fc0).unwrap();
    let y = q0.forward(&Tensor::zeros((3, 0), DType::F32, &cpu()).unwrap()).unwrap();
    assert_eq!(f32s(&y), vec![1.5, -2.0, 1.5, -2.0, 1.5, -2.0]);
}

#[test]
fn bad_inputs_are_errors() {
    let _g = rng_lock();
    let q = QuantizedLinear::from_linear(&Linear::new(4, 2)).unwrap();
    let e = q
        .forward(&Tensor::zeros((2, 5), DType::F32, &cpu()).unwrap())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("QuantizedLinear") && e.contains("(*, 4)") && e.contains("[2, 5]"),
        "{e}"
    );
    let e = q
        .forward(&Tensor::zeros((2, 4), DType::I64, &cpu()).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("float"), "{e}");
    assert!(
        q.forward(&Tensor::zeros(vec![0usize; 0], DType::F32, &cpu()).unwrap())
            .is_err()
    );
    let nan = Tensor::from_vec(vec![1f32, f32::NAN, 0.0, 2.0], (1, 4), &cpu()).unwrap();
    let e = q.forward(&nan).unwrap_err().to_string();
    assert!(e.contains("NaN") && e.contains("finite"), "{e}");
    let w = Tensor::from_vec(vec![1f32, f32::INFINITY], (1, 2), &cpu()).unwrap();
    let e = QuantizedLinear::from_linear(&Linear::from_tensors(w, None).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("inf") && e.contains("row 0"), "{e}");
    assert!(QuantizedLinear::try_new(neurite::quant::MAX_INT8_DEPTH + 1, 1, true).is_err());
    assert!(QuantizedLinear::try_new(usize::MAX, 2, true).is_err());
}

fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(20, 32))
        .add(ReLU)
        .add(Sequential::new().add(Linear::new(32, 16)).add(ReLU))
        .add(Linear::new(16, 4))
}

#[test]
fn quantize_dynamic_replaces_every_linear_and_round_trips_a_checkpoint() {
    let _g = rng_lock();
    neurite::manual_seed(11);
    let model = mlp();
    let q = quantize_dynamic(&model, &["Linear"]).unwrap();
    assert!(!q.is_training());
    let names: Vec<String> = q
        .named_modules()
        .iter()
        .map(|(n, m)| format!("{n}:{}", m.name()))
        .collect();
    assert_eq!(
        names,
        [
            "0:QuantizedLinear",
            "1:ReLU",
            "2:Sequential",
            "2.0:QuantizedLinear",
            "2.1:ReLU",
            "3:QuantizedLinear"
        ]
    );
    let x = Tensor::randn((8, 20), DType::F32, &cpu()).unwrap();
    let (want, got) = (f32s(&model.forward(&x).unwrap()), f32s(&q.forward(&x).unwrap()));
    let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 0.05, "{worst}");

    let dir = std::env::temp_dir().join(format!("neurite-quant-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (pf, pq) = (dir.join("f32.ckpt"), dir.join("int8.ckpt"));
    q.save(&pq).unwrap();
    // Sizes on a layer big enough for the weights to dominate the header:
    // int8 weights plus f32 scales and bias, about a quarter of f32.
    let wide = Sequential::new()
        .add(Linear::new(256, 128))
        .add(ReLU)
        .add(Linear::new(128, 10));
    let wide_q = quantize_dynamic(&wide, &["Linear"]).unwrap();
    let pwq = dir.join("wide-int8.ckpt");
    wide.save(&pf).unwrap();
    wide_q.save(&pwq).unwrap();
    let (sf, sq) = (
        std::fs::metadata(&pf).unwrap().len(),
        std::fs::metadata(&pwq).unwrap().len(),
    );
    assert!((sq as f64) < 0.27 * sf as f64, "int8 {sq} bytes vs f32 {sf}");
    let back = Sequential::load(&pq, &cpu()).unwrap();
    assert_eq!(f32s(&back.forward(&x).unwrap()), got);
    assert!(back.summary_tree().contains("QuantizedLinear"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn loading_new_weights_replaces_the_packed_ones() {
    let _g = rng_lock();
    let (a, b) = (mlp(), mlp());
    let (qa, mut qb) = (
        quantize_dynamic(&a, &["Linear"]).unwrap(),
        quantize_dynamic(&b, &["Linear"]).unwrap(),
    );
    let x = Tensor::randn((3, 20), DType::F32, &cpu()).unwrap();
    let before = f32s(&qb.forward(&x).unwrap());
    let map = qa.named_tensors().into_iter().collect();
    qb.load_named_tensors(&map).unwrap();
    let after = f32s(&qb.forward(&x).unwrap());
    assert_ne!(before, after);
    assert_eq!(after, f32s(&qa.forward(&x).unwrap()));
}

#[test]
fn quantize_dynamic_refuses_what_it_cannot_quantize() {
    let _g = rng_lock();
    let e = quantize_dynamic(&mlp(), &["Conv2d"]).unwrap_err().to_string();
    assert!(e.contains("Conv2d") && e.contains("static"), "{e}");
    let e = quantize_dynamic(&mlp(), &[]).unwrap_err().to_string();
    assert!(e.contains("no layer kind"), "{e}");
    let e = quantize_dynamic(&Sequential::new().add(ReLU), &["Linear"])
        .unwrap_err()
        .to_string();
    assert!(e.contains("no layer"), "{e}");
}

fn cnn() -> Sequential {
    use neurite::nn::{Conv2d, Flatten, MaxPool2d};
    Sequential::new()
        .add(Conv2d::new(3, 8, 3).with_padding(1))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(8, 4, 3))
        .add(ReLU)
        .add(Flatten::new())
        .add(Linear::new(4 * 2 * 2, 5))
}

fn batches(count: usize, shape: &[usize]) -> Vec<Tensor> {
    (0..count)
        .map(|_| Tensor::rand(shape, DType::F32, &cpu()).unwrap())
        .collect()
}

#[test]
fn static_quantization_tracks_the_float_cnn_and_round_trips() {
    use neurite::quant::{Observer, QuantizedConv2d, quantize_static};
    let _g = rng_lock();
    neurite::manual_seed(5);
    let mut model = cnn();
    let calibration = batches(3, &[16, 3, 8, 8]);
    let q = quantize_static(&mut model, &calibration, Observer::MinMax).unwrap();
    assert!(model.is_training(), "the model's mode is restored");
    let kinds: Vec<String> = q.layers().iter().map(|l| l.name()).collect();
    assert_eq!(kinds[0], "QuantizedConv2d");
    assert_eq!(kinds[3], "QuantizedConv2d");
    assert_eq!(kinds[6], "QuantizedLinear");
    model.eval();
    let x = Tensor::rand((4, 3, 8, 8), DType::F32, &cpu()).unwrap();
    let (want, got) = (f32s(&model.forward(&x).unwrap()), f32s(&q.forward(&x).unwrap()));
    assert_eq!(got.len(), want.len());
    let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    let typical = want.iter().map(|v| v.abs()).fold(0f32, f32::max);
    assert!(worst < 0.05 * typical + 1e-3, "worst {worst}, largest output {typical}");

    let path = std::env::temp_dir().join(format!("neurite-quant-static-{}.ckpt", std::process::id()));
    q.save(&path).unwrap();
    let back = Sequential::load(&path, &cpu()).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(f32s(&back.forward(&x).unwrap()), got);

    // A single conv against its float form on a hand-sized input.
    let e = QuantizedConv2d::try_new(3, 2, [0, 3], [1, 1], [0, 0], true)
        .unwrap_err()
        .to_string();
    assert!(e.contains("positive"), "{e}");
}

#[test]
fn percentile_observer_clips_outliers() {
    use neurite::quant::{Observer, quantize_static};
    let _g = rng_lock();
    let mut model = Sequential::new().add(Linear::new(4, 3));
    let mut values = vec![0.5f32; 4000];
    values[17] = 1000.0;
    let calibration = vec![Tensor::from_vec(values, (1000, 4), &cpu()).unwrap()];
    let scale_of = |m: &Sequential| {
        let t: std::collections::HashMap<String, Tensor> = m.named_tensors().into_iter().collect();
        t["0.input_qparams"].to_vec::<f32>().unwrap()[0]
    };
    let minmax = quantize_static(&mut model, &calibration, Observer::MinMax).unwrap();
    let clipped = quantize_static(&mut model, &calibration, Observer::Percentile(99.9)).unwrap();
    assert!(
        (scale_of(&minmax) - 1000.0 / 255.0).abs() < 1e-3,
        "{}",
        scale_of(&minmax)
    );
    assert!(
        (scale_of(&clipped) - 0.5 / 255.0).abs() < 1e-6,
        "{}",
        scale_of(&clipped)
    );
}

#[test]
fn static_quantization_refuses_bad_requests() {
    use neurite::quant::{Observer, quantize_static};
    let _g = rng_lock();
    let mut model = cnn();
    let e = quantize_static(&mut model, &[], Observer::MinMax)
        .unwrap_err()
        .to_string();
    assert!(e.contains("calibration data"), "{e}");
    let calibration = batches(1, &[2, 3, 8, 8]);
    for p in [30.0, 100.5, f64::NAN] {
        let e = quantize_static(&mut model, &calibration, Observer::Percentile(p))
            .unwrap_err()
            .to_string();
        assert!(e.contains("percentile"), "{e}");
    }
    let e = quantize_static(&mut Sequential::new().add(ReLU), &calibration, Observer::MinMax)
        .unwrap_err()
        .to_string();
    assert!(e.contains("no top-level Linear or Conv2d"), "{e}");
    let bad = vec![Tensor::from_vec(vec![f32::NAN; 2 * 3 * 8 * 8], (2, 3, 8, 8), &cpu()).unwrap()];
    let e = quantize_static(&mut model, &bad, Observer::MinMax)
        .unwrap_err()
        .to_string();
    assert!(e.contains("NaN") && e.contains("layer 0"), "{e}");
    let wrong = batches(1, &[2, 5, 8, 8]);
    assert!(quantize_static(&mut model, &wrong, Observer::MinMax).is_err());
    let q = quantize_static(&mut model, &calibration, Observer::MinMax).unwrap();
    let e = q
        .forward(&Tensor::zeros((1, 4, 8, 8), DType::F32, &cpu()).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("QuantizedConv2d") && e.contains("(N, 3, H, W)"), "{e}");
}

#[test]
fn fake_quantization_rounds_to_the_grid_with_straight_through_gradients() {
    use neurite::quant::{fake_quantize_activation, fake_quantize_weight};
    let x = Tensor::from_vec(vec![-1.0f32, 0.304, 5.0, -2.0], 4, &cpu())
        .unwrap()
        .requires_grad();
    // Scale 0.01, zero point 0: the grid spans [-1.28, 1.27].
    let y = fake_quantize_activation(&x, 0.01, 0).unwrap();
    let got = f32s(&y);
    for (g, w) in got.iter().zip([-1.0f32, 0.30, 1.27, -1.28]) {
        assert!((g - w).abs() < 1e-6, "{got:?}");
    }
    let grads = y.sum_all().unwrap().backward().unwrap();
    assert_eq!(f32s(grads.get(&x).unwrap()), vec![1.0, 1.0, 0.0, 0.0]);

    let _g = rng_lock();
    let fc = Linear::new(9, 4);
    let w = fc.weight().clone();
    let fq = fake_quantize_weight(&w).unwrap();
    let q = QuantizedLinear::from_linear(&fc).unwrap();
    // The same grid point for every weight (the scales may differ in the last bit).
    for (a, b) in f32s(&fq).iter().zip(f32s(&q.dequantized_weight().unwrap())) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1e-3), "{a} vs {b}");
    }
    let grads = fq.sum_all().unwrap().backward().unwrap();
    assert!(f32s(grads.get(&w).unwrap()).iter().all(|&g| g == 1.0));
}

#[test]
fn quantization_aware_training_converts_to_the_model_it_simulated() {
    use neurite::optim::{Optimizer, Sgd, SgdConfig};
    use neurite::quant::{convert_qat, prepare_qat};
    let _g = rng_lock();
    neurite::manual_seed(21);
    let float = cnn();
    let mut qat = prepare_qat(&float).unwrap();
    assert_eq!(qat.layer(0).unwrap().name(), "QatConv2d");
    assert_eq!(qat.layer(6).unwrap().name(), "QatLinear");
    let x = Tensor::rand((16, 3, 8, 8), DType::F32, &cpu()).unwrap();
    let y = Tensor::from_vec((0..16).map(|i| i % 5).collect::<Vec<i64>>(), 16, &cpu()).unwrap();
    let mut opt = Sgd::new(
        qat.trainable_parameters(),
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    )
    .unwrap();
    let mut losses = Vec::new();
    for _ in 0..15 {
        let loss = neurite::loss::cross_entropy(&qat.forward(&x).unwrap(), &y).unwrap();
        losses.push(loss.to_vec::<f32>().unwrap()[0]);
        opt.step(&loss.backward().unwrap()).unwrap();
    }
    assert!(losses[14] < losses[0], "{losses:?}");

    // A checkpoint taken during QAT resumes it.
    let path = std::env::temp_dir().join(format!("neurite-qat-{}.ckpt", std::process::id()));
    qat.eval();
    qat.save(&path).unwrap();
    let back = Sequential::load(&path, &cpu()).unwrap();
    std::fs::remove_file(&path).unwrap();
    let simulated = f32s(&qat.forward(&x).unwrap());
    assert_eq!(f32s(&back.forward(&x).unwrap()), simulated);

    // The int8 model computes what training simulated, up to f32 rounding.
    let int8 = convert_qat(&qat).unwrap();
    assert_eq!(int8.layer(0).unwrap().name(), "QuantizedConv2d");
    let got = f32s(&int8.forward(&x).unwrap());
    let scale = simulated.iter().fold(0f32, |m, v| m.max(v.abs()));
    let worst = simulated
        .iter()
        .zip(&got)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 2e-3 * scale, "worst {worst} of {scale}");

    let e = prepare_qat(&Sequential::new().add(ReLU)).unwrap_err().to_string();
    assert!(e.contains("no top-level Linear or Conv2d"), "{e}");
    let e = convert_qat(&float).unwrap_err().to_string();
    assert!(e.contains("prepare_qat"), "{e}");
}
