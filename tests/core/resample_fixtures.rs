//! Padding, flips, tiling, triangles, adaptive pooling and interpolation
//! against PyTorch (tests/fixtures/resample_torch.json): forward values,
//! input gradients and max-pooling indices.

use crate::fixture_json::{assert_close, floats, ints, load, tensor};
use neurite::{DType, Device, Result, Tensor};
use serde_json::Value;
use std::sync::OnceLock;

fn fixtures() -> &'static Value {
    static F: OnceLock<Value> = OnceLock::new();
    F.get_or_init(|| load("resample_torch.json"))
}

fn case(name: &str) -> &'static Value {
    fixtures()["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("case {name} exists"))
}

/// Checks `f`'s output and the gradient of `sum(out * linspace(-1, 1))`.
fn run(name: &str, f: impl Fn(&Tensor) -> Result<Tensor>) {
    let c = case(name);
    let x = tensor(&c["inputs"][0]).requires_grad();
    let out = f(&x).unwrap();
    let want = tensor(&c["output"]);
    assert_eq!(out.dims(), want.dims(), "{name}: output shape");
    assert_close(
        name,
        "output",
        &out.to_vec::<f64>().unwrap(),
        &want.to_vec::<f64>().unwrap(),
    );
    let n = out.elem_count();
    let weight = Tensor::arange(0.0, n as f64, 1.0, DType::F64, &Device::cpu())
        .unwrap()
        .affine(if n > 1 { 2.0 / (n - 1) as f64 } else { 0.0 }, -1.0)
        .unwrap()
        .reshape(out.shape())
        .unwrap();
    let grads = out.mul(&weight).unwrap().sum_all().unwrap().backward().unwrap();
    let g = grads.get(&x).expect("gradient").to_vec::<f64>().unwrap();
    assert_close(name, "grad", &g, &floats(&c["grads"][0]));
}

/// [`run`] for max pooling, also checking the indices.
fn run_max(name: &str, f: impl Fn(&Tensor) -> Result<(Tensor, Tensor)>) {
    run(name, |x| Ok(f(x)?.0));
    let c = case(name);
    let (_, idx) = f(&tensor(&c["inputs"][0])).unwrap();
    let want = ints(&c["indices"]);
    assert_eq!(idx.dtype(), DType::I64);
    assert_eq!(idx.to_vec::<i64>().unwrap(), want, "{name}: indices");
}

#[test]
fn pad_constant() {
    run("pad_constant_2d", |x| x.pad(&[1, 2, 0, 3], "constant", 1.5));
    run("pad_constant_3dims", |x| x.pad(&[1, 1, 2, 0, 1, 1], "constant", -2.0));
    run("pad_constant_negative", |x| x.pad(&[-1, 2, 3, -2], "constant", 0.0));
}

#[test]
fn pad_reflect() {
    run("pad_reflect_1d", |x| x.pad(&[4, 2], "reflect", 0.0));
    run("pad_reflect_2d", |x| x.pad(&[3, 1, 2, 3], "reflect", 0.0));
    run("pad_reflect_unbatched", |x| x.pad(&[1, 2, 3, 0], "reflect", 0.0));
    run("pad_reflect_negative", |x| x.pad(&[-1, 2, 1, -2], "reflect", 0.0));
}

#[test]
fn pad_replicate() {
    run("pad_replicate_1d", |x| x.pad(&[5, 0], "replicate", 0.0));
    run("pad_replicate_2d", |x| x.pad(&[3, 5, 1, 6], "replicate", 0.0));
    run("pad_replicate_negative", |x| x.pad(&[-1, 2, 0, -1], "replicate", 0.0));
}

#[test]
fn pad_circular() {
    run("pad_circular_1d", |x| x.pad(&[1, 3], "circular", 0.0));
    run("pad_circular_2d", |x| x.pad(&[5, 2, 4, 1], "circular", 0.0));
    run("pad_circular_negative", |x| x.pad(&[-1, 2, 1, -2], "circular", 0.0));
}

#[test]
fn flip_roll() {
    run("flip_0_2", |x| x.flip(&[0usize, 2]));
    run("roll_dims", |x| x.roll(&[1, -5], &[0usize, 1]));
    run("roll_flat", |x| x.roll(&[3], &[] as &[usize]));
}

#[test]
fn repeat_tile() {
    run("repeat_2_1_3", |x| x.repeat(&[2, 1, 3]));
    run("tile_2_2", |x| x.tile(&[2, 2]));
}

#[test]
fn tril_triu() {
    run("tril_1", |x| x.tril(1));
    run("tril_m1", |x| x.tril(-1));
    run("triu_0", |x| x.triu(0));
    run("triu_2", |x| x.triu(2));
}

#[test]
fn adaptive_avg() {
    run("adaptive_avg_3_2", |x| x.adaptive_avg_pool2d((3, 2)));
    run("adaptive_avg_4_none", |x| x.adaptive_avg_pool2d((Some(4), None)));
    run("adaptive_avg_global", |x| x.adaptive_avg_pool2d(1));
    run("adaptive_avg_grow", |x| x.adaptive_avg_pool2d((5, 7)));
    run("adaptive_avg_unbatched", |x| x.adaptive_avg_pool2d((4, 3)));
    run("adaptive_avg_1d", |x| x.adaptive_avg_pool1d(4));
}

#[test]
fn adaptive_max() {
    run_max("adaptive_max_3_2", |x| x.adaptive_max_pool2d_with_indices((3, 2)));
    run_max("adaptive_max_none_4", |x| {
        x.adaptive_max_pool2d_with_indices((None, Some(4)))
    });
    run_max("adaptive_max_grow", |x| x.adaptive_max_pool2d_with_indices((5, 7)));
    run_max("adaptive_max_1d", |x| x.adaptive_max_pool1d_with_indices(3));
}

#[test]
fn interpolate_nearest() {
    run("nearest_size_8_3", |x| {
        x.interpolate(Some(&[8, 3]), None, "nearest", None)
    });
    run("nearest_scale_1_7", |x| {
        x.interpolate(None, Some(&[1.7]), "nearest", None)
    });
    run("nearest_scale_2_3", |x| {
        x.interpolate(None, Some(&[2.0, 3.0]), "nearest", None)
    });
    run("nearest_scale_0_6", |x| {
        x.interpolate(None, Some(&[0.6]), "nearest", None)
    });
    run("nearest_1d_scale_2_5", |x| {
        x.interpolate(None, Some(&[2.5]), "nearest", None)
    });
}

#[test]
fn interpolate_bilinear() {
    run("bilinear_size_7_9", |x| {
        x.interpolate(Some(&[7, 9]), None, "bilinear", Some(false))
    });
    run("bilinear_size_7_9_align", |x| {
        x.interpolate(Some(&[7, 9]), None, "bilinear", Some(true))
    });
    run("bilinear_scale_1_5", |x| {
        x.interpolate(None, Some(&[1.5]), "bilinear", None)
    });
    run("bilinear_scale_1_5_align", |x| {
        x.interpolate(None, Some(&[1.5]), "bilinear", Some(true))
    });
    run("bilinear_down_3_2", |x| {
        x.interpolate(Some(&[3, 2]), None, "bilinear", Some(false))
    });
    run("bilinear_down_3_2_align", |x| {
        x.interpolate(Some(&[3, 2]), None, "bilinear", Some(true))
    });
    run("bilinear_scale_0_6", |x| {
        x.interpolate(None, Some(&[0.6]), "bilinear", Some(false))
    });
    run("bilinear_size_1", |x| {
        x.interpolate(Some(&[1, 3]), None, "bilinear", Some(true))
    });
}

#[test]
fn interpolate_linear() {
    run("linear_size_7", |x| {
        x.interpolate(Some(&[7]), None, "linear", Some(false))
    });
    run("linear_size_7_align", |x| {
        x.interpolate(Some(&[7]), None, "linear", Some(true))
    });
    run("linear_scale_2_3", |x| {
        x.interpolate(None, Some(&[2.3]), "linear", None)
    });
}
