//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and
//! L2 weight decay (PyTorch's `torch.optim.SGD`).

use super::Optimizer;
use super::common::config_accessors;
use super::common::{axpy, gather_grads, non_negative, validate_params};
use super::state::{HostBuffer, OptimizerConfig, OptimizerState, ParamState};
use crate::{Error, GradStore, NoGradGuard, Result, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Hyperparameters of [`Sgd`]; the defaults are PyTorch's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SgdConfig {
    /// Learning rate (default `1e-3`).
    pub lr: f64,
    /// Momentum factor (default 0: plain SGD).
    pub momentum: f64,
    /// Dampening of the gradient added to the momentum buffer (default 0).
    pub dampening: f64,
    /// L2 penalty added to the gradient (default 0).
    pub weight_decay: f64,
    /// Nesterov momentum; needs `momentum > 0` and `dampening == 0`.
    pub nesterov: bool,
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig {
            lr: 1e-3,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
        }
    }
}

impl SgdConfig {
    /// The defaults with learning rate `lr`.
    pub fn new(lr: f64) -> Self {
        SgdConfig {
            lr,
            ..Default::default()
        }
    }

    /// Checks every hyperparameter, as PyTorch's constructor does.
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "SGD";
        non_negative(OP, "lr", self.lr)?;
        non_negative(OP, "momentum", self.momentum)?;
        non_negative(OP, "dampening", self.dampening)?;
        non_negative(OP, "weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                OP,
                format!(
                    "Nesterov momentum requires momentum > 0 and dampening == 0, got momentum {} and dampening {}",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }
}

/// SGD, with PyTorch's update rule:
///
/// ```text
/// g = grad + weight_decay * p
/// buf = g                                       (first step)
/// buf = momentum * buf + (1 - dampening) * g    (later steps)
/// g = nesterov ? g + momentum * buf : buf       (when momentum != 0)
/// p = p - lr * g
/// ```
///
/// ```
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![1f32], 1, &Device::cpu())?.requires_grad();
/// let mut opt = Sgd::new(vec![w.clone()], SgdConfig::new(0.5))?;
/// let grads = w.sqr()?.sum_all()?.backward()?; // d/dw w^2 = 2
/// opt.step(&grads)?;
/// assert_eq!(w.to_vec::<f32>()?, vec![0.0]);
/// # Ok(()) }
/// ```
pub struct Sgd {
    params: Vec<Tensor>,
    config: SgdConfig,
    initial_lr: Option<f64>,
    steps: u64,
    /// Per parameter: (updates received, momentum buffer once created).
    state: Vec<(u64, Option<Tensor>)>,
}

impl Sgd {
    /// An optimizer over `params`. Errors on invalid hyperparameters, an empty
    /// list, a non-float or a repeated parameter.
    pub fn new(params: Vec<Tensor>, config: SgdConfig) -> Result<Sgd> {
        config.validate()?;
        validate_params("SGD", &params)?;
        let state = vec![(0, None); params.len()];
        Ok(Sgd {
            params,
            config,
            initial_lr: None,
            steps: 0,
            state,
        })
    }

    /// The hyperparameters (with the current lr and momentum).
    pub fn config(&self) -> &SgdConfig {
        &self.config
    }

    /// The momentum buffer of parameter `i`, once it exists.
    pub fn momentum_buffer(&self, i: usize) -> Option<&Tensor> {
        self.state.get(i).and_then(|s| s.1.as_ref())
    }
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "SGD"
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let c = &self.config;
        let all = gather_grads("SGD.step", &self.params, grads)?;
        let _guard = NoGradGuard::new();
        for ((p, g), (count, buf)) in self.params.iter().zip(all).zip(self.state.iter_mut()) {
            let Some(mut g) = g else { continue };
            if c.weight_decay != 0.0 {
                g = axpy(&g, p, c.weight_decay)?;
            }
            if c.momentum != 0.0 {
                let b = match buf.as_ref() {
                    None => g.clone(),
                    Some(b) => axpy(&b.mul_scalar(c.momentum)?, &g, 1.0 - c.dampening)?,
                };
                g = if c.nesterov {
                    axpy(&g, &b, c.momentum)?
                } else {
                    b.clone()
                };
                *buf = Some(b);
            }
            p.set_data(&axpy(p, &g, -c.lr)?)?;
            *count += 1;
        }
        self.steps += 1;
        Ok(())
    }

    config_accessors!("SGD");

    fn state(&self) -> Result<OptimizerState> {
        let mut params = BTreeMap::new();
        for (i, (count, buf)) in self.state.iter().enumerate() {
            if *count == 0 && buf.is_none() {
                continue;
            }
            let mut buffers = BTreeMap::new();
            if let Some(b) = buf {
                buffers.insert("momentum_buffer".to_string(), HostBuffer::from_tensor(b)?);
            }
            params.insert(i, ParamState { step: *count, buffers });
        }
        Ok(OptimizerState {
            config: OptimizerConfig::Sgd(self.config.clone()),
            initial_lr: self.initial_lr,
            step_count: self.steps,
            param_count: self.params.len(),
            params,
        })
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        const OP: &str = "SGD.load_state";
        let OptimizerConfig::Sgd(config) = &state.config else {
            return Err(state.wrong_kind("SGD", OP));
        };
        state.check_against(&self.params, OP)?;
        config.validate()?;
        let mut restored = Vec::with_capacity(self.params.len());
        for (i, p) in self.params.iter().enumerate() {
            let count = state.params.get(&i).map_or(0, |s| s.step);
            restored.push((count, state.buffer(i, "momentum_buffer", p, OP)?));
        }
        self.config = config.clone();
        self.initial_lr = state.initial_lr;
        self.steps = state.step_count;
        self.state = restored;
        Ok(())
    }
}
