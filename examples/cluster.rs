//! Clusters the rows of a numeric CSV (a header of feature names, one row per customer)
//! with the library's k-means or Gaussian mixture, on standardised columns.
//!
//! ```text
//! cargo run --release --example cluster -- FILE --k K [--n-init N] [--seed S] \
//!     [--method kmeans|gmm] [--log-scale A,B] --json
//! ```
//! `--json` prints `rows`, `columns`, `k`, `sizes`, `inertia` (sum of squared distances
//! in the standardised space, scikit-learn's convention), `read_ms` and `elapsed_ms` (the
//! clustering alone). Used by benches/compare/kmeans_vs_sklearn.py.

mod common;

use std::process::ExitCode;
use std::time::Instant;

use acrm::data::Rows;
use acrm::io::Table;
use acrm::profiling::{ClusterMethod, ClusterOptions, Features};
use clap::{Parser, ValueEnum};
use common::{outln, Stop};
use ndarray::Array2;
use serde_json::json;

/// Clusters the rows of a numeric CSV (a header of feature names, one row per customer)
/// with the library's k-means or Gaussian mixture, on standardised columns, and prints
/// the result as JSON.
///
/// JSON keys: `rows`, `columns`, `k`, `sizes`, `inertia` (sum of squared distances in the
/// standardised space, scikit-learn's convention), `read_ms` and `elapsed_ms` (the
/// clustering alone).
#[derive(Parser)]
#[command(name = "cluster", args_override_self = true)]
struct Args {
    /// A CSV with a header of feature names and numbers in every field.
    #[arg(value_name = "FILE")]
    file: String,
    /// Number of clusters.
    #[arg(long, value_name = "K")]
    k: usize,
    /// Runs from different starting points; the best is kept.
    #[arg(long, value_name = "N", default_value_t = 1)]
    n_init: usize,
    /// Seed of the starting points.
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    /// Clustering method.
    #[arg(long, value_enum, default_value = "kmeans")]
    method: Method,
    /// Columns to log-scale (ln(1 + v)) before standardising, comma-separated.
    #[arg(long, value_name = "A,B", value_delimiter = ',')]
    log_scale: Vec<String>,
    /// Print JSON (the only output; accepted as the documented usage has it).
    #[arg(long)]
    #[allow(dead_code)]
    json: bool,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Method {
    /// k-means (Lloyd's algorithm, greedy k-means++ initialisation).
    Kmeans,
    /// Gaussian mixture with full covariances, k-means initialisation.
    Gmm,
}

fn run(args: &Args) -> Result<(), Stop> {
    let file = &args.file;
    let method = match args.method {
        Method::Kmeans => ClusterMethod::KMeans,
        Method::Gmm => ClusterMethod::GaussianMixture,
    };
    let t0 = Instant::now();
    let err = |e: acrm::Error| format!("{file}: {e}");
    let table = Table::read_path(file).map_err(err)?;
    let names: Vec<String> = table.header().to_vec();
    let columns = names
        .iter()
        .map(|n| table.numbers(n))
        .collect::<acrm::Result<Vec<_>>>()
        .map_err(err)?;
    let rows = table.len();
    let raw = Array2::from_shape_fn((rows, names.len()), |(i, j)| columns[j][i]);
    let log_scaled = names.iter().map(|n| args.log_scale.contains(n)).collect();
    let ids = Rows::from_ids((1..=rows).map(|i| i.to_string()));
    let features =
        Features::new(ids, names.clone(), raw, log_scaled, vec![0.0; rows]).map_err(err)?;
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let clusters = ClusterOptions::new()
        .method(method)
        .k(args.k)
        .n_init(args.n_init)
        .seed(args.seed)
        .fit(&features)
        .map_err(err)?;
    let elapsed_ms = t1.elapsed().as_secs_f64() * 1e3;
    let out = json!({
        "rows": rows,
        "columns": names,
        "k": clusters.model.k,
        "sizes": clusters.model.sizes(),
        "inertia": clusters.report.inertia,
        "read_ms": read_ms,
        "elapsed_ms": elapsed_ms,
    });
    outln!("{out}");
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::exit(run(&args))
}
