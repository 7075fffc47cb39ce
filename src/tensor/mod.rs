//! The tensor type: a shape, a dtype, a device, shared storage and, when it
//! was produced by a differentiable op, the node that records how.

mod arith;
mod convert;
mod create;
mod display;
mod inplace;
mod random;
mod slice;

pub use display::PrintOptions;
pub use random::{RngState, fork_rng, manual_seed, rng_state, set_rng_state};
pub use slice::{IndexItem, TensorIndex};

use crate::autograd::Node;
use crate::backend::Storage;
use crate::{DType, Device, Error, Result, Shape};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// A unique id per tensor value, used as the key of gradient stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TensorId(u64);

impl TensorId {
    fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        TensorId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// An n-dimensional array on a [`Device`], with reverse-mode autograd.
///
/// Cloning is cheap (an `Arc`). Every op returns a new tensor; storage is
/// always contiguous and row-major. Ops that can fail on user input return
/// [`Result`].
///
/// The arithmetic operators (`+ - * /`, unary `-`) work on `Tensor`, `&Tensor`,
/// scalars (any element type on the right, `f64` on the left) and
/// `Result<Tensor>` operands, and they too return `Result<Tensor>`, because a
/// broadcast can fail: write `(&a * &b + &c)?`.
/// A `Result` cannot meet a scalar or another `Result` (Rust's orphan rule),
/// so such chains take an inner `?`: `((&a + &b)? * 2.0)?`. `Display` prints
/// exactly what PyTorch's `print(t)` does ([`Tensor::format_with`] takes
/// options); [`Tensor::i`] slices with ranges; [`Tensor::item`] reads a
/// one-element tensor.
///
/// ```
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::from_vec(vec![1f32, 2., 3., 4.], (2, 2), &Device::cpu())?;
/// let w = Tensor::ones((2, 1), neurite::DType::F32, &Device::cpu())?.requires_grad();
/// let loss = x.matmul(&w)?.sum_all()?;
/// let grads = loss.backward()?;
/// assert_eq!(grads.get(&w).unwrap().to_vec::<f32>()?, vec![4., 6.]);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Tensor(Arc<TensorInner>);

pub(crate) struct TensorInner {
    id: TensorId,
    storage: Arc<RwLock<Storage>>,
    shape: Shape,
    dtype: DType,
    device: Device,
    requires_grad: AtomicBool,
    node: Option<Node>,
}

impl Tensor {
    /// Consumes this handle; when it was the last one, returns the graph node
    /// of the tensor it freed (for the iterative drop of graphs).
    pub(crate) fn into_node_if_unique(self) -> Option<Node> {
        Arc::into_inner(self.0).and_then(|mut inner| inner.node.take())
    }

    /// Wraps storage without a graph node (a leaf).
    pub(crate) fn from_storage(storage: Storage, shape: Shape) -> Tensor {
        let (dtype, device) = (storage.dtype(), storage.device());
        debug_assert_eq!(storage.len(), shape.elem_count());
        Tensor(Arc::new(TensorInner {
            id: TensorId::new(),
            storage: Arc::new(RwLock::new(storage)),
            shape,
            dtype,
            device,
            requires_grad: AtomicBool::new(false),
            node: None,
        }))
    }

    /// Wraps the result of an op, recording `node` when gradients are being
    /// tracked and one of its inputs needs them.
    pub(crate) fn from_op(storage: Storage, shape: Shape, node: impl FnOnce() -> Node) -> Tensor {
        let t = Tensor::from_storage(storage, shape);
        // Gradients only flow through float tensors: integer and bool results
        // (comparisons, casts to integers, integer arithmetic) start no graph.
        if !crate::autograd::is_grad_enabled() || !t.dtype().is_float() {
            return t;
        }
        let node = node();
        if !node.inputs().iter().any(|i| i.tracks_grad()) {
            return t;
        }
        let mut inner = Arc::try_unwrap(t.0).unwrap_or_else(|_| unreachable!("just created"));
        inner.node = Some(node);
        Tensor(Arc::new(inner))
    }

    /// Attaches a graph node to a result computed without one (under no_grad),
    /// sharing its storage: for ops whose forward is composed of other ops but
    /// whose backward rule is fused.
    pub(crate) fn with_node(&self, node: impl FnOnce() -> Node) -> Tensor {
        if !crate::autograd::is_grad_enabled() {
            return self.clone();
        }
        let node = node();
        if !node.inputs().iter().any(|i| i.tracks_grad()) {
            return self.clone();
        }
        Tensor(Arc::new(TensorInner {
            id: TensorId::new(),
            storage: self.0.storage.clone(),
            shape: self.0.shape.clone(),
            dtype: self.0.dtype,
            device: self.0.device,
            requires_grad: AtomicBool::new(false),
            node: Some(node),
        }))
    }

    /// A tensor sharing this one's storage under another shape with the same
    /// element count (reshape is free because storage is always contiguous).
    pub(crate) fn view_as_shape(&self, shape: Shape, node: impl FnOnce() -> Node) -> Tensor {
        let mut inner = TensorInner {
            id: TensorId::new(),
            storage: self.0.storage.clone(),
            shape,
            dtype: self.0.dtype,
            device: self.0.device,
            requires_grad: AtomicBool::new(false),
            node: None,
        };
        if crate::autograd::is_grad_enabled() && self.tracks_grad() {
            inner.node = Some(node());
        }
        Tensor(Arc::new(inner))
    }

    /// This tensor's id.
    pub fn id(&self) -> TensorId {
        self.0.id
    }

    /// The shape.
    pub fn shape(&self) -> &Shape {
        &self.0.shape
    }

    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        self.0.shape.dims()
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.shape.rank()
    }

    /// Number of elements.
    pub fn elem_count(&self) -> usize {
        self.0.shape.elem_count()
    }

    /// Size of dimension `d` (negative counts from the end).
    pub fn dim<D: crate::Dim>(&self, d: D) -> Result<usize> {
        Ok(self.dims()[d.to_index(self.shape(), "dim")?])
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.0.dtype
    }

    /// Where the storage lives.
    pub fn device(&self) -> Device {
        self.0.device
    }

    /// Read access to the storage.
    pub(crate) fn storage(&self) -> RwLockReadGuard<'_, Storage> {
        // A poisoned lock only means another thread panicked mid-write of a
        // whole buffer replacement; the old or new buffer is intact either way.
        self.0.storage.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write access to the storage, for in-place updates (see `inplace.rs`).
    pub(crate) fn storage_mut(&self) -> std::sync::RwLockWriteGuard<'_, Storage> {
        self.0.storage.write().unwrap_or_else(|e| e.into_inner())
    }

    /// True when both handles read the same buffer (clones, views, detached copies).
    pub(crate) fn shares_storage(&self, other: &Tensor) -> bool {
        Arc::ptr_eq(&self.0.storage, &other.0.storage)
    }

    /// The graph node, if this tensor came from a tracked op.
    pub(crate) fn node(&self) -> Option<&Node> {
        self.0.node.as_ref()
    }

    /// Marks this tensor as a trainable leaf and returns it (builder style).
    pub fn requires_grad(self) -> Tensor {
        self.set_requires_grad(true);
        self
    }

    /// Sets or clears the trainable flag in place (shared by every clone).
    pub fn set_requires_grad(&self, on: bool) {
        self.0.requires_grad.store(on, Ordering::Relaxed);
    }

    /// True when this tensor is a trainable leaf.
    pub fn is_requires_grad(&self) -> bool {
        self.0.requires_grad.load(Ordering::Relaxed)
    }

    /// True when gradients flow through this tensor (a trainable leaf or the
    /// result of an op on one).
    pub fn tracks_grad(&self) -> bool {
        self.is_requires_grad() || self.0.node.is_some()
    }

    /// The same values, cut from the graph. Shares storage.
    pub fn detach(&self) -> Tensor {
        Tensor(Arc::new(TensorInner {
            id: TensorId::new(),
            storage: self.0.storage.clone(),
            shape: self.0.shape.clone(),
            dtype: self.0.dtype,
            device: self.0.device,
            requires_grad: AtomicBool::new(false),
            node: None,
        }))
    }

    /// Replaces the values in place with those of `src` (same shape, dtype
    /// and device), as optimizers do with parameters. Every clone sees the
    /// change; graphs already built keep the old values only if they copied them.
    pub fn set_data(&self, src: &Tensor) -> Result<()> {
        self.same_layout(src, "set_data")?;
        let new = if Arc::ptr_eq(&self.0.storage, &src.0.storage) {
            return Ok(());
        } else {
            src.storage().to_device(&self.device())?
        };
        *self.0.storage.write().unwrap_or_else(|e| e.into_inner()) = new;
        Ok(())
    }

    /// Checks shape, dtype and device equality for in-place and element-wise use.
    pub(crate) fn same_layout(&self, other: &Tensor, op: &'static str) -> Result<()> {
        self.same_dtype_device(other, op)?;
        if self.shape() != other.shape() {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: other.shape().clone(),
                expected: "identical shapes".into(),
            });
        }
        Ok(())
    }

    /// Checks that two operands share dtype and device.
    pub(crate) fn same_dtype_device(&self, other: &Tensor, op: &'static str) -> Result<()> {
        if self.device() != other.device() {
            return Err(Error::DeviceMismatch {
                op,
                lhs: self.device(),
                rhs: other.device(),
            });
        }
        if self.dtype() != other.dtype() {
            return Err(Error::DTypeMismatch {
                op,
                lhs: self.dtype(),
                rhs: other.dtype(),
            });
        }
        Ok(())
    }

    /// Errors unless the dtype is a float type.
    pub(crate) fn require_float(&self, op: &'static str) -> Result<()> {
        if self.dtype().is_float() {
            Ok(())
        } else {
            Err(Error::UnsupportedDType {
                op,
                dtype: self.dtype(),
                hint: " (cast with `to_dtype(DType::F32)` first)",
            })
        }
    }
}
