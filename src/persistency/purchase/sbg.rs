//! Shifted-beta-geometric retention (Fader & Hardie 2007, "How to project customer
//! retention", Journal of Interactive Marketing 21(1)), with discounted lifetimes from
//! Fader & Hardie (2010), "Customer-base valuation in a contractual setting: the perils
//! of ignoring heterogeneity", Marketing Science 29(1).

use serde::{Deserialize, Serialize};

use super::FitOptions;
use crate::data::Area;
use crate::error::{Error, Result};
use crate::numerics::{
    check_positive, ln_beta, ln_hyp2f1, minimize, sum_ordered, FitReport, Objective,
};
use crate::numerics::{Fitted, MaximumLikelihood, Retention};

/// Customers of one cohort still active after each period: `alive[0]` joined, `alive[t]`
/// renewed t times.
///
/// Built by [`Cohort::new`], which checks the counts; deserialising checks them too.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<u64>", into = "Vec<u64>")]
pub struct Cohort {
    alive: Vec<u64>,
}

impl Cohort {
    /// A cohort from its survivor counts, starting with the customers who joined.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (option `cohort`) with fewer than two counts;
    /// [`Error::BadValue`] (input `cohort`, row = the period, field `alive`) for no initial
    /// customers or a count above the one before it (naming that count in `expected`).
    pub fn new(alive: Vec<u64>) -> Result<Self> {
        if alive.len() < 2 {
            return Err(Error::option(
                "cohort",
                format!("{alive:?}"),
                "at least two counts (the customers who joined, then the survivors of period 1)",
            ));
        }
        if alive[0] == 0 {
            return Err(Error::bad_value(
                "cohort",
                0,
                "alive",
                0,
                "at least one customer in period 0",
            ));
        }
        for t in 1..alive.len() {
            if alive[t] > alive[t - 1] {
                return Err(Error::bad_value(
                    "cohort",
                    t,
                    "alive",
                    alive[t],
                    format!(
                        "at most the {} customers of period {}: survivors cannot increase",
                        alive[t - 1],
                        t - 1
                    ),
                ));
            }
        }
        Ok(Cohort { alive })
    }

    /// The survivor counts, period 0 first.
    pub fn alive(&self) -> &[u64] {
        &self.alive
    }

    /// Periods observed after period 0.
    pub fn periods(&self) -> usize {
        self.alive.len() - 1
    }
}

impl TryFrom<Vec<u64>> for Cohort {
    type Error = Error;
    fn try_from(alive: Vec<u64>) -> Result<Self> {
        Cohort::new(alive)
    }
}

impl From<Cohort> for Vec<u64> {
    fn from(c: Cohort) -> Self {
        c.alive
    }
}

/// The shifted-beta-geometric (sBG) model of contract renewal.
///
/// At the end of each period a customer leaves with probability θ, constant over time for
/// that customer and spread over customers as θ ~ Beta(α, β). With T the period at whose
/// end a customer leaves (FH 2007):
///
/// ```text
/// P(T = t) = B(α+1, β+t−1) / B(α, β)           t = 1, 2, …
/// S(t)     = P(T > t) = B(α, β+t) / B(α, β)
/// r_t      = S(t) / S(t−1) = (β+t−1) / (α+β+t−1)
/// ```
///
/// Retention rises with t although no customer's θ changes: the customers likely to leave
/// leave first. A cohort of n₀ customers with n_t left after period t, observed for
/// periods 1..τ, has log-likelihood
/// Σ_{t=1}^{τ} (n_{t−1} − n_t) ln P(T = t) + n_τ ln S(τ).
///
/// ```
/// use acrm::persistency::ShiftedBetaGeometric;
/// // Published estimates (FH 2007) for the "regular" cohort, fitted on years 1 to 7:
/// // 1,000 customers, 241 of them still renewing after year 7 and 173 after year 12.
/// let m = ShiftedBetaGeometric::new(0.704, 1.182)?;
/// assert!((1000.0 * m.survival(12) - 170.06).abs() < 0.01);
/// // At a 10% discount rate a new customer is worth 3.695 payments, and one about to
/// // renew for the fifth time 5.894 (FH 2010; mpmath values in
/// // tests/data/persistency/sbg.json).
/// assert!((m.discounted_expected_lifetime(0.10) - 3.695147).abs() < 1e-6);
/// assert!((m.derl(0.10, 5) - 5.894423).abs() < 1e-6);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ShiftedBetaGeometric {
    alpha: f64,
    beta: f64,
}

impl ShiftedBetaGeometric {
    /// Parameter names, in the order of [`params`](Self::params).
    pub const NAMES: [&'static str; 2] = ["alpha", "beta"];

    /// A model from the parameters of the churn probability's beta distribution.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless both are finite and positive.
    pub fn new(alpha: f64, beta: f64) -> Result<Self> {
        check_positive(&Self::NAMES, &[alpha, beta])?;
        Ok(ShiftedBetaGeometric { alpha, beta })
    }

    /// (α, β).
    pub fn params(&self) -> [f64; 2] {
        [self.alpha, self.beta]
    }

    /// P(T = t): probability that a new customer leaves at the end of period t (0 for
    /// t = 0).
    pub fn churn_probability(&self, t: u32) -> f64 {
        if t == 0 {
            return 0.0;
        }
        let (a, b) = (self.alpha, self.beta);
        (ln_beta(a + 1.0, b + f64::from(t) - 1.0) - ln_beta(a, b)).exp()
    }

    /// S(t) = P(T > t): probability that a new customer is still active after t periods.
    pub fn survival(&self, t: u32) -> f64 {
        let (a, b) = (self.alpha, self.beta);
        (ln_beta(a, b + f64::from(t)) - ln_beta(a, b)).exp()
    }

    /// r_t = S(t)/S(t−1) = (β+t−1)/(α+β+t−1): the share of customers active after period
    /// t − 1 who are still active after period t. Defined for t ≥ 1; NaN for t = 0.
    pub fn retention_rate(&self, t: u32) -> f64 {
        if t == 0 {
            return f64::NAN;
        }
        let k = f64::from(t) - 1.0;
        (self.beta + k) / (self.alpha + self.beta + k)
    }

    /// E\[T\] = Σ_{t≥0} S(t) = (α+β−1)/(α−1) periods, counting the first.
    ///
    /// [`f64::INFINITY`] when α ≤ 1: a customer's mean lifetime is 1/θ, and its average
    /// over θ ~ Beta(α, β) diverges when α ≤ 1, as for both cohorts of FH 2007.
    /// [`discounted_expected_lifetime`](Self::discounted_expected_lifetime) stays finite.
    pub fn expected_lifetime(&self) -> f64 {
        if self.alpha <= 1.0 {
            return f64::INFINITY;
        }
        (self.alpha + self.beta - 1.0) / (self.alpha - 1.0)
    }

    /// Discounted expected lifetime of a new customer paying 1 at the start of each
    /// period, the first payment undiscounted, at discount rate `d` per period
    /// (FH 2010):
    ///
    /// ```text
    /// DEL = Σ_{t≥0} S(t) / (1+d)^t = ₂F₁(1, β; α+β; 1/(1+d))
    /// ```
    ///
    /// NaN unless d > 0 and finite.
    pub fn discounted_expected_lifetime(&self, d: f64) -> f64 {
        if !(d > 0.0 && d.is_finite()) {
            return f64::NAN;
        }
        let (a, b) = (self.alpha, self.beta);
        ln_hyp2f1(1.0, b, a + b, 1.0 / (1.0 + d)).map_or(f64::NAN, f64::exp)
    }

    /// Discounted expected residual lifetime (FH 2010, eq. 6) of a customer in period
    /// `n` (n − 1 renewals made), seen just before the renewal decision at the end of
    /// period n, paying 1 at each renewal, the coming one undiscounted:
    ///
    /// ```text
    /// DERL = Σ_{t≥n} S(t)/S(n−1) / (1+d)^(t−n)
    ///      = (β+n−1)/(α+β+n−1) · ₂F₁(1, β+n; α+β+n; 1/(1+d))
    /// ```
    ///
    /// So DEL = 1 + DERL(d, 1)/(1+d). NaN unless d > 0 (finite) and n ≥ 1.
    pub fn derl(&self, d: f64, n: u32) -> f64 {
        if !(d > 0.0 && d.is_finite()) || n == 0 {
            return f64::NAN;
        }
        let (a, b) = (self.alpha, self.beta);
        let k = f64::from(n);
        let f = ln_hyp2f1(1.0, b + k, a + b + k, 1.0 / (1.0 + d)).unwrap_or(f64::NAN);
        (b + k - 1.0) / (a + b + k - 1.0) * f.exp()
    }

    /// Log-likelihood of one cohort (FH 2007; see the type's documentation).
    pub fn log_likelihood(&self, cohort: &Cohort) -> f64 {
        self.total_log_likelihood(std::slice::from_ref(cohort))
    }

    /// Total log-likelihood of several cohorts, each with its own number of periods.
    pub fn total_log_likelihood(&self, cohorts: &[Cohort]) -> f64 {
        let lik = Likelihood::new(cohorts, 0.0);
        let mut g = [0.0; 2];
        -lik.value_and_gradient(&self.params(), &mut g)
    }

    /// Maximum-likelihood fit on one or more cohorts (assumed to share α and β).
    ///
    /// Starts from α = β = 1 unless [`FitOptions::initial`] says otherwise; the gradient
    /// tolerance is per customer of the cohorts.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options, [`Error::EmptyInput`] without cohorts,
    /// and [`Error::Numerical`] when the optimiser fails.
    fn fit_rows(
        cohorts: &[Cohort],
        opts: &FitOptions,
    ) -> Result<(ShiftedBetaGeometric, FitReport)> {
        let settings = opts.check(2)?;
        if cohorts.is_empty() {
            return Err(Error::EmptyInput);
        }
        let weight: f64 = cohorts.iter().map(|c| c.alive[0] as f64).sum();
        let lik = Likelihood::new(cohorts, opts.penalty * weight);
        let start = opts.initial.clone().unwrap_or_else(|| vec![1.0; 2]);
        let m = minimize(&lik, &Self::NAMES, &start, weight, &settings, |th| {
            lik.penalty(th)
        })?;
        Ok((ShiftedBetaGeometric::new(m.theta[0], m.theta[1])?, m.report))
    }
}

/// Retention of a cohort by period age: S(k), the share still active after k renewals.
impl Retention for ShiftedBetaGeometric {
    fn survival_after(&self, periods: u32) -> f64 {
        self.survival(periods)
    }
}

impl MaximumLikelihood for ShiftedBetaGeometric {
    type Row = Cohort;
    const AREA: Area = Area::Persistency;
    fn estimate(rows: &[Cohort], opts: &FitOptions) -> Result<Fitted<ShiftedBetaGeometric>> {
        let (model, report) = Self::fit_rows(rows, opts)?;
        Ok(Fitted { model, report })
    }
}

/// ln P(T = t) and ln S(t) for t = 0..=τ with their derivatives in (α, β), shared by
/// every cohort.
///
/// Built as running sums of the logs of the ratios S(t)/S(t−1) = r_t and
/// P(T = t)/S(t−1) = 1 − r_t, with their derivatives: elementary terms, each exact to an
/// ulp or two, where ln B(α, β+t) − ln B(α, β) from ln Γ loses ~1e-13 to the size of
/// ln Γ(β+t). The optimiser's last steps compare likelihoods that differ by less than
/// that.
struct Terms {
    /// [ln P(T = t), ∂/∂α, ∂/∂β]; the t = 0 entry is unused.
    churn: Vec<[f64; 3]>,
    /// [ln S(t), ∂/∂α, ∂/∂β].
    survive: Vec<[f64; 3]>,
}

impl Terms {
    fn new(a: f64, b: f64, periods: usize) -> Self {
        let mut churn = vec![[f64::NAN; 3]];
        let mut survive = vec![[0.0; 3]];
        let [mut ls, mut da, mut db] = [0.0; 3];
        for t in 1..=periods {
            // r_t = (β+t−1)/(α+β+t−1).
            let bt = b + t as f64 - 1.0;
            let abt = a + bt;
            churn.push([
                ls + (a / abt).ln(),
                da + 1.0 / a - 1.0 / abt,
                db - 1.0 / abt,
            ]);
            ls -= (a / bt).ln_1p();
            da -= 1.0 / abt;
            db += 1.0 / bt - 1.0 / abt;
            survive.push([ls, da, db]);
        }
        Terms { churn, survive }
    }
}

/// −ℓ over cohorts.
struct Likelihood<'a> {
    cohorts: &'a [Cohort],
    /// The longest cohort, which sizes the [`Terms`] table.
    periods: usize,
    /// Total penalty weight (λ × customers).
    lambda: f64,
}

impl<'a> Likelihood<'a> {
    fn new(cohorts: &'a [Cohort], lambda: f64) -> Self {
        Likelihood {
            cohorts,
            periods: cohorts.iter().map(Cohort::periods).max().unwrap_or(0),
            lambda,
        }
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        self.lambda * theta.iter().map(|t| t * t).sum::<f64>()
    }
}

impl Objective for Likelihood<'_> {
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let terms = Terms::new(theta[0], theta[1], self.periods);
        let (ll, g) = sum_ordered::<Cohort, 2>(self.cohorts, |_, c, g| {
            let mut v = 0.0;
            let mut add = |w: u64, [l, da, db]: [f64; 3]| {
                // Skipped when no one is in the cell: 0 · ln P stays 0 even where ln P
                // underflows to −∞.
                if w > 0 {
                    let w = w as f64;
                    v += w * l;
                    g[0] += w * da;
                    g[1] += w * db;
                }
            };
            for t in 1..c.alive.len() {
                add(c.alive[t - 1] - c.alive[t], terms.churn[t]);
            }
            let last = c.alive.len() - 1;
            add(c.alive[last], terms.survive[last]);
            v
        });
        for i in 0..2 {
            grad[i] = -g[i] + 2.0 * self.lambda * theta[i];
        }
        -ll + self.penalty(theta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// The analytic gradient against central differences of the value, for two cohorts
    /// of different lengths, with and without a penalty, at α below and above 1.
    #[test]
    fn gradient_matches_central_differences() {
        let cohorts = [
            Cohort::new(vec![1000, 631, 468, 382, 326, 289, 262, 241]).unwrap(),
            Cohort::new(vec![500, 430, 380, 350, 330, 300, 290, 280, 275, 270, 268]).unwrap(),
        ];
        for lambda in [0.0, 0.2] {
            let lik = Likelihood::new(&cohorts, lambda);
            for theta in [[0.704, 1.182], [3.5, 0.2], [0.05, 40.0]] {
                let mut g = [0.0; 2];
                lik.value_and_gradient(&theta, &mut g);
                for k in 0..2 {
                    let h = 1e-6 * theta[k];
                    let (mut up, mut down) = (theta, theta);
                    up[k] += h;
                    down[k] -= h;
                    let mut scratch = [0.0; 2];
                    let fd = (lik.value_and_gradient(&up, &mut scratch)
                        - lik.value_and_gradient(&down, &mut scratch))
                        / (2.0 * h);
                    assert_relative_eq!(g[k], fd, max_relative = 1e-6, epsilon = 1e-6);
                }
            }
        }
    }
}
