//! Gradient clipping by global norm and by value (PyTorch's `clip_grad_norm_`
//! and `clip_grad_value_`), applied to the gradients held in a [`GradStore`].

use crate::{DType, Error, GradStore, NoGradGuard, Result, Tensor};

/// Scales the gradients of `params` so that their global L2 norm (the norm of
/// all of them concatenated) is at most `max_norm`, and returns the norm they
/// had before clipping.
///
/// As in PyTorch, the scale is `min(1, max_norm / (total_norm + 1e-6))` and is
/// applied even when it is 1; parameters without a gradient are ignored; with no
/// gradient at all the norm is 0. The scale is computed on the gradients'
/// device; only the returned norm is copied to the host.
///
/// ```
/// use neurite::optim::clip_grad_norm;
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![3f32, 4.0], 2, &Device::cpu())?.requires_grad();
/// let mut grads = w.sqr()?.sum_all()?.affine(0.5, 0.0)?.backward()?; // gradient (3, 4)
/// let norm = clip_grad_norm(&mut grads, &[w.clone()], 1.0)?;
/// assert!((norm - 5.0).abs() < 1e-6);
/// let g = grads.get(&w).unwrap().to_vec::<f32>()?;
/// assert!((g[0] - 0.6).abs() < 1e-6 && (g[1] - 0.8).abs() < 1e-6);
/// # Ok(()) }
/// ```
pub fn clip_grad_norm(grads: &mut GradStore, params: &[Tensor], max_norm: f64) -> Result<f64> {
    clip_grad_norm_p(grads, params, max_norm, 2.0)
}

/// [`clip_grad_norm`] with any p-norm: `norm_type` is a positive `p` or
/// `f64::INFINITY` for the largest absolute value.
pub fn clip_grad_norm_p(grads: &mut GradStore, params: &[Tensor], max_norm: f64, norm_type: f64) -> Result<f64> {
    const OP: &str = "clip_grad_norm";
    if max_norm.is_nan() || max_norm < 0.0 {
        return Err(Error::invalid(OP, format!("max_norm must be >= 0, got {max_norm}")));
    }
    if norm_type.is_nan() || norm_type <= 0.0 {
        return Err(Error::invalid(
            OP,
            format!("norm_type must be a positive p or f64::INFINITY, got {norm_type}"),
        ));
    }
    let _guard = NoGradGuard::new();
    let present: Vec<(Tensor, Tensor)> = params
        .iter()
        .filter_map(|p| grads.get(p).map(|g| (p.clone(), g.clone())))
        .collect();
    let Some((_, first)) = present.first() else {
        return Ok(0.0);
    };
    let (device, first_dtype) = (first.device(), first.dtype());
    let mixed = present.iter().any(|(_, g)| g.dtype() != first_dtype);
    let norms = present
        .iter()
        .map(|(_, g)| {
            let n = vector_norm(g, norm_type)?.to_device(&device)?;
            if mixed { n.to_dtype(DType::F64) } else { Ok(n) }
        })
        .collect::<Result<Vec<_>>>()?;
    let total = vector_norm(&Tensor::stack(&norms, 0)?, norm_type)?;
    // PyTorch evaluates `max_norm / (total + 1e-6)` as `reciprocal(total + 1e-6) * max_norm`.
    let coef = total
        .add_scalar(1e-6)?
        .recip()?
        .mul_scalar(max_norm)?
        .clamp(f64::NEG_INFINITY, 1.0)?;
    for (p, g) in &present {
        let c = coef.to_device(&g.device())?.to_dtype(g.dtype())?;
        grads.insert(p, g.mul(&c)?);
    }
    total.to_scalar::<f64>()
}

/// The p-norm of all elements of `t`, as a one-element tensor of `t`'s dtype.
fn vector_norm(t: &Tensor, p: f64) -> Result<Tensor> {
    if p == f64::INFINITY {
        t.abs()?.max_all()
    } else if p == 2.0 {
        t.sqr()?.sum_all()?.sqrt()
    } else if p == 1.0 {
        t.abs()?.sum_all()
    } else {
        t.abs()?.powf(p)?.sum_all()?.powf(1.0 / p)
    }
}

/// Clamps every gradient of `params` to `[-clip, clip]` in the store.
///
/// ```
/// use neurite::optim::clip_grad_value;
/// use neurite::{Device, GradStore, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::zeros(3, neurite::DType::F32, &Device::cpu())?.requires_grad();
/// let mut grads = GradStore::new();
/// grads.insert(&w, Tensor::from_vec(vec![-2f32, 0.5, 3.0], 3, &Device::cpu())?);
/// clip_grad_value(&mut grads, &[w.clone()], 1.0)?;
/// assert_eq!(grads.get(&w).unwrap().to_vec::<f32>()?, vec![-1.0, 0.5, 1.0]);
/// # Ok(()) }
/// ```
pub fn clip_grad_value(grads: &mut GradStore, params: &[Tensor], clip: f64) -> Result<()> {
    if clip.is_nan() || clip < 0.0 {
        return Err(Error::invalid(
            "clip_grad_value",
            format!("clip must be >= 0, got {clip}"),
        ));
    }
    let _guard = NoGradGuard::new();
    for p in params {
        if let Some(g) = grads.get(p) {
            let clipped = g.clamp(-clip, clip)?;
            grads.insert(p, clipped);
        }
    }
    Ok(())
}
