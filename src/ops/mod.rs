//! The tensor op set, one family per file. Each op checks its arguments,
//! calls backend primitives through [`crate::backend::Storage`], and records
//! its backward rule, itself written with tensor ops (so it runs on any device).

mod binary;
mod conv;
mod conv_args;
mod conv_transpose;
mod index;
mod logical;
mod matmul;
mod pool;
mod pow;
mod reduce;
mod scan;
mod shape;
mod softmax;
mod sort;
mod unary;

pub use pow::PowExponent;
pub use unary::GeluApproximate;

pub use conv_args::{Conv1dArgs, Conv2dArgs, ConvPadding, ConvPadding1d, ConvTranspose2dArgs};
pub use pool::{AvgPool2dArgs, MaxPool2dArgs};
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
