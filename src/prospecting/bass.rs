//! Acquisition forecast: the Bass diffusion model of new customers per period, fitted by
//! nonlinear least squares (Srinivasan & Mason 1986) or by Bass's (1969) regression, per
//! customer category or acquisition channel.
//!
//! # The model
//!
//! Of a market of m eventual adopters, the fraction adopted by time t after launch is
//!
//! ```text
//! F(t) = (1 − e^{−(p+q)t}) / (1 + (q/p) e^{−(p+q)t}),   f(t) = F'(t)
//!      = ((p+q)²/p) e^{−(p+q)t} / (1 + (q/p) e^{−(p+q)t})²
//! ```
//!
//! with p the coefficient of innovation (adoption from outside the adopters) and q the
//! coefficient of imitation (adoption through them). The new customers of period t, which
//! spans (t − 1, t], are S(t) = m (F(t) − F(t − 1)); the adoption rate m f(t) peaks at
//! t* = ln(q/p)/(p + q) at the rate m(p + q)²/(4q) when q > p, and falls from launch
//! (t* = 0, rate m p) otherwise.
//!
//! # Fitting
//!
//! - [`BassMethod::Nls`] (default): minimises Σ (yₜ − m(F(t) − F(t − 1)))² over p, q, m
//!   (Srinivasan & Mason 1986, "Nonlinear least squares estimation of new product
//!   diffusion models", *Marketing Science* 5(2)), by Levenberg–Marquardt with the
//!   analytic Jacobian, started from the regression's estimates (from a grid when those
//!   are not valid). Standard errors are those of the linearised model,
//!   Cov = s² (JᵀJ)⁻¹ with s² = SSE/(n − 3): what scipy's `curve_fit` reports as `pcov`
//!   with `absolute_sigma=False`.
//! - [`BassMethod::Ols`]: Bass's (1969) discrete analogue, the regression
//!   Sₜ = a + b Nₜ₋₁ + c Nₜ₋₁² with N the cumulative new customers before period t, then
//!   m = (−b − √(b² − 4ac))/(2c), p = a/m, q = −c m; their standard errors by the delta
//!   method on the regression's covariance. It needs the periods 1, 2, …, n without gaps.
//!
//! Either way the report's SSE and RMSE = √(SSE/n) are those of the Bass curve
//! m(F(t) − F(t − 1)) at the estimates, so the two methods compare.
//!
//! # What the forecast intervals cover
//!
//! For each future period t the report gives the expected new customers S(t) and the
//! cumulative m F(t). The sales band is a **prediction** interval for the period's new
//! customers, S(t) ± t_{n−3} √(gᵀ Cov g + s²), with g the gradient of S(t) in (p, q, m)
//! (delta method), so it holds both the parameters' uncertainty and the period's own
//! noise (s², the residual variance of the fit: SSE/(n − 3), or the regression's
//! rss/(n − 3) for the OLS method); t_{n−3} is Student's t quantile at the confidence
//! level. The cumulative band is a **confidence** interval of the curve m F(t),
//! m F(t) ± t_{n−3} √(gᵀ Cov g), parameters only. Both are symmetric and not truncated
//! at 0, and they assume the model is right.
//!
//! ```
//! use acrm::prospecting::{Bass, BassOptions, Series};
//! // Twelve periods of the curve p = 0.03, q = 0.38, m = 1000: the fit recovers it.
//! let truth = Bass::new(0.03, 0.38, 1000.0)?;
//! let series = Series::new((1..=12).map(|t| truth.sales(t as f64)).collect())?;
//! let fit = BassOptions::new().horizon(3).fit(&series)?;
//! assert!((fit.model.q() / 0.38 - 1.0).abs() < 1e-8);
//! assert!((fit.report.peak.time - (0.38f64 / 0.03).ln() / 0.41).abs() < 1e-6);
//! assert_eq!(fit.report.forecast.len(), 3);
//! # Ok::<(), acrm::Error>(())
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::data::{Area, ScopeTag};
use crate::error::{Error, Result};
use crate::numerics::{Fitted, LeastSquares, NlsTermination};

/// A Bass diffusion curve: coefficient of innovation p > 0, of imitation q ≥ 0, market
/// potential m > 0 (time in periods since launch).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bass {
    p: f64,
    q: f64,
    m: f64,
}

/// Where the adoption rate peaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PeakKind {
    /// q > p: the rate rises to a peak at t* = ln(q/p)/(p + q) > 0.
    Interior,
    /// q ≤ p: the rate is highest at launch (t = 0, rate m p) and falls from there.
    AtLaunch,
}

/// The peak of the adoption rate m f(t).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Peak {
    /// Time of the peak (periods since launch): ln(q/p)/(p + q), or 0 at launch.
    pub time: f64,
    /// The adoption rate there (new customers per period): m(p + q)²/(4q), or m p.
    pub rate: f64,
    /// Whether the peak is inside the curve or at launch.
    pub kind: PeakKind,
}

/// One period of a Bass curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BassPoint {
    /// The period (its end, in periods since launch).
    pub t: f64,
    /// New customers in the period, m(F(t) − F(t − 1)).
    pub sales: f64,
    /// Cumulative customers at its end, m F(t).
    pub cumulative: f64,
}

impl Bass {
    /// The curve with coefficients `p`, `q` and market potential `m`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless p > 0, q ≥ 0 and m > 0, all finite.
    pub fn new(p: f64, q: f64, m: f64) -> Result<Bass> {
        if !(p.is_finite() && p > 0.0) {
            return Err(Error::option("p", p, "a finite number > 0"));
        }
        if !(q.is_finite() && q >= 0.0) {
            return Err(Error::option("q", q, "a finite number ≥ 0"));
        }
        if !(m.is_finite() && m > 0.0) {
            return Err(Error::option("m", m, "a finite number > 0"));
        }
        Ok(Bass { p, q, m })
    }

    /// Coefficient of innovation p.
    pub fn p(&self) -> f64 {
        self.p
    }

    /// Coefficient of imitation q.
    pub fn q(&self) -> f64 {
        self.q
    }

    /// Market potential m.
    pub fn m(&self) -> f64 {
        self.m
    }

    /// The fraction adopted by time t, F(t) (0 for t ≤ 0).
    pub fn fraction(&self, t: f64) -> f64 {
        fraction(self.p, self.q, t)
    }

    /// The density f(t) = F'(t) (0 for t < 0).
    pub fn density(&self, t: f64) -> f64 {
        if t < 0.0 {
            return 0.0;
        }
        let (p, q) = (self.p, self.q);
        let e = (-(p + q) * t).exp();
        let d = 1.0 + (q / p) * e;
        (p + q).powi(2) / p * e / (d * d)
    }

    /// Cumulative adopters by time t, m F(t).
    pub fn cumulative(&self, t: f64) -> f64 {
        self.m * self.fraction(t)
    }

    /// New adopters in period t, which spans (t − 1, t]: m(F(t) − F(t − 1)).
    pub fn sales(&self, t: f64) -> f64 {
        self.m * share(self.p, self.q, t)
    }

    /// The adoption rate at time t, m f(t) (new adopters per period).
    pub fn rate(&self, t: f64) -> f64 {
        self.m * self.density(t)
    }

    /// Where the adoption rate peaks (see [`PeakKind`]).
    pub fn peak(&self) -> Peak {
        let (p, q, m) = (self.p, self.q, self.m);
        if q > p {
            Peak {
                time: (q / p).ln() / (p + q),
                rate: m * (p + q).powi(2) / (4.0 * q),
                kind: PeakKind::Interior,
            }
        } else {
            // f(0) = p: with q ≤ p the density only falls.
            Peak {
                time: 0.0,
                rate: m * p,
                kind: PeakKind::AtLaunch,
            }
        }
    }

    /// The `h` periods after period `after`: t = after + 1, …, after + h.
    pub fn forecast(&self, after: f64, h: u32) -> Vec<BassPoint> {
        (1..=h)
            .map(|k| {
                let t = after + f64::from(k);
                BassPoint {
                    t,
                    sales: self.sales(t),
                    cumulative: self.cumulative(t),
                }
            })
            .collect()
    }
}

/// F(t) for p > 0, q ≥ 0; 0 for t ≤ 0. `expm1` keeps 1 − e^{−st} exact for small st.
fn fraction(p: f64, q: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    let x = -(p + q) * t;
    -x.exp_m1() / (1.0 + (q / p) * x.exp())
}

/// F(t) − F(t − 1), the share of the market adopting in period t. Past the middle of
/// the curve it is taken as the difference of the tails 1 − F = (1 + r)E/(1 + rE), with
/// E = e^{−(p+q)t} and r = q/p: both are small there, so the difference keeps its
/// relative precision where F(t) − F(t − 1) would cancel.
fn share(p: f64, q: f64, t: f64) -> f64 {
    if t <= 0.0 {
        return 0.0;
    }
    let f = fraction(p, q, t);
    if f < 0.5 || t <= 1.0 {
        return f - fraction(p, q, t - 1.0);
    }
    let r = q / p;
    let tail = |t: f64| {
        let e = (-(p + q) * t).exp();
        (1.0 + r) * e / (1.0 + r * e)
    };
    tail(t - 1.0) - tail(t)
}

/// F(t) and its derivatives in p and q. With E = e^{−(p+q)t} and r = q/p,
/// dF = [−(1 + r) dE − (1 − E) E dr] / (1 + rE)², dE = −tE (dp or dq),
/// dr/dp = −q/p², dr/dq = 1/p.
fn fraction_grad(p: f64, q: f64, t: f64) -> [f64; 3] {
    if t <= 0.0 {
        return [0.0; 3];
    }
    let x = -(p + q) * t;
    let (e, one_minus_e) = (x.exp(), -x.exp_m1());
    let r = q / p;
    let d = 1.0 + r * e;
    let d2 = d * d;
    let common = t * e * (1.0 + r);
    [
        one_minus_e / d,
        (common + one_minus_e * e * q / (p * p)) / d2,
        (common - one_minus_e * e / p) / d2,
    ]
}

/// The gradients in (p, q, m) of the period sales S(t) and of the cumulative m F(t).
fn curve_grads(theta: [f64; 3], t: f64) -> ([f64; 3], [f64; 3]) {
    let [p, q, m] = theta;
    let a = fraction_grad(p, q, t);
    let b = fraction_grad(p, q, t - 1.0);
    (
        [m * (a[1] - b[1]), m * (a[2] - b[2]), a[0] - b[0]],
        [m * a[1], m * a[2], a[0]],
    )
}

/// New customers per period: period numbers t (whole, ≥ 1, increasing; period t spans
/// (t − 1, t] after launch) and the count of each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    periods: Vec<f64>,
    values: Vec<f64>,
    #[serde(default)]
    scope: Option<ScopeTag>,
}

impl Series {
    /// The new customers of periods 1, 2, …, n.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] without values; [`Error::BadValue`] naming the first value
    /// that is negative or not finite.
    pub fn new(values: Vec<f64>) -> Result<Series> {
        let periods = (1..=values.len()).map(|t| t as f64).collect();
        Series::with_periods(periods, values)
    }

    /// The new customers of the given periods (gaps allowed: a period left out is not
    /// observed; the curve still starts at launch, t = 0).
    ///
    /// # Errors
    /// [`Error::EmptyInput`] without values; [`Error::LengthMismatch`] unless there is
    /// one period per value; [`Error::BadValue`] naming the first period that is not a
    /// whole number ≥ 1 above the one before, or the first value that is negative or
    /// not finite.
    pub fn with_periods(periods: Vec<f64>, values: Vec<f64>) -> Result<Series> {
        if values.is_empty() {
            return Err(Error::EmptyInput);
        }
        Error::check_len("periods", periods.len(), values.len(), "values")?;
        for (i, &t) in periods.iter().enumerate() {
            let after = if i == 0 { 0.0 } else { periods[i - 1] };
            if !(t.is_finite() && t.fract() == 0.0 && t > after) {
                let expected = if i == 0 {
                    "a whole period number ≥ 1".to_string()
                } else {
                    format!("a whole period number after {after}")
                };
                return Err(Error::bad_value("series", i, "period", t, expected));
            }
        }
        if let Some(i) = values.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
            return Err(Error::bad_value(
                "series",
                i,
                "new customers",
                values[i],
                "a finite number ≥ 0",
            ));
        }
        Ok(Series {
            periods,
            values,
            scope: None,
        })
    }

    /// The period numbers.
    pub fn periods(&self) -> &[f64] {
        &self.periods
    }

    /// The new customers of each period.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Number of periods observed.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether no period is observed (never true for a series that was built).
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The scope of the data the series was counted from, if it came through a view.
    pub fn scope(&self) -> Option<&ScopeTag> {
        self.scope.as_ref()
    }

    /// The same series, counted from data read under `scope`.
    pub(crate) fn with_scope(mut self, scope: ScopeTag) -> Self {
        self.scope = Some(scope);
        self
    }

    /// Whether the periods are 1, 2, …, n without gaps (what the OLS method needs).
    pub fn consecutive(&self) -> bool {
        self.periods
            .iter()
            .enumerate()
            .all(|(i, &t)| (t - (i + 1) as f64).abs() < 0.5)
    }
}

/// How the curve is estimated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BassMethod {
    /// Nonlinear least squares on the period sales (Srinivasan & Mason 1986).
    Nls,
    /// Bass's (1969) regression of Sₜ on 1, Nₜ₋₁, Nₜ₋₁².
    Ols,
}

/// Why an estimation stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BassTermination {
    /// The regression (OLS method) has a closed form.
    ClosedForm,
    /// Every column of the Jacobian is orthogonal to the residuals within the tolerance
    /// (|Jᵢᵀr| ≤ tol ‖Jᵢ‖ ‖r‖, MINPACK's `gtol` test), or the residuals vanish.
    GradientTolerance,
    /// The last accepted step changed each parameter by at most the tolerance, relative.
    StepTolerance,
    /// No step reduced the SSE however strongly damped: a minimum to the precision of
    /// the arithmetic.
    NoProgress,
    /// The iteration cap was reached first.
    MaxIterations,
}

impl BassTermination {
    /// Whether the estimate is at a minimum of the SSE (or is the regression's).
    pub fn converged(self) -> bool {
        !matches!(self, BassTermination::MaxIterations)
    }
}

/// Standard errors (or any triple) of p, q and m.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BassErrors {
    /// Of p.
    pub p: f64,
    /// Of q.
    pub q: f64,
    /// Of m.
    pub m: f64,
}

/// Bass's (1969) regression Sₜ = a + b Nₜ₋₁ + c Nₜ₋₁².
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BassRegression {
    /// Intercept a = p m.
    pub a: f64,
    /// Slope b = q − p.
    pub b: f64,
    /// Curvature c = −q/m.
    pub c: f64,
    /// Standard error of a (from s² (XᵀX)⁻¹, s² = rss/(n − 3)).
    pub se_a: f64,
    /// Standard error of b.
    pub se_b: f64,
    /// Standard error of c.
    pub se_c: f64,
    /// Residual sum of squares of the regression.
    pub rss: f64,
    /// R² about the mean of Sₜ.
    pub r2: f64,
}

/// One forecast period (see the module documentation for what the bands cover). The
/// standard error and the bands are NaN (null in JSON) when the parameters' covariance
/// is, that is when the information matrix is singular.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForecastRow {
    /// The period.
    pub t: f64,
    /// Expected new customers, m(F(t) − F(t − 1)).
    pub sales: f64,
    /// Expected cumulative customers at its end, m F(t).
    pub cumulative: f64,
    /// Standard error of the expected sales from the parameters (delta method).
    pub se: f64,
    /// Lower end of the prediction interval of the period's new customers.
    pub low: f64,
    /// Upper end of the prediction interval.
    pub high: f64,
    /// Lower end of the confidence interval of the cumulative curve.
    pub cumulative_low: f64,
    /// Upper end of the confidence interval of the cumulative curve.
    pub cumulative_high: f64,
}

/// What a Bass fit reports besides the curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BassReport {
    /// How the curve was estimated.
    pub method: BassMethod,
    /// Periods observed.
    pub n: usize,
    /// Σ (yₜ − m(F(t) − F(t − 1)))² at the estimate.
    pub sse: f64,
    /// √(SSE/n).
    pub rmse: f64,
    /// Residual variance s² behind the standard errors and bands: SSE/(n − 3), or the
    /// regression's rss/(n − 3).
    pub residual_variance: f64,
    /// Standard errors of p, q, m (NaN when the information matrix is singular).
    pub std_errors: BassErrors,
    /// Covariance of (p, q, m), row-major 3 × 3 (NaN when the information matrix is
    /// singular).
    pub covariance: Vec<f64>,
    /// The peak of the fitted adoption rate.
    pub peak: Peak,
    /// Confidence level of the bands.
    pub confidence: f64,
    /// The periods after the last one observed.
    pub forecast: Vec<ForecastRow>,
    /// The regression (OLS method only).
    pub regression: Option<BassRegression>,
    /// Levenberg–Marquardt iterations (0 for the OLS method).
    pub iterations: u64,
    /// Why the estimation stopped.
    pub termination: BassTermination,
    /// The scope of the data, when the series came from a view.
    #[serde(default)]
    pub scope: Option<ScopeTag>,
}

/// Settings of a Bass fit. Defaults: nonlinear least squares, a 10-period forecast at
/// 95 % confidence, tolerance 1e-10, at most 500 iterations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BassOptions {
    method: BassMethod,
    horizon: u32,
    confidence: f64,
    tolerance: f64,
    max_iterations: u64,
}

impl Default for BassOptions {
    fn default() -> Self {
        BassOptions {
            method: BassMethod::Nls,
            horizon: 10,
            confidence: 0.95,
            tolerance: 1e-10,
            max_iterations: 500,
        }
    }
}

/// Fewest periods a fit takes: three parameters and one residual degree of freedom.
const MIN_PERIODS: usize = 4;

impl BassOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The estimation method.
    pub fn method(mut self, method: BassMethod) -> Self {
        self.method = method;
        self
    }

    /// Periods to forecast after the last one observed (0 for none).
    pub fn horizon(mut self, h: u32) -> Self {
        self.horizon = h;
        self
    }

    /// Confidence level of the forecast bands, in (0, 1).
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// Convergence tolerance of the nonlinear fit (> 0): on the relative step and on the
    /// cosine between the residuals and each column of the Jacobian.
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tolerance = tol;
        self
    }

    /// Iteration cap of the nonlinear fit (≥ 1).
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::option(
                "confidence",
                self.confidence,
                "a level in (0, 1)",
            ));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::option(
                "tolerance",
                self.tolerance,
                "a finite number > 0",
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::option("max_iterations", 0, "at least 1"));
        }
        Ok(())
    }

    /// Fits the Bass curve to `series` and forecasts the periods after it.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an option out of its domain;
    /// [`Error::ForbiddenArea`] when the series' scope forbids prospecting;
    /// [`Error::LengthMismatch`] for fewer than 4 periods (p, q, m and one residual
    /// degree of freedom); [`Error::Degenerate`] for a series without new customers, a
    /// regression whose roots give no valid p, q, m (OLS method: c ≥ 0, a ≤ 0, complex
    /// roots), or periods with gaps for the OLS method; [`Error::Numerical`] when no
    /// starting point gives a finite SSE.
    pub fn fit(&self, series: &Series) -> Result<Fitted<Bass, BassReport>> {
        self.validate()?;
        if let Some(scope) = &series.scope {
            scope.require(Area::Prospecting)?;
        }
        let n = series.len();
        if n < MIN_PERIODS {
            return Err(Error::LengthMismatch {
                input: "series",
                found: n,
                expected: MIN_PERIODS,
                against: "p, q, m and one residual degree of freedom",
            });
        }
        if series.values.iter().all(|&v| v == 0.0) {
            return Err(Error::Degenerate {
                input: "series".into(),
                reason: "no new customers in any period".into(),
            });
        }
        let (theta, regression, s2, iterations, termination) = match self.method {
            BassMethod::Ols => {
                let ols = regression(series)?;
                let s2 = ols.regression.rss / (n - 3) as f64;
                (ols.theta, Some(ols), s2, 0, BassTermination::ClosedForm)
            }
            BassMethod::Nls => {
                let start = regression(series)
                    .ok()
                    .map(|r| r.theta)
                    .or_else(|| grid_start(series))
                    .ok_or_else(no_start)?;
                let mut lm = levenberg_marquardt(series, start, self);
                if !lm.termination.converged() {
                    // A second chance from the grid's best point.
                    if let Some(g) = grid_start(series) {
                        let other = levenberg_marquardt(series, g, self);
                        if other.sse < lm.sse {
                            lm = other;
                        }
                    }
                }
                let s2 = lm.sse / (n - 3) as f64;
                (lm.theta, None, s2, lm.iterations, lm.termination)
            }
        };
        let [p, q, m] = theta;
        let model = Bass::new(p, q, m).map_err(|_| Error::Numerical {
            procedure: "Bass fit",
            reason: format!("estimates p = {p}, q = {q}, m = {m} out of the model's domain"),
        })?;
        let sse = sse(series, theta);
        let covariance = match &regression {
            Some(r) => r.covariance.to_vec(),
            None => nls_covariance(series, theta, s2),
        };
        let std_errors = BassErrors {
            p: covariance[0].sqrt(),
            q: covariance[4].sqrt(),
            m: covariance[8].sqrt(),
        };
        let last = series.periods[n - 1];
        let forecast = bands(
            theta,
            &covariance,
            s2,
            n,
            self.confidence,
            model.forecast(last, self.horizon),
        );
        let report = BassReport {
            method: self.method,
            n,
            sse,
            rmse: (sse / n as f64).sqrt(),
            residual_variance: s2,
            std_errors,
            covariance,
            peak: model.peak(),
            confidence: self.confidence,
            forecast,
            regression: regression.map(|r| r.regression),
            iterations,
            termination,
            scope: series.scope.clone(),
        };
        Ok(Fitted { model, report })
    }

    /// Fits every series (one per product, category or channel) in parallel; the
    /// results are index-aligned with `series`, and each is the same for any number of
    /// threads (every fit runs on one thread).
    pub fn fit_groups(&self, series: &[Series]) -> Vec<Result<Fitted<Bass, BassReport>>> {
        series.par_iter().map(|s| self.fit(s)).collect()
    }
}

fn no_start() -> Error {
    Error::Numerical {
        procedure: "Bass fit",
        reason: "no starting point gives a finite SSE".into(),
    }
}

/// Σ (yₜ − S(t))² at θ = (p, q, m).
fn sse(series: &Series, [p, q, m]: [f64; 3]) -> f64 {
    series
        .periods
        .iter()
        .zip(&series.values)
        .map(|(&t, &y)| {
            let r = y - m * share(p, q, t);
            r * r
        })
        .sum()
}

/// The regression's estimates.
struct Ols {
    theta: [f64; 3],
    covariance: [f64; 9],
    regression: BassRegression,
}

/// Bass's (1969) regression and the p, q, m of its roots, with their delta-method
/// covariance.
fn regression(series: &Series) -> Result<Ols> {
    let input = "regression S = a + b N + c N²";
    if !series.consecutive() {
        return Err(Error::Degenerate {
            input: "series".into(),
            reason: "Bass's regression needs the periods 1, 2, …, n without gaps (the \
                     cumulative before each period)"
                .into(),
        });
    }
    let y = &series.values;
    let n = y.len();
    let mut x = Vec::with_capacity(n * 3);
    let mut before = 0.0;
    for &v in y {
        x.extend_from_slice(&[1.0, before, before * before]);
        before += v;
    }
    let (beta, xtx_inv) = least_squares(&x, y, 3).ok_or_else(|| Error::Degenerate {
        input: input.into(),
        reason: "the columns 1, N, N² are collinear (too few distinct cumulative counts)".into(),
    })?;
    let [a, b, c] = [beta[0], beta[1], beta[2]];
    let rss: f64 = (0..n)
        .map(|i| {
            let fit = a + b * x[i * 3 + 1] + c * x[i * 3 + 2];
            (y[i] - fit).powi(2)
        })
        .sum();
    let mean = y.iter().sum::<f64>() / n as f64;
    let tss: f64 = y.iter().map(|v| (v - mean).powi(2)).sum();
    let s2 = rss / (n - 3) as f64;
    let cov_abc: Vec<f64> = xtx_inv.iter().map(|v| v * s2).collect();
    let degenerate = |reason: String| Error::Degenerate {
        input: input.into(),
        reason,
    };
    if c.is_nan() || c >= 0.0 {
        return Err(degenerate(format!(
            "c = {c} ≥ 0: the new customers do not saturate (a finite market needs c < 0)"
        )));
    }
    if a.is_nan() || a <= 0.0 {
        return Err(degenerate(format!("a = {a} ≤ 0 gives p = a/m ≤ 0")));
    }
    let disc = b * b - 4.0 * a * c;
    let root = disc.sqrt();
    let m = (-b - root) / (2.0 * c);
    let (p, q) = (a / m, -c * m);
    if !(m.is_finite() && m > 0.0 && p.is_finite() && q.is_finite()) {
        return Err(degenerate(format!(
            "the roots give m = {m}, p = {p}, q = {q}: not a Bass curve"
        )));
    }
    // Delta method. m solves c m² + b m + a = 0, so (2cm + b) dm = −(da + m db + m² dc),
    // with 2cm + b = −√(b² − 4ac).
    let k = -1.0 / (2.0 * c * m + b);
    let dm = [k, k * m, k * m * m];
    let dp = [
        1.0 / m - a / (m * m) * dm[0],
        -a / (m * m) * dm[1],
        -a / (m * m) * dm[2],
    ];
    let dq = [-c * dm[0], -c * dm[1], -m - c * dm[2]];
    let jac = [dp, dq, dm];
    let mut covariance = [0.0; 9];
    for i in 0..3 {
        for j in 0..3 {
            covariance[i * 3 + j] = (0..3)
                .map(|u| {
                    (0..3)
                        .map(|v| jac[i][u] * cov_abc[u * 3 + v] * jac[j][v])
                        .sum::<f64>()
                })
                .sum();
        }
    }
    Ok(Ols {
        theta: [p, q, m],
        covariance,
        regression: BassRegression {
            a,
            b,
            c,
            se_a: cov_abc[0].sqrt(),
            se_b: cov_abc[4].sqrt(),
            se_c: cov_abc[8].sqrt(),
            rss,
            r2: 1.0 - rss / tss,
        },
    })
}

/// Least squares of `y` on the `k` columns of `x` (row-major n × k) by Householder QR of
/// the columns scaled to unit length: the columns 1, N, N² differ by ten orders of
/// magnitude, and the normal equations would square that condition. Returns β and
/// (XᵀX)⁻¹, or `None` when a column is (numerically) a combination of the others.
fn least_squares(x: &[f64], y: &[f64], k: usize) -> Option<(Vec<f64>, Vec<f64>)> {
    let n = y.len();
    let scale: Vec<f64> = (0..k)
        .map(|j| (0..n).map(|i| x[i * k + j].powi(2)).sum::<f64>().sqrt())
        .collect();
    if scale.iter().any(|&s| !(s > 0.0 && s.is_finite())) {
        return None;
    }
    // Column-major copy of the scaled X, and y, reduced in place.
    let mut a: Vec<Vec<f64>> = (0..k)
        .map(|j| (0..n).map(|i| x[i * k + j] / scale[j]).collect())
        .collect();
    let mut b = y.to_vec();
    for j in 0..k {
        let norm = (j..n).map(|i| a[j][i].powi(2)).sum::<f64>().sqrt();
        if norm.is_nan() || norm <= 1e-12 {
            return None;
        }
        let alpha = if a[j][j] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = a[j][j..].to_vec();
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|x| x * x).sum();
        for col in a.iter_mut().skip(j).chain(std::iter::once(&mut b)) {
            let dot: f64 = v.iter().zip(&col[j..]).map(|(a, b)| a * b).sum();
            let f = 2.0 * dot / vv;
            for (c, vi) in col[j..].iter_mut().zip(&v) {
                *c -= f * vi;
            }
        }
    }
    // R is the upper k × k block: R[i][j] = a[j][i].
    let r = |i: usize, j: usize| a[j][i];
    let mut beta = vec![0.0; k];
    for i in (0..k).rev() {
        let s: f64 = (i + 1..k).map(|j| r(i, j) * beta[j]).sum();
        beta[i] = (b[i] - s) / r(i, i);
    }
    // R⁻¹ (upper triangular), then (XᵀX)⁻¹ = R⁻¹R⁻ᵀ, unscaled.
    let mut rinv = vec![0.0; k * k];
    for c in 0..k {
        for i in (0..=c).rev() {
            let rhs = if i == c { 1.0 } else { 0.0 };
            let s: f64 = (i + 1..=c).map(|j| r(i, j) * rinv[j * k + c]).sum();
            rinv[i * k + c] = (rhs - s) / r(i, i);
        }
    }
    let mut inv = vec![0.0; k * k];
    for i in 0..k {
        for j in 0..k {
            let s: f64 = (0..k).map(|l| rinv[i * k + l] * rinv[j * k + l]).sum();
            inv[i * k + j] = s / (scale[i] * scale[j]);
        }
    }
    let beta = beta.iter().zip(&scale).map(|(b, s)| b / s).collect();
    Some((beta, inv))
}

/// A starting point from a grid of (p, q), with m the least-squares multiplier of each
/// curve shape: m = Σ y g / Σ g² with g = F(t) − F(t − 1).
fn grid_start(series: &Series) -> Option<[f64; 3]> {
    const P: [f64; 8] = [1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3];
    const Q: [f64; 8] = [0.0, 0.02, 0.05, 0.1, 0.2, 0.4, 0.8, 1.5];
    let mut best: Option<([f64; 3], f64)> = None;
    for &p in &P {
        for &q in &Q {
            let (mut yg, mut gg) = (0.0, 0.0);
            for (&t, &y) in series.periods.iter().zip(&series.values) {
                let g = share(p, q, t);
                yg += y * g;
                gg += g * g;
            }
            let m = yg / gg;
            if !(m.is_finite() && m > 0.0) {
                continue;
            }
            let s = sse(series, [p, q, m]);
            if s.is_finite() && best.map_or(true, |(_, b)| s < b) {
                best = Some(([p, q, m], s));
            }
        }
    }
    best.map(|(theta, _)| theta)
}

/// The Levenberg–Marquardt estimate.
struct Lm {
    theta: [f64; 3],
    sse: f64,
    iterations: u64,
    termination: BassTermination,
}

/// The period sales as a least-squares problem: residuals y − S(t), the Jacobian of
/// S(t) in (p, q, m), and the domain p > 0, q ≥ 0, m > 0. A step that would leave it is
/// cut back (p and m to a tenth of their value, q to 0) before its SSE decides whether
/// it is accepted.
// The three closure types are opaque (`impl Fn`): no alias can name them.
#[allow(clippy::type_complexity)]
fn problem(
    series: &Series,
) -> LeastSquares<
    impl Fn(&[f64], &mut [f64]) + '_,
    impl Fn(&[f64], &mut [f64]) + '_,
    impl Fn(&[f64], &mut [f64]),
> {
    LeastSquares {
        n: series.len(),
        residuals: move |theta: &[f64], r: &mut [f64]| {
            let (p, q, m) = (theta[0], theta[1], theta[2]);
            for ((r, &t), &y) in r.iter_mut().zip(&series.periods).zip(&series.values) {
                *r = y - m * share(p, q, t);
            }
        },
        jacobian: move |theta: &[f64], jac: &mut [f64]| {
            let th = [theta[0], theta[1], theta[2]];
            for (row, &t) in jac.chunks_mut(3).zip(&series.periods) {
                let (g, _) = curve_grads(th, t);
                row.copy_from_slice(&g);
            }
        },
        project: |theta: &[f64], next: &mut [f64]| {
            if next[0].is_nan() || next[0] <= 0.0 {
                next[0] = theta[0] / 10.0;
            }
            next[1] = next[1].max(0.0);
            if next[2].is_nan() || next[2] <= 0.0 {
                next[2] = theta[2] / 10.0;
            }
        },
    }
}

/// Levenberg–Marquardt on the period sales ([`LeastSquares::levenberg_marquardt`] in
/// `numerics`, shared with the response curves of promotion): a Gauss–Newton step on
/// three parameters whose scales differ by six orders of magnitude needs Marquardt's
/// scaled damping to stay inside p > 0, q ≥ 0, m > 0.
fn levenberg_marquardt(series: &Series, start: [f64; 3], opts: &BassOptions) -> Lm {
    let run = problem(series).levenberg_marquardt(&start, opts.tolerance, opts.max_iterations);
    Lm {
        theta: [run.theta[0], run.theta[1], run.theta[2]],
        sse: run.sse,
        iterations: run.iterations,
        termination: match run.termination {
            NlsTermination::GradientTolerance => BassTermination::GradientTolerance,
            NlsTermination::StepTolerance => BassTermination::StepTolerance,
            NlsTermination::NoProgress => BassTermination::NoProgress,
            NlsTermination::MaxIterations => BassTermination::MaxIterations,
        },
    }
}

/// s² (JᵀJ)⁻¹ at θ (NaN entries when JᵀJ is singular), inverted through the
/// unit-diagonal scaling as in the iterations.
fn nls_covariance(series: &Series, theta: [f64; 3], s2: f64) -> Vec<f64> {
    problem(series).covariance(&theta, s2)
}

/// The forecast points with their delta-method bands.
fn bands(
    theta: [f64; 3],
    cov: &[f64],
    s2: f64,
    n: usize,
    confidence: f64,
    points: Vec<BassPoint>,
) -> Vec<ForecastRow> {
    let quantile = StudentsT::new(0.0, 1.0, (n - 3) as f64)
        .map_or(f64::NAN, |t| t.inverse_cdf(0.5 + confidence / 2.0));
    let quad = |g: &[f64; 3]| -> f64 {
        (0..3)
            .map(|i| (0..3).map(|j| g[i] * cov[i * 3 + j] * g[j]).sum::<f64>())
            .sum()
    };
    points
        .into_iter()
        .map(|pt| {
            let (gs, gc) = curve_grads(theta, pt.t);
            let (vs, vc) = (quad(&gs), quad(&gc));
            let half = quantile * (vs + s2).sqrt();
            let half_c = quantile * vc.sqrt();
            ForecastRow {
                t: pt.t,
                sales: pt.sales,
                cumulative: pt.cumulative,
                se: vs.sqrt(),
                low: pt.sales - half,
                high: pt.sales + half,
                cumulative_low: pt.cumulative - half_c,
                cumulative_high: pt.cumulative + half_c,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use approx::{assert_abs_diff_eq, assert_relative_eq};

    use super::*;

    #[test]
    fn fraction_closed_forms() {
        // q = 0: F(t) = 1 − e^{−pt}, exponential adoption.
        let b = Bass::new(0.1, 0.0, 100.0).unwrap();
        assert_relative_eq!(b.fraction(2.0), 1.0 - (-0.2f64).exp(), max_relative = 1e-15);
        assert_relative_eq!(b.density(2.0), 0.1 * (-0.2f64).exp(), max_relative = 1e-15);
        let b = Bass::new(0.03, 0.38, 1000.0).unwrap();
        assert_abs_diff_eq!(b.fraction(0.0), 0.0);
        assert_abs_diff_eq!(b.fraction(-1.0), 0.0);
        // f(0) = p, F(∞) = 1.
        assert_relative_eq!(b.density(0.0), 0.03, max_relative = 1e-15);
        assert_relative_eq!(b.fraction(1e4), 1.0);
        // F(t) by hand at t = 1: e^{−0.41} = 0.663650250136… gives
        // (1 − 0.663650…)/(1 + (0.38/0.03)·0.663650…) = 0.0357581642564416.
        assert_relative_eq!(
            b.fraction(1.0),
            0.035_758_164_256_441_6,
            max_relative = 1e-13
        );
        // The tails' difference late in the curve is the plain difference, more exactly:
        // 1 − F(t) = (1 + q/p)e^{−(p+q)t}/(1 + (q/p)e^{−(p+q)t}).
        let tail = |t: f64| {
            let e = (-0.41 * t).exp();
            (1.0 + 0.38 / 0.03) * e / (1.0 + 0.38 / 0.03 * e)
        };
        assert_relative_eq!(
            b.sales(40.0),
            1000.0 * (tail(39.0) - tail(40.0)),
            max_relative = 1e-14
        );
        assert_relative_eq!(
            b.sales(2.0),
            b.cumulative(2.0) - b.cumulative(1.0),
            max_relative = 1e-14
        );
        // The period sales telescope to the cumulative.
        let total: f64 = (1..=15).map(|t| b.sales(t as f64)).sum();
        assert_relative_eq!(total, b.cumulative(15.0), max_relative = 1e-13);
        // f is F's derivative.
        for t in [0.5, 3.0, 6.2, 20.0] {
            let h = 1e-5;
            let numeric = (b.fraction(t + h) - b.fraction(t - h)) / (2.0 * h);
            assert_relative_eq!(b.density(t), numeric, max_relative = 1e-8);
        }
    }

    #[test]
    fn peak_closed_forms() {
        let b = Bass::new(0.03, 0.38, 1000.0).unwrap();
        let peak = b.peak();
        assert_eq!(peak.kind, PeakKind::Interior);
        // t* = ln(q/p)/(p+q), rate m(p+q)²/(4q); F(t*) = (1 − p/q)/2.
        assert_relative_eq!(
            peak.time,
            (0.38f64 / 0.03).ln() / 0.41,
            max_relative = 1e-15
        );
        assert_relative_eq!(peak.rate, 1000.0 * 0.41 * 0.41 / 1.52, max_relative = 1e-15);
        assert_relative_eq!(b.rate(peak.time), peak.rate, max_relative = 1e-12);
        assert_relative_eq!(
            b.fraction(peak.time),
            (1.0 - 0.03 / 0.38) / 2.0,
            max_relative = 1e-12
        );
        // The density is flat there.
        let h = 1e-4;
        assert!(b.rate(peak.time - h) < peak.rate && b.rate(peak.time + h) < peak.rate);
        // q ≤ p: highest at launch, rate m p.
        let b = Bass::new(0.2, 0.1, 50.0).unwrap();
        let peak = b.peak();
        assert_eq!(peak.kind, PeakKind::AtLaunch);
        assert_abs_diff_eq!(peak.time, 0.0);
        assert_relative_eq!(peak.rate, 10.0, max_relative = 1e-15);
        assert_relative_eq!(b.rate(0.0), 10.0, max_relative = 1e-15);
    }

    #[test]
    fn gradients_match_finite_differences() {
        for (theta, t) in [([0.03, 0.38, 1000.0], 4.0), ([0.005, 0.25, 5000.0], 17.0)] {
            let (gs, gc) = curve_grads(theta, t);
            for i in 0..3 {
                let h = 1e-6 * theta[i];
                let (mut up, mut dn) = (theta, theta);
                up[i] += h;
                dn[i] -= h;
                let s = |th: [f64; 3]| Bass::new(th[0], th[1], th[2]).unwrap();
                let ds = (s(up).sales(t) - s(dn).sales(t)) / (2.0 * h);
                let dc = (s(up).cumulative(t) - s(dn).cumulative(t)) / (2.0 * h);
                assert_relative_eq!(gs[i], ds, max_relative = 1e-7);
                assert_relative_eq!(gc[i], dc, max_relative = 1e-7);
            }
        }
    }

    #[test]
    fn least_squares_solves_an_exact_quadratic() {
        // y = 1 + 2x + 3x² at x = 0..5: β exact; (XᵀX)⁻¹ times XᵀX is the identity.
        let xs = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0];
        let x: Vec<f64> = xs.iter().flat_map(|&v| [1.0, v, v * v]).collect();
        let y: Vec<f64> = xs.iter().map(|&v| 1.0 + 2.0 * v + 3.0 * v * v).collect();
        let (beta, inv) = least_squares(&x, &y, 3).unwrap();
        for (b, want) in beta.iter().zip([1.0, 2.0, 3.0]) {
            assert_relative_eq!(*b, want, max_relative = 1e-12);
        }
        let mut xtx = [0.0; 9];
        for row in x.chunks(3) {
            for i in 0..3 {
                for j in 0..3 {
                    xtx[i * 3 + j] += row[i] * row[j];
                }
            }
        }
        for i in 0..3 {
            for j in 0..3 {
                let v: f64 = (0..3).map(|k| inv[i * 3 + k] * xtx[k * 3 + j]).sum();
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((v - want).abs() < 1e-10, "{i},{j}: {v}");
            }
        }
        // A repeated column is collinear.
        let x2: Vec<f64> = xs.iter().flat_map(|&v| [1.0, v, v]).collect();
        assert!(least_squares(&x2, &y, 3).is_none());
    }

    #[test]
    fn forecast_continues_the_periods() {
        let b = Bass::new(0.03, 0.38, 1000.0).unwrap();
        let f = b.forecast(20.0, 3);
        assert_eq!(
            f.iter().map(|p| p.t).collect::<Vec<_>>(),
            [21.0, 22.0, 23.0]
        );
        assert_relative_eq!(
            f[1].sales,
            b.cumulative(22.0) - b.cumulative(21.0),
            max_relative = 1e-12
        );
    }
}
