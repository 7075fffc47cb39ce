//! Index ops against finite differences.

use crate::gradcheck::{check, randt};
use neurite::{Device, Tensor};

fn ids(v: Vec<i64>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape, &Device::cpu()).unwrap()
}

#[test]
fn index_select_with_repeats() {
    let x = randt(&[4, 3], 61);
    let i = ids(vec![3, 0, 3, 1], &[4]);
    check(
        std::slice::from_ref(&x),
        |t| t[0].index_select(0usize, &i)?.mul(&randt(&[4, 3], 62))?.sum_all(),
        1e-6,
    );
    let j = ids(vec![2, 2, 0], &[3]);
    check(
        &[x],
        |t| t[0].index_select(1usize, &j)?.mul(&randt(&[4, 3], 63))?.sum_all(),
        1e-6,
    );
}

#[test]
fn gather_and_scatter_add() {
    let x = randt(&[3, 4], 64);
    let i = ids(vec![0, 3, 3, 1, 2, 2], &[3, 2]);
    check(
        std::slice::from_ref(&x),
        |t| t[0].gather(1usize, &i)?.mul(&randt(&[3, 2], 65))?.sum_all(),
        1e-6,
    );
    let src = randt(&[3, 2], 66);
    check(
        &[src],
        |t| {
            t[0].scatter_add_into(1usize, &i, [3, 4])?
                .mul(&randt(&[3, 4], 67))?
                .sum_all()
        },
        1e-6,
    );
}
