//! Habits (preferred channel and category, weekday and hour, regularity, basket) and risk
//! flags (declining purchase rate, high returns, concentration on one product), from the
//! transaction log in one parallel pass over customers.

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::data::{
    count_orders, is_purchase, Area, CategoryIdx, ChannelIdx, Column, ColumnState, History,
    OrderIdx, ProductIdx, Rows, View,
};
use crate::error::{Error, Result};
use crate::time::day_number;

/// Per-customer habits of a view's customers (row `i` is `rows.id(i)`). Only purchases
/// ([`is_purchase`]) on or before the as-of date count; a customer without one has `None`
/// (and zero counts) everywhere. A column the data lacks or the scope hides leaves its
/// habit `None` (channel, category) or empty (hours); basket size and value read
/// quantities and order ids, so a scope that hides those is refused. Regularity (gaps between purchase
/// days) is in the summary's [`CustomerFeatures`](crate::summary::CustomerFeatures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Habits {
    /// The customers, and the scope.
    pub rows: Rows,
    /// Channel with the most purchase rows (ties: more spend, then the lower index);
    /// `None` when the log has no channels.
    pub preferred_channel: Vec<Option<ChannelIdx>>,
    /// Product category with the most purchase rows (same tie rule); `None` when the log
    /// has no products or the products no categories.
    pub preferred_category: Vec<Option<CategoryIdx>>,
    /// Purchase rows by weekday, Monday first.
    pub weekday: Vec<[u32; 7]>,
    /// Purchase rows by hour of day, when the log has times.
    pub hour: Option<Vec<[u32; 24]>>,
    /// Mean units per order (|quantity| when the log has it, else purchase rows).
    pub basket_size: Vec<Option<f64>>,
    /// Mean spend per order (each purchase row is an order when the log has no order
    /// ids).
    pub basket_value: Vec<Option<f64>>,
}

/// Settings of [`Habits`]: the as-of date (default: the log's last day).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HabitOptions {
    until: Option<NaiveDate>,
}

/// Repeat purchase days in the earlier and the recent half of a customer's tenure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Halves {
    /// In the earlier half.
    pub earlier: u32,
    /// In the recent half.
    pub recent: u32,
}

/// Per-customer risk flags of a view's customers (row `i` is `rows.id(i)`).
///
/// **Declining rate.** A customer's repeat purchases (purchase days after the first) up
/// to the as-of date are split at the midpoint of their time since the first purchase.
/// Under a constant purchase rate the count in the recent half, given the total n, is
/// Binomial(n, ½); the one-sided p-value is P(N ≤ recent count). The flag is set when
/// n ≥ `min_repeat` and p < `alpha`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskFlags {
    /// The customers, and the scope.
    pub rows: Rows,
    /// Repeat purchase days in the earlier and the recent half of the customer's tenure.
    pub halves: Vec<Halves>,
    /// One-sided p-value of the decline (`None` below `min_repeat` repeat purchases).
    pub decline_p: Vec<Option<f64>>,
    /// Declining purchase rate.
    pub declining: Vec<bool>,
    /// Value returned as a share of value bought in the window: 0 without returns,
    /// infinite for a customer who only returned (flagged as high returns).
    pub return_share: Vec<f64>,
    /// `return_share` at or above the threshold.
    pub high_returns: Vec<bool>,
    /// Share of purchase spend on the customer's top product (`None` without products or
    /// purchases).
    pub top_product_share: Vec<Option<f64>>,
    /// Top product share at or above the threshold, with at least `min_purchases` rows.
    pub concentrated: Vec<bool>,
}

/// Thresholds of [`RiskFlags`]. Defaults: as of the log's last day, `alpha` 0.05,
/// `min_repeat` 4, high returns at a return share of 0.2, concentration at a top-product
/// share of 0.5 over at least 3 purchase rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RiskOptions {
    until: Option<NaiveDate>,
    alpha: f64,
    min_repeat: u32,
    return_share: f64,
    concentration: f64,
    min_purchases: u32,
}

impl Default for RiskOptions {
    fn default() -> Self {
        RiskOptions {
            until: None,
            alpha: 0.05,
            min_repeat: 4,
            return_share: 0.2,
            concentration: 0.5,
            min_purchases: 3,
        }
    }
}

/// The last day counted: `until`, else the last day of the whole log (the same for
/// every scope, so a customer's flags do not depend on who else is viewed).
fn end_day(view: &View<'_>, until: Option<NaiveDate>) -> i32 {
    match until {
        Some(d) => day_number(d),
        None => view.log_span().map_or(0, |r| r.1),
    }
}

/// Rows of a history on or before `end` (histories are in time order).
fn upto(h: &History<'_>, end: i32) -> usize {
    h.days.partition_point(|&d| d <= end)
}

/// Adds `(1, amount)` to `tally[k]`, remembering which entries were touched so they can
/// be reset without clearing the whole table.
fn bump(tally: &mut [(u32, f64)], touched: &mut Vec<u32>, k: usize, amount: f64) {
    if tally[k].0 == 0 {
        touched.push(k as u32);
    }
    tally[k].0 += 1;
    tally[k].1 += amount;
}

/// The touched entry with the largest (count, spend), lower index on ties; resets them.
fn take_preferred(tally: &mut [(u32, f64)], touched: &mut Vec<u32>) -> Option<u32> {
    touched.sort_unstable();
    let mut best: Option<(u32, (u32, f64))> = None;
    for &k in touched.iter() {
        let t = tally[k as usize];
        let better = match best {
            None => true,
            Some((_, b)) => t.0 > b.0 || (t.0 == b.0 && t.1 > b.1),
        };
        if better {
            best = Some((k, t));
        }
        tally[k as usize] = (0, 0.0);
    }
    touched.clear();
    best.map(|(k, _)| k)
}

/// Scratch space of one worker.
struct Scratch {
    channels: Vec<(u32, f64)>,
    channels_touched: Vec<u32>,
    categories: Vec<(u32, f64)>,
    categories_touched: Vec<u32>,
    orders: Vec<OrderIdx>,
}

/// One customer's habits.
struct Row {
    channel: Option<ChannelIdx>,
    category: Option<CategoryIdx>,
    weekday: [u32; 7],
    hour: [u32; 24],
    basket_size: Option<f64>,
    basket_value: Option<f64>,
}

impl HabitOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// Count purchases on or before `date` only.
    pub fn until(mut self, date: NaiveDate) -> Self {
        self.until = Some(date);
        self
    }

    /// Checks the options (there is nothing to check).
    ///
    /// # Errors
    /// None; present so that every options type validates the same way.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Habits of every customer of the view.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids profiling;
    /// [`Error::HiddenColumn`] when the data has quantities or order ids and the scope
    /// hides them (basket size and value would count rows instead).
    pub fn compute(&self, view: &View<'_>) -> Result<Habits> {
        view.require(Area::Profiling)?;
        // Counting rows in place of units or orders is right only for data without them:
        // hidden, they are an error, not a silently different basket.
        for column in [Column::Quantity, Column::Order] {
            if view.column(column) == ColumnState::Hidden {
                view.need(column)?;
            }
        }
        let end = end_day(view, self.until);
        // Channels and categories are habits only where the view shows them.
        let n_channels = view.channel_names().map_or(0, |c| c.len());
        let catalogue = view.catalogue().ok();
        let n_categories = catalogue.as_ref().map_or(0, |c| c.categories().len());
        let category_of: Option<Vec<Option<CategoryIdx>>> = catalogue.map(|cat| {
            (0..cat.len())
                .map(|p| cat.category(ProductIdx(p as u32)))
                .collect()
        });
        let with_times = view.has_times();
        let rows: Vec<Row> = (0..view.len())
            .into_par_iter()
            .with_min_len(1 << 12)
            .map_init(
                || Scratch {
                    channels: vec![(0, 0.0); n_channels],
                    channels_touched: Vec::new(),
                    categories: vec![(0, 0.0); n_categories],
                    categories_touched: Vec::new(),
                    orders: Vec::new(),
                },
                |s, k| {
                    let h = view.history(k);
                    let m = upto(&h, end);
                    habit_row(&h, m, category_of.as_deref(), s)
                },
            )
            .collect();
        let n = rows.len();
        let mut out = Habits {
            rows: view.rows(),
            preferred_channel: Vec::with_capacity(n),
            preferred_category: Vec::with_capacity(n),
            weekday: Vec::with_capacity(n),
            hour: with_times.then(|| Vec::with_capacity(n)),
            basket_size: Vec::with_capacity(n),
            basket_value: Vec::with_capacity(n),
        };
        for r in rows {
            out.preferred_channel.push(r.channel);
            out.preferred_category.push(r.category);
            out.weekday.push(r.weekday);
            if let Some(h) = out.hour.as_mut() {
                h.push(r.hour);
            }
            out.basket_size.push(r.basket_size);
            out.basket_value.push(r.basket_value);
        }
        Ok(out)
    }
}

fn habit_row(
    h: &History<'_>,
    m: usize,
    category_of: Option<&[Option<CategoryIdx>]>,
    s: &mut Scratch,
) -> Row {
    let mut row = Row {
        channel: None,
        category: None,
        weekday: [0; 7],
        hour: [0; 24],
        basket_size: None,
        basket_value: None,
    };
    let (mut purchases, mut units, mut spend) = (0u32, 0.0, 0.0);
    for i in 0..m {
        let amount = h.amounts[i];
        if !is_purchase(amount) {
            continue;
        }
        purchases += 1;
        spend += amount;
        units += h.quantities.map_or(1.0, |q| q[i].abs());
        let day = h.days[i];
        // Day 0 (1970-01-01) was a Thursday.
        row.weekday[(day + 3).rem_euclid(7) as usize] += 1;
        if let Some(sec) = h.seconds {
            row.hour[(sec[i] / 3600).min(23) as usize] += 1;
        }
        if let Some(ch) = h.channels {
            bump(
                &mut s.channels,
                &mut s.channels_touched,
                ch[i].get(),
                amount,
            );
        }
        if let (Some(p), Some(cat)) = (h.products, category_of) {
            if let Some(k) = cat[p[i].get()] {
                bump(
                    &mut s.categories,
                    &mut s.categories_touched,
                    k.get(),
                    amount,
                );
            }
        }
    }
    row.channel = take_preferred(&mut s.channels, &mut s.channels_touched).map(ChannelIdx);
    row.category = take_preferred(&mut s.categories, &mut s.categories_touched).map(CategoryIdx);
    if purchases == 0 {
        return row;
    }
    let orders = match h.orders {
        None => purchases,
        o => count_orders(o, h.amounts, 0..m, &mut s.orders),
    };
    row.basket_size = Some(units / f64::from(orders));
    row.basket_value = Some(spend / f64::from(orders));
    row
}

impl RiskOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }
    /// Count rows on or before `date` only; also the end of the tenure split.
    pub fn until(mut self, date: NaiveDate) -> Self {
        self.until = Some(date);
        self
    }
    /// Significance level of the decline test, in (0, 1), and the minimum number of
    /// repeat purchases tested (≥ 1).
    pub fn decline_test(mut self, alpha: f64, min_repeat: u32) -> Self {
        self.alpha = alpha;
        self.min_repeat = min_repeat;
        self
    }
    /// Return share at or above which returns are high, in (0, ∞).
    pub fn high_return_share(mut self, share: f64) -> Self {
        self.return_share = share;
        self
    }
    /// Top-product share of spend, in (0, 1\], at or above which a customer with at least
    /// `min_purchases` purchase rows (≥ 1) is concentrated.
    pub fn concentration(mut self, share: f64, min_purchases: u32) -> Self {
        self.concentration = share;
        self.min_purchases = min_purchases;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the first option out of its domain.
    pub fn validate(&self) -> Result<()> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(Error::option(
                "decline_test",
                format!("alpha = {}", self.alpha),
                "alpha in (0, 1)",
            ));
        }
        if self.min_repeat == 0 {
            return Err(Error::option(
                "decline_test",
                "min_repeat = 0",
                "min_repeat ≥ 1",
            ));
        }
        if !(self.return_share.is_finite() && self.return_share > 0.0) {
            return Err(Error::option(
                "high_return_share",
                self.return_share,
                "a finite positive share",
            ));
        }
        if !(self.concentration > 0.0 && self.concentration <= 1.0) {
            return Err(Error::option(
                "concentration",
                format!("share = {}", self.concentration),
                "a share in (0, 1]",
            ));
        }
        if self.min_purchases == 0 {
            return Err(Error::option(
                "concentration",
                "min_purchases = 0",
                "min_purchases ≥ 1",
            ));
        }
        Ok(())
    }

    /// Risk flags of every customer of the view. Concentration needs products: without
    /// them (absent from the data or hidden) `top_product_share` is `None` and nobody is
    /// concentrated.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (naming the setter and the value) for a threshold out of
    /// its domain (see the setters); [`Error::ForbiddenArea`] when the scope forbids
    /// profiling.
    pub fn compute(&self, view: &View<'_>) -> Result<RiskFlags> {
        self.validate()?;
        view.require(Area::Profiling)?;
        let end = end_day(view, self.until);
        let n_products = view.catalogue().map_or(0, |c| c.len());
        let rows: Vec<RiskRow> = (0..view.len())
            .into_par_iter()
            .with_min_len(1 << 12)
            .map_init(
                || (vec![0.0; n_products], Vec::<u32>::new()),
                |(spend, touched), k| {
                    let h = view.history(k);
                    self.risk_row(&h, upto(&h, end), end, spend, touched)
                },
            )
            .collect();
        let n = rows.len();
        let mut out = RiskFlags {
            rows: view.rows(),
            halves: Vec::with_capacity(n),
            decline_p: Vec::with_capacity(n),
            declining: Vec::with_capacity(n),
            return_share: Vec::with_capacity(n),
            high_returns: Vec::with_capacity(n),
            top_product_share: Vec::with_capacity(n),
            concentrated: Vec::with_capacity(n),
        };
        for r in rows {
            out.halves.push(r.halves);
            out.decline_p.push(r.p);
            out.declining.push(r.p.is_some_and(|p| p < self.alpha));
            out.return_share.push(r.return_share);
            out.high_returns.push(r.return_share >= self.return_share);
            out.top_product_share.push(r.top);
            out.concentrated.push(
                r.purchases >= self.min_purchases && r.top.is_some_and(|t| t >= self.concentration),
            );
        }
        Ok(out)
    }

    fn risk_row(
        &self,
        h: &History<'_>,
        m: usize,
        end: i32,
        spend: &mut [f64],
        touched: &mut Vec<u32>,
    ) -> RiskRow {
        let (mut bought, mut returned, mut purchases) = (0.0, 0.0, 0u32);
        let mut first = None;
        for i in 0..m {
            let a = h.amounts[i];
            if !is_purchase(a) {
                returned -= a;
                continue;
            }
            purchases += 1;
            bought += a;
            first.get_or_insert(h.days[i]);
            if let Some(p) = h.products {
                let k = p[i].get();
                if spend[k] == 0.0 {
                    touched.push(k as u32);
                }
                // A zero-amount row still marks the product as bought.
                spend[k] += a.max(f64::MIN_POSITIVE);
            }
        }
        let top = h.products.and_then(|_| {
            let mut best = 0.0f64;
            for &k in touched.iter() {
                best = best.max(spend[k as usize]);
                spend[k as usize] = 0.0;
            }
            touched.clear();
            (bought > 0.0).then(|| (best / bought).min(1.0))
        });
        // Repeat purchase days split at the midpoint of (first, end].
        let (mut early, mut late) = (0u32, 0u32);
        if let Some(f) = first {
            // Twice the offset from the first day against the tenure avoids halving.
            let tenure = i64::from(end) - i64::from(f);
            let mut last = f;
            for i in 0..m {
                let d = h.days[i];
                if !is_purchase(h.amounts[i]) || d == last {
                    continue;
                }
                last = d;
                if 2 * (i64::from(d) - i64::from(f)) <= tenure {
                    early += 1;
                } else {
                    late += 1;
                }
            }
        }
        let n = early + late;
        let p = (n >= self.min_repeat).then(|| {
            // n ≥ 1 and p = ½ are valid Binomial parameters.
            Binomial::new(0.5, u64::from(n)).map_or(1.0, |b| b.cdf(u64::from(late)))
        });
        RiskRow {
            halves: Halves {
                earlier: early,
                recent: late,
            },
            p,
            return_share: if bought > 0.0 {
                returned / bought
            } else if returned > 0.0 {
                f64::INFINITY
            } else {
                0.0
            },
            top,
            purchases,
        }
    }
}

/// One customer's risk figures.
struct RiskRow {
    halves: Halves,
    p: Option<f64>,
    return_share: f64,
    top: Option<f64>,
    purchases: u32,
}

// `preferred` is the reference for the incremental `take_preferred` in tests.
#[cfg(test)]
mod tests {
    use super::*;

    /// The index with the largest (count, spend), the lower index on ties.
    fn preferred(tally: &[(u32, f64)]) -> Option<u32> {
        let mut best: Option<(usize, (u32, f64))> = None;
        for (i, &t) in tally.iter().enumerate() {
            if t.0 == 0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, b)) => t.0 > b.0 || (t.0 == b.0 && t.1 > b.1),
            };
            if better {
                best = Some((i, t));
            }
        }
        best.map(|(i, _)| i as u32)
    }

    #[test]
    fn take_preferred_matches_a_full_scan() {
        let table = [(0, 0.0), (3, 5.0), (3, 7.0), (1, 100.0), (3, 7.0)];
        let mut t = table.to_vec();
        let mut touched = vec![4, 2, 1, 3];
        assert_eq!(take_preferred(&mut t, &mut touched), preferred(&table));
        assert_eq!(preferred(&table), Some(2));
        assert!(t.iter().all(|&(c, _)| c == 0));
    }
}
