//! Broadcasting binary ops and `where_cond` against finite differences.

use crate::gradcheck::{check, randt};
use neurite::{Result, Tensor};

fn check_binary(f: impl Fn(&Tensor, &Tensor) -> Result<Tensor>, a: &[usize], b: &[usize], positive_rhs: bool) {
    let x = randt(a, 21);
    let y = randt(b, 22);
    let y = if positive_rhs {
        y.abs().unwrap().add_scalar(0.5).unwrap()
    } else {
        y
    };
    let out_shape = x.shape().broadcast_with(y.shape(), "test").unwrap();
    let w = randt(out_shape.dims(), 23);
    check(&[x, y], |t| f(&t[0], &t[1])?.mul(&w)?.sum_all(), 1e-6);
}

const SHAPES: &[(&[usize], &[usize])] = &[
    (&[3, 4], &[3, 4]),
    (&[3, 4], &[4]),
    (&[3, 1], &[1, 4]),
    (&[2, 3, 4], &[3, 1]),
    (&[4], &[2, 3, 4]),
    (&[2, 3], &[]),
];

#[test]
fn add() {
    for (a, b) in SHAPES {
        check_binary(|x, y| x.add(y), a, b, false);
    }
}
#[test]
fn sub() {
    for (a, b) in SHAPES {
        check_binary(|x, y| x.sub(y), a, b, false);
    }
}
#[test]
fn mul() {
    for (a, b) in SHAPES {
        check_binary(|x, y| x.mul(y), a, b, false);
    }
}
#[test]
fn div() {
    for (a, b) in SHAPES {
        check_binary(|x, y| x.div(y), a, b, true);
    }
}
#[test]
fn maximum_and_minimum() {
    for (a, b) in SHAPES {
        check_binary(|x, y| x.maximum(y), a, b, false);
        check_binary(|x, y| x.minimum(y), a, b, false);
    }
}
#[test]
fn where_cond() {
    let cond = randt(&[3, 4], 30).gt_scalar(0.0).unwrap();
    check_binary(move |x, y| cond.where_cond(x, y), &[3, 4], &[4], false);
}
#[test]
fn same_tensor_used_twice_accumulates() {
    check_binary(|x, _| x.mul(x)?.add(x), &[3, 4], &[4], false);
}
