//! Evaluation of a binary churn classifier: how well its scores rank churners above
//! stayers (ROC AUC, average precision), how close they are as probabilities (Brier score,
//! reliability bins), and how much a campaign aimed at the top-scored customers gains
//! (lift table).
//!
//! Throughout, label `true` is the positive class (the customer churned) and a score is the
//! predicted probability of `true`. The definitions are those of scikit-learn, and the unit
//! tests check them against `roc_auc_score`, `average_precision_score`, `brier_score_loss`
//! and `calibration_curve(strategy="uniform")`:
//!
//! - tied scores count as one threshold, so a positive and a negative with the same score
//!   count ½ towards the AUC, and average precision takes one step per distinct score;
//! - reliability bins are `(lo, hi]` with the first one `[0, hi]`, and their edges are
//!   `k · (1 / bins)`, as in `numpy.linspace`;
//! - where scikit-learn warns and returns NaN or 0 (a metric that needs both classes given a
//!   single one), these functions return [`Error::Degenerate`] instead.
//!
//! Results are the same bit for bit on any number of threads: sorting breaks ties by row
//! index, and parallel sums add fixed chunks in a fixed order.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::sum_chunked;
use crate::error::{Error, Result};

/// One group of a lift table: customers ranked by score, highest first, and cut into
/// consecutive groups of nearly equal size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecileRow {
    /// 1-based group number; 1 holds the highest scores.
    pub decile: u32,
    /// Customers in the group.
    pub customers: usize,
    /// Positives (churners) in the group.
    pub positives: usize,
    /// Share of the group's customers that are positive.
    pub rate: f64,
    /// `rate` divided by the overall positive rate.
    pub lift: f64,
    /// Share of all positives found in groups `1..=decile`.
    pub cumulative_capture: f64,
    /// Positive rate of groups `1..=decile` together, divided by the overall rate.
    pub cumulative_lift: f64,
}

/// One equal-width bin of a reliability (calibration) diagram.
///
/// A bin holds the scores in `(lo, hi]`; the first bin also holds `lo` = 0. An empty bin
/// is kept, with `count` 0 and both means set to 0.0.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Lower edge (excluded, except 0 for the first bin).
    pub lo: f64,
    /// Upper edge (included).
    pub hi: f64,
    /// Rows whose score falls in the bin.
    pub count: usize,
    /// Mean score of those rows (0.0 when the bin is empty).
    pub mean_predicted: f64,
    /// Share of those rows that are positive (0.0 when the bin is empty).
    pub observed_rate: f64,
}

/// Everything [`evaluate`] reports about a set of scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Rows evaluated.
    pub rows: usize,
    /// Rows labelled positive.
    pub positives: usize,
    /// Area under the ROC curve ([`roc_auc`]).
    pub auc: f64,
    /// Average precision ([`pr_auc`]).
    pub pr_auc: f64,
    /// Brier score ([`brier`]).
    pub brier: f64,
    /// Lift of the top-scored tenth ([`top_decile_lift`]).
    pub top_decile_lift: f64,
    /// Lift table with 10 groups ([`lift_table`]).
    pub deciles: Vec<DecileRow>,
    /// 10 equal-width reliability bins ([`reliability`]).
    pub reliability: Vec<ReliabilityBin>,
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, a tie counting ½ (the Mann–Whitney statistic; equal to
/// `sklearn.metrics.roc_auc_score`). O(n log n).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the lengths differ, [`Error::BadValue`] if a score is not
/// finite,
/// [`Error::EmptyInput`] for no rows, [`Error::Degenerate`] if all labels are equal.
pub fn roc_auc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    let data = Checked::new(scores, labels)?;
    data.need_both_classes("the ROC AUC")?;
    Ok(auc_ranked(&data, &rank_descending(scores)))
}

/// Average precision: Σₙ (Rₙ − Rₙ₋₁) Pₙ over the distinct scores taken as thresholds from
/// the highest down, where Pₙ and Rₙ are the precision and recall of predicting positive
/// at score ≥ threshold n (equal to `sklearn.metrics.average_precision_score`; no
/// interpolation). O(n log n).
///
/// With every label positive it is 1.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the lengths differ, [`Error::BadValue`] if a score is not
/// finite,
/// [`Error::EmptyInput`] for no rows, [`Error::Degenerate`] if no label is positive
/// (recall is then undefined; scikit-learn warns and returns 0).
pub fn pr_auc(scores: &[f64], labels: &[bool]) -> Result<f64> {
    let data = Checked::new(scores, labels)?;
    data.need_positives("the average precision")?;
    Ok(average_precision_ranked(&data, &rank_descending(scores)))
}

/// Brier score: the mean of (score − label)², with labels as 0 and 1 (equal to
/// `sklearn.metrics.brier_score_loss`).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the lengths differ, [`Error::BadValue`] if a score is not
/// a probability in [0, 1], [`Error::EmptyInput`] for no rows.
pub fn brier(scores: &[f64], labels: &[bool]) -> Result<f64> {
    let data = Checked::new(scores, labels)?;
    data.need_probabilities()?;
    Ok(brier_checked(&data))
}

/// Lift table: rows sorted by score, highest first (equal scores in row order), cut into
/// `groups` consecutive parts whose sizes differ by at most one (the first `n % groups`
/// parts get the extra row), with the positive rate and lift of each part.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the lengths differ, [`Error::BadValue`] if a score is not
/// finite, [`Error::InvalidOption`] if `groups` is 0 or exceeds the number of rows;
/// [`Error::EmptyInput`] for no rows; [`Error::Degenerate`] if no label is positive (lift
/// is relative to the overall positive rate).
pub fn lift_table(scores: &[f64], labels: &[bool], groups: usize) -> Result<Vec<DecileRow>> {
    let data = Checked::new(scores, labels)?;
    data.need_groups(groups)?;
    data.need_positives("a lift table")?;
    Ok(lift_ranked(&data, &rank_descending(scores), groups))
}

/// Lift of the top-scored tenth of the rows: the first row of [`lift_table`] with 10
/// groups.
///
/// # Errors
///
/// As [`lift_table`]; in particular fewer than 10 rows is an [`Error::InvalidOption`].
pub fn top_decile_lift(scores: &[f64], labels: &[bool]) -> Result<f64> {
    Ok(lift_table(scores, labels, 10)?[0].lift)
}

/// Reliability diagram: `bins` equal-width bins over [0, 1] with, for each, the number of
/// rows, their mean score and their observed positive rate. All bins are returned; an empty
/// one has count 0 and means 0.0. On the non-empty bins, `observed_rate` and
/// `mean_predicted` equal `sklearn.calibration.calibration_curve(strategy="uniform")`'s
/// `prob_true` and `prob_pred` (which drops empty bins).
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the lengths differ, [`Error::InvalidOption`] if `bins` is
/// 0, [`Error::BadValue`] if a score is not in [0, 1]; [`Error::EmptyInput`] for no rows.
pub fn reliability(scores: &[f64], labels: &[bool], bins: usize) -> Result<Vec<ReliabilityBin>> {
    let data = Checked::new(scores, labels)?;
    if bins == 0 {
        return Err(Error::option("bins", 0, "at least 1 bin"));
    }
    data.need_probabilities()?;
    Ok(reliability_checked(&data, bins))
}

/// All of the above at once, sorting the scores only once: AUC, average precision, Brier
/// score, a 10-group lift table and 10 reliability bins.
///
/// # Errors
///
/// [`Error::LengthMismatch`] if the lengths differ, [`Error::BadValue`] if a score is not
/// in [0, 1], [`Error::InvalidOption`] (option `groups`) if there are fewer than 10 rows;
/// [`Error::EmptyInput`] for no rows; [`Error::Degenerate`] if all labels are equal.
pub fn evaluate(scores: &[f64], labels: &[bool]) -> Result<Evaluation> {
    const GROUPS: usize = 10;
    const BINS: usize = 10;
    let data = Checked::new(scores, labels)?;
    data.need_probabilities()?;
    data.need_both_classes("an evaluation")?;
    data.need_groups(GROUPS)?;
    let order = rank_descending(scores);
    let deciles = lift_ranked(&data, &order, GROUPS);
    Ok(Evaluation {
        rows: scores.len(),
        positives: data.positives,
        auc: auc_ranked(&data, &order),
        pr_auc: average_precision_ranked(&data, &order),
        brier: brier_checked(&data),
        top_decile_lift: deciles[0].lift,
        deciles,
        reliability: reliability_checked(&data, BINS),
    })
}

/// Scores and labels of equal, non-zero length with finite scores.
struct Checked<'a> {
    scores: &'a [f64],
    labels: &'a [bool],
    positives: usize,
}

impl<'a> Checked<'a> {
    fn new(scores: &'a [f64], labels: &'a [bool]) -> Result<Self> {
        Error::check_len("labels", labels.len(), scores.len(), "scores")?;
        if scores.is_empty() {
            return Err(Error::EmptyInput);
        }
        // position_first, not position_any: the error must name the same row every time.
        if let Some(i) = scores.par_iter().position_first(|s| !s.is_finite()) {
            return Err(Error::bad_value(
                "scores",
                i,
                "score",
                scores[i],
                "a finite number",
            ));
        }
        let positives = labels.par_iter().filter(|&&y| y).count();
        Ok(Checked {
            scores,
            labels,
            positives,
        })
    }

    fn rows(&self) -> usize {
        self.scores.len()
    }

    fn need_probabilities(&self) -> Result<()> {
        let outside = |s: &f64| !(0.0..=1.0).contains(s);
        match self.scores.par_iter().position_first(outside) {
            Some(i) => Err(Error::bad_value(
                "scores",
                i,
                "score",
                self.scores[i],
                "a probability in [0, 1]",
            )),
            None => Ok(()),
        }
    }

    fn need_positives(&self, what: &str) -> Result<()> {
        if self.positives == 0 {
            return Err(self.single_class(what));
        }
        Ok(())
    }

    fn need_both_classes(&self, what: &str) -> Result<()> {
        if self.positives == 0 || self.positives == self.rows() {
            return Err(self.single_class(what));
        }
        Ok(())
    }

    fn single_class(&self, what: &str) -> Error {
        let (value, class) = if self.positives == 0 {
            ("false", "no churner")
        } else {
            ("true", "no non-churner")
        };
        Error::Degenerate {
            input: "labels".into(),
            reason: format!(
                "all {} labels are {value} ({class}), so {what} is undefined",
                self.rows()
            ),
        }
    }

    fn need_groups(&self, groups: usize) -> Result<()> {
        if groups == 0 || groups > self.rows() || u32::try_from(groups).is_err() {
            return Err(Error::option(
                "groups",
                groups,
                format!(
                    "1..={} groups: every group needs at least one of the {} rows",
                    self.rows().min(u32::MAX as usize),
                    self.rows()
                ),
            ));
        }
        Ok(())
    }
}

/// The score used for ordering and tie detection: adding +0.0 turns −0.0 into +0.0, which
/// `total_cmp` and `to_bits` would otherwise tell apart although they are the same score.
fn key(score: f64) -> f64 {
    score + 0.0
}

/// Row indices by score, highest first; equal scores in row order, so that the order (and
/// every sum taken along it) does not depend on the sort's scheduling.
fn rank_descending(scores: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.par_sort_unstable_by(|&a, &b| key(scores[b]).total_cmp(&key(scores[a])).then(a.cmp(&b)));
    order
}

/// Runs of equal scores along `order`: each is one threshold.
fn ties<'o>(scores: &'o [f64], order: &'o [usize]) -> impl Iterator<Item = &'o [usize]> + 'o {
    order.chunk_by(move |&a, &b| key(scores[a]).to_bits() == key(scores[b]).to_bits())
}

fn count_positives(labels: &[bool], rows: &[usize]) -> usize {
    rows.iter().filter(|&&i| labels[i]).count()
}

fn auc_ranked(data: &Checked, order: &[usize]) -> f64 {
    // Twice the number of concordant pairs (a tie counts one) is an integer, so it is
    // accumulated exactly and rounded once, whatever n.
    let mut positives_above: u128 = 0;
    let mut twice_concordant: u128 = 0;
    for run in ties(data.scores, order) {
        let pos = count_positives(data.labels, run) as u128;
        let neg = run.len() as u128 - pos;
        twice_concordant += 2 * neg * positives_above + pos * neg;
        positives_above += pos;
    }
    let positives = data.positives as u128;
    let pairs = positives * (data.rows() as u128 - positives);
    twice_concordant as f64 / (2 * pairs) as f64
}

fn average_precision_ranked(data: &Checked, order: &[usize]) -> f64 {
    // Σ (ΔTPₙ / P) · TPₙ / (TPₙ + FPₙ), with the division by P taken once at the end.
    let mut true_pos = 0usize;
    let mut predicted = 0usize;
    let mut sum = 0.0;
    for run in ties(data.scores, order) {
        let pos = count_positives(data.labels, run);
        true_pos += pos;
        predicted += run.len();
        if pos > 0 {
            sum += pos as f64 * (true_pos as f64 / predicted as f64);
        }
    }
    sum / data.positives as f64
}

fn brier_checked(data: &Checked) -> f64 {
    let total = sum_chunked(data.rows(), 1, |i, acc| {
        let miss = data.scores[i] - f64::from(u8::from(data.labels[i]));
        acc[0] += miss * miss;
    });
    total[0] / data.rows() as f64
}

fn lift_ranked(data: &Checked, order: &[usize], groups: usize) -> Vec<DecileRow> {
    let rows = data.rows();
    let (base, extra) = (rows / groups, rows % groups);
    // lift = (pos / customers) / (P / n), written as one quotient of products to round once.
    let lift = |pos: usize, customers: usize| {
        (pos as f64 * rows as f64) / (customers as f64 * data.positives as f64)
    };
    let mut start = 0;
    let (mut cum_customers, mut cum_positives) = (0, 0);
    (0..groups)
        .map(|g| {
            let customers = base + usize::from(g < extra);
            let positives = count_positives(data.labels, &order[start..start + customers]);
            start += customers;
            cum_customers += customers;
            cum_positives += positives;
            DecileRow {
                // need_groups has checked that the group count fits.
                decile: u32::try_from(g + 1).unwrap_or(u32::MAX),
                customers,
                positives,
                rate: positives as f64 / customers as f64,
                lift: lift(positives, customers),
                cumulative_capture: cum_positives as f64 / data.positives as f64,
                cumulative_lift: lift(cum_positives, cum_customers),
            }
        })
        .collect()
}

/// Bin of a probability among `bins` bins with edges `k · (1 / bins)`: the number of inner
/// edges strictly below it. This is numpy's `searchsorted(edges[1:-1], p)` as used by
/// scikit-learn; it matters because scores such as 0.3 lie one rounding away from the
/// computed edge 3 · 0.1 = 0.30000000000000004.
fn bin_of(p: f64, bins: usize, width: f64) -> usize {
    let edge = |k: usize| k as f64 * width;
    // The float guess can be one off either way near an edge; the loops settle it exactly.
    let mut b = ((p * bins as f64) as usize).min(bins - 1);
    while b > 0 && edge(b) >= p {
        b -= 1;
    }
    while b + 1 < bins && edge(b + 1) < p {
        b += 1;
    }
    b
}

fn reliability_checked(data: &Checked, bins: usize) -> Vec<ReliabilityBin> {
    let width = 1.0 / bins as f64;
    // Per bin: score sum, positives, rows. Counts are kept as f64 so one fixed-order
    // parallel sum serves all three; they are exact below 2^53 rows.
    let sums = sum_chunked(data.rows(), 3 * bins, |i, acc| {
        let b = bin_of(data.scores[i], bins, width);
        acc[b] += data.scores[i];
        acc[bins + b] += f64::from(u8::from(data.labels[i]));
        acc[2 * bins + b] += 1.0;
    });
    (0..bins)
        .map(|b| {
            let count = sums[2 * bins + b];
            let mean = |sum: f64| if count > 0.0 { sum / count } else { 0.0 };
            ReliabilityBin {
                lo: b as f64 * width,
                hi: if b + 1 == bins {
                    1.0
                } else {
                    (b + 1) as f64 * width
                },
                count: count as usize,
                mean_predicted: mean(sums[b]),
                observed_rate: mean(sums[bins + b]),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_abs_diff_eq;
    use rand::{Rng, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;
    use serde_json::Value;

    const REFERENCE: &str = include_str!("../../tests/data/metrics/metrics_reference.json");

    struct Case {
        name: String,
        scores: Vec<f64>,
        labels: Vec<bool>,
        json: Value,
    }

    fn floats(v: &Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect()
    }

    fn cases() -> Vec<Case> {
        let all: Value = serde_json::from_str(REFERENCE).unwrap();
        let cases: Vec<Case> = all["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| Case {
                name: c["name"].as_str().unwrap().to_string(),
                scores: floats(&c["scores"]),
                labels: c["labels"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|y| y.as_bool().unwrap())
                    .collect(),
                json: c.clone(),
            })
            .collect();
        assert_eq!(cases.len(), 3);
        cases
    }

    fn reference(case: &Case, key: &str) -> f64 {
        case.json[key].as_f64().unwrap()
    }

    #[test]
    fn auc_pr_auc_brier_match_sklearn() {
        for case in cases() {
            let (s, y) = (&case.scores[..], &case.labels[..]);
            let auc = roc_auc(s, y).unwrap();
            let ap = pr_auc(s, y).unwrap();
            let b = brier(s, y).unwrap();
            assert_abs_diff_eq!(auc, reference(&case, "roc_auc"), epsilon = 1e-12);
            assert_abs_diff_eq!(ap, reference(&case, "average_precision"), epsilon = 1e-12);
            assert_abs_diff_eq!(b, reference(&case, "brier"), epsilon = 1e-12);
        }
    }

    #[test]
    fn reliability_matches_sklearn_calibration_curve() {
        for case in cases() {
            let bins = reliability(&case.scores, &case.labels, 10).unwrap();
            assert_eq!(bins.len(), 10);
            let counts: Vec<usize> = bins.iter().map(|b| b.count).collect();
            let expected_counts: Vec<usize> = case.json["calibration_counts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(counts, expected_counts, "case {}", case.name);
            // sklearn drops empty bins; compare the rest in order.
            let full: Vec<&ReliabilityBin> = bins.iter().filter(|b| b.count > 0).collect();
            let prob_true = floats(&case.json["calibration_prob_true"]);
            let prob_pred = floats(&case.json["calibration_prob_pred"]);
            assert_eq!(full.len(), prob_true.len(), "case {}", case.name);
            for ((bin, t), p) in full.iter().zip(&prob_true).zip(&prob_pred) {
                assert_abs_diff_eq!(bin.observed_rate, *t, epsilon = 1e-12);
                assert_abs_diff_eq!(bin.mean_predicted, *p, epsilon = 1e-12);
            }
            for bin in bins.iter().filter(|b| b.count == 0) {
                assert_eq!(bin.mean_predicted.to_bits(), 0.0f64.to_bits());
                assert_eq!(bin.observed_rate.to_bits(), 0.0f64.to_bits());
            }
            let n: usize = counts.iter().sum();
            assert_eq!(n, case.scores.len());
        }
    }

    #[test]
    fn reliability_edges_follow_numpy_linspace() {
        let bins = reliability(&[0.0, 0.3, 1.0], &[false, true, true], 10).unwrap();
        assert_eq!(bins[0].lo.to_bits(), 0.0f64.to_bits());
        assert_eq!(bins[2].hi.to_bits(), 0.30000000000000004f64.to_bits());
        assert_eq!(bins[9].hi.to_bits(), 1.0f64.to_bits());
        // 0 opens the first bin, 0.3 sits just below the computed edge 3 · 0.1 and so closes
        // the third bin (0.2, 0.3], and 1 closes the last one.
        let counts: Vec<usize> = bins.iter().map(|b| b.count).collect();
        assert_eq!(counts, [1, 0, 1, 0, 0, 0, 0, 0, 0, 1]);
        // Every k/10 falls in the bin it closes, whether it rounds above or below k · 0.1.
        for k in 1..=10u32 {
            let p = f64::from(k) / 10.0;
            assert_eq!(bin_of(p, 10, 0.1), k as usize - 1, "p = {p}");
        }
        assert_eq!(bin_of(0.0, 10, 0.1), 0);
        assert_eq!(bin_of(0.7, 7, 1.0 / 7.0), 4);
    }

    #[test]
    fn lift_matches_numpy_rule() {
        for case in cases() {
            let Some(rows) = case.json["lift_numpy"].as_array() else {
                continue;
            };
            let table = lift_table(&case.scores, &case.labels, 10).unwrap();
            assert_eq!(table.len(), rows.len());
            for (row, r) in table.iter().zip(rows) {
                assert_eq!(u64::from(row.decile), r["decile"].as_u64().unwrap());
                assert_eq!(row.customers as u64, r["customers"].as_u64().unwrap());
                assert_eq!(row.positives as u64, r["positives"].as_u64().unwrap());
                for (got, key) in [
                    (row.rate, "rate"),
                    (row.lift, "lift"),
                    (row.cumulative_capture, "cumulative_capture"),
                    (row.cumulative_lift, "cumulative_lift"),
                ] {
                    assert_abs_diff_eq!(got, r[key].as_f64().unwrap(), epsilon = 1e-12);
                }
            }
            let top = top_decile_lift(&case.scores, &case.labels).unwrap();
            assert_eq!(top.to_bits(), table[0].lift.to_bits());
        }
    }

    #[test]
    fn lift_table_by_hand() {
        // Sorted by score, highest first, ties by row index:
        //   row 1 (0.9, +), row 3 (0.8, -), row 2 (0.5, -) | row 5 (0.5, +), row 6 (0.3, -)
        //   | row 0 (0.2, -), row 4 (0.1, -)
        // 7 rows in 3 groups: sizes 3, 2, 2. The tie at 0.5 straddles the first cut and row 2
        // goes first. Overall rate 2/7.
        //   group 1: 1/3 positive, lift (1/3)/(2/7) = 7/6, capture 1/2, cumulative lift 7/6
        //   group 2: 1/2 positive, lift (1/2)/(2/7) = 7/4, capture 1, cumulative (2/5)/(2/7) = 7/5
        //   group 3: 0 positive, lift 0, capture 1, cumulative lift 1
        let scores = [0.2, 0.9, 0.5, 0.8, 0.1, 0.5, 0.3];
        let labels = [false, true, false, false, false, true, false];
        let table = lift_table(&scores, &labels, 3).unwrap();
        let expected = [
            (1, 3, 1, 1.0 / 3.0, 7.0 / 6.0, 0.5, 7.0 / 6.0),
            (2, 2, 1, 0.5, 7.0 / 4.0, 1.0, 7.0 / 5.0),
            (3, 2, 0, 0.0, 0.0, 1.0, 1.0),
        ];
        assert_eq!(table.len(), 3);
        for (row, e) in table.iter().zip(expected) {
            assert_eq!((row.decile, row.customers, row.positives), (e.0, e.1, e.2));
            assert_abs_diff_eq!(row.rate, e.3, epsilon = 1e-15);
            assert_abs_diff_eq!(row.lift, e.4, epsilon = 1e-15);
            assert_abs_diff_eq!(row.cumulative_capture, e.5, epsilon = 1e-15);
            assert_abs_diff_eq!(row.cumulative_lift, e.6, epsilon = 1e-15);
        }
        // One group is the whole population: lift 1.
        let one = lift_table(&scores, &labels, 1).unwrap();
        assert_eq!((one[0].customers, one[0].positives), (7, 2));
        assert_abs_diff_eq!(one[0].lift, 1.0, epsilon = 1e-15);
    }

    #[test]
    fn auc_matches_pair_count() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let n = 300;
        let scores: Vec<f64> = (0..n)
            .map(|_| (rng.gen::<f64>() * 20.0).round() / 20.0)
            .collect();
        let labels: Vec<bool> = scores.iter().map(|&s| rng.gen::<f64>() < s).collect();
        let mut twice = 0u64;
        let mut pairs = 0u64;
        for i in (0..n).filter(|&i| labels[i]) {
            for j in (0..n).filter(|&j| !labels[j]) {
                pairs += 1;
                twice += match scores[i].total_cmp(&scores[j]) {
                    std::cmp::Ordering::Greater => 2,
                    std::cmp::Ordering::Equal => 1,
                    std::cmp::Ordering::Less => 0,
                };
            }
        }
        let expected = twice as f64 / (2 * pairs) as f64;
        assert_eq!(
            roc_auc(&scores, &labels).unwrap().to_bits(),
            expected.to_bits()
        );
    }

    #[test]
    fn negative_zero_ties_with_zero() {
        let auc = roc_auc(&[-0.0, 0.0, 0.5], &[true, false, true]).unwrap();
        assert_abs_diff_eq!(auc, 0.75, epsilon = 1e-15);
        // One threshold at 0: precision 2/3 for the second positive.
        let ap = pr_auc(&[-0.0, 0.0, 0.5], &[true, false, true]).unwrap();
        assert_abs_diff_eq!(ap, 0.5 * 1.0 + 0.5 * (2.0 / 3.0), epsilon = 1e-15);
    }

    fn evaluation_bits(e: &Evaluation) -> Vec<u64> {
        let mut v = vec![
            e.rows as u64,
            e.positives as u64,
            e.auc.to_bits(),
            e.pr_auc.to_bits(),
            e.brier.to_bits(),
            e.top_decile_lift.to_bits(),
        ];
        for d in &e.deciles {
            v.extend([
                u64::from(d.decile),
                d.customers as u64,
                d.positives as u64,
                d.rate.to_bits(),
                d.lift.to_bits(),
                d.cumulative_capture.to_bits(),
                d.cumulative_lift.to_bits(),
            ]);
        }
        for b in &e.reliability {
            v.extend([
                b.lo.to_bits(),
                b.hi.to_bits(),
                b.count as u64,
                b.mean_predicted.to_bits(),
                b.observed_rate.to_bits(),
            ]);
        }
        v
    }

    #[test]
    fn same_bits_on_one_and_two_threads() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2024);
        let n = 100_000;
        let scores: Vec<f64> = (0..n)
            .map(|i| {
                let p: f64 = rng.gen();
                // Every third score rounded, so that many ties cross chunk and group cuts.
                if i % 3 == 0 {
                    (p * 1000.0).round() / 1000.0
                } else {
                    p
                }
            })
            .collect();
        let labels: Vec<bool> = scores.iter().map(|&p| rng.gen::<f64>() < p).collect();
        let on = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| evaluate(&scores, &labels).unwrap())
        };
        let (one, two) = (on(1), on(2));
        assert_eq!(evaluation_bits(&one), evaluation_bits(&two));
        // And the parts agree with the single-metric functions.
        assert_eq!(
            one.auc.to_bits(),
            roc_auc(&scores, &labels).unwrap().to_bits()
        );
        assert_eq!(
            one.pr_auc.to_bits(),
            pr_auc(&scores, &labels).unwrap().to_bits()
        );
        assert_eq!(
            one.brier.to_bits(),
            brier(&scores, &labels).unwrap().to_bits()
        );
        assert_eq!(one.deciles, lift_table(&scores, &labels, 10).unwrap());
        assert_eq!(one.reliability, reliability(&scores, &labels, 10).unwrap());
        assert_eq!(one.top_decile_lift.to_bits(), one.deciles[0].lift.to_bits());
        assert_eq!(one.deciles.iter().map(|d| d.customers).sum::<usize>(), n);
        assert!(one.auc > 0.7 && one.top_decile_lift > 1.5);
    }

    fn invalid_option(e: Error) -> (&'static str, String, String) {
        match e {
            Error::InvalidOption {
                option,
                value,
                allowed,
            } => (option, value, allowed),
            other => panic!("expected InvalidOption, got {other:?}"),
        }
    }

    /// The input, row, field and value of a [`Error::BadValue`].
    fn bad_value(e: Error) -> (String, usize, String, String) {
        match e {
            Error::BadValue {
                input,
                row,
                field,
                value,
                ..
            } => (input, row, field, value),
            other => panic!("expected BadValue, got {other:?}"),
        }
    }

    #[test]
    fn errors() {
        let s = [0.1, 0.4, 0.8];
        let y = [false, true, true];

        assert_eq!(
            roc_auc(&s, &y[..2]).unwrap_err(),
            Error::LengthMismatch {
                input: "labels",
                found: 2,
                expected: 3,
                against: "scores",
            }
        );

        assert_eq!(roc_auc(&[], &[]).unwrap_err(), Error::EmptyInput);
        assert_eq!(evaluate(&[], &[]).unwrap_err(), Error::EmptyInput);

        for (bad, shown) in [(f64::NAN, "NaN"), (f64::INFINITY, "inf")] {
            let (input, row, field, value) = bad_value(pr_auc(&[0.1, bad, bad], &y).unwrap_err());
            assert_eq!(
                (input.as_str(), row, field.as_str()),
                ("scores", 1, "score")
            );
            assert_eq!(value, shown);
        }

        type Metric = fn(&[f64], &[bool]) -> Result<f64>;
        let range_checked: [Metric; 2] = [brier, |s, y| evaluate(s, y).map(|e| e.brier)];
        for f in range_checked {
            let (input, row, field, value) = bad_value(f(&[0.1, 0.4, 1.5], &y).unwrap_err());
            assert_eq!(
                (input.as_str(), row, field.as_str()),
                ("scores", 2, "score")
            );
            assert_eq!(value, "1.5");
        }
        let (_, row, _, value) = bad_value(reliability(&[0.1, -0.2, 0.3], &y, 10).unwrap_err());
        assert_eq!((row, value.as_str()), (1, "-0.2"));
        let (option, value, _) = invalid_option(reliability(&s, &y, 0).unwrap_err());
        assert_eq!((option, value.as_str()), ("bins", "0"));

        // Rank metrics take any finite scores.
        assert_abs_diff_eq!(
            roc_auc(&[-3.0, 2.0, 7.0], &y).unwrap(),
            1.0,
            epsilon = 1e-15
        );

        for labels in [[false; 3], [true; 3]] {
            for e in [
                roc_auc(&s, &labels).unwrap_err(),
                evaluate(&[0.1; 12], &[labels[0]; 12]).unwrap_err(),
            ] {
                match e {
                    Error::Degenerate { input, reason } => {
                        assert_eq!(input, "labels");
                        assert!(reason.contains("undefined"), "{reason}");
                    }
                    other => panic!("expected Degenerate, got {other:?}"),
                }
            }
        }
        // Average precision needs a positive, but all positives is fine (as in sklearn).
        assert!(matches!(
            pr_auc(&s, &[false; 3]).unwrap_err(),
            Error::Degenerate { .. }
        ));
        assert_eq!(pr_auc(&s, &[true; 3]).unwrap().to_bits(), 1.0f64.to_bits());
        assert!(matches!(
            lift_table(&s, &[false; 3], 2).unwrap_err(),
            Error::Degenerate { .. }
        ));

        assert_eq!(
            invalid_option(lift_table(&s, &y, 0).unwrap_err()).0,
            "groups"
        );
        let (option, value, allowed) = invalid_option(lift_table(&s, &y, 4).unwrap_err());
        assert_eq!((option, value.as_str()), ("groups", "4"));
        assert!(allowed.contains("the 3 rows"), "{allowed}");
        assert_eq!(
            invalid_option(top_decile_lift(&s, &y).unwrap_err()).0,
            "groups"
        );
        assert_eq!(invalid_option(evaluate(&s, &y).unwrap_err()).0, "groups");
    }
}
