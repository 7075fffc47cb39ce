//! Dynamic loss scaling for mixed-precision training, PyTorch's
//! `torch.amp.GradScaler`.

use super::Optimizer;
use crate::{Error, GradStore, Result, Tensor};
use serde::{Deserialize, Serialize};

/// Multiplies the loss by a scale before the backward pass so that small
/// half-precision gradients do not flush to zero, then divides the gradients
/// back before the optimizer step. A step whose gradients hold an inf or a NaN
/// is skipped and the scale shrinks by `backoff_factor`; after
/// `growth_interval` finite steps in a row it grows by `growth_factor`.
/// The same sequence of scales as PyTorch's for the same gradients
/// (tests/optim/grad_scaler.rs checks it against a PyTorch run).
///
/// ```
/// use neurite::optim::{GradScaler, Optimizer, Sgd, SgdConfig};
/// use neurite::{Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let w = Tensor::from_vec(vec![1f32, 2.], 2, &Device::cpu())?.requires_grad();
/// let mut sgd = Sgd::new(vec![w.clone()], SgdConfig::new(0.1))?;
/// let mut scaler = GradScaler::new();
/// let loss = w.sum_all()?;
/// let grads = scaler.scale(&loss)?.backward()?;
/// assert!(scaler.step(&mut sgd, grads)?); // stepped: the gradients were finite
/// scaler.update();
/// assert_eq!(w.to_vec1::<f32>()?, vec![0.9, 1.9]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GradScaler {
    scale: f64,
    growth_factor: f64,
    backoff_factor: f64,
    growth_interval: u64,
    /// Finite steps in a row since the scale last changed.
    growth_tracker: u64,
    /// Whether the last `step` found a non-finite gradient; `None` before any.
    found_inf: Option<bool>,
}

impl Default for GradScaler {
    fn default() -> Self {
        GradScaler::new()
    }
}

impl GradScaler {
    /// PyTorch's defaults: scale 2^16, growth 2, backoff 0.5, interval 2000.
    pub fn new() -> GradScaler {
        GradScaler {
            scale: 65536.0,
            growth_factor: 2.0,
            backoff_factor: 0.5,
            growth_interval: 2000,
            growth_tracker: 0,
            found_inf: None,
        }
    }

    /// A scaler with its own settings: `init_scale` finite and > 0,
    /// `growth_factor` > 1, `backoff_factor` in (0, 1), `growth_interval` >= 1.
    pub fn with(init_scale: f64, growth_factor: f64, backoff_factor: f64, growth_interval: u64) -> Result<GradScaler> {
        const OP: &str = "GradScaler";
        if !(init_scale.is_finite() && init_scale > 0.0) {
            return Err(Error::invalid(
                OP,
                format!("init_scale must be finite and > 0, got {init_scale}"),
            ));
        }
        if !(growth_factor.is_finite() && growth_factor > 1.0) {
            return Err(Error::invalid(
                OP,
                format!("growth_factor must be > 1, got {growth_factor}"),
            ));
        }
        if !(backoff_factor > 0.0 && backoff_factor < 1.0) {
            return Err(Error::invalid(
                OP,
                format!("backoff_factor must be in (0, 1), got {backoff_factor}"),
            ));
        }
        if growth_interval == 0 {
            return Err(Error::invalid(OP, "growth_interval must be at least 1"));
        }
        Ok(GradScaler {
            scale: init_scale,
            growth_factor,
            backoff_factor,
            growth_interval,
            ..GradScaler::new()
        })
    }

    /// The current scale.
    pub fn get_scale(&self) -> f64 {
        self.scale
    }

    /// `loss * scale`, to call `backward` on.
    pub fn scale(&self, loss: &Tensor) -> Result<Tensor> {
        loss.mul_scalar(self.scale)
    }

    /// Divides `grads` by the scale and steps `optimizer` with them, unless
    /// one of them holds an inf or a NaN: then the step is skipped (PyTorch's
    /// `scaler.step`). Returns whether the optimizer stepped. Reads one value
    /// per gradient back from the device. No gradients at all is an error
    /// (nothing in the loss needs a gradient, or it was computed under no-grad).
    pub fn step(&mut self, optimizer: &mut dyn Optimizer, mut grads: GradStore) -> Result<bool> {
        if grads.is_empty() {
            return Err(Error::invalid(
                "GradScaler::step",
                "no gradients: the scaled loss depends on no parameter that requires grad",
            ));
        }
        let mut finite = true;
        for (_, g) in grads.iter() {
            // x - x is 0 for every finite x and NaN for inf or NaN, so the sum
            // is exactly 0 unless some element is not finite (a plain sum
            // could overflow to inf on large finite values).
            let probe = crate::no_grad(|| g.sub(g)?.sum_all()?.to_scalar::<f64>())?;
            if probe != 0.0 {
                finite = false;
                break;
            }
        }
        self.found_inf = Some(!finite);
        if finite {
            grads.scale(1.0 / self.scale)?;
            optimizer.step(&grads)?;
        }
        Ok(finite)
    }

    /// Adjusts the scale after a `step`, PyTorch's `scaler.update()`: backs
    /// off after a skipped step, grows after `growth_interval` finite ones.
    /// Does nothing before the first `step`.
    pub fn update(&mut self) {
        match self.found_inf.take() {
            Some(true) => {
                self.scale *= self.backoff_factor;
                self.growth_tracker = 0;
            }
            Some(false) => {
                self.growth_tracker += 1;
                if self.growth_tracker == self.growth_interval {
                    self.scale *= self.growth_factor;
                    self.growth_tracker = 0;
                }
            }
            None => {}
        }
    }

    /// Finite steps in a row since the scale last changed (PyTorch's
    /// `_growth_tracker` in its `state_dict`).
    pub fn growth_tracker(&self) -> u64 {
        self.growth_tracker
    }
}
