//! `fit` for every module: a derived model trained with a loss, a two-input
//! model trained with a user step (validation, metrics and logged values
//! included), gradient accumulation equal to the big batch, and resuming a
//! derived model from a training checkpoint bit for bit.

use crate::common::{serial, temp_dir};
use neurite::checkpoint::load_training_into;
use neurite::data::{Batch, Dataset};
use neurite::nn::{Forward, Linear, Module};
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::train::{History, Metric, StepOutput, Trainer};
use neurite::{DType, Device, Result, Tensor};

#[derive(Module)]
struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    fn new(dtype: DType) -> Mlp {
        let mut m = Mlp {
            fc1: Linear::new(3, 5),
            fc2: Linear::new(5, 2),
        };
        m.to_dtype(dtype).unwrap();
        m
    }
}

impl Forward for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc2.forward(&self.fc1.forward(x)?.tanh()?)
    }
}

/// A model with two inputs and two outputs: no `Forward` impl.
#[derive(Module)]
struct TwoTower {
    a: Linear,
    b: Linear,
    head: Linear,
}

impl TwoTower {
    fn forward(&self, xa: &Tensor, xb: &Tensor) -> Result<(Tensor, Tensor)> {
        let h = self.a.forward(xa)?.relu()?.add(&self.b.forward(xb)?.relu()?)?;
        let logits = self.head.forward(&h)?;
        Ok((logits, h))
    }
}

fn data(n: usize, dtype: DType) -> Dataset {
    let dev = Device::cpu();
    let x = Tensor::randn((n, 3), dtype, &dev).unwrap();
    let y = x
        .narrow(1, 0, 1)
        .unwrap()
        .gt_scalar(0.0)
        .unwrap()
        .flatten_all()
        .unwrap();
    Dataset::new(x, y.to_dtype(DType::I64).unwrap()).unwrap()
}

fn values(m: &dyn Module) -> Vec<f64> {
    m.parameters()
        .iter()
        .flat_map(|t| t.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap())
        .collect()
}

#[test]
fn a_derived_model_trains_with_fit_and_validation() {
    let _g = serial();
    neurite::manual_seed(0);
    let mut model = Mlp::new(DType::F32);
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.5)).unwrap();
    let history = Trainer::new(neurite::loss::cross_entropy)
        .epochs(15)
        .batch_size(16)
        .validation_split(0.25)
        .metric(Metric::Accuracy)
        .quiet()
        .fit(&mut model, &mut opt, &data(128, DType::F32))
        .unwrap();
    let acc = history.get("val_accuracy").unwrap();
    assert!(*acc.last().unwrap() > 0.85, "{acc:?}");
    let loss = history.get("loss").unwrap();
    assert!(loss.last() < loss.first(), "{loss:?}");
}

#[test]
fn accumulating_k_batches_equals_one_batch_of_k_times_n() {
    let _g = serial();
    neurite::manual_seed(1);
    let ds = data(64, DType::F64);
    let start = Mlp::new(DType::F64);
    let copy = |m: &Mlp| {
        let mut c = Mlp::new(DType::F64);
        c.load_named_tensors(&m.named_tensors().into_iter().collect()).unwrap();
        c
    };
    let run = |batch: usize, k: usize| {
        let mut m = copy(&start);
        let mut opt = Sgd::new(
            m.parameters(),
            SgdConfig {
                lr: 0.3,
                momentum: 0.9,
                ..Default::default()
            },
        )
        .unwrap();
        let h = Trainer::new(neurite::loss::cross_entropy)
            .epochs(3)
            .batch_size(batch)
            .accumulation_steps(k)
            .shuffle(false)
            .quiet()
            .fit(&mut m, &mut opt, &ds)
            .unwrap();
        (values(&m), opt.step_count(), h)
    };
    let (big, big_steps, big_h) = run(32, 1);
    let (acc, acc_steps, acc_h) = run(8, 4);
    assert_eq!(big_steps, 6);
    assert_eq!(acc_steps, 6, "one optimizer step per 4 batches");
    for (a, b) in acc.iter().zip(&big) {
        assert!((a - b).abs() <= 1e-6 * b.abs().max(1.0), "{a} vs {b}");
    }
    // The reported epoch losses are the same sample means too.
    for (a, b) in acc_h.loss.iter().zip(&big_h.loss) {
        assert!((a - b).abs() < 1e-9, "{a} vs {b}");
    }
    // A group cut short by the end of the epoch still steps: 40 samples, batches of 8, k = 3.
    let mut m = copy(&start);
    let mut opt = Sgd::new(m.parameters(), SgdConfig::new(0.1)).unwrap();
    Trainer::new(neurite::loss::cross_entropy)
        .batch_size(8)
        .accumulation_steps(3)
        .shuffle(false)
        .quiet()
        .fit(&mut m, &mut opt, &data(40, DType::F64))
        .unwrap();
    assert_eq!(opt.step_count(), 2);
    let err = Trainer::new(neurite::loss::cross_entropy)
        .accumulation_steps(0)
        .quiet()
        .fit(&mut m, &mut opt, &ds)
        .unwrap_err();
    assert!(err.to_string().contains("accumulation_steps"), "{err}");
}

#[test]
fn a_two_input_model_trains_with_a_step_metrics_and_logged_values() {
    let _g = serial();
    neurite::manual_seed(2);
    let dev = Device::cpu();
    let n = 96;
    let xa = Tensor::randn((n, 2), DType::F32, &dev).unwrap();
    let xb = Tensor::randn((n, 3), DType::F32, &dev).unwrap();
    // Class 1 when the first input's first feature plus the second's first is positive.
    let y = xa
        .narrow(1, 0, 1)
        .unwrap()
        .add(&xb.narrow(1, 0, 1).unwrap())
        .unwrap()
        .gt_scalar(0.0)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_dtype(DType::I64)
        .unwrap();
    let data = Dataset::from_tensors(vec![xa, xb, y]).unwrap();
    let mut model = TwoTower {
        a: Linear::new(2, 8),
        b: Linear::new(3, 8),
        head: Linear::new(8, 2),
    };
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.3)).unwrap();
    let step = |m: &TwoTower, b: &Batch| -> Result<StepOutput> {
        let (logits, hidden) = m.forward(b.get(0)?, b.get(1)?)?;
        let ce = neurite::loss::cross_entropy(&logits, b.targets())?;
        let activity = hidden.sqr()?.mean_all()?;
        let loss = ce.add(&activity.mul_scalar(1e-3)?)?;
        Ok(StepOutput::new(loss)
            .with_predictions(&logits, b.targets())
            .log("ce", ce)
            .log("activity", activity))
    };
    let mut trainer = Trainer::custom()
        .epochs(12)
        .batch_size(16)
        .validation_split(0.25)
        .metric(Metric::Accuracy)
        .quiet();
    let history = trainer.fit_step(&mut model, step, &mut opt, &data).unwrap();
    for key in [
        "loss",
        "accuracy",
        "ce",
        "activity",
        "val_loss",
        "val_accuracy",
        "val_ce",
        "val_activity",
    ] {
        assert_eq!(history.get(key).map(|v| v.len()), Some(12), "{key}");
    }
    let val_acc = *history.get("val_accuracy").unwrap().last().unwrap();
    assert!(val_acc > 0.8, "{val_acc}");
    // The logged parts add up to the loss (same samples, same weights).
    let (l, ce, act) = (
        history.get("val_loss").unwrap()[11],
        history.get("val_ce").unwrap()[11],
        history.get("val_activity").unwrap()[11],
    );
    assert!((l - (ce + 1e-3 * act)).abs() < 1e-5, "{l} {ce} {act}");
    // evaluate_step gives the same validation numbers on the held-out tail.
    let tail: Vec<usize> = (72..96).collect();
    let logs = trainer
        .evaluate_step(&mut model, &mut { step }, &data.subset(&tail).unwrap())
        .unwrap();
    assert!((logs.get("loss").unwrap() - l).abs() < 1e-6);
    // A loss-based fit on a three-tensor dataset explains what to do.
    let mut mlp = Mlp::new(DType::F32);
    let mut o2 = Sgd::new(mlp.parameters(), SgdConfig::new(0.1)).unwrap();
    let err = Trainer::new(neurite::loss::cross_entropy)
        .quiet()
        .fit(&mut mlp, &mut o2, &data)
        .unwrap_err();
    assert!(err.to_string().contains("fit_step"), "{err}");
    // Metrics without predictions are an error naming the fix.
    let err = Trainer::custom()
        .metric(Metric::Accuracy)
        .quiet()
        .fit_step(
            &mut model,
            |m: &TwoTower, b: &Batch| Ok(StepOutput::new(m.forward(b.get(0)?, b.get(1)?)?.0.mean_all()?)),
            &mut opt,
            &data,
        )
        .unwrap_err();
    assert!(err.to_string().contains("with_predictions"), "{err}");
}

#[test]
fn a_derived_model_resumes_from_a_training_checkpoint_bit_for_bit() {
    let _g = serial();
    let dir = temp_dir("any-model-resume");
    let path = dir.join("run.ckpt");
    let ds = data(48, DType::F32);
    let trainer = |epochs: usize| {
        Trainer::new(neurite::loss::cross_entropy)
            .epochs(epochs)
            .batch_size(8)
            .seed(5)
            .quiet()
    };
    let sgd = |m: &Mlp| {
        Sgd::new(
            m.parameters(),
            SgdConfig {
                lr: 0.2,
                momentum: 0.9,
                ..Default::default()
            },
        )
        .unwrap()
    };
    neurite::manual_seed(4);
    let mut full = Mlp::new(DType::F32);
    let mut opt = sgd(&full);
    trainer(4).fit(&mut full, &mut opt, &ds).unwrap();

    neurite::manual_seed(4);
    let mut first = Mlp::new(DType::F32);
    let mut opt = sgd(&first);
    trainer(2)
        .checkpoint_every_epoch(&path)
        .fit(&mut first, &mut opt, &ds)
        .unwrap();
    let ckpt = load_training_into::<History, _>(&path, Mlp::new(DType::F32)).unwrap();
    assert_eq!(ckpt.epoch, 2);
    let mut opt = ckpt.build_optimizer().unwrap();
    let mut t = trainer(4).resume(&ckpt);
    let mut model = ckpt.model;
    let h = t.fit(&mut model, &mut *opt, &ds).unwrap();
    assert_eq!(h.loss.len(), 4);
    let bits = |m: &Mlp| values(m).into_iter().map(f64::to_bits).collect::<Vec<_>>();
    assert_eq!(bits(&model), bits(&full));
}
