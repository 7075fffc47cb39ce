//! RMSprop (PyTorch's `torch.optim.RMSprop`), optionally centered and with momentum.

use super::Optimizer;
use super::common::config_accessors;
use super::common::validate_params;
use super::common::{addcdiv, addcmul, axpy, closed_unit_interval, gather_grads, lerp, non_negative};
use super::state::{HostBuffer, OptimizerConfig, OptimizerState, ParamState};
use crate::{GradStore, NoGradGuard, Result, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hyperparameters of [`RmsProp`]; the defaults are PyTorch's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RmsPropConfig {
    /// Learning rate (default `1e-2`).
    pub lr: f64,
    /// Smoothing constant of the squared-gradient average (default 0.99).
    pub alpha: f64,
    /// Added to the denominator for numerical stability (default `1e-8`).
    pub eps: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Momentum factor (default 0).
    pub momentum: f64,
    /// Normalise by an estimate of the gradient's variance instead of its
    /// second moment (default off).
    pub centered: bool,
}

impl Default for RmsPropConfig {
    fn default() -> Self {
        RmsPropConfig {
            lr: 1e-2,
            alpha: 0.99,
            eps: 1e-8,
            weight_decay: 0.0,
            momentum: 0.0,
            centered: false,
        }
    }
}

impl RmsPropConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        RmsPropConfig {
            lr,
            ..Default::default()
        }
    }

    /// Checks every hyperparameter: PyTorch's checks, and `alpha <= 1` (a
    /// larger smoothing constant makes the average diverge).
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "RMSprop";
        non_negative(OP, "lr", self.lr)?;
        non_negative(OP, "eps", self.eps)?;
        non_negative(OP, "momentum", self.momentum)?;
        non_negative(OP, "weight_decay", self.weight_decay)?;
        closed_unit_interval(OP, "alpha", self.alpha)
    }
}

/// The running averages of one parameter.
#[derive(Clone)]
struct Averages {
    step: u64,
    square_avg: Tensor,
    grad_avg: Option<Tensor>,
    momentum_buffer: Option<Tensor>,
}

/// RMSprop, with PyTorch's update rule:
///
/// ```text
/// g = grad + weight_decay * p
/// v = alpha * v + (1 - alpha) * g * g
/// avg = sqrt(v) + eps,  or sqrt(v - ga * ga) + eps with ga = lerp(ga, g, 1 - alpha)  (centered)
/// buf = momentum * buf + g / avg;  p = p - lr * buf       (momentum > 0)
/// p = p - lr * g / avg                                     (otherwise)
/// ```
///
/// ```
/// use neurite::optim::{Optimizer, RmsProp, RmsPropConfig};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![0.5f64], 1, &Device::cpu())?.requires_grad();
/// let mut opt = RmsProp::new(vec![w.clone()], RmsPropConfig { lr: 0.01, centered: true, ..Default::default() })?;
/// let grads = w.sqr()?.sum_all()?.backward()?;
/// opt.step(&grads)?;
/// // First centered step: g / sqrt(0.01 g^2 - (0.01 g)^2) = 10 / sqrt(0.99) for g > 0.
/// let want = 0.5 - 0.01 * 10.0 / 0.99f64.sqrt();
/// assert!((w.to_vec::<f64>()?[0] - want).abs() < 1e-6);
/// # Ok(()) }
/// ```
pub struct RmsProp {
    params: Vec<Tensor>,
    config: RmsPropConfig,
    initial_lr: Option<f64>,
    steps: u64,
    state: Vec<Option<Averages>>,
}

impl RmsProp {
    /// An optimizer over `params`. Errors on invalid hyperparameters, an empty
    /// list, a non-float or a repeated parameter.
    pub fn new(params: Vec<Tensor>, config: RmsPropConfig) -> Result<RmsProp> {
        config.validate()?;
        validate_params("RMSprop", &params)?;
        let state = vec![None; params.len()];
        Ok(RmsProp {
            params,
            config,
            initial_lr: None,
            steps: 0,
            state,
        })
    }

    /// The hyperparameters (with the current lr and momentum).
    pub fn config(&self) -> &RmsPropConfig {
        &self.config
    }
}

impl Optimizer for RmsProp {
    fn name(&self) -> &'static str {
        "RMSprop"
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let c = &self.config;
        let all = gather_grads("RMSprop.step", &self.params, grads)?;
        let _guard = NoGradGuard::new();
        for ((p, g), slot) in self.params.iter().zip(all).zip(self.state.iter_mut()) {
            let Some(mut g) = g else { continue };
            let prev = match slot {
                Some(s) => s.clone(),
                None => Averages {
                    step: 0,
                    square_avg: p.zeros_like()?,
                    grad_avg: None,
                    momentum_buffer: None,
                },
            };
            if c.weight_decay != 0.0 {
                g = axpy(&g, p, c.weight_decay)?;
            }
            let square_avg = addcmul(&prev.square_avg.mul_scalar(c.alpha)?, &g, &g, 1.0 - c.alpha)?;
            let (avg, grad_avg) = if c.centered {
                let ga = match &prev.grad_avg {
                    Some(ga) => ga.clone(),
                    None => p.zeros_like()?,
                };
                let ga = lerp(&ga, &g, 1.0 - c.alpha)?;
                (addcmul(&square_avg, &ga, &ga, -1.0)?.sqrt()?, Some(ga))
            } else {
                (square_avg.sqrt()?, prev.grad_avg.clone())
            };
            let avg = avg.add_scalar(c.eps)?;
            let (updated, momentum_buffer) = if c.momentum > 0.0 {
                let buf = match &prev.momentum_buffer {
                    Some(b) => b.clone(),
                    None => p.zeros_like()?,
                };
                let buf = addcdiv(&buf.mul_scalar(c.momentum)?, &g, &avg, 1.0)?;
                (axpy(p, &buf, -c.lr)?, Some(buf))
            } else {
                (addcdiv(p, &g, &avg, -c.lr)?, prev.momentum_buffer.clone())
            };
            p.set_data(&updated)?;
            *slot = Some(Averages {
                step: prev.step + 1,
                square_avg,
                grad_avg,
                momentum_buffer,
            });
        }
        self.steps += 1;
        Ok(())
    }

    config_accessors!("RMSprop");

    fn state(&self) -> Result<OptimizerState> {
        let mut params = BTreeMap::new();
        for (i, s) in self.state.iter().enumerate() {
            let Some(s) = s else { continue };
            let mut buffers = BTreeMap::new();
            buffers.insert("square_avg".to_string(), HostBuffer::from_tensor(&s.square_avg)?);
            if let Some(ga) = &s.grad_avg {
                buffers.insert("grad_avg".to_string(), HostBuffer::from_tensor(ga)?);
            }
            if let Some(b) = &s.momentum_buffer {
                buffers.insert("momentum_buffer".to_string(), HostBuffer::from_tensor(b)?);
            }
            params.insert(i, ParamState { step: s.step, buffers });
        }
        Ok(OptimizerState {
            config: OptimizerConfig::RmsProp(self.config.clone()),
            initial_lr: self.initial_lr,
            step_count: self.steps,
            param_count: self.params.len(),
            params,
        })
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        const OP: &str = "RMSprop.load_state";
        let OptimizerConfig::RmsProp(config) = &state.config else {
            return Err(state.wrong_kind("RMSprop", OP));
        };
        config.validate()?;
        state.check_against(&self.params, OP)?;
        let mut restored = Vec::with_capacity(self.params.len());
        for (i, p) in self.params.iter().enumerate() {
            let Some(ps) = state.params.get(&i) else {
                restored.push(None);
                continue;
            };
            let square_avg = state.buffer(i, "square_avg", p, OP)?.ok_or_else(|| {
                crate::Error::invalid(OP, format!("the state of parameter {i} has no \"square_avg\" buffer"))
            })?;
            restored.push(Some(Averages {
                step: ps.step,
                square_avg,
                grad_avg: state.buffer(i, "grad_avg", p, OP)?,
                momentum_buffer: state.buffer(i, "momentum_buffer", p, OP)?,
            }));
        }
        self.config = config.clone();
        self.initial_lr = state.initial_lr;
        self.steps = state.step_count;
        self.state = restored;
        Ok(())
    }
}
