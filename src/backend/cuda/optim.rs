//! Fused optimizer updates on the GPU (kernels/optim.cu): one kernel reads the
//! parameter, its gradient and the optimizer state and writes them back, instead
//! of the dozen element-wise ops the tensor-level formulas would launch.
//!
//! Formulas are PyTorch's (`torch.optim.SGD`, `Adam`, `AdamW`, `RMSprop`). Every
//! buffer must have the parameter's length, dtype and device. State buffers start
//! as zeros, except SGD's momentum buffer, which the first step overwrites.

use super::launch::{Arg, launch, sfx};
use super::storage::CudaStorage;
use crate::backend::BackendStorage;
use crate::{Error, Result};

/// Hyperparameters of SGD, as in `torch.optim.SGD`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdParams {
    pub lr: f64,
    pub momentum: f64,
    pub dampening: f64,
    pub weight_decay: f64,
    pub nesterov: bool,
}

/// Hyperparameters of Adam and AdamW (`decoupled_weight_decay`), as in `torch.optim.Adam`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamParams {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// AdamW: decay the parameter by `1 - lr * weight_decay` instead of adding
    /// `weight_decay * p` to the gradient.
    pub decoupled_weight_decay: bool,
    pub amsgrad: bool,
}

/// Hyperparameters of RMSprop, as in `torch.optim.RMSprop`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropParams {
    pub lr: f64,
    pub alpha: f64,
    pub eps: f64,
    pub weight_decay: f64,
    pub momentum: f64,
    pub centered: bool,
}

/// Checks that `b` matches the parameter `p` (device, dtype, length).
fn matches(p: &CudaStorage, b: &CudaStorage, op: &'static str) -> Result<()> {
    p.same_device(b, op)?;
    p.same_dtype(b, op)?;
    b.expect_len(p.len(), op)
}

fn require<'a>(b: Option<&'a mut CudaStorage>, what: &str, op: &'static str) -> Result<&'a mut CudaStorage> {
    b.ok_or_else(|| Error::invalid(op, format!("{what} buffer required by these hyperparameters")))
}

impl CudaStorage {
    /// One SGD step on this parameter buffer, in place. `momentum_buf` is needed
    /// when `momentum != 0`; `first_step` makes it a copy of the gradient, as
    /// PyTorch does when the buffer does not exist yet.
    pub fn sgd_step(
        &mut self,
        grad: &CudaStorage,
        momentum_buf: Option<&mut CudaStorage>,
        h: &SgdParams,
        first_step: bool,
    ) -> Result<()> {
        let op = "sgd_step";
        self.require_float(op)?;
        matches(self, grad, op)?;
        if h.nesterov && (h.momentum <= 0.0 || h.dampening != 0.0) {
            return Err(Error::invalid(
                op,
                "Nesterov momentum requires a momentum and zero dampening",
            ));
        }
        let buf = if h.momentum != 0.0 {
            let b = require(momentum_buf, "a momentum", op)?;
            matches(self, b, op)?;
            b.ptr()
        } else {
            0
        };
        let (n, nesterov, first) = (self.len() as u64, h.nesterov as i32, first_step as i32);
        let args: [&dyn Arg; 10] = [
            &self.ptr(),
            &grad.ptr(),
            &buf,
            &n,
            &h.lr,
            &h.momentum,
            &h.dampening,
            &h.weight_decay,
            &nesterov,
            &first,
        ];
        launch(
            self.dev(),
            "optim",
            &format!("sgd_{}", sfx(self.dtype())),
            self.len(),
            &args,
        )
    }

    /// One Adam (or AdamW) step, in place. `step` counts from 1 (the bias
    /// corrections use it); `max_exp_avg_sq` is needed with `amsgrad`.
    pub fn adam_step(
        &mut self,
        grad: &CudaStorage,
        exp_avg: &mut CudaStorage,
        exp_avg_sq: &mut CudaStorage,
        max_exp_avg_sq: Option<&mut CudaStorage>,
        h: &AdamParams,
        step: u64,
    ) -> Result<()> {
        let op = "adam_step";
        self.require_float(op)?;
        for b in [grad, &*exp_avg, &*exp_avg_sq] {
            matches(self, b, op)?;
        }
        if step == 0 {
            return Err(Error::invalid(op, "step counts from 1"));
        }
        let vmax = if h.amsgrad {
            let b = require(max_exp_avg_sq, "a max_exp_avg_sq", op)?;
            matches(self, b, op)?;
            b.ptr()
        } else {
            0
        };
        // `powf` of the step as a float, as Python's `beta ** step` computes it.
        let t = step as f64;
        let step_size = h.lr / (1.0 - h.beta1.powf(t));
        let bc2_sqrt = (1.0 - h.beta2.powf(t)).sqrt();
        let (n, decoupled, amsgrad) = (self.len() as u64, h.decoupled_weight_decay as i32, h.amsgrad as i32);
        let args: [&dyn Arg; 15] = [
            &self.ptr(),
            &grad.ptr(),
            &exp_avg.ptr(),
            &exp_avg_sq.ptr(),
            &vmax,
            &n,
            &h.lr,
            &h.beta1,
            &h.beta2,
            &h.eps,
            &h.weight_decay,
            &decoupled,
            &step_size,
            &bc2_sqrt,
            &amsgrad,
        ];
        launch(
            self.dev(),
            "optim",
            &format!("adam_{}", sfx(self.dtype())),
            self.len(),
            &args,
        )
    }

    /// One RMSprop step, in place. `grad_avg` is needed when `centered`,
    /// `momentum_buf` when `momentum > 0`.
    pub fn rmsprop_step(
        &mut self,
        grad: &CudaStorage,
        square_avg: &mut CudaStorage,
        grad_avg: Option<&mut CudaStorage>,
        momentum_buf: Option<&mut CudaStorage>,
        h: &RmsPropParams,
    ) -> Result<()> {
        let op = "rmsprop_step";
        self.require_float(op)?;
        matches(self, grad, op)?;
        matches(self, square_avg, op)?;
        let gavg = if h.centered {
            let b = require(grad_avg, "a grad_avg", op)?;
            matches(self, b, op)?;
            b.ptr()
        } else {
            0
        };
        let buf = if h.momentum > 0.0 {
            let b = require(momentum_buf, "a momentum", op)?;
            matches(self, b, op)?;
            b.ptr()
        } else {
            0
        };
        let (n, centered) = (self.len() as u64, h.centered as i32);
        let args: [&dyn Arg; 12] = [
            &self.ptr(),
            &grad.ptr(),
            &square_avg.ptr(),
            &gavg,
            &buf,
            &n,
            &h.lr,
            &h.alpha,
            &h.eps,
            &h.weight_decay,
            &h.momentum,
            &centered,
        ];
        launch(
            self.dev(),
            "optim",
            &format!("rmsprop_{}", sfx(self.dtype())),
            self.len(),
            &args,
        )
    }
}
