//! Product: what goes together, what to offer next, and which prices can move.
//!
//! - [`BasketOptions`] turns a view of the transaction log into
//!   [`Baskets`](crate::data::Baskets) (by order, or by customer and day; products or
//!   categories); [`Baskets::from_lists`](crate::data::Baskets::from_lists) takes them
//!   ready-made, and [`crate::io::read_baskets`] reads basket files.
//! - [`FpGrowthOptions`] mines frequent [`Itemsets`] by FP-growth, in parallel and with a
//!   deterministic order; [`RuleOptions`] derives association [`Rules`] with mlxtend's
//!   metrics ([`Metric`]) and filters on any of them.
//! - [`CrossSellOptions`] fits a [`CrossSell`] recommender from rules and item-item
//!   [`CoPurchase`] neighbours ([`CoPurchaseOptions`]): top-k items a customer has not bought, each with its
//!   [`Reason`].
//! - [`AffinityOptions`]: which customer segments over-index on which categories.
//! - [`ElasticityOptions`] estimates the price elasticity of each product (or product ×
//!   region, × season) by log-log regression with trend and season controls, and lists
//!   the products with room to raise or cut the price, with their buyers.

mod affinity;
mod baskets;
mod elasticity;
mod fpgrowth;
mod recommend;
mod rules;

pub use affinity::{AffinityOptions, AffinityRow, AffinityTable};
pub use baskets::{BasketKey, BasketLevel, BasketOptions};
pub use elasticity::{
    Elasticities, Elasticity, ElasticityBy, ElasticityOptions, ElasticityStatus, Estimate,
    PriceCandidate, MIN_RESIDUAL_DF,
};
pub use fpgrowth::{FpGrowthOptions, Itemset, Itemsets, MinSupport, DEFAULT_MAX_ITEMSETS};
pub use recommend::{
    CoPurchase, CoPurchaseOptions, CrossSell, CrossSellMethod, CrossSellOptions, CrossSellReport,
    CustomerRecommendations, Neighbour, Reason, Recommendation, RuleScore,
};
pub use rules::{Metric, Rule, RuleOptions, Rules, DEFAULT_MAX_RULES};
