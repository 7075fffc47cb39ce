//! Tests of `neurite::nn` (modules, layers, Sequential, configs) and
//! `neurite::loss`, against PyTorch fixtures and finite differences.

mod activations_silu_gelu;
mod attention;
mod attention_api;
mod batch_norm;
mod distillation;
mod dropout;
mod ensemble;
mod fixtures;
mod fusion;
mod gradcheck;
mod init;
mod layers;
mod losses;
mod module_api;
mod normalization;
mod prune_structured;
mod prune_unstructured;
mod quantization;
mod recurrent;
mod resample_layers;

use std::sync::{Mutex, MutexGuard};

/// Serialises the tests that draw from the global random generator (layer
/// initialisation, dropout masks), so that a test that checks reproducibility
/// after `manual_seed` is not interleaved with another test's draws.
pub fn rng_lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
mod conv_layers;
