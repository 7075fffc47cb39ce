//! Forward values and gradients compared with PyTorch (tests/fixtures/core_ops.json).

use crate::fixture_json::{assert_close, floats, load, tensor};
use neurite::{Device, Result, Tensor};

fn run(name: &str, f: impl Fn(&[Tensor]) -> Result<Tensor>) {
    let fixtures = load("core_ops.json");
    let case = fixtures["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .expect("case exists");
    let inputs: Vec<Tensor> = case["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| tensor(v).requires_grad())
        .collect();
    let out = f(&inputs).unwrap();
    let want_out = tensor(&case["output"]);
    assert_eq!(out.dims(), want_out.dims(), "{name}: output shape");
    assert_close(
        name,
        "output",
        &out.to_vec::<f64>().unwrap(),
        &want_out.to_vec::<f64>().unwrap(),
    );
    let n = out.elem_count();
    let weight = Tensor::arange(0.0, n as f64, 1.0, neurite::DType::F64, &Device::cpu())
        .unwrap()
        .affine(if n > 1 { 2.0 / (n - 1) as f64 } else { 0.0 }, -1.0)
        .unwrap()
        .reshape(out.shape())
        .unwrap();
    let grads = out.mul(&weight).unwrap().sum_all().unwrap().backward().unwrap();
    for (i, (x, want)) in inputs.iter().zip(case["grads"].as_array().unwrap()).enumerate() {
        let g = grads.get(x).expect("gradient").to_vec::<f64>().unwrap();
        assert_close(name, &format!("grad {i}"), &g, &floats(want));
    }
}

#[test]
fn conv2d() {
    run("conv2d_s2_p1_bias", |t| t[0].conv2d(&t[1], Some(&t[2]), (2, 2), (1, 1)));
}
#[test]
fn max_pool2d() {
    run("max_pool2d_k3_s2_p1", |t| t[0].max_pool2d((3, 3), (2, 2), (1, 1)));
}
#[test]
fn avg_pool2d() {
    run("avg_pool2d_k2_s2", |t| t[0].avg_pool2d((2, 2), (2, 2), (0, 0)));
}
#[test]
fn log_softmax() {
    run("log_softmax_dim1", |t| t[0].log_softmax(1usize));
}
#[test]
fn softmax() {
    run("softmax_dim0", |t| t[0].softmax(0usize));
}
#[test]
fn gelu() {
    run("gelu", |t| t[0].gelu());
}
#[test]
fn batched_matmul() {
    run("batched_matmul_broadcast", |t| t[0].matmul(&t[1]));
}
#[test]
fn var() {
    run("var_unbiased_dims_0_2", |t| t[0].var_dims(&[0usize, 2], false, true));
}
#[test]
fn sigmoid_tanh() {
    run("sigmoid_tanh_mix", |t| t[0].sigmoid()?.mul(&t[0].tanh()?));
}
