//! The global, seedable random generator behind `rand`, `randn`, dropout and
//! shuffling, with its state exposed for exact resume from checkpoints.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::sync::{Mutex, MutexGuard, OnceLock};

fn global() -> &'static Mutex<ChaCha8Rng> {
    static RNG: OnceLock<Mutex<ChaCha8Rng>> = OnceLock::new();
    RNG.get_or_init(|| Mutex::new(ChaCha8Rng::seed_from_u64(0x006e_6575_7269_7465)))
}

fn lock_rng() -> MutexGuard<'static, ChaCha8Rng> {
    // The generator holds no invariant a panic could break.
    global().lock().unwrap_or_else(|e| e.into_inner())
}

thread_local! {
    /// The generator of an active [`fork_rng`] scope on this thread, if any.
    static FORKED: RefCell<Option<ChaCha8Rng>> = const { RefCell::new(None) };
}

/// Runs `f` on the generator random ops on this thread draw from: the
/// [`fork_rng`] scope's own generator inside one, the global one otherwise.
pub(crate) fn with_rng<R>(f: impl FnOnce(&mut ChaCha8Rng) -> R) -> R {
    FORKED.with(|cell| {
        // `f` only samples, so it never re-enters `with_rng` on this thread.
        let mut slot = cell.borrow_mut();
        match slot.as_mut() {
            Some(rng) => f(rng),
            None => {
                drop(slot);
                f(&mut lock_rng())
            }
        }
    })
}

/// Seeds the global generator, like `torch.manual_seed`. Inside a
/// [`fork_rng`] scope it seeds that scope's generator instead.
pub fn manual_seed(seed: u64) {
    with_rng(|rng| *rng = ChaCha8Rng::seed_from_u64(seed));
}

/// Runs `f` with a generator of its own, seeded with `seed`, for every random
/// op (`rand`, `randn`, layer initialisation, dropout) on this thread; the
/// global generator is neither read nor advanced, and the previous generator
/// of this thread comes back afterwards (scopes nest). PyTorch's
/// `torch.random.fork_rng` with a seed: what lets trials of a search run on
/// several threads at once and each stay reproducible.
///
/// ```
/// use neurite::{fork_rng, DType, Device, Tensor};
/// # fn main() -> neurite::Result<()> {
/// let a = fork_rng(7, || Tensor::randn(3, DType::F32, &Device::cpu()))?;
/// let b = fork_rng(7, || Tensor::randn(3, DType::F32, &Device::cpu()))?;
/// assert_eq!(a.to_vec::<f32>()?, b.to_vec::<f32>()?);
/// # Ok(()) }
/// ```
pub fn fork_rng<R>(seed: u64, f: impl FnOnce() -> R) -> R {
    /// Puts the previous generator back even when `f` panics.
    struct Restore(Option<ChaCha8Rng>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            FORKED.with(|cell| *cell.borrow_mut() = previous);
        }
    }
    let previous = FORKED.with(|cell| cell.borrow_mut().replace(ChaCha8Rng::seed_from_u64(seed)));
    let _restore = Restore(previous);
    f()
}

/// A snapshot of the global generator, serializable into checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RngState(ChaCha8Rng);

/// Captures the global generator's state (the [`fork_rng`] scope's inside one).
pub fn rng_state() -> RngState {
    with_rng(|rng| RngState(rng.clone()))
}

/// Restores a state captured by [`rng_state`].
pub fn set_rng_state(state: &RngState) {
    with_rng(|rng| *rng = state.0.clone());
}
