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
    let s = x2.storage().matmul(&weight.storage(), &spec)?;
    let y = Tensor::from_op(s, Shape::from([rows, out_f]), || {
        let (xs, ws) = (x2.clone(), weight.clone());
        Node::new(op, vec![x2.clone(), weight.clone()], move |g, _| {
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
            Ok(vec![gx, gw])
        })
    });
    let mut out_dims = lead.to_vec();
    out_dims.push(out_f);
    let y = y.reshape(out_dims)?;
    match bias {
        None => Ok(y),
        Some(b) => {
            if b.dims() != [out_f] {
                return Err(Error::ShapeMismatch {
                    op,
                    lhs: weight.shape().clone(),
                    rhs: b.shape().clone(),
                    expected: format!("a bias of shape [{out_f}]"),
                });
            }
            y.add(b)
        }
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
