//! Serializable optimizer state, for checkpoints that resume exactly.

use super::{AdamConfig, AdamWConfig, RmsPropConfig, SgdConfig};
use crate::{DType, Error, Result, Shape, Tensor};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

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

    /// The learning rate (`None` for a custom kind without an `"lr"` value).
    pub fn lr(&self) -> Option<f64> {
        match self {
            OptimizerConfig::Sgd(c) => Some(c.lr),
            OptimizerConfig::Adam(c) => Some(c.lr),
            OptimizerConfig::AdamW(c) => Some(c.lr),
            OptimizerConfig::RmsProp(c) => Some(c.lr),
            OptimizerConfig::Custom { values, .. } => values.get("lr").copied(),
        }
    }

    /// The weight decay (`None` for a custom kind without a `"weight_decay"` value).
    pub fn weight_decay(&self) -> Option<f64> {
        match self {
            OptimizerConfig::Sgd(c) => Some(c.weight_decay),
            OptimizerConfig::Adam(c) => Some(c.weight_decay),
            OptimizerConfig::AdamW(c) => Some(c.weight_decay),
            OptimizerConfig::RmsProp(c) => Some(c.weight_decay),
            OptimizerConfig::Custom { values, .. } => values.get("weight_decay").copied(),
        }
    }

    /// Checks the hyperparameters as the optimizer's constructor does (a custom
    /// kind is not checked here: its optimizer checks its own values).
    pub fn validate(&self) -> Result<()> {
        match self {
            OptimizerConfig::Sgd(c) => c.validate(),
            OptimizerConfig::Adam(c) => c.validate(),
            OptimizerConfig::AdamW(c) => c.validate(),
            OptimizerConfig::RmsProp(c) => c.validate(),
            OptimizerConfig::Custom { .. } => Ok(()),
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

    /// Errors unless the data holds exactly as many values as the shape has
    /// elements (checked arithmetic: a crafted shape may overflow).
    pub fn check(&self, what: &str) -> Result<()> {
        let op = "OptimizerState";
        let elems = self
            .shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Error::invalid(op, format!("{what}: shape {:?} overflows", self.shape)))?;
        let len = match &self.data {
            HostData::F32(v) => v.len(),
            HostData::F64(v) => v.len(),
        };
        if len != elems {
            return Err(Error::invalid(
                op,
                format!("{what}: shape {:?} needs {elems} values, {len} stored", self.shape),
            ));
        }
        Ok(())
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

/// The saved structure and hyperparameters of one parameter group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupState {
    /// Indices of the group's parameters in the optimizer's list (PyTorch's
    /// `state_dict()["param_groups"][i]["params"]`): the groups number the
    /// parameters consecutively, group 0 first.
    pub params: Vec<usize>,
    /// The parameters' names, when the group was built with
    /// [`super::ParamGroup::named`].
    pub names: Option<Vec<String>>,
    /// The group's hyperparameters, including its current learning rate.
    pub config: OptimizerConfig,
    /// The learning rate the group's first scheduler started from
    /// (`param_group["initial_lr"]`), if one was attached.
    pub initial_lr: Option<f64>,
}

/// Everything an optimizer needs to resume exactly where it stopped.
///
/// Serializable with serde (JSON, bincode). Parameters are keyed by their index
/// in the optimizer's list ([`super::Optimizer::params`]: the groups'
/// parameters one group after the other); parameters that never received a
/// gradient have no entry. Deserialized states are checked by
/// [`OptimizerState::validate`] before anything uses them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OptimizerState {
    /// The defaults config the optimizer was built with (PyTorch's
    /// `defaults`); each group's own values, with its current learning rate,
    /// are in [`OptimizerState::groups`].
    pub config: OptimizerConfig,
    /// The parameter groups, in order.
    pub groups: Vec<GroupState>,
    /// Number of completed `step` calls.
    pub step_count: u64,
    /// Number of parameters the optimizer was built with.
    pub param_count: usize,
    /// Per-parameter state, by parameter index.
    pub params: BTreeMap<usize, ParamState>,
}

impl OptimizerState {
    /// A state with no progress: one group over `param_count` parameters with
    /// `config` as both the defaults and the group's values. A starting point
    /// for optimizers defined outside the crate, which fill in the rest.
    pub fn new(config: OptimizerConfig, param_count: usize) -> OptimizerState {
        OptimizerState {
            groups: vec![GroupState {
                params: (0..param_count).collect(),
                names: None,
                config: config.clone(),
                initial_lr: None,
            }],
            config,
            step_count: 0,
            param_count,
            params: BTreeMap::new(),
        }
    }

    /// Checks everything that does not depend on the parameters: at least one
    /// group; every group of the defaults' kind with valid hyperparameters and
    /// a finite, non-negative `initial_lr`; the groups numbering the
    /// parameters `0..param_count` consecutively; one name per parameter and
    /// no name twice; per-parameter entries within `param_count` whose buffers
    /// hold as many values as their shapes need. The error names the first
    /// problem.
    pub fn validate(&self) -> Result<()> {
        const OP: &str = "OptimizerState";
        self.config.validate()?;
        if self.groups.is_empty() {
            return Err(Error::invalid(OP, "the state has no parameter groups"));
        }
        let mut next = 0usize;
        let mut names = HashSet::new();
        for (g, group) in self.groups.iter().enumerate() {
            if group.config.kind() != self.config.kind() {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "group {g} holds {} hyperparameters in a {} state",
                        group.config.kind(),
                        self.config.kind()
                    ),
                ));
            }
            group.config.validate()?;
            if let Some(lr) = group.initial_lr
                && !(lr.is_finite() && lr >= 0.0)
            {
                return Err(Error::invalid(
                    OP,
                    format!("group {g} has initial_lr {lr}, expected a finite value >= 0"),
                ));
            }
            for &i in &group.params {
                if i != next {
                    return Err(Error::invalid(
                        OP,
                        format!(
                            "group {g} lists parameter {i} where parameter {next} was expected: \
                             the groups must number the parameters consecutively, as Optimizer::state writes them"
                        ),
                    ));
                }
                next += 1;
            }
            if let Some(group_names) = &group.names {
                if group_names.len() != group.params.len() {
                    return Err(Error::invalid(
                        OP,
                        format!(
                            "group {g} has {} parameters but {} names",
                            group.params.len(),
                            group_names.len()
                        ),
                    ));
                }
                for n in group_names {
                    if !names.insert(n.as_str()) {
                        return Err(Error::invalid(
                            OP,
                            format!("the parameter name {n:?} appears more than once (group {g})"),
                        ));
                    }
                }
            }
        }
        if next != self.param_count {
            return Err(Error::invalid(
                OP,
                format!(
                    "the groups hold {next} parameters, but the state is for {} parameters",
                    self.param_count
                ),
            ));
        }
        for (&i, ps) in &self.params {
            if i >= self.param_count {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "the state has an entry for parameter {i}, but there are {}",
                        self.param_count
                    ),
                ));
            }
            for (name, b) in &ps.buffers {
                b.check(&format!("buffer {name:?} of parameter {i}"))?;
            }
        }
        Ok(())
    }

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
