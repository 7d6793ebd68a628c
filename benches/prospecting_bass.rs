//! Bass acquisition forecast benchmark: 1,000 series (one per product) × 40 periods,
//! fitted by nonlinear least squares in parallel with `BassOptions::fit_groups`.
//!
//! Data: per product a Bass curve with p in [0.002, 0.032), q in [0.1, 0.6), m in
//! [500, 5500) and Poisson-like noise (normal with the curve's variance, rounded, at
//! least 0), all from `Xoshiro256PlusPlus` seeded with 2026 + the product's index. Run
//! with `cargo bench --bench prospecting_bass`.

use std::hint::black_box;
use std::time::Duration;

use acrm::prospecting::{Bass, BassOptions, Series};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

const PRODUCTS: usize = 1000;
const PERIODS: usize = 40;

fn series(i: usize) -> Series {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026 + i as u64);
    let p = 0.002 + 0.03 * rng.gen::<f64>();
    let q = 0.1 + 0.5 * rng.gen::<f64>();
    let m = 500.0 + 5000.0 * rng.gen::<f64>();
    let bass = Bass::new(p, q, m).expect("valid curve");
    let values = (1..=PERIODS)
        .map(|t| {
            let s = bass.sales(t as f64);
            let z: f64 = StandardNormal.sample(&mut rng);
            (s + z * s.sqrt()).round().max(0.0)
        })
        .collect();
    Series::new(values).expect("valid series")
}

fn fit_groups(c: &mut Criterion) {
    let all: Vec<Series> = (0..PRODUCTS).map(series).collect();
    let opts = BassOptions::new().horizon(12);
    // Every series fits (checked once, outside the timing).
    let fits = opts.fit_groups(&all);
    assert!(fits.iter().all(|f| f.is_ok()));
    let mut g = c.benchmark_group("bass");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(PRODUCTS as u64));
    g.bench_function(
        BenchmarkId::new("nls_fit_groups_40_periods", PRODUCTS),
        |b| b.iter(|| opts.fit_groups(black_box(&all))),
    );
    g.bench_function(
        BenchmarkId::new("ols_fit_groups_40_periods", PRODUCTS),
        |b| {
            let ols = opts.clone().method(acrm::prospecting::BassMethod::Ols);
            b.iter(|| ols.fit_groups(black_box(&all)))
        },
    );
    g.finish();
}

criterion_group!(benches, fit_groups);
criterion_main!(benches);
