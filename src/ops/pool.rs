//! Max and average pooling over `(N, C, H, W)` images (im2col of each plane
//! and a reduction over the taps), max unpooling, and their 1-D forms.

use super::conv::{checked_spec, image_dims};
use crate::autograd::Node;
use crate::backend::Im2ColSpec;
use crate::backend::{CpuStorage, Storage};
use crate::nn::IntoSize2;
use crate::{DType, Error, Result, Shape, Tensor};

/// The arguments of [`Tensor::max_pool2d_with`], `torch.nn.functional.max_pool2d`'s
/// `kernel_size`, `stride` (default: the kernel), `padding` (0), `dilation` (1)
/// and `ceil_mode` (false).
///
/// ```
/// use neurite::MaxPool2dArgs;
/// let args = MaxPool2dArgs::new(3).stride(2).padding(1).ceil_mode(true);
/// assert_eq!(args.stride, [2, 2]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MaxPool2dArgs {
    /// `[kh, kw]`.
    pub kernel_size: [usize; 2],
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[ph, pw]`, at most half the kernel; padded taps never win.
    pub padding: [usize; 2],
    /// `[dh, dw]`: spacing between window taps.
    pub dilation: [usize; 2],
    /// Round the output size up: a last, partial window, if it starts inside
    /// the input or the left padding.
    pub ceil_mode: bool,
}

impl MaxPool2dArgs {
    /// A `kernel_size` window with stride `kernel_size` and no padding.
    pub fn new(kernel_size: impl IntoSize2) -> MaxPool2dArgs {
        let k = kernel_size.into_size2();
        MaxPool2dArgs {
            kernel_size: k,
            stride: k,
            padding: [0, 0],
            dilation: [1, 1],
            ceil_mode: false,
        }
    }
    /// Sets the stride.
    pub fn stride(mut self, stride: impl IntoSize2) -> MaxPool2dArgs {
        self.stride = stride.into_size2();
        self
    }
    /// Sets the padding.
    pub fn padding(mut self, padding: impl IntoSize2) -> MaxPool2dArgs {
        self.padding = padding.into_size2();
        self
    }
    /// Sets the dilation.
    pub fn dilation(mut self, dilation: impl IntoSize2) -> MaxPool2dArgs {
        self.dilation = dilation.into_size2();
        self
    }
    /// Sets `ceil_mode`.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> MaxPool2dArgs {
        self.ceil_mode = ceil_mode;
        self
    }
}

/// The arguments of [`Tensor::avg_pool2d_with`], `torch.nn.functional.avg_pool2d`'s
/// `kernel_size`, `stride` (default: the kernel), `padding` (0), `ceil_mode`
/// (false), `count_include_pad` (true) and `divisor_override` (none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AvgPool2dArgs {
    /// `[kh, kw]`.
    pub kernel_size: [usize; 2],
    /// `[sh, sw]`.
    pub stride: [usize; 2],
    /// `[ph, pw]`, at most half the kernel.
    pub padding: [usize; 2],
    /// Round the output size up (see [`MaxPool2dArgs::ceil_mode`]).
    pub ceil_mode: bool,
    /// Whether padded positions count in the divisor (the `ceil_mode`
    /// overhang never does).
    pub count_include_pad: bool,
    /// Divide every window's sum by this instead of its size.
    pub divisor_override: Option<usize>,
}

impl AvgPool2dArgs {
    /// A `kernel_size` window with stride `kernel_size`, no padding, counting padding.
    pub fn new(kernel_size: impl IntoSize2) -> AvgPool2dArgs {
        let k = kernel_size.into_size2();
        AvgPool2dArgs {
            kernel_size: k,
            stride: k,
            padding: [0, 0],
            ceil_mode: false,
            count_include_pad: true,
            divisor_override: None,
        }
    }
    /// Sets the stride.
    pub fn stride(mut self, stride: impl IntoSize2) -> AvgPool2dArgs {
        self.stride = stride.into_size2();
        self
    }
    /// Sets the padding.
    pub fn padding(mut self, padding: impl IntoSize2) -> AvgPool2dArgs {
        self.padding = padding.into_size2();
        self
    }
    /// Sets `ceil_mode`.
    pub fn ceil_mode(mut self, ceil_mode: bool) -> AvgPool2dArgs {
        self.ceil_mode = ceil_mode;
        self
    }
    /// Sets `count_include_pad`.
    pub fn count_include_pad(mut self, count_include_pad: bool) -> AvgPool2dArgs {
        self.count_include_pad = count_include_pad;
        self
    }
    /// Sets `divisor_override`.
    pub fn divisor_override(mut self, divisor: Option<usize>) -> AvgPool2dArgs {
        self.divisor_override = divisor;
        self
    }
}

/// PyTorch's pooling output length: floor or ceil of
/// `(len + 2p - d(k-1) - 1) / s` plus one, where in ceil mode the last window
/// must start inside the input or the left padding. `None` when there is no output.
fn pooled_len(len: usize, k: usize, s: usize, p: usize, d: usize, ceil: bool) -> Option<usize> {
    let padded = len.checked_add(p.checked_mul(2)?)?;
    let span = padded.checked_sub(d.checked_mul(k.checked_sub(1)?)?.checked_add(1)?)?;
    let mut out = if ceil { span.div_ceil(s) } else { span / s } + 1;
    if ceil && (out - 1) * s >= len + p {
        out -= 1;
    }
    Some(out)
}

/// The im2col geometry of one pooling window over `(N * C, 1, H, W)` planes:
/// in ceil mode the bottom/right padding grows to hold the last window.
#[allow(clippy::too_many_arguments)]
fn pool_spec(
    x: &Tensor,
    kernel: [usize; 2],
    stride: [usize; 2],
    padding: [usize; 2],
    dilation: [usize; 2],
    ceil_mode: bool,
    op: &'static str,
) -> Result<Im2ColSpec> {
    let [n, c, h, w] = image_dims(x, op)?;
    if kernel.contains(&0) || stride.contains(&0) || dilation.contains(&0) {
        return Err(Error::invalid(
            op,
            format!("kernel {kernel:?}, stride {stride:?} and dilation {dilation:?} must be positive"),
        ));
    }
    if padding[0] > kernel[0] / 2 || padding[1] > kernel[1] / 2 {
        return Err(Error::invalid(
            op,
            format!("padding {padding:?} must be at most half the kernel {kernel:?}"),
        ));
    }
    let dims = [h, w];
    let mut out = [0; 2];
    let mut end_pad = [0; 2];
    for i in 0..2 {
        let o = pooled_len(dims[i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode)
            .filter(|&o| o > 0)
            .ok_or_else(|| {
                Error::invalid(
                    op,
                    format!(
                        "input {h}x{w} is smaller than the kernel {kernel:?} with dilation {dilation:?} and padding {padding:?}"
                    ),
                )
            })?;
        // The padded length the last window reaches, no less than the symmetric one.
        let reach = (o - 1) * stride[i] + dilation[i] * (kernel[i] - 1) + 1;
        end_pad[i] = padding[i].max(reach.saturating_sub(dims[i] + padding[i]));
        out[i] = o;
    }
    let nc = n
        .checked_mul(c)
        .ok_or_else(|| Error::invalid(op, format!("{n} * {c} planes overflow")))?;
    let spec = checked_spec(
        Im2ColSpec {
            n: nc,
            c: 1,
            h,
            w,
            kh: kernel[0],
            kw: kernel[1],
            stride: (stride[0], stride[1]),
            dilation: (dilation[0], dilation[1]),
            pad_top: padding[0],
            pad_bottom: end_pad[0],
            pad_left: padding[1],
            pad_right: end_pad[1],
        },
        op,
    )?;
    if [spec.out_h(), spec.out_w()] != out {
        return Err(Error::invalid(
            op,
            format!("internal: the window geometry {spec:?} does not give the {out:?} output"),
        ));
    }
    Ok(spec)
}

impl Tensor {
    /// Max pooling with stride and symmetric padding; see [`Tensor::max_pool2d_with`].
    ///
    /// # Shapes
    /// `(N, C, H, W)` to `(N, C, (H + 2p - k) / s + 1, (W + 2p - k) / s + 1)`.
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        self.max_pool2d_with(&MaxPool2dArgs::new(kernel).stride(stride).padding(padding))
    }

    /// Average pooling with stride and symmetric padding, padded taps counting
    /// as zeros; see [`Tensor::avg_pool2d_with`].
    ///
    /// # Shapes
    /// `(N, C, H, W)` to `(N, C, (H + 2p - k) / s + 1, (W + 2p - k) / s + 1)`.
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        self.avg_pool2d_with(&AvgPool2dArgs::new(kernel).stride(stride).padding(padding))
    }

    /// The window columns `(N * C, kh * kw, L)` of a max pool (padded taps read
    /// `-inf`) and its geometry.
    fn max_pool_columns(&self, a: &MaxPool2dArgs, op: &'static str) -> Result<(Tensor, Im2ColSpec)> {
        self.require_float(op)?;
        let spec = pool_spec(self, a.kernel_size, a.stride, a.padding, a.dilation, a.ceil_mode, op)?;
        let planes = self.reshape([spec.n, 1, spec.h, spec.w])?;
        Ok((planes.im2col_spec(&spec, f64::NEG_INFINITY)?, spec))
    }

    /// Max pooling straight from the image on the host (f32 and f64): the
    /// maxima, with a graph whose backward adds the gradient at the recorded
    /// indices, and the `I64` indices. `None` elsewhere (other devices and
    /// dtypes unfold the windows instead).
    fn max_pool_direct(&self, a: &MaxPool2dArgs, op: &'static str) -> Result<Option<(Tensor, Tensor)>> {
        self.require_float(op)?;
        let spec = pool_spec(self, a.kernel_size, a.stride, a.padding, a.dilation, a.ceil_mode, op)?;
        let pooled = match &*self.storage() {
            Storage::Cpu(x) => crate::backend::cpu::pool::max_pool2d(x, &spec)?,
            #[allow(unreachable_patterns)]
            _ => None,
        };
        let Some((values, index)) = pooled else {
            return Ok(None);
        };
        let d = self.dims();
        let (planes, l) = (spec.n, spec.out_h() * spec.out_w());
        let out_dims = [d[0], d[1], spec.out_h(), spec.out_w()];
        let indices = Tensor::from_storage(Storage::Cpu(CpuStorage::I64(index)), Shape::from(out_dims));
        let values = Tensor::from_op(Storage::Cpu(values), Shape::from(out_dims), || {
            let (ids, image) = (indices.clone(), self.shape().clone());
            Node::new(op, vec![self.clone()], move |g, _| {
                let gx = g
                    .reshape([planes, l])?
                    .scatter_add_into(1usize, &ids.reshape([planes, l])?, [planes, spec.h * spec.w])?
                    .reshape(image.clone())?;
                Ok(vec![Some(gx)])
            })
        });
        Ok(Some((values, indices)))
    }

    /// Max pooling, `torch.nn.functional.max_pool2d` with `dilation` and
    /// `ceil_mode`; padded taps never win and the gradient goes to the first
    /// maximum of each window.
    ///
    /// # Shapes
    /// `(N, C, H, W)` to `(N, C, H_out, W_out)` with
    /// `H_out = (H + 2p - d(k - 1) - 1) / s + 1`, rounded up in ceil mode (likewise `W`).
    ///
    /// ```
    /// use neurite::{DType, Device, MaxPool2dArgs, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::arange(0., 25., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 5, 5))?;
    /// let y = x.max_pool2d_with(&MaxPool2dArgs::new(2).ceil_mode(true))?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![6., 8., 9., 16., 18., 19., 21., 23., 24.]);
    /// # Ok(()) }
    /// ```
    pub fn max_pool2d_with(&self, args: &MaxPool2dArgs) -> Result<Tensor> {
        if let Some((values, _)) = self.max_pool_direct(args, "max_pool2d")? {
            return Ok(values);
        }
        let (cols, s) = self.max_pool_columns(args, "max_pool2d")?;
        let d = self.dims();
        cols.max_dim(1usize, false)?.reshape([d[0], d[1], s.out_h(), s.out_w()])
    }

    /// [`Tensor::max_pool2d_with`] and, like PyTorch's `return_indices=True`,
    /// where each maximum was: an `I64` tensor of the output's shape holding
    /// indices into each flattened `H * W` input plane (the first maximum).
    ///
    /// ```
    /// use neurite::{DType, Device, MaxPool2dArgs, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::arange(0., 16., 1., DType::F32, &Device::cpu())?.reshape((1, 1, 4, 4))?;
    /// let (y, idx) = x.max_pool2d_with_indices(&MaxPool2dArgs::new(2))?;
    /// assert_eq!(idx.to_vec::<i64>()?, vec![5, 7, 13, 15]);
    /// assert_eq!(y.max_unpool2d(&idx, 2, 2, 0, None)?.dims(), &[1, 1, 4, 4]);
    /// # Ok(()) }
    /// ```
    pub fn max_pool2d_with_indices(&self, args: &MaxPool2dArgs) -> Result<(Tensor, Tensor)> {
        let op = "max_pool2d_with_indices";
        if let Some(pooled) = self.max_pool_direct(args, op)? {
            return Ok(pooled);
        }
        let (cols, s) = self.max_pool_columns(args, op)?;
        let d = self.dims();
        let out_dims = [d[0], d[1], s.out_h(), s.out_w()];
        let values = cols.max_dim(1usize, false)?.reshape(out_dims)?;
        let taps = cols.detach().argmax(1usize, false)?; // (N*C, L)
        // Each tap's flat input index, read through the same window geometry
        // (taps in the padding never win, so their -1 is never picked).
        let plane = s.h * s.w;
        let ids = Tensor::arange(0.0, plane as f64, 1.0, DType::F64, &self.device())?;
        let table_spec = Im2ColSpec { n: 1, ..s.clone() };
        let table = ids.reshape([1, 1, s.h, s.w])?.im2col_spec(&table_spec, -1.0)?; // (1, kk, L)
        let l = s.out_h() * s.out_w();
        let table = table.reshape([s.kh * s.kw, l])?.t()?.contiguous()?; // (L, kk)
        let picked = table.gather(1usize, &taps.t()?.contiguous()?)?; // (L, N*C)
        let indices = picked.t()?.contiguous()?.to_dtype(DType::I64)?.reshape(out_dims)?;
        Ok((values, indices))
    }

    /// Average pooling, `torch.nn.functional.avg_pool2d` with `ceil_mode`,
    /// `count_include_pad` and `divisor_override`.
    ///
    /// # Shapes
    /// `(N, C, H, W)` to `(N, C, H_out, W_out)` with `H_out = (H + 2p - k) / s + 1`,
    /// rounded up in ceil mode (likewise `W`).
    ///
    /// ```
    /// use neurite::{AvgPool2dArgs, DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::ones((1, 1, 3, 3), DType::F32, &Device::cpu())?;
    /// let y = x.avg_pool2d_with(&AvgPool2dArgs::new(2).stride(1).padding(1).count_include_pad(false))?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![1.; 16]);
    /// # Ok(()) }
    /// ```
    pub fn avg_pool2d_with(&self, args: &AvgPool2dArgs) -> Result<Tensor> {
        let op = "avg_pool2d";
        self.require_float(op)?;
        let spec = pool_spec(
            self,
            args.kernel_size,
            args.stride,
            args.padding,
            [1, 1],
            args.ceil_mode,
            op,
        )?;
        let (h, w) = (spec.h, spec.w);
        let d = self.dims();
        let out_dims = [d[0], d[1], spec.out_h(), spec.out_w()];
        let sums = self
            .reshape([spec.n, 1, h, w])?
            .im2col_spec(&spec, 0.0)?
            .sum_dim(1usize, false)?;
        let out = match args.divisor_override {
            Some(0) => return Err(Error::invalid(op, "divisor_override must be positive, got 0")),
            Some(div) => sums.div_scalar(div as f64)?,
            None => sums.div(&self.window_sizes(&spec, args.count_include_pad)?)?,
        };
        out.reshape(out_dims)
    }

    /// Each window's divisor `(1, L)`: the taps inside the input, or with
    /// `include_pad` inside the symmetrically padded input (never the ceil-mode overhang).
    fn window_sizes(&self, spec: &Im2ColSpec, include_pad: bool) -> Result<Tensor> {
        let (pt, pl) = (spec.pad_top, spec.pad_left);
        let counted = if include_pad {
            // The padded image, so that only the overhang reads the pad value 0.
            Im2ColSpec {
                n: 1,
                h: spec.h + 2 * pt,
                w: spec.w + 2 * pl,
                pad_top: 0,
                pad_bottom: spec.pad_bottom - pt,
                pad_left: 0,
                pad_right: spec.pad_right - pl,
                ..spec.clone()
            }
        } else {
            Im2ColSpec { n: 1, ..spec.clone() }
        };
        let ones = Tensor::ones([1, 1, counted.h, counted.w], self.dtype(), &self.device())?;
        ones.im2col_spec(&counted, 0.0)?.sum_dim(1usize, false)
    }

    /// Max unpooling, `torch.nn.functional.max_unpool2d(input, indices,
    /// kernel_size, stride, padding, output_size)`: a zero image into which each
    /// value is put at its index (as returned by [`Tensor::max_pool2d_with_indices`]).
    /// Values sharing an index (overlapping windows, whose shared maximum is one
    /// input value) are averaged, where PyTorch keeps one of them; the gradient
    /// reads the output gradient at each index, as PyTorch's does.
    ///
    /// # Shapes
    /// input and indices `(N, C, H, W)`, output `(N, C, H_out, W_out)` with
    /// `H_out = (H - 1) * stride - 2 * padding + kernel`, or `output_size`,
    /// which must lie strictly within one stride of that.
    pub fn max_unpool2d(
        &self,
        indices: &Tensor,
        kernel_size: impl IntoSize2,
        stride: impl IntoSize2,
        padding: impl IntoSize2,
        output_size: Option<[usize; 2]>,
    ) -> Result<Tensor> {
        let op = "max_unpool2d";
        self.require_float(op)?;
        let [n, c, h, w] = image_dims(self, op)?;
        if indices.shape() != self.shape() || indices.dtype() != DType::I64 {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: indices.shape().clone(),
                expected: format!("I64 indices of the input's shape (got {:?})", indices.dtype()),
            });
        }
        let (k, s, p) = (kernel_size.into_size2(), stride.into_size2(), padding.into_size2());
        if k.contains(&0) || s.contains(&0) {
            return Err(Error::invalid(
                op,
                format!("kernel {k:?} and stride {s:?} must be positive"),
            ));
        }
        let mut default = [0; 2];
        for (i, len) in [h, w].into_iter().enumerate() {
            default[i] = len
                .saturating_sub(1)
                .checked_mul(s[i])
                .and_then(|x| x.checked_add(k[i]))
                .and_then(|x| x.checked_sub(p[i].checked_mul(2)?))
                .ok_or_else(|| {
                    Error::invalid(
                        op,
                        format!("input {h}x{w} with kernel {k:?}, stride {s:?} and padding {p:?} gives no output"),
                    )
                })?;
        }
        let out = match output_size {
            None => default,
            Some(o) => {
                for i in 0..2 {
                    if o[i] + s[i] <= default[i] || o[i] >= default[i] + s[i] {
                        return Err(Error::invalid(
                            op,
                            format!(
                                "output_size {o:?} must lie strictly between {:?} and {:?} (default {default:?}, stride {s:?})",
                                [default[0] as i64 - s[0] as i64, default[1] as i64 - s[1] as i64],
                                [default[0] + s[0], default[1] + s[1]]
                            ),
                        ));
                    }
                }
                o
            }
        };
        let plane = crate::shape::checked_numel(&out, op)?;
        let nc = n * c;
        let ids = indices.reshape([nc, h * w])?;
        let flat = self.reshape([nc, h * w])?;
        // Values sharing an index are averaged, so that unpooling overlapping
        // windows (whose shared maxima are one input value) gives that value,
        // as PyTorch's overwrite does; the gradient reads every index in full,
        // as PyTorch's does.
        let ones = Tensor::ones([nc, h * w], self.dtype(), &self.device())?;
        let share = ones.scatter_add_into(1usize, &ids, [nc, plane])?.gather(1usize, &ids)?;
        let values = flat.detach().div(&share)?.scatter_add_into(1usize, &ids, [nc, plane])?;
        let values = values.reshape([n, c, out[0], out[1]])?;
        Ok(values.with_node(|| {
            let src = self.shape().clone();
            Node::new(op, vec![self.clone()], move |g, _| {
                let g = g.reshape([nc, plane])?.gather(1usize, &ids)?;
                Ok(vec![Some(g.reshape(src.clone())?)])
            })
        }))
    }

    /// 1-D max pooling, `torch.nn.functional.max_pool1d`: [`Tensor::max_pool2d_with`]
    /// over `(N, C, 1, L)`.
    ///
    /// # Shapes
    /// `(N, C, L)` to `(N, C, L_out)`.
    pub fn max_pool1d(
        &self,
        kernel_size: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        ceil_mode: bool,
    ) -> Result<Tensor> {
        let args = MaxPool2dArgs {
            kernel_size: [1, kernel_size],
            stride: [1, stride],
            padding: [0, padding],
            dilation: [1, dilation],
            ceil_mode,
        };
        self.pool1d("max_pool1d", |x| x.max_pool2d_with(&args))
    }

    /// 1-D average pooling, `torch.nn.functional.avg_pool1d`: [`Tensor::avg_pool2d_with`]
    /// over `(N, C, 1, L)`.
    ///
    /// # Shapes
    /// `(N, C, L)` to `(N, C, L_out)`.
    pub fn avg_pool1d(
        &self,
        kernel_size: usize,
        stride: usize,
        padding: usize,
        ceil_mode: bool,
        count_include_pad: bool,
    ) -> Result<Tensor> {
        let args = AvgPool2dArgs {
            kernel_size: [1, kernel_size],
            stride: [1, stride],
            padding: [0, padding],
            ceil_mode,
            count_include_pad,
            divisor_override: None,
        };
        self.pool1d("avg_pool1d", |x| x.avg_pool2d_with(&args))
    }

    fn pool1d(&self, op: &'static str, pool: impl Fn(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
        if self.rank() != 3 {
            return Err(Error::invalid(
                op,
                format!("expected an (N, C, L) input, got shape {}", self.shape()),
            ));
        }
        pool(&self.unsqueeze(2)?)?.squeeze(2usize)
    }
}
