//! Convolution and pooling over `(N, C, H, W)` images, built on im2col.

use crate::autograd::Node;
use crate::backend::Im2ColSpec;
use crate::{Error, Result, Shape, Tensor};

fn spec_for(
    x: &Tensor,
    kernel: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    op: &'static str,
) -> Result<Im2ColSpec> {
    if x.rank() != 4 {
        return Err(Error::invalid(
            op,
            format!("expected an (N, C, H, W) input, got shape {}", x.shape()),
        ));
    }
    let d = x.dims();
    if kernel.0 == 0 || kernel.1 == 0 || stride.0 == 0 || stride.1 == 0 {
        return Err(Error::invalid(
            op,
            format!("kernel {kernel:?} and stride {stride:?} must be positive"),
        ));
    }
    let padded = |size: usize, pad: usize| pad.checked_mul(2).and_then(|p| p.checked_add(size));
    let (Some(ph), Some(pw)) = (padded(d[2], padding.0), padded(d[3], padding.1)) else {
        return Err(Error::invalid(op, format!("padding {padding:?} is too large")));
    };
    if ph < kernel.0 || pw < kernel.1 {
        return Err(Error::invalid(
            op,
            format!(
                "kernel {kernel:?} is larger than the padded input {}x{} (shape {}, padding {padding:?})",
                ph,
                pw,
                x.shape()
            ),
        ));
    }
    let spec = Im2ColSpec {
        n: d[0],
        c: d[1],
        h: d[2],
        w: d[3],
        kh: kernel.0,
        kw: kernel.1,
        stride,
        padding,
    };
    // The unfolded columns are the largest buffer a convolution makes.
    crate::shape::checked_numel(&[spec.n, spec.c, spec.kh, spec.kw, spec.out_h(), spec.out_w()], op)?;
    Ok(spec)
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
        let s = self.storage().im2col(&spec, pad_value)?;
        let shape = Shape::from([spec.n, spec.c * spec.kh * spec.kw, spec.out_h() * spec.out_w()]);
        Ok(Tensor::from_op(s, shape, || {
            let src = self.shape().clone();
            Node::new(op, vec![self.clone()], move |g, _| {
                let gs = g.storage().col2im(&spec)?;
                Ok(vec![Some(Tensor::from_storage(gs, src.clone()))])
            })
        }))
    }

    /// 2-D convolution (cross-correlation, as in PyTorch).
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
        let op = "conv2d";
        self.same_dtype_device(weight, op)?;
        if weight.rank() != 4 || self.rank() != 4 || weight.dims()[1] != self.dims()[1] {
            return Err(Error::ShapeMismatch {
                op,
                lhs: self.shape().clone(),
                rhs: weight.shape().clone(),
                expected: "input (N, C, H, W) and weight (O, C, kh, kw) with the same C".into(),
            });
        }
        let (o, kh, kw) = (weight.dims()[0], weight.dims()[2], weight.dims()[3]);
        let spec = spec_for(self, (kh, kw), stride, padding, op)?;
        let cols = self.im2col((kh, kw), stride, padding, 0.0)?;
        let w2 = weight.reshape([o, spec.c * kh * kw])?;
        let out = w2.matmul(&cols)?.reshape([spec.n, o, spec.out_h(), spec.out_w()])?;
        match bias {
            None => Ok(out),
            Some(b) => {
                if b.dims() != [o] {
                    return Err(Error::ShapeMismatch {
                        op,
                        lhs: weight.shape().clone(),
                        rhs: b.shape().clone(),
                        expected: format!("a bias of shape [{o}]"),
                    });
                }
                out.add(&b.reshape([1, o, 1, 1])?)
            }
        }
    }

    fn pool_columns(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
        pad: f64,
        op: &'static str,
    ) -> Result<(Tensor, Im2ColSpec)> {
        let spec = spec_for(self, kernel, stride, padding, op)?;
        if padding.0 > kernel.0 / 2 || padding.1 > kernel.1 / 2 {
            return Err(Error::invalid(
                op,
                format!("padding {padding:?} must be at most half the kernel {kernel:?}"),
            ));
        }
        let (n, c, h, w) = (spec.n, spec.c, spec.h, spec.w);
        let cols = self.reshape([n * c, 1, h, w])?.im2col(kernel, stride, padding, pad)?;
        Ok((cols, spec))
    }

    /// Max pooling; padded taps never win. Gradients go to the first maximum.
    ///
    /// # Shapes
    /// `(N, C, H, W)` to `(N, C, (H + 2p - k) / s + 1, (W + 2p - k) / s + 1)`.
    pub fn max_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        let (cols, s) = self.pool_columns(kernel, stride, padding, f64::NEG_INFINITY, "max_pool2d")?;
        cols.max_dim(1usize, false)?.reshape([s.n, s.c, s.out_h(), s.out_w()])
    }

    /// Average pooling; padded taps count as zeros (PyTorch's `count_include_pad=True`).
    ///
    /// # Shapes
    /// `(N, C, H, W)` to `(N, C, (H + 2p - k) / s + 1, (W + 2p - k) / s + 1)`.
    pub fn avg_pool2d(
        &self,
        kernel: (usize, usize),
        stride: (usize, usize),
        padding: (usize, usize),
    ) -> Result<Tensor> {
        let (cols, s) = self.pool_columns(kernel, stride, padding, 0.0, "avg_pool2d")?;
        cols.mean_dim(1usize, false)?.reshape([s.n, s.c, s.out_h(), s.out_w()])
    }
}
