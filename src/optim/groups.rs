//! The parameter groups every built-in optimizer keeps, and what they share:
//! building them from [`ParamGroup`]s, the per-group `Optimizer` accessors,
//! and the group part of saving and restoring state.
//!
//! The parameters live in one list, group after group, so that a parameter's
//! index (the key of its saved state) is its position in that list, as in
//! PyTorch's `state_dict()`.

use super::common::check_lr;
use super::param_group::{GroupOptions, ParamGroup};
use super::state::{GroupState, OptimizerConfig, OptimizerState, ParamState};
use crate::tensor::TensorId;
use crate::{Error, Result, Tensor};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::ops::Range;

/// The hyperparameters of one optimizer kind, as held by each group.
pub(crate) trait GroupConfig: Clone + Send + Sized {
    /// The optimizer's name (`"SGD"`, ...), as in messages and states.
    const KIND: &'static str;
    /// The options a group may set for this kind.
    const OPTIONS: &'static [&'static str];

    fn lr(&self) -> f64;
    /// Sets the lr as given; callers check it first (see [`Groups::set_lr_all`]).
    fn set_lr(&mut self, lr: f64);
    /// The momentum-like value a one-cycle schedule cycles, if any.
    fn momentum(&self) -> Option<f64>;
    /// Sets it after checking it lies in `[0, 1)` and that the config stays
    /// valid with it; on an error `self` may be left changed, so callers
    /// work on a copy.
    fn set_momentum(&mut self, momentum: f64) -> Result<()>;
    fn validate(&self) -> Result<()>;
    /// `self` with the values `o` sets (only those in `OPTIONS` are read).
    fn apply(&self, o: &GroupOptions) -> Self;
    /// Every value of `self` as a set option.
    fn to_options(&self) -> GroupOptions;
    fn wrap(&self) -> OptimizerConfig;
    fn unwrap(config: &OptimizerConfig) -> Option<Self>;
}

/// One group: its slice of the parameter list and its hyperparameters.
pub(crate) struct Group<C> {
    pub(crate) range: Range<usize>,
    pub(crate) config: C,
    pub(crate) initial_lr: Option<f64>,
    pub(crate) names: Option<Vec<String>>,
}

/// The groups of an optimizer, its parameters and its step counter.
pub(crate) struct Groups<C> {
    pub(crate) params: Vec<Tensor>,
    pub(crate) groups: Vec<Group<C>>,
    pub(crate) defaults: C,
    pub(crate) steps: u64,
}

/// What a checked state restores, applied only once everything was checked.
pub(crate) struct Restore<C> {
    defaults: C,
    groups: Vec<(C, Option<f64>)>,
    steps: u64,
}

/// Adds the group index to the message of an invalid-argument error, where
/// there is more than one group to tell apart.
fn in_group(e: Error, g: usize, n: usize) -> Error {
    match e {
        Error::InvalidArgument { op, msg } if n > 1 => Error::InvalidArgument {
            op,
            msg: format!("parameter group {g}: {msg}"),
        },
        other => other,
    }
}

/// Errors unless an `initial_lr` (the base lr of the schedules) is finite and `>= 0`.
fn check_initial_lr(op: &'static str, lr: Option<f64>) -> Result<()> {
    match lr {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(Error::invalid(
            op,
            format!("Invalid initial_lr: {v} (initial_lr must be a finite value >= 0)"),
        )),
        _ => Ok(()),
    }
}

/// The error for a group index past the last group.
pub(crate) fn bad_group(op: &'static str, kind: &str, group: usize, n: usize) -> Error {
    Error::invalid(
        op,
        format!("{kind} has {n} parameter group(s), there is no group {group}"),
    )
}

impl<C: GroupConfig> Groups<C> {
    /// Builds the groups: every group's options applied to `defaults` and
    /// checked, every parameter floating point and in exactly one group.
    pub(crate) fn new(groups: Vec<ParamGroup>, defaults: C) -> Result<Self> {
        let op = C::KIND;
        defaults.validate()?;
        let n = groups.len();
        let mut params = Vec::new();
        let mut out = Vec::with_capacity(n);
        let mut seen: HashMap<TensorId, (usize, usize)> = HashMap::new();
        let mut names_seen: HashSet<String> = HashSet::new();
        for (g, pg) in groups.into_iter().enumerate() {
            let unknown: Vec<&str> = pg
                .options
                .set_names()
                .into_iter()
                .filter(|name| !C::OPTIONS.contains(name))
                .collect();
            if !unknown.is_empty() {
                return Err(Error::invalid(
                    op,
                    format!(
                        "parameter group {g} sets {unknown:?}, which {op} does not have (its hyperparameters: {:?})",
                        C::OPTIONS
                    ),
                ));
            }
            let config = defaults.apply(&pg.options);
            config.validate().map_err(|e| in_group(e, g, n))?;
            let at = |j: usize| {
                if n > 1 {
                    format!("parameter {j} of group {g}")
                } else {
                    format!("parameter {j}")
                }
            };
            for (j, p) in pg.params.iter().enumerate() {
                if !p.dtype().is_float() {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "{} has dtype {}, only floating-point tensors can be optimized",
                            at(j),
                            p.dtype()
                        ),
                    ));
                }
                if let Some(&(h, k)) = seen.get(&p.id()) {
                    let msg = if h == g {
                        format!("{} appears more than once in the list (first as parameter {k})", at(j))
                    } else {
                        format!(
                            "some parameters appear in more than one parameter group: {} is also parameter {k} of group {h}",
                            at(j)
                        )
                    };
                    return Err(Error::invalid(op, msg));
                }
                seen.insert(p.id(), (g, j));
            }
            if let Some(names) = &pg.names {
                for name in names {
                    if !names_seen.insert(name.clone()) {
                        return Err(Error::invalid(
                            op,
                            format!("the parameter name {name:?} appears more than once"),
                        ));
                    }
                }
            }
            let start = params.len();
            params.extend(pg.params);
            out.push(Group {
                range: start..params.len(),
                config,
                initial_lr: None,
                names: pg.names,
            });
        }
        if params.is_empty() {
            return Err(Error::invalid(op, "got an empty parameter list"));
        }
        Ok(Groups {
            params,
            groups: out,
            defaults,
            steps: 0,
        })
    }

    /// One group over `params` with `config`.
    pub(crate) fn single(params: Vec<Tensor>, config: C) -> Result<Self> {
        Self::new(vec![ParamGroup::new(params)], config)
    }

    /// Group `i`, or an error naming the accessor `op`.
    pub(crate) fn get(&self, i: usize, op: &'static str) -> Result<&Group<C>> {
        self.groups
            .get(i)
            .ok_or_else(|| bad_group(op, C::KIND, i, self.groups.len()))
    }

    /// Group `i`, mutably.
    pub(crate) fn get_mut(&mut self, i: usize, op: &'static str) -> Result<&mut Group<C>> {
        let n = self.groups.len();
        self.groups.get_mut(i).ok_or_else(|| bad_group(op, C::KIND, i, n))
    }

    /// The parameters of group `i`.
    pub(crate) fn group_params(&self, i: usize) -> Result<&[Tensor]> {
        let range = self.get(i, "group_params")?.range.clone();
        Ok(&self.params[range])
    }

    /// Sets the momentum of every group, after checking it against every
    /// group's other values (SGD's Nesterov rule), so that an invalid value
    /// changes nothing.
    pub(crate) fn set_momentum_all(&mut self, momentum: f64) -> Result<()> {
        let mut updated = Vec::with_capacity(self.groups.len());
        let n = self.groups.len();
        for (i, g) in self.groups.iter().enumerate() {
            let mut c = g.config.clone();
            c.set_momentum(momentum).map_err(|e| in_group(e, i, n))?;
            updated.push(c);
        }
        for (g, c) in self.groups.iter_mut().zip(updated) {
            g.config = c;
        }
        Ok(())
    }

    /// Sets the lr of every group after checking it ("Invalid learning rate").
    pub(crate) fn set_lr_all(&mut self, lr: f64) -> Result<()> {
        check_lr(C::KIND, lr)?;
        for g in &mut self.groups {
            g.config.set_lr(lr);
        }
        Ok(())
    }

    /// Sets the lr of group `i` after checking it.
    pub(crate) fn set_group_lr(&mut self, i: usize, lr: f64) -> Result<()> {
        let g = self.get_mut(i, "set_group_lr")?;
        check_lr(C::KIND, lr)?;
        g.config.set_lr(lr);
        Ok(())
    }

    /// Sets or clears the `initial_lr` of every group after checking it.
    pub(crate) fn set_initial_lr_all(&mut self, lr: Option<f64>) -> Result<()> {
        check_initial_lr(C::KIND, lr)?;
        for g in &mut self.groups {
            g.initial_lr = lr;
        }
        Ok(())
    }

    /// Sets or clears the `initial_lr` of group `i` after checking it.
    pub(crate) fn set_group_initial_lr(&mut self, i: usize, lr: Option<f64>) -> Result<()> {
        let g = self.get_mut(i, "set_group_initial_lr")?;
        check_initial_lr(C::KIND, lr)?;
        g.initial_lr = lr;
        Ok(())
    }

    /// Sets the momentum-like value of group `i` (see [`GroupConfig::set_momentum`]).
    pub(crate) fn set_group_momentum(&mut self, i: usize, momentum: f64) -> Result<()> {
        let g = self.get_mut(i, "set_group_momentum")?;
        let mut c = g.config.clone();
        c.set_momentum(momentum)?;
        g.config = c;
        Ok(())
    }

    /// The state of the optimizer given its per-parameter entries.
    pub(crate) fn state(&self, params: BTreeMap<usize, ParamState>) -> OptimizerState {
        OptimizerState {
            config: self.defaults.wrap(),
            groups: self
                .groups
                .iter()
                .map(|g| GroupState {
                    params: g.range.clone().collect(),
                    names: g.names.clone(),
                    config: g.config.wrap(),
                    initial_lr: g.initial_lr,
                })
                .collect(),
            step_count: self.steps,
            param_count: self.params.len(),
            params,
        }
    }

    /// Checks that `state` was saved by this kind of optimizer over groups
    /// like these (same number, same parameter counts and shapes, same names
    /// where both have them) and holds valid values; returns what to restore.
    pub(crate) fn check_state(&self, state: &OptimizerState, op: &'static str) -> Result<Restore<C>> {
        let defaults = C::unwrap(&state.config).ok_or_else(|| state.wrong_kind(C::KIND, op))?;
        state.check_against(&self.params, op)?;
        state.validate()?;
        if state.groups.len() != self.groups.len() {
            return Err(Error::invalid(
                op,
                format!(
                    "the state has {} parameter group(s), this optimizer has {}",
                    state.groups.len(),
                    self.groups.len()
                ),
            ));
        }
        let mut groups = Vec::with_capacity(self.groups.len());
        for (g, (saved, mine)) in state.groups.iter().zip(&self.groups).enumerate() {
            if saved.params.len() != mine.range.len() {
                return Err(Error::invalid(
                    op,
                    format!(
                        "group {g} of the state has {} parameters, this optimizer's has {}",
                        saved.params.len(),
                        mine.range.len()
                    ),
                ));
            }
            if let (Some(a), Some(b)) = (&saved.names, &mine.names)
                && let Some((x, y)) = a.iter().zip(b).find(|(x, y)| x != y)
            {
                return Err(Error::invalid(
                    op,
                    format!("group {g} of the state holds parameter {x:?} where this optimizer's holds {y:?}"),
                ));
            }
            let config = C::unwrap(&saved.config).ok_or_else(|| state.wrong_kind(C::KIND, op))?;
            groups.push((config, saved.initial_lr));
        }
        Ok(Restore {
            defaults,
            groups,
            steps: state.step_count,
        })
    }

    /// Applies what [`Groups::check_state`] returned.
    pub(crate) fn restore(&mut self, r: Restore<C>) {
        self.defaults = r.defaults;
        for (g, (config, initial_lr)) in self.groups.iter_mut().zip(r.groups) {
            g.config = config;
            g.initial_lr = initial_lr;
        }
        self.steps = r.steps;
    }
}

/// Implements the group-related `Optimizer` methods (everything but `name`,
/// `step`, `state` and `load_state`) for an optimizer whose `Groups` sit at
/// `self.<path>`.
macro_rules! group_accessors {
    ($($path:tt)+) => {
        fn lr(&self) -> f64 {
            $crate::optim::groups::GroupConfig::lr(&self.$($path)+.groups[0].config)
        }

        fn set_lr(&mut self, lr: f64) -> $crate::Result<()> {
            self.$($path)+.set_lr_all(lr)
        }

        fn initial_lr(&self) -> Option<f64> {
            self.$($path)+.groups[0].initial_lr
        }

        fn set_initial_lr(&mut self, lr: Option<f64>) -> $crate::Result<()> {
            self.$($path)+.set_initial_lr_all(lr)
        }

        fn momentum(&self) -> Option<f64> {
            $crate::optim::groups::GroupConfig::momentum(&self.$($path)+.groups[0].config)
        }

        fn set_momentum(&mut self, momentum: f64) -> $crate::Result<()> {
            self.$($path)+.set_momentum_all(momentum)
        }

        fn params(&self) -> &[$crate::Tensor] {
            &self.$($path)+.params
        }

        fn step_count(&self) -> u64 {
            self.$($path)+.steps
        }

        fn num_groups(&self) -> usize {
            self.$($path)+.groups.len()
        }

        fn group_lr(&self, group: usize) -> $crate::Result<f64> {
            Ok($crate::optim::groups::GroupConfig::lr(&self.$($path)+.get(group, "group_lr")?.config))
        }

        fn set_group_lr(&mut self, group: usize, lr: f64) -> $crate::Result<()> {
            self.$($path)+.set_group_lr(group, lr)
        }

        fn group_initial_lr(&self, group: usize) -> $crate::Result<Option<f64>> {
            Ok(self.$($path)+.get(group, "group_initial_lr")?.initial_lr)
        }

        fn set_group_initial_lr(&mut self, group: usize, lr: Option<f64>) -> $crate::Result<()> {
            self.$($path)+.set_group_initial_lr(group, lr)
        }

        fn group_momentum(&self, group: usize) -> $crate::Result<Option<f64>> {
            Ok($crate::optim::groups::GroupConfig::momentum(
                &self.$($path)+.get(group, "group_momentum")?.config,
            ))
        }

        fn set_group_momentum(&mut self, group: usize, momentum: f64) -> $crate::Result<()> {
            self.$($path)+.set_group_momentum(group, momentum)
        }

        fn group_params(&self, group: usize) -> $crate::Result<&[$crate::Tensor]> {
            self.$($path)+.group_params(group)
        }

        fn group_config(&self, group: usize) -> $crate::Result<$crate::optim::OptimizerConfig> {
            Ok($crate::optim::groups::GroupConfig::wrap(
                &self.$($path)+.get(group, "group_config")?.config,
            ))
        }
    };
}

pub(super) use group_accessors;

/// `GroupConfig::wrap`/`unwrap` for a config stored as
/// `OptimizerConfig::$variant`. Expands inside `impl GroupConfig for ...`.
macro_rules! config_variant {
    ($variant:ident) => {
        fn wrap(&self) -> OptimizerConfig {
            OptimizerConfig::$variant(self.clone())
        }
        fn unwrap(config: &OptimizerConfig) -> Option<Self> {
            match config {
                OptimizerConfig::$variant(c) => Some(c.clone()),
                _ => None,
            }
        }
    };
}

pub(super) use config_variant;

/// The `GroupConfig` methods of a config whose momentum-like value is its
/// `momentum` field (SGD, RMSprop): lr and momentum access, validation and the
/// `OptimizerConfig` variant. Expands inside `impl GroupConfig for $config`.
macro_rules! momentum_group_config {
    ($config:ident, $variant:ident, $kind:literal) => {
        fn lr(&self) -> f64 {
            self.lr
        }
        fn set_lr(&mut self, lr: f64) {
            self.lr = lr;
        }
        fn momentum(&self) -> Option<f64> {
            Some(self.momentum)
        }
        fn set_momentum(&mut self, momentum: f64) -> Result<()> {
            unit_interval(concat!($kind, ".set_momentum"), "momentum", momentum)?;
            self.momentum = momentum;
            // SGD's Nesterov rule needs momentum > 0: setting 0 must fail.
            self.validate()
        }
        fn validate(&self) -> Result<()> {
            $config::validate(self)
        }
        $crate::optim::groups::config_variant!($variant);
    };
}

pub(crate) use momentum_group_config;
