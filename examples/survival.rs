//! Kaplan–Meier survival (and the log-rank test across groups) of a CSV with a duration
//! and an event column.
//!
//! ```text
//! cargo run --release --example survival -- FILE --duration COL --event COL \
//!     [--group COL] [--at T1,T2,..] [--weights COL] [--confidence 0.95] --json
//! ```
//! `--json` prints `n`, `events`, `median` (null when the curve stays above ½),
//! `median_interval` ([lo, hi], null bounds where not reached), `survival_at` (a list of
//! {t, s, lo, hi} for `--at`), `elapsed_ms`, and with `--group` a `logrank` object
//! {statistic, df, p_value} and `groups`: per group {group, n, events, median,
//! survival_at}. Without `--json` it prints the same as text. Events are 0/1 or
//! true/false.

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::Table;
use acrm::persistency::{KaplanMeier, KaplanMeierOptions, SurvivalData};
use serde_json::{json, Value};

const USAGE: &str = "usage: survival FILE --duration COL --event COL [--group COL] \
[--at T1,T2,..] [--weights COL] [--confidence 0.95] --json";

fn summary(km: &KaplanMeier, at: &[f64]) -> Value {
    let (lo, hi) = km.median_interval();
    json!({
        "n": km.n,
        "events": km.events,
        "median": km.median(),
        "median_interval": [lo, hi],
        "survival_at": at.iter().map(|&t| km.survival_at(t)).collect::<Vec<_>>(),
    })
}

fn run() -> Result<(), String> {
    let mut it = std::env::args().skip(1);
    let (mut file, mut duration, mut event, mut group, mut weights) =
        (None, None, None, None, None);
    let (mut at, mut json_out, mut confidence) = (Vec::new(), false, 0.95);
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match a.as_str() {
            "--duration" => duration = Some(value("--duration")?),
            "--event" => event = Some(value("--event")?),
            "--group" => group = Some(value("--group")?),
            "--weights" => weights = Some(value("--weights")?),
            "--confidence" => {
                let v = value("--confidence")?;
                confidence = v
                    .parse()
                    .map_err(|_| format!("--confidence {v:?} is not a number"))?;
            }
            "--at" => {
                at = value("--at")?
                    .split(',')
                    .map(|t| {
                        t.trim()
                            .parse::<f64>()
                            .map_err(|_| format!("--at: {t:?} is not a number"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "--json" => json_out = true,
            "-h" | "--help" => return Err(USAGE.into()),
            f if !f.starts_with("--") && file.is_none() => file = Some(f.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let file = file.ok_or(USAGE)?;
    let duration = duration.ok_or("--duration is required")?;
    let event = event.ok_or("--event is required")?;
    let err = |e: acrm::Error| format!("{file}: {e}");
    let table = Table::read_path(&file).map_err(err)?;
    let t0 = Instant::now();
    let mut data = SurvivalData::new(
        table.numbers(&duration).map_err(err)?,
        table.flags(&event).map_err(err)?,
    )
    .map_err(err)?;
    if let Some(w) = &weights {
        data = data
            .with_weights(table.numbers(w).map_err(err)?)
            .map_err(err)?;
    }
    let opts = KaplanMeierOptions::new().confidence(confidence);
    let km = opts.fit(&data).map_err(err)?;
    let mut out = summary(&km, &at);
    if let Some(g) = &group {
        let labels = table.text(g).map_err(err)?;
        let grouped = opts.fit_groups(&data, &labels).map_err(err)?;
        out["groups"] = grouped
            .groups
            .iter()
            .zip(&grouped.curves)
            .map(|(g, c)| {
                let mut s = summary(c, &at);
                s["group"] = json!(g);
                s
            })
            .collect();
        out["logrank"] = match &grouped.log_rank {
            Some(lr) => json!({"statistic": lr.statistic, "df": lr.df, "p_value": lr.p_value}),
            None => Value::Null,
        };
    }
    out["elapsed_ms"] = json!(t0.elapsed().as_secs_f64() * 1e3);
    if json_out {
        println!("{out}");
    } else {
        println!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
    }
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
