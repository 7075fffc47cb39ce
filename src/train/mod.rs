//! Training: Keras-style `fit` ([`Trainer`]), callbacks, [`History`],
//! metrics, progress output and loss-curve plots.
//!
//! - [`Trainer`]: epochs, batch size, seeded shuffling, validation data or a
//!   validation split, loss, [`Metric`]s, an optional learning-rate scheduler
//!   (per epoch or per batch), callbacks, progress output, per-epoch training
//!   checkpoints and exact resumption ([`Trainer::resume`]); `evaluate` and
//!   `predict`.
//! - [`Callback`]s: [`EarlyStopping`], [`ModelCheckpoint`],
//!   [`ReduceLrOnPlateauCallback`], [`TerminateOnNaN`], [`CsvLogger`],
//!   [`SnapshotEnsemble`] (one ensemble member per warm-restart cycle).
//! - [`lr_finder`]: the learning-rate range test, with a suggested lr and a plot.
//! - [`History`]: per-epoch values (`history.get("val_loss")`, typed fields),
//!   serializable, plotted with [`History::plot`].
//!
//! ```
//! use neurite::nn::{Linear, Module, ReLU, Sequential, Sigmoid};
//! use neurite::optim::{Sgd, SgdConfig};
//! use neurite::train::{Metric, Trainer};
//! use neurite::{data::Dataset, DType, Device, Tensor};
//! # fn main() -> neurite::Result<()> {
//! let dev = Device::cpu();
//! let x = Tensor::randn((32, 2), DType::F32, &dev)?;
//! let y = x.sum_dim(1usize, true)?.gt_scalar(0.0)?.to_dtype(DType::F32)?; // (32, 1) of 0/1
//! let mut model = Sequential::new().add(Linear::new(2, 4)).add(ReLU).add(Linear::new(4, 1)).add(Sigmoid);
//! let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1))?;
//! let mut trainer = Trainer::new(neurite::loss::binary_cross_entropy)
//!     .epochs(3)
//!     .batch_size(8)
//!     .metric(Metric::Accuracy)
//!     .quiet();
//! let history = trainer.fit(&mut model, &mut opt, &Dataset::new(x.clone(), y.clone())?)?;
//! assert_eq!(history.loss.len(), 3);
//! let probabilities = trainer.predict(&mut model, &x)?;
//! assert_eq!(probabilities.dims(), &[32, 1]);
//! # Ok(()) }
//! ```

mod callback;
mod csv_logger;
mod distill;
mod early_stopping;
mod evaluate;
mod fit;
mod history;
mod logs;
mod lr_finder;
mod lr_finder_plot;
mod metric_stats;
mod metrics;
mod model_checkpoint;
mod monitor;
mod plateau;
pub(crate) mod plot;
mod progress;
mod series_serde;
mod snapshot_ensemble;
mod step;
mod terminate_on_nan;
mod trainer;
mod weights;

pub use callback::{Callback, CallbackContext};
pub use csv_logger::CsvLogger;
pub use distill::DistillationStep;
pub use early_stopping::EarlyStopping;
pub use evaluate::{evaluate, predict};
pub use history::{History, StopInfo};
pub use logs::Logs;
pub use lr_finder::{LrFinderConfig, LrFinderResult, LrSweep, lr_finder};
pub use metrics::{Metric, MetricFn};
pub use model_checkpoint::ModelCheckpoint;
pub use monitor::Mode;
pub use plateau::ReduceLrOnPlateauCallback;
pub use progress::Verbosity;
pub use snapshot_ensemble::SnapshotEnsemble;
pub use step::{StepOutput, TrainStep};
pub use terminate_on_nan::TerminateOnNaN;
pub use trainer::{SchedulerStep, Trainer};
