//! A summary by external id: its serialised form and its equality. A summary shares the
//! dataset's interner of every customer id; what it writes out names its own customers
//! only (its rows and the customers it excludes), never the rest of the dataset.

use std::collections::{BTreeMap, BTreeSet};
use std::marker::PhantomData;
use std::sync::Arc;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Coverage, CustomerState, Summary};
use crate::data::{CustomerIdx, Rows};
use crate::time::TimeUnit;

#[derive(Serialize)]
#[serde(rename = "Summary")]
struct Written<'a> {
    as_of: i32,
    rows: &'a Rows,
    state: &'a [CustomerState],
    excluded: BTreeSet<&'a str>,
    pending: BTreeMap<&'a str, &'a CustomerState>,
    has_cost: bool,
    coverage: Coverage,
}

#[derive(Deserialize)]
#[serde(rename = "Summary", deny_unknown_fields)]
struct Read {
    as_of: i32,
    rows: Rows,
    state: Vec<CustomerState>,
    excluded: Vec<String>,
    pending: BTreeMap<String, CustomerState>,
    has_cost: bool,
    coverage: Coverage,
}

impl<U: TimeUnit> Summary<U> {
    /// The excluded customers by external id.
    fn excluded_ids(&self) -> BTreeSet<&str> {
        let ids = self.rows.ids_arc();
        self.excluded.iter().map(|c| ids.name(c.get())).collect()
    }

    /// The returns kept of excluded customers, by external id.
    fn pending_by_id(&self) -> BTreeMap<&str, &CustomerState> {
        let ids = self.rows.ids_arc();
        self.pending
            .iter()
            .map(|(c, s)| (ids.name(c.get()), s))
            .collect()
    }
}

impl<U: TimeUnit> Serialize for Summary<U> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Written {
            as_of: self.as_of,
            rows: &self.rows,
            state: &self.state,
            excluded: self.excluded_ids(),
            pending: self.pending_by_id(),
            has_cost: self.has_cost,
            coverage: self.coverage,
        }
        .serialize(serializer)
    }
}

impl<'de, U: TimeUnit> Deserialize<'de> for Summary<U> {
    /// A summary of its own customers (indices `0..len` for the rows, the excluded ones
    /// after them), checked for the counts [`Summary::update`] relies on.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let r = Read::deserialize(deserializer)?;
        let bad = |what: String| D::Error::custom(format!("inconsistent summary: {what}"));
        if r.state.len() != r.rows.len() {
            return Err(bad(format!(
                "{} customer states for {} rows",
                r.state.len(),
                r.rows.len()
            )));
        }
        let (scope, ids, customer) = r.rows.into_parts();
        let mut ids = Arc::unwrap_or_clone(ids);
        let mut excluded = BTreeSet::new();
        for id in &r.excluded {
            let c = ids.intern(id);
            if c as usize + 1 != ids.len() {
                return Err(bad(format!(
                    "customer `{id}` is excluded twice, or also a row"
                )));
            }
            excluded.insert(CustomerIdx(c));
        }
        let mut pending = BTreeMap::new();
        for (id, s) in r.pending {
            match ids.get(&id).map(CustomerIdx) {
                Some(c) if excluded.contains(&c) => pending.insert(c, s),
                _ => {
                    return Err(bad(format!(
                        "customer `{id}` has returns kept but is not excluded"
                    )))
                }
            };
        }
        if r.coverage.excluded_customers != excluded.len() as u64 {
            return Err(bad(format!(
                "{} excluded customers counted, {} listed",
                r.coverage.excluded_customers,
                excluded.len()
            )));
        }
        let kept: u64 = pending.values().map(CustomerState::rows).sum();
        if r.coverage.excluded_transactions != kept {
            return Err(bad(format!(
                "{} excluded transactions counted, {kept} kept",
                r.coverage.excluded_transactions
            )));
        }
        Ok(Summary {
            as_of: r.as_of,
            rows: Rows::list(scope, Arc::new(ids), customer),
            state: r.state,
            excluded,
            pending,
            has_cost: r.has_cost,
            coverage: r.coverage,
            unit: PhantomData,
        })
    }
}

impl<U: TimeUnit> PartialEq for Summary<U> {
    /// Equal when the figures and the customers (by external id) are, whatever their
    /// dataset indices: a summary read back equals the one written.
    fn eq(&self, other: &Self) -> bool {
        self.as_of == other.as_of
            && self.has_cost == other.has_cost
            && self.coverage == other.coverage
            && self.rows == other.rows
            && self.state == other.state
            && self.excluded_ids() == other.excluded_ids()
            && self.pending_by_id() == other.pending_by_id()
    }
}
