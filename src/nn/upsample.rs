//! The resizing layer, PyTorch's `nn.Upsample`.

use super::{Forward, LayerConfig, Module};
use crate::{InterpolateMode, Result, Tensor};

/// Resizes the spatial dims to a size or by a scale factor, PyTorch's
/// `nn.Upsample` (see [`Tensor::interpolate`] for the index rules).
///
/// Exactly one of the size and the scale factor must be set, and
/// `align_corners` only with a linear mode: otherwise `forward` (and
/// [`Upsample::validate`]) report it.
///
/// # Shapes
/// - input: `(N, C, L)` (nearest, linear) or `(N, C, H, W)` (nearest, bilinear)
/// - output: `(N, C, L_out)` or `(N, C, H_out, W_out)`, with
///   `H_out = size` or `floor(H * scale_factor)` (likewise for `W`, `L`).
///
/// ```
/// use neurite::nn::{Forward, Upsample};
/// use neurite::{DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::ones((1, 3, 4, 5), DType::F32, &Device::cpu())?;
/// assert_eq!(Upsample::scale(2.0).forward(&x)?.dims(), &[1, 3, 8, 10]);
/// let up = Upsample::size([6, 7]).with_mode("bilinear")?.with_align_corners(true);
/// assert_eq!(up.forward(&x)?.dims(), &[1, 3, 6, 7]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Upsample {
    size: Option<Vec<usize>>,
    scale_factor: Option<Vec<f64>>,
    mode: InterpolateMode,
    align_corners: Option<bool>,
}

impl Upsample {
    /// Every argument, as PyTorch's constructor (`mode` by name).
    pub fn new(
        size: Option<Vec<usize>>,
        scale_factor: Option<Vec<f64>>,
        mode: &str,
        align_corners: Option<bool>,
    ) -> Result<Upsample> {
        let up = Upsample {
            size,
            scale_factor,
            mode: InterpolateMode::parse(mode)?,
            align_corners,
        };
        up.validate()?;
        Ok(up)
    }

    /// Resizes to `size` (one value for every spatial dim, or one per dim), nearest mode.
    pub fn size(size: impl Into<Vec<usize>>) -> Upsample {
        Upsample {
            size: Some(size.into()),
            scale_factor: None,
            mode: InterpolateMode::Nearest,
            align_corners: None,
        }
    }

    /// Scales every spatial dim by `scale_factor`, nearest mode.
    pub fn scale(scale_factor: f64) -> Upsample {
        Upsample::scales(vec![scale_factor])
    }

    /// Scales the spatial dims by one factor each (or one for all), nearest mode.
    pub fn scales(scale_factor: impl Into<Vec<f64>>) -> Upsample {
        Upsample {
            size: None,
            scale_factor: Some(scale_factor.into()),
            mode: InterpolateMode::Nearest,
            align_corners: None,
        }
    }

    /// Sets the mode by PyTorch's name: `"nearest"`, `"linear"`, `"bilinear"`.
    pub fn with_mode(mut self, mode: &str) -> Result<Upsample> {
        self.mode = InterpolateMode::parse(mode)?;
        Ok(self)
    }

    /// Sets `align_corners` (linear modes only).
    pub fn with_align_corners(mut self, align_corners: bool) -> Upsample {
        self.align_corners = Some(align_corners);
        self
    }

    /// The mode.
    pub fn mode(&self) -> InterpolateMode {
        self.mode
    }

    /// Checks the arguments that do not depend on the input.
    pub fn validate(&self) -> Result<()> {
        let op = "Upsample";
        match (&self.size, &self.scale_factor) {
            (Some(_), Some(_)) => {
                return Err(crate::Error::invalid(
                    op,
                    "only one of size and scale_factor may be given",
                ));
            }
            (None, None) => return Err(crate::Error::invalid(op, "either size or scale_factor must be given")),
            (Some(s), None) if s.is_empty() || s.contains(&0) => {
                return Err(crate::Error::invalid(
                    op,
                    format!("size {s:?} must hold positive values"),
                ));
            }
            (None, Some(f)) if f.is_empty() || f.iter().any(|v| !v.is_finite() || *v <= 0.0) => {
                return Err(crate::Error::invalid(
                    op,
                    format!("scale_factor {f:?} must hold positive finite values"),
                ));
            }
            _ => {}
        }
        if self.mode == InterpolateMode::Nearest && self.align_corners.is_some() {
            return Err(crate::Error::invalid(
                op,
                "align_corners can only be set with the interpolating modes linear and bilinear",
            ));
        }
        Ok(())
    }
}

impl Module for Upsample {
    fn config(&self) -> Result<LayerConfig> {
        self.validate()?;
        Ok(LayerConfig::Upsample {
            size: self.size.clone(),
            scale_factor: self.scale_factor.clone(),
            mode: self.mode.as_str().to_string(),
            align_corners: self.align_corners,
        })
    }
}

impl Forward for Upsample {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.validate()?;
        x.interpolate_with(
            self.size.as_deref(),
            self.scale_factor.as_deref(),
            self.mode,
            self.align_corners,
        )
    }
}
