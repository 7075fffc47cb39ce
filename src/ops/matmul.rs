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

fn bmm_spec(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> MatmulSpec {
    let (ba, ar, ac) = (a.dims()[0], a.dims()[1], a.dims()[2]);
    let (bb, br, bc) = (b.dims()[0], b.dims()[1], b.dims()[2]);
    let (m, k) = if ta { (ac, ar) } else { (ar, ac) };
    MatmulSpec {
        batch: broadcast_batch(ba, bb),
        m,
        n: if tb { br } else { bc },
        k,
        lhs_transposed: ta,
        rhs_transposed: tb,
        lhs_batch_stride: if ba == 1 { 0 } else { ar * ac },
        rhs_batch_stride: if bb == 1 { 0 } else { br * bc },
    }
}

fn bmm_storage(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Result<(crate::backend::Storage, Shape)> {
    let spec = bmm_spec(a, ta, b, tb);
    let s = a.storage().matmul(&b.storage(), &spec)?;
    Ok((s, Shape::from([spec.batch, spec.m, spec.n])))
}

/// `sum_i op(a_i) @ op(b_i)` as one `(m, n)` matrix (the gradient of an
/// operand shared by every batch item), summed inside the GEMMs on the host
/// and from the batched products elsewhere.
fn bmm_summed(a: &Tensor, ta: bool, b: &Tensor, tb: bool) -> Result<Tensor> {
    let spec = bmm_spec(a, ta, b, tb);
    if let Some(s) = a.storage().matmul_summed_on_host(&b.storage(), &spec)? {
        return Ok(Tensor::from_storage(s, Shape::from([spec.m, spec.n])));
    }
    bmm_raw(a, ta, b, tb)?.sum_dim(0usize, false)
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
        if let Some(r) = crate::autocast::cast_product(self, rhs, None, |a, b, _| a.matmul(b)) {
            return r;
        }
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
                // An operand shared by every batch item (batch 1 against many) takes
                // the batch's summed product straight from the GEMMs.
                let many = g3.dims()[0] > 1;
                let ga = if !a_tracks {
                    None
                } else if many && a3.dims()[0] == 1 {
                    Some(bmm_summed(&g3, false, &b3, true)?.reshape(a_shape.clone())?)
                } else {
                    Some(fold(bmm_raw(&g3, false, &b3, true)?, &a_shape, m, k)?)
                };
                let gb = if !b_tracks {
                    None
                } else if many && b3.dims()[0] == 1 {
                    Some(bmm_summed(&a3, true, &g3, false)?.reshape(b_shape.clone())?)
                } else {
                    Some(fold(bmm_raw(&a3, true, &g3, false)?, &b_shape, k, n)?)
                };
                Ok(vec![ga, gb])
            })
        }))
    }
}

impl Tensor {
    /// `self @ rhs[i] + bias[:, None]` for every batch item `i`: a convolution's
    /// product of its `(out_channels, patch)` weight with each image's
    /// `(patch, pixels)` columns plus its per-channel bias. On the host the bias
    /// is the GEMMs' starting value (no pass or buffer of its own); elsewhere
    /// it is added after the product.
    ///
    /// # Shapes
    /// `self` `(m, k)`, `rhs` `(batch, k, n)`, `bias` `(m)`; output `(batch, m, n)`.
    pub(crate) fn matmul_add_row_bias(&self, rhs: &Tensor, bias: &Tensor) -> Result<Tensor> {
        let op = "matmul";
        let (&[m, k], &[nb, k2, n], &[mb]) = (self.dims(), rhs.dims(), bias.dims()) else {
            return Err(Error::invalid(
                op,
                "internal: row-bias product of (m, k), (batch, k, n) and (m)",
            ));
        };
        if k != k2 || m != mb {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: rhs.shape().clone(),
                expected: format!("lhs columns ({k}) to equal rhs rows ({k2}) and a bias of {m}"),
            });
        }
        bias.same_dtype_device(self, op)?;
        let a3 = self.reshape([1, m, k])?;
        let spec = bmm_spec(&a3, false, rhs, false);
        let fused = a3
            .storage()
            .matmul_with_bias_on_host(&rhs.storage(), &bias.storage(), &spec, true)?;
        let Some(s) = fused else {
            return self.matmul(rhs)?.add(&bias.reshape([1, m, 1])?);
        };
        let (w, cols, b) = (self.clone(), rhs.clone(), bias.clone());
        Ok(Tensor::from_op(s, Shape::from([nb, m, n]), || {
            let (w_tracks, cols_tracks, b_tracks) = (w.tracks_grad(), cols.tracks_grad(), b.tracks_grad());
            Node::new(op, vec![w.clone(), cols.clone(), b.clone()], move |g, _| {
                let gw = if w_tracks {
                    Some(bmm_summed(g, false, &cols, true)?)
                } else {
                    None
                };
                let gcols = if cols_tracks {
                    Some(bmm_raw(&a3, true, g, false)?)
                } else {
                    None
                };
                let gb = if b_tracks {
                    Some(g.sum_dims(&[0usize, 2], false)?)
                } else {
                    None
                };
                Ok(vec![gw, gcols, gb])
            })
        }))
    }
}
