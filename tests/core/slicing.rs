//! `Tensor::i`: slicing with positions and ranges on leading dimensions.

use neurite::{DType, Device, IndexOp, Tensor};

fn cube() -> Tensor {
    Tensor::from_vec((0..24).map(|v| v as f64).collect(), (2, 3, 4), &Device::cpu()).unwrap()
}

#[test]
fn positions_and_ranges_select_what_pytorch_selects() {
    let x = cube();
    // x[1] -> rows 12..24
    assert_eq!(
        x.i(1).unwrap().to_vec::<f64>().unwrap(),
        (12..24).map(f64::from).collect::<Vec<_>>()
    );
    // x[:, 1:3] -> (2, 2, 4)
    let y = x.i((.., 1..3)).unwrap();
    assert_eq!(y.dims(), &[2, 2, 4]);
    assert_eq!(y.to_vec::<f64>().unwrap()[..4], [4., 5., 6., 7.]);
    // x[0, :, 2] -> [2, 6, 10]
    assert_eq!(x.i((0, .., 2)).unwrap().to_vec::<f64>().unwrap(), vec![2., 6., 10.]);
    // x[1, 1:, :2]
    let z = x.i((1, 1.., ..2)).unwrap();
    assert_eq!(z.dims(), &[2, 2]);
    assert_eq!(z.to_vec::<f64>().unwrap(), vec![16., 17., 20., 21.]);
    // inclusive ranges: x[0, 0:=1, 3]
    assert_eq!(x.i((0, 0..=1, 3)).unwrap().to_vec::<f64>().unwrap(), vec![3., 7.]);
    assert_eq!(x.i((..=0, ..=0, ..=0)).unwrap().dims(), &[1, 1, 1]);
    // every position selected gives a 0-d tensor
    let s = x.i((1, 2, 3)).unwrap();
    assert_eq!((s.rank(), s.item::<f64>().unwrap()), (0, 23.));
    // an empty range is allowed, as in PyTorch
    assert_eq!(x.i((.., 2..2)).unwrap().dims(), &[2, 0, 4]);
}

#[test]
fn out_of_range_indices_name_the_dimension_and_size() {
    let x = cube();
    let e = x.i((0, 3)).unwrap_err().to_string();
    assert!(e.contains("position 3") && e.contains("dimension 1 of size 3"), "{e}");
    let e = x.i((.., .., 2..5)).unwrap_err().to_string();
    assert!(e.contains("range 2..5") && e.contains("dimension 2 of size 4"), "{e}");
    // A reversed range (built at run time, as user code would).
    let (start, end) = (3, 1);
    let e = x.i((.., start..end)).unwrap_err().to_string();
    assert!(e.contains("3..1"), "{e}");
    let e = x.i((0, 0, 0, 0)).unwrap_err().to_string();
    assert!(e.contains("4 indices") && e.contains("3 dimensions"), "{e}");
    assert!(x.i(..=usize::MAX).is_err());
}

#[test]
fn gradients_flow_into_the_sliced_positions_only() {
    let x = Tensor::ones((3, 4), DType::F64, &Device::cpu())
        .unwrap()
        .requires_grad();
    let loss = x.i((1.., 2)).unwrap().mul_scalar(3.0).unwrap().sum_all().unwrap();
    let g = loss.backward().unwrap();
    let want = [0., 0., 0., 0., 0., 0., 3., 0., 0., 0., 3., 0.];
    assert_eq!(g.get(&x).unwrap().to_vec::<f64>().unwrap(), want);
}
