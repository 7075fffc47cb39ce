//! [`PruningCallback`]: keeps pruned weights at zero while `fit` fine-tunes.

use super::PruningMasks;
use crate::Result;
use crate::train::{Callback, CallbackContext, Logs};

/// A `fit` callback that re-applies fixed masks: before the first epoch and
/// after every batch, so pruned weights that an optimizer step moved are
/// zero again.
///
/// `fit` runs batch hooks once per logging interval
/// ([`Trainer::log_every`](crate::train::Trainer::log_every), 10 batches by
/// default) for each batch of the interval, so inside an interval the
/// pruned weights may be non-zero for a few steps; they are zero whenever
/// the hooks have run (after every interval, and at the end of every epoch,
/// before validation and checkpoints). For masks enforced inside every
/// step, gradients included, wrap the optimizer in
/// [`MaskedOptimizer`](super::MaskedOptimizer) instead (or as well), or use
/// `log_every(1)`.
///
/// ```
/// use neurite::nn::prune::{PruningCallback, l1_unstructured};
/// use neurite::nn::{Linear, Module};
/// use neurite::optim::{Sgd, SgdConfig};
/// use neurite::train::Trainer;
/// use neurite::data::Dataset;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut model = Linear::new(4, 1);
/// let masks = l1_unstructured(&model, "weight", 0.5)?;
/// let mut opt = Sgd::new(model.parameters(), SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
/// let x = Tensor::randn((16, 4), DType::F32, &Device::cpu())?;
/// let data = Dataset::new(x.clone(), x.sum_dim(1, true)?)?;
/// let mut keep = PruningCallback::new(masks);
/// Trainer::new(neurite::loss::mse_loss).epochs(2).batch_size(4).quiet().callback(&mut keep).fit(&mut model, &mut opt, &data)?;
/// let zeros = model.weight().to_vec::<f32>()?.iter().filter(|w| **w == 0.0).count();
/// assert_eq!(zeros, 2);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PruningCallback {
    masks: PruningMasks,
    /// The optimizer step count when the masks were last applied: the
    /// hooks of one logging interval run back to back, and one application
    /// per step is enough.
    applied_at: Option<u64>,
}

impl PruningCallback {
    /// A callback that keeps `masks` applied.
    ///
    /// ```
    /// let cb = neurite::nn::prune::PruningCallback::new(neurite::nn::prune::PruningMasks::new());
    /// assert!(cb.masks().is_empty());
    /// ```
    pub fn new(masks: PruningMasks) -> PruningCallback {
        PruningCallback {
            masks,
            applied_at: None,
        }
    }

    /// The masks it applies.
    ///
    /// ```
    /// let cb = neurite::nn::prune::PruningCallback::default();
    /// assert_eq!(cb.masks().len(), 0);
    /// ```
    pub fn masks(&self) -> &PruningMasks {
        &self.masks
    }

    /// The masks, to prune more between runs of `fit`.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(4, 4);
    /// let mut cb = neurite::nn::prune::PruningCallback::default();
    /// cb.masks_mut().l1_unstructured(&layer, "weight", 0.5)?;
    /// assert_eq!(cb.masks().num_pruned("weight"), Some(8));
    /// # Ok(()) }
    /// ```
    pub fn masks_mut(&mut self) -> &mut PruningMasks {
        self.applied_at = None;
        &mut self.masks
    }

    /// The masks, giving up the callback (to save them or `remove` them after training).
    ///
    /// ```
    /// let masks = neurite::nn::prune::PruningCallback::default().into_masks();
    /// assert!(masks.is_empty());
    /// ```
    pub fn into_masks(self) -> PruningMasks {
        self.masks
    }
}

impl Callback for PruningCallback {
    fn on_train_begin(&mut self, ctx: &mut CallbackContext<'_>) -> Result<()> {
        // Also checks the masks against the model before any step is taken.
        self.masks.apply(&*ctx.model)?;
        self.applied_at = Some(ctx.optimizer.step_count());
        Ok(())
    }

    fn on_batch_end(
        &mut self,
        _epoch: usize,
        _batch: usize,
        _logs: &Logs,
        ctx: &mut CallbackContext<'_>,
    ) -> Result<()> {
        let step = ctx.optimizer.step_count();
        if self.applied_at != Some(step) {
            self.masks.apply(&*ctx.model)?;
            self.applied_at = Some(step);
        }
        Ok(())
    }
}
