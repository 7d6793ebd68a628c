//! Profiling: who is this customer? RFM scores and named segments, value tiers,
//! behavioural clusters, habits and risk flags.

mod clusters;
mod habits;
mod rfm;
mod tiers;

pub use clusters::{
    adjusted_rand_index, silhouette, ClusterMethod, ClusterOptions, ClusterProfile, Clusters,
    Features,
};
pub use habits::{HabitOptions, Habits, RiskFlags, RiskOptions};
pub use rfm::{RfmOptions, RfmScores, SegmentMap, SegmentValue};
pub use tiers::{Tier, TierOptions, TierSummary, Tiers};
