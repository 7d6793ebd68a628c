//! Maximum-likelihood glue: an objective with an analytic gradient, minimised by L-BFGS
//! (argmin) over log-parameters, and a report with standard errors from the observed
//! information matrix.

use std::sync::Mutex;

use argmin::core::{CostFunction, Executor, Gradient, State, TerminationReason, TerminationStatus};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use ndarray::Array1;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::linalg::invert_spd;
use crate::data::{Area, ScopeTag};
use crate::error::{Error, Result};

/// A negative log-likelihood over positive parameters θ, with its gradient.
pub(crate) trait Objective: Sync {
    /// Returns −ℓ(θ) and writes ∂(−ℓ)/∂θ into `grad`. Non-finite values mark θ as
    /// outside the region where the model is defined.
    fn value_and_gradient(&self, theta: &[f64], grad: &mut [f64]) -> f64;

    /// −ℓ(θ) with its gradient and Hessian (row-major), for models that have the Hessian
    /// in closed form: the fit then takes Newton steps, which converge in a handful of
    /// evaluations where L-BFGS needs twenty, and the standard errors come from the exact
    /// Hessian.
    fn value_gradient_hessian(
        &self,
        _theta: &[f64],
        _grad: &mut [f64],
        _hess: &mut [f64],
    ) -> Option<f64> {
        None
    }
}

/// Why a fit stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Termination {
    /// The gradient (in log-parameters) fell below the tolerance.
    GradientTolerance,
    /// The line search could make no further progress at a point where the gradient is
    /// small relative to the objective (converged to the precision of the arithmetic).
    NoProgress,
    /// The iteration cap was reached first.
    MaxIterations,
}

impl Termination {
    /// Whether the fit is at a maximum of the likelihood.
    pub fn converged(self) -> bool {
        !matches!(self, Termination::MaxIterations)
    }
}

/// What a maximum-likelihood fit reports besides the parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// Parameter names, in the order of the vectors below.
    pub names: Vec<String>,
    /// Total log-likelihood at the estimate (weighted by pattern counts), without the
    /// penalty.
    pub log_likelihood: f64,
    /// Optimiser iterations.
    pub iterations: u64,
    /// Why the optimiser stopped.
    pub termination: Termination,
    /// Standard errors from the inverse observed information matrix (NaN when that
    /// matrix is not positive definite).
    pub std_errors: Vec<f64>,
    /// Parameter correlations from the same matrix (row-major, `names.len()`²).
    pub correlations: Vec<f64>,
    /// The scope of the data the model was fitted to, when it came through a view (a
    /// [`Compact`](crate::summary::Compact) or [`Records`](crate::summary::Records) of a
    /// summary); `None` for rows given directly.
    #[serde(default)]
    pub scope: Option<ScopeTag>,
}

/// A fitted model with the report of the fit that produced it: what every `fit` in the
/// crate returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fitted<M, R = FitReport> {
    /// The model.
    pub model: M,
    /// How the fit went.
    pub report: R,
}

/// The input of a likelihood fit: rows of the model's data and, when they came through a
/// view, its scope. Slices, arrays and vectors of rows are inputs without a scope.
pub trait FitData<T> {
    /// The rows.
    fn rows(&self) -> &[T];
    /// The scope the rows were read under.
    fn scope(&self) -> Option<&ScopeTag> {
        None
    }
}

impl<T> FitData<T> for [T] {
    fn rows(&self) -> &[T] {
        self
    }
}

impl<T> FitData<T> for Vec<T> {
    fn rows(&self) -> &[T] {
        self
    }
}

impl<T, const N: usize> FitData<T> for [T; N] {
    fn rows(&self) -> &[T] {
        self
    }
}

/// A model fitted by maximum likelihood through [`FitOptions::fit`].
pub trait MaximumLikelihood: Sized {
    /// One row of the data the model is fitted to (a pattern, a record, a cohort).
    type Row;
    /// The area of analysis the model belongs to: a scope forbidding it cannot fit it.
    const AREA: Area;
    /// Fits the model to `rows` (called by [`FitOptions::fit`]).
    ///
    /// # Errors
    /// As [`FitOptions::fit`].
    fn estimate(rows: &[Self::Row], opts: &FitOptions) -> Result<Fitted<Self>>;
}

/// Settings of a maximum-likelihood fit.
///
/// Defaults: gradient tolerance 1e-8 (per customer, in log-parameters), at most 1000
/// iterations, the model's default starting point, no penalty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    tolerance: f64,
    max_iterations: u64,
    pub(crate) initial: Option<Vec<f64>>,
    pub(crate) penalty: f64,
}

impl Default for FitOptions {
    fn default() -> Self {
        FitOptions {
            tolerance: 1e-8,
            max_iterations: 1000,
            initial: None,
            penalty: 0.0,
        }
    }
}

impl FitOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops when the largest gradient component (per customer, in log-parameters) is
    /// below `tol` (> 0).
    pub fn tolerance(mut self, tol: f64) -> Self {
        self.tolerance = tol;
        self
    }

    /// Iteration cap (≥ 1).
    pub fn max_iterations(mut self, n: u64) -> Self {
        self.max_iterations = n;
        self
    }

    /// Starting parameters, in the model's order (all > 0).
    pub fn initial(mut self, params: &[f64]) -> Self {
        self.initial = Some(params.to_vec());
        self
    }

    /// L2 penalty λ: the fit maximises ℓ(θ) − λ Σ θᵢ² (λ ≥ 0), as lifetimes'
    /// `penalizer_coef` does per customer: here λ is also per customer, so it scales with
    /// the data.
    pub fn penalty(mut self, lambda: f64) -> Self {
        self.penalty = lambda;
        self
    }

    /// Fits model `M` by maximum likelihood (L-BFGS over log-parameters, or Newton's
    /// method where the model has its Hessian) and reports standard errors from the
    /// observed information; the report carries the data's scope.
    ///
    /// ```
    /// use acrm::persistency::BgNbd;
    /// use acrm::numerics::{FitOptions, Fitted};
    /// use acrm::summary::Pattern;
    /// let patterns = [
    ///     Pattern { x: 0, t_x: 0.0, t: 30.0, count: 50 },
    ///     Pattern { x: 2, t_x: 20.0, t: 30.0, count: 30 },
    ///     Pattern { x: 5, t_x: 28.0, t: 30.0, count: 20 },
    /// ];
    /// let bg: Fitted<BgNbd> = FitOptions::new().fit(&patterns[..])?;
    /// assert!(bg.report.termination.converged() && bg.report.scope.is_none());
    /// # Ok::<(), acrm::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an option out of its domain (see the setters);
    /// [`Error::ForbiddenArea`] when the data's scope forbids the model's area; the
    /// model's own data errors ([`Error::BadValue`] naming the first bad row,
    /// [`Error::EmptyInput`]); [`Error::Numerical`] when the optimiser fails.
    pub fn fit<M: MaximumLikelihood>(
        &self,
        data: &(impl FitData<M::Row> + ?Sized),
    ) -> Result<Fitted<M>> {
        if let Some(scope) = data.scope() {
            scope.require(M::AREA)?;
        }
        let mut fitted = M::estimate(data.rows(), self)?;
        fitted.report.scope = data.scope().cloned();
        Ok(fitted)
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        self.check(self.initial.as_ref().map_or(0, Vec::len))
            .map(|_| ())
    }

    pub(crate) fn check(&self, n_params: usize) -> Result<Settings> {
        if !(self.tolerance > 0.0 && self.tolerance.is_finite()) {
            return Err(Error::option(
                "tolerance",
                self.tolerance,
                "a positive finite number",
            ));
        }
        if self.max_iterations == 0 {
            return Err(Error::option("max_iterations", 0, "at least 1"));
        }
        if !(self.penalty >= 0.0 && self.penalty.is_finite()) {
            return Err(Error::option(
                "penalty",
                self.penalty,
                "a finite number ≥ 0",
            ));
        }
        if let Some(p) = &self.initial {
            if p.len() != n_params || p.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
                return Err(Error::option(
                    "initial",
                    format!("{p:?}"),
                    format!("{n_params} finite positive values"),
                ));
            }
        }
        Ok(Settings {
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
        })
    }
}

/// Sums `f(i, item)` over items in fixed chunks, reduced in order: the same bits for any
/// number of threads. `f` adds an item's weighted gradient into `g` and returns its
/// weighted value.
pub(crate) fn sum_ordered<T: Sync, const N: usize>(
    items: &[T],
    f: impl Fn(usize, &T, &mut [f64; N]) -> f64 + Sync,
) -> (f64, [f64; N]) {
    const CHUNK: usize = 1024;
    let parts: Vec<(f64, [f64; N])> = items
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let (mut v, mut g) = (0.0, [0.0; N]);
            for (j, p) in chunk.iter().enumerate() {
                v += f(c * CHUNK + j, p, &mut g);
            }
            (v, g)
        })
        .collect();
    let (mut v, mut g) = (0.0, [0.0; N]);
    for (pv, pg) in parts {
        v += pv;
        for (gi, pi) in g.iter_mut().zip(pg) {
            *gi += pi;
        }
    }
    (v, g)
}

/// Whether every parameter is finite and positive, where the likelihoods are defined.
fn in_domain(theta: &[f64]) -> bool {
    theta.iter().all(|t| *t > 0.0 && t.is_finite())
}

/// Checks a model's parameters: each finite and positive, or an error naming it.
pub(crate) fn check_positive(names: &[&'static str], values: &[f64]) -> Result<()> {
    for (name, v) in names.iter().zip(values) {
        if !(*v > 0.0 && v.is_finite()) {
            return Err(Error::option(name, v, "a positive finite number"));
        }
    }
    Ok(())
}

/// About this many items make the sample of a warm start.
const WARM_SAMPLE: usize = 4096;

/// Every k-th item, about [`WARM_SAMPLE`] of them, when the data has at least four times
/// as many (`None` otherwise).
///
/// A fit on large data first fits this sample from the default start, then starts the
/// full fit from the sample's estimate: the few evaluations on the sample cost little,
/// and the full data then needs a handful of iterations instead of twenty.
pub(crate) fn warm_sample<T: Copy>(items: &[T]) -> Option<Vec<T>> {
    (items.len() >= 4 * WARM_SAMPLE).then(|| {
        items
            .iter()
            .step_by(items.len() / WARM_SAMPLE)
            .copied()
            .collect()
    })
}

/// What `minimize` found: the estimate in natural parameters and the report.
pub(crate) struct Minimum {
    pub theta: Vec<f64>,
    pub report: FitReport,
}

/// The cost returned where the objective is not finite.
const WALL: f64 = 1e100;

/// Settings of a fit, shared by the models' `...Options`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Settings {
    pub tolerance: f64,
    pub max_iterations: u64,
}

/// A point in log-parameters with the objective's value and gradient there.
type Evaluation = (Vec<f64>, f64, Vec<f64>);

/// The objective in log-parameters φ = ln θ, with the last evaluation cached (argmin asks
/// for cost and gradient separately at the same point).
struct LogSpace<'a, O> {
    objective: &'a O,
    /// The objective is divided by this (the total weight), so that the tolerance is per
    /// customer and the first step is of a sensible length for any data size.
    scale: f64,
    cache: Mutex<Option<Evaluation>>,
}

impl<O: Objective> LogSpace<'_, O> {
    fn eval(&self, phi: &Array1<f64>) -> (f64, Vec<f64>) {
        let phi = phi.to_vec();
        if let Ok(cache) = self.cache.lock() {
            if let Some((p, v, g)) = cache.as_ref() {
                if *p == phi {
                    return (*v, g.clone());
                }
            }
        }
        let theta: Vec<f64> = phi.iter().map(|p| p.exp()).collect();
        let mut grad = vec![0.0; theta.len()];
        // A long line-search step can take exp(φ) to 0 or infinity, where the special
        // functions are undefined (statrs' ln_beta panics at 0): never evaluate there.
        let mut value = if in_domain(&theta) {
            self.objective.value_and_gradient(&theta, &mut grad)
        } else {
            f64::NAN
        };
        // Chain rule: ∂/∂φᵢ = θᵢ ∂/∂θᵢ.
        for (g, t) in grad.iter_mut().zip(&theta) {
            *g *= t;
        }
        value /= self.scale;
        grad.iter_mut().for_each(|g| *g /= self.scale);
        if !value.is_finite() || grad.iter().any(|g| !g.is_finite()) {
            // Outside the model's region (or past f64): a high wall makes the line search
            // step back, where an infinity would stop it.
            value = WALL;
            grad.iter_mut().for_each(|g| *g = 0.0);
        }
        if let Ok(mut cache) = self.cache.lock() {
            *cache = Some((phi, value, grad.clone()));
        }
        (value, grad)
    }
}

impl<O: Objective> CostFunction for LogSpace<'_, O> {
    type Param = Array1<f64>;
    type Output = f64;
    fn cost(&self, p: &Self::Param) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.eval(p).0)
    }
}

impl<O: Objective> Gradient for LogSpace<'_, O> {
    type Param = Array1<f64>;
    type Gradient = Array1<f64>;
    fn gradient(&self, p: &Self::Param) -> std::result::Result<Array1<f64>, argmin::core::Error> {
        Ok(Array1::from(self.eval(p).1))
    }
}

/// Minimises `objective` from `start` (natural parameters, all > 0); `scale` is the total
/// weight of the data (see [`LogSpace`]). `penalty` is the
/// objective's penalty at a point, subtracted back out of the reported log-likelihood.
pub(crate) fn minimize<O: Objective>(
    objective: &O,
    names: &[&str],
    start: &[f64],
    scale: f64,
    settings: &Settings,
    penalty: impl Fn(&[f64]) -> f64,
) -> Result<Minimum> {
    let problem = LogSpace {
        objective,
        scale,
        cache: Mutex::new(None),
    };
    if let Some(NewtonEnd {
        theta,
        value,
        hess,
        iterations,
        termination,
    }) = newton(objective, start, scale, settings)
    {
        let (std_errors, correlations) = covariance(&hess, theta.len());
        return Ok(Minimum {
            report: FitReport {
                names: names.iter().map(|n| n.to_string()).collect(),
                log_likelihood: -(value - penalty(&theta)),
                iterations,
                termination,
                std_errors,
                correlations,
                scope: None,
            },
            theta,
        });
    }
    let phi0 = Array1::from_iter(start.iter().map(|t| t.ln()));
    let (v0, _) = problem.eval(&phi0);
    if v0 >= WALL {
        return Err(Error::option(
            "initial",
            format!("{start:?}"),
            "a starting point where the likelihood is finite",
        ));
    }
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 10)
        .with_tolerance_grad(settings.tolerance)
        .and_then(|s| s.with_tolerance_cost(0.0))
        .map_err(optimiser_error)?;
    let result = Executor::new(problem, solver)
        .configure(|s| s.param(phi0).max_iters(settings.max_iterations))
        .run();
    let (phi, iterations, status) = match result {
        Ok(r) => {
            let st = r.state();
            let phi = st
                .get_best_param()
                .cloned()
                .ok_or_else(|| optimiser_error("no parameter returned"))?;
            (phi, st.get_iter(), st.get_termination_status().clone())
        }
        Err(e) => return Err(optimiser_error(e)),
    };
    let theta: Vec<f64> = phi.iter().map(|p| p.exp()).collect();
    let mut grad = vec![0.0; theta.len()];
    let value = objective.value_and_gradient(&theta, &mut grad);
    let log_grad = grad
        .iter()
        .zip(&theta)
        .map(|(g, t)| (g * t).abs())
        .fold(0.0, f64::max);
    let termination = match status {
        TerminationStatus::Terminated(TerminationReason::SolverConverged) => {
            Termination::GradientTolerance
        }
        TerminationStatus::Terminated(TerminationReason::MaxItersReached)
            if log_grad / scale
                > settings
                    .tolerance
                    .max(1e-6 * (value / scale).abs().max(1.0)) =>
        {
            Termination::MaxIterations
        }
        TerminationStatus::Terminated(TerminationReason::MaxItersReached) => {
            Termination::NoProgress
        }
        _ if log_grad / scale <= 1e-5 * (value / scale).abs().max(1.0) => Termination::NoProgress,
        _ => Termination::MaxIterations,
    };
    let (std_errors, correlations) = standard_errors(objective, &theta);
    Ok(Minimum {
        report: FitReport {
            names: names.iter().map(|n| n.to_string()).collect(),
            log_likelihood: -(value - penalty(&theta)),
            iterations,
            termination,
            std_errors,
            correlations,
            scope: None,
        },
        theta,
    })
}

/// Damped Newton in log-parameters φ = ln θ, for objectives with a closed-form Hessian.
/// `None` when the objective has no Hessian, or when a step fails (Hessian not positive
/// definite, no decrease along the Newton direction) before convergence: the caller then
/// falls back to L-BFGS, which handles those regions.
fn newton<O: Objective>(
    objective: &O,
    start: &[f64],
    scale: f64,
    settings: &Settings,
) -> Option<NewtonEnd> {
    let n = start.len();
    let (mut g, mut h) = (vec![0.0; n], vec![0.0; n * n]);
    let mut phi: Vec<f64> = start.iter().map(|t| t.ln()).collect();
    let theta_of = |phi: &[f64]| -> Vec<f64> { phi.iter().map(|p| p.exp()).collect() };
    let mut value = objective.value_gradient_hessian(&theta_of(&phi), &mut g, &mut h)?;
    for iteration in 0..settings.max_iterations {
        let theta = theta_of(&phi);
        // Chain rule to φ: g_φ = θ g, H_φ = diag(θ) H diag(θ) + diag(θ g); per customer.
        let gphi: Vec<f64> = (0..n).map(|i| theta[i] * g[i] / scale).collect();
        if gphi.iter().all(|x| x.abs() <= settings.tolerance) {
            return Some(NewtonEnd {
                theta,
                value,
                hess: h,
                iterations: iteration,
                termination: Termination::GradientTolerance,
            });
        }
        let mut hphi = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                hphi[i * n + j] = theta[i] * theta[j] * h[i * n + j] / scale;
            }
            hphi[i * n + i] += gphi[i];
        }
        let inv = invert_spd(&hphi, n)?;
        let mut step: Vec<f64> = (0..n)
            .map(|i| -(0..n).map(|j| inv[i * n + j] * gphi[j]).sum::<f64>())
            .collect();
        // No step longer than a factor e⁵ in any parameter.
        let longest = step.iter().fold(0.0f64, |m, x| m.max(x.abs()));
        if longest > 5.0 {
            step.iter_mut().for_each(|x| *x *= 5.0 / longest);
        }
        let slope: f64 = step.iter().zip(&gphi).map(|(s, g)| s * g).sum::<f64>() * scale;
        let mut t = 1.0;
        loop {
            let trial: Vec<f64> = phi.iter().zip(&step).map(|(p, s)| p + t * s).collect();
            let (mut g2, mut h2) = (vec![0.0; n], vec![0.0; n * n]);
            let trial_theta = theta_of(&trial);
            let v = if in_domain(&trial_theta) {
                objective.value_gradient_hessian(&trial_theta, &mut g2, &mut h2)?
            } else {
                f64::NAN
            };
            if v.is_finite() && v <= value + 1e-4 * t * slope {
                (phi, value, g, h) = (trial, v, g2, h2);
                break;
            }
            t *= 0.5;
            if t < 1e-10 {
                // No decrease: converged to the arithmetic's precision if the gradient is
                // already small, else let L-BFGS try.
                let small = gphi
                    .iter()
                    .all(|x| x.abs() <= 1e-6 * (value / scale).abs().max(1.0));
                return small.then(|| NewtonEnd {
                    theta: theta_of(&phi),
                    value,
                    hess: h,
                    iterations: iteration,
                    termination: Termination::NoProgress,
                });
            }
        }
    }
    Some(NewtonEnd {
        theta: theta_of(&phi),
        value,
        hess: h,
        iterations: settings.max_iterations,
        termination: Termination::MaxIterations,
    })
}

/// Where Newton's method stopped: θ, −ℓ and its Hessian there.
struct NewtonEnd {
    theta: Vec<f64>,
    value: f64,
    hess: Vec<f64>,
    iterations: u64,
    termination: Termination,
}

fn optimiser_error(e: impl std::fmt::Display) -> Error {
    Error::Numerical {
        procedure: "L-BFGS optimiser",
        reason: e.to_string(),
    }
}

/// Standard errors and correlations from the observed information: the Hessian of −ℓ in
/// natural parameters by central differences of the analytic gradient, inverted.
fn standard_errors<O: Objective>(objective: &O, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let n = theta.len();
    let mut h = vec![0.0; n * n];
    let (mut gp, mut gm) = (vec![0.0; n], vec![0.0; n]);
    for j in 0..n {
        let step = 1e-5 * theta[j];
        let mut t = theta.to_vec();
        t[j] = theta[j] + step;
        objective.value_and_gradient(&t, &mut gp);
        t[j] = theta[j] - step;
        objective.value_and_gradient(&t, &mut gm);
        for i in 0..n {
            h[i * n + j] = (gp[i] - gm[i]) / (2.0 * step);
        }
    }
    for i in 0..n {
        for j in 0..i {
            let m = 0.5 * (h[i * n + j] + h[j * n + i]);
            h[i * n + j] = m;
            h[j * n + i] = m;
        }
    }
    covariance(&h, n)
}

/// Standard errors and correlations from a Hessian of −ℓ (NaN when it is not positive
/// definite).
fn covariance(h: &[f64], n: usize) -> (Vec<f64>, Vec<f64>) {
    let nan = (vec![f64::NAN; n], vec![f64::NAN; n * n]);
    let Some(cov) = invert_spd(h, n) else {
        return nan;
    };
    let se: Vec<f64> = (0..n).map(|i| cov[i * n + i].sqrt()).collect();
    let corr = (0..n * n)
        .map(|k| cov[k] / (se[k / n] * se[k % n]))
        .collect();
    (se, corr)
}

/// The first gradient component that disagrees with central differences of the value
/// (relative 1e-5, against max(1, |g|)), described; `None` when all agree. For the
/// models' gradient tests.
#[cfg(test)]
pub(crate) fn gradient_mismatch<O: Objective>(objective: &O, theta: &[f64]) -> Option<String> {
    let n = theta.len();
    let mut g = vec![0.0; n];
    objective.value_and_gradient(theta, &mut g);
    let mut tmp = vec![0.0; n];
    (0..n).find_map(|j| {
        let h = 1e-6 * theta[j];
        let (mut up, mut dn) = (theta.to_vec(), theta.to_vec());
        up[j] += h;
        dn[j] -= h;
        let fd = (objective.value_and_gradient(&up, &mut tmp)
            - objective.value_and_gradient(&dn, &mut tmp))
            / (2.0 * h);
        ((g[j] - fd).abs() > 1e-5 * g[j].abs().max(1.0))
            .then(|| format!("θ = {theta:?}, component {j}: analytic {} vs {fd}", g[j]))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// −ℓ of independent normals with known means in θ (a quadratic bowl): the
    /// minimum is at the means and the standard errors are the stated ones.
    struct Bowl;
    impl Objective for Bowl {
        fn value_and_gradient(&self, t: &[f64], g: &mut [f64]) -> f64 {
            let (m, s) = ([2.0, 0.5, 30.0], [0.1, 0.02, 3.0]);
            let mut v = 0.0;
            for i in 0..3 {
                let d = (t[i] - m[i]) / s[i];
                v += 0.5 * d * d;
                g[i] = d / s[i];
            }
            v
        }
    }

    #[test]
    fn finds_the_minimum_and_its_standard_errors() {
        let settings = Settings {
            tolerance: 1e-10,
            max_iterations: 500,
        };
        let m = minimize(
            &Bowl,
            &["a", "b", "c"],
            &[1.0, 1.0, 1.0],
            1.0,
            &settings,
            |_| 0.0,
        )
        .unwrap();
        assert!(m.report.termination.converged(), "{:?}", m.report);
        for (t, want) in m.theta.iter().zip([2.0, 0.5, 30.0]) {
            assert_relative_eq!(*t, want, max_relative = 1e-7);
        }
        for (se, want) in m.report.std_errors.iter().zip([0.1, 0.02, 3.0]) {
            assert_relative_eq!(*se, want, max_relative = 1e-6);
        }
        assert_relative_eq!(m.report.correlations[1], 0.0, epsilon = 1e-6);
    }

    #[test]
    fn inverse_of_a_known_matrix() {
        // [[4, 2], [2, 3]]⁻¹ = [[3, −2], [−2, 4]] / 8.
        let inv = invert_spd(&[4.0, 2.0, 2.0, 3.0], 2).unwrap();
        for (x, want) in inv.iter().zip([0.375, -0.25, -0.25, 0.5]) {
            assert_relative_eq!(*x, want, max_relative = 1e-14);
        }
        assert!(invert_spd(&[1.0, 2.0, 2.0, 1.0], 2).is_none());
    }
}
