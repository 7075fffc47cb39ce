//! [`Configurable`]: modules rebuilt from a serialisable configuration type.

use super::{Forward, LayerConfig, Module, register_layer};
use crate::{Device, Error, Result};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A module that can be rebuilt, freshly initialised, from a configuration
/// value of its own type: what a checkpoint needs to recreate a user's model
/// with no code (`Net::load(path, &device)`), as `Sequential::load` does for
/// built-in layers.
///
/// With `#[derive(Module)]`, add `#[module(config)]` to the struct so that its
/// [`Module::config`] is the one built from this trait (a
/// [`LayerConfig::Custom`] named [`Configurable::config_name`] holding the
/// configuration as JSON). Call [`register_configurable`] once to let a
/// [`super::Sequential`] that contains it be rebuilt too.
///
/// ```
/// use neurite::nn::{Configurable, Forward, Linear, Module};
/// use neurite::{Result, Tensor};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Debug, Serialize, Deserialize)]
/// struct MlpConfig { inputs: usize, hidden: usize, outputs: usize }
///
/// #[derive(Module)]
/// #[module(config)]
/// struct Mlp {
///     fc1: Linear,
///     fc2: Linear,
///     #[module(skip)]
///     cfg: MlpConfig,
/// }
///
/// impl Configurable for Mlp {
///     type Config = MlpConfig;
///     fn module_config(&self) -> MlpConfig { self.cfg.clone() }
///     fn from_module_config(c: &MlpConfig) -> Result<Mlp> {
///         Ok(Mlp { fc1: Linear::new(c.inputs, c.hidden), fc2: Linear::new(c.hidden, c.outputs), cfg: c.clone() })
///     }
/// }
///
/// # fn main() -> Result<()> {
/// let m = Mlp::from_module_config(&MlpConfig { inputs: 4, hidden: 8, outputs: 2 })?;
/// let rebuilt = neurite::nn::build_from_config::<Mlp>(&m.config()?, &neurite::Device::cpu())?;
/// assert_eq!(rebuilt.num_parameters(), m.num_parameters());
/// # Ok(()) }
/// ```
pub trait Configurable: Module + Sized + 'static {
    /// The hyperparameters (not the weights) that rebuild the module.
    type Config: Serialize + DeserializeOwned;

    /// This module's configuration.
    fn module_config(&self) -> Self::Config;

    /// A freshly initialised module (on the CPU, in `f32`, as layers are
    /// created) from `config`; invalid values are errors.
    fn from_module_config(config: &Self::Config) -> Result<Self>;

    /// The name its [`LayerConfig::Custom`] carries (the type's name, without
    /// its path or generic arguments, by default).
    fn config_name() -> String {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base).to_string()
    }

    /// Rebuilds a module saved with [`Module::save`] on `device`, with no code:
    /// configuration, weights, buffers and mode (see [`crate::checkpoint::load_model`]).
    fn load(path: impl AsRef<std::path::Path>, device: &Device) -> Result<Self> {
        crate::checkpoint::load_model(path, device)
    }
}

/// The [`Module::config`] of a [`Configurable`] module: a
/// [`LayerConfig::Custom`] holding its configuration as JSON.
pub fn layer_config_of<M: Configurable>(module: &M) -> Result<LayerConfig> {
    let params = serde_json::to_value(module.module_config()).map_err(|e| {
        Error::invalid(
            "Module::config",
            format!("the configuration of {} cannot be serialised: {e}", M::config_name()),
        )
    })?;
    Ok(LayerConfig::Custom {
        name: M::config_name(),
        params,
    })
}

/// Rebuilds a [`Configurable`] module from a [`LayerConfig`] on `device`
/// (freshly initialised). Errors when the configuration is for another type
/// or does not deserialise into `M::Config`.
pub fn build_from_config<M: Configurable>(config: &LayerConfig, device: &Device) -> Result<M> {
    let mut m = build_cpu::<M>(config)?;
    m.to_device(device)?;
    Ok(m)
}

fn build_cpu<M: Configurable>(config: &LayerConfig) -> Result<M> {
    const OP: &str = "build_from_config";
    let expected = M::config_name();
    match config {
        LayerConfig::Custom { name, params } if *name == expected => {
            let c: M::Config = serde_json::from_value(params.clone())
                .map_err(|e| Error::invalid(OP, format!("the configuration does not fit {expected}: {e}")))?;
            M::from_module_config(&c)
        }
        LayerConfig::Custom { name, .. } => Err(Error::invalid(
            OP,
            format!("the configuration is for {name:?}, not {expected:?}"),
        )),
        other => Err(Error::invalid(
            OP,
            format!("a {expected} needs its own configuration, got a built-in layer's ({other:?})"),
        )),
    }
}

/// Registers `M` with [`register_layer`] under [`Configurable::config_name`],
/// so that a [`super::Sequential`] holding it can be rebuilt from its
/// configuration (and loaded from a checkpoint with `Sequential::load`).
/// Returns `true` when a constructor under that name was replaced.
pub fn register_configurable<M: Configurable + Forward>() -> bool {
    register_layer(&M::config_name(), |params| {
        let cfg = LayerConfig::Custom {
            name: M::config_name(),
            params: params.clone(),
        };
        Ok(Box::new(build_cpu::<M>(&cfg)?) as Box<dyn Forward>)
    })
}
