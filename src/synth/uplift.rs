//! Seeded synthetic randomised campaigns with a planted heterogeneous treatment effect,
//! for uplift models.
//!
//! The distribution (the one `benches/compare/uplift_forest.py` draws with numpy, so
//! both sides of the comparison fit data of one kind):
//! - p features xⱼ ~ Uniform(0, 1), independent;
//! - treatment t ~ Bernoulli(s), s the treated share (default ½), independent of x;
//! - the outcome's log-odds η₀(x) = −1 + x₀ − x₂ + ½ x₃ (terms of absent features
//!   dropped) without treatment, η₀(x) + τ(x) with it, where the treatment effect on the
//!   log-odds is planted in two segments:
//!   τ(x) = +e when x₀ > ½ and x₁ > ½ (a quarter of the rows: they respond to the
//!   campaign), −e/2 when x₁ < ¼ (a quarter: the campaign puts them off), 0 elsewhere;
//!   e is the effect size (default 1);
//! - y ~ Bernoulli(σ(η₀ + t τ)), σ the logistic function;
//! - the true uplift of a row is σ(η₀ + τ) − σ(η₀).
//!
//! Rows are generated in fixed blocks of 65,536, each with its own random stream derived
//! from (seed, block), so the output is identical for any number of threads.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

const BLOCK: usize = 1 << 16;

/// One block's features (row-major), treatments, outcomes and true uplifts.
type Block = (Vec<f64>, Vec<bool>, Vec<bool>, Vec<f64>);

/// Settings of a synthetic campaign (defaults: 10,000 rows, 10 features, treated share
/// ½, effect 1, seed 2026).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UpliftSynth {
    rows: usize,
    features: usize,
    treated_share: f64,
    effect: f64,
    seed: u64,
}

impl Default for UpliftSynth {
    fn default() -> Self {
        UpliftSynth {
            rows: 10_000,
            features: 10,
            treated_share: 0.5,
            effect: 1.0,
            seed: 2026,
        }
    }
}

/// A synthetic campaign: features, treatment, outcome and each row's true uplift.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftRows {
    /// Feature names, `x0`, `x1`, ….
    pub names: Vec<String>,
    /// Features, one row per customer.
    pub x: Array2<f64>,
    /// Whether each row was treated.
    pub treatment: Vec<bool>,
    /// Each row's outcome.
    pub outcome: Vec<bool>,
    /// Each row's true uplift, σ(η₀ + τ) − σ(η₀).
    pub uplift: Vec<f64>,
}

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

impl UpliftSynth {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rows (≥ 1).
    pub fn rows(mut self, n: usize) -> Self {
        self.rows = n;
        self
    }

    /// Features (≥ 2: the effect is planted on x₀ and x₁).
    pub fn features(mut self, p: usize) -> Self {
        self.features = p;
        self
    }

    /// Share of treated rows, in (0, 1).
    pub fn treated_share(mut self, s: f64) -> Self {
        self.treated_share = s;
        self
    }

    /// Effect size e on the log-odds (finite).
    pub fn effect(mut self, e: f64) -> Self {
        self.effect = e;
        self
    }

    /// Seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The log-odds without treatment and the treatment's effect on them, of one row.
    pub fn log_odds(&self, row: &[f64]) -> (f64, f64) {
        let at = |j: usize| row.get(j).copied().unwrap_or(0.0);
        let base = -1.0 + at(0) - at(2) + 0.5 * at(3);
        let tau = if at(0) > 0.5 && at(1) > 0.5 {
            self.effect
        } else if at(1) < 0.25 {
            -self.effect / 2.0
        } else {
            0.0
        };
        (base, tau)
    }

    /// Draws the campaign.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for no rows, fewer than two features, a treated share
    /// outside (0, 1) or a non-finite effect.
    pub fn generate(&self) -> Result<UpliftRows> {
        if self.rows == 0 {
            return Err(Error::option("rows", 0, "at least 1"));
        }
        if self.features < 2 {
            return Err(Error::option("features", self.features, "at least 2"));
        }
        if !(self.treated_share > 0.0 && self.treated_share < 1.0) {
            return Err(Error::option(
                "treated_share",
                self.treated_share,
                "a share in (0, 1)",
            ));
        }
        if !self.effect.is_finite() {
            return Err(Error::option("effect", self.effect, "a finite number"));
        }
        let (n, p) = (self.rows, self.features);
        let blocks: Vec<Block> = (0..n.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                    self.seed ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let rows = BLOCK.min(n - b * BLOCK);
                let mut x = Vec::with_capacity(rows * p);
                let (mut t, mut y, mut u) = (
                    Vec::with_capacity(rows),
                    Vec::with_capacity(rows),
                    Vec::with_capacity(rows),
                );
                for _ in 0..rows {
                    let start = x.len();
                    for _ in 0..p {
                        x.push(rng.gen::<f64>());
                    }
                    let (base, tau) = self.log_odds(&x[start..]);
                    let treated = rng.gen::<f64>() < self.treated_share;
                    let eta = if treated { base + tau } else { base };
                    t.push(treated);
                    y.push(rng.gen::<f64>() < sigmoid(eta));
                    u.push(sigmoid(base + tau) - sigmoid(base));
                }
                (x, t, y, u)
            })
            .collect();
        let mut flat = Vec::with_capacity(n * p);
        let (mut treatment, mut outcome, mut uplift) = (
            Vec::with_capacity(n),
            Vec::with_capacity(n),
            Vec::with_capacity(n),
        );
        for (x, t, y, u) in blocks {
            flat.extend(x);
            treatment.extend(t);
            outcome.extend(y);
            uplift.extend(u);
        }
        let x = Array2::from_shape_vec((n, p), flat).map_err(|e| Error::Numerical {
            procedure: "synthetic uplift features",
            reason: e.to_string(),
        })?;
        Ok(UpliftRows {
            names: (0..p).map(|j| format!("x{j}")).collect(),
            x,
            treatment,
            outcome,
            uplift,
        })
    }
}
