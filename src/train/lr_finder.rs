//! The learning-rate range test (Smith, "Cyclical Learning Rates for
//! Training Neural Networks"; fastai's `lr_find`, pytorch-lr-finder).

use super::weights::WeightSnapshot;
use crate::data::Dataset;
use crate::loss::Loss;
use crate::nn::Forward;
use crate::optim::Optimizer;
use crate::{Error, Result};

const OP: &str = "lr_finder";

/// How the learning rate grows from `start_lr` to `end_lr` over the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LrSweep {
    /// `lr_i = start * (end / start)^(i / (num_iter - 1))`: evenly spaced on a
    /// log scale (the default, as in fastai).
    #[default]
    Exponential,
    /// `lr_i = start + (end - start) * i / (num_iter - 1)`.
    Linear,
}

/// The settings of [`lr_finder`]. Defaults follow pytorch-lr-finder: an
/// exponential sweep, batches of 32, smoothing `beta = 0.98`, and a stop when
/// the smoothed loss exceeds 5 times the best one.
#[derive(Clone, Debug, PartialEq)]
pub struct LrFinderConfig {
    /// The first learning rate (positive).
    pub start_lr: f64,
    /// The last learning rate (above `start_lr`).
    pub end_lr: f64,
    /// Optimizer steps at most (at least 2); the run stops earlier on divergence.
    pub num_iter: usize,
    /// The sweep's shape.
    pub sweep: LrSweep,
    /// Samples per batch; batches are taken in order, cycling through the data.
    pub batch_size: usize,
    /// The weight of the running loss in the exponential smoothing, in `[0, 1)`.
    pub beta: f64,
    /// The run stops once the smoothed loss exceeds this multiple of the best
    /// smoothed loss (at least 1).
    pub diverge_threshold: f64,
}

impl LrFinderConfig {
    /// A sweep from `start_lr` to `end_lr` in `num_iter` steps, with the defaults.
    pub fn new(start_lr: f64, end_lr: f64, num_iter: usize) -> LrFinderConfig {
        LrFinderConfig {
            start_lr,
            end_lr,
            num_iter,
            sweep: LrSweep::Exponential,
            batch_size: 32,
            beta: 0.98,
            diverge_threshold: 5.0,
        }
    }

    /// Sets the sweep's shape.
    pub fn sweep(mut self, sweep: LrSweep) -> Self {
        self.sweep = sweep;
        self
    }

    /// Sets the batch size.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Sets the smoothing factor.
    pub fn beta(mut self, beta: f64) -> Self {
        self.beta = beta;
        self
    }

    /// Sets the divergence threshold.
    pub fn diverge_threshold(mut self, threshold: f64) -> Self {
        self.diverge_threshold = threshold;
        self
    }

    /// The learning rate of step `i` (0-based) of the sweep.
    pub fn lr_at(&self, i: usize) -> f64 {
        let steps = (self.num_iter - 1).max(1) as f64;
        match self.sweep {
            LrSweep::Exponential => self.start_lr * (self.end_lr / self.start_lr).powf(i as f64 / steps),
            LrSweep::Linear => self.start_lr + (self.end_lr - self.start_lr) * i as f64 / steps,
        }
    }

    fn validate(&self) -> Result<()> {
        let (s, e) = (self.start_lr, self.end_lr);
        if !(s.is_finite() && s > 0.0) {
            return Err(Error::invalid(
                OP,
                format!("start_lr must be finite and positive, got {s}"),
            ));
        }
        if !(e.is_finite() && e > s) {
            return Err(Error::invalid(
                OP,
                format!("end_lr must be finite and above start_lr {s}, got {e}"),
            ));
        }
        if self.num_iter < 2 {
            return Err(Error::invalid(
                OP,
                format!("num_iter must be at least 2 to sweep a range, got {}", self.num_iter),
            ));
        }
        if self.batch_size == 0 {
            return Err(Error::invalid(OP, "batch_size must be at least 1, got 0"));
        }
        if !(0.0..1.0).contains(&self.beta) {
            return Err(Error::invalid(OP, format!("beta must be in [0, 1), got {}", self.beta)));
        }
        if !(self.diverge_threshold.is_finite() && self.diverge_threshold >= 1.0) {
            return Err(Error::invalid(
                OP,
                format!(
                    "diverge_threshold must be finite and at least 1, got {}",
                    self.diverge_threshold
                ),
            ));
        }
        Ok(())
    }
}

/// What [`lr_finder`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct LrFinderResult {
    /// The learning rate of each step run.
    pub lrs: Vec<f64>,
    /// The smoothed (bias-corrected exponential moving average) loss after each step.
    pub losses: Vec<f64>,
    /// The learning rate where the smoothed loss falls fastest against
    /// `log(lr)` (fastai's "steep" suggestion); `None` with fewer than two points.
    pub suggestion: Option<f64>,
    /// True when the run stopped early because the loss diverged.
    pub diverged: bool,
}

/// Points fastai leaves out of the suggestion: the first tenth (still
/// dominated by the starting weights) and the last five (the divergence).
fn trimmed(n: usize) -> std::ops::Range<usize> {
    let (start, end) = (n / 10, n.saturating_sub(5));
    if end >= start + 2 { start..end } else { 0..n }
}

/// The lr at the most negative slope of `losses` against `log(lrs)`.
pub(crate) fn steepest(lrs: &[f64], losses: &[f64]) -> Option<f64> {
    let r = trimmed(lrs.len().min(losses.len()));
    let (lrs, losses) = (&lrs[r.clone()], &losses[r]);
    let mut best: Option<(usize, f64)> = None;
    for i in 0..lrs.len().saturating_sub(1) {
        let slope = (losses[i + 1] - losses[i]) / (lrs[i + 1].ln() - lrs[i].ln());
        if slope.is_finite() && best.is_none_or(|(_, b)| slope < b) {
            best = Some((i, slope));
        }
    }
    best.map(|(i, _)| lrs[i])
}

/// Smith's learning-rate range test: trains `model` for up to
/// `config.num_iter` steps on successive batches of `data` (features first,
/// targets last, in order, starting over when the data runs out) with the lr
/// set before each step by the sweep, records the smoothed loss, and stops
/// early once it exceeds `diverge_threshold` times its best value or is not
/// finite. Then it puts everything back: the model's parameters and buffers
/// (bit for bit), its train/eval mode, the optimizer's state (lr, step
/// counts, moment buffers) and the global random generator (dropout draws),
/// so the run leaves no trace but its result. The model is restored even
/// when a step fails.
///
/// Pick a learning rate from [`LrFinderResult::suggestion`] or the plot
/// ([`LrFinderResult::plot`]): the steepest descent, usually about a tenth of
/// the lr at the minimum.
///
/// Errors when `start_lr <= 0`, `end_lr <= start_lr`, `num_iter < 2`, the
/// batch size is 0, `beta` is outside `[0, 1)`, the threshold below 1, or
/// `data` is empty; and on the model's, loss's or optimizer's errors.
///
/// ```
/// use neurite::data::Dataset;
/// use neurite::nn::{Linear, Module};
/// use neurite::optim::{Sgd, SgdConfig};
/// use neurite::train::{lr_finder, LrFinderConfig};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::randn((64, 3), DType::F32, &Device::cpu())?;
/// let y = x.sum_dim(1usize, true)?;
/// let mut model = Linear::new(3, 1);
/// let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.01))?;
/// let found = lr_finder(&mut model, &mut opt, neurite::loss::mse_loss, &Dataset::new(x, y)?,
///                       &LrFinderConfig::new(1e-4, 10.0, 50).batch_size(16))?;
/// assert_eq!(found.lrs[0], 1e-4);
/// assert!(found.suggestion.is_some());
/// # Ok(()) }
/// ```
pub fn lr_finder<M: Forward>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    loss: impl Loss,
    data: &Dataset,
    config: &LrFinderConfig,
) -> Result<LrFinderResult> {
    config.validate()?;
    if data.is_empty() {
        return Err(Error::invalid(OP, "the dataset has no sample to train on"));
    }
    let weights = WeightSnapshot::take(model)?;
    let opt_state = optimizer.state()?;
    let rng = crate::rng_state();
    let was_training = model.is_training();

    let run = sweep(model, optimizer, &loss, data, config);

    model.set_training(was_training);
    crate::set_rng_state(&rng);
    let restored = weights.restore(model).and_then(|_| optimizer.load_state(&opt_state));
    let (lrs, losses, diverged) = run?;
    restored?;
    let suggestion = steepest(&lrs, &losses);
    Ok(LrFinderResult {
        lrs,
        losses,
        suggestion,
        diverged,
    })
}

/// The training part of [`lr_finder`]: `(lrs, smoothed losses, diverged)`.
fn sweep<M: Forward>(
    model: &mut M,
    optimizer: &mut dyn Optimizer,
    loss: &dyn Loss,
    data: &Dataset,
    config: &LrFinderConfig,
) -> Result<(Vec<f64>, Vec<f64>, bool)> {
    let device = model.device().unwrap_or_else(|| data.device());
    let n = data.len();
    model.set_training(true);
    let (mut lrs, mut losses) = (Vec::new(), Vec::new());
    let (mut avg, mut best) = (0.0f64, f64::INFINITY);
    let mut start = 0usize;
    for i in 0..config.num_iter {
        let len = config.batch_size.min(n - start);
        let (x, y) = data.range(start, len)?;
        start = if start + len >= n { 0 } else { start + len };
        let lr = config.lr_at(i);
        optimizer.set_lr(lr)?;
        let value = loss.forward(&model.forward(&x.to_device(&device)?)?, &y.to_device(&device)?)?;
        if value.elem_count() != 1 {
            return Err(Error::invalid(
                OP,
                format!("the loss must be a single value, got shape {:?}", value.dims()),
            ));
        }
        let grads = value.backward()?;
        optimizer.step(&grads)?;
        let raw = value.to_vec::<f64>()?[0];
        avg = config.beta * avg + (1.0 - config.beta) * raw;
        let smoothed = avg / (1.0 - config.beta.powi(i as i32 + 1));
        if !smoothed.is_finite() {
            return Ok((lrs, losses, true));
        }
        lrs.push(lr);
        losses.push(smoothed);
        best = best.min(smoothed);
        if smoothed > config.diverge_threshold * best {
            return Ok((lrs, losses, true));
        }
    }
    Ok((lrs, losses, false))
}
