//! How well BG/NBD predicts a holdout period: the scorecard as JSON and the weekly
//! cumulative tracking plot (Fader, Hardie & Lee 2005, figure 2) as SVG.
//!
//! ```text
//! cargo run --release --example holdout -- [--format cdnow|csv FILE] [--calibration-end DATE] \
//!     [--holdout-end DATE] [--svg tracking.svg] [--json] [--allow-nonconverged]
//! ```
//! Without FILE, the CDNOW sample bundled in tests/data (calibration to 1997-09-30,
//! holdout to 1998-06-30). `--format csv` reads `customer_id,date,amount`. `--json`
//! prints `customers`, `params`, `mae`, `rmse`, `bias`, `correlation`, `predicted_total`,
//! `actual_total`, `by_frequency` and `tracking` ({week, date, predicted, actual}). A
//! BG/NBD fit that stops at the iteration cap instead of a maximum of the likelihood is
//! an error (status 1) naming the file and the termination, unless
//! `--allow-nonconverged`.

mod common;

use std::process::ExitCode;

use acrm::io::CsvOptions;
use acrm::persistency::{BgNbd, FitOptions, Scorecard, Tracking};
use acrm::{Fitted, Scope, SplitOptions, Weeks};
use chrono::NaiveDate;
use clap::{Parser, ValueEnum};
use common::{outln, Stop};
use plotters::prelude::*;
use serde_json::json;

/// How well BG/NBD predicts a holdout period: fits the calibration period, prints the
/// scorecard as JSON and can plot the weekly cumulative tracking series (Fader, Hardie &
/// Lee 2005, figure 2) as SVG.
///
/// JSON keys: `customers`, `params`, `horizon_weeks`, `mae`, `rmse`, `bias`,
/// `correlation`, `predicted_total`, `actual_total`, `by_frequency` and `tracking`
/// ({week, date, predicted, actual}).
#[derive(Parser)]
#[command(name = "holdout", args_override_self = true)]
struct Args {
    /// Format of FILE (required with FILE): cdnow is CDNOW_master.txt's layout, csv
    /// `customer_id,date,amount`. Without FILE: the CDNOW sample bundled in tests/data.
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// A transaction log; without it, the CDNOW sample bundled in tests/data.
    #[arg(value_name = "FILE", requires = "format")]
    file: Option<String>,
    /// Last day of the calibration period.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "1997-09-30", value_parser = date)]
    calibration_end: NaiveDate,
    /// Last day of the holdout period.
    #[arg(long, value_name = "YYYY-MM-DD", default_value = "1998-06-30", value_parser = date)]
    holdout_end: NaiveDate,
    /// Write the tracking plot (predicted and actual cumulative purchases by week) here.
    #[arg(long, value_name = "tracking.svg")]
    svg: Option<String>,
    /// Print the JSON object on one line (pretty-printed without it).
    #[arg(long)]
    json: bool,
    /// Score a fit that stopped at the iteration cap instead of failing.
    #[arg(long)]
    allow_nonconverged: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Whitespace-separated `customer_id date number_of_cds dollar_value`, dates
    /// `YYYYMMDD` (CDNOW_master.txt).
    Cdnow,
    /// Comma-separated with a header `customer_id,date,amount`.
    Csv,
}

fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| format!("{s:?}: {e}"))
}

/// The tracking series, predicted (line) against actual (line), with the calibration end.
fn plot(track: &Tracking, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (900, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let last_t = track.t.last().copied().unwrap_or(1.0);
    let top = track
        .actual
        .iter()
        .chain(&track.predicted)
        .fold(1.0f64, |m, v| m.max(*v));
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Cumulative repeat purchases: BG/NBD vs actual",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..last_t, 0.0..top * 1.05)?;
    chart
        .configure_mesh()
        .x_desc("weeks since the first purchase of the cohort")
        .y_desc("cumulative repeat purchases")
        .draw()?;
    let series =
        |v: &[f64]| -> Vec<(f64, f64)> { track.t.iter().copied().zip(v.iter().copied()).collect() };
    chart
        .draw_series(LineSeries::new(
            series(&track.actual),
            BLACK.stroke_width(2),
        ))?
        .label("actual")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    chart
        .draw_series(LineSeries::new(
            series(&track.predicted),
            RED.stroke_width(2),
        ))?
        .label("BG/NBD")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], RED));
    // The calibration end: the first point dated after it starts the holdout.
    if let Some(k) = track.dates.iter().position(|d| *d > track.calibration_end) {
        let x = track.t[k];
        chart.draw_series(LineSeries::new(
            vec![(x, 0.0), (x, top * 1.05)],
            BLUE.mix(0.5),
        ))?;
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .draw()?;
    root.present()?;
    Ok(())
}

fn run(args: &Args) -> Result<serde_json::Value, Stop> {
    let (cal, hold) = (args.calibration_end, args.holdout_end);
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cdnow/CDNOW_sample.txt"
    );
    let options = match (args.format, &args.file) {
        (None | Some(Format::Cdnow), None) => CsvOptions::cdnow_sample(),
        (Some(Format::Cdnow), Some(_)) => CsvOptions::cdnow_master(),
        (Some(Format::Csv), _) => CsvOptions::new(),
        (None, Some(_)) => return Err(Stop::usage("--format is required with FILE")),
    };
    let path = args.file.as_deref().unwrap_or(sample);
    let e = |e: acrm::Error| format!("{path}: {e}");
    let data = options.read_path(path).map_err(e)?.dataset;
    let all = data.view(&Scope::all());
    let split = SplitOptions::new(cal, hold)
        .compute::<Weeks>(&all)
        .map_err(e)?;
    let Fitted { model: bg, report } = FitOptions::new()
        .fit::<BgNbd>(&split.calibration.compact())
        .map_err(e)?;
    common::converged(
        path,
        "bgnbd",
        report.termination.converged(),
        report.termination,
        report.iterations,
        args.allow_nonconverged,
    )?;
    let horizon = split.holdout.length().value();
    let card = Scorecard::compute(&bg, &split).map_err(e)?;
    let track = Tracking::compute(&bg, &all, &split).map_err(e)?;
    if let Some(p) = &args.svg {
        plot(&track, p).map_err(|err| format!("{p}: {err}"))?;
    }
    let [r, alpha, a, b] = bg.params();
    let tracking: Vec<_> = (0..track.t.len())
        .map(|k| {
            json!({"week": track.t[k], "date": track.dates[k].to_string(),
                   "predicted": track.predicted[k], "actual": track.actual[k]})
        })
        .collect();
    Ok(json!({
            "customers": card.customers,
            "params": {"r": r, "alpha": alpha, "a": a, "b": b},
            "horizon_weeks": horizon,
            "mae": card.mae,
            "rmse": card.rmse,
            "bias": card.bias,
            "correlation": card.correlation,
            "predicted_total": card.predicted_total,
            "actual_total": card.actual_total,
            "by_frequency": card.by_frequency,
            "tracking": tracking,
    }))
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::exit(run(&args).map(|v| {
        if args.json {
            outln!("{v}");
        } else {
            outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
    }))
}
