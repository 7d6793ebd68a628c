//! Promotion: did the campaign work, for whom, and where should the next budget go.
//!
//! Campaign results per arm with their significance and economics, uplift models and
//! their evaluation (Qini and uplift curves as scikit-uplift defines them), budgeted
//! targeting, attribution of conversions to the channels of touch paths, and the
//! allocation of a budget across campaigns and channels. Tables computed from campaign
//! contacts or touches read them through a view of the customers a scope reaches and
//! carry its scope; models and metrics fitted to arrays take the arrays as given.

pub mod allocation;
pub mod attribution;
pub mod campaign;
pub mod evaluation;
pub mod sample_size;
pub mod targeting;
pub mod uplift;
pub mod uplift_tree;

pub use allocation::{
    Allocation, AllocationOptions, CandidateFit, CurrentAllocation, CurveChoice, CurveFamily,
    CurveReport, Estimate, Expected, GroupAllocation, GroupResponse, ResponseCurve,
    ResponseOptions, Responses, ResponsesReport, Total,
};
pub use attribution::{
    Attribution, AttributionModel, AttributionOptions, Credit, DecayUnit, MarkovChain, MarkovFit,
    Models,
};
pub use campaign::{
    ArmResult, CampaignGroup, CampaignGrouping, CampaignOptions, CampaignResults, Comparison,
    CostSource, OutcomeRate, ValueSource, ANY_ARM, WINDOW_OUTCOME,
};
pub use evaluation::{
    qini_auc_score, qini_curve, uplift_at_k, uplift_auc_score, uplift_by_percentile, uplift_curve,
    weighted_average_uplift, BinaryLabel, PercentileBin, TopK, UpliftCurve, UpliftSample,
    UpliftStrategy,
};
pub use sample_size::{SampleSize, SampleSizeEstimate, SampleSizeOptions};
pub use targeting::{
    Amounts, RealisedOutcome, Targeting, TargetingInput, TargetingOptions, TargetingStop,
};
pub use uplift::{
    ClassTransformation, ClassTransformationOptions, ClassTransformationReport, Classifier, Flag,
    ForestClassifier, TwoModel, TwoModelOptions, TwoModelReport, UpliftData,
};
pub use uplift_tree::{
    GroupCounts, GroupRates, SplitCriterion, UpliftForest, UpliftForestOptions, UpliftForestReport,
    UpliftTree, UpliftTreeOptions, UpliftTreeReport,
};
