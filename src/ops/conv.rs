//! Convolution and pooling over `(N, C, H, W)` images, built on im2col.

use super::conv_args::Conv2dArgs;
use crate::autograd::Node;
use crate::backend::Im2ColSpec;
use crate::{Error, Result, Shape, Tensor};

/// `(N, C, H, W)` dims of `x`, or an error naming `op`.
pub(crate) fn image_dims(x: &Tensor, op: &'static str) -> Result<[usize; 4]> {
    match x.dims() {
        &[n, c, h, w] => Ok([n, c, h, w]),
        _ => Err(Error::invalid(
            op,
            format!("expected an (N, C, H, W) input, got shape {}", x.shape()),
        )),
    }
}

/// Validates `spec` for `op`, with an error that speaks in the op's terms.
pub(crate) fn checked_spec(spec: Im2ColSpec, op: &'static str) -> Result<Im2ColSpec> {
    let (k, s, d) = ((spec.kh, spec.kw), spec.stride, spec.dilation);
    if k.0 == 0 || k.1 == 0 || s.0 == 0 || s.1 == 0 || d.0 == 0 || d.1 == 0 {
        return Err(Error::invalid(
            op,
            format!("kernel {k:?}, stride {s:?} and dilation {d:?} must be positive"),
        ));
    }
    if spec.checked_out_hw().is_none() {
        let pads = [spec.pad_top, spec.pad_bottom, spec.pad_left, spec.pad_right];
        return Err(Error::invalid(
            op,
            format!(
                "kernel {k:?} with dilation {d:?} is larger than the padded input {}x{} (padding [top, bottom, left, right] {pads:?}), or a size overflows",
                spec.h, spec.w
            ),
        ));
    }
    // The unfolded columns are the largest buffer a convolution makes.
    spec.validate(op)?;
    Ok(spec)
}

fn spec_for(
    x: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    op: &'static str,
) -> Result<Im2ColSpec> {
    let [n, c, h, w] = image_dims(x, op)?;
    checked_spec(Im2ColSpec::symmetric(n, c, (h, w), kernel, stride, padding), op)
}

impl Tensor {
    /// Unfolds patches: `(N, C, H, W)` to `(N, C*kh*kw, OH*OW)`, like `torch.nn.functional.unfold`.
    /// Out-of-image taps read `pad_value`.
    pub fn im2col(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        pad_value: f64,
    ) -> Result<Tensor> {
        let op = "im2col";
        self.require_float(op)?;
        let spec = spec_for(self, kernel, stride, padding, op)?;
        self.im2col_spec(&spec, pad_value)
    }

    /// im2col of this `(n, c, h, w)` tensor by a validated `spec`, differentiable (col2im).
    pub(crate) fn im2col_spec(&self, spec: &Im2ColSpec, pad_value: f64) -> Result<Tensor> {
        let op = "im2col";
        let s = self.storage().im2col(spec, pad_value)?;
        // validate checked these products.
        let shape = Shape::from([spec.n, spec.c * spec.kh * spec.kw, spec.out_h() * spec.out_w()]);
        Ok(Tensor::from_op(s, shape, || {
            let spec = spec.clone();
            Node::new(op, vec![self.clone()], move |g, _| {
                Ok(vec![Some(g.col2im_spec(&spec)?)])
            })
        }))
    }

    /// col2im of these `(n, c*kh*kw, oh*ow)` columns by a validated `spec`,
    /// differentiable (im2col with zero padding).
    pub(crate) fn col2im_spec(&self, spec: &Im2ColSpec) -> Result<Tensor> {
        let op = "col2im";
        let s = self.storage().col2im(spec)?;
        let shape = Shape::from([spec.n, spec.c, spec.h, spec.w]);
        Ok(Tensor::from_op(s, shape, || {
            let spec = spec.clone();
            Node::new(op, vec![self.clone()], move |g, _| {
                Ok(vec![Some(g.im2col_spec(&spec, 0.0)?)])
            })
        }))
    }

    /// 2-D convolution (cross-correlation, as in PyTorch) with symmetric
    /// `padding`, no dilation and one group; see [`Tensor::conv2d_with`] for the rest.
    ///
    /// # Shapes
    /// input `(N, C, H, W)`, weight `(O, C, kh, kw)`, bias `(O)`, output
    /// `(N, O, (H + 2p - kh) / s + 1, (W + 2p - kw) / s + 1)`.
    pub fn conv2d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        self.conv2d_with(weight, bias, &Conv2dArgs::default().stride(stride).padding(padding))
    }

    /// 2-D convolution, `torch.nn.functional.conv2d(input, weight, bias, stride,
    /// padding, dilation, groups)`: input and output channels split into
    /// `groups` independent convolutions (depthwise when `groups == C`), one
    /// batched matmul over the im2col columns.
    ///
    /// # Shapes
    /// input `(N, C, H, W)`, weight `(O, C / groups, kh, kw)`, bias `(O)`, output
    /// `(N, O, H_out, W_out)` with
    /// `H_out = (H + top + bottom - dilation * (kh - 1) - 1) / stride + 1` (likewise `W`).
    ///
    /// ```
    /// use neurite::{Conv2dArgs, ConvPadding, DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::ones((1, 4, 5, 5), DType::F32, &Device::cpu())?;
    /// let w = Tensor::ones((4, 1, 3, 3), DType::F32, &Device::cpu())?; // depthwise
    /// let y = x.conv2d_with(&w, None, &Conv2dArgs::default().padding(ConvPadding::Same).groups(4))?;
    /// assert_eq!(y.dims(), &[1, 4, 5, 5]);
    /// # Ok(()) }
    /// ```
    pub fn conv2d_with(&self, weight: &Tensor, bias: Option<&Tensor>, args: &Conv2dArgs) -> Result<Tensor> {
        self.grouped_conv(weight, bias, args, "conv2d")
    }

    /// [`Tensor::conv2d_with`], with errors naming `op`.
    fn grouped_conv(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        args: &Conv2dArgs,
        op: &'static str,
    ) -> Result<Tensor> {
        if let Some(r) = crate::autocast::cast_product(self, weight, bias, |x, w, b| x.grouped_conv(w, b, args, op)) {
            return r;
        }
        self.same_dtype_device(weight, op)?;
        self.require_float(op)?;
        let [n, c, h, w] = image_dims(self, op)?;
        let g = args.groups;
        if g == 0 || c % g != 0 {
            return Err(Error::invalid(
                op,
                format!("groups ({g}) must be positive and divide the input channels ({c})"),
            ));
        }
        let &[o, cg, kh, kw] = weight.dims() else {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: weight.shape().clone(),
                expected: format!("a weight (out_channels, in_channels / groups = {}, kh, kw)", c / g),
            });
        };
        if o % g != 0 {
            return Err(Error::invalid(
                op,
                format!(
                    "groups ({g}) must divide the output channels ({o}) of weight {}",
                    weight.shape()
                ),
            ));
        }
        if cg * g != c {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: weight.shape().clone(),
                expected: format!(
                    "weight dim 1 to be in_channels / groups = {c} / {g} = {} (input channels {c})",
                    c / g
                ),
            });
        }
        if args.padding == super::conv_args::ConvPadding::Same && args.stride != [1, 1] {
            return Err(Error::invalid(
                op,
                format!("padding=\"same\" needs stride 1, got stride {:?}", args.stride),
            ));
        }
        let Some([pad_top, pad_bottom, pad_left, pad_right]) = args.padding.sides([kh, kw], args.dilation) else {
            return Err(Error::invalid(op, format!("padding {:?} overflows", args.padding)));
        };
        let spec = checked_spec(
            Im2ColSpec {
                n,
                c,
                h,
                w,
                kh,
                kw,
                stride: (args.stride[0], args.stride[1]),
                dilation: (args.dilation[0], args.dilation[1]),
                pad_top,
                pad_bottom,
                pad_left,
                pad_right,
            },
            op,
        )?;
        let (oh, ow) = (spec.out_h(), spec.out_w());
        if let Some(b) = bias
            && b.dims() != [o]
        {
            return Err(Error::ShapeMismatch {
                op,
                lhs: weight.shape().clone(),
                rhs: b.shape().clone(),
                expected: format!("a bias of shape [{o}]"),
            });
        }
        // The spec's column count fits in usize, and so does this factor of it.
        let patch = cg * kh * kw;
        let cols = self.im2col_spec(&spec, 0.0)?;
        if let (1, Some(b)) = (g, bias) {
            let out = weight.reshape([o, patch])?.matmul_add_row_bias(&cols, b)?;
            return out.reshape([n, o, oh, ow]);
        }
        let out = if g == 1 {
            weight.reshape([o, patch])?.matmul(&cols)?
        } else {
            // (G, O/G, patch) @ (N, G, patch, L): the weight is reused across the batch.
            let wg = weight.reshape([g, o / g, patch])?;
            wg.matmul(&cols.reshape([n, g, patch, oh * ow])?)?
        };
        let out = out.reshape([n, o, oh, ow])?;
        match bias {
            None => Ok(out),
            Some(b) => out.add(&b.reshape([1, o, 1, 1])?),
        }
    }

    /// 1-D convolution, `torch.nn.functional.conv1d`: [`Tensor::conv2d_with`]
    /// over `(N, C, 1, L)` images.
    ///
    /// # Shapes
    /// input `(N, C, L)`, weight `(O, C / groups, k)`, bias `(O)`, output `(N, O, L_out)`
    /// with `L_out = (L + left + right - dilation * (k - 1) - 1) / stride + 1`.
    ///
    /// ```
    /// use neurite::{Conv1dArgs, DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::ones((2, 3, 10), DType::F32, &Device::cpu())?;
    /// let w = Tensor::ones((6, 3, 3), DType::F32, &Device::cpu())?;
    /// let y = x.conv1d(&w, None, &Conv1dArgs::default().stride(2).padding(1))?;
    /// assert_eq!(y.dims(), &[2, 6, 5]);
    /// # Ok(()) }
    /// ```
    pub fn conv1d(
        &self,
        weight: &Tensor,
        bias: Option<&Tensor>,
        args: &super::conv_args::Conv1dArgs,
    ) -> Result<Tensor> {
        let op = "conv1d";
        if self.rank() != 3 || weight.rank() != 3 {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: weight.shape().clone(),
                expected: "input (N, C, L) and weight (out_channels, in_channels / groups, k)".into(),
            });
        }
        let y = self
            .unsqueeze(2)?
            .grouped_conv(&weight.unsqueeze(2)?, bias, &args.to_2d(), op)?;
        y.squeeze(2usize)
    }
}
