//! Pareto/NBD (Schmittlein, Morrison & Colombo 1987), in the integral form of Fader &
//! Hardie's note 009 ("A note on deriving the Pareto/NBD model and related expressions").

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{check_patterns, FitOptions};
use crate::data::Area;
use crate::error::Result;
use crate::numerics::{
    check_positive, digamma, ln_gamma, log_concave_rule, log_sum_exp, log_sum_exp_all, minimize,
    sum_ordered, warm_sample, Dual, FitReport, Objective,
};
use crate::numerics::{Fitted, MaximumLikelihood};
use crate::summary::{group_by, Pattern, Rfm};

/// The Pareto/NBD model of repeat buying.
///
/// While alive, a customer buys as a Poisson process with rate λ ~ Gamma(r, α); the
/// lifetime is exponential with rate μ ~ Gamma(s, β). With repeat purchases x, last
/// purchase at t_x and age T:
///
/// ```text
/// L = Γ(r+x) α^r β^s / Γ(r) · [ (α+T)^−(r+x) (β+T)^−s  +  s ∫_{t_x}^{T} (α+y)^−(r+x) (β+y)^−(s+1) dy ]
/// ```
///
/// The second term (death between t_x and T) is where implementations break: written as
/// a difference of two ₂F₁ values it cancels, overflows for large x and has no convergent
/// series near z = 1 (lifetimes #25 and #332, CLVTools #132). Here the integral is
/// evaluated directly in log space: as the tail ∫_y^∞ after Euler's transformation, a
/// series of positive terms whose ratio is below z, differenced only when the later tail
/// is at most 0.9 of the earlier; otherwise (short intervals, z near 1) by
/// Gauss–Legendre quadrature placed around the maximum of the log-concave integrand.
/// Parameter gradients are carried through either form as dual numbers, so they are
/// exact to rounding however extreme one customer's term is.
///
/// ```
/// use acrm::persistency::ParetoNbd;
/// // Published CDNOW estimates (Fader, Hardie & Lee 2005) and their checkpoint: a
/// // customer with x = 26, t_x = 30.86, T = 31 weeks is alive with probability 0.9979
/// // and expected to buy 25.46 times in the next 52 weeks.
/// let m = ParetoNbd::new(0.553, 10.578, 0.606, 11.669)?;
/// assert!((m.p_alive(26, 30.86, 31.0) - 0.9979).abs() < 5e-5);
/// assert!((m.conditional_expected_purchases(52.0, 26, 30.86, 31.0) - 25.46).abs() < 5e-3);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ParetoNbd {
    r: f64,
    alpha: f64,
    s: f64,
    beta: f64,
}

/// The tail series is used while its ratio bound z is at most this (≤ 140 terms);
/// beyond, quadrature is cheaper.
const SERIES_MAX_Z: f64 = 0.75;
const SERIES_MAX_TERMS: usize = 400;
/// The difference of the two tails is used while the later one is at most this share of
/// the earlier (the difference then loses at most one digit); closer tails mean a short
/// interval, which one quadrature panel covers.
const MAX_TAIL_RATIO: f64 = 0.9;

impl ParetoNbd {
    /// Parameter names, in the order of [`params`](Self::params).
    pub const NAMES: [&'static str; 4] = ["r", "alpha", "s", "beta"];

    /// A model from its parameters.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) unless every parameter is finite and positive.
    pub fn new(r: f64, alpha: f64, s: f64, beta: f64) -> Result<Self> {
        check_positive(&Self::NAMES, &[r, alpha, s, beta])?;
        Ok(ParetoNbd { r, alpha, s, beta })
    }

    /// (r, α, s, β).
    pub fn params(&self) -> [f64; 4] {
        [self.r, self.alpha, self.s, self.beta]
    }

    fn duals<const N: usize>(&self) -> Theta<N> {
        Theta::new(self.params())
    }

    /// Log-likelihood of one customer.
    pub fn log_likelihood(&self, x: u32, t_x: f64, t: f64) -> f64 {
        let c0 = ln_gamma(self.r + f64::from(x)) - ln_gamma(self.r);
        c0 + self.duals::<0>().ln_lik(x, t_x, t).v
    }

    /// Total log-likelihood of patterns, weighted by their counts.
    pub fn total_log_likelihood(&self, patterns: &[Pattern]) -> f64 {
        let lik = Likelihood::new(patterns, 0.0);
        let mut g = [0.0; 4];
        -lik.value_and_gradient(&self.params(), &mut g)
    }

    /// Probability that a customer with history (x, t_x, T) is still alive at T: the
    /// share of the likelihood from "alive throughout".
    pub fn p_alive(&self, x: u32, t_x: f64, t: f64) -> f64 {
        let th = self.duals::<0>();
        let (alive, died) = th.terms(x, t_x, t);
        match died {
            Some(d) => 1.0 / (1.0 + (d.v - alive.v).exp()),
            None => 1.0,
        }
    }

    /// P(alive) of every record, in parallel, index-aligned: the same values as
    /// [`p_alive`](Self::p_alive), with the death integral's tails computed once per
    /// distinct (x, t_x) and (x, T) and the alive term once per distinct T.
    pub fn p_alive_all(&self, records: &[Rfm]) -> Vec<f64> {
        let th = self.duals::<0>();
        let n = records.len();
        let (ts, at_t) = group_by(n, |i| records[i].t.to_bits());
        let (froms, at_from) = group_by(n, |i| (records[i].x, records[i].t_x.to_bits()));
        let (tos, at_to) = group_by(n, |i| (records[i].x, records[i].t.to_bits()));
        let alive: Vec<[Dual<0>; 3]> = ts
            .par_iter()
            .map(|&t| th.alive_logs(f64::from_bits(t)))
            .collect();
        let tails = |keys: &[(u32, u64)]| -> Vec<Option<Dual<0>>> {
            keys.par_iter()
                .map(|&(x, y)| {
                    let y = f64::from_bits(y);
                    if th.series_applies(y) {
                        th.tail(x, y)
                    } else {
                        None
                    }
                })
                .collect()
        };
        let (from_tails, to_tails) = (tails(&froms), tails(&tos));
        records
            .par_iter()
            .enumerate()
            .map(|(i, r)| {
                // The series applies per customer by t_x, as in `terms`.
                let (from, to) = if th.series_applies(r.t_x) {
                    (from_tails[at_from[i] as usize], to_tails[at_to[i] as usize])
                } else {
                    (None, None)
                };
                let logs = alive[at_t[i] as usize];
                match th.terms_with(r.x, r.t_x, r.t, logs, from, to) {
                    (a, Some(d)) => 1.0 / (1.0 + (d.v - a.v).exp()),
                    (_, None) => 1.0,
                }
            })
            .collect()
    }

    /// Expected purchases in (T, T + `horizon`] of a customer with history (x, t_x, T)
    /// (note 009, eq. 41).
    pub fn conditional_expected_purchases(&self, horizon: f64, x: u32, t_x: f64, t: f64) -> f64 {
        self.expected_purchases_if_alive(horizon, x, t) * self.p_alive(x, t_x, t)
    }

    /// Expected purchases in (T, T + `horizon`] of a customer alive at T after x repeat
    /// purchases.
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: u32, t: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let g = decay_integral(s - 1.0, (horizon / (beta + t)).ln_1p());
        (r + f64::from(x)) * (beta + t) / (alpha + t) * g
    }

    /// Probability that a customer alive at T is still alive at T + `horizon` (1 for a
    /// horizon ≤ 0): alive at T, the posterior of the dropout rate is μ ~ Gamma(s, β+T)
    /// (the alive term of the likelihood carries e^(−μT)), and the lifetime left is
    /// exponential, so P = E[e^(−μh)] = ((β+T)/(β+T+h))^s, whatever x.
    pub fn survival_if_alive(&self, horizon: f64, _x: u32, t: f64) -> f64 {
        if horizon.is_nan() || horizon <= 0.0 {
            return 1.0;
        }
        (-self.s * (horizon / (self.beta + t)).ln_1p()).exp()
    }

    /// Expected purchases of a new customer in (0, t]: (r/α) β/(s−1) [1 − (β/(β+t))^(s−1)].
    pub fn expected_purchases(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        self.r / self.alpha * self.beta * decay_integral(self.s - 1.0, (t / self.beta).ln_1p())
    }

    /// P(X(t) = n): probability that a new customer makes n purchases in (0, t].
    ///
    /// Alive at t (a negative binomial count times the survival (β/(β+t))^s), plus death
    /// at τ < t with n purchases before it; the second part is integrated numerically in
    /// ln τ, where its integrand is log-concave.
    pub fn probability_of_purchases(&self, n: u32, t: f64) -> f64 {
        if t <= 0.0 {
            return if n == 0 { 1.0 } else { 0.0 };
        }
        let (r, alpha, s, beta) = (self.r, self.alpha, self.s, self.beta);
        let nf = f64::from(n);
        let head = ln_gamma(r + nf) - ln_gamma(r) - ln_gamma(nf + 1.0);
        let alive = head + r * (alpha / (alpha + t)).ln() + nf * (t / (alpha + t)).ln()
            - s * (t / beta).ln_1p();
        let (a1, b1) = (r + nf, s + 1.0);
        let psi = |w: f64| {
            let e = w.exp();
            let v = (nf + 1.0) * w - a1 * (alpha + e).ln() - b1 * (beta + e).ln();
            let slope = nf + 1.0 - a1 * e / (alpha + e) - b1 * e / (beta + e);
            (v, slope)
        };
        let hi = t.ln();
        let rule = log_concave_rule(psi, hi - 1000.0, hi, 1.0);
        let ln_int = rule
            .iter()
            .map(|&(w, wt)| wt.ln() + psi(w).0)
            .fold(f64::NEG_INFINITY, log_sum_exp);
        let died = head + r * alpha.ln() + s.ln() + s * beta.ln() + ln_int;
        log_sum_exp(alive, died).exp()
    }

    /// Maximum-likelihood fit on patterns (x, t_x, T, count).
    ///
    /// Starts from r = s = 1 and α = β = the mean age T (lifetimes' start of 1 in time
    /// scaled by the largest T, but robust to one outlying age) unless
    /// [`FitOptions::initial`] says otherwise.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) for bad options,
    /// [`Error::BadValue`](crate::Error::BadValue) naming the first pattern outside
    /// 0 ≤ t_x ≤ T, T > 0 (t_x = 0 when x = 0), [`Error::EmptyInput`](crate::Error::EmptyInput)
    /// without patterns, and [`Error::Numerical`](crate::Error::Numerical) when the optimiser
    /// fails.
    fn fit_rows(patterns: &[Pattern], opts: &FitOptions) -> Result<(ParetoNbd, FitReport)> {
        let settings = opts.check(4)?;
        let weight = check_patterns(patterns)?;
        let lik = Likelihood::new(patterns, opts.penalty * weight);
        let mean_t = patterns
            .iter()
            .map(|p| f64::from(p.count) * p.t)
            .sum::<f64>()
            / weight;
        let cold = vec![1.0, mean_t, 1.0, mean_t];
        let start = match (&opts.initial, warm_sample(patterns)) {
            (Some(p), _) => p.clone(),
            (None, Some(sample)) => Self::fit_rows(&sample, opts)
                .map(|(m, _)| m.params().to_vec())
                .unwrap_or(cold),
            (None, None) => cold,
        };
        let m = minimize(&lik, &Self::NAMES, &start, weight, &settings, |th| {
            lik.penalty(th)
        })?;
        let t = &m.theta;
        Ok((ParetoNbd::new(t[0], t[1], t[2], t[3])?, m.report))
    }
}

impl MaximumLikelihood for ParetoNbd {
    type Row = Pattern;
    const AREA: Area = Area::Persistency;
    fn estimate(rows: &[Pattern], opts: &FitOptions) -> Result<Fitted<ParetoNbd>> {
        let (model, report) = Self::fit_rows(rows, opts)?;
        Ok(Fitted { model, report })
    }
}

/// ∫₀ᴸ e^(−k·u) du = (1 − e^(−kL))/k, and L at k = 0: the shape of the expected-purchase
/// formulas, which divide by s − 1.
fn decay_integral(k: f64, l: f64) -> f64 {
    if k == 0.0 {
        l
    } else {
        -(-k * l).exp_m1() / k
    }
}

/// The parameters as duals over themselves (N = 4) or as plain values (N = 0).
struct Theta<const N: usize> {
    r: Dual<N>,
    alpha: Dual<N>,
    s: Dual<N>,
    beta: Dual<N>,
}

impl<const N: usize> Theta<N> {
    fn new(p: [f64; 4]) -> Self {
        Theta {
            r: Dual::variable(p[0], 0),
            alpha: Dual::variable(p[1], 1),
            s: Dual::variable(p[2], 2),
            beta: Dual::variable(p[3], 3),
        }
    }

    /// ln L without ln Γ(r+x) − ln Γ(r) (cached per x by the fit).
    fn ln_lik(&self, x: u32, t_x: f64, t: f64) -> Dual<N> {
        match self.terms(x, t_x, t) {
            (alive, Some(died)) => Dual::log_sum_exp(alive, died),
            (alive, None) => alive,
        }
    }

    /// ln of the likelihood's two parts (without ln Γ(r+x) − ln Γ(r)): alive throughout,
    /// α^r β^s (α+T)^−(r+x) (β+T)^−s, and died in (t_x, T], α^r β^s s I (`None` when
    /// t_x = T: no time to die unseen).
    fn terms(&self, x: u32, t_x: f64, t: f64) -> (Dual<N>, Option<Dual<N>>) {
        let series = self.series_applies(t_x);
        let tail = |y| if series { self.tail(x, y) } else { None };
        self.terms_with(x, t_x, t, self.alive_logs(t), tail(t_x), tail(t))
    }

    /// ln(1 + T/α), ln(α + T), ln(1 + T/β): the logs of the alive term, which depend on T
    /// only. Written with ln(1 + T/α) rather than ln α − ln(α+T): with s = 10³ and
    /// β = 10⁻³ the two logs are 7·10³ apart while their difference is 10⁻¹².
    fn alive_logs(&self, t: f64) -> [Dual<N>; 3] {
        let ln_t = |scale: Dual<N>| (Dual::constant(t) / scale).ln_1p();
        [ln_t(self.alpha), (self.alpha + t).ln(), ln_t(self.beta)]
    }

    /// [`terms`](Self::terms) from the alive logs and the two tails of the death
    /// integral (`None` where the series does not apply), which the fit computes once per
    /// distinct T and per distinct (x, y).
    fn terms_with(
        &self,
        x: u32,
        t_x: f64,
        t: f64,
        [l_alpha, l_alpha_t, l_beta]: [Dual<N>; 3],
        from: Option<Dual<N>>,
        to: Option<Dual<N>>,
    ) -> (Dual<N>, Option<Dual<N>>) {
        let alive = -(self.r * l_alpha) - l_alpha_t * f64::from(x) - self.s * l_beta;
        if t <= t_x {
            return (alive, None);
        }
        let head = self.r * self.alpha.ln() + self.s * self.beta.ln() + self.s.ln();
        let integral = match (from, to) {
            // I = F(t_x) − F(T): at most one digit of cancellation when F(T) ≤ 0.9 F(t_x).
            (Some(from), Some(to)) if to.v - from.v <= MAX_TAIL_RATIO.ln() => {
                from + (to - from).ln_one_minus_exp()
            }
            _ => {
                let (near, far, a_n, a_f) = self.orientation(x);
                self.death_quadrature(near, far, a_n, a_f, t_x, t)
            }
        };
        (alive, Some(head + integral))
    }

    /// (near, far, a_near, a_far): "near" is the smaller of α and β, whose factor becomes a
    /// pure power after the change of variable; the tail series runs in
    /// z = (far − near)/(far + y) < 1.
    fn orientation(&self, x: u32) -> (Dual<N>, Dual<N>, Dual<N>, Dual<N>) {
        let a1 = self.r + f64::from(x);
        let b1 = self.s + 1.0;
        if self.alpha.v <= self.beta.v {
            (self.alpha, self.beta, a1, b1)
        } else {
            (self.beta, self.alpha, b1, a1)
        }
    }

    /// Whether the tail series is used for a customer with recency `t_x` (its ratio bound
    /// z is largest at the earlier end).
    fn series_applies(&self, t_x: f64) -> bool {
        let (lo, hi) = if self.alpha.v <= self.beta.v {
            (self.alpha.v, self.beta.v)
        } else {
            (self.beta.v, self.alpha.v)
        };
        (hi - lo) / (hi + t_x) <= SERIES_MAX_Z
    }

    /// ln ∫_y^∞ of the death integrand for x repeat purchases (see [`ln_tail`]).
    fn tail(&self, x: u32, y: f64) -> Option<Dual<N>> {
        let (near, far, a_n, a_f) = self.orientation(x);
        ln_tail(near, far, a_n, a_f, self.r + self.s + f64::from(x), y)
    }

    /// The death integral by quadrature in w = ln((near + y)/(near + t_x)), where the
    /// integrand's log is concave: ψ″ = −a_f q(1−q) with q = (near+y)/(far+y).
    ///
    /// The rule (nodes and weights in y) is fixed from the parameters' values; gradients
    /// come from integrating the integrand's gradient with the same rule, which is exact
    /// to the rule's accuracy because the limits do not depend on the parameters.
    fn death_quadrature(
        &self,
        near: Dual<N>,
        far: Dual<N>,
        a_n: Dual<N>,
        a_f: Dual<N>,
        t_x: f64,
        t: f64,
    ) -> Dual<N> {
        let c = near.v + t_x;
        let gap = far.v - near.v;
        let (an, af) = (a_n.v, a_f.v);
        let psi = |w: f64| {
            let e = c * w.exp();
            let v = (1.0 - an) * (c.ln() + w) - af * (gap + e).ln();
            (v, 1.0 - an - af * e / (gap + e))
        };
        let hi = ((near.v + t) / c).ln();
        let rule = log_concave_rule(psi, 0.0, hi, 1.0);
        let terms: Vec<Dual<N>> = rule
            .iter()
            .map(|&(w, wt)| {
                let y = t_x + c * w.exp_m1();
                let ln_dy = wt.ln() + c.ln() + w;
                -(a_n * (near + y).ln()) - a_f * (far + y).ln() + ln_dy
            })
            .collect();
        log_sum_exp_all(&terms)
    }
}

/// ln ∫_y^∞ (near+u)^−a_n (far+u)^−a_f du
///   = ln[(near+y)^(1−a_n) (far+y)^−a_f S / A],  S = Σₖ (a_f)ₖ/(A+1)ₖ zᵏ,
/// with A = a_n + a_f − 1 and z = (far − near)/(far + y): the ₂F₁ of the tail after
/// Euler's transformation, whose terms are positive with ratios below z (`None` if it
/// has not converged within the term cap).
fn ln_tail<const N: usize>(
    near: Dual<N>,
    far: Dual<N>,
    a_n: Dual<N>,
    a_f: Dual<N>,
    big_a: Dual<N>,
    y: f64,
) -> Option<Dual<N>> {
    let z = (far - near) / (far + y);
    let mut sum = Dual::constant(1.0);
    if z.v > 0.0 {
        let bound = z.v / (1.0 - z.v);
        let mut term = Dual::constant(1.0);
        let mut k = 0.0;
        let mut converged = false;
        for _ in 0..SERIES_MAX_TERMS {
            term = term * (a_f + k) * z / (big_a + (1.0 + k));
            sum = sum + term;
            k += 1.0;
            if term.v * bound <= 1e-17 * sum.v {
                converged = true;
                break;
            }
        }
        if !converged {
            return None;
        }
    }
    Some((-(a_n) + 1.0) * (near + y).ln() - a_f * (far + y).ln() + sum.ln() - big_a.ln())
}

/// −ℓ over patterns. What depends on fewer variables than a pattern is computed once per
/// distinct value and looked up: ln Γ(r+x) − ln Γ(r) per x, the alive term's logs per T,
/// and the tails of the death integral per distinct (x, t_x) and (x, T), of which a
/// summary on a day grid has several times fewer than patterns.
struct Likelihood<'a> {
    patterns: &'a [Pattern],
    xs: Vec<u32>,
    ts: Vec<f64>,
    tail_keys: Vec<(u32, f64)>,
    /// Per pattern: positions in `xs`, `ts`, and `tail_keys` (for t_x and for T).
    at: Vec<[u32; 4]>,
    lambda: f64,
}

/// Distinct values, sorted (times by their bits, which order non-negative floats).
fn distinct<K: Ord + Copy>(keys: impl Iterator<Item = K>) -> Vec<K> {
    let mut v: Vec<K> = keys.collect();
    v.sort_unstable();
    v.dedup();
    v
}

impl<'a> Likelihood<'a> {
    fn new(patterns: &'a [Pattern], lambda: f64) -> Self {
        let xs = distinct(patterns.iter().map(|p| p.x));
        let ts = distinct(patterns.iter().map(|p| p.t.to_bits()));
        let keys = distinct(
            patterns
                .iter()
                .flat_map(|p| [(p.x, p.t_x.to_bits()), (p.x, p.t.to_bits())]),
        );
        let at = patterns
            .iter()
            .map(|p| {
                let pos = |k: (u32, u64)| keys.partition_point(|&q| q < k) as u32;
                [
                    xs.partition_point(|&x| x < p.x) as u32,
                    ts.partition_point(|&t| t < p.t.to_bits()) as u32,
                    pos((p.x, p.t_x.to_bits())),
                    pos((p.x, p.t.to_bits())),
                ]
            })
            .collect();
        Likelihood {
            patterns,
            xs,
            ts: ts.into_iter().map(f64::from_bits).collect(),
            tail_keys: keys
                .into_iter()
                .map(|(x, y)| (x, f64::from_bits(y)))
                .collect(),
            at,
            lambda,
        }
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        self.lambda * theta.iter().map(|t| t * t).sum::<f64>()
    }
}

impl Objective for Likelihood<'_> {
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let p = [theta[0], theta[1], theta[2], theta[3]];
        let th = Theta::<4>::new(p);
        let r = p[0];
        let c0: Vec<(f64, f64)> = self
            .xs
            .iter()
            .map(|&x| {
                let rx = r + f64::from(x);
                (ln_gamma(rx) - ln_gamma(r), digamma(rx) - digamma(r))
            })
            .collect();
        let alive: Vec<[Dual<4>; 3]> = self.ts.par_iter().map(|&t| th.alive_logs(t)).collect();
        let tails: Vec<Option<Dual<4>>> = self
            .tail_keys
            .par_iter()
            .map(|&(x, y)| {
                if th.series_applies(y) {
                    th.tail(x, y)
                } else {
                    None
                }
            })
            .collect();
        let (ll, g) = sum_ordered::<_, 4>(self.patterns, |i, pat, g| {
            let [ix, it, ifrom, ito] = self.at[i];
            let (c, dc) = c0[ix as usize];
            let w = f64::from(pat.count);
            let (from, to) = if th.series_applies(pat.t_x) {
                (tails[ifrom as usize], tails[ito as usize])
            } else {
                (None, None)
            };
            let l = match th.terms_with(pat.x, pat.t_x, pat.t, alive[it as usize], from, to) {
                (a, Some(d)) => Dual::log_sum_exp(a, d),
                (a, None) => a,
            };
            g[0] += w * (l.d[0] + dc);
            for (gj, dj) in g.iter_mut().zip(&l.d).skip(1) {
                *gj += w * dj;
            }
            w * (l.v + c)
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

        /// The dual-number gradient against central differences, at random parameters and
        /// histories (series and quadrature paths both occur).
        #[test]
        fn gradient_matches_finite_differences_everywhere(
            theta in (0.05f64..5.0, 0.5f64..50.0, 0.05f64..5.0, 0.5f64..50.0),
            hs in prop::collection::vec((0u32..40, 0.0f64..=1.0, 0.5f64..100.0, 1u32..5), 1..6),
        ) {
            let patterns: Vec<Pattern> = hs
                .iter()
                .map(|&(x, u, t, count)| Pattern { x, t_x: if x == 0 { 0.0 } else { u * t }, t, count })
                .collect();
            let theta = [theta.0, theta.1, theta.2, theta.3];
            let lik = Likelihood::new(&patterns, 0.0);
            let bad = crate::numerics::gradient_mismatch(&lik, &theta);
            prop_assert!(bad.is_none(), "{:?}", bad);
        }
    }

    /// The series and the quadrature are two evaluations of the same integral: where both
    /// apply they agree to rounding, in value and gradient.
    #[test]
    fn series_and_quadrature_agree() {
        for (p, x, t_x, t) in [
            ([0.55, 10.6, 0.61, 11.7], 2, 3.0, 38.0),
            ([0.55, 12.0, 0.61, 3.0], 0, 0.0, 30.0),
            ([2.0, 1.0, 3.0, 1.5], 7, 5.0, 200.0),
            ([0.3, 4.0, 1.5, 2.0], 40, 1.0, 9.0),
        ] {
            let th = Theta::<4>::new(p);
            let a1 = th.r + f64::from(x);
            let b1 = th.s + 1.0;
            let (near, far, a_n, a_f) = if p[1] <= p[3] {
                (th.alpha, th.beta, a1, b1)
            } else {
                (th.beta, th.alpha, b1, a1)
            };
            let big_a = th.r + th.s + f64::from(x);
            let from = ln_tail(near, far, a_n, a_f, big_a, t_x).unwrap();
            let to = ln_tail(near, far, a_n, a_f, big_a, t).unwrap();
            let series = from + (to - from).ln_one_minus_exp();
            let quad = th.death_quadrature(near, far, a_n, a_f, t_x, t);
            assert_relative_eq!(series.v, quad.v, max_relative = 1e-13);
            for j in 0..4 {
                assert_relative_eq!(
                    series.d[j],
                    quad.d[j],
                    max_relative = 1e-11,
                    epsilon = 1e-13
                );
            }
        }
    }

    /// Analytic (dual) gradient of the total log-likelihood against central differences.
    #[test]
    fn gradient_matches_finite_differences() {
        let patterns = [
            Pattern {
                x: 0,
                t_x: 0.0,
                t: 30.0,
                count: 5,
            },
            Pattern {
                x: 3,
                t_x: 20.0,
                t: 35.0,
                count: 2,
            },
            Pattern {
                x: 12,
                t_x: 34.9,
                t: 35.0,
                count: 1,
            },
            Pattern {
                x: 1,
                t_x: 0.5,
                t: 1.0,
                count: 3,
            },
        ];
        let lik = Likelihood::new(&patterns, 0.0);
        for theta in [
            [0.55, 10.6, 0.61, 11.7],
            [2.0, 0.3, 0.05, 40.0],
            [0.1, 50.0, 3.0, 0.2],
        ] {
            let bad = crate::numerics::gradient_mismatch(&lik, &theta);
            assert!(bad.is_none(), "{bad:?}");
        }
    }
}
