//! The [`Optimizer`] trait.

use super::state::OptimizerState;
use crate::{Error, GradStore, Result, Tensor};

/// Updates a fixed list of parameters from the gradients of a backward pass.
///
/// An optimizer owns (clones of) the parameters it was built with and replaces
/// their values in place ([`Tensor::set_data`]), so every clone of a parameter,
/// including the one inside the model, sees the update. Gradients come fresh from
/// [`Tensor::backward`] each step, so there is no `zero_grad`; a parameter that
/// has no gradient in the store is skipped, as PyTorch skips parameters whose
/// `.grad` is `None` (its step count and buffers do not advance).
///
/// Updates are computed with tensor ops, on the device the parameters live on;
/// per-parameter buffers (momentum, moment estimates) stay on that device and are
/// copied to the host only by [`Optimizer::state`].
///
/// The learning-rate schedulers in [`crate::optim::lr_scheduler`] drive an
/// optimizer through [`Optimizer::lr`], [`Optimizer::set_lr`],
/// [`Optimizer::initial_lr`] and (for `OneCycleLr`) [`Optimizer::set_momentum`].
///
/// ```
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![1f32, -2.0], 2, &Device::cpu())?.requires_grad();
/// let mut opt = Sgd::new(vec![w.clone()], SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
/// for _ in 0..3 {
///     let loss = w.sqr()?.sum_all()?;
///     let grads = loss.backward()?;
///     opt.step(&grads)?;
/// }
/// assert!(w.to_vec::<f32>()?[0].abs() < 1.0);
/// # Ok(()) }
/// ```
pub trait Optimizer: Send {
    /// A short name (`"SGD"`, `"Adam"`, ...), used in messages.
    fn name(&self) -> &'static str;

    /// Applies one update to every parameter that has a gradient in `grads`.
    ///
    /// Errors when a gradient's shape, dtype or device differs from its
    /// parameter's; no parameter is modified in that case.
    fn step(&mut self, grads: &GradStore) -> Result<()>;

    /// The current learning rate.
    fn lr(&self) -> f64;

    /// Sets the learning rate used by the following steps (schedulers call this).
    fn set_lr(&mut self, lr: f64);

    /// The learning rate the first attached scheduler started from (PyTorch's
    /// `param_group["initial_lr"]`); `None` until a scheduler is attached.
    fn initial_lr(&self) -> Option<f64>;

    /// Sets or clears [`Optimizer::initial_lr`].
    fn set_initial_lr(&mut self, lr: Option<f64>);

    /// The momentum-like hyperparameter a one-cycle schedule may cycle: SGD's and
    /// RMSprop's `momentum`, Adam's `beta1`. `None` when there is none.
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Sets the value reported by [`Optimizer::momentum`].
    ///
    /// Errors when the optimizer has no such hyperparameter or the value is
    /// outside `[0, 1)`.
    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        Err(Error::invalid(
            "set_momentum",
            format!(
                "{} has no momentum hyperparameter (asked to set {momentum})",
                self.name()
            ),
        ))
    }

    /// The parameters, in the order given at construction (the indices used by
    /// [`OptimizerState`]).
    fn params(&self) -> &[Tensor];

    /// Number of completed [`Optimizer::step`] calls.
    fn step_count(&self) -> u64;

    /// Everything needed to resume: hyperparameters (including the current lr),
    /// step counts and per-parameter buffers copied to the host.
    fn state(&self) -> Result<OptimizerState>;

    /// Restores a state produced by [`Optimizer::state`] of the same kind of
    /// optimizer over parameters of the same shapes; buffers are moved to the
    /// parameters' device and dtype. Errors (and changes nothing) on a mismatch.
    fn load_state(&mut self, state: &OptimizerState) -> Result<()>;
}
