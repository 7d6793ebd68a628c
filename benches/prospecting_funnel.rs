//! Funnel and win/loss benchmarks: the funnel of 1,000,000 dated contacts over 20
//! campaigns (by campaign, with time to convert and Kaplan–Meier per step), and win/loss
//! of 1,000,000 deals with three-stage histories (by owner, with cycle Kaplan–Meier,
//! stage times and slippage).
//!
//! Data: seeded synthetic records built here (Xoshiro256++, seed 1), outside the timed
//! loop. Run with `cargo bench --bench prospecting_funnel`.

use std::hint::black_box;
use std::time::Duration;

use acrm::data::{
    ContactRecord, Contacts, DealStatus, Opportunities, OpportunityRecord, Reached, Scope,
    StageRecord,
};
use acrm::prospecting::{FunnelGrouping, FunnelOptions, WinLossGrouping, WinLossOptions};
use chrono::{Days, NaiveDate};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

const N: usize = 1_000_000;

fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 1).expect("date")
}

fn contacts() -> Contacts {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let records = (0..N).map(|i| {
        let created = start() + Days::new(rng.gen_range(0..240));
        let campaign = rng.gen_range(0..20u32);
        let mut day = created;
        let mut reached = [Reached::No; 3];
        for (s, p) in [0.3, 0.4, 0.45].into_iter().enumerate() {
            if rng.gen::<f64>() >= p {
                break;
            }
            day = day + Days::new(rng.gen_range(0..40));
            reached[s] = Reached::On(day);
        }
        ContactRecord {
            id: format!("c{i}"),
            campaign: format!("campaign{campaign}"),
            channel: Some(["web", "event", "phone"][i % 3].to_string()),
            owner: Some(format!("owner{}", i % 50)),
            created: Some(created),
            lead: reached[0],
            opportunity: reached[1],
            order: reached[2],
            attributes: Default::default(),
        }
    });
    Contacts::new(records).expect("valid contacts")
}

fn deals() -> Opportunities {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let as_of = NaiveDate::from_ymd_opt(2024, 12, 31).expect("date");
    let mut records = Vec::with_capacity(N);
    let mut history = Vec::with_capacity(3 * N);
    for i in 0..N {
        let id = format!("o{i}");
        let created = start() + Days::new(rng.gen_range(0..330));
        let mut expected = created + Days::new(rng.gen_range(30..90));
        let mut day = created;
        for stage in ["prospect", "proposal", "negotiation"] {
            history.push(StageRecord {
                opportunity: id.clone(),
                stage: stage.to_string(),
                entered: day,
                expected_close: Some(expected),
            });
            day = day + Days::new(rng.gen_range(1..30));
            if rng.gen::<f64>() < 0.3 {
                expected = expected + Days::new(rng.gen_range(7..45));
            }
        }
        let (status, closed) = if day > as_of {
            (DealStatus::Open, None)
        } else if rng.gen::<f64>() < 0.4 {
            (DealStatus::Won, Some(day))
        } else {
            (DealStatus::Lost, Some(day))
        };
        records.push(OpportunityRecord {
            id,
            customer: None,
            owner: Some(format!("owner{}", i % 50)),
            stage: "negotiation".into(),
            amount: rng.gen_range(1000.0..50000.0),
            probability: None,
            product: Some(["boiler", "heat_pump"][i % 2].to_string()),
            created: Some(created),
            expected_close: expected,
            status,
            closed,
            loss_reason: (status == DealStatus::Lost)
                .then(|| ["price", "competitor", "timing"][i % 3].to_string()),
            attributes: Default::default(),
        });
    }
    Opportunities::new(records, history).expect("valid deals")
}

fn funnel(c: &mut Criterion) {
    let contacts = contacts();
    let view = contacts.view(&Scope::all());
    let opts = FunnelOptions::new().by(FunnelGrouping::Campaign);
    let mut g = c.benchmark_group("funnel");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(BenchmarkId::new("by_campaign_dated", N), |b| {
        b.iter(|| opts.compute(black_box(&view)).expect("funnel"))
    });
    g.finish();
}

fn winloss(c: &mut Criterion) {
    let deals = deals();
    let view = deals.view(&Scope::all());
    let opts = WinLossOptions::new().by(WinLossGrouping::Owner);
    let mut g = c.benchmark_group("winloss");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function(BenchmarkId::new("by_owner_with_histories", N), |b| {
        b.iter(|| opts.compute(black_box(&view)).expect("win/loss"))
    });
    g.finish();
}

criterion_group!(benches, funnel, winloss);
criterion_main!(benches);
