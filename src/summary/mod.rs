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

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;

use chrono::NaiveDate;
use ndarray::Array2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

mod form;
mod record;

pub(crate) use record::{group_by, groups_by_x_t};
pub use record::{score, PurchaseModel, Records, Rfm, Score};

use crate::data::{
    count_orders, is_purchase, Column, ColumnState, Core, CustomerIdx, Interner, OrderIdx, Rows,
    ScopeTag, View,
};
use crate::error::{Error, Result};
use crate::numerics::{FitData, FixedSum};
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
    // Money sums are order-independent (see `FixedSum`): the same bits for any thread
    // count, and for partial states merged by a query engine in any order.
    first_spend: FixedSum,
    repeat_spend: FixedSum,
    returned: FixedSum,
    cost: FixedSum,
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
        first_spend: FixedSum::ZERO,
        repeat_spend: FixedSum::ZERO,
        returned: FixedSum::ZERO,
        cost: FixedSum::ZERO,
        gap_sq: 0,
    };

    /// Absorbs one transaction dated on or after the last one absorbed.
    #[inline]
    fn absorb(&mut self, day: i32, amount: f64, cost: f64) {
        self.cost.add(cost);
        if !is_purchase(amount) {
            self.returns += 1;
            self.returned.add(amount);
            return;
        }
        self.purchases += 1;
        if self.purchase_days == 0 {
            self.first_day = day;
            self.last_day = day;
            self.purchase_days = 1;
            self.first_spend = FixedSum::of(amount);
        } else if day == self.last_day {
            if day == self.first_day {
                self.first_spend.add(amount);
            } else {
                self.repeat_spend.add(amount);
            }
        } else {
            let gap = u64::from(day.abs_diff(self.last_day));
            self.gap_sq += gap * gap;
            self.purchase_days += 1;
            self.last_day = day;
            self.repeat_spend.add(amount);
        }
    }

    /// Absorbs rows `range` of a customer's history (`costs` when the summary reads
    /// them), whose days are all after `self.last_day`. `buf` is scratch space for
    /// counting distinct order ids, reused across customers.
    fn absorb_rows(
        &mut self,
        h: &Core<'_>,
        range: std::ops::Range<usize>,
        buf: &mut Vec<OrderIdx>,
    ) {
        let before = self.purchases;
        match h.costs {
            Some(costs) => {
                for i in range.clone() {
                    self.absorb(h.days[i], h.amounts[i], costs[i]);
                }
            }
            None => {
                for i in range.clone() {
                    self.absorb(h.days[i], h.amounts[i], 0.0);
                }
            }
        }
        self.orders += match h.orders {
            None => self.purchases - before,
            o => count_orders(o, h.amounts, range, buf),
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
        (self.first_spend + self.repeat_spend).value()
    }

    /// Revenue: purchases less returns.
    pub fn revenue(&self) -> f64 {
        (self.first_spend + self.repeat_spend + self.returned).value()
    }

    /// Mean repeat spend (0 when x = 0).
    pub fn mean_spend(&self) -> f64 {
        match self.frequency() {
            0 => 0.0,
            x => self.repeat_spend.value() / f64::from(x),
        }
    }
}

/// The index of `id` in `ids`, interned when new: the interner is usually the dataset's,
/// shared, and copied only then.
fn intern(ids: &mut Arc<Interner>, id: &str) -> CustomerIdx {
    CustomerIdx(match ids.get(id) {
        Some(c) => c,
        None => Arc::make_mut(ids).intern(id),
    })
}

/// Rows of a history on or before `day` (histories are in time order).
#[inline]
fn upto(days: &[i32], day: i32) -> usize {
    // Most customers have a handful of rows: a linear scan beats a binary search.
    days.iter().take_while(|&&d| d <= day).count()
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

/// Options of a summary: its (inclusive) date.
///
/// ```
/// use acrm::data::{Dataset, Scope, TransactionRecord};
/// use acrm::{Days, SummaryOptions};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
/// let mut b = Dataset::builder();
/// b.extend([
///     TransactionRecord::new("ann", d(1, 2), 10.0),
///     TransactionRecord::new("ann", d(1, 9), 30.0),
///     TransactionRecord::new("bob", d(1, 5), 5.0),
/// ])?;
/// let data = b.build()?.dataset;
/// let summary = SummaryOptions::new(d(1, 31)).compute::<Days>(&data.view(&Scope::all()))?;
/// let ann = summary.get(summary.row("ann").unwrap());
/// assert_eq!((ann.x, ann.t_x.value(), ann.t.value(), ann.mean_spend), (1, 7.0, 29.0, 30.0));
/// assert_eq!(summary.scope().kind, "all");
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryOptions {
    calibration_end: NaiveDate,
}

/// Options of a calibration/holdout split: the (inclusive) calibration end and the
/// (inclusive) end of the holdout period after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SplitOptions {
    calibration_end: NaiveDate,
    holdout_end: NaiveDate,
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
    /// Revenue − cost, when the log has costs and the scope shows costs and margins
    /// (see [`Summary::margins`] for an error that says which).
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

/// Per-customer features of a summary, in days, computed once from its statistics: what
/// clustering, churn scores and any later analysis read instead of rebuilding recency,
/// tenure and regularity from the log. Index-aligned with the summary (and its rows).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerFeatures {
    /// The customers, and the scope they were read under.
    pub rows: Rows,
    /// Days from the last purchase to the summary date (T − t_x).
    pub recency_days: Vec<f64>,
    /// Days from the first purchase to the summary date (T).
    pub tenure_days: Vec<f64>,
    /// Distinct purchase days (x + 1).
    pub purchase_days: Vec<u32>,
    /// Spend on purchases (returns excluded).
    pub spend: Vec<f64>,
    /// Revenue, returns netted.
    pub revenue: Vec<f64>,
    /// Sum of returned amounts (≤ 0).
    pub returned: Vec<f64>,
    /// Orders (distinct order ids among purchases, else purchase rows).
    pub orders: Vec<u32>,
    /// Mean days between purchase days (at least two purchase days).
    pub gap_mean_days: Vec<Option<f64>>,
    /// Coefficient of variation of those gaps (at least three purchase days): the
    /// customer's regularity, 0 for a perfectly regular buyer.
    pub gap_cv: Vec<Option<f64>>,
}

impl CustomerFeatures {
    /// Number of customers.
    pub fn len(&self) -> usize {
        self.recency_days.len()
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.recency_days.is_empty()
    }
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
    /// The scope of the summary they came from.
    pub scope: ScopeTag,
    #[serde(skip)]
    unit: PhantomData<U>,
}

impl<U: TimeUnit> FitData<Pattern> for Compact<U> {
    fn rows(&self) -> &[Pattern] {
        &self.patterns
    }
    fn scope(&self) -> Option<&ScopeTag> {
        Some(&self.scope)
    }
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
/// Rows are the customers of the view with a purchase on or before the date, in the
/// order of their index in the dataset; [`rows`](Self::rows) says which, and under which
/// scope.
///
/// It serialises with the external ids of its own customers only (see [`Rows`]); read
/// back, it is a summary of those customers, ready to [`update`](Self::update) and
/// [`merge`](Self::merge), and equal to the one written.
#[derive(Debug, Clone)]
pub struct Summary<U: TimeUnit> {
    as_of: i32,
    rows: Rows,
    state: Vec<CustomerState>,
    /// The customers counted in [`Coverage::excluded_customers`]. An update needs the set:
    /// an id the dataset's interner knows may be a customer outside the summary's scope.
    excluded: BTreeSet<CustomerIdx>,
    /// Those of them with returns on or before the date: kept so that an update which
    /// brings their first purchase nets those returns too.
    pending: BTreeMap<CustomerIdx, CustomerState>,
    has_cost: bool,
    coverage: Coverage,
    unit: PhantomData<U>,
}

impl SummaryOptions {
    /// A summary as of `calibration_end` (inclusive).
    pub fn new(calibration_end: NaiveDate) -> Self {
        SummaryOptions { calibration_end }
    }

    /// Checks the options (there is nothing to check: any date will do).
    ///
    /// # Errors
    /// None; present so that every options type validates the same way.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// The per-customer summary of the view's customers as of the date.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] when no customer of the view has a purchase on or before the
    /// date.
    pub fn compute<U: TimeUnit>(&self, view: &View<'_>) -> Result<Summary<U>> {
        Ok(run(view, day_number(self.calibration_end), None)?.0)
    }
}

impl SplitOptions {
    /// A calibration summary as of `calibration_end` with the holdout purchases up to
    /// `holdout_end`.
    pub fn new(calibration_end: NaiveDate, holdout_end: NaiveDate) -> Self {
        SplitOptions {
            calibration_end,
            holdout_end,
        }
    }

    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (`holdout_end`) for a holdout end not after the
    /// calibration end.
    pub fn validate(&self) -> Result<()> {
        if self.holdout_end > self.calibration_end {
            Ok(())
        } else {
            Err(Error::option(
                "holdout_end",
                self.holdout_end,
                format!("a date after the calibration end {}", self.calibration_end),
            ))
        }
    }

    /// The calibration summary of the view's customers with their holdout purchase
    /// counts and spend.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::EmptyInput`] as for
    /// [`SummaryOptions::compute`].
    pub fn compute<U: TimeUnit>(&self, view: &View<'_>) -> Result<Split<U>> {
        self.validate()?;
        let (calibration, holdout) = run(
            view,
            day_number(self.calibration_end),
            Some(day_number(self.holdout_end)),
        )?;
        Ok(Split {
            calibration,
            holdout,
        })
    }
}

/// Whether the summary reads costs: the view shows the cost column and margins.
fn reads_costs(view: &View<'_>) -> bool {
    view.column(Column::Margin) == ColumnState::Present && view.costs().is_ok()
}

/// The summary as of `as_of` and, when `holdout_end` is given, the holdout counts (empty
/// otherwise).
fn run<U: TimeUnit>(
    view: &View<'_>,
    as_of: i32,
    holdout_end: Option<i32>,
) -> Result<(Summary<U>, Holdout<U>)> {
    let n = view.len();
    let costs = reads_costs(view);
    // Every customer's statistics (and holdout counts), written in place into presized
    // vectors: at millions of customers, per-block buffers and their concatenation (a
    // copy and its page faults) cost more than the arithmetic. Each customer's sums run
    // in time order, so the result is the same for any number of threads.
    let mut state = Vec::new();
    let mut held: Vec<(u32, f64)> = Vec::new();
    let per_customer = |buf: &mut Vec<OrderIdx>, k: usize| {
        let mut h = view.core(k);
        if !costs {
            h.costs = None;
        }
        let cut = upto(h.days, as_of);
        let mut s = CustomerState::EMPTY;
        s.absorb_rows(&h, 0..cut, buf);
        let mut hold = (0u32, 0.0f64);
        if let Some(end) = holdout_end {
            let mut last = as_of;
            for i in cut..h.days.len() {
                let (d, a) = (h.days[i], h.amounts[i]);
                if d > end {
                    break;
                }
                if is_purchase(a) {
                    hold.0 += u32::from(d != last);
                    last = d;
                    hold.1 += a;
                }
            }
        }
        (s, hold)
    };
    if holdout_end.is_some() {
        (0..n)
            .into_par_iter()
            .with_min_len(1024)
            .map_init(Vec::new, per_customer)
            .unzip_into_vecs(&mut state, &mut held);
    } else {
        (0..n)
            .into_par_iter()
            .with_min_len(1024)
            .map_init(Vec::new, |buf, k| per_customer(buf, k).0)
            .collect_into_vec(&mut state);
    }
    // Customers without a purchase by the date are rare (acquired later, or returns
    // only): when there are none, the vectors are the summary as they stand.
    let included = |s: &CustomerState| s.purchase_days > 0;
    // Integer sums: exact, so the same in any order.
    let (excluded, rows) = state
        .par_iter()
        .map(|s| (u64::from(!included(s)), s.rows()))
        .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1));
    let mut pending = BTreeMap::new();
    let mut excluded_set = BTreeSet::new();
    let mut excluded_transactions = 0;
    let summary_rows = if excluded == 0 {
        view.rows()
    } else {
        for (k, s) in state.iter().enumerate().filter(|(_, s)| !included(s)) {
            excluded_set.insert(view.customer(k));
            excluded_transactions += s.rows();
            if s.rows() > 0 {
                pending.insert(view.customer(k), *s);
            }
        }
        let rows = view.rows_where(|k| included(&state[k]));
        if !held.is_empty() {
            let mut k = 0;
            held.retain(|_| {
                k += 1;
                included(&state[k - 1])
            });
        }
        state.retain(included);
        rows
    };
    if state.is_empty() {
        return Err(Error::EmptyInput);
    }
    let transactions = rows - excluded_transactions;
    let coverage = Coverage {
        excluded_customers: excluded,
        transactions,
        excluded_transactions,
        later_transactions: view.transactions() as u64 - transactions - excluded_transactions,
    };
    let (purchases, spend) = held.into_iter().unzip();
    let holdout = Holdout {
        start: as_of,
        end: holdout_end.unwrap_or(as_of),
        purchases,
        spend,
        unit: PhantomData,
    };
    let summary = Summary {
        as_of,
        rows: summary_rows,
        state,
        excluded: excluded_set,
        pending,
        has_cost: costs,
        coverage,
        unit: PhantomData,
    };
    Ok((summary, holdout))
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
        self.rows.id(i)
    }

    /// Dataset index of row `i` (valid for the dataset the summary was computed from).
    pub fn customer(&self, i: usize) -> CustomerIdx {
        self.rows.customer(i)
    }

    /// Row of an external id.
    pub fn row(&self, id: &str) -> Option<usize> {
        self.rows.row(id)
    }

    /// The customers of the rows, and the scope they were read under.
    pub fn rows(&self) -> &Rows {
        &self.rows
    }

    /// The scope the summary was computed under.
    pub fn scope(&self) -> &ScopeTag {
        self.rows.scope()
    }

    /// Revenue − cost per row.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] when the scope hides costs or margins;
    /// [`Error::MissingColumn`] (`cost`) when the log has no cost column.
    pub fn margins(&self) -> Result<Vec<f64>> {
        let scope = self.scope();
        scope.reveal(Column::Margin)?;
        scope.reveal(Column::Cost)?;
        if !self.has_cost {
            return Err(Error::MissingColumn {
                column: "cost".into(),
                available: vec!["customer".into(), "date".into(), "amount".into()],
            });
        }
        Ok(self
            .state
            .iter()
            .map(|s| (s.first_spend + s.repeat_spend + s.returned - s.cost).value())
            .collect())
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
        self.state[i].mean_spend()
    }

    /// Everything known about row `i`.
    pub fn get(&self, i: usize) -> CustomerSummary<U> {
        let s = &self.state[i];
        let x = s.frequency();
        let revenue = s.revenue();
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
            margin: self
                .has_cost
                .then(|| (s.first_spend + s.repeat_spend + s.returned - s.cost).value()),
            returned: s.returned.value(),
            first_purchase: date_of(s.first_day),
            last_purchase: date_of(s.last_day),
            orders: s.orders,
            gap_mean: (x >= 1).then(|| Span::from_days(span / f64::from(x))),
            gap_cv,
        }
    }

    /// The per-customer feature frame (see [`CustomerFeatures`]), index-aligned with the
    /// summary.
    pub fn features(&self) -> CustomerFeatures {
        let n = self.len();
        let mut f = CustomerFeatures {
            rows: self.rows.clone(),
            recency_days: Vec::with_capacity(n),
            tenure_days: Vec::with_capacity(n),
            purchase_days: Vec::with_capacity(n),
            spend: Vec::with_capacity(n),
            revenue: Vec::with_capacity(n),
            returned: Vec::with_capacity(n),
            orders: Vec::with_capacity(n),
            gap_mean_days: Vec::with_capacity(n),
            gap_cv: Vec::with_capacity(n),
        };
        for (i, s) in self.state.iter().enumerate() {
            let c = self.get(i);
            f.recency_days.push(f64::from(self.as_of - s.last_day));
            f.tenure_days.push(f64::from(self.as_of - s.first_day));
            f.purchase_days.push(s.purchase_days);
            f.spend.push(s.purchase_spend());
            f.revenue.push(c.revenue);
            f.returned.push(s.returned.value());
            f.orders.push(s.orders);
            f.gap_mean_days.push(c.gap_mean.map(Span::days));
            f.gap_cv.push(c.gap_cv);
        }
        f
    }

    /// Total repeat purchases Σx.
    pub fn repeat_purchases(&self) -> u64 {
        self.state.iter().map(|s| u64::from(s.frequency())).sum()
    }

    /// Customers with x = 0.
    pub fn zero_repeat_customers(&self) -> usize {
        self.state.iter().filter(|s| s.purchase_days == 1).count()
    }

    /// Total revenue (returns netted), an exact sum in any order.
    pub fn total_revenue(&self) -> f64 {
        self.state
            .iter()
            .fold(FixedSum::ZERO, |t, s| {
                t + s.first_spend + s.repeat_spend + s.returned
            })
            .value()
    }

    /// Revenue per row (returns netted), index-aligned.
    pub fn revenues(&self) -> Vec<f64> {
        self.state.iter().map(CustomerState::revenue).collect()
    }

    /// The same summary in another unit (free: statistics are kept in days).
    pub fn in_unit<V: TimeUnit>(self) -> Summary<V> {
        Summary {
            as_of: self.as_of,
            rows: self.rows,
            state: self.state,
            excluded: self.excluded,
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
            row[4] = s.revenue();
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
            scope: self.scope().clone(),
            unit: PhantomData,
        }
    }

    /// Absorbs transactions dated after the summary date up to `as_of`, without the
    /// history: the summary becomes the one of the combined log as of `as_of`. New
    /// customers become new rows. Rows of `new` after `as_of` are counted in
    /// [`Coverage::later_transactions`]. A customer the summary has not counted before
    /// (new to the data, or outside the summary's scope) is a new customer of the
    /// combined input, summarised or excluded.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when `as_of` is before the summary date; [`Error::Merge`]
    /// when `new` has costs and the summary not (or the reverse), as for
    /// [`merge`](Self::merge); [`Error::StaleTransaction`] for a
    /// transaction dated on or before the summary date (it may already be counted).
    pub fn update(&mut self, new: &View<'_>, as_of: NaiveDate) -> Result<()> {
        let to = day_number(as_of);
        if to < self.as_of {
            return Err(Error::option(
                "as_of",
                as_of,
                format!("a date on or after the summary date {}", self.as_of()),
            ));
        }
        let costs = reads_costs(new);
        if costs != self.has_cost && new.transactions() > 0 {
            return Err(Error::Merge {
                reason: if self.has_cost {
                    "the summary has costs and the update not".into()
                } else {
                    "the update has costs and the summary not".into()
                },
            });
        }
        for k in 0..new.len() {
            if let Some(&d) = new.history(k).days.first() {
                if d <= self.as_of {
                    return Err(Error::StaleTransaction {
                        customer: new.id(k).to_string(),
                        date: date_of(d),
                        as_of: self.as_of(),
                    });
                }
            }
        }
        let (tag, mut ids, mut customer) = self.take_rows();
        let tag = tag.merge(new.scope());
        let mut buf = Vec::new();
        for k in 0..new.len() {
            let mut h = new.core(k);
            if !costs {
                h.costs = None;
            }
            let end = upto(h.days, to);
            self.coverage.later_transactions += (h.days.len() - end) as u64;
            let id = new.id(k);
            let known = ids.get(id).map(CustomerIdx);
            if let Some(r) = known.and_then(|c| customer.binary_search(&c).ok()) {
                self.state[r].absorb_rows(&h, 0..end, &mut buf);
                self.coverage.transactions += end as u64;
                continue;
            }
            // An id the interner knows may be a customer outside the summary's scope: only
            // the excluded set says whether the customer was counted before.
            let idx = known.unwrap_or_else(|| intern(&mut ids, id));
            let mut s = self.pending.remove(&idx).unwrap_or(CustomerState::EMPTY);
            let earlier = s.rows();
            s.absorb_rows(&h, 0..end, &mut buf);
            if s.purchase_days == 0 {
                if self.excluded.insert(idx) {
                    self.coverage.excluded_customers += 1;
                }
                self.coverage.excluded_transactions += end as u64;
                if s.rows() > 0 {
                    self.pending.insert(idx, s);
                }
                continue;
            }
            if self.excluded.remove(&idx) {
                self.coverage.excluded_customers -= 1;
                self.coverage.excluded_transactions -= earlier;
            }
            self.coverage.transactions += earlier + end as u64;
            customer.push(idx);
            self.state.push(s);
        }
        self.as_of = to;
        self.put_rows(tag, ids, customer);
        Ok(())
    }

    /// Whether `id` is one of the customers counted in [`Coverage::excluded_customers`].
    fn excludes(&self, id: &str) -> bool {
        let ids = self.rows.ids_arc();
        ids.get(id)
            .is_some_and(|c| self.excluded.contains(&CustomerIdx(c)))
    }

    /// Takes the rows apart to grow them (see [`put_rows`](Self::put_rows)).
    fn take_rows(&mut self) -> (ScopeTag, Arc<Interner>, Vec<CustomerIdx>) {
        std::mem::replace(&mut self.rows, Rows::from_ids(std::iter::empty::<&str>())).into_parts()
    }

    /// Puts grown rows back, restoring row order by dataset index after rows were
    /// appended out of order.
    fn put_rows(&mut self, tag: ScopeTag, ids: Arc<Interner>, mut customer: Vec<CustomerIdx>) {
        if !customer.windows(2).all(|w| w[0] < w[1]) {
            let mut rows: Vec<(CustomerIdx, CustomerState)> = customer
                .iter()
                .copied()
                .zip(self.state.iter().copied())
                .collect();
            rows.sort_unstable_by_key(|r| r.0);
            (customer, self.state) = rows.into_iter().unzip();
        }
        self.rows = Rows::list(tag, ids, customer);
    }

    /// Merges the summary of a disjoint set of customers as of the same date.
    ///
    /// # Errors
    /// [`Error::Merge`] when the dates or the presence of costs differ, or a customer is in
    /// both (a row or an excluded customer of each).
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
        let theirs = other.rows.ids_arc();
        let mut their_customers = (0..other.len())
            .map(|i| other.id(i))
            .chain(other.excluded.iter().map(|c| theirs.name(c.get())));
        // Excluded customers count too: in both, they would be counted twice.
        if let Some(id) = their_customers.find(|id| self.row(id).is_some() || self.excludes(id)) {
            return Err(Error::Merge {
                reason: format!("customer `{id}` is in both summaries"),
            });
        }
        let (tag, mut ids, mut customer) = self.take_rows();
        let tag = tag.merge(other.scope());
        let mut map = |c: CustomerIdx| intern(&mut ids, theirs.name(c.get()));
        customer.extend(other.rows.customers().map(&mut map));
        self.excluded.extend(other.excluded.iter().map(|&c| map(c)));
        self.pending
            .extend(other.pending.iter().map(|(&c, s)| (map(c), *s)));
        self.state.extend_from_slice(&other.state);
        self.coverage.add(&other.coverage);
        self.put_rows(tag, ids, customer);
        Ok(self)
    }
}
