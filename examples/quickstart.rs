//! The README's short example: a model written as a struct, trained with
//! `fit`, saved and rebuilt from its checkpoint with no other code.
//!
//! Run with `cargo run --release --example quickstart`.

use neurite::data::Dataset;
use neurite::nn::{Configurable, Dropout, Forward, Linear, Module};
use neurite::optim::{Adam, AdamConfig};
use neurite::train::{Metric, Trainer};
use neurite::{DType, Device, Result, Tensor};
use serde::{Deserialize, Serialize};

/// The hyperparameters that rebuild the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct MlpConfig {
    inputs: usize,
    hidden: usize,
    classes: usize,
}

/// Two layers with a residual hidden block; parameters are named
/// `input.weight`, `hidden.0.weight`, ... as PyTorch would name them.
#[derive(Module)]
#[module(config)]
struct Mlp {
    input: Linear,
    hidden: Vec<Linear>,
    dropout: Dropout,
    output: Linear,
    #[module(skip)]
    config: MlpConfig,
}

impl Configurable for Mlp {
    type Config = MlpConfig;
    fn module_config(&self) -> MlpConfig {
        self.config.clone()
    }
    fn from_module_config(c: &MlpConfig) -> Result<Mlp> {
        Ok(Mlp {
            input: Linear::new(c.inputs, c.hidden),
            hidden: vec![Linear::new(c.hidden, c.hidden)],
            dropout: Dropout::new(0.1),
            output: Linear::new(c.hidden, c.classes),
            config: c.clone(),
        })
    }
}

impl Forward for Mlp {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.input.forward(x)?.relu()?;
        for layer in &self.hidden {
            h = (&h + layer.forward(&h)?.relu()?)?; // a skip connection
        }
        self.output.forward(&self.dropout.forward(&h)?)
    }
}

fn main() -> Result<()> {
    let dev = Device::best();
    neurite::manual_seed(0);
    let x = Tensor::randn((256, 20), DType::F32, &dev)?;
    let y = x.sum_dim(1usize, false)?.gt_scalar(0.0)?.to_dtype(DType::I64)?;
    let mut model = Mlp::from_module_config(&MlpConfig {
        inputs: 20,
        hidden: 64,
        classes: 2,
    })?;
    model.to_device(&dev)?;
    let mut opt = Adam::new(model.parameters(), AdamConfig::new(1e-2))?;
    let history = Trainer::new(neurite::loss::cross_entropy)
        .epochs(20)
        .batch_size(32)
        .validation_split(0.2)
        .metric(Metric::Accuracy)
        .fit(&mut model, &mut opt, &Dataset::new(x, y)?)?;
    println!(
        "final val accuracy {:?}",
        history.get("val_accuracy").and_then(|v| v.last())
    );
    let path = std::env::temp_dir().join("neurite-quickstart.ckpt");
    model.save(&path)?;
    let again = Mlp::load(&path, &Device::cpu())?; // rebuilt from its configuration, onto any device
    println!("{} parameters", again.num_parameters());
    Ok(())
}
