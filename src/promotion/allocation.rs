//! Budget allocation across campaign types or channels: a saturating response curve per
//! group fitted to past campaigns' spend and incremental outcome, and the split of a
//! budget that maximises the expected total outcome (times a margin per group).
//!
//! # The curves
//!
//! ```text
//! Hill:                  y(s) = top · sᵏ / (sᵏ + halfᵏ)        top, half, k > 0
//! negative exponential:  y(s) = top · (1 − e^{−s/scale})       top, scale > 0
//! ```
//!
//! Both rise from y(0) = 0 to the saturation level `top`; the Hill curve reaches half of
//! it at s = half, and is S-shaped (convex, then concave, with the inflection at
//! s = half ((k − 1)/(k + 1))^{1/k}) when k > 1. Its k can be fixed (k = 1 is the
//! Michaelis–Menten curve top · s/(s + half)).
//!
//! # Fitting
//!
//! Per group, by nonlinear least squares, Σ (yᵢ − y(sᵢ))², with the bounded
//! Levenberg–Marquardt of `numerics` (analytic Jacobian) started from the best point of
//! a grid (the scale or half-saturation spend at multiples of the mean spend, k in
//! {0.5, 1, 1.5, 2, 3}, top by linear least squares given the rest). Standard errors
//! are those of the linearised model, Cov = s² (JᵀJ)⁻¹ with s² = SSE/(n − p): what
//! scipy's `curve_fit` reports with `absolute_sigma=False`. Under
//! [`CurveChoice::Auto`] both families are fitted and the one with the smaller
//!
//! ```text
//! AIC = n ln(SSE/n) + 2(p + 1)       (Gaussian likelihood, σ² counted as a parameter)
//! ```
//!
//! is kept; the report lists both. A fit that stops at the iteration cap is not an
//! error: its [`NlsTermination`] says so in the group's report.
//!
//! # Allocation
//!
//! Maximise Σ_g w_g y_g(s_g) subject to Σ_g s_g = B and lo_g ≤ s_g ≤ hi_g, with w_g the
//! group's margin (1 when the outcome is already money). For concave curves (the
//! exponential, Hill with k ≤ 1) the Karush–Kuhn–Tucker conditions are necessary and
//! sufficient: every group not at a bound has the same marginal value
//! w_g y_g'(s_g) = λ. Each group's spend at a given λ has a closed form
//! (s = scale ln(top/(scale μ)) for the exponential, s = √(top · half/μ) − half for
//! Hill with k = 1, with μ = λ/w_g) or is the root of the decreasing y'(s) = μ found by
//! bisection (other k); the total spend falls as λ rises, and λ is found by bisection to
//! the precision of the arithmetic. The last rounding residue of the budget goes to
//! the groups whose spend changes across the final bracket, so Σ s_g = B to rounding.
//!
//! An S-shaped Hill curve (k > 1) is replaced by its concave envelope on [lo, hi]: the
//! line from (lo, y(lo)) tangent to the curve at t (where y'(t) = (y(t) − y(lo))/(t − lo)),
//! then the curve; the chord to hi when t > hi. The envelope problem is concave and
//! solved as above; its optimum is an upper bound of the true one. When no group ends
//! strictly inside its linear piece the envelope's solution is a true solution with the
//! same value, hence the exact optimum ([`Allocation::exact`]). Otherwise (generically
//! one group) that group is put at either end of its piece, the rest re-solved, and the
//! better of the two kept; the report then gives the envelope's bound beside the value
//! reached, so the gap is known.
//!
//! For each group the report gives the spend, the expected outcome with a confidence
//! band by the delta method (y ± t_{n−p} √(gᵀ Cov g), g the gradient of y(s) in the
//! curve's parameters), the marginal return w y'(s) and the average return w y(s)/s
//! (value per unit spent: subtract 1 for a ROI when the outcome is money). The total's
//! band uses the normal quantile on Σ w² Var(y_g) (the groups are fitted separately,
//! so independent).
//!
//! ```
//! use acrm::promotion::{AllocationOptions, ResponseCurve, Responses};
//! // Two exponential channels: the KKT split has a closed form (see the tests).
//! let curves = Responses::from_curves([
//!     ("mail", ResponseCurve::exponential(100.0, 50.0)?),
//!     ("search", ResponseCurve::exponential(300.0, 200.0)?),
//! ])?;
//! let plan = AllocationOptions::new(400.0).compute(&curves)?;
//! let spent: f64 = plan.groups.iter().map(|g| g.spend).sum();
//! assert!((spent - 400.0).abs() < 1e-9);
//! // Equal marginal returns at the optimum.
//! assert!((plan.groups[0].marginal_roi - plan.groups[1].marginal_roi).abs() < 1e-9);
//! # Ok::<(), acrm::Error>(())
//! ```

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::data::{SpendGroup, SpendHistory};
use crate::error::{Error, Result};
use crate::numerics::{Fitted, LeastSquares, NlsRun, NlsTermination};

/// A curve family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveFamily {
    /// Hill: top · sᵏ/(sᵏ + halfᵏ).
    Hill,
    /// Negative exponential: top · (1 − e^{−s/scale}).
    Exponential,
}

/// Which curve a group gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CurveChoice {
    /// The Hill curve (k free, or fixed by [`ResponseOptions::hill_k`]).
    Hill,
    /// The negative exponential.
    Exponential,
    /// Both, keeping the one with the smaller AIC.
    Auto,
}

/// A saturating response curve: expected incremental outcome as a function of spend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "snake_case")]
pub enum ResponseCurve {
    /// top · sᵏ/(sᵏ + halfᵏ).
    Hill {
        /// Saturation level.
        top: f64,
        /// Spend at half saturation.
        half: f64,
        /// Steepness (S-shaped when > 1).
        k: f64,
    },
    /// top · (1 − e^{−s/scale}).
    Exponential {
        /// Saturation level.
        top: f64,
        /// Spend scale (the curve reaches 1 − 1/e of top at s = scale).
        scale: f64,
    },
}

/// Reads a number that JSON holds as null when it is not finite (serde_json writes NaN
/// and ±∞ as null) back as NaN.
fn nan_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

fn positive(name: &'static str, v: f64) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::option(name, v, "a finite number > 0"))
    }
}

impl ResponseCurve {
    /// The Hill curve.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless top, half and k are finite and > 0.
    pub fn hill(top: f64, half: f64, k: f64) -> Result<ResponseCurve> {
        positive("top", top)?;
        positive("half", half)?;
        positive("k", k)?;
        Ok(ResponseCurve::Hill { top, half, k })
    }

    /// The negative exponential curve.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless top and scale are finite and > 0.
    pub fn exponential(top: f64, scale: f64) -> Result<ResponseCurve> {
        positive("top", top)?;
        positive("scale", scale)?;
        Ok(ResponseCurve::Exponential { top, scale })
    }

    /// Its family.
    pub fn family(&self) -> CurveFamily {
        match self {
            ResponseCurve::Hill { .. } => CurveFamily::Hill,
            ResponseCurve::Exponential { .. } => CurveFamily::Exponential,
        }
    }

    /// The saturation level.
    pub fn top(&self) -> f64 {
        match *self {
            ResponseCurve::Hill { top, .. } | ResponseCurve::Exponential { top, .. } => top,
        }
    }

    /// The expected outcome at spend `s` ≥ 0.
    pub fn value(&self, s: f64) -> f64 {
        match *self {
            ResponseCurve::Hill { top, half, k } => {
                if s <= 0.0 {
                    return 0.0;
                }
                // top/(1 + (half/s)ᵏ): no overflow of sᵏ for large s.
                top / (1.0 + (half / s).powf(k))
            }
            ResponseCurve::Exponential { top, scale } => -top * (-s / scale).exp_m1(),
        }
    }

    /// The marginal outcome dy/ds at spend `s` ≥ 0 (+∞ at 0 for a Hill curve with
    /// k < 1).
    pub fn marginal(&self, s: f64) -> f64 {
        match *self {
            ResponseCurve::Hill { top, half, k } => {
                if s <= 0.0 {
                    return match k {
                        k if k < 1.0 => f64::INFINITY,
                        k if k > 1.0 => 0.0,
                        _ => top / half,
                    };
                }
                top * k * hill_kernel(k * (s / half).ln()).1 / s
            }
            ResponseCurve::Exponential { top, scale } => top / scale * (-s / scale).exp(),
        }
    }

    /// Whether the curve is concave on s ≥ 0 (the exponential, Hill with k ≤ 1).
    pub fn concave(&self) -> bool {
        match *self {
            ResponseCurve::Hill { k, .. } => k <= 1.0,
            ResponseCurve::Exponential { .. } => true,
        }
    }

    /// Where the marginal outcome peaks: half ((k − 1)/(k + 1))^{1/k} for an S-shaped
    /// Hill curve, 0 otherwise. The curve is concave from there on.
    pub fn inflection(&self) -> f64 {
        match *self {
            ResponseCurve::Hill { half, k, .. } if k > 1.0 => {
                half * ((k - 1.0) / (k + 1.0)).powf(1.0 / k)
            }
            _ => 0.0,
        }
    }

    /// The parameters, in the order (top, half, k) or (top, scale).
    pub fn parameters(&self) -> Vec<f64> {
        match *self {
            ResponseCurve::Hill { top, half, k } => vec![top, half, k],
            ResponseCurve::Exponential { top, scale } => vec![top, scale],
        }
    }

    /// The names of [`parameters`](Self::parameters).
    pub fn parameter_names(&self) -> &'static [&'static str] {
        match self {
            ResponseCurve::Hill { .. } => &["top", "half", "k"],
            ResponseCurve::Exponential { .. } => &["top", "scale"],
        }
    }

    /// The gradient of y(s) in the parameters, (top, half, k) or (top, scale); the
    /// first `free` entries are written.
    fn gradient(&self, s: f64, out: &mut [f64]) {
        match *self {
            ResponseCurve::Hill { top, half, k } => {
                if s <= 0.0 {
                    out.fill(0.0);
                    return;
                }
                let ln = (s / half).ln();
                let (frac, kernel) = hill_kernel(k * ln);
                out[0] = frac;
                out[1] = -top * k * kernel / half;
                if out.len() > 2 {
                    out[2] = top * kernel * ln;
                }
            }
            ResponseCurve::Exponential { top, scale } => {
                let e = (-s / scale).exp();
                out[0] = -(-s / scale).exp_m1();
                out[1] = -top * e * s / (scale * scale);
            }
        }
    }

    /// The spend s ≥ inflection where y'(s) = μ (the inflection when μ is above the
    /// marginal there): y' decreases from there on.
    fn spend_at_marginal(&self, mu: f64) -> f64 {
        let a = self.inflection();
        if mu >= self.marginal(a) {
            return a;
        }
        if mu <= 0.0 {
            return f64::INFINITY;
        }
        match *self {
            ResponseCurve::Exponential { top, scale } => scale * (top / (scale * mu)).ln(),
            ResponseCurve::Hill { top, half, k } if (k - 1.0).abs() < f64::EPSILON => {
                ((top * half / mu).sqrt() - half).max(0.0)
            }
            ResponseCurve::Hill { half, .. } => {
                // Bracket, then bisect to adjacent floats.
                let mut lo = a;
                let mut hi = half.max(a) * 2.0;
                while self.marginal(hi) > mu {
                    lo = hi;
                    hi *= 2.0;
                    if !hi.is_finite() {
                        return f64::INFINITY;
                    }
                }
                bisect(lo, hi, |s| self.marginal(s) > mu)
            }
        }
    }
}

/// With u = eᵃ = (s/half)ᵏ: u/(1 + u) and u/(1 + u)², from e^{−|a|} so that neither
/// overflows (u/(1 + u)² is symmetric in u ↔ 1/u).
fn hill_kernel(a: f64) -> (f64, f64) {
    let w = (-a.abs()).exp();
    let frac = if a >= 0.0 {
        1.0 / (1.0 + w)
    } else {
        w / (1.0 + w)
    };
    (frac, w / ((1.0 + w) * (1.0 + w)))
}

/// The boundary between `lo` (where `above` holds) and `hi` (where it does not), to
/// adjacent floats.
fn bisect(mut lo: f64, mut hi: f64, above: impl Fn(f64) -> bool) -> f64 {
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            return 0.5 * (lo + hi);
        }
        if above(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
}

/// One group's curve and what its bands need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResponse {
    /// The group.
    pub group: String,
    /// Its curve.
    pub curve: ResponseCurve,
    /// Covariance of the fitted parameters, row-major (p × p over the parameters that
    /// were free: a fixed Hill k has no row); empty for a curve given by hand, NaN when
    /// the information matrix is singular.
    pub covariance: Vec<f64>,
    /// Residual degrees of freedom n − p of the fit (0 for a curve given by hand).
    pub dof: usize,
}

impl GroupResponse {
    /// The expected outcome at spend `s` and its standard error by the delta method
    /// (NaN without a covariance).
    pub fn outcome(&self, s: f64) -> Expected {
        let y = self.curve.value(s);
        let p = (self.covariance.len() as f64).sqrt() as usize;
        if p == 0 {
            return Expected {
                value: y,
                se: f64::NAN,
            };
        }
        let mut g = vec![0.0; p];
        self.curve.gradient(s, &mut g);
        let var: f64 = (0..p)
            .map(|i| {
                (0..p)
                    .map(|j| g[i] * self.covariance[i * p + j] * g[j])
                    .sum::<f64>()
            })
            .sum();
        Expected {
            value: y,
            se: var.sqrt(),
        }
    }
}

/// An expected outcome and its standard error.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Expected {
    /// The expected outcome y(s).
    pub value: f64,
    /// Its standard error by the delta method, √(gᵀ Cov g).
    #[serde(deserialize_with = "nan_if_null")]
    pub se: f64,
}

/// The response curves of all groups: fitted by [`ResponseOptions::fit`] or given by
/// hand with [`Responses::from_curves`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Responses {
    /// One per group, in the order of the groups' names (or as given).
    pub groups: Vec<GroupResponse>,
}

impl Responses {
    /// Curves given by hand (published or fitted elsewhere): no bands.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] without curves; [`Error::Degenerate`] naming a group given
    /// twice or with an empty name.
    pub fn from_curves<S: Into<String>>(
        curves: impl IntoIterator<Item = (S, ResponseCurve)>,
    ) -> Result<Responses> {
        let mut groups: Vec<GroupResponse> = Vec::new();
        for (name, curve) in curves {
            let group: String = name.into();
            if group.is_empty() || groups.iter().any(|g| g.group == group) {
                return Err(Error::Degenerate {
                    input: format!("group `{group}`"),
                    reason: "group names must be non-empty and given once".into(),
                });
            }
            groups.push(GroupResponse {
                group,
                curve,
                covariance: Vec::new(),
                dof: 0,
            });
        }
        if groups.is_empty() {
            return Err(Error::EmptyInput);
        }
        Ok(Responses { groups })
    }

    /// The curve of `group`.
    pub fn get(&self, group: &str) -> Option<&GroupResponse> {
        self.groups.iter().find(|g| g.group == group)
    }
}

/// A parameter estimate and its standard error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The parameter's name (`top`, `half`, `k`, `scale`).
    pub name: String,
    /// Its estimate.
    pub value: f64,
    /// Its standard error (NaN when the information matrix is singular, 0 for a fixed
    /// Hill k).
    #[serde(deserialize_with = "nan_if_null")]
    pub se: f64,
}

/// One family's fit to a group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateFit {
    /// The family.
    pub family: CurveFamily,
    /// Σ (yᵢ − y(sᵢ))².
    pub sse: f64,
    /// n ln(SSE/n) + 2(p + 1).
    #[serde(deserialize_with = "nan_if_null")]
    pub aic: f64,
    /// Levenberg–Marquardt iterations.
    pub iterations: u64,
    /// Why it stopped.
    pub termination: NlsTermination,
}

/// What a group's fit reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurveReport {
    /// The group.
    pub group: String,
    /// Observations.
    pub n: usize,
    /// The family kept.
    pub family: CurveFamily,
    /// Its parameters with standard errors.
    pub estimates: Vec<Estimate>,
    /// Σ (yᵢ − y(sᵢ))² of the curve kept.
    pub sse: f64,
    /// √(SSE/n).
    pub rmse: f64,
    /// s² = SSE/(n − p), behind the standard errors.
    #[serde(deserialize_with = "nan_if_null")]
    pub residual_variance: f64,
    /// The AIC of the curve kept.
    #[serde(deserialize_with = "nan_if_null")]
    pub aic: f64,
    /// Levenberg–Marquardt iterations of the curve kept.
    pub iterations: u64,
    /// Why its fit stopped.
    pub termination: NlsTermination,
    /// Every family fitted (two under [`CurveChoice::Auto`]).
    pub candidates: Vec<CandidateFit>,
}

impl CurveReport {
    /// Whether the kept curve's fit stopped at a minimum of the SSE.
    pub fn converged(&self) -> bool {
        self.termination.converged()
    }
}

/// What fitting all groups reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponsesReport {
    /// One per group, aligned with [`Responses::groups`].
    pub groups: Vec<CurveReport>,
}

impl ResponsesReport {
    /// Whether every group's fit converged.
    pub fn converged(&self) -> bool {
        self.groups.iter().all(CurveReport::converged)
    }
}

/// Settings of the response-curve fits. Defaults: [`CurveChoice::Auto`], Hill k free,
/// tolerance 1e-10, at most 500 iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResponseOptions {
    curve: CurveChoice,
    group_curves: BTreeMap<String, CurveChoice>,
    hill_k: Option<f64>,
    tolerance: f64,
    max_iterations: u64,
}

impl Default for ResponseOptions {
    fn default() -> Self {
        ResponseOptions {
            curve: CurveChoice::Auto,
            group_curves: BTreeMap::new(),
            hill_k: None,
            tolerance: 1e-10,
            max_iterations: 500,
        }
    }
}

impl ResponseOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The curve of every group not named by [`group_curve`](Self::group_curve).
    pub fn curve(mut self, choice: CurveChoice) -> Self {
        self.curve = choice;
        self
    }

    /// The curve of one group.
    pub fn group_curve(mut self, group: impl Into<String>, choice: CurveChoice) -> Self {
        self.group_curves.insert(group.into(), choice);
        self
    }

    /// Fixes the Hill curve's k (> 0; `Some(1.0)` for Michaelis–Menten), or frees it.
    pub fn hill_k(mut self, k: Option<f64>) -> Self {
        self.hill_k = k;
        self
    }

    /// Convergence tolerance (> 0): on the relative step and on the cosine between the
    /// residuals and each column of the Jacobian.
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tolerance = tol;
        self
    }

    /// Iteration cap (≥ 1).
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if let Some(k) = self.hill_k {
            positive("hill_k", k)?;
        }
        positive("tolerance", self.tolerance)?;
        if self.max_iterations == 0 {
            return Err(Error::option("max_iterations", 0, "at least 1"));
        }
        Ok(())
    }

    /// Fits a curve to every group of `history`, in parallel (each fit on one thread,
    /// so the result does not depend on the number of threads).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an option out of its domain; [`Error::UnknownId`]
    /// for a [`group_curve`](Self::group_curve) naming no group; [`Error::Degenerate`]
    /// naming a group with fewer observations than the curve's parameters plus one, with
    /// fewer distinct positive spends than parameters, or whose outcomes no curve with
    /// top > 0 fits (none positive).
    pub fn fit(&self, history: &SpendHistory) -> Result<Fitted<Responses, ResponsesReport>> {
        self.validate()?;
        for name in self.group_curves.keys() {
            if history.group(name).is_none() {
                return Err(Error::UnknownId {
                    kind: "group".into(),
                    id: name.clone(),
                });
            }
        }
        let fits: Vec<Result<(GroupResponse, CurveReport)>> = history
            .groups()
            .par_iter()
            .map(|g| self.fit_group(g))
            .collect();
        let mut groups = Vec::with_capacity(fits.len());
        let mut reports = Vec::with_capacity(fits.len());
        for f in fits {
            let (g, r) = f?;
            groups.push(g);
            reports.push(r);
        }
        Ok(Fitted {
            model: Responses { groups },
            report: ResponsesReport { groups: reports },
        })
    }

    fn fit_group(&self, g: &SpendGroup) -> Result<(GroupResponse, CurveReport)> {
        let choice = *self.group_curves.get(&g.name).unwrap_or(&self.curve);
        let families: &[CurveFamily] = match choice {
            CurveChoice::Hill => &[CurveFamily::Hill],
            CurveChoice::Exponential => &[CurveFamily::Exponential],
            CurveChoice::Auto => &[CurveFamily::Hill, CurveFamily::Exponential],
        };
        let mut fits = Vec::new();
        for &family in families {
            fits.push(self.fit_family(g, family)?);
        }
        let candidates: Vec<CandidateFit> = fits.iter().map(|f| f.candidate.clone()).collect();
        // The smaller AIC; the first on a tie (Hill before exponential). A non-finite
        // AIC (a perfect fit, SSE = 0) compares as the smallest.
        let best = (0..fits.len())
            .min_by(|&a, &b| {
                let (x, y) = (fits[a].candidate.aic, fits[b].candidate.aic);
                x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal)
            })
            .unwrap_or(0);
        let fit = fits.swap_remove(best);
        let n = g.spend.len();
        let names = fit.curve.parameter_names();
        let params = fit.curve.parameters();
        let free = (fit.covariance.len() as f64).sqrt() as usize;
        let estimates = params
            .iter()
            .enumerate()
            .map(|(i, &value)| Estimate {
                name: names[i].to_string(),
                value,
                se: if i < free {
                    fit.covariance[i * free + i].sqrt()
                } else {
                    0.0
                },
            })
            .collect();
        let report = CurveReport {
            group: g.name.clone(),
            n,
            family: fit.curve.family(),
            estimates,
            sse: fit.candidate.sse,
            rmse: (fit.candidate.sse / n as f64).sqrt(),
            residual_variance: fit.s2,
            aic: fit.candidate.aic,
            iterations: fit.candidate.iterations,
            termination: fit.candidate.termination,
            candidates,
        };
        Ok((
            GroupResponse {
                group: g.name.clone(),
                curve: fit.curve,
                covariance: fit.covariance,
                dof: n - free,
            },
            report,
        ))
    }

    fn fit_family(&self, g: &SpendGroup, family: CurveFamily) -> Result<FamilyFit> {
        let fixed_k = match family {
            CurveFamily::Hill => self.hill_k,
            CurveFamily::Exponential => None,
        };
        let p = match (family, fixed_k) {
            (CurveFamily::Hill, None) => 3,
            _ => 2,
        };
        let n = g.spend.len();
        if n < p + 1 {
            return Err(Error::Degenerate {
                input: format!("group `{}`", g.name),
                reason: format!(
                    "{n} observations; the {family:?} curve needs at least {} ({p} parameters \
                     and one residual degree of freedom)",
                    p + 1
                ),
            });
        }
        let mut distinct: Vec<f64> = g.spend.iter().copied().filter(|&s| s > 0.0).collect();
        distinct.sort_by(f64::total_cmp);
        distinct.dedup();
        if distinct.len() < p {
            return Err(Error::Degenerate {
                input: format!("group `{}`", g.name),
                reason: format!(
                    "{} distinct positive spends; the {family:?} curve needs at least {p}",
                    distinct.len()
                ),
            });
        }
        let curve_of = move |t: &[f64]| match family {
            CurveFamily::Hill => ResponseCurve::Hill {
                top: t[0],
                half: t[1],
                k: fixed_k.unwrap_or_else(|| t[2]),
            },
            CurveFamily::Exponential => ResponseCurve::Exponential {
                top: t[0],
                scale: t[1],
            },
        };
        let problem = LeastSquares {
            n,
            residuals: |t: &[f64], r: &mut [f64]| {
                let c = curve_of(t);
                for ((r, &s), &y) in r.iter_mut().zip(&g.spend).zip(&g.outcome) {
                    *r = y - c.value(s);
                }
            },
            jacobian: |t: &[f64], jac: &mut [f64]| {
                let c = curve_of(t);
                for (row, &s) in jac.chunks_mut(p).zip(&g.spend) {
                    c.gradient(s, row);
                }
            },
            // Every parameter stays > 0: a step that would leave is cut to a tenth of
            // the current value.
            project: |t: &[f64], next: &mut [f64]| {
                for (x, &cur) in next.iter_mut().zip(t) {
                    if x.is_nan() || *x <= 0.0 {
                        *x = cur / 10.0;
                    }
                }
            },
        };
        let start = grid_start(g, family, fixed_k).ok_or_else(|| Error::Degenerate {
            input: format!("group `{}`", g.name),
            reason: format!(
                "no {family:?} curve with a positive saturation level fits the outcomes"
            ),
        })?;
        let NlsRun {
            theta,
            sse,
            iterations,
            termination,
        } = problem.levenberg_marquardt(&start, self.tolerance, self.max_iterations);
        let s2 = sse / (n - p) as f64;
        let covariance = problem.covariance(&theta, s2);
        let aic = n as f64 * (sse / n as f64).ln() + 2.0 * (p + 1) as f64;
        Ok(FamilyFit {
            curve: curve_of(&theta),
            covariance,
            s2,
            candidate: CandidateFit {
                family,
                sse,
                aic,
                iterations,
                termination,
            },
        })
    }
}

struct FamilyFit {
    curve: ResponseCurve,
    covariance: Vec<f64>,
    s2: f64,
    candidate: CandidateFit,
}

/// The best point of a grid: the scale (or half-saturation spend) at multiples of the
/// mean positive spend, k in {0.5, 1, 1.5, 2, 3} unless fixed, and top the least-squares
/// multiplier Σ y g / Σ g² of each curve shape g. `None` when no grid point has top > 0.
fn grid_start(g: &SpendGroup, family: CurveFamily, fixed_k: Option<f64>) -> Option<Vec<f64>> {
    const MULTIPLES: [f64; 9] = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0];
    const KS: [f64; 5] = [0.5, 1.0, 1.5, 2.0, 3.0];
    let positive: Vec<f64> = g.spend.iter().copied().filter(|&s| s > 0.0).collect();
    let mean = positive.iter().sum::<f64>() / positive.len() as f64;
    let ks: Vec<f64> = match (family, fixed_k) {
        (CurveFamily::Exponential, _) => vec![1.0],
        (CurveFamily::Hill, Some(k)) => vec![k],
        (CurveFamily::Hill, None) => KS.to_vec(),
    };
    let mut best: Option<(Vec<f64>, f64)> = None;
    for &m in &MULTIPLES {
        for &k in &ks {
            let shape = match family {
                CurveFamily::Hill => ResponseCurve::Hill {
                    top: 1.0,
                    half: m * mean,
                    k,
                },
                CurveFamily::Exponential => ResponseCurve::Exponential {
                    top: 1.0,
                    scale: m * mean,
                },
            };
            let (mut yg, mut gg) = (0.0, 0.0);
            for (&s, &y) in g.spend.iter().zip(&g.outcome) {
                let v = shape.value(s);
                yg += y * v;
                gg += v * v;
            }
            let top = yg / gg;
            if !(top.is_finite() && top > 0.0) {
                continue;
            }
            let sse: f64 = g
                .spend
                .iter()
                .zip(&g.outcome)
                .map(|(&s, &y)| (y - top * shape.value(s)).powi(2))
                .sum();
            if best.as_ref().map_or(true, |(_, b)| sse < *b) {
                let theta = match (family, fixed_k) {
                    (CurveFamily::Hill, None) => vec![top, m * mean, k],
                    _ => vec![top, m * mean],
                };
                best = Some((theta, sse));
            }
        }
    }
    best.map(|(t, _)| t)
}

/// Settings of an allocation. Defaults: every group's bounds [0, ∞), margin 1, no
/// current spends, bands at 95 % confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllocationOptions {
    budget: f64,
    bounds: BTreeMap<String, (f64, f64)>,
    margins: BTreeMap<String, f64>,
    margin: f64,
    current: Option<BTreeMap<String, f64>>,
    confidence: f64,
}

impl AllocationOptions {
    /// An allocation of `budget` (finite, > 0), all of it spent.
    pub fn new(budget: f64) -> Self {
        AllocationOptions {
            budget,
            bounds: BTreeMap::new(),
            margins: BTreeMap::new(),
            margin: 1.0,
            current: None,
            confidence: 0.95,
        }
    }

    /// Bounds lo ≤ spend ≤ hi of one group (0 ≤ lo ≤ hi; hi may be +∞).
    pub fn bounds(mut self, group: impl Into<String>, lo: f64, hi: f64) -> Self {
        self.bounds.insert(group.into(), (lo, hi));
        self
    }

    /// The value of one unit of outcome (> 0) for every group not named by
    /// [`group_margin`](Self::group_margin); 1 when the outcome is already money.
    pub fn margin(mut self, margin: f64) -> Self {
        self.margin = margin;
        self
    }

    /// The value of one unit of outcome (> 0) of one group.
    pub fn group_margin(mut self, group: impl Into<String>, margin: f64) -> Self {
        self.margins.insert(group.into(), margin);
        self
    }

    /// The current spend of each group (every group, ≥ 0), to compare the optimum with.
    pub fn current<S: Into<String>>(mut self, spends: impl IntoIterator<Item = (S, f64)>) -> Self {
        self.current = Some(spends.into_iter().map(|(g, s)| (g.into(), s)).collect());
        self
    }

    /// Confidence level of the bands, in (0, 1).
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// Checks every option on its own (also done by [`compute`](Self::compute), which
    /// also checks them against the groups).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        positive("budget", self.budget)?;
        positive("margin", self.margin)?;
        for (g, &(lo, hi)) in &self.bounds {
            if !(lo.is_finite() && lo >= 0.0 && hi >= lo) {
                return Err(Error::option(
                    "bounds",
                    format!("{g}={lo}:{hi}"),
                    "0 ≤ lo ≤ hi, lo finite",
                ));
            }
        }
        for &m in self.margins.values() {
            positive("group_margin", m)?;
        }
        if let Some(current) = &self.current {
            for (g, &s) in current {
                if !(s.is_finite() && s >= 0.0) {
                    return Err(Error::option("current", format!("{g}={s}"), "a spend ≥ 0"));
                }
            }
        }
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::option(
                "confidence",
                self.confidence,
                "a level in (0, 1)",
            ));
        }
        Ok(())
    }

    /// The allocation of the budget that maximises the expected total value (see the
    /// module documentation), with bands, returns, and the comparison with the current
    /// spends when given.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an option out of its domain, for a budget outside
    /// [Σ lo, Σ hi], or for current spends that leave a group out;
    /// [`Error::UnknownId`] for bounds, margins or current spends naming no group.
    pub fn compute(&self, responses: &Responses) -> Result<Allocation> {
        self.validate()?;
        let known = |g: &String| -> Result<()> {
            if responses.get(g).is_none() {
                return Err(Error::UnknownId {
                    kind: "group".into(),
                    id: g.clone(),
                });
            }
            Ok(())
        };
        for g in self.bounds.keys().chain(self.margins.keys()) {
            known(g)?;
        }
        if let Some(current) = &self.current {
            for g in current.keys() {
                known(g)?;
            }
            if let Some(missing) = responses
                .groups
                .iter()
                .find(|r| !current.contains_key(&r.group))
            {
                return Err(Error::option(
                    "current",
                    format!("no spend for `{}`", missing.group),
                    "a current spend for every group",
                ));
            }
        }
        let items: Vec<Item> = responses
            .groups
            .iter()
            .map(|r| {
                let (lo, hi) = self
                    .bounds
                    .get(&r.group)
                    .copied()
                    .unwrap_or((0.0, f64::INFINITY));
                let w = self.margins.get(&r.group).copied().unwrap_or(self.margin);
                Item::new(r.curve, w, lo, hi)
            })
            .collect();
        let (sum_lo, sum_hi) = items
            .iter()
            .fold((0.0, 0.0), |(a, b), it| (a + it.lo, b + it.hi));
        if self.budget < sum_lo || self.budget > sum_hi {
            return Err(Error::option(
                "budget",
                self.budget,
                format!("a budget between the lower bounds' sum {sum_lo} and the upper bounds' sum {sum_hi}"),
            ));
        }
        let relaxed = solve(&items, self.budget);
        let bound = envelope_value(&items, &relaxed.spends);
        // Exact when the envelope's optimum is a true allocation: no group inside the
        // linear piece of its envelope (then the rounding below changes nothing).
        let exact = relaxed
            .spends
            .iter()
            .zip(&items)
            .all(|(&s, it)| !it.inside_linear(s));
        let spends = round_linear_pieces(&items, self.budget, relaxed.spends.clone());
        let quantile = |dof: usize| {
            if dof == 0 {
                return f64::NAN;
            }
            StudentsT::new(0.0, 1.0, dof as f64)
                .map_or(f64::NAN, |t| t.inverse_cdf(0.5 + self.confidence / 2.0))
        };
        let z =
            Normal::new(0.0, 1.0).map_or(f64::NAN, |n| n.inverse_cdf(0.5 + self.confidence / 2.0));
        let rows = |spends: &[f64]| -> Vec<GroupAllocation> {
            responses
                .groups
                .iter()
                .zip(&items)
                .zip(spends)
                .map(|((r, it), &s)| {
                    let Expected { value: y, se } = r.outcome(s);
                    let q = quantile(r.dof);
                    GroupAllocation {
                        group: r.group.clone(),
                        spend: s,
                        lower: it.lo,
                        upper: Some(it.hi).filter(|h| h.is_finite()),
                        outcome: y,
                        outcome_se: se,
                        outcome_low: y - q * se,
                        outcome_high: y + q * se,
                        margin: it.w,
                        value: it.w * y,
                        marginal_roi: it.w * r.curve.marginal(s),
                        average_roi: it.w * y / s,
                    }
                })
                .collect()
        };
        let groups = rows(&spends);
        let total = Total::of(&groups, z);
        let current = self.current.as_ref().map(|current| {
            let spends: Vec<f64> = responses.groups.iter().map(|r| current[&r.group]).collect();
            let groups = rows(&spends);
            let total = Total::of(&groups, z);
            CurrentAllocation { groups, total }
        });
        let gain = current.as_ref().map(|c| total.value - c.total.value);
        Ok(Allocation {
            budget: self.budget,
            confidence: self.confidence,
            groups,
            total,
            marginal_value: relaxed.lambda,
            exact,
            envelope_bound: bound,
            current,
            gain,
        })
    }
}

/// One group's share of an allocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupAllocation {
    /// The group.
    pub group: String,
    /// Its spend.
    pub spend: f64,
    /// Its lower bound.
    pub lower: f64,
    /// Its upper bound (`None` when unbounded).
    pub upper: Option<f64>,
    /// The expected outcome y(spend).
    pub outcome: f64,
    /// Its standard error by the delta method (NaN for a curve given by hand).
    #[serde(deserialize_with = "nan_if_null")]
    pub outcome_se: f64,
    /// Lower end of the confidence band of the expected outcome.
    #[serde(deserialize_with = "nan_if_null")]
    pub outcome_low: f64,
    /// Upper end.
    #[serde(deserialize_with = "nan_if_null")]
    pub outcome_high: f64,
    /// The value of one unit of outcome.
    pub margin: f64,
    /// margin × outcome.
    pub value: f64,
    /// margin × y'(spend): the value of the next unit of spend.
    #[serde(deserialize_with = "nan_if_null")]
    pub marginal_roi: f64,
    /// margin × y(spend)/spend: value per unit spent (NaN at spend 0).
    #[serde(deserialize_with = "nan_if_null")]
    pub average_roi: f64,
}

/// Totals over the groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Total {
    /// Σ spend.
    pub spend: f64,
    /// Σ outcome (meaningful when the outcomes share a unit).
    pub outcome: f64,
    /// Σ value.
    pub value: f64,
    /// √(Σ (margin · outcome_se)²).
    #[serde(deserialize_with = "nan_if_null")]
    pub value_se: f64,
    /// Lower end of the value's band (normal quantile).
    #[serde(deserialize_with = "nan_if_null")]
    pub value_low: f64,
    /// Upper end.
    #[serde(deserialize_with = "nan_if_null")]
    pub value_high: f64,
}

impl Total {
    fn of(groups: &[GroupAllocation], z: f64) -> Total {
        let spend = groups.iter().map(|g| g.spend).sum();
        let outcome = groups.iter().map(|g| g.outcome).sum();
        let value: f64 = groups.iter().map(|g| g.value).sum();
        let var: f64 = groups
            .iter()
            .map(|g| (g.margin * g.outcome_se).powi(2))
            .sum();
        let se = var.sqrt();
        Total {
            spend,
            outcome,
            value,
            value_se: se,
            value_low: value - z * se,
            value_high: value + z * se,
        }
    }
}

/// The current spends evaluated on the same curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurrentAllocation {
    /// Per group, as for the optimum.
    pub groups: Vec<GroupAllocation>,
    /// Totals.
    pub total: Total,
}

/// The allocation of a budget.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Allocation {
    /// The budget.
    pub budget: f64,
    /// Confidence level of the bands.
    pub confidence: f64,
    /// Per group, aligned with [`Responses::groups`].
    pub groups: Vec<GroupAllocation>,
    /// Totals.
    pub total: Total,
    /// The common marginal value λ of the groups not at a bound (of the envelopes, for
    /// S-shaped curves).
    #[serde(deserialize_with = "nan_if_null")]
    pub marginal_value: f64,
    /// Whether the allocation is the exact optimum: always for concave curves; for
    /// S-shaped ones when no group ended inside the linear piece of its envelope.
    pub exact: bool,
    /// The optimum of the envelope problem: an upper bound of the total value any
    /// allocation reaches (equal to it, to rounding, when exact).
    #[serde(deserialize_with = "nan_if_null")]
    pub envelope_bound: f64,
    /// The current spends on the same curves, when given.
    pub current: Option<CurrentAllocation>,
    /// Total value of the optimum minus that of the current spends.
    pub gain: Option<f64>,
}

/// A group as the solver sees it: its curve, margin, bounds, and its concave envelope
/// on [lo, hi]: linear from lo to `tangent` with slope `slope`, the curve after.
#[derive(Debug, Clone, Copy)]
struct Item {
    curve: ResponseCurve,
    w: f64,
    lo: f64,
    hi: f64,
    tangent: f64,
    slope: f64,
}

impl Item {
    fn new(curve: ResponseCurve, w: f64, lo: f64, hi: f64) -> Item {
        let mut item = Item {
            curve,
            w,
            lo,
            hi,
            tangent: lo,
            slope: f64::NAN,
        };
        if lo >= curve.inflection() || lo >= hi {
            return item;
        }
        // g(s) = y'(s)(s − lo) − (y(s) − y(lo)) is positive at the inflection and falls
        // past it (g' = y''(s)(s − lo) < 0) to −(top − y(lo)) < 0: its root is the
        // tangent point.
        let y_lo = curve.value(lo);
        let g = |s: f64| curve.marginal(s) * (s - lo) - (curve.value(s) - y_lo);
        let a = curve.inflection();
        let mut b = a.max(lo) * 2.0 + 1.0;
        while g(b) > 0.0 && b.is_finite() {
            b *= 2.0;
        }
        let t = bisect(a, b, |s| g(s) > 0.0);
        if t >= hi {
            item.tangent = hi;
            item.slope = (curve.value(hi) - y_lo) / (hi - lo);
        } else {
            item.tangent = t;
            item.slope = (curve.value(t) - y_lo) / (t - lo);
        }
        item
    }

    fn has_linear(&self) -> bool {
        self.tangent > self.lo
    }

    fn inside_linear(&self, s: f64) -> bool {
        self.has_linear() && s > self.lo && s < self.tangent
    }

    /// The envelope's spend at the common marginal value λ.
    fn spend(&self, lambda: f64) -> f64 {
        let mu = lambda / self.w;
        if self.has_linear() {
            if mu > self.slope {
                return self.lo;
            }
            if self.tangent >= self.hi {
                return self.hi;
            }
            return self
                .curve
                .spend_at_marginal(mu)
                .max(self.tangent)
                .clamp(self.lo, self.hi);
        }
        self.curve.spend_at_marginal(mu).clamp(self.lo, self.hi)
    }

    /// The envelope's value at spend s.
    fn envelope(&self, s: f64) -> f64 {
        if self.inside_linear(s) {
            self.w * (self.curve.value(self.lo) + self.slope * (s - self.lo))
        } else {
            self.w * self.curve.value(s)
        }
    }
}

fn envelope_value(items: &[Item], spends: &[f64]) -> f64 {
    items
        .iter()
        .zip(spends)
        .map(|(it, &s)| it.envelope(s))
        .sum()
}

struct Solution {
    spends: Vec<f64>,
    lambda: f64,
}

/// The envelope problem's optimum for a feasible budget (Σ lo ≤ budget ≤ Σ hi).
fn solve(items: &[Item], budget: f64) -> Solution {
    let total = |lambda: f64| -> f64 { items.iter().map(|it| it.spend(lambda)).sum() };
    let sum_lo: f64 = items.iter().map(|it| it.lo).sum();
    if budget <= sum_lo {
        return Solution {
            spends: items.iter().map(|it| it.lo).collect(),
            lambda: f64::NAN,
        };
    }
    // Bracket λ: total(hi) ≤ budget ≤ total(lo).
    let (mut lo, mut hi) = (0.5, 1.0);
    while total(hi) > budget && hi < f64::MAX / 4.0 {
        lo = hi;
        hi *= 2.0;
    }
    while total(lo) < budget && lo > f64::MIN_POSITIVE * 4.0 {
        hi = lo;
        lo *= 0.5;
    }
    loop {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if total(mid) > budget {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    // Start from the spends at hi (total ≤ budget) and hand the rest to the groups whose
    // spend is larger at lo, in order: the rounding residue for concave curves, the
    // position inside a linear piece for an envelope.
    let at_hi: Vec<f64> = items.iter().map(|it| it.spend(hi)).collect();
    let at_lo: Vec<f64> = items.iter().map(|it| it.spend(lo)).collect();
    let mut rest = budget - at_hi.iter().sum::<f64>();
    let mut spends = at_hi;
    for (s, &up) in spends.iter_mut().zip(&at_lo) {
        if rest <= 0.0 {
            break;
        }
        let add = (up - *s).min(rest).max(0.0);
        *s += add;
        rest -= add;
    }
    Solution {
        spends,
        lambda: 0.5 * (lo + hi),
    }
}

/// Σ w y(s) on the true curves.
fn true_value(items: &[Item], spends: &[f64]) -> f64 {
    items
        .iter()
        .zip(spends)
        .map(|(it, &s)| it.w * it.curve.value(s))
        .sum()
}

/// For S-shaped curves: a group left inside the linear piece of its envelope gets a
/// spend on its true curve. Candidates: the smallest and the largest spend the others'
/// bounds and its piece allow, and, where its curve is concave (past the inflection),
/// the spend whose marginal value equals that of the others re-solved for the budget
/// left (the sum of two concave functions there: bisection on the difference of the
/// marginals). Each candidate is pinned, the others re-solved, and the allocation valued
/// on the true curves; the best is kept and the same is done for the next group inside
/// its linear piece. Every allocation valued is feasible, and the best of all of them
/// (the relaxed one included) is returned.
fn round_linear_pieces(items: &[Item], budget: f64, spends: Vec<f64>) -> Vec<f64> {
    let mut items = items.to_vec();
    let mut best_seen = (true_value(&items, &spends), spends.clone());
    let mut spends = spends;
    while let Some(i) = (0..items.len()).find(|&i| items[i].inside_linear(spends[i])) {
        let it = items[i];
        let (lo_o, hi_o) = items
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .fold((0.0, 0.0), |(a, b), (_, o)| (a + o.lo, b + o.hi));
        let xmin = it.lo.max(budget - hi_o);
        let xmax = it.tangent.min(it.hi).min(budget - lo_o);
        // The pinned spend x: the true value of the allocation, the spends, and the
        // others' common marginal value.
        let pinned = |x: f64| -> (f64, Vec<f64>, f64) {
            let mut trial = items.clone();
            trial[i] = Item::new(it.curve, it.w, x, x);
            let sol = solve(&trial, budget);
            (true_value(&trial, &sol.spends), sol.spends, sol.lambda)
        };
        let mut candidates = vec![xmin, xmax];
        let a = it.curve.inflection().max(xmin);
        if a < xmax {
            // d(x) = w y'(x) − λ(x) falls on [a, xmax]: y' falls and the others' λ
            // rises as their budget shrinks.
            let d = |x: f64| it.w * it.curve.marginal(x) - pinned(x).2;
            if d(a) > 0.0 && d(xmax) < 0.0 {
                candidates.push(bisect(a, xmax, |x| d(x) > 0.0));
            }
        }
        let mut best: Option<(f64, Vec<f64>, f64)> = None;
        for x in candidates {
            if !(x >= xmin && x <= xmax) {
                continue;
            }
            let (v, s, _) = pinned(x);
            if best.as_ref().map_or(true, |(bv, _, _)| v > *bv) {
                best = Some((v, s, x));
            }
        }
        let Some((v, s, x)) = best else {
            // No feasible spend for it (cannot happen for a feasible budget: the
            // relaxed solution's own spend lies in [xmin, xmax]).
            break;
        };
        if v > best_seen.0 {
            best_seen = (v, s.clone());
        }
        spends = s;
        items[i] = Item::new(it.curve, it.w, x, x);
    }
    best_seen.1
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;

    fn curves() -> [ResponseCurve; 4] {
        [
            ResponseCurve::hill(500.0, 200.0, 3.0).unwrap(),
            ResponseCurve::hill(400.0, 120.0, 1.0).unwrap(),
            ResponseCurve::hill(300.0, 80.0, 0.6).unwrap(),
            ResponseCurve::exponential(150.0, 80.0).unwrap(),
        ]
    }

    #[test]
    fn derivatives_match_finite_differences() {
        for c in curves() {
            for s in [1.0, 37.0, 150.0, 900.0] {
                let h = 1e-5 * s;
                let numeric = (c.value(s + h) - c.value(s - h)) / (2.0 * h);
                assert_relative_eq!(c.marginal(s), numeric, max_relative = 1e-7);
                let theta = c.parameters();
                let mut g = vec![0.0; theta.len()];
                c.gradient(s, &mut g);
                for i in 0..theta.len() {
                    let step = 1e-6 * theta[i];
                    let at = |d: f64| {
                        let mut t = theta.clone();
                        t[i] += d;
                        match c {
                            ResponseCurve::Hill { .. } => ResponseCurve::Hill {
                                top: t[0],
                                half: t[1],
                                k: t[2],
                            },
                            ResponseCurve::Exponential { .. } => ResponseCurve::Exponential {
                                top: t[0],
                                scale: t[1],
                            },
                        }
                        .value(s)
                    };
                    let numeric = (at(step) - at(-step)) / (2.0 * step);
                    assert_relative_eq!(g[i], numeric, max_relative = 1e-6, epsilon = 1e-12);
                }
            }
        }
        // No overflow far out on a steep curve: (s/half)ᵏ = 10⁴⁰⁰ is not a double.
        let steep = ResponseCurve::hill(10.0, 1.0, 400.0).unwrap();
        assert_relative_eq!(steep.value(10.0), 10.0);
        assert_relative_eq!(steep.marginal(10.0), 0.0);
        let mut g = [0.0; 3];
        steep.gradient(10.0, &mut g);
        assert!(g.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn spend_at_marginal_inverts_the_marginal() {
        for c in curves() {
            for mu in [0.01, 0.3, 1.0] {
                let s = c.spend_at_marginal(mu);
                if s > c.inflection() {
                    assert_relative_eq!(c.marginal(s), mu, max_relative = 1e-9);
                }
            }
        }
        // The inflection of an S-shaped Hill curve is where the marginal peaks.
        let c = curves()[0];
        let a = c.inflection();
        assert_relative_eq!(a, 200.0 * 0.5f64.powf(1.0 / 3.0), max_relative = 1e-15);
        assert!(c.marginal(a) > c.marginal(a * 0.999) && c.marginal(a) > c.marginal(a * 1.001));
    }

    #[test]
    fn envelope_touches_the_curve_at_the_tangent() {
        // Hill k = 2 from 0: y'(t) t = y(t) at u = k − 1, t = half (k − 1)^{1/k}.
        let it = Item::new(
            ResponseCurve::hill(400.0, 120.0, 2.0).unwrap(),
            1.0,
            0.0,
            f64::INFINITY,
        );
        assert_relative_eq!(it.tangent, 120.0, max_relative = 1e-12);
        assert_relative_eq!(it.slope, 200.0 / 120.0, max_relative = 1e-12);
        // Below the tangent the envelope is the line, above the curve.
        assert_relative_eq!(it.envelope(60.0), 100.0, max_relative = 1e-12);
        assert!(it.envelope(60.0) > it.curve.value(60.0));
        // An upper bound before the tangent: the chord to it.
        let it = Item::new(it.curve, 1.0, 0.0, 60.0);
        assert_relative_eq!(it.tangent, 60.0);
        assert_relative_eq!(it.slope, 80.0 / 60.0, max_relative = 1e-12);
        // A lower bound past the inflection: concave there, no linear piece.
        let it = Item::new(it.curve, 1.0, 100.0, 500.0);
        assert!(!it.has_linear());
    }

    #[test]
    fn a_budget_below_the_tangent_goes_where_it_earns_most() {
        // With 60 to spend, the S-shaped b (y(60) = 80) beats the concave c
        // (150(1 − e^{−0.75}) = 79.15), though the envelope puts b inside its linear
        // piece: the rounding values the candidates on the true curves.
        let items = [
            Item::new(curves()[0], 1.0, 0.0, f64::INFINITY),
            Item::new(
                ResponseCurve::hill(400.0, 120.0, 2.0).unwrap(),
                1.0,
                0.0,
                f64::INFINITY,
            ),
            Item::new(curves()[3], 1.0, 0.0, f64::INFINITY),
        ];
        let relaxed = solve(&items, 60.0);
        assert!(items[1].inside_linear(relaxed.spends[1]));
        let spends = round_linear_pieces(&items, 60.0, relaxed.spends);
        assert_eq!(spends, [0.0, 60.0, 0.0]);
    }
}
