//! Batch-norm folding over a whole [`Sequential`]: every top-level
//! `Conv2d` + `BatchNorm2d` and `Linear` + `BatchNorm1d` pair becomes one
//! layer, as PyTorch's `torch.ao.quantization.fuse_modules` does for the
//! pairs it is given.

use super::config::LayerConfig;
use super::fusion::{BnStats, check_layout, fold};
use super::{Module, Sequential};
use crate::{Error, Result, Tensor};
use std::collections::HashMap;

const OP: &str = "fuse_batch_norms";

/// A copy of `model` in evaluation mode in which each top-level `Conv2d`
/// directly followed by a `BatchNorm2d`, and each `Linear` directly followed
/// by a `BatchNorm1d`, is replaced by one layer computing `bn(layer(x))` with
/// the batch norm's running statistics (see [`fuse_conv_bn_eval`](super::fuse_conv_bn_eval)).
/// The other layers are kept, with their tensors; the layers are renumbered,
/// so the names of the tensors after a fused pair change (`"4.weight"` may
/// become `"3.weight"`). The original model is untouched.
///
/// A `Linear` + `BatchNorm1d` pair is folded on the understanding that the
/// batch norm normalises the linear's output features, as on `(N, F)`
/// inputs; on `(N, C, L)` inputs a `BatchNorm1d` normalises dim 1 instead,
/// which folding cannot express.
///
/// Errors when the model has no such pair, when a pair's sizes, dtypes or
/// devices differ, or when a layer has no configuration (a custom module).
///
/// ```
/// use neurite::nn::{BatchNorm2d, Conv2d, Forward, Module, ReLU, Sequential, fuse_batch_norms};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut model = Sequential::new()
///     .add(Conv2d::new(1, 4, 3).with_padding(1))
///     .add(BatchNorm2d::new(4))
///     .add(ReLU);
/// let x = Tensor::randn((2, 1, 6, 6), DType::F32, &Device::cpu())?;
/// model.forward(&x)?; // gathers running statistics
/// model.eval();
/// let fused = fuse_batch_norms(&model)?;
/// assert_eq!(fused.len(), 2);
/// let diff = fused.forward(&x)?.sub(&model.forward(&x)?)?;
/// assert!(diff.abs()?.max_all()?.to_scalar::<f32>()? < 1e-5);
/// # Ok(()) }
/// ```
pub fn fuse_batch_norms(model: &Sequential) -> Result<Sequential> {
    let configs = model.to_config()?.layers;
    let mut layers = Vec::with_capacity(configs.len());
    let mut tensors: HashMap<String, Tensor> = HashMap::new();
    let mut fused = 0usize;
    let mut i = 0;
    while i < configs.len() {
        let new_index = layers.len();
        let next = configs.get(i + 1);
        let pair = match (&configs[i], next) {
            (LayerConfig::Conv2d { .. }, Some(LayerConfig::BatchNorm2d { num_features, eps, .. }))
            | (LayerConfig::Linear { .. }, Some(LayerConfig::BatchNorm1d { num_features, eps, .. })) => {
                Some((*num_features, *eps))
            }
            _ => None,
        };
        let Some((num_features, eps)) = pair else {
            layers.push(configs[i].clone());
            for (n, t) in layer_tensors(model, i)? {
                tensors.insert(format!("{new_index}.{n}"), t);
            }
            i += 1;
            continue;
        };
        let (weight, bias) = fold_pair(model, i, num_features, eps)?;
        let mut config = configs[i].clone();
        match &mut config {
            LayerConfig::Conv2d { bias, .. } | LayerConfig::Linear { bias, .. } => *bias = true,
            _ => {}
        }
        layers.push(config);
        tensors.insert(format!("{new_index}.weight"), weight);
        tensors.insert(format!("{new_index}.bias"), bias);
        fused += 1;
        i += 2;
    }
    if fused == 0 {
        return Err(Error::invalid(
            OP,
            "the model has no Conv2d followed by a BatchNorm2d, nor Linear followed by a BatchNorm1d, at its top level",
        ));
    }
    let device = model.device().unwrap_or(crate::Device::Cpu);
    let mut out = Sequential::from_config(&super::SequentialConfig { layers }, &device)?;
    crate::no_grad(|| out.load_named_tensors(&tensors))?;
    out.eval();
    Ok(out)
}

fn layer_tensors(model: &Sequential, i: usize) -> Result<Vec<(String, Tensor)>> {
    let layer = model
        .layer(i)
        .ok_or_else(|| Error::invalid(OP, format!("layer {i} is missing")))?;
    Ok(layer
        .named_tensors()
        .into_iter()
        .map(|(n, t)| (n, t.detach()))
        .collect())
}

/// The folded weight and bias of layer `i` and the batch norm at `i + 1`.
fn fold_pair(model: &Sequential, i: usize, num_features: usize, eps: f64) -> Result<(Tensor, Tensor)> {
    let layer: HashMap<String, Tensor> = layer_tensors(model, i)?.into_iter().collect();
    let bn: HashMap<String, Tensor> = layer_tensors(model, i + 1)?.into_iter().collect();
    let weight = get(&layer, "weight", &i.to_string())?;
    let out_channels = weight.dims().first().copied().unwrap_or(0);
    if out_channels != num_features {
        return Err(Error::invalid(
            OP,
            format!(
                "layer {i} has {out_channels} output channels (weight {}) but the batch norm after it has {num_features} features",
                weight.shape()
            ),
        ));
    }
    let stats = BnStats {
        mean: get(&bn, "running_mean", &(i + 1).to_string())?,
        var: get(&bn, "running_var", &(i + 1).to_string())?,
        gamma: bn.get("weight"),
        beta: bn.get("bias"),
        eps,
    };
    check_layout(OP, (&format!("layer {i}"), weight), ("batch norm", stats.mean))?;
    fold(weight, layer.get("bias"), &stats)
}

fn get<'a>(m: &'a HashMap<String, Tensor>, name: &str, what: &str) -> Result<&'a Tensor> {
    m.get(name)
        .ok_or_else(|| Error::invalid(OP, format!("layer {what} has no `{name}` tensor")))
}
