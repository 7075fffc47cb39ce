//! Sorting along a dim: sort, argsort, topk, kthvalue.
//!
//! One backend primitive ([`crate::backend::BackendStorage::sort`]) gives the
//! sorted values and their indices; the rest narrows its result. The gradient of
//! the values flows back through the indices (a scatter-add), as in PyTorch.

use crate::autograd::Node;
use crate::{Dim, Error, Result, Shape, Tensor};

/// `(outer, size, inner)` around `dim`.
fn around(shape: &[usize], dim: usize) -> (usize, usize, usize) {
    (
        shape[..dim].iter().product(),
        shape[dim],
        shape[dim + 1..].iter().product(),
    )
}

impl Tensor {
    /// This tensor viewed as 1-D when it is 0-dimensional (PyTorch sorts a
    /// scalar as a one-element row, along dim 0 or -1), and the dim resolved.
    fn sort_view<D: Dim>(&self, dim: D, op: &'static str) -> Result<(Tensor, usize)> {
        if self.rank() == 0 {
            let one = self.reshape([1])?;
            let d = dim.to_index(one.shape(), op)?;
            return Ok((one, d));
        }
        let d = dim.to_index(self.shape(), op)?;
        Ok((self.clone(), d))
    }

    /// Sorts along `dim` (negative counts from the end), like `torch.sort`:
    /// returns the sorted values and the `I64` indices they came from.
    ///
    /// The sort is always stable (equal elements keep their order, ascending or
    /// descending) and NaN sorts as the largest value, as in PyTorch.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let x = Tensor::from_vec(vec![3.0f32, 1.0, 2.0], 3, &Device::cpu()).unwrap();
    /// let (v, i) = x.sort(0usize, false).unwrap();
    /// assert_eq!(v.to_vec::<f32>().unwrap(), vec![1.0, 2.0, 3.0]);
    /// assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 2, 0]);
    /// ```
    pub fn sort<D: Dim>(&self, dim: D, descending: bool) -> Result<(Tensor, Tensor)> {
        let op = "sort";
        let (x, d) = self.sort_view(dim, op)?;
        let (outer, len, inner) = around(x.dims(), d);
        let (vs, is) = x.storage().sort(outer, len, inner, descending)?;
        // Indices in the (at least 1-D) shape the backward scatters with.
        let ids_x = Tensor::from_storage(is, x.shape().clone());
        let ids = ids_x.reshape(self.shape())?;
        let values = Tensor::from_op(vs, self.shape().clone(), || {
            let shape = x.shape().clone();
            Node::new(op, vec![self.clone()], move |g, y| {
                let gx = g.reshape(&shape)?.scatter_add_into(d, &ids_x, shape.clone())?;
                Ok(vec![Some(gx.reshape(y.shape())?)])
            })
        });
        Ok((values, ids))
    }

    /// [`Tensor::sort`] under the name of PyTorch's `stable=True`: the two are
    /// the same, since [`Tensor::sort`] is always stable.
    pub fn sort_stable<D: Dim>(&self, dim: D, descending: bool) -> Result<(Tensor, Tensor)> {
        self.sort(dim, descending)
    }

    /// The `I64` indices that sort this tensor along `dim`, like `torch.argsort`
    /// (stable; NaN as the largest value).
    pub fn argsort<D: Dim>(&self, dim: D, descending: bool) -> Result<Tensor> {
        let (x, d) = self.sort_view(dim, "argsort")?;
        let (outer, len, inner) = around(x.dims(), d);
        let (_, is) = x.storage().sort(outer, len, inner, descending)?;
        Ok(Tensor::from_storage(is, self.shape().clone()))
    }

    /// The `k` largest (or, with `largest = false`, smallest) elements along
    /// `dim` and their `I64` indices, like `torch.topk`.
    ///
    /// The result is always sorted (largest first, or smallest first), which
    /// `sorted = false` permits; among equal values the lower index comes first.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let x = Tensor::from_vec(vec![1.0f32, 5.0, 3.0, 4.0], 4, &Device::cpu()).unwrap();
    /// let (v, i) = x.topk(2, -1, true, true).unwrap();
    /// assert_eq!(v.to_vec::<f32>().unwrap(), vec![5.0, 4.0]);
    /// assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 3]);
    /// ```
    pub fn topk<D: Dim>(&self, k: usize, dim: D, largest: bool, sorted: bool) -> Result<(Tensor, Tensor)> {
        let op = "topk";
        // Every result is sorted, which is one of the orders `sorted = false` allows.
        let _ = sorted;
        let (x, d) = self.sort_view(dim, op)?;
        let size = x.dims()[d];
        if k > size {
            return Err(Error::invalid(
                op,
                format!(
                    "k = {k} is larger than the size {size} of dim {d} of shape {} (expected k <= {size})",
                    self.shape()
                ),
            ));
        }
        let (v, i) = x.sort(d, largest)?;
        let (v, i) = (v.narrow(d, 0, k)?, i.narrow(d, 0, k)?);
        if self.rank() == 0 && k == 1 {
            return Ok((
                v.reshape(Shape::from(Vec::<usize>::new()))?,
                i.reshape(Shape::from(Vec::<usize>::new()))?,
            ));
        }
        Ok((v, i))
    }

    /// The `k`-th smallest element (`k` counts from 1) along `dim` and its `I64`
    /// index, like `torch.kthvalue`; `keepdim` keeps `dim` as size 1.
    pub fn kthvalue<D: Dim>(&self, k: usize, dim: D, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let op = "kthvalue";
        let (x, d) = self.sort_view(dim, op)?;
        let size = x.dims()[d];
        if k == 0 || k > size {
            return Err(Error::invalid(
                op,
                format!(
                    "k = {k} is out of range for dim {d} of size {size} in shape {} (expected 1 <= k <= {size})",
                    self.shape()
                ),
            ));
        }
        let (v, i) = x.sort(d, false)?;
        let (v, i) = (v.narrow(d, k - 1, 1)?, i.narrow(d, k - 1, 1)?);
        if keepdim && self.rank() > 0 {
            Ok((v, i))
        } else {
            Ok((v.squeeze(d)?, i.squeeze(d)?))
        }
    }
}
