//! Seeded, parallel bootstrap: refit a model on resampled customers to get intervals for
//! its parameters and for anything computed from it.

use rand::SeedableRng;
use rand_distr::{Binomial, Distribution};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Settings of a bootstrap: replicates (default 200), seed (default 0) and interval level
/// (default 0.95).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapOptions {
    replicates: usize,
    seed: u64,
    level: f64,
}

impl Default for BootstrapOptions {
    fn default() -> Self {
        BootstrapOptions {
            replicates: 200,
            seed: 0,
            level: 0.95,
        }
    }
}

impl BootstrapOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of resampled fits (≥ 2).
    pub fn replicates(mut self, b: usize) -> Self {
        self.replicates = b;
        self
    }

    /// Seed: the same seed gives the same replicates for any number of threads.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Coverage of the percentile intervals, in (0, 1).
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }
}

/// The models fitted on resampled data, and the interval level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bootstrap<M> {
    /// One model per replicate whose fit succeeded, in replicate order.
    pub models: Vec<M>,
    /// Replicates whose fit failed (an error); their models are absent.
    pub failed: usize,
    /// Coverage of [`interval`](Self::interval).
    pub level: f64,
}

/// A percentile interval with the bootstrap median.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lo: f64,
    /// Median of the replicates.
    pub median: f64,
    /// Upper bound.
    pub hi: f64,
}

impl<M: Sync> Bootstrap<M> {
    /// Percentile interval of `f` over the replicate models: a parameter
    /// (`|m| m.params()[0]`), a customer's P(alive), customer equity, ...
    /// NaN values are ignored; `None` when no replicate gives a number.
    pub fn interval(&self, f: impl Fn(&M) -> f64 + Sync + Send) -> Option<Interval> {
        let mut v: Vec<f64> = self
            .models
            .par_iter()
            .map(f)
            .filter(|x| !x.is_nan())
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let q = |p: f64| {
            // Linear interpolation between order statistics (type 7, as numpy's default).
            let h = p * (v.len() - 1) as f64;
            let (i, frac) = (h.floor() as usize, h - h.floor());
            let next = v[(i + 1).min(v.len() - 1)];
            v[i] + frac * (next - v[i])
        };
        let tail = (1.0 - self.level) / 2.0;
        Some(Interval {
            lo: q(tail),
            median: q(0.5),
            hi: q(1.0 - tail),
        })
    }
}

impl BootstrapOptions {
    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for fewer than two replicates or a level outside (0, 1).
    pub fn validate(&self) -> Result<()> {
        if self.replicates < 2 {
            return Err(Error::option("replicates", self.replicates, "at least 2"));
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::option("level", self.level, "a level in (0, 1)"));
        }
        Ok(())
    }

    /// Resamples customers with replacement `replicates` times and refits.
    ///
    /// `weights[i]` is the number of customers behind item i (a pattern's count, or 1 per
    /// record); each replicate draws the same total number of customers, as multinomial
    /// counts over the items, and `fit` receives those counts (same length as `weights`, zeros
    /// included) to build and fit its data. Replicates run in parallel, each with its own
    /// generator seeded from (seed, replicate), so the result does not depend on the number
    /// of threads.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for fewer than two replicates or a level outside (0, 1);
    /// [`Error::EmptyInput`] when the weights hold no customers.
    pub fn fit<M: Send>(
        &self,
        weights: &[u32],
        fit: impl Fn(&[u32]) -> Result<M> + Sync,
    ) -> Result<Bootstrap<M>> {
        let opts = self;
        opts.validate()?;
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        if total == 0 {
            // No customers to resample.
            return Err(Error::EmptyInput);
        }
        let results: Vec<Option<M>> = (0..opts.replicates)
            .into_par_iter()
            .map(|b| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                    opts.seed ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                // Multinomial draw as a chain of binomials: item i gets Binomial(n left,
                // wᵢ / weight left).
                let (mut left_n, mut left_w) = (total, total);
                let counts: Vec<u32> = weights
                    .iter()
                    .map(|&w| {
                        if left_n == 0 || w == 0 {
                            left_w -= u64::from(w);
                            return 0;
                        }
                        let p = (w as f64 / left_w as f64).min(1.0);
                        left_w -= u64::from(w);
                        let k = Binomial::new(left_n, p)
                            .map(|d| d.sample(&mut rng))
                            .unwrap_or(left_n);
                        left_n -= k;
                        k as u32
                    })
                    .collect();
                fit(&counts).ok()
            })
            .collect();
        let failed = results.iter().filter(|r| r.is_none()).count();
        Ok(Bootstrap {
            models: results.into_iter().flatten().collect(),
            failed,
            level: opts.level,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    /// Resampling preserves the total, and the bootstrap of a mean has the textbook
    /// standard error σ/√n (here for a two-point distribution, σ = 0.5).
    #[test]
    fn mean_of_a_two_point_sample() {
        let weights = [500, 500];
        let opts = BootstrapOptions::new().replicates(2000).seed(3);
        let b = opts
            .fit(&weights, |c| {
                assert_eq!(c.iter().sum::<u32>(), 1000);
                Ok(f64::from(c[1]) / 1000.0)
            })
            .unwrap();
        assert_eq!((b.models.len(), b.failed), (2000, 0));
        let mean = b.models.iter().sum::<f64>() / 2000.0;
        let sd = (b.models.iter().map(|m| (m - mean).powi(2)).sum::<f64>() / 1999.0).sqrt();
        assert_relative_eq!(mean, 0.5, epsilon = 0.002);
        assert_relative_eq!(sd, 0.5 / 1000f64.sqrt(), max_relative = 0.05);
        let ci = b.interval(|m| *m).unwrap();
        assert!(ci.lo < 0.5 && 0.5 < ci.hi && ci.hi - ci.lo < 0.07);
        // Same seed, same replicates, whatever the thread pool.
        let again = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| opts.fit(&weights, |c| Ok(f64::from(c[1]))).unwrap());
        let first: Vec<f64> = b.models.iter().map(|m| m * 1000.0).collect();
        assert_eq!(first, again.models);
    }
}
