//! The models under test, mirrored in `tests/fixtures/derive_names_torch.py`.

use neurite::nn::{BatchNorm2d, Conv2d, Dropout, Forward, Linear, Module, ModuleDict, ModuleList, ReLU, Sequential};
use neurite::{DType, Device, Error, Result, Tensor};

/// conv (3x3, padding 1) -> batch norm -> ReLU -> dropout.
#[derive(Module)]
pub struct Block {
    pub conv1: Conv2d,
    pub bn1: BatchNorm2d,
    pub drop: Dropout,
    /// Configuration, not state: skipped.
    #[module(skip)]
    pub stride: usize,
}

impl Block {
    pub fn new(c_in: usize, c_out: usize, stride: usize) -> Block {
        Block {
            conv1: Conv2d::new(c_in, c_out, 3).with_stride(stride).with_padding(1),
            bn1: BatchNorm2d::new(c_out),
            drop: Dropout::new(0.5),
            stride,
        }
    }
}

impl Forward for Block {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.drop.forward(&self.bn1.forward(&self.conv1.forward(x)?)?.relu()?)
    }
}

/// Every kind of field the derive handles, on `[N, 1, 8, 8]` inputs.
#[derive(Module)]
pub struct Net {
    pub stem: Block,
    pub blocks: Vec<Block>,
    pub extra: Option<Block>,
    pub act: Box<dyn Forward>,
    pub heads: ModuleList,
    pub dict: ModuleDict,
    pub scale: Tensor,
    #[module(buffer)]
    pub running: Tensor,
    #[module(rename = "fc")]
    pub head_linear: Linear,
    #[module(skip)]
    pub label: String,
}

impl Net {
    /// The architecture, with or without the optional block.
    pub fn new(with_extra: bool) -> Net {
        let dev = Device::cpu();
        let mut heads = ModuleList::new();
        heads.push(Linear::new(8, 8));
        heads.push(ReLU);
        heads.push(Linear::new(8, 5));
        let mut dict = ModuleDict::new();
        dict.insert("digits", Linear::new(5, 3)).expect("valid key");
        dict.insert("parity", Linear::new(5, 3)).expect("valid key");
        Net {
            stem: Block::new(1, 4, 2),
            blocks: vec![Block::new(4, 4, 1), Block::new(4, 4, 1)],
            extra: with_extra.then(|| Block::new(4, 4, 1)),
            act: Box::new(Sequential::new().add(Linear::new(64, 8)).add(ReLU)),
            heads,
            dict,
            scale: Tensor::from_slice(&[1.0f32, 2.0, 0.5], 3, &dev)
                .expect("scale")
                .requires_grad(),
            running: Tensor::from_slice(&[0.1f32, -0.2, 0.3], 3, &dev).expect("running"),
            head_linear: Linear::new(5, 3),
            label: "net".into(),
        }
    }

    /// Everything after the convolutional blocks, on their `[N, 4, 4, 4]` output.
    pub fn head(&self, features: &Tensor) -> Result<Tensor> {
        let mut h = self.act.forward(&features.flatten(1, -1)?)?;
        for layer in &self.heads {
            h = layer.forward(&h)?;
        }
        let mut y = self.head_linear.forward(&h)?.mul(&self.scale)?.add(&self.running)?;
        for key in ["digits", "parity"] {
            let d = self
                .dict
                .get(key)
                .ok_or_else(|| Error::invalid("Net::head", format!("no head {key:?}")))?;
            y = y.add(&d.forward(&h)?)?;
        }
        Ok(y)
    }
}

impl Forward for Net {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = self.stem.forward(x)?;
        for b in &self.blocks {
            h = b.forward(&h)?;
        }
        if let Some(e) = &self.extra {
            h = e.forward(&h)?;
        }
        self.head(&h)
    }
}

/// A generic container: a module when `M` is one.
#[derive(Module)]
pub struct Wrapper<M: Module> {
    pub inner: M,
    pub gain: Tensor,
}

impl<M: Module> Wrapper<M> {
    pub fn new(inner: M, width: usize) -> Wrapper<M> {
        let gain = Tensor::ones(width, DType::F32, &Device::cpu())
            .expect("gain")
            .requires_grad();
        Wrapper { inner, gain }
    }
}

/// Unbounded type parameters: a module for any arguments that are fields
/// `#[derive(Module)]` can register.
#[derive(Module)]
pub struct Either<A, B> {
    pub first: A,
    pub second: Option<B>,
}

/// A tuple struct: fields named by position, the skipped one leaving a gap.
#[derive(Module)]
pub struct Pair(pub Linear, #[module(skip)] pub usize, pub Tensor);

impl Pair {
    pub fn new() -> Pair {
        let t = Tensor::zeros(3, DType::F32, &Device::cpu())
            .expect("tensor")
            .requires_grad();
        Pair(Linear::new(2, 3), 7, t)
    }
}

/// A random `[n, 1, 8, 8]` input.
pub fn input(n: usize) -> Tensor {
    Tensor::randn((n, 1, 8, 8), DType::F32, &Device::cpu()).expect("input")
}
