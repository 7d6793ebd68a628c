//! Win/loss and the sales cycle: which deals are won, why the others are lost, how long
//! deals spend in each stage and from creation to close, and how often their close dates
//! slip.
//!
//! # What is computed
//!
//! - **Win rate** per group (a segment attribute, the owner, the product or an amount
//!   band) and over all deals: won / closed (won + lost; open deals do not count) with
//!   its Wilson score interval ([`wilson`]); Pearson's χ² test that the win rate is the
//!   same in every group (groups × {won, lost}, no continuity correction,
//!   [`chi2_independence`]); and each group against the rest, the pooled two-proportion
//!   z-test ([`two_proportion_z`]).
//! - **Loss reasons**: counts and shares among the lost deals (a lost deal without a
//!   reason counts under `(none)`).
//! - **Time in each stage**, from the stage histories: a stay in a stage lasts from the
//!   day it was entered to the day the next stage was entered, or, for the last stage of
//!   a closed deal, to the close. The last stage of an open deal is still running and
//!   left out, and so is a last stage entered on the close day (the closing stage
//!   itself). Mean and median days per stage.
//! - **Cycle length**: days from creation to close, with a Kaplan–Meier curve in which
//!   open deals are censored at the as-of date, and its median (per group too). Deals
//!   without a creation date are left out.
//! - **Slippage**: per deal, the sequence of expected close dates it was given (those of
//!   its history, in order, then its current one) and, for a closed deal, its close
//!   date. Each step to a later date is a push; a deal has slipped when it was pushed at
//!   least once. Reported: per deal its pushes and days pushed (the sum of the steps to
//!   later dates; pull-ins do not offset them), and over the deals the share slipped,
//!   the mean pushes per deal, and the mean and median days pushed of the slipped deals.
//!
//! ```
//! use acrm::data::{DealStatus, Opportunities, OpportunityRecord, Scope, StageRecord};
//! use acrm::prospecting::{WinLossGrouping, WinLossOptions};
//! use chrono::NaiveDate;
//!
//! let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
//! let deal = |id: &str, status, closed, reason: Option<&str>| OpportunityRecord {
//!     id: id.into(),
//!     customer: None,
//!     owner: Some("ann".into()),
//!     stage: "proposal".into(),
//!     amount: 1000.0,
//!     probability: None,
//!     product: None,
//!     created: Some(d(1, 1)),
//!     expected_close: d(3, 1),
//!     status,
//!     closed,
//!     loss_reason: reason.map(String::from),
//!     attributes: Default::default(),
//! };
//! let deals = Opportunities::new(
//!     vec![
//!         deal("a", DealStatus::Won, Some(d(3, 11)), None),
//!         deal("b", DealStatus::Lost, Some(d(2, 1)), Some("price")),
//!         deal("c", DealStatus::Open, None, None),
//!     ],
//!     vec![StageRecord {
//!         opportunity: "a".into(),
//!         stage: "proposal".into(),
//!         entered: d(1, 1),
//!         expected_close: Some(d(2, 20)),
//!     }],
//! )?;
//! let wl = WinLossOptions::new()
//!     .by(WinLossGrouping::Owner)
//!     .as_of(d(6, 30))
//!     .compute(&deals.view(&Scope::all()))?;
//! assert_eq!(wl.total.won, 1);
//! assert_eq!(wl.total.win_rate.rate, 0.5);
//! assert_eq!(wl.loss_reasons[0].reason, "price");
//! // Deal a: expected 20 Feb, then 1 Mar, closed 11 Mar: two pushes, 20 days.
//! let a = wl.slippage.per_deal.iter().find(|s| s.id == "a").unwrap();
//! assert_eq!((a.pushes, a.days_pushed), (2, 20));
//! # Ok::<(), acrm::Error>(())
//! ```

use chrono::NaiveDate;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, DealStatus, OpportunityView, ScopeTag};
use crate::error::{Error, Result};
use crate::numerics::survival::{KaplanMeier, KaplanMeierOptions, SurvivalData};
use crate::numerics::{
    chi2_independence, median, two_proportion_z, wilson, ChiSquare, Proportion, ZTest,
};
use crate::time::{date_of, day_number};

/// The label of deals without a value for the grouping, and of lost deals without a
/// reason.
pub const NONE_LABEL: &str = "(none)";

/// Label of the total over every deal.
pub const ALL: &str = "ALL";

/// What the win rates are broken down by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WinLossGrouping {
    /// A named attribute of the deals (`segment`, `region`, `source`, ...).
    Attribute(String),
    /// The deal's owner.
    Owner,
    /// The deal's product.
    Product,
    /// Amount bands with these ascending edges e₁ < … < e_k: `< e₁`, `[e₁, e₂)`, …,
    /// `≥ e_k`.
    AmountBands(Vec<f64>),
}

/// Settings of win/loss: the grouping (default by owner), the confidence level (default
/// 0.95) and the as-of date at which open deals are censored (default: the latest
/// creation, stage or close date in the view).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinLossOptions {
    by: WinLossGrouping,
    confidence: f64,
    as_of: Option<NaiveDate>,
}

impl Default for WinLossOptions {
    fn default() -> Self {
        WinLossOptions {
            by: WinLossGrouping::Owner,
            confidence: 0.95,
            as_of: None,
        }
    }
}

/// The win rate of one group (or of every deal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinGroup {
    /// The group's label (`ALL` for the total).
    pub group: String,
    /// Deals.
    pub deals: u64,
    /// Open deals.
    pub open: u64,
    /// Won deals.
    pub won: u64,
    /// Lost deals.
    pub lost: u64,
    /// Won / (won + lost), with its Wilson interval.
    pub win_rate: Proportion,
    /// The pooled two-proportion z-test of this group's win rate against the other
    /// groups' (`None` for the total, or when either side has no closed deal or the test
    /// has no variance).
    pub vs_rest: Option<ZTest>,
    /// Kaplan–Meier median days from creation to close (open deals censored; `None`
    /// when the curve stays above ½ or no deal has a creation date).
    pub median_cycle_days: Option<f64>,
}

/// One loss reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossReason {
    /// The reason.
    pub reason: String,
    /// Lost deals giving it.
    pub count: u64,
    /// Its share of the lost deals.
    pub share: f64,
}

/// Time spent in one stage, in days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageDuration {
    /// The stage.
    pub stage: String,
    /// Completed stays in the stage.
    pub stays: u64,
    /// Mean days of a stay.
    pub mean_days: f64,
    /// Median days of a stay.
    pub median_days: f64,
}

/// Days from creation to close.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cycle {
    /// Deals with a creation date (the curve's subjects).
    pub deals: u64,
    /// Of them, closed.
    pub closed: u64,
    /// Kaplan–Meier median (`None` when the curve stays above ½).
    pub median_days: Option<f64>,
    /// Mean days of the closed deals (`None` without any).
    pub mean_closed_days: Option<f64>,
    /// The curve of "still open", open deals censored at the as-of date (`None` without
    /// subjects).
    pub curve: Option<KaplanMeier>,
}

/// One deal's slippage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DealSlippage {
    /// The deal's id.
    pub id: String,
    /// How often its (expected) close date moved later.
    pub pushes: u32,
    /// Days pushed in total.
    pub days_pushed: i64,
}

/// Slippage of close dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slippage {
    /// Deals.
    pub deals: u64,
    /// Deals pushed at least once.
    pub slipped: u64,
    /// slipped / deals.
    pub share_slipped: f64,
    /// Mean pushes per deal.
    pub mean_pushes: f64,
    /// Mean days pushed of the slipped deals (`None` without any).
    pub mean_days_pushed: Option<f64>,
    /// Median days pushed of the slipped deals (`None` without any).
    pub median_days_pushed: Option<f64>,
    /// Every deal, in view order.
    pub per_deal: Vec<DealSlippage>,
}

/// The χ² test of equal win rates across the groups.
pub type WinTest = ChiSquare;

/// Win/loss and sales-cycle tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WinLoss {
    /// The scope of the deals.
    pub scope: ScopeTag,
    /// The grouping.
    pub by: WinLossGrouping,
    /// Confidence level of the intervals.
    pub confidence: f64,
    /// The date open deals are censored at (`None` when the view holds no date).
    pub as_of: Option<NaiveDate>,
    /// Win rate per group: labels ascending, amount bands in band order.
    pub groups: Vec<WinGroup>,
    /// Over every deal.
    pub total: WinGroup,
    /// χ² test of equal win rates across groups (`None` when fewer than two groups have
    /// closed deals or every closed deal was won, or every one lost).
    pub test: Option<WinTest>,
    /// Loss reasons, most frequent first (ties by name).
    pub loss_reasons: Vec<LossReason>,
    /// Time in each stage, stages in order of first appearance.
    pub stages: Vec<StageDuration>,
    /// Creation to close.
    pub cycle: Cycle,
    /// Close dates pushed out.
    pub slippage: Slippage,
}

impl WinLoss {
    /// The win rate of the group labelled `label`.
    pub fn group(&self, label: &str) -> Option<&WinGroup> {
        self.groups.iter().find(|g| g.group == label)
    }
}

/// Per deal, what the tables need.
#[derive(Clone, Copy)]
struct Row {
    group: u32,
    status: DealStatus,
    created: Option<i32>,
    closed: Option<i32>,
}

impl WinLossOptions {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The grouping.
    pub fn by(mut self, by: WinLossGrouping) -> Self {
        self.by = by;
        self
    }

    /// Confidence level of the Wilson and Kaplan–Meier intervals, in (0, 1).
    pub fn confidence(mut self, level: f64) -> Self {
        self.confidence = level;
        self
    }

    /// The date open deals are censored at; on or after every creation, stage and close
    /// date in the view.
    pub fn as_of(mut self, date: NaiveDate) -> Self {
        self.as_of = Some(date);
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a confidence level outside (0, 1), or amount band
    /// edges that are none, not finite or not strictly ascending.
    pub fn validate(&self) -> Result<()> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::option(
                "confidence",
                self.confidence,
                "a level in (0, 1)",
            ));
        }
        if let WinLossGrouping::AmountBands(edges) = &self.by {
            let ok = !edges.is_empty()
                && edges.iter().all(|e| e.is_finite())
                && edges.windows(2).all(|w| w[0] < w[1]);
            if !ok {
                return Err(Error::option(
                    "by",
                    format!("{edges:?}"),
                    "at least one finite amount band edge, strictly ascending",
                ));
            }
        }
        Ok(())
    }

    /// Win/loss and the sales cycle of the deals in `view`.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::ForbiddenArea`] when the scope forbids
    /// prospecting; [`Error::HiddenColumn`] grouping by a product the scope hides;
    /// [`Error::InvalidOption`] `as_of` for a date before a creation, stage or close date
    /// in the view; [`Error::EmptyInput`] for an empty view.
    pub fn compute(&self, view: &OpportunityView<'_>) -> Result<WinLoss> {
        self.validate()?;
        view.require(Area::Prospecting)?;
        if view.is_empty() {
            return Err(Error::EmptyInput);
        }
        let (labels, group) = self.groups(view)?;
        let rows: Vec<Row> = (0..view.len())
            .into_par_iter()
            .map(|k| Row {
                group: group[k],
                status: view.status(k),
                created: view.created(k),
                closed: view.closed(k),
            })
            .collect();
        let latest = (0..view.len())
            .into_par_iter()
            .filter_map(|k| {
                let h = view.history(k).last().map(|e| e.day);
                [view.created(k), view.closed(k), h]
                    .into_iter()
                    .flatten()
                    .max()
            })
            .max();
        let as_of = match (self.as_of, latest) {
            (Some(a), Some(l)) if day_number(a) < l => {
                return Err(Error::option(
                    "as_of",
                    a,
                    format!(
                        "a date on or after every creation, stage and close date in the \
                         view (the latest is {})",
                        date_of(l)
                    ),
                ))
            }
            (Some(a), _) => Some(day_number(a)),
            (None, l) => l,
        };

        // Win rates.
        let mut counts = vec![[0u64; 3]; labels.len()];
        for r in &rows {
            counts[r.group as usize][status_slot(r.status)] += 1;
        }
        let all: [u64; 3] = (0..3)
            .map(|j| counts.iter().map(|c| c[j]).sum())
            .collect::<Vec<u64>>()
            .try_into()
            .unwrap_or([0; 3]);
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); labels.len()];
        for (i, r) in rows.iter().enumerate() {
            members[r.group as usize].push(i as u32);
        }
        let per_group = || {
            labels
                .par_iter()
                .enumerate()
                .map(|(g, label)| {
                    let [open, won, lost] = counts[g];
                    let (rest_won, rest_closed) = (all[1] - won, all[1] + all[2] - won - lost);
                    let vs_rest =
                        two_proportion_z(won, won + lost, rest_won, rest_closed, true).ok();
                    let cycle =
                        self.cycle(members[g].iter().map(|&i| &rows[i as usize]), as_of, view)?;
                    Ok(WinGroup {
                        group: label.clone(),
                        deals: open + won + lost,
                        open,
                        won,
                        lost,
                        win_rate: wilson(won, won + lost, self.confidence)?,
                        vs_rest,
                        median_cycle_days: cycle.median_days,
                    })
                })
                .collect::<Result<Vec<_>>>()
        };
        // Independent parts side by side: the groups' curves, the total's, and the
        // per-deal tables.
        let ((groups, cycle), (loss_reasons, (stages, slippage))) = rayon::join(
            || rayon::join(per_group, || self.cycle(rows.iter(), as_of, view)),
            || {
                rayon::join(
                    || loss_reasons(view),
                    || rayon::join(|| stage_durations(view), || slippage(view)),
                )
            },
        );
        let (groups, cycle) = (groups?, cycle?);
        let total = WinGroup {
            group: ALL.to_string(),
            deals: all.iter().sum(),
            open: all[0],
            won: all[1],
            lost: all[2],
            win_rate: wilson(all[1], all[1] + all[2], self.confidence)?,
            vs_rest: None,
            median_cycle_days: cycle.median_days,
        };
        let table: Vec<Vec<u64>> = counts.iter().map(|c| vec![c[1], c[2]]).collect();
        let test = match chi2_independence(&table, false) {
            Ok(t) => Some(t),
            Err(Error::Degenerate { .. }) => None,
            Err(e) => return Err(e),
        };

        Ok(WinLoss {
            scope: view.scope().clone(),
            by: self.by.clone(),
            confidence: self.confidence,
            as_of: as_of.map(date_of),
            groups,
            total,
            test,
            loss_reasons,
            stages,
            cycle,
            slippage,
        })
    }

    /// The group labels and each deal's group.
    fn groups(&self, view: &OpportunityView<'_>) -> Result<(Vec<String>, Vec<u32>)> {
        if let WinLossGrouping::AmountBands(edges) = &self.by {
            let mut labels = Vec::with_capacity(edges.len() + 1);
            labels.push(format!("< {}", edges[0]));
            for w in edges.windows(2) {
                labels.push(format!("[{}, {})", w[0], w[1]));
            }
            labels.push(format!("≥ {}", edges[edges.len() - 1]));
            let group = (0..view.len())
                .into_par_iter()
                .map(|k| edges.partition_point(|e| *e <= view.amount(k)) as u32)
                .collect();
            return Ok((labels, group));
        }
        let products = match self.by {
            WinLossGrouping::Product => Some(view.products()?),
            _ => None,
        };
        let mut value: Vec<&str> = Vec::with_capacity(view.len());
        for k in 0..view.len() {
            let v = match &self.by {
                WinLossGrouping::Attribute(name) => view.attribute(k, name),
                WinLossGrouping::Owner => view.owner(k),
                WinLossGrouping::Product => match (view.product_index(k)?, products) {
                    (Some(p), Some(names)) => Some(names.name(p as usize)),
                    _ => None,
                },
                WinLossGrouping::AmountBands(_) => None,
            };
            value.push(v.unwrap_or(NONE_LABEL));
        }
        let mut labels = value.clone();
        labels.par_sort_unstable();
        labels.dedup();
        let group = value
            .par_iter()
            .map(|v| labels.partition_point(|l| l < v) as u32)
            .collect();
        Ok((labels.into_iter().map(str::to_string).collect(), group))
    }

    /// Creation to close of `rows`, open deals censored at `as_of`.
    fn cycle<'r>(
        &self,
        rows: impl Iterator<Item = &'r Row>,
        as_of: Option<i32>,
        view: &OpportunityView<'_>,
    ) -> Result<Cycle> {
        let (mut durations, mut events) = (Vec::new(), Vec::new());
        for r in rows {
            let Some(c) = r.created else { continue };
            match (r.closed, as_of) {
                (Some(d), _) => {
                    durations.push(f64::from(d - c));
                    events.push(true);
                }
                (None, Some(a)) => {
                    durations.push(f64::from(a - c));
                    events.push(false);
                }
                (None, None) => {}
            }
        }
        let closed: Vec<f64> = durations
            .iter()
            .zip(&events)
            .filter(|(_, e)| **e)
            .map(|(d, _)| *d)
            .collect();
        let curve = if durations.is_empty() {
            None
        } else {
            let mut km = KaplanMeierOptions::new()
                .confidence(self.confidence)
                .compute(&SurvivalData::new(durations.clone(), events)?)?;
            km.scope = view.scope().clone();
            Some(km)
        };
        Ok(Cycle {
            deals: durations.len() as u64,
            closed: closed.len() as u64,
            median_days: curve.as_ref().and_then(KaplanMeier::median),
            mean_closed_days: (!closed.is_empty())
                .then(|| closed.iter().sum::<f64>() / closed.len() as f64),
            curve,
        })
    }
}

/// Open, won, lost as 0, 1, 2.
fn status_slot(s: DealStatus) -> usize {
    match s {
        DealStatus::Open => 0,
        DealStatus::Won => 1,
        DealStatus::Lost => 2,
    }
}

fn loss_reasons(view: &OpportunityView<'_>) -> Vec<LossReason> {
    let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
    let mut lost = 0u64;
    for k in 0..view.len() {
        if view.status(k) == DealStatus::Lost {
            lost += 1;
            *counts
                .entry(view.loss_reason(k).unwrap_or(NONE_LABEL))
                .or_default() += 1;
        }
    }
    let mut out: Vec<LossReason> = counts
        .into_iter()
        .map(|(reason, count)| LossReason {
            reason: reason.to_string(),
            count,
            share: count as f64 / lost as f64,
        })
        .collect();
    // Stable: ties keep the name order of the map.
    out.sort_by_key(|r| std::cmp::Reverse(r.count));
    out
}

fn stage_durations(view: &OpportunityView<'_>) -> Vec<StageDuration> {
    let names = view.stages();
    let mut stays: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for k in 0..view.len() {
        let h = view.history(k);
        for (i, e) in h.iter().enumerate() {
            let end = match h.get(i + 1) {
                Some(next) => Some(next.day),
                // The last stage of a closed deal runs to the close, unless it was
                // entered that day (the closing stage itself).
                None => view.closed(k).filter(|&c| c > e.day),
            };
            if let Some(end) = end {
                stays[e.stage as usize].push(f64::from(end - e.day));
            }
        }
    }
    stays
        .into_iter()
        .enumerate()
        .filter(|(_, v)| !v.is_empty())
        .map(|(s, v)| StageDuration {
            stage: names.name(s).to_string(),
            stays: v.len() as u64,
            mean_days: v.iter().sum::<f64>() / v.len() as f64,
            median_days: median(&v).unwrap_or(f64::NAN),
        })
        .collect()
}

/// Pushes and days pushed of deal `k`.
fn deal_slippage(view: &OpportunityView<'_>, k: usize) -> (u32, i64) {
    let dates = view
        .history(k)
        .iter()
        .filter_map(|e| e.expected_close)
        .chain(std::iter::once(view.expected_close(k)))
        .chain(view.closed(k));
    let (mut pushes, mut days, mut last) = (0u32, 0i64, None::<i32>);
    for d in dates {
        if let Some(l) = last {
            if d > l {
                pushes += 1;
                days += i64::from(d - l);
            }
        }
        last = Some(d);
    }
    (pushes, days)
}

fn slippage(view: &OpportunityView<'_>) -> Slippage {
    let deals: Vec<DealSlippage> = (0..view.len())
        .into_par_iter()
        .map(|k| {
            let (pushes, days_pushed) = deal_slippage(view, k);
            DealSlippage {
                id: view.id(k).to_string(),
                pushes,
                days_pushed,
            }
        })
        .collect();
    let slipped: Vec<f64> = deals
        .iter()
        .filter(|d| d.pushes > 0)
        .map(|d| d.days_pushed as f64)
        .collect();
    let n = deals.len() as f64;
    Slippage {
        deals: deals.len() as u64,
        slipped: slipped.len() as u64,
        share_slipped: slipped.len() as f64 / n,
        mean_pushes: deals.iter().map(|d| f64::from(d.pushes)).sum::<f64>() / n,
        mean_days_pushed: (!slipped.is_empty())
            .then(|| slipped.iter().sum::<f64>() / slipped.len() as f64),
        median_days_pushed: median(&slipped),
        per_deal: deals,
    }
}
