//! Adam (PyTorch's `torch.optim.Adam`), with optional AMSGrad. The update is
//! shared with [`super::AdamW`], which only changes how weight decay applies.

use super::Optimizer;
use super::common::{addcdiv, addcmul, axpy, gather_grads, lerp, non_negative, unit_interval, validate_params};
use super::state::{HostBuffer, OptimizerConfig, OptimizerState, ParamState};
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

    /// Checks every hyperparameter, as PyTorch's constructor does.
    pub fn validate(&self) -> Result<()> {
        validate_adam("Adam", self)
    }
}

pub(crate) fn validate_adam(op: &'static str, c: &AdamConfig) -> Result<()> {
    non_negative(op, "lr", c.lr)?;
    non_negative(op, "eps", c.eps)?;
    unit_interval(op, "betas.0", c.betas.0)?;
    unit_interval(op, "betas.1", c.betas.1)?;
    non_negative(op, "weight_decay", c.weight_decay)
}

/// The moment estimates of one parameter.
#[derive(Clone)]
struct Moments {
    step: u64,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    max_exp_avg_sq: Option<Tensor>,
}

/// The Adam/AdamW machinery; `decoupled` selects AdamW's weight decay.
pub(crate) struct AdamCore {
    name: &'static str,
    decoupled: bool,
    params: Vec<Tensor>,
    pub(crate) config: AdamConfig,
    initial_lr: Option<f64>,
    steps: u64,
    state: Vec<Option<Moments>>,
}

impl AdamCore {
    pub(crate) fn new(name: &'static str, decoupled: bool, params: Vec<Tensor>, config: AdamConfig) -> Result<Self> {
        validate_adam(name, &config)?;
        validate_params(name, &params)?;
        let state = vec![None; params.len()];
        Ok(AdamCore {
            name,
            decoupled,
            params,
            config,
            initial_lr: None,
            steps: 0,
            state,
        })
    }

    pub(crate) fn step(&mut self, grads: &GradStore) -> Result<()> {
        let c = &self.config;
        let (beta1, beta2) = c.betas;
        let all = gather_grads(self.name, &self.params, grads)?;
        let _guard = NoGradGuard::new();
        for ((p, g), slot) in self.params.iter().zip(all).zip(self.state.iter_mut()) {
            let Some(mut g) = g else { continue };
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
                if self.decoupled {
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
            p.set_data(&updated)?;
            *slot = Some(Moments {
                step,
                exp_avg,
                exp_avg_sq,
                max_exp_avg_sq,
            });
        }
        self.steps += 1;
        Ok(())
    }

    pub(crate) fn params(&self) -> &[Tensor] {
        &self.params
    }

    pub(crate) fn initial_lr(&self) -> Option<f64> {
        self.initial_lr
    }

    pub(crate) fn set_initial_lr(&mut self, lr: Option<f64>) {
        self.initial_lr = lr;
    }

    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    pub(crate) fn set_beta1(&mut self, beta1: f64) -> Result<()> {
        unit_interval(self.name, "betas.0", beta1)?;
        self.config.betas.0 = beta1;
        Ok(())
    }

    pub(crate) fn state(&self, config: OptimizerConfig) -> Result<OptimizerState> {
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
        Ok(OptimizerState {
            config,
            initial_lr: self.initial_lr,
            step_count: self.steps,
            param_count: self.params.len(),
            params,
        })
    }

    /// Restores from `state`, whose config (already extracted and of the right
    /// kind) is `config`.
    pub(crate) fn load_state(&mut self, state: &OptimizerState, config: AdamConfig, op: &'static str) -> Result<()> {
        validate_adam(op, &config)?;
        state.check_against(&self.params, op)?;
        let mut restored = Vec::with_capacity(self.params.len());
        for (i, p) in self.params.iter().enumerate() {
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
        self.config = config;
        self.initial_lr = state.initial_lr;
        self.steps = state.step_count;
        self.state = restored;
        Ok(())
    }
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
    core: AdamCore,
}

impl Adam {
    /// An optimizer over `params`. Errors on invalid hyperparameters (negative
    /// lr, eps or weight decay, betas outside `[0, 1)`), an empty list, a
    /// non-float or a repeated parameter.
    pub fn new(params: Vec<Tensor>, config: AdamConfig) -> Result<Adam> {
        Ok(Adam {
            core: AdamCore::new("Adam", false, params, config)?,
        })
    }

    /// The hyperparameters (with the current lr and beta1).
    pub fn config(&self) -> &AdamConfig {
        &self.core.config
    }
}

impl Optimizer for Adam {
    fn name(&self) -> &'static str {
        "Adam"
    }
    delegate_to_core!();
    fn state(&self) -> Result<OptimizerState> {
        self.core.state(OptimizerConfig::Adam(self.core.config.clone()))
    }
    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        const OP: &str = "Adam.load_state";
        let OptimizerConfig::Adam(config) = &state.config else {
            return Err(state.wrong_kind("Adam", OP));
        };
        self.core.load_state(state, config.clone(), OP)
    }
}

/// The `Optimizer` methods that Adam and AdamW forward unchanged to their
/// `core: AdamCore` (everything but `name`, `state` and `load_state`).
macro_rules! delegate_to_core {
    () => {
        fn step(&mut self, grads: &GradStore) -> Result<()> {
            self.core.step(grads)
        }
        fn lr(&self) -> f64 {
            self.core.config.lr
        }
        fn set_lr(&mut self, lr: f64) {
            self.core.config.lr = lr;
        }
        fn initial_lr(&self) -> Option<f64> {
            self.core.initial_lr()
        }
        fn set_initial_lr(&mut self, lr: Option<f64>) {
            self.core.set_initial_lr(lr);
        }
        fn momentum(&self) -> Option<f64> {
            Some(self.core.config.betas.0)
        }
        fn set_momentum(&mut self, momentum: f64) -> Result<()> {
            self.core.set_beta1(momentum)
        }
        fn params(&self) -> &[Tensor] {
            self.core.params()
        }
        fn step_count(&self) -> u64 {
            self.core.steps()
        }
    };
}

pub(super) use delegate_to_core;
