//! `quantize_dynamic`: a model's layers replaced by their dynamically
//! quantized forms, as PyTorch's `torch.ao.quantization.quantize_dynamic`.

use super::QuantizedLinear;
use crate::nn::{LayerConfig, Module, Sequential, SequentialConfig};
use crate::{Error, Result, Tensor};
use std::collections::HashMap;

const OP: &str = "quantize_dynamic";

/// Layer kinds that have a dynamically quantized form.
pub const DYNAMIC_QUANTIZABLE: [&str; 1] = ["Linear"];

/// A copy of `model` with every layer whose kind is listed in `kinds` (and in
/// nested `Sequential`s) replaced by its int8 form; other layers keep their
/// weights. `kinds` names layer types as PyTorch's `qconfig_spec` does
/// (`&["Linear"]`); a kind with no dynamic quantized form (`"Conv2d"`:
/// use static quantization) or a model with no layer to quantize is an error.
/// The result is in evaluation mode, on the model's device; save and load it
/// like any `Sequential` (its configuration records the quantized layers).
///
/// ```
/// use neurite::nn::{Forward, Linear, Module, ReLU, Sequential};
/// use neurite::quant::quantize_dynamic;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new().add(Linear::new(8, 16)).add(ReLU).add(Linear::new(16, 2));
/// let q = quantize_dynamic(&model, &["Linear"])?;
/// assert_eq!(q.layer(0).unwrap().name(), "QuantizedLinear");
/// let x = Tensor::randn((4, 8), DType::F32, &Device::cpu())?;
/// assert_eq!(q.forward(&x)?.dims(), &[4, 2]);
/// assert!(quantize_dynamic(&model, &["Conv2d"]).is_err());
/// # Ok(()) }
/// ```
pub fn quantize_dynamic(model: &Sequential, kinds: &[&str]) -> Result<Sequential> {
    if kinds.is_empty() {
        return Err(Error::invalid(
            OP,
            "no layer kind to quantize was given (e.g. &[\"Linear\"])",
        ));
    }
    if let Some(k) = kinds.iter().find(|k| !DYNAMIC_QUANTIZABLE.contains(k)) {
        return Err(Error::invalid(
            OP,
            format!(
                "{k} has no dynamically quantized form; dynamic quantization covers {DYNAMIC_QUANTIZABLE:?} \
                 (convolutions need static quantization with calibration data)"
            ),
        ));
    }
    let mut config = model.to_config()?;
    let mut replaced = 0;
    replace_linear(&mut config, &mut replaced);
    if replaced == 0 {
        return Err(Error::invalid(
            OP,
            format!("the model has no layer of the kinds {kinds:?} to quantize"),
        ));
    }
    let device = model.device().unwrap_or(crate::Device::Cpu);
    let mut quantized = Sequential::from_config(&config, &device)?;
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut inside_linear: Vec<String> = Vec::new();
    for (path, m) in model.named_modules() {
        if let Ok(LayerConfig::Linear { .. }) = m.config() {
            let linear = linear_of(m)?;
            let q =
                QuantizedLinear::from_linear(&linear).map_err(|e| Error::invalid(OP, format!("layer {path}: {e}")))?;
            for (n, t) in q.named_tensors() {
                tensors.insert(format!("{path}.{n}"), t);
            }
            inside_linear.push(format!("{path}."));
        }
    }
    for (n, t) in model.named_tensors() {
        if !inside_linear.iter().any(|p| n.starts_with(p.as_str())) {
            tensors.insert(n, t);
        }
    }
    crate::no_grad(|| quantized.load_named_tensors(&tensors))?;
    quantized.eval();
    Ok(quantized)
}

/// A `Linear` sharing the weight and bias of `m`, a module whose configuration
/// says it is one.
fn linear_of(m: &dyn Module) -> Result<crate::nn::Linear> {
    let params: HashMap<String, Tensor> = m.named_parameters().into_iter().collect();
    let weight = params
        .get("weight")
        .ok_or_else(|| Error::invalid(OP, format!("{} has no weight", m.name())))?;
    crate::nn::Linear::from_tensors(weight.detach(), params.get("bias").map(|b| b.detach()))
}

fn replace_linear(config: &mut SequentialConfig, replaced: &mut usize) {
    for layer in &mut config.layers {
        match layer {
            LayerConfig::Linear {
                in_features,
                out_features,
                bias,
            } => {
                *layer = LayerConfig::QuantizedLinear {
                    in_features: *in_features,
                    out_features: *out_features,
                    bias: *bias,
                    static_input: false,
                };
                *replaced += 1;
            }
            LayerConfig::Sequential(inner) => replace_linear(inner, replaced),
            _ => {}
        }
    }
}
