//! Matrix products, convolution, pooling and im2col with arbitrary sizes,
//! strides and paddings.

use crate::util::*;
use neurite::{DType, Tensor};
use proptest::prelude::*;

/// The shape `torch.matmul` gives: a 1-D lhs is a row and a 1-D rhs a column,
/// whose unit dims are then dropped; 0-D operands have no product.
fn matmul_shape(a: &[usize], b: &[usize]) -> Option<Vec<usize>> {
    if a.is_empty() || b.is_empty() {
        return None;
    }
    let a2: Vec<usize> = if a.len() == 1 { vec![1, a[0]] } else { a.to_vec() };
    let b2: Vec<usize> = if b.len() == 1 { vec![b[0], 1] } else { b.to_vec() };
    if a2[a2.len() - 1] != b2[b2.len() - 2] {
        return None;
    }
    let mut out = broadcast(&a2[..a2.len() - 2], &b2[..b2.len() - 2])?;
    if a.len() > 1 {
        out.push(a2[a2.len() - 2]);
    }
    if b.len() > 1 {
        out.push(b2[b2.len() - 1]);
    }
    Some(out)
}

/// Two operands with a shared inner dim most of the time.
fn matmul_pair() -> BoxedStrategy<(Spec, Spec)> {
    (
        prop::collection::vec(small_dim(), 0..3),
        prop::collection::vec(small_dim(), 0..3),
        small_dim(),
        small_dim(),
        small_dim(),
        small_dim(),
        float_dtype(),
        0u8..4,
    )
        .prop_flat_map(|(ba, bb, m, k, n, k2, dt, mode)| {
            let mut a = ba.clone();
            a.extend([m, k]);
            let mut b = bb.clone();
            b.extend([if mode == 0 { k2 } else { k }, n]);
            // Sometimes a vector operand (a row for matmul).
            if mode == 1 {
                a = vec![k];
            }
            if count(&a) > MAX_ELEMS || count(&b) > MAX_ELEMS {
                a = vec![m, k];
                b = vec![k, n];
            }
            (tensor_with_dims(a, dt), tensor_with_dims(b, dt))
        })
        .boxed()
}

/// A spatial size argument: small or hostile.
fn size() -> BoxedStrategy<usize> {
    dim()
}

/// An `(N, C, H, W)` image of small sizes.
fn image() -> BoxedStrategy<Spec> {
    (small_dim(), small_dim(), 0usize..7, 0usize..7, float_dtype())
        .prop_flat_map(|(n, c, h, w, dt)| tensor_with_dims(vec![n, c, h, w], dt))
        .boxed()
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn matmul_any_shapes((sa, sb) in matmul_pair()) {
        let (a, b) = (sa.build(), sb.build());
        let r = no_panic((&sa.dims, &sb.dims), || a.matmul(&b))?;
        let want = matmul_shape(&sa.dims, &sb.dims);
        match r {
            Ok(y) => prop_assert_eq!(Some(y.dims().to_vec()), want),
            Err(e) => prop_assert!(want.is_none(), "{:?} @ {:?} failed: {}", sa.dims, sb.dims, e),
        }
    }

    #[test]
    fn matmul_wrong_dtypes(sa in tensor(3), sb in tensor(3)) {
        let (a, b) = (sa.build(), sb.build());
        let r = no_panic((&sa, &sb), || a.matmul(&b))?;
        if let Ok(y) = r {
            prop_assert_eq!(Some(y.dims().to_vec()), matmul_shape(&sa.dims, &sb.dims));
        }
    }

    #[test]
    fn conv2d_any_arguments(
        x in image(),
        o in small_dim(),
        kh in 0usize..4,
        kw in 0usize..4,
        stride in (size(), size()),
        padding in (size(), size()),
        with_bias in any::<bool>(),
        wrong_c in any::<bool>(),
    ) {
        let xt = x.build();
        let c = if wrong_c { x.dims[1] + 1 } else { x.dims[1] };
        let w = Tensor::ones([o, c, kh, kw], x.dtype, &cpu()).unwrap();
        let b = Tensor::ones([o], x.dtype, &cpu()).unwrap();
        let input = (&x.dims, [o, c, kh, kw], stride, padding, with_bias);
        let r = no_panic(input, || xt.conv2d(&w, with_bias.then_some(&b), stride, padding))?;
        if let Ok(y) = r {
            let out = |size: usize, k: usize, s: usize, p: usize| {
                ((size as u128 + 2 * p as u128 - k as u128) / s as u128 + 1) as usize
            };
            let d = &x.dims;
            prop_assert_eq!(
                y.dims(),
                &[d[0], o, out(d[2], kh, stride.0, padding.0), out(d[3], kw, stride.1, padding.1)][..]
            );
        }
    }

    #[test]
    fn pooling_any_window(x in image(), kernel in (size(), size()), stride in (size(), size()), padding in (size(), size())) {
        let xt = x.build();
        let input = (&x.dims, kernel, stride, padding);
        for (name, r) in [
            ("max_pool2d", no_panic(input, || xt.max_pool2d(kernel, stride, padding))?),
            ("avg_pool2d", no_panic(input, || xt.avg_pool2d(kernel, stride, padding))?),
        ] {
            if let Ok(y) = r {
                prop_assert_eq!(y.rank(), 4, "{}", name);
                prop_assert_eq!(&y.dims()[..2], &x.dims[..2], "{}", name);
            }
        }
    }

    #[test]
    fn im2col_any_window(x in image(), kernel in (size(), size()), stride in (size(), size()), padding in (size(), size()), pad in scalar()) {
        // An output of a few GiB is a valid request the library must honour;
        // only ask for outputs that are small or far beyond any machine's memory.
        let out = im2col_count(&x.dims, kernel, stride, padding);
        prop_assume!(out <= MAX_ELEMS || out > HUGE_ELEMS);
        let xt = x.build();
        let r = no_panic((&x.dims, kernel, stride, padding), || xt.im2col(kernel, stride, padding, pad))?;
        if let Ok(y) = r {
            prop_assert_eq!(y.rank(), 3);
            prop_assert_eq!(y.dims()[0], x.dims[0]);
            prop_assert_eq!(y.dims()[1] as u128, count(&[x.dims[1], kernel.0, kernel.1]));
        }
    }

    #[test]
    fn conv_and_pool_wrong_ranks(spec in tensor(5), w in tensor(5)) {
        let (x, wt) = (spec.build(), w.build());
        let _ = no_panic((&spec, &w), || x.conv2d(&wt, None, (1, 1), (0, 0)))?;
        let _ = no_panic(&spec, || x.max_pool2d((2, 2), (2, 2), (0, 0)))?;
        let _ = no_panic(&spec, || x.avg_pool2d((1, 1), (1, 1), (0, 0)))?;
        let _ = no_panic(&spec, || x.im2col((1, 1), (1, 1), (0, 0), 0.0))?;
    }
}

/// The element count im2col's output would have (0 when the window does not fit).
fn im2col_count(dims: &[usize], k: (usize, usize), s: (usize, usize), p: (usize, usize)) -> u128 {
    let out = |len: usize, k: usize, s: usize, p: usize| -> u128 {
        let padded = len as u128 + 2 * p as u128;
        if k == 0 || s == 0 || padded < k as u128 {
            0
        } else {
            (padded - k as u128) / s as u128 + 1
        }
    };
    let (n, c, h, w) = (dims[0] as u128, dims[1] as u128, dims[2], dims[3]);
    [
        c,
        k.0 as u128,
        k.1 as u128,
        out(h, k.0, s.0, p.0),
        out(w, k.1, s.1, p.1),
    ]
    .iter()
    .fold(n, |acc, &f| acc.saturating_mul(f))
}

fn randn(dims: &[usize]) -> Tensor {
    Tensor::randn(dims, DType::F32, &cpu()).unwrap()
}

#[test]
fn matmul_with_empty_batches_gives_empty_results() {
    // PyTorch: each of these is a zeros-shaped [0, 2, 4] result.
    for (a, b) in [
        (vec![1, 2, 3], vec![0, 3, 4]),
        (vec![0, 2, 3], vec![1, 3, 4]),
        (vec![2, 3], vec![0, 3, 4]),
    ] {
        let (x, y) = (randn(&a), randn(&b));
        let r = must_not_panic((&a, &b), || x.matmul(&y));
        let z = r.unwrap_or_else(|e| panic!("{a:?} @ {b:?}: {e}"));
        assert_eq!(z.dims(), &[0, 2, 4], "{a:?} @ {b:?}");
    }
}

#[test]
fn conv2d_on_an_empty_batch_gives_an_empty_batch() {
    let x = randn(&[0, 3, 8, 8]);
    let w = randn(&[4, 3, 3, 3]);
    let b = randn(&[4]);
    let y = must_not_panic("conv2d batch 0", || x.conv2d(&w, Some(&b), (1, 1), (1, 1))).unwrap();
    assert_eq!(y.dims(), &[0, 4, 8, 8]);
    let conv = neurite::nn::Conv2d::new(3, 4, 3).with_padding(1);
    let y = must_not_panic("Conv2d::forward batch 0", || neurite::nn::Forward::forward(&conv, &x)).unwrap();
    assert_eq!(y.dims(), &[0, 4, 8, 8]);
}

#[test]
fn conv_padding_two_to_the_31_is_an_error() {
    let x = randn(&[1, 1, 4, 4]);
    let w = randn(&[1, 1, 3, 3]);
    let r = must_not_panic("conv2d padding 2^31", || x.conv2d(&w, None, (1, 1), (1 << 31, 1 << 31)));
    assert!(r.is_err(), "got {r:?}");
    let conv = neurite::nn::Conv2d::new(1, 1, 3).with_padding(1usize << 31);
    let r = must_not_panic("Conv2d padding 2^31", || neurite::nn::Forward::forward(&conv, &x));
    assert!(r.is_err(), "got {r:?}");
}
