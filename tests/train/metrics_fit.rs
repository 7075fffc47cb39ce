//! Precision, recall, F1, top-k, MAE, RMSE, R² and AUC inside `fit` and
//! `evaluate`: accumulated over batches, they equal the whole-data scores of
//! `neurite::metrics` (which equal scikit-learn's on fixtures).

use crate::common::serial;
use neurite::data::Dataset;
use neurite::metrics::{
    Average, mean_absolute_error, precision_recall_f1, r2_score, roc_auc_score, root_mean_squared_error, top_k_accuracy,
};
use neurite::nn::{Linear, Module, Sequential};
use neurite::optim::{Sgd, SgdConfig};
use neurite::train::{Metric, Mode, Trainer};
use neurite::{DType, Device, Tensor};

const N: usize = 203; // not a multiple of the batch size: a short last batch

fn classification() -> (Sequential, Dataset) {
    neurite::manual_seed(7);
    let x = Tensor::randn((N, 4), DType::F32, &Device::cpu()).unwrap();
    let labels: Vec<i64> = (0..N as i64).map(|i| (i * 7 + i / 3) % 5).collect();
    let y = Tensor::from_vec(labels, N, &Device::cpu()).unwrap();
    (Sequential::new().add(Linear::new(4, 5)), Dataset::new(x, y).unwrap())
}

fn host(model: &mut Sequential, data: &Dataset) -> (Vec<usize>, Vec<usize>, Vec<f64>) {
    let out = neurite::train::predict(model, data.features(), 64).unwrap();
    let scores = out.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap();
    let pred: Vec<usize> = out
        .argmax(1usize, false)
        .unwrap()
        .to_vec::<i64>()
        .unwrap()
        .iter()
        .map(|&p| p as usize)
        .collect();
    let truth: Vec<usize> = data
        .targets()
        .to_vec::<i64>()
        .unwrap()
        .iter()
        .map(|&t| t as usize)
        .collect();
    (truth, pred, scores)
}

#[test]
fn classification_metrics_in_evaluate_equal_the_whole_data_scores() {
    let _g = serial();
    let (mut model, data) = classification();
    let mut metrics = vec![Metric::TopKAccuracy(2)];
    for a in [Average::Macro, Average::Micro, Average::Weighted] {
        metrics.extend([Metric::Precision(a), Metric::Recall(a), Metric::F1(a)]);
    }
    let mut trainer = Trainer::new(neurite::loss::cross_entropy).batch_size(16).quiet();
    for m in &metrics {
        trainer = trainer.metric(m.clone());
    }
    let logs = trainer.evaluate(&mut model, &data).unwrap();
    let (truth, pred, scores) = host(&mut model, &data);
    for a in [Average::Macro, Average::Micro, Average::Weighted] {
        let want = precision_recall_f1(&truth, &pred, a).unwrap();
        let suffix = format!("{a:?}").to_lowercase();
        for (name, w) in [("precision", want.precision), ("recall", want.recall), ("f1", want.f1)] {
            let got = logs.get(&format!("{name}_{suffix}")).unwrap();
            assert!((got - w).abs() < 1e-9, "{name}_{suffix}: {got} vs {w}");
        }
    }
    let top2 = top_k_accuracy(&truth, &scores, 5, 2).unwrap();
    assert!((logs.get("top_2_accuracy").unwrap() - top2).abs() < 1e-9);
    assert_eq!(Mode::Auto.resolve("val_f1_macro"), Mode::Max);
    assert_eq!(Mode::Auto.resolve("val_r2"), Mode::Max);
}

#[test]
fn binary_f1_and_auc_in_fit() {
    let _g = serial();
    neurite::manual_seed(8);
    let x = Tensor::randn((N, 3), DType::F32, &Device::cpu()).unwrap();
    let noisy = x
        .narrow(1, 0, 1)
        .unwrap()
        .add(&Tensor::randn((N, 1), DType::F32, &Device::cpu()).unwrap())
        .unwrap();
    let y = noisy.gt_scalar(0.0).unwrap().to_dtype(DType::F32).unwrap();
    let data = Dataset::new(x.clone(), y.clone()).unwrap();
    let mut model = Sequential::new().add(Linear::new(3, 1)).add(neurite::nn::Sigmoid);
    let mut opt = Sgd::new(model.parameters(), SgdConfig::new(0.5)).unwrap();
    let mut trainer = Trainer::new(neurite::loss::binary_cross_entropy)
        .epochs(3)
        .batch_size(32)
        .validation_data(data.clone())
        .metric(Metric::F1(Average::Binary))
        .metric(Metric::Auc {
            num_thresholds: 1000,
            from_logits: false,
        })
        .quiet();
    let history = trainer.fit(&mut model, &mut opt, &data).unwrap();
    let p = neurite::train::predict(&mut model, &x, 64)
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    let truth: Vec<bool> = y
        .flatten_all()
        .unwrap()
        .to_vec::<f32>()
        .unwrap()
        .iter()
        .map(|&v| v > 0.5)
        .collect();
    let auc = roc_auc_score(&truth, &p).unwrap();
    let val_auc = *history.get("val_auc").unwrap().last().unwrap();
    assert!((val_auc - auc).abs() < 2e-3, "thresholded {val_auc} vs exact {auc}");
    let t: Vec<usize> = truth.iter().map(|&b| usize::from(b)).collect();
    let pr: Vec<usize> = p.iter().map(|&v| usize::from(v > 0.5)).collect();
    let f1 = precision_recall_f1(&t, &pr, Average::Binary).unwrap().f1;
    let val_f1 = *history.get("val_f1").unwrap().last().unwrap();
    assert!((val_f1 - f1).abs() < 1e-9, "{val_f1} vs {f1}");
    assert_eq!(history.get("f1").unwrap().len(), 3);
    // On one class only the AUC is undefined.
    let ones = Tensor::ones((8, 1), DType::F32, &Device::cpu()).unwrap();
    let auc = Metric::Auc {
        num_thresholds: 10,
        from_logits: false,
    }
    .compute(&ones, &ones)
    .unwrap();
    assert!(auc.is_nan());
}

#[test]
fn regression_metrics_in_evaluate_equal_the_whole_data_scores() {
    let _g = serial();
    neurite::manual_seed(9);
    let x = Tensor::randn((N, 3), DType::F32, &Device::cpu()).unwrap();
    let y = x
        .matmul(&Tensor::randn((3, 2), DType::F32, &Device::cpu()).unwrap())
        .unwrap()
        .add_scalar(3.0)
        .unwrap();
    let data = Dataset::new(x.clone(), y.clone()).unwrap();
    let mut model = Sequential::new().add(Linear::new(3, 2));
    let logs = Trainer::new(neurite::loss::mse_loss)
        .batch_size(10)
        .metric(Metric::MeanAbsoluteError)
        .metric(Metric::RootMeanSquaredError)
        .metric(Metric::R2Score)
        .quiet()
        .evaluate(&mut model, &data)
        .unwrap();
    let pred = neurite::train::predict(&mut model, &x, 64)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    let truth = y.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap();
    let mae = mean_absolute_error(&truth, &pred, 2).unwrap();
    let r2 = r2_score(&truth, &pred, 2).unwrap();
    // RMSE over every element (Keras); scikit-learn's per-column mean differs, so compare with the pooled form.
    let pooled = (truth.iter().zip(&pred).map(|(t, p)| (t - p).powi(2)).sum::<f64>() / truth.len() as f64).sqrt();
    assert!((logs.get("mae").unwrap() - mae).abs() < 1e-5 * mae.max(1.0));
    assert!((logs.get("rmse").unwrap() - pooled).abs() < 1e-5 * pooled.max(1.0));
    assert!(
        (logs.get("r2").unwrap() - r2).abs() < 1e-4,
        "{} vs {r2}",
        logs.get("r2").unwrap()
    );
    // One column: RMSE is scikit-learn's.
    let one = Dataset::new(x.clone(), y.narrow(1, 0, 1).unwrap()).unwrap();
    let mut m1 = Sequential::new().add(Linear::new(3, 1));
    let logs = Trainer::new(neurite::loss::mse_loss)
        .batch_size(7)
        .metric(Metric::RootMeanSquaredError)
        .quiet()
        .evaluate(&mut m1, &one)
        .unwrap();
    let p1 = neurite::train::predict(&mut m1, &x, 64)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    let t1 = y
        .narrow(1, 0, 1)
        .unwrap()
        .to_dtype(DType::F64)
        .unwrap()
        .to_vec::<f64>()
        .unwrap();
    let rmse = root_mean_squared_error(&t1, &p1, 1).unwrap();
    assert!((logs.get("rmse").unwrap() - rmse).abs() < 1e-5 * rmse.max(1.0));
}

#[test]
fn bad_metric_input_is_an_error() {
    let dev = Device::cpu();
    let logits = Tensor::zeros((4, 3), DType::F32, &dev).unwrap();
    let labels = Tensor::from_vec(vec![0i64, 1, 2, 1], 4, &dev).unwrap();
    assert!(Metric::TopKAccuracy(0).compute(&logits, &labels).is_err());
    assert!(
        Metric::Auc {
            num_thresholds: 1,
            from_logits: false
        }
        .compute(&logits, &labels)
        .is_err()
    );
    assert!(
        Metric::Auc {
            num_thresholds: 10,
            from_logits: false
        }
        .compute(&logits, &labels)
        .is_err()
    );
    let wrong = Tensor::from_vec(vec![0i64, 1], 2, &dev).unwrap();
    assert!(Metric::F1(Average::Macro).compute(&logits, &wrong).is_err());
    assert!(Metric::R2Score.compute(&logits, &wrong).is_err());
    assert!(Metric::F1(Average::Macro).batch_sum(&logits, &labels).is_err());
    // Ties: every class scores the same, so each target is within the top 1.
    assert_eq!(Metric::TopKAccuracy(1).compute(&logits, &labels).unwrap(), 1.0);
}

#[test]
fn a_confusion_matrix_is_drawn_as_a_png() {
    let dir = crate::common::temp_dir("confusion-png");
    let m = neurite::metrics::confusion_matrix(&[0, 1, 1, 2, 2, 2], &[0, 1, 2, 2, 2, 0], 3).unwrap();
    let path = dir.join("confusion.png");
    let labels: Vec<String> = ["cat", "dog", "bird"].iter().map(|s| s.to_string()).collect();
    neurite::metrics::plot_confusion_matrix(&m, Some(&labels), &path).unwrap();
    assert_eq!(&std::fs::read(&path).unwrap()[..8], b"\x89PNG\r\n\x1a\n");
    assert!(neurite::metrics::plot_confusion_matrix(&m, Some(&labels[..2]), &path).is_err());
    assert!(neurite::metrics::plot_confusion_matrix(&[vec![1, 2]], None, &path).is_err());
    assert!(neurite::metrics::plot_confusion_matrix(&[], None, &path).is_err());
}
