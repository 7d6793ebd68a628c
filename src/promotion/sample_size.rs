//! Test planning: how many contacts each arm of a campaign test needs to detect a lift
//! of the response rate.
//!
//! Two formulas of the two-sided test of p_t = p_c at level α with power 1 − β, where
//! p_c is the baseline rate, p_t = p_c + lift, and the control has `ratio` contacts per
//! treated contact:
//!
//! - **arcsine (Cohen's h)**, what statsmodels' `NormalIndPower().solve_power` gives with
//!   the effect size `proportion_effectsize(p_t, p_c)` = h = |2 asin √p_t − 2 asin √p_c|:
//!   the n_t solving
//!
//!   ```text
//!   power = Φ̄(z_{α/2} − h √m) + Φ(−z_{α/2} − h √m),   m = n_t · ratio / (1 + ratio)
//!   ```
//!
//!   (the far tail included, as statsmodels does), solved to full precision;
//! - **unpooled variance**, the closed form with each arm's own variance under the
//!   alternative, the far tail ignored:
//!
//!   ```text
//!   n_t = (z_{α/2} + z_β)² (p_t(1 − p_t) + p_c(1 − p_c)/ratio) / lift²
//!   ```
//!
//! Both are normal approximations; the fractional n is reported beside the contacts to
//! plan (rounded up).
//!
//! ```
//! use acrm::promotion::SampleSizeOptions;
//! // Baseline 5%, detect +1 point with 80% power at α = 0.05.
//! let plan = SampleSizeOptions::new(0.05, 0.01).compute()?;
//! assert_eq!(plan.arcsine.n_treatment_planned, 8143);
//! assert_eq!(plan.unpooled.n_treatment_planned, 8155);
//! # Ok::<(), acrm::Error>(())
//! ```

use serde::{Deserialize, Serialize};
use statrs::distribution::{Continuous, ContinuousCDF, Normal};

use crate::error::{Error, Result};

/// Settings of a sample size: the baseline (control) rate and the absolute lift to
/// detect (required), the power (default 0.8), the two-sided level α (default 0.05) and
/// the control contacts per treated contact (default 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleSizeOptions {
    baseline: f64,
    lift: f64,
    power: f64,
    alpha: f64,
    ratio: f64,
}

/// The contacts one formula asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleSizeEstimate {
    /// Treated contacts, as the formula gives them (fractional).
    pub n_treatment: f64,
    /// Control contacts, `ratio` × `n_treatment`.
    pub n_control: f64,
    /// Treated contacts to plan: `n_treatment` rounded up.
    pub n_treatment_planned: u64,
    /// Control contacts to plan: `n_control` rounded up.
    pub n_control_planned: u64,
}

/// The sample sizes of a planned test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SampleSize {
    /// p_c.
    pub baseline: f64,
    /// p_t = p_c + lift.
    pub treatment_rate: f64,
    /// The lift to detect.
    pub lift: f64,
    /// The power.
    pub power: f64,
    /// The two-sided level.
    pub alpha: f64,
    /// Control contacts per treated contact.
    pub ratio: f64,
    /// Cohen's h, |2 asin √p_t − 2 asin √p_c|.
    pub cohen_h: f64,
    /// The arcsine formula (statsmodels `NormalIndPower` with Cohen's h).
    pub arcsine: SampleSizeEstimate,
    /// The unpooled-variance closed form.
    pub unpooled: SampleSizeEstimate,
}

impl SampleSizeOptions {
    /// The test of a lift `lift` (absolute, p_t − p_c, either sign) over `baseline`.
    pub fn new(baseline: f64, lift: f64) -> Self {
        SampleSizeOptions {
            baseline,
            lift,
            power: 0.8,
            alpha: 0.05,
            ratio: 1.0,
        }
    }

    /// The power, in (α, 1).
    pub fn power(mut self, power: f64) -> Self {
        self.power = power;
        self
    }

    /// The two-sided level α, in (0, 1).
    pub fn alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// Control contacts per treated contact (> 0).
    pub fn ratio(mut self, ratio: f64) -> Self {
        self.ratio = ratio;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option: a baseline outside (0, 1), a lift of 0
    /// or one that takes the rate out of (0, 1), an α outside (0, 1), a power not in
    /// (α, 1), a ratio not finite and positive.
    pub fn validate(&self) -> Result<()> {
        let open = |x: f64| x > 0.0 && x < 1.0;
        if !open(self.baseline) {
            return Err(Error::option("baseline", self.baseline, "a rate in (0, 1)"));
        }
        if !(self.lift.is_finite() && self.lift != 0.0 && open(self.baseline + self.lift)) {
            return Err(Error::option(
                "lift",
                self.lift,
                "a non-zero lift with baseline + lift in (0, 1)",
            ));
        }
        if !open(self.alpha) {
            return Err(Error::option("alpha", self.alpha, "a level in (0, 1)"));
        }
        if !(self.power > self.alpha && self.power < 1.0) {
            return Err(Error::option(
                "power",
                self.power,
                "a power above alpha and below 1",
            ));
        }
        if !(self.ratio.is_finite() && self.ratio > 0.0) {
            return Err(Error::option("ratio", self.ratio, "a finite ratio > 0"));
        }
        Ok(())
    }

    fn estimate(&self, n_treatment: f64) -> SampleSizeEstimate {
        let n_control = n_treatment * self.ratio;
        SampleSizeEstimate {
            n_treatment,
            n_control,
            n_treatment_planned: n_treatment.ceil() as u64,
            n_control_planned: n_control.ceil() as u64,
        }
    }

    /// The sample sizes.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn compute(&self) -> Result<SampleSize> {
        self.validate()?;
        let normal = Normal::standard();
        let (pc, pt) = (self.baseline, self.baseline + self.lift);
        let h = (2.0 * pt.sqrt().asin() - 2.0 * pc.sqrt().asin()).abs();
        let crit = normal.inverse_cdf(1.0 - self.alpha / 2.0);
        let z_beta = normal.inverse_cdf(self.power);
        // The effective x = h √m at which the two-tailed power is reached: g(x) =
        // Φ̄(crit − x) + Φ(−crit − x) − power rises from α − power < 0 at 0, and the
        // one-tailed guess crit + z_β overshoots (the far tail adds power), so Newton
        // from there, kept inside the bracket by bisection, converges.
        let g = |x: f64| normal.sf(crit - x) + normal.cdf(-crit - x) - self.power;
        let dg = |x: f64| normal.pdf(crit - x) - normal.pdf(crit + x);
        let (mut lo, mut hi) = (0.0_f64, crit + z_beta);
        let mut x = hi;
        for _ in 0..200 {
            let gx = g(x);
            if gx > 0.0 {
                hi = x;
            } else {
                lo = x;
            }
            let d = dg(x);
            let mut next = if d > 0.0 { x - gx / d } else { f64::NAN };
            if !(next > lo && next < hi) {
                next = 0.5 * (lo + hi);
            }
            let step = (next - x).abs();
            x = next;
            if step <= 4.0 * f64::EPSILON * x || hi - lo <= 4.0 * f64::EPSILON * hi {
                break;
            }
        }
        // m = n_t · ratio / (1 + ratio)  ⇒  n_t = (x / h)² (1 + 1/ratio).
        let arcsine = (x / h).powi(2) * (1.0 + 1.0 / self.ratio);
        let variance = pt * (1.0 - pt) + pc * (1.0 - pc) / self.ratio;
        let unpooled = (crit + z_beta).powi(2) * variance / (self.lift * self.lift);
        Ok(SampleSize {
            baseline: pc,
            treatment_rate: pt,
            lift: self.lift,
            power: self.power,
            alpha: self.alpha,
            ratio: self.ratio,
            cohen_h: h,
            arcsine: self.estimate(arcsine),
            unpooled: self.estimate(unpooled),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        assert!(SampleSizeOptions::new(0.0, 0.1).compute().is_err());
        assert!(SampleSizeOptions::new(0.5, 0.0).compute().is_err());
        assert!(SampleSizeOptions::new(0.5, 0.6).compute().is_err());
        assert!(SampleSizeOptions::new(0.5, 0.1)
            .power(0.01)
            .compute()
            .is_err());
        assert!(SampleSizeOptions::new(0.5, 0.1)
            .alpha(1.0)
            .compute()
            .is_err());
        assert!(SampleSizeOptions::new(0.5, 0.1)
            .ratio(0.0)
            .compute()
            .is_err());
    }

    #[test]
    fn a_larger_lift_needs_fewer_contacts() {
        let small = SampleSizeOptions::new(0.1, 0.01).compute().unwrap();
        let large = SampleSizeOptions::new(0.1, 0.03).compute().unwrap();
        assert!(large.arcsine.n_treatment < small.arcsine.n_treatment);
        assert!(large.unpooled.n_treatment < small.unpooled.n_treatment);
    }
}
