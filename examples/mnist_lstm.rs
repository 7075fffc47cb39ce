//! An LSTM reads each handwritten digit (MNIST) row by row and classifies it
//! from its final state.
//!
//! ```text
//! input:  28 x 28 pixels in [0, 1], standardised with MNIST's mean and deviation
//! LSTM:   28 steps (the rows) of 28 features (the pixels of a row) -> 128 hidden
//!         units in each direction (bidirectional)
//! head:   Dropout(0.3), Linear(256 -> 10) on both directions' final hidden states h_n
//! ```
//!
//! Cross-entropy, Adam (3e-3 by default here) with the learning rate annealed
//! to 0 along a cosine over the run (per epoch), batch 64, 12 epochs by
//! default, on the best device, every `train-*`
//! digit training and the `t10k-*` digits reported after each epoch
//! (`val_*`, deciding nothing) and at the end. The model is a
//! `#[derive(Module)]` struct with a configuration type, so the checkpoint
//! rebuilds with `RowLstm::load(path, &device)`.
//! `benches/compare/mnist_lstm_torch.py` trains the same network in PyTorch.
//!
//! ```text
//! cargo run --release --example mnist_lstm
//! cargo run --release --example mnist_lstm -- --epochs 3 --device cpu
//! ```

mod common;

use common::{Options, Program};
use neurite::data::ImageLayout;
use neurite::nn::{Configurable, Dropout, Forward, LSTM, Linear, Module};
use neurite::{Result, Tensor};
use serde::{Deserialize, Serialize};
use std::process::ExitCode;

const NAME: &str = "mnist_lstm";

/// Rows per image (time steps) and pixels per row (features per step).
const SIDE: usize = 28;

/// MNIST's customary pixel mean and standard deviation (torchvision's `Normalize`).
const MEAN: f64 = 0.1307;
const STD: f64 = 0.3081;

/// The hyperparameters that rebuild the network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RowLstmConfig {
    hidden: usize,
    layers: usize,
    bidirectional: bool,
    dropout: f64,
    classes: usize,
}

/// An LSTM over the rows of an image and a linear classifier on its final state.
#[derive(Module)]
#[module(config)]
struct RowLstm {
    lstm: LSTM,
    drop: Dropout,
    head: Linear,
    #[module(skip)]
    cfg: RowLstmConfig,
}

impl RowLstmConfig {
    fn directions(&self) -> usize {
        if self.bidirectional { 2 } else { 1 }
    }
}

impl Configurable for RowLstm {
    type Config = RowLstmConfig;

    fn module_config(&self) -> RowLstmConfig {
        self.cfg.clone()
    }

    fn from_module_config(c: &RowLstmConfig) -> Result<RowLstm> {
        Ok(RowLstm {
            lstm: LSTM::new(SIDE, c.hidden)
                .with_num_layers(c.layers)
                .with_bidirectional(c.bidirectional)
                .with_batch_first(true),
            drop: Dropout::try_new(c.dropout)?,
            head: Linear::new(c.hidden * c.directions(), c.classes),
            cfg: c.clone(),
        })
    }
}

impl Forward for RowLstm {
    /// `(N, 784)` pixel rows (or `(N, 1, 28, 28)` images) to `(N, classes)` logits.
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let n = x.dims()[0];
        let rows = x.reshape((n, SIDE, SIDE))?.affine(1.0 / STD, -MEAN / STD)?;
        let (_, (h_n, _)) = self.lstm.forward_with_state(&rows, None)?;
        // The last layer's final hidden states (`h_n` is `(layers * directions, N, hidden)`,
        // layer-major), the two directions side by side.
        let d = self.cfg.directions();
        let last = h_n
            .narrow(0, (self.cfg.layers - 1) * d, d)?
            .permute(&[1, 0, 2])?
            .reshape((n, d * self.cfg.hidden))?;
        self.head.forward(&self.drop.forward(&last)?)
    }
}

fn main() -> ExitCode {
    let opts = common::options_or_exit(Program::Train(NAME));
    common::exit_code(run(&opts))
}

fn run(opts: &Options) -> Result<()> {
    common::run_configured(
        NAME,
        opts,
        ImageLayout::Flat,
        || {
            RowLstm::from_module_config(&RowLstmConfig {
                hidden: 128,
                layers: 1,
                bidirectional: true,
                dropout: 0.3,
                classes: 10,
            })
        },
        RowLstm::load,
    )
}
