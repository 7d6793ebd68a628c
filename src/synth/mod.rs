//! Seeded synthetic customer histories with known parameters, for tests, benchmarks and
//! demonstrations. An edge module: nothing else in `src/` imports it.
//!
//! Each customer is acquired at a uniformly distributed instant of the acquisition
//! window (staggered cohorts) with a first purchase then. Later purchases follow, in
//! continuous time (exponential gaps; no rounding to whole periods):
//! - **BG/NBD** (Fader, Hardie & Lee 2005): λ ~ Gamma(r, α), p ~ Beta(a, b); purchases
//!   at rate λ; after each repeat purchase the customer drops out with probability p;
//! - **Pareto/NBD** (Schmittlein, Morrison & Colombo 1987): λ ~ Gamma(r, α),
//!   μ ~ Gamma(s, β); purchases at rate λ until a lifetime τ ~ Exp(μ) ends.
//!
//! Spend follows Gamma-Gamma (Fader & Hardie 2013): ν ~ Gamma(q, γ) per customer and each
//! purchase's value z ~ Gamma(p, ν) (shape, rate). Rates are per unit `U`. Each purchase
//! is one row: a product drawn from the customer's favourite category half of the time,
//! quantity ≈ z / list price, cost = z × the product's cost ratio, the customer's
//! preferred channel 70% of the time.
//!
//! Every customer has its own random stream derived from (seed, customer number), so the
//! output is identical for any number of threads.
//!
//! Write the log as CSV with [`io::write_transactions_csv`](crate::io::write_transactions_csv).
//!
//! [`BasketSynth`] draws market baskets with planted patterns, for association rules.
//!
//! [`OpportunitySynth`] draws sales opportunities with stage histories and known stage
//! win rates, for the weighted pipeline and its calibration.
//!
//! [`OrderLineSynth`] draws order lines (order, customer, date, channel, region, category,
//! product, quantity, amount, cost) over several calendar years with planted changes
//! between them, for the sales cube and period-over-period decompositions.
//!
//! [`PeopleSynth`] draws customer records from several sources with planted duplicates
//! (typos, nicknames, moved addresses, shared family surnames, missing fields) and the
//! true person of each record, for identity resolution.
//!
//! [`UpliftSynth`] draws randomised campaigns with a planted heterogeneous treatment
//! effect and each row's true uplift, for uplift models.

mod baskets;
mod names;
mod opportunities;
mod orders;
mod people;
mod uplift;

pub use baskets::BasketSynth;
pub use opportunities::{
    OpportunityRecords, OpportunitySynth, SYNTH_ADVANCE, SYNTH_ENTERED, SYNTH_STAGES,
};
pub use orders::{
    OrderCounts, OrderLine, OrderLineSynth, OrderLines, OrderNames, Planted, ORDER_LINES_HEADER,
};
pub use people::{
    people_reader, PeopleErrors, PeopleField, PeopleRecord, PeopleRecords, PeopleSource,
    PeopleSynth, Person, Perturbation, PhoneStyle, PEOPLE_HEADER,
};
pub use uplift::{UpliftRows, UpliftSynth};

use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Exp, Gamma, LogNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{
    Columns, CustomerRecord, Customers, Dataset, Interner, ProductRecord, Products, RawRows,
    TransactionLog,
};
use crate::error::{Error, Result};
use crate::time::{date_of, day_number, Span, TimeUnit, Timestamp};

/// The purchase process, with rates per unit `U` of the options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum PurchaseProcess {
    /// BG/NBD with heterogeneity Gamma(r, α) of the purchase rate and Beta(a, b) of the
    /// dropout probability.
    BgNbd {
        /// Shape of the purchase-rate distribution.
        r: f64,
        /// Rate (inverse scale) of the purchase-rate distribution, in units `U`.
        alpha: f64,
        /// First Beta parameter of the dropout probability.
        a: f64,
        /// Second Beta parameter of the dropout probability.
        b: f64,
    },
    /// Pareto/NBD with Gamma(r, α) purchase rates and Gamma(s, β) dropout rates.
    ParetoNbd {
        /// Shape of the purchase-rate distribution.
        r: f64,
        /// Rate of the purchase-rate distribution, in units `U`.
        alpha: f64,
        /// Shape of the dropout-rate distribution.
        s: f64,
        /// Rate of the dropout-rate distribution, in units `U`.
        beta: f64,
    },
}

/// Gamma-Gamma spend parameters: z ~ Gamma(p, ν), ν ~ Gamma(q, γ).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GammaGammaSpend {
    /// Shape of a transaction's value given ν.
    pub p: f64,
    /// Shape of ν.
    pub q: f64,
    /// Rate of ν.
    pub gamma: f64,
}

/// What to generate. Defaults: 10,000 customers acquired over the 12 weeks from
/// 2024-01-01, observed to 2025-12-31; BG/NBD with the CDNOW estimates of Fader, Hardie &
/// Lee (2005) in weeks (r = 0.243, α = 4.414, a = 0.793, b = 2.426); Gamma-Gamma spend
/// with the CDNOW estimates of Fader & Hardie (2013) (p = 6.25, q = 3.74, γ = 15.44);
/// 200 products in 10 categories, 4 channels, 5 regions; seed 42.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct SynthOptions<U: TimeUnit> {
    customers: usize,
    seed: u64,
    start: NaiveDate,
    window: Span<U>,
    end: NaiveDate,
    process: PurchaseProcess,
    spend: GammaGammaSpend,
    products: usize,
    categories: usize,
    channels: usize,
    regions: usize,
    times: bool,
}

/// A generated customer base and the truth behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Synthetic<U: TimeUnit> {
    /// The customers, products and transaction log.
    pub dataset: Dataset,
    /// Parameters and per-customer latent values.
    pub truth: Truth<U>,
}

/// The parameters the data came from and each customer's latent values, index-aligned
/// with the dataset's customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Truth<U: TimeUnit> {
    /// The options used (parameters included).
    pub options: SynthOptions<U>,
    /// Purchase rate λ per unit `U`.
    pub lambda: Vec<f64>,
    /// Dropout: the probability p (BG/NBD) or the rate μ per unit `U` (Pareto/NBD).
    pub dropout: Vec<f64>,
    /// Spend scale ν (mean transaction value p / ν).
    pub nu: Vec<f64>,
    /// Whether the customer is still alive at the end date.
    pub alive: Vec<bool>,
}

impl<U: TimeUnit> Default for SynthOptions<U> {
    fn default() -> Self {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        SynthOptions {
            customers: 10_000,
            seed: 42,
            start: d(2024, 1, 1),
            window: Span::from_days(84.0),
            end: d(2025, 12, 31),
            process: PurchaseProcess::BgNbd {
                r: 0.243,
                // α is a rate per unit: 4.414 per week is 4.414 · 7 / U::DAYS per unit U.
                alpha: 4.414 * 7.0 / U::DAYS,
                a: 0.793,
                b: 2.426,
            },
            spend: GammaGammaSpend {
                p: 6.25,
                q: 3.74,
                gamma: 15.44,
            },
            products: 200,
            categories: 10,
            channels: 4,
            regions: 5,
            times: false,
        }
    }
}

const CHANNELS: [&str; 4] = ["web", "store", "phone", "app"];
const REGIONS: [&str; 5] = ["north", "south", "east", "west", "central"];

/// SplitMix64 finaliser: decorrelates the seeds of neighbouring customers.
fn mix(seed: u64, i: u64) -> u64 {
    let mut z = seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One customer's draws, kept for the truth.
struct Latent {
    lambda: f64,
    dropout: f64,
    nu: f64,
    alive: bool,
    acquired: i32,
    region: u32,
    channel: u32,
}

impl<U: TimeUnit> SynthOptions<U> {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of customers.
    pub fn customers(mut self, n: usize) -> Self {
        self.customers = n;
        self
    }
    /// Seed of all randomness.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// First acquisition date and length of the acquisition window.
    pub fn acquisition(mut self, start: NaiveDate, window: Span<U>) -> Self {
        self.start = start;
        self.window = window;
        self
    }
    /// Last day simulated (inclusive).
    pub fn end(mut self, end: NaiveDate) -> Self {
        self.end = end;
        self
    }
    /// The purchase process (rates per `U`).
    pub fn process(mut self, p: PurchaseProcess) -> Self {
        self.process = p;
        self
    }
    /// Gamma-Gamma spend parameters.
    pub fn spend(mut self, s: GammaGammaSpend) -> Self {
        self.spend = s;
        self
    }
    /// Number of products and categories.
    pub fn products(mut self, products: usize, categories: usize) -> Self {
        self.products = products;
        self.categories = categories;
        self
    }
    /// Number of channels and regions.
    pub fn channels_and_regions(mut self, channels: usize, regions: usize) -> Self {
        self.channels = channels;
        self.regions = regions;
        self
    }
    /// Keep the time of day of each purchase (date-time log) instead of the date only.
    pub fn times(mut self, yes: bool) -> Self {
        self.times = yes;
        self
    }
    /// The purchase process.
    pub fn purchase_process(&self) -> PurchaseProcess {
        self.process
    }
    /// The spend parameters.
    pub fn spend_parameters(&self) -> GammaGammaSpend {
        self.spend
    }
    /// The end date.
    pub fn end_date(&self) -> NaiveDate {
        self.end
    }

    fn validate(&self) -> Result<()> {
        let pos = |name, v: f64| {
            if v.is_finite() && v > 0.0 {
                Ok(())
            } else {
                Err(Error::option(name, v, "a positive finite number"))
            }
        };
        match self.process {
            PurchaseProcess::BgNbd { r, alpha, a, b } => {
                pos("r", r)?;
                pos("alpha", alpha)?;
                pos("a", a)?;
                pos("b", b)?;
            }
            PurchaseProcess::ParetoNbd { r, alpha, s, beta } => {
                pos("r", r)?;
                pos("alpha", alpha)?;
                pos("s", s)?;
                pos("beta", beta)?;
            }
        }
        pos("p", self.spend.p)?;
        pos("q", self.spend.q)?;
        pos("gamma", self.spend.gamma)?;
        if !(self.window.value() >= 0.0 && self.window.value().is_finite()) {
            return Err(Error::option(
                "window",
                self.window,
                "a non-negative finite span",
            ));
        }
        if self.end < self.start {
            return Err(Error::option(
                "end",
                self.end,
                format!("a date on or after the start {}", self.start),
            ));
        }
        if self.customers == 0 || self.customers > u32::MAX as usize {
            return Err(Error::option(
                "customers",
                self.customers,
                format!("a count in 1..={}", u32::MAX),
            ));
        }
        for (name, v) in [
            ("products", self.products),
            ("categories", self.categories),
            ("channels", self.channels),
            ("regions", self.regions),
        ] {
            if v == 0 || v > u32::MAX as usize {
                return Err(Error::option(
                    name,
                    v,
                    format!("a count in 1..={}", u32::MAX),
                ));
            }
        }
        if self.categories > self.products {
            return Err(Error::option(
                "categories",
                self.categories,
                format!("at most the number of products ({})", self.products),
            ));
        }
        Ok(())
    }

    /// Generates the customer base.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (naming the option and its value) for a non-positive
    /// parameter, an end before the start, no customers or products.
    pub fn generate(&self) -> Result<Synthetic<U>> {
        self.validate()?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(self.seed, u64::MAX));
        // Product catalogue: list prices log-normal around 20, cost ratios 0.4 to 0.8.
        let price_dist = LogNormal::new(20f64.ln(), 0.6).map_err(|e| Error::Numerical {
            procedure: "log-normal price distribution",
            reason: e.to_string(),
        })?;
        let prices: Vec<f64> = (0..self.products)
            .map(|_| price_dist.sample(&mut rng))
            .collect();
        let cost_ratio: Vec<f64> = (0..self.products)
            .map(|_| rng.gen_range(0.4..0.8))
            .collect();
        // Product k is in category k mod categories, so every category has products.
        let mut products = Products::new();
        for k in 0..self.products {
            products.upsert(&ProductRecord {
                product_id: format!("p{k}"),
                category: Some(format!("cat{}", k % self.categories)),
                unit_cost: Some(prices[k] * cost_ratio[k]),
            })?;
        }
        let names = |fixed: &[&str], n: usize, prefix: &str| -> Interner {
            (0..n)
                .map(|k| {
                    fixed
                        .get(k)
                        .map_or_else(|| format!("{prefix}{k}"), |s| s.to_string())
                })
                .collect()
        };
        let channels = names(&CHANNELS, self.channels, "channel");
        let regions = names(&REGIONS, self.regions, "region");

        // Every column but order ids; times only when asked for.
        let empty_rows = || {
            let mut rows = RawRows::with_columns(Columns {
                cost: true,
                quantity: true,
                product: true,
                channel: true,
                region: true,
                order: false,
            });
            if self.times {
                rows.second = Some(Vec::new());
            }
            rows
        };
        const CHUNK: usize = 4096;
        let n = self.customers;
        let chunks: Vec<(RawRows, Vec<Latent>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|k| {
                let mut rows = empty_rows();
                let latent = (k * CHUNK..((k + 1) * CHUNK).min(n))
                    .map(|i| self.customer(i, &mut rows, &prices, &cost_ratio))
                    .collect();
                (rows, latent)
            })
            .collect();

        let mut raw = empty_rows();
        let identity: Vec<u32> =
            (0..n.max(self.products).max(self.channels).max(self.regions) as u32).collect();
        let mut latent = Vec::with_capacity(n);
        for (rows, lat) in chunks {
            raw.append(
                rows,
                &crate::data::RowMaps {
                    customer: &identity,
                    product: &identity,
                    channel: &identity,
                    region: &identity,
                    order: &identity,
                },
            );
            latent.extend(lat);
        }
        let mut customers = Customers::new();
        let (mut regions_i, mut channels_i) = (regions.clone(), channels.clone());
        for (i, l) in latent.iter().enumerate() {
            customers.upsert(
                &CustomerRecord {
                    customer_id: (i + 1).to_string(),
                    acquired: Some(date_of(l.acquired)),
                    region: Some(regions.name(l.region as usize).to_string()),
                    channel: Some(channels.name(l.channel as usize).to_string()),
                    ..CustomerRecord::default()
                },
                &mut regions_i,
                &mut channels_i,
            );
        }
        let log = TransactionLog::from_raw(raw, n, Interner::new());
        let dataset = Dataset::from_parts(customers, products, channels, regions, log);
        Ok(Synthetic {
            dataset,
            truth: Truth {
                options: self.clone(),
                lambda: latent.iter().map(|l| l.lambda).collect(),
                dropout: latent.iter().map(|l| l.dropout).collect(),
                nu: latent.iter().map(|l| l.nu).collect(),
                alive: latent.iter().map(|l| l.alive).collect(),
            },
        })
    }

    /// Simulates customer `i`, appending its rows (customer index `i`) in time order.
    fn customer(&self, i: usize, rows: &mut RawRows, prices: &[f64], cost_ratio: &[f64]) -> Latent {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(self.seed, i as u64));
        let start = day_number(self.start);
        // Continuous time in days from the start date; the simulation ends at the end of
        // the end day.
        let horizon = f64::from(day_number(self.end) - start + 1);
        let t0 = (rng.gen::<f64>() * self.window.days()).min(horizon - 1e-9);
        let gamma = |shape: f64, rate: f64, rng: &mut Xoshiro256PlusPlus| {
            // Parameters were validated positive and finite, so construction succeeds.
            Gamma::new(shape, 1.0 / rate).map_or(f64::NAN, |g| g.sample(rng))
        };
        let (lambda, dropout, death) = match self.process {
            PurchaseProcess::BgNbd { r, alpha, a, b } => {
                let lambda = gamma(r, alpha, &mut rng);
                let p = Beta::new(a, b).map_or(f64::NAN, |d| d.sample(&mut rng));
                (lambda, p, None)
            }
            PurchaseProcess::ParetoNbd { r, alpha, s, beta } => {
                let lambda = gamma(r, alpha, &mut rng);
                let mu = gamma(s, beta, &mut rng);
                let tau = Exp::new(mu / U::DAYS).map_or(f64::INFINITY, |d| d.sample(&mut rng));
                (lambda, mu, Some(t0 + tau))
            }
        };
        let nu = gamma(self.spend.q, self.spend.gamma, &mut rng);
        let region = rng.gen_range(0..self.regions) as u32;
        let channel = rng.gen_range(0..self.channels) as u32;
        let favourite = rng.gen_range(0..self.categories);
        let per_category = self.products / self.categories;
        let spend = Gamma::new(self.spend.p, 1.0 / nu).ok();
        let gap = Exp::new(lambda / U::DAYS).ok();

        let ctx = Emit {
            start,
            times: self.times,
            categories: self.categories,
            per_category,
            products: self.products,
            channels: self.channels,
            favourite,
            channel,
            region,
            customer: i as u32,
        };
        let mut t = t0;
        let mut alive = true;
        loop {
            let z = spend.as_ref().map_or(0.0, |d| d.sample(&mut rng));
            ctx.emit(rows, &mut rng, t, z, prices, cost_ratio);
            // BG/NBD: after each repeat purchase the customer drops out with probability p.
            if death.is_none() && t > t0 && rng.gen::<f64>() < dropout {
                alive = false;
                break;
            }
            let Some(next) = gap.as_ref().map(|d| t + d.sample(&mut rng)) else {
                break;
            };
            if death.is_some_and(|d| next > d) || next >= horizon {
                break;
            }
            t = next;
        }
        if let Some(death) = death {
            alive = death > horizon;
        }
        Latent {
            lambda,
            dropout,
            nu,
            alive,
            acquired: start + t0.floor() as i32,
            region,
            channel,
        }
    }
}

/// What one customer's rows need besides the random stream.
struct Emit {
    start: i32,
    times: bool,
    categories: usize,
    per_category: usize,
    products: usize,
    channels: usize,
    favourite: usize,
    channel: u32,
    region: u32,
    customer: u32,
}

impl Emit {
    /// Appends one purchase of value `z` at continuous time `t` (days from the start).
    fn emit(
        &self,
        rows: &mut RawRows,
        rng: &mut Xoshiro256PlusPlus,
        t: f64,
        z: f64,
        prices: &[f64],
        cost_ratio: &[f64],
    ) {
        let category = if rng.gen_bool(0.5) {
            self.favourite
        } else {
            rng.gen_range(0..self.categories)
        };
        let product = (category + self.categories * rng.gen_range(0..self.per_category))
            .min(self.products - 1);
        let channel = if rng.gen_bool(0.7) {
            self.channel
        } else {
            rng.gen_range(0..self.channels) as u32
        };
        // t is below the horizon, a day count that fits i32.
        let day = self.start + t.floor() as i32;
        let second = ((t - t.floor()) * 86_400.0).floor().min(86_399.0) as u32;
        rows.customer.push(self.customer);
        rows.push_time(Timestamp::from_parts(day, self.times.then_some(second)));
        rows.amount.push(z);
        if let Some(c) = rows.cost.as_mut() {
            c.push(z * cost_ratio[product]);
        }
        if let Some(c) = rows.quantity.as_mut() {
            c.push((z / prices[product]).round().max(1.0));
        }
        for (col, v) in [
            (&mut rows.product, product as u32),
            (&mut rows.channel, channel),
            (&mut rows.region, self.region),
        ] {
            if let Some(c) = col {
                c.push(v);
            }
        }
    }
}
