//! Touch paths: the sequences of channels that led (or did not lead) to a conversion,
//! aggregated so that identical paths are stored once with their conversions, value and
//! non-conversions ("nulls").
//!
//! Paths come from an aggregated path file (the reader is in `io`), from records given
//! one by one ([`PathsBuilder`]), or from a touch log ([`Paths::from_touches`]): each
//! customer's touches are cut into journeys at its conversions, marked on the touches
//! or read from the purchases of the customer view.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::access::Area;
use super::ids::Interner;
use super::scope::ScopeTag;
use super::touches::TouchView;
use super::transactions::is_purchase;
use crate::error::{Error, Problem, Result};
use crate::time::Timestamp;

/// One aggregated path as given: its channels in order, and how many journeys along it
/// converted (with their total value) and how many did not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PathRecord {
    /// The channels, first touch first.
    pub channels: Vec<String>,
    /// Journeys along the path that converted (finite, ≥ 0).
    pub conversions: f64,
    /// Their total conversion value (finite, ≥ 0).
    pub value: f64,
    /// Journeys along the path that did not convert (finite, ≥ 0).
    pub nulls: f64,
}

/// How a touch log's journeys end in conversions.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Conversions {
    /// Conversions are marked on the touches ([`TouchRecord::conversion`]): a customer's
    /// touches up to and including a marked touch form a converting path, valued at the
    /// touch's value (0 when it has none); the touches after the last marked one form a
    /// non-converting path.
    ///
    /// [`TouchRecord::conversion`]: super::TouchRecord::conversion
    Marked,
    /// Conversions are the purchases ([`is_purchase`]) of the customer view the touches
    /// were scoped by. Each touch belongs to the first purchase at or after it (a touch
    /// at the same time as a purchase counts towards it; with dates only, a touch on the
    /// day of a purchase does); the touches of a purchase within `lookback_days` before
    /// it form a converting path valued at the purchase's amount, older ones are dropped
    /// (counted in [`PathReport::expired_touches`]). The touches after the last purchase
    /// form a non-converting path. A purchase without touches in its window is counted
    /// in [`PathReport::conversions_without_touches`] and belongs to no path.
    Purchases {
        /// The lookback window in days (> 0; `f64::INFINITY` for no limit).
        lookback_days: f64,
    },
}

/// What building paths from a touch log found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PathReport {
    /// Journeys (converting and not), before identical paths were merged.
    pub journeys: u64,
    /// Journeys that ended in a conversion.
    pub converting: u64,
    /// Journeys that did not.
    pub non_converting: u64,
    /// Touches older than the lookback window of the purchase they preceded.
    pub expired_touches: u64,
    /// Purchases with no touch in their lookback window, of customers with touches
    /// (customers without any touch are not in the touch view).
    pub conversions_without_touches: u64,
}

/// Journeys with the times of their touches: the converting journeys of a touch log,
/// kept one by one (identical paths with different timings cannot be merged) for time
/// decay measured in days.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Timed {
    /// The aggregated path of each converting journey.
    path: Vec<u32>,
    /// `ages[offsets[j]..offsets[j + 1]]`: days from each touch of journey j to its
    /// conversion.
    offsets: Vec<usize>,
    ages: Vec<f64>,
    value: Vec<f64>,
}

/// The converting journeys of a touch log with the age of each touch at the conversion,
/// read by a time decay measured in days.
#[derive(Debug, Clone, Copy)]
pub struct TimedJourneys<'a> {
    timed: &'a Timed,
}

impl<'a> TimedJourneys<'a> {
    /// Number of converting journeys.
    pub fn len(&self) -> usize {
        self.timed.path.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.timed.path.is_empty()
    }

    /// The aggregated path (an index into [`Paths`]) journey `j` followed.
    pub fn path(&self, j: usize) -> usize {
        self.timed.path[j] as usize
    }

    /// Days from each touch of journey `j` to its conversion (≥ 0), in touch order.
    pub fn ages(&self, j: usize) -> &'a [f64] {
        &self.timed.ages[self.timed.offsets[j]..self.timed.offsets[j + 1]]
    }

    /// The conversion value of journey `j`.
    pub fn value(&self, j: usize) -> f64 {
        self.timed.value[j]
    }
}

/// Distinct paths with their conversions, value and nulls; channels interned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Paths {
    channels: Interner,
    /// `touches[offsets[i]..offsets[i + 1]]` are path i's channels.
    offsets: Vec<usize>,
    touches: Vec<u32>,
    conversions: Vec<f64>,
    value: Vec<f64>,
    nulls: Vec<f64>,
    timed: Option<Timed>,
    scope: ScopeTag,
    report: PathReport,
}

/// Builds [`Paths`] from paths given one at a time, merging identical ones.
///
/// ```
/// use acrm::data::Paths;
/// let mut b = Paths::builder();
/// b.push(&["search", "email"], 3.0, 150.0, 7.0)?;
/// b.push(&["display"], 0.0, 0.0, 5.0)?;
/// b.push(&["search", "email"], 1.0, 20.0, 0.0)?;
/// let paths = b.build()?;
/// assert_eq!(paths.len(), 2);
/// assert_eq!((paths.conversions(0), paths.value(0), paths.nulls(0)), (4.0, 170.0, 7.0));
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct PathsBuilder {
    channels: Interner,
    offsets: Vec<usize>,
    touches: Vec<u32>,
    conversions: Vec<f64>,
    value: Vec<f64>,
    nulls: Vec<f64>,
    table: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
    scratch: Vec<u32>,
    records: u64,
    timed: Option<Timed>,
    report: PathReport,
}

fn count(line: u64, field: &'static str, v: f64) -> Result<f64> {
    if !v.is_finite() {
        Err(Error::row(line, field, &v.to_string(), Problem::NonFinite))
    } else if v < 0.0 {
        Err(Error::row(line, field, &v.to_string(), Problem::Negative))
    } else {
        Ok(v)
    }
}

impl PathsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        PathsBuilder {
            offsets: vec![0],
            ..Default::default()
        }
    }

    /// Adds one path (merged with an identical one given before). Its line in errors is
    /// its 1-based position.
    ///
    /// # Errors
    /// [`Error::Row`]: a path without channels or with an empty channel name (field
    /// `path`, [`Problem::EmptyValue`]); conversions, value or nulls not finite or
    /// negative (fields `total_conversions`, `total_conversion_value`, `total_null`;
    /// [`Problem::NonFinite`], [`Problem::Negative`]).
    pub fn push<S: AsRef<str>>(
        &mut self,
        channels: &[S],
        conversions: f64,
        value: f64,
        nulls: f64,
    ) -> Result<()> {
        self.records += 1;
        let line = self.records;
        let conversions = count(line, "total_conversions", conversions)?;
        let value = count(line, "total_conversion_value", value)?;
        let nulls = count(line, "total_null", nulls)?;
        if channels.is_empty() || channels.iter().any(|c| c.as_ref().trim().is_empty()) {
            let path: Vec<&str> = channels.iter().map(AsRef::as_ref).collect();
            return Err(Error::row(
                line,
                "path",
                &path.join(" > "),
                Problem::EmptyValue,
            ));
        }
        let mut seq = std::mem::take(&mut self.scratch);
        seq.clear();
        seq.extend(
            channels
                .iter()
                .map(|c| self.channels.intern(c.as_ref().trim())),
        );
        self.add(&seq, conversions, value, nulls);
        self.scratch = seq;
        Ok(())
    }

    /// Adds a path of interned channels; returns its index.
    fn add(&mut self, seq: &[u32], conversions: f64, value: f64, nulls: f64) -> u32 {
        let h = self.hasher.hash_one(seq);
        let found = {
            let (offsets, touches) = (&self.offsets, &self.touches);
            self.table
                .find(h, |&i| {
                    &touches[offsets[i as usize]..offsets[i as usize + 1]] == seq
                })
                .copied()
        };
        let i = match found {
            Some(i) => i,
            None => {
                let i = self.conversions.len() as u32;
                self.touches.extend_from_slice(seq);
                self.offsets.push(self.touches.len());
                self.conversions.push(0.0);
                self.value.push(0.0);
                self.nulls.push(0.0);
                let (offsets, touches, hasher) = (&self.offsets, &self.touches, &self.hasher);
                self.table.insert_unique(h, i, |&j| {
                    hasher.hash_one(&touches[offsets[j as usize]..offsets[j as usize + 1]])
                });
                i
            }
        };
        let k = i as usize;
        self.conversions[k] += conversions;
        self.value[k] += value;
        self.nulls[k] += nulls;
        i
    }

    /// The paths.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] when no path was given.
    pub fn build(self) -> Result<Paths> {
        self.build_scoped(ScopeTag::default())
    }

    fn build_scoped(self, scope: ScopeTag) -> Result<Paths> {
        if self.conversions.is_empty() {
            return Err(Error::EmptyInput);
        }
        Ok(Paths {
            channels: self.channels,
            offsets: self.offsets,
            touches: self.touches,
            conversions: self.conversions,
            value: self.value,
            nulls: self.nulls,
            timed: self.timed,
            scope,
            report: self.report,
        })
    }
}

/// Seconds since 1970-01-01 of a timestamp (a date alone is its midnight).
fn seconds(day: i32, second: Option<u32>) -> i64 {
    i64::from(day) * 86_400 + i64::from(second.unwrap_or(0))
}

/// One journey of a customer: a range of its touches and how it ended.
struct Journey {
    touches: std::ops::Range<usize>,
    /// Time of the conversion (seconds), for a converting journey.
    converted_at: Option<i64>,
    value: f64,
}

/// A customer's journeys and what was dropped.
#[derive(Default)]
struct Cut {
    journeys: Vec<Journey>,
    expired: u64,
    untouched: u64,
}

impl Paths {
    /// A builder of paths given one by one.
    pub fn builder() -> PathsBuilder {
        PathsBuilder::new()
    }

    /// Validates and aggregates path records.
    ///
    /// # Errors
    /// As [`PathsBuilder::push`], naming the record by its 1-based position;
    /// [`Error::EmptyInput`] for none.
    pub fn new(records: impl IntoIterator<Item = PathRecord>) -> Result<Paths> {
        let mut b = PathsBuilder::new();
        for r in records {
            b.push(&r.channels, r.conversions, r.value, r.nulls)?;
        }
        b.build()
    }

    /// The journeys of a touch log, cut at its conversions (see [`Conversions`]) and
    /// aggregated into paths; the converting journeys are also kept with the age of each
    /// touch at the conversion, for a time decay in days. The paths carry the view's
    /// scope.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] when the scope forbids promotion; [`Error::HiddenColumn`]
    /// when it hides channels; [`Error::InvalidOption`] for a lookback that is not > 0,
    /// or conversions from purchases on a view without a customer view
    /// ([`Touches::everyone`](super::Touches::everyone)); [`Error::EmptyInput`] when the
    /// view holds no journey.
    pub fn from_touches(touches: &TouchView<'_>, conversions: Conversions) -> Result<Paths> {
        touches.require(Area::Promotion)?;
        let names = touches.channel_names()?;
        if let Conversions::Purchases { lookback_days } = conversions {
            if lookback_days.is_nan() || lookback_days <= 0.0 {
                return Err(Error::option(
                    "lookback_days",
                    lookback_days,
                    "a window > 0 days (infinity for none)",
                ));
            }
            if touches.customer_view().is_none() {
                return Err(Error::option(
                    "conversions",
                    "purchases",
                    "touches scoped by a customer view (Touches::view) to read purchases from",
                ));
            }
        }
        let cuts: Vec<Cut> = (0..touches.len())
            .into_par_iter()
            .with_min_len(256)
            .map(|m| cut(touches, m, conversions))
            .collect();
        let mut b = PathsBuilder::new();
        b.channels = names.clone();
        let mut timed = Timed {
            offsets: vec![0],
            ..Timed::default()
        };
        for (m, c) in cuts.iter().enumerate() {
            b.report.expired_touches += c.expired;
            b.report.conversions_without_touches += c.untouched;
            // The channels were revealed above; the same scope reveals them here.
            let channels = touches.channels(m)?;
            let times = touches.times(m);
            for j in &c.journeys {
                let seq = &channels[j.touches.clone()];
                b.report.journeys += 1;
                match j.converted_at {
                    Some(at) => {
                        b.report.converting += 1;
                        let p = b.add(seq, 1.0, j.value, 0.0);
                        timed.path.push(p);
                        timed.value.push(j.value);
                        timed
                            .ages
                            .extend(times[j.touches.clone()].iter().map(|t: &Timestamp| {
                                (at - seconds(t.day(), t.second())) as f64 / 86_400.0
                            }));
                        timed.offsets.push(timed.ages.len());
                    }
                    None => {
                        b.report.non_converting += 1;
                        b.add(seq, 0.0, 0.0, 1.0);
                    }
                }
            }
        }
        b.timed = Some(timed);
        b.build_scoped(touches.scope().clone())
    }

    /// Number of distinct paths.
    pub fn len(&self) -> usize {
        self.conversions.len()
    }

    /// Whether there are none (never true for built paths).
    pub fn is_empty(&self) -> bool {
        self.conversions.is_empty()
    }

    /// The channel names; a path's channels index them.
    pub fn channels(&self) -> &Interner {
        &self.channels
    }

    /// The channels of path `i`, first touch first.
    pub fn path(&self, i: usize) -> &[u32] {
        &self.touches[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Conversions along path `i`.
    pub fn conversions(&self, i: usize) -> f64 {
        self.conversions[i]
    }

    /// Their total value.
    pub fn value(&self, i: usize) -> f64 {
        self.value[i]
    }

    /// Journeys along path `i` that did not convert.
    pub fn nulls(&self, i: usize) -> f64 {
        self.nulls[i]
    }

    /// Conversions of every path (summed in path order).
    pub fn total_conversions(&self) -> f64 {
        self.conversions.iter().sum()
    }

    /// Conversion value of every path.
    pub fn total_value(&self) -> f64 {
        self.value.iter().sum()
    }

    /// Non-conversions of every path.
    pub fn total_nulls(&self) -> f64 {
        self.nulls.iter().sum()
    }

    /// The converting journeys with the times of their touches (paths built from a touch
    /// log only).
    pub fn timed(&self) -> Option<TimedJourneys<'_>> {
        self.timed.as_ref().map(|timed| TimedJourneys { timed })
    }

    /// The scope of the touches the paths were built from (everyone, with no customer
    /// count, for paths given directly).
    pub fn scope(&self) -> &ScopeTag {
        &self.scope
    }

    /// What building from a touch log found (zeros for paths given directly).
    pub fn report(&self) -> &PathReport {
        &self.report
    }
}

/// Cuts customer `m`'s touches into journeys.
fn cut(touches: &TouchView<'_>, m: usize, rule: Conversions) -> Cut {
    let times = touches.times(m);
    let n = times.len();
    let at = |i: usize| seconds(times[i].day(), times[i].second());
    let mut out = Cut::default();
    let mut start = 0;
    match rule {
        Conversions::Marked => {
            let (marks, values) = (touches.conversions(m), touches.values(m));
            for i in 0..n {
                if marks[i] {
                    let v = values[i];
                    out.journeys.push(Journey {
                        touches: start..i + 1,
                        converted_at: Some(at(i)),
                        value: if v.is_nan() { 0.0 } else { v },
                    });
                    start = i + 1;
                }
            }
        }
        Conversions::Purchases { lookback_days } => {
            let history = match (touches.customer_view(), touches.row(m)) {
                (Some(view), Some(k)) => Some(view.history(k)),
                _ => None,
            };
            if let Some(h) = history {
                let window = lookback_days * 86_400.0;
                for p in 0..h.len() {
                    if !is_purchase(h.amounts[p]) {
                        continue;
                    }
                    let when = seconds(h.days[p], h.seconds.map(|s| s[p]));
                    let mut end = start;
                    while end < n && at(end) <= when {
                        end += 1;
                    }
                    // Touches of this purchase older than the window are dropped.
                    let mut first = start;
                    while first < end && (when - at(first)) as f64 > window {
                        first += 1;
                    }
                    out.expired += (first - start) as u64;
                    if first < end {
                        out.journeys.push(Journey {
                            touches: first..end,
                            converted_at: Some(when),
                            value: h.amounts[p],
                        });
                    } else {
                        out.untouched += 1;
                    }
                    start = end;
                }
            }
        }
    }
    if start < n {
        out.journeys.push(Journey {
            touches: start..n,
            converted_at: None,
            value: 0.0,
        });
    }
    out
}
