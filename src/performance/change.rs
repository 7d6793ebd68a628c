//! Period-over-period change and its decomposition.
//!
//! **Revenue** is the product of three factors, `R = C · F · A`: customers, orders per
//! customer (frequency) and revenue per order (average order value). The change between
//! two periods is split by the logarithmic-mean Divisia index (LMDI-I; Ang 2004): with
//! `L(R₁, R₀) = (R₁ − R₀) / (ln R₁ − ln R₀)` (`R₀` when equal), the effect of a factor
//! `X` is `L · ln(X₁ / X₀)`, and the three effects sum to `R₁ − R₀` exactly (in exact
//! arithmetic: `L · ln(R₁/R₀) = R₁ − R₀`).
//!
//! **Margin** of a member with revenue share `s = R_member / R_total` and margin rate
//! `q = M / R_member` is `M = R_total · s · q`; its change splits into volume
//! `(R₁ − R₀)·s₀·q₀`, mix `R₁·(s₁ − s₀)·q₀` and rate `R₁·s₁·(q₁ − q₀)` (totals `R`), which
//! sum to `M₁ − M₀` exactly.
//!
//! A member present in one period only has no factors in the other: it is reported as
//! entered or left, never with a NaN. Its revenue change is all customers effect (the
//! limit of LMDI as the absent period's customers go to zero), and its margin change all
//! mix (a member entering the mix; the absent period's rate is taken as the present
//! one's). A member whose revenue is zero or negative in a period it is present in has
//! no logarithm or rate there: its effects are `None` and its status says why.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::cube::{CubeOptions, Dim, GroupingSets, Window};
use crate::data::{Money, ScopeTag, View};
use crate::error::{Error, Result};

/// Which periods a member is present in, and whether its change decomposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeStatus {
    /// Present in both periods; the effects are defined.
    Both,
    /// Only in the second period.
    Entered,
    /// Only in the first period.
    Left,
    /// Present in both, but with revenue ≤ 0 in one (no logarithm, no margin rate): the
    /// effects are `None`.
    NotDecomposable,
}

/// The revenue change of one member (or of the total) between two periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RevenueChange {
    /// The member (`None`: lines without a value in the dimension, or the total row).
    pub member: Option<String>,
    /// Presence and decomposability.
    pub status: ChangeStatus,
    /// Revenue in the first period.
    pub revenue_0: Money,
    /// Revenue in the second period.
    pub revenue_1: Money,
    /// Distinct customers in the first period.
    pub customers_0: u64,
    /// Distinct customers in the second period.
    pub customers_1: u64,
    /// Distinct orders in the first period.
    pub orders_0: u64,
    /// Distinct orders in the second period.
    pub orders_1: u64,
    /// Orders per customer in the first period (`None` when absent).
    pub frequency_0: Option<f64>,
    /// Orders per customer in the second period.
    pub frequency_1: Option<f64>,
    /// Revenue per order in the first period.
    pub aov_0: Option<f64>,
    /// Revenue per order in the second period.
    pub aov_1: Option<f64>,
    /// `revenue_1 − revenue_0`, exact.
    pub delta_revenue: Money,
    /// Effect of the number of customers.
    pub effect_customers: Option<f64>,
    /// Effect of orders per customer.
    pub effect_frequency: Option<f64>,
    /// Effect of revenue per order.
    pub effect_aov: Option<f64>,
}

/// The margin change of one member (or of the total) split into volume, mix and rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarginChange {
    /// The member (`None`: no value in the dimension, or the total row).
    pub member: Option<String>,
    /// Presence and decomposability.
    pub status: ChangeStatus,
    /// Revenue in the first period.
    pub revenue_0: Money,
    /// Revenue in the second period.
    pub revenue_1: Money,
    /// Margin in the first period.
    pub margin_0: Money,
    /// Margin in the second period.
    pub margin_1: Money,
    /// Share of the period's total revenue (0 when absent).
    pub share_0: Option<f64>,
    /// Share in the second period.
    pub share_1: Option<f64>,
    /// Margin rate `margin / revenue` (`None` when absent or revenue is 0).
    pub rate_0: Option<f64>,
    /// Margin rate in the second period.
    pub rate_1: Option<f64>,
    /// `margin_1 − margin_0`, exact.
    pub delta_margin: Money,
    /// Volume effect: the change of total revenue at the old share and rate.
    pub volume_effect: Option<f64>,
    /// Mix effect: the change of share at the old rate.
    pub mix_effect: Option<f64>,
    /// Rate effect: the change of margin rate.
    pub rate_effect: Option<f64>,
}

/// Both decompositions of the change between two periods, per member and in total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodChange {
    /// The dimension the members belong to (`None`: totals only).
    pub dim: Option<String>,
    /// The two periods' labels.
    pub periods: [String; 2],
    /// Revenue change per member, in member order (lines without a value last).
    pub revenue: Vec<RevenueChange>,
    /// Revenue change of the total (`member` `None`).
    pub revenue_total: RevenueChange,
    /// Margin change per member (empty when margins were not asked for).
    pub margin: Vec<MarginChange>,
    /// Margin change of the total (`None` when margins were not asked for).
    pub margin_total: Option<MarginChange>,
    /// The scope the change was computed under.
    pub scope: ScopeTag,
}

/// How to compare two periods.
///
/// Defaults: totals only (no dimension), margins included (they need costs).
///
/// ```
/// use acrm::data::Scope;
/// use acrm::io::CsvOptions;
/// use acrm::performance::{ChangeOptions, Window};
/// let csv = "customer_id,date,amount,cost,order_id\n\
///            A,2023-03-01,100,60,o1\nB,2023-05-01,100,60,o2\n\
///            A,2024-03-01,150,90,o3\nA,2024-04-01,150,120,o4\n";
/// let data = CsvOptions::new().read_bytes(csv.as_bytes())?.dataset;
/// let ch = ChangeOptions::new(Window::year(2023), Window::year(2024))
///     .compute(&data.view(&Scope::all()))?;
/// let t = &ch.revenue_total;
/// // Revenue 200 → 300: customers 2 → 1, orders per customer 1 → 2, order value 100 → 150.
/// let sum = t.effect_customers.unwrap() + t.effect_frequency.unwrap() + t.effect_aov.unwrap();
/// assert!((sum - 100.0).abs() < 1e-9);
/// let m = ch.margin_total.unwrap();
/// assert_eq!(m.delta_margin.to_string(), "10.00");
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChangeOptions {
    periods: [Window; 2],
    by: Option<Dim>,
    margin: bool,
}

impl ChangeOptions {
    /// Compares period `p0` (before) with `p1` (after).
    pub fn new(p0: Window, p1: Window) -> Self {
        ChangeOptions {
            periods: [p0, p1],
            by: None,
            margin: true,
        }
    }
    /// Per member of `dim` as well as in total.
    pub fn by(mut self, dim: Dim) -> Self {
        self.by = Some(dim);
        self
    }
    /// Whether to decompose margins too (on by default; needs costs).
    pub fn margin(mut self, yes: bool) -> Self {
        self.margin = yes;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] `periods` when a window ends before it starts, or the two
    /// overlap or share a label; `by` for a [`Dim::Windows`] dimension.
    pub fn validate(&self) -> Result<()> {
        self.cube().validate()?;
        if let Some(Dim::Windows(_)) = self.by {
            return Err(Error::option(
                "by",
                "windows",
                "a dimension other than the periods compared",
            ));
        }
        Ok(())
    }

    fn cube(&self) -> CubeOptions {
        let windows = Dim::Windows(self.periods.to_vec());
        match &self.by {
            None => CubeOptions::new()
                .dims([windows])
                .sets(GroupingSets::Finest),
            Some(d) => CubeOptions::new()
                .dims([d.clone(), windows])
                .sets(GroupingSets::Sets(vec![vec![0, 1], vec![1]])),
        }
        .costs(self.margin)
    }

    /// The change between the two periods, per member and in total.
    ///
    /// # Errors
    /// As [`CubeOptions::compute`]; [`Error::MissingColumn`] (`cost`) when margins are
    /// asked for and the log has no costs.
    pub fn compute(&self, view: &View<'_>) -> Result<PeriodChange> {
        self.validate()?;
        let cube = self.cube().compute(view)?;
        if self.margin && cube.cells.iter().any(|c| c.cost.is_none()) {
            return Err(Error::MissingColumn {
                column: "cost".into(),
                available: view.available_columns(),
            });
        }
        let by = self.by.is_some();
        let w = if by { 1 } else { 0 };
        // The two periods' cells per member, in member order (codes ascending, lines
        // without a value last), and of the total (the set that rolls the member up).
        type Pair<'c> = [Option<&'c super::Cell>; 2];
        let mut members: BTreeMap<u64, (Option<u32>, Pair<'_>)> = BTreeMap::new();
        let mut totals: Pair<'_> = [None, None];
        for c in &cube.cells {
            let Some(period) = c.key[w] else { continue };
            let p = period as usize;
            if by && c.grouping & 0b10 == 0 {
                let m = c.key[0];
                members
                    .entry(m.map_or(u64::MAX, u64::from))
                    .or_insert((m, [None, None]))
                    .1[p] = Some(c);
            } else {
                totals[p] = Some(c);
            }
        }
        let label = |m: Option<u32>| m.map(|m| cube.members[0][m as usize].clone());
        let total_revenue = [0, 1].map(|p| totals[p].map_or(Money::ZERO, |c| c.revenue));
        let mut revenue = Vec::with_capacity(members.len());
        let mut margin = Vec::new();
        for (m, pair) in members.into_values() {
            revenue.push(revenue_change(label(m), pair)?);
            if self.margin {
                margin.push(margin_change(label(m), pair, total_revenue, false)?);
            }
        }
        let revenue_total = revenue_change(None, totals)?;
        let margin_total = if self.margin {
            Some(margin_change(None, totals, total_revenue, true)?)
        } else {
            None
        };
        Ok(PeriodChange {
            dim: self.by.as_ref().map(|d| d.name().to_string()),
            periods: [self.periods[0].label.clone(), self.periods[1].label.clone()],
            revenue,
            revenue_total,
            margin,
            margin_total,
            scope: cube.scope.clone(),
        })
    }
}

fn status(
    cells: [Option<&super::Cell>; 2],
    positive: impl Fn(&super::Cell) -> bool,
) -> ChangeStatus {
    match cells {
        [Some(a), Some(b)] if positive(a) && positive(b) => ChangeStatus::Both,
        [Some(_), Some(_)] => ChangeStatus::NotDecomposable,
        [None, Some(_)] => ChangeStatus::Entered,
        [Some(_), None] => ChangeStatus::Left,
        // Every row comes from a cell of one period at least; two absent periods are a
        // total of nothing, which changes by nothing.
        [None, None] => ChangeStatus::Both,
    }
}

/// The logarithmic mean `L(a, b)` of two positive numbers.
fn log_mean(a: f64, b: f64) -> f64 {
    // ln a − ln b as ln(1 + (a − b)/b): accurate when a and b are close.
    let d = a - b;
    if d == 0.0 {
        a
    } else {
        d / (d / b).ln_1p()
    }
}

fn delta(a: Money, b: Money) -> Result<Money> {
    b.checked_sub(a).ok_or_else(|| {
        Error::bad_value(
            "transactions",
            0,
            "amount",
            format!("{b} − {a}"),
            "a change that fits in 64-bit cents",
        )
    })
}

fn revenue_change(
    member: Option<String>,
    cells: [Option<&super::Cell>; 2],
) -> Result<RevenueChange> {
    let get = |p: usize| cells[p].map(|c| (c.revenue, c.customers, c.orders));
    let (r0, c0, o0) = get(0).unwrap_or((Money::ZERO, 0, 0));
    let (r1, c1, o1) = get(1).unwrap_or((Money::ZERO, 0, 0));
    let freq = |p: usize| cells[p].and_then(|c| c.orders_per_customer());
    let aov = |p: usize| cells[p].and_then(|c| c.average_order_value());
    let st = status(cells, |c| c.revenue.cents() > 0);
    let d = delta(r0, r1)?;
    let (ec, ef, ea) = match st {
        ChangeStatus::Both if cells.iter().all(Option::is_some) => {
            let (a0, a1) = (r0.units(), r1.units());
            let l = log_mean(a1, a0);
            let effect = |x1: f64, x0: f64| l * (x1 / x0).ln();
            (
                Some(effect(c1 as f64, c0 as f64)),
                Some(effect(o1 as f64 / c1 as f64, o0 as f64 / c0 as f64)),
                Some(effect(a1 / o1 as f64, a0 / o0 as f64)),
            )
        }
        ChangeStatus::Both => (Some(0.0), Some(0.0), Some(0.0)),
        ChangeStatus::Entered | ChangeStatus::Left => (Some(d.units()), Some(0.0), Some(0.0)),
        ChangeStatus::NotDecomposable => (None, None, None),
    };
    Ok(RevenueChange {
        member,
        status: st,
        revenue_0: r0,
        revenue_1: r1,
        customers_0: c0,
        customers_1: c1,
        orders_0: o0,
        orders_1: o1,
        frequency_0: freq(0),
        frequency_1: freq(1),
        aov_0: aov(0),
        aov_1: aov(1),
        delta_revenue: d,
        effect_customers: ec,
        effect_frequency: ef,
        effect_aov: ea,
    })
}

fn margin_change(
    member: Option<String>,
    cells: [Option<&super::Cell>; 2],
    totals: [Money; 2],
    is_total: bool,
) -> Result<MarginChange> {
    let rev = |p: usize| cells[p].map_or(Money::ZERO, |c| c.revenue);
    let mar = |p: usize| cells[p].and_then(|c| c.margin).unwrap_or(Money::ZERO);
    let (r0, r1, m0, m1) = (rev(0), rev(1), mar(0), mar(1));
    let share = |p: usize| {
        cells[p].and_then(|c| {
            let t = totals[p].units();
            (t != 0.0).then(|| if is_total { 1.0 } else { c.revenue.units() / t })
        })
    };
    let rate = |p: usize| cells[p].and_then(|c| c.margin_rate());
    let (s0, s1, q0, q1) = (share(0), share(1), rate(0), rate(1));
    // Shares need a nonzero total in the periods the member is in, rates a nonzero revenue.
    let st = status(cells, |c| c.revenue.cents() != 0);
    let st = match (st, cells) {
        (ChangeStatus::Both, [Some(_), Some(_)]) if s0.is_none() || s1.is_none() => {
            ChangeStatus::NotDecomposable
        }
        (ChangeStatus::Entered, _) if s1.is_none() || q1.is_none() => ChangeStatus::NotDecomposable,
        (ChangeStatus::Left, _) if s0.is_none() || q0.is_none() => ChangeStatus::NotDecomposable,
        (st, _) => st,
    };
    let (t0, t1) = (totals[0].units(), totals[1].units());
    let effects = match st {
        ChangeStatus::Both => match (s0, s1, q0, q1) {
            (Some(s0), Some(s1), Some(q0), Some(q1)) => Some((
                (t1 - t0) * s0 * q0,
                t1 * (s1 - s0) * q0,
                t1 * s1 * (q1 - q0),
            )),
            _ => Some((0.0, 0.0, 0.0)),
        },
        ChangeStatus::Entered => {
            let (s1, q1) = (s1.unwrap_or(0.0), q1.unwrap_or(0.0));
            // q0 := q1 and s0 = 0.
            Some((0.0, t1 * s1 * q1, 0.0))
        }
        ChangeStatus::Left => {
            let (s0, q0) = (s0.unwrap_or(0.0), q0.unwrap_or(0.0));
            // q1 := q0 and s1 = 0.
            Some(((t1 - t0) * s0 * q0, -t1 * s0 * q0, 0.0))
        }
        ChangeStatus::NotDecomposable => None,
    };
    Ok(MarginChange {
        member,
        status: st,
        revenue_0: r0,
        revenue_1: r1,
        margin_0: m0,
        margin_1: m1,
        share_0: s0.or(cells[0].is_none().then_some(0.0)),
        share_1: s1.or(cells[1].is_none().then_some(0.0)),
        rate_0: q0,
        rate_1: q1,
        delta_margin: delta(m0, m1)?,
        volume_effect: effects.map(|e| e.0),
        mix_effect: effects.map(|e| e.1),
        rate_effect: effects.map(|e| e.2),
    })
}
