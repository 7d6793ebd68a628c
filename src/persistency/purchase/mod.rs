//! Purchase models: buy-till-you-die models of repeat purchases (BG/NBD, MBG/NBD,
//! Pareto/NBD), of discrete-time transactions (BG/BB) and of contract renewals
//! (shifted-beta-geometric), and the scorecard of how well they predict a holdout period.

mod bgbb;
mod bgnbd;
mod mbgnbd;
mod pareto;
mod sbg;
mod scorecard;

pub use bgbb::{BgBb, DiscretePattern};
pub use bgnbd::BgNbd;
pub use mbgnbd::MbgNbd;
pub use pareto::ParetoNbd;
pub use sbg::{Cohort, ShiftedBetaGeometric};
pub use scorecard::{FrequencyRow, Scorecard, Tracking};

use crate::error::{Error, Result};
use crate::numerics::FitOptions;
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
            fn survival_if_alive(&self, h: f64, x: u32, t: f64) -> f64 {
                <$model>::survival_if_alive(self, h, x, t)
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
    fn survival_if_alive(&self, h: f64, x: u32, t: f64) -> f64 {
        ParetoNbd::survival_if_alive(self, h, x, t)
    }
    fn p_alive_all(&self, records: &[Rfm]) -> Vec<f64> {
        ParetoNbd::p_alive_all(self, records)
    }
}
