//! Model checkpoints: `model.save(path)`, `Sequential::load(path, &device)`,
//! `model.load_weights(path)`.

use super::format::{self, CheckpointKind, Header};
use super::record::{CheckedRecord, TensorRecord};
use super::{CheckpointProblem, arch, atomic, codec};
use crate::nn::{Configurable, LayerConfig, LoadReport, Module, Sequential, SequentialConfig, build_from_config};
use crate::{DType, Device, Error, Result, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// How a checkpoint is written.
///
/// ```
/// use neurite::checkpoint::SaveOptions;
/// use neurite::DType;
/// let half = SaveOptions::new().store_f32_as(DType::F16);
/// assert_eq!(half, SaveOptions::f16());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SaveOptions {
    /// The dtype `F32` parameters and buffers are stored as: `F32` (exact, the
    /// default), `F16` or `BF16` (half the size, rounded to nearest). They are
    /// cast back to `F32` on load. Other dtypes are always stored as they are.
    pub store_f32_as: DType,
}

impl Default for SaveOptions {
    fn default() -> Self {
        SaveOptions {
            store_f32_as: DType::F32,
        }
    }
}

impl SaveOptions {
    /// Exact storage (the default).
    pub fn new() -> SaveOptions {
        SaveOptions::default()
    }

    /// `F32` tensors stored as `F16`.
    pub fn f16() -> SaveOptions {
        SaveOptions {
            store_f32_as: DType::F16,
        }
    }

    /// Sets [`SaveOptions::store_f32_as`] (builder style).
    pub fn store_f32_as(mut self, dtype: DType) -> SaveOptions {
        self.store_f32_as = dtype;
        self
    }

    fn validate(&self) -> Result<()> {
        if !matches!(self.store_f32_as, DType::F32 | DType::F16 | DType::BF16) {
            return Err(Error::invalid(
                "SaveOptions",
                format!(
                    "f32 tensors can be stored as f32, f16 or bf16, not {}",
                    self.store_f32_as
                ),
            ));
        }
        Ok(())
    }
}

/// The model part of every checkpoint body (format version 2).
#[derive(Serialize, Deserialize)]
pub(crate) struct ModelBody {
    /// The saved module's name ([`Module::name`]), for messages.
    pub module: String,
    /// Its configuration, when it has one ([`Module::config`]): what rebuilds
    /// it with no code. `None` for a weights-only checkpoint.
    pub architecture: Option<LayerConfig>,
    pub training: bool,
    pub tensors: Vec<TensorRecord>,
}

/// The model part of a format-1 body: always a `Sequential`.
#[derive(Deserialize)]
struct ModelBodyV1 {
    architecture: SequentialConfig,
    training: bool,
    tensors: Vec<TensorRecord>,
}

impl From<ModelBodyV1> for ModelBody {
    fn from(v1: ModelBodyV1) -> ModelBody {
        ModelBody {
            module: "Sequential".into(),
            architecture: Some(LayerConfig::Sequential(v1.architecture)),
            training: v1.training,
            tensors: v1.tensors,
        }
    }
}

impl ModelBody {
    /// Captures a model: its configuration (if it has one), mode and every named tensor.
    pub fn from_model(model: &dyn Module, options: &SaveOptions) -> Result<ModelBody> {
        options.validate()?;
        let tensors = model
            .named_tensors()
            .iter()
            .map(|(n, t)| TensorRecord::from_tensor(n, t, options.store_f32_as))
            .collect::<Result<Vec<_>>>()?;
        Ok(ModelBody {
            module: model.name(),
            architecture: model.config().ok(),
            training: model.is_training(),
            tensors,
        })
    }

    /// Decodes a model part from the start of `body`, as written by format
    /// `version`; returns it and the bytes used.
    pub fn decode_prefix(version: u32, body: &[u8]) -> std::result::Result<(ModelBody, usize), String> {
        if version == 1 {
            codec::decode_prefix::<ModelBodyV1>(body).map(|(m, n)| (m.into(), n))
        } else {
            codec::decode_prefix::<ModelBody>(body)
        }
    }

    /// Validates the decoded content: every record, unique names, and an
    /// architecture whose tensors fit in what the file stores.
    pub fn check(&self, path: &str) -> Result<Vec<CheckedRecord<'_>>> {
        let invalid = |msg: String| CheckpointProblem::InvalidContent.at(path, msg);
        let mut seen = HashSet::new();
        let mut checked = Vec::with_capacity(self.tensors.len());
        for r in &self.tensors {
            let c = r.check().map_err(invalid)?;
            if !seen.insert(c.name) {
                return Err(invalid(format!("the tensor name {:?} appears more than once", c.name)));
            }
            checked.push(c);
        }
        let stored: u128 = checked.iter().map(|c| c.elem_count() as u128).sum();
        let needed = match &self.architecture {
            Some(a) => arch::root_elems(a).map_err(|e| invalid(format!("architecture: {e}")))?,
            None => arch::Elems::default(),
        };
        if needed.kept > stored {
            return Err(invalid(format!(
                "the architecture needs at least {} tensor elements but the checkpoint stores {stored}",
                needed.kept
            )));
        }
        if needed.constructed > 2 * stored + arch::CONSTRUCTION_SLACK {
            return Err(invalid(format!(
                "rebuilding the architecture would allocate {} tensor elements for the {stored} the checkpoint stores",
                needed.constructed
            )));
        }
        Ok(checked)
    }

    /// The stored tensors by name, on the CPU in their model dtypes.
    pub fn tensor_map(checked: &[CheckedRecord<'_>]) -> Result<HashMap<String, Tensor>> {
        checked
            .iter()
            .map(|c| Ok((c.name.to_string(), c.to_tensor()?)))
            .collect()
    }

    /// The stored configuration, or the error for a weights-only checkpoint.
    fn architecture(&self, path: &str, wanted: &str) -> Result<&LayerConfig> {
        self.architecture.as_ref().ok_or_else(|| {
            CheckpointProblem::InvalidContent.at(
                path,
                format!(
                    "the checkpoint holds the weights of a {} without its configuration, so no {wanted} \
                     can be rebuilt from it: build the model in code and call load_weights",
                    self.module
                ),
            )
        })
    }

    /// Rebuilds a [`Sequential`] on `device` with its weights and mode.
    pub fn build_sequential(&self, device: &Device, path: &str) -> Result<Sequential> {
        let invalid = |msg: String| CheckpointProblem::InvalidContent.at(path, msg);
        match self.architecture(path, "Sequential")? {
            LayerConfig::Sequential(cfg) => self.build(device, path, || Sequential::from_config(cfg, &Device::Cpu)),
            _ => Err(invalid(format!(
                "the checkpoint holds a {}, not a Sequential: load it with {}::load",
                self.module, self.module
            ))),
        }
    }

    /// Rebuilds a [`Configurable`] module on `device` with its weights and mode.
    pub fn build_configurable<M: Configurable>(&self, device: &Device, path: &str) -> Result<M> {
        let cfg = self.architecture(path, &M::config_name())?;
        self.build(device, path, || build_from_config::<M>(cfg, &Device::Cpu))
    }

    /// Builds a model with `make` on the CPU, loads the weights and mode, and
    /// moves it to `device`, leaving the global random generator as it was
    /// (initialisation draws from it).
    fn build<M: Module>(&self, device: &Device, path: &str, make: impl FnOnce() -> Result<M>) -> Result<M> {
        let invalid = |msg: String| CheckpointProblem::InvalidContent.at(path, msg);
        let checked = self.check(path)?;
        let map = Self::tensor_map(&checked)?;
        let saved_rng = crate::rng_state();
        let built = make();
        crate::set_rng_state(&saved_rng);
        let mut model = built.map_err(|e| invalid(format!("the architecture cannot be rebuilt: {e}")))?;
        // Layers are built in f32; a model saved in another float dtype is cast first.
        let floats: HashSet<DType> = checked.iter().map(|c| c.dtype).filter(|d| d.is_float()).collect();
        if floats.len() == 1 {
            let dtype = *floats.iter().next().unwrap_or(&DType::F32);
            if dtype != DType::F32 {
                model.to_dtype(dtype)?;
            }
        }
        model
            .load_named_tensors(&map)
            .map_err(|e| invalid(format!("the stored tensors do not fit the stored architecture: {e}")))?;
        model.set_training(self.training);
        model.to_device(device)?;
        Ok(model)
    }
}

/// Label used in errors for checkpoints that are not files.
pub(crate) const BYTES_LABEL: &str = "<bytes>";

/// Reads a checkpoint file, never past the length its header declares
/// ([`super::read`]); failing to read it is an [`Error::Io`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    super::read::read_checkpoint(path)
}

/// Checks the frame and returns the header and body.
pub(crate) fn open_frame<'a>(bytes: &'a [u8], path: &str) -> Result<(Header, &'a [u8])> {
    format::decode_frame(bytes).map_err(|(problem, detail)| problem.at(path, detail))
}

/// Decodes the model part of a body of either kind.
pub(crate) fn decode_model(header: &Header, body: &[u8], path: &str) -> Result<ModelBody> {
    let undecodable = |e: String| CheckpointProblem::Undecodable.at(path, e);
    let (model, used) = ModelBody::decode_prefix(header.format_version, body).map_err(undecodable)?;
    // A training body goes on after the model; a model body must end with it.
    if header.kind == CheckpointKind::Model && used != body.len() {
        return Err(undecodable(format!(
            "{} unexpected trailing byte(s) after the encoded value ({used} of {} used)",
            body.len() - used,
            body.len()
        )));
    }
    Ok(model)
}

/// Reads only the header of the checkpoint at `path` (its first 48 bytes),
/// checking the magic, the format version, the kind and, for a regular file,
/// that the file's size is the one the header declares. The body is never
/// read, so the checksum is not checked here: loading does that.
pub fn read_header(path: impl AsRef<Path>) -> Result<Header> {
    super::read::read_checkpoint_header(path.as_ref())
}

/// Saves `model` (any module) to `path`, atomically: its configuration when
/// it has one (so `Sequential::load` or `M::load` for a [`Configurable`] `M`
/// rebuild it with no code), mode, parameters and buffers. A module without a
/// configuration is saved weights-only, for [`load_weights`]. The method form
/// is [`Module::save`].
pub fn save_model(model: &dyn Module, path: impl AsRef<Path>, options: &SaveOptions) -> Result<()> {
    let bytes = model_to_bytes(model, options)?;
    atomic::write_atomic(path.as_ref(), &bytes)
}

/// The bytes [`save_model`] writes.
pub fn model_to_bytes(model: &dyn Module, options: &SaveOptions) -> Result<Vec<u8>> {
    let body = ModelBody::from_model(model, options)?;
    let encoded = codec::encode(&body).map_err(|e| Error::Checkpoint(format!("encoding the model: {e}")))?;
    Ok(format::encode_frame(CheckpointKind::Model, &encoded))
}

/// Loads the weights of the checkpoint (model or training) at `path` into
/// `model`, by name. With `strict`, every parameter and buffer name of the
/// model must be in the checkpoint with the same shape and dtype and the
/// checkpoint must hold no other; all differences are listed in one
/// [`CheckpointProblem::ArchitectureMismatch`] error. Without it, the matching
/// names are loaded and the rest returned as PyTorch's `missing_keys` /
/// `unexpected_keys`; shape or dtype differences are errors in both modes.
/// Nothing changes on an error. The model keeps its device and mode.
pub fn load_weights(model: &mut dyn Module, path: impl AsRef<Path>, strict: bool) -> Result<LoadReport> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    load_weights_labelled(model, &bytes, strict, &path.display().to_string())
}

/// [`load_weights`] from the bytes of a checkpoint file.
pub fn load_weights_from_bytes(model: &mut dyn Module, bytes: &[u8], strict: bool) -> Result<LoadReport> {
    load_weights_labelled(model, bytes, strict, BYTES_LABEL)
}

fn load_weights_labelled(model: &mut dyn Module, bytes: &[u8], strict: bool, path: &str) -> Result<LoadReport> {
    let (header, body) = open_frame(bytes, path)?;
    let saved = decode_model(&header, body, path)?;
    let checked = saved.check(path)?;
    let map = ModelBody::tensor_map(&checked)?;
    model.load_named_tensors_with(&map, strict).map_err(|e| {
        let note = match (&saved.architecture, model.config()) {
            (Some(LayerConfig::Sequential(theirs)), Ok(LayerConfig::Sequential(mine))) if mine != *theirs => format!(
                "\n  (the checkpoint's architecture has {} layer(s): {}; this model has {}: {})",
                theirs.layers.len(),
                describe_layers(&theirs.layers),
                mine.layers.len(),
                describe_layers(&mine.layers)
            ),
            (Some(theirs), Ok(mine)) if mine != *theirs => format!(
                "\n  (the checkpoint holds a {} whose configuration differs from this model's: {})",
                saved.module,
                describe_layers(std::slice::from_ref(theirs))
            ),
            _ => String::new(),
        };
        CheckpointProblem::ArchitectureMismatch.at(path, format!("{e}{note}"))
    })
}

/// Rebuilds a saved [`Configurable`] module on `device` with no code:
/// configuration, weights, buffers and mode (the method form is
/// [`Configurable::load`]). Checked as [`Sequential::load`] is.
pub fn load_model<M: Configurable>(path: impl AsRef<Path>, device: &Device) -> Result<M> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let label = path.display().to_string();
    let (header, body) = open_frame(&bytes, &label)?;
    decode_model(&header, body, &label)?.build_configurable(device, &label)
}

/// [`load_model`] from the bytes of a checkpoint file.
pub fn load_model_from_bytes<M: Configurable>(bytes: &[u8], device: &Device) -> Result<M> {
    let (header, body) = open_frame(bytes, BYTES_LABEL)?;
    decode_model(&header, body, BYTES_LABEL)?.build_configurable(device, BYTES_LABEL)
}

/// Model checkpoints.
impl Sequential {
    /// Rebuilds a saved model on `device` with no code for built-in layers
    /// (custom layers need their constructor registered with
    /// [`crate::nn::register_layer`]): architecture, weights, buffers and
    /// train/eval mode. Works on a model or a training checkpoint, whatever
    /// device it was saved from.
    ///
    /// The file is checked (magic, version, length, checksum) before anything
    /// is decoded, and its content is validated before anything is built; each
    /// failure is an [`Error::BadCheckpoint`] naming the
    /// [`CheckpointProblem`]. The global random generator is left as it was.
    pub fn load(path: impl AsRef<Path>, device: &Device) -> Result<Sequential> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        Self::load_bytes_labelled(&bytes, device, &path.display().to_string())
    }

    /// [`Sequential::load`] from the bytes of a checkpoint file.
    pub fn from_checkpoint_bytes(bytes: &[u8], device: &Device) -> Result<Sequential> {
        Self::load_bytes_labelled(bytes, device, BYTES_LABEL)
    }

    fn load_bytes_labelled(bytes: &[u8], device: &Device, path: &str) -> Result<Sequential> {
        let (header, body) = open_frame(bytes, path)?;
        decode_model(&header, body, path)?.build_sequential(device, path)
    }
}

/// A one-line description of layers, for error messages.
fn describe_layers(layers: &[LayerConfig]) -> String {
    let mut s = layers.iter().map(|l| format!("{l:?}")).collect::<Vec<_>>().join(", ");
    if s.len() > 400 {
        let mut cut = 400;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str(", ...");
    }
    s
}
