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

use crate::data::{is_purchase, Area, Rows, View};
use crate::error::{Error, Result};
use crate::numerics::survival::SurvivalData;
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

/// Where lifetimes come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum LifetimeSource {
    /// The transaction log: a lifetime ends after a silence of the churn gap.
    Log,
    /// The customer table: acquisition dates, and end dates in the named attribute.
    Contracts {
        /// The attribute holding each contract's end date (`YYYY-MM-DD`; empty or absent
        /// while the contract runs).
        end_attribute: String,
    },
}

/// Settings for customer lifetimes: the as-of date (inclusive), the source (default the
/// log), the churn gap in days (default 365) and where a churned lifetime ends (default
/// [`LifetimeEnd::GapEnd`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LifetimeOptions {
    as_of: NaiveDate,
    source: LifetimeSource,
    churn_gap_days: u32,
    end: LifetimeEnd,
}

/// Customer lifetimes: who, from when, and the survival data (durations in days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lifetimes {
    /// The customers (those of the view with a start on or before the as-of date), and
    /// the scope.
    pub rows: Rows,
    /// Start of each lifetime.
    pub starts: Vec<NaiveDate>,
    /// Durations (days) and churn flags, index-aligned with `rows`.
    pub survival: SurvivalData,
}

impl LifetimeOptions {
    /// Lifetimes as of `as_of`, with the default churn gap of 365 days.
    pub fn new(as_of: NaiveDate) -> Self {
        LifetimeOptions {
            as_of,
            source: LifetimeSource::Log,
            churn_gap_days: 365,
            end: LifetimeEnd::GapEnd,
        }
    }

    /// Contractual lifetimes from the customer table instead of the log: start at the
    /// acquisition date, end at the date in attribute `end_attribute` (empty or absent:
    /// still a customer). Customers acquired after the as-of date, or without an
    /// acquisition date, are left out; an end after the as-of date is not yet known
    /// (censored at the as-of date).
    pub fn from_contracts(mut self, end_attribute: &str) -> Self {
        self.source = LifetimeSource::Contracts {
            end_attribute: end_attribute.to_string(),
        };
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a zero churn gap.
    pub fn validate(&self) -> Result<()> {
        if self.churn_gap_days == 0 {
            return Err(Error::option("churn_gap_days", 0, "at least 1 day"));
        }
        Ok(())
    }

    /// The lifetimes of the view's customers, from the source set (see
    /// [`from_contracts`](Self::from_contracts)).
    ///
    /// From the log: purchase days ([`is_purchase`]) on or before the as-of date; returns
    /// do not count as activity.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a zero churn gap; [`Error::ForbiddenArea`] when the
    /// scope forbids persistency; [`Error::EmptyInput`] when no customer of the view
    /// purchased (or, from contracts, was acquired) on or before the as-of date;
    /// [`Error::BadValue`] naming the customer row and value of an end date that does not
    /// parse or precedes the start.
    pub fn compute(&self, view: &View<'_>) -> Result<Lifetimes> {
        self.validate()?;
        view.require(Area::Persistency)?;
        match &self.source {
            LifetimeSource::Log => self.of_log(view),
            LifetimeSource::Contracts { end_attribute } => self.contracts(view, end_attribute),
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

    fn of_log(&self, view: &View<'_>) -> Result<Lifetimes> {
        let as_of = day_number(self.as_of);
        let gap = i64::from(self.churn_gap_days);
        let per: Vec<Option<(i32, f64, bool)>> = (0..view.len())
            .into_par_iter()
            .map(|k| {
                let h = view.history(k);
                let (days, amounts) = (h.days, h.amounts);
                let mut first: Option<i32> = None;
                let mut last = 0i32;
                for i in 0..h.len() {
                    if !is_purchase(amounts[i]) || days[i] > as_of {
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
        let rows = view.rows_where(|k| per[k].is_some());
        let (mut starts, mut durations, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for (first, d, e) in per.into_iter().flatten() {
            starts.push(date_of(first));
            durations.push(d);
            events.push(e);
        }
        if rows.is_empty() {
            return Err(Error::EmptyInput);
        }
        let survival = SurvivalData::new(durations, events)?.with_scope(view.scope().clone());
        Ok(Lifetimes {
            rows,
            starts,
            survival,
        })
    }

    fn contracts(&self, view: &View<'_>, end_attribute: &str) -> Result<Lifetimes> {
        let as_of = day_number(self.as_of);
        // Start and end (day numbers) of each customer of the view with a contract
        // started by the as-of date.
        let mut per: Vec<Option<(NaiveDate, i32)>> = Vec::with_capacity(view.len());
        for k in 0..view.len() {
            let Some(start) = view.acquired(k).filter(|&s| day_number(s) <= as_of) else {
                per.push(None);
                continue;
            };
            let end = match view.attribute(k, end_attribute).map(str::trim) {
                None | Some("") => None,
                Some(v) => {
                    let bad = |expected: String| {
                        Error::bad_value("customers", k, end_attribute, v, expected)
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
            per.push(Some((
                start,
                end.filter(|&e| e <= as_of).unwrap_or(i32::MAX),
            )));
        }
        let rows = view.rows_where(|k| per[k].is_some());
        if rows.is_empty() {
            return Err(Error::EmptyInput);
        }
        let (mut starts, mut durations, mut events) = (Vec::new(), Vec::new(), Vec::new());
        for (start, end) in per.into_iter().flatten() {
            let churned = end != i32::MAX;
            let end = if churned { end } else { as_of };
            starts.push(start);
            durations.push(f64::from(end - day_number(start)));
            events.push(churned);
        }
        let survival = SurvivalData::new(durations, events)?.with_scope(view.scope().clone());
        Ok(Lifetimes {
            rows,
            starts,
            survival,
        })
    }
}
