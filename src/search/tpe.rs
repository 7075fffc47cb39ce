//! The tree-structured Parzen estimator (Bergstra et al. 2011), univariate,
//! with Optuna's defaults: after `n_startup_trials` random trials, the
//! finished trials are split into the best `gamma(n)` ("good") and the rest;
//! each parameter gets one Parzen density per group, and the candidate out of
//! `n_ei_candidates` draws from the good density with the highest ratio
//! good/bad (the expected improvement) is proposed.

use super::direction::Direction;
use super::sampler::sample_prior;
use super::space::{Distribution, ParamValue, SearchSpace};
use super::trial::{TrialRecord, TrialState};
use crate::{Error, Result};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;

/// Settings of the TPE sampler.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TpeConfig {
    /// Random trials before the model is used (Optuna: 10).
    pub n_startup_trials: usize,
    /// Draws from the good density per parameter (Optuna: 24).
    pub n_ei_candidates: usize,
    /// Weight of the prior (the whole range) in each density (Optuna: 1).
    pub prior_weight: f64,
    /// The good group is the best `ceil(gamma * n)` trials, at most 25 (Optuna: 0.1).
    pub gamma: f64,
}

impl Default for TpeConfig {
    fn default() -> Self {
        TpeConfig {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            prior_weight: 1.0,
            gamma: 0.1,
        }
    }
}

impl TpeConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.n_ei_candidates == 0
            || !(self.prior_weight > 0.0 && self.prior_weight.is_finite())
            || !(self.gamma > 0.0 && self.gamma <= 1.0)
        {
            return Err(Error::invalid(
                "Sampler::Tpe",
                format!("need n_ei_candidates >= 1, a finite prior_weight > 0 and 0 < gamma <= 1, got {self:?}"),
            ));
        }
        Ok(())
    }
}

/// Proposes one value per parameter of `space` from the finished `history`.
pub(crate) fn sample(
    config: &TpeConfig,
    space: &SearchSpace,
    history: &[TrialRecord],
    direction: Direction,
    rng: &mut ChaCha8Rng,
) -> Vec<(String, ParamValue)> {
    let (good, bad) = split(config, history, direction);
    space
        .params()
        .iter()
        .map(|(name, d)| {
            let value = if good.len() + bad.len() < config.n_startup_trials.max(1) {
                sample_prior(d, rng)
            } else {
                let pick = |set: &[&TrialRecord]| -> Vec<ParamValue> {
                    set.iter()
                        .filter_map(|t| t.params.get(name))
                        .filter(|v| d.contains(v))
                        .cloned()
                        .collect()
                };
                propose(config, d, &pick(&good), &pick(&bad), rng)
            };
            (name.clone(), value)
        })
        .collect()
}

/// The good and bad trials, each in trial-number order. Completed trials rank
/// by value; pruned ones rank after every completed one (the longer they ran,
/// the better), as Optuna ranks them.
fn split<'a>(
    config: &TpeConfig,
    history: &'a [TrialRecord],
    direction: Direction,
) -> (Vec<&'a TrialRecord>, Vec<&'a TrialRecord>) {
    let mut ranked: Vec<&TrialRecord> = history
        .iter()
        .filter(|t| matches!(t.state, TrialState::Complete | TrialState::Pruned) && t.value.is_some())
        .collect();
    ranked.sort_by(|a, b| {
        let key = |t: &TrialRecord| (t.state == TrialState::Pruned, t.intermediate.last().map(|(s, _)| *s));
        let (ka, kb) = (key(a), key(b));
        ka.0.cmp(&kb.0)
            .then_with(|| if ka.0 { kb.1.cmp(&ka.1) } else { Ordering::Equal })
            .then_with(|| direction.cmp(a.value.unwrap_or(f64::NAN), b.value.unwrap_or(f64::NAN)))
            .then_with(|| a.number.cmp(&b.number))
    });
    let n = ranked.len();
    let n_good = ((config.gamma * n as f64).ceil() as usize).min(25).min(n);
    let mut good: Vec<&TrialRecord> = ranked[..n_good].to_vec();
    let mut bad: Vec<&TrialRecord> = ranked[n_good..].to_vec();
    good.sort_by_key(|t| t.number);
    bad.sort_by_key(|t| t.number);
    (good, bad)
}

/// Optuna's observation weights: equal up to 25, then a linear ramp that
/// down-weights the oldest observations beyond the newest 25.
fn weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let ramp = n - 25;
    let mut w: Vec<f64> = (0..ramp)
        .map(|i| {
            if ramp == 1 {
                1.0 / n as f64
            } else {
                1.0 / n as f64 + (1.0 - 1.0 / n as f64) * i as f64 / (ramp - 1) as f64
            }
        })
        .collect();
    w.extend(std::iter::repeat_n(1.0, 25));
    w
}

fn propose(
    config: &TpeConfig,
    d: &Distribution,
    good: &[ParamValue],
    bad: &[ParamValue],
    rng: &mut ChaCha8Rng,
) -> ParamValue {
    if let Distribution::Categorical(choices) = d {
        let density = |obs: &[ParamValue]| -> Vec<f64> {
            let w = weights(obs.len());
            let mut p = vec![config.prior_weight / choices.len() as f64; choices.len()];
            for (v, wi) in obs.iter().zip(&w) {
                if let Some(i) = choices.iter().position(|c| c == v) {
                    p[i] += wi;
                }
            }
            let total: f64 = p.iter().sum();
            p.iter().map(|x| x / total).collect()
        };
        let (l, g) = (density(good), density(bad));
        let mut best: Option<(usize, f64)> = None;
        for _ in 0..config.n_ei_candidates {
            let i = draw_index(&l, rng);
            let score = l[i].ln() - g[i].ln();
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((i, score));
            }
        }
        return choices[best.map(|b| b.0).unwrap_or(0)].clone();
    }
    let (lo, hi, to_internal): (f64, f64, Box<dyn Fn(f64) -> f64>) = match d {
        Distribution::Uniform { low, high } => (*low, *high, Box::new(|x| x)),
        Distribution::LogUniform { low, high } => (low.ln(), high.ln(), Box::new(f64::ln)),
        Distribution::Int { low, high, log: false } => (*low as f64 - 0.5, *high as f64 + 0.5, Box::new(|x| x)),
        Distribution::Int { low, high, log: true } => {
            ((*low as f64 - 0.5).ln(), (*high as f64 + 0.5).ln(), Box::new(f64::ln))
        }
        Distribution::Categorical(_) => unreachable!("handled above"),
    };
    if lo == hi {
        return sample_prior(d, rng);
    }
    let internal =
        |obs: &[ParamValue]| -> Vec<f64> { obs.iter().filter_map(ParamValue::as_f64).map(&to_internal).collect() };
    let l = Parzen::new(&internal(good), lo, hi, config.prior_weight);
    let g = Parzen::new(&internal(bad), lo, hi, config.prior_weight);
    let mut best: Option<(f64, f64)> = None;
    for _ in 0..config.n_ei_candidates {
        let x = l.draw(rng);
        let score = l.log_pdf(x) - g.log_pdf(x);
        if best.is_none_or(|(_, s)| score > s) {
            best = Some((x, score));
        }
    }
    let x = best.map(|b| b.0).unwrap_or(0.5 * (lo + hi));
    match d {
        Distribution::Uniform { low, high } => ParamValue::Float(x.clamp(*low, *high)),
        Distribution::LogUniform { low, high } => ParamValue::Float(x.exp().clamp(*low, *high)),
        Distribution::Int { low, high, log } => {
            let v = if *log { x.exp() } else { x };
            ParamValue::Int((v.round() as i64).clamp(*low, *high))
        }
        Distribution::Categorical(_) => unreachable!("handled above"),
    }
}

fn draw_index(p: &[f64], rng: &mut ChaCha8Rng) -> usize {
    let u: f64 = rng.random();
    let mut acc = 0.0;
    for (i, pi) in p.iter().enumerate() {
        acc += pi;
        if u < acc {
            return i;
        }
    }
    p.len() - 1
}

/// A mixture of normals truncated to `[lo, hi]`: one per observation plus the
/// prior (centred, as wide as the range), with Bergstra's bandwidths (the
/// larger gap to a neighbour, clipped to `[range / min(100, n + 1), range]`).
struct Parzen {
    mus: Vec<f64>,
    sigmas: Vec<f64>,
    weights: Vec<f64>,
    lo: f64,
    hi: f64,
}

impl Parzen {
    fn new(obs: &[f64], lo: f64, hi: f64, prior_weight: f64) -> Parzen {
        let range = hi - lo;
        let prior_mu = 0.5 * (lo + hi);
        let mut w = weights(obs.len());
        let mut mus = obs.to_vec();
        mus.push(prior_mu);
        w.push(prior_weight);
        let total: f64 = w.iter().sum();
        let weights: Vec<f64> = w.iter().map(|x| x / total).collect();
        let mut order: Vec<usize> = (0..mus.len()).collect();
        order.sort_by(|&a, &b| mus[a].total_cmp(&mus[b]));
        let min_sigma = range / (obs.len() as f64 + 1.0).min(100.0);
        let mut sigmas = vec![range; mus.len()];
        for (rank, &i) in order.iter().enumerate() {
            let left = if rank == 0 { lo } else { mus[order[rank - 1]] };
            let right = if rank + 1 == order.len() {
                hi
            } else {
                mus[order[rank + 1]]
            };
            sigmas[i] = (mus[i] - left).max(right - mus[i]).clamp(min_sigma, range);
        }
        let prior = mus.len() - 1;
        sigmas[prior] = range;
        Parzen {
            mus,
            sigmas,
            weights,
            lo,
            hi,
        }
    }

    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        let k = draw_index(&self.weights, rng);
        for _ in 0..100 {
            let z: f64 = rng.sample(StandardNormal);
            let x = self.mus[k] + self.sigmas[k] * z;
            if (self.lo..=self.hi).contains(&x) {
                return x;
            }
        }
        // A component far outside the range: fall back to a uniform point.
        self.lo + (self.hi - self.lo) * rng.random::<f64>()
    }

    fn log_pdf(&self, x: f64) -> f64 {
        let phi = |z: f64| 0.5 * (1.0 + libm::erf(z / std::f64::consts::SQRT_2));
        let terms: Vec<f64> = (0..self.mus.len())
            .map(|i| {
                let (mu, s) = (self.mus[i], self.sigmas[i]);
                let mass = (phi((self.hi - mu) / s) - phi((self.lo - mu) / s)).max(1e-300);
                let z = (x - mu) / s;
                self.weights[i].ln() - 0.5 * z * z - s.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln() - mass.ln()
            })
            .collect();
        let m = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        m + terms.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn parzen_density_integrates_to_one() {
        let p = Parzen::new(&[0.2, 0.25, 0.9], 0.0, 1.0, 1.0);
        let n = 20_000;
        let integral: f64 = (0..n)
            .map(|i| p.log_pdf((i as f64 + 0.5) / n as f64).exp() / n as f64)
            .sum();
        assert!((integral - 1.0).abs() < 1e-3, "{integral}");
    }

    #[test]
    fn draws_stay_in_range_and_follow_the_good_points() {
        let p = Parzen::new(&[0.1; 20], 0.0, 1.0, 1.0);
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let xs: Vec<f64> = (0..1000).map(|_| p.draw(&mut rng)).collect();
        assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        let near = xs.iter().filter(|x| (**x - 0.1).abs() < 0.15).count();
        assert!(near > 800, "{near} of 1000 draws near the observations");
    }

    #[test]
    fn weights_ramp_beyond_25() {
        assert_eq!(weights(3), vec![1.0; 3]);
        let w = weights(30);
        assert_eq!(w.len(), 30);
        assert!((w[0] - 1.0 / 30.0).abs() < 1e-12 && w[4] == 1.0 && w[29] == 1.0);
    }
}
