//! Money as whole cents, so that sums are exact and do not depend on the order they are
//! added in (the same bits for any number of threads, and equal to a database's
//! `DECIMAL(18, 2)` sums).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An amount of money in whole cents (hundredths of the currency unit).
///
/// Serialised as a number of currency units (`1234.5` for 123,450 cents), which JSON
/// readers take exactly for amounts below 10¹³ units; [`Display`](fmt::Display) writes
/// two decimals (`1234.50`), as CSV output does.
///
/// ```
/// use acrm::data::Money;
/// let a = Money::from_units(19.99).unwrap();
/// assert_eq!(a.cents(), 1999);
/// assert_eq!((a + a).to_string(), "39.98");
/// assert_eq!(Money::from_cents(-5).to_string(), "-0.05");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Money(i64);

/// The largest amount, in cents, that `f64` holds to the cent: 2⁵³.
const EXACT: f64 = 9_007_199_254_740_992.0;

impl Money {
    /// Zero.
    pub const ZERO: Money = Money(0);

    /// An amount of `cents`.
    pub const fn from_cents(cents: i64) -> Money {
        Money(cents)
    }

    /// An amount in currency units, rounded to the nearest cent (halves away from zero);
    /// `None` when `units` is not finite or beyond ±2⁵³ cents (about ±9 × 10¹³ units).
    pub fn from_units(units: f64) -> Option<Money> {
        let c = (units * 100.0).round();
        (c.is_finite() && c.abs() <= EXACT).then_some(Money(c as i64))
    }

    /// Like [`from_units`](Self::from_units), and whether `units` was a whole number of
    /// cents (to within floating-point noise of the decimal it was read from).
    pub fn from_units_exact(units: f64) -> Option<(Money, bool)> {
        let x = units * 100.0;
        let m = Money::from_units(units)?;
        let exact = (x - m.0 as f64).abs() <= 1e-6 * x.abs().max(1.0);
        Some((m, exact))
    }

    /// The amount in cents.
    pub const fn cents(self) -> i64 {
        self.0
    }

    /// The amount in currency units (exact below 2⁵³ cents).
    pub fn units(self) -> f64 {
        self.0 as f64 / 100.0
    }

    /// `self + other`, `None` on overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// `self - other`, `None` on overflow.
    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }
}

impl std::ops::Add for Money {
    type Output = Money;
    /// Panics on overflow in debug builds, as integer addition does; sums of user data
    /// use [`checked_add`](Money::checked_add).
    fn add(self, other: Money) -> Money {
        Money(self.0 + other.0)
    }
}

impl std::ops::Sub for Money {
    type Output = Money;
    fn sub(self, other: Money) -> Money {
        Money(self.0 - other.0)
    }
}

impl std::ops::Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(-self.0)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let c = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", c / 100, c % 100)
    }
}

impl Serialize for Money {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.units())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        let units = f64::deserialize(d)?;
        Money::from_units(units)
            .ok_or_else(|| serde::de::Error::custom(format!("{units} is not an amount of money")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_round_trip() {
        for (units, text) in [
            (0.0, "0.00"),
            (12.3, "12.30"),
            (-0.07, "-0.07"),
            (1e9, "1000000000.00"),
        ] {
            let m = Money::from_units(units).unwrap();
            assert_eq!(m.to_string(), text);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<Money>(&json).unwrap(), m);
        }
        assert_eq!(Money::from_units_exact(0.125).map(|x| x.1), Some(false));
        assert_eq!(Money::from_units_exact(29.33).map(|x| x.1), Some(true));
        assert!(Money::from_units(f64::NAN).is_none());
        assert!(Money::from_units(1e300).is_none());
    }
}
