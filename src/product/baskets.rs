//! Baskets from a view's transactions: by order, or by customer and day; products or
//! their categories. (The [`Baskets`] type itself is a data-layer type.)

use serde::{Deserialize, Serialize};

use crate::data::{
    is_purchase, Area, BasketReport, Baskets, Column, ColumnState, Interner, ProductIdx, View,
};
use crate::error::{Error, Result};

/// What makes one basket out of transaction rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum BasketKey {
    /// The order id when the data has one, else customer and day (default). Order ids
    /// the scope hides are an error, not a quiet change to customer-day baskets.
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

/// How a transaction log becomes baskets: the key and the item level. Returns are not
/// purchases ([`is_purchase`]) and are left out, counted in [`BasketReport`];
/// products without a category are an error at category level unless skipping them is
/// asked for, and then they are counted too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BasketOptions {
    key: BasketKey,
    level: BasketLevel,
    skip_uncategorised: bool,
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

    /// Checks the options (every combination is valid).
    ///
    /// # Errors
    /// None; present so that every options type validates the same way.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Baskets of the view's customers, each basket with its customer. With
    /// [`BasketKey::Auto`], order ids key the baskets when the data has them, and
    /// customer and day only when it has none.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids product analysis;
    /// [`Error::MissingColumn`] or [`Error::HiddenColumn`] for products (or order ids with
    /// [`BasketKey::Order`]); [`Error::HiddenColumn`] for order ids the data has and the
    /// scope hides, with [`BasketKey::Auto`]; [`Error::Degenerate`] for a product without
    /// a category at category level (unless skipped) or an order id shared by two
    /// customers;
    /// [`Error::EmptyInput`] when the view holds no transactions.
    pub fn compute(&self, view: &View<'_>) -> Result<Baskets> {
        view.require(Area::Product)?;
        let products = view.products()?;
        let orders = match self.key {
            BasketKey::Order => Some(view.orders()?),
            BasketKey::CustomerDay => None,
            // Hidden order ids would make other baskets (and other supports) from the same
            // data: falling back is only for data that never had them.
            BasketKey::Auto => match view.column(Column::Order) {
                ColumnState::Absent => None,
                ColumnState::Present | ColumnState::Hidden => Some(view.orders()?),
            },
        };
        if view.transactions() == 0 {
            return Err(Error::EmptyInput);
        }
        let catalogue = view.catalogue()?;
        let (items, item_of): (Interner, Vec<Option<u32>>) = match self.level {
            BasketLevel::Product => (
                catalogue.ids().clone(),
                (0..catalogue.len()).map(|p| Some(p as u32)).collect(),
            ),
            BasketLevel::Category => (
                catalogue.categories().clone(),
                (0..catalogue.len())
                    .map(|p| catalogue.category(ProductIdx(p as u32)).map(|c| c.0))
                    .collect(),
            ),
        };
        let mut report = BasketReport {
            rows: view.transactions() as u64,
            ..BasketReport::default()
        };
        // The item of row `i` of customer `k`, or None when the row is left out (counted).
        let mut item = |k: usize, i: usize, amount: f64| -> Result<Option<u32>> {
            if !is_purchase(amount) {
                report.returns += 1;
                return Ok(None);
            }
            let p = products.of(k)[i];
            match item_of[p.get()] {
                Some(it) => Ok(Some(it)),
                None if self.skip_uncategorised => {
                    report.uncategorised += 1;
                    Ok(None)
                }
                None => Err(Error::Degenerate {
                    input: catalogue.id(p).to_string(),
                    reason: format!(
                        "the product (row {} of customer `{}`) has no category; give it one \
                         or skip uncategorised products",
                        i + 1,
                        view.id(k)
                    ),
                }),
            }
        };
        let (mut lists, mut of_basket): (Vec<Vec<u32>>, Vec<u32>) = (Vec::new(), Vec::new());
        match orders {
            Some(orders) => {
                let names = view.order_ids()?;
                // Orders of the view's customers only, in order-id order (first
                // appearance in the input), as if the log held no one else's.
                let mut slot = vec![u32::MAX; names.len()];
                let mut touched: Vec<u32> = Vec::new();
                for k in 0..view.len() {
                    let h = view.history(k);
                    for (i, o) in orders.of(k).iter().enumerate() {
                        let id = o.get();
                        let s = match slot[id] {
                            u32::MAX => {
                                slot[id] = lists.len() as u32;
                                touched.push(id as u32);
                                lists.push(Vec::new());
                                of_basket.push(k as u32);
                                lists.len() - 1
                            }
                            s => s as usize,
                        };
                        if of_basket[s] != k as u32 {
                            return Err(Error::Degenerate {
                                input: names.name(id).to_string(),
                                reason: format!(
                                    "the order id belongs to customers {} and {}",
                                    view.id(of_basket[s] as usize),
                                    view.id(k)
                                ),
                            });
                        }
                        if let Some(it) = item(k, i, h.amounts[i])? {
                            lists[s].push(it);
                        }
                    }
                }
                let mut order: Vec<usize> = (0..lists.len()).collect();
                order.sort_unstable_by_key(|&s| touched[s]);
                let mut taken: Vec<Option<Vec<u32>>> = lists.into_iter().map(Some).collect();
                lists = order
                    .iter()
                    .map(|&s| taken[s].take().unwrap_or_default())
                    .collect();
                of_basket = order.iter().map(|&s| of_basket[s]).collect();
            }
            None => {
                for k in 0..view.len() {
                    let h = view.history(k);
                    let mut i = 0;
                    while i < h.len() {
                        let mut j = i;
                        let mut list = Vec::new();
                        while j < h.len() && h.days[j] == h.days[i] {
                            if let Some(it) = item(k, j, h.amounts[j])? {
                                list.push(it);
                            }
                            j += 1;
                        }
                        lists.push(list);
                        of_basket.push(k as u32);
                        i = j;
                    }
                }
            }
        }
        // A basket whose rows were all left out (only returns, say) bought nothing.
        let before = lists.len();
        let (lists, of_basket): (Vec<Vec<u32>>, Vec<u32>) = lists
            .into_iter()
            .zip(of_basket)
            .filter(|(l, _)| !l.is_empty())
            .unzip();
        report.emptied_baskets = (before - lists.len()) as u64;
        let mut baskets = Baskets::from_id_lists(items, lists)?;
        report.repeated_items = baskets.report().repeated_items;
        baskets.set_report(report);
        baskets.with_customers(view.rows(), of_basket)
    }
}
