//! Datasets, loaders, scalers, splits and file readers (IDX, CSV).
//!
//! The usual path from files to batches:
//!
//! ```no_run
//! use neurite::data::{train_val_test_split, DataLoader, ImageLayout, Mnist, StandardScaler};
//! use neurite::Device;
//! # fn main() -> neurite::Result<()> {
//! let mnist = Mnist::load_with(Mnist::BUNDLED_DIR, ImageLayout::Flat)?;
//! let train = mnist.train_dataset()?;
//! let (train, val, _test) = train_val_test_split(&train, (0.6, 0.2, 0.2), 0, Some(train.targets()))?;
//! let scaler = StandardScaler::fit(train.features())?; // fit on train only
//! let train = train.with_features(scaler.transform(train.features())?)?;
//! let val = val.with_features(scaler.transform(val.features())?)?;
//! let mut loader = DataLoader::new(train, 64)?.shuffle(42).on_device(&Device::best());
//! for epoch in 0..2 {
//!     for batch in loader.iter() {
//!         let (x, y) = batch?;
//!         // forward, loss, backward, step
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! A dataset may hold more than two tensors (`Dataset::from_tensors(vec![x1,
//! x2, y])`); [`DataLoader::iter_batches`] then yields [`Batch`]es of all of
//! them, shuffled together, while `iter` keeps yielding the first and the last.

mod batch;
mod bootstrap;
mod csv;
mod dataset;
mod feature_cache;
mod idx;
mod labels;
mod loader;
mod mnist;
mod scaler;
mod split;

pub use self::csv::{CsvData, CsvOptions, LabelColumn, LabelKind, parse_csv, read_csv};
pub use batch::Batch;
pub use bootstrap::{bootstrap_indices, bootstrap_sample};
pub use dataset::Dataset;
pub use feature_cache::{cache_features, cache_features_with, load_cached_features, save_cached_features};
pub use idx::{IdxArray, IdxData, IdxType};
pub use labels::{class_counts, num_classes, one_hot};
pub use loader::{BatchIter, Batches, DataLoader, LoaderState};
pub use mnist::{ImageLayout, Mnist, MnistSplit};
pub use scaler::{MinMaxScaler, StandardScaler};
pub use split::{random_split, random_split_lengths, train_val_test_split};
