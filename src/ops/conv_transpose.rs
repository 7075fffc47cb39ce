//! Transposed convolution: the adjoint of conv2d, as a matmul into columns
//! followed by col2im.

use super::conv::{checked_spec, image_dims};
use super::conv_args::ConvTranspose2dArgs;
use crate::backend::Im2ColSpec;
use crate::{Error, Result, Tensor};

/// `(len - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1`,
/// or `None` when it is not positive or overflows.
fn transposed_len(
    len: usize,
    k: usize,
    stride: usize,
    padding: usize,
    dilation: usize,
    output_padding: usize,
) -> Option<usize> {
    let full = len
        .checked_sub(1)?
        .checked_mul(stride)?
        .checked_add(dilation.checked_mul(k.checked_sub(1)?)?)?
        .checked_add(output_padding)?
        .checked_add(1)?;
    full.checked_sub(padding.checked_mul(2)?).filter(|&l| l > 0)
}

impl Tensor {
    /// Transposed 2-D convolution, `torch.nn.functional.conv_transpose2d(input,
    /// weight, bias, stride, padding, output_padding, groups, dilation)`: the
    /// gradient of [`Tensor::conv2d_with`] with respect to its input.
    ///
    /// # Shapes
    /// input `(N, C_in, H, W)`, weight `(C_in, C_out / groups, kh, kw)` (PyTorch's
    /// layout), bias `(C_out)`, output `(N, C_out, H_out, W_out)` with
    /// `H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1`.
    ///
    /// ```
    /// use neurite::{ConvTranspose2dArgs, DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::ones((1, 4, 5, 5), DType::F32, &Device::cpu())?;
    /// let w = Tensor::ones((4, 2, 3, 3), DType::F32, &Device::cpu())?;
    /// let args = ConvTranspose2dArgs::default().stride(2).padding(1).output_padding(1);
    /// assert_eq!(x.conv_transpose2d(&w, None, &args)?.dims(), &[1, 2, 10, 10]);
    /// # Ok(()) }
    /// ```
    pub fn conv_transpose2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        args: &ConvTranspose2dArgs,
    ) -> Result<Tensor> {
        let op = "conv_transpose2d";
        if let Some(r) = crate::autocast::cast_product(self, weight, bias, |x, w, b| x.conv_transpose2d(w, b, args)) {
            return r;
        }
        self.same_dtype_device(weight, op)?;
        self.require_float(op)?;
        let [n, cin, h, w] = image_dims(self, op)?;
        let g = args.groups;
        if g == 0 || cin % g != 0 {
            return Err(Error::invalid(
                op,
                format!("groups ({g}) must be positive and divide the input channels ({cin})"),
            ));
        }
        let &[wc, cog, kh, kw] = weight.dims() else {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: weight.shape().clone(),
                expected: format!("a weight (in_channels = {cin}, out_channels / groups, kh, kw)"),
            });
        };
        if wc != cin {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: weight.shape().clone(),
                expected: format!("weight dim 0 to equal the input channels ({cin})"),
            });
        }
        let (s, p, op_, d) = (args.stride, args.padding, args.output_padding, args.dilation);
        if s.contains(&0) || d.contains(&0) || kh == 0 || kw == 0 {
            return Err(Error::invalid(
                op,
                format!("kernel [{kh}, {kw}], stride {s:?} and dilation {d:?} must be positive"),
            ));
        }
        for i in 0..2 {
            if op_[i] >= s[i] && op_[i] >= d[i] {
                return Err(Error::invalid(
                    op,
                    format!(
                        "output_padding {op_:?} must be smaller than either the stride {s:?} or the dilation {d:?}"
                    ),
                ));
            }
        }
        let cout = cog
            .checked_mul(g)
            .ok_or_else(|| Error::invalid(op, format!("{cog} * {g} output channels overflow")))?;
        let (Some(oh), Some(ow)) = (
            transposed_len(h, kh, s[0], p[0], d[0], op_[0]),
            transposed_len(w, kw, s[1], p[1], d[1], op_[1]),
        ) else {
            return Err(Error::invalid(
                op,
                format!(
                    "input {}x{h}x{w} with kernel [{kh}, {kw}], stride {s:?}, padding {p:?}, output_padding {op_:?} and dilation {d:?} gives no output",
                    cin
                ),
            ));
        };
        if let Some(b) = bias
            && b.dims() != [cout]
        {
            return Err(Error::ShapeMismatch {
                op,
                lhs: weight.shape().clone(),
                rhs: b.shape().clone(),
                expected: format!("a bias of shape [{cout}]"),
            });
        }
        // col2im reads the columns as the conv2d whose output is this input:
        // the output padding rows beyond the last tap's reach receive nothing, so
        // they are left out of the image (bottom padding `p - op`) and added as zeros.
        let extra = [op_[0].saturating_sub(p[0]), op_[1].saturating_sub(p[1])];
        let (ih, iw) = (oh - extra[0].min(oh), ow - extra[1].min(ow));
        if ih == 0 || iw == 0 {
            return Err(Error::invalid(
                op,
                format!("padding {p:?} crops the whole {oh}x{ow} output (output_padding {op_:?})"),
            ));
        }
        let spec = checked_spec(
            Im2ColSpec {
                n,
                c: cout,
                h: ih,
                w: iw,
                kh,
                kw,
                stride: (s[0], s[1]),
                dilation: (d[0], d[1]),
                pad_top: p[0],
                pad_bottom: p[0].saturating_sub(op_[0]),
                pad_left: p[1],
                pad_right: p[1].saturating_sub(op_[1]),
            },
            op,
        )?;
        if (spec.out_h(), spec.out_w()) != (h, w) {
            return Err(Error::invalid(
                op,
                format!("internal: the folding geometry {spec:?} does not match the {h}x{w} input"),
            ));
        }
        let (cing, patch) = (cin / g, cog * kh * kw);
        // Per group: (patch, C_in/G) @ (C_in/G, H*W), the weight reused across the batch.
        let wt = weight.reshape([g, cing, patch])?.transpose(1usize, 2)?;
        let cols = wt
            .matmul(&self.reshape([n, g, cing, h * w])?)?
            .reshape([n, cout * kh * kw, h * w])?;
        let mut out = cols.col2im_spec(&spec)?;
        if extra[0] > 0 {
            let z = Tensor::zeros([n, cout, extra[0], iw], self.dtype(), &self.device())?;
            out = Tensor::cat(&[out, z], 2usize)?;
        }
        if extra[1] > 0 {
            let z = Tensor::zeros([n, cout, oh, extra[1]], self.dtype(), &self.device())?;
            out = Tensor::cat(&[out, z], 3usize)?;
        }
        match bias {
            None => Ok(out),
            Some(b) => out.add(&b.reshape([1, cout, 1, 1])?),
        }
    }
}
