//! `uplift fit`: fits an uplift model to a campaign CSV and writes each row's score.
//!
//! The CSV has a header row and one row per customer: a 0/1 treatment column (1
//! treated), a 0/1 outcome column (1 positive), optionally an id column, and numeric
//! features (by default every other column). The scores file has the id column (when
//! `--id` is given) and an `uplift` column, one row per input row in input order — the
//! input of `uplift evaluate --score uplift`. The JSON summary on stdout holds `model`,
//! `rows`, `treated`, `control`, `treated_rate`, `control_rate`, `features`,
//! `mean_uplift`, `read_ms`, `fit_ms`, `score_ms`, and per model: `trees`, `leaves`,
//! `max_depth` (tree, forest); `treated_share` (class transformation).

use std::time::Instant;

use crate::common::{outln, Stop};
use acrm::io::Table;
use acrm::ndarray::Array2;
use acrm::numerics::LogitOptions;
use acrm::promotion::{
    ClassTransformationOptions, Classifier, ForestClassifier, SplitCriterion, TwoModelOptions,
    UpliftData, UpliftForestOptions, UpliftTreeOptions,
};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

/// The uplift model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Method {
    /// One classifier per group (T-learner): P(y | x, treated) − P(y | x, control).
    TwoModel,
    /// One classifier of z = y t + (1 − y)(1 − t): 2 P(z | x) − 1 (needs a balanced
    /// treatment).
    ClassTransformation,
    /// One uplift tree (causalml's UpliftTreeClassifier).
    Tree,
    /// An uplift random forest (causalml's UpliftRandomForestClassifier).
    Forest,
}

/// The classifier of the two-model and class-transformation models.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClassifierArg {
    /// Logistic regression (maximum likelihood).
    Logit,
    /// Random forest of probability trees.
    Forest,
}

/// Arguments of `uplift fit`.
#[derive(Args, Debug)]
pub struct FitArgs {
    /// A CSV with a header row, one customer per row.
    #[arg(value_name = "FILE")]
    pub file: String,
    /// The treatment column: 1 treated, 0 control.
    #[arg(long, value_name = "COLUMN")]
    pub treatment: String,
    /// The outcome column: 1 positive, 0 negative.
    #[arg(long, value_name = "COLUMN")]
    pub outcome: String,
    /// An id column, copied to the scores (not a feature).
    #[arg(long, value_name = "COLUMN")]
    pub id: Option<String>,
    /// Feature columns, comma-separated (default: every other column).
    #[arg(long, value_name = "COL,COL", value_delimiter = ',')]
    pub features: Vec<String>,
    /// The model.
    #[arg(long, value_enum, default_value = "forest")]
    pub model: Method,
    /// The classifier of `two-model` and `class-transformation`.
    #[arg(long, value_enum, default_value = "logit")]
    pub classifier: ClassifierArg,
    /// Trees of the uplift forest (or of the classifier forest).
    #[arg(long)]
    pub trees: Option<usize>,
    /// Deepest split level of the trees.
    #[arg(long)]
    pub max_depth: Option<usize>,
    /// Least rows in a leaf (uplift trees and forests).
    #[arg(long)]
    pub min_samples_leaf: Option<usize>,
    /// Least treated and least control rows in each child (uplift trees and forests).
    #[arg(long)]
    pub min_samples_treatment: Option<usize>,
    /// Regularisation weight toward the parent's rates (uplift trees and forests).
    #[arg(long)]
    pub n_reg: Option<f64>,
    /// Features drawn per split (uplift trees and forests; default: 10 for a forest, all
    /// for a tree).
    #[arg(long)]
    pub max_features: Option<usize>,
    /// Split criterion of uplift trees and forests.
    #[arg(long, value_parser = parse_criterion, default_value = "kl")]
    pub criterion: SplitCriterion,
    /// Do not divide split gains by the normalisation factor.
    #[arg(long)]
    pub no_normalization: bool,
    /// Seed of the forests.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Where to write the scores (CSV: the id column if given, then `uplift`).
    #[arg(long, value_name = "scores.csv")]
    pub out: String,
}

fn parse_criterion(s: &str) -> Result<SplitCriterion, String> {
    s.parse().map_err(|e: acrm::Error| e.to_string())
}

/// Runs `uplift fit`.
pub fn run(args: FitArgs) -> Result<(), Stop> {
    let file = &args.file;
    let err = |e: acrm::Error| format!("{file}: {e}");
    let t0 = Instant::now();
    let table = Table::read_path(file).map_err(err)?;
    let treatment = table.flags(&args.treatment).map_err(err)?;
    let outcome = table.flags(&args.outcome).map_err(err)?;
    let ids = match &args.id {
        Some(id) => Some(table.text(id).map_err(err)?),
        None => None,
    };
    let features: Vec<String> = if args.features.is_empty() {
        table
            .header()
            .iter()
            .filter(|h| {
                **h != args.treatment && **h != args.outcome && Some(*h) != args.id.as_ref()
            })
            .cloned()
            .collect()
    } else {
        args.features.iter().map(|f| f.trim().to_string()).collect()
    };
    if features.is_empty() {
        return Err(format!("{file}: no feature column").into());
    }
    let columns = features
        .iter()
        .map(|f| table.numbers(f))
        .collect::<Result<Vec<_>, _>>()
        .map_err(err)?;
    let n = table.len();
    drop(table);
    let x = Array2::from_shape_fn((n, features.len()), |(i, j)| columns[j][i]);
    drop(columns);
    let data = UpliftData::new(x.view(), &treatment, &outcome)
        .and_then(|d| d.names(&features))
        .map_err(err)?;
    let read_ms = t0.elapsed().as_secs_f64() * 1e3;

    let t1 = Instant::now();
    let classifier = match args.classifier {
        ClassifierArg::Logit => Classifier::Logit(LogitOptions::new()),
        ClassifierArg::Forest => {
            let mut f = ForestClassifier::new().seed(args.seed);
            if let Some(t) = args.trees {
                f = f.trees(t);
            }
            if let Some(d) = args.max_depth {
                f = f.max_depth(d);
            }
            Classifier::Forest(f)
        }
    };
    let mut extra = json!({});
    let (scores, fit_ms, score_ms) = match args.model {
        Method::TwoModel => {
            let fit = TwoModelOptions::new()
                .classifier(classifier)
                .fit(&data)
                .map_err(err)?;
            let fit_ms = t1.elapsed().as_secs_f64() * 1e3;
            let t2 = Instant::now();
            let s = fit.model.predict(x.view()).map_err(err)?;
            (s, fit_ms, t2.elapsed().as_secs_f64() * 1e3)
        }
        Method::ClassTransformation => {
            let fit = ClassTransformationOptions::new()
                .classifier(classifier)
                .fit(&data)
                .map_err(err)?;
            let fit_ms = t1.elapsed().as_secs_f64() * 1e3;
            extra = json!({ "treated_share": fit.report.treated_share });
            let t2 = Instant::now();
            let s = fit.model.predict(x.view()).map_err(err)?;
            (s, fit_ms, t2.elapsed().as_secs_f64() * 1e3)
        }
        Method::Tree => {
            let mut o = UpliftTreeOptions::new()
                .criterion(args.criterion)
                .normalization(!args.no_normalization)
                .seed(args.seed);
            if let Some(d) = args.max_depth {
                o = o.max_depth(d);
            }
            if let Some(v) = args.min_samples_leaf {
                o = o.min_samples_leaf(v);
            }
            if let Some(v) = args.min_samples_treatment {
                o = o.min_samples_treatment(v);
            }
            if let Some(v) = args.n_reg {
                o = o.n_reg(v);
            }
            if args.max_features.is_some() {
                o = o.max_features(args.max_features);
            }
            let fit = o.fit(&data).map_err(err)?;
            let fit_ms = t1.elapsed().as_secs_f64() * 1e3;
            extra = json!({
                "trees": 1, "leaves": fit.report.leaves, "max_depth": fit.report.depth,
            });
            let t2 = Instant::now();
            let s = fit.model.predict(x.view()).map_err(err)?;
            (s, fit_ms, t2.elapsed().as_secs_f64() * 1e3)
        }
        Method::Forest => {
            let mut o = UpliftForestOptions::new()
                .criterion(args.criterion)
                .normalization(!args.no_normalization)
                .seed(args.seed);
            if let Some(t) = args.trees {
                o = o.trees(t);
            }
            if let Some(d) = args.max_depth {
                o = o.max_depth(d);
            }
            if let Some(v) = args.min_samples_leaf {
                o = o.min_samples_leaf(v);
            }
            if let Some(v) = args.min_samples_treatment {
                o = o.min_samples_treatment(v);
            }
            if let Some(v) = args.n_reg {
                o = o.n_reg(v);
            }
            if args.max_features.is_some() {
                o = o.max_features(args.max_features);
            }
            let fit = o.fit(&data).map_err(err)?;
            let fit_ms = t1.elapsed().as_secs_f64() * 1e3;
            extra = json!({
                "trees": fit.report.trees, "leaves": fit.report.leaves,
                "max_depth": fit.report.max_depth,
            });
            let t2 = Instant::now();
            let s = fit.model.predict(x.view()).map_err(err)?;
            (s, fit_ms, t2.elapsed().as_secs_f64() * 1e3)
        }
    };

    write_scores(&args.out, args.id.as_deref(), ids.as_deref(), &scores)
        .map_err(|e| format!("{}: {e}", args.out))?;
    let c = data.counts();
    let mut out = json!({
        "model": format!("{:?}", args.model),
        "rows": n,
        "treated": c.treated,
        "control": c.control,
        "treated_rate": c.treated_positive / c.treated,
        "control_rate": c.control_positive / c.control,
        "features": features,
        "mean_uplift": scores.iter().sum::<f64>() / n as f64,
        "read_ms": read_ms,
        "fit_ms": fit_ms,
        "score_ms": score_ms,
        "out": args.out,
    });
    if let (Value::Object(o), Value::Object(e)) = (&mut out, extra) {
        o.extend(e);
    }
    outln!("{out}");
    Ok(())
}

/// The scores as CSV: the id column when given, then `uplift`.
fn write_scores(
    path: &str,
    id_name: Option<&str>,
    ids: Option<&[String]>,
    scores: &[f64],
) -> Result<(), Box<dyn std::error::Error>> {
    let mut w = csv::Writer::from_path(path)?;
    match (id_name, ids) {
        (Some(name), Some(ids)) => {
            w.write_record([name, "uplift"])?;
            for (id, s) in ids.iter().zip(scores) {
                w.write_record([id.as_str(), &s.to_string()])?;
            }
        }
        _ => {
            w.write_record(["uplift"])?;
            for s in scores {
                w.write_record([s.to_string()])?;
            }
        }
    }
    w.flush()?;
    Ok(())
}
