//! Resizing, `torch.nn.functional.interpolate`: nearest, linear and bilinear.
//!
//! Nearest is an `index_select` per spatial dim; (bi)linear is a product with
//! an interpolation matrix per dim (two non-zeros per row), so both run on any
//! device with autograd. Index rules follow PyTorch's kernels exactly
//! (`nearest_idx`, `area_pixel_compute_source_index`), including a given
//! `scale_factor` being used as is rather than recomputed from the sizes.

use super::separable::{along_last, along_second_last, matrix};
use crate::{Error, Result, Tensor};

/// The resampling rule of [`Tensor::interpolate`], PyTorch's `mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum InterpolateMode {
    /// `"nearest"`: the entry at `floor(dst * in / out)`, on 3-D or 4-D input.
    Nearest,
    /// `"linear"`: linear interpolation of `(N, C, L)` input.
    Linear,
    /// `"bilinear"`: bilinear interpolation of `(N, C, H, W)` input.
    Bilinear,
}

impl InterpolateMode {
    /// Parses PyTorch's mode names.
    pub fn parse(mode: &str) -> Result<InterpolateMode> {
        match mode {
            "nearest" => Ok(InterpolateMode::Nearest),
            "linear" => Ok(InterpolateMode::Linear),
            "bilinear" => Ok(InterpolateMode::Bilinear),
            other => Err(Error::invalid(
                "interpolate",
                format!("unknown mode {other:?}; expected \"nearest\", \"linear\" or \"bilinear\""),
            )),
        }
    }

    /// PyTorch's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            InterpolateMode::Nearest => "nearest",
            InterpolateMode::Linear => "linear",
            InterpolateMode::Bilinear => "bilinear",
        }
    }
}

impl std::fmt::Display for InterpolateMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// PyTorch's `compute_scales_value`: the source step per output entry.
fn step(scale: Option<f64>, input: usize, output: usize) -> f64 {
    match scale {
        Some(s) if s > 0.0 => 1.0 / s,
        _ => input as f64 / output as f64,
    }
}

/// Source entry of each output entry in nearest mode (PyTorch's `nearest_idx`,
/// whose CPU kernel computes in `f32`).
fn nearest_ids(input: usize, output: usize, scale: Option<f64>) -> Vec<i64> {
    let last = input as i64 - 1;
    if output == input {
        return (0..output as i64).collect();
    }
    if output == 2 * input {
        return (0..output as i64).map(|i| i >> 1).collect();
    }
    let s = step(scale, input, output) as f32;
    (0..output).map(|i| ((i as f32 * s).floor() as i64).min(last)).collect()
}

/// The `(output, input)` linear interpolation matrix (PyTorch's
/// `area_pixel_compute_source_index`, clamped at 0 without `align_corners`).
fn linear_weights(input: usize, output: usize, scale: Option<f64>, align_corners: bool) -> Vec<f64> {
    let s = if align_corners {
        if output > 1 {
            (input as f64 - 1.0) / (output as f64 - 1.0)
        } else {
            0.0
        }
    } else {
        step(scale, input, output)
    };
    let mut m = vec![0.0; output * input];
    for i in 0..output {
        let src = if align_corners {
            s * i as f64
        } else {
            (s * (i as f64 + 0.5) - 0.5).max(0.0)
        };
        let lo = (src as usize).min(input - 1);
        let hi = if lo + 1 < input { lo + 1 } else { lo };
        let frac = src - lo as f64;
        m[i * input + lo] += 1.0 - frac;
        m[i * input + hi] += frac;
    }
    m
}

impl Tensor {
    /// Resizes the spatial dims, like `torch.nn.functional.interpolate`.
    ///
    /// Give exactly one of `size` (the output's spatial sizes) and
    /// `scale_factor` (output size `floor(input * scale)`); either may hold one
    /// value for every spatial dim or one per dim. `mode` is `"nearest"`
    /// (`(N, C, L)` or `(N, C, H, W)`), `"linear"` (`(N, C, L)`) or
    /// `"bilinear"` (`(N, C, H, W)`). `align_corners` (only for the linear
    /// modes; `None` means `false`) maps the corner pixels' centres onto each
    /// other instead of their outer edges.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::from_vec(vec![1f32, 2.], (1, 1, 1, 2), &Device::cpu())?;
    /// let y = x.interpolate(None, Some(&[1.0, 2.0]), "nearest", None)?;
    /// assert_eq!(y.to_vec::<f32>()?, vec![1., 1., 2., 2.]);
    /// let z = x.interpolate(Some(&[1, 3]), None, "bilinear", Some(true))?;
    /// assert_eq!(z.to_vec::<f32>()?, vec![1., 1.5, 2.]);
    /// # Ok(()) }
    /// ```
    pub fn interpolate(
        &self,
        size: Option<&[usize]>,
        scale_factor: Option<&[f64]>,
        mode: &str,
        align_corners: Option<bool>,
    ) -> Result<Tensor> {
        self.interpolate_with(size, scale_factor, InterpolateMode::parse(mode)?, align_corners)
    }

    /// [`Tensor::interpolate`] with a parsed [`InterpolateMode`].
    pub fn interpolate_with(
        &self,
        size: Option<&[usize]>,
        scale_factor: Option<&[f64]>,
        mode: InterpolateMode,
        align_corners: Option<bool>,
    ) -> Result<Tensor> {
        let op = "interpolate";
        let spatial = match (mode, self.rank()) {
            (InterpolateMode::Nearest, 3 | 4) => self.rank() - 2,
            (InterpolateMode::Linear, 3) | (InterpolateMode::Bilinear, 4) => self.rank() - 2,
            _ => {
                return Err(Error::invalid(
                    op,
                    format!(
                        "{mode} mode needs {} input, got shape {}",
                        match mode {
                            InterpolateMode::Nearest => "an (N, C, L) or (N, C, H, W)",
                            InterpolateMode::Linear => "an (N, C, L)",
                            InterpolateMode::Bilinear => "an (N, C, H, W)",
                        },
                        self.shape()
                    ),
                ));
            }
        };
        if mode == InterpolateMode::Nearest && align_corners.is_some() {
            return Err(Error::invalid(
                op,
                "align_corners can only be set with the interpolating modes linear and bilinear",
            ));
        }
        let input = &self.dims()[2..];
        let per_dim = |n: usize, what: &str| -> Result<()> {
            if n == 1 || n == spatial {
                Ok(())
            } else {
                Err(Error::invalid(
                    op,
                    format!("{n} {what} values for {spatial} spatial dims of shape {}", self.shape()),
                ))
            }
        };
        let (output, scales): (Vec<usize>, Vec<Option<f64>>) = match (size, scale_factor) {
            (Some(_), Some(_)) => {
                return Err(Error::invalid(op, "only one of size and scale_factor may be given"));
            }
            (None, None) => return Err(Error::invalid(op, "either size or scale_factor must be given")),
            (Some(s), None) => {
                per_dim(s.len(), "size")?;
                (
                    (0..spatial).map(|i| s[i.min(s.len() - 1)]).collect(),
                    vec![None; spatial],
                )
            }
            (None, Some(f)) => {
                per_dim(f.len(), "scale_factor")?;
                let f: Vec<f64> = (0..spatial).map(|i| f[i.min(f.len() - 1)]).collect();
                if let Some(bad) = f.iter().find(|s| !s.is_finite() || **s <= 0.0) {
                    return Err(Error::invalid(
                        op,
                        format!("scale_factor {bad} must be positive and finite"),
                    ));
                }
                let mut out = Vec::with_capacity(spatial);
                for (&n, &s) in input.iter().zip(&f) {
                    let o = (n as f64 * s).floor();
                    if o >= usize::MAX as f64 {
                        return Err(Error::invalid(op, format!("scale_factor {s} of size {n} is too large")));
                    }
                    out.push(o as usize);
                }
                (out, f.into_iter().map(Some).collect())
            }
        };
        if input.contains(&0) || output.contains(&0) {
            return Err(Error::invalid(
                op,
                format!(
                    "input and output sizes must be positive, got input {input:?} (shape {}) and output {output:?}",
                    self.shape()
                ),
            ));
        }
        let mut out_dims = self.dims()[..2].to_vec();
        out_dims.extend(&output);
        crate::shape::checked_numel(&out_dims, op)?;
        let align = align_corners.unwrap_or(false);
        let mut y = self.clone();
        // The last spatial dim first: it is the contiguous one, so the product
        // that shrinks or grows it needs no transpose.
        for i in (0..spatial).rev() {
            let d = 2 + i;
            let (n, o) = (input[i], output[i]);
            y = match mode {
                InterpolateMode::Nearest => {
                    if n == o {
                        continue;
                    }
                    let ids = Tensor::from_vec(nearest_ids(n, o, scales[i]), o, &self.device())?;
                    y.index_select(d, &ids)?
                }
                _ => {
                    self.require_float(op)?;
                    crate::shape::checked_numel(&[n, o], op)?;
                    let m = matrix(self, o, n, linear_weights(n, o, scales[i], align))?;
                    if d == self.rank() - 1 {
                        along_last(&y, &m)?
                    } else {
                        along_second_last(&y, &m)?
                    }
                }
            };
        }
        Ok(y)
    }
}
