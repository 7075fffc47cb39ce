//! A stack of encoder layers, PyTorch's `nn.TransformerEncoder`.

use super::encoder_layer::{TransformerEncoderLayer, TransformerEncoderLayerConfig};
use crate::nn::{Configurable, Forward, LayerNorm, Module};
use crate::{Error, Result, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The final [`LayerNorm`] of a [`TransformerEncoder`], described by its hyperparameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EncoderNormConfig {
    /// The normalised trailing shape (usually `[d_model]`).
    pub normalized_shape: Vec<usize>,
    /// eps.
    pub eps: f64,
    /// With a learnable scale (and shift).
    pub elementwise_affine: bool,
    /// With a learnable shift.
    pub bias: bool,
}

impl EncoderNormConfig {
    fn of(norm: &LayerNorm) -> EncoderNormConfig {
        EncoderNormConfig {
            normalized_shape: norm.normalized_shape().dims().to_vec(),
            eps: norm.eps(),
            elementwise_affine: norm.weight().is_some(),
            bias: norm.bias().is_some(),
        }
    }

    fn build(&self) -> Result<LayerNorm> {
        let n = LayerNorm::try_new(self.normalized_shape.clone(), self.eps, self.elementwise_affine)?;
        Ok(if self.elementwise_affine {
            n.with_bias(self.bias)
        } else {
            n
        })
    }
}

/// The hyperparameters of a [`TransformerEncoder`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TransformerEncoderConfig {
    /// Every layer's hyperparameters.
    pub layer: TransformerEncoderLayerConfig,
    /// How many layers.
    pub num_layers: usize,
    /// The optional final normalisation.
    pub norm: Option<EncoderNormConfig>,
}

/// `num_layers` copies of an encoder layer applied in turn, then an optional
/// final [`LayerNorm`], PyTorch's `nn.TransformerEncoder` (its nested-tensor
/// fast path aside: padded positions are computed, not zeroed).
///
/// As in PyTorch every layer starts as a copy of the given one (same
/// weights, mode, dtype and device); they are trained independently.
///
/// # Shapes
/// As [`TransformerEncoderLayer`]: `src` `(S, N, E)` (or `(N, S, E)` with
/// `batch_first`, or `(S, E)`), `mask` `(S, S)` or `(N * nhead, S, S)`,
/// `src_key_padding_mask` `(N, S)`; the output has the shape of `src`.
///
/// # Parameters
/// `layers.{i}.*` (each layer's names), `norm.weight`, `norm.bias`.
///
/// ```
/// use neurite::nn::{LayerNorm, Module, TransformerEncoder, TransformerEncoderLayer};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut enc = TransformerEncoder::new(TransformerEncoderLayer::new(8, 2), 2, Some(LayerNorm::new(8)))?;
/// enc.eval();
/// let names: Vec<String> = enc.named_parameters().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names[0], "layers.0.self_attn.in_proj_weight");
/// assert_eq!(names.last().unwrap(), "norm.bias");
/// let x = Tensor::randn((5, 3, 8), DType::F32, &Device::cpu())?; // (S, N, E)
/// assert_eq!(enc.forward(&x, None, None, false)?.dims(), &[5, 3, 8]);
/// # Ok(()) }
/// ```
#[derive(Module)]
#[module(config)]
pub struct TransformerEncoder {
    layers: Vec<TransformerEncoderLayer>,
    norm: Option<LayerNorm>,
}

impl TransformerEncoder {
    /// `num_layers` copies of `encoder_layer` (PyTorch deep-copies it), then `norm`.
    pub fn new(
        encoder_layer: TransformerEncoderLayer,
        num_layers: usize,
        norm: Option<LayerNorm>,
    ) -> Result<TransformerEncoder> {
        encoder_layer.validate()?;
        if let Some(n) = &norm {
            n.validate()?;
        }
        let mut layers = Vec::with_capacity(num_layers);
        for _ in 1..num_layers {
            layers.push(copy_of(&encoder_layer)?);
        }
        if num_layers > 0 {
            layers.insert(0, encoder_layer);
        }
        Ok(TransformerEncoder { layers, norm })
    }

    /// The layers, in order.
    pub fn layers(&self) -> &[TransformerEncoderLayer] {
        &self.layers
    }

    /// The final normalisation, if any.
    pub fn norm(&self) -> Option<&LayerNorm> {
        self.norm.as_ref()
    }

    /// Applies every layer then the norm, PyTorch's `forward(src, mask,
    /// src_key_padding_mask, is_causal)`; the masks and the hint go to every
    /// layer (see [`TransformerEncoderLayer::forward`]).
    pub fn forward(
        &self,
        src: &Tensor,
        mask: Option<&Tensor>,
        src_key_padding_mask: Option<&Tensor>,
        is_causal: bool,
    ) -> Result<Tensor> {
        let mut x = src.clone();
        for layer in &self.layers {
            x = layer.forward(&x, mask, src_key_padding_mask, is_causal)?;
        }
        match &self.norm {
            Some(n) => n.forward(&x),
            None => Ok(x),
        }
    }
}

/// A new layer with `layer`'s hyperparameters, weights, mode, dtype and device.
fn copy_of(layer: &TransformerEncoderLayer) -> Result<TransformerEncoderLayer> {
    let mut copy = TransformerEncoderLayer::try_new(layer.hyperparameters())?;
    let tensors = layer.named_tensors();
    if let Some((_, t)) = tensors.first() {
        if t.dtype() != crate::DType::F32 {
            copy.to_dtype(t.dtype())?;
        }
        copy.to_device(&t.device())?;
    }
    let map: HashMap<String, Tensor> = tensors.into_iter().collect();
    copy.load_named_tensors(&map)?;
    copy.set_training(layer.is_training());
    Ok(copy)
}

impl Configurable for TransformerEncoder {
    type Config = TransformerEncoderConfig;

    fn module_config(&self) -> TransformerEncoderConfig {
        let layer = self
            .layers
            .first()
            .map(|l| l.hyperparameters().clone())
            .unwrap_or_else(|| TransformerEncoderLayerConfig::new(0, 0));
        TransformerEncoderConfig {
            layer,
            num_layers: self.layers.len(),
            norm: self.norm.as_ref().map(EncoderNormConfig::of),
        }
    }

    fn from_module_config(c: &TransformerEncoderConfig) -> Result<TransformerEncoder> {
        if c.num_layers == 0 {
            return Err(Error::invalid(
                "TransformerEncoder",
                "a configuration needs at least one layer (num_layers = 0)",
            ));
        }
        let norm = c.norm.as_ref().map(EncoderNormConfig::build).transpose()?;
        TransformerEncoder::new(TransformerEncoderLayer::try_new(&c.layer)?, c.num_layers, norm)
    }
}
