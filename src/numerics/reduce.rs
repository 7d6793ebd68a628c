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

/// The share of the total of `values` held by the largest `fraction` of them (at least
/// one value): revenue concentration, such as the top decile's share of revenue. Sums run
/// in descending order of value.
///
/// # Errors
/// [`Error::EmptyInput`](crate::Error::EmptyInput) without values;
/// [`Error::InvalidOption`](crate::Error::InvalidOption) for a fraction outside (0, 1].
pub fn top_share(values: &[f64], fraction: f64) -> crate::Result<f64> {
    if !(fraction > 0.0 && fraction <= 1.0) {
        return Err(crate::Error::option(
            "fraction",
            fraction,
            "a fraction in (0, 1]",
        ));
    }
    if values.is_empty() {
        return Err(crate::Error::EmptyInput);
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let k = ((fraction * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    let total: f64 = sorted.iter().sum();
    Ok(sorted[..k].iter().sum::<f64>() / total)
}

/// The positions of the `k` largest values, largest first (ties: the earlier position),
/// NaN last.
pub fn top_indices(values: &[f64], k: usize) -> Vec<usize> {
    let key = |i: usize| {
        if values[i].is_nan() {
            f64::NEG_INFINITY
        } else {
            values[i]
        }
    };
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| key(b).total_cmp(&key(a)).then(a.cmp(&b)));
    order.truncate(k);
    order
}
