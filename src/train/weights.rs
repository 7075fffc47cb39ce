//! Copies of a model's parameters and buffers, for restoring the best epoch.

use crate::nn::Module;
use crate::{Result, Tensor};
use std::collections::HashMap;

/// A copy of every named tensor of a model (parameters and buffers), taken
/// on the model's device, that later updates do not reach.
#[derive(Clone)]
pub(crate) struct WeightSnapshot(HashMap<String, Tensor>);

impl WeightSnapshot {
    pub(crate) fn take(model: &dyn Module) -> Result<WeightSnapshot> {
        let map = model
            .named_tensors()
            .into_iter()
            .map(|(name, t)| Ok((name, deep_copy(&t)?)))
            .collect::<Result<HashMap<_, _>>>()?;
        Ok(WeightSnapshot(map))
    }

    /// Writes the copies back into `model` (in place: the optimizer keeps
    /// working on the same parameter tensors).
    pub(crate) fn restore(&self, model: &mut dyn Module) -> Result<()> {
        model.load_named_tensors(&self.0)
    }
}

/// A tensor with its own storage holding `t`'s values. Optimizers replace a
/// parameter's storage in place (`set_data`), which every tensor sharing it
/// would see, so a snapshot must not share it.
pub(crate) fn deep_copy(t: &Tensor) -> Result<Tensor> {
    crate::no_grad(|| {
        if t.dtype().is_float() {
            // An element-wise op writes a fresh buffer on the tensor's own
            // device; multiplying by one is exact for every value, NaN included.
            t.detach().mul_scalar(1.0)
        } else {
            let storage = t.storage().to_device(&t.device())?;
            Ok(Tensor::from_storage(storage, t.shape().clone()))
        }
    })
}
