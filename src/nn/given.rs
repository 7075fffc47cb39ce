//! Checks shared by the layers built from given tensors
//! (`Linear::from_tensors`, `Conv2d::from_tensors`, `Embedding::from_pretrained`).

use crate::{Error, Result, Tensor};

/// `t` as a trainable leaf of a layer after checking its rank and dtype. The
/// leaf shares `t`'s storage (PyTorch's `nn.Parameter(t)`), so updates by an
/// optimizer are visible through `t`.
pub(crate) fn parameter(op: &'static str, what: &str, t: &Tensor, rank: usize) -> Result<Tensor> {
    if t.rank() != rank {
        return Err(Error::invalid(
            op,
            format!("the {what} must have {rank} dimensions, got shape {}", t.shape()),
        ));
    }
    if !t.dtype().is_float() {
        return Err(Error::invalid(
            op,
            format!("the {what} must be a floating-point tensor, got {}", t.dtype()),
        ));
    }
    let leaf = t.detach();
    leaf.set_requires_grad(true);
    Ok(leaf)
}

/// A bias of `len` values with the weight's dtype and device.
pub(crate) fn bias(op: &'static str, bias: Option<&Tensor>, weight: &Tensor, len: usize) -> Result<Option<Tensor>> {
    let Some(b) = bias else { return Ok(None) };
    let b = parameter(op, "bias", b, 1)?;
    if b.dims()[0] != len {
        return Err(Error::invalid(
            op,
            format!(
                "the bias must have {len} values (one per output of weight {}), got shape {}",
                weight.shape(),
                b.shape()
            ),
        ));
    }
    if b.dtype() != weight.dtype() || b.device() != weight.device() {
        return Err(Error::invalid(
            op,
            format!(
                "the bias is {} on {}, the weight {} on {}: they must match",
                b.dtype(),
                b.device(),
                weight.dtype(),
                weight.device()
            ),
        ));
    }
    Ok(Some(b))
}
