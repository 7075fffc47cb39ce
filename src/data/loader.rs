//! Mini-batches of a [`Dataset`]: seeded per-epoch shuffling, `drop_last`, a
//! target device, and the next batch prepared on a background thread. Every
//! tensor of the dataset is batched with the same permutation.

use super::{Batch, Dataset};
use crate::{Device, Error, Result, Tensor};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

/// Iterates over a dataset in mini-batches, one epoch per [`DataLoader::iter`]
/// (yielding `(features, targets)`: the dataset's first and last tensor) or
/// [`DataLoader::iter_batches`] (yielding a [`Batch`] of every tensor). Both
/// take the same samples in the same order: every tensor's rows are gathered
/// with one shared permutation.
///
/// Shuffling draws a new permutation each epoch from the loader's own ChaCha8
/// generator (not the global one, so that model initialisation and dropout do
/// not change the data order); the same seed gives the same sequence of
/// epochs, and [`DataLoader::state`] / [`DataLoader::set_state`] resume it
/// exactly from a checkpoint taken between epochs.
///
/// Batches are gathered and moved to the target device on a background
/// thread, at most two ahead of the consumer, so preparing batch `k + 1`
/// overlaps training on batch `k`. The order of batches never depends on
/// timing.
///
/// ```
/// use neurite::{data::{DataLoader, Dataset}, DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let x = Tensor::zeros((10, 3), DType::F32, &dev)?;
/// let y = Tensor::zeros(10, DType::I64, &dev)?;
/// let mut loader = DataLoader::new(Dataset::new(x, y)?, 4)?.shuffle(7).drop_last(true);
/// assert_eq!(loader.len(), 2);
/// for batch in loader.iter() {
///     let (xb, yb) = batch?;
///     assert_eq!((xb.dims(), yb.dims()), (&[4, 3][..], &[4][..]));
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct DataLoader {
    dataset: Dataset,
    batch_size: usize,
    shuffle: bool,
    drop_last: bool,
    device: Device,
    prefetch: bool,
    rng: ChaCha8Rng,
    epoch: u64,
}

/// Where a [`DataLoader`] stands between epochs: the generator that will draw
/// the next permutation and the number of epochs already started.
/// Serializable, for checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LoaderState {
    /// Epochs started so far ([`DataLoader::iter`] and [`DataLoader::iter_batches`] calls).
    pub epoch: u64,
    rng: ChaCha8Rng,
    /// The number of samples of the saved loader's dataset (`None` in states
    /// saved before it was recorded): the permutations drawn from `rng`
    /// depend on it, so a state only resumes a loader over as many samples.
    #[serde(default)]
    pub dataset_len: Option<usize>,
    /// The saved loader's batch size (`None` in older states): a different
    /// one would cut the resumed epochs into other batches.
    #[serde(default)]
    pub batch_size: Option<usize>,
}

impl DataLoader {
    /// A loader yielding `batch_size` samples per batch, in order, on the
    /// dataset's device, keeping a last short batch. `batch_size` must be positive.
    pub fn new(dataset: Dataset, batch_size: usize) -> Result<DataLoader> {
        if batch_size == 0 {
            return Err(Error::invalid("DataLoader::new", "batch_size must be at least 1"));
        }
        let device = dataset.device();
        Ok(DataLoader {
            dataset,
            batch_size,
            shuffle: false,
            drop_last: false,
            device,
            prefetch: true,
            rng: ChaCha8Rng::seed_from_u64(0),
            epoch: 0,
        })
    }

    /// Shuffles every epoch, with permutations drawn from a generator seeded with `seed`.
    pub fn shuffle(mut self, seed: u64) -> DataLoader {
        self.shuffle = true;
        self.rng = ChaCha8Rng::seed_from_u64(seed);
        self.epoch = 0;
        self
    }

    /// Drops the last batch when it is smaller than `batch_size`.
    pub fn drop_last(mut self, on: bool) -> DataLoader {
        self.drop_last = on;
        self
    }

    /// Delivers batches on `device` (copying from the dataset's device if needed).
    pub fn on_device(mut self, device: &Device) -> DataLoader {
        self.device = *device;
        self
    }

    /// Prepares batches on a background thread (the default) or, when off, in
    /// the consumer's thread on demand. Both give identical batches.
    pub fn prefetch(mut self, on: bool) -> DataLoader {
        self.prefetch = on;
        self
    }

    /// Batches per epoch.
    pub fn len(&self) -> usize {
        let n = self.dataset.len();
        if self.drop_last {
            n / self.batch_size
        } else {
            n.div_ceil(self.batch_size)
        }
    }

    /// True when an epoch yields no batch.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Samples per full batch.
    pub fn batch_size(&self) -> usize {
        self.batch_size
    }

    /// The dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.dataset
    }

    /// The device batches are delivered on.
    pub fn target_device(&self) -> Device {
        self.device
    }

    /// Epochs started so far.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// The state to save in a checkpoint between epochs.
    pub fn state(&self) -> LoaderState {
        LoaderState {
            epoch: self.epoch,
            rng: self.rng.clone(),
            dataset_len: Some(self.dataset.len()),
            batch_size: Some(self.batch_size),
        }
    }

    /// Restores a state from [`DataLoader::state`]: the next epoch is shuffled
    /// exactly as it would have been. Errors, changing nothing, when the state
    /// was saved by a loader over a dataset of another length or with another
    /// batch size (the same generator would then give other batches, so the
    /// run would not resume where it stopped).
    pub fn set_state(&mut self, state: &LoaderState) -> Result<()> {
        const OP: &str = "DataLoader::set_state";
        if let Some(n) = state.dataset_len
            && n != self.dataset.len()
        {
            return Err(Error::invalid(
                OP,
                format!(
                    "the state was saved by a loader over {n} samples, this loader's dataset has {}",
                    self.dataset.len()
                ),
            ));
        }
        if let Some(b) = state.batch_size
            && b != self.batch_size
        {
            return Err(Error::invalid(
                OP,
                format!(
                    "the state was saved by a loader with batch size {b}, this loader's is {}",
                    self.batch_size
                ),
            ));
        }
        self.epoch = state.epoch;
        self.rng = state.rng.clone();
        Ok(())
    }

    /// Starts the next epoch: draws its order (when shuffling) and returns its
    /// batches as `(features, targets)`, the dataset's first and last tensor
    /// (any tensors between them are not gathered).
    pub fn iter(&mut self) -> Batches {
        let ends = self.dataset.first_and_last();
        Batches {
            inner: self.start_epoch(ends),
        }
    }

    /// Starts the next epoch like [`DataLoader::iter`] (same order, same
    /// shuffling state), returning batches of every tensor of the dataset.
    ///
    /// ```
    /// use neurite::{data::{DataLoader, Dataset}, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let dev = Device::cpu();
    /// let a = Tensor::from_vec((0..6).map(|v| v as f32).collect(), (6, 1), &dev)?;
    /// let b = Tensor::from_vec((0..6).map(|v| 10.0 * v as f64).collect(), 6, &dev)?;
    /// let y = Tensor::from_vec((0..6).collect(), 6, &dev)?;
    /// let mut loader = DataLoader::new(Dataset::from_tensors(vec![a, b, y])?, 4)?.shuffle(3);
    /// for batch in loader.iter_batches() {
    ///     let batch = batch?;
    ///     let ids = batch.targets().to_vec1::<i64>()?;
    ///     let b = batch.get(1)?.to_vec1::<f64>()?;
    ///     assert!(ids.iter().zip(&b).all(|(&i, &v)| v == 10.0 * i as f64));
    /// }
    /// # Ok(()) }
    /// ```
    pub fn iter_batches(&mut self) -> BatchIter {
        let dataset = self.dataset.clone();
        self.start_epoch(dataset)
    }

    /// Draws the epoch's order (when shuffling) and starts delivering batches
    /// of `dataset`, which is the loader's dataset or a view of some of its tensors.
    fn start_epoch(&mut self, dataset: Dataset) -> BatchIter {
        let order = self.shuffle.then(|| {
            let mut o: Vec<usize> = (0..self.dataset.len()).collect();
            o.shuffle(&mut self.rng);
            o
        });
        // Saturating: a restored state may hold any count, and the count
        // does not drive the order.
        self.epoch = self.epoch.saturating_add(1);
        let plan = Plan {
            dataset,
            order,
            batch_size: self.batch_size,
            num_batches: self.len(),
            device: self.device,
        };
        BatchIter::start(plan, self.prefetch)
    }
}

impl IntoIterator for &mut DataLoader {
    type Item = Result<(Tensor, Tensor)>;
    type IntoIter = Batches;

    fn into_iter(self) -> Batches {
        self.iter()
    }
}

/// What one epoch delivers, shareable with the producer thread.
struct Plan {
    dataset: Dataset,
    /// The epoch's permutation; `None` reads the samples in order.
    order: Option<Vec<usize>>,
    batch_size: usize,
    num_batches: usize,
    device: Device,
}

impl Plan {
    fn batch(&self, b: usize) -> Result<Batch> {
        let start = b * self.batch_size;
        let len = self.batch_size.min(self.dataset.len() - start);
        let batch = match &self.order {
            Some(o) => self.dataset.batch(&o[start..start + len])?,
            None => self.dataset.batch_range(start, len)?,
        };
        batch.to_device(&self.device)
    }
}

enum Source {
    /// Built on demand in the consumer's thread.
    Inline(Box<Plan>),
    /// Built ahead by a producer thread; the channel holds at most one.
    Thread {
        rx: Option<Receiver<Result<Batch>>>,
        handle: Option<JoinHandle<()>>,
    },
}

/// One epoch of `(features, targets)` batches from [`DataLoader::iter`].
///
/// An error (from gathering or moving a batch) is yielded once and ends the epoch.
pub struct Batches {
    inner: BatchIter,
}

impl Iterator for Batches {
    type Item = Result<(Tensor, Tensor)>;

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|b| b.map(Batch::into_pair))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Batches {}

/// One epoch of [`Batch`]es (every tensor of the dataset) from
/// [`DataLoader::iter_batches`].
///
/// An error (from gathering or moving a batch) is yielded once and ends the epoch.
pub struct BatchIter {
    source: Source,
    next: usize,
    total: usize,
}

impl BatchIter {
    fn start(plan: Plan, prefetch: bool) -> BatchIter {
        let total = plan.num_batches;
        if !prefetch || total == 0 {
            return BatchIter {
                source: Source::Inline(Box::new(plan)),
                next: 0,
                total,
            };
        }
        let (tx, rx) = sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("neurite-loader".into())
            .spawn(move || produce(plan, tx));
        let source = match spawned {
            Ok(handle) => Source::Thread {
                rx: Some(rx),
                handle: Some(handle),
            },
            // The Plan moved into the failed closure is gone; report the failure
            // as this epoch's first item.
            Err(e) => {
                let (tx, rx) = sync_channel(1);
                let _ = tx.send(Err(Error::io("DataLoader: starting the batch thread", e)));
                Source::Thread {
                    rx: Some(rx),
                    handle: None,
                }
            }
        };
        BatchIter { source, next: 0, total }
    }
}

fn produce(plan: Plan, tx: SyncSender<Result<Batch>>) {
    for b in 0..plan.num_batches {
        let item = plan.batch(b);
        let failed = item.is_err();
        // A send error means the consumer dropped the epoch early: stop.
        if tx.send(item).is_err() || failed {
            return;
        }
    }
}

impl Iterator for BatchIter {
    type Item = Result<Batch>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.next >= self.total {
            return None;
        }
        let item = match &mut self.source {
            Source::Inline(plan) => plan.batch(self.next),
            Source::Thread { rx, .. } => match rx.as_ref().map(|r| r.recv()) {
                Some(Ok(item)) => item,
                _ => Err(Error::invalid(
                    "DataLoader",
                    "the background batch thread stopped before the end of the epoch",
                )),
            },
        };
        self.next = if item.is_ok() { self.next + 1 } else { self.total };
        Some(item)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.total - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for BatchIter {}

impl Drop for BatchIter {
    fn drop(&mut self) {
        if let Source::Thread { rx, handle } = &mut self.source {
            // Closing the channel first unblocks a producer waiting to send.
            drop(rx.take());
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}
