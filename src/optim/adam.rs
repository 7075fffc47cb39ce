//! Adam (PyTorch's `torch.optim.Adam`), with optional AMSGrad. The update is
//! shared with [`super::AdamW`], which only changes how weight decay applies.

use super::Optimizer;
use super::common::{addcdiv, addcmul, axpy, check_lr, gather_grads, lerp, non_negative, unit_interval};
use super::groups::{GroupConfig, Groups, group_accessors};
use super::param_group::{GroupOptions, ParamGroup};
use super::state::{HostBuffer, OptimizerConfig, OptimizerState, ParamState};
use crate::backend::cpu::fused_update::AdamStep;
use crate::{GradStore, NoGradGuard, Result, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hyperparameters of [`Adam`]; the defaults are PyTorch's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AdamConfig {
    /// Learning rate (default `1e-3`).
    pub lr: f64,
    /// Decay rates of the first and second moment estimates (default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Added to the denominator for numerical stability (default `1e-8`).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Use the maximum of past second moments (AMSGrad; default off).
    pub amsgrad: bool,
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
        }
    }
}

impl AdamConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        AdamConfig {
            lr,
            ..Default::default()
        }
    }

    /// Checks every hyperparameter as PyTorch's constructor does (lr and
    /// weight decay finite and `>= 0`, betas in `[0, 1)`), with `eps` finite
    /// and `>= 0`, as in PyTorch.
    pub fn validate(&self) -> Result<()> {
        validate_adam("Adam", self)
    }
}

pub(crate) fn validate_adam(op: &'static str, c: &AdamConfig) -> Result<()> {
    check_lr(op, c.lr)?;
    // PyTorch accepts eps = 0 (which divides 0 by 0 for a parameter whose
    // gradient has been zero so far); only what it refuses is refused.
    non_negative(op, "epsilon", c.eps).map_err(|_| {
        crate::Error::invalid(
            op,
            format!("Invalid epsilon value: {} (eps must be a finite value >= 0)", c.eps),
        )
    })?;
    for (i, b) in [c.betas.0, c.betas.1].into_iter().enumerate() {
        if unit_interval(op, "beta", b).is_err() {
            return Err(crate::Error::invalid(
                op,
                format!("Invalid beta parameter at index {i}: {b} (betas.{i} must be in [0, 1))"),
            ));
        }
    }
    non_negative(op, "weight_decay", c.weight_decay)
}

/// The hyperparameters Adam and AdamW share, each config read as Adam's.
pub(crate) trait AdamLike: GroupConfig {
    /// AdamW's decoupled weight decay instead of Adam's L2 term.
    const DECOUPLED: bool;
    fn adam(&self) -> AdamConfig;
}

/// `GroupConfig` and `AdamLike` for a config with Adam's fields (`lr`,
/// `betas`, `eps`, `weight_decay`, `amsgrad`): Adam's and AdamW's, which
/// differ only in their name, their `OptimizerConfig` variant and whether the
/// decay is decoupled.
macro_rules! adam_group_config {
    ($config:ident, $variant:ident, $kind:literal, $decoupled:expr) => {
        impl GroupConfig for $config {
            const KIND: &'static str = $kind;
            const OPTIONS: &'static [&'static str] = &["lr", "weight_decay", "betas", "eps", "amsgrad"];

            fn lr(&self) -> f64 {
                self.lr
            }
            fn set_lr(&mut self, lr: f64) {
                self.lr = lr;
            }
            fn momentum(&self) -> Option<f64> {
                Some(self.betas.0)
            }
            fn set_momentum(&mut self, beta1: f64) -> Result<()> {
                unit_interval(concat!($kind, ".set_momentum"), "betas.0", beta1)?;
                self.betas.0 = beta1;
                self.validate()
            }
            fn validate(&self) -> Result<()> {
                $config::validate(self)
            }
            fn apply(&self, o: &GroupOptions) -> Self {
                $config {
                    lr: o.lr.unwrap_or(self.lr),
                    betas: o.betas.unwrap_or(self.betas),
                    eps: o.eps.unwrap_or(self.eps),
                    weight_decay: o.weight_decay.unwrap_or(self.weight_decay),
                    amsgrad: o.amsgrad.unwrap_or(self.amsgrad),
                }
            }
            fn to_options(&self) -> GroupOptions {
                adam_options(&self.adam())
            }
            $crate::optim::groups::config_variant!($variant);
        }

        impl AdamLike for $config {
            const DECOUPLED: bool = $decoupled;
            fn adam(&self) -> AdamConfig {
                AdamConfig {
                    lr: self.lr,
                    betas: self.betas,
                    eps: self.eps,
                    weight_decay: self.weight_decay,
                    amsgrad: self.amsgrad,
                }
            }
        }
    };
}

pub(crate) use adam_group_config;

adam_group_config!(AdamConfig, Adam, "Adam", false);

/// Every value of an Adam config as group options.
pub(crate) fn adam_options(c: &AdamConfig) -> GroupOptions {
    GroupOptions {
        lr: Some(c.lr),
        betas: Some(c.betas),
        eps: Some(c.eps),
        weight_decay: Some(c.weight_decay),
        amsgrad: Some(c.amsgrad),
        ..Default::default()
    }
}

/// The moment estimates of one parameter.
#[derive(Clone)]
struct Moments {
    step: u64,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    max_exp_avg_sq: Option<Tensor>,
}

/// The Adam/AdamW machinery over groups of `C` (AdamConfig or AdamWConfig).
pub(crate) struct AdamCore<C> {
    pub(crate) groups: Groups<C>,
    state: Vec<Option<Moments>>,
}

impl<C: AdamLike> AdamCore<C> {
    pub(crate) fn new(groups: Vec<ParamGroup>, defaults: C) -> Result<Self> {
        let groups = Groups::new(groups, defaults)?;
        let state = vec![None; groups.params.len()];
        Ok(AdamCore { groups, state })
    }

    pub(crate) fn step(&mut self, grads: &GradStore) -> Result<()> {
        let params = &self.groups.params;
        let all = gather_grads(C::KIND, params, grads)?;
        let _guard = NoGradGuard::new();
        for group in &self.groups.groups {
            let c = group.config.adam();
            for i in group.range.clone() {
                let Some(g) = all[i].clone() else { continue };
                if fused_adam(&params[i], &g, &mut self.state[i], &c, C::DECOUPLED)? {
                    continue;
                }
                let updated = adam_update(&params[i], g, &mut self.state[i], &c, C::DECOUPLED)?;
                params[i].set_data(&updated)?;
            }
        }
        self.groups.steps += 1;
        Ok(())
    }

    pub(crate) fn state(&self) -> Result<OptimizerState> {
        let mut params = BTreeMap::new();
        for (i, m) in self.state.iter().enumerate() {
            let Some(m) = m else { continue };
            let mut buffers = BTreeMap::new();
            buffers.insert("exp_avg".to_string(), HostBuffer::from_tensor(&m.exp_avg)?);
            buffers.insert("exp_avg_sq".to_string(), HostBuffer::from_tensor(&m.exp_avg_sq)?);
            if let Some(mx) = &m.max_exp_avg_sq {
                buffers.insert("max_exp_avg_sq".to_string(), HostBuffer::from_tensor(mx)?);
            }
            params.insert(i, ParamState { step: m.step, buffers });
        }
        Ok(self.groups.state(params))
    }

    pub(crate) fn load_state(&mut self, state: &OptimizerState, op: &'static str) -> Result<()> {
        let restore = self.groups.check_state(state, op)?;
        let mut restored = Vec::with_capacity(self.state.len());
        for (i, p) in self.groups.params.iter().enumerate() {
            let Some(ps) = state.params.get(&i) else {
                restored.push(None);
                continue;
            };
            let need = |name: &str| -> Result<Tensor> {
                state.buffer(i, name, p, op)?.ok_or_else(|| {
                    crate::Error::invalid(op, format!("the state of parameter {i} has no {name:?} buffer"))
                })
            };
            restored.push(Some(Moments {
                step: ps.step,
                exp_avg: need("exp_avg")?,
                exp_avg_sq: need("exp_avg_sq")?,
                max_exp_avg_sq: state.buffer(i, "max_exp_avg_sq", p, op)?,
            }));
        }
        self.groups.restore(restore);
        self.state = restored;
        Ok(())
    }
}

/// The fused host form of [`adam_update`] (see `optim/fused.rs`), writing
/// `p` and its moments in place; `false`, with nothing changed, when it does
/// not apply.
fn fused_adam(p: &Tensor, g: &Tensor, slot: &mut Option<Moments>, c: &AdamConfig, decoupled: bool) -> Result<bool> {
    if !p.device().is_cpu() || !matches!(p.dtype(), crate::DType::F32 | crate::DType::F64) {
        return Ok(false);
    }
    let mut m = match slot.take() {
        Some(m) => m,
        None => Moments {
            step: 0,
            exp_avg: p.zeros_like()?,
            exp_avg_sq: p.zeros_like()?,
            max_exp_avg_sq: None,
        },
    };
    if c.amsgrad && m.max_exp_avg_sq.is_none() {
        m.max_exp_avg_sq = Some(p.zeros_like()?);
    }
    let step = m.step + 1;
    let (beta1, beta2) = c.betas;
    let bias_correction1 = 1.0 - beta1.powf(step as f64);
    let rule = AdamStep {
        lr: c.lr,
        beta1,
        beta2,
        eps: c.eps,
        weight_decay: c.weight_decay,
        decoupled,
        step_size: c.lr / bias_correction1,
        bias_correction2_sqrt: (1.0 - beta2.powf(step as f64)).powf(0.5),
    };
    let vmax = if c.amsgrad { m.max_exp_avg_sq.as_ref() } else { None };
    let done = super::fused::adam(p, g, &m.exp_avg, &m.exp_avg_sq, vmax, &rule);
    if done {
        m.step = step;
    }
    *slot = Some(m);
    Ok(done)
}

/// One Adam/AdamW update of `p` with gradient `g`; advances `slot` and
/// returns the new parameter value.
fn adam_update(
    p: &Tensor,
    mut g: Tensor,
    slot: &mut Option<Moments>,
    c: &AdamConfig,
    decoupled: bool,
) -> Result<Tensor> {
    let (beta1, beta2) = c.betas;
    let m = match slot {
        Some(m) => m.clone(),
        None => Moments {
            step: 0,
            exp_avg: p.zeros_like()?,
            exp_avg_sq: p.zeros_like()?,
            max_exp_avg_sq: None,
        },
    };
    let step = m.step + 1;
    let mut param = p.clone();
    if c.weight_decay != 0.0 {
        if decoupled {
            param = param.mul_scalar(1.0 - c.lr * c.weight_decay)?;
        } else {
            g = axpy(&g, p, c.weight_decay)?;
        }
    }
    let exp_avg = lerp(&m.exp_avg, &g, 1.0 - beta1)?;
    let exp_avg_sq = addcmul(&m.exp_avg_sq.mul_scalar(beta2)?, &g, &g, 1.0 - beta2)?;
    // Python float arithmetic, as PyTorch's for-loop implementation does it.
    let bias_correction1 = 1.0 - beta1.powf(step as f64);
    let bias_correction2 = 1.0 - beta2.powf(step as f64);
    let step_size = c.lr / bias_correction1;
    let bias_correction2_sqrt = bias_correction2.powf(0.5);
    let max_exp_avg_sq = if c.amsgrad {
        Some(match &m.max_exp_avg_sq {
            Some(prev) => prev.maximum(&exp_avg_sq)?,
            None => p.zeros_like()?.maximum(&exp_avg_sq)?,
        })
    } else {
        m.max_exp_avg_sq.clone()
    };
    let second = if c.amsgrad {
        max_exp_avg_sq.as_ref().unwrap_or(&exp_avg_sq)
    } else {
        &exp_avg_sq
    };
    let denom = second.sqrt()?.div_scalar(bias_correction2_sqrt)?.add_scalar(c.eps)?;
    let updated = addcdiv(&param, &exp_avg, &denom, -step_size)?;
    *slot = Some(Moments {
        step,
        exp_avg,
        exp_avg_sq,
        max_exp_avg_sq,
    });
    Ok(updated)
}

/// Adam, with PyTorch's update rule (weight decay as an L2 term in the gradient):
///
/// ```text
/// g = grad + weight_decay * p
/// m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
/// v_max = max(v_max, v)                                   (amsgrad)
/// denom = sqrt(v or v_max) / sqrt(1 - beta2^t) + eps
/// p = p - lr / (1 - beta1^t) * m / denom
/// ```
///
/// ```
/// use neurite::optim::{Adam, AdamConfig, Optimizer};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![1f64, -1.0], 2, &Device::cpu())?.requires_grad();
/// let mut opt = Adam::new(vec![w.clone()], AdamConfig::new(0.1))?;
/// let grads = w.sqr()?.sum_all()?.backward()?;
/// opt.step(&grads)?;
/// // The first Adam step moves each weight by about lr against its gradient's sign.
/// let v = w.to_vec::<f64>()?;
/// assert!((v[0] - 0.9).abs() < 1e-6 && (v[1] + 0.9).abs() < 1e-6);
/// # Ok(()) }
/// ```
pub struct Adam {
    core: AdamCore<AdamConfig>,
}

impl Adam {
    /// An optimizer over `params`, in one group. Errors on invalid
    /// hyperparameters (negative lr, eps or weight decay, betas outside
    /// `[0, 1)`), an empty list, a non-float or a repeated parameter.
    pub fn new(params: Vec<Tensor>, config: AdamConfig) -> Result<Adam> {
        Self::with_groups(vec![ParamGroup::new(params)], config)
    }

    /// An optimizer over parameter groups (PyTorch's `Adam(param_groups,
    /// **defaults)`): each group's unset hyperparameters come from `defaults`.
    /// Errors as [`Adam::new`] does (naming the group), and on a group setting
    /// a hyperparameter Adam does not have or a parameter in two groups.
    pub fn with_groups(groups: Vec<ParamGroup>, defaults: AdamConfig) -> Result<Adam> {
        Ok(Adam {
            core: AdamCore::new(groups, defaults)?,
        })
    }

    /// The hyperparameters of group 0, with its current lr and beta1.
    pub fn config(&self) -> &AdamConfig {
        &self.core.groups.groups[0].config
    }

    /// The defaults config the optimizer was built with.
    pub fn defaults(&self) -> &AdamConfig {
        &self.core.groups.defaults
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "Adam"
    }
    fn step(&mut self, grads: &GradStore) -> Result<()> {
        self.core.step(grads)
    }
    group_accessors!(core.groups);
    fn state(&self) -> Result<OptimizerState> {
        self.core.state()
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        self.core.load_state(state, "Adam.load_state")
    }
}
