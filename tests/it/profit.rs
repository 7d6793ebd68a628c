//! Per-customer profit: hand-computed values, the accounting identities on synthetic data,
//! agreement of the two cost sources, every option error, and thread-count determinism.

use acrm::data::{Dataset, ProductRecord, TransactionRecord};
use acrm::profitability::{whale_curve, CostOfGoods, ProfitOptions};
use acrm::synth::SynthOptions;
use acrm::{Error, Scope, Weeks};
use approx::assert_relative_eq;
use chrono::NaiveDate;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[allow(clippy::too_many_arguments)]
fn tx(
    c: &str,
    day: u32,
    amount: f64,
    cost: f64,
    qty: f64,
    product: &str,
    order: &str,
) -> TransactionRecord {
    TransactionRecord {
        cost: Some(cost),
        quantity: Some(qty),
        product_id: Some(product.into()),
        order_id: Some(order.into()),
        ..TransactionRecord::new(c, date(2024, 1, day), amount)
    }
}

/// Two customers, written so every figure below can be checked by hand.
/// A: order o1 on day 1 (two lines), order o2 on day 11, a return on day 21 (after
/// `until` in one test). B: one order on day 5.
fn small() -> Dataset {
    let products = [
        ProductRecord {
            product_id: "p".into(),
            category: Some("c1".into()),
            unit_cost: Some(4.0),
        },
        ProductRecord {
            product_id: "q".into(),
            category: Some("c2".into()),
            unit_cost: Some(10.0),
        },
    ];
    let mut b = Dataset::builder().products(products).unwrap();
    b.extend([
        tx("A", 1, 30.0, 12.0, 3.0, "p", "o1"),
        tx("A", 1, 20.0, 10.0, 1.0, "q", "o1"),
        tx("A", 11, 40.0, 20.0, 2.0, "q", "o2"),
        tx("A", 21, -10.0, -4.0, 1.0, "p", "r1"),
        tx("B", 5, 15.0, 9.0, 5.0, "p", "o3"),
    ])
    .unwrap();
    b.build().unwrap().dataset
}

#[test]
fn hand_computed_profit_with_every_allocation() {
    let data = small();
    let p = ProfitOptions::new()
        .per_order(2.0)
        .per_unit(0.5)
        .per_service_event(3.0)
        .fixed_per_period(10.0, 30)
        .returns_handling(1.0, 0.1)
        .compute(&data.view(&Scope::all()), Some(&[2, 0]))
        .unwrap();
    // A: revenue 30 + 20 + 40 − 10 = 80; cost column 12 + 10 + 20 − 4 = 38; margin 42.
    // Orders o1, o2: 4; units 3 + 1 + 2 = 6: 3; service 2 × 3 = 6; on the books from
    // day 1 to the log's last day 21: 21 days → 10 × 21/30 = 7; returns 1 + 0.1 × 10 = 2.
    // Cost to serve 22, net 20.
    assert_relative_eq!(p.revenue[0], 80.0);
    assert_relative_eq!(p.cost_of_goods[0], 38.0);
    assert_relative_eq!(p.gross_margin[0], 42.0);
    assert_relative_eq!(p.cost_to_serve[0], 22.0, max_relative = 1e-12);
    assert_relative_eq!(p.net_profit[0], 20.0, max_relative = 1e-12);
    // B: 15 − 9 = 6; order 2, units 2.5, no service, 17 days (5..=21): 10 × 17/30.
    let serve_b = 2.0 + 2.5 + 10.0 * 17.0 / 30.0;
    assert_relative_eq!(p.cost_to_serve[1], serve_b, max_relative = 1e-12);
    assert_relative_eq!(p.net_profit[1], 6.0 - serve_b, max_relative = 1e-12);
    let t = p.totals;
    assert_eq!((t.customers, t.transactions), (2, 5));
    assert_relative_eq!(t.order_costs, 6.0);
    assert_relative_eq!(t.unit_costs, 5.5);
    assert_relative_eq!(t.service_costs, 6.0);
    assert_relative_eq!(t.fixed_costs, 10.0 * 38.0 / 30.0, max_relative = 1e-12);
    assert_relative_eq!(t.returns_costs, 2.0);
    assert_relative_eq!(t.net_profit, 26.0 - serve_b, max_relative = 1e-12);
}

#[test]
fn unit_costs_window_and_margin_rate() {
    let data = small();
    let data = data.view(&Scope::all());
    // Unit costs: A 3×4 + 1×10 + 2×10 − 1×4 = 38, the same as the cost column here.
    let unit = ProfitOptions::new()
        .cost_of_goods(CostOfGoods::UnitCost)
        .compute(&data, None)
        .unwrap();
    assert_relative_eq!(unit.cost_of_goods[0], 38.0);
    assert_relative_eq!(unit.cost_of_goods[1], 20.0);
    // Until day 20 drops A's return; from day 2 drops A's first order.
    let window = ProfitOptions::new()
        .from(date(2024, 1, 2))
        .until(date(2024, 1, 20))
        .fixed_per_period(20.0, 20)
        .compute(&data, None)
        .unwrap();
    assert_relative_eq!(window.revenue[0], 40.0);
    // On the books from the first row in the window (day 11) to day 20: 10 days.
    assert_relative_eq!(window.cost_to_serve[0], 10.0);
    assert_eq!(window.totals.transactions, 2);
    let none = ProfitOptions::new()
        .until(date(2023, 12, 31))
        .fixed_per_period(20.0, 20)
        .compute(&data, None)
        .unwrap();
    assert_eq!(none.active, vec![false, false]);
    assert_eq!(none.net_profit, vec![0.0, 0.0]);
    let rate = ProfitOptions::new()
        .cost_of_goods(CostOfGoods::MarginRate(0.25))
        .compute(&data, None)
        .unwrap();
    assert_relative_eq!(rate.gross_margin[0], 20.0);
}

#[test]
fn service_events_cost_even_without_a_purchase_in_the_window() {
    let data = small();
    let data = data.view(&Scope::all());
    // Until day 3, B (first purchase day 5) has no row, but its two contacts still cost.
    let p = ProfitOptions::new()
        .until(date(2024, 1, 3))
        .per_service_event(3.0)
        .compute(&data, Some(&[0, 2]))
        .unwrap();
    assert_eq!(p.active, vec![true, false]);
    assert_relative_eq!(p.cost_to_serve[1], 6.0);
    assert_relative_eq!(p.net_profit[1], -6.0);
    assert_relative_eq!(p.totals.service_costs, 6.0);
    assert_eq!(p.totals.customers, 1);
}

#[test]
fn every_option_error_is_typed_and_named() {
    let data = small();
    let all = data.view(&Scope::all());
    let option_of = |o: ProfitOptions, ev: Option<&[u32]>| match o.compute(&all, ev) {
        Err(Error::InvalidOption { option, value, .. }) => {
            assert!(!value.is_empty(), "{option} names its value");
            option
        }
        other => panic!("expected an option error, got {other:?}"),
    };
    let base = ProfitOptions::new;
    assert_eq!(option_of(base().per_order(-1.0), None), "per_order");
    assert_eq!(option_of(base().per_unit(f64::NAN), None), "per_unit");
    assert_eq!(
        option_of(base().per_service_event(-2.0), None),
        "per_service_event"
    );
    assert_eq!(
        option_of(base().per_service_event(2.0), None),
        "per_service_event"
    );
    assert_eq!(
        base().compute(&all, Some(&[1, 2, 3])),
        Err(Error::LengthMismatch {
            input: "service_events",
            found: 3,
            expected: all.len(),
            against: "customers of the view",
        }),
        "one count per customer"
    );
    assert_eq!(
        option_of(base().returns_handling(-1.0, 0.0), None),
        "returns_handling"
    );
    assert_eq!(
        option_of(base().returns_handling(1.0, 1.5), None),
        "returns_handling"
    );
    assert_eq!(
        option_of(base().fixed_per_period(5.0, 0), None),
        "fixed_per_period"
    );
    assert_eq!(
        option_of(base().fixed_per_period(f64::INFINITY, 30), None),
        "fixed_per_period"
    );
    for m in [1.0, 1.5, f64::NAN] {
        assert_eq!(
            option_of(base().cost_of_goods(CostOfGoods::MarginRate(m)), None),
            "cost_of_goods"
        );
    }
    assert_eq!(
        option_of(base().from(date(2024, 2, 1)).until(date(2024, 1, 1)), None),
        "from"
    );
    // Cost sources the data cannot give.
    let mut b = Dataset::builder();
    b.extend([
        TransactionRecord {
            product_id: Some("z".into()),
            ..TransactionRecord::new("A", date(2024, 1, 1), 5.0)
        },
        TransactionRecord {
            product_id: Some("y".into()),
            ..TransactionRecord::new("B", date(2024, 1, 2), 5.0)
        },
    ])
    .unwrap();
    let bare = b.build().unwrap().dataset;
    for c in [CostOfGoods::Auto, CostOfGoods::UnitCost] {
        match ProfitOptions::new()
            .cost_of_goods(c)
            .compute(&bare.view(&Scope::all()), None)
        {
            Err(Error::BadValue {
                input,
                row,
                field,
                value,
                ..
            }) => {
                // The first customer (A, row 0) bought a product without a unit cost.
                assert_eq!((input.as_str(), row), ("customers", 0));
                assert_eq!((field.as_str(), value.as_str()), ("product", "z"));
            }
            other => panic!("{other:?}"),
        }
    }
    let mut b = Dataset::builder();
    b.push(TransactionRecord::new("A", date(2024, 1, 1), 5.0))
        .unwrap();
    let plain = b.build().unwrap().dataset;
    for (c, missing) in [
        (CostOfGoods::Column, "cost"),
        (CostOfGoods::UnitCost, "product"),
        (CostOfGoods::Auto, "cost"),
    ] {
        match ProfitOptions::new()
            .cost_of_goods(c)
            .compute(&plain.view(&Scope::all()), None)
        {
            Err(Error::MissingColumn { column, available }) => {
                assert_eq!(column, missing, "{c:?}");
                assert_eq!(available, ["customer", "date", "amount"]);
            }
            other => panic!("{other:?}"),
        }
    }
}

fn synthetic() -> Dataset {
    SynthOptions::<Weeks>::new()
        .customers(20_000)
        .seed(7)
        .generate()
        .unwrap()
        .dataset
}

#[test]
fn identities_hold_per_customer_and_in_total_on_synthetic_data() {
    let data = synthetic();
    let all = data.view(&Scope::all());
    let events: Vec<u32> = (0..all.len() as u32).map(|i| i % 5).collect();
    let opts = ProfitOptions::new()
        .per_order(1.5)
        .per_unit(0.2)
        .per_service_event(4.0)
        .fixed_per_period(12.0, 365)
        .returns_handling(3.0, 0.05);
    let p = opts.compute(&all, Some(&events)).unwrap();
    let n = p.revenue.len();
    assert_eq!(n, all.len());
    for i in 0..n {
        // Computed in exactly this order: the same bits.
        let margin = p.revenue[i] - p.cost_of_goods[i];
        assert_eq!(p.gross_margin[i].to_bits(), margin.to_bits());
        let net = p.gross_margin[i] - p.cost_to_serve[i];
        assert_eq!(p.net_profit[i].to_bits(), net.to_bits());
    }
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let t = p.totals;
    assert_relative_eq!(t.revenue, sum(&p.revenue), max_relative = 1e-12);
    assert_relative_eq!(t.net_profit, sum(&p.net_profit), max_relative = 1e-10);
    assert_relative_eq!(
        t.net_profit,
        t.revenue - t.cost_of_goods - t.cost_to_serve,
        max_relative = 1e-10
    );
    assert_relative_eq!(
        t.cost_to_serve,
        t.order_costs + t.unit_costs + t.service_costs + t.fixed_costs + t.returns_costs,
        max_relative = 1e-12
    );
    assert_eq!(t.transactions, all.transactions() as u64);
    // Unit costs against a brute-force sum of unit cost × quantity over each history.
    let unit = ProfitOptions::new()
        .cost_of_goods(CostOfGoods::UnitCost)
        .compute(&all, None)
        .unwrap();
    let catalogue = all.catalogue().unwrap();
    for i in 0..n {
        let h = all.history(i);
        let expected: f64 = (0..h.len())
            .map(|r| {
                let p = h.products.unwrap()[r];
                catalogue.unit_cost(p).unwrap().unwrap() * h.quantities.unwrap()[r]
            })
            .sum();
        assert_relative_eq!(unit.cost_of_goods[i], expected, max_relative = 1e-12);
    }
    // The whale curve of these profits ends at 100% of the total.
    let w = whale_curve(&p.net_profit, 100).unwrap();
    assert_relative_eq!(
        w.curve.last().unwrap().profit_share,
        1.0,
        max_relative = 1e-9
    );
}

#[test]
fn identical_bits_for_any_thread_count() {
    let data = synthetic();
    let opts = ProfitOptions::new()
        .per_order(1.0)
        .fixed_per_period(5.0, 30);
    let all = data.view(&Scope::all());
    let run = |threads| crate::pool(threads).install(|| opts.compute(&all, None).unwrap());
    assert_eq!(run(1), run(2));
}
