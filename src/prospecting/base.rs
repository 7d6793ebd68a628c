//! Customer-base forecast: active customers, their purchases and revenue in each future
//! period, from the existing base projected by a purchase model plus the cohorts an
//! acquisition forecast brings, by customer category, with simulated intervals.
//!
//! # What is forecast
//!
//! Periods k = 1, …, H of length L (in the purchase model's time unit) follow the summary
//! date T of every customer: period k is (T + (k−1)L, T + kL].
//!
//! - **Existing customers**, each with history (x, t_x, T) and a category. Active at the
//!   end of period k with probability q_k = P(alive at T + kL | history)
//!   ([`PurchaseModel::p_alive_after`]); expected purchases in period k are
//!   P(alive at T) · [E(kL) − E((k−1)L)] with E the expected purchases of a customer
//!   alive at T ([`PurchaseModel::expected_purchases_if_alive`]).
//! - **New customers**: per category, the expected number acquired in each period
//!   n₁, …, n_H (from an acquisition forecast, such as the Bass model's), and a retention
//!   curve by period age ([`Retention`]: a shifted-beta-geometric model, a Kaplan–Meier
//!   curve or given numbers). A customer acquired in period m is of age k − m in period
//!   k ≥ m and active at its end with probability S(k − m); S(0) = 1, so every customer
//!   acquired in a period is active at its end. Each active new customer of age a buys
//!   ρ(a) times in the period: a rate the caller gives ([`NewCohorts::purchase_rate`]),
//!   or the purchase model's rate for a new customer still alive at the start of age a,
//!   ρ(a) = [X̄((a+1)L) − X̄(aL)] / P(alive at aL | new), with X̄ the model's
//!   [`expected_purchases`](PurchaseModel::expected_purchases) of a new customer. The
//!   retention curve decides who is active, the model only how often an active customer
//!   buys.
//! - **Revenue** = purchases × mean spend: each existing customer's mean repeat spend
//!   from the summary, or one value for everyone ([`ExistingBase::spend`]). Customers
//!   without repeat purchases, and new customers unless [`NewCohorts::spend`] says
//!   otherwise, spend the category's mean repeat spend per purchase (Σ x·spend / Σ x over
//!   its repeat buyers; over the whole base when the category has none).
//!
//! Expected values are exact sums of these expectations. Categories are the union of the
//! base's labels and the cohorts' categories, in ascending order; the totals sum them.
//!
//! # What the intervals cover
//!
//! Each simulation (seeded, one random stream per simulation, so the results do not
//! depend on the number of threads) draws:
//! - for each existing customer one uniform u, alive at the end of period k iff
//!   u < q_k: the exact joint law of the customer's alive path under the model, since
//!   alive is monotone in time;
//! - purchases of the existing customers in period k: Poisson with the sum over the
//!   customers alive at the start of the period of E[purchases in k | alive at its
//!   start] (so the mean is exact; the spread is that of Poisson counts, not of each
//!   customer's unknown purchase rate);
//! - the size of each new cohort, Poisson around the forecast n_m, its survivors from
//!   age to age binomial with the curve's retention S(a)/S(a−1), and its purchases
//!   Poisson around the active customers' rate;
//! - revenue as the simulated purchases times the mean spend of the purchases expected
//!   from the customers alive in that simulation.
//!
//! The intervals are thus those of the customer-level randomness given the models; they
//! do **not** include the uncertainty of the fitted parameters (purchase model, Bass
//! forecast, retention curve). Refit on bootstrap replicates
//! ([`BootstrapOptions`](crate::numerics::BootstrapOptions)) and pool the simulations for
//! that.
//!
//! ```
//! use acrm::numerics::RetentionCurve;
//! use acrm::persistency::BgNbd;
//! use acrm::prospecting::{BaseForecastOptions, ExistingBase, NewCohorts};
//! use acrm::summary::{Records, Rfm};
//!
//! // A fitted purchase model (here FHL 2005's CDNOW estimates, in weeks) and the base.
//! let model = BgNbd::new(0.243, 4.414, 0.793, 2.426)?;
//! let records = Records::new(vec![
//!     Rfm::new(2, 30.43, 38.86, 25.0)?,
//!     Rfm::new(0, 0.0, 38.86, 0.0)?,
//!     Rfm::new(7, 35.0, 38.0, 40.0)?,
//! ]);
//! let base = ExistingBase::new(&model, &records).categories(&["web", "web", "store"])?;
//! // 40 and 30 new web customers expected in the next two 4-week periods, who stay as
//! // the curve says and buy 0.5 times per 4 weeks while active.
//! let curve = RetentionCurve::new(vec![1.0, 0.7])?;
//! let web = NewCohorts::new("web", vec![40.0, 30.0], &curve).purchase_rate(0.5);
//! let forecast = BaseForecastOptions::new(2)
//!     .period_length(4.0)
//!     .simulations(500)
//!     .seed(1)
//!     .compute(&base, &[web])?;
//! // The web customers active at the end of period 2: the cohorts 40·0.7 + 30, and the
//! // two existing ones' chances of being alive.
//! let row = forecast.row("web", 2).unwrap();
//! assert!((row.new_active.expected - 58.0).abs() < 1e-9);
//! assert!(row.existing_active.expected > 1.0 && row.existing_active.expected < 2.0);
//! assert!(row.active.lo <= row.active.expected && row.active.expected <= row.active.hi);
//! # Ok::<(), acrm::Error>(())
//! ```

use rand::{Rng, SeedableRng};
use rand_distr::{Binomial, Distribution, Poisson};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, ScopeTag};
use crate::error::{Error, Result};
use crate::numerics::Retention;
use crate::summary::{groups_by_x_t, PurchaseModel, Records, Rfm};

/// The label of the totals over every category.
pub const ALL: &str = "ALL";

/// Settings of the forecast: periods H, period length L in the purchase model's time
/// unit (default 1), simulations (default 1,000), seed (default 0) and interval level
/// (default 0.9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseForecastOptions {
    periods: u32,
    period_length: f64,
    simulations: usize,
    seed: u64,
    level: f64,
}

impl BaseForecastOptions {
    /// A forecast of `periods` future periods, with the defaults.
    pub fn new(periods: u32) -> Self {
        BaseForecastOptions {
            periods,
            period_length: 1.0,
            simulations: 1000,
            seed: 0,
            level: 0.9,
        }
    }

    /// Length of a period in the purchase model's time unit (> 0): 4.0 for four-week
    /// periods of a model fitted in weeks.
    pub fn period_length(mut self, length: f64) -> Self {
        self.period_length = length;
        self
    }

    /// Number of simulations behind the intervals (≥ 2).
    pub fn simulations(mut self, n: usize) -> Self {
        self.simulations = n;
        self
    }

    /// Seed: the same seed gives the same simulations for any number of threads.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Coverage of the intervals, in (0, 1): 0.9 gives the 5th and 95th percentiles.
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for no periods, a period length that is not finite and
    /// positive, fewer than two simulations or a level outside (0, 1).
    pub fn validate(&self) -> Result<()> {
        if self.periods == 0 {
            return Err(Error::option("periods", self.periods, "at least 1"));
        }
        if !(self.period_length.is_finite() && self.period_length > 0.0) {
            return Err(Error::option(
                "period_length",
                self.period_length,
                "a finite length > 0",
            ));
        }
        if self.simulations < 2 {
            return Err(Error::option("simulations", self.simulations, "at least 2"));
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(Error::option("level", self.level, "a level in (0, 1)"));
        }
        Ok(())
    }
}

/// The existing customers: a purchase model, their records (one [`Rfm`] each, in the
/// model's time unit) and optionally a category per record.
#[derive(Clone)]
pub struct ExistingBase<'a> {
    model: &'a dyn PurchaseModel,
    records: &'a [Rfm],
    scope: ScopeTag,
    /// Per record, its category's position in `labels` (empty: one category, `all`).
    category: Vec<u32>,
    labels: Vec<String>,
    spend: Option<f64>,
}

impl<'a> ExistingBase<'a> {
    /// The customers of `records` (from [`Summary::records`](crate::Summary::records),
    /// whose scope the forecast checks and carries), scored by `model`, all in one
    /// category named `all`.
    pub fn new(model: &'a dyn PurchaseModel, records: &'a Records) -> Self {
        ExistingBase {
            model,
            records,
            scope: records.scope().clone(),
            category: Vec::new(),
            labels: vec!["all".to_string()],
            spend: None,
        }
    }

    /// The category of each record, index-aligned with the records (a segment, a value
    /// tier, an acquisition channel).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] unless there is one label per record.
    pub fn categories<S: AsRef<str>>(mut self, labels: &[S]) -> Result<Self> {
        Error::check_len("categories", labels.len(), self.records.len(), "records")?;
        let mut distinct: Vec<&str> = labels.iter().map(AsRef::as_ref).collect();
        distinct.sort_unstable();
        distinct.dedup();
        self.category = labels
            .iter()
            .map(|l| distinct.partition_point(|d| *d < l.as_ref()) as u32)
            .collect();
        self.labels = distinct.into_iter().map(str::to_string).collect();
        Ok(self)
    }

    /// One mean spend per purchase for every customer, instead of each customer's mean
    /// repeat spend (finite, ≥ 0; checked by the forecast).
    pub fn spend(mut self, spend: f64) -> Self {
        self.spend = Some(spend);
        self
    }
}

/// The new customers of one category: how many are expected to be acquired in each
/// forecast period, and how they stay and buy.
#[derive(Clone)]
pub struct NewCohorts<'a> {
    category: String,
    expected: Vec<f64>,
    retention: &'a dyn Retention,
    purchase_rate: Option<f64>,
    spend: Option<f64>,
}

impl<'a> NewCohorts<'a> {
    /// `expected[m − 1]` new customers in period m = 1, …, H (one per forecast period),
    /// active by period age as `retention` says.
    pub fn new(
        category: impl Into<String>,
        expected: Vec<f64>,
        retention: &'a dyn Retention,
    ) -> Self {
        NewCohorts {
            category: category.into(),
            expected,
            retention,
            purchase_rate: None,
            spend: None,
        }
    }

    /// Purchases per active new customer per period, at every age (finite, ≥ 0), instead
    /// of the purchase model's rate for a new customer.
    pub fn purchase_rate(mut self, rate: f64) -> Self {
        self.purchase_rate = Some(rate);
        self
    }

    /// Mean spend per purchase of the new customers (finite, ≥ 0), instead of the
    /// category's mean repeat spend in the base.
    pub fn spend(mut self, spend: f64) -> Self {
        self.spend = Some(spend);
        self
    }
}

/// A forecast value: exact expectation, and the mean, standard deviation and percentile
/// interval of the simulations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// The expected value (exact, not simulated).
    pub expected: f64,
    /// Mean of the simulations.
    pub mean: f64,
    /// Standard deviation of the simulations.
    pub sd: f64,
    /// Lower percentile ((1 − level)/2) of the simulations.
    pub lo: f64,
    /// Upper percentile ((1 + level)/2) of the simulations.
    pub hi: f64,
}

/// One category (or [`ALL`]) in one future period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseRow {
    /// The category, or [`ALL`] for the totals.
    pub category: String,
    /// The period, 1 to H.
    pub period: u32,
    /// Existing customers active at the end of the period.
    pub existing_active: Estimate,
    /// New customers (acquired in periods 1 to this one) active at its end.
    pub new_active: Estimate,
    /// All active customers.
    pub active: Estimate,
    /// Purchases of the existing customers in the period.
    pub existing_purchases: Estimate,
    /// Purchases of the new customers.
    pub new_purchases: Estimate,
    /// All purchases.
    pub purchases: Estimate,
    /// Revenue of the existing customers.
    pub existing_revenue: Estimate,
    /// Revenue of the new customers.
    pub new_revenue: Estimate,
    /// All revenue.
    pub revenue: Estimate,
}

/// The forecast: rows per category and period, and totals per period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseForecast {
    /// The scope of the existing customers' summary.
    pub scope: ScopeTag,
    /// Periods forecast.
    pub periods: u32,
    /// Length of a period in the purchase model's time unit.
    pub period_length: f64,
    /// Simulations behind the intervals.
    pub simulations: usize,
    /// The seed of the simulations.
    pub seed: u64,
    /// Coverage of the intervals.
    pub level: f64,
    /// The categories, ascending.
    pub categories: Vec<String>,
    /// One row per category and period, categories in order, periods ascending within.
    pub rows: Vec<BaseRow>,
    /// One row per period over all categories (category [`ALL`]).
    pub totals: Vec<BaseRow>,
}

impl BaseForecast {
    /// The row of `category` (or [`ALL`]) in `period`.
    pub fn row(&self, category: &str, period: u32) -> Option<&BaseRow> {
        let rows = if category == ALL {
            &self.totals
        } else {
            &self.rows
        };
        rows.iter()
            .find(|r| r.category == category && r.period == period)
    }
}

/// Quantities per cell, in this order.
const QUANTITIES: usize = 9;
const EXISTING_ACTIVE: usize = 0;
const NEW_ACTIVE: usize = 1;
const ACTIVE: usize = 2;
const EXISTING_PURCHASES: usize = 3;
const NEW_PURCHASES: usize = 4;
const PURCHASES: usize = 5;
const EXISTING_REVENUE: usize = 6;
const NEW_REVENUE: usize = 7;
const REVENUE: usize = 8;

/// What the forecast needs of one (x, T) group of existing customers.
struct Group {
    /// P(alive at T + kL | alive at T), k = 0..=H.
    survival: Vec<f64>,
    /// Expected purchases in period k (1..=H) of a customer alive at T.
    purchases: Vec<f64>,
    /// Expected purchases in period k of a customer alive at its start.
    rate: Vec<f64>,
}

/// One category's new customers, checked and with their rates.
struct Cohorts {
    category: usize,
    expected: Vec<f64>,
    /// S(a), a = 0..H−1.
    survival: Vec<f64>,
    /// Purchases per active customer of age a.
    rate: Vec<f64>,
    spend: f64,
}

impl BaseForecastOptions {
    /// The forecast of `base` and of the new customers of `cohorts` (one entry per
    /// category at most; none for a forecast of the existing base alone).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for bad options or a negative or non-finite spend or
    /// purchase rate; [`Error::ForbiddenArea`] when the base's scope forbids prospecting;
    /// [`Error::BadValue`] naming the first record outside 0 ≤ t_x ≤ T, T > 0 (t_x = 0
    /// when x = 0), a negative or non-finite expected number of new customers, a
    /// retention curve that is not a non-increasing share or that ends before age H − 1,
    /// or a category given two cohorts; [`Error::LengthMismatch`] for a cohort series
    /// that is not one number per period; [`Error::Degenerate`] when a mean spend is
    /// needed and the base has no repeat purchases to take it from; [`Error::EmptyInput`]
    /// for neither customers nor cohorts.
    pub fn compute(
        &self,
        base: &ExistingBase<'_>,
        cohorts: &[NewCohorts<'_>],
    ) -> Result<BaseForecast> {
        self.validate()?;
        base.scope.require(Area::Prospecting)?;
        let records = base.records;
        if records.is_empty() && cohorts.is_empty() {
            return Err(Error::EmptyInput);
        }
        check_records(records)?;
        let h = self.periods as usize;
        let l = self.period_length;
        check_amount("spend", base.spend)?;

        // Categories: the base's and the cohorts', ascending.
        let mut labels: Vec<String> = if records.is_empty() {
            Vec::new()
        } else {
            base.labels.clone()
        };
        labels.extend(cohorts.iter().map(|c| c.category.clone()));
        labels.sort_unstable();
        labels.dedup();
        let position = |label: &str| labels.partition_point(|l| l.as_str() < label);
        let base_to_all: Vec<usize> = base.labels.iter().map(|l| position(l)).collect();
        let cat = |i: usize| -> usize {
            base.category
                .get(i)
                .map_or(base_to_all[0], |&c| base_to_all[c as usize])
        };
        let n_cat = labels.len();

        // Mean spend per purchase: given, or Σ x·spend / Σ x per category and overall.
        let (per_cat_spend, overall_spend) = {
            let mut sums = vec![[0.0f64; 2]; n_cat];
            for (i, r) in records.iter().enumerate() {
                if r.x > 0 {
                    let s = &mut sums[cat(i)];
                    s[0] += f64::from(r.x) * r.mean_spend;
                    s[1] += f64::from(r.x);
                }
            }
            let total = sums
                .iter()
                .fold([0.0; 2], |a, s| [a[0] + s[0], a[1] + s[1]]);
            let overall = base.spend.or((total[1] > 0.0).then(|| total[0] / total[1]));
            let per: Vec<Option<f64>> = sums
                .iter()
                .map(|s| base.spend.or((s[1] > 0.0).then(|| s[0] / s[1])).or(overall))
                .collect();
            (per, overall)
        };
        let no_spend = || Error::Degenerate {
            input: "records".to_string(),
            reason: "no repeat purchases to take a mean spend from; give one \
                     (ExistingBase::spend or NewCohorts::spend)"
                .to_string(),
        };
        let needs_default = records.iter().any(|r| r.x == 0) && base.spend.is_none();
        if needs_default && overall_spend.is_none() {
            return Err(no_spend());
        }
        let spend: Vec<f64> = records
            .iter()
            .enumerate()
            .map(|(i, r)| match base.spend {
                Some(s) => s,
                None if r.x > 0 => r.mean_spend,
                None => per_cat_spend[cat(i)].unwrap_or(0.0),
            })
            .collect();

        let cohorts = self
            .check_cohorts(base.model, cohorts, &labels, &per_cat_spend)
            .map_err(|e| e.or_else_spend(no_spend))?;

        // The existing customers, by (x, T) group.
        let (keys, group) = groups_by_x_t(records);
        let groups: Vec<Group> = keys
            .par_iter()
            .map(|&(x, t)| existing_group(base.model, x, t, h, l))
            .collect();
        let p_alive = base.model.p_alive_all(records);

        // Expected values per category and period, summed in fixed chunks.
        let width = n_cat * h * QUANTITIES;
        let cell = |c: usize, k: usize, q: usize| (c * h + k) * QUANTITIES + q;
        let mut expected = crate::numerics::sum_chunked(records.len(), width, |i, acc| {
            let (g, pa, c) = (&groups[group[i] as usize], p_alive[i], cat(i));
            for k in 0..h {
                acc[cell(c, k, EXISTING_ACTIVE)] += pa * g.survival[k + 1];
                acc[cell(c, k, EXISTING_PURCHASES)] += pa * g.purchases[k];
                acc[cell(c, k, EXISTING_REVENUE)] += spend[i] * pa * g.purchases[k];
            }
        });
        for co in &cohorts {
            for k in 0..h {
                let (mut active, mut purchases) = (0.0, 0.0);
                for m in 0..=k {
                    let a = k - m;
                    let n = co.expected[m] * co.survival[a];
                    active += n;
                    purchases += n * co.rate[a];
                }
                expected[cell(co.category, k, NEW_ACTIVE)] += active;
                expected[cell(co.category, k, NEW_PURCHASES)] += purchases;
                expected[cell(co.category, k, NEW_REVENUE)] += purchases * co.spend;
            }
        }
        let expected = with_sums_and_totals(&expected, n_cat, h);

        // Simulations, each from its own stream.
        let steps: Vec<Vec<Step>> = groups
            .iter()
            .map(|g| {
                (0..h)
                    .map(|k| Step {
                        rate: g.rate[k],
                        survival: g.survival[k + 1],
                    })
                    .collect()
            })
            .collect();
        let customers: Vec<Customer> = (0..records.len())
            .into_par_iter()
            .map(|i| Customer {
                group: group[i],
                category: cat(i) as u32,
                p_alive: p_alive[i],
                spend: spend[i],
            })
            .collect();
        let sims: Vec<Vec<f64>> = (0..self.simulations)
            .into_par_iter()
            .map(|s| {
                let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                    self.seed ^ (s as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                let mut v = vec![0.0; width];
                simulate_existing(&mut rng, &mut v, &customers, &steps, h);
                for co in &cohorts {
                    simulate_cohorts(&mut rng, &mut v, co, h);
                }
                with_sums_and_totals(&v, n_cat, h)
            })
            .collect();

        // Each cell's simulated distribution.
        let tail = (1.0 - self.level) / 2.0;
        let estimates: Vec<Estimate> = (0..expected.len())
            .into_par_iter()
            .map(|j| {
                let mut v: Vec<f64> = sims.iter().map(|s| s[j]).collect();
                let n = v.len() as f64;
                let mean = v.iter().sum::<f64>() / n;
                let sd = (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
                v.sort_by(f64::total_cmp);
                Estimate {
                    expected: expected[j],
                    mean,
                    sd,
                    lo: percentile(&v, tail),
                    hi: percentile(&v, 1.0 - tail),
                }
            })
            .collect();

        let row = |c: usize, k: usize, category: &str| {
            let e = |q| estimates[cell(c, k, q)];
            BaseRow {
                category: category.to_string(),
                period: k as u32 + 1,
                existing_active: e(EXISTING_ACTIVE),
                new_active: e(NEW_ACTIVE),
                active: e(ACTIVE),
                existing_purchases: e(EXISTING_PURCHASES),
                new_purchases: e(NEW_PURCHASES),
                purchases: e(PURCHASES),
                existing_revenue: e(EXISTING_REVENUE),
                new_revenue: e(NEW_REVENUE),
                revenue: e(REVENUE),
            }
        };
        let rows = (0..n_cat)
            .flat_map(|c| (0..h).map(move |k| (c, k)))
            .map(|(c, k)| row(c, k, &labels[c]))
            .collect();
        let totals = (0..h).map(|k| row(n_cat, k, ALL)).collect();
        Ok(BaseForecast {
            scope: base.scope.clone(),
            periods: self.periods,
            period_length: l,
            simulations: self.simulations,
            seed: self.seed,
            level: self.level,
            categories: labels,
            rows,
            totals,
        })
    }

    /// The cohorts checked, placed in their categories, with their rates and spend.
    fn check_cohorts(
        &self,
        model: &dyn PurchaseModel,
        cohorts: &[NewCohorts<'_>],
        labels: &[String],
        per_cat_spend: &[Option<f64>],
    ) -> Result<Vec<Cohorts>, CohortError> {
        let h = self.periods as usize;
        let l = self.period_length;
        let mut model_rate: Option<Vec<f64>> = None;
        let mut out: Vec<Cohorts> = Vec::with_capacity(cohorts.len());
        for (j, co) in cohorts.iter().enumerate() {
            let category = labels.partition_point(|x| x.as_str() < co.category.as_str());
            if out.iter().any(|o| o.category == category) {
                return Err(Error::bad_value(
                    "cohorts",
                    j,
                    "category",
                    &co.category,
                    "one cohort series per category",
                )
                .into());
            }
            Error::check_len("expected new customers", co.expected.len(), h, "periods")?;
            if let Some(m) = co
                .expected
                .iter()
                .position(|n| !(n.is_finite() && *n >= 0.0))
            {
                return Err(Error::bad_value(
                    format!("cohorts[{j}].expected"),
                    m,
                    "new customers",
                    co.expected[m],
                    "a finite number ≥ 0",
                )
                .into());
            }
            let needed = self.periods - 1;
            if let Some(last) = co.retention.max_periods().filter(|&p| p < needed) {
                return Err(Error::bad_value(
                    format!("cohorts[{j}].retention"),
                    last as usize,
                    "age",
                    last,
                    format!("a curve known up to age {needed}"),
                )
                .into());
            }
            let survival: Vec<f64> = (0..h as u32)
                .map(|a| co.retention.survival_after(a))
                .collect();
            for a in 0..h {
                let upper = if a == 0 { 1.0 } else { survival[a - 1] };
                if !(0.0..=upper).contains(&survival[a]) {
                    return Err(Error::bad_value(
                        format!("cohorts[{j}].retention"),
                        a,
                        "S",
                        survival[a],
                        format!("a share in [0, {upper}] (S non-increasing, S(0) ≤ 1)"),
                    )
                    .into());
                }
            }
            check_amount("purchase_rate", co.purchase_rate)?;
            check_amount("spend", co.spend)?;
            let rate = match co.purchase_rate {
                Some(r) => vec![r; h],
                None => model_rate
                    .get_or_insert_with(|| new_customer_rate(model, h, l))
                    .clone(),
            };
            let spend = match co.spend.or(per_cat_spend.get(category).copied().flatten()) {
                Some(s) => s,
                None => return Err(CohortError::NoSpend),
            };
            out.push(Cohorts {
                category,
                expected: co.expected.clone(),
                survival,
                rate,
                spend,
            });
        }
        Ok(out)
    }
}

/// A cohort check's error, or the need for a spend the base cannot give (reported with
/// the base's wording).
enum CohortError {
    Error(Error),
    NoSpend,
}

impl From<Error> for CohortError {
    fn from(e: Error) -> Self {
        CohortError::Error(e)
    }
}

impl CohortError {
    fn or_else_spend(self, no_spend: impl FnOnce() -> Error) -> Error {
        match self {
            CohortError::Error(e) => e,
            CohortError::NoSpend => no_spend(),
        }
    }
}

/// An optional amount: finite and ≥ 0 when given.
fn check_amount(option: &'static str, v: Option<f64>) -> Result<()> {
    match v {
        Some(x) if !(x.is_finite() && x >= 0.0) => {
            Err(Error::option(option, x, "a finite number ≥ 0"))
        }
        _ => Ok(()),
    }
}

/// Records must be valid histories ([`Records`] may be built from raw values).
fn check_records(records: &[Rfm]) -> Result<()> {
    let bad = records.par_iter().position_first(|r| {
        !(r.t.is_finite() && r.t > 0.0 && r.t_x.is_finite() && (0.0..=r.t).contains(&r.t_x))
            || (r.x == 0 && r.t_x != 0.0)
    });
    match bad {
        None => Ok(()),
        Some(i) => {
            let r = records[i];
            let (field, value) = if !(r.t.is_finite() && r.t > 0.0) {
                ("T", r.t)
            } else {
                ("t_x", r.t_x)
            };
            Err(Error::bad_value(
                "records",
                i,
                field,
                value,
                "0 ≤ t_x ≤ T, T > 0 finite, t_x = 0 when x = 0",
            ))
        }
    }
}

/// The per-group survival and expected purchases of customers alive at T.
fn existing_group(model: &dyn PurchaseModel, x: u32, t: f64, h: usize, l: f64) -> Group {
    let mut survival = Vec::with_capacity(h + 1);
    survival.push(1.0);
    for k in 1..=h {
        // A running minimum: survival cannot rise, and a value that rounds above the one
        // before would let a simulated customer come back to life.
        let s = model
            .survival_if_alive(k as f64 * l, x, t)
            .min(survival[k - 1]);
        survival.push(s.max(0.0));
    }
    let cumulative: Vec<f64> = (0..=h)
        .map(|k| {
            if k == 0 {
                0.0
            } else {
                model.expected_purchases_if_alive(k as f64 * l, x, t)
            }
        })
        .collect();
    let purchases: Vec<f64> = (1..=h)
        .map(|k| (cumulative[k] - cumulative[k - 1]).max(0.0))
        .collect();
    let rate = (0..h)
        .map(|k| {
            if survival[k] > 0.0 {
                purchases[k] / survival[k]
            } else {
                0.0
            }
        })
        .collect();
    Group {
        survival,
        purchases,
        rate,
    }
}

/// The model's purchases per period of a new customer alive at the start of age a:
/// [X̄((a+1)L) − X̄(aL)] / P(alive at aL | new), a = 0..H−1.
fn new_customer_rate(model: &dyn PurchaseModel, h: usize, l: f64) -> Vec<f64> {
    (0..h)
        .map(|a| {
            let (from, to) = (a as f64 * l, (a + 1) as f64 * l);
            let bought = (model.expected_purchases(to) - model.expected_purchases(from)).max(0.0);
            let alive = model.p_alive_after(from, 0, 0.0, 0.0);
            if alive > 0.0 {
                bought / alive
            } else {
                0.0
            }
        })
        .collect()
}

/// Adds the all-customer quantities (active = existing + new, and so on) to each cell and
/// appends the totals over categories as one more category.
fn with_sums_and_totals(v: &[f64], n_cat: usize, h: usize) -> Vec<f64> {
    let mut out = Vec::with_capacity((n_cat + 1) * h * QUANTITIES);
    out.extend_from_slice(v);
    out.resize((n_cat + 1) * h * QUANTITIES, 0.0);
    for c in 0..n_cat {
        for k in 0..h {
            let base = (c * h + k) * QUANTITIES;
            out[base + ACTIVE] = out[base + EXISTING_ACTIVE] + out[base + NEW_ACTIVE];
            out[base + PURCHASES] = out[base + EXISTING_PURCHASES] + out[base + NEW_PURCHASES];
            out[base + REVENUE] = out[base + EXISTING_REVENUE] + out[base + NEW_REVENUE];
            let total = (n_cat * h + k) * QUANTITIES;
            for q in 0..QUANTITIES {
                out[total + q] += out[base + q];
            }
        }
    }
    out
}

/// One existing customer, as the simulations read it.
struct Customer {
    group: u32,
    category: u32,
    p_alive: f64,
    spend: f64,
}

/// One simulation of the existing customers (see the module documentation): alive paths,
/// then Poisson purchases per category and period, revenue at the simulated mean spend.
fn simulate_existing(
    rng: &mut Xoshiro256PlusPlus,
    v: &mut [f64],
    customers: &[Customer],
    steps: &[Vec<Step>],
    h: usize,
) {
    // Per category and period: expected purchases and revenue given the paths, active.
    let mut acc = vec![[0.0f64; 3]; v.len() / QUANTITIES];
    for cu in customers {
        let u: f64 = rng.gen();
        if u >= cu.p_alive {
            continue;
        }
        // Alive at T; alive at T + kL while u < P(alive at T)·S(kL).
        let w = u / cu.p_alive;
        let row = &mut acc[cu.category as usize * h..][..h];
        for (a, st) in row.iter_mut().zip(&steps[cu.group as usize]) {
            // Alive at the start of the period: it buys there.
            a[0] += st.rate;
            a[1] += cu.spend * st.rate;
            if w < st.survival {
                a[2] += 1.0;
            } else {
                break;
            }
        }
    }
    // Draw the purchase counts, and price them at the paths' mean spend.
    for (j, [mean, revenue, active]) in acc.into_iter().enumerate() {
        let cell = &mut v[j * QUANTITIES..][..QUANTITIES];
        let count = poisson(rng, mean);
        cell[EXISTING_ACTIVE] = active;
        cell[EXISTING_PURCHASES] = count;
        cell[EXISTING_REVENUE] = if mean > 0.0 {
            count * revenue / mean
        } else {
            0.0
        };
    }
}

/// Period k of an (x, T) group: the purchases expected in it of a customer alive at its
/// start, and P(alive at its end | alive at T).
#[derive(Clone, Copy)]
struct Step {
    rate: f64,
    survival: f64,
}

/// One simulation of one category's new customers: Poisson cohort sizes, binomial
/// survivors by age, Poisson purchases.
fn simulate_cohorts(rng: &mut Xoshiro256PlusPlus, v: &mut [f64], co: &Cohorts, h: usize) {
    let cell = |k: usize, q: usize| (co.category * h + k) * QUANTITIES + q;
    let mut rate = vec![0.0; h];
    let mut active = vec![0.0; h];
    for m in 0..h {
        let mut alive = poisson(rng, co.expected[m]) as u64;
        for k in m..h {
            let a = k - m;
            if a > 0 && alive > 0 {
                let keep = if co.survival[a - 1] > 0.0 {
                    (co.survival[a] / co.survival[a - 1]).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                alive = Binomial::new(alive, keep).map_or(0, |b| b.sample(rng));
            } else if a == 0 && alive > 0 && co.survival[0] < 1.0 {
                alive = Binomial::new(alive, co.survival[0].clamp(0.0, 1.0))
                    .map_or(0, |b| b.sample(rng));
            }
            active[k] += alive as f64;
            rate[k] += alive as f64 * co.rate[a];
        }
    }
    for k in 0..h {
        let count = poisson(rng, rate[k]);
        v[cell(k, NEW_ACTIVE)] += active[k];
        v[cell(k, NEW_PURCHASES)] += count;
        v[cell(k, NEW_REVENUE)] += count * co.spend;
    }
}

/// A Poisson draw (0 for a mean of 0).
fn poisson(rng: &mut Xoshiro256PlusPlus, mean: f64) -> f64 {
    if mean > 0.0 {
        Poisson::new(mean).map_or(0.0, |p| p.sample(rng))
    } else {
        0.0
    }
}

/// Percentile of sorted values by linear interpolation between order statistics (type 7,
/// numpy's default, as the bootstrap's intervals).
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = p * (sorted.len() - 1) as f64;
    let (i, frac) = (h.floor() as usize, h - h.floor());
    let next = sorted[(i + 1).min(sorted.len() - 1)];
    sorted[i] + frac * (next - sorted[i])
}
