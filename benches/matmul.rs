//! f32 GEMM throughput at the sizes the issue names, on the CPU and, with
//! `--features cuda` and a GPU that answers, on CUDA device 0 (cuBLAS), plus a
//! full reduction of 2^24 elements there (the multi-block `sum_all`).

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neurite::{DType, Device, Tensor};

const SIZES: [(usize, usize, usize); 3] = [(1024, 1024, 1024), (128, 784, 512), (128, 512, 256)];

/// Waits for the device's queued work, so that a GPU iteration is timed whole.
fn wait(dev: &Device) {
    #[cfg(feature = "cuda")]
    if let Device::Cuda(i) = dev {
        neurite::backend::cuda::synchronize(*i).expect("synchronize");
    }
    let _ = dev;
}

fn bench_on(c: &mut Criterion, dev: &Device, label: &str) {
    let mut g = c.benchmark_group(format!("matmul_f32_{label}"));
    for (m, k, n) in SIZES {
        let (a, b) = common::gemm_operands(m, k, n, dev);
        g.throughput(Throughput::Elements((2 * m * k * n) as u64));
        g.bench_function(format!("{m}x{k}@{k}x{n}"), |bench| {
            bench.iter(|| {
                let y = a.matmul(&b).expect("matmul");
                wait(dev);
                y
            })
        });
    }
    g.finish();
    let x = Tensor::ones(1 << 24, DType::F32, dev).expect("ones");
    let mut g = c.benchmark_group(format!("sum_all_f32_{label}"));
    g.throughput(Throughput::Elements(1 << 24));
    g.bench_function("2^24", |bench| {
        bench.iter(|| {
            let s = x.sum_all().expect("sum_all");
            wait(dev);
            s
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    bench_on(c, &Device::cpu(), "cpu");
    match Device::cuda(0) {
        Ok(gpu) => bench_on(c, &gpu, "cuda"),
        Err(e) => eprintln!("matmul bench: CUDA part skipped: {e}"),
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
