//! Launching kernels: one helper for the launch shape, the argument structs that
//! mirror those of `kernels/prelude.cuh`, and the mapping of driver errors.

use super::device::DeviceState;
use crate::{DType, Error, Result};
use cudarc::driver::{DeviceRepr, DriverError, result};
use std::ffi::c_void;

/// Threads per block for every element-wise kernel (and the reductions).
pub(crate) const BLOCK: u32 = 256;

/// Largest rank passed to a kernel in one launch (`MAX_DIMS` in prelude.cuh).
pub(crate) const MAX_DIMS: usize = 6;

/// A driver error as the crate's error.
pub(crate) fn driver_err(op: &'static str, e: DriverError) -> Error {
    Error::Cuda {
        op,
        msg: format!("{:?}", e.0),
    }
}

/// Kernel-name suffix of a dtype (`unary_f32`, `cast_f16_i64`, ...).
pub(crate) fn sfx(dtype: DType) -> &'static str {
    dtype.as_str()
}

/// Suffix of kernels that only move bits (`copy_strided_b4`, ...).
pub(crate) fn bytes_sfx(dtype: DType) -> &'static str {
    match dtype.size_in_bytes() {
        1 => "b1",
        2 => "b2",
        4 => "b4",
        _ => "b8",
    }
}

/// A kernel argument: any plain value the kernel receives by value.
pub(crate) trait Arg {
    fn as_param(&self) -> *mut c_void;
}

impl<T: DeviceRepr> Arg for T {
    fn as_param(&self) -> *mut c_void {
        self as *const T as *mut c_void
    }
}

/// Grid size for `work` items with grid-stride loops: enough blocks to fill the
/// GPU a few times over, no more (each thread then handles several items).
pub(crate) fn grid_for(dev: &DeviceState, work: usize) -> u32 {
    let cap = (dev.sm_count as usize) * 32;
    work.div_ceil(BLOCK as usize).clamp(1, cap) as u32
}

/// Launches `name` of kernel family `family` over `work` items (grid-stride), with
/// `args` in the kernel's parameter order and types. No-op when `work` is 0.
pub(crate) fn launch(
    dev: &DeviceState,
    family: &'static str,
    name: &str,
    work: usize,
    args: &[&dyn Arg],
) -> Result<()> {
    if work == 0 {
        return Ok(());
    }
    launch_grid(dev, family, name, grid_for(dev, work), args)
}

/// Like [`launch`] with an explicit number of blocks of [`BLOCK`] threads.
pub(crate) fn launch_grid(
    dev: &DeviceState,
    family: &'static str,
    name: &str,
    grid: u32,
    args: &[&dyn Arg],
) -> Result<()> {
    let f = dev.function(family, name)?;
    let mut params: Vec<*mut c_void> = args.iter().map(|a| a.as_param()).collect();
    dev.bind()?;
    // SAFETY: the caller passes arguments matching the kernel's signature in kernels/*.cu (pointers of live buffers
    // large enough for the work, scalars of the declared widths), copied by cuLaunchKernel before it returns; kernels
    // guard every access by the counts passed, so an empty buffer's pointer is carried, never read.
    unsafe {
        result::launch_kernel(
            f.cu_function(),
            (grid.max(1), 1, 1),
            (BLOCK, 1, 1),
            0,
            dev.cu_stream(),
            &mut params,
        )
    }
    .map_err(|e| Error::Cuda {
        op: "launch",
        msg: format!("launching {name} failed: {:?}", e.0),
    })
}

/// `dims` / `strides` of one strided operand (prelude.cuh `Strided`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Strided {
    pub dims: [u64; MAX_DIMS],
    pub strides: [u64; MAX_DIMS],
    pub rank: u32,
}
// SAFETY: `#[repr(C)]` plain old data (integer fields and arrays, no pointers,
// no references) with the C layout of prelude.cuh's `Strided`: the launch copies its bytes into
// the kernel's parameter space, and no buffer, empty or not, is reached through it.
unsafe impl DeviceRepr for Strided {}

impl Strided {
    /// From at most [`MAX_DIMS`] dims and matching strides.
    pub(crate) fn new(dims: &[usize], strides: &[usize]) -> Strided {
        let mut s = Strided {
            rank: dims.len() as u32,
            ..Default::default()
        };
        for (i, (&d, &st)) in dims.iter().zip(strides).enumerate() {
            s.dims[i] = d as u64;
            s.strides[i] = st as u64;
        }
        s
    }
}

/// Output dims and the two operands' strides (binary.cu `BinaryLayout`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BinaryArg {
    pub dims: [u64; MAX_DIMS],
    pub lhs: [u64; MAX_DIMS],
    pub rhs: [u64; MAX_DIMS],
    pub rank: u32,
}
// SAFETY: `#[repr(C)]` plain old data (integer fields and arrays, no pointers,
// no references) with the C layout of binary.cu's `BinaryLayout`: the launch copies its bytes into
// the kernel's parameter space, and no buffer, empty or not, is reached through it.
unsafe impl DeviceRepr for BinaryArg {}

/// Convolution geometry (conv.cu `ConvGeom`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ConvGeom {
    pub n: u64,
    pub c: u64,
    pub h: u64,
    pub w: u64,
    pub kh: u64,
    pub kw: u64,
    pub sh: u64,
    pub sw: u64,
    pub ph: u64,
    pub pw: u64,
    pub oh: u64,
    pub ow: u64,
    pub dh: u64,
    pub dw: u64,
}
// SAFETY: `#[repr(C)]` plain old data (integer fields and arrays, no pointers,
// no references) with the C layout of conv.cu's `ConvGeom`: the launch copies its bytes into
// the kernel's parameter space, and no buffer, empty or not, is reached through it.
unsafe impl DeviceRepr for ConvGeom {}

/// Splits a row-major iteration over `dims` into launches over the trailing
/// [`MAX_DIMS`] dims: calls `f(i, lead_index)` for each combination `i` of the leading
/// dims, with the multi-index of those leading dims. One call when rank fits.
pub(crate) fn for_each_leading(dims: &[usize], mut f: impl FnMut(usize, &[usize]) -> Result<()>) -> Result<()> {
    if dims.len() <= MAX_DIMS {
        return f(0, &[]);
    }
    let lead = &dims[..dims.len() - MAX_DIMS];
    let count: usize = lead.iter().product();
    let mut idx = vec![0usize; lead.len()];
    for i in 0..count {
        let mut rem = i;
        for d in (0..lead.len()).rev() {
            idx[d] = rem % lead[d];
            rem /= lead[d];
        }
        f(i, &idx)?;
    }
    Ok(())
}
