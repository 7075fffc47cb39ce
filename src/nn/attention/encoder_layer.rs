//! One Transformer encoder block, PyTorch's `nn.TransformerEncoderLayer`.

use super::multihead::{MultiheadAttention, MultiheadAttentionConfig};
use crate::nn::{Configurable, Dropout, Forward, LayerNorm, Linear, Module};
use crate::{Error, Result, Tensor};
use serde::{Deserialize, Serialize};

const OP: &str = "TransformerEncoderLayer";

/// The activation of the feed-forward block (PyTorch's `activation="relu"` / `"gelu"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransformerActivation {
    /// `max(x, 0)`, PyTorch's default.
    #[default]
    Relu,
    /// The exact (erf) GELU.
    Gelu,
}

impl TransformerActivation {
    fn apply(self, x: &Tensor) -> Result<Tensor> {
        match self {
            TransformerActivation::Relu => x.relu(),
            TransformerActivation::Gelu => x.gelu(),
        }
    }
}

/// The hyperparameters of a [`TransformerEncoderLayer`], with PyTorch's names
/// and defaults (filled in by [`TransformerEncoderLayerConfig::new`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformerEncoderLayerConfig {
    /// Model width.
    pub d_model: usize,
    /// Attention heads; must divide `d_model`.
    pub nhead: usize,
    /// Width of the feed-forward block (default 2048).
    pub dim_feedforward: usize,
    /// Dropout probability everywhere in the block (default 0.1).
    pub dropout: f64,
    /// Feed-forward activation (default ReLU).
    pub activation: TransformerActivation,
    /// The layer norms' eps (default 1e-5).
    pub layer_norm_eps: f64,
    /// `(N, S, E)` rather than `(S, N, E)` inputs (default false).
    pub batch_first: bool,
    /// Pre-norm (`x + f(norm(x))`) rather than post-norm (`norm(x + f(x))`), default false.
    pub norm_first: bool,
    /// Biases in the linear layers, the attention and the norms (default true).
    pub bias: bool,
}

impl TransformerEncoderLayerConfig {
    /// PyTorch's defaults for `d_model` and `nhead`.
    pub fn new(d_model: usize, nhead: usize) -> TransformerEncoderLayerConfig {
        TransformerEncoderLayerConfig {
            d_model,
            nhead,
            dim_feedforward: 2048,
            dropout: 0.1,
            activation: TransformerActivation::Relu,
            layer_norm_eps: 1e-5,
            batch_first: false,
            norm_first: false,
            bias: true,
        }
    }
}

/// Self-attention then a feed-forward block, each with a residual connection,
/// dropout and layer normalisation, PyTorch's `nn.TransformerEncoderLayer`.
///
/// Post-norm (default): `x = norm1(x + sa(x)); x = norm2(x + ff(x))`;
/// pre-norm (`norm_first`): `x = x + sa(norm1(x)); x = x + ff(norm2(x))`, where
/// `ff(x) = dropout2(linear2(dropout(activation(linear1(x)))))` and `sa` is
/// `dropout1` after the [`MultiheadAttention`] `self_attn`. Dropout acts in
/// training mode only.
///
/// # Shapes
/// - `src`: `(S, N, E)`, or `(N, S, E)` with `batch_first`, or `(S, E)` unbatched
/// - `src_mask`: `(S, S)` or `(N * nhead, S, S)`
/// - `src_key_padding_mask`: `(N, S)` (`(S)` unbatched)
/// - output: the shape of `src`
///
/// # Parameters
/// `self_attn.in_proj_weight`, `self_attn.in_proj_bias`,
/// `self_attn.out_proj.{weight,bias}`, `linear1.{weight,bias}`,
/// `linear2.{weight,bias}`, `norm1.{weight,bias}`, `norm2.{weight,bias}`
/// (PyTorch's names, so state_dicts move across).
///
/// ```
/// use neurite::nn::{Module, TransformerEncoderLayer, TransformerEncoderLayerConfig};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let cfg = TransformerEncoderLayerConfig { dim_feedforward: 32, batch_first: true, ..TransformerEncoderLayerConfig::new(8, 2) };
/// let mut layer = TransformerEncoderLayer::try_new(&cfg)?;
/// layer.eval();
/// let x = Tensor::randn((4, 6, 8), DType::F32, &Device::cpu())?;
/// assert_eq!(layer.forward(&x, None, None, false)?.dims(), &[4, 6, 8]);
/// # Ok(()) }
/// ```
#[derive(Module)]
#[module(config)]
pub struct TransformerEncoderLayer {
    self_attn: MultiheadAttention,
    linear1: Linear,
    dropout: Dropout,
    linear2: Linear,
    norm1: LayerNorm,
    norm2: LayerNorm,
    dropout1: Dropout,
    dropout2: Dropout,
    #[module(skip)]
    config: TransformerEncoderLayerConfig,
}

impl TransformerEncoderLayer {
    /// A layer of width `d_model` with `nhead` heads and PyTorch's other
    /// defaults. Never fails: invalid values are reported by
    /// [`TransformerEncoderLayer::validate`] and `forward`.
    pub fn new(d_model: usize, nhead: usize) -> TransformerEncoderLayer {
        TransformerEncoderLayer::build(&TransformerEncoderLayerConfig::new(d_model, nhead))
    }

    /// A layer with every hyperparameter, validated now.
    pub fn try_new(config: &TransformerEncoderLayerConfig) -> Result<TransformerEncoderLayer> {
        let layer = TransformerEncoderLayer::build(config);
        layer.validate()?;
        Ok(layer)
    }

    fn build(c: &TransformerEncoderLayerConfig) -> TransformerEncoderLayer {
        let attn = MultiheadAttentionConfig {
            dropout: c.dropout,
            bias: c.bias,
            batch_first: c.batch_first,
            ..MultiheadAttentionConfig::new(c.d_model, c.nhead)
        };
        let norm = || LayerNorm::new(c.d_model).with_eps(c.layer_norm_eps).with_bias(c.bias);
        TransformerEncoderLayer {
            self_attn: MultiheadAttention::build(&attn),
            linear1: Linear::new(c.d_model, c.dim_feedforward).with_bias(c.bias),
            dropout: Dropout::new(c.dropout),
            linear2: Linear::new(c.dim_feedforward, c.d_model).with_bias(c.bias),
            norm1: norm(),
            norm2: norm(),
            dropout1: Dropout::new(c.dropout),
            dropout2: Dropout::new(c.dropout),
            config: c.clone(),
        }
    }

    /// Checks every hyperparameter and that the parameters could be created.
    pub fn validate(&self) -> Result<()> {
        let in_layer = |e: Error| Error::invalid(OP, e.to_string());
        self.self_attn.validate().map_err(in_layer)?;
        self.linear1.validate().map_err(in_layer)?;
        self.linear2.validate().map_err(in_layer)?;
        self.norm1.validate().map_err(in_layer)?;
        self.dropout.validate().map_err(in_layer)
    }

    /// The hyperparameters.
    pub fn hyperparameters(&self) -> &TransformerEncoderLayerConfig {
        &self.config
    }

    /// The self-attention block.
    pub fn self_attn(&self) -> &MultiheadAttention {
        &self.self_attn
    }

    /// Applies the block, PyTorch's `forward(src, src_mask,
    /// src_key_padding_mask, is_causal)`. Masks follow
    /// [`MultiheadAttention::forward`]: boolean (nonzero = not attended) or
    /// float (added); `is_causal` is the hint that `src_mask` is causal and
    /// needs it. See the type's `# Shapes`.
    pub fn forward(
        &self,
        src: &Tensor,
        src_mask: Option<&Tensor>,
        src_key_padding_mask: Option<&Tensor>,
        is_causal: bool,
    ) -> Result<Tensor> {
        self.validate()?;
        let sa = |x: &Tensor| -> Result<Tensor> {
            let (y, _) = self
                .self_attn
                .forward(x, x, x, src_key_padding_mask, false, src_mask, true, is_causal)?;
            self.dropout1.forward(&y)
        };
        let ff = |x: &Tensor| -> Result<Tensor> {
            let h = self.config.activation.apply(&self.linear1.forward(x)?)?;
            self.dropout2
                .forward(&self.linear2.forward(&self.dropout.forward(&h)?)?)
        };
        if self.config.norm_first {
            let x = src.add(&sa(&self.norm1.forward(src)?)?)?;
            x.add(&ff(&self.norm2.forward(&x)?)?)
        } else {
            let x = self.norm1.forward(&src.add(&sa(src)?)?)?;
            self.norm2.forward(&x.add(&ff(&x)?)?)
        }
    }
}

impl Configurable for TransformerEncoderLayer {
    type Config = TransformerEncoderLayerConfig;

    fn module_config(&self) -> TransformerEncoderLayerConfig {
        self.config.clone()
    }

    fn from_module_config(config: &TransformerEncoderLayerConfig) -> Result<TransformerEncoderLayer> {
        TransformerEncoderLayer::try_new(config)
    }
}
