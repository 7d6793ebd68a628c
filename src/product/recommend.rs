//! Cross-sell: for a customer, the items not yet bought that association rules or
//! co-purchase neighbours point to, each with the rule or neighbour behind it.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::rules::Rules;
use crate::data::{Area, CustomerItems, Interner, Rows};
use crate::error::{Error, Result};
use crate::numerics::Fitted;

/// How a rule's strength is scored for ranking its consequents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RuleScore {
    /// Confidence.
    Confidence,
    /// Lift.
    Lift,
    /// Confidence × lift (default): likely, and more likely than without the antecedent.
    #[default]
    ConfidenceTimesLift,
}

/// Where recommendations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum CrossSellMethod {
    /// Association rules whose antecedent the customer has bought.
    Rules,
    /// Items most similar (cosine over buyers) to ones the customer has bought.
    CoPurchase,
    /// Rules first, then co-purchase neighbours for the places rules leave empty
    /// (default).
    #[default]
    RulesThenCoPurchase,
}

/// Why an item is recommended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Reason {
    /// An association rule the customer's purchases satisfy.
    Rule {
        /// Index of the rule in [`Rules::as_slice`].
        rule: usize,
        /// The rule's antecedent (item ids).
        antecedent: Vec<u32>,
        /// The rule's consequent (item ids).
        consequent: Vec<u32>,
        /// The rule's confidence.
        confidence: f64,
        /// The rule's lift.
        lift: f64,
    },
    /// A bought item that the recommended one is often bought with.
    Neighbour {
        /// The bought item (id).
        item: u32,
        /// Cosine similarity of the two items over customers.
        cosine: f64,
    },
}

/// One recommended item with its score (the rule score or the cosine) and reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Item id.
    pub item: u32,
    /// Rule score or cosine, by [`Reason`].
    pub score: f64,
    /// The rule or neighbour behind it.
    pub reason: Reason,
}

/// Item-item co-purchase similarity: for each item, its most similar items by cosine over
/// customers, n_ij / √(n_i n_j) (n_i: customers who bought i; n_ij: who bought both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoPurchase {
    items: Interner,
    buyers: Vec<u64>,
    offsets: Vec<usize>,
    neighbour: Vec<u32>,
    cosine: Vec<f64>,
}

/// Settings of item-item co-purchase neighbours: how many per item (default 20) and the
/// fewest customers two items must share (default 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoPurchaseOptions {
    k: usize,
    min_common: u64,
}

impl Default for CoPurchaseOptions {
    fn default() -> Self {
        CoPurchaseOptions {
            k: 20,
            min_common: 5,
        }
    }
}

/// One neighbour of an item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    /// The neighbouring item.
    pub item: u32,
    /// Cosine of the two items' customer sets.
    pub cosine: f64,
}

impl CoPurchaseOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Neighbours per item (≥ 1).
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// Fewest customers in common (≥ 1).
    pub fn min_common(mut self, n: u64) -> Self {
        self.min_common = n;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] (option `k` or `min_common`) when either is 0.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(Error::option("k", 0, "at least 1 neighbour per item"));
        }
        if self.min_common == 0 {
            return Err(Error::option(
                "min_common",
                0,
                "at least 1 customer in common",
            ));
        }
        Ok(())
    }

    /// The `k` nearest neighbours of every item (cosine descending, then item id), among
    /// items bought together by at least `min_common` customers. Items in parallel.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::ForbiddenArea`] when the customers'
    /// scope forbids product analysis.
    pub fn compute(&self, customers: &CustomerItems) -> Result<CoPurchase> {
        self.validate()?;
        customers.rows().scope().require(Area::Product)?;
        let (k, min_common) = (self.k, self.min_common);
        let n_items = customers.items().len();
        // Inverted index: the customers of each item.
        let mut buyers = vec![0u64; n_items];
        for c in 0..customers.len() {
            for &i in customers.of(c) {
                buyers[i as usize] += 1;
            }
        }
        let mut starts = vec![0usize; n_items + 1];
        for i in 0..n_items {
            starts[i + 1] = starts[i] + buyers[i] as usize;
        }
        let mut fill = starts.clone();
        let mut who = vec![0u32; starts[n_items]];
        for c in 0..customers.len() {
            for &i in customers.of(c) {
                who[fill[i as usize]] = c as u32;
                fill[i as usize] += 1;
            }
        }
        let lists: Vec<Vec<(u32, f64)>> = (0..n_items)
            .into_par_iter()
            .map_init(
                || (vec![0u64; n_items], Vec::new()),
                |(common, touched), i| {
                    for &c in &who[starts[i]..starts[i + 1]] {
                        for &j in customers.of(c as usize) {
                            if j as usize != i {
                                if common[j as usize] == 0 {
                                    touched.push(j);
                                }
                                common[j as usize] += 1;
                            }
                        }
                    }
                    let mut near: Vec<(u32, f64)> = touched
                        .iter()
                        .filter(|&&j| common[j as usize] >= min_common)
                        .map(|&j| {
                            let n = (buyers[i] as f64 * buyers[j as usize] as f64).sqrt();
                            (j, common[j as usize] as f64 / n)
                        })
                        .collect();
                    for &j in touched.iter() {
                        common[j as usize] = 0;
                    }
                    touched.clear();
                    near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                    near.truncate(k);
                    near
                },
            )
            .collect();
        let mut offsets = vec![0];
        let (mut neighbour, mut cosine) = (Vec::new(), Vec::new());
        for l in lists {
            for (j, c) in l {
                neighbour.push(j);
                cosine.push(c);
            }
            offsets.push(neighbour.len());
        }
        Ok(CoPurchase {
            items: customers.items().clone(),
            buyers,
            offsets,
            neighbour,
            cosine,
        })
    }
}

impl CoPurchase {
    /// Item names.
    pub fn items(&self) -> &Interner {
        &self.items
    }

    /// Customers who bought item `i`.
    pub fn buyers(&self, i: u32) -> u64 {
        self.buyers[i as usize]
    }

    /// The neighbours of item `i` with their cosines, most similar first.
    ///
    /// # Panics
    /// If `i` is not an item id.
    pub fn neighbours(&self, i: u32) -> impl Iterator<Item = Neighbour> + '_ {
        let r = self.offsets[i as usize]..self.offsets[i as usize + 1];
        self.neighbour[r.clone()]
            .iter()
            .zip(&self.cosine[r])
            .map(|(&item, &cosine)| Neighbour { item, cosine })
    }
}

/// Settings of cross-sell recommendations: how many (default 10), how rules are scored
/// and where recommendations come from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CrossSellOptions {
    k: usize,
    score: RuleScore,
    method: CrossSellMethod,
}

impl Default for CrossSellOptions {
    fn default() -> Self {
        CrossSellOptions {
            k: 10,
            score: RuleScore::default(),
            method: CrossSellMethod::default(),
        }
    }
}

/// Recommendations for every customer of a [`CustomerItems`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRecommendations {
    /// The customers, and the scope they were read under.
    pub rows: Rows,
    /// Each customer's recommendations, best first, index-aligned with `rows`.
    pub recommendations: Vec<Vec<Recommendation>>,
}

/// What a cross-sell recommender was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrossSellReport {
    /// Rules used (0 when the method uses none).
    pub rules: usize,
    /// Item-neighbour pairs used (0 when the method uses none).
    pub neighbour_pairs: usize,
    /// Items the recommender knows.
    pub items: usize,
}

/// A recommender over rules and/or co-purchase neighbours.
#[derive(Debug, Clone)]
pub struct CrossSell<'a> {
    rules: Option<&'a Rules>,
    neighbours: Option<&'a CoPurchase>,
    items: &'a Interner,
    opts: CrossSellOptions,
    /// Rules by one item of their antecedent (see `build`).
    by_first: Vec<Vec<u32>>,
}

impl CrossSellOptions {
    /// Defaults: 10 items, confidence × lift, rules then co-purchase.
    pub fn new() -> Self {
        Self::default()
    }

    /// Items per customer (≥ 1).
    pub fn k(mut self, k: usize) -> Self {
        self.k = k;
        self
    }

    /// How rules are scored.
    pub fn score(mut self, score: RuleScore) -> Self {
        self.score = score;
        self
    }

    /// Where recommendations come from.
    pub fn method(mut self, method: CrossSellMethod) -> Self {
        self.method = method;
        self
    }

    /// Checks every option (also done by [`fit`](Self::fit)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when `k` is 0.
    pub fn validate(&self) -> Result<()> {
        if self.k == 0 {
            return Err(Error::option(
                "k",
                0,
                "at least one recommendation per customer",
            ));
        }
        Ok(())
    }

    /// A recommender from rules and co-purchase neighbours (each needed by the method).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when `k` is 0 or the method needs a source not given
    /// (option `rules` or `neighbours`, value `none`); [`Error::BadValue`] naming the first
    /// item where the two sources differ, or [`Error::LengthMismatch`] when one has more
    /// items than the other.
    pub fn fit<'a>(
        &self,
        rules: Option<&'a Rules>,
        neighbours: Option<&'a CoPurchase>,
    ) -> Result<Fitted<CrossSell<'a>, CrossSellReport>> {
        self.validate()?;
        let need_rules = self.method != CrossSellMethod::CoPurchase;
        let need_neighbours = self.method != CrossSellMethod::Rules;
        let missing = |option: &'static str, what: &str| {
            Error::option(
                option,
                "none",
                format!("{what}, which the method {:?} needs", self.method),
            )
        };
        if need_rules && rules.is_none() {
            return Err(missing("rules", "rules"));
        }
        if need_neighbours && neighbours.is_none() {
            return Err(missing("neighbours", "co-purchase neighbours"));
        }
        if let (Some(r), Some(n)) = (rules, neighbours) {
            same_items(
                "neighbours' items",
                n.items(),
                r.items(),
                "the rules' items",
            )?;
        }
        let items = match (rules, neighbours) {
            (Some(r), _) => r.items(),
            (None, Some(n)) => n.items(),
            (None, None) => return Err(missing("rules", "rules or co-purchase neighbours")),
        };
        // Each rule waits under the antecedent item that heads the fewest antecedents
        // overall, so a customer's popular items do not each pull in most of the rules.
        let mut by_first = vec![Vec::new(); items.len()];
        if let Some(rules) = rules.filter(|_| need_rules) {
            let mut heads = vec![0u64; items.len()];
            for r in rules.as_slice() {
                for &a in &r.antecedent {
                    heads[a as usize] += 1;
                }
            }
            for (i, r) in rules.as_slice().iter().enumerate() {
                let key = r
                    .antecedent
                    .iter()
                    .copied()
                    .min_by_key(|&a| (heads[a as usize], a))
                    .unwrap_or(0);
                by_first[key as usize].push(i as u32);
            }
        }
        let rules = rules.filter(|_| need_rules);
        let neighbours = neighbours.filter(|_| need_neighbours);
        Ok(Fitted {
            report: CrossSellReport {
                rules: rules.map_or(0, Rules::len),
                neighbour_pairs: neighbours.map_or(0, |n| n.neighbour.len()),
                items: items.len(),
            },
            model: CrossSell {
                rules,
                neighbours,
                items,
                opts: *self,
                by_first,
            },
        })
    }
}

impl CrossSell<'_> {
    /// Item names.
    pub fn items(&self) -> &Interner {
        self.items
    }

    /// Up to k items not in `bought` (item ids, any order; ids that name no item are
    /// ignored), best first: by rule score
    /// (ties: the earlier rule, then item id), then, as the method says, by cosine to a
    /// bought item (ties: item id).
    pub fn recommend(&self, bought: &[u32]) -> Vec<Recommendation> {
        // Ids outside the item names cannot match a rule or neighbour: ignored.
        let n_items = self.items.len() as u32;
        let mut have: Vec<u32> = bought.iter().copied().filter(|&i| i < n_items).collect();
        have.sort_unstable();
        have.dedup();
        let has = |i: u32| have.binary_search(&i).is_ok();
        let mut out: Vec<Recommendation> = Vec::new();
        if let Some(rules) = self.rules {
            let all = rules.as_slice();
            let mut found: Vec<(u32, f64, u32)> = Vec::new();
            for &b in &have {
                let Some(bucket) = self.by_first.get(b as usize) else {
                    continue;
                };
                for &ri in bucket {
                    let r = &all[ri as usize];
                    if !r.antecedent.iter().all(|&a| has(a)) {
                        continue;
                    }
                    let score = match self.opts.score {
                        RuleScore::Confidence => r.confidence,
                        RuleScore::Lift => r.lift,
                        RuleScore::ConfidenceTimesLift => r.confidence * r.lift,
                    };
                    for &c in r.consequent.iter().filter(|&&c| !has(c)) {
                        found.push((c, score, ri));
                    }
                }
            }
            // Best rule per item, then best items.
            found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
            found.dedup_by_key(|f| f.0);
            found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.2.cmp(&b.2)).then(a.0.cmp(&b.0)));
            out.extend(
                found
                    .into_iter()
                    .take(self.opts.k)
                    .map(|(item, score, ri)| {
                        let r = &all[ri as usize];
                        Recommendation {
                            item,
                            score,
                            reason: Reason::Rule {
                                rule: ri as usize,
                                antecedent: r.antecedent.clone(),
                                consequent: r.consequent.clone(),
                                confidence: r.confidence,
                                lift: r.lift,
                            },
                        }
                    }),
            );
        }
        if let Some(near) = self.neighbours {
            if out.len() < self.opts.k {
                let mut found: Vec<(u32, f64, u32)> = Vec::new();
                for &b in &have {
                    for Neighbour {
                        item: j,
                        cosine: cos,
                    } in near.neighbours(b)
                    {
                        if !has(j) && !out.iter().any(|r| r.item == j) {
                            found.push((j, cos, b));
                        }
                    }
                }
                found.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
                found.dedup_by_key(|f| f.0);
                found.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let room = self.opts.k - out.len();
                out.extend(
                    found
                        .into_iter()
                        .take(room)
                        .map(|(item, cosine, b)| Recommendation {
                            item,
                            score: cosine,
                            reason: Reason::Neighbour { item: b, cosine },
                        }),
                );
            }
        }
        out
    }

    /// Recommendations for every customer, in parallel, in customer order.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the customers' scope forbids product analysis;
    /// [`Error::BadValue`] naming the first item where the customers' items differ from
    /// the recommender's (customer items of another level or another log), or
    /// [`Error::LengthMismatch`] when one has more items than the other.
    pub fn recommend_all(&self, customers: &CustomerItems) -> Result<CustomerRecommendations> {
        customers.rows().scope().require(Area::Product)?;
        same_items(
            "customers' items",
            customers.items(),
            self.items,
            "the recommender's items",
        )?;
        Ok(CustomerRecommendations {
            rows: customers.rows().clone(),
            recommendations: (0..customers.len())
                .into_par_iter()
                .map(|c| self.recommend(customers.of(c)))
                .collect(),
        })
    }
}

/// Checks that `found`, the items of `input`, are `expected`, the items of `against`,
/// id for id: an id read against other item names would name another item (or a
/// category for a product).
///
/// # Errors
/// [`Error::BadValue`] naming the first id where the names differ;
/// [`Error::LengthMismatch`] when one list extends the other.
fn same_items(
    input: &'static str,
    found: &Interner,
    expected: &Interner,
    against: &'static str,
) -> Result<()> {
    if found == expected {
        return Ok(());
    }
    let shared = found.len().min(expected.len());
    if let Some(k) = (0..shared).find(|&k| found.name(k) != expected.name(k)) {
        return Err(Error::bad_value(
            input,
            k,
            "item",
            found.name(k),
            format!("`{}`, item {k} of {against}", expected.name(k)),
        ));
    }
    Error::check_len(input, found.len(), expected.len(), against)
}
