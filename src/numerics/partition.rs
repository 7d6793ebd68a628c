//! Metrics of a partition of points: the silhouette of one labelling, and the agreement
//! of two labellings (adjusted Rand index).

use hashbrown::HashMap;
use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Mean silhouette (Rousseeuw 1987) of several labellings of the same points, with
/// Euclidean distances; a point alone in its cluster scores 0, as in scikit-learn. Each
/// point's distances are computed once and shared by all labellings.
pub(crate) fn mean_silhouettes(
    z: ArrayView2<'_, f64>,
    labelings: &[(usize, Vec<u32>)],
) -> Vec<f64> {
    let (n, d) = z.dim();
    let flat: Vec<f64> = z.iter().copied().collect();
    let counts: Vec<Vec<usize>> = labelings
        .iter()
        .map(|(k, labels)| {
            let mut c = vec![0usize; *k];
            for &l in labels {
                c[l as usize] += 1;
            }
            c
        })
        .collect();
    let per_point: Vec<Vec<f64>> = (0..n)
        .into_par_iter()
        .map_init(
            || (vec![0.0; n], Vec::new()),
            |(dist, sum): &mut (Vec<f64>, Vec<f64>), i| {
                let zi = &flat[i * d..(i + 1) * d];
                for (j, dj) in dist.iter_mut().enumerate() {
                    let zj = &flat[j * d..(j + 1) * d];
                    *dj = zi
                        .iter()
                        .zip(zj)
                        .map(|(a, b)| (a - b) * (a - b))
                        .sum::<f64>()
                        .sqrt();
                }
                labelings
                    .iter()
                    .zip(&counts)
                    .map(|((k, labels), counts)| {
                        sum.clear();
                        sum.resize(*k, 0.0);
                        for (dj, &l) in dist.iter().zip(labels) {
                            sum[l as usize] += dj;
                        }
                        silhouette_of(sum, counts, labels[i] as usize)
                    })
                    .collect()
            },
        )
        .collect();
    (0..labelings.len())
        .map(|m| per_point.iter().map(|s| s[m]).sum::<f64>() / n as f64)
        .collect()
}

/// One point's silhouette from its summed distances to each cluster.
fn silhouette_of(sum: &[f64], counts: &[usize], own: usize) -> f64 {
    if counts[own] <= 1 {
        return 0.0;
    }
    let a = sum[own] / (counts[own] - 1) as f64;
    let b = (0..counts.len())
        .filter(|&c| c != own && counts[c] > 0)
        .map(|c| sum[c] / counts[c] as f64)
        .fold(f64::INFINITY, f64::min);
    if !b.is_finite() {
        return 0.0;
    }
    let m = a.max(b);
    if m > 0.0 {
        (b - a) / m
    } else {
        0.0
    }
}

/// Mean silhouette of a labelling of `points` (rows), with Euclidean distances: for each
/// point, (b − a) / max(a, b) with a its mean distance to its own cluster and b to the
/// nearest other cluster; a point alone in its cluster scores 0, as in scikit-learn.
/// O(n²): use a sample for large bases (as
/// [`ClusterOptions`](crate::profiling::ClusterOptions) does to choose k).
///
/// # Errors
/// [`Error::LengthMismatch`] when the lengths differ; [`Error::EmptyInput`] when empty.
pub fn silhouette(points: ArrayView2<'_, f64>, labels: &[u32]) -> Result<f64> {
    Error::check_len("labels", labels.len(), points.nrows(), "points")?;
    if labels.is_empty() {
        return Err(Error::EmptyInput);
    }
    let k = labels.iter().max().map_or(0, |&m| m as usize + 1);
    Ok(mean_silhouettes(points, &[(k, labels.to_vec())])[0])
}

/// Adjusted Rand index of two labellings of the same items (Hubert & Arabie 1985): 1 for
/// identical partitions, about 0 for independent ones. Two partitions that are both one
/// cluster, or both all singletons, score 1, as in scikit-learn.
///
/// # Errors
/// [`Error::LengthMismatch`] when the lengths differ; [`Error::EmptyInput`] when empty.
pub fn adjusted_rand_index(a: &[u32], b: &[u32]) -> Result<f64> {
    Error::check_len("b", b.len(), a.len(), "a")?;
    if a.is_empty() {
        return Err(Error::EmptyInput);
    }
    if a.len() == 1 {
        return Ok(1.0);
    }
    let pairs = |c: u64| (c * c.saturating_sub(1) / 2) as f64;
    let mut joint: HashMap<(u32, u32), u64> = HashMap::new();
    let mut rows: HashMap<u32, u64> = HashMap::new();
    let mut cols: HashMap<u32, u64> = HashMap::new();
    for (&x, &y) in a.iter().zip(b) {
        *joint.entry((x, y)).or_default() += 1;
        *rows.entry(x).or_default() += 1;
        *cols.entry(y).or_default() += 1;
    }
    // Integer counts: the sums are exact whatever the hash order.
    let sum =
        |m: &mut dyn Iterator<Item = u64>| m.map(|c| c * c.saturating_sub(1) / 2).sum::<u64>();
    let index = sum(&mut joint.values().copied()) as f64;
    let sa = sum(&mut rows.values().copied()) as f64;
    let sb = sum(&mut cols.values().copied()) as f64;
    let expected = sa * sb / pairs(a.len() as u64);
    let max = 0.5 * (sa + sb);
    // The only partitions where the index is 0/0: both one cluster, or both singletons.
    let n = a.len();
    if (rows.len() == 1 && cols.len() == 1) || (rows.len() == n && cols.len() == n) {
        return Ok(1.0);
    }
    Ok((index - expected) / (max - expected))
}
