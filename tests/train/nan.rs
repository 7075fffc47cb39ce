//! TerminateOnNaN: the epoch and batch of the first non-finite loss.

use crate::common::serial;
use neurite::data::Dataset;
use neurite::loss;
use neurite::nn::{Linear, Module, Sequential};
use neurite::optim::{Sgd, SgdConfig};
use neurite::train::{TerminateOnNaN, Trainer};
use neurite::{Device, Tensor};

/// 40 samples whose sample `bad` has a NaN feature.
fn data_with_nan(bad: usize) -> Dataset {
    let n = 40;
    let mut x: Vec<f32> = (0..2 * n).map(|i| (i % 7) as f32 * 0.1).collect();
    x[2 * bad + 1] = f32::NAN;
    let y: Vec<f32> = (0..n).map(|i| (i % 3) as f32).collect();
    Dataset::new(
        Tensor::from_vec(x, (n, 2), &Device::cpu()).unwrap(),
        Tensor::from_vec(y, (n, 1), &Device::cpu()).unwrap(),
    )
    .unwrap()
}

#[test]
fn reports_epoch_and_batch_in_the_history() {
    let _g = serial();
    // Sample 22 is in batch 5 (samples 20..24) of every unshuffled epoch; the
    // losses are read back every 3 batches, yet the report names batch 5.
    for log_every in [1, 3, 100] {
        let mut model = Sequential::new().add(Linear::new(2, 1));
        let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.01)).unwrap();
        let mut nan = TerminateOnNaN::new();
        let h = Trainer::new(loss::mse_loss)
            .epochs(5)
            .batch_size(4)
            .shuffle(false)
            .log_every(log_every)
            .callback(&mut nan)
            .quiet()
            .fit(&mut model, &mut opt, &data_with_nan(22))
            .unwrap();
        let stop = h.stop.clone().expect("training stopped");
        assert_eq!(
            (stop.epoch, stop.batch, stop.by.as_str()),
            (0, Some(5), "TerminateOnNaN"),
            "log_every {log_every}"
        );
        assert!(stop.reason.contains("epoch 1, batch 6"), "{}", stop.reason);
        let (epoch, batch, loss) = nan.found().unwrap();
        assert_eq!((epoch, batch), (0, 5));
        assert!(loss.is_nan());
        // The stopped epoch is closed and recorded; its loss is NaN.
        assert_eq!(h.epochs, [0]);
        assert!(h.loss[0].is_nan());
    }
}

#[test]
fn reports_as_an_error_on_request() {
    let _g = serial();
    let mut model = Sequential::new().add(Linear::new(2, 1));
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.01)).unwrap();
    let err = Trainer::new(loss::mse_loss)
        .epochs(3)
        .batch_size(8)
        .shuffle(false)
        .callback(TerminateOnNaN::new().as_error(true))
        .quiet()
        .fit(&mut model, &mut opt, &data_with_nan(35))
        .unwrap_err()
        .to_string();
    // Sample 35 is in batch 4 (32..40), 1-based batch 5 of epoch 1.
    assert!(
        err.contains("TerminateOnNaN") && err.contains("epoch 1, batch 5"),
        "{err}"
    );
}

#[test]
fn finite_losses_do_not_stop() {
    let _g = serial();
    let data = data_with_nan(0);
    let clean = Dataset::new(
        data.features().narrow(0usize, 1, 39).unwrap(),
        data.targets().narrow(0usize, 1, 39).unwrap(),
    )
    .unwrap();
    let mut model = Sequential::new().add(Linear::new(2, 1));
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.01)).unwrap();
    let h = Trainer::new(loss::mse_loss)
        .epochs(3)
        .callback(TerminateOnNaN::new())
        .quiet()
        .fit(&mut model, &mut opt, &clean)
        .unwrap();
    assert!(h.stop.is_none());
    assert_eq!(h.len(), 3);
    assert!(h.loss.iter().all(|l| l.is_finite()));
}
