//! KL divergence and knowledge distillation against PyTorch
//! (tests/fixtures/distillation_torch.json, written by distillation_torch.py
//! in f64): values and gradients in f64 and f32, the detached teacher, and
//! every error with its message.

use crate::fixtures::{assert_close, tensor, weighted_sum};
use neurite::loss::{self, DistillationLoss, KlDivLoss, KlDivReduction, Loss, Reduction};
use neurite::{DType, Device, Error, Tensor};
use serde_json::Value;
use std::sync::OnceLock;

const TOL_F64: f64 = 1e-10;
const TOL_F32: f64 = 1e-5;

fn fixture() -> &'static Value {
    static ALL: OnceLock<Value> = OnceLock::new();
    ALL.get_or_init(|| {
        let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
        let path = std::path::Path::new(&dir).join("tests/fixtures/distillation_torch.json");
        serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture file")).expect("fixture JSON")
    })
}

/// The fixture tensor `v` in `dtype` (index tensors stay `I64`).
fn load(v: &Value, dtype: DType) -> Tensor {
    let t = tensor(v);
    if t.dtype() == DType::I64 {
        t
    } else {
        t.to_dtype(dtype).unwrap()
    }
}

fn values(t: &Tensor) -> Vec<f64> {
    t.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap()
}

/// Asserts `got` has the fixture tensor `want`'s shape and values.
fn assert_tensor(what: &str, got: &Tensor, want: &Value, tol: f64) {
    let want = tensor(want);
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    assert_close(what, &values(got), &values(&want), tol);
}

fn reduction(name: &str) -> KlDivReduction {
    match name {
        "none" => KlDivReduction::None,
        "sum" => KlDivReduction::Sum,
        "mean" => KlDivReduction::Mean,
        "batchmean" => KlDivReduction::BatchMean,
        other => panic!("unknown reduction {other}"),
    }
}

fn check_kl_div(dtype: DType, tol: f64) {
    let kl = &fixture()["kl_div"];
    let cases = kl["cases"].as_object().unwrap();
    assert_eq!(cases.len(), 12);
    for (name, c) in cases {
        let log_target = c["log_target"].as_bool().unwrap();
        let red = reduction(c["reduction"].as_str().unwrap());
        let want_target_grad = !c["target_grad"].is_null();
        for via_struct in [false, true] {
            let what = format!("{name} {dtype:?} struct={via_struct}");
            let x = load(&kl["input"], dtype).requires_grad();
            let t = load(&kl["targets"][c["target"].as_str().unwrap()], dtype);
            let t = if want_target_grad { t.requires_grad() } else { t };
            let out = if via_struct {
                KlDivLoss::new()
                    .with_reduction(red)
                    .with_log_target(log_target)
                    .forward(&x, &t)
                    .unwrap()
            } else {
                loss::kl_div(&x, &t, red, log_target).unwrap()
            };
            assert_eq!(out.dtype(), dtype, "{what}: dtype");
            assert_tensor(&format!("{what} value"), &out, &c["output"], tol);
            let grads = weighted_sum(&out).backward().unwrap();
            assert_tensor(
                &format!("{what} input grad"),
                grads.get(&x).unwrap(),
                &c["input_grad"],
                tol,
            );
            if want_target_grad {
                assert_tensor(
                    &format!("{what} target grad"),
                    grads.get(&t).unwrap(),
                    &c["target_grad"],
                    tol,
                );
            }
        }
    }
}

#[test]
fn kl_div_matches_pytorch_f64() {
    check_kl_div(DType::F64, TOL_F64);
}

#[test]
fn kl_div_matches_pytorch_f32() {
    check_kl_div(DType::F32, TOL_F32);
}

#[test]
fn kl_div_takes_the_crate_reduction_too() {
    let kl = &fixture()["kl_div"];
    let x = load(&kl["input"], DType::F64);
    let t = load(&kl["targets"]["probs"], DType::F64);
    for (r, name) in [
        (Reduction::Mean, "mean"),
        (Reduction::Sum, "sum"),
        (Reduction::None, "none"),
    ] {
        let out = loss::kl_div(&x, &t, r, false).unwrap();
        assert_tensor(name, &out, &kl["cases"][format!("probs_{name}")]["output"], TOL_F64);
    }
    assert_eq!(KlDivLoss::new().reduction, KlDivReduction::Mean);
    assert!(!KlDivLoss::new().log_target);
}

#[test]
fn kl_div_terms_are_zero_where_the_target_is_zero() {
    let dev = Device::cpu();
    // Even against an infinite input, and the target's gradient there is 0, not NaN.
    let x = Tensor::from_vec(vec![f64::NEG_INFINITY, -1.0, -0.5], 3, &dev)
        .unwrap()
        .requires_grad();
    let t = Tensor::from_vec(vec![0.0f64, 0.0, 1.0], 3, &dev)
        .unwrap()
        .requires_grad();
    let out = loss::kl_div(&x, &t, KlDivReduction::None, false).unwrap();
    assert_eq!(values(&out), vec![0.0, 0.0, 0.5]);
    let grads = out.sum_all().unwrap().backward().unwrap();
    assert_eq!(values(grads.get(&x).unwrap()), vec![0.0, 0.0, -1.0]);
    let gt = values(grads.get(&t).unwrap());
    assert_eq!(&gt[..2], &[0.0, 0.0]);
    assert!((gt[2] - 1.5).abs() < 1e-15, "log(1) + 1 - (-0.5), got {}", gt[2]);
    // batchmean divides by the first dimension only; a scalar is its own batch.
    let x2 = Tensor::from_vec(vec![-1.0f64; 6], (2, 3), &dev).unwrap();
    let t2 = Tensor::from_vec(vec![0.5f64; 6], (2, 3), &dev).unwrap();
    let sum = loss::kl_div(&x2, &t2, KlDivReduction::Sum, false).unwrap();
    let bm = loss::kl_div(&x2, &t2, KlDivReduction::BatchMean, false).unwrap();
    assert!((values(&sum)[0] / 2.0 - values(&bm)[0]).abs() < 1e-15);
    let s = Tensor::from_vec(vec![-1.0f64], (), &dev).unwrap();
    let st = Tensor::from_vec(vec![0.5f64], (), &dev).unwrap();
    let v = loss::kl_div(&s, &st, KlDivReduction::BatchMean, false).unwrap();
    assert!((values(&v)[0] - 0.5 * (0.5f64.ln() + 1.0)).abs() < 1e-15);
}

fn check_distillation(dtype: DType, tol: f64) {
    let d = &fixture()["distillation"];
    let cases = d["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 10);
    for c in cases {
        let (temp, alpha) = (c["temperature"].as_f64().unwrap(), c["alpha"].as_f64().unwrap());
        let (tname, lname) = (c["teacher"].as_str().unwrap(), c["labels"].as_str().unwrap());
        let want = c["output"].as_f64().unwrap();
        for via_struct in [false, true] {
            let what = format!("{tname}/{lname} T={temp} alpha={alpha} {dtype:?} struct={via_struct}");
            let student = load(&d["student"], dtype).requires_grad();
            let teacher = load(&d[tname], dtype);
            let labels = load(&d[lname], dtype);
            let out = if via_struct {
                DistillationLoss::new(temp)
                    .with_alpha(alpha)
                    .forward(&student, &teacher, &labels)
                    .unwrap()
            } else {
                loss::distillation_loss(&student, &teacher, &labels, temp, alpha).unwrap()
            };
            assert_eq!(out.dims(), &[] as &[usize], "{what}: a scalar");
            assert_eq!(out.dtype(), dtype, "{what}: dtype");
            assert_close(&format!("{what} value"), &values(&out), &[want], tol);
            let grads = out.backward().unwrap();
            assert_tensor(
                &format!("{what} student grad"),
                grads.get(&student).unwrap(),
                &c["student_grad"],
                tol,
            );
        }
    }
}

#[test]
fn distillation_matches_pytorch_f64() {
    check_distillation(DType::F64, TOL_F64);
}

#[test]
fn distillation_matches_pytorch_f32() {
    check_distillation(DType::F32, TOL_F32);
}

#[test]
fn the_teacher_gets_no_gradient() {
    let d = &fixture()["distillation"];
    let student = load(&d["student"], DType::F64).requires_grad();
    let teacher = load(&d["teacher"], DType::F64).requires_grad();
    let labels = load(&d["labels"], DType::F64);
    for (temp, alpha) in [(1.0, 0.5), (4.0, 1.0), (2.0, 0.0)] {
        let out = loss::distillation_loss(&student, &teacher, &labels, temp, alpha).unwrap();
        let grads = out.backward().unwrap();
        assert!(grads.get(&student).is_some(), "T={temp} alpha={alpha}: student grad");
        assert!(
            grads.get(&teacher).is_none(),
            "T={temp} alpha={alpha}: teacher got a gradient"
        );
        assert_eq!(grads.len(), 1, "T={temp} alpha={alpha}: only the student");
    }
    // A teacher that is the output of a tracked computation is cut off too.
    let w = Tensor::from_vec(vec![2.0f64], (), &Device::cpu())
        .unwrap()
        .requires_grad();
    let scaled = teacher.mul(&w).unwrap();
    let out = loss::distillation_loss(&student, &scaled, &labels, 3.0, 0.8).unwrap();
    let grads = out.backward().unwrap();
    assert!(grads.get(&w).is_none() && grads.get(&teacher).is_none());
    // Detaching leaves the value alone.
    let plain = loss::distillation_loss(&student, &teacher.detach(), &labels, 4.0, 0.5).unwrap();
    let tracked = loss::distillation_loss(&student, &teacher, &labels, 4.0, 0.5).unwrap();
    assert_eq!(values(&plain), values(&tracked));
}

#[test]
fn distillation_builders_and_defaults() {
    let kd = DistillationLoss::new(4.0);
    assert_eq!((kd.temperature, kd.alpha), (4.0, 0.5));
    let kd = kd.with_alpha(0.9);
    assert_eq!((kd.temperature, kd.alpha), (4.0, 0.9));
    // A student equal to its teacher pays only the hard term.
    let d = &fixture()["distillation"];
    let s = load(&d["student"], DType::F64);
    let labels = load(&d["labels"], DType::F64);
    let out = DistillationLoss::new(3.0).forward(&s, &s, &labels).unwrap();
    let ce = loss::cross_entropy(&s, &labels).unwrap();
    assert!((values(&out)[0] - 0.5 * values(&ce)[0]).abs() < 1e-12);
}

/// The message of the error `r` holds, asserting it is `Err`.
fn message(r: neurite::Result<Tensor>) -> String {
    match r {
        Ok(t) => panic!("expected an error, got a tensor of shape {}", t.shape()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn distillation_argument_errors() {
    let d = &fixture()["distillation"];
    let s = load(&d["student"], DType::F64);
    let t = load(&d["teacher"], DType::F64);
    let y = load(&d["labels"], DType::F64);
    for (temp, shown) in [
        (0.0, "0"),
        (-1.5, "-1.5"),
        (f64::NAN, "NaN"),
        (f64::INFINITY, "inf"),
        (f64::NEG_INFINITY, "-inf"),
    ] {
        let e = loss::distillation_loss(&s, &t, &y, temp, 0.5).unwrap_err();
        assert!(
            matches!(
                e,
                Error::InvalidArgument {
                    op: "distillation_loss",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            format!("distillation_loss: invalid argument: temperature must be finite and positive, got {shown}")
        );
        let m = message(DistillationLoss::new(temp).forward(&s, &t, &y));
        assert!(m.contains("temperature must be finite and positive"), "{m}");
    }
    for (alpha, shown) in [(-0.1, "-0.1"), (1.5, "1.5"), (f64::NAN, "NaN")] {
        assert_eq!(
            message(loss::distillation_loss(&s, &t, &y, 2.0, alpha)),
            format!("distillation_loss: invalid argument: alpha must be in [0, 1], got {shown}")
        );
        let m = message(DistillationLoss::new(2.0).with_alpha(alpha).forward(&s, &t, &y));
        assert!(m.contains("alpha must be in [0, 1]"), "{m}");
    }
    // The edges of [0, 1] are fine.
    assert!(loss::distillation_loss(&s, &t, &y, 2.0, 0.0).is_ok());
    assert!(loss::distillation_loss(&s, &t, &y, 2.0, 1.0).is_ok());
}

#[test]
fn distillation_shape_errors() {
    let dev = Device::cpu();
    let d = &fixture()["distillation"];
    let s = load(&d["student"], DType::F64); // (4, 5)
    let t = load(&d["teacher"], DType::F64);
    let y = load(&d["labels"], DType::F64);
    let zeros = |shape: &[usize], dtype: DType| Tensor::zeros(shape, dtype, &dev).unwrap();

    // Teacher of another shape, for every alpha (an unused term is still checked).
    for alpha in [0.0, 0.5, 1.0] {
        let e = loss::distillation_loss(&s, &zeros(&[4, 6], DType::F64), &y, 2.0, alpha).unwrap_err();
        assert!(
            matches!(
                e,
                Error::ShapeMismatch {
                    op: "distillation_loss",
                    ..
                }
            ),
            "{e}"
        );
        assert_eq!(
            e.to_string(),
            "distillation_loss: shape mismatch between [4, 5] and [4, 6]: \
             teacher output shape [4, 6] differs from student's [4, 5]"
        );
    }
    assert!(
        message(loss::distillation_loss(&s, &zeros(&[5, 4], DType::F64), &y, 2.0, 0.5))
            .contains("teacher output shape [5, 4] differs from student's [4, 5]")
    );

    // Labels that do not match the batch, for every alpha.
    for alpha in [0.0, 0.5, 1.0] {
        for bad in [&[3usize][..], &[5], &[4, 1], &[]] {
            let labels = zeros(bad, DType::I64);
            let e = loss::distillation_loss(&s, &t, &labels, 2.0, alpha).unwrap_err();
            assert!(
                matches!(
                    e,
                    Error::ShapeMismatch {
                        op: "distillation_loss",
                        ..
                    }
                ),
                "{e}"
            );
            assert_eq!(
                e.to_string(),
                format!(
                    "distillation_loss: shape mismatch between [4, 5] and {:?}: \
                     labels of shape [4] (one class index per sample of the batch of 4)",
                    bad
                )
            );
        }
    }
    // Probability labels must have the logits' shape.
    assert_eq!(
        message(loss::distillation_loss(&s, &t, &zeros(&[4, 4], DType::F64), 2.0, 0.5)),
        "distillation_loss: shape mismatch between [4, 5] and [4, 4]: \
         probability labels of shape [4, 5], the logits' shape"
    );
    // i32 class indices are accepted, other dtypes are not.
    let y32 = y.to_dtype(DType::I32).unwrap();
    let a = loss::distillation_loss(&s, &t, &y32, 2.0, 0.5).unwrap();
    let b = loss::distillation_loss(&s, &t, &y, 2.0, 0.5).unwrap();
    assert!((values(&a)[0] - values(&b)[0]).abs() < 1e-15);
    let bools = Tensor::zeros(4, DType::Bool, &dev).unwrap();
    assert_eq!(
        message(loss::distillation_loss(&s, &t, &bools, 2.0, 0.5)),
        format!(
            "distillation_loss: invalid argument: labels must be i64 or i32 class indices \
             or float class probabilities, got dtype {}",
            DType::Bool
        )
    );

    // Logits that are not (N, C).
    for bad in [&[5usize][..], &[2, 2, 5], &[]] {
        let x = zeros(bad, DType::F64);
        assert_eq!(
            message(loss::distillation_loss(&x, &x, &y, 2.0, 0.5)),
            format!(
                "distillation_loss: invalid argument: expected student logits of shape (N, C), got shape {:?}",
                bad
            )
        );
    }
    // Integer logits, and a teacher of another dtype.
    let e =
        loss::distillation_loss(&y.reshape((2, 2)).unwrap(), &y.reshape((2, 2)).unwrap(), &y, 2.0, 0.5).unwrap_err();
    assert!(
        matches!(
            e,
            Error::UnsupportedDType {
                op: "distillation_loss",
                ..
            }
        ),
        "{e}"
    );
    let e = loss::distillation_loss(&s, &t.to_dtype(DType::F32).unwrap(), &y, 2.0, 0.5).unwrap_err();
    assert!(
        matches!(
            e,
            Error::DTypeMismatch {
                op: "distillation_loss",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("distillation_loss: dtype mismatch, F64 and F32"),
        "{e}"
    );
}

#[test]
fn kl_div_errors() {
    let dev = Device::cpu();
    let x = Tensor::zeros((2, 3), DType::F64, &dev).unwrap();
    let e = loss::kl_div(
        &x,
        &Tensor::zeros((3, 2), DType::F64, &dev).unwrap(),
        KlDivReduction::Sum,
        false,
    )
    .unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { op: "kl_div", .. }), "{e}");
    assert_eq!(
        e.to_string(),
        "kl_div: shape mismatch between [2, 3] and [3, 2]: \
         input and target of the same shape (reshape one; broadcasting is not applied)"
    );
    // No broadcasting, even where PyTorch would.
    let row = Tensor::zeros((1, 3), DType::F64, &dev).unwrap();
    assert!(
        message(KlDivLoss::new().forward(&x, &row)).starts_with("kl_div: shape mismatch between [2, 3] and [1, 3]")
    );
    let e = loss::kl_div(&x, &x.to_dtype(DType::F32).unwrap(), KlDivReduction::Mean, true).unwrap_err();
    assert!(matches!(e, Error::DTypeMismatch { op: "kl_div", .. }), "{e}");
    let ints = Tensor::zeros((2, 3), DType::I64, &dev).unwrap();
    let e = loss::kl_div(&ints, &ints, KlDivReduction::Mean, false).unwrap_err();
    assert!(matches!(e, Error::UnsupportedDType { op: "kl_div", .. }), "{e}");
}
