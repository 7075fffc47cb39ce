//! When to split work across threads, decided once.

use std::sync::OnceLock;

/// Element count below which element-wise work stays on the calling thread:
/// waking rayon costs more than a few thousand flops.
pub(super) const PAR_MIN_ELEMS: usize = 1 << 15;

/// Smallest piece of work handed to one rayon task.
pub(super) const PAR_CHUNK: usize = 1 << 13;

static THREADS: OnceLock<usize> = OnceLock::new();

/// Threads used by the CPU backend. Read once: asking the OS on every op is
/// what triples small-batch latency in other crates.
pub(super) fn num_threads() -> usize {
    let cores = *THREADS.get_or_init(|| {
        super::allocator::tune_once();
        rayon::current_num_threads()
    });
    // Inside a smaller pool (a search's parallel trials each get a share of
    // the cores) work is split for that pool, not for the whole machine.
    // `current_num_threads` reads a thread-local, not the OS.
    cores.min(rayon::current_num_threads())
}

/// Sets the number of CPU threads (rayon's global pool and the GEMM). Must be
/// called before the first tensor op; later calls return an error message.
///
/// ```
/// // Usually left alone: rayon defaults to one thread per core,
/// // or reads RAYON_NUM_THREADS.
/// let _ = neurite::set_num_threads(2);
/// ```
pub fn set_num_threads(n: usize) -> crate::Result<()> {
    let op = "set_num_threads";
    if n == 0 {
        return Err(crate::Error::invalid(op, "thread count must be at least 1"));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build_global()
        .map_err(|e| crate::Error::invalid(op, format!("the thread pool is already running: {e}")))?;
    THREADS
        .set(n)
        .map_err(|_| crate::Error::invalid(op, "thread count already fixed by an earlier op"))
}
