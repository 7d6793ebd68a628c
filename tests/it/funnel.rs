//! The campaign funnel against statsmodels 0.15 (Wilson intervals), scipy 1.17
//! (`chi2_contingency(correction=False)`) and lifelines 0.30 (Kaplan–Meier of the time to
//! convert, not yet converted censored at 2024-09-30). The reference numbers are in
//! tests/data/prospecting/funnel/reference.json, made by reference.py there from
//! contacts.csv and campaigns.csv (seeded, made by generate.py; provenance in README.md).

use acrm::data::{Campaigns, Column, ColumnSet, ContactRecord, Contacts, Reached, Scope};
use acrm::io::{read_campaigns_path, read_contacts, read_contacts_path};
use acrm::numerics::Proportion;
use acrm::prospecting::{Funnel, FunnelGroup, FunnelGrouping, FunnelOptions};
use acrm::{Error, Problem};
use chrono::NaiveDate;
use serde_json::Value;

use crate::pool;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/prospecting/funnel/"
);
/// Wilson and χ² against statsmodels and scipy.
const TOL_RATE: f64 = 1e-10;
/// Kaplan–Meier against lifelines.
const TOL_KM: f64 = 1e-12;

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}reference.json")).unwrap()).unwrap()
}

fn data() -> (Contacts, Campaigns) {
    (
        read_contacts_path(format!("{DIR}contacts.csv")).unwrap(),
        read_campaigns_path(format!("{DIR}campaigns.csv")).unwrap(),
    )
}

fn as_of() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 9, 30).unwrap()
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

fn check_rate(what: &str, got: &Proportion, want: &Value) {
    assert_eq!(got.successes, u(&want["successes"]), "{what}");
    assert_eq!(got.trials, u(&want["trials"]), "{what}");
    close(what, got.rate, f(&want["rate"]), TOL_RATE);
    close(what, got.ci_low, f(&want["ci_low"]), TOL_RATE);
    close(what, got.ci_high, f(&want["ci_high"]), TOL_RATE);
}

fn opt(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// Counts, rates, times to convert and (when the reference has them) costs of a group.
fn check_group(got: &FunnelGroup, want: &Value) {
    let g = want["group"].as_str().unwrap();
    assert_eq!(got.group, g);
    for (n, key) in [
        (got.contacts, "contacts"),
        (got.leads, "leads"),
        (got.opportunities, "opportunities"),
        (got.orders, "orders"),
    ] {
        assert_eq!(n, u(&want[key]), "{g} {key}");
    }
    check_rate(g, &got.contact_lead, &want["contact_lead"]);
    check_rate(g, &got.lead_opportunity, &want["lead_opportunity"]);
    check_rate(g, &got.opportunity_order, &want["opportunity_order"]);
    check_rate(g, &got.contact_order, &want["contact_order"]);
    for (t, w) in got
        .time_to_convert
        .iter()
        .zip(want["time_to_convert"].as_array().unwrap())
    {
        let what = format!("{g} {}", t.step);
        assert_eq!(t.step, w["step"].as_str().unwrap());
        assert_eq!(t.at_start, u(&w["at_start"]), "{what}");
        assert_eq!(t.converted, u(&w["converted"]), "{what}");
        assert_eq!(t.median_days, opt(&w["median_days"]), "{what}");
        assert_eq!(t.km_median_days, opt(&w["km_median_days"]), "{what}");
        let curve = t.curve.as_ref().unwrap();
        for point in w["curve"].as_array().unwrap() {
            let (time, s) = (f(&point[0]), f(&point[1]));
            close(&what, curve.survival_at(time).s, s, TOL_KM);
        }
    }
    match (&got.costs, want.get("costs")) {
        (Some(c), Some(w)) => {
            close(g, c.cost, f(&w["cost"]), 1e-12);
            close(g, c.per_lead.unwrap(), f(&w["per_lead"]), 1e-12);
            close(
                g,
                c.per_opportunity.unwrap(),
                f(&w["per_opportunity"]),
                1e-12,
            );
            close(g, c.per_order.unwrap(), f(&w["per_order"]), 1e-12);
        }
        (None, None) => {}
        (got, want) => panic!("{g}: costs {got:?} vs {want:?}"),
    }
}

fn check_tests(got: &Funnel, want: &Value) {
    let want = want.as_array().unwrap();
    assert_eq!(got.tests.len(), want.len());
    for (t, w) in got.tests.iter().zip(want) {
        assert_eq!(t.stage, w["stage"].as_str().unwrap());
        assert_eq!(u64::from(t.dof), u(&w["dof"]));
        close(&t.stage, t.chi2, f(&w["chi2"]), TOL_RATE);
        // p can be ~1e-18: relative to itself.
        let p = f(&w["p"]);
        assert!(
            (t.p - p).abs() <= TOL_RATE * p.max(1e-300),
            "{}: p {} vs {p}",
            t.stage,
            t.p
        );
    }
}

fn check(got: &Funnel, want: &Value) {
    let groups = want["groups"].as_array().unwrap();
    assert_eq!(got.groups.len(), groups.len());
    for (g, w) in got.groups.iter().zip(groups) {
        check_group(g, w);
    }
    check_tests(got, &want["tests"]);
}

#[test]
fn funnel_by_campaign_matches_statsmodels_scipy_lifelines() {
    let (contacts, campaigns) = data();
    let r = reference();
    let funnel = FunnelOptions::new()
        .by(FunnelGrouping::Campaign)
        .campaigns(&campaigns)
        .as_of(as_of())
        .compute(&contacts.view(&Scope::all()))
        .unwrap();
    check(&funnel, &r["by_campaign"]);
    check_group(&funnel.total, &r["total"]);
    assert_eq!(funnel.as_of, Some(as_of()));
    assert!(funnel.scope.is_all());
}

#[test]
fn funnel_by_type_and_channel_match_the_references() {
    let (contacts, campaigns) = data();
    let r = reference();
    let view = contacts.view(&Scope::all());
    let opts = FunnelOptions::new().campaigns(&campaigns).as_of(as_of());
    // Two campaigns are fairs: their costs and contacts add up.
    let by_type = opts
        .clone()
        .by(FunnelGrouping::CampaignType)
        .compute(&view)
        .unwrap();
    check(&by_type, &r["by_type"]);
    // Channels cut across campaigns: no costs.
    let by_channel = opts.by(FunnelGrouping::Channel).compute(&view).unwrap();
    check(&by_channel, &r["by_channel"]);
}

#[test]
fn counts_by_hand_with_implied_stages_and_undated_steps() {
    let d = |day| NaiveDate::from_ymd_opt(2024, 3, day);
    let contact = |id: &str, campaign: &str, created, lead, opportunity, order| ContactRecord {
        id: id.into(),
        campaign: campaign.into(),
        channel: None,
        owner: None,
        created,
        lead,
        opportunity,
        order,
        attributes: Default::default(),
    };
    let on = |day| Reached::On(d(day).unwrap());
    let contacts = Contacts::new(vec![
        // An order implies a lead and an opportunity, undated here.
        contact("a", "x", d(1), Reached::No, Reached::No, on(10)),
        contact("b", "x", d(1), on(4), Reached::No, Reached::No),
        contact("c", "x", None, on(4), on(6), Reached::No),
        contact("d", "y", d(2), Reached::No, Reached::No, Reached::No),
        contact("e", "y", d(2), on(3), Reached::Undated, Reached::No),
    ])
    .unwrap();
    let funnel = FunnelOptions::new()
        .compute(&contacts.view(&Scope::all()))
        .unwrap();
    // The latest date in the view is the default as-of date.
    assert_eq!(funnel.as_of, d(10));
    let x = funnel.group("x").unwrap();
    assert_eq!(
        (x.contacts, x.leads, x.opportunities, x.orders),
        (3, 3, 2, 1)
    );
    let y = funnel.group("y").unwrap();
    assert_eq!(
        (y.contacts, y.leads, y.opportunities, y.orders),
        (2, 1, 1, 0)
    );
    let t = &funnel.total;
    assert_eq!(
        (t.contacts, t.leads, t.opportunities, t.orders),
        (5, 4, 3, 1)
    );
    close("contact_order", t.contact_order.rate, 0.2, 1e-15);
    // Contact → lead: b (3 days), e (1 day) converted on known days; d censored at
    // 10 − 2 = 8 days; a's lead is undated, c has no contact date.
    let step = &t.time_to_convert[0];
    assert_eq!((step.at_start, step.converted), (3, 2));
    assert_eq!(step.median_days, Some(2.0));
    // Lead → opportunity: c in 2 days; b censored at 6 days; e's opportunity undated.
    let step = &t.time_to_convert[1];
    assert_eq!((step.at_start, step.converted), (2, 1));
    // Without costs, none are reported.
    assert!(t.costs.is_none());
    // Leads to opportunities: x 2 of 3, y 1 of 1; orders 1 of 2 and 0 of 1.
    assert_eq!(funnel.tests.len(), 3);
}

#[test]
fn an_owner_sees_only_their_contacts_and_no_costs() {
    let (contacts, campaigns) = data();
    let r = reference();
    let scope = Scope::of_owners("owner", "ann", ["ann"]);
    let funnel = FunnelOptions::new()
        .campaigns(&campaigns)
        .as_of(as_of())
        .compute(&contacts.view(&scope))
        .unwrap();
    let mut want = r["owner_ann"]["total"].clone();
    // Costs are whole campaigns': not reported for a part of the contacts.
    want.as_object_mut().unwrap().remove("costs");
    check_group(&funnel.total, &want);
    assert_eq!(funnel.scope.label(), "owner:ann");
    assert_eq!(funnel.scope.customers as u64, u(&want["contacts"]));
    assert!(funnel.groups.iter().all(|g| g.costs.is_none()));

    // A scope that hides channels cannot group by them.
    let mut channel = ColumnSet::new();
    channel.insert(Column::Channel);
    let hidden = Scope::all().hide(channel);
    assert!(matches!(
        FunnelOptions::new()
            .by(FunnelGrouping::Channel)
            .compute(&contacts.view(&hidden)),
        Err(Error::HiddenColumn {
            column: Column::Channel,
            ..
        })
    ));
}

#[test]
fn bad_options_and_input_are_typed_errors() {
    let (contacts, _) = data();
    let view = contacts.view(&Scope::all());
    assert!(matches!(
        FunnelOptions::new()
            .by(FunnelGrouping::Product)
            .compute(&view),
        Err(Error::InvalidOption { option: "by", .. })
    ));
    assert!(matches!(
        FunnelOptions::new().confidence(1.0).compute(&view),
        Err(Error::InvalidOption {
            option: "confidence",
            ..
        })
    ));
    assert!(matches!(
        FunnelOptions::new()
            .as_of(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap())
            .compute(&view),
        Err(Error::InvalidOption {
            option: "as_of",
            ..
        })
    ));
    let only_one = acrm::io::read_campaigns("id,cost\nweb_ads,1\n".as_bytes()).unwrap();
    assert!(matches!(
        FunnelOptions::new().by(FunnelGrouping::CampaignType).campaigns(&only_one).compute(&view),
        Err(Error::UnknownId { kind, id }) if kind == "campaign" && id == "spring_fair"
    ));
    // The file's line, column and value.
    let text = "campaign,contact_id,lead,opportunity,order\n\
                a,c1,1,0,0\n\
                a,c2,1,yes,0\n\
                b,c3,1,maybe,0\n";
    match read_contacts(text.as_bytes()) {
        Err(Error::Row(r)) => {
            assert_eq!(
                (r.line, r.field.as_str(), r.value.as_str()),
                (4, "opportunity", "maybe")
            );
            assert_eq!(r.problem, Problem::NotFlag);
        }
        other => panic!("{other:?}"),
    }
    // Blank lines and CRLF line ends count as the file's lines.
    let text =
        "campaign,contact_id,lead,opportunity,order\r\n\r\na,c1,1,0,0\r\n\n\nb,c3,1,maybe,0\r\n";
    match read_contacts(text.as_bytes()) {
        Err(Error::Row(r)) => assert_eq!((r.line, r.field.as_str()), (6, "opportunity")),
        other => panic!("{other:?}"),
    }
}

#[test]
fn one_and_two_threads_give_identical_funnels() {
    let (contacts, campaigns) = data();
    let view = contacts.view(&Scope::all());
    let run = |threads| {
        pool(threads).install(|| {
            [
                FunnelGrouping::Campaign,
                FunnelGrouping::Channel,
                FunnelGrouping::Product,
            ]
            .map(|by| {
                FunnelOptions::new()
                    .by(by)
                    .campaigns(&campaigns)
                    .compute(&view)
                    .unwrap()
            })
        })
    };
    assert_eq!(run(1), run(2));
}
