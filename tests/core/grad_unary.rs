//! Every element-wise map's backward rule against finite differences.

use crate::gradcheck::{check, randt};
use neurite::{Result, Tensor};

fn check_unary(f: impl Fn(&Tensor) -> Result<Tensor>, positive: bool) {
    let x = randt(&[3, 4], 11);
    let x = if positive {
        x.abs().unwrap().add_scalar(0.5).unwrap()
    } else {
        x
    };
    // Weighting by a fixed tensor makes every output element matter differently.
    let w = randt(&[3, 4], 12);
    check(&[x], |t| f(&t[0])?.mul(&w)?.sum_all(), 1e-6);
}

#[test]
fn neg() {
    check_unary(|x| x.neg(), false);
}
#[test]
fn exp() {
    check_unary(|x| x.exp(), false);
}
#[test]
fn log() {
    check_unary(|x| x.log(), true);
}
#[test]
fn sqrt() {
    check_unary(|x| x.sqrt(), true);
}
#[test]
fn abs() {
    check_unary(|x| x.abs(), false);
}
#[test]
fn recip() {
    check_unary(|x| x.recip(), true);
}
#[test]
fn sqr() {
    check_unary(|x| x.sqr(), false);
}
#[test]
fn relu() {
    check_unary(|x| x.relu(), false);
}
#[test]
fn leaky_relu() {
    check_unary(|x| x.leaky_relu(0.1), false);
}
#[test]
fn sigmoid() {
    check_unary(|x| x.sigmoid(), false);
}
#[test]
fn tanh() {
    check_unary(|x| x.tanh(), false);
}
#[test]
fn gelu() {
    check_unary(|x| x.gelu(), false);
}
#[test]
fn affine_and_scalar_ops() {
    check_unary(
        |x| {
            x.affine(-2.5, 0.3)?
                .add_scalar(1.0)?
                .sub_scalar(0.5)?
                .mul_scalar(3.0)?
                .div_scalar(4.0)
        },
        false,
    );
}
#[test]
fn powf() {
    check_unary(|x| x.powf(2.7), true);
    check_unary(|x| x.powf(-1.5), true);
}
#[test]
fn clamp() {
    check_unary(|x| x.clamp(-0.4, 0.3), false);
}
#[test]
fn to_dtype_round_trip() {
    // Finite differences through an f32 leg are swamped by rounding; the exact
    // answer is known instead: the upstream gradient, rounded to f32.
    let x = randt(&[3, 4], 11).requires_grad();
    let w = randt(&[3, 4], 12);
    let y = x
        .to_dtype(neurite::DType::F32)
        .unwrap()
        .to_dtype(neurite::DType::F64)
        .unwrap();
    let g = y.mul(&w).unwrap().sum_all().unwrap().backward().unwrap();
    let want = w.to_dtype(neurite::DType::F32).unwrap().to_vec::<f64>().unwrap();
    assert_eq!(g.get(&x).unwrap().to_vec::<f64>().unwrap(), want);
}
