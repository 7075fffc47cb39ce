//! The loss-against-learning-rate curve of an [`LrFinderResult`] as a PNG.

use super::LrFinderResult;
use super::plot::ensure_font;
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

const OP: &str = "LrFinderResult::plot";

impl LrFinderResult {
    /// Draws the smoothed loss against the learning rate on a logarithmic
    /// x axis, with the suggestion marked by a red point and a vertical line,
    /// and writes the image to `path` (PNG; the format follows the extension).
    /// Errors when there is no point to draw.
    ///
    /// ```no_run
    /// # fn main() -> neurite::Result<()> {
    /// # let found: neurite::train::LrFinderResult = todo!();
    /// found.plot("lr_find.png")?;
    /// # Ok(()) }
    /// ```
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let points: Vec<(f64, f64)> = self
            .lrs
            .iter()
            .copied()
            .zip(self.losses.iter().copied())
            .filter(|(lr, l)| lr.is_finite() && *lr > 0.0 && l.is_finite())
            .collect();
        if points.is_empty() {
            return Err(Error::invalid(OP, "the range test recorded no point to plot"));
        }
        ensure_font(OP)?;
        draw(path, &points, self.suggestion).map_err(|e| Error::invalid(OP, format!("drawing {}: {e}", path.display())))
    }
}

fn draw(path: &Path, points: &[(f64, f64)], suggestion: Option<f64>) -> std::result::Result<(), String> {
    let root = BitMapBackend::new(path, (640, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (mut x_lo, mut x_hi) = (points[0].0, points[points.len() - 1].0);
    if x_hi <= x_lo {
        // One point: widen the axis by a decade each way so it has a range.
        (x_lo, x_hi) = (x_lo / 10.0, x_hi * 10.0);
    }
    let (mut y_lo, mut y_hi) = points.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
        (lo.min(p.1), hi.max(p.1))
    });
    let pad = if y_hi > y_lo {
        (y_hi - y_lo) * 0.05
    } else {
        y_lo.abs().max(1.0) * 0.05
    };
    (y_lo, y_hi) = (y_lo - pad, y_hi + pad);
    let mut chart = ChartBuilder::on(&root)
        .caption("Learning-rate range test", ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d((x_lo..x_hi).log_scale(), y_lo..y_hi)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("learning rate (log scale)")
        .y_desc("smoothed loss")
        .x_label_formatter(&|v| format!("{v:.0e}"))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(points.iter().copied(), BLUE.stroke_width(2)))
        .map_err(|e| e.to_string())?
        .label("loss")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
    if let Some(lr) = suggestion
        && let Some(&(_, loss)) = points.iter().find(|(x, _)| *x == lr)
    {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(lr, y_lo), (lr, y_hi)],
                RED.mix(0.5).stroke_width(1),
            )))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(std::iter::once(Circle::new((lr, loss), 6, RED.filled())))
            .map_err(|e| e.to_string())?
            .label(format!("suggestion {lr:.2e}"))
            .legend(|(x, y)| Circle::new((x + 10, y), 5, RED.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}
