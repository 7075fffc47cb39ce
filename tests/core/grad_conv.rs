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

#[test]
fn conv2d_groups_dilation_and_per_side_padding() {
    use neurite::{Conv2dArgs, ConvPadding};
    let x = randt(&[2, 4, 6, 5], 81);
    let b = randt(&[6], 83);
    for (w, args) in [
        (
            randt(&[6, 2, 3, 2], 82),
            Conv2dArgs::default().groups(2).dilation((2, 1)).padding([2, 0, 1, 1]),
        ),
        (
            randt(&[6, 2, 2, 3], 84),
            Conv2dArgs::default()
                .groups(2)
                .stride((1, 2))
                .padding(ConvPadding::Valid),
        ),
        (
            randt(&[4, 1, 3, 3], 85),
            Conv2dArgs::default().groups(4).padding(ConvPadding::Same).dilation(2),
        ),
    ] {
        let b = b.narrow(0usize, 0, w.dims()[0]).unwrap().contiguous().unwrap();
        check(
            &[x.clone(), w, b],
            |t| {
                let y = t[0].conv2d_with(&t[1], Some(&t[2]), &args)?;
                y.mul(&randt(y.dims(), 86))?.sum_all()
            },
            1e-6,
        );
    }
}

#[test]
fn conv1d_and_conv_transpose2d() {
    use neurite::{Conv1dArgs, ConvTranspose2dArgs};
    let x = randt(&[2, 4, 9], 87);
    let w = randt(&[2, 2, 3], 88);
    let b = randt(&[2], 89);
    let args = Conv1dArgs::default().stride(2).padding(1).dilation(2).groups(2);
    check(
        &[x, w, b],
        |t| {
            let y = t[0].conv1d(&t[1], Some(&t[2]), &args)?;
            y.mul(&randt(y.dims(), 90))?.sum_all()
        },
        1e-6,
    );
    let x = randt(&[2, 4, 3, 4], 91);
    let w = randt(&[4, 1, 3, 2], 92);
    let b = randt(&[2], 93);
    for args in [
        ConvTranspose2dArgs::default()
            .stride(2)
            .padding(1)
            .output_padding(1)
            .groups(2),
        ConvTranspose2dArgs::default()
            .stride((3, 1))
            .output_padding((2, 0))
            .dilation((1, 2))
            .groups(2),
    ] {
        check(
            &[x.clone(), w.clone(), b.clone()],
            |t| {
                let y = t[0].conv_transpose2d(&t[1], Some(&t[2]), &args)?;
                y.mul(&randt(y.dims(), 94))?.sum_all()
            },
            1e-6,
        );
    }
}

#[test]
fn pooling_ceil_mode_dilation_and_divisors() {
    use neurite::{AvgPool2dArgs, MaxPool2dArgs};
    let x = randt(&[2, 2, 7, 6], 95);
    for args in [
        MaxPool2dArgs::new(3).stride(2).padding(1).ceil_mode(true),
        MaxPool2dArgs::new(2).stride((2, 1)).dilation((2, 3)).ceil_mode(true),
    ] {
        check(
            std::slice::from_ref(&x),
            |t| {
                let y = t[0].max_pool2d_with(&args)?;
                y.mul(&randt(y.dims(), 96))?.sum_all()
            },
            1e-6,
        );
    }
    for args in [
        AvgPool2dArgs::new(3)
            .stride(2)
            .padding(1)
            .ceil_mode(true)
            .count_include_pad(false),
        AvgPool2dArgs::new((2, 3)).stride(2).padding((1, 1)).ceil_mode(true),
        AvgPool2dArgs::new(2).stride(1).divisor_override(Some(5)),
    ] {
        check(
            std::slice::from_ref(&x),
            |t| {
                let y = t[0].avg_pool2d_with(&args)?;
                y.mul(&randt(y.dims(), 97))?.sum_all()
            },
            1e-6,
        );
    }
}

#[test]
fn max_unpool2d() {
    use neurite::MaxPool2dArgs;
    let x = randt(&[1, 2, 6, 5], 98);
    let (pooled, idx) = x.max_pool2d_with_indices(&MaxPool2dArgs::new(2)).unwrap();
    check(
        &[pooled],
        |t| {
            let y = t[0].max_unpool2d(&idx, 2, 2, 0, Some([6, 5]))?;
            y.mul(&randt(y.dims(), 99))?.sum_all()
        },
        1e-6,
    );
}
