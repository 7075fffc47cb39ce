//! Writes the seed corpus of the `load_checkpoint` fuzz target (fuzz/):
//! valid checkpoints of several kinds, each behind the mode byte the target
//! reads first. Run with
//! `NEURITE_WRITE_FUZZ_SEEDS=1 cargo test --test checkpoint -- --ignored write_fuzz_seeds`.

use crate::common::{small_model, tiny_model};
use neurite::checkpoint::format::{CHECKSUM_LEN, HEADER_LEN};
use neurite::checkpoint::{SaveOptions, TrainingSnapshot, safetensors_bytes, training_to_bytes};
use neurite::data::{DataLoader, Dataset};
use neurite::nn::{Conv2d, Flatten, Forward, LayerNorm, Linear, Module, ReLU, Sequential};
use neurite::optim::lr_scheduler::{CosineAnnealingLr, LinearLr, SequentialLr, StepLr};
use neurite::optim::{Adam, AdamConfig, Sgd, SgdConfig};
use neurite::{DType, Device, Tensor};
use std::path::PathBuf;

fn body(file: &[u8]) -> &[u8] {
    &file[HEADER_LEN..file.len() - CHECKSUM_LEN]
}

#[test]
#[ignore = "writes fuzz/seeds; run by hand when the format changes"]
fn write_fuzz_seeds() {
    if std::env::var("NEURITE_WRITE_FUZZ_SEEDS").is_err() {
        return;
    }
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap()).join("fuzz/seeds/load_checkpoint");
    std::fs::create_dir_all(&dir).unwrap();
    let mut seeds: Vec<(String, u8, Vec<u8>)> = Vec::new();
    let mut add_file = |name: &str, file: Vec<u8>, training: bool| {
        seeds.push((format!("{name}-file"), 0, file.clone()));
        seeds.push((format!("{name}-crc"), 3, file.clone()));
        seeds.push((
            format!("{name}-body"),
            if training { 2 } else { 1 },
            body(&file).to_vec(),
        ));
    };
    let opts = SaveOptions::default();
    add_file("tiny", tiny_model().to_checkpoint_bytes(&opts).unwrap(), false);
    add_file("bn-dropout", small_model().to_checkpoint_bytes(&opts).unwrap(), false);
    add_file(
        "bn-dropout-f16",
        small_model().to_checkpoint_bytes(&SaveOptions::f16()).unwrap(),
        false,
    );
    let conv = Sequential::new()
        .add(Conv2d::new(1, 2, 3))
        .add(ReLU)
        .add(Flatten::new())
        .add(Sequential::new().add(Linear::new(8, 2)).add(LayerNorm::new(2)));
    add_file("conv-nested", conv.to_checkpoint_bytes(&opts).unwrap(), false);

    // Training checkpoints: SGD, and Adam with a nested scheduler and a loader.
    let model = tiny_model();
    let sgd = Sgd::new(
        model.parameters(),
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )
    .unwrap();
    let history = vec![0.5f64, 0.25];
    add_file(
        "train-sgd",
        training_to_bytes(&TrainingSnapshot::new(&model, &sgd, &history).epoch(2).step(8)).unwrap(),
        true,
    );
    let model = tiny_model();
    let mut adam = Adam::new(model.parameters(), AdamConfig::new(0.01)).unwrap();
    let x = Tensor::randn((4, 2), DType::F32, &Device::cpu()).unwrap();
    let grads = model.forward(&x).unwrap().sum_all().unwrap().backward().unwrap();
    neurite::optim::Optimizer::step(&mut adam, &grads).unwrap();
    let warm = LinearLr::new(&mut adam, 0.1, 1.0, 3).unwrap();
    let cos = CosineAnnealingLr::new(&mut adam, 5, 0.0).unwrap();
    let sched = SequentialLr::new(&mut adam, vec![Box::new(warm), Box::new(cos)], vec![3]).unwrap();
    let data = Dataset::new(x, Tensor::zeros(4, DType::I64, &Device::cpu()).unwrap()).unwrap();
    let loader = DataLoader::new(data, 2).unwrap().shuffle(1);
    let snap = TrainingSnapshot::new(&model, &adam, &history)
        .epoch(1)
        .step(1)
        .scheduler(&sched)
        .loader(&loader);
    add_file("train-adam", training_to_bytes(&snap).unwrap(), true);
    let model = tiny_model();
    let mut sgd = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let step = StepLr::new(&mut sgd, 2, 0.5).unwrap();
    add_file(
        "train-steplr",
        training_to_bytes(&TrainingSnapshot::new(&model, &sgd, &history).scheduler(&step)).unwrap(),
        true,
    );
    let mut full_history = neurite::train::History::new();
    full_history.epochs = vec![0, 1];
    full_history.loss = vec![0.5, f64::NAN];
    full_history.metrics.insert("accuracy".into(), vec![0.25, 0.5]);
    add_file(
        "train-history",
        training_to_bytes(&TrainingSnapshot::new(&model, &sgd, &full_history).scheduler(&step)).unwrap(),
        true,
    );
    seeds.push((
        "safetensors".into(),
        4,
        safetensors_bytes(&small_model().named_tensors()).unwrap(),
    ));

    for (name, mode, bytes) in seeds {
        let mut data = vec![mode];
        data.extend_from_slice(&bytes);
        std::fs::write(dir.join(name), data).unwrap();
    }
}
