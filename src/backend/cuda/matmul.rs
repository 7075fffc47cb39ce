//! Matrix products through cuBLAS.
//!
//! cuBLAS is column-major; our buffers are row-major. A row-major `m x n` matrix
//! is the column-major `n x m` matrix of its transpose, so `out = A B` is computed
//! as `out^T = B^T A^T`: the operands swap places, and each one's transposed flag
//! becomes its cuBLAS op. Batches use the strided-batched GEMMs (stride 0 reuses
//! one matrix); f16 and bf16 go through `GemmStridedBatchedEx` with f32 accumulation.

use super::storage::CudaStorage;
use crate::backend::{BackendStorage, MatmulSpec};
use crate::{DType, Error, Result};
use cudarc::cublas::{result as blas, sys};
use std::ffi::c_void;

/// One cuBLAS call in column-major terms.
struct Gemm {
    trans_a: sys::cublasOperation_t,
    trans_b: sys::cublasOperation_t,
    m: i32,
    n: i32,
    k: i32,
    lda: i32,
    ldb: i32,
    ldc: i32,
    stride_a: i64,
    stride_b: i64,
    stride_c: i64,
    batch: i32,
}

fn to_i32(v: usize, what: &str) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::invalid("matmul", format!("{what} = {v} exceeds cuBLAS's 32-bit limit")))
}

fn op(t: bool) -> sys::cublasOperation_t {
    if t {
        sys::cublasOperation_t::CUBLAS_OP_T
    } else {
        sys::cublasOperation_t::CUBLAS_OP_N
    }
}

/// The column-major call computing the row-major product described by `s`.
fn plan(s: &MatmulSpec) -> Result<Gemm> {
    // Rows of a stride-0 rhs shared by contiguous lhs batches fold into one GEMM.
    let fold = s.batch > 1 && s.rhs_batch_stride == 0 && !s.lhs_transposed && s.lhs_batch_stride == s.m * s.k;
    let (m, batch) = if fold { (s.m * s.batch, 1) } else { (s.m, s.batch) };
    Ok(Gemm {
        trans_a: op(s.rhs_transposed),
        trans_b: op(s.lhs_transposed),
        m: to_i32(s.n, "n")?,
        n: to_i32(m, "m")?,
        k: to_i32(s.k, "k")?,
        lda: to_i32(if s.rhs_transposed { s.k } else { s.n }, "k")?,
        ldb: to_i32(if s.lhs_transposed { s.m } else { s.k }, "m")?,
        ldc: to_i32(s.n, "n")?,
        stride_a: s.rhs_batch_stride as i64,
        stride_b: s.lhs_batch_stride as i64,
        stride_c: (s.m * s.n) as i64,
        batch: to_i32(batch, "batch")?,
    })
}

pub(crate) fn matmul(a: &CudaStorage, b: &CudaStorage, s: &MatmulSpec) -> Result<CudaStorage> {
    let name = "matmul";
    a.same_device(b, name)?;
    a.same_dtype(b, name)?;
    a.require_float(name)?;
    let dev = a.dev();
    let out_len = crate::shape::checked_numel(&[s.batch, s.m, s.n], name)?;
    if out_len == 0 || s.k == 0 {
        return CudaStorage::zeroed(dev, out_len, a.dtype());
    }
    s.check_operands(a.len(), b.len())?;
    let g = plan(s)?;
    let out = CudaStorage::uninit(dev, out_len, a.dtype())?;
    let (pa, pb, pc) = (b.ptr(), a.ptr(), out.ptr());
    dev.with_blas(|h| {
        let h = *h.handle();
        // SAFETY: the pointers are live buffers of this device holding the
        // elements checked above; `out` holds batch * m * n; alpha/beta are host
        // scalars of the compute type; the handle is used under the device lock.
        let r = unsafe {
            match a.dtype() {
                DType::F32 => {
                    let (one, zero) = (1f32, 0f32);
                    blas::sgemm_strided_batched(
                        h,
                        g.trans_a,
                        g.trans_b,
                        g.m,
                        g.n,
                        g.k,
                        &one,
                        pa as *const f32,
                        g.lda,
                        g.stride_a,
                        pb as *const f32,
                        g.ldb,
                        g.stride_b,
                        &zero,
                        pc as *mut f32,
                        g.ldc,
                        g.stride_c,
                        g.batch,
                    )
                }
                DType::F64 => {
                    let (one, zero) = (1f64, 0f64);
                    blas::dgemm_strided_batched(
                        h,
                        g.trans_a,
                        g.trans_b,
                        g.m,
                        g.n,
                        g.k,
                        &one,
                        pa as *const f64,
                        g.lda,
                        g.stride_a,
                        pb as *const f64,
                        g.ldb,
                        g.stride_b,
                        &zero,
                        pc as *mut f64,
                        g.ldc,
                        g.stride_c,
                        g.batch,
                    )
                }
                dt => {
                    let ty = if dt == DType::F16 {
                        sys::cudaDataType::CUDA_R_16F
                    } else {
                        sys::cudaDataType::CUDA_R_16BF
                    };
                    let (one, zero) = (1f32, 0f32);
                    blas::gemm_strided_batched_ex(
                        h,
                        g.trans_a,
                        g.trans_b,
                        g.m,
                        g.n,
                        g.k,
                        &one as *const f32 as *const c_void,
                        pa as *const c_void,
                        ty,
                        g.lda,
                        g.stride_a,
                        pb as *const c_void,
                        ty,
                        g.ldb,
                        g.stride_b,
                        &zero as *const f32 as *const c_void,
                        pc as *mut c_void,
                        ty,
                        g.ldc,
                        g.stride_c,
                        g.batch,
                        sys::cublasComputeType_t::CUBLAS_COMPUTE_32F,
                        sys::cublasGemmAlgo_t::CUBLAS_GEMM_DEFAULT,
                    )
                }
            }
        };
        r.map_err(|e| Error::Cuda {
            op: name,
            msg: format!(
                "cuBLAS GEMM ({}, m={} n={} k={} batch={}) failed: {:?}",
                a.dtype(),
                s.m,
                s.n,
                s.k,
                s.batch,
                e.0
            ),
        })
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(batch, m, n, k)`, transposed flags, batch strides.
    fn spec(
        (batch, m, n, k): (usize, usize, usize, usize),
        (ta, tb): (bool, bool),
        (sa, sb): (usize, usize),
    ) -> MatmulSpec {
        MatmulSpec {
            batch,
            m,
            n,
            k,
            lhs_transposed: ta,
            rhs_transposed: tb,
            lhs_batch_stride: sa,
            rhs_batch_stride: sb,
        }
    }

    #[test]
    fn row_major_becomes_swapped_column_major() {
        let g = plan(&spec((1, 2, 3, 4), (false, false), (8, 12))).unwrap();
        assert_eq!((g.m, g.n, g.k), (3, 2, 4));
        assert_eq!((g.lda, g.ldb, g.ldc), (3, 4, 3));
        assert_eq!(g.trans_a, sys::cublasOperation_t::CUBLAS_OP_N);
        let g = plan(&spec((1, 2, 3, 4), (true, true), (8, 12))).unwrap();
        assert_eq!((g.lda, g.ldb), (4, 2));
        assert_eq!(g.trans_a, sys::cublasOperation_t::CUBLAS_OP_T);
        assert_eq!(g.trans_b, sys::cublasOperation_t::CUBLAS_OP_T);
    }

    #[test]
    fn shared_rhs_folds_batches_into_rows() {
        let g = plan(&spec((5, 2, 3, 4), (false, false), (8, 0))).unwrap();
        assert_eq!((g.n, g.batch), (10, 1));
        let g = plan(&spec((5, 2, 3, 4), (true, false), (8, 0))).unwrap();
        assert_eq!((g.n, g.batch, g.stride_a, g.stride_b), (2, 5, 0, 8));
    }
}
