//! Cohort retention tables: customers grouped by the period of their first purchase
//! (week, month or quarter), followed period by period since.
//!
//! For acquisition cohort c and period k since acquisition (k = 0 is the acquisition
//! period itself): the share of the cohort that purchased in period k, its revenue in k
//! (returns netted) relative to period 0, and the cumulative revenue per acquired
//! customer through k. Periods start on or before the as-of date; the last one is
//! usually partial (`complete` says so).

use chrono::{Duration, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{is_purchase, Area, ScopeTag, View};
use crate::error::{Error, Result};
use crate::time::{day_number, Period};

/// The length of a cohort period (the crate's calendar [`Period`]).
pub type CohortPeriod = Period;

/// Settings of a cohort table: the as-of date (inclusive) and the period (default month).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CohortOptions {
    as_of: NaiveDate,
    period: CohortPeriod,
}

/// One acquisition cohort followed through the periods since acquisition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortRow {
    /// First day of the acquisition period.
    pub start: NaiveDate,
    /// Customers acquired (first purchase) in the period.
    pub customers: u64,
    /// Per period since acquisition: customers of the cohort who purchased in it.
    pub active: Vec<u64>,
    /// Per period: `active` / `customers`.
    pub active_share: Vec<f64>,
    /// Per period: the cohort's net revenue.
    pub revenue: Vec<f64>,
    /// Per period: revenue / revenue in the acquisition period.
    pub revenue_retention: Vec<f64>,
    /// Per period: cumulative revenue through it / `customers`.
    pub cumulative_revenue_per_customer: Vec<f64>,
    /// Whether the last period listed ended on or before the as-of date.
    pub complete: bool,
}

/// A cohort retention table, cohorts in time order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CohortTable {
    /// The scope the table was computed under.
    pub scope: ScopeTag,
    /// The period length.
    pub period: CohortPeriod,
    /// The as-of date.
    pub as_of: NaiveDate,
    /// The cohorts, oldest first (periods without acquisitions are left out).
    pub cohorts: Vec<CohortRow>,
}

impl CohortOptions {
    /// Monthly cohorts as of `as_of`.
    pub fn new(as_of: NaiveDate) -> Self {
        CohortOptions {
            as_of,
            period: Period::Month,
        }
    }

    /// The period length.
    pub fn period(mut self, period: CohortPeriod) -> Self {
        self.period = period;
        self
    }

    /// Checks the options (any date and period will do).
    ///
    /// # Errors
    /// None; present so that every options type validates the same way.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Builds the table of the view's customers: one parallel pass over customers,
    /// counts added per cohort and period in customer order (revenue sums do not depend
    /// on the thread count). A customer is acquired at their first purchase
    /// ([`is_purchase`]) and active in a period with a purchase in it.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids persistency; [`Error::EmptyInput`]
    /// when nobody purchased on or before the as-of date.
    pub fn compute(&self, view: &View<'_>) -> Result<CohortTable> {
        view.require(Area::Persistency)?;
        let as_of = day_number(self.as_of);
        let period = self.period;
        let last = period.index(as_of);
        // Per customer: acquisition period and the (offset, revenue, purchased) it adds.
        type Cells = Vec<(u32, f64, bool)>;
        let per: Vec<Option<(i32, Cells)>> = (0..view.len())
            .into_par_iter()
            .map(|k| {
                let h = view.history(k);
                let (days, amounts) = (h.days, h.amounts);
                let first = (0..h.len())
                    .find(|&i| is_purchase(amounts[i]) && days[i] <= as_of)
                    .map(|i| days[i])?;
                let p0 = period.index(first);
                let mut cells: Cells = Vec::new();
                for i in 0..h.len() {
                    if days[i] > as_of || days[i] < first {
                        continue;
                    }
                    let k = (period.index(days[i]) - p0) as u32;
                    let bought = is_purchase(amounts[i]);
                    match cells.last_mut() {
                        Some(cell) if cell.0 == k => {
                            cell.1 += amounts[i];
                            cell.2 |= bought;
                        }
                        _ => cells.push((k, amounts[i], bought)),
                    }
                }
                Some((p0, cells))
            })
            .collect();
        let first_period = per
            .iter()
            .flatten()
            .map(|p| p.0)
            .min()
            .ok_or(Error::EmptyInput)?;
        let width = (last - first_period + 1) as usize;
        let mut customers = vec![0u64; width];
        let mut active: Vec<Vec<u64>> = (0..width).map(|c| vec![0; width - c]).collect();
        let mut revenue: Vec<Vec<f64>> = (0..width).map(|c| vec![0.0; width - c]).collect();
        for (p0, cells) in per.into_iter().flatten() {
            let c = (p0 - first_period) as usize;
            customers[c] += 1;
            for (k, r, bought) in cells {
                revenue[c][k as usize] += r;
                active[c][k as usize] += u64::from(bought);
            }
        }
        let cohorts = (0..width)
            .filter(|&c| customers[c] > 0)
            .map(|c| {
                let n = customers[c] as f64;
                let base = revenue[c][0];
                let mut cumulative = 0.0;
                let end_of_last = period.start(last + 1) - Duration::days(1);
                CohortRow {
                    start: period.start(first_period + c as i32),
                    customers: customers[c],
                    active_share: active[c].iter().map(|&a| a as f64 / n).collect(),
                    active: std::mem::take(&mut active[c]),
                    revenue_retention: revenue[c].iter().map(|r| r / base).collect(),
                    cumulative_revenue_per_customer: revenue[c]
                        .iter()
                        .map(|r| {
                            cumulative += r;
                            cumulative / n
                        })
                        .collect(),
                    revenue: std::mem::take(&mut revenue[c]),
                    complete: end_of_last <= self.as_of,
                }
            })
            .collect();
        Ok(CohortTable {
            scope: view.scope().clone(),
            period,
            as_of: self.as_of,
            cohorts,
        })
    }
}
