//! `uplift evaluate`: how well a column of predicted uplift ranks the customers a
//! campaign moved, with the definitions of scikit-uplift 0.5.
//!
//! `--json` prints `n`, `n_treatment`, `qini_auc_score`,
//! `qini_auc_score_negative_effect_false`, `uplift_auc_score`, `uplift_at_k` (keyed by k
//! as given to `--k`, each `{overall, by_group}`), `weighted_average_uplift` (strategy
//! overall) and `uplift_by_percentile` (`{percentile, n_treatment, n_control,
//! response_rate_treatment, response_rate_control, uplift}` per bin). A number that
//! scikit-uplift would give as NaN (or fail on: a perfect Qini curve without negative
//! effects when the treated respond less than the control) is `null`. A k with a `.` is a
//! share of the rows, one without a count of rows. `--svg DIR` writes `qini.svg` and
//! `uplift.svg`: each curve against the random line and the perfect curve.

use std::collections::BTreeMap;
use std::time::Instant;

use crate::common::{outln, Stop};
use acrm::io::Table;
use acrm::promotion::{TopK, UpliftCurve, UpliftSample, UpliftStrategy};
use acrm::Error;
use plotters::prelude::*;
use serde_json::{json, Value};

/// Arguments of `evaluate`.
#[derive(clap::Args, Debug)]
pub struct EvaluateArgs {
    /// The scored CSV file (with a header row)
    file: String,
    /// Column of predicted uplift
    #[arg(long, value_name = "COLUMN")]
    score: String,
    /// Column of the treatment flag (1 treated, 0 control)
    #[arg(long, value_name = "COLUMN")]
    treatment: String,
    /// Column of the outcome (1 responded, 0 not)
    #[arg(long, value_name = "COLUMN")]
    outcome: String,
    /// Top shares (with a `.`) or counts of rows for uplift at k, comma-separated
    #[arg(long, default_value = "0.1,0.2,0.3,0.5", value_delimiter = ',')]
    k: Vec<String>,
    /// Bins of the uplift-by-percentile table and the weighted average uplift
    #[arg(long, default_value_t = 10)]
    bins: usize,
    /// Write `qini.svg` and `uplift.svg` into this directory
    #[arg(long, value_name = "DIR")]
    svg: Option<String>,
    /// Print one JSON object (otherwise a short report)
    #[arg(long)]
    json: bool,
}

/// A metric, or `None` where scikit-uplift has NaN (the metric is undefined on this data).
fn defined(file: &str, r: acrm::Result<f64>) -> Result<Option<f64>, String> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(Error::Degenerate { reason, .. }) => {
            eprintln!("note: {reason}");
            Ok(None)
        }
        Err(e) => Err(format!("{file}: {e}")),
    }
}

fn top_k(text: &str) -> Result<TopK, Stop> {
    if let Ok(count) = text.parse::<usize>() {
        return Ok(TopK::Count(count));
    }
    text.parse::<f64>().map(TopK::Fraction).map_err(|_| {
        Stop::usage(format!(
            "--k: {text:?} is neither a share such as 0.1 nor a count"
        ))
    })
}

/// Runs `evaluate`.
pub fn run(args: &EvaluateArgs) -> Result<(), Stop> {
    let ks = args
        .k
        .iter()
        .map(|k| Ok((k, top_k(k)?)))
        .collect::<Result<Vec<_>, Stop>>()?;
    let start = Instant::now();
    let table = Table::read_path(&args.file).map_err(|e| format!("{}: {e}", args.file))?;
    let read = |e: Error| format!("{}: {e}", args.file);
    let score = table.numbers(&args.score).map_err(read)?;
    let treatment = table.flags(&args.treatment).map_err(read)?;
    let outcome = table.flags(&args.outcome).map_err(read)?;
    let sample = UpliftSample::new(&outcome, &score, &treatment).map_err(read)?;

    let mut at_k = serde_json::Map::new();
    for (k, parsed) in ks {
        let overall = defined(
            &args.file,
            sample.uplift_at_k(parsed, UpliftStrategy::Overall),
        )?;
        let by_group = defined(
            &args.file,
            sample.uplift_at_k(parsed, UpliftStrategy::ByGroup),
        )?;
        at_k.insert(
            k.clone(),
            json!({ "overall": overall, "by_group": by_group }),
        );
    }
    let bins = sample
        .uplift_by_percentile(args.bins, UpliftStrategy::Overall)
        .map_err(read)?;
    let percentiles: Vec<Value> = bins
        .iter()
        .map(|b| {
            json!({
                "percentile": b.percentile,
                "n_treatment": b.n_treatment,
                "n_control": b.n_control,
                "response_rate_treatment": b.response_rate_treatment,
                "response_rate_control": b.response_rate_control,
                "uplift": b.uplift,
            })
        })
        .collect();
    let out = json!({
        "n": sample.len(),
        "n_treatment": sample.n_treatment(),
        "qini_auc_score": defined(&args.file, sample.qini_auc_score(true))?,
        "qini_auc_score_negative_effect_false": defined(&args.file, sample.qini_auc_score(false))?,
        "uplift_auc_score": defined(&args.file, sample.uplift_auc_score())?,
        "uplift_at_k": at_k,
        "weighted_average_uplift":
            defined(&args.file, sample.weighted_average_uplift(args.bins, UpliftStrategy::Overall))?,
        "uplift_by_percentile": percentiles,
        "elapsed_ms": start.elapsed().as_secs_f64() * 1e3,
    });
    if let Some(dir) = &args.svg {
        std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
        let perfect_qini = sample.perfect_qini_curve(true).map_err(read)?;
        plot(
            &sample.qini_curve(),
            &perfect_qini,
            "Qini curve",
            "incremental responders",
            &format!("{dir}/qini.svg"),
        )
        .map_err(|e| format!("{dir}/qini.svg: {e}"))?;
        plot(
            &sample.uplift_curve(),
            &sample.perfect_uplift_curve(),
            "Uplift curve",
            "uplift × customers targeted",
            &format!("{dir}/uplift.svg"),
        )
        .map_err(|e| format!("{dir}/uplift.svg: {e}"))?;
    }
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?
        );
    } else {
        let show = |v: &Value| v.as_f64().map_or("undefined".into(), |v| format!("{v:.4}"));
        outln!(
            "{} customers ({} treated): Qini coefficient {}, uplift AUC {}, weighted average uplift {}",
            sample.len(),
            sample.n_treatment(),
            show(&out["qini_auc_score"]),
            show(&out["uplift_auc_score"]),
            show(&out["weighted_average_uplift"]),
        );
        let ks: BTreeMap<_, _> = at_k.iter().collect();
        for (k, v) in ks {
            outln!(
                "  uplift in the top {k}: {} overall, {} by group",
                show(&v["overall"]),
                show(&v["by_group"])
            );
        }
    }
    Ok(())
}

/// At most this many points of a curve are drawn (a curve has one per distinct score).
const MAX_POINTS: usize = 2_000;

fn thinned(c: &UpliftCurve) -> Vec<(f64, f64)> {
    let step = c.x.len().div_ceil(MAX_POINTS).max(1);
    let mut points: Vec<(f64, f64)> = (0..c.x.len())
        .step_by(step)
        .map(|i| (c.x[i], c.y[i]))
        .collect();
    let last = c.x.len() - 1;
    if last % step != 0 {
        points.push((c.x[last], c.y[last]));
    }
    points
}

/// The model's curve, the perfect curve and the random line on one chart.
fn plot(
    model: &UpliftCurve,
    perfect: &UpliftCurve,
    title: &str,
    y_label: &str,
    path: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let (model_points, perfect_points) = (thinned(model), thinned(perfect));
    let all = model_points.iter().chain(&perfect_points);
    let x_max = all.clone().map(|p| p.0).fold(1.0, f64::max);
    let y_min = all.clone().map(|p| p.1).fold(0.0, f64::min);
    let y_max = all.map(|p| p.1).fold(0.0, f64::max);
    let pad = (y_max - y_min).max(1e-9) * 0.05;
    let root = SVGBackend::new(path, (800, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 20))
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..x_max, (y_min - pad)..(y_max + pad))?;
    chart
        .configure_mesh()
        .x_desc("customers targeted, highest score first")
        .y_desc(y_label)
        .draw()?;
    let end = model_points[model_points.len() - 1];
    chart
        .draw_series(LineSeries::new(
            vec![(0.0, 0.0), end],
            BLACK.stroke_width(1),
        ))?
        .label("random")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
    chart
        .draw_series(LineSeries::new(perfect_points, GREEN.stroke_width(2)))?
        .label("perfect")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], GREEN));
    chart
        .draw_series(LineSeries::new(model_points, BLUE.stroke_width(2)))?
        .label("model")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE));
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}
