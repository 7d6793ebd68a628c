//! Nonlinear least squares by a bounded Levenberg–Marquardt, for the curve fits of the
//! analysis modules (the Bass diffusion curve, saturating response curves).
//!
//! The problem comes as closures: the residuals r = y − f(θ) at θ, the Jacobian of the
//! model f (not of the residuals) at θ, and a projection that brings a trial step back
//! into the model's domain. Written here rather than taken from argmin, which has no
//! bounded Levenberg–Marquardt: curve parameters whose scales differ by orders of
//! magnitude need Marquardt's scaled damping, and a step that leaves the domain is cut
//! back by the caller's rule before its SSE decides whether it is accepted. The damping
//! follows Nielsen's (1999) rule; convergence is MINPACK's `gtol` test on the cosine
//! between the residuals and each column of J, or a relative step below the tolerance.

use serde::{Deserialize, Serialize};

use super::linalg::invert_spd;

/// Why a Levenberg–Marquardt run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NlsTermination {
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

impl NlsTermination {
    /// Whether the run stopped at a minimum of the SSE.
    pub fn converged(self) -> bool {
        !matches!(self, NlsTermination::MaxIterations)
    }
}

/// Where a Levenberg–Marquardt run ended.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NlsRun {
    /// The estimate.
    pub theta: Vec<f64>,
    /// Σ r² at the estimate.
    pub sse: f64,
    /// Accepted or rejected outer iterations.
    pub iterations: u64,
    /// Why it stopped.
    pub termination: NlsTermination,
}

/// A least-squares problem of `n` observations: residuals r = y − f(θ) and the n × p
/// row-major Jacobian of f, both written into the buffers given, and the projection of
/// a trial point (second argument) given the current one (first) into the domain.
pub(crate) struct LeastSquares<R, J, P> {
    /// Number of observations.
    pub n: usize,
    /// Fills r = y − f(θ).
    pub residuals: R,
    /// Fills ∂f/∂θ, row-major n × p.
    pub jacobian: J,
    /// Cuts a trial point back into the domain.
    pub project: P,
}

impl<R, J, P> LeastSquares<R, J, P>
where
    R: Fn(&[f64], &mut [f64]),
    J: Fn(&[f64], &mut [f64]),
    P: Fn(&[f64], &mut [f64]),
{
    /// Σ r² at θ, summed in observation order.
    pub fn sse(&self, theta: &[f64], r: &mut [f64]) -> f64 {
        (self.residuals)(theta, r);
        r.iter().map(|v| v * v).sum()
    }

    /// JᵀJ (p × p, row-major) and Jᵀr at θ, accumulated in observation order.
    pub fn normal_equations(
        &self,
        theta: &[f64],
        r: &mut [f64],
        jac: &mut [f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let p = theta.len();
        (self.residuals)(theta, r);
        (self.jacobian)(theta, jac);
        let (mut jtj, mut jtr) = (vec![0.0; p * p], vec![0.0; p]);
        for (k, &rk) in r.iter().enumerate() {
            let g = &jac[k * p..(k + 1) * p];
            for i in 0..p {
                jtr[i] += g[i] * rk;
                for j in 0..p {
                    jtj[i * p + j] += g[i] * g[j];
                }
            }
        }
        (jtj, jtr)
    }

    /// Levenberg–Marquardt from `start` (see the module documentation).
    pub fn levenberg_marquardt(&self, start: &[f64], tol: f64, max_iterations: u64) -> NlsRun {
        let p = start.len();
        let mut r = vec![0.0; self.n];
        let mut jac = vec![0.0; self.n * p];
        let mut theta = start.to_vec();
        let mut next = vec![0.0; p];
        let mut f = self.sse(&theta, &mut r);
        let mut lambda = 1e-3;
        let mut nu = 2.0;
        let mut iterations = 0;
        let (mut jtj, mut jtr) = self.normal_equations(&theta, &mut r, &mut jac);
        let termination = loop {
            if !f.is_finite() {
                break NlsTermination::NoProgress;
            }
            // MINPACK's gtol: the largest cosine between r and a column of J.
            let cosine = (0..p)
                .map(|i| jtr[i].abs() / (jtj[i * (p + 1)] * f).sqrt())
                .fold(0.0f64, f64::max);
            if f == 0.0 || cosine <= tol {
                break NlsTermination::GradientTolerance;
            }
            if iterations >= max_iterations {
                break NlsTermination::MaxIterations;
            }
            iterations += 1;
            // Damp until a step lowers the SSE; `None` when none does.
            let mut step_small = None;
            while lambda < 1e16 {
                let Some(delta) = damped_solve(&jtj, &jtr, lambda) else {
                    lambda *= nu;
                    nu *= 2.0;
                    continue;
                };
                for i in 0..p {
                    next[i] = theta[i] + delta[i];
                }
                (self.project)(&theta, &mut next);
                let f_next = self.sse(&next, &mut r);
                if f_next.is_finite() && f_next < f {
                    // Gain ratio: actual over predicted reduction, δᵀ(λ D δ + g) with D
                    // the diagonal of JᵀJ (Nielsen 1999).
                    let predicted: f64 = (0..p)
                        .map(|i| delta[i] * (lambda * jtj[i * (p + 1)] * delta[i] + jtr[i]))
                        .sum();
                    let rho = (f - f_next) / predicted;
                    lambda *= (1.0 - (2.0 * rho - 1.0).powi(3)).max(1.0 / 3.0);
                    nu = 2.0;
                    step_small =
                        Some((0..p).all(|i| (next[i] - theta[i]).abs() <= tol * theta[i].abs()));
                    theta.copy_from_slice(&next);
                    f = f_next;
                    (jtj, jtr) = self.normal_equations(&theta, &mut r, &mut jac);
                    break;
                }
                lambda *= nu;
                nu *= 2.0;
            }
            match step_small {
                None => break NlsTermination::NoProgress,
                Some(true) => break NlsTermination::StepTolerance,
                Some(false) => {}
            }
        };
        NlsRun {
            theta,
            sse: f,
            iterations,
            termination,
        }
    }

    /// s² (JᵀJ)⁻¹ at θ, row-major p × p (NaN entries when JᵀJ is singular), inverted
    /// through the unit-diagonal scaling as in the iterations: what scipy's `curve_fit`
    /// reports as `pcov` with `absolute_sigma=False` when s² = SSE/(n − p).
    pub fn covariance(&self, theta: &[f64], s2: f64) -> Vec<f64> {
        let p = theta.len();
        let mut r = vec![0.0; self.n];
        let mut jac = vec![0.0; self.n * p];
        let (jtj, _) = self.normal_equations(theta, &mut r, &mut jac);
        let d: Vec<f64> = (0..p).map(|i| 1.0 / jtj[i * (p + 1)].sqrt()).collect();
        let mut s = vec![0.0; p * p];
        for i in 0..p {
            for j in 0..p {
                s[i * p + j] = jtj[i * p + j] * d[i] * d[j];
            }
        }
        match invert_spd(&s, p) {
            Some(inv) if d.iter().all(|x| x.is_finite()) => (0..p * p)
                .map(|k| s2 * inv[k] * d[k / p] * d[k % p])
                .collect(),
            _ => vec![f64::NAN; p * p],
        }
    }
}

/// Solves (A + λ diag A) δ = g for the p × p symmetric A, through the unit-diagonal
/// scaling D A D with D = diag(A)^{−1/2}: columns of J that differ by orders of
/// magnitude keep Cholesky's pivots comparable.
fn damped_solve(a: &[f64], g: &[f64], lambda: f64) -> Option<Vec<f64>> {
    let p = g.len();
    let d: Vec<f64> = (0..p).map(|i| 1.0 / a[i * (p + 1)].sqrt()).collect();
    if d.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut s = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..p {
            s[i * p + j] = a[i * p + j] * d[i] * d[j];
        }
        s[i * (p + 1)] += lambda;
    }
    let inv = invert_spd(&s, p)?;
    Some(
        (0..p)
            .map(|i| d[i] * (0..p).map(|j| inv[i * p + j] * d[j] * g[j]).sum::<f64>())
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use approx::assert_relative_eq;

    use super::*;

    #[test]
    fn fits_an_exponential_decay_exactly() {
        // y = 3 e^{−0.5 x} without noise: the fit recovers (3, 0.5) and stops at the
        // gradient test; the SSE is zero to rounding.
        let xs: Vec<f64> = (0..10).map(f64::from).collect();
        let ys: Vec<f64> = xs.iter().map(|x| 3.0 * (-0.5 * x).exp()).collect();
        let problem = LeastSquares {
            n: xs.len(),
            residuals: |t: &[f64], r: &mut [f64]| {
                for ((r, x), y) in r.iter_mut().zip(&xs).zip(&ys) {
                    *r = y - t[0] * (-t[1] * x).exp();
                }
            },
            jacobian: |t: &[f64], j: &mut [f64]| {
                for (row, x) in j.chunks_mut(2).zip(&xs) {
                    let e = (-t[1] * x).exp();
                    row[0] = e;
                    row[1] = -t[0] * x * e;
                }
            },
            project: |_: &[f64], _: &mut [f64]| {},
        };
        let run = problem.levenberg_marquardt(&[1.0, 0.1], 1e-12, 200);
        assert!(run.termination.converged(), "{run:?}");
        assert_relative_eq!(run.theta[0], 3.0, max_relative = 1e-9);
        assert_relative_eq!(run.theta[1], 0.5, max_relative = 1e-9);
        assert!(run.sse < 1e-20);
        // One iteration is not enough from that start: the cap is reported.
        let capped = problem.levenberg_marquardt(&[1.0, 0.1], 1e-12, 1);
        assert_eq!(capped.termination, NlsTermination::MaxIterations);
        assert!(!capped.termination.converged());
    }
}
