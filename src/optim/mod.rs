//! Optimizers, gradient clipping and learning-rate schedulers, with PyTorch's
//! update rules, defaults and numbers.
//!
//! - [`Optimizer`]: the trait; [`Sgd`], [`Adam`], [`AdamW`], [`RmsProp`].
//! - [`ParamGroup`]: parameters with their own hyperparameters (PyTorch's
//!   `param_groups`), and [`decay_groups`], the usual split that decays
//!   weights but not biases and norm parameters.
//! - [`clip_grad_norm`], [`clip_grad_value`]: act on a [`crate::GradStore`]
//!   between `backward()` and `step()`.
//! - [`lr_scheduler`]: StepLR, MultiStepLR, ConstantLR, LinearLR, ExponentialLR,
//!   CosineAnnealingLR, CosineAnnealingWarmRestarts, OneCycleLR,
//!   ReduceLROnPlateau, SequentialLR and ChainedScheduler.
//! - [`OptimizerState`] and [`lr_scheduler::SchedulerState`]: serde state for
//!   checkpoints that resume exactly.
//!
//! ```
//! use neurite::optim::lr_scheduler::{LrScheduler, StepLr};
//! use neurite::optim::{clip_grad_norm, AdamW, AdamWConfig, Optimizer};
//! use neurite::{DType, Device, Tensor};
//! # fn main() -> neurite::Result<()> {
//! let dev = Device::cpu();
//! let x = Tensor::randn((8, 3), DType::F32, &dev)?;
//! let w = Tensor::zeros((3, 1), DType::F32, &dev)?.requires_grad();
//! let mut opt = AdamW::new(vec![w.clone()], AdamWConfig::new(1e-2))?;
//! let mut sched = StepLr::new(&mut opt, 10, 0.5)?;
//! for _epoch in 0..3 {
//!     let loss = x.matmul(&w)?.sub_scalar(1.0)?.sqr()?.mean_all()?;
//!     let mut grads = loss.backward()?;
//!     clip_grad_norm(&mut grads, opt.params(), 1.0)?;
//!     opt.step(&grads)?;
//!     sched.step(&mut opt)?;
//! }
//! # Ok(()) }
//! ```

mod adam;
mod adamw;
mod clip;
mod common;
mod decay;
mod fused;
mod grad_scaler;
mod groups;
pub mod lr_scheduler;
mod optimizer;
mod param_group;
mod rebuild;
mod rmsprop;
mod sgd;
mod state;

pub use adam::{Adam, AdamConfig};
pub use adamw::{AdamW, AdamWConfig};
pub use clip::{clip_grad_norm, clip_grad_norm_p, clip_grad_value};
pub use decay::decay_groups;
pub use grad_scaler::GradScaler;
pub use lr_scheduler::{LrScheduler, SchedulerState};
pub use optimizer::Optimizer;
pub use param_group::{GroupOptions, ParamGroup};
pub use rmsprop::{RmsProp, RmsPropConfig};
pub use sgd::{Sgd, SgdConfig};
pub use state::{GroupState, HostBuffer, HostData, OptimizerConfig, OptimizerState, ParamState};
