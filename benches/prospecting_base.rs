//! Customer-base forecast benchmark: 100,000 customers × 12 periods with 1,000
//! simulations.
//!
//! Data: `acrm::synth` with its defaults (BG/NBD purchases with the CDNOW estimates,
//! Gamma-Gamma spend), summarised in weeks at 2024-09-30; the forecast uses the CDNOW
//! BG/NBD estimates, four-week periods, four customer categories (by position) and a new
//! cohort series per category with a shifted-beta-geometric retention curve. Run with
//! `cargo bench --bench prospecting_base`.

use std::hint::black_box;
use std::time::Duration;

use acrm::persistency::{BgNbd, ShiftedBetaGeometric};
use acrm::prospecting::{BaseForecastOptions, ExistingBase, NewCohorts};
use acrm::synth::SynthOptions;
use acrm::{Scope, SummaryOptions, Weeks};
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const CUSTOMERS: usize = 100_000;
const PERIODS: u32 = 12;
const SIMULATIONS: usize = 1000;

fn forecast(c: &mut Criterion) {
    let data = SynthOptions::<Weeks>::new()
        .customers(CUSTOMERS)
        .seed(7)
        .generate()
        .expect("valid options")
        .dataset;
    let cal = NaiveDate::from_ymd_opt(2024, 9, 30).expect("date");
    let records = SummaryOptions::new(cal)
        .compute::<Weeks>(&data.view(&Scope::all()))
        .expect("summary")
        .records();
    let labels: Vec<&str> = (0..records.len())
        .map(|i| ["north", "south", "east", "west"][i % 4])
        .collect();
    let model = BgNbd::new(0.243, 4.414, 0.793, 2.426).expect("model");
    let sbg = ShiftedBetaGeometric::new(0.704, 1.182).expect("model");
    let base = ExistingBase::new(&model, &records)
        .categories(&labels)
        .expect("one label per record");
    let cohorts: Vec<NewCohorts<'_>> = ["north", "south", "east", "west"]
        .iter()
        .map(|c| NewCohorts::new(*c, vec![500.0; PERIODS as usize], &sbg))
        .collect();
    let opts = BaseForecastOptions::new(PERIODS)
        .period_length(4.0)
        .simulations(SIMULATIONS)
        .seed(1);
    let mut g = c.benchmark_group("base_forecast");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(records.len() as u64));
    g.bench_function(
        BenchmarkId::new("bgnbd_12_periods_1000_simulations", records.len()),
        |b| {
            b.iter(|| {
                opts.compute(black_box(&base), black_box(&cohorts))
                    .expect("forecast")
            })
        },
    );
    g.finish();
}

criterion_group!(benches, forecast);
criterion_main!(benches);
