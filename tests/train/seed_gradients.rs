//! The seed example's 10-16-8-1 network (ReLU, ReLU, sigmoid, binary
//! cross-entropy): autograd gradients against central finite differences and
//! against a hand-written backward pass with the textbook formulas, in f64.
//!
//! The article this crate started from wrote the backward pass by hand and
//! made two mistakes: each layer's weight gradient used the layer's own
//! output where its input belongs (`dW_l = delta_l^T a_l` instead of
//! `delta_l^T a_{l-1}`), and the output delta multiplied the sigmoid
//! derivative onto the BCE gradient, which already accounts for it
//! (`(a - y) * a * (1 - a)` instead of `a - y`). The last test shows that the
//! second mistake gives gradients that finite differences reject.

use crate::common::serial;
use neurite::loss::binary_cross_entropy;
use neurite::nn::{Forward, Linear, Module, ReLU, Sequential, Sigmoid};
use neurite::{DType, Device, Tensor};

const N: usize = 24;

fn network() -> Sequential {
    let mut m = Sequential::new()
        .add(Linear::new(10, 16))
        .add(ReLU)
        .add(Linear::new(16, 8))
        .add(ReLU)
        .add(Linear::new(8, 1))
        .add(Sigmoid);
    m.to_dtype(DType::F64).unwrap();
    m
}

/// Seeded normal inputs and labels from the example's rule.
fn batch() -> (Tensor, Tensor) {
    let x = Tensor::randn((N, 10), DType::F64, &Device::cpu()).unwrap();
    let y: Vec<f64> = x
        .to_vec2::<f64>()
        .unwrap()
        .iter()
        .map(|r| f64::from(r[0] + r[1] * r[2] - r[3] > 0.0))
        .collect();
    (x, Tensor::from_vec(y, (N, 1), &Device::cpu()).unwrap())
}

fn loss_value(model: &Sequential, x: &Tensor, y: &Tensor) -> f64 {
    neurite::no_grad(|| binary_cross_entropy(&model.forward(x)?, y)?.to_scalar::<f64>()).unwrap()
}

/// The textbook backward pass with tensor ops, under no-grad:
/// `delta_3 = (a3 - y) / N` (sigmoid + mean BCE), `dW_l = delta_l^T a_{l-1}`,
/// `db_l = sum(delta_l)`, `delta_{l-1} = (delta_l W_l) * relu'(z_{l-1})`.
/// With `article_bug`, the output delta is also multiplied by `a3 (1 - a3)`.
fn manual_grads(model: &Sequential, x: &Tensor, y: &Tensor, article_bug: bool) -> Vec<(String, Vec<f64>)> {
    neurite::no_grad(|| -> neurite::Result<_> {
        let p: std::collections::HashMap<String, Tensor> = model.named_parameters().into_iter().collect();
        let lin = |a: &Tensor, l: usize| -> neurite::Result<Tensor> {
            a.matmul(&p[&format!("{l}.weight")].t()?)?.add(&p[&format!("{l}.bias")])
        };
        let z1 = lin(x, 0)?;
        let a1 = z1.relu()?;
        let z2 = lin(&a1, 2)?;
        let a2 = z2.relu()?;
        let a3 = lin(&a2, 4)?.sigmoid()?;
        let mut d3 = a3.sub(y)?.div_scalar(N as f64)?;
        if article_bug {
            d3 = d3.mul(&a3.mul(&a3.affine(-1.0, 1.0)?)?)?;
        }
        let d2 = d3
            .matmul(&p["4.weight"])?
            .mul(&z2.gt_scalar(0.0)?.to_dtype(z2.dtype())?)?;
        let d1 = d2
            .matmul(&p["2.weight"])?
            .mul(&z1.gt_scalar(0.0)?.to_dtype(z1.dtype())?)?;
        let mut out = Vec::new();
        for (l, d, input) in [(0, &d1, x), (2, &d2, &a1), (4, &d3, &a2)] {
            out.push((format!("{l}.weight"), d.t()?.matmul(input)?.to_vec::<f64>()?));
            out.push((format!("{l}.bias"), d.sum_dim(0usize, false)?.to_vec::<f64>()?));
        }
        Ok(out)
    })
    .unwrap()
}

fn max_abs_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn autograd_matches_finite_differences_and_the_textbook_backward_pass() {
    let _g = serial();
    neurite::manual_seed(2024);
    let model = network();
    let (x, y) = batch();
    let grads = binary_cross_entropy(&model.forward(&x).unwrap(), &y)
        .unwrap()
        .backward()
        .unwrap();
    let manual = manual_grads(&model, &x, &y, false);
    let eps = 1e-6;
    let mut checked = 0;
    for ((name, p), (mname, mgrad)) in model.named_parameters().into_iter().zip(&manual) {
        assert_eq!(&name, mname);
        let auto = grads.get(&p).unwrap().to_vec::<f64>().unwrap();
        assert!(max_abs_diff(&auto, mgrad) < 1e-12, "{name}: autograd vs textbook");
        let original = p.to_vec::<f64>().unwrap();
        let shape = p.shape().clone();
        for i in 0..original.len() {
            let mut v = original.clone();
            v[i] = original[i] + eps;
            p.set_data(&Tensor::from_vec(v.clone(), shape.clone(), &Device::cpu()).unwrap())
                .unwrap();
            let up = loss_value(&model, &x, &y);
            v[i] = original[i] - eps;
            p.set_data(&Tensor::from_vec(v, shape.clone(), &Device::cpu()).unwrap())
                .unwrap();
            let down = loss_value(&model, &x, &y);
            let numeric = (up - down) / (2.0 * eps);
            let err = (numeric - auto[i]).abs();
            assert!(
                err <= 1e-7 + 1e-5 * numeric.abs(),
                "{name}[{i}]: autograd {} vs finite difference {numeric}",
                auto[i]
            );
            checked += 1;
        }
        p.set_data(&Tensor::from_vec(original, shape, &Device::cpu()).unwrap())
            .unwrap();
    }
    assert_eq!(checked, 10 * 16 + 16 + 16 * 8 + 8 + 8 + 1);
}

#[test]
fn the_articles_double_sigmoid_derivative_is_wrong() {
    let _g = serial();
    neurite::manual_seed(7);
    let model = network();
    let (x, y) = batch();
    let right = manual_grads(&model, &x, &y, false);
    let wrong = manual_grads(&model, &x, &y, true);
    // The output bias: one number, easy to check numerically.
    let b = model
        .named_parameters()
        .into_iter()
        .find(|(n, _)| n == "4.bias")
        .unwrap()
        .1;
    let b0 = b.to_vec::<f64>().unwrap()[0];
    let eps = 1e-6;
    let at = |v: f64| {
        b.set_data(&Tensor::from_vec(vec![v], 1, &Device::cpu()).unwrap())
            .unwrap();
        loss_value(&model, &x, &y)
    };
    let numeric = (at(b0 + eps) - at(b0 - eps)) / (2.0 * eps);
    at(b0);
    let right_b = right.iter().find(|(n, _)| n == "4.bias").unwrap().1[0];
    let wrong_b = wrong.iter().find(|(n, _)| n == "4.bias").unwrap().1[0];
    assert!((right_b - numeric).abs() < 1e-8, "{right_b} vs {numeric}");
    // a (1 - a) <= 1/4, so the article's gradient is at most a quarter of the true one.
    assert!(wrong_b.abs() <= 0.25 * numeric.abs() + 1e-12, "{wrong_b} vs {numeric}");
    assert!(
        (wrong_b - numeric).abs() > 0.5 * numeric.abs(),
        "{wrong_b} vs {numeric}"
    );
}
