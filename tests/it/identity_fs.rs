//! The Fellegi–Sunter model (identity::fellegi_sunter).
//!
//! Sources (tests/data/identity/fs/, made by make_reference.py there): 4,000 synthetic
//! comparison vectors drawn from planted λ, m, u (vectors.csv) and 4,000 random pairs drawn
//! from u (random.csv); splink_em.json = a numpy transcription of splink 5's EM (u fixed),
//! every iteration's λ and m; ecm.json = recordlinkage 0.16's ECM on the rows without
//! missing levels; ecm_numpy.json = an independent numpy ECM on all rows (missing
//! skipped); scores.json = splink's weight / probability / tf formulas by numpy.

use acrm::identity::fellegi_sunter::{weight_to_probability, MISSING_LEVEL};
use acrm::identity::{
    estimate_u, estimate_u_or, ComparisonVectors, FellegiSunter, FellegiSunterOptions,
    Probabilities,
};
use acrm::Error;
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/identity/fs/");
const LEVELS: [u8; 4] = [3, 4, 2, 3];

fn read_rows(name: &str) -> (Vec<Vec<u8>>, Vec<bool>) {
    let text = std::fs::read_to_string(format!("{DIR}{name}")).unwrap();
    let mut rows = Vec::new();
    let mut labels = Vec::new();
    for line in text.lines().skip(1) {
        let v: Vec<u8> = line.split(',').map(|x| x.parse().unwrap()).collect();
        rows.push(v[..4].to_vec());
        if v.len() > 4 {
            labels.push(v[4] == 1);
        }
    }
    (rows, labels)
}

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DIR}{name}")).unwrap()).unwrap()
}

fn mat(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

fn vectors() -> ComparisonVectors {
    ComparisonVectors::from_rows(LEVELS.to_vec(), read_rows("vectors.csv").0).unwrap()
}

fn random_u() -> Probabilities {
    estimate_u(&ComparisonVectors::from_rows(LEVELS.to_vec(), read_rows("random.csv").0).unwrap())
        .unwrap()
}

/// splink 5's EM (numpy transcription): u from random pairs, then λ and m each iteration
/// to 1e-12, the same number of iterations (splink's stopping rule, tolerance 1e-4).
#[test]
fn em_with_fixed_u_matches_splink_iteration_by_iteration() {
    let r = json("splink_em.json");
    let u = random_u();
    for (a, b) in u.values.iter().zip(mat(&r["u"])) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-15, "u {x} vs {y}");
        }
    }
    let fit = FellegiSunterOptions::new()
        .fit(&vectors(), Some(&u))
        .unwrap();
    let hist = r["history"].as_array().unwrap();
    assert_eq!(
        fit.report.iterations,
        r["iterations"].as_u64().unwrap() as usize
    );
    assert!(fit.report.converged);
    assert_eq!(fit.report.history.len(), hist.len());
    for (ours, theirs) in fit.report.history.iter().zip(hist) {
        assert!((ours.lambda - theirs["lambda"].as_f64().unwrap()).abs() < 1e-12);
        assert!((ours.max_change - theirs["max_change"].as_f64().unwrap()).abs() < 1e-12);
        for (a, b) in ours.m.iter().zip(mat(&theirs["m"])) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-12, "m {x} vs {y}");
            }
        }
    }
    assert!(fit.report.log_likelihood.is_finite());
}

/// recordlinkage 0.16 ECMClassifier (one-hot = categorical levels, no missing): λ, m and
/// u at convergence agree within 2e-4 (recordlinkage stops on np.allclose, rtol 1e-5,
/// so its own values are only that close to the fixed point).
#[test]
fn ecm_matches_recordlinkage() {
    let r = json("ecm.json");
    let (rows, _) = read_rows("vectors.csv");
    let full: Vec<Vec<u8>> = rows
        .into_iter()
        .filter(|r| r.iter().all(|&g| g != MISSING_LEVEL))
        .collect();
    assert_eq!(full.len() as u64, r["pairs"].as_u64().unwrap());
    let v = ComparisonVectors::from_rows(LEVELS.to_vec(), full).unwrap();
    let fit = FellegiSunterOptions::new()
        .lambda(0.1)
        .max_iterations(5000)
        .tolerance(1e-13)
        .fit(&v, None)
        .unwrap();
    assert!(fit.report.converged);
    let m = fit.model.m();
    let u = fit.model.u();
    assert!((fit.model.lambda() - r["lambda"].as_f64().unwrap()).abs() < 2e-4);
    for (ours, theirs) in [(m, mat(&r["m"])), (u, mat(&r["u"]))] {
        for (a, b) in ours.values.iter().zip(theirs) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 2e-4, "{x} vs {y}");
            }
        }
    }
}

/// splink's prediction formulas (scores.json): weight, probability, tf adjustment.
#[test]
fn weights_and_tf_match_splink_formulas() {
    let r = json("scores.json");
    let model = FellegiSunter::new(
        r["lambda"].as_f64().unwrap(),
        Probabilities::new(mat(&r["m"])).unwrap(),
        Probabilities::new(mat(&r["u"])).unwrap(),
    )
    .unwrap();
    for case in r["rows"].as_array().unwrap() {
        let row: Vec<u8> = case["row"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u8)
            .collect();
        let tf: Vec<Option<f64>> = case["tf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64())
            .collect();
        let w = case["weight"].as_f64().unwrap();
        assert!((model.match_weight(&row) - w).abs() < 1e-12);
        assert!((model.probability(&row) - case["probability"].as_f64().unwrap()).abs() < 1e-12);
        let wt = model.match_weight_tf(&row, &tf);
        assert!((wt - case["weight_tf"].as_f64().unwrap()).abs() < 1e-12);
        // The per-field explanation with tf adds up to splink's tf weight as well.
        let et = model.explain_tf(&row, &tf);
        assert!((et.total - case["weight_tf"].as_f64().unwrap()).abs() < 1e-12);
        assert!(
            (weight_to_probability(wt) - case["probability_tf"].as_f64().unwrap()).abs() < 1e-12
        );
        let e = model.explain(&row);
        let s: f64 = e.prior + e.fields.iter().map(|f| f.weight).sum::<f64>();
        assert!((s - e.total).abs() < 1e-12 && (e.total - w).abs() < 1e-12);
    }
    // Stable at the extremes.
    assert_eq!(weight_to_probability(-2000.0).to_bits(), 0.0f64.to_bits());
    assert_eq!(weight_to_probability(2000.0).to_bits(), 1.0f64.to_bits());
}

/// Recovery: the planted λ = 0.2 and m (make_reference.py) within sampling error of 4,000
/// pairs (about 800 matches: m's standard error ≤ 0.017, λ's 0.0063; allowed 4 s.e.).
#[test]
fn em_recovers_planted_parameters() {
    let planted_m = json("scores.json")["m"].clone();
    let fit = FellegiSunterOptions::new()
        .max_iterations(500)
        .tolerance(1e-9)
        .fit(&vectors(), Some(&random_u()))
        .unwrap();
    assert!(
        (fit.model.lambda() - 0.2).abs() < 0.025,
        "{}",
        fit.model.lambda()
    );
    for (a, b) in fit.model.m().values.iter().zip(mat(&planted_m)) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 0.07, "m {x} vs planted {y}");
        }
    }
}

/// Supervised counts with smoothing 0.5 checked by hand for field 2 (two levels).
#[test]
fn supervised_counts_with_smoothing() {
    let (rows, labels) = read_rows("vectors.csv");
    let v = ComparisonVectors::from_rows(LEVELS.to_vec(), &rows).unwrap();
    let fit = FellegiSunterOptions::new()
        .fit_supervised(&v, &labels)
        .unwrap();
    let n1 = labels.iter().filter(|&&b| b).count();
    assert_eq!(
        fit.model.lambda().to_bits(),
        (n1 as f64 / labels.len() as f64).to_bits()
    );
    let (mut a, mut n) = (0.0, 0.0);
    for (r, &l) in rows.iter().zip(&labels) {
        if l && r[2] != MISSING_LEVEL {
            n += 1.0;
            if r[2] == 0 {
                a += 1.0;
            }
        }
    }
    assert!((fit.model.m().values[2][0] - (a + 0.5) / (n + 1.0)).abs() < 1e-15);
    assert!(matches!(
        FellegiSunterOptions::new().fit_supervised(&v, &vec![true; v.len()]),
        Err(Error::Degenerate { .. })
    ));
}

/// Degenerate inputs: a field missing everywhere keeps its starting m, no NaN; nothing
/// observed is a typed error; u cannot come from an all-missing field.
#[test]
fn degenerate_data_gives_typed_errors_or_floors() {
    let rows = [[0u8, 255], [2, 255], [2, 255], [1, 255]];
    let v = ComparisonVectors::from_rows(vec![3, 2], rows).unwrap();
    let u = Probabilities::new(vec![vec![0.1, 0.2, 0.7], vec![0.5, 0.5]]).unwrap();
    let fit = FellegiSunterOptions::new().fit(&v, Some(&u)).unwrap();
    assert!(!fit.report.fields[1].estimated);
    assert_eq!(fit.model.m().values[1], vec![0.95, 0.05]);
    assert!(fit.model.m().values[0]
        .iter()
        .all(|x| x.is_finite() && *x > 0.0));
    let all_missing = ComparisonVectors::from_rows(vec![3, 2], [[255u8, 255]]).unwrap();
    assert!(matches!(
        FellegiSunterOptions::new().fit(&all_missing, Some(&u)),
        Err(Error::Degenerate { .. })
    ));
    assert!(matches!(estimate_u(&v), Err(Error::Degenerate { .. })));
    // A level never seen among random pairs gets half a pair.
    let u = estimate_u(&ComparisonVectors::from_rows(vec![3], [[2u8], [2], [1]]).unwrap()).unwrap();
    assert_eq!(u.values[0], vec![0.5 / 3.5, 1.0 / 3.5, 2.0 / 3.5]);
    assert!(matches!(
        ComparisonVectors::new(vec![1]),
        Err(Error::BadValue { .. })
    ));
}

/// Batch scoring gives the same bits on 1 and 2 threads, and equals the per-row weight.
#[test]
fn batch_score_same_bits_any_thread_count() {
    let v = vectors();
    let fit = FellegiSunterOptions::new()
        .fit(&v, Some(&random_u()))
        .unwrap();
    let one = crate::pool(1).install(|| fit.model.score(&v).unwrap());
    let two = crate::pool(2).install(|| fit.model.score(&v).unwrap());
    assert_eq!(
        one.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
        two.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
    );
    for i in [0, 17, 3999] {
        assert_eq!(one[i].to_bits(), fit.model.probability(v.row(i)).to_bits());
    }
    let f1 = crate::pool(1).install(|| {
        FellegiSunterOptions::new()
            .fit(&v, Some(&random_u()))
            .unwrap()
    });
    let f2 = crate::pool(2).install(|| {
        FellegiSunterOptions::new()
            .fit(&v, Some(&random_u()))
            .unwrap()
    });
    assert_eq!(f1.model, f2.model);
}

/// Independent numpy ECM (ecm_numpy.json: λ, m and u all by EM on all 4,000 pairs,
/// missing levels skipped, same start, run until no parameter moves by 1e-14). Both run
/// the same map to the same fixed point, so only summation order separates them: 1e-9
/// on λ, m, u (observed ~1e-13) and on the pairs' weights and probabilities.
#[test]
fn ecm_matches_numpy_ecm_with_missing_levels() {
    let r = json("ecm_numpy.json");
    let fit = FellegiSunterOptions::new()
        .lambda(0.1)
        .max_iterations(5000)
        .tolerance(1e-14)
        .fit(&vectors(), None)
        .unwrap();
    assert!(fit.report.converged);
    assert!((fit.model.lambda() - r["lambda"].as_f64().unwrap()).abs() < 1e-9);
    for (ours, theirs) in [(fit.model.m(), mat(&r["m"])), (fit.model.u(), mat(&r["u"]))] {
        for (a, b) in ours.values.iter().zip(theirs) {
            for (x, y) in a.iter().zip(b) {
                assert!((x - y).abs() < 1e-9, "{x} vs {y}");
            }
        }
    }
    let v = vectors();
    for (i, case) in r["pairs"].as_array().unwrap().iter().enumerate() {
        let row: Vec<u8> = case["row"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u8)
            .collect();
        assert_eq!(v.row(i), row.as_slice());
        let w = fit.model.match_weight(&row);
        assert!((w - case["weight"].as_f64().unwrap()).abs() < 1e-9);
        assert!((fit.model.probability(&row) - case["probability"].as_f64().unwrap()).abs() < 1e-9);
        // Missing fields contribute exactly 0 to the explanation, which sums to the total.
        let e = fit.model.explain(&row);
        for (fw, &g) in e.fields.iter().zip(&row) {
            if g == MISSING_LEVEL {
                assert_eq!((fw.level, fw.weight), (None, 0.0));
            }
        }
        // Summed in field order from the prior, as match_weight sums: the same bits.
        let s = e.fields.iter().fold(e.prior, |a, f| a + f.weight);
        assert_eq!(s.to_bits(), w.to_bits());
        assert_eq!(e.total.to_bits(), w.to_bits());
    }
}

/// Missing levels are skipped by EM: duplicating every pair with one field set to
/// missing leaves that field's m counts unchanged and adds nothing to its observed pairs.
#[test]
fn missing_levels_are_skipped_by_em() {
    let (rows, _) = read_rows("vectors.csv");
    let mut doubled = rows.clone();
    doubled.extend(rows.iter().map(|r| vec![r[0], r[1], r[2], MISSING_LEVEL]));
    let u = random_u();
    let a = FellegiSunterOptions::new()
        .fit(&vectors(), Some(&u))
        .unwrap();
    let b = FellegiSunterOptions::new()
        .fit(
            &ComparisonVectors::from_rows(LEVELS.to_vec(), &doubled).unwrap(),
            Some(&u),
        )
        .unwrap();
    let pairs = |fit: &acrm::numerics::Fitted<FellegiSunter, acrm::identity::EmReport>| {
        fit.report.fields[3]
            .levels
            .iter()
            .map(|l| l.pairs)
            .collect::<Vec<_>>()
    };
    assert_eq!(pairs(&a), pairs(&b));
    let m3: f64 = b.model.m().values[3].iter().sum();
    assert!((m3 - 1.0).abs() < 1e-12);
}

/// Without smoothing the supervised fit is the label counts themselves: λ = matches /
/// pairs, m (u) = level counts among the matching (non-matching) pairs where the field is
/// not missing, divided by their total (counted here directly from vectors.csv).
#[test]
fn supervised_fit_without_smoothing_equals_label_counts() {
    let (rows, labels) = read_rows("vectors.csv");
    let v = ComparisonVectors::from_rows(LEVELS.to_vec(), &rows).unwrap();
    let fit = FellegiSunterOptions::new()
        .smoothing(0.0)
        .fit_supervised(&v, &labels)
        .unwrap();
    for (f, &l) in LEVELS.iter().enumerate() {
        for class in [true, false] {
            let mut c = vec![0.0; l as usize];
            for (r, &lab) in rows.iter().zip(&labels) {
                if lab == class && r[f] != MISSING_LEVEL {
                    c[r[f] as usize] += 1.0;
                }
            }
            let n: f64 = c.iter().sum();
            let p = if class { fit.model.m() } else { fit.model.u() };
            for (x, k) in p.values[f].iter().zip(&c) {
                assert_eq!(x.to_bits(), (k / n).to_bits());
            }
            let counts = if class {
                &fit.report.m_counts
            } else {
                &fit.report.u_counts
            };
            assert_eq!(&counts[f], &c);
        }
    }
}

#[test]
fn u_of_a_field_missing_in_every_random_pair_falls_back_to_the_candidates() {
    // Field 1 is never compared among the random pairs: estimate_u refuses, estimate_u_or
    // counts it among the candidates (3 of level 0, 1 of level 1, none of level 2, which
    // gets the half count), and a field missing everywhere gets equal shares.
    let random = ComparisonVectors::from_rows(
        vec![2, 3, 2],
        [
            [0, MISSING_LEVEL, MISSING_LEVEL],
            [1, MISSING_LEVEL, MISSING_LEVEL],
        ],
    )
    .unwrap();
    let candidates = ComparisonVectors::from_rows(
        vec![2, 3, 2],
        [
            [0, 0, MISSING_LEVEL],
            [0, 0, MISSING_LEVEL],
            [0, 0, MISSING_LEVEL],
            [1, 1, MISSING_LEVEL],
        ],
    )
    .unwrap();
    assert!(matches!(estimate_u(&random), Err(Error::Degenerate { .. })));
    let e = estimate_u_or(&random, &candidates).unwrap();
    let u = e.u;
    assert_eq!(e.fallback_fields, vec![1, 2]);
    assert_eq!(u.values[0], vec![0.5, 0.5]);
    let expected = [3.0 / 4.5, 1.0 / 4.5, 0.5 / 4.5];
    for (a, b) in u.values[1].iter().zip(expected) {
        assert!((a - b).abs() < 1e-15, "{:?}", u.values[1]);
    }
    assert_eq!(u.values[2], vec![0.5, 0.5]);
}
