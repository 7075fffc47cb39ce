//! Loading tensors into a module by name: the checks behind
//! [`super::Module::load_named_tensors_with`] and its [`LoadReport`].

use crate::{Error, Result, Tensor};
use std::collections::{HashMap, HashSet};

/// What a non-strict [`Module::load_named_tensors_with`] did not load, with
/// PyTorch's names (`_IncompatibleKeys`). Both lists are sorted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Tensors of the model that the source did not hold (they keep their values).
    pub missing_keys: Vec<String>,
    /// Tensors of the source that the model does not have (ignored).
    pub unexpected_keys: Vec<String>,
}

impl LoadReport {
    /// True when every tensor matched.
    pub fn is_complete(&self) -> bool {
        self.missing_keys.is_empty() && self.unexpected_keys.is_empty()
    }
}

/// Copies `value` into `target` in place, moving it to `target`'s device first.
pub(crate) fn assign(target: &Tensor, value: &Tensor) -> Result<()> {
    crate::no_grad(|| {
        let v = value.to_device(&target.device())?;
        target.set_data(&v)
    })
}

/// Finds `name` among `tensors` and copies `value` into it (the default [`Module::assign_named`]
/// for a module's own tensors).
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

/// Compares the tensors a module expects with those offered. Shape and dtype
/// differences are always errors; missing and unexpected names are errors
/// when `strict`, and are returned otherwise. Every problem is listed in one error.
pub(crate) fn check_named_tensors(
    expected: &[(String, Tensor)],
    map: &HashMap<String, Tensor>,
    strict: bool,
) -> Result<LoadReport> {
    let mut problems = Vec::new();
    let mut report = LoadReport::default();
    for (name, t) in expected {
        match map.get(name) {
            None => {
                if strict {
                    problems.push(format!(
                        "missing {name:?} (expected shape {}, dtype {})",
                        t.shape(),
                        t.dtype()
                    ));
                }
                report.missing_keys.push(name.clone());
            }
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
    if strict {
        problems.extend(unexpected.iter().map(|k| format!("unexpected {k:?}")));
    }
    report.unexpected_keys = unexpected.into_iter().cloned().collect();
    report.missing_keys.sort();
    if problems.is_empty() {
        return Ok(report);
    }
    Err(Error::invalid(
        "load_named_tensors",
        format!("{} problem(s):\n  - {}", problems.len(), problems.join("\n  - ")),
    ))
}
