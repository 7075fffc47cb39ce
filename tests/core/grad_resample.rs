//! Finite-difference gradients and argument errors of padding, flip/roll,
//! repeat/tile, tril/triu, adaptive pooling and interpolation.

use crate::gradcheck::{check, randt};
use neurite::{DType, Device, Error, Result, Tensor};

/// A fixed weighting, so that every output entry reaches the scalar
/// differently. The weights stay in [-0.5, 0.5): large ones would make the
/// scalar big enough for the finite differences to lose their precision.
fn weighted(y: Tensor) -> Result<Tensor> {
    let n = y.elem_count();
    let w: Vec<f64> = (0..n).map(|i| ((i * 37 + 11) % 17) as f64 / 17.0 - 0.5).collect();
    let w = Tensor::from_vec(w, y.shape(), &Device::cpu())?;
    y.mul(&w)?.sum_all()
}

fn grad(shape: &[usize], seed: u64, f: impl Fn(&Tensor) -> Result<Tensor>) {
    check(&[randt(shape, seed)], |t| weighted(f(&t[0])?), 1e-6);
}

#[test]
fn grad_pad_modes() {
    grad(&[2, 2, 3, 4], 1, |x| x.pad(&[2, -1, 1, 3], "constant", 0.5));
    grad(&[2, 2, 3, 4], 2, |x| x.pad(&[3, 2, 2, 1], "reflect", 0.0));
    grad(&[2, 3, 4], 3, |x| x.pad(&[4, 6], "replicate", 0.0));
    grad(&[2, 2, 3, 4], 4, |x| x.pad(&[4, 3, 3, -1], "circular", 0.0));
}

#[test]
fn grad_flip_roll_repeat() {
    grad(&[2, 3, 4], 5, |x| x.flip(&[-1i64, 0]));
    grad(&[3, 4], 6, |x| x.roll(&[2, -1], &[1usize, 0]));
    grad(&[2, 3], 7, |x| x.repeat(&[2, 3, 2]));
    grad(&[2, 3], 8, |x| x.tile(&[3]));
}

#[test]
fn grad_tril_triu() {
    grad(&[2, 3, 4], 9, |x| x.tril(0));
    grad(&[4, 3], 10, |x| x.triu(-1));
}

#[test]
fn grad_adaptive_pools() {
    grad(&[2, 2, 7, 5], 11, |x| x.adaptive_avg_pool2d((3, 4)));
    grad(&[1, 2, 3, 4], 12, |x| x.adaptive_avg_pool2d((Some(5), None)));
    grad(&[2, 2, 7, 5], 13, |x| x.adaptive_max_pool2d((3, 2)));
    grad(&[2, 3, 9], 14, |x| x.adaptive_max_pool1d(4));
}

#[test]
fn grad_interpolate() {
    grad(&[1, 2, 4, 5], 15, |x| {
        x.interpolate(Some(&[7, 3]), None, "bilinear", Some(false))
    });
    grad(&[1, 2, 4, 5], 16, |x| {
        x.interpolate(None, Some(&[1.5]), "bilinear", Some(true))
    });
    grad(&[2, 2, 5], 17, |x| x.interpolate(Some(&[8]), None, "linear", None));
    grad(&[1, 2, 3, 4], 18, |x| {
        x.interpolate(None, Some(&[1.7, 0.8]), "nearest", None)
    });
}

fn invalid(r: Result<Tensor>, needles: &[&str]) {
    match r {
        Err(Error::InvalidArgument { msg, op }) => {
            for n in needles {
                assert!(msg.contains(n), "{op}: {msg:?} does not mention {n:?}");
            }
        }
        Err(e) => panic!("expected an invalid argument, got {e}"),
        Ok(t) => panic!("expected an error, got shape {}", t.shape()),
    }
}

#[test]
fn pad_errors() {
    let x = Tensor::zeros((1, 2, 3, 4), DType::F32, &Device::cpu()).unwrap();
    invalid(x.pad(&[1, 2, 3], "constant", 0.0), &["divisible by 2"]);
    invalid(x.pad(&[1; 10], "constant", 0.0), &["5 (left, right) pairs"]);
    invalid(x.pad(&[1, 1], "wrap", 0.0), &["\"wrap\"", "reflect"]);
    let x3 = Tensor::zeros((2, 3, 4), DType::F32, &Device::cpu()).unwrap();
    invalid(x3.pad(&[4, 0], "reflect", 0.0), &["less than", "size 4"]);
    invalid(x.pad(&[0, 0, 0, 3], "reflect", 0.0), &["dim 2", "size 3"]);
    invalid(x3.pad(&[5, 0], "circular", 0.0), &["at most"]);
    invalid(x.pad(&[-3, -2], "constant", 0.0), &["negative size -1"]);
    // PyTorch crops the input before padding, so a crop cannot eat new entries.
    invalid(x.pad(&[2, -5], "constant", 0.0), &["crops more than its 4 entries"]);
    invalid(x3.pad(&[1, 1, 1, 1, 1, 1], "reflect", 0.0), &["4-D or 5-D"]);
    let v = Tensor::zeros(5, DType::F32, &Device::cpu()).unwrap();
    invalid(v.pad(&[1, 1], "replicate", 0.0), &["2-D or 3-D"]);
    // The constant mode pads any rank, as in PyTorch.
    assert_eq!(v.pad(&[1, 1], "constant", 0.0).unwrap().dims(), &[7]);
}

#[test]
fn reshaping_errors() {
    let x = Tensor::zeros((2, 3), DType::F32, &Device::cpu()).unwrap();
    invalid(x.repeat(&[2]), &["at least one per dim"]);
    invalid(x.flip(&[1usize, 1]), &["twice"]);
    invalid(x.roll(&[1, 2], &[0usize]), &["2 shifts"]);
    invalid(x.roll(&[1, 2], &[] as &[usize]), &["one shift"]);
    let v = Tensor::zeros(3, DType::F32, &Device::cpu()).unwrap();
    invalid(v.tril(0), &["rank 2"]);
    invalid(v.triu(0), &["rank 2"]);
    assert_eq!(x.repeat(&[0, 2]).unwrap().dims(), &[0, 6]);
}

#[test]
fn adaptive_pool_errors() {
    let x = Tensor::zeros((1, 2, 3, 4), DType::F32, &Device::cpu()).unwrap();
    invalid(x.adaptive_avg_pool2d((0, 2)), &["must be positive"]);
    invalid(x.adaptive_max_pool2d((2, 0)), &["must be positive"]);
    invalid(x.flatten_all().unwrap().adaptive_avg_pool2d(2), &["(N, C, H, W)"]);
    invalid(x.adaptive_avg_pool1d(2), &["(N, C, L)"]);
    invalid(x.adaptive_max_pool1d(2), &["(N, C, L)"]);
    let empty = Tensor::zeros((1, 2, 0, 4), DType::F32, &Device::cpu()).unwrap();
    invalid(empty.adaptive_avg_pool2d(2), &["non-empty"]);
    let ids = Tensor::zeros((1, 2, 3, 4), DType::I64, &Device::cpu()).unwrap();
    assert!(ids.adaptive_max_pool2d(2).is_err());
}

#[test]
fn interpolate_errors() {
    let x = Tensor::zeros((1, 2, 3, 4), DType::F32, &Device::cpu()).unwrap();
    invalid(
        x.interpolate(Some(&[2, 2]), Some(&[2.0]), "nearest", None),
        &["only one"],
    );
    invalid(
        x.interpolate(None, None, "nearest", None),
        &["either size or scale_factor"],
    );
    invalid(x.interpolate(Some(&[2, 2]), None, "bicubic", None), &["\"bicubic\""]);
    invalid(x.interpolate(Some(&[2, 2]), None, "linear", None), &["(N, C, L)"]);
    invalid(
        x.interpolate(Some(&[2, 2]), None, "nearest", Some(true)),
        &["align_corners"],
    );
    invalid(
        x.interpolate(Some(&[2, 0]), None, "bilinear", None),
        &["must be positive"],
    );
    invalid(
        x.interpolate(None, Some(&[0.2]), "nearest", None),
        &["must be positive"],
    );
    invalid(
        x.interpolate(None, Some(&[-1.0]), "nearest", None),
        &["positive and finite"],
    );
    invalid(
        x.interpolate(Some(&[2, 2, 2]), None, "nearest", None),
        &["3 size values"],
    );
    let v = Tensor::zeros((2, 3), DType::F32, &Device::cpu()).unwrap();
    invalid(v.interpolate(Some(&[4]), None, "nearest", None), &["shape [2, 3]"]);
}

#[test]
fn resample_values() {
    let x = Tensor::from_vec(vec![1f64, 2., 3., 4.], (1, 1, 2, 2), &Device::cpu()).unwrap();
    let y = x.interpolate(None, Some(&[2.0]), "nearest", None).unwrap();
    assert_eq!(
        y.to_vec::<f64>().unwrap(),
        vec![1., 1., 2., 2., 1., 1., 2., 2., 3., 3., 4., 4., 3., 3., 4., 4.]
    );
    let inf = Tensor::from_vec(vec![1f64, f64::INFINITY, f64::NAN, 4.], (2, 2), &Device::cpu()).unwrap();
    assert_eq!(inf.tril(0).unwrap().to_vec::<f64>().unwrap()[1], 0.0);
    assert_eq!(inf.triu(0).unwrap().to_vec::<f64>().unwrap()[2], 0.0);
    let z = x.pad(&[1, 1, 1, 1], "constant", 0.0).unwrap();
    assert_eq!(z.dims(), &[1, 1, 4, 4]);
    assert_eq!(z.sum_all().unwrap().to_scalar::<f64>().unwrap(), 10.0);
}
