//! Tests of `neurite::data`: readers (IDX, CSV, the bundled MNIST), datasets,
//! the loader, scalers and splits, and datasets of several tensors.

#[path = "../support/cuda_emu.rs"]
mod cuda_emu;

mod bootstrap;
mod csv;
mod dataset;
mod feature_cache;
mod idx;
mod loader;
mod mnist;
mod multi;
mod scaler;
mod split;
mod validation;

use std::path::PathBuf;

/// The repository root, read at run time.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR for tests"))
}

/// A fresh, empty directory for one test's files.
pub fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("neurite-data-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Gzip-compresses bytes.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).expect("write to memory");
    enc.finish().expect("finish gzip in memory")
}

/// Gunzips bytes.
pub fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}
