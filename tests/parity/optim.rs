//! The fused optimizer kernels against PyTorch (tests/fixtures/cuda_optim.json,
//! made by cuda_optim.py). The CPU variant checks the reference formulas below,
//! which mirror kernels/optim.cu; the CUDA variant runs the kernels themselves.

use neurite::{Device, Result};
use serde_json::Value;

struct Case {
    optimizer: String,
    hyper: Value,
    p0: Vec<f64>,
    grads: Vec<Vec<f64>>,
    params: Vec<Vec<f64>>,
}

fn cases() -> Vec<Case> {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo or the GPU runner sets CARGO_MANIFEST_DIR");
    let path = std::path::Path::new(&dir).join("tests/fixtures/cuda_optim.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text).expect("valid fixture JSON");
    let nums = |x: &Value| -> Vec<f64> { x.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect() };
    v["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| Case {
            optimizer: c["optimizer"].as_str().unwrap().to_string(),
            hyper: c["hyper"].clone(),
            p0: nums(&c["p0"]),
            grads: c["grads"].as_array().unwrap().iter().map(nums).collect(),
            params: c["params"].as_array().unwrap().iter().map(nums).collect(),
        })
        .collect()
}

fn h(c: &Case, k: &str) -> f64 {
    c.hyper[k]
        .as_f64()
        .unwrap_or_else(|| c.hyper[k].as_bool().map(f64::from).unwrap_or(0.0))
}

fn lerp(a: f64, b: f64, w: f64) -> f64 {
    if w < 0.5 {
        a + w * (b - a)
    } else {
        b - (b - a) * (1.0 - w)
    }
}

/// The formulas of kernels/optim.cu, in f64: the parameters after each step.
fn reference(c: &Case) -> Vec<Vec<f64>> {
    let n = c.p0.len();
    let mut p = c.p0.clone();
    let (mut s1, mut s2, mut s3) = (vec![0.0f64; n], vec![0.0f64; n], vec![0.0f64; n]);
    let mut out = Vec::new();
    for (t, g) in c.grads.iter().enumerate() {
        let step = (t + 1) as f64;
        for i in 0..n {
            let mut gi = g[i];
            match c.optimizer.as_str() {
                "sgd" => {
                    let (m, damp, wd) = (h(c, "momentum"), h(c, "dampening"), h(c, "weight_decay"));
                    gi += wd * p[i];
                    if m != 0.0 {
                        s1[i] = if t == 0 { gi } else { m * s1[i] + (1.0 - damp) * gi };
                        gi = if h(c, "nesterov") != 0.0 { gi + m * s1[i] } else { s1[i] };
                    }
                    p[i] -= h(c, "lr") * gi;
                }
                "adam" | "adamw" => {
                    let (lr, b1, b2, eps, wd) = (
                        h(c, "lr"),
                        h(c, "beta1"),
                        h(c, "beta2"),
                        h(c, "eps"),
                        h(c, "weight_decay"),
                    );
                    if c.optimizer == "adamw" {
                        p[i] *= 1.0 - lr * wd;
                    } else {
                        gi += wd * p[i];
                    }
                    s1[i] = lerp(s1[i], gi, 1.0 - b1);
                    s2[i] = b2 * s2[i] + (1.0 - b2) * gi * gi;
                    let mut second = s2[i];
                    if h(c, "amsgrad") != 0.0 {
                        s3[i] = s3[i].max(s2[i]);
                        second = s3[i];
                    }
                    let denom = second.sqrt() / (1.0 - b2.powf(step)).sqrt() + eps;
                    p[i] -= lr / (1.0 - b1.powf(step)) * s1[i] / denom;
                }
                _ => {
                    let (lr, a, eps, wd, m) = (
                        h(c, "lr"),
                        h(c, "alpha"),
                        h(c, "eps"),
                        h(c, "weight_decay"),
                        h(c, "momentum"),
                    );
                    gi += wd * p[i];
                    s1[i] = a * s1[i] + (1.0 - a) * gi * gi;
                    let avg = if h(c, "centered") != 0.0 {
                        s2[i] = lerp(s2[i], gi, 1.0 - a);
                        (s1[i] - s2[i] * s2[i]).sqrt() + eps
                    } else {
                        s1[i].sqrt() + eps
                    };
                    if m > 0.0 {
                        s3[i] = m * s3[i] + gi / avg;
                        p[i] -= lr * s3[i];
                    } else {
                        p[i] -= lr * gi / avg;
                    }
                }
            }
        }
        out.push(p.clone());
    }
    out
}

fn assert_params(label: &str, got: &[f64], want: &[f64], rtol: f64) {
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!(
            (a - b).abs() <= rtol * (1.0 + b.abs()),
            "{label}: element {i} is {a}, PyTorch has {b}"
        );
    }
}

fn optimizers_match_pytorch(dev: &Device) -> Result<()> {
    let all = cases();
    assert_eq!(all.len(), 8);
    for c in &all {
        let want = reference(c);
        for (step, (r, t)) in want.iter().zip(&c.params).enumerate() {
            assert_params(&format!("reference {} step {}", c.optimizer, step + 1), r, t, 1e-12);
        }
        #[cfg(feature = "cuda")]
        if let Device::Cuda(ordinal) = dev {
            gpu::run(c, *ordinal)?;
        }
    }
    let _ = dev;
    Ok(())
}
test_device!(optimizers_match_pytorch);

#[cfg(feature = "cuda")]
mod gpu {
    use super::{Case, assert_params, h};
    use neurite::backend::cuda::{AdamParams, CudaStorage, RmsPropParams, SgdParams};
    use neurite::backend::{BackendStorage, CpuStorage};
    use neurite::{DType, Result};

    fn upload(v: &[f64], dt: DType, ordinal: usize) -> Result<CudaStorage> {
        CudaStorage::from_cpu(&CpuStorage::F64(v.to_vec()).to_dtype(dt)?, ordinal)
    }

    /// Runs the case's steps with the fused kernels in f64 and f32.
    pub(super) fn run(c: &Case, ordinal: usize) -> Result<()> {
        for (dt, rtol) in [(DType::F64, 1e-12), (DType::F32, 2e-5)] {
            let n = c.p0.len();
            let zeros = vec![0.0; n];
            let mut p = upload(&c.p0, dt, ordinal)?;
            let (mut s1, mut s2, mut s3) = (
                upload(&zeros, dt, ordinal)?,
                upload(&zeros, dt, ordinal)?,
                upload(&zeros, dt, ordinal)?,
            );
            for (t, g) in c.grads.iter().enumerate() {
                let g = upload(g, dt, ordinal)?;
                match c.optimizer.as_str() {
                    "sgd" => {
                        let hp = SgdParams {
                            lr: h(c, "lr"),
                            momentum: h(c, "momentum"),
                            dampening: h(c, "dampening"),
                            weight_decay: h(c, "weight_decay"),
                            nesterov: h(c, "nesterov") != 0.0,
                        };
                        p.sgd_step(&g, Some(&mut s1), &hp, t == 0)?;
                    }
                    "adam" | "adamw" => {
                        let hp = AdamParams {
                            lr: h(c, "lr"),
                            beta1: h(c, "beta1"),
                            beta2: h(c, "beta2"),
                            eps: h(c, "eps"),
                            weight_decay: h(c, "weight_decay"),
                            decoupled_weight_decay: c.optimizer == "adamw",
                            amsgrad: h(c, "amsgrad") != 0.0,
                        };
                        p.adam_step(&g, &mut s1, &mut s2, Some(&mut s3), &hp, t as u64 + 1)?;
                    }
                    _ => {
                        let hp = RmsPropParams {
                            lr: h(c, "lr"),
                            alpha: h(c, "alpha"),
                            eps: h(c, "eps"),
                            weight_decay: h(c, "weight_decay"),
                            momentum: h(c, "momentum"),
                            centered: h(c, "centered") != 0.0,
                        };
                        p.rmsprop_step(&g, &mut s1, Some(&mut s2), Some(&mut s3), &hp)?;
                    }
                }
                let got: Vec<f64> = p.to_cpu()?.to_vec()?;
                assert_params(
                    &format!("GPU {} {dt} step {}", c.optimizer, t + 1),
                    &got,
                    &c.params[t],
                    rtol,
                );
            }
        }
        Ok(())
    }
}
