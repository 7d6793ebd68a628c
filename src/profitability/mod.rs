//! Profitability: what are customers worth? Spend per transaction (Gamma-Gamma) and
//! discounted customer lifetime value from any purchase model.
//!
//! The whale curve of per-customer profit is here; net profit with cost to serve is
//! planned (issue 4).

mod clv;
mod gammagamma;
mod whale;

pub use clv::{clv, customer_equity, ClvOptions};
pub use gammagamma::{spend_frequency_correlation, GammaGamma};
pub use whale::{whale_curve, WhaleCurve};

pub use crate::numerics::FitOptions;
