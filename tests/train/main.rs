//! Training-loop tests: `fit` on XOR-like data, validation splits, output
//! modes, callbacks (EarlyStopping on scripted curves, ModelCheckpoint,
//! ReduceLROnPlateau, TerminateOnNaN, CsvLogger), History serde and plots,
//! bit-exact resume from training checkpoints, and finite-difference
//! gradients of the seed example's network.
//!
//! Tests that build models or draw random numbers hold [`common::serial`]:
//! layer initialisation and dropout use the global generator, which parallel
//! tests would otherwise interleave.

mod any_model;
mod callbacks;
mod common;
mod distill;
mod early_stopping;
mod fit;
mod history;
mod lr_finder;
mod metrics_fit;
mod metrics_sklearn;
mod mixed_precision;
mod nan;
mod resume;
mod search;
mod search_resume;
mod seed_gradients;
mod snapshot_ensemble;
mod validation;
