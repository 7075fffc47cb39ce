//! An in-memory dataset: any number of tensors with the same number of rows.

use super::Batch;
use super::batch::check_aligned;
use crate::{Device, Error, Result, Tensor};

/// Samples held as tensors whose first dimension is the sample index: the
/// usual features `(N, ...)` and targets `(N, ...)` (class labels as `I64`
/// `(N,)`, regression targets as floats), or any number of tensors for models
/// with several inputs (`(x1, x2, y)`, [`Dataset::from_tensors`]). Batches and
/// shuffles keep every tensor's rows together.
///
/// [`Dataset::features`] is the first tensor and [`Dataset::targets`] the
/// last (the same tensor for a one-tensor, unsupervised dataset).
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
    /// At least one tensor, all with the same first dimension and device.
    tensors: Vec<Tensor>,
}

impl Dataset {
    /// Pairs features and targets; both need at least one dimension, the same
    /// first dimension and the same device.
    pub fn new(features: Tensor, targets: Tensor) -> Result<Dataset> {
        Self::checked("Dataset::new", vec![features, targets])
    }

    /// A dataset of any number (at least one) of tensors sharing their first
    /// dimension and device, in the order batches will hold them.
    ///
    /// ```
    /// use neurite::{data::Dataset, DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let dev = Device::cpu();
    /// let images = Tensor::zeros((10, 1, 8, 8), DType::F32, &dev)?;
    /// let meta = Tensor::zeros((10, 3), DType::F32, &dev)?;
    /// let labels = Tensor::zeros(10, DType::I64, &dev)?;
    /// let ds = Dataset::from_tensors(vec![images, meta, labels])?;
    /// assert_eq!((ds.len(), ds.num_tensors()), (10, 3));
    /// let b = ds.batch(&[3, 1])?;
    /// assert_eq!(b.get(1)?.dims(), &[2, 3]);
    /// assert!(Dataset::from_tensors(vec![]).is_err());
    /// # Ok(()) }
    /// ```
    pub fn from_tensors(tensors: Vec<Tensor>) -> Result<Dataset> {
        Self::checked("Dataset::from_tensors", tensors)
    }

    fn checked(op: &'static str, tensors: Vec<Tensor>) -> Result<Dataset> {
        check_aligned(op, &tensors)?;
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

    /// Number of tensors per sample.
    pub fn num_tensors(&self) -> usize {
        self.tensors.len()
    }

    /// Every tensor, in order.
    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }

    /// Tensor `i`; an error naming the count when there is none.
    pub fn tensor(&self, i: usize) -> Result<&Tensor> {
        self.tensors.get(i).ok_or_else(|| {
            Error::invalid(
                "Dataset::tensor",
                format!("tensor {i} asked for, but the dataset holds {}", self.tensors.len()),
            )
        })
    }

    /// The first tensor, `(N, ...)`.
    pub fn features(&self) -> &Tensor {
        &self.tensors[0]
    }

    /// The last tensor, `(N, ...)`.
    pub fn targets(&self) -> &Tensor {
        &self.tensors[self.tensors.len() - 1]
    }

    /// The device every tensor lives on.
    pub fn device(&self) -> Device {
        self.tensors[0].device()
    }

    /// The samples at `indices` (in that order, repeats allowed) as
    /// `(features, targets)`: the first and last tensors.
    pub fn get(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let ids = self.index_tensor(indices, "Dataset::get")?;
        Ok((
            self.features().index_select(0, &ids)?,
            self.targets().index_select(0, &ids)?,
        ))
    }

    /// The samples at `indices` with every tensor.
    pub fn batch(&self, indices: &[usize]) -> Result<Batch> {
        let ids = self.index_tensor(indices, "Dataset::batch")?;
        Ok(Batch::from_checked(self.select(&ids)?))
    }

    /// The samples at `indices` as a new dataset.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        let ids = self.index_tensor(indices, "Dataset::subset")?;
        Ok(Dataset {
            tensors: self.select(&ids)?,
        })
    }

    /// Samples `start..start + len` in order as `(features, targets)`
    /// (cheaper than [`Dataset::get`]).
    pub fn range(&self, start: usize, len: usize) -> Result<(Tensor, Tensor)> {
        self.check_range(start, len, "Dataset::range")?;
        Ok((
            self.features().narrow(0, start, len)?,
            self.targets().narrow(0, start, len)?,
        ))
    }

    /// Samples `start..start + len` in order, with every tensor.
    pub fn batch_range(&self, start: usize, len: usize) -> Result<Batch> {
        self.check_range(start, len, "Dataset::batch_range")?;
        let tensors = self
            .tensors
            .iter()
            .map(|t| t.narrow(0, start, len))
            .collect::<Result<Vec<_>>>()?;
        Ok(Batch::from_checked(tensors))
    }

    /// A copy on `device`.
    pub fn to_device(&self, device: &Device) -> Result<Dataset> {
        Ok(Dataset {
            tensors: self
                .tensors
                .iter()
                .map(|t| t.to_device(device))
                .collect::<Result<_>>()?,
        })
    }

    /// The same dataset with another first tensor (for example scaled
    /// features); the sample count must not change.
    pub fn with_features(&self, features: Tensor) -> Result<Dataset> {
        let mut tensors = self.tensors.clone();
        if tensors.len() == 1 {
            // The one tensor was both; keep it as the targets.
            tensors.insert(0, features);
        } else {
            tensors[0] = features;
        }
        Self::checked("Dataset::with_features", tensors)
    }

    /// The same dataset with another last tensor (for example one-hot targets).
    pub fn with_targets(&self, targets: Tensor) -> Result<Dataset> {
        let mut tensors = self.tensors.clone();
        if tensors.len() == 1 {
            tensors.push(targets);
        } else {
            let last = tensors.len() - 1;
            tensors[last] = targets;
        }
        Self::checked("Dataset::with_targets", tensors)
    }

    fn select(&self, ids: &Tensor) -> Result<Vec<Tensor>> {
        self.tensors.iter().map(|t| t.index_select(0, ids)).collect()
    }

    fn check_range(&self, start: usize, len: usize, op: &'static str) -> Result<()> {
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
        Ok(())
    }

    fn index_tensor(&self, indices: &[usize], op: &'static str) -> Result<Tensor> {
        let n = self.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(Error::invalid(
                op,
                format!("sample index {bad} is out of range for a dataset of {n} samples"),
            ));
        }
        let ids: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
        Tensor::from_vec(ids, indices.len(), &self.device())
    }
}
