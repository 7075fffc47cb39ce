//! Parameter creation for the layer constructors, and the failure a `new`
//! constructor (which cannot return an error) keeps for later.

use crate::{DType, Device, Error, Result, Tensor};

/// Errors unless a tensor of `dims` fits the crate's size limit
/// ([`crate::shape::checked_numel`]), naming the layer's `what`, so that
/// absurd sizes are refused before any parameter is created.
pub(crate) fn check_size(op: &'static str, what: &str, dims: &[usize]) -> Result<()> {
    crate::shape::checked_numel(dims, op)
        .map(|_| ())
        .map_err(|_| Error::SizeOverflow {
            op,
            detail: format!("the {what} of shape {dims:?} has more elements than memory can hold"),
        })
}

/// A zero-element `f32` CPU tensor of `rank` dims: what a layer whose
/// parameters could not be created holds in their place.
pub(crate) fn placeholder(rank: usize) -> Tensor {
    // A zero-element host buffer allocates nothing, so its creation cannot fail.
    Tensor::zeros(vec![0; rank], DType::F32, &Device::cpu()).expect("empty CPU tensor")
}

/// Why a layer built by an infallible `new` (or `with_*` builder) has no real
/// parameters. The layer reports it from `validate`, `forward` and `config`,
/// as the crate's `new` constructors do for every invalid hyperparameter.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Unbuilt(Option<String>);

impl Unbuilt {
    /// A layer whose parameters exist.
    pub(crate) fn none() -> Unbuilt {
        Unbuilt(None)
    }

    /// Records `err` as the reason the parameters do not exist.
    pub(crate) fn because(err: &Error) -> Unbuilt {
        Unbuilt(Some(format!("the layer's parameters could not be created: {err}")))
    }

    /// `Ok` when the parameters exist; otherwise the recorded failure, under `op`.
    pub(crate) fn check(&self, op: &'static str) -> Result<()> {
        match &self.0 {
            None => Ok(()),
            Some(msg) => Err(Error::invalid(op, msg.clone())),
        }
    }
}
