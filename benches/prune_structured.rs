//! Forward time of the MNIST CNN (conv 1→32 3x3, ReLU, max-pool 2, conv 32→64
//! 3x3, ReLU, max-pool 2, Flatten, Linear 1600→10) at batch 64 on the CPU,
//! dense and after structured pruning of half the channels of both convs;
//! `cargo bench --bench prune_structured`.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use neurite::nn::prune::{ChannelNorm, prune_channels_all};
use neurite::nn::{Conv2d, Flatten, Forward, Linear, MaxPool2d, Module, ReLU, Sequential};
use neurite::{DType, Device, Tensor};
use std::time::Duration;

const BATCH: usize = 64;

fn mnist_cnn() -> Sequential {
    Sequential::new()
        .add(Conv2d::new(1, 32, 3))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Conv2d::new(32, 64, 3))
        .add(ReLU)
        .add(MaxPool2d::new(2))
        .add(Flatten::new())
        .add(Linear::new(64 * 5 * 5, 10))
}

fn bench(c: &mut Criterion) {
    neurite::manual_seed(0);
    let mut dense = mnist_cnn();
    dense.eval();
    // Every Linear/Conv2d but the last: both convs, the classifier keeps its 10 outputs.
    let (pruned, report) = prune_channels_all(&dense, 0.5, ChannelNorm::L1).expect("prune");
    eprintln!("{report}");
    let x = Tensor::randn((BATCH, 1, 28, 28), DType::F32, &Device::cpu()).expect("input");
    let mut g = c.benchmark_group("mnist_cnn_forward_b64");
    // A small, fast bench: a few seconds in all.
    g.sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, model) in [("dense", &dense), ("pruned_50pct", &pruned)] {
        eprintln!("{name}: {} parameters", model.num_parameters());
        g.bench_function(name, |b| {
            b.iter(|| neurite::no_grad(|| model.forward(&x)).expect("forward"))
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    // No plots: they need system fonts, which a headless machine may lack.
    config = Criterion::default().without_plots();
    targets = bench
}
criterion_main!(benches);
