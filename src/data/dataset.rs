//! An in-memory dataset: one or more tensors with the same number of rows
//! (samples), indexed and batched together.

use super::Batch;
use super::batch::check_aligned;
use crate::{Device, Error, Result, Tensor};

/// Samples held as one or more tensors whose first dimension is the sample
/// index, all on one device: for example images `(N, C, H, W)`, side features
/// `(N, F)` and class labels `I64` `(N,)`.
///
/// By convention the first tensor is the features ([`Dataset::features`]) and
/// the last the targets ([`Dataset::targets`]); the pair-based API
/// ([`Dataset::get`], [`Dataset::range`], [`DataLoader::iter`](super::DataLoader::iter))
/// reads those two, and the [`Batch`]-based one ([`Dataset::batch`],
/// [`Dataset::batch_range`], [`DataLoader::iter_batches`](super::DataLoader::iter_batches))
/// reads every tensor. A one-tensor dataset (unsupervised data) uses its
/// tensor as both features and targets.
///
/// Cloning is cheap: tensors share their storage.
///
/// ```
/// use neurite::{data::Dataset, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let x = Tensor::from_vec(vec![0f32, 1., 2., 3., 4., 5.], (3, 2), &dev)?;
/// let y = Tensor::from_vec(vec![0i64, 1, 0], 3, &dev)?;
/// let ds = Dataset::new(x, y)?;
/// let (xb, yb) = ds.get(&[2, 0])?;
/// assert_eq!(xb.to_vec2::<f32>()?, vec![vec![4., 5.], vec![0., 1.]]);
/// assert_eq!(yb.to_vec1::<i64>()?, vec![0, 0]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Dataset {
    /// Never empty; see [`check_aligned`] for the invariants.
    tensors: Vec<Tensor>,
}

impl Dataset {
    /// Pairs features and targets: the two-tensor case of
    /// [`Dataset::from_tensors`].
    pub fn new(features: Tensor, targets: Tensor) -> Result<Dataset> {
        Dataset::build("Dataset::new", vec![features, targets])
    }

    /// A dataset of `tensors` (at least one), each with a first (sample)
    /// dimension, all with the same number of samples and on the same device.
    /// Errors name the offending tensor's position, shape and device.
    ///
    /// ```
    /// use neurite::{data::Dataset, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let dev = Device::cpu();
    /// let image = Tensor::from_vec(vec![0f32, 1., 2., 3., 4., 5.], (3, 2), &dev)?;
    /// let age = Tensor::from_vec(vec![30f64, 41., 52.], (3, 1), &dev)?;
    /// let label = Tensor::from_vec(vec![2i64, 0, 1], 3, &dev)?;
    /// let ds = Dataset::from_tensors(vec![image, age, label])?;
    /// assert_eq!((ds.len(), ds.num_tensors()), (3, 3));
    /// let batch = ds.batch(&[2, 0])?;
    /// assert_eq!(batch.get(1)?.to_vec2::<f64>()?, vec![vec![52.], vec![30.]]);
    /// assert_eq!(batch.targets().to_vec1::<i64>()?, vec![1, 2]);
    ///
    /// let short = Tensor::from_vec(vec![0i64, 1], 2, &dev)?;
    /// let err = Dataset::from_tensors(vec![ds.features().clone(), short]).unwrap_err();
    /// assert!(err.to_string().contains("tensor 1"));
    /// # Ok(()) }
    /// ```
    pub fn from_tensors(tensors: Vec<Tensor>) -> Result<Dataset> {
        Dataset::build("Dataset::from_tensors", tensors)
    }

    fn build(op: &'static str, tensors: Vec<Tensor>) -> Result<Dataset> {
        check_aligned(op, "dataset", &tensors)?;
        // A dataset is data, not part of a graph: detaching keeps a loader's
        // batches from dragging a user's graph along.
        Ok(Dataset {
            tensors: tensors.iter().map(Tensor::detach).collect(),
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.tensors[0].dims()[0]
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of tensors (at least 1).
    pub fn num_tensors(&self) -> usize {
        self.tensors.len()
    }

    /// All tensors, in order, each `(N, ...)`.
    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }

    /// The tensor at position `i`.
    pub fn tensor(&self, i: usize) -> Result<&Tensor> {
        self.tensors
            .get(i)
            .ok_or_else(|| out_of_range("Dataset::tensor", i, self.num_tensors()))
    }

    /// The features: the first tensor, `(N, ...)`.
    pub fn features(&self) -> &Tensor {
        &self.tensors[0]
    }

    /// The targets: the last tensor, `(N, ...)` (the same as the features in
    /// a one-tensor dataset).
    pub fn targets(&self) -> &Tensor {
        &self.tensors[self.tensors.len() - 1]
    }

    /// The device every tensor lives on.
    pub fn device(&self) -> Device {
        self.tensors[0].device()
    }

    /// The samples at `indices` (in that order, repeats allowed) as
    /// `(features, targets)`: the first and the last tensor only.
    pub fn get(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        Ok(self.first_and_last().gather("Dataset::get", indices)?.into_pair())
    }

    /// The samples at `indices` (in that order, repeats allowed) of every tensor.
    pub fn batch(&self, indices: &[usize]) -> Result<Batch> {
        self.gather("Dataset::batch", indices)
    }

    /// The samples at `indices` as a new dataset with every tensor.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        let tensors = self.gather("Dataset::subset", indices)?.into_tensors();
        Ok(Dataset { tensors })
    }

    /// Samples `start..start + len` in order as `(features, targets)` (cheaper
    /// than [`Dataset::get`]).
    pub fn range(&self, start: usize, len: usize) -> Result<(Tensor, Tensor)> {
        Ok(self.first_and_last().slice("Dataset::range", start, len)?.into_pair())
    }

    /// Samples `start..start + len` in order, of every tensor (cheaper than
    /// [`Dataset::batch`]).
    pub fn batch_range(&self, start: usize, len: usize) -> Result<Batch> {
        self.slice("Dataset::batch_range", start, len)
    }

    /// A copy with every tensor on `device`.
    pub fn to_device(&self, device: &Device) -> Result<Dataset> {
        let tensors = self
            .tensors
            .iter()
            .map(|t| t.to_device(device))
            .collect::<Result<Vec<_>>>()?;
        Ok(Dataset { tensors })
    }

    /// The same dataset with other features (the first tensor, for example
    /// scaled); the sample count and device must not change. In a one-tensor
    /// dataset this also replaces the targets.
    pub fn with_features(&self, features: Tensor) -> Result<Dataset> {
        self.replace("Dataset::with_features", 0, features)
    }

    /// The same dataset with other targets (the last tensor, for example
    /// one-hot); the sample count and device must not change. In a one-tensor
    /// dataset this also replaces the features.
    pub fn with_targets(&self, targets: Tensor) -> Result<Dataset> {
        self.replace("Dataset::with_targets", self.tensors.len() - 1, targets)
    }

    /// The same dataset with tensor `i` replaced; the sample count and device
    /// must not change.
    pub fn with_tensor(&self, i: usize, tensor: Tensor) -> Result<Dataset> {
        self.replace("Dataset::with_tensor", i, tensor)
    }

    /// A view holding only the features and the targets (one tensor when they
    /// are the same), so that pair-based reads gather nothing else.
    pub(crate) fn first_and_last(&self) -> Dataset {
        let n = self.tensors.len();
        let tensors = if n <= 2 {
            self.tensors.clone()
        } else {
            vec![self.tensors[0].clone(), self.tensors[n - 1].clone()]
        };
        Dataset { tensors }
    }

    fn replace(&self, op: &'static str, i: usize, tensor: Tensor) -> Result<Dataset> {
        let mut tensors = self.tensors.clone();
        let Some(slot) = tensors.get_mut(i) else {
            return Err(out_of_range(op, i, self.num_tensors()));
        };
        *slot = tensor;
        Dataset::build(op, tensors)
    }

    fn gather(&self, op: &'static str, indices: &[usize]) -> Result<Batch> {
        let n = self.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(Error::invalid(
                op,
                format!("sample index {bad} is out of range for a dataset of {n} samples"),
            ));
        }
        let ids: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        let ids = Tensor::from_vec(ids, indices.len(), &self.device())?;
        let tensors = self
            .tensors
            .iter()
            .map(|t| t.index_select(0, &ids))
            .collect::<Result<Vec<_>>>()?;
        Ok(Batch::from_aligned(tensors))
    }

    fn slice(&self, op: &'static str, start: usize, len: usize) -> Result<Batch> {
        if start.checked_add(len).is_none_or(|end| end > self.len()) {
            return Err(Error::invalid(
                op,
                format!(
                    "samples {start}..{} are out of range for a dataset of {} samples",
                    start.saturating_add(len),
                    self.len()
                ),
            ));
        }
        let tensors = self
            .tensors
            .iter()
            .map(|t| t.narrow(0, start, len))
            .collect::<Result<Vec<_>>>()?;
        Ok(Batch::from_aligned(tensors))
    }
}

fn out_of_range(op: &'static str, i: usize, count: usize) -> Error {
    Error::invalid(
        op,
        format!("tensor {i} is out of range for a dataset of {count} tensors (valid positions 0..{count})"),
    )
}
