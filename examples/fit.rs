//! Fits a purchase or spend model to a per-customer summary file.
//!
//! ```text
//! cargo run --release --example fit -- --model bgnbd|mbgnbd|pnbd|gg|bgbb|sbg FILE --json \
//!     [--predict-horizon T --out predictions.csv] [--allow-nonconverged]
//! ```
//! FILE is a summary CSV `ID,x,t_x,T[,zbar]` (or lifetimes' `frequency,recency,T,
//! monetary_value`) for bgnbd, mbgnbd, pnbd and gg; `frequency,recency,periods[,weights]`
//! for bgbb; `period,alive` or `cohort,period,alive` for sbg. `--json` prints one object
//! with `model`, `params`, `log_likelihood` (in the file's time unit), `std_errors`,
//! `iterations`, `converged`, `customers` and `elapsed_ms` (the fit alone; `read_ms` is
//! the file). `--out` writes `id,p_alive,expected_purchases` per customer over the next
//! `--predict-horizon` time units (gg: `id,expected_spend`; bgbb: over the next T
//! opportunities; sbg: `period,survival,retention_rate`).
//!
//! Nulls, each with its reason:
//! - `std_errors.NAME`: the information matrix is singular (or not positive definite) at
//!   the estimate, so that standard error is undefined; `std_errors_note` then says so
//!   (the key is there only when some standard error is null);
//! - `expected_lifetime` (sbg): infinite, when α ≤ 1; `expected_lifetime_infinite` is
//!   then true (the key is always there for sbg);
//! - `expected_spend` (gg): infinite, when q ≤ 1; `expected_spend_infinite` is then true
//!   (always there for gg);
//! - `spend_frequency_correlation` (gg): undefined with fewer than two repeat buyers, or
//!   when their purchase counts or their mean spends are all equal;
//!   `spend_frequency_correlation_note` then says which.
//!
//! A fit that stops at the iteration cap instead of a maximum of the likelihood is an
//! error (status 1) naming the file, the model and the termination, unless
//! `--allow-nonconverged`: then the JSON is printed with `converged` false (and `--out`
//! written). Bad usage (`--out` without the `--predict-horizon` the model needs, a
//! fractional horizon for bgbb or sbg) exits with status 2; a bad file or a failed fit
//! with status 1 and a message naming the file.

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use acrm::io::{
    read_cohorts_csv_path, read_discrete_patterns_csv_path, read_summary_csv_path, SummaryTable,
};
use acrm::numerics::{FitReport, Fitted};
use acrm::persistency::{
    BgBb, BgNbd, Cohort, DiscretePattern, FitOptions, MbgNbd, ParetoNbd, ShiftedBetaGeometric,
};
use acrm::profitability::{spend_frequency_correlation, GammaGamma};
use acrm::summary::{score, Compact, PurchaseModel};
use acrm::Weeks;
use clap::{Parser, ValueEnum};
use common::{outln, Stop};
use serde_json::{json, Map, Value};

/// Fits a purchase or spend model to a per-customer summary file and prints the fit as
/// JSON.
///
/// Keys: `model`, `params`, `log_likelihood` (in the file's time unit), `std_errors`,
/// `iterations`, `converged`, `termination`, `customers`, `elapsed_ms` (the fit alone),
/// and by model `read_ms` (the file), `patterns`, `predict_ms`, `repeat_buyers`,
/// `spend_frequency_correlation`, `expected_spend`, `cohorts`, `expected_lifetime`, and
/// the notes and flags of the nulls (see the module's documentation).
#[derive(Parser)]
#[command(name = "fit", args_override_self = true)]
struct Args {
    /// The model to fit.
    #[arg(long, value_enum)]
    model: Model,
    /// Input CSV: a summary `ID,x,t_x,T[,zbar]` (the spend column may be `mean_spend`, as `summarize --out` writes it; or lifetimes'
    /// `frequency,recency,T,monetary_value`) for bgnbd, mbgnbd, pnbd and gg;
    /// `frequency,recency,periods[,weights]` for bgbb; `period,alive` or
    /// `cohort,period,alive` for sbg.
    #[arg(value_name = "FILE")]
    file: String,
    /// Print the JSON object on one line (pretty-printed without it).
    #[arg(long)]
    json: bool,
    /// Horizon of the predictions written by --out: time units of the file (bgnbd,
    /// mbgnbd, pnbd; required), opportunities (bgbb; a whole number, required) or the
    /// last period (sbg; default: the longest cohort's). Unused by gg.
    #[arg(long, value_name = "T", value_parser = horizon)]
    predict_horizon: Option<f64>,
    /// Write predictions as CSV: `id,p_alive,expected_purchases` per customer over the
    /// next T time units (bgbb: per row of FILE over the next T opportunities), gg:
    /// `id,expected_spend`, sbg: `period,survival,retention_rate` for periods 1 to T.
    #[arg(long, value_name = "predictions.csv")]
    out: Option<String>,
    /// Print (and write with --out) a fit that stopped at the iteration cap instead of
    /// failing; its JSON says `"converged": false`.
    #[arg(long)]
    allow_nonconverged: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Model {
    /// BG/NBD (Fader, Hardie & Lee 2005).
    Bgnbd,
    /// MBG/NBD (Batislam et al. 2007).
    Mbgnbd,
    /// Pareto/NBD (Schmittlein et al. 1987).
    Pnbd,
    /// Gamma-Gamma spend (needs a zbar, mean_spend or monetary_value column).
    Gg,
    /// BG/BB, discrete opportunities.
    Bgbb,
    /// Shifted-beta-geometric retention of cohorts.
    Sbg,
}

impl Model {
    /// The name on the command line and in the JSON.
    fn name(self) -> &'static str {
        match self {
            Model::Bgnbd => "bgnbd",
            Model::Mbgnbd => "mbgnbd",
            Model::Pnbd => "pnbd",
            Model::Gg => "gg",
            Model::Bgbb => "bgbb",
            Model::Sbg => "sbg",
        }
    }
}

/// A prediction horizon: a finite number ≥ 0.
fn horizon(v: &str) -> Result<f64, String> {
    let h: f64 = v.parse().map_err(|_| format!("{v:?} is not a number"))?;
    if h >= 0.0 && h.is_finite() {
        Ok(h)
    } else {
        Err(format!("{v} must be ≥ 0"))
    }
}

/// Parameters or standard errors as a JSON object keyed by parameter name.
fn named(names: &[String], values: &[f64]) -> Value {
    let mut m = Map::new();
    for (n, v) in names.iter().zip(values) {
        m.insert(n.clone(), json!(v));
    }
    Value::Object(m)
}

/// The fit's common keys, once it is known to have converged (or allowed not to).
fn report_json(
    args: &Args,
    params: &[f64],
    report: &FitReport,
    customers: usize,
) -> Result<Value, Stop> {
    let model = args.model.name();
    common::converged(
        &args.file,
        model,
        report.termination.converged(),
        report.termination,
        report.iterations,
        args.allow_nonconverged,
    )?;
    let mut out = json!({
        "model": model,
        "params": named(&report.names, params),
        "log_likelihood": report.log_likelihood,
        "std_errors": named(&report.names, &report.std_errors),
        "iterations": report.iterations,
        "converged": report.termination.converged(),
        "termination": format!("{:?}", report.termination),
        "customers": customers,
    });
    if report.std_errors.iter().any(|s| !s.is_finite()) {
        out["std_errors_note"] = json!(common::SINGULAR_NOTE);
    }
    Ok(out)
}

/// A figure that may be infinite: the number (null when infinite) and `KEY_infinite`.
fn maybe_infinite(out: &mut Value, key: &str, v: f64) {
    out[key] = json!(v);
    out[format!("{key}_infinite")] = json!(v.is_infinite());
}

fn write_csv(path: &str, header: &str, rows: impl Iterator<Item = String>) -> Result<(), Stop> {
    let f = File::create(path).map_err(|e| format!("{path}: {e}"))?;
    let mut w = BufWriter::new(f);
    let mut put = |s: &str| {
        w.write_all(s.as_bytes())
            .map_err(|e| format!("{path}: {e}"))
    };
    put(header)?;
    put("\n")?;
    for r in rows {
        put(&r)?;
        put("\n")?;
    }
    w.flush().map_err(|e| format!("{path}: {e}"))?;
    Ok(())
}

/// Fits one of the purchase models on the table's compact patterns.
fn fit_purchases(args: &Args, table: &SummaryTable) -> Result<Value, Stop> {
    let patterns = Compact::<Weeks>::from_records(&table.records).patterns;
    let opts = FitOptions::new();
    let start = Instant::now();
    let e = |e: acrm::Error| format!("{}: {e}", args.file);
    let (params, report, model): (Vec<f64>, FitReport, Box<dyn PurchaseModel>) = match args.model {
        Model::Bgnbd => {
            let Fitted { model, report } = opts.fit::<BgNbd>(&patterns).map_err(e)?;
            (model.params().to_vec(), report, Box::new(model))
        }
        Model::Mbgnbd => {
            let Fitted { model, report } = opts.fit::<MbgNbd>(&patterns).map_err(e)?;
            (model.params().to_vec(), report, Box::new(model))
        }
        _ => {
            let Fitted { model, report } = opts.fit::<ParetoNbd>(&patterns).map_err(e)?;
            (model.params().to_vec(), report, Box::new(model))
        }
    };
    let elapsed = start.elapsed();
    let mut out = report_json(args, &params, &report, table.records.len())?;
    out["patterns"] = json!(patterns.len());
    out["elapsed_ms"] = json!(elapsed.as_secs_f64() * 1e3);
    if let Some(path) = &args.out {
        let h = args
            .predict_horizon
            .ok_or_else(|| Stop::usage("--out needs --predict-horizon for this model"))?;
        let start = Instant::now();
        let scores = score(model.as_ref(), &table.records, h);
        out["predict_ms"] = json!(start.elapsed().as_secs_f64() * 1e3);
        write_csv(
            path,
            "id,p_alive,expected_purchases",
            table
                .ids()
                .zip(&scores)
                .map(|(id, s)| format!("{id},{},{}", s.p_alive, s.expected_purchases)),
        )?;
    }
    Ok(out)
}

fn fit_spend(args: &Args, table: &SummaryTable) -> Result<Value, Stop> {
    if !table.has_spend {
        return Err(format!(
            "{}: gg needs a zbar (or mean_spend, or monetary_value) column",
            args.file
        )
        .into());
    }
    let start = Instant::now();
    let Fitted { model: m, report } = FitOptions::new()
        .fit::<GammaGamma>(&table.records)
        .map_err(|e| format!("{}: {}", args.file, table.locate(e)))?;
    let elapsed = start.elapsed();
    let repeat = table.records.iter().filter(|r| r.x > 0).count();
    let mut out = report_json(args, &m.params(), &report, table.records.len())?;
    out["repeat_buyers"] = json!(repeat);
    let correlation = spend_frequency_correlation(&table.records);
    out["spend_frequency_correlation"] = json!(correlation);
    if correlation.is_none() {
        out["spend_frequency_correlation_note"] = json!(common::correlation_note(repeat));
    }
    maybe_infinite(&mut out, "expected_spend", m.expected_spend());
    out["elapsed_ms"] = json!(elapsed.as_secs_f64() * 1e3);
    if let Some(path) = &args.out {
        write_csv(
            path,
            "id,expected_spend",
            table
                .ids()
                .zip(&table.records)
                .map(|(id, r)| format!("{id},{}", m.conditional_expected_spend(r.x, r.mean_spend))),
        )?;
    }
    Ok(out)
}

/// A whole number of opportunities or periods from `--predict-horizon`.
fn whole(v: f64, what: &str) -> Result<u32, Stop> {
    if v.fract() == 0.0 && v <= f64::from(u32::MAX) {
        Ok(v as u32)
    } else {
        Err(Stop::usage(format!("{what} {v} is not a whole number")))
    }
}

fn fit_bgbb(args: &Args, patterns: &[DiscretePattern]) -> Result<Value, Stop> {
    let start = Instant::now();
    let Fitted { model: m, report } = FitOptions::new()
        .fit::<BgBb>(patterns)
        .map_err(|e| format!("{}: {e}", args.file))?;
    let elapsed = start.elapsed();
    let customers: u64 = patterns.iter().map(|p| u64::from(p.count)).sum();
    let mut out = report_json(args, &m.params(), &report, customers as usize)?;
    out["patterns"] = json!(patterns.len());
    out["elapsed_ms"] = json!(elapsed.as_secs_f64() * 1e3);
    if let Some(path) = &args.out {
        let h = args
            .predict_horizon
            .ok_or_else(|| Stop::usage("--out needs --predict-horizon (opportunities) for bgbb"))?;
        let n_star = whole(h, "--predict-horizon")?;
        write_csv(
            path,
            "id,p_alive,expected_purchases",
            patterns.iter().enumerate().map(|(i, p)| {
                format!(
                    "{},{},{}",
                    i + 1,
                    m.p_alive(p.x, p.t_x, p.n),
                    m.conditional_expected_transactions(n_star, p.x, p.t_x, p.n)
                )
            }),
        )?;
    }
    Ok(out)
}

fn fit_sbg(args: &Args, cohorts: &[Cohort]) -> Result<Value, Stop> {
    let start = Instant::now();
    let Fitted { model: m, report } = FitOptions::new()
        .fit::<ShiftedBetaGeometric>(cohorts)
        .map_err(|e| format!("{}: {e}", args.file))?;
    let elapsed = start.elapsed();
    let customers: u64 = cohorts.iter().map(|c| c.alive()[0]).sum();
    let mut out = report_json(args, &m.params(), &report, customers as usize)?;
    out["cohorts"] = json!(cohorts.len());
    maybe_infinite(&mut out, "expected_lifetime", m.expected_lifetime());
    out["elapsed_ms"] = json!(elapsed.as_secs_f64() * 1e3);
    if let Some(path) = &args.out {
        let longest = cohorts.iter().map(|c| c.periods()).max().unwrap_or(1) as f64;
        let last = whole(args.predict_horizon.unwrap_or(longest), "--predict-horizon")?;
        write_csv(
            path,
            "period,survival,retention_rate",
            (1..=last).map(|t| format!("{t},{},{}", m.survival(t), m.retention_rate(t))),
        )?;
    }
    Ok(out)
}

/// The usage errors found before reading anything: `--out` without the horizon the
/// model needs, a fractional horizon where it counts opportunities or periods.
fn check_usage(args: &Args) -> Result<(), Stop> {
    let needs_horizon = matches!(
        args.model,
        Model::Bgnbd | Model::Mbgnbd | Model::Pnbd | Model::Bgbb
    );
    if args.out.is_some() && needs_horizon && args.predict_horizon.is_none() {
        let what = if args.model == Model::Bgbb {
            " (opportunities)"
        } else {
            ""
        };
        return Err(Stop::usage(format!(
            "--out needs --predict-horizon{what} for {}",
            args.model.name()
        )));
    }
    if let (Model::Bgbb | Model::Sbg, Some(h), Some(_)) =
        (args.model, args.predict_horizon, &args.out)
    {
        whole(h, "--predict-horizon")?;
    }
    Ok(())
}

fn run(args: &Args) -> Result<Value, Stop> {
    check_usage(args)?;
    let in_file = |e: acrm::Error| format!("{}: {e}", args.file);
    match args.model {
        Model::Bgnbd | Model::Mbgnbd | Model::Pnbd | Model::Gg => {
            let start = Instant::now();
            let table = read_summary_csv_path(&args.file).map_err(in_file)?;
            let read_ms = start.elapsed().as_secs_f64() * 1e3;
            let mut out = if args.model == Model::Gg {
                fit_spend(args, &table)?
            } else {
                fit_purchases(args, &table)?
            };
            out["read_ms"] = json!(read_ms);
            Ok(out)
        }
        Model::Bgbb => fit_bgbb(
            args,
            &read_discrete_patterns_csv_path(&args.file).map_err(in_file)?,
        ),
        Model::Sbg => fit_sbg(args, &read_cohorts_csv_path(&args.file).map_err(in_file)?),
    }
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
