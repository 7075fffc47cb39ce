//! Binary cross-entropy, on probabilities and on logits.

use super::reduction::same_shape;
use super::{Loss, Reduction};
use crate::autograd::Node;
use crate::{DType, Error, Result, Tensor};

/// Binary cross-entropy of probabilities `input` in `[0, 1]` against targets
/// in `[0, 1]`, mean-reduced, PyTorch's `binary_cross_entropy`. Use
/// [`binary_cross_entropy_with_logits`] on raw scores: it is more stable.
pub fn binary_cross_entropy(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    BceLoss::new().forward(input, target)
}

/// Binary cross-entropy of raw scores (logits) against targets in `[0, 1]`,
/// mean-reduced, PyTorch's `binary_cross_entropy_with_logits`.
pub fn binary_cross_entropy_with_logits(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    BceWithLogitsLoss::new().forward(input, target)
}

/// `-(y log p + (1 - y) log(1 - p))` per element, with each logarithm clamped
/// at -100 as PyTorch does (so `p = 0` or `1` gives a finite loss), PyTorch's
/// `nn.BCELoss`.
///
/// The gradient is PyTorch's `(p - y) / max(p (1 - p), 1e-12)`. Input values
/// outside `[0, 1]` (NaN included) are an error naming the first one, as
/// PyTorch's "all elements of input should be between 0 and 1"; the check
/// reads one value back from the device.
///
/// # Shapes
/// `input` and `target` of one shape; `weight` broadcastable to it.
#[derive(Clone, Debug, Default)]
pub struct BceLoss {
    /// Per-element rescaling, broadcast against the input.
    pub weight: Option<Tensor>,
    /// Mean (default), sum or none.
    pub reduction: Reduction,
}

impl BceLoss {
    /// Mean reduction, no weight.
    pub fn new() -> BceLoss {
        BceLoss::default()
    }

    /// Sets the per-element weight.
    pub fn with_weight(mut self, weight: Tensor) -> BceLoss {
        self.weight = Some(weight);
        self
    }

    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> BceLoss {
        self.reduction = reduction;
        self
    }
}

impl Loss for BceLoss {
    fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        let op = "binary_cross_entropy";
        same_shape(input, target, op)?;
        input.require_float(op)?;
        check_probabilities(input, op)?;
        let per = bce_elementwise(input, target)?;
        let per = weighted(per, self.weight.as_ref(), op)?;
        self.reduction.apply(&per)
    }
}

/// Errors, naming the first offender, unless every element of `p` lies in
/// `[0, 1]`: the logarithms of other values are NaN, which PyTorch refuses
/// rather than return.
fn check_probabilities(p: &Tensor, op: &'static str) -> Result<()> {
    if p.elem_count() == 0 {
        return Ok(());
    }
    crate::no_grad(|| {
        let flat = p.flatten_all()?;
        // 1 where valid, 0 elsewhere (NaN compares false): the first minimum is the first offender.
        let d = flat.dtype();
        let valid = flat
            .ge_scalar(0.0)?
            .to_dtype(d)?
            .mul(&flat.le_scalar(1.0)?.to_dtype(d)?)?;
        let first = valid.argmin(0usize, true)?;
        let v = flat
            .index_select(0usize, &first)?
            .to_dtype(DType::F64)?
            .to_vec::<f64>()?;
        match v.first() {
            Some(x) if !(0.0..=1.0).contains(x) => {
                let i = first.to_vec::<i64>()?.first().copied().unwrap_or(0);
                Err(Error::invalid(
                    op,
                    format!(
                        "all elements of input should be between 0 and 1, got {x} at flat index {i} of shape {}",
                        p.shape()
                    ),
                ))
            }
            _ => Ok(()),
        }
    })
}

/// Multiplies per-element losses by an optional weight that must broadcast to
/// their shape without enlarging it.
fn weighted(per: Tensor, weight: Option<&Tensor>, op: &'static str) -> Result<Tensor> {
    let Some(w) = weight else { return Ok(per) };
    let out = per.mul(w)?;
    if out.shape() != per.shape() {
        return Err(Error::ShapeMismatch {
            op,
            lhs: per.shape().clone(),
            rhs: w.shape().clone(),
            expected: "a weight that broadcasts to the input's shape".into(),
        });
    }
    Ok(out)
}

/// Unweighted element-wise BCE with PyTorch's clamped forward and its backward rules.
fn bce_elementwise(p: &Tensor, t: &Tensor) -> Result<Tensor> {
    const LOG_MIN: f64 = -100.0;
    let y = crate::no_grad(|| -> Result<Tensor> {
        let logp = p.log()?.clamp(LOG_MIN, f64::INFINITY)?;
        let log1mp = p.affine(-1.0, 1.0)?.log()?.clamp(LOG_MIN, f64::INFINITY)?;
        // -(t * logp + (1 - t) * log1mp), rearranged to need fewer passes.
        t.mul(&log1mp.sub(&logp)?)?.sub(&log1mp)
    })?;
    Ok(y.with_node(|| {
        let (pc, tc) = (p.clone(), t.clone());
        Node::new("binary_cross_entropy", vec![p.clone(), t.clone()], move |g, _| {
            let gp = if pc.tracks_grad() {
                // PyTorch's EPSILON is the f32 value of 1e-12, even for f64 inputs.
                let denom = pc
                    .mul(&pc.affine(-1.0, 1.0)?)?
                    .clamp(f64::from(1e-12f32), f64::INFINITY)?;
                Some(g.mul(&pc.sub(&tc)?.div(&denom)?)?)
            } else {
                None
            };
            // d/dy = log(1 - p) - log(p) = -logit(p), unclamped as in PyTorch.
            let gt = if tc.tracks_grad() {
                Some(g.mul(&pc.affine(-1.0, 1.0)?.log()?.sub(&pc.log()?)?)?)
            } else {
                None
            };
            Ok(vec![gp, gt])
        })
    }))
}

/// `(1 - y) x + (1 + (pw - 1) y) softplus(-x)` per element: binary
/// cross-entropy of `sigmoid(x)`, computed without overflow for any logit,
/// PyTorch's `nn.BCEWithLogitsLoss`.
///
/// `pos_weight` (default 1) multiplies the positive term, to trade recall
/// against precision; it is broadcast against the input's last dim (one value
/// per class). The gradient is exactly `sigmoid(x) - y` without `pos_weight`.
///
/// # Shapes
/// `input` and `target` of one shape `(*, C)`; `weight` broadcastable to it;
/// `pos_weight` `(C)`.
#[derive(Clone, Debug, Default)]
pub struct BceWithLogitsLoss {
    /// Per-element rescaling, broadcast against the input.
    pub weight: Option<Tensor>,
    /// Weight of positive examples, per class.
    pub pos_weight: Option<Tensor>,
    /// Mean (default), sum or none.
    pub reduction: Reduction,
}

impl BceWithLogitsLoss {
    /// Mean reduction, no weights.
    pub fn new() -> BceWithLogitsLoss {
        BceWithLogitsLoss::default()
    }

    /// Sets the per-element weight.
    pub fn with_weight(mut self, weight: Tensor) -> BceWithLogitsLoss {
        self.weight = Some(weight);
        self
    }

    /// Sets the positive-class weight.
    pub fn with_pos_weight(mut self, pos_weight: Tensor) -> BceWithLogitsLoss {
        self.pos_weight = Some(pos_weight);
        self
    }

    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> BceWithLogitsLoss {
        self.reduction = reduction;
        self
    }
}

impl Loss for BceWithLogitsLoss {
    fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        let op = "binary_cross_entropy_with_logits";
        same_shape(input, target, op)?;
        input.require_float(op)?;
        let per = bce_logits_elementwise(input, target, self.pos_weight.as_ref())?;
        let per = weighted(per, self.weight.as_ref(), op)?;
        self.reduction.apply(&per)
    }
}

/// Element-wise BCE-with-logits with a fused, exact backward rule (the
/// composed form has a wrong gradient at x = 0, where |x| has a kink).
fn bce_logits_elementwise(x: &Tensor, t: &Tensor, pos_weight: Option<&Tensor>) -> Result<Tensor> {
    let (y, sp, lw) = crate::no_grad(|| -> Result<(Tensor, Tensor, Option<Tensor>)> {
        // softplus(-x) = max(-x, 0) + log(1 + exp(-|x|))
        let sp = x.neg()?.relu()?.add(&x.abs()?.neg()?.exp()?.add_scalar(1.0)?.log()?)?;
        let lin = t.affine(-1.0, 1.0)?.mul(x)?;
        match pos_weight {
            None => Ok((lin.add(&sp)?, sp, None)),
            Some(pw) => {
                let lw = pw.sub_scalar(1.0)?.mul(t)?.add_scalar(1.0)?;
                Ok((lin.add(&lw.mul(&sp)?)?, sp, Some(lw)))
            }
        }
    })?;
    if y.shape() != x.shape() {
        return Err(crate::Error::ShapeMismatch {
            op: "binary_cross_entropy_with_logits",
            lhs: x.shape().clone(),
            rhs: pos_weight
                .map(|p| p.shape().clone())
                .unwrap_or_else(|| y.shape().clone()),
            expected: "a pos_weight that broadcasts to the input's shape (one value per class)".into(),
        });
    }
    let pw = pos_weight.cloned();
    Ok(y.with_node(|| {
        let (xc, tc) = (x.clone(), t.clone());
        Node::new(
            "binary_cross_entropy_with_logits",
            vec![x.clone(), t.clone()],
            move |g, _| {
                let gx = if xc.tracks_grad() {
                    let d = match &lw {
                        // (1 - t) - lw * sigmoid(-x)
                        Some(lw) => tc.affine(-1.0, 1.0)?.sub(&lw.mul(&xc.neg()?.sigmoid()?)?)?,
                        None => xc.sigmoid()?.sub(&tc)?,
                    };
                    Some(g.mul(&d)?)
                } else {
                    None
                };
                let gt = if tc.tracks_grad() {
                    // -x + (pw - 1) * softplus(-x)
                    let d = match &pw {
                        Some(pw) => pw.sub_scalar(1.0)?.mul(&sp)?.sub(&xc)?,
                        None => xc.neg()?,
                    };
                    Some(g.mul(&d)?)
                } else {
                    None
                };
                Ok(vec![gx, gt])
            },
        )
    }))
}
