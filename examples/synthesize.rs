//! Writes a seeded synthetic transaction log, or order lines, as CSV.
//!
//! ```text
//! cargo run --release --example synthesize -- --customers 100000 --seed 42 \
//!     [--model bgnbd|pareto] [--times] --out FILE.csv
//! cargo run --release --example synthesize -- --kind orders \
//!     [--lines N | --customers N] --seed 42 --out FILE.csv
//! ```
//! Transactions (the default kind): columns
//! `customer_id,date,amount,cost,quantity,product_id,channel,region`; customers are
//! acquired over the 12 weeks from 2024-01-01 and observed to 2025-12-31, with the CDNOW
//! parameter estimates (see `acrm::synth::SynthOptions`).
//!
//! Orders: columns
//! `order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost`
//! over 2023 and 2024, with the changes between the years that `acrm::synth::OrderLineSynth`
//! documents.

use std::io::BufWriter;
use std::process::ExitCode;

use acrm::io::write_transactions_csv;
use acrm::synth::{OrderLineSynth, PurchaseProcess, SynthOptions};
use acrm::Scope;
use acrm::Weeks;
use clap::{Parser, ValueEnum};

/// Writes a seeded synthetic CSV. `--kind transactions` (the default): a transaction log
/// (`customer_id,date,amount,cost,quantity,product_id,channel,region`), customers acquired
/// over the 12 weeks from 2024-01-01 and observed to 2025-12-31, with the CDNOW parameter
/// estimates. `--kind orders`: order lines
/// (`order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost`)
/// over 2023 and 2024 with planted changes between the years (see acrm::synth::OrderLineSynth).
#[derive(Parser)]
#[command(name = "synthesize", args_override_self = true)]
struct Args {
    /// What to write.
    #[arg(long, value_enum, default_value = "transactions")]
    kind: Kind,
    /// Number of customers (default 100000; with `--kind orders`, unless `--lines` is given).
    #[arg(long, value_name = "N")]
    customers: Option<usize>,
    /// Orders only: aim at about N lines (the number of customers follows from it).
    #[arg(long, value_name = "N", conflicts_with = "customers")]
    lines: Option<u64>,
    /// Seed: the same seed writes the same file.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// Transactions only: the purchase process.
    #[arg(long, value_enum, default_value = "bgnbd")]
    model: Model,
    /// Transactions only: give transactions times of day (dates become date-times).
    #[arg(long)]
    times: bool,
    /// The CSV to write.
    #[arg(long, value_name = "FILE.csv")]
    out: String,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Kind {
    /// A transaction log of BG/NBD or Pareto/NBD customers.
    Transactions,
    /// Order lines over two years, for the sales cube and its decompositions.
    Orders,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Model {
    /// BG/NBD with the CDNOW estimates of Fader, Hardie & Lee (2005).
    Bgnbd,
    /// Pareto/NBD with the CDNOW estimates of Fader, Hardie & Lee (2005, "RFM and CLV").
    Pareto,
}

const DEFAULT_CUSTOMERS: usize = 100_000;

fn transactions(args: &Args) -> acrm::Result<String> {
    let mut opts = SynthOptions::<Weeks>::new()
        .customers(args.customers.unwrap_or(DEFAULT_CUSTOMERS))
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
    let s = opts.generate()?;
    let f = std::fs::File::create(&args.out)?;
    let all = s.dataset.view(&Scope::all());
    write_transactions_csv(&all, f)?;
    Ok(format!(
        "{} transactions written to {}",
        all.transactions(),
        args.out
    ))
}

fn orders(args: &Args) -> acrm::Result<String> {
    let mut synth = OrderLineSynth::new().seed(args.seed);
    synth = match (args.lines, args.customers) {
        (Some(n), _) => synth.lines(n),
        (None, c) => synth.customers(c.unwrap_or(DEFAULT_CUSTOMERS)),
    };
    let t = std::time::Instant::now();
    let f = std::fs::File::create(&args.out)?;
    let n = synth.write_csv(BufWriter::with_capacity(1 << 20, f))?;
    Ok(format!(
        "{} order lines ({} orders, {} customers) written to {} in {:.2} s",
        n.lines,
        n.orders,
        n.customers,
        args.out,
        t.elapsed().as_secs_f64()
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.kind {
        Kind::Transactions if args.lines.is_some() => {
            eprintln!("error: --lines applies to --kind orders only");
            return ExitCode::FAILURE;
        }
        Kind::Orders if args.times || args.model != Model::Bgnbd => {
            eprintln!("error: --model and --times apply to --kind transactions only");
            return ExitCode::FAILURE;
        }
        Kind::Transactions => transactions(&args),
        Kind::Orders => orders(&args),
    };
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
