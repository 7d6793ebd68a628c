//! Frequent itemsets (FP-growth) and association rules of a basket file.
//!
//! ```text
//! cargo run --release --example basket -- FILE --min-support 0.005 --min-confidence 0.2 \
//!     --json [--max-len N] [--out-itemsets F] [--out-rules F] [--min-lift X]
//!     [--format lines|csv|log|cdnow] [--order-col order_id] [--item-col item]
//!     [--level product|category]
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

use std::error::Error;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use acrm::io::{read_basket_csv_path, read_baskets_path, CsvOptions};
use acrm::product::{
    BasketLevel, BasketOptions, Baskets, FpGrowthOptions, Itemsets, Metric, RuleOptions, Rules,
};
use serde_json::json;

const USAGE: &str = "usage: basket FILE --min-support S --min-confidence C [--json] \
[--max-len N] [--out-itemsets F] [--out-rules F] [--min-lift X] \
[--format lines|csv|log|cdnow] [--order-col NAME] [--item-col NAME] \
[--level product|category]";

struct Args {
    file: String,
    min_support: f64,
    min_confidence: f64,
    min_lift: Option<f64>,
    max_len: Option<usize>,
    json: bool,
    out_itemsets: Option<String>,
    out_rules: Option<String>,
    format: String,
    order_col: String,
    item_col: String,
    level: BasketLevel,
}

fn args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        file: String::new(),
        min_support: f64::NAN,
        min_confidence: 0.0,
        min_lift: None,
        max_len: None,
        json: false,
        out_itemsets: None,
        out_rules: None,
        format: "lines".into(),
        order_col: "order_id".into(),
        item_col: "item".into(),
        level: BasketLevel::Product,
    };
    let number = |name: &str, v: Option<String>| -> Result<f64, String> {
        let v = v.ok_or(format!("{name} needs a value"))?;
        v.parse().map_err(|_| format!("{name} {v:?}: not a number"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--min-support" => a.min_support = number("--min-support", it.next())?,
            "--min-confidence" => a.min_confidence = number("--min-confidence", it.next())?,
            "--min-lift" => a.min_lift = Some(number("--min-lift", it.next())?),
            "--max-len" => {
                let v = it.next().ok_or("--max-len needs a value")?;
                a.max_len = Some(
                    v.parse()
                        .map_err(|_| format!("--max-len {v:?}: not a whole number"))?,
                );
            }
            "--json" => a.json = true,
            "--out-itemsets" => {
                a.out_itemsets = Some(it.next().ok_or("--out-itemsets needs a file")?)
            }
            "--out-rules" => a.out_rules = Some(it.next().ok_or("--out-rules needs a file")?),
            "--format" => a.format = it.next().ok_or("--format needs a value")?,
            "--order-col" => a.order_col = it.next().ok_or("--order-col needs a value")?,
            "--item-col" => a.item_col = it.next().ok_or("--item-col needs a value")?,
            "--level" => {
                a.level = match it.next().as_deref() {
                    Some("product") => BasketLevel::Product,
                    Some("category") => BasketLevel::Category,
                    other => return Err(format!("--level {other:?}: use product or category")),
                }
            }
            "-h" | "--help" => return Err(USAGE.into()),
            f if !f.starts_with("--") && a.file.is_empty() => a.file = f.to_string(),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    if a.file.is_empty() {
        return Err(USAGE.into());
    }
    if a.min_support.is_nan() {
        return Err(format!("--min-support is required\n{USAGE}"));
    }
    Ok(a)
}

fn read(a: &Args) -> Result<Baskets, Box<dyn Error>> {
    let with_file = |e: acrm::Error| format!("{}: {e}", a.file);
    Ok(match a.format.as_str() {
        "lines" => read_baskets_path(&a.file).map_err(with_file)?,
        "csv" => read_basket_csv_path(&a.file, &a.order_col, &a.item_col).map_err(with_file)?,
        "log" | "cdnow" => {
            let reader = if a.format == "cdnow" {
                CsvOptions::cdnow_master()
            } else {
                CsvOptions::new()
            };
            let loaded = reader.read_path(&a.file).map_err(with_file)?;
            BasketOptions::new()
                .level(a.level)
                .from_log(&loaded.dataset)
                .map_err(with_file)?
        }
        other => return Err(format!("--format {other:?}: use lines, csv, log or cdnow").into()),
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

fn run() -> Result<(), Box<dyn Error>> {
    let a = args()?;
    let t0 = Instant::now();
    let baskets = read(&a)?;
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;

    let t1 = Instant::now();
    let mut opts = FpGrowthOptions::new().min_support(a.min_support);
    if let Some(l) = a.max_len {
        opts = opts.max_len(l);
    }
    let sets = opts.mine(&baskets)?;
    let fpgrowth_ms = t1.elapsed().as_secs_f64() * 1e3;
    let t2 = Instant::now();
    let mut rule_opts = RuleOptions::new().min(Metric::Confidence, a.min_confidence);
    if let Some(l) = a.min_lift {
        rule_opts = rule_opts.min(Metric::Lift, l);
    }
    let rules = rule_opts.generate(&sets)?;
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
        let out = json!({
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
        println!("{out}");
    } else {
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
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
        )?;
        writeln!(out, "\nstrongest rules by lift:")?;
        writeln!(
            out,
            "  {:<30} {:<20} {:>8} {:>10} {:>6}",
            "if bought", "then", "support", "confidence", "lift"
        )?;
        for r in top {
            writeln!(
                out,
                "  {:<30} {:<20} {:>8.4} {:>10.3} {:>6.2}",
                names(rules.items(), &r.antecedent).join(" + "),
                names(rules.items(), &r.consequent).join(" + "),
                r.support,
                r.confidence,
                r.lift
            )?;
        }
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
