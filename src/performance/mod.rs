//! Performance: what was sold, where, through which channel, and why it changed.
//!
//! - [`cube`]: the sales cube over order lines (category, product, channel, region,
//!   owner, period, windows, any per-customer grouping), with SQL's grouping sets, exact
//!   distinct counts, money in whole cents, drill-down, slicing and top-N;
//! - [`change`]: period-over-period change of revenue split into customers × orders per
//!   customer × order value (LMDI-I), and of margin into volume, mix and rate;
//! - [`plan`]: targets against actuals, the revenue variance split into volume, mix and
//!   price;
//! - [`reps`]: per owner (and team) and period, revenue, margin, new, retained and churned
//!   customers, attainment and rank;
//! - [`migration`]: the transition matrix of customers between two tier assignments, with
//!   the revenue and margin that moved.
//!
//! Every table is computed from a [`View`](crate::data::View) and carries its scope.

pub mod change;
pub mod cube;
pub mod migration;
pub mod plan;
pub mod reps;

pub use change::{ChangeOptions, ChangeStatus, MarginChange, PeriodChange, RevenueChange};
pub use cube::{
    Cell, CellContents, Cube, CubeOptions, CubeReport, Dim, Grain, Grouping, GroupingSets, Measure,
    Top, Window,
};
pub use migration::{Migration, MigrationCell, MigrationOptions};
pub use plan::{
    PlanOptions, PlanPeriod, PlanRow, PlanStatus, PlanVsActual, TargetRecord, Targets, VersusTarget,
};
pub use reps::{RepFigures, RepOptions, RepPerformance, RepRow, RepTarget, UnitRow};
