//! [`DistillationStep`]: fits a student against a frozen teacher through
//! [`Trainer::fit_step`](super::Trainer::fit_step).

use super::{StepOutput, TrainStep};
use crate::data::Batch;
use crate::loss::{DistillationLoss, cross_entropy};
use crate::nn::Forward;
use crate::{Error, Result, Tensor};

const OP: &str = "DistillationStep";

/// A training step for knowledge distillation (Hinton et al., 2015): on each
/// batch `(x, labels)` the teacher's logits are computed under no-grad and
/// in evaluation mode, and the student is trained on
/// [`DistillationLoss`] between its logits, the teacher's and the labels.
/// Validation scores the student alone with cross-entropy on the labels,
/// as Keras's `Distiller.test_step` does, so `val_loss` compares with a
/// student trained without a teacher. Metrics see the student's logits.
///
/// The teacher is borrowed, not owned: it is never updated, and it is put
/// in evaluation mode once, when the step is made. The softened KL term is
/// logged per epoch as `distill_soft` (before the `alpha` weighting).
///
/// A teacher whose output shape differs from the student's is an error
/// naming both shapes, at the first batch.
///
/// ```
/// use neurite::data::Dataset;
/// use neurite::loss::DistillationLoss;
/// use neurite::nn::{Linear, Module, ReLU, Sequential};
/// use neurite::optim::{Adam, AdamConfig};
/// use neurite::train::{DistillationStep, Trainer};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let x = Tensor::randn((64, 8), DType::F32, &dev)?;
/// let y = Tensor::from_vec((0..64).map(|i| i % 3).collect::<Vec<i64>>(), 64, &dev)?;
/// let data = Dataset::new(x, y)?;
/// let mut teacher = Sequential::new().add(Linear::new(8, 32)).add(ReLU).add(Linear::new(32, 3));
/// let mut student = Sequential::new().add(Linear::new(8, 3));
/// let mut opt = Adam::new(student.parameters(), AdamConfig::new(1e-2))?;
/// let step = DistillationStep::new(&mut teacher, DistillationLoss::new(4.0).with_alpha(0.7));
/// let history = Trainer::custom().epochs(2).batch_size(16).quiet().fit_step(&mut student, step, &mut opt, &data)?;
/// assert_eq!(history.loss.len(), 2);
/// # Ok(()) }
/// ```
pub struct DistillationStep<'t, T: Forward + ?Sized> {
    teacher: &'t T,
    loss: DistillationLoss,
}

impl<'t, T: Forward + ?Sized> DistillationStep<'t, T> {
    /// A step distilling `teacher` (switched to evaluation mode) with `loss`.
    pub fn new(teacher: &'t mut T, loss: DistillationLoss) -> DistillationStep<'t, T> {
        teacher.eval();
        DistillationStep { teacher, loss }
    }

    fn inputs(batch: &Batch) -> Result<(&Tensor, &Tensor)> {
        if batch.len() != 2 {
            return Err(Error::invalid(
                OP,
                format!(
                    "distillation needs a dataset of (inputs, labels), got {} tensors per sample",
                    batch.len()
                ),
            ));
        }
        Ok((batch.get(0)?, batch.targets()))
    }
}

impl<T: Forward + ?Sized, M: Forward + ?Sized> TrainStep<M> for DistillationStep<'_, T> {
    fn train_step(&mut self, student: &M, batch: &Batch) -> Result<StepOutput> {
        let (x, labels) = Self::inputs(batch)?;
        let teacher_logits = crate::no_grad(|| self.teacher.forward(x))?.detach();
        let student_logits = student.forward(x)?;
        if teacher_logits.dims() != student_logits.dims() {
            return Err(Error::invalid(
                OP,
                format!(
                    "the teacher's output has shape {} but the student's has shape {}: they must match",
                    teacher_logits.shape(),
                    student_logits.shape()
                ),
            ));
        }
        let loss = self.loss.forward(&student_logits, &teacher_logits, labels)?;
        let soft = crate::no_grad(|| {
            DistillationLoss::new(self.loss.temperature).with_alpha(1.0).forward(
                &student_logits,
                &teacher_logits,
                labels,
            )
        })?;
        Ok(StepOutput::new(loss)
            .with_predictions(&student_logits, labels)
            .log("distill_soft", soft.detach()))
    }

    fn validation_step(&mut self, student: &M, batch: &Batch) -> Result<StepOutput> {
        let (x, labels) = Self::inputs(batch)?;
        let logits = student.forward(x)?;
        Ok(StepOutput::new(cross_entropy(&logits, labels)?).with_predictions(&logits, labels))
    }
}
