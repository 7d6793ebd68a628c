//! FP-growth against a brute-force oracle (every subset of the item universe counted
//! directly), association-rule metrics against mlxtend 0.25 (tests/data/product:
//! reference.json from make_reference.py, described there) and by hand, and baskets from
//! a transaction log.

use std::collections::BTreeMap;

use acrm::data::{Dataset, ProductRecord, TransactionRecord};
use acrm::product::{
    BasketKey, BasketLevel, BasketOptions, Baskets, FpGrowthOptions, Metric, RuleOptions,
};
use acrm::Error;
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Seeded random baskets over `items` items: each item in a basket with its own
/// probability, plus two planted pairs so that longer itemsets are frequent.
fn random_baskets(seed: u64, n: usize, items: u32) -> Vec<Vec<u32>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let p: Vec<f64> = (0..items).map(|_| rng.gen_range(0.05..0.6)).collect();
    (0..n)
        .map(|_| {
            let mut b: Vec<u32> = (0..items)
                .filter(|&i| rng.gen::<f64>() < p[i as usize])
                .collect();
            if rng.gen::<f64>() < 0.3 {
                b.extend([0, 1, 2]);
            }
            b
        })
        .collect()
}

/// Every non-empty subset of 0..items (as a sorted list) with its basket count.
fn oracle(
    baskets: &[Vec<u32>],
    items: u32,
    min_count: u64,
    max_len: usize,
) -> BTreeMap<Vec<u32>, u64> {
    let masks: Vec<u64> = baskets
        .iter()
        .map(|b| b.iter().fold(0u64, |m, &i| m | 1 << i))
        .collect();
    let mut out = BTreeMap::new();
    for set in 1u64..(1 << items) {
        if set.count_ones() as usize > max_len {
            continue;
        }
        let count = masks.iter().filter(|&&m| m & set == set).count() as u64;
        if count >= min_count {
            let items: Vec<u32> = (0..items).filter(|&i| set >> i & 1 == 1).collect();
            out.insert(items, count);
        }
    }
    out
}

fn names(items: u32) -> Vec<String> {
    (0..items).map(|i| format!("i{i}")).collect()
}

/// Baskets whose item ids equal the oracle's (item i is named "i{i}", interned in order).
fn build(lists: &[Vec<u32>], items: u32) -> Baskets {
    let mut interner = acrm::data::Interner::new();
    for n in names(items) {
        interner.intern(&n);
    }
    Baskets::from_id_lists(interner, lists.to_vec()).unwrap()
}

#[test]
fn fpgrowth_matches_brute_force() {
    for seed in 0..40u64 {
        let items = 4 + (seed % 9) as u32;
        let n = 20 + (seed as usize * 37) % 300;
        let lists = random_baskets(seed, n, items);
        let baskets = build(&lists, items);
        for (min_count, max_len) in [
            (1, usize::MAX),
            (3, usize::MAX),
            ((n / 10) as u64 + 1, 3),
            ((n / 4) as u64, 1),
        ] {
            let mut opts = FpGrowthOptions::new().min_count(min_count);
            if max_len != usize::MAX {
                opts = opts.max_len(max_len);
            }
            let found = opts.mine(&baskets).unwrap();
            let got: BTreeMap<Vec<u32>, u64> =
                found.iter().map(|s| (s.items.to_vec(), s.count)).collect();
            assert_eq!(
                got.len(),
                found.len(),
                "seed {seed}: an itemset reported twice"
            );
            let want = oracle(&lists, items, min_count, max_len);
            assert_eq!(
                got, want,
                "seed {seed}, min count {min_count}, max len {max_len}"
            );
        }
    }
}

#[test]
fn support_fraction_threshold_is_count_over_baskets_at_least_fraction() {
    // 10 baskets, item a in 3, b in 2: at 0.3 a is frequent (3/10 ≥ 0.3 exactly, the float
    // comparison mlxtend makes), b is not.
    let mut lists: Vec<Vec<&str>> = vec![vec!["x"]; 10];
    for l in lists.iter_mut().take(3) {
        l.push("a");
    }
    for l in lists.iter_mut().skip(5).take(2) {
        l.push("b");
    }
    let baskets = Baskets::from_lists(lists).unwrap();
    let found = FpGrowthOptions::new()
        .min_support(0.3)
        .mine(&baskets)
        .unwrap();
    let sets: Vec<Vec<&str>> = found
        .iter()
        .map(|s| found.names(s.items).collect())
        .collect();
    // Items within a set are in id order: x was seen first.
    assert_eq!(sets, vec![vec!["x"], vec!["a"], vec!["x", "a"]]);
    assert_eq!(found.min_count(), 3);
    assert_eq!(found.baskets(), 10);
}

#[test]
fn output_order_and_results_do_not_depend_on_threads() {
    let lists = random_baskets(7, 3000, 12);
    let baskets = build(&lists, 12);
    let run = || {
        let sets = FpGrowthOptions::new().min_count(40).mine(&baskets).unwrap();
        let rules = RuleOptions::new()
            .min(Metric::Confidence, 0.1)
            .generate(&sets)
            .unwrap();
        (sets, rules)
    };
    let one = crate::pool(1).install(run);
    let two = crate::pool(2).install(run);
    assert_eq!(one, two);
    // Sorted by length, then count descending, then items.
    let sets = &one.0;
    for w in (0..sets.len()).collect::<Vec<_>>().windows(2) {
        let (a, b) = (sets.get(w[0]), sets.get(w[1]));
        let key = |s: &acrm::product::Itemset<'_>| {
            (s.items.len(), std::cmp::Reverse(s.count), s.items.to_vec())
        };
        assert!(key(&a) < key(&b));
    }
}

#[test]
fn bad_options_are_typed_errors() {
    let baskets = Baskets::from_lists([vec!["a", "b"], vec!["a"]]).unwrap();
    for opts in [
        FpGrowthOptions::new().min_support(0.0),
        FpGrowthOptions::new().min_support(1.5),
        FpGrowthOptions::new().min_support(f64::NAN),
        FpGrowthOptions::new().min_count(0),
        FpGrowthOptions::new().max_len(0),
    ] {
        assert!(
            matches!(opts.mine(&baskets), Err(Error::InvalidOption { .. })),
            "{opts:?}"
        );
    }
    let sets = FpGrowthOptions::new().min_count(1).mine(&baskets).unwrap();
    assert!(matches!(
        RuleOptions::new()
            .min(Metric::Lift, f64::NAN)
            .generate(&sets),
        Err(Error::InvalidOption { .. })
    ));
    assert!(matches!(
        Baskets::from_lists(Vec::<Vec<&str>>::new()),
        Err(Error::EmptyInput)
    ));
}

/// Rule metrics by hand: 8 baskets; {a} in 4, {b} in 5, {a, b} in 3.
#[test]
fn rule_metrics_by_hand() {
    let baskets = Baskets::from_lists([
        vec!["a", "b"],
        vec!["a", "b"],
        vec!["a", "b"],
        vec!["a"],
        vec!["b"],
        vec!["b"],
        vec!["c"],
        vec!["c"],
    ])
    .unwrap();
    let sets = FpGrowthOptions::new().min_count(1).mine(&baskets).unwrap();
    let rules = RuleOptions::new().generate(&sets).unwrap();
    let a_to_b = rules
        .as_slice()
        .iter()
        .find(|r| rules.names(&r.antecedent).eq(["a"]) && rules.names(&r.consequent).eq(["b"]))
        .unwrap();
    let (sa, sc, s) = (0.5, 0.625, 0.375);
    let conf: f64 = s / sa; // 0.75
    let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    assert_eq!(a_to_b.count, 3);
    assert!(close(a_to_b.confidence, 0.75));
    assert!(close(a_to_b.lift, conf / sc)); // 1.2
    assert!(close(a_to_b.leverage, s - sa * sc)); // 0.0625
    assert!(close(a_to_b.conviction, (1.0 - sc) / (1.0 - conf))); // 1.5
                                                                  // Zhang: leverage / max(s (1 − sa), sa (sc − s)) = 0.0625 / max(0.1875, 0.125) = 1/3.
    assert!(close(a_to_b.zhang, 0.0625 / 0.1875));
    assert!(close(a_to_b.jaccard, s / (sa + sc - s))); // 0.5
    assert!(close(a_to_b.certainty, (conf - sc) / (1.0 - sc))); // 1/3
    assert!(close(a_to_b.kulczynski, (0.75 + 0.6) / 2.0));
    // Both directions of {a, b} and nothing with c (c is never bought with anything).
    assert_eq!(rules.len(), 2);
    // Filters on any metric, both bounds.
    let lifted = RuleOptions::new()
        .min(Metric::Lift, 1.0)
        .max(Metric::Confidence, 0.7)
        .generate(&sets)
        .unwrap();
    assert_eq!(lifted.len(), 1); // b → a: confidence 0.6, lift 1.2
    assert!(lifted.names(&lifted.as_slice()[0].antecedent).eq(["b"]));
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 3, d).unwrap()
}

fn row(c: &str, d: u32, amount: f64, product: &str, order: Option<&str>) -> TransactionRecord {
    let mut r = TransactionRecord::new(c, day(d), amount);
    r.product_id = Some(product.into());
    r.order_id = order.map(Into::into);
    r
}

#[test]
fn baskets_from_a_log_by_order_and_by_customer_day() {
    let products = [("p1", "food"), ("p2", "food"), ("p3", "toys")].map(|(p, c)| ProductRecord {
        product_id: p.into(),
        category: Some(c.into()),
        unit_cost: None,
    });
    let rows = vec![
        row("ann", 1, 5.0, "p1", Some("o1")),
        row("ann", 1, 3.0, "p2", Some("o1")),
        row("ann", 1, 4.0, "p3", Some("o2")),
        row("ann", 2, -3.0, "p2", Some("o3")), // a return: its order holds nothing bought
        row("bob", 1, 2.0, "p1", Some("o4")),
        row("bob", 1, 2.0, "p1", Some("o4")), // the same product twice in one order
    ];
    let mut b = Dataset::builder().products(products).unwrap();
    b.extend(rows.clone()).unwrap();
    let data = b.build().unwrap().dataset;

    let by_order = BasketOptions::new().from_log(&data).unwrap();
    let lists: Vec<Vec<&str>> = by_order
        .iter()
        .map(|b| {
            b.iter()
                .map(|&i| by_order.items().name(i as usize))
                .collect()
        })
        .collect();
    assert_eq!(lists, vec![vec!["p1", "p2"], vec!["p3"], vec!["p1"]]);
    let r = by_order.report();
    assert_eq!(
        (r.rows, r.returns, r.repeated_items, r.emptied_baskets),
        (6, 1, 1, 1)
    );
    let (ids, customer) = by_order.customers().unwrap();
    assert_eq!(
        customer
            .iter()
            .map(|&c| ids.name(c as usize))
            .collect::<Vec<_>>(),
        ["ann", "ann", "bob"]
    );

    // Customer-day at category level: ann on day 1 bought food and toys; bob food.
    let by_day = BasketOptions::new()
        .key(BasketKey::CustomerDay)
        .level(BasketLevel::Category)
        .from_log(&data)
        .unwrap();
    let lists: Vec<Vec<&str>> = by_day
        .iter()
        .map(|b| b.iter().map(|&i| by_day.items().name(i as usize)).collect())
        .collect();
    assert_eq!(lists, vec![vec!["food", "toys"], vec!["food"]]);

    // Customer items: ann {p1, p2, p3}, bob {p1}.
    let items = by_order.customer_items().unwrap();
    assert_eq!(items.of(0).len(), 3);
    assert_eq!(items.of(1), &[by_order.items().get("p1").unwrap()]);

    // No products: a typed error naming the column.
    let mut b = Dataset::builder();
    b.push(TransactionRecord::new("ann", day(1), 1.0)).unwrap();
    let bare = b.build().unwrap().dataset;
    assert!(matches!(
        BasketOptions::new().from_log(&bare),
        Err(Error::MissingColumn { ref column, .. }) if column == "product"
    ));
}
