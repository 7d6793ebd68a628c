//! Discounted customer lifetime value: expected purchases from a purchase model, times
//! expected spend from Gamma-Gamma, times margin, discounted per period.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::GammaGamma;
use crate::data::{Area, ScopeTag};
use crate::error::{Error, Result};
use crate::summary::{groups_by_x_t, PurchaseModel, Records};

/// Horizon, period, discount rate and margin of a lifetime-value computation.
///
/// The value of a customer is
///
/// ```text
/// CLV = Σ_{k=1..H} margin · E[spend] · (E[X(k·L)] − E[X((k−1)·L)]) / (1 + d)^k
/// ```
///
/// with E[X(t)] the model's expected purchases in (T, T + t] given the customer's
/// history, L the period length in the model's time unit, and purchases of period k
/// discounted at its end. The defaults are lifetimes' convention for a model fitted in
/// weeks: H = 12 months of L = 4.345 weeks, d = 1% per month, margin 1 (revenue).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClvOptions {
    periods: u32,
    period_length: f64,
    discount: f64,
    margin: f64,
}

impl Default for ClvOptions {
    fn default() -> Self {
        ClvOptions {
            periods: 12,
            period_length: 4.345,
            discount: 0.01,
            margin: 1.0,
        }
    }
}

impl ClvOptions {
    /// The defaults (12 months of 4.345 weeks, 1% per month, margin 1).
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of periods H (≥ 1).
    pub fn periods(mut self, h: u32) -> Self {
        self.periods = h;
        self
    }

    /// Period length L, in the purchase model's time unit (> 0): 4.345 for months when
    /// the model is in weeks, 30.4375 when it is in days.
    pub fn period_length(mut self, l: f64) -> Self {
        self.period_length = l;
        self
    }

    /// Discount rate per period d (≥ 0).
    pub fn discount(mut self, d: f64) -> Self {
        self.discount = d;
        self
    }

    /// Margin: the share of spend that is profit (1 values revenue).
    pub fn margin(mut self, m: f64) -> Self {
        self.margin = m;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if self.periods == 0 {
            return Err(Error::option("periods", 0, "at least 1"));
        }
        if !(self.period_length > 0.0 && self.period_length.is_finite()) {
            return Err(Error::option(
                "period_length",
                self.period_length,
                "a positive finite number",
            ));
        }
        if !(self.discount >= 0.0 && self.discount.is_finite()) {
            return Err(Error::option(
                "discount",
                self.discount,
                "a finite rate ≥ 0",
            ));
        }
        if !self.margin.is_finite() {
            return Err(Error::option("margin", self.margin, "a finite number"));
        }
        Ok(())
    }
}

impl ClvOptions {
    /// Lifetime value of every record, in parallel, index-aligned with `records`, and
    /// their sum.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (naming the option and its value) for bad options;
    /// [`Error::ForbiddenArea`] when the records' scope forbids profitability.
    pub fn compute<M: PurchaseModel + ?Sized>(
        &self,
        purchases: &M,
        spend: &GammaGamma,
        records: &Records,
    ) -> Result<Clv> {
        let opts = self;
        opts.validate()?;
        records.scope().require(Area::Profitability)?;
        let factors: Vec<f64> = (1..=opts.periods)
            .map(|k| (1.0 + opts.discount).powi(-(k as i32)))
            .collect();
        // CLV = margin · E[spend] · P(alive) · Σₖ fₖ (Eₖ − Eₖ₋₁), where Eₖ is the expectation
        // of a customer alive at T: the sum depends on (x, T) only, so it is computed once per
        // distinct pair.
        let (keys, group) = groups_by_x_t(records);
        let per_group: Vec<f64> = keys
            .par_iter()
            .map(|&(x, t)| {
                let (mut prev, mut sum) = (0.0, 0.0);
                for (k, f) in factors.iter().enumerate() {
                    let horizon = (k + 1) as f64 * opts.period_length;
                    let e = purchases.expected_purchases_if_alive(horizon, x, t);
                    sum += (e - prev) * f;
                    prev = e;
                }
                sum
            })
            .collect();
        let p_alive = purchases.p_alive_all(records);
        let values: Vec<f64> = records
            .par_iter()
            .zip(p_alive)
            .zip(group)
            .map(|((r, p), g)| {
                let m = opts.margin * spend.conditional_expected_spend(r.x, r.mean_spend);
                m * p * per_group[g as usize]
            })
            .collect();
        Ok(Clv {
            scope: records.scope().clone(),
            equity: customer_equity(&values),
            values,
        })
    }
}

/// Lifetime values of a summary's customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Clv {
    /// The scope of the records valued.
    pub scope: ScopeTag,
    /// Each customer's lifetime value, index-aligned with the records.
    pub values: Vec<f64>,
    /// Customer equity: their sum (in record order).
    pub equity: f64,
}

/// Customer equity: the sum of lifetime values, in order (the same bits for any number of
/// threads).
pub fn customer_equity(values: &[f64]) -> f64 {
    values.iter().sum()
}
