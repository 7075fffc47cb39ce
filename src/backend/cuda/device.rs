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
    /// Set when an index kernel ran since the record was last read.
    index_kernels_pending: AtomicBool,
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
        // SAFETY: the context is current (CudaContext::new binds it); 32 bytes are
        // allocated and zeroed before any kernel can see the pointer.
        let error_record = unsafe {
            let p = result::malloc_sync(32).map_err(|e| unavailable("allocating the error record", e))?;
            result::memset_d8_sync(p, 0, 32).map_err(|e| unavailable("clearing the error record", e))?;
            p
        };
        Ok(DeviceState {
            ordinal,
            ctx,
            stream,
            compute_capability: (major * 10 + minor) as u32,
            sm_count: sm_count.max(1) as u32,
            alloc: Allocator::default(),
            blas: Mutex::new(None),
            modules: Mutex::new(HashMap::new()),
            functions: Mutex::new(HashMap::new()),
            error_record,
            index_kernels_pending: AtomicBool::new(false),
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
        self.stream.synchronize().map_err(|e| Error::Cuda {
            op: "synchronize",
            msg: format!(
                "queued GPU work failed: {:?} (an earlier kernel faulted; the device context may be unusable)",
                e.0
            ),
        })?;
        self.take_index_error()
    }

    /// The error record's address, for index kernels (marks a read as due).
    pub(crate) fn error_record_for_launch(&self) -> u64 {
        self.index_kernels_pending.store(true, Ordering::Release);
        self.error_record
    }

    /// Reads and clears the error record if an index kernel ran since the last read.
    /// The caller has synchronised the stream.
    fn take_index_error(&self) -> Result<()> {
        if !self.index_kernels_pending.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let mut rec = [0u64; 4];
        // SAFETY: the record is 32 bytes of device memory owned by this state; the
        // stream is idle, so no kernel writes it concurrently.
        unsafe {
            result::memcpy_dtoh_sync(&mut rec, self.error_record).map_err(|e| driver_err("read error record", e))?;
            if rec[0] != 0 {
                result::memset_d8_sync(self.error_record, 0, 32).map_err(|e| driver_err("clear error record", e))?;
            }
        }
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
                    let ptx = super::nvrtc::ptx_for_device(family, self.compute_capability)?;
                    self.bind()?;
                    let m = self
                        .ctx
                        .load_module(cudarc::nvrtc::Ptx::from_src(ptx))
                        .map_err(|e| Error::Cuda {
                            op: "load kernels",
                            msg: format!(
                                "loading the PTX of kernels/{family}.cu failed: {:?}{}",
                                e.0,
                                if e.0 == sys::CUresult::CUDA_ERROR_UNSUPPORTED_PTX_VERSION {
                                    " (NVRTC is newer than the driver: use an NVRTC whose CUDA version \
                                     the driver supports)"
                                } else {
                                    ""
                                }
                            ),
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
