//! Workloads shared by the criterion benches and the side-by-side comparison,
//! so both measure exactly the same thing.

#![allow(dead_code)]

use neurite::nn::functional::linear;
use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::{DType, Device, Result, Tensor};
use std::sync::Mutex;

/// `a @ b` operands for an `m x k` by `k x n` product.
pub fn gemm_operands(m: usize, k: usize, n: usize, dev: &Device) -> (Tensor, Tensor) {
    neurite::manual_seed(0);
    (
        Tensor::randn((m, k), DType::F32, dev).expect("randn"),
        Tensor::randn((k, n), DType::F32, dev).expect("randn"),
    )
}

/// The SGD every training-step workload uses: lr 0.01, momentum 0.9 (the
/// PyTorch half uses `torch.optim.SGD` with the same settings).
fn sgd(params: &[Tensor]) -> Mutex<Sgd> {
    let config = SgdConfig {
        lr: 0.01,
        momentum: 0.9,
        ..Default::default()
    };
    Mutex::new(Sgd::new(params.to_vec(), config).expect("sgd"))
}

/// The parameters of a 784-512-256-10 MLP as `nn.Linear` stores them
/// (weights `[out, in]`), and its optimizer.
pub struct Mlp {
    pub params: Vec<Tensor>,
    opt: Mutex<Sgd>,
}

impl Mlp {
    pub fn new(dev: &Device) -> Mlp {
        neurite::manual_seed(1);
        let sizes = [784, 512, 256, 10];
        let mut params = Vec::new();
        for w in sizes.windows(2) {
            let bound = 1.0 / (w[0] as f64).sqrt();
            params.push(
                Tensor::rand_uniform(-bound, bound, (w[1], w[0]), DType::F32, dev)
                    .expect("init")
                    .requires_grad(),
            );
            params.push(
                Tensor::rand_uniform(-bound, bound, w[1], DType::F32, dev)
                    .expect("init")
                    .requires_grad(),
            );
        }
        let opt = sgd(&params);
        Mlp { params, opt }
    }

    /// The logits of `x`.
    pub fn logits(&self, x: &Tensor) -> Result<Tensor> {
        let p = &self.params;
        let h = linear(x, &p[0], Some(&p[1]))?.relu()?;
        let h = linear(&h, &p[2], Some(&p[3]))?.relu()?;
        linear(&h, &p[4], Some(&p[5]))
    }

    /// The logits of `x` with no graph recorded (inference).
    pub fn infer(&self, x: &Tensor) -> Result<Tensor> {
        neurite::no_grad(|| self.logits(x))
    }

    /// Cross-entropy of the logits against integer labels.
    pub fn loss(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        cross_entropy(&self.logits(x)?, y)
    }

    /// One forward and backward pass; returns the loss value.
    pub fn forward_backward(&self, x: &Tensor, y: &Tensor) -> Result<f32> {
        let loss = self.loss(x, y)?;
        let grads = loss.backward()?;
        debug_assert_eq!(grads.len(), 6);
        loss.to_scalar::<f32>()
    }

    /// A forward, backward and SGD-with-momentum update: a training step.
    pub fn train_step(&self, x: &Tensor, y: &Tensor) -> Result<()> {
        let grads = self.loss(x, y)?.backward()?;
        self.opt.lock().expect("optimizer").step(&grads)
    }
}

/// Mean cross-entropy of `logits` against integer labels, written out as the
/// PyTorch half writes it.
fn cross_entropy(logits: &Tensor, y: &Tensor) -> Result<Tensor> {
    logits
        .log_softmax(1usize)?
        .gather(1usize, &y.unsqueeze(1)?)?
        .mean_all()?
        .neg()
}

/// A random batch of MNIST-shaped inputs and labels.
pub fn mlp_batch(batch: usize, dev: &Device) -> (Tensor, Tensor) {
    neurite::manual_seed(2);
    let x = Tensor::rand((batch, 784), DType::F32, dev).expect("rand");
    let labels: Vec<i64> = (0..batch as i64).map(|i| (i * 7) % 10).collect();
    (x, Tensor::from_vec(labels, batch, dev).expect("labels"))
}

/// The parameters of the small CNN, `conv3x3(1 -> 32, pad 1) + ReLU +
/// MaxPool2d(2)`, `conv3x3(32 -> 64, pad 1) + ReLU + MaxPool2d(2)`, then
/// `Linear(64 * 7 * 7 -> 10)`, and its optimizer.
pub struct Cnn {
    pub params: Vec<Tensor>,
    opt: Mutex<Sgd>,
}

impl Cnn {
    pub fn new(dev: &Device) -> Cnn {
        neurite::manual_seed(3);
        let uniform = |fan_in: usize, shape: &[usize]| {
            let bound = 1.0 / (fan_in as f64).sqrt();
            Tensor::rand_uniform(-bound, bound, shape, DType::F32, dev)
                .expect("init")
                .requires_grad()
        };
        let params = vec![
            uniform(9, &[32, 1, 3, 3]),
            uniform(9, &[32]),
            uniform(32 * 9, &[64, 32, 3, 3]),
            uniform(32 * 9, &[64]),
            uniform(64 * 49, &[10, 64 * 49]),
            uniform(64 * 49, &[10]),
        ];
        let opt = sgd(&params);
        Cnn { params, opt }
    }

    /// Cross-entropy of the logits against integer labels.
    pub fn loss(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let p = &self.params;
        let h = x.conv2d(&p[0], Some(&p[1]), (1, 1), (1, 1))?.relu()?;
        let h = h.max_pool2d((2, 2), (2, 2), (0, 0))?;
        let h = h.conv2d(&p[2], Some(&p[3]), (1, 1), (1, 1))?.relu()?;
        let h = h.max_pool2d((2, 2), (2, 2), (0, 0))?;
        cross_entropy(&linear(&h.flatten(1usize, 3usize)?, &p[4], Some(&p[5]))?, y)
    }

    /// A forward, backward and SGD-with-momentum update.
    pub fn train_step(&self, x: &Tensor, y: &Tensor) -> Result<()> {
        let grads = self.loss(x, y)?.backward()?;
        self.opt.lock().expect("optimizer").step(&grads)
    }
}

/// A random batch of `(batch, 1, 28, 28)` images and labels.
pub fn cnn_batch(batch: usize, dev: &Device) -> (Tensor, Tensor) {
    let (x, y) = mlp_batch(batch, dev);
    (x.reshape((batch, 1, 28, 28)).expect("reshape"), y)
}
