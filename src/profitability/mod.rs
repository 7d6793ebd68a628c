//! Profitability: what are customers worth? Spend per transaction (Gamma-Gamma) and
//! discounted customer lifetime value from any purchase model.
//!
//! Per-customer revenue, cost of goods, gross margin, cost to serve and net profit, and
//! the whale curve of profit.

mod clv;
mod gammagamma;
mod profit;
mod whale;

pub use clv::{customer_equity, Clv, ClvOptions};
pub use gammagamma::{spend_frequency_correlation, GammaGamma};
pub use profit::{CostOfGoods, ProfitOptions, ProfitTotals, Profits};
pub use whale::{whale_curve, WhaleCurve, WhalePoint};

pub use crate::numerics::FitOptions;
