//! The order-line generator (`acrm::synth::OrderLineSynth`): determinism, the CSV format,
//! consistency within orders, and the changes it plants between the years.
//!
//! The thresholds of the planted effects follow from the generator's documented parameters
//! (its type documentation, "Planted changes"), with room for sampling noise at the sizes
//! used here (tens of thousands of customers, fixed seeds, so the outcome is deterministic).

use std::collections::HashMap;

use acrm::synth::{OrderLine, OrderLineSynth, OrderLines, ORDER_LINES_HEADER};
use acrm::Error;
use chrono::Datelike;

fn csv(s: &OrderLineSynth) -> Vec<u8> {
    let mut out = Vec::new();
    s.write_csv(&mut out).unwrap();
    out
}

#[test]
fn same_seed_same_bytes_for_any_thread_count() {
    // 70,000 customers span 69 parallel chunks of 1,024 and two of the streaming writer's
    // batches of 65,536.
    let s = OrderLineSynth::new().customers(70_000).seed(11);
    let one = crate::pool(1).install(|| csv(&s));
    let two = crate::pool(2).install(|| csv(&s));
    assert!(one == two, "1 and 2 threads wrote different bytes");
    assert!(csv(&s) == one, "a second run wrote different bytes");
    // The in-memory lines write the same bytes as the streaming writer.
    let mut mem = Vec::new();
    crate::pool(2)
        .install(|| s.generate())
        .unwrap()
        .write_csv(&mut mem)
        .unwrap();
    assert!(mem == one, "generate + write_csv differs from write_csv");
    assert!(
        csv(&s.clone().seed(12)) != one,
        "another seed wrote the same bytes"
    );
}

#[test]
fn committed_sample_is_reproducible() {
    // tests/data/performance/orders.csv was written by
    // `synthesize --kind orders --lines 20000 --seed 42` (see the README there).
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/performance/orders.csv"
    );
    let committed = std::fs::read(path).unwrap();
    let s = OrderLineSynth::new().lines(20_000).seed(42);
    assert!(
        csv(&s) == committed,
        "the committed sample differs from the generator's output"
    );
}

/// The fields of one CSV row.
struct Row<'a> {
    order: u64,
    line_no: u32,
    customer: &'a str,
    date: &'a str,
    channel: &'a str,
    region: &'a str,
    quantity: i64,
    amount: i64,
    cost: i64,
}

/// Cents of a money field, which must have exactly two decimals.
fn cents(field: &str) -> i64 {
    let (whole, frac) = field.split_once('.').expect("a decimal point");
    let digits = whole.strip_prefix('-').unwrap_or(whole);
    assert!(
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()),
        "{field}"
    );
    assert!(
        frac.len() == 2 && frac.bytes().all(|b| b.is_ascii_digit()),
        "{field}"
    );
    assert!(digits == "0" || !digits.starts_with('0'), "{field}");
    let v: i64 = format!("{digits}{frac}").parse().unwrap();
    if whole.starts_with('-') {
        -v
    } else {
        v
    }
}

fn parse(line: &str) -> Row<'_> {
    let f: Vec<&str> = line.split(',').collect();
    assert_eq!(f.len(), 11, "{line}");
    Row {
        order: f[0].parse().unwrap(),
        line_no: f[1].parse().unwrap(),
        customer: f[2],
        date: f[3],
        channel: f[4],
        region: f[5],
        quantity: f[8].parse().unwrap(),
        amount: cents(f[9]),
        cost: cents(f[10]),
    }
}

#[test]
fn csv_format_and_orders_are_consistent() {
    let s = OrderLineSynth::new().customers(5_000).seed(3);
    let bytes = csv(&s);
    let text = std::str::from_utf8(&bytes).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost")
    );
    assert_eq!(
        ORDER_LINES_HEADER,
        "order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost"
    );
    let mem = s.generate().unwrap();
    let (mut prev_order, mut prev_line) = (0, 0);
    let mut orders: HashMap<u64, (&str, &str, &str, &str)> = HashMap::new();
    let mut net: HashMap<u64, i64> = HashMap::new();
    let mut n = 0;
    for (line, typed) in lines.zip(&mem.lines) {
        let r = parse(line);
        // Dates are YYYY-MM-DD in 2023 or 2024.
        assert!(
            chrono::NaiveDate::parse_from_str(r.date, "%Y-%m-%d")
                .is_ok_and(|d| (2023..=2024).contains(&d.year()) && r.date.len() == 10),
            "{line}"
        );
        // Order ids run 1, 2, 3, ...; lines 1, 2, ... within an order.
        if r.order == prev_order {
            assert_eq!(r.line_no, prev_line + 1, "{line}");
        } else {
            assert_eq!((r.order, r.line_no), (prev_order + 1, 1), "{line}");
        }
        (prev_order, prev_line) = (r.order, r.line_no);
        // Every line of an order has the order's customer, date, channel and region.
        let key = (r.customer, r.date, r.channel, r.region);
        assert_eq!(*orders.entry(r.order).or_insert(key), key, "{line}");
        // Returns: negative quantity, amount and cost together.
        assert_ne!(r.quantity, 0);
        if r.quantity < 0 {
            assert!(r.amount < 0 && r.cost < 0, "{line}");
        } else {
            assert!(r.amount > 0 && r.cost > 0, "{line}");
        }
        *net.entry(r.order).or_default() += r.amount;
        // The text is the typed line, to the cent.
        assert_eq!(
            (r.order, r.quantity, r.amount, r.cost),
            (
                typed.order,
                i64::from(typed.quantity),
                typed.amount_cents,
                typed.cost_cents
            )
        );
        assert_eq!(r.customer, mem.names.customer_id(typed.customer));
        n += 1;
    }
    assert_eq!(n, mem.lines.len());
    assert_eq!(orders.len() as u64, mem.orders());
    // Returns are booked on the order they undo: no order is worth less than nothing.
    assert!(net.values().all(|&v| v >= 0));
}

#[test]
fn line_target_is_met_approximately() {
    for target in [20_000u64, 200_000] {
        let s = OrderLineSynth::new().lines(target).seed(5);
        let n = s.generate().unwrap().lines.len() as f64;
        // Expected lines per customer are exact; the count varies by a few percent at most.
        assert!(
            (n / target as f64 - 1.0).abs() < 0.05,
            "{n} lines for a target of {target}"
        );
    }
}

/// Per-year totals of the lines of one year that pass a filter.
#[derive(Default)]
struct Year {
    revenue: i64,
    cost: i64,
    lines: usize,
    returns: usize,
    customers: std::collections::HashSet<u32>,
    orders: std::collections::HashSet<u64>,
}

fn year_totals(g: &OrderLines, year: i32, keep: impl Fn(&OrderLine) -> bool) -> Year {
    let mut y = Year::default();
    for l in g.lines.iter().filter(|l| l.date.year() == year && keep(l)) {
        y.revenue += l.amount_cents;
        y.cost += l.cost_cents;
        y.lines += 1;
        y.returns += usize::from(l.quantity < 0);
        y.customers.insert(l.customer);
        y.orders.insert(l.order);
    }
    y
}

#[test]
fn planted_changes_are_present() {
    let s = OrderLineSynth::new().customers(40_000).seed(2024);
    let g = s.generate().unwrap();
    let p = s.planted();
    assert_eq!((p.first_year, p.last_year), (2023, 2024));
    assert_eq!(
        (
            p.rising_category.as_str(),
            p.margin_category.as_str(),
            p.left_category.as_str(),
            p.entered_category.as_str(),
            p.entered_region.as_str()
        ),
        ("cat02", "cat03", "cat07", "cat08", "central")
    );
    let idx = |names: &[String], name: &str| names.iter().position(|n| n == name).unwrap() as u32;
    let cat = |name: &str| idx(&g.names.categories, name);
    let (y0, y1) = (2023, 2024);
    let all0 = year_totals(&g, y0, |_| true);
    let all1 = year_totals(&g, y1, |_| true);

    // More customers buy in the last year (activity 60% -> 66% and a region that enters).
    let growth = all1.customers.len() as f64 / all0.customers.len() as f64;
    assert!(growth > 1.15 && growth < 1.45, "customers x{growth}");
    // Orders per customer up a little (repeat rate x1.1: 3.0 -> 3.2 per active customer).
    let freq = |y: &Year| y.orders.len() as f64 / y.customers.len() as f64;
    let f = freq(&all1) / freq(&all0);
    assert!(f > 1.03 && f < 1.12, "frequency x{f}");
    // Average order value up a little (prices +4%).
    let aov = |y: &Year| y.revenue as f64 / y.orders.len() as f64;
    let a = aov(&all1) / aov(&all0);
    assert!(a > 1.0 && a < 1.12, "average order value x{a}");

    // The rising category's revenue share rises strongly.
    let rising = cat(&p.rising_category);
    let share = |y, total: &Year| {
        year_totals(&g, y, |l| l.category == rising).revenue as f64 / total.revenue as f64
    };
    let (s0, s1) = (share(y0, &all0), share(y1, &all1));
    assert!(s1 > 1.5 * s0, "rising share {s0} -> {s1}");

    // The margin category's margin rate falls by about 12 points; the others' barely move.
    let rate = |y: &Year| 1.0 - y.cost as f64 / y.revenue as f64;
    for (k, name) in g.names.categories.iter().enumerate() {
        let k = k as u32;
        let (a, b) = (
            year_totals(&g, y0, |l| l.category == k),
            year_totals(&g, y1, |l| l.category == k),
        );
        if *name == p.left_category {
            assert!(a.lines > 0 && b.lines == 0, "{name} leaves");
        } else if *name == p.entered_category {
            assert!(a.lines == 0 && b.lines > 0, "{name} enters");
        } else if *name == p.margin_category {
            let drop = rate(&a) - rate(&b);
            assert!(
                drop > 0.08 && drop < 0.16,
                "{name}: margin rate falls by {drop}"
            );
        } else {
            let change = (rate(&b) - rate(&a)).abs();
            assert!(change < 0.02, "{name}: margin rate moves by {change}");
        }
    }

    // The entered region has customers only in the last year.
    let central = idx(&g.names.regions, &p.entered_region) as u16;
    assert_eq!(year_totals(&g, y0, |l| l.region == central).lines, 0);
    assert!(year_totals(&g, y1, |l| l.region == central).lines > 0);

    // About 2% of sale lines are followed by a return.
    let ret = (all0.returns + all1.returns) as f64;
    let sales = (all0.lines + all1.lines) as f64 - ret;
    assert!(
        (ret / sales - 0.02).abs() < 0.003,
        "returns {ret} of {sales}"
    );
}

#[test]
fn invalid_settings_name_the_option() {
    let option_of = |s: OrderLineSynth| match s.generate() {
        Err(Error::InvalidOption { option, .. }) => option,
        Err(e) => panic!("expected an invalid option, got {e:?}"),
        Ok(_) => panic!("expected an invalid option, got data"),
    };
    let base = || OrderLineSynth::new().customers(10);
    assert_eq!(option_of(base().customers(0)), "customers");
    assert_eq!(option_of(base().lines(0)), "lines");
    assert_eq!(option_of(base().years(2023, 1)), "years");
    assert_eq!(option_of(base().years(9999, 2)), "first_year");
    assert_eq!(option_of(base().categories(3, 10)), "categories");
    assert_eq!(option_of(base().categories(8, 0)), "products_per_category");
    assert_eq!(option_of(base().channels_and_regions(0, 5)), "channels");
    assert_eq!(option_of(base().channels_and_regions(3, 1)), "regions");
    assert_eq!(option_of(base().orders_per_year(1.0)), "orders_per_year");
    assert_eq!(
        option_of(base().orders_per_year(f64::NAN)),
        "orders_per_year"
    );
    assert!(base().validate().is_ok());
    // Writing checks the settings too, before writing anything.
    let mut out = Vec::new();
    assert!(base().customers(0).write_csv(&mut out).is_err());
    assert!(out.is_empty());
}

#[test]
fn more_years_names_and_channels() {
    // Three years, 4 channels and 7 regions: the extra names, and the entered category and
    // region only in the last year, the left one absent only there.
    let s = OrderLineSynth::new()
        .customers(3_000)
        .years(2020, 3)
        .categories(12, 3)
        .channels_and_regions(4, 7)
        .seed(9);
    let g = s.generate().unwrap();
    assert_eq!(g.names.channels, ["web", "store", "phone", "channel4"]);
    assert_eq!(g.names.regions[5..], ["region6", "region7"]);
    assert_eq!(g.names.categories[0], "cat01");
    assert_eq!(g.names.products[35], "p0036");
    let p = s.planted();
    assert_eq!(
        (
            p.entered_category.as_str(),
            p.entered_region.as_str(),
            p.last_year
        ),
        ("cat12", "region7", 2022)
    );
    let years = |keep: &dyn Fn(&OrderLine) -> bool| {
        let mut ys: Vec<i32> = g
            .lines
            .iter()
            .filter(|l| keep(l))
            .map(|l| l.date.year())
            .collect();
        ys.sort_unstable();
        ys.dedup();
        ys
    };
    assert_eq!(years(&|l| l.category == 11), [2022]);
    assert_eq!(years(&|l| l.category == 10), [2020, 2021]);
    assert_eq!(years(&|l| l.region == 6), [2022]);
    assert_eq!(years(&|_| true), [2020, 2021, 2022]);
}
