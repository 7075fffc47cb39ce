//! The [`Module`] trait every layer and container implements.

use super::LayerConfig;
use crate::{DType, Device, Error, Result, Tensor};
use std::collections::{HashMap, HashSet};

/// A building block of a network: a forward function plus the parameters
/// (trainable tensors) and buffers (state such as batch-norm running
/// statistics) it owns.
///
/// The trait is object safe (`Box<dyn Module>` is how [`super::Sequential`]
/// holds its layers) and requires `Send + Sync`, so models can be shared with
/// worker threads.
///
/// # Mode
/// The train/eval mode is explicit: [`Module::train`] and [`Module::eval`]
/// switch it, and it never depends on whether gradients are being recorded.
/// Layers start in training mode, as in PyTorch. Only mode-dependent layers
/// (Dropout, BatchNorm) and containers store a mode; stateless layers keep the
/// default methods, which ignore [`Module::set_training`] and report `false`
/// from [`Module::is_training`].
///
/// # Writing your own module
/// Implement [`Module::forward`]. If the module owns tensors, also implement
/// [`Module::named_parameters`] (and [`Module::named_buffers`]) and
/// [`Module::map_tensors`], which device and dtype moves are built on. To let a
/// [`super::Sequential`] holding it be rebuilt from its configuration, return a
/// [`LayerConfig::Custom`] from [`Module::config`] and register a constructor
/// under the same name with [`super::register_layer`].
///
/// ```
/// use neurite::nn::Module;
/// use neurite::{Result, Tensor};
///
/// /// `x * scale`, with a trainable scalar.
/// struct Scale { scale: Tensor }
///
/// impl Module for Scale {
///     fn forward(&self, x: &Tensor) -> Result<Tensor> { x.mul(&self.scale) }
///     fn named_parameters(&self) -> Vec<(String, Tensor)> { vec![("scale".into(), self.scale.clone())] }
///     fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
///         self.scale = f(&self.scale)?;
///         Ok(())
///     }
/// }
/// ```
pub trait Module: Send + Sync {
    /// Applies the module to `x`.
    fn forward(&self, x: &Tensor) -> Result<Tensor>;

    /// The name shown by summaries and error messages (the type name by default).
    fn name(&self) -> String {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base).to_string()
    }

    /// Sets training (`true`) or evaluation (`false`) mode, recursively for containers.
    fn set_training(&mut self, _training: bool) {}

    /// The current mode; `false` for layers whose behaviour has no mode.
    fn is_training(&self) -> bool {
        false
    }

    /// Switches to training mode (Dropout active, BatchNorm uses and updates batch statistics).
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Switches to evaluation mode (Dropout is the identity, BatchNorm uses running statistics).
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Trainable tensors with PyTorch-style names (`"weight"`, `"0.bias"` inside a Sequential).
    /// The tensors share storage with the module, so in-place updates are seen by it.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Non-trainable state with PyTorch-style names (`"running_mean"`, `"2.running_var"`).
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Parameters followed by buffers: everything a checkpoint must hold.
    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut all = self.named_parameters();
        all.extend(self.named_buffers());
        all
    }

    /// The trainable tensors, in a stable order, for optimizers.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters().into_iter().map(|(_, t)| t).collect()
    }

    /// Total number of parameter elements.
    fn num_parameters(&self) -> usize {
        self.named_parameters().iter().map(|(_, t)| t.elem_count()).sum()
    }

    /// Replaces every parameter and buffer tensor `t` by `f(t)` (same role,
    /// same name). [`Module::to_device`] and [`Module::to_dtype`] are built on it;
    /// modules that own tensors must implement it.
    fn map_tensors(&mut self, _f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        Ok(())
    }

    /// Moves parameters and buffers to `device`. Parameters stay trainable
    /// leaves, but they are new tensors: build optimizers after moving the model.
    fn to_device(&mut self, device: &Device) -> Result<()> {
        self.map_tensors(&mut |t| {
            if t.device() == *device {
                Ok(t.clone())
            } else {
                convert(t, |t| t.to_device(device))
            }
        })
    }

    /// Casts floating-point parameters and buffers to `dtype` (a float dtype);
    /// integer buffers are left alone. Build optimizers after casting.
    fn to_dtype(&mut self, dtype: DType) -> Result<()> {
        if !dtype.is_float() {
            return Err(Error::invalid(
                "Module::to_dtype",
                format!("parameters need a floating-point dtype, got {dtype}"),
            ));
        }
        self.map_tensors(&mut |t| {
            if t.dtype().is_float() && t.dtype() != dtype {
                convert(t, |t| t.to_dtype(dtype))
            } else {
                Ok(t.clone())
            }
        })
    }

    /// Overwrites the parameter or buffer called `name` with `value` (same
    /// shape and dtype, any device). [`Module::load_named_tensors`] calls it
    /// after checking every name; override it only for state that is not a
    /// shared tensor.
    fn assign_named(&mut self, name: &str, value: &Tensor) -> Result<()> {
        assign_by_name(&self.named_tensors(), name, value, &self.name())
    }

    /// Loads parameters and buffers by name, as from a checkpoint.
    ///
    /// Every name of [`Module::named_tensors`] must be in `map` with the same
    /// shape and dtype, and `map` must hold no other name. All problems
    /// (missing, unexpected, wrong shape, wrong dtype) are reported together in
    /// one error, and nothing is written unless there are none. Values may live
    /// on any device; they are copied to the module's.
    fn load_named_tensors(&mut self, map: &HashMap<String, Tensor>) -> Result<()> {
        let expected = self.named_tensors();
        check_named_tensors(&expected, map)?;
        for (name, _) in &expected {
            // Checked just above: every expected name is in the map.
            self.assign_named(name, &map[name])?;
        }
        Ok(())
    }

    /// The hyperparameters needed to rebuild this module with no code (not its
    /// weights). Built-in layers always have one; custom modules return
    /// [`LayerConfig::Custom`] once they support it.
    fn config(&self) -> Result<LayerConfig> {
        Err(Error::invalid(
            "Module::config",
            format!(
                "{} has no configuration; implement Module::config returning LayerConfig::Custom \
                 and register a constructor with neurite::nn::register_layer",
                self.name()
            ),
        ))
    }

    /// The dtype this module expects as input when it is not the parameters'
    /// float dtype (`I64` ids for Embedding); used by summaries.
    fn input_dtype(&self) -> Option<DType> {
        None
    }
}

/// `weight` and, when present, `bias`, named as PyTorch names them: the
/// parameters of Linear and Conv2d.
pub(crate) fn weight_and_bias(weight: &Tensor, bias: Option<&Tensor>) -> Vec<(String, Tensor)> {
    let mut p = vec![("weight".to_string(), weight.clone())];
    if let Some(b) = bias {
        p.push(("bias".to_string(), b.clone()));
    }
    p
}

/// [`Module::map_tensors`] over a weight and an optional bias.
pub(crate) fn map_weight_and_bias(
    weight: &mut Tensor,
    bias: &mut Option<Tensor>,
    f: &mut dyn FnMut(&Tensor) -> Result<Tensor>,
) -> Result<()> {
    *weight = f(weight)?;
    if let Some(b) = bias {
        *b = f(b)?;
    }
    Ok(())
}

/// Applies a conversion to a tensor outside the graph and keeps its trainable
/// flag; the result is a new tensor (a new leaf for parameters).
fn convert(t: &Tensor, f: impl FnOnce(&Tensor) -> Result<Tensor>) -> Result<Tensor> {
    let out = crate::no_grad(|| f(&t.detach()))?;
    if t.is_requires_grad() {
        // A fresh leaf: never share the flag with the source tensor.
        let leaf = out.detach();
        leaf.set_requires_grad(true);
        Ok(leaf)
    } else {
        Ok(out)
    }
}

/// Copies `value` into `target` in place, moving it to `target`'s device first.
pub(crate) fn assign(target: &Tensor, value: &Tensor) -> Result<()> {
    crate::no_grad(|| {
        let v = value.to_device(&target.device())?;
        target.set_data(&v)
    })
}

/// Finds `name` among `tensors` and copies `value` into it (the default [`Module::assign_named`]).
pub fn assign_by_name(tensors: &[(String, Tensor)], name: &str, value: &Tensor, owner: &str) -> Result<()> {
    let target = tensors
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, t)| t)
        .ok_or_else(|| Error::invalid("assign_named", format!("{owner} has no tensor named {name:?}")))?;
    if target.shape() != value.shape() || target.dtype() != value.dtype() {
        return Err(Error::invalid(
            "assign_named",
            format!(
                "{owner}.{name} is {} {}, the value is {} {}",
                target.dtype(),
                target.shape(),
                value.dtype(),
                value.shape()
            ),
        ));
    }
    assign(target, value)
}

/// Compares the tensors a module expects with those offered, and lists every difference.
pub(crate) fn check_named_tensors(expected: &[(String, Tensor)], map: &HashMap<String, Tensor>) -> Result<()> {
    let mut problems = Vec::new();
    for (name, t) in expected {
        match map.get(name) {
            None => problems.push(format!(
                "missing {name:?} (expected shape {}, dtype {})",
                t.shape(),
                t.dtype()
            )),
            Some(v) => {
                if v.shape() != t.shape() {
                    problems.push(format!("{name:?}: shape {} given, expected {}", v.shape(), t.shape()));
                }
                if v.dtype() != t.dtype() {
                    problems.push(format!("{name:?}: dtype {} given, expected {}", v.dtype(), t.dtype()));
                }
            }
        }
    }
    let known: HashSet<&str> = expected.iter().map(|(n, _)| n.as_str()).collect();
    let mut unexpected: Vec<&String> = map.keys().filter(|k| !known.contains(k.as_str())).collect();
    unexpected.sort();
    problems.extend(unexpected.into_iter().map(|k| format!("unexpected {k:?}")));
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::invalid(
        "load_named_tensors",
        format!("{} problem(s):\n  - {}", problems.len(), problems.join("\n  - ")),
    ))
}
