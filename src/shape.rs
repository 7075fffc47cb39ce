//! Shapes, strides, dimension indices and broadcasting.

use crate::{Error, Result};
use serde::{Deserialize, Serialize};

/// The extent of each dimension of a tensor, outermost first.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Shape(Vec<usize>);

impl Shape {
    /// The dimensions as a slice.
    pub fn dims(&self) -> &[usize] {
        &self.0
    }

    /// Number of dimensions.
    pub fn rank(&self) -> usize {
        self.0.len()
    }

    /// Total number of elements (1 for a scalar).
    ///
    /// Saturates at `usize::MAX` instead of wrapping: every shape a tensor
    /// actually has was checked by [`Shape::checked_elem_count`] when it was
    /// built, and a saturated count can never be allocated, so an unchecked
    /// shape reaching an allocation fails there as `OutOfMemory` rather than
    /// silently sizing a buffer from a wrapped product.
    pub fn elem_count(&self) -> usize {
        match checked_product(&self.0) {
            Some(n) => n,
            None if self.0.contains(&0) => 0,
            None => usize::MAX,
        }
    }

    /// The number of elements, or [`Error::SizeOverflow`] naming `op` when the
    /// product of the non-zero dims (or its size in bytes at 8 bytes per
    /// element, the widest dtype) does not fit in the address space.
    ///
    /// ```
    /// use neurite::Shape;
    /// assert_eq!(Shape::from([2, 3]).checked_elem_count("t").unwrap(), 6);
    /// assert!(Shape::from([usize::MAX, 2]).checked_elem_count("t").is_err());
    /// assert_eq!(Shape::from([0, 1 << 40, 2]).checked_elem_count("t").unwrap(), 0);
    /// // Zero dims do not excuse the others: strides of this shape would overflow.
    /// assert!(Shape::from([0, usize::MAX, 2]).checked_elem_count("t").is_err());
    /// ```
    pub fn checked_elem_count(&self, op: &'static str) -> Result<usize> {
        checked_numel(&self.0, op)
    }

    /// Row-major (C-contiguous) strides, in elements. Strides saturate where
    /// the shape holds no element (a dim of 0 next to huge ones): nothing is
    /// ever read through them.
    pub fn stride_contiguous(&self) -> Vec<usize> {
        let mut strides = vec![0; self.0.len()];
        let mut acc: usize = 1;
        for (s, &d) in strides.iter_mut().zip(self.0.iter()).rev() {
            *s = acc;
            acc = acc.saturating_mul(d);
        }
        strides
    }

    /// The shape both operands of an element-wise op broadcast to (NumPy rules).
    pub fn broadcast_with(&self, rhs: &Shape, op: &'static str) -> Result<Shape> {
        let rank = self.rank().max(rhs.rank());
        let mut out = vec![0; rank];
        for (i, o) in out.iter_mut().enumerate() {
            let l = dim_from_end(&self.0, rank - 1 - i);
            let r = dim_from_end(&rhs.0, rank - 1 - i);
            *o = match (l, r) {
                (a, b) if a == b => a,
                (1, b) => b,
                (a, 1) => a,
                _ => {
                    return Err(Error::BroadcastIncompatible {
                        op,
                        lhs: self.clone(),
                        rhs: rhs.clone(),
                    });
                }
            };
        }
        checked_numel(&out, op)?;
        Ok(Shape(out))
    }

    /// Strides that read `self` (contiguous) as if it had shape `target`,
    /// with stride 0 along broadcast dimensions. `target` must be a valid
    /// broadcast of `self`.
    pub(crate) fn broadcast_strides(&self, target: &Shape) -> Vec<usize> {
        let own = self.stride_contiguous();
        let offset = target.rank() - self.rank();
        (0..target.rank())
            .map(|i| {
                if i < offset || self.0[i - offset] == 1 {
                    0
                } else {
                    own[i - offset]
                }
            })
            .collect()
    }

    /// Checks that `self` can be broadcast to `target` (`expand` semantics).
    pub(crate) fn can_broadcast_to(&self, target: &Shape) -> bool {
        self.rank() <= target.rank()
            && self
                .0
                .iter()
                .rev()
                .zip(target.0.iter().rev())
                .all(|(&s, &t)| s == t || s == 1)
    }
}

/// Largest element count any tensor may have: its bytes at the widest dtype
/// (8 bytes) must fit in `isize`, Rust's limit for one allocation.
pub(crate) const MAX_ELEMS: usize = (isize::MAX as usize) / 8;

fn checked_product(dims: &[usize]) -> Option<usize> {
    dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))
}

/// The element count of `dims`, checked: the one helper behind every shape a
/// constructor or an op builds. A product above [`MAX_ELEMS`] is
/// [`Error::SizeOverflow`] (no machine can hold it, and byte counts derived
/// from it would overflow); a dim of 0 anywhere makes the count 0, as in PyTorch.
pub(crate) fn checked_numel(dims: &[usize], op: &'static str) -> Result<usize> {
    // Zero dims are skipped in the product, so that every partial product of
    // a valid shape (strides, the `outer` of a split, a flatten) fits too,
    // even for a shape like `[0, 2^40, 2^40]` that holds no element.
    let nonzero = dims
        .iter()
        .filter(|&&d| d != 0)
        .try_fold(1usize, |acc, &d| acc.checked_mul(d));
    match nonzero {
        Some(n) if n <= MAX_ELEMS => Ok(if dims.contains(&0) { 0 } else { n }),
        _ => Err(Error::SizeOverflow {
            op,
            detail: format!(
                "shape {dims:?} has more than {MAX_ELEMS} elements (the product of its dims overflows the address space)"
            ),
        }),
    }
}

/// `a + b` for sizes, or [`Error::SizeOverflow`] naming `op` and `what`.
pub(crate) fn checked_add(a: usize, b: usize, op: &'static str, what: &str) -> Result<usize> {
    a.checked_add(b).ok_or_else(|| Error::SizeOverflow {
        op,
        detail: format!("{what}: {a} + {b} overflows usize"),
    })
}

fn dim_from_end(dims: &[usize], i: usize) -> usize {
    if i < dims.len() { dims[dims.len() - 1 - i] } else { 1 }
}

impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::fmt::Display for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl From<Vec<usize>> for Shape {
    fn from(v: Vec<usize>) -> Self {
        Shape(v)
    }
}
impl From<&[usize]> for Shape {
    fn from(v: &[usize]) -> Self {
        Shape(v.to_vec())
    }
}
impl From<&Vec<usize>> for Shape {
    fn from(v: &Vec<usize>) -> Self {
        Shape(v.clone())
    }
}
impl<const N: usize> From<[usize; N]> for Shape {
    fn from(v: [usize; N]) -> Self {
        Shape(v.to_vec())
    }
}
impl<const N: usize> From<&[usize; N]> for Shape {
    fn from(v: &[usize; N]) -> Self {
        Shape(v.to_vec())
    }
}
impl From<&Shape> for Shape {
    fn from(s: &Shape) -> Self {
        s.clone()
    }
}
impl From<()> for Shape {
    fn from(_: ()) -> Self {
        Shape(vec![])
    }
}
impl From<usize> for Shape {
    fn from(d: usize) -> Self {
        Shape(vec![d])
    }
}
impl From<(usize, usize)> for Shape {
    fn from(d: (usize, usize)) -> Self {
        Shape(vec![d.0, d.1])
    }
}
impl From<(usize, usize, usize)> for Shape {
    fn from(d: (usize, usize, usize)) -> Self {
        Shape(vec![d.0, d.1, d.2])
    }
}
impl From<(usize, usize, usize, usize)> for Shape {
    fn from(d: (usize, usize, usize, usize)) -> Self {
        Shape(vec![d.0, d.1, d.2, d.3])
    }
}

/// A dimension index; negative values count from the end, as in PyTorch.
pub trait Dim: Copy {
    /// Resolves to `0..rank`, or an error naming `op` and the shape.
    fn to_index(self, shape: &Shape, op: &'static str) -> Result<usize>;
}

macro_rules! signed_dim {
    ($t:ty) => {
        impl Dim for $t {
            fn to_index(self, shape: &Shape, op: &'static str) -> Result<usize> {
                let rank = shape.rank() as i64;
                let d = self as i64;
                let idx = if d < 0 { d + rank } else { d };
                if idx < 0 || idx >= rank {
                    return Err(Error::DimOutOfRange {
                        op,
                        dim: d,
                        rank: shape.rank(),
                        shape: shape.clone(),
                    });
                }
                Ok(idx as usize)
            }
        }
    };
}
signed_dim!(i32);
signed_dim!(i64);
signed_dim!(isize);

impl Dim for usize {
    fn to_index(self, shape: &Shape, op: &'static str) -> Result<usize> {
        if self >= shape.rank() {
            return Err(Error::DimOutOfRange {
                op,
                dim: self as i64,
                rank: shape.rank(),
                shape: shape.clone(),
            });
        }
        Ok(self)
    }
}

/// Resolves a list of dims, rejecting duplicates; the result is sorted.
pub(crate) fn resolve_dims<D: Dim>(dims: &[D], shape: &Shape, op: &'static str) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let i = d.to_index(shape, op)?;
        if out.contains(&i) {
            return Err(Error::invalid(op, format!("dimension {i} given twice")));
        }
        out.push(i);
    }
    out.sort_unstable();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broadcasting_follows_numpy_rules() {
        let a = Shape::from([4, 1, 3]);
        let b = Shape::from([5, 1]);
        assert_eq!(a.broadcast_with(&b, "t").unwrap(), Shape::from([4, 5, 3]));
        assert_eq!(b.broadcast_strides(&Shape::from([4, 5, 3])), vec![0, 1, 0]);
        assert!(Shape::from([2, 3]).broadcast_with(&Shape::from([4]), "t").is_err());
    }

    #[test]
    fn negative_dims_count_from_the_end() {
        let s = Shape::from([2, 3, 4]);
        assert_eq!((-1i32).to_index(&s, "t").unwrap(), 2);
        assert!(3usize.to_index(&s, "t").is_err());
        assert!((-4i32).to_index(&s, "t").is_err());
    }
}
