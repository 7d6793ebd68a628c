//! Clustering of scored pairs and golden records.
//!
//! [`ClusterOptions::compute`] takes scored pairs `(i, j, p)` over `n` records. Pairs with
//! `p ≥ threshold` are edges; without `strict` the clusters are the connected components
//! (union-find with path compression). With `strict = Some(s)` (anti-chaining) the edges are
//! merged in descending probability order (ties by `(min, max)` record index) and two
//! clusters are joined only if **no scored pair between them has `p < s`**: a pair scored
//! as a clear non-match vetoes the chain `a–b–c` that would otherwise put it in one cluster.
//! Only scored pairs vote; an unscored pair is unknown, not a veto.
//!
//! Cluster ids are dense, `0..count`, numbered in the order of each cluster's smallest
//! record index, so they depend neither on the order of the pairs nor on the thread count.
//!
//! [`golden_records`] picks one value per field per cluster by a [`Survivorship`] rule.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Clustering options.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClusterOptions {
    /// Pairs with a probability at or above it are matches (edges).
    pub threshold: f64,
    /// Anti-chaining: two clusters are not joined when a scored pair between them is below it.
    pub strict: Option<f64>,
}

impl Default for ClusterOptions {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            strict: None,
        }
    }
}

/// Clusters of records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clusters {
    /// The cluster id of each record.
    pub of: Vec<u32>,
    /// Number of clusters (singletons included).
    pub count: usize,
    /// Records per cluster, by id.
    pub sizes: Vec<u32>,
    /// Merges refused by the anti-chaining rule (0 without it).
    pub refused: u64,
}

impl Clusters {
    /// The records of each cluster, by id, each in increasing record order.
    pub fn members(&self) -> Vec<Vec<u32>> {
        let mut m: Vec<Vec<u32>> = self
            .sizes
            .iter()
            .map(|&s| Vec::with_capacity(s as usize))
            .collect();
        for (r, &c) in self.of.iter().enumerate() {
            m[c as usize].push(r as u32);
        }
        m
    }
}

struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        Self {
            parent: (0..n as u32).collect(),
            size: vec![1; n],
        }
    }

    fn find(&mut self, mut x: u32) -> u32 {
        let mut root = x;
        while self.parent[root as usize] != root {
            root = self.parent[root as usize];
        }
        // Path compression: every node on the way points at the root.
        while self.parent[x as usize] != root {
            let next = self.parent[x as usize];
            self.parent[x as usize] = root;
            x = next;
        }
        root
    }

    /// Joins the two roots; returns (new root, absorbed root).
    fn union_roots(&mut self, a: u32, b: u32) -> (u32, u32) {
        let (big, small) = if self.size[a as usize] >= self.size[b as usize] {
            (a, b)
        } else {
            (b, a)
        };
        self.parent[small as usize] = big;
        self.size[big as usize] += self.size[small as usize];
        (big, small)
    }
}

fn check_probability(name: &'static str, p: f64) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::InvalidOption {
            option: name,
            value: p.to_string(),
            allowed: "a probability in [0, 1]".into(),
        })
    }
}

impl ClusterOptions {
    /// Clusters matches at or above `threshold`.
    pub fn new(threshold: f64) -> Self {
        Self {
            threshold,
            strict: None,
        }
    }

    /// With anti-chaining at `strict` (see the module documentation).
    pub fn strict(mut self, strict: f64) -> Self {
        self.strict = Some(strict);
        self
    }

    /// Clusters `n` records from scored pairs `(i, j, probability)`.
    pub fn compute(&self, n: usize, pairs: &[(u32, u32, f64)]) -> Result<Clusters> {
        check_probability("threshold", self.threshold)?;
        if let Some(s) = self.strict {
            check_probability("strict", s)?;
        }
        if n > u32::MAX as usize {
            return Err(Error::InvalidOption {
                option: "n",
                value: n.to_string(),
                allowed: "at most 4,294,967,295 records".into(),
            });
        }
        if let Some((row, &(i, j, p))) =
            pairs.par_iter().enumerate().find_first(|(_, &(i, j, p))| {
                i as usize >= n || j as usize >= n || i == j || !(0.0..=1.0).contains(&p)
            })
        {
            return Err(Error::BadValue {
                input: "pairs".into(),
                row,
                field: "(i, j, probability)".into(),
                value: format!("({i}, {j}, {p})"),
                expected: format!("two different records below {n} and a probability in [0, 1]"),
            });
        }
        let mut uf = UnionFind::new(n);
        let mut refused = 0u64;
        match self.strict {
            None => {
                for &(i, j, p) in pairs {
                    if p >= self.threshold {
                        let (a, b) = (uf.find(i), uf.find(j));
                        if a != b {
                            uf.union_roots(a, b);
                        }
                    }
                }
            }
            Some(s) => {
                let mut edges: Vec<(f64, u32, u32)> = pairs
                    .par_iter()
                    .filter(|e| e.2 >= self.threshold)
                    .map(|&(i, j, p)| (p, i.min(j), i.max(j)))
                    .collect();
                edges.par_sort_unstable_by(|x, y| {
                    y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2))
                });
                // Weak pairs (p < s), kept per root; lists merged small into large.
                let mut weak: Vec<Vec<u32>> = vec![Vec::new(); n];
                for &(i, j, p) in pairs {
                    if p < s {
                        weak[i as usize].push(j);
                        weak[j as usize].push(i);
                    }
                }
                for &(_, i, j) in &edges {
                    let (a, b) = (uf.find(i), uf.find(j));
                    if a == b {
                        continue;
                    }
                    // Scan the shorter weak list for a member of the other cluster.
                    let (scan, other) = if weak[a as usize].len() <= weak[b as usize].len() {
                        (a, b)
                    } else {
                        (b, a)
                    };
                    let list = std::mem::take(&mut weak[scan as usize]);
                    let veto = list.iter().any(|&x| uf.find(x) == other);
                    weak[scan as usize] = list;
                    if veto {
                        refused += 1;
                        continue;
                    }
                    let (root, gone) = uf.union_roots(a, b);
                    let mut moved = std::mem::take(&mut weak[gone as usize]);
                    let keep = &mut weak[root as usize];
                    if keep.len() < moved.len() {
                        std::mem::swap(keep, &mut moved);
                    }
                    keep.extend(moved);
                }
            }
        }
        // Dense ids in the order of each cluster's smallest record.
        let mut id_of_root = vec![u32::MAX; n];
        let mut of = Vec::with_capacity(n);
        let mut sizes: Vec<u32> = Vec::new();
        for r in 0..n as u32 {
            let root = uf.find(r) as usize;
            if id_of_root[root] == u32::MAX {
                id_of_root[root] = sizes.len() as u32;
                sizes.push(0);
            }
            let id = id_of_root[root];
            sizes[id as usize] += 1;
            of.push(id);
        }
        Ok(Clusters {
            count: sizes.len(),
            of,
            sizes,
            refused,
        })
    }
}

/// How the golden record's value of a field is chosen among a cluster's records. Missing
/// values never win; when no record of the cluster holds a value the field is missing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Survivorship {
    /// The value of the record with the latest date (normalised `YYYYMMDD`, anything else
    /// is an error);
    /// records without a date come after all dated ones; ties (and a cluster without
    /// dates) fall back to [`Survivorship::MostFrequent`] among the tied records.
    MostRecent,
    /// The value held by most records; ties go to the value whose first holder has the
    /// smallest record index.
    MostFrequent,
    /// The value with most whitespace-separated tokens, then most characters; ties go to
    /// the most frequent of them, then to the smallest record index.
    MostComplete,
    /// The value of the record whose source comes first in the order; sources not listed
    /// come after all listed ones; ties (same source) fall back to
    /// [`Survivorship::MostFrequent`] among them.
    SourcePriority(Vec<String>),
}

/// One field of the golden record: its values per record and its rule.
#[derive(Debug, Clone, Copy)]
pub struct GoldenField<'a> {
    /// The field's value per record (raw or normalised).
    pub values: &'a [Option<Box<str>>],
    /// The survivorship rule.
    pub rule: &'a Survivorship,
}

/// Golden records: per cluster (by id), per field, the chosen value and its record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GoldenRecords {
    /// `values[cluster][field]`.
    pub values: Vec<Vec<Option<Box<str>>>>,
    /// `from[cluster][field]`: the record the value was taken from.
    pub from: Vec<Vec<Option<u32>>>,
}

/// Among candidate records (increasing order) holding a value, the most frequent value's
/// first holder (ties to the smallest record index).
fn most_frequent(values: &[Option<Box<str>>], cands: &[u32]) -> Option<u32> {
    let mut best: Option<(usize, u32)> = None;
    for (t, &r) in cands.iter().enumerate() {
        let v = values[r as usize].as_deref();
        // Only the first holder of each value counts it.
        if cands[..t]
            .iter()
            .any(|&q| values[q as usize].as_deref() == v)
        {
            continue;
        }
        let c = cands[t..]
            .iter()
            .filter(|&&q| values[q as usize].as_deref() == v)
            .count();
        if best.map_or(true, |(bc, _)| c > bc) {
            best = Some((c, r));
        }
    }
    best.map(|b| b.1)
}

/// The golden record of every cluster. `dates` (per record, `YYYYMMDD`) is needed by
/// [`Survivorship::MostRecent`], `sources` (per record) by [`Survivorship::SourcePriority`].
pub fn golden_records(
    clusters: &Clusters,
    fields: &[GoldenField<'_>],
    dates: Option<&[Option<Box<str>>]>,
    sources: Option<&[Box<str>]>,
) -> Result<GoldenRecords> {
    let n = clusters.of.len();
    for f in fields {
        if f.values.len() != n {
            return Err(Error::LengthMismatch {
                input: "golden field values",
                found: f.values.len(),
                expected: n,
                against: "clustered records",
            });
        }
        match f.rule {
            Survivorship::MostRecent if dates.is_none() => {
                return Err(Error::InvalidOption {
                    option: "dates",
                    value: "none".into(),
                    allowed: "a date per record for MostRecent".into(),
                })
            }
            Survivorship::SourcePriority(_) if sources.is_none() => {
                return Err(Error::InvalidOption {
                    option: "sources",
                    value: "none".into(),
                    allowed: "a source per record for SourcePriority".into(),
                })
            }
            _ => {}
        }
    }
    if let Some(d) = dates {
        if d.len() != n {
            return Err(Error::LengthMismatch {
                input: "dates",
                found: d.len(),
                expected: n,
                against: "clustered records",
            });
        }
        // Dates rank as numbers: anything but eight digits would rank silently wrong.
        if let Some((row, v)) = d.iter().enumerate().find_map(|(r, x)| {
            x.as_deref()
                .filter(|v| v.len() != 8 || !v.bytes().all(|b| b.is_ascii_digit()))
                .map(|v| (r, v))
        }) {
            return Err(Error::BadValue {
                input: "dates".into(),
                row,
                field: "date".into(),
                value: v.to_string(),
                expected: "a normalised date YYYYMMDD".into(),
            });
        }
    }
    if let Some(s) = sources {
        if s.len() != n {
            return Err(Error::LengthMismatch {
                input: "sources",
                found: s.len(),
                expected: n,
                against: "clustered records",
            });
        }
    }
    let members = clusters.members();
    let picked: Vec<Vec<Option<u32>>> = members
        .par_iter()
        .map(|m| {
            fields
                .iter()
                .map(|f| {
                    let holders: Vec<u32> = m
                        .iter()
                        .copied()
                        .filter(|&r| f.values[r as usize].is_some())
                        .collect();
                    if holders.is_empty() {
                        return None;
                    }
                    let best_by = |rank: &dyn Fn(u32) -> (u64, u64)| {
                        let top = holders.iter().map(|&r| rank(r)).max()?;
                        let tied: Vec<u32> = holders
                            .iter()
                            .copied()
                            .filter(|&r| rank(r) == top)
                            .collect();
                        most_frequent(f.values, &tied)
                    };
                    match f.rule {
                        Survivorship::MostFrequent => most_frequent(f.values, &holders),
                        Survivorship::MostRecent => {
                            let d = dates.unwrap_or(&[]);
                            best_by(&|r| match d.get(r as usize).and_then(|x| x.as_deref()) {
                                // Dated records rank above undated ones; later dates higher.
                                Some(s) => (1, s.parse::<u64>().unwrap_or(0)),
                                None => (0, 0),
                            })
                        }
                        Survivorship::MostComplete => best_by(&|r| {
                            let v = f.values[r as usize].as_deref().unwrap_or("");
                            (
                                v.split_whitespace().count() as u64,
                                v.chars().count() as u64,
                            )
                        }),
                        Survivorship::SourcePriority(order) => {
                            let s = sources.unwrap_or(&[]);
                            best_by(&|r| {
                                let pos = s
                                    .get(r as usize)
                                    .and_then(|x| order.iter().position(|o| **o == **x))
                                    .unwrap_or(order.len());
                                (u64::MAX - pos as u64, 0)
                            })
                        }
                    }
                })
                .collect()
        })
        .collect();
    let values = picked
        .iter()
        .map(|row| {
            row.iter()
                .zip(fields)
                .map(|(p, f)| p.and_then(|r| f.values[r as usize].clone()))
                .collect()
        })
        .collect();
    Ok(GoldenRecords {
        values,
        from: picked,
    })
}
