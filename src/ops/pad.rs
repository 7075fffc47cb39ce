//! Padding, `torch.nn.functional.pad`: constant, reflect, replicate and circular.
//!
//! Every mode is a composite: the constant mode concatenates filled blocks (and
//! narrows for negative pads); the other modes are one `index_select` per padded
//! dim with the source position of every output entry, so gradients and the CUDA
//! backend come for free (the `index_select` backward adds duplicated entries).

use crate::{Error, Result, Tensor};

/// How [`Tensor::pad`] fills the new entries, PyTorch's `mode` argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PadMode {
    /// A constant `value` (`"constant"`).
    Constant,
    /// The mirror image without repeating the edge (`"reflect"`): `[a b c]` -> `c b [a b c] b a`.
    Reflect,
    /// The edge entry repeated (`"replicate"`): `a a [a b c] c c`.
    Replicate,
    /// Wrapped around (`"circular"`): `b c [a b c] a b`.
    Circular,
}

impl PadMode {
    /// Parses PyTorch's mode names.
    pub fn parse(mode: &str) -> Result<PadMode> {
        match mode {
            "constant" => Ok(PadMode::Constant),
            "reflect" => Ok(PadMode::Reflect),
            "replicate" => Ok(PadMode::Replicate),
            "circular" => Ok(PadMode::Circular),
            other => Err(Error::invalid(
                "pad",
                format!(
                    "unknown padding mode {other:?}; expected \"constant\", \"reflect\", \"replicate\" or \"circular\""
                ),
            )),
        }
    }

    /// PyTorch's name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            PadMode::Constant => "constant",
            PadMode::Reflect => "reflect",
            PadMode::Replicate => "replicate",
            PadMode::Circular => "circular",
        }
    }
}

impl std::fmt::Display for PadMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The size of a dim of `size` entries after padding by `left` and `right`
/// (either may be negative), or an error when it would be negative.
fn padded_size(size: usize, left: i64, right: i64, dim: usize, x: &Tensor) -> Result<usize> {
    let out = i128::from(size as u64) + i128::from(left) + i128::from(right);
    if out < 0 {
        return Err(Error::invalid(
            "pad",
            format!(
                "padding ({left}, {right}) of dim {dim} (size {size}) of shape {} gives a negative size {out}",
                x.shape()
            ),
        ));
    }
    usize::try_from(out).map_err(|_| Error::invalid("pad", format!("padded size {out} of dim {dim} is too large")))
}

/// Source positions (into `0..size`) of the `out` entries of a dim padded by `left`.
fn source_ids(mode: PadMode, size: usize, left: i64, out: usize) -> Vec<i64> {
    let n = size as i64;
    (0..out as i64)
        .map(|j| {
            let p = j - left;
            match mode {
                PadMode::Reflect => {
                    // One reflection suffices: the pads were checked to be under `size`.
                    let p = if p < 0 { -p } else { p };
                    if p >= n { 2 * (n - 1) - p } else { p }
                }
                PadMode::Replicate => p.clamp(0, n - 1),
                PadMode::Circular | PadMode::Constant => p.rem_euclid(n),
            }
        })
        .collect()
}

/// Checks a non-constant mode's pads against the size of the dim they pad.
fn check_wrapping(mode: PadMode, size: usize, left: i64, right: i64, dim: usize, x: &Tensor) -> Result<()> {
    let fail = |rule: &str| {
        Err(Error::invalid(
            "pad",
            format!(
                "{mode} padding ({left}, {right}) of dim {dim} of shape {}: {rule}",
                x.shape()
            ),
        ))
    };
    if size == 0 {
        return fail("the dim is empty, so there is nothing to copy");
    }
    let n = size as i64;
    match mode {
        PadMode::Reflect if left >= n || right >= n => fail(&format!("each pad must be less than the dim size {size}")),
        PadMode::Circular if left > n || right > n => fail(&format!("each pad must be at most the dim size {size}")),
        _ => Ok(()),
    }
}

impl Tensor {
    /// Pads the last dims, like `torch.nn.functional.pad(x, pad, mode, value)`.
    ///
    /// `pad` holds `(left, right)` pairs starting from the **last** dim:
    /// `[left, right, top, bottom, front, back]`. Negative pads remove entries.
    /// `mode` is `"constant"` (new entries are `value`), `"reflect"`,
    /// `"replicate"` or `"circular"`; `value` is ignored by the other modes,
    /// which pad 1 to 3 dims of an input with one or two more dims than that
    /// (an unbatched or batched `(C, ...)` input), as in PyTorch.
    ///
    /// Errors: an odd number of pads, more pairs than dims, an unknown mode,
    /// a negative resulting size, a reflect pad not smaller than the dim, a
    /// circular pad larger than the dim.
    ///
    /// ```
    /// use neurite::{Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::from_vec(vec![1f32, 2., 3.], (1, 3), &Device::cpu())?;
    /// assert_eq!(x.pad(&[2, 1], "reflect", 0.0)?.to_vec::<f32>()?, vec![3., 2., 1., 2., 3., 2.]);
    /// assert_eq!(x.pad(&[1, -1], "constant", 9.0)?.to_vec::<f32>()?, vec![9., 1., 2.]);
    /// # Ok(()) }
    /// ```
    pub fn pad(&self, pad: &[i64], mode: &str, value: f64) -> Result<Tensor> {
        self.pad_with(pad, PadMode::parse(mode)?, value)
    }

    /// [`Tensor::pad`] with a parsed [`PadMode`].
    pub fn pad_with(&self, pad: &[i64], mode: PadMode, value: f64) -> Result<Tensor> {
        let op = "pad";
        if !pad.len().is_multiple_of(2) {
            return Err(Error::invalid(
                op,
                format!(
                    "padding length must be divisible by 2, got {} values {pad:?}",
                    pad.len()
                ),
            ));
        }
        let pairs = pad.len() / 2;
        if pairs > self.rank() {
            return Err(Error::invalid(
                op,
                format!(
                    "{pairs} (left, right) pairs {pad:?} for a tensor of shape {}",
                    self.shape()
                ),
            ));
        }
        if mode != PadMode::Constant && (pairs == 0 || pairs > 3 || self.rank() < pairs + 1 || self.rank() > pairs + 2)
        {
            return Err(Error::invalid(
                op,
                format!(
                    "{mode} padding of {pairs} dims (pad {pad:?}) needs a {}-D or {}-D input, got shape {}",
                    pairs + 1,
                    pairs + 2,
                    self.shape()
                ),
            ));
        }
        // Check every dim before computing anything.
        let mut plan = Vec::with_capacity(pairs);
        for (i, lr) in pad.chunks(2).enumerate() {
            let dim = self.rank() - 1 - i;
            let size = self.dims()[dim];
            let out = padded_size(size, lr[0], lr[1], dim, self)?;
            if mode != PadMode::Constant {
                check_wrapping(mode, size, lr[0], lr[1], dim, self)?;
            }
            plan.push((dim, lr[0], lr[1], out));
        }
        let mut dims = self.dims().to_vec();
        for &(dim, .., out) in &plan {
            dims[dim] = out;
        }
        crate::shape::checked_numel(&dims, op)?;
        let mut y = self.clone();
        for (dim, left, right, out) in plan {
            y = match mode {
                PadMode::Constant => constant_pad_dim(&y, dim, left, right, value)?,
                _ => {
                    if left == 0 && right == 0 {
                        continue;
                    }
                    // PyTorch's circular pad crops by the negative pads first and
                    // wraps the positive ones around what is left.
                    let (mut left, mut right) = (left, right);
                    if mode == PadMode::Circular && (left < 0 || right < 0) {
                        let crop_l = usize::try_from(-left.min(0)).unwrap_or(usize::MAX);
                        let crop_r = usize::try_from(-right.min(0)).unwrap_or(usize::MAX);
                        let size = y.dims()[dim];
                        let kept = size
                            .checked_sub(crop_l)
                            .and_then(|k| k.checked_sub(crop_r))
                            .unwrap_or(0);
                        if kept == 0 {
                            return Err(Error::invalid(
                                op,
                                format!(
                                    "circular padding ({left}, {right}) of dim {dim} of shape {} crops away every entry",
                                    self.shape()
                                ),
                            ));
                        }
                        y = y.narrow(dim, crop_l, kept)?;
                        (left, right) = (left.max(0), right.max(0));
                        if left == 0 && right == 0 {
                            continue;
                        }
                    }
                    let _ = right;
                    let ids = source_ids(mode, y.dims()[dim], left, out);
                    if let Some(bad) = ids.iter().find(|&&i| i < 0 || i >= y.dims()[dim] as i64) {
                        // Only negative pads larger than the dim reach here.
                        return Err(Error::invalid(
                            op,
                            format!(
                                "{mode} padding ({left}, {right}) of dim {dim} of shape {} reads position {bad}, outside the dim",
                                self.shape()
                            ),
                        ));
                    }
                    y.index_select(dim, &Tensor::from_vec(ids, out, &y.device())?)?
                }
            };
        }
        Ok(y)
    }
}

/// Crops the input by the negative pads, then concatenates blocks of `value`
/// for the positive ones along `dim` (PyTorch's `constant_pad_nd` order, so a
/// crop never reaches into the new entries).
fn constant_pad_dim(x: &Tensor, dim: usize, left: i64, right: i64, value: f64) -> Result<Tensor> {
    let size = x.dims()[dim];
    let crop = |p: i64| usize::try_from(-p.min(0)).unwrap_or(usize::MAX);
    let (crop_l, crop_r) = (crop(left), crop(right));
    let Some(kept) = size.checked_sub(crop_l).and_then(|k| k.checked_sub(crop_r)) else {
        return Err(Error::invalid(
            "pad",
            format!(
                "negative padding ({left}, {right}) of dim {dim} crops more than its {size} entries (shape {})",
                x.shape()
            ),
        ));
    };
    let core = x.narrow(dim, crop_l, kept)?;
    let block = |n: i64| -> Result<Option<Tensor>> {
        if n <= 0 {
            return Ok(None);
        }
        let mut d = core.dims().to_vec();
        d[dim] = usize::try_from(n).map_err(|_| Error::invalid("pad", format!("pad {n} is too large")))?;
        Tensor::full(value, d, x.dtype(), &x.device()).map(Some)
    };
    let mut parts = Vec::with_capacity(3);
    parts.extend(block(left)?);
    parts.push(core.clone());
    parts.extend(block(right)?);
    if parts.len() == 1 {
        return Ok(core);
    }
    Tensor::cat(&parts, dim)
}
