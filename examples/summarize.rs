//! Per-customer summaries from a transaction file: the command-line contract of the
//! foundation.
//!
//! ```text
//! cargo run --release --example summarize -- --format cdnow --calibration-end 1997-09-30 \
//!     [--holdout-end 1998-06-30] --unit weeks FILE --json [--out summary.csv] [--lenient] \
//!     [--customers CUSTOMERS.csv --scope owner:ID|team:ID|branch:ID|all [--as-of-scope DATE]] \
//!     [--hide-columns cost,margin]
//! ```
//! `--format cdnow` reads CDNOW_master.txt (header `customer_id date number_of_cds
//! dollar_value`) or CDNOW_sample.txt (no header; the second column is the customer);
//! `--format csv` reads the `customer_id,date,amount` columns of a header CSV (others are
//! ignored). With a scope only its customers are summarised, and the JSON gains `scope`
//! ({kind, id, customers}). With the `parquet` feature, `--parquet DIR` reads a Parquet
//! file or a folder of them (columns `customer_id`, `date`, `amount`) in place of
//! `--format` and FILE.

mod common;

use std::fs::File;
use std::io::Write;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;
use std::time::Instant;

use acrm::data::{Dataset, Loaded, Mode};
use acrm::io::CsvOptions;
use acrm::summary::Split;
use acrm::{Days, Months, SplitOptions, Summary, SummaryOptions, TimeUnit, View, Weeks};
use chrono::NaiveDate;
use clap::Parser;
use common::{outln, Stop};
use serde_json::{json, Value};

/// Per-customer summaries (x, t_x, T, mean spend) from a transaction file.
#[derive(Parser, Debug)]
#[command(name = "summarize")]
struct Args {
    /// Input layout: `cdnow` (CDNOW_master.txt or CDNOW_sample.txt) or `csv`
    /// (`customer_id,date,amount` columns of a header CSV); needed with FILE
    #[arg(long, value_name = "cdnow|csv")]
    format: Option<String>,
    /// Last day of the calibration period (inclusive)
    #[arg(long = "calibration-end", value_name = "YYYY-MM-DD", value_parser = common::date)]
    calibration_end: NaiveDate,
    /// Last day of a holdout period after it (inclusive)
    #[arg(long = "holdout-end", value_name = "YYYY-MM-DD", value_parser = common::date)]
    holdout_end: Option<NaiveDate>,
    /// Time unit of t_x and T
    #[arg(long, value_name = "days|weeks|months", default_value = "weeks")]
    unit: String,
    /// Print one JSON object (otherwise an aligned list)
    #[arg(long)]
    json: bool,
    /// Write `id,x,t_x,T,mean_spend` per customer
    #[arg(long, value_name = "summary.csv")]
    out: Option<String>,
    /// Skip bad rows (counted and reported) instead of stopping at the first
    #[arg(long)]
    lenient: bool,
    #[command(flatten)]
    scope: common::ScopeArgs,
    /// Read a Parquet file, or a folder of them, with columns `customer_id`, `date`
    /// and `amount`, in place of FILE (feature `parquet`)
    #[cfg(feature = "parquet")]
    #[arg(long, value_name = "DIR")]
    parquet: Option<String>,
    /// The transaction file
    file: Option<String>,
}

impl Args {
    /// The file or folder read, for messages and the JSON.
    fn source(&self) -> &str {
        #[cfg(feature = "parquet")]
        if let Some(dir) = &self.parquet {
            return dir;
        }
        self.file.as_deref().unwrap_or("")
    }
}

fn load(args: &Args) -> Result<(Loaded, bool), Stop> {
    let mode = if args.lenient {
        Mode::Lenient
    } else {
        Mode::Strict
    };
    #[cfg(feature = "parquet")]
    if let Some(dir) = &args.parquet {
        if args.file.is_some() {
            return Err(Stop::usage("give FILE or --parquet DIR, not both"));
        }
        // Only the three columns the summary uses are decoded.
        let loaded = acrm::io::ArrowOptions::new()
            .detect_optional_columns(false)
            .read_parquet_into(Dataset::builder().mode(mode), dir)
            .map_err(|e| format!("{dir}: {e}"))?;
        return Ok((loaded, false));
    }
    let (Some(file), Some(format)) = (&args.file, &args.format) else {
        return Err(Stop::usage(if args.file.is_none() {
            "no transaction FILE given"
        } else {
            "--format cdnow|csv is needed with FILE"
        }));
    };
    let open = || File::open(file).map_err(|e| format!("{file}: {e}"));
    let opts = match format.as_str() {
        "cdnow" => {
            let mut first = Vec::new();
            BufReader::new(open()?)
                .read_until(b'\n', &mut first)
                .map_err(|e| format!("{file}: {e}"))?;
            CsvOptions::cdnow(&first)
        }
        // The summary reports no margin, so only the three columns it uses are parsed
        // (as pandas' `usecols` does in benches/compare).
        "csv" => CsvOptions::new().detect_optional_columns(false),
        f => return Err(Stop::usage(format!("unknown format {f:?} (cdnow or csv)"))),
    };
    // Streamed in blocks: memory holds the dataset, not the file.
    let loaded = opts
        .read_from(Dataset::builder().mode(mode), open()?)
        .map_err(|e| format!("{file}: {e}"))?;
    Ok((loaded, opts.ids_are_numeric()))
}

fn run<U: TimeUnit>(
    args: &Args,
    view: &View<'_>,
    loaded: &Loaded,
    load_ms: f64,
) -> Result<Value, String> {
    let t = Instant::now();
    let (summary, holdout): (Summary<U>, _) = match args.holdout_end {
        Some(end) => {
            let Split {
                calibration,
                holdout,
            } = SplitOptions::new(args.calibration_end, end)
                .compute(view)
                .map_err(|e| format!("{}: {e}", args.source()))?;
            (calibration, Some(holdout))
        }
        None => (
            SummaryOptions::new(args.calibration_end)
                .compute(view)
                .map_err(|e| format!("{}: {e}", args.source()))?,
            None,
        ),
    };
    let summary_ms = t.elapsed().as_secs_f64() * 1e3;
    if let Some(path) = &args.out {
        let f = std::fs::File::create(path).map_err(|e| format!("{path}: {e}"))?;
        let mut w = std::io::BufWriter::new(f);
        let io = |e: std::io::Error| format!("{path}: {e}");
        writeln!(w, "id,x,t_x,T,mean_spend").map_err(io)?;
        for i in 0..summary.len() {
            writeln!(
                w,
                "{},{},{},{},{}",
                summary.id(i),
                summary.x(i),
                summary.t_x(i).value(),
                summary.t(i).value(),
                summary.mean_spend(i)
            )
            .map_err(io)?;
        }
        w.flush().map_err(io)?;
    }
    let cov = summary.coverage();
    let report = &loaded.report;
    let mut v = json!({
        "file": args.source(),
        "unit": U::NAME,
        "calibration_end": args.calibration_end.to_string(),
        "customers": summary.len(),
        "transactions": view.transactions(),
        "calibration_transactions": cov.transactions,
        "repeat_purchases": summary.repeat_purchases(),
        "zero_repeat_customers": summary.zero_repeat_customers(),
        "total_revenue": summary.total_revenue(),
        "excluded_customers": cov.excluded_customers,
        "rows_read": report.rows,
        "rows_skipped": report.skipped_total(),
        "skipped_by_reason": report.skipped.iter().map(|(k, n)| (format!("{k:?}"), *n)).collect::<std::collections::BTreeMap<_, _>>(),
        "load_ms": load_ms,
        "summary_ms": summary_ms,
        "total_ms": load_ms + summary_ms,
    });
    if let Some(h) = holdout {
        v["holdout_end"] = json!(h.end().to_string());
        v["holdout_purchases"] = json!(h.total_purchases());
        v["holdout_customers_with_purchase"] =
            json!(h.purchases.iter().filter(|&&p| p > 0).count());
        v["holdout_length"] = json!(h.length().value());
    }
    if args.scope.given() {
        v["scope"] = common::scope_json(view);
    }
    Ok(v)
}

/// The time unit of `--unit`.
#[derive(Clone, Copy)]
enum Unit {
    Days,
    Weeks,
    Months,
}

fn summarize(args: &Args) -> Result<(), Stop> {
    let unit = match args.unit.as_str() {
        "days" => Unit::Days,
        "weeks" => Unit::Weeks,
        "months" => Unit::Months,
        u => {
            return Err(Stop::usage(format!(
                "unknown unit {u:?} (days, weeks or months)"
            )))
        }
    };
    let t = Instant::now();
    let (mut loaded, numeric_ids) = load(args)?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let scope = args.scope.resolve(&mut loaded.dataset, numeric_ids)?;
    let view = loaded.dataset.view(&scope);
    let v = match unit {
        Unit::Days => run::<Days>(args, &view, &loaded, load_ms),
        Unit::Weeks => run::<Weeks>(args, &view, &loaded, load_ms),
        Unit::Months => run::<Months>(args, &view, &loaded, load_ms),
    }?;
    if args.json {
        outln!("{v}");
    } else {
        for (k, val) in v.as_object().into_iter().flatten() {
            outln!("{k:>32}: {val}");
        }
    }
    for e in &loaded.report.examples {
        eprintln!("skipped: {e}");
    }
    Ok(())
}

fn main() -> ExitCode {
    common::exit(summarize(&Args::parse()))
}
