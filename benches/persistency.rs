//! Persistency and value benchmarks: model fits, scoring and lifetime value on a seeded
//! synthetic base of one million customers.
//!
//! Data: `acrm::synth` with its defaults (BG/NBD purchases with the CDNOW estimates,
//! Gamma-Gamma spend, customers acquired over 12 weeks from 2024-01-01), summarised in
//! weeks at 2024-09-30 (a 39-week calibration, as in CDNOW). Summaries made from dated
//! transactions put t_x and T on a day grid, so the million customers collapse to about a
//! hundred thousand (x, t_x, T) patterns. Run with `cargo bench --bench persistency`.

use std::hint::black_box;
use std::time::Duration;

use acrm::persistency::{BgNbd, FitOptions, MbgNbd, ParetoNbd};
use acrm::profitability::{ClvOptions, GammaGamma};
use acrm::summary::{score, Compact, Records};
use acrm::synth::SynthOptions;
use acrm::{Scope, SummaryOptions, Weeks};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const CUSTOMERS: usize = 1_000_000;

/// Per-customer records and compact patterns of the synthetic base.
fn base() -> (Records, Compact<Weeks>) {
    let data = SynthOptions::<Weeks>::new()
        .customers(CUSTOMERS)
        .seed(7)
        .generate()
        .expect("valid options")
        .dataset;
    let cal = NaiveDate::from_ymd_opt(2024, 9, 30).expect("date");
    let summary = SummaryOptions::new(cal)
        .compute::<Weeks>(&data.view(&Scope::all()))
        .expect("summary");
    (summary.records(), summary.compact())
}

fn persistency(c: &mut Criterion) {
    let (records, patterns) = base();
    let n = records.len() as u64;
    let opts = FitOptions::new();
    let mut g = c.benchmark_group("fit");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(n));
    g.bench_function(BenchmarkId::new("bgnbd", n), |b| {
        b.iter(|| opts.fit::<BgNbd>(black_box(&patterns)).expect("fit"))
    });
    g.bench_function(BenchmarkId::new("mbgnbd", n), |b| {
        b.iter(|| opts.fit::<MbgNbd>(black_box(&patterns)).expect("fit"))
    });
    g.bench_function(BenchmarkId::new("pnbd", n), |b| {
        b.iter(|| opts.fit::<ParetoNbd>(black_box(&patterns)).expect("fit"))
    });
    let repeat = records.iter().filter(|r| r.x > 0).count() as u64;
    g.throughput(Throughput::Elements(repeat));
    g.bench_function(BenchmarkId::new("gamma_gamma_repeat_buyers", repeat), |b| {
        b.iter(|| opts.fit::<GammaGamma>(black_box(&records)).expect("fit"))
    });
    g.finish();

    let bg = opts.fit::<BgNbd>(&patterns).expect("fit").model;
    let pnbd = opts.fit::<ParetoNbd>(&patterns).expect("fit").model;
    let gg = opts.fit::<GammaGamma>(&records).expect("fit").model;
    let mut g = c.benchmark_group("score");
    g.sample_size(20).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(n));
    g.bench_function(BenchmarkId::new("bgnbd_39_weeks", n), |b| {
        b.iter(|| score(&bg, black_box(&records), 39.0))
    });
    g.bench_function(BenchmarkId::new("pnbd_39_weeks", n), |b| {
        b.iter(|| score(&pnbd, black_box(&records), 39.0))
    });
    g.bench_function(BenchmarkId::new("clv_12_months_bgnbd_gg", n), |b| {
        b.iter(|| {
            ClvOptions::new()
                .compute(&bg, &gg, black_box(&records))
                .expect("clv")
        })
    });
    g.finish();
}

criterion_group!(benches, persistency);
criterion_main!(benches);
