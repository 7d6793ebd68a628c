//! Identity resolution from the command line: deduplicate one file of customer records,
//! or link two, and write the matched pairs and the clusters.
//!
//! ```text
//! cargo run --release --example dedupe -- FILE [--link FILE2] --id COLUMN \
//!     --field COLUMN:KIND [--field ...] [--block COLUMN[,COLUMN] ...] [--threshold P] \
//!     [--strict P] [--source COLUMN] [--truth COLUMN] [--seed N] [--explain ID,ID ...] \
//!     --json [--out-pairs F] [--out-clusters F]
//! ```
//! KIND is one of `name, text, date, number, postcode, phone, email, address, id`; dates
//! may be `YYYYMMDD` or `YYYY-MM-DD` (and the other forms `acrm::identity` documents).
//! Each `--block` is one rule: records agreeing exactly on all its columns (after
//! normalisation) are compared; several rules are a union. Without `--block` the rules
//! are chosen from the data. `--threshold` (default 0.5) is the match probability at or
//! above which a pair is a match; `--strict` resists chaining (two groups join only if no
//! compared pair between them is below it). `--source` names a column holding each
//! record's source (default: the file name). `--truth` names a column with the true
//! entity of each record (never used for matching): the JSON then has `evaluation`
//! (precision, recall and F1 of the matched pairs, of the pairs the clusters imply and of
//! exact clusters, and the blocking's pair completeness).
//!
//! `--out-pairs` writes `left_id,right_id,match_probability` for every pair at or above
//! the threshold (with `--link`, left ids from FILE, right ids from FILE2);
//! `--out-clusters` writes `rec_id,cluster_id` for every record (deduplication only; the
//! cluster id is the golden id). `--json` prints `records, candidate_pairs,
//! reduction_ratio, matches, clusters, em_iterations, fields` (per field its levels with
//! the estimated m and u), `blocking_rules`, `threshold`, `merged_records`, `lambda` and
//! `elapsed_ms`; with `--explain`, `explain`: per pair its prior, per field the level, m,
//! u and weight (term-frequency adjustment included), the total weight and the match
//! probability. Bad input prints the file, line, column and value and exits with status
//! 1; a malformed `--field`, `--block` or `--explain`, or `--out-clusters` with `--link`,
//! exits with status 2.
//!
//! Nulls: `clusters` with `--link` (linking pairs records across the files, it does not
//! cluster them); `explain[].fields[].level` when one of the two records lacks the field,
//! so the field is not compared (its weight is then 0).

mod common;

use std::io::{BufWriter, Write};
use std::process::ExitCode;
use std::time::Instant;

use acrm::data::{CustomerRecords, FieldKind};
use acrm::identity::{BlockingOptions, BlockingRule, Key, ResolveOptions};
use acrm::io::{CustomerRecordCsv, Table};
use clap::Parser;
use common::{outln, Stop};
use serde_json::{json, Value};

/// Deduplicates (or links) customer records.
#[derive(Parser, Debug)]
#[command(name = "dedupe")]
struct Args {
    /// The records (CSV with a header)
    file: String,
    /// A second file to link FILE to (each file without duplicates of its own)
    #[arg(long)]
    link: Option<String>,
    /// The column of each record's id
    #[arg(long)]
    id: String,
    /// A field to compare, as COLUMN:KIND
    #[arg(long = "field", required = true)]
    fields: Vec<String>,
    /// A blocking rule: columns that must agree exactly (comma-separated)
    #[arg(long = "block")]
    blocks: Vec<String>,
    /// Match probability at or above which a pair is a match
    #[arg(long, default_value_t = 0.5)]
    threshold: f64,
    /// Anti-chaining threshold
    #[arg(long)]
    strict: Option<f64>,
    /// The column naming each record's source
    #[arg(long)]
    source: Option<String>,
    /// A column with each record's true entity, for evaluation only
    #[arg(long)]
    truth: Option<String>,
    /// Seed of the random pairs that estimate u
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Print JSON
    #[arg(long)]
    json: bool,
    /// Write the matched pairs here
    #[arg(long = "out-pairs")]
    out_pairs: Option<String>,
    /// Write every record's cluster here
    #[arg(long = "out-clusters")]
    out_clusters: Option<String>,
    /// Explain the score of a pair, as ID,ID (FILE's id first when linking)
    #[arg(long = "explain")]
    explain: Vec<String>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    common::exit(run(&args))
}

fn run(args: &Args) -> Result<(), Stop> {
    let start = Instant::now();
    if args.link.is_some() && args.out_clusters.is_some() {
        return Err(Stop::usage(
            "--out-clusters is for deduplication (without --link)",
        ));
    }
    let mut reader = CustomerRecordCsv::new(&args.id);
    for f in &args.fields {
        let (col, kind) = f
            .rsplit_once(':')
            .ok_or_else(|| Stop::usage(format!("--field {f:?}: expected COLUMN:KIND")))?;
        let kind: FieldKind = kind
            .parse()
            .map_err(|e| Stop::usage(format!("--field {f:?}: {e}")))?;
        reader = reader.field(col, kind);
    }
    if let Some(s) = &args.source {
        reader = reader.source_column(s);
    }
    let read = |path: &str| -> Result<CustomerRecords, String> {
        reader.read_path(path).map_err(|e| format!("{path}: {e}"))
    };
    let left = read(&args.file)?;
    let right = args.link.as_deref().map(read).transpose()?;
    let names: Vec<&str> = left.fields().iter().map(|f| f.name.as_str()).collect();
    let mut rules = Vec::new();
    for b in &args.blocks {
        let fields = b
            .split(',')
            .map(|c| {
                names.iter().position(|n| *n == c.trim()).ok_or_else(|| {
                    Stop::usage(format!(
                        "--block {b:?}: {c:?} is not one of the --field columns {names:?}"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        rules.push(BlockingRule::Keys(
            fields.into_iter().map(Key::Exact).collect(),
        ));
    }
    let blocking = if rules.is_empty() {
        BlockingOptions::new()
    } else {
        BlockingOptions::new().rules(rules)
    };
    let options = ResolveOptions::new()
        .blocking(blocking)
        .threshold(args.threshold)
        .strict(args.strict)
        .seed(args.seed);
    let resolution = match &right {
        Some(r) => options.compute_link(&left, r),
        None => options.compute(&left),
    }
    .map_err(|e| match &args.link {
        Some(link) => format!("{} and {link}: {e}", args.file),
        None => format!("{}: {e}", args.file),
    })?;
    let matches = resolution.matches();
    let id_of = |i: u32, side_right: bool| -> &str {
        match (&right, side_right) {
            (Some(r), true) => r.id(i as usize),
            _ => left.id(i as usize),
        }
    };
    if let Some(path) = &args.out_pairs {
        let mut w = create(path)?;
        let mut write = || -> std::io::Result<()> {
            writeln!(w, "left_id,right_id,match_probability")?;
            for m in &matches {
                writeln!(
                    w,
                    "{},{},{}",
                    id_of(m.left, false),
                    id_of(m.right, right.is_some()),
                    m.probability
                )?;
            }
            w.flush()
        };
        write().map_err(|e| format!("{path}: {e}"))?;
    }
    if let Some(path) = &args.out_clusters {
        let mut w = create(path)?;
        let mut write = || -> std::io::Result<()> {
            writeln!(w, "rec_id,cluster_id")?;
            for i in 0..left.len() {
                writeln!(w, "{},{}", left.id(i), resolution.golden_id(i))?;
            }
            w.flush()
        };
        write().map_err(|e| format!("{path}: {e}"))?;
    }
    let evaluation = match &args.truth {
        Some(col) => {
            let truth_of = |path: &str| -> Result<Vec<String>, String> {
                let t = Table::read_path(path).map_err(|e| format!("{path}: {e}"))?;
                t.text(col).map_err(|e| format!("{path}: {e}"))
            };
            let mut truth = truth_of(&args.file)?;
            if let Some(l) = &args.link {
                truth.extend(truth_of(l)?);
            }
            let e = resolution
                .evaluate(&truth)
                .map_err(|e| format!("--truth {col}: {e}"))?;
            Some(serde_json::to_value(e).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    let mut explained = Vec::new();
    for e in &args.explain {
        let (a, b) = e
            .split_once(',')
            .ok_or_else(|| Stop::usage(format!("--explain {e:?}: expected ID,ID")))?;
        let find = |id: &str, records: &CustomerRecords, path: &str, offset: usize| {
            (0..records.len())
                .find(|&i| records.id(i) == id.trim())
                .map(|i| i + offset)
                .ok_or_else(|| format!("{path}: --explain {e:?}: no record has id {id:?}"))
        };
        let i = find(a, &left, &args.file, 0)?;
        let j = match (&right, &args.link) {
            (Some(r), Some(link)) => find(b, r, link, left.len())?,
            _ => find(b, &left, &args.file, 0)?,
        };
        let x = resolution.explain(i, j).map_err(|e| e.to_string())?;
        let fields: Vec<Value> = resolution
            .fields
            .iter()
            .zip(&x.fields)
            .map(|(f, w)| {
                json!({
                    "field": f.name,
                    "level": w.level.map(|l| f.levels[l as usize].label.clone()),
                    "m": w.m, "u": w.u, "weight": w.weight,
                })
            })
            .collect();
        explained.push(json!({
            "left_id": a.trim(), "right_id": b.trim(), "prior": x.prior, "fields": fields,
            "total": x.total, "probability": x.probability,
        }));
    }
    let elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
    let r = &resolution.report;
    if args.json {
        let fields: Vec<Value> = resolution
            .fields
            .iter()
            .map(|f| {
                json!({
                    "field": f.name,
                    "kind": f.kind.name(),
                    "term_frequency": f.term_frequency,
                    "levels": f.levels.iter().map(|l| json!({
                        "label": l.label, "m": l.m, "u": l.u, "weight": l.weight,
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut out = json!({
            "records": r.records,
            "candidate_pairs": r.candidate_pairs,
            "reduction_ratio": r.reduction_ratio,
            "matches": r.matches,
            "clusters": if right.is_some() { Value::Null } else { json!(r.clusters) },
            "merged_records": r.merged_records,
            "em_iterations": r.em_iterations,
            "lambda": resolution.model.model.lambda(),
            "threshold": args.threshold,
            "blocking_rules": resolution.blocking.rules.iter().map(|r| &r.rule).collect::<Vec<_>>(),
            "fields": fields,
            "elapsed_ms": elapsed_ms,
        });
        if let Some(e) = evaluation {
            out["evaluation"] = e;
        }
        if !explained.is_empty() {
            out["explain"] = Value::Array(explained);
        }
        outln!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
    } else {
        outln!(
            "{} records, {} candidate pairs (reduction ratio {:.6}), {} matches, {} clusters, \
             EM {} iterations, {:.0} ms",
            r.records,
            r.candidate_pairs,
            r.reduction_ratio,
            r.matches,
            r.clusters,
            r.em_iterations,
            elapsed_ms
        );
        for f in &resolution.fields {
            let levels: Vec<String> = f
                .levels
                .iter()
                .map(|l| format!("{} m={:.3} u={:.2e}", l.label, l.m, l.u))
                .collect();
            outln!("  {} ({}): {}", f.name, f.kind, levels.join("; "));
        }
        if let Some(e) = evaluation {
            outln!("  evaluation: {e}");
        }
        for x in &explained {
            outln!("  explain: {x}");
        }
    }
    Ok(())
}

fn create(path: &str) -> Result<BufWriter<std::fs::File>, String> {
    std::fs::File::create(path)
        .map(BufWriter::new)
        .map_err(|e| format!("{path}: {e}"))
}
