//! Optimizer, gradient-clipping and learning-rate-scheduler tests: PyTorch
//! fixtures (tests/fixtures/optim_fixtures.json, sched_fixtures.json), state
//! round trips and argument errors.

mod clipping;
mod errors;
mod fixtures;
mod optimizers;
mod resume;
mod schedulers;
