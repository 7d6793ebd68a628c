//! Per-customer profit: revenue, cost of goods, gross margin, cost to serve, net profit.
//!
//! One pass over the transaction log, parallel over customers (each customer's rows are a
//! contiguous slice), with the totals reduced in a fixed order.

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{
    count_orders, is_purchase, Area, Column, ColumnState, OrderIdx, PerCustomer, ProductIdx, Rows,
    View,
};
use crate::error::{Error, Result};
use crate::time::day_number;

/// Where the cost of goods comes from.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum CostOfGoods {
    /// The log's cost column when it has one, else the products' unit costs when the log
    /// has products and every product sold has a unit cost; an error otherwise.
    #[default]
    Auto,
    /// The log's cost column, as given (a return row carries its own, usually negative,
    /// cost).
    Column,
    /// Product unit cost × quantity (1 when the log has no quantities). Returned goods
    /// come back at cost: a return row's cost is minus unit cost × |quantity|.
    UnitCost,
    /// A gross margin rate m applied to every row: cost = (1 − m) × amount, so returns
    /// give their cost back. For data without costs (CDNOW); m must be finite and below 1.
    MarginRate(f64),
}

/// How to compute per-customer profit.
///
/// Defaults: every transaction (no window), cost of goods [`CostOfGoods::Auto`], no cost
/// to serve. Cost to serve is the sum of the allocations set:
/// - [`per_order`](Self::per_order): each order (distinct order id among purchase rows
///   when the log has order ids, otherwise each purchase row, as in the summary);
/// - [`per_unit`](Self::per_unit): each unit bought (|quantity| when the log has it, else
///   one per purchase row);
/// - [`per_service_event`](Self::per_service_event): each service event or contact, from
///   counts the caller passes to [`compute`](Self::compute) (charged to customers without
///   a purchase in the window too);
/// - [`fixed_per_period`](Self::fixed_per_period): a fixed amount per customer per period
///   of `days`, pro rata over the customer's time on the books: from their first row in
///   the window to the window's end (the `until` date, or the last day of the whole log,
///   whatever the scope, so a customer's cost does not depend on who else is viewed). Customers
///   without a row in the window are not on the books and cost nothing;
/// - [`returns_handling`](Self::returns_handling): per return row, plus a share of the
///   value returned.
///
/// ```
/// use acrm::data::Scope;
/// use acrm::io::CsvOptions;
/// use acrm::profitability::{CostOfGoods, ProfitOptions};
/// let csv = "customer_id,date,amount\nA,2024-01-02,100\nB,2024-01-03,10\nA,2024-02-01,-20\n";
/// let data = CsvOptions::new().read_bytes(csv.as_bytes())?.dataset;
/// let p = ProfitOptions::new()
///     .cost_of_goods(CostOfGoods::MarginRate(0.4))
///     .per_order(5.0)
///     .returns_handling(2.0, 0.0)
///     .compute(&data.view(&Scope::all()), None)?;
/// // A: revenue 80, cost 48, margin 32, serve 5 + 2 → 25. B: 10 − 6 − 5 = −1.
/// assert!((p.net_profit[0] - 25.0).abs() < 1e-12);
/// assert!((p.net_profit[1] + 1.0).abs() < 1e-12);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfitOptions {
    from: Option<NaiveDate>,
    until: Option<NaiveDate>,
    cost_of_goods: CostOfGoods,
    per_order: f64,
    per_unit: f64,
    per_service_event: f64,
    fixed: Option<(f64, u32)>,
    per_return: f64,
    return_value_share: f64,
}

impl Default for ProfitOptions {
    fn default() -> Self {
        ProfitOptions {
            from: None,
            until: None,
            cost_of_goods: CostOfGoods::Auto,
            per_order: 0.0,
            per_unit: 0.0,
            per_service_event: 0.0,
            fixed: None,
            per_return: 0.0,
            return_value_share: 0.0,
        }
    }
}

/// Per-customer profit of a view's customers, and its totals. Row `i` is customer
/// `rows.id(i)`; the rows carry the scope the profit was computed under.
///
/// For every customer `net_profit = gross_margin − cost_to_serve` and
/// `gross_margin = revenue − cost_of_goods`, computed in that order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profits {
    /// The customers (every customer of the view), and the scope.
    pub rows: Rows,
    /// Revenue, net of returns.
    pub revenue: Vec<f64>,
    /// Cost of goods (returned goods subtracted).
    pub cost_of_goods: Vec<f64>,
    /// Revenue minus cost of goods.
    pub gross_margin: Vec<f64>,
    /// Sum of the cost-to-serve allocations.
    pub cost_to_serve: Vec<f64>,
    /// Gross margin minus cost to serve.
    pub net_profit: Vec<f64>,
    /// Whether the customer has a row in the window.
    pub active: Vec<bool>,
    /// Totals over the rows.
    pub totals: ProfitTotals,
}

/// Totals of [`Profits`], with cost to serve broken down by allocation.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ProfitTotals {
    /// Customers with a row in the window.
    pub customers: usize,
    /// Rows in the window.
    pub transactions: u64,
    /// Revenue net of returns.
    pub revenue: f64,
    /// Cost of goods.
    pub cost_of_goods: f64,
    /// Gross margin.
    pub gross_margin: f64,
    /// Cost to serve: orders.
    pub order_costs: f64,
    /// Cost to serve: units.
    pub unit_costs: f64,
    /// Cost to serve: service events.
    pub service_costs: f64,
    /// Cost to serve: fixed per period.
    pub fixed_costs: f64,
    /// Cost to serve: returns handling.
    pub returns_costs: f64,
    /// All cost to serve.
    pub cost_to_serve: f64,
    /// Net profit.
    pub net_profit: f64,
}

/// One customer's sums, in the order they are reduced.
#[derive(Debug, Clone, Copy, Default)]
struct Line {
    rows: u64,
    revenue: f64,
    cogs: f64,
    orders: f64,
    units: f64,
    service: f64,
    fixed: f64,
    returns: f64,
}

fn check(option: &'static str, v: f64) -> Result<f64> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(Error::option(option, v, "a finite cost ≥ 0"))
    }
}

impl ProfitOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }
    /// Only rows on or after `date`.
    pub fn from(mut self, date: NaiveDate) -> Self {
        self.from = Some(date);
        self
    }
    /// Only rows on or before `date` (the as-of date); also the end of time on the books.
    pub fn until(mut self, date: NaiveDate) -> Self {
        self.until = Some(date);
        self
    }
    /// Where the cost of goods comes from.
    pub fn cost_of_goods(mut self, c: CostOfGoods) -> Self {
        self.cost_of_goods = c;
        self
    }
    /// Cost per order.
    pub fn per_order(mut self, cost: f64) -> Self {
        self.per_order = cost;
        self
    }
    /// Cost per unit bought.
    pub fn per_unit(mut self, cost: f64) -> Self {
        self.per_unit = cost;
        self
    }
    /// Cost per service event or contact.
    pub fn per_service_event(mut self, cost: f64) -> Self {
        self.per_service_event = cost;
        self
    }
    /// A fixed `cost` per customer per period of `days` days, pro rata.
    pub fn fixed_per_period(mut self, cost: f64, days: u32) -> Self {
        self.fixed = Some((cost, days));
        self
    }
    /// Handling cost per return row, plus `value_share` (in \[0, 1\]) of the value returned.
    pub fn returns_handling(mut self, per_return: f64, value_share: f64) -> Self {
        self.per_return = per_return;
        self.return_value_share = value_share;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        check("per_order", self.per_order)?;
        check("per_unit", self.per_unit)?;
        check("per_service_event", self.per_service_event)?;
        check("returns_handling", self.per_return)?;
        if !(0.0..=1.0).contains(&self.return_value_share) {
            return Err(Error::option(
                "returns_handling",
                self.return_value_share,
                "a value share in [0, 1]",
            ));
        }
        if let Some((cost, days)) = self.fixed {
            check("fixed_per_period", cost)?;
            if days == 0 {
                return Err(Error::option(
                    "fixed_per_period",
                    days,
                    "a period of at least 1 day",
                ));
            }
        }
        if let CostOfGoods::MarginRate(m) = self.cost_of_goods {
            if !(m.is_finite() && m < 1.0) {
                return Err(Error::option(
                    "cost_of_goods",
                    format!("MarginRate({m})"),
                    "a finite margin rate below 1",
                ));
            }
        }
        if let (Some(a), Some(b)) = (self.from, self.until) {
            if a > b {
                return Err(Error::option(
                    "from",
                    a,
                    format!("a date on or before the until date {b}"),
                ));
            }
        }
        Ok(())
    }

    /// Per-customer profit of the view's customers. `service_events`, when given,
    /// holds each customer's number of service events or contacts in the window,
    /// index-aligned with the view.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids profitability;
    /// [`Error::HiddenColumn`] when it hides margins, or hides the costs the cost source
    /// reads; [`Error::InvalidOption`] for a negative or non-finite allocation, a margin
    /// rate not below 1, a `from` date after `until`, or a cost per service event without
    /// service events; [`Error::LengthMismatch`] for service events of the wrong length;
    /// [`Error::MissingColumn`] for a cost source the data cannot give (no cost column
    /// for [`CostOfGoods::Column`], no product column for [`CostOfGoods::UnitCost`],
    /// neither for [`CostOfGoods::Auto`]); [`Error::BadValue`] naming the first customer
    /// row whose product has no unit cost.
    pub fn compute(&self, view: &View<'_>, service_events: Option<&[u32]>) -> Result<Profits> {
        self.validate()?;
        view.require(Area::Profitability)?;
        view.scope().reveal(Column::Margin)?;
        let n = view.len();
        if let Some(ev) = service_events {
            Error::check_len("service_events", ev.len(), n, "customers of the view")?;
        }
        if self.per_service_event > 0.0 && service_events.is_none() {
            return Err(Error::option(
                "per_service_event",
                self.per_service_event,
                "0 when no service event counts are given (`service_events` is None)",
            ));
        }
        // Allocations by unit or order read those columns when the data has them: hidden,
        // they are an error, not a silently different count.
        for (charged, column) in [
            (self.per_unit > 0.0, Column::Quantity),
            (self.per_order > 0.0, Column::Order),
        ] {
            if charged && view.column(column) == ColumnState::Hidden {
                view.need(column)?;
            }
        }
        let cogs = self.cost_source(view)?;
        let lo = self.from.map_or(i32::MIN, day_number);
        let end = match self.until {
            Some(d) => day_number(d),
            None => view.log_span().map_or(0, |r| r.1),
        };
        let fixed = self.fixed.map(|(c, d)| (c, f64::from(d)));
        let lines: Vec<Line> = (0..n)
            .into_par_iter()
            .with_min_len(1 << 12)
            .map_init(Vec::new, |buf: &mut Vec<OrderIdx>, k| {
                let h = view.history(k);
                // Rows are in time order: the window is a contiguous sub-slice.
                let start = h.days.partition_point(|&d| d < lo);
                let stop = start + h.days[start..].partition_point(|&d| d <= end);
                // Service events cost the same whether or not the customer bought.
                let service =
                    self.per_service_event * service_events.map_or(0.0, |e| f64::from(e[k]));
                if start == stop {
                    return Line {
                        service,
                        ..Line::default()
                    };
                }
                let mut line = Line {
                    rows: (stop - start) as u64,
                    service,
                    ..Line::default()
                };
                let cost = cogs.of(k);
                let (mut purchases, mut units, mut returns, mut returned) = (0u32, 0.0, 0u32, 0.0);
                for i in start..stop {
                    let amount = h.amounts[i];
                    line.revenue += amount;
                    line.cogs += cost.cost(i, amount);
                    if is_purchase(amount) {
                        purchases += 1;
                        units += h.quantities.map_or(1.0, |q| q[i].abs());
                    } else {
                        returns += 1;
                        returned -= amount;
                    }
                }
                let order_count = match h.orders {
                    None => purchases,
                    o => count_orders(o, h.amounts, start..stop, buf),
                };
                line.orders = self.per_order * f64::from(order_count);
                line.units = self.per_unit * units;
                if let Some((cost, period)) = fixed {
                    // Time on the books counts the first day: a customer first seen on the
                    // window's last day is on the books for one day.
                    let on_books = f64::from(end - h.days[start] + 1);
                    line.fixed = cost * on_books / period;
                }
                line.returns =
                    self.per_return * f64::from(returns) + self.return_value_share * returned;
                line
            })
            .collect();
        Ok(assemble(view.rows(), lines))
    }

    fn cost_source<'v>(&self, view: &'v View<'_>) -> Result<Cogs<'v>> {
        let unit_costs = || -> Result<Cogs<'v>> {
            let products = view.products()?;
            let catalogue = view.catalogue()?;
            let mut unit = Vec::with_capacity(catalogue.len());
            for p in 0..catalogue.len() {
                let idx = ProductIdx(p as u32);
                unit.push(catalogue.unit_cost(idx)?.unwrap_or(f64::NAN));
            }
            // Only products actually sold need a unit cost.
            let missing = (0..view.len())
                .into_par_iter()
                .find_first(|&k| products.of(k).iter().any(|p| unit[p.get()].is_nan()));
            if let Some(k) = missing {
                let p = products.of(k).iter().find(|p| unit[p.get()].is_nan());
                return Err(Error::bad_value(
                    "customers",
                    k,
                    "product",
                    p.map_or("", |&p| catalogue.id(p)),
                    format!(
                        "a product with a unit cost (customer `{}` bought one without)",
                        view.id(k)
                    ),
                ));
            }
            let quantities = match view.quantities() {
                Ok(q) => Some(q),
                Err(Error::MissingColumn { .. }) => None,
                Err(e) => return Err(e),
            };
            Ok(Cogs::Unit {
                unit,
                products,
                quantities,
            })
        };
        match self.cost_of_goods {
            CostOfGoods::MarginRate(m) => Ok(Cogs::Rate(1.0 - m)),
            CostOfGoods::Column => view.costs().map(Cogs::Column),
            CostOfGoods::UnitCost => unit_costs(),
            // The cost column when the log has one (an error when hidden: the figures
            // depend on it), else unit costs.
            CostOfGoods::Auto => match view.costs() {
                Ok(c) => Ok(Cogs::Column(c)),
                Err(Error::MissingColumn { .. }) => unit_costs().map_err(|e| match e {
                    Error::MissingColumn { available, .. } => Error::MissingColumn {
                        column: "cost".into(),
                        available,
                    },
                    e => e,
                }),
                Err(e) => Err(e),
            },
        }
    }
}

/// The resolved cost of goods of a row.
enum Cogs<'v> {
    Column(PerCustomer<'v, f64>),
    Unit {
        unit: Vec<f64>,
        products: PerCustomer<'v, ProductIdx>,
        quantities: Option<PerCustomer<'v, f64>>,
    },
    Rate(f64),
}

/// The cost of goods of one customer's rows.
enum CustomerCogs<'a> {
    Column(&'a [f64]),
    Unit {
        unit: &'a [f64],
        products: &'a [ProductIdx],
        quantities: Option<&'a [f64]>,
    },
    Rate(f64),
}

impl Cogs<'_> {
    fn of(&self, k: usize) -> CustomerCogs<'_> {
        match self {
            Cogs::Column(c) => CustomerCogs::Column(c.of(k)),
            Cogs::Unit {
                unit,
                products,
                quantities,
            } => CustomerCogs::Unit {
                unit,
                products: products.of(k),
                quantities: quantities.as_ref().map(|q| q.of(k)),
            },
            Cogs::Rate(r) => CustomerCogs::Rate(*r),
        }
    }
}

impl CustomerCogs<'_> {
    #[inline]
    fn cost(&self, i: usize, amount: f64) -> f64 {
        match self {
            CustomerCogs::Column(c) => c[i],
            CustomerCogs::Rate(r) => r * amount,
            CustomerCogs::Unit {
                unit,
                products,
                quantities,
            } => {
                let q = quantities.map_or(1.0, |q| q[i].abs());
                let c = unit[products[i].get()] * q;
                if is_purchase(amount) {
                    c
                } else {
                    -c
                }
            }
        }
    }
}

/// Splits per-customer lines into columns and totals them in customer order (fixed-size
/// chunks summed in parallel, then the chunk sums in order: the same bits for any number
/// of threads).
fn assemble(rows: Rows, lines: Vec<Line>) -> Profits {
    let n = lines.len();
    let mut p = Profits {
        rows,
        revenue: Vec::with_capacity(n),
        cost_of_goods: Vec::with_capacity(n),
        gross_margin: Vec::with_capacity(n),
        cost_to_serve: Vec::with_capacity(n),
        net_profit: Vec::with_capacity(n),
        active: Vec::with_capacity(n),
        totals: ProfitTotals::default(),
    };
    for l in &lines {
        let margin = l.revenue - l.cogs;
        let serve = l.orders + l.units + l.service + l.fixed + l.returns;
        p.revenue.push(l.revenue);
        p.cost_of_goods.push(l.cogs);
        p.gross_margin.push(margin);
        p.cost_to_serve.push(serve);
        p.net_profit.push(margin - serve);
        p.active.push(l.rows > 0);
    }
    const CHUNK: usize = 1 << 14;
    let parts: Vec<ProfitTotals> = lines
        .par_chunks(CHUNK)
        .enumerate()
        .map(|(k, chunk)| {
            let mut t = ProfitTotals::default();
            for (j, l) in chunk.iter().enumerate() {
                let i = k * CHUNK + j;
                t.customers += usize::from(l.rows > 0);
                t.transactions += l.rows;
                t.revenue += l.revenue;
                t.cost_of_goods += l.cogs;
                t.gross_margin += p.gross_margin[i];
                t.order_costs += l.orders;
                t.unit_costs += l.units;
                t.service_costs += l.service;
                t.fixed_costs += l.fixed;
                t.returns_costs += l.returns;
                t.cost_to_serve += p.cost_to_serve[i];
                t.net_profit += p.net_profit[i];
            }
            t
        })
        .collect();
    for t in parts {
        let s = &mut p.totals;
        s.customers += t.customers;
        s.transactions += t.transactions;
        s.revenue += t.revenue;
        s.cost_of_goods += t.cost_of_goods;
        s.gross_margin += t.gross_margin;
        s.order_costs += t.order_costs;
        s.unit_costs += t.unit_costs;
        s.service_costs += t.service_costs;
        s.fixed_costs += t.fixed_costs;
        s.returns_costs += t.returns_costs;
        s.cost_to_serve += t.cost_to_serve;
        s.net_profit += t.net_profit;
    }
    p
}
