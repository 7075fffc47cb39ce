//! The parity harness: input construction, per-dtype tolerances, comparison.

use neurite::{DType, Device, Result, Tensor};
use rand::{Rng, SeedableRng};
use std::io::Write;

/// Prints a line the test harness does not capture.
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// CUDA device 0, or `None` after printing why not; panics instead when
/// `NEURITE_REQUIRE_GPU=1`.
pub fn cuda_device(test: &str) -> Option<Device> {
    match Device::cuda(0) {
        Ok(d) => Some(d),
        Err(e) => {
            if std::env::var("NEURITE_REQUIRE_GPU").as_deref() == Ok("1") {
                panic!("{test}: NEURITE_REQUIRE_GPU=1 but the GPU is unavailable: {e}");
            }
            note(&format!("{test}: CUDA variant skipped: {e}"));
            None
        }
    }
}

/// Where and in which dtype a body computes; inputs are rounded through `round`
/// so that the reference sees exactly the values the tested dtype holds.
#[derive(Clone, Copy, Debug)]
pub struct Ctx {
    pub dev: Device,
    pub dtype: DType,
    round: DType,
}

impl Ctx {
    /// A tensor of these values, rounded to the tested dtype, on this device.
    pub fn tensor(&self, v: Vec<f64>, shape: &[usize]) -> Result<Tensor> {
        Tensor::from_vec(v, shape, &Device::cpu())?
            .to_dtype(self.round)?
            .to_dtype(self.dtype)?
            .to_device(&self.dev)
    }

    /// Uniform values in `[lo, hi)` from a seeded generator.
    pub fn uniform(&self, shape: &[usize], lo: f64, hi: f64, seed: u64) -> Result<Tensor> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let n: usize = shape.iter().product();
        self.tensor((0..n).map(|_| rng.random_range(lo..hi)).collect(), shape)
    }

    /// Values in `[-1, 1)`.
    pub fn rand(&self, shape: &[usize], seed: u64) -> Result<Tensor> {
        self.uniform(shape, -1.0, 1.0, seed)
    }

    /// Integer indices on this device.
    pub fn ids(&self, v: Vec<i64>, shape: &[usize]) -> Result<Tensor> {
        Tensor::from_vec(v, shape, &Device::cpu())?.to_device(&self.dev)
    }
}

/// `(relative, absolute)` tolerance of `dtype` on the GPU against the CPU.
fn tol_same(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F64 => (1e-12, 1e-12),
        DType::F32 => (1e-5, 1e-5),
        DType::F16 => (1e-2, 1e-2),
        DType::BF16 => (2e-2, 2e-2),
        DType::I64 => (0.0, 0.0),
    }
}

/// `(relative, absolute)` tolerance of `dtype` on the CPU against f64.
fn tol_vs_f64(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F64 => (1e-12, 1e-12),
        DType::F32 => (1e-4, 1e-4),
        DType::F16 => (2e-2, 2e-2),
        DType::BF16 => (6e-2, 6e-2),
        DType::I64 => (0.0, 0.0),
    }
}

/// Asserts that two tensors agree elementwise (NaN matching NaN, infinities exactly).
pub fn assert_close(label: &str, got: &Tensor, want: &Tensor, (rtol, atol): (f64, f64)) {
    assert_eq!(got.dims(), want.dims(), "{label}: shapes differ");
    let (g, w): (Vec<f64>, Vec<f64>) = (got.to_vec().unwrap(), want.to_vec().unwrap());
    for (i, (&a, &b)) in g.iter().zip(&w).enumerate() {
        let ok = if a.is_nan() || b.is_nan() {
            a.is_nan() && b.is_nan()
        } else if a.is_infinite() || b.is_infinite() {
            a == b
        } else {
            (a - b).abs() <= atol + rtol * b.abs()
        };
        assert!(
            ok,
            "{label}: element {i} is {a}, expected {b} (rtol {rtol}, atol {atol})"
        );
    }
}

/// Runs `f` for each dtype on `dev` and compares with the reference (see the
/// crate docs). Outputs of a CUDA run must stay on the GPU.
pub fn parity(dev: &Device, dtypes: &[DType], f: impl Fn(&Ctx) -> Result<Vec<Tensor>>) -> Result<()> {
    let cpu = Device::cpu();
    for &dt in dtypes {
        let tested = Ctx {
            dev: *dev,
            dtype: dt,
            round: dt,
        };
        let (reference, tol) = if dev.is_cpu() {
            (
                Ctx {
                    dev: cpu,
                    dtype: DType::F64,
                    round: dt,
                },
                tol_vs_f64(dt),
            )
        } else {
            (
                Ctx {
                    dev: cpu,
                    dtype: dt,
                    round: dt,
                },
                tol_same(dt),
            )
        };
        let got = f(&tested)?;
        let want = f(&reference)?;
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.device(), *dev, "{dt} output {i} is not on {dev}");
            if g.dtype() == DType::I64 || w.dtype() == DType::I64 {
                assert_eq!(g.to_vec::<i64>()?, w.to_vec::<i64>()?, "{dt} output {i} on {dev}");
            } else {
                assert_close(&format!("{dt} output {i} on {dev}"), g, w, tol);
            }
        }
    }
    Ok(())
}

/// All float dtypes.
pub const FLOATS: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];
