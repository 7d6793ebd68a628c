//! Uplift modelling from the command line: one subcommand per step.
//!
//! ```text
//! cargo run --release --example uplift -- evaluate FILE --score COLUMN \
//!     --treatment COLUMN --outcome COLUMN [--k 0.1,0.2,0.3,0.5] [--bins 10] --json [--svg DIR]
//! ```
//! `evaluate` reads a scored CSV (a header row; the score, 0/1 treatment and 0/1 outcome
//! columns named by the options) and reports the metrics of scikit-uplift 0.5: see
//! `evaluate.rs`.

mod evaluate;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Uplift modelling: evaluate scored customers.
#[derive(Parser, Debug)]
#[command(name = "uplift")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Qini and uplift AUC, uplift at k, uplift by percentile of a scored file
    Evaluate(evaluate::EvaluateArgs),
}

fn main() -> ExitCode {
    let result = match Cli::parse().command {
        Command::Evaluate(args) => evaluate::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
