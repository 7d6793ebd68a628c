//! Product-analysis benchmarks on seeded synthetic baskets (`acrm::synth::BasketSynth`:
//! Zipf item popularity, planted patterns, mean basket size 10; the distribution of
//! benches/compare/basket_vs_mlxtend.py).
//!
//! - `fpgrowth/100k_x_1k`: 100,000 baskets over 1,000 items at minimum support 0.3%
//!   (the setting of the side-by-side comparison with mlxtend), itemsets only, and
//!   itemsets followed by rules at confidence ≥ 0.2.
//! - `fpgrowth/10m_x_50k`: 10,000,000 baskets over 50,000 items at 0.1% (the scale
//!   target: within 60 s). Only with `ACRM_BENCH_LARGE=1` (about 3 GB of memory and a few
//!   minutes).
//! - `cross_sell/20k_customers`: co-purchase neighbours and rule-then-neighbour
//!   recommendations (k = 10) for 20,000 customers of the 100k baskets.
//!
//! Run with `cargo bench --bench product`.

use std::hint::black_box;
use std::time::Duration;

use acrm::product::{CoPurchaseOptions, CrossSellOptions, FpGrowthOptions, Metric, RuleOptions};
use acrm::synth::BasketSynth;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn fpgrowth(c: &mut Criterion) {
    let baskets = BasketSynth::new()
        .baskets(100_000)
        .items(1_000)
        .generate()
        .expect("baskets");
    let mut g = c.benchmark_group("fpgrowth");
    g.sample_size(20).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(baskets.len() as u64));
    let opts = FpGrowthOptions::new().min_support(0.003);
    g.bench_function(BenchmarkId::new("itemsets_100k_x_1k", "0.3%"), |b| {
        b.iter(|| opts.compute(black_box(&baskets)).expect("mine"))
    });
    g.bench_function(
        BenchmarkId::new("itemsets_and_rules_100k_x_1k", "0.3%"),
        |b| {
            b.iter(|| {
                let sets = opts.compute(black_box(&baskets)).expect("mine");
                RuleOptions::new()
                    .min(Metric::Confidence, 0.2)
                    .compute(&sets)
                    .expect("rules")
            })
        },
    );
    if std::env::var_os("ACRM_BENCH_LARGE").is_some() {
        let large = BasketSynth::new()
            .baskets(10_000_000)
            .items(50_000)
            .generate()
            .expect("baskets");
        g.sample_size(10).measurement_time(Duration::from_secs(120));
        g.throughput(Throughput::Elements(large.len() as u64));
        let opts = FpGrowthOptions::new().min_support(0.001);
        g.bench_function(BenchmarkId::new("itemsets_10m_x_50k", "0.1%"), |b| {
            b.iter(|| opts.compute(black_box(&large)).expect("mine"))
        });
    }
    g.finish();
}

fn cross_sell(c: &mut Criterion) {
    let baskets = BasketSynth::new()
        .customers(20_000)
        .generate()
        .expect("baskets");
    let items = baskets.customer_items().expect("customers");
    let sets = FpGrowthOptions::new()
        .min_support(0.003)
        .compute(&baskets)
        .expect("mine");
    let rules = RuleOptions::new()
        .min(Metric::Confidence, 0.2)
        .compute(&sets)
        .expect("rules");
    let mut g = c.benchmark_group("cross_sell");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function(BenchmarkId::new("co_purchase_neighbours", 20_000), |b| {
        b.iter(|| {
            CoPurchaseOptions::new()
                .compute(black_box(&items))
                .expect("neighbours")
        })
    });
    let near = CoPurchaseOptions::new()
        .compute(&items)
        .expect("neighbours");
    let recommender = CrossSellOptions::new()
        .fit(Some(&rules), Some(&near))
        .expect("recommender")
        .model;
    g.bench_function(BenchmarkId::new("recommend_all", 20_000), |b| {
        b.iter(|| {
            recommender
                .recommend_all(black_box(&items))
                .expect("recommendations")
        })
    });
    g.finish();
}

criterion_group!(benches, fpgrowth, cross_sell);
criterion_main!(benches);
