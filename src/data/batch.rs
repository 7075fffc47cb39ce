//! [`Batch`]: the tensors of one mini-batch, in dataset order.

use crate::{Device, Error, Result, Tensor};

/// The tensors of one mini-batch, in the order of the dataset's tensors
/// (`(x1, x2, y)` gives three), all with the same number of samples (first
/// dimension). What a [`crate::train::TrainStep`] receives.
///
/// ```
/// use neurite::data::Batch;
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let b = Batch::new(vec![
///     Tensor::zeros((4, 3), DType::F32, &dev)?,
///     Tensor::zeros((4, 2, 2), DType::F32, &dev)?,
///     Tensor::zeros(4, DType::I64, &dev)?,
/// ])?;
/// assert_eq!((b.len(), b.size()), (3, 4));
/// assert_eq!(b.get(1)?.dims(), &[4, 2, 2]);
/// assert_eq!(b.inputs().len(), 2);
/// assert!(b.get(3).is_err());
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct Batch {
    tensors: Vec<Tensor>,
}

impl Batch {
    /// A batch of `tensors` (at least one), which must share their first
    /// dimension and device.
    pub fn new(tensors: Vec<Tensor>) -> Result<Batch> {
        check_aligned("Batch::new", &tensors)?;
        Ok(Batch { tensors })
    }

    /// Tensors already checked by the dataset they come from.
    pub(crate) fn from_checked(tensors: Vec<Tensor>) -> Batch {
        Batch { tensors }
    }

    /// Number of tensors.
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Always false: a batch holds at least one tensor.
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// Number of samples (the first dimension).
    pub fn size(&self) -> usize {
        self.tensors
            .first()
            .and_then(|t| t.dims().first().copied())
            .unwrap_or(0)
    }

    /// Tensor `i`; an error naming the count when there is none.
    pub fn get(&self, i: usize) -> Result<&Tensor> {
        self.tensors.get(i).ok_or_else(|| {
            Error::invalid(
                "Batch::get",
                format!(
                    "tensor {i} asked for, but the batch holds {} tensor(s)",
                    self.tensors.len()
                ),
            )
        })
    }

    /// Every tensor, in order.
    pub fn tensors(&self) -> &[Tensor] {
        &self.tensors
    }

    /// Every tensor but the last (the inputs of a supervised batch).
    pub fn inputs(&self) -> &[Tensor] {
        &self.tensors[..self.tensors.len().saturating_sub(1)]
    }

    /// The last tensor (the targets of a supervised batch).
    pub fn targets(&self) -> &Tensor {
        // `new` and the datasets guarantee at least one tensor.
        &self.tensors[self.tensors.len() - 1]
    }

    /// The tensors, by value.
    pub fn into_tensors(self) -> Vec<Tensor> {
        self.tensors
    }

    /// A copy with every tensor on `device`.
    pub fn to_device(&self, device: &Device) -> Result<Batch> {
        let tensors = self
            .tensors
            .iter()
            .map(|t| t.to_device(device))
            .collect::<Result<_>>()?;
        Ok(Batch { tensors })
    }
}

impl TryFrom<(Tensor, Tensor)> for Batch {
    type Error = Error;

    fn try_from((x, y): (Tensor, Tensor)) -> Result<Batch> {
        Batch::new(vec![x, y])
    }
}

/// Checks that `tensors` is not empty and that every tensor has a first
/// dimension equal to the first tensor's, on the first tensor's device.
pub(crate) fn check_aligned(op: &'static str, tensors: &[Tensor]) -> Result<()> {
    let first = tensors
        .first()
        .ok_or_else(|| Error::invalid(op, "needs at least one tensor, got none"))?;
    for (i, t) in tensors.iter().enumerate() {
        if t.rank() == 0 {
            return Err(Error::invalid(
                op,
                format!("tensor {i} has shape {} and no first (sample) dimension", t.shape()),
            ));
        }
        if t.dims()[0] != first.dims()[0] {
            return Err(Error::ShapeMismatch {
                op,
                lhs: first.shape().clone(),
                rhs: t.shape().clone(),
                expected: format!("the same number of samples (first dimension) in tensor 0 and tensor {i}"),
            });
        }
        if t.device() != first.device() {
            return Err(Error::DeviceMismatch {
                op,
                lhs: first.device(),
                rhs: t.device(),
            });
        }
    }
    Ok(())
}
