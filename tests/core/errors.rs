//! User mistakes give clear errors, never panics.

use neurite::{DType, Device, Error, Tensor};

fn f32s(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F32, &Device::cpu()).unwrap()
}

fn message(e: Error) -> String {
    e.to_string()
}

#[test]
fn matmul_shape_mismatch_names_op_and_shapes() {
    let e = f32s(&[2, 3]).matmul(&f32s(&[4, 5])).unwrap_err();
    assert!(matches!(e, Error::ShapeMismatch { .. }));
    let m = message(e);
    assert!(
        m.contains("matmul") && m.contains("[2, 3]") && m.contains("[4, 5]"),
        "{m}"
    );
    let m = message(f32s(&[]).matmul(&f32s(&[3])).unwrap_err());
    assert!(m.contains("rank 1"), "{m}");
    let m = message(f32s(&[3]).matmul(&f32s(&[4, 1])).unwrap_err());
    assert!(m.contains("matmul") && m.contains("[3]") && m.contains("[4, 1]"), "{m}");
    let m = message(f32s(&[2, 2, 3]).matmul(&f32s(&[3, 3, 1])).unwrap_err());
    assert!(m.contains("matmul") && m.contains("broadcast"), "{m}");
}

#[test]
fn non_broadcastable_shapes() {
    let e = f32s(&[2, 3]).add(&f32s(&[4])).unwrap_err();
    assert!(matches!(e, Error::BroadcastIncompatible { .. }));
    let m = message(e);
    assert!(m.contains("add") && m.contains("[2, 3]") && m.contains("[4]"), "{m}");
    let m = message(f32s(&[2, 3]).broadcast_as([3, 3]).unwrap_err());
    assert!(m.contains("broadcast_as"), "{m}");
}

#[test]
fn mixed_dtypes() {
    let a = f32s(&[2]);
    let b = Tensor::zeros(2, DType::F64, &Device::cpu()).unwrap();
    let e = a.mul(&b).unwrap_err();
    assert!(matches!(e, Error::DTypeMismatch { .. }));
    let m = message(e);
    assert!(m.contains("mul") && m.contains("F32") && m.contains("F64"), "{m}");
    assert!(message(a.matmul(&b.reshape([2, 1]).unwrap()).unwrap_err()).contains("matmul"));
    let ids = Tensor::from_vec(vec![0i64], 1, &Device::cpu()).unwrap();
    let m = message(ids.exp().unwrap_err());
    assert!(m.contains("exp") && m.contains("I64"), "{m}");
    let m = message(a.index_select(0usize, &a).unwrap_err());
    assert!(m.contains("index_select") && m.contains("i64"), "{m}");
}

#[test]
fn asking_for_a_gpu_without_one_is_an_error() {
    // Device mismatches need a second device: the CUDA parity tests cover them.
    // Without the `cuda` feature, asking for a GPU must be an error that says why.
    #[cfg(not(feature = "cuda"))]
    {
        let m = message(Device::cuda(0).unwrap_err());
        assert!(m.contains("CUDA unavailable") && m.contains("--features cuda"), "{m}");
        let (dev, why) = Device::best_with_reason();
        assert!(dev.is_cpu());
        assert!(why.is_some_and(|w| w.contains("cuda")));
    }
    assert!(message(Device::parse("tpu").unwrap_err()).contains("unknown device"));
    assert!(message(Device::parse("cuda:x").unwrap_err()).contains("ordinal"));
}

#[test]
fn out_of_range_indices() {
    let a = f32s(&[3, 2]);
    let bad = Tensor::from_vec(vec![0i64, 3], 2, &Device::cpu()).unwrap();
    let e = a.index_select(0usize, &bad).unwrap_err();
    assert!(matches!(e, Error::IndexOutOfRange { index: 3, size: 3, .. }), "{e}");
    assert!(message(e).contains("index_select"));
    let neg = Tensor::from_vec(vec![-1i64, 0, 0, 0, 0, 0], (3, 2), &Device::cpu()).unwrap();
    assert!(message(a.gather(1usize, &neg).unwrap_err()).contains("gather"));
    let m = message(a.narrow(0usize, 2, 2).unwrap_err());
    assert!(m.contains("narrow") && m.contains("size 3"), "{m}");
    assert!(
        Tensor::from_vec(vec![5i64], 1, &Device::cpu())
            .unwrap()
            .one_hot(3, DType::F32)
            .is_err()
    );
}

#[test]
fn out_of_range_dims() {
    let a = f32s(&[2, 3]);
    let e = a.sum_dim(2usize, false).unwrap_err();
    assert!(matches!(e, Error::DimOutOfRange { .. }));
    let m = message(e);
    assert!(
        m.contains("sum") && m.contains("[2, 3]") && m.contains("dimension 2"),
        "{m}"
    );
    assert!(message(a.softmax(-3i64).unwrap_err()).contains("softmax"));
    assert!(message(a.transpose(0usize, 5).unwrap_err()).contains("transpose"));
    assert!(message(a.unsqueeze(4).unwrap_err()).contains("unsqueeze"));
    assert!(message(a.permute(&[0usize, 0]).unwrap_err()).contains("twice"));
    assert!(a.sum_dims(&[1usize, 1], false).is_err());
}

#[test]
fn reshape_to_wrong_element_count() {
    let e = f32s(&[2, 3]).reshape([4, 2]).unwrap_err();
    assert!(matches!(e, Error::ElementCountMismatch { .. }));
    let m = message(e);
    assert!(
        m.contains("reshape") && m.contains("[2, 3]") && m.contains("[4, 2]"),
        "{m}"
    );
    let m = message(Tensor::from_vec(vec![1f32, 2.], (3, 1), &Device::cpu()).unwrap_err());
    assert!(m.contains("from_vec"), "{m}");
}

#[test]
fn bad_arguments() {
    let img = f32s(&[1, 1, 4, 4]);
    assert!(message(img.conv2d(&f32s(&[2, 3, 3, 3]), None, (1, 1), (0, 0)).unwrap_err()).contains("conv2d"));
    assert!(message(img.max_pool2d((5, 5), (1, 1), (0, 0)).unwrap_err()).contains("max_pool2d"));
    assert!(message(img.avg_pool2d((2, 2), (0, 1), (0, 0)).unwrap_err()).contains("stride"));
    assert!(
        message(
            f32s(&[4])
                .conv2d(&f32s(&[1, 1, 1, 1]), None, (1, 1), (0, 0))
                .unwrap_err()
        )
        .contains("conv2d")
    );
    assert!(f32s(&[2]).clamp(f64::NAN, 0.0).is_err());
    assert!(Tensor::arange(0.0, 1.0, 0.0, DType::F32, &Device::cpu()).is_err());
    assert!(Tensor::randn_with_mean_std(0.0, -1.0, 2, DType::F32, &Device::cpu()).is_err());
    assert!(f32s(&[2, 2]).backward().is_err());
    assert!(Tensor::cat(&[f32s(&[2, 3]), f32s(&[3, 2])], 0usize).is_err());
    let empty: [Tensor; 0] = [];
    assert!(Tensor::cat(&empty, 0usize).is_err());
    assert!(f32s(&[2, 3]).to_scalar::<f32>().is_err());
}
