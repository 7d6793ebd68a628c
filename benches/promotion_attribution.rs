//! Attribution benchmarks on 1,000,000 touch paths over 20 channels (1 to 8 touches
//! each, about 4.5 on average): aggregating the raw paths (interning channels, merging
//! identical paths), the exact first-order Markov chain (transition counts in parallel,
//! then 21 dense solves of a 21-state system), Shapley values (closed form), and all
//! three in a row (the target: ≤ 1 s); plus every model at once.
//!
//! Data: seeded synthetic paths built here (Xoshiro256++, seed 1), outside the timed
//! loop. Run with `cargo bench --bench promotion_attribution`.

use std::hint::black_box;
use std::time::Duration;

use acrm::data::{Paths, PathsBuilder};
use acrm::promotion::AttributionOptions;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const N: usize = 1_000_000;
const CHANNELS: usize = 20;

/// Raw paths: channel indices, their offsets, and per path (conversions, value, nulls).
struct Raw {
    names: Vec<String>,
    touches: Vec<u8>,
    offsets: Vec<usize>,
    counts: Vec<(f64, f64, f64)>,
}

fn raw() -> Raw {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let names = (0..CHANNELS).map(|c| format!("channel_{c:02}")).collect();
    let (mut touches, mut offsets, mut counts) = (Vec::new(), vec![0], Vec::with_capacity(N));
    for _ in 0..N {
        for _ in 0..rng.gen_range(1..=8) {
            // Skewed: low channel numbers more frequent.
            let c = (rng.gen::<f64>().powi(2) * CHANNELS as f64) as u8;
            touches.push(c);
        }
        offsets.push(touches.len());
        let converted = rng.gen::<f64>() < 0.1;
        let value = if converted {
            rng.gen_range(10.0..500.0)
        } else {
            0.0
        };
        counts.push((
            f64::from(u8::from(converted)),
            value,
            f64::from(u8::from(!converted)),
        ));
    }
    Raw {
        names,
        touches,
        offsets,
        counts,
    }
}

fn aggregate(raw: &Raw) -> Paths {
    let mut b = PathsBuilder::new();
    let mut p: Vec<&str> = Vec::with_capacity(8);
    for (i, &(c, v, n)) in raw.counts.iter().enumerate() {
        p.clear();
        p.extend(
            raw.touches[raw.offsets[i]..raw.offsets[i + 1]]
                .iter()
                .map(|&t| raw.names[t as usize].as_str()),
        );
        b.push(&p, c, v, n).expect("valid path");
    }
    b.build().expect("paths")
}

fn attribution(c: &mut Criterion) {
    let raw = raw();
    let paths = aggregate(&raw);
    let opts = AttributionOptions::new();
    let mut g = c.benchmark_group("attribution");
    g.sample_size(10).measurement_time(Duration::from_secs(8));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("aggregate_1M", |b| b.iter(|| black_box(aggregate(&raw))));
    g.bench_function("markov_exact_1M", |b| {
        b.iter(|| black_box(opts.markov(&paths).expect("markov")))
    });
    g.bench_function("shapley_1M", |b| b.iter(|| black_box(opts.shapley(&paths))));
    g.bench_function("aggregate_markov_shapley_1M", |b| {
        b.iter(|| {
            let paths = aggregate(&raw);
            let m = opts.markov(&paths).expect("markov");
            black_box((m, opts.shapley(&paths)))
        })
    });
    g.bench_function("all_models_1M", |b| {
        b.iter(|| black_box(opts.compute(&paths).expect("attribution")))
    });
    g.finish();
}

criterion_group!(benches, attribution);
criterion_main!(benches);
