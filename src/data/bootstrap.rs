//! Bootstrap resampling for bagging: `n` draws with replacement from `n` samples.

use super::Dataset;
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The sample indices of a bootstrap of `n` samples: `n` draws from `0..n`
/// with replacement, from a ChaCha8 generator seeded with `seed` (so the same
/// seed gives the same indices on every machine, independent of the global
/// generator). About `1 - 1/e` (63.2%) of the samples appear at least once;
/// the others are the out-of-bag samples. Errors when `n` is 0.
pub fn bootstrap_indices(n: usize, seed: u64) -> Result<Vec<usize>> {
    if n == 0 {
        return Err(Error::invalid(
            "bootstrap_indices",
            "cannot draw a bootstrap sample from 0 samples; the dataset must not be empty",
        ));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Ok((0..n).map(|_| rng.random_range(0..n)).collect())
}

/// A bootstrap sample of `dataset` (every tensor, rows drawn together):
/// [`bootstrap_indices`]`(dataset.len(), seed)`, for bagging, where each
/// member of an [`crate::nn::Ensemble`] trains on its own seed's sample.
///
/// ```
/// use neurite::data::{bootstrap_sample, Dataset};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::from_vec((0..10).map(|v| v as f32).collect::<Vec<_>>(), (10, 1), &Device::cpu())?;
/// let ds = Dataset::new(x.clone(), x)?;
/// let bag = bootstrap_sample(&ds, 7)?;
/// assert_eq!(bag.len(), 10);
/// // Features and targets stay paired.
/// assert_eq!(bag.features().to_vec2::<f32>()?, bag.targets().to_vec2::<f32>()?);
/// # Ok(()) }
/// ```
pub fn bootstrap_sample(dataset: &Dataset, seed: u64) -> Result<Dataset> {
    let indices = bootstrap_indices(dataset.len(), seed).map_err(|_| {
        Error::invalid(
            "bootstrap_sample",
            "cannot draw a bootstrap sample from an empty dataset",
        )
    })?;
    dataset.subset(&indices)
}
