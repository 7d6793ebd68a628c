//! The validated settings of [`OrderLineSynth`] turned into sampling tables, and the
//! simulation of one chunk of customers.

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma, LogNormal, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::format::digits;
use super::{OrderLine, OrderLineSynth, OrderNames};
use crate::error::{Error, Result};
use crate::synth::mix;

/// Customers simulated by one parallel task. Every customer has its own random stream, so
/// the output depends on neither this nor the number of threads.
pub(super) const CHUNK: usize = 1024;

/// Probability that a customer buys at all in the first year; it rises linearly to
/// [`ACTIVE_LAST`] in the last year.
pub(super) const ACTIVE_FIRST: f64 = 0.60;
/// Probability that a customer buys at all in the last year.
pub(super) const ACTIVE_LAST: f64 = 0.66;
/// Relative rise of the repeat-order rate from the first to the last year.
pub(super) const FREQUENCY_RISE: f64 = 0.10;
/// Mean number of lines of an order beyond the first (Poisson).
pub(super) const EXTRA_LINES: f64 = 1.3;
/// Mean quantity of a line beyond the first unit (Poisson).
const EXTRA_UNITS: f64 = 0.5;
/// Relative rise of every list price from the first to the last year.
const PRICE_RISE: f64 = 0.04;
/// Weight multiplier of the rising category in the last year (1 in the first).
const RISING_WEIGHT: f64 = 2.5;
/// Rise of the margin-losing category's cost ratio (cost over list price), in basis
/// points, from the first to the last year.
const COST_RATIO_RISE_BP: i64 = 1_200;
/// Weight multiplier of the web channel in the last year (1 in the first).
const WEB_WEIGHT: f64 = 2.0;
/// Probability that an order goes through the customer's preferred channel.
const PREFERRED_CHANNEL: f64 = 0.6;
/// Probability that a sale line is followed by a return line in its order.
pub(super) const RETURN_RATE: f64 = 0.02;
/// Relative order intensity of the months January to December.
const SEASON: [f64; 12] = [
    0.85, 0.80, 0.95, 0.95, 1.00, 0.95, 0.90, 0.95, 1.00, 1.05, 1.20, 1.40,
];
/// Line discounts in percent and their probabilities.
const DISCOUNTS: [(i64, f64); 4] = [(0, 0.75), (5, 0.15), (10, 0.07), (20, 0.03)];

const CHANNELS: [&str; 3] = ["web", "store", "phone"];
pub(super) const REGIONS: [&str; 5] = ["north", "south", "east", "west", "central"];

/// Index of the rising category.
pub(super) const RISING: usize = 1;
/// Index of the category whose margin rate falls.
pub(super) const MARGIN: usize = 2;

/// Position of year `y` of `n` between the first (0) and the last (1).
pub(super) fn progress(y: u32, n: u32) -> f64 {
    if n <= 1 {
        0.0
    } else {
        f64::from(y) / f64::from(n - 1)
    }
}

pub(super) fn region_weights(n: usize) -> impl Iterator<Item = f64> {
    (0..n).map(|r| 1.0 / (1.0 + 0.3 * r as f64))
}

pub(super) fn cumulative(weights: impl IntoIterator<Item = f64>) -> Vec<f64> {
    let mut acc = 0.0;
    weights
        .into_iter()
        .map(|w| {
            acc += w;
            acc
        })
        .collect()
}

/// The index drawn by `u` in [0, 1) from cumulative weights.
fn pick(cum: &[f64], u: f64) -> usize {
    let x = u * cum[cum.len() - 1];
    cum.partition_point(|&c| c <= x).min(cum.len() - 1)
}

pub(super) fn names_of(fixed: &[&str], n: usize, prefix: &str) -> Vec<String> {
    (0..n)
        .map(|k| {
            fixed
                .get(k)
                .map_or_else(|| format!("{prefix}{}", k + 1), |s| s.to_string())
        })
        .collect()
}

pub(super) fn category_names(n: usize) -> Vec<String> {
    let w = digits(n).max(2);
    (1..=n).map(|k| format!("cat{k:0w$}")).collect()
}

/// One year's draws.
struct Year {
    /// Index of the year's 1 January in the day table.
    start: u32,
    /// Days of the year before each month, and the year's length.
    month_start: [u32; 13],
    active: f64,
    /// Multiplier of the repeat-order rate.
    frequency: f64,
    categories: Vec<f64>,
    channels: Vec<f64>,
    /// List price per product, cents.
    price: Vec<i64>,
    /// Unit cost per product, cents.
    unit_cost: Vec<i64>,
}

/// The validated settings turned into sampling tables.
pub(super) struct Model {
    pub(super) customers: usize,
    pub(super) first_day: NaiveDate,
    /// Days from the first day to the end of the last year.
    pub(super) days: usize,
    seed: u64,
    per_category: usize,
    entered_region: u16,
    regions: Vec<f64>,
    preferred: Vec<f64>,
    years: Vec<Year>,
    months: Vec<f64>,
    discounts: Vec<f64>,
    repeat_rate: Gamma<f64>,
    extra_lines: Poisson<f64>,
    extra_units: Poisson<f64>,
    /// Dates by index in the day table.
    dates: Vec<NaiveDate>,
    pub(super) names: OrderNames,
}

/// What every order of one customer shares.
struct Buyer {
    customer: u32,
    region: u16,
    preferred: u16,
}

/// One chunk's lines, with order numbers from 1 within the chunk.
pub(super) struct Chunk {
    pub(super) lines: Vec<OrderLine>,
    pub(super) orders: u64,
}

impl Chunk {
    /// Numbers the chunk's orders from `first`; returns the next free number.
    pub(super) fn renumber(&mut self, first: u64) -> u64 {
        for l in &mut self.lines {
            l.order += first - 1;
        }
        first + self.orders
    }
}

fn numerical(procedure: &'static str, e: impl std::fmt::Display) -> Error {
    Error::Numerical {
        procedure,
        reason: e.to_string(),
    }
}

impl Model {
    pub(super) fn new(o: &OrderLineSynth) -> Result<Model> {
        let customers = o.customer_count()?;
        let (c, per) = (o.categories, o.products_per_category);
        let products = c * per;
        let last = o.years - 1;
        let date = |y: i32, m: u32| {
            NaiveDate::from_ymd_opt(y, m, 1)
                .ok_or_else(|| Error::option("first_year", y, "a year in 1..=9999"))
        };
        let first_day = date(o.first_year, 1)?;
        let end = date(o.first_year + o.years as i32, 1)?;
        let days = (end - first_day).num_days() as usize;
        let dates: Vec<NaiveDate> = (0..days as u64)
            .map(|d| {
                first_day
                    .checked_add_days(Days::new(d))
                    .unwrap_or(first_day)
            })
            .collect();

        // The catalogue, from its own stream.
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(o.seed, u64::MAX));
        let spread = LogNormal::new(0.0, 0.35).map_err(|e| numerical("price spread", e))?;
        // Price levels 25 · 2^z, z uniform in [-1, 1]; the rising category sits at 25 (about
        // the mean) and the entered category at the left one's level, so that neither
        // change moves the average order value by itself.
        let mut level: Vec<f64> = (0..c)
            .map(|_| 25.0 * (rng.gen::<f64>() * 2.0 - 1.0).exp2())
            .collect();
        level[RISING] = 25.0;
        level[c - 1] = level[c - 2];
        let base_price: Vec<i64> = (0..products)
            .map(|p| {
                let euros = (level[p / per] * spread.sample(&mut rng)).round().max(1.0);
                euros as i64 * 100 - 1
            })
            .collect();
        let cost_bp: Vec<i64> = (0..products).map(|_| rng.gen_range(4500..7000)).collect();

        let mut years = Vec::with_capacity(o.years as usize);
        let mut start = 0u32;
        for y in 0..o.years {
            let t = progress(y, o.years);
            let year = o.first_year + y as i32;
            let mut month_start = [0u32; 13];
            let jan = date(year, 1)?;
            for m in 1..=12 {
                let next = if m == 12 {
                    date(year + 1, 1)?
                } else {
                    date(year, m + 1)?
                };
                month_start[m as usize] = (next - jan).num_days() as u32;
            }
            let categories = cumulative((0..c).map(|k| {
                let base = 1.0 / (1.0 + 0.2 * k as f64);
                if k == RISING {
                    base * (1.0 + (RISING_WEIGHT - 1.0) * t)
                } else if (k == c - 2 && y == last) || (k == c - 1 && y < last) {
                    0.0
                } else {
                    base
                }
            }));
            let channels = cumulative((0..o.channels).map(|k| {
                if k == 0 {
                    1.0 + (WEB_WEIGHT - 1.0) * t
                } else {
                    1.0
                }
            }));
            // Integer basis points, so prices and costs are exact cents.
            let rise_bp = (PRICE_RISE * t * 10_000.0).round() as i64;
            let cost_rise_bp = (COST_RATIO_RISE_BP as f64 * t).round() as i64;
            let price: Vec<i64> = base_price
                .iter()
                .map(|&p| (p * (10_000 + rise_bp) + 5_000) / 10_000)
                .collect();
            let unit_cost = price
                .iter()
                .zip(&cost_bp)
                .enumerate()
                .map(|(k, (&p, &bp))| {
                    let bp = if k / per == MARGIN {
                        bp + cost_rise_bp
                    } else {
                        bp
                    };
                    (p * bp + 5_000) / 10_000
                })
                .collect();
            years.push(Year {
                start,
                month_start,
                active: ACTIVE_FIRST + (ACTIVE_LAST - ACTIVE_FIRST) * t,
                frequency: 1.0 + FREQUENCY_RISE * t,
                categories,
                channels,
                price,
                unit_cost,
            });
            start += month_start[12];
        }
        let width = digits(products).max(4);
        let names = OrderNames {
            customers,
            channels: names_of(&CHANNELS, o.channels, "channel"),
            regions: names_of(&REGIONS, o.regions, "region"),
            categories: category_names(c),
            products: (1..=products).map(|k| format!("p{k:0width$}")).collect(),
        };
        let preferred = years[0].channels.clone();
        Ok(Model {
            customers,
            first_day,
            days,
            seed: o.seed,
            per_category: per,
            entered_region: (o.regions - 1) as u16,
            regions: cumulative(region_weights(o.regions)),
            preferred,
            years,
            months: cumulative(SEASON),
            discounts: cumulative(DISCOUNTS.iter().map(|d| d.1)),
            repeat_rate: Gamma::new(2.0, (o.orders_per_year - 1.0) / 2.0)
                .map_err(|e| numerical("repeat-order rate distribution", e))?,
            extra_lines: Poisson::new(EXTRA_LINES).map_err(|e| numerical("lines", e))?,
            extra_units: Poisson::new(EXTRA_UNITS).map_err(|e| numerical("units", e))?,
            dates,
            names,
        })
    }

    /// The lines of the customers of chunk `k`.
    pub(super) fn chunk(&self, k: usize) -> Chunk {
        let mut chunk = Chunk {
            lines: Vec::with_capacity(CHUNK * 10),
            orders: 0,
        };
        let mut days = Vec::new();
        for i in k * CHUNK..((k + 1) * CHUNK).min(self.customers) {
            self.customer(i as u32, &mut chunk, &mut days);
        }
        chunk
    }

    /// Appends customer `i`'s lines, in date order, numbering orders on from the chunk's.
    fn customer(&self, i: u32, chunk: &mut Chunk, days: &mut Vec<u32>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(self.seed, u64::from(i)));
        let region = pick(&self.regions, rng.gen()) as u16;
        let preferred = pick(&self.preferred, rng.gen()) as u16;
        let lambda = self.repeat_rate.sample(&mut rng);
        let last = self.years.len() - 1;
        for (y, year) in self.years.iter().enumerate() {
            if region == self.entered_region && y < last {
                continue;
            }
            if rng.gen::<f64>() >= year.active {
                continue;
            }
            let mean = lambda * year.frequency;
            let repeat = Poisson::new(mean).map_or(0.0, |d| d.sample(&mut rng));
            let orders = 1 + repeat as usize;
            days.clear();
            for _ in 0..orders {
                let m = pick(&self.months, rng.gen());
                let (lo, hi) = (year.month_start[m], year.month_start[m + 1]);
                days.push(year.start + rng.gen_range(lo..hi));
            }
            days.sort_unstable();
            let buyer = Buyer {
                customer: i,
                region,
                preferred,
            };
            for &day in days.iter() {
                chunk.orders += 1;
                self.order(&mut rng, chunk, year, &buyer, day);
            }
        }
    }

    /// Appends the lines of one order on day `day` (an index of the day table).
    fn order(
        &self,
        rng: &mut Xoshiro256PlusPlus,
        chunk: &mut Chunk,
        year: &Year,
        buyer: &Buyer,
        day: u32,
    ) {
        let channel = if rng.gen::<f64>() < PREFERRED_CHANNEL {
            buyer.preferred
        } else {
            pick(&year.channels, rng.gen()) as u16
        };
        let n = 1 + self.extra_lines.sample(rng) as usize;
        let first = chunk.lines.len();
        let template = OrderLine {
            order: chunk.orders,
            line_no: 0,
            customer: buyer.customer,
            date: self.dates[day as usize],
            channel,
            region: buyer.region,
            category: 0,
            product: 0,
            quantity: 0,
            amount_cents: 0,
            cost_cents: 0,
        };
        for line in 1..=n {
            let category = pick(&year.categories, rng.gen());
            let mut product = 0;
            for _ in 0..4 {
                // Rank falls with u², so the first products of a category sell most.
                let u: f64 = rng.gen();
                let rank = ((u * u * self.per_category as f64) as usize).min(self.per_category - 1);
                product = (category * self.per_category + rank) as u32;
                if !chunk.lines[first..].iter().any(|l| l.product == product) {
                    break;
                }
            }
            let quantity = 1 + self.extra_units.sample(rng) as i64;
            let discount = DISCOUNTS[pick(&self.discounts, rng.gen())].0;
            let price = year.price[product as usize];
            let amount = (quantity * price * (100 - discount) + 50) / 100;
            chunk.lines.push(OrderLine {
                line_no: line as u32,
                category: category as u32,
                product,
                quantity: quantity as i32,
                amount_cents: amount,
                cost_cents: quantity * year.unit_cost[product as usize],
                ..template
            });
        }
        let mut line_no = n as u32;
        for k in first..first + n {
            if rng.gen::<f64>() >= RETURN_RATE {
                continue;
            }
            let sale = chunk.lines[k];
            let q = i64::from(sale.quantity);
            let back = rng.gen_range(1..=q);
            line_no += 1;
            chunk.lines.push(OrderLine {
                line_no,
                quantity: -(back as i32),
                amount_cents: -((sale.amount_cents * back + q / 2) / q),
                cost_cents: -(year.unit_cost[sale.product as usize] * back),
                ..sale
            });
        }
    }
}
