//! Per-device state, created once per ordinal and shared by every buffer on it:
//! the context, the one stream all work goes to, the allocator, the cuBLAS handle,
//! the loaded kernels, and the error record that index kernels write to.

use super::alloc::Allocator;
use super::launch::driver_err;
use super::probe;
use crate::{Device, Error, Result};
use cudarc::driver::{CudaContext, CudaFunction, CudaModule, CudaStream, result, sys};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

/// Everything one device needs. Buffers hold an `Arc` to it.
pub(crate) struct DeviceState {
    pub(crate) ordinal: usize,
    pub(crate) ctx: Arc<CudaContext>,
    pub(crate) stream: Arc<CudaStream>,
    /// Compute capability as `major * 10 + minor`.
    pub(crate) compute_capability: u32,
    pub(crate) sm_count: u32,
    pub(crate) alloc: Allocator,
    blas: Mutex<Option<cudarc::cublas::CudaBlas>>,
    modules: Mutex<HashMap<&'static str, Arc<CudaModule>>>,
    functions: Mutex<HashMap<String, CudaFunction>>,
    /// Four `u64` on the device: {op code, index, size, 0}; see kernels/prelude.cuh.
    error_record: sys::CUdeviceptr,
    /// Set when an index kernel was queued since the record was last read.
    index_kernels_pending: AtomicBool,
    /// Held while an index kernel is queued, and while the record's read and
    /// clear are queued, so that no index kernel lands between the two in
    /// stream order (its error would be cleared unread).
    record_order: Mutex<()>,
}

/// The error record's address for one index-kernel launch; the launch is queued
/// while this is alive (see [`DeviceState::error_record_for_launch`]).
pub(crate) struct RecordForLaunch<'a> {
    pub(crate) ptr: u64,
    _order: MutexGuard<'a, ()>,
}

impl std::fmt::Debug for DeviceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cuda:{} (sm_{})", self.ordinal, self.compute_capability)
    }
}

/// Locks a mutex whose data stays valid even if a holder panicked (caches only).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The state of device `ordinal`, created on first use after checking that the
/// driver, the device, NVRTC and cuBLAS are all there.
pub(crate) fn device(ordinal: usize) -> Result<Arc<DeviceState>> {
    static DEVICES: OnceLock<Mutex<HashMap<usize, Arc<DeviceState>>>> = OnceLock::new();
    let mut map = lock(DEVICES.get_or_init(Default::default));
    if let Some(d) = map.get(&ordinal) {
        return Ok(d.clone());
    }
    probe::check_available(ordinal)?;
    let d = Arc::new(DeviceState::new(ordinal)?);
    map.insert(ordinal, d.clone());
    Ok(d)
}

impl DeviceState {
    fn new(ordinal: usize) -> Result<DeviceState> {
        let unavailable = |what: &str, e: cudarc::driver::DriverError| {
            Error::CudaUnavailable(format!("CUDA device {ordinal}: {what} failed ({:?})", e.0))
        };
        let ctx = CudaContext::new(ordinal).map_err(|e| unavailable("creating its context", e))?;
        let stream = ctx.new_stream().map_err(|e| unavailable("creating a stream", e))?;
        let (major, minor) = ctx
            .compute_capability()
            .map_err(|e| unavailable("reading the compute capability", e))?;
        let sm_count = ctx
            .attribute(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)
            .map_err(|e| unavailable("reading the multiprocessor count", e))?;
        let compute_capability = (major * 10 + minor) as u32;
        probe_jit(ordinal, &ctx, compute_capability)?;
        // SAFETY: the context is current (CudaContext::new and probe_jit bind it); the 32 bytes allocated here (never
        // empty) are owned by this state; the clear is queued on the crate's stream, ahead of every kernel later handed
        // the pointer, and has finished before the pointer is published (the synchronize below).
        let error_record = unsafe {
            let p = result::malloc_sync(32).map_err(|e| unavailable("allocating the error record", e))?;
            result::memset_d8_async(p, 0, 32, stream.cu_stream())
                .map_err(|e| unavailable("clearing the error record", e))?;
            p
        };
        stream
            .synchronize()
            .map_err(|e| unavailable("clearing the error record", e))?;
        Ok(DeviceState {
            ordinal,
            ctx,
            stream,
            compute_capability,
            sm_count: sm_count.max(1) as u32,
            alloc: Allocator::default(),
            blas: Mutex::new(None),
            modules: Mutex::new(HashMap::new()),
            functions: Mutex::new(HashMap::new()),
            error_record,
            index_kernels_pending: AtomicBool::new(false),
            record_order: Mutex::new(()),
        })
    }

    /// This device as a [`Device`].
    pub(crate) fn device(&self) -> Device {
        Device::Cuda(self.ordinal)
    }

    /// Makes the context current on the calling thread (driver calls need it).
    pub(crate) fn bind(&self) -> Result<()> {
        self.ctx.bind_to_thread().map_err(|e| driver_err("bind context", e))
    }

    /// The raw stream all work on this device is queued to.
    pub(crate) fn cu_stream(&self) -> sys::CUstream {
        self.stream.cu_stream()
    }

    /// Waits for the stream, then reports an index error recorded by a kernel.
    pub(crate) fn synchronize(&self) -> Result<()> {
        self.bind()?;
        // Taken before the wait: an index kernel queued by another thread after
        // this swap sets the flag again and is read at the next wait, whereas
        // clearing the flag after the wait would forget it.
        let pending = self.index_kernels_pending.swap(false, Ordering::AcqRel);
        if let Err(e) = self.stream.synchronize() {
            if pending {
                self.index_kernels_pending.store(true, Ordering::Release);
            }
            return Err(Error::Cuda {
                op: "synchronize",
                msg: format!(
                    "queued GPU work failed: {:?} (an earlier kernel faulted; the device context may be unusable)",
                    e.0
                ),
            });
        }
        if pending { self.take_index_error() } else { Ok(()) }
    }

    /// The error record's address for an index kernel about to be queued. Keep the
    /// returned value alive until the launch has been queued: it marks a read as
    /// due and keeps a concurrent read-and-clear from being queued in between.
    pub(crate) fn error_record_for_launch(&self) -> RecordForLaunch<'_> {
        let order = lock(&self.record_order);
        self.index_kernels_pending.store(true, Ordering::Release);
        RecordForLaunch {
            ptr: self.error_record,
            _order: order,
        }
    }

    /// Reads and clears the error record. The read and the clear are queued on the
    /// crate's stream back to back (under `record_order`), so each index kernel
    /// runs either before both (its error is reported now) or after both (its
    /// error stays for the next read); the legacy default stream, which the
    /// non-blocking stream does not wait for, is never used.
    fn take_index_error(&self) -> Result<()> {
        let mut rec = [0u64; 4];
        {
            let _order = lock(&self.record_order);
            // SAFETY: the record is 32 bytes (never empty) of device memory owned by this state and `rec`
            // 32 bytes of pageable host memory, so the copy ends before the call returns; it runs after
            // every kernel queued so far (stream order), and the clear after it, before any later kernel.
            unsafe {
                result::memcpy_dtoh_async(&mut rec, self.error_record, self.cu_stream())
                    .map_err(|e| driver_err("read error record", e))?;
                result::memset_d8_async(self.error_record, 0, 32, self.cu_stream())
                    .map_err(|e| driver_err("clear error record", e))?;
            }
        }
        self.stream
            .synchronize()
            .map_err(|e| driver_err("read error record", e))?;
        let op = match rec[0] {
            0 => return Ok(()),
            1 => "index_select",
            2 => "index_add",
            3 => "gather",
            _ => "scatter_add",
        };
        Err(Error::IndexOutOfRange {
            op,
            index: rec[1] as i64,
            dim: 0,
            size: rec[2] as usize,
        })
    }

    /// Runs `f` with this device's cuBLAS handle (created on first use). The lock
    /// also serialises cuBLAS calls, which a shared handle needs.
    pub(crate) fn with_blas<R>(&self, f: impl FnOnce(&cudarc::cublas::CudaBlas) -> Result<R>) -> Result<R> {
        probe::cublas_present()?;
        self.bind()?;
        let mut guard = lock(&self.blas);
        if guard.is_none() {
            let blas = cudarc::cublas::CudaBlas::new(self.stream.clone()).map_err(|e| Error::Cuda {
                op: "cublas init",
                msg: format!("creating the cuBLAS handle failed: {:?}", e.0),
            })?;
            *guard = Some(blas);
        }
        // Just filled above when it was empty.
        f(guard.as_ref().expect("cuBLAS handle initialised above"))
    }

    /// The kernel `name` of `family`, compiling and loading the family on first use.
    pub(crate) fn function(&self, family: &'static str, name: &str) -> Result<CudaFunction> {
        if let Some(f) = lock(&self.functions).get(name) {
            return Ok(f.clone());
        }
        let module = {
            let mut modules = lock(&self.modules);
            match modules.get(family) {
                Some(m) => m.clone(),
                None => {
                    let k = super::nvrtc::source(family)?;
                    self.bind()?;
                    let m = super::nvrtc::load_program(k, self.compute_capability, |ptx| {
                        load_ptx(&self.ctx, ptx).map_err(|e| Error::Cuda {
                            op: "load kernels",
                            msg: format!(
                                "loading the PTX of kernels/{family}.cu on CUDA device {} failed: {:?}{}",
                                self.ordinal,
                                e.0,
                                jit_hint(e.0)
                            ),
                        })
                    })?;
                    modules.insert(family, m.clone());
                    m
                }
            }
        };
        let f = module.load_function(name).map_err(|e| Error::Cuda {
            op: "load kernels",
            msg: format!("kernel {name} not found in kernels/{family}.cu: {:?}", e.0),
        })?;
        lock(&self.functions).insert(name.to_string(), f.clone());
        Ok(f)
    }
}

/// Hands PTX text to `cuModuleLoadData` (the driver JIT-compiles it here).
fn load_ptx(ctx: &Arc<CudaContext>, ptx: &str) -> std::result::Result<Arc<CudaModule>, cudarc::driver::DriverError> {
    ctx.load_module(cudarc::nvrtc::Ptx::from_src(ptx))
}

/// What to do about a module load error, for the errors with a known cause.
fn jit_hint(e: sys::CUresult) -> &'static str {
    match e {
        sys::CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION => {
            " (NVRTC is newer than the driver: install the NVRTC of the driver's CUDA version, e.g. \
             `pip install \"nvidia-cuda-nvrtc-cu12==12.X.*\"` for a CUDA 12.X driver, with its lib folder \
             first on LD_LIBRARY_PATH, or update the NVIDIA driver to 580 or newer)"
        }
        sys::CUresult::CUDA_ERROR_NO_BINARY_FOR_GPU | sys::CUresult::CUDA_ERROR_INVALID_PTX => {
            " (the driver cannot JIT this PTX for this GPU: update the NVIDIA driver, or use an NVRTC \
             no newer than the driver's CUDA version)"
        }
        _ => "",
    }
}

/// Compiles (through the PTX cache) and loads a trivial kernel, so that a driver
/// that cannot JIT what this NVRTC writes makes `Device::cuda(i)` fail, and
/// `Device::best()` pick the CPU, instead of the first op failing later.
fn probe_jit(ordinal: usize, ctx: &Arc<CudaContext>, cc: u32) -> Result<()> {
    let (major, minor) = super::nvrtc::nvrtc_version()?;
    let module = super::nvrtc::load_program(&super::nvrtc::PROBE_SOURCE, cc, |ptx| {
        load_ptx(ctx, ptx).map_err(|e| {
            Error::CudaUnavailable(format!(
                "CUDA device {ordinal} (sm_{cc}) cannot load the PTX NVRTC {major}.{minor} writes: \
                 cuModuleLoadData of a trivial kernel failed with {:?}{}",
                e.0,
                jit_hint(e.0)
            ))
        })
    })
    .map_err(|e| match e {
        Error::CudaUnavailable(_) => e,
        other => Error::CudaUnavailable(format!(
            "CUDA device {ordinal} (sm_{cc}): NVRTC {major}.{minor} could not compile a trivial kernel: {other}"
        )),
    })?;
    module.load_function("neurite_probe").map_err(|e| {
        Error::CudaUnavailable(format!(
            "CUDA device {ordinal}: the probe kernel neurite_probe is missing from its own module ({:?})",
            e.0
        ))
    })?;
    Ok(())
}
