//! [`SparsityReport`]: how many entries of each parameter are zero.

use super::masks::{find_param, float_param};
use crate::nn::Module;
use crate::{DType, Error, Result, Tensor};
use std::fmt;

/// The zeros of one parameter (or of several together, for the total).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParamSparsity {
    /// The dotted parameter name (`"total"` for the sum).
    pub name: String,
    /// Number of entries.
    pub numel: usize,
    /// Entries equal to zero (either sign); NaN is not zero.
    pub zeros: usize,
}

impl ParamSparsity {
    /// `zeros / numel` (0 for an empty parameter).
    ///
    /// ```
    /// let p = neurite::nn::prune::ParamSparsity { name: "w".into(), numel: 8, zeros: 2 };
    /// assert_eq!(p.sparsity(), 0.25);
    /// ```
    pub fn sparsity(&self) -> f64 {
        if self.numel == 0 {
            0.0
        } else {
            self.zeros as f64 / self.numel as f64
        }
    }
}

/// Per-parameter sparsity of a model: name, entries, zeros, sparsity, and the total.
///
/// Zeros are counted on the parameters' device (one comparison and sum per
/// parameter, one number read back), whatever made them zero: pruning,
/// [`PruningMasks::remove`](super::PruningMasks::remove), or training.
///
/// ```
/// use neurite::nn::prune::{SparsityReport, l1_unstructured};
/// use neurite::nn::{Linear, ReLU, Sequential};
/// # fn main() -> neurite::Result<()> {
/// let model = Sequential::new().add(Linear::new(10, 10)).add(ReLU).add(Linear::new(10, 2));
/// l1_unstructured(&model, "0.weight", 0.9)?;
/// let report = SparsityReport::of(&model)?;
/// assert_eq!(report.params()[0].zeros, 90);
/// assert_eq!(report.total().numel, 100 + 10 + 20 + 2);
/// println!("{report}");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct SparsityReport {
    params: Vec<ParamSparsity>,
    total: ParamSparsity,
}

impl SparsityReport {
    /// Every floating-point parameter of `model` (weights and biases; the
    /// ones pruning can act on), in [`Module::named_parameters`] order.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let r = neurite::nn::prune::SparsityReport::of(&neurite::nn::Linear::new(3, 2))?;
    /// assert_eq!(r.params().len(), 2);
    /// # Ok(()) }
    /// ```
    pub fn of(model: &dyn Module) -> Result<SparsityReport> {
        let params: Vec<(String, Tensor)> = model
            .named_parameters()
            .into_iter()
            .filter(|(_, t)| t.dtype().is_float())
            .collect();
        SparsityReport::build(params)
    }

    /// The parameters `names` of `model` only, in that order. Errors on an
    /// unknown or non-float name.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let layer = neurite::nn::Linear::new(3, 2);
    /// let r = neurite::nn::prune::SparsityReport::of_params(&layer, &["weight"])?;
    /// assert_eq!(r.total().numel, 6);
    /// assert!(neurite::nn::prune::SparsityReport::of_params(&layer, &["nope"]).is_err());
    /// # Ok(()) }
    /// ```
    pub fn of_params(model: &dyn Module, names: &[impl AsRef<str>]) -> Result<SparsityReport> {
        const OP: &str = "SparsityReport::of_params";
        let mut params = Vec::with_capacity(names.len());
        for n in names {
            let n = n.as_ref();
            let t = find_param(model, n, OP)?;
            float_param(n, &t, OP)?;
            params.push((n.to_string(), t));
        }
        SparsityReport::build(params)
    }

    fn build(params: Vec<(String, Tensor)>) -> Result<SparsityReport> {
        const OP: &str = "SparsityReport";
        let mut rows = Vec::with_capacity(params.len());
        let (mut numel, mut zeros) = (0usize, 0usize);
        for (name, t) in params {
            let z = count_zeros(&t)?;
            let overflow = || Error::SizeOverflow {
                op: OP,
                detail: "the total number of parameter entries overflows usize".into(),
            };
            numel = numel.checked_add(t.elem_count()).ok_or_else(overflow)?;
            zeros = zeros.checked_add(z).ok_or_else(overflow)?;
            rows.push(ParamSparsity {
                name,
                numel: t.elem_count(),
                zeros: z,
            });
        }
        Ok(SparsityReport {
            params: rows,
            total: ParamSparsity {
                name: "total".into(),
                numel,
                zeros,
            },
        })
    }

    /// One row per parameter.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let r = neurite::nn::prune::SparsityReport::of(&neurite::nn::Linear::new(3, 2))?;
    /// assert_eq!(r.params()[1].name, "bias");
    /// # Ok(()) }
    /// ```
    pub fn params(&self) -> &[ParamSparsity] {
        &self.params
    }

    /// The sums over all rows, named `"total"`.
    ///
    /// ```
    /// # fn main() -> neurite::Result<()> {
    /// let r = neurite::nn::prune::SparsityReport::of(&neurite::nn::Linear::new(3, 2))?;
    /// assert_eq!(r.total().numel, 8);
    /// # Ok(()) }
    /// ```
    pub fn total(&self) -> &ParamSparsity {
        &self.total
    }
}

/// Entries of `t` equal to zero, counted on its device.
fn count_zeros(t: &Tensor) -> Result<usize> {
    if t.elem_count() == 0 {
        return Ok(0);
    }
    let n = crate::no_grad(|| -> Result<i64> {
        let zero = Tensor::scalar(0.0, t.dtype(), &t.device())?;
        t.eq(&zero)?.to_dtype(DType::I64)?.sum_all()?.to_scalar::<i64>()
    })?;
    usize::try_from(n).map_err(|_| Error::invalid("SparsityReport", format!("a negative count of zeros ({n})")))
}

impl fmt::Display for SparsityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .params
            .iter()
            .map(|p| p.name.len())
            .chain([self.total.name.len(), "parameter".len()])
            .max()
            .unwrap_or(0);
        writeln!(
            f,
            "{:<width$}  {:>12}  {:>12}  {:>8}",
            "parameter", "entries", "zeros", "sparsity"
        )?;
        let rule = "-".repeat(width + 40);
        writeln!(f, "{rule}")?;
        let row = |f: &mut fmt::Formatter<'_>, p: &ParamSparsity| {
            writeln!(
                f,
                "{:<width$}  {:>12}  {:>12}  {:>7.2}%",
                p.name,
                p.numel,
                p.zeros,
                100.0 * p.sparsity()
            )
        };
        for p in &self.params {
            row(f, p)?;
        }
        writeln!(f, "{rule}")?;
        row(f, &self.total)
    }
}
