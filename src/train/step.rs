//! [`TrainStep`]: what one training or validation batch computes, for models
//! of any signature (Keras's `train_step` / `test_step`, Lightning's
//! `training_step` / `validation_step`).

use crate::data::Batch;
use crate::loss::Loss;
use crate::nn::Forward;
use crate::{Error, Result, Tensor};

/// What a step returns: the loss to minimise, optionally the outputs and
/// targets that [`super::Metric`]s are computed from, and any other scalars to
/// log (a distillation term, an auxiliary loss), each averaged over the epoch
/// like the loss and reported under its name (`val_name` in validation).
///
/// Values stay on the device; `fit` reads them back once per logging interval.
///
/// ```
/// use neurite::train::StepOutput;
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let loss = Tensor::from_vec(vec![0.5f32], (), &Device::cpu())?;
/// let aux = Tensor::from_vec(vec![0.1f32], (), &Device::cpu())?;
/// let out = StepOutput::new(loss).log("aux", aux);
/// assert_eq!(out.logged()[0].0, "aux");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct StepOutput {
    pub(crate) loss: Tensor,
    pub(crate) predictions: Option<(Tensor, Tensor)>,
    pub(crate) logs: Vec<(String, Tensor)>,
}

impl StepOutput {
    /// A step whose loss is `loss` (one value: a mean or sum reduction).
    pub fn new(loss: Tensor) -> StepOutput {
        StepOutput {
            loss,
            predictions: None,
            logs: Vec::new(),
        }
    }

    /// The model's outputs and the targets, for the trainer's metrics.
    pub fn with_predictions(mut self, outputs: &Tensor, targets: &Tensor) -> StepOutput {
        self.predictions = Some((outputs.clone(), targets.clone()));
        self
    }

    /// Adds a scalar (one-element tensor) to log under `name` (not `loss`,
    /// not a metric's name).
    pub fn log(mut self, name: impl Into<String>, value: Tensor) -> StepOutput {
        self.logs.push((name.into(), value));
        self
    }

    /// The loss.
    pub fn loss(&self) -> &Tensor {
        &self.loss
    }

    /// The extra logged values.
    pub fn logged(&self) -> &[(String, Tensor)] {
        &self.logs
    }
}

/// One step of training (and, by default, of validation) for a model `M`.
///
/// `fit_step` calls [`TrainStep::train_step`] with the model in training mode
/// and gradients recorded, then runs backward on the returned loss and steps
/// the optimizer; validation calls [`TrainStep::validation_step`] in
/// evaluation mode under no-grad. The batch holds the dataset's tensors in
/// order (`batch.get(0)?`, ..., `batch.targets()`).
///
/// Any `FnMut(&M, &Batch) -> Result<StepOutput>` closure is a `TrainStep`
/// (validation then runs the same closure). A two-input model:
///
/// ```
/// use neurite::data::{Batch, Dataset};
/// use neurite::nn::{Forward, Linear, Module};
/// use neurite::optim::{Adam, AdamConfig};
/// use neurite::train::{StepOutput, Trainer};
/// use neurite::{DType, Device, Result, Tensor};
///
/// #[derive(Module)]
/// struct TwoTower { a: Linear, b: Linear }
///
/// impl TwoTower {
///     fn forward(&self, xa: &Tensor, xb: &Tensor) -> Result<Tensor> {
///         self.a.forward(xa)?.add(&self.b.forward(xb)?)
///     }
/// }
///
/// # fn main() -> Result<()> {
/// let dev = Device::cpu();
/// let (xa, xb) = (Tensor::randn((32, 3), DType::F32, &dev)?, Tensor::randn((32, 5), DType::F32, &dev)?);
/// let y = Tensor::randn((32, 1), DType::F32, &dev)?;
/// let data = Dataset::from_tensors(vec![xa, xb, y])?;
/// let mut model = TwoTower { a: Linear::new(3, 1), b: Linear::new(5, 1) };
/// let mut opt = Adam::new(model.parameters(), AdamConfig::new(0.01))?;
/// let history = Trainer::custom().epochs(2).batch_size(8).quiet().fit_step(
///     &mut model,
///     |m: &TwoTower, b: &Batch| {
///         let out = m.forward(b.get(0)?, b.get(1)?)?;
///         Ok(StepOutput::new(neurite::loss::mse_loss(&out, b.targets())?))
///     },
///     &mut opt,
///     &data,
/// )?;
/// assert_eq!(history.loss.len(), 2);
/// # Ok(()) }
/// ```
pub trait TrainStep<M: ?Sized> {
    /// The loss (and logged values) of `batch` in training mode.
    fn train_step(&mut self, model: &M, batch: &Batch) -> Result<StepOutput>;

    /// The same in evaluation mode under no-grad (by default [`TrainStep::train_step`]).
    fn validation_step(&mut self, model: &M, batch: &Batch) -> Result<StepOutput> {
        self.train_step(model, batch)
    }
}

impl<M: ?Sized, F> TrainStep<M> for F
where
    F: FnMut(&M, &Batch) -> Result<StepOutput>,
{
    fn train_step(&mut self, model: &M, batch: &Batch) -> Result<StepOutput> {
        self(model, batch)
    }
}

/// The step of `Trainer::fit`: a [`Loss`] over `model.forward(first tensor)`
/// against the last tensor, with the outputs kept for metrics.
pub(crate) struct LossStep<'l> {
    pub loss: &'l dyn Loss,
}

impl<M: Forward + ?Sized> TrainStep<M> for LossStep<'_> {
    fn train_step(&mut self, model: &M, batch: &Batch) -> Result<StepOutput> {
        if batch.len() != 2 {
            return Err(Error::invalid(
                "Trainer::fit",
                format!(
                    "a loss over model(x) needs a dataset of (inputs, targets), got {} tensors per sample: \
                     train a model with several inputs with Trainer::fit_step and a TrainStep",
                    batch.len()
                ),
            ));
        }
        let (x, y) = (batch.get(0)?, batch.targets());
        let out = model.forward(x)?;
        let l = self.loss.forward(&out, y)?;
        Ok(StepOutput::new(l).with_predictions(&out, y))
    }
}
