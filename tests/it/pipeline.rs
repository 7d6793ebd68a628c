//! The weighted pipeline, learned win rates and the quarter bookings simulation
//! (prospecting::pipeline, calibration, outcome) and the opportunity CSV readers.
//!
//! Sources: hand computations over a six-deal dataset written out below (exact);
//! tests/data/prospecting/pipeline/reference.json, made by reference.py there with DuckDB
//! 2.0.1 SQL (the weekly, quarterly and grouped tables, overdue and before-start deals)
//! and statsmodels 0.15.0 `proportion_confint(method="wilson")` (the learned win rates);
//! the known win rates of `OpportunitySynth`; the exact mean and variance of a sum of
//! independent Bernoulli-weighted amounts for the simulation.

use std::collections::BTreeMap;

use acrm::data::{DealStatus, Opportunities, OpportunityRecord, Scope};
use acrm::io::{read_opportunities, read_opportunities_with_history_path};
use acrm::prospecting::{
    CalibrationGrouping, CalibrationOptions, PipelineOptions, ProbabilitySource,
    QuarterOutcomeOptions, ALL_STAGES,
};
use acrm::synth::{OpportunitySynth, SYNTH_STAGES};
use acrm::{Error, Problem};
use approx::assert_relative_eq;
use chrono::{NaiveDate, Weekday};
use serde_json::Value;

use super::pool;

const DATA: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/prospecting/pipeline"
);

/// Agreement with DuckDB's sums (different summation order): relative.
const SQL: f64 = 1e-9;
/// Agreement with statsmodels' Wilson interval (the same closed form).
const WILSON: f64 = 1e-12;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn deal(
    id: &str,
    stage: &str,
    owner: &str,
    amount: f64,
    p: Option<f64>,
    close: NaiveDate,
) -> OpportunityRecord {
    OpportunityRecord {
        id: id.into(),
        customer: None,
        owner: Some(owner.into()),
        stage: stage.into(),
        amount,
        probability: p,
        product: Some(if owner == "ann" { "X" } else { "Y" }.into()),
        created: None,
        expected_close: close,
        status: DealStatus::Open,
        closed: None,
        loss_reason: None,
        attributes: BTreeMap::new(),
    }
}

/// Six deals around a fiscal year starting on Tuesday 2024-10-01.
fn tiny() -> Opportunities {
    let mut won = deal("e", "proposal", "ann", 500.0, Some(0.5), day(2024, 10, 5));
    won.status = DealStatus::Won;
    won.closed = Some(day(2024, 10, 5));
    Opportunities::new(
        [
            // Day 0: week 0.
            deal("a", "proposal", "ann", 1000.0, Some(0.5), day(2024, 10, 1)),
            // Day 19: week 2.
            deal("b", "prospect", "bob", 400.0, Some(0.25), day(2024, 10, 20)),
            // Day 91: week 13, quarter 1.
            deal(
                "c",
                "negotiation",
                "ann",
                2000.0,
                Some(0.8),
                day(2024, 12, 31),
            ),
            // Day 6: week 0; no entered probability.
            deal("d", "prospect", "bob", 300.0, None, day(2024, 10, 7)),
            won,
            // Before the fiscal-year start.
            deal("f", "proposal", "ann", 700.0, Some(0.5), day(2024, 9, 20)),
        ],
        [],
    )
    .unwrap()
}

fn options() -> PipelineOptions {
    PipelineOptions::new(day(2024, 10, 1)).stage_probabilities([("prospect", 0.1)])
}

#[test]
fn tiny_pipeline_equals_the_hand_computation() {
    let data = tiny();
    let p = options().compute(&data.view(&Scope::all())).unwrap();
    // Hand: a 1000·0.5 + b 400·0.25 + c 2000·0.8 + d 300·0.1 (stage map).
    assert_eq!(p.n, 4);
    assert_relative_eq!(p.total_amount, 3700.0);
    assert_relative_eq!(p.total_weighted, 500.0 + 100.0 + 1600.0 + 30.0);
    assert_eq!(p.weekly.len(), 14);
    let w: Vec<(u32, NaiveDate, u64, f64, f64)> = p
        .weekly
        .iter()
        .map(|r| (r.week, r.week_start, r.n, r.amount, r.weighted))
        .collect();
    assert_eq!(w[0], (0, day(2024, 10, 1), 2, 1300.0, 530.0));
    assert_eq!(w[1], (1, day(2024, 10, 8), 0, 0.0, 0.0));
    assert_eq!(w[2], (2, day(2024, 10, 15), 1, 400.0, 100.0));
    assert!(w[3..13].iter().all(|r| r.2 == 0));
    assert_eq!(w[13], (13, day(2024, 12, 31), 1, 2000.0, 1600.0));
    assert_relative_eq!(p.weekly[12].cumulative_weighted, 630.0);
    assert_relative_eq!(p.weekly[13].cumulative_weighted, 2230.0);
    assert_relative_eq!(p.weekly[13].cumulative_amount, 3700.0);
    let q: Vec<(u32, &str, u64, f64, f64)> = p
        .quarterly
        .iter()
        .map(|r| (r.quarter, r.stage.as_str(), r.n, r.amount, r.weighted))
        .collect();
    assert_eq!(
        q,
        [
            (0, "proposal", 1, 1000.0, 500.0),
            (0, "prospect", 2, 700.0, 130.0),
            (0, ALL_STAGES, 3, 1700.0, 630.0),
            (1, "negotiation", 1, 2000.0, 1600.0),
            (1, ALL_STAGES, 1, 2000.0, 1600.0),
        ]
    );
    assert_eq!(p.quarterly[3].quarter_start, day(2024, 12, 31));
    let owners: Vec<(Option<&str>, u64, f64)> = p
        .by_owner
        .iter()
        .map(|r| (r.name.as_deref(), r.n, r.weighted))
        .collect();
    assert_eq!(owners, [(Some("ann"), 2, 2100.0), (Some("bob"), 2, 130.0)]);
    let products = p.by_product.as_ref().unwrap();
    assert_eq!(products[0].name.as_deref(), Some("X"));
    assert_relative_eq!(products[1].weighted, 130.0);
    assert!(p.by_team.is_none(), "no owner → team map given");
    assert_eq!(p.before_start.ids, ["f"]);
    assert_relative_eq!(p.before_start.totals.weighted, 350.0);
    assert_eq!(p.closed, 1);
    assert_eq!(p.overdue.totals.n, 0);
    // Teams from an owner → team map.
    let t = options()
        .teams([("ann", "north"), ("bob", "south")])
        .compute(&data.view(&Scope::all()))
        .unwrap();
    let teams: Vec<(Option<&str>, f64)> = t
        .by_team
        .as_ref()
        .unwrap()
        .iter()
        .map(|r| (r.name.as_deref(), r.weighted))
        .collect();
    assert_eq!(teams, [(Some("north"), 2100.0), (Some("south"), 130.0)]);
}

#[test]
fn a_deal_without_any_probability_is_named_unless_skipped() {
    let data = tiny();
    let view = data.view(&Scope::all());
    let e = PipelineOptions::new(day(2024, 10, 1))
        .compute(&view)
        .unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { row: 3, field, value, .. } if field == "probability" && value == "d"),
        "{e}"
    );
    let p = PipelineOptions::new(day(2024, 10, 1))
        .skip_unpriced(true)
        .compute(&view)
        .unwrap();
    assert_eq!(p.unpriced.ids, ["d"]);
    assert_relative_eq!(p.total_weighted, 2200.0);
    // The stage map instead of the entered numbers: every prospect at 0.1.
    let m = options()
        .probability_source(ProbabilitySource::StageMap)
        .compute(&view)
        .unwrap();
    assert_relative_eq!(m.total_weighted, 500.0 + 40.0 + 1600.0 + 30.0);
    assert!(matches!(
        PipelineOptions::new(day(2024, 10, 1))
            .stage_probabilities([("x", 1.5)])
            .compute(&view),
        Err(Error::InvalidOption {
            option: "stage_probabilities",
            ..
        })
    ));
}

#[test]
fn weeks_start_on_the_configured_weekday() {
    let data = tiny();
    let p = options()
        .week_start(Weekday::Mon)
        .compute(&data.view(&Scope::all()))
        .unwrap();
    // Week 0 is Monday 2024-09-30 to Sunday 2024-10-06: deal a; d (Monday 10-07) opens
    // week 1; b (Sunday 10-20) ends week 2; c (Tuesday 12-31) is in week 13.
    assert_eq!(p.week_zero, day(2024, 9, 30));
    let w: Vec<(u32, NaiveDate, u64)> = p
        .weekly
        .iter()
        .filter(|r| r.n > 0)
        .map(|r| (r.week, r.week_start, r.n))
        .collect();
    assert_eq!(
        w,
        [
            (0, day(2024, 9, 30), 1),
            (1, day(2024, 10, 7), 1),
            (2, day(2024, 10, 14), 1),
            (13, day(2024, 12, 30), 1)
        ]
    );
    // The default is the fiscal-year start's weekday: Tuesday.
    assert_eq!(options().week_start_day(), Weekday::Tue);
}

#[test]
fn overdue_deals_are_reported_not_dropped() {
    let data = tiny();
    let p = options()
        .as_of(day(2024, 10, 10))
        .compute(&data.view(&Scope::all()))
        .unwrap();
    // a (10-01), d (10-07) and f (09-20) close before 10-10.
    assert_eq!(p.overdue.ids, ["a", "d", "f"]);
    assert_relative_eq!(p.overdue.totals.amount, 2000.0);
    assert_relative_eq!(p.overdue.totals.weighted, 500.0 + 30.0 + 350.0);
    assert_eq!(p.before_start.totals.n, 0);
    assert_eq!(p.n, 2);
    assert_relative_eq!(p.total_weighted, 1700.0);
    // Weeks still count from the fiscal-year start: week 0 is there, empty.
    assert_eq!(p.weekly[0].n, 0);
    assert_eq!(p.weekly[2].n, 1);
    // The quarter's simulation does not draw for them, and says how many it left out.
    let o = QuarterOutcomeOptions::new(options().as_of(day(2024, 10, 10)), 0)
        .simulations(100)
        .compute(&data.view(&Scope::all()))
        .unwrap();
    assert_eq!(o.not_simulated, 3);
    assert_relative_eq!(o.not_simulated_amount, 2000.0);
    // A quarter past the bound is an option error, not an overflow.
    assert!(matches!(
        QuarterOutcomeOptions::new(options(), u32::MAX).compute(&data.view(&Scope::all())),
        Err(Error::InvalidOption {
            option: "quarter",
            ..
        })
    ));
}

#[test]
fn an_owner_sees_only_their_deals_and_the_result_says_so() {
    let data = tiny();
    let scope = Scope::of_owners("owner", "ann", ["ann"]);
    let p = options().compute(&data.view(&scope)).unwrap();
    assert_eq!(p.scope.label(), "owner:ann");
    assert_eq!(p.n, 2);
    assert_relative_eq!(p.total_weighted, 2100.0);
    assert!(p.by_owner.iter().all(|r| r.name.as_deref() == Some("ann")));
    assert_eq!(p.before_start.ids, ["f"]);
}

fn reference() -> Value {
    let text = std::fs::read_to_string(format!("{DATA}/reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap()
}

fn load() -> Opportunities {
    read_opportunities_with_history_path(
        format!("{DATA}/opportunities.csv"),
        format!("{DATA}/stage_history.csv"),
    )
    .unwrap()
}

#[test]
fn tables_match_duckdb() {
    let r = reference();
    let data = load();
    let view = data.view(&Scope::all());
    let p = PipelineOptions::new(day(2024, 10, 1))
        .compute(&view)
        .unwrap();
    let t = &r["totals"];
    assert_eq!(p.n, t["n"].as_u64().unwrap());
    assert_relative_eq!(p.total_amount, f(&t["total_amount"]), max_relative = SQL);
    assert_relative_eq!(
        p.total_weighted,
        f(&t["total_weighted"]),
        max_relative = SQL
    );
    let weekly = r["weekly"].as_array().unwrap();
    assert_eq!(p.weekly.len(), weekly.len());
    for (row, w) in p.weekly.iter().zip(weekly) {
        assert_eq!(u64::from(row.week), w["week"].as_u64().unwrap());
        assert_eq!(row.n, w["n"].as_u64().unwrap(), "week {}", row.week);
        assert_relative_eq!(row.amount, f(&w["amount"]), max_relative = SQL);
        assert_relative_eq!(row.weighted, f(&w["weighted"]), max_relative = SQL);
        assert_relative_eq!(
            row.cumulative_weighted,
            f(&w["cumulative_weighted"]),
            max_relative = SQL
        );
    }
    let quarterly = r["quarterly"].as_array().unwrap();
    assert_eq!(p.quarterly.len(), quarterly.len());
    for (row, q) in p.quarterly.iter().zip(quarterly) {
        assert_eq!(u64::from(row.quarter), q["quarter"].as_u64().unwrap());
        assert_eq!(row.stage, q["stage"].as_str().unwrap());
        assert_eq!(row.n, q["n"].as_u64().unwrap());
        assert_relative_eq!(row.amount, f(&q["amount"]), max_relative = SQL);
        assert_relative_eq!(row.weighted, f(&q["weighted"]), max_relative = SQL);
    }
    let groups = [
        ("by_stage", &p.by_stage),
        ("by_owner", &p.by_owner),
        ("by_product", p.by_product.as_ref().unwrap()),
    ];
    for (key, rows) in groups {
        let want = r[key].as_array().unwrap();
        assert_eq!(rows.len(), want.len(), "{key}");
        for (row, g) in rows.iter().zip(want) {
            assert_eq!(row.name.as_deref(), g["name"].as_str(), "{key}");
            assert_eq!(row.n, g["n"].as_u64().unwrap());
            assert_relative_eq!(row.weighted, f(&g["weighted"]), max_relative = SQL);
            assert_relative_eq!(row.amount, f(&g["amount"]), max_relative = SQL);
        }
    }
    let b = &r["before_start"];
    assert_eq!(p.before_start.totals.n, b["n"].as_u64().unwrap());
    assert_relative_eq!(
        p.before_start.totals.weighted,
        f(&b["weighted"]),
        max_relative = SQL
    );
    let ids: Vec<&str> = b["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(p.before_start.ids, ids);
    assert_eq!(p.closed, r["closed"].as_u64().unwrap());

    // Weeks from Monday.
    let m = PipelineOptions::new(day(2024, 10, 1))
        .week_start(Weekday::Mon)
        .compute(&view)
        .unwrap();
    let nonempty: Vec<_> = m.weekly.iter().filter(|w| w.n > 0).collect();
    let want = r["weekly_monday"].as_array().unwrap();
    assert_eq!(nonempty.len(), want.len());
    for (row, w) in nonempty.iter().zip(want) {
        assert_eq!(u64::from(row.week), w["week"].as_u64().unwrap());
        assert_eq!(row.n, w["n"].as_u64().unwrap());
        assert_relative_eq!(row.weighted, f(&w["weighted"]), max_relative = SQL);
    }

    // As of 2024-11-15.
    let a = PipelineOptions::new(day(2024, 10, 1))
        .as_of(day(2024, 11, 15))
        .compute(&view)
        .unwrap();
    let want = &r["as_of_2024_11_15"];
    assert_eq!(a.overdue.totals.n, want["overdue_n"].as_u64().unwrap());
    assert_relative_eq!(
        a.overdue.totals.amount,
        f(&want["overdue_amount"]),
        max_relative = SQL
    );
    assert_relative_eq!(
        a.overdue.totals.weighted,
        f(&want["overdue_weighted"]),
        max_relative = SQL
    );
    assert_eq!(a.n, want["n"].as_u64().unwrap());
    assert_relative_eq!(
        a.total_weighted,
        f(&want["total_weighted"]),
        max_relative = SQL
    );

    // Owner ann's scope.
    let ann = PipelineOptions::new(day(2024, 10, 1))
        .compute(&data.view(&Scope::of_owners("owner", "ann", ["ann"])))
        .unwrap();
    assert_eq!(ann.n, r["owner_ann"]["n"].as_u64().unwrap());
    assert_relative_eq!(
        ann.total_weighted,
        f(&r["owner_ann"]["total_weighted"]),
        max_relative = SQL
    );
}

#[test]
fn learned_win_rates_match_statsmodels_wilson() {
    let r = reference();
    let data = load();
    let cal = CalibrationOptions::new()
        .by(CalibrationGrouping::Owner)
        .compute(&data.view(&Scope::all()))
        .unwrap();
    assert_eq!(cal.deals, r["closed"].as_u64().unwrap());
    assert_eq!(cal.without_history, 0);
    let rates = r["win_rates"].as_array().unwrap();
    assert_eq!(cal.stages.len(), rates.len());
    for (row, w) in cal.stages.iter().zip(rates) {
        assert_eq!(row.stage, w["stage"].as_str().unwrap());
        assert_eq!(row.rate.trials, w["entered"].as_u64().unwrap());
        assert_eq!(row.rate.successes, w["won"].as_u64().unwrap());
        assert_relative_eq!(row.rate.ci_low, f(&w["ci_low"]), max_relative = WILSON);
        assert_relative_eq!(row.rate.ci_high, f(&w["ci_high"]), max_relative = WILSON);
    }
    for (row, m) in cal.stages.iter().zip(r["mean_entered"].as_array().unwrap()) {
        assert_eq!(row.stage, m["stage"].as_str().unwrap());
        assert_eq!(row.entered_n, m["n"].as_u64().unwrap());
        // DuckDB rounds avg() to 10 decimals in its JSON.
        assert_relative_eq!(
            row.entered_probability.unwrap(),
            f(&m["mean"]),
            epsilon = 1e-9
        );
        assert_relative_eq!(
            row.difference.unwrap(),
            row.rate.rate - row.entered_probability.unwrap()
        );
    }
    let by_owner: Vec<_> = cal
        .groups
        .iter()
        .filter(|g| g.grouping == "owner")
        .collect();
    let want = r["win_rates_by_owner"].as_array().unwrap();
    assert_eq!(by_owner.len(), want.len());
    for (g, w) in by_owner.iter().zip(want) {
        assert_eq!(g.group.as_deref(), w["owner"].as_str());
        assert_eq!(g.stage, w["stage"].as_str().unwrap());
        assert_eq!(g.rate.trials, w["entered"].as_u64().unwrap());
        assert_eq!(g.rate.successes, w["won"].as_u64().unwrap());
        assert_relative_eq!(g.rate.ci_low, f(&w["ci_low"]), max_relative = WILSON);
        assert_relative_eq!(g.rate.ci_high, f(&w["ci_high"]), max_relative = WILSON);
    }
    // Learned rates as the pipeline's probabilities: every open deal weighted by its
    // stage's rate.
    let map = cal.stage_probabilities();
    let learned = PipelineOptions::new(day(2024, 10, 1))
        .stage_probabilities(map.clone())
        .probability_source(ProbabilitySource::StageMap)
        .compute(&data.view(&Scope::all()))
        .unwrap();
    let expected: f64 = learned
        .by_stage
        .iter()
        .map(|s| s.amount * map[s.name.as_deref().unwrap()])
        .sum();
    assert_relative_eq!(learned.total_weighted, expected, max_relative = 1e-12);
}

#[test]
fn calibration_recovers_the_synthetic_win_rates() {
    let data = OpportunitySynth::new()
        .opportunities(40_000)
        .seed(5)
        .generate()
        .unwrap();
    let view = data.view(&Scope::all());
    let cal = CalibrationOptions::new()
        .by(CalibrationGrouping::AmountBand(vec![5_000.0, 20_000.0]))
        .by(CalibrationGrouping::AgeInStage(vec![0, 15, 30]))
        .compute(&view)
        .unwrap();
    let truth = OpportunitySynth::win_rates();
    for (s, name) in SYNTH_STAGES.iter().enumerate() {
        let row = cal.stage(name).unwrap();
        let n = row.rate.trials as f64;
        let se = (truth[s] * (1.0 - truth[s]) / n).sqrt();
        assert!(
            (row.rate.rate - truth[s]).abs() < 4.0 * se,
            "{name}: {} vs {}",
            row.rate.rate,
            truth[s]
        );
        // Bands partition each stage's entries.
        for grouping in ["amount", "age_in_stage"] {
            let (entered, won) = cal
                .groups
                .iter()
                .filter(|g| g.grouping == grouping && g.stage == *name)
                .fold((0, 0), |(e, w), g| {
                    (e + g.rate.trials, w + g.rate.successes)
                });
            assert_eq!((entered, won), (row.rate.trials, row.rate.successes));
        }
    }
    let labels: Vec<&str> = cal
        .groups
        .iter()
        .filter(|g| g.grouping == "age_in_stage" && g.stage == "qualify")
        .map(|g| g.group.as_deref().unwrap())
        .collect();
    // Stages last 5 to 34 days before the next entry or the close.
    assert_eq!(labels, ["[0, 15)", "[15, 30)", "[30, inf)"]);
    assert!(matches!(
        CalibrationOptions::new()
            .by(CalibrationGrouping::AmountBand(vec![10.0, 5.0]))
            .compute(&view),
        Err(Error::InvalidOption { option: "by", .. })
    ));
}

#[test]
fn quarter_simulation_agrees_with_the_exact_moments_and_threads() {
    let data = OpportunitySynth::new()
        .opportunities(60_000)
        .seed(9)
        .generate()
        .unwrap();
    let view = data.view(&Scope::all());
    let options = QuarterOutcomeOptions::new(
        PipelineOptions::new(day(2024, 10, 1))
            .stage_probabilities(SYNTH_STAGES.iter().map(|s| (*s, 0.3))),
        1,
    )
    .simulations(4_000)
    .seed(3);
    let one = pool(1).install(|| options.clone().target(0.0).compute(&view).unwrap());
    let two = pool(2).install(|| options.clone().target(0.0).compute(&view).unwrap());
    assert_eq!(one, two, "1 and 2 threads differ");
    assert!(one.deals > 5_000, "{}", one.deals);
    let se = one.sd / (one.simulations as f64).sqrt();
    assert!((one.sim_mean - one.mean).abs() < 4.0 * se, "{one:?}");
    assert!((one.sim_sd / one.sd - 1.0).abs() < 0.05, "{one:?}");
    assert!(one.p10 < one.p50 && one.p50 < one.p90);
    assert_relative_eq!(one.p_target.unwrap(), 1.0);
    // The exact mean is the pipeline's weighted total of the quarter.
    let p = PipelineOptions::new(day(2024, 10, 1))
        .stage_probabilities(SYNTH_STAGES.iter().map(|s| (*s, 0.3)))
        .compute(&view)
        .unwrap();
    assert_relative_eq!(
        one.mean - one.booked,
        p.quarter(1).unwrap().weighted,
        max_relative = 1e-9
    );
    // A target at the mean is reached about half the time (the sum of thousands of
    // deals is close to normal).
    let half = options.clone().target(one.mean).compute(&view).unwrap();
    assert!((half.p_target.unwrap() - 0.5).abs() < 0.05, "{half:?}");
    // The seed decides the draws.
    let other = options.clone().seed(4).compute(&view).unwrap();
    assert!(other.sim_mean.to_bits() != one.sim_mean.to_bits());
}

#[test]
fn certain_and_hopeless_deals_give_a_point_outcome() {
    let recs: Vec<OpportunityRecord> = (0..7)
        .map(|i| {
            let p = if i % 2 == 0 { 1.0 } else { 0.0 };
            deal(
                &format!("d{i}"),
                "s",
                "ann",
                100.0 * (i + 1) as f64,
                Some(p),
                day(2024, 10, 3),
            )
        })
        .collect();
    let data = Opportunities::new(recs, []).unwrap();
    let o = QuarterOutcomeOptions::new(PipelineOptions::new(day(2024, 10, 1)), 0)
        .simulations(50)
        .target(1600.0)
        .compute(&data.view(&Scope::all()))
        .unwrap();
    // Won for sure: deals 0, 2, 4, 6 with amounts 100, 300, 500, 700.
    assert_relative_eq!(o.mean, 1600.0);
    assert_relative_eq!(o.sd, 0.0);
    for v in [o.sim_mean, o.p10, o.p50, o.p90] {
        assert_relative_eq!(v, 1600.0);
    }
    assert_relative_eq!(o.p_target.unwrap(), 1.0);
    assert!(matches!(
        QuarterOutcomeOptions::new(PipelineOptions::new(day(2024, 10, 1)), 0)
            .simulations(1)
            .compute(&data.view(&Scope::all())),
        Err(Error::InvalidOption {
            option: "simulations",
            ..
        })
    ));
}

#[test]
fn pipeline_bits_do_not_depend_on_threads() {
    let data = OpportunitySynth::new()
        .opportunities(100_000)
        .seed(1)
        .generate()
        .unwrap();
    let view = data.view(&Scope::all());
    let o = PipelineOptions::new(day(2024, 10, 1))
        .stage_probabilities(SYNTH_STAGES.iter().map(|s| (*s, 0.3)));
    let one = pool(1).install(|| o.compute(&view).unwrap());
    let two = pool(2).install(|| o.compute(&view).unwrap());
    assert_eq!(one, two);
    let c1 = pool(1).install(|| {
        CalibrationOptions::new()
            .by(CalibrationGrouping::Owner)
            .compute(&view)
            .unwrap()
    });
    let c2 = pool(2).install(|| {
        CalibrationOptions::new()
            .by(CalibrationGrouping::Owner)
            .compute(&view)
            .unwrap()
    });
    assert_eq!(c1, c2);
}

#[test]
fn csv_errors_name_the_line_and_field() {
    let head = "opp_id,stage,probability,amount,close_date,owner\n";
    let bad = |rows: &str| match read_opportunities(format!("{head}{rows}").as_bytes()) {
        Err(Error::Row(r)) => (r.line, r.field, r.value, r.problem),
        other => panic!("{other:?}"),
    };
    assert_eq!(
        bad("a,proposal,0.5,100,2024-10-01,ann\nb,proposal,half,100,2024-10-01,ann\n"),
        (3, "probability".into(), "half".into(), Problem::BadNumber)
    );
    assert_eq!(
        bad("a,proposal,0.5,100,2024-10-01,ann\n\nb,proposal,0.5,100,01/10/2024,ann\n"),
        (
            4,
            "close_date".into(),
            "01/10/2024".into(),
            Problem::BadDate
        )
    );
    // A check of the store (a repeated id) names the file line and the file's column.
    assert_eq!(
        bad("a,proposal,0.5,100,2024-10-01,ann\nb,proposal,0.5,100,2024-10-01,ann\na,x,0.5,1,2024-10-01,ann\n"),
        (4, "opp_id".into(), "a".into(), Problem::DuplicateId)
    );
    // The example prints the error: "line 3, field `probability`: ...".
    let e = read_opportunities(
        format!("{head}a,p,0.5,1,2024-10-01,ann\nb,p,2,1,2024-10-01,ann\n").as_bytes(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("line 3, field `probability`"), "{e}");
}
