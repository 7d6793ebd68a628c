//! Numerical building blocks shared by the analysis modules: special functions in log
//! space, and the glue between likelihoods and the optimiser (fit reports, standard
//! errors from the observed information).

mod dual;
mod fit;
mod quadrature;
mod special;

pub(crate) use dual::{log_sum_exp_all, Dual};
pub(crate) use fit::{minimize, sum_ordered, Objective};
pub use fit::{FitOptions, FitReport, Termination};
pub(crate) use quadrature::log_concave_rule;
pub(crate) use special::{digamma, ln_beta, ln_gamma};
pub use special::{ln_hyp2f1, log_sum_exp};
