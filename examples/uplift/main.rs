//! Uplift modelling from the command line: fit a model, then evaluate its scores.
//!
//! ```text
//! cargo run --release --example uplift -- fit FILE --treatment COLUMN --outcome COLUMN \
//!     --model two-model|class-transformation|tree|forest [--id COLUMN] \
//!     [--features COL,COL] [--classifier logit|forest] [--trees N] [--max-depth D] \
//!     [--criterion kl|ed|chi] [--seed S] --out scores.csv
//! cargo run --release --example uplift -- evaluate FILE --score COLUMN \
//!     --treatment COLUMN --outcome COLUMN [--k 0.1,0.2,0.3,0.5] [--bins 10] --json [--svg DIR]
//! ```
//! `fit` fits the model to every row and writes each row's uplift score (with its id
//! when `--id` is given) to `--out`, printing a JSON summary of the fit. `evaluate` reads
//! a scored CSV (a header row; the score, 0/1 treatment and 0/1 outcome columns named by
//! the options) and reports the metrics of scikit-uplift 0.5: see `evaluate.rs`.
//!
//! The two chain on the test data:
//! ```text
//! cargo run --release --example uplift -- fit tests/data/promotion/uplift_models/campaign.csv \
//!     --treatment treatment --outcome outcome --id id --model forest --trees 20 \
//!     --out /tmp/scores.csv
//! ```
//! `/tmp/scores.csv` holds `id,uplift`; evaluating needs the treatment and outcome next to
//! the score, which the campaign file has by `id`.

#[path = "../common/mod.rs"]
mod common;
mod evaluate;
mod fit;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Uplift modelling: fit a model, evaluate scored customers.
#[derive(Parser)]
#[command(name = "uplift", args_override_self = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fit an uplift model to a campaign CSV and write every row's uplift score.
    Fit(fit::FitArgs),
    /// Qini and uplift AUC, uplift at k, uplift by percentile of a scored file.
    Evaluate(evaluate::EvaluateArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Fit(a) => fit::run(a),
        Command::Evaluate(a) => evaluate::run(&a),
    };
    common::exit(result)
}
