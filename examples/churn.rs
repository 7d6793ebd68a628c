//! Supervised churn scores: features from the calibration period, "no purchase in the
//! holdout period" as the label, a logistic regression (default) or a random forest,
//! evaluated on a seeded 30% of customers held out from training.
//!
//! ```text
//! cargo run --release --example churn -- --format cdnow|csv FILE \
//!     --calibration-end DATE --holdout-end DATE --json \
//!     [--method logistic|forest] [--no-model] [--allow-nonconverged] [--svg DIR] \
//!     [--customers CUSTOMERS.csv --scope owner:ID|team:ID|branch:ID|all [--as-of-scope DATE]] \
//!     [--hide-columns cost,margin]
//! ```
//! Unless `--no-model`, a BG/NBD model fitted on the calibration period adds P(alive)
//! and expected holdout purchases as features; a BG/NBD fit that stops at the iteration
//! cap instead of a maximum of the likelihood is an error (status 1) naming the file and
//! the termination, unless `--allow-nonconverged`. `--json` prints `auc`, `pr_auc`,
//! `top_decile_lift`, `brier`, the counts used (`customers`, `churners`, `train_rows`,
//! `test_rows`), `churn_rate`, `method`, `features`, `constant_features`, `deciles`,
//! `reliability` and `elapsed_ms`. `--svg DIR` writes `cohorts.svg`, the monthly cohort
//! retention heat map (share of each acquisition cohort buying in each month since).
//! With a scope the model is fitted and evaluated on its customers only, and the JSON
//! gains `scope` ({kind, id, customers}).

mod common;

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::CsvOptions;
use acrm::persistency::{
    BgNbd, ChurnFeatureOptions, ChurnMethod, ChurnOptions, CohortOptions, CohortTable,
};
use acrm::summary::PurchaseModel;
use acrm::{Days, FitOptions, Fitted, SplitOptions, Weeks};
use chrono::NaiveDate;
use clap::{Parser, ValueEnum};
use common::{outln, Stop};
use plotters::prelude::*;
use serde_json::json;

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Method {
    Logistic,
    Forest,
}

/// Supervised churn scores: calibration features, "no purchase in the holdout" labels.
#[derive(Parser, Debug)]
#[command(name = "churn")]
struct Args {
    /// Input layout: `cdnow` (CDNOW_master.txt) or `csv`
    #[arg(long, value_name = "cdnow|csv")]
    format: String,
    /// Last day of the calibration period (inclusive)
    #[arg(long = "calibration-end", value_name = "YYYY-MM-DD", value_parser = common::date)]
    calibration_end: NaiveDate,
    /// Last day of the holdout period (inclusive)
    #[arg(long = "holdout-end", value_name = "YYYY-MM-DD", value_parser = common::date)]
    holdout_end: NaiveDate,
    /// The classifier
    #[arg(long, value_enum, default_value = "logistic")]
    method: Method,
    /// Leave BG/NBD's P(alive) and expected purchases out of the features
    #[arg(long = "no-model")]
    no_model: bool,
    /// Use the BG/NBD features even when its fit stopped at the iteration cap
    #[arg(long)]
    allow_nonconverged: bool,
    /// Write `cohorts.svg` (monthly cohort retention) into this directory
    #[arg(long, value_name = "DIR")]
    svg: Option<String>,
    /// Print one JSON object (otherwise a one-line summary)
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    scope: common::ScopeArgs,
    /// The transaction file
    file: String,
}

fn run() -> Result<(), Stop> {
    let args = Args::parse();
    let options = match args.format.as_str() {
        "cdnow" => CsvOptions::cdnow_master(),
        "csv" => CsvOptions::new(),
        other => return Err(Stop::usage(format!("--format {other:?}: use cdnow or csv"))),
    };
    let file = &args.file;
    let e = |e: acrm::Error| format!("{file}: {e}");
    let mut data = options.read_path(file).map_err(e)?.dataset;
    let scope = args.scope.resolve(&mut data, options.ids_are_numeric())?;
    let view = data.view(&scope);
    let t0 = Instant::now();
    let split_opts = SplitOptions::new(args.calibration_end, args.holdout_end);
    let split = split_opts.compute::<Days>(&view).map_err(e)?;
    let churned: Vec<bool> = split.holdout.purchases.iter().map(|&p| p == 0).collect();
    let mut features = ChurnFeatureOptions::new()
        .compute(&view, &split.calibration)
        .map_err(e)?;
    if !args.no_model {
        // BG/NBD in weeks on the same customers: P(alive) and expected holdout purchases.
        let weeks = split_opts.compute::<Weeks>(&view).map_err(e)?;
        let Fitted { model, report } = FitOptions::new()
            .fit::<BgNbd>(&weeks.calibration.compact())
            .map_err(e)?;
        common::converged(
            file,
            "BG/NBD (features)",
            report.termination.converged(),
            report.termination,
            report.iterations,
            args.allow_nonconverged,
        )?;
        let h = weeks.holdout.length().value();
        let records = weeks.calibration.records();
        let p_alive = model.p_alive_all(&records);
        let expected: Vec<f64> = records
            .iter()
            .map(|r| model.conditional_expected_purchases(h, r.x, r.t_x, r.t))
            .collect();
        features = features
            .with_column("p_alive", &p_alive)
            .and_then(|f| f.with_column("expected_holdout_purchases", &expected))
            .map_err(e)?;
    }
    let method = match args.method {
        Method::Logistic => ChurnMethod::Logistic,
        Method::Forest => ChurnMethod::Forest,
    };
    let report = ChurnOptions::new()
        .method(method)
        .fit(&features, &churned)
        .map_err(e)?
        .report;
    let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;
    if let Some(dir) = &args.svg {
        let table = CohortOptions::new(args.calibration_end)
            .compute(&view)
            .map_err(e)?;
        std::fs::create_dir_all(dir).map_err(|err| format!("{dir}: {err}"))?;
        let path = format!("{dir}/cohorts.svg");
        plot_cohorts(&table, &path).map_err(|err| format!("{path}: {err}"))?;
    }
    let ev = &report.evaluation;
    let mut out = json!({
        "auc": ev.auc,
        "pr_auc": ev.pr_auc,
        "top_decile_lift": ev.top_decile_lift,
        "brier": ev.brier,
        "customers": features.len(),
        "churners": churned.iter().filter(|&&c| c).count(),
        "train_rows": report.train_rows,
        "test_rows": report.test_rows,
        "churn_rate": report.churn_rate,
        "method": match method { ChurnMethod::Logistic => "logistic", ChurnMethod::Forest => "forest" },
        "features": features.names,
        "constant_features": report.constant_features,
        "deciles": ev.deciles,
        "reliability": ev.reliability,
        "elapsed_ms": elapsed_ms,
    });
    if args.scope.given() {
        out["scope"] = common::scope_json(&view);
    }
    if args.json {
        outln!("{out}");
    } else {
        outln!(
            "{} churn model on {} customers ({:.1}% churned): held-out AUC {:.3}, PR AUC {:.3}, \
             top-decile lift {:.2}, Brier {:.4}",
            out["method"],
            features.len(),
            100.0 * report.churn_rate,
            ev.auc,
            ev.pr_auc,
            ev.top_decile_lift,
            ev.brier
        );
    }
    Ok(())
}

/// Acquisition cohorts (rows) × months since acquisition (columns), shaded by the share
/// of the cohort buying in that month.
fn plot_cohorts(table: &CohortTable, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let rows = table.cohorts.len();
    let cols = table
        .cohorts
        .iter()
        .map(|c| c.active.len())
        .max()
        .unwrap_or(1);
    let root = SVGBackend::new(path, (900, 120 + 18 * rows as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Share of each acquisition cohort buying, by month since acquisition",
            ("sans-serif", 18),
        )
        .margin(15)
        .x_label_area_size(35)
        .y_label_area_size(80)
        .build_cartesian_2d(0.0..cols as f64, 0.0..rows as f64)?;
    let labels: Vec<String> = table
        .cohorts
        .iter()
        .map(|c| c.start.format("%Y-%m").to_string())
        .collect();
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("months since acquisition")
        .y_labels(rows.min(30))
        .y_label_formatter(&|y| {
            labels
                .get(rows.saturating_sub(1 + *y as usize))
                .cloned()
                .unwrap_or_default()
        })
        .draw()?;
    for (r, cohort) in table.cohorts.iter().enumerate() {
        let y = (rows - 1 - r) as f64;
        for (k, &share) in cohort.active_share.iter().enumerate() {
            // Month 0 is 100% by construction; shade the rest on their own scale.
            let v = if k == 0 { 1.0 } else { (share / 0.3).min(1.0) };
            let shade = 1.0 - v;
            let colour = RGBColor(
                (40.0 + 215.0 * shade) as u8,
                (90.0 + 165.0 * shade) as u8,
                (160.0 + 95.0 * shade) as u8,
            );
            chart.draw_series(std::iter::once(Rectangle::new(
                [(k as f64, y), (k as f64 + 1.0, y + 1.0)],
                colour.filled(),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
