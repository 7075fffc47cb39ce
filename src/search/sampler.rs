//! [`Sampler`]: how a study picks each trial's hyper-parameters.

use super::direction::Direction;
use super::space::{Distribution, ParamValue, Params, SearchSpace};
use super::tpe::{self, TpeConfig};
use super::trial::TrialRecord;
use crate::{Error, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// How trial parameters are chosen. Every sampler is a function of the study's
/// seed, the trial's number and the trials finished before it, so a search
/// rerun (or resumed) with the same seed proposes the same trials.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Sampler {
    /// Every combination in turn: categorical choices and integer ranges of at
    /// most `points` values in full, other ranges at `points` evenly spaced
    /// values (geometrically for log scales). The study stops when the grid
    /// is exhausted.
    Grid {
        /// Values per continuous (or wide integer) parameter (>= 1).
        points: usize,
    },
    /// Independent uniform draws (log-uniform for log scales).
    Random,
    /// The tree-structured Parzen estimator (Bergstra et al. 2011; Optuna's
    /// default sampler).
    Tpe(TpeConfig),
}

impl Sampler {
    /// [`Sampler::Tpe`] with Optuna's defaults.
    pub fn tpe() -> Sampler {
        Sampler::Tpe(TpeConfig::default())
    }

    /// [`Sampler::Grid`] with `points` values per continuous parameter.
    pub fn grid(points: usize) -> Sampler {
        Sampler::Grid { points }
    }

    /// A short name for messages and files.
    pub fn name(&self) -> &'static str {
        match self {
            Sampler::Grid { .. } => "grid",
            Sampler::Random => "random",
            Sampler::Tpe(_) => "tpe",
        }
    }

    pub(crate) fn validate(&self, space: &SearchSpace) -> Result<()> {
        match self {
            Sampler::Grid { points: 0 } => Err(Error::invalid("Sampler::Grid", "points must be at least 1")),
            Sampler::Grid { .. } => {
                self.grid_size(space)?;
                Ok(())
            }
            Sampler::Random => Ok(()),
            Sampler::Tpe(c) => c.validate(),
        }
    }

    /// The number of grid points, `None` for samplers without an end.
    pub(crate) fn grid_size(&self, space: &SearchSpace) -> Result<Option<usize>> {
        let Sampler::Grid { points } = self else {
            return Ok(None);
        };
        let mut n: usize = 1;
        for (name, d) in space.params() {
            n = n.checked_mul(grid_values(d, *points).len()).ok_or_else(|| {
                Error::invalid(
                    "Sampler::Grid",
                    format!("the grid has more than {} points (at parameter {name:?})", usize::MAX),
                )
            })?;
        }
        Ok(Some(n))
    }

    /// The parameters of trial `number`.
    pub(crate) fn sample(
        &self,
        space: &SearchSpace,
        number: usize,
        seed: u64,
        history: &[TrialRecord],
        direction: Direction,
    ) -> Result<Params> {
        let mut rng = ChaCha8Rng::seed_from_u64(trial_seed(seed, number) ^ 0x5a4d_504c_4552);
        let values = match self {
            Sampler::Grid { points } => {
                let mut k = number;
                space
                    .params()
                    .iter()
                    .map(|(name, d)| {
                        let vals = grid_values(d, *points);
                        let v = vals[k % vals.len()].clone();
                        k /= vals.len();
                        (name.clone(), v)
                    })
                    .collect()
            }
            Sampler::Random => space
                .params()
                .iter()
                .map(|(name, d)| (name.clone(), sample_prior(d, &mut rng)))
                .collect(),
            Sampler::Tpe(config) => tpe::sample(config, space, history, direction, &mut rng),
        };
        Ok(Params(values))
    }
}

/// The seed of trial `number`: SplitMix64 of the pair, so neighbouring
/// numbers get unrelated streams.
pub(crate) fn trial_seed(seed: u64, number: usize) -> u64 {
    let mut z = seed ^ (number as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// One draw from the distribution itself (the random sampler, TPE's start-up trials).
pub(crate) fn sample_prior(d: &Distribution, rng: &mut ChaCha8Rng) -> ParamValue {
    match d {
        Distribution::Uniform { low, high } => ParamValue::Float(uniform(*low, *high, rng)),
        Distribution::LogUniform { low, high } => {
            ParamValue::Float(uniform(low.ln(), high.ln(), rng).exp().clamp(*low, *high))
        }
        Distribution::Int { low, high, log } => {
            if *log {
                let x = uniform((*low as f64 - 0.5).ln(), (*high as f64 + 0.5).ln(), rng).exp();
                ParamValue::Int((x.round() as i64).clamp(*low, *high))
            } else {
                ParamValue::Int(rng.random_range(*low..=*high))
            }
        }
        Distribution::Categorical(choices) => choices[rng.random_range(0..choices.len())].clone(),
    }
}

fn uniform(low: f64, high: f64, rng: &mut ChaCha8Rng) -> f64 {
    if low == high {
        low
    } else {
        (low + (high - low) * rng.random::<f64>()).clamp(low, high)
    }
}

/// The values a grid takes for one parameter.
fn grid_values(d: &Distribution, points: usize) -> Vec<ParamValue> {
    let spaced = |low: f64, high: f64| -> Vec<f64> {
        if points == 1 || low == high {
            return vec![0.5 * (low + high)];
        }
        (0..points)
            .map(|i| low + (high - low) * i as f64 / (points - 1) as f64)
            .collect()
    };
    match d {
        Distribution::Uniform { low, high } => spaced(*low, *high).into_iter().map(ParamValue::Float).collect(),
        Distribution::LogUniform { low, high } => spaced(low.ln(), high.ln())
            .into_iter()
            .map(|x| ParamValue::Float(x.exp().clamp(*low, *high)))
            .collect(),
        Distribution::Int { low, high, log } => {
            let count = (*high as i128 - *low as i128 + 1) as u128;
            if count <= points as u128 {
                return (*low..=*high).map(ParamValue::Int).collect();
            }
            let xs = if *log {
                spaced((*low as f64).ln(), (*high as f64).ln())
                    .into_iter()
                    .map(f64::exp)
                    .collect()
            } else {
                spaced(*low as f64, *high as f64)
            };
            let mut v: Vec<i64> = xs.into_iter().map(|x| (x.round() as i64).clamp(*low, *high)).collect();
            v.dedup();
            v.into_iter().map(ParamValue::Int).collect()
        }
        Distribution::Categorical(choices) => choices.clone(),
    }
}
