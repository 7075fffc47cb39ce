//! Optimizer, gradient-clipping and learning-rate-scheduler tests: PyTorch
//! fixtures (tests/fixtures/optim_fixtures.json, sched_fixtures.json,
//! optim_groups.json), parameter groups, state round trips, argument errors and the
//! validation of every hyperparameter and epoch.

mod clipping;
mod errors;
mod fixtures;
mod grad_scaler;
mod group_api;
mod groups;
mod optimizers;
mod resume;
mod schedulers;
mod validation;
