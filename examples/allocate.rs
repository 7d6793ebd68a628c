//! Budget allocation: a saturating response curve per channel fitted to past campaigns,
//! and the split of a budget that maximises the expected total outcome.
//!
//! ```text
//! cargo run --release --example allocate -- FILE --budget B [--curve hill|exp|auto] \
//!     [--hill-k K] [--bounds group=lo:hi,...] [--current group=spend,...] \
//!     [--margin M] [--confidence 0.95] [--allow-nonconverged] --json
//! ```
//! FILE is a CSV with the columns `group,spend,outcome` (one row per past campaign).
//! The JSON holds `budget`, `fits` (per group: `family`, `n`, `estimates` with standard
//! errors, `sse`, `rmse`, `aic`, `converged`, `termination`, and every family tried
//! with its AIC), `allocation` (per group: `spend`, `outcome` with `outcome_low` /
//! `outcome_high` its confidence band, `marginal_roi`, `average_roi`, `value`),
//! `total` (`spend`, `outcome`, `value` with its band), `exact`, `envelope_bound`,
//! `marginal_value` and, with `--current`, `current` (its total) and `gain`. A bound's
//! `hi` may be left empty for none (`social=100:`). A bad file is an error naming the
//! line and field, with exit status 1; so is a group whose kept curve's fit stopped at
//! the iteration cap instead of a minimum of the SSE (naming the file, the group and the
//! termination), unless `--allow-nonconverged` (its `converged` is then false). A
//! malformed `--bounds` or `--current` exits with status 2.
//!
//! Nulls, each with its reason:
//! - `allocation[].upper` (and `current.groups[].upper`): the group has no upper bound;
//! - `fits[].estimates[].se`: the curve's information matrix is singular at the
//!   estimate, so that standard error is undefined; then also the group's
//!   `outcome_se`, `outcome_low` and `outcome_high`, and `total.value_se`,
//!   `value_low` and `value_high`; `fits[].se_note` says so;
//! - `fits[].aic`, `fits[].candidates[].aic`: the curve fits the outcomes exactly
//!   (SSE 0, so ln SSE is −∞);
//! - `allocation[].average_roi`: the group's spend is 0 (value per unit of nothing);
//! - `allocation[].marginal_roi`: the curve's slope at the spend is infinite (a Hill
//!   curve with k < 1 at spend 0).

mod common;

use std::process::ExitCode;

use acrm::io::read_spend_history_path;
use acrm::promotion::{AllocationOptions, CurveChoice, ResponseOptions};
use clap::{Parser, ValueEnum};
use common::{outln, Stop};
use serde_json::{json, Value};

/// Fits response curves per group and allocates a budget across the groups.
#[derive(Parser)]
#[command(name = "allocate")]
struct Args {
    /// CSV with the columns group, spend, outcome.
    #[arg(value_name = "FILE")]
    file: String,
    /// The budget to allocate (all of it is spent).
    #[arg(long)]
    budget: f64,
    /// The curve family of every group; auto keeps the smaller AIC.
    #[arg(long, value_enum, default_value = "auto")]
    curve: Curve,
    /// Fix the Hill curve's k (1 for Michaelis–Menten).
    #[arg(long = "hill-k", value_name = "K")]
    hill_k: Option<f64>,
    /// Spend bounds: group=lo:hi,... (hi empty for none).
    #[arg(long, value_name = "GROUP=LO:HI,...")]
    bounds: Option<String>,
    /// Current spends of every group, to compare with: group=spend,...
    #[arg(long, value_name = "GROUP=SPEND,...")]
    current: Option<String>,
    /// The value of one unit of outcome (1 when the outcome is money).
    #[arg(long, default_value_t = 1.0)]
    margin: f64,
    /// Confidence level of the bands.
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
    /// Print the JSON object on one line (pretty-printed without it).
    #[arg(long)]
    json: bool,
    /// Allocate with curves whose fit stopped at the iteration cap instead of failing
    /// (their `converged` is false).
    #[arg(long)]
    allow_nonconverged: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Curve {
    Hill,
    Exp,
    Auto,
}

fn pairs(arg: &str, what: &str) -> Result<Vec<(String, String)>, Stop> {
    arg.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            p.split_once('=')
                .map(|(g, v)| (g.trim().to_string(), v.trim().to_string()))
                .ok_or_else(|| Stop::usage(format!("--{what}: {p:?} is not group=value")))
        })
        .collect()
}

fn number(v: &str, what: &str) -> Result<f64, Stop> {
    v.parse()
        .map_err(|_| Stop::usage(format!("--{what}: {v:?} is not a number")))
}

/// The `--bounds` (group, lo, hi) and `--current` (group, spend) arguments, checked
/// before the file is read: a malformed one is a usage error.
type Spends = (Vec<(String, f64, f64)>, Option<Vec<(String, f64)>>);

fn parse_spends(args: &Args) -> Result<Spends, Stop> {
    let mut bounds = Vec::new();
    if let Some(b) = &args.bounds {
        for (g, v) in pairs(b, "bounds")? {
            let (lo, hi) = v
                .split_once(':')
                .ok_or_else(|| Stop::usage(format!("--bounds: {v:?} is not lo:hi")))?;
            let hi = if hi.is_empty() {
                f64::INFINITY
            } else {
                number(hi, "bounds")?
            };
            bounds.push((g, number(lo, "bounds")?, hi));
        }
    }
    let current = match &args.current {
        Some(c) => Some(
            pairs(c, "current")?
                .into_iter()
                .map(|(g, v)| Ok((g, number(&v, "current")?)))
                .collect::<Result<Vec<_>, Stop>>()?,
        ),
        None => None,
    };
    Ok((bounds, current))
}

fn run(args: &Args) -> Result<Value, Stop> {
    let (bounds, current) = parse_spends(args)?;
    let history = read_spend_history_path(&args.file).map_err(|e| format!("{}: {e}", args.file))?;
    let choice = match args.curve {
        Curve::Hill => CurveChoice::Hill,
        Curve::Exp => CurveChoice::Exponential,
        Curve::Auto => CurveChoice::Auto,
    };
    let fit = ResponseOptions::new()
        .curve(choice)
        .hill_k(args.hill_k)
        .fit(&history)
        .map_err(|e| format!("{}: {e}", args.file))?;
    for r in &fit.report.groups {
        common::converged(
            &args.file,
            &format!("{:?} curve of group `{}`", r.family, r.group),
            r.converged(),
            r.termination,
            r.iterations,
            args.allow_nonconverged,
        )?;
    }
    let mut opts = AllocationOptions::new(args.budget)
        .margin(args.margin)
        .confidence(args.confidence);
    for (g, lo, hi) in bounds {
        opts = opts.bounds(g, lo, hi);
    }
    if let Some(spends) = current {
        opts = opts.current(spends);
    }
    let plan = opts.compute(&fit.model).map_err(|e| e.to_string())?;
    let fits: Vec<Value> = fit
        .report
        .groups
        .iter()
        .map(|r| {
            let mut fit = json!({
                "group": r.group,
                "family": r.family,
                "n": r.n,
                "estimates": r.estimates,
                "sse": r.sse,
                "rmse": r.rmse,
                "aic": r.aic,
                "converged": r.converged(),
                "termination": r.termination,
                "candidates": r.candidates,
            });
            if r.estimates.iter().any(|e| !e.se.is_finite()) {
                fit["se_note"] = json!(common::SINGULAR_NOTE);
            }
            fit
        })
        .collect();
    let mut out = json!({
        "budget": plan.budget,
        "confidence": plan.confidence,
        "fits": fits,
        "allocation": plan.groups,
        "total": plan.total,
        "exact": plan.exact,
        "envelope_bound": plan.envelope_bound,
        "marginal_value": plan.marginal_value,
    });
    if let (Some(cur), Some(gain)) = (&plan.current, plan.gain) {
        out["current"] = json!({"groups": cur.groups, "total": cur.total});
        out["gain"] = json!(gain);
    }
    Ok(out)
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
