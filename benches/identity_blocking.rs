//! Identity blocking and clustering benchmark: automatic blocking (rule choice on a
//! 20,000-record sample, then the chosen rules) over 100,000 people records with planted
//! duplicates and six fields; connected components of 1,000,000 scored pairs over
//! 500,000 records, plain and with anti-chaining.
//!
//! Data: seeded synthetic records and pairs built here (Xoshiro256++, seed 1), outside the
//! timed loop. Run with `cargo bench --bench identity_blocking`.

use std::hint::black_box;
use std::time::Duration;

use acrm::identity::{BlockingOptions, ClusterOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const RECORDS: usize = 100_000;
const PAIRS: usize = 1_000_000;
const NODES: u32 = 500_000;

type Col = Vec<Option<Box<str>>>;

/// People with about 30 % duplicated once to three times, each copy with one or two
/// perturbations (a missing field or a changed character).
fn people(rng: &mut Xoshiro256PlusPlus) -> Vec<Col> {
    let syl = [
        "ka", "lo", "mi", "ren", "sa", "to", "vi", "na", "ber", "dal", "ston", "ma", "el", "ric",
        "an",
    ];
    let word = |rng: &mut Xoshiro256PlusPlus, k: usize| -> String {
        (0..k).map(|_| syl[rng.gen_range(0..syl.len())]).collect()
    };
    let firsts: Vec<String> = (0..500).map(|_| word(rng, 2)).collect();
    let surs: Vec<String> = (0..20_000).map(|_| word(rng, 3)).collect();
    let mut cols: Vec<Col> = vec![Vec::new(); 6];
    let mut p = 0;
    while cols[0].len() < RECORDS {
        let base = [
            firsts[rng.gen_range(0..firsts.len())].clone(),
            surs[rng.gen_range(0..surs.len())].clone(),
            format!(
                "19{:02}{:02}{:02}",
                rng.gen_range(40..100),
                rng.gen_range(1..13),
                rng.gen_range(1..29)
            ),
            format!("AB{}{}", rng.gen_range(0..1000), rng.gen_range(0..10)),
            format!("07{:09}", rng.gen_range(0..1_000_000_000u64)),
            format!("{}{p}@mail.com", word(rng, 2)),
        ];
        let copies = if rng.gen_bool(0.3) {
            rng.gen_range(1..4)
        } else {
            0
        };
        for c in 0..=copies {
            let mut rec: Vec<Option<String>> = base.iter().cloned().map(Some).collect();
            if c > 0 {
                for _ in 0..rng.gen_range(1..3) {
                    let f = rng.gen_range(0..6);
                    if rng.gen_bool(0.5) {
                        rec[f] = None;
                    } else if let Some(v) = rec[f].as_mut() {
                        let mut b = v.clone().into_bytes();
                        let i = rng.gen_range(0..b.len());
                        b[i] = if f < 2 {
                            b'a' + rng.gen_range(0..26u8)
                        } else {
                            b'0' + rng.gen_range(0..10u8)
                        };
                        *v = String::from_utf8(b).expect("ascii");
                    }
                }
            }
            for (f, v) in rec.into_iter().enumerate() {
                cols[f].push(v.map(String::into_boxed_str));
            }
        }
        p += 1;
    }
    for c in &mut cols {
        c.truncate(RECORDS);
    }
    cols
}

fn identity_blocking(c: &mut Criterion) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let cols = people(&mut rng);
    let refs: Vec<&[Option<Box<str>>]> = cols.iter().map(|c| c.as_slice()).collect();
    let pairs: Vec<(u32, u32, f64)> = (0..PAIRS)
        .map(|_| {
            let i = rng.gen_range(0..NODES);
            let mut j = rng.gen_range(0..NODES - 1);
            if j >= i {
                j += 1;
            }
            (i, j, rng.gen::<f64>())
        })
        .collect();
    let auto = BlockingOptions::new();
    let plain = ClusterOptions::new(0.5);
    let strict = ClusterOptions::new(0.5).strict(0.1);

    let mut g = c.benchmark_group("identity_blocking");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    g.throughput(Throughput::Elements(RECORDS as u64));
    g.bench_function(BenchmarkId::new("automatic", RECORDS), |b| {
        b.iter(|| auto.compute(black_box(&refs), None).expect("blocking"))
    });
    g.throughput(Throughput::Elements(PAIRS as u64));
    g.bench_function(BenchmarkId::new("components", PAIRS), |b| {
        b.iter(|| {
            plain
                .compute(NODES as usize, black_box(&pairs))
                .expect("clusters")
        })
    });
    g.bench_function(BenchmarkId::new("components_strict", PAIRS), |b| {
        b.iter(|| {
            strict
                .compute(NODES as usize, black_box(&pairs))
                .expect("clusters")
        })
    });
    g.finish();
}

criterion_group!(benches, identity_blocking);
criterion_main!(benches);
