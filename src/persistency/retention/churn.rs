//! Supervised churn scores: features from the calibration period, labels from the
//! holdout period, a logistic regression (linfa-logistic) or a random forest (the
//! crate's own, see [`crate::numerics`] for why not linfa-trees), evaluated on
//! held-out customers.
//!
//! Determinism: the train/test split and the forest's seed come from one seeded
//! generator; features are standardised with sums in a fixed order; each tree has its
//! own seeded generator. Scoring a whole base is a parallel map over customers.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{is_purchase, Area, Rows, View};
use crate::error::{Error, Result};
use crate::numerics::{column_mean_sd, evaluate, Evaluation, Fitted, Forest, ForestOptions};
use crate::summary::Summary;
use crate::time::{day_number, TimeUnit};

/// Per-customer churn features, index-aligned with the summary they came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnFeatures {
    /// The customers, and the scope they were read under.
    pub rows: Rows,
    /// Feature names, in column order.
    pub names: Vec<String>,
    /// One row per customer.
    pub values: Array2<f64>,
}

/// The built-in features, in column order, with the default window of 90 days (the last
/// three carry the window's length).
pub const CHURN_FEATURES: [&str; 12] = [
    "recency_days",
    "tenure_days",
    "log_frequency",
    "purchases_per_year",
    "silence_in_gaps",
    "gap_cv",
    "log_mean_spend",
    "log_revenue",
    "return_share",
    "purchase_days_last_90",
    "purchase_days_prior_90",
    "log_spend_last_90",
];

/// Settings of the churn features: the length of the recent window whose activity (and
/// that of the window before it) shows the trend. Default 90 days.
///
/// The built-in features ([`CHURN_FEATURES`]) of each customer of a summary come from
/// the summary's [`CustomerFeatures`](crate::summary::CustomerFeatures) (recency, tenure,
/// frequency, spend, revenue, returns, regularity) and, for the trend, from the view:
/// distinct purchase days in (as_of − w, as_of] and (as_of − 2w, as_of − w], and the
/// spend of the recent window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChurnFeatureOptions {
    recent_days: u32,
}

impl Default for ChurnFeatureOptions {
    fn default() -> Self {
        ChurnFeatureOptions { recent_days: 90 }
    }
}

impl ChurnFeatureOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Length of the recent window in days (≥ 1).
    pub fn recent_days(mut self, days: u32) -> Self {
        self.recent_days = days;
        self
    }

    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an empty window.
    pub fn validate(&self) -> Result<()> {
        if self.recent_days == 0 {
            return Err(Error::option("recent_days", 0, "at least 1 day"));
        }
        Ok(())
    }

    /// The features of every customer of `summary`, read from `view` (the view the
    /// summary was computed from, or a wider one over the same data).
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::ForbiddenArea`] when the scope forbids
    /// persistency; [`Error::BadValue`] naming a customer of the summary the view does
    /// not hold.
    pub fn compute<U: TimeUnit>(
        &self,
        view: &View<'_>,
        summary: &Summary<U>,
    ) -> Result<ChurnFeatures> {
        self.validate()?;
        view.require(Area::Persistency)?;
        let frame = summary.features();
        let at = view.positions(summary.rows())?;
        let n = frame.len();
        let as_of = day_number(summary.as_of());
        let w = self.recent_days as i32;
        let mut values = Array2::zeros((n, CHURN_FEATURES.len()));
        values
            .axis_iter_mut(ndarray::Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(i, mut row)| {
                let x = f64::from(frame.purchase_days[i] - 1);
                let (recency, t) = (frame.recency_days[i], frame.tenure_days[i]);
                let spend = frame.spend[i];
                // Distinct purchase days in (as_of − w, as_of] and (as_of − 2w, as_of − w].
                let (mut recent, mut prior, mut recent_spend) = (0.0, 0.0, 0.0);
                let mut last_day = i32::MIN;
                let h = view.history(at[i]);
                for (&d, &a) in h.days.iter().zip(h.amounts) {
                    if d > as_of || !is_purchase(a) || d <= as_of - 2 * w {
                        continue;
                    }
                    let new_day = d != last_day;
                    last_day = d;
                    if d > as_of - w {
                        recent_spend += a;
                        recent += f64::from(u8::from(new_day));
                    } else {
                        prior += f64::from(u8::from(new_day));
                    }
                }
                let cols = [
                    recency,
                    t,
                    x.ln_1p(),
                    x * 365.0 / t.max(1.0),
                    // Silence in expected gaps; (T + 1) / (x + 1) stands in for the mean
                    // gap so first-time buyers get a value too.
                    recency * (x + 1.0) / (t + 1.0),
                    frame.gap_cv[i].unwrap_or(1.0),
                    (spend / (x + 1.0)).max(0.0).ln_1p(),
                    frame.revenue[i].max(0.0).ln_1p(),
                    if spend > 0.0 {
                        -frame.returned[i] / spend
                    } else {
                        0.0
                    },
                    recent,
                    prior,
                    f64::ln_1p(recent_spend),
                ];
                for (j, v) in cols.into_iter().enumerate() {
                    row[j] = v;
                }
            });
        let mut names: Vec<String> = CHURN_FEATURES[..9].iter().map(|s| s.to_string()).collect();
        names.extend([
            format!("purchase_days_last_{w}"),
            format!("purchase_days_prior_{w}"),
            format!("log_spend_last_{w}"),
        ]);
        Ok(ChurnFeatures {
            rows: frame.rows,
            names,
            values,
        })
    }
}

impl ChurnFeatures {
    /// The features with one more column (a purchase model's P(alive) or expected
    /// purchases, say), index-aligned with the rows.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for a column of the wrong length; [`Error::BadValue`]
    /// naming the first non-finite value.
    pub fn with_column(mut self, name: &str, column: &[f64]) -> Result<Self> {
        let n = self.len();
        Error::check_len("column", column.len(), n, "rows of the features")?;
        if let Some(i) = column.iter().position(|v| !v.is_finite()) {
            return Err(Error::bad_value(
                "column",
                i,
                name,
                column[i],
                format!("a finite number (customer `{}`)", self.rows.id(i)),
            ));
        }
        let p = self.names.len();
        self.values = Array2::from_shape_fn((n, p + 1), |(i, j)| {
            if j < p {
                self.values[[i, j]]
            } else {
                column[i]
            }
        });
        self.names.push(name.to_string());
        Ok(self)
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.values.nrows()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.values.nrows() == 0
    }
}

/// The classifier behind the scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChurnMethod {
    /// L2-penalised logistic regression on standardised features (linfa-logistic).
    Logistic,
    /// Random forest: bootstrap rows per tree, √p features tried per split, Gini splits
    /// on 64 quantile bins per feature; the score is the mean leaf churn share.
    Forest,
}

/// Settings of a churn model. Defaults: logistic regression with penalty 1.0, 30% of
/// customers held out for evaluation, seed 42; forests of 100 trees of depth ≤ 8 with
/// leaves of at least 20 (bootstrap-weighted) customers; training on at most 200,000
/// customers (a seeded sample beyond that).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ChurnOptions {
    method: ChurnMethod,
    test_share: f64,
    seed: u64,
    penalty: f64,
    trees: usize,
    max_depth: usize,
    min_leaf: usize,
    max_train: usize,
}

impl Default for ChurnOptions {
    fn default() -> Self {
        ChurnOptions {
            method: ChurnMethod::Logistic,
            test_share: 0.3,
            seed: 42,
            penalty: 1.0,
            trees: 100,
            max_depth: 8,
            min_leaf: 20,
            max_train: 200_000,
        }
    }
}

/// A fitted churn model: scores customers' features in parallel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnModel {
    /// The method.
    pub method: ChurnMethod,
    /// Feature names the model expects, in order.
    pub names: Vec<String>,
    mean: Vec<f64>,
    scale: Vec<f64>,
    /// Logistic: intercept then one weight per standardised feature.
    weights: Vec<f64>,
    forest: Option<Forest>,
}

/// How a churn model did on the held-out customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChurnReport {
    /// The method.
    pub method: ChurnMethod,
    /// Customers used for training.
    pub train_rows: usize,
    /// Customers held out.
    pub test_rows: usize,
    /// Share of churners among all labelled customers.
    pub churn_rate: f64,
    /// Features constant in the training customers, which the model cannot use.
    pub constant_features: Vec<String>,
    /// ROC AUC, PR AUC, Brier score, lift and capture by decile, reliability table, on
    /// the held-out customers.
    pub evaluation: Evaluation,
}

impl ChurnOptions {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The classifier.
    pub fn method(mut self, method: ChurnMethod) -> Self {
        self.method = method;
        self
    }

    /// Share of customers held out for evaluation, in (0, 1).
    pub fn test_share(mut self, share: f64) -> Self {
        self.test_share = share;
        self
    }

    /// Seed of the split and the forest.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// L2 penalty of the logistic regression (≥ 0).
    pub fn penalty(mut self, penalty: f64) -> Self {
        self.penalty = penalty;
        self
    }

    /// Forest size (≥ 1), tree depth (≥ 1) and minimum customers per leaf (≥ 1).
    pub fn forest(mut self, trees: usize, max_depth: usize, min_leaf: usize) -> Self {
        self.trees = trees;
        self.max_depth = max_depth;
        self.min_leaf = min_leaf;
        self
    }

    /// Most customers to train on (≥ 10); a seeded sample beyond that.
    pub fn max_train(mut self, n: usize) -> Self {
        self.max_train = n;
        self
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if !(self.test_share > 0.0 && self.test_share < 1.0) {
            return Err(Error::option(
                "test_share",
                self.test_share,
                "a share in (0, 1)",
            ));
        }
        if !(self.penalty >= 0.0 && self.penalty.is_finite()) {
            return Err(Error::option(
                "penalty",
                self.penalty,
                "a finite number ≥ 0",
            ));
        }
        for (name, v) in [
            ("trees", self.trees),
            ("max_depth", self.max_depth),
            ("min_leaf", self.min_leaf),
        ] {
            if v == 0 {
                return Err(Error::option(
                    "forest",
                    format!("{name} = 0"),
                    "trees, max_depth and min_leaf each ≥ 1",
                ));
            }
        }
        if self.max_train < 10 {
            return Err(Error::option("max_train", self.max_train, "at least 10"));
        }
        Ok(())
    }

    /// Fits a model on a seeded share of the customers and evaluates it on the rest.
    /// `churned` is the label of each row of `features` (for example no purchase in the
    /// holdout period, or a contract ended).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options; [`Error::LengthMismatch`] when `churned`
    /// is not one label per row of `features`;
    /// [`Error::Degenerate`] when the training or test rows hold one class only; [`Error::Numerical`] when the
    /// classifier fails.
    pub fn fit(
        &self,
        features: &ChurnFeatures,
        churned: &[bool],
    ) -> Result<Fitted<ChurnModel, ChurnReport>> {
        self.validate()?;
        features.rows.scope().require(Area::Persistency)?;
        let n = features.len();
        Error::check_len("churned", churned.len(), n, "rows of the features")?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(self.seed);
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rng);
        let n_test = ((n as f64) * self.test_share).round() as usize;
        let (test, train) = order.split_at(n_test.min(n));
        let mut train = train.to_vec();
        train.truncate(self.max_train);
        train.sort_unstable();
        let mut test = test.to_vec();
        test.sort_unstable();
        for (rows, what) in [(&train, "training"), (&test, "test")] {
            let pos = rows.iter().filter(|&&i| churned[i]).count();
            if pos == 0 || pos == rows.len() {
                return Err(Error::Degenerate {
                    input: "churned".into(),
                    reason: format!(
                        "the {what} customers ({}) hold one class only; need churners and stayers",
                        rows.len()
                    ),
                });
            }
        }
        let p = features.names.len();
        let x = &features.values;
        // Standardisation from the training rows, in a fixed order.
        let (mean, sd) = column_mean_sd(train.len(), p, |k, j| x[[train[k], j]]);
        // A feature constant in the training rows (no returns in the data, say) carries
        // no information: it standardises to 0, so the logistic weight stays at its start
        // (0) and no tree splits on it. It is reported, not an error.
        let mut scale = Vec::with_capacity(p);
        let mut constant = Vec::new();
        for (j, &sd) in sd.iter().enumerate() {
            if sd.is_nan() || sd <= 1e-12 * mean[j].abs().max(f64::MIN_POSITIVE) {
                constant.push(features.names[j].clone());
                scale.push(1.0);
            } else {
                scale.push(sd);
            }
        }
        let z = Array2::from_shape_fn((train.len(), p), |(k, j)| {
            (x[[train[k], j]] - mean[j]) / scale[j]
        });
        let mut model = ChurnModel {
            method: self.method,
            names: features.names.clone(),
            mean,
            scale,
            weights: Vec::new(),
            forest: None,
        };
        match self.method {
            ChurnMethod::Logistic => {
                let y: Array1<bool> = train.iter().map(|&i| churned[i]).collect();
                let fitted = LogisticRegression::default()
                    .alpha(self.penalty)
                    .max_iterations(500)
                    .fit(&linfa::Dataset::new(z, y))
                    .map_err(|e| Error::Numerical {
                        procedure: "logistic regression",
                        reason: e.to_string(),
                    })?;
                // linfa calls the more frequent class "positive": orient to churn.
                let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
                model.weights = std::iter::once(sign * fitted.intercept())
                    .chain(fitted.params().iter().map(|w| sign * w))
                    .collect();
            }
            ChurnMethod::Forest => {
                let y: Vec<bool> = train.iter().map(|&i| churned[i]).collect();
                let opts = ForestOptions {
                    trees: self.trees,
                    max_depth: self.max_depth,
                    min_leaf: self.min_leaf,
                    // The usual √p features per split for classification.
                    features_per_split: ((p as f64).sqrt().round() as usize).max(1),
                    bins: 64,
                    seed: rng.gen(),
                };
                model.forest = Some(Forest::fit(&z, &y, &opts));
            }
        }
        let test_x = x.select(ndarray::Axis(0), &test);
        let scores = model.score_matrix(&test_x)?;
        let labels: Vec<bool> = test.iter().map(|&i| churned[i]).collect();
        let evaluation = evaluate(&scores, &labels)?;
        let report = ChurnReport {
            method: self.method,
            train_rows: train.len(),
            test_rows: test.len(),
            churn_rate: churned.iter().filter(|&&c| c).count() as f64 / n as f64,
            constant_features: constant,
            evaluation,
        };
        Ok(Fitted { model, report })
    }
}

impl ChurnModel {
    /// Churn probability of every customer, in parallel.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for a feature of the model that `features` lacks;
    /// [`Error::InvalidOption`] (option `features`) when they hold the model's features
    /// with others or in another order.
    pub fn score(&self, features: &ChurnFeatures) -> Result<Vec<f64>> {
        if features.names != self.names {
            if let Some(missing) = self.names.iter().find(|m| !features.names.contains(m)) {
                return Err(Error::MissingColumn {
                    column: missing.clone(),
                    available: features.names.clone(),
                });
            }
            return Err(Error::option(
                "features",
                format!("{:?}", features.names),
                format!("the model's features, in its order: {:?}", self.names),
            ));
        }
        self.score_matrix(&features.values)
    }

    fn score_matrix(&self, x: &Array2<f64>) -> Result<Vec<f64>> {
        Error::check_len(
            "feature columns",
            x.ncols(),
            self.names.len(),
            "features of the model",
        )?;
        let mut out = vec![0.0; x.nrows()];
        if self.method == ChurnMethod::Logistic {
            // Fold the standardisation into the weights: one dot product per row.
            let raw: Vec<f64> = (0..self.names.len())
                .map(|j| self.weights[j + 1] / self.scale[j])
                .collect();
            let intercept = self.weights[0]
                - (0..self.names.len())
                    .map(|j| raw[j] * self.mean[j])
                    .sum::<f64>();
            out.par_iter_mut()
                .enumerate()
                .with_min_len(1 << 12)
                .for_each(|(i, s)| {
                    let eta =
                        intercept + x.row(i).iter().zip(&raw).map(|(v, w)| v * w).sum::<f64>();
                    *s = 1.0 / (1.0 + (-eta).exp());
                });
            return Ok(out);
        }
        out.par_iter_mut()
            .enumerate()
            .with_min_len(1 << 12)
            .for_each_init(
                || vec![0.0; self.names.len()],
                |z, (i, s)| {
                    // Standardise once per row, then every tree reads a plain slice.
                    for (j, (zj, v)) in z.iter_mut().zip(x.row(i)).enumerate() {
                        *zj = (v - self.mean[j]) / self.scale[j];
                    }
                    *s = self.score_standardised(z);
                },
            );
        Ok(out)
    }

    #[inline]
    fn score_standardised(&self, z: &[f64]) -> f64 {
        self.forest.as_ref().map_or(f64::NAN, |f| f.predict(z))
    }
}
