//! Shape ops: reshape, transpose, permute, broadcast, narrow, cat, stack.

use crate::autograd::Node;
use crate::{Dim, Error, Result, Shape, Tensor};

impl Tensor {
    /// The same elements under another shape with the same element count.
    pub fn reshape(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if shape.checked_elem_count("reshape")? != self.elem_count() {
            return Err(Error::ElementCountMismatch {
                op: "reshape",
                from: self.shape().clone(),
                from_elems: self.elem_count(),
                to_elems: shape.elem_count(),
                to: shape,
            });
        }
        if &shape == self.shape() {
            return Ok(self.clone());
        }
        Ok(self.view_as_shape(shape, || {
            let src = self.shape().clone();
            Node::new("reshape", vec![self.clone()], move |g, _| {
                Ok(vec![Some(g.reshape(&src)?)])
            })
        }))
    }

    /// A 1-D view of every element.
    pub fn flatten_all(&self) -> Result<Tensor> {
        self.reshape(self.elem_count())
    }

    /// Merges dims `start..=end` into one, like `torch.flatten(x, start, end)`.
    pub fn flatten<D: Dim>(&self, start: D, end: D) -> Result<Tensor> {
        if self.rank() == 0 {
            return self.reshape(1);
        }
        let (s, e) = (
            start.to_index(self.shape(), "flatten")?,
            end.to_index(self.shape(), "flatten")?,
        );
        if s > e {
            return Err(Error::invalid("flatten", format!("start dim {s} is after end dim {e}")));
        }
        let d = self.dims();
        let mut out = d[..s].to_vec();
        out.push(d[s..=e].iter().product());
        out.extend_from_slice(&d[e + 1..]);
        self.reshape(out)
    }

    /// Inserts a dim of size 1 at `dim` (`0..=rank`, negative counts from the end).
    pub fn unsqueeze(&self, dim: i64) -> Result<Tensor> {
        let rank = self.rank() as i64;
        let d = if dim < 0 { dim + rank + 1 } else { dim };
        if d < 0 || d > rank {
            return Err(Error::DimOutOfRange {
                op: "unsqueeze",
                dim,
                rank: self.rank(),
                shape: self.shape().clone(),
            });
        }
        let mut out = self.dims().to_vec();
        out.insert(d as usize, 1);
        self.reshape(out)
    }

    /// Removes `dim`, which must have size 1.
    pub fn squeeze<D: Dim>(&self, dim: D) -> Result<Tensor> {
        let d = dim.to_index(self.shape(), "squeeze")?;
        if self.dims()[d] != 1 {
            return Err(Error::invalid(
                "squeeze",
                format!("dim {d} of shape {} has size {}, not 1", self.shape(), self.dims()[d]),
            ));
        }
        let mut out = self.dims().to_vec();
        out.remove(d);
        self.reshape(out)
    }

    /// Reorders dims: output dim `i` is input dim `dims[i]`.
    pub fn permute<D: Dim>(&self, dims: &[D]) -> Result<Tensor> {
        let op = "permute";
        if dims.len() != self.rank() {
            return Err(Error::invalid(
                op,
                format!("{} dims given for a tensor of shape {}", dims.len(), self.shape()),
            ));
        }
        let mut perm = Vec::with_capacity(dims.len());
        for &d in dims {
            let i = d.to_index(self.shape(), op)?;
            if perm.contains(&i) {
                return Err(Error::invalid(op, format!("dim {i} appears twice")));
            }
            perm.push(i);
        }
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(self.clone());
        }
        let strides = self.shape().stride_contiguous();
        let new_strides: Vec<usize> = perm.iter().map(|&p| strides[p]).collect();
        let new_dims: Vec<usize> = perm.iter().map(|&p| self.dims()[p]).collect();
        let s = self.storage().copy_strided(0, &new_strides, &new_dims)?;
        Ok(Tensor::from_op(s, Shape::from(new_dims), || {
            let mut inverse = vec![0usize; perm.len()];
            for (i, &p) in perm.iter().enumerate() {
                inverse[p] = i;
            }
            Node::new(op, vec![self.clone()], move |g, _| Ok(vec![Some(g.permute(&inverse)?)]))
        }))
    }

    /// Swaps two dims.
    pub fn transpose<D: Dim>(&self, d0: D, d1: D) -> Result<Tensor> {
        let (a, b) = (
            d0.to_index(self.shape(), "transpose")?,
            d1.to_index(self.shape(), "transpose")?,
        );
        let mut perm: Vec<usize> = (0..self.rank()).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// The transpose of a matrix (swaps the last two dims).
    pub fn t(&self) -> Result<Tensor> {
        if self.rank() < 2 {
            return Err(Error::invalid(
                "t",
                format!("needs rank 2 or more, got shape {}", self.shape()),
            ));
        }
        self.transpose(-2i64, -1i64)
    }

    /// Repeats size-1 dims (and adds leading dims) to reach `shape`, like `expand`.
    pub fn broadcast_as(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        let shape = shape.into();
        if &shape == self.shape() {
            return Ok(self.clone());
        }
        shape.checked_elem_count("broadcast_as")?;
        if !self.shape().can_broadcast_to(&shape) {
            return Err(Error::BroadcastIncompatible {
                op: "broadcast_as",
                lhs: self.shape().clone(),
                rhs: shape,
            });
        }
        let strides = self.shape().broadcast_strides(&shape);
        let s = self.storage().copy_strided(0, &strides, shape.dims())?;
        Ok(Tensor::from_op(s, shape, || {
            let src = self.shape().clone();
            Node::new("broadcast_as", vec![self.clone()], move |g, _| {
                Ok(vec![Some(g.sum_to(&src)?)])
            })
        }))
    }

    /// Alias of [`Tensor::broadcast_as`], PyTorch's name.
    pub fn expand(&self, shape: impl Into<Shape>) -> Result<Tensor> {
        self.broadcast_as(shape)
    }

    /// Storage is always contiguous, so this is the identity; kept for
    /// PyTorch-shaped code.
    pub fn contiguous(&self) -> Result<Tensor> {
        Ok(self.clone())
    }

    /// `len` entries of `dim` starting at `start`, like `torch.narrow`.
    pub fn narrow<D: Dim>(&self, dim: D, start: usize, len: usize) -> Result<Tensor> {
        let op = "narrow";
        let d = dim.to_index(self.shape(), op)?;
        let size = self.dims()[d];
        if start.checked_add(len).is_none_or(|end| end > size) {
            return Err(Error::invalid(
                op,
                format!(
                    "start {start} + length {len} exceeds the size {size} of dimension {d} (shape {})",
                    self.shape()
                ),
            ));
        }
        if start == 0 && len == size {
            return Ok(self.clone());
        }
        let strides = self.shape().stride_contiguous();
        let mut dims = self.dims().to_vec();
        dims[d] = len;
        let s = self.storage().copy_strided(start * strides[d], &strides, &dims)?;
        Ok(Tensor::from_op(s, Shape::from(dims), || {
            let src = self.shape().clone();
            Node::new(op, vec![self.clone()], move |g, _| {
                let mut parts = Vec::with_capacity(3);
                let mut pad = src.dims().to_vec();
                if start > 0 {
                    pad[d] = start;
                    parts.push(Tensor::zeros(pad.clone(), g.dtype(), &g.device())?);
                }
                parts.push(g.clone());
                if start + len < size {
                    pad[d] = size - start - len;
                    parts.push(Tensor::zeros(pad, g.dtype(), &g.device())?);
                }
                Ok(vec![Some(Tensor::cat(&parts, d)?)])
            })
        }))
    }

    /// Splits `dim` into pieces of `size` (the last may be smaller).
    pub fn split<D: Dim>(&self, size: usize, dim: D) -> Result<Vec<Tensor>> {
        let d = dim.to_index(self.shape(), "split")?;
        if size == 0 {
            return Err(Error::invalid("split", "piece size must be positive"));
        }
        let total = self.dims()[d];
        (0..total)
            .step_by(size)
            .map(|s| self.narrow(d, s, size.min(total - s)))
            .collect()
    }

    /// Joins tensors along an existing dim; all other dims must agree.
    ///
    /// ```
    /// use neurite::{Device, DType, Tensor};
    /// let a = Tensor::zeros((2, 3), DType::F32, &Device::cpu()).unwrap();
    /// let b = Tensor::ones((1, 3), DType::F32, &Device::cpu()).unwrap();
    /// assert_eq!(Tensor::cat(&[a, b], 0).unwrap().dims(), &[3, 3]);
    /// ```
    pub fn cat<D: Dim>(tensors: &[Tensor], dim: D) -> Result<Tensor> {
        let op = "cat";
        let first = tensors.first().ok_or_else(|| Error::invalid(op, "no tensors given"))?;
        let d = dim.to_index(first.shape(), op)?;
        for t in &tensors[1..] {
            first.same_dtype_device(t, op)?;
            let ok = t.rank() == first.rank()
                && t.dims()
                    .iter()
                    .zip(first.dims())
                    .enumerate()
                    .all(|(i, (a, b))| i == d || a == b);
            if !ok {
                return Err(Error::ShapeMismatch {
                    op,
                    lhs: first.shape().clone(),
                    rhs: t.shape().clone(),
                    expected: format!("equal sizes in every dim except {d}"),
                });
            }
        }
        if tensors.len() == 1 {
            return Ok(first.clone());
        }
        let sizes: Vec<usize> = tensors.iter().map(|t| t.dims()[d]).collect();
        let mut dims = first.dims().to_vec();
        dims[d] = sizes.iter().try_fold(0usize, |acc, &n| {
            crate::shape::checked_add(acc, n, op, "the concatenated dimension")
        })?;
        crate::shape::checked_numel(&dims, op)?;
        let outer: usize = first.dims()[..d].iter().product();
        let guards: Vec<_> = tensors.iter().map(|t| t.storage()).collect();
        let refs: Vec<&crate::backend::Storage> = guards.iter().map(|g| &**g).collect();
        let s = crate::backend::Storage::cat(&refs, outer)?;
        drop(guards);
        Ok(Tensor::from_op(s, Shape::from(dims), || {
            Node::new(op, tensors.to_vec(), move |g, _| {
                let mut start = 0;
                sizes
                    .iter()
                    .map(|&len| {
                        let piece = g.narrow(d, start, len);
                        start += len;
                        piece.map(Some)
                    })
                    .collect()
            })
        }))
    }

    /// Joins tensors of one shape along a new dim.
    pub fn stack(tensors: &[Tensor], dim: usize) -> Result<Tensor> {
        let expanded: Vec<Tensor> = tensors.iter().map(|t| t.unsqueeze(dim as i64)).collect::<Result<_>>()?;
        Tensor::cat(&expanded, dim)
    }
}
