//! Evaluation and prediction in batches, in evaluation mode, under no-grad.

use super::step::{LossStep, StepOutput, TrainStep};
use super::{Logs, Metric};
use crate::data::{DataLoader, Dataset};
use crate::loss::Loss;
use crate::nn::{Forward, Module};
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

/// The names of the values a step reports, in row order after the loss:
/// the metrics, then the step's own logged values. Fixed by the first batch.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct RowNames {
    pub metrics: Vec<String>,
    /// How many sums each metric contributes to a row.
    pub widths: Vec<usize>,
    pub logged: Vec<String>,
}

impl RowNames {
    pub fn of(metrics: &[Metric], out: &StepOutput, op: &'static str) -> Result<RowNames> {
        let widths = match &out.predictions {
            Some((outputs, _)) => metrics
                .iter()
                .map(|m| m.stats_width(outputs))
                .collect::<Result<Vec<_>>>()?,
            // batch_row reports the missing predictions.
            None => vec![1; metrics.len()],
        };
        let names = RowNames {
            widths,
            metrics: metrics.iter().map(|m| m.name().to_string()).collect(),
            logged: out.logs.iter().map(|(n, _)| n.clone()).collect(),
        };
        for n in &names.logged {
            if n == "loss" || n == "size" || n == "lr" || names.metrics.contains(n) {
                return Err(Error::invalid(
                    op,
                    format!("the step logs {n:?}, a name the trainer reports itself; choose another"),
                ));
            }
        }
        Ok(names)
    }

    /// Values per row: the loss, the metrics, the logged values.
    pub fn width(&self) -> usize {
        1 + self.widths.iter().sum::<usize>() + self.logged.len()
    }

    /// Each metric's value from its sums in `values` (a row without the loss,
    /// or sums of rows) over `n` samples, then the logged values divided by
    /// `n`, into `logs` under `prefix`.
    pub fn fill(&self, metrics: &[Metric], values: &[f64], n: f64, prefix: &str, logs: &mut Logs) {
        let mut off = 0;
        for ((m, name), w) in metrics.iter().zip(&self.metrics).zip(&self.widths) {
            if let Some(stats) = values.get(off..off + w) {
                logs.insert(format!("{prefix}{name}"), m.finish(stats, n));
            }
            off += w;
        }
        for (name, v) in self.logged.iter().zip(values.iter().skip(off)) {
            logs.insert(format!("{prefix}{name}"), v / n);
        }
    }
}

/// `[loss * weight, metric sums..., logged * weight...]` of one batch as a
/// 1-D tensor on the batch's device, without reading anything back. `size`
/// is the batch's sample count: metrics are sums over samples.
pub(crate) fn batch_row(
    out: &StepOutput,
    weight: f64,
    metrics: &[Metric],
    names: &RowNames,
    op: &'static str,
) -> Result<Tensor> {
    check_scalar_loss(&out.loss, op)?;
    let logged: Vec<&String> = out.logs.iter().map(|(n, _)| n).collect();
    if logged.len() != names.logged.len() || logged.iter().zip(&names.logged).any(|(a, b)| *a != b) {
        return Err(Error::invalid(
            op,
            format!(
                "every batch must log the same values; the first logged {:?}, this one {logged:?}",
                names.logged
            ),
        ));
    }
    crate::no_grad(|| {
        let dtype = row_dtype(&out.loss);
        let scalar = |t: &Tensor, what: &str| -> Result<Tensor> {
            if t.elem_count() != 1 {
                return Err(Error::invalid(
                    op,
                    format!("the logged value {what:?} must be one value, got shape {}", t.shape()),
                ));
            }
            let v = t.detach().to_dtype(dtype)?.reshape(1)?;
            if weight != 1.0 { v.mul_scalar(weight) } else { Ok(v) }
        };
        let mut parts = vec![scalar(&out.loss, "loss")?];
        if !metrics.is_empty() {
            let (outputs, targets) = out.predictions.as_ref().ok_or_else(|| {
                Error::invalid(
                    op,
                    format!(
                        "metrics {:?} need the model's outputs and targets: return them with \
                         StepOutput::with_predictions",
                        names.metrics
                    ),
                )
            })?;
            let outputs = outputs.detach();
            for ((m, w), name) in metrics.iter().zip(&names.widths).zip(&names.metrics) {
                let stats = m.batch_stats(&outputs, targets)?;
                if stats.elem_count() != *w {
                    return Err(Error::invalid(
                        op,
                        format!(
                            "metric {name:?} gives {} sums on this batch and gave {w} on the first                              (outputs of shape {} changed their width?)",
                            stats.elem_count(),
                            outputs.shape()
                        ),
                    ));
                }
                parts.push(stats.to_dtype(dtype)?.reshape(*w)?);
            }
        }
        for (n, t) in &out.logs {
            parts.push(scalar(t, n)?);
        }
        Tensor::cat(&parts, 0usize)
    })
}

/// Runs `f` with `model` in evaluation mode under no-grad, restoring its mode afterwards.
pub(crate) fn in_eval_mode<M: Module + ?Sized, R>(model: &mut M, f: impl FnOnce(&mut M) -> Result<R>) -> Result<R> {
    let was_training = model.is_training();
    model.set_training(false);
    let out = crate::no_grad(|| f(model));
    model.set_training(was_training);
    out
}

/// Loss, metrics and logged values of `step`'s validation over `data`,
/// named with `prefix` (`""` or `"val_"`). Per-batch values are summed on the
/// device and read back once.
pub(crate) fn evaluate_dataset<M: Module + ?Sized, S: TrainStep<M> + ?Sized>(
    model: &mut M,
    step: &mut S,
    metrics: &[Metric],
    data: &Dataset,
    batch_size: usize,
    prefix: &str,
) -> Result<Logs> {
    const OP: &str = "evaluate";
    if data.is_empty() {
        return Err(Error::invalid(OP, "the dataset has no samples"));
    }
    let device = model.device().unwrap_or_else(|| data.device());
    let (names, total) = in_eval_mode(model, |model| {
        let mut loader = DataLoader::new(data.clone(), batch_size)?.on_device(&device);
        let mut total: Option<Tensor> = None;
        let mut names: Option<RowNames> = None;
        for batch in loader.iter_batches() {
            let batch = batch?;
            let out = step.validation_step(model, &batch)?;
            if names.is_none() {
                names = Some(RowNames::of(metrics, &out, OP)?);
            }
            let n = names.as_ref().ok_or_else(|| Error::invalid(OP, "no batch"))?;
            let row = batch_row(&out, batch.size() as f64, metrics, n, OP)?;
            total = Some(match total {
                None => row,
                Some(t) => t.add(&row)?,
            });
        }
        // The loader yields at least one batch: the dataset is not empty.
        Ok((names.unwrap_or_default(), total.map(|t| t.to_vec::<f64>()).transpose()?))
    })?;
    let values = total.unwrap_or_default();
    let n = data.len() as f64;
    let mut logs = Logs::new();
    logs.insert(format!("{prefix}loss"), values.first().copied().unwrap_or(f64::NAN) / n);
    names.fill(metrics, values.get(1..).unwrap_or_default(), n, prefix, &mut logs);
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
pub fn predict<M: Forward + ?Sized>(model: &mut M, x: &Tensor, batch_size: usize) -> Result<Tensor> {
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
pub fn evaluate<M: Forward + ?Sized>(
    model: &mut M,
    loss: &dyn Loss,
    metrics: &[Metric],
    data: &Dataset,
    batch_size: usize,
) -> Result<Logs> {
    if batch_size == 0 {
        return Err(Error::invalid("evaluate", "the batch size must be at least 1"));
    }
    evaluate_dataset(model, &mut LossStep { loss }, metrics, data, batch_size, "")
}
