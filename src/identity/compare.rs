//! Comparison levels per field: graded agreement between two normalised values,
//! strongest level first (0), the last level "else" (disagreement), [`MISSING`] when
//! either value is missing.
//!
//! The defaults follow splink's comparison library (`NameComparison`,
//! `DateOfBirthComparison`, `EmailComparison`, `PostcodeComparison`, ...) with the
//! thresholds listed in [`Comparison::default_for`]. A caller builds its own with
//! [`Comparison::new`] from [`LevelPredicate`]s. [`Comparison::level`] reads only the
//! [`NormalizedColumn`]'s precomputed values and never allocates for values up to 64
//! characters / 64 tokens.

use serde::{Deserialize, Serialize};

use super::normalize::NormalizedColumn;
use super::strings;
use crate::data::FieldKind;
use crate::error::{Error, Result};

/// The level of a pair where either value is missing.
pub const MISSING: u8 = u8::MAX;

/// One level's test on a pair of non-missing normalised values.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum LevelPredicate {
    /// The canonical values are equal (the term-frequency level).
    Exact,
    /// Names equal once each first token is folded by the nickname table
    /// ([`super::normalize::NICKNAMES`]); Name columns only.
    NicknameExact,
    /// Jaro–Winkler similarity of the canonical values at least this.
    JaroWinklerAtLeast(f64),
    /// Levenshtein distance of the canonical values at most this.
    LevenshteinAtMost(u32),
    /// Damerau–Levenshtein distance at most 1 (one edit or one adjacent swap).
    WithinOneEdit,
    /// rapidfuzz token-set ratio (in 0..=1) at least this; Name, Text, Address.
    TokenSetAtLeast(f64),
    /// Token Jaccard similarity at least this; Name, Text, Address.
    JaccardAtLeast(f64),
    /// Same year, day and month swapped (`19810203` vs `19810302`); Date only.
    DayMonthSwapped,
    /// Dates at most this many days apart; Date only.
    DaysWithin(u32),
    /// The same e-mail local part (before `@`), any domain; Email only.
    LocalPartExact,
    /// Jaro–Winkler of the e-mail local parts at least this; Email only.
    LocalPartJaroWinklerAtLeast(f64),
    /// The last `n` characters equal (both values at least `n` long), e.g. the last 7
    /// phone digits.
    LastCharsEqual(u32),
    /// Equal once the last `n` characters of each are dropped (both longer than `n`):
    /// for UK postcodes `n = 2` is the sector (`SW1A 1`), `n = 3` the district (`SW1A`).
    SameStem(u32),
    /// |x − y| ≤ r · max(|x|, |y|); Number only.
    RelativeDifferenceAtMost(f64),
}

impl LevelPredicate {
    /// The level's label for reports, e.g. `"jaro_winkler >= 0.92"`.
    pub fn label(&self) -> String {
        match self {
            LevelPredicate::Exact => "exact".into(),
            LevelPredicate::NicknameExact => "exact after nickname folding".into(),
            LevelPredicate::JaroWinklerAtLeast(t) => format!("jaro_winkler >= {t}"),
            LevelPredicate::LevenshteinAtMost(d) => format!("levenshtein <= {d}"),
            LevelPredicate::WithinOneEdit => "damerau_levenshtein <= 1".into(),
            LevelPredicate::TokenSetAtLeast(t) => format!("token_set_ratio >= {t}"),
            LevelPredicate::JaccardAtLeast(t) => format!("jaccard >= {t}"),
            LevelPredicate::DayMonthSwapped => "day and month transposed".into(),
            LevelPredicate::DaysWithin(d) => format!("within {d} days"),
            LevelPredicate::LocalPartExact => "same local part".into(),
            LevelPredicate::LocalPartJaroWinklerAtLeast(t) => {
                format!("local part jaro_winkler >= {t}")
            }
            LevelPredicate::LastCharsEqual(n) => format!("last {n} equal"),
            LevelPredicate::SameStem(n) => format!("equal but the last {n}"),
            LevelPredicate::RelativeDifferenceAtMost(r) => {
                format!("relative difference <= {r}")
            }
        }
    }

    /// The kinds the predicate applies to (`None` = every kind).
    fn kinds(&self) -> Option<&'static [FieldKind]> {
        use FieldKind::*;
        match self {
            LevelPredicate::NicknameExact => Some(&[Name]),
            LevelPredicate::TokenSetAtLeast(_) | LevelPredicate::JaccardAtLeast(_) => {
                Some(&[Name, Text, Address])
            }
            LevelPredicate::DayMonthSwapped | LevelPredicate::DaysWithin(_) => Some(&[Date]),
            LevelPredicate::LocalPartExact | LevelPredicate::LocalPartJaroWinklerAtLeast(_) => {
                Some(&[Email])
            }
            LevelPredicate::RelativeDifferenceAtMost(_) => Some(&[Number]),
            _ => None,
        }
    }

    /// The threshold, when the predicate has a similarity or ratio threshold.
    fn threshold(&self) -> Option<f64> {
        match self {
            LevelPredicate::JaroWinklerAtLeast(t)
            | LevelPredicate::TokenSetAtLeast(t)
            | LevelPredicate::JaccardAtLeast(t)
            | LevelPredicate::LocalPartJaroWinklerAtLeast(t)
            | LevelPredicate::RelativeDifferenceAtMost(t) => Some(*t),
            _ => None,
        }
    }

    #[inline]
    #[allow(clippy::too_many_arguments)]
    fn holds(
        &self,
        col: &NormalizedColumn,
        i: usize,
        a: &str,
        other: &NormalizedColumn,
        j: usize,
        b: &str,
        memo: &mut Memo,
    ) -> bool {
        match *self {
            LevelPredicate::Exact => a == b,
            LevelPredicate::NicknameExact => {
                let (fa, ra) = a.split_once(' ').unwrap_or((a, ""));
                let (fb, rb) = b.split_once(' ').unwrap_or((b, ""));
                let na = col.nickname_first(i).unwrap_or(fa);
                let nb = other.nickname_first(j).unwrap_or(fb);
                na == nb && ra == rb
            }
            LevelPredicate::JaroWinklerAtLeast(t) => {
                *memo
                    .jaro_winkler
                    .get_or_insert_with(|| strings::jaro_winkler(a, b))
                    >= t
            }
            LevelPredicate::LevenshteinAtMost(d) => {
                a.len().abs_diff(b.len()) <= d as usize && strings::levenshtein(a, b) <= d as usize
            }
            LevelPredicate::WithinOneEdit => strings::within_one_edit(a, b),
            LevelPredicate::TokenSetAtLeast(t) => {
                *memo.token_set.get_or_insert_with(|| {
                    strings::token_set_ratio_tokens(col.tokens(i), other.tokens(j))
                }) >= t
            }
            LevelPredicate::JaccardAtLeast(t) => {
                *memo
                    .jaccard
                    .get_or_insert_with(|| strings::jaccard_tokens(col.tokens(i), other.tokens(j)))
                    >= t
            }
            LevelPredicate::DayMonthSwapped => {
                a.len() == 8
                    && b.len() == 8
                    && a[..4] == b[..4]
                    && a[4..6] == b[6..8]
                    && a[6..8] == b[4..6]
            }
            LevelPredicate::DaysWithin(d) => match (col.scalar(i), other.scalar(j)) {
                (Some(x), Some(y)) => (x - y).abs() <= f64::from(d),
                _ => false,
            },
            LevelPredicate::LocalPartExact => {
                a.split_once('@').map(|p| p.0) == b.split_once('@').map(|p| p.0)
            }
            LevelPredicate::LocalPartJaroWinklerAtLeast(t) => {
                *memo.local_part_jaro_winkler.get_or_insert_with(|| {
                    let la = a.split_once('@').map_or(a, |p| p.0);
                    let lb = b.split_once('@').map_or(b, |p| p.0);
                    strings::jaro_winkler(la, lb)
                }) >= t
            }
            LevelPredicate::LastCharsEqual(n) => {
                let n = n as usize;
                a.len() >= n
                    && b.len() >= n
                    && a.is_char_boundary(a.len() - n)
                    && b.is_char_boundary(b.len() - n)
                    && a[a.len() - n..] == b[b.len() - n..]
            }
            LevelPredicate::SameStem(n) => {
                let n = n as usize;
                a.len() > n
                    && b.len() > n
                    && a.is_char_boundary(a.len() - n)
                    && b.is_char_boundary(b.len() - n)
                    && a[..a.len() - n] == b[..b.len() - n]
            }
            LevelPredicate::RelativeDifferenceAtMost(r) => match (col.scalar(i), other.scalar(j)) {
                (Some(x), Some(y)) => (x - y).abs() <= r * x.abs().max(y.abs()),
                _ => false,
            },
        }
    }
}

/// The similarities of one pair computed so far: levels differing only in threshold
/// (Jaro–Winkler ≥ 0.92, then ≥ 0.88) compute the similarity once.
#[derive(Default)]
struct Memo {
    jaro_winkler: Option<f64>,
    local_part_jaro_winkler: Option<f64>,
    token_set: Option<f64>,
    jaccard: Option<f64>,
}

/// The comparison of one field: its kind and ordered levels, strongest first; level
/// `levels() - 1` is "else".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    kind: FieldKind,
    predicates: Vec<LevelPredicate>,
}

impl Comparison {
    /// A custom comparison: `predicates` are tried in order, the first that holds gives
    /// the level; none holding gives the "else" level. Errors
    /// ([`Error::InvalidOption`]) when a predicate does not apply to `kind`, a threshold
    /// is not finite or negative, or there are more than 253 predicates.
    pub fn new(kind: FieldKind, predicates: Vec<LevelPredicate>) -> Result<Comparison> {
        if predicates.len() > 253 {
            return Err(Error::option(
                "comparison levels",
                predicates.len(),
                "at most 253 levels before \"else\"",
            ));
        }
        for p in &predicates {
            if let Some(kinds) = p.kinds() {
                if !kinds.contains(&kind) {
                    return Err(Error::option(
                        "comparison level",
                        format!("{} on a {kind} field", p.label()),
                        format!(
                            "kinds {}",
                            kinds
                                .iter()
                                .map(|k| k.name())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
            if let Some(t) = p.threshold() {
                if !t.is_finite() || t < 0.0 {
                    return Err(Error::option(
                        "comparison threshold",
                        t,
                        "a finite number >= 0",
                    ));
                }
            }
        }
        Ok(Comparison { kind, predicates })
    }

    /// The default levels for a kind:
    /// - Name: exact, nickname-equal, Jaro–Winkler ≥ 0.92, ≥ 0.88, else;
    /// - Date: exact, day/month transposed, Levenshtein ≤ 1 on `YYYYMMDD` (one-digit
    ///   typo), within 30 days (a mistyped day or a month-end slip; further apart is no
    ///   evidence for a date of birth), else;
    /// - Email: exact, same local part, local-part Jaro–Winkler ≥ 0.88, else;
    /// - Phone: exact, last 7 digits equal, Damerau–Levenshtein ≤ 1, else;
    /// - Postcode: exact, same sector (all but the last 2), same district (all but the
    ///   last 3), else;
    /// - Address: exact, token set ≥ 0.8, ≥ 0.6, else;
    /// - Text: exact, token set ≥ 0.9, ≥ 0.7, else;
    /// - Number: exact, relative difference ≤ 1 %, ≤ 10 %, else;
    /// - Id: exact, else.
    pub fn default_for(kind: FieldKind) -> Comparison {
        use LevelPredicate::*;
        let predicates = match kind {
            FieldKind::Name => vec![
                Exact,
                NicknameExact,
                JaroWinklerAtLeast(0.92),
                JaroWinklerAtLeast(0.88),
            ],
            FieldKind::Date => vec![Exact, DayMonthSwapped, LevenshteinAtMost(1), DaysWithin(30)],
            FieldKind::Email => vec![Exact, LocalPartExact, LocalPartJaroWinklerAtLeast(0.88)],
            FieldKind::Phone => vec![Exact, LastCharsEqual(7), WithinOneEdit],
            FieldKind::Postcode => vec![Exact, SameStem(2), SameStem(3)],
            FieldKind::Address => vec![Exact, TokenSetAtLeast(0.8), TokenSetAtLeast(0.6)],
            FieldKind::Text => vec![Exact, TokenSetAtLeast(0.9), TokenSetAtLeast(0.7)],
            FieldKind::Number => vec![
                Exact,
                RelativeDifferenceAtMost(0.01),
                RelativeDifferenceAtMost(0.1),
            ],
            FieldKind::Id => vec![Exact],
        };
        Comparison { kind, predicates }
    }

    /// The field kind.
    pub fn kind(&self) -> FieldKind {
        self.kind
    }

    /// The level predicates (without the final "else").
    pub fn predicates(&self) -> &[LevelPredicate] {
        &self.predicates
    }

    /// Number of levels, "else" included.
    pub fn levels(&self) -> usize {
        self.predicates.len() + 1
    }

    /// Label of a level: the predicate's label, `"else"` for the last level,
    /// `"missing"` for [`MISSING`] and `"invalid"` beyond.
    pub fn label(&self, level: u8) -> String {
        let l = usize::from(level);
        if level == MISSING {
            "missing".into()
        } else if l < self.predicates.len() {
            self.predicates[l].label()
        } else if l == self.predicates.len() {
            "else".into()
        } else {
            "invalid".into()
        }
    }

    /// The level of the pair (record `i` of `col`, record `j` of `other`): the first
    /// predicate that holds, `levels() - 1` when none does, [`MISSING`] when either value
    /// is missing (or an index is out of range). Allocation-free.
    #[inline]
    pub fn level(
        &self,
        col: &NormalizedColumn,
        i: usize,
        other: &NormalizedColumn,
        j: usize,
    ) -> u8 {
        let (Some(a), Some(b)) = (col.value(i), other.value(j)) else {
            return MISSING;
        };
        let mut memo = Memo::default();
        for (k, p) in self.predicates.iter().enumerate() {
            if p.holds(col, i, a, other, j, b, &mut memo) {
                return k as u8;
            }
        }
        self.predicates.len() as u8
    }

    /// The level the term-frequency adjustment applies to: the first [`LevelPredicate::Exact`].
    pub fn tf_level(&self) -> Option<u8> {
        self.predicates
            .iter()
            .position(|p| *p == LevelPredicate::Exact)
            .map(|k| k as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_levels() {
        let col = NormalizedColumn::new(
            FieldKind::Name,
            &["Bob Smith", "Robert Smith", "Robert Smyth", "", "Zed"],
        );
        let c = Comparison::default_for(FieldKind::Name);
        assert_eq!(c.level(&col, 0, &col, 1), 1);
        assert_eq!(c.level(&col, 1, &col, 1), 0);
        assert_eq!(c.level(&col, 1, &col, 2), 2);
        assert_eq!(c.level(&col, 1, &col, 3), MISSING);
        assert_eq!(c.level(&col, 1, &col, 4), 4);
        assert_eq!(c.label(4), "else");
        assert_eq!(c.tf_level(), Some(0));
    }
}
