//! Cox proportional-hazards regression of a CSV with duration, event and covariate
//! columns.
//!
//! ```text
//! cargo run --release --example cox -- FILE --duration COL --event COL \
//!     --covariates A,B,C [--ties efron|breslow] [--at T1,T2,..] --json
//! ```
//! `--json` prints `covariates` (name → {coef, se, hazard_ratio, hazard_ratio_lo,
//! hazard_ratio_hi, z, p}), `partial_log_likelihood`, `null_log_likelihood`,
//! `concordance`, `rows`, `events`, `ties`, `iterations`, `read_ms` and `elapsed_ms`
//! (the fit alone), and with `--at` `baseline_survival_at` ({t, s} per time: Breslow's
//! baseline survival at the covariate means). Used by
//! benches/compare/survival_vs_lifelines.py.

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::Table;
use acrm::ndarray::Array2;
use acrm::persistency::{CoxOptions, CoxPh, SurvivalData, Ties};
use serde_json::{json, Map};

const USAGE: &str = "usage: cox FILE --duration COL --event COL --covariates A,B,C \
[--ties efron|breslow] [--at T1,T2,..] --json";

fn run() -> Result<(), String> {
    let mut it = std::env::args().skip(1);
    let (mut file, mut duration, mut event, mut covariates) = (None, None, None, Vec::new());
    let mut ties = Ties::Efron;
    let mut at = Vec::new();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--duration" => duration = Some(value("--duration")?),
            "--event" => event = Some(value("--event")?),
            "--covariates" => {
                covariates = value("--covariates")?
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect()
            }
            "--ties" => {
                ties = match value("--ties")?.as_str() {
                    "efron" => Ties::Efron,
                    "breslow" => Ties::Breslow,
                    other => return Err(format!("--ties {other:?}: use efron or breslow")),
                }
            }
            "--at" => {
                at = value("--at")?
                    .split(',')
                    .map(|t| {
                        t.trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|t| t.is_finite())
                            .ok_or(format!("--at: {t:?} is not a time"))
                    })
                    .collect::<Result<_, _>>()?
            }
            "--json" => {}
            "-h" | "--help" => return Err(USAGE.into()),
            f if !f.starts_with("--") && file.is_none() => file = Some(f.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let file = file.ok_or(USAGE)?;
    let duration = duration.ok_or("--duration is required")?;
    let event = event.ok_or("--event is required")?;
    if covariates.is_empty() {
        return Err("--covariates is required".into());
    }
    let err = |e: acrm::Error| format!("{file}: {e}");
    let t0 = Instant::now();
    let table = Table::read_path(&file).map_err(err)?;
    let data = SurvivalData::new(
        table.numbers(&duration).map_err(err)?,
        table.flags(&event).map_err(err)?,
    )
    .map_err(err)?;
    let mut x = Array2::zeros((table.len(), covariates.len()));
    for (j, c) in covariates.iter().enumerate() {
        for (i, v) in table.numbers(c).map_err(err)?.into_iter().enumerate() {
            x[[i, j]] = v;
        }
    }
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let (model, report) =
        CoxPh::fit(&data, x.view(), &covariates, &CoxOptions::new().ties(ties)).map_err(err)?;
    let elapsed_ms = t1.elapsed().as_secs_f64() * 1e3;
    let mut table_out = Map::new();
    for c in &report.coefficients {
        table_out.insert(
            c.name.clone(),
            json!({"coef": c.coef, "se": c.se, "hazard_ratio": c.hazard_ratio,
                   "hazard_ratio_lo": c.hazard_ratio_lo, "hazard_ratio_hi": c.hazard_ratio_hi,
                   "z": c.z, "p": c.p}),
        );
    }
    let baseline = model.baseline().ok_or("the fit returned no baseline")?;
    let baseline_at: Vec<_> = at
        .iter()
        .map(|&t| json!({"t": t, "s": (-baseline.cumulative_hazard_at(t)).exp()}))
        .collect();
    let mut out = json!({
        "covariates": table_out,
        "partial_log_likelihood": report.partial_log_likelihood,
        "null_log_likelihood": report.null_log_likelihood,
        "concordance": report.concordance,
        "rows": report.rows,
        "events": report.events,
        "ties": match report.ties { Ties::Efron => "efron", Ties::Breslow => "breslow" },
        "iterations": report.fit.iterations,
        "read_ms": read_ms,
        "elapsed_ms": elapsed_ms,
    });
    if !at.is_empty() {
        out["baseline_survival_at"] = baseline_at.into();
    }
    println!("{out}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
