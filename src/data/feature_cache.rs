//! Feature caching: run the frozen part of a model over a dataset once and
//! keep its outputs, so that a head can be trained for many epochs without
//! recomputing them (transfer learning's "extract features, then fit a
//! classifier").

use std::path::Path;

use super::{Batch, Dataset};
use crate::checkpoint::{read_safetensors, write_safetensors};
use crate::nn::Forward;
use crate::{Device, Error, Result, Tensor};

/// The outputs of `frozen` on the features (the first tensor) of `data`,
/// computed once in batches of `batch_size` in evaluation mode and without
/// recording a graph, as a dataset whose first tensor is those outputs and
/// whose other tensors (targets, side inputs) are `data`'s, in the same order.
///
/// `frozen` is put in evaluation mode for the pass (Dropout off, BatchNorm on
/// its running statistics, as a frozen feature extractor computes) and left
/// in the mode it had. The cached tensor lives where `frozen` computes it (on
/// `data`'s device); [`save_cached_features`] keeps it across runs.
///
/// A head trained on the result, then appended to `frozen`
/// ([`Sequential::append`](crate::nn::Sequential::append)), computes the same
/// as the whole model fine-tuned with `frozen`'s parameters fixed, each epoch
/// without the cost of `frozen`'s forward pass.
///
/// ```
/// use neurite::data::{cache_features, Dataset};
/// use neurite::nn::{Linear, Module, ReLU, Sequential};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let x = Tensor::randn((10, 4), neurite::DType::F32, &dev)?;
/// let y = Tensor::from_vec((0..10i64).map(|i| i % 2).collect(), 10, &dev)?;
/// let data = Dataset::new(x, y)?;
/// let mut trunk = Sequential::new().add(Linear::new(4, 8)).add(ReLU);
/// let cached = cache_features(&mut trunk, &data, 4)?;
/// assert_eq!(cached.features().dims(), &[10, 8]);
/// assert_eq!(cached.targets().to_vec1::<i64>()?, data.targets().to_vec1::<i64>()?);
/// assert!(trunk.is_training()); // its mode is restored
/// # Ok(()) }
/// ```
pub fn cache_features<M: Forward + ?Sized>(frozen: &mut M, data: &Dataset, batch_size: usize) -> Result<Dataset> {
    const OP: &str = "cache_features";
    let was_training = frozen.is_training();
    frozen.eval();
    let cached = run_batched(OP, data, batch_size, |batch| frozen.forward(batch.get(0)?));
    frozen.set_training(was_training);
    data.with_features(cached?)
}

/// [`cache_features`] for models with several inputs, or a frozen part that is
/// not one [`Forward`] module: `compute` maps each batch of `data` (every
/// tensor, in order) to its features, which are computed once without
/// recording a graph. The result holds those features and `data`'s targets
/// (the last tensor), or the features alone for a one-tensor dataset.
///
/// The caller sets the modules `compute` uses in evaluation mode.
///
/// ```
/// use neurite::data::{cache_features_with, Dataset};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let dev = Device::cpu();
/// let image = Tensor::ones((6, 3), neurite::DType::F32, &dev)?;
/// let meta = Tensor::ones((6, 2), neurite::DType::F32, &dev)?;
/// let label = Tensor::from_vec(vec![0i64, 1, 0, 1, 0, 1], 6, &dev)?;
/// let data = Dataset::from_tensors(vec![image, meta, label])?;
/// let cached = cache_features_with(&data, 4, |b| Tensor::cat(&[b.get(0)?.clone(), b.get(1)?.clone()], 1))?;
/// assert_eq!((cached.num_tensors(), cached.features().dims()), (2, &[6usize, 5][..]));
/// # Ok(()) }
/// ```
pub fn cache_features_with(
    data: &Dataset,
    batch_size: usize,
    compute: impl FnMut(&Batch) -> Result<Tensor>,
) -> Result<Dataset> {
    const OP: &str = "cache_features_with";
    let features = run_batched(OP, data, batch_size, compute)?;
    if data.num_tensors() == 1 {
        Dataset::from_tensors(vec![features])
    } else {
        Dataset::new(features, data.targets().clone())
    }
}

/// `compute` over consecutive batches of `data` under no-grad, outputs joined
/// along the sample dimension and checked to keep one row per sample.
fn run_batched(
    op: &'static str,
    data: &Dataset,
    batch_size: usize,
    mut compute: impl FnMut(&Batch) -> Result<Tensor>,
) -> Result<Tensor> {
    if batch_size == 0 {
        return Err(Error::invalid(op, "batch_size must be at least 1, got 0"));
    }
    if data.is_empty() {
        return Err(Error::invalid(
            op,
            "the dataset has no samples, so there is no output to learn the feature shape from",
        ));
    }
    let mut pieces = Vec::with_capacity(data.len().div_ceil(batch_size));
    let mut start = 0;
    while start < data.len() {
        let len = batch_size.min(data.len() - start);
        let batch = data.batch_range(start, len)?;
        let out = crate::no_grad(|| compute(&batch))?;
        if out.rank() == 0 || out.dims()[0] != len {
            return Err(Error::invalid(
                op,
                format!(
                    "the frozen part returned shape {:?} for a batch of {len} samples (at sample {start}); \
                     expected one row per sample, (N, ...)",
                    out.dims()
                ),
            ));
        }
        pieces.push(out.detach());
        start += len;
    }
    Tensor::cat(&pieces, 0)
}

/// Writes a cached dataset (every tensor, in order, as `"0"`, `"1"`, ...) to a
/// safetensors file, atomically, so that later runs can skip the frozen pass.
pub fn save_cached_features(path: impl AsRef<Path>, cached: &Dataset) -> Result<()> {
    let named: Vec<(String, Tensor)> = cached
        .tensors()
        .iter()
        .enumerate()
        .map(|(i, t)| (i.to_string(), t.clone()))
        .collect();
    write_safetensors(path, &named)
}

/// Reads a dataset written by [`save_cached_features`] onto `device`. Any
/// other file (missing tensors, names other than `"0"`..`"n-1"`, tensors of
/// different lengths, bytes that are not safetensors) is an error naming it.
pub fn load_cached_features(path: impl AsRef<Path>, device: &Device) -> Result<Dataset> {
    let path = path.as_ref();
    let format_err = |msg: String| Error::Format {
        path: path.display().to_string(),
        msg,
    };
    let mut named = read_safetensors(path)?;
    let n = named.len();
    if n == 0 {
        return Err(format_err("holds no tensors; expected a cached dataset".into()));
    }
    let mut tensors = Vec::with_capacity(n);
    for i in 0..n {
        let t = named.remove(&i.to_string()).ok_or_else(|| {
            format_err(format!(
                "has {n} tensors but none named {i:?}; expected the names \"0\"..\"{}\" of save_cached_features",
                n - 1
            ))
        })?;
        tensors.push(t.to_device(device)?);
    }
    Dataset::from_tensors(tensors).map_err(|e| format_err(format!("is not a cached dataset: {e}")))
}
