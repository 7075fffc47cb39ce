//! StepLR: decay by `gamma` every `step_size` epochs.

use super::base::{Base, Chainable, chainable_scheduler, initial_step};
use super::epoch_index;
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Multiplies the lr by `gamma` every `step_size` epochs (PyTorch's `StepLR`):
/// `lr = base_lr * gamma^(epoch / step_size)`.
///
/// ```
/// use neurite::optim::lr_scheduler::{LrScheduler, StepLr};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(0.1))?;
/// let mut sched = StepLr::new(&mut opt, 2, 0.5)?;
/// let mut lrs = vec![opt.lr()];
/// for _ in 0..4 {
///     sched.step(&mut opt)?;
///     lrs.push(opt.lr());
/// }
/// assert_eq!(lrs, vec![0.1, 0.1, 0.05, 0.05, 0.025]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepLr {
    base: Base,
    step_size: usize,
    gamma: f64,
}

impl StepLr {
    /// Attaches to `opt` and sets its lr for epoch 0. Errors unless
    /// `step_size >= 1` and `gamma` is finite and `>= 0`.
    pub fn new(opt: &mut dyn Optimizer, step_size: usize, gamma: f64) -> Result<StepLr> {
        let mut s = StepLr {
            base: Base::attach(opt)?,
            step_size,
            gamma,
        };
        s.validate()?;
        initial_step(&mut s, opt)?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.step_size == 0 {
            return Err(Error::invalid("StepLR", "step_size must be >= 1, got 0"));
        }
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::invalid(
                "StepLR",
                format!("gamma must be finite and >= 0, got {}", self.gamma),
            ));
        }
        self.base.validate("StepLR")
    }
}

impl Chainable for StepLr {
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
    fn get_lr(&self, _group: usize, current: f64, _initial: bool) -> Result<f64> {
        let e = self.base.last_epoch;
        if e == 0 || e.rem_euclid(epoch_index(self.step_size)) != 0 {
            Ok(current)
        } else {
            Ok(current * self.gamma)
        }
    }
    fn closed_form(&self, group: usize) -> Option<f64> {
        let k = self.base.last_epoch.div_euclid(epoch_index(self.step_size));
        Some(self.base.base_lrs[group] * self.gamma.powf(k as f64))
    }
}

chainable_scheduler!(StepLr, "StepLR");
