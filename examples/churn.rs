//! Supervised churn scores: features from the calibration period, "no purchase in the
//! holdout period" as the label, a logistic regression (default) or a random forest,
//! evaluated on a seeded 30% of customers held out from training.
//!
//! ```text
//! cargo run --release --example churn -- --format cdnow|csv FILE \
//!     --calibration-end DATE --holdout-end DATE --json \
//!     [--method logistic|forest] [--no-model] [--svg DIR]
//! ```
//! Unless `--no-model`, a BG/NBD model fitted on the calibration period adds P(alive)
//! and expected holdout purchases as features. `--json` prints `auc`, `pr_auc`,
//! `top_decile_lift`, `brier`, the counts used (`customers`, `churners`, `train_rows`,
//! `test_rows`), `churn_rate`, `method`, `features`, `constant_features`, `deciles`,
//! `reliability` and `elapsed_ms`. `--svg DIR` writes `cohorts.svg`, the monthly cohort
//! retention heat map (share of each acquisition cohort buying in each month since).

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::CsvOptions;
use acrm::persistency::{
    BgNbd, ChurnFeatures, ChurnMethod, ChurnOptions, CohortOptions, CohortTable, FitOptions,
};
use acrm::summary::PurchaseModel;
use acrm::{Days, SummaryOptions, Weeks};
use chrono::NaiveDate;
use plotters::prelude::*;
use serde_json::json;

const USAGE: &str = "usage: churn --format cdnow|csv FILE --calibration-end YYYY-MM-DD \
--holdout-end YYYY-MM-DD --json [--method logistic|forest] [--no-model] [--svg DIR]";

fn run() -> Result<(), String> {
    let mut it = std::env::args().skip(1);
    let (mut format, mut file, mut cal, mut end, mut svg) = (None, None, None, None, None);
    let (mut method, mut with_model, mut json_out) = (ChurnMethod::Logistic, true, false);
    let date = |name: &str, v: Option<String>| -> Result<NaiveDate, String> {
        let v = v.ok_or(format!("{name} needs a value"))?;
        NaiveDate::parse_from_str(&v, "%Y-%m-%d").map_err(|e| format!("{name} {v:?}: {e}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--format" => format = it.next(),
            "--calibration-end" => cal = Some(date("--calibration-end", it.next())?),
            "--holdout-end" => end = Some(date("--holdout-end", it.next())?),
            "--method" => {
                method = match it.next().as_deref() {
                    Some("logistic") => ChurnMethod::Logistic,
                    Some("forest") => ChurnMethod::Forest,
                    other => return Err(format!("--method {other:?}: use logistic or forest")),
                }
            }
            "--no-model" => with_model = false,
            "--svg" => svg = Some(it.next().ok_or("--svg needs a directory")?),
            "--json" => json_out = true,
            "-h" | "--help" => return Err(USAGE.into()),
            f if !f.starts_with("--") && file.is_none() => file = Some(f.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let file = file.ok_or(format!("FILE is required\n{USAGE}"))?;
    let options = match format.as_deref() {
        Some("cdnow") => CsvOptions::cdnow_master(),
        Some("csv") => CsvOptions::new(),
        other => return Err(format!("--format {other:?}: use cdnow or csv\n{USAGE}")),
    };
    let cal = cal.ok_or("--calibration-end is required")?;
    let end = end.ok_or("--holdout-end is required")?;
    let e = |e: acrm::Error| format!("{file}: {e}");
    let data = options.read_path(&file).map_err(e)?.dataset;
    let t0 = Instant::now();
    let split_opts = SummaryOptions::new(cal).holdout_end(end);
    let split = split_opts.split::<Days>(&data).map_err(e)?;
    let churned: Vec<bool> = split.holdout.purchases.iter().map(|&p| p == 0).collect();
    let (p_alive, expected): (Vec<f64>, Vec<f64>) = if with_model {
        let weeks = split_opts.split::<Weeks>(&data).map_err(e)?;
        let (model, _) =
            BgNbd::fit(&weeks.calibration.compact().patterns, &FitOptions::new()).map_err(e)?;
        let h = weeks.holdout.length().value();
        let records = weeks.calibration.records();
        let p = model.p_alive_all(&records);
        let x = records
            .iter()
            .map(|r| model.conditional_expected_purchases(h, r.x, r.t_x, r.t))
            .collect();
        (p, x)
    } else {
        (Vec::new(), Vec::new())
    };
    let extra: Vec<(&str, &[f64])> = if with_model {
        vec![
            ("p_alive", &p_alive),
            ("expected_holdout_purchases", &expected),
        ]
    } else {
        Vec::new()
    };
    let features = ChurnFeatures::from_summary(&data, &split.calibration, &extra).map_err(e)?;
    let (_, report) = ChurnOptions::new()
        .method(method)
        .fit(&features, &churned)
        .map_err(e)?;
    let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;
    if let Some(dir) = &svg {
        let table = CohortOptions::new(cal).compute(&data).map_err(e)?;
        std::fs::create_dir_all(dir).map_err(|err| format!("{dir}: {err}"))?;
        let path = format!("{dir}/cohorts.svg");
        plot_cohorts(&table, &path).map_err(|err| format!("{path}: {err}"))?;
    }
    let ev = &report.evaluation;
    let out = json!({
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
    if json_out {
        println!("{out}");
    } else {
        println!(
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
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
