//! The README's short example: a small classifier trained with `fit`, saved and reloaded.
//!
//! Run with `cargo run --release --example quickstart`.

use neurite::data::Dataset;
use neurite::nn::{Linear, Module, ReLU, Sequential};
use neurite::optim::{Adam, AdamConfig};
use neurite::train::{Metric, Trainer};
use neurite::{DType, Device, Tensor};

fn main() -> neurite::Result<()> {
    let dev = Device::best();
    neurite::manual_seed(0);
    let x = Tensor::randn((256, 20), DType::F32, &dev)?;
    let y = x.sum_dim(1usize, false)?.gt_scalar(0.0)?.to_dtype(DType::I64)?;
    let mut model = Sequential::new()
        .add(Linear::new(20, 64))
        .add(ReLU)
        .add(Linear::new(64, 2))
        .into_device(&dev)?;
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
    let again = Sequential::load(&path, &Device::cpu())?; // onto any device
    println!("{} parameters", again.num_parameters());
    Ok(())
}
