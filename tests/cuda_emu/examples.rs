//! The MNIST examples train a few steps on the emulated device, against the same
//! run on the CPU. The binaries come from `cargo build --features cuda --examples`
//! (the emulated suite's command builds them first).

use crate::cuda_emu;
use std::path::PathBuf;
use std::process::Command;

fn example_binary(name: &str) -> Option<PathBuf> {
    // target/<profile>/deps/cuda_emu-HASH -> target/<profile>/examples/NAME
    let exe = std::env::current_exe().ok()?;
    let p = exe.parent()?.parent()?.join("examples").join(name);
    p.is_file().then_some(p)
}

/// `(test loss, test accuracy, output)` of one smoke run.
fn run(name: &str, cuda: bool, out: &std::path::Path) -> (f64, f64, String) {
    let bin = example_binary(name)
        .unwrap_or_else(|| panic!("examples/{name} is not built: run `cargo build --features cuda --examples` first"));
    let mut cmd = Command::new(bin);
    cmd.args([
        "--epochs",
        "1",
        "--limit",
        "256",
        "--batch-size",
        "64",
        "--quiet",
        "--seed",
        "1",
    ])
    .args(["--device", if cuda { "cuda" } else { "cpu" }])
    .arg("--out")
    .arg(out)
    .env("CARGO_MANIFEST_DIR", cuda_emu::repo_root());
    if cuda {
        let libs = cuda_emu::build().unwrap();
        // The product binary, unchanged: the emulator comes in by LD_PRELOAD and is
        // found by soname when cudarc opens libcuda.so and libcublas.so.
        cmd.env(
            "LD_PRELOAD",
            format!("{}:{}", libs.libcuda.display(), libs.libcublas.display()),
        );
        if let Some(d) = cuda_emu::nvrtc_dir() {
            let old = std::env::var("LD_LIBRARY_PATH").unwrap_or_default();
            cmd.env("LD_LIBRARY_PATH", format!("{}:{old}", d.display()));
        }
    }
    let o = cmd.output().expect("run the example");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.status.success(),
        "{name} on {}:\n{text}",
        if cuda { "cuda" } else { "cpu" }
    );
    let value = |key: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no `{key}` line in:\n{text}"))
    };
    (value("test loss:"), value("test accuracy:"), text)
}

fn smoke(name: &str) {
    if !crate::emulator(&format!("examples::{name}")) {
        return;
    }
    let dir = std::env::temp_dir().join(format!("neurite-emu-{name}-{}", std::process::id()));
    let (gpu_loss, gpu_acc, text) = run(name, true, &dir.join("cuda"));
    assert!(text.contains("device: cuda:0"), "{text}");
    assert!(dir.join("cuda").join(format!("{name}.ckpt")).is_file());
    let (cpu_loss, cpu_acc, _) = run(name, false, &dir.join("cpu"));
    let _ = std::fs::remove_dir_all(&dir);
    // Same data, order and initial weights; the dropout masks differ (Philox on the
    // device, the CPU's generator), so the runs agree only approximately.
    assert!(
        gpu_loss.is_finite() && (gpu_loss - cpu_loss).abs() < 0.15,
        "loss: cuda {gpu_loss} vs cpu {cpu_loss}"
    );
    assert!(
        (gpu_acc - cpu_acc).abs() < 0.15,
        "accuracy: cuda {gpu_acc} vs cpu {cpu_acc}"
    );
}

#[test]
fn mnist_mlp_trains_on_the_emulated_device() {
    smoke("mnist_mlp");
}

#[test]
fn mnist_cnn_trains_on_the_emulated_device() {
    smoke("mnist_cnn");
}

#[test]
fn mnist_lstm_trains_on_the_emulated_device() {
    smoke("mnist_lstm");
}

#[test]
fn mnist_vit_trains_on_the_emulated_device() {
    smoke("mnist_vit");
}
