//! A small vision Transformer learns handwritten digits (MNIST).
//!
//! Each 28x28 digit is cut into 16 patches of 7x7 pixels; a `Linear(49 -> 64)`
//! embeds each patch, a learned position embedding is added, three pre-norm
//! [`TransformerEncoderLayer`]s (4 heads, GELU feed-forward of 128, dropout
//! 0.2) and a final `LayerNorm` process the 16 tokens, their mean feeds a
//! `Linear(64 -> 10)` head. Pixels are standardised with MNIST's customary mean
//! and standard deviation (0.1307, 0.3081). Recipe: cross-entropy, Adam
//! (`--lr`, default 2e-3) annealed to 0 by a per-epoch cosine, batch 64, 25
//! epochs, on the best device; all `train-*` digits train and the `t10k-*`
//! digits give the test accuracy (also shown after each epoch as `val_*`,
//! deciding nothing). `benches/compare/mnist_vit_torch.py` is the same model
//! and recipe in PyTorch; docs/MNIST.md records both.
//!
//! Writes `<out>/mnist_vit.ckpt` (rebuilt with no code by `VisionTransformer::load`)
//! and `<out>/training.png`, and ends with the line `test accuracy: 0.XXXX`.
//!
//! ```text
//! cargo run --release --example mnist_vit
//! cargo run --release --example mnist_vit -- --epochs 3 --device cpu
//! ```

mod common;

use common::{Options, Program};
use neurite::data::ImageLayout;
use neurite::nn::{
    Configurable, Forward, LayerNorm, Linear, Module, TransformerActivation, TransformerEncoder,
    TransformerEncoderLayer, TransformerEncoderLayerConfig,
};
use neurite::{DType, Device, Result, Tensor};
use serde::{Deserialize, Serialize};
use std::process::ExitCode;

const NAME: &str = "mnist_vit";
/// MNIST's customary pixel mean and standard deviation (`Normalize((0.1307,), (0.3081,))`).
const MEAN: f64 = 0.1307;
const STD: f64 = 0.3081;

#[derive(Clone, Debug, Serialize, Deserialize)]
struct VitConfig {
    /// Side of a square patch; it must divide 28.
    patch: usize,
    /// Token width.
    dim: usize,
    /// Encoder layers.
    depth: usize,
    heads: usize,
    /// Width of each layer's feed-forward block.
    mlp_dim: usize,
    dropout: f64,
    classes: usize,
}

#[derive(Module)]
#[module(config)]
struct VisionTransformer {
    patch_embed: Linear,
    /// `(1, tokens, dim)`, added to every sample's tokens.
    pos_embed: Tensor,
    encoder: TransformerEncoder,
    head: Linear,
    #[module(skip)]
    config: VitConfig,
}

impl VisionTransformer {
    /// Patches per side.
    fn grid(&self) -> usize {
        28 / self.config.patch
    }

    /// `(N, 1, 28, 28)` images as `(N, tokens, patch * patch)` rows of patches,
    /// row-major over the grid.
    fn patches(&self, x: &Tensor) -> Result<Tensor> {
        let (n, g, p) = (x.dims()[0], self.grid(), self.config.patch);
        x.reshape([n, g, p, g, p])?
            .permute(&[0usize, 1, 3, 2, 4])?
            .reshape((n, g * g, p * p))
    }
}

impl Configurable for VisionTransformer {
    type Config = VitConfig;

    fn module_config(&self) -> VitConfig {
        self.config.clone()
    }

    fn from_module_config(c: &VitConfig) -> Result<VisionTransformer> {
        if c.patch == 0 || 28 % c.patch != 0 || c.depth == 0 {
            return Err(neurite::Error::invalid(
                "VisionTransformer",
                format!("needs a patch side dividing 28 and at least one layer, got {c:?}"),
            ));
        }
        let tokens = (28 / c.patch) * (28 / c.patch);
        let layer = TransformerEncoderLayer::try_new(&TransformerEncoderLayerConfig {
            dim_feedforward: c.mlp_dim,
            dropout: c.dropout,
            activation: TransformerActivation::Gelu,
            batch_first: true,
            norm_first: true,
            ..TransformerEncoderLayerConfig::new(c.dim, c.heads)
        })?;
        // Small random position embeddings (ViT's trunc_normal(std=0.02), untruncated).
        let pos = Tensor::randn_with_mean_std(0.0, 0.02, (1, tokens, c.dim), DType::F32, &Device::cpu())?;
        Ok(VisionTransformer {
            patch_embed: Linear::new(c.patch * c.patch, c.dim),
            pos_embed: pos.requires_grad(),
            encoder: TransformerEncoder::new(layer, c.depth, Some(LayerNorm::new(c.dim)))?,
            head: Linear::new(c.dim, c.classes),
            config: c.clone(),
        })
    }
}

impl Forward for VisionTransformer {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let x = x.affine(1.0 / STD, -MEAN / STD)?;
        let tokens = self.patch_embed.forward(&self.patches(&x)?)?.add(&self.pos_embed)?;
        let h = self.encoder.forward(&tokens, None, None, false)?;
        // Mean pooling over the tokens rather than a class token.
        self.head.forward(&h.mean_dim(1usize, false)?)
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
            VisionTransformer::from_module_config(&VitConfig {
                patch: 7,
                dim: 64,
                depth: 3,
                heads: 4,
                mlp_dim: 128,
                dropout: 0.2,
                classes: 10,
            })
        },
        VisionTransformer::load,
    )
}
