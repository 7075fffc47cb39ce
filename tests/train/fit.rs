//! `fit`, `evaluate` and `predict`: learning, validation splits, output modes, settings errors.

use crate::common::{SharedBuf, serial, xor_data};
use neurite::data::Dataset;
use neurite::loss::{self, CrossEntropyLoss};
use neurite::nn::{Forward, Linear, Module, ReLU, Sequential, Tanh};
use neurite::optim::lr_scheduler::{LrScheduler, OneCycleConfig, OneCycleLr, StepLr};
use neurite::optim::{Adam, AdamConfig, Optimizer, Sgd, SgdConfig};
use neurite::train::{Metric, SchedulerStep, Trainer, Verbosity};
use neurite::{DType, Device, Tensor};
use std::sync::{Arc, Mutex};

fn xor_mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 16))
        .add(Tanh)
        .add(Linear::new(16, 2))
}

#[test]
fn fit_reaches_full_accuracy_on_xor() {
    let _g = serial();
    neurite::manual_seed(11);
    let data = xor_data(50, 0.25).unwrap();
    let val = xor_data(25, 0.25).unwrap();
    let mut model = xor_mlp();
    let mut opt = Adam::new(model.parameters(), AdamConfig::new(0.02)).unwrap();
    let mut trainer = Trainer::new(CrossEntropyLoss::new())
        .epochs(60)
        .batch_size(16)
        .seed(5)
        .validation_data(val.clone())
        .metric(Metric::Accuracy)
        .quiet();
    let h = trainer.fit(&mut model, &mut opt, &data).unwrap();
    assert_eq!(h.epochs, (0..60).collect::<Vec<_>>());
    assert_eq!(h.last("accuracy"), Some(1.0), "train accuracy: {:?}", h.get("accuracy"));
    assert_eq!(h.last("val_accuracy"), Some(1.0));
    // The loss went down by a lot, and XOR is not linearly separable, so the
    // hidden layer had to learn: a linear model cannot exceed 75%.
    assert!(h.loss[59] < 0.1 * h.loss[0], "loss {:?}", h.loss);
    assert!(h.get("lr").unwrap().iter().all(|&lr| lr == 0.02));

    // evaluate and predict agree with each other and with the history.
    let logs = trainer.evaluate(&mut model, &val).unwrap();
    assert_eq!(logs.get("accuracy"), Some(1.0));
    assert!((logs.get("loss").unwrap() - h.last("val_loss").unwrap()).abs() < 1e-6);
    let out = trainer.predict(&mut model, val.features()).unwrap();
    assert_eq!(out.dims(), &[100, 2]);
    let pred = out.argmax(1usize, false).unwrap().to_vec::<i64>().unwrap();
    assert_eq!(pred, val.targets().to_vec::<i64>().unwrap());
    let ce = loss::cross_entropy(&out, val.targets())
        .unwrap()
        .to_scalar::<f64>()
        .unwrap();
    assert!((ce - logs.get("loss").unwrap()).abs() < 1e-6);
}

#[test]
fn single_sigmoid_output_uses_binary_accuracy() {
    let _g = serial();
    let dev = Device::cpu();
    // Outputs on both sides of 0.5, against 0/1 targets: 3 of 4 right.
    let out = Tensor::from_vec(vec![0.9f32, 0.2, 0.6, 0.4], (4, 1), &dev).unwrap();
    let y = Tensor::from_vec(vec![1f32, 0., 0., 0.], (4, 1), &dev).unwrap();
    assert_eq!(Metric::Accuracy.compute(&out, &y).unwrap(), 0.75);
    assert_eq!(Metric::binary_accuracy().compute(&out, &y).unwrap(), 0.75);
    // Logits with threshold 0.
    let logits = Tensor::from_vec(vec![2f32, -1., 0.5, -0.5], 4, &dev).unwrap();
    let t = Tensor::from_vec(vec![1f32, 0., 1., 1.], 4, &dev).unwrap();
    assert_eq!(
        Metric::BinaryAccuracy { threshold: 0.0 }.compute(&logits, &t).unwrap(),
        0.75
    );
    // One-hot targets for multi-class outputs.
    let logits = Tensor::from_vec(vec![1f32, 2., 3., 0., 5., 1.], (3, 2), &dev).unwrap();
    let onehot = Tensor::from_vec(vec![0f32, 1., 1., 0., 0., 1.], (3, 2), &dev).unwrap();
    assert!((Metric::Accuracy.compute(&logits, &onehot).unwrap() - 2.0 / 3.0).abs() < 1e-12);
    let bad = Tensor::from_vec(vec![0i64, 1], 2, &dev).unwrap();
    assert!(Metric::Accuracy.compute(&logits, &bad).is_err());
}

/// Records the targets the loss sees while gradients are on (training) and off (validation).
#[derive(Clone, Default)]
struct Seen {
    train: Arc<Mutex<Vec<Vec<f32>>>>,
    val: Arc<Mutex<Vec<f32>>>,
}

#[test]
fn validation_split_takes_the_unshuffled_tail() {
    let _g = serial();
    let dev = Device::cpu();
    for (n, fraction, expected_val) in [
        (10usize, 0.25, vec![7f32, 8., 9.]), // floor(10 * 0.75) = 7 train
        (10, 0.33, vec![6., 7., 8., 9.]),    // floor(6.7) = 6 train
        (9, 0.5, vec![4., 5., 6., 7., 8.]),  // floor(4.5) = 4 train
    ] {
        let idx: Vec<f32> = (0..n).map(|i| i as f32).collect();
        let data = Dataset::new(
            Tensor::from_vec(idx.clone(), (n, 1), &dev).unwrap(),
            Tensor::from_vec(idx, (n, 1), &dev).unwrap(),
        )
        .unwrap();
        let seen = Seen::default();
        let s = seen.clone();
        let loss = move |out: &Tensor, y: &Tensor| {
            let v = y.to_vec::<f32>()?;
            if neurite::is_grad_enabled() {
                s.train.lock().unwrap().push(v);
            } else {
                s.val.lock().unwrap().extend(v);
            }
            loss::mse_loss(out, y)
        };
        let mut model = Sequential::new().add(Linear::new(1, 1));
        let mut opt = Sgd::new(model.parameters(), SgdConfig::new(1e-4)).unwrap();
        let epochs = 3;
        Trainer::new(loss)
            .epochs(epochs)
            .batch_size(2)
            .seed(1)
            .validation_split(fraction)
            .quiet()
            .fit(&mut model, &mut opt, &data)
            .unwrap();
        let n_train = n - expected_val.len();
        // Validation: the tail, in order, once per epoch.
        assert_eq!(
            *seen.val.lock().unwrap(),
            expected_val.repeat(epochs),
            "n {n}, fraction {fraction}"
        );
        // Training: every head sample once per epoch, shuffled differently each epoch.
        let batches = seen.train.lock().unwrap().clone();
        let per_epoch = n_train.div_ceil(2);
        assert_eq!(batches.len(), per_epoch * epochs);
        let orders: Vec<Vec<f32>> = batches.chunks(per_epoch).map(|c| c.concat()).collect();
        for order in &orders {
            let mut sorted = order.clone();
            sorted.sort_by(f32::total_cmp);
            assert_eq!(sorted, (0..n_train).map(|i| i as f32).collect::<Vec<_>>());
        }
        assert!(
            orders.windows(2).any(|w| w[0] != w[1]),
            "epochs shuffled alike: {orders:?}"
        );
    }
}

#[test]
fn shuffle_is_seeded_and_can_be_off() {
    let _g = serial();
    let dev = Device::cpu();
    let n = 12;
    let idx: Vec<f32> = (0..n).map(|i| i as f32).collect();
    let data = Dataset::new(
        Tensor::from_vec(idx.clone(), (n, 1), &dev).unwrap(),
        Tensor::from_vec(idx, (n, 1), &dev).unwrap(),
    )
    .unwrap();
    let order = |shuffle: bool, seed: u64| {
        let seen: Arc<Mutex<Vec<f32>>> = Arc::default();
        let s = seen.clone();
        let loss = move |out: &Tensor, y: &Tensor| {
            s.lock().unwrap().extend(y.to_vec::<f32>()?);
            loss::mse_loss(out, y)
        };
        let mut model = Sequential::new().add(Linear::new(1, 1));
        let mut opt = Sgd::new(model.parameters(), SgdConfig::new(1e-4)).unwrap();
        Trainer::new(loss)
            .epochs(2)
            .batch_size(5)
            .shuffle(shuffle)
            .seed(seed)
            .quiet()
            .fit(&mut model, &mut opt, &data)
            .unwrap();
        seen.lock().map(|v| v.clone()).unwrap()
    };
    let in_order: Vec<f32> = (0..n).map(|i| i as f32).collect();
    assert_eq!(order(false, 0), in_order.repeat(2));
    assert_eq!(order(true, 3), order(true, 3));
    assert_ne!(order(true, 3), order(true, 4));
    assert_ne!(order(true, 3), in_order.repeat(2));
}

fn tiny_fit(trainer: Trainer<'_>) -> neurite::Result<neurite::train::History> {
    let data = xor_data(4, 0.1)?;
    let mut model = xor_mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1))?;
    let mut trainer = trainer;
    trainer.fit(&mut model, &mut opt, &data)
}

#[test]
fn quiet_prints_nothing_and_lines_print_each_epoch() {
    let _g = serial();
    let buf = SharedBuf::default();
    tiny_fit(Trainer::new(loss::cross_entropy).epochs(3).output(buf.clone()).quiet()).unwrap();
    assert_eq!(buf.text(), "");

    // Silent through verbosity too, with validation and metrics.
    let buf = SharedBuf::default();
    tiny_fit(
        Trainer::new(loss::cross_entropy)
            .epochs(2)
            .validation_split(0.25)
            .metric(Metric::Accuracy)
            .output(buf.clone())
            .verbosity(Verbosity::Silent),
    )
    .unwrap();
    assert_eq!(buf.text(), "");

    // verbose(false): one line per epoch.
    let buf = SharedBuf::default();
    tiny_fit(
        Trainer::new(loss::cross_entropy)
            .epochs(3)
            .metric(Metric::Accuracy)
            .output(buf.clone())
            .verbose(false),
    )
    .unwrap();
    let text = buf.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    for (i, l) in lines.iter().enumerate() {
        assert!(l.starts_with(&format!("Epoch {}/3 - ", i + 1)), "{l}");
        assert!(
            l.contains("loss: ") && l.contains("accuracy: ") && l.contains("samples/s"),
            "{l}"
        );
    }

    // A progress bar is never drawn into a writer: it falls back to lines.
    // print_every(2) keeps epochs 2, 4 and the last one.
    let buf = SharedBuf::default();
    tiny_fit(
        Trainer::new(loss::cross_entropy)
            .epochs(5)
            .print_every(2)
            .output(buf.clone())
            .verbose(true),
    )
    .unwrap();
    let text = buf.text();
    let starts: Vec<&str> = text.lines().map(|l| &l[..l.find(" - ").unwrap()]).collect();
    assert_eq!(starts, ["Epoch 2/5", "Epoch 4/5", "Epoch 5/5"], "{text}");
}

#[test]
fn schedulers_step_per_epoch_or_per_batch() {
    let _g = serial();
    let data = xor_data(8, 0.1).unwrap(); // 32 samples: 4 batches of 8
    // Per epoch: StepLR halving every epoch; the history logs the lr each epoch started with.
    let mut model = xor_mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let sched = StepLr::new(&mut opt, 1, 0.5).unwrap();
    let mut trainer = Trainer::new(loss::cross_entropy)
        .epochs(3)
        .batch_size(8)
        .scheduler(sched)
        .quiet();
    let h = trainer.fit(&mut model, &mut opt, &data).unwrap();
    assert_eq!(h.lr, [0.1, 0.05, 0.025]);
    assert!((opt.lr() - 0.0125).abs() < 1e-15);
    assert_eq!(trainer.get_scheduler().unwrap().last_epoch(), 3);

    // Per batch: OneCycleLR over exactly epochs * batches steps ends at its final lr.
    let mut model = xor_mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let sched = OneCycleLr::new(&mut opt, OneCycleConfig::new(0.5, 3 * 4)).unwrap();
    let mut trainer = Trainer::new(loss::cross_entropy)
        .epochs(3)
        .batch_size(8)
        .scheduler(sched)
        .scheduler_step(SchedulerStep::Batch)
        .quiet();
    let h = trainer.fit(&mut model, &mut opt, &data).unwrap();
    assert_eq!(opt.step_count(), 12);
    assert_eq!(trainer.get_scheduler().unwrap().last_epoch(), 12);
    // The lrs equal those of the same schedule stepped by hand after every batch.
    let w = Tensor::zeros(1, DType::F32, &Device::cpu()).unwrap();
    let mut reference = Sgd::new(vec![w], SgdConfig::new(0.1)).unwrap();
    let mut by_hand = OneCycleLr::new(&mut reference, OneCycleConfig::new(0.5, 3 * 4)).unwrap();
    let mut at_epoch_start = vec![reference.lr()];
    for step in 1..=12 {
        by_hand.step(&mut reference).unwrap();
        if step % 4 == 0 && step < 12 {
            at_epoch_start.push(reference.lr());
        }
    }
    assert_eq!(h.lr, at_epoch_start);
    assert_eq!(opt.lr(), reference.lr());
    assert!((h.lr[0] - 0.5 / 25.0).abs() < 1e-12, "starts at max_lr / div_factor");
    assert!(h.lr[1] > h.lr[0] && h.lr[2] < h.lr[1], "{:?}", h.lr);
}

#[test]
fn settings_errors_name_the_problem() {
    let _g = serial();
    let msg = |t: Trainer<'_>| tiny_fit(t).unwrap_err().to_string();
    assert!(msg(Trainer::new(loss::cross_entropy).batch_size(0)).contains("batch size"));
    for f in [0.0, 1.0, -0.5, f64::NAN] {
        assert!(msg(Trainer::new(loss::cross_entropy).validation_split(f)).contains("validation_split"));
    }
    // 16 samples, fraction 0.01: floor(16 * 0.99) = 15 train, 1 validation: fine.
    tiny_fit(Trainer::new(loss::cross_entropy).validation_split(0.01).quiet()).unwrap();
    // A loss that is not reduced.
    let per_sample = |out: &Tensor, _y: &Tensor| out.sum_dim(1usize, false);
    assert!(msg(Trainer::new(per_sample)).contains("one value"));
    // drop_last with more batch than samples.
    assert!(msg(Trainer::new(loss::cross_entropy).batch_size(64).drop_last(true)).contains("no training batch"));
    // ReduceLROnPlateau as the trainer's scheduler needs its monitored value.
    let data = xor_data(4, 0.1).unwrap();
    let mut model = xor_mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let plateau = neurite::optim::lr_scheduler::ReduceLrOnPlateau::new(&opt, Default::default()).unwrap();
    let err = Trainer::new(loss::cross_entropy)
        .scheduler(plateau)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap_err()
        .to_string();
    assert!(err.contains("val_loss") && err.contains("validation"), "{err}");
    // predict / evaluate arguments.
    let empty = Tensor::zeros((0, 2), DType::F32, &Device::cpu()).unwrap();
    assert!(neurite::train::predict(&mut model, &empty, 4).is_err());
    assert!(neurite::train::predict(&mut model, data.features(), 0).is_err());
}

/// An identity layer that records the mode of every forward call.
struct ModeProbe {
    training: bool,
    log: Arc<Mutex<Vec<bool>>>,
}

impl Forward for ModeProbe {
    fn forward(&self, x: &Tensor) -> neurite::Result<Tensor> {
        self.log.lock().unwrap().push(self.training);
        Ok(x.clone())
    }
}

impl Module for ModeProbe {
    fn set_training(&mut self, training: bool) {
        self.training = training;
    }
    fn is_training(&self) -> bool {
        self.training
    }
}

#[test]
fn mode_is_train_during_batches_eval_for_validation_and_restored() {
    let _g = serial();
    let data = xor_data(4, 0.1).unwrap();
    let log: Arc<Mutex<Vec<bool>>> = Arc::default();
    let mut model = Sequential::new()
        .add(Linear::new(2, 8))
        .add(ModeProbe {
            training: true,
            log: log.clone(),
        })
        .add(ReLU)
        .add(Linear::new(8, 2));
    model.eval();
    let grad_on: Arc<Mutex<Vec<bool>>> = Arc::default();
    let g = grad_on.clone();
    let loss = move |out: &Tensor, y: &Tensor| {
        g.lock().unwrap().push(neurite::is_grad_enabled());
        loss::cross_entropy(out, y)
    };
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let h = Trainer::new(loss)
        .epochs(2)
        .batch_size(4)
        .validation_split(0.25)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(h.len(), 2);
    // Per epoch: 3 training batches in training mode with gradients, then one
    // validation batch in evaluation mode under no-grad.
    let expected = [true, true, true, false].repeat(2);
    assert_eq!(*log.lock().unwrap(), expected);
    assert_eq!(*grad_on.lock().unwrap(), expected);
    assert!(!model.is_training(), "the mode before fit is restored");

    log.lock().unwrap().clear();
    model.train();
    let out = neurite::train::predict(&mut model, data.features(), 6).unwrap();
    assert_eq!(out.dims(), &[16, 2]);
    assert_eq!(
        *log.lock().unwrap(),
        [false, false, false],
        "predict runs in evaluation mode"
    );
    assert!(model.is_training(), "predict restores the mode");
}
