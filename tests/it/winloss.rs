//! Win/loss and the sales cycle against statsmodels 0.15 (Wilson intervals, pooled
//! `proportions_ztest`), scipy 1.17 (`chi2_contingency(correction=False)`), lifelines
//! 0.30 (Kaplan–Meier of creation to close, open deals censored at 2024-10-31) and
//! pandas (time in stage and slippage by the module's definitions). The numbers are in
//! tests/data/prospecting/winloss/reference.json, made by reference.py there from
//! opportunities.csv and stage_history.csv (seeded, made by generate.py; see README.md).

use std::collections::BTreeMap;

use acrm::data::{
    Column, ColumnSet, DealStatus, Opportunities, OpportunityRecord, Scope, StageRecord,
};
use acrm::prospecting::{WinLoss, WinLossGrouping, WinLossOptions};
use acrm::Error;
use chrono::NaiveDate;
use serde_json::Value;

use crate::pool;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/prospecting/winloss/"
);
/// Wilson, z and χ² against statsmodels and scipy.
const TOL_RATE: f64 = 1e-10;
/// Kaplan–Meier against lifelines, and means against pandas.
const TOL_KM: f64 = 1e-12;

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}reference.json")).unwrap()).unwrap()
}

fn date(s: &str) -> Option<NaiveDate> {
    (!s.is_empty()).then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap())
}

/// The rows of a small CSV without quotes, as maps from column to value.
fn rows(name: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split(','))
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn deals() -> Opportunities {
    let opportunities = rows("opportunities.csv")
        .into_iter()
        .map(|r| OpportunityRecord {
            id: r["id"].clone(),
            customer: None,
            owner: Some(r["owner"].clone()),
            stage: "negotiation".into(),
            amount: r["amount"].parse().unwrap(),
            probability: None,
            product: Some(r["product"].clone()),
            created: date(&r["created"]),
            expected_close: date(&r["expected_close"]).unwrap(),
            status: r["status"].parse().unwrap(),
            closed: date(&r["closed"]),
            loss_reason: Some(r["loss_reason"].clone()).filter(|s| !s.is_empty()),
            attributes: [("segment".to_string(), r["segment"].clone())].into(),
        });
    let history = rows("stage_history.csv").into_iter().map(|r| StageRecord {
        opportunity: r["opportunity"].clone(),
        stage: r["stage"].clone(),
        entered: date(&r["entered"]).unwrap(),
        expected_close: date(&r["expected_close"]),
    });
    Opportunities::new(opportunities, history).unwrap()
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 10, 31).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn close(what: &str, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol * want.abs().max(1.0),
        "{what}: {got} vs {want}"
    );
}

fn compute(by: WinLossGrouping) -> WinLoss {
    WinLossOptions::new()
        .by(by)
        .as_of(as_of())
        .compute(&deals().view(&Scope::all()))
        .unwrap()
}

/// Win rates, z-tests and cycle medians per group (matched by label: Python sorts the
/// amount bands as text), and the χ² test.
fn check_groups(wl: &WinLoss, want: &Value) {
    let groups = want["groups"].as_array().unwrap();
    assert_eq!(wl.groups.len(), groups.len());
    for w in groups {
        let label = w["group"].as_str().unwrap();
        let g = wl
            .group(label)
            .unwrap_or_else(|| panic!("no group {label}"));
        assert_eq!(
            (g.won, g.lost, g.open),
            (u(&w["won"]), u(&w["lost"]), u(&w["open"]))
        );
        close(label, g.win_rate.rate, f(&w["rate"]), TOL_RATE);
        close(label, g.win_rate.ci_low, f(&w["ci_low"]), TOL_RATE);
        close(label, g.win_rate.ci_high, f(&w["ci_high"]), TOL_RATE);
        let z = g.vs_rest.unwrap();
        close(label, z.z, f(&w["z"]), TOL_RATE);
        close(label, z.p, f(&w["z_p"]), TOL_RATE);
        assert_eq!(
            g.median_cycle_days,
            w["median_cycle_days"].as_f64(),
            "{label}"
        );
    }
    let t = wl.test.unwrap();
    let w = &want["test"];
    close("chi2", t.chi2, f(&w["chi2"]), TOL_RATE);
    assert_eq!(u64::from(t.dof), u(&w["dof"]));
    close("p", t.p, f(&w["p"]), TOL_RATE);
}

#[test]
fn win_rates_by_segment_owner_and_amount_match_statsmodels_and_scipy() {
    let r = reference();
    check_groups(
        &compute(WinLossGrouping::Attribute("segment".into())),
        &r["by_segment"],
    );
    check_groups(&compute(WinLossGrouping::Owner), &r["by_owner"]);
    let by_amount = compute(WinLossGrouping::AmountBands(vec![5000.0, 10000.0, 20000.0]));
    check_groups(&by_amount, &r["by_amount"]);
    // Bands are listed in band order.
    let labels: Vec<&str> = by_amount.groups.iter().map(|g| g.group.as_str()).collect();
    assert_eq!(
        labels,
        ["< 5000", "[5000, 10000)", "[10000, 20000)", "≥ 20000"]
    );
    let t = &by_amount.total;
    let w = &r["total"];
    assert_eq!(
        (t.won, t.lost, t.open),
        (u(&w["won"]), u(&w["lost"]), u(&w["open"]))
    );
}

#[test]
fn loss_reasons_stage_times_cycle_and_slippage_match_the_references() {
    let r = reference();
    let wl = compute(WinLossGrouping::Owner);
    // Loss reasons (pandas value_counts).
    let want = r["loss_reasons"].as_array().unwrap();
    assert_eq!(wl.loss_reasons.len(), want.len());
    for w in want {
        let reason = w["reason"].as_str().unwrap();
        let got = wl.loss_reasons.iter().find(|l| l.reason == reason).unwrap();
        assert_eq!(got.count, u(&w["count"]));
        close(reason, got.share, f(&w["share"]), TOL_KM);
    }
    assert!(wl.loss_reasons.windows(2).all(|p| p[0].count >= p[1].count));
    // Time in stage (pandas).
    let want = r["stages"].as_array().unwrap();
    assert_eq!(wl.stages.len(), want.len());
    for w in want {
        let name = w["stage"].as_str().unwrap();
        let got = wl.stages.iter().find(|s| s.stage == name).unwrap();
        assert_eq!(got.stays, u(&w["stays"]));
        close(&got.stage, got.mean_days, f(&w["mean_days"]), TOL_KM);
        close(&got.stage, got.median_days, f(&w["median_days"]), 0.0);
    }
    // Cycle length (lifelines).
    let w = &r["cycle"];
    assert_eq!(
        (wl.cycle.deals, wl.cycle.closed),
        (u(&w["deals"]), u(&w["closed"]))
    );
    assert_eq!(wl.cycle.median_days, w["median_days"].as_f64());
    close(
        "mean",
        wl.cycle.mean_closed_days.unwrap(),
        f(&w["mean_closed_days"]),
        TOL_KM,
    );
    let curve = wl.cycle.curve.as_ref().unwrap();
    for p in w["curve"].as_array().unwrap() {
        close("S", curve.survival_at(f(&p[0])).s, f(&p[1]), TOL_KM);
    }
    // Slippage (pandas).
    let w = &r["slippage"];
    let s = &wl.slippage;
    assert_eq!((s.deals, s.slipped), (u(&w["deals"]), u(&w["slipped"])));
    close("share", s.share_slipped, f(&w["share_slipped"]), TOL_KM);
    close("pushes", s.mean_pushes, f(&w["mean_pushes"]), TOL_KM);
    close(
        "days",
        s.mean_days_pushed.unwrap(),
        f(&w["mean_days_pushed"]),
        TOL_KM,
    );
    close(
        "median",
        s.median_days_pushed.unwrap(),
        f(&w["median_days_pushed"]),
        0.0,
    );
    for (got, w) in s.per_deal.iter().zip(w["per_deal"].as_array().unwrap()) {
        assert_eq!(got.id, w["id"].as_str().unwrap());
        assert_eq!(u64::from(got.pushes), u(&w["pushes"]), "{}", got.id);
        assert_eq!(
            got.days_pushed,
            w["days_pushed"].as_i64().unwrap(),
            "{}",
            got.id
        );
    }
}

#[test]
fn slippage_and_stage_times_of_a_small_hand_made_case() {
    let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
    let deal = |id: &str, status, closed, expected| OpportunityRecord {
        id: id.into(),
        customer: None,
        owner: Some("ann".into()),
        stage: "proposal".into(),
        amount: 100.0,
        probability: None,
        product: None,
        created: Some(d(1, 1)),
        expected_close: expected,
        status,
        closed,
        loss_reason: None,
        attributes: Default::default(),
    };
    let entry = |id: &str, stage: &str, entered, expected| StageRecord {
        opportunity: id.into(),
        stage: stage.into(),
        entered,
        expected_close: expected,
    };
    let deals = Opportunities::new(
        vec![
            // Expected 1 Feb, pushed to 15 Feb, pulled in to 10 Feb, pushed to 1 Mar,
            // closed 5 Mar: pushes of 14, 20 and 4 days.
            deal("a", DealStatus::Won, Some(d(3, 5)), d(3, 1)),
            // Never moved; closed early.
            deal("b", DealStatus::Lost, Some(d(1, 20)), d(2, 1)),
            // Open, pushed once by 10 days.
            deal("c", DealStatus::Open, None, d(2, 11)),
        ],
        vec![
            entry("a", "prospect", d(1, 1), Some(d(2, 1))),
            entry("a", "proposal", d(1, 11), Some(d(2, 15))),
            entry("a", "negotiation", d(1, 21), Some(d(2, 10))),
            entry("a", "won", d(3, 5), None),
            entry("b", "prospect", d(1, 1), Some(d(2, 1))),
            entry("c", "prospect", d(1, 1), Some(d(2, 1))),
            entry("c", "proposal", d(1, 4), None),
        ],
    )
    .unwrap();
    let wl = WinLossOptions::new()
        .as_of(d(3, 31))
        .compute(&deals.view(&Scope::all()))
        .unwrap();
    let per: Vec<(String, u32, i64)> = wl
        .slippage
        .per_deal
        .iter()
        .map(|s| (s.id.clone(), s.pushes, s.days_pushed))
        .collect();
    assert_eq!(
        per,
        [("a".into(), 3, 38), ("b".into(), 0, 0), ("c".into(), 1, 10)]
    );
    assert_eq!(wl.slippage.slipped, 2);
    assert_eq!(wl.slippage.mean_days_pushed, Some(24.0));
    close("mean pushes", wl.slippage.mean_pushes, 4.0 / 3.0, 1e-15);
    // Stays: prospect a 10, b 19 (to the close), c 3; proposal a 10 (c's is running);
    // negotiation a 44 (to the won stage); `won` entered on the close day is no stay.
    let stays: Vec<(&str, u64, f64)> = wl
        .stages
        .iter()
        .map(|s| (s.stage.as_str(), s.stays, s.median_days))
        .collect();
    assert_eq!(
        stays,
        [
            ("proposal", 1, 10.0),
            ("prospect", 3, 10.0),
            ("negotiation", 1, 44.0)
        ]
    );
    // Cycle: a 64 days, b 19, c open at 90.
    assert_eq!((wl.cycle.deals, wl.cycle.closed), (3, 2));
    assert_eq!(wl.cycle.median_days, Some(64.0));
}

#[test]
fn an_owner_sees_only_their_deals() {
    let r = reference();
    let deals = deals();
    let wl = WinLossOptions::new()
        .by(WinLossGrouping::Attribute("segment".into()))
        .as_of(as_of())
        .compute(&deals.view(&Scope::of_owners("owner", "ann", ["ann"])))
        .unwrap();
    let ann = r["by_owner"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "ann")
        .unwrap();
    let t = &wl.total;
    assert_eq!(
        (t.won, t.lost, t.open),
        (u(&ann["won"]), u(&ann["lost"]), u(&ann["open"]))
    );
    close("ann", t.win_rate.rate, f(&ann["rate"]), TOL_RATE);
    assert_eq!(
        wl.total.median_cycle_days,
        ann["median_cycle_days"].as_f64()
    );
    assert_eq!(wl.scope.label(), "owner:ann");
    assert_eq!(wl.scope.customers as u64, t.deals);
    assert_eq!(wl.slippage.deals, t.deals);

    // A scope that hides products cannot group by them.
    let mut product = ColumnSet::new();
    product.insert(Column::Product);
    assert!(matches!(
        WinLossOptions::new()
            .by(WinLossGrouping::Product)
            .compute(&deals.view(&Scope::all().hide(product))),
        Err(Error::HiddenColumn {
            column: Column::Product,
            ..
        })
    ));
}

#[test]
fn bad_options_are_typed_errors() {
    let deals = deals();
    let view = deals.view(&Scope::all());
    for edges in [vec![], vec![10.0, 5.0], vec![f64::NAN]] {
        assert!(matches!(
            WinLossOptions::new()
                .by(WinLossGrouping::AmountBands(edges))
                .compute(&view),
            Err(Error::InvalidOption { option: "by", .. })
        ));
    }
    assert!(matches!(
        WinLossOptions::new()
            .as_of(NaiveDate::from_ymd_opt(2024, 5, 1).unwrap())
            .compute(&view),
        Err(Error::InvalidOption {
            option: "as_of",
            ..
        })
    ));
}

#[test]
fn one_and_two_threads_give_identical_tables() {
    let deals = deals();
    let view = deals.view(&Scope::all());
    let run = |threads| {
        pool(threads).install(|| {
            [
                WinLossGrouping::Owner,
                WinLossGrouping::Product,
                WinLossGrouping::AmountBands(vec![5000.0, 20000.0]),
            ]
            .map(|by| WinLossOptions::new().by(by).compute(&view).unwrap())
        })
    };
    assert_eq!(run(1), run(2));
}
