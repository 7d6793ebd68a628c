//! Persistency: will customers keep buying, or keep renewing? Buy-till-you-die models
//! fitted on per-customer summaries, a retention model fitted on cohorts, survival
//! analysis, and supervised churn scores.
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
//!   [`CoxPh`] (Efron or Breslow ties) and [`concordance_index`], on [`SurvivalData`].
//! - Customer retention: [`LifetimeOptions`] (lifetimes from a log or from contracts),
//!   [`CohortOptions`] (acquisition cohort tables), [`OverdueOptions`] (customers silent
//!   beyond their rhythm), [`ChurnOptions`] (supervised churn scores on
//!   [`ChurnFeatures`]). These take purchase models only through
//!   [`crate::summary::PurchaseModel`] or plain numbers.
//!
//! Uncertainty for parameters and any prediction comes from
//! [`crate::numerics::bootstrap`]; scoring a whole base in parallel from
//! [`crate::summary::score`], which takes any model through
//! [`crate::summary::PurchaseModel`].
//!
//! Models are validated parameter values (`BgNbd::new(r, α, a, b)`), so published
//! estimates plug in directly; fitting by maximum likelihood over compact patterns is one
//! way to obtain them ([`FitOptions`]). Time is in the unit of the summary the patterns
//! came from; a model's scale parameter (α) carries that unit. The discrete-time models
//! count opportunities or periods instead.

mod bgbb;
mod bgnbd;
mod churn;
mod cohorts;
mod cox;
mod lifetimes;
mod mbgnbd;
mod overdue;
mod pareto;
mod sbg;
mod scorecard;
mod survival;

pub use bgbb::{BgBb, DiscretePattern};
pub use bgnbd::BgNbd;
pub use churn::{
    ChurnFeatureOptions, ChurnFeatures, ChurnMethod, ChurnModel, ChurnOptions, ChurnReport,
    CHURN_FEATURES,
};
pub use cohorts::{CohortOptions, CohortPeriod, CohortRow, CohortTable};
pub use cox::{concordance_index, CoxBaseline, CoxCoefficient, CoxOptions, CoxPh, CoxReport, Ties};
pub use lifetimes::{LifetimeEnd, LifetimeOptions, LifetimeSource, Lifetimes};
pub use mbgnbd::MbgNbd;
pub use overdue::{Overdue, OverdueOptions, OverdueRow};
pub use pareto::ParetoNbd;
pub use sbg::{Cohort, ShiftedBetaGeometric};
pub use scorecard::{FrequencyRow, Scorecard, Tracking};
pub use survival::{
    log_rank, GroupedSurvival, KaplanMeier, KaplanMeierOptions, KmRow, LogRank, SurvivalAt,
    SurvivalData,
};

use crate::error::{Error, Result};
pub use crate::numerics::FitOptions;
use crate::summary::{Pattern, PurchaseModel, Rfm};

/// Checks fitting data: non-empty, 0 ≤ t_x ≤ T, t_x = 0 when x = 0, finite.
fn check_patterns(patterns: &[Pattern]) -> Result<f64> {
    let mut weight = 0.0;
    for (i, p) in patterns.iter().enumerate() {
        if !(p.t.is_finite() && p.t > 0.0) {
            return Err(Error::bad_value("patterns", i, "T", p.t, "a finite T > 0"));
        }
        if !(p.t_x.is_finite() && p.t_x >= 0.0 && p.t_x <= p.t) {
            return Err(Error::bad_value(
                "patterns",
                i,
                "t_x",
                p.t_x,
                format!("0 ≤ t_x ≤ T = {}", p.t),
            ));
        }
        if p.x == 0 && p.t_x != 0.0 {
            return Err(Error::bad_value(
                "patterns",
                i,
                "t_x",
                p.t_x,
                "t_x = 0 when x = 0",
            ));
        }
        weight += f64::from(p.count);
    }
    if weight == 0.0 {
        return Err(Error::EmptyInput);
    }
    Ok(weight)
}

/// The purchase models answer [`PurchaseModel`], so lifetime value and scoring take any
/// of them.
macro_rules! purchase_model {
    ($($model:ty),*) => {$(
        impl PurchaseModel for $model {
            fn p_alive(&self, x: u32, t_x: f64, t: f64) -> f64 {
                <$model>::p_alive(self, x, t_x, t)
            }
            fn expected_purchases_if_alive(&self, h: f64, x: u32, t: f64) -> f64 {
                <$model>::expected_purchases_if_alive(self, h, x, t)
            }
            fn expected_purchases(&self, t: f64) -> f64 {
                <$model>::expected_purchases(self, t)
            }
        }
    )*};
}

purchase_model!(BgNbd, MbgNbd);

impl PurchaseModel for ParetoNbd {
    fn p_alive(&self, x: u32, t_x: f64, t: f64) -> f64 {
        ParetoNbd::p_alive(self, x, t_x, t)
    }
    fn expected_purchases_if_alive(&self, h: f64, x: u32, t: f64) -> f64 {
        ParetoNbd::expected_purchases_if_alive(self, h, x, t)
    }
    fn expected_purchases(&self, t: f64) -> f64 {
        ParetoNbd::expected_purchases(self, t)
    }
    fn p_alive_all(&self, records: &[Rfm]) -> Vec<f64> {
        ParetoNbd::p_alive_all(self, records)
    }
}
