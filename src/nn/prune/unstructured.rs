//! Unstructured pruning: single entries chosen by magnitude (L1) or at
//! random, in one parameter or across several (PyTorch's `l1_unstructured`,
//! `random_unstructured`, `global_unstructured`).
//!
//! # Which entries
//! PyTorch prunes the `round(amount * n)` entries of smallest magnitude among
//! the `n` entries not pruned yet, with Python's `round` (half to even:
//! `0.25 * 10` prunes 2, `0.35 * 10` prunes 4). The same count is used here.
//! PyTorch leaves the order of equal magnitudes to `torch.topk`; here it is
//! fixed: among equal magnitudes the entry with the lower row-major index (in
//! the concatenation of the parameters, in the order given, for global
//! pruning) is pruned first, so the same weights always give the same mask
//! on every device. A NaN counts as the largest magnitude.
//!
//! The magnitudes are read to the host once per pruning call (not per
//! training step) so that this choice is exact and identical everywhere.

use super::masks::{Mask, PruningMasks, find_param};
use crate::nn::Module;
use crate::{Error, Result, Tensor};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Ordering;

/// How many entries a pruning call removes.
#[derive(Clone, Copy, Debug)]
pub(super) enum Count {
    /// A fraction of the entries not pruned yet (PyTorch's `amount`).
    OfRemaining(f64),
    /// Enough for this fraction of all entries to be pruned (a sparsity target).
    Sparsity(f64),
}

impl Count {
    /// Entries to prune now, given `total` entries of which `pruned` are pruned already.
    fn of(self, total: usize, pruned: usize) -> usize {
        let remaining = total - pruned;
        match self {
            Count::OfRemaining(a) => round_count(a, remaining).min(remaining),
            Count::Sparsity(s) => round_count(s, total).saturating_sub(pruned).min(remaining),
        }
    }
}

/// `round(fraction * n)` with Python's rounding (half to even), as PyTorch's
/// `_compute_nparams_toprune`. `fraction` is in `[0, 1)`, so the result is at most `n`.
fn round_count(fraction: f64, n: usize) -> usize {
    // `as` saturates, and the product is below n, so nothing is lost.
    (fraction * n as f64).round_ties_even() as usize
}

/// Errors unless `amount` is in `[0, 1)` (NaN is not).
pub(super) fn check_fraction(amount: f64, what: &str, op: &'static str) -> Result<()> {
    if (0.0..1.0).contains(&amount) {
        return Ok(());
    }
    Err(Error::invalid(
        op,
        format!("the {what} must be in [0, 1) (a fraction of the entries), got {amount}"),
    ))
}

/// Sets to `false` the `k` entries of smallest `scores` among those still
/// `true` in `keep`, lower index first among equal scores.
fn prune_smallest(scores: &[f64], keep: &mut [bool], k: usize) {
    if k == 0 {
        return;
    }
    let mut candidates: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
    if k < candidates.len() {
        // The key (score, index) is unique, so the set chosen does not depend on the algorithm.
        let by_key = |a: &usize, b: &usize| -> Ordering { scores[*a].total_cmp(&scores[*b]).then(a.cmp(b)) };
        candidates.select_nth_unstable_by(k - 1, by_key);
        candidates.truncate(k);
    }
    for i in candidates {
        keep[i] = false;
    }
}

/// Magnitudes `|w|` of a parameter, on the host; NaN keeps a positive sign, so it sorts last.
fn magnitudes(p: &Tensor) -> Result<Vec<f64>> {
    let mut v = p.to_vec::<f64>()?;
    for x in &mut v {
        *x = x.abs();
    }
    Ok(v)
}

impl PruningMasks {
    /// Prunes the fraction `amount` of the entries of the parameter `name`
    /// that are not pruned yet, those of smallest magnitude (PyTorch's
    /// `prune.l1_unstructured`, and its composition when the parameter is
    /// pruned again), and zeroes them in the model.
    ///
    /// `round(amount * remaining)` entries are pruned, rounding half to even
    /// as Python does; among equal magnitudes the lower row-major index goes
    /// first (see the [module docs](self)). Errors, changing nothing, when
    /// `amount` is not in `[0, 1)`, `name` is not a parameter of `model`, is
    /// not floating point, or has a mask of another shape.
    ///
    /// ```
    /// use neurite::nn::prune::PruningMasks;
    /// use neurite::nn::{Linear, Module};
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let layer = Linear::new(4, 1);
    /// layer.weight().set_data(&Tensor::from_vec(vec![0.1f32, -0.4, 0.3, 0.2], (1, 4), &Device::cpu())?)?;
    /// let mut masks = PruningMasks::new();
    /// masks.l1_unstructured(&layer, "weight", 0.5)?; // prunes 0.1 and 0.2
    /// masks.l1_unstructured(&layer, "weight", 0.5)?; // half of the 2 left: 0.3
    /// assert_eq!(layer.weight().to_vec::<f32>()?, vec![0.0, -0.4, 0.0, 0.0]);
    /// # Ok(()) }
    /// ```
    pub fn l1_unstructured(&mut self, model: &dyn Module, name: &str, amount: f64) -> Result<()> {
        const OP: &str = "l1_unstructured";
        check_fraction(amount, "amount", OP)?;
        self.magnitude_prune(model, &[name], Count::OfRemaining(amount), OP)
    }

    /// Prunes the fraction `amount` of the entries of `name` not pruned yet,
    /// chosen uniformly at random by a generator seeded with `seed`
    /// (PyTorch's `prune.random_unstructured`; the same seed gives the same
    /// mask on every run and device, but not PyTorch's mask). Counts and
    /// errors as [`PruningMasks::l1_unstructured`].
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(10, 10);
    /// let mut masks = neurite::nn::prune::PruningMasks::new();
    /// masks.random_unstructured(&layer, "weight", 0.3, 7)?;
    /// assert_eq!(masks.num_pruned("weight"), Some(30));
    /// let again = neurite::nn::prune::random_unstructured(&layer, "weight", 0.3, 7)?;
    /// assert_eq!(again.keep_flags("weight"), masks.keep_flags("weight"));
    /// # Ok(()) }
    /// ```
    pub fn random_unstructured(&mut self, model: &dyn Module, name: &str, amount: f64, seed: u64) -> Result<()> {
        const OP: &str = "random_unstructured";
        check_fraction(amount, "amount", OP)?;
        let p = find_param(model, name, OP)?;
        let mut keep = self.current_keep(name, &p, OP)?;
        let mut candidates: Vec<usize> = (0..keep.len()).filter(|&i| keep[i]).collect();
        let k = Count::OfRemaining(amount).of(keep.len(), keep.len() - candidates.len());
        // A partial Fisher-Yates shuffle: the first k positions become a uniform sample.
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for i in 0..k {
            let j = rng.random_range(i..candidates.len());
            candidates.swap(i, j);
        }
        for &i in &candidates[..k] {
            keep[i] = false;
        }
        self.set(Mask::new(name.to_string(), p.dims().to_vec(), keep));
        self.zero_pruned_of(name, &p, OP)
    }

    /// Prunes the fraction `amount` of the not-yet-pruned entries of all the
    /// parameters `names` taken together, those of smallest magnitude
    /// (PyTorch's `prune.global_unstructured` with `L1Unstructured`): layers
    /// with small weights lose more than others. Ties go to the lower index
    /// in the concatenation of the parameters in the order given.
    ///
    /// Errors, changing nothing, when `amount` is not in `[0, 1)`, `names` is
    /// empty or names a parameter twice, or any name fails as in
    /// [`PruningMasks::l1_unstructured`].
    ///
    /// ```
    /// use neurite::nn::prune::PruningMasks;
    /// use neurite::nn::{Linear, Module, ReLU, Sequential};
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let model = Sequential::new().add(Linear::new(2, 2)).add(ReLU).add(Linear::new(2, 1));
    /// let p = model.named_parameters();
    /// p[0].1.set_data(&Tensor::from_vec(vec![0.1f32, 0.2, 0.3, 0.4], (2, 2), &Device::cpu())?)?;
    /// p[2].1.set_data(&Tensor::from_vec(vec![5f32, 0.05], (1, 2), &Device::cpu())?)?;
    /// let mut masks = PruningMasks::new();
    /// masks.global_unstructured(&model, &["0.weight", "2.weight"], 0.5)?; // 3 of 6
    /// assert_eq!(masks.keep_flags("0.weight"), Some(&[false, false, true, true][..]));
    /// assert_eq!(masks.keep_flags("2.weight"), Some(&[true, false][..]));
    /// # Ok(()) }
    /// ```
    pub fn global_unstructured(&mut self, model: &dyn Module, names: &[impl AsRef<str>], amount: f64) -> Result<()> {
        const OP: &str = "global_unstructured";
        check_fraction(amount, "amount", OP)?;
        let names: Vec<&str> = names.iter().map(|n| n.as_ref()).collect();
        self.magnitude_prune(model, &names, Count::OfRemaining(amount), OP)
    }

    /// Prunes the parameters `names` together by magnitude until `count`
    /// says stop, then zeroes the new entries: the core of the L1 methods and
    /// of the gradual schedule. Everything is checked before anything changes.
    pub(super) fn magnitude_prune(
        &mut self,
        model: &dyn Module,
        names: &[&str],
        count: Count,
        op: &'static str,
    ) -> Result<()> {
        if names.is_empty() {
            return Err(Error::invalid(op, "no parameter to prune: the list of names is empty"));
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return Err(Error::invalid(
                    op,
                    format!("the parameter {n:?} is listed twice; each may appear once"),
                ));
            }
        }
        let mut params = Vec::with_capacity(names.len());
        let (mut scores, mut keep) = (Vec::new(), Vec::new());
        for name in names {
            let p = find_param(model, name, op)?;
            keep.extend(self.current_keep(name, &p, op)?);
            scores.extend(magnitudes(&p)?);
            params.push(p);
        }
        let pruned = keep.iter().filter(|k| !**k).count();
        let k = count.of(keep.len(), pruned);
        prune_smallest(&scores, &mut keep, k);
        let mut rest = keep.as_slice();
        for (name, p) in names.iter().zip(&params) {
            let (own, tail) = rest.split_at(p.elem_count());
            rest = tail;
            self.set(Mask::new(name.to_string(), p.dims().to_vec(), own.to_vec()));
        }
        for (name, p) in names.iter().zip(&params) {
            self.zero_pruned_of(name, p, op)?;
        }
        Ok(())
    }
}

/// [`PruningMasks::l1_unstructured`] starting from no mask: prunes the
/// fraction `amount` of smallest magnitude of `name` and returns its mask.
///
/// ```
/// use neurite::nn::prune::l1_unstructured;
/// use neurite::nn::{Linear, ReLU, Sequential};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new().add(Linear::new(4, 4)).add(ReLU);
/// let masks = l1_unstructured(&model, "0.weight", 0.5)?;
/// assert_eq!(masks.num_pruned("0.weight"), Some(8));
/// assert!(l1_unstructured(&model, "0.weight", 1.0).is_err());
/// # Ok(()) }
/// ```
pub fn l1_unstructured(model: &dyn Module, name: &str, amount: f64) -> Result<PruningMasks> {
    let mut masks = PruningMasks::new();
    masks.l1_unstructured(model, name, amount)?;
    Ok(masks)
}

/// [`PruningMasks::random_unstructured`] starting from no mask.
///
/// ```
/// # fn main() -> neurite::Result<()> {
/// let layer = neurite::nn::Linear::new(8, 2);
/// let masks = neurite::nn::prune::random_unstructured(&layer, "weight", 0.25, 42)?;
/// assert_eq!(masks.num_pruned("weight"), Some(4));
/// # Ok(()) }
/// ```
pub fn random_unstructured(model: &dyn Module, name: &str, amount: f64, seed: u64) -> Result<PruningMasks> {
    let mut masks = PruningMasks::new();
    masks.random_unstructured(model, name, amount, seed)?;
    Ok(masks)
}

/// [`PruningMasks::global_unstructured`] starting from no mask.
///
/// ```
/// use neurite::nn::prune::global_unstructured;
/// use neurite::nn::{Linear, ReLU, Sequential};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new().add(Linear::new(4, 4)).add(ReLU).add(Linear::new(4, 2));
/// let masks = global_unstructured(&model, &["0.weight", "2.weight"], 0.5)?;
/// let pruned = masks.num_pruned("0.weight").unwrap() + masks.num_pruned("2.weight").unwrap();
/// assert_eq!(pruned, 12);
/// # Ok(()) }
/// ```
pub fn global_unstructured(model: &dyn Module, names: &[impl AsRef<str>], amount: f64) -> Result<PruningMasks> {
    let mut masks = PruningMasks::new();
    masks.global_unstructured(model, names, amount)?;
    Ok(masks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_half_to_even_like_python() {
        assert_eq!(round_count(0.25, 10), 2);
        assert_eq!(round_count(0.35, 10), 4);
        assert_eq!(round_count(0.5, 5), 2);
        assert_eq!(round_count(0.5, 3), 2);
        assert_eq!(Count::Sparsity(0.5).of(10, 3), 2);
        assert_eq!(Count::Sparsity(0.2).of(10, 3), 0, "never un-prunes");
    }

    #[test]
    fn ties_go_to_the_lower_index_and_nan_is_largest() {
        let scores = [1.0, f64::NAN, 1.0, 0.5, 1.0];
        let mut keep = [true; 5];
        prune_smallest(&scores, &mut keep, 3);
        assert_eq!(keep, [false, true, false, false, true]);
        let mut keep = [false, true, true, true, true];
        prune_smallest(&scores, &mut keep, 10);
        assert_eq!(keep, [false; 5]);
    }
}
