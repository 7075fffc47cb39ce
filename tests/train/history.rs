//! History: access, alignment, serde round trips, and the PNG plot.

use crate::common::{serial, temp_dir, xor_data};
use neurite::loss;
use neurite::nn::{Linear, Module, ReLU, Sequential};
use neurite::optim::{Adam, AdamConfig};
use neurite::train::{History, Logs, Metric, StopInfo, Trainer};

fn logs(pairs: &[(&str, f64)]) -> Logs {
    let mut l = Logs::new();
    for (k, v) in pairs {
        l.insert(*k, *v);
    }
    l
}

#[test]
fn get_keys_and_alignment() {
    let mut h = History::new();
    h.record(0, &logs(&[("loss", 1.0), ("accuracy", 0.5), ("lr", 0.1)]));
    h.record(
        1,
        &logs(&[("loss", 0.5), ("accuracy", 0.75), ("val_loss", 0.6), ("lr", 0.1)]),
    );
    h.record(2, &logs(&[("loss", 0.25), ("lr", 0.05)]));
    assert_eq!(h.epochs, [0, 1, 2]);
    assert_eq!(h.get("loss"), Some(&[1.0, 0.5, 0.25][..]));
    assert_eq!(h.get("lr"), Some(&[0.1, 0.1, 0.05][..]));
    // A series that starts late or skips an epoch is padded with NaN.
    let val = h.get("val_loss").unwrap();
    assert!(val[0].is_nan() && val[1] == 0.6 && val[2].is_nan());
    let acc = h.get("accuracy").unwrap();
    assert_eq!(&acc[..2], &[0.5, 0.75]);
    assert!(acc[2].is_nan());
    assert_eq!(h.keys(), ["loss", "val_loss", "lr", "accuracy"]);
    assert_eq!(h.get("val_accuracy"), None);
    assert_eq!(h.last("loss"), Some(0.25));
    assert_eq!(h.logs_at(1).unwrap().get("val_loss"), Some(0.6));
    assert!(h.logs_at(3).is_none());
}

fn sample_history() -> History {
    let mut h = History::new();
    h.record(
        0,
        &logs(&[("loss", 0.7), ("accuracy", 0.5), ("val_loss", f64::INFINITY)]),
    );
    h.record(
        1,
        &logs(&[("loss", f64::NAN), ("accuracy", 0.25), ("val_loss", f64::NEG_INFINITY)]),
    );
    h.record(
        2,
        &logs(&[("loss", 0.1 + 0.2), ("accuracy", 1.0 / 3.0), ("val_loss", 1e-300)]),
    );
    h.stop = Some(StopInfo {
        epoch: 2,
        batch: Some(4),
        by: "TerminateOnNaN".into(),
        reason: "test".into(),
    });
    h
}

/// Equality that treats NaN as equal to NaN and compares bits.
fn same(a: &History, b: &History) -> bool {
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    a.epochs == b.epochs
        && bits(&a.loss) == bits(&b.loss)
        && bits(&a.val_loss) == bits(&b.val_loss)
        && bits(&a.lr) == bits(&b.lr)
        && a.metrics.keys().eq(b.metrics.keys())
        && a.metrics.iter().all(|(k, v)| bits(v) == bits(&b.metrics[k]))
        && a.stop == b.stop
}

#[test]
fn serde_round_trips_with_nan_and_infinities() {
    let h = sample_history();
    let json = serde_json::to_string(&h).unwrap();
    assert!(
        json.contains("\"NaN\"") && json.contains("\"inf\"") && json.contains("\"-inf\""),
        "{json}"
    );
    let back: History = serde_json::from_str(&json).unwrap();
    assert!(same(&h, &back), "{json}");
    // Pretty JSON too, and `null` (what other tools write for NaN) reads as NaN.
    let back: History = serde_json::from_str(&serde_json::to_string_pretty(&h).unwrap()).unwrap();
    assert!(same(&h, &back));
    let with_null = json.replace("\"NaN\"", "null");
    let back: History = serde_json::from_str(&with_null).unwrap();
    assert!(back.loss[1].is_nan());
    // Garbage strings are rejected.
    assert!(serde_json::from_str::<History>(&json.replace("\"NaN\"", "\"oops\"")).is_err());
}

#[test]
fn history_survives_a_training_checkpoint_bit_for_bit() {
    let _g = serial();
    let dir = temp_dir("history-ckpt");
    let model = Sequential::new().add(Linear::new(2, 1));
    let opt = Adam::new(model.parameters(), AdamConfig::new(0.1)).unwrap();
    let h = sample_history();
    let path = dir.join("h.ckpt");
    neurite::checkpoint::save_training(&path, &neurite::checkpoint::TrainingSnapshot::new(&model, &opt, &h)).unwrap();
    let ckpt = neurite::checkpoint::load_training::<History>(&path, &neurite::Device::cpu()).unwrap();
    assert!(same(&h, &ckpt.history));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn plot_writes_a_png() {
    let _g = serial();
    neurite::manual_seed(4);
    let data = xor_data(16, 0.2).unwrap();
    let mut model = Sequential::new()
        .add(Linear::new(2, 8))
        .add(ReLU)
        .add(Linear::new(8, 2));
    let mut opt = Adam::new(model.parameters(), AdamConfig::new(0.05)).unwrap();
    let h = Trainer::new(loss::cross_entropy)
        .epochs(12)
        .batch_size(8)
        .validation_split(0.25)
        .metric(Metric::Accuracy)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    let dir = temp_dir("plot");
    let path = dir.join("training.png");
    h.plot(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    // IHDR: width and height, big-endian, after the chunk length and type.
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1280, 480), "two panels: loss and accuracy");
    assert!(bytes.len() > 10_000, "{} bytes: nothing drawn?", bytes.len());
    if let Ok(keep) = std::env::var("NEURITE_KEEP_PLOT") {
        std::fs::copy(&path, keep).unwrap();
    }

    // Loss only: one panel; a NaN leaves a gap instead of failing.
    let mut h2 = History::new();
    for (e, l) in [1.0, 0.5, f64::NAN, 0.2].into_iter().enumerate() {
        h2.record(e, &logs(&[("loss", l)]));
    }
    let path2 = dir.join("loss.png");
    h2.plot(&path2).unwrap();
    let bytes = std::fs::read(&path2).unwrap();
    assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 640);

    assert!(History::new().plot(dir.join("empty.png")).is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}
