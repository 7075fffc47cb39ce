//! The [`Module`] trait (a model's structure) and [`Forward`] (its one-tensor call).

use super::LayerConfig;
use super::load::{LoadReport, assign_by_name, check_named_tensors};
use crate::{DType, Device, Error, Result, Tensor};
use std::collections::HashMap;

/// The structure of a model or layer: the parameters (trainable tensors),
/// buffers (state such as batch-norm running statistics) and submodules it
/// owns, and its train/eval mode. Nothing here depends on how the module is
/// called: the one-tensor call is [`Forward`], and a model with several inputs
/// or outputs keeps its own `forward` method with any signature (see
/// [`crate::train::TrainStep`] to train it with `fit`).
///
/// Usually derived: `#[derive(Module)]` on a struct registers every field that
/// is a module, a tensor, or a `Vec`/`Option`/`Box` of them, under PyTorch's
/// dotted names (`blocks.0.conv1.weight`), so that naming, device and dtype
/// moves, train/eval mode, freezing, checkpoints and summaries recurse with no
/// user code. The trait is object safe (`Box<dyn Module>`, `&mut dyn Module`)
/// and requires `Send + Sync`, so models can be shared with worker threads.
///
/// # Writing an implementation by hand
/// Implement the structural primitives, and the recursive methods follow:
/// - [`Module::children`] / [`Module::children_mut`]: the direct submodules
///   with their names (field names; `"0"`, `"1"` in lists);
/// - [`Module::own_parameters`] / [`Module::own_buffers`]: this module's own
///   tensors (not its children's), and [`Module::map_own_tensors`] to replace them;
/// - [`Module::set_training`] / [`Module::is_training`] only when the module
///   itself behaves differently in training (Dropout, BatchNorm): the default
///   `set_training` reaches every child, and `is_training` asks the children.
///
/// # Mode
/// The train/eval mode is explicit: [`Module::train`] and [`Module::eval`]
/// switch it for the module and every descendant; it never depends on whether
/// gradients are being recorded. Layers start in training mode, as in PyTorch.
///
/// ```
/// use neurite::nn::{Forward, Module};
/// use neurite::{Result, Tensor};
///
/// /// `x * scale`, with a trainable scalar.
/// struct Scale { scale: Tensor }
///
/// impl Module for Scale {
///     fn own_parameters(&self) -> Vec<(String, Tensor)> { vec![("scale".into(), self.scale.clone())] }
///     fn map_own_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
///         self.scale = f(&self.scale)?;
///         Ok(())
///     }
/// }
///
/// impl Forward for Scale {
///     fn forward(&self, x: &Tensor) -> Result<Tensor> { x.mul(&self.scale) }
/// }
/// ```
pub trait Module: Send + Sync {
    /// The name shown by summaries and error messages (the type name by default).
    fn name(&self) -> String {
        let full = std::any::type_name::<Self>();
        let base = full.split('<').next().unwrap_or(full);
        base.rsplit("::").next().unwrap_or(base).to_string()
    }

    /// The direct submodules, named as PyTorch names them (field names, or
    /// `"0"`, `"1"`, ... in a list), in a stable order.
    fn children(&self) -> Vec<(String, &dyn Module)> {
        Vec::new()
    }

    /// [`Module::children`], mutably (same names, same order).
    fn children_mut(&mut self) -> Vec<(String, &mut dyn Module)> {
        Vec::new()
    }

    /// This module's own trainable tensors, not its children's (`"weight"`, `"bias"`).
    fn own_parameters(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// This module's own non-trainable state, not its children's (`"running_mean"`).
    fn own_buffers(&self) -> Vec<(String, Tensor)> {
        Vec::new()
    }

    /// Replaces each of this module's own parameters and buffers `t` by `f(t)`
    /// (same role, same name); children are reached by [`Module::map_tensors`].
    fn map_own_tensors(&mut self, _f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        Ok(())
    }

    /// Sets training (`true`) or evaluation (`false`) mode for this module and
    /// every descendant. Modules whose own behaviour depends on the mode
    /// override it (and must then also set their children's).
    fn set_training(&mut self, training: bool) {
        for (_, c) in self.children_mut() {
            c.set_training(training);
        }
    }

    /// The current mode: a mode-dependent layer's own flag; for a container,
    /// whether any child is in training mode (`false` when no descendant has a mode).
    fn is_training(&self) -> bool {
        self.children().iter().any(|(_, c)| c.is_training())
    }

    /// Switches to training mode (Dropout active, BatchNorm uses and updates batch statistics).
    fn train(&mut self) {
        self.set_training(true);
    }

    /// Switches to evaluation mode (Dropout is the identity, BatchNorm uses running statistics).
    fn eval(&mut self) {
        self.set_training(false);
    }

    /// Every trainable tensor with its dotted PyTorch name (`"weight"`,
    /// `"blocks.0.conv1.bias"`). The tensors share storage with the module, so
    /// in-place updates are seen by it.
    fn named_parameters(&self) -> Vec<(String, Tensor)> {
        let mut all = self.own_parameters();
        for (n, c) in self.children() {
            all.extend(prefix(&n, c.named_parameters()));
        }
        all
    }

    /// Every buffer with its dotted name (`"running_mean"`, `"2.running_var"`).
    fn named_buffers(&self) -> Vec<(String, Tensor)> {
        let mut all = self.own_buffers();
        for (n, c) in self.children() {
            all.extend(prefix(&n, c.named_buffers()));
        }
        all
    }

    /// Parameters followed by buffers: everything a checkpoint must hold
    /// (PyTorch's `state_dict` keys).
    fn named_tensors(&self) -> Vec<(String, Tensor)> {
        let mut all = self.named_parameters();
        all.extend(self.named_buffers());
        all
    }

    /// The trainable tensors, in a stable order, for optimizers.
    fn parameters(&self) -> Vec<Tensor> {
        self.named_parameters().into_iter().map(|(_, t)| t).collect()
    }

    /// The parameters that currently take gradients (not frozen).
    fn trainable_parameters(&self) -> Vec<Tensor> {
        self.parameters().into_iter().filter(|t| t.is_requires_grad()).collect()
    }

    /// Total number of parameter elements.
    fn num_parameters(&self) -> usize {
        self.named_parameters().iter().map(|(_, t)| t.elem_count()).sum()
    }

    /// Every descendant with its dotted name (`"blocks"`, `"blocks.0"`,
    /// `"blocks.0.conv1"`), parents before children; the module itself is not
    /// included (PyTorch's `named_modules()` without the `""` entry).
    fn named_modules(&self) -> Vec<(String, &dyn Module)> {
        let mut out = Vec::new();
        for (n, c) in self.children() {
            let below = c.named_modules();
            out.push((n.clone(), c));
            out.extend(below.into_iter().map(|(m, d)| (format!("{n}.{m}"), d)));
        }
        out
    }

    /// The device of the first parameter or buffer (`None` without tensors).
    fn device(&self) -> Option<Device> {
        self.named_tensors().first().map(|(_, t)| t.device())
    }

    /// Stops (`false`) or resumes (`true`) gradients for every parameter, as
    /// PyTorch's `requires_grad_`. A frozen parameter receives no gradient, so
    /// an optimizer built over it leaves it unchanged.
    fn requires_grad_(&self, on: bool) {
        for (_, t) in self.named_parameters() {
            t.set_requires_grad(on);
        }
    }

    /// Freezes every parameter (`requires_grad_(false)`), for transfer learning.
    fn freeze(&self) {
        self.requires_grad_(false);
    }

    /// Unfreezes every parameter.
    fn unfreeze(&self) {
        self.requires_grad_(true);
    }

    /// Replaces every parameter and buffer tensor `t`, of this module and its
    /// descendants, by `f(t)` (same role, same name).
    fn map_tensors(&mut self, f: &mut dyn FnMut(&Tensor) -> Result<Tensor>) -> Result<()> {
        self.map_own_tensors(f)?;
        for (_, c) in self.children_mut() {
            c.map_tensors(f)?;
        }
        Ok(())
    }

    /// Moves parameters and buffers to `device`. Parameters stay trainable
    /// leaves (frozen ones stay frozen), but they are new tensors: build
    /// optimizers after moving the model.
    fn to_device(&mut self, device: &Device) -> Result<()> {
        self.map_own_tensors(&mut |t| {
            if t.device() == *device {
                Ok(t.clone())
            } else {
                convert(t, |t| t.to_device(device))
            }
        })?;
        // Each child's own method, so that overrides in custom modules are honoured.
        for (_, c) in self.children_mut() {
            c.to_device(device)?;
        }
        Ok(())
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
        self.map_own_tensors(&mut |t| {
            if t.dtype().is_float() && t.dtype() != dtype {
                convert(t, |t| t.to_dtype(dtype))
            } else {
                Ok(t.clone())
            }
        })?;
        for (_, c) in self.children_mut() {
            c.to_dtype(dtype)?;
        }
        Ok(())
    }

    /// Overwrites the parameter or buffer called `name` (dotted, relative to
    /// this module) with `value` (same shape and dtype, any device): an own
    /// tensor, or routed to the child whose name prefixes it.
    /// [`Module::load_named_tensors`] calls it after checking every name;
    /// override it only for state that is not a shared tensor.
    fn assign_named(&mut self, name: &str, value: &Tensor) -> Result<()> {
        let mut own = self.own_parameters();
        own.extend(self.own_buffers());
        if own.iter().any(|(n, _)| n == name) {
            return assign_by_name(&own, name, value, &self.name());
        }
        let owner = self.name();
        // The longest child name wins, so that a child "a.b" is preferred to "a".
        let mut target: Option<(usize, &mut dyn Module)> = None;
        for (n, c) in self.children_mut() {
            let fits = name.len() > n.len() && name.starts_with(n.as_str()) && name.as_bytes()[n.len()] == b'.';
            if fits && target.as_ref().is_none_or(|(len, _)| n.len() > *len) {
                target = Some((n.len(), c));
            }
        }
        match target {
            Some((len, c)) => c.assign_named(&name[len + 1..], value),
            None => Err(Error::invalid(
                "assign_named",
                format!("{owner} has no tensor named {name:?}"),
            )),
        }
    }

    /// Loads parameters and buffers by name, as from a checkpoint (PyTorch's
    /// `load_state_dict(strict=True)`).
    ///
    /// Every name of [`Module::named_tensors`] must be in `map` with the same
    /// shape and dtype, and `map` must hold no other name. All problems
    /// (missing, unexpected, wrong shape, wrong dtype) are reported together in
    /// one error, and nothing is written unless there are none. Values may live
    /// on any device; they are copied to the module's.
    fn load_named_tensors(&mut self, map: &HashMap<String, Tensor>) -> Result<()> {
        self.load_named_tensors_with(map, true).map(|_| ())
    }

    /// [`Module::load_named_tensors`] with PyTorch's `strict` switch. With
    /// `strict = false`, the tensors whose names match are loaded and the others
    /// are reported in the returned [`LoadReport`] (`missing_keys`: in the model,
    /// not in `map`; `unexpected_keys`: in `map`, not in the model), as
    /// `load_state_dict(strict=False)` does. A matching name with another shape
    /// or dtype is an error in both modes, and nothing is written then.
    fn load_named_tensors_with(&mut self, map: &HashMap<String, Tensor>, strict: bool) -> Result<LoadReport> {
        let expected = self.named_tensors();
        let report = check_named_tensors(&expected, map, strict)?;
        for (name, _) in &expected {
            if let Some(v) = map.get(name) {
                self.assign_named(name, v)?;
            }
        }
        Ok(report)
    }

    /// The hyperparameters needed to rebuild this module with no code (not its
    /// weights). Built-in layers always have one; a derived module has one when
    /// it declares a configuration type (`#[module(config)]` with
    /// [`super::Configurable`]), and a hand-written one returns
    /// [`LayerConfig::Custom`].
    fn config(&self) -> Result<LayerConfig> {
        Err(Error::invalid(
            "Module::config",
            format!(
                "{} has no configuration; give it a serialisable configuration type \
                 (#[derive(Module)] with #[module(config)] and neurite::nn::Configurable) or return \
                 LayerConfig::Custom from Module::config and register a constructor \
                 with neurite::nn::register_layer",
                self.name()
            ),
        ))
    }

    /// The dtype this module expects as input when it is not the parameters'
    /// float dtype (`I64` ids for Embedding); used by summaries.
    fn input_dtype(&self) -> Option<DType> {
        None
    }

    /// A tree of the module's descendants with their parameter counts, and the
    /// totals (PyTorch's `print(model)` with Keras's totals). Works for any
    /// module; [`super::Sequential::summary`] adds output shapes.
    fn summary_tree(&self) -> String {
        super::summary::tree(
            self.name(),
            &self.named_modules(),
            &self.named_parameters(),
            &self.named_buffers(),
        )
    }

    /// Saves the module to `path`, atomically (see [`crate::checkpoint`]): its
    /// configuration when it has one, mode, parameters and buffers. A module
    /// without a configuration is saved weights-only (reload it with
    /// [`Module::load_weights`]). `Sequential::load` and, for a
    /// [`super::Configurable`] module, `M::load` rebuild it with no code.
    ///
    /// ```
    /// use neurite::nn::{Forward, Linear, Module, ReLU, Sequential};
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let dir = std::env::temp_dir().join(format!("neurite-doc-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("model.ckpt");
    /// let model = Sequential::new().add(Linear::new(3, 4)).add(ReLU).add(Linear::new(4, 1));
    /// model.save(&path)?;
    /// let loaded = Sequential::load(&path, &Device::cpu())?;
    /// let x = Tensor::ones((2, 3), DType::F32, &Device::cpu())?;
    /// assert_eq!(loaded.forward(&x)?.to_vec::<f32>()?, model.forward(&x)?.to_vec::<f32>()?);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok(()) }
    /// ```
    fn save(&self, path: impl AsRef<std::path::Path>) -> Result<()>
    where
        Self: Sized,
    {
        crate::checkpoint::save_model(self, path, &crate::checkpoint::SaveOptions::default())
    }

    /// [`Module::save`] with options (for example `F32` weights stored as `F16`).
    fn save_with(&self, path: impl AsRef<std::path::Path>, options: &crate::checkpoint::SaveOptions) -> Result<()>
    where
        Self: Sized,
    {
        crate::checkpoint::save_model(self, path, options)
    }

    /// The bytes [`Module::save_with`] writes.
    fn to_checkpoint_bytes(&self, options: &crate::checkpoint::SaveOptions) -> Result<Vec<u8>>
    where
        Self: Sized,
    {
        crate::checkpoint::model_to_bytes(self, options)
    }

    /// Loads the weights of the checkpoint at `path` by name, strictly: every
    /// name, shape and dtype must match, all differences are listed in one
    /// error, and nothing changes unless there are none. The module keeps its
    /// device and mode.
    fn load_weights(&mut self, path: impl AsRef<std::path::Path>) -> Result<()>
    where
        Self: Sized,
    {
        crate::checkpoint::load_weights(self, path, true).map(|_| ())
    }

    /// Loads what matches from the checkpoint at `path` and reports the rest
    /// (PyTorch's `load_state_dict(strict=False)`): for transfer learning, a
    /// backbone's weights into a model with a new head. Shape or dtype
    /// mismatches are still errors.
    fn load_weights_non_strict(&mut self, path: impl AsRef<std::path::Path>) -> Result<LoadReport>
    where
        Self: Sized,
    {
        crate::checkpoint::load_weights(self, path, false)
    }

    /// [`Module::load_weights`] from the bytes of a checkpoint file.
    fn load_weights_from_bytes(&mut self, bytes: &[u8]) -> Result<()>
    where
        Self: Sized,
    {
        crate::checkpoint::load_weights_from_bytes(self, bytes, true).map(|_| ())
    }

    /// Writes every parameter and buffer to a safetensors file with PyTorch's
    /// names, loadable with `model.load_state_dict(safetensors.torch.load_file(path))`.
    fn save_safetensors(&self, path: impl AsRef<std::path::Path>) -> Result<()>
    where
        Self: Sized,
    {
        crate::checkpoint::write_safetensors(path, &self.named_tensors())
    }

    /// Loads weights from a safetensors file (one written by PyTorch's
    /// `safetensors.torch.save_file(model.state_dict(), path)`, for example),
    /// strictly: every difference is listed in one error, and nothing changes
    /// unless there are none.
    fn load_safetensors(&mut self, path: impl AsRef<std::path::Path>) -> Result<()>
    where
        Self: Sized,
    {
        let map = crate::checkpoint::read_safetensors(path)?;
        self.load_named_tensors(&map)
    }

    /// [`Module::load_safetensors`] without `strict`: loads what matches and
    /// returns the missing and unexpected keys.
    fn load_safetensors_non_strict(&mut self, path: impl AsRef<std::path::Path>) -> Result<LoadReport>
    where
        Self: Sized,
    {
        let map = crate::checkpoint::read_safetensors(path)?;
        self.load_named_tensors_with(&map, false)
    }
}

/// `name.tensor` for each tensor of a child called `name`.
fn prefix(name: &str, tensors: Vec<(String, Tensor)>) -> impl Iterator<Item = (String, Tensor)> + '_ {
    tensors.into_iter().map(move |(n, t)| (format!("{name}.{n}"), t))
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

/// [`Module::map_own_tensors`] over a weight and an optional bias.
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
