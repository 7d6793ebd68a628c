//! acrm in DataFusion: the summary aggregate, the RFM function, the fit helper and the
//! scoring functions give the in-memory path's bits, for any cut of the rows into
//! batches and any number of target partitions (1, 2, 8).
#![cfg(feature = "datafusion")]

use std::sync::Arc;

use acrm::engine::{fit_in_engine, register, register_scores, EngineFit};
use acrm::io::{ArrowOptions, CsvOptions};
use acrm::persistency::BgNbd;
use acrm::profitability::{ClvOptions, GammaGamma};
use acrm::{Dataset, FitOptions, Scope, SummaryOptions, Weeks};
use arrow::array::{ArrayRef, AsArray, Date32Array, Float64Array, RecordBatch, StringArray};
use arrow::datatypes::Float64Type;
use chrono::NaiveDate;
use datafusion::datasource::MemTable;
use datafusion::prelude::{SessionConfig, SessionContext};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The transactions of a dataset as (customer_id, date, amount) batches of `size` rows,
/// customers in the dataset's order.
fn batches(data: &Dataset, size: usize) -> Vec<RecordBatch> {
    let all = data.view(&Scope::all());
    let mut rows: Vec<(String, i32, f64)> = Vec::new();
    for k in 0..all.len() {
        let h = all.history(k);
        for (d, a) in h.days.iter().zip(h.amounts) {
            rows.push((all.id(k).to_string(), *d, *a));
        }
    }
    rows.chunks(size.max(1))
        .map(|part| {
            RecordBatch::try_from_iter([
                (
                    "customer_id",
                    Arc::new(StringArray::from(
                        part.iter().map(|r| r.0.as_str()).collect::<Vec<_>>(),
                    )) as ArrayRef,
                ),
                (
                    "date",
                    Arc::new(Date32Array::from(
                        part.iter().map(|r| r.1).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "amount",
                    Arc::new(Float64Array::from(
                        part.iter().map(|r| r.2).collect::<Vec<_>>(),
                    )),
                ),
            ])
            .unwrap()
        })
        .collect()
}

/// A session of `partitions` target partitions over `batches` cut into that many
/// memory partitions, with acrm's functions in weeks.
fn session(batches: Vec<RecordBatch>, partitions: usize) -> SessionContext {
    let ctx =
        SessionContext::new_with_config(SessionConfig::new().with_target_partitions(partitions));
    let schema = batches[0].schema();
    let mut parts: Vec<Vec<RecordBatch>> = vec![Vec::new(); partitions];
    for (i, b) in batches.into_iter().enumerate() {
        parts[i % partitions].push(b);
    }
    ctx.register_table("tx", Arc::new(MemTable::try_new(schema, parts).unwrap()))
        .unwrap();
    register::<Weeks>(&ctx);
    ctx
}

/// The CDNOW 1/10 sample (2,357 customers) of Fader, Hardie & Lee (2005).
fn cdnow() -> Dataset {
    CsvOptions::cdnow_sample()
        .read_path("tests/data/cdnow/CDNOW_sample.txt")
        .unwrap()
        .dataset
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// CDNOW sample (Fader, Hardie & Lee 2005): the engine's patterns and BG/NBD fit equal
/// the in-memory ones bit for bit on 1, 2 and 8 partitions.
#[test]
fn cdnow_fit_in_the_engine_equals_the_in_memory_fit() {
    let data = cdnow();
    let end = date(1997, 9, 30);
    let summary = SummaryOptions::new(end)
        .compute::<Weeks>(&data.view(&Scope::all()))
        .unwrap();
    let compact = summary.compact();
    let opts = FitOptions::new();
    let fitted = opts.fit::<BgNbd>(&compact).unwrap();
    let rt = runtime();
    for partitions in [1, 2, 8] {
        let ctx = session(batches(&data, 499), partitions);
        let got: EngineFit<BgNbd, Weeks> =
            rt.block_on(fit_in_engine(&ctx, "tx", end, &opts)).unwrap();
        assert_eq!(got.rows, data.view(&Scope::all()).transactions() as u64);
        assert_eq!(got.customers, summary.len() as u64);
        assert_eq!(
            got.patterns.patterns, compact.patterns,
            "{partitions} partitions"
        );
        let a = got.fitted.model.params().map(f64::to_bits);
        let b = fitted.model.params().map(f64::to_bits);
        assert_eq!(a, b, "{partitions} partitions");
        assert_eq!(
            got.fitted.report.log_likelihood.to_bits(),
            fitted.report.log_likelihood.to_bits()
        );
        assert_eq!(got.partitions, partitions);
    }
    // Published CDNOW values (Fader, Hardie & Lee 2005): r 0.243, α 4.414, a 0.793, b 2.426.
    let [r, alpha, a, b] = fitted.model.params();
    assert!((r - 0.243).abs() < 1e-3 && (alpha - 4.414).abs() < 1e-2);
    assert!((a - 0.793).abs() < 1e-2 && (b - 2.426).abs() < 2e-2);
}

fn rows_strategy() -> impl Strategy<Value = Vec<(u32, i32, i64)>> {
    // Customers, days and amounts in cents, returns (negative) included.
    prop::collection::vec((0u32..30, 9_000i32..9_200, -2_000i64..40_000), 1..250)
}

fn dataset_of(rows: &[(u32, i32, i64)], size: usize) -> (Dataset, Vec<RecordBatch>) {
    let batches: Vec<RecordBatch> = rows
        .chunks(size.max(1))
        .map(|part| {
            RecordBatch::try_from_iter([
                (
                    "customer_id",
                    Arc::new(StringArray::from(
                        part.iter().map(|r| format!("c{}", r.0)).collect::<Vec<_>>(),
                    )) as ArrayRef,
                ),
                (
                    "date",
                    Arc::new(Date32Array::from(
                        part.iter().map(|r| r.1).collect::<Vec<_>>(),
                    )),
                ),
                (
                    "amount",
                    Arc::new(Float64Array::from(
                        part.iter().map(|r| r.2 as f64 / 100.0).collect::<Vec<_>>(),
                    )),
                ),
            ])
            .unwrap()
        })
        .collect();
    let data = ArrowOptions::new().read(&batches).unwrap().dataset;
    (data, batches)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Per customer, acrm_rfm(acrm_summary(..)) equals the in-memory summary bit for bit,
    /// whatever the batches and partitions.
    #[test]
    fn summary_states_merge_to_the_in_memory_bits(
        rows in rows_strategy(),
        size in 1usize..60,
        partitions in prop::sample::select(vec![1usize, 2, 8]),
        end_day in 9_050i32..9_250,
    ) {
        let (data, batches) = dataset_of(&rows, size);
        let end = acrm::time::date_of(end_day);
        let summary = SummaryOptions::new(end).compute::<Weeks>(&data.view(&Scope::all()));
        let ctx = session(batches, partitions);
        let sql = format!(
            "SELECT customer_id, r['x'], r['t_x'], r['T'], r['mean_spend'] FROM \
             (SELECT customer_id, acrm_rfm(acrm_summary(date, amount), DATE '{end}') AS r \
              FROM tx GROUP BY customer_id) WHERE r IS NOT NULL ORDER BY customer_id"
        );
        let out = runtime().block_on(async { ctx.sql(&sql).await?.collect().await }).unwrap();
        let mut got = Vec::new();
        for b in &out {
            let ids = b.column(0).as_string::<i32>();
            let x = b.column(1).as_primitive::<arrow::datatypes::UInt32Type>();
            let f = |c: usize| b.column(c).as_primitive::<Float64Type>().clone();
            let (tx, t, m) = (f(2), f(3), f(4));
            for i in 0..b.num_rows() {
                got.push((ids.value(i).to_string(), x.value(i), tx.value(i).to_bits(), t.value(i).to_bits(), m.value(i).to_bits()));
            }
        }
        let mut want = Vec::new();
        if let Ok(s) = summary {
            for i in 0..s.len() {
                want.push((s.id(i).to_string(), s.x(i), s.t_x(i).value().to_bits(), s.t(i).value().to_bits(), s.mean_spend(i).to_bits()));
            }
        }
        want.sort();
        prop_assert_eq!(got, want);
    }
}

/// The scoring functions give the in-memory model's values bit for bit.
#[test]
fn scores_in_sql_equal_the_models() {
    let data = cdnow();
    let end = date(1997, 9, 30);
    let summary = SummaryOptions::new(end)
        .compute::<Weeks>(&data.view(&Scope::all()))
        .unwrap();
    let model = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let gg = GammaGamma::new(6.25, 3.74, 15.44).unwrap();
    let clv = ClvOptions::new();
    let records = summary.records().with_positive_spend();
    let want_clv = clv.compute(&model, &gg, &records).unwrap().values;
    let ctx = session(batches(&data, 1_000), 2);
    register_scores(&ctx, &model, 39.0, Some((&gg, &clv)));
    let sql = format!(
        "SELECT customer_id, acrm_p_alive(r['x'], r['t_x'], r['T']) AS p, \
                acrm_expected_purchases(r['x'], r['t_x'], r['T']) AS e, \
                acrm_clv(r['x'], r['t_x'], r['T'], r['mean_spend']) AS v \
         FROM (SELECT customer_id, acrm_rfm(acrm_summary(date, amount), DATE '{end}') AS r \
               FROM tx GROUP BY customer_id) WHERE r IS NOT NULL AND r['mean_spend'] > 0"
    );
    let out = runtime()
        .block_on(async { ctx.sql(&sql).await?.collect().await })
        .unwrap();
    let mut seen = 0;
    for b in &out {
        let ids = b.column(0).as_string::<i32>();
        let [p, e, v] = [1, 2, 3].map(|c| b.column(c).as_primitive::<Float64Type>().clone());
        for i in 0..b.num_rows() {
            let k = summary.row(ids.value(i)).unwrap();
            let (x, tx, t) = (summary.x(k), summary.t_x(k).value(), summary.t(k).value());
            assert_eq!(p.value(i).to_bits(), model.p_alive(x, tx, t).to_bits());
            assert_eq!(
                e.value(i).to_bits(),
                model
                    .conditional_expected_purchases(39.0, x, tx, t)
                    .to_bits()
            );
            let j = records.iter().position(|r| {
                r.x == x
                    && r.t_x.to_bits() == tx.to_bits()
                    && r.t.to_bits() == t.to_bits()
                    && r.mean_spend.to_bits() == summary.mean_spend(k).to_bits()
            });
            assert!(
                (v.value(i) - want_clv[j.unwrap()]).abs() <= 1e-12 * want_clv[j.unwrap()].abs()
            );
            seen += 1;
        }
    }
    let repeat_buyers = (0..summary.len())
        .filter(|&k| summary.mean_spend(k) > 0.0)
        .count();
    assert_eq!(seen, repeat_buyers);
}

/// Bad values stop the query with a message naming the problem.
#[test]
fn a_nan_amount_is_an_engine_error() {
    let b = RecordBatch::try_from_iter([
        (
            "customer_id",
            Arc::new(StringArray::from(vec!["a", "b"])) as ArrayRef,
        ),
        ("date", Arc::new(Date32Array::from(vec![9_000, 9_001]))),
        ("amount", Arc::new(Float64Array::from(vec![1.0, f64::NAN]))),
    ])
    .unwrap();
    let ctx = session(vec![b], 1);
    let e = runtime()
        .block_on(fit_in_engine::<BgNbd, Weeks>(
            &ctx,
            "tx",
            date(1995, 1, 1),
            &FitOptions::new(),
        ))
        .unwrap_err();
    assert!(
        matches!(&e, acrm::Error::Engine { engine: "datafusion", message } if message.contains("amount NaN")),
        "{e}"
    );
}
