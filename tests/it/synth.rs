//! The synthetic generator against closed forms of the models it samples from.
//!
//! Every statistical check compares a sample mean over independent customers with its
//! expectation, allowing 3 standard errors (sample or theoretical standard deviation
//! over √n, as stated at each check); seeds are fixed, so the outcome is deterministic.
//!
//! Time is continuous in the generator and the log keeps the second of each purchase
//! (`times(true)`), so counts over (0, t] after the first purchase are read from
//! timestamps `day · 86,400 + second`. Truncation to whole seconds moves an event across
//! the boundary t only when it falls within a second of it, which happens with
//! probability about E[λ] · 1 s: with E[λ] = r/α ≈ 0.05 per week (604,800 s), under
//! 10⁻⁷ per customer, far below the standard errors.

use acrm::synth::{GammaGammaSpend, PurchaseProcess, SynthOptions, Synthetic};
use acrm::time::day_number;
use acrm::{Error, Scope, Span, Weeks};
use chrono::NaiveDate;

const CUSTOMERS: usize = 100_000;
const WEEK: i64 = 7 * 86_400;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Customers acquired over the 52 weeks from 2020-01-01 and observed to 2021-12-31, so
/// every customer has at least 52 weeks after the first purchase.
fn options(process: PurchaseProcess, seed: u64) -> SynthOptions<Weeks> {
    SynthOptions::<Weeks>::new()
        .customers(CUSTOMERS)
        .seed(seed)
        .acquisition(date(2020, 1, 1), Span::new(52.0))
        .end(date(2021, 12, 31))
        .process(process)
        .times(true)
}

fn generate(o: &SynthOptions<Weeks>) -> Synthetic<Weeks> {
    let t = std::time::Instant::now();
    let s = o.generate().unwrap();
    // Generation is meant for benchmarks: 100k customers take well under a second in
    // release (the bound is loose for slow CI machines; unoptimised builds are exempt).
    if !cfg!(debug_assertions) {
        assert!(t.elapsed().as_secs_f64() < 5.0, "took {:?}", t.elapsed());
    }
    s
}

/// Repeat purchases in (0, t] weeks after each customer's first purchase, for the
/// customers whose first purchase is at least t weeks before the end of the end day.
fn repeat_counts(s: &Synthetic<Weeks>, t_weeks: f64) -> Vec<u32> {
    let all = s.dataset.view(&Scope::all());
    let end = (i64::from(day_number(s.truth.options.end_date())) + 1) * 86_400;
    let t = (t_weeks * WEEK as f64) as i64;
    let mut counts = Vec::new();
    for k in 0..all.len() {
        let h = all.history(k);
        let seconds = h.seconds.expect("times(true) keeps the time of day");
        let ts = |i: usize| i64::from(h.days[i]) * 86_400 + i64::from(seconds[i]);
        let t0 = ts(0);
        if t0 + t > end {
            continue;
        }
        // Rows are in time order, so every row after the first is a repeat purchase.
        let x = (1..h.len()).filter(|&i| ts(i) - t0 <= t).count();
        counts.push(u32::try_from(x).unwrap());
    }
    counts
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Standard error of the mean from the sample standard deviation.
fn std_error(v: &[f64]) -> f64 {
    let m = mean(v);
    let var = v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (v.len() as f64 - 1.0);
    (var / v.len() as f64).sqrt()
}

fn assert_within(what: &str, observed: f64, expected: f64, se: f64) {
    let z = (observed - expected) / se;
    assert!(
        z.abs() <= 3.0,
        "{what}: observed {observed}, expected {expected}, standard error {se}, z = {z:.2}"
    );
}

/// Gauss's hypergeometric function 2F1(a, b; c; z) for 0 ≤ z < 1 by its power series
/// Σ (a)_n (b)_n / (c)_n · zⁿ / n!, summed until a term is below 1e-15 of the sum.
fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    assert!((0.0..1.0).contains(&z));
    let (mut term, mut sum) = (1.0, 1.0);
    for n in 0..100_000 {
        let n = f64::from(n);
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() < 1e-15 * sum.abs() {
            return sum;
        }
    }
    panic!("2F1({a}, {b}; {c}; {z}) did not converge");
}

#[test]
fn hyp2f1_series_matches_closed_forms() {
    // Checks of the helper itself (Abramowitz & Stegun 15.1.3 and 15.1.8):
    // 2F1(1, 1; 2; z) = −ln(1 − z) / z and 2F1(a, b; b; z) = (1 − z)^(−a).
    let z: f64 = 0.9;
    approx::assert_relative_eq!(
        hyp2f1(1.0, 1.0, 2.0, z),
        -(1.0 - z).ln() / z,
        max_relative = 1e-12
    );
    approx::assert_relative_eq!(
        hyp2f1(0.243, 2.426, 2.426, z),
        (1.0 - z).powf(-0.243),
        max_relative = 1e-12
    );
}

#[test]
fn pareto_nbd_without_dropout_is_nbd() {
    // Purchase parameters of the Pareto/NBD fit to CDNOW reported with the BG/NBD one in
    // Fader, Hardie & Lee (2005): r = 0.55, α = 10.58 per week. Dropout rates
    // μ ~ Gamma(s = 1e-6, β = 1) have mean 1e-6 per week, so P(death within 100 weeks)
    // ≤ 100 · 1e-6 = 1e-4: practically no dropout. Purchases are then Poisson(λ) with
    // λ ~ Gamma(r, α), and X(t) is negative binomial (the Poisson-Gamma mixture;
    // Fader, Hardie & Lee 2005, section 2):
    //   E[X(t)] = E[λ] t = r t / α,
    //   P(X(t) = 0) = E[e^(−λt)] = (α / (α + t))^r (the Gamma Laplace transform).
    let (r, alpha, t) = (0.55, 10.58, 20.0);
    let s = generate(&options(
        PurchaseProcess::ParetoNbd {
            r,
            alpha,
            s: 1e-6,
            beta: 1.0,
        },
        11,
    ));
    let counts = repeat_counts(&s, t);
    assert_eq!(
        counts.len(),
        CUSTOMERS,
        "every customer has 20 weeks observed"
    );
    let x: Vec<f64> = counts.iter().copied().map(f64::from).collect();
    assert_within("E[X(20)]", mean(&x), r * t / alpha, std_error(&x));
    let zero: Vec<f64> = counts
        .iter()
        .map(|&v| f64::from(u8::from(v == 0)))
        .collect();
    assert_within(
        "P(X(20) = 0)",
        mean(&zero),
        (alpha / (alpha + t)).powf(r),
        std_error(&zero),
    );
}

#[test]
fn pareto_nbd_expected_repeat_purchases() {
    // Pareto/NBD with the CDNOW estimates reported in Fader, Hardie & Lee (2005):
    // r = 0.55, α = 10.58, s = 0.61, β = 11.67 per week. Expected repeat purchases in
    // (0, t] (Schmittlein, Morrison & Colombo 1987):
    //   E[X(t)] = r β / (α (s − 1)) · [1 − (β / (β + t))^(s − 1)].
    // Derivation: given λ and μ, purchases at rate λ until τ ~ Exp(μ), so
    // E[X(t) | λ, μ] = λ ∫₀ᵗ e^(−μu) du; E[λ] = r/α, and with μ ~ Gamma(s, β)
    // ∫₀ᵗ E[e^(−μu)] du = ∫₀ᵗ (β/(β+u))^s du = β/(s−1) · [1 − (β/(β+t))^(s−1)].
    let (r, alpha, s_, beta, t) = (0.55, 10.58, 0.61, 11.67, 39.0);
    let s = generate(&options(
        PurchaseProcess::ParetoNbd {
            r,
            alpha,
            s: s_,
            beta,
        },
        12,
    ));
    let x: Vec<f64> = repeat_counts(&s, t).into_iter().map(f64::from).collect();
    let expected = r * beta / (alpha * (s_ - 1.0)) * (1.0 - (beta / (beta + t)).powf(s_ - 1.0));
    assert_within("Pareto/NBD E[X(39)]", mean(&x), expected, std_error(&x));
}

#[test]
fn bg_nbd_expected_repeat_purchases() {
    // BG/NBD with the CDNOW estimates of Fader, Hardie & Lee (2005), per week:
    // r = 0.243, α = 4.414, a = 0.793, b = 2.426. Their eq. 9:
    //   E[X(t)] = (a + b − 1) / (a − 1) · [1 − (α / (α + t))^r · 2F1(r, b; a + b − 1; t / (α + t))].
    // Dropout happens only after repeat purchases, as in the paper.
    let (r, alpha, a, b, t) = (0.243, 4.414, 0.793, 2.426, 39.0);
    let s = generate(&options(PurchaseProcess::BgNbd { r, alpha, a, b }, 13));
    let x: Vec<f64> = repeat_counts(&s, t).into_iter().map(f64::from).collect();
    assert_eq!(x.len(), CUSTOMERS);
    let expected = (a + b - 1.0) / (a - 1.0)
        * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b, a + b - 1.0, t / (alpha + t)));
    assert_within("BG/NBD E[X(39)]", mean(&x), expected, std_error(&x));
}

#[test]
fn truth_follows_the_mixing_distributions() {
    let (r, alpha, a, b) = (0.243, 4.414, 0.793, 2.426);
    // Gamma-Gamma CDNOW estimates (Fader & Hardie 2013, "The Gamma-Gamma model of
    // monetary value"): p = 6.25, q = 3.74, γ = 15.44.
    let (p, q, gamma) = (6.25, 3.74, 15.44);
    let s = generate(
        &options(PurchaseProcess::BgNbd { r, alpha, a, b }, 14).spend(GammaGammaSpend {
            p,
            q,
            gamma,
        }),
    );
    let n = CUSTOMERS as f64;
    let truth = &s.truth;
    assert_eq!(truth.lambda.len(), CUSTOMERS);
    assert_eq!(truth.dropout.len(), CUSTOMERS);
    assert_eq!(truth.nu.len(), CUSTOMERS);
    assert_eq!(truth.alive.len(), CUSTOMERS);
    // λ ~ Gamma(r, α): mean r/α, sd √r/α (theoretical standard errors).
    assert_within(
        "mean λ",
        mean(&truth.lambda),
        r / alpha,
        r.sqrt() / alpha / n.sqrt(),
    );
    // p ~ Beta(a, b): mean a/(a+b), variance ab/((a+b)²(a+b+1)).
    let beta_sd = (a * b / ((a + b).powi(2) * (a + b + 1.0))).sqrt();
    assert_within(
        "mean p",
        mean(&truth.dropout),
        a / (a + b),
        beta_sd / n.sqrt(),
    );
    // ν ~ Gamma(q, γ): mean q/γ, sd √q/γ.
    assert_within(
        "mean ν",
        mean(&truth.nu),
        q / gamma,
        q.sqrt() / gamma / n.sqrt(),
    );

    // E[z] = p γ / (q − 1) (Fader & Hardie 2013): z | ν ~ Gamma(p, ν) has mean p/ν and
    // 1/ν ~ InvGamma(q, γ) has mean γ/(q−1). The mean of all amounts over-weights heavy
    // buyers, and the amounts of one customer share ν, so the estimator used is the mean
    // over customers of each customer's mean amount m: customers are independent, and
    // E[m | ν, n] = p/ν whatever the number n of purchases (independent of ν), so
    // E[m] = E[z]. Its variance has a bound free of estimation noise (q < 4 makes the
    // sample variance itself heavy-tailed):
    //   Var m = p² Var(1/ν) + E[p / (n ν²)] ≤ p² γ² / ((q−1)²(q−2)) + p γ² / ((q−1)(q−2)),
    // using Var(1/ν) = γ²/((q−1)²(q−2)), E[1/ν²] = γ²/((q−1)(q−2)) and n ≥ 1.
    let all = s.dataset.view(&Scope::all());
    let per_customer: Vec<f64> = (0..all.len())
        .map(|k| {
            let h = all.history(k);
            h.amounts.iter().sum::<f64>() / h.len() as f64
        })
        .collect();
    let var_bound = p * p * gamma * gamma / ((q - 1.0).powi(2) * (q - 2.0))
        + p * gamma * gamma / ((q - 1.0) * (q - 2.0));
    assert_within(
        "E[z]",
        mean(&per_customer),
        p * gamma / (q - 1.0),
        (var_bound / n).sqrt(),
    );
    assert!((0..all.len()).all(|k| all
        .history(k)
        .amounts
        .iter()
        .all(|&z| z > 0.0 && z.is_finite())));
}

#[test]
fn same_seed_same_data_for_any_thread_count() {
    let o = options(
        PurchaseProcess::ParetoNbd {
            r: 0.55,
            alpha: 10.58,
            s: 0.61,
            beta: 11.67,
        },
        5,
    )
    .customers(20_000);
    let one = crate::pool(1).install(|| o.generate().unwrap());
    let two = crate::pool(2).install(|| o.generate().unwrap());
    assert_eq!(one, two);
    let other = o.clone().seed(6).generate().unwrap();
    assert_ne!(one.dataset, other.dataset);
    assert_ne!(one.truth.lambda, other.truth.lambda);
}

#[test]
fn generated_log_is_well_formed() {
    let o = options(
        PurchaseProcess::BgNbd {
            r: 0.243,
            alpha: 4.414,
            a: 0.793,
            b: 2.426,
        },
        15,
    );
    let s = generate(&o);
    let all = s.dataset.view(&Scope::all());
    assert!(all.has_times());
    assert_eq!(all.len(), CUSTOMERS);
    // Every row of the log belongs to one of them.
    let rows: usize = (0..all.len()).map(|k| all.history(k).len()).sum();
    assert_eq!(rows, all.transactions());
    let (start, end) = (day_number(date(2020, 1, 1)), day_number(date(2021, 12, 31)));
    let window_end = start + 52 * 7;
    let mut ratio_of = std::collections::HashMap::new();
    for k in 0..CUSTOMERS {
        let h = all.history(k);
        let seconds = h.seconds.unwrap();
        assert!(!h.is_empty(), "customer {k} has no transaction");
        // Sorted by (day, second) within the customer.
        for i in 1..h.len() {
            assert!((h.days[i - 1], seconds[i - 1]) <= (h.days[i], seconds[i]));
        }
        // The first purchase is the acquisition, inside the acquisition window.
        let acquired = all.acquired(k).unwrap();
        assert_eq!(acquired, acrm::time::date_of(h.days[0]));
        assert!((start..window_end).contains(&h.days[0]));
        assert!(h.days.iter().all(|&d| (start..=end).contains(&d)));
        // Cost = z × the product's cost ratio, drawn in [0.4, 0.8); quantity = z / list
        // price rounded, at least 1 (module documentation of `acrm::synth`).
        let (costs, quantities) = (h.costs.unwrap(), h.quantities.unwrap());
        let products = h.products.unwrap();
        for i in 0..h.len() {
            let ratio = costs[i] / h.amounts[i];
            assert!((0.4..0.8 + 1e-12).contains(&ratio), "cost ratio {ratio}");
            let first = *ratio_of.entry(products[i]).or_insert(ratio);
            approx::assert_relative_eq!(ratio, first, max_relative = 1e-12);
            let q = quantities[i];
            assert!(
                q >= 1.0 && q.round().to_bits() == q.to_bits(),
                "quantity {q}"
            );
        }
        assert!(seconds.iter().all(|&s| s < 86_400));
    }
    assert!(all.date_range().unwrap().last <= date(2021, 12, 31));
}

#[test]
fn invalid_options_are_refused() {
    let base = || SynthOptions::<Weeks>::new().customers(10);
    let option_of = |o: SynthOptions<Weeks>| match o.generate() {
        Err(Error::InvalidOption { option, .. }) => option,
        Err(e) => panic!("expected an invalid option, got {e:?}"),
        Ok(_) => panic!("expected an invalid option, got data"),
    };
    let bg = |r, alpha, a, b| PurchaseProcess::BgNbd { r, alpha, a, b };
    assert_eq!(option_of(base().process(bg(-0.2, 4.4, 0.8, 2.4))), "r");
    assert_eq!(option_of(base().process(bg(0.2, 0.0, 0.8, 2.4))), "alpha");
    assert_eq!(option_of(base().process(bg(0.2, 4.4, f64::NAN, 2.4))), "a");
    assert_eq!(
        option_of(base().process(bg(0.2, 4.4, 0.8, f64::INFINITY))),
        "b"
    );
    let pareto = PurchaseProcess::ParetoNbd {
        r: 0.5,
        alpha: 10.0,
        s: -1.0,
        beta: 1.0,
    };
    assert_eq!(option_of(base().process(pareto)), "s");
    let spend = GammaGammaSpend {
        p: 6.25,
        q: 0.0,
        gamma: 15.44,
    };
    assert_eq!(option_of(base().spend(spend)), "q");
    assert_eq!(
        option_of(
            base()
                .acquisition(date(2024, 1, 1), Span::new(1.0))
                .end(date(2023, 12, 31))
        ),
        "end"
    );
    assert_eq!(
        option_of(base().acquisition(date(2024, 1, 1), Span::new(-1.0))),
        "window"
    );
    assert_eq!(option_of(base().customers(0)), "customers");
    // The value given is named too.
    match base()
        .acquisition(date(2024, 1, 1), Span::new(1.0))
        .end(date(2023, 12, 31))
        .generate()
    {
        Err(Error::InvalidOption { value, allowed, .. }) => {
            assert_eq!(value, "2023-12-31");
            assert!(allowed.contains("2024-01-01"), "{allowed}");
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
    assert_eq!(option_of(base().products(5, 10)), "categories");
    assert_eq!(option_of(base().channels_and_regions(0, 3)), "channels");
    // The defaults are valid.
    assert!(base().generate().is_ok());
}
