//! Evaluation and prediction in batches, in evaluation mode, under no-grad.

use super::{Logs, Metric};
use crate::data::{DataLoader, Dataset};
use crate::loss::Loss;
use crate::nn::{Forward, Module, Sequential};
use crate::{DType, Error, Result, Tensor};

/// The dtype batch values are gathered in: `F64` for `F64` losses, else `F32`.
pub(crate) fn row_dtype(loss: &Tensor) -> DType {
    if loss.dtype() == DType::F64 {
        DType::F64
    } else {
        DType::F32
    }
}

/// Checks that a loss reduced to one value.
pub(crate) fn check_scalar_loss(loss: &Tensor, op: &'static str) -> Result<()> {
    if loss.elem_count() != 1 {
        return Err(Error::invalid(
            op,
            format!(
                "the loss must reduce to one value, got shape {} (use a mean or sum reduction)",
                loss.shape()
            ),
        ));
    }
    Ok(())
}

/// `[loss * loss_weight, metric sums...]` of one batch as a 1-D tensor on the
/// batch's device, without reading anything back.
pub(crate) fn batch_row(
    loss: &Tensor,
    loss_weight: f64,
    outputs: &Tensor,
    targets: &Tensor,
    metrics: &[Metric],
) -> Result<Tensor> {
    crate::no_grad(|| {
        let dtype = row_dtype(loss);
        let mut loss = loss.detach().to_dtype(dtype)?.reshape(1)?;
        if loss_weight != 1.0 {
            loss = loss.mul_scalar(loss_weight)?;
        }
        let outputs = outputs.detach();
        let mut parts = vec![loss];
        for m in metrics {
            parts.push(m.batch_sum(&outputs, targets)?.to_dtype(dtype)?.reshape(1)?);
        }
        Tensor::cat(&parts, 0usize)
    })
}

/// Runs `f` with `model` in evaluation mode, restoring its mode afterwards.
fn in_eval_mode<R>(model: &mut Sequential, f: impl FnOnce(&mut Sequential) -> Result<R>) -> Result<R> {
    let was_training = model.is_training();
    model.set_training(false);
    let out = crate::no_grad(|| f(model));
    model.set_training(was_training);
    out
}

/// Loss and metrics over `data`, named with `prefix` (`""` or `"val_"`). The
/// per-batch values are summed on the device and read back once.
pub(crate) fn evaluate_dataset(
    model: &mut Sequential,
    loss: &dyn Loss,
    metrics: &[Metric],
    data: &Dataset,
    batch_size: usize,
    prefix: &str,
) -> Result<Logs> {
    if data.is_empty() {
        return Err(Error::invalid("evaluate", "the dataset has no samples"));
    }
    let device = model.device().unwrap_or_else(|| data.device());
    let total = in_eval_mode(model, |model| {
        let mut loader = DataLoader::new(data.clone(), batch_size)?.on_device(&device);
        let mut total: Option<Tensor> = None;
        for batch in loader.iter() {
            let (x, y) = batch?;
            let out = model.forward(&x)?;
            let l = loss.forward(&out, &y)?;
            check_scalar_loss(&l, "evaluate")?;
            let row = batch_row(&l, x.dims()[0] as f64, &out, &y, metrics)?;
            total = Some(match total {
                None => row,
                Some(t) => t.add(&row)?,
            });
        }
        // The loader yields at least one batch: the dataset is not empty.
        total.map(|t| t.to_vec::<f64>()).transpose()
    })?;
    let values = total.unwrap_or_default();
    let n = data.len() as f64;
    let mut logs = Logs::new();
    logs.insert(format!("{prefix}loss"), values.first().copied().unwrap_or(f64::NAN) / n);
    for (m, v) in metrics.iter().zip(values.iter().skip(1)) {
        logs.insert(format!("{prefix}{}", m.name()), v / n);
    }
    Ok(logs)
}

/// `model`'s outputs for every sample of `x` (its first dimension), computed
/// in batches of `batch_size` in evaluation mode under no-grad and joined on
/// the model's device. The model's mode is restored afterwards.
///
/// ```
/// use neurite::nn::{Linear, Sequential};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let mut model = Sequential::new().add(Linear::new(3, 2));
/// let x = Tensor::randn((10, 3), DType::F32, &Device::cpu())?;
/// let y = neurite::train::predict(&mut model, &x, 4)?;
/// assert_eq!(y.dims(), &[10, 2]);
/// # Ok(()) }
/// ```
pub fn predict(model: &mut Sequential, x: &Tensor, batch_size: usize) -> Result<Tensor> {
    if batch_size == 0 {
        return Err(Error::invalid("predict", "the batch size must be at least 1"));
    }
    let n = match x.dims().first() {
        Some(&n) if n > 0 => n,
        _ => {
            return Err(Error::invalid(
                "predict",
                format!("x needs a non-empty first (sample) dimension, got shape {}", x.shape()),
            ));
        }
    };
    let device = model.device().unwrap_or_else(|| x.device());
    in_eval_mode(model, |model| {
        let mut outs = Vec::with_capacity(n.div_ceil(batch_size));
        let mut start = 0;
        while start < n {
            let len = batch_size.min(n - start);
            let xb = x.narrow(0usize, start, len)?.to_device(&device)?;
            outs.push(model.forward(&xb)?);
            start += len;
        }
        if outs.len() == 1 {
            return Ok(outs.swap_remove(0));
        }
        Tensor::cat(&outs, 0usize)
    })
}

/// The loss and metrics of `model` on `data` (see [`super::Trainer::evaluate`]),
/// without a trainer.
pub fn evaluate(
    model: &mut Sequential,
    loss: &dyn Loss,
    metrics: &[Metric],
    data: &Dataset,
    batch_size: usize,
) -> Result<Logs> {
    if batch_size == 0 {
        return Err(Error::invalid("evaluate", "the batch size must be at least 1"));
    }
    evaluate_dataset(model, loss, metrics, data, batch_size, "")
}
