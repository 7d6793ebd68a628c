//! Customer lifetimes as survival data: how long customers stay, with the ones still
//! active right-censored at the as-of date.
//!
//! - Noncontractual (a transaction log): a customer has churned once a gap without
//!   purchases exceeds a threshold. The lifetime starts at the first purchase and ends
//!   when the gap exceeded the threshold (last purchase before it + the threshold, the day
//!   churn became observable), or, on request, at that last purchase. Only the first spell
//!   counts: a customer who comes back after churning has churned once.
//! - Contractual (the customer table): the start is the customer's acquisition date, the
//!   end a date attribute (a cancellation date), absent while the contract runs.
//!
//! Durations are in days.

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::survival::SurvivalData;
use crate::data::{CustomerIdx, Customers, Dataset};
use crate::error::{Error, Result};
use crate::time::{date_of, day_number};

/// Where a noncontractual lifetime ends once the customer has churned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LifetimeEnd {
    /// At the last purchase + the churn gap: the day the churn became observable. With
    /// censoring at the as-of date this is the consistent choice (a customer whose last
    /// purchase is more recent than the gap is still at risk).
    GapEnd,
    /// At the last purchase before the gap (the customer's last sign of life).
    LastPurchase,
}

/// Settings for customer lifetimes: the as-of date (inclusive), the churn gap in days
/// (default 365) and where a churned lifetime ends (default [`LifetimeEnd::GapEnd`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LifetimeOptions {
    as_of: NaiveDate,
    churn_gap_days: u32,
    end: LifetimeEnd,
}

/// Customer lifetimes: who, from when, and the survival data (durations in days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lifetimes {
    /// The customers, in dataset order (those with a start on or before the as-of date).
    pub customers: Vec<CustomerIdx>,
    /// Start of each lifetime.
    pub starts: Vec<NaiveDate>,
    /// Durations (days) and churn flags, index-aligned with `customers`.
    pub survival: SurvivalData,
}

impl LifetimeOptions {
    /// Lifetimes as of `as_of`, with the default churn gap of 365 days.
    pub fn new(as_of: NaiveDate) -> Self {
        LifetimeOptions {
            as_of,
            churn_gap_days: 365,
            end: LifetimeEnd::GapEnd,
        }
    }

    /// Days without a purchase after which a customer counts as churned (≥ 1).
    pub fn churn_gap_days(mut self, days: u32) -> Self {
        self.churn_gap_days = days;
        self
    }

    /// Where a churned lifetime ends.
    pub fn end(mut self, end: LifetimeEnd) -> Self {
        self.end = end;
        self
    }

    /// Noncontractual lifetimes from the transaction log: purchase days (positive amounts)
    /// on or before the as-of date; returns do not count as activity.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a zero churn gap; [`Error::EmptyInput`] when no
    /// customer purchased on or before the as-of date.
    pub fn from_log(&self, data: &Dataset) -> Result<Lifetimes> {
        if self.churn_gap_days == 0 {
            return Err(Error::option("churn_gap_days", 0, "at least 1 day"));
        }
        let log = data.transactions();
        let (days, amounts) = (log.days(), log.amounts());
        let as_of = day_number(self.as_of);
        let gap = i64::from(self.churn_gap_days);
        let per: Vec<Option<(i32, f64, bool)>> = (0..log.n_customers())
            .into_par_iter()
            .map(|c| {
                let range = log.range(CustomerIdx(c as u32));
                let mut first: Option<i32> = None;
                let mut last = 0i32;
                for i in range {
                    if amounts[i] <= 0.0 || days[i] > as_of {
                        continue;
                    }
                    match first {
                        None => {
                            first = Some(days[i]);
                            last = days[i];
                        }
                        Some(_) if i64::from(days[i]) - i64::from(last) > gap => break,
                        Some(_) => last = days[i],
                    }
                }
                let first = first?;
                // Churned when the silence after `last` exceeds the gap: a later purchase
                // beyond the gap (where the scan stopped) lies on or before the as-of
                // date, so one test covers both ways the silence can be seen.
                let churn_day = i64::from(last) + gap;
                let churned = churn_day < i64::from(as_of);
                let end = if !churned {
                    i64::from(as_of)
                } else {
                    match self.end {
                        LifetimeEnd::GapEnd => churn_day,
                        LifetimeEnd::LastPurchase => i64::from(last),
                    }
                };
                Some((first, (end - i64::from(first)) as f64, churned))
            })
            .collect();
        let mut customers = Vec::new();
        let (mut starts, mut durations, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for (c, p) in per.into_iter().enumerate() {
            if let Some((first, d, e)) = p {
                customers.push(CustomerIdx(c as u32));
                starts.push(date_of(first));
                durations.push(d);
                events.push(e);
            }
        }
        if customers.is_empty() {
            return Err(Error::EmptyInput);
        }
        Ok(Lifetimes {
            customers,
            starts,
            survival: SurvivalData::new(durations, events)?,
        })
    }

    /// Contractual lifetimes from the customer table: start at the acquisition date, end
    /// at the date in attribute `end_attribute` (empty or absent: still a customer).
    /// Customers acquired after the as-of date, or without an acquisition date, are left
    /// out; an end after the as-of date is not yet known (censored at the as-of date).
    ///
    /// # Errors
    /// [`Error::BadValue`] (input `customers`, the customer's row, field `end_attribute`)
    /// naming the value of an end date that does not parse (YYYY-MM-DD) or precedes the
    /// start; [`Error::EmptyInput`] when no customer has an acquisition date on or before
    /// the as-of date.
    pub fn from_contracts(
        &self,
        customers_table: &Customers,
        end_attribute: &str,
    ) -> Result<Lifetimes> {
        let as_of = day_number(self.as_of);
        let mut customers = Vec::new();
        let (mut starts, mut durations, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for c in 0..customers_table.len() {
            let idx = CustomerIdx(c as u32);
            let Some(start) = customers_table.acquired(idx) else {
                continue;
            };
            let s = day_number(start);
            if s > as_of {
                continue;
            }
            let end = match customers_table.attribute(idx, end_attribute).map(str::trim) {
                None | Some("") => None,
                Some(v) => {
                    let bad = |expected: String| {
                        Error::bad_value("customers", c, end_attribute, v, expected)
                    };
                    let date = NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .map_err(|_| bad("a date (YYYY-MM-DD)".into()))?;
                    if date < start {
                        return Err(bad(format!(
                            "a date on or after the acquisition date {start}"
                        )));
                    }
                    Some(day_number(date))
                }
            };
            let (end, churned) = match end {
                Some(e) if e <= as_of => (e, true),
                _ => (as_of, false),
            };
            customers.push(idx);
            starts.push(start);
            durations.push(f64::from(end - s));
            events.push(churned);
        }
        if customers.is_empty() {
            return Err(Error::EmptyInput);
        }
        Ok(Lifetimes {
            customers,
            starts,
            survival: SurvivalData::new(durations, events)?,
        })
    }
}
