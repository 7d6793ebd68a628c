//! Writes a seeded synthetic transaction log, order lines or customer records, as CSV.
//!
//! ```text
//! cargo run --release --example synthesize -- --customers 100000 --seed 42 \
//!     [--model bgnbd|pareto] [--times] --out FILE.csv
//! cargo run --release --example synthesize -- --kind orders \
//!     [--lines N | --customers N] --seed 42 --out FILE.csv
//! cargo run --release --example synthesize -- --kind people --people N --seed 42 \
//!     [--sources dealer,service_desk,web] [--by-source] --out FILE.csv|DIR
//! ```
//! People: customer records with planted duplicates,
//! `rec_id,source,first_name,surname,dob,email,phone,postcode,address,city,person_id`
//! (`person_id` is the truth; see `acrm::synth::PeopleSynth`); `--sources` keeps some of the
//! default sources (dealer, service_desk, call_centre, web); `--by-source` writes into the
//! directory `--out` one `<source>.csv` per source and a `<source>_transactions.csv`
//! (`customer_id,date,amount`, 0–3 purchases in 2025 for each record id) for loading demos.
//!
//! Transactions (the default kind): columns
//! `customer_id,date,amount,cost,quantity,product_id,channel,region`; customers are
//! acquired over the 12 weeks from 2024-01-01 and observed to 2025-12-31, with the CDNOW
//! parameter estimates (see `acrm::synth::SynthOptions`).
//!
//! Orders: columns
//! `order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost`
//! over 2023 and 2024, with the changes between the years that `acrm::synth::OrderLineSynth`
//! documents.

mod common;

use std::io::BufWriter;
use std::process::ExitCode;

use acrm::io::write_transactions_csv;
use acrm::synth::{OrderLineSynth, PeopleSource, PeopleSynth, PurchaseProcess, SynthOptions};
use acrm::Scope;
use acrm::Weeks;
use clap::{Parser, ValueEnum};
use common::outln;

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
    /// People only: number of people (default 2600, about 5,000 records).
    #[arg(long, value_name = "N")]
    people: Option<usize>,
    /// People only: comma-separated subset of the default sources.
    #[arg(long, value_name = "S,S,...")]
    sources: Option<String>,
    /// People only: write one CSV per source (and its transactions) into the directory `--out`.
    #[arg(long)]
    by_source: bool,
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
    /// Customer records from several sources with planted duplicates (identity resolution).
    People,
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

fn people(args: &Args) -> acrm::Result<String> {
    use rand::{Rng, SeedableRng};
    let mut synth = PeopleSynth::new().seed(args.seed);
    if let Some(n) = args.people {
        synth = synth.people(n);
    }
    if let Some(list) = &args.sources {
        let all = PeopleSource::defaults();
        let mut chosen = Vec::new();
        for name in list.split(',').map(str::trim) {
            match all.iter().find(|s| s.name == name) {
                Some(s) => chosen.push(s.clone()),
                None => {
                    return Err(acrm::Error::InvalidOption {
                        option: "sources",
                        value: name.to_string(),
                        allowed: "dealer, service_desk, call_centre, web".into(),
                    })
                }
            }
        }
        synth = synth.sources(chosen);
    }
    let t = std::time::Instant::now();
    let recs = synth.generate()?;
    if !args.by_source {
        let f = std::fs::File::create(&args.out)?;
        recs.write_csv(BufWriter::with_capacity(1 << 20, f))?;
        return Ok(format!(
            "{} records of {} people ({} true duplicate pairs) written to {} in {:.2} s",
            recs.records.len(),
            recs.people.len(),
            recs.true_pairs(),
            args.out,
            t.elapsed().as_secs_f64()
        ));
    }
    std::fs::create_dir_all(&args.out)?;
    let dir = std::path::Path::new(&args.out);
    // Transactions: their own stream, so the records are those of the one-file output.
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(args.seed ^ 0x0074_7261_6e73);
    let start = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).expect("valid date");
    let mut lines = Vec::new();
    for (k, s) in recs.sources.iter().enumerate() {
        let f = std::fs::File::create(dir.join(format!("{}.csv", s.name)))?;
        recs.write_csv_filtered(BufWriter::new(f), |r| usize::from(r.source) == k)?;
        let mut tx = String::from("customer_id,date,amount\n");
        let mut n = 0;
        for r in recs.records.iter().filter(|r| usize::from(r.source) == k) {
            for _ in 0..rng.gen_range(0..=3) {
                let d = start + chrono::Duration::days(rng.gen_range(0..365));
                let amount = f64::from(rng.gen_range(500..50_000u32)) / 100.0;
                tx.push_str(&format!("{},{d},{amount:.2}\n", r.rec_id));
                n += 1;
            }
        }
        std::fs::write(dir.join(format!("{}_transactions.csv", s.name)), tx)?;
        lines.push(format!("{}: {} transactions", s.name, n));
    }
    Ok(format!(
        "{} records of {} people written by source to {} ({})",
        recs.records.len(),
        recs.people.len(),
        args.out,
        lines.join(", ")
    ))
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = match args.kind {
        Kind::Transactions if args.lines.is_some() => {
            return common::usage("--lines applies to --kind orders only");
        }
        Kind::Orders if args.times || args.model != Model::Bgnbd => {
            return common::usage("--model and --times apply to --kind transactions only");
        }
        Kind::Transactions | Kind::Orders
            if args.people.is_some() || args.sources.is_some() || args.by_source =>
        {
            return common::usage(
                "--people, --sources and --by-source apply to --kind people only",
            );
        }
        Kind::People if args.customers.is_some() || args.lines.is_some() => {
            return common::usage(
                "--customers and --lines do not apply to --kind people (use --people)",
            );
        }
        Kind::Transactions => transactions(&args),
        Kind::People => people(&args),
        Kind::Orders => orders(&args),
    };
    match result {
        Ok(message) => {
            outln!("{message}");
            ExitCode::SUCCESS
        }
        // An unknown name in --sources.
        Err(
            e @ acrm::Error::InvalidOption {
                option: "sources", ..
            },
        ) => common::usage(e),
        // Writing the output: the message names the path.
        Err(e @ acrm::Error::Io { .. }) => common::failure(format!("{}: {e}", args.out)),
        Err(e) => common::failure(e),
    }
}
