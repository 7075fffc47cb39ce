//! ConstantLR: a constant factor for the first `total_iters` epochs.

use super::base::{Base, Chainable, chainable_scheduler, initial_step};
use super::epoch_index;
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Multiplies the lr by `factor` until epoch `total_iters`, then restores it
/// (PyTorch's `ConstantLR`; defaults there: factor 1/3, 5 epochs).
///
/// ```
/// use neurite::optim::lr_scheduler::{ConstantLr, LrScheduler};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(0.1))?;
/// let mut sched = ConstantLr::new(&mut opt, 0.5, 2)?;
/// assert_eq!(opt.lr(), 0.05);
/// sched.step(&mut opt)?;
/// sched.step(&mut opt)?;
/// assert_eq!(opt.lr(), 0.1);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstantLr {
    base: Base,
    factor: f64,
    total_iters: usize,
}

impl ConstantLr {
    /// Attaches to `opt` and sets its lr to `factor * lr`. Errors unless
    /// `0 < factor <= 1`.
    pub fn new(opt: &mut dyn Optimizer, factor: f64, total_iters: usize) -> Result<ConstantLr> {
        let mut s = ConstantLr {
            base: Base::attach(opt)?,
            factor,
            total_iters,
        };
        s.validate()?;
        initial_step(&mut s, opt)?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        // PyTorch accepts 0 but then divides by it when the factor is lifted.
        if !(self.factor > 0.0 && self.factor <= 1.0) {
            return Err(Error::invalid(
                "ConstantLR",
                format!("factor must be in (0, 1], got {}", self.factor),
            ));
        }
        self.base.validate("ConstantLR")
    }
}

impl Chainable for ConstantLr {
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
    fn get_lr(&self, _group: usize, current: f64, _initial: bool) -> Result<f64> {
        let e = self.base.last_epoch;
        Ok(if e == 0 {
            current * self.factor
        } else if e != epoch_index(self.total_iters) {
            current
        } else {
            current * (1.0 / self.factor)
        })
    }
    fn closed_form(&self, group: usize) -> Option<f64> {
        let done = if self.base.last_epoch >= epoch_index(self.total_iters) {
            1.0
        } else {
            0.0
        };
        Some(self.base.base_lrs[group] * (self.factor + done * (1.0 - self.factor)))
    }
}

chainable_scheduler!(ConstantLr, "ConstantLR");
