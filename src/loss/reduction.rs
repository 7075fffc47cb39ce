//! How per-element losses are reduced.

use crate::{Error, Result, Tensor};
use serde::{Deserialize, Serialize};

/// What a loss returns: the mean (PyTorch's default), the sum, or the
/// unreduced per-element losses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reduction {
    /// The mean over elements (or the weighted mean, for weighted class losses).
    #[default]
    Mean,
    /// The sum over elements.
    Sum,
    /// No reduction: one loss per element (per sample for class losses).
    None,
}

impl Reduction {
    /// Applies the plain (unweighted) reduction to per-element losses.
    pub fn apply(self, losses: &Tensor) -> Result<Tensor> {
        match self {
            Reduction::Mean => losses.mean_all(),
            Reduction::Sum => losses.sum_all(),
            Reduction::None => Ok(losses.clone()),
        }
    }
}

/// Errors unless `input` and `target` have one shape.
pub(crate) fn same_shape(input: &Tensor, target: &Tensor, op: &'static str) -> Result<()> {
    if input.shape() != target.shape() {
        return Err(Error::ShapeMismatch {
            op,
            lhs: input.shape().clone(),
            rhs: target.shape().clone(),
            expected: "input and target of the same shape (reshape one; broadcasting is not applied)".into(),
        });
    }
    Ok(())
}
