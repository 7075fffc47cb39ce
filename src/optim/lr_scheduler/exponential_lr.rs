//! ExponentialLR: decay by `gamma` every epoch.

use super::base::{Base, Chainable, chainable_scheduler, initial_step};
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Multiplies the lr by `gamma` every epoch (PyTorch's `ExponentialLR`):
/// `lr = base_lr * gamma^epoch`.
///
/// ```
/// use neurite::optim::lr_scheduler::{ExponentialLr, LrScheduler};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(1.0))?;
/// let mut sched = ExponentialLr::new(&mut opt, 0.5)?;
/// sched.step(&mut opt)?;
/// sched.step(&mut opt)?;
/// assert_eq!(opt.lr(), 0.25);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExponentialLr {
    base: Base,
    gamma: f64,
}

impl ExponentialLr {
    /// Attaches to `opt` (its lr is unchanged at epoch 0). Errors unless
    /// `gamma` is finite and `>= 0`.
    pub fn new(opt: &mut dyn Optimizer, gamma: f64) -> Result<ExponentialLr> {
        let mut s = ExponentialLr {
            base: Base::attach(opt)?,
            gamma,
        };
        s.validate()?;
        initial_step(&mut s, opt)?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::invalid(
                "ExponentialLR",
                format!("gamma must be finite and >= 0, got {}", self.gamma),
            ));
        }
        self.base.validate("ExponentialLR")
    }
}

impl Chainable for ExponentialLr {
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
    fn get_lr(&self, _group: usize, current: f64, initial: bool) -> Result<f64> {
        Ok(if initial { current } else { current * self.gamma })
    }
    fn closed_form(&self, group: usize) -> Option<f64> {
        Some(self.base.base_lrs[group] * self.gamma.powf(self.base.last_epoch as f64))
    }
}

chainable_scheduler!(ExponentialLr, "ExponentialLR");
