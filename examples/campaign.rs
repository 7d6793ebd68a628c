//! Campaign results per arm: response rates with Wilson intervals, each arm against the
//! control with z-, χ²- and Welch tests, intervals of the difference, incremental
//! responders and, with a cost, the cost per responder and the return.
//!
//! ```text
//! cargo run --release --example campaign -- FILE --arm COLUMN --control LABEL --outcome COLUMN \
//!     [--outcome COLUMN ...] [--value COLUMN] [--cost-per-contact C] [--margin M] [--pool-treated] --json
//! ```
//! FILE has one row per contacted customer: the arm column, a 0/1 column per outcome,
//! and optionally a value column (revenue per contact); `customer`, `campaign`, `date`
//! and `cost` columns are read when present (see `acrm::io::CampaignContactCsv`).
//! `--pool-treated` adds an arm `ANY` of every non-control row.
//!
//! `--json` prints one object: `arms` (a list of `{arm, n, outcomes: {NAME: {responders,
//! rate, ci_low, ci_high}}, mean_value}`) and `comparisons` (a list of `{arm, control,
//! outcome, rate_treatment, rate_control, lift, relative_lift, z_pooled, p_pooled,
//! z_unpooled, p_unpooled, chi2, p_chi2, chi2_yates, p_chi2_yates, diff_ci_wald: [lo,
//! hi], diff_ci_newcombe: [lo, hi], incremental, welch_t, welch_p, cpa_all,
//! cpa_incremental, roi}`). Bad input prints the file line, column and value, and exits
//! with status 1.
//!
//! Nulls: a figure undefined on the data is null, never NaN (the rules of
//! `acrm::promotion::campaign`): `mean_value` without `--value`; `relative_lift` when the
//! control's rate is 0; the z-tests (`z_pooled`, `p_pooled`, `z_unpooled`, `p_unpooled`)
//! when their standard error is 0 (both rates 0, or both 1); the χ² tests (`chi2`,
//! `p_chi2`, `chi2_yates`, `p_chi2_yates`) when no contact (or every contact) responded
//! in either arm; Welch's test (`welch_t`, `welch_p`) without `--value`, with fewer than
//! two contacts in an arm or when neither arm's values vary; `cpa_all` without a cost
//! (`--cost-per-contact` or a `cost` column) or without responders; `cpa_incremental`
//! without a cost or when the incremental responders are not positive; `roi` without a
//! cost, a `--margin` and a `--value`, or when the cost is 0.

mod common;

use std::process::ExitCode;

use acrm::data::{Dataset, Scope};
use acrm::io::CampaignContactCsv;
use acrm::promotion::{ArmResult, CampaignOptions, Comparison};
use clap::Parser;
use common::{out, outln, Stop};
use serde_json::{json, Value};

/// Campaign results per arm against the control.
#[derive(Parser, Debug)]
#[command(name = "campaign")]
struct Args {
    /// Contacts: one row per contacted customer
    file: String,
    /// The arm column
    #[arg(long, value_name = "COLUMN")]
    arm: String,
    /// The control arm's label
    #[arg(long, value_name = "LABEL")]
    control: String,
    /// A 0/1 outcome column (repeat for several)
    #[arg(long = "outcome", value_name = "COLUMN", required = true)]
    outcomes: Vec<String>,
    /// The value column (revenue per contact)
    #[arg(long, value_name = "COLUMN")]
    value: Option<String>,
    /// Cost of one contact
    #[arg(long = "cost-per-contact", value_name = "C")]
    cost_per_contact: Option<f64>,
    /// Margin rate on the value, in [0, 1]
    #[arg(long, value_name = "M")]
    margin: Option<f64>,
    /// Add an arm `ANY` of every non-control row
    #[arg(long = "pool-treated")]
    pool_treated: bool,
    /// Print one JSON object
    #[arg(long)]
    json: bool,
}

fn arm_json(a: &ArmResult) -> Value {
    json!({
        "arm": a.arm,
        "n": a.n,
        "outcomes": a.outcomes.iter().map(|(name, o)| (name.clone(), json!({
            "responders": o.responders, "rate": o.rate, "ci_low": o.ci_low, "ci_high": o.ci_high,
        }))).collect::<serde_json::Map<_, _>>(),
        "mean_value": a.mean_value,
    })
}

fn comparison_json(c: &Comparison) -> Value {
    json!({
        "arm": c.arm,
        "control": c.control,
        "outcome": c.outcome,
        "rate_treatment": c.rate_treatment,
        "rate_control": c.rate_control,
        "lift": c.lift,
        "relative_lift": c.relative_lift,
        "z_pooled": c.z_pooled,
        "p_pooled": c.p_pooled,
        "z_unpooled": c.z_unpooled,
        "p_unpooled": c.p_unpooled,
        "chi2": c.chi2,
        "p_chi2": c.p_chi2,
        "chi2_yates": c.chi2_yates,
        "p_chi2_yates": c.p_chi2_yates,
        "diff_ci_wald": c.diff_ci_wald,
        "diff_ci_newcombe": c.diff_ci_newcombe,
        "incremental": c.incremental,
        "welch_t": c.welch_t,
        "welch_p": c.welch_p,
        "cpa_all": c.cpa_all,
        "cpa_incremental": c.cpa_incremental,
        "roi": c.roi,
    })
}

fn opt(v: Option<f64>, width: usize, digits: usize) -> String {
    match v {
        Some(x) => format!("{x:>width$.digits$}"),
        None => format!("{:>width$}", "—"),
    }
}

fn run(args: &Args) -> Result<(), Stop> {
    let mut csv = CampaignContactCsv::new().arm(&args.arm);
    for o in &args.outcomes {
        csv = csv.outcome(o);
    }
    if let Some(v) = &args.value {
        csv = csv.value(v);
    }
    let contacts = csv
        .read_path(&args.file)
        .map_err(|e| format!("{}: {e}", args.file))?;
    // No transaction log: every contact is read under a scope of everyone.
    let data = Dataset::default();
    let view = contacts.view(&data.view(&Scope::all()));
    let mut opts = CampaignOptions::new()
        .control(&args.control)
        .pool_treated(args.pool_treated);
    for o in &args.outcomes {
        opts = opts.outcome(o);
    }
    if let Some(c) = args.cost_per_contact {
        opts = opts.cost_per_contact(c);
    }
    if let Some(m) = args.margin {
        opts = opts.margin(m);
    }
    let result = opts
        .compute(&view)
        .map_err(|e| format!("{}: {e}", args.file))?;
    let group = &result.groups[0];
    if args.json {
        let out = json!({
            "arms": group.arms.iter().map(arm_json).collect::<Vec<_>>(),
            "comparisons": group.comparisons.iter().map(comparison_json).collect::<Vec<_>>(),
            "confidence": result.confidence,
        });
        outln!("{out}");
        return Ok(());
    }
    out!("{:<12} {:>8}", "arm", "contacts");
    for o in &result.outcomes {
        out!("  {:>24}", format!("{o} % [95% CI]"));
    }
    outln!("  {:>10}", "mean value");
    for a in &group.arms {
        out!("{:<12} {:>8}", a.arm, a.n);
        for o in &result.outcomes {
            let r = &a.outcomes[o];
            out!(
                "  {:>24}",
                format!(
                    "{:6.2} [{:5.2}, {:5.2}]",
                    100.0 * r.rate,
                    100.0 * r.ci_low,
                    100.0 * r.ci_high
                )
            );
        }
        outln!("  {}", opt(a.mean_value, 10, 2));
    }
    outln!();
    outln!(
        "{:<12} {:<10} {:>8} {:>8} {:>10} {:>10} {:>10} {:>19} {:>10} {:>9} {:>9} {:>8}",
        "arm",
        "outcome",
        "lift pp",
        "rel %",
        "p (z)",
        "p (χ² Y)",
        "p Welch",
        "Newcombe 95% pp",
        "extra",
        "CPA",
        "CPA inc",
        "ROI"
    );
    for c in &group.comparisons {
        outln!(
            "{:<12} {:<10} {:>8.2} {} {} {} {} {:>19} {:>10.1} {} {} {}",
            c.arm,
            c.outcome,
            100.0 * c.lift,
            opt(c.relative_lift.map(|r| 100.0 * r), 8, 1),
            opt(c.p_pooled, 10, 4),
            opt(c.p_chi2_yates, 10, 4),
            opt(c.welch_p, 10, 4),
            format!(
                "[{:.2}, {:.2}]",
                100.0 * c.diff_ci_newcombe[0],
                100.0 * c.diff_ci_newcombe[1]
            ),
            c.incremental,
            opt(c.cpa_all, 9, 2),
            opt(c.cpa_incremental, 9, 2),
            opt(c.roi, 8, 2),
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run(&Args::parse()))
}
