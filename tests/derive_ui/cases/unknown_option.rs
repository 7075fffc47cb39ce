// A misspelt option is an error at the option, as is a struct option on a field.
use neurite::Tensor;
use neurite::nn::{Linear, Module};

#[derive(Module)]
struct Net {
    fc: Linear,
    #[module(bufer)]
    running: Tensor,
    #[module(config)]
    head: Linear,
}

fn main() {}
