//! `Display` for [`Tensor`] in PyTorch's `print(t)` format.
//!
//! The rules are those of `torch._tensor_str` with its default print options
//! (precision 4, threshold 1000 elements, 3 edge items, line width 80), so a
//! tensor prints as it would in PyTorch: `tensor([[ 0.1000, -2.0000], ...])`,
//! integer-valued floats as `1.`, scientific notation when the non-zero finite
//! magnitudes span more than 1000x or leave `[1e-4, 1e8]`, `...` past 1000
//! elements, and `dtype=` / `device=` / `requires_grad=True` suffixes where
//! PyTorch writes them. `format!("{:.2}", t)` sets the precision.

use crate::{DType, Device, Tensor};
use std::fmt;

const THRESHOLD: usize = 1000;
const EDGE: usize = 3;
const LINEWIDTH: usize = 80;

/// How the elements of one tensor are written (PyTorch's `_Formatter`).
struct Formatter {
    float: bool,
    int_mode: bool,
    sci: bool,
    width: usize,
    precision: usize,
}

/// `value` with `precision` digits in Python's `{:.Ne}` form (`1.2346e-05`).
fn sci(value: f64, precision: usize) -> String {
    if !value.is_finite() {
        return nonfinite(value);
    }
    let s = format!("{value:.precision$e}");
    let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

fn nonfinite(value: f64) -> String {
    if value.is_nan() {
        "nan".into()
    } else if value > 0.0 {
        "inf".into()
    } else {
        "-inf".into()
    }
}

fn fixed(value: f64, precision: usize) -> String {
    if value.is_finite() {
        format!("{value:.precision$}")
    } else {
        nonfinite(value)
    }
}

impl Formatter {
    /// Chooses the mode from the (summarised) values, as PyTorch does.
    fn new(values: &[f64], float: bool, precision: usize) -> Formatter {
        let mut f = Formatter {
            float,
            int_mode: true,
            sci: false,
            width: 1,
            precision,
        };
        if !float {
            f.width = values
                .iter()
                .map(|v| format!("{}", *v as i64).len())
                .max()
                .unwrap_or(1)
                .max(1);
            return f;
        }
        let nonzero: Vec<f64> = values.iter().copied().filter(|v| v.is_finite() && *v != 0.0).collect();
        if nonzero.is_empty() {
            return f;
        }
        let min = nonzero.iter().map(|v| v.abs()).fold(f64::INFINITY, f64::min);
        let max = nonzero.iter().map(|v| v.abs()).fold(0.0, f64::max);
        f.int_mode = nonzero.iter().all(|v| v.ceil() == *v);
        let wide = max / min > 1000.0 || max > 1.0e8;
        let widths: Box<dyn Fn(f64) -> usize> = if f.int_mode {
            if wide {
                f.sci = true;
                Box::new(move |v| sci(v, precision).len())
            } else {
                Box::new(|v| format!("{v:.0}").len() + 1)
            }
        } else if wide || min < 1.0e-4 {
            f.sci = true;
            Box::new(move |v| sci(v, precision).len())
        } else {
            Box::new(move |v| fixed(v, precision).len())
        };
        f.width = nonzero.iter().map(|&v| widths(v)).max().unwrap_or(1).max(1);
        f
    }

    fn format(&self, value: f64) -> String {
        let s = if !self.float {
            format!("{}", value as i64)
        } else if self.sci {
            sci(value, self.precision)
        } else if self.int_mode {
            if value.is_finite() {
                format!("{value:.0}.")
            } else {
                nonfinite(value)
            }
        } else {
            fixed(value, self.precision)
        };
        format!("{s:>width$}", width = self.width)
    }
}

/// A view of row-major `data` with `dims`, for the recursive printer.
struct View<'a> {
    data: &'a [f64],
    dims: &'a [usize],
}

impl View<'_> {
    fn row(&self, i: usize) -> View<'_> {
        let inner: usize = self.dims[1..].iter().product();
        View {
            data: &self.data[i * inner..(i + 1) * inner],
            dims: &self.dims[1..],
        }
    }

    /// The values PyTorch's formatter sees: the edge items of every dimension
    /// when summarising (`get_summarized_data`), else everything.
    fn summarized(&self, summarize: bool, out: &mut Vec<f64>) {
        if !summarize {
            out.extend_from_slice(self.data);
            return;
        }
        match self.dims.len() {
            0 => out.extend_from_slice(self.data),
            1 => {
                let n = self.dims[0];
                if n > 2 * EDGE {
                    out.extend_from_slice(&self.data[..EDGE]);
                    out.extend_from_slice(&self.data[n - EDGE..]);
                } else {
                    out.extend_from_slice(self.data);
                }
            }
            _ => {
                for i in edge_rows(self.dims[0]) {
                    self.row(i).summarized(true, out);
                }
            }
        }
    }

    fn render(&self, indent: usize, summarize: bool, f: &Formatter) -> String {
        match self.dims.len() {
            0 => f.format(self.data[0]),
            1 => self.render_vector(indent, summarize, f),
            d => {
                let n = self.dims[0];
                let mut slices: Vec<String> = Vec::new();
                if summarize && n > 2 * EDGE {
                    slices.extend((0..EDGE).map(|i| self.row(i).render(indent + 1, true, f)));
                    slices.push("...".into());
                    slices.extend((n - EDGE..n).map(|i| self.row(i).render(indent + 1, true, f)));
                } else {
                    slices.extend((0..n).map(|i| self.row(i).render(indent + 1, summarize, f)));
                }
                let sep = format!(",{}{}", "\n".repeat(d - 1), " ".repeat(indent + 1));
                format!("[{}]", slices.join(&sep))
            }
        }
    }

    fn render_vector(&self, indent: usize, summarize: bool, f: &Formatter) -> String {
        let element = f.width + 2;
        let per_line = (LINEWIDTH.saturating_sub(indent) / element).max(1);
        let n = self.dims[0];
        let data: Vec<String> = if summarize && n > 2 * EDGE {
            let mut v: Vec<String> = self.data[..EDGE].iter().map(|&x| f.format(x)).collect();
            v.push(" ...".into());
            v.extend(self.data[n - EDGE..].iter().map(|&x| f.format(x)));
            v
        } else {
            self.data.iter().map(|&x| f.format(x)).collect()
        };
        let lines: Vec<String> = data.chunks(per_line).map(|c| c.join(", ")).collect();
        format!("[{}]", lines.join(&format!(",\n{}", " ".repeat(indent + 1))))
    }
}

/// The rows PyTorch keeps of a summarised dimension of size `n`.
fn edge_rows(n: usize) -> Vec<usize> {
    if n > 2 * EDGE {
        (0..EDGE).chain(n - EDGE..n).collect()
    } else {
        (0..n).collect()
    }
}

/// PyTorch's name of a dtype (`torch.float64`).
fn torch_dtype(d: DType) -> &'static str {
    match d {
        DType::F32 => "torch.float32",
        DType::F64 => "torch.float64",
        DType::F16 => "torch.float16",
        DType::BF16 => "torch.bfloat16",
        DType::I64 => "torch.int64",
    }
}

/// PyTorch's `_add_suffixes`: `, suffix` on the last line while it fits in
/// the line width, else on a new line indented under the opening bracket.
fn add_suffixes(body: String, suffixes: &[String], indent: usize) -> String {
    let mut out = body;
    let mut last_line = match out.rfind('\n') {
        Some(p) => out.len() - p + 1,
        None => out.len() + 2,
    };
    for s in suffixes {
        if last_line + s.len() + 2 > LINEWIDTH {
            out.push_str(&format!(",\n{}{s}", " ".repeat(indent)));
            last_line = indent + s.len();
        } else {
            out.push_str(&format!(", {s}"));
            last_line += s.len() + 2;
        }
    }
    out.push(')');
    out
}

impl fmt::Display for Tensor {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        const PREFIX: &str = "tensor(";
        let precision = out.precision().unwrap_or(4);
        let mut suffixes = Vec::new();
        if self.device() != Device::Cpu {
            suffixes.push(format!("device='{}'", self.device()));
        }
        let dtype = self.dtype();
        let float = dtype.is_float();
        let dims = self.dims().to_vec();
        let body = if self.elem_count() == 0 {
            if dims.len() != 1 {
                let shape: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
                let tuple = if shape.len() == 1 {
                    format!("({},)", shape[0])
                } else {
                    format!("({})", shape.join(", "))
                };
                suffixes.push(format!("size={tuple}"));
            }
            if dtype != DType::F32 {
                suffixes.push(format!("dtype={}", torch_dtype(dtype)));
            }
            "[]".to_string()
        } else {
            if !matches!(dtype, DType::F32 | DType::I64) {
                suffixes.push(format!("dtype={}", torch_dtype(dtype)));
            }
            // Values are read back to the host in f64: exact for every dtype
            // but i64 beyond 2^53, which prints the nearest representable value.
            let Ok(data) = self.to_vec::<f64>() else {
                return write!(out, "{self:?}");
            };
            let view = View {
                data: &data,
                dims: &dims,
            };
            let summarize = self.elem_count() > THRESHOLD;
            let mut seen = Vec::new();
            view.summarized(summarize, &mut seen);
            let f = Formatter::new(&seen, float, precision);
            view.render(PREFIX.len(), summarize, &f)
        };
        if self.is_requires_grad() {
            suffixes.push("requires_grad=True".into());
        }
        out.write_str(&add_suffixes(format!("{PREFIX}{body}"), &suffixes, PREFIX.len()))
    }
}
