//! Hyper-parameter search (Optuna, KerasTuner and Ray Tune are the models):
//! a [`SearchSpace`] of uniform, log-uniform, integer and categorical
//! parameters; a [`Study`] that runs an objective over trials proposed by a
//! [`Sampler`] (grid, random, TPE), stops unpromising ones with a [`Pruner`]
//! (median, successive halving / ASHA), keeps every finished trial in a file
//! it resumes from, runs trials in parallel across threads or devices, and
//! writes its results as CSV and as a plot.
//!
//! ```
//! use neurite::search::{Direction, Pruner, Sampler, SearchSpace, Study};
//! # fn main() -> neurite::Result<()> {
//! let space = SearchSpace::new().log_uniform("lr", 1e-4, 1.0);
//! let mut study = Study::new(space, Direction::Minimize)?
//!     .sampler(Sampler::Random)
//!     .pruner(Pruner::None)
//!     .seed(1)
//!     .quiet();
//! // A stand-in for training: the loss is lowest at lr = 1e-2.
//! study.optimize(20, |trial| Ok((trial.f64("lr")?.log10() + 2.0).powi(2)))?;
//! assert_eq!(study.trials().len(), 20);
//! assert!(study.best_trial().unwrap().value.unwrap() < 0.1);
//! # Ok(()) }
//! ```

mod direction;
mod file;
mod json_f64;
mod pruner;
mod report;
mod sampler;
mod shared;
mod space;
mod study;
mod tpe;
mod trial;

pub use direction::Direction;
pub use pruner::Pruner;
pub use sampler::Sampler;
pub use space::{Distribution, ParamValue, Params, SearchSpace};
pub use study::Study;
pub use tpe::TpeConfig;
pub use trial::{Trial, TrialRecord, TrialReporter, TrialState};
