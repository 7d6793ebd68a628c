//! Lead scoring of a CSV: a logistic regression of the target column on every other
//! column, with categorical columns one-hot encoded against a reference level.
//!
//! ```text
//! cargo run --release --example leads -- FILE --target COLUMN [--id COLUMN] \
//!     [--categorical COL:REFERENCE ...] --json
//! ```
//! Every column other than the target and the id is a numeric feature, except the
//! `--categorical` ones: each becomes one indicator per level except the named reference
//! (`COL` alone: its first level in byte order), named `COL_LEVEL`. The JSON holds `n`,
//! `conversions`, `coefficients` (list of {name, coef, se, z, p}, the intercept named
//! `const` first), `llf`, `llnull`, `pseudo_r2`, `auc` (in sample), `deciles` (leads
//! ranked by score, highest first, in ten groups: {decile, leads, conversions, rate,
//! lift, cumulative_capture}), `calibration` (ten equal-width score bins: {lo, hi, leads,
//! mean_score, conversion_rate}), `iterations`, `read_ms` and `fit_ms`. Bad input is an
//! error naming the line and field, with a non-zero exit.
//!
//! Try it on the test data:
//! ```text
//! cargo run --release --example leads -- tests/data/prospecting/leads/leads.csv \
//!     --target converted --id lead_id --categorical source:web --categorical region --json
//! ```

mod common;

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::Table;
use acrm::prospecting::{LeadScoreOptions, LeadTable};
use clap::Parser;
use common::{outln, Stop};
use serde_json::json;

/// Lead scoring of a CSV (logistic regression with one-hot categorical features); prints
/// the fit, in-sample AUC, deciles and calibration as JSON.
#[derive(Parser)]
#[command(name = "leads", args_override_self = true)]
struct Args {
    /// A CSV with a header row, one lead per row.
    #[arg(value_name = "FILE")]
    file: String,
    /// The target column: 1 (or true) for a converted lead, 0 (or false) otherwise.
    #[arg(long, value_name = "COLUMN")]
    target: String,
    /// An id column (not a feature).
    #[arg(long, value_name = "COLUMN")]
    id: Option<String>,
    /// A categorical column and its reference level (`COL` alone: the first level in
    /// byte order); repeat for several.
    #[arg(long, value_name = "COL:REFERENCE", num_args = 1..)]
    categorical: Vec<String>,
    /// Print JSON (the only output; accepted as the documented usage has it).
    #[arg(long)]
    #[allow(dead_code)]
    json: bool,
}

fn run(args: &Args) -> Result<(), Stop> {
    let file = &args.file;
    let err = |e: acrm::Error| format!("{file}: {e}");
    let t0 = Instant::now();
    let table = Table::read_path(file).map_err(err)?;
    let categorical: Vec<(&str, Option<&str>)> = args
        .categorical
        .iter()
        .map(|c| match c.split_once(':') {
            Some((col, level)) => (col.trim(), Some(level.trim())),
            None => (c.trim(), None),
        })
        .collect();
    for (col, _) in &categorical {
        if !table.header().iter().any(|h| h == col) {
            return Err(format!(
                "{file}: --categorical: column `{col}` not in the header {:?}",
                table.header()
            )
            .into());
        }
    }
    let mut leads = LeadTable::new()
        .target(&args.target, table.flags(&args.target).map_err(err)?)
        .map_err(err)?;
    if let Some(id) = &args.id {
        leads = leads.id(id, table.text(id).map_err(err)?).map_err(err)?;
    }
    let mut options = LeadScoreOptions::new();
    for column in table.header() {
        if *column == args.target || Some(column) == args.id.as_ref() {
            continue;
        }
        match categorical.iter().find(|(c, _)| c == column) {
            Some((_, reference)) => {
                leads = leads
                    .categorical(column, table.text(column).map_err(err)?)
                    .map_err(err)?;
                if let Some(level) = reference {
                    options = options.reference(column, level);
                }
            }
            None => {
                leads = leads
                    .numeric(column, table.numbers(column).map_err(err)?)
                    .map_err(err)?;
            }
        }
    }
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let fit = options.fit(&leads).map_err(err)?;
    let fit_ms = t1.elapsed().as_secs_f64() * 1e3;
    let r = &fit.report;
    let out = json!({
        "n": r.rows,
        "conversions": r.conversions,
        "coefficients": r.coefficients.iter().map(|c| json!({
            "name": c.name, "coef": c.coef, "se": c.se, "z": c.z, "p": c.p,
        })).collect::<Vec<_>>(),
        "llf": r.log_likelihood,
        "llnull": r.null_log_likelihood,
        "pseudo_r2": r.pseudo_r2,
        "auc": r.auc,
        "deciles": r.deciles.iter().map(|d| json!({
            "decile": d.decile, "leads": d.customers, "conversions": d.positives,
            "rate": d.rate, "lift": d.lift, "cumulative_capture": d.cumulative_capture,
        })).collect::<Vec<_>>(),
        "calibration": r.calibration.iter().map(|b| json!({
            "lo": b.lo, "hi": b.hi, "leads": b.count, "mean_score": b.mean_predicted,
            "conversion_rate": b.observed_rate,
        })).collect::<Vec<_>>(),
        "iterations": r.iterations,
        "read_ms": read_ms,
        "fit_ms": fit_ms,
    });
    outln!("{out}");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::exit(run(&args))
}
