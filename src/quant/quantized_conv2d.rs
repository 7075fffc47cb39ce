//! `Conv2d` with int8 weights and a calibrated int8 input map.

use super::activation::AffineQuant;
use super::int8_layer::{Int8Weights, PackedCache, forward_rows, host_f32, input_map, packed, with_host_f32};
use super::weight::quantize_rows;
use crate::nn::{Forward, LayerConfig, Module, assign_by_name};
use crate::{DType, Device, Error, Result, Tensor};
use std::sync::Arc;

const OP: &str = "QuantizedConv2d";

/// A 2-D convolution computed in int8 (PyTorch's statically quantized
/// `nn.quantized.Conv2d`), made by [`super::quantize_static`]: int8 weights
/// with one symmetric scale per output channel, the input quantized with the
/// scale and zero point calibrated on sample data, an exact int8 product of
/// the unfolded patches (im2col) and the weights, and an f32 bias. One group,
/// no dilation. Inference only: the output carries no gradient; inputs on
/// another device are computed on the host and the result returned there.
///
/// # Shapes
/// - input: `(N, in_channels, H, W)`, any float dtype
/// - output: `(N, out_channels, OH, OW)` as for `Conv2d`, the input's dtype
///
/// # Buffers
/// `weight` I8 `[out, in, kh, kw]`, `weight_scale` F32 `[out]`, `bias` F32
/// `[out]` (when present), `input_qparams` F32 `[scale, zero_point]`.
pub struct QuantizedConv2d {
    weight: Tensor,
    weight_scale: Tensor,
    bias: Option<Tensor>,
    input_qparams: Tensor,
    stride: [usize; 2],
    padding: [usize; 2],
    prepared: PackedCache,
}

impl std::fmt::Debug for QuantizedConv2d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuantizedConv2d")
            .field("weight", &self.weight.dims())
            .field("stride", &self.stride)
            .field("padding", &self.padding)
            .field("bias", &self.bias.is_some())
            .finish()
    }
}

impl QuantizedConv2d {
    /// A layer of zero weights, unit scales, zero bias and the map `[1, 0]`,
    /// on the CPU: what a configuration builds before a checkpoint's tensors
    /// are loaded into it.
    pub fn try_new(
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        bias: bool,
    ) -> Result<QuantizedConv2d> {
        let [kh, kw] = kernel_size;
        let dims = [out_channels, in_channels, kh, kw];
        crate::nn::check_layer_size(OP, "weight", &dims)?;
        super::int8_gemm::check_depth(OP, in_channels * kh * kw)?;
        if kh == 0 || kw == 0 || stride.contains(&0) {
            return Err(Error::invalid(
                OP,
                format!("kernel {kernel_size:?} and stride {stride:?} must be positive"),
            ));
        }
        let dev = Device::cpu();
        Ok(QuantizedConv2d {
            weight: Tensor::zeros(dims.to_vec(), DType::I8, &dev)?,
            weight_scale: Tensor::ones(out_channels, DType::F32, &dev)?,
            bias: if bias {
                Some(Tensor::zeros(out_channels, DType::F32, &dev)?)
            } else {
                None
            },
            input_qparams: Tensor::from_vec(vec![1f32, 0.0], 2, &dev)?,
            stride,
            padding,
            prepared: PackedCache::new(),
        })
    }

    /// The quantized form of a convolution's `weight` `[out, in, kh, kw]` and
    /// `bias`, with the input map `map` found by calibration. An error for
    /// non-finite weights or patches deeper than [`super::MAX_INT8_DEPTH`].
    pub(crate) fn from_parts(
        weight: &Tensor,
        bias: Option<&Tensor>,
        stride: [usize; 2],
        padding: [usize; 2],
        map: AffineQuant,
    ) -> Result<QuantizedConv2d> {
        let dims = weight.dims().to_vec();
        if dims.len() != 4 {
            return Err(Error::invalid(
                OP,
                format!("expected a 4-D weight, got shape {:?}", dims),
            ));
        }
        let (n, k) = (dims[0], dims[1] * dims[2] * dims[3]);
        super::int8_gemm::check_depth(OP, k)?;
        let device = weight.device();
        let (q, scales) = quantize_rows(OP, &host_f32(weight)?, n, k)?;
        let bias = match bias {
            Some(b) => Some(crate::no_grad(|| b.detach().to_dtype(DType::F32))?.to_device(&device)?),
            None => None,
        };
        let cpu = Device::cpu();
        Ok(QuantizedConv2d {
            weight: Tensor::from_vec(q, dims, &cpu)?.to_device(&device)?,
            weight_scale: Tensor::from_vec(scales, n, &cpu)?.to_device(&device)?,
            bias,
            input_qparams: Tensor::from_vec(vec![map.scale, map.zero_point as f32], 2, &cpu)?.to_device(&device)?,
            stride,
            padding,
            prepared: PackedCache::new(),
        })
    }

    /// The int8 weight, `[out, in, kh, kw]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The scale of each output channel's weights, `[out]`.
    pub fn weight_scale(&self) -> &Tensor {
        &self.weight_scale
    }

    fn dims(&self) -> [usize; 4] {
        let d = self.weight.dims();
        [d[0], d[1], d[2], d[3]]
    }

    fn prepared(&self) -> Result<Arc<Int8Weights>> {
        let [o, c, kh, kw] = self.dims();
        packed(
            &self.prepared,
            &self.weight,
            o,
            c * kh * kw,
            &self.weight_scale,
            self.bias.as_ref(),
        )
    }

    fn own_tensors(&self) -> Vec<(String, Tensor)> {
        let mut t = vec![
            ("weight".to_string(), self.weight.clone()),
            ("weight_scale".to_string(), self.weight_scale.clone()),
        ];
        if let Some(b) = &self.bias {
            t.push(("bias".to_string(), b.clone()));
        }
        t.push(("input_qparams".to_string(), self.input_qparams.clone()));
        t
    }
}

impl Module for QuantizedConv2d {
    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        self.own_tensors()
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.prepared = PackedCache::new();
        self.weight = f(&self.weight)?;
        self.weight_scale = f(&self.weight_scale)?;
        self.input_qparams = f(&self.input_qparams)?;
        if let Some(b) = &mut self.bias {
            *b = f(b)?;
        }
        Ok(())
    }

    fn assign_named(&mut self, name: &str, value: &Tensor) -> Result<()> {
        self.prepared = PackedCache::new();
        assign_by_name(&self.own_tensors(), name, value, OP)
    }

    fn to_dtype(&mut self, dtype: DType) -> Result<()> {
        // The int8 weight and its f32 scales are the layer's format: casting
        // them would lose the quantization.
        if !dtype.is_float() {
            return Err(Error::invalid(
                "Module::to_dtype",
                format!("parameters need a floating-point dtype, got {dtype}"),
            ));
        }
        Ok(())
    }

    fn config(&self) -> Result<LayerConfig> {
        let [o, c, kh, kw] = self.dims();
        Ok(LayerConfig::QuantizedConv2d {
            in_channels: c,
            out_channels: o,
            kernel_size: [kh, kw],
            stride: self.stride,
            padding: self.padding,
            bias: self.bias.is_some(),
        })
    }
}

impl Forward for QuantizedConv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let [o, c, kh, kw] = self.dims();
        if x.rank() != 4 || x.dims()[1] != c || !x.dtype().is_float() {
            return Err(Error::invalid(
                OP,
                format!(
                    "expected a float input of shape (N, {c}, H, W), got {} {}",
                    x.dtype(),
                    x.shape()
                ),
            ));
        }
        let n = x.dims()[0];
        let p = self.prepared()?;
        let (s, pad) = (self.stride, self.padding);
        // Patches as rows `[N * OH * OW, C * kh * kw]`: the left operand of
        // the weight product. Zero padding is exact on the int8 grid (the
        // calibrated range holds 0).
        let (rows, oh, ow) = crate::no_grad(|| -> Result<(Tensor, usize, usize)> {
            let x32 = x.detach().to_device(&Device::cpu())?.to_dtype(DType::F32)?;
            let cols = x32.im2col((kh, kw), (s[0], s[1]), (pad[0], pad[1]), 0.0)?;
            // im2col validated these sizes (the padded input holds the kernel).
            let (h, w) = (x.dims()[2], x.dims()[3]);
            let oh = (h + 2 * pad[0] - kh) / s[0] + 1;
            let ow = (w + 2 * pad[1] - kw) / s[1] + 1;
            Ok((cols.transpose(1, 2)?.contiguous()?, oh, ow))
        })?;
        let m = rows.dims()[0] * rows.dims()[1];
        let y = with_host_f32(&rows, |xs| {
            forward_rows(&p, xs, m, input_map(OP, Some(&self.input_qparams), xs)?)
        })?;
        let y = crate::no_grad(|| {
            Tensor::from_vec(y, (n, oh * ow, o), &Device::cpu())?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((n, o, oh, ow))
        })?;
        let y = if x.dtype() == DType::F32 {
            y
        } else {
            y.to_dtype(x.dtype())?
        };
        y.to_device(&x.device())
    }
}
