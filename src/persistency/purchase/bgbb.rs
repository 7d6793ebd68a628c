//! BG/BB (Fader, Hardie & Shang 2010, "Customer-base analysis in a discrete-time
//! noncontractual setting", Marketing Science 29(6)).

use serde::{Deserialize, Serialize};

use super::FitOptions;
use crate::data::Area;
use crate::error::{Error, Result};
use crate::numerics::{
    check_positive, digamma, ln_beta, ln_gamma, log_sum_exp, minimize, sum_ordered, FitReport,
    Objective,
};
use crate::numerics::{Fitted, MaximumLikelihood};

/// A discrete-time history shared by `count` customers: transactions in `x` of the first
/// `n` transaction opportunities (years of a fund-raiser, say), the last at opportunity
/// `t_x`.
///
/// Valid histories have n ≥ 1, x ≤ t_x ≤ n, and t_x = 0 exactly when x = 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiscretePattern {
    /// Opportunities with a transaction.
    pub x: u32,
    /// Opportunity of the last transaction (1 to n; 0 when x = 0).
    pub t_x: u32,
    /// Opportunities observed.
    pub n: u32,
    /// Customers with this history.
    pub count: u32,
}

/// Whether (x, t_x, n) is a history the model can produce.
fn is_history(x: u32, t_x: u32, n: u32) -> bool {
    n >= 1 && t_x <= n && x <= t_x && (x == 0) == (t_x == 0)
}

impl DiscretePattern {
    /// Whether this is a history the model can produce: n ≥ 1, x ≤ t_x ≤ n, and x = 0
    /// exactly when t_x = 0.
    pub fn is_history(&self) -> bool {
        is_history(self.x, self.t_x, self.n)
    }
}

/// The most terms one likelihood evaluation may sum: ten million take about a second.
const MAX_TERMS: u64 = 10_000_000;

/// Checks fitting data: every history valid, total count positive; returns the total.
fn check_discrete(patterns: &[DiscretePattern]) -> Result<f64> {
    let mut weight = 0.0;
    // Each evaluation of the likelihood builds drop-out tables over n opportunities and
    // sums up to n terms per pattern: a periods column holding a date (19970230) would
    // make one evaluation take minutes and gigabytes.
    let terms: u64 = patterns.iter().map(|p| u64::from(p.n)).sum();
    if terms > MAX_TERMS {
        let longest = patterns.iter().map(|p| p.n).max().unwrap_or(0);
        return Err(Error::Budget {
            what: "terms of one BG/BB likelihood evaluation",
            limit: MAX_TERMS,
            advice: format!(
                "the longest history has {longest} opportunities; opportunities are periods \
                 such as years, so check the periods column"
            ),
        });
    }
    for (i, p) in patterns.iter().enumerate() {
        if !is_history(p.x, p.t_x, p.n) {
            let bad = |field, value: u32, expected: String| {
                Err(Error::bad_value("patterns", i, field, value, expected))
            };
            return if p.n < 1 {
                bad("n", p.n, "n ≥ 1".into())
            } else if p.t_x > p.n {
                bad("t_x", p.t_x, format!("t_x ≤ n = {}", p.n))
            } else if p.x > p.t_x {
                // Also x > 0 with t_x = 0.
                bad("x", p.x, format!("x ≤ t_x = {}", p.t_x))
            } else {
                bad("t_x", p.t_x, "t_x = 0 when x = 0".into())
            };
        }
        weight += f64::from(p.count);
    }
    if weight == 0.0 {
        return Err(Error::EmptyInput);
    }
    Ok(weight)
}

/// The beta-geometric/beta-Bernoulli model of discrete-time repeat transactions.
///
/// At the start of each transaction opportunity (the first included) an alive customer
/// drops out for good with probability θ ~ Beta(γ, δ); if still alive, the customer
/// transacts with probability p ~ Beta(α, β). With x transactions in n opportunities,
/// the last at t_x (FHS 2010, eq. 5):
///
/// ```text
/// L = B(α+x, β+n−x)/B(α, β) · B(γ, δ+n)/B(γ, δ)
///   + Σ_{i=0}^{n−t_x−1} B(α+x, β+t_x−x+i)/B(α, β) · B(γ+1, δ+t_x+i)/B(γ, δ)
/// ```
///
/// The first term is a customer alive through opportunity n; the i-th term one who
/// dropped out right after opportunity t_x + i.
///
/// ```
/// use acrm::persistency::BgBb;
/// // Published estimates for the donation data (FHS 2010): 11,104 first-time donors of
/// // 1995, observed over the six years 1996 to 2001.
/// let m = BgBb::new(1.204, 0.750, 0.657, 2.783)?;
/// // A donor who gave in each of the six years is alive in 2002 with probability 0.930
/// // and is expected to give 6.71 times in the ten years after 2001 (mpmath values in
/// // tests/data/persistency/bgbb_donations.json).
/// assert!((m.p_alive(6, 6, 6) - 0.9304025).abs() < 1e-7);
/// assert!((m.conditional_expected_transactions(10, 6, 6, 6) - 6.7052908).abs() < 1e-7);
/// // Donors expected never to give again in those six years: 3,456 (3,464 observed).
/// let none = 11_104.0 * m.probability_of_transactions(0, 6);
/// assert!((none - 3455.76).abs() < 0.01);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BgBb {
    alpha: f64,
    beta: f64,
    gamma: f64,
    delta: f64,
}

impl BgBb {
    /// Parameter names, in the order of [`params`](Self::params).
    pub const NAMES: [&'static str; 4] = ["alpha", "beta", "gamma", "delta"];

    /// A model from its parameters: α, β of the transaction probability, γ, δ of the
    /// drop-out probability.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless every parameter is finite and positive.
    pub fn new(alpha: f64, beta: f64, gamma: f64, delta: f64) -> Result<Self> {
        check_positive(&Self::NAMES, &[alpha, beta, gamma, delta])?;
        Ok(BgBb {
            alpha,
            beta,
            gamma,
            delta,
        })
    }

    /// (α, β, γ, δ).
    pub fn params(&self) -> [f64; 4] {
        [self.alpha, self.beta, self.gamma, self.delta]
    }

    /// Log-likelihood of one customer with x transactions in n opportunities, the last at
    /// t_x (FHS 2010, eq. 5); NaN when (x, t_x, n) is not a valid history (see
    /// [`DiscretePattern`]).
    pub fn log_likelihood(&self, x: u32, t_x: u32, n: u32) -> f64 {
        if !is_history(x, t_x, n) {
            return f64::NAN;
        }
        let drop = DropOut::new(self, n);
        self.ln_bracket(&drop, x, t_x, n).0 - self.ln_norm()
    }

    /// Total log-likelihood of patterns, weighted by their counts; NaN when a pattern is
    /// not a valid history.
    pub fn total_log_likelihood(&self, patterns: &[DiscretePattern]) -> f64 {
        let lik = Likelihood::new(patterns, 0.0);
        let mut g = [0.0; 4];
        -lik.value_and_gradient(&self.params(), &mut g)
    }

    /// ln B(α, β) + ln B(γ, δ): the denominator shared by every term of the likelihood.
    fn ln_norm(&self) -> f64 {
        ln_beta(self.alpha, self.beta) + ln_beta(self.gamma, self.delta)
    }

    /// ln of the likelihood's bracket without its denominator B(α, β) B(γ, δ), the
    /// derivative of that ln in (α, β, γ, δ), and the ln of the bracket's first term
    /// (alive through n). The terms are summed in log space (they can be far below f64's
    /// range for long histories), so the derivative is the softmax-weighted mean of the
    /// terms' derivatives.
    fn ln_bracket(&self, drop: &DropOut, x: u32, t_x: u32, n: u32) -> (f64, [f64; 4], f64) {
        let (a, b) = (self.alpha, self.beta);
        let xf = f64::from(x);
        // The (α, β) factor B(α+x, β+m) of each term, with m non-transactions; m steps
        // by one from term to term, so B(a, b+1) = B(a, b)·b/(a+b) and ψ(z+1) = ψ(z) + 1/z
        // replace a ln Γ and two ψ per term.
        let mut m = f64::from(t_x - x);
        let mut lb = ln_beta(a + xf, b + m);
        let psi_ax = digamma(a + xf);
        let mut psi_bm = digamma(b + m);
        let mut psi_abm = digamma(a + b + xf + m);
        let (mut l, mut g) = (f64::NEG_INFINITY, [0.0; 4]);
        let mut add = |term: f64, d: [f64; 4]| {
            let l_new = log_sum_exp(l, term);
            let (w_old, w_new) = ((l - l_new).exp(), (term - l_new).exp());
            for (gk, dk) in g.iter_mut().zip(d) {
                *gk = w_old * *gk + w_new * dk;
            }
            l = l_new;
        };
        for s in t_x..n {
            let [ld, dg, dd] = drop.death[s as usize];
            add(lb + ld, [psi_ax - psi_abm, psi_bm - psi_abm, dg, dd]);
            let bm = b + m;
            lb -= ((a + xf) / bm).ln_1p();
            psi_bm += 1.0 / bm;
            psi_abm += 1.0 / (a + xf + bm);
            m += 1.0;
        }
        let [ls, dg, dd] = drop.alive[n as usize];
        let alive = lb + ls;
        add(alive, [psi_ax - psi_abm, psi_bm - psi_abm, dg, dd]);
        (l, g, alive)
    }

    /// ln Σ_{k=1}^{count} B(γ, δ+n+k)/B(γ, δ+n): the expected number of the next `count`
    /// opportunities at which a customer alive at opportunity n is still alive.
    fn ln_survival_sum(&self, n: u32, count: u32) -> f64 {
        let (g, d) = (self.gamma, self.delta);
        let (mut t, mut lr, mut l) = (d + f64::from(n), 0.0, f64::NEG_INFINITY);
        for _ in 0..count {
            lr -= (g / t).ln_1p();
            l = log_sum_exp(l, lr);
            t += 1.0;
        }
        l
    }

    /// Probability that a customer with x transactions in n opportunities, the last at
    /// t_x, is alive at opportunity n + 1 (FHS 2010, eq. 11):
    ///
    /// ```text
    /// B(α+x, β+n−x)/B(α, β) · B(γ, δ+n+1)/B(γ, δ) / L
    /// ```
    ///
    /// Since drop-out happens at the start of an opportunity, this is the chance of still
    /// being a customer when the next opportunity comes (lifetimes'
    /// `conditional_probability_alive(1, …)`). NaN for an invalid history.
    pub fn p_alive(&self, x: u32, t_x: u32, n: u32) -> f64 {
        if !is_history(x, t_x, n) {
            return f64::NAN;
        }
        // The bracket's first term over the bracket is P(alive at n); times
        // B(γ, δ+n+1)/B(γ, δ+n) it is eq. 11, with no ln B of large arguments whose
        // rounding would not cancel.
        let (l, _, alive) = self.ln_bracket(&DropOut::new(self, n), x, t_x, n);
        let dn = self.delta + f64::from(n);
        (alive - l).exp() * dn / (self.gamma + dn)
    }

    /// Expected transactions in the `n_star` opportunities after n of a customer with x
    /// transactions in n opportunities, the last at t_x (FHS 2010, eq. 13).
    ///
    /// Eq. 13's ratio of gamma functions is computed as the finite sum it telescopes
    /// from,
    ///
    /// ```text
    /// E = B(α+x+1, β+n−x)/B(α, β) / L · Σ_{t=n+1}^{n+n*} B(γ, δ+t)/B(γ, δ)
    ///   = P(alive at n) · (α+x)/(α+β+n) · Σ_{t=n+1}^{n+n*} B(γ, δ+t)/B(γ, δ+n),
    /// ```
    ///
    /// (the chance of being alive now, the expected transaction probability given the
    /// history, the expected opportunities still alive), which stays exact at γ = 1,
    /// where eq. 13 is 0/0. It takes time linear in `n_star`. NaN for an invalid
    /// history.
    pub fn conditional_expected_transactions(&self, n_star: u32, x: u32, t_x: u32, n: u32) -> f64 {
        if !is_history(x, t_x, n) {
            return f64::NAN;
        }
        if n_star == 0 {
            return 0.0;
        }
        let (l, _, alive) = self.ln_bracket(&DropOut::new(self, n), x, t_x, n);
        let (xf, nf) = (f64::from(x), f64::from(n));
        let p = (self.alpha + xf) / (self.alpha + self.beta + nf);
        (alive - l + self.ln_survival_sum(n, n_star)).exp() * p
    }

    /// Expected transactions of a new customer in the first n opportunities, E[X(n)]:
    ///
    /// ```text
    /// E[X(n)] = α/(α+β) · δ/(γ−1) · [1 − Γ(γ+δ) Γ(1+δ+n) / (Γ(γ+δ+n) Γ(1+δ))]
    ///         = α/(α+β) · Σ_{t=1}^{n} B(γ, δ+t)/B(γ, δ)
    /// ```
    ///
    /// (FHS 2010), computed as the sum (linear in n), which has no 0/0 at γ = 1.
    pub fn expected_transactions(&self, n: u32) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let p = self.alpha / (self.alpha + self.beta);
        p * self.ln_survival_sum(0, n).exp()
    }

    /// P(X(n) = x): probability that a new customer transacts at x of the first n
    /// opportunities (FHS 2010):
    ///
    /// ```text
    /// C(n, x) B(α+x, β+n−x)/B(α, β) · B(γ, δ+n)/B(γ, δ)
    ///   + Σ_{i=x}^{n−1} C(i, x) B(α+x, β+i−x)/B(α, β) · B(γ+1, δ+i)/B(γ, δ)
    /// ```
    ///
    /// Zero when x > n.
    pub fn probability_of_transactions(&self, x: u32, n: u32) -> f64 {
        if x > n {
            return 0.0;
        }
        let (a, b, g, d) = (self.alpha, self.beta, self.gamma, self.delta);
        let xf = f64::from(x);
        let ln_choose = |i: f64| ln_gamma(i + 1.0) - ln_gamma(xf + 1.0) - ln_gamma(i - xf + 1.0);
        let nf = f64::from(n);
        let mut l = ln_choose(nf) + ln_beta(a + xf, b + nf - xf) + ln_beta(g, d + nf);
        for i in x..n {
            let i = f64::from(i);
            let term = ln_choose(i) + ln_beta(a + xf, b + i - xf) + ln_beta(g + 1.0, d + i);
            l = log_sum_exp(l, term);
        }
        (l - self.ln_norm()).exp()
    }

    /// Maximum-likelihood fit on discrete patterns (x, t_x, n, count).
    ///
    /// Starts from α = β = γ = δ = 1 unless [`FitOptions::initial`] says otherwise. The
    /// result does not depend on the number of threads.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options, [`Error::BadValue`] for an invalid
    /// history (naming the pattern and the field that breaks x ≤ t_x ≤ n, n ≥ 1, t_x = 0
    /// exactly when x = 0), [`Error::EmptyInput`] without patterns (or with zero counts
    /// only), and [`Error::Numerical`] when the optimiser fails.
    fn fit_rows(patterns: &[DiscretePattern], opts: &FitOptions) -> Result<(BgBb, FitReport)> {
        let settings = opts.check(4)?;
        let weight = check_discrete(patterns)?;
        let lik = Likelihood::new(patterns, opts.penalty * weight);
        let start = opts.initial.clone().unwrap_or_else(|| vec![1.0; 4]);
        let m = minimize(&lik, &Self::NAMES, &start, weight, &settings, |th| {
            lik.penalty(th)
        })?;
        let t = &m.theta;
        Ok((BgBb::new(t[0], t[1], t[2], t[3])?, m.report))
    }
}

impl MaximumLikelihood for BgBb {
    type Row = DiscretePattern;
    const AREA: Area = Area::Persistency;
    fn estimate(rows: &[DiscretePattern], opts: &FitOptions) -> Result<Fitted<BgBb>> {
        let (model, report) = Self::fit_rows(rows, opts)?;
        Ok(Fitted { model, report })
    }
}

/// The (γ, δ) factors of the likelihood's terms for opportunities s = 0..=n, computed
/// once per parameter value and shared by every pattern: [ln B, ∂/∂γ, ∂/∂δ].
///
/// Built from s = 0 by B(γ, δ+s+1) = B(γ, δ+s)·(δ+s)/(γ+δ+s) and
/// B(γ+1, δ+s) = B(γ, δ+s)·γ/(γ+δ+s): elementary steps instead of ln Γ(δ+s), whose size
/// would cost digits in the difference for long histories.
struct DropOut {
    /// ln B(γ+1, δ+s): alive through opportunity s, gone at s + 1.
    death: Vec<[f64; 3]>,
    /// ln B(γ, δ+s): alive through opportunity s.
    alive: Vec<[f64; 3]>,
}

impl DropOut {
    fn new(m: &BgBb, n: u32) -> Self {
        let (g, d) = (m.gamma, m.delta);
        let psi_gd = digamma(g + d);
        let [mut lb, mut dg, mut dd] = [ln_beta(g, d), digamma(g) - psi_gd, digamma(d) - psi_gd];
        let (mut death, mut alive) = (Vec::new(), Vec::new());
        for s in 0..=n {
            let ds = d + f64::from(s);
            let gds = g + ds;
            alive.push([lb, dg, dd]);
            death.push([
                lb + (g / gds).ln(),
                dg + 1.0 / g - 1.0 / gds,
                dd - 1.0 / gds,
            ]);
            lb -= (g / ds).ln_1p();
            dg -= 1.0 / gds;
            dd += 1.0 / ds - 1.0 / gds;
        }
        DropOut { death, alive }
    }
}

/// −ℓ over discrete patterns.
struct Likelihood<'a> {
    patterns: &'a [DiscretePattern],
    /// The longest history, which sizes the [`DropOut`] table.
    n_max: u32,
    /// Total penalty weight (λ × customers).
    lambda: f64,
}

impl<'a> Likelihood<'a> {
    fn new(patterns: &'a [DiscretePattern], lambda: f64) -> Self {
        Likelihood {
            patterns,
            n_max: patterns.iter().map(|p| p.n).max().unwrap_or(0),
            lambda,
        }
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        self.lambda * theta.iter().map(|t| t * t).sum::<f64>()
    }
}

impl Objective for Likelihood<'_> {
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let m = BgBb {
            alpha: theta[0],
            beta: theta[1],
            gamma: theta[2],
            delta: theta[3],
        };
        let drop = DropOut::new(&m, self.n_max);
        let norm = m.ln_norm();
        let (psi_ab, psi_gd) = (digamma(m.alpha + m.beta), digamma(m.gamma + m.delta));
        // ∂(−ln B(α, β) − ln B(γ, δ)).
        let d_norm = [
            psi_ab - digamma(m.alpha),
            psi_ab - digamma(m.beta),
            psi_gd - digamma(m.gamma),
            psi_gd - digamma(m.delta),
        ];
        let (ll, g) = sum_ordered::<DiscretePattern, 4>(self.patterns, |_, p, g| {
            if !is_history(p.x, p.t_x, p.n) {
                return f64::NAN;
            }
            let w = f64::from(p.count);
            let (l, d, _) = m.ln_bracket(&drop, p.x, p.t_x, p.n);
            for k in 0..4 {
                g[k] += w * (d[k] + d_norm[k]);
            }
            w * (l - norm)
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

    fn patterns() -> Vec<DiscretePattern> {
        let mut out = Vec::new();
        for n in [1, 6, 30] {
            for t_x in 0..=n {
                for x in 0..=t_x {
                    if is_history(x, t_x, n) {
                        let count = 1 + (x * 7 + t_x * 3 + n) % 11;
                        out.push(DiscretePattern { x, t_x, n, count });
                    }
                }
            }
        }
        out
    }

    /// The analytic gradient against central differences of the value, at points on
    /// both sides of γ = 1 and δ = 1 (argmin-testfunctions style property check).
    #[test]
    fn gradient_matches_central_differences() {
        let pats = patterns();
        for lambda in [0.0, 0.3] {
            let lik = Likelihood::new(&pats, lambda);
            for theta in [
                [1.204, 0.750, 0.657, 2.783],
                [0.3, 4.0, 1.7, 0.4],
                [12.0, 0.05, 0.9, 25.0],
            ] {
                let mut g = [0.0; 4];
                lik.value_and_gradient(&theta, &mut g);
                for k in 0..4 {
                    let h = 1e-6 * theta[k];
                    let (mut up, mut down) = (theta, theta);
                    up[k] += h;
                    down[k] -= h;
                    let mut scratch = [0.0; 4];
                    let fd = (lik.value_and_gradient(&up, &mut scratch)
                        - lik.value_and_gradient(&down, &mut scratch))
                        / (2.0 * h);
                    assert_relative_eq!(g[k], fd, max_relative = 1e-6, epsilon = 1e-6);
                }
            }
        }
    }

    /// The recurrences of `ln_bracket` against the likelihood summed term by term with a
    /// fresh ln B for each term (eq. 5 as written).
    #[test]
    fn bracket_recurrence_matches_direct_terms() {
        let m = BgBb::new(0.8, 2.5, 0.4, 3.1).unwrap();
        for p in patterns() {
            let (x, t_x, n) = (f64::from(p.x), f64::from(p.t_x), f64::from(p.n));
            let (a, b, g, d) = (m.alpha, m.beta, m.gamma, m.delta);
            let mut direct = ln_beta(a + x, b + n - x) + ln_beta(g, d + n);
            for i in 0..(p.n - p.t_x) {
                let i = f64::from(i);
                direct = log_sum_exp(
                    direct,
                    ln_beta(a + x, b + t_x - x + i) + ln_beta(g + 1.0, d + t_x + i),
                );
            }
            direct -= m.ln_norm();
            assert_relative_eq!(
                m.log_likelihood(p.x, p.t_x, p.n),
                direct,
                max_relative = 1e-13
            );
        }
    }
}
