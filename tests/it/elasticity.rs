//! Price elasticity: recovery of planted elasticities on seeded synthetic sales (per
//! product, per product × region, per product × quarter), the raise / cut lists and their
//! buyers, the statuses of lines without an estimate (including a price collinear with
//! the trend), agreement with statsmodels, option errors and thread-count determinism.
//!
//! The statsmodels reference: tests/data/product/elasticity/make_reference.py (statsmodels
//! 0.15.0, pandas 2.3.3, numpy 1.26.4, scipy 1.10.1) writes a seeded raw transaction file
//! (transactions.csv: six products, two regions, 30 months, with returns and free items
//! that must stay out of the price series) and, per line of each split, the monthly
//! series aggregated with pandas and `sm.OLS(ln Q, [const, trend, quarter dummies, ln P])`
//! under the crate's control rule: coefficient, standard error, 95% interval, p-value,
//! R², residual df (reference.json).

use acrm::data::{Dataset, ProductIdx, TransactionRecord};
use acrm::io::CsvOptions;
use acrm::product::{
    Elasticities, ElasticityBy, ElasticityOptions, ElasticityStatus, Estimate, PriceCandidate,
};
use acrm::{Error, Period, Scope};
use chrono::NaiveDate;
use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/product/elasticity/"
);

/// Agreement with statsmodels (relative to max(|reference|, 1)) of what least squares
/// alone gives: sums, coefficient, standard error, R².
const OLS_TOL: f64 = 1e-12;
/// Agreement of what also takes the t distribution (interval, p-value): statrs 0.19's t CDF
/// and quantile (AS 109 on its incomplete beta) differ from scipy's by up to about 1e-10
/// relative on few degrees of freedom.
const T_TOL: f64 = 1e-9;

/// One synthetic product: its elasticity per region (east, west), an override for the
/// fourth quarter, the spread of ln(price) around the base price, and the months it sells.
struct Spec {
    id: &'static str,
    elasticity: [f64; 2],
    q4_elasticity: Option<f64>,
    log_price_spread: f64,
    months: std::ops::Range<u32>,
}

const REGIONS: [&str; 2] = ["east", "west"];
/// Demand shifts by quarter of the year (ln scale) and per month of trend: the controls
/// the regression must absorb.
const SEASON: [f64; 4] = [0.0, 0.25, -0.15, 0.35];
const TREND: f64 = 0.01;
/// Standard deviation of the ln-normal demand noise per product, region and month.
const NOISE: f64 = 0.1;

/// Monthly sales from January 2021: per product and month one list price (common to the
/// regions, so the pooled product series is still exactly log-linear when both regions
/// share ε), per region a quantity A·P^ε·season·trend·noise split over one to four
/// purchases by that region's customers (`east-07`, ...), and in month 3 one return per
/// product and region (amount < 0, left out of the price series).
fn sales(specs: &[Spec], seed: u64) -> Dataset {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut rows = Vec::new();
    for (j, spec) in specs.iter().enumerate() {
        let base = 10.0 + 5.0 * j as f64;
        for m in spec.months.clone() {
            let (year, month) = (2021 + (m / 12) as i32, m % 12 + 1);
            let quarter = ((month - 1) / 3) as usize;
            let price = if spec.log_price_spread > 0.0 {
                base * rng
                    .gen_range(-spec.log_price_spread..spec.log_price_spread)
                    .exp()
            } else {
                base
            };
            let price = (price * 100.0).round() / 100.0;
            for (r, region) in REGIONS.iter().enumerate() {
                let eps = match (quarter, spec.q4_elasticity) {
                    (3, Some(e)) => e,
                    _ => spec.elasticity[r],
                };
                let noise: f64 = rng.sample(StandardNormal);
                let ln_q = 5.5
                    + eps * (price / base).ln()
                    + SEASON[quarter]
                    + TREND * f64::from(m)
                    + NOISE * noise;
                let total = ln_q.exp().round().max(1.0);
                let parts = rng.gen_range(1..=4u32).min(total as u32);
                let mut left = total;
                for k in 0..parts {
                    let units = if k + 1 == parts {
                        left
                    } else {
                        (total / f64::from(parts)).floor()
                    };
                    left -= units;
                    let customer = format!("{region}-{:02}", rng.gen_range(0..30));
                    let day = rng.gen_range(1..=28);
                    let date = NaiveDate::from_ymd_opt(year, month, day).unwrap();
                    rows.push(TransactionRecord {
                        quantity: Some(units),
                        product_id: Some(spec.id.into()),
                        region: Some((*region).into()),
                        ..TransactionRecord::new(customer, date, units * price)
                    });
                }
                if m == spec.months.start + 2 {
                    let date = NaiveDate::from_ymd_opt(year, month, 28).unwrap();
                    rows.push(TransactionRecord {
                        quantity: Some(1.0),
                        product_id: Some(spec.id.into()),
                        region: Some((*region).into()),
                        ..TransactionRecord::new(format!("{region}-00"), date, -price)
                    });
                }
            }
        }
    }
    let mut b = Dataset::builder();
    b.extend(rows).unwrap();
    b.build().unwrap().dataset
}

fn spec(id: &'static str, eps: f64, spread: f64, months: std::ops::Range<u32>) -> Spec {
    Spec {
        id,
        elasticity: [eps, eps],
        q4_elasticity: None,
        log_price_spread: spread,
        months,
    }
}

/// Four products with planted elasticities over 36 months, a fixed-price one, and one
/// sold for five months only. "mild" has a narrow price range, so its interval is wide.
fn planted() -> Dataset {
    sales(
        &[
            spec("inelastic", -0.4, 0.3, 0..36),
            spec("elastic", -2.0, 0.3, 0..36),
            spec("unit", -1.0, 0.3, 0..36),
            spec("mild", -0.8, 0.06, 0..36),
            spec("fixed", -1.0, 0.0, 0..36),
            spec("short", -1.0, 0.3, 0..5),
        ],
        20260611,
    )
}

fn estimated<'a>(e: &'a Elasticities, product: &str, region: Option<&str>) -> &'a Estimate {
    let line = e
        .lines
        .iter()
        .find(|l| l.product == product && l.region.as_deref() == region)
        .unwrap_or_else(|| panic!("no line {product} {region:?}"));
    line.estimate()
        .unwrap_or_else(|| panic!("{product} {region:?}: {:?}", line.status))
}

fn names(c: &[PriceCandidate]) -> Vec<(String, Option<String>, Option<u8>)> {
    c.iter()
        .map(|c| (c.product.clone(), c.region.clone(), c.season))
        .collect()
}

#[test]
fn planted_elasticities_are_recovered_per_product() {
    let data = planted();
    let all = data.view(&Scope::all());
    let e = ElasticityOptions::new().compute(&all).unwrap();
    // Tolerances are about three standard errors of each design: 36 months, ln(price)
    // uniform on ±0.3 (sd 0.17) and noise sd 0.1 per region give an SE near 0.07;
    // "mild" (±0.06, sd 0.035) near 0.35.
    for (product, truth, tol) in [
        ("inelastic", -0.4, 0.2),
        ("elastic", -2.0, 0.2),
        ("unit", -1.0, 0.2),
        ("mild", -0.8, 1.0),
    ] {
        let est = estimated(&e, product, None);
        assert!(
            (est.elasticity - truth).abs() < tol,
            "{product}: {} vs planted {truth}",
            est.elasticity
        );
        assert!(
            est.lo < est.elasticity && est.elasticity < est.hi,
            "{product}"
        );
        // 36 months over all four quarters: trend and three quarter dummies, 36 − 6 df.
        assert!(
            est.trend && est.season_dummies == 3 && est.df == 30,
            "{est:?}"
        );
        assert!(est.r_squared > 0.0 && est.r_squared <= 1.0);
    }
    // Lines are in product id order.
    let order: Vec<&str> = e.lines.iter().map(|l| l.product.as_str()).collect();
    assert_eq!(
        order,
        ["elastic", "fixed", "inelastic", "mild", "short", "unit"]
    );
    let line = |p: &str| e.lines.iter().find(|l| l.product == p).unwrap();
    match &line("fixed").status {
        ElasticityStatus::NotEnoughVariation {
            log_price_sd,
            distinct_prices,
        } => {
            assert!(*log_price_sd < 1e-12);
            assert_eq!(*distinct_prices, 1);
        }
        s => panic!("fixed: {s:?}"),
    }
    assert_eq!(line("fixed").observations, 36);
    assert_eq!(
        line("short").status,
        ElasticityStatus::TooFewObservations { needed: 8 }
    );
    assert_eq!(line("short").observations, 5);
    // One return per product and region.
    for l in &e.lines {
        assert_eq!(l.excluded_rows, 2, "{}", l.product);
    }
    assert_eq!(e.excluded_rows, 12);

    // Significantly inelastic: "inelastic" only ("mild"'s interval spans −1, and "unit"
    // is unit-elastic); significantly elastic: "elastic".
    assert_eq!(names(&e.raise), [("inelastic".to_string(), None, None)]);
    assert_eq!(names(&e.cut), [("elastic".to_string(), None, None)]);
    let raise = &e.raise[0];
    assert!(raise.lo > -1.0);
    assert!(e.cut[0].hi < -1.0);
    assert!((raise.revenue - line("inelastic").revenue).abs() < 1e-9 * raise.revenue);
    // Against a brute-force pass over every history: the customers with a purchase row
    // of the product, sorted by id.
    let inelastic = ProductIdx(all.catalogue().unwrap().ids().get("inelastic").unwrap());
    let mut buyers: Vec<&str> = (0..all.len())
        .filter(|&k| {
            let h = all.history(k);
            (0..h.len()).any(|i| h.products.unwrap()[i] == inelastic && h.amounts[i] > 0.0)
        })
        .map(|k| all.id(k))
        .collect();
    buyers.sort_unstable();
    assert_eq!(raise.buyers, buyers);
}

#[test]
fn region_split_recovers_regional_elasticities_and_buyers() {
    let mut mixed = spec("mixed", 0.0, 0.3, 0..36);
    mixed.elasticity = [-0.5, -2.5];
    let data = sales(&[mixed, spec("plain", -1.0, 0.3, 0..36)], 7);
    let all = data.view(&Scope::all());
    let e = ElasticityOptions::new()
        .by(ElasticityBy::ProductRegion)
        .compute(&all)
        .unwrap();
    assert_eq!(e.lines.len(), 4);
    // Per region the noise sd is 0.1 on one region's quantities: SE near 0.1.
    for (product, region, truth) in [
        ("mixed", "east", -0.5),
        ("mixed", "west", -2.5),
        ("plain", "east", -1.0),
        ("plain", "west", -1.0),
    ] {
        let est = estimated(&e, product, Some(region));
        assert!(
            (est.elasticity - truth).abs() < 0.3,
            "{product} {region}: {} vs planted {truth}",
            est.elasticity
        );
        assert_eq!(
            e.lines
                .iter()
                .filter(|l| l.region.as_deref() == Some(region))
                .count(),
            2
        );
    }
    let key = |r: &str| ("mixed".to_string(), Some(r.to_string()), None);
    assert_eq!(names(&e.raise), [key("east")]);
    assert_eq!(names(&e.cut), [key("west")]);
    // Buyers in the region only.
    for (c, region) in [(&e.raise[0], "east-"), (&e.cut[0], "west-")] {
        assert!(!c.buyers.is_empty());
        assert!(
            c.buyers.iter().all(|b| b.starts_with(region)),
            "{:?}",
            c.buyers
        );
    }
    // Pooled over regions the line is in neither list's region and lands in between.
    let pooled = ElasticityOptions::new().compute(&all).unwrap();
    let est = estimated(&pooled, "mixed", None);
    assert!(est.elasticity < -0.5 && est.elasticity > -2.5, "{est:?}");
}

#[test]
fn season_split_recovers_a_fourth_quarter_elasticity() {
    let mut holiday = spec("holiday", -1.0, 0.5, 0..36);
    holiday.q4_elasticity = Some(-2.5);
    let data = sales(&[holiday], 11);
    let e = ElasticityOptions::new()
        .by(ElasticityBy::ProductSeason)
        .compute(&data.view(&Scope::all()))
        .unwrap();
    let seasons: Vec<Option<u8>> = e.lines.iter().map(|l| l.season).collect();
    assert_eq!(seasons, [Some(1), Some(2), Some(3), Some(4)]);
    for l in &e.lines {
        let est = l.estimate().unwrap();
        // Nine periods per quarter over three years: trend in, no quarter dummies, 6 df;
        // ln(price) on ±0.5 gives SEs of 0.07 to 0.2 (the most for Q4's steeper curve).
        assert_eq!(l.observations, 9);
        assert!(
            est.trend && est.season_dummies == 0 && est.df == 6,
            "{est:?}"
        );
        let truth = if l.season == Some(4) { -2.5 } else { -1.0 };
        assert!(
            (est.elasticity - truth).abs() < 0.5,
            "Q{:?}: {} vs planted {truth}",
            l.season,
            est.elasticity
        );
    }
    assert!(names(&e.cut).contains(&("holiday".to_string(), None, Some(4))));
    // Buyers of the fourth quarter are a subset of all buyers.
    assert!(!e
        .cut
        .iter()
        .find(|c| c.season == Some(4))
        .unwrap()
        .buyers
        .is_empty());
}

#[test]
fn weekly_periods_and_switched_off_controls() {
    let data = planted();
    let e = ElasticityOptions::new()
        .period(Period::Week)
        .trend(false)
        .season_dummies(false)
        .compute(&data.view(&Scope::all()))
        .unwrap();
    let est = estimated(&e, "elastic", None);
    assert!(!est.trend && est.season_dummies == 0);
    // Weeks with sales hold the month's price, so the slope is still about −2 but the
    // omitted seasonality and trend widen the error.
    assert!((est.elasticity + 2.0).abs() < 0.5, "{est:?}");
    assert_eq!(
        est.df,
        e.lines
            .iter()
            .find(|l| l.product == "elastic")
            .unwrap()
            .observations
            - 2
    );
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} vs statsmodels {b}"
    );
}

#[test]
fn agrees_with_statsmodels() {
    let text = std::fs::read_to_string(format!("{DIR}reference.json")).unwrap();
    let reference: Value = serde_json::from_str(&text).unwrap();
    let data = CsvOptions::new()
        .read_path(format!("{DIR}transactions.csv"))
        .unwrap()
        .dataset;
    let all = data.view(&Scope::all());
    assert_eq!(
        all.transactions() as u64,
        reference["meta"]["rows"].as_u64().unwrap()
    );
    for (key, by) in [
        ("product", ElasticityBy::Product),
        ("product_region", ElasticityBy::ProductRegion),
        ("product_season", ElasticityBy::ProductSeason),
    ] {
        let e = ElasticityOptions::new().by(by).compute(&all).unwrap();
        let want = reference[key].as_array().unwrap();
        assert_eq!(e.lines.len(), want.len(), "{key}");
        let mut estimated = 0;
        for (line, w) in e.lines.iter().zip(want) {
            let what = format!("{key} {} {:?} {:?}", line.product, line.region, line.season);
            assert_eq!(line.product, w["product"].as_str().unwrap(), "{what}");
            assert_eq!(line.region.as_deref(), w["region"].as_str(), "{what}");
            assert_eq!(line.season.map(u64::from), w["season"].as_u64(), "{what}");
            assert_eq!(
                line.observations as u64,
                w["observations"].as_u64().unwrap(),
                "{what}"
            );
            assert_eq!(
                line.excluded_rows,
                w["excluded_rows"].as_u64().unwrap(),
                "{what}"
            );
            close(line.quantity, f(&w["quantity"]), OLS_TOL, &what);
            close(line.revenue, f(&w["revenue"]), OLS_TOL, &what);
            match (&line.status, w["status"].as_str().unwrap()) {
                (ElasticityStatus::Estimated(est), "Estimated") => {
                    estimated += 1;
                    close(
                        est.elasticity,
                        f(&w["elasticity"]),
                        OLS_TOL,
                        &format!("{what} ε"),
                    );
                    close(est.se, f(&w["se"]), OLS_TOL, &format!("{what} se"));
                    close(est.lo, f(&w["lo"]), T_TOL, &format!("{what} lo"));
                    close(est.hi, f(&w["hi"]), T_TOL, &format!("{what} hi"));
                    close(est.p_value, f(&w["p_value"]), T_TOL, &format!("{what} p"));
                    close(
                        est.r_squared,
                        f(&w["r_squared"]),
                        OLS_TOL,
                        &format!("{what} R²"),
                    );
                    assert_eq!(est.df as u64, w["df"].as_u64().unwrap(), "{what}");
                    assert_eq!(est.trend, w["trend"].as_bool().unwrap(), "{what}");
                    assert_eq!(
                        u64::from(est.season_dummies),
                        w["season_dummies"].as_u64().unwrap(),
                        "{what}"
                    );
                }
                (
                    ElasticityStatus::NotEnoughVariation {
                        log_price_sd,
                        distinct_prices,
                    },
                    "NotEnoughVariation",
                ) => {
                    close(*log_price_sd, f(&w["log_price_sd"]), OLS_TOL, &what);
                    assert_eq!(
                        *distinct_prices as u64,
                        w["distinct_prices"].as_u64().unwrap()
                    );
                }
                (ElasticityStatus::TooFewObservations { needed: 8 }, "TooFewObservations") => {}
                (got, want) => panic!("{what}: {got:?} vs statsmodels {want}"),
            }
        }
        assert!(estimated >= 4, "{key}: only {estimated} estimated lines");
    }
}

#[test]
fn missing_columns_are_typed_errors() {
    let d = |m| NaiveDate::from_ymd_opt(2024, m, 1).unwrap();
    let build = |quantity: bool, product: bool| {
        let mut b = Dataset::builder();
        b.extend((1..=12).map(|m| TransactionRecord {
            quantity: quantity.then_some(2.0),
            product_id: product.then(|| "p".to_string()),
            ..TransactionRecord::new("a", d(m), 10.0 + f64::from(m))
        }))
        .unwrap();
        b.build().unwrap().dataset
    };
    let opts = ElasticityOptions::new();
    let estimate = |o: &ElasticityOptions, data: &Dataset| o.compute(&data.view(&Scope::all()));
    // Columns are named as the view names them (`customer`, `product`, ...).
    match estimate(&opts, &build(false, true)) {
        Err(Error::MissingColumn { column, available }) => {
            assert_eq!(column, "quantity");
            assert_eq!(available, ["customer", "date", "amount", "product"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        estimate(&opts, &build(true, false)),
        Err(Error::MissingColumn { column, .. }) if column == "product"
    ));
    assert!(matches!(
        estimate(&opts.by(ElasticityBy::ProductRegion), &build(true, true)),
        Err(Error::MissingColumn { column, .. }) if column == "region"
    ));
    // Only returns: nothing to estimate from.
    let mut b = Dataset::builder();
    b.push(TransactionRecord {
        quantity: Some(1.0),
        product_id: Some("p".into()),
        ..TransactionRecord::new("a", d(1), -5.0)
    })
    .unwrap();
    let returns = b.build().unwrap().dataset;
    assert_eq!(estimate(&opts, &returns), Err(Error::EmptyInput));
}

#[test]
fn bad_options_are_rejected() {
    let data = planted();
    let all = data.view(&Scope::all());
    let option = |o: ElasticityOptions| match o.compute(&all) {
        Err(Error::InvalidOption { option, value, .. }) => (option, value),
        other => panic!("{other:?}"),
    };
    let o = ElasticityOptions::new;
    let cases = [
        (o().confidence(1.0), "confidence", "1"),
        (o().confidence(f64::NAN), "confidence", "NaN"),
        (o().min_observations(2), "min_observations", "2"),
        (o().min_price_variation(-0.1), "min_price_variation", "-0.1"),
        (
            o().min_price_variation(f64::INFINITY),
            "min_price_variation",
            "inf",
        ),
    ];
    for (opts, name, value) in cases {
        assert_eq!(option(opts), (name, value.to_string()));
    }
}

#[test]
fn same_result_on_one_and_two_threads() {
    let data = planted();
    let all = data.view(&Scope::all());
    for by in [
        ElasticityBy::Product,
        ElasticityBy::ProductRegion,
        ElasticityBy::ProductSeason,
    ] {
        let run = || ElasticityOptions::new().by(by).compute(&all).unwrap();
        let one = crate::pool(1).install(run);
        let two = crate::pool(2).install(run);
        assert_eq!(one, two, "{by:?}");
    }
}

#[test]
fn a_price_that_only_follows_the_trend_is_collinear() {
    // The price rises 5% a month, exactly with the trend; demand also has noise so the
    // fit is not exact.
    let mut b = Dataset::builder();
    for m in 0..12u32 {
        let price = 10.0 * (0.05 * f64::from(m)).exp();
        let qty = (500.0 * price.powf(-1.5) * (1.0 + 0.03 * f64::from(m % 3))).round();
        b.push(TransactionRecord {
            quantity: Some(qty),
            product_id: Some("p".into()),
            ..TransactionRecord::new(
                "a",
                NaiveDate::from_ymd_opt(2023, m + 1, 10).unwrap(),
                qty * price,
            )
        })
        .unwrap();
    }
    let data = b.build().unwrap().dataset;
    let all = data.view(&Scope::all());
    let e = ElasticityOptions::new().compute(&all).unwrap();
    assert_eq!(e.lines[0].status, ElasticityStatus::Collinear);
    // Without the trend the price is identified (confounded with the trend, but a number).
    let e = ElasticityOptions::new().trend(false).compute(&all).unwrap();
    assert!(e.lines[0].estimate().is_some(), "{:?}", e.lines[0].status);
}
