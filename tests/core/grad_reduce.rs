//! Reductions and softmax against finite differences.

use crate::gradcheck::{check, randt};
use neurite::{Result, Tensor};

fn check_reduce(f: impl Fn(&Tensor) -> Result<Tensor>) {
    let x = randt(&[2, 3, 4], 41);
    check(
        &[x],
        |t| {
            let y = f(&t[0])?;
            // A fixed random weighting of the outputs.
            let w = randt(y.dims(), 42);
            y.mul(&w)?.sum_all()
        },
        1e-6,
    );
}

#[test]
fn sum() {
    check_reduce(|x| x.sum_dims(&[0usize, 2], false));
    check_reduce(|x| x.sum_dims(&[1i64, 2], true));
    check_reduce(|x| x.sum_dim(-1i64, false));
    check_reduce(|x| x.sum_all());
}
#[test]
fn mean() {
    check_reduce(|x| x.mean_dims(&[0usize, 1], false));
    check_reduce(|x| x.mean_dim(1usize, true));
    check_reduce(|x| x.mean_all());
}
#[test]
fn var() {
    check_reduce(|x| x.var_dims(&[0usize, 2], false, true));
    check_reduce(|x| x.var_dim(1usize, true, false));
}
#[test]
fn max_and_min() {
    check_reduce(|x| x.max_dim(1usize, false));
    check_reduce(|x| x.min_dim(-1i64, true));
    check_reduce(|x| x.max_all());
    check_reduce(|x| x.min_all());
}
#[test]
fn softmax_family() {
    check_reduce(|x| x.softmax(1usize));
    check_reduce(|x| x.softmax(-1i64));
    check_reduce(|x| x.log_softmax(0usize));
    check_reduce(|x| x.log_softmax(2usize));
    check_reduce(|x| x.logsumexp(1usize, false));
}
