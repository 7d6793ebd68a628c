//! Multi-touch attribution against marketing_attribution_models 2.1.1 (first touch, last
//! touch, linear, position based, time decay, Markov removal effects), numpy (the exact
//! absorbing chains of order 1 and 2, solved by `numpy.linalg.solve`) and a brute-force
//! Shapley enumeration of every coalition. The reference numbers are in
//! tests/data/promotion/attribution/reference_{paths,touches}.json, made by
//! reference.py there from paths.csv and touches.csv (seeded, made by make_data.py;
//! provenance in README.md).

use acrm::data::{Area, AreaSet};
use acrm::data::{
    Conversions, Dataset, OwnershipRecord, Paths, Scope, TouchRecord, Touches, TransactionRecord,
};
use acrm::io::{read_paths, read_paths_path, read_touches_path};
use acrm::promotion::{Attribution, AttributionModel, AttributionOptions, DecayUnit};
use acrm::{Error, Problem};
use chrono::{NaiveDate, NaiveDateTime};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;

use crate::pool;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/promotion/attribution/"
);
/// Every reference number, relative (absolute below 1).
const TOL: f64 = 1e-12;

fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}reference_{name}.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Every model, the removal effects and P(conversion) against the reference.
fn check(att: &Attribution, want: &Value) {
    let channels: Vec<&str> = want["channels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(att.channels, channels);
    close(
        "total conversions",
        att.total_conversions,
        f(&want["total_conversions"]),
    );
    close("total value", att.total_value, f(&want["total_value"]));
    close(
        "P(conversion)",
        att.markov.p_conversion,
        f(&want["p_conversion"]),
    );
    assert_eq!(
        att.markov.states as u64,
        want["markov_states"].as_u64().unwrap()
    );
    for (k, c) in channels.iter().enumerate() {
        close(
            &format!("removal effect of {c}"),
            att.markov.removal_effects[k],
            f(&want["removal_effects"][c]),
        );
        // marketing_attribution_models' own removal effects, too.
        close(
            &format!("mam removal effect of {c}"),
            att.markov.removal_effects[k],
            f(&want["mam_removal_effects"][c]),
        );
    }
    for model in AttributionModel::ALL {
        let credit = att.credit(model);
        for (k, c) in channels.iter().enumerate() {
            let w = &want["models"][model.name()];
            close(
                &format!("{model} conversions of {c}"),
                credit.conversions[k],
                f(&w["conversions"][c]),
            );
            close(
                &format!("{model} value of {c}"),
                credit.value[k],
                f(&w["value"][c]),
            );
        }
        // Every model gives out exactly the conversions and the value there are.
        close(
            &format!("{model} conversions sum"),
            credit.conversions.iter().sum(),
            att.total_conversions,
        );
        close(
            &format!("{model} value sum"),
            credit.value.iter().sum(),
            att.total_value,
        );
    }
}

/// Aggregated paths (half-life 2 touches) against marketing_attribution_models, numpy
/// and brute-force Shapley.
#[test]
fn aggregated_paths_match_the_references() {
    let paths = read_paths_path(format!("{DIR}paths.csv")).unwrap();
    // Identical paths (however spaced) are merged.
    let text = std::fs::read_to_string(format!("{DIR}paths.csv")).unwrap();
    let distinct: std::collections::HashSet<String> = text
        .lines()
        .skip(1)
        .map(|l| {
            l.split(';')
                .next()
                .unwrap()
                .split('>')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(">")
        })
        .collect();
    assert_eq!(
        (paths.len(), text.lines().count() - 1),
        (distinct.len(), 71)
    );
    let want = reference("paths");
    let att = AttributionOptions::new()
        .half_life(f(&want["half_life_touches"]))
        .compute(&paths)
        .unwrap();
    assert_eq!(att.half_life_unit, DecayUnit::Touches);
    check(&att, &want);
}

/// The order-2 chain against its numpy solution.
#[test]
fn second_order_chain_matches_numpy() {
    for (name, paths) in [
        ("paths", read_paths_path(format!("{DIR}paths.csv")).unwrap()),
        (
            "touches",
            Paths::from_touches(
                &read_touches_path(format!("{DIR}touches.csv"))
                    .unwrap()
                    .everyone(),
                Conversions::Marked,
            )
            .unwrap(),
        ),
    ] {
        let want = &reference(name)["order2"];
        let fit = AttributionOptions::new()
            .markov_order(2)
            .markov(&paths)
            .unwrap();
        assert_eq!(fit.chain.states as u64, want["states"].as_u64().unwrap());
        close(
            "order-2 P(conversion)",
            fit.chain.p_conversion,
            f(&want["p_conversion"]),
        );
        for (k, c) in paths.channels().iter().enumerate() {
            close(
                &format!("order-2 removal effect of {c}"),
                fit.chain.removal_effects[k],
                f(&want["removal_effects"][c]),
            );
        }
        let sum: f64 = fit.credit.conversions.iter().sum();
        close("order-2 conversions sum", sum, paths.total_conversions());
    }
}

/// A touch log with conversion markers (time decay with a half-life of 3 days) against
/// marketing_attribution_models' session format, journeys cut after each conversion.
#[test]
fn touch_log_matches_the_references() {
    let touches = read_touches_path(format!("{DIR}touches.csv")).unwrap();
    let paths = Paths::from_touches(&touches.everyone(), Conversions::Marked).unwrap();
    let want = reference("touches");
    let report = paths.report();
    close(
        "converting journeys",
        report.converting as f64,
        f(&want["total_conversions"]),
    );
    assert_eq!(report.journeys, report.converting + report.non_converting);
    let att = AttributionOptions::new()
        .half_life(f(&want["half_life_days"]))
        .compute(&paths)
        .unwrap();
    assert_eq!(att.half_life_unit, DecayUnit::Days);
    check(&att, &want);
}

fn random_paths(n: usize, channels: usize, seed: u64) -> Paths {
    let names: Vec<String> = (0..channels).map(|c| format!("ch{c}")).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut b = Paths::builder();
    let mut p: Vec<&str> = Vec::new();
    for _ in 0..n {
        p.clear();
        for _ in 0..rng.gen_range(1..=6) {
            p.push(&names[rng.gen_range(0..channels)]);
        }
        let conv = f64::from(rng.gen_range(0..3u32));
        b.push(
            &p,
            conv,
            conv * rng.gen_range(10.0..100.0),
            f64::from(rng.gen_range(0..5u32)),
        )
        .unwrap();
    }
    b.build().unwrap()
}

/// The same bits for 1 and 2 threads (chunked sums added in chunk order), at every
/// model and at order 2.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let paths = random_paths(60_000, 12, 7);
    for order in [1, 2] {
        let opts = AttributionOptions::new().markov_order(order);
        let one = pool(1).install(|| opts.compute(&paths).unwrap());
        let two = pool(2).install(|| opts.compute(&paths).unwrap());
        assert_eq!(one, two);
        close(
            "P(conversion) = share of journeys converting",
            one.markov.p_conversion,
            one.total_conversions / (one.total_conversions + one.total_nulls),
        );
    }
}

/// Shapley's closed form against the Shapley formula over every coalition of 10
/// channels (1,024 coalitions), on random paths.
#[test]
fn shapley_closed_form_matches_brute_force_on_random_paths() {
    let paths = random_paths(400, 10, 11);
    let n = paths.channels().len();
    let masks: Vec<u32> = (0..paths.len())
        .map(|i| paths.path(i).iter().fold(0u32, |m, &c| m | 1 << c))
        .collect();
    let worth: Vec<(f64, f64)> = (0..1u32 << n)
        .map(|s| {
            (0..paths.len())
                .filter(|&i| masks[i] & !s == 0)
                .fold((0.0, 0.0), |(c, v), i| {
                    (c + paths.conversions(i), v + paths.value(i))
                })
        })
        .collect();
    let fact = |k: usize| (1..=k).map(|x| x as f64).product::<f64>();
    let fast = AttributionOptions::new().shapley(&paths);
    for i in 0..n {
        let (mut c, mut v) = (0.0, 0.0);
        for s in (0..1u32 << n).filter(|s| s & (1 << i) == 0) {
            let k = s.count_ones() as usize;
            let w = fact(k) * fact(n - k - 1) / fact(n);
            c += w * (worth[(s | 1 << i) as usize].0 - worth[s as usize].0);
            v += w * (worth[(s | 1 << i) as usize].1 - worth[s as usize].1);
        }
        close("Shapley conversions", fast.conversions[i], c);
        close("Shapley value", fast.value[i], v);
    }
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 5, d).unwrap()
}

fn at(d: u32, h: u32) -> NaiveDateTime {
    day(d).and_hms_opt(h, 0, 0).unwrap()
}

/// Purchases of the customer view as conversions, scoped to an owner's customers.
#[test]
fn purchases_convert_the_touches_of_the_scoped_customers() {
    let mut b = Dataset::builder();
    b.extend([
        TransactionRecord::new("ann", at(10, 12), 100.0),
        TransactionRecord::new("ann", at(20, 12), 40.0),
        TransactionRecord::new("ann", at(21, 12), -40.0), // a return: no conversion
        TransactionRecord::new("bob", at(5, 12), 70.0),
        TransactionRecord::new("cat", at(6, 12), 10.0),
    ])
    .unwrap();
    let mut data = b.build().unwrap().dataset;
    data.assign_owners([
        OwnershipRecord::new("ann", "sam"),
        OwnershipRecord::new("bob", "kim"),
        OwnershipRecord::new("cat", "sam"),
    ])
    .unwrap();
    let touches = Touches::new([
        TouchRecord::new("ann", at(1, 9), "display"), // 9 days 3 h before: expired at 7 days
        TouchRecord::new("ann", at(8, 9), "search"),
        TouchRecord::new("ann", at(10, 12), "email"), // at the purchase: counts for it
        TouchRecord::new("ann", at(15, 9), "search"),
        TouchRecord::new("ann", at(25, 9), "social"), // after the last purchase
        TouchRecord::new("bob", at(4, 9), "email"),
        TouchRecord::new("dan", at(4, 9), "email"), // not in the dataset
    ])
    .unwrap();
    let rule = Conversions::Purchases { lookback_days: 7.0 };

    let sam = data.view(&Scope::of_owners("owner", "sam", ["sam"]));
    let view = touches.view(&sam);
    assert_eq!((view.len(), view.id(0)), (1, "ann"));
    assert_eq!(view.scope().label(), "owner:sam");
    let paths = Paths::from_touches(&view, rule).unwrap();
    assert_eq!(paths.scope().label(), "owner:sam");
    let r = paths.report();
    // ann: [search, email] → 100, [search] → 40, [social] → null; cat bought untouched.
    assert_eq!((r.journeys, r.converting, r.non_converting), (3, 2, 1));
    assert_eq!((r.expired_touches, r.conversions_without_touches), (1, 0));
    let names: Vec<&str> = paths.channels().iter().collect();
    let path = |i: usize| {
        paths
            .path(i)
            .iter()
            .map(|&c| names[c as usize])
            .collect::<Vec<_>>()
    };
    assert_eq!(path(0), ["search", "email"]);
    assert_eq!((paths.conversions(0), paths.value(0)), (1.0, 100.0));
    assert_eq!(path(1), ["search"]);
    assert_eq!((paths.conversions(1), paths.value(1)), (1.0, 40.0));
    assert_eq!(path(2), ["social"]);
    assert_eq!((paths.nulls(2), paths.total_nulls()), (1.0, 1.0));
    let att = AttributionOptions::new().compute(&paths).unwrap();
    assert_eq!(att.scope.label(), "owner:sam");
    // Time decay in days: the email touch is at the purchase, the search 2 days 3 h
    // before; half-life 7 days.
    let w = 0.5f64.powf((2.0 + 3.0 / 24.0) / 7.0);
    let search = att.channel("search").unwrap();
    close(
        "time decay of search",
        att.models.time_decay.conversions[search],
        1.0 + w / (1.0 + w),
    );

    // Everyone: every touch, dan's too (no purchases: a non-converting path).
    let all = touches.view(&data.view(&Scope::all()));
    assert_eq!(all.len(), 3);
    let paths = Paths::from_touches(&all, rule).unwrap();
    let r = paths.report();
    assert_eq!((r.converting, r.non_converting), (3, 2));
    // cat has no touch at all, so the touch view does not hold cat.
    assert_eq!(r.conversions_without_touches, 0);
    close("total value", paths.total_value(), 210.0);

    // A scope that forbids promotion may not build paths, nor attribute them.
    let locked = data.view(&Scope::all().forbid(AreaSet::from_iter([Area::Promotion])));
    assert!(matches!(
        Paths::from_touches(&touches.view(&locked), rule),
        Err(Error::ForbiddenArea {
            area: Area::Promotion,
            ..
        })
    ));
    // Purchases need a customer view.
    assert!(matches!(
        Paths::from_touches(&touches.everyone(), rule),
        Err(Error::InvalidOption {
            option: "conversions",
            ..
        })
    ));
}

/// Bad lines of a path file name their physical line, column and value.
#[test]
fn bad_path_files_name_line_column_and_value() {
    let head = "path;total_conversions;total_conversion_value;total_null\n";
    let err = |body: &str| match read_paths(format!("{head}{body}").as_bytes()) {
        Err(Error::Row(r)) => (r.line, r.field, r.value, r.problem),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        err("a > b;1;2;3\n\na;2;1;-4\n"),
        (4, "total_null".into(), "-4".into(), Problem::Negative)
    );
    assert_eq!(
        err("a > b;1;2;3\nb > ;2;1;4\n"),
        (3, "path".into(), "b > ".into(), Problem::EmptyValue)
    );
    assert_eq!(
        err("a;one;2;3\n"),
        (
            2,
            "total_conversions".into(),
            "one".into(),
            Problem::BadNumber
        )
    );
}

/// Time decay in days on a journey whose touches are all far older than 1,074
/// half-lives before the purchase (where 0.5^age underflows to 0): the credit still splits
/// by the touches' relative ages. Half-life 0.01 days, the two touches 0.01 days apart:
/// weights 1 (the newer) and 1/2, so search gets 2/3 of the conversion and display 1/3.
#[test]
fn time_decay_in_days_survives_very_old_touches() {
    let mut b = Dataset::builder();
    b.extend([TransactionRecord::new("ann", at(25, 0), 90.0)])
        .unwrap();
    let data = b.build().unwrap().dataset;
    let t0 = at(1, 0);
    let touches = Touches::new([
        TouchRecord::new("ann", t0, "display"),
        TouchRecord::new("ann", t0 + chrono::Duration::seconds(864), "search"),
    ])
    .unwrap();
    let view = data.view(&Scope::all());
    let rule = Conversions::Purchases {
        lookback_days: f64::INFINITY,
    };
    let paths = Paths::from_touches(&touches.view(&view), rule).unwrap();
    let att = AttributionOptions::new()
        .half_life(0.01)
        .compute(&paths)
        .unwrap();
    assert_eq!(att.half_life_unit, DecayUnit::Days);
    let decay = att.credit(AttributionModel::TimeDecay);
    let c = |name: &str| decay.conversions[att.channel(name).unwrap()];
    let v = |name: &str| decay.value[att.channel(name).unwrap()];
    assert!((c("search") - 2.0 / 3.0).abs() < 1e-12, "{decay:?}");
    assert!((c("display") - 1.0 / 3.0).abs() < 1e-12, "{decay:?}");
    assert!((v("search") - 60.0).abs() < 1e-9, "{decay:?}");
}
