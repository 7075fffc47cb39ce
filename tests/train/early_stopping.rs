//! EarlyStopping: Keras's stopping epoch on scripted curves, driven directly
//! and through `fit`, and restoring the best epoch's weights.

use crate::common::{Script, WeightRecorder, serial, weights, xor_data};
use neurite::loss;
use neurite::nn::{Linear, Module, ReLU, Sequential};
use neurite::optim::{Sgd, SgdConfig};
use neurite::train::{Callback, CallbackContext, EarlyStopping, History, Logs, Mode, StopInfo, Trainer};

/// Drives `es` with `values` of `monitor`, one per epoch, as `fit` would, and
/// returns the epoch at which it asked to stop.
fn drive(mut es: EarlyStopping, monitor: &str, values: &[f64]) -> (Option<usize>, EarlyStopping) {
    let mut model = Sequential::new().add(Linear::new(1, 1));
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let history = History::new();
    let mut stop: Option<StopInfo> = None;
    {
        let mut ctx = CallbackContext::new(&mut model, &mut opt, &history, &mut stop);
        es.on_train_begin(&mut ctx).unwrap();
    }
    for (epoch, &v) in values.iter().enumerate() {
        let mut ctx = CallbackContext::new(&mut model, &mut opt, &history, &mut stop);
        let mut logs = Logs::new();
        logs.insert(monitor, v);
        es.on_epoch_end(epoch, &mut logs, &mut ctx).unwrap();
        if ctx.stop_requested() {
            let info = stop.clone().unwrap();
            assert_eq!(
                (info.epoch, info.batch, info.by.as_str()),
                (epoch, None, "EarlyStopping")
            );
            assert_eq!(es.stopped_epoch(), Some(epoch));
            return (Some(epoch), es);
        }
    }
    assert_eq!(es.stopped_epoch(), None);
    (None, es)
}

/// A name, the callback, its monitor, the curve, and the expected stop epoch.
type Case = (&'static str, EarlyStopping, &'static str, Vec<f64>, Option<usize>);

#[test]
fn stops_at_keras_epoch_on_scripted_curves() {
    let _g = serial();
    // Each case worked out with Keras 3's rules: wait += 1 every epoch, reset
    // on improvement (value + min_delta < best), stop when wait >= patience at
    // an epoch > 0 that did not improve.
    let cases: Vec<Case> = vec![
        (
            "min, patience 2",
            EarlyStopping::new("val_loss").patience(2),
            "val_loss",
            vec![1.0, 0.9, 0.95, 0.91, 0.8],
            Some(3),
        ),
        (
            "still improving",
            EarlyStopping::new("val_loss").patience(2),
            "val_loss",
            vec![1.0, 0.9, 0.95, 0.85, 0.86],
            None,
        ),
        (
            "equal is no improvement",
            EarlyStopping::new("val_loss").patience(1),
            "val_loss",
            vec![1.0, 1.0],
            Some(1),
        ),
        (
            "min_delta",
            EarlyStopping::new("val_loss").patience(1).min_delta(0.05),
            "val_loss",
            vec![1.0, 0.97, 0.9],
            Some(1),
        ),
        (
            "min_delta sign ignored",
            EarlyStopping::new("val_loss").patience(1).min_delta(-0.05),
            "val_loss",
            vec![1.0, 0.97],
            Some(1),
        ),
        (
            "min_delta met",
            EarlyStopping::new("val_loss").patience(1).min_delta(0.05),
            "val_loss",
            vec![1.0, 0.94, 0.88, 0.87],
            Some(3),
        ),
        (
            "auto max for accuracy",
            EarlyStopping::new("val_accuracy").patience(2),
            "val_accuracy",
            vec![0.5, 0.6, 0.6, 0.55, 0.7],
            Some(3),
        ),
        (
            "explicit max",
            EarlyStopping::new("score").mode(Mode::Max).patience(1),
            "score",
            vec![1.0, 2.0, 1.5],
            Some(2),
        ),
        (
            "auto min for other names",
            EarlyStopping::new("score").patience(1),
            "score",
            vec![1.0, 2.0],
            Some(1),
        ),
        (
            "patience 0",
            EarlyStopping::new("val_loss"),
            "val_loss",
            vec![1.0, 0.5, 0.4, 0.6],
            Some(3),
        ),
        (
            "NaN never improves; no stop at epoch 0",
            EarlyStopping::new("val_loss"),
            "val_loss",
            vec![f64::NAN, 1.0, 2.0],
            Some(2),
        ),
        // A baseline keeps the counter running until it is beaten, but an
        // improving epoch never stops (Keras returns before the check).
        (
            "baseline",
            EarlyStopping::new("val_loss").patience(2).baseline(0.5),
            "val_loss",
            vec![1.0, 0.9, 0.95],
            Some(2),
        ),
        (
            "baseline, improving",
            EarlyStopping::new("val_loss").patience(2).baseline(0.5),
            "val_loss",
            vec![1.0, 0.9, 0.8, 0.7],
            None,
        ),
        (
            "baseline beaten",
            EarlyStopping::new("val_loss").patience(2).baseline(0.5),
            "val_loss",
            vec![1.0, 0.4, 0.45],
            None,
        ),
        (
            "start_from_epoch",
            EarlyStopping::new("val_loss").patience(1).start_from_epoch(2),
            "val_loss",
            vec![5.0, 1.0, 2.0, 3.0],
            Some(3),
        ),
        (
            "without start_from_epoch",
            EarlyStopping::new("val_loss").patience(1),
            "val_loss",
            vec![5.0, 1.0, 2.0, 3.0],
            Some(2),
        ),
    ];
    for (name, es, monitor, values, expected) in cases {
        let (stopped, _) = drive(es, monitor, &values);
        assert_eq!(stopped, expected, "case {name:?}: {values:?}");
    }
    // Best value and epoch after a stop: best at epoch b, stop at b + patience.
    let (stopped, es) = drive(
        EarlyStopping::new("val_loss").patience(3),
        "val_loss",
        &[1.0, 0.7, 0.5, 0.6, 0.55, 0.52, 0.4],
    );
    assert_eq!(stopped, Some(5));
    assert_eq!((es.best(), es.best_epoch(), es.wait()), (Some(0.5), Some(2), 3));
}

#[test]
fn missing_monitor_is_an_error() {
    let _g = serial();
    let mut model = Sequential::new().add(Linear::new(1, 1));
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let history = History::new();
    let mut stop = None;
    let mut ctx = CallbackContext::new(&mut model, &mut opt, &history, &mut stop);
    let mut logs = Logs::new();
    logs.insert("loss", 1.0);
    let err = EarlyStopping::new("val_loss")
        .on_epoch_end(0, &mut logs, &mut ctx)
        .unwrap_err()
        .to_string();
    assert!(err.contains("val_loss") && err.contains("loss"), "{err}");
}

fn mlp() -> Sequential {
    Sequential::new()
        .add(Linear::new(2, 8))
        .add(ReLU)
        .add(Linear::new(8, 2))
}

/// Runs `fit` for up to 20 epochs with a scripted monitor, recording the weights of every epoch.
fn fit_with(values: &[f64], es: &mut EarlyStopping) -> (History, WeightRecorder, Sequential) {
    let data = xor_data(8, 0.2).unwrap();
    let mut model = mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let mut rec = WeightRecorder::default();
    let h = Trainer::new(loss::cross_entropy)
        .epochs(20)
        .batch_size(8)
        .callback(Script::new("val_score", values))
        .callback(&mut *es)
        .callback(&mut rec)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    (h, rec, model)
}

#[test]
fn fit_stops_at_the_right_epoch_and_restores_best_weights() {
    let _g = serial();
    neurite::manual_seed(3);
    // Best at epoch 2; with patience 3 the stop comes after epoch 5.
    let curve = [
        1.0, 0.8, 0.5, 0.6, 0.7, 0.9, 0.4, 0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1,
    ];
    let mut es = EarlyStopping::new("val_score").patience(3).restore_best_weights(true);
    let (h, rec, model) = fit_with(&curve, &mut es);
    assert_eq!(h.epochs, [0, 1, 2, 3, 4, 5]);
    assert_eq!(h.get("val_score").unwrap(), &curve[..6]);
    let stop = h.stop.clone().expect("stopped early");
    assert_eq!((stop.epoch, stop.batch, stop.by.as_str()), (5, None, "EarlyStopping"));
    assert_eq!(
        (es.stopped_epoch(), es.best_epoch(), es.best()),
        (Some(5), Some(2), Some(0.5))
    );
    assert!(es.restored_best_weights());
    // The model holds epoch 2's weights, which differ from the last epoch's.
    assert_eq!(weights(&model), rec.per_epoch[2]);
    assert_ne!(rec.per_epoch[2], rec.per_epoch[5]);

    // Without restoring, the last epoch's weights stay.
    neurite::manual_seed(3);
    let mut es = EarlyStopping::new("val_score").patience(3);
    let (h, rec, model) = fit_with(&curve, &mut es);
    assert_eq!(h.len(), 6);
    assert_eq!(weights(&model), rec.per_epoch[5]);

    // Keras 3 restores the best weights at the end even without an early stop.
    neurite::manual_seed(3);
    let rising = [0.9, 0.5, 0.6, 0.7];
    let mut es = EarlyStopping::new("val_score").patience(10).restore_best_weights(true);
    let data = xor_data(8, 0.2).unwrap();
    let mut model = mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.1)).unwrap();
    let mut rec = WeightRecorder::default();
    let h = Trainer::new(loss::cross_entropy)
        .epochs(4)
        .batch_size(8)
        .callback(Script::new("val_score", &rising))
        .callback(&mut es)
        .callback(&mut rec)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert!(h.stop.is_none());
    assert_eq!(es.stopped_epoch(), None);
    assert_eq!(weights(&model), rec.per_epoch[1]);
}

#[test]
fn fit_stops_on_real_validation_loss() {
    let _g = serial();
    neurite::manual_seed(8);
    // The learning rate is 0: the validation loss is the same every epoch,
    // so with patience 2 Keras stops after epoch 2.
    let data = xor_data(8, 0.2).unwrap();
    let mut model = mlp();
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.0)).unwrap();
    let mut es = EarlyStopping::new("val_loss").patience(2);
    let h = Trainer::new(loss::cross_entropy)
        .epochs(10)
        .validation_split(0.25)
        .callback(&mut es)
        .quiet()
        .fit(&mut model, &mut opt, &data)
        .unwrap();
    assert_eq!(h.len(), 3);
    assert_eq!(h.val_loss[0], h.val_loss[2]);
    assert_eq!(es.stopped_epoch(), Some(2));
}
