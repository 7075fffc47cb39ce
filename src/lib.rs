//! # neurite
//!
//! A deep-learning framework: tensors with reverse-mode autograd on a pure-Rust
//! multithreaded CPU backend, and (with the `cuda` feature) an NVIDIA GPU
//! backend, behind one API.
//!
//! ```
//! use neurite::{DType, Device, Tensor};
//! # fn main() -> neurite::Result<()> {
//! let dev = Device::best();
//! neurite::manual_seed(0);
//! let x = Tensor::randn((4, 3), DType::F32, &dev)?;
//! let w = Tensor::randn((3, 2), DType::F32, &dev)?.requires_grad();
//! let loss = x.matmul(&w)?.relu()?.mean_all()?;
//! let grads = loss.backward()?;
//! assert_eq!(grads.get(&w).unwrap().dims(), &[3, 2]);
//! # Ok(()) }
//! ```

// Lets the `::neurite::...` paths that `#[derive(Module)]` generates resolve
// inside this crate too (its unit tests and doc tests).
extern crate self as neurite;

mod autocast;
pub mod autograd;
pub mod backend;
pub mod checkpoint;
pub mod data;
mod device;
mod dtype;
mod error;
pub mod loss;
pub mod metrics;
pub mod nn;
mod ops;
pub mod optim;
pub mod quant;
pub mod search;
mod shape;
mod tensor;
pub mod train;

pub use autocast::{AutocastGuard, autocast, autocast_dtype};
pub use autograd::{GradStore, NoGradGuard, is_grad_enabled, no_grad};
pub use backend::cpu::set_num_threads;
pub use device::Device;
pub use dtype::{DType, WithDType};
pub use error::{Error, Result};
pub use ops::{AvgPool2dArgs, Conv1dArgs, Conv2dArgs, ConvPadding, ConvPadding1d, ConvTranspose2dArgs, MaxPool2dArgs};
pub use ops::{GeluApproximate, PowExponent};
pub use ops::{InterpolateMode, IntoOutputSize2, PadMode};
pub use shape::{Dim, Shape};
pub use tensor::{
    IndexItem, PrintOptions, RngState, Tensor, TensorId, TensorIndex, fork_rng, manual_seed, rng_state, set_rng_state,
};

/// The names most programs need.
pub mod prelude {
    pub use crate::loss::Loss;
    pub use crate::nn::{Forward, Module, Sequential};
    pub use crate::optim::{LrScheduler, Optimizer};
    pub use crate::{DType, Device, Result, Shape, Tensor};
}
