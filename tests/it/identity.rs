//! The whole resolution on the bundled synthetic people (tests/data/identity/people_5k.csv,
//! written by `cargo run --release --example synthesize -- --kind people`, with each
//! record's true person): pair and cluster F1 at least splink's on the same file
//! (tests/data/identity/splink_5k.json, from benches/compare/dedupe.py), linking, batches
//! matched incrementally, the id map applied at load, explanations, and the same bits for
//! one and two threads.

use std::collections::HashMap;

use acrm::data::{CustomerRecords, Dataset, FieldKind, Scope};
use acrm::identity::{
    BlockingOptions, BlockingRule, Estimation, Key, LabelledPair, Resolution, ResolveOptions, UFrom,
};
use acrm::io::{CsvOptions, Table};
use acrm::synth::people_reader;
use acrm::Error;

use crate::pool;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/identity");

fn people() -> (CustomerRecords, Vec<String>) {
    let path = format!("{DIR}/people_5k.csv");
    let records = people_reader().read_path(&path).unwrap();
    let truth = Table::read_path(&path).unwrap().text("person_id").unwrap();
    (records, truth)
}

/// Pair precision, recall and F1 of `pairs` against the truth.
fn f1(pairs: impl Iterator<Item = (usize, usize)>, truth: &[String]) -> (f64, f64, f64) {
    let mut sizes: HashMap<&str, u64> = HashMap::new();
    for t in truth {
        *sizes.entry(t).or_default() += 1;
    }
    let true_pairs: u64 = sizes.values().map(|&c| c * (c - 1) / 2).sum();
    let (mut tp, mut predicted) = (0u64, 0u64);
    for (i, j) in pairs {
        predicted += 1;
        tp += u64::from(truth[i] == truth[j]);
    }
    let p = tp as f64 / predicted as f64;
    let r = tp as f64 / true_pairs as f64;
    (p, r, 2.0 * p * r / (p + r))
}

fn cluster_pairs(r: &Resolution) -> Vec<(usize, usize)> {
    let mut v = Vec::new();
    for g in &r.golden {
        for (a, &i) in g.members.iter().enumerate() {
            for &j in &g.members[a + 1..] {
                v.push((i as usize, j as usize));
            }
        }
    }
    v
}

fn splink_f1() -> (f64, f64) {
    let text = std::fs::read_to_string(format!("{DIR}/splink_5k.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    (
        v["splink"]["pairs"]["f1"].as_f64().unwrap(),
        v["splink"]["clusters"]["f1"].as_f64().unwrap(),
    )
}

#[test]
fn resolves_the_bundled_people_at_least_as_well_as_splink() {
    let (records, truth) = people();
    let r = ResolveOptions::new().compute(&records).unwrap();
    let e = r.evaluate(&truth).unwrap();
    let (splink_pairs, splink_clusters) = splink_f1();
    assert!(
        e.pairs.f1 >= splink_pairs && e.clusters.f1 >= splink_clusters,
        "acrm {e:?}; splink pairs {splink_pairs} clusters {splink_clusters}"
    );
    // Blocking kept nearly every true pair with near-linear candidates.
    assert!(r.report.candidate_pairs < 60 * records.len());
    assert!(r.report.reduction_ratio > 0.99);
    // The report's counts agree with the tables.
    assert_eq!(r.report.matches, r.matches().len());
    assert_eq!(r.report.clusters, r.golden.len());
    assert_eq!(r.clusters.len(), records.len());
    for (c, g) in r.golden.iter().enumerate() {
        assert!(g
            .members
            .iter()
            .all(|&i| r.clusters[i as usize] as usize == c));
    }
}

#[test]
fn explanations_add_up_to_the_pair_weight() {
    let (records, _) = people();
    let r = ResolveOptions::new().compute(&records).unwrap();
    for m in r.matches().iter().take(200) {
        let e = r.explain(m.left as usize, m.right as usize).unwrap();
        assert!((e.total - m.weight).abs() < 1e-9, "{e:?} vs {}", m.weight);
    }
}

#[test]
fn the_same_bits_for_one_and_two_threads() {
    let (records, _) = people();
    let run = |t| pool(t).install(|| ResolveOptions::new().compute(&records).unwrap());
    let (a, b) = (run(1), run(2));
    assert_eq!(a.clusters, b.clusters);
    assert_eq!(a.matches(), b.matches());
    // Everything serialised (model, its estimation report, blocking, golden records).
    assert_eq!(
        serde_json::to_string(&a).unwrap(),
        serde_json::to_string(&b).unwrap()
    );
}

#[test]
fn a_batch_matched_incrementally_lands_in_the_clusters_of_a_full_run() {
    let (records, truth) = people();
    let n = records.len();
    let cut = n * 4 / 5;
    let fields = records.fields().to_vec();
    let first = CustomerRecords::new(fields.clone(), (0..cut).map(|i| records.row(i))).unwrap();
    let batch = CustomerRecords::new(fields, (cut..n).map(|i| records.row(i))).unwrap();
    let mut r = ResolveOptions::new().compute(&first).unwrap();
    let before: Vec<String> = (0..cut).map(|i| r.golden_id(i).to_string()).collect();
    let report = r.add_batch(&batch).unwrap();
    assert_eq!(report.records, n - cut);
    assert_eq!(r.clusters.len(), n);
    // Most new records are duplicates of earlier people and join their clusters.
    assert!(report.joined_existing > 0 && report.candidate_pairs > 0);
    // Earlier golden ids only change where two earlier clusters merged.
    let changed = (0..cut).filter(|&i| r.golden_id(i) != before[i]).count();
    assert!(report.merged_clusters > 0 || changed == 0);
    // As good as resolving everything at once, within a point of F1.
    let incremental = f1(cluster_pairs(&r).into_iter(), &truth).2;
    let full = ResolveOptions::new().compute(&records).unwrap();
    let all_at_once = f1(cluster_pairs(&full).into_iter(), &truth).2;
    assert!(
        incremental > all_at_once - 0.01,
        "{incremental} vs {all_at_once}"
    );
}

#[test]
fn linking_two_sources_pairs_only_across_them() {
    let (records, truth) = people();
    let fields = records.fields().to_vec();
    // Left: the dealer's records; right: the web's, one per person (each side without
    // duplicates of its own: keep each person's first record per side).
    let side = |source: &str| {
        let mut seen = std::collections::HashSet::new();
        let idx: Vec<usize> = (0..records.len())
            .filter(|&i| records.source_name(i) == source && seen.insert(truth[i].clone()))
            .collect();
        let store = CustomerRecords::new(fields.clone(), idx.iter().map(|&i| records.row(i)));
        (store.unwrap(), idx)
    };
    let (left, li) = side("dealer");
    let (right, ri) = side("web");
    let r = ResolveOptions::new().compute_link(&left, &right).unwrap();
    let matches = r.matches();
    assert!(!matches.is_empty());
    let correct = matches
        .iter()
        .filter(|m| truth[li[m.left as usize]] == truth[ri[m.right as usize]])
        .count();
    let right_people: std::collections::HashSet<&str> =
        ri.iter().map(|&i| truth[i].as_str()).collect();
    let true_links = li
        .iter()
        .filter(|&&i| right_people.contains(truth[i].as_str()))
        .count();
    let precision = correct as f64 / matches.len() as f64;
    let recall = correct as f64 / true_links as f64;
    assert!(precision > 0.95 && recall > 0.9, "{precision} {recall}");
    // Every pair joins a left and a right record.
    assert!(matches
        .iter()
        .all(|m| (m.left as usize) < left.len() && (m.right as usize) < right.len()));
}

#[test]
fn transactions_of_every_source_load_under_golden_ids() {
    let (records, truth) = people();
    let r = ResolveOptions::new().compute(&records).unwrap();
    // One purchase per record, recorded under its source id.
    let mut log = String::from("customer_id,date,amount\n");
    for i in 0..records.len() {
        log.push_str(&format!("{},2024-01-{:02},1\n", records.id(i), 1 + i % 28));
    }
    let map = r.id_map_all().unwrap();
    let loaded = CsvOptions::new()
        .read_into(Dataset::builder().id_map(map), log.as_bytes())
        .unwrap();
    let all = loaded.dataset.view(&Scope::all());
    assert_eq!(all.len(), r.golden.len());
    assert_eq!(
        loaded.report.merged_ids as usize,
        records.len() - r.golden.len()
    );
    // A golden customer's history holds one purchase per member record.
    for g in r.golden.iter().take(50) {
        let k = all.row(&g.golden_id).unwrap();
        assert_eq!(all.history(k).len(), g.members.len());
    }
    let _ = truth;
}

#[test]
fn lambda_is_the_share_of_true_pairs_among_all_pairs() {
    // λ is estimated without labels over all n(n−1)/2 pairs; the truth says what it is.
    let (records, truth) = people();
    let r = ResolveOptions::new().compute(&records).unwrap();
    let n = records.len() as f64;
    let e = r.evaluate(&truth).unwrap();
    let actual = e.pairs.actual as f64 / (n * (n - 1.0) / 2.0);
    let lambda = r.model.model.lambda();
    assert!(
        (lambda / actual - 1.0).abs() < 0.03,
        "λ {lambda} vs {actual}"
    );
    // One EM session per blocking rule, each leaving its rule's fields out.
    let Estimation::Em(est) = &r.model.report else {
        panic!("{:?}", r.model.report)
    };
    assert_eq!(est.sessions.len(), r.blocking.rules.len());
    // (Labels read `exact(dob)`, `prefix(phone,6)`, `soundex(a) & soundex(b)`.)
    for s in &est.sessions {
        for f in &s.estimated {
            assert!(!s.rule.contains(&format!("({f})")), "{s:?}");
            assert!(!s.rule.contains(&format!("({f},")), "{s:?}");
        }
        assert!(s.em.is_some() && !s.estimated.is_empty(), "{s:?}");
    }
    // No automatic rule blocks on the postcode or the address alone (households).
    for rule in &r.blocking.rules {
        let only_location = rule
            .rule
            .split(" & ")
            .all(|k| k.contains("postcode") || k.contains("address"));
        assert!(!only_location, "{}", rule.rule);
    }
}

#[test]
fn splinks_prediction_rules_given_explicitly_do_as_well() {
    // benches/compare/dedupe.py's blocking rules for splink, given as rules.
    let (records, truth) = people();
    let rule = |f: &[usize]| BlockingRule::Keys(f.iter().map(|&i| Key::Exact(i)).collect());
    let rules = vec![
        rule(&[0, 1]),
        rule(&[1, 2]),
        rule(&[2, 5]),
        rule(&[3]),
        rule(&[4]),
    ];
    let r = ResolveOptions::new()
        .blocking(BlockingOptions::new().rules(rules))
        .compute(&records)
        .unwrap();
    let e = r.evaluate(&truth).unwrap();
    let (splink_pairs, splink_clusters) = splink_f1();
    assert!(
        e.pairs.f1 >= splink_pairs && e.clusters.f1 >= splink_clusters,
        "acrm {e:?}; splink pairs {splink_pairs} clusters {splink_clusters}"
    );
}

#[test]
fn a_postcode_rule_given_by_the_caller_does_not_turn_households_into_customers() {
    // Blocking on the postcode alone gathers households: sessions on other rules outvote
    // the postcode session's estimate of m (see `robust_mean` in resolve.rs).
    let (records, truth) = people();
    let rules = vec![
        BlockingRule::Keys(vec![Key::Exact(5)]),
        BlockingRule::Keys(vec![Key::Exact(2)]),
        BlockingRule::Keys(vec![Key::Exact(3)]),
        BlockingRule::Keys(vec![Key::Exact(4)]),
    ];
    let r = ResolveOptions::new()
        .blocking(BlockingOptions::new().rules(rules))
        .compute(&records)
        .unwrap();
    let e = r.evaluate(&truth).unwrap();
    assert!(e.pairs.recall > 0.97, "{e:?}");
    assert!(e.pairs.precision > 0.8, "{e:?}");
}

#[test]
fn recordlinkage_style_ecm_and_the_supervised_fit_resolve_too() {
    let (records, truth) = people();
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{DIR}/splink_5k.json")).unwrap())
            .unwrap();
    let rl_pairs = v["recordlinkage"]["pairs"]["f1"].as_f64().unwrap();
    let ecm = ResolveOptions::new()
        .u_from(UFrom::Em)
        .compute(&records)
        .unwrap();
    assert!(matches!(ecm.model.report, Estimation::Ecm(_)));
    let e = ecm.evaluate(&truth).unwrap();
    assert!(
        e.pairs.f1 >= rl_pairs,
        "ECM {e:?} vs recordlinkage {rl_pairs}"
    );
    // Supervised: every third candidate pair of the EM run, labelled by the truth.
    let labels: Vec<LabelledPair> = ecm
        .candidates()
        .step_by(3)
        .map(|c| LabelledPair {
            left: c.left,
            right: c.right,
            is_match: truth[c.left as usize] == truth[c.right as usize],
        })
        .collect();
    let sup = ResolveOptions::new()
        .labels(labels)
        .compute(&records)
        .unwrap();
    assert!(matches!(sup.model.report, Estimation::Supervised(_)));
    let e = sup.evaluate(&truth).unwrap();
    assert!(e.pairs.f1 > 0.98, "supervised {e:?}");
}

#[test]
fn a_field_empty_on_one_side_of_a_link_is_left_out_not_an_error() {
    let (records, truth) = people();
    let fields = records.fields().to_vec();
    let mut seen = std::collections::HashSet::new();
    let pick = |source: &str, seen: &mut std::collections::HashSet<String>| {
        (0..records.len())
            .filter(|&i| {
                records.source_name(i) == source && seen.insert(format!("{source}{}", truth[i]))
            })
            .collect::<Vec<_>>()
    };
    let li = pick("dealer", &mut seen);
    let ri = pick("web", &mut seen);
    let left = CustomerRecords::new(fields.clone(), li.iter().map(|&i| records.row(i))).unwrap();
    // The web form has no address: no pair compares it, random or candidate.
    let right = CustomerRecords::new(
        fields,
        ri.iter().map(|&i| {
            let mut row = records.row(i);
            row.values[6] = String::new();
            row
        }),
    )
    .unwrap();
    let r = ResolveOptions::new().compute_link(&left, &right).unwrap();
    let Estimation::Em(est) = &r.model.report else {
        panic!()
    };
    assert_eq!(est.u_from_candidates, vec!["address".to_string()]);
    let m = r.matches();
    let correct = m
        .iter()
        .filter(|p| truth[li[p.left as usize]] == truth[ri[p.right as usize]])
        .count();
    let right_people: std::collections::HashSet<&str> =
        ri.iter().map(|&i| truth[i].as_str()).collect();
    let links = li
        .iter()
        .filter(|&&i| right_people.contains(truth[i].as_str()))
        .count();
    let (precision, recall) = (
        correct as f64 / m.len() as f64,
        correct as f64 / links as f64,
    );
    assert!(precision > 0.95 && recall > 0.9, "{precision} {recall}");
    let x = r
        .explain(m[0].left as usize, left.len() + m[0].right as usize)
        .unwrap();
    assert_eq!(x.fields[6].level, None);
    assert!(x.fields[6].weight.abs() < f64::EPSILON);
}

#[test]
fn bad_settings_are_typed_errors_naming_the_setting() {
    let (records, _) = people();
    let e = ResolveOptions::new()
        .threshold(1.5)
        .compute(&records)
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::InvalidOption {
                option: "threshold",
                ..
            }
        ),
        "{e}"
    );
    let e = ResolveOptions::new()
        .term_frequency_fields(vec!["nickname".into()])
        .compute(&records)
        .unwrap_err();
    assert!(e.to_string().contains("nickname"), "{e}");
    let e = ResolveOptions::new()
        .labels(vec![LabelledPair {
            left: 0,
            right: 99_999,
            is_match: true,
        }])
        .compute(&records)
        .unwrap_err();
    assert!(e.to_string().contains("99999"), "{e}");
}

#[test]
fn the_most_recent_value_survives_when_records_carry_update_dates() {
    use acrm::data::{CustomerRecordRow, FieldSpec};
    use acrm::identity::Survivorship;
    use acrm::time::Timestamp;
    // The bundled people, each record updated on a day of its own; the golden e-mail of
    // every cluster is its most recently updated member's (where that member has one).
    let (records, _) = people();
    let day = |i: usize| {
        chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap()
            + chrono::Days::new((i * 7919 % 1500) as u64)
    };
    let rows: Vec<CustomerRecordRow> = (0..records.len())
        .map(|i| CustomerRecordRow {
            updated: Some(Timestamp::from_date(day(i))),
            ..records.row(i)
        })
        .collect();
    let fields: Vec<FieldSpec> = records.fields().to_vec();
    let dated = CustomerRecords::new(fields, rows).unwrap();
    let r = ResolveOptions::new()
        .survivorship("email", Survivorship::MostRecent)
        .compute(&dated)
        .unwrap();
    let mut checked = 0;
    for g in r.golden.iter().filter(|g| g.members.len() > 1) {
        let with_email: Vec<usize> = g
            .members
            .iter()
            .map(|&m| m as usize)
            .filter(|&m| {
                acrm::identity::normalize(FieldKind::Email, &dated.row(m).values[3]).is_some()
            })
            .collect();
        if let Some(&latest) = with_email
            .iter()
            .max_by_key(|&&m| (day(m), std::cmp::Reverse(m)))
        {
            let tied = with_email
                .iter()
                .filter(|&&m| day(m) == day(latest))
                .count();
            if tied == 1 {
                assert_eq!(
                    g.values[3].as_deref(),
                    Some(dated.row(latest).values[3].as_str())
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "{checked}");
}
