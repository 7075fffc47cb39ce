//! Descriptions of the primitive operations, shared by all backends.

/// Comparison used by [`UnaryOp::CmpScalar`] and the comparison [`BinaryOp`]s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    /// Applies the comparison in `f64`.
    #[inline]
    pub fn eval(self, a: f64, b: f64) -> bool {
        match self {
            CmpOp::Eq => a == b,
            CmpOp::Ne => a != b,
            CmpOp::Lt => a < b,
            CmpOp::Le => a <= b,
            CmpOp::Gt => a > b,
            CmpOp::Ge => a >= b,
        }
    }
}

/// Element-wise maps. `CmpScalar` produces a `Bool` buffer; the other maps keep
/// the input dtype (integers support `Neg`, `Abs`, `Sign`, `Sqr`, `Relu` and
/// `Clamp`; the rest are float-only).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    /// -1, 0 or 1.
    Sign,
    Recip,
    Sqr,
    Relu,
    Sigmoid,
    Tanh,
    /// The exact (erf) GELU, PyTorch's default.
    Gelu,
    /// d/dx of the exact GELU.
    GeluGrad,
    /// `x * mul + add`.
    Affine {
        mul: f64,
        add: f64,
    },
    /// `x ^ p`.
    Powf(f64),
    /// `x` for `x > 0`, `slope * x` otherwise.
    LeakyRelu(f64),
    Clamp {
        min: f64,
        max: f64,
    },
    /// `x <op> value`, as a `Bool` buffer.
    CmpScalar(CmpOp, f64),
    /// The Gauss error function.
    Erf,
    /// Sine (radians).
    Sin,
    /// Cosine (radians).
    Cos,
    /// `x * sigmoid(x)` (SiLU, also called swish).
    Silu,
    /// d/dx of SiLU: `s * (1 + x * (1 - s))` with `s = sigmoid(x)`.
    SiluGrad,
    /// GELU with PyTorch's tanh approximation
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))`.
    GeluTanh,
    /// d/dx of the tanh-approximated GELU.
    GeluTanhGrad,
}

/// Element-wise ops of two operands.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Maximum,
    Minimum,
    /// A `Bool` buffer.
    Cmp(CmpOp),
    /// `lhs ^ rhs`, as `torch.pow` of two tensors.
    Pow,
    /// `floor(x / y)`; for integers a zero divisor is an error.
    FloorDivide,
    /// `x - floor(x / y) * y`, with the sign of `y` (PyTorch's `remainder`).
    Remainder,
}

/// How the two operands of a binary op are read: the output dims and, for each
/// operand, its element strides (0 along broadcast dims). Adjacent dims that are
/// contiguous in both operands have been merged, so most calls have rank 1 or 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BinaryLayout {
    pub dims: Vec<usize>,
    pub lhs_strides: Vec<usize>,
    pub rhs_strides: Vec<usize>,
}

impl BinaryLayout {
    /// Number of output elements.
    pub fn elem_count(&self) -> usize {
        self.dims.iter().product()
    }
}

/// Reductions over one axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
    ArgMax,
    ArgMin,
}

/// A batched product `out[b] = op(lhs[b]) @ op(rhs[b])` of `m x k` by `k x n`
/// matrices, where `op` transposes when the flag is set. Without the flag an
/// operand is stored row-major as `m x k` (lhs) or `k x n` (rhs); with it,
/// as `k x m` or `n x k`. A batch stride of 0 reuses one matrix for every batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MatmulSpec {
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub lhs_transposed: bool,
    pub rhs_transposed: bool,
    pub lhs_batch_stride: usize,
    pub rhs_batch_stride: usize,
}

impl MatmulSpec {
    /// Errors unless operands of `lhs_len` and `rhs_len` elements hold every
    /// matrix the spec reads (`(batch - 1) * stride + rows * cols` each): the
    /// bounds both backends' `unsafe` products rely on, checked where they run
    /// rather than trusted from the caller. A spec with no product (a batch,
    /// `m`, `n` or `k` of 0) reads nothing and always passes.
    pub(crate) fn check_operands(&self, lhs_len: usize, rhs_len: usize) -> crate::Result<()> {
        if self.batch == 0 || self.m == 0 || self.n == 0 || self.k == 0 {
            return Ok(());
        }
        let sides = [
            ("lhs", lhs_len, self.lhs_batch_stride, self.m * self.k),
            ("rhs", rhs_len, self.rhs_batch_stride, self.k * self.n),
        ];
        for (side, len, stride, matrix) in sides {
            let need = (self.batch - 1).checked_mul(stride).and_then(|x| x.checked_add(matrix));
            if need.is_none_or(|need| need > len) {
                return Err(crate::Error::invalid(
                    "matmul",
                    format!(
                        "internal: the {side} buffer holds {len} elements, fewer than {} matrices of {matrix} at stride {stride}",
                        self.batch
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Patch extraction for convolution and pooling. The input is
/// `(n, c, h, w)`; the columns are `(n, c * kh * kw, out_h * out_w)`.
///
/// Output position `(oy, ox)`, tap `(ki, kj)` reads input pixel
/// `(oy * stride.0 + ki * dilation.0 - pad_top, ox * stride.1 + kj * dilation.1 - pad_left)`;
/// pixels outside the image read the pad value. The bottom and right paddings only
/// lengthen the output (asymmetric "same" padding, pooling's `ceil_mode`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Im2ColSpec {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: (usize, usize),
    /// Spacing between taps, `(along h, along w)`; 1 is a dense kernel.
    pub dilation: (usize, usize),
    pub pad_top: usize,
    pub pad_bottom: usize,
    pub pad_left: usize,
    pub pad_right: usize,
}

/// `(len + pad_a + pad_b - dilation * (k - 1) - 1) / stride + 1`, or `None` when the
/// dilated kernel does not fit the padded input, a size is zero or overflows.
fn out_len(len: usize, pad_a: usize, pad_b: usize, k: usize, dilation: usize, stride: usize) -> Option<usize> {
    if k == 0 || dilation == 0 || stride == 0 {
        return None;
    }
    let padded = len.checked_add(pad_a)?.checked_add(pad_b)?;
    let extent = dilation.checked_mul(k - 1)?.checked_add(1)?;
    Some(padded.checked_sub(extent)? / stride + 1)
}

impl Im2ColSpec {
    /// A dense spec with the same padding before and after: `padding` is `(h, w)`.
    pub fn symmetric(
        n: usize,
        c: usize,
        (h, w): (usize, usize),
        (kh, kw): (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Im2ColSpec {
        Im2ColSpec {
            n,
            c,
            h,
            w,
            kh,
            kw,
            stride,
            dilation: (1, 1),
            pad_top: padding.0,
            pad_bottom: padding.0,
            pad_left: padding.1,
            pad_right: padding.1,
        }
    }

    /// `(out_h, out_w)`, or `None` for a geometry with no output (a zero kernel,
    /// stride or dilation, a dilated kernel larger than the padded input, overflow).
    pub fn checked_out_hw(&self) -> Option<(usize, usize)> {
        let oh = out_len(
            self.h,
            self.pad_top,
            self.pad_bottom,
            self.kh,
            self.dilation.0,
            self.stride.0,
        )?;
        let ow = out_len(
            self.w,
            self.pad_left,
            self.pad_right,
            self.kw,
            self.dilation.1,
            self.stride.1,
        )?;
        Some((oh, ow))
    }

    /// Checks the geometry and that the input and column buffers' element
    /// counts fit in `usize`; `op` names the caller in the error.
    pub fn validate(&self, op: &'static str) -> crate::Result<()> {
        let Some((oh, ow)) = self.checked_out_hw() else {
            return Err(crate::Error::invalid(
                op,
                format!(
                    "invalid patch geometry {self:?}: kernel, stride and dilation must be positive and the dilated kernel must fit the padded input"
                ),
            ));
        };
        crate::shape::checked_numel(&[self.n, self.c, self.h, self.w], op)?;
        crate::shape::checked_numel(&[self.n, self.c, self.kh, self.kw, oh, ow], op)?;
        Ok(())
    }

    /// Output height; 0 for a geometry [`Im2ColSpec::validate`] rejects.
    pub fn out_h(&self) -> usize {
        self.checked_out_hw().map_or(0, |(oh, _)| oh)
    }
    /// Output width; 0 for a geometry [`Im2ColSpec::validate`] rejects.
    pub fn out_w(&self) -> usize {
        self.checked_out_hw().map_or(0, |(_, ow)| ow)
    }
}

/// The running combination of an inclusive scan along an axis (`cumsum`, `cumprod`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScanOp {
    /// Running sum.
    Sum,
    /// Running product.
    Prod,
}
