//! Checkpoints: models and training state saved to files that survive crashes,
//! corruption and a change of device.
//!
//! - [`Sequential::save`](crate::nn::Sequential::save) /
//!   [`Sequential::load`](crate::nn::Sequential::load) save and rebuild a model
//!   (architecture, parameters, buffers, mode) with no code for built-in
//!   layers; [`Sequential::load_weights`](crate::nn::Sequential::load_weights)
//!   loads into an existing model, listing every name, shape and dtype
//!   mismatch in one error. [`SaveOptions`] stores `f32` weights as `f16`.
//! - [`save_training`] / [`load_training`] add the optimizer, scheduler,
//!   data-loader and global RNG states, epoch, step and the training history,
//!   so that training resumes bit-exactly ([`TrainingCheckpoint`]).
//! - [`Sequential::save_safetensors`](crate::nn::Sequential::save_safetensors) /
//!   [`Sequential::load_safetensors`](crate::nn::Sequential::load_safetensors)
//!   exchange weights with PyTorch under its `state_dict` names.
//!
//! # File format
//! A 48-byte header (magic, format version, kind, writer's crate version, body
//! length), a bincode body, and a CRC32 of both ([`format`]). Tensors are
//! stored as dtype, shape and little-endian bytes, copied through the host, so
//! a checkpoint saved on a GPU loads on the CPU and the other way round.
//!
//! # Crash safety
//! Every save writes a temporary file in the target's folder, syncs it, renames
//! it over the target and syncs the folder ([`write_atomic`]): after a crash the
//! target holds the previous checkpoint or the new one, whole. A save also
//! removes the temporary files earlier saves to the same target left when
//! their process was killed (Linux with glibc; see [`write_atomic`]).
//!
//! # Hostile input
//! Any byte string gives a model or an [`Error::BadCheckpoint`](crate::Error::BadCheckpoint),
//! never a panic or an unbounded allocation: from a path, only the fixed
//! header is read until its magic, version and declared length (against the
//! file's size) are checked, and never more than the declared length, so
//! `/dev/zero`, a FIFO or a huge sparse file cannot exhaust memory; the
//! checksum is checked before decoding; decoding
//! bounds nesting depth and never allocates more than the input holds; the
//! decoded content (byte counts against shapes, unique names, an architecture
//! that fits its stored tensors) is validated before anything is built.

mod arch;
mod atomic;
mod codec;
pub mod format;
mod interop;
mod limit;
mod model;
mod problem;
mod read;
mod record;
mod training;

pub use atomic::{write_atomic, write_atomic_via};
pub use format::{CheckpointKind, FORMAT_VERSION, Header};
pub use interop::{parse_safetensors, read_safetensors, safetensors_bytes, write_safetensors};
pub use model::{
    SaveOptions, load_model, load_model_from_bytes, load_weights, load_weights_from_bytes, model_to_bytes, read_header,
    save_model,
};
pub use problem::CheckpointProblem;
pub use training::{
    TrainingCheckpoint, TrainingSnapshot, load_training, load_training_as, load_training_from_bytes,
    load_training_into, load_training_into_from_bytes, save_training, training_to_bytes,
};
