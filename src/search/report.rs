//! A study's trials as a CSV table and as a PNG plot.

use super::direction::Direction;
use super::space::{Distribution, ParamValue};
use super::study::Study;
use super::trial::{TrialRecord, TrialState};
use crate::{Error, Result};
use plotters::prelude::*;
use std::path::Path;

const PANEL: (u32, u32) = (520, 400);

impl Study {
    /// Writes one row per finished trial: `number, state, value,
    /// duration_s, seed`, one column per parameter, then `message` (the
    /// error of a failed trial). Atomic, like every file the crate writes.
    pub fn write_csv(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let fail = |e: csv::Error| Error::invalid("Study::write_csv", format!("{}: {e}", path.display()));
        let names: Vec<&str> = self.space().params().iter().map(|(n, _)| n.as_str()).collect();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["number", "state", "value", "duration_s", "seed"];
        header.extend(&names);
        header.push("message");
        w.write_record(&header).map_err(fail)?;
        for t in self.trials() {
            let mut row = vec![
                t.number.to_string(),
                t.state.to_string(),
                t.value.map(|v| v.to_string()).unwrap_or_default(),
                format!("{:.3}", t.duration_s),
                t.seed.to_string(),
            ];
            row.extend(
                names
                    .iter()
                    .map(|n| t.params.get(n).map(|v| v.to_string()).unwrap_or_default()),
            );
            row.push(t.message.clone().unwrap_or_default());
            w.write_record(&row).map_err(fail)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::invalid("Study::write_csv", e.to_string()))?;
        crate::checkpoint::write_atomic(path, &bytes)
    }

    /// Draws the objective value of every trial (pruned ones in grey, the
    /// best so far as a line) and, in one panel per parameter, the value
    /// against that parameter (log axis for log scales, choices by index),
    /// and writes the PNG to `path`.
    pub fn plot(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let trials = self.trials();
        let fail = |e: String| Error::invalid("Study::plot", format!("drawing {}: {e}", path.display()));
        if !trials.iter().any(|t| t.value.is_some_and(f64::is_finite)) {
            return Err(Error::invalid("Study::plot", "no trial has a finite value to plot"));
        }
        crate::train::plot::ensure_font("Study::plot")?;
        let params = self.space().params();
        let panels = 1 + params.len();
        let cols = panels.min(3);
        let rows = panels.div_ceil(cols);
        let size = (PANEL.0 * cols as u32, PANEL.1 * rows as u32);
        let root = BitMapBackend::new(path, size).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
        let areas = root.split_evenly((rows, cols));
        let (lo, hi) = value_range(&trials);
        history_panel(&areas[0], &trials, self.direction(), (lo, hi)).map_err(fail)?;
        for (area, (name, d)) in areas[1..].iter().zip(params) {
            param_panel(area, name, d, &trials, (lo, hi)).map_err(fail)?;
        }
        root.present().map_err(|e| fail(e.to_string()))?;
        Ok(())
    }
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn value_range(trials: &[TrialRecord]) -> (f64, f64) {
    let vals = trials.iter().filter_map(|t| t.value).filter(|v| v.is_finite());
    let (lo, hi) = vals.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    let pad = if hi > lo {
        (hi - lo) * 0.05
    } else {
        lo.abs().max(1.0) * 0.05
    };
    (lo - pad, hi + pad)
}

fn color_of(t: &TrialRecord) -> RGBColor {
    if t.state == TrialState::Pruned {
        RGBColor(160, 160, 160)
    } else {
        BLUE
    }
}

fn history_panel(
    area: &Area<'_>,
    trials: &[TrialRecord],
    direction: Direction,
    y: (f64, f64),
) -> std::result::Result<(), String> {
    let err = |e: plotters::drawing::DrawingAreaErrorKind<_>| format!("{e}");
    let n = trials.iter().map(|t| t.number).max().unwrap_or(0) as f64 + 1.0;
    let mut chart = ChartBuilder::on(area)
        .caption("Objective value per trial", ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(-0.5..n - 0.5, y.0..y.1)
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("trial")
        .y_desc("value")
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    let points = trials
        .iter()
        .filter_map(|t| t.value.filter(|v| v.is_finite()).map(|v| (t, v)));
    chart
        .draw_series(points.map(|(t, v)| Circle::new((t.number as f64, v), 4, color_of(t).filled())))
        .map_err(err)?;
    let mut best: Option<f64> = None;
    let mut line = Vec::new();
    for t in trials.iter().filter(|t| t.state == TrialState::Complete) {
        if let Some(v) = t.value.filter(|v| v.is_finite())
            && best.is_none_or(|b| direction.better(v, b))
        {
            best = Some(v);
        }
        if let Some(b) = best {
            line.push((t.number as f64, b));
        }
    }
    chart
        .draw_series(LineSeries::new(line, RED.stroke_width(2)))
        .map_err(err)?
        .label("best so far")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED.stroke_width(2)));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    Ok(())
}

fn param_panel(
    area: &Area<'_>,
    name: &str,
    d: &Distribution,
    trials: &[TrialRecord],
    y: (f64, f64),
) -> std::result::Result<(), String> {
    let err = |e: plotters::drawing::DrawingAreaErrorKind<_>| format!("{e}");
    let log = matches!(d, Distribution::LogUniform { .. } | Distribution::Int { log: true, .. });
    // Position on the x axis: log10 for log scales, the index for choices.
    let x_of = |v: &ParamValue| -> Option<f64> {
        match d {
            Distribution::Categorical(c) => c.iter().position(|x| x == v).map(|i| i as f64),
            _ => v.as_f64().map(|x| if log { x.log10() } else { x }),
        }
    };
    let (x_lo, x_hi) = match d {
        Distribution::Categorical(c) => (-0.5, c.len() as f64 - 0.5),
        Distribution::Uniform { low, high } => (*low, *high),
        Distribution::LogUniform { low, high } => (low.log10(), high.log10()),
        Distribution::Int { low, high, log } => {
            if *log {
                ((*low as f64).log10(), (*high as f64).log10())
            } else {
                (*low as f64 - 0.5, *high as f64 + 0.5)
            }
        }
    };
    let x_hi = if x_hi > x_lo { x_hi } else { x_lo + 1.0 };
    let choices: Vec<String> = match d {
        Distribution::Categorical(c) => c.iter().map(|v| v.to_string()).collect(),
        _ => Vec::new(),
    };
    let mut chart = ChartBuilder::on(area)
        .caption(name, ("sans-serif", 20))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(60)
        .build_cartesian_2d(x_lo..x_hi, y.0..y.1)
        .map_err(err)?;
    let format_x = |x: &f64| -> String {
        if !choices.is_empty() {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 {
                return choices.get(i as usize).cloned().unwrap_or_default();
            }
            return String::new();
        }
        if log {
            format!("{:.1e}", 10f64.powf(*x))
        } else {
            format!("{x:.3}")
        }
    };
    chart
        .configure_mesh()
        .x_desc(if log {
            format!("{name} (log scale)")
        } else {
            name.to_string()
        })
        .y_desc("value")
        .x_label_formatter(&format_x)
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(err)?;
    let points = trials.iter().filter_map(|t| {
        let v = t.value.filter(|v| v.is_finite())?;
        let x = x_of(t.params.get(name)?)?;
        Some((t, x, v))
    });
    chart
        .draw_series(points.map(|(t, x, v)| Circle::new((x, v), 4, color_of(t).filled())))
        .map_err(err)?;
    Ok(())
}
