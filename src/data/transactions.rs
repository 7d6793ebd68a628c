//! The columnar transaction log.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::ids::{ChannelIdx, Interner, OrderIdx, ProductIdx, RegionIdx};
use crate::time::Timestamp;

/// All transactions, as columns sorted by (customer, day, second), with per-customer
/// offsets: customer `c`'s history is rows `offsets[c]..offsets[c + 1]`.
///
/// Optional columns are `None` when the input did not have them, so they cost nothing.
///
/// **Negative amounts** are returns. They stay in the log (revenue and margin net them),
/// but a return is never a purchase ([`is_purchase`]). Loading can reject them instead
/// ([`NegativeAmounts::Reject`]).
///
/// The columns are private to the data module: analyses read them one customer at a time
/// through a [`View`](super::View).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct TransactionLog {
    offsets: Vec<usize>,
    day: Vec<i32>,
    second: Option<Vec<u32>>,
    amount: Vec<f64>,
    cost: Option<Vec<f64>>,
    quantity: Option<Vec<f64>>,
    product: Option<Vec<ProductIdx>>,
    channel: Option<Vec<ChannelIdx>>,
    region: Option<Vec<RegionIdx>>,
    order: Option<Vec<OrderIdx>>,
    orders: Interner,
    /// First and last day of the whole log, kept when it is built: the default end of
    /// a window, the same for every scope.
    #[serde(default)]
    span: Option<(i32, i32)>,
}

/// What to do with negative amounts (returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum NegativeAmounts {
    /// Keep them as returns (see [`is_purchase`]).
    #[default]
    Returns,
    /// Treat them as bad rows ([`Problem::NegativeAmount`](crate::Problem::NegativeAmount)).
    Reject,
}

/// One customer's transactions, in time order: slices of the log's columns.
#[derive(Debug, Clone, Copy)]
pub struct History<'a> {
    /// Day numbers (days since 1970-01-01).
    pub days: &'a [i32],
    /// Second of the day, when the input had times.
    pub seconds: Option<&'a [u32]>,
    /// Amounts (negative: returns).
    pub amounts: &'a [f64],
    /// Cost of goods per row.
    pub costs: Option<&'a [f64]>,
    /// Quantities.
    pub quantities: Option<&'a [f64]>,
    /// Products.
    pub products: Option<&'a [ProductIdx]>,
    /// Channels.
    pub channels: Option<&'a [ChannelIdx]>,
    /// Regions.
    pub regions: Option<&'a [RegionIdx]>,
    /// Orders.
    pub orders: Option<&'a [OrderIdx]>,
}

impl<'a> History<'a> {
    /// The rows `r` of these columns.
    #[inline]
    pub(crate) fn slice(&self, r: std::ops::Range<usize>) -> History<'a> {
        History {
            days: &self.days[r.clone()],
            seconds: self.seconds.map(|v| &v[r.clone()]),
            amounts: &self.amounts[r.clone()],
            costs: self.costs.map(|v| &v[r.clone()]),
            quantities: self.quantities.map(|v| &v[r.clone()]),
            products: self.products.map(|v| &v[r.clone()]),
            channels: self.channels.map(|v| &v[r.clone()]),
            regions: self.regions.map(|v| &v[r.clone()]),
            orders: self.orders.map(|v| &v[r]),
        }
    }

    /// Number of transactions.
    pub fn len(&self) -> usize {
        self.days.len()
    }
    /// Whether the customer has no transactions.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }
}

/// Whether a transaction of this amount is a purchase: the one definition every part of
/// the crate uses.
///
/// A purchase is a row with a non-negative amount; a negative amount is a return. A zero
/// amount (a free item, a fully discounted order) is a purchase occasion: the customer
/// came and took something. CDNOW has such rows (about 80 of 69,659), and the published
/// BG/NBD counts (Fader, Hardie & Lee 2005) and lifetimes' summary count them.
#[inline]
pub fn is_purchase(amount: f64) -> bool {
    amount >= 0.0
}

/// Orders among the purchase rows ([`is_purchase`]) of `range`: distinct order ids when the
/// log has them (`orders`), else one per purchase row, the convention of the summary,
/// profit and habits. `buf` is scratch space reused across customers.
pub(crate) fn count_orders(
    orders: Option<&[OrderIdx]>,
    amounts: &[f64],
    range: std::ops::Range<usize>,
    buf: &mut Vec<OrderIdx>,
) -> u32 {
    let purchases = range.clone().filter(|&i| is_purchase(amounts[i]));
    match orders {
        None => purchases.count() as u32,
        Some(o) => {
            buf.clear();
            buf.extend(purchases.map(|i| o[i]));
            buf.sort_unstable();
            buf.dedup();
            buf.len() as u32
        }
    }
}

/// Rows in arrival order, before sorting: what loaders fill.
#[derive(Debug, Default)]
pub(crate) struct RawRows {
    pub customer: Vec<u32>,
    pub day: Vec<i32>,
    pub second: Option<Vec<u32>>,
    pub amount: Vec<f64>,
    pub cost: Option<Vec<f64>>,
    pub quantity: Option<Vec<f64>>,
    pub product: Option<Vec<u32>>,
    pub channel: Option<Vec<u32>>,
    pub region: Option<Vec<u32>>,
    pub order: Option<Vec<u32>>,
}

/// Which optional columns the rows carry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Columns {
    pub cost: bool,
    pub quantity: bool,
    pub product: bool,
    pub channel: bool,
    pub region: bool,
    pub order: bool,
}

impl Columns {
    /// Each optional column's presence, named as the field of a
    /// [`TransactionRecord`](crate::data::TransactionRecord).
    pub fn fields(self) -> [(&'static str, bool); 6] {
        [
            ("cost", self.cost),
            ("quantity", self.quantity),
            ("product_id", self.product),
            ("channel", self.channel),
            ("region", self.region),
            ("order_id", self.order),
        ]
    }
}

impl RawRows {
    pub fn with_columns(c: Columns) -> Self {
        RawRows {
            cost: c.cost.then(Vec::new),
            quantity: c.quantity.then(Vec::new),
            product: c.product.then(Vec::new),
            channel: c.channel.then(Vec::new),
            region: c.region.then(Vec::new),
            order: c.order.then(Vec::new),
            ..Default::default()
        }
    }

    pub fn len(&self) -> usize {
        self.day.len()
    }

    /// Appends the time of one row, creating the seconds column on the first date-time.
    pub fn push_time(&mut self, t: Timestamp) {
        self.day.push(t.day());
        match (t.second(), &mut self.second) {
            (_, Some(col)) => col.push(t.second().unwrap_or(0)),
            (Some(s), None) => {
                let mut col = vec![0; self.day.len() - 1];
                col.push(s);
                self.second = Some(col);
            }
            (None, None) => {}
        }
    }

    /// Appends `other`, mapping its customer (and other interned) indices.
    pub fn append(&mut self, mut other: RawRows, map: &RowMaps<'_>) {
        let n = self.len();
        let mapped =
            |col: &[u32], m: &[u32]| col.iter().map(|&i| m[i as usize]).collect::<Vec<_>>();
        self.customer.extend(mapped(&other.customer, map.customer));
        match (&mut self.second, other.second) {
            (Some(a), Some(b)) => a.extend(b),
            (Some(a), None) => a.resize(a.len() + other.day.len(), 0),
            (None, Some(b)) => {
                let mut col = vec![0; n];
                col.extend(b);
                self.second = Some(col);
            }
            (None, None) => {}
        }
        self.day.extend(other.day);
        self.amount.extend(other.amount);
        fn ext<T: Copy>(a: &mut Option<Vec<T>>, b: Option<Vec<T>>) {
            if let (Some(a), Some(b)) = (a, b) {
                a.extend(b);
            }
        }
        ext(&mut self.cost, other.cost);
        ext(&mut self.quantity, other.quantity);
        for (a, b, m) in [
            (&mut self.product, other.product.take(), map.product),
            (&mut self.channel, other.channel.take(), map.channel),
            (&mut self.region, other.region.take(), map.region),
            (&mut self.order, other.order.take(), map.order),
        ] {
            if let (Some(a), Some(b)) = (a.as_mut(), b) {
                a.extend(mapped(&b, m));
            }
        }
    }
}

/// Index maps from a chunk's local interners to the dataset's.
pub(crate) struct RowMaps<'a> {
    pub customer: &'a [u32],
    pub product: &'a [u32],
    pub channel: &'a [u32],
    pub region: &'a [u32],
    pub order: &'a [u32],
}

/// Gathers `col[perm[i]]`, in parallel.
fn gather<T: Copy + Send + Sync>(col: Vec<T>, perm: &[u32]) -> Vec<T> {
    perm.par_iter()
        .with_min_len(1 << 14)
        .map(|&i| col[i as usize])
        .collect()
}

impl TransactionLog {
    /// Sorts raw rows by (customer, day, second, arrival) and builds the offsets.
    ///
    /// A stable counting sort by customer, then a per-customer sort by time that is
    /// skipped when the customer's rows already arrive in time order (the usual case).
    /// Columns are permuted one at a time, so the peak is the raw log plus one column.
    pub(crate) fn from_raw(raw: RawRows, n_customers: usize, orders: Interner) -> Self {
        let n = raw.len();
        let mut offsets = vec![0usize; n_customers + 1];
        for &c in &raw.customer {
            offsets[c as usize + 1] += 1;
        }
        for i in 0..n_customers {
            offsets[i + 1] += offsets[i];
        }
        let (day, second) = (&raw.day, raw.second.as_deref());
        let key = |i: u32| (day[i as usize], second.map_or(0, |s| s[i as usize]));
        // Exports are often grouped by customer and in time order: then the rows are
        // already sorted and no permutation is allocated (the peak stays at the raw log).
        let in_order = raw.customer.par_windows(2).all(|w| w[0] <= w[1])
            && offsets.par_windows(2).with_min_len(256).all(|w| {
                (w[0] as u32..w[1].saturating_sub(1) as u32).all(|i| key(i) <= key(i + 1))
            });
        if in_order {
            return Self::from_sorted(raw, offsets, orders);
        }
        let mut next = offsets[..n_customers].to_vec();
        let mut perm = vec![0u32; n];
        for (i, &c) in raw.customer.iter().enumerate() {
            let slot = &mut next[c as usize];
            // Row counts fit u32: `DatasetBuilder::build` rejects more rows.
            perm[*slot] = i as u32;
            *slot += 1;
        }
        drop(next);
        let mut segments = Vec::with_capacity(n_customers);
        let mut rest = perm.as_mut_slice();
        for w in offsets.windows(2) {
            let (seg, tail) = rest.split_at_mut(w[1] - w[0]);
            segments.push(seg);
            rest = tail;
        }
        segments.par_iter_mut().with_min_len(256).for_each(|seg| {
            if !seg.windows(2).all(|w| key(w[0]) <= key(w[1])) {
                seg.sort_by_key(|&i| key(i));
            }
        });
        drop(segments);
        let RawRows {
            customer,
            day,
            second,
            amount,
            cost,
            quantity,
            product,
            channel,
            region,
            order,
        } = raw;
        drop(customer);
        let sorted = RawRows {
            customer: Vec::new(),
            day: gather(day, &perm),
            second: second.map(|v| gather(v, &perm)),
            amount: gather(amount, &perm),
            cost: cost.map(|v| gather(v, &perm)),
            quantity: quantity.map(|v| gather(v, &perm)),
            product: product.map(|v| gather(v, &perm)),
            channel: channel.map(|v| gather(v, &perm)),
            region: region.map(|v| gather(v, &perm)),
            order: order.map(|v| gather(v, &perm)),
        };
        drop(perm);
        Self::from_sorted(sorted, offsets, orders)
    }

    /// The log of rows already in (customer, time) order, with their offsets.
    fn from_sorted(raw: RawRows, offsets: Vec<usize>, orders: Interner) -> Self {
        let span = raw
            .day
            .par_iter()
            .fold(
                || None,
                |acc: Option<(i32, i32)>, &d| {
                    Some(acc.map_or((d, d), |(a, b)| (a.min(d), b.max(d))))
                },
            )
            .reduce(
                || None,
                |x, y| match (x, y) {
                    (Some(x), Some(y)) => Some((x.0.min(y.0), x.1.max(y.1))),
                    (x, None) => x,
                    (None, y) => y,
                },
            );
        TransactionLog {
            span,
            offsets,
            day: raw.day,
            second: raw.second,
            amount: raw.amount,
            cost: raw.cost,
            quantity: raw.quantity,
            product: raw.product.map(|v| v.into_iter().map(ProductIdx).collect()),
            channel: raw.channel.map(|v| v.into_iter().map(ChannelIdx).collect()),
            region: raw.region.map(|v| v.into_iter().map(RegionIdx).collect()),
            order: raw.order.map(|v| v.into_iter().map(OrderIdx).collect()),
            orders,
        }
    }

    /// First and last day of the whole log.
    pub(super) fn span(&self) -> Option<(i32, i32)> {
        self.span
    }

    /// The log with its customers in `order` (a permutation of the customer indices):
    /// each customer's rows move whole, in time order, so the log stays sorted.
    pub(super) fn permuted(self, order: &[u32]) -> TransactionLog {
        let mut offsets = Vec::with_capacity(order.len() + 1);
        offsets.push(0usize);
        for &c in order {
            let c = c as usize;
            let len = self.offsets[c + 1] - self.offsets[c];
            offsets.push(offsets.last().copied().unwrap_or(0) + len);
        }
        let mut rows = vec![0u32; self.day.len()];
        let mut slots: Vec<&mut [u32]> = Vec::with_capacity(order.len());
        let mut rest = rows.as_mut_slice();
        for w in offsets.windows(2) {
            let (slot, tail) = rest.split_at_mut(w[1] - w[0]);
            slots.push(slot);
            rest = tail;
        }
        slots
            .par_iter_mut()
            .enumerate()
            .with_min_len(1 << 10)
            .for_each(|(k, slot)| {
                let start = self.offsets[order[k] as usize];
                for (j, r) in slot.iter_mut().enumerate() {
                    // Row counts fit u32: `DatasetBuilder::build` rejects more rows.
                    *r = (start + j) as u32;
                }
            });
        drop(slots);
        let TransactionLog {
            day,
            second,
            amount,
            cost,
            quantity,
            product,
            channel,
            region,
            order: order_col,
            orders,
            span,
            ..
        } = self;
        TransactionLog {
            offsets,
            day: gather(day, &rows),
            second: second.map(|v| gather(v, &rows)),
            amount: gather(amount, &rows),
            cost: cost.map(|v| gather(v, &rows)),
            quantity: quantity.map(|v| gather(v, &rows)),
            product: product.map(|v| gather(v, &rows)),
            channel: channel.map(|v| gather(v, &rows)),
            region: region.map(|v| gather(v, &rows)),
            order: order_col.map(|v| gather(v, &rows)),
            orders,
            span,
        }
    }

    /// Extends the offsets to `n` customers (customers added without transactions).
    pub(super) fn add_customers(&mut self, n: usize) {
        let end = self.offsets.last().copied().unwrap_or(0);
        if self.offsets.is_empty() {
            self.offsets.push(0);
        }
        while self.offsets.len() < n + 1 {
            self.offsets.push(end);
        }
    }

    /// Number of transactions.
    pub(super) fn len(&self) -> usize {
        self.day.len()
    }

    /// Per-customer offsets (length `n_customers() + 1`).
    pub(super) fn offsets(&self) -> &[usize] {
        &self.offsets
    }

    /// The transactions of rows `r` (one customer's range).
    #[inline]
    pub(super) fn history_of(&self, r: std::ops::Range<usize>) -> History<'_> {
        History {
            days: &self.day[r.clone()],
            seconds: self.second.as_ref().map(|v| &v[r.clone()]),
            amounts: &self.amount[r.clone()],
            costs: self.cost.as_ref().map(|v| &v[r.clone()]),
            quantities: self.quantity.as_ref().map(|v| &v[r.clone()]),
            products: self.product.as_ref().map(|v| &v[r.clone()]),
            channels: self.channel.as_ref().map(|v| &v[r.clone()]),
            regions: self.region.as_ref().map(|v| &v[r.clone()]),
            orders: self.order.as_ref().map(|v| &v[r]),
        }
    }

    /// Day numbers of all rows.
    pub(super) fn days(&self) -> &[i32] {
        &self.day
    }
    /// Seconds of the day, when the input had times.
    pub(super) fn seconds(&self) -> Option<&[u32]> {
        self.second.as_deref()
    }
    /// Costs, when present.
    pub(super) fn costs(&self) -> Option<&[f64]> {
        self.cost.as_deref()
    }
    /// Quantities, when present.
    pub(super) fn quantities(&self) -> Option<&[f64]> {
        self.quantity.as_deref()
    }
    /// Products, when present.
    pub(super) fn products(&self) -> Option<&[ProductIdx]> {
        self.product.as_deref()
    }
    /// Channels, when present.
    pub(super) fn channels(&self) -> Option<&[ChannelIdx]> {
        self.channel.as_deref()
    }
    /// Regions, when present.
    pub(super) fn regions(&self) -> Option<&[RegionIdx]> {
        self.region.as_deref()
    }
    /// Orders, when present.
    pub(super) fn orders(&self) -> Option<&[OrderIdx]> {
        self.order.as_deref()
    }
    /// The interned order ids.
    pub(super) fn order_ids(&self) -> &Interner {
        &self.orders
    }

    /// Bytes held by the columns (what "the size of the columnar log" means in benchmarks).
    pub(super) fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let opt = |n: Option<usize>, s: usize| n.unwrap_or(0) * s;
        self.offsets.len() * size_of::<usize>()
            + self.len() * (size_of::<i32>() + size_of::<f64>())
            + opt(self.second.as_ref().map(Vec::len), 4)
            + opt(self.cost.as_ref().map(Vec::len), 8)
            + opt(self.quantity.as_ref().map(Vec::len), 8)
            + opt(self.product.as_ref().map(Vec::len), 4)
            + opt(self.channel.as_ref().map(Vec::len), 4)
            + opt(self.region.as_ref().map(Vec::len), 4)
            + opt(self.order.as_ref().map(Vec::len), 4)
    }
}
