//! Baskets: the sets of items bought together, items interned to dense ids, stored as one
//! compressed sparse row array (never a basket × item matrix); and the distinct items of
//! each customer. A data-layer type: product analysis computes them from a view, io
//! reads them from files, synth makes them.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::ids::Interner;
use super::scope::ScopeTag;
use super::view::Rows;
use crate::error::{Error, Result};

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

/// The customer of each basket: a row of `rows`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BasketCustomers {
    /// The customers, and the scope they were read under.
    pub rows: Rows,
    /// For each basket, the row of its customer in `rows`.
    pub of_basket: Vec<u32>,
}

/// Baskets as sets of dense item ids, with the item names and, when they came from a
/// transaction log, the customer of each basket and the scope it was read under.
///
/// Items within a basket are sorted ascending and distinct. Baskets are one compressed
/// sparse row array, never a basket × item matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baskets {
    items: Interner,
    offsets: Vec<usize>,
    data: Vec<u32>,
    customers: Option<BasketCustomers>,
    report: BasketReport,
    scope: ScopeTag,
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
            scope: ScopeTag::default(),
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
            scope: ScopeTag::default(),
        }
    }

    /// Attaches the customer of each basket: `of_basket[b]` is a row of `rows`. The
    /// baskets take the rows' scope.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `of_basket` does not have one entry per basket;
    /// [`Error::BadValue`] naming the first entry that is not a row of `rows`.
    pub fn with_customers(mut self, rows: Rows, of_basket: Vec<u32>) -> Result<Baskets> {
        Error::check_len("of_basket", of_basket.len(), self.len(), "baskets")?;
        if let Some(b) = of_basket.iter().position(|&c| c as usize >= rows.len()) {
            return Err(Error::bad_value(
                "of_basket",
                b,
                "customer",
                of_basket[b],
                format!("a row below {}", rows.len()),
            ));
        }
        self.scope = rows.scope().clone();
        self.customers = Some(BasketCustomers { rows, of_basket });
        Ok(self)
    }

    /// The scope the baskets were read under (the default, `all`, for baskets from
    /// files or lists).
    pub fn scope(&self) -> &ScopeTag {
        &self.scope
    }

    pub(crate) fn set_report(&mut self, report: BasketReport) {
        self.report = report;
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

    /// Each basket's customer, when known.
    pub fn customers(&self) -> Option<&BasketCustomers> {
        self.customers.as_ref()
    }

    /// The flat parts, for the miners in this module.
    pub(crate) fn parts(&self) -> (&[usize], &[u32]) {
        (&self.offsets, &self.data)
    }

    /// The distinct items each customer bought, over all their baskets: one row per
    /// customer of the baskets' rows.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] (`customer`) when the baskets carry no customers.
    pub fn customer_items(&self) -> Result<CustomerItems> {
        let c = self.customers().ok_or_else(|| Error::MissingColumn {
            column: "customer".into(),
            available: vec!["basket items".into()],
        })?;
        let mut lists = vec![Vec::new(); c.rows.len()];
        for (b, &r) in c.of_basket.iter().enumerate() {
            lists[r as usize].extend_from_slice(self.basket(b));
        }
        let (offsets, data, _) = compress_rows(lists);
        Ok(CustomerItems {
            rows: c.rows.clone(),
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

/// The distinct items each customer bought (sorted ids), with the customers (and their
/// scope) and the item names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerItems {
    rows: Rows,
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
    pub fn new(rows: Rows, items: Interner, lists: Vec<Vec<u32>>) -> Result<Self> {
        Error::check_len("lists", lists.len(), rows.len(), "rows")?;
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
            rows,
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

    /// The customers, and the scope they were read under.
    pub fn rows(&self) -> &Rows {
        &self.rows
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

/// The first list (its position) holding an item id not below `n_items`, and that id.
fn first_out_of_range(lists: &[Vec<u32>], n_items: usize) -> Option<(usize, u32)> {
    lists.iter().enumerate().find_map(|(row, list)| {
        list.iter()
            .find(|&&i| i as usize >= n_items)
            .map(|&i| (row, i))
    })
}
