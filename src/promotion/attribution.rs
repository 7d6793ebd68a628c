//! Multi-touch attribution: how much of the conversions (and of their value) each
//! channel of the touch paths earned.
//!
//! # Models
//!
//! Every model splits each path's conversions and conversion value among channels, so
//! each model's credits sum to the total conversions and value of the paths.
//!
//! - **first touch**, **last touch**: all to the first (last) touch of the path;
//! - **linear**: equal shares per touch;
//! - **position based**: 40 % to the first touch, 40 % to the last, 20 % split equally
//!   among the touches between (shares set by [`AttributionOptions::position_shares`]);
//!   a path of one touch gives it everything, one of two touches gives each the first
//!   and last shares rescaled to sum to one (half each by default);
//! - **time decay**: touch weights `0.5^(age / half_life)`, normalised per path, where
//!   the age is measured in days from the touch to the conversion when the paths come
//!   from a timed touch log ([`Paths::timed`]), and otherwise in touches: the last touch
//!   has age 0, the one before 1, and so on;
//! - **Markov**: the removal effects of a first-order (or order-k) absorbing Markov
//!   chain, solved exactly (below);
//! - **Shapley**: the Shapley values of the cooperative game whose worth of a channel
//!   set `S` is the conversions (value) of the paths whose channel set lies inside `S`.
//!
//! Repeated touches count as touches in the four position models (a path
//! `search > search > email` gives `search` two thirds under the linear model). The
//! Markov chain collapses consecutive repeats of a channel, as ChannelAttribution does
//! (for order 1 this is the same as dropping self-loops, which is what
//! marketing_attribution_models does), and Shapley reads channel sets, where repeats
//! play no part.
//!
//! # The Markov chain
//!
//! States: `start`, the channels (for order k, the sequences of the last k channels of
//! the collapsed path; the first states of a path are its shorter prefixes),
//! `conversion` and `null`. Every path contributes its journeys (conversions plus nulls)
//! to each of its transitions `start → first → … → last`, its conversions to
//! `last → conversion` and its nulls to `last → null`. Rows are normalised to
//! probabilities `Q` (between transient states) and `r` (into `conversion`), and the
//! probability of converting from each transient state solves
//!
//! ```text
//! (I − Q) x = r,        P(conversion) = x[start]
//! ```
//!
//! by Gaussian elimination with partial pivoting (no simulation). Removing a channel `c`
//! sends every transition into a state holding `c` to `null`, so those states drop out
//! of the system; its removal effect is `RE_c = 1 − P_without_c / P`, and the chain
//! credits channel `c` with the share `RE_c / Σ RE` of the conversions and of the value.
//! Because every journey that enters a state also leaves it, the chain's `P(conversion)`
//! equals the share of journeys that converted.
//!
//! # Shapley values
//!
//! The worth `v(S) = Σ_{T ⊆ S} conv(T)`, summed over the channel sets `T` of the paths,
//! is a sum of unanimity games, one per channel set, each worth `conv(T)` and shared
//! equally among the channels of `T`. So channel `i`'s Shapley value is exactly
//! `Σ_{T ∋ i} conv(T) / |T|`: one pass over the paths, no enumeration of the `2^n`
//! coalitions (the tests check it against that enumeration).
//!
//! # Cost and determinism
//!
//! Paths are processed in parallel in chunks whose size depends on the number of paths
//! only, and the chunks' sums are added in chunk order: results are bit-identical for
//! any number of threads. The first-order chain is counted densely, so its solves cost
//! `O(n³)` each for `n` channels (`n + 1` solves); higher orders intern the observed
//! states and are bounded by [`AttributionOptions::max_states`].
//!
//! ```
//! use acrm::data::Paths;
//! use acrm::promotion::{AttributionOptions, AttributionModel};
//! use approx::assert_relative_eq;
//!
//! let mut b = Paths::builder();
//! b.push(&["search", "email"], 30.0, 3000.0, 70.0)?;
//! b.push(&["display", "search"], 10.0, 500.0, 40.0)?;
//! b.push(&["email"], 5.0, 250.0, 95.0)?;
//! let paths = b.build()?;
//! let att = AttributionOptions::new().compute(&paths)?;
//! // The chain converts as often as the journeys did: 45 of 250.
//! assert_relative_eq!(att.markov.p_conversion, 45.0 / 250.0, max_relative = 1e-12);
//! for model in AttributionModel::ALL {
//!     let credit = att.credit(model);
//!     assert_relative_eq!(credit.conversions.iter().sum::<f64>(), 45.0, max_relative = 1e-12);
//! }
//! let search = att.channel("search").unwrap();
//! // Shapley: search shares the {search, email} and {display, search} paths.
//! assert_relative_eq!(att.models.shapley.conversions[search], 15.0 + 5.0);
//! # Ok::<(), acrm::Error>(())
//! ```

use std::collections::HashMap;
use std::fmt;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{Area, Paths, ScopeTag};
use crate::error::{Error, Result};

/// An attribution model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributionModel {
    /// All to the first touch.
    FirstTouch,
    /// All to the last touch.
    LastTouch,
    /// Equal shares per touch.
    Linear,
    /// 40 / 20 / 40 to the first, middle and last touches.
    PositionBased,
    /// Exponentially decaying weights by age at the conversion.
    TimeDecay,
    /// Removal effects of the absorbing Markov chain.
    Markov,
    /// Shapley values of the channel-set game.
    Shapley,
}

impl AttributionModel {
    /// Every model, in the order of the report.
    pub const ALL: [AttributionModel; 7] = [
        AttributionModel::FirstTouch,
        AttributionModel::LastTouch,
        AttributionModel::Linear,
        AttributionModel::PositionBased,
        AttributionModel::TimeDecay,
        AttributionModel::Markov,
        AttributionModel::Shapley,
    ];

    /// The model's name (`first_touch`, ..., `shapley`).
    pub const fn name(self) -> &'static str {
        match self {
            AttributionModel::FirstTouch => "first_touch",
            AttributionModel::LastTouch => "last_touch",
            AttributionModel::Linear => "linear",
            AttributionModel::PositionBased => "position_based",
            AttributionModel::TimeDecay => "time_decay",
            AttributionModel::Markov => "markov",
            AttributionModel::Shapley => "shapley",
        }
    }
}

impl fmt::Display for AttributionModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What one model credits each channel with, index-aligned with
/// [`Attribution::channels`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Credit {
    /// Conversions credited to each channel.
    pub conversions: Vec<f64>,
    /// Conversion value credited to each channel.
    pub value: Vec<f64>,
}

impl Credit {
    fn zeros(n: usize) -> Credit {
        Credit {
            conversions: vec![0.0; n],
            value: vec![0.0; n],
        }
    }

    fn add(&mut self, other: &Credit) {
        for (a, b) in self.conversions.iter_mut().zip(&other.conversions) {
            *a += b;
        }
        for (a, b) in self.value.iter_mut().zip(&other.value) {
            *a += b;
        }
    }

    #[inline]
    fn give(&mut self, channel: u32, conversions: f64, value: f64) {
        self.conversions[channel as usize] += conversions;
        self.value[channel as usize] += value;
    }
}

/// Every model's credits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Models {
    /// First touch.
    pub first_touch: Credit,
    /// Last touch.
    pub last_touch: Credit,
    /// Linear.
    pub linear: Credit,
    /// Position based.
    pub position_based: Credit,
    /// Time decay.
    pub time_decay: Credit,
    /// Markov chain removal effects.
    pub markov: Credit,
    /// Shapley values.
    pub shapley: Credit,
}

impl Models {
    /// The credits of `model`.
    pub fn get(&self, model: AttributionModel) -> &Credit {
        match model {
            AttributionModel::FirstTouch => &self.first_touch,
            AttributionModel::LastTouch => &self.last_touch,
            AttributionModel::Linear => &self.linear,
            AttributionModel::PositionBased => &self.position_based,
            AttributionModel::TimeDecay => &self.time_decay,
            AttributionModel::Markov => &self.markov,
            AttributionModel::Shapley => &self.shapley,
        }
    }
}

/// The unit a time decay's half-life is measured in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecayUnit {
    /// Touches before the last one (paths without times).
    Touches,
    /// Days before the conversion (paths from a timed touch log).
    Days,
}

/// The solved Markov chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkovChain {
    /// Its order (1: the state is the current channel).
    pub order: usize,
    /// Transient states, `start` included.
    pub states: usize,
    /// The probability of ending in `conversion` from `start`.
    pub p_conversion: f64,
    /// Per channel, `1 − P(conversion without it) / P(conversion)` (0 when nothing
    /// converts).
    pub removal_effects: Vec<f64>,
}

/// A Markov chain with its credits (from [`AttributionOptions::markov`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MarkovFit {
    /// The chain.
    pub chain: MarkovChain,
    /// Conversions and value shared in proportion to the removal effects.
    pub credit: Credit,
}

/// Attribution of the conversions of a set of paths by every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attribution {
    /// The scope of the touches the paths came from.
    pub scope: ScopeTag,
    /// The channels, in the paths' order of first appearance; every credit vector is
    /// index-aligned with it.
    pub channels: Vec<String>,
    /// Distinct paths.
    pub paths: usize,
    /// Conversions of every path.
    pub total_conversions: f64,
    /// Their value.
    pub total_value: f64,
    /// Journeys that did not convert.
    pub total_nulls: f64,
    /// The time decay's half-life.
    pub half_life: f64,
    /// The unit of the half-life: days for paths with times, touches otherwise.
    pub half_life_unit: DecayUnit,
    /// The Markov chain.
    pub markov: MarkovChain,
    /// Every model's credits.
    pub models: Models,
}

impl Attribution {
    /// The index of channel `name`.
    pub fn channel(&self, name: &str) -> Option<usize> {
        self.channels.iter().position(|c| c == name)
    }

    /// The credits of `model`.
    pub fn credit(&self, model: AttributionModel) -> &Credit {
        self.models.get(model)
    }
}

/// Settings of the attribution: the time decay's half-life (default 7, in days for
/// paths with times, in touches otherwise), the position-based shares of the first and
/// last touches (default 0.4 and 0.4), the Markov chain's order (default 1) and the
/// largest number of chain states solved densely (default 4096).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributionOptions {
    half_life: f64,
    first_share: f64,
    last_share: f64,
    markov_order: usize,
    max_states: usize,
}

impl Default for AttributionOptions {
    fn default() -> Self {
        AttributionOptions {
            half_life: 7.0,
            first_share: 0.4,
            last_share: 0.4,
            markov_order: 1,
            max_states: 4096,
        }
    }
}

/// Paths per chunk: a function of the number of paths only (never of the threads), so
/// the chunks' sums, added in order, are the same for any pool.
fn chunk_len(n: usize) -> usize {
    n.div_ceil(64).max(4096)
}

impl AttributionOptions {
    /// Default settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// The time decay's half-life (> 0): in days for paths with times, in touches
    /// otherwise.
    pub fn half_life(mut self, half_life: f64) -> Self {
        self.half_life = half_life;
        self
    }

    /// The position-based shares of the first and the last touch (each ≥ 0, summing to
    /// at most 1; the rest goes to the touches between).
    pub fn position_shares(mut self, first: f64, last: f64) -> Self {
        self.first_share = first;
        self.last_share = last;
        self
    }

    /// The Markov chain's order (≥ 1).
    pub fn markov_order(mut self, order: usize) -> Self {
        self.markov_order = order;
        self
    }

    /// The largest number of transient chain states to solve (≥ 2); a chain of higher
    /// order over many channels can have many more.
    pub fn max_states(mut self, states: usize) -> Self {
        self.max_states = states;
        self
    }

    /// Checks every option (also done by [`compute`](Self::compute)).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for a half-life that is not finite and > 0, position
    /// shares negative or summing past 1 (or both 0), an order of 0, or fewer than 2
    /// states.
    pub fn validate(&self) -> Result<()> {
        if !(self.half_life.is_finite() && self.half_life > 0.0) {
            return Err(Error::option(
                "half_life",
                self.half_life,
                "a finite half-life > 0",
            ));
        }
        let (f, l) = (self.first_share, self.last_share);
        if !(f >= 0.0 && l >= 0.0 && f + l <= 1.0 && f + l > 0.0) {
            return Err(Error::option(
                "position_shares",
                format!("{f}, {l}"),
                "first and last shares ≥ 0 with 0 < first + last ≤ 1",
            ));
        }
        if self.markov_order == 0 {
            return Err(Error::option("markov_order", 0, "an order ≥ 1"));
        }
        if self.max_states < 2 {
            return Err(Error::option("max_states", self.max_states, "at least 2"));
        }
        Ok(())
    }

    /// Every model's attribution of `paths`.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::ForbiddenArea`] when the paths' scope
    /// forbids promotion; as [`markov`](Self::markov).
    pub fn compute(&self, paths: &Paths) -> Result<Attribution> {
        self.validate()?;
        paths.scope().require(Area::Promotion)?;
        let n = paths.channels().len();
        let markov = self.markov(paths)?;
        let heuristics = self.heuristics(paths);
        let (time_decay, unit) = match paths.timed() {
            Some(_) => (self.time_decay_days(paths), DecayUnit::Days),
            None => (heuristics.time_decay, DecayUnit::Touches),
        };
        debug_assert_eq!(markov.credit.conversions.len(), n);
        Ok(Attribution {
            scope: paths.scope().clone(),
            channels: paths.channels().iter().map(str::to_string).collect(),
            paths: paths.len(),
            total_conversions: paths.total_conversions(),
            total_value: paths.total_value(),
            total_nulls: paths.total_nulls(),
            half_life: self.half_life,
            half_life_unit: unit,
            markov: markov.chain,
            models: Models {
                first_touch: heuristics.first,
                last_touch: heuristics.last,
                linear: heuristics.linear,
                position_based: heuristics.position,
                time_decay,
                markov: markov.credit,
                shapley: heuristics.shapley,
            },
        })
    }

    /// The Shapley values of the channel-set game (see the module documentation).
    pub fn shapley(&self, paths: &Paths) -> Credit {
        let n = paths.channels().len();
        let chunks = per_chunk(paths, |range| {
            let mut c = Credit::zeros(n);
            let mut seen = vec![u32::MAX; n];
            let mut set = Vec::new();
            for i in range {
                distinct(paths.path(i), i as u32, &mut seen, &mut set);
                let d = set.len() as f64;
                let (conv, value) = (paths.conversions(i) / d, paths.value(i) / d);
                for &ch in &set {
                    c.give(ch, conv, value);
                }
            }
            c
        });
        sum_credits(chunks, n)
    }

    /// The Markov chain of the paths, solved exactly, and its credits.
    ///
    /// # Errors
    /// As [`validate`](Self::validate); [`Error::InvalidOption`] (`max_states`) when the
    /// chain has more transient states than allowed; [`Error::Numerical`] if a system
    /// is singular (it cannot be for a chain built from paths, which all end).
    pub fn markov(&self, paths: &Paths) -> Result<MarkovFit> {
        self.validate()?;
        let n = paths.channels().len();
        let chain = if self.markov_order == 1 {
            first_order(paths)
        } else {
            higher_order(paths, self.markov_order)
        };
        let states = chain.states.len() + 1;
        if states > self.max_states {
            return Err(Error::option(
                "max_states",
                self.max_states,
                format!("at least the {states} transient states of the chain"),
            ));
        }
        let p = chain.p_conversion(None)?;
        let removal: Vec<f64> = if p > 0.0 {
            (0..n as u32)
                .into_par_iter()
                .map(|c| chain.p_conversion(Some(c)).map(|q| 1.0 - q / p))
                .collect::<Result<_>>()?
        } else {
            vec![0.0; n]
        };
        let sum: f64 = removal.iter().sum();
        let (tc, tv) = (paths.total_conversions(), paths.total_value());
        let share = |re: f64| if sum > 0.0 { re / sum } else { 0.0 };
        let credit = Credit {
            conversions: removal.iter().map(|&re| tc * share(re)).collect(),
            value: removal.iter().map(|&re| tv * share(re)).collect(),
        };
        Ok(MarkovFit {
            chain: MarkovChain {
                order: self.markov_order,
                states,
                p_conversion: p,
                removal_effects: removal,
            },
            credit,
        })
    }

    /// First, last, linear, position-based, touch-counted time decay and Shapley in one
    /// pass over the paths.
    fn heuristics(&self, paths: &Paths) -> Heuristics {
        let n = paths.channels().len();
        let (fs, ls) = (self.first_share, self.last_share);
        let decay = 0.5f64.powf(1.0 / self.half_life);
        let chunks = per_chunk(paths, |range| {
            let mut h = Heuristics::zeros(n);
            let mut seen = vec![u32::MAX; n];
            let mut set = Vec::new();
            let mut weights = Vec::new();
            for i in range {
                let s = paths.path(i);
                let (conv, value) = (paths.conversions(i), paths.value(i));
                let len = s.len();
                h.first.give(s[0], conv, value);
                h.last.give(s[len - 1], conv, value);
                let l = len as f64;
                for &ch in s {
                    h.linear.give(ch, conv / l, value / l);
                }
                match len {
                    1 => h.position.give(s[0], conv, value),
                    2 => {
                        let (a, b) = (fs / (fs + ls), ls / (fs + ls));
                        h.position.give(s[0], conv * a, value * a);
                        h.position.give(s[1], conv * b, value * b);
                    }
                    _ => {
                        let mid = (1.0 - fs - ls) / (l - 2.0);
                        h.position.give(s[0], conv * fs, value * fs);
                        for &ch in &s[1..len - 1] {
                            h.position.give(ch, conv * mid, value * mid);
                        }
                        h.position.give(s[len - 1], conv * ls, value * ls);
                    }
                }
                // Weights 0.5^(age / half-life), age in touches before the last.
                weights.clear();
                let mut w = 1.0;
                for _ in 0..len {
                    weights.push(w);
                    w *= decay;
                }
                weights.reverse();
                let total: f64 = weights.iter().sum();
                for (&ch, &w) in s.iter().zip(&weights) {
                    let w = w / total;
                    h.time_decay.give(ch, conv * w, value * w);
                }
                distinct(s, i as u32, &mut seen, &mut set);
                let d = set.len() as f64;
                for &ch in &set {
                    h.shapley.give(ch, conv / d, value / d);
                }
            }
            h
        });
        let mut out = Heuristics::zeros(n);
        for h in &chunks {
            out.first.add(&h.first);
            out.last.add(&h.last);
            out.linear.add(&h.linear);
            out.position.add(&h.position);
            out.time_decay.add(&h.time_decay);
            out.shapley.add(&h.shapley);
        }
        out
    }

    /// Time decay over the timed journeys, ages in days.
    fn time_decay_days(&self, paths: &Paths) -> Credit {
        let n = paths.channels().len();
        let Some(timed) = paths.timed() else {
            return Credit::zeros(n);
        };
        let len = timed.len();
        let size = chunk_len(len);
        let chunks: Vec<Credit> = (0..len.div_ceil(size))
            .into_par_iter()
            .map(|k| {
                let mut c = Credit::zeros(n);
                let mut weights = Vec::new();
                for j in k * size..((k + 1) * size).min(len) {
                    let ages = timed.ages(j);
                    // Ages from the newest touch: the normalised weights are the same, and
                    // the newest touch's weight is 1, so a journey whose touches are all
                    // thousands of half-lives old does not underflow to 0/0.
                    let newest = ages.iter().copied().fold(f64::INFINITY, f64::min);
                    weights.clear();
                    weights.extend(
                        ages.iter()
                            .map(|a| 0.5f64.powf((a - newest) / self.half_life)),
                    );
                    let total: f64 = weights.iter().sum();
                    let value = timed.value(j);
                    for (&ch, &w) in paths.path(timed.path(j)).iter().zip(&weights) {
                        let w = w / total;
                        c.give(ch, w, value * w);
                    }
                }
                c
            })
            .collect();
        sum_credits(chunks, n)
    }
}

struct Heuristics {
    first: Credit,
    last: Credit,
    linear: Credit,
    position: Credit,
    time_decay: Credit,
    shapley: Credit,
}

impl Heuristics {
    fn zeros(n: usize) -> Heuristics {
        Heuristics {
            first: Credit::zeros(n),
            last: Credit::zeros(n),
            linear: Credit::zeros(n),
            position: Credit::zeros(n),
            time_decay: Credit::zeros(n),
            shapley: Credit::zeros(n),
        }
    }
}

/// `f` over fixed chunks of the paths, in parallel, results in chunk order.
fn per_chunk<T: Send>(paths: &Paths, f: impl Fn(std::ops::Range<usize>) -> T + Sync) -> Vec<T> {
    let len = paths.len();
    let size = chunk_len(len);
    (0..len.div_ceil(size))
        .into_par_iter()
        .map(|k| f(k * size..((k + 1) * size).min(len)))
        .collect()
}

fn sum_credits(chunks: Vec<Credit>, n: usize) -> Credit {
    let mut out = Credit::zeros(n);
    for c in &chunks {
        out.add(c);
    }
    out
}

/// The distinct channels of `path` into `set`, in order of first appearance; `seen`
/// marks channels with the stamp of the current path.
fn distinct(path: &[u32], stamp: u32, seen: &mut [u32], set: &mut Vec<u32>) {
    set.clear();
    for &ch in path {
        if seen[ch as usize] != stamp {
            seen[ch as usize] = stamp;
            set.push(ch);
        }
    }
}

/// Transition counts of an absorbing chain: transient state 0 is `start`, states
/// `1..=m` the others; per state, counts to transient states, to conversion and to null.
struct Chain {
    /// Per transient state after `start`, the channels it holds (for removal).
    states: Vec<Vec<u32>>,
    /// Dense counts, `(m + 1) × (m + 1)` row-major, between transient states.
    q: Vec<f64>,
    /// Counts into conversion and null, per transient state.
    conv: Vec<f64>,
    null: Vec<f64>,
}

impl Chain {
    fn size(&self) -> usize {
        self.states.len() + 1
    }

    /// P(conversion) from `start`, with the states holding `removed` sent to null.
    fn p_conversion(&self, removed: Option<u32>) -> Result<f64> {
        let size = self.size();
        // The transient states kept, `start` first.
        let keep: Vec<usize> = (0..size)
            .filter(|&s| s == 0 || !matches!(removed, Some(c) if self.states[s - 1].contains(&c)))
            .collect();
        let m = keep.len();
        let mut a = vec![0.0; m * m];
        let mut b = vec![0.0; m];
        for (i, &s) in keep.iter().enumerate() {
            let row = &self.q[s * size..(s + 1) * size];
            let total: f64 = row.iter().sum::<f64>() + self.conv[s] + self.null[s];
            a[i * m + i] = 1.0;
            if total > 0.0 {
                for (j, &t) in keep.iter().enumerate() {
                    a[i * m + j] -= row[t] / total;
                }
                b[i] = self.conv[s] / total;
            }
        }
        solve(&mut a, &mut b, m)?;
        Ok(b[0])
    }
}

/// Solves `a x = b` in place (`b` becomes `x`) by Gaussian elimination with partial
/// pivoting; `a` is `m × m` row-major.
fn solve(a: &mut [f64], b: &mut [f64], m: usize) -> Result<()> {
    for k in 0..m {
        let (mut p, mut best) = (k, a[k * m + k].abs());
        for i in k + 1..m {
            let v = a[i * m + k].abs();
            if v > best {
                (p, best) = (i, v);
            }
        }
        if best.is_nan() || best < 1e-300 {
            return Err(Error::Numerical {
                procedure: "Markov chain absorption",
                reason: format!("singular system at state {k}"),
            });
        }
        if p != k {
            for j in 0..m {
                a.swap(k * m + j, p * m + j);
            }
            b.swap(k, p);
        }
        let pivot = a[k * m + k];
        for i in k + 1..m {
            let f = a[i * m + k] / pivot;
            if f != 0.0 {
                for j in k..m {
                    a[i * m + j] -= f * a[k * m + j];
                }
                b[i] -= f * b[k];
            }
        }
    }
    for k in (0..m).rev() {
        let mut s = b[k];
        for j in k + 1..m {
            s -= a[k * m + j] * b[j];
        }
        b[k] = s / a[k * m + k];
    }
    Ok(())
}

/// The first-order chain, counted densely over chunks of paths in parallel.
fn first_order(paths: &Paths) -> Chain {
    let n = paths.channels().len();
    let size = n + 1;
    // Per chunk: transient counts (size × size), then conversion and null per state.
    let chunks = per_chunk(paths, |range| {
        let mut t = vec![0.0; size * size + 2 * size];
        for i in range {
            let s = paths.path(i);
            let (conv, null) = (paths.conversions(i), paths.nulls(i));
            let w = conv + null;
            let mut from = 0usize;
            for &ch in s {
                let to = ch as usize + 1;
                // Consecutive repeats collapse (no self-loops).
                if to != from {
                    t[from * size + to] += w;
                    from = to;
                }
            }
            t[size * size + from] += conv;
            t[size * size + size + from] += null;
        }
        t
    });
    let mut t = vec![0.0; size * size + 2 * size];
    for c in &chunks {
        for (a, b) in t.iter_mut().zip(c) {
            *a += b;
        }
    }
    let null = t.split_off(size * size + size);
    let conv = t.split_off(size * size);
    Chain {
        states: (0..n as u32).map(|c| vec![c]).collect(),
        q: t,
        conv,
        null,
    }
}

/// The chain of order `k`: states are the last (up to) `k` channels of the collapsed
/// path; observed states are interned in path order.
fn higher_order(paths: &Paths, k: usize) -> Chain {
    let mut ids: HashMap<Vec<u32>, usize> = HashMap::new();
    let mut states: Vec<Vec<u32>> = Vec::new();
    // (from, to) → count, from and to transient state numbers (0 = start).
    let mut edges: HashMap<(usize, usize), f64> = HashMap::new();
    let mut ends: Vec<(usize, f64, f64)> = Vec::new();
    let mut collapsed = Vec::new();
    for i in 0..paths.len() {
        let (conv, null) = (paths.conversions(i), paths.nulls(i));
        let w = conv + null;
        collapsed.clear();
        for &ch in paths.path(i) {
            if collapsed.last() != Some(&ch) {
                collapsed.push(ch);
            }
        }
        let mut from = 0usize;
        for j in 0..collapsed.len() {
            let window = &collapsed[(j + 1).saturating_sub(k)..=j];
            let to = match ids.get(window) {
                Some(&s) => s,
                None => {
                    states.push(window.to_vec());
                    ids.insert(window.to_vec(), states.len());
                    states.len()
                }
            };
            *edges.entry((from, to)).or_insert(0.0) += w;
            from = to;
        }
        ends.push((from, conv, null));
    }
    let size = states.len() + 1;
    let mut q = vec![0.0; size * size];
    // Each entry's sum was accumulated in path order; placing them needs no order.
    for (&(from, to), &w) in &edges {
        q[from * size + to] = w;
    }
    let (mut conv, mut null) = (vec![0.0; size], vec![0.0; size]);
    for (from, c, x) in ends {
        conv[from] += c;
        null[from] += x;
    }
    Chain {
        states,
        q,
        conv,
        null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn paths(rows: &[(&str, f64, f64, f64)]) -> Paths {
        let mut b = Paths::builder();
        for (p, c, v, n) in rows {
            let ch: Vec<&str> = p.split('>').map(str::trim).collect();
            b.push(&ch, *c, *v, *n).unwrap();
        }
        b.build().unwrap()
    }

    /// Shapley by the definition: every coalition, weights |S|!(n−|S|−1)!/n!.
    fn brute_shapley(p: &Paths) -> Vec<f64> {
        let n = p.channels().len();
        let masks: Vec<u32> = (0..p.len())
            .map(|i| p.path(i).iter().fold(0u32, |m, &c| m | 1 << c))
            .collect();
        let v = |s: u32| -> f64 {
            (0..p.len())
                .filter(|&i| masks[i] & !s == 0)
                .map(|i| p.conversions(i))
                .sum()
        };
        let fact = |k: usize| (1..=k).map(|x| x as f64).product::<f64>();
        (0..n)
            .map(|i| {
                (0..1u32 << n)
                    .filter(|s| s & (1 << i) == 0)
                    .map(|s| {
                        let k = s.count_ones() as usize;
                        fact(k) * fact(n - k - 1) / fact(n) * (v(s | 1 << i) - v(s))
                    })
                    .sum()
            })
            .collect()
    }

    #[test]
    fn shapley_closed_form_matches_every_coalition() {
        let p = paths(&[
            ("a > b", 3.0, 30.0, 1.0),
            ("b > c > b", 2.0, 5.0, 4.0),
            ("a", 1.0, 1.0, 0.0),
            ("d > a > c > e", 4.0, 8.0, 2.0),
            ("e", 0.5, 2.0, 1.0),
            ("c > d", 0.0, 0.0, 3.0),
        ]);
        let fast = AttributionOptions::new().shapley(&p);
        for (x, y) in fast.conversions.iter().zip(brute_shapley(&p)) {
            assert_relative_eq!(*x, y, max_relative = 1e-12);
        }
    }

    #[test]
    fn chain_converts_as_often_as_the_journeys_at_every_order() {
        let p = paths(&[
            ("a > b > a > c", 3.0, 30.0, 5.0),
            ("b > b > c", 2.0, 5.0, 4.0),
            ("c > a", 1.0, 1.0, 7.0),
            ("a", 0.0, 0.0, 2.0),
        ]);
        for order in 1..=3 {
            let fit = AttributionOptions::new()
                .markov_order(order)
                .markov(&p)
                .unwrap();
            assert_relative_eq!(fit.chain.p_conversion, 6.0 / 24.0, max_relative = 1e-12);
            let total: f64 = fit.credit.conversions.iter().sum();
            assert_relative_eq!(total, 6.0, max_relative = 1e-12);
        }
    }

    #[test]
    fn options_are_checked() {
        let p = paths(&[("a", 1.0, 1.0, 1.0)]);
        for opts in [
            AttributionOptions::new().half_life(0.0),
            AttributionOptions::new().position_shares(0.7, 0.4),
            AttributionOptions::new().markov_order(0),
            AttributionOptions::new().max_states(1),
        ] {
            assert!(matches!(opts.compute(&p), Err(Error::InvalidOption { .. })));
        }
    }
}
