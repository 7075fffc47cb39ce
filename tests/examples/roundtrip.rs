//! What `mnist_mlp` and `mnist_eval` do, on the library API and a small
//! budget: train on the bundled digits, save, rebuild from the file alone,
//! get the same outputs and accuracy; a cut or flipped file is refused.

use crate::common::repo_path;
use neurite::checkpoint::CheckpointProblem;
use neurite::data::{Dataset, ImageLayout, Mnist, MnistSplit};
use neurite::loss::cross_entropy;
use neurite::nn::{Dropout, Forward, Linear, Module, ReLU, Sequential};
use neurite::optim::{Adam, AdamConfig};
use neurite::train::{Metric, Trainer, evaluate};
use neurite::{Device, Tensor};

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("neurite-examples-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn train_save_reload_evaluate() -> neurite::Result<()> {
    let dev = Device::cpu();
    neurite::manual_seed(3);
    let data = repo_path("data/mnist");
    let (x, y) = Mnist::load_split(&data, MnistSplit::Train, ImageLayout::Flat)?;
    // 2,000 digits and 4 epochs keep the test quick; the MLP still learns.
    let train = Dataset::new(x.narrow(0, 0, 2000)?, y.narrow(0, 0, 2000)?)?;
    let (tx, ty) = Mnist::load_split(&data, MnistSplit::Test, ImageLayout::Flat)?;
    let test = Dataset::new(tx, ty)?;

    let mut model = Sequential::new()
        .add(Linear::new(784, 64))
        .add(ReLU)
        .add(Dropout::new(0.2))
        .add(Linear::new(64, 10));
    let mut adam = Adam::new(model.parameters(), AdamConfig::new(1e-3))?;
    let history = Trainer::new(cross_entropy)
        .epochs(4)
        .batch_size(64)
        .validation_split(0.1)
        .metric(Metric::Accuracy)
        .quiet()
        .fit(&mut model, &mut adam, &train)?;
    assert_eq!(history.get("val_accuracy").map(<[f64]>::len), Some(4));
    let before = evaluate(&mut model, &cross_entropy, &[Metric::Accuracy], &test, 500)?;
    let acc = before.get("accuracy").unwrap();
    assert!(
        acc > 0.85,
        "4 epochs on 1,800 digits should pass 85% test accuracy, got {acc}"
    );

    let dir = temp_dir("roundtrip");
    let path = dir.join("mlp.ckpt");
    model.eval();
    model.save(&path)?;
    // As mnist_eval does: nothing about the model but the file.
    let mut loaded = Sequential::load(&path, &dev)?;
    assert_eq!(loaded.to_config()?, model.to_config()?);
    let after = evaluate(&mut loaded, &cross_entropy, &[Metric::Accuracy], &test, 500)?;
    assert_eq!(after.get("accuracy"), before.get("accuracy"));
    assert_eq!(after.get("loss"), before.get("loss"));
    let probe: Tensor = test.features().narrow(0, 0, 5)?;
    assert_eq!(
        loaded.forward(&probe)?.to_vec::<f32>()?,
        model.forward(&probe)?.to_vec::<f32>()?
    );

    // The manual check of docs/MNIST.md: a truncated copy and a flipped byte.
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.join("cut.ckpt");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let Err(err) = Sequential::load(&cut, &dev) else {
        panic!("a truncated checkpoint must not load");
    };
    assert_eq!(err.checkpoint_problem(), Some(CheckpointProblem::Truncated), "{err}");
    assert!(
        err.to_string().contains("cut.ckpt"),
        "the message names the file: {err}"
    );
    let mut flipped = bytes.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0xff;
    let bad = dir.join("flipped.ckpt");
    std::fs::write(&bad, &flipped).unwrap();
    let Err(err) = Sequential::load(&bad, &dev) else {
        panic!("a corrupt checkpoint must not load");
    };
    assert_eq!(
        err.checkpoint_problem(),
        Some(CheckpointProblem::ChecksumMismatch),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
    Ok(())
}

/// `mnist_eval` reads flat rows for the MLP (whose first layer, a whole-input
/// Normalization, accepts any shape) and images for the CNN.
#[test]
fn evaluation_layout_follows_the_first_shape_specific_layer() {
    use crate::common::layout_for;
    use neurite::data::ImageLayout;
    use neurite::nn::{Conv2d, Dropout, Flatten, Linear, Normalization, ReLU, Sequential};
    let x = neurite::Tensor::zeros((2, 784), neurite::DType::F32, &neurite::Device::cpu()).unwrap();
    let mlp = Sequential::new()
        .add(Normalization::adapt(&x, None).unwrap())
        .add(Linear::new(784, 10));
    assert_eq!(layout_for(&mlp.to_config().unwrap()), Some(ImageLayout::Flat));
    let cnn = Sequential::new()
        .add(Conv2d::new(1, 4, 3))
        .add(ReLU)
        .add(Flatten::new())
        .add(Linear::new(4 * 26 * 26, 10));
    assert_eq!(layout_for(&cnn.to_config().unwrap()), Some(ImageLayout::Nchw));
    let nested = Sequential::new().add(Dropout::new(0.1)).add_module(Box::new(cnn));
    assert_eq!(layout_for(&nested.to_config().unwrap()), Some(ImageLayout::Nchw));
    // Per-pixel statistics mean rows; per-channel statistics on images mean images.
    let per_pixel = Sequential::new().add(Normalization::adapt(&x, Some(-1)).unwrap());
    assert_eq!(layout_for(&per_pixel.to_config().unwrap()), Some(ImageLayout::Flat));
    let images = x.reshape((2, 1, 28, 28)).unwrap();
    let per_channel = Sequential::new().add(Normalization::adapt(&images, Some(1)).unwrap());
    assert_eq!(layout_for(&per_channel.to_config().unwrap()), Some(ImageLayout::Nchw));
    assert_eq!(layout_for(&Sequential::new().add(ReLU).to_config().unwrap()), None);
}
