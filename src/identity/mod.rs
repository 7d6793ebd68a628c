//! Identity resolution: one customer across dealers, the service desk, the call centre
//! and the web site.
//!
//! Records are normalised per field kind, paired by blocking rules, compared field by
//! field into graded levels, scored by the Fellegi–Sunter model (m and u probabilities
//! estimated without labels), clustered, and each cluster given a golden record and a
//! golden id that the data layer applies when transactions are loaded.

pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod fellegi_sunter;
pub mod normalize;
pub mod phonetic;
pub mod resolve;
pub mod strings;

pub use blocking::{
    AutoCandidate, AutoReport, Blocking, BlockingOptions, BlockingReport, BlockingRule, Key,
    RuleReport, DEFAULT_MAX_CANDIDATES,
};
pub use cluster::{
    golden_records, ClusterOptions, Clusters, GoldenField, GoldenRecords, Survivorship,
};
pub use compare::{Comparison, LevelPredicate, MISSING};
pub use fellegi_sunter::{
    estimate_u, estimate_u_or, ComparisonVectors, EmReport, Explanation, FellegiSunter,
    FellegiSunterOptions, Probabilities, UEstimate,
};
pub use normalize::{nickname_root, normalize, NormalizedColumn};
pub use phonetic::Phonetic;
pub use resolve::{
    BatchReport, EmEstimation, Estimation, Evaluation, FieldModel, GoldenRecord, LabelledPair,
    LevelModel, MatchedPair, Quality, Resolution, ResolveOptions, ResolveReport, Session, UFrom,
};
