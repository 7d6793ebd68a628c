//! Seeded synthetic baskets with planted patterns (items bought together), for tests,
//! benchmarks and demonstrations of association rules.
//!
//! The distribution (the same one `benches/compare/basket_vs_mlxtend.py` draws with numpy,
//! so both benchmarks mine data of one kind):
//! - items k = 0..I−1 with popularity ∝ 1/(k+1) (Zipf, exponent 1);
//! - P = max(10, I/10) patterns; pattern j has 2 + Poisson(1.5) distinct items drawn by
//!   popularity, and a weight drawn from Exp(1);
//! - a basket has n = 1 + Poisson(9) slots (mean 10); with probability 0.6 it holds one
//!   pattern (drawn by weight), each of its items kept with probability 0.85; the other
//!   n − kept slots (if any) are items drawn by popularity; repeats merge.
//!
//! Baskets are generated in fixed blocks of 65,536, each with its own random stream
//! derived from (seed, block), so the output is identical for any number of threads.

use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Exp1, Poisson, WeightedAliasIndex};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Baskets, Interner, Rows};
use crate::error::{Error, Result};

const BLOCK: usize = 1 << 16;

/// Settings of synthetic baskets (defaults as in the module documentation: 100,000
/// baskets over 1,000 items, seed 2026, no customers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BasketSynth {
    baskets: usize,
    items: usize,
    customers: Option<usize>,
    seed: u64,
}

impl Default for BasketSynth {
    fn default() -> Self {
        BasketSynth {
            baskets: 100_000,
            items: 1_000,
            customers: None,
            seed: 2026,
        }
    }
}

impl BasketSynth {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of baskets (≥ 1).
    pub fn baskets(mut self, n: usize) -> Self {
        self.baskets = n;
        self
    }

    /// Number of items (≥ 2; item k is named `k`, most popular first).
    pub fn items(mut self, n: usize) -> Self {
        self.items = n;
        self
    }

    /// Assign each basket to one of `n` customers (named `c0`, `c1`, ...), uniformly.
    pub fn customers(mut self, n: usize) -> Self {
        self.customers = Some(n);
        self
    }

    /// The random seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The patterns this generator plants (item ids), in pattern order.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] as for [`generate`](Self::generate).
    pub fn patterns(&self) -> Result<Vec<Vec<u32>>> {
        self.check()?;
        Ok(self.plant().0)
    }

    fn check(&self) -> Result<()> {
        if self.baskets == 0 {
            return Err(Error::option("baskets", self.baskets, "at least 1 basket"));
        }
        if self.items < 2 || self.items > u32::MAX as usize {
            return Err(Error::option(
                "items",
                self.items,
                format!("a count in 2..={}", u32::MAX),
            ));
        }
        if self.customers == Some(0) {
            return Err(Error::option("customers", 0, "at least 1 customer"));
        }
        Ok(())
    }

    /// The patterns and their weights, from the seed's first stream.
    fn plant(&self) -> (Vec<Vec<u32>>, Vec<f64>, WeightedAliasIndex<f64>) {
        let popularity: Vec<f64> = (0..self.items).map(|k| 1.0 / (k as f64 + 1.0)).collect();
        // Weights are positive and finite: the alias table cannot fail to build.
        let items = WeightedAliasIndex::new(popularity).expect("positive weights");
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let extra = Poisson::new(1.5).expect("positive mean");
        let n_patterns = (self.items / 10).max(10);
        let mut patterns = Vec::with_capacity(n_patterns);
        let mut weights = Vec::with_capacity(n_patterns);
        for _ in 0..n_patterns {
            let len = (2 + extra.sample(&mut rng) as usize).min(self.items);
            let mut p: Vec<u32> = Vec::with_capacity(len);
            while p.len() < len {
                let k = items.sample(&mut rng) as u32;
                if !p.contains(&k) {
                    p.push(k);
                }
            }
            patterns.push(p);
            weights.push(Exp1.sample(&mut rng));
        }
        (patterns, weights, items)
    }

    /// Generates the baskets.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (option `baskets`, `items` or `customers`) for no baskets,
    /// fewer than 2 items or no customers.
    pub fn generate(&self) -> Result<Baskets> {
        self.check()?;
        let (patterns, weights, items) = self.plant();
        let pick = WeightedAliasIndex::new(weights).expect("positive weights");
        let size = Poisson::new(9.0).expect("positive mean");
        let blocks: Vec<(Vec<Vec<u32>>, Vec<u32>)> = (0..self.baskets.div_ceil(BLOCK))
            .into_par_iter()
            .map(|b| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                    self.seed ^ (b as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let n = BLOCK.min(self.baskets - b * BLOCK);
                let mut lists = Vec::with_capacity(n);
                let mut owners = Vec::new();
                for _ in 0..n {
                    let slots = 1 + size.sample(&mut rng) as usize;
                    let mut basket = Vec::with_capacity(slots + 4);
                    if rng.gen::<f64>() < 0.6 {
                        for &k in &patterns[pick.sample(&mut rng)] {
                            if rng.gen::<f64>() < 0.85 {
                                basket.push(k);
                            }
                        }
                    }
                    for _ in basket.len()..slots {
                        basket.push(items.sample(&mut rng) as u32);
                    }
                    lists.push(basket);
                    if let Some(c) = self.customers {
                        owners.push(rng.gen_range(0..c) as u32);
                    }
                }
                (lists, owners)
            })
            .collect();
        let mut names = Interner::new();
        for k in 0..self.items {
            names.intern(&k.to_string());
        }
        let mut lists = Vec::with_capacity(self.baskets);
        let mut owners = Vec::new();
        for (l, o) in blocks {
            lists.extend(l);
            owners.extend(o);
        }
        let baskets = Baskets::from_id_lists(names, lists)?;
        match self.customers {
            Some(c) => {
                baskets.with_customers(Rows::from_ids((0..c).map(|i| format!("c{i}"))), owners)
            }
            None => Ok(baskets),
        }
    }
}
