//! Profiling: who is this customer? RFM scores and named segments, value tiers.
//!
//! Behavioural clusters, habits and risk flags are planned (issue 4).

mod rfm;
mod tiers;

pub use rfm::{RfmOptions, RfmScores, SegmentMap};
pub use tiers::{Tier, TierOptions, TierSummary, Tiers};
