//! Kaplan–Meier survival (and the log-rank test across groups) of a CSV with a duration
//! and an event column, or of customer lifetimes from a transaction log.
//!
//! ```text
//! cargo run --release --example survival -- FILE --duration COL --event COL \
//!     [--group COL] [--at T1,T2,..] [--weights COL] [--confidence 0.95] --json
//! cargo run --release --example survival -- --format cdnow|csv FILE --as-of DATE \
//!     [--churn-gap-days 365] [--group owner] [--at T1,T2,..] [--confidence 0.95] --json \
//!     [--customers CUSTOMERS.csv --scope owner:ID|team:ID|branch:ID|all [--as-of-scope DATE]]
//! ```
//! `--json` prints `n`, `events`, `median`, `median_interval` ([lo, hi]), `survival_at`
//! (a list of {t, s, lo, hi} for `--at`), `elapsed_ms`, and with `--group` a `logrank`
//! object {statistic, df, p_value} and `groups`: per group {group, n, events, median,
//! median_interval, survival_at}. Without `--json` it prints the same as text. Events
//! are 0/1 or true/false.
//!
//! Nulls, each with its reason:
//! - `median`, `groups[].median`: the curve never falls to ½ (fewer than half the
//!   subjects have had the event by the last time observed);
//! - `median_interval[]`, `groups[].median_interval[]`: that bound of the curve's
//!   confidence interval never falls to ½ (the upper bound stays above it longer than
//!   the curve, so `hi` is the first to be null);
//! - `logrank`: the data holds a single group, and the test compares two or more;
//!   `logrank_note` then says so.
//!
//! With `--format`, FILE is a transaction log and the subjects are its customers: a
//! lifetime runs from the first purchase until a silence of `--churn-gap-days` (the
//! churn), censored at `--as-of`; durations are in days. There `--group owner` compares
//! the owners' customers, and a scope restricts the customers (the JSON gains `scope`).

mod common;

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::{CsvOptions, Table};
use acrm::persistency::{KaplanMeier, KaplanMeierOptions, LifetimeOptions, SurvivalData};
use chrono::NaiveDate;
use clap::Parser;
use common::{outln, Stop};
use serde_json::{json, Value};

/// Kaplan–Meier curves, medians and the log-rank test.
#[derive(Parser, Debug)]
#[command(name = "survival")]
struct Args {
    /// A CSV of subjects (with --duration and --event), or a transaction log (with --format)
    file: String,
    /// Duration column of the CSV
    #[arg(long, value_name = "COL", required_unless_present = "format")]
    duration: Option<String>,
    /// Event column of the CSV (0/1 or true/false)
    #[arg(long, value_name = "COL", required_unless_present = "format")]
    event: Option<String>,
    /// Group column of the CSV; with --format, `owner`
    #[arg(long, value_name = "COL")]
    group: Option<String>,
    /// Case weights column of the CSV
    #[arg(long, value_name = "COL")]
    weights: Option<String>,
    /// Times at which to report survival, comma-separated
    #[arg(long, value_name = "T1,T2,..", value_delimiter = ',')]
    at: Vec<f64>,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
    /// Read FILE as a transaction log: `cdnow` (CDNOW_master.txt) or `csv`
    #[arg(long, value_name = "cdnow|csv", conflicts_with_all = ["duration", "event", "weights"])]
    format: Option<String>,
    /// Censoring date of the lifetimes (with --format)
    #[arg(long = "as-of", value_name = "YYYY-MM-DD", value_parser = common::date, requires = "format")]
    as_of: Option<NaiveDate>,
    /// Days without a purchase after which a customer has churned (with --format)
    #[arg(long = "churn-gap-days", default_value_t = 365)]
    churn_gap_days: u32,
    /// Print one JSON object (otherwise pretty JSON)
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    scope: common::ScopeArgs,
}

fn summary(km: &KaplanMeier, at: &[f64]) -> Value {
    let m = km.median_interval();
    json!({
        "n": km.n,
        "events": km.events,
        "median": km.median(),
        "median_interval": [m.lo, m.hi],
        "survival_at": at.iter().map(|&t| km.survival_at(t)).collect::<Vec<_>>(),
    })
}

fn run() -> Result<(), Stop> {
    let args = Args::parse();
    let file = &args.file;
    let err = |e: acrm::Error| format!("{file}: {e}");
    // The subjects' durations and events, group labels, and the scope's JSON.
    let (data, labels, scope, t0) = match &args.format {
        Some(format) => {
            let options = match format.as_str() {
                "cdnow" => CsvOptions::cdnow_master(),
                "csv" => CsvOptions::new(),
                f => return Err(Stop::usage(format!("--format {f:?}: use cdnow or csv"))),
            };
            let as_of = args
                .as_of
                .ok_or_else(|| Stop::usage("--format needs --as-of DATE"))?;
            let mut dataset = options.read_path(file).map_err(err)?.dataset;
            let scope = args
                .scope
                .resolve(&mut dataset, options.ids_are_numeric())?;
            let view = dataset.view(&scope);
            let t0 = Instant::now();
            let lifetimes = LifetimeOptions::new(as_of)
                .churn_gap_days(args.churn_gap_days)
                .compute(&view)
                .map_err(err)?;
            let labels = match args.group.as_deref() {
                None => None,
                Some("owner") => {
                    let at = view.positions(&lifetimes.rows).map_err(err)?;
                    Some(
                        at.iter()
                            .map(|&k| view.owner(k).unwrap_or("(unowned)").to_string())
                            .collect::<Vec<_>>(),
                    )
                }
                Some(g) => {
                    return Err(Stop::usage(format!(
                        "--group {g:?}: with --format, use owner"
                    )))
                }
            };
            let scope_json = args.scope.given().then(|| common::scope_json(&view));
            (lifetimes.survival, labels, scope_json, t0)
        }
        None => {
            if args.scope.given() {
                return Err(Stop::usage(
                    "scopes apply to transaction logs: read one with --format",
                ));
            }
            let (duration, event) = (
                args.duration
                    .as_deref()
                    .ok_or_else(|| Stop::usage("--duration is required"))?,
                args.event
                    .as_deref()
                    .ok_or_else(|| Stop::usage("--event is required"))?,
            );
            let table = Table::read_path(file).map_err(err)?;
            let t0 = Instant::now();
            let mut data = SurvivalData::new(
                table.numbers(duration).map_err(err)?,
                table.flags(event).map_err(err)?,
            )
            .map_err(err)?;
            if let Some(w) = &args.weights {
                data = data
                    .with_weights(table.numbers(w).map_err(err)?)
                    .map_err(err)?;
            }
            let labels = match &args.group {
                Some(g) => Some(table.text(g).map_err(err)?),
                None => None,
            };
            (data, labels, None, t0)
        }
    };
    let opts = KaplanMeierOptions::new().confidence(args.confidence);
    let km = opts.compute(&data).map_err(err)?;
    let mut out = summary(&km, &args.at);
    if let Some(labels) = &labels {
        let grouped = opts.compute_groups(&data, labels).map_err(err)?;
        out["groups"] = grouped
            .groups
            .iter()
            .zip(&grouped.curves)
            .map(|(g, c)| {
                let mut s = summary(c, &args.at);
                s["group"] = json!(g);
                s
            })
            .collect();
        out["logrank"] = match &grouped.log_rank {
            Some(lr) => json!({"statistic": lr.statistic, "df": lr.df, "p_value": lr.p_value}),
            None => {
                out["logrank_note"] =
                    json!("a single group: the log-rank test compares two or more");
                Value::Null
            }
        };
    }
    out["elapsed_ms"] = json!(t0.elapsed().as_secs_f64() * 1e3);
    if let Some(s) = scope {
        out["scope"] = s;
    }
    if args.json {
        outln!("{out}");
    } else {
        outln!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
