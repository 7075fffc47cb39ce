//! Helpers shared by the checkpoint tests.

use neurite::checkpoint::CheckpointProblem;
use neurite::nn::{BatchNorm1d, Dropout, Forward, Linear, Module, ReLU, Sequential};
use neurite::{DType, Device, Error, Tensor};
use std::path::PathBuf;

/// A fresh, empty folder for one test.
pub fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir()
        .join("neurite-checkpoint-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create test folder");
    dir
}

/// Linear -> BatchNorm1d -> ReLU -> Dropout -> Linear, with batch-norm
/// statistics moved away from their initial values by one training pass.
pub fn small_model() -> Sequential {
    let model = Sequential::new()
        .add(Linear::new(4, 6))
        .add(BatchNorm1d::new(6))
        .add(ReLU)
        .add(Dropout::new(0.25))
        .add(Linear::new(6, 3));
    let x = Tensor::randn((8, 4), DType::F32, &Device::cpu()).unwrap();
    neurite::no_grad(|| model.forward(&x)).unwrap();
    model
}

/// A tiny model whose checkpoint is small enough to corrupt at every byte.
pub fn tiny_model() -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 3))
        .add(ReLU)
        .add(Linear::new(3, 1))
}

/// The problem of a checkpoint error, panicking with the error otherwise.
pub fn problem(e: &Error) -> CheckpointProblem {
    e.checkpoint_problem()
        .unwrap_or_else(|| panic!("expected Error::BadCheckpoint, got {e:?}"))
}

/// Every named tensor's values as f64, for exact comparisons.
pub fn values(m: &Sequential) -> Vec<(String, Vec<f64>)> {
    m.named_tensors()
        .into_iter()
        .map(|(n, t)| (n, t.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap()))
        .collect()
}

/// Recomputes the trailing CRC32 after a deliberate edit, so that the edit
/// reaches the checks behind the checksum.
pub fn fix_crc(bytes: &mut [u8]) {
    let end = bytes.len() - 4;
    let crc = crc32fast::hash(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
}
