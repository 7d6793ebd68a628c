//! Customer lifetimes, cohort retention tables and overdue lists on hand-built histories
//! whose answers are worked out in the comments.

use acrm::data::{CustomerRecord, Dataset, TransactionRecord};
use acrm::persistency::{
    BgNbd, CohortOptions, CohortPeriod, LifetimeEnd, LifetimeOptions, OverdueOptions,
};
use acrm::{Days, Error, Scope, SummaryOptions};
use chrono::{Duration, NaiveDate};

fn day(n: i64) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Duration::days(n)
}

fn log(rows: &[(&str, i64, f64)]) -> Dataset {
    let mut b = Dataset::builder();
    b.extend(
        rows.iter()
            .map(|&(c, d, a)| TransactionRecord::new(c, day(d), a)),
    )
    .unwrap();
    b.build().unwrap().dataset
}

#[test]
fn lifetimes_from_a_log() {
    // Gap 30 days, as of day 200.
    // "a": days 0, 20, 45 (gaps 20, 25), silent since 45: churned at 45 + 30 = 75.
    // "b": days 10, 100 (gap 90 > 30): churned at 10 + 30 = 40; the return at 100 starts
    //      no new life.
    // "c": days 150, 180: active (20 days silent): censored at 200 − 150 = 50.
    // "d": only a return: no lifetime. "e": first purchase after the as-of date: none.
    // "f": day 170 only, silent exactly 30 days at the as-of date: not yet churned.
    let data = log(&[
        ("a", 0, 10.0),
        ("a", 20, 10.0),
        ("a", 45, 10.0),
        ("b", 10, 5.0),
        ("b", 100, 5.0),
        ("c", 150, 1.0),
        ("c", 180, 1.0),
        ("d", 5, -3.0),
        ("e", 300, 1.0),
        ("f", 170, 1.0),
    ]);
    let all = data.view(&Scope::all());
    let opts = LifetimeOptions::new(day(200)).churn_gap_days(30);
    let lt = opts.compute(&all).unwrap();
    let ids: Vec<&str> = lt.rows.ids().collect();
    assert_eq!(ids, ["a", "b", "c", "f"]);
    assert_eq!(lt.survival.durations(), [75.0, 30.0, 50.0, 30.0]);
    assert_eq!(lt.survival.events(), [true, true, false, false]);
    assert_eq!(lt.starts, [day(0), day(10), day(150), day(170)]);
    // Ending at the last purchase instead: a lives 45 days, b 0.
    let lt = opts.end(LifetimeEnd::LastPurchase).compute(&all).unwrap();
    assert_eq!(lt.survival.durations(), [45.0, 0.0, 50.0, 30.0]);
    let e = LifetimeOptions::new(day(200))
        .churn_gap_days(0)
        .compute(&all)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidOption {
                option: "churn_gap_days",
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn lifetimes_from_contracts() {
    let customer = |id: &str, start: Option<i64>, end: Option<&str>| CustomerRecord {
        customer_id: id.into(),
        acquired: start.map(day),
        attributes: end
            .map(|e| [("cancelled".to_string(), e.to_string())].into())
            .unwrap_or_default(),
        ..CustomerRecord::default()
    };
    // A billing row, because a dataset needs transactions.
    let build = |customers: Vec<CustomerRecord>| {
        let mut b = Dataset::builder().customers(customers);
        b.push(TransactionRecord::new("x", day(0), 1.0)).unwrap();
        b.build().unwrap().dataset
    };
    // x: 2024-01-01 → 2024-03-01 (60 days, churned); y: still running (censored at 100);
    // z: cancels after the as-of date (censored); w: no start date (left out).
    let data = build(vec![
        customer("x", Some(0), Some("2024-03-01")),
        customer("y", Some(10), None),
        customer("z", Some(20), Some("2025-01-01")),
        customer("w", None, Some("2024-02-01")),
    ]);
    let lt = LifetimeOptions::new(day(100))
        .from_contracts("cancelled")
        .compute(&data.view(&Scope::all()))
        .unwrap();
    assert_eq!(lt.survival.durations(), [60.0, 90.0, 80.0]);
    assert_eq!(lt.survival.events(), [true, false, false]);
    let bad = build(vec![customer("q", Some(0), Some("March"))]);
    let bad = bad.view(&Scope::all());
    let e = LifetimeOptions::new(day(100))
        .from_contracts("cancelled")
        .compute(&bad)
        .unwrap_err();
    match &e {
        Error::BadValue {
            input,
            row,
            field,
            value,
            ..
        } => {
            assert_eq!((input.as_str(), field.as_str()), ("customers", "cancelled"));
            assert_eq!(bad.id(*row), "q", "{e}");
            assert_eq!(value, "March");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn monthly_cohort_table() {
    // As of 2024-03-15. January cohort: a (Jan 1, Feb 5, Mar 2), b (Jan 20, return in
    // Feb). February cohort: c (Feb 10 and Feb 11, then Mar 10).
    let data = log(&[
        ("a", 0, 100.0),
        ("a", 35, 50.0),
        ("a", 61, 30.0),
        ("b", 19, 40.0),
        ("b", 40, -10.0),
        ("c", 40, 20.0),
        ("c", 41, 20.0),
        ("c", 69, 10.0),
    ]);
    let data = data.view(&Scope::all());
    let t = CohortOptions::new(day(74)).compute(&data).unwrap();
    assert_eq!(t.cohorts.len(), 2);
    let jan = &t.cohorts[0];
    assert_eq!(jan.start, day(0));
    assert_eq!(jan.customers, 2);
    // Active: both in January, a alone in February (b's return is not a purchase) and
    // March.
    assert_eq!(jan.active, [2, 1, 1]);
    assert_eq!(jan.active_share, [1.0, 0.5, 0.5]);
    // Revenue: 140, 50 − 10 = 40, 30; retention 40/140, 30/140; cumulative per customer
    // 70, 90, 105.
    assert_eq!(jan.revenue, [140.0, 40.0, 30.0]);
    assert_eq!(jan.revenue_retention, [1.0, 40.0 / 140.0, 30.0 / 140.0]);
    assert_eq!(jan.cumulative_revenue_per_customer, [70.0, 90.0, 105.0]);
    assert!(!jan.complete, "March is not over on the 15th");
    let feb = &t.cohorts[1];
    assert_eq!((feb.start, feb.customers), (day(31), 1));
    assert_eq!(feb.active, [1, 1]);
    assert_eq!(feb.revenue, [40.0, 10.0]);
    // Quarterly: everything falls in Q1 2024; weekly: 2024-01-01 is a Monday, so a's
    // cohort starts on day 0 and b's (Jan 20, a Saturday) on day 14.
    let q = CohortOptions::new(day(74))
        .period(CohortPeriod::Quarter)
        .compute(&data)
        .unwrap();
    assert_eq!(q.cohorts.len(), 1);
    assert_eq!(q.cohorts[0].active, [3]);
    let w = CohortOptions::new(day(74))
        .period(CohortPeriod::Week)
        .compute(&data)
        .unwrap();
    assert_eq!(w.cohorts[0].start, day(0));
    assert_eq!(w.cohorts[1].start, day(14));
    assert_eq!(w.cohorts[0].customers + w.cohorts[1].customers, 2);
}

#[test]
fn overdue_customers() {
    // As of day 100. "late": purchases at 0, 10, 20 (x = 2, t_x = 20, mean gap 10),
    // silent 80 days: P = (20 / 100)² = 0.04 ≤ 0.05, overdue. "fine": 0, 40, 80 (silent
    // 20, gap 40): P = (80/100)² = 0.64. "once": a single purchase (no rhythm).
    // "later": 0, 5, 10, 15 (x = 3, t_x = 15), silent 85: P = (15/100)³ = 0.003375.
    let data = log(&[
        ("late", 0, 10.0),
        ("late", 10, 10.0),
        ("late", 20, 10.0),
        ("fine", 0, 10.0),
        ("fine", 40, 10.0),
        ("fine", 80, 10.0),
        ("once", 50, 99.0),
        ("later", 0, 1.0),
        ("later", 5, 1.0),
        ("later", 10, 1.0),
        ("later", 15, 1.0),
    ]);
    let s = SummaryOptions::new(day(100))
        .compute::<Days>(&data.view(&Scope::all()))
        .unwrap();
    let o = OverdueOptions::new().compute(&s, None, None).unwrap();
    assert_eq!((o.considered, o.overdue), (3, 2));
    // Values: annualised revenue, 30 × 365/100 = 109.5 and 4 × 365/100 = 14.6; risk
    // 1 − P: 0.96 and 0.996625.
    assert_eq!(o.rows[0].id, "late");
    let late = &o.rows[0];
    assert!((late.silence_probability - 0.04).abs() < 1e-15);
    assert!((late.mean_gap_days - 10.0).abs() < 1e-15);
    assert!((late.gaps_missed - 8.0).abs() < 1e-15);
    assert!((late.value - 109.5).abs() < 1e-12);
    assert!((late.value_at_risk - 109.5 * 0.96).abs() < 1e-12);
    assert_eq!(o.rows[1].id, "later");
    assert!((o.rows[1].silence_probability - 0.003375).abs() < 1e-15);
    // Supplied values and a purchase model: the risk becomes 1 − P(alive).
    let model = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let values = vec![1000.0; s.len()];
    let o = OverdueOptions::new()
        .top(1)
        .compute(&s, Some(&values), Some(&model))
        .unwrap();
    assert_eq!(o.rows.len(), 1);
    let r = &o.rows[0];
    let p = model.p_alive(r.repeat_purchases, s.t_x(r.row).value(), s.t(r.row).value());
    assert_eq!(r.p_alive.map(f64::to_bits), Some(p.to_bits()));
    assert!((r.value_at_risk - 1000.0 * (1.0 - p)).abs() < 1e-9);
    let e = OverdueOptions::new()
        .threshold(0.0)
        .compute(&s, None, None)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidOption {
                option: "threshold",
                ..
            }
        ),
        "{e}"
    );
    let e = OverdueOptions::new()
        .compute(&s, Some(&[1.0]), None)
        .unwrap_err();
    assert_eq!(
        e,
        Error::LengthMismatch {
            input: "values",
            found: 1,
            expected: s.len(),
            against: "customers of the summary",
        }
    );
}
