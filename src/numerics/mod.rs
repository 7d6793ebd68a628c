//! Numerical building blocks shared by the analysis modules: special functions in log
//! space, and the glue between likelihoods and the optimiser (fit reports, standard
//! errors from the observed information).

mod fit;
mod special;

pub(crate) use fit::{minimize, Objective, Settings};
pub use fit::{FitReport, Termination};
pub(crate) use special::{digamma, ln_beta, ln_gamma};
pub use special::{ln_hyp2f1, log_sum_exp};
