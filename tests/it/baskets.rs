//! FP-growth against a brute-force oracle (every subset of the item universe counted
//! directly), association-rule metrics against mlxtend 0.25 (tests/data/product:
//! reference.json from make_reference.py, described there) and by hand, and baskets from
//! a transaction log.

use std::collections::BTreeMap;

use acrm::data::{Baskets, Column, ColumnSet, Dataset, ProductRecord, TransactionRecord};
use acrm::product::{BasketKey, BasketLevel, BasketOptions, FpGrowthOptions, Metric, RuleOptions};
use acrm::{Error, Scope};
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
            let found = opts.compute(&baskets).unwrap();
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
        .compute(&baskets)
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
        let sets = FpGrowthOptions::new()
            .min_count(40)
            .compute(&baskets)
            .unwrap();
        let rules = RuleOptions::new()
            .min(Metric::Confidence, 0.1)
            .compute(&sets)
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
    for (opts, name) in [
        (FpGrowthOptions::new().min_support(0.0), "min_support"),
        (FpGrowthOptions::new().min_support(1.5), "min_support"),
        (FpGrowthOptions::new().min_support(f64::NAN), "min_support"),
        (FpGrowthOptions::new().min_count(0), "min_support"),
        (FpGrowthOptions::new().max_len(0), "max_len"),
    ] {
        assert!(
            matches!(opts.compute(&baskets), Err(Error::InvalidOption { option, .. }) if option == name),
            "{opts:?}"
        );
    }
    let sets = FpGrowthOptions::new()
        .min_count(1)
        .compute(&baskets)
        .unwrap();
    assert!(matches!(
        RuleOptions::new()
            .min(Metric::Lift, f64::NAN)
            .compute(&sets),
        Err(Error::InvalidOption {
            option: "rule bounds",
            ..
        })
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
    let sets = FpGrowthOptions::new()
        .min_count(1)
        .compute(&baskets)
        .unwrap();
    let rules = RuleOptions::new().compute(&sets).unwrap();
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
        .compute(&sets)
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

    let all = data.view(&Scope::all());
    let by_order = BasketOptions::new().compute(&all).unwrap();
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
    let customers = by_order.customers().unwrap();
    assert_eq!(
        customers
            .of_basket
            .iter()
            .map(|&c| customers.rows.id(c as usize))
            .collect::<Vec<_>>(),
        ["ann", "ann", "bob"]
    );

    // Customer-day at category level: ann on day 1 bought food and toys; bob food.
    let by_day = BasketOptions::new()
        .key(BasketKey::CustomerDay)
        .level(BasketLevel::Category)
        .compute(&all)
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
        BasketOptions::new().compute(&bare.view(&Scope::all())),
        Err(Error::MissingColumn { ref column, .. }) if column == "product"
    ));
}

/// With the default key, a scope that hides order ids gets the typed error, not
/// customer-day baskets (other baskets, other supports) from the same data; data without
/// order ids still falls back to customer and day.
#[test]
fn auto_key_refuses_hidden_order_ids() {
    let products = [("p1", "food"), ("p2", "toys")].map(|(p, c)| ProductRecord {
        product_id: p.into(),
        category: Some(c.into()),
        unit_cost: None,
    });
    // One customer-day, two orders: by order two baskets, by customer-day one.
    let rows = [
        row("ann", 1, 5.0, "p1", Some("o1")),
        row("ann", 1, 3.0, "p2", Some("o2")),
    ];
    let mut b = Dataset::builder().products(products.clone()).unwrap();
    b.extend(rows.clone()).unwrap();
    let data = b.build().unwrap().dataset;
    assert_eq!(
        BasketOptions::new()
            .compute(&data.view(&Scope::all()))
            .unwrap()
            .len(),
        2
    );
    let no_orders = Scope::all().hide(ColumnSet::parse_list("order").unwrap());
    assert_eq!(
        BasketOptions::new()
            .compute(&data.view(&no_orders))
            .unwrap_err(),
        Error::HiddenColumn {
            column: Column::Order,
            scope: "all".into(),
        }
    );

    let mut b = Dataset::builder().products(products).unwrap();
    b.extend(rows.map(|r| TransactionRecord {
        order_id: None,
        ..r
    }))
    .unwrap();
    let unordered = b.build().unwrap().dataset;
    let by_day = BasketOptions::new()
        .compute(&unordered.view(&Scope::all()))
        .unwrap();
    assert_eq!(by_day.len(), 1);
}

fn reference() -> serde_json::Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/product/reference.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sorted_names(v: &serde_json::Value) -> Vec<String> {
    let mut n: Vec<String> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

/// Itemsets and every rule metric against mlxtend 0.25's fpgrowth and association_rules
/// on tests/data/product/small_baskets.txt (reference.json, made by make_reference.py).
#[test]
fn itemsets_and_rules_match_mlxtend() {
    let want = reference();
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/product/small_baskets.txt"
    );
    let baskets = acrm::io::read_baskets_path(path).unwrap();
    assert_eq!(baskets.len() as u64, want["baskets"].as_u64().unwrap());
    let sets = FpGrowthOptions::new()
        .min_support(want["min_support"].as_f64().unwrap())
        .compute(&baskets)
        .unwrap();
    let got: BTreeMap<Vec<String>, f64> = sets
        .iter()
        .map(|s| {
            let mut n: Vec<String> = sets.names(s.items).map(String::from).collect();
            n.sort();
            (n, s.support)
        })
        .collect();
    let expected: BTreeMap<Vec<String>, f64> = want["itemsets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (sorted_names(&s["items"]), s["support"].as_f64().unwrap()))
        .collect();
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (k, v) in &expected {
        assert!((got[k] - v).abs() < 1e-15, "{k:?}");
    }

    let rules = RuleOptions::new().compute(&sets).unwrap();
    let want_rules = want["rules"].as_array().unwrap();
    assert_eq!(rules.len(), want_rules.len());
    let by_sides: BTreeMap<(Vec<String>, Vec<String>), &acrm::product::Rule> = rules
        .as_slice()
        .iter()
        .map(|r| {
            let mut a: Vec<String> = rules.names(&r.antecedent).map(String::from).collect();
            let mut c: Vec<String> = rules.names(&r.consequent).map(String::from).collect();
            a.sort();
            c.sort();
            ((a, c), r)
        })
        .collect();
    for w in want_rules {
        let r = by_sides[&(
            sorted_names(&w["antecedent"]),
            sorted_names(&w["consequent"]),
        )];
        for m in Metric::ALL {
            let got = m.of(r);
            match w[m.name()].as_f64() {
                Some(v) => assert!(
                    (got - v).abs() <= 1e-12 * v.abs().max(1.0),
                    "{} {w}",
                    m.name()
                ),
                // mlxtend's infinite conviction (confidence 1) is stored as null.
                None => assert!(got.is_infinite() && got > 0.0, "{} {w}", m.name()),
            }
        }
    }
}

#[test]
fn basket_files_lines_and_csv() {
    // Tabs, repeated spaces, CRLF, a repeated item and a blank line (an empty basket).
    let text = b"milk bread\tmilk\r\n\nbread  eggs\n";
    let b = acrm::io::read_baskets(text).unwrap();
    assert_eq!(b.len(), 3);
    let names: Vec<Vec<&str>> = b
        .iter()
        .map(|x| x.iter().map(|&i| b.items().name(i as usize)).collect())
        .collect();
    assert_eq!(
        names,
        vec![vec!["milk", "bread"], vec![], vec!["bread", "eggs"]]
    );
    assert_eq!(b.report().repeated_items, 1);
    // Bad UTF-8 names its line.
    let err = acrm::io::read_baskets(b"a b\nc \xff\n").unwrap_err();
    assert!(
        matches!(err, Error::Row(ref r) if r.line == 2 && r.field == "item"),
        "{err}"
    );

    let csv = b"order_id,item\no1,milk\no2,eggs\no1,bread\no2,milk\no3,tea\n";
    let c = acrm::io::read_basket_csv(csv, "order_id", "item").unwrap();
    let names: Vec<Vec<&str>> = c
        .iter()
        .map(|x| x.iter().map(|&i| c.items().name(i as usize)).collect())
        .collect();
    assert_eq!(
        names,
        vec![vec!["milk", "bread"], vec!["milk", "eggs"], vec!["tea"]]
    );
    assert!(matches!(
        acrm::io::read_basket_csv(csv, "order", "item"),
        Err(Error::MissingColumn { ref column, .. }) if column == "order"
    ));
    let err = acrm::io::read_basket_csv(b"order_id,item\no1,milk\no2,\n", "order_id", "item")
        .unwrap_err();
    assert!(
        matches!(err, Error::Row(ref r) if r.line == 3 && r.field == "item"),
        "{err}"
    );
}

/// Parsing in blocks on several threads gives the ids of one sequential pass.
#[test]
fn basket_file_ids_do_not_depend_on_threads() {
    let baskets = acrm::synth::BasketSynth::new()
        .baskets(30_000)
        .items(500)
        .generate()
        .unwrap();
    let mut text = String::new();
    for b in baskets.iter() {
        let names: Vec<&str> = b
            .iter()
            .map(|&i| baskets.items().name(i as usize))
            .collect();
        text.push_str(&names.join(" "));
        text.push('\n');
    }
    let one = crate::pool(1).install(|| acrm::io::read_baskets(text.as_bytes()).unwrap());
    let two = crate::pool(2).install(|| acrm::io::read_baskets(text.as_bytes()).unwrap());
    assert_eq!(one, two);
    assert_eq!(one.len(), 30_000);
    // Re-read baskets name the same items as the generated ones.
    for (a, b) in one.iter().zip(baskets.iter()).take(100) {
        let mut x: Vec<&str> = a.iter().map(|&i| one.items().name(i as usize)).collect();
        let mut y: Vec<&str> = b
            .iter()
            .map(|&i| baskets.items().name(i as usize))
            .collect();
        x.sort_unstable();
        y.sort_unstable();
        assert_eq!(x, y);
    }
}

/// The synthesiser's planted patterns come out as the strongest rules.
#[test]
fn planted_patterns_are_found() {
    let synth = acrm::synth::BasketSynth::new()
        .baskets(50_000)
        .items(300)
        .seed(3);
    let baskets = synth.generate().unwrap();
    let sets = FpGrowthOptions::new()
        .min_support(0.005)
        .compute(&baskets)
        .unwrap();
    let rules = RuleOptions::new()
        .min(Metric::Confidence, 0.5)
        .min(Metric::Lift, 5.0)
        .compute(&sets)
        .unwrap();
    assert!(!rules.is_empty());
    let patterns = synth.patterns().unwrap();
    // Every strong rule comes from a planted pattern: the pattern holds the consequent
    // and part of the antecedent (popular items ride along in the rest of it).
    for r in rules.as_slice() {
        assert!(
            patterns
                .iter()
                .any(|p| r.consequent.iter().all(|i| p.contains(i))
                    && r.antecedent.iter().any(|i| p.contains(i))),
            "rule {:?} → {:?} is not planted",
            r.antecedent,
            r.consequent
        );
    }
}

/// Plain decimal names take a lookup by value instead of a hash; the names and ids come
/// out as for any other name: interned in order of first appearance, "007" and "7"
/// different items, numbers past the table and names with signs or leading zeros by
/// their text.
#[test]
fn numeric_item_names_keep_their_text_and_order() {
    let text = b"7 007 0 1048576 12\n12 7 -3 +4 7\n\n1048575 00 0 8888888 12 a7\n";
    let b = acrm::io::read_baskets(text).unwrap();
    let names: Vec<&str> = b.items().iter().collect();
    assert_eq!(
        names,
        ["7", "007", "0", "1048576", "12", "-3", "+4", "1048575", "00", "8888888", "a7"]
    );
    let basket = |k: usize| -> Vec<&str> {
        b.basket(k)
            .iter()
            .map(|&i| b.items().name(i as usize))
            .collect()
    };
    assert_eq!(basket(0), ["7", "007", "0", "1048576", "12"]);
    // The repeated 7 is merged (and counted).
    assert_eq!(basket(1), ["7", "12", "-3", "+4"]);
    assert!(basket(2).is_empty());
    assert_eq!(basket(3), ["0", "12", "1048575", "00", "8888888", "a7"]);
    assert_eq!(b.report().repeated_items, 1);
}
