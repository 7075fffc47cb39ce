//! Dataset construction and indexing, and the label helpers.

use neurite::data::{Dataset, class_counts, num_classes, one_hot};
use neurite::{DType, Device, Tensor};

fn toy(n: usize) -> Dataset {
    let dev = Device::cpu();
    let x = Tensor::from_vec((0..n * 2).map(|v| v as f32).collect(), (n, 2), &dev).unwrap();
    let y = Tensor::from_vec((0..n as i64).collect(), n, &dev).unwrap();
    Dataset::new(x, y).unwrap()
}

#[test]
fn get_subset_and_range() {
    let ds = toy(5);
    assert_eq!(ds.len(), 5);
    let (x, y) = ds.get(&[4, 1, 1]).unwrap();
    assert_eq!(
        x.to_vec2::<f32>().unwrap(),
        vec![vec![8., 9.], vec![2., 3.], vec![2., 3.]]
    );
    assert_eq!(y.to_vec1::<i64>().unwrap(), vec![4, 1, 1]);
    let s = ds.subset(&[3, 0]).unwrap();
    assert_eq!(s.targets().to_vec1::<i64>().unwrap(), vec![3, 0]);
    let (x, y) = ds.range(3, 2).unwrap();
    assert_eq!(x.to_vec2::<f32>().unwrap(), vec![vec![6., 7.], vec![8., 9.]]);
    assert_eq!(y.to_vec1::<i64>().unwrap(), vec![3, 4]);
    let e = ds.get(&[0, 5]).unwrap_err().to_string();
    assert!(e.contains("5") && e.contains("5 samples"), "{e}");
    assert!(ds.range(4, 2).is_err());
}

#[test]
fn mismatched_tensors_are_rejected() {
    let dev = Device::cpu();
    let x = Tensor::zeros((4, 2), DType::F32, &dev).unwrap();
    let y = Tensor::zeros(3, DType::I64, &dev).unwrap();
    let e = Dataset::new(x.clone(), y).unwrap_err().to_string();
    assert!(e.contains("[4, 2]") && e.contains("[3]"), "{e}");
    let s = Tensor::scalar(1.0, DType::F32, &dev).unwrap();
    assert!(Dataset::new(x.clone(), s).is_err());
    let ds = Dataset::new(x, Tensor::zeros(4, DType::I64, &dev).unwrap()).unwrap();
    assert!(
        ds.with_features(Tensor::zeros((5, 2), DType::F32, &dev).unwrap())
            .is_err()
    );
    assert_eq!(
        ds.with_features(Tensor::ones((4, 7), DType::F32, &dev).unwrap())
            .unwrap()
            .features()
            .dims(),
        &[4, 7]
    );
}

#[test]
fn label_helpers() {
    let y = Tensor::from_vec(vec![2i64, 0, 2, 1], 4, &Device::cpu()).unwrap();
    assert_eq!(num_classes(&y).unwrap(), 3);
    assert_eq!(class_counts(&y, 3).unwrap(), vec![1, 1, 2]);
    let oh = one_hot(&y, 3).unwrap();
    assert_eq!(oh.dtype(), DType::F32);
    assert_eq!(
        oh.to_vec2::<f32>().unwrap(),
        vec![vec![0., 0., 1.], vec![1., 0., 0.], vec![0., 0., 1.], vec![0., 1., 0.]]
    );
    let e = one_hot(&y, 2).unwrap_err().to_string();
    assert!(e.contains("label 2 at position 0") && e.contains("0..2"), "{e}");
    let neg = Tensor::from_vec(vec![0i64, -1], 2, &Device::cpu()).unwrap();
    assert!(num_classes(&neg).is_err());
    let f = Tensor::zeros(2, DType::F32, &Device::cpu()).unwrap();
    assert!(one_hot(&f, 2).unwrap_err().to_string().contains("i64"));
}
