//! Retention: survival analysis (Kaplan–Meier, log-rank, Cox), customer lifetimes from a
//! log or contracts, acquisition cohort tables, overdue customers and supervised churn
//! scores.

mod churn;
mod cohorts;
mod cox;
mod lifetimes;
mod overdue;

pub use crate::numerics::survival::{
    log_rank, GroupedSurvival, KaplanMeier, KaplanMeierOptions, KmRow, LogRank, MedianInterval,
    SurvivalAt, SurvivalData,
};
pub use churn::{
    ChurnFeatureOptions, ChurnFeatures, ChurnMethod, ChurnModel, ChurnOptions, ChurnReport,
    CHURN_FEATURES,
};
pub use cohorts::{CohortOptions, CohortPeriod, CohortRow, CohortTable};
pub use cox::{CoxBaseline, CoxCoefficient, CoxOptions, CoxPh, CoxReport, LikelihoodRatio, Ties};
pub use lifetimes::{LifetimeEnd, LifetimeOptions, LifetimeSource, Lifetimes};
pub use overdue::{Overdue, OverdueOptions, OverdueRow};
