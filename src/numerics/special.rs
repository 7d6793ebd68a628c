//! Special functions in log space.
//!
//! `ln_gamma`, `digamma` and `ln_beta` come from statrs. The Gauss hypergeometric
//! function is written here: statrs has none, and the Rust ports that exist return NaN,
//! infinity or silently wrong values for the arguments the purchase models produce
//! (numerator parameters in the thousands, z near 1; see ../shared/DEPENDENCIES.md).

pub(crate) use statrs::function::beta::ln_beta;
pub(crate) use statrs::function::gamma::{digamma, ln_gamma};

/// `ln(exp(a) + exp(b))` without overflow.
pub fn log_sum_exp(a: f64, b: f64) -> f64 {
    let (hi, lo) = if a >= b { (a, b) } else { (b, a) };
    if hi == f64::NEG_INFINITY {
        return hi;
    }
    hi + (lo - hi).exp().ln_1p()
}

/// Trigamma ψ₁(x) = d²/dx² ln Γ(x) for x > 0 (statrs has digamma only): the recurrence
/// ψ₁(x) = ψ₁(x+1) + 1/x² up to x ≥ 8, then the asymptotic series, accurate to about
/// 5e-14 relative.
pub(crate) fn trigamma(mut x: f64) -> f64 {
    let mut acc = 0.0;
    while x < 8.0 {
        acc += 1.0 / (x * x);
        x += 1.0;
    }
    let z = 1.0 / (x * x);
    // 1/x + 1/(2x²) + Σ B₂ₖ / x^(2k+1), Bernoulli numbers B₂..B₁₂.
    let series = z
        * (1.0 / 6.0
            + z * (-1.0 / 30.0
                + z * (1.0 / 42.0 + z * (-1.0 / 30.0 + z * (5.0 / 66.0 + z * (-691.0 / 2730.0))))));
    acc + 1.0 / x + 0.5 * z + series / x
}

/// Rescaling step of the series: terms and partial sums are kept as `value · e^scale`.
const BIG: f64 = 1e200;
/// Terms summed at most; `z` = 0.9999 needs about 4·10⁵.
const MAX_TERMS: usize = 2_000_000;

/// Natural log of the Gauss hypergeometric function ₂F₁(a, b; c; z), for `c > 0` and
/// `0 ≤ z < 1`, where the value is positive.
///
/// The power series is summed with a running scale, so values far beyond `f64` (say
/// e^5000, as for a Pareto/NBD customer with 10⁴ purchases) come back as finite logs. Of
/// the series in z and its Euler transform
/// ₂F₁(a, b; c; z) = (1 − z)^(c−a−b) ₂F₁(c−a, c−b; c; z), the one whose terms peak earlier
/// is summed; the other is tried when the first does not converge or loses more than six
/// digits to cancellation. Returns `None` outside the domain, when the value is not
/// positive, or when neither series gives an accurate sum within two million terms (z
/// within about 10⁻⁵ of 1, or z near 1 with c − a − b large and negative).
///
/// ```
/// use acrm::numerics::ln_hyp2f1;
/// // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z.
/// let z = 0.75_f64;
/// let exact = (-(1.0 - z).ln() / z).ln();
/// assert!((ln_hyp2f1(1.0, 1.0, 2.0, z).unwrap() - exact).abs() < 1e-14);
/// ```
pub fn ln_hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(a.is_finite() && b.is_finite() && c.is_finite() && c > 0.0 && (0.0..1.0).contains(&z)) {
        return None;
    }
    if z == 0.0 || a == 0.0 || b == 0.0 {
        return Some(0.0);
    }
    let euler = (c - a, c - b, (c - a - b) * (-z).ln_1p());
    let direct = (a, b, 0.0);
    let (first, second) = if peak(direct.0, direct.1, c, z) <= peak(euler.0, euler.1, c, z) {
        (direct, euler)
    } else {
        (euler, direct)
    };
    let try_one =
        |(p, q, pre): (f64, f64, f64)| series(p, q, c, z).map(|(v, lost)| (v + pre, lost));
    // A series that lost more than six of sixteen digits to cancellation is not trusted:
    // no answer is better than a wrong one.
    const LOST: f64 = 1e6;
    match try_one(first) {
        Some((v, lost)) if lost < LOST => Some(v),
        _ => match try_one(second) {
            Some((v, lost)) if lost < LOST => Some(v),
            _ => None,
        },
    }
}

/// Index where the terms of ₂F₁(a, b; c; z) stop growing: the positive root of
/// (a + k)(b + k) z = (c + k)(k + 1), or 0.
fn peak(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let qa = z - 1.0;
    let qb = (a + b) * z - c - 1.0;
    let qc = a * b * z - c;
    // qa < 0: the larger root is (−qb − sqrt(disc)) / (2 qa).
    let disc = qb * qb - 4.0 * qa * qc;
    if disc < 0.0 {
        return 0.0;
    }
    ((-qb - disc.sqrt()) / (2.0 * qa)).max(0.0)
}

/// Sums the series; returns ln(sum) and the cancellation factor max|term| / |sum|.
fn series(a: f64, b: f64, c: f64, z: f64) -> Option<(f64, f64)> {
    let (mut term, mut sum, mut scale, mut max_abs) = (1.0f64, 1.0f64, 0.0f64, 1.0f64);
    for k in 0..MAX_TERMS {
        let kf = k as f64;
        let ratio = (a + kf) * (b + kf) / ((c + kf) * (kf + 1.0)) * z;
        term *= ratio;
        if term == 0.0 {
            break;
        }
        sum += term;
        max_abs = max_abs.max(term.abs());
        if max_abs > BIG {
            term /= BIG;
            sum /= BIG;
            max_abs /= BIG;
            scale += BIG.ln();
        }
        // The tail is bounded by a geometric series once the ratios are below 1; they
        // tend to z, from above or below.
        let r = ratio.abs().max(z);
        if r < 1.0 && term.abs() * r / (1.0 - r) <= 1e-17 * sum.abs() {
            return (sum > 0.0).then(|| (sum.ln() + scale, max_abs / sum));
        }
        if !sum.is_finite() {
            return None;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigamma_known_values() {
        // ψ₁(1) = π²/6, ψ₁(1/2) = π²/2, ψ₁(x) − ψ₁(x+1) = 1/x².
        let pi2 = std::f64::consts::PI.powi(2);
        assert!((trigamma(1.0) / (pi2 / 6.0) - 1.0).abs() < 5e-14);
        assert!((trigamma(0.5) / (pi2 / 2.0) - 1.0).abs() < 5e-14);
        for x in [0.01, 3.7, 25.0, 1e4] {
            let d = trigamma(x) - trigamma(x + 1.0);
            assert!((d * x * x - 1.0).abs() < 1e-10, "{x}");
        }
    }
    use approx::assert_relative_eq;

    #[test]
    fn closed_forms() {
        // ₂F₁(a, b; b; z) = (1 − z)^(−a).
        for &(a, z) in &[(0.5f64, 0.3f64), (7.0, 0.9), (1234.5, 0.5), (3.0, 0.999)] {
            let exact = -a * (-z).ln_1p();
            assert_relative_eq!(
                ln_hyp2f1(a, 2.5, 2.5, z).unwrap(),
                exact,
                max_relative = 1e-13
            );
        }
        // ₂F₁(1, 1; 2; z) = −ln(1 − z)/z.
        for &z in &[1e-9f64, 0.1, 0.5, 0.99, 0.9999] {
            let exact: f64 = (-(-z).ln_1p() / z).ln();
            assert_relative_eq!(
                ln_hyp2f1(1.0, 1.0, 2.0, z).unwrap(),
                exact,
                max_relative = 1e-12
            );
        }
        // A terminating series: ₂F₁(−2, b; c; z) = 1 − 2bz/c + b(b+1)z²/(c(c+1)).
        let (b, c, z) = (3.0, 4.0, 0.5);
        let exact: f64 = 1.0 - 2.0 * b * z / c + b * (b + 1.0) * z * z / (c * (c + 1.0));
        assert_relative_eq!(
            ln_hyp2f1(-2.0, b, c, z).unwrap(),
            exact.ln(),
            max_relative = 1e-14
        );
    }

    #[test]
    fn outside_the_domain_is_none() {
        assert_eq!(ln_hyp2f1(1.0, 1.0, 0.0, 0.5), None);
        assert_eq!(ln_hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(ln_hyp2f1(1.0, 1.0, 2.0, -0.1), None);
        assert_eq!(ln_hyp2f1(f64::NAN, 1.0, 2.0, 0.1), None);
    }

    #[test]
    fn log_sum_exp_is_stable() {
        assert_relative_eq!(log_sum_exp(1000.0, 1000.0), 1000.0 + 2f64.ln());
        assert_relative_eq!(log_sum_exp(-1000.0, 0.0), 0.0);
        let v = log_sum_exp(f64::NEG_INFINITY, f64::NEG_INFINITY);
        assert!(v.is_infinite() && v < 0.0);
    }
}
