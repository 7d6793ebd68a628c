#![doc = include_str!("../README.md")]
//!
//! # Module map
//!
//! | 7P area | module | status |
//! |---|---|---|
//! | (foundation) data model | [`data`] | ids, customers, products, columnar transaction log, baskets; the organisation, dated ownership, scopes and the scoped [`View`] every analysis reads through |
//! | (foundation) time | [`time`] | units as types, day numbers, date parsing |
//! | (foundation) per-customer statistics | [`summary`] | RFM sufficient statistics, calibration/holdout split, compact patterns, the per-customer feature frame |
//! | (foundation) numerics | [`numerics`] | log-space ₂F₁, maximum-likelihood fits and their reports, bootstrap, classification and survival metrics (AUC, concordance), partition metrics (silhouette, ARI) |
//! | (edge) input/output | [`io`] | CSV in (parallel) and out: transaction logs, summaries, BG/BB and sBG inputs, baskets, organisations and ownership |
//! | (edge) synthetic data | [`synth`] | BG/NBD and Pareto/NBD histories with Gamma-Gamma spend; market baskets with planted patterns; order lines over several years with planted changes |
//! | Profiling | [`profiling`] | RFM scores and segments, value tiers, behavioural clusters, habits and risk flags |
//! | Persistency | [`persistency`] | two families: purchase models (BG/NBD, MBG/NBD, Pareto/NBD, BG/BB, shifted-beta-geometric; holdout scorecard) and retention (Kaplan–Meier, log-rank, Cox; customer lifetimes, cohort tables, overdue customers, churn scores) |
//! | Profitability | [`profitability`] | net profit and cost to serve, Gamma-Gamma spend, discounted CLV, whale curve |
//! | Performance | [`performance`] | the sales cube (grouping sets, drill-down, top-N), period-over-period change (LMDI-I; margin volume / mix / rate), plan vs actual, rep performance, tier migration |
//! | Prospecting | [`prospecting`] | acquisition (Bass) and customer-base forecasts, the weighted pipeline by week and 13-week quarter with calibrated win rates and quarter outcomes, the funnel from contact to order, win/loss and sales cycles, lead scoring |
//! | Product | [`product`] | baskets, FP-growth itemsets, association rules, cross-sell, segment affinity, price elasticity |
//! | Promotion | [`promotion`] | campaign results with significance and ROI, uplift models and their curves, budgeted targeting, attribution, budget allocation |
//! | Identity | [`identity`] | normalisation, blocking, comparison levels, Fellegi–Sunter scoring with EM, clustering and golden records, the id map applied at load |
//!
//! # Layering
//!
//! Dependencies point down only:
//!
//! ```text
//! examples/, benches/, tests/     the public API only
//! io, synth                       edge modules: nothing in src/ imports them
//! analysis modules                profiling, persistency, ... : never import each other
//! summary                         per-customer sufficient statistics
//! data, time                      typed records, ids, columnar stores
//! numerics                        special functions, optimiser glue
//! ```
//!
//! When two analysis modules need the same thing, it moves down a layer.
//!
//! # One analysis shape
//!
//! Settings are an `…Options` builder (`validate()` checks them, and the verb checks them
//! again); a table comes from `options.compute(input)`, a model from `options.fit(input)`
//! as [`Fitted`] `{ model, report }`; published parameters plug into `Model::new(..)?`.
//! Data comes in through a [`View`] of the customers a [`Scope`] reaches, and every
//! per-customer result says which scope it was computed under.

pub mod data;
#[cfg(feature = "datafusion")]
pub mod engine;
mod error;
pub mod identity;
pub mod io;
pub mod numerics;
pub mod performance;
pub mod persistency;
pub mod product;
pub mod profiling;
pub mod profitability;
pub mod promotion;
pub mod prospecting;
pub mod summary;
pub mod synth;
pub mod time;

pub use data::{Dataset, Scope, View};
pub use error::{BatchError, Error, Problem, Result, RowError};

pub use numerics::{FitOptions, Fitted};
pub use summary::{SplitOptions, Summary, SummaryOptions};
pub use time::{Days, Months, Period, Span, TimeUnit, Weeks};

pub use linfa;
pub use ndarray;
