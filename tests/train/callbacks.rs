//! ModelCheckpoint, ReduceLROnPlateau (callback) and CsvLogger.

use crate::common::{Script, WeightRecorder, serial, temp_dir, weights, xor_data};
use neurite::Device;
use neurite::loss;
use neurite::nn::{Linear, Module, ReLU, Sequential};
use neurite::optim::lr_scheduler::PlateauConfig;
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::train::{CsvLogger, Metric, Mode, ModelCheckpoint, ReduceLrOnPlateauCallback, Trainer};

fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 8))
        .add(ReLU)
        .add(Linear::new(8, 2))
}

#[test]
fn model_checkpoint_keeps_the_best_model() {
    let _g = serial();
    neurite::manual_seed(6);
    let dir = temp_dir("model-ckpt");
    let best_path = dir.join("best.ckpt");
    let every = dir.join("epoch-{epoch}.ckpt");
    let data = xor_data(8, 0.2).unwrap();
    let mut model = mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let scores = [0.1, 0.3, 0.2, 0.5, 0.4];
    let mut best = ModelCheckpoint::new(&best_path, "val_score").mode(Mode::Max);
    let mut templated = ModelCheckpoint::new(&every, "val_accuracy"); // auto: max
    let mut rec = WeightRecorder::default();
    Trainer::new(loss::cross_entropy)
        .epochs(5)
        .batch_size(8)
        .callback(Script::new("val_score", &scores))
        .callback(Script::new("val_accuracy", &scores))
        .callback(&mut best)
        .callback(&mut templated)
        .callback(&mut rec)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!((best.best(), best.best_epoch()), (Some(0.5), Some(3)));
    assert_eq!(best.saved().len(), 3); // epochs 0, 1 and 3 improved
    // The file holds epoch 3's model, rebuilt with no code.
    let loaded = Sequential::load(&best_path, &Device::cpu()).unwrap();
    assert_eq!(weights(&loaded), rec.per_epoch[3]);
    assert_ne!(weights(&model), rec.per_epoch[3]);
    // `{epoch}` is the 1-based epoch.
    let names: Vec<String> = templated
        .saved()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["epoch-1.ckpt", "epoch-2.ckpt", "epoch-4.ckpt"]);
    assert!(!dir.join("epoch-3.ckpt").exists());

    // save_best_only(false) saves every epoch; min mode on a loss.
    let mut all = ModelCheckpoint::new(dir.join("e{epoch}.ckpt"), "loss").save_best_only(false);
    Trainer::new(loss::cross_entropy)
        .epochs(2)
        .callback(&mut all)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(all.saved().len(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn reduce_lr_on_plateau_cuts_the_lr_with_pytorch_rules() {
    let _g = serial();
    let data = xor_data(4, 0.2).unwrap();
    let mut model = mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.4)).unwrap();
    // A flat curve with patience 1: PyTorch cuts once the count of bad
    // epochs exceeds 1, i.e. after epochs 2 and 4, and counts afresh.
    let config = PlateauConfig {
        patience: 1,
        factor: 0.5,
        ..Default::default()
    };
    let mut plateau = ReduceLrOnPlateauCallback::new("val_x", config);
    let h = Trainer::new(loss::cross_entropy)
        .epochs(6)
        .callback(Script::new("val_x", &[1.0; 6]))
        .callback(&mut plateau)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(h.lr, [0.4, 0.4, 0.4, 0.2, 0.2, 0.1]);
    assert_eq!(opt.lr(), 0.1);
    assert_eq!(plateau.scheduler().unwrap().best(), Some(1.0));
    // With improvement every epoch, nothing changes.
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.4)).unwrap();
    let mut plateau = ReduceLrOnPlateauCallback::new("val_x", PlateauConfig::default());
    Trainer::new(loss::cross_entropy)
        .epochs(4)
        .callback(Script::new("val_x", &[4.0, 3.0, 2.0, 1.0]))
        .callback(&mut plateau)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(opt.lr(), 0.4);
}

#[test]
fn csv_logger_writes_one_row_per_epoch() {
    let _g = serial();
    neurite::manual_seed(9);
    let dir = temp_dir("csv");
    let path = dir.join("log.csv");
    let data = xor_data(4, 0.2).unwrap();
    let mut model = mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let h = Trainer::new(loss::cross_entropy)
        .epochs(3)
        .metric(Metric::Accuracy)
        .callback(CsvLogger::new(&path))
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "epoch,loss,accuracy,lr");
    assert_eq!(lines.len(), 4);
    for (i, line) in lines[1..].iter().enumerate() {
        let cols: Vec<f64> = line.split(',').map(|c| c.parse().unwrap()).collect();
        assert_eq!(cols, [i as f64, h.loss[i], h.get("accuracy").unwrap()[i], h.lr[i]]);
    }
    // Appending (a resumed run) keeps the header and adds rows.
    Trainer::new(loss::cross_entropy)
        .epochs(1)
        .metric(Metric::Accuracy)
        .callback(CsvLogger::new(&path).append(true))
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 5);
    assert_eq!(text.matches("epoch,").count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}
