//! The Rust half of `benches/compare/quant.py`: batch-1 and batch-64
//! inference of the 784-512-256-10 MLP in f32 and with dynamic int8
//! quantization, timed as `compare_core` times (warm-up, then the median of
//! repeated runs), printed as one JSON object of microseconds per call.

use neurite::nn::{Forward, Linear, Module, ReLU, Sequential};
use neurite::quant::{Int8Kernel, quantize_dynamic};
use neurite::{DType, Device, Tensor};
use std::time::Instant;

/// Median seconds per call of `f`, over `reps` timed batches of ~0.1 s each.
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
    let reps = std::env::var("NEURITE_BENCH_REPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(15);
    let dev = Device::cpu();
    neurite::manual_seed(0);
    let mut f32_model = Sequential::new()
        .add(Linear::new(784, 512))
        .add(ReLU)
        .add(Linear::new(512, 256))
        .add(ReLU)
        .add(Linear::new(256, 10));
    f32_model.eval();
    let int8_model = quantize_dynamic(&f32_model, &["Linear"]).expect("quantize");
    let mut out = vec![format!("\"int8_kernel\": \"{}\"", Int8Kernel::best().name())];
    for batch in [1usize, 64] {
        let x = Tensor::rand((batch, 784), DType::F32, &dev).expect("input");
        for (name, model) in [("f32", &f32_model), ("int8", &int8_model)] {
            let s = median_secs(
                || {
                    neurite::no_grad(|| model.forward(&x)).expect("forward");
                },
                reps,
            );
            out.push(format!("\"mlp_{name}_forward_b{batch}_us\": {:.3}", s * 1e6));
        }
    }
    println!("{{{}}}", out.join(", "));
}
