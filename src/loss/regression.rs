//! Regression losses: mean squared error and mean absolute error.

use super::reduction::same_shape;
use super::{Loss, Reduction};
use crate::{Result, Tensor};

/// Mean squared error `mean((input - target)^2)`, PyTorch's `mse_loss`.
/// `input` and `target` must have one shape.
pub fn mse_loss(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    MseLoss::new().forward(input, target)
}

/// Mean absolute error `mean(|input - target|)`, PyTorch's `l1_loss`.
/// `input` and `target` must have one shape.
pub fn l1_loss(input: &Tensor, target: &Tensor) -> Result<Tensor> {
    L1Loss::new().forward(input, target)
}

/// Squared error with a chosen [`Reduction`], PyTorch's `nn.MSELoss`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MseLoss {
    /// Mean (default), sum or none.
    pub reduction: Reduction,
}

impl MseLoss {
    /// Mean reduction.
    pub fn new() -> MseLoss {
        MseLoss::default()
    }

    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> MseLoss {
        self.reduction = reduction;
        self
    }
}

impl Loss for MseLoss {
    fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        same_shape(input, target, "mse_loss")?;
        self.reduction.apply(&input.sub(target)?.sqr()?)
    }
}

/// Absolute error with a chosen [`Reduction`], PyTorch's `nn.L1Loss`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct L1Loss {
    /// Mean (default), sum or none.
    pub reduction: Reduction,
}

impl L1Loss {
    /// Mean reduction.
    pub fn new() -> L1Loss {
        L1Loss::default()
    }

    /// Sets the reduction.
    pub fn with_reduction(mut self, reduction: Reduction) -> L1Loss {
        self.reduction = reduction;
        self
    }
}

impl Loss for L1Loss {
    fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        same_shape(input, target, "l1_loss")?;
        self.reduction.apply(&input.sub(target)?.abs()?)
    }
}
