//! RFM scoring by quantiles, and named segments from a monotone map.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, Rows};
use crate::error::{Error, Result};
use crate::summary::Summary;
use crate::time::TimeUnit;

/// The 5 × 5 grid of segment names over (R, FM) scores, and the order of the segments
/// from worst to best.
///
/// FM is the mean of the F and M scores, rounded half up. A map is accepted only when its
/// grid never gets worse as R or FM grows: then a customer who is more recent, more
/// frequent and higher-spending than another never lands in a worse segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentMap {
    /// Segment names, worst first.
    pub names: Vec<String>,
    /// `grid[r - 1][fm - 1]` is the index into `names` of the segment for R = r, FM = fm.
    pub grid: [[u8; 5]; 5],
}

impl Default for SegmentMap {
    /// The eleven segments in common use (Lost, Hibernating, About to sleep, At risk,
    /// Can't lose them, Need attention, Promising, New, Potential loyalists, Loyal,
    /// Champions), arranged so that the grid is monotone:
    ///
    /// ```text
    ///          FM=1            FM=2                 FM=3                 FM=4             FM=5
    /// R=5  New             Potential loyalists Potential loyalists Champions        Champions
    /// R=4  Promising       Potential loyalists Potential loyalists Loyal            Champions
    /// R=3  About to sleep  Need attention      Need attention      Loyal            Loyal
    /// R=2  Hibernating     About to sleep      At risk             Can't lose them  Loyal
    /// R=1  Lost            Lost                At risk             Can't lose them  Can't lose them
    /// ```
    fn default() -> Self {
        let names = [
            "Lost",
            "Hibernating",
            "About to sleep",
            "At risk",
            "Can't lose them",
            "Need attention",
            "Promising",
            "New",
            "Potential loyalists",
            "Loyal",
            "Champions",
        ];
        SegmentMap {
            names: names.iter().map(|s| s.to_string()).collect(),
            grid: [
                [0, 0, 3, 4, 4],
                [1, 2, 3, 4, 9],
                [2, 5, 5, 9, 9],
                [6, 8, 8, 9, 10],
                [7, 8, 8, 10, 10],
            ],
        }
    }
}

impl SegmentMap {
    fn check(&self) -> Result<()> {
        let n = self.names.len();
        if n == 0 || n > 256 {
            return Err(Error::option(
                "segments",
                format!("{n} names"),
                "1 to 256 segment names",
            ));
        }
        for r in 0..5 {
            for c in 0..5 {
                let v = self.grid[r][c];
                if usize::from(v) >= n {
                    return Err(Error::option(
                        "segments",
                        format!("grid[{r}][{c}] = {v}"),
                        format!("a segment index below the {n} names"),
                    ));
                }
                if (r > 0 && v < self.grid[r - 1][c]) || (c > 0 && v < self.grid[r][c - 1]) {
                    return Err(Error::option(
                        "segments",
                        format!("grid[{r}][{c}] = {v} ({})", self.names[usize::from(v)]),
                        "a grid that never gets worse as R or FM grows (else a better \
                         customer would land in a worse segment)",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// Settings of RFM scoring: number of score levels k (default 5) and the segment map.
///
/// Scores are quantile ranks: a customer's score on a measure is
/// 1 + ⌊k · (customers strictly worse on it) / n⌋. Tied customers therefore share a score
/// (no tie is broken by id or order), and a better value never scores lower. Recency is
/// days since the last purchase (fewer is better), frequency the number of purchase days,
/// monetary the revenue; customers with a single purchase all have the lowest frequency
/// and score 1 on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmOptions {
    levels: u8,
    segments: SegmentMap,
}

impl Default for RfmOptions {
    fn default() -> Self {
        RfmOptions {
            levels: 5,
            segments: SegmentMap::default(),
        }
    }
}

/// A segment's customers and value (see [`RfmScores::value_by_segment`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentValue {
    /// Segment name.
    pub segment: String,
    /// Customers in it.
    pub customers: usize,
    /// Their total value.
    pub value: f64,
    /// Share of the total over all segments (0 when that total is 0).
    pub share: f64,
}

/// One segment's size (see [`RfmScores::segment_counts`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentCount {
    /// Segment name.
    pub segment: String,
    /// Customers in it.
    pub customers: usize,
}

/// RFM scores and segments of a summary's customers (row `i` is `rows.id(i)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RfmScores {
    /// The customers, and the scope they were read under.
    pub rows: Rows,
    /// Recency score per customer (1 = longest since the last purchase).
    pub r: Vec<u8>,
    /// Frequency score.
    pub f: Vec<u8>,
    /// Monetary score.
    pub m: Vec<u8>,
    /// Segment per customer, an index into `names`.
    pub segment: Vec<u8>,
    /// Segment names, worst first.
    pub names: Vec<String>,
    /// Score levels k.
    pub levels: u8,
}

impl RfmScores {
    /// The composite code of customer `i`, e.g. 545 for R = 5, F = 4, M = 5.
    pub fn code(&self, i: usize) -> u16 {
        100 * u16::from(self.r[i]) + 10 * u16::from(self.f[i]) + u16::from(self.m[i])
    }

    /// Segment name of customer `i`.
    pub fn segment_name(&self, i: usize) -> &str {
        &self.names[usize::from(self.segment[i])]
    }

    /// Customers, total value and share of the total value per segment, in the order of
    /// `names`, for any per-customer value (net profit, CLV, revenue).
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when `values` does not have one value per customer.
    pub fn value_by_segment(&self, values: &[f64]) -> Result<Vec<SegmentValue>> {
        Error::check_len("values", values.len(), self.segment.len(), "customers")?;
        let mut out: Vec<SegmentValue> = self
            .names
            .iter()
            .map(|name| SegmentValue {
                segment: name.clone(),
                customers: 0,
                value: 0.0,
                share: 0.0,
            })
            .collect();
        for (&s, &v) in self.segment.iter().zip(values) {
            let o = &mut out[usize::from(s)];
            o.customers += 1;
            o.value += v;
        }
        let total: f64 = out.iter().map(|o| o.value).sum();
        for o in &mut out {
            o.share = if total == 0.0 { 0.0 } else { o.value / total };
        }
        Ok(out)
    }

    /// Customers per segment, in the order of `names`.
    pub fn segment_counts(&self) -> Vec<SegmentCount> {
        let mut counts = vec![0usize; self.names.len()];
        for &s in &self.segment {
            counts[usize::from(s)] += 1;
        }
        self.names
            .iter()
            .zip(counts)
            .map(|(segment, customers)| SegmentCount {
                segment: segment.clone(),
                customers,
            })
            .collect()
    }
}

impl RfmOptions {
    /// Five levels and the default segment map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Score levels k, 2 to 9 (the composite code has one digit per score).
    pub fn levels(mut self, k: u8) -> Self {
        self.levels = k;
        self
    }

    /// A custom segment map (checked to be monotone when scoring).
    pub fn segments(mut self, map: SegmentMap) -> Self {
        self.segments = map;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for levels outside 2..=9 or a segment map that is not
    /// monotone.
    pub fn validate(&self) -> Result<()> {
        if !(2..=9).contains(&self.levels) {
            return Err(Error::option("levels", self.levels, "2 to 9"));
        }
        self.segments.check()
    }

    /// Scores the customers of a summary as of its date: recency is days since the last
    /// purchase, frequency purchase days, monetary revenue.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the summary's scope forbids profiling; as
    /// [`compute_values`](Self::compute_values).
    pub fn compute<U: TimeUnit>(&self, summary: &Summary<U>) -> Result<RfmScores> {
        summary.scope().require(Area::Profiling)?;
        let n = summary.len();
        let recency: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| summary.t(i).days() - summary.t_x(i).days())
            .collect();
        let frequency: Vec<f64> = (0..n)
            .into_par_iter()
            .map(|i| f64::from(summary.x(i)) + 1.0)
            .collect();
        self.compute_values(summary.rows(), &recency, &frequency, &summary.revenues())
    }

    /// Scores the customers of `rows` from their days since the last purchase, purchase
    /// counts and revenue (slices index-aligned with the rows).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for levels outside 2..=9 or a non-monotone segment map;
    /// [`Error::LengthMismatch`] for slices of different lengths; [`Error::BadValue`] for
    /// a NaN value (naming the measure and position); [`Error::EmptyInput`] without
    /// customers.
    pub fn compute_values(
        &self,
        rows: &Rows,
        recency_days: &[f64],
        frequency: &[f64],
        monetary: &[f64],
    ) -> Result<RfmScores> {
        self.validate()?;
        let n = rows.len();
        Error::check_len("recency_days", recency_days.len(), n, "rows")?;
        Error::check_len("frequency", frequency.len(), n, "rows")?;
        Error::check_len("monetary", monetary.len(), n, "rows")?;
        if n == 0 {
            return Err(Error::EmptyInput);
        }
        for (input, measure, v) in [
            ("recency_days", "recency", recency_days),
            ("frequency", "frequency", frequency),
            ("monetary", "monetary", monetary),
        ] {
            if let Some(i) = v.par_iter().position_first(|x| x.is_nan()) {
                return Err(Error::bad_value(
                    input,
                    i,
                    measure,
                    v[i],
                    "a number (not NaN)",
                ));
            }
        }
        let k = self.levels;
        // Recency: fewer days is better, so score the negated days.
        let negated: Vec<f64> = recency_days.par_iter().map(|d| -d).collect();
        let r = quantile_scores(&negated, k);
        let f = quantile_scores(frequency, k);
        let m = quantile_scores(monetary, k);
        // Segments read the 5-level grid: rescale scores to 1..=5 (monotone).
        let five = |s: u8| ((5 * u16::from(s)).div_ceil(u16::from(k))) as usize;
        let segment = (0..n)
            .into_par_iter()
            .map(|i| {
                let fm = (five(f[i]) + five(m[i])).div_ceil(2);
                self.segments.grid[five(r[i]) - 1][fm - 1]
            })
            .collect();
        Ok(RfmScores {
            rows: rows.clone(),
            r,
            f,
            m,
            segment,
            names: self.segments.names.clone(),
            levels: k,
        })
    }
}

/// Scores 1..=k by 1 + ⌊k · below(v) / n⌋, below(v) = the number of values strictly less
/// than v. A value scores at least j + 1 when it exceeds the value at sorted position
/// ⌈j·n/k⌉ − 1, so k − 1 order statistics (selection, not a sort) give every score.
fn quantile_scores(values: &[f64], k: u8) -> Vec<u8> {
    let n = values.len();
    let mut work = values.to_vec();
    let mut thresholds = Vec::with_capacity(usize::from(k) - 1);
    for j in 1..usize::from(k) {
        let c = (j * n).div_ceil(usize::from(k));
        if c == 0 {
            // Fewer customers than levels: no value can have a negative count below it.
            thresholds.push(f64::INFINITY);
            continue;
        }
        let (_, t, _) = work.select_nth_unstable_by(c - 1, f64::total_cmp);
        thresholds.push(*t);
    }
    values
        .par_iter()
        .map(|v| 1 + thresholds.iter().filter(|&t| v > t).count() as u8)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scores against the definition, counted by brute force, including ties.
    #[test]
    fn quantile_scores_match_their_definition() {
        let values = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0, 3.0, 5.0];
        for k in 2..=9u8 {
            let got = quantile_scores(&values, k);
            for (i, v) in values.iter().enumerate() {
                let below = values.iter().filter(|w| *w < v).count();
                let want = 1 + (usize::from(k) * below / values.len()) as u8;
                assert_eq!(got[i], want, "k = {k}, value {v}");
            }
        }
    }

    #[test]
    fn the_default_map_is_monotone_and_a_broken_one_is_refused() {
        SegmentMap::default().check().unwrap();
        let mut broken = SegmentMap::default();
        broken.grid[4][0] = 0; // "Lost" for the most recent customers
        match broken.check() {
            Err(Error::InvalidOption { option, value, .. }) => {
                assert_eq!(
                    (option, value.as_str()),
                    ("segments", "grid[4][0] = 0 (Lost)")
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
