//! A hyper-parameter search over the MNIST MLP, then an ensemble of its best
//! five trials.
//!
//! TPE (8 random start-up trials) with median pruning searches the learning
//! rate (log-uniform 1e-4..1e-2), the hidden width (log-scale integer
//! 32..512; the second hidden layer is half as wide), dropout (0..0.5) and
//! AdamW's weight decay (log-uniform 1e-6..1e-1). Each trial trains
//! 784-W-ReLU-Dropout-W/2-ReLU-10 for `--epochs` epochs on the first 5,000
//! training digits and is scored by its validation accuracy on the other
//! 1,000 (reported every epoch, so the pruner can stop it), within a time
//! budget (defaults: 40 trials of 8 epochs, 900 s). Each trial's model is saved, so the 5 best by validation accuracy
//! are reloaded and combined by `Ensemble` (mean of probabilities); the test
//! digits (`t10k-*`, never seen by the search) give the single-best and the
//! ensemble accuracy.
//!
//! The study file `<out>/study.json` is written after every trial: killed
//! and started again with the same options, the search goes on where it
//! stopped. Also writes `<out>/trials.csv` and `<out>/study.png`.
//!
//! ```text
//! cargo run --release --example mnist_search
//! cargo run --release --example mnist_search -- --trials 40 --budget-secs 900 --parallel 2
//! ```

use neurite::data::{Dataset, ImageLayout, Mnist};
use neurite::nn::{Combine, Dropout, Ensemble, Forward, Linear, Module, Normalization, ReLU, Sequential};
use neurite::optim::{AdamW, AdamWConfig};
use neurite::search::{Direction, Pruner, Sampler, SearchSpace, Study, TpeConfig, Trial, TrialRecord};
use neurite::train::{Metric, Trainer, predict};
use neurite::{Device, Error, Result, Tensor};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const TRAIN_DIGITS: usize = 5000;
const ENSEMBLE_SIZE: usize = 5;

struct Options {
    trials: usize,
    epochs: usize,
    budget: Duration,
    parallel: usize,
    seed: u64,
    data: PathBuf,
    out: PathBuf,
    device: String,
}

fn main() -> ExitCode {
    match parse().and_then(|o| run(&o)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mnist_search: {e}");
            ExitCode::FAILURE
        }
    }
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn parse() -> Result<Options> {
    let mut o = Options {
        trials: 40,
        epochs: 8,
        budget: Duration::from_secs(900),
        parallel: 1,
        seed: 0,
        data: repo("data/mnist"),
        out: repo("runs/mnist_search"),
        device: "best".into(),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bad = |msg: String| Error::invalid("mnist_search", msg);
    for pair in args.chunks(2) {
        let (flag, value) = match pair {
            [f, v] => (f.as_str(), v.as_str()),
            other => return Err(bad(format!("{} needs a value", other.join(" ")))),
        };
        let number = |v: &str| {
            v.parse::<u64>()
                .map_err(|_| bad(format!("{flag} needs a whole number, got {v:?}")))
        };
        match flag {
            "--trials" => o.trials = number(value)? as usize,
            "--epochs" => o.epochs = number(value)? as usize,
            "--budget-secs" => o.budget = Duration::from_secs(number(value)?),
            "--parallel" => o.parallel = (number(value)? as usize).max(1),
            "--seed" => o.seed = number(value)?,
            "--data" => o.data = value.into(),
            "--out" => o.out = value.into(),
            "--device" => o.device = value.into(),
            other => {
                return Err(bad(format!(
                    "unknown option {other}; options: --trials N --epochs N --budget-secs S --parallel N \
                     --seed N --data DIR --out DIR --device cpu|cuda|best"
                )));
            }
        }
    }
    Ok(o)
}

fn device(spec: &str) -> Result<Device> {
    match spec {
        "best" => Ok(Device::best()),
        "cpu" => Ok(Device::cpu()),
        "cuda" => Device::cuda(0),
        other => Err(Error::invalid("mnist_search", format!("unknown device {other:?}"))),
    }
}

fn space() -> SearchSpace {
    SearchSpace::new()
        .log_uniform("lr", 1e-4, 1e-2)
        .int_log("width", 32, 512)
        .uniform("dropout", 0.0, 0.5)
        .log_uniform("weight_decay", 1e-6, 1e-1)
}

fn mlp(pixels: &Tensor, width: usize, dropout: f64) -> Result<Sequential> {
    Ok(Sequential::new()
        .add(Normalization::adapt(pixels, None)?)
        .add(Linear::new(784, width))
        .add(ReLU)
        .add(Dropout::new(dropout))
        .add(Linear::new(width, width / 2))
        .add(ReLU)
        .add(Linear::new(width / 2, 10)))
}

fn trial_path(out: &Path, number: usize) -> PathBuf {
    out.join("trials").join(format!("trial_{number}.ckpt"))
}

/// Trains one trial's model, saves it, and returns its last validation accuracy.
fn objective(trial: &Trial, train: &Dataset, val: &Dataset, o: &Options) -> Result<f64> {
    let width = trial.usize("width")?;
    let mut model = mlp(train.features(), width, trial.f64("dropout")?)?.into_device(trial.device())?;
    let config = AdamWConfig {
        lr: trial.f64("lr")?,
        weight_decay: trial.f64("weight_decay")?,
        ..Default::default()
    };
    let mut opt = AdamW::new(model.parameters(), config)?;
    let history = Trainer::new(neurite::loss::cross_entropy)
        .epochs(o.epochs)
        .batch_size(64)
        .seed(trial.seed())
        .validation_data(val.clone())
        .metric(Metric::Accuracy)
        .callback(trial.reporter("val_accuracy"))
        .quiet()
        .fit(&mut model, &mut opt, train)?;
    neurite::checkpoint::save_model(&model, trial_path(&o.out, trial.number()), &Default::default())?;
    history
        .get("val_accuracy")
        .and_then(|v| v.last().copied())
        .ok_or_else(|| Error::invalid("mnist_search", "no validation accuracy was recorded"))
}

fn test_accuracy(model: &mut dyn Forward, test: &Dataset) -> Result<f64> {
    let out = predict(model, test.features(), 500)?;
    Metric::Accuracy.compute(&out, test.targets())
}

fn run(o: &Options) -> Result<()> {
    let started = Instant::now();
    let dev = device(&o.device)?;
    let mnist = Mnist::load_with(&o.data, ImageLayout::Flat)?;
    let all = mnist.train_dataset()?.to_device(&dev)?;
    let test = mnist.test_dataset()?.to_device(&dev)?;
    if all.len() <= TRAIN_DIGITS {
        return Err(Error::invalid(
            "mnist_search",
            format!("need more than {TRAIN_DIGITS} training digits, found {}", all.len()),
        ));
    }
    let train = all.subset(&(0..TRAIN_DIGITS).collect::<Vec<_>>())?;
    let val = all.subset(&(TRAIN_DIGITS..all.len()).collect::<Vec<_>>())?;
    std::fs::create_dir_all(o.out.join("trials")).map_err(|e| Error::io(format!("creating {}", o.out.display()), e))?;

    let study_file = o.out.join("study.json");
    let resumed = study_file.exists();
    let mut study = Study::new(space(), Direction::Maximize)?
        .sampler(Sampler::Tpe(TpeConfig {
            n_startup_trials: 8,
            ..TpeConfig::default()
        }))
        .pruner(Pruner::Median {
            n_startup_trials: 4,
            n_warmup_steps: 1,
        })
        .seed(o.seed)
        .devices(vec![dev])
        .timeout(o.budget)
        .storage(&study_file)?;
    let done_before = study.trials().len();
    println!(
        "searching {} trials ({} already in {}{}), {} epochs each, budget {} s, {} at a time",
        o.trials,
        done_before,
        study_file.display(),
        if resumed { ", resumed" } else { "" },
        o.epochs,
        o.budget.as_secs(),
        o.parallel
    );
    if o.parallel > 1 {
        study.optimize_parallel(o.trials, o.parallel, |t| objective(t, &train, &val, o))?;
    } else {
        study.optimize(o.trials, |t| objective(t, &train, &val, o))?;
    }
    study.write_csv(o.out.join("trials.csv"))?;
    study.plot(o.out.join("study.png"))?;
    let trials = study.trials();
    let count = |s: neurite::search::TrialState| trials.iter().filter(|t| t.state == s).count();
    use neurite::search::TrialState::*;
    println!(
        "trials: {} complete, {} pruned, {} failed; search time {:.1} s (this run)",
        count(Complete),
        count(Pruned),
        count(Failed),
        started.elapsed().as_secs_f64()
    );

    let top: Vec<TrialRecord> = study.top_trials(ENSEMBLE_SIZE);
    if top.is_empty() {
        return Err(Error::invalid("mnist_search", "no trial completed"));
    }
    println!("\n| rank | trial | lr | width | dropout | weight decay | val accuracy | test accuracy |");
    println!("|---|---|---|---|---|---|---|---|");
    let mut members: Vec<Box<dyn Forward>> = Vec::new();
    let mut member_acc = Vec::new();
    for (rank, t) in top.iter().enumerate() {
        let mut model = Sequential::load(trial_path(&o.out, t.number), &dev)?;
        model.eval();
        let acc = test_accuracy(&mut model, &test)?;
        let p = &t.params;
        println!(
            "| {} | {} | {:.2e} | {} | {:.3} | {:.2e} | {:.4} | {:.4} |",
            rank + 1,
            t.number,
            p.f64("lr")?,
            p.i64("width")?,
            p.f64("dropout")?,
            p.f64("weight_decay")?,
            t.value.unwrap_or(f64::NAN),
            acc
        );
        member_acc.push(acc);
        members.push(Box::new(model));
    }
    let mut ensemble = Ensemble::new(members, Combine::MeanProbabilities)?;
    ensemble.eval();
    let ensemble_acc = test_accuracy(&mut ensemble, &test)?;
    let best_member = member_acc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    neurite::checkpoint::save_model(&ensemble, o.out.join("ensemble.ckpt"), &Default::default())?;
    println!(
        "\nsingle best trial (by validation) test accuracy: {:.4}",
        member_acc[0]
    );
    println!("best member test accuracy: {best_member:.4}");
    println!("ensemble of {} test accuracy: {ensemble_acc:.4}", member_acc.len());
    println!(
        "the ensemble {} its best member by {:+.2} points",
        if ensemble_acc > best_member {
            "beats"
        } else {
            "does not beat"
        },
        100.0 * (ensemble_acc - best_member)
    );
    Ok(())
}
