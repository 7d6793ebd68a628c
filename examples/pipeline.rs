//! The weighted pipeline of an opportunity file: the command-line contract of the
//! pipeline forecast.
//!
//! ```text
//! cargo run --release --example pipeline -- FILE --fiscal-year-start YYYY-MM-DD --json \
//!     [--out-dir DIR] [--as-of DATE] [--week-start mon..sun] [--history H.csv] \
//!     [--quarter Q --target T --simulations N --seed S]
//! ```
//! FILE is a CSV with at least `opp_id,stage,probability,amount,close_date` (optional
//! `owner`, `status`, `created`, `closed`, `product`, ...). Week w = days from the
//! fiscal-year start to the close date divided by 7, floored; quarter = w / 13.
//!
//! `--json` prints one object: `total_amount`, `total_weighted`, `weekly` (every week from
//! 0 to the last one, empty weeks as zeros: `week, week_start, n, amount, weighted,
//! cumulative_weighted`), `quarterly` (`quarter, stage, n, amount, weighted`, with `ALL`
//! as the stage of the quarter's total row), plus `by_stage`, `by_owner`, `by_product`,
//! `overdue`, `before_start`, `closed`; with `--history`, the learned win rates
//! (`calibration`); with `--quarter`, the simulated bookings of that quarter (`outcome`).
//! `--out-dir` writes `weekly.csv`, `quarterly.csv` and `by_stage.csv`. Bad input is a
//! message naming the file, line and field, and exit status 1.
//!
//! Nulls: `as_of` without `--as-of`; `by_team` always (opportunities carry owners, not
//! teams); in `scope` (and `calibration.scope`, `outcome.scope`) `id`, `as_of` and `user`,
//! as the whole file is read under the scope of everyone, undated and of no user.

mod common;

use std::fmt::Write as _;
use std::process::ExitCode;

use acrm::data::Scope;
use acrm::io::{read_opportunities_path, read_opportunities_with_history_path};
use acrm::prospecting::{CalibrationOptions, Pipeline, PipelineOptions, QuarterOutcomeOptions};
use chrono::{NaiveDate, Weekday};
use clap::Parser;
use common::{outln, Stop};
use serde_json::{json, Value};

/// The weighted pipeline of an opportunity file, by week, quarter and stage.
#[derive(Parser, Debug)]
#[command(name = "pipeline")]
struct Args {
    /// The opportunities CSV
    file: String,
    /// First day of the fiscal year (week 0 starts there)
    #[arg(long = "fiscal-year-start", value_name = "YYYY-MM-DD", value_parser = common::date)]
    fiscal_year_start: NaiveDate,
    /// Print one JSON object (otherwise a short text report)
    #[arg(long)]
    json: bool,
    /// Write weekly.csv, quarterly.csv and by_stage.csv into DIR
    #[arg(long = "out-dir", value_name = "DIR")]
    out_dir: Option<String>,
    /// Open deals expected to close before this day are reported as overdue
    #[arg(long = "as-of", value_name = "DATE", value_parser = common::date)]
    as_of: Option<NaiveDate>,
    /// Weekday the weeks start on (default: the fiscal-year start's)
    #[arg(long = "week-start", value_name = "mon..sun")]
    week_start: Option<Weekday>,
    /// Stage histories `opportunity,stage,entered`: adds the learned win rates
    #[arg(long, value_name = "H.csv")]
    history: Option<String>,
    /// Simulate the bookings of this quarter (from 0)
    #[arg(long)]
    quarter: Option<u32>,
    /// Bookings target of the simulated quarter
    #[arg(long)]
    target: Option<f64>,
    /// Simulations of the quarter
    #[arg(long, default_value_t = 10_000)]
    simulations: usize,
    /// Seed of the simulations
    #[arg(long, default_value_t = 0)]
    seed: u64,
}

fn csv_table(columns: &[&str], rows: &[Value]) -> String {
    let mut s = columns.join(",");
    s.push('\n');
    for r in rows {
        let fields: Vec<String> = columns
            .iter()
            .map(|c| match &r[*c] {
                Value::Null => String::new(),
                Value::String(t) => t.clone(),
                v => v.to_string(),
            })
            .collect();
        let _ = writeln!(s, "{}", fields.join(","));
    }
    s
}

fn run(args: &Args) -> Result<(), Stop> {
    let in_file = |e: acrm::Error| format!("{}: {e}", args.file);
    let data = match &args.history {
        Some(h) => {
            // The opportunities alone first, so an error names the file it is in.
            read_opportunities_path(&args.file).map_err(in_file)?;
            read_opportunities_with_history_path(&args.file, h).map_err(|e| format!("{h}: {e}"))?
        }
        None => read_opportunities_path(&args.file).map_err(in_file)?,
    };
    let view = data.view(&Scope::all());
    let mut options = PipelineOptions::new(args.fiscal_year_start);
    if let Some(d) = args.as_of {
        options = options.as_of(d);
    }
    if let Some(w) = args.week_start {
        options = options.week_start(w);
    }
    let pipeline: Pipeline = options
        .compute(&view)
        .map_err(|e| format!("{}: {e}", args.file))?;
    let mut out = serde_json::to_value(&pipeline).map_err(|e| e.to_string())?;
    if args.history.is_some() {
        let cal = CalibrationOptions::new()
            .compute(&view)
            .map_err(|e| format!("{}: {e}", args.file))?;
        out["calibration"] = serde_json::to_value(&cal).map_err(|e| e.to_string())?;
    }
    if let Some(q) = args.quarter {
        let mut o = QuarterOutcomeOptions::new(options.clone(), q)
            .simulations(args.simulations)
            .seed(args.seed);
        if let Some(t) = args.target {
            o = o.target(t);
        }
        let outcome = o
            .compute(&view)
            .map_err(|e| format!("{}: {e}", args.file))?;
        out["outcome"] = serde_json::to_value(&outcome).map_err(|e| e.to_string())?;
    }
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
        let tables = [
            (
                "weekly.csv",
                &[
                    "week",
                    "week_start",
                    "n",
                    "amount",
                    "weighted",
                    "cumulative_amount",
                    "cumulative_weighted",
                ][..],
                &out["weekly"],
            ),
            (
                "quarterly.csv",
                &[
                    "quarter",
                    "quarter_start",
                    "stage",
                    "n",
                    "amount",
                    "weighted",
                ][..],
                &out["quarterly"],
            ),
            (
                "by_stage.csv",
                &["name", "n", "amount", "weighted"][..],
                &out["by_stage"],
            ),
        ];
        for (name, columns, rows) in tables {
            let rows = rows.as_array().cloned().unwrap_or_default();
            let path = format!("{dir}/{name}");
            std::fs::write(&path, csv_table(columns, &rows)).map_err(|e| format!("{path}: {e}"))?;
        }
    }
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
    } else {
        outln!(
            "{} open deals in the pipeline: amount {:.2}, weighted {:.2}; {} overdue, {} before the fiscal-year start, {} closed",
            pipeline.n,
            pipeline.total_amount,
            pipeline.total_weighted,
            pipeline.overdue.totals.n,
            pipeline.before_start.totals.n,
            pipeline.closed
        );
        for r in pipeline.quarterly.iter().filter(|r| r.stage == "ALL") {
            outln!(
                "quarter {} (from {}): {} deals, amount {:.2}, weighted {:.2}",
                r.quarter,
                r.quarter_start,
                r.n,
                r.amount,
                r.weighted
            );
        }
        if let Some(o) = out.get("outcome") {
            outln!("outcome: {}", json!(o));
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::exit(run(&args))
}
