//! Pareto/NBD against published values and mpmath.
//!
//! Sources: Fader, Hardie & Lee (2005, "RFM and CLV", CDNOW estimates r = 0.553,
//! α = 10.578, s = 0.606, β = 11.669, ℓ = −9595.0, and the x = 26, t_x = 30.86, T = 31
//! checkpoint: P(alive) 0.9979, 25.46 purchases in 52 weeks); tests/data/persistency/
//! pareto_cdnow.json, made by tests/data/persistency/make_reference.py with lifetimes
//! 0.11.3 and mpmath (50 digits) from note 009's closed forms, including 64 extreme cases
//! (x up to 10⁴, T up to 10³, parameters from 10⁻³ to 10³) checked against quadrature and
//! 100-digit arithmetic, 28 of which lifetimes gets wrong or NaN.

use acrm::numerics::Fitted;
use acrm::persistency::{FitOptions, ParetoNbd};
use approx::assert_relative_eq;
use serde_json::Value;

use crate::persistency::{cdnow_patterns, f, reference};

fn pnbd_of(params: &Value) -> ParetoNbd {
    ParetoNbd::new(
        f(&params["r"]),
        f(&params["alpha"]),
        f(&params["s"]),
        f(&params["beta"]),
    )
    .unwrap()
}

#[test]
fn matches_mpmath_at_published_and_fitted_parameters() {
    let r = reference("pareto_cdnow.json");
    let patterns = cdnow_patterns();
    for at in ["at_published", "at_fitted"] {
        let case = &r[at];
        let m = pnbd_of(&case["params"]);
        assert_relative_eq!(
            m.total_log_likelihood(&patterns),
            f(&case["total_loglik_mpmath"]),
            max_relative = 1e-12
        );
        for c in case["customers"].as_array().unwrap() {
            let (x, tx, t) = (c["x"].as_u64().unwrap() as u32, f(&c["t_x"]), f(&c["T"]));
            assert_relative_eq!(
                m.log_likelihood(x, tx, t),
                f(&c["loglik"]["mpmath"]),
                max_relative = 1e-12
            );
            assert_relative_eq!(
                m.p_alive(x, tx, t),
                f(&c["p_alive"]["mpmath"]),
                max_relative = 1e-12
            );
            for (_, e) in c["cond_expected_purchases"].as_object().unwrap() {
                assert_relative_eq!(
                    m.conditional_expected_purchases(f(&e["t"]), x, tx, t),
                    f(&e["mpmath"]),
                    max_relative = 1e-12
                );
            }
        }
        if let Some(list) = case["unconditional_expected_purchases"].as_array() {
            for e in list {
                assert_relative_eq!(
                    m.expected_purchases(f(&e["t"])),
                    f(&e["closed_form"]),
                    max_relative = 1e-12
                );
            }
        }
    }
}

#[test]
fn published_checkpoint() {
    let m = ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap();
    let p = m.p_alive(26, 30.86, 31.0);
    let e = m.conditional_expected_purchases(52.0, 26, 30.86, 31.0);
    assert!((p - 0.9979).abs() < 5e-5, "{p}");
    assert!((e - 25.46).abs() < 5e-3, "{e}");
}

/// The extreme sweep of the reference file: every value finite and within 1e-10 of
/// mpmath (relative; absolute for ℓ below 1 and for 1 − P(alive)), where lifetimes returns NaN or wrong values for 28 of the 64 cases.
#[test]
fn extreme_cases_are_finite_and_accurate() {
    let r = reference("pareto_cdnow.json");
    let cases = r["extreme_cases"]["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 64);
    let num = |c: &Value, k: &str| -> f64 {
        c[format!("{k}_str")]
            .as_str()
            .map(|s| s.parse().unwrap())
            .unwrap_or_else(|| f(&c[k]))
    };
    let mut worst = [0.0f64; 4];
    for c in cases {
        let m = pnbd_of(&c["params"]);
        let (x, tx, t) = (c["x"].as_u64().unwrap() as u32, f(&c["t_x"]), f(&c["T"]));
        let got = [
            m.log_likelihood(x, tx, t),
            m.p_alive(x, tx, t),
            1.0 - m.p_alive(x, tx, t),
            m.conditional_expected_purchases(f(&c["t"]), x, tx, t),
        ];
        let want = [
            num(c, "loglik"),
            num(c, "p_alive"),
            num(c, "one_minus_p_alive"),
            num(c, "cond_expected_purchases_t52"),
        ];
        for k in 0..4 {
            assert!(got[k].is_finite(), "case {c}: {got:?}");
            // 1 − P(alive) is only as accurate as P(alive) is near 1: compare absolutely.
            // A log-likelihood's error is the likelihood's relative error: compare it
            // absolutely below 1 (one case has ℓ = −1.0·10⁻¹², a likelihood of 1 − 10⁻¹²).
            let err = if k == 2 {
                (got[k] - want[k]).abs()
            } else if k == 0 {
                (got[k] - want[k]).abs() / want[k].abs().max(1.0)
            } else {
                ((got[k] - want[k]) / want[k].abs().max(1e-300)).abs()
            };
            worst[k] = worst[k].max(err);
            assert!(
                err < 1e-10,
                "case {c}: quantity {k}: {} vs {}",
                got[k],
                want[k]
            );
        }
    }
    eprintln!("worst relative errors (ll, p_alive, 1-p_alive abs, E52): {worst:?}");
}

#[test]
fn fit_on_cdnow_recovers_the_published_estimates() {
    let patterns = cdnow_patterns();
    let Fitted { model: m, report } = FitOptions::new().fit::<ParetoNbd>(&patterns).unwrap();
    assert!(report.termination.converged(), "{report:?}");
    eprintln!("{:?} {report:?}", m.params());
    for (got, published) in m.params().iter().zip([0.553, 10.578, 0.606, 11.669]) {
        assert!(
            ((got - published) / published).abs() <= 1e-3,
            "{got} vs published {published}"
        );
    }
    assert!(
        (report.log_likelihood - -9595.0).abs() < 0.05,
        "{}",
        report.log_likelihood
    );
    let r = reference("pareto_cdnow.json");
    let lifetimes = pnbd_of(&r["fitted_params"]);
    for (got, want) in m.params().iter().zip(lifetimes.params()) {
        assert_relative_eq!(*got, want, max_relative = 1e-5);
    }
    assert!(report.log_likelihood >= f(&r["fit"]["total_loglik_weeks_from_objective"]) - 1e-6);
    assert!(
        report.std_errors.iter().all(|s| s.is_finite() && *s > 0.0),
        "{report:?}"
    );
}

/// Σₙ P(X(t) = n) = 1 and the mean of that distribution is E[X(t)], at the published
/// estimates and at a far-off point.
#[test]
fn purchase_distribution_sums_to_one_and_has_the_expected_mean() {
    for m in [
        ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap(),
        ParetoNbd::new(3.0, 2.0, 1.5, 30.0).unwrap(),
    ] {
        for t in [1.0, 39.0, 78.0] {
            let (mut total, mut mean) = (0.0, 0.0);
            for n in 0..2000 {
                let p = m.probability_of_purchases(n, t);
                assert!((0.0..=1.0).contains(&p));
                total += p;
                mean += f64::from(n) * p;
            }
            assert_relative_eq!(total, 1.0, max_relative = 1e-10);
            assert_relative_eq!(mean, m.expected_purchases(t), max_relative = 1e-9);
        }
    }
}

/// Batch P(alive) (tails shared between customers) gives the same bits as one customer
/// at a time, on CDNOW and on the extreme histories, through `score` as well.
#[test]
fn batch_p_alive_equals_per_customer() {
    use acrm::summary::{score, Rfm};
    let mut records: Vec<Rfm> = cdnow_patterns()
        .iter()
        .map(|p| Rfm {
            x: p.x,
            t_x: p.t_x,
            t: p.t,
            mean_spend: 0.0,
        })
        .collect();
    for (x, t_x, t) in [
        (10_000, 1.0, 1000.0),
        (3, 5.0, 5.0),
        (0, 0.0, 1000.0),
        (1, 0.0, 39.0),
    ] {
        records.push(Rfm {
            x,
            t_x,
            t,
            mean_spend: 0.0,
        });
    }
    for m in [
        ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap(),
        ParetoNbd::new(0.1, 100.0, 10.0, 0.01).unwrap(),
        ParetoNbd::new(10.0, 0.1, 0.01, 100.0).unwrap(),
    ] {
        let batch = m.p_alive_all(&records);
        let scores = score(&m, &records, 39.0);
        for (i, r) in records.iter().enumerate() {
            let one = m.p_alive(r.x, r.t_x, r.t);
            assert_eq!(batch[i].to_bits(), one.to_bits(), "{r:?}");
            assert_eq!(scores[i].p_alive.to_bits(), one.to_bits());
        }
    }
}
