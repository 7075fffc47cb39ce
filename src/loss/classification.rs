//! Multi-class losses: cross-entropy from logits and negative log-likelihood.

use super::{Loss, Reduction};
use crate::{Error, Result, Tensor};

/// Cross-entropy of logits `(N, C)` against `I64` class indices `(N)`,
/// mean-reduced, PyTorch's `cross_entropy`. See [`CrossEntropyLoss`] for
/// weights, label smoothing and probability targets.
pub fn cross_entropy(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    CrossEntropyLoss::new().forward(logits, target)
}

/// Negative log-likelihood of log-probabilities `(N, C)` (from
/// `log_softmax(1)`) against `I64` class indices `(N)`, mean-reduced,
/// PyTorch's `nll_loss`.
pub fn nll_loss(log_probs: &Tensor, target: &Tensor) -> Result<Tensor> {
    NllLoss::new().forward(log_probs, target)
}

/// `-w[y] * log_softmax(x)[y]` per sample, PyTorch's `nn.CrossEntropyLoss`.
///
/// - **Class weights** (`weight`, shape `(C)`): with mean reduction the result
///   is `sum_i w[y_i] l_i / sum_i w[y_i]`, PyTorch's weighted mean.
/// - **Label smoothing** `eps` in `[0, 1]`: the target becomes
///   `(1 - eps) * one_hot + eps / C`; the loss is
///   `(1 - eps) * nll + eps / C * sum_c -w[c] log p_c`, reduced as PyTorch does
///   (the smoothing term's weighted mean is also divided by `sum_i w[y_i]`).
/// - **ignore_index**: samples with this target contribute nothing and are not
///   counted (off by default; PyTorch's default is -100).
/// - **Probability targets**: a float target of the logits' shape is read as
///   class probabilities (soft labels); the mean then divides by the number of
///   samples.
///
/// # Shapes
/// - logits: `(N, C)`, `(N, C, d1, ...)` or `(C)`
/// - target: `I64` `(N)`, `(N, d1, ...)` or `()`; or float, like the logits
/// - output: a scalar, or `(N, d1, ...)` with [`Reduction::None`]
#[derive(Clone, Debug, Default)]
pub struct CrossEntropyLoss {
    /// Per-class weights `(C)`.
    pub weight: Option<Tensor>,
    /// Class index whose samples are skipped.
    pub ignore_index: Option<i64>,
    /// Label smoothing in `[0, 1]` (0: none).
    pub label_smoothing: f64,
    /// Mean (default), sum or none.
    pub reduction: Reduction,
}

impl CrossEntropyLoss {
    /// Mean reduction, no weights, no smoothing.
    pub fn new() -> CrossEntropyLoss {
        CrossEntropyLoss::default()
    }

    /// Sets per-class weights `(C)`.
    pub fn with_weight(mut self, weight: Tensor) -> CrossEntropyLoss {
        self.weight = Some(weight);
        self
    }

    /// Skips samples whose target is `index`.
    pub fn with_ignore_index(mut self, index: i64) -> CrossEntropyLoss {
        self.ignore_index = Some(index);
        self
    }

    /// Sets label smoothing (checked to lie in `[0, 1]` by `forward`).
    pub fn with_label_smoothing(mut self, eps: f64) -> CrossEntropyLoss {
        self.label_smoothing = eps;
        self
    }

    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> CrossEntropyLoss {
        self.reduction = reduction;
        self
    }
}

impl Loss for CrossEntropyLoss {
    fn forward(&self, logits: &Tensor, target: &Tensor) -> Result<Tensor> {
        let op = "cross_entropy";
        let eps = self.label_smoothing;
        if !(0.0..=1.0).contains(&eps) {
            return Err(Error::invalid(
                op,
                format!("label_smoothing must be in [0, 1], got {eps}"),
            ));
        }
        let (logits, target) = batched(logits, target, op)?;
        let logp = logits.log_softmax(1usize)?;
        let c = logp.dims()[1];
        let wb = self
            .weight
            .as_ref()
            .map(|w| class_weight_view(w, &logp, op))
            .transpose()?;
        if target.dtype().is_float() {
            return soft_targets(&logp, &target, wb.as_ref(), eps, self.reduction, op);
        }
        let picked = Picked::new(&logp, &target, self.weight.as_ref(), self.ignore_index, op)?;
        let nll = picked.reduce(picked.nll()?, self.reduction)?;
        if eps == 0.0 {
            return Ok(nll);
        }
        let smooth = match &wb {
            Some(w) => logp.mul(w)?.sum_dim(1usize, false)?.neg()?,
            None => logp.sum_dim(1usize, false)?.neg()?,
        };
        let smooth = match &picked.mask {
            Some(m) => smooth.mul(m)?,
            None => smooth,
        };
        let smooth = picked.reduce(smooth, self.reduction)?;
        nll.affine(1.0 - eps, 0.0)?.add(&smooth.affine(eps / c as f64, 0.0)?)
    }
}

/// `-w[y] * log_probs[y]` per sample, PyTorch's `nn.NLLLoss`; the input is
/// log-probabilities (for example from [`crate::nn::LogSoftmax`]). Class
/// weights and `ignore_index` behave as in [`CrossEntropyLoss`].
///
/// # Shapes
/// - input: `(N, C)`, `(N, C, d1, ...)` or `(C)`
/// - target: `I64` `(N)`, `(N, d1, ...)` or `()`
#[derive(Clone, Debug, Default)]
pub struct NllLoss {
    /// Per-class weights `(C)`.
    pub weight: Option<Tensor>,
    /// Class index whose samples are skipped.
    pub ignore_index: Option<i64>,
    /// Mean (default), sum or none.
    pub reduction: Reduction,
}

impl NllLoss {
    /// Mean reduction, no weights.
    pub fn new() -> NllLoss {
        NllLoss::default()
    }

    /// Sets per-class weights `(C)`.
    pub fn with_weight(mut self, weight: Tensor) -> NllLoss {
        self.weight = Some(weight);
        self
    }

    /// Skips samples whose target is `index`.
    pub fn with_ignore_index(mut self, index: i64) -> NllLoss {
        self.ignore_index = Some(index);
        self
    }

    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> NllLoss {
        self.reduction = reduction;
        self
    }
}

impl Loss for NllLoss {
    fn forward(&self, log_probs: &Tensor, target: &Tensor) -> Result<Tensor> {
        let op = "nll_loss";
        let (log_probs, target) = batched(log_probs, target, op)?;
        let picked = Picked::new(&log_probs, &target, self.weight.as_ref(), self.ignore_index, op)?;
        picked.reduce(picked.nll()?, self.reduction)
    }
}

/// Gives an unbatched `(C)` input a batch of one; checks float scores.
fn batched(input: &Tensor, target: &Tensor, op: &'static str) -> Result<(Tensor, Tensor)> {
    input.require_float(op)?;
    if input.rank() == 1 {
        if target.dtype().is_float() {
            return Ok((input.unsqueeze(0)?, target.unsqueeze(0)?));
        }
        return Ok((input.unsqueeze(0)?, target.reshape(target.elem_count())?));
    }
    if input.rank() == 0 {
        return Err(Error::invalid(op, "expected scores of shape (N, C, ...), got a scalar"));
    }
    Ok((input.clone(), target.clone()))
}

/// Class weights `(C)` viewed as `(1, C, 1, ...)` to broadcast against the scores.
fn class_weight_view(w: &Tensor, scores: &Tensor, op: &'static str) -> Result<Tensor> {
    let c = scores.dims()[1];
    if w.dims() != [c] {
        return Err(Error::ShapeMismatch {
            op,
            lhs: scores.shape().clone(),
            rhs: w.shape().clone(),
            expected: format!("class weights of shape [{c}]"),
        });
    }
    let mut shape = vec![1usize; scores.rank()];
    shape[1] = c;
    w.reshape(shape)
}

/// The scores of each sample's target class, with the per-sample weights.
struct Picked {
    /// `log p[y]` per sample, `(N, d...)`.
    values: Tensor,
    /// `w[y]` times the ignore mask, when either exists.
    weights: Option<Tensor>,
    /// 1 where the sample counts, 0 where its target is ignored.
    mask: Option<Tensor>,
}

impl Picked {
    fn new(
        scores: &Tensor,
        target: &Tensor,
        weight: Option<&Tensor>,
        ignore_index: Option<i64>,
        op: &'static str,
    ) -> Result<Picked> {
        if !target.dtype().is_index() {
            return Err(Error::invalid(
                op,
                format!("class targets must have dtype i64 or i32, got {}", target.dtype()),
            ));
        }
        let d = scores.dims();
        let t = target.dims();
        if t.len() + 1 != d.len() || t[0] != d[0] || t[1..] != d[2..] {
            return Err(Error::ShapeMismatch {
                op,
                lhs: scores.shape().clone(),
                rhs: target.shape().clone(),
                expected: "scores (N, C, d1, ...) and class indices (N, d1, ...)".into(),
            });
        }
        if let Some(w) = weight {
            class_weight_view(w, scores, op)?;
        }
        let (safe, mask) = match ignore_index {
            None => (target.clone(), None),
            Some(ii) => {
                // Ignored targets are replaced by class 0 (a valid index) and masked out.
                let keep = target.ne_scalar(ii as f64)?;
                let safe = keep.where_cond(target, &target.zeros_like()?)?;
                (safe, Some(keep.to_dtype(scores.dtype())?))
            }
        };
        let values = scores.gather(1usize, &safe.unsqueeze(1)?)?.squeeze(1usize)?;
        let class_w = match weight {
            Some(w) => Some(w.index_select(0usize, &safe.flatten_all()?)?.reshape(safe.shape())?),
            None => None,
        };
        let weights = match (class_w, &mask) {
            (Some(w), Some(m)) => Some(w.mul(m)?),
            (None, Some(m)) => Some(m.clone()),
            (w, None) => w,
        };
        Ok(Picked { values, weights, mask })
    }

    /// `-w[y] log p[y]` per sample.
    fn nll(&self) -> Result<Tensor> {
        match &self.weights {
            Some(w) => self.values.mul(w)?.neg(),
            None => self.values.neg(),
        }
    }

    /// Sum, none, or PyTorch's mean: divided by the total weight of the
    /// counted samples (their number when unweighted).
    fn reduce(&self, per_sample: Tensor, reduction: Reduction) -> Result<Tensor> {
        match (reduction, &self.weights) {
            (Reduction::Mean, Some(w)) => per_sample.sum_all()?.div(&w.sum_all()?),
            _ => reduction.apply(&per_sample),
        }
    }
}

/// Cross-entropy against class probabilities (soft labels).
fn soft_targets(
    logp: &Tensor,
    target: &Tensor,
    wb: Option<&Tensor>,
    eps: f64,
    reduction: Reduction,
    op: &'static str,
) -> Result<Tensor> {
    if target.shape() != logp.shape() {
        return Err(Error::ShapeMismatch {
            op,
            lhs: logp.shape().clone(),
            rhs: target.shape().clone(),
            expected: "probability targets of the logits' shape (or i64 class indices)".into(),
        });
    }
    let c = logp.dims()[1] as f64;
    let target = if eps > 0.0 {
        target.affine(1.0 - eps, eps / c)?
    } else {
        target.clone()
    };
    let prod = logp.mul(&target)?;
    let prod = match wb {
        Some(w) => prod.mul(w)?,
        None => prod,
    };
    reduction.apply(&prod.sum_dim(1usize, false)?.neg()?)
}
