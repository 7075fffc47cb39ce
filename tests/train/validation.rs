//! Trainer settings that contradict each other or cannot work are refused by
//! `fit` with an error naming them, before any training step.

use crate::common::{serial, xor_data};
use neurite::loss;
use neurite::nn::{Linear, Module, Sequential, Tanh};
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::train::{EarlyStopping, History, Trainer};
use neurite::{Error, Result};

/// Fits a small MLP on 16 XOR samples; returns the history and the optimizer's step count.
fn fit(trainer: Trainer<'_>) -> Result<(History, u64)> {
    let data = xor_data(4, 0.1)?;
    let mut model = Sequential::new()
        .add(Linear::new(2, 8))
        .add(Tanh)
        .add(Linear::new(8, 2));
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1))?;
    let mut trainer = trainer.quiet();
    let h = trainer.fit(&mut model, &mut opt, &data)?;
    Ok((h, opt.step_count()))
}

#[track_caller]
fn refused(trainer: Trainer<'_>, needles: &[&str]) {
    match fit(trainer) {
        Err(e @ Error::InvalidArgument { .. }) => {
            let msg = e.to_string();
            for n in needles {
                assert!(msg.contains(n), "{msg:?} does not mention {n:?}");
            }
        }
        Err(e) => panic!("expected InvalidArgument, got {e}"),
        Ok(_) => panic!("expected an error mentioning {needles:?}"),
    }
}

#[test]
fn validation_data_and_split_together_are_an_error() {
    let _g = serial();
    let val = xor_data(2, 0.1).unwrap();
    let both = ["Trainer::fit", "validation_data", "validation_split (0.25)"];
    refused(
        Trainer::new(loss::cross_entropy)
            .validation_data(val.clone())
            .validation_split(0.25),
        &both,
    );
    refused(
        Trainer::new(loss::cross_entropy)
            .validation_split(0.25)
            .validation_data(val.clone()),
        &both,
    );
    // Either one alone validates.
    let (h, _) = fit(Trainer::new(loss::cross_entropy).validation_data(val)).unwrap();
    assert_eq!(h.val_loss.len(), 1);
    let (h, _) = fit(Trainer::new(loss::cross_entropy).validation_split(0.25)).unwrap();
    assert_eq!(h.val_loss.len(), 1);
}

#[test]
fn zero_sizes_and_counts_are_an_error() {
    let _g = serial();
    refused(
        Trainer::new(loss::cross_entropy).accumulation_steps(0),
        &["accumulation_steps", "got 0"],
    );
    refused(
        Trainer::new(loss::cross_entropy).batch_size(0),
        &["batch size", "batch_size 0"],
    );
    refused(
        Trainer::new(loss::cross_entropy).validation_batch_size(0),
        &["batch size", "validation_batch_size 0"],
    );
    // Keras trains nothing for epochs = 0; so does fit, without an error.
    let (h, steps) = fit(Trainer::new(loss::cross_entropy).epochs(0)).unwrap();
    assert_eq!((h.len(), steps), (0, 0));
    let (_, steps) = fit(Trainer::new(loss::cross_entropy).batch_size(4).accumulation_steps(2)).unwrap();
    assert_eq!(steps, 2, "16 samples in batches of 4, stepped every 2 batches");
}

#[test]
fn early_stopping_with_nan_settings_is_an_error() {
    let _g = serial();
    let mut es = EarlyStopping::new("loss").min_delta(f64::NAN);
    refused(
        Trainer::new(loss::cross_entropy).callback(&mut es),
        &["EarlyStopping", "min_delta", "NaN"],
    );
    let mut es = EarlyStopping::new("loss").min_delta(f64::INFINITY);
    refused(
        Trainer::new(loss::cross_entropy).callback(&mut es),
        &["min_delta", "inf"],
    );
    let mut es = EarlyStopping::new("loss").baseline(f64::NAN);
    refused(
        Trainer::new(loss::cross_entropy).callback(&mut es),
        &["baseline", "NaN"],
    );
    let mut es = EarlyStopping::new("loss")
        .min_delta(-1e-3)
        .baseline(10.0)
        .patience(usize::MAX);
    let (h, _) = fit(Trainer::new(loss::cross_entropy).epochs(2).callback(&mut es)).unwrap();
    assert_eq!(h.len(), 2);
}

#[test]
fn binary_accuracy_with_a_nan_threshold_is_an_error() {
    let dev = neurite::Device::cpu();
    let out = neurite::Tensor::from_vec(vec![0.2f32, 0.9], 2, &dev).unwrap();
    let y = neurite::Tensor::from_vec(vec![0f32, 1.0], 2, &dev).unwrap();
    let nan = neurite::train::Metric::BinaryAccuracy { threshold: f64::NAN };
    match nan.compute(&out, &y) {
        Err(e @ Error::InvalidArgument { .. }) => {
            assert!(
                e.to_string().contains("BinaryAccuracy") && e.to_string().contains("NaN"),
                "{e}"
            )
        }
        other => panic!("expected an error, got {other:?}"),
    }
    let half = neurite::train::Metric::BinaryAccuracy { threshold: 0.5 };
    assert_eq!(half.compute(&out, &y).unwrap(), 1.0);
}
