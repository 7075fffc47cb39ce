//! Neural-network building blocks: the [`Module`] trait, [`Sequential`],
//! layers and initialisers ([`init`]).
//!
//! # Conventions
//! - **Layouts and names follow PyTorch**: a `Linear` weight is `[out, in]`, a
//!   `Conv2d` weight `[out, in, kh, kw]`; inside a `Sequential` tensors are
//!   named `"0.weight"`, `"2.running_mean"`, so weights move between the two
//!   frameworks by name.
//! - **Creation**: layers are created on the CPU in `f32` with PyTorch's
//!   default initialisation; move a finished model with
//!   [`Sequential::into_device`] or [`Module::to_device`] before building its
//!   optimizer.
//! - **Hyperparameters never panic**: `new` constructors and `with_*` builders
//!   always succeed, and invalid values (a zero kernel, a dropout probability
//!   outside `[0, 1]`, sizes whose parameters cannot be allocated) are
//!   reported as an [`crate::Error`] by the first `forward` (and by `config`).
//!   Every layer with such hyperparameters also has a `try_new` and a
//!   `validate` that report them at once, and [`Sequential::from_config`]
//!   validates every layer it builds. A layer whose parameters could not be
//!   created holds zero-element placeholders in their place.
//! - **Mode is explicit**: [`Module::train`] / [`Module::eval`]; only Dropout
//!   and BatchNorm depend on it.
//! - **Rebuilding with no code**: [`Sequential::to_config`] gives a
//!   serializable [`SequentialConfig`]; [`Sequential::from_config`] rebuilds
//!   the architecture and [`Module::load_named_tensors`] loads the weights,
//!   reporting every missing, unexpected or mismatched tensor in one error.
//!   Custom modules join through [`register_layer`] (see [`config`]).
//!
//! ```
//! use neurite::nn::{BatchNorm1d, Dropout, Linear, Module, ReLU, Sequential};
//! # fn main() -> neurite::Result<()> {
//! let mut model = Sequential::new()
//!     .add(Linear::new(10, 16))
//!     .add(BatchNorm1d::new(16))
//!     .add(ReLU)
//!     .add(Dropout::new(0.2))
//!     .add(Linear::new(16, 1));
//! println!("{}", model.summary(&[1, 10])?);
//! model.eval();
//! let cfg = serde_json::to_string(&model.to_config()?).unwrap();
//! let mut copy = Sequential::from_config(&serde_json::from_str(&cfg).unwrap(), &neurite::Device::cpu())?;
//! copy.load_named_tensors(&model.named_tensors().into_iter().collect())?;
//! # Ok(()) }
//! ```

mod activation;
mod adaptive_pool;
mod attention;
mod avg_pool2d;
mod batch_norm;
mod boxed;
pub mod config;
mod configurable;
mod conv1d;
mod conv2d;
mod conv_transpose2d;
mod dropout;
mod dropout_channels;
mod embedding;
mod ensemble;
mod field;
mod flatten;
mod forward;
pub mod functional;
mod fuse_sequential;
mod fusion;
mod given;
mod group_norm;
mod identity;
pub mod init;
mod instance_norm;
mod layer_norm;
mod linear;
mod load;
mod max_pool2d;
mod max_unpool2d;
mod module;
mod module_dict;
mod module_list;
mod normalization;
mod padding;
mod params;
mod pool;
pub mod prune;
mod rnn;
mod sequential;
mod size2;
mod softmax;
mod summary;
mod unflatten;

pub use activation::SiLU;
pub use activation::{GELU, LeakyReLU, ReLU, Sigmoid, Tanh};
pub use attention::{
    EncoderNormConfig, MultiheadAttention, MultiheadAttentionConfig, TransformerActivation, TransformerEncoder,
    TransformerEncoderConfig, TransformerEncoderLayer, TransformerEncoderLayerConfig,
};
mod upsample;

pub use adaptive_pool::{AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d};
pub use avg_pool2d::AvgPool2d;
pub use batch_norm::{BatchNorm1d, BatchNorm2d};
pub use config::{LayerConfig, LayerConstructor, SequentialConfig, is_layer_registered, register_layer};
pub use configurable::{Configurable, build_from_config, layer_config_of, register_configurable};
pub use conv_transpose2d::ConvTranspose2d;
pub use conv1d::Conv1d;
pub use conv2d::Conv2d;
pub use dropout::Dropout;
pub use dropout_channels::{Dropout1d, Dropout2d};
pub use embedding::Embedding;
pub use ensemble::{Combine, Ensemble};
pub use field::ModuleField;
pub use flatten::Flatten;
pub use forward::Forward;
pub use fuse_sequential::fuse_batch_norms;
pub use fusion::{fuse_conv_bn_eval, fuse_linear_bn_eval};
pub use group_norm::GroupNorm;
pub use identity::Identity;
pub use instance_norm::InstanceNorm2d;
pub use layer_norm::LayerNorm;
pub use linear::Linear;
pub use load::{LoadReport, assign_by_name};
pub use max_pool2d::MaxPool2d;
pub use max_unpool2d::MaxUnpool2d;
pub use module::Module;
pub(crate) use module::weight_and_bias as module_weight_and_bias;
pub use module_dict::ModuleDict;
pub use module_list::ModuleList;
/// `#[derive(Module)]`: implements [`Module`] from a struct's fields (submodules,
/// tensors, and `Vec`/`Option`/`Box` of them), under PyTorch's dotted names.
/// Options: `#[module(skip)]`, `#[module(buffer)]`, `#[module(param)]`,
/// `#[module(rename = "name")]` on fields, `#[module(config)]` on the struct.
/// The call is written by hand, as a [`Forward`] impl or any method.
///
/// ```
/// use neurite::nn::{BatchNorm1d, Dropout, Forward, Linear, Module};
/// use neurite::{DType, Device, Result, Tensor};
///
/// #[derive(Module)]
/// struct Mlp {
///     fc1: Linear,
///     bn: BatchNorm1d,
///     drop: Dropout,
///     fc2: Option<Linear>,
///     #[module(skip)]
///     hidden: usize,
/// }
///
/// impl Forward for Mlp {
///     fn forward(&self, x: &Tensor) -> Result<Tensor> {
///         let h = self.drop.forward(&self.bn.forward(&self.fc1.forward(x)?)?.relu()?)?;
///         match &self.fc2 {
///             Some(fc2) => fc2.forward(&h),
///             None => Ok(h),
///         }
///     }
/// }
///
/// # fn main() -> Result<()> {
/// let mut m = Mlp { fc1: Linear::new(3, 8), bn: BatchNorm1d::new(8), drop: Dropout::new(0.1), fc2: None, hidden: 8 };
/// let names: Vec<String> = m.named_tensors().into_iter().map(|(n, _)| n).collect();
/// assert_eq!(names[..4], ["fc1.weight", "fc1.bias", "bn.weight", "bn.bias"]);
/// assert_eq!(names[4], "bn.running_mean");
/// m.eval();
/// assert_eq!(m.forward(&Tensor::ones((2, 3), DType::F32, &Device::cpu())?)?.dims(), &[2, m.hidden]);
/// # Ok(()) }
/// ```
pub use neurite_derive::Module;
pub use normalization::Normalization;
pub use padding::{
    CircularPad1d, CircularPad2d, ConstantPad1d, ConstantPad2d, IntoPadding, ReflectionPad1d, ReflectionPad2d,
    ReplicationPad1d, ReplicationPad2d, ZeroPad1d, ZeroPad2d,
};
pub(crate) use params::check_size as check_layer_size;
pub use rnn::{GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, RecurrentConfig, RnnNonlinearity};
pub use sequential::Sequential;
pub use size2::IntoSize2;
pub use softmax::{LogSoftmax, Softmax};
pub use unflatten::Unflatten;
pub use upsample::Upsample;
