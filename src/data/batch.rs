//! One mini-batch: every tensor of a [`Dataset`](super::Dataset) at the same
//! samples, in dataset order.

use crate::{Device, Error, Result, Tensor};

/// The tensors of one mini-batch, in the order of the dataset they came from,
/// all with the same first (sample) dimension and on the same device.
///
/// By convention the last tensor is the target and the others are inputs
/// ([`Batch::inputs`], [`Batch::targets`]); a one-tensor batch (unsupervised
/// data) uses its tensor as both. Tensors are read with [`Batch::get`], which
/// returns an error rather than panicking on a bad position, so `Batch` has
/// no `Index` implementation.
///
/// ```
/// use neurite::{data::Batch, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let image = Tensor::from_vec(vec![0f32, 1., 2., 3.], (2, 2), &dev)?;
/// let meta = Tensor::from_vec(vec![7f64, 8.], (2, 1), &dev)?;
/// let label = Tensor::from_vec(vec![1i64, 0], 2, &dev)?;
/// let batch = Batch::new(vec![image, meta, label])?;
/// assert_eq!((batch.len(), batch.size()), (3, 2));
/// assert_eq!(batch.inputs().len(), 2);
/// assert_eq!(batch.targets().to_vec1::<i64>()?, vec![1, 0]);
/// assert_eq!(batch.get(1)?.dims(), &[2, 1]);
/// assert!(batch.get(3).is_err());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Batch {
    /// Never empty; every tensor has rank >= 1, the same first dimension and device.
    tensors: Vec<Tensor>,
}

// A batch always holds at least one tensor, so an `is_empty` would always be
// false; the sample count is `size`.
#[allow(clippy::len_without_is_empty)]
impl Batch {
    /// A batch of `tensors`: at least one, each with a first (sample)
    /// dimension, all with the same number of samples and on the same device.
    pub fn new(tensors: Vec<Tensor>) -> Result<Batch> {
        check_aligned("Batch::new", "batch", &tensors)?;
        Ok(Batch { tensors })
    }

    /// Builds a batch from tensors already known to be aligned (gathered from
    /// one dataset at the same indices).
    pub(crate) fn from_aligned(tensors: Vec<Tensor>) -> Batch {
        debug_assert!(check_aligned("Batch", "batch", &tensors).is_ok());
        Batch { tensors }
    }

    /// Number of tensors (at least 1).
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Number of samples: the first dimension shared by every tensor.
    pub fn size(&self) -> usize {
        self.tensors[0].dims()[0]
    }

    /// The tensor at position `i`, in dataset order.
    pub fn get(&self, i: usize) -> Result<&Tensor> {
        self.tensors.get(i).ok_or_else(|| {
            Error::invalid(
                "Batch::get",
                format!(
                    "tensor {i} is out of range for a batch of {} tensors (valid positions 0..{})",
                    self.len(),
                    self.len()
                ),
            )
        })
    }

    /// All tensors, in dataset order.
    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }

    /// The inputs: every tensor but the last, or the only tensor of a
    /// one-tensor batch (which is its own target).
    pub fn inputs(&self) -> &[Tensor] {
        match self.tensors.len() {
            1 => &self.tensors,
            n => &self.tensors[..n - 1],
        }
    }

    /// The target: the last tensor.
    pub fn targets(&self) -> &Tensor {
        &self.tensors[self.tensors.len() - 1]
    }

    /// The device every tensor lives on.
    pub fn device(&self) -> Device {
        self.tensors[0].device()
    }

    /// The tensors, by value.
    pub fn into_tensors(self) -> Vec<Tensor> {
        self.tensors
    }

    /// The first and the last tensor, as [`DataLoader::iter`](super::DataLoader::iter)
    /// yields them (the same tensor twice for a one-tensor batch).
    pub fn into_pair(mut self) -> (Tensor, Tensor) {
        let last = self.tensors.pop().expect("a batch holds at least one tensor");
        let first = if self.tensors.is_empty() {
            last.clone()
        } else {
            self.tensors.swap_remove(0)
        };
        (first, last)
    }

    /// A copy with every tensor on `device`.
    pub fn to_device(&self, device: &Device) -> Result<Batch> {
        let tensors = self
            .tensors
            .iter()
            .map(|t| t.to_device(device))
            .collect::<Result<Vec<_>>>()?;
        Ok(Batch { tensors })
    }
}

impl TryFrom<(Tensor, Tensor)> for Batch {
    type Error = Error;

    /// A two-tensor batch `(inputs, targets)`, checked as [`Batch::new`] does.
    ///
    /// ```
    /// use neurite::{data::Batch, DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::zeros((4, 3), DType::F32, &Device::cpu())?;
    /// let y = Tensor::zeros(4, DType::I64, &Device::cpu())?;
    /// let batch = Batch::try_from((x, y))?;
    /// assert_eq!((batch.len(), batch.size()), (2, 4));
    /// # Ok(()) }
    /// ```
    fn try_from((inputs, targets): (Tensor, Tensor)) -> Result<Batch> {
        let tensors = vec![inputs, targets];
        check_aligned("Batch::try_from", "batch", &tensors)?;
        Ok(Batch { tensors })
    }
}

/// Checks what a dataset and a batch both need: at least one tensor, each with
/// a first (sample) dimension, all of the same length along it and on one
/// device. `what` ("dataset", "batch") names the collection in messages.
pub(crate) fn check_aligned(op: &'static str, what: &str, tensors: &[Tensor]) -> Result<()> {
    let Some(first) = tensors.first() else {
        return Err(Error::invalid(
            op,
            format!("a {what} needs at least one tensor, got none"),
        ));
    };
    for (i, t) in tensors.iter().enumerate() {
        if t.rank() == 0 {
            return Err(Error::invalid(
                op,
                format!(
                    "tensor {i} of the {what} has shape {} (a scalar); every tensor needs a first (sample) dimension",
                    t.shape()
                ),
            ));
        }
    }
    let n = first.dims()[0];
    for (i, t) in tensors.iter().enumerate().skip(1) {
        if t.dims()[0] != n {
            return Err(Error::ShapeMismatch {
                op,
                lhs: first.shape().clone(),
                rhs: t.shape().clone(),
                expected: format!(
                    "tensor {i} of the {what} has {} samples (first dimension) but tensor 0 has {n}; \
                     every tensor needs the same number of samples",
                    t.dims()[0]
                ),
            });
        }
        if t.device() != first.device() {
            return Err(Error::invalid(
                op,
                format!(
                    "tensor {i} of the {what} is on {} but tensor 0 is on {}; every tensor must be on the same \
                     device (move it with `to_device`)",
                    t.device(),
                    first.device()
                ),
            ));
        }
    }
    Ok(())
}
