//! Customer lifetime value from a per-customer summary: fits BG/NBD (purchases) and
//! Gamma-Gamma (spend), then discounts the expected margin month by month.
//!
//! ```text
//! cargo run --release --example clv -- FILE --horizon-months 12 --monthly-discount 0.01 --json \
//!     [--out clv.csv] [--margin 1.0] [--weeks-per-month 4.345] [--bootstrap N --seed S]
//! ```
//! FILE is a summary CSV `ID,x,t_x,T,zbar` in weeks (or lifetimes' `frequency,recency,T,
//! monetary_value`). The convention is lifetimes': months of 4.345 weeks, purchases of
//! month k discounted by (1 + d)^k. `--json` prints `total_clv`, `customers`, the fitted
//! `bgnbd` and `gg` parameters with their log-likelihoods, the spend-frequency correlation
//! the Gamma-Gamma model assumes small, and `elapsed_ms` (fits and values, without reading
//! the file). `--out` writes `id,clv`. `--bootstrap N` refits both models on N resamples of
//! the customers (seeded, in parallel) and adds `total_clv_interval` {lo, median, hi}, a
//! 95% percentile interval for customer equity.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use acrm::io::read_summary_csv;
use acrm::numerics::{bootstrap, BootstrapOptions, FitReport};
use acrm::persistency::{BgNbd, FitOptions};
use acrm::profitability::{
    clv, customer_equity, spend_frequency_correlation, ClvOptions, GammaGamma,
};
use acrm::summary::{Compact, Rfm};
use acrm::Weeks;
use serde_json::json;

const USAGE: &str =
    "usage: clv FILE --horizon-months N --monthly-discount D [--json] [--out clv.csv] \
[--margin M] [--weeks-per-month W] [--bootstrap N --seed S]";

fn number(it: &mut impl Iterator<Item = String>, name: &str) -> Result<f64, String> {
    let v = it.next().ok_or(format!("{name} needs a value"))?;
    v.parse()
        .map_err(|_| format!("{name} {v:?} is not a number"))
}

fn run() -> Result<(serde_json::Value, bool), String> {
    let mut it = std::env::args().skip(1);
    let (mut file, mut json, mut out) = (None, false, None);
    let (mut months, mut discount, mut margin, mut weeks) = (12.0, 0.01, 1.0, 4.345);
    let (mut replicates, mut seed) = (0.0, 0.0);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--horizon-months" => months = number(&mut it, "--horizon-months")?,
            "--monthly-discount" => discount = number(&mut it, "--monthly-discount")?,
            "--margin" => margin = number(&mut it, "--margin")?,
            "--weeks-per-month" => weeks = number(&mut it, "--weeks-per-month")?,
            "--bootstrap" => replicates = number(&mut it, "--bootstrap")?,
            "--seed" => seed = number(&mut it, "--seed")?,
            "--json" => json = true,
            "--out" => out = it.next(),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            s => file = Some(s.to_string()),
        }
    }
    let file = file.ok_or(format!("FILE is required\n{USAGE}"))?;
    if !(months >= 1.0 && months.fract() == 0.0 && months <= f64::from(u32::MAX)) {
        return Err(format!(
            "--horizon-months {months} must be a whole number ≥ 1"
        ));
    }
    let reader = File::open(&file)
        .map(BufReader::new)
        .map_err(|e| format!("{file}: {e}"))?;
    let table = read_summary_csv(reader).map_err(|e| format!("{file}: {e}"))?;
    if !table.has_spend {
        return Err(format!("{file}: needs a zbar (or monetary_value) column"));
    }
    for (name, v) in [("--bootstrap", replicates), ("--seed", seed)] {
        if !(v >= 0.0 && v.fract() == 0.0 && v < 9e15) {
            return Err(format!("{name} {v} must be a whole number ≥ 0"));
        }
    }
    let start = Instant::now();
    let e = |e: acrm::Error| e.to_string();
    type Fits = (BgNbd, FitReport, GammaGamma, FitReport);
    let fit_both = |records: &[Rfm]| -> acrm::Result<Fits> {
        let patterns = Compact::<Weeks>::from_records(records).patterns;
        let (bg, bg_report) = BgNbd::fit(&patterns, &FitOptions::new())?;
        let (gg, gg_report) = GammaGamma::fit(records, &FitOptions::new())?;
        Ok((bg, bg_report, gg, gg_report))
    };
    let (bg, bg_report, gg, gg_report) = fit_both(&table.records).map_err(e)?;
    let opts = ClvOptions::new()
        .periods(months as u32)
        .period_length(weeks)
        .discount(discount)
        .margin(margin);
    let values = clv(&bg, &gg, &table.records, &opts).map_err(e)?;
    let elapsed = start.elapsed();
    // Uncertainty: refit both models on resampled customers; the customer equity of the
    // same customers under each replicate's models gives the interval.
    let interval = if replicates >= 2.0 {
        let ones = vec![1u32; table.records.len()];
        let b_opts = BootstrapOptions::new()
            .replicates(replicates as usize)
            .seed(seed as u64);
        let b = bootstrap(&ones, &b_opts, |counts| {
            let resampled: Vec<Rfm> = table
                .records
                .iter()
                .zip(counts)
                .flat_map(|(r, &c)| std::iter::repeat(*r).take(c as usize))
                .collect();
            fit_both(&resampled).map(|(bg, _, gg, _)| (bg, gg))
        })
        .map_err(e)?;
        b.interval(|(bg, gg)| {
            clv(bg, gg, &table.records, &opts)
                .map(|v| customer_equity(&v))
                .unwrap_or(f64::NAN)
        })
        .map(|ci| {
            json!({"lo": ci.lo, "median": ci.median, "hi": ci.hi,
                   "replicates": b.models.len(), "failed": b.failed})
        })
    } else {
        None
    };

    let [r, alpha, a, b] = bg.params();
    let [p, q, gamma] = gg.params();
    let summary = json!({
        "total_clv": customer_equity(&values),
        "customers": values.len(),
        "horizon_months": months,
        "monthly_discount": discount,
        "margin": margin,
        "weeks_per_month": weeks,
        "bgnbd": {
            "params": {"r": r, "alpha": alpha, "a": a, "b": b},
            "log_likelihood": bg_report.log_likelihood,
            "converged": bg_report.termination.converged(),
        },
        "gg": {
            "params": {"p": p, "q": q, "gamma": gamma},
            "log_likelihood": gg_report.log_likelihood,
            "converged": gg_report.termination.converged(),
        },
        "spend_frequency_correlation": spend_frequency_correlation(&table.records),
        "elapsed_ms": elapsed.as_secs_f64() * 1e3,
    });
    let mut summary = summary;
    if let Some(ci) = interval {
        summary["total_clv_interval"] = ci;
    }
    if let Some(path) = out {
        let f = File::create(&path).map_err(|e| format!("{path}: {e}"))?;
        let mut w = BufWriter::new(f);
        let io = |e: std::io::Error| format!("{path}: {e}");
        writeln!(w, "id,clv").map_err(io)?;
        for (id, v) in table.ids().zip(&values) {
            writeln!(w, "{id},{v}").map_err(io)?;
        }
        w.flush().map_err(io)?;
    }
    Ok((summary, json))
}

fn main() -> ExitCode {
    match run() {
        Ok((v, json)) => {
            if json {
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
