//! The MNIST examples' building blocks: their command-line parser (shared
//! with the examples through `#[path]`), and their flow on the library API:
//! train, save, reload with no model code, same predictions; a damaged
//! checkpoint is an error naming the problem.

#[path = "../../examples/common/mod.rs"]
mod common;

mod options;
mod roundtrip;
