//! Parallel sums whose bits do not depend on the number of threads.

use rayon::prelude::*;

/// Items per chunk: chunk boundaries depend only on the input size, never on the pool.
const CHUNK: usize = 1 << 12;

/// Σ over items `0..n` of a vector of `width` values, where `add(i, acc)` adds item i's
/// vector into `acc`. Items are summed in fixed chunks in parallel and the chunk sums are
/// added in chunk order, so the result is the same bit for bit on any number of threads.
pub(crate) fn sum_chunked(
    n: usize,
    width: usize,
    add: impl Fn(usize, &mut [f64]) + Sync,
) -> Vec<f64> {
    sum_blocks(n, width, |rows, acc| {
        for i in rows {
            add(i, acc);
        }
    })
}

/// As [`sum_chunked`], but `add(rows, acc)` adds a whole chunk of items at once (for
/// block operations such as a matrix product over the chunk's rows).
pub(crate) fn sum_blocks(
    n: usize,
    width: usize,
    add: impl Fn(std::ops::Range<usize>, &mut [f64]) + Sync,
) -> Vec<f64> {
    let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = vec![0.0; width];
            add(c * CHUNK..((c + 1) * CHUNK).min(n), &mut acc);
            acc
        })
        .collect();
    let mut total = vec![0.0; width];
    for part in parts {
        for (t, p) in total.iter_mut().zip(part) {
            *t += p;
        }
    }
    total
}

/// Column means and (population) standard deviations of an n × p matrix whose entries
/// `value(i, j)` gives: two passes (the mean, then squared deviations from it, for an
/// accurate variance) of [`sum_chunked`], so the bits do not depend on the pool.
pub(crate) fn column_mean_sd(
    n: usize,
    p: usize,
    value: impl Fn(usize, usize) -> f64 + Sync,
) -> (Vec<f64>, Vec<f64>) {
    let sums = sum_chunked(n, p, |i, acc| {
        for (j, a) in acc.iter_mut().enumerate() {
            *a += value(i, j);
        }
    });
    let mean: Vec<f64> = sums.iter().map(|s| s / n as f64).collect();
    let squares = sum_chunked(n, p, |i, acc| {
        for (j, a) in acc.iter_mut().enumerate() {
            let d = value(i, j) - mean[j];
            *a += d * d;
        }
    });
    let sd = squares.iter().map(|s| (s / n as f64).sqrt()).collect();
    (mean, sd)
}

/// The median of `values` (the mean of the two middle values for an even count); `None`
/// when empty. NaN values sort last, as `f64::total_cmp` orders them.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[m]
    } else {
        0.5 * (v[m - 1] + v[m])
    })
}
