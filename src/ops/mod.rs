//! The tensor op set, one family per file. Each op checks its arguments,
//! calls backend primitives through [`crate::backend::Storage`], and records
//! its backward rule, itself written with tensor ops (so it runs on any device).

mod binary;
mod conv;
mod index;
mod matmul;
mod reduce;
mod shape;
mod softmax;
mod unary;
mod adaptive_pool;
mod flip;
mod interpolate;
mod pad;
mod repeat;
mod separable;
mod triangular;

pub use adaptive_pool::IntoOutputSize2;
pub use interpolate::InterpolateMode;
pub use pad::PadMode;
