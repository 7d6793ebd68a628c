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
use acrm::Weeks;

fn main() -> ExitCode {
    let mut it = std::env::args().skip(1);
    let mut opts = SynthOptions::<Weeks>::new().customers(100_000);
    let mut out = None;
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        let r: Result<(), String> = (|| {
            match a.as_str() {
                "--customers" => {
                    opts = opts.clone().customers(
                        value("--customers")?
                            .parse()
                            .map_err(|e| format!("--customers: {e}"))?,
                    )
                }
                "--seed" => {
                    opts = opts.clone().seed(
                        value("--seed")?
                            .parse()
                            .map_err(|e| format!("--seed: {e}"))?,
                    )
                }
                "--model" => match value("--model")?.as_str() {
                    "bgnbd" => {}
                    // Pareto/NBD estimates on CDNOW (Fader, Hardie & Lee 2005, "RFM and CLV").
                    "pareto" => {
                        opts = opts.clone().process(PurchaseProcess::ParetoNbd {
                            r: 0.553,
                            alpha: 10.578,
                            s: 0.606,
                            beta: 11.669,
                        })
                    }
                    m => return Err(format!("unknown model {m:?} (bgnbd or pareto)")),
                },
                "--times" => opts = opts.clone().times(true),
                "--out" => out = Some(value("--out")?),
                s => return Err(format!("unknown argument {s}")),
            }
            Ok(())
        })();
        if let Err(e) = r {
            eprintln!("{e}\nusage: synthesize --customers N --seed S [--model bgnbd|pareto] [--times] --out FILE.csv");
            return ExitCode::from(2);
        }
    }
    let Some(out) = out else {
        eprintln!("--out FILE.csv is required");
        return ExitCode::from(2);
    };
    let result = opts.generate().and_then(|s| {
        let f = std::fs::File::create(&out)?;
        write_transactions_csv(&s.dataset, f)?;
        Ok(s.dataset.transactions().len())
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
