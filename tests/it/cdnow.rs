//! CDNOW: the published figures and lifetimes' summaries.
//!
//! Data: tests/data/cdnow (Fader & Hardie's public CDNOW data as shipped in lifetimes
//! 0.11.3; provenance in tests/data/cdnow/README.md). Reference values:
//! - counts on the full log: tests/data/cdnow/README.md (23,570 customers, 24,337 repeat
//!   purchases, 14,119 without repeat);
//! - the published 39-week sample summary: tests/data/cdnow/cdnow_customers_summary_with_transactions.csv;
//! - lifetimes 0.11.3 `calibration_and_holdout_data` (freq 'D') on the sample and the
//!   master: tests/data/cdnow_sample_holdout_lifetimes.csv and
//!   tests/data/cdnow_master_holdout_totals.json, made by tests/data/lifetimes_reference.py.

use acrm::io::CsvOptions;
use acrm::{Days, Scope, SplitOptions, SummaryOptions, Weeks};
use approx::assert_abs_diff_eq;
use chrono::NaiveDate;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn master_counts_match_the_literature() {
    let data = CsvOptions::cdnow_master()
        .read_path(format!("{DATA}/cdnow/CDNOW_master.txt"))
        .unwrap()
        .dataset;
    let all = data.view(&Scope::all());
    assert_eq!(all.transactions(), 69_659);
    let s = SummaryOptions::new(date(1997, 9, 30))
        .compute::<Weeks>(&all)
        .unwrap();
    // tests/data/cdnow/README.md: the full-log figures used throughout the literature.
    assert_eq!(s.len(), 23_570);
    assert_eq!(s.repeat_purchases(), 24_337);
    assert_eq!(s.zero_repeat_customers(), 14_119);
    assert_eq!(s.coverage().excluded_customers, 0);
    assert_eq!(
        s.coverage().transactions + s.coverage().later_transactions,
        69_659
    );
}

#[test]
fn master_holdout_matches_lifetimes() {
    let data = CsvOptions::cdnow_master()
        .read_path(format!("{DATA}/cdnow/CDNOW_master.txt"))
        .unwrap()
        .dataset;
    let split = SplitOptions::new(date(1997, 9, 30), date(1998, 6, 30))
        .compute::<Days>(&data.view(&Scope::all()))
        .unwrap();
    let text = std::fs::read_to_string(format!("{DATA}/cdnow_master_holdout_totals.json")).unwrap();
    let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
    let n = |k: &str| reference[k].as_f64().unwrap();
    let count = |k: &str| reference[k].as_u64().unwrap();
    let cal = &split.calibration;
    assert_eq!(cal.len() as u64, count("customers"));
    assert_eq!(cal.repeat_purchases(), count("repeat_purchases_cal"));
    assert_eq!(
        split.holdout.total_purchases(),
        count("holdout_purchases_total")
    );
    let buyers = split.holdout.purchases.iter().filter(|&&p| p > 0).count();
    assert_eq!(buyers as u64, count("holdout_customers_with_purchase"));
    let spend: f64 = (0..cal.len()).map(|i| cal.mean_spend(i)).sum();
    // lifetimes wrote the sum to 6 decimals.
    assert_abs_diff_eq!(spend, n("mean_spend_sum"), epsilon = 1e-5);
    assert_abs_diff_eq!(split.holdout.length().value(), 273.0);
}

#[test]
fn sample_summary_matches_the_published_one_and_lifetimes() {
    let data = CsvOptions::cdnow_sample()
        .read_path(format!("{DATA}/cdnow/CDNOW_sample.txt"))
        .unwrap()
        .dataset;
    let split = SplitOptions::new(date(1997, 9, 30), date(1998, 6, 30))
        .compute::<Weeks>(&data.view(&Scope::all()))
        .unwrap();
    let cal = &split.calibration;
    assert_eq!(cal.len(), 2_357);

    // Published summary: x, t_x and T to 2 decimals, zbar to the cent.
    let mut published = csv::Reader::from_path(format!(
        "{DATA}/cdnow/cdnow_customers_summary_with_transactions.csv"
    ))
    .unwrap();
    let mut rows = 0;
    for rec in published.records() {
        let rec = rec.unwrap();
        let f = |i: usize| rec[i].parse::<f64>().unwrap();
        let i = cal
            .row(&rec[0])
            .unwrap_or_else(|| panic!("customer {} missing", &rec[0]));
        assert_eq!(cal.x(i).to_string(), &rec[1], "x of {}", &rec[0]);
        assert_abs_diff_eq!(cal.t_x(i).value(), f(2), epsilon = 0.005 + 1e-9);
        assert_abs_diff_eq!(cal.t(i).value(), f(3), epsilon = 0.005 + 1e-9);
        assert_abs_diff_eq!(cal.mean_spend(i), f(4), epsilon = 0.005 + 1e-9);
        rows += 1;
    }
    assert_eq!(rows, 2_357);

    // lifetimes 0.11.3, in days, with holdout purchases.
    let mut lt =
        csv::Reader::from_path(format!("{DATA}/cdnow_sample_holdout_lifetimes.csv")).unwrap();
    for rec in lt.records() {
        let rec = rec.unwrap();
        let f = |i: usize| rec[i].parse::<f64>().unwrap();
        let i = cal.row(&rec[0]).unwrap();
        assert_eq!(cal.x(i).to_string(), &rec[1]);
        assert_abs_diff_eq!(cal.t_x(i).to::<Days>().value(), f(2), epsilon = 1e-9);
        assert_abs_diff_eq!(cal.t(i).to::<Days>().value(), f(3), epsilon = 1e-9);
        assert_abs_diff_eq!(cal.mean_spend(i), f(4), epsilon = 1e-6);
        assert_eq!(split.holdout.purchases[i].to_string(), &rec[5]);
    }
}

#[test]
fn compact_patterns_cover_every_customer() {
    let data = CsvOptions::cdnow_sample()
        .read_path(format!("{DATA}/cdnow/CDNOW_sample.txt"))
        .unwrap()
        .dataset;
    let s = SummaryOptions::new(date(1997, 9, 30))
        .compute::<Weeks>(&data.view(&Scope::all()))
        .unwrap();
    let c = s.compact();
    let total: u64 = c.patterns.iter().map(|p| u64::from(p.count)).sum();
    assert_eq!(total, s.len() as u64);
    assert!(c.patterns.len() < s.len());
    // Customer 1 (published summary row 1): x = 2, t_x = 30.43, T = 38.86.
    assert!(c.patterns.iter().any(|p| p.x == 2
        && (p.t_x - 213.0 / 7.0).abs() < 1e-12
        && (p.t - 272.0 / 7.0).abs() < 1e-12));
}
