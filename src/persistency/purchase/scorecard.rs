//! How well a purchase model predicts a holdout period: per-customer errors, the
//! calibration-frequency table and the cumulative tracking series of Fader, Hardie & Lee
//! (2005, figures 2–4), as numbers a program can assert on.

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{is_purchase, Area, ScopeTag, View};
use crate::error::{Error, Result};
use crate::summary::{score, PurchaseModel, Rfm, Split};
use crate::time::{date_of, day_number, TimeUnit};

/// Predicted against actual holdout purchases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    /// The scope of the customers compared.
    pub scope: ScopeTag,
    /// Customers compared.
    pub customers: usize,
    /// Holdout length, in the model's time unit.
    pub horizon: f64,
    /// Mean absolute error per customer.
    pub mae: f64,
    /// Root mean squared error per customer.
    pub rmse: f64,
    /// Mean of predicted − actual (positive: the model over-predicts).
    pub bias: f64,
    /// Pearson correlation of predicted and actual (`None` when either is constant).
    pub correlation: Option<f64>,
    /// Total predicted purchases.
    pub predicted_total: f64,
    /// Total actual purchases.
    pub actual_total: u64,
    /// Mean predicted and actual holdout purchases by calibration repeat purchases
    /// 0, 1, …, 6 and 7+ (FHL 2005, figure 4).
    pub by_frequency: Vec<FrequencyRow>,
}

/// One row of the calibration-frequency table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrequencyRow {
    /// "0" … "6", or "7+".
    pub frequency: String,
    /// Customers with that calibration frequency.
    pub customers: usize,
    /// Their mean predicted holdout purchases.
    pub mean_predicted: f64,
    /// Their mean actual holdout purchases.
    pub mean_actual: f64,
}

impl Scorecard {
    /// Compares `model`'s expected purchases over the holdout period of `split` with the
    /// customers' actual holdout purchases; the model's time unit is the split's.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the split's scope forbids persistency;
    /// [`Error::EmptyInput`] without customers.
    pub fn compute<U: TimeUnit, M: PurchaseModel + ?Sized>(
        model: &M,
        split: &Split<U>,
    ) -> Result<Scorecard> {
        let scope = split.calibration.scope();
        scope.require(Area::Persistency)?;
        let mut card = Self::compute_records(
            model,
            &split.calibration.records(),
            &split.holdout.purchases,
            split.holdout.length().value(),
        )?;
        card.scope = scope.clone();
        Ok(card)
    }

    /// Compares `model`'s expected purchases over `horizon` (model time unit) with the
    /// actual holdout purchases `actual`, index-aligned with `records` (from a file or
    /// another tool).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `actual` and `records` differ in length,
    /// [`Error::InvalidOption`] when the horizon is not positive, [`Error::EmptyInput`]
    /// without records.
    pub fn compute_records<M: PurchaseModel + ?Sized>(
        model: &M,
        records: &[Rfm],
        actual: &[u32],
        horizon: f64,
    ) -> Result<Scorecard> {
        Error::check_len("actual", actual.len(), records.len(), "records")?;
        if !(horizon > 0.0 && horizon.is_finite()) {
            return Err(Error::option(
                "horizon",
                horizon,
                "a positive finite length",
            ));
        }
        if records.is_empty() {
            return Err(Error::EmptyInput);
        }
        let predicted: Vec<f64> = score(model, records, horizon)
            .into_iter()
            .map(|s| s.expected_purchases)
            .collect();
        let n = records.len() as f64;
        let (mut abs, mut sq, mut diff) = (0.0, 0.0, 0.0);
        let (mut sp, mut sa) = (0.0, 0.0);
        let mut rows = [(0usize, 0.0, 0.0); 8];
        for ((r, &p), &a) in records.iter().zip(&predicted).zip(actual) {
            let a = f64::from(a);
            abs += (p - a).abs();
            sq += (p - a) * (p - a);
            diff += p - a;
            sp += p;
            sa += a;
            let row = &mut rows[(r.x as usize).min(7)];
            row.0 += 1;
            row.1 += p;
            row.2 += a;
        }
        let (mp, ma) = (sp / n, sa / n);
        let (mut cov, mut vp, mut va) = (0.0, 0.0, 0.0);
        for (&p, &a) in predicted.iter().zip(actual) {
            let a = f64::from(a);
            cov += (p - mp) * (a - ma);
            vp += (p - mp) * (p - mp);
            va += (a - ma) * (a - ma);
        }
        let corr = cov / (vp * va).sqrt();
        Ok(Scorecard {
            scope: ScopeTag {
                customers: records.len(),
                ..ScopeTag::default()
            },
            customers: records.len(),
            horizon,
            mae: abs / n,
            rmse: (sq / n).sqrt(),
            bias: diff / n,
            correlation: corr.is_finite().then_some(corr),
            predicted_total: sp,
            actual_total: actual.iter().map(|&a| u64::from(a)).sum(),
            by_frequency: rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.0 > 0)
                .map(|(k, r)| FrequencyRow {
                    frequency: if k == 7 { "7+".into() } else { k.to_string() },
                    customers: r.0,
                    mean_predicted: r.1 / r.0 as f64,
                    mean_actual: r.2 / r.0 as f64,
                })
                .collect(),
        })
    }
}

/// Cumulative repeat purchases of a cohort over calibration and holdout, predicted and
/// actual, at every unit step (every week for a model in weeks) from the cohort's first
/// purchase (FHL 2005, figure 2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tracking {
    /// The scope of the customers tracked.
    pub scope: ScopeTag,
    /// End date of each step.
    pub dates: Vec<NaiveDate>,
    /// Time since the first purchase of the cohort, in the model's unit.
    pub t: Vec<f64>,
    /// Actual cumulative repeat purchases (purchase days after each customer's first).
    pub actual: Vec<f64>,
    /// Predicted: Σ over customers of E[X(t − first purchase)] for a new customer.
    pub predicted: Vec<f64>,
    /// The calibration end, where the holdout begins.
    pub calibration_end: NaiveDate,
}

impl Tracking {
    /// The series for the customers of `split` (a calibration split of `view`), up to
    /// the holdout end.
    ///
    /// Predictions are evaluated once per distinct first-purchase day, so a cohort of
    /// millions costs what its few hundred acquisition days cost.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids persistency; [`Error::BadValue`]
    /// (naming the first summary row and its customer) when `split` was not made from
    /// `view`: a customer of the summary is not in the view, or has no purchase on the
    /// summary's first purchase day.
    pub fn compute<U: TimeUnit, M: PurchaseModel + ?Sized>(
        model: &M,
        view: &View<'_>,
        split: &Split<U>,
    ) -> Result<Tracking> {
        view.require(Area::Persistency)?;
        let cal = &split.calibration;
        let at = view.positions(cal.rows())?;
        // Each summary row's first purchase must be a day of its customer's history.
        let unknown = (0..cal.len()).into_par_iter().position_first(|i| {
            view.history(at[i])
                .days
                .binary_search(&day_number(cal.get(i).first_purchase))
                .is_err()
        });
        if let Some(i) = unknown {
            return Err(Error::bad_value(
                "split",
                i,
                "customer",
                cal.id(i),
                format!(
                    "a customer of the view with a purchase on {} (make the split from this view)",
                    cal.get(i).first_purchase
                ),
            ));
        }
        let end = day_number(split.holdout.end());
        let firsts: Vec<i32> = (0..cal.len())
            .into_par_iter()
            .map(|i| day_number(cal.get(i).first_purchase))
            .collect();
        let start = firsts.iter().copied().min().unwrap_or(end);
        let steps = ((f64::from(end - start)) / U::DAYS).ceil().max(0.0) as usize;
        // Repeat purchase days of every customer, as day offsets from the cohort start.
        let mut repeat_days: Vec<i32> = (0..cal.len())
            .into_par_iter()
            .flat_map_iter(|i| {
                let h = view.history(at[i]);
                let first = firsts[i];
                let mut last = first;
                let mut out = Vec::new();
                for (&d, &a) in h.days.iter().zip(h.amounts) {
                    if is_purchase(a) && d > last && d <= end {
                        out.push(d - start);
                        last = d;
                    }
                }
                out
            })
            .collect();
        repeat_days.par_sort_unstable();
        // Customers per first-purchase day (offset from the start), ascending.
        let mut sorted: Vec<i32> = firsts.iter().map(|&f| f - start).collect();
        sorted.par_sort_unstable();
        let mut merged: Vec<(i32, usize)> = Vec::new();
        for d in sorted {
            match merged.last_mut() {
                Some((md, mc)) if *md == d => *mc += 1,
                _ => merged.push((d, 1)),
            }
        }
        let points: Vec<(f64, f64, f64)> = (1..=steps)
            .into_par_iter()
            .map(|k| {
                let days = (k as f64 * U::DAYS).min(f64::from(end - start));
                let actual = repeat_days.partition_point(|&d| f64::from(d) <= days) as f64;
                let predicted: f64 = merged
                    .iter()
                    .filter(|(d, _)| f64::from(*d) < days)
                    .map(|&(d, c)| {
                        c as f64 * model.expected_purchases((days - f64::from(d)) / U::DAYS)
                    })
                    .sum();
                (days, actual, predicted)
            })
            .collect();
        Ok(Tracking {
            scope: cal.scope().clone(),
            dates: points
                .iter()
                .map(|p| date_of(start + p.0.floor() as i32))
                .collect(),
            t: points.iter().map(|p| p.0 / U::DAYS).collect(),
            actual: points.iter().map(|p| p.1).collect(),
            predicted: points.iter().map(|p| p.2).collect(),
            calibration_end: cal.as_of(),
        })
    }
}
