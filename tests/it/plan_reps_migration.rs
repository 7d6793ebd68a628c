//! Plan versus actual, rep performance and tier migration (`acrm::performance::{plan,
//! reps, migration}`), each number against an independent computation:
//!
//! - small cases whose expected numbers are derived by hand in the comments;
//! - property tests (proptest) over random logs, targets, owners and tiers: the sum of
//!   volume, mix and price is the revenue variance (to 1e-9 of the amounts), actuals
//!   equal to sums over the generated lines, the reps' identities (active = new + retained + returning, the
//!   previous period's active = retained + churned) and their counts against an oracle
//!   written from the definitions, migration counts summing to the customers and each
//!   customer in the cell of its two labels, the same results on one and two threads,
//!   and a scoped view (`Scope::of_owners`) holding only that owner's customers.
//!
//! Amounts are whole cents, so money sums are exact and compared with `==`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use acrm::data::{Dataset, Money, OwnershipRecord, Scope, TransactionRecord, View};
use acrm::io::read_targets;
use acrm::performance::{
    Dim, Grouping, MigrationOptions, PlanOptions, PlanStatus, RepOptions, RepTarget, TargetRecord,
    Targets, Window,
};
use acrm::{Error, Problem};
use chrono::NaiveDate;
use proptest::prelude::*;

use super::pool;

/// Relative tolerance of the decomposition identities.
const TOL: f64 = 1e-9;

fn date(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn cents(c: i64) -> Money {
    Money::from_cents(c)
}

/// One order line of a test log.
#[derive(Debug, Clone)]
struct Line {
    customer: String,
    day: NaiveDate,
    cents: i64,
    cost_cents: i64,
    quantity: f64,
    product: String,
    region: String,
}

fn line(c: &str, d: &str, amount: i64, qty: f64, product: &str, region: &str) -> Line {
    Line {
        customer: c.into(),
        day: date(d),
        cents: amount * 100,
        cost_cents: amount * 50,
        quantity: qty,
        product: product.into(),
        region: region.into(),
    }
}

fn dataset(lines: &[Line], owners: &[(&str, &str)]) -> Dataset {
    let mut b = Dataset::builder();
    b.extend(lines.iter().map(|l| {
        let mut r = TransactionRecord::new(l.customer.clone(), l.day, l.cents as f64 / 100.0);
        r.cost = Some(l.cost_cents as f64 / 100.0);
        r.quantity = Some(l.quantity);
        r.product_id = Some(l.product.clone());
        r.region = Some(l.region.clone());
        r
    }))
    .unwrap();
    let mut data = b.build().unwrap().dataset;
    if !owners.is_empty() {
        data.assign_owners(owners.iter().map(|(c, o)| OwnershipRecord::new(*c, *o)))
            .unwrap();
    }
    data
}

fn q(label: &str, from: &str, until: &str) -> Window {
    Window::new(label, date(from), date(until))
}

fn close(a: f64, b: f64, scale: f64) -> bool {
    (a - b).abs() <= TOL * scale.max(1.0)
}

// ---------------------------------------------------------------- plan versus actual

fn plan_lines() -> Vec<Line> {
    vec![
        line("A", "2024-01-10", 100, 10.0, "p1", "north"),
        line("B", "2024-02-10", 75, 5.0, "p2", "north"),
        line("A", "2024-03-01", 48, 4.0, "p1", "south"),
        line("C", "2024-04-10", 20, 2.0, "p1", "north"),
    ]
}

fn plan_targets() -> Targets {
    let (q1, q2) = (
        q("Q1", "2024-01-01", "2024-03-31"),
        q("Q2", "2024-04-01", "2024-06-30"),
    );
    let t = |p: &str, r: &str, w: &Window| TargetRecord::new([p, r], w.clone());
    Targets::new(
        [Dim::Product, Dim::Region],
        [
            t("p1", "north", &q1)
                .revenue(cents(12_000))
                .units(12.0)
                .margin(cents(4_000)),
            t("p2", "north", &q1).revenue(cents(5_000)).units(5.0),
            t("p1", "south", &q1).revenue(cents(0)).units(0.0),
            t("p3", "north", &q1).revenue(cents(3_000)).units(3.0),
            t("p2", "south", &q1).revenue(cents(4_000)),
            t("p1", "north", &q2).revenue(cents(2_000)).units(0.0),
        ],
    )
    .unwrap()
}

#[test]
fn plan_hand_computed() {
    let data = dataset(&plan_lines(), &[]);
    let plan = PlanOptions::new(plan_targets())
        .compute(&data.view(&Scope::all()))
        .unwrap();
    assert_eq!(plan.dims, ["product", "region"]);
    let r = &plan.rows;
    // Q1 rows that decompose: p1/north, p2/north, p1/south (unplanned), p3/north (no
    // actuals). Planned units 12, 5, 0, 3 → U_p,tot = 20, m_p = .6, .25, 0, .15; actual
    // units 10, 5, 4, 0 → U_a,tot = 19. Planned prices 120/12 = 10, 50/5 = 10, (actual)
    // 48/4 = 12, 30/3 = 10.
    let expect = [
        // p1/north: volume (19−20)·.6·10 = −6; mix (10 − 19·.6)·10 = −14; price 100 − 10·10 = 0.
        (PlanStatus::Decomposed, -6.0, -14.0, 0.0, -2_000),
        // p2/north: volume −1·.25·10 = −2.5; mix (5 − 4.75)·10 = 2.5; price 75 − 5·10 = 25.
        (PlanStatus::Decomposed, -2.5, 2.5, 25.0, 2_500),
        // p1/south: volume 0; mix (4 − 0)·12 = 48; price 48 − 4·12 = 0.
        (PlanStatus::Unplanned, 0.0, 48.0, 0.0, 4_800),
        // p3/north: volume −1·.15·10 = −1.5; mix (0 − 19·.15)·10 = −28.5; price 0.
        (PlanStatus::NoActuals, -1.5, -28.5, 0.0, -3_000),
    ];
    for (i, (status, v, m, p, var)) in expect.into_iter().enumerate() {
        assert_eq!(r[i].status, status, "row {i}");
        assert_eq!(r[i].revenue.variance, Some(cents(var)), "row {i}");
        assert!(close(r[i].volume_effect.unwrap(), v, 100.0), "row {i}");
        assert!(close(r[i].mix_effect.unwrap(), m, 100.0), "row {i}");
        assert!(close(r[i].price_effect.unwrap(), p, 100.0), "row {i}");
    }
    // p1/north: revenue 100 of 120 → 5/6; margin 100 − 50 (cost is half the amount) = 50
    // of 40 → variance +10, attainment 1.25.
    assert!(close(r[0].revenue.attainment.unwrap(), 100.0 / 120.0, 1.0));
    let m = r[0].margin.as_ref().unwrap();
    assert_eq!((m.actual, m.variance), (cents(5_000), Some(cents(1_000))));
    assert!(close(m.attainment.unwrap(), 1.25, 1.0));
    assert_eq!(r[0].units.variance, Some(-2.0));
    // p2/south: a revenue target only, nothing sold: variance −40, no effects.
    assert_eq!(r[4].status, PlanStatus::NoUnitTarget);
    assert_eq!(r[4].revenue.variance, Some(cents(-4_000)));
    assert_eq!(r[4].volume_effect, None);
    // Q2 p1/north: revenue 20 planned at 0 units: no planned price; sold 20 (2 units).
    assert_eq!(r[5].status, PlanStatus::NoPlannedUnits);
    assert_eq!(
        (r[5].revenue.actual, r[5].units.actual),
        (cents(2_000), 2.0)
    );
    assert_eq!(r[5].revenue.attainment, Some(1.0));
    assert_eq!(r[5].mix_effect, None);
    // Q1 sums: volume −10, mix 8, price 25 → 23 = 223 − 200.
    let p = &plan.periods[0];
    assert_eq!((p.period.as_str(), p.rows), ("Q1", 4));
    assert_eq!(p.revenue_variance, cents(2_300));
    assert!(close(p.volume_effect, -10.0, 100.0));
    assert!(close(p.mix_effect, 8.0, 100.0));
    assert!(close(p.price_effect, 25.0, 100.0));
    assert_eq!((p.units_target, p.units_actual), (20.0, 19.0));
    assert_eq!(plan.periods[1].rows, 0);
    // Below plan, worst first: p2/south −40, p3/north −30, p1/north −20.
    let below: Vec<(&str, &str)> = plan
        .below_plan()
        .iter()
        .map(|r| (r.members[0].as_str(), r.members[1].as_str()))
        .collect();
    assert_eq!(below, [("p2", "south"), ("p3", "north"), ("p1", "north")]);
}

#[test]
fn plan_targets_from_csv_match_records() {
    let csv = "product,region,period,from,until,revenue,units,margin\n\
               p1,north,Q1,2024-01-01,2024-03-31,120,12,40\n\
               p2,north,Q1,2024-01-01,2024-03-31,50,5,\n\
               p1,south,Q1,2024-01-01,2024-03-31,0,0,\n\
               p3,north,Q1,2024-01-01,2024-03-31,30,3,\n\
               p2,south,Q1,2024-01-01,2024-03-31,40,,\n\
               p1,north,Q2,2024-04-01,2024-06-30,20,0,\n";
    assert_eq!(read_targets(csv.as_bytes()).unwrap(), plan_targets());
    // Checks of Targets::new come back on the file's lines.
    let dup = format!("{csv}p2,north,Q1,2024-01-01,2024-03-31,1,1,\n");
    match read_targets(dup.as_bytes()).unwrap_err() {
        Error::Row(r) => assert_eq!((r.line, r.problem), (8, Problem::DuplicateId)),
        e => panic!("{e}"),
    }
}

#[test]
fn plan_refuses_what_it_cannot_compute() {
    let w = Window::year(2024);
    let t = |m: &[&str]| TargetRecord::new(m.iter().copied(), w.clone()).revenue(cents(1));
    assert!(matches!(
        Targets::new([Dim::Product], [t(&["p1", "x"])]),
        Err(Error::Row(r)) if r.line == 1 && r.problem == Problem::MissingField
    ));
    assert!(matches!(
        Targets::new([Dim::Product, Dim::Product], [t(&["p1", "p1"])]),
        Err(Error::InvalidOption { option: "dims", .. })
    ));
    assert!(matches!(
        Targets::new([Dim::Windows(vec![w.clone()])], [t(&["2024"])]),
        Err(Error::InvalidOption { option: "dims", .. })
    ));
    // Units targets need quantities; margin targets need costs.
    let csv = "customer_id,date,amount,product_id\nA,2024-01-02,10,p1\n";
    let data = acrm::io::CsvOptions::new()
        .read_bytes(csv.as_bytes())
        .unwrap()
        .dataset;
    let view = data.view(&Scope::all());
    let units = Targets::new([Dim::Product], [t(&["p1"]).units(1.0)]).unwrap();
    assert!(matches!(
        PlanOptions::new(units).compute(&view),
        Err(Error::MissingColumn { column, .. }) if column == "quantity"
    ));
    let margin = Targets::new([Dim::Product], [t(&["p1"]).margin(cents(1))]).unwrap();
    assert!(matches!(
        PlanOptions::new(margin).compute(&view),
        Err(Error::MissingColumn { column, .. }) if column == "cost"
    ));
    let ok = Targets::new([Dim::Product], [t(&["p1"])]).unwrap();
    let plan = PlanOptions::new(ok).compute(&view).unwrap();
    assert_eq!(plan.rows[0].revenue.actual, cents(1_000));
    assert_eq!(plan.rows[0].margin, None);
}

// ---------------------------------------------------------------- reps

fn rep_lines() -> Vec<Line> {
    vec![
        line("a", "2023-03-01", 50, 1.0, "p", "r"),
        line("a", "2024-03-01", 70, 1.0, "p", "r"),
        line("b", "2023-04-01", 20, 1.0, "p", "r"),
        line("c", "2022-06-01", 10, 1.0, "p", "r"),
        line("c", "2024-05-01", 90, 1.0, "p", "r"),
        line("d", "2024-02-01", 170, 1.0, "p", "r"),
        line("d", "2024-03-01", -10, 1.0, "p", "r"),
        line("e", "2023-01-01", 30, 1.0, "p", "r"),
        line("e", "2024-01-01", 40, 1.0, "p", "r"),
        line("f", "2024-06-01", 5, 1.0, "p", "r"),
    ]
}

const REP_OWNERS: [(&str, &str); 5] = [
    ("a", "sam"),
    ("b", "sam"),
    ("c", "sam"),
    ("d", "kim"),
    ("e", "lee"),
];

#[test]
fn reps_hand_computed() {
    let data = dataset(&rep_lines(), &REP_OWNERS);
    let reps = RepOptions::new([Window::year(2023), Window::year(2024)])
        .units("team", [("sam", "t1"), ("kim", "t1"), ("lee", "t2")])
        .targets([
            RepTarget::new("sam", "2024", cents(20_000)),
            RepTarget::new("kim", "2024", cents(10_000)),
        ])
        .compute(&data.view(&Scope::all()))
        .unwrap();
    let row = |o: Option<&str>, p: &str| {
        reps.owners
            .iter()
            .find(|r| r.owner.as_deref() == o && r.period == p)
            .unwrap()
    };
    // sam 2023: a and b buy, both for the first time: revenue 50 + 20.
    let s23 = row(Some("sam"), "2023");
    let f = &s23.figures;
    assert_eq!(
        (f.revenue, f.active, f.new, f.returning),
        (cents(7_000), 2, 2, 0)
    );
    assert_eq!((f.retained, f.churned), (None, None));
    // sam 2024: a again (retained), b not (churned), c back after 2022 (returning, not
    // new): revenue 70 + 90 = 160, margin half of it.
    let f = &row(Some("sam"), "2024").figures;
    assert_eq!((f.revenue, f.margin), (cents(16_000), Some(cents(8_000))));
    assert_eq!(
        (f.active, f.new, f.retained, f.churned, f.returning),
        (2, 0, Some(1), Some(1), 1)
    );
    assert_eq!(f.attainment, Some(0.8));
    // kim 2024: d new, 170 − 10 returned = 160, target 100 → 1.6; ties sam in t1.
    let k24 = row(Some("kim"), "2024");
    assert_eq!((k24.figures.revenue, k24.figures.new), (cents(16_000), 1));
    assert_eq!(k24.figures.attainment, Some(1.6));
    assert_eq!(
        (k24.rank, row(Some("sam"), "2024").rank),
        (Some(1), Some(1))
    );
    // 2023 in t1: sam 70 ahead of kim 0; lee alone in t2.
    assert_eq!(
        (s23.rank, row(Some("kim"), "2023").rank),
        (Some(1), Some(2))
    );
    assert_eq!(row(Some("lee"), "2024").rank, Some(1));
    assert_eq!(row(Some("lee"), "2024").figures.retained, Some(1));
    // f has no owner: its own row, unranked.
    let none = row(None, "2024");
    assert_eq!(
        (none.figures.revenue, none.figures.new, none.rank),
        (cents(500), 1, None)
    );
    // Team t1 in 2024: 160 + 160 against 200 + 100; active 3 = new 1 + retained 1 +
    // returning 1; churned 1.
    let t1 = reps
        .units
        .iter()
        .find(|u| u.unit.as_deref() == Some("t1") && u.period == "2024")
        .unwrap();
    let f = &t1.figures;
    assert_eq!(
        (t1.owners, f.revenue, f.target),
        (2, cents(32_000), Some(cents(30_000)))
    );
    assert_eq!(
        (f.active, f.new, f.retained, f.churned, f.returning),
        (3, 1, Some(1), Some(1), 1)
    );
    assert!(close(f.attainment.unwrap(), 320.0 / 300.0, 1.0));
    assert_eq!(reps.units.len(), 4);
    // Sam's own scope: only sam's rows, the same figures.
    let own = RepOptions::new([Window::year(2023), Window::year(2024)])
        .compute(&data.view(&Scope::of_owners("owner", "sam", ["sam"])))
        .unwrap();
    assert_eq!(own.owners.len(), 2);
    assert_eq!(own.owners[1].figures.active, 2);
    assert_eq!(own.scope.label(), "owner:sam");
}

#[test]
fn reps_options_are_checked() {
    let y = |n| Window::year(n);
    assert!(matches!(
        RepOptions::new([y(2024), y(2023)]).validate(),
        Err(Error::InvalidOption {
            option: "periods",
            ..
        })
    ));
    assert!(matches!(
        RepOptions::new([y(2024)])
            .units("team", [("a", "t1"), ("a", "t2")])
            .validate(),
        Err(Error::InvalidOption {
            option: "units",
            ..
        })
    ));
    assert!(matches!(
        RepOptions::new([y(2024)])
            .targets([RepTarget::new("a", "2023", cents(1))])
            .validate(),
        Err(Error::InvalidOption {
            option: "targets",
            ..
        })
    ));
    assert!(matches!(
        RepOptions::new(Vec::new()).validate(),
        Err(Error::InvalidOption { .. })
    ));
}

// ---------------------------------------------------------------- migration

#[test]
fn migration_hand_computed() {
    let lines = vec![
        line("A", "2023-02-01", 100, 1.0, "p", "r"),
        line("A", "2024-02-01", 120, 1.0, "p", "r"),
        line("B", "2023-02-01", 80, 1.0, "p", "r"),
        line("B", "2024-02-01", 30, 1.0, "p", "r"),
        line("C", "2023-02-01", 20, 1.0, "p", "r"),
        line("C", "2024-02-01", 60, 1.0, "p", "r"),
        line("D", "2023-02-01", 50, 1.0, "p", "r"),
        line("E", "2024-02-01", 40, 1.0, "p", "r"),
    ];
    let data = dataset(&lines, &[]);
    let view = data.view(&Scope::all());
    let g = |ids: &[&str], labels: &[&str]| {
        Grouping::new(
            "tier",
            acrm::data::Rows::from_ids(ids),
            labels.iter().copied(),
        )
        .unwrap()
    };
    // D is tiered at the start only, E at the end only.
    let t0 = g(&["A", "B", "C", "D"], &["high", "high", "low", "low"]);
    let t1 = g(&["A", "B", "C", "E"], &["high", "low", "high", "low"]);
    let m = MigrationOptions::new()
        .order(["high", "low"])
        .windows(Window::year(2023), Window::year(2024))
        .compute(&view, &t0, &t1)
        .unwrap();
    assert_eq!(m.tiers, ["high", "low"]);
    // Rows high, low, none; columns the same: A stays high, B falls, C rises, D leaves the
    // tiers (→ none), E enters (none →).
    assert_eq!(
        m.counts(),
        vec![vec![1, 1, 0], vec![1, 0, 1], vec![0, 1, 0]]
    );
    assert_eq!(m.customers, 5);
    // (from, to, revenue 2023, 2024, moved) in units; margins are half (cost = ½ amount).
    let expect = [
        (Some("high"), Some("high"), 100, 120, 20, "A"),
        (Some("high"), Some("low"), 80, 30, -50, "B"),
        (Some("low"), Some("high"), 20, 60, 40, "C"),
        (Some("low"), None, 50, 0, -50, "D"),
        (None, Some("low"), 0, 40, 40, "E"),
    ];
    for (from, to, r0, r1, moved, who) in expect {
        let c = m.cell(from, to).unwrap();
        assert_eq!(c.revenue_0, Some(cents(r0 * 100)), "{who}");
        assert_eq!(c.revenue_1, Some(cents(r1 * 100)), "{who}");
        assert_eq!(c.revenue_moved, Some(cents(moved * 100)), "{who}");
        assert_eq!(c.margin_moved, Some(cents(moved * 50)), "{who}");
        assert_eq!(c.rows.ids().collect::<Vec<_>>(), [who]);
    }
    let empty = m.cell(Some("low"), Some("low")).unwrap();
    assert_eq!((empty.customers, empty.revenue_0), (0, Some(Money::ZERO)));
    assert_eq!(m.cells.len(), 9);
    // Without windows: counts only.
    let plain = MigrationOptions::new().compute(&view, &t0, &t1).unwrap();
    assert_eq!(plain.counts(), m.counts());
    assert_eq!(plain.cells[0].revenue_0, None);
    assert!(matches!(
        MigrationOptions::new().order(["a", "a"]).validate(),
        Err(Error::InvalidOption {
            option: "order",
            ..
        })
    ));
}

// ---------------------------------------------------------------- properties

const PRODUCTS: [&str; 3] = ["p0", "p1", "p2"];
const REGIONS: [&str; 2] = ["north", "south"];
const OWNERS: [&str; 3] = ["o0", "o1", "o2"];

/// Random lines over 2022–2024 for customers c0..c{n}, returns included.
fn arb_lines() -> impl Strategy<Value = Vec<Line>> {
    prop::collection::vec(
        (
            0usize..10,
            0i64..(3 * 365),
            -2_000i64..20_000,
            0u32..6,
            0usize..3,
            0usize..2,
        ),
        1..60,
    )
    .prop_map(|raw| {
        raw.into_iter()
            .map(|(c, d, cents, qty, p, r)| Line {
                customer: format!("c{c}"),
                day: date("2022-01-01") + chrono::Duration::days(d),
                cents,
                cost_cents: cents / 3,
                quantity: qty as f64,
                product: PRODUCTS[p].into(),
                region: REGIONS[r].into(),
            })
            .collect()
    })
}

/// Owners of c0..c9 (`None`: no owner).
fn arb_owners() -> impl Strategy<Value = Vec<Option<usize>>> {
    prop::collection::vec(prop::option::weighted(0.85, 0usize..3), 10)
}

fn owned(lines: &[Line], owners: &[Option<usize>]) -> Dataset {
    let pairs: Vec<(String, &str)> = owners
        .iter()
        .enumerate()
        .filter_map(|(c, o)| o.map(|o| (format!("c{c}"), OWNERS[o])))
        .collect();
    let refs: Vec<(&str, &str)> = pairs.iter().map(|(c, o)| (c.as_str(), *o)).collect();
    dataset(lines, &refs)
}

fn years() -> Vec<Window> {
    vec![Window::year(2022), Window::year(2023), Window::year(2024)]
}

fn in_window(l: &Line, w: &Window) -> bool {
    w.from <= l.day && l.day <= w.until
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Every decomposing row's effects sum to its variance; actuals are the lines' sums;
    /// one and two threads agree.
    #[test]
    fn plan_effects_sum_to_the_variance(
        lines in arb_lines(),
        targets in prop::collection::vec((0usize..3, 0usize..2, 0u32..8, 0i64..40_000, any::<bool>()), 1..12),
    ) {
        let data = dataset(&lines, &[]);
        let view = data.view(&Scope::all());
        let ys = years();
        let mut seen = BTreeSet::new();
        let records: Vec<TargetRecord> = targets
            .into_iter()
            .filter(|t| seen.insert((t.0, t.1)))
            .map(|(p, y, u, r, with_units)| {
                let t = TargetRecord::new([PRODUCTS[p]], ys[y + 1].clone());
                // Zero units plan zero revenue about half the time (unplanned products).
                let r = if u == 0 && with_units && r % 2 == 0 { 0 } else { r };
                let t = t.revenue(cents(r));
                if with_units || u > 0 { t.units(u as f64) } else { t }
            })
            .collect();
        let targets = Targets::new([Dim::Product], records.clone()).unwrap();
        let opts = PlanOptions::new(targets);
        let plan = pool(1).install(|| opts.compute(&view)).unwrap();
        prop_assert_eq!(&plan, &pool(2).install(|| opts.compute(&view)).unwrap());
        for (row, rec) in plan.rows.iter().zip(&records) {
            let mine: Vec<&Line> = lines
                .iter()
                .filter(|l| l.product == rec.members[0] && in_window(l, &rec.period))
                .collect();
            let revenue: i64 = mine.iter().map(|l| l.cents).sum();
            let units: f64 = mine.iter().map(|l| l.quantity).sum();
            prop_assert_eq!(row.revenue.actual, cents(revenue));
            prop_assert!(close(row.units.actual, units, 1.0));
            let variance = revenue - rec.revenue.unwrap().cents();
            prop_assert_eq!(row.revenue.variance, Some(cents(variance)));
            let expected_status = match rec.units {
                None => PlanStatus::NoUnitTarget,
                Some(u) if u > 0.0 && mine.is_empty() => PlanStatus::NoActuals,
                Some(u) if u > 0.0 => PlanStatus::Decomposed,
                Some(_) if rec.revenue.unwrap().cents() == 0 => PlanStatus::Unplanned,
                Some(_) => PlanStatus::NoPlannedUnits,
            };
            prop_assert_eq!(row.status, expected_status);
            if row.status.decomposes() {
                let (v, m, p) = (
                    row.volume_effect.unwrap(),
                    row.mix_effect.unwrap(),
                    row.price_effect.unwrap(),
                );
                let scale = v.abs() + m.abs() + p.abs() + (revenue.abs() as f64 + rec.revenue.unwrap().cents().abs() as f64) / 100.0;
                prop_assert!(close(v + m + p, variance as f64 / 100.0, scale), "{v} + {m} + {p} vs {variance}");
            } else {
                prop_assert!(row.volume_effect.is_none() && row.price_effect.is_none());
            }
        }
        for per in &plan.periods {
            let scale = per.volume_effect.abs() + per.mix_effect.abs() + per.price_effect.abs()
                + (per.revenue_actual.cents().abs() + per.revenue_target.cents().abs()) as f64 / 100.0;
            prop_assert!(close(
                per.volume_effect + per.mix_effect + per.price_effect,
                per.revenue_variance.units(),
                scale,
            ));
        }
    }

    /// The reps' identities and counts against an oracle from the definitions; owners sum
    /// to the whole; a scoped view holds only that owner's customers.
    #[test]
    fn reps_identities_hold(lines in arb_lines(), owners in arb_owners()) {
        let data = owned(&lines, &owners);
        let view = data.view(&Scope::all());
        let ys = years()[1..].to_vec(); // 2023, 2024: 2022 is "before"
        let opts = RepOptions::new(ys.clone())
            .units("team", [("o0", "t1"), ("o1", "t1"), ("o2", "t2")]);
        let reps = pool(1).install(|| opts.compute(&view)).unwrap();
        prop_assert_eq!(&reps, &pool(2).install(|| opts.compute(&view)).unwrap());
        let owner_of = |c: &str| -> Option<&str> {
            let i: usize = c[1..].parse().unwrap();
            owners[i].map(|o| OWNERS[o])
        };
        // Oracle: per customer, purchase flags per period and the first purchase's day.
        let customers: BTreeSet<&str> = lines.iter().map(|l| l.customer.as_str()).collect();
        let active = |c: &str, w: &Window| lines.iter().any(|l| l.customer == c && l.cents >= 0 && in_window(l, w));
        let first = |c: &str| lines.iter().filter(|l| l.customer == c && l.cents >= 0).map(|l| l.day).min();
        for r in &reps.owners {
            let p = ys.iter().position(|w| w.label == r.period).unwrap();
            let w = &ys[p];
            let mine: Vec<&str> = customers.iter().copied().filter(|c| owner_of(c) == r.owner.as_deref()).collect();
            let f = &r.figures;
            let act = mine.iter().filter(|c| active(c, w)).count() as u64;
            let new = mine.iter().filter(|c| first(c).is_some_and(|d| w.from <= d && d <= w.until)).count() as u64;
            prop_assert_eq!((f.active, f.new), (act, new));
            let revenue: i64 = lines.iter().filter(|l| owner_of(&l.customer) == r.owner.as_deref() && in_window(l, w)).map(|l| l.cents).sum();
            prop_assert_eq!(f.revenue, cents(revenue));
            if p == 0 {
                prop_assert_eq!((f.retained, f.churned), (None, None));
                prop_assert_eq!(f.active, f.new + f.returning);
            } else {
                let prev = &ys[p - 1];
                let kept = mine.iter().filter(|c| active(c, prev) && active(c, w)).count() as u64;
                let lost = mine.iter().filter(|c| active(c, prev) && !active(c, w)).count() as u64;
                prop_assert_eq!((f.retained, f.churned), (Some(kept), Some(lost)));
                prop_assert_eq!(f.active, f.new + kept + f.returning);
                let before = reps.owners.iter().find(|x| x.owner == r.owner && x.period == prev.label).unwrap();
                prop_assert_eq!(before.figures.active, kept + lost);
            }
            // Rank: one more than the owners of the unit with more revenue.
            if r.owner.is_some() {
                let above = reps.owners.iter().filter(|x| x.owner.is_some() && x.unit == r.unit && x.period == r.period && x.figures.revenue > f.revenue).count();
                prop_assert_eq!(r.rank, Some(above as u32 + 1));
            }
        }
        // Units sum their owners; owners (with the unowned) sum to the whole.
        for w in &ys {
            let total: i64 = lines.iter().filter(|l| in_window(l, w)).map(|l| l.cents).sum();
            let owners_sum: i64 = reps.owners.iter().filter(|r| r.period == w.label).map(|r| r.figures.revenue.cents()).sum();
            prop_assert_eq!(owners_sum, total);
            let units_sum: u64 = reps.units.iter().filter(|u| u.period == w.label).map(|u| u.figures.active).sum();
            let owned_active: u64 = reps.owners.iter().filter(|r| r.owner.is_some() && r.period == w.label).map(|r| r.figures.active).sum();
            prop_assert_eq!(units_sum, owned_active);
        }
        // A rep's own scope: only their rows, with the same figures.
        let scoped = data.view(&Scope::of_owners("owner", "o1", ["o1"]));
        let own = opts.compute(&scoped).unwrap();
        let all_o1: Vec<_> = reps.owners.iter().filter(|r| r.owner.as_deref() == Some("o1")).cloned().collect();
        prop_assert!(own.owners.iter().all(|r| r.owner.as_deref() == Some("o1")));
        prop_assert_eq!(own.owners.len(), all_o1.len());
        for (a, b) in own.owners.iter().zip(&all_o1) {
            prop_assert_eq!(&a.figures, &b.figures);
        }
    }

    /// Counts sum to the customers of either assignment, each customer sits in the cell
    /// of its two labels, revenue sums to theirs; a scoped view holds only its owner's.
    #[test]
    fn migration_partitions_the_customers(
        lines in arb_lines(),
        owners in arb_owners(),
        t0 in prop::collection::vec(prop::option::of(0usize..3), 10),
        t1 in prop::collection::vec(prop::option::of(0usize..3), 10),
    ) {
        let data = owned(&lines, &owners);
        let tiers = ["high", "mid", "low"];
        let grouping = |view: &View<'_>, t: &[Option<usize>]| {
            let ids: Vec<String> = (0..10)
                .filter(|&c| t[c].is_some() && view.row(&format!("c{c}")).is_some())
                .map(|c| format!("c{c}"))
                .collect();
            let labels: Vec<&str> = ids.iter().map(|id| tiers[t[id[1..].parse::<usize>().unwrap()].unwrap()]).collect();
            Grouping::new("tier", acrm::data::Rows::from_ids(&ids), labels).unwrap()
        };
        let check = |view: &View<'_>| -> Result<(), TestCaseError> {
            let (g0, g1) = (grouping(view, &t0), grouping(view, &t1));
            let opts = MigrationOptions::new().order(tiers).windows(Window::year(2023), Window::year(2024));
            let m = pool(1).install(|| opts.compute(view, &g0, &g1)).unwrap();
            prop_assert_eq!(&m, &pool(2).install(|| opts.compute(view, &g0, &g1)).unwrap());
            let label = |g: &Grouping, id: &str| g.rows().row(id).map(|i| g.labels()[i].clone());
            let union: BTreeSet<String> = g0.rows().ids().chain(g1.rows().ids()).map(str::to_string).collect();
            prop_assert_eq!(m.customers, union.len() as u64);
            prop_assert_eq!(m.counts().iter().flatten().sum::<u64>(), union.len() as u64);
            prop_assert_eq!(m.cell(None, None).unwrap().customers, 0);
            let mut listed = BTreeSet::new();
            let mut by_cell: BTreeMap<(Option<String>, Option<String>), i64> = BTreeMap::new();
            for id in &union {
                let key = (label(&g0, id), label(&g1, id));
                let r: i64 = lines.iter().filter(|l| &l.customer == id && in_window(l, &Window::year(2024))).map(|l| l.cents).sum();
                *by_cell.entry(key).or_default() += r;
            }
            for c in &m.cells {
                prop_assert_eq!(c.customers, c.rows.len() as u64);
                prop_assert_eq!(c.rows.scope(), view.scope());
                for id in c.rows.ids() {
                    prop_assert!(listed.insert(id.to_string()));
                    prop_assert_eq!((label(&g0, id), label(&g1, id)), (c.from.clone(), c.to.clone()));
                }
                let expect = by_cell.get(&(c.from.clone(), c.to.clone())).copied().unwrap_or(0);
                prop_assert_eq!(c.revenue_1, Some(cents(expect)));
                prop_assert_eq!(c.revenue_moved, Some(c.revenue_1.unwrap() - c.revenue_0.unwrap()));
            }
            prop_assert_eq!(listed, union);
            Ok(())
        };
        check(&data.view(&Scope::all()))?;
        let scoped = data.view(&Scope::of_owners("owner", "o1", ["o1"]));
        check(&scoped)?;
        // Every customer of the scoped matrix is o1's.
        let g = grouping(&scoped, &t0);
        for id in g.rows().ids() {
            let i: usize = id[1..].parse().unwrap();
            prop_assert_eq!(owners[i], Some(1));
        }
        // A grouping of the whole base is refused by an owner's view, naming a customer.
        let all = data.view(&Scope::all());
        let whole = grouping(&all, &t0);
        if whole.rows().ids().any(|id| scoped.row(id).is_none()) {
            let refused = MigrationOptions::new().compute(&scoped, &whole, &whole);
            prop_assert!(
                matches!(refused, Err(Error::BadValue { .. })),
                "expected a BadValue error"
            );
        }
    }
}

#[test]
fn results_serialise() {
    let data = dataset(&plan_lines(), &[("A", "sam"), ("B", "sam"), ("C", "kim")]);
    let view = data.view(&Scope::all());
    let plan = PlanOptions::new(plan_targets()).compute(&view).unwrap();
    let json = serde_json::to_string(&plan).unwrap();
    assert_eq!(
        serde_json::from_str::<acrm::performance::PlanVsActual>(&json).unwrap(),
        plan
    );
    let reps = RepOptions::new([Window::year(2024)])
        .compute(&view)
        .unwrap();
    let json = serde_json::to_string(&reps).unwrap();
    assert_eq!(
        serde_json::from_str::<acrm::performance::RepPerformance>(&json).unwrap(),
        reps
    );
    let g = Arc::new(Grouping::new("tier", view.rows(), ["a", "b", "a"]).unwrap());
    let m = MigrationOptions::new().compute(&view, &g, &g).unwrap();
    assert_eq!(
        m.counts(),
        vec![vec![2, 0, 0], vec![0, 1, 0], vec![0, 0, 0]]
    );
}
