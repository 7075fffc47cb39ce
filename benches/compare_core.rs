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

fn main() {
    // `cargo bench` passes --bench; any other argument is a criterion-style filter we ignore.
    let dev = Device::cpu();
    let reps = std::env::var("NEURITE_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let mut out = Vec::new();
    for (m, k, n) in [(1024, 1024, 1024), (2048, 2048, 2048), (128, 784, 512), (128, 512, 256)] {
        let (a, b) = common::gemm_operands(m, k, n, &dev);
        let s = median_secs(
            || {
                a.matmul(&b).expect("matmul");
            },
            reps,
        );
        out.push(format!(
            "\"gemm_{m}x{k}x{n}_gflops\": {:.3}",
            2.0 * (m * k * n) as f64 / s / 1e9
        ));
    }
    let mlp = common::Mlp::new(&dev);
    for batch in [128usize, 32] {
        let (x, y) = common::mlp_batch(batch, &dev);
        let s = median_secs(
            || {
                mlp.forward_backward(&x, &y).expect("step");
            },
            reps,
        );
        out.push(format!(
            "\"mlp_fwd_bwd_b{batch}_samples_per_s\": {:.1}",
            batch as f64 / s
        ));
        let s = median_secs(|| mlp.train_step(&x, &y).expect("step"), reps);
        out.push(format!(
            "\"mlp_train_step_b{batch}_samples_per_s\": {:.1}",
            batch as f64 / s
        ));
    }
    let cnn = common::Cnn::new(&dev);
    let (x, y) = common::cnn_batch(64, &dev);
    let s = median_secs(|| cnn.train_step(&x, &y).expect("step"), reps);
    out.push(format!("\"cnn_train_step_b64_samples_per_s\": {:.1}", 64.0 / s));
    let (x1, _) = common::mlp_batch(1, &dev);
    let s = median_secs(
        || {
            neurite::no_grad(|| -> neurite::Result<_> {
                let p = &mlp.params;
                let h = x1.matmul(&p[0])?.add(&p[1])?.relu()?;
                let h = h.matmul(&p[2])?.add(&p[3])?.relu()?;
                h.matmul(&p[4])?.add(&p[5])
            })
            .expect("forward");
        },
        reps,
    );
    out.push(format!("\"mlp_forward_b1_us\": {:.2}", s * 1e6));
    println!("{{{}}}", out.join(", "));
}
