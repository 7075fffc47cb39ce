// An enum has no fixed set of submodules: the derive refuses it.
use neurite::nn::{Conv2d, Linear, Module};

#[derive(Module)]
enum Layer {
    Dense(Linear),
    Conv(Conv2d),
}

fn main() {}
