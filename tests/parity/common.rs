//! The parity harness: input construction, per-dtype tolerances, comparison.

use neurite::{DType, Device, Result, Tensor};
use rand::{Rng, SeedableRng};
use std::io::Write;

/// Prints a line the test harness does not capture.
pub fn note(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

/// CUDA device 0, or `None` after printing why not; panics instead when
/// `NEURITE_REQUIRE_GPU=1`. With `NEURITE_CUDA_EMULATOR=1` device 0 is the
/// emulated one (tests/support/cuda_emu.rs).
pub fn cuda_device(test: &str) -> Option<Device> {
    // Loaded before the crate's first CUDA call, so that cudarc finds it.
    crate::cuda_emu::install_if_requested(test);
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

/// `(relative, absolute)` tolerance of `dtype` on any device against f64.
fn tol_vs_f64(dtype: DType) -> (f64, f64) {
    match dtype {
        DType::F64 => (1e-12, 1e-12),
        DType::F32 => (1e-4, 1e-4),
        DType::F16 => (2e-2, 2e-2),
        DType::BF16 => (6e-2, 6e-2),
        DType::I64 | DType::I32 | DType::I8 | DType::U8 | DType::Bool => (0.0, 0.0),
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
///
/// Float outputs of every device are held to one bar: the tolerance of the dtype
/// against the same computation in f64 on the CPU. A CUDA run is not compared with
/// the CPU in its own dtype for floats, because the two sum in different orders
/// (a tree over 256 threads against the CPU's loop): on a cancelling f32 sum of
/// 5,000 terms they differ by 4e-5 relative while both are within 1e-4 of f64, as
/// the first run on the emulated device showed. Integer outputs (argmax, casts)
/// must equal the CPU's in the same dtype exactly.
pub fn parity(dev: &Device, dtypes: &[DType], f: impl Fn(&Ctx) -> Result<Vec<Tensor>>) -> Result<()> {
    let cpu = Device::cpu();
    for &dt in dtypes {
        let tested = Ctx {
            dev: *dev,
            dtype: dt,
            round: dt,
        };
        let f64_reference = Ctx {
            dev: cpu,
            dtype: DType::F64,
            round: dt,
        };
        let same_dtype = Ctx {
            dev: cpu,
            dtype: dt,
            round: dt,
        };
        let got = f(&tested)?;
        let want = f(&f64_reference)?;
        let want_same = if dev.is_cpu() { None } else { Some(f(&same_dtype)?) };
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert_eq!(g.device(), *dev, "{dt} output {i} is not on {dev}");
            let exact = want_same.as_ref().map_or(w, |s| &s[i]);
            if !g.dtype().is_float() || !exact.dtype().is_float() {
                assert_eq!(g.to_vec::<i64>()?, exact.to_vec::<i64>()?, "{dt} output {i} on {dev}");
            } else {
                assert_close(&format!("{dt} output {i} on {dev}"), g, w, tol_vs_f64(dt));
                if let Some(s) = &want_same {
                    // Same dtype, same inputs: never further apart than twice the bar.
                    let (r, a) = tol_vs_f64(dt);
                    assert_close(
                        &format!("{dt} output {i} on {dev} vs the CPU in {dt}"),
                        g,
                        &s[i],
                        (2.0 * r, 2.0 * a),
                    );
                }
            }
        }
    }
    Ok(())
}

/// All float dtypes.
pub const FLOATS: [DType; 4] = [DType::F32, DType::F64, DType::F16, DType::BF16];
