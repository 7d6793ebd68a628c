//! Multi-touch attribution: which channels earned the conversions of the touch paths,
//! by seven models side by side (first touch, last touch, linear, position based, time
//! decay, the exact Markov chain's removal effects and Shapley values).
//!
//! ```text
//! cargo run --release --example attribution -- FILE --format paths|touches
//!     [--half-life H] [--markov-order K] [--json]
//! ```
//! `--format paths`: FILE is an aggregated path file,
//! `path;total_conversions;total_conversion_value;total_null` (a header line, `;`
//! separated, the channels of a path separated by `>`), as `acrm::io::read_paths`
//! reads it. `--format touches`: FILE is a touch log with a header, one row per touch:
//! `customer_id` (or `customer`), `time` (`YYYY-MM-DD` or `YYYY-MM-DD HH:MM:SS`),
//! `channel`, and optionally `campaign`, `cost`, `conversion` (the conversion marker,
//! 1/0: the customer converted at this touch) and `value` (the conversion's value), as
//! `acrm::io::read_touches` reads it; each customer's touches up to a marked touch form
//! a converting path, those after the last one a non-converting path.
//!
//! `--half-life` (default 7) is the time decay's half-life: in touches for `paths`
//! (each touch's weight halves per touch further from the conversion), in days for
//! `touches` (from the touch's time to the conversion's).
//!
//! `--json` prints one object: `channels`, `total_conversions`, `total_value`,
//! `p_conversion` (the Markov chain's probability of conversion from the start state),
//! `removal_effects` (channel → RE), `half_life` with `half_life_unit`, `markov_order`,
//! and `models`: for each of `first_touch, last_touch, linear, position_based,
//! time_decay, markov, shapley` an object `{conversions: {channel: x}, value:
//! {channel: x}}`. Without it, a table. Bad input prints the file line, column and
//! value, and exits non-zero.

mod common;

use std::process::ExitCode;

use acrm::data::{Conversions, Paths};
use acrm::io::{read_paths_path, read_touches_path};
use acrm::promotion::{Attribution, AttributionModel, AttributionOptions, DecayUnit};
use clap::{Parser, ValueEnum};
use common::{out, outln, Stop};
use serde_json::{json, Map, Value};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    /// Aggregated paths `path;total_conversions;total_conversion_value;total_null`
    Paths,
    /// A touch log with conversion markers
    Touches,
}

/// Multi-touch attribution by seven models.
#[derive(Parser, Debug)]
#[command(name = "attribution")]
struct Args {
    /// The path file or touch log
    file: String,
    /// What FILE holds
    #[arg(long, value_enum)]
    format: Format,
    /// Time decay half-life: touches for `paths`, days for `touches`
    #[arg(long = "half-life", default_value_t = 7.0)]
    half_life: f64,
    /// Order of the Markov chain
    #[arg(long = "markov-order", default_value_t = 1)]
    markov_order: usize,
    /// Print one JSON object
    #[arg(long)]
    json: bool,
}

fn by_channel(att: &Attribution, values: &[f64]) -> Value {
    Value::Object(
        att.channels
            .iter()
            .zip(values)
            .map(|(c, &v)| (c.clone(), json!(v)))
            .collect::<Map<_, _>>(),
    )
}

fn run(args: &Args) -> Result<(), Stop> {
    let paths = match args.format {
        Format::Paths => read_paths_path(&args.file),
        Format::Touches => read_touches_path(&args.file)
            .and_then(|t| Paths::from_touches(&t.everyone(), Conversions::Marked)),
    }
    .map_err(|e| format!("{}: {e}", args.file))?;
    let att = AttributionOptions::new()
        .half_life(args.half_life)
        .markov_order(args.markov_order)
        .compute(&paths)
        .map_err(|e| format!("{}: {e}", args.file))?;
    let unit = match att.half_life_unit {
        DecayUnit::Touches => "touches",
        DecayUnit::Days => "days",
    };
    if args.json {
        let models: Map<String, Value> = AttributionModel::ALL
            .iter()
            .map(|&m| {
                let c = att.credit(m);
                (
                    m.name().to_string(),
                    json!({
                        "conversions": by_channel(&att, &c.conversions),
                        "value": by_channel(&att, &c.value),
                    }),
                )
            })
            .collect();
        let out = json!({
            "channels": att.channels,
            "paths": att.paths,
            "total_conversions": att.total_conversions,
            "total_value": att.total_value,
            "total_null": att.total_nulls,
            "p_conversion": att.markov.p_conversion,
            "removal_effects": by_channel(&att, &att.markov.removal_effects),
            "markov_order": att.markov.order,
            "half_life": att.half_life,
            "half_life_unit": unit,
            "models": models,
        });
        outln!("{out}");
        return Ok(());
    }
    outln!(
        "{} distinct paths, {} conversions worth {:.2}, {} without conversion",
        att.paths,
        att.total_conversions,
        att.total_value,
        att.total_nulls
    );
    outln!(
        "Markov chain (order {}): P(conversion) = {:.6}; time decay half-life {} {unit}",
        att.markov.order,
        att.markov.p_conversion,
        att.half_life
    );
    for (what, pick) in [("conversions", true), ("value", false)] {
        outln!("\n{what} credited");
        out!("{:<14}", "channel");
        for m in AttributionModel::ALL {
            out!(" {:>14}", m.name());
        }
        outln!(" {:>14}", "removal_effect");
        for (k, c) in att.channels.iter().enumerate() {
            out!("{c:<14}");
            for m in AttributionModel::ALL {
                let credit = att.credit(m);
                let v = if pick {
                    credit.conversions[k]
                } else {
                    credit.value[k]
                };
                out!(" {v:>14.3}");
            }
            outln!(" {:>14.6}", att.markov.removal_effects[k]);
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run(&Args::parse()))
}
