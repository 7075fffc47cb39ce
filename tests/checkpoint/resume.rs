//! Exact resume on the CPU: 2 epochs + save + load + 2 epochs give the same
//! bits as 4 uninterrupted epochs, with dropout, batch norm, shuffling, Adam
//! and a learning-rate schedule in play.
//!
//! The work runs in a child process with one test thread: the global random
//! generator is shared by every thread of the test binary, and other tests
//! drawing from it concurrently would change the dropout masks.

use crate::common::tmp_dir;
use neurite::checkpoint::{TrainingSnapshot, load_training, save_training};
use neurite::data::{DataLoader, Dataset};
use neurite::nn::{BatchNorm1d, Dropout, Forward, Linear, Module, ReLU, Sequential};
use neurite::optim::lr_scheduler::{LrScheduler, StepLr};
use neurite::optim::{Adam, AdamConfig, Optimizer};
use neurite::{DType, Device, Tensor};
use std::process::Command;

const CHILD_ENV: &str = "NEURITE_CHECKPOINT_RESUME_CHILD";

fn dataset() -> Dataset {
    neurite::manual_seed(1234);
    let dev = Device::cpu();
    let x = Tensor::randn((44, 6), DType::F32, &dev).unwrap();
    let labels: Vec<i64> = (0..44).map(|i| (i * 7 % 3) as i64).collect();
    let y = Tensor::from_vec(labels, 44, &dev).unwrap();
    Dataset::new(x, y).unwrap()
}

fn model() -> Sequential {
    Sequential::new()
        .add(Linear::new(6, 16))
        .add(BatchNorm1d::new(16))
        .add(ReLU)
        .add(Dropout::new(0.3))
        .add(Linear::new(16, 3))
}

/// One epoch per iteration: batches in the loader's order, one Adam step each,
/// then one scheduler step. Returns the mean loss of each epoch.
fn train(
    model: &mut Sequential,
    opt: &mut dyn Optimizer,
    sched: &mut dyn LrScheduler,
    loader: &mut DataLoader,
    epochs: usize,
    step: &mut u64,
) -> Vec<f64> {
    model.train();
    let mut losses = Vec::new();
    for _ in 0..epochs {
        let mut total = 0.0;
        let mut n = 0;
        for batch in loader.iter() {
            let (x, y) = batch.unwrap();
            let loss = neurite::loss::cross_entropy(&model.forward(&x).unwrap(), &y).unwrap();
            total += loss.to_scalar::<f32>().unwrap() as f64;
            n += 1;
            let grads = loss.backward().unwrap();
            opt.step(&grads).unwrap();
            *step += 1;
        }
        sched.step(opt).unwrap();
        losses.push(total / n as f64);
    }
    losses
}

fn bits(m: &Sequential) -> Vec<(String, Vec<u64>)> {
    m.named_tensors()
        .into_iter()
        .map(|(n, t)| {
            let v = t.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap();
            (n, v.into_iter().map(f64::to_bits).collect())
        })
        .collect()
}

fn run_child() {
    let path = tmp_dir("resume").join("train.ckpt");

    // Four epochs without interruption.
    let data = dataset();
    neurite::manual_seed(7);
    let mut straight = model();
    let mut opt = Adam::new(straight.parameters(), AdamConfig::new(0.01)).unwrap();
    let mut sched = StepLr::new(&mut opt, 1, 0.7).unwrap();
    let mut loader = DataLoader::new(data.clone(), 8).unwrap().shuffle(99);
    let mut step = 0;
    let straight_losses = train(&mut straight, &mut opt, &mut sched, &mut loader, 4, &mut step);
    let straight_lr = opt.lr();

    // Two epochs, a checkpoint, and everything dropped.
    neurite::manual_seed(7);
    let mut first = model();
    let mut opt = Adam::new(first.parameters(), AdamConfig::new(0.01)).unwrap();
    let mut sched = StepLr::new(&mut opt, 1, 0.7).unwrap();
    let mut loader = DataLoader::new(data.clone(), 8).unwrap().shuffle(99);
    let mut step = 0;
    let history = train(&mut first, &mut opt, &mut sched, &mut loader, 2, &mut step);
    let snapshot = TrainingSnapshot::new(&first, &opt, &history)
        .epoch(2)
        .step(step)
        .scheduler(&sched)
        .loader(&loader);
    save_training(&path, &snapshot).unwrap();
    drop((first, opt, sched, loader));

    // Scramble the global generator: the checkpoint must restore it.
    neurite::manual_seed(987_654);
    let _ = Tensor::rand(100, DType::F32, &Device::cpu()).unwrap();

    let ckpt = load_training::<Vec<f64>>(&path, &Device::cpu()).unwrap();
    let rng_after_load = neurite::rng_state();
    assert_eq!((ckpt.epoch, ckpt.step), (2, 12));
    assert_eq!(ckpt.history, history);
    let mut resumed = ckpt.model;
    let params = resumed.parameters();
    let mut opt = ckpt
        .optimizer_state
        .config
        .clone()
        .pipe_adam(params, &ckpt.optimizer_state);
    let mut sched = StepLr::new(&mut opt, 1, 0.5).unwrap();
    sched.load_state(ckpt.scheduler_state.as_ref().unwrap()).unwrap();
    let mut loader = DataLoader::new(data, 8).unwrap().shuffle(12345);
    loader.set_state(ckpt.loader_state.as_ref().unwrap()).unwrap();
    assert_eq!(
        neurite::rng_state(),
        rng_after_load,
        "loading does not draw from the global generator"
    );
    neurite::set_rng_state(&ckpt.rng);
    let mut step = ckpt.step;
    let mut losses = ckpt.history.clone();
    losses.extend(train(&mut resumed, &mut opt, &mut sched, &mut loader, 2, &mut step));

    assert_eq!(step, 24);
    assert_eq!(opt.lr().to_bits(), straight_lr.to_bits());
    assert_eq!(losses, straight_losses, "per-epoch losses");
    let (a, b) = (bits(&straight), bits(&resumed));
    assert_eq!(a.len(), b.len());
    for ((n, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{n} differs after resuming");
    }
    println!("RESUME-OK: {} tensors bit-identical", a.len());
}

/// Rebuilds the Adam optimizer from the saved state by hand, the way a user with
/// their own optimizer would; `build_optimizer` is checked in the second child run.
trait PipeAdam {
    fn pipe_adam(self, params: Vec<Tensor>, state: &neurite::optim::OptimizerState) -> Adam;
}

impl PipeAdam for neurite::optim::OptimizerConfig {
    fn pipe_adam(self, params: Vec<Tensor>, state: &neurite::optim::OptimizerState) -> Adam {
        let neurite::optim::OptimizerConfig::Adam(cfg) = self else {
            panic!("saved an Adam optimizer, got {}", self.kind());
        };
        let mut opt = Adam::new(params, cfg).unwrap();
        opt.load_state(state).unwrap();
        opt
    }
}

/// The same resume through the convenience builders of `TrainingCheckpoint`.
fn run_child_with_builders() {
    let path = tmp_dir("resume-builders").join("train.ckpt");
    let data = dataset();
    neurite::manual_seed(3);
    let mut straight = model();
    let mut opt = Adam::new(straight.parameters(), AdamConfig::new(0.02)).unwrap();
    let mut sched = StepLr::new(&mut opt, 2, 0.5).unwrap();
    let mut loader = DataLoader::new(data.clone(), 8).unwrap().shuffle(5);
    let mut step = 0;
    train(&mut straight, &mut opt, &mut sched, &mut loader, 4, &mut step);

    neurite::manual_seed(3);
    let mut first = model();
    let mut opt = Adam::new(first.parameters(), AdamConfig::new(0.02)).unwrap();
    let mut sched = StepLr::new(&mut opt, 2, 0.5).unwrap();
    let mut loader = DataLoader::new(data.clone(), 8).unwrap().shuffle(5);
    let mut step = 0;
    let history = train(&mut first, &mut opt, &mut sched, &mut loader, 2, &mut step);
    save_training(
        &path,
        &TrainingSnapshot::new(&first, &opt, &history)
            .epoch(2)
            .step(step)
            .scheduler(&sched)
            .loader(&loader),
    )
    .unwrap();
    neurite::manual_seed(1);

    let ckpt = load_training::<Vec<f64>>(&path, &Device::cpu()).unwrap();
    let mut opt = ckpt.build_optimizer().unwrap();
    let mut sched = ckpt.build_scheduler().unwrap().unwrap();
    let mut loader = DataLoader::new(data, 8).unwrap().shuffle(0);
    ckpt.restore_loader(&mut loader).unwrap();
    ckpt.restore_rng();
    let mut step = ckpt.step;
    let mut resumed = ckpt.model;
    train(&mut resumed, opt.as_mut(), sched.as_mut(), &mut loader, 2, &mut step);
    assert!(
        bits(&straight) == bits(&resumed),
        "builders: weights differ after resuming"
    );
    println!("RESUME-BUILDERS-OK");
}

#[test]
#[ignore = "run by exact_resume_is_bit_identical in a child process"]
fn resume_child() {
    if std::env::var(CHILD_ENV).is_ok() {
        run_child();
        run_child_with_builders();
    }
}

#[test]
fn exact_resume_is_bit_identical() {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "resume::resume_child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains("RESUME-OK") && stdout.contains("RESUME-BUILDERS-OK"),
        "child failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
}
