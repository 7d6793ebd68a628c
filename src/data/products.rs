//! The product table.

use serde::{Deserialize, Serialize};

use super::ids::{CategoryIdx, Interner, ProductIdx};
use crate::error::{Problem, RowError};

/// One product as given by the caller.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    /// External id.
    pub product_id: String,
    /// Category name.
    #[serde(default)]
    pub category: Option<String>,
    /// Cost of one unit, if known.
    #[serde(default)]
    pub unit_cost: Option<f64>,
}

/// Products: ids interned to [`ProductIdx`], with category and optional unit cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Products {
    ids: Interner,
    category: Vec<Option<CategoryIdx>>,
    categories: Interner,
    unit_cost: Vec<Option<f64>>,
}

impl Products {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of products.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The interned product ids.
    pub fn ids(&self) -> &Interner {
        &self.ids
    }

    /// The interned category names.
    pub fn categories(&self) -> &Interner {
        &self.categories
    }

    /// External id of a product.
    pub fn id(&self, p: ProductIdx) -> &str {
        self.ids.name(p.get())
    }

    /// Index of `id`, adding a bare product when it is new.
    pub(crate) fn intern(&mut self, id: &str) -> ProductIdx {
        let p = ProductIdx(self.ids.intern(id));
        if self.category.len() < self.ids.len() {
            self.category.resize(self.ids.len(), None);
            self.unit_cost.resize(self.ids.len(), None);
        }
        p
    }

    /// Adds or updates a product.
    ///
    /// # Errors
    /// [`Error::Row`](crate::Error::Row) of [`Problem::NonFinite`] in field `unit_cost`
    /// (line 1: the record is the first and only one) when the unit cost is not finite.
    pub fn upsert(&mut self, r: &ProductRecord) -> crate::Result<ProductIdx> {
        if let Some(c) = r.unit_cost.filter(|c| !c.is_finite()) {
            return Err(crate::Error::Row(RowError {
                line: 1,
                field: "unit_cost".into(),
                value: c.to_string(),
                problem: Problem::NonFinite,
            }));
        }
        let p = self.intern(&r.product_id);
        self.category[p.get()] = r
            .category
            .as_deref()
            .map(|c| CategoryIdx(self.categories.intern(c)));
        self.unit_cost[p.get()] = r.unit_cost;
        Ok(p)
    }

    /// Gives product `p` the category `name`, unless it already has another one; then the
    /// error is the category it has.
    pub(crate) fn set_category(&mut self, p: ProductIdx, name: &str) -> Result<(), String> {
        match self.category[p.get()] {
            None => {
                self.category[p.get()] = Some(CategoryIdx(self.categories.intern(name)));
                Ok(())
            }
            Some(old) if self.categories.name(old.get()) == name => Ok(()),
            Some(old) => Err(self.categories.name(old.get()).to_string()),
        }
    }

    /// Category of a product, if known.
    pub fn category(&self, p: ProductIdx) -> Option<CategoryIdx> {
        self.category.get(p.get()).copied().flatten()
    }

    /// Whether some product has a unit cost.
    pub fn has_unit_costs(&self) -> bool {
        self.unit_cost.iter().any(Option::is_some)
    }

    /// Unit cost of a product, if known.
    pub fn unit_cost(&self, p: ProductIdx) -> Option<f64> {
        self.unit_cost.get(p.get()).copied().flatten()
    }
}
