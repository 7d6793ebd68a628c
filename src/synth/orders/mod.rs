//! Seeded synthetic order lines over several calendar years, with planted changes between
//! the years, for the sales cube and the period-over-period decompositions of the
//! performance area. See [`OrderLineSynth`].

mod format;
mod model;

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use format::{customer_width, Format};
use model::{
    category_names, cumulative, names_of, progress, region_weights, Chunk, Model, ACTIVE_FIRST,
    ACTIVE_LAST, CHUNK, EXTRA_LINES, FREQUENCY_RISE, MARGIN, REGIONS, RETURN_RATE, RISING,
};

/// The header of the order-line CSV.
pub const ORDER_LINES_HEADER: &str =
    "order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost";

/// Chunks generated, formatted and written together by [`OrderLineSynth::write_csv`].
const BATCH: usize = 64;

/// How the number of customers is set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
enum Size {
    Customers(usize),
    Lines(u64),
}

/// Settings of synthetic order lines: the lines of the orders a customer base places over
/// several calendar years, with changes planted between the first and the last year so
/// that a period-over-period decomposition has something to find.
///
/// Defaults: 100,000 customers (about 8.6 lines each), the years 2023 and 2024, 8 categories
/// of 25 products, 3 channels (`web`, `store`, `phone`), 5 regions (`north`, `south`,
/// `east`, `west`, `central`), 3 orders a year per active customer in the first year,
/// seed 2024.
///
/// # The CSV
///
/// [`ORDER_LINES_HEADER`]:
/// `order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost`.
/// Order ids are 1, 2, 3, … in the order of the file; lines are numbered 1, 2, … within
/// their order; customers are `c000001`, `c000002`, … (at least 6 digits, the customer's
/// number); dates are `YYYY-MM-DD`; categories `cat01`, `cat02`, … and products `p0001`,
/// `p0002`, … (category k holds products (k−1)·P + 1 to k·P for P products per
/// category); `amount` is the line's net revenue and `cost` its cost of goods, both with
/// exactly two decimals and computed in whole cents, so sums are exact. Every line of an
/// order has the order's customer, date, channel and region. Rows are grouped by customer
/// and, within a customer, in date order.
///
/// # The model
///
/// Each customer has its own random stream, derived from (seed, customer number), so the
/// output is identical for any number of threads. A customer has a region (weights
/// 1 / (1 + 0.3·r) for the r-th region), a preferred channel and a repeat-order rate
/// λ ~ Gamma(2, θ) with mean 2θ = (orders per year − 1). Each year, independently, the
/// customer is active with probability a(y) and then places 1 + Poisson(λ · f(y)) orders,
/// on dates drawn by month (more in November and December) and uniformly within the month.
/// An order goes through the preferred channel 60% of the time, otherwise through a channel
/// drawn by the year's channel weights; it has 1 + Poisson(1.3) lines. A line's category is
/// drawn by the year's category weights (base 1 / (1 + 0.2·c) for the c-th category), its
/// product within the category with probability falling with the product's rank (drawn
/// again, up to three times, if the order already holds it), its quantity is
/// 1 + Poisson(0.5), and a discount of 0% (75% of lines), 5% (15%), 10% (7%) or 20% (3%)
/// applies. In cents: amount = round(quantity · list price · (100 − discount) / 100),
/// cost = quantity · round(list price · cost ratio). List prices end in .99 around a
/// per-category price level 25 · 2^z (z uniform in [−1, 1]; 25 for the rising category,
/// the left category's level for the entered one), cost ratios lie in 45%–70%.
///
/// **Returns**: 2% of sale lines are followed, at the end of their order, by a return line
/// for k of their units (k uniform in 1..=quantity): the same product, quantity −k,
/// amount −round(amount · k / quantity) and cost −k · unit cost. Returns are booked on the
/// order they undo, so an order's net value (and a category's within an order) is never
/// negative, and return lines count as lines but never add orders or customers.
///
/// # Planted changes
///
/// Parameters move linearly from the first year to the last (t = 0 to 1); with the
/// defaults the first year is 2023 and the last 2024. See [`planted`](Self::planted) for
/// the names.
///
/// | effect | first year | last year | what a decomposition sees |
/// |---|---|---|---|
/// | active customers | a = 60% | a = 66% | more customers in the last year (customers effect > 0) |
/// | entered region (the last, `central`) | no activity | a = 66% | a region present only in the last year |
/// | repeat-order rate | f = 1 | f = 1.1 | orders per active customer up ≈ 7% (3.0 → 3.2 by default) |
/// | list prices | × 1 | × 1.04 | average order value up a little |
/// | web channel weight | 1 | 2 | web's share of orders up |
/// | rising category (`cat02`) | weight × 1 | weight × 2.5 | revenue share rises strongly (mix) |
/// | margin category (`cat03`) | cost ratio c | c + 12 points | margin rate falls (rate) |
/// | left category (the second-to-last, `cat07` of 8) | base weight | absent | present in every year but the last |
/// | entered category (the last, `cat08` of 8) | absent | base weight | present only in the last year |
///
/// With more than two years the entered region and category appear only in the last year
/// and the left category is absent only there.
///
/// # Example
///
/// ```
/// use acrm::synth::OrderLineSynth;
///
/// let synth = OrderLineSynth::new().customers(200).seed(7);
/// let mut csv = Vec::new();
/// let counts = synth.write_csv(&mut csv)?;
/// let text = String::from_utf8(csv).unwrap();
/// assert!(text.starts_with("order_id,line_no,customer_id,order_date,"));
/// assert_eq!(text.lines().count() as u64, counts.lines + 1);
/// // The same lines in memory, with typed fields.
/// let lines = synth.generate()?;
/// assert_eq!(lines.lines.len() as u64, counts.lines);
/// assert_eq!(synth.planted().entered_category, "cat08");
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLineSynth {
    size: Size,
    first_year: i32,
    years: u32,
    categories: usize,
    products_per_category: usize,
    channels: usize,
    regions: usize,
    orders_per_year: f64,
    seed: u64,
}

impl Default for OrderLineSynth {
    fn default() -> Self {
        OrderLineSynth {
            size: Size::Customers(100_000),
            first_year: 2023,
            years: 2,
            categories: 8,
            products_per_category: 25,
            channels: 3,
            regions: 5,
            orders_per_year: 3.0,
            seed: 2024,
        }
    }
}

/// One order line. Indices name entities of the [`OrderNames`] that come with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    /// Order number, from 1 (`order_id`).
    pub order: u64,
    /// Line number within the order, from 1 (`line_no`).
    pub line_no: u32,
    /// Customer number, from 0 (`customer_id` is `c` and this number plus one).
    pub customer: u32,
    /// Order date (`order_date`).
    pub date: NaiveDate,
    /// Channel index.
    pub channel: u16,
    /// Region index.
    pub region: u16,
    /// Category index.
    pub category: u32,
    /// Product index.
    pub product: u32,
    /// Units: positive for a sale, negative for a return.
    pub quantity: i32,
    /// Net revenue in cents (negative for a return).
    pub amount_cents: i64,
    /// Cost of goods in cents (negative for a return).
    pub cost_cents: i64,
}

/// The names behind the indices of [`OrderLine`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderNames {
    /// Number of customers simulated (some may have no lines).
    pub customers: usize,
    /// Channel names by index.
    pub channels: Vec<String>,
    /// Region names by index.
    pub regions: Vec<String>,
    /// Category names by index.
    pub categories: Vec<String>,
    /// Product names by index.
    pub products: Vec<String>,
}

impl OrderNames {
    /// The external id of customer number `i` (`c000001` for 0).
    pub fn customer_id(&self, i: u32) -> String {
        format!(
            "c{:0w$}",
            u64::from(i) + 1,
            w = customer_width(self.customers)
        )
    }
}

/// Generated order lines and their names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLines {
    /// The lines, in the order of the CSV.
    pub lines: Vec<OrderLine>,
    /// Names of the customers, channels, regions, categories and products.
    pub names: OrderNames,
}

/// How much [`OrderLineSynth::write_csv`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderCounts {
    /// Customers simulated (some may have no lines).
    pub customers: usize,
    /// Orders written.
    pub orders: u64,
    /// Lines written (the header not counted).
    pub lines: u64,
}

/// The names of the members that carry the planted changes (see [`OrderLineSynth`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Planted {
    /// The first year simulated.
    pub first_year: i32,
    /// The last year simulated.
    pub last_year: i32,
    /// The category whose revenue share rises strongly.
    pub rising_category: String,
    /// The category whose margin rate falls (its cost ratio rises).
    pub margin_category: String,
    /// The category absent in the last year.
    pub left_category: String,
    /// The category present only in the last year.
    pub entered_category: String,
    /// The region present only in the last year.
    pub entered_region: String,
}

impl OrderLineSynth {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of customers simulated (replaces a [`lines`](Self::lines) target).
    pub fn customers(mut self, n: usize) -> Self {
        self.size = Size::Customers(n);
        self
    }
    /// Aim at about `n` lines: the number of customers becomes `n` over the expected lines
    /// per customer, rounded (at least 1). Replaces a [`customers`](Self::customers) count.
    pub fn lines(mut self, n: u64) -> Self {
        self.size = Size::Lines(n);
        self
    }
    /// The calendar years simulated: `count` years from `first`.
    pub fn years(mut self, first: i32, count: u32) -> Self {
        self.first_year = first;
        self.years = count;
        self
    }
    /// Number of categories and of products in each.
    pub fn categories(mut self, categories: usize, products_per_category: usize) -> Self {
        self.categories = categories;
        self.products_per_category = products_per_category;
        self
    }
    /// Number of channels and regions (the first are named `web`, `store`, `phone` and
    /// `north`, `south`, `east`, `west`, `central`; more are `channel4`, …, `region6`, …).
    pub fn channels_and_regions(mut self, channels: usize, regions: usize) -> Self {
        self.channels = channels;
        self.regions = regions;
        self
    }
    /// Mean orders of an active customer in the first year (> 1; the first order plus a
    /// Poisson number of repeat orders).
    pub fn orders_per_year(mut self, mean: f64) -> Self {
        self.orders_per_year = mean;
        self
    }
    /// Seed of all randomness.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option: no customers (or a line target of 0),
    /// fewer than 2 or more than 100 years, a first year that puts a year outside
    /// 1..=9999, fewer than 4 categories (the planted changes need four distinct ones), no
    /// products per category, no channel, fewer than 2 regions (one enters), more than
    /// 65,535 channels or regions, more than 4,294,967,295 products, or orders per year
    /// not in (1, 1000].
    pub fn validate(&self) -> Result<()> {
        match self.size {
            Size::Customers(n) if n == 0 || n > u32::MAX as usize => {
                return Err(Error::option(
                    "customers",
                    n,
                    format!("a count in 1..={}", u32::MAX),
                ))
            }
            Size::Lines(0) => return Err(Error::option("lines", 0, "at least 1 line")),
            _ => {}
        }
        if !(2..=100).contains(&self.years) {
            return Err(Error::option("years", self.years, "a count in 2..=100"));
        }
        let last = i64::from(self.first_year) + i64::from(self.years) - 1;
        if self.first_year < 1 || last > 9999 {
            return Err(Error::option(
                "first_year",
                self.first_year,
                format!("a year from 1 with the last year at most 9999 ({last})"),
            ));
        }
        if self.categories < 4 {
            return Err(Error::option(
                "categories",
                self.categories,
                "at least 4 (rising, margin, left and entered categories)",
            ));
        }
        if self.products_per_category == 0 {
            return Err(Error::option(
                "products_per_category",
                self.products_per_category,
                "at least 1",
            ));
        }
        if self
            .categories
            .checked_mul(self.products_per_category)
            .map_or(true, |p| p > u32::MAX as usize)
        {
            return Err(Error::option(
                "products_per_category",
                self.products_per_category,
                format!("at most {} products in all", u32::MAX),
            ));
        }
        if self.channels == 0 || self.channels > usize::from(u16::MAX) {
            return Err(Error::option(
                "channels",
                self.channels,
                format!("a count in 1..={}", u16::MAX),
            ));
        }
        if self.regions < 2 || self.regions > usize::from(u16::MAX) {
            return Err(Error::option(
                "regions",
                self.regions,
                format!("a count in 2..={} (the last one enters)", u16::MAX),
            ));
        }
        if !(self.orders_per_year > 1.0 && self.orders_per_year <= 1000.0) {
            return Err(Error::option(
                "orders_per_year",
                self.orders_per_year,
                "a number in (1, 1000]",
            ));
        }
        Ok(())
    }

    /// The expected number of lines of one customer over all years (returns included).
    pub fn expected_lines_per_customer(&self) -> f64 {
        let shares = cumulative(region_weights(self.regions));
        let total = shares.last().copied().unwrap_or(1.0);
        let entered_share = (total - shares[shares.len().saturating_sub(2)]) / total;
        let per_order = (1.0 + EXTRA_LINES) * (1.0 + RETURN_RATE);
        let last = self.years.saturating_sub(1);
        (0..self.years)
            .map(|y| {
                let t = progress(y, self.years);
                let reach = if y < last { 1.0 - entered_share } else { 1.0 };
                let active = ACTIVE_FIRST + (ACTIVE_LAST - ACTIVE_FIRST) * t;
                let orders = 1.0 + (self.orders_per_year - 1.0) * (1.0 + FREQUENCY_RISE * t);
                reach * active * orders * per_order
            })
            .sum()
    }

    /// The number of customers simulated: the count given, or the one a line target
    /// implies.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn customer_count(&self) -> Result<usize> {
        self.validate()?;
        Ok(match self.size {
            Size::Customers(n) => n,
            Size::Lines(n) => {
                let c = (n as f64 / self.expected_lines_per_customer()).round();
                (c.max(1.0) as usize).min(u32::MAX as usize)
            }
        })
    }

    /// The names of the members carrying the planted changes.
    pub fn planted(&self) -> Planted {
        let c = self.categories;
        let names = category_names(c);
        let regions = names_of(&REGIONS, self.regions, "region");
        let name = |k: usize| names.get(k).cloned().unwrap_or_default();
        Planted {
            first_year: self.first_year,
            last_year: self.first_year + self.years.saturating_sub(1) as i32,
            rising_category: name(RISING),
            margin_category: name(MARGIN),
            left_category: name(c.saturating_sub(2)),
            entered_category: name(c.saturating_sub(1)),
            entered_region: regions.last().cloned().unwrap_or_default(),
        }
    }

    /// Generates the lines in memory.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn generate(&self) -> Result<OrderLines> {
        let model = Model::new(self)?;
        let mut chunks: Vec<Chunk> = (0..model.customers.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| model.chunk(k))
            .collect();
        let mut next = 1;
        for c in &mut chunks {
            next = c.renumber(next);
        }
        let mut lines = Vec::with_capacity(chunks.iter().map(|c| c.lines.len()).sum());
        for c in chunks {
            lines.extend(c.lines);
        }
        Ok(OrderLines {
            lines,
            names: model.names,
        })
    }

    /// Generates the lines and writes them as CSV (header first), a batch of customers at
    /// a time, without holding all lines in memory. The bytes are those of
    /// [`OrderLines::write_csv`] on [`generate`](Self::generate)'s lines.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::Io`] when writing fails.
    pub fn write_csv(&self, mut out: impl Write) -> Result<OrderCounts> {
        let model = Model::new(self)?;
        let format = Format::new(&model.names, model.first_day, model.days);
        out.write_all(ORDER_LINES_HEADER.as_bytes())?;
        out.write_all(b"\n")?;
        // One batch is generated and formatted on the pool while the batch before it is
        // written on this thread.
        let chunks = model.customers.div_ceil(CHUNK);
        let batch = |start: usize, first: u64| {
            let mut batch: Vec<Chunk> = (start..(start + BATCH).min(chunks))
                .into_par_iter()
                .map(|k| model.chunk(k))
                .collect();
            let mut next = first;
            let mut lines = 0;
            for c in &mut batch {
                next = c.renumber(next);
                lines += c.lines.len() as u64;
            }
            let text: Vec<Vec<u8>> = batch.par_iter().map(|c| format.all(&c.lines)).collect();
            (text, next, lines)
        };
        let (mut next, mut lines) = (1, 0);
        let mut ready: Vec<Vec<u8>> = Vec::new();
        let starts = (0..chunks).step_by(BATCH);
        for start in starts.map(Some).chain([None]) {
            let mut made = None;
            let mut written = Ok(());
            rayon::in_place_scope(|s| {
                let slot = &mut made;
                if let Some(start) = start {
                    s.spawn(move |_| *slot = Some(batch(start, next)));
                }
                written = ready.iter().try_for_each(|t| out.write_all(t));
            });
            written?;
            ready = match made {
                Some((text, n, l)) => {
                    (next, lines) = (n, lines + l);
                    text
                }
                None => Vec::new(),
            };
        }
        out.flush()?;
        Ok(OrderCounts {
            customers: model.customers,
            orders: next - 1,
            lines,
        })
    }
}

impl OrderLines {
    /// Number of orders.
    pub fn orders(&self) -> u64 {
        self.lines.last().map_or(0, |l| l.order)
    }

    /// Writes the lines as CSV, header first (see [`OrderLineSynth`] for the format).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails; [`Error::BadValue`] (input `lines`, field `date`)
    /// for a date outside the years 1 to 9999.
    ///
    /// # Panics
    /// When a line's channel, region, category or product index is outside the names
    /// (lines from [`OrderLineSynth::generate`] never are).
    pub fn write_csv(&self, mut out: impl Write) -> Result<()> {
        out.write_all(ORDER_LINES_HEADER.as_bytes())?;
        out.write_all(b"\n")?;
        let (Some(lo), Some(hi)) = (
            self.lines.iter().map(|l| l.date).min(),
            self.lines.iter().map(|l| l.date).max(),
        ) else {
            return Ok(());
        };
        if let Some(row) = self
            .lines
            .iter()
            .position(|l| !(1..=9999).contains(&l.date.year()))
        {
            return Err(Error::bad_value(
                "lines",
                row,
                "date",
                self.lines[row].date,
                "a date in the years 1 to 9999",
            ));
        }
        let days = (hi - lo).num_days() as usize + 1;
        let format = Format::new(&self.names, lo, days);
        const BLOCK: usize = 1 << 16;
        for group in self.lines.chunks(BLOCK * 16) {
            let text: Vec<Vec<u8>> = group.par_chunks(BLOCK).map(|b| format.all(b)).collect();
            for t in text {
                out.write_all(&t)?;
            }
        }
        out.flush()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_target_sets_customers() {
        let s = OrderLineSynth::new().lines(90_000);
        let n = s.customer_count().unwrap();
        let per = s.expected_lines_per_customer();
        assert!((n as f64 * per - 90_000.0).abs() <= per);
    }
}
