//! The campaign funnel: how many contacts became leads, opportunities and orders, per
//! campaign (or campaign type, product or channel), how fast, and at what cost.
//!
//! # What is computed
//!
//! Per group and over all contacts of the view:
//! - the counts at each stage: contacts, leads, opportunities, orders (a later stage
//!   implies the earlier ones, as [`Contacts`](crate::data::Contacts) stores them);
//! - the conversion of each step, `contact_lead` (leads / contacts), `lead_opportunity`
//!   (opportunities / leads), `opportunity_order` (orders / opportunities) and
//!   `contact_order` (orders / contacts), each with its Wilson score interval
//!   ([`wilson`]);
//! - per step, Pearson's χ² test that the step's conversion is the same in every group
//!   (the groups × {converted, not} table, no continuity correction,
//!   [`chi2_independence`]);
//! - the time to convert of each step (`contact_lead` from the contact's date to the
//!   lead's, then lead → opportunity, opportunity → order), in days: the median over the
//!   contacts that converted, and a Kaplan–Meier curve in which those that have not (yet)
//!   converted are censored at the as-of date. Only contacts whose two dates are known
//!   take part (a stage reached on a day not recorded drops out of the timing, not out of
//!   the counts);
//! - with campaign costs ([`FunnelOptions::campaigns`]), the cost per lead, per
//!   opportunity and per order.
//!
//! Costs are whole campaigns' costs, so they are given only for views that reach every
//! contact (scope `all`): an owner's contacts are a part of a campaign whose cost was
//! not spent on them alone.
//!
//! ```
//! use acrm::data::{ContactRecord, Contacts, Reached, Scope};
//! use acrm::prospecting::{FunnelOptions, FunnelGrouping};
//! use chrono::NaiveDate;
//!
//! let day = |d| Reached::On(NaiveDate::from_ymd_opt(2024, 3, d).unwrap());
//! let contact = |id: &str, campaign: &str, lead, opportunity, order| ContactRecord {
//!     id: id.into(),
//!     campaign: campaign.into(),
//!     channel: None,
//!     owner: None,
//!     created: NaiveDate::from_ymd_opt(2024, 3, 1),
//!     lead,
//!     opportunity,
//!     order,
//!     attributes: Default::default(),
//! };
//! let contacts = Contacts::new(vec![
//!     contact("a", "fair", day(3), day(9), day(20)),
//!     contact("b", "fair", day(5), Reached::No, Reached::No),
//!     contact("c", "web", Reached::No, Reached::No, Reached::No),
//!     contact("d", "web", day(2), day(4), Reached::No),
//! ])?;
//! let funnel = FunnelOptions::new()
//!     .by(FunnelGrouping::Campaign)
//!     .as_of(NaiveDate::from_ymd_opt(2024, 3, 31).unwrap())
//!     .compute(&contacts.view(&Scope::all()))?;
//! let fair = funnel.group("fair").unwrap();
//! assert_eq!((fair.contacts, fair.leads, fair.opportunities, fair.orders), (2, 2, 1, 1));
//! assert_eq!(funnel.total.contact_order.rate, 0.25);
//! // Days from contact to lead of the three leads: 2, 4 and 1.
//! assert_eq!(funnel.total.time_to_convert[0].median_days, Some(2.0));
//! # Ok::<(), acrm::Error>(())
//! ```

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, Campaigns, ContactView, ScopeTag};
use crate::error::{Error, Result};
use crate::numerics::survival::{KaplanMeier, KaplanMeierOptions, SurvivalData};
use crate::numerics::{chi2_independence, median, wilson, Proportion};
use crate::time::{date_of, day_number};

/// The conversion steps, in funnel order: from the contact to the lead, lead to
/// opportunity, opportunity to order.
pub const FUNNEL_STEPS: [&str; 3] = ["contact_lead", "lead_opportunity", "opportunity_order"];

/// The label of contacts without a value for the grouping (no channel, a campaign
/// without a type or product).
pub const NONE_LABEL: &str = "(none)";

/// What the funnel is broken down by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FunnelGrouping {
    /// The contact's campaign.
    Campaign,
    /// The campaign's type (needs [`FunnelOptions::campaigns`]).
    CampaignType,
    /// The campaign's product (needs [`FunnelOptions::campaigns`]).
    Product,
    /// The contact's source channel.
    Channel,
}

/// Settings of the funnel: the grouping (default by campaign), the confidence level of
/// the intervals (default 0.95), the campaigns (for types, products and costs) and the
/// as-of date at which contacts not yet converted are censored (default: the latest
/// date in the view).
#[derive(Debug, Clone)]
pub struct FunnelOptions<'a> {
    by: FunnelGrouping,
    confidence: f64,
    campaigns: Option<&'a Campaigns>,
    as_of: Option<NaiveDate>,
}

impl Default for FunnelOptions<'_> {
    fn default() -> Self {
        FunnelOptions {
            by: FunnelGrouping::Campaign,
            confidence: 0.95,
            campaigns: None,
            as_of: None,
        }
    }
}

/// A rate with its interval, as the funnel reports it.
pub type Rate = Proportion;

/// Time to convert of one step, in days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTime {
    /// The step (one of [`FUNNEL_STEPS`]).
    pub step: String,
    /// Contacts at the start of the step with a known date (the curve's subjects).
    pub at_start: u64,
    /// Of them, those that converted on a known date.
    pub converted: u64,
    /// Median days to convert among those that converted (`None` when none did).
    pub median_days: Option<f64>,
    /// Kaplan–Meier median: the first day the share not yet converted is at or below ½,
    /// counting those not yet converted as censored at the as-of date (`None` when the
    /// curve stays above ½ or there are no subjects).
    pub km_median_days: Option<f64>,
    /// The Kaplan–Meier curve of "not yet converted" (`None` without subjects).
    pub curve: Option<KaplanMeier>,
}

/// Cost per result of a group's campaigns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Costs {
    /// The campaigns' total cost.
    pub cost: f64,
    /// Cost / leads (`None` without leads).
    pub per_lead: Option<f64>,
    /// Cost / opportunities (`None` without opportunities).
    pub per_opportunity: Option<f64>,
    /// Cost / orders (`None` without orders).
    pub per_order: Option<f64>,
}

/// The funnel of one group (or of every contact).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunnelGroup {
    /// The group's label (`ALL` for the total).
    pub group: String,
    /// Contacts.
    pub contacts: u64,
    /// Contacts that qualified as leads.
    pub leads: u64,
    /// Contacts that became opportunities.
    pub opportunities: u64,
    /// Contacts that placed an order.
    pub orders: u64,
    /// Leads / contacts.
    pub contact_lead: Rate,
    /// Opportunities / leads.
    pub lead_opportunity: Rate,
    /// Orders / opportunities.
    pub opportunity_order: Rate,
    /// Orders / contacts.
    pub contact_order: Rate,
    /// Time to convert of each step, in the order of [`FUNNEL_STEPS`].
    pub time_to_convert: Vec<StepTime>,
    /// Costs per lead, opportunity and order, when every campaign of the group has a
    /// known cost and the view reaches every contact.
    pub costs: Option<Costs>,
}

/// The test that a step's conversion is the same in every group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTest {
    /// The step (one of [`FUNNEL_STEPS`]).
    pub stage: String,
    /// Pearson's χ² statistic (no continuity correction).
    pub chi2: f64,
    /// Degrees of freedom: groups with any contact at the step's start, minus one.
    pub dof: u32,
    /// Upper-tail probability.
    pub p: f64,
}

/// The funnel by group, the total and the tests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    /// The scope of the contacts.
    pub scope: ScopeTag,
    /// The grouping.
    pub by: FunnelGrouping,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// The date the not yet converted are censored at (`None` when the view holds no
    /// date).
    pub as_of: Option<NaiveDate>,
    /// One funnel per group, labels ascending.
    pub groups: Vec<FunnelGroup>,
    /// The funnel over every contact of the view.
    pub total: FunnelGroup,
    /// Per step, the χ² test across groups; a step is left out when fewer than two
    /// groups reach it or its conversion is 0 or 1 everywhere (the test is undefined).
    pub tests: Vec<StepTest>,
}

impl Funnel {
    /// The funnel of the group labelled `label`.
    pub fn group(&self, label: &str) -> Option<&FunnelGroup> {
        self.groups.iter().find(|g| g.group == label)
    }
}

/// Label of the total over every contact.
pub const ALL: &str = "ALL";

/// Per contact, what the funnel needs: its group, how far it got, and for each step the
/// day it started and (if it converted) the day it ended.
#[derive(Clone, Copy)]
struct Row {
    group: u32,
    /// Stages reached: 0 contact only, 1 lead, 2 opportunity, 3 order.
    depth: u8,
    /// Day of the contact, lead, opportunity, order (`None` unknown or not reached).
    days: [Option<i32>; 4],
}

impl<'a> FunnelOptions<'a> {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The grouping.
    pub fn by(mut self, by: FunnelGrouping) -> Self {
        self.by = by;
        self
    }

    /// Confidence level of the Wilson and Kaplan–Meier intervals, in (0, 1).
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// The campaigns: their types and products for those groupings, their costs for the
    /// cost per result.
    pub fn campaigns(mut self, campaigns: &'a Campaigns) -> Self {
        self.campaigns = Some(campaigns);
        self
    }

    /// The date at which contacts not yet converted are censored; it must be on or after
    /// every date in the view.
    pub fn as_of(mut self, date: NaiveDate) -> Self {
        self.as_of = Some(date);
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a confidence level outside (0, 1), or a grouping by
    /// campaign type or product without campaigns.
    pub fn validate(&self) -> Result<()> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::option(
                "confidence",
                self.confidence,
                "a level in (0, 1)",
            ));
        }
        if matches!(
            self.by,
            FunnelGrouping::CampaignType | FunnelGrouping::Product
        ) && self.campaigns.is_none()
        {
            return Err(Error::option(
                "by",
                format!("{:?}", self.by),
                "campaigns (`.campaigns(..)`) to group by campaign type or product",
            ));
        }
        Ok(())
    }

    /// The funnel of the contacts in `view`.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::ForbiddenArea`] when the scope forbids
    /// prospecting; [`Error::HiddenColumn`] grouping by a channel the scope hides;
    /// [`Error::UnknownId`] (kind `campaign`) grouping by type or product when a
    /// contact's campaign is not among the campaigns; [`Error::InvalidOption`] `as_of`
    /// for a date before a date in the view; [`Error::EmptyInput`] for an empty view.
    pub fn compute(&self, view: &ContactView<'_>) -> Result<Funnel> {
        self.validate()?;
        view.require(Area::Prospecting)?;
        if view.is_empty() {
            return Err(Error::EmptyInput);
        }
        let (labels, group_of) = self.groups(view)?;
        let rows: Vec<Row> = (0..view.len())
            .into_par_iter()
            .map(|k| {
                let mut days = [view.created(k), None, None, None];
                let mut depth = 0u8;
                for s in 0..3 {
                    if let Some(d) = view.stage(k, s) {
                        depth = s as u8 + 1;
                        days[s + 1] = d;
                    }
                }
                Row {
                    group: group_of(k),
                    depth,
                    days,
                }
            })
            .collect();
        let latest = rows
            .par_iter()
            .filter_map(|r| r.days.iter().flatten().max().copied())
            .max();
        let as_of = match (self.as_of, latest) {
            (Some(a), Some(l)) if day_number(a) < l => {
                return Err(Error::option(
                    "as_of",
                    a,
                    format!(
                        "a date on or after every date in the view (the latest is {})",
                        date_of(l)
                    ),
                ))
            }
            (Some(a), _) => Some(day_number(a)),
            (None, l) => l,
        };

        let mut members: Vec<Vec<u32>> = vec![Vec::new(); labels.len()];
        for (i, r) in rows.iter().enumerate() {
            members[r.group as usize].push(i as u32);
        }
        let costs_known = view.scope().kind == "all" && view.scope().id.is_none();
        let campaign_cost = |c: u32| -> Option<f64> {
            let campaigns = self.campaigns?;
            campaigns
                .get(view.campaigns().name(c as usize))
                .map(|r| r.cost)
        };
        // The campaigns of each group, for their costs.
        let mut group_campaigns: Vec<Vec<u32>> = vec![Vec::new(); labels.len()];
        let mut all_campaigns: Vec<u32> = Vec::new();
        for (k, r) in rows.iter().enumerate() {
            let c = view.campaign(k);
            let g = &mut group_campaigns[r.group as usize];
            if !g.contains(&c) {
                g.push(c);
            }
            if !all_campaigns.contains(&c) {
                all_campaigns.push(c);
            }
        }
        // A group's cost: its campaigns' sum (channel groups share campaigns, so only the
        // groupings that partition campaigns get costs).
        let partitions_campaigns = !matches!(self.by, FunnelGrouping::Channel);
        let cost_of = |campaigns: &[u32]| -> Option<f64> {
            if !costs_known || self.campaigns.is_none() {
                return None;
            }
            campaigns.iter().map(|&c| campaign_cost(c)).sum()
        };

        let per_group = || {
            members
                .par_iter()
                .zip(labels.par_iter())
                .zip(group_campaigns.par_iter())
                .map(|((m, label), camps)| {
                    let cost = if partitions_campaigns {
                        cost_of(camps)
                    } else {
                        None
                    };
                    self.group(
                        label,
                        m.iter().map(|&i| &rows[i as usize]),
                        as_of,
                        cost,
                        view,
                    )
                })
                .collect::<Result<Vec<_>>>()
        };
        // The total's curves are as large as all groups' together: computed beside them.
        let (groups, total) = rayon::join(per_group, || {
            self.group(ALL, rows.iter(), as_of, cost_of(&all_campaigns), view)
        });
        let (groups, total) = (groups?, total?);

        let mut tests = Vec::new();
        for (s, step) in FUNNEL_STEPS.iter().enumerate() {
            let table: Vec<Vec<u64>> = groups
                .iter()
                .map(|g| {
                    let (x, n) = step_counts(g, s);
                    vec![x, n - x]
                })
                .collect();
            match chi2_independence(&table, false) {
                Ok(t) => tests.push(StepTest {
                    stage: step.to_string(),
                    chi2: t.chi2,
                    dof: t.dof,
                    p: t.p,
                }),
                Err(Error::Degenerate { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Funnel {
            scope: view.scope().clone(),
            by: self.by,
            confidence: self.confidence,
            as_of: as_of.map(date_of),
            groups,
            total,
            tests,
        })
    }

    /// The group labels (ascending) and each contact's group.
    #[allow(clippy::type_complexity)]
    fn groups<'v>(
        &self,
        view: &'v ContactView<'_>,
    ) -> Result<(Vec<String>, Box<dyn Fn(usize) -> u32 + Sync + 'v>)> {
        match self.by {
            FunnelGrouping::Campaign | FunnelGrouping::CampaignType | FunnelGrouping::Product => {
                // Per campaign index, its label.
                let names = view.campaigns();
                let per_campaign: Vec<String> = (0..names.len())
                    .map(|c| {
                        let name = names.name(c);
                        match (self.by, self.campaigns) {
                            (FunnelGrouping::Campaign, _) => Ok(name.to_string()),
                            (by, Some(campaigns)) => {
                                let r = campaigns.get(name).ok_or_else(|| Error::UnknownId {
                                    kind: "campaign".into(),
                                    id: name.to_string(),
                                })?;
                                let v = if by == FunnelGrouping::CampaignType {
                                    &r.kind
                                } else {
                                    &r.product
                                };
                                Ok(v.clone().unwrap_or_else(|| NONE_LABEL.to_string()))
                            }
                            // Checked by `validate`.
                            (_, None) => Ok(NONE_LABEL.to_string()),
                        }
                    })
                    .collect::<Result<_>>()?;
                // Only the campaigns the view's contacts name count (a campaign of the
                // store with no contact in the view is not a group of it).
                let mut used = vec![false; per_campaign.len()];
                for k in 0..view.len() {
                    used[view.campaign(k) as usize] = true;
                }
                let mut labels: Vec<String> = per_campaign
                    .iter()
                    .zip(&used)
                    .filter(|(_, u)| **u)
                    .map(|(l, _)| l.clone())
                    .collect();
                labels.sort_unstable();
                labels.dedup();
                let index: Vec<u32> = per_campaign
                    .iter()
                    .map(|l| labels.binary_search(l).map_or(u32::MAX, |i| i as u32))
                    .collect();
                Ok((labels, Box::new(move |k| index[view.campaign(k) as usize])))
            }
            FunnelGrouping::Channel => {
                let mut channel: Vec<&str> = Vec::with_capacity(view.len());
                for k in 0..view.len() {
                    channel.push(view.channel(k)?.unwrap_or(NONE_LABEL));
                }
                let mut labels: Vec<&str> = channel.clone();
                labels.par_sort_unstable();
                labels.dedup();
                let index: Vec<u32> = channel
                    .par_iter()
                    .map(|c| labels.partition_point(|l| l < c) as u32)
                    .collect();
                let labels = labels.into_iter().map(str::to_string).collect();
                Ok((labels, Box::new(move |k| index[k])))
            }
        }
    }

    /// The funnel of one group of contacts.
    fn group<'r>(
        &self,
        label: &str,
        rows: impl Iterator<Item = &'r Row> + Clone,
        as_of: Option<i32>,
        cost: Option<f64>,
        view: &ContactView<'_>,
    ) -> Result<FunnelGroup> {
        let mut n = [0u64; 4];
        for r in rows.clone() {
            for c in n.iter_mut().take(r.depth as usize + 1) {
                *c += 1;
            }
        }
        let rate = |x: u64, m: u64| wilson(x, m, self.confidence);
        let time_to_convert = (0..3)
            .map(|s| self.step_time(s, rows.clone(), as_of, view))
            .collect::<Result<Vec<_>>>()?;
        let per = |c: f64, m: u64| (m > 0).then(|| c / m as f64);
        Ok(FunnelGroup {
            group: label.to_string(),
            contacts: n[0],
            leads: n[1],
            opportunities: n[2],
            orders: n[3],
            contact_lead: rate(n[1], n[0])?,
            lead_opportunity: rate(n[2], n[1])?,
            opportunity_order: rate(n[3], n[2])?,
            contact_order: rate(n[3], n[0])?,
            time_to_convert,
            costs: cost.map(|c| Costs {
                cost: c,
                per_lead: per(c, n[1]),
                per_opportunity: per(c, n[2]),
                per_order: per(c, n[3]),
            }),
        })
    }

    /// Time to convert of step `s` (stage s → s + 1 of contact, lead, opportunity,
    /// order) over `rows`.
    fn step_time<'r>(
        &self,
        s: usize,
        rows: impl Iterator<Item = &'r Row>,
        as_of: Option<i32>,
        view: &ContactView<'_>,
    ) -> Result<StepTime> {
        let (mut durations, mut events) = (Vec::new(), Vec::new());
        let mut converted = Vec::new();
        for r in rows {
            if (r.depth as usize) < s {
                continue;
            }
            let Some(start) = r.days[s] else { continue };
            if r.depth as usize > s {
                // Converted: timed only when the day is known.
                if let Some(end) = r.days[s + 1] {
                    let d = f64::from(end - start);
                    durations.push(d);
                    events.push(true);
                    converted.push(d);
                }
            } else if let Some(a) = as_of {
                durations.push(f64::from(a - start));
                events.push(false);
            }
        }
        let curve = if durations.is_empty() {
            None
        } else {
            let data = SurvivalData::new(durations.clone(), events)?;
            let mut km = KaplanMeierOptions::new()
                .confidence(self.confidence)
                .compute(&data)?;
            km.scope = view.scope().clone();
            Some(km)
        };
        Ok(StepTime {
            step: FUNNEL_STEPS[s].to_string(),
            at_start: durations.len() as u64,
            converted: converted.len() as u64,
            median_days: median(&converted),
            km_median_days: curve.as_ref().and_then(KaplanMeier::median),
            curve,
        })
    }
}

/// Successes and trials of step `s` of a group.
fn step_counts(g: &FunnelGroup, s: usize) -> (u64, u64) {
    match s {
        0 => (g.leads, g.contacts),
        1 => (g.opportunities, g.leads),
        _ => (g.orders, g.opportunities),
    }
}
