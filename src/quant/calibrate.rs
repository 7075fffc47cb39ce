//! Static post-training quantization: observers of each layer's input range
//! over calibration data, and `quantize_static`.

use super::activation::AffineQuant;
use super::int8_layer::with_host_f32;
use super::{QuantizedConv2d, QuantizedLinear};
use crate::nn::{Forward, LayerConfig, Linear, Module, Sequential};
use crate::{Error, Result, Tensor};
use std::collections::HashMap;

const OP: &str = "quantize_static";

/// Values an observer keeps per calibration batch for percentiles.
const SAMPLES_PER_BATCH: usize = 1 << 16;

/// How a layer's input range is chosen from calibration data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Observer {
    /// The smallest and largest value seen (PyTorch's `MinMaxObserver`).
    MinMax,
    /// The `p`-th and `(100 - p)`-th percentiles of the values seen (`p` in
    /// `(50, 100]`, e.g. `99.99`): clips rare outliers so that the common
    /// values get a finer grid, as TensorRT's percentile calibrator does.
    /// Percentiles are taken over up to 65,536 evenly spaced values per batch.
    Percentile(f64),
}

/// The range of one layer's inputs over the calibration batches.
struct RangeObserver {
    kind: Observer,
    lo: f32,
    hi: f32,
    samples: Vec<f32>,
}

impl RangeObserver {
    fn new(kind: Observer) -> RangeObserver {
        RangeObserver {
            kind,
            lo: 0.0,
            hi: 0.0,
            samples: Vec::new(),
        }
    }

    fn observe(&mut self, layer: usize, x: &Tensor) -> Result<()> {
        with_host_f32(x, |xs| {
            if let Some(bad) = xs.iter().find(|v| !v.is_finite()) {
                return Err(Error::invalid(
                    OP,
                    format!("the calibration input of layer {layer} holds {bad}; ranges need finite values"),
                ));
            }
            for &v in xs {
                self.lo = self.lo.min(v);
                self.hi = self.hi.max(v);
            }
            if matches!(self.kind, Observer::Percentile(_)) {
                let step = xs.len().div_ceil(SAMPLES_PER_BATCH).max(1);
                self.samples
                    .try_reserve(xs.len() / step + 1)
                    .map_err(|_| Error::OutOfMemory {
                        device: crate::Device::Cpu,
                        bytes: xs.len() / step * 4,
                    })?;
                self.samples.extend(xs.iter().step_by(step));
            }
            Ok(())
        })
    }

    fn map(&mut self) -> AffineQuant {
        match self.kind {
            Observer::MinMax => AffineQuant::for_range(self.lo, self.hi),
            Observer::Percentile(p) => {
                let s = &mut self.samples;
                if s.is_empty() {
                    return AffineQuant::for_range(0.0, 0.0);
                }
                s.sort_unstable_by(f32::total_cmp);
                let at = |q: f64| s[((q / 100.0) * (s.len() - 1) as f64).round() as usize];
                AffineQuant::for_range(at(100.0 - p), at(p))
            }
        }
    }
}

/// A copy of `model` whose top-level `Linear` and `Conv2d` layers (one group,
/// no dilation) compute in int8 with input ranges calibrated on `calibration`
/// (batches as the model takes them), PyTorch's post-training static
/// quantization (`prepare`, calibration passes, `convert`). The model runs in
/// evaluation mode for the calibration and is left in its previous mode; the
/// result is in evaluation mode. Layers inside nested containers keep f32.
///
/// Errors: no calibration batch, a percentile outside `(50, 100]`, a model
/// with no layer to quantize, non-finite calibration values.
///
/// ```
/// use neurite::nn::{Forward, Linear, ReLU, Sequential};
/// use neurite::quant::{Observer, quantize_static};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut model = Sequential::new().add(Linear::new(8, 16)).add(ReLU).add(Linear::new(16, 2));
/// let batches = vec![Tensor::randn((32, 8), DType::F32, &Device::cpu())?];
/// let q = quantize_static(&mut model, &batches, Observer::MinMax)?;
/// assert_eq!(q.forward(&batches[0])?.dims(), &[32, 2]);
/// assert!(quantize_static(&mut model, &[], Observer::MinMax).is_err());
/// # Ok(()) }
/// ```
pub fn quantize_static(model: &mut Sequential, calibration: &[Tensor], observer: Observer) -> Result<Sequential> {
    if calibration.is_empty() {
        return Err(Error::invalid(
            OP,
            "static quantization needs calibration data: pass at least one input batch",
        ));
    }
    if let Observer::Percentile(p) = observer
        && !(p > 50.0 && p <= 100.0)
    {
        return Err(Error::invalid(OP, format!("percentile {p} is outside (50, 100]")));
    }
    let mut config = model.to_config()?;
    let targets: Vec<usize> = config
        .layers
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, LayerConfig::Linear { .. } | LayerConfig::Conv2d { .. }))
        .map(|(i, _)| i)
        .collect();
    if targets.is_empty() {
        return Err(Error::invalid(
            OP,
            "the model has no top-level Linear or Conv2d layer (one group, no dilation) to quantize",
        ));
    }
    let was_training = model.is_training();
    model.eval();
    let observed = calibrate(model, calibration, &targets, observer);
    model.set_training(was_training);
    let mut maps = observed?;

    let mut tensors: HashMap<String, Tensor> = model.named_tensors().into_iter().collect();
    for &i in &targets {
        let layer = model
            .layer(i)
            .ok_or_else(|| Error::invalid(OP, format!("layer {i} vanished")))?;
        let params: HashMap<String, Tensor> = layer.named_parameters().into_iter().collect();
        let weight = params
            .get("weight")
            .ok_or_else(|| Error::invalid(OP, format!("layer {i} ({}) has no weight", layer.name())))?;
        let bias = params.get("bias");
        let map = maps[i].map();
        let quantized: Vec<(String, Tensor)> = match &config.layers[i] {
            LayerConfig::Linear {
                in_features,
                out_features,
                bias: has_bias,
            } => {
                let q =
                    QuantizedLinear::from_linear(&Linear::from_tensors(weight.detach(), bias.map(|b| b.detach()))?)?
                        .with_input_map(map)?;
                config.layers[i] = LayerConfig::QuantizedLinear {
                    in_features: *in_features,
                    out_features: *out_features,
                    bias: *has_bias,
                    static_input: true,
                };
                q.named_tensors()
            }
            LayerConfig::Conv2d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                bias: has_bias,
            } => {
                let q = QuantizedConv2d::from_parts(weight, bias, *stride, *padding, map)
                    .map_err(|e| Error::invalid(OP, format!("layer {i}: {e}")))?;
                config.layers[i] = LayerConfig::QuantizedConv2d {
                    in_channels: *in_channels,
                    out_channels: *out_channels,
                    kernel_size: *kernel_size,
                    stride: *stride,
                    padding: *padding,
                    bias: *has_bias,
                };
                q.named_tensors()
            }
            // `targets` holds only the two kinds above.
            _ => continue,
        };
        tensors.retain(|n, _| !n.starts_with(&format!("{i}.")));
        tensors.extend(quantized.into_iter().map(|(n, t)| (format!("{i}.{n}"), t)));
    }
    let device = model.device().unwrap_or(crate::Device::Cpu);
    let mut out = Sequential::from_config(&config, &device)?;
    crate::no_grad(|| out.load_named_tensors(&tensors))?;
    out.eval();
    Ok(out)
}

/// Runs the calibration batches through the layers, observing the inputs of
/// the `targets`; one observer per layer index (unused ones stay empty).
fn calibrate(model: &Sequential, batches: &[Tensor], targets: &[usize], kind: Observer) -> Result<Vec<RangeObserver>> {
    let mut observers: Vec<RangeObserver> = (0..model.len()).map(|_| RangeObserver::new(kind)).collect();
    crate::no_grad(|| {
        for (b, batch) in batches.iter().enumerate() {
            let mut x = batch.clone();
            for (i, layer) in model.layers().iter().enumerate() {
                if targets.contains(&i) {
                    observers[i].observe(i, &x)?;
                }
                x = layer
                    .forward(&x)
                    .map_err(|e| Error::invalid(OP, format!("calibration batch {b}, layer {i}: {e}")))?;
            }
        }
        Ok(observers)
    })
}
