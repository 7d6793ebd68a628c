//! Retention and churn benchmarks.
//!
//! - `kaplan_meier`: 10M durations in whole days (exponential, mean 400, capped at 3650;
//!   25% censored at random), seed 3, unweighted.
//! - `cox`: 1M rows × 10 covariates (6 standard normal, 2 binary, 2 uniform), durations
//!   from the proportional-hazards model with β = (0.5, −0.3, 0.2, 0, 0.1, −0.2, 0.4,
//!   −0.4, 0.3, 0), rounded to 0.01 (ties, as in day-level data), 30% censored; Efron
//!   ties; the fit includes the concordance index. Same design as
//!   benches/compare/survival_vs_lifelines.py.
//! - `churn_scoring`: scoring 10M customers × 14 features with a logistic model (and 1M
//!   with a 100-tree forest of depth 8), both fitted on 50k customers whose labels
//!   follow a planted logistic rule (seed 5).
//!
//! Run with `cargo bench --bench survival` (about 3 GB of memory).

use std::hint::black_box;
use std::time::Duration;

use acrm::data::Rows;
use acrm::ndarray::Array2;
use acrm::persistency::{
    ChurnFeatures, ChurnMethod, ChurnOptions, CoxOptions, KaplanMeierOptions, SurvivalData,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_distr::{Exp, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

fn kaplan_meier(c: &mut Criterion) {
    let n = 10_000_000;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let exp: Exp<f64> = Exp::new(1.0 / 400.0).expect("rate");
    let durations: Vec<f64> = (0..n)
        .map(|_| rng.sample(exp).round().min(3650.0))
        .collect();
    let events: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.75)).collect();
    let data = SurvivalData::new(durations, events).expect("data");
    let mut g = c.benchmark_group("kaplan_meier");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("fit", n), |b| {
        b.iter(|| {
            KaplanMeierOptions::new()
                .compute(black_box(&data))
                .expect("fit")
        })
    });
    g.finish();
}

fn cox(c: &mut Criterion) {
    let (n, p) = (1_000_000, 10);
    let beta = [0.5, -0.3, 0.2, 0.0, 0.1, -0.2, 0.4, -0.4, 0.3, 0.0];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
    let mut x = Array2::zeros((n, p));
    let (mut durations, mut events) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        for j in 0..p {
            x[[i, j]] = match j {
                0..=5 => rng.sample(StandardNormal),
                6 | 7 => f64::from(u8::from(rng.gen_bool(0.4))),
                _ => rng.gen::<f64>(),
            };
        }
        let eta: f64 = (0..p).map(|j| beta[j] * x[[i, j]]).sum();
        let t: f64 = rng.sample(Exp::new(0.1 * eta.exp()).expect("rate"));
        let censor: f64 = rng.sample(Exp::new(0.04).expect("rate"));
        durations.push((t.min(censor) * 100.0).round().max(1.0) / 100.0);
        events.push(t <= censor);
    }
    let data = SurvivalData::new(durations, events).expect("data");
    let names: Vec<String> = (0..p).map(|j| format!("x{j}")).collect();
    let mut g = c.benchmark_group("cox");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("efron_1m_x10", n), |b| {
        b.iter(|| {
            CoxOptions::new()
                .fit(black_box(&data), x.view(), &names)
                .expect("fit")
        })
    });
    g.finish();
}

/// `n` customers × 14 features, and labels from a planted logistic rule.
fn churn_data(n: usize, rng: &mut Xoshiro256PlusPlus) -> (ChurnFeatures, Vec<bool>) {
    let p = 14;
    let values = Array2::from_shape_simple_fn((n, p), || rng.sample::<f64, _>(StandardNormal));
    let churned = (0..n)
        .map(|i| {
            let eta = 0.8 * values[[i, 0]] - 0.5 * values[[i, 1]] + 0.3 * values[[i, 2]];
            rng.gen::<f64>() < 1.0 / (1.0 + (-eta).exp())
        })
        .collect();
    let names = (0..p).map(|j| format!("f{j}")).collect();
    let rows = Rows::from_ids((0..n).map(|i| i.to_string()));
    (
        ChurnFeatures {
            rows,
            names,
            values,
        },
        churned,
    )
}

fn churn_scoring(c: &mut Criterion) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
    let (train, labels) = churn_data(50_000, &mut rng);
    let logistic = ChurnOptions::new()
        .fit(&train, &labels)
        .expect("logistic")
        .model;
    let forest = ChurnOptions::new()
        .method(ChurnMethod::Forest)
        .fit(&train, &labels)
        .expect("forest")
        .model;
    let (big, _) = churn_data(10_000_000, &mut rng);
    let mut g = c.benchmark_group("churn_scoring");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(10_000_000));
    g.bench_function(BenchmarkId::new("logistic", 10_000_000), |b| {
        b.iter(|| logistic.score(black_box(&big)).expect("scores"))
    });
    let (mid, _) = churn_data(1_000_000, &mut rng);
    g.throughput(Throughput::Elements(1_000_000));
    g.bench_function(BenchmarkId::new("forest_100_trees", 1_000_000), |b| {
        b.iter(|| forest.score(black_box(&mid)).expect("scores"))
    });
    g.finish();
}

criterion_group!(benches, kaplan_meier, cox, churn_scoring);
criterion_main!(benches);
