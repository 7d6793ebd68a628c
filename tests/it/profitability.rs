//! Gamma-Gamma and lifetime value against published values, lifetimes and mpmath.
//!
//! Sources: Fader, Hardie & Lee (2005, "RFM and CLV") CDNOW spend estimates p = 6.25,
//! q = 3.74, γ = 15.44; tests/data/persistency/gammagamma_cdnow.json and clv_cdnow.json,
//! made by tests/data/persistency/make_reference.py with lifetimes 0.11.3
//! (GammaGammaFitter, customer_lifetime_value) and mpmath (50 digits).

use acrm::persistency::BgNbd;
use acrm::profitability::{
    customer_equity, spend_frequency_correlation, ClvOptions, FitOptions, GammaGamma,
};
use acrm::summary::{Records, Rfm};
use acrm::{Error, Fitted};
use approx::assert_relative_eq;
use serde_json::Value;

use crate::persistency::{f, reference, DATA};

/// The CDNOW sample's 39-week calibration summary with mean repeat spend, by ID.
fn cdnow_records() -> Vec<(u64, Rfm)> {
    let text = std::fs::read_to_string(format!(
        "{DATA}/cdnow/cdnow_customers_summary_with_transactions.csv"
    ))
    .unwrap();
    text.lines()
        .skip(1)
        .map(|l| {
            let v: Vec<&str> = l.split(',').map(str::trim).collect();
            let x = v[1].parse().unwrap();
            let rfm = Rfm::new(
                x,
                v[2].parse().unwrap(),
                v[3].parse().unwrap(),
                v[4].parse().unwrap(),
            )
            .unwrap();
            (v[0].parse().unwrap(), rfm)
        })
        .collect()
}

fn gg_of(p: &Value) -> GammaGamma {
    GammaGamma::new(f(&p["p"]), f(&p["q"]), f(&p["gamma"])).unwrap()
}

#[test]
fn gamma_gamma_matches_mpmath_and_the_lifetimes_fit() {
    let r = reference("gammagamma_cdnow.json");
    let records: Vec<Rfm> = cdnow_records().into_iter().map(|(_, r)| r).collect();
    for at in ["at_published", "at_fitted"] {
        let case = &r[at];
        let m = gg_of(&case["params"]);
        assert_relative_eq!(
            m.total_log_likelihood(&records).unwrap(),
            f(&case["total_loglik_mpmath"]),
            max_relative = 1e-12
        );
        assert_relative_eq!(
            m.expected_spend(),
            f(&case["population_mean_spend"]),
            max_relative = 1e-13
        );
        for c in case["customers"].as_array().unwrap() {
            let (x, z) = (c["x"].as_u64().unwrap() as u32, f(&c["zbar"]));
            if x > 0 {
                assert_relative_eq!(
                    m.log_likelihood(x, z),
                    f(&c["loglik"]),
                    max_relative = 1e-12
                );
            }
            assert_relative_eq!(
                m.conditional_expected_spend(x, z),
                f(&c["cond_expected_avg_spend"]["mpmath"]),
                max_relative = 1e-13
            );
        }
    }
    let Fitted { model: m, report } = FitOptions::new().fit::<GammaGamma>(&records).unwrap();
    assert!(report.termination.converged(), "{report:?}");
    for (got, want) in m.params().iter().zip(gg_of(&r["fitted_params"]).params()) {
        assert_relative_eq!(*got, want, max_relative = 1e-5);
    }
    // Published to two decimals (6.25, 3.74, 15.44). The maximum of this likelihood (ours
    // and lifetimes' agree to 1e-5 above) is q = 3.7446, γ = 15.4477: 1.2e-3 and 5e-4
    // relative from the printed figures, so the issue's 1e-3 relative bar cannot hold for
    // q; what holds is agreement within one unit of the printed last decimal.
    for (got, published) in m.params().iter().zip([6.25, 3.74, 15.44]) {
        assert!((got - published).abs() <= 0.01, "{got} vs {published}");
    }
    assert!(
        (report.log_likelihood - f(&r["fit"]["total_loglik_from_objective"])).abs() < 1e-6,
        "{}",
        report.log_likelihood
    );
    assert!(report.std_errors.iter().all(|s| s.is_finite() && *s > 0.0));
    assert_relative_eq!(
        spend_frequency_correlation(&records).unwrap(),
        f(&r["pearson_corr_x_zbar_repeat_buyers"]),
        max_relative = 1e-12
    );
}

#[test]
fn clv_matches_lifetimes_convention() {
    let r = reference("clv_cdnow.json");
    let inputs = &r["inputs"];
    let b = &inputs["bgnbd_params"];
    let bg = BgNbd::new(f(&b["r"]), f(&b["alpha"]), f(&b["a"]), f(&b["b"])).unwrap();
    let gg = gg_of(&inputs["gammagamma_params"]);
    let all = cdnow_records();
    let records = Records::new(all.iter().map(|(_, r)| *r).collect());
    let values = ClvOptions::new()
        .compute(&bg, &gg, &records)
        .unwrap()
        .values;
    for c in r["customers"].as_array().unwrap() {
        let id = c["ID"].as_u64().unwrap();
        let i = all.iter().position(|(k, _)| *k == id).unwrap();
        assert_relative_eq!(
            values[i],
            f(&c["clv_mpmath_exact_months"]),
            max_relative = 1e-10
        );
        assert_relative_eq!(values[i], f(&c["clv_lifetimes"]), max_relative = 1e-10);
    }
    assert_relative_eq!(
        customer_equity(&values),
        f(&r["sum_clv_all_customers"]),
        max_relative = 1e-10
    );
    assert!(ClvOptions::new()
        .periods(0)
        .compute(&bg, &gg, &records)
        .is_err());
}

#[test]
fn gamma_gamma_rejects_a_repeat_buyer_without_spend() {
    let records = [Rfm {
        x: 2,
        t_x: 1.0,
        t: 3.0,
        mean_spend: 0.0,
    }];
    let e = FitOptions::new()
        .fit::<GammaGamma>(&records[..])
        .unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { input, row: 0, field, value, .. }
            if input == "records" && field == "mean_spend" && value == "0"),
        "{e}"
    );
    for (x, t_x, t, spend) in [(0, 1.0, 3.0, 0.0), (1, 4.0, 3.0, 1.0)] {
        match Rfm::new(x, t_x, t, spend) {
            Err(Error::InvalidOption { option, value, .. }) => {
                assert_eq!((option, value), ("t_x", t_x.to_string()));
            }
            other => panic!("{other:?}"),
        }
    }
}

/// CLV uncertainty: resample customers, refit BG/NBD and Gamma-Gamma on each replicate,
/// and read off an interval for customer equity. The interval holds the point estimate,
/// and its width is of the order the parameters' standard errors imply (a few percent of
/// equity for 2,357 customers, not zero and not the whole value).
#[test]
fn customer_equity_interval_from_the_bootstrap() {
    use acrm::numerics::BootstrapOptions;
    use acrm::summary::Compact;
    use acrm::Weeks;
    let records = Records::new(cdnow_records().into_iter().map(|(_, r)| r).collect());
    let fit_both = |rs: &[Rfm]| -> acrm::Result<(BgNbd, GammaGamma)> {
        let patterns = Compact::<Weeks>::from_records(rs).patterns;
        let bg = FitOptions::new().fit::<BgNbd>(&patterns)?.model;
        let gg = FitOptions::new().fit::<GammaGamma>(rs)?.model;
        Ok((bg, gg))
    };
    let (bg, gg) = fit_both(&records).unwrap();
    let equity = customer_equity(
        &ClvOptions::new()
            .compute(&bg, &gg, &records)
            .unwrap()
            .values,
    );
    let ones = vec![1u32; records.len()];
    let b = BootstrapOptions::new()
        .replicates(100)
        .seed(5)
        .fit(&ones, |counts| {
            let resampled: Vec<Rfm> = records
                .iter()
                .zip(counts)
                .flat_map(|(r, &c)| std::iter::repeat(*r).take(c as usize))
                .collect();
            fit_both(&resampled)
        })
        .unwrap();
    assert_eq!(b.failed, 0);
    // Customer equity of the original customers under each replicate's models.
    let ci = b
        .interval(|(bg, gg)| {
            customer_equity(&ClvOptions::new().compute(bg, gg, &records).unwrap().values)
        })
        .unwrap();
    assert!(ci.lo < equity && equity < ci.hi, "{ci:?} vs {equity}");
    let width = (ci.hi - ci.lo) / equity;
    assert!(width > 0.01 && width < 0.5, "relative width {width}");
}
