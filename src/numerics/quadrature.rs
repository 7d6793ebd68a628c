//! Quadrature for integrals of exp(ψ) with ψ concave: the form the purchase models'
//! death-time integrals take after a change of variable.
//!
//! Written here because the quadrature crates return a value, not a rule: the models need
//! the nodes and weights themselves, to carry parameter gradients through the sum (see
//! `dual`) and to work in log space where the integrand is far below `f64`'s range.

/// Gauss–Legendre nodes (positive half) and weights on [−1, 1], 10 points.
const GL_X: [f64; 5] = [
    0.148_874_338_981_631_22,
    0.433_395_394_129_247_2,
    0.679_409_568_299_024_4,
    0.865_063_366_688_984_5,
    0.973_906_528_517_171_7,
];
const GL_W: [f64; 5] = [
    0.295_524_224_714_753,
    0.269_266_719_309_996_5,
    0.219_086_362_515_982,
    0.149_451_349_150_580_36,
    0.066_671_344_308_688_07,
];

/// Below the maximum by this much (in ln), the integrand is dropped: e⁻⁴² ≈ 6·10⁻¹⁹.
const NEGLIGIBLE: f64 = 42.0;
/// A panel's integrand may fall by at most this factor (in ln) across it, so that
/// 10-point Gauss–Legendre is accurate to rounding (error ≈ 6·10⁻³¹ · 4²⁰ ≈ 10⁻¹⁸).
const MAX_DROP: f64 = 4.0;
/// Panels a rule may have; reached only by integrands that are flat over very wide ranges.
const MAX_PANELS: usize = 4096;

/// A quadrature rule for ∫ₗₒʰⁱ exp(ψ(w)) dw with ψ concave: nodes and weights, with the
/// panels placed where the integrand lives.
///
/// `psi` returns ψ(w) and ψ′(w). The panels start at the maximum of ψ and extend each way
/// until ψ has fallen [`NEGLIGIBLE`] below it or the interval ends; each panel is at most
/// `max_width` wide (the scale on which ψ′ may change) and ψ falls by at most
/// [`MAX_DROP`] across it. Concavity makes this safe: away from the maximum ψ falls at
/// least as fast as its slope at the panel's near end says.
pub(crate) fn log_concave_rule(
    psi: impl Fn(f64) -> (f64, f64),
    lo: f64,
    hi: f64,
    max_width: f64,
) -> Vec<(f64, f64)> {
    let mut rule = Vec::new();
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return rule;
    }
    let mode = {
        let (_, s_lo) = psi(lo);
        let (_, s_hi) = psi(hi);
        if s_lo <= 0.0 {
            lo
        } else if s_hi >= 0.0 {
            hi
        } else {
            // ψ′ is decreasing: bisect for its zero. The panels only need to start near
            // the maximum (within a hundredth of the narrowest panel), not at it.
            let (mut a, mut b) = (lo, hi);
            let close = 1e-2 * max_width.min(1.0 / s_lo.max(-s_hi));
            for _ in 0..200 {
                let m = 0.5 * (a + b);
                if m <= a || m >= b || b - a < close {
                    break;
                }
                if psi(m).1 > 0.0 {
                    a = m;
                } else {
                    b = m;
                }
            }
            0.5 * (a + b)
        }
    };
    let top = psi(mode).0;
    let mut panels = 0;
    for dir in [1.0, -1.0] {
        let end = if dir > 0.0 { hi } else { lo };
        let mut w = mode;
        while (end - w) * dir > 0.0 && panels < MAX_PANELS {
            let (v, slope) = psi(w);
            if top - v > NEGLIGIBLE {
                break;
            }
            let mut h = max_width.min((end - w) * dir);
            if slope != 0.0 {
                h = h.min(2.0 / slope.abs());
            }
            while h > 0.0 && v - psi(w + dir * h).0 > MAX_DROP {
                h *= 0.5;
            }
            // A step lost to rounding ends the march (it would never advance).
            if h.is_nan() || h <= 0.0 || (w + dir * h).to_bits() == w.to_bits() {
                break;
            }
            let (a, b) = if dir > 0.0 { (w, w + h) } else { (w - h, w) };
            let (c, r) = (0.5 * (a + b), 0.5 * (b - a));
            for (x, wt) in GL_X.iter().zip(GL_W) {
                rule.push((c - r * x, r * wt));
                rule.push((c + r * x, r * wt));
            }
            w += dir * h;
            panels += 1;
        }
    }
    rule
}

/// E[g(p)] for p ~ Beta(a, b), by tanh-sinh quadrature: p = 1/(1 + e^(−2u)),
/// u = (π/2) sinh(s), on a uniform grid in s.
///
/// The substitution turns p^(a−1) (1−p)^(b−1) dp into p^a q^b π cosh(s) ds with
/// q = 1 − p computed without cancellation, so the endpoint singularities of small a or b
/// cost nothing; the grid runs out until the weight is negligible at both ends (far out
/// when a or b is tiny, since p^a then decays slowly in s). `g` receives p and q = 1 − p.
pub(crate) fn beta_expectation(a: f64, b: f64, g: impl Fn(f64, f64) -> f64) -> f64 {
    const H: f64 = 1.0 / 16.0;
    const MAX_STEPS: usize = 2000;
    let ln_b = crate::numerics::ln_beta(a, b);
    let term = |s: f64| {
        let u = std::f64::consts::FRAC_PI_2 * s.sinh();
        let (ln_p, ln_q) = (-(-2.0 * u).exp().ln_1p(), -(2.0 * u).exp().ln_1p());
        let w = (a * ln_p + b * ln_q - ln_b).exp() * std::f64::consts::PI * s.cosh();
        if w == 0.0 {
            return 0.0;
        }
        w * g(ln_p.exp(), ln_q.exp())
    };
    let mut sum = term(0.0);
    for dir in [1.0, -1.0] {
        let mut small = 0;
        for k in 1..MAX_STEPS {
            let t = term(dir * k as f64 * H);
            sum += t;
            if t.abs() <= 1e-18 * sum.abs() {
                small += 1;
                if small == 3 {
                    break;
                }
            } else {
                small = 0;
            }
        }
    }
    sum * H
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    fn integrate(psi: impl Fn(f64) -> (f64, f64) + Copy, lo: f64, hi: f64) -> f64 {
        log_concave_rule(psi, lo, hi, 1.0)
            .iter()
            .map(|(w, wt)| wt * psi(*w).0.exp())
            .sum()
    }

    #[test]
    fn exponentials_gaussians_and_flat_integrands() {
        // ∫₀^∞ e^(−50w) dw = 1/50 (truncated where negligible).
        assert_relative_eq!(
            integrate(|w| (-50.0 * w, -50.0), 0.0, 1e3),
            0.02,
            max_relative = 1e-14
        );
        // ∫ e^(−w²/2) over R = √(2π), with the maximum inside the interval.
        assert_relative_eq!(
            integrate(|w| (-0.5 * w * w, -w), -40.0, 40.0),
            (2.0 * std::f64::consts::PI).sqrt(),
            max_relative = 1e-14
        );
        // A sharp Gaussian: ∫ e^(−500(w−3)²) dw = √(π/500).
        assert_relative_eq!(
            integrate(
                |w| (-500.0 * (w - 3.0).powi(2), -1000.0 * (w - 3.0)),
                0.0,
                10.0
            ),
            (std::f64::consts::PI / 500.0).sqrt(),
            max_relative = 1e-14
        );
        // Flat: ∫₀¹⁰ 1 dw = 10, and an increasing exponential ∫₀² eʷ dw.
        assert_relative_eq!(
            integrate(|_| (0.0, 0.0), 0.0, 10.0),
            10.0,
            max_relative = 1e-14
        );
        assert_relative_eq!(
            integrate(|w| (w, 1.0), 0.0, 2.0),
            2f64.exp() - 1.0,
            max_relative = 1e-14
        );
    }
}
