//! Promotion: did the campaign work, for whom, and where should the next budget go.
//!
//! Campaign results per arm with their significance and economics, uplift models and
//! their evaluation (Qini and uplift curves as scikit-uplift defines them), budgeted
//! targeting, attribution of conversions to the channels of touch paths, and the
//! allocation of a budget across campaigns and channels. Tables computed from campaign
//! contacts or touches read them through a view of the customers a scope reaches and
//! carry its scope; models and metrics fitted to arrays take the arrays as given.

pub mod campaign;
pub mod sample_size;

pub use campaign::{
    ArmResult, CampaignGroup, CampaignGrouping, CampaignOptions, CampaignResults, Comparison,
    CostSource, OutcomeRate, ValueSource, ANY_ARM, WINDOW_OUTCOME,
};
pub use sample_size::{SampleSize, SampleSizeEstimate, SampleSizeOptions};
