//! Overdue customers: the ones who should have bought again by now, given their own
//! rhythm, ranked by the value at stake.
//!
//! A customer with x repeat purchases between the first and the last purchase (t_x days)
//! has an uncertain purchase rate λ; with the usual noninformative prior its posterior is
//! Gamma(x, t_x), and the chance of a silence of at least s days while still buying at
//! that rate is E[e^(−λ s)] = (t_x / (t_x + s))^x (a Lomax tail). That is the
//! `silence_probability`: small means the current silence is unusual for this customer.
//! With few purchases the tail is heavy, so one long silence after two purchases raises
//! less alarm than the same silence after twenty. When a purchase model is supplied, its
//! P(alive) is reported beside it and sets the risk.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, CustomerIdx, ScopeTag};
use crate::error::{Error, Result};
use crate::summary::{PurchaseModel, Summary};
use crate::time::TimeUnit;

/// Settings of the overdue list. Defaults: customers with at least 2 repeat purchases,
/// overdue when the silence probability is at most 0.05, every overdue customer listed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OverdueOptions {
    threshold: f64,
    min_repeat_purchases: u32,
    top: Option<usize>,
}

impl Default for OverdueOptions {
    fn default() -> Self {
        OverdueOptions {
            threshold: 0.05,
            min_repeat_purchases: 2,
            top: None,
        }
    }
}

/// One overdue customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueRow {
    /// Row of the customer in the summary.
    pub row: usize,
    /// Dataset index of the customer.
    pub customer: CustomerIdx,
    /// External id.
    pub id: String,
    /// Repeat purchases x.
    pub repeat_purchases: u32,
    /// Mean days between purchases, t_x / x.
    pub mean_gap_days: f64,
    /// Days since the last purchase, T − t_x.
    pub days_silent: f64,
    /// The silence in mean gaps.
    pub gaps_missed: f64,
    /// P(a silence this long | the customer still buys at their own rate).
    pub silence_probability: f64,
    /// P(alive) from the supplied purchase model.
    pub p_alive: Option<f64>,
    /// The customer's value (supplied, or annualised historical revenue).
    pub value: f64,
    /// `value` × the risk: 1 − P(alive) with a model, else 1 − silence probability.
    pub value_at_risk: f64,
}

/// The overdue list, by value at risk (highest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overdue {
    /// The scope of the summary.
    pub scope: ScopeTag,
    /// Customers with enough repeat purchases to have a rhythm.
    pub considered: usize,
    /// Of those, the ones past the threshold.
    pub overdue: usize,
    /// The overdue customers (the first `top` when capped).
    pub rows: Vec<OverdueRow>,
}

impl OverdueOptions {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a threshold outside (0, 1) or a zero minimum.
    pub fn validate(&self) -> Result<()> {
        if !(self.threshold > 0.0 && self.threshold < 1.0) {
            return Err(Error::option(
                "threshold",
                self.threshold,
                "a probability in (0, 1)",
            ));
        }
        if self.min_repeat_purchases == 0 {
            return Err(Error::option(
                "min_repeat_purchases",
                0,
                "at least 1 (a rhythm needs a repeat purchase)",
            ));
        }
        Ok(())
    }

    /// Overdue when the silence probability is at most `p` (in (0, 1)).
    pub fn threshold(mut self, p: f64) -> Self {
        self.threshold = p;
        self
    }

    /// Repeat purchases a customer needs to have a rhythm (≥ 1).
    pub fn min_repeat_purchases(mut self, x: u32) -> Self {
        self.min_repeat_purchases = x;
        self
    }

    /// List only the `n` customers with the most value at risk.
    pub fn top(mut self, n: usize) -> Self {
        self.top = Some(n);
        self
    }

    /// The overdue customers of `summary`. `values` (index-aligned with the summary, for
    /// example CLV) defaults to each customer's revenue per year on the books; `model`
    /// adds P(alive), evaluated in the summary's time unit.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a threshold outside (0, 1) or a zero minimum;
    /// [`Error::LengthMismatch`] when `values` is not one per customer; [`Error::BadValue`]
    /// naming the first non-finite value.
    pub fn compute<U: TimeUnit>(
        &self,
        summary: &Summary<U>,
        values: Option<&[f64]>,
        model: Option<&dyn PurchaseModel>,
    ) -> Result<Overdue> {
        self.validate()?;
        summary.scope().require(Area::Persistency)?;
        if let Some(v) = values {
            Error::check_len("values", v.len(), summary.len(), "customers of the summary")?;
            if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                return Err(Error::bad_value(
                    "values",
                    i,
                    "value",
                    v[i],
                    "a finite number",
                ));
            }
        }
        let scored: Vec<Option<OverdueRow>> = (0..summary.len())
            .into_par_iter()
            .map(|i| {
                let x = summary.x(i);
                if x < self.min_repeat_purchases {
                    return None;
                }
                let (t_x, t) = (summary.t_x(i).days(), summary.t(i).days());
                let silent = t - t_x;
                let silence_probability = (t_x / (t_x + silent)).powf(f64::from(x));
                let p_alive =
                    model.map(|m| m.p_alive(x, summary.t_x(i).value(), summary.t(i).value()));
                let value = match values {
                    Some(v) => v[i],
                    None => summary.state(i).purchase_spend() * 365.0 / t.max(1.0),
                };
                let risk = p_alive.map_or(1.0 - silence_probability, |p| 1.0 - p);
                Some(OverdueRow {
                    row: i,
                    customer: summary.customer(i),
                    id: String::new(),
                    repeat_purchases: x,
                    mean_gap_days: t_x / f64::from(x),
                    days_silent: silent,
                    gaps_missed: silent * f64::from(x) / t_x,
                    silence_probability,
                    p_alive,
                    value,
                    value_at_risk: value * risk,
                })
            })
            .collect();
        let considered = scored.iter().flatten().count();
        let mut rows: Vec<OverdueRow> = scored
            .into_iter()
            .flatten()
            .filter(|r| r.silence_probability <= self.threshold)
            .collect();
        let overdue = rows.len();
        rows.par_sort_unstable_by(|a, b| {
            b.value_at_risk
                .total_cmp(&a.value_at_risk)
                .then(a.row.cmp(&b.row))
        });
        rows.truncate(self.top.unwrap_or(usize::MAX));
        for r in &mut rows {
            r.id = summary.id(r.row).to_string();
        }
        Ok(Overdue {
            scope: summary.scope().clone(),
            considered,
            overdue,
            rows,
        })
    }
}
