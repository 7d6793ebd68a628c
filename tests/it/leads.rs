//! Lead scoring (prospecting::leads) and the logistic regression under it
//! (numerics::LogitOptions).
//!
//! Source: tests/data/prospecting/leads/reference.json, made by make_reference.py there
//! from leads.csv (3,000 seeded synthetic leads): statsmodels 0.15.0 `Logit` fitted with
//! Newton's method (tol 1e-12, maxiter 100) on the same one-hot design (`source`
//! reference `web`, `region` reference `east`), the in-sample AUC as the Mann–Whitney
//! rank statistic (scipy 1.17.1 `rankdata`), conversion by score decile, and the fitted
//! probabilities of the first 20 leads.

use acrm::io::Table;
use acrm::ndarray::Array2;
use acrm::numerics::LogitOptions;
use acrm::prospecting::{LeadScoreOptions, LeadTable};
use acrm::Error;
use serde_json::Value;

use super::pool;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/prospecting/leads");

/// Coefficients, standard errors, z and p against statsmodels: relative (both converge
/// to the same maximum; the residual difference is rounding, about 1e-12).
const COEFFICIENTS: f64 = 1e-6;
/// Log-likelihoods against statsmodels, relative.
const LIKELIHOOD: f64 = 1e-9;
/// AUC against the Mann–Whitney statistic, absolute.
const AUC: f64 = 1e-9;

fn reference() -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/reference.json")).unwrap())
        .unwrap()
}

/// leads.csv as a lead table: every column but the id and target is a feature, `source`
/// and `region` categorical.
fn leads() -> LeadTable {
    let t = Table::read_path(format!("{DIR}/leads.csv")).unwrap();
    LeadTable::new()
        .id("lead_id", t.text("lead_id").unwrap())
        .unwrap()
        .target("converted", t.flags("converted").unwrap())
        .unwrap()
        .numeric("employees", t.numbers("employees").unwrap())
        .unwrap()
        .numeric("visits", t.numbers("visits").unwrap())
        .unwrap()
        .numeric(
            "days_since_contact",
            t.numbers("days_since_contact").unwrap(),
        )
        .unwrap()
        .categorical("source", t.text("source").unwrap())
        .unwrap()
        .categorical("region", t.text("region").unwrap())
        .unwrap()
}

fn close(found: f64, expected: f64, rel: f64) -> bool {
    (found - expected).abs() <= rel * expected.abs()
}

#[test]
fn coefficients_and_likelihoods_match_statsmodels_logit() {
    let r = reference();
    let fit = LeadScoreOptions::new()
        .reference("source", "web")
        .fit(&leads())
        .unwrap();
    let rep = &fit.report;
    let expected = r["coefficients"].as_array().unwrap();
    assert_eq!(rep.coefficients.len(), expected.len());
    for (c, e) in rep.coefficients.iter().zip(expected) {
        // Same names in the same order: const, numeric features, indicators.
        assert_eq!(c.name, e["name"].as_str().unwrap());
        for (found, key) in [(c.coef, "coef"), (c.se, "se"), (c.z, "z"), (c.p, "p")] {
            let want = e[key].as_f64().unwrap();
            assert!(
                close(found, want, COEFFICIENTS),
                "{} {key}: {found} vs statsmodels {want}",
                c.name
            );
        }
    }
    assert!(close(
        rep.log_likelihood,
        r["llf"].as_f64().unwrap(),
        LIKELIHOOD
    ));
    assert!(close(
        rep.null_log_likelihood,
        r["llnull"].as_f64().unwrap(),
        LIKELIHOOD
    ));
    assert!((rep.pseudo_r2 - r["pseudo_r2"].as_f64().unwrap()).abs() < 1e-9);
    assert_eq!(rep.rows, 3000);
    assert_eq!(rep.conversions as u64, r["conversions"].as_u64().unwrap());
}

#[test]
fn auc_deciles_and_probabilities_match_the_reference() {
    let r = reference();
    let table = leads();
    let fit = LeadScoreOptions::new()
        .reference("source", "web")
        .fit(&table)
        .unwrap();
    let rep = &fit.report;
    assert!((rep.auc - r["auc"].as_f64().unwrap()).abs() < AUC);
    for (d, e) in rep.deciles.iter().zip(r["deciles"].as_array().unwrap()) {
        assert_eq!(d.decile as u64, e["decile"].as_u64().unwrap());
        assert_eq!(d.customers as u64, e["customers"].as_u64().unwrap());
        assert_eq!(d.positives as u64, e["positives"].as_u64().unwrap());
        assert!((d.rate - e["rate"].as_f64().unwrap()).abs() < 1e-12);
        assert!((d.lift - e["lift"].as_f64().unwrap()).abs() < 1e-12);
    }
    // Calibration bins cover every lead; with an intercept the mean score equals the
    // conversion rate (the score equation of β₀).
    let bins = &rep.calibration;
    assert_eq!(bins.iter().map(|b| b.count).sum::<usize>(), 3000);
    let mean: f64 = bins
        .iter()
        .map(|b| b.mean_predicted * b.count as f64)
        .sum::<f64>()
        / 3000.0;
    assert!((mean - rep.conversions as f64 / 3000.0).abs() < 1e-9);
    // statsmodels' fitted probabilities of the first 20 leads, through `score`.
    let scores = fit.model.score(&table).unwrap();
    for (s, e) in scores
        .iter()
        .zip(r["first_probabilities"].as_array().unwrap())
    {
        assert!(close(s.probability, e.as_f64().unwrap(), 1e-8));
    }
    assert_eq!(scores[0].id.as_deref(), Some("L00001"));
}

#[test]
fn contributions_sum_to_the_linear_predictor() {
    let table = leads();
    let fit = LeadScoreOptions::new().fit(&table).unwrap();
    let model = &fit.model;
    let names: Vec<&str> = model.features().iter().map(|f| f.name()).collect();
    assert_eq!(
        names,
        [
            "employees",
            "visits",
            "days_since_contact",
            "source",
            "region"
        ]
    );
    // Default references: the first level of each column (`event`, `east`).
    let coef_names: Vec<&str> = fit
        .report
        .coefficients
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert!(coef_names.contains(&"source_web") && !coef_names.contains(&"source_event"));
    let scores = model.score(&table).unwrap();
    let baseline = model.baseline();
    for s in &scores {
        let sum = baseline + s.contributions.iter().sum::<f64>();
        assert!((sum - s.linear_predictor).abs() < 1e-12, "{sum} {s:?}");
        let p = 1.0 / (1.0 + (-s.linear_predictor).exp());
        assert!((p - s.probability).abs() < 1e-15);
    }
    // A lead at the reference levels contributes nothing through its categories.
    let t = Table::read_path(format!("{DIR}/leads.csv")).unwrap();
    let source = t.text("source").unwrap();
    let i = source.iter().position(|s| s == "event").unwrap();
    assert_eq!(scores[i].contributions[3].to_bits(), 0.0_f64.to_bits());
}

#[test]
fn typed_errors_name_the_feature_level_row_and_target() {
    let t = Table::read_path(format!("{DIR}/leads.csv")).unwrap();
    let converted = t.flags("converted").unwrap();
    let visits = t.numbers("visits").unwrap();
    let source = t.text("source").unwrap();

    // A level whose every lead converted: quasi-complete separation.
    let mut separated = source.clone();
    let mut marked = 0;
    for (s, &c) in separated.iter_mut().zip(&converted) {
        if c && marked < 12 {
            *s = "trade_show".into();
            marked += 1;
        }
    }
    let table = LeadTable::new()
        .target("converted", converted.clone())
        .unwrap()
        .numeric("visits", visits.clone())
        .unwrap()
        .categorical("source", separated)
        .unwrap();
    let err = LeadScoreOptions::new().fit(&table).unwrap_err();
    assert!(
        matches!(&err, Error::Separation { feature, .. } if feature == "source_trade_show"),
        "{err:?}"
    );

    // A level not seen in training, when scoring.
    let fit = LeadScoreOptions::new().fit(&leads()).unwrap();
    let mut region = t.text("region").unwrap();
    region[7] = "south".into();
    let new = LeadTable::new()
        .numeric("employees", t.numbers("employees").unwrap())
        .unwrap()
        .numeric("visits", visits.clone())
        .unwrap()
        .numeric(
            "days_since_contact",
            t.numbers("days_since_contact").unwrap(),
        )
        .unwrap()
        .categorical("source", source.clone())
        .unwrap()
        .categorical("region", region)
        .unwrap();
    let err = fit.model.score(&new).unwrap_err();
    assert!(
        matches!(&err, Error::BadValue { row: 7, field, value, .. }
            if field == "region" && value == "south"),
        "{err:?}"
    );

    // A non-finite feature value.
    let mut bad = visits.clone();
    bad[41] = f64::NAN;
    let err = LeadTable::new().numeric("visits", bad).unwrap_err();
    assert!(
        matches!(&err, Error::BadValue { row: 41, field, .. } if field == "visits"),
        "{err:?}"
    );
    let mut x = Array2::from_shape_vec((3000, 1), visits.clone()).unwrap();
    x[[99, 0]] = f64::INFINITY;
    let err = LogitOptions::new()
        .fit(x.view(), &converted, &["visits"])
        .unwrap_err();
    assert!(
        matches!(&err, Error::BadValue { row: 99, field, .. } if field == "visits"),
        "{err:?}"
    );

    // A target with one class.
    let table = LeadTable::new()
        .target("converted", vec![false; 3000])
        .unwrap()
        .numeric("visits", visits.clone())
        .unwrap();
    let err = LeadScoreOptions::new().fit(&table).unwrap_err();
    assert!(
        matches!(&err, Error::Degenerate { input, .. } if input == "target"),
        "{err:?}"
    );

    // A reference level the column does not hold.
    let err = LeadScoreOptions::new()
        .reference("source", "fax")
        .fit(&leads())
        .unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidOption {
                option: "reference",
                ..
            }
        ),
        "{err:?}"
    );

    // Complete separation by a numeric feature.
    let score: Vec<f64> = converted
        .iter()
        .map(|&c| if c { 2.0 } else { -1.0 })
        .collect();
    let jitter: Vec<f64> = (0..3000).map(|i| (i % 17) as f64).collect();
    let table = LeadTable::new()
        .target("converted", converted.clone())
        .unwrap()
        .numeric("jitter", jitter)
        .unwrap()
        .numeric("signal", score)
        .unwrap();
    let err = LeadScoreOptions::new().fit(&table).unwrap_err();
    assert!(
        matches!(&err, Error::Separation { feature, .. } if feature == "signal"),
        "{err:?}"
    );
}

/// 300,000 leads: leads.csv 100 times, numeric features shifted by a row-dependent
/// amount, so the fit runs the warm start and spans many parallel chunks.
fn large() -> LeadTable {
    let t = Table::read_path(format!("{DIR}/leads.csv")).unwrap();
    let rep = 100;
    let cycle = |v: Vec<f64>, k: f64| -> Vec<f64> {
        (0..rep)
            .flat_map(|r| v.iter().map(move |x| x + k * ((r * 7) % 11) as f64))
            .collect()
    };
    let text = |v: Vec<String>| -> Vec<String> { (0..rep).flat_map(|_| v.clone()).collect() };
    let flags = t.flags("converted").unwrap();
    LeadTable::new()
        .target("converted", (0..rep).flat_map(|_| flags.clone()).collect())
        .unwrap()
        .numeric("employees", cycle(t.numbers("employees").unwrap(), 3.0))
        .unwrap()
        .numeric("visits", cycle(t.numbers("visits").unwrap(), 0.1))
        .unwrap()
        .numeric(
            "days_since_contact",
            t.numbers("days_since_contact").unwrap().repeat(rep),
        )
        .unwrap()
        .categorical("source", text(t.text("source").unwrap()))
        .unwrap()
        .categorical("region", text(t.text("region").unwrap()))
        .unwrap()
}

#[test]
fn identical_results_on_one_and_two_threads() {
    let table = large();
    let run = |threads: usize| {
        pool(threads).install(|| {
            let fit = LeadScoreOptions::new().fit(&table).unwrap();
            let scores = fit.model.score(&table).unwrap();
            (fit, scores)
        })
    };
    let (a, sa) = run(1);
    let (b, sb) = run(2);
    assert_eq!(a, b);
    assert_eq!(sa, sb);
    // The warm start reaches the maximum a cold start reaches.
    let cold = LeadScoreOptions::new()
        .logit(LogitOptions::new().warm_start(false))
        .fit(&table)
        .unwrap();
    for (w, c) in a.report.coefficients.iter().zip(&cold.report.coefficients) {
        assert!(close(w.coef, c.coef, 1e-10), "{w:?} {c:?}");
        // Standard errors from each fit's last full pass, within 1e-7 of the estimate in η.
        assert!(close(w.se, c.se, 1e-7), "{w:?} {c:?}");
    }
    assert!(a.report.iterations < cold.report.iterations);
}

/// Leads read through a scoped view of the contacts are the same table as the columns
/// given by hand (so the same fit, bit for bit), and the report says whose leads they
/// are; an owner's view holds only that owner's contacts.
#[test]
fn leads_from_a_scoped_view_of_the_contacts() {
    use acrm::data::Scope;
    use acrm::io::read_contacts_path;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/prospecting/funnel/contacts.csv"
    );
    let contacts = read_contacts_path(path).unwrap();
    let file = Table::read_path(path).unwrap();
    let by_hand = LeadTable::new()
        .id("contact_id", file.text("contact_id").unwrap())
        .unwrap()
        .target("order", file.flags("order").unwrap())
        .unwrap()
        .numeric("employees", file.numbers("employees").unwrap())
        .unwrap();
    let all = contacts.view(&Scope::all());
    let table = LeadTable::from_contacts(&all, "order", &["employees"], &[]).unwrap();
    assert_eq!(table.len(), 1400);
    let fit = LeadScoreOptions::new().fit(&table).unwrap();
    let hand = LeadScoreOptions::new().fit(&by_hand).unwrap();
    assert_eq!(fit.report.coefficients, hand.report.coefficients);
    assert_eq!(fit.report.scope.as_ref().unwrap().label(), "all");
    assert_eq!(hand.report.scope, None);

    // ann's contacts: 488 rows of the file's `owner` column.
    let ann = contacts.view(&Scope::of_owners("owner", "ann", ["ann"]));
    let hers = LeadTable::from_contacts(&ann, "order", &["employees"], &[]).unwrap();
    assert_eq!(hers.len(), 488);
    assert_eq!(hers.scope().unwrap().label(), "owner:ann");

    assert!(matches!(
        LeadTable::from_contacts(&all, "visit", &["employees"], &[]),
        Err(Error::InvalidOption {
            option: "stage",
            ..
        })
    ));
    assert!(matches!(
        LeadTable::from_contacts(&all, "order", &["revenue"], &[]),
        Err(Error::MissingColumn { .. })
    ));
}
