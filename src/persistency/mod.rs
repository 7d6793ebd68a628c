//! Persistency: will customers keep buying, or keep renewing? Buy-till-you-die models
//! fitted on per-customer summaries, a retention model fitted on cohorts, survival
//! analysis, and supervised churn scores.
//!
//! Two families, one folder each: `purchase` (the buy-till-you-die models and how well
//! they predict) and `retention` (survival, cohorts, overdue customers and churn scores).
//!
//! - [`BgNbd`], [`MbgNbd`], [`ParetoNbd`]: continuous time, noncontractual (repeat
//!   purchases x, recency t_x, age T): P(alive), expected purchases, P(X(t) = n).
//! - [`BgBb`]: discrete time, noncontractual (x transactions in n opportunities, the last
//!   at t_x; [`DiscretePattern`]): P(alive), expected transactions.
//! - [`ShiftedBetaGeometric`]: discrete time, contractual (customers of a [`Cohort`] still
//!   renewing after each period): survival, retention rates, discounted (residual)
//!   lifetimes.
//! - [`Scorecard`] and [`Tracking`]: how well a purchase model predicted a holdout period.
//! - Survival: [`KaplanMeierOptions`] (curves, intervals, medians, groups), [`log_rank`],
//!   [`CoxOptions`] (Efron or Breslow ties; Harrell's concordance is
//!   [`crate::numerics::concordance_index`]), on [`SurvivalData`].
//! - Customer retention: [`LifetimeOptions`] (lifetimes from a log or from contracts),
//!   [`CohortOptions`] (acquisition cohort tables), [`OverdueOptions`] (customers silent
//!   beyond their rhythm), [`ChurnOptions`] (supervised churn scores on
//!   [`ChurnFeatures`]). These take purchase models only through
//!   [`crate::summary::PurchaseModel`] or plain numbers.
//!
//! Uncertainty for parameters and any prediction comes from
//! [`crate::numerics::BootstrapOptions`]; scoring a whole base in parallel from
//! [`crate::summary::score`], which takes any model through
//! [`crate::summary::PurchaseModel`].
//!
//! Models are validated parameter values (`BgNbd::new(r, α, a, b)`), so published
//! estimates plug in directly; fitting by maximum likelihood over compact patterns is one
//! way to obtain them ([`FitOptions`]). Time is in the unit of the summary the patterns
//! came from; a model's scale parameter (α) carries that unit. The discrete-time models
//! count opportunities or periods instead.

mod purchase;
mod retention;

pub use purchase::{
    BgBb, BgNbd, Cohort, DiscretePattern, FrequencyRow, MbgNbd, ParetoNbd, Scorecard,
    ShiftedBetaGeometric, Tracking,
};
pub use retention::{
    log_rank, ChurnFeatureOptions, ChurnFeatures, ChurnMethod, ChurnModel, ChurnOptions,
    ChurnReport, CohortOptions, CohortPeriod, CohortRow, CohortTable, CoxBaseline, CoxCoefficient,
    CoxOptions, CoxPh, CoxReport, GroupedSurvival, KaplanMeier, KaplanMeierOptions, KmRow,
    LifetimeEnd, LifetimeOptions, LifetimeSource, Lifetimes, LikelihoodRatio, LogRank,
    MedianInterval, Overdue, OverdueOptions, OverdueRow, SurvivalAt, SurvivalData, Ties,
    CHURN_FEATURES,
};

pub use crate::numerics::FitOptions;
