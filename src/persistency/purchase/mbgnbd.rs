//! MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD in which a customer may also
//! drop out right after the first purchase.

use serde::{Deserialize, Serialize};

use super::bgnbd::{closed_or_integral, coin_survival, BgNbd, Variant};
use super::FitOptions;
use crate::data::Area;
use crate::error::Result;
use crate::numerics::{ln_beta, ln_gamma, ln_hyp2f1, FitReport};
use crate::numerics::{Fitted, MaximumLikelihood};
use crate::summary::Pattern;

/// The modified beta-geometric/NBD model.
///
/// As [`BgNbd`], except that the dropout coin (p ~ Beta(a, b)) is also tossed at the first
/// purchase, so a customer with no repeat purchase may already be gone:
///
/// ```text
/// L = Γ(r+x) α^r / Γ(r) · [ B(a, b+x+1) (α+T)^−(r+x) + B(a+1, b+x) (α+t_x)^−(r+x) ] / B(a, b)
/// ```
///
/// ```
/// use acrm::persistency::MbgNbd;
/// let m = MbgNbd::new(0.525, 6.183, 0.891, 1.614)?;
/// // Unlike BG/NBD, a customer without repeat purchases is not surely alive.
/// assert!(m.p_alive(0, 0.0, 38.86) < 1.0);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MbgNbd {
    params: BgNbd,
}

impl MbgNbd {
    /// Parameter names, in the order of [`params`](Self::params).
    pub const NAMES: [&'static str; 4] = BgNbd::NAMES;

    /// A model from its parameters.
    ///
    /// # Errors
    /// [`crate::Error::InvalidOption`] unless every parameter is finite and positive.
    pub fn new(r: f64, alpha: f64, a: f64, b: f64) -> Result<Self> {
        Ok(MbgNbd {
            params: BgNbd::new(r, alpha, a, b)?,
        })
    }

    /// (r, α, a, b).
    pub fn params(&self) -> [f64; 4] {
        self.params.params()
    }

    /// Log-likelihood of one customer.
    pub fn log_likelihood(&self, x: u32, t_x: f64, t: f64) -> f64 {
        self.params.log_likelihood_of(Variant::Mbg, x, t_x, t)
    }

    /// Total log-likelihood of patterns, weighted by their counts.
    pub fn total_log_likelihood(&self, patterns: &[Pattern]) -> f64 {
        self.params.total_log_likelihood_of(Variant::Mbg, patterns)
    }

    /// Probability that a customer with history (x, t_x, T) is still alive at T.
    pub fn p_alive(&self, x: u32, t_x: f64, t: f64) -> f64 {
        let [r, alpha, a, b] = self.params();
        let xf = f64::from(x);
        let ln_odds = (a / (b + xf)).ln() + (r + xf) * ((alpha + t) / (alpha + t_x)).ln();
        1.0 / (1.0 + ln_odds.exp())
    }

    /// Expected purchases in (T, T + `horizon`] of a customer with history (x, t_x, T).
    pub fn conditional_expected_purchases(&self, horizon: f64, x: u32, t_x: f64, t: f64) -> f64 {
        self.expected_purchases_if_alive(horizon, x, t) * self.p_alive(x, t_x, t)
    }

    /// Expected purchases in (T, T + `horizon`] of a customer alive at T after x repeat
    /// purchases.
    pub fn expected_purchases_if_alive(&self, horizon: f64, x: u32, t: f64) -> f64 {
        if horizon <= 0.0 {
            return 0.0;
        }
        let [r, alpha, a, b] = self.params();
        let xf = f64::from(x);
        let z = horizon / (alpha + t + horizon);
        let closed = ln_hyp2f1(r + xf, b + xf + 1.0, a + b + xf, z).map(|f| {
            let ln_rest = (r + xf) * ((alpha + t) / (alpha + t + horizon)).ln() + f;
            (a + b + xf) / (a - 1.0) * -ln_rest.exp_m1()
        });
        // Posterior given alive: λ ~ Gamma(r+x, α+T), p ~ Beta(a, b+x+1).
        closed_or_integral(
            closed,
            a,
            b + xf + 1.0,
            r + xf,
            horizon / (alpha + t),
            false,
        )
    }

    /// Probability that a customer alive at T after x repeat purchases is still alive at
    /// T + `horizon` (1 for a horizon ≤ 0): as [`BgNbd::survival_if_alive`], with the
    /// posterior p ~ Beta(a, b+x+1) of a customer who has survived x + 1 coins:
    /// (1+k)^−(r+x) ₂F₁(r+x, b+x+1; a+b+x+1; k/(1+k)), k = h/(α+T).
    pub fn survival_if_alive(&self, horizon: f64, x: u32, t: f64) -> f64 {
        let [r, alpha, a, b] = self.params();
        let xf = f64::from(x);
        coin_survival(r + xf, alpha + t, a, b + xf + 1.0, horizon)
    }

    /// Expected purchases of a new customer in (0, t].
    pub fn expected_purchases(&self, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let [r, alpha, a, b] = self.params();
        let closed = ln_hyp2f1(r, b + 1.0, a + b, t / (alpha + t)).map(|f| {
            let ln_rest = r * (alpha / (alpha + t)).ln() + f;
            b / (a - 1.0) * -ln_rest.exp_m1()
        });
        closed_or_integral(closed, a, b, r, t / alpha, true)
    }

    /// P(X(t) = n): alive at t after n purchases (n + 1 survived coins), or dropped out at
    /// the n-th purchase having made at least n by t.
    pub fn probability_of_purchases(&self, n: u32, t: f64) -> f64 {
        let [r, alpha, a, b] = self.params();
        let nf = f64::from(n);
        let lp = (alpha / (alpha + t)).ln();
        let lq = (t / (alpha + t)).ln();
        let nb = |j: f64| ln_gamma(r + j) - ln_gamma(r) - ln_gamma(j + 1.0) + j * lq;
        let lb = ln_beta(a, b);
        let alive = (ln_beta(a, b + nf + 1.0) - lb + r * lp + nb(nf)).exp();
        let below: f64 = (0..n).map(|j| (r * lp + nb(f64::from(j))).exp()).sum();
        let dropped = (ln_beta(a + 1.0, b + nf) - lb).exp() * (1.0 - below).max(0.0);
        alive + dropped
    }

    /// Maximum-likelihood fit on patterns (x, t_x, T, count), as BG/NBD's.
    fn fit_rows(patterns: &[Pattern], opts: &FitOptions) -> Result<(MbgNbd, FitReport)> {
        let (params, report) = BgNbd::fit_of(Variant::Mbg, patterns, opts)?;
        Ok((MbgNbd { params }, report))
    }
}

impl MaximumLikelihood for MbgNbd {
    type Row = Pattern;
    const AREA: Area = Area::Persistency;
    fn estimate(rows: &[Pattern], opts: &FitOptions) -> Result<Fitted<MbgNbd>> {
        let (model, report) = Self::fit_rows(rows, opts)?;
        Ok(Fitted { model, report })
    }
}
