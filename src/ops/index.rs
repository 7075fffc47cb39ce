//! Index-driven ops: index_select, gather, scatter_add, one_hot.

use crate::autograd::Node;
use crate::{DType, Dim, Error, Result, Shape, Tensor};

/// `(outer, size, inner)` around `dim`.
fn around(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (
        shape[..dim].iter().product(),
        shape[dim],
        shape[dim + 1..].iter().product(),
    )
}

fn check_ids(ids: &Tensor, src: &Tensor, op: &'static str) -> Result<()> {
    if !ids.dtype().is_index() {
        return Err(Error::invalid(
            op,
            format!("indices must have dtype i64 or i32, got {}", ids.dtype()),
        ));
    }
    if ids.device() != src.device() {
        return Err(Error::DeviceMismatch {
            op,
            lhs: src.device(),
            rhs: ids.device(),
        });
    }
    Ok(())
}

fn with_dim(err: Error, d: usize) -> Error {
    match err {
        Error::IndexOutOfRange { op, index, size, .. } => Error::IndexOutOfRange {
            op,
            index,
            dim: d,
            size,
        },
        other => other,
    }
}

impl Tensor {
    /// Picks entries `ids` (1-D, `I64`) along `dim`, like `torch.index_select`.
    pub fn index_select<D: Dim>(&self, dim: D, ids: &Tensor) -> Result<Tensor> {
        let op = "index_select";
        let d = dim.to_index(self.shape(), op)?;
        check_ids(ids, self, op)?;
        if ids.rank() != 1 {
            return Err(Error::invalid(
                op,
                format!("indices must be 1-D, got shape {}", ids.shape()),
            ));
        }
        let (outer, size, inner) = around(self.dims(), d);
        let s = self
            .storage()
            .index_select(&ids.storage(), outer, size, inner)
            .map_err(|e| with_dim(e, d))?;
        let mut dims = self.dims().to_vec();
        dims[d] = ids.elem_count();
        Ok(Tensor::from_op(s, Shape::from(dims), || {
            let ids = ids.clone();
            let src = self.shape().clone();
            Node::new(op, vec![self.clone()], move |g, _| {
                let gs = g.storage().index_add(&ids.storage(), outer, size, inner)?;
                Ok(vec![Some(Tensor::from_storage(gs, src.clone()))])
            })
        }))
    }

    /// `out[.., j, ..] = self[.., ids[.., j, ..], ..]` along `dim`, like
    /// `torch.gather`. `ids` has this tensor's shape except along `dim`.
    pub fn gather<D: Dim>(&self, dim: D, ids: &Tensor) -> Result<Tensor> {
        let op = "gather";
        let d = dim.to_index(self.shape(), op)?;
        check_ids(ids, self, op)?;
        let ok = ids.rank() == self.rank()
            && ids
                .dims()
                .iter()
                .zip(self.dims())
                .enumerate()
                .all(|(i, (a, b))| i == d || a == b);
        if !ok {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: ids.shape().clone(),
                expected: format!("indices with the input's shape except along dim {d}"),
            });
        }
        let (outer, size, inner) = around(self.dims(), d);
        let s = self
            .storage()
            .gather(&ids.storage(), outer, size, inner)
            .map_err(|e| with_dim(e, d))?;
        Ok(Tensor::from_op(s, ids.shape().clone(), || {
            let ids = ids.clone();
            let src = self.shape().clone();
            Node::new(op, vec![self.clone()], move |g, _| {
                let gs = g.storage().scatter_add(&ids.storage(), outer, size, inner)?;
                Ok(vec![Some(Tensor::from_storage(gs, src.clone()))])
            })
        }))
    }

    /// The adjoint of [`Tensor::gather`]: a zero tensor of `shape` into which
    /// `self` is added at `ids` along `dim` (`torch.zeros(shape).scatter_add(dim, ids, self)`).
    pub fn scatter_add_into<D: Dim>(&self, dim: D, ids: &Tensor, shape: impl Into<Shape>) -> Result<Tensor> {
        let op = "scatter_add";
        let shape = shape.into();
        let d = dim.to_index(&shape, op)?;
        check_ids(ids, self, op)?;
        if ids.shape() != self.shape()
            || ids.rank() != shape.rank()
            || !ids
                .dims()
                .iter()
                .zip(shape.dims())
                .enumerate()
                .all(|(i, (a, b))| i == d || a == b)
        {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: ids.shape().clone(),
                expected: format!("source and indices of one shape, equal to {shape} except along dim {d}"),
            });
        }
        let (outer, size, inner) = around(shape.dims(), d);
        let s = self
            .storage()
            .scatter_add(&ids.storage(), outer, size, inner)
            .map_err(|e| with_dim(e, d))?;
        Ok(Tensor::from_op(s, shape, || {
            let ids = ids.clone();
            Node::new(op, vec![self.clone()], move |g, _| Ok(vec![Some(g.gather(d, &ids)?)]))
        }))
    }

    /// One-hot encoding of `I64` (or `I32`) class labels: shape `[..., num_classes]`.
    ///
    /// ```
    /// use neurite::{Device, DType, Tensor};
    /// let y = Tensor::from_vec(vec![2i64, 0], 2, &Device::cpu()).unwrap();
    /// let oh = y.one_hot(3, DType::F32).unwrap();
    /// assert_eq!(oh.to_vec2::<f32>().unwrap(), vec![vec![0., 0., 1.], vec![1., 0., 0.]]);
    /// ```
    pub fn one_hot(&self, num_classes: usize, dtype: DType) -> Result<Tensor> {
        let op = "one_hot";
        if !self.dtype().is_index() {
            return Err(Error::invalid(
                op,
                format!("labels must have dtype i64 or i32, got {}", self.dtype()),
            ));
        }
        let mut dims = self.dims().to_vec();
        dims.push(num_classes);
        crate::shape::checked_numel(&dims, op)?;
        if !dtype.is_float() {
            // Integer one-hot codes (PyTorch's default is int64): built in
            // f32, whose 0 and 1 cast exactly.
            return self.one_hot(num_classes, DType::F32)?.to_dtype(dtype);
        }
        let n = self.elem_count();
        let ones = Tensor::ones(self.shape(), dtype, &self.device())?;
        let flat_ids = self.reshape([n, 1])?;
        ones.reshape([n, 1])?
            .scatter_add_into(1usize, &flat_ids, [n, num_classes])?
            .reshape(dims)
    }
}
