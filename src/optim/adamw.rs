//! AdamW: Adam with decoupled weight decay (PyTorch's `torch.optim.AdamW`).

use super::Optimizer;
use super::adam::{AdamConfig, AdamCore, AdamLike, adam_group_config, adam_options, validate_adam};
use super::common::unit_interval;
use super::groups::{GroupConfig, group_accessors};
use super::param_group::{GroupOptions, ParamGroup};
use super::state::{OptimizerConfig, OptimizerState};
use crate::{GradStore, Result, Tensor};
use serde::{Deserialize, Serialize};

/// Hyperparameters of [`AdamW`]; the defaults are PyTorch's (note the weight
/// decay of `1e-2`, where Adam's is 0).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamWConfig {
    /// Learning rate (default `1e-3`).
    pub lr: f64,
    /// Decay rates of the first and second moment estimates (default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability (default `1e-8`).
    pub eps: f64,
    /// Decoupled weight decay: each step multiplies the parameters by
    /// `1 - lr * weight_decay` (default `1e-2`).
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad; default off).
    pub amsgrad: bool,
}

impl Default for AdamWConfig {
    fn default() -> Self {
        AdamWConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 1e-2,
            amsgrad: false,
        }
    }
}

impl AdamWConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        AdamWConfig {
            lr,
            ..Default::default()
        }
    }

    /// Checks every hyperparameter, as PyTorch's constructor does.
    pub fn validate(&self) -> Result<()> {
        validate_adam("AdamW", &self.adam())
    }
}

adam_group_config!(AdamWConfig, AdamW, "AdamW", true);

/// AdamW: Adam whose weight decay shrinks the parameters directly
/// (`p = p * (1 - lr * weight_decay)` before the Adam update) instead of being
/// added to the gradient, so it is not rescaled by the adaptive denominator.
///
/// ```
/// use neurite::optim::{AdamW, AdamWConfig, Optimizer};
/// use neurite::{Device, GradStore, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![2f64], 1, &Device::cpu())?.requires_grad();
/// let mut opt = AdamW::new(vec![w.clone()], AdamWConfig { lr: 0.1, weight_decay: 0.5, ..Default::default() })?;
/// let mut grads = GradStore::new();
/// grads.insert(&w, Tensor::zeros(1, neurite::DType::F64, &Device::cpu())?);
/// opt.step(&grads)?; // a zero gradient: only the decay acts
/// assert!((w.to_vec::<f64>()?[0] - 2.0 * (1.0 - 0.1 * 0.5)).abs() < 1e-12);
/// # Ok(()) }
/// ```
pub struct AdamW {
    core: AdamCore<AdamWConfig>,
}

impl AdamW {
    /// An optimizer over `params`, in one group. Errors on invalid
    /// hyperparameters (negative lr, eps or weight decay, betas outside
    /// `[0, 1)`), an empty list, a non-float or a repeated parameter.
    pub fn new(params: Vec<Tensor>, config: AdamWConfig) -> Result<AdamW> {
        Self::with_groups(vec![ParamGroup::new(params)], config)
    }

    /// An optimizer over parameter groups (PyTorch's `AdamW(param_groups,
    /// **defaults)`): each group's unset hyperparameters come from `defaults`;
    /// [`super::decay_groups`] builds the usual weights/no-decay split.
    /// Errors as [`AdamW::new`] does (naming the group), and on a group
    /// setting a hyperparameter AdamW does not have or a parameter in two groups.
    pub fn with_groups(groups: Vec<ParamGroup>, defaults: AdamWConfig) -> Result<AdamW> {
        Ok(AdamW {
            core: AdamCore::new(groups, defaults)?,
        })
    }

    /// The hyperparameters of group 0, with its current lr and beta1.
    pub fn config(&self) -> AdamWConfig {
        self.core.groups.groups[0].config.clone()
    }

    /// The defaults config the optimizer was built with.
    pub fn defaults(&self) -> &AdamWConfig {
        &self.core.groups.defaults
    }
}

impl Optimizer for AdamW {
    fn name(&self) -> &'static str {
        "AdamW"
    }
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.core.step(grads)
    }
    group_accessors!(core.groups);
    fn state(&self) -> Result<OptimizerState> {
        self.core.state()
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        self.core.load_state(state, "AdamW.load_state")
    }
}
