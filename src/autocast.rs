//! Mixed precision: an autocast scope (PyTorch's `torch.autocast`) in which
//! matrix products and convolutions of `F32` tensors run in `BF16` or `F16`.
//!
//! Inside [`autocast`], `matmul`, `linear` (and so `Linear`, attention and
//! recurrent layers), `conv1d`, `conv2d` and `conv_transpose2d` cast their
//! `F32` operands to the scope's dtype, multiply with `F32` accumulation
//! (cuBLAS tensor-core GEMMs with 32-bit compute on CUDA; on the CPU the
//! half operands are widened and multiplied in `F32`), round the result to
//! the half dtype and hand it back as `F32`. Every other op (element-wise,
//! reductions, softmax, normalisation, losses) runs in `F32` as before, and
//! the weights stay `F32` master copies: their gradients come back through
//! the casts in `F32`, so optimizer state is `F32` too. Backward products run
//! in the half dtype, as under PyTorch's autocast. `F64` tensors are never
//! cast.
//!
//! Returning `F32` (PyTorch returns the half dtype) keeps the element-wise
//! ops between layers in full precision at the cost of their memory traffic;
//! the rounding of every product is the same.
//!
//! With `F16` (5 exponent bits) small gradients underflow: scale the loss
//! with a [`crate::optim::GradScaler`], which
//! [`crate::train::Trainer::mixed_precision`] does for `F16`. `BF16` has
//! `F32`'s range and needs no scaler.

use crate::{DType, Error, Result, Tensor};
use std::cell::Cell;

thread_local! {
    static AUTOCAST: Cell<Option<DType>> = const { Cell::new(None) };
}

/// The half dtype of the autocast scope active on this thread, if any.
pub fn autocast_dtype() -> Option<DType> {
    AUTOCAST.with(|a| a.get())
}

/// Enters an autocast scope on this thread until dropped; scopes nest, and
/// the previous one comes back on drop.
pub struct AutocastGuard {
    previous: Option<DType>,
}

impl AutocastGuard {
    /// Enters a scope computing products in `dtype` (`BF16` or `F16`), or
    /// leaves autocast (`None`) until dropped.
    pub fn new(dtype: Option<DType>) -> Result<AutocastGuard> {
        if let Some(d) = dtype
            && !matches!(d, DType::BF16 | DType::F16)
        {
            return Err(Error::invalid(
                "autocast",
                format!("the compute dtype must be BF16 or F16, got {d}"),
            ));
        }
        let previous = AUTOCAST.with(|a| a.replace(dtype));
        Ok(AutocastGuard { previous })
    }
}

impl Drop for AutocastGuard {
    fn drop(&mut self) {
        AUTOCAST.with(|a| a.set(self.previous));
    }
}

/// Runs `f` with matrix products and convolutions in `dtype` (`BF16` or
/// `F16`); an error for other dtypes.
///
/// ```
/// use neurite::{autocast, DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let a = Tensor::from_vec(vec![1.0f32 + 1.0 / 1024.0, 1.0], (1, 2), &Device::cpu())?;
/// let b = Tensor::ones((2, 1), DType::F32, &Device::cpu())?;
/// let exact = a.matmul(&b)?.to_vec::<f32>()?[0];
/// let low = autocast(DType::BF16, || a.matmul(&b))??;
/// assert_eq!(low.dtype(), DType::F32);
/// // BF16 keeps 8 significant bits: 1 + 1/1024 rounds to 1.
/// assert_eq!(low.to_vec::<f32>()?[0], 2.0);
/// assert!(exact > 2.0);
/// # Ok(()) }
/// ```
pub fn autocast<R>(dtype: DType, f: impl FnOnce() -> R) -> Result<R> {
    let _guard = AutocastGuard::new(Some(dtype))?;
    Ok(f())
}

/// The dtype to compute a product of `operands` in: the scope's, when one is
/// active and every operand is `F32`.
pub(crate) fn cast_dtype(operands: &[&Tensor]) -> Option<DType> {
    let d = autocast_dtype()?;
    operands.iter().all(|t| t.dtype() == DType::F32).then_some(d)
}

/// `operand` in the autocast dtype `d`.
pub(crate) fn cast(operand: &Tensor, d: DType) -> Result<Tensor> {
    operand.to_dtype(d)
}

/// Under an autocast scope with `F32` `x` and `weight`: `product` of the
/// operands and bias cast to the scope's dtype, its result in `F32`.
/// `None` outside a scope (the caller computes as usual).
pub(crate) fn cast_product(
    x: &Tensor,
    weight: &Tensor,
    bias: Option<&Tensor>,
    product: impl FnOnce(&Tensor, &Tensor, Option<&Tensor>) -> Result<Tensor>,
) -> Option<Result<Tensor>> {
    let d = cast_dtype(&[x, weight])?;
    Some(run_cast(d, |d| {
        let bias = bias.map(|b| cast(b, d)).transpose()?;
        product(&cast(x, d)?, &cast(weight, d)?, bias.as_ref())
    }))
}

/// Runs a product on operands cast to `d` and returns its result in `F32`.
/// The scope is left inside, so that the product's own inner ops are not
/// cast again.
pub(crate) fn run_cast(d: DType, f: impl FnOnce(DType) -> Result<Tensor>) -> Result<Tensor> {
    let out = {
        let _off = AutocastGuard::new(None)?;
        f(d)?
    };
    out.to_dtype(DType::F32)
}
