//! Numerical building blocks shared by the analysis modules: special functions in log
//! space, and the glue between likelihoods and the optimiser (fit reports, standard
//! errors from the observed information).

mod bootstrap;
mod concordance;
mod dual;
mod fit;
mod fixed;
mod forest;
mod linalg;
mod logit;
mod metrics;
mod nls;
mod partition;
mod quadrature;
mod reduce;
mod retention;
mod special;
mod stats;
pub mod survival;
mod two_sample;

pub use bootstrap::{Bootstrap, BootstrapOptions, Interval};
pub use concordance::concordance_index;
pub(crate) use concordance::{harrell, order_key};
pub(crate) use dual::{log_sum_exp_all, Dual};
#[cfg(test)]
pub(crate) use fit::gradient_mismatch;
pub(crate) use fit::{check_positive, minimize, sum_ordered, warm_sample, Objective};
pub use fit::{FitData, FitOptions, FitReport, Fitted, MaximumLikelihood, Termination};
pub use fixed::FixedSum;
pub(crate) use forest::{Forest, ForestOptions};
pub(crate) use linalg::{add_cross_product, cholesky, cholesky_solve, invert_spd};
pub(crate) use logit::sigmoid;
pub use logit::{Logit, LogitCoefficient, LogitOptions, LogitReport, INTERCEPT};
pub use metrics::{
    brier, evaluate, lift_table, pr_auc, reliability, roc_auc, top_decile_lift, DecileRow,
    Evaluation, ReliabilityBin,
};
pub use nls::NlsTermination;
pub(crate) use nls::{LeastSquares, NlsRun};
pub(crate) use partition::mean_silhouettes;
pub use partition::{adjusted_rand_index, silhouette};
pub(crate) use quadrature::{beta_expectation, log_concave_rule};
pub(crate) use reduce::{column_mean_sd, sum_blocks, sum_chunked};
pub use reduce::{median, top_indices, top_share};
pub use retention::{Retention, RetentionCurve};
pub(crate) use special::{digamma, ln_beta, ln_gamma, trigamma};
pub use special::{ln_hyp2f1, log_sum_exp};
pub use stats::{chi2_independence, two_proportion_z, wilson, ChiSquare, Proportion, ZTest};
pub use two_sample::{
    difference_interval_newcombe, difference_interval_wald, normal_two_sided_p, welch_t,
    DifferenceInterval, SampleMoments, WelchTest,
};
