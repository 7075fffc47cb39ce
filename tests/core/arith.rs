//! `std::ops` on tensors: values, broadcasting, errors through chains, and
//! gradients equal to those of the named methods.

use neurite::{DType, Device, Tensor};

fn t(v: &[f64], shape: &[usize]) -> Tensor {
    Tensor::from_vec(v.to_vec(), shape.to_vec(), &Device::cpu()).unwrap()
}

#[test]
fn operators_compute_the_methods_values_with_broadcasting() {
    let a = t(&[1., 2., 3., 4., 5., 6.], &[2, 3]);
    let b = t(&[10., 20., 30.], &[3]);
    assert_eq!(
        (&a + &b).unwrap().to_vec::<f64>().unwrap(),
        vec![11., 22., 33., 14., 25., 36.]
    );
    assert_eq!(
        (&a - &b).unwrap().to_vec::<f64>().unwrap(),
        vec![-9., -18., -27., -6., -15., -24.]
    );
    assert_eq!(
        (&a * &b).unwrap().to_vec::<f64>().unwrap(),
        vec![10., 40., 90., 40., 100., 180.]
    );
    assert_eq!(
        (&b / &a).unwrap().to_vec::<f64>().unwrap(),
        vec![10., 10., 10., 2.5, 4., 5.]
    );
    assert_eq!(
        (&a * 2.0).unwrap().to_vec::<f64>().unwrap(),
        vec![2., 4., 6., 8., 10., 12.]
    );
    assert_eq!((10.0 - &b).unwrap().to_vec::<f64>().unwrap(), vec![0., -10., -20.]);
    assert_eq!((60.0 / &b).unwrap().to_vec::<f64>().unwrap(), vec![6., 3., 2.]);
    assert_eq!((&b + 1.0).unwrap().to_vec::<f64>().unwrap(), vec![11., 21., 31.]);
    assert_eq!((2.0 * &b).unwrap().to_vec::<f64>().unwrap(), vec![20., 40., 60.]);
    assert_eq!((-&b).unwrap().to_vec::<f64>().unwrap(), vec![-10., -20., -30.]);
    assert_eq!((&b - 5.0).unwrap().to_vec::<f64>().unwrap(), vec![5., 15., 25.]);
    assert_eq!((&b / 10.0).unwrap().to_vec::<f64>().unwrap(), vec![1., 2., 3.]);
    // Owned operands and Result operands chain with one `?` at the end.
    let c = (a.clone() + b.clone()).unwrap();
    let chained = (&a * &b + &c).unwrap();
    let by_methods = a.mul(&b).unwrap().add(&c).unwrap();
    assert_eq!(chained.to_vec::<f64>().unwrap(), by_methods.to_vec::<f64>().unwrap());
    let nested = (&a + (&b * &b)).unwrap();
    assert_eq!(nested.to_vec::<f64>().unwrap()[0], 101.);
}

#[test]
fn a_broadcast_error_passes_through_a_chain() {
    let a = t(&[1., 2., 3.], &[3]);
    let bad = t(&[1., 2.], &[2]);
    let err = ((&a + &bad) * &a).unwrap_err().to_string();
    assert!(err.contains("[3]") && err.contains("[2]"), "{err}");
    assert!((&a - (&bad + &bad)).is_err());
    let int = Tensor::zeros(3, DType::I64, &Device::cpu()).unwrap();
    assert!((&a * &int).is_err(), "dtype mismatches are errors too");
}

#[test]
fn gradients_through_operators_equal_those_through_methods() {
    let x = t(&[0.5, -1.5, 2.0], &[3]).requires_grad();
    let w = t(&[2.0, 3.0, -1.0], &[3]).requires_grad();
    let by_ops = (|| -> neurite::Result<Tensor> { (((&x * &w - &x)? / 2.0)? + (1.0 / &w)?)?.sum_all() })().unwrap();
    let g1 = by_ops.backward().unwrap();
    let by_methods = x
        .mul(&w)
        .unwrap()
        .sub(&x)
        .unwrap()
        .div_scalar(2.0)
        .unwrap()
        .add(&w.recip().unwrap())
        .unwrap()
        .sum_all()
        .unwrap();
    let g2 = by_methods.backward().unwrap();
    for p in [&x, &w] {
        assert_eq!(
            g1.get(p).unwrap().to_vec::<f64>().unwrap(),
            g2.get(p).unwrap().to_vec::<f64>().unwrap()
        );
    }
    // d/dw (x*w/2 + 1/w) = x/2 - 1/w^2
    let gw = g1.get(&w).unwrap().to_vec::<f64>().unwrap();
    assert!((gw[0] - (0.25 - 0.25)).abs() < 1e-12 && (gw[1] - (-0.75 - 1.0 / 9.0)).abs() < 1e-12);
}

#[test]
fn item_reads_one_element_of_any_rank() {
    assert_eq!(t(&[4.5], &[1, 1, 1]).item::<f64>().unwrap(), 4.5);
    assert_eq!(
        Tensor::scalar(2.0, DType::F32, &Device::cpu())
            .unwrap()
            .item::<f32>()
            .unwrap(),
        2.0
    );
    let err = t(&[1., 2.], &[2]).item::<f64>().unwrap_err().to_string();
    assert!(err.contains("item") && err.contains("[2]"), "{err}");
}
