//! Per-customer sufficient statistics as of a date: the RFM inputs of every purchase
//! model (repeat frequency x, recency t_x, age T), spend, revenue, margin and purchase
//! rhythm, with an optional calibration/holdout split and a compact form for fitting.
//!
//! Conventions of the literature (Fader, Hardie & Lee 2005; lifetimes
//! `summary_data_from_transaction_data`):
//! - the summary date is inclusive: purchases on it count; T = summary date − first purchase;
//! - purchases of one customer on the same day are one purchase occasion, spend summed;
//! - the first purchase is not a repeat purchase: x = purchase days − 1, and the mean
//!   repeat spend averages the x repeat days (0 when x = 0);
//! - returns (negative amounts) never make a purchase occasion: they net revenue and
//!   margin and are reported apart;
//! - customers without a purchase on or before the date are not in the summary (counted
//!   in [`Coverage`]).
//!
//! Statistics are integer day counts and sums, exact to merge and to update; a unit
//! `U` only converts on the way out.

use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

use chrono::NaiveDate;
use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod record;

pub(crate) use record::{group_by, groups_by_x_t};
pub use record::{score, PurchaseModel, Rfm, Score};

use crate::data::{count_orders, CustomerIdx, Dataset, Interner, OrderIdx, TransactionLog};
use crate::error::{Error, Result};
use crate::time::{date_of, day_number, Span, TimeUnit};

/// The running statistics of one customer: everything the summary reports, in a form
/// that can absorb later transactions and merge (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CustomerState {
    first_day: i32,
    last_day: i32,
    purchase_days: u32,
    purchases: u32,
    orders: u32,
    returns: u32,
    first_spend: f64,
    repeat_spend: f64,
    returned: f64,
    cost: f64,
    /// Sum of squared gaps between purchase days, in days² (exact in integers).
    gap_sq: u64,
}

impl CustomerState {
    const EMPTY: CustomerState = CustomerState {
        first_day: 0,
        last_day: 0,
        purchase_days: 0,
        purchases: 0,
        orders: 0,
        returns: 0,
        first_spend: 0.0,
        repeat_spend: 0.0,
        returned: 0.0,
        cost: 0.0,
        gap_sq: 0,
    };

    /// Absorbs one transaction dated on or after the last one absorbed.
    #[inline]
    fn absorb(&mut self, day: i32, amount: f64, cost: f64) {
        self.cost += cost;
        if amount < 0.0 {
            self.returns += 1;
            self.returned += amount;
            return;
        }
        self.purchases += 1;
        if self.purchase_days == 0 {
            self.first_day = day;
            self.last_day = day;
            self.purchase_days = 1;
            self.first_spend = amount;
        } else if day == self.last_day {
            if day == self.first_day {
                self.first_spend += amount;
            } else {
                self.repeat_spend += amount;
            }
        } else {
            let gap = u64::from(day.abs_diff(self.last_day));
            self.gap_sq += gap * gap;
            self.purchase_days += 1;
            self.last_day = day;
            self.repeat_spend += amount;
        }
    }

    /// Absorbs rows `range` of the log columns `cols`, whose days are all after
    /// `self.last_day`. `buf` is scratch space for counting distinct order ids, reused
    /// across customers.
    fn absorb_rows(
        &mut self,
        cols: &Cols<'_>,
        range: std::ops::Range<usize>,
        buf: &mut Vec<OrderIdx>,
    ) {
        let before = self.purchases;
        match cols.costs {
            Some(costs) => {
                for i in range.clone() {
                    self.absorb(cols.days[i], cols.amounts[i], costs[i]);
                }
            }
            None => {
                for i in range.clone() {
                    self.absorb(cols.days[i], cols.amounts[i], 0.0);
                }
            }
        }
        self.orders += match cols.orders {
            None => self.purchases - before,
            o => count_orders(o, cols.amounts, range, buf),
        };
    }

    /// Input rows absorbed (purchases and returns).
    fn rows(&self) -> u64 {
        u64::from(self.purchases) + u64::from(self.returns)
    }

    /// Repeat purchases x.
    pub fn frequency(&self) -> u32 {
        self.purchase_days.saturating_sub(1)
    }

    /// Spend on purchases (returns excluded).
    pub fn purchase_spend(&self) -> f64 {
        self.first_spend + self.repeat_spend
    }
}

/// The log columns a summary reads.
struct Cols<'a> {
    offsets: &'a [usize],
    days: &'a [i32],
    amounts: &'a [f64],
    costs: Option<&'a [f64]>,
    orders: Option<&'a [OrderIdx]>,
}

impl<'a> Cols<'a> {
    fn of(log: &'a TransactionLog) -> Self {
        Cols {
            offsets: log.offsets(),
            days: log.days(),
            amounts: log.amounts(),
            costs: log.costs(),
            orders: log.orders(),
        }
    }

    /// Rows of customer `c`, and the end of those on or before `day`.
    #[inline]
    fn rows(&self, c: usize, day: i32) -> (std::ops::Range<usize>, usize) {
        let (lo, hi) = (self.offsets[c], self.offsets[c + 1]);
        // Most customers have a handful of rows: a linear scan beats a binary search.
        let mut cut = lo;
        while cut < hi && self.days[cut] <= day {
            cut += 1;
        }
        (lo..hi, cut)
    }
}

/// Where each input row went (rows in = `transactions + excluded_transactions +
/// later_transactions`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Coverage {
    /// Customers in the input without a purchase on or before the summary date (not yet
    /// acquired, or only returns): not in the summary.
    pub excluded_customers: u64,
    /// Rows on or before the date of summarised customers.
    pub transactions: u64,
    /// Rows on or before the date of excluded customers (their returns).
    pub excluded_transactions: u64,
    /// Rows after the date (holdout or later; not in the summary's statistics).
    pub later_transactions: u64,
}

impl Coverage {
    fn add(&mut self, o: &Coverage) {
        self.excluded_customers += o.excluded_customers;
        self.transactions += o.transactions;
        self.excluded_transactions += o.excluded_transactions;
        self.later_transactions += o.later_transactions;
    }
}

/// Options of a summary: the (inclusive) calibration end and an optional holdout end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryOptions {
    calibration_end: NaiveDate,
    holdout_end: Option<NaiveDate>,
}

/// One customer's summary in unit `U`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct CustomerSummary<U: TimeUnit> {
    /// Repeat purchases (purchase days after the first).
    pub x: u32,
    /// Recency: time from the first to the last purchase.
    pub t_x: Span<U>,
    /// Age: time from the first purchase to the summary date.
    pub t: Span<U>,
    /// Mean spend per repeat purchase day (0 when x = 0).
    pub mean_spend: f64,
    /// Revenue: all amounts, returns netted.
    pub revenue: f64,
    /// Revenue − cost, when the log has costs.
    pub margin: Option<f64>,
    /// Sum of returned amounts (≤ 0).
    pub returned: f64,
    /// Date of the first purchase.
    pub first_purchase: NaiveDate,
    /// Date of the last purchase.
    pub last_purchase: NaiveDate,
    /// Orders: distinct order ids among purchases when the log has them, else purchase
    /// rows. After [`Summary::update`], an order id that appears both before and after the
    /// old summary date counts twice (orders do not span days in practice).
    pub orders: u32,
    /// Mean gap between purchase days (x ≥ 1).
    pub gap_mean: Option<Span<U>>,
    /// Coefficient of variation of the gaps (sample standard deviation / mean; x ≥ 2).
    pub gap_cv: Option<f64>,
}

/// A repeated (x, t_x, T) pattern with its number of customers, in unit `U`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Pattern {
    /// Repeat purchases.
    pub x: u32,
    /// Recency.
    pub t_x: f64,
    /// Age.
    pub t: f64,
    /// Customers with this pattern.
    pub count: u32,
}

/// Distinct (x, t_x, T) patterns with counts, sorted by (x, t_x, T): what a likelihood
/// needs, often ten times fewer rows than customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Compact<U: TimeUnit> {
    /// The patterns, in unit `U`.
    pub patterns: Vec<Pattern>,
    #[serde(skip)]
    unit: PhantomData<U>,
}

/// Per-customer purchases in the holdout period (calibration end, holdout end].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Holdout<U: TimeUnit> {
    start: i32,
    end: i32,
    /// Purchase days in the holdout period, index-aligned with the calibration summary.
    pub purchases: Vec<u32>,
    /// Spend (returns excluded) in the holdout period, index-aligned likewise.
    pub spend: Vec<f64>,
    #[serde(skip)]
    unit: PhantomData<U>,
}

impl<U: TimeUnit> Holdout<U> {
    /// Length of the holdout period.
    pub fn length(&self) -> Span<U> {
        Span::from_days(f64::from(self.end - self.start))
    }
    /// First day after the calibration period.
    pub fn start(&self) -> NaiveDate {
        date_of(self.start + 1)
    }
    /// Last day of the holdout period (inclusive).
    pub fn end(&self) -> NaiveDate {
        date_of(self.end)
    }
    /// Total purchases in the holdout period.
    pub fn total_purchases(&self) -> u64 {
        self.purchases.iter().map(|&p| u64::from(p)).sum()
    }
}

/// A calibration summary with the holdout purchases of its customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Split<U: TimeUnit> {
    /// The calibration summary.
    pub calibration: Summary<U>,
    /// Holdout purchases, index-aligned with `calibration`.
    pub holdout: Holdout<U>,
}

/// Per-customer summaries as of a date, in unit `U` (see the module documentation).
///
/// Rows are the customers with a purchase on or before the date, in the order of their
/// index in the dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Summary<U: TimeUnit> {
    as_of: i32,
    ids: Arc<Interner>,
    customer: Vec<CustomerIdx>,
    state: Vec<CustomerState>,
    /// Customers without a purchase yet but with returns on or before the date: kept so
    /// that an update which brings their first purchase nets those returns too.
    pending: BTreeMap<CustomerIdx, CustomerState>,
    has_cost: bool,
    coverage: Coverage,
    #[serde(skip)]
    unit: PhantomData<U>,
}

impl SummaryOptions {
    /// A summary as of `calibration_end` (inclusive).
    pub fn new(calibration_end: NaiveDate) -> Self {
        SummaryOptions {
            calibration_end,
            holdout_end: None,
        }
    }

    /// Adds a holdout period (calibration end, `end`], used by [`split`](Self::split).
    pub fn holdout_end(mut self, end: NaiveDate) -> Self {
        self.holdout_end = Some(end);
        self
    }

    /// The per-customer summary as of the calibration end.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] when no customer has a purchase on or before the date.
    pub fn summarize<U: TimeUnit>(&self, data: &Dataset) -> Result<Summary<U>> {
        Ok(self.run(data, None)?.0)
    }

    /// The calibration summary with holdout purchase counts and spend.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (option `holdout_end`) without a holdout end or with one
    /// not after the calibration end; [`Error::EmptyInput`] as for
    /// [`summarize`](Self::summarize).
    pub fn split<U: TimeUnit>(&self, data: &Dataset) -> Result<Split<U>> {
        let end = match self.holdout_end {
            Some(e) if e > self.calibration_end => day_number(e),
            given => {
                return Err(Error::option(
                    "holdout_end",
                    given.map_or_else(|| "none".to_string(), |e| e.to_string()),
                    format!("a date after the calibration end {}", self.calibration_end),
                ))
            }
        };
        let (calibration, holdout) = self.run(data, Some(end))?;
        Ok(Split {
            calibration,
            holdout,
        })
    }

    /// The summary and, when `holdout_end` is given, the holdout counts (empty otherwise).
    fn run<U: TimeUnit>(
        &self,
        data: &Dataset,
        holdout_end: Option<i32>,
    ) -> Result<(Summary<U>, Holdout<U>)> {
        let log = data.transactions();
        let as_of = day_number(self.calibration_end);
        let n = log.n_customers();
        let cols = Cols::of(log);
        // Every customer's statistics, written in place into one presized vector: at
        // millions of customers, per-block buffers and their concatenation (a copy and
        // its page faults) cost more than the arithmetic. Each customer's sums run in time
        // order, so the result is the same for any number of threads.
        let mut state = Vec::new();
        (0..n)
            .into_par_iter()
            .with_min_len(1024)
            .map_init(Vec::new, |buf, c| {
                let (rows, cut) = cols.rows(c, as_of);
                let mut s = CustomerState::EMPTY;
                s.absorb_rows(&cols, rows.start..cut, buf);
                s
            })
            .collect_into_vec(&mut state);
        // Customers without a purchase by the date are rare (acquired later, or returns
        // only): when there are none, the vector is the summary as it stands.
        let included = |s: &CustomerState| s.purchase_days > 0;
        // Integer sums: exact, so the same in any order.
        let (excluded, rows) = state
            .par_iter()
            .map(|s| (u64::from(!included(s)), s.rows()))
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
        let mut pending = BTreeMap::new();
        let mut excluded_transactions = 0;
        let customer: Vec<CustomerIdx> = if excluded == 0 {
            (0..n as u32).into_par_iter().map(CustomerIdx).collect()
        } else {
            for (c, s) in state.iter().enumerate().filter(|(_, s)| !included(s)) {
                excluded_transactions += s.rows();
                if s.rows() > 0 {
                    pending.insert(CustomerIdx(c as u32), *s);
                }
            }
            let customer = (0..n as u32)
                .into_par_iter()
                .filter(|&c| included(&state[c as usize]))
                .map(CustomerIdx)
                .collect();
            state.retain(included);
            customer
        };
        let transactions = rows - excluded_transactions;
        let coverage = Coverage {
            excluded_customers: excluded,
            transactions,
            excluded_transactions,
            later_transactions: log.len() as u64 - transactions - excluded_transactions,
        };
        let (mut purchases, mut spend) = (Vec::new(), Vec::new());
        if let Some(end) = holdout_end {
            customer
                .par_iter()
                .with_min_len(1024)
                .map(|&c| {
                    let (rows, cut) = cols.rows(c.get(), as_of);
                    let (mut hp, mut hs, mut last) = (0u32, 0.0f64, as_of);
                    for i in cut..rows.end {
                        let (d, a) = (cols.days[i], cols.amounts[i]);
                        if d > end {
                            break;
                        }
                        if a >= 0.0 {
                            hp += u32::from(d != last);
                            last = d;
                            hs += a;
                        }
                    }
                    (hp, hs)
                })
                .unzip_into_vecs(&mut purchases, &mut spend);
        }
        if state.is_empty() {
            return Err(Error::EmptyInput);
        }
        let holdout = Holdout {
            start: as_of,
            end: holdout_end.unwrap_or(as_of),
            purchases,
            spend,
            unit: PhantomData,
        };
        let summary = Summary {
            as_of,
            ids: Arc::clone(&data.customers().ids),
            customer,
            state,
            pending,
            has_cost: log.costs().is_some(),
            coverage,
            unit: PhantomData,
        };
        Ok((summary, holdout))
    }
}

impl<U: TimeUnit> Summary<U> {
    /// Columns of [`to_array`](Self::to_array).
    pub const COLUMNS: [&'static str; 5] = ["x", "t_x", "T", "mean_spend", "revenue"];

    /// Number of customers (rows).
    pub fn len(&self) -> usize {
        self.state.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// The summary date.
    pub fn as_of(&self) -> NaiveDate {
        date_of(self.as_of)
    }

    /// Where the input rows went.
    pub fn coverage(&self) -> Coverage {
        self.coverage
    }

    /// Whether margins are known (the log had costs).
    pub fn has_cost(&self) -> bool {
        self.has_cost
    }

    /// External id of row `i`.
    pub fn id(&self, i: usize) -> &str {
        self.ids.name(self.customer[i].get())
    }

    /// Dataset index of row `i` (valid for the dataset the summary was computed from).
    pub fn customer(&self, i: usize) -> CustomerIdx {
        self.customer[i]
    }

    /// Row of an external id.
    pub fn row(&self, id: &str) -> Option<usize> {
        let c = CustomerIdx(self.ids.get(id)?);
        self.customer.binary_search(&c).ok()
    }

    /// The running statistics of row `i` (for exact comparisons and merging).
    pub fn state(&self, i: usize) -> &CustomerState {
        &self.state[i]
    }

    /// Repeat purchases of row `i`.
    pub fn x(&self, i: usize) -> u32 {
        self.state[i].frequency()
    }

    /// Recency of row `i`.
    pub fn t_x(&self, i: usize) -> Span<U> {
        let s = &self.state[i];
        Span::from_days(f64::from(s.last_day - s.first_day))
    }

    /// Age of row `i`.
    pub fn t(&self, i: usize) -> Span<U> {
        Span::from_days(f64::from(self.as_of - self.state[i].first_day))
    }

    /// Mean repeat spend of row `i` (0 when x = 0).
    pub fn mean_spend(&self, i: usize) -> f64 {
        let s = &self.state[i];
        match s.frequency() {
            0 => 0.0,
            x => s.repeat_spend / f64::from(x),
        }
    }

    /// Everything known about row `i`.
    pub fn get(&self, i: usize) -> CustomerSummary<U> {
        let s = &self.state[i];
        let x = s.frequency();
        let revenue = s.first_spend + s.repeat_spend + s.returned;
        let span = f64::from(s.last_day - s.first_day);
        let gap_cv = (x >= 2).then(|| {
            let xf = f64::from(x);
            let mean = span / xf;
            // Sample variance from the exact integer sums: (Σg² − x·mean²) / (x − 1).
            let var = ((s.gap_sq as f64) - xf * mean * mean).max(0.0) / (xf - 1.0);
            if mean > 0.0 {
                var.sqrt() / mean
            } else {
                0.0
            }
        });
        CustomerSummary {
            x,
            t_x: self.t_x(i),
            t: self.t(i),
            mean_spend: self.mean_spend(i),
            revenue,
            margin: self.has_cost.then_some(revenue - s.cost),
            returned: s.returned,
            first_purchase: date_of(s.first_day),
            last_purchase: date_of(s.last_day),
            orders: s.orders,
            gap_mean: (x >= 1).then(|| Span::from_days(span / f64::from(x))),
            gap_cv,
        }
    }

    /// Total repeat purchases Σx.
    pub fn repeat_purchases(&self) -> u64 {
        self.state.iter().map(|s| u64::from(s.frequency())).sum()
    }

    /// Customers with x = 0.
    pub fn zero_repeat_customers(&self) -> usize {
        self.state.iter().filter(|s| s.purchase_days == 1).count()
    }

    /// Total revenue (returns netted), summed in row order.
    pub fn total_revenue(&self) -> f64 {
        self.state
            .iter()
            .map(|s| s.first_spend + s.repeat_spend + s.returned)
            .sum()
    }

    /// Revenue per row (returns netted), index-aligned.
    pub fn revenues(&self) -> Vec<f64> {
        self.state
            .iter()
            .map(|s| s.first_spend + s.repeat_spend + s.returned)
            .collect()
    }

    /// The same summary in another unit (free: statistics are kept in days).
    pub fn in_unit<V: TimeUnit>(self) -> Summary<V> {
        Summary {
            as_of: self.as_of,
            ids: self.ids,
            customer: self.customer,
            state: self.state,
            pending: self.pending,
            has_cost: self.has_cost,
            coverage: self.coverage,
            unit: PhantomData,
        }
    }

    /// Columns x, t_x, T, mean repeat spend, revenue ([`Self::COLUMNS`]) as a matrix,
    /// ready for `linfa::DatasetBase::from`.
    pub fn to_array(&self) -> Array2<f64> {
        let mut a = Array2::zeros((self.len(), Self::COLUMNS.len()));
        for (i, mut row) in a.outer_iter_mut().enumerate() {
            let s = &self.state[i];
            row[0] = f64::from(s.frequency());
            row[1] = self.t_x(i).value();
            row[2] = self.t(i).value();
            row[3] = self.mean_spend(i);
            row[4] = s.first_spend + s.repeat_spend + s.returned;
        }
        a
    }

    /// Distinct (x, t_x, T) patterns with counts. Grouping is on integer days, so it is
    /// exact.
    pub fn compact(&self) -> Compact<U> {
        let mut keys: Vec<(u32, i32, i32)> = self
            .state
            .par_iter()
            .map(|s| {
                (
                    s.frequency(),
                    s.last_day - s.first_day,
                    self.as_of - s.first_day,
                )
            })
            .collect();
        keys.par_sort_unstable();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut prev = None;
        for k in keys {
            if prev == Some(k) {
                // `patterns` is non-empty once `prev` is set.
                if let Some(p) = patterns.last_mut() {
                    p.count += 1;
                }
            } else {
                patterns.push(Pattern {
                    x: k.0,
                    t_x: f64::from(k.1) / U::DAYS,
                    t: f64::from(k.2) / U::DAYS,
                    count: 1,
                });
                prev = Some(k);
            }
        }
        Compact {
            patterns,
            unit: PhantomData,
        }
    }

    /// Absorbs transactions dated after the summary date up to `as_of`, without the
    /// history: the summary becomes the one of the combined log as of `as_of`. New
    /// customers become new rows. Rows of `new` after `as_of` are counted in
    /// [`Coverage::later_transactions`].
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when `as_of` is before the summary date; [`Error::Merge`]
    /// when `new` has costs and the summary not (or the reverse), as for
    /// [`merge`](Self::merge); [`Error::StaleTransaction`] for a
    /// transaction dated on or before the summary date (it may already be counted).
    pub fn update(&mut self, new: &Dataset, as_of: NaiveDate) -> Result<()> {
        let to = day_number(as_of);
        if to < self.as_of {
            return Err(Error::option(
                "as_of",
                as_of,
                format!("a date on or after the summary date {}", self.as_of()),
            ));
        }
        let log = new.transactions();
        if log.costs().is_some() != self.has_cost && !log.is_empty() {
            return Err(Error::Merge {
                reason: if self.has_cost {
                    "the summary has costs and the update not".into()
                } else {
                    "the update has costs and the summary not".into()
                },
            });
        }
        for c in 0..log.n_customers() {
            let c = CustomerIdx(c as u32);
            let h = log.history(c);
            if let Some(&d) = h.days.first() {
                if d <= self.as_of {
                    return Err(Error::StaleTransaction {
                        customer: new.customers().id(c).to_string(),
                        date: date_of(d),
                        as_of: self.as_of(),
                    });
                }
            }
        }
        // Every id already in `ids` was in an input summarised before, so it is either a
        // row or counted in `excluded_customers`.
        let mut added = false;
        let mut buf = Vec::new();
        let cols = Cols::of(log);
        for c in 0..log.n_customers() {
            let (rows, end) = cols.rows(c, to);
            let c = CustomerIdx(c as u32);
            let (range, cut) = (rows.start..end, end - rows.start);
            self.coverage.later_transactions += (rows.end - end) as u64;
            let id = new.customers().id(c);
            if let Some(r) = self.row(id) {
                self.state[r].absorb_rows(&cols, range, &mut buf);
                self.coverage.transactions += cut as u64;
                continue;
            }
            let (idx, known) = match self.ids.get(id) {
                Some(i) => (CustomerIdx(i), true),
                None => (CustomerIdx(Arc::make_mut(&mut self.ids).intern(id)), false),
            };
            let mut s = self.pending.remove(&idx).unwrap_or(CustomerState::EMPTY);
            let earlier = s.rows();
            s.absorb_rows(&cols, range, &mut buf);
            if s.purchase_days == 0 {
                self.coverage.excluded_customers += u64::from(!known);
                self.coverage.excluded_transactions += cut as u64;
                if s.rows() > 0 {
                    self.pending.insert(idx, s);
                }
                continue;
            }
            self.coverage.excluded_customers = self
                .coverage
                .excluded_customers
                .saturating_sub(u64::from(known));
            self.coverage.excluded_transactions =
                self.coverage.excluded_transactions.saturating_sub(earlier);
            self.coverage.transactions += earlier + cut as u64;
            self.customer.push(idx);
            self.state.push(s);
            added = true;
        }
        self.as_of = to;
        if added {
            self.sort_rows();
        }
        Ok(())
    }

    /// Restores row order by dataset index after rows were appended out of order.
    fn sort_rows(&mut self) {
        if self.customer.windows(2).all(|w| w[0] < w[1]) {
            return;
        }
        let mut rows: Vec<(CustomerIdx, CustomerState)> = self
            .customer
            .iter()
            .copied()
            .zip(self.state.iter().copied())
            .collect();
        rows.sort_unstable_by_key(|r| r.0);
        (self.customer, self.state) = rows.into_iter().unzip();
    }

    /// Merges the summary of a disjoint set of customers as of the same date.
    ///
    /// # Errors
    /// [`Error::Merge`] when the dates or the presence of costs differ, or a customer is in
    /// both.
    pub fn merge(mut self, other: Summary<U>) -> Result<Summary<U>> {
        if self.as_of != other.as_of {
            return Err(Error::Merge {
                reason: format!(
                    "summary dates {} and {} differ",
                    self.as_of(),
                    other.as_of()
                ),
            });
        }
        if self.has_cost != other.has_cost {
            return Err(Error::Merge {
                reason: "one summary has costs and the other not".into(),
            });
        }
        if let Some(i) = (0..other.len()).find(|&i| self.row(other.id(i)).is_some()) {
            return Err(Error::Merge {
                reason: format!("customer `{}` is in both summaries", other.id(i)),
            });
        }
        // All of the other's ids come along, so its excluded customers stay known.
        let ids = Arc::make_mut(&mut self.ids);
        let map: Vec<CustomerIdx> = other
            .ids
            .iter()
            .map(|id| CustomerIdx(ids.intern(id)))
            .collect();
        self.customer
            .extend(other.customer.iter().map(|c| map[c.get()]));
        self.state.extend_from_slice(&other.state);
        self.pending
            .extend(other.pending.iter().map(|(c, s)| (map[c.get()], *s)));
        self.coverage.add(&other.coverage);
        self.sort_rows();
        Ok(self)
    }
}
