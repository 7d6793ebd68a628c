//! Persistency: will customers keep buying? Buy-till-you-die purchase models fitted on
//! per-customer summaries (repeat purchases x, recency t_x, age T), with P(alive) and
//! expected purchases.
//!
//! Models are validated parameter values (`BgNbd::new(r, α, a, b)`), so published
//! estimates plug in directly; fitting by maximum likelihood over compact patterns is one
//! way to obtain them ([`FitOptions`]). Time is in the unit of the summary the patterns
//! came from; a model's scale parameter (α) carries that unit.

mod bgnbd;
mod mbgnbd;
mod pareto;

pub use bgnbd::BgNbd;
pub use mbgnbd::MbgNbd;
pub use pareto::ParetoNbd;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::numerics::Settings;
use crate::summary::Pattern;

/// Settings of a maximum-likelihood fit.
///
/// Defaults: gradient tolerance 1e-8 (per customer, in log-parameters), at most 1000
/// iterations, the model's default starting point, no penalty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitOptions {
    tolerance: f64,
    max_iterations: u64,
    initial: Option<Vec<f64>>,
    penalty: f64,
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

    fn check(&self, n_params: usize) -> Result<Settings> {
        let bad =
            |option: &'static str, reason: String| Err(Error::InvalidOption { option, reason });
        if !(self.tolerance > 0.0 && self.tolerance.is_finite()) {
            return bad(
                "tolerance",
                format!("{} is not a positive number", self.tolerance),
            );
        }
        if self.max_iterations == 0 {
            return bad("max_iterations", "must be at least 1".into());
        }
        if !(self.penalty >= 0.0 && self.penalty.is_finite()) {
            return bad(
                "penalty",
                format!("{} is not a finite number ≥ 0", self.penalty),
            );
        }
        if let Some(p) = &self.initial {
            if p.len() != n_params || p.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
                return bad(
                    "initial",
                    format!("{p:?}: expected {n_params} finite positive values"),
                );
            }
        }
        Ok(Settings {
            tolerance: self.tolerance,
            max_iterations: self.max_iterations,
        })
    }
}

/// Checks fitting data: non-empty, 0 ≤ t_x ≤ T, t_x = 0 when x = 0, finite.
fn check_patterns(patterns: &[Pattern]) -> Result<f64> {
    let mut weight = 0.0;
    for (i, p) in patterns.iter().enumerate() {
        let ok = p.t_x.is_finite()
            && p.t.is_finite()
            && p.t_x >= 0.0
            && p.t_x <= p.t
            && p.t > 0.0
            && (p.x > 0 || p.t_x == 0.0);
        if !ok {
            return Err(Error::InvalidOption {
                option: "patterns",
                reason: format!(
                    "pattern {i} (x = {}, t_x = {}, T = {}) breaks 0 ≤ t_x ≤ T, T > 0, t_x = 0 when x = 0",
                    p.x, p.t_x, p.t
                ),
            });
        }
        weight += f64::from(p.count);
    }
    if weight == 0.0 {
        return Err(Error::EmptyInput);
    }
    Ok(weight)
}

/// Sums `f(i, pattern)` over patterns in fixed chunks, reduced in order: the same bits
/// for any number of threads. `f` adds a pattern's weighted gradient into `g` and returns
/// its weighted value.
fn sum_patterns<const N: usize>(
    patterns: &[Pattern],
    f: impl Fn(usize, &Pattern, &mut [f64; N]) -> f64 + Sync,
) -> (f64, [f64; N]) {
    const CHUNK: usize = 1024;
    let parts: Vec<(f64, [f64; N])> = patterns
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
        for i in 0..N {
            g[i] += pg[i];
        }
    }
    (v, g)
}
