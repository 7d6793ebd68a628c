//! Blocking: which record pairs are compared at all.
//!
//! Records are given as normalised key columns, one `&[Option<Box<str>>]` per field (the
//! `values` of a normalised column); a missing value (`None`, or a key that comes out
//! empty) never forms a block key. Two modes:
//! - **dedupe** ([`BlockingOptions::compute`]): one table, pairs `(i, j)` with `i < j`;
//! - **link** ([`BlockingOptions::compute_link`]): two column sets with the same fields in
//!   the same order, left and right; pairs `(left index, right index)`, cross pairs only.
//!
//! A rule is a conjunction of keys ([`BlockingRule::Keys`]: records whose keys all agree
//! form a block; every pair inside a block is a candidate) or a sorted neighbourhood
//! ([`BlockingRule::SortedNeighbourhood`]: records sorted by a key, record index breaking
//! ties, each paired with the next `window − 1`). The candidates are the union over rules,
//! sorted and deduplicated; the result is the same for any thread count (keys are built in
//! parallel in record order, sorted on total orders, reduced in rule order).
//!
//! Caps never cut silently: a block larger than `max_block_size` is dropped and counted in
//! its rule's `blocks_cut` / `pairs_cut`; a rule whose pairs would take the union past the
//! `pair_budget` is skipped whole and marked `skipped`.
//!
//! **Automatic blocking** (no rules given) chooses rules from the data:
//! 1. on a sample (all records up to 20,000, else 20,000 spread evenly) it builds single
//!    keys per field — exact value, prefixes of 3 and 6 characters, the last 4 characters
//!    of digit fields, Soundex / Metaphone / NYSIIS of alphabetic fields — and every
//!    conjunction of two single keys on different fields;
//! 2. each candidate's pairs are estimated as Σ c(c−1)/2 over its key counts on the
//!    sample, scaled by n(n−1) / (m(m−1)) (link: Σ c_left·c_right scaled by
//!    n_left·n_right / (m_left·m_right)), and its coverage is the share of sampled
//!    records holding all its keys;
//! 3. the budget is `pairs_per_record` · n pairs (default 10 · n); a candidate is feasible
//!    when its estimate is at most a quarter of it;
//! 4. rules are picked greedily with **disjoint fields**: the feasible candidate with the
//!    highest coverage × tolerance (per key: phonetic 0.96, prefix 0.95, suffix 0.93,
//!    exact 0.90 — a typo breaks an exact key more often than a phonetic one), ties to the
//!    larger estimate (looser), then the earlier candidate; its fields are then used up.
//!    Up to four rules. Because the rules share no field, a true pair that disagrees on
//!    (or misses) one field is still caught by every other rule it agrees on. With fewer
//!    than two disjoint rules, the best candidate on another field set is added.
//! 5. the chosen rules run with the budget as the pair budget, so the candidates never
//!    exceed it; the report lists the chosen rules with their estimates.

use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::phonetic::Phonetic;
use crate::error::{Error, Result};

/// One key of a record: a function of one field's normalised value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Key {
    /// The whole value of field `.0`.
    Exact(usize),
    /// The first `.1` characters of field `.0` (the whole value when shorter); the year of
    /// a `YYYYMMDD` date is `Prefix(field, 4)`.
    Prefix(usize, usize),
    /// The last `.1` characters of field `.0` (the whole value when shorter).
    Suffix(usize, usize),
    /// The phonetic code of field `.0`.
    Phonetic(usize, Phonetic),
}

impl Key {
    /// The field the key reads.
    pub fn field(&self) -> usize {
        match *self {
            Key::Exact(f) | Key::Prefix(f, _) | Key::Suffix(f, _) | Key::Phonetic(f, _) => f,
        }
    }

    /// The key of one value; `None` when it comes out empty.
    pub fn of(&self, value: &str) -> Option<String> {
        let k: String = match *self {
            Key::Exact(_) => value.to_string(),
            Key::Prefix(_, n) => value.chars().take(n).collect(),
            Key::Suffix(_, n) => {
                let c = value.chars().count();
                value.chars().skip(c.saturating_sub(n)).collect()
            }
            Key::Phonetic(_, p) => p.code(value),
        };
        (!k.is_empty()).then_some(k)
    }

    fn label(&self, names: &[String]) -> String {
        let f = |i: usize| names.get(i).cloned().unwrap_or_else(|| format!("field{i}"));
        match *self {
            Key::Exact(i) => format!("exact({})", f(i)),
            Key::Prefix(i, n) => format!("prefix({},{n})", f(i)),
            Key::Suffix(i, n) => format!("suffix({},{n})", f(i)),
            Key::Phonetic(i, p) => format!("{}({})", p.name(), f(i)),
        }
    }

    fn tolerance(&self) -> f64 {
        match self {
            Key::Exact(_) => 0.90,
            Key::Prefix(..) => 0.95,
            Key::Suffix(..) => 0.93,
            Key::Phonetic(..) => 0.96,
        }
    }
}

/// A blocking rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BlockingRule {
    /// Records whose keys all agree (and are all present) form a block.
    Keys(Vec<Key>),
    /// Records holding `key`, sorted by it (record index breaking ties), each paired with
    /// the next `window − 1` records of the order.
    SortedNeighbourhood {
        /// The sort key.
        key: Key,
        /// The window, in records (at least 2).
        window: usize,
    },
}

impl BlockingRule {
    /// A readable label using the field names (or `field<i>` where none is given).
    pub fn label(&self, names: &[String]) -> String {
        match self {
            BlockingRule::Keys(keys) => keys
                .iter()
                .map(|k| k.label(names))
                .collect::<Vec<_>>()
                .join(" & "),
            BlockingRule::SortedNeighbourhood { key, window } => {
                format!("sorted({}, window {window})", key.label(names))
            }
        }
    }

    /// The keys the rule reads (a sorted-neighbourhood rule's sort key).
    pub fn keys(&self) -> &[Key] {
        match self {
            BlockingRule::Keys(k) => k,
            BlockingRule::SortedNeighbourhood { key, .. } => std::slice::from_ref(key),
        }
    }
}

/// Blocking options: the rules (none = automatic) and the caps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingOptions {
    rules: Vec<BlockingRule>,
    max_block_size: Option<usize>,
    pair_budget: Option<u64>,
    pairs_per_record: f64,
    field_names: Vec<String>,
    #[serde(default)]
    shared_fields: Vec<usize>,
    /// The hard cap on candidate pairs; `None` is [`DEFAULT_MAX_CANDIDATES`].
    #[serde(default)]
    max_candidates: Option<u64>,
}

/// Default hard cap on candidate pairs when no pair budget applies (the caller's rules
/// without one, or automatic blocking with no rule inside its budget): 100 million pairs
/// are about 8 GB once compared, a third of a 24 GiB machine.
pub const DEFAULT_MAX_CANDIDATES: u64 = 100_000_000;

impl Default for BlockingOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// What one rule contributed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleReport {
    /// The rule's label.
    pub rule: String,
    /// Its blocks (key values held by at least one record; windows for a sorted rule).
    pub blocks: u64,
    /// Records in its largest block.
    pub largest_block: u64,
    /// Pairs the rule produced (after cuts; 0 when skipped).
    pub pairs: u64,
    /// Of those, pairs no earlier rule produced.
    pub new_pairs: u64,
    /// Blocks dropped for exceeding `max_block_size`.
    pub blocks_cut: u64,
    /// Pairs lost by the cuts (dropped blocks, or the whole rule when skipped).
    pub pairs_cut: u64,
    /// Whether the rule was skipped because its pairs would exceed the pair budget.
    pub skipped: bool,
}

/// One automatic candidate rule and its estimate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoCandidate {
    /// The rule's label.
    pub rule: String,
    /// Estimated pairs over all records.
    pub estimated_pairs: f64,
    /// Share of sampled records holding all its keys.
    pub coverage: f64,
}

/// How the automatic rules were chosen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AutoReport {
    /// The pair budget (`pairs_per_record` · records).
    pub budget: u64,
    /// Records sampled for the estimates.
    pub sample: usize,
    /// Candidate rules considered.
    pub considered: usize,
    /// The chosen rules, in order, with their estimates.
    pub chosen: Vec<AutoCandidate>,
    /// Whether no rule fitted the budget, so the tightest ran without it.
    #[serde(default)]
    pub over_budget: bool,
}

/// The blocking report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BlockingReport {
    /// Records (left + right in link mode).
    pub records: usize,
    /// Whether this was a link (two tables) rather than a dedupe.
    pub link: bool,
    /// Candidate pairs (the union over rules).
    pub candidates: u64,
    /// All pairs: n(n−1)/2, or n_left·n_right in link mode.
    pub all_pairs: u64,
    /// 1 − candidates / all pairs (1 when there are no pairs at all).
    pub reduction_ratio: f64,
    /// Per rule, in order.
    pub rules: Vec<RuleReport>,
    /// Pairs cut by the caps, summed over rules (a pair may be counted by several rules).
    pub pairs_cut: u64,
    /// True pairs (same entity) when a truth is given.
    pub true_pairs: Option<u64>,
    /// True pairs among the candidates.
    pub true_pairs_found: Option<u64>,
    /// True pairs found / true pairs (None without a truth or without true pairs).
    pub pair_completeness: Option<f64>,
    /// The automatic choice, when no rules were given.
    pub automatic: Option<AutoReport>,
}

/// Candidate pairs and their report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Blocking {
    /// Sorted, deduplicated pairs: `(i, j)` with `i < j` (dedupe) or
    /// `(left, right)` (link).
    pub pairs: Vec<(u32, u32)>,
    /// The rules that ran (the chosen ones when automatic).
    pub rules: Vec<BlockingRule>,
    /// Per pair, bit `k` set when rule `k` produced it (the first 64 rules; a skipped
    /// rule produces none): what an EM session per rule trains on.
    pub rule_masks: Vec<u64>,
    /// The report.
    pub report: BlockingReport,
}

/// Both sides seen as one index range: left `0..nl`, right `nl..n` (dedupe: no right).
struct Table<'a> {
    left: &'a [&'a [Option<Box<str>>]],
    right: &'a [&'a [Option<Box<str>>]],
    nl: usize,
    n: usize,
    link: bool,
}

impl Table<'_> {
    fn value(&self, f: usize, r: usize) -> Option<&str> {
        if r < self.nl {
            self.left[f][r].as_deref()
        } else {
            self.right[f][r - self.nl].as_deref()
        }
    }

    fn key(&self, keys: &[Key], r: usize) -> Option<String> {
        let mut out = String::new();
        for (t, k) in keys.iter().enumerate() {
            if t > 0 {
                out.push('\u{1f}');
            }
            out.push_str(&k.of(self.value(k.field(), r)?)?);
        }
        Some(out)
    }

    /// The pair code of two records of the combined range, if they may pair.
    fn pair(&self, a: u32, b: u32) -> Option<u64> {
        let (a, b) = (a.min(b) as u64, a.max(b) as u64);
        if self.link {
            let nl = self.nl as u64;
            (a < nl && b >= nl).then(|| (a << 32) | (b - nl))
        } else {
            Some((a << 32) | b)
        }
    }

    fn all_pairs(&self) -> u64 {
        if self.link {
            (self.nl as u64) * ((self.n - self.nl) as u64)
        } else {
            let n = self.n as u64;
            n * n.saturating_sub(1) / 2
        }
    }
}

fn check_columns(
    cols: &[&[Option<Box<str>>]],
    input: &'static str,
    fields: Option<usize>,
) -> Result<usize> {
    if cols.is_empty() {
        return Err(Error::InvalidOption {
            option: input,
            value: "no fields".into(),
            allowed: "at least one key column".into(),
        });
    }
    if let Some(f) = fields {
        if cols.len() != f {
            return Err(Error::LengthMismatch {
                input,
                found: cols.len(),
                expected: f,
                against: "the left side's fields",
            });
        }
    }
    let n = cols[0].len();
    for c in cols {
        if c.len() != n {
            return Err(Error::LengthMismatch {
                input,
                found: c.len(),
                expected: n,
                against: "the first field's records",
            });
        }
    }
    Ok(n)
}

impl BlockingOptions {
    /// Automatic blocking, no caps beyond the automatic budget (10 pairs per record).
    pub fn new() -> Self {
        Self {
            rules: Vec::new(),
            max_block_size: None,
            pair_budget: None,
            pairs_per_record: 10.0,
            field_names: Vec::new(),
            shared_fields: Vec::new(),
            max_candidates: None,
        }
    }

    /// The hard cap on candidate pairs (default [`DEFAULT_MAX_CANDIDATES`]): where no
    /// pair budget skips a rule, a rule that would take the candidates past it stops the
    /// run with [`Error::Budget`] before its pairs are made.
    pub fn max_candidates(mut self, pairs: u64) -> Self {
        self.max_candidates = Some(pairs);
        self
    }

    /// The rules (empty = automatic).
    pub fn rules(mut self, rules: Vec<BlockingRule>) -> Self {
        self.rules = rules;
        self
    }

    /// Drop (and report) blocks of more than `size` records.
    pub fn max_block_size(mut self, size: usize) -> Self {
        self.max_block_size = Some(size);
        self
    }

    /// Skip (and report) a rule whose pairs would take the candidates past `pairs`.
    pub fn pair_budget(mut self, pairs: u64) -> Self {
        self.pair_budget = Some(pairs);
        self
    }

    /// The automatic budget in pairs per record (default 10).
    pub fn pairs_per_record(mut self, k: f64) -> Self {
        self.pairs_per_record = k;
        self
    }

    /// Fields several customers share (a postcode, an address): the automatic choice
    /// never blocks on these fields alone (one of them, or several of them together),
    /// only with a field of the person. A household's members agree on all of them, so
    /// such a rule gathers households, and a model that takes fields as independent
    /// counts their agreement once per field. [`ResolveOptions`](super::ResolveOptions)
    /// sets the postcode and address fields unless the caller set some.
    pub fn shared_fields(mut self, fields: Vec<usize>) -> Self {
        self.shared_fields = fields;
        self
    }

    pub(crate) fn has_shared_fields(&self) -> bool {
        !self.shared_fields.is_empty()
    }

    /// Field names for the rule labels of the report.
    pub fn field_names(mut self, names: Vec<String>) -> Self {
        self.field_names = names;
        self
    }

    /// Dedupe one table: pairs `(i, j)`, `i < j`. `truth` (an entity id per record) adds
    /// the pair completeness to the report.
    pub fn compute(
        &self,
        fields: &[&[Option<Box<str>>]],
        truth: Option<&[u64]>,
    ) -> Result<Blocking> {
        let n = check_columns(fields, "fields", None)?;
        let table = Table {
            left: fields,
            right: &[],
            nl: n,
            n,
            link: false,
        };
        let truth_all = match truth {
            Some(t) => {
                if t.len() != n {
                    return Err(Error::LengthMismatch {
                        input: "truth",
                        found: t.len(),
                        expected: n,
                        against: "records",
                    });
                }
                Some(t.to_vec())
            }
            None => None,
        };
        self.run(&table, truth_all.as_deref())
    }

    /// Link two tables (the same fields in the same order on both sides): pairs
    /// `(left index, right index)`. `truth` holds an entity id per left and per right record.
    pub fn compute_link(
        &self,
        left: &[&[Option<Box<str>>]],
        right: &[&[Option<Box<str>>]],
        truth: Option<(&[u64], &[u64])>,
    ) -> Result<Blocking> {
        let nl = check_columns(left, "left", None)?;
        let nr = check_columns(right, "right", Some(left.len()))?;
        let table = Table {
            left,
            right,
            nl,
            n: nl + nr,
            link: true,
        };
        let truth_all = match truth {
            Some((l, r)) => {
                for (input, t, e) in [("truth left", l, nl), ("truth right", r, nr)] {
                    if t.len() != e {
                        return Err(Error::LengthMismatch {
                            input,
                            found: t.len(),
                            expected: e,
                            against: "records",
                        });
                    }
                }
                Some([l, r].concat())
            }
            None => None,
        };
        self.run(&table, truth_all.as_deref())
    }

    fn check_rules(&self, rules: &[BlockingRule], fields: usize) -> Result<()> {
        for r in rules {
            if r.keys().is_empty() {
                return Err(Error::InvalidOption {
                    option: "rules",
                    value: format!("{r:?}"),
                    allowed: "at least one key per rule".into(),
                });
            }
            for k in r.keys() {
                let bad_len = matches!(k, Key::Prefix(_, 0) | Key::Suffix(_, 0));
                if k.field() >= fields || bad_len {
                    return Err(Error::InvalidOption {
                        option: "rules",
                        value: format!("{k:?}"),
                        allowed: format!("a field below {fields} and a length of at least 1"),
                    });
                }
            }
            if let BlockingRule::SortedNeighbourhood { window, .. } = r {
                if *window < 2 {
                    return Err(Error::InvalidOption {
                        option: "window",
                        value: window.to_string(),
                        allowed: "at least 2".into(),
                    });
                }
            }
        }
        if let Some(0) = self.max_block_size {
            return Err(Error::InvalidOption {
                option: "max_block_size",
                value: "0".into(),
                allowed: "at least 1".into(),
            });
        }
        Ok(())
    }

    fn run(&self, table: &Table<'_>, truth: Option<&[u64]>) -> Result<Blocking> {
        if table.n > u32::MAX as usize {
            return Err(Error::InvalidOption {
                option: "records",
                value: table.n.to_string(),
                allowed: "at most 4,294,967,295 records".into(),
            });
        }
        if !(self.pairs_per_record.is_finite() && self.pairs_per_record > 0.0) {
            return Err(Error::InvalidOption {
                option: "pairs_per_record",
                value: self.pairs_per_record.to_string(),
                allowed: "a finite number above 0".into(),
            });
        }
        let fields = table.left.len();
        let (rules, automatic, budget) = if self.rules.is_empty() {
            let (rules, auto) = choose_rules(
                table,
                self.pairs_per_record,
                &self.field_names,
                &self.shared_fields,
            );
            let b = if auto.over_budget {
                self.pair_budget
            } else {
                Some(self.pair_budget.map_or(auto.budget, |b| b.min(auto.budget)))
            };
            (rules, Some(auto), b)
        } else {
            (self.rules.clone(), None, self.pair_budget)
        };
        self.check_rules(&rules, fields)?;

        let mut union: Vec<u64> = Vec::new();
        let mut reports = Vec::with_capacity(rules.len());
        let mut produced: Vec<Vec<u64>> = Vec::with_capacity(rules.len());
        let hard = self.max_candidates.unwrap_or(DEFAULT_MAX_CANDIDATES);
        for rule in &rules {
            // Under the hard cap a rule is stopped before its pairs are made only when it
            // alone has more; the union past the cap is caught after the merge.
            let remaining = Some(match budget {
                Some(b) => b.saturating_sub(union.len() as u64),
                None => hard,
            });
            let (pairs, mut rep) = self.rule_pairs(table, rule, remaining);
            let merged = merge(&union, &pairs);
            if budget.is_none() && (rep.skipped || merged.len() as u64 > hard) {
                return Err(Error::Budget {
                    what: "candidate pairs",
                    limit: hard,
                    advice: format!(
                        "blocking rule `{}` makes too many; block on more fields, set a \
                         maximum block size, or give a pair budget that skips loose rules",
                        rule.label(&self.field_names)
                    ),
                });
            }
            rep.rule = rule.label(&self.field_names);
            if budget.is_some_and(|b| merged.len() as u64 > b) {
                rep.skipped = true;
                rep.pairs_cut += pairs.len() as u64;
                rep.pairs = 0;
            } else {
                rep.new_pairs = (merged.len() - union.len()) as u64;
                union = merged;
            }
            produced.push(if rep.skipped { Vec::new() } else { pairs });
            reports.push(rep);
        }
        let mut rule_masks = vec![0u64; union.len()];
        for (k, list) in produced.iter().enumerate().take(64) {
            // Both sorted: one walk sets the rule's bit on its pairs.
            let mut at = 0;
            for p in list {
                at += union[at..].partition_point(|u| u < p);
                rule_masks[at] |= 1 << k;
            }
        }

        let all = table.all_pairs();
        let candidates = union.len() as u64;
        let (true_pairs, found) = match truth {
            Some(t) => {
                let mut counts: HashMap<u64, (u64, u64)> = HashMap::new();
                for (r, &e) in t.iter().enumerate() {
                    let c = counts.entry(e).or_default();
                    if r < table.nl {
                        c.0 += 1;
                    } else {
                        c.1 += 1;
                    }
                }
                let tp: u64 = counts
                    .values()
                    .map(|&(l, r)| group_pairs(l, r, table.link))
                    .sum();
                let nl = table.nl as u64;
                let off = if table.link { nl } else { 0 };
                let f = union
                    .par_iter()
                    .filter(|&&p| t[(p >> 32) as usize] == t[((p & 0xffff_ffff) + off) as usize])
                    .count() as u64;
                (Some(tp), Some(f))
            }
            None => (None, None),
        };
        let report = BlockingReport {
            records: table.n,
            link: table.link,
            candidates,
            all_pairs: all,
            reduction_ratio: if all == 0 {
                1.0
            } else {
                1.0 - candidates as f64 / all as f64
            },
            pairs_cut: reports.iter().map(|r| r.pairs_cut).sum(),
            rules: reports,
            pair_completeness: match (true_pairs, found) {
                (Some(t), Some(f)) if t > 0 => Some(f as f64 / t as f64),
                _ => None,
            },
            true_pairs,
            true_pairs_found: found,
            automatic,
        };
        let pairs = union
            .into_iter()
            .map(|p| ((p >> 32) as u32, (p & 0xffff_ffff) as u32))
            .collect();
        Ok(Blocking {
            pairs,
            rules,
            rule_masks,
            report,
        })
    }

    /// The sorted pair codes of one rule and its report (label filled by the caller).
    fn rule_pairs(
        &self,
        table: &Table<'_>,
        rule: &BlockingRule,
        remaining: Option<u64>,
    ) -> (Vec<u64>, RuleReport) {
        let keys = rule.keys();
        let mut keyed: Vec<(String, u32)> = (0..table.n)
            .into_par_iter()
            .filter_map(|r| table.key(keys, r).map(|k| (k, r as u32)))
            .collect();
        keyed.par_sort_unstable();
        let mut rep = RuleReport {
            rule: String::new(),
            blocks: 0,
            largest_block: 0,
            pairs: 0,
            new_pairs: 0,
            blocks_cut: 0,
            pairs_cut: 0,
            skipped: false,
        };
        let mut pairs: Vec<u64> = match rule {
            BlockingRule::SortedNeighbourhood { window, .. } => {
                let w = *window;
                rep.blocks = keyed.len().saturating_sub(1) as u64;
                rep.largest_block = w.min(keyed.len()) as u64;
                (0..keyed.len())
                    .into_par_iter()
                    .flat_map_iter(|p| {
                        let keyed = &keyed;
                        (p + 1..(p + w).min(keyed.len()))
                            .filter_map(move |q| table.pair(keyed[p].1, keyed[q].1))
                    })
                    .collect()
            }
            BlockingRule::Keys(_) => {
                // Block boundaries: runs of equal keys.
                let mut blocks: Vec<(usize, usize)> = Vec::new();
                let mut s = 0;
                for e in 1..=keyed.len() {
                    if e == keyed.len() || keyed[e].0 != keyed[s].0 {
                        blocks.push((s, e));
                        s = e;
                    }
                }
                let nl = table.nl as u32;
                let block_pairs = |&(s, e): &(usize, usize)| -> u64 {
                    let c = (e - s) as u64;
                    if table.link {
                        let l = keyed[s..e].iter().filter(|x| x.1 < nl).count() as u64;
                        l * (c - l)
                    } else {
                        c * (c - 1) / 2
                    }
                };
                rep.blocks = blocks.len() as u64;
                rep.largest_block = blocks.iter().map(|b| (b.1 - b.0) as u64).max().unwrap_or(0);
                let mut kept = Vec::with_capacity(blocks.len());
                let mut total = 0u64;
                for b in blocks {
                    let p = block_pairs(&b);
                    if self.max_block_size.is_some_and(|m| b.1 - b.0 > m) {
                        rep.blocks_cut += 1;
                        rep.pairs_cut += p;
                    } else {
                        total += p;
                        kept.push(b);
                    }
                }
                if remaining.is_some_and(|r| total > r) {
                    // Not generated at all: the rule alone exceeds what is left of the budget.
                    rep.skipped = true;
                    rep.pairs_cut += total;
                    return (Vec::new(), rep);
                }
                kept.par_iter()
                    .flat_map_iter(|&(s, e)| {
                        let keyed = &keyed;
                        (s..e).flat_map(move |a| {
                            (a + 1..e).filter_map(move |b| table.pair(keyed[a].1, keyed[b].1))
                        })
                    })
                    .collect()
            }
        };
        pairs.par_sort_unstable();
        pairs.dedup();
        rep.pairs = pairs.len() as u64;
        (pairs, rep)
    }
}

/// The sorted union of two sorted, deduplicated code lists.
fn merge(a: &[u64], b: &[u64]) -> Vec<u64> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

const SAMPLE: usize = 20_000;
const MAX_AUTO_RULES: usize = 4;

/// Evenly spread sample of `0..n` (all of it when `n ≤ m`), offset by `base`.
fn sample(n: usize, m: usize, base: usize) -> Vec<usize> {
    if n <= m {
        (base..base + n).collect()
    } else {
        (0..m).map(|t| base + t * n / m).collect()
    }
}

/// The automatic rules (see the module documentation).
fn choose_rules(
    table: &Table<'_>,
    k: f64,
    names: &[String],
    shared: &[usize],
) -> (Vec<BlockingRule>, AutoReport) {
    let nr = table.n - table.nl;
    let rows: Vec<usize> = if table.link {
        let mut s = sample(table.nl, SAMPLE / 2, 0);
        s.extend(sample(nr, SAMPLE / 2, table.nl));
        s
    } else {
        sample(table.n, SAMPLE, 0)
    };
    let ml = rows.iter().filter(|&&r| r < table.nl).count();
    let mr = rows.len() - ml;
    let fields = table.left.len();
    // Single keys per field, chosen by what the field's values look like.
    let mut singles: Vec<Key> = Vec::new();
    for f in 0..fields {
        let vals: Vec<&str> = rows.iter().filter_map(|&r| table.value(f, r)).collect();
        if vals.is_empty() {
            continue;
        }
        let alpha = vals
            .iter()
            .filter(|v| v.bytes().all(|b| b.is_ascii_lowercase() || b == b' '))
            .count();
        let digits = vals
            .iter()
            .filter(|v| v.bytes().all(|b| b.is_ascii_digit()))
            .count();
        let mean_len = vals.iter().map(|v| v.len()).sum::<usize>() as f64 / vals.len() as f64;
        singles.push(Key::Exact(f));
        for p in [3, 6] {
            if mean_len > p as f64 + 0.5 {
                singles.push(Key::Prefix(f, p));
            }
        }
        if digits * 10 >= vals.len() * 9 && mean_len > 5.0 {
            singles.push(Key::Suffix(f, 4));
        }
        if alpha * 10 >= vals.len() * 9 {
            singles.extend([
                Key::Phonetic(f, Phonetic::Soundex),
                Key::Phonetic(f, Phonetic::Metaphone),
                Key::Phonetic(f, Phonetic::Nysiis),
            ]);
        }
    }
    // Interned codes of each single key on the sample, in parallel per key.
    let codes: Vec<Vec<Option<u32>>> = singles
        .par_iter()
        .map(|key| {
            let mut ids: HashMap<String, u32> = HashMap::new();
            rows.iter()
                .map(|&r| {
                    let c = key.of(table.value(key.field(), r)?)?;
                    let next = ids.len() as u32;
                    Some(*ids.entry(c).or_insert(next))
                })
                .collect()
        })
        .collect();
    let mut combos: Vec<Vec<usize>> = (0..singles.len()).map(|a| vec![a]).collect();
    for a in 0..singles.len() {
        for b in a + 1..singles.len() {
            if singles[a].field() != singles[b].field() {
                combos.push(vec![a, b]);
            }
        }
    }
    let scale = if table.link {
        if ml == 0 || mr == 0 {
            0.0
        } else {
            (table.nl as f64 * nr as f64) / (ml as f64 * mr as f64)
        }
    } else {
        let (n, m) = (table.n as f64, rows.len() as f64);
        if m < 2.0 {
            0.0
        } else {
            n * (n - 1.0) / (m * (m - 1.0))
        }
    };
    let nl = table.nl;
    // (estimated pairs, coverage) per combination.
    let stats: Vec<(f64, f64)> = combos
        .par_iter()
        .map(|c| {
            let mut counts: HashMap<u64, (u64, u64)> = HashMap::new();
            let mut covered = 0usize;
            for (t, &r) in rows.iter().enumerate() {
                let a = codes[c[0]][t];
                let b = if c.len() > 1 { codes[c[1]][t] } else { Some(0) };
                if let (Some(a), Some(b)) = (a, b) {
                    covered += 1;
                    let e = counts.entry(((a as u64) << 32) | b as u64).or_default();
                    if r < nl {
                        e.0 += 1;
                    } else {
                        e.1 += 1;
                    }
                }
            }
            let s: u64 = counts
                .values()
                .map(|&(l, r)| group_pairs(l, r, table.link))
                .sum();
            (s as f64 * scale, covered as f64 / rows.len().max(1) as f64)
        })
        .collect();
    let budget = (k * table.n as f64).floor() as u64;
    let per_rule = budget as f64 / MAX_AUTO_RULES as f64;
    let score =
        |c: &[usize], cov: f64| cov * c.iter().map(|&s| singles[s].tolerance()).product::<f64>();
    let fields_of = |c: &[usize]| c.iter().map(|&s| singles[s].field()).collect::<Vec<_>>();
    let mut order: Vec<usize> = (0..combos.len())
        .filter(|&i| stats[i].0 <= per_rule && stats[i].1 > 0.0)
        .filter(|&i| !fields_of(&combos[i]).iter().all(|f| shared.contains(f)))
        .collect();
    order.sort_by(|&x, &y| {
        score(&combos[y], stats[y].1)
            .total_cmp(&score(&combos[x], stats[x].1))
            .then(stats[y].0.total_cmp(&stats[x].0))
            .then(x.cmp(&y))
    });
    let mut used = vec![false; fields];
    let mut chosen: Vec<usize> = Vec::new();
    for &i in &order {
        if chosen.len() == MAX_AUTO_RULES {
            break;
        }
        let fs = fields_of(&combos[i]);
        if fs.iter().all(|&f| !used[f]) {
            for f in fs {
                used[f] = true;
            }
            chosen.push(i);
        }
    }
    if chosen.len() < 2 {
        for &i in &order {
            if chosen.len() >= 2 {
                break;
            }
            let fs = fields_of(&combos[i]);
            if !chosen.iter().any(|&c| fields_of(&combos[c]) == fs) {
                chosen.push(i);
            }
        }
    }
    let mut over_budget = false;
    if chosen.is_empty() {
        // Every key pairs more records than the budget allows (few fields, common
        // values): the tightest one, run without the budget, rather than no candidates.
        over_budget = true;
        let tightest = (0..combos.len())
            .filter(|&i| stats[i].1 > 0.0)
            .filter(|&i| !fields_of(&combos[i]).iter().all(|f| shared.contains(f)))
            .min_by(|&x, &y| stats[x].0.total_cmp(&stats[y].0).then(x.cmp(&y)));
        chosen.extend(tightest);
    }
    let rules: Vec<BlockingRule> = chosen
        .iter()
        .map(|&i| BlockingRule::Keys(combos[i].iter().map(|&s| singles[s]).collect()))
        .collect();
    let report = AutoReport {
        budget,
        sample: rows.len(),
        considered: combos.len(),
        chosen: chosen
            .iter()
            .zip(&rules)
            .map(|(&i, r)| AutoCandidate {
                rule: r.label(names),
                estimated_pairs: stats[i].0,
                coverage: stats[i].1,
            })
            .collect(),
        over_budget,
    };
    (rules, report)
}

/// Pairs within one group of `l` left and `r` right records: across the two sides when
/// linking, otherwise among the `l` records of the one table.
pub(crate) fn group_pairs(l: u64, r: u64, link: bool) -> u64 {
    if link {
        l * r
    } else {
        l * l.saturating_sub(1) / 2
    }
}
