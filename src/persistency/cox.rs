//! The Cox proportional-hazards model: h(t | x) = h₀(t) exp(xᵀβ), fitted by Newton's
//! method on the partial likelihood with Efron's (default) or Breslow's handling of tied
//! event times, and Harrell's concordance index.
//!
//! The fit works on centred and scaled covariates (one parallel pass for the means and
//! spreads), which keeps exp(xᵀβ) in range and the information matrix well conditioned;
//! coefficients and standard errors are mapped back to the original units. A constant
//! covariate, or one that is a linear combination of the covariates before it, is an
//! [`Error::Degenerate`] naming it, found before the fit from the correlation matrix.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::survival::{chi2_sf, SurvivalData};
use crate::error::{Error, Result};
use crate::numerics::{cholesky, cholesky_solve, invert_spd, sum_chunked, FitReport, Termination};

/// How tied event times enter the partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ties {
    /// Efron's approximation (lifelines' and R's default): the tied events leave the risk
    /// set in equal parts.
    Efron,
    /// Breslow's approximation: every tied event sees the whole risk set.
    Breslow,
}

/// Settings of a Cox fit. Defaults: Efron ties, 95% intervals, at most 50 Newton
/// iterations, converged when the largest step is below 1e-9 (in standard deviations of
/// the covariates) and the log-likelihood changes by less than 1e-12 relative.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CoxOptions {
    ties: Ties,
    confidence: f64,
    max_iterations: u64,
    tolerance: f64,
}

impl Default for CoxOptions {
    fn default() -> Self {
        CoxOptions {
            ties: Ties::Efron,
            confidence: 0.95,
            max_iterations: 50,
            tolerance: 1e-9,
        }
    }
}

/// A fitted Cox model: covariate names and coefficients (log hazard ratios per unit).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxPh {
    names: Vec<String>,
    coefficients: Vec<f64>,
}

/// One covariate's line of a Cox fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxCoefficient {
    /// Covariate name.
    pub name: String,
    /// β, the log hazard ratio per unit.
    pub coef: f64,
    /// Standard error of β.
    pub se: f64,
    /// exp(β).
    pub hazard_ratio: f64,
    /// Lower bound of the hazard ratio's interval, exp(β − z se).
    pub hazard_ratio_lo: f64,
    /// Upper bound, exp(β + z se).
    pub hazard_ratio_hi: f64,
    /// β / se.
    pub z: f64,
    /// Two-sided p-value of z.
    pub p: f64,
}

/// What a Cox fit reports besides the coefficients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxReport {
    /// Per covariate: estimate, standard error, hazard ratio with interval, z and p.
    pub coefficients: Vec<CoxCoefficient>,
    /// The partial log-likelihood at the estimate (with the tie handling used).
    pub partial_log_likelihood: f64,
    /// The partial log-likelihood at β = 0.
    pub null_log_likelihood: f64,
    /// Likelihood-ratio test of all β = 0: 2 (ℓ − ℓ₀), its degrees of freedom and p.
    pub likelihood_ratio: (f64, usize, f64),
    /// Harrell's concordance index of the fitted risk scores.
    pub concordance: f64,
    /// Rows used.
    pub rows: usize,
    /// Events (rows with the event observed).
    pub events: usize,
    /// The tie handling.
    pub ties: Ties,
    /// Iterations, termination and the covariance of β (names, log-likelihood, standard
    /// errors, correlations), in the crate's common report form.
    pub fit: FitReport,
}

impl CoxPh {
    /// A model from covariate names and coefficients (finite, one per name).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a length mismatch or a non-finite coefficient.
    pub fn new(names: Vec<String>, coefficients: Vec<f64>) -> Result<Self> {
        if names.len() != coefficients.len() {
            return Err(Error::InvalidOption {
                option: "coefficients",
                reason: format!(
                    "{} coefficients for {} names",
                    coefficients.len(),
                    names.len()
                ),
            });
        }
        if let Some(j) = coefficients.iter().position(|b| !b.is_finite()) {
            return Err(Error::InvalidOption {
                option: "coefficients",
                reason: format!("coefficient of `{}` is {}", names[j], coefficients[j]),
            });
        }
        Ok(CoxPh {
            names,
            coefficients,
        })
    }

    /// Covariate names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Coefficients β, in the order of the names.
    pub fn coefficients(&self) -> &[f64] {
        &self.coefficients
    }

    /// Linear predictors xᵢᵀβ of the rows of `x` (one column per covariate), in parallel.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when `x` does not have one column per covariate.
    pub fn linear_predictor(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        if x.ncols() != self.coefficients.len() {
            return Err(Error::InvalidOption {
                option: "covariates",
                reason: format!(
                    "{} columns for {} covariates",
                    x.ncols(),
                    self.coefficients.len()
                ),
            });
        }
        Ok((0..x.nrows())
            .into_par_iter()
            .map(|i| {
                x.row(i)
                    .iter()
                    .zip(&self.coefficients)
                    .map(|(a, b)| a * b)
                    .sum()
            })
            .collect())
    }

    /// Fits the model to survival data and covariates `x` (one row per subject, one
    /// column per name).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options or shapes, or a non-finite covariate
    /// value (naming row and covariate); [`Error::Degenerate`] for no events or a constant
    /// or collinear covariate (naming it); [`Error::Numerical`] when Newton's method does
    /// not converge, naming the covariate whose coefficient runs away (typically one that
    /// separates events from non-events).
    pub fn fit<S: AsRef<str>>(
        data: &SurvivalData,
        x: ArrayView2<'_, f64>,
        names: &[S],
        opts: &CoxOptions,
    ) -> Result<(CoxPh, CoxReport)> {
        opts.check()?;
        let names: Vec<String> = names.iter().map(|s| s.as_ref().to_string()).collect();
        let (n, p) = x.dim();
        if n != data.len() || p != names.len() || p == 0 {
            return Err(Error::InvalidOption {
                option: "covariates",
                reason: format!(
                    "{n} × {p} covariates for {} rows and {} names (need one row per subject, \
                     one column per name, at least one)",
                    data.len(),
                    names.len()
                ),
            });
        }
        if let Some(i) = (0..n)
            .into_par_iter()
            .position_first(|i| x.row(i).iter().any(|v| !v.is_finite()))
        {
            let j = x.row(i).iter().position(|v| !v.is_finite()).unwrap_or(0);
            return Err(Error::InvalidOption {
                option: "covariates",
                reason: format!("row {i}, covariate `{}` is {}", names[j], x[[i, j]]),
            });
        }
        let events = data.events().iter().filter(|&&e| e).count();
        if events == 0 {
            return Err(Error::Degenerate {
                input: "event".into(),
                reason: "no row has the event observed".into(),
            });
        }
        let problem = Problem::new(data, x, &names)?;
        let out = problem.newton(opts)?;
        let z_crit = Normal::standard().inverse_cdf(0.5 + opts.confidence / 2.0);
        let normal = Normal::standard();
        let mut coefficients = Vec::with_capacity(p);
        let mut beta = Vec::with_capacity(p);
        let mut se = Vec::with_capacity(p);
        for (j, name) in names.iter().enumerate() {
            let b = out.beta[j] / problem.scale[j];
            let s = out.cov[j * p + j].sqrt() / problem.scale[j];
            let z = b / s;
            beta.push(b);
            se.push(s);
            coefficients.push(CoxCoefficient {
                name: name.clone(),
                coef: b,
                se: s,
                hazard_ratio: b.exp(),
                hazard_ratio_lo: (b - z_crit * s).exp(),
                hazard_ratio_hi: (b + z_crit * s).exp(),
                z,
                p: 2.0 * normal.sf(z.abs()),
            });
        }
        let correlations = (0..p * p)
            .map(|k| {
                let (a, b) = (k / p, k % p);
                out.cov[k] / (out.cov[a * p + a] * out.cov[b * p + b]).sqrt()
            })
            .collect();
        let model = CoxPh::new(names.clone(), beta)?;
        let eta = model.linear_predictor(x)?;
        let concordance = concordance_index(data.durations(), &eta, data.events())?;
        let lr = 2.0 * (out.log_likelihood - out.null_log_likelihood);
        let report = CoxReport {
            coefficients,
            partial_log_likelihood: out.log_likelihood,
            null_log_likelihood: out.null_log_likelihood,
            likelihood_ratio: (lr, p, chi2_sf(lr, p as f64)),
            concordance,
            rows: n,
            events,
            ties: opts.ties,
            fit: FitReport {
                names,
                log_likelihood: out.log_likelihood,
                iterations: out.iterations,
                termination: Termination::GradientTolerance,
                std_errors: se,
                correlations,
            },
        };
        Ok((model, report))
    }
}

impl CoxOptions {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Tie handling.
    pub fn ties(mut self, ties: Ties) -> Self {
        self.ties = ties;
        self
    }

    /// Confidence level of the hazard-ratio intervals, in (0, 1).
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// Newton iterations cap (≥ 1) and step tolerance (> 0).
    pub fn iterations(mut self, max_iterations: u64, tolerance: f64) -> Self {
        self.max_iterations = max_iterations;
        self.tolerance = tolerance;
        self
    }

    fn check(&self) -> Result<()> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::InvalidOption {
                option: "confidence",
                reason: format!("{} is not in (0, 1)", self.confidence),
            });
        }
        if self.max_iterations == 0 || self.tolerance.is_nan() || self.tolerance <= 0.0 {
            return Err(Error::InvalidOption {
                option: "iterations",
                reason: format!(
                    "need max_iterations ≥ 1 and tolerance > 0, got {} and {}",
                    self.max_iterations, self.tolerance
                ),
            });
        }
        Ok(())
    }
}

/// The data of a fit, rows sorted by time descending, covariates standardised.
struct Problem<'a> {
    names: &'a [String],
    p: usize,
    /// Standardised covariates, row-major, in `order`.
    z: Vec<f64>,
    time: Vec<f64>,
    event: Vec<bool>,
    weight: Vec<f64>,
    /// Spread of each original covariate (β_original = β_standardised / scale).
    scale: Vec<f64>,
}

struct NewtonOut {
    beta: Vec<f64>,
    cov: Vec<f64>,
    log_likelihood: f64,
    null_log_likelihood: f64,
    iterations: u64,
}

impl<'a> Problem<'a> {
    fn new(data: &SurvivalData, x: ArrayView2<'_, f64>, names: &'a [String]) -> Result<Self> {
        let (n, p) = x.dim();
        let sums = sum_chunked(n, 2 * p, |i, acc| {
            let (s, _) = acc.split_at_mut(p);
            for (a, v) in s.iter_mut().zip(x.row(i)) {
                *a += v;
            }
        });
        let mean: Vec<f64> = sums[..p].iter().map(|s| s / n as f64).collect();
        let ss = sum_chunked(n, p, |i, acc| {
            for ((a, v), m) in acc.iter_mut().zip(x.row(i)).zip(&mean) {
                *a += (v - m) * (v - m);
            }
        });
        let mut scale = Vec::with_capacity(p);
        for j in 0..p {
            let sd = (ss[j] / n as f64).sqrt();
            // Spread below rounding noise of the values themselves is no spread.
            if sd.is_nan() || sd <= 1e-12 * mean[j].abs().max(f64::MIN_POSITIVE) {
                return Err(Error::Degenerate {
                    input: names[j].clone(),
                    reason: format!("the covariate is constant ({})", x[[0, j]]),
                });
            }
            scale.push(sd);
        }
        let mut order: Vec<u32> = (0..n as u32).collect();
        let d = data.durations();
        order
            .par_sort_unstable_by(|&a, &b| d[b as usize].total_cmp(&d[a as usize]).then(a.cmp(&b)));
        let mut z = vec![0.0; n * p];
        z.par_chunks_mut(p)
            .zip(order.par_iter())
            .for_each(|(row, &i)| {
                for j in 0..p {
                    row[j] = (x[[i as usize, j]] - mean[j]) / scale[j];
                }
            });
        let problem = Problem {
            names,
            p,
            time: order.iter().map(|&i| d[i as usize]).collect(),
            event: order.iter().map(|&i| data.events()[i as usize]).collect(),
            weight: order.iter().map(|&i| data.weight(i as usize)).collect(),
            z,
            scale,
        };
        problem.check_collinear()?;
        Ok(problem)
    }

    /// A covariate that is (to 1e-10 of its variance) a combination of the ones before
    /// it fails its Cholesky pivot of the correlation matrix.
    fn check_collinear(&self) -> Result<()> {
        let (p, n) = (self.p, self.time.len());
        let corr = gram(&self.z, p, n, |_| 1.0);
        let Err(j) = cholesky(&corr, p, 1e-10) else {
            return Ok(());
        };
        // Regress covariate j on the earlier ones to name its partners.
        let partners = match cholesky(&sub_matrix(&corr, p, j), j, 0.0) {
            Ok(l) => {
                let rhs: Vec<f64> = (0..j).map(|a| corr[a * p + j]).collect();
                let c = cholesky_solve(&l, j, &rhs);
                (0..j)
                    .filter(|&a| c[a].abs() > 1e-6)
                    .map(|a| format!("`{}`", self.names[a]))
                    .collect::<Vec<_>>()
            }
            Err(_) => Vec::new(),
        };
        Err(Error::Degenerate {
            input: self.names[j].clone(),
            reason: format!(
                "the covariate is collinear with {}",
                if partners.is_empty() {
                    "the covariates before it".to_string()
                } else {
                    partners.join(", ")
                }
            ),
        })
    }

    /// Log partial likelihood, gradient and information (negative Hessian, row-major)
    /// at standardised β.
    fn evaluate(&self, beta: &[f64], ties: Ties) -> (f64, Vec<f64>, Vec<f64>) {
        let (p, n) = (self.p, self.time.len());
        let mut eta: Vec<f64> = self
            .z
            .par_chunks(p)
            .map(|row| row.iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect();
        // Shifting every η by a constant leaves the likelihood unchanged (it cancels between
        // the numerator and the risk-set sums) and keeps exp(η) ≤ 1.
        let shift = eta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        eta.par_iter_mut().for_each(|e| *e -= shift);
        let tri = p * (p + 1) / 2;
        let (mut s0, mut s1, mut s2) = (0.0, vec![0.0; p], vec![0.0; tri]);
        let (mut ll, mut grad, mut info) = (0.0, vec![0.0; p], vec![0.0; tri]);
        // Tied-event sums: Σ r, Σ r z, Σ r z zᵀ over the events at one time.
        let (mut e1, mut e2) = (vec![0.0; p], vec![0.0; tri]);
        let (mut z1, mut z2) = (vec![0.0; p], vec![0.0; tri]);
        let mut a = 0;
        while a < n {
            let t = self.time[a];
            let mut b = a;
            let (mut e0, mut deaths, mut wdeath) = (0.0, 0usize, 0.0);
            e1.iter_mut().for_each(|v| *v = 0.0);
            e2.iter_mut().for_each(|v| *v = 0.0);
            while b < n && self.time[b].to_bits() == t.to_bits() {
                let w = self.weight[b];
                let r = w * eta[b].exp();
                let zr = &self.z[b * p..(b + 1) * p];
                s0 += r;
                add_outer(&mut s1, &mut s2, zr, r);
                if self.event[b] {
                    e0 += r;
                    add_outer(&mut e1, &mut e2, zr, r);
                    deaths += 1;
                    wdeath += w;
                    ll += w * eta[b];
                    for (g, v) in grad.iter_mut().zip(zr) {
                        *g += w * v;
                    }
                }
                b += 1;
            }
            if deaths > 0 {
                match ties {
                    Ties::Breslow => {
                        risk_term(&mut ll, &mut grad, &mut info, wdeath, s0, &s1, &s2);
                    }
                    Ties::Efron => {
                        // Each of the d tied events carries the mean weight of the tied
                        // events (lifelines' weighted Efron).
                        let wbar = wdeath / deaths as f64;
                        for l in 0..deaths {
                            let f = l as f64 / deaths as f64;
                            for k in 0..p {
                                z1[k] = s1[k] - f * e1[k];
                            }
                            for k in 0..tri {
                                z2[k] = s2[k] - f * e2[k];
                            }
                            risk_term(&mut ll, &mut grad, &mut info, wbar, s0 - f * e0, &z1, &z2);
                        }
                    }
                }
            }
            a = b;
        }
        let mut full = vec![0.0; p * p];
        let mut k = 0;
        for i in 0..p {
            for j in i..p {
                full[i * p + j] = info[k];
                full[j * p + i] = info[k];
                k += 1;
            }
        }
        (ll, grad, full)
    }

    /// Newton's method with step halving, from β = 0.
    fn newton(&self, opts: &CoxOptions) -> Result<NewtonOut> {
        let p = self.p;
        let mut beta = vec![0.0; p];
        let (mut ll, mut grad, mut info) = self.evaluate(&beta, opts.ties);
        let null_log_likelihood = ll;
        for iteration in 1..=opts.max_iterations {
            let l = cholesky(&info, p, 0.0).map_err(|j| Error::Numerical {
                procedure: "Cox fit",
                reason: format!(
                    "the information matrix is singular at covariate `{}`",
                    self.names[j]
                ),
            })?;
            let step = cholesky_solve(&l, p, &grad);
            let mut scale = 1.0;
            loop {
                let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + scale * s).collect();
                let (tll, tgrad, tinfo) = self.evaluate(&trial, opts.ties);
                if tll.is_finite() && tll >= ll - 1e-12 * ll.abs() {
                    let change = (tll - ll).abs();
                    let largest = step.iter().fold(0.0f64, |m, s| m.max((scale * s).abs()));
                    beta = trial;
                    (ll, grad, info) = (tll, tgrad, tinfo);
                    if largest < opts.tolerance && change <= 1e-12 * ll.abs().max(1.0) {
                        let cov = invert_spd(&info, p).ok_or_else(|| Error::Numerical {
                            procedure: "Cox fit",
                            reason: "the information matrix at the estimate is singular".into(),
                        })?;
                        return Ok(NewtonOut {
                            beta,
                            cov,
                            log_likelihood: ll,
                            null_log_likelihood,
                            iterations: iteration,
                        });
                    }
                    break;
                }
                scale /= 2.0;
                if scale < 1e-10 {
                    // No ascent along Newton's direction: at a maximum to rounding.
                    let cov = invert_spd(&info, p).ok_or_else(|| Error::Numerical {
                        procedure: "Cox fit",
                        reason: "the information matrix at the estimate is singular".into(),
                    })?;
                    return Ok(NewtonOut {
                        beta,
                        cov,
                        log_likelihood: ll,
                        null_log_likelihood,
                        iterations: iteration,
                    });
                }
            }
        }
        let j = (0..p)
            .max_by(|&a, &b| beta[a].abs().total_cmp(&beta[b].abs()))
            .unwrap_or(0);
        Err(Error::Numerical {
            procedure: "Cox fit",
            reason: format!(
                "no convergence in {} Newton iterations; the coefficient of `{}` is still \
                 moving (β = {:.3} per unit): does the covariate separate events from \
                 non-events?",
                opts.max_iterations,
                self.names[j],
                beta[j] / self.scale[j]
            ),
        })
    }
}

/// Adds r z and r z zᵀ (upper triangle, packed by rows) into s1 and s2.
#[inline]
fn add_outer(s1: &mut [f64], s2: &mut [f64], z: &[f64], r: f64) {
    let mut k = 0;
    for (i, zi) in z.iter().enumerate() {
        let rz = r * zi;
        s1[i] += rz;
        for zj in &z[i..] {
            s2[k] += rz * zj;
            k += 1;
        }
    }
}

/// Subtracts one event's share of the risk set (weight w, sums s0, s1, s2) from the
/// log-likelihood and gradient, and adds it to the information.
#[inline]
fn risk_term(
    ll: &mut f64,
    grad: &mut [f64],
    info: &mut [f64],
    w: f64,
    s0: f64,
    s1: &[f64],
    s2: &[f64],
) {
    *ll -= w * s0.ln();
    let mut k = 0;
    for i in 0..s1.len() {
        let mi = s1[i] / s0;
        grad[i] -= w * mi;
        for s1j in &s1[i..] {
            info[k] += w * (s2[k] / s0 - mi * s1j / s0);
            k += 1;
        }
    }
}

/// Σ w(i) zᵢ zᵢᵀ / n over rows of a row-major matrix (full, row-major), in fixed order.
fn gram(z: &[f64], p: usize, n: usize, w: impl Fn(usize) -> f64 + Sync) -> Vec<f64> {
    let tri = p * (p + 1) / 2;
    let packed = sum_chunked(n, tri, |i, acc| {
        let row = &z[i * p..(i + 1) * p];
        let mut k = 0;
        let wi = w(i);
        for a in 0..p {
            for b in a..p {
                acc[k] += wi * row[a] * row[b];
                k += 1;
            }
        }
    });
    let mut full = vec![0.0; p * p];
    let mut k = 0;
    for a in 0..p {
        for b in a..p {
            full[a * p + b] = packed[k] / n as f64;
            full[b * p + a] = packed[k] / n as f64;
            k += 1;
        }
    }
    full
}

/// The leading j × j block of a p × p matrix.
fn sub_matrix(a: &[f64], p: usize, j: usize) -> Vec<f64> {
    (0..j * j).map(|k| a[(k / j) * p + k % j]).collect()
}

/// Harrell's concordance index of risk scores (higher = earlier event) against observed
/// durations: among comparable pairs (the shorter duration ends in an event; equal
/// durations count when exactly one is an event, which is then the shorter), the share
/// where the shorter one has the higher risk, ties in risk counting ½. lifelines'
/// `concordance_index(durations, -risk, events)` computes the same number.
///
/// O(n log n): rows are visited by time; the risks of earlier events sit in a Fenwick
/// tree over their ranks.
///
/// # Errors
/// [`Error::InvalidOption`] for mismatched lengths or a non-finite risk;
/// [`Error::Degenerate`] when no pair is comparable.
pub fn concordance_index(durations: &[f64], risk: &[f64], events: &[bool]) -> Result<f64> {
    let n = durations.len();
    if risk.len() != n || events.len() != n {
        return Err(Error::InvalidOption {
            option: "risk",
            reason: format!(
                "{} durations, {} risks, {} events: need one of each per row",
                n,
                risk.len(),
                events.len()
            ),
        });
    }
    if let Some(i) = risk.iter().position(|r| !r.is_finite()) {
        return Err(Error::InvalidOption {
            option: "risk",
            reason: format!("risk {i} is {}", risk[i]),
        });
    }
    // Ranks of the event rows' risks.
    let mut levels: Vec<u64> = (0..n)
        .filter(|&i| events[i])
        .map(|i| order_key(risk[i]))
        .collect();
    levels.par_sort_unstable();
    levels.dedup();
    let mut order: Vec<u32> = (0..n as u32).collect();
    // Events before censorings at the same time: a censoring at t is compared with the
    // events at t.
    order.par_sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        durations[a]
            .total_cmp(&durations[b])
            .then(events[b].cmp(&events[a]))
            .then(a.cmp(&b))
    });
    let mut tree = vec![0u64; levels.len() + 1];
    let (mut pool, mut pairs, mut correct, mut tied) = (0u64, 0u64, 0u64, 0u64);
    // Counts of pooled risks strictly below, and equal to, a value.
    let count = |tree: &[u64], v: f64| -> (u64, u64) {
        let key = order_key(v);
        let below = levels.partition_point(|&l| l < key);
        let upto = levels.partition_point(|&l| l <= key);
        (
            prefix(tree, below),
            prefix(tree, upto) - prefix(tree, below),
        )
    };
    let mut a = 0;
    while a < n {
        let t = durations[order[a] as usize];
        let same = |k: usize| k < n && durations[order[k] as usize].to_bits() == t.to_bits();
        // The events at t, compared with earlier events, then pooled.
        let mut b = a;
        while same(b) && events[order[b] as usize] {
            let (below, equal) = count(&tree, risk[order[b] as usize]);
            pairs += pool;
            // An earlier event is concordant when its risk is higher than this one's.
            correct += pool - below - equal;
            tied += equal;
            b += 1;
        }
        for &i in &order[a..b] {
            let rank = levels.partition_point(|&l| l < order_key(risk[i as usize]));
            add(&mut tree, rank + 1);
            pool += 1;
        }
        // The censorings at t, compared with events up to and including t.
        while same(b) {
            let (below, equal) = count(&tree, risk[order[b] as usize]);
            pairs += pool;
            correct += pool - below - equal;
            tied += equal;
            b += 1;
        }
        a = b;
    }
    if pairs == 0 {
        return Err(Error::Degenerate {
            input: "events".into(),
            reason: "no pair of rows is comparable (no event before another row's end)".into(),
        });
    }
    Ok((correct as f64 + tied as f64 / 2.0) / pairs as f64)
}

/// A u64 that sorts like the float (total order; −0 and +0 equal).
fn order_key(v: f64) -> u64 {
    let bits = (v + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn add(tree: &mut [u64], mut i: usize) {
    while i < tree.len() {
        tree[i] += 1;
        i += i & i.wrapping_neg();
    }
}

/// Sum of the first `i` positions.
fn prefix(tree: &[u64], mut i: usize) -> u64 {
    let mut s = 0;
    while i > 0 {
        s += tree[i];
        i -= i & i.wrapping_neg();
    }
    s
}
