//! Identity comparison benchmark: Jaro–Winkler on 10,000 name pairs (the inner call of
//! the name levels), and the default Name comparison levels over a batch of 100,000
//! record pairs of two precomputed [`NormalizedColumn`]s (what scoring does per field).
//!
//! Data: seeded full names from a small given-name × surname table, half of the pairs a
//! planted typo (substitution, deletion or adjacent swap) of the other side, half another
//! name. Run with `cargo bench --bench identity_compare`.

use std::hint::black_box;
use std::time::Duration;

use acrm::data::FieldKind;
use acrm::identity::{strings, Comparison, NormalizedColumn};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const GIVEN: &[&str] = &[
    "Robert",
    "William",
    "Elizabeth",
    "James",
    "Michael",
    "Catherine",
    "Sarah",
    "Margaret",
    "Bob",
    "Liz",
    "José",
    "Zoë",
    "Jon",
    "John",
    "Martha",
    "Dwayne",
    "Brian",
    "Jeffrey",
];
const SURNAMES: &[&str] = &[
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Thompson",
    "O'Brien",
    "McDonald",
    "Müller",
    "Dixon",
    "Robinson",
    "Wright",
    "Walker",
    "Evans",
    "Sánchez",
    "Kovačević",
];

/// A seeded full name.
fn name(rng: &mut Xoshiro256PlusPlus) -> String {
    format!(
        "{} {}",
        GIVEN[rng.gen_range(0..GIVEN.len())],
        SURNAMES[rng.gen_range(0..SURNAMES.len())]
    )
}

/// `s` with one planted typo: substitution, deletion or adjacent swap.
fn typo(rng: &mut Xoshiro256PlusPlus, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    let i = rng.gen_range(0..c.len() - 1);
    match rng.gen_range(0..3) {
        0 => c[i] = char::from(b'a' + rng.gen_range(0..26u8)),
        1 => {
            c.remove(i);
        }
        _ => c.swap(i, i + 1),
    }
    c.into_iter().collect()
}

/// `n` seeded name pairs, half near-duplicates.
fn pairs(n: usize, seed: u64) -> (Vec<String>, Vec<String>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|k| {
            let a = name(&mut rng);
            let b = if k % 2 == 0 {
                typo(&mut rng, &a)
            } else {
                name(&mut rng)
            };
            (a, b)
        })
        .unzip()
}

fn bench(c: &mut Criterion) {
    let (a, b) = pairs(10_000, 21);
    let na: Vec<String> = a
        .iter()
        .map(|s| acrm::identity::normalize(FieldKind::Name, s).unwrap_or_default())
        .collect();
    let nb: Vec<String> = b
        .iter()
        .map(|s| acrm::identity::normalize(FieldKind::Name, s).unwrap_or_default())
        .collect();
    let mut g = c.benchmark_group("identity_compare");
    g.measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(na.len() as u64));
    g.bench_function("jaro_winkler/10k_name_pairs", |bench| {
        bench.iter(|| {
            let mut s = 0.0;
            for (x, y) in na.iter().zip(&nb) {
                s += strings::jaro_winkler(black_box(x), black_box(y));
            }
            s
        })
    });

    // Two columns of 10,000 records; 100,000 seeded record pairs between them.
    let ca = NormalizedColumn::new(FieldKind::Name, &a);
    let cb = NormalizedColumn::new(FieldKind::Name, &b);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let idx: Vec<(usize, usize)> = (0..100_000)
        .map(|k| {
            let i = rng.gen_range(0..a.len());
            // Half the pairs are the planted (near-)duplicate pairs, half random.
            (
                i,
                if k % 2 == 0 {
                    i
                } else {
                    rng.gen_range(0..b.len())
                },
            )
        })
        .collect();
    let cmp = Comparison::default_for(FieldKind::Name);
    g.throughput(Throughput::Elements(idx.len() as u64));
    g.bench_function("name_levels/100k_pairs", |bench| {
        bench.iter(|| {
            let mut hist = [0u32; 256];
            for &(i, j) in &idx {
                hist[usize::from(cmp.level(black_box(&ca), i, black_box(&cb), j))] += 1;
            }
            hist
        })
    });
    g.throughput(Throughput::Elements(a.len() as u64));
    g.bench_function("normalized_column/10k_names", |bench| {
        bench.iter(|| NormalizedColumn::new(FieldKind::Name, black_box(&a)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
