//! Profiling: who is this customer? RFM scores and named segments, value tiers,
//! behavioural clusters, habits and risk flags.

mod clusters;
mod habits;
mod rfm;
mod tiers;

pub use clusters::{
    ClusterMethod, ClusterOptions, ClusterProfile, ClusterReport, Clusters, Distinguishing,
    FeatureOptions, Features, SilhouetteScore,
};
pub use habits::{HabitOptions, Habits, Halves, RiskFlags, RiskOptions};
pub use rfm::{RfmOptions, RfmScores, SegmentCount, SegmentMap, SegmentValue};
pub use tiers::{Tier, TierOptions, TierSummary, Tiers};
