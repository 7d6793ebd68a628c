//! Frequent itemsets by FP-growth (Han, Pei & Yin 2000).
//!
//! The FP-tree is three flat arrays (item, parent, count) with nodes in depth-first order,
//! built without child lookups: the paths are sorted, so paths that share a prefix are
//! neighbours and each one adds only the nodes past its common prefix with the previous
//! one. Conditional trees are built the same way from the prefix paths of an item's nodes,
//! with items re-ranked by their conditional frequency. The conditional trees of the
//! top-level items are mined in parallel; all counts are integers, and the output is
//! sorted at the end, so results do not depend on the thread count.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::data::{Area, Baskets, Interner, ScopeTag};
use crate::error::{Error, Result};

const NONE: u32 = u32::MAX;

/// The minimum support of a frequent itemset.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum MinSupport {
    /// A share of the baskets in (0, 1]: an itemset is frequent when count / baskets is
    /// at least this (compared as floating-point numbers, as mlxtend does).
    Fraction(f64),
    /// A number of baskets (≥ 1).
    Count(u64),
}

/// Settings of an FP-growth run: the minimum support (default 1% of baskets) and an
/// optional maximum itemset length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct FpGrowthOptions {
    min_support: MinSupport,
    max_len: Option<usize>,
    #[serde(default = "default_max_itemsets")]
    max_itemsets: u64,
}

/// Default budget of frequent itemsets: 20 million take about 2 GB while they are sorted,
/// a tenth of a 24 GiB machine, and are far more than any report reads.
pub const DEFAULT_MAX_ITEMSETS: u64 = 20_000_000;

fn default_max_itemsets() -> u64 {
    DEFAULT_MAX_ITEMSETS
}

impl Default for FpGrowthOptions {
    fn default() -> Self {
        FpGrowthOptions {
            min_support: MinSupport::Fraction(0.01),
            max_len: None,
            max_itemsets: DEFAULT_MAX_ITEMSETS,
        }
    }
}

/// Frequent itemsets with their basket counts, sorted by length, then count (descending),
/// then item ids. Items within an itemset are sorted ascending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Itemsets {
    scope: ScopeTag,
    items: Interner,
    baskets: u64,
    min_count: u64,
    offsets: Vec<usize>,
    data: Vec<u32>,
    counts: Vec<u64>,
}

/// One frequent itemset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Itemset<'a> {
    /// Sorted item ids.
    pub items: &'a [u32],
    /// Baskets holding every item.
    pub count: u64,
    /// count / baskets.
    pub support: f64,
}

impl FpGrowthOptions {
    /// Defaults: minimum support 1%, no length limit.
    pub fn new() -> Self {
        Self::default()
    }

    /// Minimum support as a share of baskets, in (0, 1].
    pub fn min_support(mut self, fraction: f64) -> Self {
        self.min_support = MinSupport::Fraction(fraction);
        self
    }

    /// Minimum support as a number of baskets (≥ 1).
    pub fn min_count(mut self, count: u64) -> Self {
        self.min_support = MinSupport::Count(count);
        self
    }

    /// Longest itemset to report (≥ 1).
    pub fn max_len(mut self, len: usize) -> Self {
        self.max_len = Some(len);
        self
    }

    /// The most frequent itemsets to find (default [`DEFAULT_MAX_ITEMSETS`]); past it the
    /// mining stops with [`Error::Budget`]. A low support on long baskets can otherwise
    /// have more itemsets than memory holds (2⁴⁰ subsets of one 40-item basket).
    pub fn max_itemsets(mut self, n: u64) -> Self {
        self.max_itemsets = n;
        self
    }

    /// The smallest basket count that meets the minimum support among `n` baskets.
    fn threshold(&self, n: u64) -> Result<u64> {
        match self.min_support {
            MinSupport::Fraction(s) if s > 0.0 && s <= 1.0 => {
                // The smallest c with c / n ≥ s in floating point: start from ⌈s n⌉ and
                // step past rounding either way.
                let mut c = (s * n as f64).ceil().max(1.0) as u64;
                while c > 1 && (c - 1) as f64 / n as f64 >= s {
                    c -= 1;
                }
                while (c as f64 / n as f64) < s {
                    c += 1;
                }
                Ok(c)
            }
            MinSupport::Count(c) if c >= 1 => Ok(c),
            other => Err(Error::option(
                "min_support",
                format!("{other:?}"),
                "a fraction in (0, 1] or a count ≥ 1",
            )),
        }
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a minimum support outside its range, a maximum
    /// length of 0 or a budget of 0 itemsets.
    pub fn validate(&self) -> Result<()> {
        self.threshold(1)?;
        if self.max_itemsets == 0 {
            return Err(Error::option(
                "max_itemsets",
                0,
                "a budget of at least 1 itemset",
            ));
        }
        if self.max_len == Some(0) {
            return Err(Error::option("max_len", 0, "a maximum itemset length ≥ 1"));
        }
        Ok(())
    }

    /// All itemsets whose support meets the minimum.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::ForbiddenArea`] when the baskets' scope
    /// forbids product analysis; [`Error::InvalidOption`] for more than `u32::MAX`
    /// baskets (node counts are `u32`); [`Error::Budget`] for more frequent itemsets
    /// than [`max_itemsets`](Self::max_itemsets), whichever the thread count.
    pub fn compute(&self, baskets: &Baskets) -> Result<Itemsets> {
        self.validate()?;
        baskets.scope().require(Area::Product)?;
        let n = baskets.len();
        if u32::try_from(n).is_err() {
            return Err(Error::option(
                "baskets",
                format!("{n} baskets"),
                format!("at most {} baskets (node counts are u32)", u32::MAX),
            ));
        }
        let min_count = self.threshold(n as u64)?;
        let max_len = match self.max_len {
            Some(0) => return Err(Error::option("max_len", 0, "a maximum itemset length ≥ 1")),
            Some(l) => l,
            None => usize::MAX,
        };
        let empty = || Itemsets {
            scope: baskets.scope().clone(),
            items: baskets.items().clone(),
            baskets: n as u64,
            min_count,
            offsets: vec![0],
            data: Vec::new(),
            counts: Vec::new(),
        };
        let Ok(min) = u32::try_from(min_count) else {
            return Ok(empty());
        };
        let top = top_tree(baskets, min);
        if top.labels.is_empty() {
            return Ok(empty());
        }
        let miner = Miner {
            min,
            max_len,
            budget: self.max_itemsets,
            counted: AtomicU64::new(0),
            stop: AtomicBool::new(false),
        };
        let parts: Vec<Found> = (0..top.labels.len())
            .into_par_iter()
            .map_init(Scratch::default, |scratch, r| {
                let mut found = Found::default();
                let mut suffix = vec![top.labels[r]];
                miner.grow(&top, r, 0, &mut suffix, &mut found, scratch);
                found
            })
            .collect();
        // Workers stop early once their flushed counts pass the budget, which implies the
        // total does; the exact total decides, so the outcome is the same on any thread
        // count.
        let total: u64 = parts.iter().map(|f| f.lens.len() as u64).sum();
        if miner.stop.load(Ordering::Relaxed) || total > self.max_itemsets {
            return Err(Error::Budget {
                what: "frequent itemsets",
                limit: self.max_itemsets,
                advice: format!(
                    "raise the minimum support (now {min_count} of {n} baskets) or set a maximum \
                     itemset length{}",
                    match self.max_len {
                        Some(l) => format!(" below {l}"),
                        None => String::new(),
                    }
                ),
            });
        }
        Ok(assemble(empty(), parts))
    }
}

/// Itemsets found by one worker: lengths, items (concatenated) and counts.
#[derive(Default)]
struct Found {
    lens: Vec<u32>,
    items: Vec<u32>,
    counts: Vec<u32>,
}

impl Found {
    fn emit(&mut self, items: &[u32], count: u32) {
        self.lens.push(items.len() as u32);
        self.items.extend_from_slice(items);
        self.counts.push(count);
    }
}

/// Sorts every itemset's items and the itemsets into the documented order.
fn assemble(mut out: Itemsets, parts: Vec<Found>) -> Itemsets {
    let total: usize = parts.iter().map(|f| f.lens.len()).sum();
    let mut sets: Vec<(Vec<u32>, u32)> = Vec::with_capacity(total);
    for f in parts {
        let mut at = 0;
        for (&len, &count) in f.lens.iter().zip(&f.counts) {
            let mut items = f.items[at..at + len as usize].to_vec();
            items.sort_unstable();
            sets.push((items, count));
            at += len as usize;
        }
    }
    sets.par_sort_unstable_by(|a, b| {
        a.0.len()
            .cmp(&b.0.len())
            .then(b.1.cmp(&a.1))
            .then_with(|| a.0.cmp(&b.0))
    });
    out.offsets.reserve(sets.len());
    for (items, count) in sets {
        out.data.extend_from_slice(&items);
        out.offsets.push(out.data.len());
        out.counts.push(u64::from(count));
    }
    out
}

/// An FP-tree over local item ranks 0..k (rank order = descending frequency in the
/// database the tree holds); every root-to-leaf path has increasing ranks.
#[derive(Default)]
struct Tree {
    /// Item id of each local rank.
    labels: Vec<u32>,
    /// Count of each local rank in this tree's database.
    support: Vec<u32>,
    item: Vec<u32>,
    parent: Vec<u32>,
    count: Vec<u32>,
    /// Nodes of each rank (compressed rows, nodes in tree order).
    head_offsets: Vec<usize>,
    head: Vec<u32>,
}

impl Tree {
    /// Rebuilds this tree (keeping its allocations: conditional trees are built by the
    /// thousand, and fresh large buffers cost page faults) from weighted paths
    /// (`paths[i]`: start and length in `buf`, weight), each path's ranks ascending, over
    /// `labels.len()` ranks. Sorts `paths`; `labels` and `support` must be set already.
    fn build(&mut self, buf: &[u32], paths: &mut [Path]) {
        let key = |p: &Path| &buf[p.start..p.start + p.len as usize];
        if paths.len() > 50_000 {
            paths.par_sort_unstable_by(|a, b| key(a).cmp(key(b)));
        } else {
            paths.sort_unstable_by(|a, b| key(a).cmp(key(b)));
        }
        let Tree {
            labels,
            item,
            parent,
            count,
            head_offsets,
            head,
            ..
        } = self;
        item.clear();
        parent.clear();
        count.clear();
        let mut stack: Vec<u32> = Vec::new();
        let mut prev: &[u32] = &[];
        for p in paths.iter() {
            let path = key(p);
            let lcp = prev.iter().zip(path).take_while(|(a, b)| a == b).count();
            stack.truncate(lcp);
            for &node in &stack {
                count[node as usize] += p.weight;
            }
            for &it in &path[lcp..] {
                let id = item.len() as u32;
                item.push(it);
                parent.push(stack.last().copied().unwrap_or(NONE));
                count.push(p.weight);
                stack.push(id);
            }
            prev = path;
        }
        let k = labels.len();
        head_offsets.clear();
        head_offsets.resize(k + 1, 0);
        for &it in item.iter() {
            head_offsets[it as usize + 1] += 1;
        }
        for r in 0..k {
            head_offsets[r + 1] += head_offsets[r];
        }
        head.clear();
        head.resize(item.len(), 0);
        // Fill from the back of each rank's run, nodes taken in reverse: tree order.
        let mut fill = head_offsets[1..].to_vec();
        for (node, &it) in item.iter().enumerate().rev() {
            fill[it as usize] -= 1;
            head[fill[it as usize]] = node as u32;
        }
    }

    fn nodes_of(&self, rank: usize) -> &[u32] {
        &self.head[self.head_offsets[rank]..self.head_offsets[rank + 1]]
    }

    /// Nodes in depth-first order form one chain.
    fn single_path(&self) -> bool {
        self.parent
            .iter()
            .enumerate()
            .all(|(i, &p)| p == if i == 0 { NONE } else { i as u32 - 1 })
    }
}

/// A weighted path: `len` ranks from `start` of a buffer.
#[derive(Clone, Copy)]
struct Path {
    start: usize,
    len: u32,
    weight: u32,
}

/// The FP-tree of all baskets: frequent items ranked by count (descending, then item id).
fn top_tree(baskets: &Baskets, min: u32) -> Tree {
    let (offsets, data) = baskets.parts();
    let n_items = baskets.items().len();
    let n = offsets.len() - 1;
    let chunk = (n / (rayon::current_num_threads() * 8)).max(4096);
    let starts: Vec<usize> = (0..n).step_by(chunk).collect();
    // Integer counts: the order of the additions cannot change them.
    let counts = starts
        .par_iter()
        .map(|&s| {
            let mut c = vec![0u32; n_items];
            for &i in &data[offsets[s]..offsets[(s + chunk).min(n)]] {
                c[i as usize] += 1;
            }
            c
        })
        .reduce(
            || vec![0u32; n_items],
            |mut a, b| {
                a.iter_mut().zip(&b).for_each(|(x, y)| *x += y);
                a
            },
        );
    let mut frequent: Vec<u32> = (0..n_items as u32)
        .filter(|&i| counts[i as usize] >= min)
        .collect();
    frequent.sort_unstable_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
    let mut rank = vec![NONE; n_items];
    for (r, &i) in frequent.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    let pieces: Vec<(Vec<u32>, Vec<Path>)> = starts
        .par_iter()
        .map(|&s| {
            let (mut buf, mut paths) = (Vec::new(), Vec::new());
            for b in s..(s + chunk).min(n) {
                let start = buf.len();
                buf.extend(
                    data[offsets[b]..offsets[b + 1]]
                        .iter()
                        .map(|&i| rank[i as usize])
                        .filter(|&r| r != NONE),
                );
                buf[start..].sort_unstable();
                if buf.len() > start {
                    paths.push(Path {
                        start,
                        len: (buf.len() - start) as u32,
                        weight: 1,
                    });
                }
            }
            (buf, paths)
        })
        .collect();
    let mut buf = Vec::with_capacity(pieces.iter().map(|p| p.0.len()).sum());
    let mut paths = Vec::with_capacity(pieces.iter().map(|p| p.1.len()).sum());
    for (b, ps) in pieces {
        let shift = buf.len();
        buf.extend_from_slice(&b);
        paths.extend(ps.into_iter().map(|p| Path {
            start: p.start + shift,
            ..p
        }));
    }
    let mut tree = Tree {
        support: frequent.iter().map(|&i| counts[i as usize]).collect(),
        labels: frequent,
        ..Tree::default()
    };
    tree.build(&buf, &mut paths);
    tree
}

struct Miner {
    min: u32,
    max_len: usize,
    /// The itemset budget, the itemsets counted so far (flushed in batches of
    /// [`FLUSH`]), and whether the budget is known to be exceeded.
    budget: u64,
    counted: AtomicU64,
    stop: AtomicBool,
}

/// Itemsets a worker finds between two additions to the shared count: rare enough that
/// the atomic costs nothing, small next to any budget.
const FLUSH: usize = 4096;

/// Buffers a worker reuses: one conditional tree per recursion depth, and the path
/// buffers and counters of a conditional build.
#[derive(Default)]
struct Scratch {
    trees: Vec<Tree>,
    buf: Vec<u32>,
    paths: Vec<Path>,
    counts: Vec<u32>,
    local: Vec<u32>,
}

impl Miner {
    /// Emits `suffix` (ending with the item of `rank` in `tree`) and everything that
    /// grows from it in the conditional tree of `rank`; `depth` picks the scratch tree.
    fn grow(
        &self,
        tree: &Tree,
        rank: usize,
        depth: usize,
        suffix: &mut Vec<u32>,
        found: &mut Found,
        scratch: &mut Scratch,
    ) {
        if !self.emit(found, suffix, tree.support[rank]) || suffix.len() >= self.max_len {
            return;
        }
        if scratch.trees.len() <= depth {
            scratch.trees.resize_with(depth + 1, Tree::default);
        }
        // Taken out for the recursion (which uses deeper trees), put back after.
        let mut cond = std::mem::take(&mut scratch.trees[depth]);
        if self.conditional(tree, rank, &mut cond, scratch) {
            if cond.single_path() {
                self.chain(&cond, 0, suffix, found);
            } else {
                for r in 0..cond.labels.len() {
                    suffix.push(cond.labels[r]);
                    self.grow(&cond, r, depth + 1, suffix, found, scratch);
                    suffix.pop();
                }
            }
        }
        scratch.trees[depth] = cond;
    }

    /// Every non-empty subset of a single-path tree's nodes from `from` on, added to
    /// `suffix`: its count is the count of its deepest node.
    fn chain(&self, tree: &Tree, from: usize, suffix: &mut Vec<u32>, found: &mut Found) {
        if suffix.len() >= self.max_len {
            return;
        }
        for node in from..tree.item.len() {
            suffix.push(tree.labels[tree.item[node] as usize]);
            if self.emit(found, suffix, tree.count[node]) {
                self.chain(tree, node + 1, suffix, found);
            }
            suffix.pop();
        }
    }

    /// Emits one itemset; false once the budget is known to be exceeded.
    fn emit(&self, found: &mut Found, items: &[u32], count: u32) -> bool {
        if self.stop.load(Ordering::Relaxed) {
            return false;
        }
        found.emit(items, count);
        if found.lens.len() % FLUSH == 0
            && self.counted.fetch_add(FLUSH as u64, Ordering::Relaxed) + FLUSH as u64 > self.budget
        {
            self.stop.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Builds into `out` the conditional FP-tree of `rank`: the prefix paths of its nodes,
    /// weighted by the nodes' counts, keeping only items frequent among them. False when
    /// none is.
    fn conditional(&self, tree: &Tree, rank: usize, out: &mut Tree, scratch: &mut Scratch) -> bool {
        let nodes = tree.nodes_of(rank);
        let Scratch {
            buf,
            paths,
            counts,
            local,
            ..
        } = scratch;
        buf.clear();
        paths.clear();
        // Ancestors of a node have smaller ranks. One walk per node: the raw prefix goes
        // to the buffer while its items are counted.
        counts.clear();
        counts.resize(rank, 0);
        for &node in nodes {
            let w = tree.count[node as usize];
            let start = buf.len();
            let mut a = tree.parent[node as usize];
            while a != NONE {
                let it = tree.item[a as usize];
                counts[it as usize] += w;
                buf.push(it);
                a = tree.parent[a as usize];
            }
            if buf.len() > start {
                paths.push(Path {
                    start,
                    len: (buf.len() - start) as u32,
                    weight: w,
                });
            }
        }
        out.labels.clear();
        out.labels
            .extend((0..rank as u32).filter(|&r| counts[r as usize] >= self.min));
        if out.labels.is_empty() {
            return false;
        }
        out.labels
            .sort_unstable_by(|&a, &b| counts[b as usize].cmp(&counts[a as usize]).then(a.cmp(&b)));
        local.clear();
        local.resize(rank, NONE);
        for (k, &r) in out.labels.iter().enumerate() {
            local[r as usize] = k as u32;
        }
        out.support.clear();
        out.support
            .extend(out.labels.iter().map(|&r| counts[r as usize]));
        for l in out.labels.iter_mut() {
            *l = tree.labels[*l as usize];
        }
        // Keep the frequent items of each prefix, in local ranks, sorted; compact in place
        // (writes never pass reads).
        let mut write = 0;
        let mut kept = 0;
        for k in 0..paths.len() {
            let p = paths[k];
            let start = write;
            for j in p.start..p.start + p.len as usize {
                let l = local[buf[j] as usize];
                if l != NONE {
                    buf[write] = l;
                    write += 1;
                }
            }
            if write > start {
                buf[start..write].sort_unstable();
                paths[kept] = Path {
                    start,
                    len: (write - start) as u32,
                    weight: p.weight,
                };
                kept += 1;
            }
        }
        paths.truncate(kept);
        out.build(buf, paths);
        true
    }
}

impl Itemsets {
    /// The scope of the baskets the itemsets were mined from.
    pub fn scope(&self) -> &ScopeTag {
        &self.scope
    }

    /// Number of frequent itemsets.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    /// Whether no itemset is frequent.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// Number of baskets mined (the support denominator).
    pub fn baskets(&self) -> u64 {
        self.baskets
    }

    /// The smallest count that met the minimum support.
    pub fn min_count(&self) -> u64 {
        self.min_count
    }

    /// Item names; item ids index them.
    pub fn items(&self) -> &Interner {
        &self.items
    }

    /// Itemset `i`.
    ///
    /// # Panics
    /// If `i >= self.len()`.
    pub fn get(&self, i: usize) -> Itemset<'_> {
        Itemset {
            items: &self.data[self.offsets[i]..self.offsets[i + 1]],
            count: self.counts[i],
            support: self.counts[i] as f64 / self.baskets as f64,
        }
    }

    /// Iterates over the itemsets in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Itemset<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The names of an itemset's items.
    pub fn names<'a>(&'a self, items: &'a [u32]) -> impl Iterator<Item = &'a str> + 'a {
        items.iter().map(|&i| self.items.name(i as usize))
    }
}
