//! [`Trainer`]: the configuration of Keras-style training.

use super::step::TrainStep;
use super::{Callback, History, Logs, Metric, Verbosity, evaluate};
use crate::checkpoint::{TrainingCheckpoint, TrainingSnapshot, save_training};
use crate::data::{DataLoader, Dataset, LoaderState};
use crate::loss::Loss;
use crate::nn::{Forward, Module};
use crate::optim::lr_scheduler::LrScheduler;
use crate::optim::{Optimizer, OptimizerState, SchedulerState};
use crate::{Error, Result, RngState, Tensor};
use std::io::Write;
use std::path::{Path, PathBuf};

/// When a scheduler given to [`Trainer::scheduler`] is stepped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchedulerStep {
    /// After every epoch (after validation), PyTorch's usual place. A
    /// scheduler that needs a metric (ReduceLROnPlateau) is stepped with
    /// [`Trainer::scheduler_monitor`]'s value.
    Epoch,
    /// After every optimizer step (OneCycleLR; its `total_steps` must cover
    /// `epochs * batches per epoch`).
    Batch,
}

/// Where validation data comes from.
#[derive(Clone, Debug)]
pub(crate) enum Validation {
    None,
    Data(Dataset),
    /// The last fraction of the training data, taken before shuffling (Keras).
    Split(f64),
}

/// The state a resumed `fit` starts from (see [`Trainer::resume`]).
pub(crate) struct ResumeState {
    pub epoch: usize,
    pub step: u64,
    pub history: History,
    pub loader: Option<LoaderState>,
    pub scheduler: Option<SchedulerState>,
    pub optimizer: OptimizerState,
    pub rng: RngState,
}

/// Where the last `fit` stopped, for [`Trainer::save_checkpoint`].
pub(crate) struct LastRun {
    pub history: History,
    pub epoch: usize,
    pub step: u64,
    pub loader: DataLoader,
}

/// Keras's `model.fit` for any model: epochs, batch size, gradient accumulation,
/// seeded per-epoch shuffling, validation data or a validation split, a loss,
/// metrics, an optional learning-rate scheduler, callbacks, progress output,
/// and exact resumption from training checkpoints.
///
/// Configure it with the builder methods, then call [`Trainer::fit`] with a
/// [`Forward`] model (a `Sequential`, a derived model), its optimizer and the
/// training data, or [`Trainer::fit_step`] with any module and a
/// [`TrainStep`] (several inputs or outputs, distillation, custom losses); [`Trainer::evaluate`] and
/// [`Trainer::predict`] reuse the loss, metrics and batch size.
///
/// During `fit` the model is in training mode for the training batches and in
/// evaluation mode (under no-grad) for validation; its previous mode is
/// restored at the end. Batches are moved to the model's device. Batch losses
/// stay on the device and are read back together once per logging interval
/// ([`Trainer::log_every`]) and at the end of each epoch, never once per batch.
///
/// ```
/// use neurite::nn::{Linear, Module, ReLU, Sequential};
/// use neurite::optim::{Adam, AdamConfig};
/// use neurite::train::{EarlyStopping, Metric, Trainer};
/// use neurite::{data::Dataset, DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let x = Tensor::randn((64, 4), DType::F32, &dev)?;
/// let y = x.narrow(1, 0, 1)?.gt_scalar(0.0)?.flatten_all()?.to_dtype(DType::I64)?; // class 1 when x0 > 0
/// let mut model = Sequential::new().add(Linear::new(4, 8)).add(ReLU).add(Linear::new(8, 2));
/// let mut opt = Adam::new(model.parameters(), AdamConfig::new(0.01))?;
/// let mut early = EarlyStopping::new("val_loss").patience(3);
/// let history = Trainer::new(neurite::loss::cross_entropy)
///     .epochs(5)
///     .batch_size(16)
///     .validation_split(0.25)
///     .metric(Metric::Accuracy)
///     .callback(&mut early)
///     .quiet()
///     .fit(&mut model, &mut opt, &Dataset::new(x, y)?)?;
/// assert_eq!(history.get("val_accuracy").map(|v| v.len()), Some(history.len()));
/// # Ok(()) }
/// ```
pub struct Trainer<'a> {
    pub(crate) loss: Option<Box<dyn Loss + 'a>>,
    pub(crate) accumulation: usize,
    pub(crate) epochs: usize,
    pub(crate) batch_size: usize,
    pub(crate) validation_batch_size: Option<usize>,
    pub(crate) shuffle: bool,
    pub(crate) seed: u64,
    pub(crate) drop_last: bool,
    /// Kept apart (not one `Validation`) so that setting both is reported
    /// by `fit` instead of one silently replacing the other.
    pub(crate) validation_data: Option<Dataset>,
    pub(crate) validation_split: Option<f64>,
    pub(crate) metrics: Vec<Metric>,
    pub(crate) scheduler: Option<Box<dyn LrScheduler + 'a>>,
    pub(crate) scheduler_step: SchedulerStep,
    pub(crate) scheduler_monitor: String,
    pub(crate) callbacks: Vec<Box<dyn Callback + 'a>>,
    pub(crate) verbosity: Verbosity,
    pub(crate) print_every: usize,
    pub(crate) log_every: usize,
    pub(crate) output: Option<Box<dyn Write + Send + 'a>>,
    pub(crate) checkpoint_path: Option<PathBuf>,
    pub(crate) resume: Option<ResumeState>,
    pub(crate) last: Option<LastRun>,
    /// The autocast dtype of forward passes, set by [`Trainer::mixed_precision`].
    pub(crate) precision: Option<crate::DType>,
    pub(crate) scaler: Option<crate::optim::GradScaler>,
}

impl<'a> Trainer<'a> {
    /// A trainer minimising `loss`: any [`Loss`] (`neurite::loss::BceLoss::new()`,
    /// `neurite::loss::cross_entropy`, or a closure
    /// `|out: &Tensor, target: &Tensor| -> Result<Tensor>` returning one value).
    ///
    /// Defaults follow Keras: 1 epoch, batch size 32, shuffling every epoch
    /// (seed 0), no validation, no metric, a progress bar; losses are read
    /// back every 10 batches.
    pub fn new(loss: impl Loss + 'a) -> Trainer<'a> {
        let mut t = Trainer::custom();
        t.loss = Some(Box::new(loss));
        t
    }

    /// A trainer without a loss, for [`Trainer::fit_step`], where the step
    /// computes the loss. Same defaults as [`Trainer::new`].
    pub fn custom() -> Trainer<'a> {
        Trainer {
            loss: None,
            accumulation: 1,
            epochs: 1,
            batch_size: 32,
            validation_batch_size: None,
            shuffle: true,
            seed: 0,
            drop_last: false,
            validation_data: None,
            validation_split: None,
            metrics: Vec::new(),
            scheduler: None,
            scheduler_step: SchedulerStep::Epoch,
            scheduler_monitor: "val_loss".into(),
            callbacks: Vec::new(),
            verbosity: Verbosity::ProgressBar,
            print_every: 1,
            log_every: 10,
            output: None,
            checkpoint_path: None,
            resume: None,
            last: None,
            precision: None,
            scaler: None,
        }
    }

    /// The index one past the last epoch to run (Keras's `epochs`: a resumed
    /// run at epoch 2 with `epochs(4)` trains epochs 2 and 3).
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.epochs = epochs;
        self
    }

    /// Samples per training batch (must be positive).
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }

    /// Samples per validation, `evaluate` and `predict` batch (default: the training batch size).
    pub fn validation_batch_size(mut self, batch_size: usize) -> Self {
        self.validation_batch_size = Some(batch_size);
        self
    }

    /// Mixed-precision training: every training and validation forward pass
    /// (the model and the loss) runs in an [`crate::autocast`] scope, so
    /// matrix products and convolutions compute in `dtype` (`BF16` or `F16`)
    /// with `F32` accumulation while weights, gradients, optimizer state,
    /// reductions, softmax and losses stay `F32`. `F16` also installs a
    /// [`crate::optim::GradScaler`] (PyTorch's defaults) unless one was set.
    /// Another dtype makes `fit` an error.
    pub fn mixed_precision(mut self, dtype: crate::DType) -> Self {
        self.precision = Some(dtype);
        if dtype == crate::DType::F16 && self.scaler.is_none() {
            self.scaler = Some(crate::optim::GradScaler::new());
        }
        self
    }

    /// Scales the loss with `scaler` before every backward pass and steps the
    /// optimizer through it (skipping steps whose gradients hold inf or NaN),
    /// PyTorch's `GradScaler` loop. [`Trainer::mixed_precision`] with `F16`
    /// sets a default one.
    pub fn grad_scaler(mut self, scaler: crate::optim::GradScaler) -> Self {
        self.scaler = Some(scaler);
        self
    }

    /// The loss scaler, with its scale and growth tracker after `fit`.
    pub fn get_grad_scaler(&self) -> Option<&crate::optim::GradScaler> {
        self.scaler.as_ref()
    }

    /// Steps the optimizer once every `k` batches with their gradients
    /// accumulated (default 1): each batch's gradient is weighted by its
    /// sample count and the sum divided by the group's samples, so `k` batches
    /// of `n` give the gradient of one batch of `k * n` (for mean-reduced
    /// losses and layers without batch statistics). Per-batch schedulers step
    /// with the optimizer. `k` must be at least 1 (checked by `fit`).
    pub fn accumulation_steps(mut self, k: usize) -> Self {
        self.accumulation = k;
        self
    }

    /// Shuffles the training samples every epoch (the default) or keeps their order.
    pub fn shuffle(mut self, on: bool) -> Self {
        self.shuffle = on;
        self
    }

    /// The seed of the shuffling generator: the same seed gives the same
    /// sequence of epoch orders (independent of the global generator).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Drops the last training batch of an epoch when it is short.
    pub fn drop_last(mut self, on: bool) -> Self {
        self.drop_last = on;
        self
    }

    /// Validates on `data` after every epoch. Setting a
    /// [`Trainer::validation_split`] too is an error (reported by `fit`),
    /// as it is ambiguous which one should validate.
    pub fn validation_data(mut self, data: Dataset) -> Self {
        self.validation_data = Some(data);
        self
    }

    /// Holds out the last `fraction` of the training samples (in their given
    /// order, before any shuffling) for validation, as Keras does: the first
    /// `floor(n * (1 - fraction))` samples train. `fraction` must be in
    /// `(0, 1)`, and setting [`Trainer::validation_data`] too is an error
    /// (both checked by `fit`).
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.validation_split = Some(fraction);
        self
    }

    /// Adds a metric (reported as `name` and, with validation, `val_name`).
    pub fn metric(mut self, metric: Metric) -> Self {
        self.metrics.push(metric);
        self
    }

    /// Steps `scheduler` after every epoch (see [`Trainer::scheduler_step`]).
    /// Build it over the optimizer given to `fit`.
    pub fn scheduler(mut self, scheduler: impl LrScheduler + 'a) -> Self {
        self.scheduler = Some(Box::new(scheduler));
        self
    }

    /// [`Trainer::scheduler`] for a boxed scheduler (such as
    /// [`TrainingCheckpoint::build_scheduler`]'s).
    pub fn boxed_scheduler(mut self, scheduler: Box<dyn LrScheduler + 'a>) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// Per epoch (default) or per batch scheduler steps.
    pub fn scheduler_step(mut self, step: SchedulerStep) -> Self {
        self.scheduler_step = step;
        self
    }

    /// The log value a metric-driven scheduler (ReduceLROnPlateau) is
    /// stepped with (default `"val_loss"`).
    pub fn scheduler_monitor(mut self, name: impl Into<String>) -> Self {
        self.scheduler_monitor = name.into();
        self
    }

    /// Adds a callback; callbacks run in the order added. Pass `&mut cb` to
    /// inspect it after `fit`.
    pub fn callback(mut self, callback: impl Callback + 'a) -> Self {
        self.callbacks.push(Box::new(callback));
        self
    }

    /// How much to print.
    pub fn verbosity(mut self, verbosity: Verbosity) -> Self {
        self.verbosity = verbosity;
        self
    }

    /// `true`: a progress bar per epoch on a terminal (the default); `false`:
    /// one summary line per epoch.
    pub fn verbose(self, on: bool) -> Self {
        self.verbosity(if on {
            Verbosity::ProgressBar
        } else {
            Verbosity::EpochLines
        })
    }

    /// Prints nothing.
    pub fn quiet(self) -> Self {
        self.verbosity(Verbosity::Silent)
    }

    /// Prints (or keeps the bar of) every `n`-th epoch only, plus the last
    /// one and the one training stopped at.
    pub fn print_every(mut self, n: usize) -> Self {
        self.print_every = n.max(1);
        self
    }

    /// Reads the batch losses back from the device every `n` batches (and at
    /// the end of each epoch): the running loss on the progress bar, batch
    /// callbacks and the NaN check are updated at that rate. Values below 1
    /// count as 1 (a read per batch).
    pub fn log_every(mut self, n: usize) -> Self {
        self.log_every = n.max(1);
        self
    }

    /// Writes progress lines to `out` instead of standard output (no progress
    /// bar is drawn then).
    pub fn output(mut self, out: impl Write + Send + 'a) -> Self {
        self.output = Some(Box::new(out));
        self
    }

    /// Saves a training checkpoint to `path` after every epoch (atomically),
    /// so that a crashed run can resume with [`Trainer::resume`].
    pub fn checkpoint_every_epoch(mut self, path: impl AsRef<Path>) -> Self {
        self.checkpoint_path = Some(path.as_ref().to_path_buf());
        self
    }

    /// Continues from a training checkpoint: the next `fit` starts at its
    /// epoch and step with its history, loads its optimizer state into the
    /// optimizer given to `fit` (so the learning rate is the saved one even if
    /// a scheduler was built since), loads its scheduler state into this
    /// trainer's scheduler (or rebuilds the scheduler from it), restores the
    /// shuffling generator and, last, the global random generator.
    ///
    /// Train `checkpoint.model` (it holds the saved weights and buffers), with
    /// the same data and trainer configuration; then the result is bit-for-bit
    /// that of an uninterrupted run on the CPU.
    ///
    /// ```no_run
    /// use neurite::checkpoint::load_training;
    /// use neurite::train::{History, Trainer};
    /// # fn main() -> neurite::Result<()> {
    /// # let data: neurite::data::Dataset = todo!();
    /// let ckpt = load_training::<History>("run.ckpt", &neurite::Device::best())?;
    /// let mut trainer = Trainer::new(neurite::loss::cross_entropy).epochs(10).resume(&ckpt);
    /// let mut opt = ckpt.build_optimizer()?;
    /// let mut model = ckpt.model;
    /// let history = trainer.fit(&mut model, &mut *opt, &data)?;
    /// # Ok(()) }
    /// ```
    pub fn resume<M>(mut self, checkpoint: &TrainingCheckpoint<History, M>) -> Self {
        self.resume = Some(ResumeState {
            epoch: checkpoint.epoch as usize,
            step: checkpoint.step,
            history: checkpoint.history.clone(),
            loader: checkpoint.loader_state.clone(),
            scheduler: checkpoint.scheduler_state.clone(),
            optimizer: checkpoint.optimizer_state.clone(),
            rng: checkpoint.rng.clone(),
        });
        self
    }

    /// The scheduler, if any (its state after `fit`).
    pub fn get_scheduler(&self) -> Option<&(dyn LrScheduler + 'a)> {
        self.scheduler.as_deref()
    }

    /// The history of the last `fit`.
    pub fn history(&self) -> Option<&History> {
        self.last.as_ref().map(|l| &l.history)
    }

    /// Saves a training checkpoint of where the last `fit` ended: `model` and
    /// `optimizer` (those given to it), the scheduler, the shuffling
    /// generator, the global generator (now), epoch, step and history.
    /// Errors when `fit` has not run.
    pub fn save_checkpoint(&self, path: impl AsRef<Path>, model: &dyn Module, optimizer: &dyn Optimizer) -> Result<()> {
        let last = self.last.as_ref().ok_or_else(|| {
            Error::invalid(
                "Trainer::save_checkpoint",
                "nothing to save yet: call fit first (or use checkpoint_every_epoch)",
            )
        })?;
        let mut snap = TrainingSnapshot::new(model, optimizer, &last.history)
            .epoch(last.epoch as u64)
            .step(last.step)
            .loader(&last.loader);
        if let Some(s) = self.scheduler.as_deref() {
            snap = snap.scheduler(s);
        }
        save_training(path, &snap)
    }

    /// Where validation data comes from; errors when both validation data
    /// and a validation split were set.
    pub(crate) fn validation(&self, op: &'static str) -> Result<Validation> {
        match (&self.validation_data, self.validation_split) {
            (Some(_), Some(f)) => Err(Error::invalid(
                op,
                format!(
                    "both validation_data and validation_split ({f}) are set; set only one: \
                     validation_split holds out the tail of the training data, validation_data replaces it"
                ),
            )),
            (Some(d), None) => Ok(Validation::Data(d.clone())),
            (None, Some(f)) => Ok(Validation::Split(f)),
            (None, None) => Ok(Validation::None),
        }
    }

    /// The batch size of validation, `evaluate` and `predict`.
    pub(crate) fn eval_batch_size(&self) -> usize {
        self.validation_batch_size.unwrap_or(self.batch_size)
    }

    /// The loss and metrics of `model` on `data`, in evaluation mode under
    /// no-grad (Keras's `evaluate`): `"loss"` and one value per metric name,
    /// sample-weighted over batches. The model's mode is restored afterwards.
    /// Needs the trainer's loss (see [`Trainer::evaluate_step`] otherwise).
    pub fn evaluate<M: Forward + ?Sized>(&self, model: &mut M, data: &Dataset) -> Result<Logs> {
        let loss = self
            .loss
            .as_deref()
            .ok_or_else(|| Error::invalid("Trainer::evaluate", "this trainer has no loss: use evaluate_step"))?;
        self.evaluate_step(model, &mut super::step::LossStep { loss }, data)
    }

    /// [`Trainer::evaluate`] with a [`TrainStep`]'s `validation_step`: the
    /// loss, metrics and logged values, for a model of any signature.
    pub fn evaluate_step<M: Module + ?Sized, S: TrainStep<M> + ?Sized>(
        &self,
        model: &mut M,
        step: &mut S,
        data: &Dataset,
    ) -> Result<Logs> {
        if self.eval_batch_size() == 0 {
            return Err(Error::invalid("Trainer::evaluate", "the batch size must be at least 1"));
        }
        evaluate::evaluate_dataset(model, step, &self.metrics, data, self.eval_batch_size(), "")
    }

    /// `model`'s outputs for the samples of `x` (first dimension), computed in
    /// batches in evaluation mode under no-grad, on the model's device.
    pub fn predict<M: Forward + ?Sized>(&self, model: &mut M, x: &Tensor) -> Result<Tensor> {
        evaluate::predict(model, x, self.eval_batch_size())
    }
}
