//! Training checkpoints: everything a training loop needs to resume exactly.

use super::format::{self, CheckpointKind};
use super::model::{BYTES_LABEL, ModelBody, SaveOptions, open_frame, read_file};
use super::record::{MAX_RANK, RawBytes, checked_elem_count};
use super::{CheckpointProblem, atomic, codec};
use crate::data::{DataLoader, LoaderState};
use crate::nn::{Configurable, Module, Sequential};
use crate::optim::lr_scheduler::LrScheduler;
use crate::optim::{HostData, Optimizer, OptimizerState, SchedulerState};
use crate::{Device, Error, Result, RngState};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

/// What [`save_training`] writes: borrowed views of the live training objects.
///
/// The global random generator's state is captured when the snapshot is
/// saved, unless one is given with [`TrainingSnapshot::rng`]. `H` is the
/// training history, any serde type (the crate's `train::History`, or `()`).
///
/// ```
/// use neurite::checkpoint::{load_training, save_training, TrainingSnapshot};
/// use neurite::nn::{Linear, Module, Sequential};
/// use neurite::optim::{Optimizer, Sgd, SgdConfig};
/// use neurite::Device;
/// # fn main() -> neurite::Result<()> {
/// let path = std::env::temp_dir().join(format!("neurite-doc-train-{}.ckpt", std::process::id()));
/// let model = Sequential::new().add(Linear::new(2, 1));
/// let opt = Sgd::new(model.parameters(), SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
/// let history: Vec<f64> = vec![0.5, 0.25];
/// save_training(&path, &TrainingSnapshot::new(&model, &opt, &history).epoch(2).step(20))?;
///
/// let ckpt = load_training::<Vec<f64>>(&path, &Device::cpu())?;
/// assert_eq!((ckpt.epoch, ckpt.step, ckpt.history.clone()), (2, 20, history));
/// let opt = ckpt.build_optimizer()?; // over ckpt.model's parameters, state restored
/// assert_eq!(opt.lr(), 0.1);
/// # std::fs::remove_file(&path).unwrap();
/// # Ok(()) }
/// ```
pub struct TrainingSnapshot<'a, H> {
    model: &'a dyn Module,
    optimizer: &'a dyn Optimizer,
    history: &'a H,
    scheduler: Option<&'a dyn LrScheduler>,
    loader: Option<&'a DataLoader>,
    epoch: u64,
    step: u64,
    rng: Option<RngState>,
    options: SaveOptions,
}

impl<'a, H> TrainingSnapshot<'a, H> {
    /// A snapshot of a model (any module), its optimizer and the history so far, at epoch 0, step 0.
    pub fn new(model: &'a dyn Module, optimizer: &'a dyn Optimizer, history: &'a H) -> Self {
        TrainingSnapshot {
            model,
            optimizer,
            history,
            scheduler: None,
            loader: None,
            epoch: 0,
            step: 0,
            rng: None,
            options: SaveOptions::default(),
        }
    }

    /// Completed epochs.
    pub fn epoch(mut self, epoch: u64) -> Self {
        self.epoch = epoch;
        self
    }

    /// Completed optimizer steps (batches).
    pub fn step(mut self, step: u64) -> Self {
        self.step = step;
        self
    }

    /// The learning-rate scheduler driving the optimizer.
    pub fn scheduler(mut self, scheduler: &'a dyn LrScheduler) -> Self {
        self.scheduler = Some(scheduler);
        self
    }

    /// The training data loader, whose shuffling generator is saved (take the
    /// snapshot between epochs).
    pub fn loader(mut self, loader: &'a DataLoader) -> Self {
        self.loader = Some(loader);
        self
    }

    /// A random-generator state to save instead of the current global one.
    pub fn rng(mut self, state: RngState) -> Self {
        self.rng = Some(state);
        self
    }

    /// How the model's tensors are stored (storing `F32` as `F16` loses the
    /// bit-exact resume).
    pub fn options(mut self, options: SaveOptions) -> Self {
        self.options = options;
        self
    }
}

/// A loaded training checkpoint: the rebuilt model (on the device asked for)
/// and the state to resume from.
///
/// To resume exactly: build the optimizer with
/// [`TrainingCheckpoint::build_optimizer`] (or load
/// [`TrainingCheckpoint::optimizer_state`] into one built over
/// `model.parameters()`), the scheduler with
/// [`TrainingCheckpoint::build_scheduler`], restore the data loader with
/// [`TrainingCheckpoint::restore_loader`] and, last, the global generator with
/// [`TrainingCheckpoint::restore_rng`]; then continue from epoch `epoch`.
pub struct TrainingCheckpoint<H, M = Sequential> {
    /// The model, with the weights, buffers and mode it was saved with: a
    /// rebuilt `Sequential` ([`load_training`]), a rebuilt [`Configurable`]
    /// module ([`load_training_as`]) or the model given to [`load_training_into`].
    pub model: M,
    /// The optimizer's hyperparameters, step counts and buffers.
    pub optimizer_state: OptimizerState,
    /// The scheduler's configuration and progress, if one was saved.
    pub scheduler_state: Option<SchedulerState>,
    /// The data loader's state, if one was saved.
    pub loader_state: Option<LoaderState>,
    /// The global random generator's state at save time.
    pub rng: RngState,
    /// Completed epochs.
    pub epoch: u64,
    /// Completed optimizer steps.
    pub step: u64,
    /// The training history.
    pub history: H,
    /// The version of neurite that wrote the file.
    pub crate_version: String,
}

/// Everything of a training body after the model.
#[derive(serde::Serialize, serde::Deserialize)]
struct TrainingExtra {
    optimizer: OptimizerState,
    scheduler: Option<SchedulerState>,
    loader: Option<LoaderState>,
    rng: RngState,
    epoch: u64,
    step: u64,
    /// The history, encoded on its own so that its type is needed only to read it.
    history: RawBytes,
}

/// Saves a training checkpoint atomically (see [`crate::checkpoint`]).
pub fn save_training<H: Serialize>(path: impl AsRef<Path>, snapshot: &TrainingSnapshot<'_, H>) -> Result<()> {
    let bytes = training_to_bytes(snapshot)?;
    atomic::write_atomic(path.as_ref(), &bytes)
}

/// The bytes [`save_training`] writes.
pub fn training_to_bytes<H: Serialize>(snapshot: &TrainingSnapshot<'_, H>) -> Result<Vec<u8>> {
    let encode_err = |what: &str, e: String| Error::Checkpoint(format!("encoding the {what}: {e}"));
    let model = ModelBody::from_model(snapshot.model, &snapshot.options)?;
    let history = codec::encode(snapshot.history).map_err(|e| encode_err("history", e))?;
    let extra = TrainingExtra {
        optimizer: snapshot.optimizer.state()?,
        scheduler: snapshot.scheduler.map(|s| s.state()),
        loader: snapshot.loader.map(|l| l.state()),
        rng: snapshot.rng.clone().unwrap_or_else(crate::rng_state),
        epoch: snapshot.epoch,
        step: snapshot.step,
        history: RawBytes(history),
    };
    // A tuple encodes as its fields one after the other, so the body starts
    // with exactly what a model checkpoint's body holds.
    let body = codec::encode(&(&model, &extra)).map_err(|e| encode_err("training state", e))?;
    Ok(format::encode_frame(CheckpointKind::Training, &body))
}

/// Loads a training checkpoint saved by [`save_training`], rebuilding the
/// model on `device`. `H` must be the history type it was saved with.
///
/// Everything is validated before it is returned: the frame, the model (as
/// [`Sequential::load`] does), the optimizer buffers' sizes and the scheduler
/// state. Nothing global is changed (see [`TrainingCheckpoint::restore_rng`]).
pub fn load_training<H: DeserializeOwned>(path: impl AsRef<Path>, device: &Device) -> Result<TrainingCheckpoint<H>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    load_training_labelled(&bytes, &path.display().to_string(), |m, label| {
        m.build_sequential(device, label)
    })
}

/// [`load_training`] from the bytes of a checkpoint file.
pub fn load_training_from_bytes<H: DeserializeOwned>(bytes: &[u8], device: &Device) -> Result<TrainingCheckpoint<H>> {
    load_training_labelled(bytes, BYTES_LABEL, |m, label| m.build_sequential(device, label))
}

/// [`load_training`] for a [`Configurable`] module (a derived model with
/// `#[module(config)]`): rebuilds it with no code.
pub fn load_training_as<H: DeserializeOwned, M: Configurable>(
    path: impl AsRef<Path>,
    device: &Device,
) -> Result<TrainingCheckpoint<H, M>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    let label = path.display().to_string();
    load_training_labelled(&bytes, &label, |body, label| {
        body.build_configurable::<M>(device, label)
    })
}

/// [`load_training`] into a model built in code (any module): its weights,
/// buffers and mode are loaded by name (strictly, as [`super::load_weights`]),
/// and the checkpoint returned owns it. The model keeps its device.
pub fn load_training_into<H: DeserializeOwned, M: Module>(
    path: impl AsRef<Path>,
    model: M,
) -> Result<TrainingCheckpoint<H, M>> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    load_training_into_bytes(&bytes, model, &path.display().to_string())
}

/// [`load_training_into`] from the bytes of a checkpoint file.
pub fn load_training_into_from_bytes<H: DeserializeOwned, M: Module>(
    bytes: &[u8],
    model: M,
) -> Result<TrainingCheckpoint<H, M>> {
    load_training_into_bytes(bytes, model, BYTES_LABEL)
}

fn load_training_into_bytes<H: DeserializeOwned, M: Module>(
    bytes: &[u8],
    model: M,
    label: &str,
) -> Result<TrainingCheckpoint<H, M>> {
    load_training_labelled(bytes, label, move |body, label| {
        let mut m = model;
        let checked = body.check(label)?;
        let map = ModelBody::tensor_map(&checked)?;
        m.load_named_tensors(&map)
            .map_err(|e| CheckpointProblem::ArchitectureMismatch.at(label, e.to_string()))?;
        m.set_training(body.training);
        Ok(m)
    })
}

fn load_training_labelled<H: DeserializeOwned, M>(
    bytes: &[u8],
    path: &str,
    build: impl FnOnce(&ModelBody, &str) -> Result<M>,
) -> Result<TrainingCheckpoint<H, M>> {
    let (header, body) = open_frame(bytes, path)?;
    if header.kind != CheckpointKind::Training {
        return Err(CheckpointProblem::WrongKind.at(
            path,
            format!(
                "this is a {} checkpoint, which holds no training state (load it with Sequential::load \
                 or load_weights)",
                header.kind.as_str()
            ),
        ));
    }
    let undecodable = |e: String| CheckpointProblem::Undecodable.at(path, e);
    let (model, used) = ModelBody::decode_prefix(header.format_version, body).map_err(undecodable)?;
    let extra: TrainingExtra = codec::decode_exact(&body[used..]).map_err(undecodable)?;
    let invalid = |e: String| CheckpointProblem::InvalidContent.at(path, e);
    check_optimizer_state(&extra.optimizer).map_err(invalid)?;
    if let Some(s) = &extra.scheduler {
        s.clone()
            .into_scheduler()
            .map_err(|e| invalid(format!("scheduler state: {e}")))?;
    }
    let history: H = codec::decode_exact(&extra.history.0).map_err(|e| {
        undecodable(format!(
            "history: {e} (was it saved as a {}?)",
            std::any::type_name::<H>()
        ))
    })?;
    let model = build(&model, path)?;
    Ok(TrainingCheckpoint {
        model,
        optimizer_state: extra.optimizer,
        scheduler_state: extra.scheduler,
        loader_state: extra.loader,
        rng: extra.rng,
        epoch: extra.epoch,
        step: extra.step,
        history,
        crate_version: header.crate_version,
    })
}

/// Checks that every optimizer buffer's data fills its shape, so that no later
/// conversion can fail on sizes.
fn check_optimizer_state(state: &OptimizerState) -> std::result::Result<(), String> {
    for (&i, p) in &state.params {
        if i >= state.param_count {
            return Err(format!(
                "optimizer state for parameter {i}, but the optimizer has {}",
                state.param_count
            ));
        }
        for (name, b) in &p.buffers {
            if b.shape.len() > MAX_RANK {
                return Err(format!(
                    "optimizer buffer {name:?} of parameter {i}: rank {} is above the maximum of {MAX_RANK}",
                    b.shape.len()
                ));
            }
            // The partial products of the non-zero dims too: a zero dim makes
            // the product fit while the strides of the rebuilt tensor overflow.
            let elems = checked_elem_count(&b.shape).ok_or_else(|| {
                format!(
                    "optimizer buffer {name:?} of parameter {i}: shape {:?} has too many elements",
                    b.shape
                )
            })?;
            let len = match &b.data {
                HostData::F32(v) => v.len(),
                HostData::F64(v) => v.len(),
            };
            if len != elems {
                return Err(format!(
                    "optimizer buffer {name:?} of parameter {i}: shape {:?} needs {elems} values, {len} stored",
                    b.shape
                ));
            }
        }
    }
    // The group structure and hyperparameters.
    state.validate().map_err(|e| e.to_string())
}

impl<H, M: Module> TrainingCheckpoint<H, M> {
    /// Rebuilds the optimizer over the model's parameters with its saved
    /// parameter groups, hyperparameters, step counts and buffers (see
    /// [`OptimizerState::build_optimizer`]). Fails for a custom optimizer
    /// kind (load [`TrainingCheckpoint::optimizer_state`] into your own) or when
    /// the state does not fit the model's parameters.
    pub fn build_optimizer(&self) -> Result<Box<dyn Optimizer>> {
        self.optimizer_state.build_optimizer(self.model.named_parameters())
    }

    /// Rebuilds the scheduler in its saved state, if one was saved. The
    /// optimizer's learning rate comes from the optimizer state, not from here.
    pub fn build_scheduler(&self) -> Result<Option<Box<dyn LrScheduler>>> {
        self.scheduler_state
            .clone()
            .map(SchedulerState::into_scheduler)
            .transpose()
    }

    /// Puts the data loader where it stood when the checkpoint was taken, so the
    /// next epoch is shuffled as it would have been. Fails when no loader state
    /// was saved, or when it was saved by a loader over a dataset of another
    /// length or with another batch size.
    pub fn restore_loader(&self, loader: &mut DataLoader) -> Result<()> {
        let state = self.loader_state.as_ref().ok_or_else(|| {
            Error::invalid(
                "TrainingCheckpoint::restore_loader",
                "the checkpoint holds no data-loader state (save it with TrainingSnapshot::loader)",
            )
        })?;
        loader.set_state(state)
    }

    /// Restores the global random generator (dropout masks, random init) to
    /// its state at save time. Call it last, after building anything that
    /// draws random numbers.
    pub fn restore_rng(&self) {
        crate::set_rng_state(&self.rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{HostBuffer, ParamState, Sgd, SgdConfig};
    use crate::{DType, Tensor};
    use std::collections::BTreeMap;

    /// A real optimizer's state, with one empty buffer of `shape` for its parameter.
    fn state_with_buffer(shape: Vec<usize>) -> OptimizerState {
        let w = Tensor::zeros(2, DType::F32, &Device::Cpu).unwrap();
        let mut state = Sgd::new(vec![w], SgdConfig::new(0.1)).unwrap().state().unwrap();
        let buffer = HostBuffer {
            shape,
            data: HostData::F32(vec![]),
        };
        state.params.insert(
            0,
            ParamState {
                step: 1,
                buffers: BTreeMap::from([("momentum_buffer".to_string(), buffer)]),
            },
        );
        state
    }

    #[test]
    fn optimizer_buffer_shapes_are_checked_like_tensor_shapes() {
        assert_eq!(check_optimizer_state(&state_with_buffer(vec![0])), Ok(()));
        assert_eq!(check_optimizer_state(&state_with_buffer(vec![3, 0, 5])), Ok(()));
        // No element, but the strides of the other dimensions overflow.
        let err = check_optimizer_state(&state_with_buffer(vec![0, 1 << 40, 1 << 40])).unwrap_err();
        assert!(err.contains("too many elements"), "{err}");
        let err = check_optimizer_state(&state_with_buffer(vec![0; MAX_RANK + 1])).unwrap_err();
        assert!(err.contains("rank 65"), "{err}");
        let err = check_optimizer_state(&state_with_buffer(vec![2])).unwrap_err();
        assert!(err.contains("needs 2 values, 0 stored"), "{err}");
    }
}
