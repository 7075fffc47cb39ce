//! `Display` for tensors, character for character like PyTorch's `print(t)`.
//!
//! The rules are those of `torch/_tensor_str.py`: one formatter per tensor
//! chooses between integer-valued (`1.`), fixed (`0.1000`) and scientific
//! (`1.0000e-05`) notation from the finite non-zero values, pads every element
//! to the widest, wraps rows at the line width, summarises tensors of more than
//! `threshold` elements to their edge items, and appends the `dtype=`, `size=`,
//! `device=` and `requires_grad=` suffixes PyTorch would.

use crate::{DType, Result, Tensor};

/// How [`Tensor::format_with`] prints, with PyTorch's `set_printoptions`
/// meaning and defaults (`Default` gives precision 4, threshold 1000, 3 edge
/// items, line width 80, automatic scientific notation).
///
/// ```
/// use neurite::{Device, PrintOptions, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let t = Tensor::arange(0.0, 20.0, 1.0, neurite::DType::F32, &Device::cpu())?;
/// let opts = PrintOptions { threshold: 10, edgeitems: 2, ..PrintOptions::default() };
/// assert_eq!(t.format_with(&opts)?, "tensor([ 0.,  1.,  ..., 18., 19.])");
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PrintOptions {
    /// Digits after the decimal point (fixed) or after the leading digit (scientific).
    pub precision: usize,
    /// Tensors with more elements than this are summarised (`usize::MAX`: never).
    pub threshold: usize,
    /// Entries kept at each end of a summarised dimension.
    pub edgeitems: usize,
    /// Characters per line before a row wraps.
    pub linewidth: usize,
    /// `Some(true)` / `Some(false)` forces scientific notation on / off;
    /// `None` chooses it from the values, as PyTorch does.
    pub sci_mode: Option<bool>,
}

impl Default for PrintOptions {
    fn default() -> Self {
        PrintOptions {
            precision: 4,
            threshold: 1000,
            edgeitems: 3,
            linewidth: 80,
            sci_mode: None,
        }
    }
}

impl Tensor {
    /// This tensor as PyTorch would print it under `opts` (copies the values,
    /// or only the summarised edges, to the host).
    ///
    /// ```
    /// use neurite::{Device, PrintOptions, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let t = Tensor::from_vec(vec![0.1f32, -2.0, 3.25, 4.5], (2, 2), &Device::cpu())?;
    /// assert_eq!(t.format_with(&PrintOptions::default())?, "tensor([[ 0.1000, -2.0000],\n        [ 3.2500,  4.5000]])");
    /// assert_eq!(format!("{t:.1}"), "tensor([[ 0.1, -2.0],\n        [ 3.2,  4.5]])");
    /// # Ok(()) }
    /// ```
    pub fn format_with(&self, opts: &PrintOptions) -> Result<String> {
        const PREFIX: &str = "tensor(";
        let indent = PREFIX.len();
        let mut suffixes = Vec::new();
        if self.device().is_cuda() {
            suffixes.push(format!("device='{}'", self.device()));
        }
        let body = if self.elem_count() == 0 {
            if self.rank() != 1 {
                suffixes.push(format!("size={}", py_tuple(self.dims())));
            }
            if self.dtype() != DType::F32 {
                suffixes.push(format!("dtype={}", torch_dtype(self.dtype())));
            }
            "[]".to_string()
        } else {
            if opts.edgeitems == 0 {
                suffixes.push(format!("size={}", py_tuple(self.dims())));
            }
            // PyTorch names every dtype but its defaults (and bool, whose
            // True/False already say it).
            if !matches!(self.dtype(), DType::F32 | DType::I64 | DType::Bool) {
                suffixes.push(format!("dtype={}", torch_dtype(self.dtype())));
            }
            self.body(indent, opts)?
        };
        if self.is_requires_grad() {
            suffixes.push("requires_grad=True".to_string());
        }
        Ok(add_suffixes(
            format!("{PREFIX}{body}"),
            &suffixes,
            indent,
            opts.linewidth,
        ))
    }

    /// The bracketed values of a non-empty tensor.
    fn body(&self, indent: usize, opts: &PrintOptions) -> Result<String> {
        let summarize = self.elem_count() > opts.threshold;
        if summarize && opts.edgeitems == 0 && self.rank() > 0 {
            return Ok("[...]".to_string());
        }
        let (shown, cut) = if summarize {
            self.edges(opts.edgeitems)?
        } else {
            (self.clone(), vec![false; self.rank()])
        };
        let values = if shown.dtype() == DType::Bool {
            Values::Bool(shown.to_vec()?)
        } else if shown.dtype().is_int() {
            Values::Int(shown.to_vec()?)
        } else {
            Values::Float(shown.to_vec()?)
        };
        let fmt = Formatter::new(&values, opts);
        let view = View {
            values: &values,
            fmt: &fmt,
            opts,
            cut: &cut,
        };
        let mut out = String::new();
        view.render(&mut out, 0, shown.dims(), indent);
        Ok(out)
    }

    /// The first and last `edge` entries of every dim longer than `2 * edge`
    /// (computed on the tensor's device, so a summary copies little), and which
    /// dims were cut. The values are exactly those PyTorch's formatter sees.
    fn edges(&self, edge: usize) -> Result<(Tensor, Vec<bool>)> {
        crate::no_grad(|| {
            let mut t = self.clone();
            let mut cut = Vec::with_capacity(self.rank());
            for (d, &size) in self.dims().iter().enumerate() {
                let long = size > 2 * edge;
                if long {
                    t = Tensor::cat(&[t.narrow(d, 0, edge)?, t.narrow(d, size - edge, edge)?], d)?;
                }
                cut.push(long);
            }
            Ok((t, cut))
        })
    }
}

impl std::fmt::Display for Tensor {
    /// PyTorch's `str(t)`; a formatter precision (`{:.2}`) replaces the default 4.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut opts = PrintOptions::default();
        if let Some(p) = f.precision() {
            opts.precision = p;
        }
        // fmt::Error carries no message; a failed read (a lost GPU) says what failed in the text.
        match self.format_with(&opts) {
            Ok(s) => f.write_str(&s),
            Err(e) => write!(f, "tensor(<unreadable: {e}>)"),
        }
    }
}

impl std::fmt::Debug for Tensor {
    /// The shape, dtype and device, then the values as `Display` prints them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor[{}, {}, {}] ", self.shape(), self.dtype(), self.device())?;
        std::fmt::Display::fmt(self, f)
    }
}

/// PyTorch's name of a dtype.
fn torch_dtype(d: DType) -> &'static str {
    match d {
        DType::F32 => "torch.float32",
        DType::F64 => "torch.float64",
        DType::F16 => "torch.float16",
        DType::BF16 => "torch.bfloat16",
        DType::I64 => "torch.int64",
        DType::Bool => "torch.bool",
        DType::U8 => "torch.uint8",
        DType::I8 => "torch.int8",
        DType::I32 => "torch.int32",
    }
}

/// `(2, 3)`, `(4,)`, as Python prints a tuple.
fn py_tuple(dims: &[usize]) -> String {
    let parts: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    if parts.len() == 1 {
        format!("({},)", parts[0])
    } else {
        format!("({})", parts.join(", "))
    }
}

/// PyTorch's `_add_suffixes`: each suffix goes after `, ` or, when the line
/// would pass the width, on a new line at `indent`.
fn add_suffixes(mut s: String, suffixes: &[String], indent: usize, linewidth: usize) -> String {
    // Python's `len(s) - s.rfind("\n") + 1`, with rfind giving -1 when absent.
    let mut last_line_len = match s.rfind('\n') {
        Some(p) => s.len() - p + 1,
        None => s.len() + 2,
    };
    for suffix in suffixes {
        if last_line_len + suffix.len() + 2 > linewidth {
            s.push_str(",\n");
            s.extend(std::iter::repeat_n(' ', indent));
            s.push_str(suffix);
            last_line_len = indent + suffix.len();
        } else {
            s.push_str(", ");
            s.push_str(suffix);
            last_line_len += suffix.len() + 2;
        }
    }
    s.push(')');
    s
}

/// The values shown, in row-major order.
enum Values {
    Float(Vec<f64>),
    Int(Vec<i64>),
    Bool(Vec<bool>),
}

/// PyTorch's `_Formatter`: one notation and one width for every element.
struct Formatter {
    int_mode: bool,
    sci_mode: bool,
    max_width: usize,
    precision: usize,
}

impl Formatter {
    fn new(values: &Values, opts: &PrintOptions) -> Formatter {
        let mut f = Formatter {
            int_mode: true,
            sci_mode: false,
            max_width: 1,
            precision: opts.precision,
        };
        let v = match values {
            Values::Int(v) => {
                f.max_width = v.iter().map(|x| x.to_string().len()).fold(1, usize::max);
                return f;
            }
            Values::Bool(v) => {
                f.max_width = if v.contains(&false) { 5 } else { 4 };
                return f;
            }
            Values::Float(v) => v,
        };
        let nonzero: Vec<f64> = v.iter().copied().filter(|x| x.is_finite() && *x != 0.0).collect();
        if nonzero.is_empty() {
            return f;
        }
        let (min, max) = nonzero.iter().fold((f64::INFINITY, 0.0f64), |(lo, hi), x| {
            (lo.min(x.abs()), hi.max(x.abs()))
        });
        f.int_mode = nonzero.iter().all(|x| *x == x.ceil());
        f.sci_mode = opts
            .sci_mode
            .unwrap_or(max / min > 1000.0 || max > 1.0e8 || min < 1.0e-4);
        let p = opts.precision;
        f.max_width = nonzero
            .iter()
            .map(|&x| match (f.sci_mode, f.int_mode) {
                (true, _) => py_sci(x, p).len(),
                (false, true) => py_fixed(x, 0).len() + 1,
                (false, false) => py_fixed(x, p).len(),
            })
            .fold(1, usize::max);
        f
    }

    fn format(&self, values: &Values, i: usize) -> String {
        let s = match values {
            Values::Int(v) => v[i].to_string(),
            Values::Bool(v) => (if v[i] { "True" } else { "False" }).to_string(),
            Values::Float(v) => {
                let x = v[i];
                if self.sci_mode {
                    py_sci(x, self.precision)
                } else if self.int_mode {
                    let mut s = py_fixed(x, 0);
                    if x.is_finite() {
                        s.push('.');
                    }
                    s
                } else {
                    py_fixed(x, self.precision)
                }
            }
        };
        let pad = self.max_width.saturating_sub(s.len());
        " ".repeat(pad) + &s
    }
}

/// Python's `f"{x:.{p}f}"` (Rust's rounding of the exact binary value is the same).
fn py_fixed(x: f64, p: usize) -> String {
    if x.is_nan() {
        "nan".to_string()
    } else {
        format!("{x:.p$}")
    }
}

/// Python's `f"{x:.{p}e}"`: a signed exponent of at least two digits (`1.0000e-05`).
fn py_sci(x: f64, p: usize) -> String {
    if !x.is_finite() {
        return py_fixed(x, p);
    }
    let s = format!("{x:.p$e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    format!("{mantissa}e{sign}{digits:0>2}")
}

/// The shown values with their dims, rendered PyTorch's way.
struct View<'a> {
    values: &'a Values,
    fmt: &'a Formatter,
    opts: &'a PrintOptions,
    /// Per dim of the whole tensor: true when only its edges are shown.
    cut: &'a [bool],
}

impl View<'_> {
    /// Appends the sub-tensor starting at element `offset` with `dims` (the
    /// trailing dims of the shown tensor).
    fn render(&self, out: &mut String, offset: usize, dims: &[usize], indent: usize) {
        let Some((&n, inner)) = dims.split_first() else {
            out.push_str(&self.fmt.format(self.values, offset));
            return;
        };
        let cut = self.cut[self.cut.len() - dims.len()];
        let edge = self.opts.edgeitems;
        if inner.is_empty() {
            self.render_vector(out, offset, n, cut, indent);
            return;
        }
        let stride: usize = inner.iter().product();
        let sep = format!(",{}{}", "\n".repeat(dims.len() - 1), " ".repeat(indent + 1));
        out.push('[');
        for i in 0..n {
            if i > 0 {
                out.push_str(&sep);
            }
            if cut && i == edge {
                out.push_str("...");
                out.push_str(&sep);
            }
            self.render(out, offset + i * stride, inner, indent + 1);
        }
        out.push(']');
    }

    /// PyTorch's `_vector_str`: elements wrapped to the line width, with ` ...`
    /// counting as an element where a long row was cut.
    fn render_vector(&self, out: &mut String, offset: usize, n: usize, cut: bool, indent: usize) {
        let element_length = (self.fmt.max_width + 2) as i64;
        let room = self.opts.linewidth as i64 - indent as i64;
        let per_line = room.div_euclid(element_length).max(1) as usize;
        let mut items: Vec<String> = Vec::with_capacity(n + 1);
        for i in 0..n {
            if cut && i == self.opts.edgeitems {
                items.push(" ...".to_string());
            }
            items.push(self.fmt.format(self.values, offset + i));
        }
        let sep = format!(",\n{}", " ".repeat(indent + 1));
        out.push('[');
        for (li, line) in items.chunks(per_line).enumerate() {
            if li > 0 {
                out.push_str(&sep);
            }
            out.push_str(&line.join(", "));
        }
        out.push(']');
    }
}
