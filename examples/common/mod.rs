//! Plumbing shared by the MNIST examples: command-line options, the device
//! choice, default paths, an epoch timer, the common training recipe (Adam on
//! cross-entropy, accuracy, per-epoch validation) and the closing
//! save-and-report. Each model stays in its example, where a reader looks for it.

// Each example uses a different subset of these helpers.
#![allow(dead_code)]

use neurite::Device;
use neurite::data::{Dataset, ImageLayout};
use neurite::nn::{LayerConfig, SequentialConfig};
use neurite::train::Trainer;
use neurite::train::{Callback, CallbackContext, Logs};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `mnist_lstm`'s default epochs.
const MNIST_LSTM_EPOCHS: usize = 12;
/// `mnist_lstm`'s default Adam learning rate.
const MNIST_LSTM_LR: f64 = 3e-3;
/// `mnist_vit`'s default epochs: the Transformer needs more steps than the
/// convolutional recipes to reach its accuracy on 6,000 digits (25 epochs
/// with dropout 0.2 measured better over seeds than 15 with 0.1).
const MNIST_VIT_EPOCHS: usize = 25;
/// `mnist_vit`'s default Adam learning rate.
const MNIST_VIT_LR: f64 = 2e-3;

/// Which program is parsing its options (they accept different ones).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// A training example; the name is also the stem of its checkpoint file.
    Train(&'static str),
    /// `mnist_eval`.
    Eval,
}

impl Program {
    /// The recipe's default epochs and Adam learning rate: 10 and 0.001, except
    /// for the LSTM and the vision Transformer, which need larger steps (and
    /// the Transformer more epochs) to converge.
    pub fn default_epochs_and_lr(self) -> (usize, f64) {
        match self {
            Program::Train("mnist_lstm") => (MNIST_LSTM_EPOCHS, MNIST_LSTM_LR),
            Program::Train("mnist_vit") => (MNIST_VIT_EPOCHS, MNIST_VIT_LR),
            _ => (10, 1e-3),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Program::Train(name) => name,
            Program::Eval => "mnist_eval",
        }
    }
}

/// The examples' command-line options, defaults filled in.
#[derive(Clone, Debug)]
pub struct Options {
    /// Epochs to train.
    pub epochs: usize,
    /// Samples per batch.
    pub batch_size: usize,
    /// Adam's learning rate.
    pub lr: f64,
    /// `cpu`, `cuda`, `cuda:N` or `best`.
    pub device: String,
    /// The MNIST-layout directory.
    pub data: PathBuf,
    /// Where the checkpoint and the plot go.
    pub out: PathBuf,
    /// Seed of initialisation, dropout and shuffling.
    pub seed: u64,
    /// The fraction of the training files held out for validation (their
    /// tail, as Keras's `validation_split`); 0 trains on all of them.
    pub val_fraction: f64,
    /// Print only the final lines.
    pub quiet: bool,
    /// Use only the first N training and the first N test digits (a smoke run:
    /// the emulated CUDA suite trains each example a few steps this way).
    pub limit: Option<usize>,
    /// `--mixed-precision bf16|f16`: train under autocast in that dtype.
    pub mixed_precision: Option<neurite::DType>,
    /// The checkpoint `mnist_eval` evaluates.
    pub checkpoint: Option<PathBuf>,
}

/// The help text of `program`.
pub fn usage(program: Program) -> String {
    let name = program.name();
    let (epochs, lr) = program.default_epochs_and_lr();
    let common = "  --device D        cpu, cuda, cuda:N or best (default best: the GPU when one answers)\n  \
         --data DIR        directory with the train-* and t10k-* MNIST IDX files, raw or .gz\n                    \
         (default data/mnist in the repository: the bundled 8,000 digits)\n";
    match program {
        Program::Train(_) => format!(
            "usage: cargo run --release --example {name} -- [options]\n\n\
             Trains on the train-* files and reports accuracy on the t10k-* files.\n\
             By default every train-* digit trains and the t10k-* digits are also\n\
             evaluated after each epoch (shown as val_*; they decide nothing);\n\
             --val-fraction holds out the tail of train-* for validation instead.\n\n\
             options:\n  \
             --epochs N        epochs to train (default {epochs})\n  \
             --batch-size N    samples per batch (default 64)\n  \
             --lr X            Adam learning rate (default {lr})\n\
             {common}  \
             --out DIR         where {name}.ckpt and training.png go (default target/{name})\n  \
             --seed N          seed of initialisation, dropout and shuffling (default 0)\n  \
             --val-fraction F  hold out the last fraction F of the train-* digits for validation\n                    \
             (Keras's validation_split; default 0: validate on the t10k-* digits)\n  \
             --quiet           print only the final lines\n  \
             --limit N         use only the first N train-* and N t10k-* digits (a smoke run)\n  \
             --mixed-precision bf16|f16  products and convolutions in that dtype (autocast)\n  \
             -h, --help        this text\n"
        ),
        Program::Eval => format!(
            "usage: cargo run --release --example {name} -- --checkpoint PATH [options]\n\n\
             Loads any model saved with Sequential::save (or a training checkpoint) and\n\
             reports its accuracy on the t10k-* files.\n\n\
             options:\n  \
             --checkpoint PATH the model to evaluate (required)\n\
             {common}  \
             --batch-size N    samples per evaluation batch (default 500)\n  \
             -h, --help        this text\n"
        ),
    }
}

/// Parses `args` (without the program name). `Ok(None)` means help was asked for.
pub fn parse(program: Program, args: &[String]) -> Result<Option<Options>, String> {
    let train = matches!(program, Program::Train(_));
    let mut o = Options {
        epochs: program.default_epochs_and_lr().0,
        batch_size: if train { 64 } else { 500 },
        lr: program.default_epochs_and_lr().1,
        device: "best".into(),
        data: repo_path("data/mnist"),
        out: repo_path(&format!("target/{}", program.name())),
        seed: 0,
        val_fraction: 0.0,
        quiet: false,
        limit: None,
        mixed_precision: None,
        checkpoint: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        }
        let (key, inline) = match arg.split_once('=') {
            Some((k, v)) if k.starts_with("--") => (k, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let known: &[&str] = if train {
            &[
                "--epochs",
                "--batch-size",
                "--lr",
                "--device",
                "--data",
                "--out",
                "--seed",
                "--val-fraction",
                "--quiet",
                "--limit",
                "--mixed-precision",
            ]
        } else {
            &["--checkpoint", "--batch-size", "--device", "--data"]
        };
        if !known.contains(&key) {
            return Err(format!("unknown option {arg:?}"));
        }
        if key == "--quiet" {
            if inline.is_some() {
                return Err("--quiet takes no value".into());
            }
            o.quiet = true;
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => it.next().cloned().ok_or_else(|| format!("{key} needs a value"))?,
        };
        match key {
            "--epochs" => o.epochs = positive(key, &value)?,
            "--batch-size" => o.batch_size = positive(key, &value)?,
            "--limit" => o.limit = Some(positive(key, &value)?),
            "--lr" => {
                o.lr = value
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite() && *x > 0.0)
                    .ok_or_else(|| format!("--lr needs a positive number, got {value:?}"))?
            }
            "--device" => {
                let ok = matches!(value.as_str(), "cpu" | "cuda" | "gpu" | "best")
                    || value.strip_prefix("cuda:").is_some_and(|n| n.parse::<usize>().is_ok());
                if !ok {
                    return Err(format!("--device needs cpu, cuda, cuda:N or best, got {value:?}"));
                }
                o.device = value;
            }
            "--val-fraction" => {
                o.val_fraction = value
                    .parse::<f64>()
                    .ok()
                    .filter(|x| (0.0..1.0).contains(x))
                    .ok_or_else(|| format!("--val-fraction needs a number in [0, 1), got {value:?}"))?
            }
            "--mixed-precision" => {
                o.mixed_precision = Some(match value.as_str() {
                    "bf16" => neurite::DType::BF16,
                    "f16" => neurite::DType::F16,
                    _ => return Err(format!("--mixed-precision needs bf16 or f16, got {value:?}")),
                })
            }
            "--data" => o.data = PathBuf::from(value),
            "--out" => o.out = PathBuf::from(value),
            "--checkpoint" => o.checkpoint = Some(PathBuf::from(value)),
            "--seed" => {
                o.seed = value
                    .parse::<u64>()
                    .map_err(|_| format!("--seed needs a non-negative integer, got {value:?}"))?
            }
            _ => unreachable!("every known option is matched above"),
        }
    }
    if program == Program::Eval && o.checkpoint.is_none() {
        return Err("--checkpoint PATH is required".into());
    }
    Ok(Some(o))
}

/// The options of this process, or an exit: help on standard output (status
/// 0), or the problem and the usage on standard error (status 2).
pub fn options_or_exit(program: Program) -> Options {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match parse(program, &args) {
        Ok(Some(o)) => o,
        Ok(None) => {
            print!("{}", usage(program));
            std::process::exit(0);
        }
        Err(msg) => {
            eprintln!("error: {msg}\n\n{}", usage(program));
            std::process::exit(2);
        }
    }
}

fn positive(key: &str, value: &str) -> Result<usize, String> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("{key} needs a positive integer, got {value:?}"))
}

/// `rel` inside the repository: under `CARGO_MANIFEST_DIR` when run through
/// cargo (whatever the working directory), else relative to the working
/// directory when it exists there, else under the directory the example was
/// built from.
pub fn repo_path(rel: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        return Path::new(&dir).join(rel);
    }
    if Path::new(rel).exists() {
        return PathBuf::from(rel);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The device `spec` names, after printing it (and, on the CPU, why not a GPU).
pub fn choose_device(spec: &str) -> neurite::Result<Device> {
    let device = if spec == "best" {
        let (device, not_gpu) = Device::best_with_reason();
        println!("device: {device}");
        if let Some(reason) = not_gpu {
            println!("not on a GPU because: {reason}");
        }
        device
    } else {
        let device = Device::parse(spec)?;
        println!("device: {device}");
        if device.is_cpu() {
            println!("not on a GPU because: --device {spec} asked for the CPU");
        }
        device
    };
    Ok(device)
}

/// Runs `body`; on error prints it to standard error and exits with status 1.
pub fn exit_code(result: neurite::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Times each epoch of `fit` from its start to the end of its validation.
#[derive(Default)]
pub struct EpochTimer {
    start: Option<Instant>,
    /// One entry per finished epoch.
    pub epochs: Vec<Duration>,
}

impl EpochTimer {
    /// The mean epoch time in seconds (NaN before the first epoch).
    pub fn mean_secs(&self) -> f64 {
        let total: f64 = self.epochs.iter().map(Duration::as_secs_f64).sum();
        total / self.epochs.len() as f64
    }

    /// The median epoch time in seconds (NaN before the first epoch): on a
    /// shared machine, less swayed by one epoch that competed with other work.
    pub fn median_secs(&self) -> f64 {
        let mut s: Vec<f64> = self.epochs.iter().map(Duration::as_secs_f64).collect();
        s.sort_by(f64::total_cmp);
        match s.len() {
            0 => f64::NAN,
            n if n % 2 == 1 => s[n / 2],
            n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
        }
    }

    /// `0.748 (median 0.700)`: what the examples print after `seconds per epoch:`.
    pub fn summary(&self) -> String {
        format!("{:.3} (median {:.3})", self.mean_secs(), self.median_secs())
    }
}

impl Callback for EpochTimer {
    fn on_epoch_begin(&mut self, _epoch: usize, _ctx: &mut CallbackContext<'_>) -> neurite::Result<()> {
        self.start = Some(Instant::now());
        Ok(())
    }

    fn on_epoch_end(&mut self, _epoch: usize, _logs: &mut Logs, _ctx: &mut CallbackContext<'_>) -> neurite::Result<()> {
        if let Some(t) = self.start.take() {
            self.epochs.push(t.elapsed());
        }
        Ok(())
    }
}

/// Saves the trained model and its curves under `--out`, then prints the
/// report both training examples end with (the last line is `test accuracy:`).
pub fn save_and_report(
    name: &str,
    opts: &Options,
    model: &mut impl neurite::nn::Module,
    history: &neurite::train::History,
    test_logs: &Logs,
    timer: &EpochTimer,
    started: Instant,
) -> neurite::Result<()> {
    std::fs::create_dir_all(&opts.out)
        .map_err(|e| neurite::Error::io(format!("{name}: creating {}", opts.out.display()), e))?;
    let ckpt = opts.out.join(format!("{name}.ckpt"));
    let plot = opts.out.join("training.png");
    // Saved in eval mode so that a reloaded model predicts without further setup.
    model.eval();
    model.save(&ckpt)?;
    history.plot(&plot)?;
    println!(
        "saved the model to {} and the curves to {}",
        ckpt.display(),
        plot.display()
    );
    println!("test loss: {:.4}", test_logs.get("loss").unwrap_or(f64::NAN));
    println!("wall time: {:.1} s", started.elapsed().as_secs_f64());
    println!("seconds per epoch: {}", timer.summary());
    println!("test accuracy: {:.4}", test_logs.get("accuracy").unwrap_or(f64::NAN));
    Ok(())
}

/// The first `--limit` samples of `data` (all of them without the option).
pub fn limited(opts: &Options, data: Dataset) -> neurite::Result<Dataset> {
    match opts.limit {
        Some(n) if n < data.len() => data.subset(&(0..n).collect::<Vec<_>>()),
        _ => Ok(data),
    }
}

/// How many of `train_len` training digits train (the rest, the tail, validate
/// when `--val-fraction` is set), as Keras's `validation_split` splits.
pub fn training_count(opts: &Options, train_len: usize) -> usize {
    (train_len as f64 * (1.0 - opts.val_fraction)).floor() as usize
}

/// How the learning rate moves during the examples' recipe.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LrSchedule {
    /// Adam's `--lr` throughout.
    Constant,
    /// Cosine annealing from `--lr` to 0 over the run, stepped per epoch
    /// (PyTorch's `CosineAnnealingLR(opt, T_max=epochs)`).
    Cosine,
}

/// The examples' recipe on `model` (already on its device; any one-tensor
/// model): prints its `summary` unless quiet, trains it with Adam (`--lr`) on
/// cross-entropy with accuracy for `--epochs` epochs of `--batch-size`,
/// validating after each epoch (see [`with_validation`]), evaluates it on
/// `test`, then saves and reports as [`save_and_report`].
pub fn train_and_report<M: neurite::nn::Forward>(
    name: &str,
    opts: &Options,
    mut model: M,
    (summary, schedule): (&str, LrSchedule),
    train: &Dataset,
    test: &Dataset,
    started: Instant,
) -> neurite::Result<()> {
    use neurite::optim::lr_scheduler::CosineAnnealingLr;
    use neurite::optim::{Adam, AdamConfig};
    use neurite::train::Metric;
    if !opts.quiet {
        println!("{summary}");
    }
    let mut adam = Adam::new(model.parameters(), AdamConfig::new(opts.lr))?;
    let mut timer = EpochTimer::default();
    let mut trainer = Trainer::new(neurite::loss::cross_entropy)
        .epochs(opts.epochs)
        .batch_size(opts.batch_size)
        .seed(opts.seed)
        .metric(Metric::Accuracy)
        .callback(&mut timer);
    if schedule == LrSchedule::Cosine {
        trainer = trainer.scheduler(CosineAnnealingLr::new(&mut adam, opts.epochs, 0.0)?);
    }
    trainer = with_validation(trainer, opts, train, test);
    if let Some(d) = opts.mixed_precision {
        trainer = trainer.mixed_precision(d);
    }
    if opts.quiet {
        trainer = trainer.quiet();
    }
    let history = trainer.fit(&mut model, &mut adam, train)?;
    let test_logs = trainer.evaluate(&mut model, test)?;
    drop(trainer); // releases the timer
    save_and_report(name, opts, &mut model, &history, &test_logs, &timer, started)
}

/// The whole run of an example whose model is a derived module with a
/// configuration: seeds, loads the bundled digits in `layout`, builds the model
/// with `build` and moves it to the chosen device, trains and reports it as
/// [`train_and_report`] with a cosine schedule, then rebuilds it from its
/// checkpoint with `reload` (which needs no code beyond the model's type).
pub fn run_configured<M: neurite::nn::Forward, R>(
    name: &str,
    opts: &Options,
    layout: ImageLayout,
    build: impl FnOnce() -> neurite::Result<M>,
    reload: impl FnOnce(PathBuf, &Device) -> neurite::Result<R>,
) -> neurite::Result<()> {
    let started = Instant::now();
    let device = choose_device(&opts.device)?;
    neurite::manual_seed(opts.seed);
    let mnist = neurite::data::Mnist::load_with(&opts.data, layout)?;
    let (train, test) = (
        limited(opts, mnist.train_dataset()?)?,
        limited(opts, mnist.test_dataset()?)?,
    );
    let mut model = build()?;
    model.to_device(&device)?;
    let summary = model.summary_tree();
    train_and_report(
        name,
        opts,
        model,
        (&summary, LrSchedule::Cosine),
        &train,
        &test,
        started,
    )?;
    reload(opts.out.join(format!("{name}.ckpt")), &device).map(|_| ())
}

/// Gives `trainer` its per-epoch validation data and says where it comes from:
/// the tail of the training files with `--val-fraction F`, otherwise the test
/// files. Those are only reported after each epoch (no early stopping, no
/// model selection), as PyTorch's MNIST example tests after every epoch.
pub fn with_validation<'a>(trainer: Trainer<'a>, opts: &Options, train: &Dataset, test: &Dataset) -> Trainer<'a> {
    let n_train = training_count(opts, train.len());
    if opts.val_fraction > 0.0 {
        println!(
            "data: {n_train} training, {} validation (the last {:.0}% of train-*), {} test digits, from {}",
            train.len() - n_train,
            opts.val_fraction * 100.0,
            test.len(),
            opts.data.display()
        );
        trainer.validation_split(opts.val_fraction)
    } else {
        println!(
            "data: {n_train} training digits (all of train-*) and {} test digits (t10k-*), from {}; \
             val_* is the test set after each epoch, reported only",
            test.len(),
            opts.data.display()
        );
        trainer.validation_data(test.clone())
    }
}

/// The input layout the model expects, from its first layer that cares: flat
/// rows for a `Linear`, images for anything else (convolutions, `Flatten`, ...).
/// Layers that accept either shape (a whole-input `Normalization`,
/// activations, dropout) are looked past; a per-feature `Normalization` with
/// 784 statistics means pixel rows.
pub fn layout_for(config: &SequentialConfig) -> Option<ImageLayout> {
    for layer in &config.layers {
        match layer {
            LayerConfig::Linear { .. } | LayerConfig::QuantizedLinear { .. } => return Some(ImageLayout::Flat),
            LayerConfig::Normalization {
                axis: Some(_),
                num_features: 784,
            } => return Some(ImageLayout::Flat),
            LayerConfig::Sequential(inner) => match layout_for(inner) {
                Some(layout) => return Some(layout),
                None => continue,
            },
            LayerConfig::Normalization { axis: None, .. }
            | LayerConfig::ReLU
            | LayerConfig::LeakyReLU { .. }
            | LayerConfig::Sigmoid
            | LayerConfig::Tanh
            | LayerConfig::GELU
            | LayerConfig::GELUApproximate { .. }
            | LayerConfig::SiLU
            | LayerConfig::Dropout { .. } => continue,
            _ => return Some(ImageLayout::Nchw),
        }
    }
    None
}
