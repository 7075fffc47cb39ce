//! Half-precision storage, casts and integer tensors.

use half::{bf16, f16};
use neurite::{DType, Device, Tensor};

#[test]
fn half_types_compute_in_f32_and_round() {
    let dev = Device::cpu();
    for dtype in [DType::F16, DType::BF16] {
        let a = Tensor::from_vec(vec![1.0f32, 2.0, 3.0, 4.0], (2, 2), &dev)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        assert_eq!(a.dtype(), dtype);
        let y = a
            .matmul(&a)
            .unwrap()
            .mul_scalar(0.1)
            .unwrap()
            .add_scalar(0.5)
            .unwrap()
            .exp()
            .unwrap()
            .log()
            .unwrap();
        assert_eq!(y.dtype(), dtype);
        let got = y.to_vec::<f32>().unwrap();
        for (g, w) in got.iter().zip([1.2f32, 1.5, 2.0, 2.7]) {
            assert!((g - w).abs() / w < 1e-2, "{dtype}: {g} vs {w}");
        }
        let s = a
            .softmax(1usize)
            .unwrap()
            .sum_dim(1usize, false)
            .unwrap()
            .to_vec::<f32>()
            .unwrap();
        assert!(s.iter().all(|v| (v - 1.0).abs() < 1e-2));
    }
    let h = Tensor::from_vec(vec![f16::from_f32(1.5), f16::from_f32(-2.0)], 2, &dev).unwrap();
    assert_eq!(h.dtype(), DType::F16);
    let b = Tensor::from_vec(vec![bf16::from_f32(3.0)], 1, &dev).unwrap();
    assert_eq!(b.to_vec::<f32>().unwrap(), vec![3.0]);
}

#[test]
fn gradients_flow_through_half_precision() {
    let w = Tensor::from_vec(vec![0.5f32, -1.0, 2.0], 3, &Device::cpu())
        .unwrap()
        .requires_grad();
    let loss = w.to_dtype(DType::BF16).unwrap().sqr().unwrap().sum_all().unwrap();
    let g = loss.backward().unwrap();
    let gw = g.get(&w).unwrap();
    assert_eq!(gw.dtype(), DType::F32);
    assert_eq!(gw.to_vec::<f32>().unwrap(), vec![1.0, -2.0, 4.0]);
}

#[test]
fn casts_round_trip_and_truncate_to_integers() {
    let dev = Device::cpu();
    let x = Tensor::from_vec(vec![1.7f64, -2.2, 3.0], 3, &dev).unwrap();
    assert_eq!(x.to_dtype(DType::I64).unwrap().to_vec::<i64>().unwrap(), vec![1, -2, 3]);
    assert_eq!(
        x.to_dtype(DType::F32)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .to_vec::<f32>()
            .unwrap(),
        vec![1.7, -2.2, 3.0]
    );
    let labels = Tensor::from_vec(vec![3i64, 1, 3], 3, &dev).unwrap();
    assert_eq!(labels.eq_scalar(3.0).unwrap().to_vec::<i64>().unwrap(), vec![1, 0, 1]);
    assert_eq!(labels.eq(&labels).unwrap().to_vec::<i64>().unwrap(), vec![1, 1, 1]);
    assert_eq!(
        labels.to_device(&Device::cpu()).unwrap().to_vec::<i64>().unwrap(),
        vec![3, 1, 3]
    );
    assert_eq!(DType::BF16.size_in_bytes(), 2);
}
