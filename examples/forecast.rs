//! Acquisition forecast: the Bass diffusion curve fitted to new customers per period.
//!
//! ```text
//! cargo run --release --example forecast -- bass FILE --column NAME \
//!     [--method nls|ols] [--horizon H] [--confidence 0.95] [--allow-nonconverged] --json
//! ```
//! FILE is a CSV with a period column `t` (1, 2, …; gaps allowed for nls) and a column
//! of new customers per period, named by `--column`. The JSON holds `method`, `n`,
//! `p, q, m`, `se {p, q, m}`, `sse`, `rmse` (√(SSE/n)), `peak_time`, `peak_rate`,
//! `peak_kind`, `iterations`, `converged`, `termination`, `confidence` and `forecast`:
//! for each of the next H periods `{t, sales, cumulative, low, high, cumulative_low,
//! cumulative_high}` with sales = m(F(t) − F(t − 1)), `low`/`high` a prediction
//! interval of the period's new customers (parameters and noise) and the cumulative
//! band a confidence interval of m F(t) (parameters only). With `--method ols` also the
//! regression's `a, b, c`, `se_a, se_b, se_c`, `rss` and `r2`. A bad file is an error
//! naming the line and field, with exit status 1; so is an nls fit that stopped at the
//! iteration cap instead of a minimum of the SSE (naming the file and the termination),
//! unless `--allow-nonconverged` (`converged` is then false).
//!
//! Nulls: `se.p`, `se.q`, `se.m` (and with them the forecast's `low`, `high`,
//! `cumulative_low`, `cumulative_high`) when the estimate's covariance matrix is singular
//! (or not positive definite), so the standard errors are undefined; `se_note` then says
//! so.

mod common;

use std::process::ExitCode;

use acrm::io::read_series_csv_path;
use acrm::prospecting::{BassMethod, BassOptions};
use clap::{Parser, Subcommand, ValueEnum};
use common::{outln, Stop};
use serde_json::{json, Value};

/// Acquisition forecasts.
#[derive(Parser)]
#[command(name = "forecast")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fits the Bass diffusion model to new customers per period and forecasts the
    /// periods after.
    Bass(BassArgs),
}

#[derive(clap::Args)]
struct BassArgs {
    /// CSV with a period column `t` and a column of new customers per period.
    #[arg(value_name = "FILE")]
    file: String,
    /// The column of new customers.
    #[arg(long, value_name = "NAME")]
    column: String,
    /// Nonlinear least squares (Srinivasan & Mason 1986) or Bass's 1969 regression.
    #[arg(long, value_enum, default_value = "nls")]
    method: Method,
    /// Periods to forecast after the last one in the file.
    #[arg(long, value_name = "H", default_value_t = 10)]
    horizon: u32,
    /// Confidence level of the forecast intervals.
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
    /// Print the JSON object on one line (pretty-printed without it).
    #[arg(long)]
    json: bool,
    /// Print a fit that stopped at the iteration cap instead of failing (its `converged`
    /// is false).
    #[arg(long)]
    allow_nonconverged: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Method {
    Nls,
    Ols,
}

fn bass(args: &BassArgs) -> Result<Value, Stop> {
    let series = read_series_csv_path(&args.file, "t", &args.column)
        .map_err(|e| format!("{}: {e}", args.file))?;
    let method = match args.method {
        Method::Nls => BassMethod::Nls,
        Method::Ols => BassMethod::Ols,
    };
    let fit = BassOptions::new()
        .method(method)
        .horizon(args.horizon)
        .confidence(args.confidence)
        .fit(&series)
        .map_err(|e| format!("{}: {e}", args.file))?;
    let (model, rep) = (&fit.model, &fit.report);
    common::converged(
        &args.file,
        "Bass",
        rep.termination.converged(),
        rep.termination,
        rep.iterations,
        args.allow_nonconverged,
    )?;
    let mut out = json!({
        "method": match method { BassMethod::Nls => "nls", BassMethod::Ols => "ols" },
        "column": args.column,
        "n": rep.n,
        "p": model.p(),
        "q": model.q(),
        "m": model.m(),
        "se": {"p": rep.std_errors.p, "q": rep.std_errors.q, "m": rep.std_errors.m},
        "sse": rep.sse,
        "rmse": rep.rmse,
        "peak_time": rep.peak.time,
        "peak_rate": rep.peak.rate,
        "peak_kind": rep.peak.kind,
        "iterations": rep.iterations,
        "converged": rep.termination.converged(),
        "termination": rep.termination,
        "confidence": rep.confidence,
        "forecast": rep.forecast,
    });
    let se = &rep.std_errors;
    if [se.p, se.q, se.m].iter().any(|s| !s.is_finite()) {
        out["se_note"] = json!(
            "the covariance matrix of the estimate is singular (or not positive definite): \
             the standard errors shown as null, and the bands built on them, are undefined"
        );
    }
    if let Some(r) = &rep.regression {
        for (k, v) in [
            ("a", r.a),
            ("b", r.b),
            ("c", r.c),
            ("se_a", r.se_a),
            ("se_b", r.se_b),
            ("se_c", r.se_c),
            ("rss", r.rss),
            ("r2", r.r2),
        ] {
            out[k] = json!(v);
        }
    }
    Ok(out)
}

fn main() -> ExitCode {
    let args = Args::parse();
    let Command::Bass(b) = &args.command;
    common::exit(bass(b).map(|v| {
        if b.json {
            outln!("{v}");
        } else {
            outln!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
    }))
}
