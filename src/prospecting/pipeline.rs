//! Weighted pipeline: Σ amount × win probability of the open opportunities, by close
//! week, 13-week fiscal quarter, stage, owner, team and product, with cumulative curves.
//!
//! # Weeks and quarters
//!
//! Weeks start on a configurable weekday, by default the weekday of the fiscal-year
//! start. Week 0 is the week that holds the fiscal-year start, and a deal expected to
//! close on day d lies in week w = ⌊(d − s₀) / 7⌋, where s₀ is the first day of week 0
//! (the fiscal-year start itself by default, so that w = ⌊(close − start) / 7⌋). Week w
//! lies in quarter ⌊w / 13⌋: quarters 0 to 3 are the fiscal year's (a 53rd week, w = 52,
//! falls in quarter 4), and the count runs on into later years rather than wrapping, so
//! a deal a year and a half out is in quarter 5, not mixed into this year's quarter 1.
//!
//! # Which deals count
//!
//! Only open deals enter the tables; closed ones (won or lost) are counted in
//! [`Pipeline::closed`]. An open deal whose expected close date is before the `as_of`
//! date is [overdue](Pipeline::overdue): its date is stale, so it is reported apart
//! rather than silently dropped or counted in a past week. An open deal expected to
//! close before the fiscal-year start (and not overdue) is reported in
//! [`Pipeline::before_start`].
//!
//! A deal's probability is its entered probability; a deal without one takes its stage's
//! probability from the stage map ([`PipelineOptions::stage_probabilities`], for example
//! learned win rates from [`Calibration::stage_probabilities`](super::Calibration::stage_probabilities)).
//! [`ProbabilitySource::StageMap`] prefers the map over the entered numbers. A deal
//! with neither is an error naming it, unless
//! [`skip_unpriced`](PipelineOptions::skip_unpriced) counts it in
//! [`Pipeline::unpriced`] instead.
//!
//! # Determinism
//!
//! Deals are classified in parallel (one independent computation per deal, written by
//! index) and summed in the view's order by one thread, so every sum is the same bit for
//! bit for any number of threads.
//!
//! ```
//! use acrm::data::{DealStatus, OpportunityRecord, Opportunities, Scope};
//! use acrm::prospecting::PipelineOptions;
//! use chrono::NaiveDate;
//!
//! let day = |m, d| NaiveDate::from_ymd_opt(2024, m, d).unwrap();
//! let deal = |id: &str, amount, p, close| OpportunityRecord {
//!     id: id.into(), customer: None, owner: Some("ann".into()), stage: "proposal".into(),
//!     amount, probability: Some(p), product: None, created: None, expected_close: close,
//!     status: DealStatus::Open, closed: None, loss_reason: None,
//!     attributes: Default::default(),
//! };
//! let data = Opportunities::new(
//!     [deal("a", 1000.0, 0.5, day(10, 3)), deal("b", 400.0, 0.25, day(10, 20))],
//!     [],
//! )?;
//! let p = PipelineOptions::new(day(10, 1)).compute(&data.view(&Scope::all()))?;
//! assert_eq!(p.total_weighted, 600.0);
//! // Week 0 holds deal a, week 2 (October 15–21) deal b; week 1 is empty.
//! assert_eq!(p.weekly.len(), 3);
//! assert_eq!(p.weekly[1].n, 0);
//! assert_eq!(p.weekly[2].cumulative_weighted, 600.0);
//! # Ok::<(), acrm::Error>(())
//! ```

use std::collections::BTreeMap;

use chrono::{Datelike, NaiveDate, Weekday};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, OpportunityView, ScopeTag};
use crate::error::{Error, Result};
use crate::time::{date_of, day_number};

/// The stage of a quarter's total row in [`Pipeline::quarterly`].
pub const ALL_STAGES: &str = "ALL";

/// Weeks in a quarter of the 13-week calendar.
pub const WEEKS_PER_QUARTER: u32 = 13;

/// Which probability a deal is weighted with when both an entered probability and a
/// stage-map probability exist.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbabilitySource {
    /// The deal's entered probability; the stage map only for deals without one.
    #[default]
    Entered,
    /// The stage map's probability of the deal's stage; the entered one only for stages
    /// the map does not name (for example learned win rates replacing the entered ones).
    StageMap,
}

/// Settings of the weighted pipeline: the fiscal-year start (required), the weekday weeks
/// start on (default: the weekday of the fiscal-year start), the `as_of` date before
/// which open deals are overdue (default: none), a stage map of probabilities (default:
/// empty), the probability source (default [`ProbabilitySource::Entered`]), whether deals
/// without a probability are skipped (default: no, they are an error) and an owner → team
/// map for the team table (default: none).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PipelineOptions {
    fiscal_year_start: NaiveDate,
    week_start: Option<Weekday>,
    as_of: Option<NaiveDate>,
    stage_probabilities: BTreeMap<String, f64>,
    source: ProbabilitySource,
    skip_unpriced: bool,
    teams: Option<BTreeMap<String, String>>,
}

impl PipelineOptions {
    /// A pipeline of the fiscal year starting on `fiscal_year_start`, with the defaults.
    pub fn new(fiscal_year_start: NaiveDate) -> Self {
        PipelineOptions {
            fiscal_year_start,
            week_start: None,
            as_of: None,
            stage_probabilities: BTreeMap::new(),
            source: ProbabilitySource::Entered,
            skip_unpriced: false,
            teams: None,
        }
    }

    /// The weekday weeks start on. Week 0 is then the week holding the fiscal-year
    /// start, beginning on or before it.
    pub fn week_start(mut self, weekday: Weekday) -> Self {
        self.week_start = Some(weekday);
        self
    }

    /// Open deals expected to close before this day are overdue.
    pub fn as_of(mut self, date: NaiveDate) -> Self {
        self.as_of = Some(date);
        self
    }

    /// Win probabilities by stage name (each in [0, 1]), for deals without an entered
    /// probability (or for every deal of a named stage under
    /// [`ProbabilitySource::StageMap`]).
    pub fn stage_probabilities<S: Into<String>>(
        mut self,
        map: impl IntoIterator<Item = (S, f64)>,
    ) -> Self {
        self.stage_probabilities = map.into_iter().map(|(s, p)| (s.into(), p)).collect();
        self
    }

    /// Which probability wins when a deal has both.
    pub fn probability_source(mut self, source: ProbabilitySource) -> Self {
        self.source = source;
        self
    }

    /// Count deals with no probability from any source in [`Pipeline::unpriced`] instead
    /// of failing.
    pub fn skip_unpriced(mut self, yes: bool) -> Self {
        self.skip_unpriced = yes;
        self
    }

    /// The team of each owner, for [`Pipeline::by_team`] (owners not in the map, and
    /// deals without an owner, are in the team `None`).
    pub fn teams<S: Into<String>, T: Into<String>>(
        mut self,
        map: impl IntoIterator<Item = (S, T)>,
    ) -> Self {
        self.teams = Some(map.into_iter().map(|(o, t)| (o.into(), t.into())).collect());
        self
    }

    /// The fiscal-year start.
    pub fn fiscal_year_start(&self) -> NaiveDate {
        self.fiscal_year_start
    }

    /// The weekday weeks start on.
    pub fn week_start_day(&self) -> Weekday {
        self.week_start
            .unwrap_or_else(|| self.fiscal_year_start.weekday())
    }

    /// The first day of week 0.
    pub fn week_zero(&self) -> NaiveDate {
        let back = (self.fiscal_year_start.weekday().num_days_from_monday() + 7
            - self.week_start_day().num_days_from_monday())
            % 7;
        date_of(day_number(self.fiscal_year_start) - back as i32)
    }

    /// The first day of week `week`.
    pub fn week_start_date(&self, week: u32) -> NaiveDate {
        date_of(day_number(self.week_zero()) + 7 * week as i32)
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] `stage_probabilities` for a probability outside [0, 1],
    /// naming the stage.
    pub fn validate(&self) -> Result<()> {
        for (stage, &p) in &self.stage_probabilities {
            if !(0.0..=1.0).contains(&p) {
                return Err(Error::option(
                    "stage_probabilities",
                    format!("{stage}: {p}"),
                    "a probability in [0, 1] for every stage",
                ));
            }
        }
        Ok(())
    }
}

/// Where an open deal falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Closed (won or lost): not in the pipeline.
    Closed,
    /// Open, expected close before `as_of`.
    Overdue,
    /// Open, expected close before the fiscal-year start.
    BeforeStart,
    /// Open without any probability, skipped by option.
    Unpriced,
    /// In the tables, in this week.
    Week(u32),
}

/// One open deal as the pipeline reads it: where it falls and its probability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PricedDeal {
    /// Where the deal falls.
    pub placement: Placement,
    /// Its amount.
    pub amount: f64,
    /// Its win probability (NaN for closed and unpriced deals).
    pub probability: f64,
}

impl PipelineOptions {
    /// Where each deal of `view` falls and the probability it is weighted with,
    /// index-aligned with the view (computed in parallel, written by index).
    ///
    /// # Errors
    /// As [`compute`](Self::compute), except for the scope check.
    pub fn place(&self, view: &OpportunityView<'_>) -> Result<Vec<PricedDeal>> {
        self.validate()?;
        // The stage map by stage index (NaN where the map has nothing).
        let stages = view.stages();
        let map: Vec<f64> = stages
            .iter()
            .map(|s| self.stage_probabilities.get(s).copied().unwrap_or(f64::NAN))
            .collect();
        let zero = day_number(self.week_zero());
        let start = day_number(self.fiscal_year_start);
        let as_of = self.as_of.map(day_number);
        let placed: Vec<PricedDeal> = (0..view.len())
            .into_par_iter()
            .map(|k| {
                let amount = view.amount(k);
                if view.status(k).is_closed() {
                    return PricedDeal {
                        placement: Placement::Closed,
                        amount,
                        probability: f64::NAN,
                    };
                }
                let entered = view.probability(k).unwrap_or(f64::NAN);
                let mapped = map[view.stage(k) as usize];
                let probability = match self.source {
                    ProbabilitySource::Entered if !entered.is_nan() => entered,
                    ProbabilitySource::StageMap if !mapped.is_nan() => mapped,
                    ProbabilitySource::Entered => mapped,
                    ProbabilitySource::StageMap => entered,
                };
                let close = view.expected_close(k);
                let placement = if probability.is_nan() {
                    Placement::Unpriced
                } else if as_of.is_some_and(|a| close < a) {
                    Placement::Overdue
                } else if close < start {
                    Placement::BeforeStart
                } else {
                    Placement::Week(((close - zero) / 7) as u32)
                };
                PricedDeal {
                    placement,
                    amount,
                    probability,
                }
            })
            .collect();
        if !self.skip_unpriced {
            if let Some(k) = placed
                .iter()
                .position(|d| d.placement == Placement::Unpriced)
            {
                return Err(Error::bad_value(
                    "opportunities",
                    k,
                    "probability",
                    view.id(k),
                    format!(
                        "an entered probability or one for stage `{}` in the stage map",
                        stages.name(view.stage(k) as usize)
                    ),
                ));
            }
        }
        Ok(placed)
    }
}

/// Count, amount and weighted amount of a set of deals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Number of deals.
    pub n: u64,
    /// Σ amount.
    pub amount: f64,
    /// Σ amount × probability.
    pub weighted: f64,
}

impl Totals {
    fn add(&mut self, amount: f64, weighted: f64) {
        self.n += 1;
        self.amount += amount;
        self.weighted += weighted;
    }
}

/// One week of the pipeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WeekRow {
    /// The week, from 0.
    pub week: u32,
    /// Its first day.
    pub week_start: NaiveDate,
    /// Open deals expected to close in it.
    pub n: u64,
    /// Their Σ amount.
    pub amount: f64,
    /// Their Σ amount × probability.
    pub weighted: f64,
    /// Σ amount of weeks 0 to this one.
    pub cumulative_amount: f64,
    /// Σ amount × probability of weeks 0 to this one.
    pub cumulative_weighted: f64,
}

/// One stage (or [`ALL_STAGES`]) of one quarter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuarterRow {
    /// The quarter, from 0 (weeks 13q to 13q + 12).
    pub quarter: u32,
    /// Its first day.
    pub quarter_start: NaiveDate,
    /// The stage, or [`ALL_STAGES`] for the quarter's total.
    pub stage: String,
    /// Open deals.
    pub n: u64,
    /// Their Σ amount.
    pub amount: f64,
    /// Their Σ amount × probability.
    pub weighted: f64,
}

/// One member of a grouping (a stage, owner, team or product).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// The member; `None` for deals without one (no owner, no product).
    pub name: Option<String>,
    /// Open deals in the tables.
    pub n: u64,
    /// Their Σ amount.
    pub amount: f64,
    /// Their Σ amount × probability.
    pub weighted: f64,
}

/// Open deals left out of the tables, with their ids.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LeftOut {
    /// Count and sums.
    pub totals: Totals,
    /// The deals' ids, in the view's order.
    pub ids: Vec<String>,
}

/// The weighted pipeline of a view's open deals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pipeline {
    /// The scope of the opportunities.
    pub scope: ScopeTag,
    /// The fiscal-year start.
    pub fiscal_year_start: NaiveDate,
    /// The first day of week 0.
    pub week_zero: NaiveDate,
    /// The `as_of` date, if given.
    pub as_of: Option<NaiveDate>,
    /// Σ amount of the deals in the tables.
    pub total_amount: f64,
    /// Σ amount × probability of the deals in the tables.
    pub total_weighted: f64,
    /// Deals in the tables.
    pub n: u64,
    /// Every week from 0 to the last one with a deal (empty weeks as zeros).
    pub weekly: Vec<WeekRow>,
    /// Per quarter from 0 to the last one with a deal: a row per stage present (stages
    /// in name order), then the quarter's [`ALL_STAGES`] row (also for empty quarters).
    pub quarterly: Vec<QuarterRow>,
    /// Per stage, in name order.
    pub by_stage: Vec<GroupRow>,
    /// Per owner, in name order, deals without an owner last.
    pub by_owner: Vec<GroupRow>,
    /// Per team (owners mapped by [`PipelineOptions::teams`]); `None` without a map:
    /// opportunities carry owners, not teams.
    pub by_team: Option<Vec<GroupRow>>,
    /// Per product, in name order, deals without a product last; `None` when the scope
    /// hides products.
    pub by_product: Option<Vec<GroupRow>>,
    /// Open deals expected to close before `as_of`.
    pub overdue: LeftOut,
    /// Open deals (not overdue) expected to close before the fiscal-year start.
    pub before_start: LeftOut,
    /// Open deals without any probability, skipped by option (weighted 0).
    pub unpriced: LeftOut,
    /// Closed deals (won or lost), not in the pipeline.
    pub closed: u64,
}

impl Pipeline {
    /// The [`ALL_STAGES`] row of quarter `quarter`.
    pub fn quarter(&self, quarter: u32) -> Option<&QuarterRow> {
        self.quarterly
            .iter()
            .find(|r| r.quarter == quarter && r.stage == ALL_STAGES)
    }
}

/// Sums per index of a grouping, then rows in name order with `None` last.
fn group_rows(names: &[Option<&str>], sums: &[Totals]) -> Vec<GroupRow> {
    let mut rows: Vec<GroupRow> = names
        .iter()
        .zip(sums)
        .filter(|(_, t)| t.n > 0)
        .map(|(name, t)| GroupRow {
            name: name.map(str::to_string),
            n: t.n,
            amount: t.amount,
            weighted: t.weighted,
        })
        .collect();
    rows.sort_by(|a, b| match (&a.name, &b.name) {
        (Some(x), Some(y)) => x.cmp(y),
        (a, b) => b.is_some().cmp(&a.is_some()),
    });
    rows
}

impl PipelineOptions {
    /// The weighted pipeline of the open deals of `view`.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids prospecting;
    /// [`Error::InvalidOption`] for a stage probability outside [0, 1];
    /// [`Error::BadValue`] naming the first open deal (its position in the view and its
    /// id) with no probability from any source, unless
    /// [`skip_unpriced`](Self::skip_unpriced).
    pub fn compute(&self, view: &OpportunityView<'_>) -> Result<Pipeline> {
        view.require(Area::Prospecting)?;
        let placed = self.place(view)?;
        let stages = view.stages();
        let owners = view.owners();
        let products = view.products().ok();
        // Team index per owner index (teams numbered in name order), plus one for none.
        let team_names: Vec<&str> = self.teams.as_ref().map_or(Vec::new(), |m| {
            let mut t: Vec<&str> = m.values().map(String::as_str).collect();
            t.sort_unstable();
            t.dedup();
            t
        });
        let team_of_owner: Vec<usize> = owners
            .iter()
            .map(|o| {
                self.teams
                    .as_ref()
                    .and_then(|m| m.get(o))
                    .map_or(team_names.len(), |t| {
                        team_names.partition_point(|x| *x < t.as_str())
                    })
            })
            .collect();
        let mut by_stage = vec![Totals::default(); stages.len()];
        let mut by_owner = vec![Totals::default(); owners.len() + 1];
        let mut by_team = vec![Totals::default(); team_names.len() + 1];
        let mut by_product = vec![Totals::default(); products.map_or(0, |p| p.len()) + 1];
        let mut weekly: Vec<Totals> = Vec::new();
        // Per quarter, per stage.
        let mut quarterly: Vec<Vec<Totals>> = Vec::new();
        // Per quarter over all stages, summed in the view's order like the weeks.
        let mut quarter_all: Vec<Totals> = Vec::new();
        let (mut overdue, mut before_start, mut unpriced) =
            (LeftOut::default(), LeftOut::default(), LeftOut::default());
        let mut closed = 0u64;
        let mut total = Totals::default();
        // One thread, the view's order: the sums do not depend on the pool.
        for (k, d) in placed.iter().enumerate() {
            let weighted = d.amount * d.probability;
            let week = match d.placement {
                Placement::Closed => {
                    closed += 1;
                    continue;
                }
                Placement::Overdue | Placement::BeforeStart | Placement::Unpriced => {
                    let out = match d.placement {
                        Placement::Overdue => &mut overdue,
                        Placement::BeforeStart => &mut before_start,
                        _ => &mut unpriced,
                    };
                    let w = if weighted.is_nan() { 0.0 } else { weighted };
                    out.totals.add(d.amount, w);
                    out.ids.push(view.id(k).to_string());
                    continue;
                }
                Placement::Week(w) => w as usize,
            };
            total.add(d.amount, weighted);
            if weekly.len() <= week {
                weekly.resize(week + 1, Totals::default());
            }
            weekly[week].add(d.amount, weighted);
            let q = week / WEEKS_PER_QUARTER as usize;
            if quarterly.len() <= q {
                quarterly.resize(q + 1, vec![Totals::default(); stages.len()]);
                quarter_all.resize(q + 1, Totals::default());
            }
            quarter_all[q].add(d.amount, weighted);
            let s = view.stage(k) as usize;
            quarterly[q][s].add(d.amount, weighted);
            by_stage[s].add(d.amount, weighted);
            let o = view.owner_index(k).map_or(owners.len(), |o| o as usize);
            by_owner[o].add(d.amount, weighted);
            let t = if o < owners.len() {
                team_of_owner[o]
            } else {
                team_names.len()
            };
            by_team[t].add(d.amount, weighted);
            if let Some(p) = products {
                let i = view
                    .product_index(k)
                    .ok()
                    .flatten()
                    .map_or(p.len(), |i| i as usize);
                by_product[i].add(d.amount, weighted);
            }
        }
        let (mut cum_amount, mut cum_weighted) = (0.0, 0.0);
        let weekly = weekly
            .iter()
            .enumerate()
            .map(|(w, t)| {
                cum_amount += t.amount;
                cum_weighted += t.weighted;
                WeekRow {
                    week: w as u32,
                    week_start: self.week_start_date(w as u32),
                    n: t.n,
                    amount: t.amount,
                    weighted: t.weighted,
                    cumulative_amount: cum_amount,
                    cumulative_weighted: cum_weighted,
                }
            })
            .collect();
        // Stage indices in name order.
        let mut stage_order: Vec<usize> = (0..stages.len()).collect();
        stage_order.sort_by(|&a, &b| stages.name(a).cmp(stages.name(b)));
        let mut quarter_rows = Vec::new();
        for (q, per_stage) in quarterly.iter().enumerate() {
            let q = q as u32;
            let quarter_start = self.week_start_date(q * WEEKS_PER_QUARTER);
            for &s in &stage_order {
                let t = per_stage[s];
                if t.n == 0 {
                    continue;
                }
                quarter_rows.push(QuarterRow {
                    quarter: q,
                    quarter_start,
                    stage: stages.name(s).to_string(),
                    n: t.n,
                    amount: t.amount,
                    weighted: t.weighted,
                });
            }
            let all = quarter_all[q as usize];
            quarter_rows.push(QuarterRow {
                quarter: q,
                quarter_start,
                stage: ALL_STAGES.to_string(),
                n: all.n,
                amount: all.amount,
                weighted: all.weighted,
            });
        }
        let stage_names: Vec<Option<&str>> = stages.iter().map(Some).collect();
        let mut owner_names: Vec<Option<&str>> = owners.iter().map(Some).collect();
        owner_names.push(None);
        let mut team_opt: Vec<Option<&str>> = team_names.iter().copied().map(Some).collect();
        team_opt.push(None);
        Ok(Pipeline {
            scope: view.scope().clone(),
            fiscal_year_start: self.fiscal_year_start,
            week_zero: self.week_zero(),
            as_of: self.as_of,
            total_amount: total.amount,
            total_weighted: total.weighted,
            n: total.n,
            weekly,
            quarterly: quarter_rows,
            by_stage: group_rows(&stage_names, &by_stage),
            by_owner: group_rows(&owner_names, &by_owner),
            by_team: self.teams.as_ref().map(|_| group_rows(&team_opt, &by_team)),
            by_product: products.map(|p| {
                let mut names: Vec<Option<&str>> = p.iter().map(Some).collect();
                names.push(None);
                group_rows(&names, &by_product)
            }),
            overdue,
            before_start,
            unpriced,
            closed,
        })
    }
}
