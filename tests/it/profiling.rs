//! RFM scores and segments.
//!
//! The direction property is the issue's: over random customer bases, a customer who is
//! more recent, more frequent and higher-spending than another never lands in a worse
//! segment (segments are ordered worst first) and never scores lower.

use acrm::data::Rows;
use acrm::io::CsvOptions;
use acrm::profiling::{RfmOptions, SegmentMap};
use acrm::{Scope, SummaryOptions, Weeks};
use chrono::NaiveDate;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn a_better_customer_never_lands_in_a_worse_segment(
        base in prop::collection::vec((0u32..400, 1u32..30, 0u32..2000), 2..200),
        k in 2u8..=9,
    ) {
        // Integer draws make ties common, the hard case for quantile scores.
        let recency: Vec<f64> = base.iter().map(|c| f64::from(c.0)).collect();
        let frequency: Vec<f64> = base.iter().map(|c| f64::from(c.1)).collect();
        let monetary: Vec<f64> = base.iter().map(|c| f64::from(c.2) / 10.0).collect();
        let rows = Rows::from_ids((0..base.len()).map(|i| i.to_string()));
        let s = RfmOptions::new().levels(k).compute_values(&rows, &recency, &frequency, &monetary).unwrap();
        for i in 0..base.len() {
            for j in 0..base.len() {
                let better = recency[i] < recency[j] && frequency[i] > frequency[j] && monetary[i] > monetary[j];
                if better {
                    prop_assert!(s.segment[i] >= s.segment[j],
                        "{:?} is in {} but {:?} in {}", base[i], s.segment_name(i), base[j], s.segment_name(j));
                    prop_assert!(s.r[i] >= s.r[j] && s.f[i] >= s.f[j] && s.m[i] >= s.m[j]);
                }
                // Equal values, equal scores: no tie is broken.
                if base[i] == base[j] {
                    prop_assert_eq!(s.code(i), s.code(j));
                }
            }
        }
        let total: usize = s.segment_counts().iter().map(|c| c.customers).sum();
        prop_assert_eq!(total, base.len());
    }
}

#[test]
fn cdnow_segments_cover_every_customer_and_order_by_value() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cdnow/CDNOW_sample.txt"
    );
    let data = CsvOptions::cdnow_sample().read_path(path).unwrap().dataset;
    let end = NaiveDate::from_ymd_opt(1998, 6, 30).unwrap();
    let summary = SummaryOptions::new(end)
        .compute::<Weeks>(&data.view(&Scope::all()))
        .unwrap();
    let s = RfmOptions::new().compute(&summary).unwrap();
    let counts = s.segment_counts();
    assert_eq!(counts.iter().map(|c| c.customers).sum::<usize>(), 2357);
    // Single-purchase customers all score F = 1 (they tie at the lowest frequency).
    for i in 0..summary.len() {
        if summary.x(i) == 0 {
            assert_eq!(s.f[i], 1);
        }
    }
    // Champions bring more revenue per customer than the Lost.
    let revenue = summary.revenues();
    let mean_of = |name: &str| {
        let v: Vec<f64> = (0..summary.len())
            .filter(|&i| s.segment_name(i) == name)
            .map(|i| revenue[i])
            .collect();
        v.iter().sum::<f64>() / v.len() as f64
    };
    assert!(mean_of("Champions") > 3.0 * mean_of("Lost"));
}

#[test]
fn option_errors_are_typed() {
    let one = [1.0];
    let row = Rows::from_ids(["a"]);
    let none = Rows::from_ids(Vec::<String>::new());
    assert!(RfmOptions::new()
        .levels(1)
        .compute_values(&row, &one, &one, &one)
        .is_err());
    assert!(RfmOptions::new()
        .levels(10)
        .compute_values(&row, &one, &one, &one)
        .is_err());
    assert!(RfmOptions::new()
        .compute_values(&row, &one, &[1.0, 2.0], &one)
        .is_err());
    assert!(RfmOptions::new()
        .compute_values(&row, &[f64::NAN], &one, &one)
        .is_err());
    assert!(matches!(
        RfmOptions::new().compute_values(&none, &[], &[], &[]),
        Err(acrm::Error::EmptyInput)
    ));
    let mut map = SegmentMap::default();
    map.grid[0][0] = 200;
    assert!(RfmOptions::new()
        .segments(map)
        .compute_values(&row, &one, &one, &one)
        .is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Tiers cover every customer, their shares of the total value sum to 1, and a more
    /// valuable customer is never in a lower tier.
    #[test]
    fn tiers_partition_customers_and_respect_value(
        values in prop::collection::vec(-50i32..500, 1..300),
        high in 0.05f64..0.9,
        gap in 0.0f64..0.5,
    ) {
        use acrm::profiling::TierOptions;
        let values: Vec<f64> = values.iter().map(|v| f64::from(*v)).collect();
        let medium = (high + gap).min(1.0);
        let t = TierOptions::new().shares(high, medium).compute(&values).unwrap();
        let counted: usize = t.summary.iter().map(|s| s.customers).sum();
        prop_assert_eq!(counted, values.len());
        let total: f64 = values.iter().sum();
        if total.abs() > 1e-9 {
            let shares: f64 = t.summary.iter().map(|s| s.share).sum();
            prop_assert!((shares - 1.0).abs() < 1e-9, "shares sum to {}", shares);
        }
        for i in 0..values.len() {
            for j in 0..values.len() {
                if values[i] > values[j] {
                    prop_assert!(t.tier[i] >= t.tier[j]);
                }
            }
        }
        check_tiers_by_brute_force(&values, high, medium)?;
    }

    /// The same definition on values spread over many magnitudes (so over many of the
    /// implementation's buckets) and on values packed into one narrow range.
    #[test]
    fn tiers_match_brute_force_across_magnitudes(
        mantissas in prop::collection::vec((1u32..64, 0i32..40, prop::bool::ANY), 1..200),
        high in 0.05f64..0.9,
        gap in 0.0f64..0.5,
    ) {
        // Integers times powers of two: every partial sum below 2^53 is exact.
        let values: Vec<f64> = mantissas
            .iter()
            .map(|&(m, e, neg)| {
                let v = f64::from(m) * 2f64.powi(e % 12);
                if neg && e > 35 { -v } else { v }
            })
            .collect();
        check_tiers_by_brute_force(&values, high, (high + gap).min(1.0))?;
        let packed: Vec<f64> = mantissas.iter().map(|&(m, _, _)| 1024.0 + f64::from(m)).collect();
        check_tiers_by_brute_force(&packed, high, (high + gap).min(1.0))?;
    }
}

/// Each customer's tier from its definition: the share of positive value held by
/// customers worth strictly more.
fn check_tiers_by_brute_force(values: &[f64], high: f64, medium: f64) -> Result<(), TestCaseError> {
    use acrm::profiling::{Tier, TierOptions};
    let t = TierOptions::new()
        .shares(high, medium)
        .compute(values)
        .unwrap();
    let total: f64 = values.iter().filter(|v| **v > 0.0).sum();
    for (i, &v) in values.iter().enumerate() {
        let before: f64 = values.iter().filter(|w| **w > v && **w > 0.0).sum();
        let share = if total > 0.0 { before / total } else { 0.0 };
        let want = if v < 0.0 {
            Tier::Negative
        } else if share < high {
            Tier::High
        } else if share < medium {
            Tier::Medium
        } else {
            Tier::Low
        };
        prop_assert_eq!(t.tier[i], want, "value {} of {:?}", v, values);
    }
    Ok(())
}

#[test]
fn tier_option_errors_are_typed() {
    use acrm::profiling::TierOptions;
    assert!(TierOptions::new().shares(0.9, 0.5).compute(&[1.0]).is_err());
    assert!(TierOptions::new().shares(0.0, 0.5).compute(&[1.0]).is_err());
    assert!(TierOptions::new().compute(&[1.0, f64::INFINITY]).is_err());
    assert!(matches!(
        TierOptions::new().compute(&[]),
        Err(acrm::Error::EmptyInput)
    ));
}
