//! Invariants every model must keep, over random parameters and histories (proptest):
//! P(alive) in [0, 1], Σₙ P(X(t) = n) = 1 with mean E[X(t)], expectations finite and
//! non-decreasing in the horizon, totals equal to the weighted per-customer sums.

use acrm::persistency::{
    BgBb, BgNbd, Cohort, DiscretePattern, MbgNbd, ParetoNbd, ShiftedBetaGeometric,
};
use acrm::profitability::GammaGamma;
use acrm::summary::{Pattern, PurchaseModel};
use approx::assert_relative_eq;
use proptest::prelude::*;

/// A valid history: x repeat purchases, 0 ≤ t_x ≤ T, t_x = 0 when x = 0.
fn history() -> impl Strategy<Value = (u32, f64, f64)> {
    (0u32..60, 0.1f64..150.0, 0.0f64..=1.0)
        .prop_map(|(x, t, u)| (x, if x == 0 { 0.0 } else { u * t }, t))
}

fn check_purchase_model<M: PurchaseModel>(m: &M, (x, t_x, t): (u32, f64, f64)) {
    let p = m.p_alive(x, t_x, t);
    assert!((0.0..=1.0).contains(&p), "P(alive) = {p}");
    let mut prev = 0.0;
    for h in [0.5, 5.0, 39.0, 200.0] {
        let e = m.conditional_expected_purchases(h, x, t_x, t);
        assert!(
            e.is_finite() && e >= prev * (1.0 - 1e-12),
            "E[X({h})] = {e} after {prev}"
        );
        prev = e;
    }
    let mut prev = 0.0;
    for s in [0.5, 5.0, 39.0, 200.0] {
        let e = m.expected_purchases(s);
        assert!(
            e.is_finite() && e >= prev * (1.0 - 1e-12),
            "E[X({s})] = {e} after {prev}"
        );
        prev = e;
    }
}

/// Σₙ P(X(t) = n) over n = 0.. until the mean is accounted for.
fn check_distribution(p: impl Fn(u32) -> f64, mean: f64) {
    let (mut total, mut m) = (0.0, 0.0);
    for n in 0..4000u32 {
        let q = p(n);
        assert!((0.0..=1.0 + 1e-12).contains(&q), "P(X = {n}) = {q}");
        total += q;
        m += f64::from(n) * q;
        if 1.0 - total < 1e-13 && n > 10 {
            break;
        }
    }
    assert_relative_eq!(total, 1.0, max_relative = 1e-9);
    assert_relative_eq!(m, mean, max_relative = 1e-6, epsilon = 1e-9);
}

fn total_matches_sum(total: f64, per: impl Iterator<Item = f64>) {
    let sum: f64 = per.sum();
    assert_relative_eq!(total, sum, max_relative = 1e-11);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn bgnbd(r in 0.05f64..5.0, alpha in 0.5f64..50.0, a in 0.2f64..5.0, b in 0.2f64..5.0,
             hs in prop::collection::vec(history(), 1..8), t in 0.5f64..20.0) {
        let m = BgNbd::new(r, alpha, a, b).unwrap();
        for h in &hs { check_purchase_model(&m, *h); }
        check_distribution(|n| m.probability_of_purchases(n, t), m.expected_purchases(t));
        let pats: Vec<Pattern> = hs.iter().enumerate()
            .map(|(i, &(x, t_x, t))| Pattern { x, t_x, t, count: i as u32 + 1 }).collect();
        total_matches_sum(m.total_log_likelihood(&pats),
            pats.iter().map(|p| f64::from(p.count) * m.log_likelihood(p.x, p.t_x, p.t)));
    }

    #[test]
    fn mbgnbd(r in 0.05f64..5.0, alpha in 0.5f64..50.0, a in 0.2f64..5.0, b in 0.2f64..5.0,
              hs in prop::collection::vec(history(), 1..8), t in 0.5f64..20.0) {
        let m = MbgNbd::new(r, alpha, a, b).unwrap();
        for h in &hs { check_purchase_model(&m, *h); }
        check_distribution(|n| m.probability_of_purchases(n, t), m.expected_purchases(t));
        let pats: Vec<Pattern> = hs.iter().enumerate()
            .map(|(i, &(x, t_x, t))| Pattern { x, t_x, t, count: i as u32 + 1 }).collect();
        total_matches_sum(m.total_log_likelihood(&pats),
            pats.iter().map(|p| f64::from(p.count) * m.log_likelihood(p.x, p.t_x, p.t)));
    }

    #[test]
    fn pareto_nbd(r in 0.05f64..5.0, alpha in 0.5f64..50.0, s in 0.1f64..5.0, beta in 0.5f64..50.0,
                  hs in prop::collection::vec(history(), 1..8), t in 0.5f64..10.0) {
        let m = ParetoNbd::new(r, alpha, s, beta).unwrap();
        for h in &hs { check_purchase_model(&m, *h); }
        check_distribution(|n| m.probability_of_purchases(n, t), m.expected_purchases(t));
        let pats: Vec<Pattern> = hs.iter().enumerate()
            .map(|(i, &(x, t_x, t))| Pattern { x, t_x, t, count: i as u32 + 1 }).collect();
        total_matches_sum(m.total_log_likelihood(&pats),
            pats.iter().map(|p| f64::from(p.count) * m.log_likelihood(p.x, p.t_x, p.t)));
    }

    #[test]
    fn bgbb(al in 0.1f64..10.0, be in 0.1f64..10.0, ga in 0.1f64..10.0, de in 0.1f64..10.0,
            n in 1u32..30, picks in prop::collection::vec((0.0f64..=1.0, 0.0f64..=1.0), 1..8)) {
        let m = BgBb::new(al, be, ga, de).unwrap();
        let pats: Vec<DiscretePattern> = picks.iter().enumerate().map(|(i, &(u, v))| {
            let t_x = (u * f64::from(n)).round() as u32;
            let x = if t_x == 0 { 0 } else { 1 + (v * f64::from(t_x - 1)).round() as u32 };
            DiscretePattern { x, t_x, n, count: i as u32 + 1 }
        }).collect();
        for p in &pats {
            let a = m.p_alive(p.x, p.t_x, p.n);
            prop_assert!((0.0..=1.0).contains(&a), "P(alive) = {}", a);
            let mut prev = 0.0;
            for k in [1, 5, 20] {
                let e = m.conditional_expected_transactions(k, p.x, p.t_x, p.n);
                prop_assert!(e.is_finite() && e >= prev * (1.0 - 1e-12));
                prev = e;
            }
        }
        let total: f64 = (0..=n).map(|x| m.probability_of_transactions(x, n)).sum();
        prop_assert!((total - 1.0).abs() < 1e-10, "Σ P = {}", total);
        let mean: f64 = (0..=n).map(|x| f64::from(x) * m.probability_of_transactions(x, n)).sum();
        assert_relative_eq!(mean, m.expected_transactions(n), max_relative = 1e-9, epsilon = 1e-12);
        total_matches_sum(m.total_log_likelihood(&pats),
            pats.iter().map(|p| f64::from(p.count) * m.log_likelihood(p.x, p.t_x, p.n)));
    }

    #[test]
    fn shifted_beta_geometric(al in 0.05f64..20.0, be in 0.05f64..20.0, k in 1u32..60) {
        let m = ShiftedBetaGeometric::new(al, be).unwrap();
        let churned: f64 = (1..=k).map(|t| m.churn_probability(t)).sum();
        assert_relative_eq!(churned, 1.0 - m.survival(k), max_relative = 1e-10, epsilon = 1e-12);
        for t in 1..k {
            prop_assert!(m.survival(t + 1) <= m.survival(t));
            let (r0, r1) = (m.retention_rate(t), m.retention_rate(t + 1));
            prop_assert!((0.0..1.0).contains(&r0) && r1 >= r0);
        }
        let cohort = Cohort::new((0..=k).map(|t| (1e6 * m.survival(t)).round() as u64).collect::<Vec<_>>());
        if let Ok(c) = cohort {
            prop_assert!(m.log_likelihood(&c).is_finite());
        }
    }

    #[test]
    fn gamma_gamma(p in 0.1f64..20.0, q in 1.01f64..20.0, g in 0.1f64..100.0,
                   x in 0u32..100, z in 0.01f64..1000.0) {
        let m = GammaGamma::new(p, q, g).unwrap();
        let e = m.conditional_expected_spend(x, z);
        let pop = m.expected_spend();
        // A weighted mean of the population mean and the customer's own mean.
        prop_assert!(e >= pop.min(z) * (1.0 - 1e-12) && e <= pop.max(z) * (1.0 + 1e-12));
        if x > 0 {
            prop_assert!(m.log_likelihood(x, z).is_finite());
        }
    }
}
