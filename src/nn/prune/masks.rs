//! [`PruningMasks`]: which entries of which parameters are pruned, and the
//! operations that keep them pruned.

use crate::nn::Module;
use crate::{DType, Device, Error, GradStore, Result, Tensor};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// The 0/1 masks of pruned parameters, keyed by the parameters' dotted names
/// (`"0.weight"`, `"blocks.1.conv1.weight"`: [`Module::named_parameters`]).
///
/// A mask has the parameter's shape; `true` (1) keeps an entry and `false`
/// (0) prunes it, as PyTorch's `weight_mask`. The masks live beside the model
/// rather than inside it, so one model type serves pruned and dense training,
/// and the masks are plain data: serde-serialisable, comparable, savable with
/// [`PruningMasks::save`].
///
/// Every method that prunes also zeroes the newly pruned entries of the
/// model's parameter at once (PyTorch's `weight` becomes `weight_orig * mask`
/// at the same moment). Masks are composed, never loosened: pruning a
/// parameter again only prunes more of its entries.
///
/// Masks are kept on the host (one byte per entry); the first
/// [`PruningMasks::apply`] on a device uploads each mask there once and
/// reuses it, so applying after every training step costs one select per
/// parameter on the parameter's own device and no transfer.
///
/// ```
/// use neurite::nn::prune::PruningMasks;
/// use neurite::nn::{Linear, Module};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let layer = Linear::new(2, 2);
/// layer.weight().set_data(&Tensor::from_vec(vec![0.5f32, -0.1, 2.0, -0.3], (2, 2), &Device::cpu())?)?;
/// let mut masks = PruningMasks::new();
/// masks.l1_unstructured(&layer, "weight", 0.5)?;
/// assert_eq!(masks.keep_flags("weight"), Some(&[true, false, true, false][..]));
/// assert_eq!(layer.weight().to_vec::<f32>()?, vec![0.5, 0.0, 2.0, 0.0]);
/// # Ok(()) }
/// ```
#[derive(Default)]
pub struct PruningMasks {
    pub(super) masks: Vec<Mask>,
}

/// One parameter's mask.
pub(super) struct Mask {
    pub(super) name: String,
    pub(super) shape: Vec<usize>,
    /// `true` keeps the entry (row-major order).
    pub(super) keep: Vec<bool>,
    /// Entries that are `false` in `keep`, so that an unpruned mask costs nothing to apply.
    pub(super) pruned: usize,
    /// The mask uploaded to the device (and in the dtype) it was last applied on.
    cache: Mutex<Option<DeviceMask>>,
}

/// A mask as tensors on one device: a `Bool` mask and a zero of the parameter's dtype.
struct DeviceMask {
    device: Device,
    dtype: DType,
    keep: Tensor,
    zero: Tensor,
}

impl Mask {
    pub(super) fn new(name: String, shape: Vec<usize>, keep: Vec<bool>) -> Mask {
        let pruned = keep.iter().filter(|k| !**k).count();
        Mask {
            name,
            shape,
            keep,
            pruned,
            cache: Mutex::new(None),
        }
    }

    /// Errors unless `t` has this mask's shape.
    pub(super) fn check_shape(&self, t: &Tensor, op: &'static str, what: &str) -> Result<()> {
        if t.dims() == self.shape.as_slice() {
            return Ok(());
        }
        Err(Error::invalid(
            op,
            format!(
                "the pruning mask of {:?} has shape {:?} but the {what} has shape {:?}; \
                 masks are tied to one architecture",
                self.name,
                self.shape,
                t.dims()
            ),
        ))
    }

    /// `t` with the pruned entries set to zero (a new tensor, on `t`'s device, no graph).
    pub(super) fn masked(&self, t: &Tensor, op: &'static str, what: &str) -> Result<Tensor> {
        self.check_shape(t, op, what)?;
        let (keep, zero) = self.on_device(t.dtype(), t.device())?;
        // A select rather than a product, so that a NaN or infinity in a pruned entry becomes 0 too.
        crate::no_grad(|| keep.where_cond(t, &zero))
    }

    /// Zeroes the pruned entries of the parameter `p` in place.
    pub(super) fn zero_pruned(&self, p: &Tensor, op: &'static str) -> Result<()> {
        if self.pruned == 0 {
            return Ok(());
        }
        let new = self.masked(p, op, "parameter")?;
        p.set_data(&new)
    }

    fn on_device(&self, dtype: DType, device: Device) -> Result<(Tensor, Tensor)> {
        // A poisoned lock only means another thread panicked while uploading: the cache is rebuilt.
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = cache.as_ref()
            && c.device == device
            && c.dtype == dtype
        {
            return Ok((c.keep.clone(), c.zero.clone()));
        }
        let keep = Tensor::from_vec(self.keep.clone(), self.shape.clone(), &device)?;
        let zero = Tensor::scalar(0.0, dtype, &device)?;
        *cache = Some(DeviceMask {
            device,
            dtype,
            keep: keep.clone(),
            zero: zero.clone(),
        });
        Ok((keep, zero))
    }
}

impl Clone for Mask {
    fn clone(&self) -> Mask {
        // The device copy is cheap to rebuild and would tie the clone to this one's device.
        Mask::new(self.name.clone(), self.shape.clone(), self.keep.clone())
    }
}

impl Clone for PruningMasks {
    fn clone(&self) -> PruningMasks {
        PruningMasks {
            masks: self.masks.clone(),
        }
    }
}

impl PartialEq for PruningMasks {
    fn eq(&self, other: &PruningMasks) -> bool {
        self.masks.len() == other.masks.len()
            && self
                .masks
                .iter()
                .zip(&other.masks)
                .all(|(a, b)| a.name == b.name && a.shape == b.shape && a.keep == b.keep)
    }
}

impl fmt::Debug for PruningMasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        for mask in &self.masks {
            m.entry(
                &mask.name,
                &format_args!("shape {:?}, {} of {} pruned", mask.shape, mask.pruned, mask.keep.len()),
            );
        }
        m.finish()
    }
}

/// The parameter called `name`, checked to be floating point.
pub(super) fn find_param(model: &dyn Module, name: &str, op: &'static str) -> Result<Tensor> {
    let params = model.named_parameters();
    match params.iter().find(|(n, _)| n == name) {
        Some((_, t)) => float_param(name, t, op).map(|_| t.clone()),
        None => Err(unknown_param(name, &params, op)),
    }
}

/// Errors unless the parameter `name` holds floating-point values.
pub(super) fn float_param(name: &str, t: &Tensor, op: &'static str) -> Result<()> {
    if t.dtype().is_float() {
        return Ok(());
    }
    Err(Error::invalid(
        op,
        format!(
            "the parameter {name:?} has dtype {}; only floating-point parameters can be pruned",
            t.dtype()
        ),
    ))
}

/// The error for a name the model does not have, listing (a few of) the ones it has.
pub(super) fn unknown_param(name: &str, params: &[(String, Tensor)], op: &'static str) -> Error {
    const SHOWN: usize = 12;
    let mut names: Vec<&str> = params.iter().take(SHOWN).map(|(n, _)| n.as_str()).collect();
    if params.len() > SHOWN {
        names.push("...");
    }
    Error::invalid(
        op,
        format!("the model has no parameter named {name:?} (its parameters: {names:?})"),
    )
}

impl PruningMasks {
    /// No masks: nothing is pruned.
    ///
    /// ```
    /// let masks = neurite::nn::prune::PruningMasks::new();
    /// assert!(masks.is_empty());
    /// ```
    pub fn new() -> PruningMasks {
        PruningMasks::default()
    }

    /// Number of parameters with a mask.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(4, 4);
    /// let masks = neurite::nn::prune::l1_unstructured(&layer, "weight", 0.5)?;
    /// assert_eq!(masks.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn len(&self) -> usize {
        self.masks.len()
    }

    /// True when no parameter has a mask.
    ///
    /// ```
    /// assert!(neurite::nn::prune::PruningMasks::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.masks.is_empty()
    }

    /// The names of the masked parameters, in the order they were first pruned.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(4, 4);
    /// let masks = neurite::nn::prune::l1_unstructured(&layer, "bias", 0.25)?;
    /// assert_eq!(masks.names(), vec!["bias"]);
    /// # Ok(()) }
    /// ```
    pub fn names(&self) -> Vec<&str> {
        self.masks.iter().map(|m| m.name.as_str()).collect()
    }

    /// True when the parameter `name` has a mask.
    ///
    /// ```
    /// assert!(!neurite::nn::prune::PruningMasks::new().contains("weight"));
    /// ```
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The mask of `name` as flags in row-major order (`true` keeps the entry).
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(3, 1);
    /// let masks = neurite::nn::prune::l1_unstructured(&layer, "weight", 0.0)?;
    /// assert_eq!(masks.keep_flags("weight"), Some(&[true, true, true][..]));
    /// # Ok(()) }
    /// ```
    pub fn keep_flags(&self, name: &str) -> Option<&[bool]> {
        self.get(name).map(|m| m.keep.as_slice())
    }

    /// The shape of the mask of `name` (its parameter's shape).
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(3, 2);
    /// let masks = neurite::nn::prune::l1_unstructured(&layer, "weight", 0.5)?;
    /// assert_eq!(masks.shape("weight"), Some(&[2, 3][..]));
    /// # Ok(()) }
    /// ```
    pub fn shape(&self, name: &str) -> Option<&[usize]> {
        self.get(name).map(|m| m.shape.as_slice())
    }

    /// How many entries of `name` are pruned.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(5, 2);
    /// let masks = neurite::nn::prune::l1_unstructured(&layer, "weight", 0.3)?;
    /// assert_eq!(masks.num_pruned("weight"), Some(3));
    /// # Ok(()) }
    /// ```
    pub fn num_pruned(&self, name: &str) -> Option<usize> {
        self.get(name).map(|m| m.pruned)
    }

    /// The mask of `name` as a 1.0 / 0.0 tensor of `dtype` on `device`,
    /// PyTorch's `module.weight_mask`. Errors when `name` has no mask.
    ///
    /// ```
    /// use neurite::{DType, Device};
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(4, 1);
    /// let masks = neurite::nn::prune::l1_unstructured(&layer, "weight", 0.5)?;
    /// let m = masks.mask_tensor("weight", DType::F32, &Device::cpu())?;
    /// assert_eq!(m.sum_all()?.to_scalar::<f32>()?, 2.0);
    /// # Ok(()) }
    /// ```
    pub fn mask_tensor(&self, name: &str, dtype: DType, device: &Device) -> Result<Tensor> {
        let m = self
            .get(name)
            .ok_or_else(|| self.no_mask(name, "PruningMasks::mask_tensor"))?;
        Tensor::from_vec(m.keep.clone(), m.shape.clone(), device)?.to_dtype(dtype)
    }

    /// Zeroes the pruned entries of every masked parameter of `model`, in
    /// place, with tensor ops on the parameters' device: what keeps them zero
    /// after an optimizer step in a loop written by hand (inside `fit`, use
    /// [`super::MaskedOptimizer`] or [`super::PruningCallback`]).
    ///
    /// Errors, before changing anything, when a masked name is not a
    /// parameter of `model`, is not floating point, or has another shape
    /// than its mask.
    ///
    /// ```
    /// use neurite::nn::prune::PruningMasks;
    /// use neurite::nn::{Linear, Module};
    /// use neurite::optim::{Optimizer, Sgd, SgdConfig};
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let layer = Linear::new(4, 1);
    /// let mut masks = PruningMasks::new();
    /// masks.l1_unstructured(&layer, "weight", 0.5)?;
    /// let mut opt = Sgd::new(layer.parameters(), SgdConfig { lr: 0.1, momentum: 0.9, ..Default::default() })?;
    /// let x = Tensor::ones((3, 4), DType::F32, &Device::cpu())?;
    /// for _ in 0..3 {
    ///     let mut grads = neurite::nn::Forward::forward(&layer, &x)?.sqr()?.mean_all()?.backward()?;
    ///     masks.mask_gradients(&layer, &mut grads)?;
    ///     opt.step(&grads)?;
    ///     masks.apply(&layer)?;
    /// }
    /// let zeros = layer.weight().to_vec::<f32>()?.iter().filter(|w| **w == 0.0).count();
    /// assert_eq!(zeros, 2);
    /// # Ok(()) }
    /// ```
    pub fn apply(&self, model: &dyn Module) -> Result<()> {
        const OP: &str = "PruningMasks::apply";
        let targets = self.resolve(model, OP)?;
        for (mask, p) in targets {
            mask.zero_pruned(&p, OP)?;
        }
        Ok(())
    }

    /// Zeroes, in `grads`, the gradient entries of pruned weights (those
    /// parameters of `model` that have a gradient there), so that an
    /// optimizer's momentum or moment estimates never build up for them.
    /// Errors as [`PruningMasks::apply`] does, and when a gradient's shape
    /// differs from its mask's.
    ///
    /// ```
    /// use neurite::nn::prune::l1_unstructured;
    /// use neurite::nn::{Forward, Linear};
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let layer = Linear::new(2, 1);
    /// let masks = l1_unstructured(&layer, "weight", 0.5)?;
    /// let x = Tensor::ones((1, 2), DType::F32, &Device::cpu())?;
    /// let mut grads = layer.forward(&x)?.sum_all()?.backward()?;
    /// masks.mask_gradients(&layer, &mut grads)?;
    /// let g = grads.get(layer.weight()).unwrap().to_vec::<f32>()?;
    /// assert_eq!(g.iter().filter(|v| **v == 0.0).count(), 1);
    /// # Ok(()) }
    /// ```
    pub fn mask_gradients(&self, model: &dyn Module, grads: &mut GradStore) -> Result<()> {
        const OP: &str = "PruningMasks::mask_gradients";
        for (mask, p) in self.resolve(model, OP)? {
            if mask.pruned == 0 {
                continue;
            }
            if let Some(g) = grads.get(&p) {
                let masked = mask.masked(g, OP, "gradient")?;
                grads.insert(&p, masked);
            }
        }
        Ok(())
    }

    /// Makes the pruning of `name` permanent and forgets its mask
    /// (PyTorch's `prune.remove`): the pruned entries are zeroed one last
    /// time and are ordinary weights from then on (training may move them
    /// again). Errors when `name` has no mask or is not a parameter of
    /// `model` with the mask's shape.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(4, 2);
    /// let mut masks = neurite::nn::prune::l1_unstructured(&layer, "weight", 0.5)?;
    /// masks.remove(&layer, "weight")?;
    /// assert!(masks.is_empty());
    /// assert!(masks.remove(&layer, "weight").is_err()); // no longer pruned
    /// # Ok(()) }
    /// ```
    pub fn remove(&mut self, model: &dyn Module, name: &str) -> Result<()> {
        const OP: &str = "PruningMasks::remove";
        let at = self.position(name).ok_or_else(|| self.no_mask(name, OP))?;
        let p = find_param(model, name, OP)?;
        self.masks[at].zero_pruned(&p, OP)?;
        self.masks.remove(at);
        Ok(())
    }

    /// [`PruningMasks::remove`] for every mask: zeroes the pruned entries of
    /// every masked parameter and forgets all masks (before exporting a
    /// pruned model). Errors, changing nothing, as [`PruningMasks::apply`] does.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(4, 2);
    /// let mut masks = neurite::nn::prune::l1_unstructured(&layer, "weight", 0.5)?;
    /// masks.remove_all(&layer)?;
    /// assert!(masks.is_empty());
    /// # Ok(()) }
    /// ```
    pub fn remove_all(&mut self, model: &dyn Module) -> Result<()> {
        self.apply(model)?;
        self.masks.clear();
        Ok(())
    }

    /// Prunes `name` with a mask given by the caller (PyTorch's
    /// `prune.custom_from_mask`): `mask` has the parameter's shape and holds
    /// 0 (prune) and 1 (keep) only, in any dtype (`Bool` too), on any device.
    /// The pruned entries are zeroed at once.
    ///
    /// Errors, changing nothing, on an unknown or non-float parameter, a
    /// shape that differs from the parameter's, a value other than 0 or 1,
    /// and a mask that would keep an entry that is already pruned: masks only
    /// ever prune more (PyTorch multiplies the two masks, which silently keeps
    /// such an entry pruned; here the disagreement is reported instead).
    ///
    /// ```
    /// use neurite::nn::prune::PruningMasks;
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(2, 2);
    /// let mut masks = PruningMasks::new();
    /// let m = Tensor::from_vec(vec![1f32, 0.0, 0.0, 1.0], (2, 2), &Device::cpu())?;
    /// masks.custom_from_mask(&layer, "weight", &m)?;
    /// assert_eq!(masks.num_pruned("weight"), Some(2));
    /// let unprune = Tensor::from_vec(vec![1f32, 1.0, 0.0, 1.0], (2, 2), &Device::cpu())?;
    /// assert!(masks.custom_from_mask(&layer, "weight", &unprune).is_err());
    /// # Ok(()) }
    /// ```
    pub fn custom_from_mask(&mut self, model: &dyn Module, name: &str, mask: &Tensor) -> Result<()> {
        const OP: &str = "PruningMasks::custom_from_mask";
        let p = find_param(model, name, OP)?;
        if mask.dims() != p.dims() {
            return Err(Error::invalid(
                OP,
                format!(
                    "the mask has shape {:?} but the parameter {name:?} has shape {:?}",
                    mask.dims(),
                    p.dims()
                ),
            ));
        }
        let values = mask.to_vec::<f64>()?;
        let mut keep = Vec::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            if *v == 1.0 {
                keep.push(true);
            } else if *v == 0.0 {
                keep.push(false);
            } else {
                return Err(Error::invalid(
                    OP,
                    format!("a pruning mask holds 0 and 1 only; entry {i} (row-major) of the mask for {name:?} is {v}"),
                ));
            }
        }
        if let Some(old) = self.get(name) {
            old.check_shape(&p, OP, "parameter")?;
            let mut revived = (0..keep.len()).filter(|&i| keep[i] && !old.keep[i]);
            if let Some(first) = revived.next() {
                let n = 1 + revived.count();
                return Err(Error::invalid(
                    OP,
                    format!(
                        "the mask would un-prune {n} entr{} of {name:?} that {} already pruned (the first at \
                         row-major index {first}); masks only prune more: call remove first to start over",
                        if n == 1 { "y" } else { "ies" },
                        if n == 1 { "is" } else { "are" },
                    ),
                ));
            }
        }
        self.set(Mask::new(name.to_string(), p.dims().to_vec(), keep));
        self.zero_pruned_of(name, &p, OP)
    }

    /// The mask called `name`.
    pub(super) fn get(&self, name: &str) -> Option<&Mask> {
        self.masks.iter().find(|m| m.name == name)
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.masks.iter().position(|m| m.name == name)
    }

    /// Replaces the mask of the same name, or adds `mask` after the others.
    pub(super) fn set(&mut self, mask: Mask) {
        match self.position(&mask.name) {
            Some(at) => self.masks[at] = mask,
            None => self.masks.push(mask),
        }
    }

    /// Zeroes the pruned entries of the parameter `p`, the one called `name`.
    pub(super) fn zero_pruned_of(&self, name: &str, p: &Tensor, op: &'static str) -> Result<()> {
        match self.get(name) {
            Some(m) => m.zero_pruned(p, op),
            None => Ok(()),
        }
    }

    /// The existing flags of the parameter `p` called `name`, checked against
    /// its shape, or all `true` when it has no mask yet.
    pub(super) fn current_keep(&self, name: &str, p: &Tensor, op: &'static str) -> Result<Vec<bool>> {
        match self.get(name) {
            Some(m) => {
                m.check_shape(p, op, "parameter")?;
                Ok(m.keep.clone())
            }
            None => Ok(vec![true; p.elem_count()]),
        }
    }

    /// Every mask with its parameter in `model`, all checked before any is used.
    pub(super) fn resolve(&self, model: &dyn Module, op: &'static str) -> Result<Vec<(&Mask, Tensor)>> {
        let params = model.named_parameters();
        let by_name: HashMap<&str, &Tensor> = params.iter().map(|(n, t)| (n.as_str(), t)).collect();
        let mut out = Vec::with_capacity(self.masks.len());
        for m in &self.masks {
            let p = by_name
                .get(m.name.as_str())
                .ok_or_else(|| unknown_param(&m.name, &params, op))?;
            float_param(&m.name, p, op)?;
            m.check_shape(p, op, "parameter")?;
            out.push((m, (*p).clone()));
        }
        Ok(out)
    }

    fn no_mask(&self, name: &str, op: &'static str) -> Error {
        Error::invalid(
            op,
            format!(
                "the parameter {name:?} is not pruned (masked parameters: {:?})",
                self.names()
            ),
        )
    }
}
