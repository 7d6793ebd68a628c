//! The data model: customers, products and the columnar transaction log, the
//! organisation that owns the customers, and the scoped [`View`] through which every
//! analysis reads them.
//!
//! External ids are strings; inside a [`Dataset`] every entity has a dense index
//! ([`CustomerIdx`], [`ProductIdx`], ...), so per-customer results are plain vectors.
//! A dataset's columns are private to this module: analyses get a [`View`]
//! ([`Dataset::view`]) of the customers a [`Scope`] reaches, with the columns it hides
//! absent, and their per-customer results carry the scope ([`Rows`], [`ScopeTag`]).
//! The sales side — [`Opportunities`] with their stage histories, campaign [`Contacts`]
//! and [`Campaigns`] — are stores of their own (a prospect is not a customer yet), scoped
//! the same way: their views hold the opportunities and contacts of the scope's owners.
//! Campaign-test contacts ([`CampaignContacts`]: customer, arm, date, cost, outcomes)
//! are customers' contacts: their view holds those of the customers a [`View`] reaches.

mod access;
mod baskets;
mod campaign_contacts;
mod customers;
mod ids;
mod money;
mod org;
mod paths;
mod products;
mod records;
mod sales;
mod scope;
mod spend;
mod touches;
mod transactions;
mod view;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use access::{Area, AreaSet, Column, ColumnSet};
pub use baskets::{BasketCustomers, BasketReport, Baskets, CustomerItems};
pub use campaign_contacts::{
    CampaignContactRecord, CampaignContactView, CampaignContacts, WindowResponse,
};
pub(crate) use customers::Customers;
pub use customers::{CustomerRecord, OwnershipRecord, OwnershipReport};
pub use ids::{CategoryIdx, ChannelIdx, CustomerIdx, Interner, OrderIdx, ProductIdx, RegionIdx};
pub use money::Money;
pub use org::{
    AssignmentRecord, Assignments, Organisation, Reach, RoleRecord, UnitRecord, UserRecord,
};
pub use paths::{Conversions, PathRecord, PathReport, Paths, PathsBuilder, TimedJourneys};
pub use products::ProductRecord;
pub(crate) use products::Products;
pub use records::{CustomerRecordRow, CustomerRecords, FieldKind, FieldSpec, IdMap};
pub use sales::{
    CampaignRecord, Campaigns, ContactRecord, ContactView, Contacts, DealStatus, Opportunities,
    OpportunityRecord, OpportunityView, Reached, StageEntry, StageRecord, FUNNEL_STAGES,
};
pub use scope::{Scope, ScopeSpec, ScopeTag};
pub use spend::{SpendGroup, SpendHistory, SpendRecord};
pub use touches::{TouchRecord, TouchView, Touches};
pub(crate) use transactions::TransactionLog;
pub(crate) use transactions::{count_orders, Columns, RawRows, RowMaps};
pub use transactions::{is_purchase, History, NegativeAmounts};
pub(crate) use view::Core;
pub use view::{Catalogue, ColumnState, DateRange, PerCustomer, Rows, View};

use crate::error::{Error, Problem, Result, RowError};
use crate::time::Timestamp;

/// A customer base: customers, products, the transaction log and the names of channels
/// and regions that both the customer table and the log refer to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    customers: Customers,
    products: Products,
    channels: Interner,
    regions: Interner,
    transactions: TransactionLog,
}

impl Dataset {
    /// A builder that takes records one by one (see [`DatasetBuilder`]).
    pub fn builder() -> DatasetBuilder {
        DatasetBuilder::default()
    }

    pub(crate) fn from_parts(
        customers: Customers,
        products: Products,
        channels: Interner,
        regions: Interner,
        transactions: TransactionLog,
    ) -> Self {
        Dataset {
            customers,
            products,
            channels,
            regions,
            transactions,
        }
    }

    /// Bytes held by the transaction log's columns (what "the size of the columnar log"
    /// means in benchmarks).
    pub fn heap_bytes(&self) -> usize {
        self.transactions.heap_bytes()
    }

    /// Sets who owns which customer from when (replacing any earlier assignment): the
    /// customer data that [`Scope`]s read. Customers the records name but the data does
    /// not hold are added without transactions; customers without a record are unowned
    /// and seen only by a scope over all customers.
    ///
    /// The customers are then laid out grouped by their latest owner, owners in the order
    /// the records first name them (unowned customers last, the load order kept within
    /// a group): a scope's customers lie side by side in the log, so a pass over them
    /// streams like a pass over a log of their own. Records in the organisation's order
    /// ([`Organisation::sort_ownership`]; the flat form comes so) make every team and
    /// branch one run too. Indices of customers (and so the order of per-customer
    /// results) change accordingly; results computed before keep their own ids.
    ///
    /// # Errors
    /// [`Error::Row`] naming the record (1-based position), field and value: an empty
    /// customer id or owner, or two owners for one customer from the same date
    /// ([`Problem::Conflict`]). The dataset is then left as it was.
    pub fn assign_owners(
        &mut self,
        records: impl IntoIterator<Item = OwnershipRecord>,
    ) -> Result<OwnershipReport> {
        let report = self.customers.assign(records)?;
        self.transactions.add_customers(self.customers.len());
        if let Some(order) = self.customers.layout_by_owner() {
            self.customers = self.customers.permuted(&order);
            self.transactions = std::mem::take(&mut self.transactions).permuted(&order);
        }
        Ok(report)
    }
}

/// One transaction as given by the caller (or read from a file with serde).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TransactionRecord {
    /// External customer id.
    pub customer_id: String,
    /// Date or date-time.
    pub date: Timestamp,
    /// Amount (revenue; negative for a return).
    pub amount: f64,
    /// Cost of goods.
    #[serde(default)]
    pub cost: Option<f64>,
    /// Quantity.
    #[serde(default)]
    pub quantity: Option<f64>,
    /// External product id.
    #[serde(default)]
    pub product_id: Option<String>,
    /// Channel name.
    #[serde(default)]
    pub channel: Option<String>,
    /// Region name.
    #[serde(default)]
    pub region: Option<String>,
    /// External order id.
    #[serde(default)]
    pub order_id: Option<String>,
}

impl TransactionRecord {
    /// A record with only the required fields.
    pub fn new(customer_id: impl Into<String>, date: impl Into<Timestamp>, amount: f64) -> Self {
        TransactionRecord {
            customer_id: customer_id.into(),
            date: date.into(),
            amount,
            cost: None,
            quantity: None,
            product_id: None,
            channel: None,
            region: None,
            order_id: None,
        }
    }
}

/// Strict or lenient handling of bad rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Mode {
    /// The first bad row is an error (default).
    #[default]
    Strict,
    /// Bad rows are skipped, counted by reason and reported in [`LoadReport`].
    Lenient,
}

/// Rules applied to every row, whatever the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RowPolicy {
    /// Strict or lenient.
    pub mode: Mode,
    /// What a negative amount is.
    pub negative_amounts: NegativeAmounts,
    /// Whether every customer id must be in the customer table given beforehand.
    pub require_known_customers: bool,
}

/// What a load read, kept and skipped.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LoadReport {
    /// Data rows seen (header and blank lines excluded).
    pub rows: u64,
    /// Rows kept.
    pub loaded: u64,
    /// Skipped rows by reason (lenient mode only; strict mode stops at the first).
    pub skipped: BTreeMap<Problem, u64>,
    /// The first skipped rows (at most [`LoadReport::EXAMPLES`]), for a message to the user.
    pub examples: Vec<RowError>,
    /// With an [`IdMap`] ([`DatasetBuilder::id_map`]): the distinct customer ids of the
    /// input less the distinct customers they loaded as, i.e. the source ids merged into
    /// another id's customer (0 without a map).
    #[serde(default)]
    pub merged_ids: u64,
}

impl LoadReport {
    /// How many skipped rows are kept as examples.
    pub const EXAMPLES: usize = 10;

    /// Total rows skipped.
    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    /// Records a skipped row.
    pub(crate) fn skip(&mut self, e: RowError) {
        *self.skipped.entry(e.problem).or_default() += 1;
        if self.examples.len() < Self::EXAMPLES {
            self.examples.push(e);
        }
    }

    /// Adds another report (of a later chunk of the same input).
    pub(crate) fn absorb(&mut self, other: LoadReport) {
        self.rows += other.rows;
        self.loaded += other.loaded;
        for (k, v) in other.skipped {
            *self.skipped.entry(k).or_default() += v;
        }
        for e in other.examples {
            if self.examples.len() < Self::EXAMPLES {
                self.examples.push(e);
            }
        }
    }
}

/// A dataset with the report of the load that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Loaded {
    /// The data.
    pub dataset: Dataset,
    /// Rows read, kept and skipped.
    pub report: LoadReport,
}

/// The largest amount of one transaction, in absolute value: 10^15 (a quadrillion in
/// any currency). Far past any real order, small enough that sums over billions of rows
/// stay finite and cents fit an `i64` many times over.
pub const MAX_AMOUNT: f64 = 1e15;

/// Checks an amount against the policy.
pub(crate) fn check_amount(v: f64, policy: &RowPolicy) -> Result<f64, Problem> {
    if !v.is_finite() {
        Err(Problem::NonFinite)
    } else if v.abs() > MAX_AMOUNT {
        Err(Problem::AmountTooLarge)
    } else if v < 0.0 && policy.negative_amounts == NegativeAmounts::Reject {
        Err(Problem::NegativeAmount)
    } else {
        Ok(v)
    }
}

/// Builds a [`Dataset`] from records given one at a time (from an iterator, a database
/// cursor, a message queue).
///
/// ```
/// use acrm::data::{Dataset, TransactionRecord};
/// use chrono::NaiveDate;
/// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
/// let mut b = Dataset::builder();
/// b.extend([
///     TransactionRecord::new("ann", d(1, 5), 20.0),
///     TransactionRecord::new("bob", d(1, 7), 15.0),
///     TransactionRecord::new("ann", d(1, 2), 10.0),
/// ])?;
/// let data = b.build()?.dataset;
/// let all = data.view(&acrm::data::Scope::all());
/// let ann = all.row("ann").unwrap();
/// assert_eq!(all.history(ann).amounts, &[10.0, 20.0]);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct DatasetBuilder {
    customers: Customers,
    products: Products,
    channels: Interner,
    regions: Interner,
    orders: Interner,
    rows: RawRows,
    columns: Option<Columns>,
    policy: RowPolicy,
    report: LoadReport,
    id_map: Option<std::sync::Arc<IdMap>>,
    /// With an id map: the distinct ids read and the distinct ids they loaded under.
    merged: (hashbrown::HashSet<Box<str>>, hashbrown::HashSet<Box<str>>),
}

impl DatasetBuilder {
    /// Loads every customer id through `map`: a transaction recorded under a source id
    /// the map holds loads under its golden id (identity resolution's output), and the
    /// load report counts the ids merged ([`LoadReport::merged_ids`]). Known
    /// customers ([`require_known_customers`](Self::require_known_customers)) are checked
    /// by golden id. Tracking the merged ids keeps each distinct id of the input in a set
    /// while loading.
    pub fn id_map(mut self, map: IdMap) -> Self {
        self.id_map = Some(std::sync::Arc::new(map));
        self
    }

    /// The id map, for readers that check known customers while parsing.
    pub(crate) fn id_map_ref(&self) -> Option<&std::sync::Arc<IdMap>> {
        self.id_map.as_ref()
    }

    /// The id `raw` loads under, noting both (with a map) for the merged-id count.
    fn golden_id<'a>(
        map: Option<&'a IdMap>,
        seen: &mut (hashbrown::HashSet<Box<str>>, hashbrown::HashSet<Box<str>>),
        raw: &'a str,
    ) -> &'a str {
        let Some(m) = map else { return raw };
        let golden = m.golden(raw);
        if !seen.0.contains(raw) {
            seen.0.insert(raw.into());
            if !seen.1.contains(golden) {
                seen.1.insert(golden.into());
            }
        }
        golden
    }

    /// Starts from a customer table (needed with [`require_known_customers`](Self::require_known_customers)).
    pub fn customers(mut self, customers: impl IntoIterator<Item = CustomerRecord>) -> Self {
        for r in customers {
            self.customers
                .upsert(&r, &mut self.regions, &mut self.channels);
        }
        self
    }

    /// Starts from a product table.
    ///
    /// # Errors
    /// [`Error::Row`] of [`Problem::NonFinite`] for a product with a non-finite unit cost,
    /// its line the 1-based position of the record.
    pub fn products(mut self, products: impl IntoIterator<Item = ProductRecord>) -> Result<Self> {
        for (k, r) in products.into_iter().enumerate() {
            self.products.upsert(&r).map_err(|e| match e {
                Error::Row(row) => Error::Row(RowError {
                    line: k as u64 + 1,
                    ..row
                }),
                e => e,
            })?;
        }
        Ok(self)
    }

    /// Sets all row rules at once.
    pub fn policy(mut self, policy: RowPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Strict (default) or lenient.
    pub fn mode(mut self, mode: Mode) -> Self {
        self.policy.mode = mode;
        self
    }

    /// Keep negative amounts as returns (default) or reject them.
    pub fn negative_amounts(mut self, p: NegativeAmounts) -> Self {
        self.policy.negative_amounts = p;
        self
    }

    /// Reject transactions of customers not in the customer table.
    pub fn require_known_customers(mut self, yes: bool) -> Self {
        self.policy.require_known_customers = yes;
        self
    }

    /// Adds one record. Its line number in errors is its 1-based position.
    ///
    /// # Errors
    /// In strict mode, a [`RowError`] for a non-finite amount, cost or quantity, a rejected
    /// negative amount, an unknown customer, or an optional field present in some records
    /// and absent in others (the first record decides which optional columns the log has).
    pub fn push(&mut self, r: TransactionRecord) -> Result<()> {
        self.report.rows += 1;
        let line = self.report.rows;
        match self.check(&r) {
            Ok(()) => {
                self.add(r);
                self.report.loaded += 1;
                Ok(())
            }
            Err((field, value, problem)) => {
                let e = RowError {
                    line,
                    field: field.to_string(),
                    value,
                    problem,
                };
                match self.policy.mode {
                    Mode::Strict => Err(e.into()),
                    Mode::Lenient => {
                        self.report.skip(e);
                        Ok(())
                    }
                }
            }
        }
    }

    /// Adds records from an iterator.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn extend(&mut self, records: impl IntoIterator<Item = TransactionRecord>) -> Result<()> {
        records.into_iter().try_for_each(|r| self.push(r))
    }

    fn check(&mut self, r: &TransactionRecord) -> Result<(), (&'static str, String, Problem)> {
        let num = |field, v: Option<f64>| match v {
            Some(x) if !x.is_finite() => Err((field, x.to_string(), Problem::NonFinite)),
            _ => Ok(()),
        };
        check_amount(r.amount, &self.policy).map_err(|p| ("amount", r.amount.to_string(), p))?;
        num("cost", r.cost)?;
        num("quantity", r.quantity)?;
        let known_as = self
            .id_map
            .as_deref()
            .map_or(r.customer_id.as_str(), |m| m.golden(&r.customer_id));
        if self.policy.require_known_customers && self.customers.index(known_as).is_none() {
            return Err((
                "customer_id",
                r.customer_id.clone(),
                Problem::UnknownCustomer,
            ));
        }
        let has = Columns {
            cost: r.cost.is_some(),
            quantity: r.quantity.is_some(),
            product: r.product_id.is_some(),
            channel: r.channel.is_some(),
            region: r.region.is_some(),
            order: r.order_id.is_some(),
        };
        let expected = *self.columns.get_or_insert_with(|| {
            self.rows = RawRows::with_columns(has);
            has
        });
        for ((field, got), (_, want)) in has.fields().into_iter().zip(expected.fields()) {
            if got != want {
                let problem = if want {
                    Problem::EmptyValue
                } else {
                    Problem::Inconsistent
                };
                return Err((field, String::new(), problem));
            }
        }
        Ok(())
    }

    fn add(&mut self, r: TransactionRecord) {
        let rows = &mut self.rows;
        let id = Self::golden_id(self.id_map.as_deref(), &mut self.merged, &r.customer_id);
        rows.customer.push(self.customers.intern(id).0);
        rows.push_time(r.date);
        rows.amount.push(r.amount);
        // `check` made the presence of each optional column match the record.
        let push = |col: &mut Option<Vec<f64>>, v: Option<f64>| {
            if let (Some(col), Some(v)) = (col, v) {
                col.push(v);
            }
        };
        push(&mut rows.cost, r.cost);
        push(&mut rows.quantity, r.quantity);
        if let (Some(col), Some(p)) = (&mut rows.product, &r.product_id) {
            col.push(self.products.intern(p).0);
        }
        if let (Some(col), Some(v)) = (&mut rows.channel, &r.channel) {
            col.push(self.channels.intern(v));
        }
        if let (Some(col), Some(v)) = (&mut rows.region, &r.region) {
            col.push(self.regions.intern(v));
        }
        if let (Some(col), Some(v)) = (&mut rows.order, &r.order_id) {
            col.push(self.orders.intern(v));
        }
    }

    /// Gives a product its category; the error is the other category it already has.
    pub(crate) fn set_product_category(
        &mut self,
        p: ProductIdx,
        name: &str,
    ) -> std::result::Result<(), String> {
        self.products.set_category(p, name)
    }

    pub(crate) fn row_policy(&self) -> RowPolicy {
        self.policy
    }

    pub(crate) fn customer_ids(&self) -> &std::sync::Arc<Interner> {
        &self.customers.ids
    }

    /// Fixes the optional columns of the log; an error if records already pushed differ:
    /// [`Error::MissingColumn`] for a column they have and `columns` lacks, an
    /// [`Error::Row`] of [`Problem::Inconsistent`] on line 1 for one they lack.
    pub(crate) fn set_columns(&mut self, columns: Columns) -> Result<()> {
        match self.columns {
            None => {
                self.columns = Some(columns);
                self.rows = RawRows::with_columns(columns);
                Ok(())
            }
            Some(c) if c == columns => Ok(()),
            Some(records) => {
                let mut file_columns: Vec<String> =
                    vec!["customer_id".into(), "date".into(), "amount".into()];
                let mut first_difference = None;
                for ((field, in_file), (_, in_records)) in
                    columns.fields().into_iter().zip(records.fields())
                {
                    if in_file {
                        file_columns.push(field.into());
                    }
                    if in_file != in_records && first_difference.is_none() {
                        first_difference = Some((field, in_file));
                    }
                }
                match first_difference {
                    // A column the records have and the file lacks.
                    Some((field, false)) => Err(Error::MissingColumn {
                        column: field.into(),
                        available: file_columns,
                    }),
                    // A column the file has and the records lack: as for a record that
                    // brings a field the first one did not have, on the header's line.
                    Some((field, true)) => Err(Error::Row(RowError {
                        line: 1,
                        field: field.into(),
                        value: String::new(),
                        problem: Problem::Inconsistent,
                    })),
                    None => Ok(()),
                }
            }
        }
    }

    /// Maps local interners (customers, products, channels, regions, orders) to the builder's.
    pub(crate) fn intern_names(&mut self, names: &[Interner; 5]) -> [Vec<u32>; 5] {
        let map = self.id_map.as_deref();
        [
            names[0]
                .iter()
                .map(|s| {
                    let id = Self::golden_id(map, &mut self.merged, s);
                    self.customers.intern(id).0
                })
                .collect(),
            names[1].iter().map(|s| self.products.intern(s).0).collect(),
            names[2].iter().map(|s| self.channels.intern(s)).collect(),
            names[3].iter().map(|s| self.regions.intern(s)).collect(),
            names[4].iter().map(|s| self.orders.intern(s)).collect(),
        ]
    }

    pub(crate) fn append_rows(&mut self, rows: RawRows, maps: &RowMaps<'_>) {
        self.rows.append(rows, maps);
    }

    pub(crate) fn absorb_report(&mut self, report: LoadReport) {
        self.report.absorb(report);
    }

    /// Sorts the log and returns the dataset with the load report.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] when no record was kept; [`Error::InvalidOption`] past
    /// `u32::MAX` rows (row positions are `u32` while the log is sorted).
    pub fn build(self) -> Result<Loaded> {
        if self.rows.len() == 0 {
            return Err(Error::EmptyInput);
        }
        if self.rows.len() > u32::MAX as usize {
            return Err(Error::option(
                "rows",
                self.rows.len(),
                format!("at most {} rows per dataset", u32::MAX),
            ));
        }
        let n = self.customers.len();
        let log = TransactionLog::from_raw(self.rows, n, self.orders);
        Ok(Loaded {
            dataset: Dataset::from_parts(
                self.customers,
                self.products,
                self.channels,
                self.regions,
                log,
            ),
            report: LoadReport {
                merged_ids: (self.merged.0.len() - self.merged.1.len()) as u64,
                ..self.report
            },
        })
    }
}
