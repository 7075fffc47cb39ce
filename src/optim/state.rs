//! Serializable optimizer state, for checkpoints that resume exactly.

use super::{AdamConfig, AdamWConfig, RmsPropConfig, SgdConfig};
use crate::{DType, Error, Result, Shape, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The hyperparameters of an optimizer, tagged by its kind.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum OptimizerConfig {
    /// [`super::Sgd`].
    Sgd(SgdConfig),
    /// [`super::Adam`].
    Adam(AdamConfig),
    /// [`super::AdamW`].
    AdamW(AdamWConfig),
    /// [`super::RmsProp`].
    RmsProp(RmsPropConfig),
    /// An optimizer defined outside this crate: a name and named values.
    Custom {
        /// The optimizer's name.
        name: String,
        /// Its hyperparameters.
        values: BTreeMap<String, f64>,
    },
}

impl OptimizerConfig {
    /// The kind's name (`"SGD"`, `"Adam"`, `"AdamW"`, `"RMSprop"` or the custom name).
    pub fn kind(&self) -> &str {
        match self {
            OptimizerConfig::Sgd(_) => "SGD",
            OptimizerConfig::Adam(_) => "Adam",
            OptimizerConfig::AdamW(_) => "AdamW",
            OptimizerConfig::RmsProp(_) => "RMSprop",
            OptimizerConfig::Custom { name, .. } => name,
        }
    }
}

/// The element values of a buffer: `f64` for `F64` parameters, `f32` otherwise
/// (exact for `F32`, `F16` and `BF16`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum HostData {
    /// Values of an `F32`, `F16` or `BF16` buffer.
    F32(Vec<f32>),
    /// Values of an `F64` buffer.
    F64(Vec<f64>),
}

/// One per-parameter buffer (a momentum buffer, a moment estimate) on the host.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HostBuffer {
    /// The buffer's dimensions (those of its parameter).
    pub shape: Vec<usize>,
    /// Its values in row-major order.
    pub data: HostData,
}

impl HostBuffer {
    /// Copies a tensor to the host.
    pub fn from_tensor(t: &Tensor) -> Result<HostBuffer> {
        let data = match t.dtype() {
            DType::F64 => HostData::F64(t.to_vec::<f64>()?),
            _ => HostData::F32(t.to_vec::<f32>()?),
        };
        Ok(HostBuffer {
            shape: t.dims().to_vec(),
            data,
        })
    }

    /// Rebuilds the buffer as a tensor with `like`'s shape, dtype and device.
    /// Errors when the shape differs or the data does not fill it.
    pub fn to_tensor(&self, like: &Tensor, op: &'static str) -> Result<Tensor> {
        if self.shape.as_slice() != like.dims() {
            return Err(Error::ShapeMismatch {
                op,
                lhs: Shape::from(self.shape.clone()),
                rhs: like.shape().clone(),
                expected: "a saved buffer with the shape of its parameter".into(),
            });
        }
        let device = like.device();
        let t = match &self.data {
            HostData::F32(v) => Tensor::from_slice(v, self.shape.clone(), &device)?,
            HostData::F64(v) => Tensor::from_slice(v, self.shape.clone(), &device)?,
        };
        t.to_dtype(like.dtype())
    }
}

/// The saved state of one parameter.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParamState {
    /// How many updates this parameter received (PyTorch's `state["step"]`).
    pub step: u64,
    /// Named buffers (`"momentum_buffer"`, `"exp_avg"`, `"exp_avg_sq"`, ...).
    pub buffers: BTreeMap<String, HostBuffer>,
}

/// Everything an optimizer needs to resume exactly where it stopped.
///
/// Serializable with serde (JSON, bincode). Parameters are keyed by their index
/// in the list given at construction; parameters that never received a gradient
/// have no entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// Hyperparameters, including the current learning rate.
    pub config: OptimizerConfig,
    /// The learning rate the first scheduler started from, if one was attached.
    pub initial_lr: Option<f64>,
    /// Number of completed `step` calls.
    pub step_count: u64,
    /// Number of parameters the optimizer was built with.
    pub param_count: usize,
    /// Per-parameter state, by parameter index.
    pub params: BTreeMap<usize, ParamState>,
}

impl OptimizerState {
    /// The error for a state saved by another kind of optimizer than `kind`.
    pub(crate) fn wrong_kind(&self, kind: &str, op: &'static str) -> Error {
        Error::invalid(
            op,
            format!("the state was saved by a {} optimizer, not {kind}", self.config.kind()),
        )
    }

    /// Checks that this state was saved by an optimizer over `params` (same
    /// count and shapes); the error names the first difference.
    pub(crate) fn check_against(&self, params: &[Tensor], op: &'static str) -> Result<()> {
        if self.param_count != params.len() {
            return Err(Error::invalid(
                op,
                format!(
                    "the state is for {} parameters, this optimizer has {}",
                    self.param_count,
                    params.len()
                ),
            ));
        }
        for (&i, ps) in &self.params {
            let Some(p) = params.get(i) else {
                return Err(Error::invalid(
                    op,
                    format!(
                        "the state has an entry for parameter {i}, but there are {}",
                        params.len()
                    ),
                ));
            };
            for (name, b) in &ps.buffers {
                if b.shape.as_slice() != p.dims() {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "buffer {name:?} of parameter {i} has shape {:?}, the parameter has shape {}",
                            b.shape,
                            p.shape()
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The buffer `name` of parameter `i` as a tensor like `p`, if saved.
    pub(crate) fn buffer(&self, i: usize, name: &str, p: &Tensor, op: &'static str) -> Result<Option<Tensor>> {
        match self.params.get(&i).and_then(|s| s.buffers.get(name)) {
            Some(b) => Ok(Some(b.to_tensor(p, op)?)),
            None => Ok(None),
        }
    }
}
