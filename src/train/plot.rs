//! Loss and accuracy curves of a [`History`] as a PNG image (plotters).
//!
//! Text is drawn with the DejaVu Sans font embedded from the `dejavu` crate
//! through plotters' `ab_glyph` renderer, so plotting needs no system font
//! library (no fontconfig, no freetype).

use super::History;
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;
use std::sync::OnceLock;

const OP: &str = "History::plot";
const PANEL: (u32, u32) = (640, 480);

/// Registers the embedded font under plotters' `sans-serif` family, once;
/// `op` names the plot that needs it in the error.
pub(crate) fn ensure_font(op: &'static str) -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, dejavu::sans::regular()).is_ok()
            && plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold()).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(op, "the embedded DejaVu Sans font could not be loaded"))
    }
}

/// One curve: its legend label, colour and values.
struct Curve<'h> {
    label: &'h str,
    color: RGBColor,
    values: &'h [f64],
}

impl History {
    /// Draws the training and validation loss and, when the history has
    /// accuracy-like metrics (names containing `acc`), their training and
    /// validation curves in a second panel, and writes the image to `path`
    /// (PNG; the format follows the extension). Epochs are numbered from 1.
    /// NaN values leave gaps.
    ///
    /// ```no_run
    /// # fn main() -> neurite::Result<()> {
    /// # let history = neurite::train::History::new();
    /// history.plot("training.png")?;
    /// # Ok(()) }
    /// ```
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        if self.is_empty() {
            return Err(Error::invalid(OP, "the history has no epoch to plot"));
        }
        ensure_font(OP)?;
        let fail = |e: String| Error::invalid(OP, format!("drawing {}: {e}", path.display()));

        let mut panels: Vec<(String, Vec<Curve<'_>>)> = vec![(
            "Loss".to_string(),
            vec![
                Curve {
                    label: "loss",
                    color: BLUE,
                    values: &self.loss,
                },
                Curve {
                    label: "val_loss",
                    color: RED,
                    values: &self.val_loss,
                },
            ],
        )];
        let palette = [BLUE, RED, GREEN, MAGENTA, CYAN, BLACK];
        let acc: Vec<(&String, &Vec<f64>)> = self.metrics.iter().filter(|(k, _)| k.contains("acc")).collect();
        if !acc.is_empty() {
            let curves = acc
                .iter()
                .enumerate()
                .map(|(i, (k, v))| Curve {
                    label: k.as_str(),
                    color: palette[i % palette.len()],
                    values: v.as_slice(),
                })
                .collect();
            panels.push(("Accuracy".to_string(), curves));
        }

        let size = (PANEL.0 * panels.len() as u32, PANEL.1);
        let root = BitMapBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let areas = root.split_evenly((1, panels.len()));
        let x: Vec<f64> = self.epochs.iter().map(|&e| e as f64 + 1.0).collect();
        for (area, (title, curves)) in areas.iter().zip(&panels) {
            draw_panel(area, title, &x, curves).map_err(fail)?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
        Ok(())
    }
}

/// The `[lo, hi]` range of the finite values, padded by 5%.
fn value_range<'c>(curves: impl Iterator<Item = &'c Curve<'c>>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in curves.flat_map(|c| c.values.iter()).filter(|v| v.is_finite()) {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    (lo - pad, hi + pad)
}

fn draw_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    x: &[f64],
    curves: &[Curve<'_>],
) -> std::result::Result<(), String> {
    let err = |e: plotters::drawing::DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let curves: Vec<&Curve<'_>> = curves.iter().filter(|c| !c.values.is_empty()).collect();
    let x_max = x.iter().copied().fold(1.0, f64::max);
    let x_min = x.iter().copied().fold(x_max, f64::min);
    let x_hi = if x_max > x_min { x_max } else { x_min + 1.0 };
    let (y_lo, y_hi) = value_range(curves.iter().copied());
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(x_min..x_hi, y_lo..y_hi)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(title.to_lowercase())
        .x_label_formatter(&|v| format!("{v:.0}"))
        .label_style(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    for c in curves {
        let color = c.color;
        let points: Vec<(f64, f64)> = x.iter().copied().zip(c.values.iter().copied()).collect();
        // NaN breaks the line: draw each run of finite values on its own.
        let mut first = true;
        for run in points.split(|(_, y)| !y.is_finite()).filter(|r| !r.is_empty()) {
            let series = chart
                .draw_series(LineSeries::new(run.iter().copied(), color.stroke_width(2)))
                .map_err(err)?;
            if first {
                series
                    .label(c.label)
                    .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
                first = false;
            }
            chart
                .draw_series(run.iter().map(|&p| Circle::new(p, 3, color.filled())))
                .map_err(err)?;
        }
    }
    chart
        .configure_series_labels()
        // Losses fall and accuracies rise: keep the legend off the curves' ends.
        .position(if title == "Loss" {
            SeriesLabelPosition::UpperRight
        } else {
            SeriesLabelPosition::LowerRight
        })
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 14))
        .draw()
        .map_err(err)?;
    Ok(())
}
