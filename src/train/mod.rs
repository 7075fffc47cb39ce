//! Training: `fit`, callbacks, history, metrics, progress and plots.
