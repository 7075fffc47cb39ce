//! Sorting and scans: values (ties, NaN, negative dims, scalars), argument
//! errors, and gradients against finite differences.

use crate::gradcheck::{check, randt};
use neurite::{DType, Device, Error, Result, Tensor};

fn weighted(y: &Tensor, seed: u64) -> Result<Tensor> {
    y.mul(&randt(y.dims(), seed))?.sum_all()
}

fn check_op(shape: &[usize], f: impl Fn(&Tensor) -> Result<Tensor>) {
    // randt's values are distinct, so sort orders are locally constant.
    let x = randt(shape, 51);
    check(&[x], |t| weighted(&f(&t[0])?, 52), 1e-6);
}

#[test]
fn sort_and_topk_gradients() {
    for d in [0i64, 1, 2, -1] {
        check_op(&[3, 4, 5], |x| Ok(x.sort(d, false)?.0));
        check_op(&[3, 4, 5], |x| Ok(x.sort_stable(d, true)?.0));
    }
    check_op(&[4, 6], |x| Ok(x.topk(3, 1usize, true, true)?.0));
    check_op(&[4, 6], |x| Ok(x.topk(2, 0usize, false, false)?.0));
    check_op(&[4, 6], |x| Ok(x.kthvalue(2, -1, false)?.0));
    check_op(&[7], |x| x.sort(0usize, true)?.0.sqr());
}

#[test]
fn cumsum_and_cumprod_gradients() {
    for d in [0i64, 1, 2, -2] {
        check_op(&[3, 4, 5], |x| x.cumsum(d));
        check_op(&[3, 4, 5], |x| x.cumprod(d));
    }
    // Second order: the backward of a running sum is itself differentiable.
    check_op(&[2, 5], |x| x.cumsum(1usize)?.sqr()?.cumsum(0usize));
}

/// The cumprod gradient holds at zeros of the input (one and two zeros in a row),
/// where dividing by the input would give NaN.
#[test]
fn cumprod_gradient_with_zeros() {
    let x = Tensor::from_vec(
        vec![0.5, 0.0, 2.0, -1.5, 1.2, -0.7, 0.0, 0.9, 0.0, 3.0, 0.0, 1.1],
        [3, 4],
        &Device::cpu(),
    )
    .unwrap();
    check(std::slice::from_ref(&x), |t| weighted(&t[0].cumprod(1usize)?, 53), 1e-6);
    check(&[x], |t| weighted(&t[0].cumprod(0usize)?, 54), 1e-6);
}

#[test]
fn sort_values_ties_nan_and_descending() {
    let nan = f64::NAN;
    let x = Tensor::from_vec(vec![2.0, nan, 1.0, 2.0, -0.0, 0.0, nan, 1.0], 8, &Device::cpu()).unwrap();
    let (v, i) = x.sort(0usize, false).unwrap();
    assert_eq!(i.to_vec::<i64>().unwrap(), vec![4, 5, 2, 7, 0, 3, 1, 6]);
    let v = v.to_vec::<f64>().unwrap();
    assert_eq!(&v[..6], &[-0.0, 0.0, 1.0, 1.0, 2.0, 2.0]);
    assert!(v[6].is_nan() && v[7].is_nan());
    // Descending keeps equal elements in input order too, NaN first.
    assert_eq!(
        x.argsort(-1, true).unwrap().to_vec::<i64>().unwrap(),
        vec![1, 6, 0, 3, 2, 7, 4, 5]
    );
    let (v, i) = x.topk(3, 0usize, false, true).unwrap();
    assert_eq!(v.to_vec::<f64>().unwrap(), vec![-0.0, 0.0, 1.0]);
    assert_eq!(i.to_vec::<i64>().unwrap(), vec![4, 5, 2]);
}

#[test]
fn sort_along_a_middle_dim_of_any_dtype() {
    let x = Tensor::from_vec(vec![3i64, 1, 2, 0, 5, 4], [1, 3, 2], &Device::cpu()).unwrap();
    let (v, i) = x.sort(-2, false).unwrap();
    assert_eq!(v.to_vec::<i64>().unwrap(), vec![2, 0, 3, 1, 5, 4]);
    assert_eq!(i.to_vec::<i64>().unwrap(), vec![1, 1, 0, 0, 2, 2]);
    assert_eq!(i.dims(), &[1, 3, 2]);
    for dtype in [DType::F32, DType::F16, DType::BF16] {
        let (v, _) = x.to_dtype(dtype).unwrap().sort(1usize, true).unwrap();
        assert_eq!(
            v.to_vec::<f64>().unwrap(),
            vec![5.0, 4.0, 3.0, 1.0, 2.0, 0.0],
            "{dtype}"
        );
    }
}

#[test]
fn scalars_and_empty_dims() {
    let s = Tensor::from_vec(vec![4.0f32], [], &Device::cpu()).unwrap();
    let (v, i) = s.sort(-1, false).unwrap();
    assert_eq!((v.dims(), i.dims()), (&[][..], &[][..]));
    assert_eq!(i.to_vec::<i64>().unwrap(), vec![0]);
    assert_eq!(s.cumsum(0usize).unwrap().to_vec::<f32>().unwrap(), vec![4.0]);
    let (v, _) = s.topk(1, 0usize, true, true).unwrap();
    assert_eq!(v.dims(), &[] as &[usize]);
    let e = Tensor::zeros([2, 0, 3], DType::F32, &Device::cpu()).unwrap();
    let (v, i) = e.sort(1usize, false).unwrap();
    assert_eq!((v.dims(), i.dims()), (&[2, 0, 3][..], &[2, 0, 3][..]));
    assert_eq!(e.cumsum(1usize).unwrap().dims(), &[2, 0, 3]);
}

#[test]
fn scan_values() {
    let x = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3], &Device::cpu()).unwrap();
    assert_eq!(
        x.cumsum(1usize).unwrap().to_vec2::<f32>().unwrap(),
        vec![vec![1., 3., 6.], vec![4., 9., 15.]]
    );
    assert_eq!(
        x.cumsum(-2).unwrap().to_vec2::<f32>().unwrap(),
        vec![vec![1., 2., 3.], vec![5., 7., 9.]]
    );
    assert_eq!(
        x.cumprod(1usize).unwrap().to_vec2::<f32>().unwrap(),
        vec![vec![1., 2., 6.], vec![4., 20., 120.]]
    );
}

#[test]
fn bad_arguments_are_errors_naming_the_op() {
    let x = randt(&[3, 4], 60);
    match x.topk(5, 1usize, true, true) {
        Err(Error::InvalidArgument { op: "topk", msg }) => {
            assert!(msg.contains("k = 5") && msg.contains("size 4"), "{msg}")
        }
        other => panic!("expected a topk error, got {other:?}"),
    }
    assert!(matches!(
        x.kthvalue(0, 0usize, false),
        Err(Error::InvalidArgument { op: "kthvalue", .. })
    ));
    assert!(matches!(
        x.kthvalue(4, 0usize, false),
        Err(Error::InvalidArgument { op: "kthvalue", .. })
    ));
    assert!(matches!(
        x.sort(2usize, false),
        Err(Error::DimOutOfRange { op: "sort", dim: 2, .. })
    ));
    assert!(matches!(
        x.argsort(-3, false),
        Err(Error::DimOutOfRange {
            op: "argsort",
            dim: -3,
            ..
        })
    ));
    assert!(matches!(
        x.cumsum(5usize),
        Err(Error::DimOutOfRange { op: "cumsum", .. })
    ));
    let ids = Tensor::from_vec(vec![1i64, 2], 2, &Device::cpu()).unwrap();
    assert!(matches!(
        ids.cumsum(0usize),
        Err(Error::UnsupportedDType {
            op: "cumsum",
            dtype: DType::I64,
            ..
        })
    ));
    assert!(matches!(
        ids.cumprod(0usize),
        Err(Error::UnsupportedDType { op: "cumprod", .. })
    ));
}
