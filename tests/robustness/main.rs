//! Robustness: every public tensor op, layer and loss called with arbitrary
//! arguments (hostile sizes, negative and huge dims, every dtype, mismatched
//! shapes, NaN and infinities) returns `Ok` or `Err`, never panics.
//!
//! Each property runs its call under `catch_unwind` and fails, printing the
//! input, on a panic. An abort (allocation failure, stack overflow) kills the
//! test process, which fails the run too. Where a call succeeds the test checks
//! the shape or element count of the result, so a property cannot pass by
//! returning garbage.
//!
//! Sizes are drawn from small values {0, 1, 2, 3, 5} and hostile ones
//! {2^31, 2^40, 2^62, usize::MAX}; a tensor that could really be allocated is
//! kept to a few thousand elements, and hostile sizes appear only where the
//! element count overflows, exceeds 2^40 or is zero, so that the suite stays
//! fast and never fills gigabytes of memory.

mod create;
mod elementwise;
mod graph;
mod index;
mod layers;
mod losses;
mod matmul_conv;
mod reduce;
mod shape_ops;
mod util;
