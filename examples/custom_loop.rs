//! A training loop written by hand, then transfer learning.
//!
//! 1. A digit classifier (a derived `Backbone` + a 10-way `head`) trains on the
//!    bundled MNIST digits with AdamW over two parameter groups (weight decay
//!    on weights, none on biases and norm parameters: `optim::decay_groups`),
//!    gradients accumulated over 2 batches of 32 (`backward_into`), clipped to
//!    norm 1, and a learning rate warmed up linearly for 50 steps and then
//!    annealed along a cosine (`SequentialLr`, stepped per optimizer step).
//! 2. Its checkpoint is loaded non-strictly into a new model with the same
//!    backbone and a new 2-way head (even or odd digit): the loader reports
//!    the new head as missing and the old one as unexpected, as PyTorch's
//!    `load_state_dict(strict=False)` does. The backbone is frozen and only the
//!    new head trains.
//!
//! ```text
//! cargo run --release --example custom_loop
//! ```

use neurite::data::{DataLoader, Dataset, ImageLayout, Mnist};
use neurite::nn::{BatchNorm1d, Forward, Linear, Module};
use neurite::optim::lr_scheduler::{CosineAnnealingLr, LinearLr, LrScheduler, SequentialLr};
use neurite::optim::{AdamW, AdamWConfig, Optimizer, OptimizerConfig, Sgd, SgdConfig, clip_grad_norm, decay_groups};
use neurite::{Device, GradStore, Result, Tensor};

/// 784 -> 128 -> 64 features.
#[derive(Module)]
struct Backbone {
    fc1: Linear,
    bn1: BatchNorm1d,
    fc2: Linear,
}

impl Backbone {
    fn new() -> Backbone {
        Backbone {
            fc1: Linear::new(784, 128),
            bn1: BatchNorm1d::new(128),
            fc2: Linear::new(128, 64),
        }
    }
}

impl Forward for Backbone {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc2
            .forward(&self.bn1.forward(&self.fc1.forward(x)?)?.relu()?)?
            .relu()
    }
}

/// The first task: ten digits.
#[derive(Module)]
struct DigitNet {
    backbone: Backbone,
    head: Linear,
}

impl Forward for DigitNet {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.head.forward(&self.backbone.forward(x)?)
    }
}

/// The second task, on the same backbone: is the digit odd?
#[derive(Module)]
struct ParityNet {
    backbone: Backbone,
    parity_head: Linear,
}

impl Forward for ParityNet {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.parity_head.forward(&self.backbone.forward(x)?)
    }
}

/// The share of `data` that `model` classifies correctly (evaluation mode, no-grad).
fn accuracy(model: &mut impl Forward, data: &Dataset) -> Result<f64> {
    let logs = neurite::train::evaluate(
        model,
        &neurite::loss::cross_entropy,
        &[neurite::train::Metric::Accuracy],
        data,
        500,
    )?;
    Ok(logs.get("accuracy").unwrap_or(f64::NAN))
}

fn main() -> Result<()> {
    let device = Device::best();
    neurite::manual_seed(0);
    let mnist = Mnist::load_with(concat!(env!("CARGO_MANIFEST_DIR"), "/data/mnist"), ImageLayout::Flat)?;
    let (train, test) = (
        mnist.train_dataset()?.to_device(&device)?,
        mnist.test_dataset()?.to_device(&device)?,
    );

    // ---- 1. the digit classifier, trained by hand ----
    let mut model = DigitNet {
        backbone: Backbone::new(),
        head: Linear::new(64, 10),
    };
    model.to_device(&device)?;
    let groups = decay_groups(model.named_parameters(), 0.05);
    let mut opt = AdamW::with_groups(groups, AdamWConfig::new(3e-3))?;
    for g in 0..opt.num_groups() {
        let decay = match opt.group_config(g)? {
            OptimizerConfig::AdamW(c) => c.weight_decay,
            _ => f64::NAN,
        };
        println!(
            "AdamW group {g}: {} tensors, weight decay {decay}",
            opt.group_params(g)?.len()
        );
    }
    let (epochs, batch, accumulate) = (3, 32, 2);
    let mut loader = DataLoader::new(train.clone(), batch)?.shuffle(0);
    let steps = epochs * loader.len().div_ceil(accumulate);
    let warmup = LinearLr::new(&mut opt, 0.01, 1.0, 50)?;
    let cosine = CosineAnnealingLr::new(&mut opt, steps - 50, 0.0)?;
    let mut sched = SequentialLr::new(&mut opt, vec![Box::new(warmup), Box::new(cosine)], vec![50])?;
    let mut grads = GradStore::new();
    for epoch in 0..epochs {
        model.train();
        let (mut seen, mut loss_sum) = (0usize, 0f64);
        let total = loader.len();
        for (i, b) in loader.iter().enumerate() {
            let (x, y) = b?;
            let loss = neurite::loss::cross_entropy(&model.forward(&x)?, &y)?;
            // Averaged over the accumulated batches: the gradient of one batch of 64.
            (&loss / accumulate as f64)?.backward_into(&mut grads)?;
            loss_sum += loss.item::<f64>()? * x.dims()[0] as f64;
            seen += x.dims()[0];
            if (i + 1) % accumulate == 0 || i + 1 == total {
                clip_grad_norm(&mut grads, &model.parameters(), 1.0)?;
                opt.step(&grads)?;
                grads.clear();
                sched.step(&mut opt)?;
            }
        }
        println!(
            "epoch {}: loss {:.4}, lr {:.2e}, test accuracy {:.4}",
            epoch + 1,
            loss_sum / seen as f64,
            opt.lr(),
            accuracy(&mut model, &test)?
        );
    }
    let path = std::env::temp_dir().join(format!("neurite-custom-loop-{}.ckpt", std::process::id()));
    model.eval();
    model.save(&path)?;

    // ---- 2. transfer: the same backbone, a new head ----
    let mut parity = ParityNet {
        backbone: Backbone::new(),
        parity_head: Linear::new(64, 2),
    };
    parity.to_device(&device)?;
    let report = parity.load_weights_non_strict(&path)?;
    println!("missing keys: {:?}", report.missing_keys);
    println!("unexpected keys: {:?}", report.unexpected_keys);
    parity.backbone.freeze();
    parity.backbone.eval(); // keep the learnt batch-norm statistics
    let odd = |d: &Dataset| -> Result<Dataset> {
        let labels: Vec<i64> = d.targets().to_vec::<i64>()?.into_iter().map(|c| c % 2).collect();
        d.with_targets(Tensor::from_vec(labels, d.len(), &d.device())?)
    };
    let (ptrain, ptest) = (odd(&train)?, odd(&test)?);
    let mut head_opt = Sgd::new(
        parity.trainable_parameters(),
        SgdConfig {
            lr: 0.1,
            momentum: 0.9,
            ..Default::default()
        },
    )?;
    let mut loader = DataLoader::new(ptrain, 64)?.shuffle(1);
    for b in loader.iter() {
        let (x, y) = b?;
        let grads = neurite::loss::cross_entropy(&parity.forward(&x)?, &y)?.backward()?;
        head_opt.step(&grads)?;
    }
    println!(
        "trainable parameters after freezing: {} of {}",
        parity
            .trainable_parameters()
            .iter()
            .map(|t| t.elem_count())
            .sum::<usize>(),
        parity.num_parameters()
    );
    println!(
        "parity test accuracy after one epoch of the new head: {:.4}",
        accuracy(&mut parity, &ptest)?
    );
    let _ = std::fs::remove_file(&path);
    Ok(())
}
