//! Persistency models against published values and independent computations.
//!
//! Sources: Fader, Hardie & Lee (2005) "Counting your customers the easy way" (CDNOW
//! sample estimates r = 0.243, α = 4.414, a = 0.793, b = 2.426, ℓ = −9582.4, and the
//! 39-week expectation 1.226); tests/data/persistency/bgnbd_cdnow.json, made by
//! tests/data/persistency/make_reference.py with lifetimes 0.11.3 and an mpmath
//! (50 digits) implementation of the paper's equations.

use acrm::numerics::Fitted;
use acrm::persistency::{BgNbd, FitOptions, MbgNbd};
use acrm::summary::Pattern;
use approx::assert_relative_eq;
use serde_json::Value;

pub(crate) const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// The CDNOW sample's 39-week calibration summary (2,357 customers), one pattern each.
pub(crate) fn cdnow_patterns() -> Vec<Pattern> {
    let text = std::fs::read_to_string(format!(
        "{DATA}/cdnow/cdnow_customers_summary_with_transactions.csv"
    ))
    .unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            Pattern {
                x: f[1].trim().parse().unwrap(),
                t_x: f[2].trim().parse().unwrap(),
                t: f[3].trim().parse().unwrap(),
                count: 1,
            }
        })
        .collect()
}

pub(crate) fn reference(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DATA}/persistency/{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

pub(crate) fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn bgnbd_of(params: &Value) -> BgNbd {
    BgNbd::new(
        f(&params["r"]),
        f(&params["alpha"]),
        f(&params["a"]),
        f(&params["b"]),
    )
    .unwrap()
}

#[test]
fn bgnbd_matches_mpmath_at_published_and_fitted_parameters() {
    let r = reference("bgnbd_cdnow.json");
    let patterns = cdnow_patterns();
    assert_eq!(patterns.len(), 2357);
    for at in ["at_published", "at_fitted"] {
        let case = &r[at];
        let m = bgnbd_of(&case["params"]);
        assert_relative_eq!(
            m.total_log_likelihood(&patterns),
            f(&case["total_loglik_mpmath"]),
            max_relative = 1e-10
        );
        for c in case["customers"].as_array().unwrap() {
            let (x, tx, t) = (c["x"].as_u64().unwrap() as u32, f(&c["t_x"]), f(&c["T"]));
            assert_relative_eq!(
                m.log_likelihood(x, tx, t),
                f(&c["loglik"]["mpmath"]),
                max_relative = 1e-11
            );
            assert_relative_eq!(
                m.p_alive(x, tx, t),
                f(&c["p_alive"]["mpmath"]),
                max_relative = 1e-11
            );
            for (_, e) in c["cond_expected_purchases"].as_object().unwrap() {
                assert_relative_eq!(
                    m.conditional_expected_purchases(f(&e["t"]), x, tx, t),
                    f(&e["mpmath"]),
                    max_relative = 1e-10
                );
            }
        }
        for e in case["unconditional_expected_purchases"].as_array().unwrap() {
            assert_relative_eq!(
                m.expected_purchases(f(&e["t"])),
                f(&e["mpmath"]),
                max_relative = 1e-10
            );
        }
        for e in case["prob_n_purchases"].as_array().unwrap() {
            let n = e["n"].as_u64().unwrap() as u32;
            assert_relative_eq!(
                m.probability_of_purchases(n, f(&e["t"])),
                f(&e["mpmath"]),
                max_relative = 1e-10
            );
        }
    }
}

#[test]
fn bgnbd_worked_example_of_the_paper() {
    // FHL 2005, section 6: 1.226 purchases expected in the next 39 weeks.
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let e = m.conditional_expected_purchases(39.0, 2, 30.43, 38.86);
    assert!((e - 1.226).abs() < 5e-4, "{e}");
}

#[test]
fn bgnbd_fit_on_cdnow_recovers_the_published_estimates() {
    let patterns = cdnow_patterns();
    let Fitted { model: m, report } = FitOptions::new().fit::<BgNbd>(&patterns).unwrap();
    assert!(report.termination.converged(), "{report:?}");
    // Published (FHL 2005) to three decimals: the estimate must round to them (within
    // half a unit of the third decimal). A relative 1e-3 would be tighter than that
    // rounding for r = 0.243 (the MLE is 0.242593: 1.7e-3 relative to 0.243).
    for (got, published) in m.params().iter().zip([0.243, 4.414, 0.793, 2.426]) {
        assert!(
            (got - published).abs() <= 5e-4,
            "{got} vs published {published}"
        );
    }
    assert!(
        (report.log_likelihood - -9582.4).abs() < 0.05,
        "{}",
        report.log_likelihood
    );
    // lifetimes 0.11.3's fit (tol 1e-11) agrees to its own tolerance.
    let r = reference("bgnbd_cdnow.json");
    let lifetimes = bgnbd_of(&r["fitted_params"]);
    for (got, want) in m.params().iter().zip(lifetimes.params()) {
        assert_relative_eq!(*got, want, max_relative = 1e-5);
    }
    assert!(
        report.std_errors.iter().all(|s| s.is_finite() && *s > 0.0),
        "{report:?}"
    );
}

fn mbgnbd_of(params: &Value) -> MbgNbd {
    MbgNbd::new(
        f(&params["r"]),
        f(&params["alpha"]),
        f(&params["a"]),
        f(&params["b"]),
    )
    .unwrap()
}

/// MBG/NBD against tests/data/persistency/mbgnbd_cdnow.json (mpmath, 50 digits, from
/// Batislam et al. 2007's expressions; lifetimes 0.11.3's ModifiedBetaGeoFitter fit).
#[test]
fn mbgnbd_matches_mpmath_and_the_lifetimes_fit() {
    let r = reference("mbgnbd_cdnow.json");
    let patterns = cdnow_patterns();
    for at in ["at_published", "at_fitted"] {
        let case = &r[at];
        let m = mbgnbd_of(&case["params"]);
        assert_relative_eq!(
            m.total_log_likelihood(&patterns),
            f(&case["total_loglik_mpmath"]),
            max_relative = 1e-12
        );
        for c in case["customers"].as_array().unwrap() {
            let (x, tx, t) = (c["x"].as_u64().unwrap() as u32, f(&c["t_x"]), f(&c["T"]));
            let ll = m.log_likelihood(x, tx, t);
            assert_relative_eq!(ll, f(&c["loglik"]["mpmath"]), max_relative = 1e-12);
            let p = m.p_alive(x, tx, t);
            assert_relative_eq!(p, f(&c["p_alive"]["mpmath"]), max_relative = 1e-12);
            for (_, e) in c["cond_expected_purchases"].as_object().unwrap() {
                assert_relative_eq!(
                    m.conditional_expected_purchases(f(&e["t"]), x, tx, t),
                    f(&e["mpmath"]),
                    max_relative = 1e-10
                );
            }
        }
        for e in case["unconditional_expected_purchases"].as_array().unwrap() {
            assert_relative_eq!(
                m.expected_purchases(f(&e["t"])),
                f(&e["mpmath"]),
                max_relative = 1e-10
            );
        }
        for e in case["prob_n_purchases"].as_array().unwrap() {
            let n = e["n"].as_u64().unwrap() as u32;
            assert_relative_eq!(
                m.probability_of_purchases(n, f(&e["t"])),
                f(&e["mpmath"]),
                max_relative = 1e-10
            );
        }
    }
    let Fitted { model: m, report } = FitOptions::new().fit::<MbgNbd>(&patterns).unwrap();
    assert!(report.termination.converged(), "{report:?}");
    for (got, want) in m
        .params()
        .iter()
        .zip(mbgnbd_of(&r["fitted_params"]).params())
    {
        assert_relative_eq!(*got, want, max_relative = 1e-5);
    }
    let lifetimes_ll = f(&r["fit"]["total_loglik_weeks_from_objective"]);
    assert!(
        (report.log_likelihood - lifetimes_ll).abs() < 1e-6,
        "{} vs {lifetimes_ll}",
        report.log_likelihood
    );
}

/// Bootstrap: refits on resampled CDNOW customers. The spread of the replicates agrees
/// with the observed-information standard errors, any prediction gets an interval, and
/// the replicates are the same bits on one thread as on the default pool.
#[test]
fn bgnbd_bootstrap_matches_the_information_standard_errors() {
    use acrm::numerics::BootstrapOptions;
    let patterns = cdnow_patterns();
    let Fitted { model: m, report } = FitOptions::new().fit::<BgNbd>(&patterns).unwrap();
    let weights: Vec<u32> = patterns.iter().map(|p| p.count).collect();
    let refit = |counts: &[u32]| {
        let resampled: Vec<Pattern> = patterns
            .iter()
            .zip(counts)
            .filter(|(_, &c)| c > 0)
            .map(|(p, &c)| Pattern { count: c, ..*p })
            .collect();
        FitOptions::new().fit::<BgNbd>(&resampled).map(|f| f.model)
    };
    let opts = BootstrapOptions::new().replicates(200).seed(1);
    let b = opts.fit(&weights, refit).unwrap();
    assert_eq!(b.failed, 0);
    for (i, se) in report.std_errors.iter().enumerate() {
        let v: Vec<f64> = b.models.iter().map(|m| m.params()[i]).collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt();
        // 200 replicates estimate a standard deviation to about ±10%; the skewed b needs
        // the wider band.
        assert!(
            (sd / se - 1.0).abs() < 0.35,
            "parameter {i}: bootstrap {sd} vs information {se}"
        );
    }
    let ci = b
        .interval(|bm| bm.conditional_expected_purchases(39.0, 2, 30.43, 38.86))
        .unwrap();
    let point = m.conditional_expected_purchases(39.0, 2, 30.43, 38.86);
    assert!(ci.lo < point && point < ci.hi, "{ci:?} vs {point}");
    let single =
        crate::pool(1).install(|| opts.clone().replicates(20).fit(&weights, refit).unwrap());
    let pooled = opts.replicates(20).fit(&weights, refit).unwrap();
    assert_eq!(single.models, pooled.models);
}
