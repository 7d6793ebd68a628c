//! Logistic regression by maximum likelihood: Newton's method with the exact Hessian,
//! the fit statsmodels' `Logit` makes, on millions of rows.
//!
//! # Model
//!
//! ```text
//! P(yᵢ = 1 | xᵢ) = μᵢ = 1 / (1 + exp(−ηᵢ)),   ηᵢ = β₀ + Σⱼ βⱼ xᵢⱼ
//! ℓ(β) = Σᵢ yᵢ ηᵢ − ln(1 + exp ηᵢ)
//! ∇ℓ = Σᵢ (yᵢ − μᵢ) (1, xᵢ),   −∇²ℓ = Σᵢ μᵢ(1 − μᵢ) (1, xᵢ)(1, xᵢ)ᵀ
//! ```
//!
//! The intercept β₀ is always fitted and reported first, named `const` as statsmodels
//! names it; the caller's matrix holds only the features. Standard errors are the square
//! roots of the diagonal of the inverse information at the estimate, z = β / se, and p is
//! two-sided against the standard normal. The null log-likelihood is that of the
//! intercept-only model, n [ȳ ln ȳ + (1 − ȳ) ln(1 − ȳ)], and McFadden's pseudo-R² is
//! 1 − ℓ / ℓ₀.
//!
//! # Convergence
//!
//! Newton steps s = (−∇²ℓ)⁻¹ ∇ℓ are taken until every |sⱼ| < tolerance · max(1, |βⱼ|)
//! (default 1e-10, tighter than the 1e-8 statsmodels defaults to, so both land on the
//! same maximum to about 1e-12); a step that lowers ℓ is halved until it does not. Near
//! the maximum Newton's method converges quadratically, so the tolerance costs one or two
//! passes more than a loose one.
//!
//! # Speed
//!
//! Every pass over the data is one fused loop: η, μ, the log-likelihood, the gradient and
//! the information in one read of each row. Rows go in fixed chunks of 4,096 in parallel;
//! in a chunk the weighted rows μ(1 − μ) xᵢ are written to a buffer and the information
//! is one blocked matrix product Xᵀ [W X | w | y − μ] (matrixmultiply's SIMD kernels),
//! which also yields the gradient. The chunks' sums are added in chunk order, so the
//! estimate is the same bit for bit on any number of threads.
//!
//! On more than 200,000 rows the fit first converges on every k-th row (about 50,000),
//! then takes full-data Newton steps from there: Newton's quadratic convergence turns the
//! sample's error of about 1/√50,000 into 1e-10 in three steps, where a start from the
//! null model takes six or seven. The convergence test is the same on the full data
//! either way.
//!
//! Once a Newton step moves η by less than 1e-7 (root mean square, weighted by
//! μ(1 − μ)), the information can change by only about that much, relatively, before the
//! estimate: the next pass computes ℓ and the gradient alone (a third of the work) and
//! takes a chord step with the last information. The standard errors come from the full
//! data's information at that last full pass, so they are within about 1e-7, relatively,
//! of those at the estimate itself (1e-8 in the tests; statsmodels evaluates the Hessian
//! at its final estimate, whose own distance from the maximum is its tolerance).
//!
//! # Failure modes
//!
//! A feature that is constant or a linear combination of the others (with the intercept)
//! leaves the information singular at the start: [`Error::Degenerate`] naming it. When a
//! feature (or a combination) separates converted from not converted rows, the maximum
//! does not exist (the likelihood rises towards 1 as a coefficient runs to infinity):
//! [`Error::Separation`] naming the feature whose coefficient runs away. Both checks are
//! by pivots of the Cholesky factor, with a relative tolerance of 1e-11.
//!
//! ```
//! use acrm::ndarray::array;
//! use acrm::numerics::LogitOptions;
//! let x = array![[0.0], [1.0], [2.0], [3.0], [4.0], [5.0]];
//! let y = [false, false, true, false, true, true];
//! let fit = LogitOptions::new().fit(x.view(), &y, &["visits"])?;
//! let report = &fit.report;
//! assert_eq!(report.coefficients[0].name, "const");
//! assert!(report.coefficients[1].coef > 0.0);
//! assert!(report.log_likelihood > report.null_log_likelihood);
//! // The fitted probabilities sum to the number of positives (the intercept's score).
//! let p: f64 = (0..6).map(|i| fit.model.probability(&[i as f64])).sum();
//! assert!((p - 3.0).abs() < 1e-9);
//! # Ok::<(), acrm::Error>(())
//! ```

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, Axis, Slice};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::linalg::{cholesky, cholesky_solve, invert_spd};
use crate::error::{Error, Result};

/// The intercept's name, as statsmodels' `add_constant` names it.
pub const INTERCEPT: &str = "const";

/// Rows per parallel chunk: fixed, so the sums do not depend on the number of threads.
const CHUNK: usize = 1 << 12;

/// Factors of ln(1 + e) multiplied before one logarithm is taken.
const LOG_BATCH: u32 = 256;

/// Features per panel of the information's matrix products: matrixmultiply's kernel
/// height for f64, so the panels waste no kernel rows.
const PANEL: usize = 8;

/// A Newton step that moves η by less than this (root mean square, weighted) is
/// followed by a gradient-only pass and a chord step: the information would change by
/// about this much, relatively, so recomputing it buys nothing, and the standard errors
/// from the last full pass are within about this much of those at the estimate.
const CHORD: f64 = 1e-7;

/// Rows of the warm-start sample (about).
const WARM_ROWS: usize = 50_000;

/// Data sizes from which the fit starts from a sample's estimate.
const WARM_FROM: usize = 200_000;

/// Relative pivot tolerance of the Cholesky factor: below it a feature counts as a
/// combination of the ones before it.
const PIVOT_TOL: f64 = 1e-11;

/// Step halvings tried before a step that lowers the likelihood is given up on.
const HALVINGS: u32 = 40;

/// Settings of a logistic-regression fit. Defaults: at most 35 Newton iterations (as
/// statsmodels), step tolerance 1e-10 (relative to max(1, |β|)), warm start on more than
/// 200,000 rows.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LogitOptions {
    max_iterations: u64,
    tolerance: f64,
    warm_start: bool,
}

impl Default for LogitOptions {
    fn default() -> Self {
        LogitOptions {
            max_iterations: 35,
            tolerance: 1e-10,
            warm_start: true,
        }
    }
}

/// A logistic-regression model: feature names and coefficients, the intercept first
/// (named [`INTERCEPT`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Logit {
    names: Vec<String>,
    coefficients: Vec<f64>,
}

/// One coefficient of a fit, as statsmodels' summary lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogitCoefficient {
    /// Feature name ([`INTERCEPT`] for the intercept).
    pub name: String,
    /// β: the change of the log-odds per unit of the feature.
    pub coef: f64,
    /// Standard error of β.
    pub se: f64,
    /// β / se.
    pub z: f64,
    /// Two-sided p-value of z against the standard normal.
    pub p: f64,
}

/// What a logistic-regression fit reports besides the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogitReport {
    /// The intercept, then one line per feature.
    pub coefficients: Vec<LogitCoefficient>,
    /// ℓ at the estimate.
    pub log_likelihood: f64,
    /// ℓ₀ of the intercept-only model.
    pub null_log_likelihood: f64,
    /// McFadden's pseudo-R², 1 − ℓ / ℓ₀.
    pub pseudo_r2: f64,
    /// Rows fitted.
    pub rows: usize,
    /// Rows with y = 1.
    pub positives: usize,
    /// Newton passes over the full data (the last one confirms convergence).
    pub iterations: u64,
    /// Rows of the warm-start sample, when the fit started from one.
    pub warm_start_rows: Option<usize>,
    /// Covariance of the coefficients (the inverse information), row-major,
    /// (features + 1)².
    pub covariance: Vec<f64>,
}

impl Logit {
    /// A model from names (the intercept first) and coefficients, one each, finite.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the counts differ or no intercept is given;
    /// [`Error::BadValue`] for a non-finite coefficient (naming it).
    pub fn new(names: Vec<String>, coefficients: Vec<f64>) -> Result<Self> {
        Error::check_len("coefficients", coefficients.len(), names.len(), "names")?;
        if names.is_empty() {
            return Err(Error::LengthMismatch {
                input: "coefficients",
                found: 0,
                expected: 1,
                against: "at least the intercept",
            });
        }
        if let Some(j) = coefficients.iter().position(|b| !b.is_finite()) {
            return Err(Error::bad_value(
                "coefficients",
                j,
                names[j].as_str(),
                coefficients[j],
                "a finite coefficient",
            ));
        }
        Ok(Logit {
            names,
            coefficients,
        })
    }

    /// Names, the intercept first.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Coefficients, the intercept first.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// η = β₀ + Σⱼ βⱼ xⱼ of one row of features (without the intercept's 1).
    ///
    /// # Panics
    /// If `row` does not hold one value per feature (a programmer error: the row's
    /// length is fixed by the model).
    pub fn linear_predictor(&self, row: &[f64]) -> f64 {
        assert_eq!(
            row.len() + 1,
            self.coefficients.len(),
            "one value per feature"
        );
        self.coefficients[0] + dot(row, &self.coefficients[1..])
    }

    /// P(y = 1) of one row of features.
    ///
    /// # Panics
    /// As [`linear_predictor`](Self::linear_predictor).
    pub fn probability(&self, row: &[f64]) -> f64 {
        sigmoid(self.linear_predictor(row))
    }

    /// P(y = 1) of every row of `x` (one column per feature), in parallel.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `x` has not one column per feature;
    /// [`Error::BadValue`] for a non-finite value (its row and feature).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        let k = self.coefficients.len() - 1;
        Error::check_len("feature columns", x.ncols(), k, "features of the model")?;
        let xs = x.as_standard_layout();
        let flat = xs.as_slice().unwrap_or(&[]);
        if let Some(at) = flat.par_iter().position_first(|v| !v.is_finite()) {
            return Err(Error::bad_value(
                "features",
                at / k.max(1),
                self.names[1 + at % k.max(1)].as_str(),
                flat[at],
                "a finite value",
            ));
        }
        Ok((0..x.nrows())
            .into_par_iter()
            .map(|i| self.probability(&flat[i * k..(i + 1) * k]))
            .collect())
    }
}

impl LogitOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Newton iterations cap (≥ 1), counting the full-data passes.
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }

    /// Converged when every Newton step |sⱼ| < `tol` · max(1, |βⱼ|) (`tol` > 0).
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tolerance = tol;
        self
    }

    /// Whether a fit on more than 200,000 rows starts from the estimate on a sample of
    /// about 50,000 of them (default true). The result is the same maximum either way.
    pub fn warm_start(mut self, on: bool) -> Self {
        self.warm_start = on;
        self
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if self.max_iterations == 0 {
            return Err(Error::option("max_iterations", 0, "at least 1"));
        }
        if !(self.tolerance > 0.0 && self.tolerance.is_finite()) {
            return Err(Error::option(
                "tolerance",
                self.tolerance,
                "a positive finite number",
            ));
        }
        Ok(())
    }

    /// Fits P(y = 1 | x) by maximum likelihood: `x` holds one row per label and one
    /// column per name (the intercept is added); the report lists the intercept first.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options; [`Error::LengthMismatch`] when `x` is not
    /// one row per label and one column per name; [`Error::EmptyInput`] for no rows;
    /// [`Error::InvalidOption`] (option `names`) for no feature or one named [`INTERCEPT`];
    /// [`Error::BadValue`] for a non-finite feature value (its row and feature);
    /// [`Error::Degenerate`] when every label is the same (input `target`), for fewer
    /// rows than coefficients, or for a feature that is constant or a linear combination
    /// of the ones before it (naming it); [`Error::Separation`] when a feature separates
    /// the labels so that no maximum exists; [`Error::Numerical`] when Newton's method
    /// does not converge in the iterations allowed.
    pub fn fit<S: AsRef<str>>(
        &self,
        x: ArrayView2<'_, f64>,
        y: &[bool],
        names: &[S],
    ) -> Result<crate::numerics::Fitted<Logit, LogitReport>> {
        self.validate()?;
        let (n, k) = x.dim();
        Error::check_len("feature rows", n, y.len(), "labels")?;
        Error::check_len("feature columns", k, names.len(), "names")?;
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        if k == 0 {
            return Err(Error::option(
                "names",
                "no feature",
                "at least one feature column",
            ));
        }
        let mut all_names = Vec::with_capacity(k + 1);
        all_names.push(INTERCEPT.to_string());
        for s in names {
            let s = s.as_ref();
            if s == INTERCEPT {
                return Err(Error::option(
                    "names",
                    s,
                    "feature names other than `const`, the intercept's",
                ));
            }
            all_names.push(s.to_string());
        }
        let positives = y.par_iter().filter(|&&v| v).count();
        if positives == 0 || positives == n {
            return Err(Error::Degenerate {
                input: "target".into(),
                reason: format!(
                    "every one of the {n} rows has the label {}: no rate to model",
                    positives == n
                ),
            });
        }
        if n <= k + 1 {
            return Err(Error::Degenerate {
                input: "rows".into(),
                reason: format!("{n} rows cannot identify {} coefficients", k + 1),
            });
        }
        let xs = x.as_standard_layout();
        // A standard-layout array is one contiguous slice.
        let flat = xs.as_slice().unwrap_or(&[]);
        let data = Data {
            x: flat,
            y,
            k,
            names: &all_names,
        };
        let rate = positives as f64 / n as f64;
        let null_ll = n as f64 * (rate * rate.ln() + (1.0 - rate) * (1.0 - rate).ln());
        let mut start = vec![0.0; k + 1];
        start[0] = (rate / (1.0 - rate)).ln();
        let mut warm_rows = None;
        if self.warm_start && n > WARM_FROM {
            let step = n / WARM_ROWS;
            let rows: Vec<usize> = (0..n).step_by(step).collect();
            let sx: Vec<f64> = rows
                .iter()
                .flat_map(|&i| flat[i * k..(i + 1) * k].iter().copied())
                .collect();
            let sy: Vec<bool> = rows.iter().map(|&i| y[i]).collect();
            let sample = Data {
                x: &sx,
                y: &sy,
                k,
                names: &all_names,
            };
            // The sample may lack a rare level or be separated where the full data is
            // not: its failure only means a cold start.
            let loose = LogitOptions {
                tolerance: 1e-6,
                ..*self
            };
            if let Ok(est) = sample.newton(&start, &loose) {
                if est.beta.iter().all(|b| b.is_finite()) {
                    start = est.beta;
                    warm_rows = Some(rows.len());
                }
            }
        }
        let est = data.newton(&start, self)?;
        let cov = invert_spd(&est.info, k + 1).ok_or_else(|| Error::Numerical {
            procedure: "logistic regression covariance",
            reason: "the information matrix at the estimate is not positive definite".into(),
        })?;
        let normal = Normal::standard();
        let coefficients = all_names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let coef = est.beta[j];
                let se = cov[j * (k + 1) + j].sqrt();
                let z = coef / se;
                LogitCoefficient {
                    name: name.clone(),
                    coef,
                    se,
                    z,
                    p: 2.0 * normal.sf(z.abs()),
                }
            })
            .collect();
        let report = LogitReport {
            coefficients,
            log_likelihood: est.log_likelihood,
            null_log_likelihood: null_ll,
            pseudo_r2: 1.0 - est.log_likelihood / null_ll,
            rows: n,
            positives,
            iterations: est.iterations,
            warm_start_rows: warm_rows,
            covariance: cov,
        };
        let model = Logit::new(all_names, est.beta)?;
        Ok(crate::numerics::Fitted { model, report })
    }
}

/// Rows (row-major, `k` features each) and labels.
struct Data<'a> {
    x: &'a [f64],
    y: &'a [bool],
    k: usize,
    /// The intercept's name, then the features'.
    names: &'a [String],
}

/// One pass's sums at a β: ℓ, the gradient and the information (−∇²ℓ, full, symmetric).
struct Pass {
    ll: f64,
    grad: Vec<f64>,
    /// Absent from a gradient-only pass.
    info: Option<Vec<f64>>,
}

/// A converged fit.
struct Estimate {
    beta: Vec<f64>,
    log_likelihood: f64,
    info: Vec<f64>,
    iterations: u64,
}

impl Data<'_> {
    fn rows(&self) -> usize {
        self.y.len()
    }

    /// Newton's method from `start` until the step is within the tolerance.
    fn newton(&self, start: &[f64], opts: &LogitOptions) -> Result<Estimate> {
        let p = self.k + 1;
        let mut beta = start.to_vec();
        let mut at = self.pass(&beta, true)?;
        let mut iterations = 1;
        let mut info = at.info.take().unwrap_or_default();
        let mut l = cholesky(&info, p, PIVOT_TOL).map_err(|j| Error::Degenerate {
            input: self.names[j].clone(),
            reason: if j == 0 {
                "no row carries weight".into()
            } else {
                "the feature is constant or a linear combination of the features before \
                 it (with the intercept)"
                    .into()
            },
        })?;
        loop {
            let step = cholesky_solve(&l, p, &at.grad);
            let done = step
                .iter()
                .zip(&beta)
                .all(|(s, b)| s.abs() < opts.tolerance * b.abs().max(1.0));
            if done {
                // The last step is below the tolerance: take it (it changes β by less
                // than the tolerance); the information is that of the last full pass,
                // at most a chord step's η-change (below CHORD) from the estimate.
                for (b, s) in beta.iter_mut().zip(&step) {
                    *b += s;
                }
                return Ok(Estimate {
                    beta,
                    log_likelihood: at.ll,
                    info,
                    iterations,
                });
            }
            if iterations >= opts.max_iterations {
                let j = self.runaway(&step);
                return Err(if self.fits_some_rows_exactly(&beta) {
                    self.separation(
                        j,
                        &beta,
                        "the fit still moves it after the iterations allowed",
                    )
                } else {
                    Error::Numerical {
                        procedure: "logistic regression (Newton's method)",
                        reason: format!(
                            "no convergence in {} iterations; the last step moved `{}` by {:e}",
                            opts.max_iterations, self.names[j], step[j]
                        ),
                    }
                });
            }
            // The step's root-mean-square change of η, weighted as the information
            // weighs rows: sᵀ I s / Σ w. Below CHORD the information at the next point
            // differs from this one by about that much, relatively, so the next pass
            // skips it and the step after is a chord step with this factor.
            let moved = quadratic_form(&info, &step) / info[0];
            let chord = moved.sqrt() < CHORD;
            // Halve the step while it lowers the likelihood (beyond rounding).
            let mut scale = 1.0;
            let mut halvings = 0;
            let next = loop {
                let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + scale * s).collect();
                let pass = self.pass(&trial, !chord)?;
                iterations += 1;
                let slack = 1e-12 * at.ll.abs().max(1.0);
                if pass.ll >= at.ll - slack || halvings == HALVINGS {
                    break (trial, pass);
                }
                scale *= 0.5;
                halvings += 1;
            };
            beta = next.0;
            at = next.1;
            if let Some(fresh) = at.info.take() {
                l = cholesky(&fresh, p, PIVOT_TOL).map_err(|j| {
                    self.separation(j, &beta, "its information vanished as the fit ran")
                })?;
                info = fresh;
            }
        }
    }

    /// The feature whose coefficient the step moves most, relative to its own size.
    fn runaway(&self, step: &[f64]) -> usize {
        (1..step.len())
            .max_by(|&a, &b| step[a].abs().total_cmp(&step[b].abs()))
            .unwrap_or(0)
    }

    /// Whether some rows are predicted to within 1e-10 of their label (the mark of a
    /// separated fit, where statsmodels warns of quasi-separation).
    fn fits_some_rows_exactly(&self, beta: &[f64]) -> bool {
        let k = self.k;
        (0..self.rows()).into_par_iter().any(|i| {
            let eta = beta[0] + dot(&self.x[i * k..(i + 1) * k], &beta[1..]);
            let mu = sigmoid(eta);
            let miss = if self.y[i] { 1.0 - mu } else { mu };
            miss < 1e-10
        })
    }

    fn separation(&self, j: usize, beta: &[f64], how: &str) -> Error {
        let j = j.max(1);
        Error::Separation {
            feature: self.names[j].clone(),
            reason: format!(
                "the labels are (quasi-)perfectly separated: no maximum-likelihood estimate \
                 exists; its coefficient ran to {:e} and {how}",
                beta[j]
            ),
        }
    }

    /// ℓ, gradient and information at `beta`, in one fused pass over fixed chunks of
    /// rows, reduced in chunk order.
    fn pass(&self, beta: &[f64], with_info: bool) -> Result<Pass> {
        if !with_info {
            return self.gradient_pass(beta);
        }
        let (n, k) = (self.rows(), self.k);
        let cols = k + 2;
        // Per chunk: the k × (k + 2) product, then ℓ, Σ w and Σ (y − μ).
        let width = k * cols + 3;
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map_init(
                || vec![0.0; CHUNK * cols],
                |buf, c| {
                    let rows = c * CHUNK..((c + 1) * CHUNK).min(n);
                    let m = rows.len();
                    let xs = &self.x[rows.start * k..rows.end * k];
                    let ys = &self.y[rows.clone()];
                    let mut acc = vec![0.0; width];
                    let (mut ll, mut sw, mut sr) = (0.0, 0.0, 0.0);
                    let (mut product, mut in_batch) = (1.0_f64, 0);
                    for ((row, out), &yi) in
                        xs.chunks_exact(k).zip(buf.chunks_exact_mut(cols)).zip(ys)
                    {
                        let eta = beta[0] + dot(row, &beta[1..]);
                        // With e = exp(−|η|): μ and 1 − μ are 1/(1+e) and e/(1+e) in the
                        // order of η's sign, each without cancellation.
                        let e = (-eta.abs()).exp();
                        let inv = 1.0 / (1.0 + e);
                        let (mu, one_minus) = if eta >= 0.0 {
                            (inv, e * inv)
                        } else {
                            (e * inv, inv)
                        };
                        let w = mu * one_minus;
                        let r = if yi { one_minus } else { -mu };
                        // ln P(observed label) = −ln(1 + e), less |η| when the label is
                        // on the other side of 0.5.
                        // ln(1 + e) is summed as the log of a product of up to LOG_BATCH
                        // factors in [1, 2) (at most 2^256, no overflow): one logarithm per
                        // batch instead of one per row, with an error of a few ulp per
                        // batch, far below the likelihood's own rounding.
                        let against = yi != (eta >= 0.0);
                        if against {
                            ll -= eta.abs();
                        }
                        product *= 1.0 + e;
                        in_batch += 1;
                        if in_batch == LOG_BATCH {
                            ll -= product.ln();
                            product = 1.0;
                            in_batch = 0;
                        }
                        for (o, v) in out[..k].iter_mut().zip(row) {
                            *o = w * v;
                        }
                        out[k] = w;
                        out[k + 1] = r;
                        sw += w;
                        sr += r;
                    }
                    ll -= product.ln();
                    // Shapes hold by construction: m rows of k and of k + 2 values.
                    let a = ArrayView2::from_shape((m, k), xs).expect("m × k");
                    let b =
                        ArrayView2::from_shape((m, cols), &buf[..m * cols]).expect("m × (k + 2)");
                    let mut prod = ArrayViewMut2::from_shape((k, cols), &mut acc[..k * cols])
                        .expect("k × (k + 2)");
                    // Only the upper triangle (and the last two columns) is needed: panels
                    // of PANEL features, each times the columns from its first one on,
                    // skip the blocks below the diagonal (30% of the products for 20
                    // features).
                    for p0 in (0..k).step_by(PANEL) {
                        let p1 = (p0 + PANEL).min(k);
                        let mut block = prod.view_mut();
                        block.slice_axis_inplace(Axis(0), Slice::from(p0..p1));
                        block.slice_axis_inplace(Axis(1), Slice::from(p0..));
                        general_mat_mul(
                            1.0,
                            &a.slice_axis(Axis(1), Slice::from(p0..p1)).t(),
                            &b.slice_axis(Axis(1), Slice::from(p0..)),
                            0.0,
                            &mut block,
                        );
                    }
                    acc[k * cols] = ll;
                    acc[k * cols + 1] = sw;
                    acc[k * cols + 2] = sr;
                    acc
                },
            )
            .collect();
        let mut total = vec![0.0; width];
        for part in parts {
            for (t, v) in total.iter_mut().zip(part) {
                *t += v;
            }
        }
        if total.iter().any(|v| !v.is_finite()) {
            return Err(self.non_finite());
        }
        let p = k + 1;
        let at = |j: usize, c: usize| total[j * cols + c];
        let mut grad = vec![0.0; p];
        let mut info = vec![0.0; p * p];
        grad[0] = total[k * cols + 2];
        info[0] = total[k * cols + 1];
        for j in 0..k {
            grad[1 + j] = at(j, k + 1);
            info[1 + j] = at(j, k);
            info[(1 + j) * p] = at(j, k);
            // The upper triangle, mirrored: x·(w x) and (w x)·x round differently.
            for l in j..k {
                info[(1 + j) * p + 1 + l] = at(j, l);
                info[(1 + l) * p + 1 + j] = at(j, l);
            }
        }
        Ok(Pass {
            ll: total[k * cols],
            grad,
            info: Some(info),
        })
    }

    /// ℓ and the gradient alone at `beta` (a third of a full pass's work), in the same
    /// fixed chunks.
    fn gradient_pass(&self, beta: &[f64]) -> Result<Pass> {
        let (n, k) = (self.rows(), self.k);
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let rows = c * CHUNK..((c + 1) * CHUNK).min(n);
                let xs = &self.x[rows.start * k..rows.end * k];
                let ys = &self.y[rows];
                // ℓ, then the gradient (intercept first).
                let mut acc = vec![0.0; k + 2];
                let (mut product, mut in_batch) = (1.0_f64, 0);
                for (row, &yi) in xs.chunks_exact(k).zip(ys) {
                    let eta = beta[0] + dot(row, &beta[1..]);
                    let e = (-eta.abs()).exp();
                    let inv = 1.0 / (1.0 + e);
                    let r = match (yi, eta >= 0.0) {
                        (true, true) => e * inv,
                        (true, false) => inv,
                        (false, true) => -inv,
                        (false, false) => -e * inv,
                    };
                    if yi != (eta >= 0.0) {
                        acc[0] -= eta.abs();
                    }
                    product *= 1.0 + e;
                    in_batch += 1;
                    if in_batch == LOG_BATCH {
                        acc[0] -= product.ln();
                        product = 1.0;
                        in_batch = 0;
                    }
                    acc[1] += r;
                    for (g, v) in acc[2..].iter_mut().zip(row) {
                        *g += r * v;
                    }
                }
                acc[0] -= product.ln();
                acc
            })
            .collect();
        let mut total = vec![0.0; k + 2];
        for part in parts {
            for (t, v) in total.iter_mut().zip(part) {
                *t += v;
            }
        }
        if total.iter().any(|v| !v.is_finite()) {
            return Err(self.non_finite());
        }
        Ok(Pass {
            ll: total[0],
            grad: total[1..].to_vec(),
            info: None,
        })
    }

    /// The error for sums that came out non-finite: the first non-finite value, or
    /// values too large to square.
    fn non_finite(&self) -> Error {
        match self.x.par_iter().position_first(|v| !v.is_finite()) {
            Some(at) => Error::bad_value(
                "features",
                at / self.k,
                self.names[1 + at % self.k].as_str(),
                self.x[at],
                "a finite value",
            ),
            None => Error::Numerical {
                procedure: "logistic regression",
                reason: "the features' values are too large: their weighted squares \
                         overflow (beyond 1e308); rescale them"
                    .into(),
            },
        }
    }
}

/// sᵀ A s for a symmetric row-major matrix A.
fn quadratic_form(a: &[f64], s: &[f64]) -> f64 {
    let p = s.len();
    (0..p)
        .map(|i| s[i] * (0..p).map(|j| a[i * p + j] * s[j]).sum::<f64>())
        .sum()
}

/// Σ aᵢ bᵢ, in four independent lanes so the compiler can vectorise it.
#[inline]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut lanes = [0.0; 4];
    let (ca, ra) = (a.chunks_exact(4), a.chunks_exact(4).remainder());
    let rb = b.chunks_exact(4).remainder();
    for (x, y) in ca.zip(b.chunks_exact(4)) {
        for l in 0..4 {
            lanes[l] += x[l] * y[l];
        }
    }
    let mut s = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// 1 / (1 + exp(−η)) without overflow.
#[inline]
pub(crate) fn sigmoid(eta: f64) -> f64 {
    let e = (-eta.abs()).exp();
    if eta >= 0.0 {
        1.0 / (1.0 + e)
    } else {
        e / (1.0 + e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Seeded data: y ~ Bernoulli(σ(0.5 + x₁ − 0.5 x₂)).
    fn data(n: usize) -> (Array2<f64>, Vec<bool>) {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let mut x = Array2::zeros((n, 2));
        let mut y = Vec::with_capacity(n);
        for i in 0..n {
            let a: f64 = rng.gen_range(-2.0..2.0);
            let b: f64 = rng.gen_range(-2.0..2.0);
            x[[i, 0]] = a;
            x[[i, 1]] = b;
            y.push(rng.gen::<f64>() < sigmoid(0.5 + a - 0.5 * b));
        }
        (x, y)
    }

    #[test]
    fn score_is_zero_at_the_estimate_and_the_information_matches_finite_differences() {
        let (x, y) = data(2000);
        let fit = LogitOptions::new().fit(x.view(), &y, &["a", "b"]).unwrap();
        let beta = fit.model.coefficients().to_vec();
        let flat = x.as_slice().unwrap();
        let d = Data {
            x: flat,
            y: &y,
            k: 2,
            names: fit.model.names(),
        };
        let at = d.pass(&beta, true).unwrap();
        let info = at.info.clone().unwrap();
        let g = d.pass(&beta, false).unwrap();
        assert_eq!(g.ll.to_bits(), at.ll.to_bits());
        for (a, b) in g.grad.iter().zip(&at.grad) {
            assert!((a - b).abs() < 1e-9);
        }
        let brute: f64 = (0..2000)
            .map(|i| {
                let mu = fit.model.probability(&[x[[i, 0]], x[[i, 1]]]);
                if y[i] {
                    mu.ln()
                } else {
                    (1.0 - mu).ln()
                }
            })
            .sum();
        assert!(
            (at.ll - brute).abs() < 1e-10 * brute.abs(),
            "{} {brute}",
            at.ll
        );
        assert!(at.grad.iter().all(|g| g.abs() < 1e-9), "{:?}", at.grad);
        // Central differences of the gradient against the information.
        let h = 1e-6;
        for j in 0..3 {
            let mut up = beta.clone();
            up[j] += h;
            let mut down = beta.clone();
            down[j] -= h;
            let (gu, gd) = (
                d.pass(&up, false).unwrap().grad,
                d.pass(&down, false).unwrap().grad,
            );
            for l in 0..3 {
                let fd = -(gu[l] - gd[l]) / (2.0 * h);
                assert!((fd - info[j * 3 + l]).abs() < 1e-5 * info[j * 3 + l].abs().max(1.0));
            }
        }
        // The true coefficients are recovered within a few standard errors.
        for (c, truth) in fit.report.coefficients.iter().zip([0.5, 1.0, -0.5]) {
            assert!((c.coef - truth).abs() < 4.0 * c.se, "{c:?}");
        }
    }

    #[test]
    fn warm_and_cold_starts_reach_the_same_maximum() {
        let (x, y) = data(250_000);
        let warm = LogitOptions::new().fit(x.view(), &y, &["a", "b"]).unwrap();
        let cold = LogitOptions::new()
            .warm_start(false)
            .fit(x.view(), &y, &["a", "b"])
            .unwrap();
        assert!(warm.report.warm_start_rows.is_some() && cold.report.warm_start_rows.is_none());
        assert!(warm.report.iterations < cold.report.iterations);
        for (a, b) in warm
            .report
            .coefficients
            .iter()
            .zip(&cold.report.coefficients)
        {
            assert!((a.coef - b.coef).abs() < 1e-12, "{a:?} {b:?}");
            // Each takes its standard errors from its last full pass, within CHORD of the
            // estimate in η: they agree to about that.
            assert!((a.se - b.se).abs() < 1e-7 * b.se, "{a:?} {b:?}");
        }
    }

    #[test]
    fn collinear_feature_is_named() {
        let (x, y) = data(500);
        let mut z = Array2::zeros((500, 3));
        for i in 0..500 {
            z[[i, 0]] = x[[i, 0]];
            z[[i, 1]] = x[[i, 1]];
            z[[i, 2]] = 2.0 * x[[i, 0]] - x[[i, 1]] + 1.0;
        }
        let err = LogitOptions::new()
            .fit(z.view(), &y, &["a", "b", "c"])
            .unwrap_err();
        assert!(
            matches!(err, Error::Degenerate { ref input, .. } if input == "c"),
            "{err:?}"
        );
    }
}
