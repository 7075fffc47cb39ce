//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and
//! L2 weight decay (PyTorch's `torch.optim.SGD`).

use super::Optimizer;
use super::common::{axpy, check_lr, closed_unit_interval, gather_grads, non_negative, unit_interval};
use super::groups::{GroupConfig, Groups, group_accessors, momentum_group_config};
use super::param_group::{GroupOptions, ParamGroup};
use super::state::{HostBuffer, OptimizerConfig, OptimizerState, ParamState};
use crate::backend::cpu::fused_update::SgdStep;
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

    /// Checks every hyperparameter: PyTorch's checks (lr, momentum and
    /// weight decay finite and `>= 0`, Nesterov only with momentum and no
    /// dampening), and dampening in `[0, 1]` (PyTorch does not check it;
    /// outside that range the momentum buffer grows or flips sign).
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "SGD";
        check_lr(OP, self.lr)?;
        non_negative(OP, "momentum", self.momentum)?;
        closed_unit_interval(OP, "dampening", self.dampening)?;
        non_negative(OP, "weight_decay", self.weight_decay)?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::invalid(
                OP,
                format!(
                    "Nesterov momentum requires a momentum and zero dampening (momentum > 0, dampening == 0), got momentum {} and dampening {}",
                    self.momentum, self.dampening
                ),
            ));
        }
        Ok(())
    }
}

impl GroupConfig for SgdConfig {
    const KIND: &'static str = "SGD";
    const OPTIONS: &'static [&'static str] = &["lr", "weight_decay", "momentum", "dampening", "nesterov"];

    momentum_group_config!(SgdConfig, Sgd, "SGD");

    fn apply(&self, o: &GroupOptions) -> Self {
        SgdConfig {
            lr: o.lr.unwrap_or(self.lr),
            momentum: o.momentum.unwrap_or(self.momentum),
            dampening: o.dampening.unwrap_or(self.dampening),
            weight_decay: o.weight_decay.unwrap_or(self.weight_decay),
            nesterov: o.nesterov.unwrap_or(self.nesterov),
        }
    }
    fn to_options(&self) -> GroupOptions {
        GroupOptions {
            lr: Some(self.lr),
            momentum: Some(self.momentum),
            dampening: Some(self.dampening),
            weight_decay: Some(self.weight_decay),
            nesterov: Some(self.nesterov),
            ..Default::default()
        }
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
    groups: Groups<SgdConfig>,
    /// Per parameter: (updates received, momentum buffer once created).
    state: Vec<(u64, Option<Tensor>)>,
}

impl Sgd {
    /// An optimizer over `params`, in one group. Errors on invalid
    /// hyperparameters, an empty list, a non-float or a repeated parameter.
    pub fn new(params: Vec<Tensor>, config: SgdConfig) -> Result<Sgd> {
        Self::from_groups(Groups::single(params, config)?)
    }

    /// An optimizer over parameter groups (PyTorch's `SGD(param_groups,
    /// **defaults)`): each group's unset hyperparameters come from `defaults`.
    /// Errors on invalid hyperparameters (naming the group), a group setting
    /// one SGD does not have (`betas`, ...), no parameter at all, a non-float
    /// parameter or one that appears twice, in one group or in two.
    ///
    /// ```
    /// use neurite::optim::{Optimizer, ParamGroup, Sgd, SgdConfig};
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let w = Tensor::ones((2, 2), DType::F32, &Device::cpu())?.requires_grad();
    /// let b = Tensor::ones(2, DType::F32, &Device::cpu())?.requires_grad();
    /// let defaults = SgdConfig { lr: 0.1, momentum: 0.9, weight_decay: 1e-4, ..Default::default() };
    /// let opt = Sgd::with_groups(vec![ParamGroup::new(vec![w]), ParamGroup::new(vec![b]).weight_decay(0.0)], defaults)?;
    /// assert_eq!(opt.group_config(1)?.weight_decay(), Some(0.0));
    /// assert_eq!(opt.group_momentum(1)?, Some(0.9));
    /// # Ok(()) }
    /// ```
    pub fn with_groups(groups: Vec<ParamGroup>, defaults: SgdConfig) -> Result<Sgd> {
        Self::from_groups(Groups::new(groups, defaults)?)
    }

    fn from_groups(groups: Groups<SgdConfig>) -> Result<Sgd> {
        let state = vec![(0, None); groups.params.len()];
        Ok(Sgd { groups, state })
    }

    /// The hyperparameters of group 0, with its current lr and momentum (see
    /// [`Optimizer::group_config`] for the others).
    pub fn config(&self) -> &SgdConfig {
        &self.groups.groups[0].config
    }

    /// The defaults config the optimizer was built with.
    pub fn defaults(&self) -> &SgdConfig {
        &self.groups.defaults
    }

    /// The momentum buffer of parameter `i`, once it exists.
    pub fn momentum_buffer(&self, i: usize) -> Option<&Tensor> {
        self.state.get(i).and_then(|s| s.1.as_ref())
    }
}

/// The fused host update of one parameter (see `optim/fused.rs`), creating
/// the momentum buffer on the first step; `false` when it does not apply.
fn fused_step(p: &Tensor, g: &Tensor, buf: &mut Option<Tensor>, c: &SgdConfig) -> Result<bool> {
    if !p.device().is_cpu() {
        return Ok(false);
    }
    let first = buf.is_none();
    let fresh = if c.momentum != 0.0 && first {
        Some(p.zeros_like()?)
    } else {
        None
    };
    let state = if c.momentum != 0.0 {
        fresh.as_ref().or(buf.as_ref())
    } else {
        None
    };
    let step = SgdStep {
        lr: c.lr,
        momentum: c.momentum,
        dampening: c.dampening,
        weight_decay: c.weight_decay,
        nesterov: c.nesterov,
        first,
    };
    if !super::fused::sgd(p, g, state, &step) {
        return Ok(false);
    }
    if fresh.is_some() {
        *buf = fresh;
    }
    Ok(true)
}

impl Optimizer for Sgd {
    fn name(&self) -> &'static str {
        "SGD"
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let params = &self.groups.params;
        let all = gather_grads("SGD.step", params, grads)?;
        let _guard = NoGradGuard::new();
        for group in &self.groups.groups {
            let c = &group.config;
            for i in group.range.clone() {
                let (p, (count, buf)) = (&params[i], &mut self.state[i]);
                let Some(mut g) = all[i].clone() else { continue };
                if fused_step(p, &g, buf, c)? {
                    *count += 1;
                    continue;
                }
                if c.weight_decay != 0.0 {
                    g = axpy(&g, p, c.weight_decay)?;
                }
                if c.momentum != 0.0 {
                    let b = match buf.as_ref() {
                        None => g.deep_copy()?,
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
        }
        self.groups.steps += 1;
        Ok(())
    }

    group_accessors!(groups);

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
        Ok(self.groups.state(params))
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        const OP: &str = "SGD.load_state";
        let restore = self.groups.check_state(state, OP)?;
        let mut restored = Vec::with_capacity(self.state.len());
        for (i, p) in self.groups.params.iter().enumerate() {
            let count = state.params.get(&i).map_or(0, |s| s.step);
            restored.push((count, state.buffer(i, "momentum_buffer", p, OP)?));
        }
        self.groups.restore(restore);
        self.state = restored;
        Ok(())
    }
}
