//! Budget allocation (promotion::allocation) against scipy, closed forms and a grid.
//!
//! Reference numbers: tests/data/promotion/allocation/reference.json, written by
//! reference.py there (scipy 1.17.1 `curve_fit` with method "lm" and `minimize` with
//! SLSQP, numpy 2.4.6) from history.csv (written by generate.py). See the README.md
//! beside them.

use acrm::data::{SpendHistory, SpendRecord};
use acrm::io::{read_spend_history, read_spend_history_path};
use acrm::numerics::NlsTermination;
use acrm::promotion::{
    AllocationOptions, CurveChoice, CurveFamily, ResponseCurve, ResponseOptions, Responses,
};
use acrm::{Error, Problem};
use approx::assert_relative_eq;
use serde_json::Value;

use crate::pool;

const DIR: &str = "tests/data/promotion/allocation";
/// Estimates and standard errors against scipy's curve_fit, relative (the bar).
const CURVE_FIT: f64 = 1e-6;
/// Spend allocated against the budget, absolute (the bar).
const BUDGET: f64 = 1e-6;
/// Our optimum may fall short of scipy's SLSQP optimum by at most this (the bar).
const OBJECTIVE: f64 = 1e-9;
/// Closed forms, relative.
const CLOSED: f64 = 1e-10;

fn reference() -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn history() -> SpendHistory {
    read_spend_history_path(format!("{DIR}/history.csv")).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn options(family: &str) -> ResponseOptions {
    match family {
        "hill" => ResponseOptions::new().curve(CurveChoice::Hill),
        "hill1" => ResponseOptions::new()
            .curve(CurveChoice::Hill)
            .hill_k(Some(1.0)),
        "exp" => ResponseOptions::new().curve(CurveChoice::Exponential),
        "auto" => ResponseOptions::new(),
        other => panic!("{other}"),
    }
}

#[test]
fn reader_groups_the_history() {
    let h = history();
    let names: Vec<&str> = h.groups().iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, ["display", "email", "search", "social"]);
    assert!(h.groups().iter().all(|g| g.spend.len() == 12));
}

#[test]
fn fits_match_scipy_curve_fit() {
    // scipy 1.17.1 curve_fit (lm, tolerances 1e-15), pcov with absolute_sigma=False.
    let r = reference();
    let h = history();
    for family in ["hill", "hill1", "exp"] {
        let fit = options(family).fit(&h).unwrap();
        assert!(fit.report.converged(), "{family}: {:?}", fit.report);
        for (g, rep) in fit.model.groups.iter().zip(&fit.report.groups) {
            let want = &r["fits"][&g.group][family];
            let params = floats(&want["params"]);
            let se = floats(&want["se"]);
            let cov: Vec<f64> = want["cov"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(floats)
                .collect();
            let got = g.curve.parameters();
            for (i, p) in params.iter().enumerate() {
                assert_relative_eq!(got[i], *p, max_relative = CURVE_FIT);
                assert_relative_eq!(rep.estimates[i].se, se[i], max_relative = CURVE_FIT);
            }
            for (a, b) in g.covariance.iter().zip(&cov) {
                assert_relative_eq!(*a, *b, max_relative = CURVE_FIT);
            }
            assert_eq!(g.covariance.len(), cov.len());
            assert_relative_eq!(rep.sse, want["sse"].as_f64().unwrap(), max_relative = 1e-9);
            assert_relative_eq!(rep.aic, want["aic"].as_f64().unwrap(), max_relative = 1e-9);
            if family == "hill1" {
                // The fixed k is reported with a zero standard error.
                assert_eq!(rep.estimates.len(), 3);
                assert_relative_eq!(rep.estimates[2].value, 1.0);
                assert_relative_eq!(rep.estimates[2].se, 0.0);
            }
        }
    }
}

#[test]
fn auto_keeps_the_smaller_aic() {
    // The family scipy's fits give the smaller AIC (reference.json, auto cases).
    let r = reference();
    let fit = ResponseOptions::new().fit(&history()).unwrap();
    let want = r["allocations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "auto_unbounded")
        .unwrap();
    for (i, rep) in fit.report.groups.iter().enumerate() {
        let family = match rep.family {
            CurveFamily::Hill => "hill",
            CurveFamily::Exponential => "exp",
        };
        assert_eq!(want["families"][i], family, "{}", rep.group);
        assert_eq!(rep.candidates.len(), 2);
        let min = rep
            .candidates
            .iter()
            .map(|c| c.aic)
            .fold(f64::INFINITY, f64::min);
        assert_relative_eq!(rep.aic, min);
    }
    // A group's own choice overrides the default.
    let fit = ResponseOptions::new()
        .group_curve("display", CurveChoice::Exponential)
        .fit(&history())
        .unwrap();
    assert_eq!(fit.report.groups[0].family, CurveFamily::Exponential);
    assert_eq!(fit.report.groups[0].candidates.len(), 1);
}

#[test]
fn allocations_match_scipy_slsqp() {
    // scipy 1.17.1 minimize (SLSQP, ftol 1e-15) from a coarse exhaustive grid and 30
    // random starts, on scipy's curves; both allocations are valued on our curves.
    let r = reference();
    let h = history();
    for case in r["allocations"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let fit = options(case["curve"].as_str().unwrap()).fit(&h).unwrap();
        let budget = case["budget"].as_f64().unwrap();
        let mut opts = AllocationOptions::new(budget);
        for (g, b) in case["bounds"].as_object().unwrap() {
            let hi = b[1].as_f64().unwrap_or(f64::INFINITY);
            opts = opts.bounds(g.clone(), b[0].as_f64().unwrap(), hi);
        }
        let plan = opts.compute(&fit.model).unwrap();
        let spent: f64 = plan.groups.iter().map(|g| g.spend).sum();
        assert!((spent - budget).abs() <= BUDGET, "{name}: {spent}");
        for g in &plan.groups {
            assert!(
                g.spend >= g.lower && g.spend <= g.upper.unwrap_or(f64::INFINITY),
                "{name}: {g:?}"
            );
        }
        let theirs = floats(&case["spends"]);
        let ours: f64 = plan.total.value;
        let at_theirs: f64 = fit
            .model
            .groups
            .iter()
            .zip(&theirs)
            .map(|(g, &s)| g.curve.value(s))
            .sum();
        assert!(
            ours >= at_theirs - OBJECTIVE,
            "{name}: ours {ours} < scipy's {at_theirs}"
        );
        // Same optimum, so the same spends (to the flatness of the objective there).
        for (g, s) in plan.groups.iter().zip(&theirs) {
            assert!(
                (g.spend - s).abs() <= 1e-3 * budget,
                "{name}: {} {} vs scipy {s}",
                g.group,
                g.spend
            );
        }
        assert_relative_eq!(
            ours,
            case["objective"].as_f64().unwrap(),
            max_relative = 1e-7
        );
        // The curves of these two cases are concave: their optimum is exact.
        if name.starts_with("exp") || name.starts_with("hill1") {
            assert!(plan.exact, "{name}");
        }
        assert!(plan.envelope_bound >= ours - 1e-9);
    }
}

#[test]
fn two_exponential_channels_closed_form() {
    // KKT by hand: (Tᵢ/cᵢ) e^{−sᵢ/cᵢ} = λ for both, s₁ + s₂ = B, so
    // ln λ = (Σ cᵢ ln(Tᵢ/cᵢ) − B)/(c₁ + c₂) and sᵢ = cᵢ ln(Tᵢ/(cᵢ λ)).
    let (t1, c1, t2, c2, b) = (100.0f64, 50.0f64, 300.0f64, 200.0f64, 400.0f64);
    let curves = Responses::from_curves([
        ("a", ResponseCurve::exponential(t1, c1).unwrap()),
        ("b", ResponseCurve::exponential(t2, c2).unwrap()),
    ])
    .unwrap();
    let plan = AllocationOptions::new(b).compute(&curves).unwrap();
    let ln_lambda = (c1 * (t1 / c1).ln() + c2 * (t2 / c2).ln() - b) / (c1 + c2);
    let s1 = c1 * ((t1 / c1).ln() - ln_lambda);
    let s2 = c2 * ((t2 / c2).ln() - ln_lambda);
    assert_relative_eq!(plan.groups[0].spend, s1, max_relative = CLOSED);
    assert_relative_eq!(plan.groups[1].spend, s2, max_relative = CLOSED);
    assert_relative_eq!(plan.marginal_value, ln_lambda.exp(), max_relative = CLOSED);
    for g in &plan.groups {
        assert_relative_eq!(g.marginal_roi, ln_lambda.exp(), max_relative = CLOSED);
    }
    let value = t1 * (1.0 - (-s1 / c1).exp()) + t2 * (1.0 - (-s2 / c2).exp());
    assert_relative_eq!(plan.total.value, value, max_relative = CLOSED);
    assert_relative_eq!(
        plan.groups[1].average_roi,
        t2 * (1.0 - (-s2 / c2).exp()) / s2,
        max_relative = CLOSED
    );
    assert!(plan.exact);
    // Curves given by hand carry no bands.
    assert!(plan.groups[0].outcome_se.is_nan());

    // A margin of 2 on `a` doubles its marginal value: Tᵢ becomes wᵢTᵢ in the KKT.
    let plan = AllocationOptions::new(b)
        .group_margin("a", 2.0)
        .compute(&curves)
        .unwrap();
    let ln_lambda = (c1 * (2.0 * t1 / c1).ln() + c2 * (t2 / c2).ln() - b) / (c1 + c2);
    assert_relative_eq!(
        plan.groups[0].spend,
        c1 * ((2.0 * t1 / c1).ln() - ln_lambda),
        max_relative = CLOSED
    );
    assert_relative_eq!(plan.groups[0].value, 2.0 * plan.groups[0].outcome);

    // An upper bound on `b` below its free optimum binds; `a` takes the rest.
    let plan = AllocationOptions::new(b)
        .bounds("b", 0.0, 100.0)
        .compute(&curves)
        .unwrap();
    assert_relative_eq!(plan.groups[1].spend, 100.0, max_relative = CLOSED);
    assert_relative_eq!(plan.groups[0].spend, 300.0, max_relative = CLOSED);
    assert!(plan.groups[1].marginal_roi > plan.groups[0].marginal_roi);
}

#[test]
fn michaelis_menten_channels_closed_form() {
    // Hill with k = 1: Tᵢhᵢ/(sᵢ + hᵢ)² = λ gives sᵢ = √(Tᵢhᵢ/λ) − hᵢ, and the budget
    // 1/√λ = (B + Σ hᵢ)/Σ √(Tᵢhᵢ).
    let groups = [(500.0f64, 100.0f64), (800.0, 400.0), (200.0, 30.0)];
    let b = 900.0;
    let curves = Responses::from_curves(
        groups
            .iter()
            .enumerate()
            .map(|(i, &(t, h))| (format!("g{i}"), ResponseCurve::hill(t, h, 1.0).unwrap())),
    )
    .unwrap();
    let plan = AllocationOptions::new(b).compute(&curves).unwrap();
    let root: f64 = groups.iter().map(|(t, h)| (t * h).sqrt()).sum();
    let inv_sqrt_lambda = (b + groups.iter().map(|g| g.1).sum::<f64>()) / root;
    for (g, &(t, h)) in plan.groups.iter().zip(&groups) {
        let want = (t * h).sqrt() * inv_sqrt_lambda - h;
        assert_relative_eq!(g.spend, want, max_relative = CLOSED);
    }
}

#[test]
fn s_shaped_curves_against_a_grid() {
    // Two S-shaped Hill curves and a concave one: every split of the budget on a grid
    // of step 0.5 is valued, and the allocation is at least the best of them.
    let curves = Responses::from_curves([
        ("a", ResponseCurve::hill(500.0, 200.0, 3.0).unwrap()),
        ("b", ResponseCurve::hill(400.0, 120.0, 2.0).unwrap()),
        ("c", ResponseCurve::exponential(150.0, 80.0).unwrap()),
    ])
    .unwrap();
    let value = |s: [f64; 3]| -> f64 {
        curves
            .groups
            .iter()
            .zip(s)
            .map(|(g, s)| g.curve.value(s))
            .sum()
    };
    for budget in [60.0, 150.0, 250.0, 400.0, 700.0] {
        let plan = AllocationOptions::new(budget).compute(&curves).unwrap();
        let spent: f64 = plan.groups.iter().map(|g| g.spend).sum();
        assert!((spent - budget).abs() <= BUDGET);
        let steps = (budget / 0.5) as usize;
        let mut best = f64::NEG_INFINITY;
        for i in 0..=steps {
            for j in 0..=steps - i {
                let (a, b) = (i as f64 * 0.5, j as f64 * 0.5);
                best = best.max(value([a, b, budget - a - b]));
            }
        }
        assert!(
            plan.total.value >= best - 1e-9,
            "budget {budget}: {} < grid {best}",
            plan.total.value
        );
        assert!(plan.envelope_bound >= plan.total.value - 1e-9);
    }
}

#[test]
fn bands_by_the_delta_method() {
    // Var y(s) = gᵀ Cov g with g the gradient in the parameters, here by central
    // differences on scipy's curve and scipy's pcov.
    let r = reference();
    let fit = options("exp").fit(&history()).unwrap();
    let g = &fit.model.groups[3];
    let want = &r["fits"]["social"]["exp"];
    let p = floats(&want["params"]);
    let cov: Vec<f64> = want["cov"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    let s = 500.0;
    let y = |top: f64, scale: f64| top * (1.0 - (-s / scale).exp());
    let grad = [
        (y(p[0] * (1.0 + 1e-6), p[1]) - y(p[0] * (1.0 - 1e-6), p[1])) / (2e-6 * p[0]),
        (y(p[0], p[1] * (1.0 + 1e-6)) - y(p[0], p[1] * (1.0 - 1e-6))) / (2e-6 * p[1]),
    ];
    let var: f64 = (0..2)
        .map(|i| {
            (0..2)
                .map(|j| grad[i] * cov[i * 2 + j] * grad[j])
                .sum::<f64>()
        })
        .sum();
    let e = g.outcome(s);
    let (outcome, se) = (e.value, e.se);
    assert_relative_eq!(outcome, y(p[0], p[1]), max_relative = 1e-6);
    assert_relative_eq!(se, var.sqrt(), max_relative = 1e-5);
    // The allocation's band is outcome ± t₁₀ se (Student's t, 12 − 2 dof, 2.2281388).
    let plan = AllocationOptions::new(2500.0).compute(&fit.model).unwrap();
    let row = &plan.groups[3];
    let e = g.outcome(row.spend);
    let (y0, se0) = (e.value, e.se);
    assert_relative_eq!(
        row.outcome_high - y0,
        2.228_138_851_986_274 * se0,
        max_relative = 1e-9
    );
    assert_relative_eq!(
        y0 - row.outcome_low,
        2.228_138_851_986_274 * se0,
        max_relative = 1e-9
    );
    let total_se = plan
        .groups
        .iter()
        .map(|g| g.outcome_se.powi(2))
        .sum::<f64>()
        .sqrt();
    assert_relative_eq!(plan.total.value_se, total_se, max_relative = 1e-12);
}

#[test]
fn current_spends_and_the_gain() {
    let fit = ResponseOptions::new().fit(&history()).unwrap();
    let current = [
        ("display", 400.0),
        ("email", 600.0),
        ("search", 700.0),
        ("social", 800.0),
    ];
    let plan = AllocationOptions::new(2500.0)
        .current(current)
        .compute(&fit.model)
        .unwrap();
    let cur = plan.current.as_ref().unwrap();
    let value: f64 = fit
        .model
        .groups
        .iter()
        .zip(current)
        .map(|(g, (_, s))| g.curve.value(s))
        .sum();
    assert_relative_eq!(cur.total.value, value, max_relative = 1e-12);
    assert_relative_eq!(cur.total.spend, 2500.0);
    let gain = plan.gain.unwrap();
    assert_relative_eq!(gain, plan.total.value - value, max_relative = 1e-12);
    assert!(gain > 0.0);
    // Serialises and reads back.
    let back: acrm::promotion::Allocation =
        serde_json::from_str(&serde_json::to_string(&plan).unwrap()).unwrap();
    assert_relative_eq!(back.total.value, plan.total.value);
    assert_eq!(back.groups[0].upper, None);
    // Non-finite numbers are null in JSON and read back as NaN (curves given by hand
    // have no bands).
    let hand = Responses::from_curves([
        ("a", ResponseCurve::exponential(100.0, 50.0).unwrap()),
        ("b", ResponseCurve::hill(80.0, 30.0, 0.5).unwrap()),
    ])
    .unwrap();
    let plan = AllocationOptions::new(100.0)
        .bounds("a", 0.0, 0.0)
        .compute(&hand)
        .unwrap();
    let text = serde_json::to_string(&plan).unwrap();
    let back: acrm::promotion::Allocation = serde_json::from_str(&text).unwrap();
    assert!(back.groups[0].average_roi.is_nan() && back.groups[1].outcome_se.is_nan());
    assert_relative_eq!(back.groups[1].spend, 100.0);
}

#[test]
fn same_bits_on_one_and_two_threads() {
    let h = history();
    let one = pool(1).install(|| ResponseOptions::new().fit(&h).unwrap());
    let two = pool(2).install(|| ResponseOptions::new().fit(&h).unwrap());
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
}

#[test]
fn errors_are_typed() {
    let rec = |g: &str, s: f64, y: f64| SpendRecord {
        group: g.into(),
        spend: s,
        outcome: y,
    };
    // Too few points: the Hill curve needs 4 observations.
    let h = SpendHistory::new((1..=3).map(|i| rec("a", f64::from(i), f64::from(i)))).unwrap();
    assert!(matches!(
        options("hill").fit(&h),
        Err(Error::Degenerate { input, .. }) if input == "group `a`"
    ));
    // ... the exponential takes 3.
    assert!(options("exp").fit(&h).is_ok());
    // Spends not distinct enough to identify the curve.
    let h =
        SpendHistory::new([rec("a", 5.0, 1.0), rec("a", 5.0, 2.0), rec("a", 5.0, 3.0)]).unwrap();
    assert!(matches!(
        options("exp").fit(&h),
        Err(Error::Degenerate { .. })
    ));
    // No positive outcome: no curve with top > 0.
    let h = SpendHistory::new((1..=5).map(|i| rec("a", f64::from(i), -1.0))).unwrap();
    assert!(matches!(
        options("exp").fit(&h),
        Err(Error::Degenerate { .. })
    ));
    // Negative and non-finite spends, in records and in files.
    assert!(matches!(
        SpendHistory::new([rec("a", -1.0, 1.0)]),
        Err(Error::Row(r)) if r.problem == Problem::Negative && r.field == "spend"
    ));
    let csv = "group,spend,outcome\na,1,2\na,NaN,3\n";
    assert!(matches!(
        read_spend_history(csv.as_bytes()),
        Err(Error::Row(r)) if r.line == 3 && r.problem == Problem::NonFinite
    ));
    // A fit stopped by the iteration cap is reported, not an error.
    let fit = options("hill").max_iterations(1).fit(&history()).unwrap();
    assert!(!fit.report.converged());
    assert!(fit
        .report
        .groups
        .iter()
        .any(|g| g.termination == NlsTermination::MaxIterations));
    // Options.
    assert!(matches!(
        options("hill").hill_k(Some(0.0)).fit(&history()),
        Err(Error::InvalidOption {
            option: "hill_k",
            ..
        })
    ));
    assert!(matches!(
        ResponseOptions::new()
            .group_curve("tv", CurveChoice::Hill)
            .fit(&history()),
        Err(Error::UnknownId { id, .. }) if id == "tv"
    ));
    let curves = options("exp").fit(&history()).unwrap().model;
    let err = |o: AllocationOptions| o.compute(&curves).unwrap_err();
    assert!(matches!(
        err(AllocationOptions::new(-1.0)),
        Error::InvalidOption {
            option: "budget",
            ..
        }
    ));
    assert!(matches!(
        err(AllocationOptions::new(100.0)
            .bounds("email", 0.0, 10.0)
            .bounds("display", 0.0, 10.0)
            .bounds("search", 0.0, 10.0)
            .bounds("social", 0.0, 10.0)),
        Error::InvalidOption {
            option: "budget",
            ..
        }
    ));
    assert!(matches!(
        err(AllocationOptions::new(100.0)
            .bounds("email", 60.0, 70.0)
            .bounds("social", 50.0, 60.0)),
        Error::InvalidOption {
            option: "budget",
            ..
        }
    ));
    assert!(matches!(
        err(AllocationOptions::new(100.0).bounds("email", 5.0, 1.0)),
        Error::InvalidOption {
            option: "bounds",
            ..
        }
    ));
    assert!(matches!(
        err(AllocationOptions::new(100.0).bounds("tv", 0.0, 1.0)),
        Error::UnknownId { id, .. } if id == "tv"
    ));
    assert!(matches!(
        err(AllocationOptions::new(100.0).current([("email", 10.0)])),
        Error::InvalidOption {
            option: "current",
            ..
        }
    ));
    assert!(matches!(
        err(AllocationOptions::new(100.0).group_margin("email", 0.0)),
        Error::InvalidOption {
            option: "group_margin",
            ..
        }
    ));
    assert!(matches!(
        err(AllocationOptions::new(100.0).confidence(1.0)),
        Error::InvalidOption {
            option: "confidence",
            ..
        }
    ));
}
