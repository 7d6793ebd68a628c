//! The main job on data bundled in the repository: the CDNOW customer base, from raw
//! transactions to per-customer summaries, purchase and spend models, lifetime value, how
//! well the model predicts the holdout period, and a profile of the base: RFM segments,
//! net profit, value tiers, the whale curve and behavioural clusters; then retention:
//! the survival curve of customer lifetimes, monthly cohorts, overdue customers and a
//! churn model's accuracy.
//!
//! ```text
//! cargo run --release --example quickstart
//! ```

use std::error::Error;
use std::time::Instant;

use acrm::io::CsvOptions;
use acrm::persistency::{
    BgNbd, ChurnFeatures, ChurnOptions, CohortOptions, FitOptions, KaplanMeierOptions,
    LifetimeOptions, OverdueOptions, Scorecard, Tracking,
};
use acrm::product::{CoPurchase, CrossSellOptions, FpGrowthOptions, Metric, Reason, RuleOptions};
use acrm::profiling::{ClusterOptions, Features, RfmOptions, TierOptions};
use acrm::profitability::{
    clv, customer_equity, spend_frequency_correlation, whale_curve, ClvOptions, CostOfGoods,
    GammaGamma, ProfitOptions,
};
use acrm::summary::PurchaseModel;
use acrm::synth::BasketSynth;
use acrm::{Days, SummaryOptions, Weeks};
use chrono::NaiveDate;

fn main() -> Result<(), Box<dyn Error>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/cdnow/CDNOW_master.txt"
    );
    let t = Instant::now();
    let loaded = CsvOptions::cdnow_master().read_path(path)?;
    let load = t.elapsed();
    let data = &loaded.dataset;
    let log = data.transactions();
    let (first, last) = log.date_range().ok_or("empty log")?;

    println!("CDNOW customer base (tests/data/cdnow, Fader & Hardie's public data)");
    println!("  customers            {:>10}", data.customers().len());
    println!(
        "  transactions         {:>10}   ({first} to {last}, loaded in {load:.1?})",
        log.len()
    );
    println!(
        "  rows skipped         {:>10}   (strict load: a bad row would have stopped it)",
        loaded.report.skipped_total()
    );

    // Whole history as of the last day: who bought again, and how concentrated revenue is.
    let all = SummaryOptions::new(last).summarize::<Weeks>(data)?;
    let repeat_buyers = all.len() - all.zero_repeat_customers();
    let mut revenue = all.revenues();
    revenue.sort_by(|a, b| b.total_cmp(a));
    let total: f64 = revenue.iter().sum();
    let top_decile: f64 = revenue[..revenue.len().div_ceil(10)].iter().sum();
    println!("\nWhole history, as of {last}");
    println!(
        "  repeat buyers        {:>10}   ({:.1}% of customers)",
        repeat_buyers,
        100.0 * repeat_buyers as f64 / all.len() as f64
    );
    println!(
        "  revenue              {:>10.2}   (${:.2} per customer)",
        total,
        total / all.len() as f64
    );
    println!(
        "  top-decile share     {:>9.1}%   of revenue from the best 10% of customers",
        100.0 * top_decile / total
    );

    // The literature's split: 39 weeks of calibration, 39 weeks of holdout.
    let cal_end = NaiveDate::from_ymd_opt(1997, 9, 30).ok_or("date")?;
    let hold_end = NaiveDate::from_ymd_opt(1998, 6, 30).ok_or("date")?;
    let t = Instant::now();
    let split = SummaryOptions::new(cal_end)
        .holdout_end(hold_end)
        .split::<Weeks>(data)?;
    let took = t.elapsed();
    let cal = &split.calibration;
    println!("\nCalibration to {cal_end} (weeks), holdout to {hold_end} (computed in {took:.1?})");
    println!("  customers            {:>10}", cal.len());
    println!("  repeat purchases     {:>10}", cal.repeat_purchases());
    println!("  zero-repeat          {:>10}", cal.zero_repeat_customers());
    println!(
        "  distinct (x,t_x,T)   {:>10}   patterns for model fitting",
        cal.compact().patterns.len()
    );
    println!(
        "  holdout purchases    {:>10}   by {} customers over {:.0} weeks",
        split.holdout.total_purchases(),
        split.holdout.purchases.iter().filter(|&&p| p > 0).count(),
        split.holdout.length().value()
    );
    let i = cal.row("1").ok_or("customer 1")?;
    let c = cal.get(i);
    println!(
        "\nCustomer 1: x = {}, t_x = {:.2} weeks, T = {:.2} weeks, mean repeat spend ${:.2}, revenue ${:.2}",
        c.x,
        c.t_x.value(),
        c.t.value(),
        c.mean_spend,
        c.revenue
    );

    // Persistency and value: BG/NBD for purchases, Gamma-Gamma for spend, 12-month CLV.
    let t = Instant::now();
    let (bg, bg_fit) = BgNbd::fit(&cal.compact().patterns, &FitOptions::new())?;
    let records = cal.records();
    // Gamma-Gamma needs a positive mean spend for every repeat buyer; CDNOW has a few
    // whose repeat purchases were all $0. They are left out of the spend fit (and
    // counted), not silently dropped; their CLV still uses the fitted model.
    let (spend_records, zero_spend): (Vec<_>, Vec<_>) =
        records.iter().partition(|r| r.x == 0 || r.mean_spend > 0.0);
    let (gg, gg_fit) = GammaGamma::fit(&spend_records, &FitOptions::new())?;
    let values = clv(&bg, &gg, &records, &ClvOptions::new())?;
    let took = t.elapsed();
    let [r, alpha, a, b] = bg.params();
    let [p, q, gamma] = gg.params();
    println!("\nModels on the calibration period (fits and CLV in {took:.1?})");
    println!(
        "  BG/NBD        r {r:.4}  alpha {alpha:.4}  a {a:.4}  b {b:.4}   log-lik {:.2}",
        bg_fit.log_likelihood
    );
    println!(
        "  Gamma-Gamma   p {p:.4}  q {q:.4}  gamma {gamma:.4}   log-lik {:.2}; corr(x, spend) {:.3} (the model assumes ~0)",
        gg_fit.log_likelihood,
        spend_frequency_correlation(&spend_records).unwrap_or(f64::NAN)
    );
    println!(
        "                repeat buyers with $0 mean spend left out of the spend fit: {}",
        zero_spend.len()
    );
    println!(
        "  customer equity      {:>10.2}   12-month CLV (months of 4.345 weeks, 1%/month, revenue)",
        customer_equity(&values)
    );
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&i, &j| values[j].total_cmp(&values[i]));
    println!("  ten most valuable customers:");
    println!(
        "    {:>6} {:>4} {:>7} {:>7} {:>8} {:>9}",
        "id", "x", "t_x", "T", "P(alive)", "CLV"
    );
    for &i in &order[..10] {
        let c = &records[i];
        println!(
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
    let card = Scorecard::new(&bg, &records, &split.holdout.purchases, horizon)?;
    println!("\nHoldout scorecard (BG/NBD, {horizon:.0} weeks)");
    println!(
        "  purchases            {:>10.0} predicted, {} actual; per customer MAE {:.3}, RMSE {:.3}, bias {:+.3}, corr {:.3}",
        card.predicted_total,
        card.actual_total,
        card.mae,
        card.rmse,
        card.bias,
        card.correlation.unwrap_or(f64::NAN)
    );
    print!("  by calibration x     ");
    for row in &card.by_frequency {
        print!(
            " {}: {:.2}/{:.2}",
            row.frequency, row.mean_predicted, row.mean_actual
        );
    }
    println!("   (mean predicted/actual)");
    let track = Tracking::new(&bg, data, &split)?;
    print!("  cumulative repeat purchases (predicted/actual) at weeks");
    for k in [13, 26, 39, 52, 65, 78] {
        if let (Some(p), Some(a)) = (track.predicted.get(k - 1), track.actual.get(k - 1)) {
            print!(" {k}: {p:.0}/{a:.0}");
        }
    }
    println!();

    // Profiling and profitability on the whole history. CDNOW has no costs: assume a 30%
    // gross margin, $2 per order to fulfil and $0.50 per customer-month of mailings.
    let t = Instant::now();
    let base = SummaryOptions::new(last).summarize::<Days>(data)?;
    let profits = ProfitOptions::new()
        .until(last)
        .cost_of_goods(CostOfGoods::MarginRate(0.30))
        .per_order(2.0)
        .fixed_per_period(0.5, 30)
        .compute(data, None)?;
    let net: Vec<f64> = (0..base.len())
        .map(|i| profits.net_profit[base.customer(i).get()])
        .collect();
    let rfm = RfmOptions::new().score_summary(&base)?;
    let tiers = TierOptions::new().tiers(&net)?;
    let whale = whale_curve(&net, 100)?;
    let clusters = ClusterOptions::new().fit(&Features::from_summary(data, &base, 4))?;
    let cluster_profit = clusters.value_shares(&net)?;
    println!(
        "\nProfile as of {last} (assumed 30% margin, $2/order, $0.50/customer-month; {:.1?})",
        t.elapsed()
    );
    let segments: Vec<String> = rfm
        .segment_counts()
        .iter()
        .rev()
        .filter(|c| c.1 > 0)
        .map(|(name, count)| format!("{name} {count}"))
        .collect();
    println!("  RFM segments         {}", segments.join(", "));
    let shares: Vec<String> = tiers
        .summary
        .iter()
        .map(|t| {
            let share = 100.0 * t.share;
            format!("{} {} ({share:.0}% of profit)", t.tier.name(), t.customers)
        })
        .collect();
    println!("  value tiers          {}", shares.join(", "));
    println!(
        "  whale curve          net profit ${:.0}; peaks at {:.1}% of it with the best {:.1}% of customers; \
         {:.1}% are unprofitable and destroy ${:.0}",
        whale.total_profit,
        whale.peak_profit_pct,
        100.0 * whale.peak_customer_share,
        100.0 * whale.unprofitable_share,
        whale.profit_destroyed
    );
    println!(
        "  clusters             k = {} by silhouette (k-means on log R, F, M, tenure, regularity)",
        clusters.k
    );
    for (c, (p, share)) in clusters.profiles.iter().zip(&cluster_profit).enumerate() {
        let traits: Vec<String> = p
            .distinguishing
            .iter()
            .map(|(name, z)| format!("{name} {z:+.1} sd"))
            .collect();
        println!(
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
        .from_log(data)?;
    let km = KaplanMeierOptions::new().fit(&lifetimes.survival)?;
    let cohorts = CohortOptions::new(last).compute(data)?;
    let weekly = SummaryOptions::new(last).summarize::<Weeks>(data)?;
    let overdue = OverdueOptions::new()
        .top(5)
        .compute(&weekly, None, Some(&bg))?;
    let days = SummaryOptions::new(cal_end)
        .holdout_end(hold_end)
        .split::<Days>(data)?;
    let h = split.holdout.length().value();
    let p_alive = bg.p_alive_all(&records);
    let expected: Vec<f64> = records
        .iter()
        .map(|r| bg.conditional_expected_purchases(h, r.x, r.t_x, r.t))
        .collect();
    let features = ChurnFeatures::from_summary(
        data,
        &days.calibration,
        &[("p_alive", &p_alive), ("expected_holdout", &expected)],
    )?;
    let churned: Vec<bool> = days.holdout.purchases.iter().map(|&p| p == 0).collect();
    let (_, churn) = ChurnOptions::new().fit(&features, &churned)?;
    println!("\nRetention and churn ({:.1?})", t.elapsed());
    let churners = lifetimes.survival.events().iter().filter(|&&e| e).count();
    println!(
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
    println!("  not churned by day   {}", curve.join(", "));
    match km.median() {
        Some(m) => println!(
            "  median lifetime      {m:.0} days (first purchase to a completed 180-day silence)"
        ),
        None => println!("  median lifetime      not reached"),
    }
    println!("  monthly cohorts      share buying in months 0-6 since acquisition; revenue per customer to date");
    for c in cohorts.cohorts.iter().take(3) {
        let shares: Vec<String> = c
            .active_share
            .iter()
            .take(7)
            .map(|s| format!("{:>3.0}%", 100.0 * s))
            .collect();
        println!(
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
    println!(
        "  overdue              {} of {} customers with 2+ repeat purchases are silent beyond their 95% rhythm; top by value at risk:",
        overdue.overdue, overdue.considered
    );
    for r in &overdue.rows {
        println!(
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
    println!(
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
    let sets = FpGrowthOptions::new().min_support(0.005).mine(&baskets)?;
    let rules = RuleOptions::new()
        .min(Metric::Confidence, 0.3)
        .generate(&sets)?;
    let customer_items = baskets.customer_items()?;
    let near = CoPurchase::new(&customer_items, 20, 5)?;
    let recommender = CrossSellOptions::new()
        .k(5)
        .build(Some(&rules), Some(&near))?;
    let names = |ids: &[u32]| -> String {
        ids.iter()
            .map(|&i| format!("item {}", rules.items().name(i as usize)))
            .collect::<Vec<_>>()
            .join(" + ")
    };
    println!(
        "\nProducts (synthetic: {} baskets of {} items with planted patterns; {:.1?})",
        baskets.len(),
        baskets.items().len(),
        t.elapsed()
    );
    println!(
        "  {} frequent itemsets at support ≥ 0.5%, {} rules at confidence ≥ 0.3; strongest by lift:",
        sets.len(),
        rules.len()
    );
    for r in rules.top(Metric::Lift, 5) {
        println!(
            "    {:<26} → {:<18} support {:.3}, confidence {:.2}, lift {:>5.1}",
            names(&r.antecedent),
            names(&r.consequent),
            r.support,
            r.confidence,
            r.lift
        );
    }
    let who = customer_items.customers().name(0);
    println!(
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
        println!("    {:<10} {why}", names(&[rec.item]));
    }
    Ok(())
}
