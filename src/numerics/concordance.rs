//! Harrell's concordance index: how well risk scores order observed durations, the
//! metric of survival models (and of any ranking against censored times).

use rayon::prelude::*;

use crate::error::{Error, Result};

/// Harrell's concordance index of risk scores (higher = earlier event) against observed
/// durations: among comparable pairs (the shorter duration ends in an event; equal
/// durations count when exactly one is an event, which is then the shorter), the share
/// where the shorter one has the higher risk, ties in risk counting ½. lifelines'
/// `concordance_index(durations, -risk, events)` computes the same number.
///
/// O(n log n): rows sorted by time, then merge counts of sorted risks over halves of the
/// time groups, the halves in parallel.
///
/// # Errors
/// [`Error::LengthMismatch`] when `risk` or `events` is not one per duration;
/// [`Error::BadValue`] for a non-finite risk or a NaN duration; [`Error::EmptyInput`] for
/// no rows; [`Error::Degenerate`] when no pair is comparable.
pub fn concordance_index(durations: &[f64], risk: &[f64], events: &[bool]) -> Result<f64> {
    let n = durations.len();
    Error::check_len("risk", risk.len(), n, "durations")?;
    Error::check_len("events", events.len(), n, "durations")?;
    if n == 0 {
        return Err(Error::EmptyInput);
    }
    if let Some(i) = risk.iter().position(|r| !r.is_finite()) {
        return Err(Error::bad_value(
            "risk",
            i,
            "risk",
            risk[i],
            "a finite risk score",
        ));
    }
    if let Some(i) = durations.iter().position(|d| d.is_nan()) {
        return Err(Error::bad_value(
            "durations",
            i,
            "duration",
            durations[i],
            "a duration (not NaN)",
        ));
    }
    // Rows by time, events before censorings at the same time (a censoring at t is
    // compared with the events at t): sorted as plain integer pairs, no indirection.
    let mut by_time: Vec<(u64, u64)> = (0..n)
        .into_par_iter()
        .map(|i| {
            (
                order_key(durations[i]),
                (u64::from(!events[i]) << 32) | i as u64,
            )
        })
        .collect();
    by_time.par_sort_unstable();
    // Rows as (event, risk key) in time order, and the first row of each time group.
    let rows: Vec<(u64, bool)> = by_time
        .par_iter()
        .map(|&(_, k)| {
            let i = (k & 0xFFFF_FFFF) as usize;
            (order_key(risk[i]), events[i])
        })
        .collect();
    let mut groups: Vec<usize> = (0..n)
        .filter(|&k| k == 0 || by_time[k].0 != by_time[k - 1].0)
        .collect();
    groups.push(n);
    harrell(rows, &groups)
}

/// Harrell's C from rows (risk key, event) in time order and their time groups.
pub(crate) fn harrell(mut rows: Vec<(u64, bool)>, groups: &[usize]) -> Result<f64> {
    let mut buf = vec![(0, false); rows.len()];
    let c = concordance_sort(&mut rows, &mut buf, groups, false).counts;
    if c.pairs == 0 {
        return Err(Error::Degenerate {
            input: "events".into(),
            reason: "no pair of rows is comparable (no event before another row's end)".into(),
        });
    }
    Ok((c.correct as f64 + c.tied as f64 / 2.0) / c.pairs as f64)
}

/// Pair counts of Harrell's C.
#[derive(Clone, Copy, Default)]
struct PairCounts {
    pairs: u64,
    correct: u64,
    tied: u64,
}

impl std::ops::Add for PairCounts {
    type Output = Self;
    fn add(self, o: Self) -> Self {
        PairCounts {
            pairs: self.pairs + o.pairs,
            correct: self.correct + o.correct,
            tied: self.tied + o.tied,
        }
    }
}

/// The pair counts within a run of time groups and its number of events.
struct Sorted {
    counts: PairCounts,
    events: u64,
}

/// Harrell's pair counts over the time groups of `rows` (sorted by time; `groups` holds
/// each group's first row relative to `rows`, and the end), by merge sort on the risk
/// key: the earlier half's events are counted against every row of the later half
/// during the merge that orders them, the halves in parallel. Within one group, events
/// are compared with its censored rows only (tied events are not comparable).
///
/// The sorted rows end in `buf` when `to_buf`, else in `rows`; the two buffers swap
/// roles level by level, so nothing is allocated. Integer counts: the result is the same
/// on any number of threads.
fn concordance_sort(
    rows: &mut [(u64, bool)],
    buf: &mut [(u64, bool)],
    groups: &[usize],
    to_buf: bool,
) -> Sorted {
    let base = groups[0];
    if groups.len() == 2 {
        let span = &mut rows[..groups[1] - base];
        span.sort_unstable_by_key(|r| r.0);
        let out = Sorted {
            counts: within_group(span),
            events: span.iter().filter(|r| r.1).count() as u64,
        };
        if to_buf {
            buf[..span.len()].copy_from_slice(span);
        }
        return out;
    }
    let g = groups.len() / 2;
    let mid = groups[g] - base;
    let end = groups[groups.len() - 1] - base;
    let (rows_l, rows_r) = rows[..end].split_at_mut(mid);
    let (buf_l, buf_r) = buf[..end].split_at_mut(mid);
    // The halves leave their sorted rows in the other buffer, merged from there into
    // this call's destination.
    let (left, right) = if end > 1 << 14 {
        rayon::join(
            || concordance_sort(rows_l, buf_l, &groups[..=g], !to_buf),
            || concordance_sort(rows_r, buf_r, &groups[g..], !to_buf),
        )
    } else {
        (
            concordance_sort(rows_l, buf_l, &groups[..=g], !to_buf),
            concordance_sort(rows_r, buf_r, &groups[g..], !to_buf),
        )
    };
    let (src, dst) = if to_buf {
        (&rows[..end], &mut buf[..end])
    } else {
        (&buf[..end], &mut rows[..end])
    };
    let cross = merge_counting(&src[..mid], &src[mid..], left.events, dst);
    Sorted {
        counts: left.counts + right.counts + cross,
        events: left.events + right.events,
    }
}

/// One time group sorted by key: each censored row against the group's events with a
/// higher (concordant) and an equal (tied) key.
fn within_group(span: &[(u64, bool)]) -> PairCounts {
    let events = span.iter().filter(|r| r.1).count() as u64;
    let mut c = PairCounts {
        pairs: events * (span.len() as u64 - events),
        ..PairCounts::default()
    };
    let mut below = 0;
    for run in span.chunk_by(|a, b| a.0 == b.0) {
        let run_events = run.iter().filter(|r| r.1).count() as u64;
        let run_censored = run.len() as u64 - run_events;
        c.correct += run_censored * (events - below - run_events);
        c.tied += run_censored * run_events;
        below += run_events;
    }
    c
}

/// Merges `earlier` and `later` (each sorted by key) into `dst`, counting for every
/// `later` row the `earlier` events with a higher key (concordant: the earlier event has
/// the higher risk) and an equal one (tied). `lo` walks the rows below the current key,
/// `hi` those up to it; both only move forward.
fn merge_counting(
    earlier: &[(u64, bool)],
    later: &[(u64, bool)],
    earlier_events: u64,
    dst: &mut [(u64, bool)],
) -> PairCounts {
    let mut c = PairCounts {
        pairs: earlier_events * later.len() as u64,
        ..PairCounts::default()
    };
    let (mut lo, mut hi, mut below, mut up_to, mut k) = (0, 0, 0u64, 0u64, 0);
    for &v in later {
        while lo < earlier.len() && earlier[lo].0 < v.0 {
            dst[k] = earlier[lo];
            below += u64::from(earlier[lo].1);
            lo += 1;
            k += 1;
        }
        if hi < lo {
            (hi, up_to) = (lo, below);
        }
        while hi < earlier.len() && earlier[hi].0 == v.0 {
            up_to += u64::from(earlier[hi].1);
            hi += 1;
        }
        c.correct += earlier_events - up_to;
        c.tied += up_to - below;
        dst[k] = v;
        k += 1;
    }
    dst[k..].copy_from_slice(&earlier[lo..]);
    c
}

/// A u64 that sorts like the float (total order; −0 and +0 equal).
pub(crate) fn order_key(v: f64) -> u64 {
    let bits = (v + 0.0).to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}
