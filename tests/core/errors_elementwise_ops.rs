//! Bad arguments to the issue-13 element-wise ops, reductions and products
//! are errors naming the op and the offending values.

use neurite::nn::GELU;
use neurite::{DType, Device, Tensor};

fn f32s(shape: &[usize]) -> Tensor {
    Tensor::zeros(shape, DType::F32, &Device::cpu()).unwrap()
}

#[test]
fn duplicate_and_out_of_range_dims() {
    let x = f32s(&[2, 3, 4]);
    let m = x.max_dims(&[0i64, -3], false).unwrap_err().to_string();
    assert!(m.contains("amax") && m.contains("dimension 0 given twice"), "{m}");
    let m = x.min_dims(&[1i64, 1], true).unwrap_err().to_string();
    assert!(m.contains("amin") && m.contains('1'), "{m}");
    let m = x.max_dims(&[3i64], false).unwrap_err().to_string();
    assert!(m.contains("amax") && m.contains('3'), "{m}");
    let m = x.min_dims(&[-4i64], false).unwrap_err().to_string();
    assert!(m.contains("amin") && m.contains("-4"), "{m}");
    let m = x.sum_dims(&[2i64, -1], false).unwrap_err().to_string();
    assert!(m.contains("sum") && m.contains("twice"), "{m}");
    let m = x.mean_dims(&[5i64], false).unwrap_err().to_string();
    assert!(m.contains("mean") && m.contains('5'), "{m}");
    let m = f32s(&[2, 0]).max_dims(&[1i64], false).unwrap_err().to_string();
    assert!(m.contains("amax") && m.contains("empty dim 1"), "{m}");
}

#[test]
fn bad_gelu_approximate() {
    let x = f32s(&[3]);
    let m = x.gelu_approximate("fast").unwrap_err().to_string();
    assert!(
        m.contains("gelu") && m.contains("\"fast\"") && m.contains("tanh"),
        "{m}"
    );
    let m = GELU::new("Tanh").unwrap_err().to_string();
    assert!(m.contains("gelu") && m.contains("\"Tanh\""), "{m}");
}

#[test]
fn matmul_vector_mismatch() {
    for (a, b) in [(vec![3], vec![4]), (vec![3], vec![2, 4, 5]), (vec![2, 5, 3], vec![4])] {
        let m = f32s(&a).matmul(&f32s(&b)).unwrap_err().to_string();
        assert!(
            m.contains("matmul") && m.contains(&format!("{a:?}")) && m.contains(&format!("{b:?}")),
            "{m}"
        );
    }
    let m = f32s(&[]).matmul(&f32s(&[3])).unwrap_err().to_string();
    assert!(m.contains("matmul") && m.contains("rank 1"), "{m}");
    let m = f32s(&[2, 3]).matmul(&f32s(&[])).unwrap_err().to_string();
    assert!(m.contains("matmul") && m.contains("rank 1"), "{m}");
}

#[test]
fn pow_shape_mismatch_and_nan_clamp_bounds() {
    let m = f32s(&[2, 3]).pow(f32s(&[4])).unwrap_err().to_string();
    assert!(m.contains("pow") && m.contains("[2, 3]") && m.contains("[4]"), "{m}");
    let m = f32s(&[2]).clamp(f64::NAN, 1.0).unwrap_err().to_string();
    assert!(m.contains("clamp") && m.contains("NaN"), "{m}");
    let m = f32s(&[2]).clamp_min(f64::NAN).unwrap_err().to_string();
    assert!(m.contains("clamp_min"), "{m}");
}
