//! Matrix products against finite differences.

use crate::gradcheck::{check, randt};

fn check_mm(a: &[usize], b: &[usize]) {
    let x = randt(a, 81);
    let y = randt(b, 82);
    check(
        &[x, y],
        |t| {
            let z = t[0].matmul(&t[1])?;
            z.mul(&randt(z.dims(), 83))?.sum_all()
        },
        1e-6,
    );
}

#[test]
fn two_d() {
    check_mm(&[3, 4], &[4, 5]);
    check_mm(&[1, 7], &[7, 1]);
}
#[test]
fn batched() {
    check_mm(&[2, 3, 4], &[2, 4, 5]);
}
#[test]
fn batched_lhs_with_matrix_rhs() {
    check_mm(&[2, 3, 4], &[4, 5]);
}
#[test]
fn matrix_lhs_with_batched_rhs() {
    check_mm(&[3, 4], &[2, 4, 5]);
}
#[test]
fn broadcast_batches() {
    check_mm(&[2, 1, 3, 4], &[3, 4, 2]);
}
#[test]
fn transposed_operand() {
    let x = randt(&[4, 3], 84);
    let y = randt(&[4, 5], 85);
    check(&[x, y], |t| t[0].t()?.matmul(&t[1])?.sqr()?.sum_all(), 1e-6);
}
