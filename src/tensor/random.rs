//! The global, seedable random generator behind `rand`, `randn`, dropout and
//! shuffling, with its state exposed for exact resume from checkpoints.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::{Mutex, MutexGuard, OnceLock};

fn global() -> &'static Mutex<ChaCha8Rng> {
    static RNG: OnceLock<Mutex<ChaCha8Rng>> = OnceLock::new();
    RNG.get_or_init(|| Mutex::new(ChaCha8Rng::seed_from_u64(0x006e_6575_7269_7465)))
}

pub(crate) fn lock_rng() -> MutexGuard<'static, ChaCha8Rng> {
    // The generator holds no invariant a panic could break.
    global().lock().unwrap_or_else(|e| e.into_inner())
}

/// Seeds the global generator, like `torch.manual_seed`.
pub fn manual_seed(seed: u64) {
    *lock_rng() = ChaCha8Rng::seed_from_u64(seed);
}

/// A snapshot of the global generator, serializable into checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RngState(ChaCha8Rng);

/// Captures the global generator's state.
pub fn rng_state() -> RngState {
    RngState(lock_rng().clone())
}

/// Restores a state captured by [`rng_state`].
pub fn set_rng_state(state: &RngState) {
    *lock_rng() = state.0.clone();
}
