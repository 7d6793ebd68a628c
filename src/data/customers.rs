//! The customer table.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::ids::{ChannelIdx, CustomerIdx, Interner, RegionIdx};
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
    /// Owner (salesperson, account manager) for access scopes.
    #[serde(default)]
    pub owner: Option<String>,
    /// Team of the owner.
    #[serde(default)]
    pub team: Option<String>,
    /// Free attributes (name → value).
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// Customers: ids interned to [`CustomerIdx`], with optional columns that are empty
/// vectors until some customer has a value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Customers {
    pub(crate) ids: Arc<Interner>,
    acquired: Vec<Option<i32>>,
    region: Vec<Option<RegionIdx>>,
    channel: Vec<Option<ChannelIdx>>,
    owner: Vec<Option<u32>>,
    team: Vec<Option<u32>>,
    owners: Interner,
    teams: Interner,
    attributes: BTreeMap<String, Vec<Option<String>>>,
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

fn get<T: Copy>(col: &[Option<T>], i: usize) -> Option<T> {
    col.get(i).copied().flatten()
}

impl Customers {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A table of bare ids.
    pub fn from_ids<S: AsRef<str>>(ids: impl IntoIterator<Item = S>) -> Self {
        Customers {
            ids: Arc::new(ids.into_iter().collect()),
            ..Self::default()
        }
    }

    /// Number of customers.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The interned ids.
    pub fn ids(&self) -> &Interner {
        &self.ids
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
        let owner = r.owner.as_deref().map(|s| self.owners.intern(s));
        set(&mut self.owner, i, owner);
        let team = r.team.as_deref().map(|s| self.teams.intern(s));
        set(&mut self.team, i, team);
        for (k, v) in &r.attributes {
            set(
                self.attributes.entry(k.clone()).or_default(),
                i,
                Some(v.clone()),
            );
        }
        c
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

    /// Owner name, if known.
    pub fn owner(&self, c: CustomerIdx) -> Option<&str> {
        get(&self.owner, c.get()).map(|o| self.owners.name(o as usize))
    }

    /// Team name, if known.
    pub fn team(&self, c: CustomerIdx) -> Option<&str> {
        get(&self.team, c.get()).map(|t| self.teams.name(t as usize))
    }

    /// A free attribute, if set.
    pub fn attribute(&self, c: CustomerIdx, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .and_then(|col| col.get(c.get()))
            .and_then(|v| v.as_deref())
    }

    /// Names of the free attributes.
    pub fn attribute_names(&self) -> impl Iterator<Item = &str> {
        self.attributes.keys().map(String::as_str)
    }
}
