//! Lead-scoring benchmark: the logistic-regression fit behind lead scoring
//! ([`LogitOptions::fit`]) on 1M and 10M synthetic leads × 20 features, and the whole
//! lead-scoring report (fit, AUC, deciles, calibration) on 1M leads.
//!
//! Data: seeded, generated in parallel blocks with one generator per block; features
//! standard normal, labels Bernoulli(σ(−1 + Σⱼ βⱼ xⱼ)) with βⱼ = ±0.1 (j mod 5 + 1).
//! `benches/compare/leads_statsmodels.py` times statsmodels' `Logit` on the same kind of
//! data. Run with `cargo bench --bench prospecting_leads`.

use std::hint::black_box;
use std::time::Duration;

use acrm::ndarray::Array2;
use acrm::numerics::LogitOptions;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;

const FEATURES: usize = 20;

/// `n` leads × [`FEATURES`] features and their labels, seeded.
fn leads(n: usize, seed: u64) -> (Array2<f64>, Vec<bool>) {
    const BLOCK: usize = 1 << 14;
    let beta: Vec<f64> = (0..FEATURES)
        .map(|j| if j % 2 == 0 { 0.1 } else { -0.1 } * (j % 5 + 1) as f64)
        .collect();
    let mut x = vec![0.0; n * FEATURES];
    let mut y = vec![false; n];
    x.par_chunks_mut(BLOCK * FEATURES)
        .zip(y.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(b, (xs, ys))| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ (b as u64) << 20);
            for (row, label) in xs.chunks_mut(FEATURES).zip(ys.iter_mut()) {
                let mut eta = -1.0;
                for (v, b) in row.iter_mut().zip(&beta) {
                    *v = rng.sample(StandardNormal);
                    eta += *v * b;
                }
                *label = rng.gen::<f64>() < 1.0 / (1.0 + (-eta).exp());
            }
        });
    (
        Array2::from_shape_vec((n, FEATURES), x).expect("n × features"),
        y,
    )
}

/// CPU seconds (user + system, all threads) this process has used so far, from
/// /proc/self/stat (Linux; `None` elsewhere).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which ends with the last ')'.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Wall and CPU time of a few fits, printed before criterion's measurement: on a machine
/// shared with other work the CPU time (all threads) shows what the fit costs apart from
/// the waiting, and compares with the CPU time statsmodels reports for its own fits.
fn print_cpu_time(x: &Array2<f64>, y: &[bool], names: &[String], runs: usize) {
    for _ in 0..runs {
        let (t, c) = (std::time::Instant::now(), cpu_seconds());
        let fit = LogitOptions::new().fit(x.view(), y, names).expect("fit");
        let wall = t.elapsed().as_secs_f64();
        if let (Some(c0), Some(c1)) = (c, cpu_seconds()) {
            eprintln!(
                "lead_scoring_logit {} rows: wall {:.3} s, CPU {:.2} s, {} passes",
                y.len(),
                wall,
                c1 - c0,
                fit.report.iterations
            );
        }
    }
}

fn names() -> Vec<String> {
    (1..=FEATURES).map(|j| format!("x{j}")).collect()
}

fn fit_1m(c: &mut Criterion) {
    let n = 1_000_000;
    let (x, y) = leads(n, 7);
    let names = names();
    print_cpu_time(&x, &y, &names, 5);
    let mut g = c.benchmark_group("lead_scoring_logit");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("fit_20_features", n), |b| {
        b.iter(|| {
            LogitOptions::new()
                .fit(black_box(x.view()), black_box(&y), &names)
                .expect("fit")
        })
    });
    g.bench_function(BenchmarkId::new("fit_20_features_cold_start", n), |b| {
        b.iter(|| {
            LogitOptions::new()
                .warm_start(false)
                .fit(black_box(x.view()), black_box(&y), &names)
                .expect("fit")
        })
    });
    g.finish();
}

fn fit_10m(c: &mut Criterion) {
    let n = 10_000_000;
    let (x, y) = leads(n, 7);
    let names = names();
    print_cpu_time(&x, &y, &names, 2);
    let mut g = c.benchmark_group("lead_scoring_logit_10m");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("fit_20_features", n), |b| {
        b.iter(|| {
            LogitOptions::new()
                .fit(black_box(x.view()), black_box(&y), &names)
                .expect("fit")
        })
    });
    g.finish();
}

criterion_group!(benches, fit_1m, fit_10m);
criterion_main!(benches);
