//! Serializable layer configurations, and the registry that lets custom
//! modules be rebuilt from them.
//!
//! A configuration holds a layer's hyperparameters, never its weights: a model
//! is rebuilt with [`super::Sequential::from_config`] (fresh initialisation) and
//! its weights are then loaded by name with [`Module::load_named_tensors`].
//!
//! # Custom modules
//! A user-defined module's [`Module::config`] returns
//! `LayerConfig::Custom { name, params }`, where `params` is any JSON value the
//! module needs. Before rebuilding, register a constructor under that name:
//!
//! ```
//! use neurite::nn::{register_layer, Forward, LayerConfig, Module, Sequential, Linear};
//! use neurite::{Device, Result, Tensor};
//!
//! /// `x * factor`.
//! struct Scale(f64);
//! impl Forward for Scale {
//!     fn forward(&self, x: &Tensor) -> Result<Tensor> { x.mul_scalar(self.0) }
//! }
//! impl Module for Scale {
//!     fn config(&self) -> Result<LayerConfig> {
//!         Ok(LayerConfig::Custom { name: "Scale".into(), params: serde_json::json!({ "factor": self.0 }) })
//!     }
//! }
//!
//! # fn main() -> Result<()> {
//! register_layer("Scale", |params| {
//!     let factor = params["factor"].as_f64().ok_or_else(|| neurite::Error::invalid("Scale", "no factor"))?;
//!     Ok(Box::new(Scale(factor)))
//! });
//! let model = Sequential::new().add(Linear::new(2, 2)).add(Scale(0.5));
//! let json = serde_json::to_string(&model.to_config()?).unwrap();
//! let rebuilt = Sequential::from_config(&serde_json::from_str(&json).unwrap(), &Device::cpu())?;
//! assert_eq!(rebuilt.layer(1).unwrap().name(), "Scale");
//! # Ok(()) }
//! ```

use super::SiLU;
use super::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, Flatten, Forward, GELU, LayerNorm, LeakyReLU,
    Linear, LogSoftmax, MaxPool2d, Normalization, ReLU, Sequential, Sigmoid, Softmax, Tanh,
};
use super::{Conv1d, ConvTranspose2d, MaxUnpool2d};
use super::{
    Dropout1d, Dropout2d, GRU, GRUCell, GroupNorm, Identity, InstanceNorm2d, LSTM, LSTMCell, RNN, RNNCell,
    RecurrentConfig, RnnNonlinearity, Unflatten,
};
use crate::{Device, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// The hyperparameters of one layer; one variant per built-in layer, plus
/// nested [`Sequential`]s and registered custom modules.
///
/// Serialized with serde (externally tagged: `{"Linear": {...}}`, `"ReLU"`),
/// so it works with JSON and with binary formats such as bincode.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LayerConfig {
    /// [`Linear`].
    Linear {
        in_features: usize,
        out_features: usize,
        bias: bool,
    },
    /// [`Conv2d`]; sizes are `[height, width]`.
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        bias: bool,
    },
    /// [`MaxPool2d`].
    MaxPool2d {
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    },
    /// [`AvgPool2d`].
    AvgPool2d {
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    },
    /// [`Flatten`].
    Flatten { start_dim: i64, end_dim: i64 },
    /// [`ReLU`].
    ReLU,
    /// [`LeakyReLU`].
    LeakyReLU { negative_slope: f64 },
    /// [`Sigmoid`].
    Sigmoid,
    /// [`Tanh`].
    Tanh,
    /// [`GELU`] (exact erf form).
    GELU,
    /// [`Softmax`].
    Softmax { dim: i64 },
    /// [`LogSoftmax`].
    LogSoftmax { dim: i64 },
    /// [`Dropout`].
    Dropout { p: f64 },
    /// [`BatchNorm1d`]; `momentum: None` is the cumulative average.
    BatchNorm1d {
        num_features: usize,
        eps: f64,
        momentum: Option<f64>,
        affine: bool,
    },
    /// [`BatchNorm2d`]; `momentum: None` is the cumulative average.
    BatchNorm2d {
        num_features: usize,
        eps: f64,
        momentum: Option<f64>,
        affine: bool,
    },
    /// [`LayerNorm`].
    LayerNorm {
        normalized_shape: Vec<usize>,
        eps: f64,
        elementwise_affine: bool,
    },
    /// [`Embedding`].
    Embedding {
        num_embeddings: usize,
        embedding_dim: usize,
    },
    /// A nested [`Sequential`].
    Sequential(SequentialConfig),
    /// A user-defined module, rebuilt by the constructor registered under
    /// `name` with [`register_layer`].
    Custom {
        name: String,
        /// Stored as a JSON value in human-readable formats and as a JSON
        /// string in binary ones (which cannot hold self-describing values).
        #[serde(with = "json_param")]
        params: serde_json::Value,
    },
    /// [`Normalization`] (added last: bincode numbers variants by position).
    Normalization { axis: Option<i64>, num_features: usize },
    /// [`SiLU`] (added after `Normalization`: bincode numbers variants by position).
    SiLU,
    /// [`GELU`] with an `approximate` other than `"none"` (which is [`LayerConfig::GELU`],
    /// kept so that older checkpoints still load); validated when built.
    GELUApproximate { approximate: String },
    /// [`Conv2d`] with dilation or groups (one group and no dilation use
    /// [`LayerConfig::Conv2d`], which older checkpoints hold).
    Conv2dFull {
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        groups: usize,
        bias: bool,
    },
    /// [`MaxPool2d`] with dilation or `ceil_mode` (otherwise [`LayerConfig::MaxPool2d`]).
    MaxPool2dFull {
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        ceil_mode: bool,
    },
    /// [`AvgPool2d`] with `ceil_mode`, `count_include_pad=false` or a
    /// `divisor_override` (otherwise [`LayerConfig::AvgPool2d`]).
    AvgPool2dFull {
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        ceil_mode: bool,
        count_include_pad: bool,
        divisor_override: Option<usize>,
    },
    /// [`Conv1d`].
    Conv1d {
        in_channels: usize,
        out_channels: usize,
        kernel_size: usize,
        stride: usize,
        padding: usize,
        dilation: usize,
        groups: usize,
        bias: bool,
    },
    /// [`ConvTranspose2d`].
    ConvTranspose2d {
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        output_padding: [usize; 2],
        groups: usize,
        bias: bool,
        dilation: [usize; 2],
    },
    /// [`MaxUnpool2d`].
    MaxUnpool2d {
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    },
    /// [`GroupNorm`].
    GroupNorm {
        num_groups: usize,
        num_channels: usize,
        eps: f64,
        affine: bool,
    },
    /// [`InstanceNorm2d`]; `momentum: None` is the cumulative average.
    InstanceNorm2d {
        num_features: usize,
        eps: f64,
        momentum: Option<f64>,
        affine: bool,
        track_running_stats: bool,
    },
    /// [`Identity`].
    Identity,
    /// [`Dropout1d`].
    Dropout1d { p: f64 },
    /// [`Dropout2d`].
    Dropout2d { p: f64 },
    /// [`Unflatten`].
    Unflatten { dim: i64, sizes: Vec<usize> },
    /// [`RNN`].
    RNN {
        config: RecurrentConfig,
        nonlinearity: RnnNonlinearity,
    },
    /// [`LSTM`].
    LSTM(RecurrentConfig),
    /// [`GRU`].
    GRU(RecurrentConfig),
    /// [`RNNCell`].
    RNNCell {
        input_size: usize,
        hidden_size: usize,
        bias: bool,
        nonlinearity: RnnNonlinearity,
    },
    /// [`LSTMCell`].
    LSTMCell {
        input_size: usize,
        hidden_size: usize,
        bias: bool,
    },
    /// [`GRUCell`].
    GRUCell {
        input_size: usize,
        hidden_size: usize,
        bias: bool,
    },
    /// A padding layer ([`super::ZeroPad2d`], [`super::ReflectionPad1d`], ...)
    /// named by `layer`; pads last dim first, `value` for the constant ones.
    Padding {
        layer: String,
        padding: Vec<i64>,
        value: f64,
    },
    /// [`super::Upsample`]; `mode` by PyTorch's name.
    Upsample {
        size: Option<Vec<usize>>,
        scale_factor: Option<Vec<f64>>,
        mode: String,
        align_corners: Option<bool>,
    },
    /// [`super::AdaptiveAvgPool2d`]; `None` keeps the input's size.
    AdaptiveAvgPool2d { output_size: [Option<usize>; 2] },
    /// [`super::AdaptiveMaxPool2d`].
    AdaptiveMaxPool2d { output_size: [Option<usize>; 2] },
    /// [`super::AdaptiveAvgPool1d`].
    AdaptiveAvgPool1d { output_size: usize },
    /// [`super::AdaptiveMaxPool1d`].
    AdaptiveMaxPool1d { output_size: usize },
    /// [`crate::quant::QuantizedLinear`] (int8 weights; its tensors come from
    /// the checkpoint); `static_input` when its input map was calibrated.
    QuantizedLinear {
        in_features: usize,
        out_features: usize,
        bias: bool,
        static_input: bool,
    },
    /// [`crate::quant::QuantizedConv2d`] (int8 weights, calibrated input map).
    QuantizedConv2d {
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        bias: bool,
    },
    /// [`crate::quant::QatLinear`] (quantization-aware training).
    QatLinear {
        in_features: usize,
        out_features: usize,
        bias: bool,
    },
    /// [`crate::quant::QatConv2d`] (quantization-aware training).
    QatConv2d {
        in_channels: usize,
        out_channels: usize,
        kernel_size: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        bias: bool,
    },
}

/// The layers of a [`Sequential`], in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SequentialConfig {
    /// One configuration per layer.
    pub layers: Vec<LayerConfig>,
}

impl LayerConfig {
    /// Builds the layer (freshly initialised, in training mode) on `device`.
    /// Hyperparameters are validated here, so a bad configuration fails now
    /// rather than at the first forward pass.
    pub fn build(&self, device: &Device) -> Result<Box<dyn Forward>> {
        let mut m = self.build_cpu()?;
        m.to_device(device)?;
        Ok(m)
    }

    fn build_cpu(&self) -> Result<Box<dyn Forward>> {
        Ok(match self {
            LayerConfig::Linear {
                in_features,
                out_features,
                bias,
            } => Box::new(Linear::try_new(*in_features, *out_features, *bias)?),
            LayerConfig::Conv2d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                bias,
            } => Box::new(Conv2d::try_new(
                *in_channels,
                *out_channels,
                *kernel_size,
                *stride,
                *padding,
                *bias,
            )?),
            LayerConfig::MaxPool2d {
                kernel_size,
                stride,
                padding,
            } => Box::new(MaxPool2d::try_new(*kernel_size, *stride, *padding)?),
            LayerConfig::AvgPool2d {
                kernel_size,
                stride,
                padding,
            } => Box::new(AvgPool2d::try_new(*kernel_size, *stride, *padding)?),
            LayerConfig::Flatten { start_dim, end_dim } => Box::new(Flatten::with_dims(*start_dim, *end_dim)),
            LayerConfig::ReLU => Box::new(ReLU),
            LayerConfig::LeakyReLU { negative_slope } => Box::new(LeakyReLU::new(*negative_slope)),
            LayerConfig::Sigmoid => Box::new(Sigmoid),
            LayerConfig::Tanh => Box::new(Tanh),
            LayerConfig::GELU => Box::new(GELU),
            LayerConfig::SiLU => Box::new(SiLU),
            LayerConfig::GELUApproximate { approximate } => Box::new(GELU::new(approximate)?),
            LayerConfig::Softmax { dim } => Box::new(Softmax::new(*dim)),
            LayerConfig::LogSoftmax { dim } => Box::new(LogSoftmax::new(*dim)),
            LayerConfig::Dropout { p } => Box::new(Dropout::try_new(*p)?),
            LayerConfig::BatchNorm1d {
                num_features,
                eps,
                momentum,
                affine,
            } => Box::new(BatchNorm1d::try_new(*num_features, *eps, *momentum, *affine)?),
            LayerConfig::BatchNorm2d {
                num_features,
                eps,
                momentum,
                affine,
            } => Box::new(BatchNorm2d::try_new(*num_features, *eps, *momentum, *affine)?),
            LayerConfig::LayerNorm {
                normalized_shape,
                eps,
                elementwise_affine,
            } => Box::new(LayerNorm::try_new(normalized_shape.clone(), *eps, *elementwise_affine)?),
            LayerConfig::Embedding {
                num_embeddings,
                embedding_dim,
            } => Box::new(Embedding::try_new(*num_embeddings, *embedding_dim)?),
            LayerConfig::Normalization { axis, num_features } => {
                Box::new(Normalization::try_new(*axis, *num_features)?)
            }
            LayerConfig::Conv2dFull {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation,
                groups,
                bias,
            } => Box::new(Conv2d::try_new_full(
                *in_channels,
                *out_channels,
                *kernel_size,
                *stride,
                *padding,
                *dilation,
                *groups,
                *bias,
            )?),
            LayerConfig::MaxPool2dFull {
                kernel_size,
                stride,
                padding,
                dilation,
                ceil_mode,
            } => {
                let p = MaxPool2d::try_new(*kernel_size, *stride, *padding)?
                    .with_dilation(*dilation)
                    .with_ceil_mode(*ceil_mode);
                p.validate()?;
                Box::new(p)
            }
            LayerConfig::AvgPool2dFull {
                kernel_size,
                stride,
                padding,
                ceil_mode,
                count_include_pad,
                divisor_override,
            } => {
                let p = AvgPool2d::try_new(*kernel_size, *stride, *padding)?
                    .with_ceil_mode(*ceil_mode)
                    .with_count_include_pad(*count_include_pad)
                    .with_divisor_override(*divisor_override);
                p.validate()?;
                Box::new(p)
            }
            LayerConfig::Conv1d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                dilation,
                groups,
                bias,
            } => Box::new(Conv1d::try_new(
                *in_channels,
                *out_channels,
                *kernel_size,
                *stride,
                *padding,
                *dilation,
                *groups,
                *bias,
            )?),
            LayerConfig::ConvTranspose2d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                output_padding,
                groups,
                bias,
                dilation,
            } => Box::new(ConvTranspose2d::try_new(
                *in_channels,
                *out_channels,
                *kernel_size,
                *stride,
                *padding,
                *output_padding,
                *groups,
                *bias,
                *dilation,
            )?),
            LayerConfig::MaxUnpool2d {
                kernel_size,
                stride,
                padding,
            } => Box::new(MaxUnpool2d::try_new(*kernel_size, *stride, *padding)?),
            LayerConfig::Padding { layer, padding, value } => super::padding::build(layer, padding, *value)?,
            LayerConfig::Upsample {
                size,
                scale_factor,
                mode,
                align_corners,
            } => Box::new(super::Upsample::new(
                size.clone(),
                scale_factor.clone(),
                mode,
                *align_corners,
            )?),
            LayerConfig::AdaptiveAvgPool2d { output_size } => Box::new(super::AdaptiveAvgPool2d::new(*output_size)),
            LayerConfig::AdaptiveMaxPool2d { output_size } => Box::new(super::AdaptiveMaxPool2d::new(*output_size)),
            LayerConfig::AdaptiveAvgPool1d { output_size } => Box::new(super::AdaptiveAvgPool1d::new(*output_size)),
            LayerConfig::AdaptiveMaxPool1d { output_size } => Box::new(super::AdaptiveMaxPool1d::new(*output_size)),
            LayerConfig::QuantizedLinear {
                in_features,
                out_features,
                bias,
                static_input,
            } => Box::new(crate::quant::QuantizedLinear::build(
                *in_features,
                *out_features,
                *bias,
                *static_input,
            )?),
            LayerConfig::QuantizedConv2d {
                in_channels,
                out_channels,
                kernel_size,
                stride,
                padding,
                bias,
            } => Box::new(crate::quant::QuantizedConv2d::try_new(
                *in_channels,
                *out_channels,
                *kernel_size,
                *stride,
                *padding,
                *bias,
            )?),
            LayerConfig::QatLinear {
                in_features,
                out_features,
                bias,
            } => Box::new(crate::quant::QatLinear::try_new(*in_features, *out_features, *bias)?),
            c @ LayerConfig::QatConv2d { .. } => Box::new(crate::quant::build_qat_conv(c)?),
            LayerConfig::Sequential(cfg) => Box::new(Sequential::from_config(cfg, &Device::Cpu)?),
            LayerConfig::GroupNorm {
                num_groups,
                num_channels,
                eps,
                affine,
            } => Box::new(GroupNorm::try_new(*num_groups, *num_channels, *eps, *affine)?),
            LayerConfig::InstanceNorm2d {
                num_features,
                eps,
                momentum,
                affine,
                track_running_stats,
            } => Box::new(InstanceNorm2d::try_new(
                *num_features,
                *eps,
                *momentum,
                *affine,
                *track_running_stats,
            )?),
            LayerConfig::Identity => Box::new(Identity),
            LayerConfig::Dropout1d { p } => Box::new(Dropout1d::try_new(*p)?),
            LayerConfig::Dropout2d { p } => Box::new(Dropout2d::try_new(*p)?),
            LayerConfig::Unflatten { dim, sizes } => Box::new(Unflatten::new(*dim, sizes.clone())),
            LayerConfig::RNN { config, nonlinearity } => Box::new(RNN::try_new(config.clone(), *nonlinearity)?),
            LayerConfig::LSTM(config) => Box::new(LSTM::try_new(config.clone())?),
            LayerConfig::GRU(config) => Box::new(GRU::try_new(config.clone())?),
            LayerConfig::RNNCell {
                input_size,
                hidden_size,
                bias,
                nonlinearity,
            } => Box::new(RNNCell::try_new(*input_size, *hidden_size, *bias, *nonlinearity)?),
            LayerConfig::LSTMCell {
                input_size,
                hidden_size,
                bias,
            } => Box::new(LSTMCell::try_new(*input_size, *hidden_size, *bias)?),
            LayerConfig::GRUCell {
                input_size,
                hidden_size,
                bias,
            } => Box::new(GRUCell::try_new(*input_size, *hidden_size, *bias)?),
            LayerConfig::Custom { name, params } => {
                let ctor = registry()
                    .read()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(name)
                    .cloned()
                    .ok_or_else(|| {
                        Error::invalid(
                            "LayerConfig::build",
                            format!(
                                "no constructor registered for custom layer {name:?}; \
                                 call neurite::nn::register_layer({name:?}, ...) first"
                            ),
                        )
                    })?;
                ctor(params)?
            }
        })
    }
}

/// Builds a custom module from its JSON parameters (on the CPU; the caller moves it).
pub type LayerConstructor = Arc<dyn Fn(&serde_json::Value) -> Result<Box<dyn Forward>> + Send + Sync>;

fn registry() -> &'static RwLock<HashMap<String, LayerConstructor>> {
    static REGISTRY: OnceLock<RwLock<HashMap<String, LayerConstructor>>> = OnceLock::new();
    REGISTRY.get_or_init(|| RwLock::new(HashMap::new()))
}

/// Registers the constructor that rebuilds `LayerConfig::Custom { name, .. }`
/// layers (process-wide). The constructor receives the `params` the module's
/// [`Module::config`] returned and builds the module on the CPU; it is moved to
/// the target device afterwards. Registering a name again replaces the old
/// constructor; returns `true` when one was replaced.
pub fn register_layer(
    name: &str,
    constructor: impl Fn(&serde_json::Value) -> Result<Box<dyn Forward>> + Send + Sync + 'static,
) -> bool {
    registry()
        .write()
        .unwrap_or_else(|e| e.into_inner())
        .insert(name.to_string(), Arc::new(constructor))
        .is_some()
}

/// True when a constructor is registered under `name`.
pub fn is_layer_registered(name: &str) -> bool {
    registry().read().unwrap_or_else(|e| e.into_inner()).contains_key(name)
}

/// Serde adapter: a JSON value as itself in human-readable formats, as a JSON
/// string in binary formats (bincode cannot deserialize self-describing data).
mod json_param {
    use serde::de::Error as _;
    use serde::ser::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};
    use serde_json::Value;

    pub fn serialize<S: Serializer>(v: &Value, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            v.serialize(s)
        } else {
            serde_json::to_string(v).map_err(S::Error::custom)?.serialize(s)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Value, D::Error> {
        if d.is_human_readable() {
            Value::deserialize(d)
        } else {
            let s = String::deserialize(d)?;
            serde_json::from_str(&s).map_err(D::Error::custom)
        }
    }
}
