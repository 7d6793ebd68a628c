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
pub mod funnel;
pub mod leads;
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
pub use funnel::{
    Costs, Funnel, FunnelGroup, FunnelOptions, Grouping, StepTest, StepTime, FUNNEL_STEPS,
};
pub use leads::{FeatureEncoding, LeadModel, LeadReport, LeadScore, LeadScoreOptions, LeadTable};
pub use winloss::{
    Cycle, DealSlippage, LossReason, Slippage, StageDuration, WinGroup, WinLoss, WinLossGrouping,
    WinLossOptions,
};
