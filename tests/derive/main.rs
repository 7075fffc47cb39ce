//! Tests of `#[derive(Module)]`: the names it registers (against PyTorch's
//! for the same architectures), and that every recursive `Module` method
//! (mode, freezing, dtype moves, loading, assignment, configuration) reaches
//! every kind of field: nested structs, `Vec`, `Option`, `Box<dyn Forward>`,
//! `ModuleList`, `ModuleDict`, raw tensors, generic and tuple structs.

mod config;
mod loading;
mod mode;
mod models;
mod names;
mod training;

use neurite::{DType, Tensor};

/// The values of any tensor, as `f64`.
pub fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64)
        .and_then(|t| t.flatten_all())
        .and_then(|t| t.to_vec1::<f64>())
        .expect("tensor values")
}

/// The largest absolute difference between two tensors of one shape.
pub fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.dims(), b.dims(), "compared tensors differ in shape");
    values(a)
        .iter()
        .zip(values(b))
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}
