//! What the emulated driver and cuBLAS refuse, as the hardware or cuBLAS would.

use crate::{child, emulator, is_child};
use cudarc::driver::{CudaContext, result, sys};
use std::ffi::c_void;

/// Loads kernel family `family` (real NVRTC PTX) into the current context.
fn function(ctx: &std::sync::Arc<CudaContext>, family: &str, name: &str) -> cudarc::driver::CudaFunction {
    let ptx = neurite::backend::cuda::compile_kernel_ptx(family, 80).unwrap();
    let m = ctx.load_module(cudarc::nvrtc::Ptx::from_src(ptx)).unwrap();
    m.load_function(name).unwrap()
}

#[test]
fn out_of_bounds_write_names_the_kernel() {
    const NAME: &str = "checks::out_of_bounds_write_names_the_kernel";
    if is_child(NAME) {
        assert!(emulator(NAME));
        let ctx = CudaContext::new(0).unwrap();
        let f = function(&ctx, "copy", "fill_b4");
        // SAFETY: deliberately wrong: 1025 u32 into a 4096-byte buffer, so that the
        // emulator's guard page stops the write past the end (the child aborts).
        unsafe {
            let p = result::malloc_sync(4096).unwrap();
            let (n, bits) = (1025u64, 7u32);
            let mut params = [
                &p as *const u64 as *mut c_void,
                &n as *const u64 as *mut c_void,
                &bits as *const u32 as *mut c_void,
            ];
            result::launch_kernel(
                f.cu_function(),
                (1, 1, 1),
                (256, 1, 1),
                0,
                std::ptr::null_mut(),
                &mut params,
            )
            .unwrap();
        }
        ctx.synchronize().unwrap();
        panic!("the write past the end was not caught");
    }
    if !emulator(NAME) {
        return;
    }
    let (ok, out) = child(NAME, &[]);
    assert!(!ok, "the child should have been stopped:\n{out}");
    assert!(
        out.contains("invalid memory access in kernel fill_b4")
            && out.contains("0 bytes past the end of the 4096-byte allocation"),
        "{out}"
    );
    assert!(!out.contains("was not caught"), "{out}");
}

#[test]
fn launch_limits_are_the_hardware_s() {
    if !emulator("checks::launch_limits_are_the_hardware_s") {
        return;
    }
    let ctx = CudaContext::new(0).unwrap();
    let f = function(&ctx, "copy", "fill_b4");
    // SAFETY: a valid 1024-byte buffer; each launch below either fails its checks
    // before running or writes 256 u32 into it.
    unsafe {
        let p = result::malloc_sync(1024).unwrap();
        let (n, bits) = (256u64, 1u32);
        let mut params = [
            &p as *const u64 as *mut c_void,
            &n as *const u64 as *mut c_void,
            &bits as *const u32 as *mut c_void,
        ];
        let launch = |grid, block, shm, params: &mut [*mut c_void]| {
            result::launch_kernel(f.cu_function(), grid, block, shm, std::ptr::null_mut(), params)
        };
        let invalid = sys::CUresult::CUDA_ERROR_INVALID_VALUE;
        assert_eq!(launch((1, 1, 1), (2048, 1, 1), 0, &mut params).unwrap_err().0, invalid);
        assert_eq!(launch((1, 1, 1), (32, 32, 2), 0, &mut params).unwrap_err().0, invalid);
        assert_eq!(launch((1, 1, 1), (1, 1, 65), 0, &mut params).unwrap_err().0, invalid);
        assert_eq!(
            launch((1, 70_000, 1), (256, 1, 1), 0, &mut params).unwrap_err().0,
            invalid
        );
        assert_eq!(launch((0, 1, 1), (256, 1, 1), 0, &mut params).unwrap_err().0, invalid);
        assert_eq!(
            launch((1, 1, 1), (256, 1, 1), 64 * 1024, &mut params).unwrap_err().0,
            invalid
        );
        // A pointer argument that is not device memory.
        let host = [0u32; 4];
        let bogus = host.as_ptr() as u64;
        let mut bad = [
            &bogus as *const u64 as *mut c_void,
            &n as *const u64 as *mut c_void,
            &bits as *const u32 as *mut c_void,
        ];
        assert_eq!(
            launch((1, 1, 1), (256, 1, 1), 0, &mut bad).unwrap_err().0,
            sys::CUresult::CUDA_ERROR_ILLEGAL_ADDRESS
        );
        // The limits themselves are allowed, and the kernel runs.
        launch((1, 1, 1), (1024, 1, 1), 0, &mut params).unwrap();
        let mut back = [0u32; 256];
        result::memcpy_dtoh_sync(&mut back, p).unwrap();
        assert!(back.iter().all(|&v| v == 1));
        result::free_sync(p).unwrap();
    }
}

#[test]
fn a_kernel_whose_signature_differs_from_its_host_build_is_refused() {
    if !emulator("checks::a_kernel_whose_signature_differs_from_its_host_build_is_refused") {
        return;
    }
    let ctx = CudaContext::new(0).unwrap();
    // Same name as copy.cu's kernel, one parameter fewer.
    let src = "extern \"C\" __global__ void fill_b4(unsigned* out, unsigned long long n) { if (n) out[0] = 1; }";
    let ptx = neurite::backend::cuda::compile_source_ptx("mismatch", src, 80).unwrap();
    let err = ctx.load_module(cudarc::nvrtc::Ptx::from_src(ptx)).unwrap_err();
    assert_eq!(err.0, sys::CUresult::CUDA_ERROR_INVALID_PTX);
}

#[test]
fn cublas_argument_rules_are_checked() {
    if !emulator("checks::cublas_argument_rules_are_checked") {
        return;
    }
    let _ctx = CudaContext::new(0).unwrap();
    use cudarc::cublas::{result as blas, sys as bsys};
    // SAFETY: 3x3 f32 matrices in device buffers of 36 bytes each; the calls that
    // break a rule return before touching memory, the valid one reads and writes
    // within the buffers.
    unsafe {
        let h = blas::create_handle().unwrap();
        let a = result::malloc_sync(36).unwrap();
        let b = result::malloc_sync(36).unwrap();
        let c = result::malloc_sync(36).unwrap();
        let ones = [1f32; 9];
        result::memcpy_htod_sync(a, &ones).unwrap();
        result::memcpy_htod_sync(b, &ones).unwrap();
        let (one, zero) = (1f32, 0f32);
        let n = bsys::cublasOperation_t::CUBLAS_OP_N;
        let t = bsys::cublasOperation_t::CUBLAS_OP_T;
        let gemm = |ta, tb, m, nn, k, lda, ldb, ldc| {
            blas::sgemm(
                h,
                ta,
                tb,
                m,
                nn,
                k,
                &one,
                a as *const f32,
                lda,
                b as *const f32,
                ldb,
                &zero,
                c as *mut f32,
                ldc,
            )
        };
        let invalid = bsys::cublasStatus_t::CUBLAS_STATUS_INVALID_VALUE;
        assert_eq!(gemm(n, n, 3, 3, 3, 2, 3, 3).unwrap_err().0, invalid, "lda < m");
        assert_eq!(
            gemm(t, n, 3, 3, 2, 1, 3, 3).unwrap_err().0,
            invalid,
            "lda < k with A transposed"
        );
        assert_eq!(
            gemm(n, t, 3, 3, 3, 3, 2, 3).unwrap_err().0,
            invalid,
            "ldb < n with B transposed"
        );
        assert_eq!(gemm(n, n, 3, 3, 3, 3, 3, 2).unwrap_err().0, invalid, "ldc < m");
        assert_eq!(gemm(n, n, -1, 3, 3, 3, 3, 3).unwrap_err().0, invalid, "negative m");
        gemm(n, n, 3, 3, 3, 3, 3, 3).unwrap();
        let mut out = [0f32; 9];
        result::memcpy_dtoh_sync(&mut out, c).unwrap();
        assert_eq!(out, [3.0; 9]);
        blas::destroy_handle(h).unwrap();
        for p in [a, b, c] {
            result::free_sync(p).unwrap();
        }
    }
}

#[test]
fn a_gemm_past_its_buffer_poisons_the_context() {
    const NAME: &str = "checks::a_gemm_past_its_buffer_poisons_the_context";
    if is_child(NAME) {
        assert!(emulator(NAME));
        let ctx = CudaContext::new(0).unwrap();
        use cudarc::cublas::{result as blas, sys as bsys};
        // SAFETY: deliberately wrong: C is declared 4x4 but holds 9 floats; the
        // emulated cuBLAS refuses before writing anything.
        unsafe {
            let h = blas::create_handle().unwrap();
            let a = result::malloc_sync(64).unwrap();
            let c = result::malloc_sync(36).unwrap();
            let (one, zero) = (1f32, 0f32);
            let n = bsys::cublasOperation_t::CUBLAS_OP_N;
            let r = blas::sgemm(
                h,
                n,
                n,
                4,
                4,
                4,
                &one,
                a as *const f32,
                4,
                a as *const f32,
                4,
                &zero,
                c as *mut f32,
                4,
            );
            println!("gemm: {r:?}");
            println!("sync: {:?}", ctx.synchronize());
        }
        return;
    }
    if !emulator(NAME) {
        return;
    }
    let (ok, out) = child(NAME, &[]);
    assert!(ok, "{out}");
    assert!(
        out.contains("C [0x") && out.contains("is not inside one device allocation"),
        "{out}"
    );
    assert!(
        out.contains("sync: Err(DriverError(CUDA_ERROR_ILLEGAL_ADDRESS"),
        "{out}"
    );
}
