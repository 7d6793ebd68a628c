//! Tier migration: how customers moved between two tier assignments (value tiers, RFM
//! segments, any per-customer labels the caller brings), and the revenue and margin that
//! moved with them.
//!
//! The caller computes the two assignments (with profiling, say, at two dates) and hands
//! them in as [`Grouping`]s; this module does not compute tiers. A customer in one
//! assignment only sits in the explicit "none" row or column (`None`): a customer who
//! was not tiered at the start and is at the end has `from: None`, and the other way
//! round. Revenue and margin of each cell are the cube's, over two windows, for the
//! cell's customers.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::cube::{CubeOptions, Dim, Grouping, GroupingSets, Window};
use super::reps::costs_visible;
use crate::data::{Area, Money, Rows, ScopeTag, View};
use crate::error::{Error, Result};

/// How to build a migration matrix.
///
/// Defaults: tiers in sorted order, counts and customers only (no revenue).
///
/// ```
/// use std::sync::Arc;
/// use acrm::data::{Money, Scope};
/// use acrm::io::CsvOptions;
/// use acrm::performance::{Grouping, MigrationOptions, Window};
/// let csv = "customer_id,date,amount\nA,2023-05-01,100\nB,2023-06-01,40\n\
///            A,2024-05-01,30\nB,2024-06-01,90\nC,2024-07-01,10\n";
/// let data = CsvOptions::new().read_bytes(csv.as_bytes())?.dataset;
/// let view = data.view(&Scope::all());
/// let rows = view.rows(); // A, B, C
/// let t0 = Grouping::new("tier", rows.clone(), ["high", "low", "low"])?;
/// let t1 = Grouping::new("tier", rows, ["low", "high", "low"])?;
/// let m = MigrationOptions::new()
///     .order(["high", "low"])
///     .windows(Window::year(2023), Window::year(2024))
///     .compute(&view, &t0, &t1)?;
/// assert_eq!(m.counts(), vec![vec![0, 1, 0], vec![1, 1, 0], vec![0, 0, 0]]);
/// let down = m.cell(Some("high"), Some("low")).unwrap(); // A
/// assert_eq!(down.rows.ids().collect::<Vec<_>>(), ["A"]);
/// assert_eq!(down.revenue_moved, Some(Money::from_cents(-7_000)));
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MigrationOptions {
    windows: Option<[Window; 2]>,
    order: Vec<String>,
}

/// One cell of a migration matrix: the customers that were in tier `from` and are in
/// tier `to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MigrationCell {
    /// Tier in the first assignment (`None`: not in it).
    pub from: Option<String>,
    /// Tier in the second assignment (`None`: not in it).
    pub to: Option<String>,
    /// Number of customers.
    pub customers: u64,
    /// Their revenue in the first window (`None` without windows).
    pub revenue_0: Option<Money>,
    /// Their revenue in the second window.
    pub revenue_1: Option<Money>,
    /// `revenue_1 − revenue_0`.
    pub revenue_moved: Option<Money>,
    /// Their margin in the first window (`None` without windows, or when the view shows
    /// no costs).
    pub margin_0: Option<Money>,
    /// Their margin in the second window.
    pub margin_1: Option<Money>,
    /// `margin_1 − margin_0`.
    pub margin_moved: Option<Money>,
    /// The customers, with the scope they were read under.
    pub rows: Rows,
}

/// A migration matrix ([`MigrationOptions::compute`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Migration {
    /// The tiers, in matrix order; the "none" row and column (`None`) come after them.
    pub tiers: Vec<String>,
    /// The windows' labels, when revenue was asked for.
    pub periods: Option<[String; 2]>,
    /// Every cell, row by row (`from` in tier order, then `None`), each row's cells in
    /// the same order of `to`: `(tiers.len() + 1)²` cells, empty ones included.
    pub cells: Vec<MigrationCell>,
    /// Customers in either assignment (the sum of the cells' counts).
    pub customers: u64,
    /// The scope the matrix was computed under.
    pub scope: ScopeTag,
}

impl Migration {
    /// The cell from tier `from` to tier `to` (`None` = the "none" tier).
    pub fn cell(&self, from: Option<&str>, to: Option<&str>) -> Option<&MigrationCell> {
        self.cells
            .iter()
            .find(|c| c.from.as_deref() == from && c.to.as_deref() == to)
    }

    /// The customer counts as a matrix: `counts()[i][j]` from tier `i` to tier `j`, the
    /// last row and column "none".
    pub fn counts(&self) -> Vec<Vec<u64>> {
        let n = self.tiers.len() + 1;
        self.cells
            .chunks(n)
            .map(|row| row.iter().map(|c| c.customers).collect())
            .collect()
    }
}

/// Revenue and margin (when costs are visible) of a cell in one window.
type Sums = (Money, Option<Money>);

impl MigrationOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// Revenue and margin of each cell's customers in window `p0` (with the first
    /// assignment) and `p1` (with the second).
    pub fn windows(mut self, p0: Window, p1: Window) -> Self {
        self.windows = Some([p0, p1]);
        self
    }

    /// The tiers' order in the matrix (best first, say); tiers not listed follow in
    /// sorted order, listed tiers no customer has stay as empty rows and columns.
    pub fn order<S: Into<String>>(mut self, tiers: impl IntoIterator<Item = S>) -> Self {
        self.order = tiers.into_iter().map(Into::into).collect();
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] `order` for a tier listed twice; `windows` for a window
    /// that ends before it starts, or two that overlap or share a label.
    pub fn validate(&self) -> Result<()> {
        for (i, t) in self.order.iter().enumerate() {
            if self.order[..i].contains(t) {
                return Err(Error::option("order", t, "each tier once"));
            }
        }
        if let Some(w) = &self.windows {
            CubeOptions::new()
                .dims([Dim::Windows(w.to_vec())])
                .validate()?;
        }
        Ok(())
    }

    /// The migration matrix from assignment `from` to assignment `to`.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] (performance); [`Error::BadValue`] naming a customer of
    /// either grouping that the view does not hold (a grouping of another scope); as
    /// [`validate`](Self::validate) and [`CubeOptions::compute`].
    pub fn compute(&self, view: &View<'_>, from: &Grouping, to: &Grouping) -> Result<Migration> {
        self.validate()?;
        view.require(Area::Performance)?;
        let n = view.len();
        let pos = [view.positions(from.rows())?, view.positions(to.rows())?];
        let groupings = [from, to];
        let mut tiers = self.order.clone();
        let mut rest: Vec<&str> = groupings
            .iter()
            .flat_map(|g| g.labels().iter().map(String::as_str))
            .filter(|l| !self.order.iter().any(|o| o == l))
            .collect();
        rest.sort_unstable();
        rest.dedup();
        tiers.extend(rest.into_iter().map(str::to_string));
        let side = tiers.len() + 1;
        let none = tiers.len();
        // Per view customer, its tier in each assignment (`none` when absent).
        let mut code = [vec![none; n], vec![none; n]];
        let mut present = vec![false; n];
        for a in 0..2 {
            for (i, &k) in pos[a].iter().enumerate() {
                let label = &groupings[a].labels()[i];
                code[a][k] = tiers.iter().position(|t| t == label).unwrap_or(none);
                present[k] = true;
            }
        }
        let cell_of: Vec<Option<usize>> = (0..n)
            .map(|k| present[k].then(|| code[0][k] * side + code[1][k]))
            .collect();
        let mut counts = vec![0u64; side * side];
        for c in cell_of.iter().flatten() {
            counts[*c] += 1;
        }
        // Revenue and margin: one cube over the cells and the two windows.
        let costs = costs_visible(view);
        let mut money: Vec<[Option<Sums>; 2]> = vec![[None, None]; side * side];
        if let Some(w) = &self.windows {
            let rows = view.rows_where(|k| cell_of[k].is_some());
            let labels: Vec<String> = (0..n)
                .filter_map(|k| cell_of[k].map(|c| c.to_string()))
                .collect();
            let cells = Arc::new(Grouping::new("migration", rows, labels)?);
            let cube = CubeOptions::new()
                .dims([Dim::Customers(cells), Dim::Windows(w.to_vec())])
                .sets(GroupingSets::Finest)
                .costs(costs)
                .compute(view)?;
            for slot in money.iter_mut() {
                *slot = [Some((Money::ZERO, costs.then_some(Money::ZERO))); 2];
            }
            for c in &cube.cells {
                let (Some(cell), Some(p)) = (cube.label(c, 0), c.key[1]) else {
                    continue;
                };
                let Ok(cell) = cell.parse::<usize>() else {
                    continue;
                };
                money[cell][p as usize] = Some((c.revenue, c.margin));
            }
        }
        let moved = |a: Option<Money>, b: Option<Money>| -> Result<Option<Money>> {
            match (a, b) {
                (Some(a), Some(b)) => b.checked_sub(a).map(Some).ok_or_else(|| {
                    Error::bad_value(
                        "transactions",
                        0,
                        "amount",
                        format!("{b} − {a}"),
                        "a change that fits in 64-bit cents",
                    )
                }),
                _ => Ok(None),
            }
        };
        let label = |i: usize| (i < none).then(|| tiers[i].clone());
        let mut cells = Vec::with_capacity(side * side);
        for c in 0..side * side {
            let [m0, m1] = money[c];
            let (r0, r1) = (m0.map(|m| m.0), m1.map(|m| m.0));
            let (g0, g1) = (m0.and_then(|m| m.1), m1.and_then(|m| m.1));
            cells.push(MigrationCell {
                from: label(c / side),
                to: label(c % side),
                customers: counts[c],
                revenue_0: r0,
                revenue_1: r1,
                revenue_moved: moved(r0, r1)?,
                margin_0: g0,
                margin_1: g1,
                margin_moved: moved(g0, g1)?,
                rows: view.rows_where(|k| cell_of[k] == Some(c)),
            });
        }
        Ok(Migration {
            tiers,
            periods: self
                .windows
                .as_ref()
                .map(|w| [w[0].label.clone(), w[1].label.clone()]),
            customers: counts.iter().sum(),
            cells,
            scope: view.scope().clone(),
        })
    }
}
