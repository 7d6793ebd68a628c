//! Behavioural features of customers: the summary's per-customer frame (recency,
//! frequency, spend, tenure, regularity) and, where the view shows them, spend shares by
//! category and channel.

use ndarray::{Array2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{is_purchase, Area, Column, Interner, ProductIdx, Rows, View};
use crate::error::{Error, Result};
use crate::numerics::{column_mean_sd, median, sum_chunked};
use crate::summary::Summary;
use crate::time::TimeUnit;

/// Settings of the standard clustering features: how many categories and channels get a
/// spend-share column (default 4 each).
///
/// For the customers of a summary, as of its date: `recency_days` (since the last
/// purchase), `frequency` (purchase days), `monetary` (spend per purchase day),
/// `tenure_days` (since the first purchase), all log-scaled with ln(1 + v); `gap_cv`
/// (regularity: coefficient of variation of the gaps between purchase days; customers
/// with fewer than three purchase days get the median of the others), all from the
/// summary's [`CustomerFeatures`](crate::summary::CustomerFeatures); and, when the view
/// shows products with categories or channels, `category:NAME` and `channel:NAME` shares
/// of purchase spend for the most-bought ones (a column hidden from the view or from the
/// summary's scope adds no shares).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureOptions {
    mix: usize,
}

impl Default for FeatureOptions {
    fn default() -> Self {
        FeatureOptions { mix: 4 }
    }
}

impl FeatureOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Spend-share columns for up to `n` categories and `n` channels (0: none).
    pub fn mix(mut self, n: usize) -> Self {
        self.mix = n;
        self
    }

    /// Checks the options (any number of shares will do).
    ///
    /// # Errors
    /// None; present so that every options type validates the same way.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// The features of the summary's customers, read from `view` (the view the summary
    /// was computed from, or a wider one over the same data). The features carry the
    /// summary's scope, so they hold no shares of a column that scope hides, however wide
    /// the view.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the view's or the summary's scope forbids profiling;
    /// [`Error::BadValue`] naming a customer of the summary that the view does not hold.
    pub fn compute<U: TimeUnit>(&self, view: &View<'_>, summary: &Summary<U>) -> Result<Features> {
        view.require(Area::Profiling)?;
        let scope = summary.rows().scope();
        scope.require(Area::Profiling)?;
        let shown = |column: Column| scope.reveal(column).is_ok();
        let frame = summary.features();
        let n = frame.len();
        let at = view.positions(summary.rows())?;
        let end = crate::time::day_number(summary.as_of());
        // Most-bought categories and channels by total purchase spend (ties by index),
        // then each customer's spend on those only: per-customer storage is `mix` wide
        // whatever the number of categories.
        let spend_by = |key: &(dyn Fn(usize, usize) -> Option<usize> + Sync), width: usize| {
            let rows_of = |i: usize| {
                let k = at[i];
                let h = view.history(k);
                let m = h.days.partition_point(|&d| d <= end);
                (0..m)
                    .filter(move |&j| is_purchase(h.amounts[j]))
                    .map(move |j| (k, j, h.amounts[j]))
            };
            let totals = sum_chunked(n, width, |i, t| {
                for (k, j, a) in rows_of(i) {
                    if let Some(c) = key(k, j) {
                        t[c] += a;
                    }
                }
            });
            let mut top: Vec<usize> = (0..width).filter(|&c| totals[c] > 0.0).collect();
            top.sort_by(|&a, &b| totals[b].total_cmp(&totals[a]).then(a.cmp(&b)));
            top.truncate(self.mix);
            let mut slot = vec![usize::MAX; width];
            for (s, &c) in top.iter().enumerate() {
                slot[c] = s;
            }
            let per: Vec<Vec<f64>> = (0..n)
                .into_par_iter()
                .with_min_len(1 << 12)
                .map(|i| {
                    let mut v = vec![0.0; top.len()];
                    for (k, j, a) in rows_of(i) {
                        if let Some(s) = key(k, j).map(|c| slot[c]).filter(|&s| s != usize::MAX) {
                            v[s] += a;
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
        let mut add_mix =
            |prefix: &str, labels: &Interner, (top, per): (Vec<usize>, Vec<Vec<f64>>)| {
                for (s, &c) in top.iter().enumerate() {
                    names.push(format!("{prefix}:{}", labels.name(c)));
                    log_scaled.push(false);
                    mix_columns.push(per.iter().map(|v| v[s]).collect());
                }
            };
        if self.mix > 0 {
            // Read through the view, tagged with the summary's scope: only what both show.
            let products = shown(Column::Product).then(|| (view.catalogue(), view.products()));
            if let Some((Ok(catalogue), Ok(products))) = products {
                let category_of: Vec<Option<usize>> = (0..catalogue.len())
                    .map(|p| catalogue.category(ProductIdx(p as u32)).map(|c| c.get()))
                    .collect();
                let labels = catalogue.categories();
                let spend = spend_by(&|k, j| category_of[products.of(k)[j].get()], labels.len());
                add_mix("category", labels, spend);
            }
            let channels = shown(Column::Channel).then(|| (view.channel_names(), view.channels()));
            if let Some((Ok(labels), Ok(channels))) = channels {
                let spend = spend_by(&|k, j| Some(channels.of(k)[j].get()), labels.len());
                add_mix("channel", labels, spend);
            }
        }
        let mut raw = Array2::zeros((n, names.len()));
        let cvs: Vec<f64> = frame.gap_cv.iter().flatten().copied().collect();
        for i in 0..n {
            let purchase_days = f64::from(frame.purchase_days[i]);
            let spend = frame.spend[i];
            let mut row = raw.row_mut(i);
            row[0] = frame.recency_days[i];
            row[1] = purchase_days;
            row[2] = spend / purchase_days;
            row[3] = frame.tenure_days[i];
            row[4] = frame.gap_cv[i].unwrap_or(f64::NAN);
            for (j, col) in mix_columns.iter().enumerate() {
                row[5 + j] = if spend > 0.0 { col[i] / spend } else { 0.0 };
            }
        }
        let cv_median = median(&cvs).unwrap_or(0.0);
        raw.column_mut(4)
            .mapv_inplace(|v| if v.is_nan() { cv_median } else { v });
        Ok(Features {
            rows: frame.rows,
            names,
            raw,
            log_scaled,
            revenue: frame.revenue,
        })
    }
}

/// Customer features in original units, one row per customer, and how each column is
/// scaled before standardising: what [`ClusterOptions`](super::ClusterOptions) clusters.
/// [`FeatureOptions`] makes the standard ones; [`Features::new`] takes any.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Features {
    /// The customers, and the scope they were read under.
    pub rows: Rows,
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
        rows: Rows,
        names: Vec<String>,
        raw: Array2<f64>,
        log_scaled: Vec<bool>,
        revenue: Vec<f64>,
    ) -> Result<Self> {
        let f = Features {
            rows,
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
    pub(super) fn check(&self) -> Result<()> {
        let (names, raw, log_scaled) = (&self.names, &self.raw, &self.log_scaled);
        Error::check_len("names", names.len(), raw.ncols(), "columns of raw")?;
        Error::check_len(
            "log_scaled",
            log_scaled.len(),
            raw.ncols(),
            "columns of raw",
        )?;
        Error::check_len("revenue", self.revenue.len(), raw.nrows(), "rows of raw")?;
        Error::check_len("rows", self.rows.len(), raw.nrows(), "rows of raw")?;
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
    pub(super) fn standardised(&self) -> Result<(Array2<f64>, Vec<usize>)> {
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
