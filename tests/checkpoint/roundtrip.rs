//! Save, load, predict: identical outputs, on the CPU and across dtypes and options.

use crate::common::{problem, small_model, tiny_model, tmp_dir, values};
use neurite::checkpoint::{CheckpointKind, CheckpointProblem, FORMAT_VERSION, SaveOptions, read_header};
use neurite::nn::{
    BatchNorm1d, Conv2d, Embedding, Flatten, Forward, LayerNorm, Linear, MaxPool2d, Module, ReLU, Sequential, Tanh,
};
use neurite::{DType, Device, Tensor};

#[test]
fn save_load_predict_is_identical() {
    let dir = tmp_dir("roundtrip");
    let path = dir.join("model.ckpt");
    let mut model = small_model();
    model.eval();
    model.save(&path).unwrap();
    let loaded = Sequential::load(&path, &Device::cpu()).unwrap();
    assert!(!loaded.is_training(), "the eval mode is saved");
    assert_eq!(values(&loaded), values(&model));
    let x = Tensor::randn((5, 4), DType::F32, &Device::cpu()).unwrap();
    let a = model.forward(&x).unwrap().to_vec::<f32>().unwrap();
    let b = loaded.forward(&x).unwrap().to_vec::<f32>().unwrap();
    assert_eq!(a, b);
    let h = read_header(&path).unwrap();
    assert_eq!(h.kind, CheckpointKind::Model);
    assert_eq!(h.format_version, FORMAT_VERSION);
    assert_eq!(h.crate_version, env!("CARGO_PKG_VERSION"));
    // Parameters of the loaded model are trainable leaves, buffers are not.
    let trainable: Vec<bool> = loaded
        .named_parameters()
        .iter()
        .map(|(_, t)| t.is_requires_grad())
        .collect();
    assert!(trainable.iter().all(|&t| t) && !trainable.is_empty());
}

#[test]
fn training_mode_and_batch_norm_statistics_survive() {
    let model = small_model();
    assert!(model.is_training());
    let bytes = model.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let loaded = Sequential::from_checkpoint_bytes(&bytes, &Device::cpu()).unwrap();
    assert!(loaded.is_training());
    let nbt = loaded
        .named_buffers()
        .into_iter()
        .find(|(n, _)| n == "1.num_batches_tracked")
        .unwrap()
        .1;
    assert_eq!(nbt.to_vec::<i64>().unwrap(), vec![1]);
    let mean = |m: &Sequential| {
        m.named_buffers()
            .into_iter()
            .find(|(n, _)| n == "1.running_mean")
            .unwrap()
            .1
    };
    let saved = mean(&model).to_vec::<f32>().unwrap();
    assert!(saved.iter().any(|&v| v != 0.0), "statistics moved");
    assert_eq!(mean(&loaded).to_vec::<f32>().unwrap(), saved);
}

#[test]
fn many_layer_kinds_and_nesting_round_trip() {
    let inner = Sequential::new().add(Linear::new(8, 8)).add(Tanh);
    let model = Sequential::new()
        .add(Conv2d::new(1, 2, 3).with_padding(1))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(2 * 2 * 2, 8))
        .add(LayerNorm::new(8))
        .add(inner);
    let bytes = model.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let loaded = Sequential::from_checkpoint_bytes(&bytes, &Device::cpu()).unwrap();
    assert_eq!(loaded.to_config().unwrap(), model.to_config().unwrap());
    assert_eq!(values(&loaded), values(&model));
    let x = Tensor::randn((3, 1, 4, 4), DType::F32, &Device::cpu()).unwrap();
    assert_eq!(
        loaded.forward(&x).unwrap().to_vec::<f32>().unwrap(),
        model.forward(&x).unwrap().to_vec::<f32>().unwrap()
    );
}

#[test]
fn deep_legitimate_nesting_loads() {
    // 30 nested containers: well inside the decoder's depth limit.
    let mut model = Sequential::new().add(Linear::new(2, 2));
    for _ in 0..30 {
        model = Sequential::new().add(model);
    }
    let bytes = model.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let loaded = Sequential::from_checkpoint_bytes(&bytes, &Device::cpu()).unwrap();
    assert_eq!(values(&loaded), values(&model));
}

#[test]
fn non_affine_norm_layers_round_trip() {
    let model = Sequential::new()
        .add(LayerNorm::try_new(vec![300], 1e-5, false).unwrap())
        .add(BatchNorm1d::try_new(300, 1e-5, Some(0.1), false).unwrap());
    let bytes = model.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let loaded = Sequential::from_checkpoint_bytes(&bytes, &Device::cpu()).unwrap();
    assert_eq!(loaded.to_config().unwrap(), model.to_config().unwrap());
    assert_eq!(values(&loaded), values(&model));
}

#[test]
fn embedding_and_f64_models_keep_their_dtype() {
    let mut model = Sequential::new().add(Embedding::new(10, 4)).add(Linear::new(4, 2));
    model.to_dtype(DType::F64).unwrap();
    let bytes = model.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let loaded = Sequential::from_checkpoint_bytes(&bytes, &Device::cpu()).unwrap();
    for (_, t) in loaded.named_tensors() {
        assert_eq!(t.dtype(), DType::F64);
    }
    assert_eq!(values(&loaded), values(&model));
    let ids = Tensor::from_vec(vec![1i64, 7, 3], 3, &Device::cpu()).unwrap();
    assert_eq!(
        loaded.forward(&ids).unwrap().to_vec::<f64>().unwrap(),
        model.forward(&ids).unwrap().to_vec::<f64>().unwrap()
    );
}

#[test]
fn f16_storage_halves_the_file_and_rounds_like_f16() {
    let model = Sequential::new().add(Linear::new(64, 64));
    let full = model.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let half = model.to_checkpoint_bytes(&SaveOptions::f16()).unwrap();
    assert!(half.len() * 10 < full.len() * 6, "{} vs {}", half.len(), full.len());
    let loaded = Sequential::from_checkpoint_bytes(&half, &Device::cpu()).unwrap();
    for ((n, a), (_, b)) in model.named_tensors().iter().zip(loaded.named_tensors().iter()) {
        assert_eq!(b.dtype(), DType::F32, "{n} is cast back to f32");
        let a = a.to_vec::<f32>().unwrap();
        let b = b.to_vec::<f32>().unwrap();
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(*y, half::f16::from_f32(*x).to_f32(), "{n}: {x} stored as f16");
        }
    }
    let bf = model
        .to_checkpoint_bytes(&SaveOptions::new().store_f32_as(DType::BF16))
        .unwrap();
    let loaded = Sequential::from_checkpoint_bytes(&bf, &Device::cpu()).unwrap();
    let w = loaded.named_tensors()[0].1.to_vec::<f32>().unwrap();
    let w0 = model.named_tensors()[0].1.to_vec::<f32>().unwrap();
    assert_eq!(w[5], half::bf16::from_f32(w0[5]).to_f32());
    let err = model
        .to_checkpoint_bytes(&SaveOptions::new().store_f32_as(DType::I64))
        .unwrap_err();
    assert!(err.to_string().contains("f32, f16 or bf16"), "{err}");
}

#[test]
fn load_weights_into_an_existing_model() {
    let source = small_model();
    let bytes = source.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let mut target = small_model();
    target.eval();
    assert_ne!(values(&target), values(&source));
    target.load_weights_from_bytes(&bytes).unwrap();
    assert_eq!(values(&target), values(&source));
    assert!(!target.is_training(), "load_weights keeps the model's mode");
}

#[test]
fn another_architecture_is_refused_with_every_mismatch_listed() {
    let dir = tmp_dir("arch-mismatch");
    let path = dir.join("other.ckpt");
    Sequential::new()
        .add(Linear::new(4, 5))
        .add(ReLU)
        .add(Linear::new(5, 2))
        .add(Linear::new(2, 2))
        .save(&path)
        .unwrap();
    let mut model = tiny_model(); // Linear(2, 3), ReLU, Linear(3, 1)
    let before = values(&model);
    let err = model.load_weights(&path).unwrap_err();
    assert_eq!(problem(&err), CheckpointProblem::ArchitectureMismatch);
    let msg = err.to_string();
    for needle in [
        "\"0.weight\": shape [5, 4] given, expected [3, 2]",
        "\"0.bias\": shape [5] given, expected [3]",
        "\"2.weight\": shape [2, 5] given, expected [1, 3]",
        "unexpected \"3.weight\"",
        "unexpected \"3.bias\"",
        "the checkpoint's architecture has 4 layer(s)",
    ] {
        assert!(msg.contains(needle), "missing {needle:?} in:\n{msg}");
    }
    assert_eq!(values(&model), before, "nothing is written on a mismatch");
}

#[test]
fn a_dtype_mismatch_is_reported() {
    let mut f64_model = tiny_model();
    f64_model.to_dtype(DType::F64).unwrap();
    let bytes = f64_model.to_checkpoint_bytes(&SaveOptions::default()).unwrap();
    let mut f32_model = tiny_model();
    let err = f32_model.load_weights_from_bytes(&bytes).unwrap_err();
    assert_eq!(problem(&err), CheckpointProblem::ArchitectureMismatch);
    assert!(err.to_string().contains("dtype f64 given, expected f32"), "{err}");
}

#[test]
fn saving_replaces_the_previous_file_and_leaves_no_temporary() {
    let dir = tmp_dir("replace");
    let path = dir.join("m.ckpt");
    let a = tiny_model();
    let b = tiny_model();
    a.save(&path).unwrap();
    b.save(&path).unwrap();
    let loaded = Sequential::load(&path, &Device::cpu()).unwrap();
    assert_eq!(values(&loaded), values(&b));
    let names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("m.ckpt")]);
}

#[test]
fn missing_file_is_an_io_error() {
    let err = Sequential::load("/nonexistent/neurite/model.ckpt", &Device::cpu()).unwrap_err();
    assert!(matches!(err, neurite::Error::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("/nonexistent/neurite/model.ckpt"), "{err}");
}

#[test]
fn a_training_history_round_trips_bit_for_bit_and_a_wrong_type_is_refused() {
    use neurite::checkpoint::{TrainingSnapshot, load_training_from_bytes, training_to_bytes};
    use neurite::optim::{Sgd, SgdConfig};
    use neurite::train::History;
    let model = tiny_model();
    let opt = Sgd::new(model.parameters(), SgdConfig::new(0.05)).unwrap();
    let mut history = History::new();
    history.epochs = vec![0, 1, 2];
    history.loss = vec![0.75, f64::NAN, f64::INFINITY];
    history.metrics.insert("accuracy".into(), vec![0.5, 0.6, 0.7]);
    let bytes = training_to_bytes(&TrainingSnapshot::new(&model, &opt, &history).epoch(3).step(30)).unwrap();
    let ckpt = load_training_from_bytes::<History>(&bytes, &Device::cpu()).unwrap();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&ckpt.history.loss), bits(&history.loss));
    assert_eq!(ckpt.history.metrics, history.metrics);
    assert_eq!((ckpt.epoch, ckpt.step), (3, 30));
    assert_eq!(ckpt.build_optimizer().unwrap().lr(), 0.05);
    assert!(ckpt.build_scheduler().unwrap().is_none());
    assert_eq!(values(&ckpt.model), values(&model));
    // A model checkpoint reader accepts a training checkpoint too.
    assert_eq!(
        values(&Sequential::from_checkpoint_bytes(&bytes, &Device::cpu()).unwrap()),
        values(&model)
    );
    let err = load_training_from_bytes::<Vec<String>>(&bytes, &Device::cpu())
        .err()
        .unwrap();
    assert_eq!(problem(&err), CheckpointProblem::Undecodable);
    assert!(err.to_string().contains("history"), "{err}");
}
