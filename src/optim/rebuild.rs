//! Rebuilding an optimizer, groups and all, from its saved state.

use super::groups::GroupConfig;
use super::param_group::ParamGroup;
use super::state::{OptimizerConfig, OptimizerState};
use super::{Adam, AdamConfig, AdamW, AdamWConfig, Optimizer, RmsProp, RmsPropConfig, Sgd, SgdConfig};
use crate::{Error, Result, Tensor};
use std::collections::HashMap;

const OP: &str = "OptimizerState::build_optimizer";

/// The error for a kind defined outside the crate, which only its own code can build.
fn custom_kind(name: &str) -> Error {
    Error::invalid(
        OP,
        format!(
            "{name:?} is a custom optimizer: build it over the model's parameters and call \
             load_state with this state"
        ),
    )
}

impl OptimizerState {
    /// Builds the optimizer this state was saved from over a model's named
    /// parameters (`nn::Module::named_parameters`), with the saved groups,
    /// hyperparameters, step counts and buffers.
    ///
    /// Groups saved with names ([`ParamGroup::named`], [`super::decay_groups`])
    /// take their parameters by name, so the model may hold parameters the
    /// optimizer did not (frozen ones). Groups saved without names can only be
    /// matched by position: that works for one group over all of the model's
    /// parameters in order (`Sgd::new(model.parameters(), ..)`); several
    /// unnamed groups are refused, since nothing tells which parameter went
    /// where. Errors, too, for a custom optimizer kind, an invalid state, a
    /// name the model does not have, or parameters whose shapes differ.
    ///
    /// ```
    /// use neurite::nn::{Linear, Module, Sequential};
    /// use neurite::optim::{decay_groups, Optimizer, Sgd, SgdConfig};
    /// # fn main() -> neurite::Result<()> {
    /// let model = Sequential::new().add(Linear::new(3, 2));
    /// let mut opt = Sgd::with_groups(decay_groups(model.named_parameters(), 1e-2), SgdConfig::new(0.1))?;
    /// opt.set_group_lr(1, 0.5)?;
    /// let rebuilt = opt.state()?.build_optimizer(model.named_parameters())?;
    /// assert_eq!(rebuilt.group_lrs(), vec![0.1, 0.5]);
    /// assert_eq!(rebuilt.group_config(0)?.weight_decay(), Some(1e-2));
    /// # Ok(()) }
    /// ```
    pub fn build_optimizer(&self, named_params: Vec<(String, Tensor)>) -> Result<Box<dyn Optimizer>> {
        if let OptimizerConfig::Custom { name, .. } = &self.config {
            return Err(custom_kind(name));
        }
        self.validate()?;
        let members = self.group_members(named_params)?;
        let mut opt: Box<dyn Optimizer> = match &self.config {
            OptimizerConfig::Sgd(c) => Box::new(Sgd::with_groups(self.param_groups::<SgdConfig>(members)?, c.clone())?),
            OptimizerConfig::Adam(c) => {
                Box::new(Adam::with_groups(self.param_groups::<AdamConfig>(members)?, c.clone())?)
            }
            OptimizerConfig::AdamW(c) => Box::new(AdamW::with_groups(
                self.param_groups::<AdamWConfig>(members)?,
                c.clone(),
            )?),
            OptimizerConfig::RmsProp(c) => Box::new(RmsProp::with_groups(
                self.param_groups::<RmsPropConfig>(members)?,
                c.clone(),
            )?),
            OptimizerConfig::Custom { name, .. } => return Err(custom_kind(name)),
        };
        opt.load_state(self)?;
        Ok(opt)
    }

    /// The named parameters of each saved group, matched by name or, for a
    /// single unnamed group, by position.
    fn group_members(&self, named_params: Vec<(String, Tensor)>) -> Result<Vec<Vec<(String, Tensor)>>> {
        let all_named = self.groups.iter().all(|g| g.names.is_some());
        if all_named {
            let mut by_name: HashMap<String, Tensor> = named_params.into_iter().collect();
            return self
                .groups
                .iter()
                .enumerate()
                .map(|(g, group)| {
                    group
                        .names
                        .iter()
                        .flatten()
                        .map(|n| {
                            by_name.remove(n).map(|t| (n.clone(), t)).ok_or_else(|| {
                                Error::invalid(
                                    OP,
                                    format!(
                                        "group {g} of the state holds parameter {n:?}, which the model does not have"
                                    ),
                                )
                            })
                        })
                        .collect()
                })
                .collect();
        }
        if self.groups.len() != 1 {
            return Err(Error::invalid(
                OP,
                format!(
                    "the state has {} parameter groups and not all of them name their parameters, so they \
                     cannot be matched to the model's: build the optimizer with the same groups and call load_state \
                     (or build the groups with ParamGroup::named)",
                    self.groups.len()
                ),
            ));
        }
        if named_params.len() != self.param_count {
            return Err(Error::invalid(
                OP,
                format!(
                    "the state is for {} parameters, the model has {}",
                    self.param_count,
                    named_params.len()
                ),
            ));
        }
        Ok(vec![named_params])
    }

    /// The parameter groups to rebuild: each saved group's members with every
    /// one of its saved hyperparameters set.
    fn param_groups<C: GroupConfig>(&self, members: Vec<Vec<(String, Tensor)>>) -> Result<Vec<ParamGroup>> {
        self.groups
            .iter()
            .zip(members)
            .map(|(saved, named)| {
                let config = C::unwrap(&saved.config).ok_or_else(|| self.wrong_kind(C::KIND, OP))?;
                let group = match saved.names {
                    Some(_) => ParamGroup::named(named),
                    None => ParamGroup::new(named.into_iter().map(|(_, t)| t).collect()),
                };
                Ok(group.with_options(config.to_options()))
            })
            .collect()
    }
}
