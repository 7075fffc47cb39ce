//! Attention masks: boolean or float masks turned into the float mask that is
//! added to the attention scores, and the causal mask.

use crate::{DType, Device, Result, Tensor};

/// What a nonzero entry of a boolean mask means. PyTorch's two conventions
/// disagree: `nn.MultiheadAttention` masks where the mask is true, while
/// `F.scaled_dot_product_attention` lets attend where it is true.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TrueMeans {
    /// Nonzero = the position is masked (`nn.MultiheadAttention`'s masks).
    Masked,
    /// Nonzero = the position takes part (`F.scaled_dot_product_attention`).
    Allowed,
}

/// `mask` as an additive float mask of `dtype`: a float mask is used as it is
/// (cast to `dtype`); a `Bool` mask, or an integer one read as nonzero = true,
/// becomes 0 where attention is allowed and `-inf` where it is not, as
/// PyTorch's `_canonical_mask` does.
pub(crate) fn additive_mask(mask: &Tensor, dtype: DType, true_means: TrueMeans) -> Result<Tensor> {
    if mask.dtype().is_float() {
        return if mask.dtype() == dtype {
            Ok(mask.clone())
        } else {
            mask.to_dtype(dtype)
        };
    }
    let flags = if mask.dtype() == DType::Bool {
        mask.clone()
    } else {
        mask.ne_scalar(0.0)?
    };
    let dev = mask.device();
    let blocked = Tensor::full(f64::NEG_INFINITY, (), dtype, &dev)?;
    let open = Tensor::zeros((), dtype, &dev)?;
    match true_means {
        TrueMeans::Masked => flags.where_cond(&blocked, &open),
        TrueMeans::Allowed => flags.where_cond(&open, &blocked),
    }
}

/// The `(target_len, source_len)` additive causal mask: query `i` may attend
/// keys `0..=i` (PyTorch's `ones(L, S).tril()`, aligned at the top left),
/// later keys get `-inf`.
pub(crate) fn causal_mask(target_len: usize, source_len: usize, dtype: DType, device: &Device) -> Result<Tensor> {
    // Indices as f32 are exact up to 2^24, far beyond any attention length.
    let rows = Tensor::arange(0.0, target_len as f64, 1.0, DType::F32, device)?.reshape((target_len, 1))?;
    let cols = Tensor::arange(0.0, source_len as f64, 1.0, DType::F32, device)?.reshape((1, source_len))?;
    // The comparison gives a `Bool` mask, which selects.
    let later = cols.gt(&rows)?;
    let blocked = Tensor::full(f64::NEG_INFINITY, (), dtype, device)?;
    let open = Tensor::zeros((), dtype, device)?;
    later.where_cond(&blocked, &open)
}
