//! Profiling and profitability of a customer base as of a date: RFM segments, net profit
//! with cost to serve, value tiers, the whale curve, behavioural clusters, habits and
//! risk flags.
//!
//! ```text
//! cargo run --release --example profile -- --format cdnow|csv FILE --as-of DATE --json \
//!     [--out customers.csv] [--svg DIR] [--margin M] [--cost-per-order C] [--cost-per-month C]
//! ```
//! `--format cdnow` reads CDNOW_master.txt (tests/data/cdnow); `--format csv` reads
//! `customer_id,date,amount` with the optional columns `cost`, `quantity`, `product_id`,
//! `channel`, `region`, `order_id`.
//!
//! **Cost assumptions.** When the log has a cost column (or products with unit costs) the
//! cost of goods comes from it. Otherwise, as for CDNOW, a gross margin rate is assumed:
//! `--margin` (default 0.30 of revenue). Cost to serve is `--cost-per-order` (default 2.00,
//! fulfilment) plus `--cost-per-month` per customer on the books (default 0.50, mailings),
//! pro rata from the first purchase to the as-of date. The JSON says which applied
//! (`assumptions`).
//!
//! `--json` prints `customers`, `as_of`, `assumptions`, `profit` (totals),
//! `rfm_segments` (name → count), `segment_profit`, `tiers` (name → {count,
//! profit_share}), `clusters` ({k, sizes, silhouette, profiles}), `whale`
//! ({peak_customer_share, peak_profit_pct, unprofitable_share, profit_destroyed}), `habits`,
//! `risk` and `elapsed_ms` (without `--json`, a short text report). When clustering is
//! impossible (too few distinct customers) `clusters` holds `error` and `k` is null.
//! `--out` writes per customer (CSV-quoted)
//! `id,r,f,m,segment,tier,cluster,revenue,gross_margin,cost_to_serve,net_profit`.
//! `--svg DIR` writes `whale.svg` and `rfm_heatmap.svg`.

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::CsvOptions;
use acrm::profiling::{
    ClusterOptions, Features, HabitOptions, RfmOptions, RfmScores, RiskOptions, TierOptions,
};
use acrm::profitability::{whale_curve, CostOfGoods, ProfitOptions, WhaleCurve};
use acrm::{Dataset, Days, SummaryOptions};
use chrono::NaiveDate;
use plotters::prelude::*;
use serde_json::{json, Map, Value};

const USAGE: &str = "usage: profile --format cdnow|csv FILE --as-of YYYY-MM-DD --json \
[--out customers.csv] [--svg DIR] [--margin M] [--cost-per-order C] [--cost-per-month C]";

struct Args {
    format: String,
    file: String,
    as_of: NaiveDate,
    json: bool,
    out: Option<String>,
    svg: Option<String>,
    margin: f64,
    per_order: f64,
    per_month: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let (mut format, mut file, mut as_of, mut json, mut out, mut svg) =
        (None, None, None, false, None, None);
    let (mut margin, mut per_order, mut per_month) = (0.30, 2.0, 0.5);
    let number = |name: &str, v: Option<String>| -> Result<f64, String> {
        let v = v.ok_or(format!("{name} needs a value"))?;
        v.parse()
            .map_err(|_| format!("{name} {v:?} is not a number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--format" => format = it.next(),
            "--as-of" => {
                let v = it.next().ok_or("--as-of needs a date")?;
                as_of = Some(
                    NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                        .map_err(|e| format!("--as-of {v:?}: {e}"))?,
                );
            }
            "--json" => json = true,
            "--out" => out = Some(it.next().ok_or("--out needs a file")?),
            "--svg" => svg = Some(it.next().ok_or("--svg needs a directory")?),
            "--margin" => margin = number("--margin", it.next())?,
            "--cost-per-order" => per_order = number("--cost-per-order", it.next())?,
            "--cost-per-month" => per_month = number("--cost-per-month", it.next())?,
            "-h" | "--help" => return Err(USAGE.into()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            s => file = Some(s.to_string()),
        }
    }
    Ok(Args {
        format: format.ok_or(format!("--format is required\n{USAGE}"))?,
        file: file.ok_or(format!("FILE is required\n{USAGE}"))?,
        as_of: as_of.ok_or(format!("--as-of is required\n{USAGE}"))?,
        json,
        out,
        svg,
        margin,
        per_order,
        per_month,
    })
}

/// Whether the data can give its own cost of goods.
fn has_costs(data: &Dataset) -> bool {
    let log = data.transactions();
    log.costs().is_some()
        || log
            .products()
            .is_some_and(|rows| rows.iter().all(|&p| data.products().unit_cost(p).is_some()))
}

fn run() -> Result<(), String> {
    let args = parse_args()?;
    let t0 = Instant::now();
    let options = match args.format.as_str() {
        "cdnow" => CsvOptions::cdnow_master(),
        "csv" => CsvOptions::new(),
        f => return Err(format!("unknown format {f:?}\n{USAGE}")),
    };
    let e = |e: acrm::Error| format!("{}: {e}", args.file);
    let data = options.read_path(&args.file).map_err(e)?.dataset;
    let summary = SummaryOptions::new(args.as_of)
        .summarize::<Days>(&data)
        .map_err(e)?;
    let n = summary.len();

    // Profit as of the date, for the summary's customers.
    let own_costs = has_costs(&data);
    let cogs = if own_costs {
        CostOfGoods::Auto
    } else {
        CostOfGoods::MarginRate(args.margin)
    };
    let profits = ProfitOptions::new()
        .until(args.as_of)
        .cost_of_goods(cogs)
        .per_order(args.per_order)
        .fixed_per_period(args.per_month, 30)
        .compute(&data, None)
        .map_err(e)?;
    let pick = |v: &[f64]| -> Vec<f64> { (0..n).map(|i| v[summary.customer(i).get()]).collect() };
    let revenue = pick(&profits.revenue);
    let margin = pick(&profits.gross_margin);
    let serve = pick(&profits.cost_to_serve);
    let net = pick(&profits.net_profit);

    let rfm = RfmOptions::new().score_summary(&summary).map_err(e)?;
    let tiers = TierOptions::new().tiers(&net).map_err(e)?;
    let whale = whale_curve(&net, 200).map_err(e)?;
    let features = Features::from_summary(&data, &summary, 4);
    // A small or degenerate base still gets its report: clustering failures are reported
    // in the JSON instead of stopping the command.
    let clusters = ClusterOptions::new()
        .k_range(2, 8.min(n).max(2))
        .fit(&features);
    let habits = HabitOptions::new().until(args.as_of).compute(&data);
    let risk = RiskOptions::new()
        .until(args.as_of)
        .compute(&data)
        .map_err(e)?;
    let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;

    let mut segments = Map::new();
    for (name, count) in rfm.segment_counts() {
        segments.insert(name, json!(count));
    }
    let mut segment_profit = Map::new();
    for s in rfm.value_by_segment(&net).map_err(e)? {
        segment_profit.insert(
            s.segment,
            json!({"count": s.customers, "profit": s.value, "profit_share": s.share}),
        );
    }
    let mut tier_map = Map::new();
    for t in tiers.summary.iter().rev() {
        tier_map.insert(
            t.tier.name().to_string(),
            json!({"count": t.customers, "profit": t.value, "profit_share": t.share}),
        );
    }
    let cluster_json = match &clusters {
        Ok(clusters) => {
            let profit_shares = clusters.value_shares(&net).map_err(e)?;
            let profiles: Vec<Value> = clusters
                .profiles
                .iter()
                .zip(&profit_shares)
                .map(|(p, share)| {
                    let centroid: Map<String, Value> = clusters
                        .features
                        .iter()
                        .zip(&p.centroid)
                        .map(|(k, v)| (k.clone(), json!(v)))
                        .collect();
                    json!({"size": p.size, "share": p.share, "revenue_share": p.revenue_share,
                           "profit_share": share, "centroid": centroid,
                           "distinguishing": p.distinguishing})
                })
                .collect();
            json!({"k": clusters.k, "sizes": clusters.sizes(),
                   "silhouette": clusters.silhouette, "profiles": profiles})
        }
        Err(err) => json!({"k": null, "sizes": [], "error": err.to_string()}),
    };
    let rows: Vec<usize> = (0..n).map(|i| summary.customer(i).get()).collect();
    let count = |f: &dyn Fn(usize) -> bool| rows.iter().filter(|&&c| f(c)).count();
    let mut weekday = [0u64; 7];
    for &c in &rows {
        for (w, k) in weekday.iter_mut().zip(habits.weekday[c]) {
            *w += u64::from(k);
        }
    }
    let cost_note = if own_costs {
        "cost of goods from the data".to_string()
    } else {
        format!(
            "no cost column: assumed gross margin {:.0}% of revenue",
            100.0 * args.margin
        )
    };
    let out = json!({
        "customers": n,
        "as_of": args.as_of.to_string(),
        "assumptions": {
            "cost_of_goods": cost_note,
            "cost_per_order": args.per_order,
            "cost_per_customer_month": args.per_month,
        },
        // Over the customers profiled (those with a purchase by the date), as the tiers
        // and the whale curve; the allocation breakdown covers every customer with a row.
        "profit": {
            "revenue": revenue.iter().sum::<f64>(),
            "gross_margin": margin.iter().sum::<f64>(),
            "cost_to_serve": serve.iter().sum::<f64>(),
            "net_profit": net.iter().sum::<f64>(),
            "all_customers": profits.totals,
        },
        "rfm_segments": segments,
        "segment_profit": segment_profit,
        "tiers": tier_map,
        "clusters": cluster_json,
        "whale": {
            "peak_customer_share": whale.peak_customer_share,
            "peak_profit_pct": whale.peak_profit_pct,
            "unprofitable_share": whale.unprofitable_share,
            "profit_destroyed": whale.profit_destroyed,
            "total_profit": whale.total_profit,
        },
        "habits": {
            "purchases_by_weekday": weekday,
            "median_gap_days": median(rows.iter().filter_map(|&c| habits.mean_gap_days[c])),
            "median_basket_value": median(rows.iter().filter_map(|&c| habits.basket_value[c])),
        },
        "risk": {
            "declining": count(&|c| risk.declining[c]),
            "high_returns": count(&|c| risk.high_returns[c]),
            "concentrated": count(&|c| risk.concentrated[c]),
        },
        "elapsed_ms": elapsed_ms,
    });
    if let Some(path) = &args.out {
        let write = || -> Result<(), Box<dyn std::error::Error>> {
            let mut w = csv::Writer::from_path(path)?;
            w.write_record([
                "id",
                "r",
                "f",
                "m",
                "segment",
                "tier",
                "cluster",
                "revenue",
                "gross_margin",
                "cost_to_serve",
                "net_profit",
            ])?;
            for i in 0..n {
                let cluster = clusters
                    .as_ref()
                    .map(|c| c.labels[i].to_string())
                    .unwrap_or_default();
                w.write_record([
                    summary.id(i).to_string(),
                    rfm.r[i].to_string(),
                    rfm.f[i].to_string(),
                    rfm.m[i].to_string(),
                    rfm.segment_name(i).to_string(),
                    tiers.tier[i].name().to_string(),
                    cluster,
                    revenue[i].to_string(),
                    margin[i].to_string(),
                    serve[i].to_string(),
                    net[i].to_string(),
                ])?;
            }
            w.flush()?;
            Ok(())
        };
        write().map_err(|err| format!("{path}: {err}"))?;
    }
    if let Some(dir) = &args.svg {
        std::fs::create_dir_all(dir).map_err(|err| format!("{dir}: {err}"))?;
        let whale_path = format!("{dir}/whale.svg");
        plot_whale(&whale, &whale_path).map_err(|err| format!("{whale_path}: {err}"))?;
        let heat_path = format!("{dir}/rfm_heatmap.svg");
        plot_heatmap(&rfm, &heat_path).map_err(|err| format!("{heat_path}: {err}"))?;
    }
    if args.json {
        println!("{out}");
    } else {
        println!(
            "{n} customers as of {}; net profit {:.2} ({})",
            args.as_of, whale.total_profit, cost_note
        );
        for (name, count) in rfm.segment_counts() {
            println!("  segment {name:<20} {count:>8}");
        }
        for t in &tiers.summary {
            let share = 100.0 * t.share;
            println!(
                "  tier    {:<20} {:>8}  {share:6.1}% of profit",
                t.tier.name(),
                t.customers
            );
        }
        println!(
            "  whale curve: peak {:.1}% of profit with {:.1}% of customers; {:.1}% unprofitable",
            whale.peak_profit_pct,
            100.0 * whale.peak_customer_share,
            100.0 * whale.unprofitable_share
        );
        println!("  (--json for everything)");
    }
    Ok(())
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    })
}

/// Cumulative profit (% of total) against the share of customers, most profitable first.
fn plot_whale(w: &WhaleCurve, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let pts: Vec<(f64, f64)> = w
        .curve
        .iter()
        .map(|&(x, y)| (100.0 * x, 100.0 * y))
        .collect();
    let (lo, hi) = pts
        .iter()
        .fold((0.0f64, 100.0f64), |(lo, hi), p| (lo.min(p.1), hi.max(p.1)));
    let mut chart = ChartBuilder::on(&root)
        .caption("Whale curve: cumulative net profit", ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..100.0, lo.min(0.0)..hi * 1.05)?;
    chart
        .configure_mesh()
        .x_desc("% of customers, most profitable first")
        .y_desc("cumulative profit, % of total")
        .draw()?;
    chart.draw_series(LineSeries::new(pts, BLUE.stroke_width(2)))?;
    chart.draw_series(LineSeries::new(
        vec![(0.0, 100.0), (100.0, 100.0)],
        BLACK.mix(0.4),
    ))?;
    let peak = (100.0 * w.peak_customer_share, w.peak_profit_pct);
    chart.draw_series(std::iter::once(Circle::new(peak, 5, RED.filled())))?;
    root.present()?;
    Ok(())
}

/// Customers per (R, F) score cell, darker for more.
fn plot_heatmap(rfm: &RfmScores, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let k = usize::from(rfm.levels);
    let mut cells = vec![vec![0usize; k]; k];
    for (&r, &f) in rfm.r.iter().zip(&rfm.f) {
        cells[usize::from(r) - 1][usize::from(f) - 1] += 1;
    }
    let max = cells.iter().flatten().copied().max().unwrap_or(1).max(1);
    let root = SVGBackend::new(path, (620, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "Customers by recency and frequency score",
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(40)
        .build_cartesian_2d(1.0..(k as f64 + 1.0), 1.0..(k as f64 + 1.0))?;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("recency score (5 = most recent)")
        .y_desc("frequency score")
        .draw()?;
    for (r, row) in cells.iter().enumerate() {
        for (f, &c) in row.iter().enumerate() {
            let shade = 1.0 - c as f64 / max as f64;
            let colour = RGBColor(
                (40.0 + 215.0 * shade) as u8,
                (90.0 + 165.0 * shade) as u8,
                (160.0 + 95.0 * shade) as u8,
            );
            let (x, y) = (r as f64 + 1.0, f as f64 + 1.0);
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x, y), (x + 1.0, y + 1.0)],
                colour.filled(),
            )))?;
            chart.draw_series(std::iter::once(Text::new(
                c.to_string(),
                (x + 0.35, y + 0.55),
                ("sans-serif", 14),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
