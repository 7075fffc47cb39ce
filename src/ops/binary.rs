//! Element-wise ops of two tensors, with NumPy broadcasting.

use crate::autograd::Node;
use crate::backend::{BinaryLayout, BinaryOp, CmpOp};
use crate::{Result, Shape, Tensor};

/// The coalesced layout reading `lhs` and `rhs` as `out`.
fn layout(lhs: &Shape, rhs: &Shape, out: &Shape) -> BinaryLayout {
    let (ls, rs) = (lhs.broadcast_strides(out), rhs.broadcast_strides(out));
    let mut dims: Vec<usize> = Vec::new();
    let mut lst: Vec<usize> = Vec::new();
    let mut rst: Vec<usize> = Vec::new();
    for ((&d, &l), &r) in out.dims().iter().zip(&ls).zip(&rs) {
        if d == 1 {
            continue;
        }
        if let Some(last) = dims.len().checked_sub(1)
            && lst[last] == l * d
            && rst[last] == r * d
        {
            dims[last] *= d;
            lst[last] = l;
            rst[last] = r;
            continue;
        }
        dims.push(d);
        lst.push(l);
        rst.push(r);
    }
    if dims.is_empty() {
        dims.push(1);
        lst.push(0);
        rst.push(0);
    }
    BinaryLayout {
        dims,
        lhs_strides: lst,
        rhs_strides: rst,
    }
}

impl Tensor {
    fn binary_forward(
        &self,
        rhs: &Tensor,
        op: BinaryOp,
        name: &'static str,
    ) -> Result<(crate::backend::Storage, Shape)> {
        self.same_dtype_device(rhs, name)?;
        let out = self.shape().broadcast_with(rhs.shape(), name)?;
        let lay = layout(self.shape(), rhs.shape(), &out);
        let s = self.storage().binary(&rhs.storage(), op, &lay)?;
        Ok((s, out))
    }

    pub(super) fn binary_op(
        &self,
        rhs: &Tensor,
        op: BinaryOp,
        name: &'static str,
        backward: impl Fn(&Tensor, &Tensor, &Tensor, &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)>
        + Send
        + Sync
        + 'static,
    ) -> Result<Tensor> {
        let (s, out) = self.binary_forward(rhs, op, name)?;
        Ok(Tensor::from_op(s, out, || {
            let (a, b) = (self.clone(), rhs.clone());
            Node::new(name, vec![self.clone(), rhs.clone()], move |g, y| {
                let (ga, gb) = backward(g, y, &a, &b)?;
                Ok(vec![
                    ga.map(|t| t.sum_to(a.shape())).transpose()?,
                    gb.map(|t| t.sum_to(b.shape())).transpose()?,
                ])
            })
        }))
    }

    /// Sums a broadcast gradient back down to `shape` (the inverse of broadcasting).
    pub fn sum_to(&self, shape: &Shape) -> Result<Tensor> {
        if self.shape() == shape {
            return Ok(self.clone());
        }
        if !shape.can_broadcast_to(self.shape()) {
            return Err(crate::Error::BroadcastIncompatible {
                op: "sum_to",
                lhs: self.shape().clone(),
                rhs: shape.clone(),
            });
        }
        let lead = self.rank() - shape.rank();
        let dims: Vec<usize> = (0..self.rank())
            .filter(|&i| i < lead || (shape.dims()[i - lead] == 1 && self.dims()[i] != 1))
            .collect();
        self.sum_dims(&dims, true)?.reshape(shape)
    }

    /// `self + rhs`, broadcasting.
    pub fn add(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Add, "add", |g, _, _, _| {
            Ok((Some(g.clone()), Some(g.clone())))
        })
    }

    /// `self - rhs`, broadcasting.
    pub fn sub(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Sub, "sub", |g, _, _, _| {
            Ok((Some(g.clone()), Some(g.neg()?)))
        })
    }

    /// `self * rhs` element-wise, broadcasting.
    pub fn mul(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Mul, "mul", |g, _, a, b| {
            Ok((Some(g.mul(b)?), Some(g.mul(a)?)))
        })
    }

    /// `self / rhs` element-wise, broadcasting.
    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Div, "div", |g, y, _, b| {
            let ga = g.div(b)?;
            let gb = ga.mul(y)?.neg()?;
            Ok((Some(ga), Some(gb)))
        })
    }

    /// Element-wise maximum; the gradient goes to `self` where it is the larger (ties to `self`).
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Maximum, "maximum", |g, _, a, b| {
            let mask = a.ge(b)?;
            Ok((Some(g.mul(&mask)?), Some(g.mul(&mask.affine(-1.0, 1.0)?)?)))
        })
    }

    /// Element-wise minimum; the gradient goes to `self` where it is the smaller (ties to `self`).
    pub fn minimum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Minimum, "minimum", |g, _, a, b| {
            let mask = a.le(b)?;
            Ok((Some(g.mul(&mask)?), Some(g.mul(&mask.affine(-1.0, 1.0)?)?)))
        })
    }

    fn compare(&self, rhs: &Tensor, op: CmpOp, name: &'static str) -> Result<Tensor> {
        let (s, out) = self.binary_forward(rhs, BinaryOp::Cmp(op), name)?;
        Ok(Tensor::from_storage(s, out))
    }

    /// `self == rhs` as a 1.0 / 0.0 mask in the operands' dtype.
    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Eq, "eq")
    }
    /// `self != rhs` as a mask.
    pub fn ne(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Ne, "ne")
    }
    /// `self < rhs` as a mask.
    pub fn lt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Lt, "lt")
    }
    /// `self <= rhs` as a mask.
    pub fn le(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Le, "le")
    }
    /// `self > rhs` as a mask.
    pub fn gt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Gt, "gt")
    }
    /// `self >= rhs` as a mask.
    pub fn ge(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Ge, "ge")
    }

    /// Picks `on_true` where `self` (a mask) is non-zero and `on_false`
    /// elsewhere, broadcasting all three, like `torch.where(cond, a, b)`.
    pub fn where_cond(&self, on_true: &Tensor, on_false: &Tensor) -> Result<Tensor> {
        let op = "where_cond";
        on_true.same_dtype_device(on_false, op)?;
        if self.device() != on_true.device() {
            return Err(crate::Error::DeviceMismatch {
                op,
                lhs: self.device(),
                rhs: on_true.device(),
            });
        }
        let out = self
            .shape()
            .broadcast_with(on_true.shape(), op)?
            .broadcast_with(on_false.shape(), op)?;
        let (c, t, f) = crate::no_grad(|| -> Result<_> {
            Ok((
                self.broadcast_as(&out)?,
                on_true.broadcast_as(&out)?,
                on_false.broadcast_as(&out)?,
            ))
        })?;
        let s = c.storage().where_cond(&t.storage(), &f.storage())?;
        Ok(Tensor::from_op(s, out, || {
            let (mask, ts, fs) = (c.clone(), on_true.shape().clone(), on_false.shape().clone());
            Node::new(op, vec![on_true.clone(), on_false.clone()], move |g, _| {
                let zeros = g.zeros_like()?;
                let mask = mask.to_dtype(g.dtype())?;
                Ok(vec![
                    Some(mask.where_cond(g, &zeros)?.sum_to(&ts)?),
                    Some(mask.where_cond(&zeros, g)?.sum_to(&fs)?),
                ])
            })
        }))
    }
}
