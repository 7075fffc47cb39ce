//! Every layer's constructors (with hostile sizes and hyperparameters) and
//! forward passes (with inputs of any shape and dtype).

use crate::util::*;
use neurite::nn::{
    AvgPool2d, BatchNorm1d, BatchNorm2d, Conv2d, Dropout, Embedding, Flatten, Forward, GELU, LayerNorm, LeakyReLU,
    Linear, LogSoftmax, MaxPool2d, Module, Normalization, ReLU, Sequential, Sigmoid, Softmax, Tanh,
};
use neurite::{DType, Tensor};
use proptest::prelude::*;

/// A constructor's result for parameters of `n` elements and span `s`
/// ([`span`]): only small ones may be built, and only huge ones refused (a
/// zero-element parameter with a large span may go either way).
fn check_built<T>(what: &str, n: u128, s: u128, r: &neurite::Result<T>) -> Result<(), TestCaseError> {
    match r {
        Ok(_) => prop_assert!(n <= MAX_ELEMS, "{} with {} parameters was built", what, n),
        Err(e) => prop_assert!(s > MAX_ELEMS, "{} with {} parameters failed: {}", what, n, e),
    }
    Ok(())
}

/// Forward of `layer` on `x` must not panic; returns the result.
fn forward(layer: &dyn Forward, spec: &Spec, x: &Tensor) -> Result<neurite::Result<Tensor>, TestCaseError> {
    no_panic((layer.name(), spec), || layer.forward(x))
}

/// A probability-like hyperparameter: valid, just outside, or absurd.
fn prob() -> BoxedStrategy<f64> {
    prop_oneof![
        3 => 0.0f64..=1.0,
        1 => prop::sample::select(vec![-0.1, 1.1, f64::NAN, f64::INFINITY, -f64::INFINITY, 0.0, 1.0]),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(96))]

    #[test]
    fn linear_any_sizes(d in sizes(2), bias in any::<bool>(), spec in float_tensor(3)) {
        let (in_f, out_f) = (d[0], d[1]);
        // The bias has out_features elements even when the weight has none; it
        // is drawn (so that a seed gives new's weights) even when dropped.
        let n = count(&d).max(out_f as u128);
        let s = span(&d).max(out_f as u128);
        let built = no_panic((in_f, out_f, bias), || Linear::try_new(in_f, out_f, bias))?;
        check_built("Linear::try_new", n, s, &built)?;
        let layer = no_panic((in_f, out_f), || Linear::new(in_f, out_f))?;
        check_built("Linear::new", n, s, &layer.validate())?;
        if let Ok(l) = &built {
            prop_assert_eq!((l.in_features(), l.out_features()), (in_f, out_f));
            prop_assert_eq!(l.num_parameters(), in_f * out_f + if bias { out_f } else { 0 });
        }
        let x = spec.build();
        if let Ok(y) = forward(&layer, &spec, &x)? {
            prop_assert_eq!(y.dims().last().copied(), Some(out_f));
            prop_assert_eq!(&y.dims()[..y.rank() - 1], &x.dims()[..x.rank() - 1]);
        }
    }

    #[test]
    fn conv2d_any_sizes(d in sizes(4), stride in (dim(), dim()), padding in (dim(), dim()), bias in any::<bool>(), x in float_tensor(4)) {
        let (o, c, kh, kw) = (d[0], d[1], d[2], d[3]);
        let n = count(&d).max(o as u128);
        let s = span(&d).max(o as u128);
        let input = (o, c, (kh, kw), stride, padding, bias);
        let built = no_panic(input, || Conv2d::try_new(c, o, (kh, kw), stride, padding, bias))?;
        if let Ok(l) = &built {
            prop_assert!(n <= MAX_ELEMS && kh > 0 && kw > 0 && stride.0 > 0 && stride.1 > 0);
            prop_assert_eq!((l.in_channels(), l.out_channels(), l.kernel_size()), (c, o, [kh, kw]));
        } else {
            prop_assert!(s > MAX_ELEMS || kh == 0 || kw == 0 || stride.0 == 0 || stride.1 == 0, "{:?} failed", input);
        }
        let layer = no_panic(input, || Conv2d::new(c, o, (kh, kw)).with_stride(stride).with_padding(padding).with_bias(bias))?;
        let xt = x.build();
        if let Ok(y) = forward(&layer, &x, &xt)? {
            prop_assert_eq!(y.rank(), xt.rank());
            prop_assert_eq!(y.dims()[y.rank() - 3], o);
        }
    }

    #[test]
    fn embedding_any_sizes(d in sizes(2), ids_in in ids(vec![3])) {
        let (n, s) = (count(&d), span(&d));
        let built = no_panic(&d, || Embedding::try_new(d[0], d[1]))?;
        check_built("Embedding::try_new", n, s, &built)?;
        let layer = no_panic(&d, || Embedding::new(d[0], d[1]))?;
        check_built("Embedding::new", n, s, &layer.validate())?;
        let i = ids_tensor(&ids_in);
        if let Ok(y) = no_panic((&d, &ids_in), || layer.forward(&i))? {
            prop_assert_eq!(y.dims(), &[3, d[1]][..]);
        }
    }

    #[test]
    fn batch_norm_any_hyperparameters(
        c in sizes(1),
        eps in scalar(),
        momentum in prop::option::of(prob()),
        affine in any::<bool>(),
        train in any::<bool>(),
        x in float_tensor(4),
    ) {
        let c = c[0];
        let input = (c, eps, momentum, affine);
        let valid_h = eps.is_finite() && eps >= 0.0 && momentum.is_none_or(|m| (0.0..=1.0).contains(&m));
        let b1 = no_panic(input, || BatchNorm1d::try_new(c, eps, momentum, affine))?;
        let b2 = no_panic(input, || BatchNorm2d::try_new(c, eps, momentum, affine))?;
        for r in [b1.as_ref().err(), b2.as_ref().err()] {
            prop_assert_eq!(r.is_none(), valid_h && (c as u128) <= MAX_ELEMS, "{:?}: {:?}", input, r);
        }
        let mut l1 = no_panic(input, || BatchNorm1d::new(c).with_eps(eps).with_momentum(momentum).with_affine(affine))?;
        let mut l2 = no_panic(input, || BatchNorm2d::new(c).with_eps(eps).with_momentum(momentum).with_affine(affine))?;
        l1.set_training(train);
        l2.set_training(train);
        let xt = x.build();
        for layer in [&l1 as &dyn Forward, &l2] {
            if let Ok(y) = forward(layer, &x, &xt)? {
                prop_assert_eq!(y.dims(), xt.dims());
            }
        }
    }

    #[test]
    fn layer_norm_any_shape(shape in shape(3), eps in scalar(), affine in any::<bool>(), x in float_tensor(4)) {
        let (n, s) = (count(&shape), span(&shape));
        let input = (&shape, eps, affine);
        let built = no_panic(input, || LayerNorm::try_new(shape.clone(), eps, affine))?;
        let valid_h = eps.is_finite() && eps >= 0.0 && !shape.is_empty();
        if valid_h {
            check_built("LayerNorm::try_new", n, s, &built)?;
        } else {
            prop_assert!(built.is_err(), "{:?} was built", input);
        }
        let layer = no_panic(input, || LayerNorm::new(shape.clone()).with_eps(eps).with_elementwise_affine(affine))?;
        let xt = x.build();
        if let Ok(y) = forward(&layer, &x, &xt)? {
            prop_assert_eq!(y.dims(), xt.dims());
        }
    }

    #[test]
    fn dropout_any_p(p in prob(), train in any::<bool>(), x in tensor(3)) {
        let built = no_panic(p, || Dropout::try_new(p))?;
        prop_assert_eq!(built.is_ok(), (0.0..=1.0).contains(&p));
        let mut layer = Dropout::new(p);
        layer.set_training(train);
        let xt = x.build();
        match forward(&layer, &x, &xt)? {
            Ok(y) => {
                prop_assert!((0.0..=1.0).contains(&p));
                prop_assert_eq!(y.dims(), xt.dims());
            }
            Err(e) => prop_assert!(
                !(0.0..=1.0).contains(&p) || (train && x.dtype == DType::I64 && p > 0.0),
                "Dropout({}) failed: {}", p, e
            ),
        }
    }

    #[test]
    fn pools_any_window(k in (dim(), dim()), s in (dim(), dim()), p in (dim(), dim()), x in float_tensor(4)) {
        let xt = x.build();
        let input = (k, s, p);
        let valid = k.0 > 0 && k.1 > 0 && s.0 > 0 && s.1 > 0 && p.0 <= k.0 / 2 && p.1 <= k.1 / 2;
        let m = no_panic(input, || MaxPool2d::try_new(k, s, p))?;
        let a = no_panic(input, || AvgPool2d::try_new(k, s, p))?;
        prop_assert_eq!(m.is_ok(), valid);
        prop_assert_eq!(a.is_ok(), valid);
        let m = MaxPool2d::new(k).with_stride(s).with_padding(p);
        let a = AvgPool2d::new(k).with_stride(s).with_padding(p);
        for layer in [&m as &dyn Forward, &a] {
            if let Ok(y) = forward(layer, &x, &xt)? {
                prop_assert_eq!(y.rank(), xt.rank());
            }
        }
    }

    #[test]
    fn shape_and_activation_layers(a in axis(), b in axis(), slope in scalar(), x in tensor(4)) {
        let xt = x.build();
        let layers: Vec<Box<dyn Forward>> = vec![
            Box::new(Flatten::new()),
            Box::new(Flatten::with_dims(a, b)),
            Box::new(Softmax::new(a)),
            Box::new(LogSoftmax::new(a)),
            Box::new(ReLU),
            Box::new(LeakyReLU::new(slope)),
            Box::new(Sigmoid),
            Box::new(Tanh),
            Box::new(GELU),
        ];
        for layer in &layers {
            if let Ok(y) = forward(&**layer, &x, &xt)? {
                prop_assert_eq!(y.elem_count(), xt.elem_count(), "{}", layer.name());
            }
        }
    }

    #[test]
    fn normalization_any_axis(axis in prop::option::of(axis()), n in sizes(1), x in float_tensor(3)) {
        let input = (axis, n[0]);
        let built = no_panic(input, || Normalization::try_new(axis, n[0]))?;
        if built.is_ok() {
            prop_assert!(axis != Some(0));
        }
        let layer = no_panic(input, || Normalization::new(axis, n[0]))?;
        let xt = x.build();
        if let Ok(y) = forward(&layer, &x, &xt)? {
            prop_assert_eq!(y.dims(), xt.dims());
        }
        let _ = no_panic(&x, || Normalization::adapt(&xt, axis))?;
    }

    #[test]
    fn sequential_summary_any_input(input in shape(4), hidden in small_dim()) {
        let mut model = Sequential::new()
            .add(Flatten::new())
            .add(Linear::new(6, hidden))
            .add(ReLU)
            .add(Linear::new(hidden, 2));
        let r = no_panic(&input, || model.summary(&input))?;
        if r.is_ok() {
            prop_assert!(span(&input) <= MAX_ELEMS);
            prop_assert!(input.len() >= 2 && count(&input[1..]) == 6);
        }
        let x = Tensor::zeros([2, 6], DType::F32, &neurite::Device::cpu()).unwrap();
        let y = no_panic(&input, || model.forward(&x))?;
        prop_assert_eq!(y.map(|y| y.dims().to_vec()).ok(), Some(vec![2, 2]));
    }
}

#[test]
fn layer_norm_of_two_to_the_forty_is_an_error() {
    let r = must_not_panic("LayerNorm::try_new([1 << 40])", || {
        LayerNorm::try_new([1usize << 40], 1e-5, true)
    });
    assert!(r.is_err(), "got {r:?}");
    let ln = must_not_panic("LayerNorm::new([1 << 40])", || LayerNorm::new([1usize << 40]));
    assert!(ln.validate().is_err());
    assert!(ln.config().is_err());
}

#[test]
fn linear_with_usize_max_inputs_is_an_error() {
    let r = must_not_panic("Linear::try_new(usize::MAX, 2)", || {
        Linear::try_new(usize::MAX, 2, true)
    });
    assert!(r.is_err(), "got {r:?}");
    let l = must_not_panic("Linear::new(usize::MAX, 2)", || Linear::new(usize::MAX, 2));
    let e = l.validate().unwrap_err().to_string();
    assert!(e.contains("Linear"), "{e}");
    let x = Tensor::zeros([1, 2], DType::F32, &neurite::Device::cpu()).unwrap();
    assert!(l.forward(&x).is_err());
    assert!(l.config().is_err());
}

#[test]
fn summary_of_a_huge_input_is_an_error() {
    let mut model = Sequential::new().add(Linear::new(4, 2));
    let r = must_not_panic("summary(&[1 << 40, 4])", || model.summary(&[1 << 40, 4]));
    assert!(r.is_err(), "got {r:?}");
}

#[test]
fn dropout_outside_zero_one_is_an_error() {
    for p in [-0.5, 1.5, f64::NAN, f64::INFINITY] {
        assert!(Dropout::try_new(p).is_err(), "Dropout::try_new({p})");
        let x = Tensor::ones(4, DType::F32, &neurite::Device::cpu()).unwrap();
        assert!(Dropout::new(p).forward(&x).is_err(), "Dropout({p}).forward");
    }
}

#[test]
fn batch_norm_on_a_huge_channel_count_is_an_error() {
    let r = must_not_panic("BatchNorm1d::try_new(1 << 62)", || {
        BatchNorm1d::try_new(1 << 62, 1e-5, Some(0.1), true)
    });
    assert!(r.is_err(), "got {r:?}");
    let b = must_not_panic("BatchNorm2d::new(usize::MAX)", || BatchNorm2d::new(usize::MAX));
    assert!(b.validate().is_err());
}

#[test]
fn embedding_with_huge_table_is_an_error() {
    let r = must_not_panic("Embedding::try_new(1 << 62, 4)", || Embedding::try_new(1 << 62, 4));
    assert!(r.is_err(), "got {r:?}");
    let e = must_not_panic("Embedding::new(usize::MAX, 2)", || Embedding::new(usize::MAX, 2));
    assert!(e.validate().is_err());
}
