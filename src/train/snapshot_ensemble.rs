//! [`SnapshotEnsemble`]: one training run, one ensemble member per
//! warm-restart cycle (Huang et al., "Snapshot Ensembles: Train 1, get M for free").

use super::weights::deep_copy;
use super::{Callback, CallbackContext, Logs};
use crate::checkpoint::{SaveOptions, save_model};
use crate::nn::{Combine, Ensemble, Forward, Module};
use crate::{Error, Result, Tensor};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Takes a snapshot of the model's weights at the end of every cycle of a
/// [`CosineAnnealingWarmRestarts`](crate::optim::lr_scheduler::CosineAnnealingWarmRestarts)
/// schedule stepped once per epoch, where the learning rate is at its minimum
/// and the model sits in a local optimum, and builds an [`Ensemble`] of them.
///
/// The cycle ends are computed from `t_0` and `t_mult` as the scheduler
/// computes its restarts: cycles last `t_0`, `t_0 * t_mult`, `t_0 * t_mult^2`,
/// ... epochs, so with `t_0 = 2, t_mult = 2` the snapshots are taken after
/// epochs 1, 5, 13, ... (0-based), each the epoch right before the lr jumps
/// back to its base value. A cycle cut short by the end of training gives no
/// snapshot. Give it the same `t_0` and `t_mult` as the scheduler.
///
/// Snapshots are kept in memory as copies of every named tensor
/// ([`SnapshotEnsemble::snapshots`]; the default) and/or saved to
/// `dir/snapshot_{k}.ckpt` (`k` = 0, 1, ...) with the crate's atomic
/// [`save_model`] ([`SnapshotEnsemble::save_to`]).
///
/// ```no_run
/// use neurite::nn::{Combine, Linear, Module};
/// use neurite::optim::lr_scheduler::CosineAnnealingWarmRestarts;
/// use neurite::optim::{Sgd, SgdConfig};
/// use neurite::train::{SnapshotEnsemble, Trainer};
/// # fn main() -> neurite::Result<()> {
/// # let data: neurite::data::Dataset = todo!();
/// let mut model = Linear::new(4, 3);
/// let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1))?;
/// let sched = CosineAnnealingWarmRestarts::new(&mut opt, 5, 1, 0.0)?;
/// let mut snapshots = SnapshotEnsemble::new(5, 1)?.save_to("snapshots");
/// Trainer::new(neurite::loss::cross_entropy)
///     .epochs(20)
///     .scheduler(sched)
///     .callback(&mut snapshots)
///     .fit(&mut model, &mut opt, &data)?;
/// // Four cycles of five epochs: four members.
/// let ensemble = snapshots.ensemble(|| Ok(Linear::new(4, 3)), Combine::MeanProbabilities)?;
/// assert_eq!(ensemble.len(), 4);
/// # Ok(()) }
/// ```
pub struct SnapshotEnsemble {
    t_0: u64,
    t_mult: u64,
    dir: Option<PathBuf>,
    in_memory: bool,
    snapshots: Vec<HashMap<String, Tensor>>,
    epochs: Vec<usize>,
    saved: Vec<PathBuf>,
}

const OP: &str = "SnapshotEnsemble";

impl SnapshotEnsemble {
    /// Snapshots at the ends of the cycles of `t_0` epochs growing by `t_mult`
    /// (the scheduler's arguments), kept in memory. Errors unless both are at
    /// least 1.
    pub fn new(t_0: u64, t_mult: u64) -> Result<SnapshotEnsemble> {
        if t_0 == 0 || t_mult == 0 {
            return Err(Error::invalid(
                "SnapshotEnsemble::new",
                format!(
                    "t_0 and t_mult must be at least 1 (as for CosineAnnealingWarmRestarts), got t_0 {t_0} and t_mult {t_mult}"
                ),
            ));
        }
        Ok(SnapshotEnsemble {
            t_0,
            t_mult,
            dir: None,
            in_memory: true,
            snapshots: Vec::new(),
            epochs: Vec::new(),
            saved: Vec::new(),
        })
    }

    /// Also saves each snapshot to `dir/snapshot_{k}.ckpt` (the folder is
    /// created when training begins).
    pub fn save_to(mut self, dir: impl AsRef<Path>) -> Self {
        self.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Whether snapshots are kept in memory (default `true`); `false` with
    /// [`SnapshotEnsemble::save_to`] keeps only the files.
    pub fn keep_in_memory(mut self, on: bool) -> Self {
        self.in_memory = on;
        self
    }

    /// True when (0-based) `epoch` is the last of a cycle: the scheduler's lr
    /// for the next epoch is its base lr again.
    pub fn is_cycle_end(&self, epoch: usize) -> bool {
        let target = epoch as u128 + 1;
        if self.t_mult == 1 {
            return target.is_multiple_of(self.t_0 as u128);
        }
        // Cycles grow geometrically, so this walks O(log epoch) cycles.
        let mut end: u128 = 0;
        let mut len = self.t_0 as u128;
        while end < target {
            end = end.saturating_add(len);
            len = len.saturating_mul(self.t_mult as u128);
        }
        end == target
    }

    /// The cycle ends among epochs `0..epochs`: where snapshots are taken.
    pub fn cycle_ends(&self, epochs: usize) -> Vec<usize> {
        (0..epochs).filter(|&e| self.is_cycle_end(e)).collect()
    }

    /// The (0-based) epochs at which the snapshots of the last run were taken.
    pub fn snapshot_epochs(&self) -> &[usize] {
        &self.epochs
    }

    /// The in-memory snapshots of the last run, in order: every parameter and
    /// buffer by name (empty with `keep_in_memory(false)`).
    pub fn snapshots(&self) -> &[HashMap<String, Tensor>] {
        &self.snapshots
    }

    /// The files written in the last run, in order.
    pub fn saved(&self) -> &[PathBuf] {
        &self.saved
    }

    /// Number of snapshots taken in the last run.
    pub fn len(&self) -> usize {
        self.epochs.len()
    }

    /// True when no snapshot was taken.
    pub fn is_empty(&self) -> bool {
        self.epochs.is_empty()
    }

    /// An [`Ensemble`] of the snapshots, in evaluation mode: each one loaded
    /// (strictly, by name) into a fresh model from `make`, from memory when
    /// the snapshots were kept there and from the saved files otherwise. The
    /// global random generator is left as it was, although `make` may
    /// initialise layers from it. Errors when no snapshot was taken (training
    /// ended before the first cycle did), and on `make`'s or loading's errors.
    pub fn ensemble<M: Forward>(&self, make: impl Fn() -> Result<M>, combine: Combine) -> Result<Ensemble<M>> {
        if self.is_empty() {
            return Err(Error::invalid(
                "SnapshotEnsemble::ensemble",
                format!(
                    "no snapshot was taken: the first cycle ends after epoch {} (t_0 {}), training must reach it",
                    self.t_0 - 1,
                    self.t_0
                ),
            ));
        }
        let saved_rng = crate::rng_state();
        let members = self.load_members(&make);
        crate::set_rng_state(&saved_rng);
        let mut ensemble = Ensemble::new(members?, combine)?;
        ensemble.eval();
        Ok(ensemble)
    }

    fn load_members<M: Forward>(&self, make: &impl Fn() -> Result<M>) -> Result<Vec<M>> {
        let mut members = Vec::with_capacity(self.len());
        if self.in_memory {
            for map in &self.snapshots {
                let mut m = make()?;
                m.load_named_tensors(map)?;
                members.push(m);
            }
        } else {
            for path in &self.saved {
                let mut m = make()?;
                crate::checkpoint::load_weights(&mut m, path, true)?;
                members.push(m);
            }
        }
        Ok(members)
    }
}

impl Callback for SnapshotEnsemble {
    fn on_train_begin(&mut self, _ctx: &mut CallbackContext<'_>) -> Result<()> {
        if !self.in_memory && self.dir.is_none() {
            return Err(Error::invalid(
                OP,
                "keep_in_memory(false) without save_to(dir) would keep no snapshot: give a folder or keep them in memory",
            ));
        }
        if let Some(dir) = &self.dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io(format!("{OP}: creating the snapshot folder {}", dir.display()), e))?;
        }
        self.snapshots.clear();
        self.epochs.clear();
        self.saved.clear();
        Ok(())
    }

    fn on_epoch_end(&mut self, epoch: usize, _logs: &mut Logs, ctx: &mut CallbackContext<'_>) -> Result<()> {
        if !self.is_cycle_end(epoch) {
            return Ok(());
        }
        let k = self.epochs.len();
        if let Some(dir) = &self.dir {
            let path = dir.join(format!("snapshot_{k}.ckpt"));
            save_model(&*ctx.model, &path, &SaveOptions::default())?;
            self.saved.push(path);
        }
        if self.in_memory {
            let map = ctx
                .model
                .named_tensors()
                .into_iter()
                .map(|(name, t)| Ok((name, deep_copy(&t)?)))
                .collect::<Result<HashMap<_, _>>>()?;
            self.snapshots.push(map);
        }
        self.epochs.push(epoch);
        Ok(())
    }
}
