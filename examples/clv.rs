//! Customer lifetime value from a per-customer summary: fits BG/NBD (purchases) and
//! Gamma-Gamma (spend), then discounts the expected margin month by month.
//!
//! ```text
//! cargo run --release --example clv -- FILE --horizon-months 12 --monthly-discount 0.01 --json \
//!     [--out clv.csv] [--margin 1.0] [--weeks-per-month 4.345] [--bootstrap N --seed S] \
//!     [--allow-nonconverged]
//! ```
//! FILE is a summary CSV `ID,x,t_x,T,zbar` in weeks (or lifetimes' `frequency,recency,T,
//! monetary_value`). The convention is lifetimes': months of 4.345 weeks, purchases of
//! month k discounted by (1 + d)^k. `--json` prints `total_clv`, `customers`, the fitted
//! `bgnbd` and `gg` parameters with their log-likelihoods, the spend-frequency correlation
//! the Gamma-Gamma model assumes small, and `elapsed_ms` (fits and values, without reading
//! the file). `--out` writes `id,clv`. `--bootstrap N` refits both models on N resamples of
//! the customers (seeded, in parallel) and adds `total_clv_interval` {lo, median, hi}, a
//! 95% percentile interval for customer equity.
//!
//! Either fit stopping at the iteration cap instead of a maximum of the likelihood is an
//! error (status 1) naming the file, the model and the termination, unless
//! `--allow-nonconverged` (the JSON then says `converged` false). Without it, a resample
//! whose refits do not converge counts as `failed`. A Gamma-Gamma fit with q ≤ 1 has an
//! infinite mean spend, so the value is undefined: an error (status 1) naming the file;
//! a resample with q ≤ 1 counts as `failed`.
//!
//! Nulls, each with its reason: `spend_frequency_correlation` is undefined with fewer
//! than two repeat buyers, or when their purchase counts or their mean spends are all
//! equal; `spend_frequency_correlation_note` then says which.

mod common;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use acrm::io::read_summary_csv_path;
use acrm::numerics::{BootstrapOptions, FitReport};
use acrm::persistency::{BgNbd, FitOptions};
use acrm::profitability::{spend_frequency_correlation, ClvOptions, GammaGamma};
use acrm::summary::{Compact, Records, Rfm};
use acrm::Weeks;
use clap::Parser;
use common::{outln, Stop};
use serde_json::json;

/// Customer lifetime value from a per-customer summary: fits BG/NBD (purchases) and
/// Gamma-Gamma (spend), then discounts the expected margin month by month, as lifetimes
/// does (months of 4.345 weeks, purchases of month k discounted by (1 + d)^k).
///
/// JSON keys: `total_clv`, `customers`, `horizon_months`, `monthly_discount`, `margin`,
/// `weeks_per_month`, `bgnbd` and `gg` (`params`, `log_likelihood`, `converged`),
/// `spend_frequency_correlation` (with `spend_frequency_correlation_note` when it is
/// null), `elapsed_ms` (fits and values, without reading the
/// file), and with --bootstrap `total_clv_interval` (`lo`, `median`, `hi`, `replicates`,
/// `failed`: resamples whose fits failed, or did not converge without
/// --allow-nonconverged).
#[derive(Parser)]
#[command(name = "clv", args_override_self = true)]
struct Args {
    /// Summary CSV `ID,x,t_x,T,zbar` in weeks (or lifetimes'
    /// `frequency,recency,T,monetary_value`).
    #[arg(value_name = "FILE")]
    file: String,
    /// Months of value: a whole number ≥ 1.
    #[arg(long, value_name = "N", default_value = "12", value_parser = months)]
    horizon_months: u32,
    /// Discount rate per month: the purchases of month k count 1 / (1 + D)^k.
    #[arg(
        long,
        value_name = "D",
        default_value_t = 0.01,
        allow_negative_numbers = true
    )]
    monthly_discount: f64,
    /// Print the JSON object on one line (pretty-printed without it).
    #[arg(long)]
    json: bool,
    /// Write `id,clv` per customer to this CSV.
    #[arg(long, value_name = "clv.csv")]
    out: Option<String>,
    /// Margin: the share of spend that is profit.
    #[arg(
        long,
        value_name = "M",
        default_value = "1.0",
        allow_negative_numbers = true
    )]
    margin: f64,
    /// Weeks in a month (the summary's time unit is weeks).
    #[arg(
        long,
        value_name = "W",
        default_value_t = 4.345,
        allow_negative_numbers = true
    )]
    weeks_per_month: f64,
    /// Refit both models on N resamples of the customers (seeded, in parallel) for a
    /// 95% percentile interval of the total; at least 2 to take effect.
    #[arg(long, value_name = "N", default_value = "0", value_parser = whole)]
    bootstrap: u64,
    /// Seed of the resamples.
    #[arg(long, value_name = "S", default_value = "0", value_parser = whole)]
    seed: u64,
    /// Print the value of fits that stopped at the iteration cap instead of failing
    /// (their `converged` is false).
    #[arg(long)]
    allow_nonconverged: bool,
}

/// A whole number ≥ 0 (written `200` or `200.0`).
fn whole(v: &str) -> Result<u64, String> {
    let n: f64 = v.parse().map_err(|_| format!("{v:?} is not a number"))?;
    if n >= 0.0 && n.fract() == 0.0 && n < 9e15 {
        Ok(n as u64)
    } else {
        Err(format!("{v} must be a whole number ≥ 0"))
    }
}

/// A horizon in months: a whole number ≥ 1.
fn months(v: &str) -> Result<u32, String> {
    match whole(v) {
        Ok(n) if n >= 1 && n <= u64::from(u32::MAX) => Ok(n as u32),
        _ => Err(format!("{v} must be a whole number ≥ 1")),
    }
}

fn run(args: &Args) -> Result<serde_json::Value, Stop> {
    let file = &args.file;
    let table = read_summary_csv_path(file).map_err(|e| format!("{file}: {e}"))?;
    if !table.has_spend {
        return Err(
            format!("{file}: needs a zbar (or mean_spend, or monetary_value) column").into(),
        );
    }
    let (months, discount, margin, weeks) = (
        args.horizon_months,
        args.monthly_discount,
        args.margin,
        args.weeks_per_month,
    );
    let start = Instant::now();
    let e = |e: acrm::Error| format!("{file}: {e}");
    type Fits = (BgNbd, FitReport, GammaGamma, FitReport);
    let fit_both = |records: &[Rfm]| -> acrm::Result<Fits> {
        let patterns = Compact::<Weeks>::from_records(records);
        let bg = FitOptions::new().fit::<BgNbd>(&patterns)?;
        let gg = FitOptions::new().fit::<GammaGamma>(records)?;
        Ok((bg.model, bg.report, gg.model, gg.report))
    };
    let (bg, bg_report, gg, gg_report) =
        fit_both(&table.records).map_err(|err| e(table.locate(err)))?;
    for (model, report) in [("bgnbd", &bg_report), ("gg", &gg_report)] {
        common::converged(
            file,
            model,
            report.termination.converged(),
            report.termination,
            report.iterations,
            args.allow_nonconverged,
        )?;
    }
    let records = Records::new(table.records.clone());
    let opts = ClvOptions::new()
        .periods(months)
        .period_length(weeks)
        .discount(discount)
        .margin(margin);
    let [_, q, _] = gg.params();
    if q <= 1.0 {
        return Err(format!(
            "{file}: the Gamma-Gamma fit has q = {q} ≤ 1, an infinite mean spend per \
             transaction: lifetime values are undefined"
        )
        .into());
    }
    let clv = opts.compute(&bg, &gg, &records).map_err(e)?;
    if !clv.equity.is_finite() {
        return Err(format!("{file}: the total lifetime value is not finite").into());
    }
    let values = &clv.values;
    let elapsed = start.elapsed();
    // Uncertainty: refit both models on resampled customers; the customer equity of the
    // same customers under each replicate's models gives the interval.
    let interval = if args.bootstrap >= 2 {
        let ones = vec![1u32; table.records.len()];
        let b_opts = BootstrapOptions::new()
            .replicates(args.bootstrap as usize)
            .seed(args.seed);
        let b = b_opts
            .fit(&ones, |counts| {
                let resampled: Vec<Rfm> = table
                    .records
                    .iter()
                    .zip(counts)
                    .flat_map(|(r, &c)| std::iter::repeat(*r).take(c as usize))
                    .collect();
                let (bg, bg_report, gg, gg_report) = fit_both(&resampled)?;
                let stalled = [&bg_report, &gg_report]
                    .iter()
                    .any(|r| !r.termination.converged());
                if stalled && !args.allow_nonconverged {
                    return Err(acrm::Error::Numerical {
                        procedure: "bootstrap refit",
                        reason: "a fit did not converge".into(),
                    });
                }
                if gg.params()[1] <= 1.0 {
                    return Err(acrm::Error::Numerical {
                        procedure: "bootstrap refit",
                        reason: "Gamma-Gamma q ≤ 1: infinite mean spend".into(),
                    });
                }
                Ok((bg, gg))
            })
            .map_err(e)?;
        b.interval(|(bg, gg)| {
            opts.compute(bg, gg, &records)
                .map(|c| c.equity)
                .ok()
                .filter(|v| v.is_finite())
                .unwrap_or(f64::NAN)
        })
        .map(|ci| {
            json!({"lo": ci.lo, "median": ci.median, "hi": ci.hi,
                   "replicates": b.models.len(), "failed": b.failed})
        })
    } else {
        None
    };

    let correlation = spend_frequency_correlation(&table.records);
    let [r, alpha, a, b] = bg.params();
    let [p, q, gamma] = gg.params();
    let summary = json!({
        "total_clv": clv.equity,
        "customers": values.len(),
        "horizon_months": f64::from(months),
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
        "spend_frequency_correlation": correlation,
        "elapsed_ms": elapsed.as_secs_f64() * 1e3,
    });
    let mut summary = summary;
    if correlation.is_none() {
        let repeat = table.records.iter().filter(|r| r.x > 0).count();
        summary["spend_frequency_correlation_note"] = json!(common::correlation_note(repeat));
    }
    if let Some(ci) = interval {
        summary["total_clv_interval"] = ci;
    }
    if let Some(path) = &args.out {
        let f = File::create(path).map_err(|e| format!("{path}: {e}"))?;
        let mut w = BufWriter::new(f);
        let io = |e: std::io::Error| format!("{path}: {e}");
        writeln!(w, "id,clv").map_err(io)?;
        for (id, v) in table.ids().zip(values) {
            writeln!(w, "{id},{v}").map_err(io)?;
        }
        w.flush().map_err(io)?;
    }
    Ok(summary)
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
