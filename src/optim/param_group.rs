//! [`ParamGroup`]: a set of parameters with its own hyperparameters (PyTorch's
//! `param_groups` entries).

use crate::Tensor;

/// The hyperparameters a [`ParamGroup`] sets for itself; `None` takes the
/// optimizer's defaults config.
///
/// Every optimizer accepts `lr` and `weight_decay`; the others belong to some
/// optimizers only (`momentum`: SGD, RMSprop; `dampening`, `nesterov`: SGD;
/// `betas`, `amsgrad`: Adam, AdamW; `eps`: Adam, AdamW, RMSprop; `alpha`,
/// `centered`: RMSprop). Building an optimizer from a group that sets one its
/// optimizer does not have is an error, so that a misplaced setting is not
/// silently ignored.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct GroupOptions {
    /// Learning rate.
    pub lr: Option<f64>,
    /// Weight decay (L2 for SGD, Adam and RMSprop; decoupled for AdamW).
    pub weight_decay: Option<f64>,
    /// Momentum factor (SGD, RMSprop).
    pub momentum: Option<f64>,
    /// Dampening of the momentum (SGD).
    pub dampening: Option<f64>,
    /// Nesterov momentum (SGD).
    pub nesterov: Option<bool>,
    /// Decay rates of the moment estimates (Adam, AdamW).
    pub betas: Option<(f64, f64)>,
    /// Denominator term (Adam, AdamW, RMSprop).
    pub eps: Option<f64>,
    /// Smoothing constant (RMSprop).
    pub alpha: Option<f64>,
    /// AMSGrad (Adam, AdamW).
    pub amsgrad: Option<bool>,
    /// Centered RMSprop.
    pub centered: Option<bool>,
}

impl GroupOptions {
    /// The names of the options that are set, in declaration order.
    pub(crate) fn set_names(&self) -> Vec<&'static str> {
        let flags = [
            ("lr", self.lr.is_some()),
            ("weight_decay", self.weight_decay.is_some()),
            ("momentum", self.momentum.is_some()),
            ("dampening", self.dampening.is_some()),
            ("nesterov", self.nesterov.is_some()),
            ("betas", self.betas.is_some()),
            ("eps", self.eps.is_some()),
            ("alpha", self.alpha.is_some()),
            ("amsgrad", self.amsgrad.is_some()),
            ("centered", self.centered.is_some()),
        ];
        flags.iter().filter(|(_, set)| *set).map(|(n, _)| *n).collect()
    }
}

/// A group of parameters optimized with its own hyperparameters, as an entry
/// of PyTorch's `param_groups`: `{"params": [...], "lr": 0.1, "weight_decay": 0.0}`.
///
/// Build the optimizer from several groups with `Sgd::with_groups`,
/// `Adam::with_groups`, ... ; hyperparameters a group leaves unset take the
/// defaults config given there. Groups built with [`ParamGroup::named`] carry
/// the parameters' names into [`super::OptimizerState`], so that a checkpoint
/// can rebuild the groups over a model's named parameters
/// ([`super::OptimizerState::build_optimizer`]).
///
/// ```
/// use neurite::optim::{Optimizer, ParamGroup, Sgd, SgdConfig};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let body = Tensor::ones(3, DType::F64, &dev)?.requires_grad();
/// let head = Tensor::ones(2, DType::F64, &dev)?.requires_grad();
/// let mut opt = Sgd::with_groups(
///     vec![ParamGroup::new(vec![body.clone()]), ParamGroup::new(vec![head.clone()]).lr(1.0)],
///     SgdConfig::new(0.1),
/// )?;
/// assert_eq!((opt.group_lr(0)?, opt.group_lr(1)?), (0.1, 1.0));
/// let loss = body.sum_all()?.add(&head.sum_all()?)?; // every gradient is 1
/// opt.step(&loss.backward()?)?;
/// assert_eq!(body.to_vec::<f64>()?, vec![0.9; 3]);
/// assert_eq!(head.to_vec::<f64>()?, vec![0.0; 2]);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ParamGroup {
    pub(crate) params: Vec<Tensor>,
    pub(crate) names: Option<Vec<String>>,
    pub(crate) options: GroupOptions,
}

impl ParamGroup {
    /// A group over `params` with every hyperparameter from the defaults.
    pub fn new(params: Vec<Tensor>) -> ParamGroup {
        ParamGroup {
            params,
            names: None,
            options: GroupOptions::default(),
        }
    }

    /// A group over named parameters (as `nn::Module::named_parameters`
    /// returns them); the names are saved with the optimizer's state.
    pub fn named(named: Vec<(String, Tensor)>) -> ParamGroup {
        let (names, params) = named.into_iter().unzip();
        ParamGroup {
            params,
            names: Some(names),
            options: GroupOptions::default(),
        }
    }

    /// Sets this group's options all at once.
    pub fn with_options(mut self, options: GroupOptions) -> ParamGroup {
        self.options = options;
        self
    }

    /// The parameters, in order.
    pub fn params(&self) -> &[Tensor] {
        &self.params
    }

    /// The parameters' names, for a group built with [`ParamGroup::named`].
    pub fn names(&self) -> Option<&[String]> {
        self.names.as_deref()
    }

    /// The hyperparameters this group sets.
    pub fn options(&self) -> &GroupOptions {
        &self.options
    }

    /// Sets the learning rate.
    pub fn lr(mut self, lr: f64) -> ParamGroup {
        self.options.lr = Some(lr);
        self
    }

    /// Sets the weight decay.
    pub fn weight_decay(mut self, weight_decay: f64) -> ParamGroup {
        self.options.weight_decay = Some(weight_decay);
        self
    }

    /// Sets the momentum (SGD, RMSprop).
    pub fn momentum(mut self, momentum: f64) -> ParamGroup {
        self.options.momentum = Some(momentum);
        self
    }

    /// Sets the dampening (SGD).
    pub fn dampening(mut self, dampening: f64) -> ParamGroup {
        self.options.dampening = Some(dampening);
        self
    }

    /// Turns Nesterov momentum on or off (SGD).
    pub fn nesterov(mut self, nesterov: bool) -> ParamGroup {
        self.options.nesterov = Some(nesterov);
        self
    }

    /// Sets the moment decay rates (Adam, AdamW).
    pub fn betas(mut self, betas: (f64, f64)) -> ParamGroup {
        self.options.betas = Some(betas);
        self
    }

    /// Sets the denominator term (Adam, AdamW, RMSprop).
    pub fn eps(mut self, eps: f64) -> ParamGroup {
        self.options.eps = Some(eps);
        self
    }

    /// Sets the smoothing constant (RMSprop).
    pub fn alpha(mut self, alpha: f64) -> ParamGroup {
        self.options.alpha = Some(alpha);
        self
    }

    /// Turns AMSGrad on or off (Adam, AdamW).
    pub fn amsgrad(mut self, amsgrad: bool) -> ParamGroup {
        self.options.amsgrad = Some(amsgrad);
        self
    }

    /// Turns centered RMSprop on or off.
    pub fn centered(mut self, centered: bool) -> ParamGroup {
        self.options.centered = Some(centered);
        self
    }
}

impl std::fmt::Debug for ParamGroup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shapes: Vec<&[usize]> = self.params.iter().map(|p| p.dims()).collect();
        f.debug_struct("ParamGroup")
            .field("shapes", &shapes)
            .field("names", &self.names)
            .field("options", &self.options)
            .finish()
    }
}
