//! Convolution and pooling against finite differences.

use crate::gradcheck::{check, randt};

#[test]
fn conv2d_with_stride_padding_and_bias() {
    let x = randt(&[2, 3, 6, 5], 71);
    let w = randt(&[4, 3, 3, 2], 72);
    let b = randt(&[4], 73);
    for (stride, padding) in [((1, 1), (0, 0)), ((2, 1), (1, 1)), ((2, 2), (1, 0))] {
        check(
            &[x.clone(), w.clone(), b.clone()],
            |t| {
                let y = t[0].conv2d(&t[1], Some(&t[2]), stride, padding)?;
                y.mul(&randt(y.dims(), 74))?.sum_all()
            },
            1e-6,
        );
    }
}

#[test]
fn pooling() {
    let x = randt(&[2, 2, 5, 6], 75);
    for (k, s, p) in [
        ((2, 2), (2, 2), (0, 0)),
        ((3, 3), (2, 2), (1, 1)),
        ((2, 3), (1, 2), (0, 1)),
    ] {
        check(
            std::slice::from_ref(&x),
            |t| {
                let y = t[0].max_pool2d(k, s, p)?;
                y.mul(&randt(y.dims(), 76))?.sum_all()
            },
            1e-6,
        );
        check(
            std::slice::from_ref(&x),
            |t| {
                let y = t[0].avg_pool2d(k, s, p)?;
                y.mul(&randt(y.dims(), 77))?.sum_all()
            },
            1e-6,
        );
    }
}

#[test]
fn im2col() {
    let x = randt(&[1, 2, 4, 4], 78);
    check(
        &[x],
        |t| {
            let y = t[0].im2col((2, 2), (1, 2), (1, 0), 0.0)?;
            y.mul(&randt(y.dims(), 79))?.sum_all()
        },
        1e-6,
    );
}
