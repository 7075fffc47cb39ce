//! Scaled dot-product attention, `torch.nn.functional.scaled_dot_product_attention`.

use super::mask::{TrueMeans, additive_mask, causal_mask};
use crate::nn::{Dropout, Forward};
use crate::{Error, Result, Shape, Tensor};

const OP: &str = "scaled_dot_product_attention";

/// `softmax(query @ key^T * scale + attn_mask) @ value`, PyTorch's
/// `torch.nn.functional.scaled_dot_product_attention`.
///
/// - `attn_mask`: a float mask is added to the scores; a boolean mask (any
///   non-float dtype: `I64` 0/1 today) lets a query attend where it is
///   nonzero, as in PyTorch (the opposite of `nn.MultiheadAttention`'s masks).
///   It must broadcast to `(*, L, S)`.
/// - `dropout_p`: dropout on the attention weights, always applied when
///   positive (the functional form has no mode, as in PyTorch: pass 0 in
///   evaluation).
/// - `is_causal`: query `i` attends keys `0..=i` only (top-left aligned when
///   `L != S`); it cannot be combined with `attn_mask`.
/// - `scale`: defaults to `1 / sqrt(E)`.
///
/// A query whose every key is masked gets NaN weights, as in PyTorch.
///
/// # Shapes
/// - `query`: `(*, L, E)`, `key`: `(*, S, E)`, `value`: `(*, S, Ev)`, where
///   the batch dims `*` broadcast
/// - `attn_mask`: broadcastable to `(*, L, S)`
/// - output: `(*, L, Ev)`
///
/// ```
/// use neurite::nn::functional::scaled_dot_product_attention;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let q = Tensor::randn((2, 4, 5, 8), DType::F32, &dev)?;
/// let kv = Tensor::randn((2, 4, 7, 8), DType::F32, &dev)?;
/// let y = scaled_dot_product_attention(&q, &kv, &kv, None, 0.0, false, None)?;
/// assert_eq!(y.dims(), &[2, 4, 5, 8]);
/// # Ok(()) }
/// ```
pub fn scaled_dot_product_attention(
    query: &Tensor,
    key: &Tensor,
    value: &Tensor,
    attn_mask: Option<&Tensor>,
    dropout_p: f64,
    is_causal: bool,
    scale: Option<f64>,
) -> Result<Tensor> {
    let (l, s) = check_qkv(query, key, value)?;
    check_dropout(OP, dropout_p)?;
    let scale = match scale {
        Some(v) if !v.is_finite() => {
            return Err(Error::invalid(OP, format!("scale must be finite, got {v}")));
        }
        Some(v) => v,
        None => default_scale(query.dims()[query.rank() - 1]),
    };
    let mask = match (attn_mask, is_causal) {
        (Some(_), true) => {
            return Err(Error::invalid(
                OP,
                "an explicit attn_mask cannot be combined with is_causal = true",
            ));
        }
        (Some(m), false) => {
            let scores = scores_shape(query, key, value)?;
            let fits = m.shape().broadcast_with(&scores, OP).ok().as_ref() == Some(&scores);
            if !fits {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "attn_mask of shape {} does not broadcast to the scores' shape {scores} (*, L={l}, S={s})",
                        m.shape()
                    ),
                ));
            }
            Some(additive_mask(m, query.dtype(), TrueMeans::Allowed)?)
        }
        (None, true) => Some(causal_mask(l, s, query.dtype(), &query.device())?),
        (None, false) => None,
    };
    Ok(attend(query, key, value, mask.as_ref(), dropout_p, scale)?.0)
}

/// `1 / sqrt(head_dim)`, PyTorch's default scale (1 for an empty head).
pub(crate) fn default_scale(head_dim: usize) -> f64 {
    if head_dim == 0 {
        1.0
    } else {
        1.0 / (head_dim as f64).sqrt()
    }
}

/// Errors unless `p` is a probability.
pub(crate) fn check_dropout(op: &'static str, p: f64) -> Result<()> {
    if !(0.0..=1.0).contains(&p) {
        return Err(Error::invalid(
            op,
            format!("dropout probability must be in [0, 1], got {p}"),
        ));
    }
    Ok(())
}

/// `(L, S)` after checking that the operands are float matrices (or batches
/// of them) of one dtype and device with agreeing sizes.
fn check_qkv(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<(usize, usize)> {
    q.same_dtype_device(k, OP)?;
    q.same_dtype_device(v, OP)?;
    q.require_float(OP)?;
    if q.rank() < 2 || k.rank() < 2 || v.rank() < 2 {
        return Err(Error::invalid(
            OP,
            format!(
                "query, key and value need rank 2 or more ((*, L, E), (*, S, E), (*, S, Ev)), got shapes {}, {} and {}",
                q.shape(),
                k.shape(),
                v.shape()
            ),
        ));
    }
    let (e, ek) = (q.dims()[q.rank() - 1], k.dims()[k.rank() - 1]);
    let (s, sv) = (k.dims()[k.rank() - 2], v.dims()[v.rank() - 2]);
    if e != ek || s != sv {
        return Err(Error::invalid(
            OP,
            format!(
                "expected query (*, L, E), key (*, S, E) and value (*, S, Ev), got shapes {}, {} and {}",
                q.shape(),
                k.shape(),
                v.shape()
            ),
        ));
    }
    scores_shape(q, k, v)?;
    Ok((q.dims()[q.rank() - 2], s))
}

/// `(*, L, S)`, the batch dims of the three operands broadcast together.
fn scores_shape(q: &Tensor, k: &Tensor, v: &Tensor) -> Result<Shape> {
    let batch = |t: &Tensor| Shape::from(&t.dims()[..t.rank() - 2]);
    let b = batch(q).broadcast_with(&batch(k), OP)?.broadcast_with(&batch(v), OP)?;
    let mut dims = b.dims().to_vec();
    dims.extend([q.dims()[q.rank() - 2], k.dims()[k.rank() - 2]]);
    Ok(Shape::from(dims))
}

/// The attention output and the weights it used (after dropout), for inputs
/// already checked: `mask` is additive and of the operands' dtype.
pub(crate) fn attend(
    q: &Tensor,
    k: &Tensor,
    v: &Tensor,
    mask: Option<&Tensor>,
    dropout_p: f64,
    scale: f64,
) -> Result<(Tensor, Tensor)> {
    // Scaling the query (L x E) rather than the scores (L x S), as PyTorch does.
    let scores = q.mul_scalar(scale)?.matmul(&k.transpose(-2i64, -1i64)?)?;
    let scores = match mask {
        Some(m) => scores.add(m)?,
        None => scores,
    };
    let mut weights = scores.softmax(-1i64)?;
    if dropout_p > 0.0 {
        // A fresh Dropout is in training mode: the functional form always drops.
        weights = Dropout::new(dropout_p).forward(&weights)?;
    }
    Ok((weights.matmul(v)?, weights))
}
