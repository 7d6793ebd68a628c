//! Integration tests, one binary (polars-style `tests/it/`).
mod bgbb;
mod cdnow;
mod extremes;
mod invariants;
mod loading;
mod numerics;
mod pareto;
mod persistency;
mod profiling;
mod profitability;
mod recovery;
mod sbg;
mod scorecard;
mod streaming;
mod summary_props;
mod synth;
