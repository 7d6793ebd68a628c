//! Writes a seeded synthetic transaction log as CSV.
//!
//! ```text
//! cargo run --release --example synthesize -- --customers 100000 --seed 42 \
//!     [--model bgnbd|pareto] [--times] --out FILE.csv
//! ```
//! Columns: `customer_id,date,amount,cost,quantity,product_id,channel,region`; customers are
//! acquired over the 12 weeks from 2024-01-01 and observed to 2025-12-31, with the CDNOW
//! parameter estimates (see `acrm::synth::SynthOptions`).

use std::process::ExitCode;

use acrm::io::write_transactions_csv;
use acrm::synth::{PurchaseProcess, SynthOptions};
use acrm::Scope;
use acrm::Weeks;
use clap::{Parser, ValueEnum};

/// Writes a seeded synthetic transaction log as CSV
/// (`customer_id,date,amount,cost,quantity,product_id,channel,region`): customers acquired
/// over the 12 weeks from 2024-01-01 and observed to 2025-12-31, with the CDNOW parameter
/// estimates.
#[derive(Parser)]
#[command(name = "synthesize", args_override_self = true)]
struct Args {
    /// Number of customers.
    #[arg(long, value_name = "N", default_value_t = 100_000)]
    customers: usize,
    /// Seed: the same seed writes the same file.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// Purchase process.
    #[arg(long, value_enum, default_value = "bgnbd")]
    model: Model,
    /// Give transactions times of day (dates become date-times).
    #[arg(long)]
    times: bool,
    /// The CSV to write.
    #[arg(long, value_name = "FILE.csv")]
    out: String,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Model {
    /// BG/NBD with the CDNOW estimates of Fader, Hardie & Lee (2005).
    Bgnbd,
    /// Pareto/NBD with the CDNOW estimates of Fader, Hardie & Lee (2005, "RFM and CLV").
    Pareto,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut opts = SynthOptions::<Weeks>::new()
        .customers(args.customers)
        .seed(args.seed)
        .times(args.times);
    if args.model == Model::Pareto {
        opts = opts.process(PurchaseProcess::ParetoNbd {
            r: 0.553,
            alpha: 10.578,
            s: 0.606,
            beta: 11.669,
        });
    }
    let out = &args.out;
    let result = opts.generate().and_then(|s| {
        let f = std::fs::File::create(out)?;
        let all = s.dataset.view(&Scope::all());
        write_transactions_csv(&all, f)?;
        Ok(all.transactions())
    });
    match result {
        Ok(n) => {
            println!("{n} transactions written to {out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
