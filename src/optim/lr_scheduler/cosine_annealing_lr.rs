//! CosineAnnealingLR: cosine decay from the base lr to `eta_min` over `t_max` epochs.

use super::base::{Base, Chainable, chainable_scheduler, check_eta_min, initial_step};
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// Cosine annealing without restarts (PyTorch's `CosineAnnealingLR`):
///
/// ```text
/// lr(t) = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2
/// ```
///
/// computed, as PyTorch does, by the recursive form from the optimizer's current
/// lr (so it composes with other schedules); past `t_max` the cosine continues,
/// rising back to the base lr at `2 * t_max`.
///
/// ```
/// use neurite::optim::lr_scheduler::{CosineAnnealingLr, LrScheduler};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(0.1))?;
/// let mut sched = CosineAnnealingLr::new(&mut opt, 4, 0.0)?;
/// sched.step(&mut opt)?;
/// sched.step(&mut opt)?;
/// assert!((opt.lr() - 0.05).abs() < 1e-12); // half way
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosineAnnealingLr {
    base: Base,
    t_max: usize,
    eta_min: f64,
}

impl CosineAnnealingLr {
    /// Attaches to `opt` (its lr is unchanged at epoch 0). Errors unless
    /// `t_max >= 1` and `eta_min` is finite and `>= 0` (a learning rate below
    /// 0 would ascend the loss).
    pub fn new(opt: &mut dyn Optimizer, t_max: usize, eta_min: f64) -> Result<CosineAnnealingLr> {
        let mut s = CosineAnnealingLr {
            base: Base::attach(opt)?,
            t_max,
            eta_min,
        };
        s.validate()?;
        initial_step(&mut s, opt)?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        const OP: &str = "CosineAnnealingLR";
        if self.t_max == 0 {
            return Err(Error::invalid(OP, "t_max must be >= 1, got 0"));
        }
        check_eta_min(OP, self.eta_min)?;
        self.base.validate(OP)
    }
}

impl Chainable for CosineAnnealingLr {
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
    fn get_lr(&self, group: usize, current: f64, initial: bool) -> Result<f64> {
        let e = self.base.last_epoch;
        let (t_max, eta_min, base_lr) = (self.t_max as f64, self.eta_min, self.base.base_lrs[group]);
        // The branches and the order of operations are PyTorch's, so that the
        // floating-point results agree.
        Ok(if initial {
            current
        } else if self.base.step_count == 1 && e > 0 {
            eta_min + (base_lr - eta_min) * (1.0 + (e as f64 * PI / t_max).cos()) / 2.0
        } else if (i128::from(e) - 1 - self.t_max as i128).rem_euclid(2 * self.t_max as i128) == 0 {
            current + (base_lr - eta_min) * (1.0 - (PI / t_max).cos()) / 2.0
        } else {
            (1.0 + (PI * e as f64 / t_max).cos()) / (1.0 + (PI * (e - 1) as f64 / t_max).cos()) * (current - eta_min)
                + eta_min
        })
    }
    fn closed_form(&self, group: usize) -> Option<f64> {
        let e = self.base.last_epoch as f64;
        let (t_max, eta_min, base_lr) = (self.t_max as f64, self.eta_min, self.base.base_lrs[group]);
        Some(eta_min + (base_lr - eta_min) * (1.0 + (PI * e / t_max).cos()) / 2.0)
    }
}

chainable_scheduler!(CosineAnnealingLr, "CosineAnnealingLR");
