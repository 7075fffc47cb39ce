//! Central finite differences in f64, shared by the gradient tests.

use neurite::{DType, Device, Result, Tensor};

/// Checks the autograd gradient of `f` (a scalar function of `inputs`) against
/// central differences with step `1e-6`, to `tol` absolute-or-relative error.
pub fn check<F>(inputs: &[Tensor], f: F, tol: f64)
where
    F: Fn(&[Tensor]) -> Result<Tensor>,
{
    let vars: Vec<Tensor> = inputs
        .iter()
        .map(|t| t.to_dtype(DType::F64).unwrap().detach().requires_grad())
        .collect();
    let out = f(&vars).expect("forward");
    assert_eq!(out.elem_count(), 1, "gradcheck needs a scalar output");
    let grads = out.backward().expect("backward");
    let eps = 1e-6;
    for (vi, v) in vars.iter().enumerate() {
        let analytic: Vec<f64> = match grads.get(v) {
            Some(g) => g.to_vec().unwrap(),
            None => vec![0.0; v.elem_count()],
        };
        let base: Vec<f64> = v.to_vec().unwrap();
        for i in 0..base.len() {
            let eval = |delta: f64| -> f64 {
                let mut p = base.clone();
                p[i] += delta;
                let pert = Tensor::from_vec(p, v.shape(), &Device::cpu()).unwrap();
                let args: Vec<Tensor> = vars
                    .iter()
                    .enumerate()
                    .map(|(j, t)| if j == vi { pert.clone() } else { t.detach() })
                    .collect();
                f(&args).unwrap().to_scalar::<f64>().unwrap()
            };
            let numeric = (eval(eps) - eval(-eps)) / (2.0 * eps);
            let a = analytic[i];
            let err = (a - numeric).abs() / (1.0f64).max(numeric.abs());
            assert!(
                err < tol,
                "input {vi} element {i}: autograd {a} vs finite difference {numeric} (error {err})"
            );
        }
    }
}

/// A seeded f64 tensor with values in [-1, 1).
pub fn randt(shape: &[usize], seed: u64) -> Tensor {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let n: usize = shape.iter().product();
    let v: Vec<f64> = (0..n).map(|_| rng.random_range(-1.0..1.0)).collect();
    Tensor::from_vec(v, shape, &Device::cpu()).unwrap()
}
