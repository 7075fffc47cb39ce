// A field that is neither a module nor a tensor needs #[module(skip)].
use neurite::nn::{Linear, Module};

#[derive(Module)]
struct Net {
    fc: Linear,
    steps: usize,
}

fn main() {}
