//! The sales cube and the period-over-period decomposition.
//!
//! - Random order-line files (proptest) against a brute-force oracle written here from
//!   SQL's definitions: for every grouping set, group the lines by the projected key and
//!   count lines, distinct orders and customers with hash sets, sum cents. Every cell must
//!   match exactly, rolled-up rows equal the sums of their children, the owners' scopes
//!   add up to the whole, and one and two threads give the same bits.
//! - The decompositions sum to the change (1e-9 relative), on random files too.
//! - Drill-down, top-N, cell contents and the typed errors on small hand-made files.

use std::collections::{BTreeMap, BTreeSet};

use acrm::data::{Area, AreaSet, Column, ColumnSet, Dataset, OwnershipRecord, Scope};
use acrm::io::CsvOptions;
use acrm::performance::{
    ChangeOptions, ChangeStatus, Cube, CubeOptions, Dim, Grain, GroupingSets, Measure, Window,
};
use acrm::Error;
use proptest::prelude::*;

const HEADER: &str =
    "order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost";

/// One generated line: (order, customer, day of 2023-2024, channel, region, product,
/// quantity, amount cents, cost cents).
#[derive(Debug, Clone)]
struct Line {
    order: u32,
    customer: u32,
    day: u32,
    channel: u32,
    region: u32,
    product: u32,
    quantity: i32,
    amount: i64,
    cost: i64,
}

fn category(product: u32) -> String {
    format!("cat{}", product % 3)
}

fn date(day: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap() + chrono::Duration::days(day as i64)
}

fn money(c: i64) -> String {
    let sign = if c < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", c.abs() / 100, c.abs() % 100)
}

fn csv(lines: &[Line]) -> String {
    let mut s = format!("{HEADER}\n");
    for (i, l) in lines.iter().enumerate() {
        s += &format!(
            "o{},{},c{},{},ch{},r{},{},p{},{},{},{}\n",
            l.order,
            i,
            l.customer,
            date(l.day),
            l.channel,
            l.region,
            category(l.product),
            l.product,
            l.quantity,
            money(l.amount),
            money(l.cost)
        );
    }
    s
}

fn read(text: &str) -> Dataset {
    CsvOptions::order_lines()
        .read_bytes(text.as_bytes())
        .unwrap()
        .dataset
}

/// Orders belong to one customer and have one date: lines are generated per order.
fn lines() -> impl Strategy<Value = Vec<Line>> {
    let order = (
        0u32..12,
        0u32..730,
        0u32..3,
        0u32..2,
        prop::collection::vec((0u32..7, -1i32..4, -5_000i64..50_000, 0i64..40_000), 1..4),
    );
    prop::collection::vec(order, 1..60).prop_map(|orders| {
        let mut out = Vec::new();
        for (o, (customer, day, channel, region, items)) in orders.into_iter().enumerate() {
            for (product, q, amount, cost) in items {
                out.push(Line {
                    order: o as u32,
                    customer,
                    day,
                    channel,
                    region,
                    product,
                    quantity: if q == 0 { 1 } else { q },
                    amount,
                    cost: cost.min(amount.abs()),
                });
            }
        }
        out
    })
}

/// A dimension's member of a line, as text.
fn member(l: &Line, d: &str) -> String {
    match d {
        "category" => category(l.product),
        "channel" => format!("ch{}", l.channel),
        "region" => format!("r{}", l.region),
        "product" => format!("p{}", l.product),
        "year" => date(l.day).format("%Y").to_string(),
        "month" => date(l.day).format("%Y-%m").to_string(),
        "day" => date(l.day).to_string(),
        _ => unreachable!(),
    }
}

/// (lines, orders, customers, units, revenue cents, cost cents) per key.
type Oracle = BTreeMap<(u32, Vec<Option<String>>), (u64, u64, u64, i64, i64, i64)>;

/// Brute force from SQL's definition of GROUP BY CUBE.
fn oracle(lines: &[Line], dims: &[&str]) -> Oracle {
    let k = dims.len();
    let mut groups: BTreeMap<(u32, Vec<Option<String>>), Vec<&Line>> = BTreeMap::new();
    for mask in 0..(1u32 << k) {
        for l in lines {
            let key = (0..k)
                .map(|d| (mask & (1 << (k - 1 - d)) == 0).then(|| member(l, dims[d])))
                .collect();
            groups.entry((mask, key)).or_default().push(l);
        }
    }
    groups
        .into_iter()
        .map(|(key, ls)| {
            let orders: BTreeSet<u32> = ls.iter().map(|l| l.order).collect();
            let customers: BTreeSet<u32> = ls.iter().map(|l| l.customer).collect();
            (
                key,
                (
                    ls.len() as u64,
                    orders.len() as u64,
                    customers.len() as u64,
                    ls.iter().map(|l| l.quantity as i64).sum(),
                    ls.iter().map(|l| l.amount).sum(),
                    ls.iter().map(|l| l.cost).sum(),
                ),
            )
        })
        .collect()
}

fn as_oracle(cube: &Cube) -> Oracle {
    cube.cells
        .iter()
        .map(|c| {
            let key = (0..cube.dims.len())
                .map(|d| cube.label(c, d).map(str::to_string))
                .collect();
            let cost = c.cost.unwrap().cents();
            assert_eq!(c.margin.unwrap().cents(), c.revenue.cents() - cost);
            (
                (c.grouping, key),
                (
                    c.lines,
                    c.orders,
                    c.customers,
                    c.units as i64,
                    c.revenue.cents(),
                    cost,
                ),
            )
        })
        .collect()
}

/// A cell's grouping and member codes.
type CellKey = (u32, Vec<Option<u32>>);

fn rel_close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn cube_matches_the_sql_definition(lines in lines()) {
        let data = read(&csv(&lines));
        let view = data.view(&Scope::all());
        // The last set's key space is past the dense limit: the hash-map store.
        for dims in [
            vec!["category", "channel", "region"],
            vec!["product", "year"],
            vec!["month"],
            vec!["product", "day", "channel", "region", "category"],
        ] {
            let opts = CubeOptions::new().dims(dims.iter().map(|d| match *d {
                "year" => Dim::Period(Grain::Year),
                "month" => Dim::Period(Grain::Month),
                "day" => Dim::Period(Grain::Day),
                d => Dim::parse(d).unwrap(),
            }));
            let cube = opts.compute(&view).unwrap();
            prop_assert_eq!(as_oracle(&cube), oracle(&lines, &dims));
            let again = crate::pool(1).install(|| opts.compute(&view)).unwrap();
            prop_assert_eq!(&again, &cube);
            // Orders whose lines are not side by side take the sorting path: the same cells.
            let mut shuffled: Vec<Line> = lines.iter().step_by(2).cloned().collect();
            shuffled.extend(lines.iter().skip(1).step_by(2).cloned());
            let split = read(&csv(&shuffled));
            prop_assert_eq!(as_oracle(&opts.compute(&split.view(&Scope::all())).unwrap()), oracle(&lines, &dims));
            prop_assert_eq!(cube.report.lines_used, lines.len() as u64);
            prop_assert_eq!(cube.report.rounded_to_cent, 0);
        }
    }

    #[test]
    fn owners_scopes_add_up_to_the_whole(lines in lines(), owners in 1usize..4) {
        let mut data = read(&csv(&lines));
        let customers: BTreeSet<u32> = lines.iter().map(|l| l.customer).collect();
        data.assign_owners(customers.iter().map(|c| {
            OwnershipRecord::new(format!("c{c}"), format!("o{}", *c as usize % owners))
        })).unwrap();
        let opts = CubeOptions::new().dims([Dim::Category, Dim::Channel]);
        let all = opts.compute(&data.view(&Scope::all())).unwrap();
        let mut sums: BTreeMap<CellKey, (u64, u64, u64, i64)> = BTreeMap::new();
        for o in 0..owners {
            let id = format!("o{o}");
            let part = opts.compute(&data.view(&Scope::of_owners("owner", &id, [id.clone()]))).unwrap();
            for c in &part.cells {
                // Members by label: a scope's member lists are its own.
                let key = (0..2)
                    .map(|d| part.label(c, d).map(|l| all.members[d].iter().position(|m| m == l).unwrap() as u32))
                    .collect();
                let e = sums.entry((c.grouping, key)).or_default();
                e.0 += c.lines;
                e.1 += c.orders;
                e.2 += c.customers;
                e.3 += c.revenue.cents();
            }
        }
        let whole: BTreeMap<_, _> = all.cells.iter()
            .map(|c| ((c.grouping, c.key.clone()), (c.lines, c.orders, c.customers, c.revenue.cents())))
            .collect();
        prop_assert_eq!(sums, whole);
    }

    #[test]
    fn decompositions_sum_to_the_change(lines in lines()) {
        let data = read(&csv(&lines));
        let ch = ChangeOptions::new(Window::year(2023), Window::year(2024))
            .by(Dim::Category)
            .compute(&data.view(&Scope::all()))
            .unwrap();
        for r in ch.revenue.iter().chain([&ch.revenue_total]) {
            prop_assert_eq!(r.delta_revenue.cents(), r.revenue_1.cents() - r.revenue_0.cents());
            match (r.effect_customers, r.effect_frequency, r.effect_aov) {
                (Some(a), Some(b), Some(c)) => {
                    prop_assert!(rel_close(a + b + c, r.delta_revenue.units()), "{:?}", r);
                    prop_assert!(r.status != ChangeStatus::NotDecomposable);
                }
                _ => prop_assert_eq!(r.status, ChangeStatus::NotDecomposable),
            }
            for x in [r.frequency_0, r.frequency_1, r.aov_0, r.aov_1, r.effect_customers].into_iter().flatten() {
                prop_assert!(x.is_finite());
            }
        }
        for m in ch.margin.iter().chain(ch.margin_total.iter()) {
            if let (Some(v), Some(x), Some(q)) = (m.volume_effect, m.mix_effect, m.rate_effect) {
                prop_assert!(rel_close(v + x + q, m.delta_margin.units()), "{:?}", m);
            } else {
                prop_assert_eq!(m.status, ChangeStatus::NotDecomposable);
            }
        }
        // The members' margin changes add up to the total's.
        let members: i64 = ch.margin.iter().map(|m| m.delta_margin.cents()).sum();
        prop_assert_eq!(members, ch.margin_total.as_ref().unwrap().delta_margin.cents());
    }
}

/// A small file whose numbers are worked out by hand below.
fn small() -> Dataset {
    let text = format!(
        "{HEADER}\n\
         o1,1,A,2023-02-01,web,north,books,b1,1,100.00,60.00\n\
         o2,1,B,2023-03-01,web,north,books,b2,2,100.00,60.00\n\
         o3,1,A,2024-02-01,store,south,books,b1,1,150.00,90.00\n\
         o4,1,A,2024-03-01,web,north,books,b1,1,150.00,120.00\n\
         o4,2,A,2024-03-01,web,north,games,g1,1,50.00,10.00\n\
         o5,1,C,2023-06-01,phone,south,music,m1,1,40.00,20.00\n"
    );
    read(&text)
}

#[test]
fn orders_split_across_a_day_are_counted_once() {
    // Customer A's orders o1 and o2 on one day, their lines interleaved: the sorting path.
    let text = format!(
        "{HEADER}\no1,1,A,2023-01-01,web,n,c,p,1,1.00,0.50\no2,1,A,2023-01-01,web,n,c,p,1,2.00,0.50\n\
         o1,2,A,2023-01-01,web,n,c,p,1,3.00,0.50\no3,1,B,2023-01-01,web,n,c,p,1,4.00,0.50\n"
    );
    let data = read(&text);
    let cube = CubeOptions::new()
        .dims([Dim::Channel])
        .compute(&data.view(&Scope::all()))
        .unwrap();
    let web = cube.cell(&[Some("web")]).unwrap();
    assert_eq!((web.lines, web.orders, web.customers), (4, 3, 2));
    assert_eq!(web.revenue.cents(), 1000);
}

#[test]
fn hand_worked_decomposition() {
    // Books: 2023 revenue 200 (2 customers, 2 orders), 2024 300 (1 customer, 2 orders).
    // L(300, 200) = 100 / ln 1.5; effects: customers L·ln(1/2), frequency L·ln(2/1),
    // order value L·ln(150/100) = 100 − 0 (the first two cancel).
    let data = small();
    let ch = ChangeOptions::new(Window::year(2023), Window::year(2024))
        .by(Dim::Category)
        .compute(&data.view(&Scope::all()))
        .unwrap();
    let books = &ch.revenue[0];
    assert_eq!(books.member.as_deref(), Some("books"));
    let l = 100.0 / 1.5f64.ln();
    assert!((books.effect_customers.unwrap() - l * 0.5f64.ln()).abs() < 1e-9);
    assert!((books.effect_frequency.unwrap() - l * 2f64.ln()).abs() < 1e-9);
    assert!((books.effect_aov.unwrap() - 100.0).abs() < 1e-9);
    // Games entered (50 in 2024), music left (40 in 2023): the customers effect is all.
    let games = &ch.revenue[1];
    assert_eq!(games.status, ChangeStatus::Entered);
    assert_eq!(
        (games.effect_customers, games.frequency_0),
        (Some(50.0), None)
    );
    let music = &ch.revenue[2];
    assert_eq!(music.status, ChangeStatus::Left);
    assert_eq!(music.effect_customers, Some(-40.0));
    // Margin: totals R0 = 240, R1 = 350. Books: s0 = 200/240, q0 = 80/200 = 0.4,
    // s1 = 300/350, q1 = 120/300 = 0.4 (150−90 + 150−120 = 90... see below).
    // Books margin 2023: 40 + 40 = 80; 2024: 60 + 30 = 90; q1 = 90/300 = 0.3.
    let m = &ch.margin[0];
    let (r0, r1) = (240.0, 350.0);
    let (s0, s1, q0, q1) = (200.0 / r0, 300.0 / r1, 0.4, 0.3);
    assert!((m.volume_effect.unwrap() - (r1 - r0) * s0 * q0).abs() < 1e-9);
    assert!((m.mix_effect.unwrap() - r1 * (s1 - s0) * q0).abs() < 1e-9);
    assert!((m.rate_effect.unwrap() - r1 * s1 * (q1 - q0)).abs() < 1e-9);
    assert_eq!(m.delta_margin.cents(), 1000);
    // Games entered: all mix (its margin 40); music left: −20, volume + mix.
    let g = &ch.margin[1];
    assert_eq!(
        (g.volume_effect, g.mix_effect, g.rate_effect),
        (Some(0.0), Some(40.0), Some(0.0))
    );
    let mu = &ch.margin[2];
    assert!((mu.volume_effect.unwrap() + mu.mix_effect.unwrap() + 20.0).abs() < 1e-9);
    // Totals: revenue 240 → 350, margin 100 → 130.
    assert_eq!(ch.revenue_total.delta_revenue.cents(), 11_000);
    assert_eq!(
        ch.margin_total.as_ref().unwrap().delta_margin.cents(),
        3_000
    );
}

#[test]
fn drill_down_top_and_contents() {
    let data = small();
    let view = data.view(&Scope::all());
    let opts = CubeOptions::new().dims([Dim::Category, Dim::Channel]);
    let cube = opts.compute(&view).unwrap();
    // Books across channels: web 350 (o1, o2, o4 line 1), store 150.
    let books = cube.cell(&[Some("books"), None]).unwrap();
    assert_eq!((books.lines, books.orders, books.customers), (4, 4, 2));
    let top = cube.top(0b11, 0, Measure::Revenue, 2).unwrap();
    assert_eq!(top.len(), 1);
    assert_eq!(
        top[0].members,
        vec![("books".to_string(), 500.0), ("games".to_string(), 50.0)]
    );
    // Drill from books into products.
    let drill = opts.drill(&cube, books, Dim::Product).unwrap();
    let down = drill.compute(&view).unwrap();
    assert_eq!(down.dims, ["category", "product"]);
    let b1 = down.cell(&[Some("books"), Some("b1")]).unwrap();
    assert_eq!(b1.revenue.cents(), 40_000);
    assert_eq!(
        down.cell(&[Some("books"), None]).unwrap().revenue.cents(),
        50_000
    );
    assert!(down.cells.iter().all(|c| down.label(c, 0) == Some("books")));
    // The customers and products of books × web.
    let web_books = cube.cell(&[Some("books"), Some("web")]).unwrap();
    let contents = opts.cell_contents(&view, &cube, web_books).unwrap();
    assert_eq!(contents.customers.ids().collect::<Vec<_>>(), ["A", "B"]);
    assert_eq!(
        contents
            .customer_revenue
            .iter()
            .map(|m| m.cents())
            .collect::<Vec<_>>(),
        [25_000, 10_000]
    );
    assert_eq!(contents.products.len(), 2);
    // Explicit sets and ROLLUP.
    let rollup = CubeOptions::new()
        .dims([Dim::Period(Grain::Year), Dim::Period(Grain::QuarterOfYear)])
        .sets(GroupingSets::Rollup)
        .compute(&view)
        .unwrap();
    assert_eq!(rollup.sets, [0b00, 0b01, 0b11]);
    let q1_2024 = rollup.cell(&[Some("2024"), Some("1")]).unwrap();
    assert_eq!(q1_2024.revenue.cents(), 35_000);
}

#[test]
fn fiscal_quarters_and_weeks_label_periods() {
    let data = small();
    let view = data.view(&Scope::all());
    let cal = acrm::time::FiscalCalendar::new(4, 1, chrono::Weekday::Mon).unwrap();
    let cube = CubeOptions::new()
        .dims([Dim::Period(Grain::FiscalQuarter(cal))])
        .sets(GroupingSets::Finest)
        .compute(&view)
        .unwrap();
    // FY2022 starts Mon 2022-04-04: Feb and Mar 2023 are its Q4; FY2023 starts
    // 2023-04-03, so 2023-06-01 is in its Q1; FY2023's Q4 holds Feb and Mar 2024.
    let labels: Vec<&str> = cube
        .cells
        .iter()
        .map(|c| cube.label(c, 0).unwrap())
        .collect();
    assert_eq!(labels, ["FY2022-Q4", "FY2023-Q1", "FY2023-Q4"]);
    // Members are every period of the range, with or without lines.
    assert_eq!(cube.members[0].len(), 5);
    let weeks = CubeOptions::new()
        .dims([Dim::Period(Grain::IsoWeek)])
        .sets(GroupingSets::Finest)
        .compute(&view)
        .unwrap();
    assert_eq!(weeks.members[0][0], "2023-W05");
}

#[test]
fn typed_errors() {
    let data = small();
    let cube = CubeOptions::new().dims([Dim::Category]);
    let hidden = Scope::all().hide(ColumnSet::parse_list("cost").unwrap());
    assert!(matches!(
        cube.compute(&data.view(&hidden)),
        Err(Error::HiddenColumn {
            column: Column::Cost,
            ..
        })
    ));
    // Without costs, a scope that hides them can still have revenue.
    assert!(cube
        .clone()
        .costs(false)
        .compute(&data.view(&hidden))
        .is_ok());
    let no_product = Scope::all().hide(ColumnSet::parse_list("product").unwrap());
    assert!(matches!(
        cube.clone().costs(false).compute(&data.view(&no_product)),
        Err(Error::HiddenColumn {
            column: Column::Product,
            ..
        })
    ));
    let mut areas = AreaSet::default();
    areas.insert(Area::Performance);
    assert!(matches!(
        cube.compute(&data.view(&Scope::all().forbid(areas))),
        Err(Error::ForbiddenArea {
            area: Area::Performance,
            ..
        })
    ));
    let filtered = cube.clone().filter(Dim::Channel, [Some("fax")]);
    assert!(matches!(
        filtered.compute(&data.view(&Scope::all())),
        Err(Error::UnknownId { kind, id }) if kind == "channel" && id == "fax"
    ));
    assert!(matches!(
        CubeOptions::new()
            .dims([Dim::Region, Dim::Region])
            .validate(),
        Err(Error::InvalidOption { option: "dims", .. })
    ));
    let overlapping = Dim::Windows(vec![
        Window::year(2023),
        Window::new("x", date(300), date(400)),
    ]);
    assert!(CubeOptions::new().dims([overlapping]).validate().is_err());
    // An order under two customers would be counted twice: refused.
    let shared = read(&format!(
        "{HEADER}\no1,1,A,2023-01-01,web,n,c,p,1,1.00,0.50\no1,2,B,2023-01-01,web,n,c,p,1,1.00,0.50\n"
    ));
    assert!(matches!(
        cube.compute(&shared.view(&Scope::all())),
        Err(Error::BadValue { field, .. }) if field == "order_id"
    ));
    // Margins need costs.
    let no_cost = CsvOptions::new()
        .read_bytes(b"customer_id,date,amount\nA,2023-01-01,5\nA,2024-01-01,6\n")
        .unwrap()
        .dataset;
    let change = ChangeOptions::new(Window::year(2023), Window::year(2024));
    assert!(matches!(
        change.compute(&no_cost.view(&Scope::all())),
        Err(Error::MissingColumn { column, .. }) if column == "cost"
    ));
    let ok = change
        .margin(false)
        .compute(&no_cost.view(&Scope::all()))
        .unwrap();
    assert_eq!(ok.revenue_total.delta_revenue.cents(), 100);
}

#[test]
fn a_product_with_two_categories_is_refused_with_its_line() {
    let text = format!(
        "{HEADER}\no1,1,A,2023-01-01,web,n,books,p1,1,1.00,0.50\n\
         o2,1,B,2023-01-02,web,n,games,p1,1,1.00,0.50\n"
    );
    let err = CsvOptions::new()
        .date("order_date")
        .product("product")
        .category("category")
        .read_bytes(text.as_bytes())
        .unwrap_err();
    match err {
        Error::Row(e) => {
            assert_eq!(
                (e.line, e.field.as_str(), e.value.as_str()),
                (3, "category", "games")
            );
        }
        e => panic!("{e}"),
    }
    // A category without products to describe is a missing product column.
    let err = CsvOptions::new()
        .date("order_date")
        .detect_optional_columns(false)
        .category("category")
        .read_bytes(text.as_bytes())
        .unwrap_err();
    assert!(matches!(err, Error::MissingColumn { column, .. } if column == "product_id"));
}

/// The four tables of the `cube` example's contract on tests/data/performance/orders.csv
/// against DuckDB 2.0.1 (tests/data/performance/reference.py wrote reference.json: the
/// SQL aggregates exactly, as DECIMAL(18,2) money; LMDI and volume/mix/rate computed in
/// Python floats from them). Counts and money must be equal; effects to 1e-9 relative.
#[test]
fn four_tables_match_duckdb() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/performance");
    let text = std::fs::read_to_string(format!("{dir}/orders.csv")).unwrap();
    let reference: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{dir}/reference.json")).unwrap())
            .unwrap();
    let data = read(&text);
    let view = data.view(&Scope::all());
    let text_of = |v: &serde_json::Value| match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    let check_cube = |cube: &Cube, table: &str, names: &[&str]| {
        let rows = reference[table].as_array().unwrap();
        assert_eq!(rows.len(), cube.cells.len(), "{table}");
        for r in rows {
            let members: Vec<Option<String>> = names.iter().map(|n| text_of(&r[*n])).collect();
            let want: Vec<Option<&str>> = members.iter().map(|m| m.as_deref()).collect();
            let c = cube
                .cell(&want)
                .unwrap_or_else(|| panic!("{table}: no cell {want:?}"));
            assert_eq!(c.grouping as u64, r["grouping"].as_u64().unwrap());
            assert_eq!(
                (c.lines, c.orders, c.customers, c.units as i64),
                (
                    r["lines"].as_u64().unwrap(),
                    r["orders"].as_u64().unwrap(),
                    r["customers"].as_u64().unwrap(),
                    r["units"].as_i64().unwrap()
                ),
                "{table} {want:?}"
            );
            assert_eq!(c.revenue.to_string(), r["revenue"].as_str().unwrap());
            assert_eq!(c.cost.unwrap().to_string(), r["cost"].as_str().unwrap());
            assert_eq!(c.margin.unwrap().to_string(), r["margin"].as_str().unwrap());
        }
    };
    let cube = CubeOptions::new()
        .dims([Dim::Category, Dim::Channel, Dim::Region])
        .compute(&view)
        .unwrap();
    check_cube(&cube, "cube", &["category", "channel", "region"]);
    let rollup = CubeOptions::new()
        .dims([
            Dim::Period(Grain::Year),
            Dim::Period(Grain::QuarterOfYear),
            Dim::Period(Grain::MonthOfYear),
        ])
        .sets(GroupingSets::Rollup)
        .compute(&view)
        .unwrap();
    check_cube(&rollup, "rollup", &["year", "quarter", "month"]);

    let ch = ChangeOptions::new(Window::year(2023), Window::year(2024))
        .by(Dim::Category)
        .compute(&view)
        .unwrap();
    let close = |a: Option<f64>, b: &serde_json::Value, what: &str| match (a, b.as_f64()) {
        (None, None) => {}
        (Some(a), Some(b)) => assert!(rel_close(a, b), "{what}: {a} vs {b}"),
        (a, _) => panic!("{what}: {a:?} vs {b}"),
    };
    let status = |s: ChangeStatus| match s {
        ChangeStatus::Both => "both",
        ChangeStatus::Entered => "entered",
        ChangeStatus::Left => "left",
        ChangeStatus::NotDecomposable => "not_decomposable",
    };
    let pop = reference["pop"].as_array().unwrap();
    assert_eq!(pop.len(), ch.revenue.len() + 1);
    for r in pop {
        let want = text_of(&r["category"]);
        let got = match &want {
            None => &ch.revenue_total,
            Some(m) => ch
                .revenue
                .iter()
                .find(|x| x.member.as_ref() == Some(m))
                .unwrap(),
        };
        let what = format!("pop {want:?}");
        assert_eq!(status(got.status), r["status"].as_str().unwrap(), "{what}");
        assert_eq!(got.revenue_0.to_string(), r["revenue_0"].as_str().unwrap());
        assert_eq!(got.revenue_1.to_string(), r["revenue_1"].as_str().unwrap());
        assert_eq!(
            got.delta_revenue.to_string(),
            r["delta_revenue"].as_str().unwrap()
        );
        assert_eq!(
            [got.customers_0, got.customers_1, got.orders_0, got.orders_1],
            ["customers_0", "customers_1", "orders_0", "orders_1"].map(|k| r[k].as_u64().unwrap()),
            "{what}"
        );
        close(got.frequency_0, &r["frequency_0"], &what);
        close(got.frequency_1, &r["frequency_1"], &what);
        close(got.aov_0, &r["aov_0"], &what);
        close(got.aov_1, &r["aov_1"], &what);
        close(got.effect_customers, &r["effect_customers"], &what);
        close(got.effect_frequency, &r["effect_frequency"], &what);
        close(got.effect_aov, &r["effect_aov"], &what);
    }
    let mix = reference["mix_rate"].as_array().unwrap();
    assert_eq!(mix.len(), ch.margin.len() + 1);
    for r in mix {
        let want = text_of(&r["category"]);
        let got = match &want {
            None => ch.margin_total.as_ref().unwrap(),
            Some(m) => ch
                .margin
                .iter()
                .find(|x| x.member.as_ref() == Some(m))
                .unwrap(),
        };
        let what = format!("mix_rate {want:?}");
        assert_eq!(status(got.status), r["status"].as_str().unwrap(), "{what}");
        for (mine, key) in [
            (got.revenue_0, "revenue_0"),
            (got.revenue_1, "revenue_1"),
            (got.margin_0, "margin_0"),
            (got.margin_1, "margin_1"),
            (got.delta_margin, "delta_margin"),
        ] {
            assert_eq!(mine.to_string(), r[key].as_str().unwrap(), "{what} {key}");
        }
        close(got.share_0, &r["share_0"], &what);
        close(got.share_1, &r["share_1"], &what);
        close(got.rate_0, &r["rate_0"], &what);
        close(got.rate_1, &r["rate_1"], &what);
        close(got.volume_effect, &r["volume_effect"], &what);
        close(got.mix_effect, &r["mix_effect"], &what);
        close(got.rate_effect, &r["rate_effect"], &what);
    }
}

/// A cube with more cells than its budget stops before making them, on any thread count.
#[test]
fn cells_past_the_budget_stop_with_advice() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/performance/orders.csv"
    ))
    .unwrap();
    let data = read(&text);
    let view = data.view(&Scope::all());
    let opts = CubeOptions::new().dims([Dim::Product, Dim::Channel, Dim::Region]);
    let n = opts.compute(&view).unwrap().cells.len() as u64;
    assert_eq!(
        opts.clone()
            .max_cells(n)
            .compute(&view)
            .unwrap()
            .cells
            .len() as u64,
        n
    );
    for threads in [1, 2] {
        let err = super::pool(threads)
            .install(|| opts.clone().max_cells(n - 1).compute(&view))
            .unwrap_err();
        assert!(
            matches!(err, acrm::Error::Budget { what: "cube cells", limit, .. } if limit == n - 1),
            "{err}"
        );
    }
}
