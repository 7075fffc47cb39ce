//! `Display` against PyTorch's `str(t)` (tests/fixtures/display_torch.json,
//! written by display_torch.py): every case is rebuilt and must print the same
//! string, character for character.

use neurite::{DType, Device, PrintOptions, Tensor};
use serde_json::Value;

fn load() -> Value {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let path = std::path::Path::new(&dir).join("tests/fixtures/display_torch.json");
    serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture file")).expect("fixture JSON")
}

fn dtype(name: &str) -> DType {
    match name {
        "f32" => DType::F32,
        "f64" => DType::F64,
        "f16" => DType::F16,
        "bf16" => DType::BF16,
        "i64" => DType::I64,
        other => panic!("unknown dtype {other}"),
    }
}

/// The case's tensor; values are Python reprs (`nan`, `-inf`, `-0.0`, `1e-05`).
fn rebuild(case: &Value) -> Tensor {
    let shape: Vec<usize> = case["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_u64().unwrap() as usize)
        .collect();
    let strs: Vec<&str> = case["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let dt = dtype(case["dtype"].as_str().unwrap());
    let dev = Device::cpu();
    let t = if dt == DType::I64 {
        let v: Vec<i64> = strs.iter().map(|s| s.parse().unwrap()).collect();
        Tensor::from_vec(v, shape, &dev).unwrap()
    } else {
        let v: Vec<f64> = strs.iter().map(|s| s.parse().unwrap()).collect();
        Tensor::from_vec(v, shape, &dev).unwrap().to_dtype(dt).unwrap()
    };
    if case["requires_grad"].as_bool().unwrap() {
        t.requires_grad()
    } else {
        t
    }
}

fn options(case: &Value) -> PrintOptions {
    let o = &case["options"];
    let mut opts = PrintOptions::default();
    if let Some(p) = o.get("precision") {
        opts.precision = p.as_u64().unwrap() as usize;
    }
    if let Some(p) = o.get("threshold") {
        opts.threshold = p.as_u64().unwrap() as usize;
    }
    if let Some(p) = o.get("edgeitems") {
        opts.edgeitems = p.as_u64().unwrap() as usize;
    }
    if let Some(p) = o.get("linewidth") {
        opts.linewidth = p.as_u64().unwrap() as usize;
    }
    if let Some(p) = o.get("sci_mode") {
        opts.sci_mode = Some(p.as_bool().unwrap());
    }
    opts
}

#[test]
fn display_matches_pytorch_str() {
    let fx = load();
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 40, "fixture has {} cases", cases.len());
    let mut failures = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let expected = case["str"].as_str().unwrap();
        let t = rebuild(case);
        let opts = options(case);
        let got = if opts == PrintOptions::default() {
            format!("{t}")
        } else {
            t.format_with(&opts).unwrap()
        };
        if got != expected {
            failures.push(format!("case {name}:\n--- pytorch\n{expected}\n--- neurite\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn formatter_precision_sets_the_precision() {
    let fx = load();
    let case = fx["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "precision_2")
        .unwrap();
    let t = rebuild(case);
    assert_eq!(format!("{t:.2}"), case["str"].as_str().unwrap());
    assert_eq!(
        format!("{t:.2}"),
        "tensor([[  0.12,  -2.00],\n        [  3.14, 100.50]])"
    );
}

#[test]
fn debug_shows_shape_dtype_device_and_values() {
    let t = Tensor::from_vec(vec![1.5f64, -2.0], 2, &Device::cpu()).unwrap();
    assert_eq!(
        format!("{t:?}"),
        "Tensor[[2], f64, cpu] tensor([ 1.5000, -2.0000], dtype=torch.float64)"
    );
}

#[test]
fn op_results_print_no_requires_grad_suffix() {
    // Only trainable leaves carry the flag; PyTorch shows `grad_fn=` for results,
    // which neurite does not print.
    let w = Tensor::from_vec(vec![1f32, 2.], 2, &Device::cpu())
        .unwrap()
        .requires_grad();
    assert_eq!(format!("{w}"), "tensor([1., 2.], requires_grad=True)");
    let y = w.mul_scalar(2.0).unwrap();
    assert_eq!(format!("{y}"), "tensor([2., 4.])");
}

/// On a GPU every case prints as PyTorch prints the same tensor on `cuda:0`
/// (summaries gather their edges on the device). Skips without a GPU, unless
/// `NEURITE_REQUIRE_GPU=1`.
#[cfg(feature = "cuda")]
#[test]
fn cuda_tensors_print_like_pytorch_with_the_device() {
    crate::cuda_emu::install_if_requested("display::cuda_tensors_print_like_pytorch_with_the_device");
    let dev = match Device::cuda(0) {
        Ok(d) => d,
        Err(e) => {
            assert_ne!(
                std::env::var("NEURITE_REQUIRE_GPU").as_deref(),
                Ok("1"),
                "NEURITE_REQUIRE_GPU=1 but the GPU is unavailable: {e}"
            );
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "display CUDA test skipped: {e}");
            return;
        }
    };
    let fx = load();
    let mut failures = Vec::new();
    for case in fx["cases"].as_array().unwrap() {
        let cpu = rebuild(case);
        let t = cpu.to_device(&dev).unwrap().detach();
        let t = if cpu.is_requires_grad() { t.requires_grad() } else { t };
        let expected = case["str_cuda"].as_str().unwrap();
        let got = t.format_with(&options(case)).unwrap();
        if got != expected {
            let name = case["name"].as_str().unwrap();
            failures.push(format!("case {name}:\n--- pytorch\n{expected}\n--- neurite\n{got}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
