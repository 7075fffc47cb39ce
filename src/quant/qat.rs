//! Quantization-aware training: `Linear` and `Conv2d` layers that train in
//! f32 while seeing their weights and inputs on the int8 grids the quantized
//! layers will use, then `convert_qat` to the int8 model.

use super::fake_quant::{fake_quantize_activation, fake_quantize_weight, map_of};
use super::{QuantizedConv2d, QuantizedLinear};
use crate::nn::{Conv2d, Forward, LayerConfig, Linear, Module, Sequential};
use crate::{Conv2dArgs, DType, Device, Error, Result, Tensor};
use std::collections::HashMap;

/// PyTorch's `MovingAverageMinMaxObserver` averaging constant: each training
/// batch moves the observed range 1% of the way to its own.
const AVERAGING: f32 = 0.01;

/// The input range a QAT layer has seen: `[lo, hi, seen]` in one F32 buffer
/// (`seen` 0 until the first training batch), updated in training mode.
fn observe(range: &Tensor, x: &Tensor) -> Result<()> {
    let (lo, hi) = crate::no_grad(|| -> Result<(f32, f32)> {
        let x = x.detach().to_dtype(DType::F32)?;
        Ok((x.min_all()?.to_vec::<f32>()?[0], x.max_all()?.to_vec::<f32>()?[0]))
    })?;
    if !lo.is_finite() || !hi.is_finite() {
        return Err(Error::invalid(
            "QAT observer",
            format!("the input holds non-finite values (range {lo} .. {hi})"),
        ));
    }
    let r = range.to_vec::<f32>()?;
    let next = if r[2] == 0.0 {
        [lo, hi, 1.0]
    } else {
        [r[0] + AVERAGING * (lo - r[0]), r[1] + AVERAGING * (hi - r[1]), 1.0]
    };
    range.set_data(&Tensor::from_vec(next.to_vec(), 3, &Device::cpu())?.to_device(&range.device())?)
}

/// The input fake-quantized with the observed range (unchanged before any
/// training batch was seen).
fn fake_input(range: &Tensor, x: &Tensor) -> Result<Tensor> {
    let r = range.to_vec::<f32>()?;
    if r[2] == 0.0 || x.elem_count() == 0 {
        return Ok(x.clone());
    }
    let map = map_of(r[0], r[1]);
    fake_quantize_activation(x, map.scale, map.zero_point)
}

fn new_range(device: &Device) -> Result<Tensor> {
    Tensor::zeros(3, DType::F32, device)
}

/// A `Linear` trained with fake-quantized weights (per output channel) and
/// inputs (per tensor, range from a moving average of training batches).
///
/// # Shapes
/// As [`Linear`]: `(*, in_features)` to `(*, out_features)`.
///
/// # Tensors
/// Parameters `weight`, `bias` (as `Linear`); buffer `input_range` F32
/// `[lo, hi, seen]`.
#[derive(Debug)]
pub struct QatLinear {
    weight: Tensor,
    bias: Option<Tensor>,
    input_range: Tensor,
    training: bool,
}

impl QatLinear {
    /// A QAT layer training `linear`'s own parameters (shared, not copied).
    pub fn from_linear(linear: &Linear) -> Result<QatLinear> {
        linear.validate()?;
        Ok(QatLinear {
            weight: linear.weight().clone(),
            bias: linear.bias().cloned(),
            input_range: new_range(&linear.weight().device())?,
            training: true,
        })
    }

    /// A fresh layer for a configuration (weights to be loaded).
    pub fn try_new(in_features: usize, out_features: usize, bias: bool) -> Result<QatLinear> {
        QatLinear::from_linear(&Linear::try_new(in_features, out_features, bias)?)
    }

    /// The int8 layer with the weights and input range learnt.
    pub fn convert(&self) -> Result<QuantizedLinear> {
        let r = self.input_range.to_vec::<f32>()?;
        let fc = Linear::from_tensors(self.weight.detach(), self.bias.as_ref().map(|b| b.detach()))?;
        let q = QuantizedLinear::from_linear(&fc)?;
        if r[2] == 0.0 {
            Ok(q)
        } else {
            q.with_input_map(map_of(r[0], r[1]))
        }
    }
}

impl Module for QatLinear {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        crate::nn::module_weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        vec![("input_range".to_string(), self.input_range.clone())]
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.weight = f(&self.weight)?;
        if let Some(b) = &mut self.bias {
            *b = f(b)?;
        }
        self.input_range = f(&self.input_range)?;
        Ok(())
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn config(&self) -> Result<LayerConfig> {
        Ok(LayerConfig::QatLinear {
            in_features: self.weight.dims()[1],
            out_features: self.weight.dims()[0],
            bias: self.bias.is_some(),
        })
    }
}

impl Forward for QatLinear {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if self.training {
            observe(&self.input_range, x)?;
        }
        let x = fake_input(&self.input_range, x)?;
        crate::nn::functional::linear(&x, &fake_quantize_weight(&self.weight)?, self.bias.as_ref())
    }
}

/// A `Conv2d` (one group, no dilation) trained with fake-quantized weights
/// (per output channel) and inputs (per tensor, moving-average range).
///
/// # Shapes
/// As [`Conv2d`]: `(N, C, H, W)` to `(N, O, OH, OW)`.
///
/// # Tensors
/// Parameters `weight`, `bias`; buffer `input_range` F32 `[lo, hi, seen]`.
#[derive(Debug)]
pub struct QatConv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    input_range: Tensor,
    stride: [usize; 2],
    padding: [usize; 2],
    training: bool,
}

impl QatConv2d {
    /// A QAT layer training `conv`'s own parameters; an error for grouped
    /// or dilated convolutions (which have no int8 form).
    pub fn from_conv(conv: &Conv2d) -> Result<QatConv2d> {
        let LayerConfig::Conv2d { stride, padding, .. } = conv.config()? else {
            return Err(Error::invalid(
                "QatConv2d",
                "only convolutions with one group and no dilation have an int8 form",
            ));
        };
        let p: HashMap<String, Tensor> = conv.named_parameters().into_iter().collect();
        let weight = p
            .get("weight")
            .cloned()
            .ok_or_else(|| Error::invalid("QatConv2d", "the convolution has no weight"))?;
        Ok(QatConv2d {
            input_range: new_range(&weight.device())?,
            weight,
            bias: p.get("bias").cloned(),
            stride,
            padding,
            training: true,
        })
    }

    /// The int8 layer with the weights and input range learnt (a range never
    /// observed gives the map of `[0, 0]`).
    pub fn convert(&self) -> Result<QuantizedConv2d> {
        let r = self.input_range.to_vec::<f32>()?;
        let map = if r[2] == 0.0 {
            map_of(0.0, 0.0)
        } else {
            map_of(r[0], r[1])
        };
        QuantizedConv2d::from_parts(
            &self.weight.detach(),
            self.bias.as_ref(),
            self.stride,
            self.padding,
            map,
        )
    }
}

impl Module for QatConv2d {
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        crate::nn::module_weight_and_bias(&self.weight, self.bias.as_ref())
    }

    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        vec![("input_range".to_string(), self.input_range.clone())]
    }

    fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.weight = f(&self.weight)?;
        if let Some(b) = &mut self.bias {
            *b = f(b)?;
        }
        self.input_range = f(&self.input_range)?;
        Ok(())
    }

    fn set_training(&mut self, training: bool) {
        self.training = training;
    }

    fn is_training(&self) -> bool {
        self.training
    }

    fn config(&self) -> Result<LayerConfig> {
        let d = self.weight.dims();
        Ok(LayerConfig::QatConv2d {
            in_channels: d[1],
            out_channels: d[0],
            kernel_size: [d[2], d[3]],
            stride: self.stride,
            padding: self.padding,
            bias: self.bias.is_some(),
        })
    }
}

impl Forward for QatConv2d {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if self.training {
            observe(&self.input_range, x)?;
        }
        let x = fake_input(&self.input_range, x)?;
        let args = Conv2dArgs::default().stride(self.stride).padding(self.padding);
        x.conv2d_with(&fake_quantize_weight(&self.weight)?, self.bias.as_ref(), &args)
    }
}

/// A copy of `model` whose top-level `Linear` and `Conv2d` layers are
/// [`QatLinear`] and [`QatConv2d`] (PyTorch's `prepare_qat`), starting from
/// the model's weights and in training mode: train it as any model (the
/// optimizer built on the returned model's parameters), then
/// [`convert_qat`]. An error when there is no such layer.
pub fn prepare_qat(model: &Sequential) -> Result<Sequential> {
    rewrite(model, "prepare_qat", |c| match c {
        LayerConfig::Linear {
            in_features,
            out_features,
            bias,
        } => Some(LayerConfig::QatLinear {
            in_features: *in_features,
            out_features: *out_features,
            bias: *bias,
        }),
        LayerConfig::Conv2d {
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            bias,
        } => Some(LayerConfig::QatConv2d {
            in_channels: *in_channels,
            out_channels: *out_channels,
            kernel_size: *kernel_size,
            stride: *stride,
            padding: *padding,
            bias: *bias,
        }),
        _ => None,
    })
    .map(|mut m| {
        m.train();
        m
    })
}

/// The int8 model of a QAT model (PyTorch's `convert`): each [`QatLinear`] and
/// [`QatConv2d`] becomes a [`QuantizedLinear`] / [`QuantizedConv2d`] with its
/// learnt weights and input range; other layers keep their tensors. In
/// evaluation mode.
pub fn convert_qat(model: &Sequential) -> Result<Sequential> {
    let config = model.to_config()?;
    let mut tensors: HashMap<String, Tensor> = model.named_tensors().into_iter().collect();
    let mut out_config = config.clone();
    let mut converted = 0;
    for (i, c) in config.layers.iter().enumerate() {
        let layer = model
            .layer(i)
            .ok_or_else(|| Error::invalid("convert_qat", format!("layer {i} vanished")))?;
        let by_name: HashMap<String, Tensor> = layer.named_tensors().into_iter().collect();
        let (quantized, cfg): (Vec<(String, Tensor)>, LayerConfig) = match c {
            LayerConfig::QatLinear {
                in_features,
                out_features,
                bias,
            } => {
                let mut q = QatLinear::try_new(*in_features, *out_features, *bias)?;
                q.load_named_tensors(&by_name)?;
                let q = q.convert()?;
                let cfg = q.config()?;
                (q.named_tensors(), cfg)
            }
            LayerConfig::QatConv2d { .. } => {
                let mut q = build_qat_conv(c)?;
                q.load_named_tensors(&by_name)?;
                let q = q.convert()?;
                let cfg = q.config()?;
                (q.named_tensors(), cfg)
            }
            _ => continue,
        };
        out_config.layers[i] = cfg;
        tensors.retain(|n, _| !n.starts_with(&format!("{i}.")));
        tensors.extend(quantized.into_iter().map(|(n, t)| (format!("{i}.{n}"), t)));
        converted += 1;
    }
    if converted == 0 {
        return Err(Error::invalid(
            "convert_qat",
            "the model has no QatLinear or QatConv2d layer (use prepare_qat first)",
        ));
    }
    let mut out = Sequential::from_config(&out_config, &model.device().unwrap_or(Device::Cpu))?;
    crate::no_grad(|| out.load_named_tensors(&tensors))?;
    out.eval();
    Ok(out)
}

/// A fresh [`QatConv2d`] for its configuration.
pub(crate) fn build_qat_conv(c: &LayerConfig) -> Result<QatConv2d> {
    let LayerConfig::QatConv2d {
        in_channels,
        out_channels,
        kernel_size,
        stride,
        padding,
        bias,
    } = c
    else {
        return Err(Error::invalid("QatConv2d", "not a QatConv2d configuration"));
    };
    let conv = Conv2d::try_new(*in_channels, *out_channels, *kernel_size, *stride, *padding, *bias)?;
    QatConv2d::from_conv(&conv)
}

/// Rebuilds `model` with the top-level layer configurations `swap` replaces,
/// loading every tensor by name (the QAT layers keep the original names).
fn rewrite(
    model: &Sequential,
    op: &'static str,
    swap: impl Fn(&LayerConfig) -> Option<LayerConfig>,
) -> Result<Sequential> {
    let mut config = model.to_config()?;
    let mut swapped = 0;
    for c in &mut config.layers {
        if let Some(new) = swap(c) {
            *c = new;
            swapped += 1;
        }
    }
    if swapped == 0 {
        return Err(Error::invalid(op, "the model has no top-level Linear or Conv2d layer"));
    }
    let mut out = Sequential::from_config(&config, &model.device().unwrap_or(Device::Cpu))?;
    let mut tensors: HashMap<String, Tensor> = model.named_tensors().into_iter().collect();
    for (name, t) in out.named_tensors() {
        if name.ends_with(".input_range") {
            tensors.insert(name, t);
        }
    }
    crate::no_grad(|| out.load_named_tensors(&tensors))?;
    Ok(out)
}
