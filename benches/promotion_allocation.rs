//! Budget allocation benchmark: response curves fitted to 20 groups × 50 past campaigns
//! (Hill with k free, negative exponential, and both with the AIC choice), then a budget
//! allocated across the 20 fitted curves (concave: exponential; mixed with S-shaped
//! Hill curves).
//!
//! Data: per group a curve with top in [200, 1200), a half-saturation spend or scale in
//! [100, 900) and (Hill groups) k in [0.6, 2.6), spends uniform on [10, 2000) and normal
//! noise of 4 % of top, all from `Xoshiro256PlusPlus` seeded with 2026 + the group's
//! index. Run with `cargo bench --bench promotion_allocation`.

use std::hint::black_box;
use std::time::Duration;

use acrm::data::{SpendHistory, SpendRecord};
use acrm::promotion::{AllocationOptions, CurveChoice, ResponseCurve, ResponseOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

const GROUPS: usize = 20;
const CAMPAIGNS: usize = 50;

fn history() -> SpendHistory {
    let mut records = Vec::new();
    for g in 0..GROUPS {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026 + g as u64);
        let top = 200.0 + 1000.0 * rng.gen::<f64>();
        let half = 100.0 + 800.0 * rng.gen::<f64>();
        let k = 0.6 + 2.0 * rng.gen::<f64>();
        let curve = if g % 2 == 0 {
            ResponseCurve::hill(top, half, k).expect("valid curve")
        } else {
            ResponseCurve::exponential(top, half).expect("valid curve")
        };
        for _ in 0..CAMPAIGNS {
            let s = 10.0 + 1990.0 * rng.gen::<f64>();
            let z: f64 = StandardNormal.sample(&mut rng);
            records.push(SpendRecord {
                group: format!("g{g:02}"),
                spend: s,
                outcome: curve.value(s) + 0.04 * top * z,
            });
        }
    }
    SpendHistory::new(records).expect("valid history")
}

fn bench(c: &mut Criterion) {
    let h = history();
    let mut g = c.benchmark_group("allocation");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(GROUPS as u64));
    for (name, choice) in [
        ("fit_hill", CurveChoice::Hill),
        ("fit_exp", CurveChoice::Exponential),
        ("fit_auto", CurveChoice::Auto),
    ] {
        let opts = ResponseOptions::new().curve(choice);
        assert!(opts.fit(&h).is_ok());
        g.bench_function(BenchmarkId::new(name, GROUPS * CAMPAIGNS), |b| {
            b.iter(|| opts.fit(black_box(&h)))
        });
    }
    let concave = ResponseOptions::new()
        .curve(CurveChoice::Exponential)
        .fit(&h)
        .expect("fits")
        .model;
    let mixed = ResponseOptions::new().fit(&h).expect("fits").model;
    let plan = AllocationOptions::new(10_000.0);
    assert!(plan.compute(&concave).is_ok() && plan.compute(&mixed).is_ok());
    g.bench_function(BenchmarkId::new("allocate_concave", GROUPS), |b| {
        b.iter(|| plan.compute(black_box(&concave)))
    });
    g.bench_function(BenchmarkId::new("allocate_auto_curves", GROUPS), |b| {
        b.iter(|| plan.compute(black_box(&mixed)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
