//! A random forest of classification trees that estimates probabilities: Gini splits on
//! quantile-binned features, bootstrap rows per tree, a random subset of features per
//! split, leaves holding the share of positives, no pruning.
//!
//! Written here rather than taken from linfa-trees 0.8 for two reasons found in use:
//! linfa's trees prune every split whose sides predict the same majority class, which
//! throws away exactly the probability resolution a churn score needs (with a 80% churn
//! rate most splits are pruned), and they pick a leaf's class from a `HashMap`, so tied
//! leaves — and through pruning the tree's shape — change from run to run. Here each
//! tree draws from its own generator seeded from (seed, tree number), trees are built in
//! parallel and kept in order, and every tie is broken by feature and bin order, so a
//! seed gives the same forest on any number of threads.

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of a forest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ForestOptions {
    pub trees: usize,
    pub max_depth: usize,
    /// Least (bootstrap-weighted) rows in a leaf.
    pub min_leaf: usize,
    /// Features tried at each split.
    pub features_per_split: usize,
    /// Quantile bins per feature (≤ 256).
    pub bins: usize,
    pub seed: u64,
}

/// A fitted forest: P(positive) is the mean of the trees' leaf shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Forest {
    trees: Vec<Tree>,
}

/// A tree as flat arrays: node i splits on `feature[i]` (left when the value is at most
/// `value[i]`), children at `left[i]` and `left[i] + 1`; a leaf has `feature = u32::MAX`
/// and its share of positives in `value`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Tree {
    feature: Vec<u32>,
    value: Vec<f64>,
    left: Vec<u32>,
}

const LEAF: u32 = u32::MAX;

impl Forest {
    /// Fits a forest to the rows of `x` and their labels.
    pub(crate) fn fit(x: &Array2<f64>, y: &[bool], opts: &ForestOptions) -> Forest {
        let (n, p) = x.dim();
        // Per feature: cut points (bin k holds values in (cut[k−1], cut[k]]) and every
        // row's bin, column-major.
        let columns: Vec<(Vec<f64>, Vec<u8>)> = (0..p)
            .into_par_iter()
            .map(|j| {
                let mut v: Vec<f64> = x.column(j).to_vec();
                v.sort_unstable_by(f64::total_cmp);
                v.dedup_by(|a, b| a.to_bits() == b.to_bits());
                let bins = opts.bins.clamp(2, 256);
                let cuts: Vec<f64> = if v.len() <= bins {
                    v.windows(2).map(|w| w[0] + (w[1] - w[0]) / 2.0).collect()
                } else {
                    let mut c: Vec<f64> = (1..bins).map(|k| v[k * v.len() / bins]).collect();
                    c.dedup_by(|a, b| a.to_bits() == b.to_bits());
                    c
                };
                let bin = x
                    .column(j)
                    .iter()
                    .map(|&val| cuts.partition_point(|&c| c < val) as u8)
                    .collect();
                (cuts, bin)
            })
            .collect();
        let trees = (0..opts.trees)
            .into_par_iter()
            .map(|t| grow(&columns, y, n, opts, t as u64))
            .collect();
        Forest { trees }
    }

    /// P(positive) of one row.
    #[inline]
    pub(crate) fn predict(&self, row: &[f64]) -> f64 {
        let total: f64 = self.trees.iter().map(|t| t.predict(row)).sum();
        total / self.trees.len() as f64
    }
}

impl Tree {
    #[inline]
    fn predict(&self, row: &[f64]) -> f64 {
        let mut i = 0;
        while self.feature[i] != LEAF {
            let right = row[self.feature[i] as usize] > self.value[i];
            i = self.left[i] as usize + usize::from(right);
        }
        self.value[i]
    }
}

/// Weighted (positives, rows) of a set.
#[derive(Clone, Copy, Default)]
struct Counts {
    pos: f64,
    all: f64,
}

impl Counts {
    /// n × Gini impurity (2 p (1 − p) n, dropping the constant 2).
    fn impurity(self) -> f64 {
        if self.all > 0.0 {
            self.pos * (self.all - self.pos) / self.all
        } else {
            0.0
        }
    }
}

fn grow(
    columns: &[(Vec<f64>, Vec<u8>)],
    y: &[bool],
    n: usize,
    opts: &ForestOptions,
    t: u64,
) -> Tree {
    let p = columns.len();
    let mut rng =
        Xoshiro256PlusPlus::seed_from_u64(opts.seed ^ t.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    // Bootstrap: n draws with replacement, as counts.
    let mut weight = vec![0u32; n];
    for _ in 0..n {
        weight[rng.gen_range(0..n)] += 1;
    }
    let mut rows: Vec<u32> = (0..n as u32).filter(|&i| weight[i as usize] > 0).collect();
    let mut tree = Tree {
        feature: vec![LEAF],
        value: vec![0.0],
        left: vec![0],
    };
    // (node, row range, depth)
    let mut queue = std::collections::VecDeque::from([(0usize, 0usize, rows.len(), 0usize)]);
    let mut order: Vec<usize> = (0..p).collect();
    let mut hist = vec![Counts::default(); 256];
    let min_leaf = opts.min_leaf as f64;
    while let Some((node, a, b, depth)) = queue.pop_front() {
        let mut total = Counts::default();
        for &r in &rows[a..b] {
            let w = f64::from(weight[r as usize]);
            total.all += w;
            total.pos += if y[r as usize] { w } else { 0.0 };
        }
        tree.value[node] = total.pos / total.all;
        if depth >= opts.max_depth || total.all < 2.0 * min_leaf || total.impurity() == 0.0 {
            continue;
        }
        // A random subset of features, tried in index order so ties go to the lowest.
        for k in 0..opts.features_per_split.min(p) {
            let s = rng.gen_range(k..p);
            order.swap(k, s);
        }
        let mut tried: Vec<usize> = order[..opts.features_per_split.min(p)].to_vec();
        tried.sort_unstable();
        let mut best: Option<(f64, usize, usize)> = None;
        for &j in &tried {
            let bins = &columns[j].1;
            let nb = columns[j].0.len() + 1;
            hist[..nb].iter_mut().for_each(|h| *h = Counts::default());
            for &r in &rows[a..b] {
                let w = f64::from(weight[r as usize]);
                let h = &mut hist[bins[r as usize] as usize];
                h.all += w;
                h.pos += if y[r as usize] { w } else { 0.0 };
            }
            let mut left = Counts::default();
            for (cut, h) in hist[..nb - 1].iter().enumerate() {
                left.all += h.all;
                left.pos += h.pos;
                let right = Counts {
                    pos: total.pos - left.pos,
                    all: total.all - left.all,
                };
                if left.all < min_leaf || right.all < min_leaf {
                    continue;
                }
                let score = left.impurity() + right.impurity();
                if best.map_or(true, |(s, _, _)| score < s) {
                    best = Some((score, j, cut));
                }
            }
        }
        let Some((score, j, cut)) = best else {
            continue;
        };
        if score >= total.impurity() * (1.0 - 1e-12) {
            continue;
        }
        // Partition the node's rows: bin ≤ cut to the left.
        let bins = &columns[j].1;
        let (mut i, mut k) = (a, b);
        while i < k {
            if usize::from(bins[rows[i] as usize]) <= cut {
                i += 1;
            } else {
                k -= 1;
                rows.swap(i, k);
            }
        }
        let child = tree.feature.len();
        tree.feature[node] = j as u32;
        tree.value[node] = columns[j].0[cut];
        tree.left[node] = child as u32;
        for _ in 0..2 {
            tree.feature.push(LEAF);
            tree.value.push(0.0);
            tree.left.push(0);
        }
        queue.push_back((child, a, i, depth + 1));
        queue.push_back((child + 1, i, b, depth + 1));
    }
    tree
}
