//! End-to-end identity resolution benchmark: normalise, block automatically, compare,
//! estimate (u from the 1M pairs of 1,414 sampled records, m by EM sessions, λ), score,
//! cluster and build golden records, for 10,000 and 100,000 customer records of the
//! seeded people generator (`acrm::synth::PeopleSynth`, seed 2026: typos, nicknames,
//! moves, missing fields, households), seven fields as the `dedupe` example compares
//! them.
//!
//! Data: generated and parsed outside the timed loop. Run with
//! `cargo bench --bench identity_resolve`.

use std::hint::black_box;
use std::time::Duration;

use acrm::data::CustomerRecords;
use acrm::identity::ResolveOptions;
use acrm::synth::{people_reader, PeopleSynth};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// About `records` records (1.9 per person on the generator's defaults).
fn records(records: usize) -> CustomerRecords {
    let people = PeopleSynth::new()
        .people(records * 100 / 189)
        .seed(2026)
        .generate()
        .expect("generator defaults are valid");
    let mut csv = Vec::new();
    people.write_csv(&mut csv).expect("writing to memory");
    people_reader()
        .read(&csv[..])
        .expect("the generator writes valid records")
}

fn resolve(c: &mut Criterion) {
    let mut g = c.benchmark_group("identity_resolve");
    g.sample_size(10).measurement_time(Duration::from_secs(30));
    for n in [10_000, 100_000] {
        let data = records(n);
        g.throughput(Throughput::Elements(data.len() as u64));
        g.bench_with_input(BenchmarkId::new("auto", data.len()), &data, |b, d| {
            b.iter(|| black_box(ResolveOptions::new().compute(d).expect("resolves")))
        });
    }
    g.finish();
}

criterion_group!(benches, resolve);
criterion_main!(benches);
