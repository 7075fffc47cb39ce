//! The seed article's feed-forward network, in neurite's API.
//!
//! A 10-16-8-1 network (ReLU hidden layers, sigmoid output) trained with
//! binary cross-entropy by plain stochastic gradient descent (SGD, learning
//! rate 0.01, no momentum: the article's update rule), batch 16, 100 epochs,
//! the loss printed every 10 epochs and the accuracy at the end, on the best
//! device available.
//!
//! The data are 10 features drawn from a seeded standard normal distribution
//! and labels from a fixed rule on them, `y = 1 if x0 + x1 * x2 - x3 > 0` (a
//! product term, so not linearly separable): the accuracy measures whether
//! the network learned the rule. It is reported on 1,000 held-out samples
//! (about 0.96 on the CPU; the training accuracy ends near 0.99).
//!
//! On a terminal each printed epoch shows a progress bar; piped, one line.
//!
//! The article computed the backward pass by hand in NumPy and got it wrong in
//! two places (each layer's own output used where its input belongs, and the
//! sigmoid derivative applied on top of the BCE gradient, which already
//! accounts for it). Here gradients come from autograd;
//! `tests/train/seed_gradients.rs` checks them against finite differences for
//! this very network.
//!
//! Run with `cargo run --release --example seed_network`.

use neurite::data::Dataset;
use neurite::loss::BceLoss;
use neurite::nn::{Linear, Module, ReLU, Sequential, Sigmoid};
use neurite::optim::{Sgd, SgdConfig};
use neurite::train::{Metric, Trainer};
use neurite::{DType, Device, Tensor};

const FEATURES: usize = 10;
const TRAIN: usize = 2000;
const TEST: usize = 1000;

/// The fixed rule the labels come from.
fn label(x: &[f32]) -> f32 {
    if x[0] + x[1] * x[2] - x[3] > 0.0 { 1.0 } else { 0.0 }
}

/// `n` samples of seeded normal features and their labels, on the CPU.
fn make_data(n: usize) -> neurite::Result<Dataset> {
    let x = Tensor::randn((n, FEATURES), DType::F32, &Device::cpu())?;
    let labels: Vec<f32> = x.to_vec2::<f32>()?.iter().map(|row| label(row)).collect();
    let y = Tensor::from_vec(labels, (n, 1), &Device::cpu())?;
    Dataset::new(x, y)
}

fn main() -> neurite::Result<()> {
    let (device, not_gpu) = Device::best_with_reason();
    println!("device: {device}");
    if let Some(reason) = not_gpu {
        println!("not on a GPU because: {reason}");
    }

    neurite::manual_seed(42);
    let train = make_data(TRAIN)?;
    let test = make_data(TEST)?;

    let mut model = Sequential::new()
        .add(Linear::new(FEATURES, 16))
        .add(ReLU)
        .add(Linear::new(16, 8))
        .add(ReLU)
        .add(Linear::new(8, 1))
        .add(Sigmoid)
        .into_device(&device)?;
    let mut sgd = Sgd::new(model.parameters(), SgdConfig::new(0.01))?;

    let mut trainer = Trainer::new(BceLoss::new())
        .epochs(100)
        .batch_size(16)
        .seed(7)
        .metric(Metric::Accuracy)
        // A progress bar on a terminal, one line per printed epoch otherwise.
        .print_every(10);
    let history = trainer.fit(&mut model, &mut sgd, &train)?;

    let test_logs = trainer.evaluate(&mut model, &test)?;
    let train_acc = history.last("accuracy").unwrap_or(f64::NAN);
    let test_loss = test_logs.get("loss").unwrap_or(f64::NAN);
    let test_acc = test_logs.get("accuracy").unwrap_or(f64::NAN);
    println!("final training accuracy: {train_acc:.4}");
    println!("held-out loss: {test_loss:.4}");
    println!("accuracy: {test_acc:.4}");
    Ok(())
}
