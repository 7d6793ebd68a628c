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

use std::process::ExitCode;
use std::time::Instant;

use acrm::profiling::{ClusterMethod, ClusterOptions, Features};
use ndarray::Array2;
use serde_json::json;

const USAGE: &str = "usage: cluster FILE --k K [--n-init N] [--seed S] [--method kmeans|gmm] \
[--log-scale A,B] --json";

fn run() -> Result<(), String> {
    let mut it = std::env::args().skip(1);
    let (mut file, mut k, mut n_init, mut seed) = (None, None, 1usize, 42u64);
    let mut method = ClusterMethod::KMeans;
    let mut log_cols: Vec<String> = Vec::new();
    let num = |name: &str, v: Option<String>| -> Result<u64, String> {
        let v = v.ok_or(format!("{name} needs a value"))?;
        v.parse()
            .map_err(|_| format!("{name} {v:?} is not a whole number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--k" => k = Some(num("--k", it.next())? as usize),
            "--n-init" => n_init = num("--n-init", it.next())? as usize,
            "--seed" => seed = num("--seed", it.next())?,
            "--method" => {
                method = match it.next().as_deref() {
                    Some("kmeans") => ClusterMethod::KMeans,
                    Some("gmm") => ClusterMethod::GaussianMixture,
                    other => return Err(format!("--method {other:?}: use kmeans or gmm")),
                }
            }
            "--log-scale" => {
                let v = it.next().ok_or("--log-scale needs a list")?;
                log_cols = v.split(',').map(str::to_string).collect();
            }
            "--json" => {}
            "-h" | "--help" => return Err(USAGE.into()),
            f if !f.starts_with("--") && file.is_none() => file = Some(f.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    let file = file.ok_or(USAGE)?;
    let k = k.ok_or("--k is required")?;
    let t0 = Instant::now();
    let mut reader = csv::Reader::from_path(&file).map_err(|e| format!("{file}: {e}"))?;
    let names: Vec<String> = reader
        .headers()
        .map_err(|e| format!("{file}: {e}"))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut values = Vec::new();
    for (line, rec) in reader.records().enumerate() {
        let rec = rec.map_err(|e| format!("{file}: {e}"))?;
        for (j, field) in rec.iter().enumerate() {
            let v: f64 = field.trim().parse().map_err(|_| {
                format!(
                    "{file} line {}: column `{}` has {field:?}, not a number",
                    line + 2,
                    names[j]
                )
            })?;
            values.push(v);
        }
    }
    let rows = values.len() / names.len().max(1);
    let raw = Array2::from_shape_vec((rows, names.len()), values).map_err(|e| e.to_string())?;
    let log_scaled = names.iter().map(|n| log_cols.contains(n)).collect();
    let features = Features::new(names.clone(), raw, log_scaled, vec![0.0; rows])
        .map_err(|e| e.to_string())?;
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;
    let t1 = Instant::now();
    let clusters = ClusterOptions::new()
        .method(method)
        .k(k)
        .n_init(n_init)
        .seed(seed)
        .fit(&features)
        .map_err(|e| e.to_string())?;
    let elapsed_ms = t1.elapsed().as_secs_f64() * 1e3;
    let out = json!({
        "rows": rows,
        "columns": names,
        "k": clusters.k,
        "sizes": clusters.sizes(),
        "inertia": clusters.inertia,
        "read_ms": read_ms,
        "elapsed_ms": elapsed_ms,
    });
    println!("{out}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
