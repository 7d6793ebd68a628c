//! Price elasticity of demand per product (and per product × region or × season), from
//! the transaction log, with the products whose prices have room to go up or down. The
//! model and its rules are documented on [`ElasticityOptions`].

use std::collections::BTreeMap;

use chrono::Datelike;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::data::{Area, Catalogue, Interner, PerCustomer, ProductIdx, RegionIdx, ScopeTag, View};
use crate::error::{Error, Result};
use crate::time::Period;

/// The fewest residual degrees of freedom the controls may leave (see
/// [`ElasticityOptions`]): below about five, the t quantile grows quickly (2.57 at 5, 4.60 at 2
/// for 95%) and the interval says little.
pub const MIN_RESIDUAL_DF: usize = 5;

/// Fewest distinct period prices for an estimate: two prices pin a line whatever the
/// demand curve, so a third is the least that tests anything.
const MIN_DISTINCT_PRICES: usize = 3;

/// Log prices closer than this are the same price (rounding of revenue / quantity).
const SAME_LOG_PRICE: f64 = 1e-9;

/// How the log is split into lines, each with its own regression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ElasticityBy {
    /// One line per product (default).
    #[default]
    Product,
    /// One line per product and region of the transaction (the log needs a region
    /// column).
    ProductRegion,
    /// One line per product and quarter of the year (Q1..Q4), its observations that
    /// quarter's periods over all years.
    ProductSeason,
}

/// Settings of the elasticity estimation. Defaults: monthly periods, one line per
/// product, trend and quarter dummies as the degrees of freedom allow, 95% intervals, at
/// least 8 periods with sales and a standard deviation of ln(price) of at least 0.02.
///
/// Each line (a product, or a product in one region, or a product in one quarter of the
/// year) becomes a price series: per calendar period, the quantity sold Q and the average
/// unit price P = revenue / quantity, over the rows with a positive quantity and a
/// positive amount. Returns, free items and corrections (quantity ≤ 0 or amount ≤ 0)
/// would make the average price meaningless, so they are left out of the series and
/// counted in [`Elasticity::excluded_rows`]. Periods without sales are left out too: the
/// log of zero is not defined (so for intermittent sellers the estimate describes the
/// periods in which the product sold).
///
/// The elasticity ε is the coefficient of ln P in the ordinary least squares regression
///
/// ```text
/// ln Q_t = a + ε ln P_t + b t + Σ_s c_s D_s(t) + u_t
/// ```
///
/// with controls for what moves demand over time regardless of price: a linear trend t
/// (periods since the line's first period with sales) and dummies D_s for the quarter of
/// the year of period t (of its first day), the lowest-numbered quarter observed being
/// the base. Quarters rather than months, because monthly dummies would spend 11
/// degrees of freedom on a few years of data. The controls enter only while they leave
/// enough residual degrees of freedom ([`MIN_RESIDUAL_DF`]):
///
/// - the trend enters when n − 3 ≥ 5 (n periods with sales; 3 = intercept, ln P, trend);
/// - the quarter dummies, one per observed quarter of the year beyond the first, enter
///   when the degrees of freedom left with them are still ≥ 5 (with all four quarters
///   observed and the trend in: n ≥ 11); never in a split by season, where every
///   observation of a line falls in the same quarter.
///
/// Either can be switched off ([`ElasticityOptions::trend`],
/// [`ElasticityOptions::season_dummies`]); each [`Estimate`] says which were used.
///
/// Inference is classical OLS: σ² = RSS / (n − k), the standard error of ε from
/// σ² (XᵀX)⁻¹, a t interval and a two-sided t test on n − k degrees of freedom, and the
/// (centred) R². The solve is a Householder QR with ln P as the last column, so the
/// standard error is σ / |R_kk| and a price that moves in lockstep with the controls shows
/// up as a vanishing R_kk ([`ElasticityStatus::Collinear`]) rather than as a huge number.
///
/// A line gets no number when it has fewer than `min_observations` periods with sales
/// ([`ElasticityStatus::TooFewObservations`]) or when its price hardly moved
/// ([`ElasticityStatus::NotEnoughVariation`]: the sample standard deviation of ln P below
/// `min_price_variation`, or fewer than three distinct period prices): without price
/// variation a regression on price only fits noise.
///
/// **Room to raise or cut.** A 1% price change moves revenue by about (1 + ε)%. Where
/// the whole interval of ε lies above −1 (inelastic and significantly so), a price rise
/// raises revenue: the line is a candidate to raise ([`Elasticities::raise`]). Where it
/// lies below −1 (elastic), a cut does: a candidate to cut ([`Elasticities::cut`]). Each candidate lists the
/// customers who bought the line, the people a price change would reach first.
///
/// Elasticities estimated this way are associations: a price set in response to demand
/// (raised when demand was high) biases ε towards zero or above. Planned price tests, or
/// prices that changed for reasons unrelated to demand (costs, list-price revisions),
/// give estimates that can be read as causal.
///
/// # Example
///
/// ```
/// use acrm::data::{Dataset, Scope, TransactionRecord};
/// use acrm::product::ElasticityOptions;
/// use chrono::NaiveDate;
///
/// // Two years of monthly sales with demand Q = 1000 P^(-2), the price moving between 8
/// // and 12, and a little noise in the quantities.
/// let mut b = Dataset::builder();
/// for m in 0..24u32 {
///     let price = 10.0 + 2.0 * ((m * 7 % 5) as f64 - 2.0) / 2.0;
///     let noise = 1.0 + 0.02 * ((m * 3 % 7) as f64 - 3.0);
///     let qty = (1000.0 * price.powf(-2.0) * noise * 100.0).round();
///     let date = NaiveDate::from_ymd_opt(2022 + (m / 12) as i32, m % 12 + 1, 15).unwrap();
///     b.push(TransactionRecord {
///         quantity: Some(qty),
///         product_id: Some("tea".into()),
///         ..TransactionRecord::new("shop", date, qty * price)
///     })?;
/// }
/// let data = b.build()?.dataset;
/// let e = ElasticityOptions::new().compute(&data.view(&Scope::all()))?;
/// let est = e.lines[0].estimate().expect("24 months of varying prices");
/// assert!((est.elasticity + 2.0).abs() < 0.1);
/// assert_eq!(e.cut[0].product, "tea");
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ElasticityOptions {
    period: Period,
    by: ElasticityBy,
    trend: bool,
    season_dummies: bool,
    confidence: f64,
    min_observations: usize,
    min_price_variation: f64,
}

impl Default for ElasticityOptions {
    fn default() -> Self {
        ElasticityOptions {
            period: Period::Month,
            by: ElasticityBy::Product,
            trend: true,
            season_dummies: true,
            confidence: 0.95,
            min_observations: 8,
            min_price_variation: 0.02,
        }
    }
}

/// The estimate of one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// ε: the % change in quantity per 1% change in price.
    pub elasticity: f64,
    /// Standard error of ε.
    pub se: f64,
    /// Lower end of the interval of ε at the options' confidence level.
    pub lo: f64,
    /// Upper end of the interval.
    pub hi: f64,
    /// Two-sided p-value of ε = 0 (t test).
    pub p_value: f64,
    /// Centred R² of the regression (NaN when ln Q is constant).
    pub r_squared: f64,
    /// Residual degrees of freedom, n − k.
    pub df: usize,
    /// Whether the linear trend was in the regression.
    pub trend: bool,
    /// Number of quarter-of-year dummies in the regression (0 to 3).
    pub season_dummies: u8,
}

/// Whether a line got an estimate, and if not, why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ElasticityStatus {
    /// Estimated.
    Estimated(Estimate),
    /// Fewer periods with sales than the options require.
    TooFewObservations {
        /// The required number (`min_observations`).
        needed: usize,
    },
    /// The price hardly moved: no number is given.
    NotEnoughVariation {
        /// Sample standard deviation of ln(price) over the periods.
        log_price_sd: f64,
        /// Distinct period prices (equal to a relative 1e-9).
        distinct_prices: usize,
    },
    /// The price moved only in step with the controls (trend, quarter of the year), so
    /// its effect cannot be told apart from theirs.
    Collinear,
}

/// One line of the table: a product, or a product in one region or one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elasticity {
    /// External product id.
    pub product: String,
    /// Region name, in a split by region.
    pub region: Option<String>,
    /// Quarter of the year (1..=4), in a split by season.
    pub season: Option<u8>,
    /// Periods with sales (the regression's n).
    pub observations: usize,
    /// Units sold over those periods.
    pub quantity: f64,
    /// Revenue over those periods (the rows of the price series).
    pub revenue: f64,
    /// Rows of the line left out of the price series: quantity ≤ 0 or amount ≤ 0.
    pub excluded_rows: u64,
    /// The estimate, or why there is none.
    pub status: ElasticityStatus,
}

impl Elasticity {
    /// The estimate, if the line has one.
    pub fn estimate(&self) -> Option<&Estimate> {
        match &self.status {
            ElasticityStatus::Estimated(e) => Some(e),
            _ => None,
        }
    }
}

/// A line whose price has room to move (see [`Elasticities::raise`] and
/// [`Elasticities::cut`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriceCandidate {
    /// External product id.
    pub product: String,
    /// Region name, in a split by region.
    pub region: Option<String>,
    /// Quarter of the year (1..=4), in a split by season.
    pub season: Option<u8>,
    /// ε.
    pub elasticity: f64,
    /// Lower end of its interval.
    pub lo: f64,
    /// Upper end of its interval.
    pub hi: f64,
    /// Revenue of the line over the estimation periods.
    pub revenue: f64,
    /// External ids of the customers who bought the line (in the region, or in the
    /// quarter, when split), sorted.
    pub buyers: Vec<String>,
}

/// Elasticities of every line, and the candidates for a price change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Elasticities {
    /// The scope the elasticities were estimated under.
    pub scope: ScopeTag,
    /// The period of the price series.
    pub period: Period,
    /// The split.
    pub by: ElasticityBy,
    /// Confidence level of the intervals and of the candidate lists.
    pub confidence: f64,
    /// One per line, ordered by product id, then region name, then quarter.
    pub lines: Vec<Elasticity>,
    /// Inelastic lines (interval above −1): a price rise raises revenue. Largest ε first
    /// (the biggest revenue gain per 1% rise); ties in line order.
    pub raise: Vec<PriceCandidate>,
    /// Elastic lines (interval below −1): a price cut raises revenue. Smallest ε first
    /// (the biggest gain per 1% cut); ties in line order.
    pub cut: Vec<PriceCandidate>,
    /// Rows with a product left out of every price series (quantity ≤ 0 or amount ≤ 0).
    pub excluded_rows: u64,
}

/// One period of a line's price series.
#[derive(Debug, Clone, Copy)]
struct Cell {
    period: i32,
    /// Quarter of the year (1..=4) of the period's first day.
    season: u8,
    quantity: f64,
    revenue: f64,
}

/// What selects a line's rows: its product, and its region and quarter when split.
#[derive(Debug, Clone, Copy)]
struct LineKey {
    product: ProductIdx,
    region: Option<u32>,
    season: Option<u8>,
}

/// What every product's task reads.
struct Context<'a> {
    opts: &'a ElasticityOptions,
    view: &'a View<'a>,
    catalogue: Catalogue<'a>,
    /// Region names, when the lines are split by region.
    regions: Option<&'a Interner>,
    groups: ProductRows,
}

impl ElasticityOptions {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The calendar period of the price series.
    pub fn period(mut self, period: Period) -> Self {
        self.period = period;
        self
    }

    /// How the log is split into lines.
    pub fn by(mut self, by: ElasticityBy) -> Self {
        self.by = by;
        self
    }

    /// Whether a linear trend may enter the regression (default yes, subject to the
    /// degrees-of-freedom rule in the type's documentation).
    pub fn trend(mut self, yes: bool) -> Self {
        self.trend = yes;
        self
    }

    /// Whether quarter-of-year dummies may enter the regression (default yes, subject to
    /// the same rule; never in a split by season).
    pub fn season_dummies(mut self, yes: bool) -> Self {
        self.season_dummies = yes;
        self
    }

    /// Confidence level of the intervals, in (0, 1); the candidate lists use the same
    /// level.
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// Fewest periods with sales for an estimate (at least 3, so that one residual
    /// degree of freedom is left).
    pub fn min_observations(mut self, n: usize) -> Self {
        self.min_observations = n;
        self
    }

    /// Smallest sample standard deviation of ln(period price) for an estimate (≥ 0;
    /// 0.02 is about a 2% typical price movement). At least three distinct period prices
    /// are needed in any case.
    pub fn min_price_variation(mut self, sd: f64) -> Self {
        self.min_price_variation = sd;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::option(
                "confidence",
                self.confidence,
                "a level in (0, 1)",
            ));
        }
        if self.min_observations < 3 {
            return Err(Error::option(
                "min_observations",
                self.min_observations,
                "at least 3 periods (fewer leave no residual degree of freedom for intercept \
                 and price)",
            ));
        }
        if !(self.min_price_variation >= 0.0 && self.min_price_variation.is_finite()) {
            return Err(Error::option(
                "min_price_variation",
                self.min_price_variation,
                "a finite number ≥ 0",
            ));
        }
        Ok(())
    }

    /// Estimates the elasticity of every line from the view's customers: one parallel
    /// task per product, each summing its rows in customer and time order, so results
    /// are the same for any number of threads.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for an option out of its domain; [`Error::ForbiddenArea`]
    /// when the scope forbids product analysis; [`Error::MissingColumn`] or
    /// [`Error::HiddenColumn`] for quantities or products (or regions, in a split by
    /// region); [`Error::EmptyInput`] when no row has both a positive quantity and a
    /// positive amount.
    pub fn compute(&self, view: &View<'_>) -> Result<Elasticities> {
        self.validate()?;
        view.require(Area::Product)?;
        let quantities = view.quantities()?;
        let products = view.products()?;
        let catalogue = view.catalogue()?;
        let (regions, region_names) = match self.by {
            ElasticityBy::ProductRegion => (Some(view.regions()?), Some(view.region_names()?)),
            _ => (None, None),
        };
        let groups = ProductRows::new(
            view,
            &products,
            &quantities,
            regions.as_ref(),
            catalogue.len(),
        );
        let ctx = Context {
            opts: self,
            view,
            catalogue,
            regions: region_names,
            groups,
        };
        if !ctx.groups.obs.par_iter().any(Obs::usable) {
            return Err(Error::EmptyInput);
        }
        let mut order: Vec<ProductIdx> = (0..ctx.groups.len() as u32).map(ProductIdx).collect();
        order.retain(|&p| !ctx.groups.rows(p).is_empty());
        order.sort_by(|&a, &b| ctx.catalogue.id(a).cmp(ctx.catalogue.id(b)));
        let per_product: Vec<Vec<(LineKey, Elasticity)>> =
            order.par_iter().map(|&p| ctx.product_lines(p)).collect();
        let (keys, lines): (Vec<LineKey>, Vec<Elasticity>) =
            per_product.into_iter().flatten().unzip();
        let excluded_rows = lines.iter().map(|l| l.excluded_rows).sum();
        let candidates = |keep: fn(&Estimate) -> bool| -> Vec<usize> {
            (0..lines.len())
                .filter(|&k| lines[k].estimate().is_some_and(keep))
                .collect()
        };
        let mut raise = candidates(|e| e.lo > -1.0);
        let mut cut = candidates(|e| e.hi < -1.0);
        let eps = |k: usize| lines[k].estimate().map_or(f64::NAN, |e| e.elasticity);
        raise.sort_by(|&a, &b| eps(b).total_cmp(&eps(a)).then(a.cmp(&b)));
        cut.sort_by(|&a, &b| eps(a).total_cmp(&eps(b)).then(a.cmp(&b)));
        let candidate = |k: usize| ctx.candidate(keys[k], &lines[k]);
        let raise = raise.into_par_iter().map(candidate).collect();
        let cut = cut.into_par_iter().map(candidate).collect();
        Ok(Elasticities {
            scope: view.scope().clone(),
            period: self.period,
            by: self.by,
            confidence: self.confidence,
            lines,
            raise,
            cut,
            excluded_rows,
        })
    }

    /// The regression of one line's series (periods in ascending order).
    fn fit(&self, cells: &[Cell]) -> ElasticityStatus {
        let n = cells.len();
        if n < self.min_observations {
            return ElasticityStatus::TooFewObservations {
                needed: self.min_observations,
            };
        }
        let ln_p: Vec<f64> = cells
            .iter()
            .map(|c| (c.revenue / c.quantity).ln())
            .collect();
        let ln_q: Vec<f64> = cells.iter().map(|c| c.quantity.ln()).collect();
        let mean_p = ln_p.iter().sum::<f64>() / n as f64;
        let ss_p: f64 = ln_p.iter().map(|x| (x - mean_p).powi(2)).sum();
        let log_price_sd = (ss_p / (n - 1) as f64).sqrt();
        let mut sorted = ln_p.clone();
        sorted.sort_by(f64::total_cmp);
        let distinct_prices = 1 + sorted
            .windows(2)
            .filter(|w| w[1] - w[0] > SAME_LOG_PRICE)
            .count();
        if log_price_sd < self.min_price_variation || distinct_prices < MIN_DISTINCT_PRICES {
            return ElasticityStatus::NotEnoughVariation {
                log_price_sd,
                distinct_prices,
            };
        }

        // Columns: intercept, trend, quarter dummies, ln P last (column-major).
        let mut k = 2;
        let trend = self.trend && n >= k + 1 + MIN_RESIDUAL_DF;
        k += usize::from(trend);
        let mut observed = [false; 4];
        for c in cells {
            observed[usize::from(c.season - 1)] = true;
        }
        // The lowest-numbered observed quarter is the base; the others get a dummy each.
        let dummies: Vec<u8> = (1..=4u8)
            .filter(|&s| observed[usize::from(s - 1)])
            .skip(1)
            .collect();
        let use_dummies = self.season_dummies
            && self.by != ElasticityBy::ProductSeason
            && !dummies.is_empty()
            && n >= k + dummies.len() + MIN_RESIDUAL_DF;
        let dummies = if use_dummies { dummies } else { Vec::new() };
        k += dummies.len();
        let mut x = Vec::with_capacity(n * k);
        x.resize(n, 1.0);
        if trend {
            let t0 = cells[0].period;
            x.extend(cells.iter().map(|c| f64::from(c.period - t0)));
        }
        for &d in &dummies {
            x.extend(cells.iter().map(|c| if c.season == d { 1.0 } else { 0.0 }));
        }
        x.extend_from_slice(&ln_p);
        let norms: Vec<f64> = x
            .chunks_exact(n)
            .map(|col| col.iter().map(|v| v * v).sum::<f64>().sqrt())
            .collect();
        let mut y = ln_q.clone();
        let Some(r_diag) = householder(&mut x, n, k, &mut y) else {
            return ElasticityStatus::Collinear;
        };
        // Controls: a pivot at rounding level means a control is a combination of the
        // ones before it (cannot happen with the df rule, kept as a guard). ln P: a
        // residual below rounding of its centred spread means no price variation of its
        // own.
        let controls_ok = (0..k - 1).all(|j| r_diag[j].abs() > 1e-10 * norms[j]);
        if !controls_ok || r_diag[k - 1].abs() <= 1e-8 * ss_p.sqrt() {
            return ElasticityStatus::Collinear;
        }
        let elasticity = y[k - 1] / r_diag[k - 1];
        let rss: f64 = y[k..].iter().map(|v| v * v).sum();
        let df = n - k;
        let sigma = (rss / df as f64).sqrt();
        let se = sigma / r_diag[k - 1].abs();
        let mean_q = ln_q.iter().sum::<f64>() / n as f64;
        let tss: f64 = ln_q.iter().map(|v| (v - mean_q).powi(2)).sum();
        let r_squared = if tss > 0.0 { 1.0 - rss / tss } else { f64::NAN };
        // df ≥ 1 here (n ≥ 3, and the controls leave ≥ MIN_RESIDUAL_DF), so the
        // distribution exists; the confidence was checked in (0, 1).
        // A perfect fit (RSS = 0) leaves se = 0 and t = ±∞, or 0/0 when the slope is 0
        // too: statrs panics on a NaN argument, so that case has no p-value.
        let t_stat = elasticity / se;
        let (q, p_value) = match StudentsT::new(0.0, 1.0, df as f64) {
            Ok(t) => (
                t.inverse_cdf(0.5 + self.confidence / 2.0),
                if t_stat.is_nan() {
                    f64::NAN
                } else {
                    2.0 * t.sf(t_stat.abs())
                },
            ),
            Err(_) => (f64::NAN, f64::NAN),
        };
        ElasticityStatus::Estimated(Estimate {
            elasticity,
            se,
            lo: elasticity - q * se,
            hi: elasticity + q * se,
            p_value,
            r_squared,
            df,
            trend,
            season_dummies: dummies.len() as u8,
        })
    }
}

impl Context<'_> {
    /// Quarter of the year (1..=4) of period `p`'s first day.
    fn season_of(&self, p: i32) -> u8 {
        (self.opts.period.start(p).month0() / 3 + 1) as u8
    }

    /// The lines of one product, fitted, ordered by region name and quarter. Sums run
    /// over the product's rows in log order, whatever the thread.
    fn product_lines(&self, p: ProductIdx) -> Vec<(LineKey, Elasticity)> {
        let by = self.opts.by;
        let period = self.opts.period;
        // (region, quarter, period) → (quantity, revenue); region and quarter are 0 when
        // not split by them.
        let mut cells: BTreeMap<(u32, u8, i32), (f64, f64)> = BTreeMap::new();
        let mut excluded: BTreeMap<(u32, u8), u64> = BTreeMap::new();
        // A customer's rows come in time order: reuse the last period's quarter rather
        // than convert a date per row.
        let mut last: Option<(i32, u8)> = None;
        for o in self.groups.rows(p) {
            let t = period.index(o.day);
            let season = match (by, last) {
                (ElasticityBy::ProductSeason, Some((lp, s))) if lp == t => s,
                (ElasticityBy::ProductSeason, _) => {
                    let s = self.season_of(t);
                    last = Some((t, s));
                    s
                }
                _ => 0,
            };
            let region = o.region;
            if o.usable() {
                let c = cells.entry((region, season, t)).or_insert((0.0, 0.0));
                c.0 += o.quantity;
                c.1 += o.amount;
            } else {
                *excluded.entry((region, season)).or_default() += 1;
            }
        }
        let mut series: BTreeMap<(u32, u8), (Vec<Cell>, u64)> = BTreeMap::new();
        for (&(region, season, t), &(quantity, revenue)) in &cells {
            series.entry((region, season)).or_default().0.push(Cell {
                period: t,
                season: self.season_of(t),
                quantity,
                revenue,
            });
        }
        for (key, n) in excluded {
            series.entry(key).or_default().1 = n;
        }
        let mut lines: Vec<(LineKey, Elasticity)> = series
            .into_iter()
            .map(|((region, season), (cells, excluded_rows))| {
                let key = LineKey {
                    product: p,
                    region: self.regions.map(|_| region),
                    season: (by == ElasticityBy::ProductSeason).then_some(season),
                };
                let line = Elasticity {
                    product: self.catalogue.id(p).to_string(),
                    region: key
                        .region
                        .and_then(|r| self.regions.map(|names| names.name(r as usize).to_string())),
                    season: key.season,
                    observations: cells.len(),
                    quantity: cells.iter().map(|c| c.quantity).sum(),
                    revenue: cells.iter().map(|c| c.revenue).sum(),
                    excluded_rows,
                    status: self.opts.fit(&cells),
                };
                (key, line)
            })
            .collect();
        // Region indices are in load order; names read better and do not depend on it.
        // The sort is stable, so quarters stay in order within a region.
        lines.sort_by(|a, b| a.1.region.cmp(&b.1.region));
        lines
    }

    /// A line as a price candidate, with its buyers.
    fn candidate(&self, key: LineKey, line: &Elasticity) -> PriceCandidate {
        let mut buyers: Vec<u32> = Vec::new();
        for o in self.groups.rows(key.product) {
            let c = o.customer;
            let in_line = o.usable()
                && key.region.map_or(true, |r| o.region == r)
                && key
                    .season
                    .map_or(true, |s| self.season_of(self.opts.period.index(o.day)) == s);
            // Rows come grouped by customer: one comparison removes repeats.
            if in_line && buyers.last() != Some(&c) {
                buyers.push(c);
            }
        }
        let mut buyers: Vec<String> = buyers
            .into_iter()
            .map(|k| self.view.id(k as usize).to_string())
            .collect();
        buyers.sort_unstable();
        let (elasticity, lo, hi) = line.estimate().map_or((f64::NAN, f64::NAN, f64::NAN), |e| {
            (e.elasticity, e.lo, e.hi)
        });
        PriceCandidate {
            product: line.product.clone(),
            region: line.region.clone(),
            season: line.season,
            elasticity,
            lo,
            hi,
            revenue: line.revenue,
            buyers,
        }
    }
}

/// Householder QR of the n × k column-major `x` (n > k), applied to `y` as well: on
/// return `y` holds Qᵀy and the result the diagonal of R (`None` when a column is exactly
/// zero below the diagonal). Then the last coefficient is (Qᵀy)_k / R_kk, the residual
/// sum of squares Σ_{i>k} (Qᵀy)_i², and the last diagonal of (XᵀX)⁻¹ is 1 / R_kk².
fn householder(x: &mut [f64], n: usize, k: usize, y: &mut [f64]) -> Option<Vec<f64>> {
    let mut diag = Vec::with_capacity(k);
    for j in 0..k {
        let (done, rest) = x.split_at_mut((j + 1) * n);
        let v = &mut done[j * n + j..];
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm == 0.0 {
            return None;
        }
        // The sign that avoids cancellation in v₀ − α.
        let alpha = if v[0] > 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let vv: f64 = v.iter().map(|a| a * a).sum();
        let reflect = |col: &mut [f64]| {
            let s: f64 = v.iter().zip(col.iter()).map(|(a, b)| a * b).sum();
            let f = 2.0 * s / vv;
            for (c, a) in col.iter_mut().zip(v.iter()) {
                *c -= f * a;
            }
        };
        for col in rest.chunks_exact_mut(n) {
            reflect(&mut col[j..]);
        }
        reflect(&mut y[j..]);
        diag.push(alpha);
    }
    Some(diag)
}

/// One row of a product, as the price series reads it.
#[derive(Debug, Clone, Copy)]
struct Obs {
    /// The view row of the customer.
    customer: u32,
    day: i32,
    amount: f64,
    quantity: f64,
    /// Region index (0 when not split by region).
    region: u32,
}

impl Obs {
    /// Whether the row enters the price series: a positive quantity and a positive
    /// amount (a priced sale; returns, free items and corrections have no unit price).
    fn usable(&self) -> bool {
        self.quantity > 0.0 && self.amount > 0.0
    }
}

/// The rows of each product in customer and time order: a counting sort by product of
/// the view's rows, so every product's task reads one contiguous slice.
struct ProductRows {
    starts: Vec<usize>,
    obs: Vec<Obs>,
}

impl ProductRows {
    fn new(
        view: &View<'_>,
        products: &PerCustomer<'_, ProductIdx>,
        quantities: &PerCustomer<'_, f64>,
        regions: Option<&PerCustomer<'_, RegionIdx>>,
        n_products: usize,
    ) -> Self {
        let mut starts = vec![0usize; n_products + 1];
        for k in 0..view.len() {
            for p in products.of(k) {
                starts[p.get() + 1] += 1;
            }
        }
        for j in 0..n_products {
            starts[j + 1] += starts[j];
        }
        let mut next = starts[..n_products].to_vec();
        let empty = Obs {
            customer: 0,
            day: 0,
            amount: 0.0,
            quantity: 0.0,
            region: 0,
        };
        let mut obs = vec![empty; starts[n_products]];
        for k in 0..view.len() {
            let h = view.history(k);
            let (p, q) = (products.of(k), quantities.of(k));
            let r = regions.map(|r| r.of(k));
            for i in 0..h.len() {
                let slot = &mut next[p[i].get()];
                obs[*slot] = Obs {
                    customer: k as u32,
                    day: h.days[i],
                    amount: h.amounts[i],
                    quantity: q[i],
                    region: r.map_or(0, |r| r[i].0),
                };
                *slot += 1;
            }
        }
        ProductRows { starts, obs }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    fn rows(&self, p: ProductIdx) -> &[Obs] {
        &self.obs[self.starts[p.get()]..self.starts[p.get() + 1]]
    }
}
