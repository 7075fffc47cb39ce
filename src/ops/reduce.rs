//! Reductions: sum, mean, max, min, argmax, argmin, variance.

use crate::autograd::Node;
use crate::backend::ReduceOp;
use crate::shape::resolve_dims;
use crate::{Dim, Result, Shape, Tensor};

/// `(outer, len, inner)` sizes around the dims `lo..=hi` of `shape`.
fn split(shape: &[usize], lo: usize, hi: usize) -> (usize, usize, usize) {
    (
        shape[..lo].iter().product(),
        shape[lo..=hi].iter().product(),
        shape[hi + 1..].iter().product(),
    )
}

/// The shape with `dims` set to 1 (keepdim) or removed.
fn reduced_shape(shape: &Shape, dims: &[usize], keepdim: bool) -> Shape {
    let mut out = Vec::with_capacity(shape.rank());
    for (i, &d) in shape.dims().iter().enumerate() {
        if !dims.contains(&i) {
            out.push(d);
        } else if keepdim {
            out.push(1);
        }
    }
    Shape::from(out)
}

impl Tensor {
    /// This tensor cast to `f32` when it is `f16`/`bf16`, whose range and
    /// precision are too small to hold a running sum.
    fn widened_for_accumulation(&self) -> Result<Option<Tensor>> {
        match self.dtype() {
            crate::DType::F16 | crate::DType::BF16 => Ok(Some(self.to_dtype(crate::DType::F32)?)),
            _ => Ok(None),
        }
    }

    /// Sums (or max/min) over sorted, distinct `dims`, keeping them as size 1.
    fn reduce_keepdim(&self, op: ReduceOp, dims: &[usize]) -> Result<crate::backend::Storage> {
        let mut shape = self.dims().to_vec();
        let mut cur: Option<crate::backend::Storage> = None;
        // Runs of adjacent dims reduce in one pass; later runs first keeps indices valid.
        let mut i = dims.len();
        while i > 0 {
            let hi = dims[i - 1];
            let mut lo = hi;
            i -= 1;
            while i > 0 && dims[i - 1] + 1 == lo {
                lo -= 1;
                i -= 1;
            }
            let (outer, len, inner) = split(&shape, lo, hi);
            let next = match &cur {
                None => self.storage().reduce(op, outer, len, inner)?,
                Some(s) => s.reduce(op, outer, len, inner)?,
            };
            for d in &mut shape[lo..=hi] {
                *d = 1;
            }
            cur = Some(next);
        }
        match cur {
            Some(s) => Ok(s),
            None => self
                .storage()
                .copy_strided(0, &self.shape().stride_contiguous(), self.dims()),
        }
    }

    /// Sum over `dims` (negative dims count from the end), like `x.sum(dims, keepdim)`.
    /// Integer and bool tensors sum (wrapping) into `I64`, as in PyTorch.
    pub fn sum_dims<D: Dim>(&self, dims: &[D], keepdim: bool) -> Result<Tensor> {
        if !self.dtype().is_float() {
            let dims = resolve_dims(dims, self.shape(), "sum")?;
            let wide = self.to_dtype(crate::DType::I64)?;
            let s = wide.reduce_keepdim(ReduceOp::Sum, &dims)?;
            return Ok(Tensor::from_storage(s, reduced_shape(self.shape(), &dims, keepdim)));
        }
        let dims = resolve_dims(dims, self.shape(), "sum")?;
        let s = self.reduce_keepdim(ReduceOp::Sum, &dims)?;
        let out = reduced_shape(self.shape(), &dims, keepdim);
        Ok(Tensor::from_op(s, out, || {
            let (keep, full) = (reduced_shape(self.shape(), &dims, true), self.shape().clone());
            Node::new("sum", vec![self.clone()], move |g, _| {
                Ok(vec![Some(g.reshape(&keep)?.broadcast_as(&full)?.contiguous()?)])
            })
        }))
    }

    /// Sum over one dim.
    pub fn sum_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        self.sum_dims(&[dim], keepdim)
    }

    /// Sum of every element, as a 0-dimensional tensor.
    pub fn sum_all(&self) -> Result<Tensor> {
        let all: Vec<usize> = (0..self.rank()).collect();
        self.sum_dims(&all, false)
    }

    /// Mean over `dims`.
    ///
    /// 16-bit floats are accumulated in `f32` (as PyTorch does), so the mean
    /// of many half-precision values does not overflow to `inf` on the way.
    pub fn mean_dims<D: Dim>(&self, dims: &[D], keepdim: bool) -> Result<Tensor> {
        self.require_float("mean")?;
        let idx = resolve_dims(dims, self.shape(), "mean")?;
        if let Some(wide) = self.widened_for_accumulation()? {
            return wide.mean_dims(&idx, keepdim)?.to_dtype(self.dtype());
        }
        let n: usize = idx.iter().map(|&d| self.dims()[d]).product();
        self.sum_dims(&idx, keepdim)?.affine(1.0 / n as f64, 0.0)
    }

    /// Mean over one dim.
    pub fn mean_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        self.mean_dims(&[dim], keepdim)
    }

    /// Mean of every element.
    pub fn mean_all(&self) -> Result<Tensor> {
        let all: Vec<usize> = (0..self.rank()).collect();
        self.mean_dims(&all, false)
    }

    /// Variance over `dims`; `unbiased` divides by `n - 1` (PyTorch's default).
    /// 16-bit floats are accumulated in `f32`, as for [`Tensor::mean_dims`].
    pub fn var_dims<D: Dim>(&self, dims: &[D], keepdim: bool, unbiased: bool) -> Result<Tensor> {
        let idx = resolve_dims(dims, self.shape(), "var")?;
        if let Some(wide) = self.widened_for_accumulation()? {
            return wide.var_dims(&idx, keepdim, unbiased)?.to_dtype(self.dtype());
        }
        let n: usize = idx.iter().map(|&d| self.dims()[d]).product();
        let centred = self.sub(&self.mean_dims(&idx, true)?)?;
        let denom = if unbiased { n.saturating_sub(1) } else { n } as f64;
        centred.sqr()?.sum_dims(&idx, keepdim)?.affine(1.0 / denom, 0.0)
    }

    /// Variance over one dim.
    pub fn var_dim<D: Dim>(&self, dim: D, keepdim: bool, unbiased: bool) -> Result<Tensor> {
        self.var_dims(&[dim], keepdim, unbiased)
    }

    fn extremum(&self, dim: usize, keepdim: bool, op: ReduceOp, arg: ReduceOp, name: &'static str) -> Result<Tensor> {
        if !self.dtype().is_int() {
            self.require_float(name)?;
        }
        let (outer, len, inner) = split(self.dims(), dim, dim);
        if len == 0 {
            return Err(crate::Error::invalid(
                name,
                format!("cannot reduce the empty dim {dim} of shape {}", self.shape()),
            ));
        }
        let s = self.storage().reduce(op, outer, len, inner)?;
        let out = reduced_shape(self.shape(), &[dim], keepdim);
        Ok(Tensor::from_op(s, out, || {
            let x = self.clone();
            Node::new(name, vec![self.clone()], move |g, _| {
                // The whole gradient goes to the first extremum, as in PyTorch.
                let idx = x.storage().reduce(arg, outer, len, inner)?;
                let gs = g.contiguous()?.storage().scatter_add(&idx, outer, len, inner)?;
                Ok(vec![Some(Tensor::from_storage(gs, x.shape().clone()))])
            })
        }))
    }

    /// Maximum over one dim (values only; see [`Tensor::argmax`]).
    pub fn max_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.to_index(self.shape(), "max")?;
        self.extremum(d, keepdim, ReduceOp::Max, ReduceOp::ArgMax, "max")
    }

    /// Minimum over one dim.
    pub fn min_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.to_index(self.shape(), "min")?;
        self.extremum(d, keepdim, ReduceOp::Min, ReduceOp::ArgMin, "min")
    }

    /// Maximum over several dims at once, as `torch.amax(x, dims, keepdim)`
    /// (negative dims count from the end; an empty list reduces every dim, as
    /// `amax` does). The gradient is shared evenly among the elements that tie
    /// for the maximum, as `amax`'s is (unlike [`Tensor::max_dim`], which
    /// follows `torch.max(dim)` and gives all of it to the first).
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let x = Tensor::from_vec(vec![1f32, 5., 3., 5., 2., 0.], (2, 3), &Device::cpu()).unwrap();
    /// assert_eq!(x.max_dims(&[0i64, 1], false).unwrap().to_vec::<f32>().unwrap(), vec![5.]);
    /// assert_eq!(x.max_dims(&[-1i64], true).unwrap().dims(), &[2, 1]);
    /// ```
    pub fn max_dims<D: Dim>(&self, dims: &[D], keepdim: bool) -> Result<Tensor> {
        self.extremum_dims(dims, keepdim, ReduceOp::Max, "amax")
    }

    /// Minimum over several dims at once, as `torch.amin(x, dims, keepdim)`;
    /// see [`Tensor::max_dims`] for the dims and the gradient.
    pub fn min_dims<D: Dim>(&self, dims: &[D], keepdim: bool) -> Result<Tensor> {
        self.extremum_dims(dims, keepdim, ReduceOp::Min, "amin")
    }

    fn extremum_dims<D: Dim>(&self, dims: &[D], keepdim: bool, op: ReduceOp, name: &'static str) -> Result<Tensor> {
        self.require_float(name)?;
        let dims = if dims.is_empty() {
            (0..self.rank()).collect()
        } else {
            resolve_dims(dims, self.shape(), name)?
        };
        if let Some(&d) = dims.iter().find(|&&d| self.dims()[d] == 0) {
            return Err(crate::Error::invalid(
                name,
                format!("cannot reduce the empty dim {d} of shape {}", self.shape()),
            ));
        }
        let s = self.reduce_keepdim(op, &dims)?;
        let keep = reduced_shape(self.shape(), &dims, true);
        let out = reduced_shape(self.shape(), &dims, keepdim);
        Ok(Tensor::from_op(s, out, || {
            let x = self.clone();
            Node::new(name, vec![self.clone()], move |g, y| {
                // Even shares among ties: mask / count, as PyTorch's amax backward.
                let y = y.reshape(&keep)?;
                let mask = x.eq(&y)?.to_dtype(x.dtype())?;
                let count = mask.sum_dims(&dims, true)?;
                let share = g.reshape(&keep)?.div(&count)?;
                Ok(vec![Some(mask.mul(&share)?)])
            })
        }))
    }

    /// Largest element, as a 0-dimensional tensor.
    pub fn max_all(&self) -> Result<Tensor> {
        self.flatten_all()?.max_dim(0usize, false)
    }

    /// Smallest element.
    pub fn min_all(&self) -> Result<Tensor> {
        self.flatten_all()?.min_dim(0usize, false)
    }

    fn arg_extremum(&self, dim: usize, keepdim: bool, op: ReduceOp, name: &'static str) -> Result<Tensor> {
        let (outer, len, inner) = split(self.dims(), dim, dim);
        if len == 0 {
            return Err(crate::Error::invalid(
                name,
                format!("cannot reduce the empty dim {dim} of shape {}", self.shape()),
            ));
        }
        let s = self.storage().reduce(op, outer, len, inner)?;
        Ok(Tensor::from_storage(s, reduced_shape(self.shape(), &[dim], keepdim)))
    }

    /// Index of the first maximum along `dim`, as an `I64` tensor.
    pub fn argmax<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.to_index(self.shape(), "argmax")?;
        self.arg_extremum(d, keepdim, ReduceOp::ArgMax, "argmax")
    }

    /// Index of the first minimum along `dim`, as an `I64` tensor.
    pub fn argmin<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.to_index(self.shape(), "argmin")?;
        self.arg_extremum(d, keepdim, ReduceOp::ArgMin, "argmin")
    }
}
