//! [`SearchSpace`]: the named hyper-parameters a search samples, and the
//! [`ParamValue`]s a trial gets.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// One value of a hyper-parameter: a float, an integer or a string.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ParamValue {
    /// A float (uniform and log-uniform parameters, float choices).
    Float(f64),
    /// An integer (integer parameters, integer choices).
    Int(i64),
    /// A string choice (`"relu"`).
    Str(String),
}

impl std::fmt::Display for ParamValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParamValue::Float(v) => write!(f, "{v}"),
            ParamValue::Int(v) => write!(f, "{v}"),
            ParamValue::Str(v) => write!(f, "{v}"),
        }
    }
}

impl From<f64> for ParamValue {
    fn from(v: f64) -> Self {
        ParamValue::Float(v)
    }
}

impl From<i64> for ParamValue {
    fn from(v: i64) -> Self {
        ParamValue::Int(v)
    }
}

impl From<i32> for ParamValue {
    fn from(v: i32) -> Self {
        ParamValue::Int(v.into())
    }
}

impl From<&str> for ParamValue {
    fn from(v: &str) -> Self {
        ParamValue::Str(v.to_string())
    }
}

impl From<String> for ParamValue {
    fn from(v: String) -> Self {
        ParamValue::Str(v)
    }
}

impl ParamValue {
    /// The value as a float (integers convert), or `None` for strings.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            ParamValue::Float(v) => Some(*v),
            ParamValue::Int(v) => Some(*v as f64),
            ParamValue::Str(_) => None,
        }
    }
}

/// How one hyper-parameter is distributed (Optuna's `suggest_*` kinds).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Distribution {
    /// A float uniform in `[low, high]`.
    Uniform {
        /// Smallest value.
        low: f64,
        /// Largest value.
        high: f64,
    },
    /// A float whose logarithm is uniform in `[ln low, ln high]` (learning
    /// rates, weight decays); `0 < low`.
    LogUniform {
        /// Smallest value (positive).
        low: f64,
        /// Largest value.
        high: f64,
    },
    /// An integer in `[low, high]`, both included, uniform or log-uniform.
    Int {
        /// Smallest value.
        low: i64,
        /// Largest value.
        high: i64,
        /// Sample the logarithm uniformly (layer widths); needs `low >= 1`.
        log: bool,
    },
    /// One of a list of values.
    Categorical(Vec<ParamValue>),
}

impl Distribution {
    /// An error unless the distribution can be sampled: finite bounds with
    /// `low <= high`, positive bounds for log scales, a non-empty choice list
    /// without repeats.
    pub fn validate(&self, name: &str) -> Result<()> {
        let op = "SearchSpace";
        let fail = |msg: String| Err(Error::invalid(op, format!("parameter {name:?}: {msg}")));
        match self {
            Distribution::Uniform { low, high } | Distribution::LogUniform { low, high } => {
                if !low.is_finite() || !high.is_finite() {
                    return fail(format!("bounds must be finite, got [{low}, {high}]"));
                }
                if low > high {
                    return fail(format!("low {low} is above high {high}"));
                }
                if matches!(self, Distribution::LogUniform { .. }) && *low <= 0.0 {
                    return fail(format!("a log-uniform range needs low > 0, got [{low}, {high}]"));
                }
            }
            Distribution::Int { low, high, log } => {
                if low > high {
                    return fail(format!("low {low} is above high {high}"));
                }
                if *log && *low < 1 {
                    return fail(format!("a log-scale integer range needs low >= 1, got [{low}, {high}]"));
                }
            }
            Distribution::Categorical(choices) => {
                if choices.is_empty() {
                    return fail("the choice list is empty".into());
                }
                for (i, c) in choices.iter().enumerate() {
                    if let ParamValue::Float(v) = c
                        && !v.is_finite()
                    {
                        return fail(format!("choice {i} is {v}, not a finite number"));
                    }
                    if choices[..i].contains(c) {
                        return fail(format!("choice {c} is listed twice"));
                    }
                }
            }
        }
        Ok(())
    }

    /// True when `value` is a value this distribution can produce.
    pub(crate) fn contains(&self, value: &ParamValue) -> bool {
        match (self, value) {
            (Distribution::Uniform { low, high } | Distribution::LogUniform { low, high }, ParamValue::Float(v)) => {
                *low <= *v && *v <= *high
            }
            (Distribution::Int { low, high, .. }, ParamValue::Int(v)) => *low <= *v && *v <= *high,
            (Distribution::Categorical(choices), v) => choices.contains(v),
            _ => false,
        }
    }
}

/// The hyper-parameters of a search, in the order they were added.
///
/// ```
/// use neurite::search::SearchSpace;
/// let space = SearchSpace::new()
///     .log_uniform("lr", 1e-4, 1e-1)
///     .int("width", 32, 256)
///     .uniform("dropout", 0.0, 0.5)
///     .categorical("activation", ["relu", "tanh"]);
/// assert_eq!(space.len(), 4);
/// assert!(space.validate().is_ok());
/// assert!(neurite::search::SearchSpace::new().uniform("x", 1.0, 0.0).validate().is_err());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SearchSpace {
    params: Vec<(String, Distribution)>,
}

impl SearchSpace {
    /// An empty space.
    pub fn new() -> SearchSpace {
        SearchSpace::default()
    }

    /// Adds (or replaces) parameter `name` with distribution `d`.
    pub fn param(mut self, name: impl Into<String>, d: Distribution) -> SearchSpace {
        let name = name.into();
        match self.params.iter_mut().find(|(n, _)| *n == name) {
            Some(entry) => entry.1 = d,
            None => self.params.push((name, d)),
        }
        self
    }

    /// A float uniform in `[low, high]`.
    pub fn uniform(self, name: impl Into<String>, low: f64, high: f64) -> SearchSpace {
        self.param(name, Distribution::Uniform { low, high })
    }

    /// A float log-uniform in `[low, high]`.
    pub fn log_uniform(self, name: impl Into<String>, low: f64, high: f64) -> SearchSpace {
        self.param(name, Distribution::LogUniform { low, high })
    }

    /// An integer uniform in `[low, high]`.
    pub fn int(self, name: impl Into<String>, low: i64, high: i64) -> SearchSpace {
        self.param(name, Distribution::Int { low, high, log: false })
    }

    /// An integer log-uniform in `[low, high]` (`low >= 1`).
    pub fn int_log(self, name: impl Into<String>, low: i64, high: i64) -> SearchSpace {
        self.param(name, Distribution::Int { low, high, log: true })
    }

    /// One of `choices` (strings, integers or floats).
    pub fn categorical<V: Into<ParamValue>>(
        self,
        name: impl Into<String>,
        choices: impl IntoIterator<Item = V>,
    ) -> SearchSpace {
        self.param(
            name,
            Distribution::Categorical(choices.into_iter().map(Into::into).collect()),
        )
    }

    /// The parameters and their distributions, in order.
    pub fn params(&self) -> &[(String, Distribution)] {
        &self.params
    }

    /// Number of parameters.
    pub fn len(&self) -> usize {
        self.params.len()
    }

    /// True with no parameter.
    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// An error naming the first parameter that cannot be sampled, or an
    /// empty name.
    pub fn validate(&self) -> Result<()> {
        for (name, d) in &self.params {
            if name.is_empty() {
                return Err(Error::invalid("SearchSpace", "a parameter has an empty name"));
            }
            d.validate(name)?;
        }
        Ok(())
    }
}

/// The values of one trial's hyper-parameters, by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Params(pub(crate) Vec<(String, ParamValue)>);

impl Params {
    /// The value called `name`.
    pub fn get(&self, name: &str) -> Option<&ParamValue> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// `(name, value)` pairs in the space's order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ParamValue)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The value of `name` as a float (integers convert); an error when it is
    /// missing or a string.
    pub fn f64(&self, name: &str) -> Result<f64> {
        self.require(name)?.as_f64().ok_or_else(|| self.wrong(name, "a number"))
    }

    /// The value of `name` as an integer; an error when it is missing or not
    /// an integer.
    pub fn i64(&self, name: &str) -> Result<i64> {
        match self.require(name)? {
            ParamValue::Int(v) => Ok(*v),
            _ => Err(self.wrong(name, "an integer")),
        }
    }

    /// The value of `name` as a size (a non-negative integer).
    pub fn usize(&self, name: &str) -> Result<usize> {
        let v = self.i64(name)?;
        usize::try_from(v).map_err(|_| self.wrong(name, "a non-negative integer"))
    }

    /// The value of `name` as a string choice.
    pub fn str(&self, name: &str) -> Result<&str> {
        match self.require(name)? {
            ParamValue::Str(v) => Ok(v),
            _ => Err(self.wrong(name, "a string")),
        }
    }

    fn require(&self, name: &str) -> Result<&ParamValue> {
        self.get(name).ok_or_else(|| {
            let names: Vec<&str> = self.0.iter().map(|(n, _)| n.as_str()).collect();
            Error::invalid("Params", format!("no parameter {name:?} (the space has {names:?})"))
        })
    }

    fn wrong(&self, name: &str, expected: &str) -> Error {
        let got = self.get(name).map(|v| format!("{v:?}")).unwrap_or_default();
        Error::invalid("Params", format!("parameter {name:?} is {got}, expected {expected}"))
    }
}

impl std::fmt::Display for Params {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (n, v)) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ", ")?;
            }
            match v {
                ParamValue::Float(x) if x.abs() >= 1e-2 && x.abs() < 1e4 => write!(f, "{n}={x:.4}")?,
                ParamValue::Float(x) => write!(f, "{n}={x:.3e}")?,
                other => write!(f, "{n}={other}")?,
            }
        }
        Ok(())
    }
}
