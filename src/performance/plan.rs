//! Plan versus actual: sales targets per member (product, region, owner, ...) and period
//! against the cube's actuals, with the revenue variance split into volume, mix and price.
//!
//! For one target row (a member of the targets' dimensions in one period) write `R` for
//! revenue, `U` for units and `P = R / U` for the average price, with `p` for planned and
//! `a` for actual. Over the rows of the same period that decompose (see [`PlanStatus`]),
//! `U_tot` is the sum of units and `m = U / U_tot` a row's share of them. Then
//!
//! ```text
//! volume = (U_a,tot − U_p,tot) · m_p · P_p        the period's units, at planned mix and price
//! mix    = U_a,tot · (m_a − m_p) · P_p            the row's share of units, at planned price
//!        = (U_a − U_a,tot · m_p) · P_p            (the form computed: no division by U_a,tot)
//! price  = U_a · (P_a − P_p)                      the row's price, at actual units
//!        = R_a − U_a · P_p                        (the form computed: no division by U_a)
//! ```
//!
//! and `volume + mix + price = U_a·P_p − U_p·P_p + R_a − U_a·P_p = R_a − R_p`, the revenue
//! variance, exactly (in exact arithmetic; in floating point to a few ulps of the
//! amounts). Summed over a period's rows, volume is `(U_a,tot − U_p,tot) · R_p,tot /
//! U_p,tot` (selling more units in total at the planned average price) and mix is the
//! gain from selling a dearer or cheaper mix than planned.
//!
//! Rows without a planned price are reported without NaN: a row planned at zero units
//! and zero revenue that sold is [`PlanStatus::Unplanned`] (its planned price is taken as
//! its actual one, so its whole revenue is mix: a member entering the mix); a row planned
//! at zero units but some revenue has no planned price ([`PlanStatus::NoPlannedUnits`])
//! and a row without a revenue or units target nothing to split
//! ([`PlanStatus::NoUnitTarget`]): their effects are `None`, and they are left out of the
//! period's unit totals.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::cube::{Cell, CubeOptions, Dim, GroupingSets, Window};
use crate::data::{Area, Column, Money, ScopeTag, View};
use crate::error::{Error, Problem, Result, RowError};

/// One target: a member of each of the targets' dimensions, a period, and what is
/// planned there (revenue, units, margin; any may be absent).
///
/// ```
/// use acrm::data::Money;
/// use acrm::performance::{TargetRecord, Window};
/// let t = TargetRecord::new(["p1", "north"], Window::year(2024))
///     .revenue(Money::from_cents(100_000))
///     .units(50.0);
/// assert_eq!(t.members, ["p1", "north"]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetRecord {
    /// The member of each dimension, in the order of [`Targets::dims`].
    pub members: Vec<String>,
    /// The period the target is for.
    pub period: Window,
    /// Planned revenue.
    pub revenue: Option<Money>,
    /// Planned units (≥ 0).
    pub units: Option<f64>,
    /// Planned margin.
    pub margin: Option<Money>,
}

impl TargetRecord {
    /// A target for `members` in `period`, with nothing planned yet.
    pub fn new<S: Into<String>>(members: impl IntoIterator<Item = S>, period: Window) -> Self {
        TargetRecord {
            members: members.into_iter().map(Into::into).collect(),
            period,
            revenue: None,
            units: None,
            margin: None,
        }
    }
    /// Planned revenue.
    pub fn revenue(mut self, revenue: Money) -> Self {
        self.revenue = Some(revenue);
        self
    }
    /// Planned units.
    pub fn units(mut self, units: f64) -> Self {
        self.units = Some(units);
        self
    }
    /// Planned margin.
    pub fn margin(mut self, margin: Money) -> Self {
        self.margin = Some(margin);
        self
    }
}

/// A table of targets: the dimensions they are set along and one record per member and
/// period (read from CSV by [`io::read_targets`](crate::io::read_targets)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    dims: Vec<Dim>,
    records: Vec<TargetRecord>,
}

impl Targets {
    /// Targets along `dims` (category, product, channel, region, owner or a customer
    /// grouping; none for totals per period).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] `dims` for a period or window dimension or one listed
    /// twice; [`Error::Row`] naming the record (1-based position) and field of: a record
    /// without one member per dimension ([`Problem::MissingField`]), an empty member
    /// ([`Problem::EmptyValue`]), nothing planned (`revenue`, [`Problem::EmptyValue`]),
    /// units that are negative or not finite, a period ending before it starts
    /// ([`Problem::EndBeforeStart`]), a period label with other dates than an earlier
    /// record's or a period overlapping another ([`Problem::Conflict`]), the same members
    /// and period twice ([`Problem::DuplicateId`]).
    pub fn new(
        dims: impl IntoIterator<Item = Dim>,
        records: impl IntoIterator<Item = TargetRecord>,
    ) -> Result<Targets> {
        let t = Targets {
            dims: dims.into_iter().collect(),
            records: records.into_iter().collect(),
        };
        t.check()?;
        Ok(t)
    }

    /// The dimensions.
    pub fn dims(&self) -> &[Dim] {
        &self.dims
    }

    /// The records, in input order.
    pub fn records(&self) -> &[TargetRecord] {
        &self.records
    }

    /// The distinct periods, in time order.
    pub fn windows(&self) -> Vec<Window> {
        let mut w: Vec<Window> = Vec::new();
        for r in &self.records {
            if !w.iter().any(|x| x.label == r.period.label) {
                w.push(r.period.clone());
            }
        }
        w.sort_by(|a, b| (a.from, &a.label).cmp(&(b.from, &b.label)));
        w
    }

    fn check(&self) -> Result<()> {
        for (i, d) in self.dims.iter().enumerate() {
            if matches!(d, Dim::Period(_) | Dim::Windows(_)) {
                return Err(Error::option(
                    "dims",
                    d.name(),
                    "category, product, channel, region, owner or a customer grouping (the \
                     period is each target's own)",
                ));
            }
            if self.dims[..i].contains(d) {
                return Err(Error::option("dims", d.name(), "each dimension once"));
            }
        }
        let row = |i: usize, field: &str, value: String, problem| {
            Error::Row(RowError {
                line: i as u64 + 1,
                field: field.to_string(),
                value: value.chars().take(200).collect(),
                problem,
            })
        };
        let mut windows: Vec<&Window> = Vec::new();
        let mut seen: HashMap<(&[String], &str), usize> = HashMap::new();
        for (i, r) in self.records.iter().enumerate() {
            if r.members.len() != self.dims.len() {
                return Err(row(
                    i,
                    "members",
                    r.members.join(","),
                    Problem::MissingField,
                ));
            }
            if let Some(d) = r.members.iter().position(|m| m.trim().is_empty()) {
                return Err(row(
                    i,
                    self.dims[d].name(),
                    r.members[d].clone(),
                    Problem::EmptyValue,
                ));
            }
            if r.revenue.is_none() && r.units.is_none() && r.margin.is_none() {
                return Err(row(i, "revenue", String::new(), Problem::EmptyValue));
            }
            if let Some(u) = r.units {
                if !u.is_finite() {
                    return Err(row(i, "units", u.to_string(), Problem::NonFinite));
                }
                if u < 0.0 {
                    return Err(row(i, "units", u.to_string(), Problem::Negative));
                }
            }
            let w = &r.period;
            if w.from > w.until {
                return Err(row(
                    i,
                    "until",
                    w.until.to_string(),
                    Problem::EndBeforeStart,
                ));
            }
            match windows.iter().find(|x| x.label == w.label) {
                Some(x) if *x != w => {
                    return Err(row(i, "period", w.label.clone(), Problem::Conflict));
                }
                Some(_) => {}
                None => {
                    if windows
                        .iter()
                        .any(|x| w.from <= x.until && x.from <= w.until)
                    {
                        return Err(row(i, "from", w.from.to_string(), Problem::Conflict));
                    }
                    windows.push(w);
                }
            }
            if seen
                .insert((r.members.as_slice(), w.label.as_str()), i)
                .is_some()
            {
                return Err(row(i, "period", w.label.clone(), Problem::DuplicateId));
            }
        }
        Ok(())
    }
}

/// Whether a target row's revenue variance splits into volume, mix and price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// Planned units > 0 and something sold: the effects are defined.
    Decomposed,
    /// Planned units > 0 and no line in the period: the effects are defined (the price
    /// effect is the revenue of returns without units, usually 0).
    NoActuals,
    /// Planned at zero units and zero revenue: the planned price is taken as the actual
    /// one, so the whole actual revenue is mix.
    Unplanned,
    /// A revenue target with zero planned units: no planned price, effects `None`.
    NoPlannedUnits,
    /// No revenue target or no units target: effects `None`.
    NoUnitTarget,
}

impl PlanStatus {
    /// Whether the row's effects are defined.
    pub fn decomposes(self) -> bool {
        matches!(
            self,
            PlanStatus::Decomposed | PlanStatus::NoActuals | PlanStatus::Unplanned
        )
    }
}

/// A measure against its target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VersusTarget<T> {
    /// The target, if set.
    pub target: Option<T>,
    /// The actual value.
    pub actual: T,
    /// `actual − target` (`None` without a target).
    pub variance: Option<T>,
    /// `actual / target` (`None` without a target or when it is 0).
    pub attainment: Option<f64>,
}

/// One target row against its actuals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRow {
    /// The members, in the order of the targets' dimensions.
    pub members: Vec<String>,
    /// The period's label.
    pub period: String,
    /// Whether the revenue variance decomposes.
    pub status: PlanStatus,
    /// Revenue (net of returns).
    pub revenue: VersusTarget<Money>,
    /// Units (sum of quantities).
    pub units: VersusTarget<f64>,
    /// Margin, when some target has one (then the log's costs are read).
    pub margin: Option<VersusTarget<Money>>,
    /// Planned price `R_p / U_p` (for [`PlanStatus::Unplanned`], the actual price).
    pub planned_price: Option<f64>,
    /// Actual price `R_a / U_a` (`None` without units sold).
    pub actual_price: Option<f64>,
    /// Volume effect (module documentation).
    pub volume_effect: Option<f64>,
    /// Mix effect.
    pub mix_effect: Option<f64>,
    /// Price effect.
    pub price_effect: Option<f64>,
}

/// The decomposing rows of one period, summed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanPeriod {
    /// The period's label.
    pub period: String,
    /// Rows that decompose.
    pub rows: usize,
    /// Their planned revenue.
    pub revenue_target: Money,
    /// Their actual revenue.
    pub revenue_actual: Money,
    /// `revenue_actual − revenue_target`.
    pub revenue_variance: Money,
    /// Their planned units `U_p,tot`.
    pub units_target: f64,
    /// Their actual units `U_a,tot`.
    pub units_actual: f64,
    /// Sum of the rows' volume effects.
    pub volume_effect: f64,
    /// Sum of the rows' mix effects.
    pub mix_effect: f64,
    /// Sum of the rows' price effects.
    pub price_effect: f64,
}

/// Targets against actuals ([`PlanOptions::compute`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanVsActual {
    /// The targets' dimension names.
    pub dims: Vec<String>,
    /// One row per target record, in the records' order.
    pub rows: Vec<PlanRow>,
    /// Per period (in time order), the decomposing rows summed.
    pub periods: Vec<PlanPeriod>,
    /// The scope the actuals were read under.
    pub scope: ScopeTag,
}

impl PlanVsActual {
    /// The rows below their revenue target, the largest shortfall first (ties in row
    /// order).
    pub fn below_plan(&self) -> Vec<&PlanRow> {
        let mut out: Vec<&PlanRow> = self
            .rows
            .iter()
            .filter(|r| r.revenue.variance.is_some_and(|v| v.cents() < 0))
            .collect();
        out.sort_by_key(|r| r.revenue.variance.map(Money::cents));
        out
    }
}

/// How to compare targets with actuals.
///
/// The actuals are the cube's ([`CubeOptions`] over the targets' dimensions and their
/// periods as [`Dim::Windows`]): revenue net of returns, units as the sum of quantities,
/// margin as revenue minus cost. See the [module documentation](self) for the
/// decomposition.
///
/// ```
/// use acrm::data::{Money, Scope};
/// use acrm::io::CsvOptions;
/// use acrm::performance::{Dim, PlanOptions, PlanStatus, TargetRecord, Targets, Window};
/// let csv = "customer_id,date,amount,quantity,product_id\n\
///            A,2024-02-01,120,12,p1\nB,2024-03-01,60,3,p2\n";
/// let data = CsvOptions::new().read_bytes(csv.as_bytes())?.dataset;
/// let q1 = Window::new("Q1", "2024-01-01".parse().unwrap(), "2024-03-31".parse().unwrap());
/// let cents = Money::from_cents;
/// let targets = Targets::new(
///     [Dim::Product],
///     [
///         TargetRecord::new(["p1"], q1.clone()).revenue(cents(10_000)).units(10.0),
///         TargetRecord::new(["p2"], q1).revenue(cents(20_000)).units(10.0),
///     ],
/// )?;
/// let plan = PlanOptions::new(targets).compute(&data.view(&Scope::all()))?;
/// let p1 = &plan.rows[0];
/// assert_eq!(p1.status, PlanStatus::Decomposed);
/// assert_eq!(p1.revenue.variance, Some(cents(2_000)));
/// // Units 20 → 15 at planned mix 1/2 and price 10: volume (15 − 20)·½·10 = −25;
/// // mix (12 − 15·½)·10 = 45; price 12·(10 − 10) = 0. Sum 20 = 120 − 100.
/// assert!((p1.volume_effect.unwrap() + 25.0).abs() < 1e-9);
/// assert!((p1.mix_effect.unwrap() - 45.0).abs() < 1e-9);
/// assert!(p1.price_effect.unwrap().abs() < 1e-9);
/// assert_eq!(plan.below_plan()[0].members, ["p2"]);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanOptions {
    targets: Targets,
}

impl PlanOptions {
    /// Compares `targets` with actuals.
    pub fn new(targets: Targets) -> Self {
        PlanOptions { targets }
    }

    /// The targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }

    /// Checks the targets (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// As [`Targets::new`]; [`Error::EmptyInput`] without records.
    pub fn validate(&self) -> Result<()> {
        self.targets.check()?;
        if self.targets.records.is_empty() {
            return Err(Error::EmptyInput);
        }
        self.cube().validate()
    }

    fn margins(&self) -> bool {
        self.targets.records.iter().any(|r| r.margin.is_some())
    }

    fn cube(&self) -> CubeOptions {
        let mut dims = self.targets.dims.clone();
        dims.push(Dim::Windows(self.targets.windows()));
        CubeOptions::new()
            .dims(dims)
            .sets(GroupingSets::Finest)
            .costs(self.margins())
    }

    /// Every target row against its actuals, and the periods' sums.
    ///
    /// # Errors
    /// As [`validate`](Self::validate) and [`CubeOptions::compute`];
    /// [`Error::MissingColumn`] or [`Error::HiddenColumn`] for `quantity` when a target
    /// has units, for `cost` or `margin` when one has a margin.
    pub fn compute(&self, view: &View<'_>) -> Result<PlanVsActual> {
        self.validate()?;
        view.require(Area::Performance)?;
        let records = &self.targets.records;
        if records.iter().any(|r| r.units.is_some()) {
            view.need(Column::Quantity)?;
        }
        let margins = self.margins();
        if margins {
            view.costs()?;
            view.need(Column::Margin)?;
        }
        let cube = self.cube().compute(view)?;
        let k = self.targets.dims.len();
        let mut cells: HashMap<(Vec<&str>, &str), &Cell> = HashMap::new();
        for c in &cube.cells {
            let members: Option<Vec<&str>> = (0..k).map(|d| cube.label(c, d)).collect();
            if let (Some(m), Some(p)) = (members, cube.label(c, k)) {
                cells.insert((m, p), c);
            }
        }
        let mut rows = Vec::with_capacity(records.len());
        for r in records {
            let key: Vec<&str> = r.members.iter().map(String::as_str).collect();
            let cell = cells.get(&(key, r.period.label.as_str())).copied();
            rows.push(row_of(r, cell, margins)?);
        }
        let periods = self
            .targets
            .windows()
            .iter()
            .map(|w| decompose(&w.label, records, &mut rows))
            .collect::<Result<_>>()?;
        Ok(PlanVsActual {
            dims: self
                .targets
                .dims
                .iter()
                .map(|d| d.name().to_string())
                .collect(),
            rows,
            periods,
            scope: cube.scope,
        })
    }
}

fn ratio(a: f64, b: f64) -> Option<f64> {
    (b != 0.0).then(|| a / b)
}

fn money_vs(target: Option<Money>, actual: Money) -> Result<VersusTarget<Money>> {
    let variance = match target {
        None => None,
        Some(t) => Some(actual.checked_sub(t).ok_or_else(|| {
            Error::bad_value(
                "targets",
                0,
                "revenue",
                t,
                "a target whose variance fits in 64-bit cents",
            )
        })?),
    };
    Ok(VersusTarget {
        target,
        actual,
        variance,
        attainment: target.and_then(|t| ratio(actual.units(), t.units())),
    })
}

/// A row's actuals, variances and status (effects are filled in per period).
fn row_of(r: &TargetRecord, cell: Option<&Cell>, margins: bool) -> Result<PlanRow> {
    let revenue = cell.map_or(Money::ZERO, |c| c.revenue);
    let units = cell.map_or(0.0, |c| c.units);
    let margin = margins.then(|| cell.and_then(|c| c.margin).unwrap_or(Money::ZERO));
    let status = match (r.revenue, r.units) {
        (Some(_), Some(up)) if up > 0.0 => {
            if cell.is_some() {
                PlanStatus::Decomposed
            } else {
                PlanStatus::NoActuals
            }
        }
        (Some(rp), Some(_)) if rp.cents() == 0 => PlanStatus::Unplanned,
        (Some(_), Some(_)) => PlanStatus::NoPlannedUnits,
        _ => PlanStatus::NoUnitTarget,
    };
    Ok(PlanRow {
        members: r.members.clone(),
        period: r.period.label.clone(),
        status,
        revenue: money_vs(r.revenue, revenue)?,
        units: VersusTarget {
            target: r.units,
            actual: units,
            variance: r.units.map(|t| units - t),
            attainment: r.units.and_then(|t| ratio(units, t)),
        },
        margin: match margin {
            None => None,
            Some(m) => Some(money_vs(r.margin, m)?),
        },
        planned_price: None,
        actual_price: ratio(revenue.units(), units),
        volume_effect: None,
        mix_effect: None,
        price_effect: None,
    })
}

/// Fills in the effects of the rows of `period` and sums them.
fn decompose(period: &str, records: &[TargetRecord], rows: &mut [PlanRow]) -> Result<PlanPeriod> {
    let members: Vec<usize> = (0..rows.len())
        .filter(|&i| records[i].period.label == period && rows[i].status.decomposes())
        .collect();
    // Totals in record order: the same sums whatever the thread count.
    let (mut up_tot, mut ua_tot) = (0.0, 0.0);
    let (mut rp_tot, mut ra_tot) = (0i64, 0i64);
    for &i in &members {
        up_tot += rows[i].units.target.unwrap_or(0.0);
        ua_tot += rows[i].units.actual;
        let rp = rows[i].revenue.target.unwrap_or(Money::ZERO).cents();
        rp_tot = rp_tot.checked_add(rp).ok_or_else(|| sum_overflow(period))?;
        ra_tot = ra_tot
            .checked_add(rows[i].revenue.actual.cents())
            .ok_or_else(|| sum_overflow(period))?;
    }
    let (mut volume, mut mix, mut price) = (0.0, 0.0, 0.0);
    for &i in &members {
        let row = &mut rows[i];
        let up = row.units.target.unwrap_or(0.0);
        let rp = row.revenue.target.unwrap_or(Money::ZERO).units();
        let (ua, ra) = (row.units.actual, row.revenue.actual.units());
        let pp = if up > 0.0 {
            rp / up
        } else {
            // Unplanned: the actual price (0 without units sold, leaving all to price).
            row.actual_price.unwrap_or(0.0)
        };
        let mp = if up_tot > 0.0 { up / up_tot } else { 0.0 };
        let v = (ua_tot - up_tot) * mp * pp;
        let m = (ua - ua_tot * mp) * pp;
        let p = ra - ua * pp;
        row.planned_price = Some(pp);
        row.volume_effect = Some(v);
        row.mix_effect = Some(m);
        row.price_effect = Some(p);
        volume += v;
        mix += m;
        price += p;
    }
    Ok(PlanPeriod {
        period: period.to_string(),
        rows: members.len(),
        revenue_target: Money::from_cents(rp_tot),
        revenue_actual: Money::from_cents(ra_tot),
        revenue_variance: Money::from_cents(ra_tot)
            .checked_sub(Money::from_cents(rp_tot))
            .ok_or_else(|| sum_overflow(period))?,
        units_target: up_tot,
        units_actual: ua_tot,
        volume_effect: volume,
        mix_effect: mix,
        price_effect: price,
    })
}

fn sum_overflow(period: &str) -> Error {
    Error::bad_value(
        "targets",
        0,
        "revenue",
        format!("the sum of period {period}"),
        "sums of money that fit in 64-bit cents",
    )
}
