//! Element-wise maps, binary ops with broadcasting, comparisons, `where_cond`
//! and the operator overloads.

use crate::util::*;
use neurite::{DType, Tensor};
use proptest::prelude::*;

type Unary = fn(&Tensor) -> neurite::Result<Tensor>;
type Binary = fn(&Tensor, &Tensor) -> neurite::Result<Tensor>;

const UNARY: [(&str, Unary); 12] = [
    ("neg", Tensor::neg),
    ("exp", Tensor::exp),
    ("log", Tensor::log),
    ("sqrt", Tensor::sqrt),
    ("abs", Tensor::abs),
    ("sign", Tensor::sign),
    ("recip", Tensor::recip),
    ("sqr", Tensor::sqr),
    ("relu", Tensor::relu),
    ("sigmoid", Tensor::sigmoid),
    ("tanh", Tensor::tanh),
    ("gelu", Tensor::gelu),
];

const BINARY: [(&str, Binary); 12] = [
    ("add", Tensor::add),
    ("sub", Tensor::sub),
    ("mul", Tensor::mul),
    ("div", Tensor::div),
    ("maximum", Tensor::maximum),
    ("minimum", Tensor::minimum),
    ("eq", Tensor::eq),
    ("ne", Tensor::ne),
    ("lt", Tensor::lt),
    ("le", Tensor::le),
    ("gt", Tensor::gt),
    ("ge", Tensor::ge),
];

/// Two tensors whose shapes often broadcast: the second is derived from the
/// first by replacing some dims by 1 or dropping leading dims, or is unrelated.
fn pair() -> BoxedStrategy<(Spec, Spec)> {
    (tensor(3), dtype(), prop::collection::vec(0u8..3, 3), any::<bool>())
        .prop_flat_map(|(a, dt, edits, unrelated)| {
            let b_dims: Vec<usize> = if unrelated {
                vec![2, 3]
            } else {
                a.dims
                    .iter()
                    .zip(edits.iter().cycle())
                    .map(|(&d, &e)| if e == 0 { 1 } else { d })
                    .skip(usize::from(edits[0] == 2))
                    .collect()
            };
            // Turning the zero of an empty tensor into 1 can leave hostile dims alone.
            let b_dims = if count(&b_dims) > MAX_ELEMS { vec![2, 3] } else { b_dims };
            let dt = if edits[1] == 0 { dt } else { a.dtype };
            (Just(a), tensor_with_dims(b_dims, dt))
        })
        .boxed()
}

proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn unary_maps(spec in tensor(3)) {
        let x = spec.build();
        for (name, f) in UNARY {
            let r = no_panic((name, &spec), || f(&x))?;
            match r {
                Ok(y) => {
                    prop_assert_eq!(y.dims(), x.dims(), "{}", name);
                    prop_assert_eq!(y.dtype(), x.dtype(), "{}", name);
                }
                Err(e) => prop_assert!(spec.dtype == DType::I64, "{} on {:?} failed: {}", name, spec, e),
            }
        }
    }

    #[test]
    fn scalar_maps(spec in tensor(3), a in scalar(), b in scalar()) {
        let x = spec.build();
        let results = [
            ("leaky_relu", no_panic((&spec, a), || x.leaky_relu(a))?),
            ("affine", no_panic((&spec, a, b), || x.affine(a, b))?),
            ("powf", no_panic((&spec, a), || x.powf(a))?),
            ("clamp", no_panic((&spec, a, b), || x.clamp(a, b))?),
            ("add_scalar", no_panic((&spec, a), || x.add_scalar(a))?),
            ("sub_scalar", no_panic((&spec, a), || x.sub_scalar(a))?),
            ("mul_scalar", no_panic((&spec, a), || x.mul_scalar(a))?),
            ("div_scalar", no_panic((&spec, a), || x.div_scalar(a))?),
            ("eq_scalar", no_panic((&spec, a), || x.eq_scalar(a))?),
            ("ne_scalar", no_panic((&spec, a), || x.ne_scalar(a))?),
            ("lt_scalar", no_panic((&spec, a), || x.lt_scalar(a))?),
            ("le_scalar", no_panic((&spec, a), || x.le_scalar(a))?),
            ("gt_scalar", no_panic((&spec, a), || x.gt_scalar(a))?),
            ("ge_scalar", no_panic((&spec, a), || x.ge_scalar(a))?),
        ];
        for (name, r) in results {
            if let Ok(y) = r {
                prop_assert_eq!(y.dims(), x.dims(), "{}", name);
            }
        }
    }

    #[test]
    fn binary_broadcasting((sa, sb) in pair()) {
        let (a, b) = (sa.build(), sb.build());
        let expected = broadcast(&sa.dims, &sb.dims);
        for (name, f) in BINARY {
            let r = no_panic((name, &sa, &sb), || f(&a, &b))?;
            match r {
                Ok(y) => {
                    prop_assert_eq!(Some(y.dims().to_vec()), expected.clone(), "{}", name);
                    prop_assert_eq!(sa.dtype, sb.dtype, "{} accepted mixed dtypes", name);
                }
                Err(_) => prop_assert!(
                    expected.is_none() || sa.dtype != sb.dtype || sa.dtype == DType::I64,
                    "{} of {:?} and {:?} failed", name, sa.dims, sb.dims
                ),
            }
        }
        // The std::ops overloads route to the same ops.
        let r = no_panic((&sa, &sb), || (&a + &b, &a - &b, &a * &b, &a / &b))?;
        prop_assert_eq!(r.0.is_ok(), r.1.is_ok());
        let _ = no_panic(&sa, || (-&a, &a * 2.0, &a + 1, 2.0 * &a))?;
    }

    #[test]
    fn where_cond_broadcasting(c in tensor(3), (sa, sb) in pair()) {
        let (m, a, b) = (c.build(), sa.build(), sb.build());
        let r = no_panic((&c, &sa, &sb), || m.where_cond(&a, &b))?;
        if let Ok(y) = r {
            let expected = broadcast(&c.dims, &sa.dims).and_then(|s| broadcast(&s, &sb.dims));
            prop_assert_eq!(Some(y.dims().to_vec()), expected);
        }
    }

    #[test]
    fn softmax_family(spec in tensor(3), d in axis(), keep in any::<bool>()) {
        let x = spec.build();
        for (name, r) in [
            ("softmax", no_panic((&spec, d), || x.softmax(d))?),
            ("log_softmax", no_panic((&spec, d), || x.log_softmax(d))?),
        ] {
            match r {
                Ok(y) => prop_assert_eq!(y.dims(), x.dims(), "{}", name),
                Err(e) => prop_assert!(
                    spec.dtype == DType::I64 || resolve(d, x.rank()).is_none(),
                    "{}({}) of {:?} failed: {}", name, d, spec, e
                ),
            }
        }
        let r = no_panic((&spec, d, keep), || x.logsumexp(d, keep))?;
        if let Ok(y) = r {
            prop_assert_eq!(y.rank(), if keep { x.rank() } else { x.rank() - 1 });
        }
    }
}

#[test]
fn relu_of_nan_is_nan() {
    let x = Tensor::from_vec(vec![f32::NAN, -1.0, 2.0], 3, &cpu()).unwrap();
    let y = must_not_panic("relu(NaN)", || x.relu())
        .unwrap()
        .to_vec::<f32>()
        .unwrap();
    assert!(y[0].is_nan(), "relu(NaN) = {}", y[0]);
    assert_eq!(&y[1..], &[0.0, 2.0]);
}

#[test]
fn broadcast_to_two_to_the_forty_is_out_of_memory() {
    let a = Tensor::zeros([1 << 20, 1], DType::F32, &cpu()).unwrap();
    let b = Tensor::zeros([1, 1 << 20], DType::F32, &cpu()).unwrap();
    let r = must_not_panic("[2^20, 1] + [1, 2^20]", || a.add(&b));
    assert!(matches!(r, Err(neurite::Error::OutOfMemory { .. })), "got {r:?}");
}
