//! Properties of the per-customer summary on random small logs, against a brute-force
//! oracle written from the definitions (module documentation of `acrm::summary`, after
//! Fader, Hardie & Lee 2005 and lifetimes' `summary_data_from_transaction_data`):
//! - a purchase occasion is a day with at least one non-negative amount on or before the
//!   (inclusive) summary date; x = occasions − 1; t_x = last − first occasion; T = end −
//!   first occasion;
//! - mean spend = sum of non-negative amounts on repeat days / x (0 when x = 0);
//! - revenue = sum of all amounts on or before the date (returns netted);
//! - the rows are the customers with at least one occasion.
//!
//! Floats computed by the oracle are summed in another order than the library's, so they
//! are compared with a tolerance: amounts are whole cents below 200 in magnitude and a
//! customer has under 20 of them, so any two summation orders agree to a few ulps of
//! 4,000 (about 1e-12); the tolerance is 1e-9. Comparisons between two library results
//! that sum the same values in the same order (merge, incremental update, thread counts)
//! are exact.

use std::collections::{BTreeMap, BTreeSet};

use acrm::data::{Dataset, OwnershipRecord, TransactionRecord};
use acrm::summary::{Coverage, Summary};
use acrm::{Days, Error, Scope, SplitOptions, SummaryOptions, TimeUnit, Weeks};
use approx::assert_abs_diff_eq;
use chrono::NaiveDate;
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

const EPS: f64 = 1e-9;

fn base() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).unwrap()
}

fn date(day: i32) -> NaiveDate {
    base() + chrono::Duration::days(i64::from(day))
}

/// One generated transaction: customer number, day offset from [`base`], second of the
/// day (used when the log has times), amount and cost.
#[derive(Debug, Clone)]
struct Tx {
    customer: usize,
    day: i32,
    second: u32,
    amount: f64,
    cost: f64,
}

#[derive(Debug, Clone)]
struct Log {
    times: bool,
    costs: bool,
    txs: Vec<Tx>,
}

fn id(customer: usize) -> String {
    format!("c{customer}")
}

impl Log {
    fn record(&self, t: &Tx) -> TransactionRecord {
        let mut r = if self.times {
            let dt = date(t.day).and_hms_opt(0, 0, 0).unwrap()
                + chrono::Duration::seconds(i64::from(t.second));
            TransactionRecord::new(id(t.customer), dt, t.amount)
        } else {
            TransactionRecord::new(id(t.customer), date(t.day), t.amount)
        };
        r.cost = self.costs.then_some(t.cost);
        r
    }

    /// The dataset of the transactions that pass `keep` (in log order), or `None` when
    /// none does.
    fn dataset(&self, keep: impl Fn(&Tx) -> bool) -> Option<Dataset> {
        let mut b = Dataset::builder();
        b.extend(self.txs.iter().filter(|t| keep(t)).map(|t| self.record(t)))
            .unwrap();
        match b.build() {
            Ok(l) => Some(l.dataset),
            Err(Error::EmptyInput) => None,
            Err(e) => panic!("{e:?}"),
        }
    }

    fn customers(&self) -> BTreeSet<usize> {
        self.txs.iter().map(|t| t.customer).collect()
    }
}

/// Amounts in whole cents, a fifth of them negative (returns).
fn amount() -> impl Strategy<Value = f64> + Clone {
    prop_oneof![
        4 => (0..20_000i32).prop_map(|c| f64::from(c) / 100.0),
        1 => (-2_000..0i32).prop_map(|c| f64::from(c) / 100.0),
    ]
}

/// 1 to 29 customers with 1 to 19 transactions each on days 0..200, in random order.
fn log() -> impl Strategy<Value = Log> {
    let tx = (0..200i32, 0..86_400u32, amount(), 0..5_000i32);
    (1..30usize, any::<bool>(), any::<bool>()).prop_flat_map(move |(n, times, costs)| {
        proptest::collection::vec(proptest::collection::vec(tx.clone(), 1..20), n)
            .prop_map(|per| {
                per.into_iter()
                    .enumerate()
                    .flat_map(|(customer, txs)| {
                        txs.into_iter().map(move |(day, second, amount, cost)| Tx {
                            customer,
                            day,
                            second,
                            amount,
                            cost: f64::from(cost) / 100.0,
                        })
                    })
                    .collect::<Vec<_>>()
            })
            .prop_shuffle()
            .prop_map(move |txs| Log { times, costs, txs })
    })
}

/// The oracle's summary of one customer as of day `end`.
#[derive(Debug)]
struct Expect {
    x: u32,
    first: i32,
    last: i32,
    t: i32,
    mean_spend: f64,
    revenue: f64,
    returned: f64,
    cost: f64,
    purchase_rows: u32,
    gap_cv: Option<f64>,
}

fn expect(txs: &[Tx], customer: usize, end: i32) -> Option<Expect> {
    let mine: Vec<&Tx> = txs
        .iter()
        .filter(|t| t.customer == customer && t.day <= end)
        .collect();
    let days: BTreeSet<i32> = mine
        .iter()
        .filter(|t| t.amount >= 0.0)
        .map(|t| t.day)
        .collect();
    let first = *days.first()?;
    let last = *days.last()?;
    let x = days.len() as u32 - 1;
    // Gaps between consecutive purchase days; their coefficient of variation is the
    // sample standard deviation (divisor x − 1) over the mean, defined for x ≥ 2.
    let gaps: Vec<f64> = days
        .iter()
        .zip(days.iter().skip(1))
        .map(|(a, b)| f64::from(b - a))
        .collect();
    let gap_cv = (x >= 2).then(|| {
        let m = gaps.iter().sum::<f64>() / f64::from(x);
        let var = gaps.iter().map(|g| (g - m) * (g - m)).sum::<f64>() / f64::from(x - 1);
        var.sqrt() / m
    });
    let repeat: f64 = mine
        .iter()
        .filter(|t| t.amount >= 0.0 && t.day != first)
        .map(|t| t.amount)
        .sum();
    Some(Expect {
        x,
        first,
        last,
        t: end - first,
        mean_spend: if x == 0 { 0.0 } else { repeat / f64::from(x) },
        revenue: mine.iter().map(|t| t.amount).sum(),
        returned: mine
            .iter()
            .filter(|t| t.amount < 0.0)
            .map(|t| t.amount)
            .sum(),
        cost: mine.iter().map(|t| t.cost).sum(),
        purchase_rows: mine.iter().filter(|t| t.amount >= 0.0).count() as u32,
        gap_cv,
    })
}

/// Where the oracle puts each row of the dataset of `txs` (see `Coverage`).
fn expect_coverage(txs: &[Tx], end: i32) -> Coverage {
    let mut c = Coverage::default();
    let customers: BTreeSet<usize> = txs.iter().map(|t| t.customer).collect();
    for k in customers {
        let on_or_before = txs
            .iter()
            .filter(|t| t.customer == k && t.day <= end)
            .count() as u64;
        let after = txs
            .iter()
            .filter(|t| t.customer == k && t.day > end)
            .count() as u64;
        c.later_transactions += after;
        if expect(txs, k, end).is_some() {
            c.transactions += on_or_before;
        } else {
            c.excluded_customers += 1;
            c.excluded_transactions += on_or_before;
        }
    }
    c
}

/// Checks a summary as of day `end` against the oracle.
fn check_against_oracle<U: TimeUnit>(log: &Log, s: &Summary<U>, end: i32) {
    assert_eq!(s.as_of(), date(end));
    let mut rows = 0;
    for k in log.customers() {
        let Some(e) = expect(&log.txs, k, end) else {
            assert_eq!(s.row(&id(k)), None, "customer {k} has no purchase by {end}");
            continue;
        };
        rows += 1;
        let i = s
            .row(&id(k))
            .unwrap_or_else(|| panic!("customer {k} missing"));
        assert_eq!(s.id(i), id(k));
        let g = s.get(i);
        assert_eq!(g.x, e.x);
        assert_eq!(s.x(i), e.x);
        // Spans are whole days converted to the unit: t_x = (last − first) / U::DAYS.
        assert_abs_diff_eq!(
            g.t_x.value(),
            f64::from(e.last - e.first) / U::DAYS,
            epsilon = EPS
        );
        assert_abs_diff_eq!(g.t.value(), f64::from(e.t) / U::DAYS, epsilon = EPS);
        assert!(0.0 <= g.t_x.value() && g.t_x.value() <= g.t.value());
        assert_abs_diff_eq!(g.mean_spend, e.mean_spend, epsilon = EPS);
        assert_abs_diff_eq!(g.revenue, e.revenue, epsilon = EPS);
        assert_abs_diff_eq!(g.returned, e.returned, epsilon = EPS);
        match g.margin {
            Some(m) => {
                assert!(log.costs);
                assert_abs_diff_eq!(m, e.revenue - e.cost, epsilon = EPS);
            }
            None => assert!(!log.costs),
        }
        assert_eq!(g.first_purchase, date(e.first));
        assert_eq!(g.last_purchase, date(e.last));
        // Without an order column every purchase row is an order.
        assert_eq!(g.orders, e.purchase_rows);
        match g.gap_mean {
            Some(gap) => {
                assert_abs_diff_eq!(
                    gap.value(),
                    f64::from(e.last - e.first) / f64::from(e.x) / U::DAYS,
                    epsilon = EPS
                );
            }
            None => assert_eq!(e.x, 0),
        }
        match (g.gap_cv, e.gap_cv) {
            (Some(a), Some(b)) => assert_abs_diff_eq!(a, b, epsilon = EPS),
            (a, b) => assert_eq!(a.is_some(), b.is_some(), "gap_cv {a:?} vs {b:?}"),
        }
        // The matrix form holds the same numbers (Summary::COLUMNS order).
        let row = [
            f64::from(g.x),
            g.t_x.value(),
            g.t.value(),
            g.mean_spend,
            g.revenue,
        ];
        let array = s.to_array();
        assert_eq!(bits(array.row(i).iter()), bits(row.iter()));
    }
    assert_eq!(s.len(), rows);
    let zero = log
        .customers()
        .into_iter()
        .filter(|&k| expect(&log.txs, k, end).is_some_and(|e| e.x == 0))
        .count();
    assert_eq!(s.zero_repeat_customers(), zero);
    assert_eq!(s.coverage(), expect_coverage(&log.txs, end));
    // Rows in = transactions + excluded + later (Coverage's documented identity).
    let c = s.coverage();
    assert_eq!(
        c.transactions + c.excluded_transactions + c.later_transactions,
        log.txs.len() as u64
    );
}

fn bits<'a>(v: impl Iterator<Item = &'a f64>) -> Vec<u64> {
    v.map(|x| x.to_bits()).collect()
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        // Failing cases are printed; nothing is written next to the sources.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn summary_matches_brute_force_oracle(log in log(), end in 0..220i32) {
        let data = log.dataset(|_| true).unwrap();
        let all = data.view(&Scope::all());
        let any = log.customers().into_iter().any(|k| expect(&log.txs, k, end).is_some());
        let opts = SummaryOptions::new(date(end));
        if !any {
            prop_assert_eq!(opts.compute::<Days>(&all).unwrap_err(), Error::EmptyInput);
            return Ok(());
        }
        let days = opts.compute::<Days>(&all).unwrap();
        check_against_oracle(&log, &days, end);
        let weeks = opts.compute::<Weeks>(&all).unwrap();
        check_against_oracle(&log, &weeks, end);
        // The unit only converts on the way out.
        prop_assert_eq!(days.clone().in_unit::<Weeks>(), weeks);
        // Totals are the row sums.
        let total: f64 = (0..days.len()).map(|i| days.get(i).revenue).sum();
        assert_abs_diff_eq!(days.total_revenue(), total, epsilon = EPS);
        let repeat: u64 = (0..days.len()).map(|i| u64::from(days.x(i))).sum();
        prop_assert_eq!(days.repeat_purchases(), repeat);
    }

    #[test]
    fn merge_of_disjoint_summaries_equals_summary_of_union(
        log in log(),
        end in 0..220i32,
        side in proptest::collection::vec(any::<bool>(), 30),
    ) {
        let opts = SummaryOptions::new(date(end));
        let (Some(da), Some(db)) = (
            log.dataset(|t| side[t.customer]),
            log.dataset(|t| !side[t.customer]),
        ) else {
            return Err(TestCaseError::reject("one side has no customer"));
        };
        let (va, vb) = (da.view(&Scope::all()), db.view(&Scope::all()));
        let (Ok(a), Ok(b)) = (opts.compute::<Days>(&va), opts.compute::<Days>(&vb)) else {
            return Err(TestCaseError::reject("one side has no purchase by the date"));
        };
        let union = opts.compute::<Days>(&log.dataset(|_| true).unwrap().view(&Scope::all())).unwrap();
        for merged in [a.clone().merge(b.clone()).unwrap(), b.clone().merge(a.clone()).unwrap()] {
            prop_assert_eq!(merged.len(), union.len());
            prop_assert_eq!(merged.as_of(), union.as_of());
            prop_assert_eq!(merged.coverage(), union.coverage());
            for i in 0..union.len() {
                let j = merged.row(union.id(i)).unwrap();
                prop_assert_eq!(merged.state(j), union.state(i));
                prop_assert_eq!(merged.get(j), union.get(i));
            }
        }
        // A customer in both, or different dates, cannot merge.
        let both = a.clone().merge(a.clone());
        prop_assert!(matches!(both, Err(Error::Merge { .. })), "{:?}", both);
        let later = SummaryOptions::new(date(end + 1)).compute::<Days>(&vb).unwrap();
        let dates = a.merge(later);
        prop_assert!(matches!(dates, Err(Error::Merge { .. })), "{:?}", dates);
    }

    #[test]
    fn incremental_update_equals_full_summary(
        log in log(),
        d1 in 0..200i32,
        step in 1..100i32,
    ) {
        let d2 = d1 + step;
        // A customer whose rows up to d1 are all returns is not in the d1 summary, and the
        // summary keeps nothing of them; such rows are left out here and the case is
        // `update_keeps_earlier_returns_of_customers_not_yet_in_the_summary` below.
        let mut log = log;
        let returns_only: BTreeSet<usize> = log
            .customers()
            .into_iter()
            .filter(|&k| {
                log.txs.iter().any(|t| t.customer == k && t.day <= d1)
                    && expect(&log.txs, k, d1).is_none()
            })
            .collect();
        log.txs.retain(|t| !(t.day <= d1 && returns_only.contains(&t.customer)));

        let Some(before) = log.dataset(|t| t.day <= d1) else {
            return Err(TestCaseError::reject("nothing on or before d1"));
        };
        let Ok(mut s) = SummaryOptions::new(date(d1)).compute::<Days>(&before.view(&Scope::all())) else {
            return Err(TestCaseError::reject("no purchase on or before d1"));
        };
        let after = log.dataset(|t| t.day > d1).unwrap_or_default();
        let unchanged = s.clone();
        s.update(&after.view(&Scope::all()), date(d2)).unwrap();
        let full = SummaryOptions::new(date(d2))
            .compute::<Days>(&log.dataset(|_| true).unwrap().view(&Scope::all()))
            .unwrap();
        prop_assert_eq!(s.as_of(), date(d2));
        prop_assert_eq!(s.len(), full.len());
        for i in 0..full.len() {
            let j = s.row(full.id(i)).unwrap();
            prop_assert_eq!(s.state(j), full.state(i));
            prop_assert_eq!(s.x(j), full.x(i));
            prop_assert_eq!(s.t_x(j).value().to_bits(), full.t_x(i).value().to_bits());
            prop_assert_eq!(s.t(j).value().to_bits(), full.t(i).value().to_bits());
            prop_assert_eq!(s.mean_spend(j).to_bits(), full.mean_spend(i).to_bits());
        }
        // Every input row is accounted for once.
        let (c, f) = (s.coverage(), full.coverage());
        prop_assert_eq!(
            c.transactions + c.excluded_transactions + c.later_transactions,
            f.transactions + f.excluded_transactions + f.later_transactions
        );
        prop_assert_eq!(c, f);

        // A transaction dated on or before the summary date is refused, and the summary is
        // left as it was.
        for stale_day in [d1, d1 - 1] {
            let mut s = unchanged.clone();
            let stale = Log { txs: vec![Tx { customer: 0, day: stale_day, second: 0, amount: 1.0, cost: 0.5 }], ..log.clone() };
            let err = s.update(&stale.dataset(|_| true).unwrap().view(&Scope::all()), date(d2)).unwrap_err();
            prop_assert_eq!(err, Error::StaleTransaction {
                customer: id(0),
                date: date(stale_day),
                as_of: date(d1),
            });
            prop_assert_eq!(&s, &unchanged);
        }
    }

    #[test]
    fn compact_patterns_cover_every_row(log in log(), end in 0..220i32) {
        let data = log.dataset(|_| true).unwrap();
        let Ok(s) = SummaryOptions::new(date(end)).compute::<Weeks>(&data.view(&Scope::all())) else {
            return Err(TestCaseError::reject("no purchase by the date"));
        };
        let c = s.compact();
        let total: u64 = c.patterns.iter().map(|p| u64::from(p.count)).sum();
        prop_assert_eq!(total, s.len() as u64);
        // Sorted by (x, t_x, T) and distinct: strictly increasing.
        for w in c.patterns.windows(2) {
            let key = |p: &acrm::summary::Pattern| (p.x, p.t_x, p.t);
            prop_assert!(key(&w[0]) < key(&w[1]), "{:?} !< {:?}", w[0], w[1]);
        }
        // Each pattern's count is the number of rows with it (keys compared bit for bit:
        // both sides are the same whole-day counts divided by 7).
        let mut rows: BTreeMap<(u32, u64, u64), u32> = BTreeMap::new();
        for i in 0..s.len() {
            *rows.entry((s.x(i), s.t_x(i).value().to_bits(), s.t(i).value().to_bits())).or_default() += 1;
        }
        let patterns: BTreeMap<(u32, u64, u64), u32> = c
            .patterns
            .iter()
            .map(|p| ((p.x, p.t_x.to_bits(), p.t.to_bits()), p.count))
            .collect();
        prop_assert_eq!(rows, patterns);
    }

    #[test]
    fn thread_count_does_not_change_the_summary(log in log(), end in 0..220i32) {
        let data = log.dataset(|_| true).unwrap();
        let opts = SplitOptions::new(date(end), date(end + 30));
        let run = |threads| {
            crate::pool(threads).install(|| {
                opts.compute::<Days>(&data.view(&Scope::all()))
                    .map(|s| serde_json::to_string(&(&s, s.calibration.compact())).unwrap())
            })
        };
        prop_assert_eq!(run(1), run(2));
    }

    #[test]
    fn holdout_counts_purchase_days_after_calibration(
        log in log(),
        cal in 0..200i32,
        length in 1..100i32,
    ) {
        let h = cal + length;
        let data = log.dataset(|_| true).unwrap();
        let all = data.view(&Scope::all());
        let opts = SplitOptions::new(date(cal), date(h));
        let Ok(split) = opts.compute::<Days>(&all) else {
            return Err(TestCaseError::reject("no purchase by the calibration end"));
        };
        prop_assert_eq!(&split.calibration, &SummaryOptions::new(date(cal)).compute::<Days>(&all).unwrap());
        let hold = &split.holdout;
        prop_assert_eq!(hold.purchases.len(), split.calibration.len());
        prop_assert_eq!(hold.spend.len(), split.calibration.len());
        assert_abs_diff_eq!(hold.length().value(), f64::from(length));
        prop_assert_eq!(hold.start(), date(cal + 1));
        prop_assert_eq!(hold.end(), date(h));
        let mut total = 0u64;
        for i in 0..split.calibration.len() {
            let k: usize = split.calibration.id(i)[1..].parse().unwrap();
            // Oracle: distinct days in (cal, h] with a non-negative amount, and their spend.
            let in_holdout = || {
                log.txs
                    .iter()
                    .filter(move |t| t.customer == k && t.day > cal && t.day <= h && t.amount >= 0.0)
            };
            let days: BTreeSet<i32> = in_holdout().map(|t| t.day).collect();
            let spend: f64 = in_holdout().map(|t| t.amount).sum();
            prop_assert_eq!(hold.purchases[i], days.len() as u32);
            assert_abs_diff_eq!(hold.spend[i], spend, epsilon = EPS);
            total += days.len() as u64;
        }
        prop_assert_eq!(hold.total_purchases(), total);
        // A holdout end not after the calibration end is an invalid option (a split
        // without a holdout end can no longer be asked for: `SplitOptions::new` takes it).
        for (bad, given) in [
            (SplitOptions::new(date(cal), date(cal)), date(cal).to_string()),
            (SplitOptions::new(date(cal), date(cal - 1)), date(cal - 1).to_string()),
        ] {
            let err = bad.compute::<Days>(&all).unwrap_err();
            prop_assert!(
                matches!(&err, Error::InvalidOption { option: "holdout_end", value, .. } if *value == given),
                "{:?}", err
            );
        }
    }
}

/// The small logs above have fewer customers than one parallel work unit of the summary;
/// this one has enough to be split across threads.
#[test]
fn thread_count_does_not_change_a_large_summary() {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
    let mut txs = Vec::new();
    for customer in 0..20_000 {
        for _ in 0..rng.gen_range(1..8) {
            txs.push(Tx {
                customer,
                day: rng.gen_range(0..400),
                second: rng.gen_range(0..86_400),
                amount: f64::from(rng.gen_range(-2_000..20_000)) / 100.0,
                cost: f64::from(rng.gen_range(0..5_000)) / 100.0,
            });
        }
    }
    let log = Log {
        times: true,
        costs: true,
        txs,
    };
    let data = log.dataset(|_| true).unwrap();
    let opts = SplitOptions::new(date(250), date(380));
    let run = |threads| {
        crate::pool(threads).install(|| {
            let split = opts.compute::<Weeks>(&data.view(&Scope::all())).unwrap();
            let compact = split.calibration.compact();
            serde_json::to_string(&(split, compact)).unwrap()
        })
    };
    assert_eq!(run(1), run(2));
    // And the large summary agrees with the oracle too.
    let s = SummaryOptions::new(date(250))
        .compute::<Weeks>(&data.view(&Scope::all()))
        .unwrap();
    check_against_oracle_sampled(&log, &s, 250);
}

/// [`check_against_oracle`] on every 97th customer (the oracle is quadratic).
fn check_against_oracle_sampled<U: TimeUnit>(log: &Log, s: &Summary<U>, end: i32) {
    let mut by_customer: BTreeMap<usize, Vec<Tx>> = BTreeMap::new();
    for t in &log.txs {
        if t.customer % 97 == 0 {
            by_customer.entry(t.customer).or_default().push(t.clone());
        }
    }
    for (k, txs) in by_customer {
        match expect(&txs, k, end) {
            None => assert_eq!(s.row(&id(k)), None),
            Some(e) => {
                let i = s.row(&id(k)).unwrap();
                assert_eq!(s.x(i), e.x);
                assert_abs_diff_eq!(s.t(i).value(), f64::from(e.t) / U::DAYS, epsilon = EPS);
                assert_abs_diff_eq!(s.mean_spend(i), e.mean_spend, epsilon = EPS);
                assert_abs_diff_eq!(s.get(i).revenue, e.revenue, epsilon = EPS);
            }
        }
    }
}

// ---------------------------------------------------------------- update: known gaps

fn records(rows: &[(&str, i32, f64)]) -> Dataset {
    let mut b = Dataset::builder();
    b.extend(
        rows.iter()
            .map(|&(c, d, a)| TransactionRecord::new(c, date(d), a)),
    )
    .unwrap();
    b.build().unwrap().dataset
}

/// A customer with only a return by d1 is not a row of the d1 summary. When they buy
/// after d1, the updated summary must still be that of the combined log: their return
/// nets their revenue, and they are no longer an excluded customer.
#[test]
fn update_keeps_earlier_returns_of_customers_not_yet_in_the_summary() {
    // a buys on day 1; b returns 5 on day 2 (before any purchase) and buys 20 on day 15.
    let (d1, d2) = (10, 20);
    let before = records(&[("a", 1, 10.0), ("b", 2, -5.0)]);
    let after = records(&[("b", 15, 20.0)]);
    let all = records(&[("a", 1, 10.0), ("b", 2, -5.0), ("b", 15, 20.0)]);
    let mut s = SummaryOptions::new(date(d1))
        .compute::<Days>(&before.view(&Scope::all()))
        .unwrap();
    s.update(&after.view(&Scope::all()), date(d2)).unwrap();
    let full = SummaryOptions::new(date(d2))
        .compute::<Days>(&all.view(&Scope::all()))
        .unwrap();
    let (i, j) = (full.row("b").unwrap(), s.row("b").unwrap());
    // Revenue of b by day 20: -5 + 20 = 15 (definition: all amounts, returns netted).
    assert_abs_diff_eq!(full.get(i).revenue, 15.0);
    assert_abs_diff_eq!(s.get(j).revenue, 15.0);
    assert_eq!(s.state(j), full.state(i));
    // Coverage of the combined log: 3 rows of 2 summarised customers, none excluded.
    let expected = Coverage {
        excluded_customers: 0,
        transactions: 3,
        excluded_transactions: 0,
        later_transactions: 0,
    };
    assert_eq!(full.coverage(), expected);
    assert_eq!(s.coverage(), expected);
}

/// A customer of the update whose transactions are all after the new date is not yet
/// acquired: the summary of the combined log counts them as excluded.
#[test]
fn update_counts_customers_acquired_after_the_new_date_as_excluded() {
    let (d1, d2) = (10, 20);
    let before = records(&[("a", 1, 10.0)]);
    let after = records(&[("a", 12, 5.0), ("c", 30, 7.0)]);
    let all = records(&[("a", 1, 10.0), ("a", 12, 5.0), ("c", 30, 7.0)]);
    let mut s = SummaryOptions::new(date(d1))
        .compute::<Days>(&before.view(&Scope::all()))
        .unwrap();
    s.update(&after.view(&Scope::all()), date(d2)).unwrap();
    let full = SummaryOptions::new(date(d2))
        .compute::<Days>(&all.view(&Scope::all()))
        .unwrap();
    // Combined log as of day 20: a is summarised (2 rows), c is not yet acquired
    // (1 customer excluded, 1 later row).
    let expected = Coverage {
        excluded_customers: 1,
        transactions: 2,
        excluded_transactions: 0,
        later_transactions: 1,
    };
    assert_eq!(full.coverage(), expected);
    assert_eq!(s.coverage(), expected);
}

/// A scoped summary's dataset holds customers outside the scope. When an update brings
/// them, they are new customers of the combined input (the scope's customers and the
/// update's), summarised or excluded, like a customer the dataset never held.
#[test]
fn update_of_a_scoped_summary_counts_customers_outside_its_scope_as_new() {
    let (d1, d2) = (10, 20);
    // ann owns a (buys on day 1) and b (a return of 5 on day 2, no purchase); bob owns c
    // and d, who bought by day 10 but are outside ann's scope.
    let mut before = records(&[("a", 1, 10.0), ("b", 2, -5.0), ("c", 3, 7.0), ("d", 4, 8.0)]);
    before
        .assign_owners([
            OwnershipRecord::new("a", "ann"),
            OwnershipRecord::new("b", "ann"),
            OwnershipRecord::new("c", "bob"),
            OwnershipRecord::new("d", "bob"),
        ])
        .unwrap();
    let ann = Scope::of_owners("owner", "ann", ["ann"]);
    let mut s = SummaryOptions::new(date(d1))
        .compute::<Days>(&before.view(&ann))
        .unwrap();
    // ann's customers as of day 10: a summarised (1 row), b excluded (its return).
    let by_hand = Coverage {
        excluded_customers: 1,
        transactions: 1,
        excluded_transactions: 1,
        later_transactions: 0,
    };
    assert_eq!(s.coverage(), by_hand);
    // The update: a and b buy, c (outside the scope) buys, d (outside) only returns, and
    // e (new to the data) buys only after the new date.
    let after = records(&[
        ("a", 12, 3.0),
        ("b", 13, 20.0),
        ("c", 14, 4.0),
        ("d", 15, -3.0),
        ("e", 30, 9.0),
    ]);
    s.update(&after.view(&Scope::all()), date(d2)).unwrap();
    // The combined input as of day 20, customer by customer:
    // a: days 1 and 12, summarised, 2 rows;   b: days 2 and 13, summarised, 2 rows;
    // c: day 14 (its day 3 is outside the summary's input), summarised, 1 row;
    // d: a return on day 15 only, excluded, 1 row;   e: day 30, excluded, 1 later row.
    let by_hand = Coverage {
        excluded_customers: 2,
        transactions: 5,
        excluded_transactions: 1,
        later_transactions: 1,
    };
    assert_eq!(s.coverage(), by_hand);
    let ids: BTreeSet<&str> = (0..s.len()).map(|i| s.id(i)).collect();
    assert_eq!(ids, BTreeSet::from(["a", "b", "c"]));
    // b's earlier return nets its revenue: -5 + 20.
    assert_abs_diff_eq!(s.get(s.row("b").unwrap()).revenue, 15.0);
    assert_abs_diff_eq!(s.get(s.row("c").unwrap()).revenue, 4.0);
    // A second update: d buys, and leaves the excluded customers (e stays).
    let later = records(&[("d", 22, 6.0)]);
    s.update(&later.view(&Scope::all()), date(25)).unwrap();
    // d: days 15 and 22, summarised, 2 rows; a, b, c unchanged (5 rows).
    let by_hand = Coverage {
        excluded_customers: 1,
        transactions: 7,
        excluded_transactions: 0,
        later_transactions: 1,
    };
    assert_eq!(s.coverage(), by_hand);
    assert_eq!(s.len(), 4);
}

/// Summaries sharing a customer cannot merge, even one they both exclude (it would be
/// counted twice).
#[test]
fn merge_refuses_a_customer_excluded_in_both() {
    let opts = SummaryOptions::new(date(10));
    let a = opts
        .compute::<Days>(&records(&[("a", 1, 10.0), ("x", 2, -1.0)]).view(&Scope::all()))
        .unwrap();
    let b = opts
        .compute::<Days>(&records(&[("b", 1, 10.0), ("x", 3, -2.0)]).view(&Scope::all()))
        .unwrap();
    let both = a.clone().merge(b);
    assert!(
        matches!(&both, Err(Error::Merge { reason }) if reason.contains("`x`")),
        "{both:?}"
    );
    let c = opts
        .compute::<Days>(&records(&[("c", 1, 10.0), ("y", 3, -2.0)]).view(&Scope::all()))
        .unwrap();
    let merged = a.merge(c).unwrap();
    assert_eq!(merged.coverage().excluded_customers, 2);
    assert_eq!(merged.coverage().excluded_transactions, 2);
}

#[test]
fn update_refuses_an_earlier_date() {
    let mut s = SummaryOptions::new(date(10))
        .compute::<Days>(&records(&[("a", 1, 10.0)]).view(&Scope::all()))
        .unwrap();
    let err = s
        .update(&records(&[("a", 12, 1.0)]).view(&Scope::all()), date(9))
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidOption {
                option: "as_of",
                value,
                ..
            } if *value == date(9).to_string()
        ),
        "{err:?}"
    );
}

/// `CustomerSummary::orders` is documented as the number of distinct order ids among
/// purchases when the log has order ids.
#[test]
fn orders_count_distinct_order_ids_among_purchases() {
    let row = |day: i32, order: &str, amount: f64| {
        let mut r = TransactionRecord::new("a", date(day), amount);
        r.order_id = Some(order.into());
        r
    };
    let mut b = Dataset::builder();
    // Day 1: order o1, then o2, then a further line of o1 (same day, so they keep their
    // arrival order); a return under o3; day 2: o2 again (a late line) and o4.
    // Distinct order ids among purchases: o1, o2, o4 = 3.
    b.extend([
        row(1, "o1", 10.0),
        row(1, "o2", 5.0),
        row(1, "o1", 3.0),
        row(1, "o3", -2.0),
        row(2, "o2", 1.0),
        row(2, "o4", 4.0),
    ])
    .unwrap();
    let data = b.build().unwrap().dataset;
    let s = SummaryOptions::new(date(5))
        .compute::<Days>(&data.view(&Scope::all()))
        .unwrap();
    assert_eq!(s.get(0).orders, 3);
}
