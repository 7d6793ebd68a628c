//! Integration tests, one binary (polars-style `tests/it/`).
mod allocation;
#[cfg(feature = "arrow")]
mod arrow_io;
mod attribution;
mod base_forecast;
mod baskets;
mod bass;
mod bgbb;
mod campaign;
mod cdnow;
mod churn;
mod clusters;
mod crosssell;
mod cube;
mod elasticity;
#[cfg(feature = "datafusion")]
mod engine;
mod extremes;
mod funnel;
mod habits;
mod identity;
mod identity_blocking;
mod identity_cluster;
mod identity_compare;
mod identity_fs;
mod identity_load;
mod invariants;
mod leads;
mod loading;
mod numerics;
mod pareto;
mod persistency;
mod pipeline;
mod plan_reps_migration;
mod profiling;
mod profit;
mod profitability;
mod reader_props;
mod recovery;
mod reliability;
mod retention;
mod sbg;
mod scopes;
mod scorecard;
mod streaming;
mod summary_props;
mod survival;
mod synth;
mod synth_orders;
mod synth_people;
mod uplift_evaluation;
mod uplift_models;
mod uplift_targeting;
mod winloss;

/// A pool of `threads` threads, for checking that results do not depend on the count.
fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
}
