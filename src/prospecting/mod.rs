//! Prospecting: how many customers will we have, and by what means do we win them.
//!
//! Every table is computed from a view of the opportunities or contacts a scope reaches
//! ([`OpportunityView`](crate::data::OpportunityView),
//! [`ContactView`](crate::data::ContactView)) and carries its scope; forecasts fitted to
//! a series take the series as given.

pub mod base;
pub mod leads;

pub use base::{BaseForecast, BaseForecastOptions, BaseRow, Estimate, ExistingBase, NewCohorts};
pub use leads::{FeatureEncoding, LeadModel, LeadReport, LeadScore, LeadScoreOptions, LeadTable};
