//! Rep performance: per owner (and per team, branch or any unit the caller maps owners
//! to) and period, revenue, margin, customers won, kept and lost, attainment against a
//! target and rank.
//!
//! A customer counts for their owner as of the view's scope date (the latest assignment
//! without one), as the cube's [`Dim::Owner`] does, so every period of a row is the same
//! book of customers. A customer is *active* in a period when they made a purchase there
//! ([`is_purchase`]: a line with a non-negative amount); with `p − 1` the period listed
//! before `p`:
//!
//! ```text
//! new        first purchase ever (in the whole history) in p
//! retained   active in p − 1 and in p
//! churned    active in p − 1, not in p
//! returning  active in p, not new, not active in p − 1
//! active(p)     = new + retained + returning
//! active(p − 1) = retained + churned
//! ```
//!
//! The first period has no previous one: its `retained` and `churned` are `None` and its
//! returning customers are the active ones that are not new. Revenue and margin are the
//! cube's (net of returns; margin when the view shows costs).

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::cube::{CubeOptions, Dim, GroupingSets, Window};
use crate::data::{is_purchase, Area, Column, Money, ScopeTag, View};
use crate::error::{Error, Result};
use crate::time::day_number;

/// Whether the view shows costs and margins (then cubes sum them).
pub(super) fn costs_visible(view: &View<'_>) -> bool {
    view.costs().is_ok() && view.need(Column::Margin).is_ok()
}

/// A revenue target of one owner in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepTarget {
    /// The owner.
    pub owner: String,
    /// The period's label (one of the options' windows).
    pub period: String,
    /// Planned revenue.
    pub revenue: Money,
}

impl RepTarget {
    /// A target of `revenue` for `owner` in `period`.
    pub fn new(owner: impl Into<String>, period: impl Into<String>, revenue: Money) -> Self {
        RepTarget {
            owner: owner.into(),
            period: period.into(),
            revenue,
        }
    }
}

/// The figures of one owner (or unit) in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepFigures {
    /// Revenue, net of returns.
    pub revenue: Money,
    /// Margin (`None` when the view shows no costs).
    pub margin: Option<Money>,
    /// Customers with a purchase in the period.
    pub active: u64,
    /// Customers whose first purchase ever is in the period.
    pub new: u64,
    /// Active in the previous period and this one (`None` in the first period).
    pub retained: Option<u64>,
    /// Active in the previous period, not in this one (`None` in the first period).
    pub churned: Option<u64>,
    /// Active, not new, not active in the previous period.
    pub returning: u64,
    /// The revenue target (`None` without one).
    pub target: Option<Money>,
    /// `revenue / target` (`None` without a target or when it is 0).
    pub attainment: Option<f64>,
}

/// One owner in one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepRow {
    /// The owner (`None`: the view's customers without one).
    pub owner: Option<String>,
    /// The owner's unit, when the options map owners to units.
    pub unit: Option<String>,
    /// The period's label.
    pub period: String,
    /// The figures.
    pub figures: RepFigures,
    /// Rank by revenue among the owners of the same unit in the period (all owners
    /// without units): 1 = best, equal revenues share a rank (1, 2, 2, 4). `None` for
    /// the customers without an owner.
    pub rank: Option<u32>,
}

/// One unit in one period: its owners' figures summed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UnitRow {
    /// The unit (`None`: owners the map does not place).
    pub unit: Option<String>,
    /// The period's label.
    pub period: String,
    /// Owners in the unit with customers in the view.
    pub owners: usize,
    /// The owners' figures summed (the target: of the owners that have one, `None` when
    /// none has).
    pub figures: RepFigures,
}

/// Rep performance ([`RepOptions::compute`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepPerformance {
    /// The periods' labels, in order.
    pub periods: Vec<String>,
    /// The units' name (`team`, `branch`, ...), when owners were mapped to units.
    pub unit_name: Option<String>,
    /// Per owner (sorted, the customers without an owner last), per period.
    pub owners: Vec<RepRow>,
    /// Per unit (sorted, unplaced owners last), per period; empty without units.
    pub units: Vec<UnitRow>,
    /// The scope the figures were computed under.
    pub scope: ScopeTag,
}

/// How to measure reps.
///
/// Defaults: no units (ranks over all owners), no targets.
///
/// ```
/// use acrm::data::{Dataset, Money, OwnershipRecord, Scope, TransactionRecord};
/// use acrm::performance::{RepOptions, RepTarget, Window};
/// use chrono::NaiveDate;
/// let d = |y, m| NaiveDate::from_ymd_opt(y, m, 1).unwrap();
/// let mut b = Dataset::builder();
/// b.extend([
///     TransactionRecord::new("a", d(2023, 3), 50.0),
///     TransactionRecord::new("a", d(2024, 3), 70.0),
///     TransactionRecord::new("b", d(2023, 4), 20.0),
///     TransactionRecord::new("c", d(2024, 5), 90.0),
/// ])?;
/// let mut data = b.build()?.dataset;
/// data.assign_owners(["a", "b", "c"].map(|c| OwnershipRecord::new(c, "sam")))?;
/// let reps = RepOptions::new([Window::year(2023), Window::year(2024)])
///     .targets([RepTarget::new("sam", "2024", Money::from_cents(20_000))])
///     .compute(&data.view(&Scope::all()))?;
/// let y24 = &reps.owners[1].figures;
/// assert_eq!((y24.active, y24.new, y24.retained, y24.churned), (2, 1, Some(1), Some(1)));
/// assert_eq!(y24.revenue, Money::from_cents(16_000));
/// assert_eq!(y24.attainment, Some(0.8));
/// assert_eq!(reps.owners[1].rank, Some(1));
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepOptions {
    periods: Vec<Window>,
    unit_name: Option<String>,
    units: Vec<(String, String)>,
    targets: Vec<RepTarget>,
}

impl RepOptions {
    /// Figures per period of `periods` (in time order, not overlapping).
    pub fn new(periods: impl IntoIterator<Item = Window>) -> Self {
        RepOptions {
            periods: periods.into_iter().collect(),
            unit_name: None,
            units: Vec::new(),
            targets: Vec::new(),
        }
    }

    /// Owners' units (teams, branches, ...): `name` names the level, `map` gives each
    /// owner's unit. Owners it does not list form a unit of their own (`None`).
    pub fn units<S: Into<String>, T: Into<String>>(
        mut self,
        name: impl Into<String>,
        map: impl IntoIterator<Item = (S, T)>,
    ) -> Self {
        self.unit_name = Some(name.into());
        self.units = map.into_iter().map(|(o, u)| (o.into(), u.into())).collect();
        self
    }

    /// Revenue targets per owner and period. Targets of owners without customers in
    /// the view are not reported.
    pub fn targets(mut self, targets: impl IntoIterator<Item = RepTarget>) -> Self {
        self.targets = targets.into_iter().collect();
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`]: `periods` empty, out of time order, overlapping or
    /// sharing a label, or a window ending before it starts; `units` for an owner placed
    /// in two units; `targets` for a period that is not one of the windows, or an owner
    /// and period given twice.
    pub fn validate(&self) -> Result<()> {
        CubeOptions::new()
            .dims([Dim::Windows(self.periods.clone())])
            .validate()?;
        if let Some(w) = self.periods.windows(2).find(|w| w[0].from > w[1].from) {
            return Err(Error::option(
                "periods",
                format!("{} before {}", w[0].label, w[1].label),
                "windows in time order",
            ));
        }
        let mut map: BTreeMap<&str, &str> = BTreeMap::new();
        for (o, u) in &self.units {
            if let Some(prev) = map.insert(o, u) {
                if prev != u {
                    return Err(Error::option(
                        "units",
                        format!("{o} in {prev} and {u}"),
                        "each owner in one unit",
                    ));
                }
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.targets {
            if !self.periods.iter().any(|w| w.label == t.period) {
                return Err(Error::option(
                    "targets",
                    &t.period,
                    "the label of one of the periods",
                ));
            }
            if !seen.insert((&t.owner, &t.period)) {
                return Err(Error::option(
                    "targets",
                    format!("{} in {}", t.owner, t.period),
                    "one target per owner and period",
                ));
            }
        }
        Ok(())
    }

    /// Figures per owner (and unit) and period.
    ///
    /// # Errors
    /// As [`validate`](Self::validate) and [`CubeOptions::compute`].
    pub fn compute(&self, view: &View<'_>) -> Result<RepPerformance> {
        self.validate()?;
        view.require(Area::Performance)?;
        let costs = costs_visible(view);
        let np = self.periods.len();
        let cube = CubeOptions::new()
            .dims([Dim::Owner, Dim::Windows(self.periods.clone())])
            .sets(GroupingSets::Finest)
            .costs(costs)
            .compute(view)?;
        // Owners of the view's customers, sorted (the cube's members), then "no owner".
        let owners: Vec<String> = cube.members[0].clone();
        let no = owners.len();
        let mut money = vec![(Money::ZERO, Money::ZERO); (no + 1) * np];
        for c in &cube.cells {
            let (o, Some(p)) = (c.key[0], c.key[1]) else {
                continue;
            };
            let o = o.map_or(no, |o| o as usize);
            money[o * np + p as usize] = (c.revenue, c.margin.unwrap_or(Money::ZERO));
        }
        let counts = self.flows(view, &owners);
        let unowned = (0..view.len()).any(|k| view.owner(k).is_none());
        let units: BTreeMap<&str, &str> = self
            .units
            .iter()
            .map(|(o, u)| (o.as_str(), u.as_str()))
            .collect();
        let target = |o: &str, p: &str| {
            self.targets
                .iter()
                .find(|t| t.owner == o && t.period == p)
                .map(|t| t.revenue)
        };
        let mut rows = Vec::new();
        for o in 0..=no {
            if o == no && !unowned {
                continue;
            }
            let owner = owners.get(o).cloned();
            for (p, w) in self.periods.iter().enumerate() {
                let (revenue, margin) = money[o * np + p];
                let f = counts[o * np + p];
                let t = owner.as_deref().and_then(|o| target(o, &w.label));
                rows.push(RepRow {
                    unit: owner
                        .as_deref()
                        .and_then(|o| units.get(o).map(|u| u.to_string())),
                    owner: owner.clone(),
                    period: w.label.clone(),
                    figures: RepFigures {
                        revenue,
                        margin: costs.then_some(margin),
                        active: f.active,
                        new: f.new,
                        retained: (p > 0).then_some(f.retained),
                        churned: (p > 0).then_some(f.churned),
                        returning: f.active - f.new - f.retained,
                        target: t,
                        attainment: t.and_then(|t| ratio(revenue, t)),
                    },
                    rank: None,
                });
            }
        }
        // Competition ranking within (unit, period); equal revenues share a rank.
        let mut peers: BTreeMap<(Option<&str>, &str), Vec<Money>> = BTreeMap::new();
        for r in rows.iter().filter(|r| r.owner.is_some()) {
            peers
                .entry((r.unit.as_deref(), r.period.as_str()))
                .or_default()
                .push(r.figures.revenue);
        }
        for v in peers.values_mut() {
            v.sort_unstable_by(|a, b| b.cmp(a));
        }
        let ranks: Vec<Option<u32>> = rows
            .iter()
            .map(|r| {
                r.owner.as_ref()?;
                let v = peers.get(&(r.unit.as_deref(), r.period.as_str()))?;
                let above = v.partition_point(|&x| x > r.figures.revenue);
                Some(above as u32 + 1)
            })
            .collect();
        for (r, k) in rows.iter_mut().zip(ranks) {
            r.rank = k;
        }
        let unit_rows = if self.unit_name.is_some() {
            self.unit_rows(&rows, costs)?
        } else {
            Vec::new()
        };
        Ok(RepPerformance {
            periods: self.periods.iter().map(|w| w.label.clone()).collect(),
            unit_name: self.unit_name.clone(),
            owners: rows,
            units: unit_rows,
            scope: view.scope().clone(),
        })
    }

    /// Owner rows summed per unit and period (customers without an owner left out).
    fn unit_rows(&self, rows: &[RepRow], costs: bool) -> Result<Vec<UnitRow>> {
        let mut names: Vec<Option<&String>> = rows
            .iter()
            .filter(|r| r.owner.is_some())
            .map(|r| r.unit.as_ref())
            .collect();
        // Sorted, `None` last.
        names.sort_by(|a, b| match (a, b) {
            (None, None) => std::cmp::Ordering::Equal,
            (None, _) => std::cmp::Ordering::Greater,
            (_, None) => std::cmp::Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        });
        names.dedup();
        let add = |a: Money, b: Money| {
            a.checked_add(b).ok_or_else(|| {
                Error::bad_value(
                    "transactions",
                    0,
                    "amount",
                    "a unit's sum beyond ±9.2 × 10¹⁶ cents",
                    "sums of money that fit in 64-bit cents",
                )
            })
        };
        let mut out = Vec::new();
        for unit in names {
            for (p, w) in self.periods.iter().enumerate() {
                let members: Vec<&RepRow> = rows
                    .iter()
                    .filter(|r| r.owner.is_some() && r.unit.as_ref() == unit && r.period == w.label)
                    .collect();
                let mut f = RepFigures {
                    revenue: Money::ZERO,
                    margin: costs.then_some(Money::ZERO),
                    active: 0,
                    new: 0,
                    retained: (p > 0).then_some(0),
                    churned: (p > 0).then_some(0),
                    returning: 0,
                    target: None,
                    attainment: None,
                };
                for r in &members {
                    let g = &r.figures;
                    f.revenue = add(f.revenue, g.revenue)?;
                    if let (Some(a), Some(b)) = (f.margin, g.margin) {
                        f.margin = Some(add(a, b)?);
                    }
                    f.active += g.active;
                    f.new += g.new;
                    f.retained = f.retained.zip(g.retained).map(|(a, b)| a + b);
                    f.churned = f.churned.zip(g.churned).map(|(a, b)| a + b);
                    f.returning += g.returning;
                    if let Some(t) = g.target {
                        f.target = Some(add(f.target.unwrap_or(Money::ZERO), t)?);
                    }
                }
                f.attainment = f.target.and_then(|t| ratio(f.revenue, t));
                out.push(UnitRow {
                    unit: unit.cloned(),
                    period: w.label.clone(),
                    owners: members.len(),
                    figures: f,
                });
            }
        }
        Ok(out)
    }

    /// Active, new, retained and churned customers per owner (index in `owners`, the
    /// last for none) and period: one parallel pass over the view's customers.
    fn flows(&self, view: &View<'_>, owners: &[String]) -> Vec<Flow> {
        let np = self.periods.len();
        let cells = (owners.len() + 1) * np;
        let bounds: Vec<(i32, i32)> = self
            .periods
            .iter()
            .map(|w| (day_number(w.from), day_number(w.until)))
            .collect();
        // The period holding `day` (windows are sorted and disjoint).
        let period = |day: i32| -> Option<usize> {
            let i = bounds.partition_point(|b| b.0 <= day);
            (i > 0 && day <= bounds[i - 1].1).then(|| i - 1)
        };
        const CHUNK: usize = 4096;
        let n = view.len();
        let parts: Vec<Vec<Flow>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut out = vec![Flow::default(); cells];
                let mut active = vec![false; np];
                for k in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    let o = view
                        .owner(k)
                        .and_then(|o| owners.binary_search_by(|x| x.as_str().cmp(o)).ok())
                        .unwrap_or(owners.len());
                    let h = view.history(k);
                    active.iter_mut().for_each(|a| *a = false);
                    let mut first = None;
                    for (&day, &amount) in h.days.iter().zip(h.amounts) {
                        if !is_purchase(amount) {
                            continue;
                        }
                        first.get_or_insert(day);
                        if let Some(p) = period(day) {
                            active[p] = true;
                        }
                    }
                    let first = first.and_then(period);
                    let row = &mut out[o * np..(o + 1) * np];
                    for p in 0..np {
                        let f = &mut row[p];
                        let before = p > 0 && active[p - 1];
                        f.active += active[p] as u64;
                        f.new += (first == Some(p)) as u64;
                        f.retained += (before && active[p]) as u64;
                        f.churned += (before && !active[p]) as u64;
                    }
                }
                out
            })
            .collect();
        let mut total = vec![Flow::default(); cells];
        for part in parts {
            for (t, f) in total.iter_mut().zip(part) {
                t.active += f.active;
                t.new += f.new;
                t.retained += f.retained;
                t.churned += f.churned;
            }
        }
        total
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Flow {
    active: u64,
    new: u64,
    retained: u64,
    churned: u64,
}

fn ratio(a: Money, b: Money) -> Option<f64> {
    (b.cents() != 0).then(|| a.cents() as f64 / b.cents() as f64)
}
