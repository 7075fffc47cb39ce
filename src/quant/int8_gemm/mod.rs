//! `int8 x int8 -> i32` matrix products on the CPU, with the kernel chosen at
//! run time: AVX-512 VNNI (`vpdpbusd`) where the CPU has it, AVX2
//! (`vpmaddwd` on sign-extended bytes) elsewhere on x86-64, portable Rust
//! otherwise. One binary carries all three.
//!
//! The right operand is a weight matrix stored `[n, k]` (a `Linear` weight
//! `[out_features, in_features]`), packed once into the layout its kernel
//! reads ([`PackedInt8Matrix`]); products are `a @ w^T` for `a` `[m, k]`.
//! Results are exact: every kernel's result equals the integer sum, because
//! `k` is limited to [`MAX_INT8_DEPTH`] so that no sum can leave `i32`.

mod avx2;
mod scalar;
mod vnni;

use crate::backend::cpu::buffer;
use crate::shape::checked_numel;
use crate::{Error, Result};
use rayon::prelude::*;
use std::sync::OnceLock;

/// The largest inner dimension `k` of an int8 product: `k * 128 * 128` (the
/// sum of `k` products `-128 * -128`) must stay below `2^31`.
pub const MAX_INT8_DEPTH: usize = (1 << 17) - 1;

/// Multiply-adds from which a product is split across threads.
pub(crate) const PAR_MIN_MACS: usize = 1 << 20;

/// Rows of the left operand one micro-kernel call handles.
pub(crate) const MR: usize = 4;

/// The int8 GEMM kernels this crate carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Int8Kernel {
    /// 512-bit `vpdpbusd` (AVX512-VNNI with AVX512-BW): 64 multiply-adds per
    /// instruction, on the left operand shifted to unsigned bytes.
    Avx512Vnni,
    /// 256-bit `vpmaddwd` on bytes sign-extended to 16 bits (AVX2).
    Avx2,
    /// Portable Rust (every CPU; what the others are tested against).
    Scalar,
}

impl Int8Kernel {
    /// Every kernel, fastest first.
    pub const ALL: [Int8Kernel; 3] = [Int8Kernel::Avx512Vnni, Int8Kernel::Avx2, Int8Kernel::Scalar];

    /// Whether this CPU can run the kernel (checked at run time).
    pub fn is_available(self) -> bool {
        match self {
            Int8Kernel::Avx512Vnni => vnni::available(),
            Int8Kernel::Avx2 => avx2::available(),
            Int8Kernel::Scalar => true,
        }
    }

    /// The fastest kernel this CPU runs, decided once per process.
    /// `NEURITE_INT8_KERNEL=scalar|avx2|avx512vnni` picks a slower one (for
    /// measurements); a name the CPU cannot run is ignored.
    pub fn best() -> Int8Kernel {
        static BEST: OnceLock<Int8Kernel> = OnceLock::new();
        *BEST.get_or_init(|| {
            let forced = std::env::var("NEURITE_INT8_KERNEL").ok();
            let forced = Int8Kernel::ALL
                .into_iter()
                .find(|k| forced.as_deref() == Some(k.name()) && k.is_available());
            forced.unwrap_or_else(|| {
                Int8Kernel::ALL
                    .into_iter()
                    .find(|k| k.is_available())
                    .unwrap_or(Int8Kernel::Scalar)
            })
        })
    }

    /// The kernel's name (`"avx512vnni"`, `"avx2"`, `"scalar"`).
    pub fn name(self) -> &'static str {
        match self {
            Int8Kernel::Avx512Vnni => "avx512vnni",
            Int8Kernel::Avx2 => "avx2",
            Int8Kernel::Scalar => "scalar",
        }
    }

    /// Columns of one packed panel.
    fn panel_cols(self) -> usize {
        match self {
            Int8Kernel::Avx512Vnni => 16,
            Int8Kernel::Avx2 => 8,
            Int8Kernel::Scalar => 1,
        }
    }

    /// Values of `k` one packed column holds together.
    fn depth_group(self) -> usize {
        match self {
            Int8Kernel::Avx512Vnni => 4,
            Int8Kernel::Avx2 => 2,
            Int8Kernel::Scalar => 1,
        }
    }
}

/// An int8 matrix `w` `[n, k]` packed for one kernel, with its row sums;
/// the right operand of `a @ w^T`.
///
/// ```
/// use neurite::quant::PackedInt8Matrix;
/// # fn main() -> neurite::Result<()> {
/// let w: Vec<i8> = vec![1, 2, 3, -4, -5, -6]; // [2, 3]
/// let packed = PackedInt8Matrix::new(&w, 2, 3)?;
/// let a: Vec<i8> = vec![-128, 127, 1]; // [1, 3]
/// assert_eq!(packed.matmul(&a, 1)?, vec![-128 + 254 + 3, 512 - 635 - 6]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct PackedInt8Matrix {
    kernel: Int8Kernel,
    n: usize,
    k: usize,
    /// `k` rounded up to the kernel's depth group.
    k_padded: usize,
    /// Panels of `panel_cols` columns, each `k_padded / group` groups of
    /// `panel_cols * group` bytes (column-major within a group); the last
    /// panel padded with zero columns. For `Scalar`, `w` itself.
    data: Vec<i8>,
    /// `sum_k w[j, k]`: the correction for the left operand's zero point,
    /// and, times 128, for the VNNI kernel's unsigned shift.
    row_sums: Vec<i32>,
}

impl PackedInt8Matrix {
    /// `w` `[n, k]` packed for [`Int8Kernel::best`].
    pub fn new(w: &[i8], n: usize, k: usize) -> Result<PackedInt8Matrix> {
        PackedInt8Matrix::with_kernel(w, n, k, Int8Kernel::best())
    }

    /// `w` `[n, k]` packed for `kernel`; an error when this CPU cannot run it,
    /// when `w` does not hold `n * k` values, or when `k` exceeds [`MAX_INT8_DEPTH`].
    pub fn with_kernel(w: &[i8], n: usize, k: usize, kernel: Int8Kernel) -> Result<PackedInt8Matrix> {
        const OP: &str = "PackedInt8Matrix";
        if !kernel.is_available() {
            return Err(Error::invalid(
                OP,
                format!("this CPU cannot run the {} int8 kernel", kernel.name()),
            ));
        }
        check_depth(OP, k)?;
        let len = checked_numel(&[n, k], OP)?;
        if w.len() != len {
            return Err(Error::invalid(
                OP,
                format!("weight holds {} values, expected n * k = {n} * {k} = {len}", w.len()),
            ));
        }
        let mut row_sums = buffer::with_capacity::<i32>(n)?;
        row_sums.extend(
            w.chunks_exact(k.max(1))
                .take(n)
                .map(|r| r.iter().map(|&v| v as i32).sum::<i32>()),
        );
        row_sums.resize(n, 0);
        let (cols, group) = (kernel.panel_cols(), kernel.depth_group());
        let k_padded = k.div_ceil(group) * group;
        let data = if kernel == Int8Kernel::Scalar {
            buffer::copy_of(w)?
        } else {
            let panels = n.div_ceil(cols);
            let mut data = buffer::zeroed::<i8>(checked_numel(&[panels, cols, k_padded], OP)?)?;
            for (p, panel) in data.chunks_exact_mut((cols * k_padded).max(1)).enumerate().take(panels) {
                for (g, dst) in panel.chunks_exact_mut(cols * group).enumerate() {
                    for c in 0..cols {
                        let j = p * cols + c;
                        if j >= n {
                            break;
                        }
                        for d in 0..group {
                            let kk = g * group + d;
                            if kk < k {
                                dst[c * group + d] = w[j * k + kk];
                            }
                        }
                    }
                }
            }
            data
        };
        Ok(PackedInt8Matrix {
            kernel,
            n,
            k,
            k_padded,
            data,
            row_sums,
        })
    }

    /// Rows of `w` (output columns of a product).
    pub fn n(&self) -> usize {
        self.n
    }

    /// Columns of `w` (the inner dimension).
    pub fn k(&self) -> usize {
        self.k
    }

    /// The kernel this matrix was packed for.
    pub fn kernel(&self) -> Int8Kernel {
        self.kernel
    }

    /// `sum over k of w[j, k]` for every row `j`.
    pub fn row_sums(&self) -> &[i32] {
        &self.row_sums
    }

    /// `a @ w^T` for `a` `[m, k]` row-major: `[m, n]` exact `i32` sums.
    pub fn matmul(&self, a: &[i8], m: usize) -> Result<Vec<i32>> {
        const OP: &str = "int8 matmul";
        let a_len = checked_numel(&[m, self.k], OP)?;
        if a.len() != a_len {
            return Err(Error::invalid(
                OP,
                format!(
                    "left operand holds {} values, expected m * k = {m} * {} = {a_len}",
                    a.len(),
                    self.k
                ),
            ));
        }
        let len = checked_numel(&[m, self.n], OP)?;
        let mut out = buffer::zeroed::<i32>(len)?;
        if len == 0 || self.k == 0 {
            return Ok(out);
        }
        // Threads take blocks of whole rows: each reads all of `w` (kept in
        // its core's cache across rows) and writes its own slice of `out`.
        let macs = m.saturating_mul(self.n).saturating_mul(self.k);
        let threads = rayon::current_num_threads();
        if threads > 1 && macs >= PAR_MIN_MACS && m > 1 {
            let rows = m.div_ceil(threads).div_ceil(MR) * MR;
            out.par_chunks_mut(rows * self.n)
                .zip(a.par_chunks(rows * self.k))
                .try_for_each(|(o, a)| self.rows(a, o))?;
        } else {
            self.rows(a, &mut out)?;
        }
        Ok(out)
    }

    /// The product for the rows of `a` into `out` (both whole rows, `n > 0`
    /// and `k > 0`), on the calling thread: for callers that split a larger
    /// job across threads themselves.
    pub fn rows(&self, a: &[i8], out: &mut [i32]) -> Result<()> {
        match self.kernel {
            Int8Kernel::Avx512Vnni => vnni::rows(self, a, out),
            Int8Kernel::Avx2 => avx2::rows(self, a, out),
            Int8Kernel::Scalar => {
                scalar::rows(&self.data, self.n, self.k, a, out);
                Ok(())
            }
        }
    }
}

/// Errors when `k` is beyond what `i32` sums of int8 products hold.
pub(crate) fn check_depth(op: &'static str, k: usize) -> Result<()> {
    if k > MAX_INT8_DEPTH {
        return Err(Error::invalid(
            op,
            format!("inner dimension {k} exceeds {MAX_INT8_DEPTH}: sums of int8 products could overflow i32"),
        ));
    }
    Ok(())
}

/// `a @ w^T` for `a` `[m, k]` and `w` `[n, k]`, int8 in, exact `i32` out,
/// with the fastest kernel of this CPU (packs `w` for one call; keep a
/// [`PackedInt8Matrix`] to reuse it).
///
/// ```
/// # fn main() -> neurite::Result<()> {
/// let c = neurite::quant::int8_matmul(&[1, -2, 3, 4], &[5, 6, -7, 8], 2, 2, 2)?;
/// assert_eq!(c, vec![1 * 5 - 2 * 6, 1 * -7 - 2 * 8, 3 * 5 + 4 * 6, 3 * -7 + 4 * 8]);
/// # Ok(()) }
/// ```
pub fn int8_matmul(a: &[i8], w: &[i8], m: usize, n: usize, k: usize) -> Result<Vec<i32>> {
    PackedInt8Matrix::new(w, n, k)?.matmul(a, m)
}

#[cfg(test)]
mod tests;
