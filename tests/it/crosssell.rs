//! Cross-sell recommendations and segment affinity on small cases worked out by hand in
//! the comments.

use acrm::data::{Dataset, Interner, ProductRecord, TransactionRecord};
use acrm::product::{
    segment_affinity, BasketLevel, Baskets, CoPurchase, CrossSellMethod, CrossSellOptions,
    FpGrowthOptions, Reason, RuleOptions,
};
use acrm::Error;
use chrono::NaiveDate;

/// Five customers, one basket each: c0 {a,b,c}, c1 {a,b,c}, c2 {a}, c3 {a,b}, c4 {d}.
fn shop() -> Baskets {
    let baskets = Baskets::from_lists([
        vec!["a", "b", "c"],
        vec!["a", "b", "c"],
        vec!["a"],
        vec!["a", "b"],
        vec!["d"],
    ])
    .unwrap();
    let mut ids = Interner::new();
    for c in ["c0", "c1", "c2", "c3", "c4"] {
        ids.intern(c);
    }
    baskets.with_customers(ids, vec![0, 1, 2, 3, 4]).unwrap()
}

#[test]
fn co_purchase_cosines() {
    // Buyers: a 4, b 3, c 2, d 1; together: ab 3, ac 2, bc 2.
    let items = shop().customer_items().unwrap();
    let near = CoPurchase::new(&items, 5, 1).unwrap();
    let id = |s: &str| items.items().get(s).unwrap();
    let of = |i: &str| near.neighbours(id(i)).collect::<Vec<_>>();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    let a = of("a");
    assert_eq!(
        a.iter().map(|x| x.0).collect::<Vec<_>>(),
        [id("b"), id("c")]
    );
    assert!(close(a[0].1, 3.0 / 12f64.sqrt()));
    assert!(close(a[1].1, 2.0 / 8f64.sqrt()));
    let c = of("c");
    // cos(b, c) = 2/√6 = 0.816 > cos(a, c) = 2/√8 = 0.707.
    assert_eq!(
        c.iter().map(|x| x.0).collect::<Vec<_>>(),
        [id("b"), id("a")]
    );
    assert!(of("d").is_empty());
    assert_eq!(near.buyers(id("a")), 4);
    // At least 3 customers in common: only a–b.
    let strict = CoPurchase::new(&items, 5, 3).unwrap();
    assert_eq!(strict.neighbours(id("c")).count(), 0);
    assert!(matches!(
        CoPurchase::new(&items, 0, 1),
        Err(Error::InvalidOption { option: "k", .. })
    ));
    assert!(matches!(
        CoPurchase::new(&items, 5, 0),
        Err(Error::InvalidOption {
            option: "min_common",
            ..
        })
    ));
}

#[test]
fn recommendations_by_rules_then_neighbours() {
    let baskets = shop();
    let items = baskets.customer_items().unwrap();
    let sets = FpGrowthOptions::new().min_count(2).mine(&baskets).unwrap();
    let rules = RuleOptions::new().generate(&sets).unwrap();
    let near = CoPurchase::new(&items, 5, 1).unwrap();
    let id = |s: &str| items.items().get(s).unwrap();
    let recommender = CrossSellOptions::new()
        .k(3)
        .build(Some(&rules), Some(&near))
        .unwrap();

    // c2 bought {a}. Rules (5 baskets): a→b confidence 3/4, lift 1.25, score 0.9375;
    // a→c 1/2 × 1.25 = 0.625 (and a→bc the same, later). Neighbours of a add nothing new.
    let r = recommender.recommend(items.of(2));
    assert_eq!(
        r.iter().map(|x| x.item).collect::<Vec<_>>(),
        [id("b"), id("c")]
    );
    assert!((r[0].score - 0.9375).abs() < 1e-15);
    match &r[1].reason {
        Reason::Rule {
            antecedent,
            consequent,
            confidence,
            lift,
            ..
        } => {
            assert_eq!(
                (antecedent.as_slice(), consequent.as_slice()),
                (&[id("a")][..], &[id("c")][..])
            );
            assert!((confidence - 0.5).abs() < 1e-15 && (lift - 1.25).abs() < 1e-15);
        }
        other => panic!("{other:?}"),
    }
    // c3 bought {a, b}: c by b→c and ab→c, both 2/3 × 5/3 = 10/9; the earlier rule
    // (itemset {b, c} comes before {a, b, c}) is the reason.
    let r = recommender.recommend(items.of(3));
    assert_eq!(r.len(), 1);
    assert!((r[0].score - 10.0 / 9.0).abs() < 1e-14);
    assert!(matches!(&r[0].reason, Reason::Rule { antecedent, .. } if antecedent == &[id("b")]));
    // c0 bought everything but d, which nobody buys with anything: nothing to offer.
    assert!(recommender.recommend(items.of(0)).is_empty());

    // Neighbours only: c3 {a, b} → c, via b (cos 2/√6) rather than a (2/√8).
    let by_cosine = CrossSellOptions::new()
        .method(CrossSellMethod::CoPurchase)
        .build(None, Some(&near))
        .unwrap();
    let r = by_cosine.recommend(items.of(3));
    assert_eq!(r.len(), 1);
    assert!(
        matches!(r[0].reason, Reason::Neighbour { item, cosine } if item == id("b") && (cosine - 2.0 / 6f64.sqrt()).abs() < 1e-15)
    );

    // All customers at once, in parallel, equal one at a time.
    let all = recommender.recommend_all(&items);
    assert_eq!(all.len(), 5);
    for (c, recs) in all.iter().enumerate() {
        assert_eq!(recs, &recommender.recommend(items.of(c)));
    }
    // A method without its source is refused.
    assert!(matches!(
        CrossSellOptions::new().build(None, Some(&near)),
        Err(Error::InvalidOption { option: "rules", value, .. }) if value == "none"
    ));
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2025, 5, d).unwrap()
}

#[test]
fn segment_affinity_by_hand() {
    let products = [("apple", "food"), ("bear", "toys")].map(|(p, c)| ProductRecord {
        product_id: p.into(),
        category: Some(c.into()),
        unit_cost: None,
    });
    let row = |c: &str, d: u32, a: f64, p: &str| {
        let mut r = TransactionRecord::new(c, day(d), a);
        r.product_id = Some(p.into());
        r
    };
    let mut b = Dataset::builder().products(products).unwrap();
    b.extend([
        row("ann", 1, 10.0, "apple"),
        row("bob", 1, 5.0, "apple"),
        row("bob", 2, 5.0, "bear"),
        row("cid", 1, 20.0, "bear"),
        row("dan", 1, 10.0, "apple"),
        row("dan", 3, -2.0, "apple"),
        row("eve", 1, 7.0, "bear"),
    ])
    .unwrap();
    let data = b.build().unwrap().dataset;
    let seg_of = |c: &str| match c {
        "ann" | "bob" => Some("young"),
        "cid" | "dan" => Some("old"),
        _ => None,
    };
    let segments: Vec<Option<&str>> = data.customers().ids().iter().map(seg_of).collect();
    let t = segment_affinity(&data, &segments, BasketLevel::Category).unwrap();
    assert_eq!((t.customers, t.unsegmented), (4, 1));
    let cells: Vec<(&str, &str, u64)> = t
        .rows
        .iter()
        .map(|r| (r.segment.as_str(), r.item.as_str(), r.buyers))
        .collect();
    // young: food 2 of 2 (lift 1 / 0.75), toys 1 of 2 (lift 1); old: toys 1 (lift 1),
    // food 1 (0.5 / 0.75).
    assert_eq!(
        cells,
        [
            ("young", "food", 2),
            ("young", "toys", 1),
            ("old", "toys", 1),
            ("old", "food", 1)
        ]
    );
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    let yf = &t.rows[0];
    assert!(close(yf.lift, 4.0 / 3.0) && close(yf.base_share, 0.75) && yf.item_buyers == 3);
    // z = (1 − 0.75) / √(0.75 × 0.25 / 2).
    assert!(close(yf.z, 0.25 / (0.75f64 * 0.25 / 2.0).sqrt()));
    assert!(close(yf.revenue, 15.0) && close(yf.revenue_share, 0.75));
    // Net of dan's return: old food revenue 8 of 28; food overall 23 of 48.
    let of = &t.rows[3];
    assert!(close(of.revenue, 8.0) && close(of.revenue_share, 8.0 / 28.0));
    assert!(close(of.base_revenue_share, 23.0 / 48.0));
    assert_eq!(
        segment_affinity(&data, &segments[..2], BasketLevel::Category).unwrap_err(),
        Error::LengthMismatch {
            input: "segments",
            found: 2,
            expected: segments.len(),
            against: "customers",
        }
    );
}

#[test]
fn unknown_item_ids_are_ignored_not_a_panic() {
    let baskets = shop();
    let items = baskets.customer_items().unwrap();
    let sets = FpGrowthOptions::new().min_count(2).mine(&baskets).unwrap();
    let rules = RuleOptions::new().generate(&sets).unwrap();
    let near = CoPurchase::new(&items, 5, 1).unwrap();
    let r = CrossSellOptions::new()
        .build(Some(&rules), Some(&near))
        .unwrap();
    // Item 99 does not exist; the answer is that for {a} alone.
    assert_eq!(r.recommend(&[99, 0]), r.recommend(&[0]));
}
