//! The whale curve: cumulative profit against customers ranked from most to least
//! profitable (Kaplan & Narayanan 2001).

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Where the whale curve peaks, and what the unprofitable customers cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WhaleCurve {
    /// Customers.
    pub customers: usize,
    /// Total profit of all customers.
    pub total_profit: f64,
    /// Share of customers, most profitable first, at which cumulative profit peaks (the
    /// customers with positive profit).
    pub peak_customer_share: f64,
    /// The peak as a percentage of total profit (above 100 when some customers lose money).
    pub peak_profit_pct: f64,
    /// Share of customers with negative profit.
    pub unprofitable_share: f64,
    /// Profit those customers destroy (a positive number: minus their total).
    pub profit_destroyed: f64,
    /// Points of the curve at `points` evenly spaced customer shares from 0 to 1.
    pub curve: Vec<WhalePoint>,
}

/// A point of the whale curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WhalePoint {
    /// Share of customers, most profitable first.
    pub customer_share: f64,
    /// Their cumulative profit as a share of the total.
    pub profit_share: f64,
}

/// The whale curve of per-customer profits, with `points` + 1 curve points (≥ 1).
///
/// # Errors
/// [`Error::BadValue`] for a non-finite profit (naming its position);
/// [`Error::InvalidOption`] for no points;
/// [`Error::EmptyInput`] without customers.
pub fn whale_curve(profits: &[f64], points: usize) -> Result<WhaleCurve> {
    if points == 0 {
        return Err(Error::option("points", 0, "at least 1"));
    }
    if profits.is_empty() {
        return Err(Error::EmptyInput);
    }
    if let Some(i) = profits.par_iter().position_first(|v| !v.is_finite()) {
        return Err(Error::bad_value(
            "profits",
            i,
            "profit",
            profits[i],
            "a finite number",
        ));
    }
    let mut sorted = profits.to_vec();
    sorted.par_sort_unstable_by(|a, b| b.total_cmp(a));
    let n = sorted.len();
    let mut cumulative = Vec::with_capacity(n + 1);
    cumulative.push(0.0);
    let mut run = 0.0;
    for v in &sorted {
        run += v;
        cumulative.push(run);
    }
    let total = run;
    let gainers = sorted.iter().filter(|v| **v > 0.0).count();
    let losers = sorted.iter().filter(|v| **v < 0.0).count();
    let peak = cumulative[gainers];
    let scale = if total.abs() > 0.0 { total } else { f64::NAN };
    let curve = (0..=points)
        .map(|k| {
            let i = (k * n + points / 2) / points;
            WhalePoint {
                customer_share: i as f64 / n as f64,
                profit_share: cumulative[i] / scale,
            }
        })
        .collect();
    Ok(WhaleCurve {
        customers: n,
        total_profit: total,
        peak_customer_share: gainers as f64 / n as f64,
        peak_profit_pct: 100.0 * peak / scale,
        unprofitable_share: losers as f64 / n as f64,
        profit_destroyed: -sorted[n - losers..].iter().sum::<f64>(),
        curve,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peak against a brute force over every prefix of every ordering by profit.
    #[test]
    fn peak_matches_brute_force() {
        let profits = [12.0, -4.0, 30.0, 0.0, -10.0, 5.0, 5.0, -1.0];
        let w = whale_curve(&profits, 8).unwrap();
        let mut sorted = profits.to_vec();
        sorted.sort_by(|a, b| b.total_cmp(a));
        let (mut best, mut at, mut run) = (0.0f64, 0usize, 0.0);
        for (i, v) in sorted.iter().enumerate() {
            run += v;
            if run > best {
                best = run;
                at = i + 1;
            }
        }
        let total: f64 = profits.iter().sum();
        assert!((w.peak_profit_pct - 100.0 * best / total).abs() < 1e-12);
        assert!((w.peak_customer_share - at as f64 / 8.0).abs() < 1e-12);
        assert!((w.unprofitable_share - 3.0 / 8.0).abs() < 1e-12);
        assert!((w.profit_destroyed - 15.0).abs() < 1e-12);
        assert_eq!(w.curve.len(), 9);
        assert!((w.curve[8].profit_share - 1.0).abs() < 1e-12);
        assert!(whale_curve(&[], 4).is_err() && whale_curve(&[1.0], 0).is_err());
        assert!(whale_curve(&[1.0, f64::NAN], 4).is_err());
    }
}
