//! [`Forward`]: the one-tensor call of a module.

use super::Module;
use crate::{Result, Tensor};

/// A module called with one tensor and returning one: every built-in layer,
/// [`super::Sequential`], and user models whose forward has that signature.
/// [`super::Sequential`] chains `Forward` layers, and `Trainer::fit` with a
/// loss trains a `Forward` model. A model with several inputs or outputs does
/// not implement it: it keeps an ordinary method
/// (`fn forward(&self, a: &Tensor, b: &Tensor) -> Result<(Tensor, Tensor)>`)
/// and is trained through a [`crate::train::TrainStep`].
pub trait Forward: Module {
    /// Applies the module to `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;
}
