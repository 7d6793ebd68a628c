//! Profiling and profitability of a customer base as of a date: RFM segments, net profit
//! with cost to serve, value tiers, the whale curve, behavioural clusters, habits and
//! risk flags.
//!
//! ```text
//! cargo run --release --example profile -- --format cdnow|csv FILE --as-of DATE --json \
//!     [--out customers.csv] [--svg DIR] [--margin M] [--cost-per-order C] [--cost-per-month C] \
//!     [--customers CUSTOMERS.csv --scope owner:ID|team:ID|branch:ID|all [--as-of-scope DATE]] \
//!     [--hide-columns cost,margin]
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
//! profit_share}), `clusters` ({k, sizes, silhouette: [[k, score], ...], profiles: [{...,
//! distinguishing: [[feature, z], ...]}]}), `whale`
//! ({peak_customer_share, peak_profit_pct, unprofitable_share, profit_destroyed}), `habits`,
//! `risk` and `elapsed_ms` (without `--json`, a short text report).
//! `--out` writes per customer (CSV-quoted)
//! `id,r,f,m,segment,tier,cluster,revenue,gross_margin,cost_to_serve,net_profit`.
//! `--svg DIR` writes `whale.svg` and `rfm_heatmap.svg`.
//!
//! Nulls, each with its reason:
//! - `clusters.k`: clustering is impossible (too few distinct customers); `clusters` then
//!   holds `error`, why, and empty `sizes`;
//! - `habits.median_gap_days`: no customer has two purchases, so there is no gap between
//!   purchases; `habits.median_gap_days_note` then says so;
//! - `habits.median_basket_value`: no basket has a value; `habits.median_basket_value_note`
//!   then says so;
//! - `tiers.NAME.profit_share`, `whale.peak_profit_pct`: the total net profit is exactly
//!   0 (as with `--margin 0 --cost-per-order 0 --cost-per-month 0` on a log without
//!   costs), so a share of it is undefined; `tiers.NAME.profit_share_note` and
//!   `whale.peak_profit_pct_note` then say so.
//!
//! With a scope only its customers are profiled and the JSON gains `scope` ({kind, id,
//! customers}). An output that needs a column the scope hides (profit, segment profit,
//! tiers and the whale curve need margins; costs when the data has them) holds
//! `{"error", "hidden_column", "scope"}` instead of figures, and `--out` is not written.

mod common;

use std::process::ExitCode;
use std::time::Instant;

use acrm::io::CsvOptions;
use acrm::numerics::median;
use acrm::profiling::{
    ClusterOptions, FeatureOptions, HabitOptions, RfmOptions, RfmScores, RiskOptions, TierOptions,
};
use acrm::profitability::{whale_curve, CostOfGoods, ProfitOptions, WhaleCurve};
use acrm::{Days, Error, SummaryOptions};
use chrono::NaiveDate;
use clap::Parser;
use common::{outln, Stop};
use plotters::prelude::*;
use serde_json::{json, Map, Value};

/// Profiling and profitability of a customer base as of a date.
#[derive(Parser, Debug)]
#[command(name = "profile")]
struct Args {
    /// Input layout: `cdnow` (CDNOW_master.txt) or `csv` (`customer_id,date,amount` and
    /// the optional columns)
    #[arg(long, value_name = "cdnow|csv")]
    format: String,
    /// The as-of date (inclusive)
    #[arg(long = "as-of", value_name = "YYYY-MM-DD", value_parser = common::date)]
    as_of: NaiveDate,
    /// Print one JSON object (otherwise a short text report)
    #[arg(long)]
    json: bool,
    /// Write `id,r,f,m,segment,tier,cluster,revenue,gross_margin,cost_to_serve,net_profit`
    #[arg(long, value_name = "customers.csv")]
    out: Option<String>,
    /// Write `whale.svg` and `rfm_heatmap.svg` into this directory
    #[arg(long, value_name = "DIR")]
    svg: Option<String>,
    /// Gross margin rate assumed when the data has no costs
    #[arg(long, value_name = "M", default_value_t = 0.30)]
    margin: f64,
    /// Cost to serve per order
    #[arg(long = "cost-per-order", value_name = "C", default_value_t = 2.0)]
    per_order: f64,
    /// Cost to serve per customer-month on the books
    #[arg(long = "cost-per-month", value_name = "C", default_value_t = 0.5)]
    per_month: f64,
    #[command(flatten)]
    scope: common::ScopeArgs,
    /// The transaction file
    file: String,
}

/// Why a share of the total net profit is `null`.
const ZERO_PROFIT: &str = "the total net profit is 0: a share of it is undefined";

fn run() -> Result<(), Stop> {
    let args = Args::parse();
    let t0 = Instant::now();
    let options = match args.format.as_str() {
        "cdnow" => CsvOptions::cdnow_master(),
        "csv" => CsvOptions::new(),
        f => return Err(Stop::usage(format!("unknown format {f:?} (cdnow or csv)"))),
    };
    let e = |e: acrm::Error| format!("{}: {e}", args.file);
    let mut data = options.read_path(&args.file).map_err(e)?.dataset;
    let scope = args.scope.resolve(&mut data, options.ids_are_numeric())?;
    let view = data.view(&scope);
    let summary = SummaryOptions::new(args.as_of)
        .compute::<Days>(&view)
        .map_err(e)?;
    let n = summary.len();

    // Profit as of the date. The data's own cost of goods when it has one (the cost
    // column, or unit costs of every product sold); otherwise an assumed margin rate.
    let profit = |cogs| {
        ProfitOptions::new()
            .until(args.as_of)
            .cost_of_goods(cogs)
            .per_order(args.per_order)
            .fixed_per_period(args.per_month, 30)
            .compute(&view, None)
    };
    let (profits, own_costs) = match profit(CostOfGoods::Auto) {
        Err(Error::MissingColumn { .. } | Error::BadValue { .. }) => {
            (profit(CostOfGoods::MarginRate(args.margin)), false)
        }
        p => (p, true),
    };
    // Each customer of the summary's profit figures (the profit table covers every
    // customer of the view).
    let per_row = |p: &acrm::profitability::Profits| -> Result<[Vec<f64>; 4], Error> {
        let pick = |v: &[f64]| p.rows.select(v, summary.rows());
        Ok([
            pick(&p.revenue)?,
            pick(&p.gross_margin)?,
            pick(&p.cost_to_serve)?,
            pick(&p.net_profit)?,
        ])
    };
    let figures = profits.and_then(|p| Ok((per_row(&p)?, p.totals)));
    let net: Result<&[f64], Error> = match &figures {
        Ok((cols, _)) => Ok(&cols[3]),
        Err(err) => Err(err.clone()),
    };

    let rfm = RfmOptions::new().compute(&summary);
    let tiers = net.clone().and_then(|v| TierOptions::new().compute(v));
    let whale = net.clone().and_then(|v| whale_curve(v, 200));
    // A small or degenerate base still gets its report: clustering failures are reported
    // in the JSON instead of stopping the command.
    let clusters = FeatureOptions::new()
        .mix(4)
        .compute(&view, &summary)
        .and_then(|f| ClusterOptions::new().k_range(2, 8.min(n).max(2)).fit(&f));
    let habits = HabitOptions::new().until(args.as_of).compute(&view);
    let risk = RiskOptions::new().until(args.as_of).compute(&view);
    let elapsed_ms = t0.elapsed().as_secs_f64() * 1e3;

    let refusals = std::cell::RefCell::new(Vec::new());
    // An output the scope refuses becomes an error object naming the column; any other
    // error stops the command.
    let or_refused = |r: Result<Value, Error>| -> Result<Value, String> {
        r.or_else(|err| {
            refusals.borrow_mut().push(err.to_string());
            common::refused(err).map_err(|m| format!("{}: {m}", args.file))
        })
    };
    let rfm_json = or_refused(rfm.clone().map(|rfm| {
        let mut m = Map::new();
        for c in rfm.segment_counts() {
            m.insert(c.segment, json!(c.customers));
        }
        Value::Object(m)
    }))?;
    let segment_profit = or_refused(rfm.clone().and_then(|rfm| {
        let mut m = Map::new();
        for s in rfm.value_by_segment(net.clone()?)? {
            m.insert(
                s.segment,
                json!({"count": s.customers, "profit": s.value, "profit_share": s.share}),
            );
        }
        Ok(Value::Object(m))
    }))?;
    let tier_json = or_refused(tiers.clone().map(|tiers| {
        let mut m = Map::new();
        for t in tiers.summary.iter().rev() {
            let mut tier =
                json!({"count": t.customers, "profit": t.value, "profit_share": t.share});
            if !t.share.is_finite() {
                tier["profit_share_note"] = json!(ZERO_PROFIT);
            }
            m.insert(t.tier.name().to_string(), tier);
        }
        Value::Object(m)
    }))?;
    let cluster_json = match &clusters {
        Ok(fitted) => {
            let c = &fitted.model;
            let profit_shares = net.clone().and_then(|v| c.value_shares(v));
            let profiles: Vec<Value> = c
                .profiles
                .iter()
                .enumerate()
                .map(|(k, p)| {
                    let centroid: Map<String, Value> = c
                        .features
                        .iter()
                        .zip(&p.centroid)
                        .map(|(f, v)| (f.clone(), json!(v)))
                        .collect();
                    let share = match &profit_shares {
                        Ok(s) => json!(s[k]),
                        Err(err) => common::refused(err.clone()).unwrap_or(Value::Null),
                    };
                    json!({"size": p.size, "share": p.share, "revenue_share": p.revenue_share,
                           "profit_share": share, "centroid": centroid,
                           "distinguishing": p.distinguishing})
                })
                .collect();
            json!({"k": c.k, "sizes": c.sizes(),
                   "silhouette": fitted.report.silhouette, "profiles": profiles})
        }
        Err(err @ (Error::HiddenColumn { .. } | Error::ForbiddenArea { .. })) => {
            or_refused(Err(err.clone()))?
        }
        Err(err) => json!({"k": null, "sizes": [], "error": err.to_string()}),
    };
    let whale_json = or_refused(whale.clone().map(|w| {
        let mut v = json!({
            "peak_customer_share": w.peak_customer_share,
            "peak_profit_pct": w.peak_profit_pct,
            "unprofitable_share": w.unprofitable_share,
            "profit_destroyed": w.profit_destroyed,
            "total_profit": w.total_profit,
        });
        if !w.peak_profit_pct.is_finite() {
            v["peak_profit_pct_note"] = json!(ZERO_PROFIT);
        }
        v
    }))?;
    let frame = summary.features();
    let habits_json = or_refused(habits.and_then(|h| {
        let weekday_rows = h.rows.select(&h.weekday, summary.rows())?;
        let basket_values = h.rows.select(&h.basket_value, summary.rows())?;
        let mut weekday = [0u64; 7];
        for row in &weekday_rows {
            for (w, k) in weekday.iter_mut().zip(row) {
                *w += u64::from(*k);
            }
        }
        let gaps: Vec<f64> = frame.gap_mean_days.iter().flatten().copied().collect();
        let baskets: Vec<f64> = basket_values.into_iter().flatten().collect();
        let mut v = json!({
            "purchases_by_weekday": weekday,
            "median_gap_days": median(&gaps),
            "median_basket_value": median(&baskets),
        });
        if gaps.is_empty() {
            v["median_gap_days_note"] =
                json!("no customer has two purchases: there is no gap between purchases");
        }
        if baskets.is_empty() {
            v["median_basket_value_note"] = json!("no basket has a value");
        }
        Ok(v)
    }))?;
    let risk_json = or_refused(risk.and_then(|r| {
        let count = |flags: &[bool]| -> Result<usize, Error> {
            Ok(r.rows
                .select(flags, summary.rows())?
                .into_iter()
                .filter(|&f| f)
                .count())
        };
        Ok(json!({
            "declining": count(&r.declining)?,
            "high_returns": count(&r.high_returns)?,
            "concentrated": count(&r.concentrated)?,
        }))
    }))?;
    let profit_json = or_refused(match &figures {
        Ok((cols, totals)) => Ok(json!({
            "revenue": cols[0].iter().sum::<f64>(),
            "gross_margin": cols[1].iter().sum::<f64>(),
            "cost_to_serve": cols[2].iter().sum::<f64>(),
            "net_profit": cols[3].iter().sum::<f64>(),
            "all_customers": totals,
        })),
        Err(err) => Err(err.clone()),
    })?;
    let cost_note = if own_costs {
        "cost of goods from the data".to_string()
    } else {
        format!(
            "no cost column: assumed gross margin {:.0}% of revenue",
            100.0 * args.margin
        )
    };
    let mut out = json!({
        "customers": n,
        "as_of": args.as_of.to_string(),
        "assumptions": {
            "cost_of_goods": cost_note,
            "cost_per_order": args.per_order,
            "cost_per_customer_month": args.per_month,
        },
        // Over the customers profiled (those with a purchase by the date), as the tiers
        // and the whale curve; the allocation breakdown covers every customer of the view.
        "profit": profit_json,
        "rfm_segments": rfm_json,
        "segment_profit": segment_profit,
        "tiers": tier_json,
        "clusters": cluster_json,
        "whale": whale_json,
        "habits": habits_json,
        "risk": risk_json,
        "elapsed_ms": elapsed_ms,
    });
    if args.scope.given() {
        out["scope"] = common::scope_json(&view);
    }
    if let Some(path) = &args.out {
        let written = || -> Result<(), Box<dyn std::error::Error>> {
            let rfm = rfm.clone()?;
            let tiers = tiers.clone()?;
            let ([revenue, margin, serve, net], _) = figures.clone()?;
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
                    .map(|c| c.model.labels[i].to_string())
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
        if let Err(err) = written() {
            match err.downcast_ref::<Error>() {
                Some(refusal @ (Error::HiddenColumn { .. } | Error::ForbiddenArea { .. })) => {
                    out["out"] = common::refused(refusal.clone())?;
                }
                _ => return Err(format!("{path}: {err}").into()),
            }
        }
    }
    if let Some(dir) = &args.svg {
        std::fs::create_dir_all(dir).map_err(|err| format!("{dir}: {err}"))?;
        if let Ok(whale) = &whale {
            let whale_path = format!("{dir}/whale.svg");
            plot_whale(whale, &whale_path).map_err(|err| format!("{whale_path}: {err}"))?;
        }
        if let Ok(rfm) = &rfm {
            let heat_path = format!("{dir}/rfm_heatmap.svg");
            plot_heatmap(rfm, &heat_path).map_err(|err| format!("{heat_path}: {err}"))?;
        }
    }
    for r in refusals.borrow().iter() {
        eprintln!("refused: {r}");
    }
    if args.json {
        outln!("{out}");
    } else {
        outln!("{n} customers as of {} ({cost_note})", args.as_of);
        if let Ok(w) = &whale {
            outln!("  net profit {:.2}", w.total_profit);
        }
        if let Ok(rfm) = &rfm {
            for c in rfm.segment_counts() {
                outln!("  segment {:<20} {:>8}", c.segment, c.customers);
            }
        }
        if let Ok(tiers) = &tiers {
            for t in &tiers.summary {
                let share = 100.0 * t.share;
                outln!(
                    "  tier    {:<20} {:>8}  {share:6.1}% of profit",
                    t.tier.name(),
                    t.customers
                );
            }
        }
        if let Ok(w) = &whale {
            outln!(
                "  whale curve: peak {:.1}% of profit with {:.1}% of customers; {:.1}% unprofitable",
                w.peak_profit_pct,
                100.0 * w.peak_customer_share,
                100.0 * w.unprofitable_share
            );
        }
        outln!("  (--json for everything)");
    }
    Ok(())
}

/// Cumulative profit (% of total) against the share of customers, most profitable first.
fn plot_whale(w: &WhaleCurve, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let pts: Vec<(f64, f64)> = w
        .curve
        .iter()
        .map(|p| (100.0 * p.customer_share, 100.0 * p.profit_share))
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
    common::exit(run())
}
