//! Loss functions and weight penalties.
//!
//! Every loss exists in two forms:
//! - a **function** with PyTorch's defaults (mean reduction, no weights), for
//!   the common case: [`mse_loss`], [`l1_loss`], [`binary_cross_entropy`],
//!   [`binary_cross_entropy_with_logits`], [`cross_entropy`], [`nll_loss`];
//! - a **struct** holding the options (reduction, class weights, label
//!   smoothing, ...) that implements [`Loss`], for training loops that take a
//!   loss object: [`MseLoss`], [`L1Loss`], [`BceLoss`], [`BceWithLogitsLoss`],
//!   [`CrossEntropyLoss`], [`NllLoss`]. Closures
//!   `Fn(&Tensor, &Tensor) -> Result<Tensor>` implement [`Loss`] too.
//! - KL divergence and knowledge distillation (Hinton et al., 2015):
//!   [`kl_div`] / [`KlDivLoss`] (PyTorch's `F.kl_div`, with
//!   [`KlDivReduction::BatchMean`]), and [`distillation_loss`] /
//!   [`DistillationLoss`] (softened teacher targets plus cross-entropy).
//!
//! Values and gradients follow PyTorch, including its edge cases: BCE clamps
//! logarithms at -100, BCE-with-logits is computed stably with the exact
//! gradient `sigmoid(x) - y`, and weighted cross-entropy with mean reduction
//! divides by the sum of the target classes' weights.
//!
//! Unlike PyTorch, element-wise losses require `input` and `target` of one
//! shape instead of broadcasting them (an `(N, 1)` prediction against an `(N)`
//! target is a classic silent bug), and `ignore_index` is off unless set.
//!
//! ```
//! use neurite::loss::{self, CrossEntropyLoss, Loss, Reduction};
//! use neurite::{Device, Tensor};
//! # fn main() -> neurite::Result<()> {
//! let dev = Device::cpu();
//! let logits = Tensor::from_vec(vec![2.0f32, 0.5, -1.0, 0.1, 1.5, 0.3], (2, 3), &dev)?.requires_grad();
//! let labels = Tensor::from_vec(vec![0i64, 1], 2, &dev)?;
//! let plain = loss::cross_entropy(&logits, &labels)?;
//! let smoothed = CrossEntropyLoss::new().with_label_smoothing(0.1).forward(&logits, &labels)?;
//! assert!(smoothed.to_scalar::<f32>()? > plain.to_scalar::<f32>()?);
//! let grads = plain.backward()?;
//! assert_eq!(grads.get(&logits).unwrap().dims(), &[2, 3]);
//! # Ok(()) }
//! ```

mod binary;
mod classification;
mod distillation;
mod penalty;
mod reduction;
mod regression;

pub use binary::{BceLoss, BceWithLogitsLoss, binary_cross_entropy, binary_cross_entropy_with_logits};
pub use classification::{CrossEntropyLoss, NllLoss, cross_entropy, nll_loss};
pub use distillation::{DistillationLoss, KlDivLoss, KlDivReduction, distillation_loss, kl_div};
pub use penalty::{l1_penalty, l2_penalty};
pub use reduction::Reduction;
pub use regression::{L1Loss, MseLoss, l1_loss, mse_loss};

use crate::{Result, Tensor};

/// A loss: a scalar (or, with [`Reduction::None`], per-element) tensor from a
/// prediction and a target.
pub trait Loss: Send + Sync {
    /// Computes the loss of `input` against `target`.
    fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor>;
}

impl<F> Loss for F
where
    F: Fn(&Tensor, &Tensor) -> Result<Tensor> + Send + Sync,
{
    fn forward(&self, input: &Tensor, target: &Tensor) -> Result<Tensor> {
        self(input, target)
    }
}
