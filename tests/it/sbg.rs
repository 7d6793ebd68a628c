//! Shifted-beta-geometric retention against published values and independent
//! computations.
//!
//! Sources: Fader & Hardie (2007) "How to project customer retention", Journal of
//! Interactive Marketing 21(1) (the "regular" and "high end" cohorts, estimates
//! α = 0.704, β = 1.182 and α = 0.668, β = 3.806 from years 1 to 7); Fader & Hardie (2010)
//! "Customer-base valuation in a contractual setting", Marketing Science 29(1), eq. 6
//! (DERL); tests/data/persistency/sbg.json, made by tests/data/persistency/make_reference.py
//! (scipy 1.10.1 fit polished by Newton steps in mpmath; S(t), r_t, DEL and DERL in
//! mpmath with 50 digits, DEL and DERL checked by direct summation).

use acrm::persistency::{Cohort, FitOptions, ShiftedBetaGeometric};
use acrm::{Error, Fitted};
use approx::assert_relative_eq;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// Relative agreement with the 50-digit mpmath values.
const MPMATH: f64 = 1e-12;

const COHORTS: [&str; 2] = ["regular", "high_end"];

fn reference() -> Value {
    let text = std::fs::read_to_string(format!("{DATA}/persistency/sbg.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Survivors of years 0..=12 (FH 2007, as recorded in sbg.json).
fn survivors(r: &Value, name: &str) -> Vec<u64> {
    r["models"][name]["survivors_years_0_to_12"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

/// The calibration cohort of FH 2007: years 0..=7.
fn calibration(r: &Value, name: &str) -> Cohort {
    Cohort::new(survivors(r, name)[..8].to_vec()).unwrap()
}

fn sbg_of(v: &Value) -> ShiftedBetaGeometric {
    ShiftedBetaGeometric::new(f(&v["alpha"]), f(&v["beta"])).unwrap()
}

#[test]
fn sbg_fit_recovers_the_reference_and_published_estimates() {
    let r = reference();
    for name in COHORTS {
        let model = &r["models"][name];
        let cohort = calibration(&r, name);
        let opts = FitOptions::new().tolerance(1e-12);
        let Fitted { model: m, report } = opts
            .fit::<ShiftedBetaGeometric>(std::slice::from_ref(&cohort))
            .unwrap();
        assert!(report.termination.converged(), "{name}: {report:?}");
        assert_eq!(report.names, ShiftedBetaGeometric::NAMES);
        // sbg.json's Newton-polished MLE (its mpmath gradient is ~1e-14).
        let reference = sbg_of(&model["fitted"]);
        for (got, want) in m.params().iter().zip(reference.params()) {
            assert_relative_eq!(*got, want, max_relative = 1e-8);
        }
        // FH 2007 publish three decimals: the estimate must round to them.
        for (got, published) in m.params().iter().zip(sbg_of(&model["published"]).params()) {
            assert!(
                (got - published).abs() <= 5e-4,
                "{name}: {got} vs {published}"
            );
        }
        assert_relative_eq!(
            report.log_likelihood,
            f(&model["fitted"]["loglik_mpmath"]),
            max_relative = MPMATH
        );
        assert!(report.log_likelihood >= f(&model["fitted"]["loglik_mpmath"]) - 1e-9);
        assert!(report.std_errors.iter().all(|s| s.is_finite() && *s > 0.0));
    }
}

#[test]
fn sbg_matches_mpmath_at_fitted_and_published_parameters() {
    let r = reference();
    for name in COHORTS {
        let model = &r["models"][name];
        let cohort = calibration(&r, name);
        // ℓ at the published estimates: sbg.json (scipy betaln, float64).
        assert_relative_eq!(
            sbg_of(&model["published"]).log_likelihood(&cohort),
            f(&model["published"]["loglik_at_published"]),
            max_relative = MPMATH
        );
        assert_relative_eq!(
            sbg_of(&model["fitted"]).log_likelihood(&cohort),
            f(&model["fitted"]["loglik_mpmath"]),
            max_relative = MPMATH
        );
        for (at, params) in [("at_fitted", "fitted"), ("at_published", "published")] {
            let m = sbg_of(&model[params]);
            let case = &model[at];
            for (t, s) in case["survival_S_t_0_to_12"]
                .as_array()
                .unwrap()
                .iter()
                .enumerate()
            {
                assert_relative_eq!(m.survival(t as u32), f(s), max_relative = MPMATH);
            }
            for e in case["retention_rate_r_t"].as_array().unwrap() {
                let t = e["t"].as_u64().unwrap() as u32;
                assert_relative_eq!(m.retention_rate(t), f(&e["r"]), max_relative = MPMATH);
            }
            assert!(case["expected_lifetime_E_T"].is_null());
            assert!(m.expected_lifetime().is_infinite() && m.expected_lifetime() > 0.0);
            assert_relative_eq!(
                m.discounted_expected_lifetime(0.10),
                f(&case["DEL_d0.10"]),
                max_relative = MPMATH
            );
            for e in case["DERL_d0.10"].as_array().unwrap() {
                let n = e["n"].as_u64().unwrap() as u32;
                assert_relative_eq!(m.derl(0.10, n), f(&e["derl"]), max_relative = MPMATH);
            }
        }
    }
}

#[test]
fn sbg_lifetime_values_to_four_decimals() {
    // DEL, DERL after 0 and 4 renewals at d = 0.10 at the MLE, to four decimals (the
    // `at_fitted` values of sbg.json rounded; FH 2010's conventions: payment at the start
    // of each period, n = the current period).
    let r = reference();
    for (name, [del, derl1, derl5]) in [
        ("regular", [3.6949, 2.9644, 5.8941]),
        ("high_end", [5.9223, 5.4145, 6.8967]),
    ] {
        let m = sbg_of(&r["models"][name]["fitted"]);
        assert!((m.discounted_expected_lifetime(0.10) - del).abs() < 5e-5);
        assert!((m.derl(0.10, 1) - derl1).abs() < 5e-5);
        assert!((m.derl(0.10, 5) - derl5).abs() < 5e-5);
    }
}

#[test]
fn sbg_projects_the_holdout_years() {
    // FH 2007's point: fitted on years 1..7, the model tracks years 8..12. Survivors at
    // year 12 (regular 173, high end 394; sbg.json inputs) are within 5% of the
    // projection (170.0 and 378.0).
    let r = reference();
    for name in COHORTS {
        let all = survivors(&r, name);
        let m = FitOptions::new()
            .fit::<ShiftedBetaGeometric>(&[calibration(&r, name)][..])
            .unwrap()
            .model;
        let projected = all[0] as f64 * m.survival(12);
        assert_relative_eq!(projected, all[12] as f64, max_relative = 0.05);
    }
}

/// Parameter sets for the invariants: both published ones, α > 1, and extremes.
fn models() -> Vec<ShiftedBetaGeometric> {
    [
        [0.704, 1.182],
        [0.668, 3.806],
        [4.5, 2.0],
        [0.05, 40.0],
        [30.0, 0.1],
    ]
    .iter()
    .map(|p| ShiftedBetaGeometric::new(p[0], p[1]).unwrap())
    .collect()
}

#[test]
fn sbg_invariants() {
    // Model identities: S(0) = 1, S decreasing, P(T = t) = S(t−1) − S(t) in [0, 1],
    // r_t = S(t)/S(t−1) increasing in (0, 1), DEL = 1 + DERL(1)/(1+d) (FH 2010).
    for m in models() {
        assert_relative_eq!(m.survival(0), 1.0);
        assert_relative_eq!(m.churn_probability(0), 0.0);
        assert!(m.retention_rate(0).is_nan());
        let mut total = 0.0;
        for t in 1..=200u32 {
            let (s0, s1) = (m.survival(t - 1), m.survival(t));
            assert!(
                s1 < s0 && s1 > 0.0,
                "{m:?}: S({t}) = {s1}, S({}) = {s0}",
                t - 1
            );
            let p = m.churn_probability(t);
            assert!((0.0..=1.0).contains(&p));
            // S(t−1) − S(t) cancels (to 1e-9 relative for α = 0.05, β = 40): compare
            // absolutely.
            assert_relative_eq!(p, s0 - s1, epsilon = 1e-12);
            assert_relative_eq!(m.retention_rate(t), s1 / s0, max_relative = 1e-12);
            assert!(m.retention_rate(t + 1) > m.retention_rate(t));
            total += p;
        }
        assert_relative_eq!(total + m.survival(200), 1.0, max_relative = 1e-12);
        for d in [0.01, 0.1, 0.5] {
            assert_relative_eq!(
                m.discounted_expected_lifetime(d),
                1.0 + m.derl(d, 1) / (1.0 + d),
                max_relative = 1e-13
            );
        }
    }
}

#[test]
fn sbg_lifetimes_against_direct_sums() {
    // Brute-force oracles: E[T] = Σ_{t≥0} S(t) for α > 1, and DERL as the sum defining it
    // (FH 2010, eq. 6), truncated where the tail is below 1e-16.
    let m = ShiftedBetaGeometric::new(4.5, 2.0).unwrap();
    let direct: f64 = (0..200_000u32).map(|t| m.survival(t)).sum();
    assert_relative_eq!(m.expected_lifetime(), direct, max_relative = 1e-12);
    assert_relative_eq!(m.expected_lifetime(), 5.5 / 3.5, max_relative = 1e-15);
    for m in models() {
        for d in [0.05f64, 0.2] {
            let z = 1.0 / (1.0 + d);
            for n in [1u32, 2, 7, 30] {
                let s = m.survival(n - 1);
                let direct: f64 = (n..n + 2000)
                    .map(|t| m.survival(t) / s * z.powi((t - n) as i32))
                    .sum();
                assert_relative_eq!(m.derl(d, n), direct, max_relative = 1e-12);
            }
        }
    }
}

#[test]
fn sbg_cohorts_add_up() {
    // Several cohorts: the total is the sum of the cohorts' values, each being its
    // censored-geometric likelihood written out term by term (FH 2007).
    let r = reference();
    let cohorts: Vec<Cohort> = COHORTS.iter().map(|n| calibration(&r, n)).collect();
    let long = Cohort::new(survivors(&r, "regular")).unwrap();
    for m in models() {
        let each: f64 = cohorts.iter().map(|c| m.log_likelihood(c)).sum();
        assert_relative_eq!(m.total_log_likelihood(&cohorts), each, max_relative = 1e-14);
        let a = long.alive();
        let mut by_hand = a[12] as f64 * m.survival(12).ln();
        for t in 1..=12 {
            by_hand += (a[t - 1] - a[t]) as f64 * m.churn_probability(t as u32).ln();
        }
        assert_relative_eq!(m.log_likelihood(&long), by_hand, max_relative = 1e-12);
    }
    // A joint fit is one model for both: its ℓ is below the two separate fits'.
    let joint = FitOptions::new()
        .fit::<ShiftedBetaGeometric>(&cohorts)
        .unwrap()
        .report;
    let separate: f64 = cohorts
        .iter()
        .map(|c| {
            FitOptions::new()
                .fit::<ShiftedBetaGeometric>(std::slice::from_ref(c))
                .unwrap()
                .report
                .log_likelihood
        })
        .sum();
    assert!(joint.termination.converged());
    assert!(joint.log_likelihood < separate);
}

#[test]
fn sbg_rejects_bad_input() {
    let too_short = |alive: Vec<u64>| match Cohort::new(alive.clone()) {
        Err(Error::InvalidOption { option, value, .. }) => {
            assert_eq!(option, "cohort");
            assert_eq!(value, format!("{alive:?}"));
        }
        other => panic!("{other:?}"),
    };
    too_short(vec![]);
    too_short(vec![100]);
    // A bad count: the cohort, the period, the count, and what it had to be.
    let bad_count = |alive: Vec<u64>| match Cohort::new(alive) {
        Err(Error::BadValue {
            input,
            row,
            field,
            value,
            expected,
        }) => {
            assert_eq!((input.as_str(), field.as_str()), ("cohort", "alive"));
            (row, value, expected)
        }
        other => panic!("{other:?}"),
    };
    assert_eq!(bad_count(vec![0, 0]).0, 0);
    let (period, count, expected) = bad_count(vec![100, 80, 81, 50]);
    assert_eq!((period, count.as_str()), (2, "81"));
    assert!(
        expected.contains("the 80 customers of period 1"),
        "{expected}"
    );
    // Deserialising goes through the same checks.
    assert!(serde_json::from_str::<Cohort>("[100, 80, 81]").is_err());
    let c: Cohort = serde_json::from_str("[100, 80, 70]").unwrap();
    assert_eq!(c.alive(), &[100, 80, 70]);
    assert_eq!(c.periods(), 2);

    for (name, a, b) in [("alpha", 0.0, 1.0), ("beta", 1.0, f64::NAN)] {
        match ShiftedBetaGeometric::new(a, b) {
            Err(Error::InvalidOption { option, value, .. }) => {
                assert_eq!(option, name);
                assert_eq!(value, (if name == "alpha" { a } else { b }).to_string());
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        FitOptions::new()
            .fit::<ShiftedBetaGeometric>(&[] as &[Cohort])
            .unwrap_err(),
        Error::EmptyInput
    );
    assert!(matches!(
        FitOptions::new()
            .tolerance(-1.0)
            .fit::<ShiftedBetaGeometric>(&[c][..]),
        Err(Error::InvalidOption {
            option: "tolerance",
            ..
        })
    ));
    let m = models()[0];
    assert!(m.derl(0.0, 1).is_nan());
    assert!(m.derl(0.1, 0).is_nan());
    assert!(m.discounted_expected_lifetime(-0.5).is_nan());
    assert!(m.discounted_expected_lifetime(f64::INFINITY).is_nan());
}
