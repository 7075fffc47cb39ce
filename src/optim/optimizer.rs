//! The [`Optimizer`] trait.

use super::groups::bad_group;
use super::state::{OptimizerConfig, OptimizerState};
use crate::{Error, GradStore, Result, Tensor};

/// Updates a fixed list of parameters from the gradients of a backward pass.
///
/// An optimizer owns (clones of) the parameters it was built with and replaces
/// their values in place ([`Tensor::set_data`]), so every clone of a parameter,
/// including the one inside the model, sees the update. Gradients are passed to
/// each step in a [`GradStore`]: a fresh one from [`Tensor::backward`] plays the
/// part of PyTorch's `zero_grad()` + `backward()`, and one filled by several
/// [`Tensor::backward_into`] calls accumulates gradients over micro-batches. A
/// parameter that has no gradient in the store is skipped, as PyTorch skips
/// parameters whose `.grad` is `None` (its step count and buffers do not advance).
///
/// # Parameter groups
/// The parameters are split into one or more groups (PyTorch's
/// `param_groups`), each with its own hyperparameters; see
/// [`super::ParamGroup`]. An optimizer built with `new(params, config)` has
/// one group. The whole-optimizer accessors read group 0 ([`Optimizer::lr`],
/// [`Optimizer::initial_lr`], [`Optimizer::momentum`]) and write every group
/// ([`Optimizer::set_lr`], [`Optimizer::set_initial_lr`],
/// [`Optimizer::set_momentum`]); the `group_*` methods address one group.
/// [`Optimizer::params`] lists the groups' parameters one group after the
/// other; those positions are the indices of [`OptimizerState`].
///
/// Updates are computed with tensor ops, on the device the parameters live on;
/// per-parameter buffers (momentum, moment estimates) stay on that device and are
/// copied to the host only by [`Optimizer::state`].
///
/// The learning-rate schedulers in [`crate::optim::lr_scheduler`] drive every
/// group through [`Optimizer::group_lr`], [`Optimizer::set_group_lr`],
/// [`Optimizer::group_initial_lr`] and (for `OneCycleLr`)
/// [`Optimizer::set_group_momentum`]. The `group_*` methods have single-group
/// defaults, so an optimizer defined outside the crate needs only the others.
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

    /// The current learning rate of group 0 (see [`Optimizer::group_lr`]).
    fn lr(&self) -> f64;

    /// Sets the learning rate of **every** group for the following steps; use
    /// [`Optimizer::set_group_lr`] to set one group's. Errors, changing
    /// nothing, unless `lr` is finite and `>= 0` ("Invalid learning rate").
    fn set_lr(&mut self, lr: f64) -> Result<()>;

    /// The learning rate group 0's first attached scheduler started from
    /// (PyTorch's `param_group["initial_lr"]`); `None` until a scheduler is attached.
    fn initial_lr(&self) -> Option<f64>;

    /// Sets or clears the `initial_lr` of every group. Errors, changing
    /// nothing, unless a value given is finite and `>= 0`.
    fn set_initial_lr(&mut self, lr: Option<f64>) -> Result<()>;

    /// The momentum-like hyperparameter of group 0 a one-cycle schedule may
    /// cycle: SGD's and RMSprop's `momentum`, Adam's `beta1`. `None` when there
    /// is none.
    fn momentum(&self) -> Option<f64> {
        None
    }

    /// Sets the value reported by [`Optimizer::momentum`] in every group.
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

    /// The parameters, group after group, each group's in the order given at
    /// construction (the indices used by [`OptimizerState`]).
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

    /// Number of parameter groups (1 unless built from several groups).
    fn num_groups(&self) -> usize {
        1
    }

    /// The current learning rate of group `group`. Errors on an index past
    /// the last group.
    fn group_lr(&self, group: usize) -> Result<f64> {
        only_group(self.name(), "group_lr", group)?;
        Ok(self.lr())
    }

    /// Sets the learning rate of group `group`. Errors on an index past the
    /// last group, and unless `lr` is finite and `>= 0` (PyTorch's
    /// constructor check, applied here too so that a schedule cannot drive
    /// the lr to NaN, infinity or below 0 unnoticed).
    fn set_group_lr(&mut self, group: usize, lr: f64) -> Result<()> {
        only_group(self.name(), "set_group_lr", group)?;
        self.set_lr(lr)
    }

    /// Every group's learning rate, in group order.
    fn group_lrs(&self) -> Vec<f64> {
        // Every index below num_groups is valid; a NaN marks an implementation
        // that disagrees with itself rather than hiding the group.
        (0..self.num_groups())
            .map(|g| self.group_lr(g).unwrap_or(f64::NAN))
            .collect()
    }

    /// The `initial_lr` of group `group` (the base lr of its schedulers).
    fn group_initial_lr(&self, group: usize) -> Result<Option<f64>> {
        only_group(self.name(), "group_initial_lr", group)?;
        Ok(self.initial_lr())
    }

    /// Sets or clears the `initial_lr` of group `group`; errors as
    /// [`Optimizer::set_initial_lr`] does, or on a bad index.
    fn set_group_initial_lr(&mut self, group: usize, lr: Option<f64>) -> Result<()> {
        only_group(self.name(), "set_group_initial_lr", group)?;
        self.set_initial_lr(lr)
    }

    /// The momentum-like hyperparameter of group `group` (see [`Optimizer::momentum`]).
    fn group_momentum(&self, group: usize) -> Result<Option<f64>> {
        only_group(self.name(), "group_momentum", group)?;
        Ok(self.momentum())
    }

    /// Sets the momentum-like hyperparameter of group `group`; errors as
    /// [`Optimizer::set_momentum`] does, or on a bad index.
    fn set_group_momentum(&mut self, group: usize, momentum: f64) -> Result<()> {
        only_group(self.name(), "set_group_momentum", group)?;
        self.set_momentum(momentum)
    }

    /// The parameters of group `group`, in order.
    fn group_params(&self, group: usize) -> Result<&[Tensor]> {
        only_group(self.name(), "group_params", group)?;
        Ok(self.params())
    }

    /// Every hyperparameter of group `group`, with its current learning rate
    /// (read one with [`OptimizerConfig::lr`], [`OptimizerConfig::weight_decay`]
    /// or by matching on the kind).
    fn group_config(&self, group: usize) -> Result<OptimizerConfig> {
        only_group(self.name(), "group_config", group)?;
        Ok(self.state()?.config)
    }
}

/// The index check of the single-group defaults.
fn only_group(kind: &str, op: &'static str, group: usize) -> Result<()> {
    if group == 0 {
        Ok(())
    } else {
        Err(bad_group(op, kind, group, 1))
    }
}
