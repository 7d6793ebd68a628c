//! Uplift evaluation: how well predicted uplift ranks the customers a campaign moves, with
//! the definitions of scikit-uplift 0.5 (`sklift.metrics`), reproduced to the bit where
//! the arithmetic allows.
//!
//! Rows carry an outcome `y` (0/1), a treatment flag (1 treated, 0 control) and a score
//! (the predicted uplift). Rows are ranked by score, highest first, as scikit-uplift ranks
//! them: `numpy.argsort(score, kind="mergesort")[::-1]`, so **equal scores come in
//! descending row order** (the last row first). That order matters to the metrics that cut
//! the ranking by position ([`UpliftSample::uplift_at_k`],
//! [`UpliftSample::uplift_by_percentile`]): a cut inside a run of equal scores takes the
//! later rows of the run. The curves do not depend on it: as in
//! `sklearn.metrics.roc_curve`, a run of equal scores is one step, so the curves have one
//! point per distinct score, after the point (0, 0).
//!
//! With cumulative counts down the ranking — `n` rows, `n_t` treated of which `y_t`
//! responded, `n_c` control of which `y_c` responded — at the end of each run:
//!
//! ```text
//! uplift curve  y = (y_t / n_t − y_c / n_c) · n      (a ratio with a zero count is 0)
//! Qini curve    y = y_t − y_c · (n_t / n_c)          (n_t / n_c is 0 while n_c = 0)
//! ```
//!
//! The perfect curves rank by the outcome itself (`perfect_uplift_curve`: treated
//! responders, then non-responding controls, then the rest, in the order scikit-uplift
//! picks; `perfect_qini_curve`: treated responders first and control responders last, or,
//! without negative effects, the three points (0, 0), (r, r), (N, r) with
//! r = Y_t − N_t · Y_c / N_c). An AUC score is the area between the curve and the random
//! line (the chord from (0, 0) to the curve's end), divided by the same area of the
//! perfect curve; areas are trapezoids summed as numpy sums (pairwise), so the scores
//! match scikit-uplift to the last bit or two.
//!
//! Where scikit-uplift returns NaN (a mean over no rows) or raises, these functions return
//! an error: [`Error::Degenerate`] when the treated or the control group is empty (in the
//! input or in the top k), when a perfect curve has no area above the random line, or when
//! a percentile bin lacks a group for the weighted average; [`Error::InvalidOption`] for a
//! `k` or a bin count out of range. Unlike scikit-uplift, a constant outcome is accepted
//! (scikit-uplift's `check_is_binary` wants both 0 and 1); scores must be finite (numpy
//! would treat two infinite scores as distinct).
//!
//! The ranking is one parallel sort of (score, row) pairs, which are all distinct, so the
//! order — and every sum taken along it — is the same on any number of threads.
//!
//! ```
//! use acrm::promotion::{UpliftSample, TopK, UpliftStrategy};
//! let y = [1, 0, 1, 0, 0, 0, 1, 0];
//! let t = [1, 1, 0, 0, 1, 0, 1, 0];
//! let score = [0.9, 0.8, 0.3, 0.1, 0.7, 0.2, 0.4, 0.5];
//! let sample = UpliftSample::new(&y, &score, &t)?;
//! // scikit-uplift 0.5.1 on the same arrays: 0.33333333333333337 and 1/3.
//! assert!((sample.qini_auc_score(true)? - 1.0 / 3.0).abs() < 1e-12);
//! let top = sample.uplift_at_k(TopK::Fraction(0.5), UpliftStrategy::Overall)?;
//! assert!((top - 1.0 / 3.0).abs() < 1e-12);
//! # Ok::<(), acrm::Error>(())
//! ```

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A 0/1 flag as it may come in: `bool`, an integer, or a float that is exactly 0 or 1
/// (scikit-uplift accepts int and float labels alike).
pub trait BinaryLabel: Copy + Sync {
    /// `Some(false)` for 0, `Some(true)` for 1, `None` for anything else.
    fn flag(self) -> Option<bool>;
    /// The value as text, for the error that names it.
    fn text(self) -> String;
}

impl BinaryLabel for bool {
    fn flag(self) -> Option<bool> {
        Some(self)
    }
    fn text(self) -> String {
        self.to_string()
    }
}

macro_rules! int_label {
    ($($t:ty),*) => {$(
        impl BinaryLabel for $t {
            fn flag(self) -> Option<bool> {
                match self {
                    0 => Some(false),
                    1 => Some(true),
                    _ => None,
                }
            }
            fn text(self) -> String {
                self.to_string()
            }
        }
    )*};
}
int_label!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

macro_rules! float_label {
    ($($t:ty),*) => {$(
        impl BinaryLabel for $t {
            // Only exactly 0 and 1 are labels: exact comparison is the point.
            #[allow(clippy::float_cmp)]
            fn flag(self) -> Option<bool> {
                if self == 0.0 {
                    Some(false)
                } else if self == 1.0 {
                    Some(true)
                } else {
                    None
                }
            }
            fn text(self) -> String {
                self.to_string()
            }
        }
    )*};
}
float_label!(f32, f64);

/// How many of the top-ranked rows [`UpliftSample::uplift_at_k`] looks at.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum TopK {
    /// A share in (0, 1) of the rows (of each group, for
    /// [`UpliftStrategy::ByGroup`]), rounded down as Python's `int(n * k)`.
    Fraction(f64),
    /// A number of rows, at least 1 and fewer than all rows.
    Count(usize),
}

/// Where a metric cuts the ranking (scikit-uplift's `strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpliftStrategy {
    /// Cut the ranking of all rows, then compare the treated and control rows above the
    /// cut (`'overall'`).
    Overall,
    /// Rank the treated and the control rows apart and cut each ranking at the same share
    /// (`'by_group'`).
    ByGroup,
}

/// Points of an uplift or Qini curve: `x[i]` rows targeted (or a fraction of a row for
/// the perfect Qini curve without negative effects), `y[i]` the curve's value there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UpliftCurve {
    /// Rows targeted, from 0 up to all rows.
    pub x: Vec<f64>,
    /// The curve at each `x`.
    pub y: Vec<f64>,
}

impl UpliftCurve {
    /// The area under the curve by the trapezoid rule, summed as numpy sums (pairwise),
    /// which is what `sklearn.metrics.auc` computes.
    pub fn area(&self) -> f64 {
        let n = self.x.len().saturating_sub(1);
        let term = |i: usize| (self.x[i + 1] - self.x[i]) * (self.y[i + 1] + self.y[i]) / 2.0;
        0.0 + pairwise_sum(0, n, &term)
    }

    /// The area under the random line: the chord from (0, 0) to the curve's last point.
    fn baseline_area(&self) -> f64 {
        let (x, y) = (self.x[self.x.len() - 1], self.y[self.y.len() - 1]);
        0.0 + x * (y + 0.0) / 2.0
    }
}

/// One bin of [`UpliftSample::uplift_by_percentile`]: a consecutive slice of the ranking
/// (of each group, for [`UpliftStrategy::ByGroup`]).
///
/// A rate is `None` where scikit-uplift has NaN: the bin holds no row of that group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PercentileBin {
    /// The bin's span of percentiles as scikit-uplift labels it: `0-10`, `10-20`, … (the
    /// edges are `round(p · 100 / bins)`, halves to even).
    pub percentile: String,
    /// Treated rows in the bin.
    pub n_treatment: usize,
    /// Control rows in the bin.
    pub n_control: usize,
    /// Share of the bin's treated rows that responded.
    pub response_rate_treatment: Option<f64>,
    /// Share of the bin's control rows that responded.
    pub response_rate_control: Option<f64>,
    /// `response_rate_treatment − response_rate_control`.
    pub uplift: Option<f64>,
    /// √(r (1 − r) / n) of the treated response rate.
    pub std_treatment: Option<f64>,
    /// √(r (1 − r) / n) of the control response rate.
    pub std_control: Option<f64>,
    /// √ of the sum of the two variances.
    pub std_uplift: Option<f64>,
}

/// Counts of a slice of rows: treated, treated responders, control, control responders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Counts {
    treated: u64,
    treated_responders: u64,
    control: u64,
    control_responders: u64,
}

impl Counts {
    fn add_class(&mut self, class: u8, times: u64) {
        if class & TREATED != 0 {
            self.treated += times;
            self.treated_responders += u64::from(class & RESPONDED) * times;
        } else {
            self.control += times;
            self.control_responders += u64::from(class & RESPONDED) * times;
        }
    }

    fn of(classes: impl Iterator<Item = u8>) -> Counts {
        let mut c = Counts::default();
        for class in classes {
            c.add_class(class, 1);
        }
        c
    }

    fn plus(self, o: Counts) -> Counts {
        Counts {
            treated: self.treated + o.treated,
            treated_responders: self.treated_responders + o.treated_responders,
            control: self.control + o.control,
            control_responders: self.control_responders + o.control_responders,
        }
    }

    fn rows(&self) -> u64 {
        self.treated + self.control
    }
}

/// Bit of a row's class: the row responded (y = 1).
const RESPONDED: u8 = 1;
/// Bit of a row's class: the row was treated.
const TREATED: u8 = 2;
/// Bits of a ranked entry below the row number.
const CLASS_BITS: u32 = 2;

/// Validated outcome, treatment and scores, ranked once: every metric of scikit-uplift's
/// `sklift.metrics` that takes `(y_true, uplift, treatment)` is a method.
#[derive(Debug, Clone)]
pub struct UpliftSample {
    /// Ranked entries, highest score first and equal scores in descending row order:
    /// the high 64 bits are the complemented order key of the score, the low 64 bits the
    /// complemented row number shifted past the row's class. All entries are distinct.
    ranked: Vec<u128>,
    total: Counts,
}

/// The order key of a score: an unsigned integer in the order of the floats, with −0.0
/// and +0.0 one key (numpy's sort and `diff` do not tell them apart).
fn order_key(score: f64) -> u64 {
    let bits = (score + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn entry_key(entry: u128) -> u64 {
    (entry >> 64) as u64
}

fn entry_class(entry: u128) -> u8 {
    (entry as u64 & ((1 << CLASS_BITS) - 1)) as u8
}

/// An error naming the first label that is not 0/1, if any.
fn check_flags<L: BinaryLabel>(input: &'static str, labels: &[L]) -> Result<()> {
    // A cheap `any` first; position_first, not position_any, then names the same row
    // every time.
    if labels.par_iter().any(|l| l.flag().is_none()) {
        if let Some(i) = labels.par_iter().position_first(|l| l.flag().is_none()) {
            return Err(Error::bad_value(
                input,
                i,
                input,
                labels[i].text(),
                "0 or 1",
            ));
        }
    }
    Ok(())
}

/// The labels as flags, or an error naming the first that is not 0/1.
pub(crate) fn check_labels<L: BinaryLabel>(input: &'static str, labels: &[L]) -> Result<Vec<bool>> {
    check_flags(input, labels)?;
    Ok(labels.par_iter().map(|l| l.flag() == Some(true)).collect())
}

impl UpliftSample {
    /// Checks and ranks the rows: `y` the outcome (0/1), `uplift` the predicted uplift,
    /// `treatment` 1 for treated and 0 for control rows, index-aligned.
    ///
    /// # Errors
    ///
    /// [`Error::EmptyInput`] without rows, [`Error::LengthMismatch`] when the lengths
    /// differ, [`Error::BadValue`] for a label other than 0/1 or a score that is NaN or
    /// infinite (naming the first such row), [`Error::Degenerate`] when no row is treated
    /// or none is control.
    pub fn new<Y: BinaryLabel, T: BinaryLabel>(
        y: &[Y],
        uplift: &[f64],
        treatment: &[T],
    ) -> Result<UpliftSample> {
        Error::check_len("y", y.len(), uplift.len(), "uplift")?;
        Error::check_len("treatment", treatment.len(), uplift.len(), "uplift")?;
        if uplift.is_empty() {
            return Err(Error::EmptyInput);
        }
        check_flags("y", y)?;
        check_flags("treatment", treatment)?;
        if let Some(i) = uplift.par_iter().position_first(|s| !s.is_finite()) {
            return Err(Error::bad_value(
                "uplift",
                i,
                "uplift",
                uplift[i],
                "a finite number",
            ));
        }
        let mut ranked: Vec<u128> = uplift
            .par_iter()
            .enumerate()
            .map(|(i, &s)| {
                let class = u8::from(y[i].flag() == Some(true)) * RESPONDED
                    + u8::from(treatment[i].flag() == Some(true)) * TREATED;
                let low = (!(i as u64) << CLASS_BITS) | u64::from(class);
                (u128::from(!order_key(s)) << 64) | u128::from(low)
            })
            .collect();
        bucket_sort(&mut ranked);
        let total = Counts::of(ranked.iter().map(|&e| entry_class(e)));
        let sample = UpliftSample { ranked, total };
        if sample.total.treated == 0 || sample.total.control == 0 {
            let (group, value) = if sample.total.treated == 0 {
                ("treated", 0)
            } else {
                ("control", 1)
            };
            return Err(Error::Degenerate {
                input: "treatment".into(),
                reason: format!(
                    "all {} rows have treatment {value}: no {group} row, and uplift compares the two groups",
                    sample.len()
                ),
            });
        }
        Ok(sample)
    }

    /// Rows.
    pub fn len(&self) -> usize {
        self.ranked.len()
    }

    /// Always `false`: a sample holds at least one treated and one control row.
    pub fn is_empty(&self) -> bool {
        self.ranked.is_empty()
    }

    /// Treated rows.
    pub fn n_treatment(&self) -> usize {
        self.total.treated as usize
    }

    /// Control rows.
    pub fn n_control(&self) -> usize {
        self.total.control as usize
    }

    /// The classes of the rows in ranked order.
    fn classes(&self) -> impl Iterator<Item = u8> + '_ {
        self.ranked.iter().map(|&e| entry_class(e))
    }

    /// The curve through (0, 0) and, at the end of each run of equal scores, the point
    /// (rows so far, `value` of the counts so far).
    fn ranked_curve(&self, value: fn(&Counts) -> f64) -> UpliftCurve {
        // Fixed chunks: each starts from the counts of the chunks before it (a prefix
        // over chunk totals in chunk order) and emits the points of the runs that end in
        // it, so the points do not depend on the pool.
        const CHUNK: usize = 1 << 16;
        let n = self.ranked.len();
        let totals: Vec<Counts> = self
            .ranked
            .par_chunks(CHUNK)
            .map(|chunk| Counts::of(chunk.iter().map(|&e| entry_class(e))))
            .collect();
        let mut offsets = Vec::with_capacity(totals.len());
        let mut acc = Counts::default();
        for t in &totals {
            offsets.push(acc);
            acc = acc.plus(*t);
        }
        let parts: Vec<(Vec<f64>, Vec<f64>)> = offsets
            .par_iter()
            .enumerate()
            .map(|(c, &offset)| {
                let (from, to) = (c * CHUNK, ((c + 1) * CHUNK).min(n));
                let mut counts = offset;
                let (mut x, mut y) = (Vec::new(), Vec::new());
                for p in from..to {
                    let e = self.ranked[p];
                    counts.add_class(entry_class(e), 1);
                    if p + 1 == n || entry_key(self.ranked[p + 1]) != entry_key(e) {
                        x.push(counts.rows() as f64);
                        y.push(value(&counts));
                    }
                }
                (x, y)
            })
            .collect();
        let points = 1 + parts.iter().map(|p| p.0.len()).sum::<usize>();
        let mut curve = UpliftCurve {
            x: Vec::with_capacity(points),
            y: Vec::with_capacity(points),
        };
        curve.x.push(0.0);
        curve.y.push(0.0);
        for (x, y) in parts {
            curve.x.extend(x);
            curve.y.extend(y);
        }
        curve
    }

    /// The uplift curve (`sklift.metrics.uplift_curve`).
    pub fn uplift_curve(&self) -> UpliftCurve {
        self.ranked_curve(uplift_value)
    }

    /// The Qini curve (`sklift.metrics.qini_curve`).
    pub fn qini_curve(&self) -> UpliftCurve {
        self.ranked_curve(qini_value)
    }

    /// The perfect uplift curve (`sklift.metrics.perfect_uplift_curve`): rows ranked by
    /// `2 · (y = t) + s`, where `s` is `y` if control responders outnumber treated
    /// non-responders and `t` otherwise.
    pub fn perfect_uplift_curve(&self) -> UpliftCurve {
        let t = &self.total;
        let control_responders = t.control_responders;
        let treated_non_responders = t.treated - t.treated_responders;
        let by_outcome = control_responders > treated_non_responders;
        // Score of each class (bit 0 = y, bit 1 = t).
        let score = |class: u8| {
            let (y, tr) = (class & RESPONDED, (class & TREATED) >> 1);
            2 * u8::from(y == tr) + if by_outcome { y } else { tr }
        };
        curve(&self.class_runs(score), uplift_value)
    }

    /// The perfect Qini curve (`sklift.metrics.perfect_qini_curve`). With
    /// `negative_effect`, rows ranked by `y · t − y · (1 − t)` (treated responders first,
    /// control responders last); without, the points (0, 0), (r, r), (N, r) with
    /// r = Y_t − N_t · Y_c / N_c.
    ///
    /// # Errors
    ///
    /// Without `negative_effect`, [`Error::Degenerate`] if r < 0 (the treated respond
    /// less than the control; scikit-learn's `auc` then raises because x goes back).
    pub fn perfect_qini_curve(&self, negative_effect: bool) -> Result<UpliftCurve> {
        if negative_effect {
            let score = |class: u8| match class {
                3 => 2u8,
                1 => 0,
                _ => 1,
            };
            return Ok(curve(&self.class_runs(score), qini_value));
        }
        let t = &self.total;
        let r = t.treated_responders as f64
            - (t.treated * t.control_responders) as f64 / t.control as f64;
        if r < 0.0 {
            return Err(Error::Degenerate {
                input: "y".into(),
                reason: format!(
                    "treated rows respond less than control rows (random Qini gain {r}), so the perfect Qini curve without negative effects is undefined"
                ),
            });
        }
        Ok(UpliftCurve {
            x: vec![0.0, r, self.len() as f64],
            y: vec![0.0, r, r],
        })
    }

    /// Cumulative counts of runs of equal `score(class)`, highest first, for the perfect
    /// curves (whose scores depend on the class only, so counting replaces sorting).
    fn class_runs(&self, score: impl Fn(u8) -> u8) -> Vec<Counts> {
        let mut by_class = [0u64; 4];
        let t = &self.total;
        by_class[0] = t.control - t.control_responders;
        by_class[1] = t.control_responders;
        by_class[2] = t.treated - t.treated_responders;
        by_class[3] = t.treated_responders;
        let mut scores: Vec<u8> = (0..4).map(&score).collect();
        scores.sort_unstable_by(|a, b| b.cmp(a));
        scores.dedup();
        let mut cumulative = Counts::default();
        let mut runs = Vec::new();
        for s in scores {
            let mut run = Counts::default();
            for class in 0..4u8 {
                if score(class) == s {
                    run.add_class(class, by_class[class as usize]);
                }
            }
            if run.rows() > 0 {
                cumulative = cumulative.plus(run);
                runs.push(cumulative);
            }
        }
        runs
    }

    /// Normalised area under the uplift curve (`sklift.metrics.uplift_auc_score`).
    ///
    /// # Errors
    ///
    /// [`Error::Degenerate`] when the perfect curve has no area above the random line
    /// (for example when no row, or every row, responded).
    pub fn uplift_auc_score(&self) -> Result<f64> {
        normalised_area(&self.uplift_curve(), &self.perfect_uplift_curve(), "uplift")
    }

    /// Normalised area under the Qini curve, the Qini coefficient
    /// (`sklift.metrics.qini_auc_score`), against the perfect curve with or without
    /// negative effects.
    ///
    /// # Errors
    ///
    /// As [`perfect_qini_curve`](Self::perfect_qini_curve), and [`Error::Degenerate`] when
    /// the perfect curve has no area above the random line.
    pub fn qini_auc_score(&self, negative_effect: bool) -> Result<f64> {
        let perfect = self.perfect_qini_curve(negative_effect)?;
        normalised_area(&self.qini_curve(), &perfect, "Qini")
    }

    /// Response rate of the treated minus that of the control among the top k rows
    /// (`sklift.metrics.uplift_at_k`).
    ///
    /// [`UpliftStrategy::Overall`] takes the first `k` rows of the ranking (for a
    /// fraction, `int(n · k)` rows); [`UpliftStrategy::ByGroup`] the first `k` treated and
    /// the first `k` control rows (for a fraction, `int(n_t · k)` and `int(n_c · k)`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] (option `k`) for a fraction outside (0, 1), a count of 0
    /// or of all rows or more, or, by group, a count above a group's size;
    /// [`Error::Degenerate`] when the top rows hold no treated or no control row.
    pub fn uplift_at_k(&self, k: TopK, strategy: UpliftStrategy) -> Result<f64> {
        let n = self.len();
        match k {
            TopK::Fraction(f) if !(f > 0.0 && f < 1.0) => {
                return Err(Error::option("k", f, "a fraction in (0, 1) or a count"));
            }
            TopK::Count(c) if c == 0 || c >= n => {
                return Err(Error::option(
                    "k",
                    c,
                    format!("a count from 1 to {} (fewer than the {n} rows)", n - 1),
                ));
            }
            _ => {}
        }
        let top = match strategy {
            UpliftStrategy::Overall => {
                let size = match k {
                    TopK::Fraction(f) => (n as f64 * f) as usize,
                    TopK::Count(c) => c,
                };
                Counts::of(self.classes().take(size))
            }
            UpliftStrategy::ByGroup => {
                let (treated, control) = match k {
                    TopK::Fraction(f) => (
                        (self.total.treated as f64 * f) as u64,
                        (self.total.control as f64 * f) as u64,
                    ),
                    TopK::Count(c) => (c as u64, c as u64),
                };
                for (want, have, group) in [
                    (treated, self.total.treated, "treated"),
                    (control, self.total.control, "control"),
                ] {
                    if want > have {
                        return Err(Error::option(
                            "k",
                            want,
                            format!("at most the {have} {group} rows"),
                        ));
                    }
                }
                self.top_by_group(treated, control)
            }
        };
        if top.treated == 0 || top.control == 0 {
            let group = if top.treated == 0 {
                "treated"
            } else {
                "control"
            };
            return Err(Error::Degenerate {
                input: "k".into(),
                reason: format!(
                    "the top {} rows hold no {group} row, so their uplift is undefined",
                    top.rows()
                ),
            });
        }
        Ok(top.treated_responders as f64 / top.treated as f64
            - top.control_responders as f64 / top.control as f64)
    }

    /// Counts of the first `treated` treated and the first `control` control rows.
    fn top_by_group(&self, treated: u64, control: u64) -> Counts {
        let mut c = Counts::default();
        for class in self.classes() {
            if c.treated == treated && c.control == control {
                break;
            }
            let is_treated = class & TREATED != 0;
            if (is_treated && c.treated < treated) || (!is_treated && c.control < control) {
                c.add_class(class, 1);
            }
        }
        c
    }

    /// Group sizes, response rates and uplift in `bins` consecutive slices of the ranking
    /// (`sklift.metrics.uplift_by_percentile` with `std=True`). The slices are numpy's
    /// `array_split`: the first `n % bins` hold one row more.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] (option `bins`) for 0 bins or as many bins as rows or more.
    pub fn uplift_by_percentile(
        &self,
        bins: usize,
        strategy: UpliftStrategy,
    ) -> Result<Vec<PercentileBin>> {
        let n = self.len();
        if bins == 0 || bins >= n {
            return Err(Error::option(
                "bins",
                bins,
                format!("from 1 to {} bins (fewer than the {n} rows)", n.max(2) - 1),
            ));
        }
        let counts: Vec<Counts> = match strategy {
            UpliftStrategy::Overall => {
                let bounds = split_bounds(n, bins);
                bounds
                    .par_iter()
                    .map(|r| Counts::of(self.ranked[r.clone()].iter().map(|&e| entry_class(e))))
                    .collect()
            }
            UpliftStrategy::ByGroup => {
                let t_bounds = split_bounds(self.total.treated as usize, bins);
                let c_bounds = split_bounds(self.total.control as usize, bins);
                // Bin of each group's p-th row, walked once down the ranking.
                let mut counts = vec![Counts::default(); bins];
                let (mut ti, mut ci) = (0usize, 0usize);
                let (mut tb, mut cb) = (0usize, 0usize);
                for class in self.classes() {
                    if class & TREATED != 0 {
                        while t_bounds[tb].end <= ti {
                            tb += 1;
                        }
                        counts[tb].add_class(class, 1);
                        ti += 1;
                    } else {
                        while c_bounds[cb].end <= ci {
                            cb += 1;
                        }
                        counts[cb].add_class(class, 1);
                        ci += 1;
                    }
                }
                counts
            }
        };
        let edges: Vec<i64> = (1..=bins)
            .map(|p| ((p * 100) as f64 / bins as f64).round_ties_even() as i64)
            .collect();
        Ok(counts
            .iter()
            .enumerate()
            .map(|(b, c)| {
                let from = if b == 0 { 0 } else { edges[b - 1] };
                let rate = |r: u64, n: u64| (n > 0).then(|| r as f64 / n as f64);
                let rt = rate(c.treated_responders, c.treated);
                let rc = rate(c.control_responders, c.control);
                let var = |r: Option<f64>, n: u64| r.map(|r| r * ((1.0 - r) / n as f64));
                let (vt, vc) = (var(rt, c.treated), var(rc, c.control));
                PercentileBin {
                    percentile: format!("{from}-{}", edges[b]),
                    n_treatment: c.treated as usize,
                    n_control: c.control as usize,
                    response_rate_treatment: rt,
                    response_rate_control: rc,
                    uplift: rt.zip(rc).map(|(a, b)| a - b),
                    std_treatment: vt.map(f64::sqrt),
                    std_control: vc.map(f64::sqrt),
                    std_uplift: vt.zip(vc).map(|(a, b)| (a + b).sqrt()),
                }
            })
            .collect())
    }

    /// The average of the bins' uplift weighted by their treated rows
    /// (`sklift.metrics.weighted_average_uplift`).
    ///
    /// # Errors
    ///
    /// As [`uplift_by_percentile`](Self::uplift_by_percentile), and
    /// [`Error::Degenerate`] when a bin holds no treated or no control row (its uplift is
    /// NaN in scikit-uplift, and so is the average).
    pub fn weighted_average_uplift(&self, bins: usize, strategy: UpliftStrategy) -> Result<f64> {
        let table = self.uplift_by_percentile(bins, strategy)?;
        let mut dot = 0.0;
        let mut weight = 0usize;
        for bin in &table {
            let Some(u) = bin.uplift else {
                return Err(Error::Degenerate {
                    input: "bins".into(),
                    reason: format!(
                        "percentile {} holds {} treated and {} control rows, so its uplift and the weighted average are undefined",
                        bin.percentile, bin.n_treatment, bin.n_control
                    ),
                });
            };
            dot += bin.n_treatment as f64 * u;
            weight += bin.n_treatment;
        }
        Ok(dot / weight as f64)
    }
}

/// Sorts distinct entries ascending: one pass distributes them into up to 2^16 buckets by
/// the leading bits of their score key (relative to the smallest key, so scores packed in
/// a narrow range still spread), then the buckets are sorted in parallel, each small
/// enough to stay in cache. The entries are distinct, so the result is the one sorted
/// order whatever the scheduling.
fn bucket_sort(entries: &mut Vec<u128>) {
    const BUCKET_BITS: u32 = 16;
    const CHUNK: usize = 1 << 20;
    if entries.len() < 1 << 16 {
        entries.par_sort_unstable();
        return;
    }
    let (lo, hi) = entries
        .par_iter()
        .map(|&e| (entry_key(e), entry_key(e)))
        .reduce(|| (u64::MAX, 0), |a, b| (a.0.min(b.0), a.1.max(b.1)));
    let range_bits = 64 - (hi - lo).leading_zeros();
    let shift = range_bits.saturating_sub(BUCKET_BITS);
    let bucket = |e: u128| ((entry_key(e) - lo) >> shift) as usize;
    let buckets = 1usize << BUCKET_BITS.min(range_bits);
    // Integer counts: the same whatever order the chunks are added in.
    let counts = entries
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut c = vec![0usize; buckets];
            for &e in chunk {
                c[bucket(e)] += 1;
            }
            c
        })
        .reduce(
            || vec![0usize; buckets],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    *x += y;
                }
                a
            },
        );
    let mut next = Vec::with_capacity(buckets);
    let mut start = 0;
    for &c in &counts {
        next.push(start);
        start += c;
    }
    let mut out = vec![0u128; entries.len()];
    for &e in entries.iter() {
        let b = bucket(e);
        out[next[b]] = e;
        next[b] += 1;
    }
    let mut slices = Vec::with_capacity(buckets);
    let mut rest: &mut [u128] = &mut out;
    for &c in &counts {
        let (head, tail) = rest.split_at_mut(c);
        slices.push(head);
        rest = tail;
    }
    slices
        .into_par_iter()
        .for_each(|slice| slice.sort_unstable());
    *entries = out;
}

/// numpy's `array_split(range(n), bins)` as ranges.
fn split_bounds(n: usize, bins: usize) -> Vec<std::ops::Range<usize>> {
    let (base, extra) = (n / bins, n % bins);
    let mut start = 0;
    (0..bins)
        .map(|b| {
            let len = base + usize::from(b < extra);
            let r = start..start + len;
            start += len;
            r
        })
        .collect()
}

fn uplift_value(c: &Counts) -> f64 {
    let ratio = |r: u64, n: u64| if n != 0 { r as f64 / n as f64 } else { 0.0 };
    (ratio(c.treated_responders, c.treated) - ratio(c.control_responders, c.control))
        * c.rows() as f64
}

fn qini_value(c: &Counts) -> f64 {
    let ratio = if c.control != 0 {
        c.treated as f64 / c.control as f64
    } else {
        0.0
    };
    c.treated_responders as f64 - c.control_responders as f64 * ratio
}

/// A curve through (0, 0) and one point per run.
fn curve(runs: &[Counts], value: fn(&Counts) -> f64) -> UpliftCurve {
    let mut x = Vec::with_capacity(runs.len() + 1);
    let mut y = Vec::with_capacity(runs.len() + 1);
    x.push(0.0);
    y.push(0.0);
    x.extend(runs.iter().map(|c| c.rows() as f64));
    y.extend(runs.iter().map(value));
    UpliftCurve { x, y }
}

fn normalised_area(actual: &UpliftCurve, perfect: &UpliftCurve, what: &str) -> Result<f64> {
    let baseline = perfect.baseline_area();
    let perfect_area = perfect.area() - baseline;
    let actual_area = actual.area() - baseline;
    if perfect_area.abs() <= 0.0 || !perfect_area.is_finite() {
        return Err(Error::Degenerate {
            input: "y".into(),
            reason: format!(
                "the perfect {what} curve has no area above the random line, so the normalised area is undefined"
            ),
        });
    }
    Ok(actual_area / perfect_area)
}

/// numpy's pairwise summation (`pairwise_sum_DOUBLE`) of `term(i)` for `i` in
/// `start..start + n`: blocks of at most 128 terms summed with eight accumulators, halves
/// split at a multiple of 8. The split points depend on `n` only, so the upper levels run
/// in parallel without changing a bit.
fn pairwise_sum(start: usize, n: usize, term: &(impl Fn(usize) -> f64 + Sync)) -> f64 {
    if n < 8 {
        let mut res = 0.0;
        for i in start..start + n {
            res += term(i);
        }
        res
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        for (j, rj) in r.iter_mut().enumerate() {
            *rj = term(start + j);
        }
        let mut i = 8;
        while i < n - n % 8 {
            for (j, rj) in r.iter_mut().enumerate() {
                *rj += term(start + i + j);
            }
            i += 8;
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        while i < n {
            res += term(start + i);
            i += 1;
        }
        res
    } else {
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        if n > 1 << 16 {
            let (a, b) = rayon::join(
                || pairwise_sum(start, n2, term),
                || pairwise_sum(start + n2, n - n2, term),
            );
            a + b
        } else {
            pairwise_sum(start, n2, term) + pairwise_sum(start + n2, n - n2, term)
        }
    }
}

/// [`UpliftSample::new`] then [`UpliftSample::uplift_curve`].
///
/// # Errors
///
/// As [`UpliftSample::new`].
pub fn uplift_curve<Y: BinaryLabel, T: BinaryLabel>(
    y: &[Y],
    uplift: &[f64],
    treatment: &[T],
) -> Result<UpliftCurve> {
    Ok(UpliftSample::new(y, uplift, treatment)?.uplift_curve())
}

/// [`UpliftSample::new`] then [`UpliftSample::qini_curve`].
///
/// # Errors
///
/// As [`UpliftSample::new`].
pub fn qini_curve<Y: BinaryLabel, T: BinaryLabel>(
    y: &[Y],
    uplift: &[f64],
    treatment: &[T],
) -> Result<UpliftCurve> {
    Ok(UpliftSample::new(y, uplift, treatment)?.qini_curve())
}

/// [`UpliftSample::new`] then [`UpliftSample::uplift_auc_score`].
///
/// # Errors
///
/// As those two.
pub fn uplift_auc_score<Y: BinaryLabel, T: BinaryLabel>(
    y: &[Y],
    uplift: &[f64],
    treatment: &[T],
) -> Result<f64> {
    UpliftSample::new(y, uplift, treatment)?.uplift_auc_score()
}

/// [`UpliftSample::new`] then [`UpliftSample::qini_auc_score`].
///
/// # Errors
///
/// As those two.
pub fn qini_auc_score<Y: BinaryLabel, T: BinaryLabel>(
    y: &[Y],
    uplift: &[f64],
    treatment: &[T],
    negative_effect: bool,
) -> Result<f64> {
    UpliftSample::new(y, uplift, treatment)?.qini_auc_score(negative_effect)
}

/// [`UpliftSample::new`] then [`UpliftSample::uplift_at_k`].
///
/// # Errors
///
/// As those two.
pub fn uplift_at_k<Y: BinaryLabel, T: BinaryLabel>(
    y: &[Y],
    uplift: &[f64],
    treatment: &[T],
    strategy: UpliftStrategy,
    k: TopK,
) -> Result<f64> {
    UpliftSample::new(y, uplift, treatment)?.uplift_at_k(k, strategy)
}

/// [`UpliftSample::new`] then [`UpliftSample::uplift_by_percentile`].
///
/// # Errors
///
/// As those two.
pub fn uplift_by_percentile<Y: BinaryLabel, T: BinaryLabel>(
    y: &[Y],
    uplift: &[f64],
    treatment: &[T],
    strategy: UpliftStrategy,
    bins: usize,
) -> Result<Vec<PercentileBin>> {
    UpliftSample::new(y, uplift, treatment)?.uplift_by_percentile(bins, strategy)
}

/// [`UpliftSample::new`] then [`UpliftSample::weighted_average_uplift`].
///
/// # Errors
///
/// As those two.
pub fn weighted_average_uplift<Y: BinaryLabel, T: BinaryLabel>(
    y: &[Y],
    uplift: &[f64],
    treatment: &[T],
    strategy: UpliftStrategy,
    bins: usize,
) -> Result<f64> {
    UpliftSample::new(y, uplift, treatment)?.weighted_average_uplift(bins, strategy)
}
