//! Weight penalties over a list of parameters.

use crate::{Error, Result, Tensor};

fn penalty(params: &[Tensor], op: &'static str, f: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let mut it = params.iter();
    let first = it.next().ok_or_else(|| Error::invalid(op, "no parameters given"))?;
    let mut total = f(first)?.sum_all()?;
    for p in it {
        total = total.add(&f(p)?.sum_all()?)?;
    }
    Ok(total)
}

/// `lambda * sum(|w|)` over every element of every parameter (L1 / lasso),
/// differentiable; add it to the loss. The parameters must share dtype and device.
///
/// ```
/// use neurite::{loss, Device, Tensor};
/// let w = Tensor::from_vec(vec![1f32, -2., 3.], 3, &Device::cpu()).unwrap();
/// assert_eq!(loss::l1_penalty(&[w], 0.5).unwrap().to_scalar::<f32>().unwrap(), 3.0);
/// ```
pub fn l1_penalty(params: &[Tensor], lambda: f64) -> Result<Tensor> {
    penalty(params, "l1_penalty", |p| p.abs())?.mul_scalar(lambda)
}

/// `lambda * sum(w^2)` over every element of every parameter (L2 / ridge; no
/// factor 1/2: pass `lambda / 2` for the `0.5 * lambda * ||w||^2` convention,
/// whose gradient `lambda * w` equals SGD's `weight_decay = lambda`).
///
/// ```
/// use neurite::{loss, Device, Tensor};
/// let w = Tensor::from_vec(vec![1f32, -2., 3.], 3, &Device::cpu()).unwrap();
/// assert_eq!(loss::l2_penalty(&[w], 0.5).unwrap().to_scalar::<f32>().unwrap(), 7.0);
/// ```
pub fn l2_penalty(params: &[Tensor], lambda: f64) -> Result<Tensor> {
    penalty(params, "l2_penalty", |p| p.sqr())?.mul_scalar(lambda)
}
