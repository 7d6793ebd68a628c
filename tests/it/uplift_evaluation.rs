//! Uplift evaluation against scikit-uplift 0.5.1 (`sklift.metrics`, with scikit-learn 1.9.1
//! and numpy 2.4.6): every curve point and metric of tests/data/promotion/uplift/
//! reference.json, made by reference.py there, within 1e-12 (relative above 1).

use acrm::promotion::{
    qini_auc_score, PercentileBin, TopK, UpliftCurve, UpliftSample, UpliftStrategy,
};
use acrm::Error;
use serde_json::Value;

use crate::pool;

const TOL: f64 = 1e-12;

fn reference() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/promotion/uplift/reference.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= TOL * b.abs().max(1.0)
}

fn assert_close(what: &str, ours: f64, theirs: f64) {
    assert!(
        close(ours, theirs),
        "{what}: ours {ours:e}, sklift {theirs:e}"
    );
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn ints(v: &Value) -> Vec<i64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_i64().unwrap())
        .collect()
}

fn assert_curve(what: &str, ours: &UpliftCurve, theirs: &Value) {
    let (x, y) = (floats(&theirs["x"]), floats(&theirs["y"]));
    assert_eq!(ours.x.len(), x.len(), "{what}: number of points");
    for i in 0..x.len() {
        assert_close(&format!("{what} x[{i}]"), ours.x[i], x[i]);
        assert_close(&format!("{what} y[{i}]"), ours.y[i], y[i]);
    }
}

/// A scalar result against sklift's: a value, NaN (null: ours must be `Degenerate`), or an
/// exception (ours must be an error of the kind `expect_error` says).
fn assert_scalar(what: &str, ours: Result<f64, Error>, theirs: &Value) {
    match (&ours, theirs.get("value")) {
        (Ok(v), Some(Value::Number(t))) => assert_close(what, *v, t.as_f64().unwrap()),
        (Err(Error::Degenerate { .. }), Some(Value::Null)) => {}
        (Err(e), None) => {
            let message = theirs["error"].as_str().unwrap();
            let ok = match e {
                Error::InvalidOption { option, .. } => {
                    message.contains(&format!("{option}=")) || message.contains("bins")
                }
                // sklearn's auc rejects the non-monotone perfect Qini curve; Python
                // divides by a zero perfect area.
                Error::Degenerate { .. } => {
                    message.contains("neither increasing") || message.contains("ZeroDivision")
                }
                _ => false,
            };
            assert!(ok, "{what}: ours {e}, sklift {message}");
        }
        _ => panic!("{what}: ours {ours:?}, sklift {theirs}"),
    }
}

fn opt(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn assert_bins(what: &str, ours: &[PercentileBin], theirs: &Value) {
    let rows = theirs.as_array().unwrap();
    assert_eq!(ours.len(), rows.len(), "{what}: bins");
    for (b, (o, t)) in ours.iter().zip(rows).enumerate() {
        let w = format!("{what} bin {b}");
        assert_eq!(o.percentile, t["percentile"].as_str().unwrap(), "{w}");
        assert_eq!(
            o.n_treatment as u64,
            t["n_treatment"].as_u64().unwrap(),
            "{w}"
        );
        assert_eq!(o.n_control as u64, t["n_control"].as_u64().unwrap(), "{w}");
        for (name, ours, theirs) in [
            (
                "response_rate_treatment",
                o.response_rate_treatment,
                &t["response_rate_treatment"],
            ),
            (
                "response_rate_control",
                o.response_rate_control,
                &t["response_rate_control"],
            ),
            ("uplift", o.uplift, &t["uplift"]),
            ("std_treatment", o.std_treatment, &t["std_treatment"]),
            ("std_control", o.std_control, &t["std_control"]),
            ("std_uplift", o.std_uplift, &t["std_uplift"]),
        ] {
            if theirs.is_null() {
                assert_eq!(ours, None, "{w} {name}");
            } else {
                let v = ours.unwrap_or_else(|| panic!("{w} {name}: ours None"));
                assert_close(&format!("{w} {name}"), v, opt(theirs).unwrap());
            }
        }
    }
}

fn strategy(v: &Value) -> UpliftStrategy {
    match v.as_str().unwrap() {
        "overall" => UpliftStrategy::Overall,
        _ => UpliftStrategy::ByGroup,
    }
}

fn sample_of(data: &Value) -> UpliftSample {
    let y = ints(&data["y"]);
    let t = ints(&data["treatment"]);
    UpliftSample::new(&y, &floats(&data["uplift"]), &t).unwrap()
}

/// Every dataset of reference.json: continuous scores, scores rounded to one and two
/// decimals, all scores equal, a harmful treatment, and two tiny cases (one with −0.0).
#[test]
fn every_metric_and_curve_matches_scikit_uplift() {
    let doc = reference();
    for (name, data) in doc["datasets"].as_object().unwrap() {
        let s = sample_of(data);
        let m = &data["metrics"];
        assert_curve(
            &format!("{name} uplift_curve"),
            &s.uplift_curve(),
            &m["uplift_curve"]["value"],
        );
        assert_curve(
            &format!("{name} qini_curve"),
            &s.qini_curve(),
            &m["qini_curve"]["value"],
        );
        assert_curve(
            &format!("{name} perfect_uplift_curve"),
            &s.perfect_uplift_curve(),
            &m["perfect_uplift_curve"]["value"],
        );
        assert_curve(
            &format!("{name} perfect_qini_curve"),
            &s.perfect_qini_curve(true).unwrap(),
            &m["perfect_qini_curve_True"]["value"],
        );
        // Without negative effects the perfect curve is defined even where its area is
        // not; sklift returns it whenever r ≥ 0.
        match s.perfect_qini_curve(false) {
            Ok(c) => assert_curve(
                &format!("{name} perfect_qini_curve(False)"),
                &c,
                &m["perfect_qini_curve_False"]["value"],
            ),
            Err(e) => assert!(
                m["qini_auc_score_False"].get("error").is_some(),
                "{name}: {e}"
            ),
        }
        assert_scalar(
            &format!("{name} uplift_auc_score"),
            s.uplift_auc_score(),
            &m["uplift_auc_score"],
        );
        assert_scalar(
            &format!("{name} qini_auc_score"),
            s.qini_auc_score(true),
            &m["qini_auc_score_True"],
        );
        assert_scalar(
            &format!("{name} qini_auc_score(negative_effect=False)"),
            s.qini_auc_score(false),
            &m["qini_auc_score_False"],
        );
        for case in m["uplift_at_k"].as_array().unwrap() {
            let k = if case["k_is_count"].as_bool().unwrap() {
                TopK::Count(case["k"].as_u64().unwrap() as usize)
            } else {
                TopK::Fraction(case["k"].as_f64().unwrap())
            };
            let st = strategy(&case["strategy"]);
            assert_scalar(
                &format!("{name} uplift_at_k {k:?} {st:?}"),
                s.uplift_at_k(k, st),
                case,
            );
        }
        for case in m["uplift_by_percentile"].as_array().unwrap() {
            let bins = case["bins"].as_u64().unwrap() as usize;
            let st = strategy(&case["strategy"]);
            let what = format!("{name} uplift_by_percentile {bins} {st:?}");
            match (s.uplift_by_percentile(bins, st), case.get("value")) {
                (Ok(table), Some(t)) => assert_bins(&what, &table, t),
                (Err(Error::InvalidOption { .. }), None) => {}
                (ours, _) => panic!("{what}: ours {ours:?}, sklift {case}"),
            }
        }
        for case in m["weighted_average_uplift"].as_array().unwrap() {
            let bins = case["bins"].as_u64().unwrap() as usize;
            let st = strategy(&case["strategy"]);
            assert_scalar(
                &format!("{name} weighted_average_uplift {bins} {st:?}"),
                s.weighted_average_uplift(bins, st),
                case,
            );
        }
    }
}

/// The example's scored file (half of its scores rounded to one decimal) against the
/// numbers reference.py took from sklift for it.
#[test]
fn scored_file_matches_scikit_uplift() {
    let doc = reference();
    let r = &doc["scored_csv"];
    let mut reader = csv::Reader::from_path(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/promotion/uplift/scored.csv"
    ))
    .unwrap();
    let (mut y, mut s, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for row in reader.records() {
        let row = row.unwrap();
        s.push(row[1].parse::<f64>().unwrap());
        t.push(row[2].parse::<u8>().unwrap());
        y.push(row[3].parse::<u8>().unwrap());
    }
    let sample = UpliftSample::new(&y, &s, &t).unwrap();
    assert_eq!(sample.len() as u64, r["n"].as_u64().unwrap());
    assert_eq!(
        sample.n_treatment() as u64,
        r["n_treatment"].as_u64().unwrap()
    );
    assert_close(
        "qini",
        sample.qini_auc_score(true).unwrap(),
        r["qini_auc_score"].as_f64().unwrap(),
    );
    assert_close(
        "qini(False)",
        sample.qini_auc_score(false).unwrap(),
        r["qini_auc_score_negative_effect_false"].as_f64().unwrap(),
    );
    assert_close(
        "uplift auc",
        sample.uplift_auc_score().unwrap(),
        r["uplift_auc_score"].as_f64().unwrap(),
    );
    for (k, v) in r["uplift_at_k"].as_object().unwrap() {
        let f: f64 = k.parse().unwrap();
        for (st, key) in [
            (UpliftStrategy::Overall, "overall"),
            (UpliftStrategy::ByGroup, "by_group"),
        ] {
            assert_close(
                &format!("uplift_at_k {k} {key}"),
                sample.uplift_at_k(TopK::Fraction(f), st).unwrap(),
                v[key].as_f64().unwrap(),
            );
        }
    }
    assert_close(
        "weighted_average_uplift",
        sample
            .weighted_average_uplift(10, UpliftStrategy::Overall)
            .unwrap(),
        r["weighted_average_uplift"].as_f64().unwrap(),
    );
    let table = sample
        .uplift_by_percentile(10, UpliftStrategy::Overall)
        .unwrap();
    for (o, t) in table
        .iter()
        .zip(r["uplift_by_percentile"].as_array().unwrap())
    {
        assert_eq!(o.percentile, t["percentile"].as_str().unwrap());
        assert_eq!(o.n_treatment as u64, t["n_treatment"].as_u64().unwrap());
        assert_close(
            "bin uplift",
            o.uplift.unwrap(),
            t["uplift"].as_f64().unwrap(),
        );
    }
}

/// Typed errors: no rows, lengths that differ, labels other than 0/1, NaN and infinite
/// scores, a missing group, a top k without control rows, k and bins out of range.
#[test]
fn bad_input_gives_typed_errors() {
    let e = UpliftSample::new::<u8, u8>(&[], &[], &[]).unwrap_err();
    assert_eq!(e, Error::EmptyInput);
    let e = UpliftSample::new(&[0u8, 1], &[0.1], &[0u8, 1]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                input: "y",
                found: 2,
                expected: 1,
                ..
            }
        ),
        "{e}"
    );
    let e = UpliftSample::new(&[0u8, 1], &[0.1, 0.2], &[0u8]).unwrap_err();
    assert!(
        matches!(
            e,
            Error::LengthMismatch {
                input: "treatment",
                ..
            }
        ),
        "{e}"
    );
    let e = UpliftSample::new(&[0, 2, 1], &[0.1, 0.2, 0.3], &[0, 1, 1]).unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { input, row: 1, value, .. } if input == "y" && value == "2"),
        "{e}"
    );
    let e = UpliftSample::new(&[0, 1, 1], &[0.1, 0.2, 0.3], &[0.0, 0.5, 1.0]).unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { input, row: 1, .. } if input == "treatment"),
        "{e}"
    );
    let e = UpliftSample::new(&[0, 1, 1], &[0.1, f64::NAN, 0.3], &[0, 1, 1]).unwrap_err();
    assert!(
        matches!(&e, Error::BadValue { input, row: 1, .. } if input == "uplift"),
        "{e}"
    );
    let e = UpliftSample::new(&[0, 1, 1], &[0.1, 0.2, f64::INFINITY], &[0, 1, 0]).unwrap_err();
    assert!(matches!(&e, Error::BadValue { row: 2, .. }), "{e}");
    let e = UpliftSample::new(&[0, 1, 1], &[0.1, 0.2, 0.3], &[1, 1, 1]).unwrap_err();
    assert!(
        matches!(&e, Error::Degenerate { input, .. } if input == "treatment"),
        "{e}"
    );
    let e = qini_auc_score(&[true, false], &[0.1, 0.2], &[false, false], true).unwrap_err();
    assert!(matches!(e, Error::Degenerate { .. }), "{e}");

    // The two top rows are treated: no control row among them.
    let s = UpliftSample::new(&[1, 0, 1, 0], &[0.9, 0.8, 0.1, 0.2], &[1, 1, 0, 0]).unwrap();
    let e = s
        .uplift_at_k(TopK::Count(2), UpliftStrategy::Overall)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Degenerate { input, .. } if input == "k"),
        "{e}"
    );
    for k in [
        TopK::Fraction(0.0),
        TopK::Fraction(1.0),
        TopK::Fraction(f64::NAN),
        TopK::Count(0),
        TopK::Count(4),
    ] {
        let e = s.uplift_at_k(k, UpliftStrategy::Overall).unwrap_err();
        assert!(
            matches!(e, Error::InvalidOption { option: "k", .. }),
            "{k:?}: {e}"
        );
    }
    let e = s
        .uplift_at_k(TopK::Count(3), UpliftStrategy::ByGroup)
        .unwrap_err();
    assert!(matches!(e, Error::InvalidOption { option: "k", .. }), "{e}");
    for bins in [0, 4, 5] {
        let e = s
            .uplift_by_percentile(bins, UpliftStrategy::Overall)
            .unwrap_err();
        assert!(
            matches!(e, Error::InvalidOption { option: "bins", .. }),
            "{e}"
        );
    }
    // Bins of two rows: the first holds only treated rows.
    let e = s
        .weighted_average_uplift(2, UpliftStrategy::Overall)
        .unwrap_err();
    assert!(
        matches!(&e, Error::Degenerate { input, .. } if input == "bins"),
        "{e}"
    );
}

fn synthetic(n: usize) -> (Vec<u8>, Vec<f64>, Vec<u8>) {
    // A fixed linear congruential stream: no RNG state shared with the pool.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let (mut y, mut s, mut t) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let score = next() - 0.5;
        // Every third score rounded to two decimals: long runs of ties.
        s.push(if i % 3 == 0 {
            (score * 100.0).round() / 100.0
        } else {
            score
        });
        let treated = next() < 0.5;
        t.push(u8::from(treated));
        y.push(u8::from(
            next() < 0.2 + if treated { score * 0.2 } else { 0.0 },
        ));
    }
    (y, s, t)
}

/// 1 and 2 threads give the same bits for every metric and curve.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let (y, s, t) = synthetic(300_000);
    let run = |threads: usize| {
        pool(threads).install(|| {
            let sample = UpliftSample::new(&y, &s, &t).unwrap();
            let ks = [
                TopK::Fraction(0.1),
                TopK::Fraction(0.3),
                TopK::Count(12_345),
            ];
            let at_k: Vec<u64> = ks
                .iter()
                .flat_map(|&k| {
                    [UpliftStrategy::Overall, UpliftStrategy::ByGroup]
                        .map(|st| sample.uplift_at_k(k, st).unwrap().to_bits())
                })
                .collect();
            (
                sample.qini_curve(),
                sample.uplift_curve(),
                sample.qini_auc_score(true).unwrap().to_bits(),
                sample.qini_auc_score(false).unwrap().to_bits(),
                sample.uplift_auc_score().unwrap().to_bits(),
                at_k,
                serde_json::to_string(
                    &sample
                        .uplift_by_percentile(10, UpliftStrategy::ByGroup)
                        .unwrap(),
                )
                .unwrap(),
                sample
                    .weighted_average_uplift(10, UpliftStrategy::Overall)
                    .unwrap()
                    .to_bits(),
            )
        })
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one.0.x.len(), two.0.x.len());
    for (a, b) in one.0.y.iter().zip(&two.0.y) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
    for (a, b) in one.1.y.iter().zip(&two.1.y) {
        assert_eq!(a.to_bits(), b.to_bits());
    }
    assert_eq!(
        (one.2, one.3, one.4, &one.5, &one.6, one.7),
        (two.2, two.3, two.4, &two.5, &two.6, two.7)
    );
}

/// The curves have one point per distinct score, start at (0, 0), end at all rows, and the
/// uplift at k equals the brute-force count over the stable descending order scikit-uplift
/// uses (equal scores: the later row first).
#[test]
fn curves_and_top_k_agree_with_a_brute_force_ranking() {
    let (y, s, t) = synthetic(5_000);
    let sample = UpliftSample::new(&y, &s, &t).unwrap();
    let mut distinct: Vec<u64> = s.iter().map(|v| (v + 0.0).to_bits()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    let q = sample.qini_curve();
    assert_eq!(q.x.len(), distinct.len() + 1);
    assert_eq!((q.x[0].to_bits(), q.y[0].to_bits()), (0, 0));
    assert_eq!(q.x.last().unwrap().to_bits(), 5_000f64.to_bits());
    // numpy: argsort(kind="mergesort")[::-1].
    let mut order: Vec<usize> = (0..s.len()).collect();
    order.sort_by(|&a, &b| (s[a] + 0.0).total_cmp(&(s[b] + 0.0)));
    order.reverse();
    for size in [17usize, 500, 1_234, 4_999] {
        let top = &order[..size];
        let rate = |group: u8| {
            let rows: Vec<usize> = top.iter().copied().filter(|&i| t[i] == group).collect();
            rows.iter().filter(|&&i| y[i] == 1).count() as f64 / rows.len() as f64
        };
        let want = rate(1) - rate(0);
        let got = sample
            .uplift_at_k(TopK::Count(size), UpliftStrategy::Overall)
            .unwrap();
        assert_close(&format!("top {size}"), got, want);
    }
}
