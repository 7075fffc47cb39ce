//! Constructors and dtype conversion.

use crate::util::*;
use neurite::{DType, Error, Tensor};
use proptest::prelude::*;

/// What a constructor asked for `dims` must return: the tensor when it is
/// small, an error when it cannot exist.
fn check_created(dims: &[usize], r: neurite::Result<Tensor>) -> Result<(), TestCaseError> {
    let n = count(dims);
    match r {
        Ok(t) => {
            prop_assert_eq!(t.dims(), dims);
            prop_assert_eq!(t.elem_count() as u128, n);
        }
        Err(e) => prop_assert!(
            span(dims) > MAX_ELEMS,
            "creating {} elements of shape {:?} failed: {}",
            n,
            dims,
            e
        ),
    }
    Ok(())
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn full_zeros_ones(dims in shape(4), dtype in dtype(), v in value()) {
        let input = (&dims, dtype, v);
        check_created(&dims, no_panic(input, || Tensor::full(v, dims.clone(), dtype, &cpu()))?)?;
        check_created(&dims, no_panic(input, || Tensor::zeros(dims.clone(), dtype, &cpu()))?)?;
        check_created(&dims, no_panic(input, || Tensor::ones(dims.clone(), dtype, &cpu()))?)?;
    }

    #[test]
    fn random_constructors(dims in shape(4), dtype in dtype(), a in scalar(), b in scalar()) {
        let input = (&dims, dtype, a, b);
        let checks = [
            ("rand", no_panic(input, || Tensor::rand(dims.clone(), dtype, &cpu()))?),
            ("randn", no_panic(input, || Tensor::randn(dims.clone(), dtype, &cpu()))?),
            ("rand_uniform", no_panic(input, || Tensor::rand_uniform(a, b, dims.clone(), dtype, &cpu()))?),
            ("randn_with_mean_std", no_panic(input, || Tensor::randn_with_mean_std(a, b, dims.clone(), dtype, &cpu()))?),
        ];
        for (name, r) in checks {
            // PyTorch: normal_/uniform_ are float-only ("not implemented for 'Long'").
            if dtype == DType::I64 {
                prop_assert!(r.is_err(), "{} with dtype I64 must be an error", name);
            } else if let Ok(t) = r {
                prop_assert_eq!(t.dims(), &dims[..]);
                prop_assert_eq!(t.dtype(), dtype);
            }
        }
    }

    #[test]
    fn arange_any_bounds(start in scalar(), end in scalar(), step in scalar(), dtype in dtype()) {
        let r = no_panic((start, end, step, dtype), || Tensor::arange(start, end, step, dtype, &cpu()))?;
        let n = (end - start) / step;
        if !(start.is_finite() && end.is_finite() && step.is_finite()) || step == 0.0 {
            prop_assert!(r.is_err(), "arange({}, {}, {}) must be an error", start, end, step);
        }
        if let Ok(t) = r {
            prop_assert_eq!(t.rank(), 1);
            prop_assert_eq!(t.elem_count() as f64, n.ceil().max(0.0));
        }
    }

    #[test]
    fn from_vec_wrong_count(len in 0usize..10, dims in shape(4)) {
        let data = vec![1.5f32; len];
        let r = no_panic((len, &dims), || Tensor::from_vec(data, dims.clone(), &cpu()))?;
        if r.is_ok() || span(&dims) <= MAX_ELEMS {
            prop_assert_eq!(r.is_ok(), count(&dims) == len as u128, "from_vec of {} values as {:?}", len, dims);
        }
    }

    #[test]
    fn to_dtype_every_pair(spec in tensor(3), to in dtype()) {
        let x = spec.build();
        let y = no_panic((&spec, to), || x.to_dtype(to))?;
        let y = y.map_err(|e| TestCaseError::fail(format!("to_dtype {:?} -> {:?}: {e}", spec.dtype, to)))?;
        prop_assert_eq!(y.dims(), x.dims());
        prop_assert_eq!(y.dtype(), to);
        // Every element is readable back as f64 (casts of NaN/inf to i64 are defined).
        let back = no_panic(&spec, || y.to_vec::<f64>())?;
        if let Ok(v) = back {
            prop_assert_eq!(v.len(), x.elem_count());
        }
    }

    #[test]
    fn like_constructors_and_scalar(spec in tensor(3), v in value(), dtype in dtype()) {
        let x = spec.build();
        let z = no_panic(&spec, || x.zeros_like())?;
        prop_assert_eq!(z.map(|t| t.dims().to_vec()).ok(), Some(spec.dims.clone()));
        let o = no_panic(&spec, || x.ones_like())?;
        prop_assert_eq!(o.map(|t| t.dims().to_vec()).ok(), Some(spec.dims.clone()));
        let s = no_panic((v, dtype), || Tensor::scalar(v, dtype, &cpu()))?;
        prop_assert_eq!(s.map(|t| t.elem_count()).ok(), Some(1));
    }

    #[test]
    fn readers(spec in tensor(3)) {
        let x = spec.build();
        let n = x.elem_count();
        let v = no_panic(&spec, || x.to_vec::<f32>())?;
        if let Ok(v) = v {
            prop_assert_eq!(v.len(), n);
        }
        let _ = no_panic(&spec, || x.to_vec1::<f64>())?;
        let _ = no_panic(&spec, || x.to_vec2::<f64>())?;
        let s = no_panic(&spec, || x.to_scalar::<f64>())?;
        prop_assert!(s.is_err() || n == 1);
        let s = no_panic(&spec, || x.item::<i64>())?;
        prop_assert!(s.is_err() || n == 1);
        let _ = no_panic(&spec, || x.to_ndarray::<f32>())?;
        let _ = no_panic(&spec, || format!("{x}"))?;
        let _ = no_panic(&spec, || format!("{x:?}"))?;
    }
}

#[test]
fn two_to_the_forty_elements_is_out_of_memory() {
    let r = must_not_panic("zeros([1 << 40])", || Tensor::zeros([1usize << 40], DType::F32, &cpu()));
    assert!(matches!(r, Err(Error::OutOfMemory { .. })), "got {r:?}");
}

#[test]
fn usize_max_rows_is_an_error() {
    let r = must_not_panic("zeros([usize::MAX, 2])", || {
        Tensor::zeros([usize::MAX, 2], DType::F32, &cpu())
    });
    assert!(r.is_err(), "got {r:?}");
}

#[test]
fn arange_to_infinity_or_nan_is_an_error() {
    for (s, e, st) in [
        (0.0, f64::INFINITY, 1.0),
        (f64::NAN, 1.0, 1.0),
        (0.0, f64::NAN, 1.0),
        (0.0, 1.0, f64::NAN),
        (f64::NEG_INFINITY, 0.0, 1.0),
        (0.0, 1e300, 1e-300),
    ] {
        let r = must_not_panic((s, e, st), || Tensor::arange(s, e, st, DType::F32, &cpu()));
        assert!(r.is_err(), "arange({s}, {e}, {st}) gave {r:?}");
    }
}

#[test]
fn random_i64_is_an_error() {
    let d = cpu();
    let r = must_not_panic("randn i64", || Tensor::randn([2, 3], DType::I64, &d));
    assert!(r.is_err(), "randn with I64: {r:?}");
    let r = must_not_panic("rand_uniform i64", || {
        Tensor::rand_uniform(0.0, 1.0, [2, 3], DType::I64, &d)
    });
    assert!(r.is_err(), "rand_uniform with I64: {r:?}");
}
