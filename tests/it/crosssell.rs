//! Cross-sell recommendations and segment affinity on small cases worked out by hand in
//! the comments.

use acrm::data::{
    Area, AreaSet, Baskets, CustomerItems, Dataset, ProductRecord, Rows, TransactionRecord,
};
use acrm::product::{
    AffinityOptions, BasketLevel, BasketOptions, CoPurchaseOptions, CrossSellMethod,
    CrossSellOptions, FpGrowthOptions, Reason, RuleOptions,
};
use acrm::{Error, Scope};
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
    let rows = Rows::from_ids(["c0", "c1", "c2", "c3", "c4"]);
    baskets.with_customers(rows, vec![0, 1, 2, 3, 4]).unwrap()
}

#[test]
fn co_purchase_cosines() {
    // Buyers: a 4, b 3, c 2, d 1; together: ab 3, ac 2, bc 2.
    let items = shop().customer_items().unwrap();
    let near = CoPurchaseOptions::new()
        .k(5)
        .min_common(1)
        .compute(&items)
        .unwrap();
    let id = |s: &str| items.items().get(s).unwrap();
    let of = |i: &str| near.neighbours(id(i)).collect::<Vec<_>>();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-15;
    let a = of("a");
    assert_eq!(
        a.iter().map(|x| x.item).collect::<Vec<_>>(),
        [id("b"), id("c")]
    );
    assert!(close(a[0].cosine, 3.0 / 12f64.sqrt()));
    assert!(close(a[1].cosine, 2.0 / 8f64.sqrt()));
    let c = of("c");
    // cos(b, c) = 2/√6 = 0.816 > cos(a, c) = 2/√8 = 0.707.
    assert_eq!(
        c.iter().map(|x| x.item).collect::<Vec<_>>(),
        [id("b"), id("a")]
    );
    assert!(of("d").is_empty());
    assert_eq!(near.buyers(id("a")), 4);
    // At least 3 customers in common: only a–b.
    let strict = CoPurchaseOptions::new()
        .k(5)
        .min_common(3)
        .compute(&items)
        .unwrap();
    assert_eq!(strict.neighbours(id("c")).count(), 0);
    assert!(matches!(
        CoPurchaseOptions::new().k(0).min_common(1).compute(&items),
        Err(Error::InvalidOption { option: "k", .. })
    ));
    assert!(matches!(
        CoPurchaseOptions::new().k(5).min_common(0).compute(&items),
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
    let sets = FpGrowthOptions::new()
        .min_count(2)
        .compute(&baskets)
        .unwrap();
    let rules = RuleOptions::new().compute(&sets).unwrap();
    let near = CoPurchaseOptions::new()
        .k(5)
        .min_common(1)
        .compute(&items)
        .unwrap();
    let id = |s: &str| items.items().get(s).unwrap();
    let recommender = CrossSellOptions::new()
        .k(3)
        .fit(Some(&rules), Some(&near))
        .unwrap()
        .model;

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
        .fit(None, Some(&near))
        .unwrap()
        .model;
    let r = by_cosine.recommend(items.of(3));
    assert_eq!(r.len(), 1);
    assert!(
        matches!(r[0].reason, Reason::Neighbour { item, cosine } if item == id("b") && (cosine - 2.0 / 6f64.sqrt()).abs() < 1e-15)
    );

    // All customers at once, in parallel, equal one at a time.
    let all = recommender.recommend_all(&items).unwrap();
    assert_eq!(all.recommendations.len(), 5);
    assert_eq!(all.rows.len(), 5);
    for (c, recs) in all.recommendations.iter().enumerate() {
        assert_eq!(recs, &recommender.recommend(items.of(c)));
    }
    // A method without its source is refused.
    assert!(matches!(
        CrossSellOptions::new().fit(None, Some(&near)),
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
    let all = data.view(&Scope::all());
    let seg_of = |c: &str| match c {
        "ann" | "bob" => Some("young"),
        "cid" | "dan" => Some("old"),
        _ => None,
    };
    let segments: Vec<Option<&str>> = (0..all.len()).map(|k| seg_of(all.id(k))).collect();
    let categories = AffinityOptions::new().level(BasketLevel::Category);
    let t = categories.compute(&all, &segments).unwrap();
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
        categories.compute(&all, &segments[..2]).unwrap_err(),
        Error::LengthMismatch {
            input: "segments",
            found: 2,
            expected: segments.len(),
            against: "customers of the view",
        }
    );
}

#[test]
fn unknown_item_ids_are_ignored_not_a_panic() {
    let baskets = shop();
    let items = baskets.customer_items().unwrap();
    let sets = FpGrowthOptions::new()
        .min_count(2)
        .compute(&baskets)
        .unwrap();
    let rules = RuleOptions::new().compute(&sets).unwrap();
    let near = CoPurchaseOptions::new()
        .k(5)
        .min_common(1)
        .compute(&items)
        .unwrap();
    let r = CrossSellOptions::new()
        .fit(Some(&rules), Some(&near))
        .unwrap()
        .model;
    // Item 99 does not exist; the answer is that for {a} alone.
    assert_eq!(r.recommend(&[99, 0]), r.recommend(&[0]));
}

/// Customer items must name the recommender's items, id for id, and their scope must
/// allow product analysis: category ids read as product ids would recommend whatever
/// product shares the number.
#[test]
fn recommend_all_refuses_other_items_and_a_forbidden_area() {
    let products = [("apple", "food"), ("bear", "toys")].map(|(p, c)| ProductRecord {
        product_id: p.into(),
        category: Some(c.into()),
        unit_cost: None,
    });
    let row = |c: &str, p: &str| {
        let mut r = TransactionRecord::new(c, day(1), 10.0);
        r.product_id = Some(p.into());
        r
    };
    let mut b = Dataset::builder().products(products).unwrap();
    b.extend([row("ann", "apple"), row("ann", "bear"), row("bob", "apple")])
        .unwrap();
    let data = b.build().unwrap().dataset;
    let all = data.view(&Scope::all());
    let baskets = BasketOptions::new().compute(&all).unwrap();
    let near = CoPurchaseOptions::new()
        .min_common(1)
        .compute(&baskets.customer_items().unwrap())
        .unwrap();
    let recommender = CrossSellOptions::new()
        .method(CrossSellMethod::CoPurchase)
        .fit(None, Some(&near))
        .unwrap()
        .model;
    // bob bought apple; ann bought it with bear.
    let products = baskets.customer_items().unwrap();
    let recs = recommender.recommend_all(&products).unwrap();
    assert_eq!(
        recs.recommendations[1][0].item,
        near.items().get("bear").unwrap()
    );

    let categories = BasketOptions::new()
        .level(BasketLevel::Category)
        .compute(&all)
        .unwrap()
        .customer_items()
        .unwrap();
    assert_eq!(
        recommender.recommend_all(&categories).unwrap_err(),
        Error::BadValue {
            input: "customers' items".into(),
            row: 0,
            field: "item".into(),
            value: "food".into(),
            expected: "`apple`, item 0 of the recommender's items".into(),
        }
    );

    let no_product = data.view(&Scope::all().forbid(AreaSet::parse_list("product").unwrap()));
    let lists = (0..products.len())
        .map(|c| products.of(c).to_vec())
        .collect();
    let hidden = CustomerItems::new(no_product.rows(), products.items().clone(), lists).unwrap();
    assert!(matches!(
        recommender.recommend_all(&hidden),
        Err(Error::ForbiddenArea {
            area: Area::Product,
            ..
        })
    ));
}
