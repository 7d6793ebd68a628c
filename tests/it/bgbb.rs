//! BG/BB against published values and independent computations.
//!
//! Sources: Fader, Hardie & Shang (2010) "Customer-base analysis in a discrete-time
//! noncontractual setting", Marketing Science 29(6) (donation-data estimates α = 1.204,
//! β = 0.750, γ = 0.657, δ = 2.783, ℓ = −33225.6); tests/data/persistency/bgbb_donations.json,
//! made by tests/data/persistency/make_reference.py with lifetimes 0.11.3
//! (`BetaGeoBetaBinomFitter`) and an mpmath (50 digits) implementation of the paper's
//! equations.

use acrm::persistency::{BgBb, DiscretePattern, FitOptions};
use acrm::{Error, Fitted};
use approx::assert_relative_eq;
use serde_json::Value;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// Relative agreement with the 50-digit mpmath values (per pattern and in total).
const MPMATH: f64 = 1e-12;

/// The donation data (copied from lifetimes 0.11.3): 22 patterns, 11,104 donors, n = 6.
fn donations() -> Vec<DiscretePattern> {
    let text = std::fs::read_to_string(format!("{DATA}/persistency/donations.csv")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<u32> = l.split(',').map(|v| v.trim().parse().unwrap()).collect();
            DiscretePattern {
                x: f[0],
                t_x: f[1],
                n: f[2],
                count: f[3],
            }
        })
        .collect()
}

fn reference() -> Value {
    let text = std::fs::read_to_string(format!("{DATA}/persistency/bgbb_donations.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn u(v: &Value) -> u32 {
    v.as_u64().unwrap_or_else(|| panic!("not an integer: {v}")) as u32
}

fn bgbb_of(params: &Value) -> BgBb {
    BgBb::new(
        f(&params["alpha"]),
        f(&params["beta"]),
        f(&params["gamma"]),
        f(&params["delta"]),
    )
    .unwrap()
}

#[test]
fn bgbb_matches_mpmath_at_published_and_fitted_parameters() {
    // Values: mpmath (dps 50) columns of bgbb_donations.json (eqs. 5, 11, 13 and the
    // P(X(n) = x) formula of FHS 2010).
    let r = reference();
    let patterns = donations();
    assert_eq!(patterns.len(), 22);
    assert_eq!(patterns.iter().map(|p| p.count).sum::<u32>(), 11_104);
    for at in ["at_published", "at_fitted"] {
        let case = &r[at];
        let m = bgbb_of(&case["params"]);
        assert_relative_eq!(
            m.total_log_likelihood(&patterns),
            f(&case["total_weighted_loglik_mpmath"]),
            max_relative = MPMATH
        );
        for p in case["patterns"].as_array().unwrap() {
            let (x, tx, n) = (u(&p["x"]), u(&p["t_x"]), u(&p["n"]));
            assert_relative_eq!(
                m.log_likelihood(x, tx, n),
                f(&p["loglik"]),
                max_relative = MPMATH
            );
            assert_relative_eq!(
                m.p_alive(x, tx, n),
                f(&p["p_alive_next_period"]["mpmath"]),
                max_relative = MPMATH
            );
            assert_relative_eq!(
                m.conditional_expected_transactions(10, x, tx, n),
                f(&p["cond_expected_transactions_next_10"]["mpmath"]),
                max_relative = MPMATH
            );
        }
        let mut mean = 0.0;
        for e in case["prob_x_transactions_in_6"].as_array().unwrap() {
            let (x, n) = (u(&e["x"]), u(&e["n"]));
            let want = f(&e["mpmath"]);
            assert_relative_eq!(
                m.probability_of_transactions(x, n),
                want,
                max_relative = MPMATH
            );
            mean += f64::from(x) * want;
        }
        // E[X(6)] has no column of its own: Σ x P(X(6) = x) over the mpmath pmf is the
        // reference.
        assert_relative_eq!(m.expected_transactions(6), mean, max_relative = MPMATH);
    }
}

#[test]
fn bgbb_fit_on_donations_recovers_the_published_estimates() {
    let r = reference();
    let patterns = donations();
    let opts = FitOptions::new().tolerance(1e-10);
    let Fitted { model: m, report } = opts.fit::<BgBb>(&patterns).unwrap();
    assert!(report.termination.converged(), "{report:?}");
    assert_eq!(report.names, BgBb::NAMES);
    // FHS 2010 publish three decimals: the estimate must round to them (within half a
    // unit of the third decimal, tighter than 1e-3).
    for (got, published) in m.params().iter().zip([1.204, 0.750, 0.657, 2.783]) {
        assert!(
            (got - published).abs() <= 5e-4,
            "{got} vs published {published}"
        );
    }
    // FHS 2010: ℓ = −33225.6.
    assert!(
        (report.log_likelihood - -33225.6).abs() < 0.05,
        "{}",
        report.log_likelihood
    );
    // lifetimes 0.11.3's fit (tol 1e-8) agrees to its own tolerance, and the fit's ℓ is
    // at least the mpmath ℓ at lifetimes' estimate.
    for (got, want) in m.params().iter().zip(bgbb_of(&r["fitted_params"]).params()) {
        assert_relative_eq!(*got, want, max_relative = 1e-5);
    }
    let at_lifetimes = f(&r["at_fitted"]["total_weighted_loglik_mpmath"]);
    assert!(report.log_likelihood >= at_lifetimes - 1e-9);
    assert_relative_eq!(
        report.log_likelihood,
        m.total_log_likelihood(&patterns),
        max_relative = 1e-15
    );
    assert!(
        report.std_errors.iter().all(|s| s.is_finite() && *s > 0.0),
        "{report:?}"
    );
}

#[test]
fn bgbb_fit_is_the_same_for_one_customer_per_pattern_and_any_thread_count() {
    // One pattern per donor (11,104 rows, several parallel chunks) must give the compact
    // fit, and the same bits on one and two threads (shared/STYLE.md, Parallelism).
    let compact = donations();
    let expanded: Vec<DiscretePattern> = compact
        .iter()
        .flat_map(|p| std::iter::repeat(DiscretePattern { count: 1, ..*p }).take(p.count as usize))
        .collect();
    let opts = FitOptions::new();
    let one = crate::pool(1).install(|| opts.fit::<BgBb>(&expanded).unwrap());
    let two = crate::pool(2).install(|| opts.fit::<BgBb>(&expanded).unwrap());
    assert_eq!(one, two);
    let m = opts.fit::<BgBb>(&compact).unwrap().model;
    for (a, b) in one.model.params().iter().zip(m.params()) {
        assert_relative_eq!(*a, b, max_relative = 1e-6);
    }
}

/// Parameter sets for the invariants: the published one, and γ on both sides of 1.
fn models() -> Vec<BgBb> {
    [
        [1.204, 0.750, 0.657, 2.783],
        [0.3, 4.0, 1.7, 0.4],
        [12.0, 0.05, 0.9, 25.0],
        [2.0, 2.0, 1.0, 1.0],
    ]
    .iter()
    .map(|p| BgBb::new(p[0], p[1], p[2], p[3]).unwrap())
    .collect()
}

#[test]
fn bgbb_invariants() {
    // Model identities (statrs-style invariant suite): probabilities in [0, 1],
    // Σₓ P(X(n)=x) = 1, E[X(n)] non-decreasing and equal to Σₓ x P(X(n)=x), and the
    // likelihoods of all histories of length n summing to 1.
    for m in models() {
        let mut previous = 0.0;
        for n in [1u32, 2, 6, 20, 60] {
            let pmf: Vec<f64> = (0..=n)
                .map(|x| m.probability_of_transactions(x, n))
                .collect();
            assert!(pmf.iter().all(|p| (0.0..=1.0).contains(p)), "{m:?} {pmf:?}");
            assert_relative_eq!(pmf.iter().sum::<f64>(), 1.0, max_relative = 1e-12);
            let mean: f64 = pmf.iter().enumerate().map(|(x, p)| x as f64 * p).sum();
            let e = m.expected_transactions(n);
            assert_relative_eq!(e, mean, max_relative = 1e-12);
            assert!(e >= previous, "{m:?}: E[X({n})] = {e} < {previous}");
            previous = e;
            assert_relative_eq!(m.probability_of_transactions(n + 1, n), 0.0);

            // A history (x, t_x) stands for C(t_x − 1, x − 1) sequences of n outcomes
            // (the last transaction at t_x is fixed), each with probability L(x, t_x, n).
            let mut total = 0.0;
            for t_x in 0..=n {
                for x in 0..=t_x {
                    if (x == 0) != (t_x == 0) {
                        continue;
                    }
                    let p = m.p_alive(x, t_x, n);
                    assert!((0.0..=1.0).contains(&p), "{m:?} ({x}, {t_x}, {n}): {p}");
                    let c = m.conditional_expected_transactions(5, x, t_x, n);
                    assert!((0.0..=5.0).contains(&c), "{m:?} ({x}, {t_x}, {n}): {c}");
                    let sequences = if x == 0 {
                        1.0
                    } else {
                        binomial(t_x - 1, x - 1)
                    };
                    total += sequences * m.log_likelihood(x, t_x, n).exp();
                }
            }
            if n <= 20 {
                assert_relative_eq!(total, 1.0, max_relative = 1e-12);
            }
        }
        assert_relative_eq!(m.expected_transactions(0), 0.0);
        assert_relative_eq!(m.conditional_expected_transactions(0, 2, 3, 6), 0.0);
    }
}

fn binomial(n: u32, k: u32) -> f64 {
    (0..k).fold(1.0, |acc, i| acc * f64::from(n - i) / f64::from(i + 1))
}

#[test]
fn bgbb_total_is_the_weighted_sum_of_customers() {
    let patterns = donations();
    for m in models() {
        let sum: f64 = patterns
            .iter()
            .map(|p| f64::from(p.count) * m.log_likelihood(p.x, p.t_x, p.n))
            .sum();
        assert_relative_eq!(m.total_log_likelihood(&patterns), sum, max_relative = 1e-13);
    }
}

#[test]
fn bgbb_conditional_expectation_is_continuous_at_gamma_one() {
    // FHS 2010 eq. 13 is 0/0 at γ = 1; its limit lies between the values on either side.
    for (x, t_x, n) in [(0, 0, 6), (3, 5, 6), (6, 6, 6)] {
        let at = |g: f64| {
            BgBb::new(1.2, 0.8, g, 2.5)
                .unwrap()
                .conditional_expected_transactions(10, x, t_x, n)
        };
        let (lo, mid, hi) = (at(1.0 - 1e-7), at(1.0), at(1.0 + 1e-7));
        assert!(mid.is_finite() && mid > 0.0);
        assert!((lo.min(hi)..=lo.max(hi)).contains(&mid), "{lo} {mid} {hi}");
    }
}

#[test]
fn bgbb_long_histories_match_mpmath() {
    // 5,000 opportunities, where each term of eq. 5 is far below f64's range in linear
    // space (B(α+x, β+n−x) ~ 1e-1500) but not in log space. Expected values: mpmath 1.4.1
    // at 50 digits, with the formulas of make_reference.py (`bgbb_L`,
    // `bgbb_palive_next`, `bgbb_cond_exp`) at the published parameters.
    let m = BgBb::new(1.204, 0.750, 0.657, 2.783).unwrap();
    assert_relative_eq!(
        m.log_likelihood(2500, 4000, 5000),
        -2663.2546076144913,
        max_relative = MPMATH
    );
    assert_relative_eq!(
        m.log_likelihood(2500, 5000, 5000),
        -3474.835699704102,
        max_relative = MPMATH
    );
    assert_relative_eq!(
        m.p_alive(2500, 5000, 5000),
        0.9998686903410453,
        max_relative = MPMATH
    );
    assert_relative_eq!(
        m.conditional_expected_transactions(100, 2500, 5000, 5000),
        49.67652786742857,
        max_relative = MPMATH
    );
    // 1000 opportunities without a transaction after a 62.5% rate: mpmath gives
    // 3.4e-353, below the smallest f64, so the nearest f64 is 0.
    let p = m.p_alive(2500, 4000, 5000);
    assert!((0.0..f64::MIN_POSITIVE).contains(&p), "{p}");
}

#[test]
fn bgbb_rejects_bad_input() {
    for (i, (name, params)) in [
        ("alpha", [0.0, 1.0, 1.0, 1.0]),
        ("beta", [1.0, -1.0, 1.0, 1.0]),
        ("gamma", [1.0, 1.0, f64::NAN, 1.0]),
        ("delta", [1.0, 1.0, 1.0, f64::INFINITY]),
    ]
    .into_iter()
    .enumerate()
    {
        match BgBb::new(params[0], params[1], params[2], params[3]) {
            Err(Error::InvalidOption { option, value, .. }) => {
                assert_eq!(option, name);
                assert_eq!(value, params[i].to_string());
            }
            other => panic!("{other:?}"),
        }
    }
    let ok = DiscretePattern {
        x: 1,
        t_x: 2,
        n: 6,
        count: 3,
    };
    // Each bad history with the field that breaks the rules and its value.
    for (bad, bad_field, bad_value) in [
        (DiscretePattern { x: 3, ..ok }, "x", "3"),     // x > t_x
        (DiscretePattern { t_x: 7, ..ok }, "t_x", "7"), // t_x > n
        (DiscretePattern { x: 0, ..ok }, "t_x", "2"),   // t_x > 0 without transactions
        (DiscretePattern { t_x: 0, ..ok }, "x", "1"),   // x > 0 with t_x = 0
        (
            DiscretePattern {
                n: 0,
                t_x: 0,
                x: 0,
                ..ok
            },
            "n",
            "0",
        ), // no opportunity
    ] {
        let err = FitOptions::new().fit::<BgBb>(&[ok, bad][..]).unwrap_err();
        match &err {
            Error::BadValue {
                input,
                row,
                field,
                value,
                ..
            } => {
                assert_eq!((input.as_str(), *row), ("patterns", 1), "{err}");
                assert_eq!(
                    (field.as_str(), value.as_str()),
                    (bad_field, bad_value),
                    "{err}"
                );
            }
            other => panic!("{other:?}"),
        }
        let m = models()[0];
        assert!(m.log_likelihood(bad.x, bad.t_x, bad.n).is_nan());
        assert!(m.p_alive(bad.x, bad.t_x, bad.n).is_nan());
        assert!(m.total_log_likelihood(&[ok, bad]).is_nan());
    }
    assert_eq!(
        FitOptions::new()
            .fit::<BgBb>(&[] as &[DiscretePattern])
            .unwrap_err(),
        Error::EmptyInput
    );
    assert_eq!(
        FitOptions::new()
            .fit::<BgBb>(&[DiscretePattern { count: 0, ..ok }][..])
            .unwrap_err(),
        Error::EmptyInput
    );
    assert!(matches!(
        FitOptions::new()
            .initial(&[1.0, 1.0])
            .fit::<BgBb>(&donations()),
        Err(Error::InvalidOption {
            option: "initial",
            ..
        })
    ));
}
