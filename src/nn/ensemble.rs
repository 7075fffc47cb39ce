//! [`Ensemble`]: several models called on the same input, their outputs
//! combined by a [`Combine`] rule.

use super::{Forward, Module};
use crate::{Error, Result, Tensor};

/// How an [`Ensemble`] turns its members' outputs into one.
///
/// The probability rules read each member's output as scores over the last
/// dimension: a softmax there, or a sigmoid when that dimension has size 1 (a
/// binary model with one logit), unless the ensemble was told that the
/// members already output probabilities ([`Ensemble::outputs_probabilities`]).
#[derive(Clone, Debug, PartialEq)]
pub enum Combine {
    /// The mean of the members' probabilities (soft voting, scikit-learn's
    /// `VotingClassifier(voting="soft")`).
    MeanProbabilities,
    /// The mean of the members' probabilities weighted by these weights (one
    /// per member, non-negative, not all zero; normalised to sum to 1).
    WeightedMean(Vec<f64>),
    /// Hard voting: each member votes for its highest-scoring class (the first
    /// one on a tie within a member), and the output holds, per class, the
    /// fraction of members that voted for it. The winning class is the argmax
    /// of that output, so a tied vote goes to the lowest class index. With one
    /// output unit a member votes for the positive class when its probability
    /// is above 0.5, and the output is the fraction voting positive.
    MajorityVote,
    /// The mean of the raw outputs (regression, or logits averaged before any
    /// softmax).
    MeanLogits,
}

/// Several models with the same output shape, called on the same input and
/// combined by a [`Combine`] rule: soft or weighted voting over class
/// probabilities, hard (majority) voting, or averaged raw outputs.
///
/// The members are the children `"0"`, `"1"`, ..., so the whole ensemble is one
/// module to `save_model` / `load_weights` (one checkpoint, `0.weight`,
/// `1.weight`, ...), to `to_device`, and to `train` / `eval`, which reach
/// every member. By default the members are `Box<dyn Forward>` (models of
/// different types); `Ensemble<M>` holds one type.
///
/// # Shapes
/// Every member maps the input to the same shape `(..., C)`; the output has
/// that shape too. Probability rules need at least one dimension.
///
/// ```
/// use neurite::nn::{Combine, Ensemble, Forward, Linear};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let ensemble = Ensemble::new(vec![Linear::new(4, 3), Linear::new(4, 3)], Combine::MeanProbabilities)?;
/// let p = ensemble.forward(&Tensor::randn((5, 4), DType::F32, &Device::cpu())?)?;
/// assert_eq!(p.dims(), &[5, 3]);
/// // Each row is an average of probability distributions.
/// for row in p.sum_dim(1usize, false)?.to_vec::<f32>()? {
///     assert!((row - 1.0).abs() < 1e-5);
/// }
/// # Ok(()) }
/// ```
pub struct Ensemble<M: Forward = Box<dyn Forward>> {
    members: Vec<M>,
    combine: Combine,
    probabilities: bool,
}

const OP: &str = "Ensemble::forward";

impl<M: Forward> Ensemble<M> {
    /// An ensemble of `members` combined by `combine`. Errors when there is no
    /// member, or when [`Combine::WeightedMean`]'s weights do not fit (see
    /// [`Ensemble::set_combine`]).
    pub fn new(members: Vec<M>, combine: Combine) -> Result<Ensemble<M>> {
        if members.is_empty() {
            return Err(Error::invalid(
                "Ensemble::new",
                "an ensemble needs at least one member, got 0",
            ));
        }
        check_combine("Ensemble::new", &combine, members.len())?;
        Ok(Ensemble {
            members,
            combine,
            probabilities: false,
        })
    }

    /// `true` when the members already end in a softmax or sigmoid, so that the
    /// probability rules use their outputs as they are instead of applying a
    /// second one (default `false`: members output logits).
    pub fn outputs_probabilities(mut self, on: bool) -> Self {
        self.probabilities = on;
        self
    }

    /// Whether the members' outputs are read as probabilities.
    pub fn members_output_probabilities(&self) -> bool {
        self.probabilities
    }

    /// The combination rule.
    pub fn combine(&self) -> &Combine {
        &self.combine
    }

    /// Replaces the combination rule. Errors (and keeps the old rule) when
    /// [`Combine::WeightedMean`] has a weight count other than the member
    /// count, a negative or non-finite weight, or only zero weights.
    pub fn set_combine(&mut self, combine: Combine) -> Result<()> {
        check_combine("Ensemble::set_combine", &combine, self.members.len())?;
        self.combine = combine;
        Ok(())
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Always `false`: an ensemble has at least one member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The members in order.
    pub fn members(&self) -> &[M] {
        &self.members
    }

    /// The members, mutably (their number cannot change, so the weights stay valid).
    pub fn members_mut(&mut self) -> &mut [M] {
        &mut self.members
    }

    /// Consumes the ensemble and returns its members.
    pub fn into_members(self) -> Vec<M> {
        self.members
    }

    /// Every member's raw output for `x`, checked to have one shape. Errors
    /// name the first member whose shape differs.
    pub fn member_outputs(&self, x: &Tensor) -> Result<Vec<Tensor>> {
        let outs = self.members.iter().map(|m| m.forward(x)).collect::<Result<Vec<_>>>()?;
        if let Some(first) = outs.first() {
            for (i, o) in outs.iter().enumerate().skip(1) {
                if o.dims() != first.dims() {
                    return Err(Error::invalid(
                        OP,
                        format!(
                            "member {i} returned shape {:?} but member 0 returned {:?}; every member must \
                             return the same shape",
                            o.dims(),
                            first.dims()
                        ),
                    ));
                }
            }
        }
        Ok(outs)
    }

    /// A member's output as probabilities over the last dimension.
    fn probabilities_of(&self, out: &Tensor) -> Result<Tensor> {
        let last = last_dim(out)?;
        if self.probabilities {
            Ok(out.clone())
        } else if out.dims()[last] == 1 {
            out.sigmoid()
        } else {
            out.softmax(last)
        }
    }

    /// A member's vote, one-hot over the last dimension (or 0/1 for one unit).
    fn vote_of(&self, out: &Tensor) -> Result<Tensor> {
        let last = last_dim(out)?;
        let classes = out.dims()[last];
        if classes == 1 {
            // sigmoid(z) > 0.5 exactly when z > 0, so logits need no sigmoid.
            let threshold = if self.probabilities { 0.5 } else { 0.0 };
            out.gt_scalar(threshold)?.to_dtype(out.dtype())
        } else {
            // softmax keeps the order of the scores, so logits vote as their probabilities would.
            out.argmax(last, false)?.one_hot(classes, out.dtype())
        }
    }
}

/// The last dimension, or the error for a scalar output.
fn last_dim(out: &Tensor) -> Result<usize> {
    out.rank().checked_sub(1).ok_or_else(|| {
        Error::invalid(
            OP,
            "the members returned scalars (shape []); probability and voting rules need scores over a last \
             dimension (use Combine::MeanLogits for scalars)",
        )
    })
}

/// Checks [`Combine::WeightedMean`]'s weights against the member count.
fn check_combine(op: &'static str, combine: &Combine, members: usize) -> Result<()> {
    if let Combine::WeightedMean(w) = combine {
        if w.len() != members {
            return Err(Error::invalid(
                op,
                format!(
                    "WeightedMean has {} weight(s) for {members} member(s); give one per member",
                    w.len()
                ),
            ));
        }
        if let Some((i, bad)) = w.iter().enumerate().find(|(_, v)| !v.is_finite() || **v < 0.0) {
            return Err(Error::invalid(
                op,
                format!("WeightedMean weight {i} is {bad}; weights must be finite and non-negative, got {w:?}"),
            ));
        }
        if w.iter().all(|v| *v == 0.0) {
            return Err(Error::invalid(
                op,
                format!("WeightedMean weights are all zero ({w:?}); at least one must be positive"),
            ));
        }
    }
    Ok(())
}

/// `sum_i outs[i] / n`: summing first and dividing once keeps vote fractions
/// such as 2/3 as close as a single rounding.
fn mean(outs: &[Tensor]) -> Result<Tensor> {
    let mut acc = outs[0].clone();
    for o in &outs[1..] {
        acc = acc.add(o)?;
    }
    acc.div_scalar(outs.len() as f64)
}

/// `sum_i weights[i] * outs[i]`.
fn weighted_sum(outs: &[Tensor], weights: &[f64]) -> Result<Tensor> {
    let mut acc = outs[0].mul_scalar(weights[0])?;
    for (o, w) in outs.iter().zip(weights).skip(1) {
        acc = acc.add(&o.mul_scalar(*w)?)?;
    }
    Ok(acc)
}

impl<M: Forward> Module for Ensemble<M> {
    fn name(&self) -> String {
        "Ensemble".into()
    }

    fn children(&self) -> Vec<(String, &dyn Module)> {
        self.members.children()
    }

    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        self.members.children_mut()
    }
}

impl<M: Forward> Forward for Ensemble<M> {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let outs = self.member_outputs(x)?;
        if outs.is_empty() {
            return Err(Error::invalid(OP, "the ensemble has no member"));
        }
        let n = outs.len();
        match &self.combine {
            Combine::MeanLogits => mean(&outs),
            Combine::MeanProbabilities => {
                let p = outs
                    .iter()
                    .map(|o| self.probabilities_of(o))
                    .collect::<Result<Vec<_>>>()?;
                mean(&p)
            }
            Combine::WeightedMean(w) => {
                check_combine(OP, &self.combine, n)?;
                let total: f64 = w.iter().sum();
                let w: Vec<f64> = w.iter().map(|v| v / total).collect();
                let p = outs
                    .iter()
                    .map(|o| self.probabilities_of(o))
                    .collect::<Result<Vec<_>>>()?;
                weighted_sum(&p, &w)
            }
            Combine::MajorityVote => {
                let votes = outs.iter().map(|o| self.vote_of(o)).collect::<Result<Vec<_>>>()?;
                mean(&votes)
            }
        }
    }
}
