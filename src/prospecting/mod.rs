//! Prospecting: how many customers will we have, and by what means do we win them.
//!
//! Every table is computed from a view of the opportunities or contacts a scope reaches
//! ([`OpportunityView`](crate::data::OpportunityView),
//! [`ContactView`](crate::data::ContactView)) and carries its scope; forecasts fitted to
//! a series take the series as given.

pub mod base;
pub mod calibration;
pub mod outcome;
pub mod pipeline;

pub use base::{BaseForecast, BaseForecastOptions, BaseRow, Estimate, ExistingBase, NewCohorts};
pub use calibration::{
    Calibration, CalibrationOptions, GroupCalibration, Grouping, StageCalibration,
};
pub use outcome::{QuarterOutcome, QuarterOutcomeOptions};
pub use pipeline::{
    GroupRow, LeftOut, Pipeline, PipelineOptions, Placement, PricedDeal, ProbabilitySource,
    QuarterRow, Totals, WeekRow, ALL_STAGES, WEEKS_PER_QUARTER,
};
