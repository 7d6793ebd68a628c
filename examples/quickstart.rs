//! The main job on data bundled in the repository: the CDNOW customer base, from raw
//! transactions to per-customer summaries, purchase and spend models, lifetime value, how
//! well the model predicts the holdout period, and a profile of the base: RFM segments,
//! net profit, value tiers, the whale curve and behavioural clusters; then retention:
//! the survival curve of customer lifetimes, monthly cohorts, overdue customers and a
//! churn model's accuracy; products; sales performance (the category × channel cube of an
//! order-line file, the year-over-year change decomposed, a drill-down); prospecting (the
//! base projected quarter by quarter through the holdout, a Bass forecast of new
//! customers, this quarter's weighted pipeline week by week, three campaigns' funnels);
//! promotion (a campaign test's lift with its interval and ROI, the Qini curve of an
//! uplift forest on a held-out test, the channel attribution of touch paths); identity
//! (three sources' customer records resolved into customers, a pair's score explained,
//! and their transactions loaded under one id per customer); and what the same analyses
//! show a team, a branch and a salesperson under access scopes.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

mod common;

use std::error::Error;
use std::process::ExitCode;
use std::time::Instant;

use acrm::data::{CustomerRecords, Dataset, FieldKind, ScopeSpec, View};
use acrm::identity::ResolveOptions;
use acrm::io::{
    read_campaigns_path, read_contacts_path, read_opportunities_path, read_paths_path,
    read_series_csv_path, AssignmentCsv, CampaignContactCsv, CsvOptions, CustomerRecordCsv, Table,
};
use acrm::numerics::{top_indices, top_share, Proportion};
use acrm::performance::{ChangeOptions, CubeOptions, Dim, GroupingSets, Measure, Window};
use acrm::persistency::{
    BgNbd, ChurnFeatureOptions, ChurnOptions, CohortOptions, KaplanMeierOptions, LifetimeOptions,
    OverdueOptions, Scorecard, Tracking,
};
use acrm::product::{
    CoPurchaseOptions, CrossSellOptions, FpGrowthOptions, Metric, Reason, RuleOptions,
};
use acrm::profiling::{ClusterOptions, FeatureOptions, RfmOptions, TierOptions};
use acrm::profitability::{
    spend_frequency_correlation, whale_curve, ClvOptions, CostOfGoods, GammaGamma, ProfitOptions,
};
use acrm::promotion::{
    AttributionModel, AttributionOptions, CampaignOptions, TopK, UpliftData, UpliftForestOptions,
    UpliftSample, UpliftStrategy,
};
use acrm::prospecting::{
    BaseForecastOptions, BassOptions, ExistingBase, FunnelOptions, PipelineOptions,
    QuarterOutcomeOptions, ALL_STAGES, WEEKS_PER_QUARTER,
};
use acrm::summary::{PurchaseModel, Records};
use acrm::synth::{BasketSynth, UpliftSynth};
use acrm::{Days, FitOptions, Fitted, Scope, SplitOptions, SummaryOptions, Weeks};
use chrono::NaiveDate;
use common::{out, outln};

fn main() -> ExitCode {
    // The data is bundled: an error here is a bug or a damaged checkout, reported as one
    // line and status 1.
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => common::failure(e),
    }
}

fn run() -> Result<(), Box<dyn Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cdnow/CDNOW_master.txt"
    );
    let t = Instant::now();
    let reader = CsvOptions::cdnow_master();
    let mut loaded = reader.read_path(path)?;
    let load = t.elapsed();
    // Who sells to whom: an invented organisation of the CDNOW customers (three branches,
    // eight teams, forty salespeople; tests/data/scopes). Ids are read as the log's are.
    let teams = AssignmentCsv::new()
        .numeric_ids(reader.ids_are_numeric())
        .read_path(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/scopes/cdnow_customers.csv"
        ))?;
    loaded.dataset.assign_owners(teams.ownership.clone())?;
    let data = &loaded.dataset;
    // The owner's (and director's) view: every customer, nothing withheld.
    let all = data.view(&Scope::all());
    let span = all.date_range().ok_or("empty log")?;
    let (first, last) = (span.first, span.last);

    outln!("CDNOW customer base (tests/data/cdnow, Fader & Hardie's public data)");
    outln!("  customers            {:>10}", all.len());
    outln!(
        "  transactions         {:>10}   ({first} to {last}, loaded in {load:.1?})",
        all.transactions()
    );
    outln!(
        "  rows skipped         {:>10}   (strict load: a bad row would have stopped it)",
        loaded.report.skipped_total()
    );

    // Whole history as of the last day: who bought again, and how concentrated revenue is.
    let whole = SummaryOptions::new(last).compute::<Weeks>(&all)?;
    let repeat_buyers = whole.len() - whole.zero_repeat_customers();
    let total = whole.total_revenue();
    outln!("\nWhole history, as of {last}");
    outln!(
        "  repeat buyers        {:>10}   ({:.1}% of customers)",
        repeat_buyers,
        100.0 * repeat_buyers as f64 / whole.len() as f64
    );
    outln!(
        "  revenue              {:>10.2}   (${:.2} per customer)",
        total,
        total / whole.len() as f64
    );
    outln!(
        "  top-decile share     {:>9.1}%   of revenue from the best 10% of customers",
        100.0 * top_share(&whole.revenues(), 0.1)?
    );

    // The literature's split: 39 weeks of calibration, 39 weeks of holdout.
    let cal_end = NaiveDate::from_ymd_opt(1997, 9, 30).ok_or("date")?;
    let hold_end = NaiveDate::from_ymd_opt(1998, 6, 30).ok_or("date")?;
    let t = Instant::now();
    let split = SplitOptions::new(cal_end, hold_end).compute::<Weeks>(&all)?;
    let took = t.elapsed();
    let cal = &split.calibration;
    outln!("\nCalibration to {cal_end} (weeks), holdout to {hold_end} (computed in {took:.1?})");
    outln!("  customers            {:>10}", cal.len());
    outln!("  repeat purchases     {:>10}", cal.repeat_purchases());
    outln!("  zero-repeat          {:>10}", cal.zero_repeat_customers());
    outln!(
        "  distinct (x,t_x,T)   {:>10}   patterns for model fitting",
        cal.compact().patterns.len()
    );
    outln!(
        "  holdout purchases    {:>10}   by {} customers over {:.0} weeks",
        split.holdout.total_purchases(),
        split.holdout.purchases.iter().filter(|&&p| p > 0).count(),
        split.holdout.length().value()
    );
    let i = cal.row("1").ok_or("customer 1")?;
    let c = cal.get(i);
    outln!(
        "\nCustomer 1: x = {}, t_x = {:.2} weeks, T = {:.2} weeks, mean repeat spend ${:.2}, revenue ${:.2}",
        c.x,
        c.t_x.value(),
        c.t.value(),
        c.mean_spend,
        c.revenue
    );

    // Persistency and value: BG/NBD for purchases, Gamma-Gamma for spend, 12-month CLV.
    let t = Instant::now();
    let Fitted {
        model: bg,
        report: bg_fit,
    } = FitOptions::new().fit::<BgNbd>(&cal.compact())?;
    let records = cal.records();
    // Gamma-Gamma needs a positive mean spend for every repeat buyer; CDNOW has a few
    // whose repeat purchases were all $0. They are left out of the spend fit (and
    // counted), not silently dropped; their CLV still uses the fitted model.
    let spend_records = records.with_positive_spend();
    let zero_spend = records.len() - spend_records.len();
    let Fitted {
        model: gg,
        report: gg_fit,
    } = FitOptions::new().fit::<GammaGamma>(&spend_records)?;
    let clv = ClvOptions::new().compute(&bg, &gg, &records)?;
    let values = &clv.values;
    let took = t.elapsed();
    let [r, alpha, a, b] = bg.params();
    let [p, q, gamma] = gg.params();
    outln!("\nModels on the calibration period (fits and CLV in {took:.1?})");
    outln!(
        "  BG/NBD        r {r:.4}  alpha {alpha:.4}  a {a:.4}  b {b:.4}   log-lik {:.2}",
        bg_fit.log_likelihood
    );
    outln!(
        "  Gamma-Gamma   p {p:.4}  q {q:.4}  gamma {gamma:.4}   log-lik {:.2}; corr(x, spend) {:.3} (the model assumes ~0)",
        gg_fit.log_likelihood,
        spend_frequency_correlation(&spend_records).unwrap_or(f64::NAN)
    );
    outln!(
        "                repeat buyers with $0 mean spend left out of the spend fit: {}",
        zero_spend
    );
    outln!(
        "  customer equity      {:>10.2}   12-month CLV (months of 4.345 weeks, 1%/month, revenue)",
        clv.equity
    );
    outln!("  ten most valuable customers:");
    outln!(
        "    {:>6} {:>4} {:>7} {:>7} {:>8} {:>9}",
        "id",
        "x",
        "t_x",
        "T",
        "P(alive)",
        "CLV"
    );
    for i in top_indices(values, 10) {
        let c = &records[i];
        outln!(
            "    {:>6} {:>4} {:>7.2} {:>7.2} {:>8.3} {:>9.2}",
            cal.id(i),
            c.x,
            c.t_x,
            c.t,
            bg.p_alive(c.x, c.t_x, c.t),
            values[i]
        );
    }

    // How well BG/NBD predicted the 39-week holdout.
    let horizon = split.holdout.length().value();
    let card = Scorecard::compute(&bg, &split)?;
    outln!("\nHoldout scorecard (BG/NBD, {horizon:.0} weeks)");
    outln!(
        "  purchases            {:>10.0} predicted, {} actual; per customer MAE {:.3}, RMSE {:.3}, bias {:+.3}, corr {:.3}",
        card.predicted_total,
        card.actual_total,
        card.mae,
        card.rmse,
        card.bias,
        card.correlation.unwrap_or(f64::NAN)
    );
    out!("  by calibration x     ");
    for row in &card.by_frequency {
        out!(
            " {}: {:.2}/{:.2}",
            row.frequency,
            row.mean_predicted,
            row.mean_actual
        );
    }
    outln!("   (mean predicted/actual)");
    let track = Tracking::compute(&bg, &all, &split)?;
    out!("  cumulative repeat purchases (predicted/actual) at weeks");
    for k in [13, 26, 39, 52, 65, 78] {
        if let (Some(p), Some(a)) = (track.predicted.get(k - 1), track.actual.get(k - 1)) {
            out!(" {k}: {p:.0}/{a:.0}");
        }
    }
    outln!();

    // Profiling and profitability on the whole history. CDNOW has no costs: assume a 30%
    // gross margin, $2 per order to fulfil and $0.50 per customer-month of mailings.
    let t = Instant::now();
    let base = SummaryOptions::new(last).compute::<Days>(&all)?;
    let profits = ProfitOptions::new()
        .until(last)
        .cost_of_goods(CostOfGoods::MarginRate(0.30))
        .per_order(2.0)
        .fixed_per_period(0.5, 30)
        .compute(&all, None)?;
    // Net profit of the summary's customers (the profit table holds every customer).
    let net = profits.rows.select(&profits.net_profit, base.rows())?;
    let rfm = RfmOptions::new().compute(&base)?;
    let tiers = TierOptions::new().compute(&net)?;
    let whale = whale_curve(&net, 100)?;
    let clusters = ClusterOptions::new()
        .fit(&FeatureOptions::new().compute(&all, &base)?)?
        .model;
    let cluster_profit = clusters.value_shares(&net)?;
    outln!(
        "\nProfile as of {last} (assumed 30% margin, $2/order, $0.50/customer-month; {:.1?})",
        t.elapsed()
    );
    let segments: Vec<String> = rfm
        .segment_counts()
        .iter()
        .rev()
        .filter(|c| c.customers > 0)
        .map(|c| format!("{} {}", c.segment, c.customers))
        .collect();
    outln!("  RFM segments         {}", segments.join(", "));
    let shares: Vec<String> = tiers
        .summary
        .iter()
        .map(|t| {
            let share = 100.0 * t.share;
            format!("{} {} ({share:.0}% of profit)", t.tier.name(), t.customers)
        })
        .collect();
    outln!("  value tiers          {}", shares.join(", "));
    outln!(
        "  whale curve          net profit ${:.0}; peaks at {:.1}% of it with the best {:.1}% of customers; \
         {:.1}% are unprofitable and destroy ${:.0}",
        whale.total_profit,
        whale.peak_profit_pct,
        100.0 * whale.peak_customer_share,
        100.0 * whale.unprofitable_share,
        whale.profit_destroyed
    );
    outln!(
        "  clusters             k = {} by silhouette (k-means on log R, F, M, tenure, regularity)",
        clusters.k
    );
    for (c, (p, share)) in clusters.profiles.iter().zip(&cluster_profit).enumerate() {
        let traits: Vec<String> = p
            .distinguishing
            .iter()
            .map(|d| format!("{} {:+.1} sd", d.feature, d.z))
            .collect();
        outln!(
            "    cluster {c}: {:>6} customers ({:.0}%), {:.0}% of revenue, {:.0}% of profit; {}",
            p.size,
            100.0 * p.share,
            100.0 * p.revenue_share,
            100.0 * share,
            traits.join(", ")
        );
    }

    // Retention and churn. Lifetimes: a customer has churned after 180 days without a
    // purchase (the time to notice it included), censored at the last day.
    let t = Instant::now();
    let lifetimes = LifetimeOptions::new(last)
        .churn_gap_days(180)
        .compute(&all)?;
    let km = KaplanMeierOptions::new().compute(&lifetimes.survival)?;
    let cohorts = CohortOptions::new(last).compute(&all)?;
    let overdue = OverdueOptions::new()
        .top(5)
        .compute(&whole, None, Some(&bg))?;
    let days = SplitOptions::new(cal_end, hold_end).compute::<Days>(&all)?;
    let h = split.holdout.length().value();
    let p_alive = bg.p_alive_all(&records);
    let expected: Vec<f64> = records
        .iter()
        .map(|r| bg.conditional_expected_purchases(h, r.x, r.t_x, r.t))
        .collect();
    let features = ChurnFeatureOptions::new()
        .compute(&all, &days.calibration)?
        .with_column("p_alive", &p_alive)?
        .with_column("expected_holdout", &expected)?;
    let churned: Vec<bool> = days.holdout.purchases.iter().map(|&p| p == 0).collect();
    let churn = ChurnOptions::new().fit(&features, &churned)?.report;
    outln!("\nRetention and churn ({:.1?})", t.elapsed());
    let churners = lifetimes.survival.events().iter().filter(|&&e| e).count();
    outln!(
        "  lifetimes            {} customers, {churners} churned (180 days without a purchase)",
        lifetimes.survival.len()
    );
    let curve: Vec<String> = [180.0, 270.0, 365.0, 540.0]
        .iter()
        .map(|&d| {
            let s = km.survival_at(d);
            format!(
                "{d:.0} d {:.1}% [{:.1}, {:.1}]",
                100.0 * s.s,
                100.0 * s.lo,
                100.0 * s.hi
            )
        })
        .collect();
    // A lifetime ends when the 180-day silence is complete, so nobody churns before day
    // 180: S(180) is the share who bought again within 180 days of their first purchase.
    outln!("  not churned by day   {}", curve.join(", "));
    match km.median() {
        Some(m) => outln!(
            "  median lifetime      {m:.0} days (first purchase to a completed 180-day silence)"
        ),
        None => outln!("  median lifetime      not reached"),
    }
    outln!("  monthly cohorts      share buying in months 0-6 since acquisition; revenue per customer to date");
    for c in cohorts.cohorts.iter().take(3) {
        let shares: Vec<String> = c
            .active_share
            .iter()
            .take(7)
            .map(|s| format!("{:>3.0}%", 100.0 * s))
            .collect();
        outln!(
            "    {} {:>5} customers: {}  ${:.2}",
            c.start.format("%Y-%m"),
            c.customers,
            shares.join(" "),
            c.cumulative_revenue_per_customer
                .last()
                .copied()
                .unwrap_or(0.0)
        );
    }
    outln!(
        "  overdue              {} of {} customers with 2+ repeat purchases are silent beyond their 95% rhythm; top by value at risk:",
        overdue.overdue, overdue.considered
    );
    for r in &overdue.rows {
        outln!(
            "    customer {:>5}: {:>2} repeats every {:>4.0} days, silent {:>3.0} days (P {:.1e}), P(alive) {:.2}, ${:.0} a year at risk ${:.0}",
            r.id,
            r.repeat_purchases,
            r.mean_gap_days,
            r.days_silent,
            r.silence_probability,
            r.p_alive.unwrap_or(f64::NAN),
            r.value,
            r.value_at_risk
        );
    }
    let e = &churn.evaluation;
    outln!(
        "  churn model          logistic on {} features, {:.0}% churn in the holdout: held-out AUC {:.3}, PR AUC {:.3}, top-decile lift {:.2}, Brier {:.3}",
        features.names.len(),
        100.0 * churn.churn_rate,
        e.auc,
        e.pr_auc,
        e.top_decile_lift,
        e.brier
    );

    // Product: CDNOW records no products, so this section mines synthetic baskets with
    // planted patterns (acrm::synth::BasketSynth), as the issue allows.
    let t = Instant::now();
    let baskets = BasketSynth::new()
        .baskets(50_000)
        .items(300)
        .customers(25_000)
        .seed(7)
        .generate()?;
    let sets = FpGrowthOptions::new()
        .min_support(0.005)
        .compute(&baskets)?;
    let rules = RuleOptions::new()
        .min(Metric::Confidence, 0.3)
        .compute(&sets)?;
    let customer_items = baskets.customer_items()?;
    let near = CoPurchaseOptions::new().compute(&customer_items)?;
    let recommender = CrossSellOptions::new()
        .k(5)
        .fit(Some(&rules), Some(&near))?
        .model;
    let names = |ids: &[u32]| -> String {
        ids.iter()
            .map(|&i| format!("item {}", rules.items().name(i as usize)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    outln!(
        "\nProducts (synthetic: {} baskets of {} items with planted patterns; {:.1?})",
        baskets.len(),
        baskets.items().len(),
        t.elapsed()
    );
    outln!(
        "  {} frequent itemsets at support ≥ 0.5%, {} rules at confidence ≥ 0.3; strongest by lift:",
        sets.len(),
        rules.len()
    );
    for r in rules.top(Metric::Lift, 5) {
        outln!(
            "    {:<26} → {:<18} support {:.3}, confidence {:.2}, lift {:>5.1}",
            names(&r.antecedent),
            names(&r.consequent),
            r.support,
            r.confidence,
            r.lift
        );
    }
    let who = customer_items.rows().id(0);
    outln!(
        "  customer {who} has bought {} distinct items; recommended:",
        customer_items.of(0).len()
    );
    for rec in recommender.recommend(customer_items.of(0)) {
        let why = match &rec.reason {
            Reason::Rule {
                antecedent,
                consequent,
                confidence,
                lift,
                ..
            } => format!(
                "rule {} → {} (confidence {confidence:.2}, lift {lift:.1})",
                names(antecedent),
                names(consequent)
            ),
            Reason::Neighbour { item, cosine } => {
                format!("often bought with {} (cosine {cosine:.2})", names(&[*item]))
            }
        };
        outln!("    {:<10} {why}", names(&[rec.item]));
    }

    performance()?;
    prospecting(&bg, &records, split.holdout.total_purchases())?;
    promotion()?;
    identity()?;

    // Access scopes: the same analyses for a team lead, a branch manager and a salesperson
    // see only their own customers (each customer's whole history), and every result says
    // whose figures they are.
    outln!("\nAccess scopes (tests/data/scopes: 3 branches, 8 teams, 40 salespeople)");
    for spec in ["branch:north", "team:t4", "owner:s17"] {
        let scope = teams.organisation.scope(&spec.parse::<ScopeSpec>()?)?;
        let view = data.view(&scope);
        scoped_line(&view, last, cal_end, hold_end)?;
    }
    let handed = teams.ownership.iter().filter(|r| r.from.is_some()).count();
    let before = data.view(
        &teams
            .organisation
            .scope(&"owner:s17".parse::<ScopeSpec>()?)?
            .as_of(NaiveDate::from_ymd_opt(1997, 6, 30).ok_or("date")?),
    );
    outln!(
        "  {handed} customers were handed over on 1997-07-01: as of 1997-06-30 owner s17 had {} customers",
        before.len()
    );
    Ok(())
}

/// Prospecting: the CDNOW base projected quarter by quarter through the holdout (checked
/// against what it bought), then the sales side on bundled synthetic files.
fn prospecting(
    bg: &BgNbd,
    records: &Records,
    holdout_purchases: u64,
) -> Result<(), Box<dyn Error>> {
    let t = Instant::now();
    // CDNOW's cohort was closed in March 1997: nobody new joins, so the forecast is the
    // existing base alone, three 13-week periods = the 39-week holdout.
    let forecast = BaseForecastOptions::new(3)
        .period_length(13.0)
        .simulations(1_000)
        .seed(7)
        .compute(&ExistingBase::new(bg, records), &[])?;
    outln!(
        "\nProspecting: the CDNOW base over the holdout, by 13-week quarter (BG/NBD, {} simulations; {:.1?})",
        forecast.simulations,
        t.elapsed()
    );
    let mut purchases = 0.0;
    for r in &forecast.totals {
        purchases += r.purchases.expected;
        outln!(
            "  quarter {}: active {:>6.0} [{:.0}, {:.0}]   purchases {:>6.0} [{:.0}, {:.0}]   revenue {:>8.0} [{:.0}, {:.0}]",
            r.period,
            r.active.expected,
            r.active.lo,
            r.active.hi,
            r.purchases.expected,
            r.purchases.lo,
            r.purchases.hi,
            r.revenue.expected,
            r.revenue.lo,
            r.revenue.hi
        );
    }
    outln!(
        "  39 weeks: {purchases:.0} purchases forecast (the scorecard's total), {holdout_purchases} made (95% intervals from customer-level randomness, not parameter uncertainty)"
    );
    acquisitions()?;
    pipeline()?;
    funnel()?;
    Ok(())
}

/// This quarter's pipeline: 150 synthetic deals (tests/data/prospecting/pipeline), a
/// fiscal year starting on 1 October, the open deals' amount × probability by close week
/// of the first 13-week quarter, and the simulated bookings of the quarter.
fn pipeline() -> Result<(), Box<dyn Error>> {
    let t = Instant::now();
    let deals = read_opportunities_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/prospecting/pipeline/opportunities.csv"
    ))?;
    let view = deals.view(&Scope::all());
    let start = NaiveDate::from_ymd_opt(2024, 10, 1).ok_or("date")?;
    let options = PipelineOptions::new(start).as_of(start);
    let pipeline = options.compute(&view)?;
    let target = 150_000.0;
    let outcome = QuarterOutcomeOptions::new(options, 0)
        .simulations(10_000)
        .seed(7)
        .target(target)
        .compute(&view)?;
    outln!(
        "\n  Weighted pipeline of the quarter from {} (tests/data/prospecting/pipeline, synthetic; {:.1?})",
        start,
        t.elapsed()
    );
    outln!(
        "    {:>4}  {:>10}  {:>5}  {:>10}  {:>10}  {:>10}",
        "week",
        "from",
        "deals",
        "amount",
        "weighted",
        "cumulative"
    );
    for w in pipeline
        .weekly
        .iter()
        .take(WEEKS_PER_QUARTER as usize)
        .filter(|w| w.n > 0)
    {
        outln!(
            "    {:>4}  {}  {:>5}  {:>10.0}  {:>10.0}  {:>10.0}",
            w.week,
            w.week_start,
            w.n,
            w.amount,
            w.weighted,
            w.cumulative_weighted
        );
    }
    if let Some(q) = pipeline
        .quarterly
        .iter()
        .find(|q| q.quarter == 0 && q.stage == ALL_STAGES)
    {
        outln!(
            "    quarter: {} deals, {:.0} open, {:.0} weighted; of all {} open deals {:.0} weighted",
            q.n, q.amount, q.weighted, pipeline.n, pipeline.total_weighted
        );
    }
    outln!(
        "    bookings ({} won already + the open deals, {} simulations): mean {:.0} (exact {:.0} ± {:.0}), P10 {:.0}, P50 {:.0}, P90 {:.0}; P(≥ {target:.0}) = {:.2}",
        outcome.booked.round(),
        outcome.simulations,
        outcome.sim_mean,
        outcome.mean,
        outcome.sd,
        outcome.p10,
        outcome.p50,
        outcome.p90,
        outcome.p_target.unwrap_or_default()
    );
    Ok(())
}

/// From contact to order: three campaigns' funnels (synthetic contacts with stage dates
/// and campaign costs, tests/data/prospecting/funnel), each step's conversion with its
/// Wilson interval, whether the campaigns differ (χ²), and what an order cost.
fn funnel() -> Result<(), Box<dyn Error>> {
    let t = Instant::now();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/prospecting/funnel");
    let contacts = read_contacts_path(format!("{dir}/contacts.csv"))?;
    let campaigns = read_campaigns_path(format!("{dir}/campaigns.csv"))?;
    let funnel = FunnelOptions::new()
        .campaigns(&campaigns)
        .compute(&contacts.view(&Scope::all()))?;
    outln!(
        "\n  Funnel of {} campaigns (tests/data/prospecting/funnel, synthetic; 95% Wilson intervals; {:.1?})",
        funnel.groups.len(),
        t.elapsed()
    );
    outln!(
        "    {:<12} {:>9} {:>6} {:>5} {:>7}   {:<20}  {:>8}  {:>10}  {:>11}",
        "campaign",
        "contacts",
        "leads",
        "opps",
        "orders",
        "contact→lead",
        "lead→opp",
        "opp→order",
        "cost/order"
    );
    let pct = |r: &Proportion| format!("{:.1}%", 100.0 * r.rate);
    for g in funnel.groups.iter().chain([&funnel.total]) {
        outln!(
            "    {:<12} {:>9} {:>6} {:>5} {:>7}   {:>5} [{:.1}, {:.1}]  {:>8}  {:>10}  {:>11}",
            g.group,
            g.contacts,
            g.leads,
            g.opportunities,
            g.orders,
            pct(&g.contact_lead),
            100.0 * g.contact_lead.ci_low,
            100.0 * g.contact_lead.ci_high,
            pct(&g.lead_opportunity),
            pct(&g.opportunity_order),
            g.costs
                .as_ref()
                .and_then(|c| c.per_order)
                .map_or("-".to_string(), |c| format!("{c:.0}"))
        );
    }
    for test in &funnel.tests {
        outln!(
            "    {:<18} χ² {:>6.2} on {} dof, p = {:.2e}",
            test.stage,
            test.chi2,
            test.dof,
            test.p
        );
    }
    Ok(())
}

/// Identity on bundled synthetic sources: a dealer's, a service desk's and a web site's
/// customer records (the same people typed differently, moved, missing fields) resolved
/// without labels, scored against the generator's truth, one cross-source match
/// explained, and the three transaction logs loaded under one id per customer.
fn identity() -> Result<(), Box<dyn Error>> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/identity/quickstart"
    );
    outln!("\nIdentity (tests/data/identity/quickstart: dealer, service desk, web)");
    let t = Instant::now();
    let reader = CustomerRecordCsv::new("rec_id")
        .source_column("source")
        .field("first_name", FieldKind::Name)
        .field("surname", FieldKind::Name)
        .field("dob", FieldKind::Date)
        .field("email", FieldKind::Email)
        .field("phone", FieldKind::Phone)
        .field("postcode", FieldKind::Postcode)
        .field("address", FieldKind::Address);
    let sources = ["dealer", "service_desk", "web"];
    let mut records: Option<CustomerRecords> = None;
    let mut truth = Vec::new();
    for s in sources {
        let path = format!("{dir}/{s}.csv");
        let r = reader.read_path(&path)?;
        truth.extend(Table::read_path(&path)?.text("person_id")?);
        match &mut records {
            Some(all) => all.append(&r)?,
            None => records = Some(r),
        }
    }
    let records = records.ok_or("no records")?;
    let resolution = ResolveOptions::new().compute(&records)?;
    let r = &resolution.report;
    let e = resolution.evaluate(&truth)?;
    outln!(
        "  {} records -> {} customers ({} records merged); {} candidate pairs (reduction \
         ratio {:.4}), {} matches, λ = {:.2e}, {:.0} ms",
        r.records,
        r.clusters,
        r.merged_records,
        r.candidate_pairs,
        r.reduction_ratio,
        r.matches,
        resolution.model.model.lambda(),
        t.elapsed().as_secs_f64() * 1e3
    );
    outln!(
        "  against the truth: pairs P {:.3} R {:.3} F1 {:.3}; exact clusters F1 {:.3}",
        e.pairs.precision,
        e.pairs.recall,
        e.pairs.f1,
        e.clusters.f1
    );
    // The cross-source match with the weakest evidence that still matched: why it did.
    let weakest = resolution
        .matches()
        .into_iter()
        .filter(|m| records.source_of(m.left as usize) != records.source_of(m.right as usize))
        .min_by(|a, b| a.weight.total_cmp(&b.weight))
        .ok_or("no cross-source match")?;
    let (i, j) = (weakest.left as usize, weakest.right as usize);
    let x = resolution.explain(i, j)?;
    outln!(
        "  why {} ({}) and {} ({}) match: prior {:+.1}",
        records.id(i),
        records.source_name(i),
        records.id(j),
        records.source_name(j),
        x.prior
    );
    for (k, (f, w)) in resolution.fields.iter().zip(&x.fields).enumerate() {
        let level = w.level.map_or("missing".to_string(), |l| {
            f.levels[l as usize].label.clone()
        });
        outln!(
            "    {:<10} {:<30} {:<32} {:+6.1}",
            f.name,
            format!(
                "{:?} / {:?}",
                short(records.value(i, k)),
                short(records.value(j, k))
            ),
            level,
            w.weight
        );
    }
    outln!(
        "    total {:+.1} bits: P(match) = {:.3}",
        x.total,
        x.probability
    );
    // The three transaction logs, recorded under source ids, loaded under golden ids.
    let mut log = String::from("customer_id,date,amount\n");
    for s in sources {
        let text = std::fs::read_to_string(format!("{dir}/{s}_transactions.csv"))?;
        log.extend(text.lines().skip(1).map(|l| format!("{l}\n")));
    }
    let loaded = CsvOptions::new().read_into(
        Dataset::builder().id_map(resolution.id_map_all()?),
        log.as_bytes(),
    )?;
    let all = loaded.dataset.view(&Scope::all());
    let widest = resolution
        .golden
        .iter()
        .max_by_key(|g| (g.members.len(), std::cmp::Reverse(g.members[0])))
        .ok_or("no customers")?;
    let k = all.row(&widest.golden_id).ok_or("golden id not loaded")?;
    let h = all.history(k);
    let mut per_source: Vec<(&str, usize)> = Vec::new();
    for &m in &widest.members {
        let name = records.source_name(m as usize);
        match per_source.iter_mut().find(|(s, _)| *s == name) {
            Some((_, c)) => *c += 1,
            None => per_source.push((name, 1)),
        }
    }
    let member_sources: Vec<String> = per_source
        .iter()
        .map(|(s, c)| format!("{c} {s} record{}", if *c == 1 { "" } else { "s" }))
        .collect();
    outln!(
        "  transactions: {} rows under {} source ids load as {} customers ({} ids merged); \
         {} ({} {}) holds {} purchases worth {:.2} from {}",
        loaded.report.loaded,
        loaded.report.merged_ids as usize + all.len(),
        all.len(),
        loaded.report.merged_ids,
        widest.golden_id,
        widest.values[0].as_deref().unwrap_or("?"),
        widest.values[1].as_deref().unwrap_or("?"),
        h.len(),
        h.amounts.iter().sum::<f64>(),
        member_sources.join(", ")
    );
    Ok(())
}

/// A value cut to 12 characters for a table column.
fn short(v: Option<&str>) -> String {
    let v = v.unwrap_or("");
    if v.chars().count() > 12 {
        format!("{}…", v.chars().take(11).collect::<String>())
    } else {
        v.to_string()
    }
}

/// Promotion on bundled synthetic data: a campaign test's arms against the control, an
/// uplift forest's Qini curve on customers it was not fitted to, and the attribution of
/// conversions to the channels of touch paths.
fn promotion() -> Result<(), Box<dyn Error>> {
    let root = env!("CARGO_MANIFEST_DIR");
    outln!("\nPromotion");

    // A campaign test: two offers and a control group, purchases and revenue per contact;
    // 0.50 a contact, 30% margin on revenue.
    let t = Instant::now();
    let contacts = CampaignContactCsv::new()
        .arm("arm")
        .outcome("purchase")
        .value("revenue")
        .read_path(format!("{root}/tests/data/promotion/campaign/campaign.csv"))?;
    let no_customers = Dataset::default();
    let results = CampaignOptions::new()
        .control("control")
        .outcome("purchase")
        .cost_per_contact(0.5)
        .margin(0.3)
        .pool_treated(true)
        .compute(&contacts.view(&no_customers.view(&Scope::all())))?;
    outln!(
        "  Campaign test (tests/data/promotion/campaign, synthetic; purchase rate against the control; {:.1?})",
        t.elapsed()
    );
    outln!(
        "    {:<8} {:>6} {:>7} {:>8}   {:<18} {:>9} {:>12} {:>6}",
        "arm",
        "n",
        "rate",
        "lift pp",
        "95% CI (Newcombe)",
        "p (z)",
        "incremental",
        "ROI"
    );
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("-".to_string(), |x| format!("{x:.digits$}"));
    for c in &results.groups[0].comparisons {
        outln!(
            "    {:<8} {:>6} {:>6.2}% {:>+8.2}   [{:+.2}, {:+.2}]     {:>9} {:>12.1} {:>6}",
            c.arm,
            c.n_treatment,
            100.0 * c.rate_treatment,
            100.0 * c.lift,
            100.0 * c.diff_ci_newcombe[0],
            100.0 * c.diff_ci_newcombe[1],
            c.p_pooled.map_or("-".to_string(), |p| format!("{p:.1e}")),
            c.incremental,
            opt(c.roi, 2)
        );
    }

    // Uplift: a forest fitted to one randomised campaign (a planted effect for some
    // customers, a harmful one for others), scored on a second campaign's customers.
    let t = Instant::now();
    let train = UpliftSynth::new().rows(20_000).seed(1).generate()?;
    let test = UpliftSynth::new().rows(20_000).seed(2).generate()?;
    let data = UpliftData::new(train.x.view(), &train.treatment, &train.outcome)?;
    let forest = UpliftForestOptions::new()
        .trees(20)
        .max_depth(5)
        .seed(7)
        .fit(&data)?;
    let score = forest.model.predict(test.x.view())?;
    let sample = UpliftSample::new(&test.outcome, &score, &test.treatment)?;
    let qini = sample.qini_curve();
    outln!(
        "  Uplift forest (20 trees, KL; fitted on 20,000 synthetic customers, evaluated on 20,000 others; {:.1?})",
        t.elapsed()
    );
    outln!(
        "    Qini coefficient {:.3}, uplift AUC {:.4}; uplift among the top 10% {:+.3}, top 30% {:+.3}",
        sample.qini_auc_score(true)?,
        sample.uplift_auc_score()?,
        sample.uplift_at_k(TopK::Fraction(0.1), UpliftStrategy::Overall)?,
        sample.uplift_at_k(TopK::Fraction(0.3), UpliftStrategy::Overall)?
    );
    out!("    Qini curve (incremental responders by share targeted):");
    let n = sample.len() as f64;
    for decile in 1..=10 {
        let at = n * decile as f64 / 10.0;
        let i = qini.x.partition_point(|&x| x < at).min(qini.x.len() - 1);
        out!(" {}%: {:.0}", decile * 10, qini.y[i]);
    }
    outln!();

    // Attribution of the conversions of aggregated touch paths to their channels.
    let t = Instant::now();
    let paths = read_paths_path(format!("{root}/tests/data/promotion/attribution/paths.csv"))?;
    let attribution = AttributionOptions::new().half_life(2.0).compute(&paths)?;
    outln!(
        "  Attribution of {:.0} conversions over {} distinct paths (tests/data/promotion/attribution, synthetic; Markov P(conversion) {:.3}; {:.1?})",
        attribution.total_conversions,
        attribution.paths,
        attribution.markov.p_conversion,
        t.elapsed()
    );
    out!("    {:<10}", "channel");
    for model in AttributionModel::ALL {
        out!(" {:>14}", model.name());
    }
    outln!(" {:>8}", "removal");
    for (c, channel) in attribution.channels.iter().enumerate() {
        out!("    {channel:<10}");
        for model in AttributionModel::ALL {
            out!(" {:>14.1}", attribution.credit(model).conversions[c]);
        }
        outln!(" {:>8.3}", attribution.markov.removal_effects[c]);
    }
    Ok(())
}

/// New customers to come: the Bass diffusion model fitted by nonlinear least squares to
/// 30 periods of a product's new customers (synthetic, planted p = 0.005, q = 0.25,
/// m = 5000 with noise), and its forecast of the next six periods.
fn acquisitions() -> Result<(), Box<dyn Error>> {
    let t = Instant::now();
    let series = read_series_csv_path(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/prospecting/bass/series.csv"
        ),
        "t",
        "new_customers",
    )?;
    let Fitted {
        model: bass,
        report,
    } = BassOptions::new().horizon(6).fit(&series)?;
    outln!(
        "\n  Acquisitions (tests/data/prospecting/bass/series.csv, synthetic, {} periods; Bass by NLS, 95% prediction intervals; {:.1?})",
        report.n,
        t.elapsed()
    );
    outln!(
        "  p {:.4} ± {:.4}, q {:.3} ± {:.3}, market m {:.0} ± {:.0}; peak at period {:.1} with {:.0} new customers per period; rmse {:.1}",
        bass.p(),
        report.std_errors.p,
        bass.q(),
        report.std_errors.q,
        bass.m(),
        report.std_errors.m,
        report.peak.time,
        report.peak.rate,
        report.rmse
    );
    for row in &report.forecast {
        outln!(
            "    period {:>2}: {:>4.0} new [{:.0}, {:.0}], {:.0} customers in all",
            row.t,
            row.sales,
            // The band is the normal-theory prediction interval; counts stop at zero.
            row.low.max(0.0),
            row.high,
            row.cumulative
        );
    }
    Ok(())
}

/// Sales performance of a synthetic order-line file (CDNOW records no categories or
/// channels): the category × channel cube, the year-over-year change of revenue and
/// margin decomposed, and a drill-down from the category whose share rose most.
fn performance() -> Result<(), Box<dyn Error>> {
    let t = Instant::now();
    let data = CsvOptions::order_lines()
        .read_path(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/data/performance/orders.csv"
        ))?
        .dataset;
    let view = data.view(&Scope::all());
    let opts = CubeOptions::new()
        .dims([Dim::Category, Dim::Channel])
        .sets(GroupingSets::Cube);
    let cube = opts.compute(&view)?;
    let change = ChangeOptions::new(Window::year(2023), Window::year(2024))
        .by(Dim::Category)
        .compute(&view)?;
    outln!(
        "\nSales performance (tests/data/performance/orders.csv, synthetic; {:.1?})",
        t.elapsed()
    );
    let total = cube.cell(&[None, None]).ok_or("no total")?;
    outln!(
        "  {} lines, {} orders, {} customers; revenue {}, margin {} ({:.1}%)",
        total.lines,
        total.orders,
        total.customers,
        total.revenue,
        total.margin.ok_or("no costs")?,
        100.0 * total.margin_rate().unwrap_or(0.0)
    );
    out!("  revenue by channel:");
    for c in cube.set(0b10) {
        out!("  {} {}", cube.label(c, 1).unwrap_or("-"), c.revenue);
    }
    outln!();
    let r = &change.revenue_total;
    outln!(
        "  revenue 2023 → 2024: {} → {} (change {}); customers {:+.0}, orders per customer {:+.0}, order value {:+.0} (LMDI-I)",
        r.revenue_0,
        r.revenue_1,
        r.delta_revenue,
        r.effect_customers.unwrap_or(f64::NAN),
        r.effect_frequency.unwrap_or(f64::NAN),
        r.effect_aov.unwrap_or(f64::NAN)
    );
    let sum = |f: fn(&acrm::performance::MarginChange) -> Option<f64>| -> f64 {
        change.margin.iter().filter_map(f).sum()
    };
    let m = change.margin_total.as_ref().ok_or("no margins")?;
    outln!(
        "  margin 2023 → 2024: change {}; volume {:+.0}, mix {:+.0}, rate {:+.0} (over categories)",
        m.delta_margin,
        sum(|m| m.volume_effect),
        sum(|m| m.mix_effect),
        sum(|m| m.rate_effect)
    );
    for m in &change.margin {
        let note = match m.status {
            acrm::performance::ChangeStatus::Entered => "  (entered)".to_string(),
            acrm::performance::ChangeStatus::Left => "  (left)".to_string(),
            _ => String::new(),
        };
        outln!(
            "    {:<6} share {:>5.1}% → {:>5.1}%, rate {:>5} → {:>5}: mix {:>+9.0}, rate {:>+9.0}{note}",
            m.member.as_deref().unwrap_or("-"),
            100.0 * m.share_0.unwrap_or(0.0),
            100.0 * m.share_1.unwrap_or(0.0),
            m.rate_0.map_or("-".into(), |q| format!("{:.1}%", 100.0 * q)),
            m.rate_1.map_or("-".into(), |q| format!("{:.1}%", 100.0 * q)),
            m.mix_effect.unwrap_or(0.0),
            m.rate_effect.unwrap_or(0.0),
        );
    }
    // Drill into the category that gained most share: its products, top three by revenue.
    let riser = change
        .margin
        .iter()
        .filter(|m| m.status == acrm::performance::ChangeStatus::Both)
        .max_by(|a, b| {
            let gain = |m: &acrm::performance::MarginChange| {
                m.share_1.unwrap_or(0.0) - m.share_0.unwrap_or(0.0)
            };
            gain(a).total_cmp(&gain(b))
        })
        .and_then(|m| m.member.clone())
        .ok_or("no category")?;
    let cell = cube.cell(&[Some(&riser), None]).ok_or("no cell")?;
    let down = opts.drill(&cube, cell, Dim::Product)?.compute(&view)?;
    let top = down.top(0b01, 1, Measure::Revenue, 3)?;
    out!("  drill-down: {riser}'s top products");
    for (product, revenue) in top.first().map(|t| t.members.as_slice()).unwrap_or(&[]) {
        out!("  {product} {revenue:.2}");
    }
    outln!();
    Ok(())
}

/// One scope's customers, revenue, BG/NBD fit and holdout accuracy.
fn scoped_line(
    view: &View<'_>,
    last: NaiveDate,
    cal_end: NaiveDate,
    hold_end: NaiveDate,
) -> Result<(), Box<dyn Error>> {
    let summary = SummaryOptions::new(last).compute::<Weeks>(view)?;
    let split = SplitOptions::new(cal_end, hold_end).compute::<Weeks>(view)?;
    let bg = FitOptions::new().fit::<BgNbd>(&split.calibration.compact())?;
    let card = Scorecard::compute(&bg.model, &split)?;
    let scope = summary.scope();
    outln!(
        "  {:<13} {:>6} customers, revenue {:>10.2}; BG/NBD r {:.3}, alpha {:.2}; holdout purchases {:.0} predicted, {} actual",
        scope.label(),
        scope.customers,
        summary.total_revenue(),
        bg.model.params()[0],
        bg.model.params()[1],
        card.predicted_total,
        card.actual_total
    );
    Ok(())
}
