//! A confusion matrix drawn as a PNG heat map (plotters).

use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

const OP: &str = "plot_confusion_matrix";

/// Draws `matrix` (row = target class, column = predicted class, as
/// [`super::confusion_matrix`] returns it) as a heat map: each cell shows its
/// count and is shaded by its share of the row (the class's recall on the
/// diagonal); the PNG goes to `path`. `labels`
/// names the classes (`None`: their indices).
///
/// ```no_run
/// let m = neurite::metrics::confusion_matrix(&[0, 1, 1, 2], &[0, 1, 2, 2], 3).unwrap();
/// neurite::metrics::plot_confusion_matrix(&m, None, "confusion.png").unwrap();
/// ```
pub fn plot_confusion_matrix(matrix: &[Vec<u64>], labels: Option<&[String]>, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let c = matrix.len();
    if c == 0 || matrix.iter().any(|row| row.len() != c) {
        return Err(Error::invalid(
            OP,
            format!("need a square, non-empty matrix, got {c} rows"),
        ));
    }
    if c > 100 {
        return Err(Error::invalid(
            OP,
            format!("{c} classes are too many to draw (at most 100)"),
        ));
    }
    let names: Vec<String> = match labels {
        Some(l) if l.len() == c => l.to_vec(),
        Some(l) => {
            return Err(Error::invalid(OP, format!("{} labels for {c} classes", l.len())));
        }
        None => (0..c).map(|i| i.to_string()).collect(),
    };
    crate::train::plot::ensure_font(OP)?;
    let fail = |e: String| Error::invalid(OP, format!("drawing {}: {e}", path.display()));
    let side = (60 * c as u32 + 160).clamp(360, 2000);
    let root = BitMapBackend::new(path, (side, side)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let err = |e: plotters::drawing::DrawingAreaErrorKind<_>| fail(format!("{e}"));
    let mut chart = ChartBuilder::on(&root)
        .caption("Confusion matrix", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(70)
        .build_cartesian_2d(0..c, 0..c)
        .map_err(err)?;
    let label = |i: &usize| names.get(*i).cloned().unwrap_or_default();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("predicted")
        .y_desc("target")
        .x_labels(c)
        .y_labels(c)
        .x_label_formatter(&label)
        // Row 0 at the top, as the matrix is printed.
        .y_label_formatter(&|i: &usize| label(&(c - 1 - (*i).min(c - 1))))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    let totals: Vec<u64> = matrix.iter().map(|row| row.iter().sum()).collect();
    for (r, row) in matrix.iter().enumerate() {
        for (k, &count) in row.iter().enumerate() {
            let share = if totals[r] > 0 {
                count as f64 / totals[r] as f64
            } else {
                0.0
            };
            let shade = (255.0 * (1.0 - share)) as u8;
            let y = c - 1 - r;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(k, y), (k + 1, y + 1)],
                    RGBColor(shade, shade, 255).filled(),
                )))
                .map_err(err)?;
            let ink = if share > 0.5 { WHITE } else { BLACK };
            let pos = chart.backend_coord(&(k, y + 1));
            let next = chart.backend_coord(&(k + 1, y));
            let centre = ((pos.0 + next.0) / 2 - 14, (pos.1 + next.1) / 2 - 8);
            root.draw(&Text::new(
                format!("{count}"),
                centre,
                ("sans-serif", 14).into_font().color(&ink),
            ))
            .map_err(|e| fail(e.to_string()))?;
        }
    }
    root.present().map_err(|e| fail(e.to_string()))?;
    Ok(())
}
