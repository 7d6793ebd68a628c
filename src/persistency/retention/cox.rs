//! The Cox proportional-hazards model: h(t | x) = h₀(t) exp(xᵀβ), fitted by Newton's
//! method on the partial likelihood with Efron's (default) or Breslow's handling of tied
//! event times, Harrell's concordance index, and Breslow's baseline hazard for survival
//! curves and medians of new rows.
//!
//! The fit works on centred and scaled covariates (one parallel pass for the means and
//! spreads), which keeps exp(xᵀβ) in range and the information matrix well conditioned;
//! coefficients and standard errors are mapped back to the original units. A constant
//! covariate, or one that is a linear combination of the covariates before it, is an
//! [`Error::Degenerate`] naming it, found before the fit from the correlation matrix.

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use crate::data::Area;
use crate::error::{Error, Result};
use crate::numerics::survival::{chi2_sf, z_for, SurvivalData};
use crate::numerics::{
    add_cross_product, cholesky, cholesky_solve, harrell, invert_spd, order_key, sum_blocks,
    sum_chunked, FitReport, Fitted, Termination,
};

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
/// iterations, converged when the next Newton step is below 1e-9 in every coefficient
/// (in standard deviations of the covariates).
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

/// A Cox model: covariate names and coefficients (log hazard ratios per unit) and, when
/// fitted, the baseline cumulative hazard that turns them into survival curves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxPh {
    names: Vec<String>,
    coefficients: Vec<f64>,
    #[serde(default)]
    baseline: Option<CoxBaseline>,
}

/// Breslow's estimate of the baseline cumulative hazard, at the covariate means of the
/// fitted data (as lifelines' `baseline_cumulative_hazard_` and R's centred `basehaz`):
///
/// H₀(t) = Σ over times s ≤ t of (weight of the events at s) / Σ over the rows still at
/// risk at s of w exp((x − centre)ᵀβ).
///
/// Breslow's form whichever ties the coefficients were fitted with, as lifelines does.
/// H₀ is a right-continuous step function of time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoxBaseline {
    /// The covariate values the baseline refers to: the fitted data's means.
    pub centre: Vec<f64>,
    /// Every distinct duration of the fitted data, ascending (censoring-only times
    /// included, where the hazard does not step).
    pub times: Vec<f64>,
    /// H₀ at each of `times`.
    pub cumulative_hazard: Vec<f64>,
}

impl CoxBaseline {
    /// H₀(t): its value at the last baseline time at or before `t`, 0 before the first.
    pub fn cumulative_hazard_at(&self, t: f64) -> f64 {
        match self.times.partition_point(|&s| s <= t) {
            0 => 0.0,
            k => self.cumulative_hazard[k - 1],
        }
    }

    /// Baseline survival S₀(t) = exp(−H₀(t)) at each of `times`.
    pub fn survival(&self) -> Vec<f64> {
        self.cumulative_hazard.iter().map(|h| (-h).exp()).collect()
    }
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
    /// Likelihood-ratio test of all β = 0.
    pub likelihood_ratio: LikelihoodRatio,
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

/// A likelihood-ratio test: 2 (ℓ − ℓ₀) against χ² with `df` degrees of freedom.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LikelihoodRatio {
    /// 2 (ℓ − ℓ₀).
    pub statistic: f64,
    /// Degrees of freedom (the number of covariates).
    pub df: usize,
    /// Upper-tail p-value.
    pub p_value: f64,
}

impl CoxPh {
    /// A model from covariate names and coefficients (finite, one per name).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `coefficients` is not one per name;
    /// [`Error::BadValue`] for a non-finite coefficient (its position, and its covariate
    /// as the field).
    pub fn new(names: Vec<String>, coefficients: Vec<f64>) -> Result<Self> {
        Error::check_len("coefficients", coefficients.len(), names.len(), "names")?;
        if let Some(j) = coefficients.iter().position(|b| !b.is_finite()) {
            return Err(Error::bad_value(
                "coefficients",
                j,
                names[j].as_str(),
                coefficients[j],
                "a finite coefficient",
            ));
        }
        Ok(CoxPh {
            names,
            coefficients,
            baseline: None,
        })
    }

    /// The baseline cumulative hazard; `None` for a model built from coefficients alone.
    pub fn baseline(&self) -> Option<&CoxBaseline> {
        self.baseline.as_ref()
    }

    /// Survival curves S(t | x) = exp(−H₀(t) exp((x − centre)ᵀβ)) of the rows of `x` at
    /// `times`: rows × times, rows in parallel. H₀ steps at the baseline times, so the
    /// curves equal lifelines' `predict_survival_function` there (lifelines interpolates
    /// linearly between them; a step function is the estimate itself).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (option `baseline`) without a baseline (a model built by
    /// [`CoxPh::new`]); [`Error::LengthMismatch`] for a column count other than the
    /// covariates'; [`Error::BadValue`] for a non-finite value in `x` (row and covariate
    /// named), a row whose xᵀβ overflows, or a NaN time.
    pub fn predict_survival(&self, x: ArrayView2<'_, f64>, times: &[f64]) -> Result<Array2<f64>> {
        let (baseline, hazard_ratio) = self.relative_hazards(x)?;
        if let Some(i) = times.iter().position(|t| t.is_nan()) {
            return Err(Error::bad_value(
                "times",
                i,
                "time",
                times[i],
                "a time (not NaN)",
            ));
        }
        let h0: Vec<f64> = times
            .iter()
            .map(|&t| baseline.cumulative_hazard_at(t))
            .collect();
        let mut out = Array2::zeros((hazard_ratio.len(), times.len()));
        out.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(hazard_ratio.par_iter())
            .for_each(|(mut row, hr)| {
                for (s, h) in row.iter_mut().zip(&h0) {
                    // Before the first event H₀ = 0 and S = 1 even for an infinite ratio.
                    *s = if *h == 0.0 { 1.0 } else { (-h * hr).exp() };
                }
            });
        Ok(out)
    }

    /// Median survival time of each row of `x`: the first baseline time at which
    /// S(t | x) ≤ ½ (lifelines' `predict_median`), `None` when the curve stays above ½
    /// over the fitted data's times.
    ///
    /// # Errors
    /// As [`predict_survival`](Self::predict_survival).
    pub fn predict_median(&self, x: ArrayView2<'_, f64>) -> Result<Vec<Option<f64>>> {
        let (baseline, hazard_ratio) = self.relative_hazards(x)?;
        let h = &baseline.cumulative_hazard;
        Ok(hazard_ratio
            .par_iter()
            .map(|hr| {
                // S ≤ ½ ⇔ H₀ hr ≥ ln 2; H₀ never decreases, so a binary search.
                let k = h.partition_point(|&v| v == 0.0 || (-v * hr).exp() > 0.5);
                baseline.times.get(k).copied()
            })
            .collect())
    }

    /// The baseline and exp((x − centre)ᵀβ) of each row of `x`.
    fn relative_hazards(&self, x: ArrayView2<'_, f64>) -> Result<(&CoxBaseline, Vec<f64>)> {
        let baseline = self.baseline.as_ref().ok_or_else(|| {
            Error::option(
                "baseline",
                "none",
                "a baseline hazard, which only a fitted model has (CoxPh::new builds a \
                 model from coefficients alone)",
            )
        })?;
        let eta = self.linear_predictor(x)?;
        if let Some(i) = eta.iter().position(|e| !e.is_finite()) {
            return Err(match x.row(i).iter().position(|v| !v.is_finite()) {
                Some(j) => Error::bad_value(
                    "covariates",
                    i,
                    self.names[j].as_str(),
                    x[[i, j]],
                    "a finite value",
                ),
                None => Error::bad_value(
                    "covariates",
                    i,
                    "xᵀβ",
                    eta[i],
                    "a row whose linear predictor xᵀβ is finite",
                ),
            });
        }
        let offset: f64 = baseline
            .centre
            .iter()
            .zip(&self.coefficients)
            .map(|(m, b)| m * b)
            .sum();
        Ok((baseline, eta.iter().map(|e| (e - offset).exp()).collect()))
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
    /// [`Error::LengthMismatch`] when `x` does not have one column per covariate.
    pub fn linear_predictor(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        Error::check_len(
            "covariate columns",
            x.ncols(),
            self.coefficients.len(),
            "coefficients of the model",
        )?;
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

    /// Fits the model to survival data and covariates `x` (one row per subject, one
    /// column per name).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options or no covariates; [`Error::LengthMismatch`]
    /// when `x` is not one row per subject and one column per name; [`Error::BadValue`]
    /// for a non-finite covariate value (naming row and covariate); [`Error::Degenerate`]
    /// for no events or a constant or collinear covariate (naming it);
    /// [`Error::Numerical`] for a covariate whose values are too large to sum, or when
    /// Newton's method does not converge, naming the covariate whose coefficient runs
    /// away (typically one that separates events from non-events).
    pub fn fit<S: AsRef<str>>(
        &self,
        data: &SurvivalData,
        x: ArrayView2<'_, f64>,
        names: &[S],
    ) -> Result<Fitted<CoxPh, CoxReport>> {
        self.validate()?;
        data.scope().require(Area::Persistency)?;
        let names: Vec<String> = names.iter().map(|s| s.as_ref().to_string()).collect();
        let (n, p) = x.dim();
        Error::check_len("covariate rows", n, data.len(), "rows of the survival data")?;
        Error::check_len("covariate columns", p, names.len(), "names")?;
        if p == 0 {
            return Err(Error::option(
                "covariates",
                "0 columns",
                "at least one covariate column",
            ));
        }
        let events = data.events().iter().filter(|&&e| e).count();
        if events == 0 {
            return Err(Error::Degenerate {
                input: "event".into(),
                reason: "no row has the event observed".into(),
            });
        }
        let problem = Problem::new(data, x, &names)?;
        let out = problem.newton(self)?;
        let z_crit = z_for(self.confidence)?;
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
        let mut model = CoxPh::new(names.clone(), beta)?;
        let eta = problem.linear_predictor(&out.beta);
        model.baseline = Some(problem.baseline(&eta));
        let concordance = problem.concordance(&eta)?;
        let lr = 2.0 * (out.log_likelihood - out.null_log_likelihood);
        let report = CoxReport {
            coefficients,
            partial_log_likelihood: out.log_likelihood,
            null_log_likelihood: out.null_log_likelihood,
            likelihood_ratio: LikelihoodRatio {
                statistic: lr,
                df: p,
                p_value: chi2_sf(lr, p as f64),
            },
            concordance,
            rows: n,
            events,
            ties: self.ties,
            fit: FitReport {
                names,
                log_likelihood: out.log_likelihood,
                iterations: out.iterations,
                termination: Termination::GradientTolerance,
                std_errors: se,
                correlations,
                scope: None,
            },
        };
        Ok(Fitted { model, report })
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        z_for(self.confidence)?;
        if self.max_iterations == 0 {
            return Err(Error::option(
                "iterations",
                "max_iterations = 0",
                format!("max_iterations ≥ 1 (with tolerance {})", self.tolerance),
            ));
        }
        if self.tolerance.is_nan() || self.tolerance <= 0.0 {
            return Err(Error::option(
                "iterations",
                format!("tolerance = {}", self.tolerance),
                format!(
                    "a tolerance > 0 (with max_iterations {})",
                    self.max_iterations
                ),
            ));
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
    event: Vec<bool>,
    weight: Vec<f64>,
    /// Mean and spread of each original covariate (β_original = β_standardised / scale).
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// The time of each group of tied times (descending, as the rows).
    group_time: Vec<f64>,
    /// First row of each group of tied times (and n at the end).
    group_start: Vec<usize>,
    /// Chunks of whole groups, about `CHUNK_ROWS` rows each: the unit of parallel work,
    /// fixed by the data alone so sums come out the same on any number of threads.
    chunks: Vec<std::ops::Range<usize>>,
}

/// Rows per parallel chunk of the likelihood passes.
const CHUNK_ROWS: usize = 1 << 13;

/// What one chunk of groups adds to the log-likelihood, gradient and information, with
/// each group's Efron sums a = Σ w̄ / D_l and b = Σ w̄ f_l / D_l.
struct ChunkTerms {
    ll: f64,
    grad: Vec<f64>,
    info: Vec<f64>,
    ab: Vec<(f64, f64)>,
}

/// Per-row buffers of the likelihood passes, kept across Newton's evaluations.
#[derive(Default)]
struct Work {
    eta: Vec<f64>,
    r: Vec<f64>,
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
        let xs = x.as_standard_layout();
        // A standard-layout array is one contiguous slice.
        let flat = xs.as_slice().unwrap_or(&[]);
        let row = |i: usize| &flat[i * p..(i + 1) * p];
        let sums = sum_chunked(n, p, |i, acc| {
            for (a, v) in acc.iter_mut().zip(row(i)) {
                *a += v;
            }
        });
        // A NaN or infinite value makes its column's sum non-finite, so the sums stand in
        // for a separate pass over the values; only then are the rows searched.
        if sums.iter().any(|s| !s.is_finite()) {
            let bad = flat.par_iter().position_first(|v| !v.is_finite());
            return Err(match bad {
                Some(k) => Error::bad_value(
                    "covariates",
                    k / p,
                    names[k % p].as_str(),
                    flat[k],
                    "a finite value",
                ),
                None => {
                    let j = sums.iter().position(|s| !s.is_finite()).unwrap_or(0);
                    Error::Numerical {
                        procedure: "covariate sums",
                        reason: format!(
                            "the values of `{}` are too large to sum (beyond 1e308)",
                            names[j]
                        ),
                    }
                }
            });
        }
        let mean: Vec<f64> = sums.iter().map(|s| s / n as f64).collect();
        // Centred second moments: the variances and, for the collinearity check, the
        // correlations, as Xcᵀ Xc over fixed blocks of rows.
        let moments = sum_blocks(n, p * p, |rows, acc| {
            let mut centred = Vec::with_capacity(rows.len() * p);
            for i in rows {
                centred.extend(row(i).iter().zip(&mean).map(|(v, m)| v - m));
            }
            add_cross_product(&centred, &centred, p, acc);
        });
        let cov: Vec<f64> = moments.iter().map(|m| m / n as f64).collect();
        let mut scale = Vec::with_capacity(p);
        for j in 0..p {
            let sd = cov[j * p + j].sqrt();
            // Spread below rounding noise of the values themselves is no spread.
            if sd.is_nan() || sd <= 1e-12 * mean[j].abs().max(f64::MIN_POSITIVE) {
                return Err(Error::Degenerate {
                    input: names[j].clone(),
                    reason: format!("the covariate is constant ({})", x[[0, j]]),
                });
            }
            scale.push(sd);
        }
        let corr: Vec<f64> = (0..p * p)
            .map(|k| cov[k] / (scale[k / p] * scale[k % p]))
            .collect();
        check_collinear(&corr, p, names)?;
        // Latest time first; durations are ≥ 0, so their bits order like the numbers.
        let d = data.durations();
        let mut keyed: Vec<(u64, u32)> = (0..n)
            .into_par_iter()
            .map(|i| (!d[i].to_bits(), i as u32))
            .collect();
        keyed.par_sort_unstable();
        let order: Vec<u32> = keyed.into_iter().map(|(_, i)| i).collect();
        // Rows copied whole first and standardised after, a block at a time: with no
        // arithmetic between them the random reads overlap, about three times faster than
        // standardising each row as it is read.
        const GATHER: usize = 1 << 10;
        let mut z = vec![0.0; n * p];
        z.par_chunks_mut(p * GATHER)
            .zip(order.par_chunks(GATHER))
            .for_each(|(out, idx)| {
                for (o, &i) in out.chunks_mut(p).zip(idx) {
                    o.copy_from_slice(row(i as usize));
                }
                for o in out.chunks_mut(p) {
                    for ((v, m), sd) in o.iter_mut().zip(&mean).zip(&scale) {
                        *v = (*v - m) / sd;
                    }
                }
            });
        let time: Vec<f64> = order.par_iter().map(|&i| d[i as usize]).collect();
        let mut group_start: Vec<usize> = (0..n)
            .filter(|&i| i == 0 || time[i].to_bits() != time[i - 1].to_bits())
            .collect();
        let group_time = group_start.iter().map(|&i| time[i]).collect();
        group_start.push(n);
        let mut chunks = Vec::new();
        let mut g = 0;
        while g + 1 < group_start.len() {
            let start = g;
            while g + 1 < group_start.len() && group_start[g] - group_start[start] < CHUNK_ROWS {
                g += 1;
            }
            chunks.push(start..g);
        }
        let problem = Problem {
            names,
            p,
            event: order
                .par_iter()
                .map(|&i| data.events()[i as usize])
                .collect(),
            weight: order.par_iter().map(|&i| data.weight(i as usize)).collect(),
            z,
            mean,
            scale,
            group_time,
            group_start,
            chunks,
        };
        Ok(problem)
    }

    /// Log partial likelihood, gradient and information (negative Hessian, row-major)
    /// at standardised β.
    ///
    /// Rows run from the latest time to the earliest, so the risk set of a group of tied
    /// times is every row up to the group's end. Three parallel passes over fixed chunks
    /// of whole groups, summed in chunk order:
    /// 1. chunk totals of r = w e^η and r z, turned into each chunk's starting risk-set
    ///    sums by an exclusive prefix;
    /// 2. per group with events: the Efron denominators D_l = S₀ − f_l E₀ (f_l = l / d;
    ///    Breslow: 0), the log-likelihood, the gradient, and the part of the information
    ///    built from first moments, −Σ_l w̄ (S₁ − f_l E₁)(S₁ − f_l E₁)ᵀ / D_l², expanded so
    ///    it costs O(p²) per group, not per event;
    /// 3. the second-moment part Σ_l w̄ (S₂ − f_l E₂) / D_l, regrouped by row: row i
    ///    enters S₂ of every group at or before its time (suffix sums of a = Σ w̄ / D_l)
    ///    and E₂ of its own group if it is an event (b = Σ w̄ f_l / D_l), so it adds
    ///    r_i (A_i − δ_i b) z_i z_iᵀ: one weighted Gram matrix Zᵀ diag(c) Z, a matrix
    ///    product per chunk, where the direct recursion would carry S₂ row by row on one
    ///    thread.
    // Row indices address four parallel arrays (r, η, events, z): index loops read best.
    #[allow(clippy::needless_range_loop)]
    fn evaluate(&self, beta: &[f64], ties: Ties, work: &mut Work) -> (f64, Vec<f64>, Vec<f64>) {
        let p = self.p;
        let tri = p * (p + 1) / 2;
        let n = self.event.len();
        work.eta.resize(n, 0.0);
        work.r.resize(n, 0.0);
        work.eta
            .par_iter_mut()
            .zip(self.z.par_chunks(p))
            .for_each(|(e, row)| *e = row.iter().zip(beta).map(|(a, b)| a * b).sum());
        // Shifting every η by a constant leaves the likelihood unchanged (it cancels between
        // the numerator and the risk-set sums) and keeps exp(η) ≤ 1.
        let shift = work
            .eta
            .par_iter()
            .copied()
            .reduce(|| f64::NEG_INFINITY, f64::max);
        let eta = &work.eta;
        work.r
            .par_iter_mut()
            .zip(eta.par_iter().zip(self.weight.par_iter()))
            .for_each(|(r, (e, w))| *r = w * (e - shift).exp());
        let r = &work.r;
        let rows = |c: &std::ops::Range<usize>| self.group_start[c.start]..self.group_start[c.end];
        // Pass 1: chunk totals, then each chunk's starting sums.
        let totals: Vec<Vec<f64>> = self
            .chunks
            .par_iter()
            .map(|c| {
                let mut t = vec![0.0; p + 1];
                for i in rows(c) {
                    t[0] += r[i];
                    for (a, z) in t[1..].iter_mut().zip(&self.z[i * p..(i + 1) * p]) {
                        *a += r[i] * z;
                    }
                }
                t
            })
            .collect();
        let mut start = Vec::with_capacity(totals.len());
        let mut run = vec![0.0; p + 1];
        for t in &totals {
            start.push(run.clone());
            for (a, b) in run.iter_mut().zip(t) {
                *a += b;
            }
        }
        // Pass 2: per group with events.
        let terms: Vec<ChunkTerms> = self
            .chunks
            .par_iter()
            .zip(start.par_iter())
            .map(|(c, s)| {
                let mut out = ChunkTerms {
                    ll: 0.0,
                    grad: vec![0.0; p],
                    info: vec![0.0; tri],
                    ab: Vec::with_capacity(c.len()),
                };
                let (mut s0, mut s1) = (s[0], s[1..].to_vec());
                let mut e1 = vec![0.0; p];
                for g in c.clone() {
                    let (a, b) = (self.group_start[g], self.group_start[g + 1]);
                    let (mut e0, mut deaths, mut wdeath) = (0.0, 0usize, 0.0);
                    e1.iter_mut().for_each(|v| *v = 0.0);
                    for i in a..b {
                        let zi = &self.z[i * p..(i + 1) * p];
                        s0 += r[i];
                        for (acc, z) in s1.iter_mut().zip(zi) {
                            *acc += r[i] * z;
                        }
                        if self.event[i] {
                            let w = self.weight[i];
                            e0 += r[i];
                            for ((acc, g), z) in e1.iter_mut().zip(out.grad.iter_mut()).zip(zi) {
                                *acc += r[i] * z;
                                *g += w * z;
                            }
                            deaths += 1;
                            wdeath += w;
                            out.ll += w * (eta[i] - shift);
                        }
                    }
                    if deaths == 0 {
                        out.ab.push((0.0, 0.0));
                        continue;
                    }
                    // Each of the d tied events carries the mean weight of the tied events
                    // (lifelines' weighted Efron); Breslow gives every one the whole set.
                    let wbar = wdeath / deaths as f64;
                    let (mut ga, mut gb, mut q0, mut q1, mut q2) = (0.0, 0.0, 0.0, 0.0, 0.0);
                    for l in 0..deaths {
                        let f = match ties {
                            Ties::Efron => l as f64 / deaths as f64,
                            Ties::Breslow => 0.0,
                        };
                        let d = s0 - f * e0;
                        out.ll -= wbar * d.ln();
                        ga += wbar / d;
                        gb += wbar * f / d;
                        q0 += wbar / (d * d);
                        q1 += wbar * f / (d * d);
                        q2 += wbar * f * f / (d * d);
                    }
                    let mut k = 0;
                    for i in 0..p {
                        out.grad[i] -= ga * s1[i] - gb * e1[i];
                        for j in i..p {
                            out.info[k] -= q0 * s1[i] * s1[j]
                                - q1 * (s1[i] * e1[j] + e1[i] * s1[j])
                                + q2 * e1[i] * e1[j];
                            k += 1;
                        }
                    }
                    out.ab.push((ga, gb));
                }
                out
            })
            .collect();
        // Suffix sums of a over groups, from the earliest time back.
        let ab: Vec<(f64, f64)> = terms.iter().flat_map(|t| t.ab.iter().copied()).collect();
        let mut suffix = vec![0.0; ab.len()];
        let mut acc = 0.0;
        for g in (0..ab.len()).rev() {
            acc += ab[g].0;
            suffix[g] = acc;
        }
        // Pass 3: the weighted Gram matrix, Zᵀ (c ∘ Z) per chunk as a matrix product.
        let grams: Vec<Vec<f64>> = self
            .chunks
            .par_iter()
            .map_init(Vec::new, |weighted, c| {
                let span = rows(c);
                weighted.clear();
                for g in c.clone() {
                    for i in self.group_start[g]..self.group_start[g + 1] {
                        let own = if self.event[i] { ab[g].1 } else { 0.0 };
                        let ci = r[i] * (suffix[g] - own);
                        weighted.extend(self.z[i * p..(i + 1) * p].iter().map(|z| ci * z));
                    }
                }
                let mut m = vec![0.0; p * p];
                add_cross_product(&self.z[span.start * p..span.end * p], weighted, p, &mut m);
                m
            })
            .collect();
        let (mut ll, mut grad, mut packed) = (0.0, vec![0.0; p], vec![0.0; tri]);
        let mut gram = vec![0.0; p * p];
        for (t, m) in terms.iter().zip(&grams) {
            ll += t.ll;
            for (a, b) in grad.iter_mut().zip(&t.grad) {
                *a += b;
            }
            for (a, b) in packed.iter_mut().zip(&t.info) {
                *a += b;
            }
            for (a, b) in gram.iter_mut().zip(m) {
                *a += b;
            }
        }
        // The upper triangle of the Gram part, mirrored (its two triangles may differ in
        // the last bit: the product sums z_a (c z_b) on one side, z_b (c z_a) on the other).
        let mut info = unpack_upper(&packed, p, 1.0);
        for a in 0..p {
            for b in a..p {
                info[a * p + b] += gram[a * p + b];
                info[b * p + a] = info[a * p + b];
            }
        }
        (ll, grad, info)
    }

    /// η = zᵀβ of every row (in time order) at standardised β: the centred linear
    /// predictor (x − mean)ᵀβ_original.
    fn linear_predictor(&self, beta: &[f64]) -> Vec<f64> {
        self.z
            .par_chunks(self.p)
            .map(|row| row.iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// Breslow's baseline cumulative hazard at the covariate means from the fitted η:
    /// per chunk, each group's Σ w e^η and event weight; then the risk-set sums run over
    /// the groups from the latest time, and the hazard accumulates from the earliest.
    fn baseline(&self, eta: &[f64]) -> CoxBaseline {
        // As in the likelihood, the shift keeps e^η in range; it is undone at the end.
        let shift = eta
            .par_iter()
            .copied()
            .reduce(|| f64::NEG_INFINITY, f64::max);
        let sums: Vec<(f64, f64)> = self
            .chunks
            .par_iter()
            .flat_map_iter(|c| {
                c.clone().map(|g| {
                    let span = self.group_start[g]..self.group_start[g + 1];
                    let (mut risk, mut died) = (0.0, 0.0);
                    for ((e, w), &event) in eta[span.clone()]
                        .iter()
                        .zip(&self.weight[span.clone()])
                        .zip(&self.event[span])
                    {
                        risk += w * (e - shift).exp();
                        if event {
                            died += w;
                        }
                    }
                    (risk, died)
                })
            })
            .collect();
        let mut at_risk = 0.0;
        let hazard: Vec<f64> = sums
            .iter()
            .map(|&(risk, died)| {
                at_risk += risk;
                if died > 0.0 {
                    died / at_risk * (-shift).exp()
                } else {
                    0.0
                }
            })
            .collect();
        let mut cumulative = 0.0;
        let cumulative_hazard = hazard
            .iter()
            .rev()
            .map(|h| {
                cumulative += h;
                cumulative
            })
            .collect();
        CoxBaseline {
            centre: self.mean.clone(),
            times: self.group_time.iter().rev().copied().collect(),
            cumulative_hazard,
        }
    }

    /// Harrell's C of the fitted η, on the rows already in time order (latest first:
    /// read backwards) and their groups, so no second sort by time. η is a constant away
    /// from xᵀβ: the same ranking.
    fn concordance(&self, eta: &[f64]) -> Result<f64> {
        let n = self.event.len();
        let rows: Vec<(u64, bool)> = (0..n)
            .into_par_iter()
            .map(|k| {
                let i = n - 1 - k;
                (order_key(eta[i]), self.event[i])
            })
            .collect();
        let groups: Vec<usize> = self.group_start.iter().rev().map(|&s| n - s).collect();
        harrell(rows, &groups)
    }

    fn finish(
        &self,
        beta: Vec<f64>,
        info: &[f64],
        log_likelihood: f64,
        null_log_likelihood: f64,
        iterations: u64,
    ) -> Result<NewtonOut> {
        let cov = invert_spd(info, self.p).ok_or_else(|| Error::Numerical {
            procedure: "Cox fit",
            reason: "the information matrix at the estimate is singular".into(),
        })?;
        Ok(NewtonOut {
            beta,
            cov,
            log_likelihood,
            null_log_likelihood,
            iterations,
        })
    }

    /// Newton's method with step halving, from β = 0.
    fn newton(&self, opts: &CoxOptions) -> Result<NewtonOut> {
        let p = self.p;
        let mut beta = vec![0.0; p];
        let mut work = Work::default();
        let (mut ll, mut grad, mut info) = self.evaluate(&beta, opts.ties, &mut work);
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
            let largest = step.iter().fold(0.0f64, |m, s| m.max(s.abs()));
            if largest < opts.tolerance {
                // Converged: the remaining Newton step is below tolerance. It is taken
                // without another evaluation (each is a pass over all rows); the
                // likelihood and information it would change move by O(step²).
                for (b, s) in beta.iter_mut().zip(&step) {
                    *b += s;
                }
                return self.finish(beta, &info, ll, null_log_likelihood, iteration);
            }
            let mut scale = 1.0;
            loop {
                let trial: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + scale * s).collect();
                let (tll, tgrad, tinfo) = self.evaluate(&trial, opts.ties, &mut work);
                if tll.is_finite() && tll >= ll - 1e-12 * ll.abs() {
                    beta = trial;
                    (ll, grad, info) = (tll, tgrad, tinfo);
                    break;
                }
                scale /= 2.0;
                if scale < 1e-10 {
                    // No ascent along Newton's direction: at a maximum to rounding.
                    return self.finish(beta, &info, ll, null_log_likelihood, iteration);
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

/// A covariate that is (to 1e-10 of its variance) a combination of the ones before it
/// fails its Cholesky pivot of the correlation matrix; the regression of it on the earlier
/// ones names its partners.
fn check_collinear(corr: &[f64], p: usize, names: &[String]) -> Result<()> {
    let Err(j) = cholesky(corr, p, 1e-10) else {
        return Ok(());
    };
    let partners = match cholesky(&sub_matrix(corr, p, j), j, 0.0) {
        Ok(l) => {
            let rhs: Vec<f64> = (0..j).map(|a| corr[a * p + j]).collect();
            let c = cholesky_solve(&l, j, &rhs);
            (0..j)
                .filter(|&a| c[a].abs() > 1e-6)
                .map(|a| format!("`{}`", names[a]))
                .collect::<Vec<_>>()
        }
        Err(_) => Vec::new(),
    };
    Err(Error::Degenerate {
        input: names[j].clone(),
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

/// The full symmetric p × p matrix (row-major), times `factor`, from its upper triangle
/// packed by rows.
fn unpack_upper(packed: &[f64], p: usize, factor: f64) -> Vec<f64> {
    let mut full = vec![0.0; p * p];
    let mut k = 0;
    for i in 0..p {
        for j in i..p {
            full[i * p + j] = packed[k] * factor;
            full[j * p + i] = packed[k] * factor;
            k += 1;
        }
    }
    full
}

/// The leading j × j block of a p × p matrix.
fn sub_matrix(a: &[f64], p: usize, j: usize) -> Vec<f64> {
    (0..j * j).map(|k| a[(k / j) * p + k % j]).collect()
}
