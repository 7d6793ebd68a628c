//! Kaplan–Meier, log-rank, Cox and concordance against lifelines 0.30.3 and statsmodels
//! 0.15.0. The reference numbers are in tests/data/survival/reference.json, made by
//! tests/data/survival/make_reference.py on tests/data/survival/synthetic.csv (seeded,
//! made by the same script) and rossi.csv (Rossi, Berk & Lenihan 1980, as shipped in
//! lifelines; provenance in tests/data/survival/README.md).

use acrm::io::Table;
use acrm::ndarray::Array2;
use acrm::numerics::concordance_index;
use acrm::persistency::{
    log_rank, CoxOptions, CoxPh, KaplanMeierOptions, MedianInterval, SurvivalData, Ties,
};
use acrm::{Error, Fitted};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/survival/");

fn reference() -> Value {
    let text = std::fs::read_to_string(format!("{DIR}reference.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn table(name: &str) -> Table {
    Table::read_path(format!("{DIR}{name}")).unwrap()
}

fn synthetic(weighted: bool) -> (Table, SurvivalData) {
    let t = table("synthetic.csv");
    let data =
        SurvivalData::new(t.numbers("duration").unwrap(), t.flags("event").unwrap()).unwrap();
    let data = if weighted {
        data.with_weights(t.numbers("weight").unwrap()).unwrap()
    } else {
        data
    };
    (t, data)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol * b.abs().max(1.0),
        "{what}: {a} vs reference {b}"
    );
}

#[test]
fn kaplan_meier_matches_lifelines() {
    let r = reference();
    for (key, weighted) in [("km_synthetic", false), ("km_synthetic_weighted", true)] {
        let want = &r[key];
        let (_, data) = synthetic(weighted);
        let km = KaplanMeierOptions::new().compute(&data).unwrap();
        close(km.n, f(&want["n"]), 1e-12, "n");
        close(km.events, f(&want["events"]), 1e-12, "events");
        let curve = km.curve();
        let points = want["points"].as_array().unwrap();
        // lifelines' timeline has t = 0 and censoring-only times too; its event rows:
        let events: Vec<_> = curve
            .iter()
            .zip(&km.table)
            .filter(|(_, r)| r.events > 0.0)
            .collect();
        assert_eq!(events.len(), points.len(), "{key}: event times");
        // lifelines truncates weighted at-risk counts to integers inside Greenwood's sum
        // (its documented weighted-CI quirk); the untruncated formula is stored beside.
        let (lo, hi) = if weighted {
            ("lo_formula", "hi_formula")
        } else {
            ("lo", "hi")
        };
        for ((c, row), p) in events.iter().zip(points) {
            close(c.t, f(&p["t"]), 0.0, "t");
            close(row.at_risk, f(&p["n_at_risk"]), 1e-12, "at risk");
            close(row.events, f(&p["d"]), 1e-12, "events");
            close(c.s, f(&p["s"]), 1e-12, &format!("{key} S({})", c.t));
            close(c.lo, f(&p[lo]), 1e-10, &format!("{key} lo({})", c.t));
            close(c.hi, f(&p[hi]), 1e-10, &format!("{key} hi({})", c.t));
            close(
                km.variance_at(c.t),
                f(&p["greenwood_var"]),
                1e-10,
                "Greenwood variance",
            );
        }
        close(km.median().unwrap(), f(&want["median"]), 0.0, "median");
        let MedianInterval { lo: mlo, hi: mhi } = km.median_interval();
        if !weighted {
            close(
                mlo.unwrap(),
                f(&want["median_ci"]["lower"]),
                0.0,
                "median lo",
            );
            close(
                mhi.unwrap(),
                f(&want["median_ci"]["upper"]),
                0.0,
                "median hi",
            );
        }
        let times = want["at_times"]["times"].as_array().unwrap();
        let s = want["at_times"]["survival_function_at_times"]
            .as_array()
            .unwrap();
        for (t, s) in times.iter().zip(s) {
            close(km.survival_at(f(t)).s, f(s), 1e-12, "S at time");
        }
    }
}

#[test]
fn kaplan_meier_edges() {
    // Before the first event S = 1 with a degenerate interval; after the last time the
    // last value; all at risk dying at once drives S to 0.
    let data = SurvivalData::new(vec![2.0, 2.0, 3.0, 5.0], vec![true, false, true, true]).unwrap();
    let km = KaplanMeierOptions::new().compute(&data).unwrap();
    let s = km.survival_at(1.0);
    assert_eq!(
        (s.s.to_bits(), s.lo.to_bits()),
        (1f64.to_bits(), 1f64.to_bits())
    );
    // S(2) = 3/4, S(3) = 3/4 · 1/2, S(5) = 0.
    close(km.survival_at(2.5).s, 0.75, 1e-15, "S(2.5)");
    close(km.survival_at(3.0).s, 0.375, 1e-15, "S(3)");
    assert_eq!(km.survival_at(9.0).s.to_bits(), 0f64.to_bits());
    assert_eq!(km.median(), Some(3.0));
    // A curve that stays above ½ has no median.
    let data = SurvivalData::new(vec![1.0, 2.0, 3.0], vec![true, false, false]).unwrap();
    assert_eq!(
        KaplanMeierOptions::new().compute(&data).unwrap().median(),
        None
    );
    // Bad input is named.
    let e = SurvivalData::new(vec![1.0, -2.0], vec![true, true]).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::BadValue { input, row: 1, value, .. } if input == "durations" && value == "-2"
        ),
        "{e}"
    );
    let e = SurvivalData::new(vec![1.0, f64::NAN], vec![true, true]).unwrap_err();
    assert!(
        matches!(
            &e,
            Error::BadValue { input, row: 1, field, value, .. }
                if input == "durations" && field == "duration" && value == "NaN"
        ),
        "{e}"
    );
    let e = SurvivalData::new(vec![1.0, 2.0], vec![true]).unwrap_err();
    assert_eq!(
        e,
        Error::LengthMismatch {
            input: "events",
            found: 1,
            expected: 2,
            against: "durations",
        }
    );
    let e = SurvivalData::new(vec![1.0], vec![true])
        .unwrap()
        .with_weights(vec![0.0])
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::BadValue { input, row: 0, value, .. } if input == "weights" && value == "0"
        ),
        "{e}"
    );
    let e = KaplanMeierOptions::new()
        .confidence(1.0)
        .compute(&data)
        .unwrap_err();
    assert!(
        matches!(
            &e,
            Error::InvalidOption {
                option: "confidence",
                value,
                ..
            } if value == "1"
        ),
        "{e}"
    );
}

#[test]
fn grouped_curves_and_log_rank_match_lifelines() {
    let r = reference();
    let (t, data) = synthetic(false);
    let groups = t.text("group").unwrap();
    let grouped = KaplanMeierOptions::new()
        .compute_groups(&data, &groups)
        .unwrap();
    assert_eq!(grouped.groups, ["a", "b", "c"]);
    for (label, km) in grouped.groups.iter().zip(&grouped.curves) {
        let want = &r["km_by_group"][label];
        close(km.n, f(&want["n"]), 0.0, "group n");
        close(km.events, f(&want["events"]), 0.0, "group events");
        close(
            km.median().unwrap(),
            f(&want["median"]),
            0.0,
            "group median",
        );
        let times = want["at_times"]["times"].as_array().unwrap();
        for (t, s) in times.iter().zip(want["at_times"]["s"].as_array().unwrap()) {
            close(km.survival_at(f(t)).s, f(s), 1e-12, "group S");
        }
    }
    let lr = grouped.log_rank.unwrap();
    let want = &r["logrank_multi"];
    close(
        lr.statistic,
        f(&want["test_statistic"]),
        1e-10,
        "log-rank χ² (3 groups)",
    );
    close(
        lr.p_value,
        f(&want["p_value"]),
        1e-10,
        "log-rank p (3 groups)",
    );
    assert_eq!(lr.df, 2);
    // Two groups: rows of a and b only.
    let keep: Vec<usize> = (0..groups.len()).filter(|&i| groups[i] != "c").collect();
    let two = SurvivalData::new(
        keep.iter().map(|&i| data.durations()[i]).collect(),
        keep.iter().map(|&i| data.events()[i]).collect(),
    )
    .unwrap();
    let labels: Vec<&str> = keep.iter().map(|&i| groups[i].as_str()).collect();
    let lr = log_rank(&two, &labels).unwrap();
    let want = &r["logrank_two"];
    close(
        lr.statistic,
        f(&want["test_statistic"]),
        1e-10,
        "log-rank χ² (2 groups)",
    );
    close(
        lr.p_value,
        f(&want["p_value"]),
        1e-10,
        "log-rank p (2 groups)",
    );
    assert_eq!(lr.df, 1);
    let total_o: f64 = lr.observed.iter().sum();
    let total_e: f64 = lr.expected.iter().sum();
    close(total_o, total_e, 1e-12, "Σ observed = Σ expected");
}

fn cox_inputs(
    file: &str,
    duration: &str,
    event: &str,
    covariates: &[&str],
) -> (SurvivalData, Array2<f64>) {
    let t = table(file);
    let data = SurvivalData::new(t.numbers(duration).unwrap(), t.flags(event).unwrap()).unwrap();
    let mut x = Array2::zeros((t.len(), covariates.len()));
    for (j, c) in covariates.iter().enumerate() {
        for (i, v) in t.numbers(c).unwrap().into_iter().enumerate() {
            x[[i, j]] = v;
        }
    }
    (data, x)
}

const ROSSI: [&str; 7] = ["fin", "age", "race", "wexp", "mar", "paro", "prio"];
const SYNTH: [&str; 3] = ["x1", "x2", "x3"];

#[test]
fn cox_matches_lifelines_and_statsmodels() {
    let r = reference();
    for (case, file, duration, event, covariates) in [
        ("rossi", "rossi.csv", "week", "arrest", &ROSSI[..]),
        (
            "synthetic",
            "synthetic.csv",
            "duration",
            "event",
            &SYNTH[..],
        ),
    ] {
        let (data, x) = cox_inputs(file, duration, event, covariates);
        // Efron: lifelines (coefficients, se, z, p, hazard ratios, log-likelihood,
        // concordance) and statsmodels (coefficients, se).
        let Fitted { model, report } = CoxOptions::new().fit(&data, x.view(), covariates).unwrap();
        let ll = &r[format!("cox_{case}_efron")]["lifelines"];
        let sm = &r[format!("cox_{case}_efron")]["statsmodels"];
        for (j, c) in report.coefficients.iter().enumerate() {
            let want = &ll["coefficients"][&c.name];
            close(
                c.coef,
                f(&want["coef"]),
                1e-7,
                &format!("{case} Efron β {}", c.name),
            );
            close(
                c.se,
                f(&want["se"]),
                1e-7,
                &format!("{case} Efron se {}", c.name),
            );
            close(c.hazard_ratio, f(&want["exp_coef"]), 1e-7, "hazard ratio");
            close(c.z, f(&want["z"]), 1e-6, "z");
            close(c.p, f(&want["p"]), 1e-6, "p");
            close(
                c.coef,
                f(&sm["params"][&c.name]),
                1e-7,
                "statsmodels Efron β",
            );
            close(c.se, f(&sm["bse"][&c.name]), 1e-7, "statsmodels Efron se");
            close(model.coefficients()[j], c.coef, 0.0, "model β");
        }
        close(
            report.partial_log_likelihood,
            f(&ll["log_likelihood"]),
            1e-10,
            "Efron ℓ",
        );
        close(
            report.null_log_likelihood,
            f(&sm["loglike_null"]),
            1e-10,
            "ℓ₀",
        );
        close(
            report.concordance,
            f(&ll["concordance_index"]),
            1e-12,
            "concordance",
        );
        assert_eq!(report.rows, data.len());
        check_baseline_and_predictions(&model, ll, covariates, case);
        // Breslow: statsmodels.
        let Fitted { model, report } = CoxOptions::new()
            .ties(Ties::Breslow)
            .fit(&data, x.view(), covariates)
            .unwrap();
        let sm = &r[format!("cox_{case}_breslow")]["statsmodels"];
        for c in &report.coefficients {
            close(
                c.coef,
                f(&sm["params"][&c.name]),
                1e-7,
                &format!("{case} Breslow β {}", c.name),
            );
            close(
                c.se,
                f(&sm["bse"][&c.name]),
                1e-7,
                &format!("{case} Breslow se {}", c.name),
            );
        }
        close(
            report.partial_log_likelihood,
            f(&sm["llf"]),
            1e-10,
            "Breslow ℓ",
        );
        // statsmodels' baseline is the cumulative hazard at x = 0 at the event times, each
        // value taken just before that time's step (H(t−)): so its value at event time k + 1
        // is H at event time k, here −ln S(t | 0) from the model's own prediction.
        let at_zero = &sm["baseline_cumulative_hazard_at_zero"];
        let times: Vec<f64> = at_zero["times"].as_array().unwrap().iter().map(f).collect();
        let values: Vec<f64> = at_zero["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(f)
            .collect();
        assert!(values[0] == 0.0);
        let zero = Array2::zeros((1, covariates.len()));
        let s = model.predict_survival(zero.view(), &times).unwrap();
        for k in 0..times.len() - 1 {
            close(-s[[0, k]].ln(), values[k + 1], 1e-10, "Breslow H(t | 0)");
        }
    }
}

/// Breslow's baseline at the covariate means, survival curves and medians against
/// lifelines (`baseline_cumulative_hazard_`, `predict_survival_function`,
/// `predict_median`), at lifelines' tight-convergence coefficients: to 1e-10 (they agree
/// to 1e-12 on these data; the coefficients' agreement carries through the exponentials).
fn check_baseline_and_predictions(model: &CoxPh, ll: &Value, covariates: &[&str], case: &str) {
    let base = model.baseline().expect("a fitted model has a baseline");
    let want = &ll["baseline_cumulative_hazard"];
    let times: Vec<f64> = want["times"].as_array().unwrap().iter().map(f).collect();
    assert_eq!(base.times, times, "{case}: baseline times");
    for (k, v) in want["values"].as_array().unwrap().iter().enumerate() {
        close(base.cumulative_hazard[k], f(v), 1e-10, "H₀");
    }
    for (j, c) in covariates.iter().enumerate() {
        close(base.centre[j], f(&ll["baseline_mean"][c]), 1e-12, "centre");
    }
    // Step function between baseline times: the value at the last time at or before t.
    assert!(base.cumulative_hazard_at(times[0] - 1.0) == 0.0);
    assert_eq!(
        base.cumulative_hazard_at(times[1] - 1e-9).to_bits(),
        base.cumulative_hazard[0].to_bits()
    );
    assert_eq!(
        base.cumulative_hazard_at(f64::INFINITY).to_bits(),
        base.cumulative_hazard.last().unwrap().to_bits()
    );
    let rows: Vec<Vec<f64>> = ll["predict_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_array().unwrap().iter().map(f).collect())
        .collect();
    let x = Array2::from_shape_fn((rows.len(), covariates.len()), |(i, j)| rows[i][j]);
    let at: Vec<f64> = ll["predict_times"]
        .as_array()
        .unwrap()
        .iter()
        .map(f)
        .collect();
    let s = model.predict_survival(x.view(), &at).unwrap();
    for (i, row) in ll["predict_survival"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        for (k, v) in row.as_array().unwrap().iter().enumerate() {
            close(s[[i, k]], f(v), 1e-10, &format!("{case} S(t | row {i})"));
        }
    }
    let medians = model.predict_median(x.view()).unwrap();
    for (m, want) in medians.iter().zip(ll["predict_median"].as_array().unwrap()) {
        assert_eq!(*m, want.as_f64(), "{case} median");
    }
}

#[test]
fn cox_baseline_by_its_definition_with_weights_and_errors() {
    // Times 1, 2, 2, 3, 4 (the 2s tied, one censored; 4 censored only), weights, one
    // covariate: H₀ recomputed from its definition at the fitted β.
    let t = vec![1.0, 2.0, 2.0, 3.0, 4.0, 3.0];
    let e = vec![true, true, false, true, false, false];
    let w = vec![1.0, 2.0, 1.0, 1.5, 1.0, 0.5];
    let xs = [0.0, 1.0, 0.0, 1.0, 2.0, 0.5];
    let data = SurvivalData::new(t.clone(), e.clone())
        .unwrap()
        .with_weights(w.clone())
        .unwrap();
    let x = Array2::from_shape_vec((6, 1), xs.to_vec()).unwrap();
    let model = CoxOptions::new()
        .fit(&data, x.view(), &["x"])
        .unwrap()
        .model;
    let b = model.coefficients()[0];
    let centre = xs.iter().sum::<f64>() / 6.0;
    let base = model.baseline().unwrap();
    assert_eq!(base.times, vec![1.0, 2.0, 3.0, 4.0]);
    assert!((base.centre[0] - centre).abs() < 1e-15);
    let mut h = 0.0;
    for (k, &time) in base.times.iter().enumerate() {
        let at_risk: f64 = (0..6)
            .filter(|&i| t[i] >= time)
            .map(|i| w[i] * ((xs[i] - centre) * b).exp())
            .sum();
        let died: f64 = (0..6)
            .filter(|&i| t[i].to_bits() == time.to_bits() && e[i])
            .map(|i| w[i])
            .sum();
        h += died / at_risk;
        close(base.cumulative_hazard[k], h, 1e-13, "H₀ by definition");
    }
    // No event at 4: H₀ does not step there.
    assert_eq!(
        base.cumulative_hazard[3].to_bits(),
        base.cumulative_hazard[2].to_bits()
    );
    // S(t | x) and the median of a row from the same definition.
    let row = Array2::from_shape_vec((1, 1), vec![1.0]).unwrap();
    let s = model
        .predict_survival(row.view(), &[0.5, 2.5, 10.0])
        .unwrap();
    let hr = ((1.0 - centre) * b).exp();
    close(s[[0, 0]], 1.0, 0.0, "S before the first time");
    close(
        s[[0, 1]],
        (-base.cumulative_hazard[1] * hr).exp(),
        1e-15,
        "S(2.5)",
    );
    close(
        s[[0, 2]],
        (-base.cumulative_hazard[3] * hr).exp(),
        1e-15,
        "S(10)",
    );
    let first_half = base
        .times
        .iter()
        .zip(&base.cumulative_hazard)
        .find(|(_, h)| (-*h * hr).exp() <= 0.5)
        .map(|(t, _)| *t);
    assert_eq!(model.predict_median(row.view()).unwrap(), vec![first_half]);
    // Errors: no baseline, wrong width, non-finite covariate, NaN time.
    let bare = CoxPh::new(vec!["x".into()], vec![b]).unwrap();
    assert!(bare.baseline().is_none());
    let err = bare.predict_survival(row.view(), &[1.0]).unwrap_err();
    assert!(
        matches!(
            &err,
            Error::InvalidOption {
                option: "baseline",
                value,
                ..
            } if value == "none"
        ),
        "{err}"
    );
    let wide = Array2::zeros((1, 2));
    assert!(model.predict_median(wide.view()).is_err());
    let nan = Array2::from_shape_vec((2, 1), vec![0.0, f64::NAN]).unwrap();
    let err = model.predict_survival(nan.view(), &[1.0]).unwrap_err();
    assert!(
        matches!(&err, Error::BadValue { input, row: 1, field, value, .. }
            if input == "covariates" && field == "x" && value == "NaN"),
        "{err}"
    );
    assert!(model.predict_survival(row.view(), &[f64::NAN]).is_err());
    // The baseline travels with the model through serde (serde_json's default float
    // parsing may move the last bit).
    let back: CoxPh = serde_json::from_str(&serde_json::to_string(&model).unwrap()).unwrap();
    let back = back.baseline().unwrap();
    assert_eq!(back.times, base.times);
    for (a, b) in back.cumulative_hazard.iter().zip(&base.cumulative_hazard) {
        close(*a, *b, 1e-15, "H₀ after serde");
    }
}

#[test]
fn cox_names_constant_and_collinear_covariates() {
    let (data, x) = cox_inputs("rossi.csv", "week", "arrest", &ROSSI);
    let n = x.nrows();
    let with = |col: Vec<f64>| {
        let mut wide = Array2::zeros((n, 8));
        for ((i, j), v) in x.indexed_iter() {
            wide[[i, j]] = *v;
        }
        for (i, v) in col.into_iter().enumerate() {
            wide[[i, 7]] = v;
        }
        wide
    };
    let names = [&ROSSI[..], &["extra"]].concat();
    let e = CoxOptions::new()
        .fit(&data, with(vec![3.0; n]).view(), &names)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Degenerate { input, .. } if input == "extra"),
        "{e}"
    );
    // extra = 2·age − prio: named, with its partners.
    let combo = (0..n).map(|i| 2.0 * x[[i, 1]] - x[[i, 6]]).collect();
    let e = CoxOptions::new()
        .fit(&data, with(combo).view(), &names)
        .unwrap_err();
    match &e {
        Error::Degenerate { input, reason } => {
            assert_eq!(input, "extra");
            assert!(
                reason.contains("`age`") && reason.contains("`prio`"),
                "{reason}"
            );
            assert!(!reason.contains("`fin`"), "{reason}");
        }
        other => panic!("{other}"),
    }
    // Non-finite values are named by row and covariate; finite values too large to sum
    // are refused as such.
    for (bad, shown) in [(f64::NAN, "NaN"), (f64::NEG_INFINITY, "-inf")] {
        let mut col = vec![1.0; n];
        col[5] = bad;
        let e = CoxOptions::new()
            .fit(&data, with(col).view(), &names)
            .unwrap_err();
        assert!(
            matches!(&e, Error::BadValue { input, row: 5, field, value, .. }
                if input == "covariates" && field == "extra" && value == shown),
            "{e}"
        );
    }
    let e = CoxOptions::new()
        .fit(&data, with(vec![1e308; n]).view(), &names)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Numerical { reason, .. }
            if reason.contains("too large") && reason.contains("`extra`")),
        "{e}"
    );
    // No events at all.
    let none = SurvivalData::new(data.durations().to_vec(), vec![false; n]).unwrap();
    let e = CoxOptions::new().fit(&none, x.view(), &ROSSI).unwrap_err();
    assert!(matches!(e, Error::Degenerate { .. }), "{e}");
    // A covariate that separates events from non-events: β runs away, named.
    let sep: Vec<f64> = data
        .events()
        .iter()
        .map(|&e| if e { 1.0 } else { 0.0 })
        .collect();
    let sep = Array2::from_shape_vec((n, 1), sep).unwrap();
    let e = CoxOptions::new()
        .fit(&data, sep.view(), &["leak"])
        .unwrap_err();
    assert!(
        matches!(&e, Error::Numerical { reason, .. } if reason.contains("`leak`")),
        "{e}"
    );
}

/// Harrell's C by its definition, over all pairs (lifelines' naive rule, on risks).
fn brute_concordance(t: &[f64], risk: &[f64], e: &[bool]) -> f64 {
    let (mut num, mut pairs) = (0.0, 0.0);
    for i in 0..t.len() {
        for j in 0..t.len() {
            // i is the shorter: an event strictly earlier, or at the same time as j's
            // censoring.
            let comparable = e[i] && (t[i] < t[j] || (t[i].to_bits() == t[j].to_bits() && !e[j]));
            if comparable {
                pairs += 1.0;
                if risk[i] > risk[j] {
                    num += 1.0;
                } else if risk[i].to_bits() == risk[j].to_bits() {
                    num += 0.5;
                }
            }
        }
    }
    num / pairs
}

#[test]
fn concordance_matches_lifelines_and_brute_force() {
    let r = reference();
    for case in r["concordance_small"].as_array().unwrap() {
        let t: Vec<f64> = case["times"].as_array().unwrap().iter().map(f).collect();
        // lifelines scores are "higher = survives longer": risk = −score.
        let risk: Vec<f64> = case["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| -f(v))
            .collect();
        let e: Vec<bool> = case["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| f(v) > 0.5)
            .collect();
        let c = concordance_index(&t, &risk, &e).unwrap();
        close(c, f(&case["value"]), 1e-15, case["name"].as_str().unwrap());
        close(brute_concordance(&t, &risk, &e), c, 1e-15, "brute force");
    }
    assert_eq!(concordance_index(&[], &[], &[]), Err(Error::EmptyInput));
    // Random small inputs with ties in times and risks.
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
    for _ in 0..200 {
        let n = rng.gen_range(2..30);
        let t: Vec<f64> = (0..n).map(|_| f64::from(rng.gen_range(0..6u8))).collect();
        let risk: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.gen_range(0..4u8)) - 1.5)
            .collect();
        let e: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.6)).collect();
        match concordance_index(&t, &risk, &e) {
            Ok(c) => close(
                c,
                brute_concordance(&t, &risk, &e),
                1e-12,
                "random concordance",
            ),
            Err(err) => assert!(matches!(err, Error::Degenerate { .. }), "{err}"),
        }
    }
    // Large enough for the parallel halves (over 2¹⁴ rows): few distinct times (large
    // tied groups) and distinct times (one row per group, the deepest merges).
    for distinct_times in [50u32, u32::MAX] {
        let n = 20_000;
        let t: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.gen_range(0..distinct_times)))
            .collect();
        let risk: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.gen_range(0..500u16)))
            .collect();
        let e: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.5)).collect();
        close(
            concordance_index(&t, &risk, &e).unwrap(),
            brute_concordance(&t, &risk, &e),
            1e-12,
            "large concordance",
        );
    }
}

#[test]
fn survival_results_do_not_depend_on_threads() {
    let (data, x) = cox_inputs("synthetic.csv", "duration", "event", &SYNTH);
    let run = || {
        let km = KaplanMeierOptions::new().compute(&data).unwrap();
        let cox = CoxOptions::new().fit(&data, x.view(), &SYNTH).unwrap();
        (km, cox)
    };
    let one = crate::pool(1).install(run);
    let two = crate::pool(2).install(run);
    assert_eq!(one, two);
    // Many chunks of the likelihood passes, the moments and the concordance merges: 40k
    // rows with tied times, weighted.
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
    let n = 40_000;
    let x = Array2::from_shape_fn((n, 4), |(_, j)| match j {
        0 | 1 => rng.gen_range(-2.0..2.0),
        2 => f64::from(rng.gen_range(0..2u8)),
        _ => rng.gen_range(0.0..1.0),
    });
    let durations: Vec<f64> = (0..n)
        .map(|i| {
            let risk = (0.5 * x[[i, 0]] - 0.3 * x[[i, 1]] + 0.4 * x[[i, 2]]).exp();
            let t: f64 = -rng.gen_range(1e-9f64..1.0).ln() / (0.1 * risk);
            (t * 10.0).round() / 10.0
        })
        .collect();
    let events: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.7)).collect();
    let weights: Vec<f64> = (0..n).map(|_| rng.gen_range(0.5..2.0)).collect();
    let data = SurvivalData::new(durations, events)
        .unwrap()
        .with_weights(weights)
        .unwrap();
    let names = ["a", "b", "c", "d"];
    let run = || CoxOptions::new().fit(&data, x.view(), &names).unwrap();
    let one = crate::pool(1).install(run);
    let two = crate::pool(2).install(run);
    assert_eq!(one, two);
    let s = one
        .model
        .predict_survival(x.view(), &[1.0, 5.0, 20.0])
        .unwrap();
    assert_eq!(
        s,
        two.model
            .predict_survival(x.view(), &[1.0, 5.0, 20.0])
            .unwrap()
    );
}
