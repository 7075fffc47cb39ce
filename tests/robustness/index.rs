//! Index-driven ops with out-of-range, negative and huge indices.

use crate::util::*;
use neurite::{DType, Tensor};
use proptest::prelude::*;

/// A source tensor and index tensors shaped to fit it (or not).
fn source_and_ids() -> BoxedStrategy<(Spec, Ids, Ids)> {
    (tensor(3), small_dim(), any::<bool>())
        .prop_flat_map(|(src, n, fit)| {
            let flat = vec![n];
            // gather's indices: the source's shape with dim 0 resized, or an unrelated shape.
            let mut along = vec![n, 2];
            if fit && !src.dims.is_empty() {
                let mut d = src.dims.clone();
                d[0] = n;
                // A zero-sized source may have hostile dims beside the zero.
                if count(&d) <= MAX_ELEMS {
                    along = d;
                }
            }
            (Just(src), ids(flat), ids(along))
        })
        .boxed()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn index_select_any_ids((src, flat, _) in source_and_ids(), d in axis()) {
        let (x, i) = (src.build(), ids_tensor(&flat));
        let r = no_panic((&src, &flat, d), || x.index_select(d, &i))?;
        if let Ok(y) = r {
            let rd = resolve(d, x.rank()).expect("index_select accepted a bad dim");
            prop_assert_eq!(y.dims()[rd], flat.0[0]);
            prop_assert!(flat.1.iter().all(|&j| (0..x.dims()[rd] as i64).contains(&j)), "index_select accepted {:?}", flat.1);
        }
        // Float indices are rejected, not reinterpreted.
        let fi = i.to_dtype(DType::F32).unwrap();
        prop_assert!(no_panic(&src, || x.index_select(d, &fi))?.is_err());
    }

    #[test]
    fn gather_any_ids((src, _, along) in source_and_ids(), d in axis()) {
        let (x, i) = (src.build(), ids_tensor(&along));
        let r = no_panic((&src, &along, d), || x.gather(d, &i))?;
        if let Ok(y) = r {
            prop_assert_eq!(y.dims(), &along.0[..]);
            let rd = resolve(d, x.rank()).expect("gather accepted a bad dim");
            prop_assert!(along.1.iter().all(|&j| (0..x.dims()[rd] as i64).contains(&j)), "gather accepted {:?}", along.1);
        }
    }

    #[test]
    fn scatter_add_any_ids((src, _, along) in source_and_ids(), d in axis(), to in shape(3)) {
        let (x, i) = (src.build(), ids_tensor(&along));
        // A source matching the indices' shape, as scatter_add requires.
        let values = Tensor::ones(along.0.clone(), src.dtype, &cpu()).unwrap();
        for (v, what) in [(&values, "matching source"), (&x, "arbitrary source")] {
            let r = no_panic((what, &along, d, &to), || v.scatter_add_into(d, &i, to.clone()))?;
            if let Ok(y) = r {
                prop_assert_eq!(y.dims(), &to[..]);
                prop_assert!(count(&to) <= MAX_ELEMS);
            }
        }
    }

    #[test]
    fn one_hot_any_classes(labels in ids(vec![3]), classes in dim(), dtype in dtype()) {
        let l = ids_tensor(&labels);
        let r = no_panic((&labels, classes, dtype), || l.one_hot(classes, dtype))?;
        match r {
            Ok(y) => {
                prop_assert_eq!(y.dims(), &[3, classes][..]);
                prop_assert!(labels.1.iter().all(|&j| (0..classes as i64).contains(&j)), "one_hot accepted {:?}", labels.1);
            }
            Err(e) => prop_assert!(
                classes > 5 || labels.1.iter().any(|&j| !(0..classes as i64).contains(&j)),
                "one_hot({}) of {:?} failed: {}", classes, labels.1, e
            ),
        }
    }

    #[test]
    fn embedding_any_ids(rows in small_dim(), width in small_dim(), ids_in in ids(vec![2, 2])) {
        let emb = neurite::nn::Embedding::new(rows, width);
        let i = ids_tensor(&ids_in);
        let r = no_panic((rows, width, &ids_in), || neurite::nn::Forward::forward(&emb, &i))?;
        match r {
            Ok(y) => {
                prop_assert_eq!(y.dims(), &[2, 2, width][..]);
                prop_assert!(ids_in.1.iter().all(|&j| (0..rows as i64).contains(&j)));
            }
            Err(_) => prop_assert!(ids_in.1.iter().any(|&j| !(0..rows as i64).contains(&j))),
        }
        let f = i.to_dtype(DType::F32).unwrap();
        prop_assert!(no_panic("float ids", || neurite::nn::Forward::forward(&emb, &f))?.is_err());
    }
}

#[test]
fn one_hot_with_two_to_the_forty_classes_is_an_error() {
    let l = Tensor::from_vec(vec![0i64, 1], 2, &cpu()).unwrap();
    let r = must_not_panic("one_hot(2^40)", || l.one_hot(1 << 40, DType::F32));
    assert!(r.is_err(), "got {r:?}");
}

/// A zero-element source with a huge outer extent: index ops return at once
/// instead of looping over the outer extent.
#[test]
fn index_ops_on_empty_sources_with_a_huge_outer_extent_return_at_once() {
    let cpu = neurite::Device::cpu();
    let x = neurite::Tensor::zeros([1usize << 59, 0], neurite::DType::F32, &cpu).unwrap();
    let ids = neurite::Tensor::from_vec(Vec::<i64>::new(), 0, &cpu).unwrap();
    let started = std::time::Instant::now();
    let out = x.index_select(1usize, &ids).unwrap();
    assert_eq!(out.dims(), &[1usize << 59, 0]);
    let empty_ids = neurite::Tensor::zeros([1usize << 59, 0], neurite::DType::I64, &cpu).unwrap();
    assert_eq!(x.gather(1usize, &empty_ids).unwrap().dims(), &[1usize << 59, 0]);
    assert!(started.elapsed().as_secs() < 5, "took {:?}", started.elapsed());
}
