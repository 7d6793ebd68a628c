//! Nonparametric survival: the Kaplan–Meier estimator with Greenwood variance and
//! log(−log) confidence intervals, grouped curves, and the log-rank test.
//!
//! Conventions follow lifelines (≥ 0.27), against which the tests check the numbers:
//! the curve steps down at each event time and is right-continuous; a row is at risk at
//! its own time (censored rows leave after the events tied with them); the median is the
//! first time the curve is at or below ½, and its interval the first times the interval
//! bounds are.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

use super::{cholesky, cholesky_solve};
use crate::data::{Area, ScopeTag};
use crate::error::{Error, Result};

/// Right-censored observations: a duration per subject, whether the event (churn, death)
/// was observed at its end, and optional positive case weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SurvivalData {
    durations: Vec<f64>,
    events: Vec<bool>,
    weights: Option<Vec<f64>>,
    #[serde(default)]
    scope: ScopeTag,
}

impl SurvivalData {
    /// Durations (finite, ≥ 0) and event flags (`false` = right-censored).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `events` and `durations` differ in length;
    /// [`Error::BadValue`] naming the first bad duration by position and value;
    /// [`Error::EmptyInput`] for no rows.
    pub fn new(durations: Vec<f64>, events: Vec<bool>) -> Result<Self> {
        Error::check_len("events", events.len(), durations.len(), "durations")?;
        if durations.is_empty() {
            return Err(Error::EmptyInput);
        }
        if let Some(i) = durations
            .par_iter()
            .position_first(|d| !(d.is_finite() && *d >= 0.0))
        {
            return Err(Error::bad_value(
                "durations",
                i,
                "duration",
                durations[i],
                "a finite duration ≥ 0",
            ));
        }
        let scope = ScopeTag {
            customers: durations.len(),
            ..ScopeTag::default()
        };
        Ok(SurvivalData {
            durations,
            events,
            weights: None,
            scope,
        })
    }

    /// Case weights (finite, > 0), one per row: a row of weight w counts as w subjects.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `weights` is not one per duration;
    /// [`Error::BadValue`] naming the first bad weight by position and value.
    pub fn with_weights(mut self, weights: Vec<f64>) -> Result<Self> {
        Error::check_len("weights", weights.len(), self.durations.len(), "durations")?;
        if let Some(i) = weights
            .par_iter()
            .position_first(|w| !(w.is_finite() && *w > 0.0))
        {
            return Err(Error::bad_value(
                "weights",
                i,
                "weight",
                weights[i],
                "a finite weight > 0",
            ));
        }
        self.weights = Some(weights);
        Ok(self)
    }

    /// The same data, read under `scope` (customer lifetimes from a view carry it).
    pub(crate) fn with_scope(mut self, scope: ScopeTag) -> Self {
        self.scope = scope;
        self
    }

    /// The scope the data was read under (the default, `all`, for data given directly).
    pub fn scope(&self) -> &ScopeTag {
        &self.scope
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.durations.len()
    }

    /// Whether there are no rows (never true for a constructed value).
    pub fn is_empty(&self) -> bool {
        self.durations.is_empty()
    }

    /// The durations.
    pub fn durations(&self) -> &[f64] {
        &self.durations
    }

    /// The event flags.
    pub fn events(&self) -> &[bool] {
        &self.events
    }

    /// The case weights, when given.
    pub fn weights(&self) -> Option<&[f64]> {
        self.weights.as_deref()
    }

    /// Weight of row i (1 without weights).
    #[inline]
    pub(crate) fn weight(&self, i: usize) -> f64 {
        self.weights.as_ref().map_or(1.0, |w| w[i])
    }

    /// The rows `keep` selects, in order.
    fn subset(&self, keep: &[usize]) -> SurvivalData {
        SurvivalData {
            durations: keep.iter().map(|&i| self.durations[i]).collect(),
            events: keep.iter().map(|&i| self.events[i]).collect(),
            weights: self
                .weights
                .as_ref()
                .map(|w| keep.iter().map(|&i| w[i]).collect()),
            scope: self.scope.clone(),
        }
    }

    /// Per distinct time, ascending: (time, events, censored), weighted.
    ///
    /// Durations are non-negative, so their bit patterns sort like the numbers: events and
    /// censorings are sorted apart as integers (one 8-byte key each) and merged. With
    /// weights the (time, weight) pairs are sorted whole, so tied rows add up in the same
    /// order whatever order they came in.
    fn event_table(&self) -> Vec<(f64, f64, f64)> {
        let rows = |event: bool| {
            (0..self.len())
                .into_par_iter()
                .filter(move |&i| self.events[i] == event)
        };
        match &self.weights {
            None => {
                let sorted = |event| {
                    let mut t: Vec<u64> =
                        rows(event).map(|i| self.durations[i].to_bits()).collect();
                    t.par_sort_unstable();
                    t
                };
                let (dead, cens) = rayon::join(|| sorted(true), || sorted(false));
                merge_times(&dead, &cens, |&t| (t, 1.0))
            }
            Some(w) => {
                let sorted = |event| {
                    let mut t: Vec<(u64, u64)> = rows(event)
                        .map(|i| (self.durations[i].to_bits(), w[i].to_bits()))
                        .collect();
                    t.par_sort_unstable();
                    t
                };
                let (dead, cens) = rayon::join(|| sorted(true), || sorted(false));
                merge_times(&dead, &cens, |&(t, w)| (t, f64::from_bits(w)))
            }
        }
    }
}

/// Merges sorted event and censoring keys into (time, events, censored) per distinct
/// time; `key` gives a key's time bits and weight.
fn merge_times<T>(dead: &[T], cens: &[T], key: impl Fn(&T) -> (u64, f64)) -> Vec<(f64, f64, f64)> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    loop {
        let t = match (dead.get(i), cens.get(j)) {
            (Some(a), Some(b)) => key(a).0.min(key(b).0),
            (Some(a), None) => key(a).0,
            (None, Some(b)) => key(b).0,
            (None, None) => break,
        };
        let (mut d, mut c) = (0.0, 0.0);
        while let Some((_, w)) = dead.get(i).map(&key).filter(|k| k.0 == t) {
            d += w;
            i += 1;
        }
        while let Some((_, w)) = cens.get(j).map(&key).filter(|k| k.0 == t) {
            c += w;
            j += 1;
        }
        out.push((f64::from_bits(t), d, c));
    }
    out
}

/// Settings of the Kaplan–Meier estimator: the confidence level of its intervals
/// (default 0.95).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KaplanMeierOptions {
    confidence: f64,
}

impl Default for KaplanMeierOptions {
    fn default() -> Self {
        KaplanMeierOptions { confidence: 0.95 }
    }
}

/// One step of a Kaplan–Meier curve: a distinct observed time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KmRow {
    /// The time.
    pub t: f64,
    /// Subjects at risk just before `t` (weighted).
    pub at_risk: f64,
    /// Events at `t` (weighted).
    pub events: f64,
    /// Censorings at `t` (weighted).
    pub censored: f64,
    /// S(t), the survival just after `t`.
    pub survival: f64,
    /// Greenwood's sum Σ d / (n (n − d)) up to `t`: Var S(t) = S(t)² × this.
    pub greenwood: f64,
}

/// Survival at one time with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SurvivalAt {
    /// The time asked for.
    pub t: f64,
    /// Ŝ(t).
    pub s: f64,
    /// Lower bound of the interval.
    pub lo: f64,
    /// Upper bound of the interval.
    pub hi: f64,
}

/// A Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KaplanMeier {
    /// The scope of the data.
    pub scope: ScopeTag,
    /// Rows (weighted subjects, when weighted).
    pub n: f64,
    /// Events observed (weighted).
    pub events: f64,
    /// The confidence level of the intervals.
    pub confidence: f64,
    /// The curve, one row per distinct observed time, ascending.
    pub table: Vec<KmRow>,
}

impl KaplanMeierOptions {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Confidence level of the intervals, in (0, 1).
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a confidence level outside (0, 1).
    pub fn validate(&self) -> Result<()> {
        z_for(self.confidence).map(|_| ())
    }

    /// The curve.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a confidence level outside (0, 1);
    /// [`Error::ForbiddenArea`] when the data's scope forbids persistency.
    pub fn compute(&self, data: &SurvivalData) -> Result<KaplanMeier> {
        self.validate()?;
        data.scope().require(Area::Persistency)?;
        let table = data.event_table();
        let n: f64 = match &data.weights {
            None => data.len() as f64,
            Some(_) => table.iter().map(|r| r.1 + r.2).sum(),
        };
        let mut rows = Vec::with_capacity(table.len());
        let (mut at_risk, mut s, mut gw, mut events) = (n, 1.0, 0.0, 0.0);
        for (t, d, c) in table {
            if d > 0.0 {
                s *= 1.0 - d / at_risk;
                // The last subjects dying at once leave S = 0 and an infinite sum.
                gw += if d < at_risk {
                    d / (at_risk * (at_risk - d))
                } else {
                    f64::INFINITY
                };
                events += d;
            }
            rows.push(KmRow {
                t,
                at_risk,
                events: d,
                censored: c,
                survival: s,
                greenwood: gw,
            });
            at_risk -= d + c;
        }
        Ok(KaplanMeier {
            scope: data.scope().clone(),
            n,
            events,
            confidence: self.confidence,
            table: rows,
        })
    }

    /// One curve per group, groups in ascending label order, with the log-rank test of
    /// their equality when there are two or more.
    ///
    /// # Errors
    /// As [`compute`](Self::compute), and [`Error::LengthMismatch`] when `groups` is not
    /// one label per row.
    pub fn compute_groups<S: AsRef<str>>(
        &self,
        data: &SurvivalData,
        groups: &[S],
    ) -> Result<GroupedSurvival> {
        self.validate()?;
        data.scope().require(Area::Persistency)?;
        let (labels, index) = intern(data, groups)?;
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); labels.len()];
        for (i, &g) in index.iter().enumerate() {
            members[g as usize].push(i);
        }
        let curves = members
            .par_iter()
            .map(|rows| self.compute(&data.subset(rows)))
            .collect::<Result<Vec<_>>>()?;
        let log_rank = if labels.len() >= 2 {
            Some(log_rank_indexed(data, &index, labels.clone())?)
        } else {
            None
        };
        Ok(GroupedSurvival {
            groups: labels,
            curves,
            log_rank,
        })
    }
}

/// Kaplan–Meier curves by group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupedSurvival {
    /// Group labels, ascending.
    pub groups: Vec<String>,
    /// One curve per label.
    pub curves: Vec<KaplanMeier>,
    /// The log-rank test across the groups (none for a single group).
    pub log_rank: Option<LogRank>,
}

impl KaplanMeier {
    /// The standard normal quantile of the two-sided interval.
    fn z(&self) -> f64 {
        // Checked when fitted; a level edited since gives NaN bounds, not a panic.
        z_for(self.confidence).unwrap_or(f64::NAN)
    }

    /// Interval for S on the log(−log) scale ("exponential Greenwood"): bounds
    /// S^exp(±z σ) with σ = √(Greenwood sum) / |ln S|; it stays inside [0, 1].
    fn bounds(s: f64, greenwood: f64, z: f64) -> (f64, f64) {
        if s >= 1.0 || s <= 0.0 {
            return (s, s);
        }
        let sigma = greenwood.sqrt() / s.ln().abs();
        (s.powf((z * sigma).exp()), s.powf((-z * sigma).exp()))
    }

    /// Index of the last row at or before `t`.
    fn row_at(&self, t: f64) -> Option<usize> {
        self.table.partition_point(|r| r.t <= t).checked_sub(1)
    }

    /// Ŝ(t) with its interval: 1 (interval [1, 1]) before the first time; after the last
    /// observed time the last value.
    pub fn survival_at(&self, t: f64) -> SurvivalAt {
        let z = self.z();
        match self.row_at(t) {
            None => SurvivalAt {
                t,
                s: 1.0,
                lo: 1.0,
                hi: 1.0,
            },
            Some(i) => {
                let r = &self.table[i];
                let (lo, hi) = Self::bounds(r.survival, r.greenwood, z);
                SurvivalAt {
                    t,
                    s: r.survival,
                    lo,
                    hi,
                }
            }
        }
    }

    /// Ŝ with its interval at every distinct time.
    pub fn curve(&self) -> Vec<SurvivalAt> {
        let z = self.z();
        self.table
            .iter()
            .map(|r| {
                let (lo, hi) = Self::bounds(r.survival, r.greenwood, z);
                SurvivalAt {
                    t: r.t,
                    s: r.survival,
                    lo,
                    hi,
                }
            })
            .collect()
    }

    /// Greenwood's variance of Ŝ(t).
    pub fn variance_at(&self, t: f64) -> f64 {
        self.row_at(t).map_or(0.0, |i| {
            let r = &self.table[i];
            r.survival * r.survival * r.greenwood
        })
    }

    /// The first time the curve is at or below 1 − q (q = 0.5: the median); `None` when
    /// it never gets there.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        self.first_at_or_below(1.0 - q, |r| r.survival)
    }

    /// The median survival time; `None` when the curve stays above ½.
    pub fn median(&self) -> Option<f64> {
        self.quantile(0.5)
    }

    /// Interval for the median: the first times the lower and the upper bound of the
    /// curve's interval are at or below ½ (`None` for a bound that never gets there).
    pub fn median_interval(&self) -> MedianInterval {
        let z = self.z();
        MedianInterval {
            lo: self.first_at_or_below(0.5, |r| Self::bounds(r.survival, r.greenwood, z).0),
            hi: self.first_at_or_below(0.5, |r| Self::bounds(r.survival, r.greenwood, z).1),
        }
    }

    fn first_at_or_below(&self, level: f64, value: impl Fn(&KmRow) -> f64) -> Option<f64> {
        self.table.iter().find(|r| value(r) <= level).map(|r| r.t)
    }
}

/// The interval of a median survival time (`None` for a bound the curve's interval never
/// reaches).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MedianInterval {
    /// The first time the interval's lower bound is at or below ½.
    pub lo: Option<f64>,
    /// The first time the interval's upper bound is at or below ½.
    pub hi: Option<f64>,
}

/// The log-rank test that groups share one survival curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogRank {
    /// Group labels, ascending.
    pub groups: Vec<String>,
    /// Observed events per group (weighted).
    pub observed: Vec<f64>,
    /// Expected events per group under equal hazards.
    pub expected: Vec<f64>,
    /// The χ² statistic.
    pub statistic: f64,
    /// Degrees of freedom: groups − 1.
    pub df: usize,
    /// P(χ²_df ≥ statistic).
    pub p_value: f64,
}

/// The log-rank test across the groups labelled by `groups` (one label per row; two or
/// more distinct labels).
///
/// # Errors
/// [`Error::LengthMismatch`] when `groups` is not one label per row;
/// [`Error::Degenerate`] when it holds a single label, or when the groups' covariance is
/// singular (no events, or one group with all of them at every event time).
pub fn log_rank<S: AsRef<str>>(data: &SurvivalData, groups: &[S]) -> Result<LogRank> {
    let (labels, index) = intern(data, groups)?;
    if labels.len() < 2 {
        return Err(Error::Degenerate {
            input: "groups".into(),
            reason: format!(
                "a single group `{}`: the log-rank test needs two or more",
                labels.first().map_or("", String::as_str)
            ),
        });
    }
    log_rank_indexed(data, &index, labels)
}

/// Sorted distinct labels and each row's index into them.
fn intern<S: AsRef<str>>(data: &SurvivalData, groups: &[S]) -> Result<(Vec<String>, Vec<u32>)> {
    Error::check_len(
        "groups",
        groups.len(),
        data.len(),
        "rows of the survival data",
    )?;
    let mut labels: Vec<&str> = groups.iter().map(AsRef::as_ref).collect();
    labels.sort_unstable();
    labels.dedup();
    let index = groups
        .iter()
        .map(|g| {
            // Every label is in the sorted list.
            labels.binary_search(&g.as_ref()).unwrap_or(0) as u32
        })
        .collect();
    Ok((labels.into_iter().map(str::to_string).collect(), index))
}

fn log_rank_indexed(data: &SurvivalData, group: &[u32], labels: Vec<String>) -> Result<LogRank> {
    let k = labels.len();
    let mut order: Vec<u32> = (0..data.len() as u32).collect();
    order.par_sort_unstable_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        data.durations[a]
            .total_cmp(&data.durations[b])
            .then(a.cmp(&b))
    });
    let mut at_risk = vec![0.0; k];
    for i in 0..data.len() {
        at_risk[group[i] as usize] += data.weight(i);
    }
    let (mut observed, mut expected) = (vec![0.0; k], vec![0.0; k]);
    let mut cov = vec![0.0; k * k];
    let (mut d_g, mut left_g) = (vec![0.0; k], vec![0.0; k]);
    let mut a = 0;
    while a < order.len() {
        let t = data.durations[order[a] as usize];
        let mut b = a;
        d_g.iter_mut().for_each(|x| *x = 0.0);
        left_g.iter_mut().for_each(|x| *x = 0.0);
        while b < order.len() && data.durations[order[b] as usize].to_bits() == t.to_bits() {
            let i = order[b] as usize;
            let (g, w) = (group[i] as usize, data.weight(i));
            if data.events[i] {
                d_g[g] += w;
            }
            left_g[g] += w;
            b += 1;
        }
        let d: f64 = d_g.iter().sum();
        let n: f64 = at_risk.iter().sum();
        if d > 0.0 {
            for g in 0..k {
                observed[g] += d_g[g];
                expected[g] += d * at_risk[g] / n;
            }
            if n > 1.0 {
                let f = d * (n - d) / (n - 1.0);
                for g in 0..k {
                    for h in 0..k {
                        let delta = if g == h { 1.0 } else { 0.0 };
                        cov[g * k + h] += f * at_risk[g] / n * (delta - at_risk[h] / n);
                    }
                }
            }
        }
        for g in 0..k {
            at_risk[g] -= left_g[g];
        }
        a = b;
    }
    // The k × k covariance has rank k − 1: test on the first k − 1 groups.
    let m = k - 1;
    let sub: Vec<f64> = (0..m * m).map(|x| cov[(x / m) * k + x % m]).collect();
    let u: Vec<f64> = (0..m).map(|g| observed[g] - expected[g]).collect();
    let l = cholesky(&sub, m, 1e-12).map_err(|g| Error::Degenerate {
        input: labels[g].clone(),
        reason: "the log-rank covariance is singular: the group has no events or no \
                 subjects at risk beside the other groups' events"
            .into(),
    })?;
    let v = cholesky_solve(&l, m, &u);
    let statistic: f64 = u.iter().zip(&v).map(|(a, b)| a * b).sum();
    let p_value = chi2_sf(statistic, m as f64);
    Ok(LogRank {
        groups: labels,
        observed,
        expected,
        statistic,
        df: m,
        p_value,
    })
}

/// The standard normal quantile of a two-sided interval at `confidence`, which must be
/// in (0, 1).
pub(crate) fn z_for(confidence: f64) -> Result<f64> {
    if !(confidence > 0.0 && confidence < 1.0) {
        return Err(Error::option("confidence", confidence, "a level in (0, 1)"));
    }
    Ok(Normal::standard().inverse_cdf(0.5 + confidence / 2.0))
}

/// P(χ²_df ≥ x).
pub(crate) fn chi2_sf(x: f64, df: f64) -> f64 {
    ChiSquared::new(df).map_or(f64::NAN, |c| c.sf(x.max(0.0)))
}
