//! `Linear` with int8 weights and dynamically quantized int8 activations.

use super::activation::AffineQuant;
use super::int8_layer::{Int8Weights, PackedCache, forward_rows, host_f32, input_map, packed, with_host_f32};
use super::weight::quantize_rows;
use crate::backend::cpu::buffer;
use crate::nn::{Forward, LayerConfig, Linear, Module, assign_by_name};
use crate::shape::checked_numel;
use crate::{DType, Device, Error, Result, Tensor};
use std::sync::Arc;

const OP: &str = "QuantizedLinear";

/// `y = x @ W^T + b` computed in int8: PyTorch's dynamically quantized
/// `nn.quantized.dynamic.Linear`, made by [`super::quantize_dynamic`] or
/// [`QuantizedLinear::from_linear`].
///
/// The weight is held as int8 with one symmetric scale per output feature
/// (`W[j, :] ≈ weight_scale[j] * weight[j, :]`, `|weight| <= 127`). Each call
/// quantizes its input to int8 with the range of that input (one scale and
/// zero point for the whole tensor; or with the fixed map that static
/// quantization calibrated, [`super::quantize_static`]), multiplies with the fastest int8 kernel
/// of the CPU ([`super::Int8Kernel::best`]) into exact `i32` sums, and
/// dequantizes, adding the f32 bias. Inference only: the output carries no
/// gradient. Inputs on another device are computed on the host and the result
/// returned to their device (a cuBLAS int8 path does not exist yet).
///
/// # Shapes
/// - input: `(*, in_features)`, any float dtype
/// - output: `(*, out_features)`, the input's dtype
///
/// # Buffers
/// `weight` I8 `[out_features, in_features]`, `weight_scale` F32
/// `[out_features]`, `bias` F32 `[out_features]` (when the layer has one),
/// `input_qparams` F32 `[scale, zero_point]` (statically quantized layers):
/// a checkpoint holds about a quarter of the f32 layer's bytes.
///
/// ```
/// use neurite::nn::{Forward, Linear};
/// use neurite::quant::QuantizedLinear;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let fc = Linear::new(16, 4);
/// let q = QuantizedLinear::from_linear(&fc)?;
/// let x = Tensor::randn((2, 16), DType::F32, &Device::cpu())?;
/// let (y, y_q) = (fc.forward(&x)?.to_vec::<f32>()?, q.forward(&x)?.to_vec::<f32>()?);
/// assert!(y.iter().zip(&y_q).all(|(a, b)| (a - b).abs() < 0.05));
/// # Ok(()) }
/// ```
pub struct QuantizedLinear {
    weight: Tensor,
    weight_scale: Tensor,
    bias: Option<Tensor>,
    input_qparams: Option<Tensor>,
    prepared: PackedCache,
}

impl std::fmt::Debug for QuantizedLinear {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuantizedLinear")
            .field("in_features", &self.in_features())
            .field("out_features", &self.out_features())
            .field("bias", &self.bias.is_some())
            .field("static_input", &self.input_qparams.is_some())
            .finish()
    }
}

impl QuantizedLinear {
    /// A layer of zero weights, unit scales and zero bias, on the CPU: what a
    /// configuration builds before a checkpoint's tensors are loaded into it.
    /// An error when the weight cannot be allocated.
    pub fn try_new(in_features: usize, out_features: usize, bias: bool) -> Result<QuantizedLinear> {
        QuantizedLinear::build(in_features, out_features, bias, false)
    }

    /// [`QuantizedLinear::try_new`], with an input map buffer (`[1, 0]`) when
    /// `static_input`.
    pub(crate) fn build(
        in_features: usize,
        out_features: usize,
        bias: bool,
        static_input: bool,
    ) -> Result<QuantizedLinear> {
        crate::nn::check_layer_size(OP, "weight", &[out_features, in_features])?;
        super::int8_gemm::check_depth(OP, in_features)?;
        let dev = Device::cpu();
        Ok(QuantizedLinear {
            weight: Tensor::zeros((out_features, in_features), DType::I8, &dev)?,
            weight_scale: Tensor::ones(out_features, DType::F32, &dev)?,
            bias: if bias {
                Some(Tensor::zeros(out_features, DType::F32, &dev)?)
            } else {
                None
            },
            input_qparams: if static_input {
                Some(Tensor::from_vec(vec![1f32, 0.0], 2, &dev)?)
            } else {
                None
            },
            prepared: PackedCache::new(),
        })
    }

    /// The quantized form of `linear` (any float dtype and device; the
    /// buffers stay on its device). An error for non-finite weights or an
    /// input size beyond [`super::MAX_INT8_DEPTH`].
    pub fn from_linear(linear: &Linear) -> Result<QuantizedLinear> {
        linear.validate()?;
        let (n, k) = (linear.out_features(), linear.in_features());
        super::int8_gemm::check_depth(OP, k)?;
        let device = linear.weight().device();
        let w = host_f32(linear.weight())?;
        let (q, scales) = quantize_rows(OP, &w, n, k)?;
        let bias = match linear.bias() {
            Some(b) => Some(crate::no_grad(|| b.detach().to_dtype(DType::F32))?.to_device(&device)?),
            None => None,
        };
        Ok(QuantizedLinear {
            weight: Tensor::from_vec(q, (n, k), &Device::cpu())?.to_device(&device)?,
            weight_scale: Tensor::from_vec(scales, n, &Device::cpu())?.to_device(&device)?,
            bias,
            input_qparams: None,
            prepared: PackedCache::new(),
        })
    }

    /// This layer with its input quantized by the fixed `map` (static
    /// quantization) instead of each input's own range.
    pub(crate) fn with_input_map(mut self, map: AffineQuant) -> Result<QuantizedLinear> {
        let dev = self.weight.device();
        self.input_qparams =
            Some(Tensor::from_vec(vec![map.scale, map.zero_point as f32], 2, &Device::cpu())?.to_device(&dev)?);
        Ok(self)
    }

    /// Input features.
    pub fn in_features(&self) -> usize {
        self.weight.dims()[1]
    }

    /// Output features.
    pub fn out_features(&self) -> usize {
        self.weight.dims()[0]
    }

    /// The int8 weight, `[out_features, in_features]`.
    pub fn weight(&self) -> &Tensor {
        &self.weight
    }

    /// The scale of each output feature's weights, `[out_features]`.
    pub fn weight_scale(&self) -> &Tensor {
        &self.weight_scale
    }

    /// The f32 bias, `[out_features]`, if the layer has one.
    pub fn bias(&self) -> Option<&Tensor> {
        self.bias.as_ref()
    }

    /// The weights as f32 (`weight_scale[j] * weight[j, i]`), `[out_features,
    /// in_features]` on the host: what the layer computes with, for comparisons.
    pub fn dequantized_weight(&self) -> Result<Tensor> {
        let (n, k) = (self.out_features(), self.in_features());
        let scales = host_f32(&self.weight_scale)?;
        let q = self.weight.to_vec::<i8>()?;
        let w = buffer::collect(
            q.len(),
            q.iter().enumerate().map(|(i, &v)| v as f32 * scales[i / k.max(1)]),
        )?;
        Tensor::from_vec(w, (n, k), &Device::cpu())
    }

    fn prepared(&self) -> Result<Arc<Int8Weights>> {
        let (n, k) = (self.out_features(), self.in_features());
        packed(
            &self.prepared,
            &self.weight,
            n,
            k,
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
        if let Some(q) = &self.input_qparams {
            t.push(("input_qparams".to_string(), q.clone()));
        }
        t
    }
}

impl Module for QuantizedLinear {
    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        self.own_tensors()
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.prepared = PackedCache::new();
        self.weight = f(&self.weight)?;
        self.weight_scale = f(&self.weight_scale)?;
        for t in [&mut self.bias, &mut self.input_qparams].into_iter().flatten() {
            *t = f(t)?;
        }
        Ok(())
    }

    fn assign_named(&mut self, name: &str, value: &Tensor) -> Result<()> {
        self.prepared = PackedCache::new();
        assign_by_name(&self.own_tensors(), name, value, OP)
    }

    fn to_dtype(&mut self, dtype: DType) -> Result<()> {
        // The int8 weight and its f32 scales are the layer's format, not a
        // float parameter to cast: casting them would lose the quantization.
        if !dtype.is_float() {
            return Err(Error::invalid(
                "Module::to_dtype",
                format!("parameters need a floating-point dtype, got {dtype}"),
            ));
        }
        Ok(())
    }

    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::QuantizedLinear {
            in_features: self.in_features(),
            out_features: self.out_features(),
            bias: self.bias.is_some(),
            static_input: self.input_qparams.is_some(),
        })
    }
}

impl Forward for QuantizedLinear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let (n, k) = (self.out_features(), self.in_features());
        let dims = x.dims();
        if dims.last() != Some(&k) || !x.dtype().is_float() {
            return Err(Error::invalid(
                OP,
                format!(
                    "expected a float input of shape (*, {k}), got {} {}",
                    x.dtype(),
                    x.shape()
                ),
            ));
        }
        let m = checked_numel(&dims[..dims.len() - 1], OP)?;
        let mut out_dims = dims.to_vec();
        *out_dims.last_mut().expect("rank checked above") = n;
        let p = self.prepared()?;
        let y = with_host_f32(x, |xs| {
            forward_rows(&p, xs, m, input_map(OP, self.input_qparams.as_ref(), xs)?)
        })?;
        let y = Tensor::from_vec(y, out_dims, &Device::cpu())?;
        let y = if x.dtype() == DType::F32 {
            y
        } else {
            y.to_dtype(x.dtype())?
        };
        y.to_device(&x.device())
    }
}
