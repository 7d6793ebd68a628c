//! Uplift-evaluation benchmark on 10M scored rows: `qini_auc_score` (validation, the
//! ranking sort, the Qini curve, the perfect curve and both areas), `uplift_at_k`
//! (k = 0.3, overall) and `uplift_by_percentile` (10 bins, overall), each called from
//! the arrays as scikit-uplift's functions are (so each sorts once), plus the same three
//! on a sample ranked once.
//!
//! Data: seeded, generated in parallel blocks with one generator per block: treatment
//! Bernoulli(½), score standard normal, outcome Bernoulli(0.1 + 0.05 · t · [score > 0]).
//! `benches/compare/uplift_metrics.py` times scikit-uplift 0.5 on the same kind of data.
//! Run with `cargo bench --bench promotion_uplift_metrics`.

use std::hint::black_box;
use std::time::Duration;

use acrm::promotion::{
    qini_auc_score, uplift_at_k, uplift_by_percentile, TopK, UpliftSample, UpliftStrategy,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

/// `n` rows of (outcome, score, treatment), seeded.
fn rows(n: usize, seed: u64) -> (Vec<u8>, Vec<f64>, Vec<u8>) {
    const BLOCK: usize = 1 << 14;
    let (mut y, mut s, mut t) = (vec![0u8; n], vec![0.0; n], vec![0u8; n]);
    y.par_chunks_mut(BLOCK)
        .zip(s.par_chunks_mut(BLOCK))
        .zip(t.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(b, ((ys, ss), ts))| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ ((b as u64) << 20));
            for ((y, s), t) in ys.iter_mut().zip(ss.iter_mut()).zip(ts.iter_mut()) {
                *t = u8::from(rng.gen::<f64>() < 0.5);
                *s = rng.sample(StandardNormal);
                let p = 0.1 + 0.05 * f64::from(*t) * f64::from(u8::from(*s > 0.0));
                *y = u8::from(rng.gen::<f64>() < p);
            }
        });
    (y, s, t)
}

fn bench(c: &mut Criterion) {
    let n = 10_000_000;
    let (y, s, t) = rows(n, 7);
    let mut group = c.benchmark_group("uplift_metrics");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(20))
        .throughput(Throughput::Elements(n as u64));
    group.bench_with_input(BenchmarkId::new("qini_auc_score", n), &n, |b, _| {
        b.iter(|| black_box(qini_auc_score(&y, &s, &t, true).unwrap()))
    });
    group.bench_with_input(BenchmarkId::new("uplift_at_k", n), &n, |b, _| {
        b.iter(|| {
            black_box(
                uplift_at_k(&y, &s, &t, UpliftStrategy::Overall, TopK::Fraction(0.3)).unwrap(),
            )
        })
    });
    group.bench_with_input(BenchmarkId::new("uplift_by_percentile", n), &n, |b, _| {
        b.iter(|| black_box(uplift_by_percentile(&y, &s, &t, UpliftStrategy::Overall, 10).unwrap()))
    });
    let sample = UpliftSample::new(&y, &s, &t).unwrap();
    group.bench_with_input(BenchmarkId::new("ranked_once/all_three", n), &n, |b, _| {
        b.iter(|| {
            black_box((
                sample.qini_auc_score(true).unwrap(),
                sample
                    .uplift_at_k(TopK::Fraction(0.3), UpliftStrategy::Overall)
                    .unwrap(),
                sample
                    .uplift_by_percentile(10, UpliftStrategy::Overall)
                    .unwrap(),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
