//! Marketing touches: which customer was reached through which channel (and campaign)
//! when, at what cost, and which touches ended in a conversion.
//!
//! A touch log is a store of its own, keyed by the customers' external ids, and scoped
//! through a customer [`View`]: [`Touches::view`] keeps the touches of the customers the
//! view reaches (every touch, whether its customer is in the dataset or not, for a view
//! of everyone) and carries the view's scope. Records are validated when the store is
//! built, with the record's 1-based position as the line of a
//! [`RowError`](crate::RowError); the CSV reader in `io` gives file lines instead.

use serde::{Deserialize, Serialize};

use super::access::{Area, Column};
use super::ids::Interner;
use super::scope::{Scope, ScopeTag};
use super::view::View;
use crate::error::{Error, Problem, Result};
use crate::time::Timestamp;

/// One touch as given (one CSV row or one record of an iterator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TouchRecord {
    /// External customer id (as the customer base spells it).
    pub customer_id: String,
    /// When the touch happened: a date, or a date-time.
    pub time: Timestamp,
    /// The channel that made the touch (search, e-mail, display, ...).
    pub channel: String,
    /// The campaign the touch belongs to.
    #[serde(default)]
    pub campaign: Option<String>,
    /// What the touch cost (finite, ≥ 0).
    #[serde(default)]
    pub cost: Option<f64>,
    /// Whether the customer converted at this touch (a conversion marker: the touch's
    /// path ends here with a conversion). Ignored when conversions are read from the
    /// transaction log.
    #[serde(default)]
    pub conversion: bool,
    /// The value of that conversion (finite, ≥ 0; only on a converting touch).
    #[serde(default)]
    pub value: Option<f64>,
}

impl TouchRecord {
    /// A touch without campaign, cost or conversion.
    pub fn new(
        customer_id: impl Into<String>,
        time: impl Into<Timestamp>,
        channel: impl Into<String>,
    ) -> Self {
        TouchRecord {
            customer_id: customer_id.into(),
            time: time.into(),
            channel: channel.into(),
            campaign: None,
            cost: None,
            conversion: false,
            value: None,
        }
    }

    /// The same touch marked as a conversion of value `value`.
    pub fn converting(mut self, value: f64) -> Self {
        self.conversion = true;
        self.value = Some(value);
        self
    }
}

pub(super) const NONE: u32 = u32::MAX;

/// Validated touches, columnar, sorted by customer (in order of first appearance) and
/// time; touches of one customer at the same time keep the order they were given in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Touches {
    customers: Interner,
    channels: Interner,
    campaigns: Interner,
    /// `offsets[c]..offsets[c + 1]` are customer `c`'s touches.
    offsets: Vec<usize>,
    times: Vec<Timestamp>,
    channel: Vec<u32>,
    /// `NONE` when the touch has no campaign.
    campaign: Vec<u32>,
    /// NaN when the touch has no cost; `None` when no touch has one.
    cost: Option<Vec<f64>>,
    conversion: Vec<bool>,
    /// NaN when the touch carries no value.
    value: Vec<f64>,
}

fn check_money(line: u64, field: &str, v: Option<f64>) -> Result<()> {
    match v {
        Some(x) if !x.is_finite() => {
            Err(Error::row(line, field, &x.to_string(), Problem::NonFinite))
        }
        Some(x) if x < 0.0 => Err(Error::row(line, field, &x.to_string(), Problem::Negative)),
        _ => Ok(()),
    }
}

impl Touches {
    /// Validates and stores touches.
    ///
    /// # Errors
    /// [`Error::Row`] naming the record (1-based position) and field: an empty customer
    /// id or channel ([`Problem::EmptyValue`]), a cost or value not finite or negative
    /// ([`Problem::NonFinite`], [`Problem::Negative`]), a value on a touch not marked as
    /// a conversion ([`Problem::Conflict`], field `value`). [`Error::EmptyInput`] for no
    /// touches.
    pub fn new(records: impl IntoIterator<Item = TouchRecord>) -> Result<Touches> {
        struct Row {
            customer: u32,
            time: Timestamp,
            channel: u32,
            campaign: u32,
            cost: f64,
            conversion: bool,
            value: f64,
        }
        let mut t = Touches::default();
        let mut rows = Vec::new();
        let mut any_cost = false;
        for (i, r) in records.into_iter().enumerate() {
            let line = i as u64 + 1;
            let id = r.customer_id.trim();
            if id.is_empty() {
                return Err(Error::row(
                    line,
                    "customer_id",
                    &r.customer_id,
                    Problem::EmptyValue,
                ));
            }
            let channel = r.channel.trim();
            if channel.is_empty() {
                return Err(Error::row(line, "channel", &r.channel, Problem::EmptyValue));
            }
            check_money(line, "cost", r.cost)?;
            check_money(line, "value", r.value)?;
            if r.value.is_some() && !r.conversion {
                let v = r.value.unwrap_or_default().to_string();
                return Err(Error::row(line, "value", &v, Problem::Conflict));
            }
            any_cost |= r.cost.is_some();
            let campaign = match r.campaign.as_deref().map(str::trim) {
                Some(c) if !c.is_empty() => t.campaigns.intern(c),
                _ => NONE,
            };
            rows.push(Row {
                customer: t.customers.intern(id),
                time: r.time,
                channel: t.channels.intern(channel),
                campaign,
                cost: r.cost.unwrap_or(f64::NAN),
                conversion: r.conversion,
                value: r.value.unwrap_or(f64::NAN),
            });
        }
        if rows.is_empty() {
            return Err(Error::EmptyInput);
        }
        // Stable: touches of one customer at one time keep their input order.
        rows.sort_by_key(|r| (r.customer, r.time));
        let n = t.customers.len();
        t.offsets = vec![0; n + 1];
        for r in &rows {
            t.offsets[r.customer as usize + 1] += 1;
        }
        for c in 0..n {
            t.offsets[c + 1] += t.offsets[c];
        }
        t.times = rows.iter().map(|r| r.time).collect();
        t.channel = rows.iter().map(|r| r.channel).collect();
        t.campaign = rows.iter().map(|r| r.campaign).collect();
        t.cost = any_cost.then(|| rows.iter().map(|r| r.cost).collect());
        t.conversion = rows.iter().map(|r| r.conversion).collect();
        t.value = rows.iter().map(|r| r.value).collect();
        Ok(t)
    }

    /// Number of touches.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    /// Whether there are none (never true for a built store).
    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Number of customers with touches.
    pub fn customers(&self) -> usize {
        self.customers.len()
    }

    /// The touches of the customers `customers` reaches, under its scope: for a view of
    /// everyone (scope kind `all`) every touch, whether its customer is in the dataset
    /// or not; otherwise the touches of the view's customers (found by external id,
    /// [`View::row`]). The view's purchases are what
    /// [`Paths::from_touches`](super::Paths::from_touches) reads for conversions from
    /// the transaction log.
    pub fn view<'a>(&'a self, customers: &View<'a>) -> TouchView<'a> {
        let everyone = customers.scope().kind == "all";
        let members: Vec<Member> = self
            .customers
            .iter()
            .enumerate()
            .filter_map(|(c, id)| {
                let row = customers.row(id);
                (everyone || row.is_some()).then_some(Member {
                    customer: c as u32,
                    row,
                })
            })
            .collect();
        let mut tag = customers.scope().clone();
        tag.customers = members.len();
        TouchView {
            data: self,
            customers: Some(customers.clone()),
            members,
            tag,
        }
    }

    /// Every touch, under the scope of everyone, without a customer base: for a touch log
    /// whose conversions are marked on the touches themselves.
    pub fn everyone(&self) -> TouchView<'_> {
        let members = (0..self.customers.len())
            .map(|c| Member {
                customer: c as u32,
                row: None,
            })
            .collect::<Vec<_>>();
        TouchView {
            data: self,
            customers: None,
            tag: Scope::all().tag(members.len()),
            members,
        }
    }
}

/// A customer of a touch view: its index in the touch store and its position in the
/// customer view (`None` for a customer the dataset does not hold).
#[derive(Debug, Clone, Copy)]
struct Member {
    customer: u32,
    row: Option<usize>,
}

/// The touches of the customers a scope reaches, customer by customer (`m` is the
/// position of a customer in the view; its touches are in time order).
///
/// Hidden columns are absent: the channels under a scope that hides channels, and the
/// costs under one that hides costs, are an [`Error::HiddenColumn`], never blanks.
#[derive(Debug, Clone)]
pub struct TouchView<'a> {
    data: &'a Touches,
    customers: Option<View<'a>>,
    members: Vec<Member>,
    tag: ScopeTag,
}

impl<'a> TouchView<'a> {
    /// Number of customers with touches in the view.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the view holds no customer.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Number of touches in the view.
    pub fn touches(&self) -> usize {
        self.members.iter().map(|m| self.range(m).len()).sum()
    }

    /// The scope the view was built under (its `customers` counts the customers with
    /// touches in the view).
    pub fn scope(&self) -> &ScopeTag {
        &self.tag
    }

    /// An error unless the scope may run `area`.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`].
    pub fn require(&self, area: Area) -> Result<()> {
        self.tag.require(area)
    }

    /// The customer view the touches were scoped by (`None` for [`Touches::everyone`]).
    pub fn customer_view(&self) -> Option<&View<'a>> {
        self.customers.as_ref()
    }

    #[inline]
    fn range(&self, m: &Member) -> std::ops::Range<usize> {
        let c = m.customer as usize;
        self.data.offsets[c]..self.data.offsets[c + 1]
    }

    #[inline]
    fn at(&self, m: usize) -> std::ops::Range<usize> {
        self.range(&self.members[m])
    }

    /// External id of customer `m`.
    pub fn id(&self, m: usize) -> &'a str {
        self.data.customers.name(self.members[m].customer as usize)
    }

    /// Position of customer `m` in the customer view, when the dataset holds it.
    pub fn row(&self, m: usize) -> Option<usize> {
        self.members[m].row
    }

    /// The times of customer `m`'s touches, ascending.
    pub fn times(&self, m: usize) -> &'a [Timestamp] {
        &self.data.times[self.at(m)]
    }

    /// The channel names.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] when the scope hides channels.
    pub fn channel_names(&self) -> Result<&'a Interner> {
        self.tag.reveal(Column::Channel)?;
        Ok(&self.data.channels)
    }

    /// The channels (indices into [`channel_names`](Self::channel_names)) of customer
    /// `m`'s touches.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] when the scope hides channels.
    pub fn channels(&self, m: usize) -> Result<&'a [u32]> {
        self.tag.reveal(Column::Channel)?;
        Ok(&self.data.channel[self.at(m)])
    }

    /// The campaign of each of customer `m`'s touches (an index into
    /// [`campaign_names`](Self::campaign_names); `None` without one).
    pub fn campaigns(&self, m: usize) -> impl Iterator<Item = Option<u32>> + 'a {
        self.data.campaign[self.at(m)]
            .iter()
            .map(|&c| (c != NONE).then_some(c))
    }

    /// The campaign names, in order of first appearance.
    pub fn campaign_names(&self) -> &'a Interner {
        &self.data.campaigns
    }

    /// The costs of customer `m`'s touches (NaN for a touch without one; `None` when no
    /// touch of the store has a cost).
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] when the scope hides costs.
    pub fn costs(&self, m: usize) -> Result<Option<&'a [f64]>> {
        self.tag.reveal(Column::Cost)?;
        Ok(self.data.cost.as_ref().map(|c| &c[self.at(m)]))
    }

    /// Whether each of customer `m`'s touches is marked as a conversion.
    pub fn conversions(&self, m: usize) -> &'a [bool] {
        &self.data.conversion[self.at(m)]
    }

    /// The conversion values of customer `m`'s touches (NaN where none was given).
    pub fn values(&self, m: usize) -> &'a [f64] {
        &self.data.value[self.at(m)]
    }
}
