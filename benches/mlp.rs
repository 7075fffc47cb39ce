//! Forward + backward of a 784-512-256-10 MLP at batch 128 on the CPU.

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neurite::Device;

fn bench(c: &mut Criterion) {
    let dev = Device::cpu();
    let mlp = common::Mlp::new(&dev);
    let mut g = c.benchmark_group("mlp_784_512_256_10");
    for batch in [128, 32] {
        let (x, y) = common::mlp_batch(batch, &dev);
        g.throughput(Throughput::Elements(batch as u64));
        g.bench_function(format!("forward_backward_b{batch}"), |b| {
            b.iter(|| mlp.forward_backward(&x, &y).expect("step"))
        });
        g.bench_function(format!("train_step_sgd_b{batch}"), |b| {
            b.iter(|| mlp.train_step(&x, &y).expect("step"))
        });
    }
    let (x1, _) = common::mlp_batch(1, &dev);
    g.bench_function("forward_b1_no_grad", |b| b.iter(|| mlp.infer(&x1).expect("forward")));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
