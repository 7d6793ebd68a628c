//! Segment affinity: which customer segments over-index on which categories (or
//! products), as a lift table with the counts behind every share.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, Normal};

use super::baskets::BasketLevel;
use crate::data::{
    is_purchase, Area, Catalogue, Interner, PerCustomer, ProductIdx, ScopeTag, View,
};
use crate::error::{Error, Result};

/// One segment × item cell. Buyers are customers with a purchase ([`is_purchase`]) of
/// the item; revenue is net of returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AffinityRow {
    /// Segment name.
    pub segment: String,
    /// Category (or product) name.
    pub item: String,
    /// Customers of the segment who bought the item.
    pub buyers: u64,
    /// Customers in the segment.
    pub segment_customers: u64,
    /// Segmented customers who bought the item, over all segments.
    pub item_buyers: u64,
    /// buyers / segment customers.
    pub share: f64,
    /// item buyers / all segmented customers.
    pub base_share: f64,
    /// share / base share: above 1 the segment over-indexes on the item.
    pub lift: f64,
    /// (share − base share) / √(base share (1 − base share) / segment customers): how many
    /// standard errors the segment's share is from the base share (binomial, normal
    /// approximation).
    pub z: f64,
    /// Two-sided p-value of `z`.
    pub p_value: f64,
    /// The segment's net revenue from the item.
    pub revenue: f64,
    /// revenue / the segment's net revenue from all items.
    pub revenue_share: f64,
    /// The item's net revenue / all segmented customers' net revenue.
    pub base_revenue_share: f64,
}

/// Segment × item lift table: rows by segment (first appearance), then lift descending,
/// then item name; only cells with at least one buyer in the segment or overall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AffinityTable {
    /// The scope the table was computed under.
    pub scope: ScopeTag,
    /// The cells.
    pub rows: Vec<AffinityRow>,
    /// Customers with a segment.
    pub customers: u64,
    /// Customers without one (not in any share).
    pub unsegmented: u64,
}

/// Settings of a segment affinity table: items are products or their categories
/// (default categories).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffinityOptions {
    level: BasketLevel,
}

impl Default for AffinityOptions {
    fn default() -> Self {
        AffinityOptions {
            level: BasketLevel::Category,
        }
    }
}

impl AffinityOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Products or categories.
    pub fn level(mut self, level: BasketLevel) -> Self {
        self.level = level;
        self
    }

    /// Checks the options (both levels are valid).
    ///
    /// # Errors
    /// None; present so that every options type validates the same way.
    pub fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// The lift of each segment on each item: segments are any grouping the caller has,
    /// one entry per customer of the view (`None` leaves the customer out; see
    /// [`Rows::lookup`](crate::data::Rows::lookup) to spread a table's labels over a
    /// view). Buyers are customers with a purchase ([`is_purchase`]) of the item; revenue
    /// is net of returns.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids product analysis;
    /// [`Error::LengthMismatch`] when `segments` does not have one entry per customer of
    /// the view; [`Error::MissingColumn`] or [`Error::HiddenColumn`] for products;
    /// [`Error::Degenerate`] for a product without a category at category level;
    /// [`Error::EmptyInput`] when no customer has a segment.
    pub fn compute<S: AsRef<str>>(
        &self,
        view: &View<'_>,
        segments: &[Option<S>],
    ) -> Result<AffinityTable> {
        view.require(Area::Product)?;
        Error::check_len(
            "segments",
            segments.len(),
            view.len(),
            "customers of the view",
        )?;
        let products = view.products()?;
        let table = view.catalogue()?;
        let (items, item_of): (&Interner, Vec<Option<u32>>) = match self.level {
            BasketLevel::Product => (table.ids(), (0..table.len() as u32).map(Some).collect()),
            BasketLevel::Category => (
                table.categories(),
                (0..table.len() as u32)
                    .map(|p| table.category(ProductIdx(p)).map(|c| c.0))
                    .collect(),
            ),
        };
        affinity(view, &products, &table, items, &item_of, segments)
    }
}

fn affinity<S: AsRef<str>>(
    view: &View<'_>,
    products: &PerCustomer<'_, ProductIdx>,
    table: &Catalogue<'_>,
    items: &Interner,
    item_of: &[Option<u32>],
    segments: &[Option<S>],
) -> Result<AffinityTable> {
    let mut names = Interner::new();
    let seg: Vec<Option<u32>> = segments
        .iter()
        .map(|s| s.as_ref().map(|s| names.intern(s.as_ref())))
        .collect();
    let (n_seg, n_items) = (names.len(), items.len());
    let mut size = vec![0u64; n_seg];
    let mut buyers = vec![0u64; n_seg * n_items];
    let mut revenue = vec![0.0; n_seg * n_items];
    let mut bought = vec![false; n_items];
    let mut touched = Vec::new();
    for (k, s) in seg.iter().enumerate() {
        let Some(s) = *s else { continue };
        let s = s as usize;
        size[s] += 1;
        let h = view.history(k);
        for (&p, &amount) in products.of(k).iter().zip(h.amounts) {
            let Some(item) = item_of[p.0 as usize] else {
                return Err(Error::Degenerate {
                    input: table.id(p).to_string(),
                    reason: "the product has no category".into(),
                });
            };
            let item = item as usize;
            revenue[s * n_items + item] += amount;
            if is_purchase(amount) && !bought[item] {
                bought[item] = true;
                touched.push(item);
            }
        }
        for &item in &touched {
            buyers[s * n_items + item] += 1;
            bought[item] = false;
        }
        touched.clear();
    }
    let customers_total: u64 = size.iter().sum();
    if customers_total == 0 {
        return Err(Error::EmptyInput);
    }
    let item_buyers: Vec<u64> = (0..n_items)
        .map(|i| (0..n_seg).map(|s| buyers[s * n_items + i]).sum())
        .collect();
    let item_revenue: Vec<f64> = (0..n_items)
        .map(|i| (0..n_seg).map(|s| revenue[s * n_items + i]).sum())
        .collect();
    let total_revenue: f64 = item_revenue.iter().sum();
    let normal = Normal::standard();
    let mut rows = Vec::new();
    for s in 0..n_seg {
        let seg_revenue: f64 = revenue[s * n_items..(s + 1) * n_items].iter().sum();
        let start = rows.len();
        for i in 0..n_items {
            let b = buyers[s * n_items + i];
            if b == 0 && item_buyers[i] == 0 {
                continue;
            }
            let share = b as f64 / size[s] as f64;
            let base = item_buyers[i] as f64 / customers_total as f64;
            let z = (share - base) / (base * (1.0 - base) / size[s] as f64).sqrt();
            let p_value = if z.is_finite() {
                2.0 * normal.sf(z.abs())
            } else {
                f64::NAN
            };
            rows.push(AffinityRow {
                segment: names.name(s).to_string(),
                item: items.name(i).to_string(),
                buyers: b,
                segment_customers: size[s],
                item_buyers: item_buyers[i],
                share,
                base_share: base,
                lift: share / base,
                z,
                p_value,
                revenue: revenue[s * n_items + i],
                revenue_share: revenue[s * n_items + i] / seg_revenue,
                base_revenue_share: item_revenue[i] / total_revenue,
            });
        }
        rows[start..].sort_by(|a, b| b.lift.total_cmp(&a.lift).then_with(|| a.item.cmp(&b.item)));
    }
    Ok(AffinityTable {
        scope: view.scope().clone(),
        rows,
        customers: customers_total,
        unsegmented: (segments.len() as u64) - customers_total,
    })
}
