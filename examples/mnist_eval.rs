//! Evaluates a saved MNIST model on the `t10k-*` digits, with no model code:
//! the architecture, weights, batch-norm statistics and the MLP's input
//! standardisation all come from the checkpoint (`Sequential::load`), so any
//! model written by `mnist_mlp`, `mnist_cnn` or your own `Sequential::save` works.
//!
//! The image layout follows the model's first shape-specific layer: `(N, 784)`
//! rows when it is a `Linear`, `(N, 1, 28, 28)` images otherwise. Ends with the line
//! `test accuracy: 0.XXXX`; a missing or damaged checkpoint makes it exit with
//! status 1 and the loader's error message.
//!
//! ```text
//! cargo run --release --example mnist_cnn
//! cargo run --release --example mnist_eval -- --checkpoint target/mnist_cnn/mnist_cnn.ckpt
//! ```

mod common;

use common::{Options, Program};
use neurite::data::Dataset;
use neurite::data::{ImageLayout, Mnist, MnistSplit};
use neurite::loss::cross_entropy;
use neurite::nn::{LayerConfig, Module, Sequential, SequentialConfig};
use neurite::train::{Metric, evaluate};
use std::process::ExitCode;
use std::time::Instant;

fn main() -> ExitCode {
    let opts = common::options_or_exit(Program::Eval);
    common::exit_code(run(&opts))
}

fn run(opts: &Options) -> neurite::Result<()> {
    let started = Instant::now();
    let device = common::choose_device(&opts.device)?;
    // `parse` guarantees it for `Program::Eval`.
    let Some(path) = opts.checkpoint.as_ref() else {
        return Err(neurite::Error::invalid("mnist_eval", "--checkpoint PATH is required"));
    };
    let mut model = Sequential::load(path, &device)?;
    model.eval();
    let config = model.to_config()?;
    let layout = common::layout_for(&config).unwrap_or(ImageLayout::Nchw);
    println!(
        "model: {} ({} layers, {} parameters) from {}",
        describe(&config),
        model.len(),
        model.num_parameters(),
        path.display()
    );

    let (images, labels) = Mnist::load_split(&opts.data, MnistSplit::Test, layout)?;
    let test = Dataset::new(images, labels)?;
    println!("data: {} test digits from {}", test.len(), opts.data.display());
    let logs = evaluate(&mut model, &cross_entropy, &[Metric::Accuracy], &test, opts.batch_size)?;
    println!("test loss: {:.4}", logs.get("loss").unwrap_or(f64::NAN));
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
    println!("test accuracy: {:.4}", logs.get("accuracy").unwrap_or(f64::NAN));
    Ok(())
}

/// A one-line sketch of the architecture, such as `Linear(784->256) ReLU ...`.
fn describe(config: &SequentialConfig) -> String {
    config
        .layers
        .iter()
        .map(|layer| match layer {
            LayerConfig::Linear {
                in_features,
                out_features,
                ..
            } => format!("Linear({in_features}->{out_features})"),
            LayerConfig::QuantizedLinear {
                in_features,
                out_features,
                ..
            } => format!("QuantizedLinear({in_features}->{out_features}, int8)"),
            LayerConfig::Conv2d {
                in_channels,
                out_channels,
                kernel_size,
                ..
            } => format!(
                "Conv2d({in_channels}->{out_channels}, {}x{})",
                kernel_size[0], kernel_size[1]
            ),
            LayerConfig::Dropout { p } => format!("Dropout({p})"),
            LayerConfig::Sequential(inner) => format!("[{}]", describe(inner)),
            other => {
                // The variant name: the text before any field list.
                let text = format!("{other:?}");
                text.split([' ', '{', '(']).next().unwrap_or("?").to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
