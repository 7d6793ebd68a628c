//! Frequent itemsets (FP-growth) and association rules of a basket file.
//!
//! ```text
//! cargo run --release --example basket -- FILE --min-support 0.005 --min-confidence 0.2 \
//!     --json [--max-len N] [--out-itemsets F] [--out-rules F] [--min-lift X]
//!     [--format lines|csv|log|cdnow] [--order-col order_id] [--item-col item]
//!     [--level product|category] \
//!     [--customers CUSTOMERS.csv --scope owner:ID|team:ID|branch:ID|all [--as-of-scope DATE]] \
//!     [--hide-columns product,...]
//! ```
//! FILE has one basket per line, items separated by whitespace (`--format lines`, the
//! default); or CSV rows of (order id, item) with a header (`--format csv`, columns
//! `order_id` and `item` unless named); or a transaction log read by the library's CSV
//! reader (`--format log`: `customer_id,date,amount,product_id[,order_id,...]`; baskets by
//! order id, else customer and day; `--format cdnow`: CDNOW's layout, which has no
//! products and so is refused with the missing column named).
//!
//! `--json` prints `baskets`, `items`, `itemsets` (count), `rules` (count), `elapsed_ms`
//! (FP-growth and rules, reading excluded), `read_ms`, `fpgrowth_ms`, `rules_ms`,
//! `min_count`, and `top_rules`: the 10 rules with the highest lift, each {antecedent,
//! consequent, support, confidence, lift}. `--out-itemsets F` writes
//! `support,count,items` (items space-separated); `--out-rules F` writes every metric.
//! Used by benches/compare/basket_vs_mlxtend.py.
//!
//! A scope applies to a transaction log (`--format log|cdnow`): only its customers'
//! baskets are mined, and the JSON gains `scope` ({kind, id, customers}).

mod common;

use std::error::Error;
use std::fs::File;
use std::io::BufWriter;
use std::process::ExitCode;
use std::time::Instant;

use acrm::data::{Baskets, Scope};
use acrm::io::{read_basket_csv_path, read_baskets_path, CsvOptions};
use acrm::product::{
    BasketLevel, BasketOptions, FpGrowthOptions, Itemsets, Metric, RuleOptions, Rules,
};
use clap::{Parser, ValueEnum};
use common::{outln, Stop};
use serde_json::{json, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Lines,
    Csv,
    Log,
    Cdnow,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Level {
    Product,
    Category,
}

/// Frequent itemsets (FP-growth) and association rules of a basket file.
#[derive(Parser, Debug)]
#[command(name = "basket")]
struct Args {
    /// The basket file (or transaction log, with --format log|cdnow)
    file: String,
    /// Minimum support, a fraction of the baskets
    #[arg(long = "min-support", value_name = "S")]
    min_support: f64,
    /// Minimum confidence of a rule
    #[arg(long = "min-confidence", value_name = "C", default_value_t = 0.0)]
    min_confidence: f64,
    /// Minimum lift of a rule
    #[arg(long = "min-lift", value_name = "X")]
    min_lift: Option<f64>,
    /// Longest itemset
    #[arg(long = "max-len", value_name = "N")]
    max_len: Option<usize>,
    /// Print one JSON object (otherwise a text report)
    #[arg(long)]
    json: bool,
    /// Write `support,count,items`
    #[arg(long = "out-itemsets", value_name = "F")]
    out_itemsets: Option<String>,
    /// Write every rule with every metric
    #[arg(long = "out-rules", value_name = "F")]
    out_rules: Option<String>,
    /// `lines`: one basket per line; `csv`: (order id, item) rows; `log`: a transaction
    /// log; `cdnow`: CDNOW's layout (no products: refused with the column named)
    #[arg(long, value_enum, default_value = "lines")]
    format: Format,
    /// Order column of `--format csv`
    #[arg(long = "order-col", value_name = "NAME", default_value = "order_id")]
    order_col: String,
    /// Item column of `--format csv`
    #[arg(long = "item-col", value_name = "NAME", default_value = "item")]
    item_col: String,
    /// Items of a log's baskets: products or their categories
    #[arg(long, value_enum, default_value = "product")]
    level: Level,
    #[command(flatten)]
    scope: common::ScopeArgs,
}

/// The baskets and, for a log, the scope's JSON.
fn read(a: &Args) -> Result<(Baskets, Option<Value>), Stop> {
    let with_file = |e: acrm::Error| format!("{}: {e}", a.file);
    let log = matches!(a.format, Format::Log | Format::Cdnow);
    if a.scope.given() && !log {
        return Err(Stop::usage(
            "scopes apply to transaction logs: use --format log or cdnow",
        ));
    }
    Ok(match a.format {
        Format::Lines => (read_baskets_path(&a.file).map_err(with_file)?, None),
        Format::Csv => (
            read_basket_csv_path(&a.file, &a.order_col, &a.item_col).map_err(with_file)?,
            None,
        ),
        Format::Log | Format::Cdnow => {
            let reader = if a.format == Format::Cdnow {
                CsvOptions::cdnow_master()
            } else {
                CsvOptions::new()
            };
            let mut data = reader.read_path(&a.file).map_err(with_file)?.dataset;
            let scope: Scope = a.scope.resolve(&mut data, reader.ids_are_numeric())?;
            let view = data.view(&scope);
            let level = match a.level {
                Level::Product => BasketLevel::Product,
                Level::Category => BasketLevel::Category,
            };
            let baskets = BasketOptions::new()
                .level(level)
                .compute(&view)
                .map_err(with_file)?;
            (baskets, a.scope.given().then(|| common::scope_json(&view)))
        }
    })
}

fn names(items: &acrm::data::Interner, ids: &[u32]) -> Vec<String> {
    ids.iter()
        .map(|&i| items.name(i as usize).to_string())
        .collect()
}

fn write_itemsets(path: &str, sets: &Itemsets) -> Result<(), Box<dyn Error>> {
    let mut w = csv::Writer::from_writer(BufWriter::new(File::create(path)?));
    w.write_record(["support", "count", "items"])?;
    for s in sets.iter() {
        w.write_record([
            s.support.to_string(),
            s.count.to_string(),
            names(sets.items(), s.items).join(" "),
        ])?;
    }
    w.flush()?;
    Ok(())
}

fn write_rules(path: &str, rules: &Rules) -> Result<(), Box<dyn Error>> {
    let mut w = csv::Writer::from_writer(BufWriter::new(File::create(path)?));
    let mut header = vec!["antecedent", "consequent"];
    header.extend(Metric::ALL.iter().map(|m| m.name()));
    w.write_record(&header)?;
    for r in rules.as_slice() {
        let mut row = vec![
            names(rules.items(), &r.antecedent).join(" "),
            names(rules.items(), &r.consequent).join(" "),
        ];
        row.extend(Metric::ALL.iter().map(|m| m.of(r).to_string()));
        w.write_record(&row)?;
    }
    w.flush()?;
    Ok(())
}

fn run() -> Result<(), Stop> {
    let a = Args::parse();
    let t0 = Instant::now();
    let (baskets, scope) = read(&a)?;
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;

    let t1 = Instant::now();
    let mut opts = FpGrowthOptions::new().min_support(a.min_support);
    if let Some(l) = a.max_len {
        opts = opts.max_len(l);
    }
    let sets = opts
        .compute(&baskets)
        .map_err(|e| format!("{}: {e}", a.file))?;
    let fpgrowth_ms = t1.elapsed().as_secs_f64() * 1e3;
    let t2 = Instant::now();
    let mut rule_opts = RuleOptions::new().min(Metric::Confidence, a.min_confidence);
    if let Some(l) = a.min_lift {
        rule_opts = rule_opts.min(Metric::Lift, l);
    }
    let rules = rule_opts
        .compute(&sets)
        .map_err(|e| format!("{}: {e}", a.file))?;
    let rules_ms = t2.elapsed().as_secs_f64() * 1e3;

    if let Some(p) = &a.out_itemsets {
        write_itemsets(p, &sets).map_err(|e| format!("{p}: {e}"))?;
    }
    if let Some(p) = &a.out_rules {
        write_rules(p, &rules).map_err(|e| format!("{p}: {e}"))?;
    }
    let top = rules.top(Metric::Lift, 10);
    if a.json {
        let top: Vec<_> = top
            .iter()
            .map(|r| {
                json!({
                    "antecedent": names(rules.items(), &r.antecedent),
                    "consequent": names(rules.items(), &r.consequent),
                    "support": r.support, "confidence": r.confidence, "lift": r.lift,
                })
            })
            .collect();
        let mut out = json!({
            "baskets": baskets.len(),
            "items": baskets.items().len(),
            "itemsets": sets.len(),
            "rules": rules.len(),
            "min_count": sets.min_count(),
            "elapsed_ms": fpgrowth_ms + rules_ms,
            "read_ms": read_ms,
            "fpgrowth_ms": fpgrowth_ms,
            "rules_ms": rules_ms,
            "top_rules": top,
        });
        if let Some(s) = scope {
            out["scope"] = s;
        }
        outln!("{out}");
    } else {
        outln!(
            "{} baskets, {} items: {} frequent itemsets (support ≥ {}, {} baskets), {} rules \
             (confidence ≥ {}) in {:.1} ms (reading {:.1} ms)",
            baskets.len(),
            baskets.items().len(),
            sets.len(),
            a.min_support,
            sets.min_count(),
            rules.len(),
            a.min_confidence,
            fpgrowth_ms + rules_ms,
            read_ms
        );
        outln!("\nstrongest rules by lift:");
        outln!(
            "  {:<30} {:<20} {:>8} {:>10} {:>6}",
            "if bought",
            "then",
            "support",
            "confidence",
            "lift"
        );
        for r in top {
            outln!(
                "  {:<30} {:<20} {:>8.4} {:>10.3} {:>6.2}",
                names(rules.items(), &r.antecedent).join(" + "),
                names(rules.items(), &r.consequent).join(" + "),
                r.support,
                r.confidence,
                r.lift
            );
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run())
}
