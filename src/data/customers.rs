//! The customer table.

use std::collections::BTreeMap;
use std::sync::Arc;

use rayon::prelude::*;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ids::{ChannelIdx, CustomerIdx, Interner, RegionIdx};
use crate::error::{Error, Problem, Result, RowError};
use crate::time::{date_of, day_number};

/// One customer as given by the caller: the external id and what is known about them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerRecord {
    /// External id.
    pub customer_id: String,
    /// Date the customer was acquired (signed up, first contract), if known.
    #[serde(default)]
    pub acquired: Option<NaiveDate>,
    /// Region name.
    #[serde(default)]
    pub region: Option<String>,
    /// Acquisition channel name.
    #[serde(default)]
    pub channel: Option<String>,
    /// Free attributes (name → value).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Who owns a customer (a salesperson, an account manager), from when: the customer
/// data behind access scopes. A customer's owner on a date is the one of their latest
/// record on or before it; a record without a date holds from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipRecord {
    /// External customer id.
    pub customer_id: String,
    /// The owner (a user id of the organisation).
    pub owner: String,
    /// From when the owner holds the customer (`None`: from the start).
    #[serde(default)]
    pub from: Option<NaiveDate>,
}

impl OwnershipRecord {
    /// `owner` holds `customer_id` from the start.
    pub fn new(customer_id: impl Into<String>, owner: impl Into<String>) -> Self {
        OwnershipRecord {
            customer_id: customer_id.into(),
            owner: owner.into(),
            from: None,
        }
    }

    /// The same assignment, from `date` on (a handover).
    pub fn since(mut self, date: NaiveDate) -> Self {
        self.from = Some(date);
        self
    }
}

/// What [`Dataset::assign_owners`](super::Dataset::assign_owners) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnershipReport {
    /// Records read.
    pub records: usize,
    /// Customers with at least one owner.
    pub owned: usize,
    /// Of those, customers with more than one assignment (handed over at some date).
    pub handed_over: usize,
    /// Customers named by the records but not in the data before: added without
    /// transactions.
    pub added: usize,
    /// Customers of the data without any owner: only a scope over all customers sees them.
    pub unowned: usize,
}

/// Customers: ids interned to [`CustomerIdx`], with optional columns that are empty
/// vectors until some customer has a value, and the ownership history.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct Customers {
    pub(crate) ids: Arc<Interner>,
    acquired: Vec<Option<i32>>,
    region: Vec<Option<RegionIdx>>,
    channel: Vec<Option<ChannelIdx>>,
    attributes: BTreeMap<String, Vec<Option<String>>>,
    owners: Interner,
    /// Customer `c`'s assignments are `assignments[owned[c]..owned[c + 1]]`, by date;
    /// customers past the end of `owned` have none.
    owned: Vec<u32>,
    /// (first day, owner) of each assignment (`i32::MIN` for "from the start").
    assignments: Vec<(i32, u32)>,
    /// Each customer's latest owner (`u32::MAX`: none): what a scope without a date reads,
    /// one load per customer.
    latest: Vec<u32>,
}

/// Sets `col[i] = v`, growing a lazily created optional column.
fn set<T: Clone>(col: &mut Vec<Option<T>>, i: usize, v: Option<T>) {
    if v.is_none() && col.len() <= i {
        return;
    }
    if col.len() <= i {
        col.resize(i + 1, None);
    }
    col[i] = v;
}

/// Each customer's latest owner from the ownership index (`u32::MAX`: none).
fn latest_owners(owned: &[u32], assignments: &[(i32, u32)]) -> Vec<u32> {
    owned
        .windows(2)
        .map(|w| {
            if w[1] > w[0] {
                assignments[w[1] as usize - 1].1
            } else {
                u32::MAX
            }
        })
        .collect()
}

fn get<T: Copy>(col: &[Option<T>], i: usize) -> Option<T> {
    col.get(i).copied().flatten()
}

impl Customers {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// External id of a customer.
    pub fn id(&self, c: CustomerIdx) -> &str {
        self.ids.name(c.get())
    }

    /// Index of an external id.
    pub fn index(&self, id: &str) -> Option<CustomerIdx> {
        self.ids.get(id).map(CustomerIdx)
    }

    /// Index of `id`, adding a bare customer when it is new.
    pub(crate) fn intern(&mut self, id: &str) -> CustomerIdx {
        // While a loader shares the ids to check rows against them, a known id must not
        // make `make_mut` copy the table.
        if let Some(ids) = Arc::get_mut(&mut self.ids) {
            return CustomerIdx(ids.intern(id));
        }
        match self.ids.get(id) {
            Some(i) => CustomerIdx(i),
            None => CustomerIdx(Arc::make_mut(&mut self.ids).intern(id)),
        }
    }

    /// Adds or updates a customer from a record; `regions` and `channels` are the dataset's
    /// interners, shared with the transaction log.
    pub(crate) fn upsert(
        &mut self,
        r: &CustomerRecord,
        regions: &mut Interner,
        channels: &mut Interner,
    ) -> CustomerIdx {
        let c = self.intern(&r.customer_id);
        let i = c.get();
        set(&mut self.acquired, i, r.acquired.map(day_number));
        set(
            &mut self.region,
            i,
            r.region.as_deref().map(|s| RegionIdx(regions.intern(s))),
        );
        set(
            &mut self.channel,
            i,
            r.channel.as_deref().map(|s| ChannelIdx(channels.intern(s))),
        );
        for (k, v) in &r.attributes {
            set(
                self.attributes.entry(k.clone()).or_default(),
                i,
                Some(v.clone()),
            );
        }
        c
    }

    /// The order that lays customers out grouped by their latest owner, owners in the
    /// order the ownership records first name them, unowned customers last, the input
    /// order kept within a group; `None` when the customers already lie so.
    pub(crate) fn layout_by_owner(&self) -> Option<Vec<u32>> {
        let n = self.len();
        let key = |c: usize| (self.owner_at(c, None).unwrap_or(u32::MAX), c as u32);
        if (1..n).all(|c| key(c - 1) <= key(c)) {
            return None;
        }
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.par_sort_unstable_by_key(|&c| key(c as usize));
        Some(order)
    }

    /// The table with its customers in `order` (a permutation of the indices).
    pub(crate) fn permuted(&self, order: &[u32]) -> Customers {
        fn column<T: Clone>(col: &[Option<T>], order: &[u32]) -> Vec<Option<T>> {
            if col.is_empty() {
                return Vec::new();
            }
            order
                .iter()
                .map(|&c| col.get(c as usize).cloned().flatten())
                .collect()
        }
        let mut owned = Vec::with_capacity(order.len() + 1);
        let mut assignments = Vec::with_capacity(self.assignments.len());
        owned.push(0);
        for &c in order {
            let c = c as usize;
            if c + 1 < self.owned.len() {
                let mine = self.owned[c] as usize..self.owned[c + 1] as usize;
                assignments.extend_from_slice(&self.assignments[mine]);
            }
            owned.push(assignments.len() as u32);
        }
        let latest = latest_owners(&owned, &assignments);
        Customers {
            latest,
            ids: Arc::new(order.iter().map(|&c| self.ids.name(c as usize)).collect()),
            acquired: column(&self.acquired, order),
            region: column(&self.region, order),
            channel: column(&self.channel, order),
            attributes: self
                .attributes
                .iter()
                .map(|(k, v)| (k.clone(), column(v, order)))
                .collect(),
            owners: self.owners.clone(),
            owned,
            assignments,
        }
    }

    /// Acquisition date, if known.
    pub fn acquired(&self, c: CustomerIdx) -> Option<NaiveDate> {
        get(&self.acquired, c.get()).map(date_of)
    }

    /// Region index, if known (names in [`Dataset::regions`](crate::data::Dataset::regions)).
    pub fn region(&self, c: CustomerIdx) -> Option<RegionIdx> {
        get(&self.region, c.get())
    }

    /// Acquisition channel index, if known.
    pub fn channel(&self, c: CustomerIdx) -> Option<ChannelIdx> {
        get(&self.channel, c.get())
    }

    /// The interned owner ids.
    pub fn owner_names(&self) -> &Interner {
        &self.owners
    }

    /// The owner of customer `c` on `day` (with no day, the latest assignment).
    #[inline]
    pub fn owner_at(&self, c: usize, day: Option<i32>) -> Option<u32> {
        if day.is_none() {
            return self.latest.get(c).copied().filter(|&o| o != u32::MAX);
        }
        if c + 1 >= self.owned.len() {
            return None;
        }
        let mine = &self.assignments[self.owned[c] as usize..self.owned[c + 1] as usize];
        match day {
            None => mine.last().map(|a| a.1),
            Some(d) => match mine.partition_point(|a| a.0 <= d) {
                0 => None,
                k => Some(mine[k - 1].1),
            },
        }
    }

    /// Replaces the ownership history with `records`, adding customers they name that are
    /// not in the table yet (returned count).
    ///
    /// # Errors
    /// [`Error::Row`] naming the record (1-based position) and field: an empty customer id
    /// or owner, or two owners for one customer from the same date ([`Problem::Conflict`]);
    /// the table is then unchanged.
    pub fn assign(
        &mut self,
        records: impl IntoIterator<Item = OwnershipRecord>,
    ) -> Result<OwnershipReport> {
        let before = self.len();
        // New customers are interned here and joined to the table only once every record
        // is checked: a failed assignment must leave the table as long as the log's
        // offsets, or a later view would read past them.
        let mut added = Interner::new();
        let mut owners = Interner::new();
        // (customer, first day, line, owner)
        let mut rows: Vec<(u32, i32, usize, u32)> = Vec::new();
        for (i, r) in records.into_iter().enumerate() {
            let line = i + 1;
            for (field, v) in [("customer_id", &r.customer_id), ("owner", &r.owner)] {
                if v.trim().is_empty() {
                    return Err(Error::Row(RowError {
                        line: line as u64,
                        field: field.into(),
                        value: v.clone(),
                        problem: Problem::EmptyValue,
                    }));
                }
            }
            let id = r.customer_id.trim();
            let c = match self.ids.get(id) {
                Some(c) => c,
                None => before as u32 + added.intern(id),
            };
            let o = owners.intern(r.owner.trim());
            rows.push((c, r.from.map_or(i32::MIN, day_number), line, o));
        }
        rows.sort_unstable();
        let mut report = OwnershipReport {
            records: rows.len(),
            added: added.len(),
            ..OwnershipReport::default()
        };
        let n = before + added.len();
        let mut owned = vec![0u32; n + 1];
        let mut assignments: Vec<(i32, u32)> = Vec::with_capacity(rows.len());
        let mut k = 0;
        for c in 0..n {
            let start = assignments.len();
            while k < rows.len() && rows[k].0 as usize == c {
                let (_, day, line, o) = rows[k];
                match assignments.last() {
                    Some(&(d, prev)) if assignments.len() > start && d == day => {
                        if prev != o {
                            return Err(Error::Row(RowError {
                                line: line as u64,
                                field: "owner".into(),
                                value: owners.name(o as usize).to_string(),
                                problem: Problem::Conflict,
                            }));
                        }
                    }
                    _ => assignments.push((day, o)),
                }
                k += 1;
            }
            let mine = assignments.len() - start;
            report.owned += usize::from(mine > 0);
            report.handed_over += usize::from(mine > 1);
            owned[c + 1] = assignments.len() as u32;
        }
        report.unowned = n - report.owned;
        for id in added.iter() {
            self.intern(id);
        }
        self.owners = owners;
        self.owned = owned;
        self.assignments = assignments;
        self.latest = latest_owners(&self.owned, &self.assignments);
        Ok(report)
    }

    /// A free attribute, if set.
    pub fn attribute(&self, c: CustomerIdx, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .and_then(|col| col.get(c.get()))
            .and_then(|v| v.as_deref())
    }
}
