//! Uplift modelling of a randomised campaign from a CSV.
//!
//! ```text
//! cargo run --release --example uplift -- fit FILE --treatment COLUMN --outcome COLUMN \
//!     --model two-model|class-transformation|tree|forest [--id COLUMN] \
//!     [--features COL,COL] [--classifier logit|forest] [--trees N] [--max-depth D] \
//!     [--criterion kl|ed|chi] [--seed S] --out scores.csv
//! ```
//! `fit` fits the model to every row and writes each row's uplift score (with its id
//! when `--id` is given) to `--out`; it prints a JSON summary of the fit.
//!
//! Try it on the test data:
//! ```text
//! cargo run --release --example uplift -- fit tests/data/promotion/uplift_models/campaign.csv \
//!     --treatment treatment --outcome outcome --id id --model forest --trees 20 \
//!     --out /tmp/scores.csv
//! ```

mod fit;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Uplift models of a randomised campaign.
#[derive(Parser)]
#[command(name = "uplift", args_override_self = true)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Fit an uplift model to a campaign CSV and write every row's uplift score.
    Fit(fit::FitArgs),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.command {
        Command::Fit(a) => fit::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
