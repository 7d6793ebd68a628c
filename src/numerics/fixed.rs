//! Sums of money that do not depend on the order they are added in.

use serde::{Deserialize, Serialize};

/// 2⁴⁰: a sum counts whole units of 2⁻⁴⁰ (about 9 × 10⁻¹³ of a currency unit).
const SCALE: f64 = 1_099_511_627_776.0;

/// A sum of amounts whose bits do not depend on the order of the terms.
///
/// `f64` addition is not associative: the same rows summed by another thread split, or
/// merged as partial states by a database engine in another order, can differ in the
/// last bits. Each term is therefore held as a whole number of 2⁻⁴⁰ units (multiplying
/// by a power of two is exact; digits below 2⁻⁴⁰, far below a cent, are rounded) and
/// added in an `i128`, whose addition is associative. Terms up to 10¹⁵ in
/// absolute value ([`MAX_AMOUNT`](crate::data::MAX_AMOUNT)) take under 2⁹⁰, so 2³⁷ of them
/// sum without overflow; the value is rounded to `f64` once, when read.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct FixedSum(i128);

impl FixedSum {
    /// Zero.
    pub const ZERO: FixedSum = FixedSum(0);

    /// One term, rounded to the nearest multiple of 2⁻⁴⁰ (halves away from zero, so
    /// errors do not pile up in one direction over many terms; NaN is 0, which the
    /// readers never let through).
    #[inline]
    pub fn of(v: f64) -> FixedSum {
        let s = v * SCALE;
        // Nearly every amount takes the fast i64 conversion. Past 2⁵² units (amounts
        // above 4096) `s` has no fraction and adding ½ may round to the next even
        // unit: off by 2⁻⁴⁰ at most, and the same for every order of the terms.
        if s.abs() < 9.0e18 {
            FixedSum(i128::from((s + 0.5f64.copysign(s)) as i64))
        } else {
            FixedSum(s.round() as i128)
        }
    }

    /// Adds one term.
    #[inline]
    pub fn add(&mut self, v: f64) {
        *self += FixedSum::of(v);
    }

    /// The sum, rounded to the nearest `f64`.
    #[inline]
    pub fn value(self) -> f64 {
        self.0 as f64 / SCALE
    }

    /// The sum as a whole number of 2⁻⁴⁰ units (for states stored elsewhere).
    pub fn raw(self) -> i128 {
        self.0
    }

    /// A sum from its raw units.
    pub fn from_raw(raw: i128) -> FixedSum {
        FixedSum(raw)
    }
}

impl std::ops::AddAssign for FixedSum {
    #[inline]
    fn add_assign(&mut self, o: FixedSum) {
        // Wrapping keeps addition associative even past the range (which needs 2³⁷
        // maximal terms in one sum), so it can never panic on data.
        self.0 = self.0.wrapping_add(o.0);
    }
}

impl std::ops::Sub for FixedSum {
    type Output = FixedSum;
    #[inline]
    fn sub(self, o: FixedSum) -> FixedSum {
        FixedSum(self.0.wrapping_sub(o.0))
    }
}

impl std::ops::Add for FixedSum {
    type Output = FixedSum;
    #[inline]
    fn add(mut self, o: FixedSum) -> FixedSum {
        self += o;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_of_terms_does_not_change_the_bits() {
        // 0.1 + 0.2 + 0.3 differs from 0.3 + 0.2 + 0.1 in f64; the fixed sums agree.
        let terms = [0.1, 0.2, 0.3, 1e12, -7.77, 1e-3];
        assert_ne!(
            ((0.1 + 0.2) + 0.3f64).to_bits(),
            ((0.3 + 0.2) + 0.1f64).to_bits()
        );
        let forward = terms
            .iter()
            .fold(FixedSum::ZERO, |s, &v| s + FixedSum::of(v));
        let backward = terms
            .iter()
            .rev()
            .fold(FixedSum::ZERO, |s, &v| s + FixedSum::of(v));
        assert_eq!(forward, backward);
        let plain: f64 = terms.iter().sum();
        assert!((forward.value() - plain).abs() < 1e-9 * plain.abs());
    }

    #[test]
    fn cents_and_large_amounts_round_trip() {
        for v in [0.0, 0.01, -0.01, 19.99, 123_456.78, 1e15, -1e15, 9.0e6] {
            let s = FixedSum::of(v);
            assert!((s.value() - v).abs() <= 1e-12 * v.abs().max(1.0), "{v}");
        }
        // Both conversion paths round to the nearest unit.
        assert_eq!(FixedSum::of(1e15).raw(), (1e15 * SCALE) as i128);
        assert_eq!(FixedSum::of(0.75 / SCALE).raw(), 1);
        assert_eq!(FixedSum::of(-0.75 / SCALE).raw(), -1);
        assert_eq!(FixedSum::of(0.25 / SCALE).raw(), 0);
    }
}
