//! Helpers shared by the optimizers: gradient checks,
//! hyperparameter validation, and PyTorch's fused update primitives written
//! with tensor ops (so they run on the parameters' device).

use crate::{DType, Error, GradStore, Result, Tensor};

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

/// Errors unless `lr` is finite and `>= 0`, with PyTorch's wording
/// ("Invalid learning rate: -1"). A NaN or infinite lr would turn every
/// parameter into NaN on the next step, so it is refused wherever an lr is set.
pub(crate) fn check_lr(op: &'static str, lr: f64) -> Result<()> {
    if lr.is_finite() && lr >= 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("Invalid learning rate: {lr} (lr must be a finite value >= 0)"),
        ))
    }
}

/// Errors unless `value` is finite and `>= 0`, naming the hyperparameter.
pub(crate) fn non_negative(op: &'static str, name: &str, value: f64) -> Result<()> {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("Invalid {name} value: {value} ({name} must be a finite value >= 0)"),
        ))
    }
}

/// Errors unless `0 <= value < 1` (NaN fails).
pub(crate) fn unit_interval(op: &'static str, name: &str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("Invalid {name} value: {value} ({name} must be in [0, 1))"),
        ))
    }
}

/// Errors unless `0 <= value <= 1` (NaN fails).
pub(crate) fn closed_unit_interval(op: &'static str, name: &str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            op,
            format!("Invalid {name} value: {value} ({name} must be in [0, 1])"),
        ))
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
