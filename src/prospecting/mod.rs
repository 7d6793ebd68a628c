//! Prospecting: how many customers will we have, and by what means do we win them.
//!
//! Every table is computed from a view of the opportunities or contacts a scope reaches
//! ([`OpportunityView`](crate::data::OpportunityView),
//! [`ContactView`](crate::data::ContactView)), or of the customers' transactions
//! ([`View`](crate::data::View): the new customers per period of [`acquisition`]), and
//! carries its scope; forecasts fitted to a series ([`bass`]) take the series as given.

pub mod acquisition;
pub mod base;
pub mod bass;
pub mod calibration;
pub mod funnel;
pub mod leads;
pub mod outcome;
pub mod pipeline;
pub mod winloss;

pub use acquisition::{
    AcquisitionDate, AcquisitionFit, AcquisitionForecast, AcquisitionGroup, AcquisitionOptions,
    AcquisitionSeries, GroupBy, UNKNOWN,
};
pub use base::{BaseForecast, BaseForecastOptions, BaseRow, Estimate, ExistingBase, NewCohorts};
pub use bass::{
    Bass, BassErrors, BassMethod, BassOptions, BassPoint, BassRegression, BassReport,
    BassTermination, ForecastRow, Peak, PeakKind, Series,
};
pub use calibration::{
    Calibration, CalibrationGrouping, CalibrationOptions, GroupCalibration, StageCalibration,
};
pub use funnel::{
    Costs, Funnel, FunnelGroup, FunnelGrouping, FunnelOptions, StepTest, StepTime, FUNNEL_STEPS,
};
pub use leads::{FeatureEncoding, LeadModel, LeadReport, LeadScore, LeadScoreOptions, LeadTable};
pub use outcome::{QuarterOutcome, QuarterOutcomeOptions};
pub use pipeline::{
    GroupRow, LeftOut, Pipeline, PipelineOptions, Placement, PricedDeal, ProbabilitySource,
    QuarterRow, Totals, WeekRow, ALL_STAGES, WEEKS_PER_QUARTER,
};
pub use winloss::{
    Cycle, DealSlippage, LossReason, Slippage, StageDuration, WinGroup, WinLoss, WinLossGrouping,
    WinLossOptions,
};
