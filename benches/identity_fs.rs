//! Fellegi–Sunter benchmark: 1,000,000 comparison vectors over 6 fields (levels
//! 4, 4, 3, 3, 2, 4; about 5% missing per field; 1% matches) drawn from planted λ, m, u;
//! EM with u fixed (splink's way, u from 100,000 random pairs), EM with u estimated
//! (ECM), and batch scoring of the 1,000,000 pairs.
//!
//! Data: seeded synthetic vectors built here (Xoshiro256++, seed 21), outside the timed
//! loop. Run with `cargo bench --bench identity_fs`.

use std::hint::black_box;
use std::time::Duration;

use acrm::identity::fellegi_sunter::MISSING_LEVEL;
use acrm::identity::{estimate_u, ComparisonVectors, FellegiSunterOptions};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const N: usize = 1_000_000;
const LEVELS: [u8; 6] = [4, 4, 3, 3, 2, 4];

/// Draws a level from cumulative shares.
fn draw(rng: &mut Xoshiro256PlusPlus, p: &[f64]) -> u8 {
    let x: f64 = rng.gen();
    let mut acc = 0.0;
    for (l, &q) in p.iter().enumerate() {
        acc += q;
        if x < acc {
            return l as u8;
        }
    }
    (p.len() - 1) as u8
}

fn vectors(n: usize, lambda: f64, seed: u64) -> ComparisonVectors {
    let m: [&[f64]; 6] = [
        &[0.8, 0.1, 0.05, 0.05],
        &[0.7, 0.15, 0.1, 0.05],
        &[0.85, 0.1, 0.05],
        &[0.9, 0.05, 0.05],
        &[0.95, 0.05],
        &[0.6, 0.2, 0.1, 0.1],
    ];
    let u: [&[f64]; 6] = [
        &[0.01, 0.04, 0.15, 0.8],
        &[0.02, 0.08, 0.2, 0.7],
        &[0.05, 0.15, 0.8],
        &[0.003, 0.1, 0.897],
        &[0.1, 0.9],
        &[0.001, 0.01, 0.09, 0.899],
    ];
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut v = ComparisonVectors::new(LEVELS.to_vec()).expect("levels");
    let mut row = [0u8; 6];
    for _ in 0..n {
        let is_match = rng.gen::<f64>() < lambda;
        for f in 0..6 {
            row[f] = if rng.gen::<f64>() < 0.05 {
                MISSING_LEVEL
            } else if is_match {
                draw(&mut rng, m[f])
            } else {
                draw(&mut rng, u[f])
            };
        }
        v.push(&row).expect("valid row");
    }
    v
}

fn fellegi_sunter(c: &mut Criterion) {
    let pairs = vectors(N, 0.01, 21);
    let u = estimate_u(&vectors(100_000, 0.0, 22)).expect("u");
    let model = FellegiSunterOptions::new()
        .fit(&pairs, Some(&u))
        .expect("fit")
        .model;
    let mut g = c.benchmark_group("fellegi_sunter");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .throughput(Throughput::Elements(N as u64));
    g.bench_function("em_fixed_u_1m", |b| {
        b.iter(|| {
            FellegiSunterOptions::new()
                .fit(black_box(&pairs), Some(&u))
                .expect("fit")
        })
    });
    g.bench_function("em_ecm_1m", |b| {
        b.iter(|| {
            FellegiSunterOptions::new()
                .lambda(0.05)
                .max_iterations(100)
                .fit(black_box(&pairs), None)
                .expect("fit")
        })
    });
    g.bench_function("score_1m", |b| {
        b.iter(|| model.score(black_box(&pairs)).expect("score"))
    });
    g.finish();
}

criterion_group!(benches, fellegi_sunter);
criterion_main!(benches);
