//! Indexing with positions and ranges on every dim: `x.i((.., 1..3, 0))`,
//! PyTorch's `x[:, 1:3, 0]`.
//!
//! Each dim takes a position (which selects one entry and removes the dim) or a
//! range (`..`, `a..b`, `a..`, `..b`, `a..=b`, `..=b`). Signed positions and
//! range ends count from the end when negative (`-1` is the last entry), as in
//! Python. Unlike Python, a range reaching past the end is an error rather than
//! silently clamped, so an off-by-one shows up where it happens.
//!
//! A literal range with a positive start and a negative end (`1..-1`, Python's
//! `1:-1`) is what it says, but clippy's `reversed_empty_ranges` lint reads it as
//! an empty Rust range: allow the lint there, or put an end in a variable.
//!
//! The result is built from [`Tensor::narrow`] and [`Tensor::reshape`], so
//! gradients flow back into the indexed entries.

use crate::{Error, Result, Tensor};
use std::ops::{Bound, Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};

/// What one dim of an index asks for (see [`Tensor::i`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexItem {
    /// One entry (negative counts from the end); the dim is removed.
    Select(i64),
    /// The entries from `start` (`None`: the first) up to `end`; both may be
    /// negative to count from the end. The dim is kept.
    Range {
        /// The first entry, inclusive.
        start: Option<i64>,
        /// Where the range stops: `Excluded(b)` for `..b`, `Included(b)` for `..=b`.
        end: Bound<i64>,
    },
}

impl std::fmt::Display for IndexItem {
    /// The Rust syntax that produced it: `3`, `1..4`, `..=-2`, `..`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexItem::Select(i) => write!(f, "{i}"),
            IndexItem::Range { start, end } => {
                if let Some(s) = start {
                    write!(f, "{s}")?;
                }
                match end {
                    Bound::Unbounded => write!(f, ".."),
                    Bound::Excluded(e) => write!(f, "..{e}"),
                    Bound::Included(e) => write!(f, "..={e}"),
                }
            }
        }
    }
}

/// Positions beyond `i64::MAX` cannot be valid; they saturate and fail the range check.
fn to_i64<T: TryInto<i64>>(v: T) -> i64 {
    v.try_into().unwrap_or(i64::MAX)
}

macro_rules! index_items {
    ($($t:ty),*) => {$(
        impl From<$t> for IndexItem {
            fn from(i: $t) -> Self {
                IndexItem::Select(to_i64(i))
            }
        }
        impl From<Range<$t>> for IndexItem {
            fn from(r: Range<$t>) -> Self {
                IndexItem::Range { start: Some(to_i64(r.start)), end: Bound::Excluded(to_i64(r.end)) }
            }
        }
        impl From<RangeFrom<$t>> for IndexItem {
            fn from(r: RangeFrom<$t>) -> Self {
                IndexItem::Range { start: Some(to_i64(r.start)), end: Bound::Unbounded }
            }
        }
        impl From<RangeTo<$t>> for IndexItem {
            fn from(r: RangeTo<$t>) -> Self {
                IndexItem::Range { start: None, end: Bound::Excluded(to_i64(r.end)) }
            }
        }
        impl From<RangeInclusive<$t>> for IndexItem {
            fn from(r: RangeInclusive<$t>) -> Self {
                let (s, e) = r.into_inner();
                IndexItem::Range { start: Some(to_i64(s)), end: Bound::Included(to_i64(e)) }
            }
        }
        impl From<RangeToInclusive<$t>> for IndexItem {
            fn from(r: RangeToInclusive<$t>) -> Self {
                IndexItem::Range { start: None, end: Bound::Included(to_i64(r.end)) }
            }
        }
        impl TensorIndex for $t {
            fn into_items(self) -> Vec<IndexItem> {
                vec![self.into()]
            }
        }
        impl TensorIndex for Range<$t> {
            fn into_items(self) -> Vec<IndexItem> {
                vec![self.into()]
            }
        }
        impl TensorIndex for RangeFrom<$t> {
            fn into_items(self) -> Vec<IndexItem> {
                vec![self.into()]
            }
        }
        impl TensorIndex for RangeTo<$t> {
            fn into_items(self) -> Vec<IndexItem> {
                vec![self.into()]
            }
        }
        impl TensorIndex for RangeInclusive<$t> {
            fn into_items(self) -> Vec<IndexItem> {
                vec![self.into()]
            }
        }
        impl TensorIndex for RangeToInclusive<$t> {
            fn into_items(self) -> Vec<IndexItem> {
                vec![self.into()]
            }
        }
    )*};
}

// i32 is there for literals: with several integer impls, `x.i(1..3)` falls back to i32.
index_items!(usize, i64, i32, isize);

impl From<RangeFull> for IndexItem {
    fn from(_: RangeFull) -> Self {
        IndexItem::Range {
            start: None,
            end: Bound::Unbounded,
        }
    }
}

/// What [`Tensor::i`] accepts: one [`IndexItem`]-like value (a position or a
/// range) for the first dim, a tuple of up to six of them for the leading
/// dims, or a `Vec<IndexItem>` built at run time. Dims left out are kept whole.
pub trait TensorIndex {
    /// One item per leading dim.
    fn into_items(self) -> Vec<IndexItem>;
}

impl TensorIndex for RangeFull {
    fn into_items(self) -> Vec<IndexItem> {
        vec![self.into()]
    }
}

impl TensorIndex for IndexItem {
    fn into_items(self) -> Vec<IndexItem> {
        vec![self]
    }
}

impl TensorIndex for Vec<IndexItem> {
    fn into_items(self) -> Vec<IndexItem> {
        self
    }
}

impl TensorIndex for &[IndexItem] {
    fn into_items(self) -> Vec<IndexItem> {
        self.to_vec()
    }
}

macro_rules! tuple_index {
    ($($name:ident),+) => {
        impl<$($name: Into<IndexItem>),+> TensorIndex for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_items(self) -> Vec<IndexItem> {
                let ($($name,)+) = self;
                vec![$($name.into()),+]
            }
        }
    };
}

tuple_index!(A);
tuple_index!(A, B);
tuple_index!(A, B, C);
tuple_index!(A, B, C, D);
tuple_index!(A, B, C, D, E);
tuple_index!(A, B, C, D, E, F);

/// One dim after resolving its item: the entries `start..start + len`, and
/// whether the dim goes away (a position).
struct DimSlice {
    start: usize,
    len: usize,
    remove: bool,
}

/// Resolves `item` against dim `dim` of `size` entries.
fn resolve(item: &IndexItem, dim: usize, size: usize, t: &Tensor) -> Result<DimSlice> {
    let op = "i";
    let n = to_i64(size);
    // Negative positions count from the end; the caller checks the result's range.
    let from_end = |v: i64| if v < 0 { v.saturating_add(n) } else { v };
    match *item {
        IndexItem::Select(i) => {
            let k = from_end(i);
            if !(0..n).contains(&k) {
                return Err(Error::IndexOutOfRange {
                    op,
                    index: i,
                    dim,
                    size,
                });
            }
            Ok(DimSlice {
                start: k as usize,
                len: 1,
                remove: true,
            })
        }
        IndexItem::Range { start, end } => {
            let s = start.map_or(0, from_end);
            let e = match end {
                Bound::Unbounded => n,
                Bound::Excluded(e) => from_end(e),
                Bound::Included(e) => from_end(e).saturating_add(1),
            };
            if !(0..=n).contains(&s) || !(0..=n).contains(&e) {
                return Err(Error::invalid(
                    op,
                    format!(
                        "range {item} is out of bounds for dimension {dim} of size {size} (tensor shape {})",
                        t.shape()
                    ),
                ));
            }
            if s > e {
                return Err(Error::invalid(
                    op,
                    format!(
                        "range {item} on dimension {dim} of size {size} starts at {s}, after its end {e} (tensor shape {})",
                        t.shape()
                    ),
                ));
            }
            Ok(DimSlice {
                start: s as usize,
                len: (e - s) as usize,
                remove: false,
            })
        }
    }
}

impl Tensor {
    /// Indexes the leading dims with positions and ranges, like PyTorch's
    /// `x[1, :, 2:5]`: a position selects one entry and removes the dim, a range
    /// keeps the dim. Negative positions and range ends count from the end.
    ///
    /// Errors when more items than dims are given, or when a position or range
    /// does not fit its dim (ranges are not clamped as in Python). Gradients flow
    /// back to the selected entries.
    ///
    /// ```
    /// use neurite::{DType, Device, Tensor};
    /// # fn main() -> neurite::Result<()> {
    /// let x = Tensor::arange(0.0, 24.0, 1.0, DType::F32, &Device::cpu())?.reshape((2, 3, 4))?;
    /// assert_eq!(x.i(1)?.dims(), &[3, 4]);
    /// let y = x.i((.., 1..3, -1))?; // x[:, 1:3, -1]
    /// assert_eq!(y.to_vec2::<f32>()?, vec![vec![7., 11.], vec![19., 23.]]);
    /// assert_eq!(x.i((0, ..=1, 2..))?.to_vec2::<f32>()?, vec![vec![2., 3.], vec![6., 7.]]);
    /// assert!(x.i((0, 0, 4)).is_err());
    /// # Ok(()) }
    /// ```
    pub fn i<I: TensorIndex>(&self, index: I) -> Result<Tensor> {
        let items = index.into_items();
        if items.len() > self.rank() {
            let list: Vec<String> = items.iter().map(|i| i.to_string()).collect();
            return Err(Error::invalid(
                "i",
                format!(
                    "{} indices ({}) given for a tensor of rank {} (shape {})",
                    items.len(),
                    list.join(", "),
                    self.rank(),
                    self.shape()
                ),
            ));
        }
        let slices: Vec<DimSlice> = items
            .iter()
            .enumerate()
            .map(|(d, item)| resolve(item, d, self.dims()[d], self))
            .collect::<Result<_>>()?;
        let mut t = self.clone();
        for (d, s) in slices.iter().enumerate() {
            t = t.narrow(d, s.start, s.len)?;
        }
        if !slices.iter().any(|s| s.remove) {
            return Ok(t);
        }
        let kept: Vec<usize> = t
            .dims()
            .iter()
            .enumerate()
            .filter(|&(d, _)| slices.get(d).is_none_or(|s| !s.remove))
            .map(|(_, &size)| size)
            .collect();
        t.reshape(kept)
    }
}
