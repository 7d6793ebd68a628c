//! The sales cube: order lines grouped by any of their dimensions, with SQL's grouping
//! sets (`CUBE`, `ROLLUP`, explicit sets), exact distinct counts and money summed in
//! whole cents.
//!
//! One parallel pass over the view's customers. A line's dimension members are coded as
//! small integers and packed into one `u64` key (mixed radix: each dimension has its
//! members, a "missing" code and a "rolled up" code). Additive measures are summed per
//! finest cell and rolled up afterwards; distinct orders and customers are counted per
//! customer and per grouping set, which is exact because a customer's lines are all in
//! one place and an order belongs to one customer (checked).

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Datelike, NaiveDate};
use foldhash::fast::FixedState;
use hashbrown::HashMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, Column, Money, Rows, ScopeTag, View};
use crate::error::{Error, Result};
use crate::time::{date_of, day_number, FiscalCalendar};

/// A calendar grain of the period dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Grain {
    /// Days, labelled `2024-03-05`.
    Day,
    /// ISO weeks (from Monday), labelled `2024-W09` with the ISO week-numbering year.
    IsoWeek,
    /// Calendar months, labelled `2024-03`.
    Month,
    /// Calendar quarters, labelled `2024-Q1`.
    Quarter,
    /// Calendar years, labelled `2024`.
    Year,
    /// Quarter of the year, `1` to `4` (with [`Grain::Year`] in a rollup: SQL's
    /// `EXTRACT(quarter ...)`).
    QuarterOfYear,
    /// Month of the year, `1` to `12`.
    MonthOfYear,
    /// 13-week fiscal quarters of a [`FiscalCalendar`], labelled `FY2024-Q1`.
    FiscalQuarter(FiscalCalendar),
}

impl Grain {
    fn name(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::IsoWeek => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
            Grain::QuarterOfYear => "quarter",
            Grain::MonthOfYear => "month",
            Grain::FiscalQuarter(_) => "fiscal_quarter",
        }
    }

    /// A sortable number and the label of the period holding `day`.
    fn period(self, day: i32) -> (i64, String) {
        let d = date_of(day);
        let (y, m) = (d.year(), d.month());
        match self {
            Grain::Day => (day as i64, d.format("%Y-%m-%d").to_string()),
            Grain::IsoWeek => {
                let w = d.iso_week();
                (
                    w.year() as i64 * 100 + w.week() as i64,
                    format!("{}-W{:02}", w.year(), w.week()),
                )
            }
            Grain::Month => (y as i64 * 12 + m as i64, format!("{y}-{m:02}")),
            Grain::Quarter => {
                let q = (m - 1) / 3 + 1;
                (y as i64 * 4 + q as i64, format!("{y}-Q{q}"))
            }
            Grain::Year => (y as i64, y.to_string()),
            Grain::QuarterOfYear => {
                let q = (m - 1) / 3 + 1;
                (q as i64, q.to_string())
            }
            Grain::MonthOfYear => (m as i64, m.to_string()),
            Grain::FiscalQuarter(cal) => {
                let (fy, q) = cal.quarter_of_day(day);
                (fy as i64 * 4 + q as i64, format!("FY{fy}-Q{q}"))
            }
        }
    }
}

/// A named date window (both ends included), a member of [`Dim::Windows`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The member's label (`2023`, `P0`, `before`, ...).
    pub label: String,
    /// First day.
    pub from: NaiveDate,
    /// Last day.
    pub until: NaiveDate,
}

impl Window {
    /// A window from `from` to `until`, both included.
    pub fn new(label: impl Into<String>, from: NaiveDate, until: NaiveDate) -> Window {
        Window {
            label: label.into(),
            from,
            until,
        }
    }

    /// Calendar year `year`, labelled with it.
    pub fn year(year: i32) -> Window {
        let d = |m, d| NaiveDate::from_ymd_opt(year, m, d).unwrap_or(NaiveDate::MIN);
        Window::new(year.to_string(), d(1, 1), d(12, 31))
    }
}

/// A per-customer grouping the caller brings (a segment, a value tier, a team): the label
/// of each customer of `rows`. Customers of the view it does not list have no member
/// (a missing value, as a left join gives).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Grouping {
    name: String,
    rows: Rows,
    labels: Vec<String>,
}

impl Grouping {
    /// The grouping `name` with label `labels[i]` for customer `rows.id(i)`.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when there is not one label per row.
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        rows: Rows,
        labels: impl IntoIterator<Item = S>,
    ) -> Result<Grouping> {
        let labels: Vec<String> = labels.into_iter().map(Into::into).collect();
        if labels.len() != rows.len() {
            return Err(Error::LengthMismatch {
                input: "labels",
                found: labels.len(),
                expected: rows.len(),
                against: "the grouping's rows",
            });
        }
        Ok(Grouping {
            name: name.into(),
            rows,
            labels,
        })
    }

    /// The grouping's name (the dimension's name in the cube).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The customers the grouping labels.
    pub fn rows(&self) -> &Rows {
        &self.rows
    }

    /// The label of each customer of [`rows`](Self::rows), in row order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }
}

/// A dimension of the cube: an attribute of an order line or of its customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Dim {
    /// The product's category (needs the product column and categories in the product
    /// table).
    Category,
    /// The product.
    Product,
    /// The line's channel.
    Channel,
    /// The line's region.
    Region,
    /// The customer's owner, as of the scope's date (the latest assignment without one).
    Owner,
    /// The calendar period of the line's date.
    Period(Grain),
    /// Named date windows; a line outside every window is left out of the cube.
    Windows(Vec<Window>),
    /// A grouping of customers the caller brings.
    Customers(Arc<Grouping>),
}

impl Dim {
    /// The dimension's name: its column name in output tables.
    pub fn name(&self) -> &str {
        match self {
            Dim::Category => "category",
            Dim::Product => "product",
            Dim::Channel => "channel",
            Dim::Region => "region",
            Dim::Owner => "owner",
            Dim::Period(g) => g.name(),
            Dim::Windows(_) => "period",
            Dim::Customers(g) => g.name(),
        }
    }

    /// A dimension by name: `category`, `product`, `channel`, `region`, `owner`, `day`,
    /// `week`, `month`, `quarter`, `year`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] `dims` for any other name.
    pub fn parse(name: &str) -> Result<Dim> {
        Ok(match name.trim() {
            "category" => Dim::Category,
            "product" => Dim::Product,
            "channel" => Dim::Channel,
            "region" => Dim::Region,
            "owner" => Dim::Owner,
            "day" => Dim::Period(Grain::Day),
            "week" => Dim::Period(Grain::IsoWeek),
            "month" => Dim::Period(Grain::Month),
            "quarter" => Dim::Period(Grain::Quarter),
            "year" => Dim::Period(Grain::Year),
            other => {
                return Err(Error::option(
                    "dims",
                    format!("{other:?}"),
                    "category, product, channel, region, owner, day, week, month, quarter or year",
                ))
            }
        })
    }
}

/// Which groupings of the dimensions the cube holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupingSets {
    /// Every subset of the dimensions (SQL `CUBE`): 2ⁿ sets.
    Cube,
    /// The dimensions, then all but the last, ..., then the grand total (SQL `ROLLUP`).
    Rollup,
    /// Only the finest grouping (SQL `GROUP BY` all dimensions).
    Finest,
    /// Explicit sets, each the positions (in the options' dimension list) of the
    /// dimensions it groups by (SQL `GROUPING SETS`).
    Sets(Vec<Vec<usize>>),
}

/// How to build a cube.
///
/// Defaults: no dimensions (the grand total only), [`GroupingSets::Cube`], every line of
/// the view, cost and margin when the log has costs.
///
/// ```
/// use acrm::data::Scope;
/// use acrm::io::CsvOptions;
/// use acrm::performance::{CubeOptions, Dim};
/// let csv = "customer_id,date,amount,cost,channel,order_id\n\
///            A,2024-01-02,10.10,6,web,o1\nA,2024-01-02,5,3,web,o1\nB,2024-02-01,7.5,5,store,o2\n";
/// let data = CsvOptions::new().read_bytes(csv.as_bytes())?.dataset;
/// let cube = CubeOptions::new().dims([Dim::Channel]).compute(&data.view(&Scope::all()))?;
/// let total = cube.cell(&[None]).unwrap();
/// assert_eq!((total.lines, total.orders, total.customers), (3, 2, 2));
/// assert_eq!(total.revenue.to_string(), "22.60");
/// assert_eq!(total.margin.unwrap().to_string(), "8.60");
/// let web = cube.cell(&[Some("web")]).unwrap();
/// assert_eq!(web.revenue.cents(), 1510);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CubeOptions {
    dims: Vec<Dim>,
    sets: GroupingSets,
    filters: Vec<(Dim, Vec<Option<String>>)>,
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    costs: bool,
    /// The cell budget; `None` is [`DEFAULT_MAX_CELLS`].
    #[serde(default)]
    max_cells: Option<u64>,
}

/// Default budget of cells in a cube: 20 million cells take about 4 GB, a sixth of a
/// 24 GiB machine; a report with more is not read by anyone.
pub const DEFAULT_MAX_CELLS: u64 = 20_000_000;

impl Default for CubeOptions {
    fn default() -> Self {
        CubeOptions {
            dims: Vec::new(),
            sets: GroupingSets::Cube,
            filters: Vec::new(),
            from: None,
            until: None,
            costs: true,
            max_cells: None,
        }
    }
}

/// The measures of one cell of a [`Cube`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// SQL's `GROUPING(...)` bitmask: bit set = dimension rolled up, the first dimension
    /// the most significant bit.
    pub grouping: u32,
    /// Member code per dimension (see [`Cube::members`]); `None` when rolled up or when
    /// the line has no value there (the grouping bit tells which).
    pub key: Vec<Option<u32>>,
    /// Order lines (returns included: a return is a line with a negative amount).
    pub lines: u64,
    /// Distinct orders (each line is its own order when the log has no order ids).
    pub orders: u64,
    /// Distinct customers.
    pub customers: u64,
    /// Units (sum of quantities; the number of lines when the log has none).
    pub units: f64,
    /// Revenue, net of returns.
    pub revenue: Money,
    /// Cost of goods, when the log has costs and the options ask for them.
    pub cost: Option<Money>,
    /// Revenue minus cost.
    pub margin: Option<Money>,
}

impl Cell {
    /// Average order value: revenue per order.
    pub fn average_order_value(&self) -> Option<f64> {
        ratio(self.revenue.units(), self.orders as f64)
    }
    /// Margin per unit of revenue (`None` without costs or revenue).
    pub fn margin_rate(&self) -> Option<f64> {
        ratio(self.margin?.units(), self.revenue.units())
    }
    /// Revenue per customer.
    pub fn revenue_per_customer(&self) -> Option<f64> {
        ratio(self.revenue.units(), self.customers as f64)
    }
    /// Orders per customer.
    pub fn orders_per_customer(&self) -> Option<f64> {
        ratio(self.orders as f64, self.customers as f64)
    }

    /// The value of a measure.
    pub fn measure(&self, m: Measure) -> Option<f64> {
        match m {
            Measure::Lines => Some(self.lines as f64),
            Measure::Orders => Some(self.orders as f64),
            Measure::Customers => Some(self.customers as f64),
            Measure::Units => Some(self.units),
            Measure::Revenue => Some(self.revenue.units()),
            Measure::Cost => self.cost.map(Money::units),
            Measure::Margin => self.margin.map(Money::units),
            Measure::AverageOrderValue => self.average_order_value(),
            Measure::MarginRate => self.margin_rate(),
            Measure::RevenuePerCustomer => self.revenue_per_customer(),
            Measure::OrdersPerCustomer => self.orders_per_customer(),
        }
    }
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b != 0.0).then(|| a / b)
}

/// A measure of a cell, to rank by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Measure {
    /// Order lines.
    Lines,
    /// Distinct orders.
    Orders,
    /// Distinct customers.
    Customers,
    /// Units.
    Units,
    /// Revenue.
    Revenue,
    /// Cost of goods.
    Cost,
    /// Margin.
    Margin,
    /// Revenue per order.
    AverageOrderValue,
    /// Margin per unit of revenue.
    MarginRate,
    /// Revenue per customer.
    RevenuePerCustomer,
    /// Orders per customer.
    OrdersPerCustomer,
}

/// What a cube counted besides its cells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CubeReport {
    /// Lines of the view's customers read.
    pub lines_read: u64,
    /// Lines in the cube (after the date window, the filters and [`Dim::Windows`]).
    pub lines_used: u64,
    /// Amounts or costs that were not whole cents and were rounded to the nearest cent.
    pub rounded_to_cent: u64,
}

/// A cube: its dimensions, their members and the cells of every grouping set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cube {
    /// Dimension names, in the options' order.
    pub dims: Vec<String>,
    /// Members of each dimension, by code, in natural order (periods in time order,
    /// names sorted).
    pub members: Vec<Vec<String>>,
    /// The grouping sets, as `grouping` bitmasks, in the order their cells come.
    pub sets: Vec<u32>,
    /// Cells: set by set (in [`sets`](Self::sets) order), members in code order, a
    /// missing value after every member.
    pub cells: Vec<Cell>,
    /// The scope the cube was computed under.
    pub scope: ScopeTag,
    /// Lines read, used and rounded.
    pub report: CubeReport,
}

impl Cube {
    /// The label of a cell's member of dimension `d` (`None` when rolled up or missing).
    pub fn label(&self, cell: &Cell, d: usize) -> Option<&str> {
        cell.key
            .get(d)
            .copied()
            .flatten()
            .map(|c| self.members[d][c as usize].as_str())
    }

    /// The cell with these members (`None` = rolled up), when the cube has it.
    pub fn cell(&self, members: &[Option<&str>]) -> Option<&Cell> {
        if members.len() != self.dims.len() {
            return None;
        }
        let grouping = grouping_of(members.iter().map(Option::is_none));
        self.cells.iter().find(|c| {
            c.grouping == grouping
                && (0..members.len()).all(|d| match members[d] {
                    None => true,
                    Some(m) => self.label(c, d) == Some(m),
                })
        })
    }

    /// The cells of one grouping set.
    pub fn set(&self, grouping: u32) -> impl Iterator<Item = &Cell> + '_ {
        self.cells.iter().filter(move |c| c.grouping == grouping)
    }

    /// Top `n` members of dimension `d` by `measure` within each cell of the grouping set
    /// `parent` (which must roll `d` up): the children of a parent cell are the cells of
    /// the set that groups `d` as well, with the parent's other members. Ties keep member
    /// order; cells without the measure (a margin without costs) are left out.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] `dim` when `d` is not a dimension or `parent` does not roll
    /// it up, or when the cube lacks the parent's or the children's set.
    pub fn top(&self, parent: u32, d: usize, measure: Measure, n: usize) -> Result<Vec<Top>> {
        let k = self.dims.len();
        if d >= k {
            return Err(Error::option("dim", d, format!("a dimension below {k}")));
        }
        let bit = 1u32 << (k - 1 - d);
        if parent & bit == 0 {
            return Err(Error::option(
                "dim",
                &self.dims[d],
                "a dimension the parent grouping rolls up",
            ));
        }
        let child = parent & !bit;
        for g in [parent, child] {
            if !self.sets.contains(&g) {
                return Err(Error::option(
                    "parent",
                    g,
                    format!("a grouping set of the cube ({:?})", self.sets),
                ));
            }
        }
        let mut children: BTreeMap<Vec<Option<u32>>, Vec<(u32, f64)>> = BTreeMap::new();
        for c in self.set(child) {
            let (Some(m), Some(v)) = (c.key[d], c.measure(measure)) else {
                continue;
            };
            let mut key = c.key.clone();
            key[d] = None;
            children.entry(key).or_default().push((m, v));
        }
        Ok(self
            .set(parent)
            .map(|p| {
                let mut kids = children.remove(&p.key).unwrap_or_default();
                // Stable: ties keep member order.
                kids.sort_by(|a, b| b.1.total_cmp(&a.1));
                kids.truncate(n);
                Top {
                    parent: p.key.clone(),
                    members: kids
                        .into_iter()
                        .map(|(m, v)| (self.members[d][m as usize].clone(), v))
                        .collect(),
                }
            })
            .collect())
    }
}

/// The top members under one parent cell ([`Cube::top`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Top {
    /// The parent cell's key.
    pub parent: Vec<Option<u32>>,
    /// Member labels and their measure, largest first.
    pub members: Vec<(String, f64)>,
}

/// The customers and products of one cell ([`CubeOptions::cell_contents`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellContents {
    /// The customers with a line in the cell, and the scope.
    pub customers: Rows,
    /// Revenue of each customer in the cell.
    pub customer_revenue: Vec<Money>,
    /// Products with a line in the cell, with their revenue, by product id (empty when
    /// the log has no products).
    pub products: Vec<(String, Money)>,
}

fn grouping_of(rolled: impl Iterator<Item = bool>) -> u32 {
    rolled.fold(0, |g, r| (g << 1) | r as u32)
}

impl CubeOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }
    /// The dimensions, in order (the first is the most significant `grouping` bit).
    pub fn dims(mut self, dims: impl IntoIterator<Item = Dim>) -> Self {
        self.dims = dims.into_iter().collect();
        self
    }
    /// Which grouping sets to compute.
    pub fn sets(mut self, sets: GroupingSets) -> Self {
        self.sets = sets;
        self
    }
    /// The most cells the cube may have (default [`DEFAULT_MAX_CELLS`]); past it,
    /// [`compute`](Self::compute) stops with [`Error::Budget`] before making them.
    pub fn max_cells(mut self, cells: u64) -> Self {
        self.max_cells = Some(cells);
        self
    }
    /// Only lines whose member of `dim` is one of `members` (`None` = no value). The
    /// dimension need not be one of the cube's.
    pub fn filter<S: Into<String>>(
        mut self,
        dim: Dim,
        members: impl IntoIterator<Item = Option<S>>,
    ) -> Self {
        let members = members.into_iter().map(|m| m.map(Into::into)).collect();
        self.filters.push((dim, members));
        self
    }
    /// Only lines on or after `date`.
    pub fn from(mut self, date: NaiveDate) -> Self {
        self.from = Some(date);
        self
    }
    /// Only lines on or before `date`.
    pub fn until(mut self, date: NaiveDate) -> Self {
        self.until = Some(date);
        self
    }
    /// Whether to sum costs and margins (on by default; they need the cost column, and a
    /// scope that hides costs or margins refuses them). Off, cells carry no cost.
    pub fn costs(mut self, yes: bool) -> Self {
        self.costs = yes;
        self
    }

    /// The options of a drill-down from `cell` of `cube` (computed with these options)
    /// into dimension `next`: the cell's members become filters, and the new cube groups by
    /// the cell's grouped dimensions and `next`, finest set and totals.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] `cell` when the cell's key does not fit the cube.
    pub fn drill(&self, cube: &Cube, cell: &Cell, next: Dim) -> Result<CubeOptions> {
        let mut out = self.clone();
        out.dims = Vec::new();
        if cell.key.len() != self.dims.len() || cube.dims.len() != self.dims.len() {
            return Err(Error::option(
                "cell",
                format!("{:?}", cell.key),
                "a cell of a cube of these options",
            ));
        }
        let k = self.dims.len();
        for (d, dim) in self.dims.iter().enumerate() {
            if cell.grouping & (1 << (k - 1 - d)) == 0 {
                let member = cube.label(cell, d).map(str::to_string);
                out.filters.push((dim.clone(), vec![member]));
                out.dims.push(dim.clone());
            }
        }
        out.dims.push(next);
        let last = out.dims.len() - 1;
        out.sets = GroupingSets::Sets(vec![(0..=last).collect(), (0..last).collect()]);
        Ok(out)
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`]: more than 31 dimensions, a dimension listed twice, a
    /// grouping set naming a dimension that is not there, `from` after `until`, an empty
    /// filter or window list, overlapping windows.
    pub fn validate(&self) -> Result<()> {
        if self.dims.len() > 31 {
            return Err(Error::option(
                "dims",
                self.dims.len(),
                "at most 31 dimensions",
            ));
        }
        for (i, d) in self.dims.iter().enumerate() {
            if self.dims[..i].contains(d) {
                return Err(Error::option("dims", d.name(), "each dimension once"));
            }
        }
        if let GroupingSets::Sets(sets) = &self.sets {
            if sets.is_empty() {
                return Err(Error::option("sets", "[]", "at least one grouping set"));
            }
            for s in sets {
                if let Some(&bad) = s.iter().find(|&&d| d >= self.dims.len()) {
                    return Err(Error::option(
                        "sets",
                        bad,
                        format!("positions of the {} dimensions", self.dims.len()),
                    ));
                }
            }
        }
        if let (Some(a), Some(b)) = (self.from, self.until) {
            if a > b {
                return Err(Error::option("from", a, format!("a date on or before {b}")));
            }
        }
        let windows = self.dims.iter().chain(self.filters.iter().map(|f| &f.0));
        for d in windows {
            if let Dim::Windows(w) = d {
                check_windows(w)?;
            }
        }
        if let Some((d, _)) = self.filters.iter().find(|f| f.1.is_empty()) {
            return Err(Error::option(
                "filter",
                d.name(),
                "at least one member to keep",
            ));
        }
        Ok(())
    }

    /// The grouping sets as bitmasks, in output order.
    fn masks(&self) -> Vec<u32> {
        let k = self.dims.len() as u32;
        let full = if k == 0 { 0 } else { (1u32 << k) - 1 };
        let mut masks: Vec<u32> = match &self.sets {
            GroupingSets::Finest => vec![0],
            GroupingSets::Cube => (0..=full).collect(),
            // ROLLUP(a, b, c): (a, b, c), (a, b), (a), (): roll up from the last.
            GroupingSets::Rollup => (0..=k).map(|r| (1u32 << r) - 1).collect(),
            GroupingSets::Sets(sets) => sets
                .iter()
                .map(|s| {
                    let grouped = grouping_of((0..k as usize).map(|d| !s.contains(&d)));
                    grouped & full
                })
                .collect(),
        };
        let mut seen = Vec::new();
        masks.retain(|m| {
            let new = !seen.contains(m);
            seen.push(*m);
            new
        });
        masks
    }

    /// Computes the cube of the view's lines.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] (performance); [`Error::HiddenColumn`] or
    /// [`Error::MissingColumn`] for a dimension's column (category and product need
    /// `product`; costs need `cost` and `margin` unless [`costs(false)`](Self::costs));
    /// [`Error::UnknownId`] for a filter member the dimension does not have;
    /// [`Error::BadValue`] for an amount beyond ±9 × 10¹³, a sum that overflows, or an
    /// order id shared by two customers; as [`validate`](Self::validate).
    pub fn compute(&self, view: &View<'_>) -> Result<Cube> {
        Ok(self.run(view, false)?.0)
    }

    /// The customers and products behind one cell of `cube` (computed with these
    /// options): its lines' customers with their revenue in the cell, and its products.
    ///
    /// # Errors
    /// As [`compute`](Self::compute) and [`drill`](Self::drill).
    pub fn cell_contents(&self, view: &View<'_>, cube: &Cube, cell: &Cell) -> Result<CellContents> {
        let mut opts = self.drill(cube, cell, Dim::Category)?;
        opts.dims.pop();
        opts.sets = GroupingSets::Finest;
        opts.costs = false;
        let (_, part) = opts.run(view, true)?;
        Ok(part.contents(view))
    }

    /// The cube, and the merged sums (with each customer's and product's revenue when
    /// `keep`, for a cell's contents).
    fn run(&self, view: &View<'_>, keep: bool) -> Result<(Cube, Part)> {
        self.validate()?;
        view.require(Area::Performance)?;
        let costs = self.costs && costs_available(view)?;
        let range = view.day_range();
        let lo = self.from.map(day_number).unwrap_or(i32::MIN);
        let hi = self.until.map(day_number).unwrap_or(i32::MAX);
        let days = range.map(|(a, b)| (a.max(lo), b.min(hi)));
        let coders: Vec<Coder> = self
            .dims
            .iter()
            .map(|d| Coder::new(d, view, days))
            .collect::<Result<_>>()?;
        let filters: Vec<(Coder, Vec<bool>)> = self
            .filters
            .iter()
            .map(|(d, keep)| {
                let c = Coder::new(d, view, days)?;
                let allowed = c.allowed(d, keep)?;
                Ok((c, allowed))
            })
            .collect::<Result<_>>()?;
        let mut strides = Vec::with_capacity(coders.len());
        let mut span: u64 = 1;
        for c in coders.iter().rev() {
            strides.push(span);
            span = span.checked_mul(c.labels.len() as u64 + 2).ok_or_else(|| {
                Error::option(
                    "dims",
                    self.dims.len(),
                    "dimensions whose member counts multiply to less than 2^64",
                )
            })?;
        }
        strides.reverse();
        let mut plan = Plan {
            mask_keys: Vec::new(),
            span,
            coders,
            filters,
            strides,
            masks: self.masks(),
            lo,
            hi,
            costs,
            with_orders: view.orders().is_ok(),
            with_units: view.quantities().is_ok(),
        };
        plan.mask_keys = plan.mask_keys();
        if plan.with_orders {
            check_orders(view)?;
        }
        let n = view.len();
        let scratch = || Scratch {
            codes: Vec::new(),
            pairs: vec![Vec::new(); plan.masks.len()],
            contents: keep,
            customer_seen: Vec::new(),
            run_seen: Vec::new(),
            run: 0,
            orders: Vec::new(),
        };
        // Every sum is an integer: any split of the customers gives the same bits.
        const CHUNK: usize = 1024;
        let total = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .fold(
                || (Part::new(plan.span), scratch()),
                |(mut part, mut s), i| {
                    plan.add(view, i * CHUNK..((i + 1) * CHUNK).min(n), &mut part, &mut s);
                    (part, s)
                },
            )
            .map(|x| x.0)
            .reduce_with(Part::absorb)
            .unwrap_or_else(|| Part::new(plan.span));
        let mut total = total;
        if let Some(e) = total.error.take() {
            return Err(e);
        }
        let cube = plan.finish(self, view, &total)?;
        Ok((cube, total))
    }
}

fn check_windows(w: &[Window]) -> Result<()> {
    if w.is_empty() {
        return Err(Error::option("windows", "[]", "at least one window"));
    }
    for (i, a) in w.iter().enumerate() {
        if a.from > a.until {
            return Err(Error::option(
                "windows",
                &a.label,
                "a window whose first day is not after its last",
            ));
        }
        if let Some(b) = w[..i]
            .iter()
            .find(|b| b.label == a.label || (a.from <= b.until && b.from <= a.until))
        {
            return Err(Error::option(
                "windows",
                format!("{} and {}", b.label, a.label),
                "windows with distinct labels that do not overlap",
            ));
        }
    }
    Ok(())
}

/// Whether costs can be summed: the log has them and the scope shows costs and margins.
fn costs_available(view: &View<'_>) -> Result<bool> {
    match view.costs() {
        Ok(_) => {
            view.need(Column::Margin)?;
            Ok(true)
        }
        Err(Error::MissingColumn { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

/// An order id shared by two customers would be counted once per customer: refused.
fn check_orders(view: &View<'_>) -> Result<()> {
    let orders = view.orders()?;
    let n = view.len();
    let top = (0..n)
        .into_par_iter()
        .map(|k| orders.of(k).iter().map(|o| o.get() + 1).max().unwrap_or(0))
        .max()
        .unwrap_or(0);
    let mut owner = vec![u32::MAX; top];
    for k in 0..n {
        for o in orders.of(k) {
            let slot = &mut owner[o.get()];
            if *slot == u32::MAX {
                *slot = k as u32;
            } else if *slot != k as u32 {
                return Err(Error::bad_value(
                    "transactions",
                    k,
                    "order_id",
                    format!(
                        "an order of customers `{}` and `{}`",
                        view.id(*slot as usize),
                        view.id(k)
                    ),
                    "each order id under one customer",
                ));
            }
        }
    }
    Ok(())
}

/// Where a dimension's member comes from.
#[derive(Debug)]
enum Source {
    /// Per product (category, product).
    Product(Vec<u32>),
    /// Per channel.
    Channel(Vec<u32>),
    /// Per region.
    Region(Vec<u32>),
    /// Per day, from `first`.
    Day { first: i32, codes: Vec<u32> },
    /// Per view customer.
    Customer(Vec<u32>),
}

/// A dimension's members and how to find a line's.
#[derive(Debug)]
struct Coder {
    labels: Vec<String>,
    source: Source,
}

/// Code of a line with no value in a dimension: one past the members.
const NONE: u32 = u32::MAX;
/// Code of a line outside every window of [`Dim::Windows`].
const OUT: u32 = u32::MAX - 1;

/// Sorted distinct labels, and each input's code.
fn codes_of<'s>(names: impl Iterator<Item = &'s str>) -> (Vec<String>, Vec<u32>) {
    let names: Vec<&str> = names.collect();
    let mut labels = names.clone();
    labels.sort_unstable();
    labels.dedup();
    let codes = names
        .iter()
        .map(|s| labels.binary_search(s).map_or(NONE, |i| i as u32))
        .collect();
    (labels.into_iter().map(str::to_string).collect(), codes)
}

/// Codes by a sortable number with labels, in number order.
fn codes_by_number(items: Vec<(i64, String)>) -> (Vec<String>, Vec<u32>) {
    let mut distinct: Vec<(i64, String)> = items.clone();
    distinct.sort();
    distinct.dedup();
    let codes = items
        .iter()
        .map(|it| distinct.binary_search(it).map_or(NONE, |i| i as u32))
        .collect();
    (distinct.into_iter().map(|x| x.1).collect(), codes)
}

impl Coder {
    fn new(dim: &Dim, view: &View<'_>, days: Option<(i32, i32)>) -> Result<Coder> {
        Ok(match dim {
            Dim::Product | Dim::Category => {
                view.products()?;
                let cat = view.catalogue()?;
                let n = cat.len();
                let (labels, codes) = if *dim == Dim::Product {
                    codes_of((0..n).map(|p| cat.ids().name(p)))
                } else {
                    let names = cat.categories();
                    let (labels, by_category) = codes_of(names.iter());
                    let codes = (0..n)
                        .map(|p| {
                            cat.category(crate::data::ProductIdx(p as u32))
                                .map_or(NONE, |c| by_category[c.get()])
                        })
                        .collect();
                    (labels, codes)
                };
                Coder {
                    labels,
                    source: Source::Product(codes),
                }
            }
            Dim::Channel => {
                view.channels()?;
                let (labels, codes) = codes_of(view.channel_names()?.iter());
                Coder {
                    labels,
                    source: Source::Channel(codes),
                }
            }
            Dim::Region => {
                view.regions()?;
                let (labels, codes) = codes_of(view.region_names()?.iter());
                Coder {
                    labels,
                    source: Source::Region(codes),
                }
            }
            Dim::Owner => {
                let (labels, codes) = codes_of_optional((0..view.len()).map(|k| view.owner(k)));
                Coder {
                    labels,
                    source: Source::Customer(codes),
                }
            }
            Dim::Customers(g) => {
                let pos = view.positions(&g.rows)?;
                let mut names: Vec<Option<&str>> = vec![None; view.len()];
                for (i, &k) in pos.iter().enumerate() {
                    names[k] = Some(g.labels[i].as_str());
                }
                let (labels, codes) = codes_of_optional(names.into_iter());
                Coder {
                    labels,
                    source: Source::Customer(codes),
                }
            }
            Dim::Period(grain) => {
                let (first, last) = days.unwrap_or((0, -1));
                let items: Vec<(i64, String)> = (first..=last.max(first - 1))
                    .map(|d| grain.period(d))
                    .collect();
                let (labels, codes) = codes_by_number(items);
                Coder {
                    labels,
                    source: Source::Day { first, codes },
                }
            }
            Dim::Windows(w) => {
                check_windows(w)?;
                let first = w.iter().map(|x| day_number(x.from)).min().unwrap_or(0);
                let last = w.iter().map(|x| day_number(x.until)).max().unwrap_or(-1);
                let mut codes = vec![OUT; (last - first + 1).max(0) as usize];
                for (i, x) in w.iter().enumerate() {
                    for d in day_number(x.from)..=day_number(x.until) {
                        codes[(d - first) as usize] = i as u32;
                    }
                }
                Coder {
                    labels: w.iter().map(|x| x.label.clone()).collect(),
                    source: Source::Day { first, codes },
                }
            }
        })
    }

    /// Which codes a filter keeps.
    fn allowed(&self, dim: &Dim, keep: &[Option<String>]) -> Result<Vec<bool>> {
        let mut allowed = vec![false; self.labels.len() + 1];
        for m in keep {
            match m {
                None => allowed[self.labels.len()] = true,
                Some(m) => {
                    let i = self.labels.binary_search(m).ok().or_else(|| {
                        // Period labels are in time order, not text order.
                        self.labels.iter().position(|l| l == m)
                    });
                    match i {
                        Some(i) => allowed[i] = true,
                        None => {
                            return Err(Error::UnknownId {
                                kind: dim.name().to_string(),
                                id: m.clone(),
                            })
                        }
                    }
                }
            }
        }
        Ok(allowed)
    }
}

fn codes_of_optional<'s>(names: impl Iterator<Item = Option<&'s str>>) -> (Vec<String>, Vec<u32>) {
    let names: Vec<Option<&str>> = names.collect();
    let (labels, codes) = codes_of(names.iter().flatten().copied());
    let mut it = codes.into_iter();
    let codes = names
        .iter()
        .map(|n| match n {
            Some(_) => it.next().unwrap_or(NONE),
            None => NONE,
        })
        .collect();
    (labels, codes)
}

/// Everything a pass over customers needs.
struct Plan {
    mask_keys: Vec<MaskKeys>,
    span: u64,
    coders: Vec<Coder>,
    filters: Vec<(Coder, Vec<bool>)>,
    strides: Vec<u64>,
    masks: Vec<u32>,
    lo: i32,
    hi: i32,
    costs: bool,
    with_orders: bool,
    with_units: bool,
}

/// Additive sums of a cell. Every sum is an integer, so the totals are the same bits in
/// any order of addition (any thread count, any split of the customers).
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    lines: u64,
    /// Millionths of a unit.
    units: i64,
    revenue: i64,
    cost: i64,
}

impl Sums {
    /// Adds `other`; an error when a sum leaves 64 bits.
    fn add(&mut self, other: &Sums) -> Result<()> {
        self.lines += other.lines;
        self.units = self
            .units
            .checked_add(other.units)
            .ok_or_else(|| overflow("quantity"))?;
        self.revenue = self
            .revenue
            .checked_add(other.revenue)
            .ok_or_else(|| overflow("amount"))?;
        self.cost = self
            .cost
            .checked_add(other.cost)
            .ok_or_else(|| overflow("cost"))?;
        Ok(())
    }
}

/// Distinct counts of a cell.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    orders: u64,
    customers: u64,
}

type Map<V> = HashMap<u64, V, FixedState>;

/// Cells by key: an array over the whole key space when it is small (most cubes: a few
/// dimensions of tens of members), a hash map otherwise.
enum Store {
    Dense(Vec<Sums>, Vec<Counts>),
    Sparse(Map<Sums>, Map<Counts>),
}

/// Key spaces up to this many cells are arrays (about 12 MB per accumulator).
const DENSE: u64 = 1 << 18;

impl Store {
    fn new(span: u64) -> Store {
        if span <= DENSE {
            let n = span as usize;
            Store::Dense(vec![Sums::default(); n], vec![Counts::default(); n])
        } else {
            Store::Sparse(Map::default(), Map::default())
        }
    }

    #[inline]
    fn sums(&mut self, key: u64) -> &mut Sums {
        match self {
            Store::Dense(s, _) => &mut s[key as usize],
            Store::Sparse(s, _) => s.entry(key).or_default(),
        }
    }

    #[inline]
    fn counts(&mut self, key: u64) -> &mut Counts {
        match self {
            Store::Dense(_, c) => &mut c[key as usize],
            Store::Sparse(_, c) => c.entry(key).or_default(),
        }
    }

    /// The cells with lines, in key order.
    fn cells(&self) -> Vec<(u64, Sums)> {
        let mut out: Vec<(u64, Sums)> = match self {
            Store::Dense(s, _) => s
                .iter()
                .enumerate()
                .filter(|x| x.1.lines > 0)
                .map(|(k, s)| (k as u64, *s))
                .collect(),
            Store::Sparse(s, _) => s.iter().map(|(&k, &v)| (k, v)).collect(),
        };
        out.sort_unstable_by_key(|x| x.0);
        out
    }

    fn count(&self, key: u64) -> Counts {
        match self {
            Store::Dense(_, c) => c.get(key as usize).copied().unwrap_or_default(),
            Store::Sparse(_, c) => c.get(&key).copied().unwrap_or_default(),
        }
    }

    fn absorb(&mut self, other: Store) -> Result<()> {
        match (self, other) {
            (Store::Dense(s, c), Store::Dense(s2, c2)) => {
                for (e, x) in s.iter_mut().zip(&s2) {
                    if x.lines > 0 {
                        e.add(x)?;
                    }
                }
                for (e, x) in c.iter_mut().zip(&c2) {
                    e.orders += x.orders;
                    e.customers += x.customers;
                }
            }
            (Store::Sparse(s, c), Store::Sparse(s2, c2)) => {
                for (k, x) in s2 {
                    s.entry(k).or_default().add(&x)?;
                }
                for (k, x) in c2 {
                    let e = c.entry(k).or_default();
                    e.orders += x.orders;
                    e.customers += x.customers;
                }
            }
            // Both come from `Store::new` with the same span.
            _ => unreachable!("stores of one cube have one kind"),
        }
        Ok(())
    }
}

/// What a share of the customers adds up to.
struct Part {
    store: Store,
    report: CubeReport,
    /// Per customer (view position) with a line, its revenue; per product its revenue
    /// (only for [`CubeOptions::cell_contents`]).
    customers: Vec<(usize, i64)>,
    products: BTreeMap<u32, i64>,
    /// The first error met (checked when parts are merged).
    error: Option<Error>,
}

impl Part {
    fn new(span: u64) -> Part {
        Part {
            store: Store::new(span),
            report: CubeReport::default(),
            customers: Vec::new(),
            products: BTreeMap::new(),
            error: None,
        }
    }

    /// Merges a part of later customers.
    fn absorb(mut self, other: Part) -> Part {
        if self.error.is_some() {
            return self;
        }
        if other.error.is_some() {
            self.error = other.error;
            return self;
        }
        if let Err(e) = self.store.absorb(other.store) {
            self.error = Some(e);
            return self;
        }
        self.report.lines_read += other.report.lines_read;
        self.report.lines_used += other.report.lines_used;
        self.report.rounded_to_cent += other.report.rounded_to_cent;
        self.customers.extend(other.customers);
        for (p, r) in other.products {
            let e = self.products.entry(p).or_default();
            *e = e.saturating_add(r);
        }
        self
    }

    fn contents(&self, view: &View<'_>) -> CellContents {
        let mut keep: Vec<usize> = self.customers.iter().map(|c| c.0).collect();
        keep.sort_unstable();
        let rows = view.rows_where(|k| keep.binary_search(&k).is_ok());
        let mut revenue: Vec<(usize, i64)> = self.customers.clone();
        revenue.sort_unstable();
        let products = match view.catalogue() {
            Ok(cat) => self
                .products
                .iter()
                .map(|(&p, &r)| (cat.ids().name(p as usize).to_string(), Money::from_cents(r)))
                .collect(),
            Err(_) => Vec::new(),
        };
        CellContents {
            customers: rows,
            customer_revenue: revenue.iter().map(|c| Money::from_cents(c.1)).collect(),
            products,
        }
    }
}

fn overflow(what: &str) -> Error {
    Error::bad_value(
        "transactions",
        0,
        what,
        "a sum beyond ±9.2 × 10¹⁸ (cents or millionths of a unit)",
        "sums that fit in 64 bits",
    )
}

/// Buffers reused from customer to customer.
struct Scratch {
    /// The current line's code × stride per dimension.
    codes: Vec<u64>,
    /// Per grouping set, the customer's (key, order) pairs.
    pairs: Vec<Vec<(u64, u32)>>,
    /// Whether to keep the customers and products (for a cell's contents).
    contents: bool,
    /// With a dense store: per cell, the last customer (view position + 1) and the last
    /// order run counted in it, so distinct counts need no sorting.
    customer_seen: Vec<u32>,
    run_seen: Vec<u64>,
    /// The current order run (a maximal sequence of one order's lines).
    run: u64,
    /// Scratch for checking that a customer's orders are contiguous.
    orders: Vec<u32>,
}

/// A grouping set as the pass computes its keys: the constant part (rolled-up
/// dimensions at their "rolled up" code) and the dimensions it groups by.
struct MaskKeys {
    base: u64,
    grouped: Vec<usize>,
}

impl Plan {
    /// The code of row `i` of a customer in dimension `c`.
    #[inline]
    fn code(c: &Coder, h: &crate::data::History<'_>, i: usize, k: usize) -> u32 {
        match &c.source {
            Source::Product(t) => h
                .products
                .map_or(NONE, |p| t.get(p[i].get()).copied().unwrap_or(NONE)),
            Source::Channel(t) => h
                .channels
                .map_or(NONE, |x| t.get(x[i].get()).copied().unwrap_or(NONE)),
            Source::Region(t) => h
                .regions
                .map_or(NONE, |x| t.get(x[i].get()).copied().unwrap_or(NONE)),
            Source::Day { first, codes } => {
                let d = h.days[i] - first;
                if d < 0 {
                    OUT
                } else {
                    codes.get(d as usize).copied().unwrap_or(OUT)
                }
            }
            Source::Customer(t) => t[k],
        }
    }

    fn mask_keys(&self) -> Vec<MaskKeys> {
        let k = self.coders.len();
        self.masks
            .iter()
            .map(|&m| {
                let rolled = |d: usize| m & (1 << (k - 1 - d)) != 0;
                MaskKeys {
                    base: (0..k)
                        .filter(|&d| rolled(d))
                        .map(|d| (self.coders[d].labels.len() as u64 + 1) * self.strides[d])
                        .sum(),
                    grouped: (0..k).filter(|&d| !rolled(d)).collect(),
                }
            })
            .collect()
    }

    /// Adds customers `range` of the view to `part`.
    fn add(
        &self,
        view: &View<'_>,
        range: std::ops::Range<usize>,
        part: &mut Part,
        scratch: &mut Scratch,
    ) {
        if part.error.is_some() {
            return;
        }
        if let Err(e) = self.add_customers(view, range, part, scratch) {
            part.error = Some(e);
        }
    }

    fn add_customers(
        &self,
        view: &View<'_>,
        range: std::ops::Range<usize>,
        part: &mut Part,
        scratch: &mut Scratch,
    ) -> Result<()> {
        let Scratch {
            codes,
            pairs,
            contents,
            customer_seen,
            run_seen,
            run,
            orders,
        } = scratch;
        let masks = &self.mask_keys;
        let dense = matches!(part.store, Store::Dense(..));
        if dense && customer_seen.is_empty() {
            customer_seen.resize(self.span as usize, 0);
            run_seen.resize(self.span as usize, 0);
        }
        let order_of = |h: &crate::data::History<'_>, i: usize| match (self.with_orders, h.orders) {
            (true, Some(o)) => o[i].get() as u32,
            _ => i as u32,
        };
        for k in range {
            let h = view.history(k);
            part.report.lines_read += h.len() as u64;
            for p in pairs.iter_mut() {
                p.clear();
            }
            // When each order's lines are side by side (as exports write them), a change
            // of order starts a new run and distinct counts are marks in arrays; otherwise
            // the customer's (cell, order) pairs are sorted.
            let fast = dense && {
                orders.clear();
                let mut prev = None;
                for i in 0..h.len() {
                    let o = order_of(&h, i);
                    if prev != Some(o) {
                        orders.push(o);
                        prev = Some(o);
                    }
                }
                orders.sort_unstable();
                orders.windows(2).all(|w| w[0] != w[1])
            };
            let stamp = k as u32 + 1;
            let mut current: Option<u32> = None;
            let mut customer_revenue = 0i64;
            let mut any = false;
            'rows: for i in 0..h.len() {
                let day = h.days[i];
                if day < self.lo || day > self.hi {
                    continue;
                }
                for (c, allowed) in &self.filters {
                    let code = Self::code(c, &h, i, k);
                    let slot = if code == NONE {
                        c.labels.len()
                    } else {
                        code as usize
                    };
                    if code == OUT || !allowed.get(slot).copied().unwrap_or(false) {
                        continue 'rows;
                    }
                }
                codes.clear();
                let mut key = 0u64;
                for (d, c) in self.coders.iter().enumerate() {
                    let code = Self::code(c, &h, i, k);
                    if code == OUT {
                        continue 'rows;
                    }
                    let code = if code == NONE {
                        c.labels.len() as u64
                    } else {
                        code as u64
                    };
                    let v = code * self.strides[d];
                    codes.push(v);
                    key += v;
                }
                let (revenue, exact) = Money::from_units_exact(h.amounts[i])
                    .ok_or_else(|| too_large(view, k, i, "amount", h.amounts[i]))?;
                let mut cost = 0;
                let mut rounded = !exact;
                if self.costs {
                    if let Some(cs) = h.costs {
                        let (m, e) = Money::from_units_exact(cs[i])
                            .ok_or_else(|| too_large(view, k, i, "cost", cs[i]))?;
                        cost = m.cents();
                        rounded |= !e;
                    }
                }
                let units = match (self.with_units, h.quantities) {
                    (true, Some(q)) => {
                        let micro = (q[i] * 1e6).round();
                        if micro.is_nan() || micro.abs() >= 9e18 {
                            return Err(too_large(view, k, i, "quantity", q[i]));
                        }
                        micro as i64
                    }
                    _ => 1_000_000,
                };
                part.report.lines_used += 1;
                part.report.rounded_to_cent += rounded as u64;
                any = true;
                part.store.sums(key).add(&Sums {
                    lines: 1,
                    units,
                    revenue: revenue.cents(),
                    cost,
                })?;
                let order = order_of(&h, i);
                if fast {
                    if current != Some(order) {
                        current = Some(order);
                        *run += 1;
                    }
                    let Store::Dense(_, counts) = &mut part.store else {
                        unreachable!("fast only with a dense store")
                    };
                    for m in masks {
                        let key =
                            (m.base + m.grouped.iter().map(|&d| codes[d]).sum::<u64>()) as usize;
                        let c = &mut counts[key];
                        if customer_seen[key] != stamp {
                            customer_seen[key] = stamp;
                            c.customers += 1;
                        }
                        if run_seen[key] != *run {
                            run_seen[key] = *run;
                            c.orders += 1;
                        }
                    }
                } else {
                    for (mi, m) in masks.iter().enumerate() {
                        let key = m.base + m.grouped.iter().map(|&d| codes[d]).sum::<u64>();
                        pairs[mi].push((key, order));
                    }
                }
                if let Some(p) = h.products.filter(|_| *contents) {
                    let e = part.products.entry(p[i].get() as u32).or_default();
                    *e = e.saturating_add(revenue.cents());
                }
                customer_revenue = customer_revenue.saturating_add(revenue.cents());
            }
            if !any {
                continue;
            }
            if *contents {
                part.customers.push((k, customer_revenue));
            }
            for list in pairs.iter_mut() {
                list.sort_unstable();
                list.dedup();
                let mut j = 0;
                while j < list.len() {
                    let key = list[j].0;
                    let start = j;
                    while j < list.len() && list[j].0 == key {
                        j += 1;
                    }
                    let c = part.store.counts(key);
                    c.orders += (j - start) as u64;
                    c.customers += 1;
                }
            }
        }
        Ok(())
    }

    /// `key` (of the finest grouping) with the dimensions `mask` rolls up set to their
    /// "rolled up" code.
    fn project(&self, key: u64, mask: u32, k: usize) -> u64 {
        if mask == 0 {
            return key;
        }
        let mut out = key;
        for d in 0..k {
            if mask & (1 << (k - 1 - d)) != 0 {
                let radix = self.coders[d].labels.len() as u64 + 2;
                let stride = self.strides[d];
                let code = (key / stride) % radix;
                out = out - code * stride + (radix - 1) * stride;
            }
        }
        out
    }

    fn finish(&self, opts: &CubeOptions, view: &View<'_>, total: &Part) -> Result<Cube> {
        let k = self.coders.len();
        let mut cells = Vec::new();
        let base = total.store.cells();
        let limit = opts.max_cells.unwrap_or(DEFAULT_MAX_CELLS);
        for &mask in &self.masks {
            let mut sums: BTreeMap<u64, Sums> = BTreeMap::new();
            for (key, s) in &base {
                sums.entry(self.project(*key, mask, k))
                    .or_default()
                    .add(s)?;
            }
            if k == 0 && sums.is_empty() {
                sums.insert(0, Sums::default());
            }
            // Counted before the cells are made: no set's cells outnumber the finest
            // set's, which the lines bound, so memory stays near the input's until here.
            if (cells.len() + sums.len()) as u64 > limit {
                return Err(Error::Budget {
                    what: "cube cells",
                    limit,
                    advice: "use fewer dimensions or grouping sets (ROLLUP or explicit sets \
                             rather than CUBE), filter the lines, or raise the cell budget"
                        .into(),
                });
            }
            for (key, s) in sums {
                let counts = total.store.count(key);
                let decoded = (0..k)
                    .map(|d| {
                        let radix = self.coders[d].labels.len() as u64 + 2;
                        let code = (key / self.strides[d]) % radix;
                        (code < radix - 2).then_some(code as u32)
                    })
                    .collect();
                let cost = self.costs.then_some(Money::from_cents(s.cost));
                cells.push(Cell {
                    grouping: mask,
                    key: decoded,
                    lines: s.lines,
                    orders: counts.orders,
                    customers: counts.customers,
                    units: s.units as f64 / 1e6,
                    revenue: Money::from_cents(s.revenue),
                    cost,
                    margin: match cost {
                        None => None,
                        Some(c) => Some(
                            Money::from_cents(s.revenue)
                                .checked_sub(c)
                                .ok_or_else(|| overflow("margin"))?,
                        ),
                    },
                });
            }
        }
        Ok(Cube {
            dims: opts.dims.iter().map(|d| d.name().to_string()).collect(),
            members: self.coders.iter().map(|c| c.labels.clone()).collect(),
            sets: self.masks.clone(),
            cells,
            scope: view.scope().clone(),
            report: total.report,
        })
    }
}

/// A value the cube cannot sum exactly: row `i` (from 0, in time order) of the view's
/// customer `k`.
fn too_large(view: &View<'_>, k: usize, i: usize, field: &str, v: f64) -> Error {
    Error::bad_value(
        format!("transactions of customer `{}`", view.id(k)),
        i,
        field,
        v,
        "an amount or cost within ±9 × 10¹³, a quantity within ±9 × 10¹²",
    )
}
