//! The scoped view: the only door through which analyses read a dataset.
//!
//! A [`View`] is a dataset seen through a [`Scope`]: the customers the scope reaches,
//! each with their whole history, and only the columns the scope does not hide. It hands
//! out one customer's rows at a time (never a whole column), so nothing outside the scope
//! can be summed by accident. Building one costs a pass over the customers (not the
//! transactions): the log is sorted by customer, so a customer's history is a slice
//! wherever the view's customers lie.

use std::fmt;
use std::sync::Arc;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::access::{Area, Column};
use super::ids::{ChannelIdx, CustomerIdx, Interner, OrderIdx, ProductIdx, RegionIdx};
use super::products::Products;
use super::scope::{Scope, ScopeTag};
use super::transactions::History;
use super::Dataset;
use crate::error::{Error, Result};
use crate::time::{date_of, day_number};

/// Whether a column can be read through a view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnState {
    /// In the data and visible.
    Present,
    /// In the data, hidden by the scope.
    Hidden,
    /// Not in the data.
    Absent,
}

/// A customer's days and amounts, with costs and orders when shown (see `View::core`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Core<'a> {
    pub days: &'a [i32],
    pub amounts: &'a [f64],
    pub costs: Option<&'a [f64]>,
    pub orders: Option<&'a [OrderIdx]>,
}

/// The first and last date of some transactions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateRange {
    /// The first date.
    pub first: NaiveDate,
    /// The last date.
    pub last: NaiveDate,
}

/// Which customers a view or a per-customer table holds: every customer of the dataset,
/// or a sorted list of them.
#[derive(Debug, Clone, PartialEq)]
enum Index {
    All(usize),
    List(Arc<Vec<CustomerIdx>>),
}

impl Index {
    #[inline]
    fn len(&self) -> usize {
        match self {
            Index::All(n) => *n,
            Index::List(v) => v.len(),
        }
    }

    #[inline]
    fn get(&self, k: usize) -> CustomerIdx {
        match self {
            Index::All(_) => CustomerIdx(k as u32),
            Index::List(v) => v[k],
        }
    }

    fn position(&self, c: CustomerIdx) -> Option<usize> {
        match self {
            Index::All(n) => (c.get() < *n).then_some(c.get()),
            Index::List(v) => v.binary_search(&c).ok(),
        }
    }
}

/// The customers a per-customer table's rows belong to, in the order of its rows, and the
/// scope they were read under.
///
/// Row `i` of the table is customer [`customer(i)`](Self::customer) of the dataset the
/// view came from, with external id [`id(i)`](Self::id). Rows are in dataset order.
///
/// The rows share the dataset's interner of every customer id, but never show it: they
/// serialise (and print with `{:?}`) as the scope and the ids of their own customers, in
/// row order, and read back as a table of those customers alone (indices `0..len`, as
/// from [`from_ids`](Self::from_ids)). Two tables are equal when they hold the same ids
/// in the same order under the same scope, whatever their dataset indices.
#[derive(Clone)]
pub struct Rows {
    scope: ScopeTag,
    ids: Arc<Interner>,
    index: Index,
}

/// The ids of some rows, serialised as a sequence without collecting them.
struct RowIds<'a>(&'a Rows);

impl Serialize for RowIds<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.ids())
    }
}

impl Serialize for Rows {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("Rows", 2)?;
        out.serialize_field("scope", &self.scope)?;
        out.serialize_field("ids", &RowIds(self))?;
        out.end()
    }
}

impl<'de> Deserialize<'de> for Rows {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Unknown fields are refused: the earlier form carried the whole interner, whose
        // ids would otherwise read back as rows.
        #[derive(Deserialize)]
        #[serde(rename = "Rows", deny_unknown_fields)]
        struct Form {
            scope: ScopeTag,
            ids: Interner,
        }
        let Form { scope, ids } = Form::deserialize(deserializer)?;
        let n = ids.len();
        Ok(Rows {
            scope,
            ids: Arc::new(ids),
            index: Index::All(n),
        })
    }
}

impl PartialEq for Rows {
    fn eq(&self, other: &Rows) -> bool {
        let same_table = Arc::ptr_eq(&self.ids, &other.ids) && self.index == other.index;
        self.scope == other.scope
            && self.len() == other.len()
            && (same_table || self.ids().eq(other.ids()))
    }
}

impl fmt::Debug for Rows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Ids<'a>(&'a Rows);
        impl fmt::Debug for Ids<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_list().entries(self.0.ids().take(20)).finish()?;
                if self.0.len() > 20 {
                    write!(f, " (+{} more)", self.0.len() - 20)?;
                }
                Ok(())
            }
        }
        f.debug_struct("Rows")
            .field("scope", &self.scope)
            .field("ids", &Ids(self))
            .finish()
    }
}

impl Rows {
    /// Rows of customers given by external id, under no scope (for tables built from
    /// numbers that did not come through a view).
    pub fn from_ids<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Rows {
        let ids: Interner = ids.into_iter().collect();
        let n = ids.len();
        Rows {
            scope: ScopeTag {
                customers: n,
                ..ScopeTag::default()
            },
            ids: Arc::new(ids),
            index: Index::All(n),
        }
    }

    pub(crate) fn list(scope: ScopeTag, ids: Arc<Interner>, customers: Vec<CustomerIdx>) -> Rows {
        debug_assert!(customers.windows(2).all(|w| w[0] < w[1]));
        Rows {
            scope,
            ids,
            index: Index::List(Arc::new(customers)),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scope the rows were read under.
    pub fn scope(&self) -> &ScopeTag {
        &self.scope
    }

    /// Dataset index of row `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn customer(&self, i: usize) -> CustomerIdx {
        self.index.get(i)
    }

    /// External id of row `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn id(&self, i: usize) -> &str {
        self.ids.name(self.index.get(i).get())
    }

    /// The row of an external id, if the table has one.
    pub fn row(&self, id: &str) -> Option<usize> {
        self.index.position(CustomerIdx(self.ids.get(id)?))
    }

    /// External ids in row order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.id(i))
    }

    /// Dataset indices in row order.
    pub fn customers(&self) -> impl ExactSizeIterator<Item = CustomerIdx> + '_ {
        (0..self.len()).map(|i| self.index.get(i))
    }

    /// `values`, one per row of `self`, picked for the rows of `other` in its order: how a
    /// per-customer figure of one table lines up with the rows of another (profit of every
    /// customer of a view, for the customers of a summary).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `values` does not have one value per row of `self`;
    /// [`Error::BadValue`] naming the first customer of `other` that `self` does not hold.
    pub fn select<T: Clone + Send + Sync>(&self, values: &[T], other: &Rows) -> Result<Vec<T>> {
        Error::check_len("values", values.len(), self.len(), "rows of the table")?;
        let same = Arc::ptr_eq(&self.ids, &other.ids);
        let pick = |i: usize| -> Option<T> {
            let k = if same {
                self.index.position(other.customer(i))?
            } else {
                self.row(other.id(i))?
            };
            Some(values[k].clone())
        };
        let picked: Option<Vec<T>> = (0..other.len()).into_par_iter().map(pick).collect();
        picked.ok_or_else(|| {
            let i = (0..other.len()).find(|&i| pick(i).is_none()).unwrap_or(0);
            Error::bad_value(
                "rows",
                i,
                "customer",
                other.id(i),
                "a customer of the table the values belong to",
            )
        })
    }

    /// `values`, one per row of `self`, looked up for the rows of `other`: `None` where
    /// `self` does not hold the customer (RFM segments of a summary's customers spread
    /// over every customer of a view, say).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `values` does not have one value per row of `self`.
    pub fn lookup<T: Clone + Send + Sync>(
        &self,
        values: &[T],
        other: &Rows,
    ) -> Result<Vec<Option<T>>> {
        Error::check_len("values", values.len(), self.len(), "rows of the table")?;
        let same = Arc::ptr_eq(&self.ids, &other.ids);
        Ok((0..other.len())
            .into_par_iter()
            .map(|i| {
                let k = if same {
                    self.index.position(other.customer(i))
                } else {
                    self.row(other.id(i))
                };
                k.map(|k| values[k].clone())
            })
            .collect())
    }

    pub(crate) fn ids_arc(&self) -> &Arc<Interner> {
        &self.ids
    }

    /// The index list, for tables that grow (summary updates and merges).
    pub(crate) fn into_parts(self) -> (ScopeTag, Arc<Interner>, Vec<CustomerIdx>) {
        let list = match self.index {
            Index::All(n) => (0..n as u32).map(CustomerIdx).collect(),
            Index::List(v) => Arc::try_unwrap(v).unwrap_or_else(|v| (*v).clone()),
        };
        (self.scope, self.ids, list)
    }
}

/// One column of the view, one customer at a time: what an analysis that needs the
/// column reads (see [`View::costs`] and its siblings).
#[derive(Debug, Clone, Copy)]
pub struct PerCustomer<'v, T> {
    col: &'v [T],
    spans: Spans<'v>,
}

impl<'v, T> PerCustomer<'v, T> {
    /// The values of the view's customer `k`, in time order.
    ///
    /// # Panics
    /// If `k` is not below the view's length.
    #[inline]
    pub fn of(&self, k: usize) -> &'v [T] {
        &self.col[self.spans.get(k)]
    }
}

/// Where each customer of a view lies in the log: for every customer, the log's own
/// offsets; for a list of customers, their row ranges side by side. A pass over a scope's
/// customers then reads their ranges in order instead of looking each one up at a
/// scattered place of the log's offsets (a cache miss per customer).
#[derive(Debug, Clone, Copy)]
enum Spans<'v> {
    Offsets(&'v [usize]),
    Ranges(&'v [(usize, usize)]),
}

impl Spans<'_> {
    #[inline]
    fn get(&self, k: usize) -> std::ops::Range<usize> {
        match self {
            Spans::Offsets(o) => o[k]..o[k + 1],
            Spans::Ranges(r) => r[k].0..r[k].1,
        }
    }
}

/// The product table as a view shows it: ids and categories, and unit costs unless the
/// scope hides costs.
#[derive(Debug, Clone)]
pub struct Catalogue<'a> {
    products: &'a Products,
    /// The scope's label when it hides costs.
    costs_hidden_from: Option<String>,
}

impl<'a> Catalogue<'a> {
    /// Number of products.
    pub fn len(&self) -> usize {
        self.products.len()
    }
    /// Whether there are no products.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }
    /// Product ids.
    pub fn ids(&self) -> &'a Interner {
        self.products.ids()
    }
    /// External id of a product.
    pub fn id(&self, p: ProductIdx) -> &'a str {
        self.products.id(p)
    }
    /// Category names.
    pub fn categories(&self) -> &'a Interner {
        self.products.categories()
    }
    /// Category of a product.
    pub fn category(&self, p: ProductIdx) -> Option<super::CategoryIdx> {
        self.products.category(p)
    }
    /// Unit cost of a product, if known.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] (`cost`) when the scope hides costs.
    pub fn unit_cost(&self, p: ProductIdx) -> Result<Option<f64>> {
        match &self.costs_hidden_from {
            Some(scope) => Err(Error::HiddenColumn {
                column: Column::Cost,
                scope: scope.clone(),
            }),
            None => Ok(self.products.unit_cost(p)),
        }
    }
}

/// A dataset seen through a scope (see the module documentation).
///
/// ```
/// use acrm::data::{Dataset, OwnershipRecord, Scope, TransactionRecord};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
/// let mut b = Dataset::builder();
/// b.extend([
///     TransactionRecord::new("ann", d(1, 5), 20.0),
///     TransactionRecord::new("bob", d(1, 7), 15.0),
/// ])?;
/// let mut data = b.build()?.dataset;
/// data.assign_owners([OwnershipRecord::new("ann", "sam"), OwnershipRecord::new("bob", "kim")])?;
/// let sam = data.view(&Scope::of_owners("owner", "sam", ["sam"]));
/// assert_eq!((sam.len(), sam.id(0)), (1, "ann"));
/// assert_eq!(sam.history(0).amounts, &[20.0]);
/// assert_eq!(data.view(&Scope::all()).len(), 2);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct View<'a> {
    data: &'a Dataset,
    index: Index,
    /// Row ranges of the customers of a list (empty for every customer).
    ranges: Arc<Vec<(usize, usize)>>,
    /// The log's columns the scope shows (hidden ones `None`), decided once here rather
    /// than for every customer's history.
    cols: History<'a>,
    tag: ScopeTag,
}

impl Dataset {
    /// The dataset as `scope` sees it: its customers (with ownership read as of the
    /// scope's date), their whole histories, the columns it does not hide.
    pub fn view(&self, scope: &Scope) -> View<'_> {
        let customers = &self.customers;
        let n = customers.len();
        let offsets = self.transactions.offsets();
        let (index, ranges) = match scope.owners() {
            None => (Index::All(n), Vec::new()),
            Some(set) => {
                let inside: Vec<bool> = customers
                    .owner_names()
                    .iter()
                    .map(|o| set.contains(o))
                    .collect();
                let day = scope.date().map(day_number);
                let list: Vec<CustomerIdx> = (0..n)
                    .into_par_iter()
                    .with_min_len(1 << 12)
                    .filter_map(|c| {
                        let o = customers.owner_at(c, day)?;
                        inside[o as usize].then_some(CustomerIdx(c as u32))
                    })
                    .collect();
                // The customers' row ranges side by side, looked up once here (many
                // independent loads at a time) rather than at each use.
                let ranges = list
                    .par_iter()
                    .with_min_len(1 << 12)
                    .map(|c| (offsets[c.get()], offsets[c.get() + 1]))
                    .collect();
                (Index::List(Arc::new(list)), ranges)
            }
        };
        let mut cols = self.transactions.history_of(0..self.transactions.len());
        let hidden = scope.hidden();
        let hide = |c: Column| hidden.contains(c);
        if hide(Column::Cost) {
            cols.costs = None;
        }
        if hide(Column::Quantity) {
            cols.quantities = None;
        }
        if hide(Column::Product) {
            cols.products = None;
        }
        if hide(Column::Channel) {
            cols.channels = None;
        }
        if hide(Column::Region) {
            cols.regions = None;
        }
        if hide(Column::Order) {
            cols.orders = None;
        }
        View {
            data: self,
            tag: scope.tag(index.len()),
            index,
            ranges: Arc::new(ranges),
            cols,
        }
    }
}

impl<'a> View<'a> {
    /// Number of customers in the view.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether the view holds no customer.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scope, as results computed from the view report it.
    pub fn scope(&self) -> &ScopeTag {
        &self.tag
    }

    /// The view's customers, as the rows of a per-customer table.
    pub fn rows(&self) -> Rows {
        Rows {
            scope: self.tag.clone(),
            ids: Arc::clone(&self.data.customers.ids),
            index: self.index.clone(),
        }
    }

    /// The rows of the view's customers for which `keep(k)` holds, in view order.
    pub(crate) fn rows_where(&self, keep: impl Fn(usize) -> bool + Sync) -> Rows {
        let list: Vec<CustomerIdx> = (0..self.len())
            .into_par_iter()
            .with_min_len(1 << 12)
            .filter(|&k| keep(k))
            .map(|k| self.index.get(k))
            .collect();
        Rows::list(self.tag.clone(), Arc::clone(&self.data.customers.ids), list)
    }

    /// Dataset index of the view's customer `k`.
    ///
    /// # Panics
    /// If `k >= self.len()`.
    pub fn customer(&self, k: usize) -> CustomerIdx {
        self.index.get(k)
    }

    /// External id of the view's customer `k`.
    ///
    /// # Panics
    /// If `k >= self.len()`.
    pub fn id(&self, k: usize) -> &'a str {
        self.data.customers.id(self.index.get(k))
    }

    /// The position in the view of an external id, if the view holds the customer.
    pub fn row(&self, id: &str) -> Option<usize> {
        self.index.position(self.data.customers.index(id)?)
    }

    /// The view position of each row's customer: how a table computed from this view
    /// (or a summary of it) finds its customers' histories again.
    ///
    /// # Errors
    /// [`Error::BadValue`] naming the first row whose customer the view does not hold (a
    /// table of another scope or another dataset).
    pub fn positions(&self, rows: &Rows) -> Result<Vec<usize>> {
        let same = Arc::ptr_eq(rows.ids_arc(), &self.data.customers.ids);
        let find = |i: usize| -> Option<usize> {
            if same {
                self.index.position(rows.customer(i))
            } else {
                self.row(rows.id(i))
            }
        };
        let found: Option<Vec<usize>> = (0..rows.len()).into_par_iter().map(find).collect();
        found.ok_or_else(|| {
            let i = (0..rows.len()).find(|&i| find(i).is_none()).unwrap_or(0);
            Error::bad_value(
                "rows",
                i,
                "customer",
                rows.id(i),
                format!("a customer of the view ({})", self.tag.label()),
            )
        })
    }

    /// An error unless the scope may run `area`.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`].
    pub fn require(&self, area: Area) -> Result<()> {
        self.tag.require(area)
    }

    /// Whether `column` is in the data, and visible.
    pub fn column(&self, column: Column) -> ColumnState {
        let log = &self.data.transactions;
        let present = match column {
            Column::Cost => log.costs().is_some() || self.data.products.has_unit_costs(),
            // A margin can always be derived (from costs, or from an assumed rate).
            Column::Margin => true,
            Column::Quantity => log.quantities().is_some(),
            Column::Product => log.products().is_some(),
            Column::Channel => log.channels().is_some(),
            Column::Region => log.regions().is_some(),
            Column::Order => log.orders().is_some(),
        };
        if !present {
            ColumnState::Absent
        } else if self.tag.hidden_columns.contains(column) {
            ColumnState::Hidden
        } else {
            ColumnState::Present
        }
    }

    /// An error unless `column` is in the data and visible.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] when the scope hides it, [`Error::MissingColumn`] when the
    /// data does not have it.
    pub fn need(&self, column: Column) -> Result<()> {
        match self.column(column) {
            ColumnState::Present => Ok(()),
            ColumnState::Hidden => Err(Error::HiddenColumn {
                column,
                scope: self.tag.label(),
            }),
            ColumnState::Absent => Err(Error::MissingColumn {
                column: column.name().to_string(),
                available: self.available_columns(),
            }),
        }
    }

    /// The columns the view can show: `customer`, `date`, `amount` and the optional ones
    /// present and not hidden.
    pub fn available_columns(&self) -> Vec<String> {
        let mut out = vec!["customer".to_string(), "date".into(), "amount".into()];
        out.extend(
            Column::ALL
                .into_iter()
                .filter(|&c| c != Column::Margin && self.column(c) == ColumnState::Present)
                .map(|c| c.name().to_string()),
        );
        out
    }

    /// Whether the log carries times of day.
    pub fn has_times(&self) -> bool {
        self.data.transactions.seconds().is_some()
    }

    /// Where the view's customers lie in the log.
    #[inline]
    fn spans(&self) -> Spans<'_> {
        match self.index {
            Index::All(_) => Spans::Offsets(self.data.transactions.offsets()),
            Index::List(_) => Spans::Ranges(&self.ranges),
        }
    }

    /// The whole history of the view's customer `k`, in time order. Columns the data does
    /// not have, or the scope hides, are `None`.
    ///
    /// # Panics
    /// If `k >= self.len()`.
    #[inline]
    pub fn history(&self, k: usize) -> History<'a> {
        self.cols.slice(self.spans().get(k))
    }

    /// The days and amounts of the view's customer `k`, with costs and orders when the
    /// scope shows them: the columns of a customer summary, without slicing the others
    /// (the summary's pass is short per customer, and a full history costs a third more
    /// there).
    #[inline]
    pub(crate) fn core(&self, k: usize) -> Core<'a> {
        let r = self.spans().get(k);
        let c = &self.cols;
        Core {
            days: &c.days[r.clone()],
            amounts: &c.amounts[r.clone()],
            costs: c.costs.map(|v| &v[r.clone()]),
            orders: c.orders.map(|v| &v[r]),
        }
    }

    /// Number of transactions of the view's customers.
    pub fn transactions(&self) -> usize {
        match &self.index {
            Index::All(_) => self.data.transactions.len(),
            Index::List(_) => self.ranges.par_iter().map(|r| r.1 - r.0).sum(),
        }
    }

    /// First and last day (day numbers) of the view's transactions.
    pub(crate) fn day_range(&self) -> Option<(i32, i32)> {
        let days = self.data.transactions.days();
        let spans = self.spans();
        (0..self.len())
            .into_par_iter()
            .with_min_len(1 << 12)
            .filter_map(|k| {
                let r = spans.get(k);
                (!r.is_empty()).then(|| (days[r.start], days[r.end - 1]))
            })
            .reduce_with(|x, y| (x.0.min(y.0), x.1.max(y.1)))
    }

    /// First and last day of the whole dataset's log, whatever the scope: the default end
    /// of an analysis window, so that a customer's figures do not depend on who else the
    /// view holds (and tell nothing about them beyond the log's dates).
    pub(crate) fn log_span(&self) -> Option<(i32, i32)> {
        self.data.transactions.span()
    }

    /// First and last date of the view's transactions.
    pub fn date_range(&self) -> Option<DateRange> {
        self.day_range().map(|(a, b)| DateRange {
            first: date_of(a),
            last: date_of(b),
        })
    }

    fn per_customer<T>(&self, column: Column, col: Option<&'a [T]>) -> Result<PerCustomer<'_, T>> {
        self.need(column)?;
        // Present for `need` but not in the log: costs known only as products' unit costs.
        let col = col.ok_or_else(|| Error::MissingColumn {
            column: column.name().into(),
            available: self.available_columns(),
        })?;
        Ok(PerCustomer {
            col,
            spans: self.spans(),
        })
    }

    /// The cost column, customer by customer.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] or [`Error::MissingColumn`] (`cost`): the log has no cost
    /// column (unit costs of products do not count here).
    pub fn costs(&self) -> Result<PerCustomer<'_, f64>> {
        self.per_customer(Column::Cost, self.data.transactions.costs())
    }

    /// The quantity column, customer by customer.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] or [`Error::MissingColumn`].
    pub fn quantities(&self) -> Result<PerCustomer<'_, f64>> {
        self.per_customer(Column::Quantity, self.data.transactions.quantities())
    }

    /// The product column, customer by customer.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] or [`Error::MissingColumn`].
    pub fn products(&self) -> Result<PerCustomer<'_, ProductIdx>> {
        self.per_customer(Column::Product, self.data.transactions.products())
    }

    /// The channel column, customer by customer.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] or [`Error::MissingColumn`].
    pub fn channels(&self) -> Result<PerCustomer<'_, ChannelIdx>> {
        self.per_customer(Column::Channel, self.data.transactions.channels())
    }

    /// The region column, customer by customer.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] or [`Error::MissingColumn`].
    pub fn regions(&self) -> Result<PerCustomer<'_, RegionIdx>> {
        self.per_customer(Column::Region, self.data.transactions.regions())
    }

    /// The order column, customer by customer.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] or [`Error::MissingColumn`].
    pub fn orders(&self) -> Result<PerCustomer<'_, OrderIdx>> {
        self.per_customer(Column::Order, self.data.transactions.orders())
    }

    /// The product table.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] (`product`) when the scope hides products.
    pub fn catalogue(&self) -> Result<Catalogue<'a>> {
        self.tag.reveal(Column::Product)?;
        Ok(Catalogue {
            products: &self.data.products,
            costs_hidden_from: self
                .tag
                .hidden_columns
                .contains(Column::Cost)
                .then(|| self.tag.label()),
        })
    }

    /// Channel names (the customer table's and the log's).
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] (`channel`).
    pub fn channel_names(&self) -> Result<&'a Interner> {
        self.tag.reveal(Column::Channel)?;
        Ok(&self.data.channels)
    }

    /// Region names (the customer table's and the log's).
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] (`region`).
    pub fn region_names(&self) -> Result<&'a Interner> {
        self.tag.reveal(Column::Region)?;
        Ok(&self.data.regions)
    }

    /// Every order id of the dataset, to name orders of the view's customers: not public,
    /// since it holds the orders of customers outside the scope too.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] (`order`).
    pub(crate) fn order_ids(&self) -> Result<&'a Interner> {
        self.tag.reveal(Column::Order)?;
        Ok(self.data.transactions.order_ids())
    }

    /// Acquisition date of the view's customer `k`, if known.
    pub fn acquired(&self, k: usize) -> Option<NaiveDate> {
        self.data.customers.acquired(self.index.get(k))
    }

    /// A free attribute of the view's customer `k`, if set.
    pub fn attribute(&self, k: usize, name: &str) -> Option<&'a str> {
        self.data.customers.attribute(self.index.get(k), name)
    }

    /// Region of the view's customer `k` (`None` when unknown or hidden).
    pub fn customer_region(&self, k: usize) -> Option<RegionIdx> {
        if self.tag.hidden_columns.contains(Column::Region) {
            return None;
        }
        self.data.customers.region(self.index.get(k))
    }

    /// Acquisition channel of the view's customer `k` (`None` when unknown or hidden).
    pub fn customer_channel(&self, k: usize) -> Option<ChannelIdx> {
        if self.tag.hidden_columns.contains(Column::Channel) {
            return None;
        }
        self.data.customers.channel(self.index.get(k))
    }

    /// Owner of the view's customer `k` as of the scope's date (the latest assignment
    /// without one).
    pub fn owner(&self, k: usize) -> Option<&'a str> {
        let day = self.tag.as_of.map(day_number);
        let c = self.index.get(k).get();
        let customers = &self.data.customers;
        customers
            .owner_at(c, day)
            .map(|o| customers.owner_names().name(o as usize))
    }
}
