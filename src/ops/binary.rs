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

    /// `self / rhs` element-wise, broadcasting. True division, as in PyTorch:
    /// integer and bool operands are divided as `f32` and give an `f32` result
    /// (use [`Tensor::floor_divide`] for integer division).
    pub fn div(&self, rhs: &Tensor) -> Result<Tensor> {
        if !self.dtype().is_float() && self.dtype() == rhs.dtype() {
            let f = crate::DType::F32;
            return self.to_dtype(f)?.div(&rhs.to_dtype(f)?);
        }
        self.binary_op(rhs, BinaryOp::Div, "div", |g, y, _, b| {
            let ga = g.div(b)?;
            let gb = ga.mul(y)?.neg()?;
            Ok((Some(ga), Some(gb)))
        })
    }

    /// Element-wise maximum; the gradient goes to `self` where it is the larger (ties to `self`).
    pub fn maximum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Maximum, "maximum", |g, _, a, b| {
            let mask = a.ge(b)?.to_dtype(g.dtype())?;
            Ok((Some(g.mul(&mask)?), Some(g.mul(&mask.affine(-1.0, 1.0)?)?)))
        })
    }

    /// Element-wise minimum; the gradient goes to `self` where it is the smaller (ties to `self`).
    pub fn minimum(&self, rhs: &Tensor) -> Result<Tensor> {
        self.binary_op(rhs, BinaryOp::Minimum, "minimum", |g, _, a, b| {
            let mask = a.le(b)?.to_dtype(g.dtype())?;
            Ok((Some(g.mul(&mask)?), Some(g.mul(&mask.affine(-1.0, 1.0)?)?)))
        })
    }

    /// `floor(self / rhs)` element-wise, broadcasting, like `torch.floor_divide`
    /// (rounding toward negative infinity: `-7 // 2 == -4`). Integer division
    /// by zero is an error. No gradient (it is piecewise constant).
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let a = Tensor::from_vec(vec![7i64, -7, 7, -7], 4, &Device::cpu())?;
    /// let b = Tensor::from_vec(vec![2i64, 2, -2, -2], 4, &Device::cpu())?;
    /// assert_eq!(a.floor_divide(&b)?.to_vec::<i64>()?, vec![3, -4, -4, 3]);
    /// assert_eq!(a.remainder(&b)?.to_vec::<i64>()?, vec![1, 1, -1, -1]);
    /// # Ok(()) }
    /// ```
    pub fn floor_divide(&self, rhs: &Tensor) -> Result<Tensor> {
        self.check_int_divisor(rhs, "floor_divide")?;
        let (s, out) = self.binary_forward(rhs, BinaryOp::FloorDivide, "floor_divide")?;
        Ok(Tensor::from_storage(s, out))
    }

    /// `self - floor(self / rhs) * rhs` element-wise, broadcasting, like
    /// `torch.remainder`: the result has the sign of `rhs`. Integer division
    /// by zero is an error. For floats the gradient is `1` for `self` and
    /// `-floor(self / rhs)` for `rhs`.
    pub fn remainder(&self, rhs: &Tensor) -> Result<Tensor> {
        self.check_int_divisor(rhs, "remainder")?;
        self.binary_op(rhs, BinaryOp::Remainder, "remainder", |g, _, a, b| {
            let q = crate::no_grad(|| a.floor_divide(b))?;
            Ok((Some(g.clone()), Some(g.mul(&q)?.neg()?)))
        })
    }

    /// For integer operands, errors when `rhs` holds a zero (checked here so
    /// that every backend reports it the same way, before any kernel runs).
    fn check_int_divisor(&self, rhs: &Tensor, op: &'static str) -> Result<()> {
        self.same_dtype_device(rhs, op)?;
        if self.dtype().is_float() {
            return Ok(());
        }
        if !self.dtype().is_int() {
            return Err(crate::Error::UnsupportedDType {
                op,
                dtype: self.dtype(),
                hint: " (defined for integer and float dtypes)",
            });
        }
        if rhs.elem_count() > 0 && self.elem_count() > 0 && rhs.eq_scalar(0.0)?.any()?.item::<bool>()? {
            return Err(crate::Error::invalid(
                op,
                format!(
                    "integer division by zero (dtype {}, divisor shape {})",
                    rhs.dtype(),
                    rhs.shape()
                ),
            ));
        }
        Ok(())
    }

    fn compare(&self, rhs: &Tensor, op: CmpOp, name: &'static str) -> Result<Tensor> {
        let (s, out) = self.binary_forward(rhs, BinaryOp::Cmp(op), name)?;
        Ok(Tensor::from_storage(s, out))
    }

    /// `self == rhs`, broadcasting, as a [`DType::Bool`](crate::DType::Bool)
    /// mask (operands of one dtype, compared exactly). Use
    /// `.to_dtype(DType::F32)` for a 1.0 / 0.0 mask.
    pub fn eq(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Eq, "eq")
    }
    /// `self != rhs` as a `Bool` mask.
    pub fn ne(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Ne, "ne")
    }
    /// `self < rhs` as a `Bool` mask.
    pub fn lt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Lt, "lt")
    }
    /// `self <= rhs` as a `Bool` mask.
    pub fn le(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Le, "le")
    }
    /// `self > rhs` as a `Bool` mask.
    pub fn gt(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Gt, "gt")
    }
    /// `self >= rhs` as a `Bool` mask.
    pub fn ge(&self, rhs: &Tensor) -> Result<Tensor> {
        self.compare(rhs, CmpOp::Ge, "ge")
    }

    /// Picks `on_true` where `self` (a mask, normally [`DType::Bool`](crate::DType::Bool);
    /// any other dtype counts nonzero as true) is true and `on_false`
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
                Ok(vec![
                    Some(mask.where_cond(g, &zeros)?.sum_to(&ts)?),
                    Some(mask.where_cond(&zeros, g)?.sum_to(&fs)?),
                ])
            })
        }))
    }
}
