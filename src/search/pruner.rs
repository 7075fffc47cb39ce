//! [`Pruner`]: stops unpromising trials from their per-epoch values.

use super::direction::Direction;
use super::trial::{TrialRecord, TrialState};
use serde::{Deserialize, Serialize};

/// When a trial's reported values make it stop early.
///
/// Steps are what [`super::Trial::report`] is given: 0-based epoch indices,
/// so step `s` means `s + 1` epochs of training (the "resource" of successive
/// halving).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Pruner {
    /// Never prune.
    None,
    /// Optuna's `MedianPruner`: at step `s`, stop a trial whose best value so
    /// far is worse than the median of the completed trials' values at `s`.
    Median {
        /// No pruning until this many trials have completed.
        n_startup_trials: usize,
        /// No pruning before this step.
        n_warmup_steps: usize,
    },
    /// Asynchronous successive halving (ASHA; Optuna's
    /// `SuccessiveHalvingPruner`): rungs at `min_resource * reduction_factor^k`
    /// epochs; a trial reaching a rung goes on only if its value there is in the
    /// best `1 / reduction_factor` of every trial's value at that rung so far
    /// (the first trials at a rung go on when they are the best there).
    SuccessiveHalving {
        /// Epochs before the first rung.
        min_resource: usize,
        /// The fraction kept at each rung is `1 / reduction_factor` (>= 2).
        reduction_factor: usize,
    },
}

impl Pruner {
    /// [`Pruner::Median`] with Optuna's defaults (5 startup trials, no warm-up).
    pub fn median() -> Pruner {
        Pruner::Median {
            n_startup_trials: 5,
            n_warmup_steps: 0,
        }
    }

    /// [`Pruner::SuccessiveHalving`] with Optuna's defaults (first rung after 1
    /// epoch, keep a third).
    pub fn successive_halving() -> Pruner {
        Pruner::SuccessiveHalving {
            min_resource: 1,
            reduction_factor: 3,
        }
    }

    /// An error for settings that cannot work.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        if let Pruner::SuccessiveHalving {
            min_resource,
            reduction_factor,
        } = self
            && (*min_resource == 0 || *reduction_factor < 2)
        {
            return Err(crate::Error::invalid(
                "Pruner::SuccessiveHalving",
                format!("need min_resource >= 1 and reduction_factor >= 2, got {min_resource} and {reduction_factor}"),
            ));
        }
        Ok(())
    }

    /// Whether the trial with values `own` (its latest at `step`) should stop,
    /// given the finished trials and the other running trials' values.
    pub(crate) fn should_prune(
        &self,
        direction: Direction,
        own: &[(usize, f64)],
        step: usize,
        finished: &[TrialRecord],
        running: &[&[(usize, f64)]],
    ) -> bool {
        let at = |values: &[(usize, f64)], s: usize| values.iter().rev().find(|(x, _)| *x == s).map(|(_, v)| *v);
        match self {
            Pruner::None => false,
            Pruner::Median {
                n_startup_trials,
                n_warmup_steps,
            } => {
                let completed: Vec<&TrialRecord> =
                    finished.iter().filter(|t| t.state == TrialState::Complete).collect();
                if completed.len() < *n_startup_trials || step < *n_warmup_steps {
                    return false;
                }
                let mut others: Vec<f64> = completed
                    .iter()
                    .filter_map(|t| t.value_at(step))
                    .map(|v| direction.sanitize(v))
                    .collect();
                if others.is_empty() {
                    return false;
                }
                let Some(best) = own
                    .iter()
                    .map(|(_, v)| *v)
                    .min_by(|a, b| direction.cmp(*a, *b))
                    .map(|v| direction.sanitize(v))
                else {
                    return false;
                };
                others.sort_by(f64::total_cmp);
                let median = median_of_sorted(&others);
                direction.better(median, best)
            }
            Pruner::SuccessiveHalving {
                min_resource,
                reduction_factor,
            } => {
                let resource = step + 1;
                let Some(rung_resource) = rung_at(resource, *min_resource, *reduction_factor) else {
                    return false;
                };
                let Some(value) = at(own, rung_resource - 1) else {
                    return false;
                };
                let rung_step = rung_resource - 1;
                let mut competing: Vec<f64> = finished
                    .iter()
                    .filter_map(|t| t.value_at(rung_step))
                    .chain(running.iter().filter_map(|r| at(r, rung_step)))
                    .chain(std::iter::once(value))
                    .map(|v| direction.sanitize(v))
                    .collect();
                competing.sort_by(|a, b| direction.cmp(*a, *b));
                let keep = (competing.len() / reduction_factor).max(1);
                // Promoted when at least as good as the `keep`-th best value.
                direction.better(competing[keep - 1], direction.sanitize(value))
            }
        }
    }
}

/// The rung whose resource is exactly `resource` epochs, if it is one
/// (`min_resource * factor^k`).
fn rung_at(resource: usize, min_resource: usize, factor: usize) -> Option<usize> {
    let mut r = min_resource;
    while r < resource {
        r = r.checked_mul(factor)?;
    }
    (r == resource).then_some(r)
}

fn median_of_sorted(v: &[f64]) -> f64 {
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_are_powers_of_the_factor() {
        let rungs: Vec<usize> = (1..=30).filter(|&r| rung_at(r, 1, 3).is_some()).collect();
        assert_eq!(rungs, [1, 3, 9, 27]);
        let rungs: Vec<usize> = (1..=20).filter(|&r| rung_at(r, 2, 2).is_some()).collect();
        assert_eq!(rungs, [2, 4, 8, 16]);
    }
}
