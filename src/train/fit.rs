//! The training loop behind [`Trainer::fit`].

use super::evaluate::{RowNames, batch_row, evaluate_dataset};
use super::progress::{Reporter, Sink};
use super::step::{LossStep, StepOutput, TrainStep};
use super::trainer::{LastRun, SchedulerStep, Validation};
use super::{Callback, CallbackContext, History, Logs, Metric, StopInfo, Trainer};
use crate::AutocastGuard;
use crate::checkpoint::{TrainingSnapshot, save_training};
use crate::data::{DataLoader, Dataset};
use crate::nn::{Forward, Module};
use crate::optim::Optimizer;
use crate::optim::lr_scheduler::LrScheduler;
use crate::{Error, GradStore, Result, Tensor};

const OP: &str = "Trainer::fit";

/// A batch whose values are still on the device.
struct Pending {
    batch: usize,
    size: usize,
    row: Tensor,
}

/// Sums over the batches of one epoch, on the host.
#[derive(Default)]
struct EpochSums {
    samples: usize,
    loss: f64,
    /// Sums of the metrics, then of the step's logged values (loss-weighted by batch size).
    values: Vec<f64>,
    /// Fixed by the first batch; shared with every batch of the epoch without copying.
    names: Option<std::sync::Arc<RowNames>>,
}

impl EpochSums {
    fn logs(&self, metrics: &[Metric]) -> Logs {
        let n = self.samples.max(1) as f64;
        let mut logs = Logs::new();
        logs.insert("loss", self.loss / n);
        if let Some(names) = &self.names {
            names.fill(metrics, &self.values, n, "", &mut logs);
        }
        logs
    }
}

impl<'a> Trainer<'a> {
    /// Trains `model` (any [`Forward`] module: a `Sequential`, a derived
    /// model, a built-in layer) with `optimizer` (built over
    /// `model.parameters()`) on `data`, minimising the trainer's loss of
    /// `model.forward(x)` against `y`, for epochs `start..epochs` (`start` is 0
    /// unless resuming), and returns the history of the run (including the
    /// resumed epochs). `data` holds `(x, y)`; a model with several inputs or
    /// outputs is trained with [`Trainer::fit_step`].
    ///
    /// Each epoch: callbacks' `on_epoch_begin`; training batches in training
    /// mode (forward, loss, backward, optimizer step every
    /// [`Trainer::accumulation_steps`] batches, per-batch scheduler step);
    /// validation in evaluation mode; the per-epoch scheduler step;
    /// callbacks' `on_epoch_end`; the history entry; the epoch's output; the
    /// per-epoch checkpoint. Training stops after the last epoch or when a
    /// callback asks (see [`History::stop`]).
    ///
    /// Errors on invalid settings (a zero batch size or accumulation count,
    /// both validation data and a validation split, a validation split
    /// outside `(0, 1)` or leaving an empty part, a trainer built with
    /// [`Trainer::custom`], which has no loss), on shape errors from the
    /// model or loss, on a loss that is not a single value, and on errors from
    /// callbacks; the model keeps the updates made until then.
    pub fn fit<M: Forward>(&mut self, model: &mut M, optimizer: &mut dyn Optimizer, data: &Dataset) -> Result<History> {
        let loss = self.loss.take().ok_or_else(|| {
            Error::invalid(
                OP,
                "this trainer has no loss (Trainer::custom): train with fit_step, or build it with Trainer::new(loss)",
            )
        })?;
        let result = self.fit_step(model, LossStep { loss: &*loss }, optimizer, data);
        self.loss = Some(loss);
        result
    }

    /// Trains any module with a user step ([`TrainStep`], Keras's
    /// `train_step`): for each batch of `data` (all its tensors, in order),
    /// `step.train_step(model, batch)` returns the loss (and values to log);
    /// `fit_step` runs backward, accumulates and steps the optimizer exactly as
    /// [`Trainer::fit`] does, and validates with `step.validation_step`. The
    /// trainer's loss, if any, is not used; its metrics are computed from the
    /// outputs a step returns with [`StepOutput::with_predictions`].
    /// Validation, callbacks, progress, per-epoch checkpoints and resumption
    /// work as for `fit`.
    pub fn fit_step<M: Module, S: TrainStep<M>>(
        &mut self,
        model: &mut M,
        mut step_fn: S,
        optimizer: &mut dyn Optimizer,
        data: &Dataset,
    ) -> Result<History> {
        if self.batch_size == 0 || self.eval_batch_size() == 0 {
            return Err(Error::invalid(
                OP,
                format!(
                    "the batch size must be at least 1, got batch_size {} and validation_batch_size {}",
                    self.batch_size,
                    self.eval_batch_size()
                ),
            ));
        }
        if self.accumulation == 0 {
            return Err(Error::invalid(OP, "accumulation_steps must be at least 1, got 0"));
        }
        let device = model.device().unwrap_or_else(|| data.device());
        let (train, validation) = split_validation(&self.validation(OP)?, data)?;
        let mut loader = DataLoader::new(train, self.batch_size)?
            .drop_last(self.drop_last)
            .on_device(&device);
        if self.shuffle {
            loader = loader.shuffle(self.seed);
        }
        if loader.is_empty() {
            return Err(Error::invalid(
                OP,
                format!(
                    "no training batch: {} samples with batch size {} and drop_last",
                    loader.dataset().len(),
                    self.batch_size
                ),
            ));
        }

        let resume = self.resume.take();
        let (mut history, start_epoch, mut step) = match &resume {
            Some(r) => (r.history.clone(), r.epoch, r.step),
            None => (History::new(), 0, 0),
        };
        if let Some(r) = &resume {
            if let Some(s) = &r.loader {
                loader.set_state(s)?;
            }
            optimizer.load_state(&r.optimizer)?;
            if let Some(s) = &r.scheduler {
                match &mut self.scheduler {
                    Some(sched) => sched.load_state(s)?,
                    None => self.scheduler = Some(s.clone().into_scheduler()?),
                }
            }
        }
        if let Some(s) = &self.scheduler
            && s.needs_metric()
        {
            if self.scheduler_step == SchedulerStep::Batch {
                return Err(Error::invalid(
                    OP,
                    format!("{} needs a metric and can only be stepped per epoch", s.name()),
                ));
            }
            if self.scheduler_monitor.starts_with("val_") && validation.is_none() {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "{} monitors {:?} but there is no validation data or split",
                        s.name(),
                        self.scheduler_monitor
                    ),
                ));
            }
        }

        let was_training = model.is_training();
        let steps_per_epoch = loader.len();
        let eval_batch = self.eval_batch_size();
        let accumulation = self.accumulation;
        let Trainer {
            epochs,
            metrics,
            scheduler,
            scheduler_step,
            scheduler_monitor,
            callbacks,
            verbosity,
            print_every,
            log_every,
            output,
            checkpoint_path,
            last,
            precision,
            scaler,
            ..
        } = self;
        let precision = *precision;
        if let Some(d) = precision
            && !matches!(d, crate::DType::BF16 | crate::DType::F16)
        {
            return Err(Error::invalid(
                OP,
                format!("mixed_precision needs BF16 or F16, got {d}"),
            ));
        }
        let (epochs, scheduler_step) = (*epochs, *scheduler_step);
        let sink = match output.as_deref_mut() {
            Some(w) => Sink::Writer(w),
            None => Sink::Stdout,
        };
        let mut reporter = Reporter::new(sink, *verbosity, epochs, *print_every);
        let mut stop: Option<StopInfo> = None;
        // Last, so that nothing built above draws from the restored generator.
        if let Some(r) = &resume {
            crate::set_rng_state(&r.rng);
        }

        macro_rules! run_callbacks {
            (|$cb:ident, $c:ident| $call:expr) => {{
                let mut ctx = CallbackContext {
                    model: &mut *model,
                    optimizer: &mut *optimizer,
                    history: &history,
                    epochs,
                    steps_per_epoch,
                    stop: &mut stop,
                };
                let $c = &mut ctx;
                for $cb in callbacks.iter_mut() {
                    $call?;
                }
            }};
        }

        run_callbacks!(|cb, c| cb.on_train_begin(c));
        let mut next_epoch = start_epoch;
        for epoch in start_epoch..epochs {
            run_callbacks!(|cb, c| cb.on_epoch_begin(epoch, c));
            let lr = optimizer.lr();
            model.set_training(true);
            reporter.epoch_begin(epoch, steps_per_epoch);
            let sums = train_epoch(EpochArgs {
                epoch,
                epochs,
                steps_per_epoch,
                step_fn: &mut step_fn,
                accumulation,
                metrics,
                log_every: *log_every,
                scheduler: match scheduler_step {
                    SchedulerStep::Batch => scheduler.as_deref_mut(),
                    SchedulerStep::Epoch => None,
                },
                model: &mut *model,
                optimizer: &mut *optimizer,
                loader: &mut loader,
                callbacks: &mut callbacks[..],
                history: &history,
                stop: &mut stop,
                reporter: &mut reporter,
                step: &mut step,
                precision,
                scaler: scaler.as_mut(),
            })?;
            let mut logs = sums.logs(metrics);
            if let Some(val) = &validation {
                let _autocast = precision.map(|d| AutocastGuard::new(Some(d))).transpose()?;
                let v = evaluate_dataset(model, &mut step_fn, metrics, val, eval_batch, "val_")?;
                for (k, x) in v.iter() {
                    logs.insert(k, x);
                }
            }
            logs.insert("lr", lr);
            if let Some(s) = scheduler
                && scheduler_step == SchedulerStep::Epoch
            {
                if s.needs_metric() {
                    let value = logs.require(scheduler_monitor, "Trainer scheduler")?;
                    s.step_with_metric(value, &mut *optimizer)?;
                } else {
                    s.step(&mut *optimizer)?;
                }
            }
            run_callbacks!(|cb, c| cb.on_epoch_end(epoch, &mut logs, c));
            history.record(epoch, &logs);
            reporter.epoch_end(epoch, &logs, stop.is_some());
            next_epoch = epoch + 1;
            if let Some(path) = checkpoint_path.as_ref() {
                let mut snap = TrainingSnapshot::new(model, &*optimizer, &history)
                    .epoch(next_epoch as u64)
                    .step(step)
                    .loader(&loader);
                if let Some(s) = scheduler.as_deref() {
                    snap = snap.scheduler(s);
                }
                save_training(path, &snap)?;
            }
            if stop.is_some() {
                break;
            }
        }
        run_callbacks!(|cb, c| cb.on_train_end(c));
        model.set_training(was_training);
        if let Some(info) = &stop {
            reporter.stopped(info);
        }
        history.stop = stop;
        *last = Some(LastRun {
            history: history.clone(),
            epoch: next_epoch,
            step,
            loader,
        });
        Ok(history)
    }
}

/// Everything one training epoch touches.
struct EpochArgs<'r, 'a, 'w, M, S> {
    epoch: usize,
    epochs: usize,
    steps_per_epoch: usize,
    step_fn: &'r mut S,
    accumulation: usize,
    metrics: &'r [Metric],
    log_every: usize,
    scheduler: Option<&'r mut (dyn LrScheduler + 'a)>,
    model: &'r mut M,
    optimizer: &'r mut dyn Optimizer,
    loader: &'r mut DataLoader,
    callbacks: &'r mut [Box<dyn Callback + 'a>],
    history: &'r History,
    stop: &'r mut Option<StopInfo>,
    reporter: &'r mut Reporter<'w>,
    step: &'r mut u64,
    precision: Option<crate::DType>,
    scaler: Option<&'r mut crate::optim::GradScaler>,
}

/// One pass over the training batches. Batch values stay on the device until
/// `log_every` batches are pending (or the epoch ends); they are then read
/// back in one transfer and handed to the batch callbacks in order.
///
/// With `accumulation` k > 1 the gradients of k batches are summed, each
/// weighted by its sample count, and divided by the samples of the group
/// before the optimizer steps: for mean-reduced losses that is exactly the
/// gradient of one batch of all the group's samples. The last group of an
/// epoch may be shorter; it steps too.
fn train_epoch<M: Module, S: TrainStep<M>>(a: EpochArgs<'_, '_, '_, M, S>) -> Result<EpochSums> {
    let EpochArgs {
        epoch,
        epochs,
        steps_per_epoch,
        step_fn,
        accumulation,
        metrics,
        log_every,
        mut scheduler,
        model,
        optimizer,
        loader,
        callbacks,
        history,
        stop,
        reporter,
        step,
        precision,
        mut scaler,
    } = a;
    let mut sums = EpochSums::default();
    let mut pending: Vec<Pending> = Vec::with_capacity(log_every);
    let mut accumulated = GradStore::new();
    let mut group_samples = 0usize;
    let mut batches = loader.iter_batches();
    let total = batches.len();
    for b in 0..total {
        let Some(batch) = batches.next() else { break };
        let batch = batch?;
        let size = batch.size();
        let out: StepOutput = {
            let _autocast = precision.map(|d| AutocastGuard::new(Some(d))).transpose()?;
            step_fn.train_step(model, &batch)?
        };
        if sums.names.is_none() {
            sums.names = Some(std::sync::Arc::new(RowNames::of(metrics, &out, OP)?));
            sums.values = vec![0.0; sums.names.as_ref().map_or(0, |n| n.width() - 1)];
        }
        let names = sums.names.clone().unwrap_or_default();
        let row = batch_row(&out, 1.0, metrics, &names, OP)?;
        if accumulation == 1 {
            match scaler.as_deref_mut() {
                Some(sc) => {
                    let grads = sc.scale(&out.loss)?.backward()?;
                    sc.step(&mut *optimizer, grads)?;
                    sc.update();
                }
                None => {
                    let grads = out.loss.backward()?;
                    optimizer.step(&grads)?;
                }
            }
            *step += 1;
            if let Some(s) = scheduler.as_deref_mut() {
                s.step(&mut *optimizer)?;
            }
        } else {
            let loss = match scaler.as_deref() {
                Some(sc) => sc.scale(&out.loss)?,
                None => out.loss.clone(),
            };
            loss.mul_scalar(size as f64)?.backward_into(&mut accumulated)?;
            group_samples += size;
            if (b + 1) % accumulation == 0 || b + 1 == total {
                accumulated.scale(1.0 / group_samples as f64)?;
                match scaler.as_deref_mut() {
                    Some(sc) => {
                        sc.step(&mut *optimizer, std::mem::take(&mut accumulated))?;
                        sc.update();
                    }
                    None => optimizer.step(&accumulated)?,
                }
                accumulated.clear();
                group_samples = 0;
                *step += 1;
                if let Some(s) = scheduler.as_deref_mut() {
                    s.step(&mut *optimizer)?;
                }
            }
        }
        pending.push(Pending { batch: b, size, row });
        reporter.batch_done(size);
        if pending.len() < log_every && b + 1 < total {
            continue;
        }
        let rows: Vec<Tensor> = pending.iter().map(|p| p.row.clone()).collect();
        let values = Tensor::stack(&rows, 0)?.to_vec::<f64>()?;
        let width = names.width();
        let metric_sums: usize = names.widths.iter().sum();
        for (p, v) in pending.drain(..).zip(values.chunks(width)) {
            sums.samples += p.size;
            sums.loss += v[0] * p.size as f64;
            let mut logs = Logs::new();
            logs.insert("loss", v[0]);
            // Metrics are sums over the batch's samples; logged values are batch means.
            let size = p.size as f64;
            let weighted: Vec<f64> = v[1..]
                .iter()
                .enumerate()
                .map(|(i, x)| if i < metric_sums { *x } else { x * size })
                .collect();
            for (total, x) in sums.values.iter_mut().zip(&weighted) {
                *total += x;
            }
            names.fill(metrics, &weighted, size, "", &mut logs);
            logs.insert("size", p.size as f64);
            let mut ctx = CallbackContext {
                model: &mut *model,
                optimizer: &mut *optimizer,
                history,
                epochs,
                steps_per_epoch,
                stop: &mut *stop,
            };
            for cb in callbacks.iter_mut() {
                cb.on_batch_end(epoch, p.batch, &logs, &mut ctx)?;
            }
        }
        reporter.running(&sums.logs(metrics));
        if stop.is_some() {
            break;
        }
    }
    Ok(sums)
}

/// The training part and the validation part of `data`.
fn split_validation(validation: &Validation, data: &Dataset) -> Result<(Dataset, Option<Dataset>)> {
    match validation {
        Validation::None => Ok((data.clone(), None)),
        Validation::Data(v) => Ok((data.clone(), Some(v.clone()))),
        Validation::Split(f) => {
            let f = *f;
            if !(f > 0.0 && f < 1.0) {
                return Err(Error::invalid(
                    OP,
                    format!("validation_split must be in (0, 1), got {f}"),
                ));
            }
            let n = data.len();
            // Keras: split_at = floor(n * (1 - fraction)); the tail validates.
            let split_at = (n as f64 * (1.0 - f)).floor() as usize;
            if split_at == 0 || split_at >= n {
                return Err(Error::invalid(
                    OP,
                    format!(
                        "validation_split {f} of {n} samples leaves {split_at} for training and {} for validation; \
                         both need at least one",
                        n - split_at.min(n)
                    ),
                ));
            }
            let head: Vec<usize> = (0..split_at).collect();
            let tail: Vec<usize> = (split_at..n).collect();
            Ok((data.subset(&head)?, Some(data.subset(&tail)?)))
        }
    }
}
