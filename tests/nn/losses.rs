//! Every loss against PyTorch: value and gradient (of the input, and of the
//! target where PyTorch defines one), with reductions, weights, label
//! smoothing and ignore_index.

use crate::fixtures::{assert_tensor, case, tensor, weighted_sum};
use neurite::loss::{self, BceLoss, BceWithLogitsLoss, CrossEntropyLoss, L1Loss, Loss, MseLoss, NllLoss, Reduction};
use neurite::{DType, Device, Tensor};

const TOL: f64 = 1e-9;

fn check(name: &str, loss: &dyn Loss) {
    let c = case(name);
    let x = tensor(&c["input"]).requires_grad();
    let want_target_grad = !c["target_grad"].is_null();
    let t = tensor(&c["target"]);
    let t = if want_target_grad { t.requires_grad() } else { t };
    let out = loss.forward(&x, &t).unwrap();
    assert_tensor(&format!("{name} value"), &out, &c["output"], TOL);
    let grads = weighted_sum(&out).backward().unwrap();
    assert_tensor(
        &format!("{name} input grad"),
        grads.get(&x).unwrap(),
        &c["input_grad"],
        TOL,
    );
    if want_target_grad {
        assert_tensor(
            &format!("{name} target grad"),
            grads.get(&t).unwrap(),
            &c["target_grad"],
            TOL,
        );
    }
}

fn weight(name: &str) -> Tensor {
    tensor(&case(name)["weight"])
}

#[test]
fn mse_and_l1_match_pytorch() {
    check("mse_mean", &MseLoss::new());
    check("mse_sum", &MseLoss::new().with_reduction(Reduction::Sum));
    check("mse_none", &MseLoss::new().with_reduction(Reduction::None));
    check("l1_mean", &L1Loss::new());
    check("mse_mean", &|a: &Tensor, b: &Tensor| loss::mse_loss(a, b));
}

#[test]
fn bce_matches_pytorch() {
    check("bce_mean", &BceLoss::new());
    check(
        "bce_sum_weighted",
        &BceLoss::new()
            .with_weight(weight("bce_sum_weighted"))
            .with_reduction(Reduction::Sum),
    );
    check("bce_none", &BceLoss::new().with_reduction(Reduction::None));
    // p = 0 and p = 1: logs clamped at -100, gradients (p - y) / max(p (1 - p), 1e-12).
    check("bce_edges_none", &BceLoss::new().with_reduction(Reduction::None));
    check("bce_mean", &|a: &Tensor, b: &Tensor| loss::binary_cross_entropy(a, b));
}

#[test]
fn bce_with_logits_matches_pytorch() {
    // Logits include 0 (where |x| has a kink) and +-60 (where exp overflows naively).
    check("bce_logits_mean", &BceWithLogitsLoss::new());
    let pw = tensor(&case("bce_logits_pos_weight_sum")["pos_weight"]);
    check(
        "bce_logits_pos_weight_sum",
        &BceWithLogitsLoss::new()
            .with_pos_weight(pw)
            .with_reduction(Reduction::Sum),
    );
    check(
        "bce_logits_weight_none",
        &BceWithLogitsLoss::new()
            .with_weight(weight("bce_logits_weight_none"))
            .with_reduction(Reduction::None),
    );
}

fn smoothing(name: &str) -> f64 {
    case(name)["label_smoothing"].as_f64().unwrap()
}

#[test]
fn cross_entropy_matches_pytorch() {
    check("ce_mean", &CrossEntropyLoss::new());
    check("ce_mean", &|a: &Tensor, b: &Tensor| loss::cross_entropy(a, b));
    check("ce_sum", &CrossEntropyLoss::new().with_reduction(Reduction::Sum));
    check("ce_none", &CrossEntropyLoss::new().with_reduction(Reduction::None));
    check("ce_smooth", &CrossEntropyLoss::new().with_label_smoothing(0.1));
    check(
        "ce_weighted",
        &CrossEntropyLoss::new().with_weight(weight("ce_weighted")),
    );
    check("ce_spatial_smooth", &CrossEntropyLoss::new().with_label_smoothing(0.05));
}

#[test]
fn cross_entropy_with_class_weights_and_label_smoothing_matches_pytorch() {
    for (name, red) in [
        ("ce_weighted_smooth", Reduction::Mean),
        ("ce_weighted_smooth_sum", Reduction::Sum),
        ("ce_weighted_smooth_none", Reduction::None),
    ] {
        let l = CrossEntropyLoss::new()
            .with_weight(weight(name))
            .with_label_smoothing(smoothing(name))
            .with_reduction(red);
        check(name, &l);
    }
    let name = "ce_ignore_weighted_smooth";
    let l = CrossEntropyLoss::new()
        .with_weight(weight(name))
        .with_label_smoothing(smoothing(name))
        .with_ignore_index(-100);
    check(name, &l);
    let name = "ce_prob_targets_weighted_smooth";
    let l = CrossEntropyLoss::new()
        .with_weight(weight(name))
        .with_label_smoothing(smoothing(name));
    check(name, &l);
}

#[test]
fn nll_matches_pytorch() {
    check("nll_mean", &NllLoss::new());
    check("nll_mean", &|a: &Tensor, b: &Tensor| loss::nll_loss(a, b));
    check("nll_weighted", &NllLoss::new().with_weight(weight("nll_weighted")));
    check(
        "nll_ignore_sum",
        &NllLoss::new().with_ignore_index(3).with_reduction(Reduction::Sum),
    );
}

#[test]
fn penalties_give_known_values_and_gradients() {
    let cpu = Device::cpu();
    let a = Tensor::from_vec(vec![1.0f64, -2.0, 0.5], 3, &cpu)
        .unwrap()
        .requires_grad();
    let b = Tensor::from_vec(vec![-3.0f64, 4.0], (1, 2), &cpu)
        .unwrap()
        .requires_grad();
    let params = [a.clone(), b.clone()];
    let l1 = loss::l1_penalty(&params, 0.1).unwrap();
    assert!((l1.to_scalar::<f64>().unwrap() - 0.1 * 10.5).abs() < 1e-12);
    let g = l1.backward().unwrap();
    assert_eq!(g.get(&a).unwrap().to_vec::<f64>().unwrap(), vec![0.1, -0.1, 0.1]);
    let l2 = loss::l2_penalty(&params, 0.5).unwrap();
    assert!((l2.to_scalar::<f64>().unwrap() - 0.5 * 30.25).abs() < 1e-12);
    let g = l2.backward().unwrap();
    assert_eq!(g.get(&b).unwrap().to_vec::<f64>().unwrap(), vec![-3.0, 4.0]);
    assert!(loss::l2_penalty(&[], 1.0).is_err());
}

#[test]
fn losses_report_bad_inputs() {
    let cpu = Device::cpu();
    let p = Tensor::full(0.5, (4, 1), DType::F32, &cpu).unwrap();
    let t = Tensor::ones(4, DType::F32, &cpu).unwrap();
    // (N, 1) against (N): an error instead of a silent (N, N) broadcast.
    let e = loss::mse_loss(&p, &t).unwrap_err();
    assert!(e.to_string().contains("mse_loss"), "{e}");
    assert!(loss::binary_cross_entropy(&p, &t).is_err());
    let logits = Tensor::zeros((4, 3), DType::F32, &cpu).unwrap();
    let wrong_len = Tensor::from_vec(vec![0i64, 1, 2], 3, &cpu).unwrap();
    let e = loss::cross_entropy(&logits, &wrong_len).unwrap_err();
    assert!(e.to_string().contains("cross_entropy"), "{e}");
    let out_of_range = Tensor::from_vec(vec![0i64, 1, 2, 3], 4, &cpu).unwrap();
    assert!(loss::cross_entropy(&logits, &out_of_range).is_err());
    let float_labels = Tensor::zeros(4, DType::F32, &cpu).unwrap();
    assert!(loss::cross_entropy(&logits, &float_labels).is_err());
    let labels = Tensor::from_vec(vec![0i64, 1, 2, 0], 4, &cpu).unwrap();
    let bad_w = Tensor::ones(2, DType::F32, &cpu).unwrap();
    assert!(
        CrossEntropyLoss::new()
            .with_weight(bad_w)
            .forward(&logits, &labels)
            .is_err()
    );
    assert!(
        CrossEntropyLoss::new()
            .with_label_smoothing(1.5)
            .forward(&logits, &labels)
            .is_err()
    );
    // Uniform logits: the loss is log(C) with or without smoothing.
    let v = loss::cross_entropy(&logits, &labels)
        .unwrap()
        .to_scalar::<f64>()
        .unwrap();
    assert!((v - 3f64.ln()).abs() < 1e-6);
    // Unbatched (C) logits with a scalar target.
    let one = Tensor::from_vec(vec![2i64], (), &cpu).unwrap();
    let v = loss::cross_entropy(&Tensor::zeros(3, DType::F32, &cpu).unwrap(), &one).unwrap();
    assert!((v.to_scalar::<f64>().unwrap() - 3f64.ln()).abs() < 1e-6);
}
