//! The customer-base forecast (prospecting::base) and what it rests on: the probability
//! that a customer is alive h time units after the summary date.
//!
//! Sources: tests/data/prospecting/base/p_alive_after.json, made by make_reference.py
//! there (scipy 1.17 dblquad of the history's likelihood over the *prior* of the
//! individual parameters, times the survival of the future given them — no posterior
//! algebra, no ₂F₁); Monte-Carlo simulations of each model written out below (prior draws
//! weighted by the likelihood of the history, then the future simulated purchase by
//! purchase); hand computations of the forecast from the models' published formulas.

use acrm::numerics::survival::{KaplanMeierOptions, SurvivalData};
use acrm::numerics::{Retention, RetentionCurve};
use acrm::persistency::{BgNbd, MbgNbd, ParetoNbd, ShiftedBetaGeometric};
use acrm::prospecting::base::ALL;
use acrm::prospecting::{BaseForecast, BaseForecastOptions, ExistingBase, NewCohorts};
use acrm::summary::{PurchaseModel, Records, Rfm};
use acrm::Error;
use approx::assert_relative_eq;
use rand::{Rng, SeedableRng};
use rand_distr::{Beta, Distribution, Exp, Gamma};
use rand_xoshiro::Xoshiro256PlusPlus;
use serde_json::Value;

use super::pool;

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// Agreement with scipy's adaptive quadrature (requested to 1e-11 relative; found within 2e-13).
const QUADRATURE: f64 = 1e-11;
/// Monte-Carlo agreement, in standard errors.
const STANDARD_ERRORS: f64 = 4.5;

fn models(name: &str, p: &[f64]) -> Box<dyn PurchaseModel> {
    match name {
        "bgnbd" => Box::new(BgNbd::new(p[0], p[1], p[2], p[3]).unwrap()),
        "mbgnbd" => Box::new(MbgNbd::new(p[0], p[1], p[2], p[3]).unwrap()),
        "pareto" => Box::new(ParetoNbd::new(p[0], p[1], p[2], p[3]).unwrap()),
        _ => panic!("unknown model {name}"),
    }
}

/// P(alive at T + h) of BG/NBD, MBG/NBD and Pareto/NBD against scipy's integrals over the
/// prior, for new, light and frequent customers at h = 0 (P(alive)), 4 and 52 weeks.
#[test]
fn p_alive_after_matches_scipy_integrals_over_the_prior() {
    let text =
        std::fs::read_to_string(format!("{DATA}/prospecting/base/p_alive_after.json")).unwrap();
    let r: Value = serde_json::from_str(&text).unwrap();
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 36);
    for c in cases {
        let params: Vec<f64> = c["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let m = models(c["model"].as_str().unwrap(), &params);
        let (x, t_x, t, h) = (
            c["x"].as_u64().unwrap() as u32,
            c["t_x"].as_f64().unwrap(),
            c["t"].as_f64().unwrap(),
            c["h"].as_f64().unwrap(),
        );
        let ours = m.p_alive_after(h, x, t_x, t);
        let scipy = c["p_alive_after"].as_f64().unwrap();
        assert_relative_eq!(ours, scipy, max_relative = QUADRATURE);
    }
}

/// A ratio estimate Σa/Σb with its delta-method standard error.
fn ratio(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    let r = sa / sb;
    let var: f64 = a.iter().zip(b).map(|(a, b)| (a - r * b).powi(2)).sum();
    (r, var.sqrt() / sb)
}

/// Monte Carlo of (M)BG/NBD: λ ~ Gamma(r, α), p ~ Beta(a, b) from the prior, each draw
/// weighted by the likelihood of the history alive at T or dropped out after its last
/// purchase; from T the draws alive simulate Poisson purchases, each followed by the
/// dropout coin, until T + h.
fn monte_carlo_bg(p: [f64; 4], modified: bool, x: u32, t_x: f64, t: f64, h: f64) -> (f64, f64) {
    let [r, alpha, a, b] = p;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(17);
    let (rate, coin) = (
        Gamma::new(r, 1.0 / alpha).unwrap(),
        Beta::new(a, b).unwrap(),
    );
    let extra = i32::from(modified);
    let xi = x as i32;
    let n = 300_000;
    let (mut num, mut den) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let (lam, p): (f64, f64) = (rate.sample(&mut rng), coin.sample(&mut rng));
        let alive = lam.powi(xi) * (-lam * t).exp() * (1.0 - p).powi(xi + extra);
        let dead = if x > 0 || modified {
            lam.powi(xi) * (-lam * t_x).exp() * p * (1.0 - p).powi(xi - 1 + extra)
        } else {
            0.0
        };
        let mut survived = true;
        if lam > 0.0 {
            let wait = Exp::new(lam).unwrap();
            let mut now = t;
            loop {
                now += wait.sample(&mut rng);
                if now > t + h {
                    break;
                }
                if rng.gen::<f64>() < p {
                    survived = false;
                    break;
                }
            }
        }
        num.push(if survived { alive } else { 0.0 });
        den.push(alive + dead);
    }
    ratio(&num, &den)
}

/// Monte Carlo of Pareto/NBD: λ ~ Gamma(r, α), μ ~ Gamma(s, β) from the prior, weighted by
/// the likelihood of the history alive at T or dead in (t_x, T]; the draws alive at T
/// live on for an exponential(μ) time.
fn monte_carlo_pareto(p: [f64; 4], x: u32, t_x: f64, t: f64, h: f64) -> (f64, f64) {
    let [r, alpha, s, beta] = p;
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(19);
    let (rate, death) = (
        Gamma::new(r, 1.0 / alpha).unwrap(),
        Gamma::new(s, 1.0 / beta).unwrap(),
    );
    let n = 300_000;
    let (mut num, mut den) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for _ in 0..n {
        let (lam, mu): (f64, f64) = (rate.sample(&mut rng), death.sample(&mut rng));
        let k = lam + mu;
        let alive = lam.powi(x as i32) * (-k * t).exp();
        let dead = lam.powi(x as i32) * mu / k * ((-k * t_x).exp() - (-k * t).exp());
        let lives_on = Exp::new(mu).unwrap().sample(&mut rng) > h;
        num.push(if lives_on { alive } else { 0.0 });
        den.push(alive + dead);
    }
    ratio(&num, &den)
}

/// The trait method against simulations of each model (not of its formula).
#[test]
fn p_alive_after_matches_monte_carlo_of_each_model() {
    let bg = [0.243, 4.414, 0.793, 2.426];
    let mbg = [0.525, 6.183, 0.891, 1.614];
    let pareto = [0.553, 10.578, 0.606, 11.669];
    for (x, t_x, t) in [(2, 30.43, 38.86), (0, 0.0, 20.0), (6, 10.0, 30.0)] {
        for h in [8.0, 52.0] {
            let checks = [
                (
                    BgNbd::new(bg[0], bg[1], bg[2], bg[3])
                        .unwrap()
                        .p_alive_after(h, x, t_x, t),
                    monte_carlo_bg(bg, false, x, t_x, t, h),
                ),
                (
                    MbgNbd::new(mbg[0], mbg[1], mbg[2], mbg[3])
                        .unwrap()
                        .p_alive_after(h, x, t_x, t),
                    monte_carlo_bg(mbg, true, x, t_x, t, h),
                ),
                (
                    ParetoNbd::new(pareto[0], pareto[1], pareto[2], pareto[3])
                        .unwrap()
                        .p_alive_after(h, x, t_x, t),
                    monte_carlo_pareto(pareto, x, t_x, t, h),
                ),
            ];
            for (model, (mc, se)) in checks {
                assert!(se < 0.01, "Monte Carlo too noisy: se {se}");
                assert!(
                    (model - mc).abs() < STANDARD_ERRORS * se,
                    "x {x}, t_x {t_x}, T {t}, h {h}: model {model}, simulated {mc} ± {se}"
                );
            }
        }
    }
}

/// P(alive at T + h) falls with h from P(alive) at h = 0, for every model.
#[test]
fn p_alive_after_starts_at_p_alive_and_falls() {
    let ms: [Box<dyn PurchaseModel>; 3] = [
        Box::new(BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap()),
        Box::new(MbgNbd::new(0.525, 6.183, 0.891, 1.614).unwrap()),
        Box::new(ParetoNbd::new(0.553, 10.578, 0.606, 11.669).unwrap()),
    ];
    for m in &ms {
        for (x, t_x, t) in [(0, 0.0, 10.0), (3, 5.0, 40.0), (40, 39.0, 40.0)] {
            assert_relative_eq!(
                m.p_alive_after(0.0, x, t_x, t),
                m.p_alive(x, t_x, t),
                max_relative = 1e-15
            );
            let mut last = m.p_alive(x, t_x, t);
            for h in [1.0, 5.0, 20.0, 100.0, 1e4] {
                let p = m.p_alive_after(h, x, t_x, t);
                assert!(p <= last && p >= 0.0, "h {h}: {p} after {last}");
                last = p;
            }
        }
    }
}

/// Retention curves from a shifted-beta-geometric model and a Kaplan–Meier curve.
#[test]
fn retention_from_sbg_and_kaplan_meier() {
    let sbg = ShiftedBetaGeometric::new(0.704, 1.182).unwrap();
    for k in 0..10 {
        assert_relative_eq!(sbg.survival_after(k), sbg.survival(k), max_relative = 1e-15);
    }
    assert_eq!(sbg.max_periods(), None);
    // Durations in days, periods of 30 days: S(30k) of the curve.
    let data = SurvivalData::new(
        vec![10.0, 25.0, 40.0, 70.0, 95.0, 100.0],
        vec![true, false, true, true, false, true],
    )
    .unwrap();
    let km = KaplanMeierOptions::new().compute(&data).unwrap();
    let curve = RetentionCurve::from_kaplan_meier(&km, 30.0, 3).unwrap();
    let expected: Vec<f64> = [0.0, 30.0, 60.0, 90.0]
        .iter()
        .map(|&t| km.survival_at(t).s)
        .collect();
    assert_eq!(curve.values(), &expected[..]);
    // 5/6 after day 10, then 5/6 · 3/4 after day 40.
    assert_relative_eq!(curve.values()[2], 5.0 / 6.0 * 0.75, max_relative = 1e-15);
    // The curve ends at day 100: four periods of 30 days are not known.
    assert!(matches!(
        RetentionCurve::from_kaplan_meier(&km, 30.0, 4),
        Err(Error::BadValue { .. })
    ));
    assert_eq!(km.max_periods(), Some(100));
}

/// A tiny base by hand: three customers of Pareto/NBD in two categories, two periods of
/// four weeks, two cohorts per category (one with a given curve and purchase rate, one
/// with an sBG curve and the model's rate for new customers).
#[test]
fn forecast_expected_values_by_hand() {
    let (r, alpha, s, beta) = (0.553, 10.578, 0.606, 11.669);
    let m = ParetoNbd::new(r, alpha, s, beta).unwrap();
    let records = Records::new(vec![
        Rfm::new(2, 30.43, 38.86, 20.0).unwrap(),
        Rfm::new(0, 0.0, 38.86, 0.0).unwrap(),
        Rfm::new(5, 20.0, 30.0, 50.0).unwrap(),
    ]);
    let base = ExistingBase::new(&m, &records)
        .categories(&["a", "a", "b"])
        .unwrap();
    let given = RetentionCurve::new(vec![1.0, 0.8]).unwrap();
    let sbg = ShiftedBetaGeometric::new(0.704, 1.182).unwrap();
    let cohorts = [
        NewCohorts::new("a", vec![10.0, 6.0], &given)
            .purchase_rate(0.5)
            .spend(30.0),
        NewCohorts::new("b", vec![4.0, 2.0], &sbg),
    ];
    let f = BaseForecastOptions::new(2)
        .period_length(4.0)
        .simulations(200)
        .seed(5)
        .compute(&base, &cohorts)
        .unwrap();
    assert_eq!(f.categories, ["a", "b"]);

    // Existing: P(alive at T + 4k) = P(alive) ((β+T)/(β+T+4k))^s (posterior μ ~ Gamma(s, β+T)).
    let alive =
        |x, t_x, t: f64, k: f64| m.p_alive(x, t_x, t) * ((beta + t) / (beta + t + 4.0 * k)).powf(s);
    let bought = |x, t_x, t, k: f64| {
        m.conditional_expected_purchases(4.0 * k, x, t_x, t)
            - m.conditional_expected_purchases(4.0 * (k - 1.0), x, t_x, t)
    };
    // The customer without repeat purchases spends category a's mean repeat spend, 20.
    let spend = [20.0, 20.0, 50.0];
    let hist = [(2, 30.43, 38.86), (0, 0.0, 38.86), (5, 20.0, 30.0)];
    // Cohort b: sBG S(1) = β/(α+β); the model's rate for a new customer alive at the
    // start of age a: [X̄(4(a+1)) − X̄(4a)] / (β/(β+4a))^s, X̄(t) = (r/α) β/(s−1) [1 − (β/(β+t))^(s−1)].
    let s1 = 1.182 / (0.704 + 1.182);
    let xbar = |t: f64| r / alpha * beta / (s - 1.0) * (1.0 - (beta / (beta + t)).powf(s - 1.0));
    let rho = [
        xbar(4.0),
        (xbar(8.0) - xbar(4.0)) / (beta / (beta + 4.0)).powf(s),
    ];
    for k in [1u32, 2] {
        let kf = f64::from(k);
        let (mut ea, mut ep, mut er) = ([0.0; 2], [0.0; 2], [0.0; 2]);
        for (i, &(x, t_x, t)) in hist.iter().enumerate() {
            let c = usize::from(i == 2);
            ea[c] += alive(x, t_x, t, kf);
            ep[c] += bought(x, t_x, t, kf);
            er[c] += spend[i] * bought(x, t_x, t, kf);
        }
        let (na, nb) = if k == 1 {
            (10.0, 4.0)
        } else {
            (10.0 * 0.8 + 6.0, 4.0 * s1 + 2.0)
        };
        let pb = if k == 1 {
            4.0 * rho[0]
        } else {
            4.0 * s1 * rho[1] + 2.0 * rho[0]
        };
        let new = [(na, na * 0.5, na * 0.5 * 30.0), (nb, pb, pb * 50.0)];
        for (c, name) in ["a", "b"].iter().enumerate() {
            let row = f.row(name, k).unwrap();
            let close = |got: f64, want: f64| assert_relative_eq!(got, want, max_relative = 1e-12);
            close(row.existing_active.expected, ea[c]);
            close(row.existing_purchases.expected, ep[c]);
            close(row.existing_revenue.expected, er[c]);
            close(row.new_active.expected, new[c].0);
            close(row.new_purchases.expected, new[c].1);
            close(row.new_revenue.expected, new[c].2);
            close(row.active.expected, ea[c] + new[c].0);
            close(row.purchases.expected, ep[c] + new[c].1);
            close(row.revenue.expected, er[c] + new[c].2);
        }
        let total = f.row(ALL, k).unwrap();
        assert_relative_eq!(
            total.revenue.expected,
            er[0] + er[1] + new[0].2 + new[1].2,
            max_relative = 1e-12
        );
    }
}

/// A base of a few hundred BG/NBD customers in three categories with cohorts in two.
fn simulated_base(model: &BgNbd) -> (Records, Vec<&'static str>) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
    let mut records = Vec::new();
    let mut cats = Vec::new();
    for i in 0..300 {
        let t = 20.0 + 30.0 * rng.gen::<f64>();
        let x = rng.gen_range(0..8u32);
        let t_x = if x == 0 { 0.0 } else { t * rng.gen::<f64>() };
        let spend = if x == 0 {
            0.0
        } else {
            10.0 + 40.0 * rng.gen::<f64>()
        };
        records.push(Rfm::new(x, t_x, t, spend).unwrap());
        cats.push(["north", "south", "web"][i % 3]);
    }
    let _ = model;
    (Records::new(records), cats)
}

fn forecast(model: &BgNbd, sims: usize) -> BaseForecast {
    let (records, cats) = simulated_base(model);
    let base = ExistingBase::new(model, &records)
        .categories(&cats)
        .unwrap();
    let sbg = ShiftedBetaGeometric::new(0.704, 1.182).unwrap();
    let curve = RetentionCurve::new(vec![1.0, 0.9, 0.85, 0.8, 0.78, 0.75]).unwrap();
    let cohorts = [
        NewCohorts::new("north", vec![5.0, 8.0, 12.0, 9.0, 7.0, 3.0], &sbg),
        NewCohorts::new("web", vec![20.0, 15.0, 10.0, 8.0, 6.0, 5.0], &curve)
            .purchase_rate(0.7)
            .spend(25.0),
    ];
    BaseForecastOptions::new(6)
        .period_length(4.0)
        .simulations(sims)
        .seed(11)
        .level(0.8)
        .compute(&base, &cohorts)
        .unwrap()
}

/// Simulated means agree with the exact expectations within their standard errors, for
/// every quantity, category and period; intervals bracket the expectations.
#[test]
fn simulated_means_are_within_standard_errors() {
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let n = 4000;
    let f = forecast(&m, n);
    assert_eq!(f.rows.len(), 3 * 6);
    assert_eq!(f.totals.len(), 6);
    let mut checked = 0;
    for row in f.rows.iter().chain(&f.totals) {
        for e in [
            row.existing_active,
            row.new_active,
            row.active,
            row.existing_purchases,
            row.new_purchases,
            row.purchases,
            row.existing_revenue,
            row.new_revenue,
            row.revenue,
        ] {
            let se = e.sd / (n as f64).sqrt();
            assert!(
                (e.mean - e.expected).abs() <= STANDARD_ERRORS * se + 1e-9 * e.expected.abs(),
                "{} period {}: {e:?}",
                row.category,
                row.period
            );
            assert!(e.lo <= e.hi);
            if e.sd > 0.0 {
                assert!(e.lo < e.expected && e.expected < e.hi, "{e:?}");
                checked += 1;
            }
        }
    }
    // South has no cohorts: its new customers are exactly zero.
    let south = f.row("south", 3).unwrap();
    assert!(south.new_active.mean == 0.0 && south.new_active.hi == 0.0);
    assert!(checked > 150);
}

/// The same seed gives the same forecast, bit for bit, on one and two threads.
#[test]
fn one_and_two_threads_give_identical_forecasts() {
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let one = pool(1).install(|| forecast(&m, 300));
    let two = pool(2).install(|| forecast(&m, 300));
    assert_eq!(
        serde_json::to_string(&one).unwrap(),
        serde_json::to_string(&two).unwrap()
    );
    assert_eq!(one, two);
}

/// Inputs the forecast refuses, each with its own error.
#[test]
fn bad_inputs_are_typed_errors() {
    let m = BgNbd::new(0.243, 4.414, 0.793, 2.426).unwrap();
    let records = Records::new(vec![Rfm::new(1, 3.0, 10.0, 5.0).unwrap()]);
    let base = ExistingBase::new(&m, &records);
    let curve = RetentionCurve::new(vec![1.0, 0.5]).unwrap();
    let opts = BaseForecastOptions::new(3);
    // A cohort series of two numbers for three periods.
    let short = NewCohorts::new("all", vec![1.0, 2.0], &curve);
    assert!(matches!(
        opts.compute(&base, &[short]),
        Err(Error::LengthMismatch { .. })
    ));
    // A curve known to age 1 cannot carry a cohort to age 2.
    let long = NewCohorts::new("all", vec![1.0, 2.0, 3.0], &curve);
    assert!(matches!(
        opts.compute(&base, &[long]),
        Err(Error::BadValue { .. })
    ));
    let negative = NewCohorts::new("all", vec![1.0, -2.0, 3.0], &curve);
    assert!(matches!(
        BaseForecastOptions::new(3).compute(&base, &[negative]),
        Err(Error::BadValue { row: 1, .. })
    ));
    assert!(matches!(
        BaseForecastOptions::new(0).compute(&base, &[]),
        Err(Error::InvalidOption {
            option: "periods",
            ..
        })
    ));
    assert!(matches!(
        BaseForecastOptions::new(2).level(1.0).validate(),
        Err(Error::InvalidOption {
            option: "level",
            ..
        })
    ));
    assert!(matches!(
        ExistingBase::new(&m, &records).categories(&["a", "b"]),
        Err(Error::LengthMismatch { .. })
    ));
    // Customers without repeat purchases need a spend from somewhere.
    let none = Records::new(vec![Rfm::new(0, 0.0, 10.0, 0.0).unwrap()]);
    assert!(matches!(
        BaseForecastOptions::new(2).compute(&ExistingBase::new(&m, &none), &[]),
        Err(Error::Degenerate { .. })
    ));
    let priced = ExistingBase::new(&m, &none).spend(12.0);
    let f = BaseForecastOptions::new(2)
        .simulations(10)
        .compute(&priced, &[])
        .unwrap();
    assert_relative_eq!(
        f.totals[0].existing_revenue.expected,
        12.0 * m.expected_purchases_if_alive(1.0, 0, 10.0),
        max_relative = 1e-12
    );
}
