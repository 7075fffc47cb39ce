//! The element-wise ops of issue 13 (erf, sin, cos, silu, tanh GELU, pow,
//! clamp bounds), multi-dim extrema and matmul with vectors, against finite
//! differences; and the values their backward rules give where finite
//! differences cannot look (ties, kinks, zero bases).

use crate::gradcheck::{check, randt};
use neurite::{Device, Result, Tensor};

fn check_map(f: impl Fn(&Tensor) -> Result<Tensor>) {
    // Spread over [-3, 3) so that the tails of erf, silu and GELU are covered.
    let x = randt(&[3, 4], 91).affine(3.0, 0.0).unwrap();
    let w = randt(&[3, 4], 92);
    check(&[x], |t| f(&t[0])?.mul(&w)?.sum_all(), 1e-6);
}

fn vec1(v: Vec<f64>) -> Tensor {
    let n = v.len();
    Tensor::from_vec(v, n, &Device::cpu()).unwrap()
}

#[test]
fn erf() {
    check_map(|x| x.erf());
}
#[test]
fn sin() {
    check_map(|x| x.sin());
}
#[test]
fn cos() {
    check_map(|x| x.cos());
}
#[test]
fn silu() {
    check_map(|x| x.silu());
}
#[test]
fn gelu_tanh() {
    check_map(|x| x.gelu_tanh());
    check_map(|x| x.gelu_approximate("tanh"));
    check_map(|x| x.gelu_approximate("none"));
}
#[test]
fn clamp_one_sided() {
    check_map(|x| x.clamp_min(-0.5));
    check_map(|x| x.clamp_max(0.7));
}

#[test]
fn pow_tensor_tensor() {
    // Positive bases: d/d exponent needs ln(base).
    let a = randt(&[3, 4], 93).abs().unwrap().add_scalar(0.3).unwrap();
    let b = randt(&[3, 4], 94).affine(2.0, 0.0).unwrap();
    let w = randt(&[3, 4], 95);
    check(&[a, b], |t| t[0].pow(&t[1])?.mul(&w)?.sum_all(), 1e-6);
}

#[test]
fn pow_broadcasts_both_ways() {
    let a = randt(&[3, 1], 96).abs().unwrap().add_scalar(0.5).unwrap();
    let b = randt(&[4], 97);
    let w = randt(&[3, 4], 98);
    check(&[a, b], |t| t[0].pow(&t[1])?.mul(&w)?.sum_all(), 1e-6);
}

#[test]
fn pow_scalar_exponent() {
    let a = randt(&[3, 4], 99).abs().unwrap().add_scalar(0.2).unwrap();
    let w = randt(&[3, 4], 100);
    check(std::slice::from_ref(&a), |t| t[0].pow(2.5)?.mul(&w)?.sum_all(), 1e-6);
    check(
        std::slice::from_ref(&a),
        |t| t[0].pow(-1.5f32)?.mul(&w)?.sum_all(),
        1e-6,
    );
    check(&[a], |t| t[0].pow(3)?.mul(&w)?.sum_all(), 1e-6);
}

#[test]
fn pow_gradient_at_zero_base_and_zero_exponent() {
    // PyTorch: d/da is 0 where b == 0; d/db is 0 where a == 0 and b >= 0.
    let a = vec1(vec![0.0, 0.0, 0.0, 2.0, -2.0]).requires_grad();
    let b = vec1(vec![0.0, 2.0, -1.0, 0.0, 2.0]).requires_grad();
    let y = a.pow(&b).unwrap();
    assert_eq!(y.to_vec::<f64>().unwrap(), vec![1.0, 0.0, f64::INFINITY, 1.0, 4.0]);
    let g = y.sum_all().unwrap().backward().unwrap();
    let ga = g.get(&a).unwrap().to_vec::<f64>().unwrap();
    let gb = g.get(&b).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(ga[..2], [0.0, 0.0]);
    assert_eq!(ga[2], f64::NEG_INFINITY);
    assert_eq!(ga[3..], [0.0, -4.0]);
    assert_eq!(gb[..2], [0.0, 0.0]);
    // 0^-1 * ln 0 = inf * -inf; a negative base has no real logarithm.
    assert_eq!(gb[2], f64::NEG_INFINITY);
    assert!((gb[3] - 2f64.ln()).abs() < 1e-15);
    assert!(gb[4].is_nan());
    // A scalar exponent of 0 has gradient 0 even at a zero base.
    let z = vec1(vec![0.0, 3.0]).requires_grad();
    let g = z.pow(0.0).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(g.get(&z).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 0.0]);
}

#[test]
fn clamp_min_above_max_gives_max_and_zero_gradient() {
    let x = vec1(vec![-3.0, 0.0, 0.5, 4.0]).requires_grad();
    let y = x.clamp(2.0, 1.0).unwrap();
    assert_eq!(y.to_vec::<f64>().unwrap(), vec![1.0; 4]);
    let g = y.sum_all().unwrap().backward().unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec::<f64>().unwrap(), vec![0.0; 4]);
    // Inside [min, max], bounds included, the gradient is 1.
    let g = x.clamp(0.0, 0.5).unwrap().sum_all().unwrap().backward().unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec::<f64>().unwrap(), vec![0.0, 1.0, 1.0, 0.0]);
}

fn check_reduce(f: impl Fn(&Tensor) -> Result<Tensor>) {
    let x = randt(&[2, 3, 4], 101);
    check(
        &[x],
        |t| {
            let y = f(&t[0])?;
            y.mul(&randt(y.dims(), 102))?.sum_all()
        },
        1e-6,
    );
}

#[test]
fn multi_dim_extrema() {
    check_reduce(|x| x.max_dims(&[0i64, 2], false));
    check_reduce(|x| x.max_dims(&[-1i64, -3], true));
    check_reduce(|x| x.min_dims(&[1usize, 2], false));
    check_reduce(|x| x.min_dims(&[2usize], true));
    let empty: [i64; 0] = [];
    check_reduce(|x| x.max_dims(&empty, false));
}

#[test]
fn multi_dim_sums() {
    check_reduce(|x| x.sum_dims(&[-1i64, 0], true));
    check_reduce(|x| x.mean_dims(&[2i64, 0], false));
}

#[test]
fn extremum_ties_share_the_gradient_evenly() {
    // As torch.amax: three tied maxima get a third each.
    let x = Tensor::from_vec(vec![1.0, 3.0, 3.0, 0.0, 3.0, 2.0], (2, 3), &Device::cpu())
        .unwrap()
        .requires_grad();
    let y = x.max_dims(&[0i64, 1], true).unwrap();
    assert_eq!(y.dims(), &[1, 1]);
    let g = y.sum_all().unwrap().backward().unwrap();
    let third = 1.0 / 3.0;
    assert_eq!(
        g.get(&x).unwrap().to_vec::<f64>().unwrap(),
        vec![0.0, third, third, 0.0, third, 0.0]
    );
    let g = x
        .min_dims(&[1i64], false)
        .unwrap()
        .sum_all()
        .unwrap()
        .backward()
        .unwrap();
    assert_eq!(
        g.get(&x).unwrap().to_vec::<f64>().unwrap(),
        vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    );
}

fn check_mm(a: &[usize], b: &[usize], want: &[usize]) {
    let x = randt(a, 103);
    let y = randt(b, 104);
    assert_eq!(x.matmul(&y).unwrap().dims(), want, "{a:?} @ {b:?}");
    check(
        &[x, y],
        |t| {
            let z = t[0].matmul(&t[1])?;
            z.mul(&randt(z.dims(), 105))?.sum_all()
        },
        1e-6,
    );
}

#[test]
fn matmul_with_vectors() {
    check_mm(&[4], &[4], &[]);
    check_mm(&[4], &[4, 3], &[3]);
    check_mm(&[3, 4], &[4], &[3]);
    check_mm(&[2, 3, 4], &[4], &[2, 3]);
    check_mm(&[4], &[2, 4, 3], &[2, 3]);
    check_mm(&[2, 1, 3, 4], &[4], &[2, 1, 3]);
    check_mm(&[4], &[2, 3, 4, 5], &[2, 3, 5]);
}

#[test]
fn matmul_broadcasts_batch_dims() {
    check_mm(&[2, 1, 3, 4], &[5, 4, 2], &[2, 5, 3, 2]);
    check_mm(&[3, 4], &[2, 4, 5], &[2, 3, 5]);
}
