//! Behavioural clusters: k-means or a Gaussian mixture (linfa) on standardised features
//! from the summary and the view, k given or chosen by silhouette on a seeded sample,
//! with cluster profiles in original units.

mod features;
mod kmeans;

use linfa::traits::{Fit, Predict};
use linfa::DatasetBase;
use linfa_clustering::GaussianMixtureModel;
use ndarray::{Array2, ArrayView2, Axis};
use rand::SeedableRng;
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use features::{FeatureOptions, Features};
use kmeans::{kmeans_plus_plus, lloyd};

use crate::data::{Area, Rows};
use crate::error::{Error, Result};
use crate::numerics::{mean_silhouettes, Fitted};

/// The clustering method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ClusterMethod {
    /// k-means (Lloyd's algorithm, greedy k-means++ initialisation).
    #[default]
    KMeans,
    /// Gaussian mixture with full covariances (linfa), k-means initialisation; customers
    /// go to their most probable component.
    GaussianMixture,
}

/// How to cluster. Defaults: k-means; k chosen by mean silhouette among 2..=8 on a
/// seeded sample of 3,000 customers; 3 initialisations; at most 300 iterations; tolerance
/// 1e-4; seed 42.
///
/// k-means is seeded by greedy k-means++ and runs Lloyd's iterations; the tolerance means
/// what it means in scikit-learn: a fit stops when the squared shift of the centres is at
/// most `tolerance` times the mean feature variance (1 after standardising). Each initialisation
/// has its own random stream (the seed's stream, jumped once per earlier initialisation).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterOptions {
    method: ClusterMethod,
    k: Option<usize>,
    k_range: (usize, usize),
    n_init: usize,
    max_iter: u64,
    tolerance: f64,
    sample: usize,
    seed: u64,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        ClusterOptions {
            method: ClusterMethod::KMeans,
            k: None,
            k_range: (2, 8),
            n_init: 3,
            max_iter: 300,
            tolerance: 1e-4,
            sample: 3000,
            seed: 42,
        }
    }
}

/// A cluster in original units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterProfile {
    /// Customers in the cluster.
    pub size: usize,
    /// Share of all customers.
    pub share: f64,
    /// Share of total revenue (0 when total revenue is 0).
    pub revenue_share: f64,
    /// Mean of each feature, in original units (same order as the feature names).
    pub centroid: Vec<f64>,
    /// The three features whose cluster mean lies furthest from the overall mean,
    /// furthest first.
    pub distinguishing: Vec<Distinguishing>,
}

/// The result of clustering: one label per customer, clusters numbered by size (0 is the
/// largest; ties by first appearance), and their profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clusters {
    /// The customers, and the scope they were read under.
    pub rows: Rows,
    /// Method used.
    pub method: ClusterMethod,
    /// Number of clusters.
    pub k: usize,
    /// Cluster of each customer.
    pub labels: Vec<u32>,
    /// Profiles, by cluster.
    pub profiles: Vec<ClusterProfile>,
    /// Feature names (the columns of the centroids).
    pub features: Vec<String>,
}

/// How a clustering went: the fit of the chosen k and the choice of k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterReport {
    /// Sum of squared distances to the cluster means in the standardised space
    /// (scikit-learn's inertia).
    pub inertia: f64,
    /// Mean silhouette on the sample for each k tried (empty when k was given).
    pub silhouette: Vec<SilhouetteScore>,
    /// Features constant over the customers, left out of the model matrix.
    pub constant_features: Vec<String>,
}

/// The mean silhouette of one k on the sample. Serialised as the pair `[k, score]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SilhouetteScore {
    /// Number of clusters.
    pub k: usize,
    /// Mean silhouette (−1 to 1; higher separates better).
    pub score: f64,
}

/// A feature that sets a cluster apart. Serialised as the pair `[feature, z]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Distinguishing {
    /// Feature name.
    pub feature: String,
    /// The cluster mean's distance from the overall mean, in standard deviations of the
    /// scaled feature (signed).
    pub z: f64,
}

// Pairs, not objects: `[k, score]` and `[feature, z]` are the published JSON shape (of
// the profile example among others), kept when the tuples became named structs.
impl Serialize for SilhouetteScore {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (self.k, self.score).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for SilhouetteScore {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (k, score) = Deserialize::deserialize(deserializer)?;
        Ok(SilhouetteScore { k, score })
    }
}

impl Serialize for Distinguishing {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        (&self.feature, self.z).serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Distinguishing {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let (feature, z) = Deserialize::deserialize(deserializer)?;
        Ok(Distinguishing { feature, z })
    }
}

impl Clusters {
    /// Sizes of the clusters.
    pub fn sizes(&self) -> Vec<usize> {
        self.profiles.iter().map(|p| p.size).collect()
    }

    /// Each cluster's share of the total of a per-customer value (profit, CLV, ...).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `values` does not have one value per customer.
    pub fn value_shares(&self, values: &[f64]) -> Result<Vec<f64>> {
        Error::check_len("values", values.len(), self.labels.len(), "customers")?;
        Ok(shares(&self.labels, values, self.k))
    }
}

/// Per-label share of the total of `values`, summed in customer order.
fn shares(labels: &[u32], values: &[f64], k: usize) -> Vec<f64> {
    let mut sums = vec![0.0; k];
    for (&l, &v) in labels.iter().zip(values) {
        sums[l as usize] += v;
    }
    let total: f64 = sums.iter().sum();
    sums.iter()
        .map(|s| if total == 0.0 { 0.0 } else { s / total })
        .collect()
}

impl ClusterOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }
    /// The method.
    pub fn method(mut self, m: ClusterMethod) -> Self {
        self.method = m;
        self
    }
    /// A fixed number of clusters (≥ 2), instead of choosing it by silhouette.
    pub fn k(mut self, k: usize) -> Self {
        self.k = Some(k);
        self
    }
    /// The range of k tried by silhouette (2 ≤ lo ≤ hi).
    pub fn k_range(mut self, lo: usize, hi: usize) -> Self {
        self.k_range = (lo, hi);
        self
    }
    /// Initialisations per fit (the best is kept; ≥ 1).
    pub fn n_init(mut self, n: usize) -> Self {
        self.n_init = n;
        self
    }
    /// Iteration cap (≥ 1) and tolerance (> 0) of each fit.
    pub fn iterations(mut self, max_iter: u64, tolerance: f64) -> Self {
        self.max_iter = max_iter;
        self.tolerance = tolerance;
        self
    }
    /// Customers sampled to choose k (≥ 10).
    pub fn sample(mut self, n: usize) -> Self {
        self.sample = n;
        self
    }
    /// Seed of every random choice.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every option (also done by [`fit`](Self::fit), which also checks k against
    /// the number of customers).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        self.validate_for(usize::MAX)
    }

    fn validate_for(&self, n: usize) -> Result<()> {
        let (lo, hi) = self.k_range;
        if self.sample < 10 {
            return Err(Error::option("sample", self.sample, "at least 10"));
        }
        if let Some(k) = self.k {
            if k < 2 {
                return Err(Error::option("k", k, "at least 2 clusters"));
            }
            if k > n {
                return Err(Error::option("k", k, format!("at most the {n} customers")));
            }
        } else {
            if lo < 2 || hi < lo {
                return Err(Error::option(
                    "k_range",
                    format!("{lo}..={hi}"),
                    "lo..=hi with 2 ≤ lo ≤ hi",
                ));
            }
            if hi > n.min(self.sample) {
                return Err(Error::option(
                    "k_range",
                    format!("{lo}..={hi}"),
                    format!(
                        "hi at most {}, the customers sampled (`sample` {} of {n})",
                        n.min(self.sample),
                        self.sample
                    ),
                ));
            }
        }
        if self.n_init == 0 {
            return Err(Error::option("n_init", 0, "at least 1 initialisation"));
        }
        if self.max_iter == 0 {
            return Err(Error::option("iterations", "max_iter = 0", "max_iter ≥ 1"));
        }
        if !(self.tolerance.is_finite() && self.tolerance > 0.0) {
            return Err(Error::option(
                "iterations",
                format!("tolerance = {}", self.tolerance),
                "a finite tolerance > 0",
            ));
        }
        Ok(())
    }

    /// Clusters the customers of `features`.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] without customers; [`Error::InvalidOption`] for an option out
    /// of its domain (see the setters) or more clusters than (distinct) customers;
    /// [`Error::LengthMismatch`] and [`Error::BadValue`] as for [`Features::new`];
    /// [`Error::Degenerate`] for features that are all constant; [`Error::Numerical`] for
    /// a column too large to standardise, no k with a finite silhouette, or a failed fit.
    pub fn fit(&self, features: &Features) -> Result<Fitted<Clusters, ClusterReport>> {
        features.rows.scope().require(Area::Profiling)?;
        let n = features.len();
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        self.validate_for(n)?;
        features.check()?;
        let (z, kept) = features.standardised()?;
        if kept.is_empty() {
            return Err(Error::Degenerate {
                input: "features".into(),
                reason: "every feature is constant".into(),
            });
        }
        let mut silhouette = Vec::new();
        let k = match self.k {
            Some(k) => k,
            None => {
                let m = n.min(self.sample);
                let mut rng = Xoshiro256Plus::seed_from_u64(self.seed);
                let mut rows = rand::seq::index::sample(&mut rng, n, m).into_vec();
                rows.sort_unstable();
                let sample = z.select(Axis(0), &rows);
                let labelings = (self.k_range.0..=self.k_range.1)
                    .map(|k| Ok((k, self.labels(sample.view(), k)?)))
                    .collect::<Result<Vec<_>>>()?;
                let scores = mean_silhouettes(sample.view(), &labelings);
                let mut best = (0usize, f64::NEG_INFINITY);
                for ((k, _), s) in labelings.iter().zip(scores) {
                    silhouette.push(SilhouetteScore { k: *k, score: s });
                    if s > best.1 {
                        best = (*k, s);
                    }
                }
                best.0
            }
        };
        if k == 0 {
            return Err(Error::Numerical {
                procedure: "silhouette",
                reason: format!(
                    "no k in {}..={} gave a finite silhouette",
                    self.k_range.0, self.k_range.1
                ),
            });
        }
        let labels = relabel_by_size(&self.labels(z.view(), k)?, k);
        let mut seen = vec![false; k];
        for &l in &labels {
            seen[l as usize] = true;
        }
        if seen.iter().any(|s| !s) {
            let found = seen.iter().filter(|s| **s).count();
            return Err(Error::option(
                "k",
                k,
                format!(
                    "at most {found}: only {found} clusters are non-empty (fewer distinct \
                     customers than clusters)"
                ),
            ));
        }
        let profiles = profiles(features, &z, &kept, &labels, k);
        let inertia = inertia(&z, &labels, k);
        let constant_features = (0..features.names.len())
            .filter(|j| !kept.contains(j))
            .map(|j| features.names[j].clone())
            .collect();
        Ok(Fitted {
            model: Clusters {
                rows: features.rows.clone(),
                method: self.method,
                k,
                labels,
                profiles,
                features: features.names.clone(),
            },
            report: ClusterReport {
                inertia,
                silhouette,
                constant_features,
            },
        })
    }

    /// Raw labels of one fit on `z`.
    fn labels(&self, z: ArrayView2<'_, f64>, k: usize) -> Result<Vec<u32>> {
        let fail = |reason: String| Error::Numerical {
            procedure: "clustering",
            reason,
        };
        let labels = match self.method {
            ClusterMethod::KMeans => {
                let flat: Vec<f64> = z.iter().copied().collect();
                let mut best: Option<(f64, Vec<u32>)> = None;
                for run in 0..self.n_init {
                    let mut rng = Xoshiro256Plus::seed_from_u64(self.seed);
                    for _ in 0..run {
                        rng.jump();
                    }
                    let init = kmeans_plus_plus(&flat, z.ncols(), k, &mut rng);
                    let (labels, inertia) =
                        lloyd(&flat, z.ncols(), init, self.max_iter, self.tolerance);
                    // Strictly better only: the earliest run wins ties.
                    let better = match &best {
                        None => true,
                        Some((i, _)) => inertia < *i,
                    };
                    if better {
                        best = Some((inertia, labels));
                    }
                }
                // `validate` ensured n_init ≥ 1, so at least one run filled `best`.
                return Ok(best.map(|b| b.1).unwrap_or_default());
            }
            ClusterMethod::GaussianMixture => {
                let data = DatasetBase::from(z);
                let rng = Xoshiro256Plus::seed_from_u64(self.seed);
                let model = GaussianMixtureModel::params_with_rng(k, rng)
                    .n_runs(self.n_init as u64)
                    .max_n_iterations(self.max_iter)
                    .tolerance(self.tolerance)
                    .fit(&data)
                    .map_err(|e| fail(e.to_string()))?;
                model.predict(&z)
            }
        };
        Ok(labels.iter().map(|&l| l as u32).collect())
    }
}

/// Renumbers clusters by size, largest first, ties by first appearance.
fn relabel_by_size(labels: &[u32], k: usize) -> Vec<u32> {
    let mut size = vec![0usize; k];
    let mut first = vec![usize::MAX; k];
    for (i, &l) in labels.iter().enumerate() {
        size[l as usize] += 1;
        first[l as usize] = first[l as usize].min(i);
    }
    let mut order: Vec<usize> = (0..k).collect();
    order.sort_by(|&a, &b| size[b].cmp(&size[a]).then(first[a].cmp(&first[b])));
    let mut new = vec![0u32; k];
    for (rank, &old) in order.iter().enumerate() {
        new[old] = rank as u32;
    }
    labels.iter().map(|&l| new[l as usize]).collect()
}

/// Per-cluster means of the rows of `m`, summed in row order.
fn means(m: &Array2<f64>, labels: &[u32], k: usize) -> (Array2<f64>, Vec<usize>) {
    let mut sums = Array2::zeros((k, m.ncols()));
    let mut counts = vec![0usize; k];
    for (row, &l) in m.rows().into_iter().zip(labels) {
        let mut s = sums.row_mut(l as usize);
        s += &row;
        counts[l as usize] += 1;
    }
    for (mut s, &c) in sums.rows_mut().into_iter().zip(&counts) {
        if c > 0 {
            s /= c as f64;
        }
    }
    (sums, counts)
}

fn profiles(
    f: &Features,
    z: &Array2<f64>,
    kept: &[usize],
    labels: &[u32],
    k: usize,
) -> Vec<ClusterProfile> {
    let (raw_means, counts) = means(&f.raw, labels, k);
    let (z_means, _) = means(z, labels, k);
    let revenue = shares(labels, &f.revenue, k);
    let n = labels.len() as f64;
    (0..k)
        .map(|c| {
            let mut dist: Vec<Distinguishing> = kept
                .iter()
                .enumerate()
                .map(|(col, &j)| Distinguishing {
                    feature: f.names[j].clone(),
                    z: z_means[[c, col]],
                })
                .collect();
            dist.sort_by(|a, b| b.z.abs().total_cmp(&a.z.abs()));
            dist.truncate(3);
            ClusterProfile {
                size: counts[c],
                share: counts[c] as f64 / n,
                revenue_share: revenue[c],
                centroid: raw_means.row(c).to_vec(),
                distinguishing: dist,
            }
        })
        .collect()
}

/// Sum of squared distances to the cluster means.
fn inertia(z: &Array2<f64>, labels: &[u32], k: usize) -> f64 {
    let (centres, _) = means(z, labels, k);
    let d: Vec<f64> = z
        .axis_iter(Axis(0))
        .into_par_iter()
        .zip(labels.par_iter())
        .map(|(row, &l)| {
            row.iter()
                .zip(centres.row(l as usize))
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
        })
        .collect();
    d.iter().sum()
}
