//! Profiling and profitability benchmarks.
//!
//! - `rfm`: RFM scores and segments, and scores + segments + value tiers, for 10M
//!   customers. Data: seeded random recency (0..730 days), purchase counts
//!   (geometric-like, 1..50) and revenue (log-normal-like), drawn with `rand`'s
//!   Xoshiro256++ (seed 7); tier values are 30% of revenue minus $2 per purchase.
//! - `profit`: net profit (cost column, per-order and per-period cost to serve) and the
//!   whale curve over 100M transactions: `acrm::synth` with 1M customers, Pareto/NBD
//!   purchases at a mean of one a week (r = α = 10) and almost no dropout (s = 1,
//!   β = 1000) over two years. Also habits and risk flags over the same log.
//! - `scope`: a 10% scope (10 of 100 owners, owners given round robin in load order, so
//!   before assignment their customers are spread over the whole log) over the same
//!   1M-customer log: building the scoped view and the profit pass on it, against the
//!   profit pass on a log that holds only those customers (written out of the view and
//!   read back in). `Dataset::assign_owners` lays customers out by owner, so the scope's
//!   customers are one run of the log.
//! - `kmeans`: k-means (k = 8, one initialisation) on 1M customers × 8 features from
//!   eight planted Gaussian clusters (seed 11), as in benches/compare/kmeans_vs_sklearn.py.
//!
//! Run with `cargo bench --bench profiling` (the 100M-row log takes about 8 GB while it
//! is generated).

use std::hint::black_box;
use std::time::Duration;

use acrm::data::{OwnershipRecord, Rows, Scope};
use acrm::io::{write_transactions_csv, CsvOptions};
use acrm::ndarray::Array2;
use acrm::profiling::{
    ClusterOptions, Features, HabitOptions, RfmOptions, RiskOptions, TierOptions,
};
use acrm::profitability::{whale_curve, ProfitOptions};
use acrm::synth::{PurchaseProcess, SynthOptions};
use acrm::Weeks;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;

fn rfm(c: &mut Criterion) {
    let n = 10_000_000;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let recency: Vec<f64> = (0..n)
        .map(|_| f64::from(rng.gen_range(0u32..730)))
        .collect();
    let frequency: Vec<f64> = (0..n)
        .map(|_| (1.0 / (1.0 - rng.gen::<f64>() * 0.98)).floor().min(50.0))
        .collect();
    let monetary: Vec<f64> = (0..n)
        .map(|_| (3.0 + rng.gen::<f64>() * 3.0).exp())
        .collect();
    let rows = Rows::from_ids((0..n).map(|i| i.to_string()));
    let mut g = c.benchmark_group("rfm");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("scores_and_segments", n), |b| {
        b.iter(|| {
            RfmOptions::new()
                .compute_values(&rows, black_box(&recency), &frequency, &monetary)
                .expect("scores")
        })
    });
    let value: Vec<f64> = monetary
        .iter()
        .zip(&frequency)
        .map(|(m, f)| 0.3 * m - 2.0 * f)
        .collect();
    g.bench_function(BenchmarkId::new("scores_segments_tiers", n), |b| {
        b.iter(|| {
            let s = RfmOptions::new()
                .compute_values(&rows, black_box(&recency), &frequency, &monetary)
                .expect("scores");
            let t = TierOptions::new()
                .compute(black_box(&value))
                .expect("tiers");
            (s, t)
        })
    });
    g.finish();
}

fn profit(c: &mut Criterion) {
    let mut data = SynthOptions::<Weeks>::new()
        .customers(1_000_000)
        .seed(5)
        .process(PurchaseProcess::ParetoNbd {
            r: 10.0,
            alpha: 10.0,
            s: 1.0,
            beta: 1000.0,
        })
        .generate()
        .expect("synthetic log")
        .dataset;
    let all = data.view(&Scope::all());
    let rows = all.transactions();
    eprintln!("profit bench: {rows} transactions, 1M customers");
    let opts = ProfitOptions::new()
        .per_order(2.0)
        .fixed_per_period(0.5, 30);
    let mut g = c.benchmark_group("profit");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(rows as u64));
    g.bench_function(BenchmarkId::new("net_profit_and_whale", rows), |b| {
        b.iter(|| {
            let p = opts.compute(black_box(&all), None).expect("profit");
            whale_curve(&p.net_profit, 100).expect("whale")
        })
    });
    g.bench_function(BenchmarkId::new("habits_and_risk", rows), |b| {
        b.iter(|| {
            let h = HabitOptions::new()
                .compute(black_box(&all))
                .expect("habits");
            let r = RiskOptions::new().compute(&all).expect("risk");
            (h, r)
        })
    });
    g.finish();

    // One owner of 100 per customer, round robin; the scope is ten owners' customers.
    let owners: Vec<String> = (0..100).map(|o| format!("o{o}")).collect();
    let ids: Vec<String> = (0..all.len()).map(|k| all.id(k).to_string()).collect();
    data.assign_owners(
        ids.iter()
            .enumerate()
            .map(|(k, id)| OwnershipRecord::new(id.as_str(), owners[k % 100].as_str())),
    )
    .expect("owners");
    let scope = Scope::of_owners("team", "t0", &owners[..10]);
    let scoped = data.view(&scope);
    let scoped_rows = scoped.transactions();
    // The same customers as a log of their own.
    let mut csv = Vec::new();
    write_transactions_csv(&scoped, &mut csv).expect("write");
    let alone = CsvOptions::new().read_bytes(&csv).expect("read").dataset;
    drop(csv);
    let alone = alone.view(&Scope::all());
    assert_eq!(
        (alone.len(), alone.transactions()),
        (scoped.len(), scoped_rows)
    );
    let mut g = c.benchmark_group("scope");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(scoped_rows as u64));
    g.bench_function(
        BenchmarkId::new("view_and_profit_10pct", scoped_rows),
        |b| {
            b.iter(|| {
                let view = data.view(black_box(&scope));
                opts.compute(&view, None).expect("profit")
            })
        },
    );
    g.bench_function(BenchmarkId::new("profit_own_log", scoped_rows), |b| {
        b.iter(|| opts.compute(black_box(&alone), None).expect("profit"))
    });
    g.bench_function(BenchmarkId::new("view_only_10pct", scoped_rows), |b| {
        b.iter(|| data.view(black_box(&scope)).len())
    });
    g.finish();
}

/// `n` points from `k` planted Gaussian clusters in `d` dimensions.
fn planted(n: usize, k: usize, d: usize, seed: u64) -> Features {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let centres: Vec<f64> = (0..k * d).map(|_| rng.gen_range(-4.0..4.0)).collect();
    let mut raw = Array2::zeros((n, d));
    for i in 0..n {
        let c = rng.gen_range(0..k);
        for j in 0..d {
            let e: f64 = rng.sample(StandardNormal);
            raw[[i, j]] = centres[c * d + j] + e;
        }
    }
    let names = (0..d).map(|j| format!("f{j}")).collect();
    let rows = Rows::from_ids((0..n).map(|i| i.to_string()));
    Features::new(rows, names, raw, vec![false; d], vec![0.0; n]).expect("features")
}

fn kmeans(c: &mut Criterion) {
    let n = 1_000_000;
    let f = planted(n, 8, 8, 11);
    let mut g = c.benchmark_group("kmeans");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("k8_d8_one_init", n), |b| {
        b.iter(|| {
            ClusterOptions::new()
                .k(8)
                .n_init(1)
                .fit(black_box(&f))
                .expect("clusters")
        })
    });
    g.finish();
}

criterion_group!(benches, rfm, profit, kmeans);
criterion_main!(benches);
