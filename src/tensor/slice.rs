//! Slicing with ranges on every dimension: `x.i((.., 1..3))`, `x.i((0, 2..))`.

use crate::{Error, Result, Tensor};
use std::ops::{Range, RangeFrom, RangeFull, RangeInclusive, RangeTo, RangeToInclusive};

/// What one dimension of an [`IndexOp::i`] keeps: one position (the dimension
/// is removed, as `x[2]` in PyTorch) or a range of positions (`a..b`, `a..`,
/// `..b`, `a..=b`, `..=b`, `..`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TensorIndexer {
    /// One position; the dimension disappears.
    Select(usize),
    /// `start..end` (`end` exclusive; `None` is the dimension's end).
    Range {
        /// First position kept.
        start: usize,
        /// One past the last position kept, or the end of the dimension.
        end: Option<usize>,
    },
}

impl From<usize> for TensorIndexer {
    fn from(i: usize) -> Self {
        TensorIndexer::Select(i)
    }
}

impl From<Range<usize>> for TensorIndexer {
    fn from(r: Range<usize>) -> Self {
        TensorIndexer::Range {
            start: r.start,
            end: Some(r.end),
        }
    }
}

impl From<RangeFrom<usize>> for TensorIndexer {
    fn from(r: RangeFrom<usize>) -> Self {
        TensorIndexer::Range {
            start: r.start,
            end: None,
        }
    }
}

impl From<RangeTo<usize>> for TensorIndexer {
    fn from(r: RangeTo<usize>) -> Self {
        TensorIndexer::Range {
            start: 0,
            end: Some(r.end),
        }
    }
}

impl From<RangeFull> for TensorIndexer {
    fn from(_: RangeFull) -> Self {
        TensorIndexer::Range { start: 0, end: None }
    }
}

impl From<RangeInclusive<usize>> for TensorIndexer {
    fn from(r: RangeInclusive<usize>) -> Self {
        let (start, last) = r.into_inner();
        TensorIndexer::Range {
            start,
            // `usize::MAX` as the last position is out of range anyway; saturating keeps the error for `narrow`.
            end: Some(last.saturating_add(1)),
        }
    }
}

impl From<RangeToInclusive<usize>> for TensorIndexer {
    fn from(r: RangeToInclusive<usize>) -> Self {
        TensorIndexer::Range {
            start: 0,
            end: Some(r.end.saturating_add(1)),
        }
    }
}

/// Slicing by position on the leading dimensions, PyTorch's `x[0, 1:3]`:
/// `x.i(index)` with one indexer or a tuple of up to six, one per leading
/// dimension (the others are kept whole). Built from `narrow` and `reshape`,
/// so gradients flow back into the sliced positions. Out-of-range positions
/// and more indexers than dimensions are errors naming the dimension, the
/// range and the size. Negative positions are not accepted (count from
/// `x.dims()[d]`).
///
/// ```
/// use neurite::{Device, IndexOp, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let x = Tensor::from_vec((0..24).map(|v| v as f32).collect(), (2, 3, 4), &Device::cpu())?;
/// assert_eq!(x.i(1)?.dims(), &[3, 4]);
/// assert_eq!(x.i((.., 1..3))?.dims(), &[2, 2, 4]);
/// let y = x.i((1, ..=1, 2))?; // x[1, :2, 2]
/// assert_eq!(y.to_vec::<f32>()?, vec![14., 18.]);
/// assert!(x.i((0, 3)).is_err()); // dimension 1 has 3 positions
/// # Ok(()) }
/// ```
pub trait IndexOp<T> {
    /// The slice of `self` that `index` selects.
    fn i(&self, index: T) -> Result<Tensor>;
}

impl Tensor {
    /// Applies one indexer per leading dimension.
    fn index_dims(&self, indexers: &[TensorIndexer]) -> Result<Tensor> {
        const OP: &str = "Tensor::i";
        let dims = self.dims().to_vec();
        if indexers.len() > dims.len() {
            return Err(Error::invalid(
                OP,
                format!(
                    "{} indices for a tensor of shape {} ({} dimensions)",
                    indexers.len(),
                    self.shape(),
                    dims.len()
                ),
            ));
        }
        let mut out = self.clone();
        let mut kept = Vec::with_capacity(dims.len());
        for (d, (ix, &size)) in indexers.iter().zip(&dims).enumerate() {
            let (start, end) = match *ix {
                TensorIndexer::Select(i) => (i, i.checked_add(1)),
                TensorIndexer::Range { start, end } => (start, Some(end.unwrap_or(size))),
            };
            let valid = end.filter(|&e| start <= e && e <= size);
            let Some(end) = valid else {
                let what = match ix {
                    TensorIndexer::Select(i) => format!("position {i}"),
                    TensorIndexer::Range { end, .. } => {
                        format!("range {start}..{}", end.map_or(size.to_string(), |e| e.to_string()))
                    }
                };
                return Err(Error::invalid(
                    OP,
                    format!(
                        "{what} is out of range for dimension {d} of size {size} (shape {})",
                        self.shape()
                    ),
                ));
            };
            if start != 0 || end != size {
                out = out.narrow(d, start, end - start)?;
            }
            if matches!(ix, TensorIndexer::Range { .. }) {
                kept.push(end - start);
            }
        }
        if kept.len() == indexers.len() {
            return Ok(out);
        }
        kept.extend_from_slice(&dims[indexers.len()..]);
        out.reshape(kept)
    }
}

impl<A: Into<TensorIndexer>> IndexOp<A> for Tensor {
    fn i(&self, index: A) -> Result<Tensor> {
        self.index_dims(&[index.into()])
    }
}

macro_rules! index_tuple {
    ($($name:ident),+) => {
        impl<$($name: Into<TensorIndexer>),+> IndexOp<($($name,)+)> for Tensor {
            #[allow(non_snake_case)]
            fn i(&self, index: ($($name,)+)) -> Result<Tensor> {
                let ($($name,)+) = index;
                self.index_dims(&[$($name.into()),+])
            }
        }
    };
}

index_tuple!(A);
index_tuple!(A, B);
index_tuple!(A, B, C);
index_tuple!(A, B, C, D);
index_tuple!(A, B, C, D, E);
index_tuple!(A, B, C, D, E, F);
