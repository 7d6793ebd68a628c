//! Profiling benchmarks: RFM scores and segments for 10M customers.
//!
//! Data: seeded random recency (0..730 days), purchase counts (geometric-like, 1..50) and
//! revenue (log-normal-like), drawn with `rand`'s Xoshiro256++ (seed 7). Run with
//! `cargo bench --bench profiling`.

use std::hint::black_box;
use std::time::Duration;

use acrm::profiling::RfmOptions;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
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
    let mut g = c.benchmark_group("rfm");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("scores_and_segments", n), |b| {
        b.iter(|| {
            RfmOptions::new()
                .score(black_box(&recency), &frequency, &monetary)
                .expect("scores")
        })
    });
    g.finish();
}

criterion_group!(benches, rfm);
criterion_main!(benches);
