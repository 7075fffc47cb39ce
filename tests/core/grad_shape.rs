//! Shape ops against finite differences.

use crate::gradcheck::{check, randt};
use neurite::{Result, Tensor};

fn check_shape(f: impl Fn(&Tensor) -> Result<Tensor>) {
    let x = randt(&[2, 3, 4], 51);
    check(
        &[x],
        |t| {
            let y = f(&t[0])?;
            let w = randt(y.dims(), 52);
            y.mul(&w)?.sum_all()
        },
        1e-6,
    );
}

#[test]
fn reshape_flatten_squeeze() {
    check_shape(|x| x.reshape([6, 4]));
    check_shape(|x| x.flatten(1usize, 2));
    check_shape(|x| x.flatten_all());
    check_shape(|x| x.unsqueeze(1)?.squeeze(1usize));
}
#[test]
fn permute_and_transpose() {
    check_shape(|x| x.permute(&[2usize, 0, 1]));
    check_shape(|x| x.transpose(0usize, 2));
    check_shape(|x| x.t());
}
#[test]
fn broadcast_as() {
    check_shape(|x| x.narrow(1usize, 0, 1)?.broadcast_as([5, 2, 3, 4]));
}
#[test]
fn narrow_and_split() {
    check_shape(|x| x.narrow(2usize, 1, 2));
    check_shape(|x| x.narrow(0usize, 1, 1));
    check_shape(|x| Tensor::cat(&x.split(3, 2usize)?.into_iter().rev().collect::<Vec<_>>(), 2usize));
}
#[test]
fn cat_and_stack() {
    let a = randt(&[2, 3], 53);
    let b = randt(&[2, 5], 54);
    check(
        &[a.clone(), b],
        |t| {
            Tensor::cat(&[t[0].clone(), t[1].clone(), t[0].clone()], 1usize)?
                .sqr()?
                .sum_all()
        },
        1e-6,
    );
    let c = randt(&[2, 3], 55);
    check(
        &[a, c],
        |t| {
            Tensor::stack(&[t[0].clone(), t[1].clone()], 1)?
                .mul(&randt(&[2, 2, 3], 56))?
                .sum_all()
        },
        1e-6,
    );
}
