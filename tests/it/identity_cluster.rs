//! Clustering (against networkx connected components), stable ids under shuffling and
//! thread counts, anti-chaining, golden-record survivorship.

use std::collections::BTreeMap;

use acrm::identity::{golden_records, ClusterOptions, Clusters, GoldenField, Survivorship};

use super::pool;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/identity/blocking");

type Graph = (usize, Vec<(u32, u32, f64)>);

fn graphs() -> BTreeMap<u32, Graph> {
    let text = std::fs::read_to_string(format!("{DIR}/graph_edges.csv")).unwrap();
    let mut g: BTreeMap<u32, Graph> = BTreeMap::new();
    for l in text.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        let e = g
            .entry(f[0].parse().unwrap())
            .or_insert((f[1].parse().unwrap(), Vec::new()));
        e.1.push((
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
            f[4].parse().unwrap(),
        ));
    }
    g
}

/// Reference: networkx.connected_components on the edges with p ≥ 0.5
/// (`make_components.py`, 5 seeded graphs of 30–1,500 nodes); each record's component
/// named by its smallest record, so the dense ids follow from it.
#[test]
fn components_match_networkx() {
    let text = std::fs::read_to_string(format!("{DIR}/graph_components.csv")).unwrap();
    let mut by_record: BTreeMap<u32, BTreeMap<u32, u32>> = BTreeMap::new();
    for l in text.lines().skip(1) {
        let f: Vec<u32> = l.split(',').map(|x| x.parse().unwrap()).collect();
        by_record.entry(f[0]).or_default().insert(f[1], f[2]);
    }
    let smallest: BTreeMap<u32, Vec<u32>> = by_record
        .into_iter()
        .map(|(g, m)| (g, m.into_values().collect()))
        .collect();
    for (g, (n, edges)) in graphs() {
        let c = ClusterOptions::new(0.5).compute(n, &edges).unwrap();
        let want = &smallest[&g];
        // Dense ids in order of smallest member: map each smallest record to its rank.
        let mut rank = BTreeMap::new();
        for &s in want {
            let next = rank.len() as u32;
            rank.entry(s).or_insert(next);
        }
        let want_ids: Vec<u32> = want.iter().map(|s| rank[s]).collect();
        assert_eq!(c.of, want_ids, "graph {g}");
        assert_eq!(c.count, rank.len());
        assert_eq!(c.sizes.iter().sum::<u32>() as usize, n);
    }
}

fn shuffled(edges: &[(u32, u32, f64)], seed: u64) -> Vec<(u32, u32, f64)> {
    let mut e = edges.to_vec();
    let mut s = seed;
    for i in (1..e.len()).rev() {
        s = s
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let j = (s >> 33) as usize % (i + 1);
        e.swap(i, j);
        // Swap some pairs' ends too: (i, j) and (j, i) are the same pair.
        if s & 1 == 1 {
            e[i] = (e[i].1, e[i].0, e[i].2);
        }
    }
    e
}

/// Ids are the same for any pair order and for 1 and 2 threads, with and without
/// anti-chaining.
#[test]
fn ids_stable_under_shuffles_and_threads() {
    let (n, edges) = graphs().remove(&3).unwrap();
    for opts in [
        ClusterOptions::new(0.5),
        ClusterOptions::new(0.5).strict(0.2),
    ] {
        let base: Clusters = pool(1).install(|| opts.compute(n, &edges)).unwrap();
        for seed in 1..6 {
            let e = shuffled(&edges, seed);
            let c = pool(2).install(|| opts.compute(n, &e)).unwrap();
            assert_eq!(c, base);
        }
    }
}

/// Anti-chaining by hand: a–b 0.99, b–c 0.9, a–c 0.01. Components join all three; strict
/// 0.1 merges a–b first (highest), then refuses b–c because a–c (0.01) lies between.
#[test]
fn anti_chaining_splits_a_chain() {
    let pairs = [(0, 1, 0.99), (1, 2, 0.9), (0, 2, 0.01), (3, 4, 0.7)];
    let plain = ClusterOptions::new(0.5).compute(5, &pairs).unwrap();
    assert_eq!(plain.of, vec![0, 0, 0, 1, 1]);
    let strict = ClusterOptions::new(0.5)
        .strict(0.1)
        .compute(5, &pairs)
        .unwrap();
    assert_eq!(strict.of, vec![0, 0, 1, 2, 2]);
    assert_eq!(strict.refused, 1);
    assert_eq!(strict.sizes, vec![2, 1, 2]);
}

/// Bad pairs are typed errors naming the row.
#[test]
fn bad_pairs_are_errors() {
    let e = ClusterOptions::new(0.5)
        .compute(3, &[(0, 1, 0.4), (1, 3, 0.9)])
        .unwrap_err();
    assert!(matches!(e, acrm::Error::BadValue { row: 1, .. }));
    let e = ClusterOptions::new(0.5)
        .compute(3, &[(0, 1, f64::NAN)])
        .unwrap_err();
    assert!(matches!(e, acrm::Error::BadValue { row: 0, .. }));
    assert!(ClusterOptions::new(1.5).compute(3, &[]).is_err());
}

fn col(v: &[&str]) -> Vec<Option<Box<str>>> {
    v.iter()
        .map(|s| (!s.is_empty()).then(|| s.to_string().into_boxed_str()))
        .collect()
}

/// Survivorship by hand on one cluster of five records and one singleton without values.
#[test]
fn golden_record_survivorship() {
    let clusters = ClusterOptions::new(0.5)
        .compute(6, &[(0, 1, 0.9), (1, 2, 0.9), (2, 3, 0.9), (3, 4, 0.9)])
        .unwrap();
    let names = col(&[
        "ann smith",
        "anne smith",
        "ann smith",
        "",
        "ann marie smith",
    ]);
    let names = [names, col(&[""])].concat();
    let phones = col(&["111", "222", "222", "333", "", ""]);
    let dates = col(&["20200101", "20230505", "", "20230505", "20240101", ""]);
    let sources: Vec<Box<str>> = ["web", "dealer", "desk", "dealer", "web", "web"]
        .iter()
        .map(|s| (*s).into())
        .collect();
    let recent = Survivorship::MostRecent;
    let frequent = Survivorship::MostFrequent;
    let complete = Survivorship::MostComplete;
    let priority = Survivorship::SourcePriority(vec!["desk".into(), "dealer".into()]);
    let fields = [
        GoldenField {
            values: &phones,
            rule: &recent,
        },
        GoldenField {
            values: &names,
            rule: &frequent,
        },
        GoldenField {
            values: &names,
            rule: &complete,
        },
        GoldenField {
            values: &phones,
            rule: &priority,
        },
        GoldenField {
            values: &names,
            rule: &recent,
        },
    ];
    let g = golden_records(&clusters, &fields, Some(&dates), Some(&sources)).unwrap();
    let v = |c: usize, f: usize| g.values[c][f].as_deref();
    // Most recent phone: record 4 (2024) has no phone; among 2023-05-05 (records 1 and 3)
    // the tie goes to the more frequent value, "222" held by 1 (and 2) vs "333" by 3.
    assert_eq!(v(0, 0), Some("222"));
    assert_eq!(g.from[0][0], Some(1));
    // Most frequent name: "ann smith" (twice).
    assert_eq!(v(0, 1), Some("ann smith"));
    // Most complete: three tokens.
    assert_eq!(v(0, 2), Some("ann marie smith"));
    // Source priority: desk (record 2) first.
    assert_eq!(v(0, 3), Some("222"));
    assert_eq!(g.from[0][3], Some(2));
    // Most recent name: record 4 (2024).
    assert_eq!(v(0, 4), Some("ann marie smith"));
    // The singleton holds no value at all.
    assert!(g.values[1].iter().all(Option::is_none));
    // MostRecent without dates is an error.
    assert!(golden_records(&clusters, &fields, None, Some(&sources)).is_err());
}

/// The documented tie rules, by hand: MostFrequent ties go to the value whose first holder
/// is the smallest record; MostComplete ties (same tokens and characters) to the more
/// frequent value, then the smallest record; SourcePriority ties (same source) to the most
/// frequent value among them, and unlisted sources come last; MostRecent without any date
/// falls back to MostFrequent; a date that is not YYYYMMDD is a typed error.
#[test]
fn survivorship_ties_follow_the_documented_rules() {
    let clusters = ClusterOptions::new(0.5)
        .compute(5, &[(0, 1, 0.9), (1, 2, 0.9), (2, 3, 0.9), (3, 4, 0.9)])
        .unwrap();
    // "bb" and "aa" both twice: "bb" first held by record 0 wins.
    let freq = col(&["bb", "aa", "aa", "bb", "cc"]);
    // Same length, one token each: "xy" (records 1, 3) beats "yx" (record 0) on frequency.
    let comp = col(&["yx", "xy", "zz", "xy", "q"]);
    // Equal lengths and equal frequencies: the smallest record (2) wins.
    let comp_tie = col(&["", "", "mm", "nn", ""]);
    let phone = col(&["1", "2", "3", "3", "4"]);
    let sources: Vec<Box<str>> = ["web", "desk", "dealer", "dealer", "other"]
        .iter()
        .map(|s| (*s).into())
        .collect();
    let no_dates = col(&["", "", "", "", ""]);
    let frequent = Survivorship::MostFrequent;
    let complete = Survivorship::MostComplete;
    let recent = Survivorship::MostRecent;
    let priority = Survivorship::SourcePriority(vec!["dealer".into(), "desk".into()]);
    let unlisted = Survivorship::SourcePriority(vec!["nobody".into()]);
    let fields = [
        GoldenField {
            values: &freq,
            rule: &frequent,
        },
        GoldenField {
            values: &comp,
            rule: &complete,
        },
        GoldenField {
            values: &comp_tie,
            rule: &complete,
        },
        GoldenField {
            values: &phone,
            rule: &priority,
        },
        GoldenField {
            values: &freq,
            rule: &recent,
        },
        GoldenField {
            values: &phone,
            rule: &unlisted,
        },
    ];
    let g = golden_records(&clusters, &fields, Some(&no_dates), Some(&sources)).unwrap();
    assert_eq!(g.values[0][0].as_deref(), Some("bb"));
    assert_eq!(g.from[0][0], Some(0));
    assert_eq!(g.values[0][1].as_deref(), Some("xy"));
    assert_eq!(g.from[0][1], Some(1));
    assert_eq!(g.from[0][2], Some(2));
    // Two dealer records (2, 3) share "3".
    assert_eq!(g.values[0][3].as_deref(), Some("3"));
    assert_eq!(g.from[0][3], Some(2));
    // No dates at all: MostFrequent's answer.
    assert_eq!(g.from[0][4], Some(0));
    // No listed source: every record ties, most frequent "3" (first holder 2).
    assert_eq!(g.from[0][5], Some(2));
    let bad_dates = col(&["2020-01-01", "", "", "", ""]);
    assert!(matches!(
        golden_records(&clusters, &fields, Some(&bad_dates), Some(&sources)),
        Err(acrm::Error::BadValue { row: 0, .. })
    ));
}
