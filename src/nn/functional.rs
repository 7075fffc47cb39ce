//! Fused functional forms of layers whose composed version would waste work.

use crate::autograd::Node;
use crate::backend::MatmulSpec;
use crate::{Error, Result, Shape, Tensor};

pub use super::attention::scaled_dot_product_attention;

/// `x @ weight^T + bias`, like `torch.nn.functional.linear`.
///
/// The weight is read transposed by the matrix product itself (no copy), and
/// the backward pass computes only the gradients that are needed: no input
/// gradient for a network's input batch.
///
/// # Shapes
/// `x`: `(*, in)`, `weight`: `(out, in)`, `bias`: `(out)`, output `(*, out)`.
pub fn linear(x: &Tensor, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
    let op = "linear";
    if let Some(r) = crate::autocast::cast_product(x, weight, bias, linear) {
        return r;
    }
    x.same_dtype_device(weight, op)?;
    x.require_float(op)?;
    if weight.rank() != 2 || x.rank() == 0 || x.dims()[x.rank() - 1] != weight.dims()[1] {
        return Err(Error::ShapeMismatch {
            op,
            lhs: x.shape().clone(),
            rhs: weight.shape().clone(),
            expected: "input (*, in_features) and weight (out_features, in_features)".into(),
        });
    }
    let (out_f, in_f) = (weight.dims()[0], weight.dims()[1]);
    let lead = &x.dims()[..x.rank() - 1];
    let rows: usize = lead.iter().product();
    let x2 = x.reshape([rows, in_f])?;
    let spec = MatmulSpec {
        batch: 1,
        m: rows,
        n: out_f,
        k: in_f,
        lhs_transposed: false,
        rhs_transposed: true,
        lhs_batch_stride: 0,
        rhs_batch_stride: 0,
    };
    if let Some(b) = bias
        && b.dims() != [out_f]
    {
        return Err(Error::ShapeMismatch {
            op,
            lhs: weight.shape().clone(),
            rhs: b.shape().clone(),
            expected: format!("a bias of shape [{out_f}]"),
        });
    }
    if let Some(b) = bias {
        b.same_dtype_device(weight, op)?;
    }
    // On the host the bias is the GEMM's starting value: no pass or buffer of its own.
    let fused = match bias {
        Some(b) => x2
            .storage()
            .matmul_with_bias_on_host(&weight.storage(), &b.storage(), &spec, false)?,
        None => None,
    };
    let fused_bias = fused.as_ref().and(bias).cloned();
    let s = match fused {
        Some(s) => s,
        None => x2.storage().matmul(&weight.storage(), &spec)?,
    };
    let y = Tensor::from_op(s, Shape::from([rows, out_f]), || {
        let (xs, ws, bs) = (x2.clone(), weight.clone(), fused_bias.clone());
        let mut inputs = vec![x2.clone(), weight.clone()];
        inputs.extend(fused_bias.clone());
        Node::new(op, inputs, move |g, _| {
            // dx = g @ W: (rows x out) @ (out x in).
            let gx = if xs.tracks_grad() {
                let spec = MatmulSpec {
                    batch: 1,
                    m: rows,
                    n: in_f,
                    k: out_f,
                    lhs_transposed: false,
                    rhs_transposed: false,
                    lhs_batch_stride: 0,
                    rhs_batch_stride: 0,
                };
                let s = g.storage().matmul(&ws.storage(), &spec)?;
                Some(Tensor::from_storage(s, Shape::from([rows, in_f])))
            } else {
                None
            };
            // dW = g^T @ x: g is stored rows x out, read transposed as out x rows.
            let gw = if ws.tracks_grad() {
                let spec = MatmulSpec {
                    batch: 1,
                    m: out_f,
                    n: in_f,
                    k: rows,
                    lhs_transposed: true,
                    rhs_transposed: false,
                    lhs_batch_stride: 0,
                    rhs_batch_stride: 0,
                };
                let s = g.storage().matmul(&xs.storage(), &spec)?;
                Some(Tensor::from_storage(s, Shape::from([out_f, in_f])))
            } else {
                None
            };
            let mut grads = vec![gx, gw];
            if let Some(b) = &bs {
                grads.push(if b.tracks_grad() {
                    Some(g.sum_dim(0usize, false)?)
                } else {
                    None
                });
            }
            Ok(grads)
        })
    });
    let mut out_dims = lead.to_vec();
    out_dims.push(out_f);
    let y = y.reshape(out_dims)?;
    match bias {
        Some(b) if fused_bias.is_none() => y.add(b),
        _ => Ok(y),
    }
}

/// GELU, like `torch.nn.functional.gelu(x, approximate=...)`: `"none"` (the
/// exact erf form) or `"tanh"`; any other string is an error.
///
/// # Shapes
/// Any shape; the output has the same shape.
pub fn gelu(x: &Tensor, approximate: &str) -> Result<Tensor> {
    x.gelu_approximate(approximate)
}

/// `x * sigmoid(x)`, like `torch.nn.functional.silu`.
///
/// # Shapes
/// Any shape; the output has the same shape.
pub fn silu(x: &Tensor) -> Result<Tensor> {
    x.silu()
}
