//! The sales cube of an order-line file, its calendar rollup, and the change between two
//! years decomposed: the command-line contract of the performance analysis.
//!
//! ```text
//! cargo run --release --example cube -- FILE --compare P0:P1 --json [--out-dir DIR] \
//!     [--dims category,channel,region] [--svg DIR] [--customers C.csv --scope ..]
//! ```
//! FILE has the header
//! `order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost`.
//! `--json` prints one object with four arrays of row objects; `--out-dir` writes the same
//! four tables as `cube.csv`, `rollup.csv`, `pop.csv` and `mix_rate.csv`:
//! - `cube`: `GROUP BY CUBE(dims)`: `grouping`, the dimensions, `lines, orders,
//!   customers, units, revenue, cost, margin`;
//! - `rollup`: `GROUP BY ROLLUP(year, quarter, month)` of the order date, same measures;
//! - `pop`: per category and the total (category null): revenues, customers, orders,
//!   frequency (orders per customer) and aov (revenue per order) of P0 and P1, the revenue
//!   change and its LMDI-I effects (customers, frequency, aov), and `status`;
//! - `mix_rate`: per category and the total: revenues, margins, revenue shares, margin
//!   rates, the margin change and its volume, mix and rate effects, and `status`.
//!
//! Nulls: a rolled-up dimension (and a line without a category) is null in JSON and an
//! empty CSV field; the total rows' `category` is null; a category present in one year
//! only (`status` `entered` or `left`) has null frequency, aov and rate for the year it is
//! absent; `status` `not_decomposable` (revenue ≤ 0 in a year) has null effects; `cost`
//! and `margin` are null when the file has no costs; a revenue share of a year whose
//! total revenue is not positive is null. Money is exact to the cent (two decimals in
//! CSV).

mod common;

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use acrm::data::{Dataset, Money};
use acrm::io::CsvOptions;
use acrm::performance::{
    Cell, ChangeOptions, ChangeStatus, Cube, CubeOptions, Dim, Grain, GroupingSets, MarginChange,
    PeriodChange, RevenueChange, Window,
};
use clap::Parser;
use common::{out, Stop};
use serde_json::{json, Map, Value};

/// The sales cube, its calendar rollup and the decomposed change between two years.
#[derive(Parser, Debug)]
#[command(name = "cube")]
struct Args {
    /// The order-line CSV
    file: String,
    /// The two calendar years to compare, `P0:P1` (e.g. `2023:2024`)
    #[arg(long, value_name = "P0:P1")]
    compare: String,
    /// Print one JSON object with the four tables (otherwise a short text report)
    #[arg(long)]
    json: bool,
    /// Write the four tables as CSV files into DIR
    #[arg(long = "out-dir", value_name = "DIR")]
    out_dir: Option<String>,
    /// Dimensions of the cube (category, product, channel, region, owner, day, week,
    /// month, quarter, year)
    #[arg(long, value_name = "DIMS", default_value = "category,channel,region")]
    dims: String,
    /// Write waterfall charts of the total revenue and margin changes into DIR
    #[arg(long, value_name = "DIR")]
    svg: Option<String>,
    #[command(flatten)]
    scope: common::ScopeArgs,
}

/// One output table: column names and rows of JSON values.
struct Table {
    name: &'static str,
    columns: Vec<String>,
    rows: Vec<Vec<Value>>,
}

/// Columns holding money, written with exactly two decimals in CSV.
const MONEY: [&str; 9] = [
    "revenue",
    "cost",
    "margin",
    "revenue_0",
    "revenue_1",
    "delta_revenue",
    "margin_0",
    "margin_1",
    "delta_margin",
];

impl Table {
    fn json(&self) -> Value {
        Value::Array(
            self.rows
                .iter()
                .map(|r| {
                    let m: Map<String, Value> = self
                        .columns
                        .iter()
                        .cloned()
                        .zip(r.iter().cloned())
                        .collect();
                    Value::Object(m)
                })
                .collect(),
        )
    }

    fn write_csv(&self, dir: &str) -> Result<(), String> {
        let path = format!("{dir}/{}.csv", self.name);
        let io = |e: std::io::Error| format!("{path}: {e}");
        let mut w = std::io::BufWriter::new(File::create(&path).map_err(io)?);
        writeln!(w, "{}", self.columns.join(",")).map_err(io)?;
        for r in &self.rows {
            let mut line = String::new();
            for (i, v) in r.iter().enumerate() {
                if i > 0 {
                    line.push(',');
                }
                let is_money = MONEY.contains(&self.columns[i].as_str());
                match v {
                    Value::Null => {}
                    // The nearest double to a whole number of cents prints back exactly.
                    Value::Number(n) if is_money => {
                        let _ = write!(line, "{:.2}", n.as_f64().unwrap_or(f64::NAN));
                    }
                    Value::String(s) if s.contains([',', '"', '\n']) => {
                        let _ = write!(line, "\"{}\"", s.replace('"', "\"\""));
                    }
                    Value::String(s) => line.push_str(s),
                    other => {
                        let _ = write!(line, "{other}");
                    }
                }
            }
            writeln!(w, "{line}").map_err(io)?;
        }
        w.flush().map_err(io)
    }
}

/// Money as an exact decimal: a JSON number with at most two decimals. In CSV files the
/// number is written with exactly two (see [`money_csv`]).
fn money(m: Money) -> Value {
    json!(m.units())
}

const MEASURES: [&str; 7] = [
    "lines",
    "orders",
    "customers",
    "units",
    "revenue",
    "cost",
    "margin",
];

/// Units as an integer when they are whole (as SQL sums an integer column).
fn units(u: f64) -> Value {
    if u.fract() == 0.0 && u.abs() < 9e15 {
        json!(u as i64)
    } else {
        json!(u)
    }
}

fn measures(c: &Cell) -> Vec<Value> {
    vec![
        json!(c.lines),
        json!(c.orders),
        json!(c.customers),
        units(c.units),
        money(c.revenue),
        c.cost.map_or(Value::Null, money),
        c.margin.map_or(Value::Null, money),
    ]
}

fn cube_table(name: &'static str, cube: &Cube, numeric: bool) -> Table {
    let mut columns = vec!["grouping".to_string()];
    columns.extend(cube.dims.iter().cloned());
    columns.extend(MEASURES.iter().map(|s| s.to_string()));
    let rows = cube
        .cells
        .iter()
        .map(|c| {
            let mut r = vec![json!(c.grouping)];
            for d in 0..cube.dims.len() {
                r.push(match cube.label(c, d) {
                    None => Value::Null,
                    Some(l) if numeric => l.parse::<i64>().map_or_else(|_| json!(l), |n| json!(n)),
                    Some(l) => json!(l),
                });
            }
            r.extend(measures(c));
            r
        })
        .collect();
    Table {
        name,
        columns,
        rows,
    }
}

fn opt(x: Option<f64>) -> Value {
    x.map_or(Value::Null, |v| json!(v))
}

fn status(s: ChangeStatus) -> Value {
    json!(match s {
        ChangeStatus::Both => "both",
        ChangeStatus::Entered => "entered",
        ChangeStatus::Left => "left",
        ChangeStatus::NotDecomposable => "not_decomposable",
    })
}

fn pop_table(ch: &PeriodChange) -> Table {
    let columns = [
        "category",
        "revenue_0",
        "revenue_1",
        "customers_0",
        "customers_1",
        "orders_0",
        "orders_1",
        "frequency_0",
        "frequency_1",
        "aov_0",
        "aov_1",
        "delta_revenue",
        "effect_customers",
        "effect_frequency",
        "effect_aov",
        "status",
    ];
    let row = |r: &RevenueChange| {
        vec![
            r.member.as_ref().map_or(Value::Null, |m| json!(m)),
            money(r.revenue_0),
            money(r.revenue_1),
            json!(r.customers_0),
            json!(r.customers_1),
            json!(r.orders_0),
            json!(r.orders_1),
            opt(r.frequency_0),
            opt(r.frequency_1),
            opt(r.aov_0),
            opt(r.aov_1),
            money(r.delta_revenue),
            opt(r.effect_customers),
            opt(r.effect_frequency),
            opt(r.effect_aov),
            status(r.status),
        ]
    };
    Table {
        name: "pop",
        columns: columns.iter().map(|s| s.to_string()).collect(),
        rows: ch
            .revenue
            .iter()
            .chain([&ch.revenue_total])
            .map(row)
            .collect(),
    }
}

fn mix_rate_table(ch: &PeriodChange) -> Table {
    let columns = [
        "category",
        "revenue_0",
        "revenue_1",
        "margin_0",
        "margin_1",
        "share_0",
        "share_1",
        "rate_0",
        "rate_1",
        "delta_margin",
        "volume_effect",
        "mix_effect",
        "rate_effect",
        "status",
    ];
    let row = |r: &MarginChange| {
        vec![
            r.member.as_ref().map_or(Value::Null, |m| json!(m)),
            money(r.revenue_0),
            money(r.revenue_1),
            money(r.margin_0),
            money(r.margin_1),
            opt(r.share_0),
            opt(r.share_1),
            opt(r.rate_0),
            opt(r.rate_1),
            money(r.delta_margin),
            opt(r.volume_effect),
            opt(r.mix_effect),
            opt(r.rate_effect),
            status(r.status),
        ]
    };
    Table {
        name: "mix_rate",
        columns: columns.iter().map(|s| s.to_string()).collect(),
        rows: ch
            .margin
            .iter()
            .chain(ch.margin_total.iter())
            .map(row)
            .collect(),
    }
}

/// A waterfall chart: the start bar, one floating bar per effect, the end bar.
fn waterfall(title: &str, start: (&str, f64), effects: &[(&str, f64)], end: (&str, f64)) -> String {
    let (w, h, pad, top) = (640.0, 360.0, 60.0, 40.0);
    let mut level = start.1;
    let mut bars = vec![(start.0, 0.0, start.1, "#4c72b0")];
    for &(name, e) in effects {
        let colour = if e >= 0.0 { "#55a868" } else { "#c44e52" };
        bars.push((name, level, level + e, colour));
        level += e;
    }
    bars.push((end.0, 0.0, end.1, "#4c72b0"));
    let hi = bars.iter().map(|b| b.1.max(b.2)).fold(0.0, f64::max);
    let lo = bars.iter().map(|b| b.1.min(b.2)).fold(0.0, f64::min);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let y = |v: f64| top + (hi - v) / span * (h - top - pad);
    let bw = (w - 2.0 * pad) / bars.len() as f64;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <text x=\"{}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{title}</text>\n\
         <line x1=\"{pad}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#888\"/>\n",
        w / 2.0,
        w - pad,
        y(0.0),
        y(0.0)
    );
    for (i, (name, a, b, colour)) in bars.iter().enumerate() {
        let x = pad + i as f64 * bw + bw * 0.15;
        let (y0, y1) = (y(a.max(*b)), y(a.min(*b)));
        let _ = writeln!(
            s,
            "<rect x=\"{x:.1}\" y=\"{y0:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{name}</text>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{:.0}</text>",
            bw * 0.7,
            (y1 - y0).max(1.0),
            x + bw * 0.35,
            h - pad + 18.0,
            x + bw * 0.35,
            y0 - 4.0,
            b - a
        );
    }
    s.push_str("</svg>\n");
    s
}

fn svgs(dir: &str, ch: &PeriodChange) -> Result<(), String> {
    let [p0, p1] = &ch.periods;
    let r = &ch.revenue_total;
    let mut files = Vec::new();
    if let (Some(c), Some(f), Some(a)) = (r.effect_customers, r.effect_frequency, r.effect_aov) {
        files.push((
            "revenue_waterfall.svg",
            waterfall(
                &format!("Revenue {p0} → {p1}: customers × frequency × order value (LMDI-I)"),
                (p0, r.revenue_0.units()),
                &[("customers", c), ("frequency", f), ("order value", a)],
                (p1, r.revenue_1.units()),
            ),
        ));
    }
    // The members' effects summed (they add up to the total's change, and unlike the
    // total's own split, whose shares are all 1, they show the mix).
    let sum =
        |f: fn(&MarginChange) -> Option<f64>| -> Option<f64> { ch.margin.iter().map(f).sum() };
    if let (Some(m), Some(v), Some(x), Some(q)) = (
        &ch.margin_total,
        sum(|m| m.volume_effect),
        sum(|m| m.mix_effect),
        sum(|m| m.rate_effect),
    ) {
        files.push((
            "margin_waterfall.svg",
            waterfall(
                &format!("Margin {p0} → {p1}: volume, mix and rate (sum over categories)"),
                (p0, m.margin_0.units()),
                &[("volume", v), ("mix", x), ("rate", q)],
                (p1, m.margin_1.units()),
            ),
        ));
    }
    for (name, svg) in files {
        let path = format!("{dir}/{name}");
        std::fs::write(&path, svg).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}

fn years(s: &str) -> Result<(i32, i32), Stop> {
    let bad = || {
        Stop::usage(format!(
            "--compare {s:?}: expected two calendar years P0:P1, e.g. 2023:2024"
        ))
    };
    let (a, b) = s.split_once(':').ok_or_else(bad)?;
    let a: i32 = a.trim().parse().map_err(|_| bad())?;
    let b: i32 = b.trim().parse().map_err(|_| bad())?;
    if a == b {
        return Err(Stop::usage(format!(
            "--compare {s:?}: the two years must differ"
        )));
    }
    Ok((a, b))
}

fn run(args: &Args) -> Result<Value, Stop> {
    let (y0, y1) = years(&args.compare)?;
    let dims: Vec<Dim> = args
        .dims
        .split(',')
        .map(Dim::parse)
        .collect::<Result<_, _>>()
        .map_err(|e| Stop::usage(format!("--dims: {e}")))?;
    let t = Instant::now();
    let opts = CsvOptions::order_lines();
    let file = File::open(&args.file).map_err(|e| format!("{}: {e}", args.file))?;
    let mut loaded = opts
        .read_from(Dataset::builder(), file)
        .map_err(|e| format!("{}: {e}", args.file))?;
    let load_ms = t.elapsed().as_secs_f64() * 1e3;
    let scope = args.scope.resolve(&mut loaded.dataset, false)?;
    let view = loaded.dataset.view(&scope);
    let err = |e: acrm::Error| format!("{}: {e}", args.file);

    let t = Instant::now();
    let cube = CubeOptions::new()
        .dims(dims)
        .sets(GroupingSets::Cube)
        .compute(&view)
        .map_err(err)?;
    let cube_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let rollup = CubeOptions::new()
        .dims([
            Dim::Period(Grain::Year),
            Dim::Period(Grain::QuarterOfYear),
            Dim::Period(Grain::MonthOfYear),
        ])
        .sets(GroupingSets::Rollup)
        .compute(&view)
        .map_err(err)?;
    let rollup_ms = t.elapsed().as_secs_f64() * 1e3;
    let t = Instant::now();
    let change = ChangeOptions::new(Window::year(y0), Window::year(y1))
        .by(Dim::Category)
        .compute(&view)
        .map_err(err)?;
    let change_ms = t.elapsed().as_secs_f64() * 1e3;

    let mut rollup_table = cube_table("rollup", &rollup, true);
    rollup_table.columns[1..4].clone_from_slice(&["year".into(), "quarter".into(), "month".into()]);
    let tables = [
        cube_table("cube", &cube, false),
        rollup_table,
        pop_table(&change),
        mix_rate_table(&change),
    ];
    if let Some(dir) = &args.out_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
        for t in &tables {
            t.write_csv(dir)?;
        }
    }
    if let Some(dir) = &args.svg {
        std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
        svgs(dir, &change)?;
    }
    let mut v = json!({});
    for t in &tables {
        v[t.name] = t.json();
    }
    v["lines"] = json!(cube.report.lines_used);
    v["rounded_to_cent"] = json!(cube.report.rounded_to_cent);
    v["load_ms"] = json!(load_ms);
    v["cube_ms"] = json!(cube_ms);
    v["rollup_ms"] = json!(rollup_ms);
    v["change_ms"] = json!(change_ms);
    if args.scope.given() {
        v["scope"] = common::scope_json(&view);
    }
    Ok(v)
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(v) => {
            let out = if args.json {
                format!("{v}\n")
            } else {
                let mut s = String::new();
                for key in ["lines", "load_ms", "cube_ms", "rollup_ms", "change_ms"] {
                    let _ = writeln!(s, "{key:>10}: {}", v[key]);
                }
                if let Some(total) = v["pop"].as_array().and_then(|a| a.last()) {
                    let _ = writeln!(s, "{:>10}: {total}", "change");
                }
                s
            };
            // A closed pipe (`| head`) ends the output quietly.
            out!("{out}");
            ExitCode::SUCCESS
        }
        Err(stop) => stop.report(),
    }
}
