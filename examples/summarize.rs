//! Per-customer summaries from a transaction file: the command-line contract of the
//! foundation.
//!
//! ```text
//! cargo run --release --example summarize -- --format cdnow --calibration-end 1997-09-30 \
//!     [--holdout-end 1998-06-30] --unit weeks FILE --json [--out summary.csv] [--lenient]
//! ```
//! `--format cdnow` reads CDNOW_master.txt (header `customer_id date number_of_cds
//! dollar_value`) or CDNOW_sample.txt (no header; the second column is the customer);
//! `--format csv` reads the `customer_id,date,amount` columns of a header CSV (others are
//! ignored).

use std::fs::File;
use std::io::Write;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;
use std::time::Instant;

use acrm::data::{Dataset, Loaded, Mode};
use acrm::io::CsvOptions;
use acrm::summary::Split;
use acrm::{Days, Months, Summary, SummaryOptions, TimeUnit, Weeks};
use chrono::NaiveDate;
use serde_json::{json, Value};

struct Args {
    format: String,
    file: String,
    calibration_end: NaiveDate,
    holdout_end: Option<NaiveDate>,
    unit: String,
    json: bool,
    out: Option<String>,
    lenient: bool,
}

const USAGE: &str = "usage: summarize --format cdnow|csv --calibration-end YYYY-MM-DD \
[--holdout-end YYYY-MM-DD] --unit days|weeks|months FILE [--json] [--out summary.csv] [--lenient]";

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut format, mut file, mut cal, mut hold, mut unit, mut json, mut out, mut lenient) = (
        None,
        None,
        None,
        None,
        "weeks".to_string(),
        false,
        None,
        false,
    );
    let date = |s: Option<String>, name: &str| -> Result<NaiveDate, String> {
        let s = s.ok_or(format!("{name} needs a value"))?;
        NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|e| format!("{name} {s:?}: {e}"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--format" => format = it.next(),
            "--calibration-end" => cal = Some(date(it.next(), "--calibration-end")?),
            "--holdout-end" => hold = Some(date(it.next(), "--holdout-end")?),
            "--unit" => unit = it.next().ok_or("--unit needs a value")?,
            "--json" => json = true,
            "--out" => out = it.next(),
            "--lenient" => lenient = true,
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => file = Some(a),
        }
    }
    Ok(Args {
        format: format.ok_or(format!("--format is required\n{USAGE}"))?,
        file: file.ok_or(format!("FILE is required\n{USAGE}"))?,
        calibration_end: cal.ok_or(format!("--calibration-end is required\n{USAGE}"))?,
        holdout_end: hold,
        unit,
        json,
        out,
        lenient,
    })
}

/// Chooses the CDNOW layout from the first line: a header, or 5 columns (the sample).
fn cdnow_options(bytes: &[u8]) -> CsvOptions {
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let text = String::from_utf8_lossy(first);
    if text.contains("customer_id") {
        CsvOptions::cdnow_master()
    } else if text.split_whitespace().count() == 5 {
        CsvOptions::cdnow_sample()
    } else {
        CsvOptions::cdnow_master()
            .has_header(false)
            .customer(0)
            .date(1)
            .quantity(2)
            .amount(3)
    }
}

fn load(args: &Args) -> Result<Loaded, String> {
    let open = || File::open(&args.file).map_err(|e| format!("{}: {e}", args.file));
    let opts = match args.format.as_str() {
        "cdnow" => {
            let mut first = Vec::new();
            BufReader::new(open()?)
                .read_until(b'\n', &mut first)
                .map_err(|e| format!("{}: {e}", args.file))?;
            cdnow_options(&first)
        }
        // The summary reports no margin, so only the three columns it uses are parsed
        // (as pandas' `usecols` does in benches/compare).
        "csv" => CsvOptions::new().detect_optional_columns(false),
        f => return Err(format!("unknown format {f:?} (cdnow or csv)")),
    };
    let mode = if args.lenient {
        Mode::Lenient
    } else {
        Mode::Strict
    };
    // Streamed in blocks: memory holds the dataset, not the file.
    opts.read_from(Dataset::builder().mode(mode), open()?)
        .map_err(|e| format!("{}: {e}", args.file))
}

fn run<U: TimeUnit>(args: &Args, loaded: &Loaded, load_ms: f64) -> Result<Value, String> {
    let data = &loaded.dataset;
    let mut opts = SummaryOptions::new(args.calibration_end);
    let t = Instant::now();
    let (summary, holdout): (Summary<U>, _) = match args.holdout_end {
        Some(end) => {
            opts = opts.holdout_end(end);
            let Split {
                calibration,
                holdout,
            } = opts.split(data).map_err(|e| e.to_string())?;
            (calibration, Some(holdout))
        }
        None => (opts.summarize(data).map_err(|e| e.to_string())?, None),
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
        "file": args.file,
        "unit": U::NAME,
        "calibration_end": args.calibration_end.to_string(),
        "customers": summary.len(),
        "transactions": data.transactions().len(),
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
    Ok(v)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let t = Instant::now();
    let loaded = match load(&args) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let result = match args.unit.as_str() {
        "days" => run::<Days>(&args, &loaded, load_ms),
        "weeks" => run::<Weeks>(&args, &loaded, load_ms),
        "months" => run::<Months>(&args, &loaded, load_ms),
        u => Err(format!("unknown unit {u:?} (days, weeks or months)")),
    };
    match result {
        Ok(v) if args.json => println!("{v}"),
        Ok(v) => {
            for (k, val) in v.as_object().into_iter().flatten() {
                println!("{k:>32}: {val}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    for e in &loaded.report.examples {
        eprintln!("skipped: {e}");
    }
    ExitCode::SUCCESS
}
