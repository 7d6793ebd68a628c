//! The sales side of the data: opportunities (with their stage histories), campaign
//! contacts and campaigns.
//!
//! Opportunities and contacts have an owner, and a [`Scope`] reaches them the way it
//! reaches customers: an opportunity is seen by a scope when its owner is one of the
//! scope's owners (every opportunity, owned or not, for `all`). Prospects are not
//! customers yet, so an opportunity's customer is optional and scoping does not go
//! through the customer table. Records are validated when the store is built, with the
//! record's 1-based position as the line of a [`RowError`](crate::RowError); the CSV
//! readers in `io` give file lines instead.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::access::{Area, Column};
use super::ids::Interner;
use super::scope::{Scope, ScopeTag};
use crate::error::{Error, Problem, Result};
use crate::time::{date_of, day_number};

/// Where a deal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DealStatus {
    /// Still being worked.
    Open,
    /// Closed and won: it became an order.
    Won,
    /// Closed and lost.
    Lost,
}

impl DealStatus {
    /// `open`, `won` or `lost`.
    pub const fn name(self) -> &'static str {
        match self {
            DealStatus::Open => "open",
            DealStatus::Won => "won",
            DealStatus::Lost => "lost",
        }
    }

    /// Whether the deal is closed (won or lost).
    pub const fn is_closed(self) -> bool {
        !matches!(self, DealStatus::Open)
    }
}

impl fmt::Display for DealStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DealStatus {
    type Err = Problem;
    /// `open`, `won`, `lost` in any case; `closed won` / `closed_won` / `closed-won` and
    /// the same for lost, as CRMs export them.
    fn from_str(s: &str) -> std::result::Result<Self, Problem> {
        let t = s.trim().to_ascii_lowercase().replace(['_', '-', ' '], "");
        match t.as_str() {
            "open" => Ok(DealStatus::Open),
            "won" | "closedwon" | "win" => Ok(DealStatus::Won),
            "lost" | "closedlost" | "loss" => Ok(DealStatus::Lost),
            _ => Err(Problem::BadStatus),
        }
    }
}

/// One sales opportunity as given (one CSV row or one record of an iterator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpportunityRecord {
    /// The opportunity's id (unique).
    pub id: String,
    /// The customer, when the prospect already is one.
    pub customer: Option<String>,
    /// The salesperson who owns the deal.
    pub owner: Option<String>,
    /// The current stage (any name: `prospect`, `proposal`, `negotiation`, ...).
    pub stage: String,
    /// The deal's amount (finite, ≥ 0).
    pub amount: f64,
    /// The entered probability of winning, in [0, 1]; when absent, a stage map or a
    /// learned win rate supplies it.
    pub probability: Option<f64>,
    /// The product (or product line) the deal is for.
    pub product: Option<String>,
    /// The day the opportunity was created.
    pub created: Option<NaiveDate>,
    /// The day it is expected to close (for an open deal), or was expected to.
    pub expected_close: NaiveDate,
    /// Open, won or lost.
    pub status: DealStatus,
    /// The day a closed deal closed; a closed deal without one closed on its expected
    /// close date.
    pub closed: Option<NaiveDate>,
    /// Why a lost deal was lost.
    pub loss_reason: Option<String>,
    /// Further named attributes (segment, region, source, ...).
    pub attributes: BTreeMap<String, String>,
}

/// One row of an opportunity's stage history: the stage it entered on a day, and the
/// close date it was expected on from then (when the history records it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    /// The opportunity's id.
    pub opportunity: String,
    /// The stage entered.
    pub stage: String,
    /// The day it was entered.
    pub entered: NaiveDate,
    /// The expected close date from that day on.
    pub expected_close: Option<NaiveDate>,
}

/// One entry of a stored stage history: stage index, day entered, expected close day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageEntry {
    /// The stage (an index into [`OpportunityView::stages`]).
    pub stage: u32,
    /// Day number it was entered.
    pub day: i32,
    /// Day number of the expected close date from then on, when recorded.
    pub expected_close: Option<i32>,
}

const NONE: u32 = u32::MAX;

/// The plain-data part of an opportunity: indices and numbers, no strings.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Deal {
    customer: u32,
    owner: u32,
    stage: u32,
    product: u32,
    reason: u32,
    amount: f64,
    /// NaN when not given.
    probability: f64,
    created: Option<i32>,
    expected_close: i32,
    closed: Option<i32>,
    status: DealStatus,
}

/// Validated opportunities with their stage histories: names interned, one row of plain
/// data per deal, histories sorted by day.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Opportunities {
    ids: Interner,
    customers: Interner,
    owners: Interner,
    stages: Interner,
    products: Interner,
    reasons: Interner,
    deals: Vec<Deal>,
    attributes: BTreeMap<String, Vec<Option<String>>>,
    /// `history[offsets[i]..offsets[i + 1]]` is deal i's history.
    offsets: Vec<usize>,
    history: Vec<StageEntry>,
}

fn intern_opt(interner: &mut Interner, s: Option<&str>) -> u32 {
    match s.map(str::trim) {
        Some(s) if !s.is_empty() => interner.intern(s),
        _ => NONE,
    }
}

impl Opportunities {
    /// Validates and stores opportunities and (optionally empty) stage histories.
    ///
    /// # Errors
    /// [`Error::Row`] naming the record (1-based position among the opportunities, or
    /// among the history rows) and field: an empty id or stage
    /// ([`Problem::EmptyValue`]), a repeated id ([`Problem::DuplicateId`]), an amount
    /// not finite or negative ([`Problem::NonFinite`], [`Problem::Negative`]), a
    /// probability outside [0, 1] ([`Problem::NotProbability`]), a close date before the
    /// creation date, or a close date on an open deal ([`Problem::DateOrder`],
    /// [`Problem::Conflict`]); a history row of an unknown opportunity
    /// ([`Problem::UnknownReference`]) or dated before the opportunity was created
    /// ([`Problem::DateOrder`]). [`Error::EmptyInput`] for no opportunities.
    pub fn new(
        records: impl IntoIterator<Item = OpportunityRecord>,
        history: impl IntoIterator<Item = StageRecord>,
    ) -> Result<Opportunities> {
        let mut o = Opportunities::default();
        let mut attributes: Vec<BTreeMap<String, String>> = Vec::new();
        for (i, r) in records.into_iter().enumerate() {
            let line = i as u64 + 1;
            let id = r.id.trim();
            if id.is_empty() {
                return Err(Error::row(line, "id", &r.id, Problem::EmptyValue));
            }
            if o.ids.get(id).is_some() {
                return Err(Error::row(line, "id", id, Problem::DuplicateId));
            }
            if r.stage.trim().is_empty() {
                return Err(Error::row(line, "stage", &r.stage, Problem::EmptyValue));
            }
            let amount = r.amount;
            if !amount.is_finite() {
                return Err(Error::row(
                    line,
                    "amount",
                    &amount.to_string(),
                    Problem::NonFinite,
                ));
            }
            if amount < 0.0 {
                return Err(Error::row(
                    line,
                    "amount",
                    &amount.to_string(),
                    Problem::Negative,
                ));
            }
            if let Some(p) = r.probability {
                if !(0.0..=1.0).contains(&p) {
                    return Err(Error::row(
                        line,
                        "probability",
                        &p.to_string(),
                        Problem::NotProbability,
                    ));
                }
            }
            let created = r.created.map(day_number);
            let expected_close = day_number(r.expected_close);
            let closed = match (r.status, r.closed) {
                (DealStatus::Open, Some(d)) => {
                    return Err(Error::row(
                        line,
                        "close_date",
                        &d.to_string(),
                        Problem::Conflict,
                    ))
                }
                (DealStatus::Open, None) => None,
                (_, d) => Some(d.map_or(expected_close, day_number)),
            };
            if let (Some(c), Some(d)) = (created, closed) {
                if d < c {
                    return Err(Error::row(
                        line,
                        "close_date",
                        &date_of(d).to_string(),
                        Problem::DateOrder,
                    ));
                }
            }
            o.ids.intern(id);
            o.deals.push(Deal {
                customer: intern_opt(&mut o.customers, r.customer.as_deref()),
                owner: intern_opt(&mut o.owners, r.owner.as_deref()),
                stage: o.stages.intern(r.stage.trim()),
                product: intern_opt(&mut o.products, r.product.as_deref()),
                reason: intern_opt(&mut o.reasons, r.loss_reason.as_deref()),
                amount,
                probability: r.probability.unwrap_or(f64::NAN),
                created,
                expected_close,
                closed,
                status: r.status,
            });
            attributes.push(r.attributes);
        }
        if o.deals.is_empty() {
            return Err(Error::EmptyInput);
        }
        let n = o.deals.len();
        for (i, attrs) in attributes.into_iter().enumerate() {
            for (name, value) in attrs {
                o.attributes.entry(name).or_insert_with(|| vec![None; n])[i] = Some(value);
            }
        }
        let mut per: Vec<Vec<StageEntry>> = vec![Vec::new(); n];
        for (i, h) in history.into_iter().enumerate() {
            let line = i as u64 + 1;
            let Some(d) = o.ids.get(h.opportunity.trim()) else {
                return Err(Error::row(
                    line,
                    "opportunity",
                    &h.opportunity,
                    Problem::UnknownReference,
                ));
            };
            if h.stage.trim().is_empty() {
                return Err(Error::row(line, "stage", &h.stage, Problem::EmptyValue));
            }
            let day = day_number(h.entered);
            if o.deals[d as usize].created.is_some_and(|c| day < c) {
                return Err(Error::row(
                    line,
                    "entered",
                    &h.entered.to_string(),
                    Problem::DateOrder,
                ));
            }
            per[d as usize].push(StageEntry {
                stage: o.stages.intern(h.stage.trim()),
                day,
                expected_close: h.expected_close.map(day_number),
            });
        }
        o.offsets.reserve(n + 1);
        o.offsets.push(0);
        for mut h in per {
            // Stable: rows of one day keep the order they were given in.
            h.sort_by_key(|e| e.day);
            o.history.extend(h);
            o.offsets.push(o.history.len());
        }
        Ok(o)
    }

    /// Number of opportunities.
    pub fn len(&self) -> usize {
        self.deals.len()
    }

    /// Whether there are none (never true for a built store).
    pub fn is_empty(&self) -> bool {
        self.deals.is_empty()
    }

    /// Whether any stage history was given.
    pub fn has_history(&self) -> bool {
        !self.history.is_empty()
    }

    /// The opportunities `scope` reaches: those whose owner is one of its owners (all of
    /// them, owned or not, for a scope of everyone).
    pub fn view(&self, scope: &Scope) -> OpportunityView<'_> {
        let rows = scope.owners().map(|set| {
            let inside: Vec<bool> = self.owners.iter().map(|o| set.contains(o)).collect();
            (0..self.deals.len() as u32)
                .filter(|&i| {
                    let o = self.deals[i as usize].owner;
                    o != NONE && inside[o as usize]
                })
                .collect::<Vec<u32>>()
        });
        let len = rows.as_ref().map_or(self.deals.len(), Vec::len);
        OpportunityView {
            data: self,
            rows,
            tag: scope.tag(len),
        }
    }
}

/// The opportunities a scope reaches, read row by row (`k` is the position in the view).
///
/// Hidden columns are absent: the product of a deal under a scope that hides products is
/// an [`Error::HiddenColumn`], never a blank.
#[derive(Debug, Clone)]
pub struct OpportunityView<'a> {
    data: &'a Opportunities,
    rows: Option<Vec<u32>>,
    tag: ScopeTag,
}

impl<'a> OpportunityView<'a> {
    /// Number of opportunities in the view.
    pub fn len(&self) -> usize {
        self.rows.as_ref().map_or(self.data.deals.len(), Vec::len)
    }

    /// Whether the view holds none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The scope the view was built under (its `customers` counts opportunities).
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

    #[inline]
    fn deal(&self, k: usize) -> &'a Deal {
        &self.data.deals[self.index(k)]
    }

    /// The opportunity's id.
    pub fn id(&self, k: usize) -> &'a str {
        self.data.ids.name(self.index(k))
    }

    /// Its customer, if it has one.
    pub fn customer(&self, k: usize) -> Option<&'a str> {
        let c = self.deal(k).customer;
        (c != NONE).then(|| self.data.customers.name(c as usize))
    }

    /// Its owner's index into [`owners`](Self::owners), if it has one.
    pub fn owner_index(&self, k: usize) -> Option<u32> {
        let o = self.deal(k).owner;
        (o != NONE).then_some(o)
    }

    /// Its owner, if it has one.
    pub fn owner(&self, k: usize) -> Option<&'a str> {
        self.owner_index(k)
            .map(|o| self.data.owners.name(o as usize))
    }

    /// Every owner named by the store (of all opportunities, not only the view's).
    pub fn owners(&self) -> &'a Interner {
        &self.data.owners
    }

    /// Its current stage, an index into [`stages`](Self::stages).
    pub fn stage(&self, k: usize) -> u32 {
        self.deal(k).stage
    }

    /// Every stage named by the opportunities and their histories, in order of first
    /// appearance.
    pub fn stages(&self) -> &'a Interner {
        &self.data.stages
    }

    /// Its amount.
    pub fn amount(&self, k: usize) -> f64 {
        self.deal(k).amount
    }

    /// Its entered probability of winning, if given.
    pub fn probability(&self, k: usize) -> Option<f64> {
        let p = self.deal(k).probability;
        (!p.is_nan()).then_some(p)
    }

    /// Its product's index into the product names, if it has one.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] when the scope hides products.
    pub fn product_index(&self, k: usize) -> Result<Option<u32>> {
        self.need(Column::Product)?;
        let p = self.deal(k).product;
        Ok((p != NONE).then_some(p))
    }

    /// The product names.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] when the scope hides products.
    pub fn products(&self) -> Result<&'a Interner> {
        self.need(Column::Product)?;
        Ok(&self.data.products)
    }

    /// Day number of its creation, if known.
    pub fn created(&self, k: usize) -> Option<i32> {
        self.deal(k).created
    }

    /// Day number of its expected close date.
    pub fn expected_close(&self, k: usize) -> i32 {
        self.deal(k).expected_close
    }

    /// Its status.
    pub fn status(&self, k: usize) -> DealStatus {
        self.deal(k).status
    }

    /// Day number it closed on (closed deals only).
    pub fn closed(&self, k: usize) -> Option<i32> {
        self.deal(k).closed
    }

    /// Why it was lost, if recorded.
    pub fn loss_reason(&self, k: usize) -> Option<&'a str> {
        let r = self.deal(k).reason;
        (r != NONE).then(|| self.data.reasons.name(r as usize))
    }

    /// The value of a named attribute, if the deal has it.
    pub fn attribute(&self, k: usize, name: &str) -> Option<&'a str> {
        self.data.attributes.get(name)?[self.index(k)].as_deref()
    }

    /// The attribute names, sorted.
    pub fn attribute_names(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.data.attributes.keys().map(String::as_str)
    }

    /// Its stage history, sorted by day (empty when none was given).
    pub fn history(&self, k: usize) -> &'a [StageEntry] {
        let i = self.index(k);
        &self.data.history[self.data.offsets[i]..self.data.offsets[i + 1]]
    }
}

/// Whether and when a contact reached a stage of the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reached {
    /// Not (yet) reached.
    No,
    /// Reached, on a day not recorded.
    Undated,
    /// Reached on this day.
    On(NaiveDate),
}

impl Reached {
    /// Whether the stage was reached.
    pub const fn is_reached(self) -> bool {
        !matches!(self, Reached::No)
    }

    /// The day it was reached, when recorded.
    pub const fn date(self) -> Option<NaiveDate> {
        match self {
            Reached::On(d) => Some(d),
            _ => None,
        }
    }
}

/// One campaign contact (a lead in the wide sense) as given: who was contacted by which
/// campaign through which channel, and whether and when they qualified as a lead,
/// became an opportunity and placed an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContactRecord {
    /// The contact's id (unique).
    pub id: String,
    /// The campaign that made the contact.
    pub campaign: String,
    /// The source channel (web, seminar, call, ...).
    pub channel: Option<String>,
    /// The salesperson who owns the contact.
    pub owner: Option<String>,
    /// The day of the contact.
    pub created: Option<NaiveDate>,
    /// Qualified as a lead.
    pub lead: Reached,
    /// Became an opportunity.
    pub opportunity: Reached,
    /// Became an order.
    pub order: Reached,
    /// Further named attributes (features for lead scoring, segment, ...).
    pub attributes: BTreeMap<String, String>,
}

/// The funnel stages after the contact, in order.
pub const FUNNEL_STAGES: [&str; 3] = ["lead", "opportunity", "order"];

/// A stored contact: indices, stages reached, day numbers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Touch {
    campaign: u32,
    channel: u32,
    owner: u32,
    created: Option<i32>,
    /// Lead, opportunity, order: `None` not reached, `Some(None)` reached undated.
    stages: [Option<Option<i32>>; 3],
}

/// Validated campaign contacts.
///
/// Reaching a stage implies reaching the earlier ones (an order came from an
/// opportunity, which came from a lead), so a contact marked as an order but not as a
/// lead counts as a lead, undated.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Contacts {
    ids: Interner,
    campaigns: Interner,
    channels: Interner,
    owners: Interner,
    touches: Vec<Touch>,
    attributes: BTreeMap<String, Vec<Option<String>>>,
}

impl Contacts {
    /// Validates and stores contacts.
    ///
    /// # Errors
    /// [`Error::Row`] naming the record (1-based position) and field: an empty id or
    /// campaign ([`Problem::EmptyValue`]), a repeated id ([`Problem::DuplicateId`]), a
    /// stage dated before the contact or an earlier stage ([`Problem::DateOrder`]).
    /// [`Error::EmptyInput`] for no contacts.
    pub fn new(records: impl IntoIterator<Item = ContactRecord>) -> Result<Contacts> {
        let mut c = Contacts::default();
        let mut attributes = Vec::new();
        for (i, r) in records.into_iter().enumerate() {
            let line = i as u64 + 1;
            let id = r.id.trim();
            if id.is_empty() {
                return Err(Error::row(line, "id", &r.id, Problem::EmptyValue));
            }
            if c.ids.get(id).is_some() {
                return Err(Error::row(line, "id", id, Problem::DuplicateId));
            }
            if r.campaign.trim().is_empty() {
                return Err(Error::row(
                    line,
                    "campaign",
                    &r.campaign,
                    Problem::EmptyValue,
                ));
            }
            let given = [r.lead, r.opportunity, r.order];
            let mut stages = [None; 3];
            let mut last = r.created.map(day_number);
            for s in (0..3).rev() {
                // A later stage reached implies this one.
                let implied = stages
                    .get(s + 1)
                    .is_some_and(|x: &Option<Option<i32>>| x.is_some());
                stages[s] = match given[s] {
                    Reached::On(d) => Some(Some(day_number(d))),
                    Reached::Undated => Some(None),
                    Reached::No if implied => Some(None),
                    Reached::No => None,
                };
            }
            for (s, stage) in stages.iter().enumerate() {
                if let Some(Some(d)) = stage {
                    if last.is_some_and(|l| *d < l) {
                        return Err(Error::row(
                            line,
                            FUNNEL_STAGES[s],
                            &date_of(*d).to_string(),
                            Problem::DateOrder,
                        ));
                    }
                    last = Some(*d);
                }
            }
            c.ids.intern(id);
            c.touches.push(Touch {
                campaign: c.campaigns.intern(r.campaign.trim()),
                channel: intern_opt(&mut c.channels, r.channel.as_deref()),
                owner: intern_opt(&mut c.owners, r.owner.as_deref()),
                created: r.created.map(day_number),
                stages,
            });
            attributes.push(r.attributes);
        }
        if c.touches.is_empty() {
            return Err(Error::EmptyInput);
        }
        let n = c.touches.len();
        for (i, attrs) in attributes.into_iter().enumerate() {
            for (name, value) in attrs {
                c.attributes.entry(name).or_insert_with(|| vec![None; n])[i] = Some(value);
            }
        }
        Ok(c)
    }

    /// Number of contacts.
    pub fn len(&self) -> usize {
        self.touches.len()
    }

    /// Whether there are none (never true for a built store).
    pub fn is_empty(&self) -> bool {
        self.touches.is_empty()
    }

    /// The contacts `scope` reaches: those whose owner is one of its owners (all of them
    /// for a scope of everyone).
    pub fn view(&self, scope: &Scope) -> ContactView<'_> {
        let rows = scope.owners().map(|set| {
            let inside: Vec<bool> = self.owners.iter().map(|o| set.contains(o)).collect();
            (0..self.touches.len() as u32)
                .filter(|&i| {
                    let o = self.touches[i as usize].owner;
                    o != NONE && inside[o as usize]
                })
                .collect::<Vec<u32>>()
        });
        let len = rows.as_ref().map_or(self.touches.len(), Vec::len);
        ContactView {
            data: self,
            rows,
            tag: scope.tag(len),
        }
    }
}

/// The contacts a scope reaches, read row by row.
#[derive(Debug, Clone)]
pub struct ContactView<'a> {
    data: &'a Contacts,
    rows: Option<Vec<u32>>,
    tag: ScopeTag,
}

impl<'a> ContactView<'a> {
    /// Number of contacts in the view.
    pub fn len(&self) -> usize {
        self.rows.as_ref().map_or(self.data.touches.len(), Vec::len)
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

    #[inline]
    fn index(&self, k: usize) -> usize {
        self.rows.as_ref().map_or(k, |r| r[k] as usize)
    }

    #[inline]
    fn touch(&self, k: usize) -> &'a Touch {
        &self.data.touches[self.index(k)]
    }

    /// The contact's id.
    pub fn id(&self, k: usize) -> &'a str {
        self.data.ids.name(self.index(k))
    }

    /// Its campaign, an index into [`campaigns`](Self::campaigns).
    pub fn campaign(&self, k: usize) -> u32 {
        self.touch(k).campaign
    }

    /// The campaign names, in order of first appearance.
    pub fn campaigns(&self) -> &'a Interner {
        &self.data.campaigns
    }

    /// Its channel, if recorded.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] when the scope hides channels.
    pub fn channel(&self, k: usize) -> Result<Option<&'a str>> {
        self.tag.reveal(Column::Channel)?;
        let c = self.touch(k).channel;
        Ok((c != NONE).then(|| self.data.channels.name(c as usize)))
    }

    /// Its owner, if it has one.
    pub fn owner(&self, k: usize) -> Option<&'a str> {
        let o = self.touch(k).owner;
        (o != NONE).then(|| self.data.owners.name(o as usize))
    }

    /// Day number of the contact, if recorded.
    pub fn created(&self, k: usize) -> Option<i32> {
        self.touch(k).created
    }

    /// Whether (and on which day number) it reached funnel stage `s` (0 lead,
    /// 1 opportunity, 2 order, as in [`FUNNEL_STAGES`]): `None` not reached,
    /// `Some(None)` reached on a day not recorded.
    ///
    /// # Panics
    /// If `s > 2` (a programmer error).
    pub fn stage(&self, k: usize, s: usize) -> Option<Option<i32>> {
        self.touch(k).stages[s]
    }

    /// The value of a named attribute, if the contact has it.
    pub fn attribute(&self, k: usize, name: &str) -> Option<&'a str> {
        self.data.attributes.get(name)?[self.index(k)].as_deref()
    }

    /// The attribute names, sorted.
    pub fn attribute_names(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.data.attributes.keys().map(String::as_str)
    }
}

/// One campaign: its type, product, dates and cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignRecord {
    /// The campaign's id, as contacts name it.
    pub id: String,
    /// Its type (seminar, roadshow, e-mail, advertising, ...).
    pub kind: Option<String>,
    /// The product it promotes.
    pub product: Option<String>,
    /// First day.
    pub start: Option<NaiveDate>,
    /// Last day.
    pub end: Option<NaiveDate>,
    /// What it cost (finite, ≥ 0).
    pub cost: f64,
}

/// Validated campaigns, by id.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Campaigns {
    records: Vec<CampaignRecord>,
    ids: Interner,
}

impl Campaigns {
    /// Validates and stores campaigns.
    ///
    /// # Errors
    /// [`Error::Row`] naming the record (1-based position) and field: an empty or
    /// repeated id, a cost not finite or negative, an end before the start.
    pub fn new(records: impl IntoIterator<Item = CampaignRecord>) -> Result<Campaigns> {
        let mut c = Campaigns::default();
        for (i, mut r) in records.into_iter().enumerate() {
            let line = i as u64 + 1;
            r.id = r.id.trim().to_string();
            if r.id.is_empty() {
                return Err(Error::row(line, "id", &r.id, Problem::EmptyValue));
            }
            if c.ids.get(&r.id).is_some() {
                return Err(Error::row(line, "id", &r.id, Problem::DuplicateId));
            }
            if !r.cost.is_finite() {
                return Err(Error::row(
                    line,
                    "cost",
                    &r.cost.to_string(),
                    Problem::NonFinite,
                ));
            }
            if r.cost < 0.0 {
                return Err(Error::row(
                    line,
                    "cost",
                    &r.cost.to_string(),
                    Problem::Negative,
                ));
            }
            if let (Some(s), Some(e)) = (r.start, r.end) {
                if e < s {
                    return Err(Error::row(
                        line,
                        "end",
                        &e.to_string(),
                        Problem::EndBeforeStart,
                    ));
                }
            }
            c.ids.intern(&r.id);
            c.records.push(r);
        }
        Ok(c)
    }

    /// The campaign with id `id`.
    pub fn get(&self, id: &str) -> Option<&CampaignRecord> {
        self.ids.get(id).map(|i| &self.records[i as usize])
    }

    /// Every campaign, in the order given.
    pub fn records(&self) -> &[CampaignRecord] {
        &self.records
    }

    /// Number of campaigns.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }
}
