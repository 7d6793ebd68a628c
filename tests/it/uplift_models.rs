//! Uplift models (promotion::uplift, promotion::uplift_tree) and the synthetic campaigns
//! they are checked on (synth::UpliftSynth).
//!
//! Sources, all in tests/data/promotion/uplift_models/, made by make_reference.py there:
//! - gains.json: split gains of hand-made nodes from a numpy transcription of causalml
//!   0.18.0's criterion formulas (`_uplift/_criterion.pyx`);
//! - trees.json: causalml 0.18.0 `UpliftTreeClassifier` fits on campaign.csv (3,000
//!   seeded rows, features on grids of sixteenths): every row's uplift;
//! - tlearner.json: statsmodels 0.15.0 `Logit` (Newton, tol 1e-12) on the treated and
//!   control rows, and on z = y t + (1 − y)(1 − t);
//! - forest.json: causalml 0.18.0 `UpliftRandomForestClassifier` on 20,000 rows of the
//!   UpliftSynth distribution (drawn with numpy): its correlation with the true uplift.

use acrm::io::Table;
use acrm::ndarray::{Array2, ArrayView2};
use acrm::numerics::LogitOptions;
use acrm::promotion::{
    ClassTransformationOptions, Classifier, ForestClassifier, GroupCounts, GroupRates,
    SplitCriterion, TwoModelOptions, UpliftData, UpliftForest, UpliftForestOptions,
    UpliftTreeOptions,
};
use acrm::synth::{UpliftRows, UpliftSynth};
use acrm::Error;
use serde_json::Value;

use super::pool;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/promotion/uplift_models"
);

/// Gains and divergences against the numpy transcription: relative (the same formulas
/// in the same order; the rest is rounding).
const GAIN: f64 = 1e-12;
/// Tree uplifts against causalml: absolute (leaf rates are ratios of counts).
const TREE: f64 = 1e-12;
/// Logistic fits against statsmodels: both converge to the same maximum (1e-12 steps).
const LOGIT: f64 = 1e-6;

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/{name}")).unwrap()).unwrap()
}

/// campaign.csv: the named features as a matrix, treatment, outcome.
fn campaign(features: &[&str]) -> (Array2<f64>, Vec<bool>, Vec<bool>) {
    let t = Table::read_path(format!("{DIR}/campaign.csv")).unwrap();
    let cols: Vec<Vec<f64>> = features.iter().map(|f| t.numbers(f).unwrap()).collect();
    let n = t.len();
    let x = Array2::from_shape_fn((n, features.len()), |(i, j)| cols[j][i]);
    (
        x,
        t.flags("treatment").unwrap(),
        t.flags("outcome").unwrap(),
    )
}

fn counts(v: &Value) -> GroupCounts {
    let a: Vec<f64> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    GroupCounts {
        control: a[0],
        control_positive: a[1],
        treated: a[2],
        treated_positive: a[3],
    }
}

fn criterion(name: &str) -> SplitCriterion {
    name.parse().unwrap()
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300) || (a - b).abs() < 1e-300
}

/// Split gains and regularised node rates of hand-made nodes: numpy transcription of
/// causalml 0.18.0 `_criterion.pyx` (gains.json), relative 1e-12.
#[test]
fn split_gains_match_causalml_formulas() {
    let r = json("gains.json");
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 126);
    for c in cases {
        let opts = UpliftTreeOptions::new()
            .criterion(criterion(c["criterion"].as_str().unwrap()))
            .normalization(c["normalization"].as_bool().unwrap())
            .n_reg(c["n_reg"].as_f64().unwrap())
            .min_samples_treatment(c["min_samples_treatment"].as_f64().unwrap() as usize);
        let parent = c["parent"].as_array().map(|p| GroupRates {
            control: p[0].as_f64().unwrap(),
            treated: p[1].as_f64().unwrap(),
        });
        let node = counts(&c["node"]);
        let gain = opts.split_gain(node, counts(&c["left"]), parent);
        match c["gain"].as_f64() {
            None => assert!(gain.is_infinite() && gain < 0.0, "{c}"),
            Some(g) => assert!(close(gain, g, GAIN), "{c}: {gain} vs {g}"),
        }
        if let Some(rates) = c["node_rates"].as_array() {
            let reg = opts.regularised_rates(node, parent);
            assert!(close(reg.control, rates[0].as_f64().unwrap(), GAIN), "{c}");
            assert!(close(reg.treated, rates[1].as_f64().unwrap(), GAIN), "{c}");
        }
    }
    for d in r["divergences"].as_array().unwrap() {
        let (pt, pc) = (d["pt"].as_f64().unwrap(), d["pc"].as_f64().unwrap());
        for name in ["KL", "ED", "Chi"] {
            let v = criterion(name).divergence(pt, pc);
            assert!(close(v, d[name].as_f64().unwrap(), GAIN), "{name} {d}");
        }
    }
}

/// Single trees on campaign.csv reproduce causalml 0.18.0 `UpliftTreeClassifier`
/// (trees.json): the same node count and every row's uplift to 1e-12, for KL, ED and χ²
/// with normalisation and KL without normalisation or regularisation. The features have
/// at most 17 distinct values, so the binned thresholds are causalml's midpoints.
#[test]
fn trees_reproduce_causalml() {
    let r = json("trees.json");
    let (x, t, y) = campaign(&["a", "b", "c"]);
    let data = UpliftData::new(x.view(), &t, &y)
        .unwrap()
        .names(&["a", "b", "c"])
        .unwrap();
    for f in r["fits"].as_array().unwrap() {
        let opts = UpliftTreeOptions::new()
            .criterion(criterion(f["criterion"].as_str().unwrap()))
            .normalization(f["normalization"].as_bool().unwrap())
            .n_reg(f["n_reg"].as_f64().unwrap())
            .min_samples_treatment(f["min_samples_treatment"].as_u64().unwrap() as usize)
            .max_depth(f["max_depth"].as_u64().unwrap() as usize)
            .min_samples_leaf(f["min_samples_leaf"].as_u64().unwrap() as usize);
        let fit = opts.fit(&data).unwrap();
        assert_eq!(
            fit.report.nodes as u64,
            f["nodes"].as_u64().unwrap(),
            "{}",
            f["criterion"]
        );
        let values = f["values"].as_array().unwrap();
        let pred = fit.model.predict(x.view()).unwrap();
        for (i, k) in f["index"].as_array().unwrap().iter().enumerate() {
            let want = values[k.as_u64().unwrap() as usize].as_f64().unwrap();
            assert!(
                (pred[i] - want).abs() < TREE,
                "{} row {i}: {} vs {want}",
                f["criterion"],
                pred[i]
            );
        }
    }
}

/// The T-learner with logistic regressions: statsmodels 0.15.0 `Logit` on each group's
/// rows (tlearner.json), coefficients and the uplift of the first 50 rows to 1e-6.
#[test]
fn two_model_logit_matches_statsmodels() {
    let r = json("tlearner.json");
    let names = ["a", "b", "c", "d"];
    let (x, t, y) = campaign(&names);
    let data = UpliftData::new(x.view(), &t, &y)
        .unwrap()
        .names(&names)
        .unwrap();
    let fit = TwoModelOptions::new().fit(&data).unwrap();
    for (report, key) in [
        (fit.report.treated_logit.as_ref().unwrap(), "treated"),
        (fit.report.control_logit.as_ref().unwrap(), "control"),
    ] {
        for (c, want) in report.coefficients.iter().zip(r[key].as_array().unwrap()) {
            let want = want.as_f64().unwrap();
            assert!((c.coef - want).abs() < LOGIT * want.abs().max(1.0), "{key}");
        }
    }
    let pred = fit.model.predict(x.view()).unwrap();
    for (i, want) in r["uplift"].as_array().unwrap().iter().enumerate() {
        assert!((pred[i] - want.as_f64().unwrap()).abs() < LOGIT, "row {i}");
        assert_eq!(
            pred[i].to_bits(),
            fit.model.uplift(x.row(i).as_slice().unwrap()).to_bits()
        );
    }
    assert_eq!(
        (fit.report.counts.treated + fit.report.counts.control) as usize,
        3000
    );
}

/// Class transformation with a logistic regression of z: statsmodels 0.15.0 `Logit` on
/// z (tlearner.json), coefficients and 2 P(z = 1 | x) − 1 of the first 50 rows to 1e-6.
#[test]
fn class_transformation_logit_matches_statsmodels() {
    let r = json("tlearner.json");
    let names = ["a", "b", "c", "d"];
    let (x, t, y) = campaign(&names);
    let data = UpliftData::new(x.view(), &t, &y)
        .unwrap()
        .names(&names)
        .unwrap();
    let fit = ClassTransformationOptions::new()
        .classifier(Classifier::Logit(LogitOptions::new()))
        .fit(&data)
        .unwrap();
    let logit = fit.report.logit.as_ref().unwrap();
    for (c, want) in logit.coefficients.iter().zip(r["z"].as_array().unwrap()) {
        let want = want.as_f64().unwrap();
        assert!((c.coef - want).abs() < LOGIT * want.abs().max(1.0));
    }
    let pred = fit.model.predict(x.view()).unwrap();
    for (i, want) in r["class_transformation"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert!((pred[i] - want.as_f64().unwrap()).abs() < LOGIT, "row {i}");
    }
    let share = t.iter().filter(|&&v| v).count() as f64 / t.len() as f64;
    assert_eq!(fit.report.treated_share.to_bits(), share.to_bits());
}

fn synth(rows: usize, seed: u64) -> UpliftRows {
    UpliftSynth::new()
        .rows(rows)
        .features(6)
        .seed(seed)
        .generate()
        .unwrap()
}

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Realised uplift (treated rate − control rate) of the top and bottom tenth of rows
/// ranked by score (highest first, ties in row order).
fn decile_uplift(score: &[f64], s: &UpliftRows) -> (f64, f64) {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&i, &j| score[j].total_cmp(&score[i]));
    let k = score.len() / 10;
    let realised = |idx: &[usize]| {
        let (mut nt, mut pt, mut nc, mut pc) = (0.0, 0.0, 0.0, 0.0);
        for &i in idx {
            let y = f64::from(u8::from(s.outcome[i]));
            if s.treatment[i] {
                nt += 1.0;
                pt += y;
            } else {
                nc += 1.0;
                pc += y;
            }
        }
        pt / nt - pc / nc
    };
    (realised(&order[..k]), realised(&order[order.len() - k..]))
}

/// On the planted-effect distribution the forest recovers the effect on fresh rows:
/// correlation with the true uplift above 0.85 and within 0.05 of causalml 0.18.0's
/// forest at the same settings (forest.json: 0.947 on its own numpy draw), and the
/// realised uplift of the top decile above that of the bottom decile (causalml: 0.254
/// vs −0.127), for each criterion.
#[test]
fn forest_recovers_planted_effect() {
    let r = json("forest.json");
    let reference = r["correlation"].as_f64().unwrap();
    let train = synth(20_000, 7);
    let test = synth(20_000, 8);
    let data = UpliftData::new(train.x.view(), &train.treatment, &train.outcome).unwrap();
    for c in [
        SplitCriterion::KullbackLeibler,
        SplitCriterion::Euclidean,
        SplitCriterion::ChiSquared,
    ] {
        let fit = UpliftForestOptions::new()
            .trees(20)
            .criterion(c)
            .fit(&data)
            .unwrap();
        let pred = fit.model.predict(test.x.view()).unwrap();
        let rho = correlation(&pred, &test.uplift);
        assert!(rho > 0.85 && rho > reference - 0.05, "{c:?}: {rho}");
        let (top, bottom) = decile_uplift(&pred, &test);
        assert!(top > 0.15 && bottom < 0.0, "{c:?}: {top} {bottom}");
        assert_eq!(fit.report.trees, 20);
    }
}

/// The T-learner with forests and the class transformation with a forest pick up the
/// planted effect too (weaker than the uplift forest: correlation above 0.5).
#[test]
fn forest_classifiers_recover_planted_effect() {
    let train = synth(20_000, 11);
    let test = synth(10_000, 12);
    let data = UpliftData::new(train.x.view(), &train.treatment, &train.outcome).unwrap();
    let forest = Classifier::Forest(ForestClassifier::new().trees(30).min_leaf(50));
    let two = TwoModelOptions::new()
        .classifier(forest)
        .fit(&data)
        .unwrap();
    let pred = two.model.predict(test.x.view()).unwrap();
    assert!(correlation(&pred, &test.uplift) > 0.5);
    let ct = ClassTransformationOptions::new()
        .classifier(forest)
        .fit(&data)
        .unwrap();
    let pred = ct.model.predict(test.x.view()).unwrap();
    assert!(correlation(&pred, &test.uplift) > 0.5);
    assert!((ct.report.treated_share - 0.5).abs() < 0.02);
}

/// One and two threads grow the same forest and score the same bits; the same holds for
/// the two-model forest, and for the synthetic campaign itself.
#[test]
fn same_bits_for_any_number_of_threads() {
    let run = |threads: usize| {
        pool(threads).install(|| {
            let s = synth(30_000, 3);
            let data = UpliftData::new(s.x.view(), &s.treatment, &s.outcome).unwrap();
            let forest = UpliftForestOptions::new()
                .trees(6)
                .max_features(Some(3))
                .fit(&data)
                .unwrap()
                .model;
            let pred = forest.predict(s.x.view()).unwrap();
            let two = TwoModelOptions::new()
                .classifier(Classifier::Forest(ForestClassifier::new().trees(4)))
                .fit(&data)
                .unwrap()
                .model
                .predict(s.x.view())
                .unwrap();
            (s, forest, pred, two)
        })
    };
    let (s1, f1, p1, t1) = run(1);
    let (s2, f2, p2, t2) = run(2);
    assert_eq!(s1, s2);
    assert_eq!(f1, f2);
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&p1), bits(&p2));
    assert_eq!(bits(&t1), bits(&t2));
}

/// A forest survives a JSON round trip and scores the same; a seed changes it.
#[test]
fn forest_serde_round_trip_and_seed() {
    let s = synth(5_000, 5);
    let data = UpliftData::new(s.x.view(), &s.treatment, &s.outcome).unwrap();
    let opts = UpliftForestOptions::new().trees(3).max_depth(3);
    let a = opts.fit(&data).unwrap().model;
    let back: UpliftForest = serde_json::from_str(&serde_json::to_string(&a).unwrap()).unwrap();
    // serde_json's float parsing may be one ulp off the printed value.
    let (pa, pb) = (
        a.predict(s.x.view()).unwrap(),
        back.predict(s.x.view()).unwrap(),
    );
    assert!(pa.iter().zip(&pb).all(|(x, y)| (x - y).abs() < 1e-15));
    assert_eq!(a.trees().len(), back.trees().len());
    let b = opts.seed(43).fit(&data).unwrap().model;
    assert_ne!(a, b);
    // Without bootstrap and with every feature tried, all trees are the one tree.
    let c = UpliftForestOptions::new()
        .trees(2)
        .bootstrap(false)
        .max_features(None)
        .fit(&data)
        .unwrap()
        .model;
    assert_eq!(c.trees()[0], c.trees()[1]);
    let tree = UpliftTreeOptions::new()
        .max_depth(5)
        .n_reg(10.0)
        .fit(&data)
        .unwrap()
        .model;
    assert_eq!(c.trees()[0], tree);
}

/// Typed errors: length mismatch, flags other than 0/1, a group without rows, NaN
/// features, bad options, and a predict matrix of the wrong width.
#[test]
fn bad_input_is_a_typed_error() {
    let x = Array2::from_shape_vec((4, 2), vec![0.0, 1.0, 1.0, 0.0, 2.0, 1.0, 3.0, 0.0]).unwrap();
    let view: ArrayView2<'_, f64> = x.view();
    let t = [1.0, 0.0, 1.0, 0.0];
    let y = [1.0, 1.0, 0.0, 0.0];
    assert!(matches!(
        UpliftData::new(view, &t[..3], &y),
        Err(Error::LengthMismatch {
            input: "treatment",
            found: 3,
            expected: 4,
            ..
        })
    ));
    match UpliftData::new(view, &t, &[1.0, 2.0, 0.0, 0.0]) {
        Err(Error::BadValue {
            input, row, value, ..
        }) => {
            assert_eq!((input.as_str(), row, value.as_str()), ("outcome", 1, "2"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        UpliftData::new(view, &[1u8, 1, 1, 1], &y),
        Err(Error::Degenerate { .. })
    ));
    assert!(matches!(
        UpliftData::new(view, &[false; 4], &y),
        Err(Error::Degenerate { .. })
    ));
    let mut bad = x.clone();
    bad[[2, 1]] = f64::NAN;
    match UpliftData::new(bad.view(), &t, &y).map(|d| d.names(&["age", "visits"])) {
        Err(Error::BadValue {
            input, row, field, ..
        }) => {
            assert_eq!((input.as_str(), row, field.as_str()), ("features", 2, "x1"));
        }
        other => panic!("{other:?}"),
    }
    let data = UpliftData::new(view, &t, &y).unwrap();
    assert!(matches!(
        UpliftForestOptions::new().trees(0).fit(&data),
        Err(Error::InvalidOption {
            option: "trees",
            ..
        })
    ));
    assert!(matches!(
        UpliftTreeOptions::new().bins(300).fit(&data),
        Err(Error::InvalidOption { option: "bins", .. })
    ));
    assert!(matches!(
        "gini".parse::<SplitCriterion>(),
        Err(Error::InvalidOption {
            option: "criterion",
            ..
        })
    ));
    let forest = UpliftForestOptions::new()
        .min_samples_leaf(1)
        .fit(&data)
        .unwrap()
        .model;
    let wide = Array2::<f64>::zeros((2, 3));
    assert!(matches!(
        forest.predict(wide.view()),
        Err(Error::LengthMismatch { .. })
    ));
}
