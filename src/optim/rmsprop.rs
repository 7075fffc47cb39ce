//! RMSprop (PyTorch's `torch.optim.RMSprop`), optionally centered and with momentum.

use super::Optimizer;
use super::common::{
    addcdiv, addcmul, axpy, check_lr, closed_unit_interval, gather_grads, lerp, non_negative, unit_interval,
};
use super::groups::{GroupConfig, Groups, group_accessors, momentum_group_config};
use super::param_group::{GroupOptions, ParamGroup};
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

    /// Checks every hyperparameter: PyTorch's checks (lr, momentum and weight
    /// decay finite and `>= 0`), `alpha` in `[0, 1]` (a larger smoothing
    /// constant makes the average diverge) and `eps` finite and `> 0` (at 0 a
    /// parameter whose gradient has been zero so far is updated by 0 / 0 = NaN).
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "RMSprop";
        check_lr(OP, self.lr)?;
        // PyTorch accepts eps = 0 (and then divides 0 by 0 where a
        // second moment is still zero); only what it refuses is refused.
        non_negative(OP, "eps", self.eps)?;
        non_negative(OP, "momentum", self.momentum)?;
        non_negative(OP, "weight_decay", self.weight_decay)?;
        closed_unit_interval(OP, "alpha", self.alpha)
    }
}

impl GroupConfig for RmsPropConfig {
    const KIND: &'static str = "RMSprop";
    const OPTIONS: &'static [&'static str] = &["lr", "weight_decay", "momentum", "alpha", "eps", "centered"];

    momentum_group_config!(RmsPropConfig, RmsProp, "RMSprop");

    fn apply(&self, o: &GroupOptions) -> Self {
        RmsPropConfig {
            lr: o.lr.unwrap_or(self.lr),
            alpha: o.alpha.unwrap_or(self.alpha),
            eps: o.eps.unwrap_or(self.eps),
            weight_decay: o.weight_decay.unwrap_or(self.weight_decay),
            momentum: o.momentum.unwrap_or(self.momentum),
            centered: o.centered.unwrap_or(self.centered),
        }
    }
    fn to_options(&self) -> GroupOptions {
        GroupOptions {
            lr: Some(self.lr),
            alpha: Some(self.alpha),
            eps: Some(self.eps),
            weight_decay: Some(self.weight_decay),
            momentum: Some(self.momentum),
            centered: Some(self.centered),
            ..Default::default()
        }
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
    groups: Groups<RmsPropConfig>,
    state: Vec<Option<Averages>>,
}

impl RmsProp {
    /// An optimizer over `params`, in one group. Errors on invalid
    /// hyperparameters, an empty list, a non-float or a repeated parameter.
    pub fn new(params: Vec<Tensor>, config: RmsPropConfig) -> Result<RmsProp> {
        Self::with_groups(vec![ParamGroup::new(params)], config)
    }

    /// An optimizer over parameter groups (PyTorch's `RMSprop(param_groups,
    /// **defaults)`): each group's unset hyperparameters come from `defaults`.
    /// Errors as [`RmsProp::new`] does (naming the group), and on a group
    /// setting a hyperparameter RMSprop does not have or a parameter in two groups.
    pub fn with_groups(groups: Vec<ParamGroup>, defaults: RmsPropConfig) -> Result<RmsProp> {
        let groups = Groups::new(groups, defaults)?;
        let state = vec![None; groups.params.len()];
        Ok(RmsProp { groups, state })
    }

    /// The hyperparameters of group 0, with its current lr and momentum.
    pub fn config(&self) -> &RmsPropConfig {
        &self.groups.groups[0].config
    }

    /// The defaults config the optimizer was built with.
    pub fn defaults(&self) -> &RmsPropConfig {
        &self.groups.defaults
    }
}

impl Optimizer for RmsProp {
    fn name(&self) -> &'static str {
        "RMSprop"
    }

    fn step(&mut self, grads: &GradStore) -> Result<()> {
        let params = &self.groups.params;
        let all = gather_grads("RMSprop.step", params, grads)?;
        let _guard = NoGradGuard::new();
        for group in &self.groups.groups {
            for i in group.range.clone() {
                let Some(g) = all[i].clone() else { continue };
                let updated = rmsprop_update(&params[i], g, &mut self.state[i], &group.config)?;
                params[i].set_data(&updated)?;
            }
        }
        self.groups.steps += 1;
        Ok(())
    }

    group_accessors!(groups);

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
        Ok(self.groups.state(params))
    }

    fn load_state(&mut self, state: &OptimizerState) -> Result<()> {
        const OP: &str = "RMSprop.load_state";
        let restore = self.groups.check_state(state, OP)?;
        let mut restored = Vec::with_capacity(self.state.len());
        for (i, p) in self.groups.params.iter().enumerate() {
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
        self.groups.restore(restore);
        self.state = restored;
        Ok(())
    }
}

/// One RMSprop update of `p` with gradient `g`; advances `slot` and returns
/// the new parameter value.
fn rmsprop_update(p: &Tensor, mut g: Tensor, slot: &mut Option<Averages>, c: &RmsPropConfig) -> Result<Tensor> {
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
    *slot = Some(Averages {
        step: prev.step + 1,
        square_avg,
        grad_avg,
        momentum_buffer,
    });
    Ok(updated)
}
