//! [`MaskedOptimizer`]: an optimizer whose every step respects pruning masks.

use super::PruningMasks;
use crate::nn::Module;
use crate::optim::{Optimizer, OptimizerConfig, OptimizerState};
use crate::{GradStore, Result, Tensor};

/// Wraps an optimizer so that each step first zeroes the gradients of pruned
/// entries, then updates, then zeroes the pruned weights: pruned weights
/// stay exactly zero after every step, and momentum, Adam's moments or
/// weight decay never build up for them (PyTorch gets the same effect from
/// its `weight_orig * weight_mask` re-parametrisation, whose gradient is
/// masked).
///
/// Everything else (learning rates, groups, state for checkpoints) is the
/// inner optimizer's, so a checkpoint saved through the wrapper resumes into
/// a plain optimizer of the same kind.
///
/// ```
/// use neurite::nn::prune::{MaskedOptimizer, l1_unstructured};
/// use neurite::nn::{Linear, Module};
/// use neurite::optim::{Sgd, SgdConfig};
/// use neurite::train::Trainer;
/// use neurite::data::Dataset;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut model = Linear::new(4, 1);
/// let masks = l1_unstructured(&model, "weight", 0.5)?;
/// let sgd = Sgd::new(model.parameters(), SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
/// let mut opt = MaskedOptimizer::new(sgd, masks, &model)?;
/// let x = Tensor::randn((16, 4), DType::F32, &Device::cpu())?;
/// let data = Dataset::new(x.clone(), x.sum_dim(1, true)?)?;
/// Trainer::new(neurite::loss::mse_loss).epochs(2).batch_size(4).quiet().fit(&mut model, &mut opt, &data)?;
/// let zeros = model.weight().to_vec::<f32>()?.iter().filter(|w| **w == 0.0).count();
/// assert_eq!(zeros, 2);
/// # Ok(()) }
/// ```
pub struct MaskedOptimizer<O> {
    inner: O,
    masks: PruningMasks,
    /// The parameter of each mask, in mask order, resolved once.
    targets: Vec<Tensor>,
}

impl<O: Optimizer> MaskedOptimizer<O> {
    /// Wraps `inner` (built over `model.parameters()`) with `masks`, whose
    /// names are resolved in `model` now and applied at once. Errors when a
    /// masked name is not a floating-point parameter of `model` with the
    /// mask's shape. Like the optimizer itself, it holds the parameter
    /// tensors: build it after moving or casting the model.
    ///
    /// ```
    /// use neurite::nn::prune::{MaskedOptimizer, PruningMasks};
    /// use neurite::nn::{Linear, Module};
    /// use neurite::optim::{Optimizer, Sgd, SgdConfig};
    /// # fn main() -> neurite::Result<()> {
    /// let layer = Linear::new(2, 2);
    /// let opt = MaskedOptimizer::new(Sgd::new(layer.parameters(), SgdConfig::new(0.1))?, PruningMasks::new(), &layer)?;
    /// assert_eq!(opt.name(), "SGD");
    /// # Ok(()) }
    /// ```
    pub fn new(inner: O, masks: PruningMasks, model: &dyn Module) -> Result<MaskedOptimizer<O>> {
        let targets = masks
            .resolve(model, "MaskedOptimizer::new")?
            .into_iter()
            .map(|(_, p)| p)
            .collect();
        masks.apply(model)?;
        Ok(MaskedOptimizer { inner, masks, targets })
    }

    /// The masks enforced.
    ///
    /// ```
    /// # use neurite::nn::prune::{MaskedOptimizer, PruningMasks};
    /// # use neurite::nn::{Linear, Module};
    /// # use neurite::optim::{Sgd, SgdConfig};
    /// # fn main() -> neurite::Result<()> {
    /// # let layer = Linear::new(2, 2);
    /// let opt = MaskedOptimizer::new(Sgd::new(layer.parameters(), SgdConfig::new(0.1))?, PruningMasks::new(), &layer)?;
    /// assert!(opt.masks().is_empty());
    /// # Ok(()) }
    /// ```
    pub fn masks(&self) -> &PruningMasks {
        &self.masks
    }

    /// The wrapped optimizer.
    ///
    /// ```
    /// # use neurite::nn::prune::{MaskedOptimizer, PruningMasks};
    /// # use neurite::nn::{Linear, Module};
    /// # use neurite::optim::{Optimizer, Sgd, SgdConfig};
    /// # fn main() -> neurite::Result<()> {
    /// # let layer = Linear::new(2, 2);
    /// let opt = MaskedOptimizer::new(Sgd::new(layer.parameters(), SgdConfig::new(0.1))?, PruningMasks::new(), &layer)?;
    /// assert_eq!(opt.inner().step_count(), 0);
    /// # Ok(()) }
    /// ```
    pub fn inner(&self) -> &O {
        &self.inner
    }

    /// The optimizer and the masks, unwrapped.
    ///
    /// ```
    /// # use neurite::nn::prune::{MaskedOptimizer, PruningMasks};
    /// # use neurite::nn::{Linear, Module};
    /// # use neurite::optim::{Sgd, SgdConfig};
    /// # fn main() -> neurite::Result<()> {
    /// # let layer = Linear::new(2, 2);
    /// let opt = MaskedOptimizer::new(Sgd::new(layer.parameters(), SgdConfig::new(0.1))?, PruningMasks::new(), &layer)?;
    /// let (_sgd, masks) = opt.into_parts();
    /// assert!(masks.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn into_parts(self) -> (O, PruningMasks) {
        (self.inner, self.masks)
    }
}

impl<O: Optimizer> Optimizer for MaskedOptimizer<O> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        const OP: &str = "MaskedOptimizer::step";
        let mut masked = GradStore::new();
        for p in self.inner.params() {
            if let Some(g) = grads.get(p) {
                masked.insert(p, g.clone());
            }
        }
        for (mask, p) in self.masks.masks.iter().zip(&self.targets) {
            if mask.pruned == 0 {
                continue;
            }
            if let Some(g) = masked.get(p) {
                let g = mask.masked(g, OP, "gradient")?;
                masked.insert(p, g);
            }
        }
        self.inner.step(&masked)?;
        for (mask, p) in self.masks.masks.iter().zip(&self.targets) {
            mask.zero_pruned(p, OP)?;
        }
        Ok(())
    }

    fn lr(&self) -> f64 {
        self.inner.lr()
    }

    fn set_lr(&mut self, lr: f64) -> Result<()> {
        self.inner.set_lr(lr)
    }

    fn initial_lr(&self) -> Option<f64> {
        self.inner.initial_lr()
    }

    fn set_initial_lr(&mut self, lr: Option<f64>) -> Result<()> {
        self.inner.set_initial_lr(lr)
    }

    fn momentum(&self) -> Option<f64> {
        self.inner.momentum()
    }

    fn set_momentum(&mut self, momentum: f64) -> Result<()> {
        self.inner.set_momentum(momentum)
    }

    fn params(&self) -> &[Tensor] {
        self.inner.params()
    }

    fn step_count(&self) -> u64 {
        self.inner.step_count()
    }

    fn state(&self) -> Result<OptimizerState> {
        self.inner.state()
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        self.inner.load_state(state)
    }

    fn num_groups(&self) -> usize {
        self.inner.num_groups()
    }

    fn group_lr(&self, group: usize) -> Result<f64> {
        self.inner.group_lr(group)
    }

    fn set_group_lr(&mut self, group: usize, lr: f64) -> Result<()> {
        self.inner.set_group_lr(group, lr)
    }

    fn group_lrs(&self) -> Vec<f64> {
        self.inner.group_lrs()
    }

    fn group_initial_lr(&self, group: usize) -> Result<Option<f64>> {
        self.inner.group_initial_lr(group)
    }

    fn set_group_initial_lr(&mut self, group: usize, lr: Option<f64>) -> Result<()> {
        self.inner.set_group_initial_lr(group, lr)
    }

    fn group_momentum(&self, group: usize) -> Result<Option<f64>> {
        self.inner.group_momentum(group)
    }

    fn set_group_momentum(&mut self, group: usize, momentum: f64) -> Result<()> {
        self.inner.set_group_momentum(group, momentum)
    }

    fn group_params(&self, group: usize) -> Result<&[Tensor]> {
        self.inner.group_params(group)
    }

    fn group_config(&self, group: usize) -> Result<OptimizerConfig> {
        self.inner.group_config(group)
    }
}
