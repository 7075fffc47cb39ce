//! `train::SnapshotEnsemble` with `CosineAnnealingWarmRestarts`: one snapshot
//! per completed cycle, equal to the model's weights at that epoch, in memory
//! and on disk, and the ensemble built from them.

use crate::common::{WeightRecorder, serial, temp_dir, weights};
use neurite::data::Dataset;
use neurite::loss::mse_loss;
use neurite::nn::{Combine, Forward, Linear, Module};
use neurite::optim::lr_scheduler::{CosineAnnealingWarmRestarts, LrScheduler};
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::train::{SnapshotEnsemble, Trainer};
use neurite::{DType, Device, Tensor};
use std::collections::HashMap;

fn regression() -> Dataset {
    let x = Tensor::randn((32, 2), DType::F32, &Device::cpu()).unwrap();
    let y = x.sum_dim(1usize, true).unwrap().affine(2.0, 0.5).unwrap();
    Dataset::new(x, y).unwrap()
}

/// A snapshot in the recorder's form: names in the model's order, values as f64.
fn as_rows(model: &dyn Module, snap: &HashMap<String, Tensor>) -> Vec<(String, Vec<f64>)> {
    model
        .named_tensors()
        .into_iter()
        .map(|(n, _)| (n.clone(), snap[&n].to_vec::<f64>().unwrap()))
        .collect()
}

#[test]
fn cycle_ends_match_the_scheduler_restarts() {
    assert_eq!(SnapshotEnsemble::new(3, 1).unwrap().cycle_ends(10), [2, 5, 8]);
    assert_eq!(SnapshotEnsemble::new(2, 2).unwrap().cycle_ends(20), [1, 5, 13]);
    assert_eq!(SnapshotEnsemble::new(1, 3).unwrap().cycle_ends(40), [0, 3, 12, 39]);
    // The same epochs as where the scheduler's next lr jumps back up.
    for (t_0, t_mult) in [(1u64, 1u64), (2, 1), (3, 2), (2, 3), (1, 2)] {
        let w = Tensor::zeros(1, DType::F32, &Device::cpu()).unwrap();
        let mut opt = Sgd::new(vec![w], SgdConfig::new(0.1)).unwrap();
        let mut sched = CosineAnnealingWarmRestarts::new(&mut opt, t_0, t_mult, 0.0).unwrap();
        let mut lrs = vec![opt.lr()];
        for _ in 0..60 {
            sched.step(&mut opt).unwrap();
            lrs.push(opt.lr());
        }
        let restarts: Vec<usize> = (0..60).filter(|&e| lrs[e + 1] == 0.1).collect();
        let s = SnapshotEnsemble::new(t_0, t_mult).unwrap();
        assert_eq!(s.cycle_ends(60), restarts, "t_0 {t_0}, t_mult {t_mult}");
    }
    assert!(SnapshotEnsemble::new(0, 1).is_err());
    assert!(SnapshotEnsemble::new(2, 0).is_err());
}

#[test]
fn one_snapshot_per_completed_cycle_equal_to_that_epochs_weights() {
    let _g = serial();
    neurite::manual_seed(31);
    let data = regression();
    let dir = temp_dir("snapshot-ensemble");
    let mut model = Linear::new(2, 1);
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.05)).unwrap();
    let sched = CosineAnnealingWarmRestarts::new(&mut opt, 2, 2, 0.0).unwrap();
    let mut snaps = SnapshotEnsemble::new(2, 2).unwrap().save_to(&dir);
    let mut rec = WeightRecorder::default();
    // Epochs 0..9: cycles [0, 1], [2, 5] complete, [6, 13] cut short.
    let history = Trainer::new(mse_loss)
        .epochs(9)
        .batch_size(8)
        .scheduler(sched)
        .callback(&mut snaps)
        .callback(&mut rec)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    let lr = history.get("lr").unwrap();
    assert!(lr[2] == 0.05 && lr[6] == 0.05 && lr[1] < 0.05 && lr[5] < 0.05, "{lr:?}");

    assert_eq!(snaps.len(), 2);
    assert_eq!(snaps.snapshot_epochs(), [1, 5]);
    for (k, &epoch) in snaps.snapshot_epochs().iter().enumerate() {
        assert_eq!(
            as_rows(&model, &snaps.snapshots()[k]),
            rec.per_epoch[epoch],
            "snapshot {k}"
        );
        // The file holds the same weights.
        let mut loaded = Linear::new(2, 1);
        loaded.load_weights(dir.join(format!("snapshot_{k}.ckpt"))).unwrap();
        assert_eq!(weights(&loaded), rec.per_epoch[epoch]);
    }
    assert_eq!(
        snaps.saved(),
        [dir.join("snapshot_0.ckpt"), dir.join("snapshot_1.ckpt")]
    );
    assert_ne!(rec.per_epoch[1], rec.per_epoch[5]);

    // The ensemble: one member per snapshot, mean of their outputs.
    let ensemble = snaps.ensemble(|| Ok(Linear::new(2, 1)), Combine::MeanLogits).unwrap();
    assert_eq!(ensemble.len(), 2);
    assert!(!ensemble.is_training());
    for (k, &epoch) in snaps.snapshot_epochs().iter().enumerate() {
        assert_eq!(weights(&ensemble.members()[k]), rec.per_epoch[epoch]);
    }
    let x = data.features();
    let (a, b) = (
        ensemble.members()[0].forward(x).unwrap(),
        ensemble.members()[1].forward(x).unwrap(),
    );
    let want = a.add(&b).unwrap().div_scalar(2.0).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(ensemble.forward(x).unwrap().to_vec::<f32>().unwrap(), want);

    // Files only: the same ensemble, loaded from disk.
    let mut model = Linear::new(2, 1);
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.05)).unwrap();
    let sched = CosineAnnealingWarmRestarts::new(&mut opt, 3, 1, 0.0).unwrap();
    let mut files = SnapshotEnsemble::new(3, 1)
        .unwrap()
        .save_to(dir.join("files"))
        .keep_in_memory(false);
    let mut rec = WeightRecorder::default();
    Trainer::new(mse_loss)
        .epochs(7)
        .batch_size(8)
        .scheduler(sched)
        .callback(&mut files)
        .callback(&mut rec)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(files.snapshot_epochs(), [2, 5]);
    assert!(files.snapshots().is_empty());
    let ensemble = files.ensemble(|| Ok(Linear::new(2, 1)), Combine::MeanLogits).unwrap();
    assert_eq!(weights(&ensemble.members()[0]), rec.per_epoch[2]);
    assert_eq!(weights(&ensemble.members()[1]), rec.per_epoch[5]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn no_snapshot_and_nowhere_to_keep_them_are_errors() {
    let _g = serial();
    let data = regression();
    let mut model = Linear::new(2, 1);
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.05)).unwrap();
    let mut snaps = SnapshotEnsemble::new(5, 1).unwrap();
    Trainer::new(mse_loss)
        .epochs(3)
        .callback(&mut snaps)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert!(snaps.is_empty());
    let msg = snaps
        .ensemble(|| Ok(Linear::new(2, 1)), Combine::MeanLogits)
        .err()
        .unwrap()
        .to_string();
    assert!(
        msg.contains("no snapshot was taken") && msg.contains("after epoch 4"),
        "{msg}"
    );

    let mut nowhere = SnapshotEnsemble::new(1, 1).unwrap().keep_in_memory(false);
    let msg = Trainer::new(mse_loss)
        .epochs(1)
        .callback(&mut nowhere)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap_err()
        .to_string();
    assert!(msg.contains("keep no snapshot"), "{msg}");
}
