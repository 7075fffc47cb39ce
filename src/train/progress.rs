//! What `fit` prints: a progress bar per epoch, one line per epoch, or nothing.

use super::{Logs, StopInfo};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How much `fit` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verbosity {
    /// Nothing at all (Keras's `verbose=0`).
    Silent,
    /// One summary line per printed epoch (Keras's `verbose=2`).
    EpochLines,
    /// A progress bar per epoch with the running loss and samples/s (Keras's
    /// `verbose=1`), when the output is standard output and it is a terminal;
    /// otherwise, as [`Verbosity::EpochLines`].
    ProgressBar,
}

/// Where the reporter writes.
pub(crate) enum Sink<'w> {
    Stdout,
    Writer(&'w mut (dyn Write + Send)),
}

/// Draws progress for one `fit` call.
pub(crate) struct Reporter<'w> {
    sink: Sink<'w>,
    verbosity: Verbosity,
    use_bar: bool,
    bar: Option<ProgressBar>,
    epochs: usize,
    print_every: usize,
    epoch_start: Instant,
    samples: usize,
}

impl<'w> Reporter<'w> {
    pub(crate) fn new(sink: Sink<'w>, verbosity: Verbosity, epochs: usize, print_every: usize) -> Reporter<'w> {
        let use_bar =
            verbosity == Verbosity::ProgressBar && matches!(sink, Sink::Stdout) && std::io::stdout().is_terminal();
        Reporter {
            sink,
            verbosity,
            use_bar,
            bar: None,
            epochs,
            print_every: print_every.max(1),
            epoch_start: Instant::now(),
            samples: 0,
        }
    }

    fn printed(&self, epoch: usize) -> bool {
        (epoch + 1).is_multiple_of(self.print_every) || epoch + 1 == self.epochs
    }

    fn line(&mut self, text: &str) {
        // Progress output is best effort: a closed pipe must not abort training.
        let _ = match &mut self.sink {
            Sink::Stdout => writeln!(std::io::stdout().lock(), "{text}"),
            Sink::Writer(w) => writeln!(w, "{text}").and_then(|_| w.flush()),
        };
    }

    pub(crate) fn epoch_begin(&mut self, epoch: usize, batches: usize) {
        self.epoch_start = Instant::now();
        self.samples = 0;
        if !self.use_bar {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(batches as u64), ProgressDrawTarget::stdout());
        let style = ProgressStyle::with_template("Epoch {prefix} [{bar:30.cyan/blue}] {pos}/{len} {elapsed} {msg}")
            .map(|s| s.progress_chars("=> "))
            .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_prefix(format!("{}/{}", epoch + 1, self.epochs));
        bar.enable_steady_tick(Duration::from_millis(200));
        self.bar = Some(bar);
    }

    /// A batch of `size` samples finished (cheap: no value is read).
    pub(crate) fn batch_done(&mut self, size: usize) {
        self.samples += size;
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    /// The running values after a logging interval.
    pub(crate) fn running(&mut self, logs: &Logs) {
        if let Some(bar) = &self.bar {
            let rate = self.samples as f64 / self.epoch_start.elapsed().as_secs_f64().max(1e-9);
            bar.set_message(format!("{logs} - {rate:.0} samples/s"));
        }
    }

    pub(crate) fn epoch_end(&mut self, epoch: usize, logs: &Logs, stopping: bool) {
        let secs = self.epoch_start.elapsed().as_secs_f64();
        let rate = self.samples as f64 / secs.max(1e-9);
        let show = self.printed(epoch) || stopping;
        if let Some(bar) = self.bar.take() {
            if show {
                bar.finish_with_message(format!("{logs} - {rate:.0} samples/s"));
            } else {
                bar.finish_and_clear();
            }
            return;
        }
        if self.verbosity != Verbosity::Silent && show {
            let text = format!(
                "Epoch {}/{} - {secs:.2}s - {logs} - {rate:.0} samples/s",
                epoch + 1,
                self.epochs
            );
            self.line(&text);
        }
    }

    pub(crate) fn stopped(&mut self, info: &StopInfo) {
        if self.verbosity != Verbosity::Silent {
            self.line(&info.to_string());
        }
    }
}

impl Drop for Reporter<'_> {
    fn drop(&mut self) {
        // An error mid-epoch leaves a bar behind; clear it so the error is readable.
        if let Some(bar) = self.bar.take() {
            bar.abandon();
        }
    }
}
