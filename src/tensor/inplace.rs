//! Updates that overwrite a tensor's buffer instead of allocating a new one:
//! what optimizers and by-hand training loops do to parameters every step.
//!
//! Like [`Tensor::set_data`], they change every handle that shares the
//! buffer, and they record no graph: they are refused while gradients are
//! being tracked for the written tensor, as PyTorch refuses in-place ops on a
//! leaf that requires grad outside `no_grad`.

use crate::backend::Storage;
use crate::{Error, Result, Tensor};

impl Tensor {
    /// `self += alpha * other`, in place: PyTorch's `self.add_(other, alpha=alpha)`.
    /// Same shape, dtype and device; float tensors only. On the CPU this is one
    /// pass over the buffer with no allocation; elsewhere it computes
    /// `self + alpha * other` and writes it back.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let w = Tensor::from_vec(vec![1f32, 2.0], 2, &Device::cpu())?.requires_grad();
    /// let grads = w.sqr()?.sum_all()?.backward()?;
    /// neurite::no_grad(|| w.add_scaled_(grads.get(&w).unwrap(), -0.25))?;
    /// assert_eq!(w.to_vec::<f32>()?, vec![0.5, 1.0]);
    /// # Ok(()) }
    /// ```
    pub fn add_scaled_(&self, other: &Tensor, alpha: f64) -> Result<()> {
        const OP: &str = "add_scaled_";
        self.check_in_place(OP)?;
        self.same_layout(other, OP)?;
        if !self.shares_storage(other) {
            let src = other.storage();
            let mut dst = self.storage_mut();
            // Irrefutable without the `cuda` feature, where the CPU is the only backend.
            #[allow(irrefutable_let_patterns)]
            if let (Storage::Cpu(d), Storage::Cpu(s)) = (&mut *dst, &*src) {
                return d.add_scaled_in_place(s, alpha);
            }
        }
        // Another device, or `x.add_scaled_(&x, a)`: compute, then write back.
        let sum = crate::no_grad(|| self.add(&other.mul_scalar(alpha)?))?;
        self.set_data(&sum)
    }

    /// A copy with a buffer of its own, cut from the graph: state that is
    /// later updated in place must not alias the tensor it started from.
    pub(crate) fn deep_copy(&self) -> Result<Tensor> {
        let storage = self.storage().to_device(&self.device())?;
        Ok(Tensor::from_storage(storage, self.shape().clone()))
    }

    /// Errors unless `self` may be overwritten: a float tensor whose
    /// gradient is not being tracked (or gradient mode is off).
    pub(crate) fn check_in_place(&self, op: &'static str) -> Result<()> {
        self.require_float(op)?;
        if crate::autograd::is_grad_enabled() && self.tracks_grad() {
            return Err(Error::invalid(
                op,
                format!(
                    "an in-place update of a tensor that requires grad (shape {}) would corrupt its graph; run it under no_grad, as optimizers do",
                    self.shape()
                ),
            ));
        }
        Ok(())
    }
}
