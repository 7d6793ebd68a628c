//! Cox proportional-hazards regression of a CSV with duration, event and covariate
//! columns.
//!
//! ```text
//! cargo run --release --example cox -- FILE --duration COL --event COL \
//!     --covariates A,B,C [--ties efron|breslow] [--at T1,T2,..] --json
//! ```
//! `--json` prints `covariates` (name → {coef, se, hazard_ratio, hazard_ratio_lo,
//! hazard_ratio_hi, z, p}), `partial_log_likelihood`, `null_log_likelihood`,
//! `concordance`, `rows`, `events`, `ties`, `iterations`, `read_ms` and `elapsed_ms`
//! (the fit alone), and with `--at` `baseline_survival_at` ({t, s} per time: Breslow's
//! baseline survival at the covariate means). Used by
//! benches/compare/survival_vs_lifelines.py.
//!
//! Nulls: `covariates.NAME.hazard_ratio`, `hazard_ratio_lo` or `hazard_ratio_hi` when
//! exp of the coefficient (or of its interval bound) overflows a double, as a
//! coefficient near separation does on small data; `covariates.NAME.hazard_ratio_note`
//! then says so.

mod common;

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::Table;
use acrm::ndarray::Array2;
use acrm::persistency::{CoxOptions, SurvivalData, Ties};
use acrm::Fitted;
use clap::{Parser, ValueEnum};
use common::{outln, Stop};
use serde_json::{json, Map};

/// Cox proportional-hazards regression of a CSV with duration, event and covariate
/// columns; prints the fit as JSON.
///
/// JSON keys: `covariates` (name → {coef, se, hazard_ratio, hazard_ratio_lo,
/// hazard_ratio_hi, z, p}), `partial_log_likelihood`, `null_log_likelihood`,
/// `concordance`, `rows`, `events`, `ties`, `iterations`, `read_ms` and `elapsed_ms` (the
/// fit alone), and with --at `baseline_survival_at` ({t, s} per time).
#[derive(Parser)]
#[command(name = "cox", args_override_self = true)]
struct Args {
    /// A CSV with a header row.
    #[arg(value_name = "FILE")]
    file: String,
    /// The duration column (numbers).
    #[arg(long, value_name = "COL")]
    duration: String,
    /// The event column: 1 (or true) for an event, 0 (or false) for a censored row.
    #[arg(long, value_name = "COL")]
    event: String,
    /// Covariate columns (numbers), comma-separated.
    #[arg(long, value_name = "A,B,C", required = true, value_delimiter = ',', value_parser = trimmed)]
    covariates: Vec<String>,
    /// How tied event times are handled.
    #[arg(long, value_enum, default_value = "efron")]
    ties: TieMethod,
    /// Times at which to report Breslow's baseline survival at the covariate means,
    /// comma-separated.
    #[arg(
        long,
        value_name = "T1,T2,..",
        value_delimiter = ',',
        value_parser = time,
        allow_negative_numbers = true
    )]
    at: Vec<f64>,
    /// Print JSON (the only output; accepted as the documented usage has it).
    #[arg(long)]
    #[allow(dead_code)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TieMethod {
    /// Efron's approximation.
    Efron,
    /// Breslow's approximation.
    Breslow,
}

/// A column name without surrounding spaces.
fn trimmed(s: &str) -> Result<String, String> {
    Ok(s.trim().to_string())
}

/// A finite time.
fn time(t: &str) -> Result<f64, String> {
    t.trim()
        .parse::<f64>()
        .ok()
        .filter(|t| t.is_finite())
        .ok_or(format!("{t:?} is not a time"))
}

fn run(args: &Args) -> Result<(), Stop> {
    let (file, duration, event, covariates) =
        (&args.file, &args.duration, &args.event, &args.covariates);
    let ties = match args.ties {
        TieMethod::Efron => Ties::Efron,
        TieMethod::Breslow => Ties::Breslow,
    };
    let err = |e: acrm::Error| format!("{file}: {e}");
    let t0 = Instant::now();
    let table = Table::read_path(file).map_err(err)?;
    let data = SurvivalData::new(
        table.numbers(duration).map_err(err)?,
        table.flags(event).map_err(err)?,
    )
    .map_err(err)?;
    let mut x = Array2::zeros((table.len(), covariates.len()));
    for (j, c) in covariates.iter().enumerate() {
        for (i, v) in table.numbers(c).map_err(err)?.into_iter().enumerate() {
            x[[i, j]] = v;
        }
    }
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let Fitted { model, report } = CoxOptions::new()
        .ties(ties)
        .fit(&data, x.view(), covariates)
        .map_err(err)?;
    let elapsed_ms = t1.elapsed().as_secs_f64() * 1e3;
    let mut table_out = Map::new();
    for c in &report.coefficients {
        let mut row = json!({"coef": c.coef, "se": c.se, "hazard_ratio": c.hazard_ratio,
               "hazard_ratio_lo": c.hazard_ratio_lo, "hazard_ratio_hi": c.hazard_ratio_hi,
               "z": c.z, "p": c.p});
        if [c.hazard_ratio, c.hazard_ratio_lo, c.hazard_ratio_hi]
            .iter()
            .any(|h| !h.is_finite())
        {
            row["hazard_ratio_note"] =
                json!("exp of the coefficient or of its interval bound overflows a double");
        }
        table_out.insert(c.name.clone(), row);
    }
    let baseline = model
        .baseline()
        .ok_or_else(|| format!("{file}: the fit returned no baseline"))?;
    let baseline_at: Vec<_> = args
        .at
        .iter()
        .map(|&t| json!({"t": t, "s": (-baseline.cumulative_hazard_at(t)).exp()}))
        .collect();
    let mut out = json!({
        "covariates": table_out,
        "partial_log_likelihood": report.partial_log_likelihood,
        "null_log_likelihood": report.null_log_likelihood,
        "concordance": report.concordance,
        "rows": report.rows,
        "events": report.events,
        "ties": match report.ties { Ties::Efron => "efron", Ties::Breslow => "breslow" },
        "iterations": report.fit.iterations,
        "read_ms": read_ms,
        "elapsed_ms": elapsed_ms,
    });
    if !args.at.is_empty() {
        out["baseline_survival_at"] = baseline_at.into();
    }
    outln!("{out}");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::exit(run(&args))
}
