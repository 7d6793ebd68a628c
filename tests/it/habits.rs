//! Habits and risk flags: hand-built histories with known answers (the decline p-values
//! are exact binomial sums), agreement with the summary's regularity on synthetic data,
//! option errors and determinism.

use acrm::data::{Column, ColumnSet, Dataset, ProductRecord, TransactionRecord};
use acrm::profiling::{HabitOptions, Halves, RiskOptions};
use acrm::synth::SynthOptions;
use acrm::time::Timestamp;
use acrm::{Days, Error, Scope, SummaryOptions, Weeks};
use approx::assert_relative_eq;
use chrono::{Duration, NaiveDate};

fn day(n: i64) -> NaiveDate {
    // 2024-01-01 was a Monday.
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + Duration::days(n)
}

fn row(c: &str, d: i64, amount: f64, product: &str, channel: &str) -> TransactionRecord {
    TransactionRecord {
        product_id: Some(product.into()),
        channel: Some(channel.into()),
        ..TransactionRecord::new(c, day(d), amount)
    }
}

fn products() -> Vec<ProductRecord> {
    ["a", "b", "c"]
        .iter()
        .zip(["books", "music", "music"])
        .map(|(p, c)| ProductRecord {
            product_id: (*p).into(),
            category: Some(c.into()),
            unit_cost: None,
        })
        .collect()
}

/// "decl": first purchase day 0, then six purchases in the first fortnight, none later.
/// "steady": every 10 days from day 0 to day 100. "ret": buys 100, returns 30.
fn histories() -> Dataset {
    let mut rows = vec![row("decl", 0, 10.0, "a", "web")];
    for d in [5, 10, 15, 20, 25, 30] {
        rows.push(row("decl", d, 10.0, "a", "web"));
    }
    for k in 0..=10 {
        let ch = if k % 3 == 0 { "store" } else { "web" };
        rows.push(row(
            "steady",
            10 * k,
            5.0,
            if k < 4 { "a" } else { "b" },
            ch,
        ));
    }
    rows.push(row("ret", 2, 60.0, "b", "store"));
    rows.push(row("ret", 3, 40.0, "c", "phone"));
    rows.push(row("ret", 4, -30.0, "c", "phone"));
    rows.push(row("gone", 7, -12.0, "a", "web"));
    let mut b = Dataset::builder().products(products()).unwrap();
    b.extend(rows).unwrap();
    b.build().unwrap().dataset
}

#[test]
fn habits_of_hand_built_histories() {
    let data = histories();
    let all = data.view(&Scope::all());
    let h = HabitOptions::new().until(day(100)).compute(&all).unwrap();
    let idx = |id| all.row(id).unwrap();
    let channels = all.channel_names().unwrap();
    let catalogue = all.catalogue().unwrap();
    let channel = |i: usize| h.preferred_channel[i].map(|c| channels.name(c.get()));
    let category = |i: usize| h.preferred_category[i].map(|c| catalogue.categories().name(c.get()));
    // Regularity is the summary's (as of the same day).
    let summary = SummaryOptions::new(day(100)).compute::<Days>(&all).unwrap();
    let features = summary.features();
    let srow = |id| summary.row(id).unwrap();
    let (decl, steady, ret) = (idx("decl"), idx("steady"), idx("ret"));
    assert_eq!(channel(decl), Some("web"));
    assert_eq!(category(decl), Some("books"));
    // steady: web on 7 of 11 purchases; music (b) on 7, books (a) on 4.
    assert_eq!(channel(steady), Some("web"));
    assert_eq!(category(steady), Some("music"));
    // ret: one purchase each on store and phone (the return does not count); equal
    // counts, so the larger spend (store, 60) wins.
    assert_eq!(channel(ret), Some("store"));
    // Days 0, 5, ..., 30 from a Monday: Mon, Sat, Thu, Tue, Sun, Fri, Wed.
    assert_eq!(h.weekday[decl], [1, 1, 1, 1, 1, 1, 1]);
    assert_eq!(h.weekday[ret], [0, 0, 1, 1, 0, 0, 0]);
    assert!(h.hour.is_none(), "no times in the input");
    assert_relative_eq!(features.gap_mean_days[srow("steady")].unwrap(), 10.0);
    assert_relative_eq!(features.gap_cv[srow("steady")].unwrap(), 0.0);
    assert_relative_eq!(features.gap_mean_days[srow("decl")].unwrap(), 5.0);
    assert_eq!(features.gap_cv[srow("ret")], None, "one gap has no spread");
    assert_relative_eq!(h.basket_value[ret].unwrap(), 50.0);
    assert_relative_eq!(h.basket_size[ret].unwrap(), 1.0);
    // A customer who only returned has no habits.
    let gone = idx("gone");
    assert_eq!(h.weekday[gone], [0; 7]);
    assert!(h.preferred_channel[gone].is_none() && h.basket_value[gone].is_none());
    // Up to day 20 only: decl has its first five purchase days.
    let early = HabitOptions::new().until(day(20)).compute(&all).unwrap();
    assert_eq!(early.weekday[decl].iter().sum::<u32>(), 5);
}

#[test]
fn hours_when_the_log_has_times() {
    let mut b = Dataset::builder();
    let at = |h: u32| {
        Timestamp::parse(
            &format!("2024-03-01 {h:02}:30:00"),
            &acrm::time::DateFormat::Auto,
        )
        .unwrap()
    };
    b.extend([
        TransactionRecord::new("A", at(9), 1.0),
        TransactionRecord::new("A", at(9), 1.0),
        TransactionRecord::new("A", at(23), 1.0),
    ])
    .unwrap();
    let data = b.build().unwrap().dataset;
    let h = HabitOptions::new()
        .compute(&data.view(&Scope::all()))
        .unwrap();
    let hours = &h.hour.as_ref().unwrap()[0];
    assert_eq!((hours[9], hours[23], hours.iter().sum::<u32>()), (2, 1, 3));
}

#[test]
fn risk_flags_of_hand_built_histories() {
    let data = histories();
    let all = data.view(&Scope::all());
    let idx = |id| all.row(id).unwrap();
    let r = RiskOptions::new().until(day(100)).compute(&all).unwrap();
    let (decl, steady, ret) = (idx("decl"), idx("steady"), idx("ret"));
    // decl: tenure 100 days; all six repeat purchases in the first half.
    // P(Bin(6, ½) ≤ 0) = 1/64.
    assert_eq!(
        r.halves[decl],
        Halves {
            earlier: 6,
            recent: 0
        }
    );
    assert_relative_eq!(r.decline_p[decl].unwrap(), 1.0 / 64.0, max_relative = 1e-12);
    assert!(r.declining[decl]);
    // steady: repeat days 10..=50 early, 60..=100 late: P(Bin(10, ½) ≤ 5) = 638/1024.
    assert_eq!(
        r.halves[steady],
        Halves {
            earlier: 5,
            recent: 5
        }
    );
    assert_relative_eq!(
        r.decline_p[steady].unwrap(),
        638.0 / 1024.0,
        max_relative = 1e-12
    );
    assert!(!r.declining[steady]);
    // ret: one repeat purchase day (day 3), below min_repeat: no test.
    assert_eq!(r.decline_p[ret], None);
    assert_relative_eq!(r.return_share[ret], 0.3);
    assert!(r.high_returns[ret] && !r.high_returns[steady]);
    // Product concentration: decl buys only a; steady spends 4/11 on a, 7/11 on b;
    // ret has two purchase rows, below the minimum of three.
    assert_relative_eq!(r.top_product_share[decl].unwrap(), 1.0);
    assert_relative_eq!(r.top_product_share[steady].unwrap(), 7.0 / 11.0);
    assert!(r.concentrated[decl] && r.concentrated[steady] && !r.concentrated[ret]);
    // A stricter threshold and a looser significance level.
    let strict = RiskOptions::new()
        .until(day(100))
        .concentration(0.9, 3)
        .decline_test(0.01, 4)
        .compute(&all)
        .unwrap();
    assert!(strict.concentrated[decl] && !strict.concentrated[steady]);
    // A customer who only returned: nothing bought, so an infinite return share, flagged.
    let gone = idx("gone");
    assert!(r.return_share[gone].is_infinite() && r.high_returns[gone]);
    assert_eq!((r.decline_p[gone], r.top_product_share[gone]), (None, None));
    assert!(!r.concentrated[gone]);
    assert!(!strict.declining[decl], "1/64 is above 0.01");
}

#[test]
fn every_risk_option_error_is_named() {
    let data = histories();
    let all = data.view(&Scope::all());
    let option_of = |o: RiskOptions| match o.compute(&all) {
        Err(Error::InvalidOption { option, value, .. }) => (option, value),
        other => panic!("expected an option error, got {other:?}"),
    };
    let cases = [
        (
            RiskOptions::new().decline_test(0.0, 4),
            "decline_test",
            "alpha = 0",
        ),
        (
            RiskOptions::new().decline_test(1.0, 4),
            "decline_test",
            "alpha = 1",
        ),
        (
            RiskOptions::new().decline_test(0.05, 0),
            "decline_test",
            "min_repeat = 0",
        ),
        (
            RiskOptions::new().high_return_share(0.0),
            "high_return_share",
            "0",
        ),
        (
            RiskOptions::new().high_return_share(f64::NAN),
            "high_return_share",
            "NaN",
        ),
        (
            RiskOptions::new().concentration(1.5, 3),
            "concentration",
            "share = 1.5",
        ),
        (
            RiskOptions::new().concentration(0.5, 0),
            "concentration",
            "min_purchases = 0",
        ),
    ];
    for (opts, option, value) in cases {
        let (got, shown) = option_of(opts);
        assert_eq!(got, option);
        assert_eq!(shown, value, "{option}");
    }
}

#[test]
fn regularity_agrees_with_the_summary_and_results_do_not_depend_on_threads() {
    let synth = SynthOptions::<Weeks>::new()
        .customers(5_000)
        .seed(3)
        .generate()
        .unwrap();
    let data = synth.dataset;
    let end = synth.truth.options.end_date();
    let all = data.view(&Scope::all());
    let summary = SummaryOptions::new(end).compute::<Days>(&all).unwrap();
    let h = HabitOptions::new().until(end).compute(&all).unwrap();
    let features = summary.features();
    for i in 0..summary.len() {
        let c = summary.customer(i).get();
        let s = summary.get(i);
        // Regularity now lives in the summary's feature frame; it is checked against the
        // same definition read straight from the log (the habits used to compute it so).
        let (mean_gap, cv) = gaps_from_log(&all, c, end);
        match (s.gap_cv, features.gap_cv[i], cv) {
            (Some(a), Some(b), Some(d)) => {
                assert_relative_eq!(a, b, max_relative = 1e-9, epsilon = 1e-12);
                assert_relative_eq!(a, d, max_relative = 1e-9, epsilon = 1e-12);
            }
            (a, b, d) => {
                assert_eq!(a.is_some(), b.is_some(), "customer {c}");
                assert_eq!(a.is_some(), d.is_some(), "customer {c}");
            }
        }
        match (features.gap_mean_days[i], mean_gap) {
            (Some(a), Some(b)) => assert_relative_eq!(a, b, max_relative = 1e-12),
            (a, b) => assert_eq!(a.is_some(), b.is_some(), "customer {c}"),
        }
        let weekdays: u32 = h.weekday[c].iter().sum();
        assert!(weekdays > s.x);
        assert!(h.preferred_channel[c].is_some() && h.preferred_category[c].is_some());
    }
    let run = |threads| {
        crate::pool(threads).install(|| {
            (
                HabitOptions::new().compute(&all).unwrap(),
                RiskOptions::new().compute(&all).unwrap(),
            )
        })
    };
    assert_eq!(run(1), run(2));
}

/// Mean gap between a customer's distinct purchase days (amount ≥ 0) on or before `end`,
/// and the coefficient of variation of those gaps (sample standard deviation over mean,
/// at least two gaps).
fn gaps_from_log(all: &acrm::View<'_>, k: usize, end: NaiveDate) -> (Option<f64>, Option<f64>) {
    let h = all.history(k);
    let last = acrm::time::day_number(end);
    let mut days: Vec<i32> = h
        .days
        .iter()
        .zip(h.amounts)
        .filter(|&(&d, &a)| d <= last && a >= 0.0)
        .map(|(&d, _)| d)
        .collect();
    days.dedup();
    let gaps: Vec<f64> = days.windows(2).map(|w| f64::from(w[1] - w[0])).collect();
    if gaps.is_empty() {
        return (None, None);
    }
    let g = gaps.len() as f64;
    let mean = gaps.iter().sum::<f64>() / g;
    let cv = (gaps.len() >= 2).then(|| {
        let var = gaps.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (g - 1.0);
        if mean > 0.0 {
            var.sqrt() / mean
        } else {
            0.0
        }
    });
    (Some(mean), cv)
}

/// Basket size and value count units and orders: a scope hiding quantities or order ids
/// the data has is refused (naming the column), where counting rows instead would give
/// other baskets; data without them counts rows.
#[test]
fn habits_refuse_hidden_quantities_and_orders() {
    // One order of two rows, 3 units in all, spend 10.
    let rows = [(1.0, 4.0), (2.0, 6.0)].map(|(q, a)| TransactionRecord {
        quantity: Some(q),
        order_id: Some("o1".into()),
        ..row("ann", 1, a, "a", "web")
    });
    let mut b = Dataset::builder().products(products()).unwrap();
    b.extend(rows.clone()).unwrap();
    let data = b.build().unwrap().dataset;
    let h = HabitOptions::new()
        .compute(&data.view(&Scope::all()))
        .unwrap();
    assert_relative_eq!(h.basket_size[0].unwrap(), 3.0);
    assert_relative_eq!(h.basket_value[0].unwrap(), 10.0);
    for (hidden, column) in [("quantity", Column::Quantity), ("order", Column::Order)] {
        let scope = Scope::all().hide(ColumnSet::parse_list(hidden).unwrap());
        assert_eq!(
            HabitOptions::new().compute(&data.view(&scope)).unwrap_err(),
            Error::HiddenColumn {
                column,
                scope: "all".into(),
            }
        );
    }

    let mut b = Dataset::builder().products(products()).unwrap();
    b.extend(rows.map(|r| TransactionRecord {
        quantity: None,
        order_id: None,
        ..r
    }))
    .unwrap();
    let bare = b.build().unwrap().dataset;
    let h = HabitOptions::new()
        .compute(&bare.view(&Scope::all()))
        .unwrap();
    // Each purchase row an order of one unit.
    assert_relative_eq!(h.basket_size[0].unwrap(), 1.0);
    assert_relative_eq!(h.basket_value[0].unwrap(), 5.0);
}
