//! Proportions and contingency tables: Wilson score intervals, the two-proportion z-test
//! and Pearson's χ² test of independence. Shared by the funnel, win/loss and pipeline
//! calibration tables and the campaign analyses, so that every module reports a rate the
//! same way.
//!
//! Written here because the crates that exist either take floats where counts are meant
//! or stop at the 2×2 table; the distributions themselves come from statrs.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use crate::error::{Error, Result};

/// A rate with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Proportion {
    /// Successes.
    pub successes: u64,
    /// Trials.
    pub trials: u64,
    /// successes / trials; 0 when there are no trials.
    pub rate: f64,
    /// Lower end of the interval.
    pub ci_low: f64,
    /// Upper end of the interval.
    pub ci_high: f64,
}

/// The two-sided standard normal quantile of a confidence level in (0, 1).
fn z_of(confidence: f64) -> Result<f64> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::InvalidOption {
            option: "confidence",
            value: confidence.to_string(),
            allowed: "a level strictly between 0 and 1".into(),
        });
    }
    let normal = Normal::standard();
    Ok(normal.inverse_cdf(0.5 + confidence / 2.0))
}

/// The Wilson score interval of `successes` out of `trials` at a confidence level (0.95
/// for 95%): the interval statsmodels' `proportion_confint(method="wilson")` gives. With
/// no trials there is no information: the rate is 0 and the interval the whole [0, 1].
pub fn wilson(successes: u64, trials: u64, confidence: f64) -> Result<Proportion> {
    let z = z_of(confidence)?;
    if successes > trials {
        return Err(Error::InvalidOption {
            option: "successes",
            value: successes.to_string(),
            allowed: format!("at most the {trials} trials"),
        });
    }
    if trials == 0 {
        return Ok(Proportion {
            successes,
            trials,
            rate: 0.0,
            ci_low: 0.0,
            ci_high: 1.0,
        });
    }
    let n = trials as f64;
    let p = successes as f64 / n;
    let z2 = z * z;
    let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
    let half = z / (1.0 + z2 / n) * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt();
    // The ends are exactly 0 and 1 when there are no failures or no successes; rounding
    // would otherwise leave them a hair outside.
    let ci_low = if successes == 0 {
        0.0
    } else {
        (centre - half).max(0.0)
    };
    let ci_high = if successes == trials {
        1.0
    } else {
        (centre + half).min(1.0)
    };
    Ok(Proportion {
        successes,
        trials,
        rate: p,
        ci_low,
        ci_high,
    })
}

/// Pearson's χ² test of a contingency table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChiSquare {
    /// The statistic.
    pub chi2: f64,
    /// Degrees of freedom, (rows − 1)(columns − 1) over the rows and columns that hold
    /// any count.
    pub dof: u32,
    /// Upper-tail probability of the statistic.
    pub p: f64,
    /// Rows left out because they hold no counts (a group with no trials).
    pub empty_rows: u32,
}

/// Pearson's χ² test of independence (homogeneity) of an r × c table of counts, as
/// scipy's `chi2_contingency`. Rows and columns without any count are left out (they
/// carry no information, and their expected counts would be zero); at least two rows
/// and two columns must remain. With `yates`, the continuity correction is applied
/// when one degree of freedom remains, as scipy does.
pub fn chi2_independence(table: &[Vec<u64>], yates: bool) -> Result<ChiSquare> {
    let cols = table.first().map_or(0, Vec::len);
    if let Some(row) = table.iter().find(|r| r.len() != cols) {
        return Err(Error::LengthMismatch {
            input: "contingency table row",
            found: row.len(),
            expected: cols,
            against: "the first row",
        });
    }
    let rows: Vec<&Vec<u64>> = table.iter().filter(|r| r.iter().any(|&c| c > 0)).collect();
    let empty_rows = (table.len() - rows.len()) as u32;
    let col_totals: Vec<u64> = (0..cols).map(|j| rows.iter().map(|r| r[j]).sum()).collect();
    let keep: Vec<usize> = (0..cols).filter(|&j| col_totals[j] > 0).collect();
    if rows.len() < 2 || keep.len() < 2 {
        return Err(Error::Degenerate {
            input: "contingency table".into(),
            reason: format!(
                "{} non-empty rows and {} non-empty columns; the test needs at least two of each",
                rows.len(),
                keep.len()
            ),
        });
    }
    let total: f64 = keep.iter().map(|&j| col_totals[j] as f64).sum();
    let dof = ((rows.len() - 1) * (keep.len() - 1)) as u32;
    let correct = yates && dof == 1;
    let mut chi2 = 0.0;
    for r in &rows {
        let row_total: f64 = keep.iter().map(|&j| r[j] as f64).sum();
        for &j in &keep {
            let expected = row_total * col_totals[j] as f64 / total;
            let mut diff = (r[j] as f64 - expected).abs();
            if correct {
                diff = (diff - 0.5).max(0.0);
            }
            chi2 += diff * diff / expected;
        }
    }
    // One degree of freedom (every 2×2 table): χ² is z², and the accurate normal tail
    // gives the p-value (statrs' is off by up to 1e-10 in places).
    let p = if dof == 1 {
        super::normal_two_sided_p(chi2.sqrt())
    } else {
        ChiSquared::new(f64::from(dof))
            .map_err(|e| Error::Numerical {
                procedure: "chi-square distribution",
                reason: e.to_string(),
            })?
            .sf(chi2)
    };
    Ok(ChiSquare {
        chi2,
        dof,
        p,
        empty_rows,
    })
}

/// A two-sample test of proportions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ZTest {
    /// p₁ − p₂.
    pub difference: f64,
    /// Its standard error.
    pub se: f64,
    /// The statistic, difference / se.
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// The z-test of p₁ = p₂ from x₁ of n₁ and x₂ of n₂; `pooled` uses the common proportion
/// in the standard error (statsmodels' `proportions_ztest`), otherwise each sample's own.
pub fn two_proportion_z(x1: u64, n1: u64, x2: u64, n2: u64, pooled: bool) -> Result<ZTest> {
    for (name, x, n) in [("sample 1", x1, n1), ("sample 2", x2, n2)] {
        if n == 0 || x > n {
            return Err(Error::Degenerate {
                input: name.into(),
                reason: format!("{x} successes of {n} trials"),
            });
        }
    }
    let (a, b) = (n1 as f64, n2 as f64);
    let (p1, p2) = (x1 as f64 / a, x2 as f64 / b);
    let se = if pooled {
        let p = (x1 + x2) as f64 / (a + b);
        (p * (1.0 - p) * (1.0 / a + 1.0 / b)).sqrt()
    } else {
        (p1 * (1.0 - p1) / a + p2 * (1.0 - p2) / b).sqrt()
    };
    if se <= 0.0 {
        return Err(Error::Degenerate {
            input: "proportions".into(),
            reason: format!(
                "{x1}/{n1} and {x2}/{n2} leave no variance: the standard error is zero"
            ),
        });
    }
    let z = (p1 - p2) / se;
    Ok(ZTest {
        difference: p1 - p2,
        se,
        z,
        p: super::normal_two_sided_p(z),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    // References: statsmodels 0.14 `proportion_confint(x, n, alpha=0.05, method="wilson")`,
    // scipy 1.x `chi2_contingency(table, correction=...)` and statsmodels
    // `proportions_ztest([x1, x2], [n1, n2])` (pooled; the unpooled z by hand in numpy with
    // `2 * scipy.stats.norm.sf(|z|)`), values printed with `repr`.
    const REF_WILSON_482_1400: (f64, f64) = (0.31985360852587785, 0.3695700103161924);
    const REF_WILSON_0_20: f64 = 0.1611251580528194;
    const REF_CHI2_3X2: (f64, f64) = (37.49355897269004, 7.217339181791852e-09);
    const REF_CHI2_YATES: (f64, f64) = (3.831932773109244, 0.05028491606049412);
    const REF_Z_POOLED: (f64, f64) = (-5.423261445466405, 5.852129953947382e-08);
    const REF_Z_UNPOOLED: (f64, f64) = (-5.504818825631804, 3.695481094035033e-08);

    #[test]
    fn wilson_matches_statsmodels() {
        let w = wilson(482, 1400, 0.95).unwrap();
        assert_relative_eq!(w.rate, 482.0 / 1400.0);
        assert_relative_eq!(w.ci_low, REF_WILSON_482_1400.0, max_relative = 1e-12);
        assert_relative_eq!(w.ci_high, REF_WILSON_482_1400.1, max_relative = 1e-12);
        let zero = wilson(0, 20, 0.95).unwrap();
        assert!(
            zero.ci_low.to_bits() == 0,
            "exactly 0 when there are no successes"
        );
        assert_relative_eq!(zero.ci_high, REF_WILSON_0_20, max_relative = 1e-12);
        let none = wilson(0, 0, 0.95).unwrap();
        assert_eq!((none.ci_low, none.ci_high), (0.0, 1.0));
        assert!(wilson(3, 2, 0.95).is_err());
        assert!(wilson(1, 2, 1.0).is_err());
    }

    #[test]
    fn chi2_matches_scipy() {
        let table = vec![vec![120, 380], vec![200, 300], vec![162, 238]];
        let c = chi2_independence(&table, false).unwrap();
        assert_eq!(c.dof, 2);
        assert_relative_eq!(c.chi2, REF_CHI2_3X2.0, max_relative = 1e-12);
        assert_relative_eq!(c.p, REF_CHI2_3X2.1, max_relative = 1e-9);
        let two = vec![vec![12, 5], vec![7, 14]];
        let y = chi2_independence(&two, true).unwrap();
        assert_relative_eq!(y.chi2, REF_CHI2_YATES.0, max_relative = 1e-12);
        assert_relative_eq!(y.p, REF_CHI2_YATES.1, max_relative = 1e-9);
        // An empty row is left out, not counted as a group.
        let with_empty = vec![vec![12, 5], vec![0, 0], vec![7, 14]];
        let e = chi2_independence(&with_empty, true).unwrap();
        assert_eq!((e.chi2, e.dof, e.empty_rows), (y.chi2, 1, 1));
        assert!(chi2_independence(&[vec![3, 0], vec![4, 0]], false).is_err());
        assert!(chi2_independence(&[vec![3, 1], vec![4]], false).is_err());
    }

    #[test]
    fn z_test_matches_statsmodels() {
        let z = two_proportion_z(120, 500, 200, 500, true).unwrap();
        assert_relative_eq!(z.z, REF_Z_POOLED.0, max_relative = 1e-12);
        assert_relative_eq!(z.p, REF_Z_POOLED.1, max_relative = 1e-9);
        let u = two_proportion_z(120, 500, 200, 500, false).unwrap();
        assert_relative_eq!(u.z, REF_Z_UNPOOLED.0, max_relative = 1e-12);
        assert_relative_eq!(u.p, REF_Z_UNPOOLED.1, max_relative = 1e-9);
        assert!(two_proportion_z(0, 10, 0, 10, true).is_err());
        assert!(two_proportion_z(1, 0, 0, 10, true).is_err());
    }
}
