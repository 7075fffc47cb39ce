//! Model checkpoints: `model.save(path)`, `Sequential::load(path, &device)`,
//! `model.load_weights(path)`.

use super::format::{self, CheckpointKind, Header};
use super::record::{CheckedRecord, TensorRecord};
use super::{CheckpointProblem, arch, atomic, codec};
use crate::nn::{Module, Sequential, SequentialConfig};
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

/// The model part of every checkpoint body.
#[derive(Serialize, Deserialize)]
pub(crate) struct ModelBody {
    pub architecture: SequentialConfig,
    pub training: bool,
    pub tensors: Vec<TensorRecord>,
}

impl ModelBody {
    /// Captures a model: its configuration, mode and every named tensor.
    pub fn from_model(model: &Sequential, options: &SaveOptions) -> Result<ModelBody> {
        options.validate()?;
        let architecture = model.to_config()?;
        let tensors = model
            .named_tensors()
            .iter()
            .map(|(n, t)| TensorRecord::from_tensor(n, t, options.store_f32_as))
            .collect::<Result<Vec<_>>>()?;
        Ok(ModelBody {
            architecture,
            training: model.is_training(),
            tensors,
        })
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
        let needed = arch::tensor_elems(&self.architecture).map_err(|e| invalid(format!("architecture: {e}")))?;
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

    /// Rebuilds the model on `device` with its weights and mode, leaving the
    /// global random generator as it was (initialisation draws from it).
    pub fn build(&self, device: &Device, path: &str) -> Result<Sequential> {
        let checked = self.check(path)?;
        let map = Self::tensor_map(&checked)?;
        let saved_rng = crate::rng_state();
        let built = self.build_on_cpu(&checked, &map, path);
        crate::set_rng_state(&saved_rng);
        let mut model = built?;
        model.to_device(device)?;
        Ok(model)
    }

    fn build_on_cpu(
        &self,
        checked: &[CheckedRecord<'_>],
        map: &HashMap<String, Tensor>,
        path: &str,
    ) -> Result<Sequential> {
        let invalid = |msg: String| CheckpointProblem::InvalidContent.at(path, msg);
        let mut model = Sequential::from_config(&self.architecture, &Device::Cpu)
            .map_err(|e| invalid(format!("the architecture cannot be rebuilt: {e}")))?;
        // Layers are built in f32; a model saved in another float dtype is cast first.
        let floats: HashSet<DType> = checked.iter().map(|c| c.dtype).filter(|d| d.is_float()).collect();
        if floats.len() == 1 {
            let dtype = *floats.iter().next().unwrap_or(&DType::F32);
            if dtype != DType::F32 {
                model.to_dtype(dtype)?;
            }
        }
        model
            .load_named_tensors(map)
            .map_err(|e| invalid(format!("the stored tensors do not fit the stored architecture: {e}")))?;
        model.set_training(self.training);
        Ok(model)
    }
}

/// Label used in errors for checkpoints that are not files.
pub(crate) const BYTES_LABEL: &str = "<bytes>";

/// Reads a whole file, mapping failures to [`Error::Io`].
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(format!("reading checkpoint {}", path.display()), e))
}

/// Checks the frame and returns the header and body.
pub(crate) fn open_frame<'a>(bytes: &'a [u8], path: &str) -> Result<(Header, &'a [u8])> {
    format::decode_frame(bytes).map_err(|(problem, detail)| problem.at(path, detail))
}

/// Decodes the model part of a body of either kind.
pub(crate) fn decode_model(header: &Header, body: &[u8], path: &str) -> Result<ModelBody> {
    let undecodable = |e: String| CheckpointProblem::Undecodable.at(path, e);
    match header.kind {
        CheckpointKind::Model => codec::decode_exact::<ModelBody>(body).map_err(undecodable),
        // A training body starts with the model; the rest is not needed here.
        CheckpointKind::Training => codec::decode_prefix::<ModelBody>(body)
            .map(|(m, _)| m)
            .map_err(undecodable),
    }
}

/// Reads only the header of the checkpoint at `path`, after checking the
/// whole frame (magic, version, length, checksum).
pub fn read_header(path: impl AsRef<Path>) -> Result<Header> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    Ok(open_frame(&bytes, &path.display().to_string())?.0)
}

/// Model checkpoints.
impl Sequential {
    /// Saves the architecture, mode, parameters and buffers to `path`, atomically
    /// (see [`crate::checkpoint`]): a crash never leaves a damaged file there.
    ///
    /// Fails when a layer has no configuration (a custom module without
    /// [`Module::config`]) or the file cannot be written.
    ///
    /// ```
    /// use neurite::nn::{Linear, Module, ReLU, Sequential};
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
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        self.save_with(path, &SaveOptions::default())
    }

    /// [`Sequential::save`] with options (for example `F32` weights stored as `F16`).
    pub fn save_with(&self, path: impl AsRef<Path>, options: &SaveOptions) -> Result<()> {
        let bytes = self.to_checkpoint_bytes(options)?;
        atomic::write_atomic(path.as_ref(), &bytes)
    }

    /// The bytes [`Sequential::save_with`] writes.
    pub fn to_checkpoint_bytes(&self, options: &SaveOptions) -> Result<Vec<u8>> {
        let body = ModelBody::from_model(self, options)?;
        let encoded = codec::encode(&body).map_err(|e| Error::Checkpoint(format!("encoding the model: {e}")))?;
        Ok(format::encode_frame(CheckpointKind::Model, &encoded))
    }

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
        decode_model(&header, body, path)?.build(device, path)
    }

    /// Loads the weights of the checkpoint at `path` into this model.
    ///
    /// Every parameter and buffer name of the model must be in the checkpoint
    /// with the same shape and dtype, and the checkpoint must hold no other;
    /// all differences are listed in one [`CheckpointProblem::ArchitectureMismatch`]
    /// error, and nothing is changed unless there are none. The model keeps
    /// its device and mode.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let bytes = read_file(path)?;
        self.load_weights_from_bytes_labelled(&bytes, &path.display().to_string())
    }

    /// [`Sequential::load_weights`] from the bytes of a checkpoint file.
    pub fn load_weights_from_bytes(&mut self, bytes: &[u8]) -> Result<()> {
        self.load_weights_from_bytes_labelled(bytes, BYTES_LABEL)
    }

    fn load_weights_from_bytes_labelled(&mut self, bytes: &[u8], path: &str) -> Result<()> {
        let (header, body) = open_frame(bytes, path)?;
        let model = decode_model(&header, body, path)?;
        let checked = model.check(path)?;
        let map = ModelBody::tensor_map(&checked)?;
        self.load_named_tensors(&map).map_err(|e| {
            let note = match self.to_config() {
                Ok(mine) if mine != model.architecture => format!(
                    "\n  (the checkpoint's architecture has {} layer(s): {}; this model has {}: {})",
                    model.architecture.layers.len(),
                    describe(&model.architecture),
                    mine.layers.len(),
                    describe(&mine)
                ),
                _ => String::new(),
            };
            CheckpointProblem::ArchitectureMismatch.at(path, format!("{e}{note}"))
        })
    }
}

/// A one-line description of an architecture, for error messages.
fn describe(cfg: &SequentialConfig) -> String {
    let mut s = cfg
        .layers
        .iter()
        .map(|l| format!("{l:?}"))
        .collect::<Vec<_>>()
        .join(", ");
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
