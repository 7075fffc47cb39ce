//! Fuzzes every way neurite reads a checkpoint: any input must give a value or
//! an error, never a panic, an abort or an allocation beyond libFuzzer's limit.
//!
//! The first byte picks what the rest is, so that mutations also reach the
//! decoder and the content checks behind the checksum (a random mutation of a
//! whole file almost never keeps its CRC32 right):
//! - 0: a whole checkpoint file, as read from disk;
//! - 1: a model body, framed here with a valid header and checksum;
//! - 2: a training body, framed likewise;
//! - 3: a whole file whose trailing CRC32 is recomputed first;
//! - 4: a safetensors file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use neurite::Device;
use neurite::checkpoint::format::encode_frame;
use neurite::checkpoint::{CheckpointKind, load_training_from_bytes, parse_safetensors};
use neurite::nn::{Linear, Module, ReLU, Sequential};

fn load_all(file: &[u8]) {
    let cpu = Device::cpu();
    let _ = Sequential::from_checkpoint_bytes(file, &cpu);
    if let Ok(ckpt) = load_training_from_bytes::<Vec<f64>>(file, &cpu) {
        // Rebuilding the optimizer and scheduler must fail cleanly too.
        let _ = ckpt.build_optimizer();
        let _ = ckpt.build_scheduler();
    }
    // The history type the training loop saves.
    let _ = load_training_from_bytes::<neurite::train::History>(file, &cpu);
    let mut model = Sequential::new()
        .add(Linear::new(2, 3))
        .add(ReLU)
        .add(Linear::new(3, 1));
    let _ = model.load_weights_from_bytes(file);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 5 {
        0 => load_all(rest),
        1 => load_all(&encode_frame(CheckpointKind::Model, rest)),
        2 => load_all(&encode_frame(CheckpointKind::Training, rest)),
        3 => {
            let mut file = rest.to_vec();
            if file.len() >= 4 {
                let end = file.len() - 4;
                let crc = crc32fast::hash(&file[..end]);
                file[end..].copy_from_slice(&crc.to_le_bytes());
            }
            load_all(&file);
        }
        _ => {
            let _ = parse_safetensors(rest, "fuzz");
        }
    }
});
