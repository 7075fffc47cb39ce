//! A residual network, written as plain structs with `#[derive(Module)]`,
//! learns handwritten digits (MNIST) with `fit`.
//!
//! ```text
//! stem:    conv3x3(1 -> 16) + BatchNorm2d + ReLU                 16 x 28 x 28
//! stage 1: BasicBlock(16 -> 32, stride 2), BasicBlock(32 -> 32)  32 x 14 x 14
//! stage 2: BasicBlock(32 -> 64, stride 2), BasicBlock(64 -> 64)  64 x 7 x 7
//! head:    global average pooling, Dropout(0.2), Linear(64 -> 10)
//! ```
//!
//! A `BasicBlock` is He et al.'s: conv3x3 + BN + ReLU + conv3x3 + BN, plus the
//! input (through a 1x1 convolution + BN where the shape changes), then ReLU.
//! Cross-entropy, Adam (1e-3) with the learning rate annealed to 0 along a
//! cosine over the run (per epoch), batch 64, 10 epochs by default, on the best
//! device, every `train-*` digit training and the `t10k-*` digits reported
//! after each epoch (`val_*`, deciding nothing) and at the end. The
//! architecture has a configuration type, so the saved checkpoint rebuilds
//! with `ResNet::load(path, &device)` and no other code.
//! `benches/compare/resnet_torch.py` trains the same network in PyTorch.
//!
//! ```text
//! cargo run --release --example resnet_mnist
//! cargo run --release --example resnet_mnist -- --epochs 3 --device cpu
//! ```

mod common;

use common::{Options, Program};
use neurite::data::ImageLayout;
use neurite::nn::{BatchNorm2d, Configurable, Conv2d, Dropout, Forward, Linear, Module};
use neurite::{Result, Tensor};
use serde::{Deserialize, Serialize};
use std::process::ExitCode;

const NAME: &str = "resnet_mnist";

/// A 1x1 convolution and batch norm that bring the skip connection to the
/// block's output shape.
#[derive(Module)]
struct Downsample {
    conv: Conv2d,
    bn: BatchNorm2d,
}

/// conv-BN-ReLU-conv-BN plus the (possibly downsampled) input, then ReLU.
#[derive(Module)]
struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    downsample: Option<Downsample>,
}

impl BasicBlock {
    fn new(input: usize, output: usize, stride: usize) -> BasicBlock {
        let downsample = (stride != 1 || input != output).then(|| Downsample {
            conv: Conv2d::new(input, output, 1).with_stride(stride).with_bias(false),
            bn: BatchNorm2d::new(output),
        });
        BasicBlock {
            conv1: Conv2d::new(input, output, 3)
                .with_stride(stride)
                .with_padding(1)
                .with_bias(false),
            bn1: BatchNorm2d::new(output),
            conv2: Conv2d::new(output, output, 3).with_padding(1).with_bias(false),
            bn2: BatchNorm2d::new(output),
            downsample,
        }
    }
}

impl Forward for BasicBlock {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let h = self.bn1.forward(&self.conv1.forward(x)?)?.relu()?;
        let h = self.bn2.forward(&self.conv2.forward(&h)?)?;
        let skip = match &self.downsample {
            Some(d) => d.bn.forward(&d.conv.forward(x)?)?,
            None => x.clone(),
        };
        (h + skip)?.relu()
    }
}

/// The hyperparameters that rebuild a [`ResNet`].
#[derive(Clone, Debug, Serialize, Deserialize)]
struct ResNetConfig {
    /// Channels of the stem, then of each stage (each stage halves the resolution).
    widths: Vec<usize>,
    /// Blocks per stage.
    blocks_per_stage: usize,
    classes: usize,
    dropout: f64,
}

#[derive(Module)]
#[module(config)]
struct ResNet {
    stem: Conv2d,
    stem_bn: BatchNorm2d,
    blocks: Vec<BasicBlock>,
    dropout: Dropout,
    fc: Linear,
    #[module(skip)]
    config: ResNetConfig,
}

impl Configurable for ResNet {
    type Config = ResNetConfig;

    fn module_config(&self) -> ResNetConfig {
        self.config.clone()
    }

    fn from_module_config(c: &ResNetConfig) -> Result<ResNet> {
        if c.widths.len() < 2 || c.blocks_per_stage == 0 || c.classes == 0 {
            return Err(neurite::Error::invalid(
                "ResNet",
                format!("needs a stem and at least one stage of blocks, got {c:?}"),
            ));
        }
        let mut blocks = Vec::new();
        for w in c.widths.windows(2) {
            blocks.push(BasicBlock::new(w[0], w[1], 2));
            for _ in 1..c.blocks_per_stage {
                blocks.push(BasicBlock::new(w[1], w[1], 1));
            }
        }
        let last = *c.widths.last().unwrap_or(&1);
        Ok(ResNet {
            stem: Conv2d::new(1, c.widths[0], 3).with_padding(1).with_bias(false),
            stem_bn: BatchNorm2d::new(c.widths[0]),
            blocks,
            dropout: Dropout::try_new(c.dropout)?,
            fc: Linear::new(last, c.classes),
            config: c.clone(),
        })
    }
}

impl Forward for ResNet {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.stem_bn.forward(&self.stem.forward(x)?)?.relu()?;
        for block in &self.blocks {
            h = block.forward(&h)?;
        }
        // Global average pooling over height and width.
        let pooled = h.mean_dims(&[2usize, 3], false)?;
        self.fc.forward(&self.dropout.forward(&pooled)?)
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
        ImageLayout::Nchw,
        || {
            ResNet::from_module_config(&ResNetConfig {
                widths: vec![16, 32, 64],
                blocks_per_stage: 2,
                classes: 10,
                dropout: 0.2,
            })
        },
        ResNet::load,
    )
}
