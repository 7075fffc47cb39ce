//! LinearLR: a linear ramp of the lr's factor, for warm-up or decay.

use super::base::{Base, Chainable, chainable_scheduler, initial_step};
use super::epoch_index;
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Scales the lr by a factor that moves linearly from `start_factor` at epoch 0
/// to `end_factor` at epoch `total_iters`, and stays there (PyTorch's
/// `LinearLR`; defaults there: 1/3, 1.0, 5). With `start_factor < 1` and
/// `end_factor = 1` it is the usual linear warm-up.
///
/// ```
/// use neurite::optim::lr_scheduler::{LinearLr, LrScheduler};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(0.1))?;
/// let mut sched = LinearLr::new(&mut opt, 0.25, 1.0, 3)?;
/// assert!((opt.lr() - 0.025).abs() < 1e-15);
/// for _ in 0..3 {
///     sched.step(&mut opt)?;
/// }
/// assert!((opt.lr() - 0.1).abs() < 1e-15);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LinearLr {
    base: Base,
    start_factor: f64,
    end_factor: f64,
    total_iters: usize,
}

impl LinearLr {
    /// Attaches to `opt` and sets its lr to `start_factor * lr`. Errors unless
    /// `0 < start_factor <= 1`, `0 <= end_factor <= 1` and `total_iters >= 1`.
    pub fn new(opt: &mut dyn Optimizer, start_factor: f64, end_factor: f64, total_iters: usize) -> Result<LinearLr> {
        let mut s = LinearLr {
            base: Base::attach(opt)?,
            start_factor,
            end_factor,
            total_iters,
        };
        s.validate()?;
        initial_step(&mut s, opt)?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        const OP: &str = "LinearLR";
        if !(self.start_factor > 0.0 && self.start_factor <= 1.0) {
            return Err(Error::invalid(
                OP,
                format!("start_factor must be in (0, 1], got {}", self.start_factor),
            ));
        }
        if !(0.0..=1.0).contains(&self.end_factor) {
            return Err(Error::invalid(
                OP,
                format!("end_factor must be in [0, 1], got {}", self.end_factor),
            ));
        }
        if self.total_iters == 0 {
            return Err(Error::invalid(OP, "total_iters must be >= 1, got 0"));
        }
        self.base.validate(OP)
    }
}

impl Chainable for LinearLr {
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
    fn get_lr(&self, _group: usize, current: f64, initial: bool) -> Result<f64> {
        let e = self.base.last_epoch;
        let total = self.total_iters as f64;
        let (start, end) = (self.start_factor, self.end_factor);
        Ok(if e == 0 {
            current * start
        } else if initial || e > epoch_index(self.total_iters) {
            current
        } else {
            current * (1.0 + (end - start) / (total * start + (e - 1) as f64 * (end - start)))
        })
    }
    fn closed_form(&self, group: usize) -> Option<f64> {
        let total = self.total_iters as f64;
        let done = self.base.last_epoch.min(epoch_index(self.total_iters)) as f64;
        let (start, end) = (self.start_factor, self.end_factor);
        Some(self.base.base_lrs[group] * (start + (end - start) * done / total))
    }
}

chainable_scheduler!(LinearLr, "LinearLR");
