//! Profiling: who is this customer? RFM scores and named segments.
//!
//! Value tiers, behavioural clusters, habits and risk flags are planned (issue 4).

mod rfm;

pub use rfm::{RfmOptions, RfmScores, SegmentMap};
