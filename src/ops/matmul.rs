//! Matrix products, 2-D and batched with broadcast batch dims.

use crate::autograd::Node;
use crate::backend::MatmulSpec;
use crate::{Error, Result, Shape, Tensor};

/// `op(a) @ op(b)` for 3-D contiguous `a`, `b` whose batch sizes are equal or 1
/// (a batch of 1 is reused for every batch, with no copy). `ta`/`tb` read the
/// stored matrices transposed.
fn bmm_raw(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Result<Tensor> {
    let (s, shape) = bmm_storage(a, ta, b, tb)?;
    Ok(Tensor::from_storage(s, shape))
}

/// The batch of a product of batches `ba` and `bb` (equal, or one of them 1):
/// a batch of 0 against a batch of 1 is 0 products, not one.
fn broadcast_batch(ba: usize, bb: usize) -> usize {
    if ba == 0 || bb == 0 { 0 } else { ba.max(bb) }
}

fn bmm_storage(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Result<(crate::backend::Storage, Shape)> {
    let (ba, ar, ac) = (a.dims()[0], a.dims()[1], a.dims()[2]);
    let (bb, br, bc) = (b.dims()[0], b.dims()[1], b.dims()[2]);
    let (m, k) = if ta { (ac, ar) } else { (ar, ac) };
    let n = if tb { br } else { bc };
    let batch = broadcast_batch(ba, bb);
    let spec = MatmulSpec {
        batch,
        m,
        n,
        k,
        lhs_transposed: ta,
        rhs_transposed: tb,
        lhs_batch_stride: if ba == 1 { 0 } else { ar * ac },
        rhs_batch_stride: if bb == 1 { 0 } else { br * bc },
    };
    let s = a.storage().matmul(&b.storage(), &spec)?;
    Ok((s, Shape::from([batch, m, n])))
}

impl Tensor {
    /// Matrix product, exactly as `torch.matmul`:
    /// - `[..., m, k] @ [..., k, n] -> [..., m, n]`, broadcasting the batch dims;
    /// - a 1-D `lhs` of `k` is a row (`[1, k]`) whose dim is then removed, so
    ///   `[k] @ [..., k, n] -> [..., n]`;
    /// - a 1-D `rhs` of `k` is a column (`[k, 1]`) whose dim is then removed, so
    ///   `[..., m, k] @ [k] -> [..., m]`;
    /// - `[k] @ [k]` is the dot product, a 0-dimensional tensor.
    ///
    /// A 0-dimensional operand, or `k` that differs between the two, is an error.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// let a = Tensor::from_vec(vec![1f32, 2., 3., 4., 5., 6.], (2, 3), &Device::cpu()).unwrap();
    /// let b = Tensor::from_vec(vec![1f32, 0., 0., 1., 1., 1.], (3, 2), &Device::cpu()).unwrap();
    /// assert_eq!(a.matmul(&b).unwrap().to_vec2::<f32>().unwrap(), vec![vec![4., 5.], vec![10., 11.]]);
    /// let v = Tensor::from_vec(vec![1f32, 1., 1.], 3, &Device::cpu()).unwrap();
    /// assert_eq!(a.matmul(&v).unwrap().to_vec::<f32>().unwrap(), vec![6., 15.]);
    /// assert_eq!(v.matmul(&v).unwrap().to_scalar::<f32>().unwrap(), 3.);
    /// ```
    pub fn matmul(&self, rhs: &Tensor) -> Result<Tensor> {
        let op = "matmul";
        self.same_dtype_device(rhs, op)?;
        self.require_float(op)?;
        if self.rank() == 0 || rhs.rank() == 0 {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: rhs.shape().clone(),
                expected: "both operands of rank 1 or more (0-dimensional tensors have no matrix product)".into(),
            });
        }
        if self.rank() >= 2 && rhs.rank() >= 2 {
            return self.matmul_nd(rhs);
        }
        // Vectors take part as a row (lhs) or a column (rhs), whose unit dim is
        // dropped from the result; reshapes carry the gradient back unchanged.
        let k = self.dims()[self.rank() - 1];
        let k2 = rhs.dims()[rhs.rank().saturating_sub(2)];
        if k != k2 {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: rhs.shape().clone(),
                expected: format!("the contracted sizes to match: lhs has {k}, rhs has {k2}"),
            });
        }
        let a = if self.rank() == 1 {
            self.reshape([1, k])?
        } else {
            self.clone()
        };
        let b = if rhs.rank() == 1 {
            rhs.reshape([k, 1])?
        } else {
            rhs.clone()
        };
        let y = a.matmul_nd(&b)?;
        let mut out: Vec<usize> = y.dims().to_vec();
        if rhs.rank() == 1 {
            out.pop();
        }
        if self.rank() == 1 {
            // The row dim sits just before the columns, or last once they are gone.
            let row = out.len() - if rhs.rank() == 1 { 1 } else { 2 };
            out.remove(row);
        }
        y.reshape(out)
    }

    /// [`Tensor::matmul`] for operands of rank 2 or more.
    fn matmul_nd(&self, rhs: &Tensor) -> Result<Tensor> {
        let op = "matmul";
        let (m, k) = (self.dims()[self.rank() - 2], self.dims()[self.rank() - 1]);
        let (k2, n) = (rhs.dims()[rhs.rank() - 2], rhs.dims()[rhs.rank() - 1]);
        if k != k2 {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: rhs.shape().clone(),
                expected: format!("lhs columns ({k}) to equal rhs rows ({k2})"),
            });
        }
        let a_batch = Shape::from(&self.dims()[..self.rank() - 2]);
        let b_batch = Shape::from(&rhs.dims()[..rhs.rank() - 2]);
        let batch = a_batch.broadcast_with(&b_batch, op)?;
        let nb = batch.elem_count();
        let mut out_dims = batch.dims().to_vec();
        out_dims.extend([m, n]);
        crate::shape::checked_numel(&out_dims, op)?;

        // Normalise to 3-D, copying only when a batch must actually be expanded.
        let (a3, b3) = crate::no_grad(|| -> Result<(Tensor, Tensor)> {
            if rhs.rank() == 2 {
                // Fold lhs batches into rows: one large GEMM instead of many small ones.
                return Ok((self.reshape([1, nb * m, k])?, rhs.reshape([1, k, n])?));
            }
            let expand = |t: &Tensor, own: &Shape, r: usize, c: usize| -> Result<Tensor> {
                if own.elem_count() == 1 {
                    t.reshape([1, r, c])
                } else if *own == batch {
                    t.reshape([nb, r, c])
                } else {
                    let mut d = batch.dims().to_vec();
                    d.extend([r, c]);
                    t.broadcast_as(d)?.contiguous()?.reshape([nb, r, c])
                }
            };
            Ok((expand(self, &a_batch, m, k)?, expand(rhs, &b_batch, k, n)?))
        })?;
        let (s, _) = bmm_storage(&a3, false, &b3, false)?;
        Ok(Tensor::from_op(s, Shape::from(out_dims), || {
            let (a_shape, b_shape) = (self.shape().clone(), rhs.shape().clone());
            let (a_tracks, b_tracks) = (self.tracks_grad(), rhs.tracks_grad());
            Node::new(op, vec![self.clone(), rhs.clone()], move |g, _| {
                let g3 = g.reshape([broadcast_batch(a3.dims()[0], b3.dims()[0]), a3.dims()[1], n])?;
                let fold = |t: Tensor, target: &Shape, rows: usize, cols: usize| -> Result<Tensor> {
                    // A batch-broadcast operand collects the gradient of every batch.
                    let t = if t.dims()[0] > 1 && target.elem_count() == rows * cols {
                        t.sum_dim(0usize, false)?
                    } else {
                        t
                    };
                    let t = if t.elem_count() == target.elem_count() {
                        t.reshape(target)?
                    } else {
                        let mut d = batch.dims().to_vec();
                        d.extend([rows, cols]);
                        t.reshape(d)?.sum_to(target)?
                    };
                    Ok(t)
                };
                // The input batch of a first layer needs no gradient: skip that GEMM.
                let ga = if a_tracks {
                    Some(fold(bmm_raw(&g3, false, &b3, true)?, &a_shape, m, k)?)
                } else {
                    None
                };
                let gb = if b_tracks {
                    Some(fold(bmm_raw(&a3, true, &g3, false)?, &b_shape, k, n)?)
                } else {
                    None
                };
                Ok(vec![ga, gb])
            })
        }))
    }
}
