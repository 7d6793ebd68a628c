//! BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way").

use serde::{Deserialize, Serialize};

use super::{check_patterns, FitOptions};
use crate::data::Area;
use crate::error::Result;
use crate::numerics::{
    beta_expectation, check_positive, digamma, ln_beta, ln_gamma, ln_hyp2f1, log_sum_exp, minimize,
    sum_ordered, warm_sample, FitReport, Objective,
};
use crate::numerics::{Fitted, MaximumLikelihood};
use crate::summary::Pattern;

/// The beta-geometric/NBD model of repeat buying.
///
/// While alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); after
/// each purchase the customer drops out with probability p ~ Beta(a, b). With repeat
/// purchases x, last purchase at t_x and age T (FHL 2005, eq. 6):
///
/// ```text
/// L = Γ(r+x) α^r / Γ(r) · [ B(a, b+x)/B(a, b) · (α+T)^−(r+x)
///                         + 1{x>0} B(a+1, b+x−1)/B(a, b) · (α+t_x)^−(r+x) ]
/// ```
///
/// α is in the time unit of the data it was fitted on.
///
/// ```
/// use acrm::persistency::BgNbd;
/// // Published CDNOW estimates (FHL 2005) and their worked example: a customer with
/// // x = 2, t_x = 30.43, T = 38.86 weeks is expected to buy 1.226 times in 39 weeks.
/// let m = BgNbd::new(0.243, 4.414, 0.793, 2.426)?;
/// let e = m.conditional_expected_purchases(39.0, 2, 30.43, 38.86);
/// assert!((e - 1.226).abs() < 5e-4);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgNbd {
    r: f64,
    alpha: f64,
    a: f64,
    b: f64,
}

impl BgNbd {
    /// Parameter names, in the order of [`params`](Self::params).
    pub const NAMES: [&'static str; 4] = ["r", "alpha", "a", "b"];

    /// A model from its parameters.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) unless every parameter is finite and positive.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        check_positive(&Self::NAMES, &[r, alpha, a, b])?;
        Ok(BgNbd { r, alpha, a, b })
    }

    /// (r, α, a, b).
    pub fn params(&self) -> [f64; 4] {
        [self.r, self.alpha, self.a, self.b]
    }

    /// Log-likelihood of one customer.
    pub fn log_likelihood(&self, x: u32, t_x: f64, t: f64) -> f64 {
        self.log_likelihood_of(Variant::Bg, x, t_x, t)
    }

    pub(super) fn log_likelihood_of(&self, v: Variant, x: u32, t_x: f64, t: f64) -> f64 {
        let k = XTerms::new(self, x, v);
        k.c0 + self.mix(&k, x, t_x, t).0
    }

    /// Total log-likelihood of patterns, weighted by their counts.
    pub fn total_log_likelihood(&self, patterns: &[Pattern]) -> f64 {
        self.total_log_likelihood_of(Variant::Bg, patterns)
    }

    pub(super) fn total_log_likelihood_of(&self, v: Variant, patterns: &[Pattern]) -> f64 {
        let lik = Likelihood::new(patterns, 0.0, v);
        let mut g = [0.0; 4];
        -lik.value_and_gradient(&self.params(), &mut g)
    }

    /// ln of the bracket of the likelihood, and the weights of its two terms.
    fn mix(&self, k: &XTerms, x: u32, t_x: f64, t: f64) -> (f64, f64, f64) {
        let rx = self.r + f64::from(x);
        let a1 = k.lb1 - rx * (self.alpha + t).ln();
        if k.lb2 == f64::NEG_INFINITY {
            return (a1, 1.0, 0.0);
        }
        let a2 = k.lb2 - rx * (self.alpha + t_x).ln();
        let l = log_sum_exp(a1, a2);
        (l, (a1 - l).exp(), (a2 - l).exp())
    }

    /// Probability that a customer with history (x, t_x, T) is still alive at T
    /// (FHL 2005, eq. 13; 1 when x = 0: no purchase, no chance to drop out).
    pub fn p_alive(&self, x: u32, t_x: f64, t: f64) -> f64 {
        if x == 0 {
            return 1.0;
        }
        let xf = f64::from(x);
        let ln_odds = (self.a / (self.b + xf - 1.0)).ln()
            + (self.r + xf) * ((self.alpha + t) / (self.alpha + t_x)).ln();
        1.0 / (1.0 + ln_odds.exp())
    }

    /// Expected purchases in (T, T + `horizon`] of a customer with history (x, t_x, T)
    /// (FHL 2005, eq. 10).
    pub fn conditional_expected_purchases(&self, horizon: f64, x: u32, t_x: f64, t: f64) -> f64 {
        self.expected_purchases_if_alive(horizon, x, t) * self.p_alive(x, t_x, t)
    }

    /// Expected purchases in (T, T + `horizon`] of a customer alive at T after x repeat
    /// purchases: the factor of eq. 10 that does not depend on t_x.
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: u32, t: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let xf = f64::from(x);
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let z = horizon / (alpha + t + horizon);
        let closed = ln_hyp2f1(r + xf, b + xf, a + b + xf - 1.0, z).map(|f| {
            let ln_rest = (r + xf) * ((alpha + t) / (alpha + t + horizon)).ln() + f;
            (a + b + xf - 1.0) / (a - 1.0) * -ln_rest.exp_m1()
        });
        // Posterior given alive: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x).
        closed_or_integral(closed, a, b + xf, r + xf, horizon / (alpha + t), false)
    }

    /// Probability that a customer alive at T after x repeat purchases is still alive at
    /// T + `horizon` (1 for a horizon ≤ 0).
    ///
    /// Alive at T, the posterior is λ ~ Gamma(r+x, α+T) and p ~ Beta(a, b+x), independent
    /// (the alive term of the likelihood is λ^x e^(−λT) (1−p)^x). A customer drops out
    /// only at a purchase, with probability p, so given (λ, p) dropouts come at rate λp
    /// and P(alive at T+h) = e^(−λph). Averaged over the posterior, with k = h/(α+T):
    ///
    /// ```text
    /// E_p[(1 + p k)^−(r+x)] = (1+k)^−(r+x) ₂F₁(r+x, b+x; a+b+x; k/(1+k))
    /// ```
    ///
    /// (Euler's integral of ₂F₁, then Pfaff's transformation, which puts the argument
    /// in [0, 1)).
    ///
    /// ```
    /// use acrm::persistency::BgNbd;
    /// let m = BgNbd::new(0.243, 4.414, 0.793, 2.426)?;
    /// // P(alive in a year) of the FHL 2005 example customer is below P(alive now).
    /// let now = m.p_alive(2, 30.43, 38.86);
    /// let later = now * m.survival_if_alive(52.0, 2, 38.86);
    /// assert!(later < now && later > 0.5 * now);
    /// # Ok::<(), acrm::Error>(())
    /// ```
    pub fn survival_if_alive(&self, horizon: f64, x: u32, t: f64) -> f64 {
        let xf = f64::from(x);
        coin_survival(self.r + xf, self.alpha + t, self.a, self.b + xf, horizon)
    }

    /// Expected purchases of a new customer in (0, t] (FHL 2005, eq. 9).
    pub fn expected_purchases(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let closed = ln_hyp2f1(r, b, a + b - 1.0, t / (alpha + t)).map(|f| {
            let ln_rest = r * (alpha / (alpha + t)).ln() + f;
            (a + b - 1.0) / (a - 1.0) * -ln_rest.exp_m1()
        });
        closed_or_integral(closed, a, b, r, t / alpha, false)
    }

    /// P(X(t) = n): probability that a new customer makes n purchases in (0, t]
    /// (FHL 2005, eq. 8).
    pub fn probability_of_purchases(&self, n: u32, t: f64) -> f64 {
        let (r, alpha, a, b) = (self.r, self.alpha, self.a, self.b);
        let nf = f64::from(n);
        let lp = (alpha / (alpha + t)).ln();
        let lq = (t / (alpha + t)).ln();
        // ln[Γ(r+j)/(Γ(r) j!) q^j] for the negative binomial terms.
        let nb = |j: f64| ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + j * lq;
        let first = ln_beta(a, b + nf) - ln_beta(a, b) + r * lp + nb(nf);
        if n == 0 {
            return first.exp();
        }
        // 1 − P(NB ≤ n−1): the NB tail, summed directly from its terms.
        let below: f64 = (0..n).map(|j| (r * lp + nb(f64::from(j))).exp()).sum();
        let second =
            (ln_beta(a + 1.0, b + nf - 1.0) - ln_beta(a, b)).exp() * (1.0 - below).max(0.0);
        first.exp() + second
    }

    /// Maximum-likelihood fit on patterns (x, t_x, T, count).
    ///
    /// Starts from r = α = a = b = 1 unless [`FitOptions::initial`] says otherwise.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for bad options,
    /// [`Error::BadValue`](crate::Error::BadValue) naming the first pattern outside
    /// 0 ≤ t_x ≤ T, T > 0 (t_x = 0 when x = 0), [`Error::EmptyInput`](crate::Error::EmptyInput)
    /// without patterns, and [`Error::Numerical`](crate::Error::Numerical) when the optimiser
    /// fails.
    fn fit_rows(patterns: &[Pattern], opts: &FitOptions) -> Result<(BgNbd, FitReport)> {
        Self::fit_of(Variant::Bg, patterns, opts)
    }

    pub(super) fn fit_of(
        v: Variant,
        patterns: &[Pattern],
        opts: &FitOptions,
    ) -> Result<(BgNbd, FitReport)> {
        let settings = opts.check(4)?;
        let weight = check_patterns(patterns)?;
        let lik = Likelihood::new(patterns, opts.penalty * weight, v);
        let start = match (&opts.initial, warm_sample(patterns)) {
            (Some(p), _) => p.clone(),
            (None, Some(sample)) => Self::fit_of(v, &sample, opts)
                .map(|(m, _)| m.params().to_vec())
                .unwrap_or_else(|_| vec![1.0; 4]),
            (None, None) => vec![1.0; 4],
        };
        let m = minimize(&lik, &Self::NAMES, &start, weight, &settings, |th| {
            lik.penalty(th)
        })?;
        let t = &m.theta;
        Ok((BgNbd::new(t[0], t[1], t[2], t[3])?, m.report))
    }
}

impl MaximumLikelihood for BgNbd {
    type Row = Pattern;
    const AREA: Area = Area::Persistency;
    fn estimate(rows: &[Pattern], opts: &FitOptions) -> Result<Fitted<BgNbd>> {
        let (model, report) = Self::fit_rows(rows, opts)?;
        Ok(Fitted { model, report })
    }
}

/// An expected purchase count from its closed form, or, where that form is undefined or
/// loses digits, from its definition: a customer alive with rate λ and dropout chance p
/// buys (1/p)(1 − e^(−λpt)) times in (0, t]; with λ ~ Gamma(m, rate ρ) integrated out
/// this is (1/p)(1 − (1 + p k)^(−m)) with k = t/ρ, averaged over p ~ Beta(a, b) (and
/// multiplied by 1 − p when `coin_at_start`: MBG/NBD's new customer may drop out at once).
///
/// The closed forms divide by a − 1 (0/0 at a = 1, digits lost near it) and need
/// ₂F₁ with c = a + b − 1 > 0; the integral has neither restriction.
pub(super) fn closed_or_integral(
    closed: Option<f64>,
    a: f64,
    b: f64,
    m: f64,
    k: f64,
    coin_at_start: bool,
) -> f64 {
    if let Some(v) = closed {
        if v.is_finite() && v >= 0.0 && (a - 1.0).abs() > 1e-4 {
            return v;
        }
    }
    beta_expectation(a, b, |p, q| {
        let per = if p * k > 1e-300 {
            -(-m * (p * k).ln_1p()).exp_m1() / p
        } else {
            m * k
        };
        if coin_at_start {
            per * q
        } else {
            per
        }
    })
}

/// E[(1 + p h/ρ)^−m] for p ~ Beta(a, b): the probability that a customer with rate
/// λ ~ Gamma(m, ρ) and dropout chance p ~ Beta(a, b) at each purchase makes it through
/// `h` more time units without dropping out (1 for h ≤ 0).
///
/// From the closed form (1+k)^−m ₂F₁(m, b; a+b; k/(1+k)), k = h/ρ, or, where ₂F₁ gives
/// no finite probability, from the Beta integral by quadrature.
pub(super) fn coin_survival(m: f64, rho: f64, a: f64, b: f64, h: f64) -> f64 {
    if h.is_nan() || h <= 0.0 {
        return 1.0;
    }
    let k = h / rho;
    let closed = ln_hyp2f1(m, b, a + b, h / (rho + h)).map(|f| (f - m * k.ln_1p()).exp());
    match closed {
        Some(v) if (0.0..=1.0).contains(&v) => v,
        _ => beta_expectation(a, b, |p, _| (-m * (p * k).ln_1p()).exp()),
    }
}

/// BG/NBD or its modification (MBG/NBD, Batislam et al. 2007), which differ only in
/// whether a customer may drop out right after the first purchase, before any repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Variant {
    Bg,
    Mbg,
}

/// The terms of the likelihood that depend on x only (evaluated once per distinct x).
///
/// The likelihood is C·[e^lb1 (α+T)^−(r+x) + e^lb2 (α+t_x)^−(r+x)]/B(a, b) with
/// lb1 = ln B(a, b+x), lb2 = ln B(a+1, b+x−1) (BG/NBD, lb2 = −∞ when x = 0) or
/// lb1 = ln B(a, b+x+1), lb2 = ln B(a+1, b+x) (MBG/NBD, for every x).
struct XTerms {
    c0: f64,
    lb1: f64,
    lb2: f64,
    /// ∂c0/∂(r, α, a, b).
    dc: [f64; 4],
    /// ∂lb1/∂(a, b), ∂lb2/∂(a, b).
    d1: [f64; 2],
    d2: [f64; 2],
}

impl XTerms {
    fn new(m: &BgNbd, x: u32, v: Variant) -> Self {
        let (r, alpha, a, b) = (m.r, m.alpha, m.a, m.b);
        let xf = f64::from(x);
        let dab = digamma(a + b);
        // b + x in the first beta function, b + x − 1 in the second, shifted by one for
        // the modified model.
        let bx = match v {
            Variant::Bg => b + xf,
            Variant::Mbg => b + xf + 1.0,
        };
        let dabx = digamma(a + bx);
        let (lb2, d2) = if v == Variant::Mbg || x > 0 {
            (
                ln_beta(a + 1.0, bx - 1.0),
                [digamma(a + 1.0) - dabx, digamma(bx - 1.0) - dabx],
            )
        } else {
            (f64::NEG_INFINITY, [0.0; 2])
        };
        XTerms {
            c0: ln_gamma(r + xf) - ln_gamma(r) + r * alpha.ln() - ln_beta(a, b),
            lb1: ln_beta(a, bx),
            lb2,
            dc: [
                digamma(r + xf) - digamma(r) + alpha.ln(),
                r / alpha,
                dab - digamma(a),
                dab - digamma(b),
            ],
            d1: [digamma(a) - dabx, digamma(bx) - dabx],
            d2,
        }
    }
}

/// −ℓ over patterns, with x-only terms cached per distinct x.
struct Likelihood<'a> {
    patterns: &'a [Pattern],
    /// Distinct x values, and each pattern's position among them.
    xs: Vec<u32>,
    at: Vec<u32>,
    /// Total penalty weight (λ × customers).
    lambda: f64,
    variant: Variant,
}

impl<'a> Likelihood<'a> {
    fn new(patterns: &'a [Pattern], lambda: f64, variant: Variant) -> Self {
        let mut xs: Vec<u32> = patterns.iter().map(|p| p.x).collect();
        xs.sort_unstable();
        xs.dedup();
        let at = patterns
            .iter()
            .map(|p| xs.partition_point(|&x| x < p.x) as u32)
            .collect();
        Likelihood {
            patterns,
            xs,
            at,
            lambda,
            variant,
        }
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        self.lambda * theta.iter().map(|t| t * t).sum::<f64>()
    }
}

impl Objective for Likelihood<'_> {
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let m = BgNbd {
            r: theta[0],
            alpha: theta[1],
            a: theta[2],
            b: theta[3],
        };
        let terms: Vec<XTerms> = self
            .xs
            .iter()
            .map(|&x| XTerms::new(&m, x, self.variant))
            .collect();
        let (ll, g) = sum_ordered::<_, 4>(self.patterns, |i, p, g| {
            let k = &terms[self.at[i] as usize];
            let w = f64::from(p.count);
            let rx = m.r + f64::from(p.x);
            let (l, w1, w2) = m.mix(k, p.x, p.t_x, p.t);
            let (lt, ltx) = ((m.alpha + p.t).ln(), (m.alpha + p.t_x).ln());
            g[0] += w * (k.dc[0] - w1 * lt - w2 * ltx);
            g[1] += w * (k.dc[1] - w1 * rx / (m.alpha + p.t) - w2 * rx / (m.alpha + p.t_x));
            g[2] += w * (k.dc[2] + w1 * k.d1[0] + w2 * k.d2[0]);
            g[3] += w * (k.dc[3] + w1 * k.d1[1] + w2 * k.d2[1]);
            w * (k.c0 + l)
        });
        for i in 0..4 {
            grad[i] = -g[i] + 2.0 * self.lambda * theta[i];
        }
        -ll + self.penalty(theta)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The analytic gradient of both variants against central differences, at random
        /// parameters and histories.
        #[test]
        fn gradient_matches_finite_differences(
            theta in (0.05f64..5.0, 0.5f64..50.0, 0.2f64..5.0, 0.2f64..5.0),
            hs in prop::collection::vec((0u32..40, 0.0f64..=1.0, 0.5f64..100.0, 1u32..5), 1..6),
        ) {
            let patterns: Vec<Pattern> = hs
                .iter()
                .map(|&(x, u, t, count)| Pattern { x, t_x: if x == 0 { 0.0 } else { u * t }, t, count })
                .collect();
            let theta = [theta.0, theta.1, theta.2, theta.3];
            for v in [Variant::Bg, Variant::Mbg] {
                let lik = Likelihood::new(&patterns, 0.0, v);
                let bad = crate::numerics::gradient_mismatch(&lik, &theta);
                prop_assert!(bad.is_none(), "{:?}: {:?}", v, bad);
            }
        }
    }

    /// The closed form of the survival of the dropout coin against its Beta integral, and
    /// the identity P(alive at h | new) = E[(1 + p h/α)^−r] = 1 − P(dropped out), with the
    /// dropout probability of a new customer summed from P(X(h) = n) (FHL 2005, eq. 8):
    /// dropped out after exactly n purchases with probability B(a+1, b+n−1)/B(a, b)·P(N ≥ n).
    #[test]
    fn coin_survival_closed_form_matches_its_integral() {
        for (m, rho, a, b, h) in [
            (0.243, 4.414, 0.793, 2.426, 52.0),
            (2.243, 43.0, 0.793, 4.426, 10.0),
            (30.0, 50.0, 2.5, 0.7, 5.0),
            (0.5, 1.0, 0.3, 9.0, 1e3),
        ] {
            let k = h / rho;
            let integral = beta_expectation(a, b, |p, _| (-m * (p * k).ln_1p()).exp());
            assert_relative_eq!(
                coin_survival(m, rho, a, b, h),
                integral,
                max_relative = 1e-12
            );
        }
        assert_eq!(
            coin_survival(1.0, 1.0, 1.0, 1.0, 0.0).to_bits(),
            1f64.to_bits()
        );
    }

    /// The Beta-integral fallback and the closed forms agree where both apply, and the
    /// fallback is finite where the closed form is not (a = 1, a + b < 1).
    #[test]
    fn closed_forms_and_their_integral_agree() {
        for (a, b, m, k) in [
            (0.79, 2.43, 0.24, 8.8),
            (2.5, 0.7, 3.0, 0.2),
            (0.3, 9.0, 40.0, 1.5),
        ] {
            let closed = ln_hyp2f1(m, b, a + b - 1.0, k / (1.0 + k)).map(|f| {
                let ln_rest = -m * k.ln_1p() + f;
                (a + b - 1.0) / (a - 1.0) * -ln_rest.exp_m1()
            });
            let integral = closed_or_integral(None, a, b, m, k, false);
            assert_relative_eq!(closed.unwrap(), integral, max_relative = 1e-12);
        }
        // At a = 1 the closed form is 0/0; the integral is finite and continuous.
        let at_one = closed_or_integral(None, 1.0, 2.0, 0.5, 3.0, false);
        let near = closed_or_integral(None, 1.0 + 1e-3, 2.0, 0.5, 3.0, false);
        assert!(at_one.is_finite() && (at_one - near).abs() < 1e-2 * at_one);
        let m = BgNbd::new(1e-3, 1e-3, 1e-3, 1e-3).unwrap();
        assert!(m
            .conditional_expected_purchases(1.0, 0, 0.0, 1.0)
            .is_finite());
    }
}
