//! Shape ops: reshape, flatten, squeeze/unsqueeze, permute/transpose,
//! broadcast/expand, narrow, split, cat/stack, indexing with `i`.

use crate::util::*;
use neurite::{IndexItem, Tensor};
use proptest::prelude::*;
use std::ops::Bound;

fn index_item() -> BoxedStrategy<IndexItem> {
    let pos = prop_oneof![
        4 => -4i64..5,
        1 => prop::sample::select(vec![i64::MIN, -(1 << 40), 1 << 40, i64::MAX]),
    ];
    let bound = prop_oneof![
        Just(Bound::Unbounded),
        pos.clone().prop_map(Bound::Excluded),
        pos.clone().prop_map(Bound::Included),
    ];
    prop_oneof![
        pos.clone().prop_map(IndexItem::Select),
        (prop::option::of(pos), bound).prop_map(|(start, end)| IndexItem::Range { start, end }),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn reshape_any_target(spec in tensor(3), to in shape(4)) {
        let x = spec.build();
        let r = no_panic((&spec.dims, &to), || x.reshape(to.clone()))?;
        if r.is_ok() || span(&to) <= MAX_ELEMS {
            prop_assert_eq!(r.is_ok(), count(&to) == x.elem_count() as u128, "reshape {:?} -> {:?}", spec.dims, to);
        }
        if let Ok(y) = r {
            prop_assert_eq!(y.dims(), &to[..]);
        }
    }

    #[test]
    fn flatten_any_dims(spec in tensor(4), a in axis(), b in axis()) {
        let x = spec.build();
        let y = no_panic((&spec.dims, a, b), || x.flatten(a, b))?;
        if let Ok(y) = y {
            prop_assert_eq!(y.elem_count(), x.elem_count());
        }
        let y = no_panic(&spec.dims, || x.flatten_all())?;
        prop_assert_eq!(y.map(|y| y.dims().to_vec()).ok(), Some(vec![x.elem_count()]));
    }

    #[test]
    fn squeeze_unsqueeze(spec in tensor(4), d in axis()) {
        let x = spec.build();
        let u = no_panic((&spec.dims, d), || x.unsqueeze(d))?;
        if let Ok(u) = u {
            prop_assert_eq!(u.rank(), x.rank() + 1);
            prop_assert_eq!(u.elem_count(), x.elem_count());
        } else {
            prop_assert!(resolve(d, x.rank() + 1).is_none(), "unsqueeze({}) of {:?} failed", d, spec.dims);
        }
        let s = no_panic((&spec.dims, d), || x.squeeze(d))?;
        if let Ok(s) = s {
            prop_assert_eq!(s.rank() + 1, x.rank());
            prop_assert_eq!(s.elem_count(), x.elem_count());
        }
    }

    #[test]
    fn permute_transpose(spec in tensor(4), perm in prop::collection::vec(axis(), 0..5), a in axis(), b in axis()) {
        let x = spec.build();
        let p = no_panic((&spec.dims, &perm), || x.permute(&perm))?;
        if let Ok(p) = p {
            prop_assert_eq!(p.elem_count(), x.elem_count());
            prop_assert_eq!(p.rank(), x.rank());
        }
        let t = no_panic((&spec.dims, a, b), || x.transpose(a, b))?;
        if let Ok(t) = t {
            prop_assert_eq!(t.elem_count(), x.elem_count());
        }
        let t = no_panic(&spec.dims, || x.t())?;
        prop_assert_eq!(t.is_ok(), x.rank() >= 2);
    }

    #[test]
    fn broadcast_expand(spec in tensor(3), to in shape(4)) {
        let x = spec.build();
        for r in [
            no_panic((&spec.dims, &to), || x.broadcast_as(to.clone()))?,
            no_panic((&spec.dims, &to), || x.expand(to.clone()))?,
        ] {
            match r {
                Ok(y) => {
                    prop_assert_eq!(y.dims(), &to[..]);
                    prop_assert!(count(&to) <= MAX_ELEMS);
                }
                Err(_) => prop_assert!(
                    broadcast(&spec.dims, &to).as_deref() != Some(&to[..]) || span(&to) > MAX_ELEMS,
                    "broadcast {:?} to {:?} failed", spec.dims, to
                ),
            }
        }
    }

    #[test]
    fn narrow_any_range(spec in tensor(3), d in axis(), start in dim(), len in dim()) {
        let x = spec.build();
        let r = no_panic((&spec.dims, d, start, len), || x.narrow(d, start, len))?;
        let ok = resolve(d, x.rank()).is_some_and(|d| start.checked_add(len).is_some_and(|e| e <= x.dims()[d]));
        prop_assert_eq!(r.is_ok(), ok, "narrow({}, {}, {}) of {:?}: {:?}", d, start, len, spec.dims, r.as_ref().err());
        if let Ok(y) = r {
            prop_assert_eq!(y.dims()[resolve(d, x.rank()).unwrap()], len);
        }
    }

    #[test]
    fn split_any_size(spec in tensor(3), size in dim(), d in axis()) {
        let x = spec.build();
        // A zero-element tensor may have a hostile dim: splitting it gives that
        // many (empty) pieces, a list no framework could hold.
        if let Some(rd) = resolve(d, x.rank()) {
            prop_assume!(size == 0 || x.dims()[rd] / size <= MAX_ELEMS as usize);
        }
        let r = no_panic((&spec.dims, size, d), || x.split(size, d))?;
        if let Ok(parts) = r {
            let total: usize = parts.iter().map(|p| p.elem_count()).sum();
            prop_assert_eq!(total, x.elem_count());
        }
    }

    #[test]
    fn cat_stack(a in tensor(3), b in tensor(3), d in axis(), sd in axis_usize()) {
        let (x, y) = (a.build(), b.build());
        let r = no_panic((&a, &b, d), || Tensor::cat(&[x.clone(), y.clone()], d))?;
        if let Ok(z) = r {
            prop_assert_eq!(z.elem_count(), x.elem_count() + y.elem_count());
        }
        let r = no_panic((&a, &b, sd), || Tensor::stack(&[x.clone(), y.clone()], sd))?;
        if let Ok(z) = r {
            prop_assert_eq!(z.rank(), x.rank() + 1);
            prop_assert_eq!(z.elem_count(), 2 * x.elem_count());
        }
        let empty: [Tensor; 0] = [];
        prop_assert!(no_panic("cat of nothing", || Tensor::cat(&empty, d))?.is_err());
        prop_assert!(no_panic("stack of nothing", || Tensor::stack(&empty, sd))?.is_err());
    }

    #[test]
    fn index_with_i(spec in tensor(3), items in prop::collection::vec(index_item(), 0..5)) {
        let x = spec.build();
        let r = no_panic((&spec.dims, &items), || x.i(items.clone()))?;
        if let Ok(y) = r {
            prop_assert!(y.elem_count() <= x.elem_count());
            prop_assert!(y.rank() <= x.rank());
        }
    }

    #[test]
    fn sum_to_any_shape(spec in float_tensor(3), to in shape(3)) {
        let x = spec.build();
        let r = no_panic((&spec.dims, &to), || x.sum_to(&to.clone().into()))?;
        if let Ok(y) = r {
            prop_assert_eq!(y.dims(), &to[..]);
        }
    }
}

#[test]
fn narrow_to_usize_max_is_an_error() {
    let x = Tensor::zeros([4, 3], neurite::DType::F32, &cpu()).unwrap();
    let r = must_not_panic("narrow(0, 2, usize::MAX)", || x.narrow(0usize, 2, usize::MAX));
    assert!(r.is_err(), "got {r:?}");
}
