//! Storage and the primitive operations every backend implements.
//!
//! The tensor layer (`src/ops/`) reduces every user-facing op, and every
//! backward rule, to the small set of primitives in [`BackendStorage`]. A
//! backend implements those primitives on contiguous buffers; shapes, strides
//! and broadcasting are resolved before a primitive is called. [`Storage`] is
//! the enum in front of the backends: the one place where a call is routed to
//! the CPU or the GPU.

pub mod cpu;
#[cfg(feature = "cuda")]
pub mod cuda;
mod layout;
mod ops;
mod storage;

pub use cpu::CpuStorage;
pub use ops::ScanOp;
pub use ops::{BinaryLayout, BinaryOp, CmpOp, Im2ColSpec, MatmulSpec, ReduceOp, UnaryOp};
pub use storage::Storage;

use crate::{DType, Device, Result};

/// The primitives a backend provides. Inputs are contiguous, row-major buffers.
pub trait BackendStorage: Sized {
    /// Element type of the buffer.
    fn dtype(&self) -> DType;
    /// Where the buffer lives.
    fn device(&self) -> Device;
    /// Number of elements.
    fn len(&self) -> usize;
    /// True when the buffer holds no element.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// A host copy (synchronises with the device).
    fn to_cpu(&self) -> Result<CpuStorage>;
    /// Element-wise map.
    fn unary(&self, op: UnaryOp) -> Result<Self>;
    /// Element-wise op of two buffers read through broadcasting strides.
    fn binary(&self, rhs: &Self, op: BinaryOp, layout: &BinaryLayout) -> Result<Self>;
    /// `self` is a 0/1 mask of the same length as both branches.
    fn where_cond(&self, on_true: &Self, on_false: &Self) -> Result<Self>;
    /// Reduces a buffer viewed as `(outer, len, inner)` over the middle axis.
    /// `ArgMax`/`ArgMin` return `I64` indices.
    fn reduce(&self, op: ReduceOp, outer: usize, len: usize, inner: usize) -> Result<Self>;
    /// Batched matrix product, see [`MatmulSpec`].
    fn matmul(&self, rhs: &Self, spec: &MatmulSpec) -> Result<Self>;
    /// Gathers `shape` elements starting at `offset` with the given strides
    /// (transpose, permute, narrow and broadcast all reduce to this).
    fn copy_strided(&self, offset: usize, strides: &[usize], shape: &[usize]) -> Result<Self>;
    /// Concatenates buffers viewed as `(outer, inner_i)` along the inner axis.
    fn cat(parts: &[&Self], outer: usize) -> Result<Self>;
    /// Converts the element type.
    fn to_dtype(&self, dtype: DType) -> Result<Self>;
    /// `out[o, j, i] = self[o, ids[j], i]` for a buffer viewed as `(outer, dim, inner)`.
    fn index_select(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self>;
    /// The adjoint of `index_select`: `out` of shape `(outer, dim, inner)`, zero
    /// except `out[o, ids[j], i] += self[o, j, i]`.
    fn index_add(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self>;
    /// `out[o, j, i] = self[o, ids[o, j, i], i]` for `self` viewed as `(outer, dim, inner)`
    /// and `ids` as `(outer, ids_dim, inner)`.
    fn gather(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self>;
    /// The adjoint of `gather`: `out` of shape `(outer, dim, inner)`, zero except
    /// `out[o, ids[o, j, i], i] += self[o, j, i]`.
    fn scatter_add(&self, ids: &Self, outer: usize, dim: usize, inner: usize) -> Result<Self>;
    /// Unfolds image patches, see [`Im2ColSpec`].
    fn im2col(&self, spec: &Im2ColSpec, pad_value: f64) -> Result<Self>;
    /// The adjoint of `im2col`: sums patch columns back into an image.
    fn col2im(&self, spec: &Im2ColSpec) -> Result<Self>;
    /// Sorts a buffer viewed as `(outer, len, inner)` along the middle axis,
    /// returning the values and their `I64` positions in the input row. Stable
    /// (equal elements keep their order, also when `descending`); NaN sorts as
    /// the largest value, as in PyTorch.
    fn sort(&self, outer: usize, len: usize, inner: usize, descending: bool) -> Result<(Self, Self)>;
    /// Inclusive scan (running sum or product) of a buffer viewed as
    /// `(outer, len, inner)` along the middle axis; `reverse` runs from the end
    /// of each row (the adjoint of a forward running sum).
    fn scan(&self, op: ScanOp, outer: usize, len: usize, inner: usize, reverse: bool) -> Result<Self>;
}
