//! Resuming from a training checkpoint: 2 epochs + save + load + 2 epochs is
//! bit-for-bit 4 epochs on the CPU.

use crate::common::{serial, temp_dir, weights, xor_data};
use neurite::checkpoint::load_training;
use neurite::data::Dataset;
use neurite::loss;
use neurite::nn::{Dropout, Linear, Module, ReLU, Sequential};
use neurite::optim::lr_scheduler::StepLr;
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::train::{History, Metric, Trainer};
use neurite::{Device, Tensor};

/// Dropout (global generator), momentum (optimizer buffers), StepLR
/// (scheduler state), shuffling (loader generator) and a validation split:
/// everything a resume must restore.
fn model() -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 16))
        .add(ReLU)
        .add(Dropout::new(0.3))
        .add(Linear::new(16, 2))
}

fn sgd(model: &Sequential) -> Sgd {
    Sgd::new(
        model.parameters(),
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap()
}

fn trainer<'a>(epochs: usize) -> Trainer<'a> {
    Trainer::new(loss::cross_entropy)
        .epochs(epochs)
        .batch_size(8)
        .seed(21)
        .validation_split(0.2)
        .metric(Metric::Accuracy)
        .quiet()
}

fn bits(model: &Sequential) -> Vec<(String, Vec<u64>)> {
    weights(model)
        .into_iter()
        .map(|(n, v)| (n, v.iter().map(|x| x.to_bits()).collect()))
        .collect()
}

fn data() -> Dataset {
    neurite::manual_seed(100);
    xor_data(15, 0.3).unwrap()
}

#[test]
fn two_plus_two_epochs_equal_four() {
    let _g = serial();
    let data = data();
    let dir = temp_dir("resume");
    let path = dir.join("run.ckpt");

    // Uninterrupted: 4 epochs.
    neurite::manual_seed(1);
    let mut m4 = model();
    let mut o4 = sgd(&m4);
    let s4 = StepLr::new(&mut o4, 1, 0.8).unwrap();
    let mut t4 = trainer(4).scheduler(s4);
    let h4 = t4.fit(&mut m4, &mut o4, &data).unwrap();
    let rng4 = neurite::rng_state();

    // 2 epochs, then a checkpoint.
    neurite::manual_seed(1);
    let mut m2 = model();
    let mut o2 = sgd(&m2);
    let s2 = StepLr::new(&mut o2, 1, 0.8).unwrap();
    let mut t2 = trainer(2).scheduler(s2);
    let h2 = t2.fit(&mut m2, &mut o2, &data).unwrap();
    assert_eq!(h2.len(), 2);
    assert_ne!(bits(&m2), bits(&m4));
    t2.save_checkpoint(&path, &m2, &o2).unwrap();
    drop((m2, o2, t2));

    // A new "process": the global generator is somewhere else entirely.
    neurite::manual_seed(999);
    let _noise = Tensor::randn(100, neurite::DType::F32, &Device::cpu()).unwrap();
    let ckpt = load_training::<History>(&path, &Device::cpu()).unwrap();
    assert_eq!((ckpt.epoch, ckpt.step), (2, 2 * 6)); // 48 training samples / 8
    assert_eq!(ckpt.history, h2);
    let mut t = trainer(4).resume(&ckpt); // the scheduler comes from the checkpoint
    let mut opt = ckpt.build_optimizer().unwrap();
    let mut m = ckpt.model;
    let h = t.fit(&mut m, &mut *opt, &data).unwrap();

    assert_eq!(h.epochs, [0, 1, 2, 3]);
    assert_eq!(h, h4, "histories differ");
    assert_eq!(bits(&m), bits(&m4), "weights differ");
    assert_eq!(opt.lr().to_bits(), o4.lr().to_bits());
    assert_eq!(opt.step_count(), o4.step_count());
    // The random generator continues where the uninterrupted run left it.
    assert_eq!(neurite::rng_state(), rng4);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn user_built_scheduler_and_optimizer_are_brought_back_to_the_checkpoint() {
    let _g = serial();
    let data = data();
    let dir = temp_dir("resume-user");
    let path = dir.join("run.ckpt");

    neurite::manual_seed(2);
    let mut m4 = model();
    let mut o4 = sgd(&m4);
    let s4 = StepLr::new(&mut o4, 1, 0.5).unwrap();
    let h4 = trainer(3).scheduler(s4).fit(&mut m4, &mut o4, &data).unwrap();

    // One epoch, checkpointed by the trainer at its end.
    neurite::manual_seed(2);
    let mut m1 = model();
    let mut o1 = sgd(&m1);
    let s1 = StepLr::new(&mut o1, 1, 0.5).unwrap();
    trainer(1)
        .scheduler(s1)
        .checkpoint_every_epoch(&path)
        .fit(&mut m1, &mut o1, &data)
        .unwrap();

    let ckpt = load_training::<History>(&path, &Device::cpu()).unwrap();
    assert_eq!(ckpt.epoch, 1);
    let mut m = ckpt.model;
    // The user rebuilds the optimizer and scheduler from scratch; building
    // the scheduler resets the lr to 0.1, and resume must undo that.
    let mut opt = sgd(&m);
    let sched = StepLr::new(&mut opt, 1, 0.5).unwrap();
    let h = trainer(3)
        .scheduler(sched)
        .resume(&load_training::<History>(&path, &Device::cpu()).unwrap())
        .fit(&mut m, &mut opt, &data)
        .unwrap();
    assert_eq!(h, h4);
    assert_eq!(h.lr, [0.1, 0.05, 0.025]);
    assert_eq!(bits(&m), bits(&m4));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn save_checkpoint_before_fit_is_an_error() {
    let _g = serial();
    let m = model();
    let o = sgd(&m);
    let err = trainer(1)
        .save_checkpoint("never.ckpt", &m, &o)
        .unwrap_err()
        .to_string();
    assert!(err.contains("fit"), "{err}");
}
