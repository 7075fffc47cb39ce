// #[module(config)] needs a Configurable impl; the error points at `config`.
use neurite::nn::{Linear, Module};

#[derive(Module)]
#[module(config)]
struct Net {
    fc: Linear,
}

fn main() {}
