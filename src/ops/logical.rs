//! Boolean logic and masked fills, composed from comparisons and `where_cond`
//! (so they run on every backend and keep autograd where it applies).

use crate::shape::Dim;
use crate::{DType, Error, Result, Tensor};

impl Tensor {
    /// `self` as a `Bool` mask: itself when it is one, `self != 0` otherwise
    /// (PyTorch's truthiness: NaN is true).
    fn truthy(&self) -> Result<Tensor> {
        if self.dtype() == DType::Bool {
            Ok(self.clone())
        } else {
            self.ne_scalar(0.0)
        }
    }

    fn bool_scalar(&self, value: bool) -> Result<Tensor> {
        Tensor::scalar(value as u8 as f64, DType::Bool, &self.device())
    }

    /// Element-wise AND of the truth values of `self` and `other`,
    /// broadcasting, as a `Bool` tensor (`torch.logical_and`).
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let a = Tensor::from_vec(vec![true, true, false], 3, &Device::cpu())?;
    /// let b = Tensor::from_vec(vec![true, false, false], 3, &Device::cpu())?;
    /// assert_eq!(a.logical_and(&b)?.to_vec::<bool>()?, vec![true, false, false]);
    /// assert_eq!(a.logical_or(&b)?.to_vec::<bool>()?, vec![true, true, false]);
    /// assert_eq!(a.logical_xor(&b)?.to_vec::<bool>()?, vec![false, true, false]);
    /// assert_eq!(a.logical_not()?.to_vec::<bool>()?, vec![false, false, true]);
    /// # Ok(()) }
    /// ```
    pub fn logical_and(&self, other: &Tensor) -> Result<Tensor> {
        self.truthy()?.where_cond(&other.truthy()?, &self.bool_scalar(false)?)
    }

    /// Element-wise OR of the truth values, as a `Bool` tensor (`torch.logical_or`).
    pub fn logical_or(&self, other: &Tensor) -> Result<Tensor> {
        self.truthy()?.where_cond(&self.bool_scalar(true)?, &other.truthy()?)
    }

    /// Element-wise XOR of the truth values, as a `Bool` tensor (`torch.logical_xor`).
    pub fn logical_xor(&self, other: &Tensor) -> Result<Tensor> {
        self.truthy()?.ne(&other.truthy()?)
    }

    /// Element-wise NOT of the truth values, as a `Bool` tensor (`torch.logical_not`).
    pub fn logical_not(&self) -> Result<Tensor> {
        self.eq_scalar(0.0)
    }

    /// How many elements are true along `dims`, as `f32` (exact below 2^24, and
    /// nonzero whenever any is: a sum of ones never rounds to zero).
    fn count_true(&self, dims: &[usize], keepdim: bool) -> Result<Tensor> {
        crate::no_grad(|| self.truthy()?.to_dtype(DType::F32)?.sum_dims(dims, keepdim))
    }

    /// Whether any element is true (nonzero), as a 0-d `Bool` tensor
    /// (`torch.any`); `false` for an empty tensor.
    pub fn any(&self) -> Result<Tensor> {
        let all: Vec<usize> = (0..self.rank()).collect();
        self.count_true(&all, false)?.gt_scalar(0.0)
    }

    /// Whether every element is true (nonzero), as a 0-d `Bool` tensor
    /// (`torch.all`); `true` for an empty tensor.
    pub fn all(&self) -> Result<Tensor> {
        self.logical_not()?.any()?.logical_not()
    }

    /// [`Tensor::any`] along one dim (`torch.any(x, dim, keepdim)`).
    pub fn any_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.to_index(self.shape(), "any_dim")?;
        self.count_true(&[d], keepdim)?.gt_scalar(0.0)
    }

    /// [`Tensor::all`] along one dim (`torch.all(x, dim, keepdim)`).
    pub fn all_dim<D: Dim>(&self, dim: D, keepdim: bool) -> Result<Tensor> {
        let d = dim.to_index(self.shape(), "all_dim")?;
        self.logical_not()?.count_true(&[d], keepdim)?.eq_scalar(0.0)
    }

    /// Checks a `masked_fill` mask: `Bool`, broadcastable to `self`'s shape.
    fn check_fill_mask(&self, mask: &Tensor, op: &'static str) -> Result<()> {
        if mask.dtype() != DType::Bool {
            return Err(Error::invalid(
                op,
                format!(
                    "the mask must have dtype bool, got {} (build it with a comparison, or cast with to_dtype(DType::Bool))",
                    mask.dtype()
                ),
            ));
        }
        if !mask.shape().can_broadcast_to(self.shape()) {
            return Err(Error::BroadcastIncompatible {
                op,
                lhs: mask.shape().clone(),
                rhs: self.shape().clone(),
            });
        }
        Ok(())
    }

    /// `self` with `value` written where `mask` is true, like PyTorch's
    /// `x.masked_fill(mask, value)`. `mask` is `Bool` and broadcasts to
    /// `self`'s shape; the result has `self`'s shape and dtype. The gradient
    /// passes to `self` where the mask is false and is zero where it is true.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::from_vec(vec![1f32, -2.0, 3.0, -4.0], (2, 2), &Device::cpu())?;
    /// let y = x.masked_fill(&x.lt_scalar(0.0)?, 0.0)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![1.0, 0.0, 3.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub fn masked_fill(&self, mask: &Tensor, value: f64) -> Result<Tensor> {
        self.check_fill_mask(mask, "masked_fill")?;
        let fill = Tensor::scalar(value, self.dtype(), &self.device())?;
        mask.where_cond(&fill, self)
    }

    /// [`Tensor::masked_fill`] with the value given as a 0-d (or one-element)
    /// tensor of `self`'s dtype; the value receives the gradient summed over
    /// the filled positions.
    pub fn masked_fill_tensor(&self, mask: &Tensor, value: &Tensor) -> Result<Tensor> {
        let op = "masked_fill_tensor";
        self.check_fill_mask(mask, op)?;
        if value.elem_count() != 1 {
            return Err(Error::invalid(
                op,
                format!("the value must have exactly one element, got shape {}", value.shape()),
            ));
        }
        let value = value.reshape(())?;
        mask.where_cond(&value, self)
    }
}
