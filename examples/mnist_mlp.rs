//! A multi-layer perceptron learns handwritten digits (MNIST).
//!
//! 784-256-ReLU-Dropout(0.2)-128-ReLU-10, cross-entropy on the logits, Adam
//! (learning rate 1e-3), batch 64, 10 epochs, on the best device. The last 10%
//! of the `train-*` digits are held out for validation (Keras's
//! `validation_split`: 5,400 train and 600 validate on the bundled subset;
//! `--val-fraction` changes it); the `t10k-*` digits are only used for the
//! final test accuracy. Pixels are
//! scaled to `[0, 1]` and nothing else, so a saved model needs no
//! preprocessing state to be evaluated (see `mnist_eval`).
//!
//! Writes `<out>/mnist_mlp.ckpt` (the model, reloadable with
//! `Sequential::load`) and `<out>/training.png` (loss and accuracy curves),
//! and ends with the line `test accuracy: 0.XXXX`.
//!
//! ```text
//! cargo run --release --example mnist_mlp
//! cargo run --release --example mnist_mlp -- --epochs 5 --device cpu --data /path/to/full/mnist
//! cargo run --release --example mnist_mlp -- --help
//! ```

mod common;

use common::{EpochTimer, Options, Program};
use neurite::data::{ImageLayout, Mnist};
use neurite::loss::cross_entropy;
use neurite::nn::{Dropout, Linear, Module, ReLU, Sequential};
use neurite::optim::{Adam, AdamConfig};
use neurite::train::{Metric, Trainer};
use std::process::ExitCode;
use std::time::Instant;

const NAME: &str = "mnist_mlp";

fn main() -> ExitCode {
    let opts = common::options_or_exit(Program::Train(NAME));
    common::exit_code(run(&opts))
}

fn run(opts: &Options) -> neurite::Result<()> {
    let started = Instant::now();
    let device = common::choose_device(&opts.device)?;
    neurite::manual_seed(opts.seed);

    // Images as (N, 784) rows of pixels in [0, 1], labels as I64 class indices.
    let mnist = Mnist::load_with(&opts.data, ImageLayout::Flat)?;
    let train = mnist.train_dataset()?;
    let test = mnist.test_dataset()?;
    // Keras's validation_split: the tail of the training files validates.
    let n_val = train.len() - (train.len() as f64 * (1.0 - opts.val_fraction)).floor() as usize;
    println!(
        "data: {} training, {} validation (the last {:.0}% of train-*), {} test digits, from {}",
        train.len() - n_val,
        n_val,
        opts.val_fraction * 100.0,
        test.len(),
        opts.data.display()
    );

    let mut model = Sequential::new()
        .add(Linear::new(784, 256))
        .add(ReLU)
        .add(Dropout::new(0.2))
        .add(Linear::new(256, 128))
        .add(ReLU)
        .add(Linear::new(128, 10))
        .into_device(&device)?;
    if !opts.quiet {
        println!("{}", model.summary(&[1, 784])?);
    }
    let mut adam = Adam::new(model.parameters(), AdamConfig::new(opts.lr))?;

    let mut timer = EpochTimer::default();
    let mut trainer = Trainer::new(cross_entropy)
        .epochs(opts.epochs)
        .batch_size(opts.batch_size)
        .seed(opts.seed)
        .metric(Metric::Accuracy)
        .callback(&mut timer);
    if opts.val_fraction > 0.0 {
        trainer = trainer.validation_split(opts.val_fraction);
    }
    if opts.quiet {
        trainer = trainer.quiet();
    }
    let history = trainer.fit(&mut model, &mut adam, &train)?;
    let test_logs = trainer.evaluate(&mut model, &test)?;
    drop(trainer); // releases the timer

    common::save_and_report(NAME, opts, &mut model, &history, &test_logs, &timer, started)
}
