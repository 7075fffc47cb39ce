//! Numeric CSV files with a header line and an optional label column.

use super::Dataset;
use crate::{Device, Error, Result, Tensor};
use std::path::Path;

/// Which column holds the label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LabelColumn {
    /// The column with this header name.
    Name(String),
    /// The column at this 0-based position; negative counts from the end
    /// (`-1` is the last column).
    Index(i64),
    /// No label: every column is a feature.
    None,
}

/// What the label column holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LabelKind {
    /// Class indices `0, 1, 2, ...`, read into an `I64` tensor `(N,)`.
    #[default]
    Class,
    /// Real values (regression), read into an `F32` tensor `(N, 1)`.
    Value,
}

/// How to read a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// The label column.
    pub label: LabelColumn,
    /// What the label column holds.
    pub label_kind: LabelKind,
    /// The field separator (`b','` by default).
    pub delimiter: u8,
}

impl Default for CsvOptions {
    /// The last column is a class label; fields are comma-separated.
    fn default() -> Self {
        CsvOptions {
            label: LabelColumn::Index(-1),
            label_kind: LabelKind::Class,
            delimiter: b',',
        }
    }
}

impl CsvOptions {
    /// Labels in the column named `name`, as classes.
    pub fn label_name(name: &str) -> CsvOptions {
        CsvOptions {
            label: LabelColumn::Name(name.to_string()),
            ..CsvOptions::default()
        }
    }

    /// Labels in the column at `index` (negative counts from the end), as classes.
    pub fn label_index(index: i64) -> CsvOptions {
        CsvOptions {
            label: LabelColumn::Index(index),
            ..CsvOptions::default()
        }
    }

    /// The same options with labels read as real values.
    pub fn regression(self) -> CsvOptions {
        CsvOptions {
            label_kind: LabelKind::Value,
            ..self
        }
    }
}

/// The content of a numeric CSV file, on the CPU.
#[derive(Clone, Debug)]
pub struct CsvData {
    /// Header names of the feature columns, in file order.
    pub feature_names: Vec<String>,
    /// Header name of the label column, when there is one.
    pub label_name: Option<String>,
    /// Features, `F32` `(rows, feature columns)`.
    pub features: Tensor,
    /// Labels: `I64` `(rows,)` for classes, `F32` `(rows, 1)` for values.
    pub labels: Option<Tensor>,
}

impl CsvData {
    /// Features and labels as a [`Dataset`]; errors when there is no label column.
    pub fn into_dataset(self) -> Result<Dataset> {
        let labels = self.labels.ok_or_else(|| {
            Error::invalid(
                "CsvData::into_dataset",
                "the CSV was read without a label column (LabelColumn::None)",
            )
        })?;
        Dataset::new(self.features, labels)
    }
}

/// Reads a numeric CSV file whose first line names the columns.
///
/// Every other line is one sample; every field must be a number that is
/// finite as an `f32` (and class labels non-negative integers, represented
/// exactly: `1.5`, `-1`, `NaN` or `9.3e18` are refused, not rounded or
/// saturated). Errors name the file, the line, the column and what was wrong.
///
/// ```no_run
/// use neurite::data::{read_csv, CsvOptions};
/// # fn main() -> neurite::Result<()> {
/// let iris = read_csv("iris.csv", &CsvOptions::label_name("species"))?;
/// let ds = iris.into_dataset()?;
/// # Ok(()) }
/// ```
pub fn read_csv(path: impl AsRef<Path>, opts: &CsvOptions) -> Result<CsvData> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| Error::io(format!("opening CSV file {name}"), e))?;
    parse(std::io::BufReader::new(file), &name, opts)
}

/// Parses CSV text held in memory; `name` stands for the file in error messages.
pub fn parse_csv(text: &str, name: &str, opts: &CsvOptions) -> Result<CsvData> {
    parse(text.as_bytes(), name, opts)
}

/// The class index a label field holds, if it is one: an integer written as
/// such (exact over the whole `i64` range), or a number in decimal notation
/// (`"3.0"`, `"3e0"`) that is whole and below 2^53, where `f64` holds every
/// integer exactly, so the value read is the value written.
fn class_label(text: &str, value: f64) -> Option<i64> {
    if let Ok(i) = text.parse::<i64>() {
        return (i >= 0).then_some(i);
    }
    let exact = value >= 0.0 && value.fract() == 0.0 && value < (1u64 << 53) as f64;
    exact.then_some(value as i64)
}

fn parse<R: std::io::Read>(reader: R, name: &str, opts: &CsvOptions) -> Result<CsvData> {
    let err = |line: u64, msg: String| Error::Format {
        path: name.to_string(),
        msg: format!("line {line}: {msg}"),
    };
    let mut rdr = ::csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .has_headers(false)
        .flexible(true)
        .trim(::csv::Trim::All)
        .from_reader(reader);
    let mut records = rdr.byte_records();
    let csv_err = |e: ::csv::Error| {
        let line = e.position().map(|p| p.line()).unwrap_or(0);
        match e.into_kind() {
            ::csv::ErrorKind::Io(io) => Error::io(format!("reading CSV file {name}"), io),
            other => err(line, format!("malformed CSV: {other:?}")),
        }
    };
    let header = match records.next() {
        None => {
            return Err(err(
                1,
                "the file is empty; expected a header line naming the columns".into(),
            ));
        }
        Some(r) => r.map_err(csv_err)?,
    };
    let names: Vec<String> = header.iter().map(|f| String::from_utf8_lossy(f).into_owned()).collect();
    let ncols = names.len();
    let label_col = match &opts.label {
        LabelColumn::None => None,
        LabelColumn::Name(n) => Some(
            names
                .iter()
                .position(|h| h == n)
                .ok_or_else(|| err(1, format!("no column named {n:?}; the header has {names:?}")))?,
        ),
        LabelColumn::Index(i) => {
            let idx = if *i < 0 { *i + ncols as i64 } else { *i };
            if idx < 0 || idx >= ncols as i64 {
                return Err(err(
                    1,
                    format!("label column index {i} is out of range for the {ncols} columns {names:?}"),
                ));
            }
            Some(idx as usize)
        }
    };
    if label_col.is_some() && ncols < 2 {
        return Err(err(
            1,
            format!("the header has {ncols} column; a label and at least one feature are needed"),
        ));
    }
    let nfeat = ncols - label_col.is_some() as usize;
    let mut features: Vec<f32> = Vec::new();
    let mut labels_i: Vec<i64> = Vec::new();
    let mut labels_f: Vec<f32> = Vec::new();
    let mut rows = 0usize;
    for rec in records {
        let rec = rec.map_err(csv_err)?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        if rec.len() == 1 && rec.get(0).is_some_and(|f| f.is_empty()) {
            continue; // a blank line
        }
        if rec.len() != ncols {
            return Err(err(
                line,
                format!(
                    "{} field{}, but the header has {ncols} columns",
                    rec.len(),
                    if rec.len() == 1 { "" } else { "s" }
                ),
            ));
        }
        for (c, field) in rec.iter().enumerate() {
            let col = || format!("column {} ({:?})", c + 1, names[c]);
            let text = std::str::from_utf8(field).unwrap_or("");
            let v: f64 = text.parse().map_err(|_| {
                let shown = String::from_utf8_lossy(field);
                if shown.is_empty() {
                    err(
                        line,
                        format!("{}: empty value (missing values are not supported)", col()),
                    )
                } else {
                    err(line, format!("{}: {shown:?} is not a number", col()))
                }
            })?;
            if !v.is_finite() {
                return Err(err(line, format!("{}: {text:?} is not a finite number", col())));
            }
            if Some(c) == label_col && opts.label_kind == LabelKind::Class {
                let label = class_label(text, v).ok_or_else(|| {
                    err(
                        line,
                        format!(
                            "{}: class label {text:?} is not a non-negative integer class index \
                             (an integer in 0..={}, or a whole number below 2^53 in decimal notation)",
                            col(),
                            i64::MAX
                        ),
                    )
                })?;
                labels_i.push(label);
                continue;
            }
            // Finite as f64 is not enough: 1e39 becomes an infinite f32.
            let x = v as f32;
            if !x.is_finite() {
                return Err(err(
                    line,
                    format!("{}: {text:?} is outside the range of f32 (about ±3.4e38)", col()),
                ));
            }
            if Some(c) == label_col {
                labels_f.push(x);
            } else {
                features.push(x);
            }
        }
        rows += 1;
    }
    if rows == 0 {
        return Err(err(2, "no data lines after the header".into()));
    }
    let cpu = Device::cpu();
    let features = Tensor::from_vec(features, (rows, nfeat), &cpu)?;
    let labels = match (label_col, opts.label_kind) {
        (None, _) => None,
        (Some(_), LabelKind::Class) => Some(Tensor::from_vec(labels_i, rows, &cpu)?),
        (Some(_), LabelKind::Value) => Some(Tensor::from_vec(labels_f, (rows, 1), &cpu)?),
    };
    let label_name = label_col.map(|c| names[c].clone());
    let feature_names = names
        .into_iter()
        .enumerate()
        .filter(|(c, _)| Some(*c) != label_col)
        .map(|(_, n)| n)
        .collect();
    Ok(CsvData {
        feature_names,
        label_name,
        features,
        labels,
    })
}
