//! Helpers shared by the optimizers: parameter and gradient checks,
//! hyperparameter validation, and PyTorch's fused update primitives written
//! with tensor ops (so they run on the parameters' device).

use crate::{DType, Error, GradStore, Result, Tensor};
use std::collections::HashSet;

/// Checks a parameter list: not empty, floating point, no tensor twice (a
/// duplicate would be updated twice per step).
pub(crate) fn validate_params(op: &'static str, params: &[Tensor]) -> Result<()> {
    if params.is_empty() {
        return Err(Error::invalid(op, "got an empty parameter list"));
    }
    let mut seen = HashSet::new();
    for (i, p) in params.iter().enumerate() {
        if !p.dtype().is_float() {
            return Err(Error::invalid(
                op,
                format!(
                    "parameter {i} has dtype {}, only floating-point tensors can be optimized",
                    p.dtype()
                ),
            ));
        }
        if !seen.insert(p.id()) {
            return Err(Error::invalid(
                op,
                format!("parameter {i} appears more than once in the list"),
            ));
        }
    }
    Ok(())
}

/// The gradient of each parameter (`None` where the store has none), after
/// checking every present one against its parameter, so that a bad gradient is
/// reported before any parameter changes.
pub(crate) fn gather_grads(op: &'static str, params: &[Tensor], grads: &GradStore) -> Result<Vec<Option<Tensor>>> {
    params
        .iter()
        .map(|p| match grads.get(p) {
            None => Ok(None),
            Some(g) => {
                g.same_layout(p, op)?;
                Ok(Some(g.clone()))
            }
        })
        .collect()
}

/// Errors unless `value >= 0` (NaN fails too), naming the hyperparameter.
pub(crate) fn non_negative(op: &'static str, name: &str, value: f64) -> Result<()> {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("{name} must be a finite value >= 0, got {value}"),
        ))
    }
}

/// Errors unless `0 <= value < 1`.
pub(crate) fn unit_interval(op: &'static str, name: &str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(op, format!("{name} must be in [0, 1), got {value}")))
    }
}

/// Errors unless `0 <= value <= 1`.
pub(crate) fn closed_unit_interval(op: &'static str, name: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(op, format!("{name} must be in [0, 1], got {value}")))
    }
}

/// A scalar as the kernels of a `dtype` tensor see it: PyTorch computes
/// element-wise ops on reduced and single precision in `f32` ("opmath").
fn opmath(value: f64, dtype: DType) -> f64 {
    if dtype == DType::F64 {
        value
    } else {
        value as f32 as f64
    }
}

/// `y + alpha * x` (PyTorch's `y.add(x, alpha=alpha)`).
pub(crate) fn axpy(y: &Tensor, x: &Tensor, alpha: f64) -> Result<Tensor> {
    if alpha == 1.0 {
        y.add(x)
    } else {
        y.add(&x.mul_scalar(alpha)?)
    }
}

/// `start + weight * (end - start)`, computed as PyTorch's `lerp` does: from
/// the end point when the weight is 0.5 or more, for accuracy near 1.
pub(crate) fn lerp(start: &Tensor, end: &Tensor, weight: f64) -> Result<Tensor> {
    let w = opmath(weight, start.dtype());
    let diff = end.sub(start)?;
    if w.abs() < 0.5 {
        start.add(&diff.mul_scalar(w)?)
    } else {
        end.sub(&diff.mul_scalar(1.0 - w)?)
    }
}

/// `s + value * t1 * t2` (PyTorch's `addcmul`, same evaluation order).
pub(crate) fn addcmul(s: &Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<Tensor> {
    let prod = if value == 1.0 {
        t1.mul(t2)?
    } else {
        t1.mul_scalar(value)?.mul(t2)?
    };
    s.add(&prod)
}

/// `s + value * t1 / t2` (PyTorch's `addcdiv`, same evaluation order).
pub(crate) fn addcdiv(s: &Tensor, t1: &Tensor, t2: &Tensor, value: f64) -> Result<Tensor> {
    let quot = if value == 1.0 {
        t1.div(t2)?
    } else {
        t1.mul_scalar(value)?.div(t2)?
    };
    s.add(&quot)
}

/// The `Optimizer` accessors of an optimizer that keeps `config.lr`,
/// `config.momentum`, `initial_lr`, `params` and `steps` fields (SGD,
/// RMSprop); `$name` prefixes the error of `set_momentum`.
macro_rules! config_accessors {
    ($name:literal) => {
        fn lr(&self) -> f64 {
            self.config.lr
        }

        fn set_lr(&mut self, lr: f64) {
            self.config.lr = lr;
        }

        fn initial_lr(&self) -> Option<f64> {
            self.initial_lr
        }

        fn set_initial_lr(&mut self, lr: Option<f64>) {
            self.initial_lr = lr;
        }

        fn momentum(&self) -> Option<f64> {
            Some(self.config.momentum)
        }

        fn set_momentum(&mut self, momentum: f64) -> Result<()> {
            $crate::optim::common::unit_interval(concat!($name, ".set_momentum"), "momentum", momentum)?;
            self.config.momentum = momentum;
            Ok(())
        }

        fn params(&self) -> &[Tensor] {
            &self.params
        }

        fn step_count(&self) -> u64 {
            self.steps
        }
    };
}

pub(super) use config_accessors;
