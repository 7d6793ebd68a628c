//! Performance-analysis benchmarks on seeded synthetic order lines
//! (`acrm::synth::OrderLineSynth`: 2023–2024, the planted mix and rate changes; the file
//! of the side-by-side comparison with DuckDB in benches/compare/cube_duckdb.py).
//!
//! - `cube/category_channel_region`: `GROUP BY CUBE` of three dimensions (8 grouping sets)
//!   with exact distinct orders and customers, money in cents;
//! - `cube/rollup_year_quarter_month`: `GROUP BY ROLLUP` of the calendar;
//! - `cube/change_by_category`: 2023 → 2024, revenue (LMDI-I) and margin (volume, mix,
//!   rate) per category and in total.
//!
//! At 1M lines; at 10M lines too with `ACRM_BENCH_LARGE=1` (about 2 GB of memory). The
//! data is read from CSV once, outside the timings. Run with `cargo bench --bench performance`.

use std::hint::black_box;
use std::time::Duration;

use acrm::data::Dataset;
use acrm::io::CsvOptions;
use acrm::performance::{ChangeOptions, CubeOptions, Dim, Grain, GroupingSets, Window};
use acrm::synth::OrderLineSynth;
use acrm::Scope;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn dataset(lines: u64) -> Dataset {
    let mut csv = Vec::new();
    OrderLineSynth::new()
        .lines(lines)
        .seed(42)
        .write_csv(&mut csv)
        .expect("order lines");
    CsvOptions::order_lines()
        .read_bytes(&csv)
        .expect("read")
        .dataset
}

fn cube(c: &mut Criterion) {
    let mut sizes = vec![(1_000_000u64, "1m")];
    if std::env::var_os("ACRM_BENCH_LARGE").is_some() {
        sizes.push((10_000_000, "10m"));
    }
    let mut g = c.benchmark_group("cube");
    g.sample_size(10).measurement_time(Duration::from_secs(15));
    for (n, label) in sizes {
        let data = dataset(n);
        let view = data.view(&Scope::all());
        g.throughput(Throughput::Elements(view.transactions() as u64));
        let cube = CubeOptions::new().dims([Dim::Category, Dim::Channel, Dim::Region]);
        g.bench_function(BenchmarkId::new("category_channel_region", label), |b| {
            b.iter(|| cube.compute(black_box(&view)).expect("cube"))
        });
        let rollup = CubeOptions::new()
            .dims([
                Dim::Period(Grain::Year),
                Dim::Period(Grain::QuarterOfYear),
                Dim::Period(Grain::MonthOfYear),
            ])
            .sets(GroupingSets::Rollup);
        g.bench_function(BenchmarkId::new("rollup_year_quarter_month", label), |b| {
            b.iter(|| rollup.compute(black_box(&view)).expect("rollup"))
        });
        let change = ChangeOptions::new(Window::year(2023), Window::year(2024)).by(Dim::Category);
        g.bench_function(BenchmarkId::new("change_by_category", label), |b| {
            b.iter(|| change.compute(black_box(&view)).expect("change"))
        });
    }
    g.finish();
}

criterion_group!(benches, cube);
criterion_main!(benches);
