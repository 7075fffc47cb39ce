//! The state a study's workers and its running trials share.

use super::direction::Direction;
use super::pruner::Pruner;
use super::trial::TrialRecord;
use crate::{Error, Result};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// Values reported so far by a running trial.
#[derive(Default)]
pub(crate) struct Running {
    pub(crate) intermediate: Vec<(usize, f64)>,
    pub(crate) pruned: bool,
}

pub(crate) struct State {
    pub(crate) pruner: Pruner,
    /// Finished trials, by number.
    pub(crate) finished: Vec<TrialRecord>,
    pub(crate) running: BTreeMap<usize, Running>,
}

pub(crate) struct Shared {
    pub(crate) direction: Direction,
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn new(direction: Direction, pruner: Pruner, finished: Vec<TrialRecord>) -> Shared {
        Shared {
            direction,
            state: Mutex::new(State {
                pruner,
                finished,
                running: BTreeMap::new(),
            }),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // Every update leaves the state whole before it can panic (a user's
        // objective never runs under the lock), so a poisoned lock is usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn report(&self, number: usize, step: usize, value: f64) -> Result<()> {
        let mut guard = self.lock();
        let state = &mut *guard;
        let Some(run) = state.running.get_mut(&number) else {
            return Err(Error::invalid(
                "Trial::report",
                format!("trial {number} is not running (reports are taken only while its objective runs)"),
            ));
        };
        match run.intermediate.iter_mut().find(|(s, _)| *s == step) {
            Some(entry) => entry.1 = value,
            None => run.intermediate.push((step, value)),
        }
        if run.pruned {
            return Ok(());
        }
        let own = run.intermediate.clone();
        let others: Vec<&[(usize, f64)]> = state
            .running
            .iter()
            .filter(|(n, _)| **n != number)
            .map(|(_, r)| r.intermediate.as_slice())
            .collect();
        let prune = state
            .pruner
            .should_prune(self.direction, &own, step, &state.finished, &others);
        if let Some(run) = state.running.get_mut(&number) {
            run.pruned = prune;
        }
        Ok(())
    }

    pub(crate) fn is_pruned(&self, number: usize) -> bool {
        self.lock().running.get(&number).is_some_and(|r| r.pruned)
    }
}
