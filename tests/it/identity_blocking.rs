//! Phonetic codes (against jellyfish 1.3), blocking rules (against brute force and DuckDB
//! SQL joins), automatic blocking on planted duplicates, caps and thread invariance.

use std::collections::BTreeSet;

use acrm::identity::phonetic::{metaphone, nysiis, soundex};
use acrm::identity::{BlockingOptions, BlockingRule, Key, Phonetic};

use super::pool;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/identity/blocking");

fn read(name: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
    text.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// Reference: jellyfish 1.3 (`make_phonetic.py`), 5,503 names; exact equality.
#[test]
fn phonetic_codes_match_jellyfish() {
    let rows = read("phonetic.csv");
    assert!(rows.len() > 5000);
    let mut bad = Vec::new();
    for r in &rows {
        let (s, m, n) = (soundex(&r[0]), metaphone(&r[0]), nysiis(&r[0]));
        if s != r[1] || m != r[2] || n != r[3] {
            bad.push(format!("{}: {s}/{} {m}/{} {n}/{}", r[0], r[1], r[2], r[3]));
        }
    }
    assert!(
        bad.is_empty(),
        "{} differ, e.g. {:?}",
        bad.len(),
        &bad[..bad.len().min(20)]
    );
}

/// A tiny seeded generator (splitmix64), so the tests need no extra crate.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

type Col = Vec<Option<Box<str>>>;

fn cols_ref(cols: &[Col]) -> Vec<&[Option<Box<str>>]> {
    cols.iter().map(|c| c.as_slice()).collect()
}

/// Every pair checked against the rules one by one (Keys rules only).
fn brute_force(cols: &[Col], rules: &[BlockingRule]) -> Vec<(u32, u32)> {
    let n = cols[0].len();
    let key = |keys: &[Key], r: usize| -> Option<Vec<String>> {
        keys.iter()
            .map(|k| k.of(cols[k.field()][r].as_deref()?))
            .collect()
    };
    let mut out = Vec::new();
    for i in 0..n {
        for j in i + 1..n {
            let hit = rules.iter().any(|rule| match rule {
                BlockingRule::Keys(keys) => {
                    let a = key(keys, i);
                    a.is_some() && a == key(keys, j)
                }
                _ => unreachable!(),
            });
            if hit {
                out.push((i as u32, j as u32));
            }
        }
    }
    out
}

fn small_table(rng: &mut Rng, n: usize) -> Vec<Col> {
    let names = [
        "smith", "smyth", "schmidt", "jones", "johns", "lee", "leigh", "brown",
    ];
    let firsts = [
        "anna", "anne", "ann", "bob", "rob", "robert", "carl", "karl",
    ];
    (0..3)
        .map(|f| {
            (0..n)
                .map(|_| {
                    if rng.chance(0.1) {
                        return None;
                    }
                    let v = match f {
                        0 => names[rng.below(names.len())].to_string(),
                        1 => firsts[rng.below(firsts.len())].to_string(),
                        _ => format!("19{:02}{:02}01", 50 + rng.below(5), 1 + rng.below(12)),
                    };
                    Some(v.into_boxed_str())
                })
                .collect()
        })
        .collect()
}

fn some_rules() -> Vec<BlockingRule> {
    vec![
        BlockingRule::Keys(vec![Key::Phonetic(0, Phonetic::Soundex), Key::Prefix(2, 4)]),
        BlockingRule::Keys(vec![Key::Exact(1), Key::Suffix(2, 4)]),
        BlockingRule::Keys(vec![
            Key::Phonetic(1, Phonetic::Nysiis),
            Key::Phonetic(0, Phonetic::Metaphone),
        ]),
    ]
}

/// Reference: every pair checked against the rules (brute force), 300 records.
#[test]
fn rules_match_brute_force() {
    let mut rng = Rng(1);
    let cols = small_table(&mut rng, 300);
    let rules = some_rules();
    let got = BlockingOptions::new()
        .rules(rules.clone())
        .compute(&cols_ref(&cols), None)
        .unwrap();
    let want = brute_force(&cols, &rules);
    assert_eq!(got.pairs, want);
    assert_eq!(got.report.candidates, want.len() as u64);
    let all = 300 * 299 / 2;
    assert!((got.report.reduction_ratio - (1.0 - want.len() as f64 / all as f64)).abs() < 1e-15);
    // New pairs per rule add up to the union.
    let new: u64 = got.report.rules.iter().map(|r| r.new_pairs).sum();
    assert_eq!(new, got.report.candidates);
    assert_eq!(got.report.rules[0].new_pairs, got.report.rules[0].pairs);
    // Each pair's mask names exactly the rules that pair it, checked rule by rule.
    assert_eq!(got.rule_masks.len(), got.pairs.len());
    for (k, rule) in rules.iter().enumerate() {
        let of_rule: BTreeSet<(u32, u32)> = brute_force(&cols, std::slice::from_ref(rule))
            .into_iter()
            .collect();
        for (p, m) in got.pairs.iter().zip(&got.rule_masks) {
            assert_eq!(m >> k & 1 == 1, of_rule.contains(p), "rule {k}, pair {p:?}");
        }
        assert_eq!(of_rule.len() as u64, got.report.rules[k].pairs);
    }
}

/// Reference: DuckDB SQL self-joins of `records.csv` (`make_duckdb_pairs.py`), 1,693 pairs.
#[test]
fn rules_match_duckdb_joins() {
    let rows = read("records.csv");
    let cols: Vec<Col> = (1..5)
        .map(|f| {
            rows.iter()
                .map(|r| (!r[f].is_empty()).then(|| r[f].clone().into_boxed_str()))
                .collect()
        })
        .collect();
    let rules = vec![
        BlockingRule::Keys(vec![Key::Exact(1), Key::Prefix(2, 4)]),
        BlockingRule::Keys(vec![Key::Exact(3)]),
        BlockingRule::Keys(vec![Key::Prefix(0, 3), Key::Suffix(3, 2)]),
    ];
    let got = BlockingOptions::new()
        .rules(rules)
        .compute(&cols_ref(&cols), None)
        .unwrap();
    let want: Vec<(u32, u32)> = read("duckdb_pairs.csv")
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(want.len(), 1693);
    assert_eq!(got.pairs, want);
}

/// Reference: DuckDB SQL of `records.csv` (`make_duckdb_pairs2.py`): Soundex(surname) AND
/// NYSIIS(first) joined on jellyfish's codes, plus a sorted neighbourhood on dob (window 3)
/// by `ROW_NUMBER() OVER (ORDER BY dob, rec)`; 2,083 pairs, exact equality.
#[test]
fn phonetic_and_sorted_rules_match_duckdb() {
    let rows = read("records.csv");
    let cols: Vec<Col> = (1..5)
        .map(|f| {
            rows.iter()
                .map(|r| (!r[f].is_empty()).then(|| r[f].clone().into_boxed_str()))
                .collect()
        })
        .collect();
    let rules = vec![
        BlockingRule::Keys(vec![
            Key::Phonetic(1, Phonetic::Soundex),
            Key::Phonetic(0, Phonetic::Nysiis),
        ]),
        BlockingRule::SortedNeighbourhood {
            key: Key::Exact(2),
            window: 3,
        },
    ];
    let opts = BlockingOptions::new().rules(rules);
    let got = pool(1)
        .install(|| opts.compute(&cols_ref(&cols), None))
        .unwrap();
    let want: Vec<(u32, u32)> = read("duckdb_pairs2.csv")
        .iter()
        .map(|r| (r[0].parse().unwrap(), r[1].parse().unwrap()))
        .collect();
    assert_eq!(want.len(), 2083);
    assert_eq!(got.pairs, want);
    let two = pool(2)
        .install(|| opts.compute(&cols_ref(&cols), None))
        .unwrap();
    assert_eq!(two, got);
}

/// Link mode: only cross pairs, the same as the dedupe pairs of the stacked table that
/// cross the boundary (brute force on the stacked table).
#[test]
fn link_gives_cross_pairs_only() {
    let mut rng = Rng(2);
    let left = small_table(&mut rng, 120);
    let right = small_table(&mut rng, 150);
    let rules = some_rules();
    let stacked: Vec<Col> = (0..3)
        .map(|f| left[f].iter().chain(&right[f]).cloned().collect())
        .collect();
    let want: Vec<(u32, u32)> = brute_force(&stacked, &rules)
        .into_iter()
        .filter(|&(i, j)| i < 120 && j >= 120)
        .map(|(i, j)| (i, j - 120))
        .collect();
    let truth_l: Vec<u64> = (0..120).collect();
    let truth_r: Vec<u64> = (0..150)
        .map(|r| if r < 60 { r } else { 1000 + r })
        .collect();
    let got = BlockingOptions::new()
        .rules(rules)
        .compute_link(
            &cols_ref(&left),
            &cols_ref(&right),
            Some((&truth_l, &truth_r)),
        )
        .unwrap();
    assert_eq!(got.pairs, want);
    assert_eq!(got.report.all_pairs, 120 * 150);
    assert_eq!(got.report.true_pairs, Some(60));
    let found = want.iter().filter(|&&(i, j)| j < 60 && i == j).count() as u64;
    assert_eq!(got.report.true_pairs_found, Some(found));
}

/// Sorted neighbourhood on a hand example: keys b, a, c, (missing), a → order
/// 1(a) 4(a) 0(b) 2(c); window 3 pairs each with the next two: 1–4, 1–0, 4–0, 4–2, 0–2.
#[test]
fn sorted_neighbourhood_by_hand() {
    let col: Col = ["b", "a", "c", "", "a"]
        .iter()
        .map(|s| (!s.is_empty()).then(|| s.to_string().into_boxed_str()))
        .collect();
    let got = BlockingOptions::new()
        .rules(vec![BlockingRule::SortedNeighbourhood {
            key: Key::Exact(0),
            window: 3,
        }])
        .compute(&[&col], None)
        .unwrap();
    assert_eq!(got.pairs, vec![(0, 1), (0, 2), (0, 4), (1, 4), (2, 4)]);
}

/// Caps: an oversized block is dropped and counted; a rule over the budget is skipped.
#[test]
fn caps_are_reported() {
    let col: Col = (0..10)
        .map(|r| Some(if r < 6 { "x" } else { "y" }.to_string().into_boxed_str()))
        .collect();
    let got = BlockingOptions::new()
        .rules(vec![BlockingRule::Keys(vec![Key::Exact(0)])])
        .max_block_size(5)
        .compute(&[&col], None)
        .unwrap();
    assert_eq!(got.report.candidates, 6); // the block of 4 "y"
    assert_eq!(got.report.rules[0].blocks_cut, 1);
    assert_eq!(got.report.rules[0].pairs_cut, 15);
    // Rule 1 pairs (0,1) and (2,3); rule 2 would take the union to 21 > 20: skipped.
    let pairs_col: Col = (0..10)
        .map(|r| Some(format!("p{}", if r < 4 { r / 2 } else { r }).into_boxed_str()))
        .collect();
    let got = BlockingOptions::new()
        .rules(vec![
            BlockingRule::Keys(vec![Key::Exact(1)]),
            BlockingRule::Keys(vec![Key::Exact(0)]),
        ])
        .pair_budget(20)
        .compute(&[&col, &pairs_col], None)
        .unwrap();
    assert_eq!(got.pairs, vec![(0, 1), (2, 3)]);
    assert!(got.report.rules[1].skipped);
    assert_eq!(got.report.pairs_cut, 21);
    let got = BlockingOptions::new()
        .rules(vec![BlockingRule::Keys(vec![Key::Exact(0)])])
        .pair_budget(20)
        .compute(&[&col], None)
        .unwrap();
    assert!(got.report.rules[0].skipped);
    assert_eq!(got.report.rules[0].pairs_cut, 21);
    assert_eq!(got.report.candidates, 0);
}

/// Seeded people with planted duplicates: each duplicate gets one or two perturbations
/// (a typo in a name, a missing field, a moved postcode, a new phone, a day/month swap).
fn planted(n_people: usize, seed: u64) -> (Vec<Col>, Vec<u64>) {
    let mut rng = Rng(seed);
    let syl = [
        "ka", "lo", "mi", "ren", "sa", "to", "vi", "na", "ber", "dal", "ston", "ma", "el", "ric",
        "an",
    ];
    let word =
        |rng: &mut Rng, k: usize| -> String { (0..k).map(|_| syl[rng.below(syl.len())]).collect() };
    let firsts: Vec<String> = (0..200).map(|_| word(&mut rng, 2)).collect();
    let surs: Vec<String> = (0..2000).map(|_| word(&mut rng, 3)).collect();
    let mut cols: Vec<Col> = vec![Vec::new(); 6];
    let mut truth = Vec::new();
    for p in 0..n_people {
        let base: Vec<String> = vec![
            firsts[rng.below(firsts.len())].clone(),
            surs[rng.below(surs.len())].clone(),
            format!(
                "19{:02}{:02}{:02}",
                40 + rng.below(60),
                1 + rng.below(12),
                1 + rng.below(28)
            ),
            format!("AB{}{}", rng.below(100), rng.below(10)),
            format!("07{:09}", rng.next() % 1_000_000_000),
            format!("{}{}@mail.com", word(&mut rng, 2), p),
        ];
        let copies = if rng.chance(0.3) { 1 + rng.below(3) } else { 0 };
        for c in 0..=copies {
            let mut rec: Vec<Option<String>> = base.iter().cloned().map(Some).collect();
            if c > 0 {
                for _ in 0..1 + rng.below(2) {
                    let f = rng.below(6);
                    match rng.below(3) {
                        0 => rec[f] = None,
                        1 => {
                            if let Some(v) = rec[f].as_mut() {
                                let mut b = v.clone().into_bytes();
                                let i = rng.below(b.len());
                                b[i] = if f < 2 {
                                    b'a' + rng.below(26) as u8
                                } else {
                                    b'0' + rng.below(10) as u8
                                };
                                *v = String::from_utf8(b).unwrap();
                            }
                        }
                        _ => {
                            if let Some(v) = rec[f].as_mut() {
                                if f == 2 {
                                    *v = format!("{}{}{}", &v[..4], &v[6..8], &v[4..6]);
                                } else {
                                    v.insert(1, 'e');
                                }
                            }
                        }
                    }
                }
            }
            for (f, v) in rec.into_iter().enumerate() {
                cols[f].push(v.map(String::into_boxed_str));
            }
            truth.push(p as u64);
        }
    }
    (cols, truth)
}

/// Automatic blocking on planted duplicates: pair completeness ≥ 0.99 within the budget
/// of 10 pairs per record, chosen rules on disjoint fields; the same for 1 and 2 threads.
#[test]
fn automatic_blocking_keeps_planted_duplicates() {
    let (cols, truth) = planted(8000, 3);
    let refs = cols_ref(&cols);
    let opts = BlockingOptions::new();
    let one = pool(1)
        .install(|| opts.compute(&refs, Some(&truth)))
        .unwrap();
    let two = pool(2)
        .install(|| opts.compute(&refs, Some(&truth)))
        .unwrap();
    assert_eq!(one, two);
    let n = truth.len() as u64;
    let auto = one.report.automatic.as_ref().unwrap();
    assert_eq!(auto.budget, 10 * n);
    assert!(one.report.candidates <= auto.budget);
    assert!(one.rules.len() >= 2);
    let mut used = BTreeSet::new();
    for r in &one.rules {
        if let BlockingRule::Keys(keys) = r {
            for k in keys {
                assert!(
                    used.insert(k.field()),
                    "fields shared between rules: {:?}",
                    one.rules
                );
            }
        }
    }
    let pc = one.report.pair_completeness.unwrap();
    assert!(
        pc >= 0.99,
        "pair completeness {pc}, rules {:?}",
        auto.chosen
    );
    assert!(one.report.true_pairs.unwrap() > 1000);
    // Against brute force on a small slice: the chosen rules' pairs are exactly the pairs
    // that agree on a rule (no caps bind there).
    let small: Vec<Col> = cols.iter().map(|c| c[..600].to_vec()).collect();
    let got = BlockingOptions::new()
        .rules(one.rules.clone())
        .compute(&cols_ref(&small), None)
        .unwrap();
    assert_eq!(got.pairs, brute_force(&small, &one.rules));
}

/// Explicit rules give the same pairs and report for 1 and 2 threads.
#[test]
fn rules_thread_invariant() {
    let mut rng = Rng(5);
    let cols = small_table(&mut rng, 2000);
    let refs = cols_ref(&cols);
    let opts = BlockingOptions::new()
        .rules(some_rules())
        .max_block_size(200);
    let a = pool(1).install(|| opts.compute(&refs, None)).unwrap();
    let b = pool(2).install(|| opts.compute(&refs, None)).unwrap();
    assert_eq!(a, b);
}

/// Typed errors: ragged columns, a rule on a field that is not there, a window of 1.
#[test]
fn bad_inputs_are_typed_errors() {
    let a: Col = vec![None, None];
    let b: Col = vec![None];
    assert!(matches!(
        BlockingOptions::new().compute(&[&a, &b], None),
        Err(acrm::Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        BlockingOptions::new()
            .rules(vec![BlockingRule::Keys(vec![Key::Exact(3)])])
            .compute(&[&a], None),
        Err(acrm::Error::InvalidOption { .. })
    ));
    assert!(matches!(
        BlockingOptions::new()
            .rules(vec![BlockingRule::SortedNeighbourhood {
                key: Key::Exact(0),
                window: 1
            }])
            .compute(&[&a], None),
        Err(acrm::Error::InvalidOption { .. })
    ));
}

/// Without a pair budget, a hard cap on candidates stops a run whose rules make more,
/// before their pairs are made; with one, loose rules are skipped as before.
#[test]
fn candidates_past_the_hard_cap_stop_with_advice() {
    let mut rng = Rng(1);
    let cols = small_table(&mut rng, 300);
    let rules = some_rules();
    let n = BlockingOptions::new()
        .rules(rules.clone())
        .compute(&cols_ref(&cols), None)
        .unwrap()
        .report
        .candidates;
    let capped = BlockingOptions::new()
        .rules(rules.clone())
        .max_candidates(n);
    assert_eq!(
        capped
            .compute(&cols_ref(&cols), None)
            .unwrap()
            .report
            .candidates,
        n
    );
    let err = BlockingOptions::new()
        .rules(rules.clone())
        .max_candidates(n - 1)
        .compute(&cols_ref(&cols), None)
        .unwrap_err();
    assert!(
        matches!(err, acrm::Error::Budget { what: "candidate pairs", limit, .. } if limit == n - 1),
        "{err}"
    );
    assert!(err.to_string().contains("block on more fields"), "{err}");
    let budgeted = BlockingOptions::new()
        .rules(rules)
        .max_candidates(n - 1)
        .pair_budget(n - 1)
        .compute(&cols_ref(&cols), None)
        .unwrap();
    assert!(budgeted.report.candidates < n);
}
