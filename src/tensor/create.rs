//! Constructors.

use super::random::with_rng;
use crate::backend::{CpuStorage, Storage};
use crate::{DType, Device, Error, Result, Shape, Tensor, WithDType};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal, Uniform};

impl Tensor {
    /// A tensor of `value` everywhere.
    pub fn full(value: f64, shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        let shape = shape.into();
        let s = Storage::full(value, shape.checked_elem_count("full")?, dtype, device)?;
        Ok(Tensor::from_storage(s, shape))
    }

    /// Zeros.
    pub fn zeros(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full(0.0, shape, dtype, device)
    }

    /// Ones.
    pub fn ones(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full(1.0, shape, dtype, device)
    }

    /// Zeros with this tensor's shape, dtype and device.
    pub fn zeros_like(&self) -> Result<Tensor> {
        Tensor::zeros(self.shape(), self.dtype(), &self.device())
    }

    /// Ones with this tensor's shape, dtype and device.
    pub fn ones_like(&self) -> Result<Tensor> {
        Tensor::ones(self.shape(), self.dtype(), &self.device())
    }

    /// A one-element, zero-dimensional tensor.
    pub fn scalar(value: f64, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::full(value, (), dtype, device)
    }

    /// `start, start + step, ...` below `end`, like `torch.arange`.
    pub fn arange(start: f64, end: f64, step: f64, dtype: DType, device: &Device) -> Result<Tensor> {
        // NaN fails every comparison, so each test is written to reject it.
        if !(start.is_finite() && end.is_finite() && step.is_finite()) || step == 0.0 {
            return Err(Error::invalid(
                "arange",
                format!("start, end and step must be finite and step non-zero, got {start}, {end}, {step}"),
            ));
        }
        let count = ((end - start) / step).ceil();
        if count.is_nan() || count < 0.0 {
            return Err(Error::invalid(
                "arange",
                format!(
                    "upper bound and larger bound inconsistent with step sign: cannot step from {start} to {end} by {step}"
                ),
            ));
        }
        if count > crate::shape::MAX_ELEMS as f64 {
            return Err(Error::SizeOverflow {
                op: "arange",
                detail: format!("stepping from {start} to {end} by {step} gives {count} elements"),
            });
        }
        let n = count as usize;
        let v = crate::backend::cpu::buffer::collect(n, (0..n).map(|i| start + i as f64 * step))?;
        let cpu = CpuStorage::F64(v);
        let s = crate::backend::BackendStorage::to_dtype(&cpu, dtype)?;
        Ok(Tensor::from_storage(Storage::from_cpu(s, device)?, Shape::from(n)))
    }

    /// Builds a tensor from a vector of elements in row-major order.
    pub fn from_vec<T: WithDType>(data: Vec<T>, shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        let shape = shape.into();
        if data.len() != shape.checked_elem_count("from_vec")? {
            return Err(Error::ElementCountMismatch {
                op: "from_vec",
                from: Shape::from(data.len()),
                from_elems: data.len(),
                to_elems: shape.elem_count(),
                to: shape,
            });
        }
        let s = Storage::from_cpu(T::to_cpu_storage(data), device)?;
        Ok(Tensor::from_storage(s, shape))
    }

    /// Builds a tensor from a slice.
    pub fn from_slice<T: WithDType>(data: &[T], shape: impl Into<Shape>, device: &Device) -> Result<Tensor> {
        Tensor::from_vec(data.to_vec(), shape, device)
    }

    /// Builds a tensor from an `ndarray` array of any dimensionality.
    ///
    /// ```
    /// let a = ndarray::arr2(&[[1f32, 2.], [3., 4.]]);
    /// let t = neurite::Tensor::from_ndarray(&a, &neurite::Device::cpu()).unwrap();
    /// assert_eq!(t.dims(), &[2, 2]);
    /// ```
    pub fn from_ndarray<T: WithDType, D: ndarray::Dimension>(
        a: &ndarray::ArrayRef<T, D>,
        device: &Device,
    ) -> Result<Tensor> {
        let shape = Shape::from(a.shape());
        let data: Vec<T> = a.iter().copied().collect();
        Tensor::from_vec(data, shape, device)
    }

    /// The element count of `shape` for a random constructor, which only makes floats.
    fn random_numel(shape: &Shape, dtype: DType, op: &'static str) -> Result<usize> {
        if !dtype.is_float() {
            return Err(Error::UnsupportedDType {
                op,
                dtype,
                hint: " (random samples are floats: draw a float dtype, then cast with to_dtype)",
            });
        }
        shape.checked_elem_count(op)
    }

    fn from_f64_values(v: Vec<f64>, shape: Shape, dtype: DType, device: &Device) -> Result<Tensor> {
        let cpu = crate::backend::BackendStorage::to_dtype(&CpuStorage::F64(v), dtype)?;
        Ok(Tensor::from_storage(Storage::from_cpu(cpu, device)?, shape))
    }

    /// Uniform samples in `[low, high)` from the global generator ([`crate::manual_seed`]).
    ///
    /// On a CUDA device the samples are generated on the GPU by a counter-based
    /// (Philox) kernel keyed by one draw from the global generator, so a seed
    /// still fixes the run and no host buffer is copied over (dropout masks).
    pub fn rand_uniform(low: f64, high: f64, shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        #[cfg(feature = "cuda")]
        if let Device::Cuda(ordinal) = device {
            let shape = shape.into();
            if low >= high || !low.is_finite() || !high.is_finite() {
                return Err(Error::invalid(
                    "rand_uniform",
                    format!("need finite low < high, got [{low}, {high})"),
                ));
            }
            let n = Tensor::random_numel(&shape, dtype, "rand_uniform")?;
            let seed: u64 = with_rng(|rng| rng.random());
            let s = crate::backend::cuda::CudaStorage::rand_uniform(n, dtype, seed, 0, *ordinal)?;
            let unit = Tensor::from_storage(Storage::Cuda(s), shape);
            return if low == 0.0 && high == 1.0 {
                Ok(unit)
            } else {
                unit.affine(high - low, low)
            };
        }
        with_rng(|rng| Tensor::rand_uniform_with(low, high, shape, dtype, device, rng))
    }

    /// Uniform samples in `[low, high)` from the given generator.
    pub fn rand_uniform_with<R: Rng + ?Sized>(
        low: f64,
        high: f64,
        shape: impl Into<Shape>,
        dtype: DType,
        device: &Device,
        rng: &mut R,
    ) -> Result<Tensor> {
        let shape = shape.into();
        if low >= high || !low.is_finite() || !high.is_finite() {
            return Err(Error::invalid(
                "rand_uniform",
                format!("need finite low < high, got [{low}, {high})"),
            ));
        }
        let n = Tensor::random_numel(&shape, dtype, "rand_uniform")?;
        let dist = Uniform::new(low, high).map_err(|e| Error::invalid("rand_uniform", e.to_string()))?;
        let v = crate::backend::cpu::buffer::collect(n, (0..n).map(|_| dist.sample(rng)))?;
        Tensor::from_f64_values(v, shape, dtype, device)
    }

    /// Uniform samples in `[0, 1)`, like `torch.rand`.
    pub fn rand(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::rand_uniform(0.0, 1.0, shape, dtype, device)
    }

    /// Normal samples with the given mean and standard deviation from the global generator.
    pub fn randn_with_mean_std(
        mean: f64,
        std: f64,
        shape: impl Into<Shape>,
        dtype: DType,
        device: &Device,
    ) -> Result<Tensor> {
        with_rng(|rng| Tensor::randn_with(mean, std, shape, dtype, device, rng))
    }

    /// Standard normal samples, like `torch.randn`.
    pub fn randn(shape: impl Into<Shape>, dtype: DType, device: &Device) -> Result<Tensor> {
        Tensor::randn_with_mean_std(0.0, 1.0, shape, dtype, device)
    }

    /// Normal samples from the given generator.
    pub fn randn_with<R: Rng + ?Sized>(
        mean: f64,
        std: f64,
        shape: impl Into<Shape>,
        dtype: DType,
        device: &Device,
        rng: &mut R,
    ) -> Result<Tensor> {
        let shape = shape.into();
        if std < 0.0 || !mean.is_finite() || !std.is_finite() {
            return Err(Error::invalid(
                "randn",
                format!("need a finite mean and std >= 0, got {mean}, {std}"),
            ));
        }
        let n = Tensor::random_numel(&shape, dtype, "randn")?;
        let v = crate::backend::cpu::buffer::collect(
            n,
            (0..n).map(|_| {
                let z: f64 = StandardNormal.sample(rng);
                mean + std * z
            }),
        )?;
        Tensor::from_f64_values(v, shape, dtype, device)
    }
}
