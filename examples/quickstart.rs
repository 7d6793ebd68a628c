//! The main job on data bundled in the repository: the CDNOW customer base, from raw
//! transactions to per-customer summaries.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

use std::error::Error;
use std::time::Instant;

use acrm::io::CsvOptions;
use acrm::{SummaryOptions, Weeks};
use chrono::NaiveDate;

fn main() -> Result<(), Box<dyn Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cdnow/CDNOW_master.txt"
    );
    let t = Instant::now();
    let loaded = CsvOptions::cdnow_master().read_path(path)?;
    let load = t.elapsed();
    let data = &loaded.dataset;
    let log = data.transactions();
    let (first, last) = log.date_range().ok_or("empty log")?;

    println!("CDNOW customer base (tests/data/cdnow, Fader & Hardie's public data)");
    println!("  customers            {:>10}", data.customers().len());
    println!(
        "  transactions         {:>10}   ({first} to {last}, loaded in {load:.1?})",
        log.len()
    );
    println!(
        "  rows skipped         {:>10}   (strict load: a bad row would have stopped it)",
        loaded.report.skipped_total()
    );

    // Whole history as of the last day: who bought again, and how concentrated revenue is.
    let all = SummaryOptions::new(last).summarize::<Weeks>(data)?;
    let repeat_buyers = all.len() - all.zero_repeat_customers();
    let mut revenue = all.revenues();
    revenue.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = revenue.iter().sum();
    let top_decile: f64 = revenue[..revenue.len().div_ceil(10)].iter().sum();
    println!("\nWhole history, as of {last}");
    println!(
        "  repeat buyers        {:>10}   ({:.1}% of customers)",
        repeat_buyers,
        100.0 * repeat_buyers as f64 / all.len() as f64
    );
    println!(
        "  revenue              {:>10.2}   (${:.2} per customer)",
        total,
        total / all.len() as f64
    );
    println!(
        "  top-decile share     {:>9.1}%   of revenue from the best 10% of customers",
        100.0 * top_decile / total
    );

    // The literature's split: 39 weeks of calibration, 39 weeks of holdout.
    let cal_end = NaiveDate::from_ymd_opt(1997, 9, 30).ok_or("date")?;
    let hold_end = NaiveDate::from_ymd_opt(1998, 6, 30).ok_or("date")?;
    let t = Instant::now();
    let split = SummaryOptions::new(cal_end)
        .holdout_end(hold_end)
        .split::<Weeks>(data)?;
    let took = t.elapsed();
    let cal = &split.calibration;
    println!("\nCalibration to {cal_end} (weeks), holdout to {hold_end} (computed in {took:.1?})");
    println!("  customers            {:>10}", cal.len());
    println!("  repeat purchases     {:>10}", cal.repeat_purchases());
    println!("  zero-repeat          {:>10}", cal.zero_repeat_customers());
    println!(
        "  distinct (x,t_x,T)   {:>10}   patterns for model fitting",
        cal.compact().patterns.len()
    );
    println!(
        "  holdout purchases    {:>10}   by {} customers over {:.0} weeks",
        split.holdout.total_purchases(),
        split.holdout.purchases.iter().filter(|&&p| p > 0).count(),
        split.holdout.length().value()
    );
    let i = cal.row("1").ok_or("customer 1")?;
    let c = cal.get(i);
    println!(
        "\nCustomer 1: x = {}, t_x = {:.2} weeks, T = {:.2} weeks, mean repeat spend ${:.2}, revenue ${:.2}",
        c.x,
        c.t_x.value(),
        c.t.value(),
        c.mean_spend,
        c.revenue
    );
    Ok(())
}
