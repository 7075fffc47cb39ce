//! A multi-layer perceptron learns handwritten digits (MNIST).
//!
//! 784-256-ReLU-Dropout(0.2)-128-ReLU-10, cross-entropy on the logits, Adam
//! (learning rate 1e-3), batch 64, 10 epochs, on the best device. All
//! `train-*` digits train (6,000 in the bundled subset); the `t10k-*` digits
//! give the final test accuracy and are also evaluated after each epoch
//! (reported as `val_*`, deciding nothing). `--val-fraction F` holds out the
//! tail of `train-*` for validation instead (Keras's `validation_split`). Pixels are scaled to `[0, 1]`, then the model's
//! first layer standardises them with the mean and standard deviation of the
//! training digits (a [`Normalization`] layer, PyTorch's usual
//! `Normalize((0.1307,), (0.3081,))` computed from the data): the statistics
//! are saved in the checkpoint, so `mnist_eval` needs no preprocessing code.
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

use common::{LrSchedule, Options, Program};
use neurite::data::{ImageLayout, Mnist};
use neurite::nn::{Dropout, Linear, Normalization, ReLU, Sequential};
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
    let train = common::limited(opts, mnist.train_dataset()?)?;
    let test = common::limited(opts, mnist.test_dataset()?)?;
    let n_train = common::training_count(opts, train.len());

    // Statistics from the digits that train, never from those that validate or test.
    let pixels = train.features().narrow(0, 0, n_train)?;
    let mut model = Sequential::new()
        .add(Normalization::adapt(&pixels, None)?)
        .add(Linear::new(784, 256))
        .add(ReLU)
        .add(Dropout::new(0.2))
        .add(Linear::new(256, 128))
        .add(ReLU)
        .add(Linear::new(128, 10))
        .into_device(&device)?;
    let summary = model.summary(&[1, 784])?;
    common::train_and_report(
        NAME,
        opts,
        model,
        (&summary, LrSchedule::Constant),
        &train,
        &test,
        started,
    )
}
