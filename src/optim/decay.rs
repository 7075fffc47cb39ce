//! The usual "decay the weights, not the biases and norm parameters" split.

use super::ParamGroup;
use crate::Tensor;

/// Splits named parameters into two [`ParamGroup`]s: group 0 holds the
/// matrices and kernels (rank >= 2: Linear and Conv weights, embedding tables)
/// with `weight_decay`; group 1 holds biases and every rank-1 tensor
/// (BatchNorm and LayerNorm scales and shifts) with a weight decay of 0.
///
/// A tensor named `bias` (or `*.bias`) goes to group 1 whatever its rank.
/// Both groups keep the names, so a checkpoint can rebuild them, and both are
/// always returned (one may be empty) so that the group indices are fixed.
/// Other hyperparameters come from the optimizer's defaults; add them to the
/// returned groups with the [`ParamGroup`] setters.
///
/// ```
/// use neurite::nn::{BatchNorm1d, Linear, Module, Sequential};
/// use neurite::optim::{decay_groups, AdamW, AdamWConfig, Optimizer};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new().add(Linear::new(4, 8)).add(BatchNorm1d::new(8)).add(Linear::new(8, 2));
/// let opt = AdamW::with_groups(decay_groups(model.named_parameters(), 0.05), AdamWConfig::new(1e-3))?;
/// let ranks = |g: usize| opt.group_params(g).map(|p| p.iter().map(|t| t.rank()).collect::<Vec<_>>());
/// assert_eq!(ranks(0)?, vec![2, 2]); // the two Linear weights
/// assert_eq!(ranks(1)?, vec![1, 1, 1, 1]); // their biases, BatchNorm's weight and bias
/// assert_eq!(opt.group_config(0)?.weight_decay(), Some(0.05));
/// assert_eq!(opt.group_config(1)?.weight_decay(), Some(0.0));
/// # Ok(()) }
/// ```
pub fn decay_groups(named: Vec<(String, Tensor)>, weight_decay: f64) -> Vec<ParamGroup> {
    let (decay, no_decay): (Vec<_>, Vec<_>) = named.into_iter().partition(|(name, t)| {
        let is_bias = name == "bias" || name.ends_with(".bias");
        t.rank() >= 2 && !is_bias
    });
    vec![
        ParamGroup::named(decay).weight_decay(weight_decay),
        ParamGroup::named(no_decay).weight_decay(0.0),
    ]
}
