//! Gradual magnitude pruning during training (Zhu & Gupta, 2017, "To prune,
//! or not to prune").

use super::PruningMasks;
use super::unstructured::{Count, check_fraction};
use crate::train::{Callback, CallbackContext, Logs};
use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The polynomial sparsity schedule of Zhu & Gupta (2017):
/// `s_t = s_f + (s_i - s_f) * (1 - (t - t0) / (t_end - t0))^3` for
/// `t0 <= t <= t_end`, pruning every `frequency` optimizer steps from `t0`
/// (`t_end - t0 = n * dt` in the paper's notation), so sparsity rises fast
/// at first, while the network can recover, and slowly near the end.
///
/// The pruning steps are `t0, t0 + frequency, ...` up to `t_end`, and
/// `t_end` itself (so the final sparsity is reached even when `t_end - t0`
/// is not a multiple of `frequency`). Steps count completed optimizer steps
/// ([`Optimizer::step_count`](crate::optim::Optimizer::step_count)).
///
/// ```
/// use neurite::nn::prune::PolynomialSchedule;
/// # fn main() -> neurite::Result<()> {
/// let s = PolynomialSchedule::new(0.0, 0.8, 0, 100, 10)?;
/// assert_eq!(s.sparsity_at(0), 0.0);
/// assert!((s.sparsity_at(50) - 0.7).abs() < 1e-12); // 0.8 - 0.8 * 0.5^3
/// assert_eq!(s.sparsity_at(100), 0.8);
/// assert_eq!(s.target_at(15), Some(s.sparsity_at(10))); // the last pruning step is 10
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PolynomialSchedule {
    /// Sparsity `s_i` at the first pruning step, in `[0, 1)`.
    pub initial_sparsity: f64,
    /// Sparsity `s_f` reached at `end_step`, in `[initial_sparsity, 1)`.
    pub final_sparsity: f64,
    /// First pruning step `t0`.
    pub begin_step: u64,
    /// Last pruning step `t_end`, at least `begin_step`.
    pub end_step: u64,
    /// Steps between pruning steps `dt`, at least 1.
    pub frequency: u64,
}

impl PolynomialSchedule {
    /// A checked schedule (see [`PolynomialSchedule::validate`]).
    ///
    /// ```
    /// use neurite::nn::prune::PolynomialSchedule;
    /// assert!(PolynomialSchedule::new(0.5, 0.9, 100, 1000, 100).is_ok());
    /// assert!(PolynomialSchedule::new(0.5, 1.0, 100, 1000, 100).is_err());
    /// ```
    pub fn new(
        initial_sparsity: f64,
        final_sparsity: f64,
        begin_step: u64,
        end_step: u64,
        frequency: u64,
    ) -> Result<PolynomialSchedule> {
        let s = PolynomialSchedule {
            initial_sparsity,
            final_sparsity,
            begin_step,
            end_step,
            frequency,
        };
        s.validate()?;
        Ok(s)
    }

    /// Errors unless both sparsities are in `[0, 1)` with
    /// `initial <= final` (masks never loosen), `begin_step <= end_step` and
    /// `frequency >= 1`.
    ///
    /// ```
    /// use neurite::nn::prune::PolynomialSchedule;
    /// let mut s = PolynomialSchedule::new(0.0, 0.5, 0, 10, 1).unwrap();
    /// s.frequency = 0;
    /// assert!(s.validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "PolynomialSchedule";
        check_fraction(self.initial_sparsity, "initial sparsity", OP)?;
        check_fraction(self.final_sparsity, "final sparsity", OP)?;
        if self.initial_sparsity > self.final_sparsity {
            return Err(Error::invalid(
                OP,
                format!(
                    "the initial sparsity {} exceeds the final sparsity {}: pruned weights are never restored",
                    self.initial_sparsity, self.final_sparsity
                ),
            ));
        }
        if self.begin_step > self.end_step {
            return Err(Error::invalid(
                OP,
                format!(
                    "the begin step {} is after the end step {}",
                    self.begin_step, self.end_step
                ),
            ));
        }
        if self.frequency == 0 {
            return Err(Error::invalid(OP, "the pruning frequency must be at least 1 step"));
        }
        Ok(())
    }

    /// The polynomial at step `t`, with `t` clamped to `[begin_step, end_step]`.
    ///
    /// ```
    /// use neurite::nn::prune::PolynomialSchedule;
    /// let s = PolynomialSchedule::new(0.2, 0.6, 10, 20, 2).unwrap();
    /// assert_eq!((s.sparsity_at(0), s.sparsity_at(10), s.sparsity_at(99)), (0.2, 0.2, 0.6));
    /// ```
    pub fn sparsity_at(&self, t: u64) -> f64 {
        let (si, sf) = (self.initial_sparsity, self.final_sparsity);
        if t >= self.end_step {
            return sf;
        }
        if t <= self.begin_step {
            return si;
        }
        let progress = (t - self.begin_step) as f64 / (self.end_step - self.begin_step) as f64;
        sf + (si - sf) * (1.0 - progress).powi(3)
    }

    /// The latest pruning step at or before `t` (`None` before `begin_step`).
    ///
    /// ```
    /// use neurite::nn::prune::PolynomialSchedule;
    /// let s = PolynomialSchedule::new(0.0, 0.5, 5, 12, 3).unwrap();
    /// assert_eq!(s.last_pruning_step(4), None);
    /// assert_eq!(s.last_pruning_step(10), Some(8));
    /// assert_eq!(s.last_pruning_step(12), Some(12));
    /// assert_eq!(s.last_pruning_step(500), Some(12));
    /// ```
    pub fn last_pruning_step(&self, t: u64) -> Option<u64> {
        if t < self.begin_step {
            return None;
        }
        if t >= self.end_step {
            return Some(self.end_step);
        }
        let k = (t - self.begin_step) / self.frequency.max(1);
        Some(self.begin_step + k * self.frequency.max(1))
    }

    /// The sparsity pruned to once `t` steps are done: that of the latest
    /// pruning step, `None` before the first.
    ///
    /// ```
    /// use neurite::nn::prune::PolynomialSchedule;
    /// let s = PolynomialSchedule::new(0.1, 0.5, 5, 15, 5).unwrap();
    /// assert_eq!(s.target_at(4), None);
    /// assert_eq!(s.target_at(7), Some(0.1));
    /// ```
    pub fn target_at(&self, t: u64) -> Option<f64> {
        self.last_pruning_step(t).map(|s| self.sparsity_at(s))
    }
}

/// Whether a sparsity target is shared by all the parameters or applies to each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PruningScope {
    /// One magnitude threshold over all the parameters together (as
    /// `global_unstructured`): the target is the sparsity of their union.
    #[default]
    Global,
    /// Each parameter reaches the target sparsity on its own (as `l1_unstructured`).
    PerLayer,
}

/// A `fit` callback that prunes gradually by magnitude along a
/// [`PolynomialSchedule`], and keeps the pruned weights at zero in between
/// (as [`super::PruningCallback`] does, with the same caveat about
/// `log_every`).
///
/// At each pruning step the smallest-magnitude entries not yet pruned are
/// added to the masks until the schedule's sparsity is reached (over the
/// union of `params`, or for each, per [`PruningScope`]); the count is
/// `round(s_t * n)`, half to even, and earlier pruning is never undone.
/// The schedule is checked at the start of training and after every batch
/// against the optimizer's step count, so one interval of batch hooks that
/// spans several pruning steps prunes once, to the latest target.
///
/// ```
/// use neurite::nn::prune::{GradualPruning, PolynomialSchedule, PruningScope};
/// use neurite::nn::{Linear, Module, ReLU, Sequential};
/// use neurite::optim::{Sgd, SgdConfig};
/// use neurite::train::Trainer;
/// use neurite::data::Dataset;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut model = Sequential::new().add(Linear::new(4, 8)).add(ReLU).add(Linear::new(8, 1));
/// let schedule = PolynomialSchedule::new(0.0, 0.75, 0, 8, 2)?;
/// let mut pruning = GradualPruning::new(schedule, &["0.weight", "2.weight"], PruningScope::Global)?;
/// let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.01))?;
/// let x = Tensor::randn((32, 4), DType::F32, &Device::cpu())?;
/// let data = Dataset::new(x.clone(), x.sum_dim(1, true)?)?;
/// Trainer::new(neurite::loss::mse_loss).epochs(3).batch_size(8).log_every(1).quiet()
///     .callback(&mut pruning).fit(&mut model, &mut opt, &data)?;
/// let pruned = pruning.masks().num_pruned("0.weight").unwrap() + pruning.masks().num_pruned("2.weight").unwrap();
/// assert_eq!(pruned, 30); // round(0.75 * 40)
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct GradualPruning {
    schedule: PolynomialSchedule,
    params: Vec<String>,
    scope: PruningScope,
    masks: PruningMasks,
    /// The last pruning step carried out, so that each is done once.
    done: Option<u64>,
    /// The step count at the last application of the masks.
    applied_at: Option<u64>,
}

impl GradualPruning {
    /// Prunes the parameters `params` (dotted names) along `schedule`.
    /// Errors on an invalid schedule, an empty list, or a name listed twice;
    /// names are checked against the model when training starts.
    ///
    /// ```
    /// use neurite::nn::prune::{GradualPruning, PolynomialSchedule, PruningScope};
    /// let s = PolynomialSchedule::new(0.0, 0.9, 0, 1000, 100).unwrap();
    /// assert!(GradualPruning::new(s, &["0.weight"], PruningScope::PerLayer).is_ok());
    /// assert!(GradualPruning::new(s, &[] as &[&str], PruningScope::Global).is_err());
    /// ```
    pub fn new(
        schedule: PolynomialSchedule,
        params: &[impl AsRef<str>],
        scope: PruningScope,
    ) -> Result<GradualPruning> {
        const OP: &str = "GradualPruning::new";
        schedule.validate()?;
        let params: Vec<String> = params.iter().map(|p| p.as_ref().to_string()).collect();
        if params.is_empty() {
            return Err(Error::invalid(OP, "no parameter to prune: the list of names is empty"));
        }
        for (i, n) in params.iter().enumerate() {
            if params[..i].contains(n) {
                return Err(Error::invalid(OP, format!("the parameter {n:?} is listed twice")));
            }
        }
        Ok(GradualPruning {
            schedule,
            params,
            scope,
            masks: PruningMasks::new(),
            done: None,
            applied_at: None,
        })
    }

    /// Starts from existing masks (those of an earlier run, to resume):
    /// their pruned entries stay pruned and count towards the targets.
    ///
    /// ```
    /// use neurite::nn::prune::{GradualPruning, PolynomialSchedule, PruningMasks, PruningScope};
    /// let s = PolynomialSchedule::new(0.0, 0.9, 0, 1000, 100).unwrap();
    /// let g = GradualPruning::new(s, &["weight"], PruningScope::Global).unwrap().with_masks(PruningMasks::new());
    /// assert!(g.masks().is_empty());
    /// ```
    pub fn with_masks(mut self, masks: PruningMasks) -> GradualPruning {
        self.masks = masks;
        self.done = None;
        self.applied_at = None;
        self
    }

    /// The schedule.
    ///
    /// ```
    /// use neurite::nn::prune::{GradualPruning, PolynomialSchedule, PruningScope};
    /// let s = PolynomialSchedule::new(0.0, 0.9, 0, 1000, 100).unwrap();
    /// assert_eq!(GradualPruning::new(s, &["w"], PruningScope::Global).unwrap().schedule(), &s);
    /// ```
    pub fn schedule(&self) -> &PolynomialSchedule {
        &self.schedule
    }

    /// The masks built so far.
    ///
    /// ```
    /// use neurite::nn::prune::{GradualPruning, PolynomialSchedule, PruningScope};
    /// let s = PolynomialSchedule::new(0.0, 0.9, 0, 1000, 100).unwrap();
    /// assert!(GradualPruning::new(s, &["w"], PruningScope::Global).unwrap().masks().is_empty());
    /// ```
    pub fn masks(&self) -> &PruningMasks {
        &self.masks
    }

    /// The masks, giving up the callback (to keep fine-tuning with
    /// [`super::PruningCallback`], save them, or `remove` them).
    ///
    /// ```
    /// use neurite::nn::prune::{GradualPruning, PolynomialSchedule, PruningScope};
    /// let s = PolynomialSchedule::new(0.0, 0.9, 0, 1000, 100).unwrap();
    /// assert!(GradualPruning::new(s, &["w"], PruningScope::Global).unwrap().into_masks().is_empty());
    /// ```
    pub fn into_masks(self) -> PruningMasks {
        self.masks
    }

    /// Prunes when a pruning step was reached since the last call, then
    /// re-applies the masks (once per optimizer step).
    fn update(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        const OP: &str = "GradualPruning";
        let t = ctx.optimizer.step_count();
        let model = &*ctx.model;
        if let Some(step) = self.schedule.last_pruning_step(t)
            && self.done != Some(step)
        {
            let count = Count::Sparsity(self.schedule.sparsity_at(step));
            match self.scope {
                PruningScope::Global => {
                    let names: Vec<&str> = self.params.iter().map(String::as_str).collect();
                    self.masks.magnitude_prune(model, &names, count, OP)?;
                }
                PruningScope::PerLayer => {
                    for name in &self.params {
                        self.masks.magnitude_prune(model, &[name.as_str()], count, OP)?;
                    }
                }
            }
            self.done = Some(step);
            // Pruning zeroed the new entries and the old ones stay zero from the last application.
            self.applied_at = None;
        }
        if self.applied_at != Some(t) {
            self.masks.apply(model)?;
            self.applied_at = Some(t);
        }
        Ok(())
    }
}

impl Callback for GradualPruning {
    fn on_train_begin(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        // Checks the names against the model before the first step, and
        // prunes to the initial sparsity when training starts at t0.
        let params = ctx.model.named_parameters();
        for name in &self.params {
            match params.iter().find(|(n, _)| n == name) {
                Some((_, t)) => super::masks::float_param(name, t, "GradualPruning")?,
                None => return Err(super::masks::unknown_param(name, &params, "GradualPruning")),
            }
        }
        self.update(ctx)
    }

    fn on_batch_end(
        &mut self,
        _epoch: usize,
        _batch: usize,
        _logs: &Logs,
        ctx: &mut CallbackContext<'_>,
    ) -> Result<()> {
        self.update(ctx)
    }
}
