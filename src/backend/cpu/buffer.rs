//! Fallible host allocation. Every buffer the CPU backend hands out comes
//! from here, so that a request the machine cannot satisfy is
//! [`Error::OutOfMemory`] naming the bytes, not the process abort that
//! `vec!` and `collect` turn an allocation failure into.

use crate::{Device, Error, Result};
use half::{bf16, f16};
use rayon::prelude::*;
use std::sync::OnceLock;

/// Element types whose all-zero bit pattern is the value zero, so a zeroed
/// allocation is a valid buffer of zeros.
///
/// # Safety
/// Implementors must be plain values with no padding for which all-zero bytes
/// are a valid value reading as `0` (or `false`).
pub(crate) unsafe trait ZeroBits: Copy {}

/// One `unsafe impl` per listed type, each covered by the comment inside.
macro_rules! zero_bits {
    ($($t:ty),*) => {$(
        // SAFETY: `$t` is an IEEE float (f32, f64, and half's f16/bf16, which
        // are `repr(transparent)` over `u16`), a two's-complement integer, or
        // `bool` (one byte whose all-zero pattern is the valid value `false`):
        // no padding, and all-zero bytes read as +0 / 0 / false.
        unsafe impl ZeroBits for $t {}
    )*};
}
zero_bits!(f32, f64, f16, bf16, i64, i32, i16, i8, u8, bool);

/// What this machine could ever hold: physical memory plus swap. Requests
/// above it are refused up front, so the answer does not depend on the
/// kernel's overcommit policy (with `vm.overcommit_memory=1` a huge `malloc`
/// succeeds and the process is killed when it touches the pages).
fn memory_ceiling() -> usize {
    static CEILING: OnceLock<usize> = OnceLock::new();
    *CEILING.get_or_init(|| {
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            // SAFETY: `libc::sysinfo` is a C struct of integers and padding, for
            // which all-zero bytes are a valid value; no buffer is involved.
            let mut info: libc::sysinfo = unsafe { std::mem::zeroed() };
            // SAFETY: `info` is a valid, writable `sysinfo` struct that lives for
            // the call; the kernel only writes within it.
            if unsafe { libc::sysinfo(&mut info) } == 0 {
                let unit = (info.mem_unit as u64).max(1);
                let total = (info.totalram as u64).saturating_add(info.totalswap as u64);
                return usize::try_from(total.saturating_mul(unit)).unwrap_or(usize::MAX);
            }
        }
        usize::MAX
    })
}

/// The size in bytes of `len` elements of `T`, or `OutOfMemory` when that
/// does not fit (in `isize`, Rust's limit, or in the machine).
pub(crate) fn bytes_for<T>(len: usize) -> Result<usize> {
    let bytes = len.saturating_mul(std::mem::size_of::<T>());
    if bytes > isize::MAX as usize || bytes > memory_ceiling() {
        return Err(oom(bytes));
    }
    Ok(bytes)
}

fn oom(bytes: usize) -> Error {
    Error::OutOfMemory {
        device: Device::Cpu,
        bytes,
    }
}

/// An empty `Vec` with room for exactly `len` elements.
pub(crate) fn with_capacity<T>(len: usize) -> Result<Vec<T>> {
    let bytes = bytes_for::<T>(len)?;
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|_| oom(bytes))?;
    Ok(v)
}

/// `len` copies of `value`.
pub(crate) fn filled<T: Clone>(value: T, len: usize) -> Result<Vec<T>> {
    let mut v = with_capacity(len)?;
    v.resize(len, value);
    Ok(v)
}

/// `len` zeros, from a zeroed allocation: large buffers come straight from
/// `mmap` (or `calloc`'s reuse) without a pass that writes every byte.
pub(crate) fn zeroed<T: ZeroBits>(len: usize) -> Result<Vec<T>> {
    let bytes = bytes_for::<T>(len)?;
    if len == 0 || std::mem::size_of::<T>() == 0 {
        // A zero-sized layout must not be passed to the allocator.
        return Ok(Vec::new());
    }
    let layout = std::alloc::Layout::array::<T>(len).map_err(|_| oom(bytes))?;
    // SAFETY: `layout` has a non-zero size (empty buffers returned above
    // without calling the allocator, for which a zero size is undefined) and
    // `T`'s alignment.
    let ptr = unsafe { std::alloc::alloc_zeroed(layout) } as *mut T;
    if ptr.is_null() {
        return Err(oom(bytes));
    }
    // SAFETY: `ptr` is non-null (checked above) and was allocated by the global allocator with the layout of `[T;
    // len]`, `len > 0`, which is what `Vec<T>` with capacity `len` deallocates with; all `len` elements are
    // initialised, to zero bytes, which `ZeroBits` guarantees is a valid `T`.
    Ok(unsafe { Vec::from_raw_parts(ptr, len, len) })
}

/// The first `len` items of `iter`, collected into an exactly sized buffer.
pub(crate) fn collect<T>(len: usize, iter: impl Iterator<Item = T>) -> Result<Vec<T>> {
    let mut v = with_capacity(len)?;
    v.extend(iter.take(len));
    Ok(v)
}

/// `f` of every element of `src`, in parallel for large inputs.
pub(crate) fn par_map<T: Sync, U: Send>(src: &[T], f: impl Fn(&T) -> U + Sync + Send) -> Result<Vec<U>> {
    let mut v = with_capacity(src.len())?;
    // The capacity is already there, so rayon's `par_extend` does not grow it.
    v.par_extend(src.par_iter().with_min_len(4096).map(f));
    Ok(v)
}

/// A copy of `src`.
pub(crate) fn copy_of<T: Copy>(src: &[T]) -> Result<Vec<T>> {
    let mut v = with_capacity(src.len())?;
    v.extend_from_slice(src);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_requests_are_out_of_memory() {
        assert!(matches!(filled(0f32, 1 << 40), Err(Error::OutOfMemory { .. })));
        assert!(matches!(zeroed::<f64>(usize::MAX), Err(Error::OutOfMemory { .. })));
        assert!(matches!(
            with_capacity::<i64>(usize::MAX / 4),
            Err(Error::OutOfMemory { .. })
        ));
    }

    #[test]
    fn buffers_hold_what_was_asked() {
        assert_eq!(zeroed::<f32>(5).unwrap(), vec![0.0; 5]);
        assert!(zeroed::<f32>(0).unwrap().is_empty());
        assert_eq!(filled(2i64, 3).unwrap(), vec![2, 2, 2]);
        assert_eq!(collect(3, 0..10).unwrap(), vec![0, 1, 2]);
        assert_eq!(par_map(&[1, 2, 3], |x| x * 2).unwrap(), vec![2, 4, 6]);
        assert_eq!(copy_of(&[1.5f64]).unwrap(), vec![1.5]);
    }
}
