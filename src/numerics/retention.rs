//! Retention by period age: the share of a cohort still active k periods after it joined.
//!
//! A forecast of future cohorts needs only this curve, whatever produced it: a fitted
//! shifted-beta-geometric model (in `persistency`), a Kaplan–Meier curve, or numbers the
//! caller has. It lives here, below the analysis modules, so that one of them can take a
//! curve another one fitted without importing it.

use serde::{Deserialize, Serialize};

use super::survival::KaplanMeier;
use crate::error::{Error, Result};

/// Survival by period age: S(0) = 1 (a cohort is whole in the period it joins), S(k) the
/// share still active k periods later, non-increasing.
pub trait Retention: Sync {
    /// S(`periods`).
    fn survival_after(&self, periods: u32) -> f64;
    /// The last age the curve knows (`None`: every age). A forecast that needs a later
    /// age fails instead of extrapolating.
    fn max_periods(&self) -> Option<u32> {
        None
    }
}

/// A retention curve given as numbers: S(0) = 1, S(1), …, S(n), known up to age n.
///
/// ```
/// use acrm::numerics::{Retention, RetentionCurve};
/// let curve = RetentionCurve::new(vec![1.0, 0.6, 0.45])?;
/// assert_eq!(curve.survival_after(1), 0.6);
/// assert_eq!(curve.max_periods(), Some(2));
/// assert!(RetentionCurve::new(vec![1.0, 0.5, 0.7]).is_err());
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "Vec<f64>", into = "Vec<f64>")]
pub struct RetentionCurve {
    survival: Vec<f64>,
}

impl RetentionCurve {
    /// A curve from S(0), S(1), …
    ///
    /// # Errors
    /// [`Error::EmptyInput`] for no values; [`Error::BadValue`] (input `survival`, row =
    /// the age) for S(0) ≠ 1, a value outside [0, 1] or above the one before it.
    pub fn new(survival: Vec<f64>) -> Result<RetentionCurve> {
        if survival.is_empty() {
            return Err(Error::EmptyInput);
        }
        if !(1.0..=1.0).contains(&survival[0]) {
            return Err(Error::bad_value(
                "survival",
                0,
                "S",
                survival[0],
                "S(0) = 1: a cohort is whole in the period it joins",
            ));
        }
        for k in 1..survival.len() {
            let s = survival[k];
            if !(0.0..=survival[k - 1]).contains(&s) {
                return Err(Error::bad_value(
                    "survival",
                    k,
                    "S",
                    s,
                    format!("a share in [0, S({}) = {}]", k - 1, survival[k - 1]),
                ));
            }
        }
        Ok(RetentionCurve { survival })
    }

    /// S(k·`period_length`) of a Kaplan–Meier curve for k = 0, …, `periods`, for a curve
    /// whose durations are in another unit than the forecast's periods (days, say, for
    /// periods of 30 days).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] unless `period_length` is finite and positive;
    /// [`Error::BadValue`] when the curve ends (its last observed time) before the last
    /// age asked for.
    pub fn from_kaplan_meier(
        km: &KaplanMeier,
        period_length: f64,
        periods: u32,
    ) -> Result<RetentionCurve> {
        if !(period_length.is_finite() && period_length > 0.0) {
            return Err(Error::option(
                "period_length",
                period_length,
                "a finite length > 0",
            ));
        }
        let last = km.table.last().map_or(0.0, |r| r.t);
        let end = f64::from(periods) * period_length;
        if end > last {
            return Err(Error::bad_value(
                "kaplan_meier",
                km.table.len(),
                "t",
                last,
                format!("a curve observed up to age {end} (= {periods} periods)"),
            ));
        }
        RetentionCurve::new(
            (0..=periods)
                .map(|k| km.survival_at(f64::from(k) * period_length).s)
                .collect(),
        )
    }

    /// S(0), S(1), …
    pub fn values(&self) -> &[f64] {
        &self.survival
    }
}

impl TryFrom<Vec<f64>> for RetentionCurve {
    type Error = Error;
    fn try_from(survival: Vec<f64>) -> Result<Self> {
        RetentionCurve::new(survival)
    }
}

impl From<RetentionCurve> for Vec<f64> {
    fn from(c: RetentionCurve) -> Self {
        c.survival
    }
}

impl Retention for RetentionCurve {
    /// S(k) for k up to [`max_periods`](Retention::max_periods), the last value beyond.
    fn survival_after(&self, periods: u32) -> f64 {
        let k = (periods as usize).min(self.survival.len() - 1);
        self.survival[k]
    }
    fn max_periods(&self) -> Option<u32> {
        Some(u32::try_from(self.survival.len() - 1).unwrap_or(u32::MAX))
    }
}

/// A Kaplan–Meier curve whose durations count periods: S(k) = Ŝ(k), known up to its last
/// observed time (use [`RetentionCurve::from_kaplan_meier`] for other units).
impl Retention for KaplanMeier {
    fn survival_after(&self, periods: u32) -> f64 {
        self.survival_at(f64::from(periods)).s
    }
    fn max_periods(&self) -> Option<u32> {
        let last = self.table.last().map_or(0.0, |r| r.t);
        // Saturating: a curve observed past u32::MAX periods knows every age asked for.
        Some(last.floor().min(f64::from(u32::MAX)) as u32)
    }
}
