//! Integration tests, one binary (polars-style `tests/it/`).
mod cdnow;
mod loading;
mod numerics;
mod pareto;
mod persistency;
mod profitability;
mod streaming;
mod summary_props;
mod synth;
