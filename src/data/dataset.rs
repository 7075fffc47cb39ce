//! An in-memory dataset: a features tensor and a targets tensor with the same
//! number of rows.

use crate::{Device, Error, Result, Tensor};

/// Samples held as two tensors whose first dimension is the sample index:
/// features `(N, ...)` and targets `(N, ...)` (class labels as `I64` `(N,)`,
/// regression targets as floats).
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
    features: Tensor,
    targets: Tensor,
}

impl Dataset {
    /// Pairs features and targets; both need at least one dimension, the same
    /// first dimension and the same device.
    pub fn new(features: Tensor, targets: Tensor) -> Result<Dataset> {
        let op = "Dataset::new";
        if features.rank() == 0 || targets.rank() == 0 {
            return Err(Error::invalid(
                op,
                format!(
                    "features {} and targets {} need a first (sample) dimension",
                    features.shape(),
                    targets.shape()
                ),
            ));
        }
        if features.dims()[0] != targets.dims()[0] {
            return Err(Error::ShapeMismatch {
                op,
                lhs: features.shape().clone(),
                rhs: targets.shape().clone(),
                expected: "the same number of samples (first dimension)".into(),
            });
        }
        if features.device() != targets.device() {
            return Err(Error::DeviceMismatch {
                op,
                lhs: features.device(),
                rhs: targets.device(),
            });
        }
        // A dataset is data, not part of a graph: detaching keeps a loader's
        // batches from dragging a user's graph along.
        Ok(Dataset {
            features: features.detach(),
            targets: targets.detach(),
        })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.features.dims()[0]
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All features, `(N, ...)`.
    pub fn features(&self) -> &Tensor {
        &self.features
    }

    /// All targets, `(N, ...)`.
    pub fn targets(&self) -> &Tensor {
        &self.targets
    }

    /// The device both tensors live on.
    pub fn device(&self) -> Device {
        self.features.device()
    }

    /// The samples at `indices` (in that order, repeats allowed) as `(x, y)`.
    pub fn get(&self, indices: &[usize]) -> Result<(Tensor, Tensor)> {
        let ids = self.index_tensor(indices, "Dataset::get")?;
        Ok((
            self.features.index_select(0, &ids)?,
            self.targets.index_select(0, &ids)?,
        ))
    }

    /// The samples at `indices` as a new dataset.
    pub fn subset(&self, indices: &[usize]) -> Result<Dataset> {
        let ids = self.index_tensor(indices, "Dataset::subset")?;
        Ok(Dataset {
            features: self.features.index_select(0, &ids)?,
            targets: self.targets.index_select(0, &ids)?,
        })
    }

    /// Samples `start..start + len` in order (cheaper than [`Dataset::get`]).
    pub fn range(&self, start: usize, len: usize) -> Result<(Tensor, Tensor)> {
        if start.checked_add(len).is_none_or(|end| end > self.len()) {
            return Err(Error::invalid(
                "Dataset::range",
                format!(
                    "samples {start}..{} are out of range for a dataset of {} samples",
                    start.saturating_add(len),
                    self.len()
                ),
            ));
        }
        Ok((
            self.features.narrow(0, start, len)?,
            self.targets.narrow(0, start, len)?,
        ))
    }

    /// A copy on `device`.
    pub fn to_device(&self, device: &Device) -> Result<Dataset> {
        Ok(Dataset {
            features: self.features.to_device(device)?,
            targets: self.targets.to_device(device)?,
        })
    }

    /// The same targets with other features (for example scaled ones); the
    /// sample count must not change.
    pub fn with_features(&self, features: Tensor) -> Result<Dataset> {
        Dataset::new(features, self.targets.clone())
    }

    /// The same features with other targets (for example one-hot ones).
    pub fn with_targets(&self, targets: Tensor) -> Result<Dataset> {
        Dataset::new(self.features.clone(), targets)
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
