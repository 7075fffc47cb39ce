//! Pruning: PyTorch's `torch.nn.utils.prune`, with masks kept next to the
//! model instead of inside it.
//!
//! PyTorch re-parametrises a pruned `weight` as `weight_orig * weight_mask`
//! with a forward hook. A neurite model is a plain struct whose parameters
//! are shared tensors, so here the masks live in a [`PruningMasks`] beside
//! the model, keyed by the [`Module`](crate::nn::Module) names
//! (`"0.weight"`); pruning zeroes the masked entries in place, and the masks
//! are re-applied after every optimizer step to keep them zero while
//! fine-tuning:
//!
//! - building masks: [`PruningMasks::l1_unstructured`],
//!   [`PruningMasks::random_unstructured`], [`PruningMasks::global_unstructured`],
//!   [`PruningMasks::custom_from_mask`] (and the free functions of the same
//!   names, which start from no mask); pruning a parameter again prunes among
//!   its remaining entries, as PyTorch's `PruningContainer` does;
//! - keeping them: [`MaskedOptimizer`] (masks the gradients and re-applies the
//!   masks inside every step: exact, also with momentum), [`PruningCallback`]
//!   (re-applies them from `fit`'s batch hook), [`PruningMasks::apply`] and
//!   [`PruningMasks::mask_gradients`] for loops written by hand;
//! - gradual pruning during training: [`GradualPruning`] with a
//!   [`PolynomialSchedule`] (Zhu & Gupta, 2017);
//! - finishing: [`PruningMasks::remove`] (PyTorch's `prune.remove`), a
//!   [`SparsityReport`], and [`PruningMasks::save`] / [`PruningMasks::load`].
//!
//! ```
//! use neurite::nn::prune::{PruningMasks, SparsityReport};
//! use neurite::nn::{Linear, ReLU, Sequential};
//! # fn main() -> neurite::Result<()> {
//! let model = Sequential::new().add(Linear::new(8, 16)).add(ReLU).add(Linear::new(16, 2));
//! let mut masks = PruningMasks::new();
//! masks.l1_unstructured(&model, "0.weight", 0.5)?;
//! masks.global_unstructured(&model, &["0.weight", "2.weight"], 0.2)?;
//! let report = SparsityReport::of_params(&model, &["0.weight", "2.weight"])?;
//! // Half of the 128 entries of 0.weight, then 20% of the 64 + 32 left in both.
//! assert_eq!(report.total().zeros, 64 + 19);
//! println!("{report}");
//! # Ok(()) }
//! ```

mod callback;
mod file;
mod masks;
mod optimizer;
mod report;
mod schedule;
mod structured;
mod unstructured;

pub use callback::PruningCallback;
pub use masks::PruningMasks;
pub use optimizer::MaskedOptimizer;
pub use report::{ParamSparsity, SparsityReport};
pub use schedule::{GradualPruning, PolynomialSchedule, PruningScope};
pub use structured::{
    ChannelNorm, ChannelPruneReport, PrunedLayer, channel_norms, channels_to_keep, prune_channels, prune_channels_all,
    prune_channels_keeping,
};
pub use unstructured::{global_unstructured, l1_unstructured, random_unstructured};
