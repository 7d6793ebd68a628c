//! Uplift random forest fits on synthetic campaigns (synth::UpliftSynth): 20 trees of
//! depth ≤ 5, leaves ≥ 100 rows, KL criterion, 10 features per split, bootstrap, on
//! 20 features (causalml's UpliftRandomForestClassifier defaults apart from the tree
//! count). Prediction of every row is timed separately.

use std::hint::black_box;
use std::time::Duration;

use acrm::promotion::{UpliftData, UpliftForestOptions};
use acrm::synth::UpliftSynth;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn forest(c: &mut Criterion) {
    let mut group = c.benchmark_group("uplift_forest");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    group.warm_up_time(Duration::from_secs(2));
    let rows = 100_000usize;
    let s = UpliftSynth::new()
        .rows(rows)
        .features(20)
        .seed(2026)
        .generate()
        .expect("valid settings");
    let data = UpliftData::new(s.x.view(), &s.treatment, &s.outcome).expect("valid data");
    let opts = UpliftForestOptions::new().trees(20).max_depth(5);
    group.throughput(Throughput::Elements(rows as u64));
    group.bench_with_input(BenchmarkId::new("fit", rows), &data, |b, d| {
        b.iter(|| black_box(opts.fit(d).expect("fits")))
    });
    let model = opts.fit(&data).expect("fits").model;
    group.bench_with_input(BenchmarkId::new("predict", rows), &s.x, |b, x| {
        b.iter(|| black_box(model.predict(x.view()).expect("scores")))
    });
    group.finish();
}

criterion_group!(benches, forest);
criterion_main!(benches);
