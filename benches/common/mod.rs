//! Workloads shared by the criterion benches and the side-by-side comparison,
//! so both measure exactly the same thing.

#![allow(dead_code)]

use neurite::{DType, Device, Result, Tensor};

/// `a @ b` operands for an `m x k` by `k x n` product.
pub fn gemm_operands(m: usize, k: usize, n: usize, dev: &Device) -> (Tensor, Tensor) {
    neurite::manual_seed(0);
    (
        Tensor::randn((m, k), DType::F32, dev).expect("randn"),
        Tensor::randn((k, n), DType::F32, dev).expect("randn"),
    )
}

/// The parameters of a 784-512-256-10 MLP (weights stored `[in, out]`).
pub struct Mlp {
    pub params: Vec<Tensor>,
}

impl Mlp {
    pub fn new(dev: &Device) -> Mlp {
        neurite::manual_seed(1);
        let sizes = [784, 512, 256, 10];
        let mut params = Vec::new();
        for w in sizes.windows(2) {
            let bound = 1.0 / (w[0] as f64).sqrt();
            params.push(
                Tensor::rand_uniform(-bound, bound, (w[0], w[1]), DType::F32, dev)
                    .expect("init")
                    .requires_grad(),
            );
            params.push(
                Tensor::rand_uniform(-bound, bound, w[1], DType::F32, dev)
                    .expect("init")
                    .requires_grad(),
            );
        }
        Mlp { params }
    }

    /// Cross-entropy of the logits against integer labels.
    pub fn loss(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let p = &self.params;
        let h = x.matmul(&p[0])?.add(&p[1])?.relu()?;
        let h = h.matmul(&p[2])?.add(&p[3])?.relu()?;
        let logits = h.matmul(&p[4])?.add(&p[5])?;
        logits
            .log_softmax(1usize)?
            .gather(1usize, &y.unsqueeze(1)?)?
            .mean_all()?
            .neg()
    }

    /// One forward and backward pass; returns the loss value.
    pub fn forward_backward(&self, x: &Tensor, y: &Tensor) -> Result<f32> {
        let loss = self.loss(x, y)?;
        let grads = loss.backward()?;
        debug_assert_eq!(grads.len(), 6);
        loss.to_scalar::<f32>()
    }

    /// A forward, backward and plain SGD update (lr 0.01), like a training step.
    pub fn train_step(&self, x: &Tensor, y: &Tensor) -> Result<()> {
        sgd_step(&self.params, &self.loss(x, y)?)
    }
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
/// `Linear(64 * 7 * 7 -> 10)` (weight stored `[in, out]`).
pub struct Cnn {
    pub params: Vec<Tensor>,
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
        Cnn {
            params: vec![
                uniform(9, &[32, 1, 3, 3]),
                uniform(9, &[32]),
                uniform(32 * 9, &[64, 32, 3, 3]),
                uniform(32 * 9, &[64]),
                uniform(64 * 49, &[64 * 49, 10]),
                uniform(64 * 49, &[10]),
            ],
        }
    }

    /// Cross-entropy of the logits against integer labels.
    pub fn loss(&self, x: &Tensor, y: &Tensor) -> Result<Tensor> {
        let p = &self.params;
        let h = x.conv2d(&p[0], Some(&p[1]), (1, 1), (1, 1))?.relu()?;
        let h = h.max_pool2d((2, 2), (2, 2), (0, 0))?;
        let h = h.conv2d(&p[2], Some(&p[3]), (1, 1), (1, 1))?.relu()?;
        let h = h.max_pool2d((2, 2), (2, 2), (0, 0))?;
        let logits = h.flatten(1usize, 3usize)?.matmul(&p[4])?.add(&p[5])?;
        logits
            .log_softmax(1usize)?
            .gather(1usize, &y.unsqueeze(1)?)?
            .mean_all()?
            .neg()
    }

    /// A forward, backward and plain SGD update (lr 0.01).
    pub fn train_step(&self, x: &Tensor, y: &Tensor) -> Result<()> {
        sgd_step(&self.params, &self.loss(x, y)?)
    }
}

/// Backward from `loss`, then `p -= 0.01 * grad` for every parameter, without a graph.
fn sgd_step(params: &[Tensor], loss: &Tensor) -> Result<()> {
    let grads = loss.backward()?;
    neurite::no_grad(|| -> Result<()> {
        for p in params {
            if let Some(g) = grads.get(p) {
                p.set_data(&p.sub(&g.mul_scalar(0.01)?)?)?;
            }
        }
        Ok(())
    })
}

/// A random batch of `(batch, 1, 28, 28)` images and labels.
pub fn cnn_batch(batch: usize, dev: &Device) -> (Tensor, Tensor) {
    let (x, y) = mlp_batch(batch, dev);
    (x.reshape((batch, 1, 28, 28)).expect("reshape"), y)
}
