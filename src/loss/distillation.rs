//! Kullback-Leibler divergence and knowledge distillation (Hinton et al., 2015).

use super::reduction::same_shape;
use super::{Loss, Reduction, cross_entropy};
use crate::autograd::Node;
use crate::{Error, Result, Tensor};
use serde::{Deserialize, Serialize};

/// How [`kl_div`] reduces its per-element terms: [`Reduction`]'s three modes
/// plus PyTorch's `"batchmean"`, the sum divided by the batch size.
///
/// `BatchMean` is the mathematically correct KL divergence per sample;
/// `Mean` (PyTorch's default) divides by the number of elements instead, so
/// it is the KL divergence divided by the number of classes too. Any
/// [`Reduction`] converts into this type, so `kl_div` takes either.
///
/// ```
/// use neurite::loss::{KlDivReduction, Reduction};
/// assert_eq!(KlDivReduction::from(Reduction::Sum), KlDivReduction::Sum);
/// assert_eq!(KlDivReduction::default(), KlDivReduction::Mean);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KlDivReduction {
    /// The mean over every element (PyTorch's default, `"mean"`).
    #[default]
    Mean,
    /// The sum over every element (`"sum"`).
    Sum,
    /// No reduction: one term per element (`"none"`).
    None,
    /// The sum divided by the size of the first dimension (`"batchmean"`);
    /// the plain sum for a scalar input.
    BatchMean,
}

impl From<Reduction> for KlDivReduction {
    fn from(r: Reduction) -> KlDivReduction {
        match r {
            Reduction::Mean => KlDivReduction::Mean,
            Reduction::Sum => KlDivReduction::Sum,
            Reduction::None => KlDivReduction::None,
        }
    }
}

impl KlDivReduction {
    /// Applies the reduction to the per-element terms.
    fn apply(self, terms: &Tensor) -> Result<Tensor> {
        match self {
            KlDivReduction::Mean => terms.mean_all(),
            KlDivReduction::Sum => terms.sum_all(),
            KlDivReduction::None => Ok(terms.clone()),
            KlDivReduction::BatchMean => {
                let sum = terms.sum_all()?;
                match terms.dims().first() {
                    Some(&n) => sum.div_scalar(n as f64),
                    None => Ok(sum),
                }
            }
        }
    }
}

/// Kullback-Leibler divergence of a distribution given by log-probabilities
/// `input_log_probs` from `target`, PyTorch's `F.kl_div(input, target,
/// reduction, log_target)`.
///
/// Per element the term is `target * (log(target) - input)`, and 0 where
/// `target == 0` (PyTorch's `xlogy` convention); with `log_target` the target
/// holds log-probabilities and the term is `exp(target) * (target - input)`.
/// `reduction` is a [`KlDivReduction`] or a [`Reduction`]; use
/// [`KlDivReduction::BatchMean`] for the true divergence per sample.
///
/// Note the argument order: `kl_div(log q, p)` is `KL(p || q)`. The input and
/// target must have one shape (no broadcasting), dtype and device. See
/// [`KlDivLoss`] for the gradients.
///
/// ```
/// use neurite::loss::{self, KlDivReduction};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let logq = Tensor::from_vec(vec![0.5f64, 0.5], (1, 2), &dev)?.log()?;
/// let p = Tensor::from_vec(vec![1.0f64, 0.0], (1, 2), &dev)?;
/// let kl = loss::kl_div(&logq, &p, KlDivReduction::BatchMean, false)?;
/// assert!((kl.to_scalar::<f64>()? - 2f64.ln()).abs() < 1e-12);
/// # Ok(()) }
/// ```
pub fn kl_div(
    input_log_probs: &Tensor,
    target: &Tensor,
    reduction: impl Into<KlDivReduction>,
    log_target: bool,
) -> Result<Tensor> {
    KlDivLoss::new()
        .with_reduction(reduction)
        .with_log_target(log_target)
        .forward(input_log_probs, target)
}

/// Kullback-Leibler divergence with its options, PyTorch's `nn.KLDivLoss`;
/// the [`Loss`] form of [`kl_div`].
///
/// Gradients: `-target` for the input (`-exp(target)` with `log_target`);
/// `log(target) + 1 - input` for a target that requires grad, and 0 where
/// `target == 0` (PyTorch gives NaN there); with `log_target`,
/// `exp(target) * (target - input + 1)`.
///
/// # Shapes
/// `input` and `target` of one shape; the output is a scalar, or that shape
/// with [`KlDivReduction::None`].
///
/// ```
/// use neurite::loss::{KlDivLoss, KlDivReduction, Loss};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let logq = Tensor::from_vec(vec![0.25f32, 0.75], 2, &dev)?.log()?;
/// let logp = logq.clone();
/// let kl = KlDivLoss::new()
///     .with_reduction(KlDivReduction::Sum)
///     .with_log_target(true)
///     .forward(&logq, &logp)?;
/// assert_eq!(kl.to_scalar::<f32>()?, 0.0);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KlDivLoss {
    /// Mean (default, as PyTorch), sum, none or batch mean.
    pub reduction: KlDivReduction,
    /// Whether the target holds log-probabilities rather than probabilities.
    pub log_target: bool,
}

impl KlDivLoss {
    /// Mean reduction, probability targets: PyTorch's defaults.
    ///
    /// ```
    /// use neurite::loss::{KlDivLoss, KlDivReduction};
    /// assert_eq!(KlDivLoss::new().reduction, KlDivReduction::Mean);
    /// ```
    pub fn new() -> KlDivLoss {
        KlDivLoss::default()
    }

    /// Sets the reduction (a [`KlDivReduction`] or a [`Reduction`]).
    ///
    /// ```
    /// use neurite::loss::{KlDivLoss, KlDivReduction};
    /// let l = KlDivLoss::new().with_reduction(KlDivReduction::BatchMean);
    /// assert_eq!(l.reduction, KlDivReduction::BatchMean);
    /// ```
    pub fn with_reduction(mut self, reduction: impl Into<KlDivReduction>) -> KlDivLoss {
        self.reduction = reduction.into();
        self
    }

    /// Reads the target as log-probabilities when `on`.
    ///
    /// ```
    /// use neurite::loss::KlDivLoss;
    /// assert!(KlDivLoss::new().with_log_target(true).log_target);
    /// ```
    pub fn with_log_target(mut self, on: bool) -> KlDivLoss {
        self.log_target = on;
        self
    }
}

impl Loss for KlDivLoss {
    fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        let op = "kl_div";
        input.require_float(op)?;
        input.same_dtype_device(target, op)?;
        same_shape(input, target, op)?;
        let terms = kl_div_elementwise(input, target, self.log_target)?;
        self.reduction.apply(&terms)
    }
}

/// The unreduced KL terms, with one fused backward rule for both operands.
fn kl_div_elementwise(x: &Tensor, t: &Tensor, log_target: bool) -> Result<Tensor> {
    let y = crate::no_grad(|| -> Result<Tensor> {
        if log_target {
            return t.exp()?.mul(&t.sub(x)?);
        }
        // log(1) = 0 stands in where t == 0; the outer select makes those terms
        // exactly 0 even for an infinite input.
        let zero = t.eq_scalar(0.0)?;
        let safe = zero.where_cond(&t.ones_like()?, t)?;
        let terms = t.mul(&safe.log()?.sub(x)?)?;
        zero.where_cond(&t.zeros_like()?, &terms)
    })?;
    Ok(y.with_node(|| {
        let (xc, tc) = (x.clone(), t.clone());
        Node::new("kl_div", vec![x.clone(), t.clone()], move |g, _| {
            let p = if log_target { tc.exp()? } else { tc.clone() };
            let gx = if xc.tracks_grad() {
                Some(g.mul(&p)?.neg()?)
            } else {
                None
            };
            let gt = if tc.tracks_grad() {
                if log_target {
                    Some(g.mul(&p.mul(&tc.sub(&xc)?.add_scalar(1.0)?)?)?)
                } else {
                    let zero = tc.eq_scalar(0.0)?;
                    let safe = zero.where_cond(&tc.ones_like()?, &tc)?;
                    let d = safe.log()?.sub(&xc)?.add_scalar(1.0)?;
                    Some(zero.where_cond(&tc.zeros_like()?, &g.mul(&d)?)?)
                }
            } else {
                None
            };
            Ok(vec![gx, gt])
        })
    }))
}

/// Knowledge-distillation loss of Hinton et al. (2015) with PyTorch's
/// building blocks:
/// `alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))`
/// (batch-mean [`kl_div`]) `+ (1 - alpha) * cross_entropy(student, labels)`.
///
/// The teacher's logits are detached: no gradient reaches the teacher. See
/// [`DistillationLoss`] for the shapes and errors.
///
/// ```
/// use neurite::{loss, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let student = Tensor::from_vec(vec![1.0f32, 0.2, -0.5, 0.3, 0.9, 0.0], (2, 3), &dev)?.requires_grad();
/// let teacher = Tensor::from_vec(vec![2.0f32, 0.1, -1.0, 0.0, 2.5, 0.5], (2, 3), &dev)?;
/// let labels = Tensor::from_vec(vec![0i64, 1], 2, &dev)?;
/// let l = loss::distillation_loss(&student, &teacher, &labels, 4.0, 0.7)?;
/// let grads = l.backward()?;
/// assert_eq!(grads.get(&student).unwrap().dims(), &[2, 3]);
/// # Ok(()) }
/// ```
pub fn distillation_loss(
    student_logits: &Tensor,
    teacher_logits: &Tensor,
    target_labels: &Tensor,
    temperature: f64,
    alpha: f64,
) -> Result<Tensor> {
    DistillationLoss::new(temperature)
        .with_alpha(alpha)
        .forward(student_logits, teacher_logits, target_labels)
}

/// Knowledge distillation (Hinton et al., 2015): the student matches the
/// teacher's softened distribution and the true labels.
///
/// The loss is `alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T))`
/// with batch-mean reduction, plus `(1 - alpha) * cross_entropy(student,
/// labels)` (mean over the batch). The factor `T^2` keeps the soft term's
/// gradients on the scale of the hard term's as `T` grows. The teacher's
/// logits are detached, so the teacher gets no gradient. A term whose weight
/// is 0 (`alpha` of 0 or 1) is not computed, though its inputs are still
/// checked for shape.
///
/// # Shapes
/// - student and teacher logits: `(N, C)`, one shape, dtype and device
///   (flatten sequences to `(N * L, C)`)
/// - labels: `I64`/`I32` class indices `(N)`, or class probabilities `(N, C)`
/// - output: a scalar
///
/// # Errors
/// A temperature that is not finite and positive, an `alpha` outside
/// `[0, 1]`, logits that are not `(N, C)`, teacher logits of another shape
/// than the student's, and labels that do not match the batch.
///
/// ```
/// use neurite::loss::DistillationLoss;
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let student = Tensor::from_vec(vec![1.0f64, 0.0, 0.0, 1.0], (2, 2), &dev)?;
/// let labels = Tensor::from_vec(vec![0i64, 1], 2, &dev)?;
/// // A student that agrees with its teacher pays only the weighted hard loss.
/// let kd = DistillationLoss::new(2.0).with_alpha(0.25);
/// let l = kd.forward(&student, &student, &labels)?.to_scalar::<f64>()?;
/// let ce = neurite::loss::cross_entropy(&student, &labels)?.to_scalar::<f64>()?;
/// assert!((l - 0.75 * ce).abs() < 1e-12);
/// assert!(DistillationLoss::new(0.0).forward(&student, &student, &labels).is_err());
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DistillationLoss {
    /// Softmax temperature `T`, finite and positive (1: plain softmax).
    pub temperature: f64,
    /// Weight of the soft (teacher) term in `[0, 1]`; the hard (label) term
    /// gets `1 - alpha`.
    pub alpha: f64,
}

impl DistillationLoss {
    /// Temperature `temperature` and `alpha = 0.5` (both checked by `forward`).
    ///
    /// ```
    /// use neurite::loss::DistillationLoss;
    /// let kd = DistillationLoss::new(4.0);
    /// assert_eq!((kd.temperature, kd.alpha), (4.0, 0.5));
    /// ```
    pub fn new(temperature: f64) -> DistillationLoss {
        DistillationLoss {
            temperature,
            alpha: 0.5,
        }
    }

    /// Sets the soft term's weight `alpha` (checked to lie in `[0, 1]` by `forward`).
    ///
    /// ```
    /// use neurite::loss::DistillationLoss;
    /// assert_eq!(DistillationLoss::new(2.0).with_alpha(0.9).alpha, 0.9);
    /// ```
    pub fn with_alpha(mut self, alpha: f64) -> DistillationLoss {
        self.alpha = alpha;
        self
    }

    /// The loss of `student_logits` against the (detached) `teacher_logits`
    /// and the true `labels`; see [`DistillationLoss`].
    ///
    /// ```
    /// use neurite::loss::DistillationLoss;
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let dev = Device::cpu();
    /// let student = Tensor::from_vec(vec![0.5f32, -0.5, 1.0], (1, 3), &dev)?.requires_grad();
    /// let teacher = Tensor::from_vec(vec![3.0f32, 0.0, 0.0], (1, 3), &dev)?.requires_grad();
    /// let labels = Tensor::from_vec(vec![2i64], 1, &dev)?;
    /// let grads = DistillationLoss::new(3.0).forward(&student, &teacher, &labels)?.backward()?;
    /// assert!(grads.get(&student).is_some());
    /// assert!(grads.get(&teacher).is_none());
    /// # Ok(()) }
    /// ```
    pub fn forward(&self, student_logits: &Tensor, teacher_logits: &Tensor, labels: &Tensor) -> Result<Tensor> {
        let op = "distillation_loss";
        let (t, alpha) = (self.temperature, self.alpha);
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::invalid(
                op,
                format!("temperature must be finite and positive, got {t}"),
            ));
        }
        if !(0.0..=1.0).contains(&alpha) {
            return Err(Error::invalid(op, format!("alpha must be in [0, 1], got {alpha}")));
        }
        check_shapes(student_logits, teacher_logits, labels, op)?;
        let teacher = teacher_logits.detach();
        let soft = if alpha > 0.0 {
            let log_q = student_logits.div_scalar(t)?.log_softmax(1usize)?;
            let log_p = teacher.div_scalar(t)?.log_softmax(1usize)?;
            let kl = kl_div(&log_q, &log_p, KlDivReduction::BatchMean, true)?;
            Some(kl.mul_scalar(alpha * t * t)?)
        } else {
            None
        };
        let hard = if alpha < 1.0 {
            Some(cross_entropy(student_logits, labels)?.mul_scalar(1.0 - alpha)?)
        } else {
            None
        };
        match (soft, hard) {
            (Some(s), Some(h)) => s.add(&h),
            (Some(s), None) => Ok(s),
            (None, Some(h)) => Ok(h),
            (None, None) => unreachable!("alpha lies in [0, 1], so one of alpha and 1 - alpha is positive"),
        }
    }
}

/// Checks `(N, C)` float logits of one shape, dtype and device, and labels
/// `(N)` of class indices or `(N, C)` of probabilities.
fn check_shapes(student: &Tensor, teacher: &Tensor, labels: &Tensor, op: &'static str) -> Result<()> {
    student.require_float(op)?;
    if student.rank() != 2 {
        return Err(Error::invalid(
            op,
            format!("expected student logits of shape (N, C), got shape {}", student.shape()),
        ));
    }
    if teacher.shape() != student.shape() {
        return Err(Error::ShapeMismatch {
            op,
            lhs: student.shape().clone(),
            rhs: teacher.shape().clone(),
            expected: format!(
                "teacher output shape {} differs from student's {}",
                teacher.shape(),
                student.shape()
            ),
        });
    }
    student.same_dtype_device(teacher, op)?;
    let (n, c) = (student.dims()[0], student.dims()[1]);
    let dtype = labels.dtype();
    let ok = if dtype.is_index() {
        labels.dims() == [n]
    } else if dtype.is_float() {
        labels.dims() == [n, c]
    } else {
        return Err(Error::invalid(
            op,
            format!("labels must be i64 or i32 class indices or float class probabilities, got dtype {dtype}"),
        ));
    };
    if !ok {
        let expected = if dtype.is_index() {
            format!("labels of shape [{n}] (one class index per sample of the batch of {n})")
        } else {
            format!("probability labels of shape [{n}, {c}], the logits' shape")
        };
        return Err(Error::ShapeMismatch {
            op,
            lhs: student.shape().clone(),
            rhs: labels.shape().clone(),
            expected,
        });
    }
    Ok(())
}
