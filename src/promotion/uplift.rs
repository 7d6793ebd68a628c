//! Uplift models: who responds because of the campaign, not who responds anyway. The
//! uplift of a customer with features x is the difference the treatment makes to the
//! chance of a positive outcome,
//!
//! ```text
//! uplift(x) = P(y = 1 | x, treated) − P(y = 1 | x, control)
//! ```
//!
//! estimated from a randomised campaign: rows with features, whether the row was
//! treated (1) or held out as control (0), and the outcome (1 positive). One treatment
//! against one control group.
//!
//! Three families:
//! - **Two models** ([`TwoModelOptions`], the T-learner): one classifier fitted to the
//!   treated rows, one to the control rows; uplift = P̂_treated(x) − P̂_control(x).
//! - **Class transformation** ([`ClassTransformationOptions`], Jaśkowski &
//!   Jaroszewicz 2012, "Uplift modeling for clinical trial data", ICML workshop on
//!   clinical data analysis): one classifier of z = y t + (1 − y)(1 − t) (a treated
//!   responder or a control non-responder); with P(treated) = ½ independent of x,
//!   P(z = 1 | x) = ½ (p_t(x) + 1 − p_c(x)), so uplift = 2 P(z = 1 | x) − 1. The
//!   identity needs the treated share e to be one half: the report gives the share; with
//!   another, 2 P(z = 1 | x) − 1 = uplift(x) + (2e − 1)(p_t(x) + p_c(x) − 1), biased.
//!   The propensity-weighted variant (treated rows weighted by 1/(2e), control rows by
//!   1/(2(1 − e)), which makes any constant share behave as ½) needs classifiers that
//!   take row weights and is not implemented.
//! - **Uplift trees and forests** ([`UpliftTreeOptions`](super::UpliftTreeOptions),
//!   [`UpliftForestOptions`](super::UpliftForestOptions)): trees that split on the
//!   divergence of the treated from the control rate, as causalml grows them.
//!
//! The classifiers of the first two are the crate's logistic regression
//! ([`Logit`], the maximum-likelihood fit statsmodels makes) or its random forest of
//! probability trees (Gini splits on quantile bins), chosen by [`Classifier`].
//!
//! ```
//! use acrm::promotion::{TwoModelOptions, UpliftData, UpliftForestOptions};
//! use acrm::synth::UpliftSynth;
//! let sample = UpliftSynth::new().rows(4_000).features(4).seed(7).generate()?;
//! let data = UpliftData::new(sample.x.view(), &sample.treatment, &sample.outcome)?;
//! let forest = UpliftForestOptions::new().trees(5).max_depth(3).fit(&data)?;
//! let scores = forest.model.predict(sample.x.view())?;
//! assert_eq!(scores.len(), 4_000);
//! let t_learner = TwoModelOptions::new().fit(&data)?;
//! let u = t_learner.model.uplift(&[0.5, 0.5, 0.0, 0.0]);
//! assert!(u > -1.0 && u < 1.0);
//! # Ok::<(), acrm::Error>(())
//! ```

use std::fmt;

use ndarray::{Array2, ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::uplift_tree::{predict_rows, GroupCounts};
use crate::error::{Error, Result};
use crate::numerics::{Fitted, Forest, ForestOptions, Logit, LogitOptions, LogitReport};

/// A value read as a 0/1 flag: `bool`, or a number that is exactly 0 or 1.
pub trait Flag: Copy + Send + Sync + fmt::Display {
    /// The flag, or `None` for any other value.
    fn flag(self) -> Option<bool>;
}

impl Flag for bool {
    fn flag(self) -> Option<bool> {
        Some(self)
    }
}

macro_rules! numeric_flag {
    ($($t:ty),*) => {$(
        impl Flag for $t {
            #[allow(clippy::float_cmp)]
            fn flag(self) -> Option<bool> {
                if self == 1 as $t {
                    Some(true)
                } else if self == 0 as $t {
                    Some(false)
                } else {
                    None
                }
            }
        }
    )*};
}
numeric_flag!(f64, f32, u8, u16, u32, u64, usize, i8, i16, i32, i64);

/// The rows of a randomised campaign: features (one row per customer, one column per
/// feature, finite), whether each row was treated, and its outcome. Checked once here,
/// then fitted by any uplift model.
#[derive(Debug, Clone)]
pub struct UpliftData<'a> {
    x: ArrayView2<'a, f64>,
    treatment: Vec<bool>,
    outcome: Vec<bool>,
    names: Vec<String>,
    counts: GroupCounts,
}

impl<'a> UpliftData<'a> {
    /// Rows of `x` with their treatment flags (1 treated, 0 control) and outcomes (1
    /// positive); features are named `x0`, `x1`, … until [`names`](Self::names) says
    /// otherwise.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] without rows; [`Error::LengthMismatch`] when `treatment` or
    /// `outcome` has not one entry per row of `x`; [`Error::BadValue`] for a treatment
    /// or outcome other than 0/1 (its row) or a non-finite feature value (its row and
    /// feature); [`Error::Degenerate`] (input `treatment`) when no row is treated or no
    /// row is control.
    pub fn new<T: Flag, Y: Flag>(
        x: ArrayView2<'a, f64>,
        treatment: &[T],
        outcome: &[Y],
    ) -> Result<Self> {
        let (n, p) = x.dim();
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        Error::check_len("treatment", treatment.len(), n, "feature rows")?;
        Error::check_len("outcome", outcome.len(), n, "feature rows")?;
        let names: Vec<String> = (0..p).map(|j| format!("x{j}")).collect();
        let treatment = flags("treatment", treatment)?;
        let outcome = flags("outcome", outcome)?;
        check_rows(x, &names)?;
        let mut c = [0.0f64; 4];
        for (&t, &y) in treatment.iter().zip(&outcome) {
            c[2 * usize::from(t) + usize::from(y)] += 1.0;
        }
        let counts = GroupCounts {
            control: c[0] + c[1],
            control_positive: c[1],
            treated: c[2] + c[3],
            treated_positive: c[3],
        };
        for (rows, which) in [(counts.treated, "treated"), (counts.control, "control")] {
            if rows == 0.0 {
                return Err(Error::Degenerate {
                    input: "treatment".into(),
                    reason: format!(
                        "no {which} row among the {n}: uplift compares treated with control"
                    ),
                });
            }
        }
        Ok(UpliftData {
            x,
            treatment,
            outcome,
            names,
            counts,
        })
    }

    /// Names the features, one per column of `x`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] for another count of names.
    pub fn names<S: AsRef<str>>(mut self, names: &[S]) -> Result<Self> {
        Error::check_len("names", names.len(), self.x.ncols(), "feature columns")?;
        self.names = names.iter().map(|s| s.as_ref().to_string()).collect();
        Ok(self)
    }

    /// The features.
    pub fn features(&self) -> ArrayView2<'a, f64> {
        self.x
    }

    /// The feature names.
    pub fn feature_names(&self) -> &[String] {
        &self.names
    }

    /// Whether each row was treated.
    pub fn treatment(&self) -> &[bool] {
        &self.treatment
    }

    /// Each row's outcome.
    pub fn outcome(&self) -> &[bool] {
        &self.outcome
    }

    /// Rows and positives of each group.
    pub fn counts(&self) -> GroupCounts {
        self.counts
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.treatment.len()
    }

    /// Whether there are no rows (never true: [`new`](Self::new) rejects that).
    pub fn is_empty(&self) -> bool {
        self.treatment.is_empty()
    }

    /// The rows of one group, as an owned matrix, with their outcomes.
    fn group(&self, treated: bool) -> (Array2<f64>, Vec<bool>) {
        let idx: Vec<usize> = (0..self.len())
            .filter(|&i| self.treatment[i] == treated)
            .collect();
        let x = self.x.select(Axis(0), &idx);
        let y = idx.iter().map(|&i| self.outcome[i]).collect();
        (x, y)
    }
}

/// A flag column, checked.
fn flags<T: Flag>(input: &'static str, v: &[T]) -> Result<Vec<bool>> {
    let parsed: Option<Vec<bool>> = v.par_iter().map(|f| f.flag()).collect();
    parsed.ok_or_else(|| {
        let i = v.iter().position(|f| f.flag().is_none()).unwrap_or(0);
        Error::bad_value(input, i, input, v[i], "0 or 1")
    })
}

/// Checks that every feature value is finite, naming the first bad one's row and
/// feature.
fn check_rows(x: ArrayView2<'_, f64>, names: &[String]) -> Result<()> {
    let bad = (0..x.nrows())
        .into_par_iter()
        .find_first(|&i| x.row(i).iter().any(|v| !v.is_finite()));
    match bad {
        None => Ok(()),
        Some(i) => {
            let j = x.row(i).iter().position(|v| !v.is_finite()).unwrap_or(0);
            Err(Error::bad_value(
                "features",
                i,
                names[j].as_str(),
                x[[i, j]],
                "a finite value",
            ))
        }
    }
}

/// Settings of the crate's random forest of probability trees as a classifier of an
/// uplift model. Defaults: 100 trees of depth ≤ 8, leaves of at least 20
/// (bootstrap-weighted) rows, √p features per split (rounded, at least 1), 64 quantile
/// bins per feature, seed 42.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ForestClassifier {
    trees: usize,
    max_depth: usize,
    min_leaf: usize,
    features_per_split: Option<usize>,
    bins: usize,
    seed: u64,
}

impl Default for ForestClassifier {
    fn default() -> Self {
        ForestClassifier {
            trees: 100,
            max_depth: 8,
            min_leaf: 20,
            features_per_split: None,
            bins: 64,
            seed: 42,
        }
    }
}

impl ForestClassifier {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trees (≥ 1).
    pub fn trees(mut self, n: usize) -> Self {
        self.trees = n;
        self
    }

    /// Deepest split level (≥ 1).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Least (bootstrap-weighted) rows in a leaf (≥ 1).
    pub fn min_leaf(mut self, n: usize) -> Self {
        self.min_leaf = n;
        self
    }

    /// Features tried per split (≥ 1; `None`: √p).
    pub fn features_per_split(mut self, n: Option<usize>) -> Self {
        self.features_per_split = n;
        self
    }

    /// Quantile bins per feature (2 to 256).
    pub fn bins(mut self, bins: usize) -> Self {
        self.bins = bins;
        self
    }

    /// Seed of the bootstrap samples and features drawn.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks every option.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("trees", self.trees),
            ("max_depth", self.max_depth),
            ("min_leaf", self.min_leaf),
        ] {
            if v == 0 {
                return Err(Error::option(name, 0, "at least 1"));
            }
        }
        if self.features_per_split == Some(0) {
            return Err(Error::option("features_per_split", 0, "at least 1, or √p"));
        }
        if !(2..=256).contains(&self.bins) {
            return Err(Error::option("bins", self.bins, "2 to 256"));
        }
        Ok(())
    }

    fn options(&self, p: usize, seed: u64) -> ForestOptions {
        ForestOptions {
            trees: self.trees,
            max_depth: self.max_depth,
            min_leaf: self.min_leaf,
            features_per_split: self
                .features_per_split
                .unwrap_or(((p as f64).sqrt().round() as usize).max(1))
                .min(p)
                .max(1),
            bins: self.bins,
            seed,
        }
    }
}

/// The classifier of a two-model or class-transformation uplift model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Classifier {
    /// Logistic regression by maximum likelihood ([`Logit`]), with an intercept.
    Logit(LogitOptions),
    /// The crate's random forest of probability trees.
    Forest(ForestClassifier),
}

impl Default for Classifier {
    /// Logistic regression with its default settings.
    fn default() -> Self {
        Classifier::Logit(LogitOptions::default())
    }
}

impl Classifier {
    fn validate(&self) -> Result<()> {
        match self {
            Classifier::Logit(o) => o.validate(),
            Classifier::Forest(o) => o.validate(),
        }
    }

    /// Fits P(y = 1 | x); `stream` separates the seeds of several forests of one model.
    fn fit(
        &self,
        x: &Array2<f64>,
        y: &[bool],
        names: &[String],
        stream: u64,
    ) -> Result<(Scorer, Option<LogitReport>)> {
        match self {
            Classifier::Logit(o) => {
                let fit = o.fit(x.view(), y, names)?;
                Ok((Scorer::Logit(fit.model), Some(fit.report)))
            }
            Classifier::Forest(o) => {
                let seed = o.seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03);
                let forest = Forest::fit(x, y, &o.options(x.ncols(), seed));
                Ok((Scorer::Forest(forest), None))
            }
        }
    }
}

/// A fitted classifier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Scorer {
    Logit(Logit),
    Forest(Forest),
}

impl Scorer {
    fn probability(&self, row: &[f64]) -> f64 {
        match self {
            Scorer::Logit(m) => m.probability(row),
            Scorer::Forest(m) => m.predict(row),
        }
    }
}

/// Settings of a two-model (T-learner) uplift model: the classifier fitted to each
/// group. Default: logistic regression.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct TwoModelOptions {
    classifier: Classifier,
}

/// A fitted two-model uplift model: P̂(y | x, treated) − P̂(y | x, control).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoModel {
    names: Vec<String>,
    treated: Scorer,
    control: Scorer,
}

/// What fitting a two-model uplift model reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwoModelReport {
    /// Rows and positives per group.
    pub counts: GroupCounts,
    /// The logistic regression of the treated rows (when the classifier is one).
    pub treated_logit: Option<LogitReport>,
    /// The logistic regression of the control rows (when the classifier is one).
    pub control_logit: Option<LogitReport>,
}

impl TwoModelOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The classifier fitted to each group.
    pub fn classifier(mut self, classifier: Classifier) -> Self {
        self.classifier = classifier;
        self
    }

    /// Checks the classifier's options (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        self.classifier.validate()
    }

    /// Fits the classifier to the treated rows and, separately, to the control rows.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options; the logistic regression's errors
    /// ([`Error::Degenerate`] when a group's outcomes are all equal or a feature is
    /// constant in it, [`Error::Separation`], [`Error::Numerical`]), naming the feature.
    pub fn fit(&self, data: &UpliftData<'_>) -> Result<Fitted<TwoModel, TwoModelReport>> {
        self.validate()?;
        let names = data.feature_names();
        let (xt, yt) = data.group(true);
        let (xc, yc) = data.group(false);
        let (treated, treated_logit) = self.classifier.fit(&xt, &yt, names, 1)?;
        let (control, control_logit) = self.classifier.fit(&xc, &yc, names, 2)?;
        Ok(Fitted {
            model: TwoModel {
                names: names.to_vec(),
                treated,
                control,
            },
            report: TwoModelReport {
                counts: data.counts(),
                treated_logit,
                control_logit,
            },
        })
    }
}

impl TwoModel {
    /// Feature names, in the column order the model expects.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// P̂(y = 1 | x, treated) and P̂(y = 1 | x, control) of one row.
    ///
    /// # Panics
    /// If `row` has not one value per feature (a programmer error).
    pub fn rates(&self, row: &[f64]) -> super::GroupRates {
        assert_eq!(row.len(), self.names.len(), "one value per feature");
        super::GroupRates {
            treated: self.treated.probability(row),
            control: self.control.probability(row),
        }
    }

    /// P̂(y = 1 | x, treated) − P̂(y = 1 | x, control) of one row.
    ///
    /// # Panics
    /// As [`rates`](Self::rates).
    pub fn uplift(&self, row: &[f64]) -> f64 {
        let r = self.rates(row);
        r.treated - r.control
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

/// Settings of a class-transformation uplift model: the classifier of
/// z = y t + (1 − y)(1 − t). Default: logistic regression.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ClassTransformationOptions {
    classifier: Classifier,
}

/// A fitted class-transformation uplift model: 2 P̂(z = 1 | x) − 1.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassTransformation {
    names: Vec<String>,
    scorer: Scorer,
}

/// What fitting a class-transformation model reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassTransformationReport {
    /// Rows and positives per group.
    pub counts: GroupCounts,
    /// Share of treated rows: the model's identity holds at ½.
    pub treated_share: f64,
    /// Share of rows with z = 1 (treated responders and control non-responders).
    pub z_rate: f64,
    /// The logistic regression of z (when the classifier is one).
    pub logit: Option<LogitReport>,
}

impl ClassTransformationOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// The classifier of z.
    pub fn classifier(mut self, classifier: Classifier) -> Self {
        self.classifier = classifier;
        self
    }

    /// Checks the classifier's options (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        self.classifier.validate()
    }

    /// Fits the classifier of z to every row.
    ///
    /// # Errors
    /// As [`TwoModelOptions::fit`], for the one classifier.
    pub fn fit(
        &self,
        data: &UpliftData<'_>,
    ) -> Result<Fitted<ClassTransformation, ClassTransformationReport>> {
        self.validate()?;
        let z: Vec<bool> = data
            .treatment()
            .iter()
            .zip(data.outcome())
            .map(|(&t, &y)| t == y)
            .collect();
        let x = data.features().to_owned();
        let names = data.feature_names();
        let (scorer, logit) = self.classifier.fit(&x, &z, names, 3)?;
        let n = data.len() as f64;
        let c = data.counts();
        Ok(Fitted {
            model: ClassTransformation {
                names: names.to_vec(),
                scorer,
            },
            report: ClassTransformationReport {
                counts: c,
                treated_share: c.treated / n,
                z_rate: z.iter().filter(|&&v| v).count() as f64 / n,
                logit,
            },
        })
    }
}

impl ClassTransformation {
    /// Feature names, in the column order the model expects.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// 2 P̂(z = 1 | x) − 1 of one row.
    ///
    /// # Panics
    /// If `row` has not one value per feature (a programmer error).
    pub fn uplift(&self, row: &[f64]) -> f64 {
        assert_eq!(row.len(), self.names.len(), "one value per feature");
        2.0 * self.scorer.probability(row) - 1.0
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
