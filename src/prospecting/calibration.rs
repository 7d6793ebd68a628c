//! Calibrated win probabilities: per stage, the share of closed deals that entered the
//! stage and were eventually won, with Wilson intervals, beside the probabilities the
//! salespeople entered (the calibration table), and the same rates per owner, amount
//! band or age in stage.
//!
//! # What is counted
//!
//! Only closed deals (won or lost) with a stage history count: a deal *entered* a stage
//! when its history records the stage (once per deal, however often it returned to it),
//! and the stage's win rate is won / entered over those deals. Closed deals without a
//! history are counted in [`Calibration::without_history`]; open deals have no outcome
//! yet.
//!
//! - **Owner**: the deal's owner (deals without one form the group `None`).
//! - **Amount band**: the deal's amount in bands `[e₀, e₁)`, … cut at the given edges.
//! - **Age in stage**: the days the deal spent in the stage, from its first entry to the
//!   next entry of its history (or to its close date after the last), in bands of days.
//!
//! The calibration table sets each stage's learned rate against the mean entered
//! probability of the deals whose current stage it is (all deals of the view with an
//! entered probability, open or closed); [`Calibration::stage_probabilities`] hands the
//! learned rates to [`PipelineOptions::stage_probabilities`](super::PipelineOptions::stage_probabilities).
//!
//! Counts are integers and the probability sums are added in fixed chunks in chunk order,
//! so the table is the same bit for bit for any number of threads.

use std::collections::BTreeMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, DealStatus, OpportunityView, ScopeTag};
use crate::error::{Error, Result};
use crate::numerics::{wilson, Proportion};

/// A grouping of the learned win rates, beside the per-stage rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationGrouping {
    /// By the deal's owner.
    Owner,
    /// By the deal's amount, cut at these ascending edges: bands `[0, e₀)` (when
    /// e₀ > 0), `[e₀, e₁)`, …, `[e_last, ∞)`.
    AmountBand(Vec<f64>),
    /// By the days spent in the stage, cut at these ascending edges (as the amount).
    AgeInStage(Vec<u32>),
}

impl CalibrationGrouping {
    /// `owner`, `amount` or `age_in_stage`.
    pub fn name(&self) -> &'static str {
        match self {
            CalibrationGrouping::Owner => "owner",
            CalibrationGrouping::AmountBand(_) => "amount",
            CalibrationGrouping::AgeInStage(_) => "age_in_stage",
        }
    }
}

/// Settings of the calibration: groupings (default none) and the confidence of the
/// Wilson intervals (default 0.95).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationOptions {
    groupings: Vec<CalibrationGrouping>,
    confidence: f64,
}

impl Default for CalibrationOptions {
    fn default() -> Self {
        CalibrationOptions {
            groupings: Vec::new(),
            confidence: 0.95,
        }
    }
}

/// The win rate of a stage, against the probability entered for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageCalibration {
    /// The stage.
    pub stage: String,
    /// Won / entered over the closed deals with a history, with its Wilson interval.
    pub rate: Proportion,
    /// Mean entered probability of the deals currently in the stage (`None` when none has
    /// one).
    pub entered_probability: Option<f64>,
    /// Deals behind that mean.
    pub entered_n: u64,
    /// Learned rate − mean entered probability (`None` without either).
    pub difference: Option<f64>,
}

/// The win rate of a stage within one group of a grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupCalibration {
    /// The grouping: `owner`, `amount` or `age_in_stage`.
    pub grouping: String,
    /// The group: an owner (`None` for deals without one) or a band `[lo, hi)`.
    pub group: Option<String>,
    /// The stage.
    pub stage: String,
    /// Won / entered in the group, with its Wilson interval.
    pub rate: Proportion,
}

/// Learned win rates and the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    /// The scope of the opportunities.
    pub scope: ScopeTag,
    /// Confidence of the intervals.
    pub confidence: f64,
    /// Closed deals with a stage history: the deals the rates are learned from.
    pub deals: u64,
    /// Closed deals without a history (not used).
    pub without_history: u64,
    /// One row per stage entered by at least one of those deals or holding a deal with
    /// an entered probability, in name order. Stages without entries have a rate of 0
    /// out of 0 (interval [0, 1]).
    pub stages: Vec<StageCalibration>,
    /// Per grouping (in the order asked), group and stage (names in order, `None`
    /// last, bands ascending): rows with at least one entry.
    pub groups: Vec<GroupCalibration>,
}

impl Calibration {
    /// The row of `stage`.
    pub fn stage(&self, stage: &str) -> Option<&StageCalibration> {
        self.stages.iter().find(|s| s.stage == stage)
    }

    /// The learned win rate of every stage with entries, for
    /// [`PipelineOptions::stage_probabilities`](super::PipelineOptions::stage_probabilities).
    pub fn stage_probabilities(&self) -> BTreeMap<String, f64> {
        self.stages
            .iter()
            .filter(|s| s.rate.trials > 0)
            .map(|s| (s.stage.clone(), s.rate.rate))
            .collect()
    }
}

/// Deals per parallel chunk: boundaries depend on the input size only.
const CHUNK: usize = 1 << 12;

/// Band labels `[lo, hi)` of ascending edges, and the band of a value.
struct Bands {
    edges: Vec<f64>,
    labels: Vec<String>,
}

impl Bands {
    fn new(edges: &[f64]) -> Bands {
        // A leading edge at 0 would make an empty band [0, 0).
        let edges: Vec<f64> = edges.iter().copied().filter(|&e| e > 0.0).collect();
        let mut labels = Vec::new();
        let mut lo = 0.0;
        for &e in &edges {
            labels.push(format!("[{lo}, {e})"));
            lo = e;
        }
        labels.push(format!("[{lo}, inf)"));
        Bands { edges, labels }
    }

    fn of(&self, x: f64) -> usize {
        self.edges.partition_point(|&e| e <= x)
    }
}

impl CalibrationOptions {
    /// No groupings, 95% intervals.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a grouping.
    pub fn by(mut self, grouping: CalibrationGrouping) -> Self {
        self.groupings.push(grouping);
        self
    }

    /// Confidence of the Wilson intervals, in (0, 1).
    pub fn confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a confidence outside (0, 1), or band edges that are
    /// not finite, ≥ 0 and strictly ascending.
    pub fn validate(&self) -> Result<()> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(Error::option(
                "confidence",
                self.confidence,
                "a level in (0, 1)",
            ));
        }
        for g in &self.groupings {
            let edges: Vec<f64> = match g {
                CalibrationGrouping::Owner => continue,
                CalibrationGrouping::AmountBand(e) => e.clone(),
                CalibrationGrouping::AgeInStage(e) => e.iter().map(|&d| f64::from(d)).collect(),
            };
            let ok = edges.iter().all(|e| e.is_finite() && *e >= 0.0)
                && edges.windows(2).all(|w| w[0] < w[1]);
            if !ok {
                return Err(Error::option(
                    "by",
                    format!("{}: {edges:?}", g.name()),
                    "band edges finite, ≥ 0 and strictly ascending",
                ));
            }
        }
        Ok(())
    }

    /// The learned win rates of `view`'s closed deals and the calibration table.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids prospecting;
    /// [`Error::InvalidOption`] for bad options.
    pub fn compute(&self, view: &OpportunityView<'_>) -> Result<Calibration> {
        view.require(Area::Prospecting)?;
        self.validate()?;
        let stages = view.stages();
        let ns = stages.len();
        let owners = view.owners();
        let bands: Vec<Option<Bands>> = self
            .groupings
            .iter()
            .map(|g| match g {
                CalibrationGrouping::Owner => None,
                CalibrationGrouping::AmountBand(e) => Some(Bands::new(e)),
                CalibrationGrouping::AgeInStage(e) => Some(Bands::new(
                    &e.iter().map(|&d| f64::from(d)).collect::<Vec<_>>(),
                )),
            })
            .collect();
        let sizes: Vec<usize> = self
            .groupings
            .iter()
            .zip(&bands)
            .map(|(g, b)| match g {
                CalibrationGrouping::Owner => owners.len() + 1,
                _ => b.as_ref().map_or(1, |b| b.labels.len()),
            })
            .collect();
        // Counter layout: [entered, won] per stage, then per grouping [entered, won] per
        // (group, stage), then closed deals with and without history.
        let mut offsets = vec![2 * ns];
        for &g in &sizes {
            offsets.push(offsets.last().copied().unwrap_or(0) + 2 * g * ns);
        }
        let width = offsets.last().copied().unwrap_or(0) + 2;
        let n = view.len();
        let parts: Vec<(Vec<u64>, Vec<f64>)> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| {
                let mut counts = vec![0u64; width];
                // Σ entered probability and count per current stage.
                let mut probs = vec![0.0; 2 * ns];
                let mut seen = vec![false; ns];
                for k in c * CHUNK..((c + 1) * CHUNK).min(n) {
                    if let Some(p) = view.probability(k) {
                        let s = view.stage(k) as usize;
                        probs[2 * s] += p;
                        probs[2 * s + 1] += 1.0;
                    }
                    let status = view.status(k);
                    if !status.is_closed() {
                        continue;
                    }
                    let history = view.history(k);
                    if history.is_empty() {
                        counts[width - 1] += 1;
                        continue;
                    }
                    counts[width - 2] += 1;
                    let won = u64::from(status == DealStatus::Won);
                    let closed = view.closed(k).unwrap_or_else(|| view.expected_close(k));
                    seen.iter_mut().for_each(|x| *x = false);
                    for (i, e) in history.iter().enumerate() {
                        let s = e.stage as usize;
                        if seen[s] {
                            continue;
                        }
                        seen[s] = true;
                        counts[2 * s] += 1;
                        counts[2 * s + 1] += won;
                        for (gi, g) in self.groupings.iter().enumerate() {
                            let group = match g {
                                CalibrationGrouping::Owner => {
                                    view.owner_index(k).map_or(owners.len(), |o| o as usize)
                                }
                                CalibrationGrouping::AmountBand(_) => {
                                    bands[gi].as_ref().map_or(0, |b| b.of(view.amount(k)))
                                }
                                CalibrationGrouping::AgeInStage(_) => {
                                    let left = history.get(i + 1).map_or(closed, |x| x.day);
                                    let age = f64::from((left - e.day).max(0));
                                    bands[gi].as_ref().map_or(0, |b| b.of(age))
                                }
                            };
                            let at = offsets[gi] + 2 * (group * ns + s);
                            counts[at] += 1;
                            counts[at + 1] += won;
                        }
                    }
                }
                (counts, probs)
            })
            .collect();
        let mut counts = vec![0u64; width];
        let mut probs = vec![0.0; 2 * ns];
        for (c, p) in parts {
            counts.iter_mut().zip(c).for_each(|(a, b)| *a += b);
            probs.iter_mut().zip(p).for_each(|(a, b)| *a += b);
        }
        let mut order: Vec<usize> = (0..ns).collect();
        order.sort_by(|&a, &b| stages.name(a).cmp(stages.name(b)));
        let mut rows = Vec::new();
        for &s in &order {
            let (entered, won) = (counts[2 * s], counts[2 * s + 1]);
            let en = probs[2 * s + 1];
            if entered == 0 && en == 0.0 {
                continue;
            }
            let rate = wilson(won, entered, self.confidence)?;
            let entered_probability = (en > 0.0).then(|| probs[2 * s] / en);
            rows.push(StageCalibration {
                stage: stages.name(s).to_string(),
                rate,
                entered_probability,
                entered_n: en as u64,
                difference: entered_probability
                    .filter(|_| entered > 0)
                    .map(|p| rate.rate - p),
            });
        }
        let mut groups = Vec::new();
        for (gi, g) in self.groupings.iter().enumerate() {
            let labels: Vec<Option<String>> = match g {
                CalibrationGrouping::Owner => {
                    let mut l: Vec<(Option<String>, usize)> = owners
                        .iter()
                        .enumerate()
                        .map(|(i, o)| (Some(o.to_string()), i))
                        .collect();
                    l.push((None, owners.len()));
                    // Names in order, None last; keep the index to read the counters.
                    l.sort_by(|a, b| match (&a.0, &b.0) {
                        (Some(x), Some(y)) => x.cmp(y),
                        (a, b) => b.is_some().cmp(&a.is_some()),
                    });
                    for (label, group) in l {
                        push_group(
                            &mut groups,
                            g.name(),
                            label,
                            group,
                            &order,
                            stages,
                            &counts[offsets[gi]..],
                            self.confidence,
                        )?;
                    }
                    continue;
                }
                _ => bands[gi]
                    .as_ref()
                    .map_or(Vec::new(), |b| b.labels.iter().cloned().map(Some).collect()),
            };
            for (group, label) in labels.into_iter().enumerate() {
                push_group(
                    &mut groups,
                    g.name(),
                    label,
                    group,
                    &order,
                    stages,
                    &counts[offsets[gi]..],
                    self.confidence,
                )?;
            }
        }
        Ok(Calibration {
            scope: view.scope().clone(),
            confidence: self.confidence,
            deals: counts[width - 2],
            without_history: counts[width - 1],
            stages: rows,
            groups,
        })
    }
}

#[allow(clippy::too_many_arguments)]
fn push_group(
    out: &mut Vec<GroupCalibration>,
    grouping: &str,
    label: Option<String>,
    group: usize,
    order: &[usize],
    stages: &crate::data::Interner,
    counts: &[u64],
    confidence: f64,
) -> Result<()> {
    let ns = stages.len();
    for &s in order {
        let at = 2 * (group * ns + s);
        let (entered, won) = (counts[at], counts[at + 1]);
        if entered == 0 {
            continue;
        }
        out.push(GroupCalibration {
            grouping: grouping.to_string(),
            group: label.clone(),
            stage: stages.name(s).to_string(),
            rate: wilson(won, entered, confidence)?,
        });
    }
    Ok(())
}
