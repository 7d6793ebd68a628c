//! Contacts of a campaign test: which customer a campaign contacted, in which arm
//! (treatment, control or any named arm), on which day and at what cost, with the
//! outcomes and value the data gives for it.
//!
//! Unlike the funnel's [`Contacts`](super::Contacts) (prospects, scoped by their owner),
//! these contacts are customers: a scope reaches a contact when it reaches its customer
//! in the dataset ([`CampaignContacts::view`]), and outcomes the data does not give can
//! be read from the customer's purchases after the contact
//! ([`CampaignContactView::response`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::access::{Area, Column};
use super::ids::Interner;
use super::scope::ScopeTag;
use super::transactions::is_purchase;
use super::view::View;
use crate::error::{Error, Problem, Result};
use crate::time::day_number;

const NONE: u32 = u32::MAX;

/// One contact of a campaign as given (one CSV row or one record of an iterator).
///
/// The optional fields are all-or-none across the records of one store: the first record
/// decides whether the contacts have dates, costs and values and which outcomes they
/// give, and every later record must give the same (a blank in one row would otherwise
/// count as a non-response, or drop out of a sum, unseen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignContactRecord {
    /// The campaign (its id, as [`Campaigns`](super::Campaigns) names it).
    pub campaign: String,
    /// The contacted customer's external id. A contact without one (an anonymous
    /// prospect, a table without ids) is seen only by a scope of everyone and cannot take
    /// outcomes from the transaction log.
    pub customer: Option<String>,
    /// The arm of the test: `control`, `treatment`, or any name (`offer_a`, `email`, ...).
    pub arm: String,
    /// The day of the contact (needed for outcomes read from the transaction log).
    pub date: Option<NaiveDate>,
    /// What the contact cost (finite, ≥ 0).
    pub cost: Option<f64>,
    /// Given 0/1 outcomes by name (`click`, `purchase`, ...).
    pub outcomes: BTreeMap<String, bool>,
    /// A given value of the contact (revenue; finite, may be negative for a net return).
    pub value: Option<f64>,
    /// Further named attributes (segment, region, ...).
    pub attributes: BTreeMap<String, String>,
}

impl CampaignContactRecord {
    /// A contact of `customer` by `campaign` in `arm`, without date, cost, outcomes,
    /// value or attributes (set them with the methods below).
    pub fn new(campaign: &str, customer: Option<&str>, arm: &str) -> Self {
        CampaignContactRecord {
            campaign: campaign.to_string(),
            customer: customer.map(str::to_string),
            arm: arm.to_string(),
            date: None,
            cost: None,
            outcomes: BTreeMap::new(),
            value: None,
            attributes: BTreeMap::new(),
        }
    }

    /// With the day of the contact.
    pub fn date(mut self, date: NaiveDate) -> Self {
        self.date = Some(date);
        self
    }

    /// With its cost.
    pub fn cost(mut self, cost: f64) -> Self {
        self.cost = Some(cost);
        self
    }

    /// With a given outcome.
    pub fn outcome(mut self, name: &str, responded: bool) -> Self {
        self.outcomes.insert(name.to_string(), responded);
        self
    }

    /// With a given value.
    pub fn value(mut self, value: f64) -> Self {
        self.value = Some(value);
        self
    }

    /// With an attribute.
    pub fn attribute(mut self, name: &str, value: &str) -> Self {
        self.attributes.insert(name.to_string(), value.to_string());
        self
    }
}

/// Validated campaign contacts, held by column: names interned, one entry per contact.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CampaignContacts {
    campaigns: Interner,
    customers: Interner,
    arms: Interner,
    campaign: Vec<u32>,
    /// `NONE` for a contact without a customer.
    customer: Vec<u32>,
    arm: Vec<u32>,
    days: Option<Vec<i32>>,
    costs: Option<Vec<f64>>,
    values: Option<Vec<f64>>,
    outcome_names: Vec<String>,
    /// One column per outcome name.
    outcomes: Vec<Vec<bool>>,
    attributes: BTreeMap<String, Vec<Option<String>>>,
}

/// Which optional fields the first record had.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Shape {
    date: bool,
    cost: bool,
    value: bool,
}

impl CampaignContacts {
    /// Validates and stores contacts.
    ///
    /// # Errors
    /// [`Error::Row`] naming the record (1-based position), field and value: an empty
    /// campaign or arm ([`Problem::EmptyValue`]); a customer contacted twice by one
    /// campaign ([`Problem::DuplicateId`], field `customer`); a cost not finite or
    /// negative ([`Problem::NonFinite`], [`Problem::Negative`]); a value not finite; an
    /// empty outcome name ([`Problem::EmptyValue`], field `outcome`); a date, cost, value
    /// or outcome the first record gave and this one lacks ([`Problem::EmptyValue`]) or
    /// the other way round ([`Problem::Inconsistent`]). [`Error::EmptyInput`] for no
    /// records.
    pub fn new(
        records: impl IntoIterator<Item = CampaignContactRecord>,
    ) -> Result<CampaignContacts> {
        let mut c = CampaignContacts::default();
        let mut shape: Option<Shape> = None;
        let mut seen: hashbrown::HashSet<(u32, u32)> = hashbrown::HashSet::new();
        let mut attributes: Vec<BTreeMap<String, String>> = Vec::new();
        for (i, r) in records.into_iter().enumerate() {
            let line = i as u64 + 1;
            let campaign = r.campaign.trim();
            if campaign.is_empty() {
                return Err(Error::row(
                    line,
                    "campaign",
                    &r.campaign,
                    Problem::EmptyValue,
                ));
            }
            let arm = r.arm.trim();
            if arm.is_empty() {
                return Err(Error::row(line, "arm", &r.arm, Problem::EmptyValue));
            }
            if let Some(v) = r.cost {
                if !v.is_finite() {
                    return Err(Error::row(line, "cost", &v.to_string(), Problem::NonFinite));
                }
                if v < 0.0 {
                    return Err(Error::row(line, "cost", &v.to_string(), Problem::Negative));
                }
            }
            if let Some(v) = r.value {
                if !v.is_finite() {
                    return Err(Error::row(
                        line,
                        "value",
                        &v.to_string(),
                        Problem::NonFinite,
                    ));
                }
            }
            if r.outcomes.keys().any(|k| k.trim().is_empty()) {
                return Err(Error::row(line, "outcome", "", Problem::EmptyValue));
            }
            let has = Shape {
                date: r.date.is_some(),
                cost: r.cost.is_some(),
                value: r.value.is_some(),
            };
            let want = *shape.get_or_insert_with(|| {
                c.outcome_names = r.outcomes.keys().map(|k| k.trim().to_string()).collect();
                c.outcomes = vec![Vec::new(); c.outcome_names.len()];
                c.days = has.date.then(Vec::new);
                c.costs = has.cost.then(Vec::new);
                c.values = has.value.then(Vec::new);
                has
            });
            for (field, got, expected) in [
                ("date", has.date, want.date),
                ("cost", has.cost, want.cost),
                ("value", has.value, want.value),
            ] {
                if got != expected {
                    let problem = if expected {
                        Problem::EmptyValue
                    } else {
                        Problem::Inconsistent
                    };
                    return Err(Error::row(line, field, "", problem));
                }
            }
            let given: BTreeMap<&str, bool> =
                r.outcomes.iter().map(|(k, &v)| (k.trim(), v)).collect();
            if let Some(name) = c
                .outcome_names
                .iter()
                .find(|n| !given.contains_key(n.as_str()))
            {
                return Err(Error::row(line, name, "", Problem::EmptyValue));
            }
            if given.len() != c.outcome_names.len() {
                let extra = given
                    .keys()
                    .find(|k| !c.outcome_names.iter().any(|n| n == *k))
                    .copied()
                    .unwrap_or("outcome");
                return Err(Error::row(line, extra, "", Problem::Inconsistent));
            }
            let campaign = c.campaigns.intern(campaign);
            let customer = match r.customer.as_deref().map(str::trim) {
                Some(id) if !id.is_empty() => {
                    let k = c.customers.intern(id);
                    if !seen.insert((campaign, k)) {
                        return Err(Error::row(line, "customer", id, Problem::DuplicateId));
                    }
                    k
                }
                _ => NONE,
            };
            c.campaign.push(campaign);
            c.customer.push(customer);
            c.arm.push(c.arms.intern(arm));
            if let (Some(col), Some(d)) = (&mut c.days, r.date) {
                col.push(day_number(d));
            }
            if let (Some(col), Some(v)) = (&mut c.costs, r.cost) {
                col.push(v);
            }
            if let (Some(col), Some(v)) = (&mut c.values, r.value) {
                col.push(v);
            }
            for (col, name) in c.outcomes.iter_mut().zip(&c.outcome_names) {
                col.push(given[name.as_str()]);
            }
            attributes.push(r.attributes);
        }
        if c.campaign.is_empty() {
            return Err(Error::EmptyInput);
        }
        let n = c.campaign.len();
        for (i, attrs) in attributes.into_iter().enumerate() {
            for (name, value) in attrs {
                c.attributes.entry(name).or_insert_with(|| vec![None; n])[i] = Some(value);
            }
        }
        Ok(c)
    }

    /// Number of contacts.
    pub fn len(&self) -> usize {
        self.campaign.len()
    }

    /// Whether there are none (never true for a built store).
    pub fn is_empty(&self) -> bool {
        self.campaign.is_empty()
    }

    /// The contacts of the customers `customers` reaches, read alongside their
    /// histories: under a scope of everyone every contact (those of customers the dataset
    /// does not hold, or without a customer, included), under any other scope those whose
    /// customer the view holds. The view's tag is the customers view's, its `customers`
    /// counting contacts.
    pub fn view<'a>(&'a self, customers: &View<'a>) -> CampaignContactView<'a> {
        // Each distinct customer looked up once.
        let position: Vec<u32> = (0..self.customers.len())
            .into_par_iter()
            .with_min_len(1 << 10)
            .map(|c| {
                customers
                    .row(self.customers.name(c))
                    .map_or(NONE, |k| k as u32)
            })
            .collect();
        let all = customers.scope().kind == "all";
        let rows: Option<Vec<u32>> = (!all).then(|| {
            (0..self.len() as u32)
                .filter(|&i| {
                    let c = self.customer[i as usize];
                    c != NONE && position[c as usize] != NONE
                })
                .collect()
        });
        let len = rows.as_ref().map_or(self.len(), Vec::len);
        let mut tag = customers.scope().clone();
        tag.customers = len;
        CampaignContactView {
            data: self,
            customers: customers.clone(),
            position,
            rows,
            tag,
        }
    }
}

/// A contact's response read from its customer's purchases after the contact.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WindowResponse {
    /// Whether the customer bought in the window.
    pub responded: bool,
    /// Revenue of those purchases.
    pub value: f64,
    /// Whether the customer is in the dataset the view reads (a contact of an unknown
    /// customer has bought nothing there: not responded, value 0).
    pub matched: bool,
}

/// The campaign contacts a scope reaches, read row by row (`k` is the position in the
/// view), with their customers' histories.
#[derive(Debug, Clone)]
pub struct CampaignContactView<'a> {
    data: &'a CampaignContacts,
    customers: View<'a>,
    /// Per customer of the store, its position in `customers` (`NONE` when not there).
    position: Vec<u32>,
    rows: Option<Vec<u32>>,
    tag: ScopeTag,
}

impl<'a> CampaignContactView<'a> {
    /// Number of contacts in the view.
    pub fn len(&self) -> usize {
        self.rows.as_ref().map_or(self.data.len(), Vec::len)
    }

    /// Whether the view holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scope the view was built under (its `customers` counts contacts).
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

    /// An error if the scope hides `column`.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`].
    pub fn need(&self, column: Column) -> Result<()> {
        self.tag.reveal(column)
    }

    #[inline]
    fn index(&self, k: usize) -> usize {
        self.rows.as_ref().map_or(k, |r| r[k] as usize)
    }

    /// The contact's campaign, an index into [`campaigns`](Self::campaigns).
    #[inline]
    pub fn campaign(&self, k: usize) -> u32 {
        self.data.campaign[self.index(k)]
    }

    /// The campaign names, in order of first appearance in the store.
    pub fn campaigns(&self) -> &'a Interner {
        &self.data.campaigns
    }

    /// Its arm, an index into [`arms`](Self::arms).
    #[inline]
    pub fn arm(&self, k: usize) -> u32 {
        self.data.arm[self.index(k)]
    }

    /// The arm names, in order of first appearance in the store.
    pub fn arms(&self) -> &'a Interner {
        &self.data.arms
    }

    /// Its customer's external id, if it has one.
    pub fn customer(&self, k: usize) -> Option<&'a str> {
        let c = self.data.customer[self.index(k)];
        (c != NONE).then(|| self.data.customers.name(c as usize))
    }

    /// Its customer's position in the customers view, when the view holds the customer.
    #[inline]
    pub fn customer_row(&self, k: usize) -> Option<usize> {
        let c = self.data.customer[self.index(k)];
        if c == NONE {
            return None;
        }
        let p = self.position[c as usize];
        (p != NONE).then_some(p as usize)
    }

    /// The customers view the contacts are read under.
    pub fn customers(&self) -> &View<'a> {
        &self.customers
    }

    /// Whether the contacts have dates.
    pub fn has_dates(&self) -> bool {
        self.data.days.is_some()
    }

    /// Day number of the contact, when the contacts have dates.
    #[inline]
    pub fn day(&self, k: usize) -> Option<i32> {
        self.data.days.as_ref().map(|d| d[self.index(k)])
    }

    /// Whether the contacts have costs.
    pub fn has_costs(&self) -> bool {
        self.data.costs.is_some()
    }

    /// Its cost, when the contacts have costs.
    #[inline]
    pub fn cost(&self, k: usize) -> Option<f64> {
        self.data.costs.as_ref().map(|c| c[self.index(k)])
    }

    /// Whether the contacts have a given value.
    pub fn has_values(&self) -> bool {
        self.data.values.is_some()
    }

    /// Its given value, when the contacts have values.
    #[inline]
    pub fn value(&self, k: usize) -> Option<f64> {
        self.data.values.as_ref().map(|v| v[self.index(k)])
    }

    /// The names of the given outcomes, in name order.
    pub fn outcome_names(&self) -> &'a [String] {
        &self.data.outcome_names
    }

    /// The index of a given outcome by name.
    pub fn outcome_index(&self, name: &str) -> Option<usize> {
        self.data.outcome_names.iter().position(|n| n == name)
    }

    /// Given outcome `j` (an index into [`outcome_names`](Self::outcome_names)) of the
    /// contact.
    ///
    /// # Panics
    /// If `j` is not an outcome index (a programmer error).
    #[inline]
    pub fn outcome(&self, k: usize, j: usize) -> bool {
        self.data.outcomes[j][self.index(k)]
    }

    /// The value of a named attribute, if the contact has it.
    pub fn attribute(&self, k: usize, name: &str) -> Option<&'a str> {
        self.data.attributes.get(name)?[self.index(k)].as_deref()
    }

    /// The attribute names, sorted.
    pub fn attribute_names(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.data.attributes.keys().map(String::as_str)
    }

    /// The contact's response in the `days` days from its day on (the contact's day and
    /// the `days − 1` after it: a purchase the same day counts, as an e-mail acted on at
    /// once does): whether its customer bought then ([`is_purchase`]: an amount ≥ 0) and
    /// the revenue of those purchases. Returns in the window are not netted out: they
    /// may belong to purchases before the contact.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] (`date`) when the contacts have no dates;
    /// [`Error::BadValue`] naming the contact when it has no customer;
    /// [`Error::InvalidOption`] for a window of 0 days.
    pub fn response(&self, k: usize, days: u32) -> Result<WindowResponse> {
        if days == 0 {
            return Err(Error::option("window", days, "at least 1 day"));
        }
        let Some(day) = self.day(k) else {
            return Err(Error::MissingColumn {
                column: "date".into(),
                available: self.available_columns(),
            });
        };
        if self.data.customer[self.index(k)] == NONE {
            return Err(Error::bad_value(
                "campaign contacts",
                k,
                "customer",
                "",
                "a customer id (a response read from the transaction log needs one)",
            ));
        }
        let Some(row) = self.customer_row(k) else {
            return Ok(WindowResponse {
                responded: false,
                value: 0.0,
                matched: false,
            });
        };
        let h = self.customers.history(row);
        let end = i64::from(day) + i64::from(days);
        let from = h.days.partition_point(|&d| d < day);
        let mut responded = false;
        let mut value = 0.0;
        for (&d, &a) in h.days[from..].iter().zip(&h.amounts[from..]) {
            if i64::from(d) >= end {
                break;
            }
            if is_purchase(a) {
                responded = true;
                value += a;
            }
        }
        Ok(WindowResponse {
            responded,
            value,
            matched: true,
        })
    }

    /// The fields the contacts hold: `campaign`, `customer`, `arm`, and `date`, `cost`,
    /// `value` and the outcome names when present.
    pub fn available_columns(&self) -> Vec<String> {
        let mut out: Vec<String> = vec!["campaign".into(), "customer".into(), "arm".into()];
        for (name, present) in [
            ("date", self.has_dates()),
            ("cost", self.has_costs()),
            ("value", self.has_values()),
        ] {
            if present {
                out.push(name.into());
            }
        }
        out.extend(self.data.outcome_names.iter().cloned());
        out
    }
}
