//! Seeded random splits of a dataset: by fractions or lengths, and the usual
//! train/validation/test split, optionally stratified by class. Every part
//! keeps all of the dataset's tensors, cut at the same samples.

use super::Dataset;
use crate::{DType, Error, Result, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

/// Sizes for `fractions` of `n`, like `torch.utils.data.random_split`: each
/// `floor(n * f)`, then the leftover samples one each to the first parts.
fn lengths_from_fractions(n: usize, fractions: &[f64], op: &'static str) -> Result<Vec<usize>> {
    let sum: f64 = fractions.iter().sum();
    if fractions.is_empty() || fractions.iter().any(|f| !f.is_finite() || *f < 0.0) || (sum - 1.0).abs() > 1e-6 {
        return Err(Error::invalid(
            op,
            format!("fractions must be non-negative and sum to 1, got {fractions:?} (sum {sum})"),
        ));
    }
    // Normalising by the sum keeps the floors from adding up to more than n
    // when the fractions sum to a hair over 1.
    let mut lengths: Vec<usize> = fractions
        .iter()
        .map(|f| ((n as f64 * f / sum).floor() as usize).min(n))
        .collect();
    let k = lengths.len();
    // Saturating: each length is at most n, but k of them may not fit in a usize.
    let total = |l: &[usize]| l.iter().fold(0usize, |a, &x| a.saturating_add(x));
    let mut i = 0;
    while total(&lengths) > n {
        // Only reachable through rounding on enormous n: trim from the end.
        let j = k - 1 - i % k;
        lengths[j] = lengths[j].saturating_sub(1);
        i += 1;
    }
    let assigned = total(&lengths);
    for i in 0..n - assigned {
        lengths[i % k] += 1;
    }
    Ok(lengths)
}

/// Splits into parts of the given sizes (summing to the dataset's length),
/// after one seeded shuffle. Errors when the lengths do not sum to the
/// dataset's length, including when their sum does not even fit in a `usize`.
pub fn random_split_lengths(dataset: &Dataset, lengths: &[usize], seed: u64) -> Result<Vec<Dataset>> {
    let n = dataset.len();
    let Some(total) = lengths.iter().try_fold(0usize, |acc, &l| acc.checked_add(l)) else {
        return Err(Error::invalid(
            "random_split_lengths",
            format!(
                "Sum of input lengths does not equal the length of the input dataset: lengths {lengths:?} sum to more than {}, the dataset has {n} samples",
                usize::MAX
            ),
        ));
    };
    if total != n {
        return Err(Error::invalid(
            "random_split_lengths",
            format!(
                "Sum of input lengths does not equal the length of the input dataset: lengths {lengths:?} sum to {total}, the dataset has {n} samples"
            ),
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let mut parts = Vec::with_capacity(lengths.len());
    let mut start = 0;
    for &len in lengths {
        parts.push(dataset.subset(&order[start..start + len])?);
        start += len;
    }
    Ok(parts)
}

/// Splits into parts holding `fractions` of the samples (summing to 1), after
/// one seeded shuffle; rounding follows `torch.utils.data.random_split`.
///
/// ```
/// use neurite::{data::{random_split, Dataset}, DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::zeros((10, 2), DType::F32, &Device::cpu())?;
/// let y = Tensor::zeros(10, DType::F32, &Device::cpu())?;
/// let parts = random_split(&Dataset::new(x, y)?, &[0.7, 0.3], 42)?;
/// assert_eq!((parts[0].len(), parts[1].len()), (7, 3));
/// # Ok(()) }
/// ```
pub fn random_split(dataset: &Dataset, fractions: &[f64], seed: u64) -> Result<Vec<Dataset>> {
    let lengths = lengths_from_fractions(dataset.len(), fractions, "random_split")?;
    random_split_lengths(dataset, &lengths, seed)
}

/// Splits into train, validation and test sets holding the given fractions
/// (for example `(0.6, 0.2, 0.2)`), shuffled with `seed`.
///
/// With `stratify` (class labels, `I64` `(N,)`, usually the dataset's own
/// targets, but any tensor of one label per sample will do) every class is split in the same proportions, to within one
/// sample per class and split, and the three sizes are the same as without
/// stratification. Each part is shuffled, not grouped by class.
pub fn train_val_test_split(
    dataset: &Dataset,
    fractions: (f64, f64, f64),
    seed: u64,
    stratify: Option<&Tensor>,
) -> Result<(Dataset, Dataset, Dataset)> {
    let op = "train_val_test_split";
    let n = dataset.len();
    let (a, b, c) = fractions;
    let sizes = lengths_from_fractions(n, &[a, b, c], op)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let parts: [Vec<usize>; 3] = match stratify {
        None => {
            let mut order: Vec<usize> = (0..n).collect();
            order.shuffle(&mut rng);
            let test = order.split_off(sizes[0] + sizes[1]);
            let val = order.split_off(sizes[0]);
            [order, val, test]
        }
        Some(labels) => stratified(labels, n, &sizes, &mut rng, op)?,
    };
    Ok((
        dataset.subset(&parts[0])?,
        dataset.subset(&parts[1])?,
        dataset.subset(&parts[2])?,
    ))
}

/// Per-class index lists split into parts of `sizes`, each class in proportion.
fn stratified(
    labels: &Tensor,
    n: usize,
    sizes: &[usize],
    rng: &mut ChaCha8Rng,
    op: &'static str,
) -> Result<[Vec<usize>; 3]> {
    if labels.dtype() != DType::I64 || labels.rank() != 1 || labels.dims()[0] != n {
        return Err(Error::invalid(
            op,
            format!(
                "stratify labels must be i64 of shape [{n}] (one per sample), got {} {}",
                labels.dtype(),
                labels.shape()
            ),
        ));
    }
    let y = labels.to_vec::<i64>()?;
    let mut classes: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (i, &c) in y.iter().enumerate() {
        classes.entry(c).or_default().push(i);
    }
    let mut groups: Vec<Vec<usize>> = classes.into_values().collect();
    for g in &mut groups {
        g.shuffle(rng);
    }
    let counts: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let mut left = counts.clone();
    let mut taken = vec![0usize; groups.len()];
    let mut parts: [Vec<usize>; 3] = Default::default();
    for (p, &size) in sizes.iter().enumerate().take(2) {
        let share = apportion(size, &counts, n, &left);
        for (k, g) in groups.iter().enumerate() {
            parts[p].extend_from_slice(&g[taken[k]..taken[k] + share[k]]);
            taken[k] += share[k];
            left[k] -= share[k];
        }
    }
    for (k, g) in groups.iter().enumerate() {
        parts[2].extend_from_slice(&g[taken[k]..]);
    }
    for p in &mut parts {
        p.shuffle(rng);
    }
    Ok(parts)
}

/// Shares `total` among classes in proportion to `counts` (summing to `n`),
/// never giving a class more than `cap[k]`: floors first, then the remaining
/// samples one at a time by largest fractional part (ties to the lower class).
/// Needs `sum(cap) >= total`, which holds because the earlier parts took at
/// most their own sizes.
fn apportion(total: usize, counts: &[usize], n: usize, cap: &[usize]) -> Vec<usize> {
    if n == 0 {
        return vec![0; counts.len()];
    }
    let ideal: Vec<f64> = counts.iter().map(|&c| c as f64 * total as f64 / n as f64).collect();
    let mut share: Vec<usize> = ideal
        .iter()
        .zip(cap)
        .map(|(x, &c)| (x.floor() as usize).min(c))
        .collect();
    let mut given: usize = share.iter().sum();
    let mut order: Vec<usize> = (0..counts.len()).collect();
    order.sort_by(|&i, &j| {
        let (fi, fj) = (ideal[i] - share[i] as f64, ideal[j] - share[j] as f64);
        fj.total_cmp(&fi).then(i.cmp(&j))
    });
    // Round-robin over classes by priority until the part is full; each pass
    // gives at least one sample while capacity remains.
    while given < total {
        let before = given;
        for &k in &order {
            if given == total {
                break;
            }
            if share[k] < cap[k] {
                share[k] += 1;
                given += 1;
            }
        }
        if given == before {
            break; // no capacity left anywhere; cannot happen when sum(cap) >= total
        }
    }
    share
}
