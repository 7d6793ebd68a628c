//! Lead scoring: the probability that a lead converts, from a logistic regression on
//! numeric and categorical lead features, with the fit's statistics (coefficients,
//! standard errors, z, p, log-likelihoods, McFadden's pseudo-R²), how well the scores
//! rank and how well they are calibrated in sample (ROC AUC, conversion and lift by
//! score decile, reliability bins), and each feature's contribution to a new lead's
//! score.
//!
//! # Encoding
//!
//! A numeric feature enters as it is. A categorical feature with levels L₁ < L₂ < … (in
//! byte order) becomes one 0/1 indicator per level except its reference level, named
//! `COLUMN_LEVEL`; the reference is the first level unless
//! [`LeadScoreOptions::reference`] names another, and its coefficient is 0 by
//! construction (the other levels' coefficients are log odds ratios against it). The
//! design's columns follow the table's feature columns in the order they were added,
//! each categorical one expanded in place, and the intercept comes first, named `const`:
//! the layout of statsmodels' `Logit` on `pandas.get_dummies(..., drop_first)` with
//! `add_constant`, whose estimates the integration tests reproduce.
//!
//! # Contributions
//!
//! A score's linear predictor splits into a baseline and one term per feature column:
//!
//! ```text
//! η = baseline + Σ contributions
//! baseline = β₀ + Σ over numeric features of βⱼ x̄ⱼ        (the training means)
//! contribution of a numeric feature     = βⱼ (xⱼ − x̄ⱼ)
//! contribution of a categorical feature = β of the lead's level (0 for the reference)
//! ```
//!
//! The baseline is the log-odds of a lead at the training means of the numeric features
//! and at the reference level of every categorical one; a contribution says how far this
//! lead's value moves the log-odds away from it.
//!
//! ```
//! use acrm::prospecting::{LeadScoreOptions, LeadTable};
//! let table = LeadTable::new()
//!     .target("converted", vec![true, false, true, false, false, true, false, true])?
//!     .numeric("visits", vec![9.0, 1.0, 4.0, 2.0, 5.0, 7.0, 3.0, 2.0])?
//!     .categorical("source", ["web", "event", "web", "web", "event", "event", "web", "event"]
//!         .map(String::from).to_vec())?;
//! let fit = LeadScoreOptions::new().reference("source", "web").fit(&table)?;
//! let names: Vec<&str> = fit.report.coefficients.iter().map(|c| c.name.as_str()).collect();
//! assert_eq!(names, ["const", "visits", "source_event"]);
//! let scores = fit.model.score(&table)?;
//! let s = &scores[0];
//! let eta = fit.model.baseline() + s.contributions.iter().sum::<f64>();
//! assert!((eta - s.linear_predictor).abs() < 1e-12);
//! # Ok::<(), acrm::Error>(())
//! ```

use std::collections::BTreeSet;

use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, ContactView, ScopeTag, FUNNEL_STAGES};
use crate::error::{Error, Result};
use crate::numerics::{
    lift_table, reliability, roc_auc, DecileRow, Fitted, Logit, LogitCoefficient, LogitOptions,
    ReliabilityBin,
};

/// Score groups of the lift table (deciles).
const GROUPS: usize = 10;

/// Equal-width bins of the calibration table.
const BINS: usize = 10;

/// Leads as named columns: an optional id, the target (converted or not; needed to fit,
/// not to score) and feature columns, numeric or categorical, in the order added.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LeadTable {
    rows: Option<usize>,
    id: Option<(String, Vec<String>)>,
    target: Option<(String, Vec<bool>)>,
    features: Vec<FeatureColumn>,
    /// The scope of the contacts the table was read from ([`LeadTable::from_contacts`]).
    #[serde(default)]
    scope: Option<ScopeTag>,
}

/// One feature column of a [`LeadTable`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum FeatureColumn {
    Numeric { name: String, values: Vec<f64> },
    Categorical { name: String, values: Vec<String> },
}

impl FeatureColumn {
    fn name(&self) -> &str {
        match self {
            FeatureColumn::Numeric { name, .. } | FeatureColumn::Categorical { name, .. } => name,
        }
    }
}

impl LeadTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The leads a scope reaches: one row per contact of `view` (its id), the target
    /// whether it reached funnel stage `stage` (`lead`, `opportunity` or `order`), and
    /// features from the contacts' attributes, numeric and categorical. The table, and
    /// the report of a fit to it, carry the view's scope.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids prospecting; [`Error::EmptyInput`]
    /// for an empty view; [`Error::InvalidOption`] for another stage;
    /// [`Error::MissingColumn`] for an attribute no contact has; [`Error::BadValue`]
    /// naming the contact's position in the view, the attribute and the value when a
    /// contact lacks a feature or a numeric one is not a finite number.
    pub fn from_contacts(
        view: &ContactView<'_>,
        stage: &str,
        numeric: &[&str],
        categorical: &[&str],
    ) -> Result<LeadTable> {
        view.require(Area::Prospecting)?;
        if view.is_empty() {
            return Err(Error::EmptyInput);
        }
        let s = FUNNEL_STAGES
            .iter()
            .position(|&f| f == stage)
            .ok_or_else(|| Error::option("stage", stage, "lead, opportunity or order"))?;
        let n = view.len();
        let names: Vec<&str> = view.attribute_names().collect();
        let text = |name: &str| -> Result<Vec<&str>> {
            if !names.contains(&name) {
                return Err(Error::MissingColumn {
                    column: name.to_string(),
                    available: names.iter().map(|a| a.to_string()).collect(),
                });
            }
            (0..n)
                .map(|k| {
                    view.attribute(k, name)
                        .filter(|v| !v.trim().is_empty())
                        .ok_or_else(|| Error::bad_value("contacts", k, name, "", "a value"))
                })
                .collect()
        };
        let mut table = LeadTable::new()
            .id(
                "contact_id",
                (0..n).map(|k| view.id(k).to_string()).collect(),
            )?
            .target(stage, (0..n).map(|k| view.stage(k, s).is_some()).collect())?;
        for &name in numeric {
            let values = text(name)?
                .into_iter()
                .enumerate()
                .map(|(k, v)| {
                    v.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| Error::bad_value("contacts", k, name, v, "a finite number"))
                })
                .collect::<Result<Vec<f64>>>()?;
            table = table.numeric(name, values)?;
        }
        for &name in categorical {
            let values = text(name)?.into_iter().map(str::to_string).collect();
            table = table.categorical(name, values)?;
        }
        table.scope = Some(view.scope().clone());
        Ok(table)
    }

    /// The scope of the contacts the table was read from, if it was.
    pub fn scope(&self) -> Option<&ScopeTag> {
        self.scope.as_ref()
    }

    /// Leads (rows); 0 before the first column.
    pub fn len(&self) -> usize {
        self.rows.unwrap_or(0)
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The names of the feature columns, in order.
    pub fn feature_names(&self) -> Vec<&str> {
        self.features.iter().map(FeatureColumn::name).collect()
    }

    /// Checks that a new column `name` has one value per row and is not already there.
    fn admit(&mut self, name: &str, len: usize) -> Result<()> {
        let taken = self.features.iter().any(|f| f.name() == name)
            || self.id.as_ref().is_some_and(|(n, _)| n == name)
            || self.target.as_ref().is_some_and(|(n, _)| n == name);
        if taken {
            return Err(Error::option(
                "column",
                name,
                "a column name not already in the table",
            ));
        }
        match self.rows {
            Some(rows) => Error::check_len("column", len, rows, "rows of the columns before"),
            None => {
                self.rows = Some(len);
                Ok(())
            }
        }
    }

    /// Adds the id column (any text, reported with each score).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when it has not one value per row;
    /// [`Error::InvalidOption`] for a name already in the table.
    pub fn id(mut self, name: &str, ids: Vec<String>) -> Result<Self> {
        self.admit(name, ids.len())?;
        self.id = Some((name.to_string(), ids));
        Ok(self)
    }

    /// Adds the target column: whether each lead converted.
    ///
    /// # Errors
    /// As [`id`](Self::id).
    pub fn target(mut self, name: &str, converted: Vec<bool>) -> Result<Self> {
        self.admit(name, converted.len())?;
        self.target = Some((name.to_string(), converted));
        Ok(self)
    }

    /// Adds a numeric feature column (finite values).
    ///
    /// # Errors
    /// As [`id`](Self::id); [`Error::BadValue`] naming the first row (0-based) whose
    /// value is not finite.
    pub fn numeric(mut self, name: &str, values: Vec<f64>) -> Result<Self> {
        if let Some(i) = values.par_iter().position_first(|v| !v.is_finite()) {
            return Err(Error::bad_value(
                "leads",
                i,
                name,
                values[i],
                "a finite number",
            ));
        }
        self.admit(name, values.len())?;
        self.features.push(FeatureColumn::Numeric {
            name: name.to_string(),
            values,
        });
        Ok(self)
    }

    /// Adds a categorical feature column (each value a level).
    ///
    /// # Errors
    /// As [`id`](Self::id).
    pub fn categorical(mut self, name: &str, values: Vec<String>) -> Result<Self> {
        self.admit(name, values.len())?;
        self.features.push(FeatureColumn::Categorical {
            name: name.to_string(),
            values,
        });
        Ok(self)
    }

    fn feature(&self, name: &str) -> Result<&FeatureColumn> {
        self.features
            .iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| Error::MissingColumn {
                column: name.to_string(),
                available: self.features.iter().map(|f| f.name().to_string()).collect(),
            })
    }
}

/// How one feature column of the fitted table enters the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FeatureEncoding {
    /// A numeric feature, with its training mean (the baseline of its contribution).
    Numeric {
        /// Column name.
        name: String,
        /// Mean over the training leads.
        mean: f64,
    },
    /// A categorical feature: one indicator per level except the reference.
    Categorical {
        /// Column name.
        name: String,
        /// The reference level (no indicator, coefficient 0).
        reference: String,
        /// The other levels, in the order of their indicators `name_level`.
        levels: Vec<String>,
    },
}

impl FeatureEncoding {
    /// The column name.
    pub fn name(&self) -> &str {
        match self {
            FeatureEncoding::Numeric { name, .. } | FeatureEncoding::Categorical { name, .. } => {
                name
            }
        }
    }

    /// Design columns this feature takes.
    fn width(&self) -> usize {
        match self {
            FeatureEncoding::Numeric { .. } => 1,
            FeatureEncoding::Categorical { levels, .. } => levels.len(),
        }
    }
}

/// A fitted lead-scoring model: the encoding of each feature column and the logistic
/// regression on the encoded design.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadModel {
    features: Vec<FeatureEncoding>,
    logit: Logit,
}

/// One lead's score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadScore {
    /// The lead's id, when the table has an id column.
    pub id: Option<String>,
    /// P(converts).
    pub probability: f64,
    /// The log-odds η = [`LeadModel::baseline`] + Σ `contributions`.
    pub linear_predictor: f64,
    /// Per feature column of the model ([`LeadModel::features`] order), its term of η
    /// relative to the baseline lead (see the module documentation).
    pub contributions: Vec<f64>,
}

/// What a lead-scoring fit reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeadReport {
    /// The intercept (`const`), then one line per design column (numeric features and
    /// level indicators `COLUMN_LEVEL`).
    pub coefficients: Vec<LogitCoefficient>,
    /// Log-likelihood at the estimate.
    pub log_likelihood: f64,
    /// Log-likelihood of the intercept-only model.
    pub null_log_likelihood: f64,
    /// McFadden's pseudo-R², 1 − ℓ / ℓ₀.
    pub pseudo_r2: f64,
    /// ROC AUC of the in-sample scores ([`roc_auc`]).
    pub auc: f64,
    /// Leads ranked by score, highest first, in ten groups: conversion rate and lift of
    /// each ([`lift_table`]).
    pub deciles: Vec<DecileRow>,
    /// Ten equal-width bins of the in-sample scores with their observed conversion rate
    /// ([`reliability`]).
    pub calibration: Vec<ReliabilityBin>,
    /// Leads fitted.
    pub rows: usize,
    /// Leads that converted.
    pub conversions: usize,
    /// Newton iterations over the full data.
    pub iterations: u64,
    /// The scope of the leads, when the table came from a view
    /// ([`LeadTable::from_contacts`]); `None` for columns given directly.
    #[serde(default)]
    pub scope: Option<ScopeTag>,
}

/// Settings of a lead-scoring fit: reference levels of categorical features (default:
/// each one's first level in byte order) and the logistic regression's settings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct LeadScoreOptions {
    references: Vec<(String, String)>,
    logit: LogitOptions,
}

impl LeadScoreOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Names the reference level of a categorical column (replacing an earlier choice
    /// for the same column).
    pub fn reference(mut self, column: &str, level: &str) -> Self {
        self.references.retain(|(c, _)| c != column);
        self.references
            .push((column.to_string(), level.to_string()));
        self
    }

    /// Settings of the logistic regression.
    pub fn logit(mut self, options: LogitOptions) -> Self {
        self.logit = options;
        self
    }

    /// Checks the options (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad logistic-regression settings.
    pub fn validate(&self) -> Result<()> {
        self.logit.validate()
    }

    /// Fits the lead-scoring model to a table with a target column and reports the fit
    /// and its in-sample ranking and calibration.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options, a table without a target column or
    /// feature columns, a reference for a column that is not categorical or a level the
    /// column does not hold; [`Error::MissingColumn`] for a reference to a column not in
    /// the table; [`Error::Degenerate`] for a categorical column with a single level, a
    /// constant or collinear feature, or a target with a single class; as
    /// [`LogitOptions::fit`] otherwise ([`Error::Separation`] names the feature or level
    /// indicator that separates converted from other leads).
    pub fn fit(&self, table: &LeadTable) -> Result<Fitted<LeadModel, LeadReport>> {
        self.validate()?;
        let Some((_, converted)) = &table.target else {
            return Err(Error::option(
                "target",
                "none",
                "a table with a target column (LeadTable::target)",
            ));
        };
        if table.features.is_empty() {
            return Err(Error::option(
                "features",
                "none",
                "at least one feature column",
            ));
        }
        for (column, level) in &self.references {
            if let FeatureColumn::Numeric { .. } = table.feature(column)? {
                return Err(Error::option(
                    "reference",
                    format!("{column}:{level}"),
                    format!("a reference for a categorical column (`{column}` is numeric)"),
                ));
            }
        }
        let n = table.len();
        let features = table
            .features
            .iter()
            .map(|f| self.encoding(f, n))
            .collect::<Result<Vec<_>>>()?;
        let mut names = Vec::new();
        for f in &features {
            match f {
                FeatureEncoding::Numeric { name, .. } => names.push(name.clone()),
                FeatureEncoding::Categorical { name, levels, .. } => {
                    names.extend(levels.iter().map(|l| format!("{name}_{l}")));
                }
            }
        }
        let x = design(table, &features, names.len())?;
        let fit = self.logit.fit(x.view(), converted, &names)?;
        let scores = fit.model.predict(x.view())?;
        let report = LeadReport {
            auc: roc_auc(&scores, converted)?,
            deciles: lift_table(&scores, converted, GROUPS.min(n))?,
            calibration: reliability(&scores, converted, BINS)?,
            coefficients: fit.report.coefficients,
            log_likelihood: fit.report.log_likelihood,
            null_log_likelihood: fit.report.null_log_likelihood,
            pseudo_r2: fit.report.pseudo_r2,
            rows: n,
            conversions: fit.report.positives,
            iterations: fit.report.iterations,
            scope: table.scope.clone(),
        };
        let model = LeadModel {
            features,
            logit: fit.model,
        };
        Ok(Fitted { model, report })
    }

    /// The encoding of one feature column: its mean, or its levels and reference.
    fn encoding(&self, column: &FeatureColumn, n: usize) -> Result<FeatureEncoding> {
        match column {
            FeatureColumn::Numeric { name, values } => Ok(FeatureEncoding::Numeric {
                name: name.clone(),
                mean: values.iter().sum::<f64>() / n as f64,
            }),
            FeatureColumn::Categorical { name, values } => {
                let set: BTreeSet<&str> = values.iter().map(String::as_str).collect();
                let mut levels: Vec<String> = set.into_iter().map(str::to_string).collect();
                if levels.len() < 2 {
                    return Err(Error::Degenerate {
                        input: name.clone(),
                        reason: format!(
                            "the categorical feature has a single level ({})",
                            levels.first().map_or("none", String::as_str)
                        ),
                    });
                }
                let named = self.references.iter().find(|(c, _)| c == name);
                let at = match named {
                    Some((_, level)) => {
                        levels.iter().position(|l| l == level).ok_or_else(|| {
                            Error::option(
                                "reference",
                                format!("{name}:{level}"),
                                format!("a level of `{name}`: {}", levels.join(", ")),
                            )
                        })?
                    }
                    None => 0,
                };
                let reference = levels.remove(at);
                Ok(FeatureEncoding::Categorical {
                    name: name.clone(),
                    reference,
                    levels,
                })
            }
        }
    }
}

/// The design matrix (without the intercept) of `table` under `features`, in parallel
/// over rows; an unseen level is an error naming its row, column and value.
fn design(table: &LeadTable, features: &[FeatureEncoding], width: usize) -> Result<Array2<f64>> {
    let n = table.len();
    let columns = features
        .iter()
        .map(|f| table.feature(f.name()))
        .collect::<Result<Vec<_>>>()?;
    for (f, c) in features.iter().zip(&columns) {
        let numeric = matches!(f, FeatureEncoding::Numeric { .. });
        if numeric != matches!(c, FeatureColumn::Numeric { .. }) {
            return Err(Error::option(
                "column",
                f.name(),
                format!(
                    "a {} column, as the model was fitted with",
                    if numeric { "numeric" } else { "categorical" }
                ),
            ));
        }
    }
    let mut x = Array2::zeros((n, width));
    // Per row, the first unseen level (its column) if any.
    let unseen: Option<(usize, usize)> = x
        .axis_iter_mut(ndarray::Axis(0))
        .into_par_iter()
        .enumerate()
        .map(|(i, mut row)| {
            let mut at = 0;
            for (c, (f, col)) in features.iter().zip(&columns).enumerate() {
                match (f, col) {
                    (FeatureEncoding::Numeric { .. }, FeatureColumn::Numeric { values, .. }) => {
                        row[at] = values[i];
                    }
                    (
                        FeatureEncoding::Categorical {
                            reference, levels, ..
                        },
                        FeatureColumn::Categorical { values, .. },
                    ) => {
                        let v = &values[i];
                        if let Some(l) = levels.iter().position(|l| l == v) {
                            row[at + l] = 1.0;
                        } else if v != reference {
                            return Some((i, c));
                        }
                    }
                    _ => {}
                }
                at += f.width();
            }
            None
        })
        .find_first(Option::is_some)
        .flatten();
    if let Some((i, c)) = unseen {
        return Err(unseen_level(&features[c], columns[c], i));
    }
    Ok(x)
}

fn unseen_level(feature: &FeatureEncoding, column: &FeatureColumn, row: usize) -> Error {
    let (
        FeatureEncoding::Categorical {
            name,
            reference,
            levels,
        },
        FeatureColumn::Categorical { values, .. },
    ) = (feature, column)
    else {
        unreachable!("only categorical columns have levels")
    };
    let mut known: Vec<&str> = levels.iter().map(String::as_str).collect();
    known.push(reference);
    known.sort_unstable();
    Error::bad_value(
        "leads",
        row,
        name.as_str(),
        &values[row],
        format!("a level seen in the training leads: {}", known.join(", ")),
    )
}

impl LeadModel {
    /// How each feature column enters the model, in order.
    pub fn features(&self) -> &[FeatureEncoding] {
        &self.features
    }

    /// The logistic regression on the encoded design.
    pub fn logit(&self) -> &Logit {
        &self.logit
    }

    /// The log-odds of the baseline lead: numeric features at their training means,
    /// categorical ones at their reference levels.
    pub fn baseline(&self) -> f64 {
        let beta = self.logit.coefficients();
        let mut eta = beta[0];
        let mut at = 1;
        for f in &self.features {
            if let FeatureEncoding::Numeric { mean, .. } = f {
                eta += beta[at] * mean;
            }
            at += f.width();
        }
        eta
    }

    /// Scores every lead of `table` (which needs the model's feature columns by name,
    /// in any order; a target is not needed), with each feature's contribution, in
    /// parallel.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for a feature column the table lacks;
    /// [`Error::InvalidOption`] (option `column`) for a column of the other kind
    /// (numeric for categorical or back); [`Error::BadValue`] naming the first lead
    /// (0-based row), column and value of a level not seen in training.
    pub fn score(&self, table: &LeadTable) -> Result<Vec<LeadScore>> {
        let width = self.logit.coefficients().len() - 1;
        let x = design(table, &self.features, width)?;
        // A freshly built array is in standard layout: one slice, row after row.
        let flat = x.as_slice().expect("standard layout");
        let beta = self.logit.coefficients();
        let ids = table.id.as_ref().map(|(_, v)| v);
        Ok((0..table.len())
            .into_par_iter()
            .map(|i| {
                let row = &flat[i * width..(i + 1) * width];
                let mut contributions = Vec::with_capacity(self.features.len());
                let mut at = 0;
                for f in &self.features {
                    let term = match f {
                        FeatureEncoding::Numeric { mean, .. } => beta[1 + at] * (row[at] - mean),
                        FeatureEncoding::Categorical { levels, .. } => (0..levels.len())
                            .map(|l| beta[1 + at + l] * row[at + l])
                            .sum(),
                    };
                    contributions.push(term);
                    at += f.width();
                }
                // η from the design row as the fit computes it; the baseline and the
                // contributions sum to it up to rounding.
                let eta = self.logit.linear_predictor(row);
                LeadScore {
                    id: ids.map(|v| v[i].clone()),
                    probability: self.logit.probability(row),
                    linear_predictor: eta,
                    contributions,
                }
            })
            .collect())
    }
}
