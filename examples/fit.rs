//! Fits a purchase or spend model to a per-customer summary file.
//!
//! ```text
//! cargo run --release --example fit -- --model bgnbd|mbgnbd|pnbd|gg|bgbb|sbg FILE --json \
//!     [--predict-horizon T --out predictions.csv]
//! ```
//! FILE is a summary CSV `ID,x,t_x,T[,zbar]` (or lifetimes' `frequency,recency,T,
//! monetary_value`) for bgnbd, mbgnbd, pnbd and gg; `frequency,recency,periods[,weights]`
//! for bgbb; `period,alive` or `cohort,period,alive` for sbg. `--json` prints one object
//! with `model`, `params`, `log_likelihood` (in the file's time unit), `std_errors`,
//! `iterations`, `converged`, `customers` and `elapsed_ms` (the fit alone; `read_ms` is
//! the file). `--out` writes `id,p_alive,expected_purchases` per customer over the next
//! `--predict-horizon` time units (gg: `id,expected_spend`; bgbb: over the next T
//! opportunities; sbg: `period,survival,retention_rate`).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use acrm::io::{
    read_cohorts_csv_path, read_discrete_patterns_csv_path, read_summary_csv_path, SummaryTable,
};
use acrm::numerics::FitReport;
use acrm::persistency::{
    BgBb, BgNbd, Cohort, DiscretePattern, FitOptions, MbgNbd, ParetoNbd, ShiftedBetaGeometric,
};
use acrm::profitability::{spend_frequency_correlation, GammaGamma};
use acrm::summary::{score, Compact, PurchaseModel};
use acrm::Weeks;
use serde_json::{json, Map, Value};

const USAGE: &str = "usage: fit --model bgnbd|mbgnbd|pnbd|gg|bgbb|sbg FILE [--json] \
[--predict-horizon T --out predictions.csv]";

struct Args {
    model: String,
    file: String,
    json: bool,
    horizon: Option<f64>,
    out: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut model, mut file, mut json, mut horizon, mut out) = (None, None, false, None, None);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--model" => model = it.next(),
            "--json" => json = true,
            "--predict-horizon" => {
                let v = it.next().ok_or("--predict-horizon needs a value")?;
                let h: f64 = v
                    .parse()
                    .map_err(|_| format!("--predict-horizon {v:?} is not a number"))?;
                if !(h >= 0.0 && h.is_finite()) {
                    return Err(format!("--predict-horizon {v} must be ≥ 0"));
                }
                horizon = Some(h);
            }
            "--out" => out = it.next(),
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            s => file = Some(s.to_string()),
        }
    }
    let model = model.ok_or(format!("--model is required\n{USAGE}"))?;
    let file = file.ok_or(format!("FILE is required\n{USAGE}"))?;
    Ok(Args {
        model,
        file,
        json,
        horizon,
        out,
    })
}

/// Parameters or standard errors as a JSON object keyed by parameter name.
fn named(names: &[String], values: &[f64]) -> Value {
    let mut m = Map::new();
    for (n, v) in names.iter().zip(values) {
        m.insert(n.clone(), json!(v));
    }
    Value::Object(m)
}

fn report_json(model: &str, params: &[f64], report: &FitReport, customers: usize) -> Value {
    json!({
        "model": model,
        "params": named(&report.names, params),
        "log_likelihood": report.log_likelihood,
        "std_errors": named(&report.names, &report.std_errors),
        "iterations": report.iterations,
        "converged": report.termination.converged(),
        "termination": format!("{:?}", report.termination),
        "customers": customers,
    })
}

fn write_csv(path: &str, header: &str, rows: impl Iterator<Item = String>) -> Result<(), String> {
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
    w.flush().map_err(|e| format!("{path}: {e}"))
}

/// Fits one of the purchase models on the table's compact patterns.
fn fit_purchases(args: &Args, table: &SummaryTable) -> Result<Value, String> {
    let patterns = Compact::<Weeks>::from_records(&table.records).patterns;
    let opts = FitOptions::new();
    let start = Instant::now();
    let (params, report, model): (Vec<f64>, FitReport, Box<dyn PurchaseModel>) =
        match args.model.as_str() {
            "bgnbd" => {
                let (m, r) = BgNbd::fit(&patterns, &opts).map_err(|e| e.to_string())?;
                (m.params().to_vec(), r, Box::new(m))
            }
            "mbgnbd" => {
                let (m, r) = MbgNbd::fit(&patterns, &opts).map_err(|e| e.to_string())?;
                (m.params().to_vec(), r, Box::new(m))
            }
            _ => {
                let (m, r) = ParetoNbd::fit(&patterns, &opts).map_err(|e| e.to_string())?;
                (m.params().to_vec(), r, Box::new(m))
            }
        };
    let elapsed = start.elapsed();
    let mut out = report_json(&args.model, &params, &report, table.records.len());
    out["patterns"] = json!(patterns.len());
    out["elapsed_ms"] = json!(elapsed.as_secs_f64() * 1e3);
    if let Some(path) = &args.out {
        let h = args
            .horizon
            .ok_or("--out needs --predict-horizon for this model")?;
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

fn fit_spend(args: &Args, table: &SummaryTable) -> Result<Value, String> {
    if !table.has_spend {
        return Err("gg needs a zbar (or monetary_value) column".into());
    }
    let start = Instant::now();
    let (m, report) =
        GammaGamma::fit(&table.records, &FitOptions::new()).map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let repeat = table.records.iter().filter(|r| r.x > 0).count();
    let mut out = report_json("gg", &m.params(), &report, table.records.len());
    out["repeat_buyers"] = json!(repeat);
    out["spend_frequency_correlation"] = json!(spend_frequency_correlation(&table.records));
    out["expected_spend"] = json!(m.expected_spend());
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
fn whole(v: f64, what: &str) -> Result<u32, String> {
    if v.fract() == 0.0 && v <= f64::from(u32::MAX) {
        Ok(v as u32)
    } else {
        Err(format!("{what} {v} is not a whole number"))
    }
}

fn fit_bgbb(args: &Args, patterns: &[DiscretePattern]) -> Result<Value, String> {
    let start = Instant::now();
    let (m, report) = BgBb::fit(patterns, &FitOptions::new()).map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let customers: u64 = patterns.iter().map(|p| u64::from(p.count)).sum();
    let mut out = report_json("bgbb", &m.params(), &report, customers as usize);
    out["patterns"] = json!(patterns.len());
    out["elapsed_ms"] = json!(elapsed.as_secs_f64() * 1e3);
    if let Some(path) = &args.out {
        let h = args
            .horizon
            .ok_or("--out needs --predict-horizon (opportunities) for bgbb")?;
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

fn fit_sbg(args: &Args, cohorts: &[Cohort]) -> Result<Value, String> {
    let start = Instant::now();
    let (m, report) =
        ShiftedBetaGeometric::fit(cohorts, &FitOptions::new()).map_err(|e| e.to_string())?;
    let elapsed = start.elapsed();
    let customers: u64 = cohorts.iter().map(|c| c.alive()[0]).sum();
    let mut out = report_json("sbg", &m.params(), &report, customers as usize);
    out["cohorts"] = json!(cohorts.len());
    out["expected_lifetime"] = json!(m.expected_lifetime());
    out["elapsed_ms"] = json!(elapsed.as_secs_f64() * 1e3);
    if let Some(path) = &args.out {
        let longest = cohorts.iter().map(|c| c.periods()).max().unwrap_or(1) as f64;
        let last = whole(args.horizon.unwrap_or(longest), "--predict-horizon")?;
        write_csv(
            path,
            "period,survival,retention_rate",
            (1..=last).map(|t| format!("{t},{},{}", m.survival(t), m.retention_rate(t))),
        )?;
    }
    Ok(out)
}

fn run(args: &Args) -> Result<Value, String> {
    let in_file = |e: acrm::Error| format!("{}: {e}", args.file);
    match args.model.as_str() {
        "bgnbd" | "mbgnbd" | "pnbd" | "gg" => {
            let start = Instant::now();
            let table = read_summary_csv_path(&args.file).map_err(in_file)?;
            let read_ms = start.elapsed().as_secs_f64() * 1e3;
            let mut out = if args.model == "gg" {
                fit_spend(args, &table)?
            } else {
                fit_purchases(args, &table)?
            };
            out["read_ms"] = json!(read_ms);
            Ok(out)
        }
        "bgbb" => fit_bgbb(
            args,
            &read_discrete_patterns_csv_path(&args.file).map_err(in_file)?,
        ),
        "sbg" => fit_sbg(args, &read_cohorts_csv_path(&args.file).map_err(in_file)?),
        m => Err(format!("unknown model {m:?}\n{USAGE}")),
    }
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok(v) => {
            if args.json {
                println!("{v}");
            } else {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
