//! Association rules from frequent itemsets, with the metrics of mlxtend's
//! `association_rules` (same definitions and edge cases, checked against mlxtend 0.25).

use hashbrown::HashMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

use super::fpgrowth::Itemsets;
use crate::data::{Area, Interner, ScopeTag};
use crate::error::{Error, Result};

/// A rule metric, for filters and rankings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Metric {
    /// Support of the antecedent.
    AntecedentSupport,
    /// Support of the consequent.
    ConsequentSupport,
    /// Support of antecedent and consequent together.
    Support,
    /// P(consequent | antecedent).
    Confidence,
    /// Confidence over the consequent's support.
    Lift,
    /// Support minus the product of the two supports.
    Leverage,
    /// (1 − consequent support) / (1 − confidence); infinite at confidence 1.
    Conviction,
    /// Zhang's metric, in [−1, 1].
    Zhang,
    /// Support over the support of either.
    Jaccard,
    /// (confidence − consequent support) / (1 − consequent support).
    Certainty,
    /// Mean of the two confidences.
    Kulczynski,
}

impl Metric {
    /// Every metric, in the order of the rules CSV.
    pub const ALL: [Metric; 11] = [
        Metric::AntecedentSupport,
        Metric::ConsequentSupport,
        Metric::Support,
        Metric::Confidence,
        Metric::Lift,
        Metric::Leverage,
        Metric::Conviction,
        Metric::Zhang,
        Metric::Jaccard,
        Metric::Certainty,
        Metric::Kulczynski,
    ];

    /// The column name (mlxtend's, in snake case).
    pub fn name(self) -> &'static str {
        match self {
            Metric::AntecedentSupport => "antecedent_support",
            Metric::ConsequentSupport => "consequent_support",
            Metric::Support => "support",
            Metric::Confidence => "confidence",
            Metric::Lift => "lift",
            Metric::Leverage => "leverage",
            Metric::Conviction => "conviction",
            Metric::Zhang => "zhangs_metric",
            Metric::Jaccard => "jaccard",
            Metric::Certainty => "certainty",
            Metric::Kulczynski => "kulczynski",
        }
    }

    /// The metric of a column name (as [`Metric::name`]).
    pub fn from_name(name: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.name() == name)
    }

    /// This metric of a rule.
    pub fn of(self, r: &Rule) -> f64 {
        match self {
            Metric::AntecedentSupport => r.antecedent_support,
            Metric::ConsequentSupport => r.consequent_support,
            Metric::Support => r.support,
            Metric::Confidence => r.confidence,
            Metric::Lift => r.lift,
            Metric::Leverage => r.leverage,
            Metric::Conviction => r.conviction,
            Metric::Zhang => r.zhang,
            Metric::Jaccard => r.jaccard,
            Metric::Certainty => r.certainty,
            Metric::Kulczynski => r.kulczynski,
        }
    }
}

/// One association rule antecedent → consequent (disjoint, non-empty, sorted item ids)
/// with its basket count and metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Items of the if-part.
    pub antecedent: Vec<u32>,
    /// Items of the then-part.
    pub consequent: Vec<u32>,
    /// Baskets holding both.
    pub count: u64,
    /// Support of the antecedent.
    pub antecedent_support: f64,
    /// Support of the consequent.
    pub consequent_support: f64,
    /// Support of both.
    pub support: f64,
    /// support / antecedent support.
    pub confidence: f64,
    /// confidence / consequent support.
    pub lift: f64,
    /// support − antecedent support × consequent support.
    pub leverage: f64,
    /// (1 − consequent support) / (1 − confidence); `f64::INFINITY` at confidence 1.
    pub conviction: f64,
    /// leverage / max(support (1 − antecedent support), antecedent support
    /// (consequent support − support)).
    pub zhang: f64,
    /// support / (antecedent support + consequent support − support).
    pub jaccard: f64,
    /// (confidence − consequent support) / (1 − consequent support); 0 when the
    /// consequent is in every basket.
    pub certainty: f64,
    /// (confidence + support / consequent support) / 2.
    pub kulczynski: f64,
}

impl Rule {
    /// The metrics of a rule from the three supports (mlxtend's formulas).
    fn from_supports(
        antecedent: Vec<u32>,
        consequent: Vec<u32>,
        count: u64,
        sa: f64,
        sc: f64,
        s: f64,
    ) -> Rule {
        let confidence = s / sa;
        let leverage = s - sa * sc;
        // mlxtend: conviction is infinite at confidence 1; Zhang's denominator max(...)
        // is 0 only when leverage is too, and then the metric is 0; certainty is 0 when
        // the consequent is everywhere.
        let conviction = if confidence >= 1.0 {
            f64::INFINITY
        } else {
            (1.0 - sc) / (1.0 - confidence)
        };
        let denominator = (s * (1.0 - sa)).max(sa * (sc - s));
        let zhang = if denominator == 0.0 {
            0.0
        } else {
            leverage / denominator
        };
        let certainty = if sc >= 1.0 {
            0.0
        } else {
            (confidence - sc) / (1.0 - sc)
        };
        Rule {
            antecedent,
            consequent,
            count,
            antecedent_support: sa,
            consequent_support: sc,
            support: s,
            confidence,
            lift: confidence / sc,
            leverage,
            conviction,
            zhang,
            jaccard: s / (sa + sc - s),
            certainty,
            kulczynski: (s / sa + s / sc) / 2.0,
        }
    }
}

/// Which rules to keep: bounds on any metrics (all must hold; none by default) and an
/// optional cap on the consequent's length.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleOptions {
    bounds: Vec<(Metric, f64, f64)>,
    max_consequent_len: Option<usize>,
    /// The rule budget; `None` is [`DEFAULT_MAX_RULES`].
    #[serde(default)]
    max_rules: Option<u64>,
}

/// Default budget of rules kept: 20 million take about 3 GB, an eighth of a 24 GiB
/// machine. The rules looked at (every split of every itemset) may be 25 times as many.
pub const DEFAULT_MAX_RULES: u64 = 20_000_000;

/// Association rules with the names of their items, in the itemsets' order (by itemset,
/// then by antecedent as a subset mask).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rules {
    scope: ScopeTag,
    items: Interner,
    baskets: u64,
    rules: Vec<Rule>,
}

impl RuleOptions {
    /// No filter: every rule of every frequent itemset of two or more items.
    pub fn new() -> Self {
        Self::default()
    }

    /// Keep rules whose `metric` is at least `value` (mlxtend's `min_threshold`).
    pub fn min(mut self, metric: Metric, value: f64) -> Self {
        self.bounds.push((metric, value, f64::INFINITY));
        self
    }

    /// Keep rules whose `metric` is at most `value`.
    pub fn max(mut self, metric: Metric, value: f64) -> Self {
        self.bounds.push((metric, f64::NEG_INFINITY, value));
        self
    }

    /// Keep rules with at most `len` consequent items (≥ 1).
    pub fn max_consequent_len(mut self, len: usize) -> Self {
        self.max_consequent_len = Some(len);
        self
    }

    /// The most rules to keep (default [`DEFAULT_MAX_RULES`]), and a twenty-five times
    /// larger budget of rules looked at; past either, [`compute`](Self::compute) stops
    /// with [`Error::Budget`].
    pub fn max_rules(mut self, n: u64) -> Self {
        self.max_rules = Some(n);
        self
    }

    /// Every rule A → C with A ∪ C a frequent itemset, A and C non-empty and disjoint,
    /// that passes the bounds. The supports of A and C come from the itemsets (every
    /// subset of a frequent itemset is frequent).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a NaN bound or a consequent cap of 0;
    /// [`Error::Budget`] for more rules to look at or to keep than the budget allows
    /// (an itemset of k items has 2^k − 2 splits).
    pub fn compute(&self, itemsets: &Itemsets) -> Result<Rules> {
        self.validate()?;
        itemsets.scope().require(Area::Product)?;
        let limit = self.max_rules.unwrap_or(DEFAULT_MAX_RULES);
        let budget = |what, limit| Error::Budget {
            what,
            limit,
            advice: "raise the minimum support, set a maximum itemset length or a maximum \
                     consequent length, or raise the rule budget"
                .into(),
        };
        // The splits are counted before any is made (saturating: 2^63 and up is "many").
        let looked_at = limit.saturating_mul(25);
        let splits = itemsets.iter().fold(0u64, |acc, s| {
            let k = s.items.len() as u32;
            let n = if k >= 64 {
                u64::MAX
            } else {
                (1u64 << k).saturating_sub(2)
            };
            acc.saturating_add(n)
        });
        if splits > looked_at || itemsets.iter().any(|s| s.items.len() > 63) {
            return Err(budget("rules to look at", looked_at));
        }
        let rules = self.rules_of(itemsets, limit)?;
        if rules.rules.len() as u64 > limit {
            return Err(budget("rules", limit));
        }
        Ok(rules)
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a NaN bound or a consequent cap of 0.
    pub fn validate(&self) -> Result<()> {
        if let Some((m, lo, hi)) = self
            .bounds
            .iter()
            .find(|(_, lo, hi)| lo.is_nan() || hi.is_nan())
            .copied()
        {
            return Err(Error::option(
                "rule bounds",
                format!("{} in [{lo}, {hi}]", m.name()),
                "bounds that are numbers (not NaN)",
            ));
        }
        if self.max_rules == Some(0) {
            return Err(Error::option("max_rules", 0, "a budget of at least 1 rule"));
        }
        if self.max_consequent_len == Some(0) {
            return Err(Error::option(
                "max_consequent_len",
                0,
                "a consequent length ≥ 1",
            ));
        }
        Ok(())
    }

    /// The rules; stops early (returning more than `limit` rules, which the caller
    /// refuses) once the sets done keep more than `limit`.
    fn rules_of(&self, itemsets: &Itemsets, limit: u64) -> Result<Rules> {
        let kept = AtomicU64::new(0);
        let count_of: HashMap<&[u32], u64> = itemsets.iter().map(|s| (s.items, s.count)).collect();
        let n = itemsets.baskets() as f64;
        let max_c = self.max_consequent_len.unwrap_or(usize::MAX);
        let per_set: Vec<Vec<Rule>> = (0..itemsets.len())
            .into_par_iter()
            .map(|i| {
                let set = itemsets.get(i);
                let k = set.items.len();
                let mut out = Vec::new();
                if k < 2 || kept.load(Ordering::Relaxed) > limit {
                    return out;
                }
                let (mut a, mut c) = (Vec::with_capacity(k), Vec::with_capacity(k));
                for mask in 1..(1u64 << k) - 1 {
                    a.clear();
                    c.clear();
                    for (j, &item) in set.items.iter().enumerate() {
                        if mask >> j & 1 == 1 {
                            a.push(item);
                        } else {
                            c.push(item);
                        }
                    }
                    if c.len() > max_c {
                        continue;
                    }
                    // Downward closure: both sides are frequent itemsets.
                    let (Some(&ca), Some(&cc)) =
                        (count_of.get(a.as_slice()), count_of.get(c.as_slice()))
                    else {
                        continue;
                    };
                    let rule = Rule::from_supports(
                        a.clone(),
                        c.clone(),
                        set.count,
                        ca as f64 / n,
                        cc as f64 / n,
                        set.support,
                    );
                    if self
                        .bounds
                        .iter()
                        .all(|&(m, lo, hi)| (lo..=hi).contains(&m.of(&rule)))
                    {
                        out.push(rule);
                    }
                }
                kept.fetch_add(out.len() as u64, Ordering::Relaxed);
                out
            })
            .collect();
        Ok(Rules {
            scope: itemsets.scope().clone(),
            items: itemsets.items().clone(),
            baskets: itemsets.baskets(),
            rules: per_set.into_iter().flatten().collect(),
        })
    }
}

impl Rules {
    /// The scope of the baskets the rules come from.
    pub fn scope(&self) -> &ScopeTag {
        &self.scope
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules.
    pub fn as_slice(&self) -> &[Rule] {
        &self.rules
    }

    /// Item names; item ids index them.
    pub fn items(&self) -> &Interner {
        &self.items
    }

    /// Number of baskets behind the supports.
    pub fn baskets(&self) -> u64 {
        self.baskets
    }

    /// The names of a rule side's items.
    pub fn names<'a>(&'a self, items: &'a [u32]) -> impl Iterator<Item = &'a str> + 'a {
        items.iter().map(|&i| self.items.name(i as usize))
    }

    /// The `k` rules with the highest `metric` (ties: more support first, then the
    /// earlier rule), NaN last.
    pub fn top(&self, metric: Metric, k: usize) -> Vec<&Rule> {
        let mut idx: Vec<usize> = (0..self.rules.len()).collect();
        let key = |i: usize| {
            let v = metric.of(&self.rules[i]);
            if v.is_nan() {
                f64::NEG_INFINITY
            } else {
                v
            }
        };
        idx.sort_by(|&a, &b| {
            key(b)
                .total_cmp(&key(a))
                .then(self.rules[b].count.cmp(&self.rules[a].count))
                .then(a.cmp(&b))
        });
        idx.into_iter().take(k).map(|i| &self.rules[i]).collect()
    }
}
