//! The Rust half of `benches/compare/core.py`: times the same workloads as the
//! PyTorch script with the same method (warm-up, then the median of repeated
//! timed runs) and prints one JSON object.

mod common;

use neurite::Device;
use std::time::Instant;

/// Median seconds per call of `f`, over `reps` timed batches of calls lasting ~0.1 s each.
fn median_secs(mut f: impl FnMut(), reps: usize) -> f64 {
    for _ in 0..3 {
        f();
    }
    let t0 = Instant::now();
    f();
    let once = t0.elapsed().as_secs_f64().max(1e-7);
    let calls = ((0.1 / once) as usize).clamp(1, 10_000);
    let mut samples: Vec<f64> = (0..reps)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                f();
            }
            t.elapsed().as_secs_f64() / calls as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Whether the workload named `name` runs: all of them unless `NEURITE_BENCH_ONLY`
/// names a substring (for profiling one workload under `perf`).
fn selected(name: &str) -> bool {
    std::env::var("NEURITE_BENCH_ONLY").map_or(true, |only| name.contains(&only))
}

fn main() {
    // `cargo bench` passes --bench; any other argument is a criterion-style filter we ignore.
    let dev = Device::cpu();
    let reps = std::env::var("NEURITE_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let mut out = Vec::new();
    // Times `f` when `name` is selected and records `figure(seconds per call)` under `name`.
    let mut bench = |name: String, f: &mut dyn FnMut(), figure: &dyn Fn(f64) -> f64| {
        if selected(&name) {
            let s = median_secs(&mut *f, reps);
            out.push(format!("\"{name}\": {:.3}", figure(s)));
        }
    };
    for (m, k, n) in [(1024, 1024, 1024), (2048, 2048, 2048), (128, 784, 512), (128, 512, 256)] {
        let (a, b) = common::gemm_operands(m, k, n, &dev);
        bench(
            format!("gemm_{m}x{k}x{n}_gflops"),
            &mut || {
                a.matmul(&b).expect("matmul");
            },
            &|s| 2.0 * (m * k * n) as f64 / s / 1e9,
        );
    }
    let mlp = common::Mlp::new(&dev);
    for batch in [128usize, 32] {
        let (x, y) = common::mlp_batch(batch, &dev);
        let per_s = |s: f64| batch as f64 / s;
        bench(
            format!("mlp_fwd_bwd_b{batch}_samples_per_s"),
            &mut || {
                mlp.forward_backward(&x, &y).expect("step");
            },
            &per_s,
        );
        bench(
            format!("mlp_train_step_b{batch}_samples_per_s"),
            &mut || mlp.train_step(&x, &y).expect("step"),
            &per_s,
        );
    }
    let cnn = common::Cnn::new(&dev);
    let (x, y) = common::cnn_batch(64, &dev);
    bench(
        "cnn_train_step_b64_samples_per_s".into(),
        &mut || cnn.train_step(&x, &y).expect("step"),
        &|s| 64.0 / s,
    );
    let (x1, _) = common::mlp_batch(1, &dev);
    bench(
        "mlp_forward_b1_us".into(),
        &mut || {
            mlp.infer(&x1).expect("forward");
        },
        &|s| s * 1e6,
    );
    println!("{{{}}}", out.join(", "));
}
