//! Dense linear algebra for the small symmetric systems of the models: information
//! matrices of a few to a few dozen parameters, and log-rank covariance matrices.
//!
//! Written here rather than taken from a linear-algebra crate because the systems are
//! tiny (a 4×4 to 50×50 Cholesky is a few microseconds) and the callers need to know
//! *which* pivot failed, to name the collinear covariate; LAPACK-backed crates would add
//! a system dependency for that.

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2};

/// Lower-triangular Cholesky factor L of a symmetric matrix `a` (row-major, n × n), with
/// A = L Lᵀ. `Err(j)` names the first pivot whose remaining diagonal is not above
/// `tol` × the original diagonal (that row is, to that tolerance, a combination of the
/// earlier ones; `tol = 0` asks only for positive definiteness).
pub(crate) fn cholesky(a: &[f64], n: usize, tol: f64) -> Result<Vec<f64>, usize> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum();
            if i == j {
                let d = a[i * n + i] - s;
                if d.is_nan() || d.is_infinite() || d <= tol * a[i * n + i].abs() || d <= 0.0 {
                    return Err(i);
                }
                l[i * n + i] = d.sqrt();
            } else {
                l[i * n + j] = (a[i * n + j] - s) / l[j * n + j];
            }
        }
    }
    Ok(l)
}

/// Solves A x = b given the Cholesky factor L of A.
pub(crate) fn cholesky_solve(l: &[f64], n: usize, b: &[f64]) -> Vec<f64> {
    let mut y = vec![0.0; n];
    for i in 0..n {
        let s: f64 = (0..i).map(|k| l[i * n + k] * y[k]).sum();
        y[i] = (b[i] - s) / l[i * n + i];
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| l[k * n + i] * x[k]).sum();
        x[i] = (y[i] - s) / l[i * n + i];
    }
    x
}

/// Inverse of a symmetric positive-definite matrix (row-major); `None` when it is not
/// positive definite.
pub(crate) fn invert_spd(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let l = cholesky(a, n, 0.0).ok()?;
    // Columns of L⁻¹, then A⁻¹ = L⁻ᵀ L⁻¹.
    let mut inv_l = vec![0.0; n * n];
    for c in 0..n {
        for i in c..n {
            let s: f64 = (c..i).map(|k| l[i * n + k] * inv_l[k * n + c]).sum();
            let rhs = if i == c { 1.0 } else { 0.0 };
            inv_l[i * n + c] = (rhs - s) / l[i * n + i];
        }
    }
    let mut out = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            out[i * n + j] = (0..n).map(|k| inv_l[k * n + i] * inv_l[k * n + j]).sum();
        }
    }
    Some(out)
}

/// Adds aᵀ b to `acc` (row-major p × p), for row-major m × p blocks `a` and `b` holding
/// the same m rows.
///
/// Through ndarray's blocked SIMD product (matrixmultiply, single-threaded, so its bits do
/// not depend on the pool): the Gram matrices of a Cox fit over a million rows are most
/// of its arithmetic, and a hand loop over the triangle runs about three times slower.
pub(crate) fn add_cross_product(a: &[f64], b: &[f64], p: usize, acc: &mut [f64]) {
    let m = (a.len() / p).min(b.len() / p);
    let a = ArrayView2::from_shape((m, p), &a[..m * p]).expect("m × p by construction");
    let b = ArrayView2::from_shape((m, p), &b[..m * p]).expect("m × p by construction");
    let mut c = ArrayViewMut2::from_shape((p, p), &mut acc[..p * p]).expect("p × p");
    general_mat_mul(1.0, &a.t(), &b, 1.0, &mut c);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_and_pivot_failure() {
        // A = [[4, 2], [2, 3]], b = [2, 1] → x = [0.5, 0].
        let l = cholesky(&[4.0, 2.0, 2.0, 3.0], 2, 1e-12).unwrap();
        let x = cholesky_solve(&l, 2, &[2.0, 1.0]);
        assert!((x[0] - 0.5).abs() < 1e-15 && x[1].abs() < 1e-15);
        // Row 3 = row 1 + row 2: the third pivot fails.
        let a = [1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 2.0];
        assert_eq!(cholesky(&a, 3, 1e-10), Err(2));
    }

    #[test]
    fn cross_product_adds_the_products_of_columns() {
        // a = [[1, 2], [3, 4], [5, 6]], b = [[1, 0], [0, 1], [1, 1]]:
        // aᵀb = [[1 + 5, 3 + 5], [2 + 6, 4 + 6]] = [[6, 8], [8, 10]], added to 1s.
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut acc = vec![1.0; 4];
        add_cross_product(&a, &b, 2, &mut acc);
        assert_eq!(acc, vec![7.0, 9.0, 9.0, 11.0]);
    }
}
