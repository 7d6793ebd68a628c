//! Forward-mode dual numbers: a value with its gradient with respect to N parameters.
//!
//! Used where a likelihood is a series or a quadrature whose terms depend on the
//! parameters in several places (Pareto/NBD): carrying the gradient through every term
//! gives derivatives exact to rounding, with no finite-difference step to tune and no
//! hand-derived expression per series. A crate for this (e.g. `num-dual`) would bring a
//! linear-algebra stack along for a type of a few dozen lines.

// Gradient arrays are combined element by element with other arrays and scalars:
// indexed loops read more plainly than zipped iterators here.
#![allow(clippy::needless_range_loop)]

use std::ops::{Add, Div, Mul, Neg, Sub};

/// `v` with its gradient `d`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Dual<const N: usize> {
    pub v: f64,
    pub d: [f64; N],
}

impl<const N: usize> Dual<N> {
    /// A constant.
    pub fn constant(v: f64) -> Self {
        Dual { v, d: [0.0; N] }
    }

    /// The parameter with index `i`: a constant when `i ≥ N`, so that one code path
    /// serves values with gradients (N = number of parameters) and without (N = 0).
    pub fn variable(v: f64, i: usize) -> Self {
        let mut d = [0.0; N];
        if let Some(di) = d.get_mut(i) {
            *di = 1.0;
        }
        Dual { v, d }
    }

    /// `f(v)` with derivative `df` (chain rule).
    #[inline]
    fn chain(self, v: f64, df: f64) -> Self {
        let mut d = self.d;
        d.iter_mut().for_each(|x| *x *= df);
        Dual { v, d }
    }

    pub fn ln(self) -> Self {
        self.chain(self.v.ln(), 1.0 / self.v)
    }

    pub fn ln_1p(self) -> Self {
        self.chain(self.v.ln_1p(), 1.0 / (1.0 + self.v))
    }

    /// ln(1 − eˢᵉˡᶠ) for a negative value, without cancellation.
    pub fn ln_one_minus_exp(self) -> Self {
        // d/dx ln(1 − eˣ) = −eˣ/(1 − eˣ) = 1/(1 − e⁻ˣ).
        self.chain((-self.v.exp_m1()).ln(), 1.0 / (-(-self.v).exp_m1()))
    }

    /// ln(eᵃ + eᵇ) without overflow.
    pub fn log_sum_exp(a: Self, b: Self) -> Self {
        let (hi, lo) = if a.v >= b.v { (a, b) } else { (b, a) };
        if hi.v == f64::NEG_INFINITY {
            return hi;
        }
        let w = (lo.v - hi.v).exp();
        let mut out = Dual {
            v: hi.v + w.ln_1p(),
            d: [0.0; N],
        };
        for i in 0..N {
            out.d[i] = (hi.d[i] + w * lo.d[i]) / (1.0 + w);
        }
        out
    }

    /// `self · k` for a scalar k.
    #[inline]
    pub fn scale(self, k: f64) -> Self {
        self.chain(self.v * k, k)
    }
}

impl<const N: usize> Add for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(mut self, o: Self) -> Self {
        self.v += o.v;
        for i in 0..N {
            self.d[i] += o.d[i];
        }
        self
    }
}

impl<const N: usize> Sub for Dual<N> {
    type Output = Self;
    #[inline]
    fn sub(mut self, o: Self) -> Self {
        self.v -= o.v;
        for i in 0..N {
            self.d[i] -= o.d[i];
        }
        self
    }
}

impl<const N: usize> Mul for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, o: Self) -> Self {
        let mut d = [0.0; N];
        for i in 0..N {
            d[i] = self.d[i] * o.v + self.v * o.d[i];
        }
        Dual { v: self.v * o.v, d }
    }
}

impl<const N: usize> Div for Dual<N> {
    type Output = Self;
    #[inline]
    fn div(self, o: Self) -> Self {
        let q = self.v / o.v;
        let mut d = [0.0; N];
        for i in 0..N {
            d[i] = (self.d[i] - q * o.d[i]) / o.v;
        }
        Dual { v: q, d }
    }
}

impl<const N: usize> Neg for Dual<N> {
    type Output = Self;
    #[inline]
    fn neg(self) -> Self {
        self.scale(-1.0)
    }
}

impl<const N: usize> Add<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn add(mut self, k: f64) -> Self {
        self.v += k;
        self
    }
}

impl<const N: usize> Mul<f64> for Dual<N> {
    type Output = Self;
    #[inline]
    fn mul(self, k: f64) -> Self {
        self.scale(k)
    }
}

/// ln Σᵢ exp(tᵢ) over duals, scaled by the largest term so nothing overflows.
pub(crate) fn log_sum_exp_all<const N: usize>(terms: &[Dual<N>]) -> Dual<N> {
    let top = terms.iter().map(|t| t.v).fold(f64::NEG_INFINITY, f64::max);
    if top == f64::NEG_INFINITY {
        return Dual::constant(top);
    }
    let (mut sum, mut d) = (0.0, [0.0; N]);
    for t in terms {
        let e = (t.v - top).exp();
        sum += e;
        for i in 0..N {
            d[i] += e * t.d[i];
        }
    }
    d.iter_mut().for_each(|x| *x /= sum);
    Dual {
        v: top + sum.ln(),
        d,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn derivatives_of_a_composite_expression() {
        // f(x, y) = ln(x·y + ln(1+x)) / y at (0.7, 1.3), against the hand-derived gradient.
        let (x, y) = (Dual::<2>::variable(0.7, 0), Dual::<2>::variable(1.3, 1));
        let f = (x * y + x.ln_1p()).ln() / y;
        let (xv, yv) = (0.7_f64, 1.3_f64);
        let inner = xv * yv + xv.ln_1p();
        assert_relative_eq!(f.v, inner.ln() / yv, max_relative = 1e-15);
        assert_relative_eq!(
            f.d[0],
            (yv + 1.0 / (1.0 + xv)) / inner / yv,
            max_relative = 1e-14
        );
        assert_relative_eq!(
            f.d[1],
            xv / inner / yv - inner.ln() / (yv * yv),
            max_relative = 1e-14
        );
        // ln(eˣ + eʸ): gradient is the softmax weights.
        let l = Dual::log_sum_exp(x, y);
        let wx = 1.0 / (1.0 + (yv - xv).exp());
        assert_relative_eq!(l.d[0], wx, max_relative = 1e-14);
        assert_relative_eq!(l.d[1], 1.0 - wx, max_relative = 1e-14);
    }

    #[test]
    fn ln_one_minus_exp_matches_its_derivative() {
        let x = Dual::<1>::variable(-1e-9, 0);
        let f = x.ln_one_minus_exp();
        // ln(1 − e^x) ≈ ln(−x) for tiny x; derivative ≈ 1/x.
        assert_relative_eq!(f.v, (1e-9_f64).ln(), max_relative = 1e-8);
        assert_relative_eq!(f.d[0], -1e9, max_relative = 1e-8);
    }
}
