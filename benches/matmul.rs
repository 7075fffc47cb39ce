//! f32 GEMM throughput on the CPU at the sizes the issue names.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neurite::Device;

fn bench(c: &mut Criterion) {
    let dev = Device::cpu();
    let mut g = c.benchmark_group("matmul_f32");
    for (m, k, n) in [(1024, 1024, 1024), (128, 784, 512), (128, 512, 256)] {
        let (a, b) = common::gemm_operands(m, k, n, &dev);
        g.throughput(Throughput::Elements((2 * m * k * n) as u64));
        g.bench_function(format!("{m}x{k}@{k}x{n}"), |bench| {
            bench.iter(|| a.matmul(&b).expect("matmul"))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
