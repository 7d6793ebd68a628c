//! Value tiers: high, medium, low and negative customers by their share of total value.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Settings of value tiers: the cumulative shares of positive value that close the high
/// and the medium tier (defaults 0.5 and 0.8).
///
/// Customers are ranked by value (net profit, or CLV when a value model is used). A
/// customer's tier depends on the share of all positive value held by customers worth
/// strictly more: below `high` → high, below `medium` → medium, otherwise low; a negative
/// value → negative (customers who cost more than they bring). Equal values therefore
/// share a tier, and a more valuable customer is never in a lower tier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierOptions {
    high: f64,
    medium: f64,
}

impl Default for TierOptions {
    fn default() -> Self {
        TierOptions {
            high: 0.5,
            medium: 0.8,
        }
    }
}

/// A value tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tier {
    /// Value below zero.
    Negative,
    /// The rest of the non-negative customers.
    Low,
    /// The customers after the high tier, up to the medium share.
    Medium,
    /// The most valuable customers, up to the high share.
    High,
}

impl Tier {
    /// Lower-case name ("high", "medium", "low", "negative").
    pub fn name(self) -> &'static str {
        match self {
            Tier::High => "high",
            Tier::Medium => "medium",
            Tier::Low => "low",
            Tier::Negative => "negative",
        }
    }
}

/// Tiers per customer with their sizes and shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tiers {
    /// Tier per customer, index-aligned with the values.
    pub tier: Vec<Tier>,
    /// Per tier, high first: customers, and share of the total (net) value. The counts sum
    /// to all customers and the shares to 1 (the negative tier's share is negative).
    pub summary: Vec<TierSummary>,
}

/// One tier's size and share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TierSummary {
    /// The tier.
    pub tier: Tier,
    /// Customers in it.
    pub customers: usize,
    /// Its value.
    pub value: f64,
    /// Its value over the total value of all customers.
    pub share: f64,
}

impl TierOptions {
    /// The defaults (0.5, 0.8).
    pub fn new() -> Self {
        Self::default()
    }

    /// Shares of positive value closing the high and the medium tier, 0 < high ≤ medium ≤ 1.
    pub fn shares(mut self, high: f64, medium: f64) -> Self {
        self.high = high;
        self.medium = medium;
        self
    }

    /// Tiers of customers with the given values.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for shares outside 0 < high ≤ medium ≤ 1 or a non-finite
    /// value (naming its position); [`Error::EmptyInput`] without customers.
    pub fn tiers(&self, values: &[f64]) -> Result<Tiers> {
        if !(self.high > 0.0 && self.high <= self.medium && self.medium <= 1.0) {
            return Err(Error::InvalidOption {
                option: "shares",
                reason: format!(
                    "high {} and medium {} (need 0 < high ≤ medium ≤ 1)",
                    self.high, self.medium
                ),
            });
        }
        if values.is_empty() {
            return Err(Error::EmptyInput);
        }
        if let Some(i) = values.par_iter().position_first(|v| !v.is_finite()) {
            return Err(Error::InvalidOption {
                option: "values",
                reason: format!("customer at position {i} has value {}", values[i]),
            });
        }
        // Distinct positive values, descending, with the positive value strictly above each.
        let mut positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
        positive.par_sort_unstable_by(|a, b| b.total_cmp(a));
        let total_positive: f64 = positive.iter().sum();
        let mut above: Vec<(f64, f64)> = Vec::new();
        let mut run = 0.0;
        for chunk in positive.chunk_by(|a, b| a.total_cmp(b).is_eq()) {
            above.push((chunk[0], run));
            run += chunk.iter().sum::<f64>();
        }
        let tier = values
            .par_iter()
            .map(|&v| {
                if v < 0.0 {
                    return Tier::Negative;
                }
                // Share held by customers worth strictly more (0 for v = 0 when all are 0).
                let pos = above.partition_point(|(w, _)| *w > v);
                let before = if pos < above.len() {
                    above[pos].1
                } else {
                    total_positive
                };
                let share = if total_positive > 0.0 {
                    before / total_positive
                } else {
                    0.0
                };
                if share < self.high {
                    Tier::High
                } else if share < self.medium {
                    Tier::Medium
                } else {
                    Tier::Low
                }
            })
            .collect::<Vec<_>>();
        let total: f64 = values.iter().sum();
        let summary = [Tier::High, Tier::Medium, Tier::Low, Tier::Negative]
            .into_iter()
            .map(|t| {
                let (customers, value) = tier
                    .iter()
                    .zip(values)
                    .filter(|(x, _)| **x == t)
                    .fold((0, 0.0), |(c, s), (_, v)| (c + 1, s + v));
                TierSummary {
                    tier: t,
                    customers,
                    value,
                    share: value / total,
                }
            })
            .collect();
        Ok(Tiers { tier, summary })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tiers against their definition, counted by brute force, with ties and negatives.
    #[test]
    fn tiers_match_their_definition() {
        let values = [10.0, 50.0, 5.0, 50.0, -3.0, 0.0, 20.0, 5.0, 1.0, -0.5];
        let t = TierOptions::new().shares(0.4, 0.8).tiers(&values).unwrap();
        let total_pos: f64 = values.iter().filter(|v| **v > 0.0).sum();
        for (i, &v) in values.iter().enumerate() {
            let before: f64 = values.iter().filter(|w| **w > v && **w > 0.0).sum();
            let want = if v < 0.0 {
                Tier::Negative
            } else if before / total_pos < 0.4 {
                Tier::High
            } else if before / total_pos < 0.8 {
                Tier::Medium
            } else {
                Tier::Low
            };
            assert_eq!(t.tier[i], want, "value {v}");
        }
        assert_eq!(
            t.summary.iter().map(|s| s.customers).sum::<usize>(),
            values.len()
        );
        let shares: f64 = t.summary.iter().map(|s| s.share).sum();
        assert!((shares - 1.0).abs() < 1e-12);
    }
}
