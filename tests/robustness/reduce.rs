//! Reductions over dims, including negative, repeated and out-of-range dims.

use crate::util::*;
use neurite::{DType, Tensor};
use proptest::prelude::*;

/// The shape of reducing `dims` (already resolved) of `shape`.
fn reduced(shape: &[usize], dims: &[usize], keep: bool) -> Vec<usize> {
    shape
        .iter()
        .enumerate()
        .filter_map(|(i, &d)| match (dims.contains(&i), keep) {
            (false, _) => Some(d),
            (true, true) => Some(1),
            (true, false) => None,
        })
        .collect()
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn sum_mean_var_over_dims(spec in tensor(4), dims in prop::collection::vec(axis(), 0..4), keep in any::<bool>(), unbiased in any::<bool>()) {
        let x = spec.build();
        let resolved: Option<Vec<usize>> = dims.iter().map(|&d| resolve(d, x.rank())).collect();
        let distinct = resolved.as_ref().is_some_and(|r| {
            let mut s = r.clone();
            s.sort_unstable();
            s.dedup();
            s.len() == r.len()
        });
        let results = [
            ("sum_dims", no_panic((&spec, &dims, keep), || x.sum_dims(&dims, keep))?),
            ("mean_dims", no_panic((&spec, &dims, keep), || x.mean_dims(&dims, keep))?),
            ("var_dims", no_panic((&spec, &dims, keep, unbiased), || x.var_dims(&dims, keep, unbiased))?),
        ];
        for (name, r) in results {
            match r {
                Ok(y) => {
                    prop_assert!(distinct, "{} accepted dims {:?} of {:?}", name, dims, spec.dims);
                    let want = reduced(x.dims(), resolved.as_ref().unwrap(), keep);
                    prop_assert_eq!(y.dims(), &want[..], "{}", name);
                }
                Err(e) => prop_assert!(
                    !distinct || spec.dtype == DType::I64,
                    "{}({:?}) of {:?} failed: {}", name, dims, spec, e
                ),
            }
        }
    }

    #[test]
    fn one_dim_reductions(spec in tensor(4), d in axis(), keep in any::<bool>()) {
        let x = spec.build();
        let rd = resolve(d, x.rank());
        let results = [
            ("sum_dim", no_panic((&spec, d), || x.sum_dim(d, keep))?),
            ("mean_dim", no_panic((&spec, d), || x.mean_dim(d, keep))?),
            ("var_dim", no_panic((&spec, d), || x.var_dim(d, keep, true))?),
            ("max_dim", no_panic((&spec, d), || x.max_dim(d, keep))?),
            ("min_dim", no_panic((&spec, d), || x.min_dim(d, keep))?),
            ("argmax", no_panic((&spec, d), || x.argmax(d, keep))?),
            ("argmin", no_panic((&spec, d), || x.argmin(d, keep))?),
        ];
        // Errors are fine (empty dims, I64 inputs); a result must be right.
        for (name, y) in results.into_iter().filter_map(|(n, r)| r.ok().map(|y| (n, y))) {
            let Some(rd) = rd else {
                return Err(TestCaseError::fail(format!("{name} accepted dim {d} of {:?}", spec.dims)));
            };
            prop_assert_eq!(y.dims(), &reduced(x.dims(), &[rd], keep)[..], "{}", name);
            if name.starts_with("arg") {
                prop_assert_eq!(y.dtype(), DType::I64);
                for i in y.to_vec::<i64>().unwrap() {
                    prop_assert!((0..x.dims()[rd] as i64).contains(&i), "{} gave index {}", name, i);
                }
            }
        }
    }

    #[test]
    fn whole_tensor_reductions(spec in tensor(4)) {
        let x = spec.build();
        for (name, r) in [
            ("sum_all", no_panic(&spec, || x.sum_all())?),
            ("mean_all", no_panic(&spec, || x.mean_all())?),
            ("max_all", no_panic(&spec, || x.max_all())?),
            ("min_all", no_panic(&spec, || x.min_all())?),
        ] {
            if let Ok(y) = r {
                prop_assert_eq!(y.elem_count(), 1, "{}", name);
            }
        }
    }
}

#[test]
fn half_precision_mean_and_var_of_many_ones() {
    for dtype in [DType::F16, DType::BF16] {
        let x = Tensor::ones(70_000, dtype, &cpu()).unwrap();
        let mean = must_not_panic(dtype, || x.mean_all())
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!((mean - 1.0).abs() < 1e-2, "{dtype:?} mean of 70,000 ones = {mean}");
        let var = must_not_panic(dtype, || x.var_dim(0usize, false, true))
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(var.abs() < 1e-2, "{dtype:?} var of 70,000 ones = {var}");
    }
}
