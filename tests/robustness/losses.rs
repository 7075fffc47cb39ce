//! Losses with mismatched shapes, wrong dtypes, out-of-range classes and
//! probabilities, empty batches and every reduction.

use crate::util::*;
use neurite::loss::{self, BceLoss, BceWithLogitsLoss, CrossEntropyLoss, L1Loss, Loss, MseLoss, NllLoss, Reduction};
use neurite::{DType, Tensor};
use proptest::prelude::*;

fn reduction() -> BoxedStrategy<Reduction> {
    prop::sample::select(vec![Reduction::Mean, Reduction::Sum, Reduction::None]).boxed()
}

/// `(N, C)` scores and class targets of `N` (or a wrong shape), with any indices.
fn scores_and_classes() -> BoxedStrategy<(Spec, Ids)> {
    (small_dim(), small_dim(), float_dtype(), any::<bool>())
        .prop_flat_map(|(n, c, dt, fit)| {
            let t = if fit { vec![n] } else { vec![n + 1] };
            (tensor_with_dims(vec![n, c], dt), ids(t))
        })
        .boxed()
}

/// An input and a target, of one shape most of the time.
fn input_and_target() -> BoxedStrategy<(Spec, Spec)> {
    (tensor(3), any::<bool>(), dtype())
        .prop_flat_map(|(a, same, dt)| {
            let (dims, dt) = if same {
                (a.dims.clone(), a.dtype)
            } else {
                (vec![2, 1], dt)
            };
            (Just(a), tensor_with_dims(dims, dt))
        })
        .boxed()
}

/// The shape a reduced loss must have.
fn check_reduced(r: &neurite::Result<Tensor>, red: Reduction, per: &[usize]) -> Result<(), TestCaseError> {
    if let Ok(y) = r {
        match red {
            Reduction::None => prop_assert_eq!(y.dims(), per),
            _ => prop_assert_eq!(y.elem_count(), 1),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn regression_losses((sa, sb) in input_and_target(), red in reduction()) {
        let (a, b) = (sa.build(), sb.build());
        for (name, r) in [
            ("mse", no_panic((&sa, &sb, red), || MseLoss::new().with_reduction(red).forward(&a, &b))?),
            ("l1", no_panic((&sa, &sb, red), || L1Loss::new().with_reduction(red).forward(&a, &b))?),
        ] {
            if r.is_ok() {
                prop_assert_eq!(&sa.dims, &sb.dims, "{} accepted mismatched shapes", name);
            }
            check_reduced(&r, red, &sa.dims)?;
        }
        let _ = no_panic((&sa, &sb), || (loss::mse_loss(&a, &b), loss::l1_loss(&a, &b)))?;
    }

    #[test]
    fn bce_on_probabilities((sa, sb) in input_and_target(), red in reduction(), weighted in any::<bool>()) {
        let (a, b) = (sa.build(), sb.build());
        let mut l = BceLoss::new().with_reduction(red);
        if weighted {
            l = l.with_weight(b.clone());
        }
        let r = no_panic((&sa, &sb, red), || l.forward(&a, &b))?;
        if r.is_ok() {
            prop_assert_eq!(&sa.dims, &sb.dims);
            // The values as stored: -1e-300 is -0.0 in f32, a valid probability.
            let stored = a.to_vec::<f64>().unwrap();
            prop_assert!(
                stored.iter().all(|v| (0.0..=1.0).contains(v)),
                "binary_cross_entropy accepted inputs outside [0, 1]: {:?}", stored
            );
        }
        check_reduced(&r, red, &sa.dims)?;
    }

    #[test]
    fn bce_with_logits((sa, sb) in input_and_target(), red in reduction(), pw in float_tensor(2)) {
        let (a, b, p) = (sa.build(), sb.build(), pw.build());
        let r = no_panic((&sa, &sb, red), || BceWithLogitsLoss::new().with_reduction(red).forward(&a, &b))?;
        check_reduced(&r, red, &sa.dims)?;
        let r = no_panic((&sa, &sb, &pw), || BceWithLogitsLoss::new().with_pos_weight(p.clone()).with_reduction(red).forward(&a, &b))?;
        check_reduced(&r, red, &sa.dims)?;
        let r = no_panic((&sa, &sb, &pw), || BceWithLogitsLoss::new().with_weight(p.clone()).forward(&a, &b))?;
        check_reduced(&r, Reduction::Mean, &sa.dims)?;
    }

    #[test]
    fn class_losses(
        (scores, classes) in scores_and_classes(),
        red in reduction(),
        ignore in prop::option::of(-2i64..4),
        smoothing in scalar(),
        weight in float_tensor(1),
        weighted in any::<bool>(),
    ) {
        let (x, t, w) = (scores.build(), ids_tensor(&classes), weight.build());
        let n = scores.dims[0];
        let c = scores.dims[1];
        let mut ce = CrossEntropyLoss::new().with_reduction(red).with_label_smoothing(smoothing);
        let mut nll = NllLoss::new().with_reduction(red);
        if let Some(i) = ignore {
            ce = ce.with_ignore_index(i);
            nll = nll.with_ignore_index(i);
        }
        if weighted {
            ce = ce.with_weight(w.clone());
            nll = nll.with_weight(w.clone());
        }
        let input = (&scores, &classes, red, ignore, smoothing, weighted.then_some(&weight));
        for (name, r) in [
            ("cross_entropy", no_panic(input, || ce.forward(&x, &t))?),
            ("nll_loss", no_panic(input, || nll.forward(&x, &t))?),
        ] {
            if r.is_ok() {
                prop_assert_eq!(&classes.0, &vec![n], "{} accepted targets {:?} for scores {:?}", name, classes.0, scores.dims);
                let in_range = classes.1.iter().all(|&k| (0..c as i64).contains(&k) || Some(k) == ignore);
                prop_assert!(in_range, "{} accepted classes {:?} for {} classes", name, classes.1, c);
            }
            check_reduced(&r, red, &[n])?;
        }
        // Probability targets of the scores' shape, or float targets of a wrong shape.
        let soft = Tensor::full(0.5, x.dims(), x.dtype(), &cpu()).unwrap();
        let r = no_panic(input, || ce.forward(&x, &soft))?;
        check_reduced(&r, red, &[n])?;
        let f = t.to_dtype(x.dtype()).unwrap();
        let _ = no_panic(input, || (ce.forward(&x, &f), nll.forward(&x, &f)))?;
        let _ = no_panic(input, || (loss::cross_entropy(&x, &t), loss::nll_loss(&x, &t)))?;
    }

    #[test]
    fn class_losses_any_ranks(sa in tensor(4), classes in ids(vec![2])) {
        let (x, t) = (sa.build(), ids_tensor(&classes));
        let _ = no_panic((&sa, &classes), || loss::cross_entropy(&x, &t))?;
        let _ = no_panic((&sa, &classes), || loss::nll_loss(&x, &t))?;
        let y = no_panic((&sa, &classes), || loss::cross_entropy(&x, &x))?;
        if let Ok(y) = y {
            prop_assert_eq!(y.elem_count(), 1);
        }
    }

    #[test]
    fn penalties(specs in prop::collection::vec(tensor(3), 0..3), lambda in scalar()) {
        let ts: Vec<Tensor> = specs.iter().map(Spec::build).collect();
        let results = [
            no_panic((&specs, lambda), || loss::l1_penalty(&ts, lambda))?,
            no_panic((&specs, lambda), || loss::l2_penalty(&ts, lambda))?,
        ];
        for y in results.into_iter().flatten() {
            prop_assert_eq!(y.elem_count(), 1);
            prop_assert!(!specs.is_empty());
        }
    }
}

#[test]
fn bce_outside_zero_one_is_an_error() {
    for bad in [1.5f32, -0.25, f32::NAN] {
        let p = Tensor::from_vec(vec![0.5f32, bad], 2, &cpu()).unwrap();
        let t = Tensor::from_vec(vec![1.0f32, 0.0], 2, &cpu()).unwrap();
        let r = must_not_panic(bad, || loss::binary_cross_entropy(&p, &t));
        let msg = r.expect_err("inputs outside [0, 1] must be rejected").to_string();
        assert!(msg.contains("binary_cross_entropy"), "{msg}");
        assert!(
            msg.contains(&bad.to_string()),
            "the message names the value {bad}: {msg}"
        );
    }
    // The boundary values are valid, as in PyTorch.
    let p = Tensor::from_vec(vec![0.0f32, 1.0], 2, &cpu()).unwrap();
    assert!(loss::binary_cross_entropy(&p, &p).is_ok());
}

#[test]
fn mean_losses_over_an_empty_batch_are_nan() {
    // PyTorch: the mean over zero elements is NaN; the sum is 0.
    let x = Tensor::zeros([0, 3], DType::F32, &cpu()).unwrap();
    let t = Tensor::zeros([0], DType::I64, &cpu()).unwrap();
    let ce = must_not_panic("cross_entropy on [0, 3]", || loss::cross_entropy(&x, &t)).unwrap();
    assert!(ce.to_scalar::<f32>().unwrap().is_nan());
    let sum = CrossEntropyLoss::new()
        .with_reduction(Reduction::Sum)
        .forward(&x, &t)
        .unwrap();
    assert_eq!(sum.to_scalar::<f32>().unwrap(), 0.0);
    let mse = must_not_panic("mse on [0, 3]", || loss::mse_loss(&x, &x)).unwrap();
    assert!(mse.to_scalar::<f32>().unwrap().is_nan());
    let bce = must_not_panic("bce on [0, 3]", || loss::binary_cross_entropy(&x, &x)).unwrap();
    assert!(bce.to_scalar::<f32>().unwrap().is_nan());
}

#[test]
fn class_indices_out_of_range_are_errors() {
    let x = Tensor::zeros([2, 3], DType::F32, &cpu()).unwrap();
    for bad in [3i64, -1, i64::MAX, i64::MIN] {
        let t = Tensor::from_vec(vec![0i64, bad], 2, &cpu()).unwrap();
        let r = must_not_panic(bad, || loss::cross_entropy(&x, &t));
        assert!(r.is_err(), "class {bad} of 3: {r:?}");
        let r = must_not_panic(bad, || loss::nll_loss(&x, &t));
        assert!(r.is_err(), "class {bad} of 3: {r:?}");
    }
}
