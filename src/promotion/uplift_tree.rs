//! Uplift trees and uplift random forests: trees whose splits maximise the divergence
//! between the treated and the control response rates of the children, as causalml's
//! `UpliftTreeClassifier` and `UpliftRandomForestClassifier` grow them (Rzepakowski &
//! Jaroszewicz 2012, "Decision trees for uplift modeling with single and multiple
//! treatments", Knowledge and Information Systems 32).
//!
//! Binary treatment only: one treatment against one control group (causalml also takes
//! several treatments; the criteria here are its criteria for one).
//!
//! # Split gain
//!
//! A node's (regularised) response rates are p_t (treated) and p_c (control); a
//! criterion's divergence D(p_t, p_c) is one of
//!
//! ```text
//! KL:  p_t ln(p_t / q) + (1 − p_t) ln((1 − p_t) / (1 − q)),  q = p_c clamped to [1e-6, 1 − 1e-6]
//!      (0 when p_c = 0; −ln(1 − q) when p_t = 0; −ln q when p_t = 1)
//! ED:  2 (p_t − p_c)²
//! χ²:  (p_t − p_c)² / max(p_c, 1e-6) + (p_t − p_c)² / max(1 − p_c, 1e-6)
//! ```
//!
//! and a split of a node into a left child (feature ≤ threshold) and a right child
//! gains
//!
//! ```text
//! gain = w D(left) + (1 − w) D(right) − D(node),   w = n_left / n_node
//! ```
//!
//! divided, with normalisation on (the default), by Rzepakowski's factor
//! (causalml's `normI`, computed from the node's and the right child's group counts:
//! the treated/control imbalance of the split weighted by the entropy of the groups,
//! plus the split's entropy in each group, plus ½).
//!
//! Rates are regularised as causalml does: a child's rate of a group with more than
//! `min_samples_treatment` rows is (positives + n_reg p_parent) / (rows + n_reg), with
//! p_parent the regularised rate of the node being split (which itself shrinks toward
//! its own parent; the root uses its raw rates); a group with fewer rows takes the
//! parent's rate. A split leaving fewer than `min_samples_treatment` treated or control
//! rows in a child, or fewer than `min_samples_leaf` rows, is not considered. The best
//! split is taken when its gain is not below −ε (f64 machine epsilon), as causalml's
//! tree builder does. Leaves hold the raw treated and control response rates (0 for a
//! group without rows), and a row's uplift is p_t − p_c of its leaf; a forest's is the
//! mean over its trees.
//!
//! # Differences from causalml
//!
//! - Features are binned into at most `bins` (default 256) quantile bins once, and a
//!   node's candidate thresholds are the bins' upper edges (midpoints between
//!   consecutive distinct values when a feature has no more distinct values than
//!   bins): the split search is a histogram of (treated, control) × (positive,
//!   negative) per bin and a cumulative sum, not a sort per node. With no more
//!   distinct values than bins a tree makes causalml's splits (the integration tests
//!   reproduce causalml 0.18's trees); on more, the thresholds are the quantiles'.
//! - A forest's trees draw `max_features` features per split uniformly (causalml's
//!   splitter skips features constant in the node and draws again).
//! - Each tree draws from its own generator seeded from (seed, tree number), trees
//!   are grown in parallel and kept in order, and ties are broken by feature and then
//!   threshold order: a seed gives the same forest on any number of threads.
//! - A bootstrap sample missing the treated or the control group still grows a tree
//!   (a single leaf, uplift from its rates); causalml drops it.

use std::collections::VecDeque;
use std::str::FromStr;

use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::uplift::UpliftData;
use crate::error::{Error, Result};
use crate::numerics::Fitted;

/// The clamp of rates in the KL and χ² divergences and in the normalisation factor
/// (causalml's `EPS`).
const EPS: f64 = 1e-6;

/// Weight of the treated/control imbalance term of the normalisation factor
/// (causalml's `NORM_ALPHA`).
const NORM_ALPHA: f64 = 0.9;

/// A node without children.
const LEAF: u32 = u32::MAX;

/// How a split is scored: the divergence between the treated and control response
/// rates it maximises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SplitCriterion {
    /// Kullback–Leibler divergence of the treated from the control rate (`KL`).
    KullbackLeibler,
    /// Squared Euclidean distance, 2 (p_t − p_c)² (`ED`).
    Euclidean,
    /// χ² divergence (`Chi`).
    ChiSquared,
}

impl FromStr for SplitCriterion {
    type Err = Error;

    /// `kl`, `ed` or `chi` (any case).
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "kl" => Ok(SplitCriterion::KullbackLeibler),
            "ed" => Ok(SplitCriterion::Euclidean),
            "chi" => Ok(SplitCriterion::ChiSquared),
            _ => Err(Error::option("criterion", s, "kl, ed or chi")),
        }
    }
}

impl SplitCriterion {
    /// D(p_t, p_c): the divergence of a treated rate from a control rate (formulas in
    /// the [module documentation](self)).
    pub fn divergence(self, p_treated: f64, p_control: f64) -> f64 {
        match self {
            SplitCriterion::KullbackLeibler => kl(p_treated, p_control),
            SplitCriterion::Euclidean => {
                let d = p_treated - p_control;
                2.0 * d * d
            }
            SplitCriterion::ChiSquared => {
                let d2 = (p_treated - p_control) * (p_treated - p_control);
                d2 / p_control.max(EPS) + d2 / (1.0 - p_control).max(EPS)
            }
        }
    }
}

/// causalml's scalar `kl_divergence` (the KL criterion and the normalisation factor).
/// Its exact comparisons with 0 and 1 are causalml's: the cases where a logarithm's
/// argument would be 0.
#[allow(clippy::float_cmp)]
fn kl(pk: f64, qk: f64) -> f64 {
    if qk == 0.0 {
        return 0.0;
    }
    let q = qk.clamp(EPS, 1.0 - EPS);
    if pk == 0.0 {
        -(1.0 - q).ln()
    } else if pk == 1.0 {
        -q.ln()
    } else {
        pk * (pk / q).ln() + (1.0 - pk) * ((1.0 - pk) / (1.0 - q)).ln()
    }
}

/// causalml's `entropyH(p, q)`: −p ln q, or −p ln p when `q` is `None`; 0 where the
/// logarithm is undefined.
fn entropy_h(p: f64, q: Option<f64>) -> f64 {
    match q {
        None if p > 0.0 => -p * p.ln(),
        Some(q) if q > 0.0 => -p * q.ln(),
        _ => 0.0,
    }
}

/// Rows and positives of the treated and the control group of a set of rows (weighted
/// by bootstrap counts in a forest).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GroupCounts {
    /// Control rows.
    pub control: f64,
    /// Control rows with a positive outcome.
    pub control_positive: f64,
    /// Treated rows.
    pub treated: f64,
    /// Treated rows with a positive outcome.
    pub treated_positive: f64,
}

impl GroupCounts {
    fn from_array(c: [f64; 4]) -> GroupCounts {
        GroupCounts {
            control: c[0] + c[1],
            control_positive: c[1],
            treated: c[2] + c[3],
            treated_positive: c[3],
        }
    }

    fn minus(self, o: GroupCounts) -> GroupCounts {
        GroupCounts {
            control: self.control - o.control,
            control_positive: self.control_positive - o.control_positive,
            treated: self.treated - o.treated,
            treated_positive: self.treated_positive - o.treated_positive,
        }
    }

    fn total(self) -> f64 {
        self.control + self.treated
    }

    /// Raw rates (0 for a group without rows).
    fn rates(self) -> GroupRates {
        let rate = |pos: f64, n: f64| if n > 0.0 { pos / n } else { 0.0 };
        GroupRates {
            treated: rate(self.treated_positive, self.treated),
            control: rate(self.control_positive, self.control),
        }
    }
}

/// Response rates of the treated and the control group.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct GroupRates {
    /// P(positive | treated).
    pub treated: f64,
    /// P(positive | control).
    pub control: f64,
}

/// Settings of one uplift tree. Defaults (causalml's `UpliftTreeClassifier`): KL
/// criterion, depth ≤ 3, leaves of at least 100 rows with at least 10 treated and 10
/// control rows, n_reg 100, normalisation on, every feature tried at each split, 256
/// bins per feature, seed 42 (used only when fewer features than all are tried).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UpliftTreeOptions {
    criterion: SplitCriterion,
    max_depth: usize,
    min_samples_leaf: usize,
    min_samples_treatment: usize,
    n_reg: f64,
    normalization: bool,
    max_features: Option<usize>,
    bins: usize,
    seed: u64,
}

impl Default for UpliftTreeOptions {
    fn default() -> Self {
        UpliftTreeOptions {
            criterion: SplitCriterion::KullbackLeibler,
            max_depth: 3,
            min_samples_leaf: 100,
            min_samples_treatment: 10,
            n_reg: 100.0,
            normalization: true,
            max_features: None,
            bins: 256,
            seed: 42,
        }
    }
}

impl UpliftTreeOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The split criterion.
    pub fn criterion(mut self, criterion: SplitCriterion) -> Self {
        self.criterion = criterion;
        self
    }

    /// Deepest split level (≥ 1; the root is depth 0).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Least rows in a leaf (≥ 1); a node with fewer than twice as many is a leaf.
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.min_samples_leaf = n;
        self
    }

    /// Least treated and least control rows in each child of a split, and the group
    /// size up to which a child's rate is its parent's.
    pub fn min_samples_treatment(mut self, n: usize) -> Self {
        self.min_samples_treatment = n;
        self
    }

    /// Weight, in rows, of the parent's rate in a child's regularised rate (≥ 0,
    /// finite).
    pub fn n_reg(mut self, n_reg: f64) -> Self {
        self.n_reg = n_reg;
        self
    }

    /// Whether gains are divided by the normalisation factor.
    pub fn normalization(mut self, on: bool) -> Self {
        self.normalization = on;
        self
    }

    /// Features drawn at random at each split (≥ 1; `None`: all; more than there are:
    /// all).
    pub fn max_features(mut self, n: Option<usize>) -> Self {
        self.max_features = n;
        self
    }

    /// Quantile bins per feature (2 to 256).
    pub fn bins(mut self, bins: usize) -> Self {
        self.bins = bins;
        self
    }

    /// Seed of the features drawn per split.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if self.max_depth == 0 {
            return Err(Error::option("max_depth", 0, "at least 1"));
        }
        if self.min_samples_leaf == 0 {
            return Err(Error::option("min_samples_leaf", 0, "at least 1"));
        }
        if !(self.n_reg >= 0.0 && self.n_reg.is_finite()) {
            return Err(Error::option("n_reg", self.n_reg, "a finite number ≥ 0"));
        }
        if self.max_features == Some(0) {
            return Err(Error::option("max_features", 0, "at least 1, or all"));
        }
        if !(2..=256).contains(&self.bins) {
            return Err(Error::option("bins", self.bins, "2 to 256"));
        }
        Ok(())
    }

    /// The gain of splitting a node with counts `node` into a left child with counts
    /// `left` (the right child holds the rest), the node's rates shrinking toward
    /// `parent` (its parent's regularised rates; `None` at the root): the quantity the
    /// tree maximises, with these options' criterion, regularisation and
    /// normalisation. −∞ for a split that leaves a child fewer than
    /// `min_samples_treatment` treated or control rows.
    pub fn split_gain(
        &self,
        node: GroupCounts,
        left: GroupCounts,
        parent: Option<GroupRates>,
    ) -> f64 {
        let s = Splitter::new(self);
        let reg = s.regularised(node, parent);
        s.gain(node, left, reg)
    }

    /// The regularised rates of a node with counts `node` whose parent's regularised
    /// rates are `parent` (`None` at the root: the raw rates).
    pub fn regularised_rates(&self, node: GroupCounts, parent: Option<GroupRates>) -> GroupRates {
        Splitter::new(self).regularised(node, parent)
    }

    /// Grows one tree on all rows of `data` (no bootstrap).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options.
    pub fn fit(&self, data: &UpliftData<'_>) -> Result<Fitted<UpliftTree, UpliftTreeReport>> {
        self.validate()?;
        let binned = Binned::new(data.features(), self.bins);
        let cls = classes(data);
        let tree = grow(&binned, &cls, &Splitter::new(self), self, None, self.seed);
        let report = UpliftTreeReport {
            counts: data.counts(),
            nodes: tree.feature.len(),
            leaves: tree.leaves(),
            depth: tree.depth(),
        };
        Ok(Fitted {
            model: tree,
            report,
        })
    }
}

/// Settings of an uplift random forest: the trees' settings and how many trees, each
/// grown on a bootstrap sample. Defaults (causalml's `UpliftRandomForestClassifier`):
/// 10 trees, KL criterion, depth ≤ 5, leaves of at least 100 rows with at least 10
/// treated and 10 control rows, n_reg 10, normalisation on, 10 features drawn per
/// split, bootstrap on, 256 bins per feature, seed 42.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UpliftForestOptions {
    tree: UpliftTreeOptions,
    trees: usize,
    bootstrap: bool,
}

impl Default for UpliftForestOptions {
    fn default() -> Self {
        UpliftForestOptions {
            tree: UpliftTreeOptions {
                max_depth: 5,
                n_reg: 10.0,
                max_features: Some(10),
                ..UpliftTreeOptions::default()
            },
            trees: 10,
            bootstrap: true,
        }
    }
}

impl UpliftForestOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trees in the forest (≥ 1).
    pub fn trees(mut self, n: usize) -> Self {
        self.trees = n;
        self
    }

    /// Whether each tree grows on a bootstrap sample (n rows drawn with replacement)
    /// rather than on every row.
    pub fn bootstrap(mut self, on: bool) -> Self {
        self.bootstrap = on;
        self
    }

    /// As [`UpliftTreeOptions::criterion`].
    pub fn criterion(mut self, criterion: SplitCriterion) -> Self {
        self.tree.criterion = criterion;
        self
    }

    /// As [`UpliftTreeOptions::max_depth`].
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.tree.max_depth = depth;
        self
    }

    /// As [`UpliftTreeOptions::min_samples_leaf`].
    pub fn min_samples_leaf(mut self, n: usize) -> Self {
        self.tree.min_samples_leaf = n;
        self
    }

    /// As [`UpliftTreeOptions::min_samples_treatment`].
    pub fn min_samples_treatment(mut self, n: usize) -> Self {
        self.tree.min_samples_treatment = n;
        self
    }

    /// As [`UpliftTreeOptions::n_reg`].
    pub fn n_reg(mut self, n_reg: f64) -> Self {
        self.tree.n_reg = n_reg;
        self
    }

    /// As [`UpliftTreeOptions::normalization`].
    pub fn normalization(mut self, on: bool) -> Self {
        self.tree.normalization = on;
        self
    }

    /// As [`UpliftTreeOptions::max_features`].
    pub fn max_features(mut self, n: Option<usize>) -> Self {
        self.tree.max_features = n;
        self
    }

    /// As [`UpliftTreeOptions::bins`].
    pub fn bins(mut self, bins: usize) -> Self {
        self.tree.bins = bins;
        self
    }

    /// Seed of the bootstrap samples and of the features drawn per split.
    pub fn seed(mut self, seed: u64) -> Self {
        self.tree.seed = seed;
        self
    }

    /// The settings of each tree.
    pub fn tree_options(&self) -> &UpliftTreeOptions {
        &self.tree
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if self.trees == 0 {
            return Err(Error::option("trees", 0, "at least 1"));
        }
        self.tree.validate()
    }

    /// Grows the forest on `data`: trees in parallel, each from its own generator.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options.
    pub fn fit(&self, data: &UpliftData<'_>) -> Result<Fitted<UpliftForest, UpliftForestReport>> {
        self.validate()?;
        let binned = Binned::new(data.features(), self.tree.bins);
        let cls = classes(data);
        let splitter = Splitter::new(&self.tree);
        let trees: Vec<UpliftTree> = (0..self.trees)
            .into_par_iter()
            .map(|t| {
                let seed = tree_seed(self.tree.seed, t as u64);
                grow(
                    &binned,
                    &cls,
                    &splitter,
                    &self.tree,
                    self.bootstrap.then_some(seed),
                    seed,
                )
            })
            .collect();
        let report = UpliftForestReport {
            counts: data.counts(),
            trees: trees.len(),
            nodes: trees.iter().map(|t| t.feature.len()).sum(),
            leaves: trees.iter().map(UpliftTree::leaves).sum(),
            max_depth: trees.iter().map(UpliftTree::depth).max().unwrap_or(0),
        };
        Ok(Fitted {
            model: UpliftForest {
                names: data.feature_names().to_vec(),
                trees,
            },
            report,
        })
    }
}

/// Tree `t`'s seed: the forest's seed mixed with the tree number (Weyl increment of
/// the golden ratio, as the churn forest does).
fn tree_seed(seed: u64, t: u64) -> u64 {
    seed ^ (t.wrapping_add(1)).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A fitted uplift tree as flat arrays: node i splits on `feature[i]` (left when the
/// value is at most `threshold[i]`), children at `left[i]` and `left[i] + 1`; a leaf has
/// no feature. Every node keeps its raw treated and control response rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftTree {
    features: usize,
    feature: Vec<u32>,
    threshold: Vec<f64>,
    left: Vec<u32>,
    treated_rate: Vec<f64>,
    control_rate: Vec<f64>,
}

/// What growing one tree reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftTreeReport {
    /// Rows and positives per group of the data.
    pub counts: GroupCounts,
    /// Nodes of the tree.
    pub nodes: usize,
    /// Leaves of the tree.
    pub leaves: usize,
    /// Depth reached (0: the root is a leaf).
    pub depth: usize,
}

/// A fitted uplift random forest: a row's uplift is the mean over the trees of its
/// leaf's p_t − p_c.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftForest {
    names: Vec<String>,
    trees: Vec<UpliftTree>,
}

/// What growing a forest reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftForestReport {
    /// Rows and positives per group of the data.
    pub counts: GroupCounts,
    /// Trees grown.
    pub trees: usize,
    /// Nodes over all trees.
    pub nodes: usize,
    /// Leaves over all trees.
    pub leaves: usize,
    /// Deepest level any tree reached.
    pub max_depth: usize,
}

impl UpliftTree {
    /// The leaf of one row.
    #[inline]
    fn leaf(&self, row: &[f64]) -> usize {
        let mut i = 0;
        while self.feature[i] != LEAF {
            let right = row[self.feature[i] as usize] > self.threshold[i];
            i = self.left[i] as usize + usize::from(right);
        }
        i
    }

    /// The treated and control response rates of one row's leaf.
    ///
    /// # Panics
    /// If `row` has fewer values than the tree has features (a programmer error).
    pub fn rates(&self, row: &[f64]) -> GroupRates {
        let i = self.leaf(row);
        GroupRates {
            treated: self.treated_rate[i],
            control: self.control_rate[i],
        }
    }

    /// p_t − p_c of one row's leaf.
    ///
    /// # Panics
    /// As [`rates`](Self::rates).
    #[inline]
    pub fn uplift(&self, row: &[f64]) -> f64 {
        let i = self.leaf(row);
        self.treated_rate[i] - self.control_rate[i]
    }

    /// The uplift of every row of `x` (one column per feature), in parallel.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `x` has not one column per feature of the data
    /// the tree was grown on; [`Error::BadValue`] for a non-finite value (its row and
    /// column).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        predict_rows(x, self.features, None, |row| self.uplift(row))
    }

    /// Number of leaves.
    pub fn leaves(&self) -> usize {
        self.feature.iter().filter(|&&f| f == LEAF).count()
    }

    /// Depth of the deepest leaf (0 for a tree that is one leaf).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.feature.len()];
        let mut deepest = 0;
        for i in 0..self.feature.len() {
            if self.feature[i] != LEAF {
                let c = self.left[i] as usize;
                depth[c] = depth[i] + 1;
                depth[c + 1] = depth[i] + 1;
                deepest = deepest.max(depth[i] + 1);
            }
        }
        deepest
    }
}

impl UpliftForest {
    /// Feature names, in the column order the model expects.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The trees, in the order grown.
    pub fn trees(&self) -> &[UpliftTree] {
        &self.trees
    }

    /// The mean over the trees of one row's leaf p_t − p_c (summed in tree order).
    ///
    /// # Panics
    /// If `row` has fewer values than the model has features (a programmer error).
    pub fn uplift(&self, row: &[f64]) -> f64 {
        let total: f64 = self.trees.iter().map(|t| t.uplift(row)).sum();
        total / self.trees.len() as f64
    }

    /// The mean over the trees of one row's leaf rates.
    ///
    /// # Panics
    /// As [`uplift`](Self::uplift).
    pub fn rates(&self, row: &[f64]) -> GroupRates {
        let n = self.trees.len() as f64;
        let (mut t, mut c) = (0.0, 0.0);
        for tree in &self.trees {
            let r = tree.rates(row);
            t += r.treated;
            c += r.control;
        }
        GroupRates {
            treated: t / n,
            control: c / n,
        }
    }

    /// The uplift of every row of `x` (one column per feature), in parallel.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `x` has not one column per feature;
    /// [`Error::BadValue`] for a non-finite value (its row and feature).
    pub fn predict(&self, x: ArrayView2<'_, f64>) -> Result<Vec<f64>> {
        predict_rows(x, self.names.len(), Some(&self.names), |row| {
            self.uplift(row)
        })
    }
}

/// `f` of every row of `x`, in parallel, after checking the column count and that
/// every value is finite (naming a bad value's column by `names` when given).
pub(super) fn predict_rows(
    x: ArrayView2<'_, f64>,
    features: usize,
    names: Option<&[String]>,
    f: impl Fn(&[f64]) -> f64 + Sync,
) -> Result<Vec<f64>> {
    Error::check_len(
        "feature columns",
        x.ncols(),
        features,
        "features of the model",
    )?;
    let xs = x.as_standard_layout();
    // A standard-layout array is one contiguous slice.
    let flat = xs.as_slice().unwrap_or(&[]);
    if let Some(at) = flat.par_iter().position_first(|v| !v.is_finite()) {
        return Err(Error::bad_value(
            "features",
            at / features.max(1),
            names
                .and_then(|n| n.get(at % features.max(1)).cloned())
                .unwrap_or_else(|| format!("column {}", at % features.max(1))),
            flat[at],
            "a finite value",
        ));
    }
    if features == 0 {
        return Ok((0..x.nrows()).into_par_iter().map(|_| f(&[])).collect());
    }
    Ok(flat.par_chunks(features).map(&f).collect())
}

/// Each row's class: 2 × treated + positive (0 control negative, 1 control positive, 2
/// treated negative, 3 treated positive).
fn classes(data: &UpliftData<'_>) -> Vec<u8> {
    data.treatment()
        .par_iter()
        .zip(data.outcome().par_iter())
        .map(|(&t, &y)| 2 * u8::from(t) + u8::from(y))
        .collect()
}

/// Features binned once: per feature the cut points (bin k holds values in
/// (cut[k−1], cut[k]]) and every row's bin.
struct Binned {
    cuts: Vec<Vec<f64>>,
    codes: Vec<Vec<u8>>,
}

impl Binned {
    fn new(x: ArrayView2<'_, f64>, bins: usize) -> Binned {
        let (cuts, codes) = (0..x.ncols())
            .into_par_iter()
            .map(|j| {
                let mut v: Vec<f64> = x.column(j).to_vec();
                v.sort_unstable_by(f64::total_cmp);
                v.dedup_by(|a, b| a.to_bits() == b.to_bits());
                let cuts: Vec<f64> = if v.len() <= bins {
                    // Midpoints, as causalml's (scikit-learn's) thresholds.
                    v.windows(2).map(|w| w[0] / 2.0 + w[1] / 2.0).collect()
                } else {
                    let mut c: Vec<f64> = (1..bins).map(|k| v[k * v.len() / bins]).collect();
                    c.dedup_by(|a, b| a.to_bits() == b.to_bits());
                    c
                };
                let code = x
                    .column(j)
                    .iter()
                    .map(|&val| cuts.partition_point(|&c| c < val) as u8)
                    .collect();
                (cuts, code)
            })
            .unzip();
        Binned { cuts, codes }
    }
}

/// The split rules of one set of options, in the form the grower uses.
struct Splitter {
    criterion: SplitCriterion,
    min_leaf: f64,
    min_treatment: f64,
    n_reg: f64,
    normalization: bool,
}

impl Splitter {
    fn new(o: &UpliftTreeOptions) -> Splitter {
        Splitter {
            criterion: o.criterion,
            min_leaf: o.min_samples_leaf as f64,
            min_treatment: o.min_samples_treatment as f64,
            n_reg: o.n_reg,
            normalization: o.normalization,
        }
    }

    /// causalml's `_reg_summary`: raw rates at the root, else each group's rate shrunk
    /// toward the parent's (the parent's own when the group has at most
    /// `min_treatment` rows).
    fn regularised(&self, c: GroupCounts, parent: Option<GroupRates>) -> GroupRates {
        let Some(p) = parent else {
            return c.rates();
        };
        let shrink = |pos: f64, n: f64, target: f64| {
            if n > self.min_treatment {
                (pos + target * self.n_reg) / (n + self.n_reg)
            } else {
                target
            }
        };
        GroupRates {
            treated: shrink(c.treated_positive, c.treated, p.treated),
            control: shrink(c.control_positive, c.control, p.control),
        }
    }

    fn divergence(&self, r: GroupRates) -> f64 {
        self.criterion.divergence(r.treated, r.control)
    }

    /// The gain of a split of `node` (regularised rates `reg`) into `left` and the rest.
    fn gain(&self, node: GroupCounts, left: GroupCounts, reg: GroupRates) -> f64 {
        let right = node.minus(left);
        if left.control.min(left.treated) < self.min_treatment
            || right.control.min(right.treated) < self.min_treatment
        {
            return f64::NEG_INFINITY;
        }
        let s_left = self.regularised(left, Some(reg));
        let s_right = self.regularised(right, Some(reg));
        let p = left.total() / node.total();
        let gain = p * self.divergence(s_left) + (1.0 - p) * self.divergence(s_right)
            - self.divergence(reg);
        if self.normalization {
            gain / norm_factor(node, right)
        } else {
            gain
        }
    }
}

/// causalml's normalisation factor (`arr_normI`, one treatment), from the node's counts
/// and those of the child with the larger values (causalml's "left" is `≥ value`).
fn norm_factor(node: GroupCounts, right: GroupCounts) -> f64 {
    let n_c = node.control;
    let n_c_gt = right.control;
    let sum_n_t = node.treated;
    let sum_n_t_gt = right.treated;
    let pt_a = sum_n_t_gt / (sum_n_t + 0.1);
    let pc_a = n_c_gt / (n_c + 0.1);
    let mut res = 0.0;
    // Part 1: the treated/control imbalance of the split.
    res += NORM_ALPHA
        * entropy_h(sum_n_t / (sum_n_t + n_c), Some(n_c / (sum_n_t + n_c)))
        * kl(pt_a, pc_a);
    // Parts 2 and 3, for the one treatment.
    let n_t_i = node.treated;
    let pt_a_i = right.treated / (n_t_i + 0.1);
    res += (1.0 - NORM_ALPHA)
        * entropy_h(n_t_i / (n_t_i + n_c), Some(n_c / (n_t_i + n_c)))
        * kl(pt_a_i, pc_a);
    res += n_t_i / (sum_n_t + n_c) * entropy_h(pt_a_i, None);
    // Part 4.
    res += n_c / (sum_n_t + n_c) * entropy_h(pc_a, None);
    // Part 5.
    res + 0.5
}

/// Grows one tree; `bootstrap` holds the seed of the bootstrap sample when there is one,
/// `seed` seeds the features drawn per split.
fn grow(
    binned: &Binned,
    cls: &[u8],
    splitter: &Splitter,
    opts: &UpliftTreeOptions,
    bootstrap: Option<u64>,
    seed: u64,
) -> UpliftTree {
    let n = cls.len();
    let p = binned.codes.len();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    // Each row's weight (its bootstrap count) and class in one word: weight << 2 | class.
    let mut tag: Vec<u32> = vec![0; n];
    match bootstrap {
        Some(_) => {
            for _ in 0..n {
                tag[rng.gen_range(0..n)] += 4;
            }
            for (t, &c) in tag.iter_mut().zip(cls) {
                if *t > 0 {
                    *t |= u32::from(c);
                }
            }
        }
        None => tag
            .iter_mut()
            .zip(cls)
            .for_each(|(t, &c)| *t = 4 | u32::from(c)),
    }
    // The rows of each node stay in increasing order (stable partitions), so the
    // histogram passes read the columns forward.
    let mut rows: Vec<u32> = (0..n as u32).filter(|&i| tag[i as usize] > 0).collect();
    let mut scratch: Vec<u32> = Vec::with_capacity(rows.len());
    let mut tree = UpliftTree {
        features: p,
        feature: vec![LEAF],
        threshold: vec![0.0],
        left: vec![0],
        treated_rate: vec![0.0],
        control_rate: vec![0.0],
    };
    let per_split = opts.max_features.unwrap_or(p).min(p);
    let mut order: Vec<usize> = (0..p).collect();
    let mut hist = vec![[0u32; 4]; 256];
    // (node, row range, depth, the parent's regularised rates)
    let mut queue = VecDeque::from([(0usize, 0usize, rows.len(), 0usize, None)]);
    while let Some((node, a, b, depth, parent)) = queue.pop_front() {
        let mut total = [0.0f64; 4];
        for &r in &rows[a..b] {
            let t = tag[r as usize];
            total[(t & 3) as usize] += f64::from(t >> 2);
        }
        let counts = GroupCounts::from_array(total);
        let raw = counts.rates();
        tree.treated_rate[node] = raw.treated;
        tree.control_rate[node] = raw.control;
        let reg = splitter.regularised(counts, parent);
        if depth >= opts.max_depth || counts.total() < 2.0 * splitter.min_leaf || p == 0 {
            continue;
        }
        // Features drawn without replacement, tried in index order so ties go to the
        // lowest.
        let tried: Vec<usize> = if per_split == p {
            (0..p).collect()
        } else {
            for k in 0..per_split {
                let s = rng.gen_range(k..p);
                order.swap(k, s);
            }
            let mut t = order[..per_split].to_vec();
            t.sort_unstable();
            t
        };
        // (gain, feature, last bin of the left child)
        let mut best: Option<(f64, usize, usize)> = None;
        for &j in &tried {
            let codes = &binned.codes[j];
            let nb = binned.cuts[j].len() + 1;
            hist[..nb].iter_mut().for_each(|h| *h = [0; 4]);
            for &r in &rows[a..b] {
                let t = tag[r as usize];
                hist[codes[r as usize] as usize][(t & 3) as usize] += t >> 2;
            }
            let mut left = [0.0f64; 4];
            for (cut, h) in hist[..nb - 1].iter().enumerate() {
                if *h == [0; 4] && cut > 0 {
                    // The same partition as the cut before.
                    continue;
                }
                for c in 0..4 {
                    left[c] += f64::from(h[c]);
                }
                let lc = GroupCounts::from_array(left);
                let nl = lc.total();
                if nl < splitter.min_leaf {
                    continue;
                }
                if counts.total() - nl < splitter.min_leaf {
                    break;
                }
                let gain = splitter.gain(counts, lc, reg);
                if best.map_or(true, |(g, _, _)| gain > g) {
                    best = Some((gain, j, cut));
                }
            }
        }
        let Some((gain, j, cut)) = best else {
            continue;
        };
        // causalml's builder leaves a node when the gain is below −ε (a −∞ gain is no
        // split at all).
        if gain.is_nan() || gain + f64::EPSILON < 0.0 {
            continue;
        }
        // Stable partition of the node's rows: bin ≤ cut to the left.
        let codes = &binned.codes[j];
        scratch.clear();
        let mut w = a;
        for i in a..b {
            let r = rows[i];
            if usize::from(codes[r as usize]) <= cut {
                rows[w] = r;
                w += 1;
            } else {
                scratch.push(r);
            }
        }
        rows[w..b].copy_from_slice(&scratch);
        let child = tree.feature.len();
        tree.feature[node] = j as u32;
        tree.threshold[node] = binned.cuts[j][cut];
        tree.left[node] = child as u32;
        for _ in 0..2 {
            tree.feature.push(LEAF);
            tree.threshold.push(0.0);
            tree.left.push(0);
            tree.treated_rate.push(0.0);
            tree.control_rate.push(0.0);
        }
        queue.push_back((child, a, w, depth + 1, Some(reg)));
        queue.push_back((child + 1, w, b, depth + 1, Some(reg)));
    }
    tree
}
