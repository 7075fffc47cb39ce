//! Conversions out of tensors and between dtypes and devices.

use crate::autograd::Node;
use crate::{DType, Device, Error, Result, Tensor, WithDType};

impl Tensor {
    /// All elements in row-major order, converted to `T` (copies from the GPU).
    pub fn to_vec<T: WithDType>(&self) -> Result<Vec<T>> {
        self.storage().to_cpu()?.to_vec()
    }

    /// The elements of a 1-D tensor.
    pub fn to_vec1<T: WithDType>(&self) -> Result<Vec<T>> {
        if self.rank() != 1 {
            return Err(Error::invalid(
                "to_vec1",
                format!("expected a 1-D tensor, got shape {}", self.shape()),
            ));
        }
        self.to_vec()
    }

    /// The rows of a 2-D tensor.
    pub fn to_vec2<T: WithDType>(&self) -> Result<Vec<Vec<T>>> {
        if self.rank() != 2 {
            return Err(Error::invalid(
                "to_vec2",
                format!("expected a 2-D tensor, got shape {}", self.shape()),
            ));
        }
        let cols = self.dims()[1];
        let v = self.to_vec::<T>()?;
        Ok(if cols == 0 {
            vec![vec![]; self.dims()[0]]
        } else {
            v.chunks(cols).map(|c| c.to_vec()).collect()
        })
    }

    /// The value of a one-element tensor (the same as [`Tensor::item`]).
    pub fn to_scalar<T: WithDType>(&self) -> Result<T> {
        self.single_value("to_scalar")
    }

    /// The value of a tensor with exactly one element, of any rank, converted
    /// to `T` (`f32`, `f64`, `i64`, `half::f16`, `half::bf16`), like PyTorch's
    /// `t.item()`. Copies from the GPU.
    ///
    /// ```
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let loss = Tensor::full(0.25, (1, 1), DType::F32, &Device::cpu())?;
    /// assert_eq!(loss.item::<f32>()?, 0.25);
    /// assert_eq!(loss.item::<f64>()?, 0.25);
    /// assert!(Tensor::zeros(2, DType::F32, &Device::cpu())?.item::<f32>().is_err());
    /// # Ok(()) }
    /// ```
    pub fn item<T: WithDType>(&self) -> Result<T> {
        self.single_value("item")
    }

    fn single_value<T: WithDType>(&self, op: &'static str) -> Result<T> {
        if self.elem_count() != 1 {
            return Err(Error::invalid(
                op,
                format!(
                    "expected a tensor with exactly one element, got shape {} ({} elements)",
                    self.shape(),
                    self.elem_count()
                ),
            ));
        }
        Ok(self.to_vec::<T>()?[0])
    }

    /// A copy as an `ndarray` array with this tensor's shape.
    pub fn to_ndarray<T: WithDType>(&self) -> Result<ndarray::ArrayD<T>> {
        ndarray::ArrayD::from_shape_vec(self.dims().to_vec(), self.to_vec()?)
            .map_err(|e| Error::invalid("to_ndarray", e.to_string()))
    }

    /// A copy on `device`; gradients flow back to the original device.
    pub fn to_device(&self, device: &Device) -> Result<Tensor> {
        if self.device() == *device {
            return Ok(self.clone());
        }
        let s = self.storage().to_device(device)?;
        let src_device = self.device();
        Ok(Tensor::from_op(s, self.shape().clone(), || {
            Node::new("to_device", vec![self.clone()], move |g, _| {
                Ok(vec![Some(g.to_device(&src_device)?)])
            })
        }))
    }

    /// A copy with another element type; gradients are cast back.
    pub fn to_dtype(&self, dtype: DType) -> Result<Tensor> {
        if self.dtype() == dtype {
            return Ok(self.clone());
        }
        let s = self.storage().to_dtype(dtype)?;
        let src = self.dtype();
        Ok(Tensor::from_op(s, self.shape().clone(), || {
            Node::new("to_dtype", vec![self.clone()], move |g, _| {
                Ok(vec![if src.is_float() { Some(g.to_dtype(src)?) } else { None }])
            })
        }))
    }
}
