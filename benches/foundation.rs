//! Foundation benchmarks: summary from an in-memory log, CSV load, synthetic generation.
//!
//! Data: seeded synthetic histories from `acrm::synth` (BG/NBD with the CDNOW estimates,
//! Gamma-Gamma spend, customers acquired over 12 weeks and observed for two years: about
//! 3.1 transactions per customer, as in CDNOW). Benchmark ids carry the actual row
//! counts. Run with `cargo bench --bench foundation`.

use std::hint::black_box;
use std::time::Duration;

use acrm::io::{write_transactions_csv, CsvOptions};
use acrm::synth::SynthOptions;
use acrm::{Dataset, Scope, SummaryOptions, Weeks};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// A synthetic base with about `transactions` rows (3.1 per customer on average).
fn base(transactions: usize) -> Dataset {
    let customers = transactions * 10 / 31;
    SynthOptions::<Weeks>::new()
        .customers(customers)
        .seed(7)
        .generate()
        .expect("valid options")
        .dataset
}

fn summary(c: &mut Criterion) {
    let mut g = c.benchmark_group("summary");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let end = NaiveDate::from_ymd_opt(2025, 6, 30).expect("date");
    for n in [1_000_000, 10_000_000] {
        // `n` is the target size; the id reports the rows generated.
        let data = base(n);
        let all = data.view(&Scope::all());
        let rows = all.transactions();
        g.throughput(Throughput::Elements(rows as u64));
        g.bench_with_input(BenchmarkId::new("in_memory", rows), &all, |b, v| {
            b.iter(|| {
                SummaryOptions::new(end)
                    .compute::<Weeks>(black_box(v))
                    .expect("summary")
            })
        });
    }
    g.finish();
}

fn csv_load(c: &mut Criterion) {
    let mut g = c.benchmark_group("csv_load");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let data = base(1_000_000);
    // The three required columns only, as the comparison with pandas reads them.
    let mut full = Vec::new();
    let all = data.view(&Scope::all());
    write_transactions_csv(&all, &mut full).expect("in-memory write");
    let mut three = Vec::with_capacity(full.len());
    for line in full.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let mut fields = line.splitn(4, |&b| b == b',');
        let parts: Vec<&[u8]> = (0..3).filter_map(|_| fields.next()).collect();
        three.extend_from_slice(&parts.join(&b','));
        three.push(b'\n');
    }
    let rows = all.transactions() as u64;
    g.throughput(Throughput::Elements(rows));
    g.bench_function(BenchmarkId::new("customer_date_amount", rows), |b| {
        b.iter(|| {
            CsvOptions::new()
                .read_bytes(black_box(&three))
                .expect("load")
        })
    });
    g.bench_function(BenchmarkId::new("all_8_columns", rows), |b| {
        b.iter(|| {
            CsvOptions::new()
                .read_bytes(black_box(&full))
                .expect("load")
        })
    });
    g.finish();
}

fn synth(c: &mut Criterion) {
    let mut g = c.benchmark_group("synth");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let n = 1_000_000;
    g.throughput(Throughput::Elements(n as u64));
    g.bench_function(BenchmarkId::new("customers", n), |b| {
        b.iter(|| {
            SynthOptions::<Weeks>::new()
                .customers(n)
                .seed(1)
                .generate()
                .expect("valid")
        })
    });
    g.finish();
}

criterion_group!(benches, summary, csv_load, synth);
criterion_main!(benches);
