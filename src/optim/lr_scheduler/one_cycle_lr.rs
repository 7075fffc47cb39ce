//! OneCycleLR: the 1cycle policy, stepped once per batch.

use super::base::{Base, Chainable, chainable_scheduler, initial_step};
use crate::optim::Optimizer;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;

/// How [`OneCycleLr`] moves between two values within a phase.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AnnealStrategy {
    /// Half a cosine wave (PyTorch's default, `"cos"`).
    Cos,
    /// A straight line (`"linear"`).
    Linear,
}

impl AnnealStrategy {
    fn anneal(self, start: f64, end: f64, pct: f64) -> f64 {
        match self {
            AnnealStrategy::Cos => {
                let cos_out = (PI * pct).cos() + 1.0;
                end + (start - end) / 2.0 * cos_out
            }
            // The last step (step == total_steps) lies past the end of the
            // last phase (pct > 1). PyTorch extrapolates the line there, which
            // can give an lr below 0 or a momentum of 1 or more; the value is
            // held at the phase's end instead. The cosine needs no clamp: it
            // stays between the two end values whatever pct is.
            AnnealStrategy::Linear => (end - start) * pct.min(1.0) + start,
        }
    }
}

/// Which of a group's three learning rates a phase starts or ends at
/// (PyTorch's `"initial_lr"`, `"max_lr"` and `"min_lr"` group keys).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum LrPoint {
    Initial,
    Max,
    Min,
}

/// One segment of the cycle: lr and momentum move from their start to their
/// end value until step `end_step`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Phase {
    end_step: f64,
    start_lr: LrPoint,
    end_lr: LrPoint,
    start_momentum: f64,
    end_momentum: f64,
}

/// The three learning rates of one parameter group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct GroupLrs {
    initial: f64,
    max: f64,
    min: f64,
}

impl GroupLrs {
    fn at(&self, point: LrPoint) -> f64 {
        match point {
            LrPoint::Initial => self.initial,
            LrPoint::Max => self.max,
            LrPoint::Min => self.min,
        }
    }
}

/// Configuration of [`OneCycleLr`]; the defaults are PyTorch's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneCycleConfig {
    /// The peak learning rate of every group (unless `group_max_lrs` is set).
    pub max_lr: f64,
    /// One peak per parameter group, in group order (PyTorch's list
    /// `max_lr`); `None` (the default) uses `max_lr` for every group.
    pub group_max_lrs: Option<Vec<f64>>,
    /// Number of steps (batches) in the cycle; stepping further is an error.
    pub total_steps: usize,
    /// Fraction of the cycle spent increasing the lr (default 0.3).
    pub pct_start: f64,
    /// Cosine or linear annealing (default cosine).
    pub anneal_strategy: AnnealStrategy,
    /// Cycle the optimizer's momentum (SGD/RMSprop `momentum`, Adam `beta1`)
    /// inversely to the lr, between `max_momentum` and `base_momentum`
    /// (default on, as in PyTorch: it also turns momentum on for an SGD built
    /// without it).
    pub cycle_momentum: bool,
    /// Momentum at the lr's peak (default 0.85).
    pub base_momentum: f64,
    /// Momentum at the start and end of the cycle (default 0.95).
    pub max_momentum: f64,
    /// The starting lr is `max_lr / div_factor` (default 25).
    pub div_factor: f64,
    /// The final lr is `max_lr / div_factor / final_div_factor` (default 1e4).
    pub final_div_factor: f64,
    /// Three phases (up, back down to the starting lr, then to the final lr)
    /// instead of two (default off).
    pub three_phase: bool,
}

impl OneCycleConfig {
    /// PyTorch's defaults for a cycle peaking at `max_lr` over `total_steps` steps.
    pub fn new(max_lr: f64, total_steps: usize) -> Self {
        OneCycleConfig {
            max_lr,
            group_max_lrs: None,
            total_steps,
            pct_start: 0.3,
            anneal_strategy: AnnealStrategy::Cos,
            cycle_momentum: true,
            base_momentum: 0.85,
            max_momentum: 0.95,
            div_factor: 25.0,
            final_div_factor: 1e4,
            three_phase: false,
        }
    }

    fn validate(&self) -> Result<()> {
        const OP: &str = "OneCycleLR";
        if self.total_steps == 0 {
            return Err(Error::invalid(OP, "total_steps must be a positive integer, got 0"));
        }
        if !(0.0..=1.0).contains(&self.pct_start) {
            return Err(Error::invalid(
                OP,
                format!("pct_start must be between 0 and 1, got {}", self.pct_start),
            ));
        }
        for (name, v) in [
            ("max_lr", self.max_lr),
            ("div_factor", self.div_factor),
            ("final_div_factor", self.final_div_factor),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(OP, format!("{name} must be finite and > 0, got {v}")));
            }
        }
        if let Some(lrs) = &self.group_max_lrs
            && (lrs.is_empty() || lrs.iter().any(|v| !(v.is_finite() && *v > 0.0)))
        {
            return Err(Error::invalid(
                OP,
                format!("group_max_lrs must hold one finite value > 0 per parameter group, got {lrs:?}"),
            ));
        }
        if self.cycle_momentum {
            for (name, v) in [
                ("base_momentum", self.base_momentum),
                ("max_momentum", self.max_momentum),
            ] {
                if !(0.0..1.0).contains(&v) {
                    return Err(Error::invalid(OP, format!("{name} must be in [0, 1), got {v}")));
                }
            }
        }
        Ok(())
    }
}

/// The 1cycle learning-rate policy (PyTorch's `OneCycleLR`), stepped after
/// every batch: the lr rises from `max_lr / div_factor` to `max_lr` over the
/// first `pct_start` of the cycle, then falls to
/// `max_lr / div_factor / final_div_factor`; the momentum moves the other way.
///
/// ```
/// use neurite::optim::lr_scheduler::{LrScheduler, OneCycleConfig, OneCycleLr};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// # fn main() -> neurite::Result<()> {
/// # let w = neurite::Tensor::zeros(1, neurite::DType::F32, &neurite::Device::cpu())?;
/// let mut opt = Sgd::new(vec![w], SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
/// let mut sched = OneCycleLr::new(&mut opt, OneCycleConfig::new(1.0, 10))?;
/// assert!((opt.lr() - 0.04).abs() < 1e-12);
/// let mut peak: f64 = 0.0;
/// for _batch in 0..10 {
///     sched.step(&mut opt)?;
///     peak = peak.max(opt.lr());
/// }
/// assert!((peak - 1.0).abs() < 1e-12);
/// assert!(sched.step(&mut opt).is_err()); // past total_steps
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneCycleLr {
    base: Base,
    config: OneCycleConfig,
    phases: Vec<Phase>,
    /// Per parameter group.
    lrs: Vec<GroupLrs>,
}

impl OneCycleLr {
    /// Attaches to `opt`: sets each group's `initial_lr` to its
    /// `max_lr / div_factor` (even when another scheduler set it), its lr to
    /// that value and, when cycling momentum, its momentum to `max_momentum`.
    /// Errors on invalid values, a `group_max_lrs` whose length is not the
    /// number of groups, or when cycling momentum on an optimizer without a
    /// momentum hyperparameter.
    pub fn new(opt: &mut dyn Optimizer, config: OneCycleConfig) -> Result<OneCycleLr> {
        const OP: &str = "OneCycleLR";
        config.validate()?;
        let c = &config;
        let n = opt.num_groups();
        let max_lrs = match &c.group_max_lrs {
            None => vec![c.max_lr; n],
            Some(v) if v.len() == n => v.clone(),
            Some(v) => {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "group_max_lrs has {} values, {} has {n} parameter group(s)",
                        v.len(),
                        opt.name()
                    ),
                ));
            }
        };
        let lrs: Vec<GroupLrs> = max_lrs
            .iter()
            .map(|&max| {
                let initial = max / c.div_factor;
                GroupLrs {
                    initial,
                    max,
                    min: initial / c.final_div_factor,
                }
            })
            .collect();
        let total = c.total_steps as f64;
        let (lo_m, hi_m) = (c.base_momentum, c.max_momentum);
        let phase = |end_step, start_lr, end_lr, start_momentum, end_momentum| Phase {
            end_step,
            start_lr,
            end_lr,
            start_momentum,
            end_momentum,
        };
        use LrPoint::{Initial, Max, Min};
        let phases = if c.three_phase {
            vec![
                phase(c.pct_start * total - 1.0, Initial, Max, hi_m, lo_m),
                phase(2.0 * c.pct_start * total - 2.0, Max, Initial, lo_m, hi_m),
                phase(total - 1.0, Initial, Min, hi_m, hi_m),
            ]
        } else {
            vec![
                phase(c.pct_start * total - 1.0, Initial, Max, hi_m, lo_m),
                phase(total - 1.0, Max, Min, lo_m, hi_m),
            ]
        };
        if c.cycle_momentum {
            let mut previous = Vec::with_capacity(n);
            for g in 0..n {
                match opt.group_momentum(g)? {
                    Some(m) => previous.push(m),
                    None => {
                        return Err(Error::invalid(
                            OP,
                            format!(
                                "optimizer must support momentum or beta1 with `cycle_momentum` option enabled: \
                                 {} has no momentum to cycle (parameter group {g}); build the schedule with \
                                 cycle_momentum = false",
                                opt.name()
                            ),
                        ));
                    }
                }
            }
            for g in 0..n {
                if let Err(e) = opt.set_group_momentum(g, c.max_momentum) {
                    // Put back the groups already changed, so that a failed
                    // construction leaves the optimizer as it was.
                    for (h, &m) in previous.iter().enumerate().take(g) {
                        opt.set_group_momentum(h, m)?;
                    }
                    return Err(e);
                }
            }
        }
        for (g, l) in lrs.iter().enumerate() {
            opt.set_group_initial_lr(g, Some(l.initial))?;
        }
        let mut s = OneCycleLr {
            base: Base::attach(opt)?,
            config,
            phases,
            lrs,
        };
        initial_step(&mut s, opt)?;
        Ok(s)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        const OP: &str = "OneCycleLR";
        self.config.validate()?;
        let expected = if self.config.three_phase { 3 } else { 2 };
        if self.phases.len() != expected {
            return Err(Error::invalid(
                OP,
                format!("the saved state has {} phases, expected {expected}", self.phases.len()),
            ));
        }
        self.base.validate(OP)?;
        if self.lrs.len() != self.base.base_lrs.len() {
            return Err(Error::invalid(
                OP,
                format!(
                    "the saved state has lrs for {} groups and base lrs for {}",
                    self.lrs.len(),
                    self.base.base_lrs.len()
                ),
            ));
        }
        let bad = |v: f64| !(v.is_finite() && v >= 0.0);
        if let Some(l) = self.lrs.iter().find(|l| bad(l.initial) || bad(l.max) || bad(l.min)) {
            return Err(Error::invalid(
                OP,
                format!("saved lrs must be finite and >= 0, got {l:?}"),
            ));
        }
        Ok(())
    }

    /// The configuration.
    pub fn config(&self) -> &OneCycleConfig {
        &self.config
    }

    /// The phase of step `self.base.last_epoch` and the fraction of it done.
    fn position(&self) -> Result<(&Phase, f64)> {
        let step = self.base.last_epoch;
        if step > super::epoch_index(self.config.total_steps) {
            return Err(Error::invalid(
                "OneCycleLR.step",
                format!(
                    "tried to step {step} times; the specified number of total steps is {}",
                    self.config.total_steps
                ),
            ));
        }
        let step = step as f64;
        let mut start_step = 0.0;
        let last = self.phases.len().saturating_sub(1);
        for (i, p) in self.phases.iter().enumerate() {
            if step <= p.end_step || i == last {
                let span = p.end_step - start_step;
                if span == 0.0 {
                    return Err(Error::invalid(
                        "OneCycleLR",
                        format!(
                            "phase {i} has no steps (pct_start {} of {} total steps); use a larger pct_start or more steps",
                            self.config.pct_start, self.config.total_steps
                        ),
                    ));
                }
                return Ok((p, (step - start_step) / span));
            }
            start_step = p.end_step;
        }
        Err(Error::invalid("OneCycleLR", "the schedule has no phases"))
    }
}

impl Chainable for OneCycleLr {
    fn base(&self) -> &Base {
        &self.base
    }
    fn base_mut(&mut self) -> &mut Base {
        &mut self.base
    }
    fn get_lr(&self, group: usize, _current: f64, _initial: bool) -> Result<f64> {
        let (p, pct) = self.position()?;
        let l = &self.lrs[group];
        Ok(self
            .config
            .anneal_strategy
            .anneal(l.at(p.start_lr), l.at(p.end_lr), pct))
    }
    fn after_update(&self, opt: &mut dyn Optimizer) -> Result<()> {
        if self.config.cycle_momentum {
            let (p, pct) = self.position()?;
            let m = self
                .config
                .anneal_strategy
                .anneal(p.start_momentum, p.end_momentum, pct);
            for g in 0..self.lrs.len() {
                opt.set_group_momentum(g, m)?;
            }
        }
        Ok(())
    }
}

chainable_scheduler!(OneCycleLr, "OneCycleLR");
