//! Behavioural clusters: k-means or a Gaussian mixture (linfa) on standardised features
//! from the summary and the log, k given or chosen by silhouette on a seeded sample, with
//! cluster profiles in original units.

use hashbrown::HashMap;
use linfa::traits::{Fit, Predict};
use linfa::DatasetBase;
use linfa_clustering::GaussianMixtureModel;
use ndarray::{Array2, ArrayView2, Axis};
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256Plus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{CustomerIdx, Dataset, ProductIdx};
use crate::error::{Error, Result};
use crate::numerics::column_mean_sd;
use crate::summary::Summary;
use crate::time::{day_number, TimeUnit};

/// Customer features in original units, one row per customer, and how each column is
/// scaled before standardising.
///
/// [`from_summary`](Self::from_summary) builds, for the summary's customers as of its
/// date: `recency_days` (since the last purchase), `frequency` (purchase days),
/// `monetary` (spend per purchase day), `tenure_days` (since the first purchase), all
/// log-scaled with ln(1 + v); `gap_cv` (regularity: coefficient of variation of the gaps
/// between purchase days; customers with fewer than three purchase days get the median of
/// the others); and when the log has them, `category:NAME` and `channel:NAME` shares of
/// purchase spend for the most-bought categories and channels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// Column names.
    pub names: Vec<String>,
    /// Values in original units (customers × columns).
    pub raw: Array2<f64>,
    /// Whether a column is log-scaled (ln(1 + v)) before standardising.
    pub log_scaled: Vec<bool>,
    /// Revenue of each customer (for revenue shares of clusters).
    pub revenue: Vec<f64>,
}

impl Features {
    /// Features from caller-supplied columns.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the names, scale flags or revenues do not match the
    /// shape of `raw`; [`Error::BadValue`] (input `features`) when a value is not finite,
    /// or a log-scaled value is at or below −1 (naming the row and column).
    pub fn new(
        names: Vec<String>,
        raw: Array2<f64>,
        log_scaled: Vec<bool>,
        revenue: Vec<f64>,
    ) -> Result<Self> {
        let f = Features {
            names,
            raw,
            log_scaled,
            revenue,
        };
        f.check()?;
        Ok(f)
    }

    /// The checks of [`new`](Self::new); also run by [`ClusterOptions::fit`], since the
    /// fields are public (and deserialisable).
    fn check(&self) -> Result<()> {
        let (names, raw, log_scaled) = (&self.names, &self.raw, &self.log_scaled);
        Error::check_len("names", names.len(), raw.ncols(), "columns of raw")?;
        Error::check_len(
            "log_scaled",
            log_scaled.len(),
            raw.ncols(),
            "columns of raw",
        )?;
        Error::check_len("revenue", self.revenue.len(), raw.nrows(), "rows of raw")?;
        for ((i, j), &v) in raw.indexed_iter() {
            if !v.is_finite() || (log_scaled[j] && v <= -1.0) {
                let expected = if log_scaled[j] {
                    "a finite value > −1 (the column is log-scaled)"
                } else {
                    "a finite value"
                };
                return Err(Error::bad_value(
                    "features",
                    i,
                    names[j].as_str(),
                    v,
                    expected,
                ));
            }
        }
        Ok(())
    }

    /// The standard features of the summary's customers (see the type's documentation),
    /// with shares for up to `mix` categories and `mix` channels.
    pub fn from_summary<U: TimeUnit>(data: &Dataset, summary: &Summary<U>, mix: usize) -> Self {
        let n = summary.len();
        let end = day_number(summary.as_of());
        let log = data.transactions();
        let products = data.products();
        let category_of: Option<Vec<Option<u32>>> = log.products().map(|_| {
            (0..products.len())
                .map(|p| products.category(ProductIdx(p as u32)).map(|c| c.0))
                .collect()
        });
        // Most-bought categories and channels by total purchase spend (ties by index),
        // then each customer's spend on those only: per-customer storage is `mix` wide
        // whatever the number of categories.
        let rows_of = |i: usize| purchase_rows(data, summary.customer(i), end);
        let amounts = log.amounts();
        let spend_by = |key: &(dyn Fn(usize) -> Option<usize> + Sync), width: usize| {
            const CHUNK: usize = 1 << 12;
            let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
                .into_par_iter()
                .map(|b| {
                    let mut t = vec![0.0; width];
                    for i in b * CHUNK..((b + 1) * CHUNK).min(n) {
                        for r in rows_of(i) {
                            if let Some(k) = key(r) {
                                t[k] += amounts[r];
                            }
                        }
                    }
                    t
                })
                .collect();
            let mut totals = vec![0.0; width];
            for p in parts {
                for (t, v) in totals.iter_mut().zip(p) {
                    *t += v;
                }
            }
            let mut top: Vec<usize> = (0..width).filter(|&k| totals[k] > 0.0).collect();
            top.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
            top.truncate(mix);
            let mut slot = vec![usize::MAX; width];
            for (s, &k) in top.iter().enumerate() {
                slot[k] = s;
            }
            let per: Vec<Vec<f64>> = (0..n)
                .into_par_iter()
                .with_min_len(1 << 12)
                .map(|i| {
                    let mut v = vec![0.0; top.len()];
                    for r in rows_of(i) {
                        if let Some(s) = key(r).map(|k| slot[k]).filter(|&s| s != usize::MAX) {
                            v[s] += amounts[r];
                        }
                    }
                    v
                })
                .collect();
            (top, per)
        };
        let mut names: Vec<String> = ["recency_days", "frequency", "monetary", "tenure_days"]
            .map(String::from)
            .to_vec();
        let mut log_scaled = vec![true; 4];
        names.push("gap_cv".into());
        log_scaled.push(false);
        let mut mix_columns: Vec<Vec<f64>> = Vec::new();
        let mut add_mix = |prefix: &str,
                           labels: &crate::data::Interner,
                           (top, per): (Vec<usize>, Vec<Vec<f64>>)| {
            for (s, &k) in top.iter().enumerate() {
                names.push(format!("{prefix}:{}", labels.name(k)));
                log_scaled.push(false);
                mix_columns.push(per.iter().map(|v| v[s]).collect());
            }
        };
        if let (Some(cat), Some(rows)) = (category_of.as_deref(), log.products()) {
            let labels = products.categories();
            let spend = spend_by(&|r| cat[rows[r].get()].map(|c| c as usize), labels.len());
            add_mix("category", labels, spend);
        }
        if let Some(rows) = log.channels() {
            let labels = data.channels();
            let spend = spend_by(&|r| Some(rows[r].get()), labels.len());
            add_mix("channel", labels, spend);
        }
        let mut raw = Array2::zeros((n, names.len()));
        let mut revenue = Vec::with_capacity(n);
        let mut cvs = Vec::new();
        for i in 0..n {
            let s = summary.get(i);
            let purchase_days = f64::from(s.x + 1);
            let spend = summary.state(i).purchase_spend();
            let mut row = raw.row_mut(i);
            row[0] = f64::from(end - day_number(s.last_purchase));
            row[1] = purchase_days;
            row[2] = spend / purchase_days;
            row[3] = f64::from(end - day_number(s.first_purchase));
            row[4] = s.gap_cv.unwrap_or(f64::NAN);
            if let Some(cv) = s.gap_cv {
                cvs.push(cv);
            }
            for (j, col) in mix_columns.iter().enumerate() {
                row[5 + j] = if spend > 0.0 { col[i] / spend } else { 0.0 };
            }
            revenue.push(s.revenue);
        }
        cvs.sort_by(f64::total_cmp);
        let median = match cvs.len() {
            0 => 0.0,
            m if m % 2 == 1 => cvs[m / 2],
            m => 0.5 * (cvs[m / 2 - 1] + cvs[m / 2]),
        };
        raw.column_mut(4)
            .mapv_inplace(|v| if v.is_nan() { median } else { v });
        Features {
            names,
            raw,
            log_scaled,
            revenue,
        }
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.raw.nrows()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.raw.nrows() == 0
    }

    /// The model matrix: scaled, standardised columns (constant columns left out, since
    /// they carry no information and make a mixture's covariance singular), and the
    /// indices of the columns kept.
    fn standardised(&self) -> Result<(Array2<f64>, Vec<usize>)> {
        let (n, d) = self.raw.dim();
        let scale = |j: usize, v: f64| if self.log_scaled[j] { v.ln_1p() } else { v };
        let (mean, spread) = column_mean_sd(n, d, |i, j| scale(j, self.raw[[i, j]]));
        let mut kept = Vec::new();
        let mut sd = Vec::new();
        for (j, &s) in spread.iter().enumerate() {
            if !s.is_finite() {
                return Err(Error::Numerical {
                    procedure: "standardisation",
                    reason: format!("column `{}` is too large to standardise", self.names[j]),
                });
            }
            if s > 1e-12 * (1.0 + mean[j].abs()) {
                kept.push(j);
                sd.push(s);
            }
        }
        let mut z = Array2::zeros((n, kept.len()));
        z.axis_iter_mut(Axis(0))
            .into_par_iter()
            .zip(self.raw.axis_iter(Axis(0)))
            .for_each(|(mut out, row)| {
                for (c, &j) in kept.iter().enumerate() {
                    out[c] = (scale(j, row[j]) - mean[j]) / sd[c];
                }
            });
        Ok((z, kept))
    }
}

/// Purchase rows (amount ≥ 0) of customer `c` on or before day `end`.
fn purchase_rows(data: &Dataset, c: CustomerIdx, end: i32) -> impl Iterator<Item = usize> + '_ {
    let log = data.transactions();
    let r = log.range(c);
    let (days, amounts) = (log.days(), log.amounts());
    r.filter(move |&i| days[i] <= end && amounts[i] >= 0.0)
}

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
    /// The three features whose cluster mean lies furthest from the overall mean, in
    /// standard deviations of the scaled feature (signed), furthest first.
    pub distinguishing: Vec<(String, f64)>,
}

/// The result of clustering: one label per customer, clusters numbered by size (0 is the
/// largest; ties by first appearance), and their profiles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clusters {
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
    /// Sum of squared distances to the cluster means in the standardised space
    /// (scikit-learn's inertia).
    pub inertia: f64,
    /// Mean silhouette on the sample for each k tried (empty when k was given).
    pub silhouette: Vec<(usize, f64)>,
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

    fn validate(&self, n: usize) -> Result<()> {
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
    pub fn fit(&self, features: &Features) -> Result<Clusters> {
        let n = features.len();
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        self.validate(n)?;
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
                    silhouette.push((*k, s));
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
        Ok(Clusters {
            method: self.method,
            k,
            labels,
            profiles,
            features: features.names.clone(),
            inertia,
            silhouette,
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

/// Greedy k-means++ seeding (Arthur & Vassilvitskii 2007, with the 2 + ⌊ln k⌋ local
/// trials per centre of scikit-learn's implementation).
///
/// Written here rather than taken from linfa: linfa 0.8's k-means++ runs on one thread and
/// took about 0.9 s for 1M × 8 points, most of a whole fit. Distance updates run in
/// parallel over fixed chunks and their sums are reduced in chunk order, so the centres
/// are the same for any number of threads.
fn kmeans_plus_plus(flat: &[f64], d: usize, k: usize, rng: &mut Xoshiro256Plus) -> Vec<f64> {
    const CHUNK: usize = 1 << 13;
    let n = flat.len() / d;
    let point = |i: usize| &flat[i * d..(i + 1) * d];
    let mut centres = Vec::with_capacity(k * d);
    let first = rng.gen_range(0..n);
    centres.extend_from_slice(point(first));
    let mut closest: Vec<f64> = (0..n)
        .into_par_iter()
        .map(|i| sq(point(i), point(first)))
        .collect();
    let trials = 2 + (k as f64).ln().floor() as usize;
    for _ in 1..k {
        // Candidates drawn with probability proportional to the squared distance to the
        // nearest centre so far (a sequential prefix sum: the draw is reproducible).
        let mut cumulative = Vec::with_capacity(n);
        let mut run = 0.0;
        for v in &closest {
            run += v;
            cumulative.push(run);
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                if run > 0.0 {
                    let u = rng.gen::<f64>() * run;
                    cumulative.partition_point(|&s| s <= u).min(n - 1)
                } else {
                    rng.gen_range(0..n)
                }
            })
            .collect();
        // Potential of each candidate (the sum of the nearest distances were it chosen),
        // all candidates in one pass over the points.
        let parts: Vec<Vec<f64>> = closest
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(b, chunk)| {
                let mut acc = vec![0.0; candidates.len()];
                for (j, &old) in chunk.iter().enumerate() {
                    let p = point(b * CHUNK + j);
                    for (a, &cand) in acc.iter_mut().zip(&candidates) {
                        *a += old.min(sq(p, point(cand)));
                    }
                }
                acc
            })
            .collect();
        let mut potentials = vec![0.0; candidates.len()];
        for part in parts {
            for (p, v) in potentials.iter_mut().zip(part) {
                *p += v;
            }
        }
        let mut best = 0;
        for (t, p) in potentials.iter().enumerate() {
            if *p < potentials[best] {
                best = t;
            }
        }
        let chosen = candidates[best];
        centres.extend_from_slice(point(chosen));
        closest
            .par_iter_mut()
            .enumerate()
            .for_each(|(i, old)| *old = old.min(sq(point(i), point(chosen))));
    }
    centres
}

/// Squared Euclidean distance.
#[inline]
fn sq(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// Index of the nearest centre (the lowest index on ties) and its squared distance.
#[inline]
fn nearest(p: &[f64], centres: &[f64], d: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for (c, centre) in centres.chunks_exact(d).enumerate() {
        let dist = sq(p, centre);
        if dist < best.1 {
            best = (c, dist);
        }
    }
    best
}

/// Lloyd iterations from `centres` (k × d, row-major) until the squared shift of the
/// centres is at most `tolerance` (scikit-learn's rule for standardised data) or
/// `max_iter`; then a last assignment. Returns the labels and the inertia.
///
/// Written here rather than taken from linfa: linfa 0.8's k-means updates the centres
/// on one thread and counts each old centre as an extra point; on 1M × 8 points it took
/// 1.4 times scikit-learn's time with one initialisation. Here each pass assigns and
/// accumulates in parallel over fixed chunks whose partial sums are added in chunk
/// order, so the result is the same for any number of threads. An empty cluster keeps
/// its centre.
fn lloyd(
    flat: &[f64],
    d: usize,
    mut centres: Vec<f64>,
    max_iter: u64,
    tolerance: f64,
) -> (Vec<u32>, f64) {
    const CHUNK: usize = 1 << 12;
    let k = centres.len() / d;
    for _ in 0..max_iter {
        let parts: Vec<(Vec<f64>, Vec<u64>)> = flat
            .par_chunks(CHUNK * d)
            .map(|chunk| {
                let (mut sums, mut counts) = (vec![0.0; k * d], vec![0u64; k]);
                for p in chunk.chunks_exact(d) {
                    let (c, _) = nearest(p, &centres, d);
                    counts[c] += 1;
                    for (s, x) in sums[c * d..(c + 1) * d].iter_mut().zip(p) {
                        *s += x;
                    }
                }
                (sums, counts)
            })
            .collect();
        let (mut sums, mut counts) = (vec![0.0; k * d], vec![0u64; k]);
        for (s, c) in parts {
            for (a, b) in sums.iter_mut().zip(s) {
                *a += b;
            }
            for (a, b) in counts.iter_mut().zip(c) {
                *a += b;
            }
        }
        let mut shift = 0.0;
        for c in 0..k {
            if counts[c] == 0 {
                continue;
            }
            for j in 0..d {
                let v = sums[c * d + j] / counts[c] as f64;
                shift += (v - centres[c * d + j]) * (v - centres[c * d + j]);
                centres[c * d + j] = v;
            }
        }
        if shift <= tolerance {
            break;
        }
    }
    let mut labels = vec![0u32; flat.len() / d];
    let inertia: Vec<f64> = labels
        .par_chunks_mut(CHUNK)
        .zip(flat.par_chunks(CHUNK * d))
        .map(|(ls, chunk)| {
            let mut total = 0.0;
            for (l, p) in ls.iter_mut().zip(chunk.chunks_exact(d)) {
                let (c, dist) = nearest(p, &centres, d);
                *l = c as u32;
                total += dist;
            }
            total
        })
        .collect();
    (labels, inertia.iter().sum())
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
            let mut dist: Vec<(String, f64)> = kept
                .iter()
                .enumerate()
                .map(|(col, &j)| (f.names[j].clone(), z_means[[c, col]]))
                .collect();
            dist.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
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

/// Mean silhouette (Rousseeuw 1987) of several labellings of the same points, with
/// Euclidean distances; a point alone in its cluster scores 0, as in scikit-learn. Each
/// point's distances are computed once and shared by all labellings.
fn mean_silhouettes(z: ArrayView2<'_, f64>, labelings: &[(usize, Vec<u32>)]) -> Vec<f64> {
    let (n, d) = z.dim();
    let flat: Vec<f64> = z.iter().copied().collect();
    let counts: Vec<Vec<usize>> = labelings
        .iter()
        .map(|(k, labels)| {
            let mut c = vec![0usize; *k];
            for &l in labels {
                c[l as usize] += 1;
            }
            c
        })
        .collect();
    let per_point: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0.0; n], Vec::new()),
            |(dist, sum): &mut (Vec<f64>, Vec<f64>), i| {
                let zi = &flat[i * d..(i + 1) * d];
                for (j, dj) in dist.iter_mut().enumerate() {
                    let zj = &flat[j * d..(j + 1) * d];
                    *dj = zi
                        .iter()
                        .zip(zj)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                        .sqrt();
                }
                labelings
                    .iter()
                    .zip(&counts)
                    .map(|((k, labels), counts)| {
                        sum.clear();
                        sum.resize(*k, 0.0);
                        for (dj, &l) in dist.iter().zip(labels) {
                            sum[l as usize] += dj;
                        }
                        silhouette_of(sum, counts, labels[i] as usize)
                    })
                    .collect()
            },
        )
        .collect();
    (0..labelings.len())
        .map(|m| per_point.iter().map(|s| s[m]).sum::<f64>() / n as f64)
        .collect()
}

/// One point's silhouette from its summed distances to each cluster.
fn silhouette_of(sum: &[f64], counts: &[usize], own: usize) -> f64 {
    if counts[own] <= 1 {
        return 0.0;
    }
    let a = sum[own] / (counts[own] - 1) as f64;
    let b = (0..counts.len())
        .filter(|&c| c != own && counts[c] > 0)
        .map(|c| sum[c] / counts[c] as f64)
        .fold(f64::INFINITY, f64::min);
    if !b.is_finite() {
        return 0.0;
    }
    let m = a.max(b);
    if m > 0.0 {
        (b - a) / m
    } else {
        0.0
    }
}

/// Mean silhouette of a labelling of `points` (rows), with Euclidean distances: for each
/// point, (b − a) / max(a, b) with a its mean distance to its own cluster and b to the
/// nearest other cluster; a point alone in its cluster scores 0, as in scikit-learn.
/// O(n²): use a sample for large bases (as [`ClusterOptions`] does to choose k).
///
/// # Errors
/// [`Error::LengthMismatch`] when the lengths differ; [`Error::EmptyInput`] when empty.
pub fn silhouette(points: ArrayView2<'_, f64>, labels: &[u32]) -> Result<f64> {
    Error::check_len("labels", labels.len(), points.nrows(), "points")?;
    if labels.is_empty() {
        return Err(Error::EmptyInput);
    }
    let k = labels.iter().max().map_or(0, |&m| m as usize + 1);
    Ok(mean_silhouettes(points, &[(k, labels.to_vec())])[0])
}

/// Adjusted Rand index of two labellings of the same items (Hubert & Arabie 1985): 1 for
/// identical partitions, about 0 for independent ones. Two partitions that are both one
/// cluster, or both all singletons, score 1, as in scikit-learn.
///
/// # Errors
/// [`Error::LengthMismatch`] when the lengths differ; [`Error::EmptyInput`] when empty.
pub fn adjusted_rand_index(a: &[u32], b: &[u32]) -> Result<f64> {
    Error::check_len("b", b.len(), a.len(), "a")?;
    if a.is_empty() {
        return Err(Error::EmptyInput);
    }
    if a.len() == 1 {
        return Ok(1.0);
    }
    let pairs = |c: u64| (c * c.saturating_sub(1) / 2) as f64;
    let mut joint: HashMap<(u32, u32), u64> = HashMap::new();
    let mut rows: HashMap<u32, u64> = HashMap::new();
    let mut cols: HashMap<u32, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    // Integer counts: the sums are exact whatever the hash order.
    let sum =
        |m: &mut dyn Iterator<Item = u64>| m.map(|c| c * c.saturating_sub(1) / 2).sum::<u64>();
    let index = sum(&mut joint.values().copied()) as f64;
    let sa = sum(&mut rows.values().copied()) as f64;
    let sb = sum(&mut cols.values().copied()) as f64;
    let expected = sa * sb / pairs(a.len() as u64);
    let max = 0.5 * (sa + sb);
    // The only partitions where the index is 0/0: both one cluster, or both singletons.
    let n = a.len();
    if (rows.len() == 1 && cols.len() == 1) || (rows.len() == n && cols.len() == n) {
        return Ok(1.0);
    }
    Ok((index - expected) / (max - expected))
}
