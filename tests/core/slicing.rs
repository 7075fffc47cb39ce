//! `Tensor::i`: positions and ranges on every dim, negative positions, errors
//! naming the dim, range and size, and gradients.

use crate::gradcheck::{check, randt};
use neurite::{DType, Device, Error, IndexItem, Tensor};
use std::ops::Bound;

/// `x[a, b, c] = 100a + 10b + c` for shape (2, 3, 4): every value names its position.
fn x() -> Tensor {
    let v: Vec<f64> = (0..2)
        .flat_map(|a| (0..3).flat_map(move |b| (0..4).map(move |c| (100 * a + 10 * b + c) as f64)))
        .collect();
    Tensor::from_vec(v, (2, 3, 4), &Device::cpu()).unwrap()
}

fn vals(t: &Tensor) -> Vec<f64> {
    t.to_vec().unwrap()
}

#[test]
fn a_position_selects_and_removes_the_dim() {
    let y = x().i(1).unwrap();
    assert_eq!(y.dims(), &[3, 4]);
    assert_eq!(vals(&y)[..5], [100., 101., 102., 103., 110.]);
    let z = x().i((1, 2)).unwrap();
    assert_eq!(z.dims(), &[4]);
    assert_eq!(vals(&z), vec![120., 121., 122., 123.]);
    let s = x().i((0, 1, 3)).unwrap();
    assert_eq!(s.rank(), 0);
    assert_eq!(s.item::<f64>().unwrap(), 13.);
    let n: usize = 1;
    assert_eq!(vals(&x().i((n, n, n)).unwrap()), vec![111.]);
}

#[test]
fn every_range_form() {
    let t = x();
    assert_eq!(vals(&t.i((0, 0, ..)).unwrap()), vec![0., 1., 2., 3.]);
    assert_eq!(vals(&t.i((0, 0, 1..3)).unwrap()), vec![1., 2.]);
    assert_eq!(vals(&t.i((0, 0, 2..)).unwrap()), vec![2., 3.]);
    assert_eq!(vals(&t.i((0, 0, ..2)).unwrap()), vec![0., 1.]);
    assert_eq!(vals(&t.i((0, 0, 1..=3)).unwrap()), vec![1., 2., 3.]);
    assert_eq!(vals(&t.i((0, 0, ..=0)).unwrap()), vec![0.]);
    let empty = t.i((0, 1..1)).unwrap();
    assert_eq!(empty.dims(), &[0, 4]);
    let (a, b) = (1usize, 3usize);
    assert_eq!(vals(&t.i((0, 0, a..b)).unwrap()), vec![1., 2.]);
    assert_eq!(vals(&t.i((0, 0, a..=b)).unwrap()), vec![1., 2., 3.]);
}

#[test]
fn mixed_index_keeps_ranged_dims_in_order() {
    // x[:, 1:3, -1] in PyTorch.
    let y = x().i((.., 1..3, -1)).unwrap();
    assert_eq!(y.dims(), &[2, 2]);
    assert_eq!(vals(&y), vec![13., 23., 113., 123.]);
    // x[1:, :, 1:3]; trailing dims left out are kept whole.
    let z = x().i((1.., .., 1..3)).unwrap();
    assert_eq!(z.dims(), &[1, 3, 2]);
    assert_eq!(vals(&z), vec![101., 102., 111., 112., 121., 122.]);
    let w = x().i((.., 2)).unwrap();
    assert_eq!(w.dims(), &[2, 4]);
    assert_eq!(vals(&w), vec![20., 21., 22., 23., 120., 121., 122., 123.]);
    assert_eq!(x().i(..).unwrap().dims(), &[2, 3, 4]);
}

#[test]
// `1..=-2` is x[1:-1]: not empty once -2 counts from the end (clippy reads it as a plain range).
#[allow(clippy::reversed_empty_ranges)]
fn negative_positions_and_range_ends_count_from_the_end() {
    let t = x();
    assert_eq!(vals(&t.i((-1, -1, -1)).unwrap()), vec![123.]);
    assert_eq!(vals(&t.i((-2, 0, -4)).unwrap()), vec![0.]);
    assert_eq!(vals(&t.i((0, 0, -3..-1)).unwrap()), vec![1., 2.]);
    assert_eq!(vals(&t.i((0, 0, -2..)).unwrap()), vec![2., 3.]);
    assert_eq!(vals(&t.i((0, 0, ..-1)).unwrap()), vec![0., 1., 2.]);
    assert_eq!(vals(&t.i((0, 0, ..=-1)).unwrap()), vec![0., 1., 2., 3.]);
    assert_eq!(vals(&t.i((0, 0, 1..=-2)).unwrap()), vec![1., 2.]);
    assert_eq!(vals(&t.i((0, 0, 1..-1)).unwrap()), vec![1., 2.]);
    let k: i64 = -1;
    assert_eq!(vals(&t.i((k, k, k)).unwrap()), vec![123.]);
}

#[test]
fn run_time_index_lists() {
    let items = vec![
        IndexItem::Select(1),
        IndexItem::Range {
            start: Some(1),
            end: Bound::Included(2),
        },
    ];
    let y = x().i(items.clone()).unwrap();
    assert_eq!(y.dims(), &[2, 4]);
    assert_eq!(vals(&y)[..4], [110., 111., 112., 113.]);
    assert_eq!(x().i(items.as_slice()).unwrap().dims(), &[2, 4]);
    assert_eq!(items[1].to_string(), "1..=2");
    assert_eq!(IndexItem::from(..-2i64).to_string(), "..-2");
    assert_eq!(IndexItem::from(..).to_string(), "..");
}

#[test]
fn a_position_out_of_range_names_the_dim_and_size() {
    match x().i((0, 3)).unwrap_err() {
        Error::IndexOutOfRange { op, index, dim, size } => {
            assert_eq!((op, index, dim, size), ("i", 3, 1, 3));
        }
        other => panic!("unexpected error {other}"),
    }
    let msg = x().i((0, 0, -5)).unwrap_err().to_string();
    assert_eq!(msg, "i: index -5 is out of range for dimension 2 of size 4");
}

#[test]
#[allow(clippy::reversed_empty_ranges)] // 2..1 is the error under test
fn a_range_out_of_bounds_names_the_range_dim_and_size() {
    let msg = x().i((.., 1..5)).unwrap_err().to_string();
    assert!(
        msg.contains("range 1..5") && msg.contains("dimension 1 of size 3") && msg.contains("[2, 3, 4]"),
        "{msg}"
    );
    let msg = x().i((0, 0, ..=4)).unwrap_err().to_string();
    assert!(
        msg.contains("range ..=4") && msg.contains("dimension 2 of size 4"),
        "{msg}"
    );
    let msg = x().i((-3..,)).unwrap_err().to_string();
    assert!(
        msg.contains("range -3..") && msg.contains("dimension 0 of size 2"),
        "{msg}"
    );
    let msg = x().i((0, 2..1)).unwrap_err().to_string();
    assert!(
        msg.contains("range 2..1") && msg.contains("starts at 2, after its end 1"),
        "{msg}"
    );
}

#[test]
fn too_many_indices_is_an_error() {
    let msg = x().i((0, 0, 0, 0)).unwrap_err().to_string();
    assert_eq!(
        msg,
        "i: invalid argument: 4 indices (0, 0, 0, 0) given for a tensor of rank 3 (shape [2, 3, 4])"
    );
    let s = Tensor::scalar(1.0, DType::F32, &Device::cpu()).unwrap();
    assert!(s.i(0).is_err());
    assert_eq!(s.i(Vec::new()).unwrap().item::<f32>().unwrap(), 1.0);
}

#[test]
fn gradients_flow_to_the_selected_entries() {
    let w = x().requires_grad();
    let y = w.i((1, 0..2, -1)).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    let g = vals(grads.get(&w).unwrap());
    let expected: Vec<f64> = (0..24)
        .map(|k| if k == 12 + 3 || k == 12 + 4 + 3 { 1. } else { 0. })
        .collect();
    assert_eq!(g, expected);
}

#[test]
fn slicing_gradients_match_finite_differences() {
    let a = randt(&[3, 4, 5], 121);
    check(
        &[a],
        |t| {
            let y = t[0].i((1.., -1, 1..=3))?;
            let w = randt(y.dims(), 122);
            (&y * &y)?.mul(&w)?.sum_all()
        },
        1e-6,
    );
}
