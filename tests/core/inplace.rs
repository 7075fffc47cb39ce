//! In-place updates: values, aliasing, refusal while a graph is recorded.

use neurite::{DType, Device, Tensor};

#[test]
fn add_scaled_updates_every_handle_of_the_buffer() {
    let dev = Device::cpu();
    for dtype in [DType::F32, DType::F64, DType::F16, DType::BF16] {
        let p = Tensor::from_vec(vec![1.0f64, -2.0, 0.5, 4.0], 4, &dev)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        let view = p.reshape((2, 2)).unwrap();
        let g = Tensor::from_vec(vec![0.5f64, 1.0, -1.0, 2.0], 4, &dev)
            .unwrap()
            .to_dtype(dtype)
            .unwrap();
        p.add_scaled_(&g, -0.5).unwrap();
        let want = [0.75, -2.5, 1.0, 3.0];
        assert_eq!(
            p.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap(),
            want,
            "{dtype:?}"
        );
        assert_eq!(
            view.to_dtype(DType::F64)
                .unwrap()
                .flatten_all()
                .unwrap()
                .to_vec::<f64>()
                .unwrap(),
            want
        );
        // Adding a tensor to itself reads the buffer it writes: doubled, not garbled.
        p.add_scaled_(&p, 1.0).unwrap();
        assert_eq!(
            p.to_dtype(DType::F64).unwrap().to_vec::<f64>().unwrap(),
            [1.5, -5.0, 2.0, 6.0]
        );
    }
}

#[test]
fn add_scaled_refuses_what_it_cannot_do() {
    let dev = Device::cpu();
    let w = Tensor::ones(3, DType::F32, &dev).unwrap().requires_grad();
    let g = Tensor::ones(3, DType::F32, &dev).unwrap();
    let err = w.add_scaled_(&g, 1.0).unwrap_err().to_string();
    assert!(err.contains("add_scaled_") && err.contains("no_grad"), "{err}");
    neurite::no_grad(|| w.add_scaled_(&g, 1.0)).unwrap();
    assert_eq!(w.to_vec::<f32>().unwrap(), [2.0; 3]);
    let short = Tensor::ones(2, DType::F32, &dev).unwrap();
    assert!(neurite::no_grad(|| w.add_scaled_(&short, 1.0)).is_err());
    let ints = Tensor::from_vec(vec![1i64, 2, 3], 3, &dev).unwrap();
    assert!(ints.add_scaled_(&ints, 1.0).is_err());
}
