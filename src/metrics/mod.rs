//! Evaluation metrics computed exactly over whole predictions on the host,
//! with scikit-learn's definitions: precision, recall and F1 (binary, macro,
//! micro, weighted), confusion matrices, top-k accuracy, ROC-AUC and average
//! precision (PR-AUC), MAE, RMSE and R².
//!
//! Use them on the output of [`predict`](crate::train::predict) or inside a
//! search objective; inputs are plain slices (class indices, scores, values),
//! so they serve any model.

mod classification;
mod confusion_plot;
mod ranking;
mod regression;

pub(crate) use classification::from_counts;
pub use classification::{Average, ClassScores, confusion_matrix, precision_recall_f1};
pub use confusion_plot::plot_confusion_matrix;
pub use ranking::{average_precision_score, roc_auc_ovr, roc_auc_score, top_k_accuracy};
pub use regression::{mean_absolute_error, r2_score, root_mean_squared_error};

use crate::{Error, Result};

/// Checks two inputs have the same, non-zero length.
fn same_len(op: &'static str, a: usize, b: usize, what: &str) -> Result<()> {
    if a != b {
        return Err(Error::invalid(op, format!("{what}: {a} targets but {b} predictions")));
    }
    if a == 0 {
        return Err(Error::invalid(op, "no samples"));
    }
    Ok(())
}
