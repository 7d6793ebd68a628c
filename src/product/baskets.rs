//! Baskets: the sets of items bought together, items interned to dense ids, stored as one
//! compressed sparse row array (never a basket × item matrix).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{CustomerIdx, Dataset, Interner};
use crate::error::{Error, Result};

/// What makes one basket out of transaction rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BasketKey {
    /// The order id when the log has one, else customer and day (default).
    #[default]
    Auto,
    /// One basket per order id (the log must have order ids).
    Order,
    /// One basket per customer and calendar day.
    CustomerDay,
}

/// Whether basket items are products or their categories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BasketLevel {
    /// Products (default).
    #[default]
    Product,
    /// Product categories from the product table.
    Category,
}

/// How a transaction log becomes baskets: the key and the item level. Rows with a negative
/// amount (returns) are not purchases and are left out, counted in [`BasketReport`];
/// products without a category are an error at category level unless skipping them is
/// asked for, and then they are counted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BasketOptions {
    key: BasketKey,
    level: BasketLevel,
    skip_uncategorised: bool,
}

/// Counts of what went into the baskets and what was left out, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BasketReport {
    /// Rows (or item mentions) read.
    pub rows: u64,
    /// Rows that are returns (negative amount), not purchases.
    pub returns: u64,
    /// Rows whose product has no category (category level, when skipping is on).
    pub uncategorised: u64,
    /// Mentions of an item already in the same basket (merged: a basket is a set).
    pub repeated_items: u64,
    /// Orders or customer-days with no row left (only returns or skipped rows): not
    /// baskets.
    pub emptied_baskets: u64,
}

/// Baskets as sets of dense item ids, with the item names and, when they came from a
/// transaction log, the customer of each basket.
///
/// Items within a basket are sorted ascending and distinct.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baskets {
    items: Interner,
    offsets: Vec<usize>,
    data: Vec<u32>,
    customers: Option<(Interner, Vec<u32>)>,
    report: BasketReport,
}

impl BasketOptions {
    /// Defaults: order id when present, else customer and day; products.
    pub fn new() -> Self {
        Self::default()
    }

    /// The basket key.
    pub fn key(mut self, key: BasketKey) -> Self {
        self.key = key;
        self
    }

    /// The item level.
    pub fn level(mut self, level: BasketLevel) -> Self {
        self.level = level;
        self
    }

    /// Leave out (and count) rows whose product has no category, at category level.
    pub fn skip_uncategorised(mut self, yes: bool) -> Self {
        self.skip_uncategorised = yes;
        self
    }

    /// Baskets from a transaction log.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] when the log has no products (or no order ids for
    /// [`BasketKey::Order`]); [`Error::Degenerate`] for a product without a category at
    /// category level (unless skipped) or an order id shared by two customers;
    /// [`Error::EmptyInput`] for an empty log.
    pub fn from_log(&self, data: &Dataset) -> Result<Baskets> {
        let log = data.transactions();
        if log.is_empty() {
            return Err(Error::EmptyInput);
        }
        let missing = |column: &str| Error::MissingColumn {
            column: column.into(),
            available: log.column_names(),
        };
        let products = log.products().ok_or_else(|| missing("product"))?;
        let orders = match (self.key, log.orders()) {
            (BasketKey::Order, None) => return Err(missing("order")),
            (BasketKey::CustomerDay, _) => None,
            (_, o) => o,
        };
        let table = data.products();
        let (items, item_of): (Interner, Vec<Option<u32>>) = match self.level {
            BasketLevel::Product => (
                table.ids().clone(),
                (0..table.len()).map(|p| Some(p as u32)).collect(),
            ),
            BasketLevel::Category => (
                table.categories().clone(),
                (0..table.len())
                    .map(|p| {
                        table
                            .category(crate::data::ProductIdx(p as u32))
                            .map(|c| c.0)
                    })
                    .collect(),
            ),
        };
        let mut report = BasketReport {
            rows: log.len() as u64,
            ..BasketReport::default()
        };
        let amounts = log.amounts();
        // The item of each row, or None when the row is left out (counted here).
        let mut row_item = Vec::with_capacity(log.len());
        for (i, (&p, &a)) in products.iter().zip(amounts).enumerate() {
            if a < 0.0 {
                report.returns += 1;
                row_item.push(None);
                continue;
            }
            match item_of[p.0 as usize] {
                Some(item) => row_item.push(Some(item)),
                None if self.skip_uncategorised => {
                    report.uncategorised += 1;
                    row_item.push(None);
                }
                None => {
                    return Err(Error::Degenerate {
                        input: table.id(p).to_string(),
                        reason: format!(
                            "the product (transaction row {}) has no category; give it one \
                             or skip uncategorised products",
                            i + 1
                        ),
                    })
                }
            }
        }
        let (lists, customer) = match orders {
            Some(orders) => {
                let n_orders = log.order_ids().len();
                let mut lists = vec![Vec::new(); n_orders];
                let mut customer = vec![u32::MAX; n_orders];
                for c in 0..log.n_customers() {
                    for i in log.range(CustomerIdx(c as u32)) {
                        let o = orders[i].0 as usize;
                        if customer[o] == u32::MAX {
                            customer[o] = c as u32;
                        } else if customer[o] != c as u32 {
                            let ids = data.customers();
                            return Err(Error::Degenerate {
                                input: log.order_ids().name(o).to_string(),
                                reason: format!(
                                    "the order id belongs to customers {} and {}",
                                    ids.id(CustomerIdx(customer[o])),
                                    ids.id(CustomerIdx(c as u32))
                                ),
                            });
                        }
                        if let Some(item) = row_item[i] {
                            lists[o].push(item);
                        }
                    }
                }
                (lists, customer)
            }
            None => {
                let (mut lists, mut customer) = (Vec::new(), Vec::new());
                let days = log.days();
                for c in 0..log.n_customers() {
                    let range = log.range(CustomerIdx(c as u32));
                    let mut i = range.start;
                    while i < range.end {
                        let mut j = i;
                        let mut list = Vec::new();
                        while j < range.end && days[j] == days[i] {
                            if let Some(item) = row_item[j] {
                                list.push(item);
                            }
                            j += 1;
                        }
                        lists.push(list);
                        customer.push(c as u32);
                        i = j;
                    }
                }
                (lists, customer)
            }
        };
        // A basket whose rows were all left out (only returns, say) bought nothing.
        let before = lists.len();
        let (lists, customer): (Vec<Vec<u32>>, Vec<u32>) = lists
            .into_iter()
            .zip(customer)
            .filter(|(l, _)| !l.is_empty())
            .unzip();
        report.emptied_baskets = (before - lists.len()) as u64;
        let mut baskets = Baskets::from_id_lists(items, lists)?;
        baskets.report.emptied_baskets = report.emptied_baskets;
        baskets.report.rows = report.rows;
        baskets.report.returns = report.returns;
        baskets.report.uncategorised = report.uncategorised;
        baskets.customers = Some((data.customers().ids().clone(), customer));
        Ok(baskets)
    }
}

/// The first list (its position) holding an item id not below `n_items`, and that id.
fn first_out_of_range(lists: &[Vec<u32>], n_items: usize) -> Option<(usize, u32)> {
    lists.iter().enumerate().find_map(|(row, list)| {
        list.iter()
            .find(|&&i| i as usize >= n_items)
            .map(|&i| (row, i))
    })
}

impl Baskets {
    /// Baskets from lists of item names, interned in order of first appearance. An empty
    /// list is an empty basket: it counts towards the number of baskets (the denominator
    /// of every support).
    ///
    /// # Errors
    /// [`Error::EmptyInput`] when there are no baskets at all.
    pub fn from_lists<L, S>(lists: impl IntoIterator<Item = L>) -> Result<Baskets>
    where
        L: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut items = Interner::new();
        let ids: Vec<Vec<u32>> = lists
            .into_iter()
            .map(|l| l.into_iter().map(|s| items.intern(s.as_ref())).collect())
            .collect();
        Baskets::from_id_lists(items, ids)
    }

    /// Baskets from lists of item ids of `items` (each id < `items.len()`), sorted and
    /// made distinct here.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] when there are no baskets; [`Error::BadValue`] (input
    /// `lists`, the basket's row) for an id outside `items`.
    pub fn from_id_lists(items: Interner, lists: Vec<Vec<u32>>) -> Result<Baskets> {
        if lists.is_empty() {
            return Err(Error::EmptyInput);
        }
        let n_items = items.len() as u32;
        if let Some((row, bad)) = first_out_of_range(&lists, n_items as usize) {
            return Err(Error::bad_value(
                "lists",
                row,
                "item",
                bad,
                format!("an item id below the {n_items} item names"),
            ));
        }
        let (offsets, data, repeated) = compress_rows(lists);
        let rows = data.len() as u64 + repeated;
        Ok(Baskets {
            items,
            offsets,
            data,
            customers: None,
            report: BasketReport {
                rows,
                repeated_items: repeated,
                ..BasketReport::default()
            },
        })
    }

    /// Assembled by a reader from parts already checked: per basket sorted distinct ids.
    pub(crate) fn from_parts(
        items: Interner,
        offsets: Vec<usize>,
        data: Vec<u32>,
        report: BasketReport,
    ) -> Baskets {
        Baskets {
            items,
            offsets,
            data,
            customers: None,
            report,
        }
    }

    /// Attaches the customer (an index into `ids`) of each basket.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `customer` is not one per basket; [`Error::BadValue`]
    /// for an index out of range.
    pub fn with_customers(mut self, ids: Interner, customer: Vec<u32>) -> Result<Baskets> {
        Error::check_len("customer", customer.len(), self.len(), "baskets")?;
        if let Some(row) = customer.iter().position(|&c| c as usize >= ids.len()) {
            return Err(Error::bad_value(
                "customer",
                row,
                "customer",
                customer[row],
                format!("a customer index below the {} ids", ids.len()),
            ));
        }
        self.customers = Some((ids, customer));
        Ok(self)
    }

    /// Number of baskets.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no baskets (never true for a constructed value).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The item names; an item id is an index into them.
    pub fn items(&self) -> &Interner {
        &self.items
    }

    /// The sorted distinct item ids of basket `b`.
    ///
    /// # Panics
    /// If `b >= self.len()`.
    pub fn basket(&self, b: usize) -> &[u32] {
        &self.data[self.offsets[b]..self.offsets[b + 1]]
    }

    /// Iterates over the baskets in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &[u32]> + '_ {
        self.offsets.windows(2).map(|w| &self.data[w[0]..w[1]])
    }

    /// Total number of (basket, item) pairs.
    pub fn item_mentions(&self) -> usize {
        self.data.len()
    }

    /// What was read, left out and merged.
    pub fn report(&self) -> &BasketReport {
        &self.report
    }

    /// The customer names and each basket's customer, when known.
    pub fn customers(&self) -> Option<(&Interner, &[u32])> {
        self.customers.as_ref().map(|(ids, c)| (ids, c.as_slice()))
    }

    /// The flat parts, for the miners in this module.
    pub(crate) fn parts(&self) -> (&[usize], &[u32]) {
        (&self.offsets, &self.data)
    }

    /// The distinct items each customer bought, over all their baskets.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] (`customer`) when the baskets carry no customers.
    pub fn customer_items(&self) -> Result<CustomerItems> {
        let (ids, customer) = self.customers().ok_or_else(|| Error::MissingColumn {
            column: "customer".into(),
            available: vec!["basket items".into()],
        })?;
        let mut lists = vec![Vec::new(); ids.len()];
        for (b, &c) in customer.iter().enumerate() {
            lists[c as usize].extend_from_slice(self.basket(b));
        }
        let (offsets, data, _) = compress_rows(lists);
        Ok(CustomerItems {
            customers: ids.clone(),
            items: self.items.clone(),
            offsets,
            data,
        })
    }
}

/// Id lists (one per basket or customer) as compressed rows: each list sorted and made
/// distinct, in parallel, then laid end to end. Returns the row offsets, the ids and how
/// many repeats were dropped.
fn compress_rows(mut lists: Vec<Vec<u32>>) -> (Vec<usize>, Vec<u32>, u64) {
    let repeated: u64 = lists
        .par_iter_mut()
        .map(|l| {
            l.sort_unstable();
            let before = l.len();
            l.dedup();
            (before - l.len()) as u64
        })
        .sum();
    let mut offsets = Vec::with_capacity(lists.len() + 1);
    offsets.push(0);
    let mut data = Vec::with_capacity(lists.iter().map(Vec::len).sum());
    for l in lists {
        data.extend_from_slice(&l);
        offsets.push(data.len());
    }
    (offsets, data, repeated)
}

/// The distinct items each customer bought (sorted ids), with customer and item names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerItems {
    customers: Interner,
    items: Interner,
    offsets: Vec<usize>,
    data: Vec<u32>,
}

impl CustomerItems {
    /// From per-customer item id lists (sorted and made distinct here), with names.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the lists and names differ in number;
    /// [`Error::BadValue`] (input `lists`, the customer's row) for an id outside `items`.
    pub fn new(customers: Interner, items: Interner, lists: Vec<Vec<u32>>) -> Result<Self> {
        Error::check_len("lists", lists.len(), customers.len(), "customers")?;
        if let Some((row, bad)) = first_out_of_range(&lists, items.len()) {
            return Err(Error::bad_value(
                "lists",
                row,
                "item",
                bad,
                format!("an item id below the {} item names", items.len()),
            ));
        }
        let (offsets, data, _) = compress_rows(lists);
        Ok(CustomerItems {
            customers,
            items,
            offsets,
            data,
        })
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Whether there are no customers.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Customer names.
    pub fn customers(&self) -> &Interner {
        &self.customers
    }

    /// Item names.
    pub fn items(&self) -> &Interner {
        &self.items
    }

    /// The sorted distinct items of customer `c`.
    ///
    /// # Panics
    /// If `c >= self.len()`.
    pub fn of(&self, c: usize) -> &[u32] {
        &self.data[self.offsets[c]..self.offsets[c + 1]]
    }
}
