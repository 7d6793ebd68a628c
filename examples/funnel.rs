//! The campaign funnel: contacts → leads → opportunities → orders per campaign, each
//! step's conversion with its Wilson interval, and the χ² test that a step converts
//! equally well in every campaign.
//!
//! ```text
//! cargo run --release --example funnel -- FILE [--campaigns CAMPAIGNS.csv]
//!     [--as-of YYYY-MM-DD] [--confidence 0.95] [--json]
//! ```
//! FILE has one row per contact, `campaign,contact_id,lead,opportunity,order` with 0/1
//! flags (a later stage implies the earlier ones), and optionally the columns
//! `acrm::io::read_contacts` reads besides (`created`, stage dates, `owner`, ...).
//! `--campaigns` (`id,type,product,start,end,cost`) adds the cost per lead, opportunity
//! and order.
//!
//! `--json` prints one object: `campaigns` (a list, each with its `campaign` name) and
//! `total`, each with `contacts, leads, opportunities, orders`, the rates
//! `contact_lead, lead_opportunity, opportunity_order, contact_order` as
//! `{rate, ci_low, ci_high}`, `median_days` per step and `costs`; and `tests`, per step
//! `{stage, chi2, dof, p}` across campaigns (no continuity correction). Bad input prints
//! the file line, column and value, and exits with status 1.
//!
//! Nulls: `median_days.STEP` when no contact of the group took that step with both dates
//! known (always, without date columns); `costs` without `--campaigns`, and
//! `costs.per_lead`, `costs.per_opportunity`, `costs.per_order` when the group has no
//! lead, opportunity or order to divide its cost by; `as_of` when the contacts carry no
//! dates.

mod common;

use std::process::ExitCode;

use acrm::data::Scope;
use acrm::io::{read_campaigns_path, read_contacts_path};
use acrm::numerics::Proportion;
use acrm::prospecting::{FunnelGroup, FunnelGrouping, FunnelOptions};
use chrono::NaiveDate;
use clap::Parser;
use common::{outln, Stop};
use serde_json::{json, Value};

/// Funnel conversion by campaign.
#[derive(Parser, Debug)]
#[command(name = "funnel")]
struct Args {
    /// Contacts: `campaign,contact_id,lead,opportunity,order` (0/1 flags)
    file: String,
    /// Campaigns with their costs: `id,type,product,start,end,cost`
    #[arg(long, value_name = "CAMPAIGNS.csv")]
    campaigns: Option<String>,
    /// Censor contacts not yet converted at this date (default: the latest date)
    #[arg(long = "as-of", value_name = "YYYY-MM-DD", value_parser = common::date)]
    as_of: Option<NaiveDate>,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.95)]
    confidence: f64,
    /// Print one JSON object
    #[arg(long)]
    json: bool,
}

fn rate(p: &Proportion) -> Value {
    json!({"rate": p.rate, "ci_low": p.ci_low, "ci_high": p.ci_high})
}

fn group(g: &FunnelGroup, name: Option<&str>) -> Value {
    let mut v = json!({
        "contacts": g.contacts,
        "leads": g.leads,
        "opportunities": g.opportunities,
        "orders": g.orders,
        "contact_lead": rate(&g.contact_lead),
        "lead_opportunity": rate(&g.lead_opportunity),
        "opportunity_order": rate(&g.opportunity_order),
        "contact_order": rate(&g.contact_order),
        "median_days": g.time_to_convert.iter()
            .map(|t| (t.step.clone(), json!(t.median_days)))
            .collect::<serde_json::Map<_, _>>(),
        "costs": g.costs,
    });
    if let Some(n) = name {
        v["campaign"] = json!(n);
    }
    v
}

fn run(args: &Args) -> Result<(), Stop> {
    let contacts = read_contacts_path(&args.file).map_err(|e| format!("{}: {e}", args.file))?;
    let campaigns = match &args.campaigns {
        Some(path) => Some(read_campaigns_path(path).map_err(|e| format!("{path}: {e}"))?),
        None => None,
    };
    let mut opts = FunnelOptions::new()
        .by(FunnelGrouping::Campaign)
        .confidence(args.confidence);
    if let Some(c) = &campaigns {
        opts = opts.campaigns(c);
    }
    if let Some(d) = args.as_of {
        opts = opts.as_of(d);
    }
    let funnel = opts
        .compute(&contacts.view(&Scope::all()))
        .map_err(|e| format!("{}: {e}", args.file))?;
    if args.json {
        let out = json!({
            "campaigns": funnel.groups.iter().map(|g| group(g, Some(&g.group))).collect::<Vec<_>>(),
            "total": group(&funnel.total, None),
            "tests": funnel.tests.iter()
                .map(|t| json!({"stage": t.stage, "chi2": t.chi2, "dof": t.dof, "p": t.p}))
                .collect::<Vec<_>>(),
            "confidence": funnel.confidence,
            "as_of": funnel.as_of,
        });
        outln!("{out}");
        return Ok(());
    }
    outln!(
        "{:<16} {:>8} {:>7} {:>7} {:>7}  {:>22}  {:>22}  {:>22}",
        "campaign",
        "contacts",
        "leads",
        "opps",
        "orders",
        "contact→lead",
        "lead→opp",
        "opp→order"
    );
    let pct = |p: &Proportion| {
        format!(
            "{:5.1}% [{:4.1}, {:4.1}]",
            100.0 * p.rate,
            100.0 * p.ci_low,
            100.0 * p.ci_high
        )
    };
    for g in funnel.groups.iter().chain([&funnel.total]) {
        outln!(
            "{:<16} {:>8} {:>7} {:>7} {:>7}  {:>22}  {:>22}  {:>22}",
            g.group,
            g.contacts,
            g.leads,
            g.opportunities,
            g.orders,
            pct(&g.contact_lead),
            pct(&g.lead_opportunity),
            pct(&g.opportunity_order)
        );
    }
    for t in &funnel.tests {
        outln!(
            "χ² {:<18} {:10.4}  dof {}  p {:.4e}",
            t.stage,
            t.chi2,
            t.dof,
            t.p
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    common::exit(run(&Args::parse()))
}
