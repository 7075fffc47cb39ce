//! Gradient accumulation: micro-batches accumulated with `backward_into` give
//! the gradients of the whole batch, and the same parameters after a step.

use neurite::optim::{Optimizer, Sgd, SgdConfig};
use neurite::{DType, Device, GradStore, Result, Tensor};

const N: usize = 32;

/// A 5-8-3 tanh MLP with fixed weights and data, in f64.
struct Mlp {
    params: Vec<Tensor>,
    x: Tensor,
    y: Tensor,
}

impl Mlp {
    fn new() -> Mlp {
        // Values from a formula, not the global generator, which tests
        // running in parallel share.
        let r = |shape: &[usize], seed: f64, s: f64| {
            let n: usize = shape.iter().product();
            let v: Vec<f64> = (0..n).map(|i| (i as f64 * 1.7 + seed).sin() * s).collect();
            Tensor::from_vec(v, shape.to_vec(), &Device::cpu()).unwrap()
        };
        let params = vec![
            r(&[5, 8], 0.1, 0.4),
            r(&[8], 0.2, 0.1),
            r(&[8, 3], 0.3, 0.4),
            r(&[3], 0.4, 0.1),
        ]
        .into_iter()
        .map(|t| t.requires_grad())
        .collect();
        Mlp {
            params,
            x: r(&[N, 5], 0.5, 1.0),
            y: r(&[N, 3], 0.6, 1.0),
        }
    }

    /// Mean squared error over rows `start..start + len`.
    fn loss(&self, start: usize, len: usize) -> Result<Tensor> {
        let (w1, b1, w2, b2) = (&self.params[0], &self.params[1], &self.params[2], &self.params[3]);
        let x = self.x.narrow(0, start, len)?;
        let y = self.y.narrow(0, start, len)?;
        let h = x.matmul(w1)?.add(b1)?.tanh()?;
        h.matmul(w2)?.add(b2)?.sub(&y)?.sqr()?.mean_all()
    }

    /// Gradients accumulated over consecutive micro-batches of `sizes`, each
    /// mean loss scaled by its share `n_i / N` of the batch.
    fn accumulated(&self, sizes: &[usize]) -> GradStore {
        assert_eq!(sizes.iter().sum::<usize>(), N);
        let mut grads = GradStore::new();
        let mut start = 0;
        for &n in sizes {
            let loss = self.loss(start, n).unwrap().mul_scalar(n as f64 / N as f64).unwrap();
            loss.backward_into(&mut grads).unwrap();
            start += n;
        }
        grads
    }

    fn values(&self) -> Vec<Vec<f64>> {
        self.params.iter().map(|p| p.to_vec::<f64>().unwrap()).collect()
    }
}

fn assert_same_grads(a: &GradStore, b: &GradStore, params: &[Tensor], what: &str) {
    assert_eq!(a.len(), params.len(), "{what}: one gradient per parameter");
    assert_eq!(b.len(), params.len(), "{what}: one gradient per parameter");
    for (i, p) in params.iter().enumerate() {
        let (x, y) = (
            a.get(p).unwrap().to_vec::<f64>().unwrap(),
            b.get(p).unwrap().to_vec::<f64>().unwrap(),
        );
        for (u, v) in x.iter().zip(&y) {
            // The same sums in another order, in f64: far inside 1e-6.
            assert!(
                (u - v).abs() <= 1e-12 * (1.0 + v.abs()),
                "{what}: parameter {i}: {u} vs {v}"
            );
        }
    }
}

#[test]
fn accumulated_micro_batches_equal_the_full_batch() {
    let m = Mlp::new();
    let full = m.loss(0, N).unwrap().backward().unwrap();
    // k = 4 batches of n = 8, each mean loss scaled by 1/k (= n/N).
    assert_same_grads(&m.accumulated(&[8; 4]), &full, &m.params, "4 x 8");
    // Unequal sizes, scaled by n_i / N.
    assert_same_grads(&m.accumulated(&[5, 11, 9, 7]), &full, &m.params, "5 + 11 + 9 + 7");

    // Unscaled micro-batch means, then GradStore::scale(1/k), and
    // GradStore::accumulate of separate stores: the same.
    let mut by_scale = GradStore::new();
    let mut by_merge = GradStore::new();
    for k in 0..4 {
        m.loss(8 * k, 8).unwrap().backward_into(&mut by_scale).unwrap();
        by_merge
            .accumulate(m.loss(8 * k, 8).unwrap().backward().unwrap())
            .unwrap();
    }
    by_scale.scale(0.25).unwrap();
    by_merge.scale(0.25).unwrap();
    assert_same_grads(&by_scale, &full, &m.params, "scale");
    assert_same_grads(&by_merge, &full, &m.params, "accumulate");
}

#[test]
fn a_step_on_accumulated_gradients_matches_the_full_batch_step() {
    let config = SgdConfig {
        lr: 0.1,
        momentum: 0.9,
        weight_decay: 1e-3,
        ..Default::default()
    };
    let (a, b) = (Mlp::new(), Mlp::new());
    let mut opt_a = Sgd::new(a.params.clone(), config.clone()).unwrap();
    let mut opt_b = Sgd::new(b.params.clone(), config).unwrap();
    let mut grads = GradStore::new();
    for _ in 0..3 {
        opt_a.step(&a.loss(0, N).unwrap().backward().unwrap()).unwrap();
        for k in 0..4 {
            b.loss(8 * k, 8)
                .unwrap()
                .mul_scalar(0.25)
                .unwrap()
                .backward_into(&mut grads)
                .unwrap();
        }
        opt_b.step(&grads).unwrap();
        grads.clear(); // zero_grad
        assert!(grads.is_empty());
    }
    for (i, (x, y)) in a.values().iter().zip(b.values()).enumerate() {
        for (u, v) in x.iter().zip(&y) {
            assert!((u - v).abs() <= 1e-12, "parameter {i}: {u} vs {v}");
        }
    }
    // Without clearing, the next backward adds to the old gradients (PyTorch's
    // two backward() calls without zero_grad).
    let mut twice = GradStore::new();
    b.loss(0, N).unwrap().backward_into(&mut twice).unwrap();
    b.loss(0, N).unwrap().backward_into(&mut twice).unwrap();
    let once = b.loss(0, N).unwrap().backward().unwrap();
    for p in &b.params {
        let (t, o) = (
            twice.get(p).unwrap().to_vec::<f64>().unwrap(),
            once.get(p).unwrap().to_vec::<f64>().unwrap(),
        );
        assert_eq!(t, o.iter().map(|v| 2.0 * v).collect::<Vec<_>>());
    }
}

#[test]
fn accumulation_errors_leave_the_store_unchanged() {
    let dev = Device::cpu();
    let w = Tensor::ones(3, DType::F64, &dev).unwrap().requires_grad();
    let mut grads = w.sum_all().unwrap().backward().unwrap();

    // A gradient of another shape for the same tensor.
    let mut other = GradStore::new();
    other.insert(&w, Tensor::ones(2, DType::F64, &dev).unwrap());
    let err = grads.accumulate(other).unwrap_err().to_string();
    assert!(err.contains("GradStore::accumulate"), "{err}");
    // ... or another dtype.
    let mut other = GradStore::new();
    other.insert(&w, Tensor::ones(3, DType::F32, &dev).unwrap());
    assert!(grads.accumulate(other).is_err());
    assert_eq!(grads.get(&w).unwrap().to_vec::<f64>().unwrap(), vec![1.0; 3]);

    // A non-scalar loss cannot start a backward pass.
    assert!(w.mul_scalar(2.0).unwrap().backward_into(&mut grads).is_err());
    assert_eq!(grads.get(&w).unwrap().to_vec::<f64>().unwrap(), vec![1.0; 3]);

    for bad in [f64::NAN, f64::INFINITY] {
        let err = grads.scale(bad).unwrap_err().to_string();
        assert!(err.contains("finite"), "{err}");
    }
    grads.scale(-2.0).unwrap();
    assert_eq!(grads.get(&w).unwrap().to_vec::<f64>().unwrap(), vec![-2.0; 3]);
    assert!(
        !grads.get(&w).unwrap().tracks_grad(),
        "accumulated gradients record no graph"
    );
}
