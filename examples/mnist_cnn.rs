//! A small convolutional network learns handwritten digits (MNIST).
//!
//! Two blocks of conv3x3 (padding 1) + BatchNorm2d + ReLU + MaxPool2d(2), with
//! 16 and 32 channels, then Dropout(0.25), Flatten and Linear(32*7*7 -> 10);
//! cross-entropy on the logits, Adam (learning rate 1e-3), batch 64, 10 epochs,
//! on the best device. Layers use PyTorch's default initialisation and
//! batch-norm momentum (0.1), so the recipe is PyTorch's line for line. All
//! `train-*` digits train (6,000 in the bundled subset); the `t10k-*` digits
//! give the final test accuracy and are also evaluated after each epoch
//! (reported as `val_*`, deciding nothing). `--val-fraction F` holds out the
//! tail of `train-*` for validation instead (Keras's `validation_split`).
//! Pixels are scaled to `[0, 1]` and nothing else (batch norm follows each
//! convolution), so a saved model needs no preprocessing state (see `mnist_eval`).
//!
//! Writes `<out>/mnist_cnn.ckpt` (the model, reloadable with
//! `Sequential::load`) and `<out>/training.png` (loss and accuracy curves),
//! and ends with the line `test accuracy: 0.XXXX`.
//!
//! ```text
//! cargo run --release --example mnist_cnn
//! cargo run --release --example mnist_cnn -- --epochs 3 --device cpu --data /path/to/full/mnist
//! cargo run --release --example mnist_cnn -- --help
//! ```

mod common;

use common::{LrSchedule, Options, Program};
use neurite::data::{ImageLayout, Mnist};
use neurite::nn::{BatchNorm2d, Conv2d, Dropout, Flatten, Linear, MaxPool2d, ReLU, Sequential};
use std::process::ExitCode;
use std::time::Instant;

const NAME: &str = "mnist_cnn";

fn main() -> ExitCode {
    let opts = common::options_or_exit(Program::Train(NAME));
    common::exit_code(run(&opts))
}

fn run(opts: &Options) -> neurite::Result<()> {
    let started = Instant::now();
    let device = common::choose_device(&opts.device)?;
    neurite::manual_seed(opts.seed);

    // Images as (N, 1, 28, 28) pixels in [0, 1], labels as I64 class indices.
    let mnist = Mnist::load_with(&opts.data, ImageLayout::Nchw)?;
    let train = common::limited(opts, mnist.train_dataset()?)?;
    let test = common::limited(opts, mnist.test_dataset()?)?;

    let mut model = Sequential::new()
        .add(Conv2d::new(1, 16, 3).with_padding(1))
        .add(BatchNorm2d::new(16))
        .add(ReLU)
        .add(MaxPool2d::new(2)) // 16 x 14 x 14
        .add(Conv2d::new(16, 32, 3).with_padding(1))
        .add(BatchNorm2d::new(32))
        .add(ReLU)
        .add(MaxPool2d::new(2)) // 32 x 7 x 7
        .add(Dropout::new(0.25))
        .add(Flatten::new())
        .add(Linear::new(32 * 7 * 7, 10))
        .into_device(&device)?;
    let summary = model.summary(&[1, 1, 28, 28])?;
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
