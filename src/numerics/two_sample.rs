//! Two-sample comparisons that the proportion tests of [`stats`](super::stats) leave
//! out: intervals of a difference of two proportions (Wald and Newcombe's hybrid score)
//! and Welch's t-test of two means with unequal variances.
//!
//! The distributions come from statrs; the formulas are the textbook ones, written out
//! so that each result says which one it is.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::stats::wilson;
use crate::error::{Error, Result};

/// The two-sided standard normal quantile of a confidence level in (0, 1).
fn z_of(confidence: f64) -> Result<f64> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::option(
            "confidence",
            confidence,
            "a level strictly between 0 and 1",
        ));
    }
    Ok(Normal::standard().inverse_cdf(0.5 + confidence / 2.0))
}

fn check_counts(x1: u64, n1: u64, x2: u64, n2: u64) -> Result<()> {
    for (name, x, n) in [("sample 1", x1, n1), ("sample 2", x2, n2)] {
        if n == 0 || x > n {
            return Err(Error::Degenerate {
                input: name.into(),
                reason: format!("{x} successes of {n} trials"),
            });
        }
    }
    Ok(())
}

/// erfc(x) to a few ulps: 1 − erf from the series of positive terms
/// erf x = (2/√π) e^{−x²} Σ (2x²)ⁿ x / (1·3···(2n+1)) below 2 (where erfc > 0.004, so the
/// subtraction costs under three digits), and the continued fraction of Abramowitz &
/// Stegun 7.1.14 from 2 on.
///
/// Written here because statrs' `erfc` (and so `Normal::sf`) is off by up to about 1e-10
/// relative between 0.5 and 0.75 (a two-sided p of 0.46 came out 1e-10 above scipy's).
fn erfc(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    if x.is_infinite() {
        return if x > 0.0 { 0.0 } else { 2.0 };
    }
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    let pi_sqrt = std::f64::consts::PI.sqrt();
    if x < 2.0 {
        let two_x2 = 2.0 * x * x;
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= two_x2 / f64::from(2 * n + 1);
            sum += term;
            if term <= f64::EPSILON * 0.25 * sum {
                break;
            }
        }
        return 1.0 - 2.0 / pi_sqrt * (-x * x).exp() * sum;
    }
    // Modified Lentz on x + (1/2)/(x + 1/(x + (3/2)/(x + ...))).
    let floor = 1e-300;
    let mut f = x;
    let (mut c, mut d) = (x, 0.0_f64);
    for k in 1..5000 {
        let a = f64::from(k) / 2.0;
        d = x + a * d;
        if d.abs() < floor {
            d = floor;
        }
        d = 1.0 / d;
        c = x + a / c;
        if c.abs() < floor {
            c = floor;
        }
        let delta = c * d;
        f *= delta;
        if (delta - 1.0).abs() <= f64::EPSILON {
            break;
        }
    }
    (-x * x).exp() / (pi_sqrt * f)
}

/// The two-sided p-value of a standard normal statistic, 2 Φ̄(|z|) = erfc(|z|/√2),
/// accurate to about 1e-14 relative (scipy's `2 * norm.sf(abs(z))`). Also the p-value
/// of a χ² with one degree of freedom at z².
pub fn normal_two_sided_p(z: f64) -> f64 {
    erfc(z.abs() / std::f64::consts::SQRT_2).min(1.0)
}

/// An interval `[low, high]` of a difference p₁ − p₂.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DifferenceInterval {
    /// p₁ − p₂.
    pub difference: f64,
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl DifferenceInterval {
    /// `[low, high]`.
    pub fn bounds(&self) -> [f64; 2] {
        [self.low, self.high]
    }
}

/// The Wald interval of p₁ − p₂ from x₁ of n₁ and x₂ of n₂: the difference ± z times
/// √(p₁(1 − p₁)/n₁ + p₂(1 − p₂)/n₂), as statsmodels'
/// `confint_proportions_2indep(method="wald")`. It is too narrow for rates near 0 or 1
/// (a zero-width interval when both rates are 0 or 1); prefer
/// [`difference_interval_newcombe`].
///
/// # Errors
/// [`Error::Degenerate`] for a sample without trials or with more successes than trials;
/// [`Error::InvalidOption`] for a confidence level outside (0, 1).
pub fn difference_interval_wald(
    x1: u64,
    n1: u64,
    x2: u64,
    n2: u64,
    confidence: f64,
) -> Result<DifferenceInterval> {
    check_counts(x1, n1, x2, n2)?;
    let z = z_of(confidence)?;
    let (a, b) = (n1 as f64, n2 as f64);
    let (p1, p2) = (x1 as f64 / a, x2 as f64 / b);
    let half = z * (p1 * (1.0 - p1) / a + p2 * (1.0 - p2) / b).sqrt();
    let d = p1 - p2;
    Ok(DifferenceInterval {
        difference: d,
        low: d - half,
        high: d + half,
    })
}

/// Newcombe's hybrid score interval of p₁ − p₂ (Newcombe 1998, "Interval estimation for
/// the difference between independent proportions", Statistics in Medicine 17, method
/// 10), built from the Wilson intervals [l₁, u₁] and [l₂, u₂] of the two rates:
///
/// ```text
/// low  = d − √((p₁ − l₁)² + (u₂ − p₂)²)
/// high = d + √((u₁ − p₁)² + (p₂ − l₂)²)
/// ```
///
/// as statsmodels' `confint_proportions_2indep(method="newcomb")`. Unlike the Wald
/// interval it stays inside [−1, 1] and keeps a width when a rate is 0 or 1.
///
/// # Errors
/// As [`difference_interval_wald`].
pub fn difference_interval_newcombe(
    x1: u64,
    n1: u64,
    x2: u64,
    n2: u64,
    confidence: f64,
) -> Result<DifferenceInterval> {
    check_counts(x1, n1, x2, n2)?;
    let w1 = wilson(x1, n1, confidence)?;
    let w2 = wilson(x2, n2, confidence)?;
    let (p1, p2) = (w1.rate, w2.rate);
    let d = p1 - p2;
    Ok(DifferenceInterval {
        difference: d,
        low: d - (p1 - w1.ci_low).hypot(w2.ci_high - p2),
        high: d + (w1.ci_high - p1).hypot(p2 - w2.ci_low),
    })
}

/// A sample's size, mean and variance (with n − 1 in the denominator): what a test of
/// means needs of it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleMoments {
    /// Observations.
    pub n: u64,
    /// Their mean.
    pub mean: f64,
    /// Their sample variance, Σ(x − mean)² / (n − 1) (0 for one observation).
    pub variance: f64,
}

/// Welch's t-test of two means.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WelchTest {
    /// mean₁ − mean₂.
    pub difference: f64,
    /// Its standard error, √(s₁²/n₁ + s₂²/n₂).
    pub se: f64,
    /// The statistic, difference / se.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value from Student's t with `df` degrees of freedom.
    pub p: f64,
}

/// Welch's unequal-variance t-test of mean₁ = mean₂, as scipy's
/// `ttest_ind(a, b, equal_var=False)`:
///
/// ```text
/// t  = (m₁ − m₂) / √(s₁²/n₁ + s₂²/n₂)
/// df = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁ − 1) + (s₂²/n₂)²/(n₂ − 1))
/// ```
///
/// # Errors
/// [`Error::Degenerate`] when a sample has fewer than two observations or both have no
/// variance (the standard error is zero); [`Error::BadValue`] for a mean or variance that
/// is not finite or a negative variance.
pub fn welch_t(a: &SampleMoments, b: &SampleMoments) -> Result<WelchTest> {
    for (name, s) in [("sample 1", a), ("sample 2", b)] {
        if s.n < 2 {
            return Err(Error::Degenerate {
                input: name.into(),
                reason: format!("{} observations; a variance needs at least two", s.n),
            });
        }
        if !s.mean.is_finite() {
            return Err(Error::bad_value(name, 0, "mean", s.mean, "a finite number"));
        }
        if !(s.variance.is_finite() && s.variance >= 0.0) {
            return Err(Error::bad_value(
                name,
                0,
                "variance",
                s.variance,
                "a finite number ≥ 0",
            ));
        }
    }
    let va = a.variance / a.n as f64;
    let vb = b.variance / b.n as f64;
    let se2 = va + vb;
    if se2 <= 0.0 {
        return Err(Error::Degenerate {
            input: "samples".into(),
            reason: "neither sample varies: the standard error is zero".into(),
        });
    }
    let se = se2.sqrt();
    let difference = a.mean - b.mean;
    let t = difference / se;
    let df = se2 * se2 / (va * va / (a.n - 1) as f64 + vb * vb / (b.n - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).map_err(|e| Error::Numerical {
        procedure: "Student's t distribution",
        reason: e.to_string(),
    })?;
    Ok(WelchTest {
        difference,
        se,
        t,
        df,
        p: (2.0 * dist.sf(t.abs())).min(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    // References: statsmodels 0.15.0 `confint_proportions_2indep(30, 200, 18, 210,
    // method="wald" / "newcomb")` and scipy 1.17.1 `ttest_ind(equal_var=False)` on
    // a = [3, 5, 8, 1, 0, 12], b = [2, 2, 1, 0, 4] (values printed with `repr`).
    const REF_WALD: [f64; 2] = [0.0019761860159245442, 0.12659524255550403];
    const REF_NEWCOMBE: [f64; 2] = [0.0016338784672587647, 0.12825028031768743];
    const REF_WELCH: (f64, f64) = (1.5423728813559323, 0.17205648029214538);

    // scipy 1.17.1 `2 * norm.sf(z)`.
    const REF_P: [(f64, f64); 7] = [
        (0.1, 0.920344325445942),
        (0.7330094617129114, 0.463552658575211),
        (1.5, 0.13361440253771614),
        (2.5, 0.012419330651552265),
        (4.0, 6.334248366623973e-05),
        (8.0, 1.244192114854348e-15),
        (30.0, 9.813427854295816e-198),
    ];

    #[test]
    fn two_sided_p_matches_scipy() {
        for (z, p) in REF_P {
            assert_relative_eq!(normal_two_sided_p(z), p, max_relative = 1e-12);
            assert_relative_eq!(normal_two_sided_p(-z), p, max_relative = 1e-12);
        }
        assert_eq!(
            (normal_two_sided_p(0.0), normal_two_sided_p(f64::INFINITY)),
            (1.0, 0.0)
        );
    }

    #[test]
    fn intervals_match_statsmodels() {
        let w = difference_interval_wald(30, 200, 18, 210, 0.95).unwrap();
        assert_relative_eq!(w.low, REF_WALD[0], max_relative = 1e-12);
        assert_relative_eq!(w.high, REF_WALD[1], max_relative = 1e-12);
        let n = difference_interval_newcombe(30, 200, 18, 210, 0.95).unwrap();
        assert_relative_eq!(n.low, REF_NEWCOMBE[0], max_relative = 1e-12);
        assert_relative_eq!(n.high, REF_NEWCOMBE[1], max_relative = 1e-12);
        // A zero rate: Wald collapses, Newcombe keeps a width and stays in [-1, 1].
        let w0 = difference_interval_wald(0, 20, 0, 30, 0.95).unwrap();
        assert!(w0.bounds().iter().all(|x| x.abs() < 1e-300));
        let n0 = difference_interval_newcombe(0, 20, 0, 30, 0.95).unwrap();
        assert!(n0.low < 0.0 && n0.high > 0.0 && n0.low >= -1.0);
        assert!(difference_interval_wald(1, 0, 0, 3, 0.95).is_err());
        assert!(difference_interval_newcombe(1, 2, 0, 3, 1.5).is_err());
    }

    #[test]
    fn welch_matches_scipy() {
        let moments = |x: &[f64]| {
            let n = x.len() as f64;
            let mean = x.iter().sum::<f64>() / n;
            let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            SampleMoments {
                n: x.len() as u64,
                mean,
                variance,
            }
        };
        let a = moments(&[3.0, 5.0, 8.0, 1.0, 0.0, 12.0]);
        let b = moments(&[2.0, 2.0, 1.0, 0.0, 4.0]);
        let w = welch_t(&a, &b).unwrap();
        assert_relative_eq!(w.t, REF_WELCH.0, max_relative = 1e-12);
        assert_relative_eq!(w.p, REF_WELCH.1, max_relative = 1e-10);
        let flat = SampleMoments {
            n: 3,
            mean: 1.0,
            variance: 0.0,
        };
        assert!(matches!(
            welch_t(&flat, &flat),
            Err(Error::Degenerate { .. })
        ));
        let one = SampleMoments { n: 1, ..flat };
        assert!(welch_t(&one, &a).is_err());
    }
}
