//! Per-customer statistics as plain numbers in a model's time unit, and the interface a
//! purchase model offers to the modules that value customers (so that, say, lifetime
//! value in `profitability` can use any model of `persistency` without importing it).

use std::marker::PhantomData;

use std::hash::Hash;

use foldhash::fast::FixedState;
use hashbrown::HashMap;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::{Compact, Pattern, Summary};
use crate::data::ScopeTag;
use crate::error::{Error, Result};
use crate::numerics::FitData;
use crate::time::TimeUnit;

/// One customer's repeat-purchase statistics: repeat purchases x, recency t_x (first to
/// last purchase), age T (first purchase to the summary date), both in the model's time
/// unit, and the mean value of the repeat purchases (0 when x = 0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Rfm {
    /// Repeat purchases.
    pub x: u32,
    /// Recency.
    pub t_x: f64,
    /// Age.
    pub t: f64,
    /// Mean repeat-purchase value.
    pub mean_spend: f64,
}

impl Rfm {
    /// A validated record: finite values, 0 ≤ t_x ≤ T, T > 0, t_x = 0 when x = 0, and a
    /// finite mean spend (0 when x = 0).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the argument (`T`, `t_x` or `mean_spend`) and the
    /// value that breaks a rule.
    pub fn new(x: u32, t_x: f64, t: f64, mean_spend: f64) -> Result<Rfm> {
        if !(t.is_finite() && t > 0.0) {
            return Err(Error::option("T", t, "a finite positive age"));
        }
        if !(t_x.is_finite() && (0.0..=t).contains(&t_x)) {
            return Err(Error::option(
                "t_x",
                t_x,
                format!("a recency within 0 ≤ t_x ≤ T = {t}"),
            ));
        }
        if x == 0 && t_x != 0.0 {
            return Err(Error::option(
                "t_x",
                t_x,
                "0 when x = 0 (no repeat purchases)",
            ));
        }
        if !mean_spend.is_finite() || (x == 0 && mean_spend != 0.0) {
            let allowed = if x == 0 {
                "0 when x = 0 (no repeat purchases)"
            } else {
                "a finite mean spend"
            };
            return Err(Error::option("mean_spend", mean_spend, allowed));
        }
        Ok(Rfm {
            x,
            t_x,
            t,
            mean_spend,
        })
    }
}

/// Rfm records with the scope of the summary they came from: what spend models and
/// lifetime value read. They dereference to a slice of [`Rfm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Records {
    records: Vec<Rfm>,
    scope: ScopeTag,
}

impl Records {
    /// Records given directly (from a file, another tool), under no scope.
    pub fn new(records: Vec<Rfm>) -> Records {
        Records {
            scope: ScopeTag {
                customers: records.len(),
                ..ScopeTag::default()
            },
            records,
        }
    }

    /// The scope of the summary the records came from.
    pub fn scope(&self) -> &ScopeTag {
        &self.scope
    }

    /// The records a spend model can use: every record but those of repeat buyers whose
    /// mean repeat spend is not positive (all their repeat purchases were free, which a
    /// gamma spend distribution cannot produce). Not index-aligned with `self`: the
    /// number left out is `self.len() − result.len()`.
    pub fn with_positive_spend(&self) -> Records {
        Records {
            records: self
                .records
                .iter()
                .filter(|r| r.x == 0 || r.mean_spend > 0.0)
                .copied()
                .collect(),
            scope: self.scope.clone(),
        }
    }

    /// The records as a vector.
    pub fn into_vec(self) -> Vec<Rfm> {
        self.records
    }
}

impl std::ops::Deref for Records {
    type Target = [Rfm];
    fn deref(&self) -> &[Rfm] {
        &self.records
    }
}

impl FitData<Rfm> for Records {
    fn rows(&self) -> &[Rfm] {
        &self.records
    }
    fn scope(&self) -> Option<&ScopeTag> {
        Some(&self.scope)
    }
}

impl<U: TimeUnit> Summary<U> {
    /// Every row as an [`Rfm`] record in unit `U`, index-aligned with the summary.
    pub fn records(&self) -> Records {
        Records {
            records: (0..self.len())
                .into_par_iter()
                .map(|i| Rfm {
                    x: self.x(i),
                    t_x: self.t_x(i).value(),
                    t: self.t(i).value(),
                    mean_spend: self.mean_spend(i),
                })
                .collect(),
            scope: self.scope().clone(),
        }
    }
}

impl<U: TimeUnit> Compact<U> {
    /// Patterns counted elsewhere (by a query engine's `GROUP BY`), checked and sorted
    /// by (x, t_x, T) as [`from_records`](Self::from_records) sorts them; patterns that
    /// repeat are kept apart (a fit sums their terms).
    ///
    /// # Errors
    /// [`Error::BadValue`] naming the pattern for T < 0, t_x outside [0, T] or a count
    /// of 0.
    pub fn from_patterns(patterns: Vec<Pattern>, scope: ScopeTag) -> Result<Compact<U>> {
        for (i, p) in patterns.iter().enumerate() {
            let bad = |field: &str, value: f64, expected: &str| {
                Err(Error::bad_value("patterns", i, field, value, expected))
            };
            if !(p.t.is_finite() && p.t >= 0.0) {
                return bad("T", p.t, "an age T ≥ 0");
            }
            if !(p.t_x.is_finite() && (0.0..=p.t).contains(&p.t_x)) {
                return bad("t_x", p.t_x, "a recency within 0 ≤ t_x ≤ T");
            }
            if p.count == 0 {
                return bad("count", 0.0, "a count ≥ 1");
            }
        }
        let mut patterns = patterns;
        // Non-negative floats order as their bit patterns: the order of `from_records`.
        patterns.sort_unstable_by_key(|p| (p.x, p.t_x.to_bits(), p.t.to_bits()));
        Ok(Compact {
            patterns,
            scope,
            unit: PhantomData,
        })
    }

    /// Distinct (x, t_x, T) patterns of records, with counts, sorted by (x, t_x, T).
    /// Values are grouped when bit-identical.
    ///
    /// The patterns keep the records' scope, so that a fit still checks it: the
    /// [`Records`] of a summary carry the summary's; a slice or vector of records from
    /// outside (a summary file, another tool) has none, and the patterns are under no
    /// scope.
    ///
    /// ```
    /// use acrm::data::{AreaSet, Dataset, Scope, TransactionRecord};
    /// use acrm::persistency::BgNbd;
    /// use acrm::summary::Compact;
    /// use acrm::{Error, FitOptions, SummaryOptions, Weeks};
    /// use chrono::NaiveDate;
    /// let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
    /// let mut b = Dataset::builder();
    /// b.extend([
    ///     TransactionRecord::new("ann", d(1, 2), 10.0),
    ///     TransactionRecord::new("ann", d(2, 9), 30.0),
    /// ])?;
    /// let data = b.build()?.dataset;
    /// let scope = Scope::all().forbid(AreaSet::parse_list("persistency")?);
    /// let summary = SummaryOptions::new(d(3, 31)).compute::<Weeks>(&data.view(&scope))?;
    /// let patterns = Compact::<Weeks>::from_records(&summary.records());
    /// assert!(matches!(
    ///     FitOptions::new().fit::<BgNbd>(&patterns),
    ///     Err(Error::ForbiddenArea { .. })
    /// ));
    /// # Ok::<(), acrm::Error>(())
    /// ```
    pub fn from_records(data: &(impl FitData<Rfm> + ?Sized)) -> Compact<U> {
        let records = data.rows();
        type Key = (u32, u64, u64);
        type Map<V> = HashMap<Key, V, FixedState>;
        // Non-negative floats order as their bit patterns.
        let key = |r: &Rfm| -> Key { (r.x, r.t_x.to_bits(), r.t.to_bits()) };
        // Summaries made from dated transactions repeat patterns (a million customers on a
        // day grid have about a hundred thousand): counting them in a hash table per
        // thread, then sorting the distinct ones, is about twice as fast as sorting the
        // records. When a sample is mostly distinct (continuous times), sorting wins.
        let sample = &records[..records.len().min(1 << 14)];
        let mut seen: Map<()> = Map::with_hasher(FixedState::default());
        seen.extend(sample.iter().map(|r| (key(r), ())));
        let counted: Vec<(Key, u32)> = if seen.len() * 2 <= sample.len() {
            let share = records.len().div_ceil(rayon::current_num_threads()).max(1);
            let mut maps = records
                .par_chunks(share)
                .map(|chunk| {
                    let mut counts: Map<u32> = Map::with_hasher(FixedState::default());
                    for r in chunk {
                        *counts.entry(key(r)).or_insert(0) += 1;
                    }
                    counts
                })
                .collect::<Vec<_>>()
                .into_iter();
            let mut total = maps.next().unwrap_or_default();
            for counts in maps {
                for (k, c) in counts {
                    *total.entry(k).or_insert(0) += c;
                }
            }
            let mut counted: Vec<(Key, u32)> = total.into_iter().collect();
            counted.par_sort_unstable_by_key(|&(k, _)| k);
            counted
        } else {
            let mut keys: Vec<Key> = records.par_iter().map(key).collect();
            keys.par_sort_unstable();
            keys.chunk_by(|a, b| a == b)
                .map(|run| (run[0], run.len() as u32))
                .collect()
        };
        Compact {
            patterns: counted
                .into_iter()
                .map(|((x, t_x, t), count)| Pattern {
                    x,
                    t_x: f64::from_bits(t_x),
                    t: f64::from_bits(t),
                    count,
                })
                .collect(),
            scope: data.scope().cloned().unwrap_or_else(|| ScopeTag {
                customers: records.len(),
                ..ScopeTag::default()
            }),
            unit: PhantomData,
        }
    }
}

/// What a model of repeat purchases predicts for a customer with history (x, t_x, T), in
/// the time unit it was fitted in.
///
/// Expected future purchases factor into P(alive) and the expectation of a customer known
/// to be alive, which depends on x and T only: scoring a customer base evaluates the
/// expensive second factor once per distinct (x, T), of which summaries made from dated
/// transactions have few.
pub trait PurchaseModel: Sync {
    /// Probability that the customer is still active at T.
    fn p_alive(&self, x: u32, t_x: f64, t: f64) -> f64;
    /// Expected purchases in (T, T + horizon] of a customer alive at T.
    fn expected_purchases_if_alive(&self, horizon: f64, x: u32, t: f64) -> f64;
    /// Expected purchases in (T, T + horizon].
    fn conditional_expected_purchases(&self, horizon: f64, x: u32, t_x: f64, t: f64) -> f64 {
        self.p_alive(x, t_x, t) * self.expected_purchases_if_alive(horizon, x, t)
    }
    /// Expected purchases of a new customer in (0, t].
    fn expected_purchases(&self, t: f64) -> f64;
    /// Probability that a customer alive at T after x repeat purchases is still alive at
    /// T + horizon: like the expectation above, it depends on x and T only.
    fn survival_if_alive(&self, horizon: f64, x: u32, t: f64) -> f64;
    /// Probability that the customer is still active at T + horizon, given the history
    /// (x, t_x, T): P(alive at T) times [`survival_if_alive`](Self::survival_if_alive).
    /// At horizon 0 it is [`p_alive`](Self::p_alive).
    fn p_alive_after(&self, horizon: f64, x: u32, t_x: f64, t: f64) -> f64 {
        self.p_alive(x, t_x, t) * self.survival_if_alive(horizon, x, t)
    }
    /// P(alive) of every record, index-aligned: models whose P(alive) is expensive
    /// override it to share work between customers with common values.
    fn p_alive_all(&self, records: &[Rfm]) -> Vec<f64> {
        records
            .par_iter()
            .map(|r| self.p_alive(r.x, r.t_x, r.t))
            .collect()
    }
}

/// Records grouped by (x, T): the distinct pairs, sorted, and each record's group.
pub(crate) fn groups_by_x_t(records: &[Rfm]) -> (Vec<(u32, f64)>, Vec<u32>) {
    let (keys, group) = group_by(records.len(), |i| (records[i].x, records[i].t.to_bits()));
    let keys = keys
        .into_iter()
        .map(|(x, t)| (x, f64::from_bits(t)))
        .collect();
    (keys, group)
}

/// Items `0..n` grouped by `key`: the distinct keys, sorted, and each item's group.
///
/// Hashing, not sorting: chunks of items find their distinct keys in parallel, the
/// (usually few) keys are merged and sorted, and items look their group up in a shared
/// table. On a million records with a few thousand keys this is several times faster
/// than sorting the records.
pub(crate) fn group_by<K>(n: usize, key: impl Fn(usize) -> K + Sync) -> (Vec<K>, Vec<u32>)
where
    K: Hash + Eq + Ord + Copy + Send + Sync,
{
    type Map<K, V> = HashMap<K, V, FixedState>;
    const CHUNK: usize = 1 << 16;
    let parts: Vec<Vec<K>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut seen: Map<K, ()> = Map::with_hasher(FixedState::default());
            for i in c * CHUNK..((c + 1) * CHUNK).min(n) {
                seen.insert(key(i), ());
            }
            seen.into_keys().collect()
        })
        .collect();
    let mut distinct: Vec<K> = parts.into_iter().flatten().collect();
    distinct.par_sort_unstable();
    distinct.dedup();
    let mut index: Map<K, u32> =
        Map::with_capacity_and_hasher(distinct.len(), FixedState::default());
    for (i, k) in distinct.iter().enumerate() {
        index.insert(*k, i as u32);
    }
    let group = (0..n)
        .into_par_iter()
        .map(|i| index.get(&key(i)).copied().unwrap_or(0))
        .collect();
    (distinct, group)
}

/// A customer's P(alive) and expected purchases over a horizon.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    /// Probability of being active at the summary date.
    pub p_alive: f64,
    /// Expected purchases in the horizon after the summary date.
    pub expected_purchases: f64,
}

/// Scores every record in parallel, index-aligned with `records`.
pub fn score<M: PurchaseModel + ?Sized>(model: &M, records: &[Rfm], horizon: f64) -> Vec<Score> {
    let (keys, group) = groups_by_x_t(records);
    let if_alive: Vec<f64> = keys
        .par_iter()
        .map(|&(x, t)| model.expected_purchases_if_alive(horizon, x, t))
        .collect();
    model
        .p_alive_all(records)
        .into_par_iter()
        .zip(group)
        .map(|(p_alive, g)| Score {
            p_alive,
            expected_purchases: p_alive * if_alive[g as usize],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::time::Weeks;

    /// Patterns counted one record at a time in an ordered map: the reference.
    fn counted(records: &[Rfm]) -> Vec<(u32, u64, u64, u32)> {
        let mut counts = BTreeMap::new();
        for r in records {
            *counts
                .entry((r.x, r.t_x.to_bits(), r.t.to_bits()))
                .or_insert(0) += 1;
        }
        counts
            .into_iter()
            .map(|((x, a, b), c)| (x, a, b, c))
            .collect()
    }

    fn compact(records: &[Rfm], threads: usize) -> Vec<(u32, u64, u64, u32)> {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
        let c = pool
            .unwrap()
            .install(|| Compact::<Weeks>::from_records(records));
        let p = c.patterns.iter();
        p.map(|p| (p.x, p.t_x.to_bits(), p.t.to_bits(), p.count))
            .collect()
    }

    #[test]
    fn patterns_of_records_are_counted_and_sorted_on_grids_and_continuous_times() {
        let record = |i: usize, grid: bool| {
            let x = ((i * 7919) % 5) as u32;
            let t = if grid {
                27.0 + ((i * 104_729) % 85) as f64 / 7.0
            } else {
                27.0 + (i as f64).sqrt().fract() * 12.0
            };
            let t_x = if x == 0 {
                0.0
            } else {
                t * (i % 10) as f64 / 10.0
            };
            Rfm {
                x,
                t_x,
                t,
                mean_spend: 0.0,
            }
        };
        // On a day grid patterns repeat (counted by hashing); continuous times are mostly
        // distinct (sorted). Both give the reference, on any number of threads.
        for grid in [true, false] {
            let records: Vec<Rfm> = (0..50_000).map(|i| record(i, grid)).collect();
            let expected = counted(&records);
            assert_eq!(expected.len() < 10_000, grid);
            for threads in [1, 2, 3] {
                assert_eq!(compact(&records, threads), expected);
            }
        }
        assert!(Compact::<Weeks>::from_records(&[]).patterns.is_empty());
    }
}
