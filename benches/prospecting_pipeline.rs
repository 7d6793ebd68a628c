//! Weighted pipeline benchmark: 1,000,000 synthetic opportunities (half open, close
//! dates spread over the fiscal year): the pipeline tables, the learned win rates, and
//! 10,000 simulations of one quarter's bookings (about 125,000 open deals in it).
//!
//! Data: `acrm::synth::OpportunitySynth` (seed 7, fiscal year from 2024-10-01), built
//! outside the timed loop. Run with `cargo bench --bench prospecting_pipeline`.

use std::hint::black_box;
use std::time::Duration;

use acrm::prospecting::{
    CalibrationGrouping, CalibrationOptions, PipelineOptions, QuarterOutcomeOptions,
};
use acrm::synth::{OpportunitySynth, SYNTH_ENTERED, SYNTH_STAGES};
use acrm::Scope;
use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const DEALS: usize = 1_000_000;
const SIMULATIONS: usize = 10_000;

fn pipeline(c: &mut Criterion) {
    let start = NaiveDate::from_ymd_opt(2024, 10, 1).expect("date");
    let data = OpportunitySynth::new()
        .opportunities(DEALS)
        .fiscal_year_start(start)
        .seed(7)
        .generate()
        .expect("valid options");
    let view = data.view(&Scope::all());
    // Deals without an entered probability take their stage's.
    let options = PipelineOptions::new(start)
        .stage_probabilities(SYNTH_STAGES.iter().copied().zip(SYNTH_ENTERED));
    let mut g = c.benchmark_group("pipeline");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(DEALS as u64));
    g.bench_function(BenchmarkId::new("tables", DEALS), |b| {
        b.iter(|| options.compute(black_box(&view)).expect("pipeline"))
    });
    let calibration = CalibrationOptions::new()
        .by(CalibrationGrouping::Owner)
        .by(CalibrationGrouping::AgeInStage(vec![15, 30]));
    g.bench_function(BenchmarkId::new("calibration_owner_age", DEALS), |b| {
        b.iter(|| calibration.compute(black_box(&view)).expect("calibration"))
    });
    let outcome = QuarterOutcomeOptions::new(options.clone(), 1)
        .simulations(SIMULATIONS)
        .seed(1)
        .target(5.0e8);
    let q = outcome.compute(&view).expect("outcome");
    eprintln!(
        "quarter 1: {} open deals, mean {:.0}, sd {:.0}, P10/P50/P90 {:.0}/{:.0}/{:.0}",
        q.deals, q.mean, q.sd, q.p10, q.p50, q.p90
    );
    g.throughput(Throughput::Elements(q.deals * SIMULATIONS as u64));
    g.bench_function(
        BenchmarkId::new("quarter_10000_simulations", q.deals),
        |b| b.iter(|| outcome.compute(black_box(&view)).expect("outcome")),
    );
    g.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
