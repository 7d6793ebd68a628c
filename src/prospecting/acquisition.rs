//! New customers per period from a scoped view, by customer category or acquisition
//! channel, and their Bass acquisition forecasts.
//!
//! A customer is acquired on their first purchase ([`is_purchase`]) on or before the
//! as-of date, or on the acquisition date of the customer table
//! ([`AcquisitionDate::CustomerTable`]). Period 1 is the calendar period (week, month,
//! quarter or year) of the launch date (by default the earliest acquisition in the
//! view), and the series runs through the last period complete on the as-of date: a
//! partial last period would understate its new customers, so its acquisitions are left
//! out (and counted). Each group's series is fitted by [`BassOptions`], in parallel.
//!
//! ```
//! use acrm::data::{CustomerRecord, TransactionRecord};
//! use acrm::prospecting::{AcquisitionOptions, BassOptions, GroupBy};
//! use acrm::{Dataset, Period, Scope};
//! use chrono::NaiveDate;
//!
//! let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
//! let mut b = Dataset::builder().customers([CustomerRecord {
//!     customer_id: "c1".into(),
//!     channel: Some("web".into()),
//!     ..CustomerRecord::default()
//! }]);
//! b.push(TransactionRecord::new("c1", day(2024, 1, 5), 10.0))?;
//! b.push(TransactionRecord::new("c2", day(2024, 2, 9), 20.0))?;
//! b.push(TransactionRecord::new("c1", day(2024, 3, 1), 15.0))?;
//! let data = b.build()?.dataset;
//! let series = AcquisitionOptions::new(day(2024, 3, 31))
//!     .period(Period::Month)
//!     .by(GroupBy::Channel)
//!     .series(&data.view(&Scope::all()))?;
//! // c2 has no channel in the customer table.
//! assert_eq!(series.groups[0].label, "(unknown)");
//! assert_eq!(series.groups[0].series.values(), [0.0, 1.0, 0.0]);
//! assert_eq!(series.groups[1].series.values(), [1.0, 0.0, 0.0]);
//! # Ok::<(), acrm::Error>(())
//! ```

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bass::{Bass, BassOptions, BassReport, Series};
use crate::data::{is_purchase, Area, ChannelIdx, RegionIdx, ScopeTag, View};
use crate::error::{Error, Result};
use crate::numerics::Fitted;
use crate::time::{day_number, Period};

/// The label of customers without a value of the grouping attribute.
pub const UNKNOWN: &str = "(unknown)";

/// What splits the customers into series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupBy {
    /// One series of every customer, labelled `all`.
    All,
    /// The customer table's acquisition channel.
    Channel,
    /// The customer table's region.
    Region,
    /// A free attribute of the customer table (a category, a segment).
    Attribute(String),
}

/// When a customer counts as acquired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AcquisitionDate {
    /// The day of their first purchase in the log.
    FirstPurchase,
    /// The customer table's acquisition date (customers without one are left out).
    CustomerTable,
}

/// Settings of the acquisition series: as-of date (inclusive), period (default month),
/// launch date (default: the earliest acquisition), grouping (default all customers)
/// and acquisition date (default the first purchase).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquisitionOptions {
    as_of: NaiveDate,
    period: Period,
    launch: Option<NaiveDate>,
    by: GroupBy,
    date: AcquisitionDate,
}

/// One group's new customers per period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcquisitionGroup {
    /// The group's value of the attribute ([`UNKNOWN`] for customers without one).
    pub label: String,
    /// The new customers of periods 1, …, n (carrying the view's scope).
    pub series: Series,
    /// Customers acquired before the launch period (not in the series).
    pub before_launch: u64,
    /// Customers acquired in the partial period after the last complete one (not in the
    /// series).
    pub after_last_period: u64,
}

/// The series of every group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcquisitionSeries {
    /// The scope of the view.
    pub scope: ScopeTag,
    /// The period length.
    pub period: Period,
    /// First day of period 1.
    pub launch: NaiveDate,
    /// Complete periods in every series.
    pub periods: u32,
    /// The groups, labels ascending.
    pub groups: Vec<AcquisitionGroup>,
    /// Customers of the view not acquired on or before the as-of date: no purchase by
    /// then, or (with [`AcquisitionDate::CustomerTable`]) no acquisition date by then.
    #[serde(default)]
    pub not_acquired: u64,
}

/// One group's Bass fit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcquisitionFit {
    /// The group's series.
    pub group: AcquisitionGroup,
    /// The fitted curve and its report, or `None` when the fit failed.
    pub fit: Option<Fitted<Bass, BassReport>>,
    /// Why the fit failed (the message of the typed error [`BassOptions::fit`] returned).
    pub error: Option<String>,
}

/// The acquisition forecast of every group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcquisitionForecast {
    /// The scope of the view.
    pub scope: ScopeTag,
    /// The period length.
    pub period: Period,
    /// First day of period 1.
    pub launch: NaiveDate,
    /// Complete periods observed.
    pub periods: u32,
    /// One fit per group, labels ascending.
    pub groups: Vec<AcquisitionFit>,
}

impl AcquisitionOptions {
    /// Monthly series of all customers through `as_of`.
    pub fn new(as_of: NaiveDate) -> Self {
        AcquisitionOptions {
            as_of,
            period: Period::Month,
            launch: None,
            by: GroupBy::All,
            date: AcquisitionDate::FirstPurchase,
        }
    }

    /// The period length.
    pub fn period(mut self, period: Period) -> Self {
        self.period = period;
        self
    }

    /// The launch date: its period is period 1 (on or before the as-of date).
    pub fn launch(mut self, date: NaiveDate) -> Self {
        self.launch = Some(date);
        self
    }

    /// What splits the customers into series.
    pub fn by(mut self, by: GroupBy) -> Self {
        self.by = by;
        self
    }

    /// When a customer counts as acquired.
    pub fn acquisition(mut self, date: AcquisitionDate) -> Self {
        self.date = date;
        self
    }

    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a launch after the as-of date.
    pub fn validate(&self) -> Result<()> {
        match self.launch {
            Some(l) if l > self.as_of => Err(Error::option(
                "launch",
                l,
                format!("a date on or before the as-of date {}", self.as_of),
            )),
            _ => Ok(()),
        }
    }

    /// Counts the new customers of each group per period: one parallel pass over the
    /// view's customers, then counts added in customer order.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (see [`validate`](Self::validate));
    /// [`Error::ForbiddenArea`] when the scope forbids prospecting;
    /// [`Error::HiddenColumn`] when the grouping's column (channel, region) is hidden;
    /// [`Error::EmptyInput`] when nobody was acquired on or before the as-of date;
    /// [`Error::Degenerate`] when no period between launch and as-of date is complete.
    pub fn series(&self, view: &View<'_>) -> Result<AcquisitionSeries> {
        self.validate()?;
        view.require(Area::Prospecting)?;
        let as_of = day_number(self.as_of);
        let channels = match self.by {
            GroupBy::Channel => Some(view.channel_names()?),
            _ => None,
        };
        let regions = match self.by {
            GroupBy::Region => Some(view.region_names()?),
            _ => None,
        };
        let label = |k: usize| -> &str {
            match &self.by {
                GroupBy::All => "all",
                GroupBy::Channel => match (view.customer_channel(k), channels) {
                    (Some(ChannelIdx(c)), Some(names)) => names.name(c as usize),
                    _ => UNKNOWN,
                },
                GroupBy::Region => match (view.customer_region(k), regions) {
                    (Some(RegionIdx(r)), Some(names)) => names.name(r as usize),
                    _ => UNKNOWN,
                },
                GroupBy::Attribute(name) => view.attribute(k, name).unwrap_or(UNKNOWN),
            }
        };
        // Per customer: the day acquired and the group label.
        let acquired: Vec<Option<(i32, &str)>> = (0..view.len())
            .into_par_iter()
            .map(|k| {
                let day = match self.date {
                    AcquisitionDate::FirstPurchase => {
                        let h = view.history(k);
                        (0..h.len())
                            .find(|&i| is_purchase(h.amounts[i]) && h.days[i] <= as_of)
                            .map(|i| h.days[i])
                    }
                    AcquisitionDate::CustomerTable => {
                        view.acquired(k).map(day_number).filter(|&d| d <= as_of)
                    }
                }?;
                Some((day, label(k)))
            })
            .collect();
        let first = acquired
            .iter()
            .flatten()
            .map(|a| a.0)
            .min()
            .ok_or(Error::EmptyInput)?;
        let period = self.period;
        let launch = period.index(self.launch.map_or(first, day_number));
        // Periods through the last one that ends on or before the as-of date.
        let end = period.index(as_of + 1);
        if end <= launch {
            return Err(Error::Degenerate {
                input: "as_of".into(),
                reason: format!(
                    "no {period:?} period from the launch to {} is complete",
                    self.as_of
                ),
            });
        }
        let n = (end - launch) as usize;
        let mut labels: Vec<&str> = acquired.iter().flatten().map(|a| a.1).collect();
        labels.sort_unstable();
        labels.dedup();
        let mut counts = vec![vec![0.0; n]; labels.len()];
        let mut before = vec![0u64; labels.len()];
        let mut after = vec![0u64; labels.len()];
        for &(day, l) in acquired.iter().flatten() {
            let g = labels.partition_point(|x| *x < l);
            let t = period.index(day) - launch;
            if t < 0 {
                before[g] += 1;
            } else if t as usize >= n {
                after[g] += 1;
            } else {
                counts[g][t as usize] += 1.0;
            }
        }
        let groups = labels
            .iter()
            .zip(counts)
            .enumerate()
            .map(|(g, (l, values))| {
                Ok(AcquisitionGroup {
                    label: l.to_string(),
                    series: Series::new(values)?.with_scope(view.scope().clone()),
                    before_launch: before[g],
                    after_last_period: after[g],
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let not_acquired = acquired.iter().filter(|a| a.is_none()).count() as u64;
        Ok(AcquisitionSeries {
            scope: view.scope().clone(),
            period,
            launch: period.start(launch),
            periods: n as u32,
            groups,
            not_acquired,
        })
    }

    /// The series of every group (see [`series`](Self::series)), each fitted by `bass`
    /// in parallel; a group whose fit fails (too few periods, no new customers) keeps
    /// its series and the error's message.
    ///
    /// # Errors
    /// As [`series`](Self::series); [`Error::InvalidOption`] for invalid `bass` options.
    pub fn fit(&self, view: &View<'_>, bass: &BassOptions) -> Result<AcquisitionForecast> {
        bass.validate()?;
        let s = self.series(view)?;
        let all: Vec<Series> = s.groups.iter().map(|g| g.series.clone()).collect();
        let fits = bass.fit_groups(&all);
        let groups = s
            .groups
            .into_iter()
            .zip(fits)
            .map(|(group, fit)| match fit {
                Ok(f) => AcquisitionFit {
                    group,
                    fit: Some(f),
                    error: None,
                },
                Err(e) => AcquisitionFit {
                    group,
                    fit: None,
                    error: Some(e.to_string()),
                },
            })
            .collect();
        Ok(AcquisitionForecast {
            scope: s.scope,
            period: s.period,
            launch: s.launch,
            periods: s.periods,
            groups,
        })
    }
}
