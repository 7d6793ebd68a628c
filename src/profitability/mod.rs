//! Profitability: what are customers worth? Spend per transaction (Gamma-Gamma) and
//! discounted customer lifetime value from any purchase model.
//!
//! Net profit, cost to serve and the whale curve are planned (issue 4).

mod clv;
mod gammagamma;

pub use clv::{clv, customer_equity, ClvOptions};
pub use gammagamma::{spend_frequency_correlation, GammaGamma};

pub use crate::numerics::FitOptions;
