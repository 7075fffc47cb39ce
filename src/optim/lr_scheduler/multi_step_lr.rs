//! MultiStepLR: decay by `gamma` at each milestone epoch.

use super::base::{Base, Chainable, chainable_scheduler, initial_step};
use super::{bisect_right, epoch_index};
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// Multiplies the lr by `gamma` when the epoch reaches each milestone
/// (PyTorch's `MultiStepLR`); a milestone listed `n` times multiplies by
/// `gamma^n`. Milestones may be given in any order.
///
/// ```
/// use neurite::optim::lr_scheduler::{LrScheduler, MultiStepLr};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig::new(1.0))?;
/// let mut sched = MultiStepLr::new(&mut opt, vec![1, 3], 0.5)?;
/// let mut lrs = vec![opt.lr()];
/// for _ in 0..4 {
///     sched.step(&mut opt)?;
///     lrs.push(opt.lr());
/// }
/// assert_eq!(lrs, vec![1.0, 0.5, 0.5, 0.25, 0.25]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MultiStepLr {
    base: Base,
    /// Sorted, with repetitions.
    milestones: Vec<usize>,
    gamma: f64,
}

impl MultiStepLr {
    /// Attaches to `opt` and sets its lr for epoch 0 (a milestone at 0 already
    /// applies). Errors unless `gamma` is finite and `>= 0`.
    pub fn new(opt: &mut dyn Optimizer, mut milestones: Vec<usize>, gamma: f64) -> Result<MultiStepLr> {
        milestones.sort_unstable();
        let mut s = MultiStepLr {
            base: Base::attach(opt)?,
            milestones,
            gamma,
        };
        s.validate()?;
        initial_step(&mut s, opt)?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(Error::invalid(
                "MultiStepLR",
                format!("gamma must be finite and >= 0, got {}", self.gamma),
            ));
        }
        if !self.milestones.is_sorted() {
            return Err(Error::invalid("MultiStepLR", "the saved milestones are not sorted"));
        }
        self.base.validate("MultiStepLR")
    }
}

impl Chainable for MultiStepLr {
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
    fn get_lr(&self, _group: usize, current: f64, _initial: bool) -> Result<f64> {
        let e = self.base.last_epoch;
        let count = self.milestones.iter().filter(|&&m| epoch_index(m) == e).count();
        if count == 0 {
            Ok(current)
        } else {
            Ok(current * self.gamma.powf(count as f64))
        }
    }
    fn closed_form(&self, group: usize) -> Option<f64> {
        let k = bisect_right(&self.milestones, self.base.last_epoch);
        Some(self.base.base_lrs[group] * self.gamma.powf(k as f64))
    }
}

chainable_scheduler!(MultiStepLr, "MultiStepLR");
