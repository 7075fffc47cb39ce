//! Running sums and products along a dim: cumsum, cumprod.
//!
//! Both are one backend primitive ([`crate::backend::BackendStorage::scan`]);
//! the adjoint of a running sum is a running sum from the other end, which the
//! primitive's `reverse` flag gives without a flip.

use crate::autograd::Node;
use crate::backend::ScanOp;
use crate::{Dim, Result, Tensor};

impl Tensor {
    /// The inclusive scan `op` along `d`, from the end when `reverse`; the
    /// backward rule of a sum is the sum the other way.
    fn scan_dim(&self, op: ScanOp, d: usize, reverse: bool, name: &'static str) -> Result<Tensor> {
        self.require_float(name)?;
        let shape = if self.rank() == 0 {
            vec![1]
        } else {
            self.dims().to_vec()
        };
        let outer: usize = shape[..d].iter().product();
        let inner: usize = shape[d + 1..].iter().product();
        let s = self.storage().scan(op, outer, shape[d], inner, reverse)?;
        Ok(Tensor::from_op(s, self.shape().clone(), || {
            let x = self.clone();
            Node::new(name, vec![self.clone()], move |g, y| match op {
                ScanOp::Sum => Ok(vec![Some(g.scan_dim(ScanOp::Sum, d, !reverse, name)?)]),
                ScanOp::Prod => Ok(vec![Some(cumprod_backward(&x, y, g, d, reverse)?)]),
            })
        }))
    }

    /// The running sum along `dim` (negative counts from the end), like
    /// `torch.cumsum`: `out[.., j, ..] = sum(self[.., ..=j, ..])`. Floats only;
    /// 16-bit floats accumulate in `f32`.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], 3, &Device::cpu()).unwrap();
    /// assert_eq!(x.cumsum(0usize).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 3.0, 6.0]);
    /// ```
    pub fn cumsum<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = scan_dim_index(self, dim, "cumsum")?;
        self.scan_dim(ScanOp::Sum, d, false, "cumsum")
    }

    /// The running product along `dim`, like `torch.cumprod`. Floats only.
    /// The gradient is exact also where the input holds zeros.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0], 3, &Device::cpu()).unwrap();
    /// assert_eq!(x.cumprod(-1).unwrap().to_vec::<f32>().unwrap(), vec![1.0, 2.0, 6.0]);
    /// ```
    pub fn cumprod<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = scan_dim_index(self, dim, "cumprod")?;
        self.scan_dim(ScanOp::Prod, d, false, "cumprod")
    }
}

/// `dim` resolved, a 0-dimensional tensor counting as one element along dim 0 or -1 (as in PyTorch).
fn scan_dim_index<D: Dim>(x: &Tensor, dim: D, op: &'static str) -> Result<usize> {
    if x.rank() == 0 {
        dim.to_index(&crate::Shape::from(vec![1]), op)
    } else {
        dim.to_index(x.shape(), op)
    }
}

/// The gradient of `y = cumprod(x)` along `d` (scanned from the end when `reverse`).
///
/// `dx[k] = sum_{j >= k} g[j] * prod_{m <= j, m != k} x[m]`. Before the row's
/// first zero that is `rsum(g * y)[k] / x[k]` (`rsum` the running sum from the
/// other end); at the first zero it is `rsum(g * y')[k]` with `y'` the running
/// product of `x` with that zero replaced by one; after it every term holds the
/// zero, so it is 0. No division by zero happens anywhere.
fn cumprod_backward(x: &Tensor, y: &Tensor, g: &Tensor, d: usize, reverse: bool) -> Result<Tensor> {
    let name = "cumprod";
    let dtype = x.dtype();
    let zero = x.eq_scalar(0.0)?.to_dtype(dtype)?;
    let zeros_so_far = zero.scan_dim(ScanOp::Sum, d, reverse, name)?;
    let before = zeros_so_far.eq_scalar(0.0)?.to_dtype(dtype)?;
    let first = zero.mul(&zeros_so_far.eq_scalar(1.0)?.to_dtype(dtype)?)?;
    let ones = Tensor::ones(x.shape(), dtype, &x.device())?;
    // Zeros of `x` (where `before` is 0) are divided by one and masked out.
    let safe_x = x.mul(&before)?.add(&ones.sub(&before)?)?;
    let before_part = g
        .mul(y)?
        .scan_dim(ScanOp::Sum, d, !reverse, name)?
        .div(&safe_x)?
        .mul(&before)?;
    let x_first_one = x.add(&first)?;
    let y_first_one = x_first_one.scan_dim(ScanOp::Prod, d, reverse, name)?;
    let first_part = g
        .mul(&y_first_one)?
        .scan_dim(ScanOp::Sum, d, !reverse, name)?
        .mul(&first)?;
    before_part.add(&first_part)
}
