//! The `std::ops` operators: values for every operand pairing, broadcasting,
//! errors travelling through a chain, and gradients equal to the method form.

use crate::gradcheck::{check, randt};
use neurite::{DType, Device, Error, Result, Tensor};

fn t(v: Vec<f64>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape, &Device::cpu()).unwrap()
}

fn v(r: Result<Tensor>) -> Vec<f64> {
    r.unwrap().to_vec().unwrap()
}

#[test]
fn every_tensor_pairing_gives_the_method_value() {
    let a = t(vec![1., -2., 3.5], &[3]);
    let b = t(vec![4., 0.5, -1.], &[3]);
    let sum = vec![5., -1.5, 2.5];
    assert_eq!(v(&a + &b), sum);
    assert_eq!(v(a.clone() + &b), sum);
    assert_eq!(v(&a + b.clone()), sum);
    assert_eq!(v(a.clone() + b.clone()), sum);
    let diff = vec![-3., -2.5, 4.5];
    assert_eq!(v(&a - &b), diff);
    assert_eq!(v(a.clone() - b.clone()), diff);
    let prod = vec![4., -1., -3.5];
    assert_eq!(v(&a * &b), prod);
    assert_eq!(v(a.clone() * &b), prod);
    let quot = vec![0.25, -4., -3.5];
    assert_eq!(v(&a / &b), quot);
    assert_eq!(v(&a / b.clone()), quot);
    assert_eq!(v(-&a), vec![-1., 2., -3.5]);
    assert_eq!(v(-a.clone()), vec![-1., 2., -3.5]);
}

#[test]
fn result_operands_on_either_side() {
    let a = t(vec![1., 2.], &[2]);
    let b = t(vec![3., 4.], &[2]);
    let c = t(vec![10., 20.], &[2]);
    assert_eq!(v(&a * &b + &c), vec![13., 28.]);
    assert_eq!(v(&a * &b + c.clone()), vec![13., 28.]);
    assert_eq!(v(&c - (&a * &b)), vec![7., 12.]);
    assert_eq!(v(c.clone() - (&a * &b)), vec![7., 12.]);
    assert_eq!(v(&a * &b / &a - &b), vec![0., 0.]);
    assert_eq!(v(&c / (&a + &b)), vec![2.5, 20. / 6.]);
    // A result meets a scalar or another result after an inner `?`.
    assert_eq!(v((&a + &b).unwrap() * 2.0), vec![8., 12.]);
    assert_eq!(v(-((&a - &b).unwrap())), vec![2., 2.]);
}

#[test]
fn scalars_on_either_side() {
    let x = t(vec![1., 2., 4.], &[3]);
    assert_eq!(v(&x + 1.5), vec![2.5, 3.5, 5.5]);
    assert_eq!(v(x.clone() + 1.5f32), vec![2.5, 3.5, 5.5]);
    assert_eq!(v(1.5 + &x), vec![2.5, 3.5, 5.5]);
    assert_eq!(v(1.5 + x.clone()), vec![2.5, 3.5, 5.5]);
    assert_eq!(v(&x - 1.0), vec![0., 1., 3.]);
    assert_eq!(v(x.clone() - 1.0f32), vec![0., 1., 3.]);
    assert_eq!(v(1.0 - &x), vec![0., -1., -3.]);
    assert_eq!(v(1.0 - x.clone()), vec![0., -1., -3.]);
    assert_eq!(v(&x * 3.0), vec![3., 6., 12.]);
    assert_eq!(v(x.clone() * 3.0f32), vec![3., 6., 12.]);
    assert_eq!(v(2.0 * &x), vec![2., 4., 8.]);
    assert_eq!(v(2.0 * x.clone()), vec![2., 4., 8.]);
    assert_eq!(v(&x / 4.0), vec![0.25, 0.5, 1.]);
    assert_eq!(v(x.clone() / 4.0f32), vec![0.25, 0.5, 1.]);
    assert_eq!(v(1.0 / &x), vec![1., 0.5, 0.25]);
    assert_eq!(v(8.0 / x.clone()), vec![8., 4., 2.]);
    // Any element type on the right: an integer literal is an i64, an f32 variable works.
    assert_eq!(v(&x * 2), vec![2., 4., 8.]);
    let lr: f32 = 0.5;
    assert_eq!(v(&x * lr), vec![0.5, 1., 2.]);
    assert_eq!(v(f64::from(lr) * &x), vec![0.5, 1., 2.]);
    // Scalars never change the tensor's dtype.
    let y = Tensor::from_vec(vec![1f32, 2.], 2, &Device::cpu()).unwrap();
    let z = (2.0 * &y).unwrap();
    // A literal needs no annotation even when the result is used right away.
    assert_eq!((&y * 3.0).unwrap().sum_all().unwrap().item::<f32>().unwrap(), 9.0);
    assert_eq!((1.0 - &y).unwrap().sum_all().unwrap().item::<f32>().unwrap(), -1.0);
    assert_eq!(z.dtype(), DType::F32);
    assert_eq!(z.to_vec::<f32>().unwrap(), vec![2., 4.]);
}

#[test]
fn operators_broadcast_like_the_methods() {
    let m = t(vec![1., 2., 3., 4., 5., 6.], &[2, 3]);
    let row = t(vec![10., 20., 30.], &[3]);
    let col = t(vec![100., 200.], &[2, 1]);
    let y = (&m + &row).unwrap();
    assert_eq!(y.dims(), &[2, 3]);
    assert_eq!(y.to_vec::<f64>().unwrap(), vec![11., 22., 33., 14., 25., 36.]);
    let z = (&row * &col).unwrap();
    assert_eq!(z.dims(), &[2, 3]);
    assert_eq!(
        z.to_vec::<f64>().unwrap(),
        vec![1000., 2000., 3000., 2000., 4000., 6000.]
    );
    let expected: Vec<f64> = [
        (1., 100., 10.),
        (2., 100., 20.),
        (3., 100., 30.),
        (4., 200., 10.),
        (5., 200., 20.),
        (6., 200., 30.),
    ]
    .iter()
    .map(|(m, c, r)| m / c - r)
    .collect();
    assert_eq!(v(&m / &col - &row), expected);
}

#[test]
fn a_broadcast_error_propagates_through_a_chain() {
    let a = t(vec![1., 2., 3.], &[3]);
    let bad = t(vec![1., 2.], &[2]);
    let c = t(vec![1., 1., 1.], &[3]);
    // The failing op is first; the later ones only pass the error on.
    let err = (&a * &bad + &c - &a).unwrap_err();
    match err {
        Error::BroadcastIncompatible { op, lhs, rhs } => {
            assert_eq!(op, "mul");
            assert_eq!(lhs.dims(), &[3]);
            assert_eq!(rhs.dims(), &[2]);
        }
        other => panic!("expected a broadcast error, got {other}"),
    }
    // Also when the bad operand comes in on the right of a result.
    let err = (&c + (&a - &c) / &bad).unwrap_err();
    assert!(matches!(err, Error::BroadcastIncompatible { op: "div", .. }), "{err}");
    // And dtype errors: integer arithmetic is not supported.
    let ids = Tensor::from_vec(vec![1i64, 2], 2, &Device::cpu()).unwrap();
    assert!(matches!((&ids * 2.0).unwrap_err(), Error::UnsupportedDType { .. }));
}

#[test]
fn gradients_through_operators_equal_those_through_methods() {
    let a = randt(&[2, 3], 101).requires_grad();
    let b = randt(&[3], 102).requires_grad();
    let c = randt(&[2, 1], 103).affine(1.0, 3.0).unwrap().requires_grad();
    let by_ops = (|| -> Result<Tensor> {
        let p = ((2.0 * &a * &b - (&c / 1.5)?)? / &c)?;
        let q = ((1.0 - &b) * (-&a)?)?;
        let y = (&p + &q)?;
        (&y * &y)?.sum_all()
    })()
    .unwrap();
    let by_methods = a
        .mul_scalar(2.0)
        .unwrap()
        .mul(&b)
        .unwrap()
        .sub(&c.div_scalar(1.5).unwrap())
        .unwrap()
        .div(&c)
        .unwrap()
        .add(&b.affine(-1.0, 1.0).unwrap().mul(&a.neg().unwrap()).unwrap())
        .unwrap()
        .sqr()
        .unwrap()
        .sum_all()
        .unwrap();
    let (x, y) = (by_ops.item::<f64>().unwrap(), by_methods.item::<f64>().unwrap());
    assert!((x - y).abs() < 1e-12, "{x} vs {y}");
    let (g1, g2) = (by_ops.backward().unwrap(), by_methods.backward().unwrap());
    for p in [&a, &b, &c] {
        let (u, w) = (
            g1.get(p).unwrap().to_vec::<f64>().unwrap(),
            g2.get(p).unwrap().to_vec::<f64>().unwrap(),
        );
        assert_eq!(u.len(), p.elem_count());
        for (i, (p, q)) in u.iter().zip(&w).enumerate() {
            assert!((p - q).abs() < 1e-12, "entry {i}: {p} vs {q}");
        }
    }
}

#[test]
fn operator_gradients_match_finite_differences() {
    let a = randt(&[2, 3], 111);
    let b = randt(&[3], 112).affine(0.5, 2.0).unwrap();
    check(
        &[a, b],
        |t| {
            let (a, b) = (&t[0], &t[1]);
            let y = (((a * b)? - (3.0 * a)?)? + (1.0 / b)? - ((-a)? / 2.0f32)?)?;
            (&y * &y)?.sum_all()
        },
        1e-6,
    );
}

#[test]
fn item_reads_one_element_of_any_rank() {
    let dev = Device::cpu();
    assert_eq!(
        Tensor::scalar(2.5, DType::F32, &dev).unwrap().item::<f32>().unwrap(),
        2.5
    );
    let t3 = Tensor::full(-4.0, (1, 1, 1), DType::F64, &dev).unwrap();
    assert_eq!(t3.item::<f64>().unwrap(), -4.0);
    assert_eq!(t3.item::<f32>().unwrap(), -4.0);
    let id = Tensor::from_vec(vec![7i64], (1, 1), &dev).unwrap();
    assert_eq!(id.item::<i64>().unwrap(), 7);
    let h = Tensor::full(0.5, 1, DType::F16, &dev).unwrap();
    assert_eq!(h.item::<half::f16>().unwrap(), half::f16::from_f32(0.5));
    let err = Tensor::zeros((2, 3), DType::F32, &dev)
        .unwrap()
        .item::<f32>()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("item") && err.contains("[2, 3]") && err.contains("6 elements"),
        "{err}"
    );
    let empty = Tensor::zeros((0, 4), DType::F32, &dev)
        .unwrap()
        .item::<f32>()
        .unwrap_err()
        .to_string();
    assert!(empty.contains("[0, 4]") && empty.contains("0 elements"), "{empty}");
}
