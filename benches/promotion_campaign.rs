//! Campaign results benchmark: 1,000,000 contacts in three arms (control and two
//! offers) over four campaigns, two given outcomes and a value; all contacts in one
//! group with the pooled arm, cost and margin (every test, interval and figure), and
//! grouped by campaign.
//!
//! Data: seeded synthetic records built here (Xoshiro256++, seed 1), outside the timed
//! loop. Run with `cargo bench --bench promotion_campaign`.

use std::hint::black_box;
use std::time::Duration;

use acrm::data::{CampaignContactRecord, CampaignContacts, Dataset, Scope};
use acrm::promotion::{CampaignGrouping, CampaignOptions};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const N: usize = 1_000_000;

fn contacts() -> CampaignContacts {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let records = (0..N).map(|i| {
        let arm = rng.gen_range(0..3usize);
        let click = rng.gen::<f64>() < 0.10 + 0.02 * arm as f64;
        let buy = rng.gen::<f64>() < 0.03 + 0.01 * arm as f64;
        let value = if buy { rng.gen_range(20.0..200.0) } else { 0.0 };
        CampaignContactRecord::new(
            ["spring_mail", "spring_email", "summer_email", "autumn_mail"][i % 4],
            Some(&format!("c{i}")),
            ["control", "offer_a", "offer_b"][arm],
        )
        .outcome("click", click)
        .outcome("purchase", buy)
        .value(value)
    });
    CampaignContacts::new(records).expect("valid contacts")
}

fn campaign(c: &mut Criterion) {
    let contacts = contacts();
    let data = Dataset::default();
    let customers = data.view(&Scope::all());
    let view = contacts.view(&customers);
    let all = CampaignOptions::new()
        .pool_treated(true)
        .cost_per_contact(0.5)
        .margin(0.3);
    let by_campaign = all.clone().by(CampaignGrouping::Campaign);
    let mut g = c.benchmark_group("campaign");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(BenchmarkId::new("all_pooled_economics", N), |b| {
        b.iter(|| all.compute(black_box(&view)).expect("campaign"))
    });
    g.bench_function(BenchmarkId::new("by_campaign", N), |b| {
        b.iter(|| by_campaign.compute(black_box(&view)).expect("campaign"))
    });
    g.finish();
}

criterion_group!(benches, campaign);
criterion_main!(benches);
