//! Compresses trained MNIST models and reports, in one table per model, test
//! accuracy, checkpoint size and batch-1 / batch-64 inference time for each
//! form: f32, dynamic int8 (`quantize_dynamic`: `Linear` layers, activations
//! quantized per call) and static int8 (`quantize_static`: `Linear` and
//! `Conv2d` layers, input ranges calibrated on 640 training digits, with the
//! min-max and the 99.99th-percentile observers), batch norms folded into the
//! layers before them (`fuse_batch_norms`, models that have them), half of the
//! channels of every hidden layer removed (`prune_channels_all`, L1) and 90%
//! of the weights zeroed (`global_unstructured`), each fine-tuned for
//! `FINE_TUNE_EPOCHS` epochs on the training digits (Adam, lr 5e-4; the
//! unstructured zeros kept by a `MaskedOptimizer`), and a small student
//! trained alone against the same student distilled from the model
//! (`DistillationStep`), each over three seeds. Then a new last layer is
//! trained on the model's frozen trunk, once through the trunk on every batch
//! and once on its features cached by `cache_features`, timed.
//!
//! Reads the checkpoints that `mnist_mlp` and `mnist_cnn` write (train them
//! first), and the bundled digits.
//!
//! ```text
//! cargo run --release --example mnist_mlp && cargo run --release --example mnist_cnn
//! cargo run --release --example mnist_compress
//! cargo run --release --example mnist_compress -- --mlp PATH --cnn PATH --data DIR
//! cargo run --release --example mnist_compress -- --temperature 2 --alpha 0.5
//! ```

use neurite::data::{DataLoader, Dataset, ImageLayout, Mnist, MnistSplit, cache_features};
use neurite::loss::DistillationLoss;
use neurite::loss::cross_entropy;
use neurite::nn::prune::{ChannelNorm, MaskedOptimizer, global_unstructured, prune_channels_all};
use neurite::nn::{Conv2d, Flatten, Forward, Linear, MaxPool2d, Module, ReLU, Sequential, fuse_batch_norms};
use neurite::optim::{Adam, AdamConfig};
use neurite::quant::{Observer, quantize_dynamic, quantize_static};
use neurite::train::{DistillationStep, Metric, Trainer, evaluate};
use neurite::{Device, Tensor};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const FINE_TUNE_EPOCHS: usize = 2;
/// Seeds of the students' initialisation and shuffling; their accuracy is
/// reported as the mean and spread over these.
const STUDENT_SEEDS: [u64; 3] = [0, 1, 2];
const STUDENT_EPOCHS: usize = 10;
/// Epochs of the new head trained on the frozen trunk, through it and on its
/// cached features.
const HEAD_EPOCHS: usize = 5;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mnist_compress: {e}");
            ExitCode::FAILURE
        }
    }
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut paths = [
        ("mlp", repo("target/mnist_mlp/mnist_mlp.ckpt"), ImageLayout::Flat),
        ("cnn", repo("target/mnist_cnn/mnist_cnn.ckpt"), ImageLayout::Nchw),
    ];
    let mut data = repo("data/mnist");
    let mut kd = DistillationLoss::new(4.0).with_alpha(0.7);
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(PathBuf::from);
        let number = pair.get(1).and_then(|v| v.parse::<f64>().ok());
        match (pair[0].as_str(), value) {
            ("--temperature", Some(_)) if number.is_some() => kd.temperature = number.unwrap_or(4.0),
            ("--alpha", Some(_)) if number.is_some() => kd.alpha = number.unwrap_or(0.7),
            ("--mlp", Some(v)) => paths[0].1 = v,
            ("--cnn", Some(v)) => paths[1].1 = v,
            ("--data", Some(v)) => data = v,
            (flag, _) => {
                return Err(format!(
                    "unknown or incomplete argument {flag:?}; flags: --mlp PATH --cnn PATH --data DIR --temperature T --alpha A"
                )
                .into());
            }
        }
    }
    let scratch = std::env::temp_dir().join(format!("neurite-compress-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    println!(
        "machine: {}; int8 kernel {}",
        cpu_model(),
        neurite::quant::Int8Kernel::best().name()
    );
    for (name, path, layout) in &paths {
        let mut model = Sequential::load(path, &Device::cpu())?;
        model.eval();
        let (images, labels) = Mnist::load_split(&data, MnistSplit::Test, *layout)?;
        let test = Dataset::new(images, labels)?;
        let (train_images, train_labels) = Mnist::load_split(&data, MnistSplit::Train, *layout)?;
        let train = Dataset::new(train_images.clone(), train_labels)?;
        let calibration: Vec<Tensor> = (0..10)
            .map(|b| train_images.narrow(0, b * 64, 64))
            .collect::<neurite::Result<_>>()?;
        println!("\n{name} ({}), {} test digits", path.display(), test.len());
        println!("| form | test accuracy | checkpoint bytes | size vs f32 | batch 1 (us) | batch 64 (us) |");
        println!("|---|---|---|---|---|---|");
        let mut forms = vec![
            ("f32", Sequential::load(path, &Device::cpu())?),
            ("dynamic int8", quantize_dynamic(&model, &["Linear"])?),
        ];
        for (label, observer) in [
            ("static int8, min-max", Observer::MinMax),
            ("static int8, p99.99", Observer::Percentile(99.99)),
        ] {
            forms.push((label, quantize_static(&mut model, &calibration, observer)?));
        }
        if let Ok(folded) = fuse_batch_norms(&model) {
            forms.push(("BN-folded", folded));
        }
        let (channel_pruned, _) = prune_channels_all(&model, 0.5, ChannelNorm::L1)?;
        forms.push((
            "50% channels pruned + fine-tuned",
            fine_tune(channel_pruned, &train, false)?,
        ));
        forms.push((
            "90% weights pruned + fine-tuned",
            fine_tune(Sequential::load(path, &Device::cpu())?, &train, true)?,
        ));
        let mut f32_bytes = 0;
        for (label, mut m) in forms {
            m.eval();
            let logs = evaluate(&mut m, &cross_entropy, &[Metric::Accuracy], &test, 256)?;
            let accuracy = format!("{:.4}", logs.get("accuracy").unwrap_or(f64::NAN));
            let bytes = print_row(label, &accuracy, &m, &test, &scratch, f32_bytes)?;
            if label == "f32" {
                f32_bytes = bytes;
            }
        }
        for distilled in [false, true] {
            let mut accuracies = Vec::new();
            let mut first = None;
            for seed in STUDENT_SEEDS {
                let mut student = train_student(&mut model, *layout, &train, seed, distilled.then_some(kd))?;
                let logs = evaluate(&mut student, &cross_entropy, &[Metric::Accuracy], &test, 256)?;
                accuracies.push(logs.get("accuracy").unwrap_or(f64::NAN));
                first.get_or_insert(student);
            }
            let label = if distilled {
                "small student, distilled from this model"
            } else {
                "small student, trained alone"
            };
            let student = first.ok_or("no student seeds")?;
            print_row(
                label,
                &mean_and_spread(&accuracies),
                &student,
                &test,
                &scratch,
                f32_bytes,
            )?;
        }
        feature_caching(path, &train, &test)?;
    }
    std::fs::remove_dir_all(&scratch)?;
    Ok(())
}

/// Trains a new last layer on the model's frozen trunk (every layer before
/// the last `Linear`) for `HEAD_EPOCHS` epochs, twice from the same
/// initialisation: running the trunk (evaluation mode, no grad) on every
/// batch, and on the trunk's features cached once by `cache_features`; prints
/// the seconds each took, the speed-up and both test accuracies.
fn feature_caching(path: &Path, train: &Dataset, test: &Dataset) -> Result<(), Box<dyn std::error::Error>> {
    let load_trunk = || -> Result<(Sequential, usize), Box<dyn std::error::Error>> {
        let model = Sequential::load(path, &Device::cpu())?;
        let last_linear = (0..model.len())
            .rev()
            .find(|&i| model.layer(i).is_some_and(|l| l.name() == "Linear"))
            .ok_or("the model has no Linear layer to retrain")?;
        let in_features = model
            .layer(last_linear)
            .and_then(|l| l.named_parameters().into_iter().find(|(n, _)| n == "weight"))
            .map(|(_, w)| w.dims()[1])
            .ok_or("the last Linear has no weight")?;
        let (mut trunk, _) = model.split_at(last_linear)?;
        trunk.eval();
        Ok((trunk, in_features))
    };
    println!("\nfeature caching: a new last layer on the frozen trunk, {HEAD_EPOCHS} epochs, Adam lr 1e-3, batch 64");
    println!("| head trained | seconds | speed-up | test accuracy |");
    println!("|---|---|---|---|");
    let mut through_seconds = 0.0;
    for cached in [false, true] {
        let (mut trunk, in_features) = load_trunk()?;
        neurite::manual_seed(0);
        let head = Sequential::new().add(Linear::new(in_features, 10));
        let mut adam = Adam::new(head.parameters(), AdamConfig::new(1e-3))?;
        let start = Instant::now();
        let data = if cached {
            cache_features(&mut trunk, train, 256)?
        } else {
            train.clone()
        };
        let mut loader = DataLoader::new(data, 64)?.shuffle(0);
        for _ in 0..HEAD_EPOCHS {
            for batch in loader.iter() {
                let (x, y) = batch?;
                let features = if cached {
                    x
                } else {
                    neurite::no_grad(|| trunk.forward(&x))?
                };
                let grads = cross_entropy(&head.forward(&features)?, &y)?.backward()?;
                neurite::optim::Optimizer::step(&mut adam, &grads)?;
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        let mut whole = trunk.append(head);
        whole.eval();
        let logs = evaluate(&mut whole, &cross_entropy, &[Metric::Accuracy], test, 256)?;
        let label = if cached {
            "on features cached once (time includes the caching pass)"
        } else {
            "through the frozen trunk every batch"
        };
        if !cached {
            through_seconds = seconds;
        }
        println!(
            "| {label} | {seconds:.2} | {:.2}x | {:.4} |",
            through_seconds / seconds,
            logs.get("accuracy").unwrap_or(f64::NAN)
        );
    }
    Ok(())
}

/// Prints one table row (size and latencies measured on `m`) and returns the
/// checkpoint's size in bytes.
fn print_row(
    label: &str,
    accuracy: &str,
    m: &Sequential,
    test: &Dataset,
    scratch: &Path,
    f32_bytes: u64,
) -> Result<u64, Box<dyn std::error::Error>> {
    let file = scratch.join("model.ckpt");
    m.save(&file)?;
    let bytes = std::fs::metadata(&file)?.len();
    // The first row is f32 itself.
    let base = if f32_bytes == 0 { bytes } else { f32_bytes };
    let x1 = test.tensors()[0].narrow(0, 0, 1)?;
    let x64 = test.tensors()[0].narrow(0, 0, 64)?;
    println!(
        "| {label} | {accuracy} | {bytes} | {:.2}x | {:.1} | {:.1} |",
        bytes as f64 / base.max(1) as f64,
        latency_us(m, &x1)?,
        latency_us(m, &x64)?
    );
    Ok(bytes)
}

/// `mean ± sample standard deviation (min-max)` of accuracies.
fn mean_and_spread(values: &[f64]) -> String {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt();
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("{mean:.4} ± {sd:.4} ({lo:.4}-{hi:.4}, {} seeds)", values.len())
}

/// A small student for `layout` (an MLP with 32 hidden units for flat
/// digits, a 4-filter CNN for images), trained `STUDENT_EPOCHS` epochs with
/// Adam (lr 1e-3) from `seed`: on the labels alone, or distilled from
/// `teacher` through `DistillationStep` with `distillation` (by default
/// temperature 4, alpha 0.7; `--temperature`, `--alpha`).
fn train_student(
    teacher: &mut Sequential,
    layout: ImageLayout,
    train: &Dataset,
    seed: u64,
    distillation: Option<DistillationLoss>,
) -> neurite::Result<Sequential> {
    neurite::manual_seed(seed);
    let mut student = match layout {
        ImageLayout::Flat => Sequential::new()
            .add(Linear::new(784, 32))
            .add(ReLU)
            .add(Linear::new(32, 10)),
        _ => Sequential::new()
            .add(Conv2d::new(1, 4, 3).with_padding(1))
            .add(ReLU)
            .add(MaxPool2d::new(2))
            .add(Flatten::new())
            .add(Linear::new(4 * 14 * 14, 10)),
    };
    let mut adam = Adam::new(student.parameters(), AdamConfig::new(1e-3))?;
    let mut trainer = Trainer::new(cross_entropy)
        .epochs(STUDENT_EPOCHS)
        .batch_size(64)
        .seed(seed)
        .quiet();
    if let Some(kd) = distillation {
        let step = DistillationStep::new(teacher, kd);
        trainer.fit_step(&mut student, step, &mut adam, train)?;
    } else {
        trainer.fit(&mut student, &mut adam, train)?;
    }
    student.eval();
    Ok(student)
}

/// `model` trained `FINE_TUNE_EPOCHS` more epochs on `train`; with
/// `unstructured`, 90% of the weights of its `Linear` and `Conv2d` layers (by
/// magnitude, over all of them) are zeroed first and kept zero throughout.
fn fine_tune(mut model: Sequential, train: &Dataset, unstructured: bool) -> neurite::Result<Sequential> {
    neurite::manual_seed(0);
    let adam = Adam::new(model.parameters(), AdamConfig::new(5e-4))?;
    let mut trainer = Trainer::new(cross_entropy)
        .epochs(FINE_TUNE_EPOCHS)
        .batch_size(64)
        .seed(0)
        .quiet();
    model.train();
    if unstructured {
        let weights: Vec<String> = model
            .named_parameters()
            .into_iter()
            .filter(|(n, t)| n.ends_with("weight") && t.rank() >= 2)
            .map(|(n, _)| n)
            .collect();
        let masks = global_unstructured(&model, &weights, 0.9)?;
        masks.apply(&model)?;
        let mut optimizer = MaskedOptimizer::new(adam, masks, &model)?;
        trainer.fit(&mut model, &mut optimizer, train)?;
    } else {
        let mut optimizer = adam;
        trainer.fit(&mut model, &mut optimizer, train)?;
    }
    model.eval();
    Ok(model)
}

/// Median microseconds of a no-grad forward pass over 15 timed batches.
fn latency_us(model: &Sequential, x: &Tensor) -> neurite::Result<f64> {
    for _ in 0..3 {
        neurite::no_grad(|| model.forward(x))?;
    }
    let t = Instant::now();
    neurite::no_grad(|| model.forward(x))?;
    let calls = ((0.05 / t.elapsed().as_secs_f64().max(1e-7)) as usize).clamp(1, 2000);
    let mut samples = Vec::with_capacity(15);
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..calls {
            neurite::no_grad(|| model.forward(x))?;
        }
        samples.push(t.elapsed().as_secs_f64() / calls as f64 * 1e6);
    }
    samples.sort_by(f64::total_cmp);
    Ok(samples[samples.len() / 2])
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}
