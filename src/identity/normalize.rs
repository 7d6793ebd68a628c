//! Normalisation of raw field values per [`FieldKind`] into canonical text, and the
//! [`NormalizedColumn`] holding what the comparison levels need precomputed.
//!
//! Normalisation never fails: a value that cannot be read (an invalid date, an e-mail
//! without `@`, a phone with too few digits) is *missing* (`None`), exactly like an
//! empty cell or a placeholder. Missing values compare as [`crate::identity::MISSING`]
//! and add no evidence either way.
//!
//! Placeholders (compared case-insensitively after trimming, and again after
//! punctuation is folded to spaces): see [`PLACEHOLDERS`]; also any value made only of
//! punctuation, only of `x`/`X`, and all-zero phones and numbers-as-ids.

use std::collections::HashMap;

use chrono::{Datelike, NaiveDate};
use rayon::prelude::*;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use crate::data::FieldKind;

/// Values read as missing (lower-case, after trimming).
pub const PLACEHOLDERS: &[&str] = &[
    "",
    "-",
    "--",
    "---",
    ".",
    "?",
    "??",
    "n/a",
    "n.a.",
    "na",
    "n a",
    "none",
    "null",
    "nil",
    "nan",
    "unknown",
    "unk",
    "not known",
    "not available",
    "not applicable",
    "missing",
    "tbc",
    "tba",
    "void",
    "test",
    "#n/a",
    "no email",
    "noemail",
    "no phone",
];

/// Common address words and their abbreviations (USPS / Royal Mail usage), applied per
/// token after folding. Both forms end as the abbreviation.
pub const ADDRESS_ABBREVIATIONS: &[(&str, &str)] = &[
    ("street", "st"),
    ("road", "rd"),
    ("avenue", "ave"),
    ("av", "ave"),
    ("drive", "dr"),
    ("lane", "ln"),
    ("court", "ct"),
    ("place", "pl"),
    ("square", "sq"),
    ("terrace", "ter"),
    ("crescent", "cres"),
    ("close", "cl"),
    ("gardens", "gdns"),
    ("grove", "gr"),
    ("park", "pk"),
    ("boulevard", "blvd"),
    ("highway", "hwy"),
    ("parkway", "pkwy"),
    ("mount", "mt"),
    ("saint", "st"),
    ("apartment", "apt"),
    ("flat", "apt"),
    ("suite", "ste"),
    ("floor", "fl"),
    ("building", "bldg"),
    ("house", "ho"),
    ("north", "n"),
    ("south", "s"),
    ("east", "e"),
    ("west", "w"),
    ("northeast", "ne"),
    ("northwest", "nw"),
    ("southeast", "se"),
    ("southwest", "sw"),
    ("first", "1st"),
    ("second", "2nd"),
    ("third", "3rd"),
    ("number", "no"),
];

/// Nicknames and short forms of English given names with the full name they fold to
/// (after normalisation). Used by the name level "same after nickname folding".
pub const NICKNAMES: &[(&str, &str)] = &[
    ("bob", "robert"),
    ("bobby", "robert"),
    ("rob", "robert"),
    ("robbie", "robert"),
    ("bert", "robert"),
    ("bill", "william"),
    ("billy", "william"),
    ("will", "william"),
    ("willie", "william"),
    ("liam", "william"),
    ("liz", "elizabeth"),
    ("lizzie", "elizabeth"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("eliza", "elizabeth"),
    ("libby", "elizabeth"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("jamie", "james"),
    ("mike", "michael"),
    ("mick", "michael"),
    ("mickey", "michael"),
    ("dick", "richard"),
    ("rick", "richard"),
    ("rich", "richard"),
    ("richie", "richard"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("dave", "david"),
    ("davy", "david"),
    ("chris", "christopher"),
    ("kit", "christopher"),
    ("tony", "anthony"),
    ("ant", "anthony"),
    ("joe", "joseph"),
    ("joey", "joseph"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("steve", "stephen"),
    ("steven", "stephen"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("ted", "edward"),
    ("ned", "edward"),
    ("andy", "andrew"),
    ("drew", "andrew"),
    ("matt", "matthew"),
    ("nick", "nicholas"),
    ("pete", "peter"),
    ("sam", "samuel"),
    ("ben", "benjamin"),
    ("alex", "alexander"),
    ("sandy", "alexander"),
    ("greg", "gregory"),
    ("jack", "john"),
    ("johnny", "john"),
    ("jon", "john"),
    ("harry", "henry"),
    ("hank", "henry"),
    ("charlie", "charles"),
    ("chuck", "charles"),
    ("fred", "frederick"),
    ("freddie", "frederick"),
    ("larry", "lawrence"),
    ("len", "leonard"),
    ("ron", "ronald"),
    ("don", "donald"),
    ("ken", "kenneth"),
    ("kate", "katherine"),
    ("katie", "katherine"),
    ("kathy", "katherine"),
    ("cathy", "katherine"),
    ("catherine", "katherine"),
    ("kathryn", "katherine"),
    ("peggy", "margaret"),
    ("maggie", "margaret"),
    ("meg", "margaret"),
    ("jenny", "jennifer"),
    ("jen", "jennifer"),
    ("sue", "susan"),
    ("susie", "susan"),
    ("patty", "patricia"),
    ("pat", "patricia"),
    ("trish", "patricia"),
    ("debbie", "deborah"),
    ("deb", "deborah"),
    ("becky", "rebecca"),
    ("becca", "rebecca"),
    ("vicky", "victoria"),
    ("tori", "victoria"),
    ("mandy", "amanda"),
    ("abby", "abigail"),
    ("annie", "ann"),
    ("anne", "ann"),
    ("nancy", "ann"),
    ("polly", "mary"),
    ("molly", "mary"),
    ("mae", "mary"),
    ("sally", "sarah"),
    ("sara", "sarah"),
    ("jo", "josephine"),
    ("terry", "theresa"),
    ("tess", "theresa"),
    ("teresa", "theresa"),
];

/// The full name a (normalised) given name folds to: the [`NICKNAMES`] table's target,
/// or the name itself.
pub fn nickname_root(name: &str) -> &str {
    NICKNAMES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(name, |(_, full)| full)
}

fn is_placeholder(raw: &str) -> bool {
    let t = raw.trim();
    t.chars().all(|c| !c.is_alphanumeric())
        || t.chars().all(|c| c == 'x' || c == 'X')
        || PLACEHOLDERS.iter().any(|p| p.eq_ignore_ascii_case(t))
}

/// Lower-case ASCII after accent folding (NFKD, combining marks dropped; ß→ss, æ→ae,
/// ø→o, œ→oe, ł→l, đ→d, þ→th; other non-ASCII letters and digits kept lower-cased),
/// every other character a separator, whitespace collapsed to single spaces.
pub fn fold_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    let push = |out: &mut String, s: &str, pending: &mut bool| {
        if *pending && !out.is_empty() {
            out.push(' ');
        }
        *pending = false;
        out.push_str(s);
    };
    for c in raw.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        let mut buf = [0u8; 4];
        let mapped: &str = match c {
            'ß' => "ss",
            'æ' | 'Æ' => "ae",
            'ø' | 'Ø' => "o",
            'œ' | 'Œ' => "oe",
            'ł' | 'Ł' => "l",
            'đ' | 'Đ' => "d",
            'þ' | 'Þ' => "th",
            '\'' | '’' => continue, // O'Brien → obrien
            c if c.is_alphanumeric() => {
                let mut lower = c.to_lowercase();
                match (lower.next(), lower.next()) {
                    (Some(l), None) => l.encode_utf8(&mut buf),
                    _ => c.encode_utf8(&mut buf),
                }
            }
            _ => {
                pending_space = true;
                continue;
            }
        };
        push(&mut out, mapped, &mut pending_space);
    }
    out
}

/// Normalises one raw value of the given kind; `None` = missing (empty, placeholder,
/// or unreadable for the kind).
///
/// Canonical forms:
/// - **Name, Text**: [`fold_text`].
/// - **Address**: [`fold_text`], then each token replaced by its abbreviation
///   ([`ADDRESS_ABBREVIATIONS`]).
/// - **Date**: `YYYYMMDD` (see [`parse_date`]).
/// - **Number**: the shortest decimal text that reads back as the same `f64`
///   (`1,234.50` → `1234.5`, `-0` → `0`); thousands separators `,` `_` and spaces and a
///   leading currency sign (`£ $ € ¥`) are dropped; non-finite values are missing.
/// - **Postcode**: upper-case letters and digits only (`sw1a 1aa` → `SW1A1AA`).
/// - **Phone**: see [`normalize_phone`].
/// - **Email**: see [`normalize_email`].
/// - **Id**: trimmed, lower-cased (Unicode case folding by `to_lowercase`).
pub fn normalize(kind: FieldKind, raw: &str) -> Option<String> {
    if is_placeholder(raw) {
        return None;
    }
    let out = match kind {
        FieldKind::Name | FieldKind::Text => fold_text(raw),
        FieldKind::Address => {
            let folded = fold_text(raw);
            let mut out = String::with_capacity(folded.len());
            for t in folded.split(' ') {
                if !out.is_empty() {
                    out.push(' ');
                }
                let t = ADDRESS_ABBREVIATIONS
                    .iter()
                    .find(|(w, _)| *w == t)
                    .map_or(t, |(_, a)| a);
                out.push_str(t);
            }
            out
        }
        FieldKind::Date => parse_date(raw).map(|d| d.format("%Y%m%d").to_string())?,
        FieldKind::Number => {
            let v = parse_number(raw)?;
            format!("{}", if v == 0.0 { 0.0 } else { v })
        }
        FieldKind::Postcode => raw
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        FieldKind::Phone => normalize_phone(raw)?,
        FieldKind::Email => normalize_email(raw)?,
        FieldKind::Id => raw.trim().to_lowercase(),
    };
    if out.is_empty() || (kind != FieldKind::Number && is_placeholder(&out)) {
        None
    } else {
        Some(out)
    }
}

/// Reads a number: optional sign, a leading currency sign, thousands separators
/// (`,` `_`, spaces) dropped; `None` when unreadable or not finite.
pub fn parse_number(raw: &str) -> Option<f64> {
    let t = raw.trim().trim_start_matches(['£', '$', '€', '¥']);
    let cleaned: String = t
        .chars()
        .filter(|c| !matches!(c, ',' | '_') && !c.is_whitespace())
        .collect();
    cleaned.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Phone digits, with the country-code rule (the default country is the UK, +44):
/// every non-digit is dropped; a number written internationally (a leading `+` or `00`)
/// loses that prefix, and then also its country code when it is `44`; a national number
/// loses one leading trunk `0`; a bracketed `(0)` is dropped first. So `+44 7700 900123`, `0044 7700 900123` and
/// `07700 900123` all give `7700900123`, while `+33 1 23 45 67 89` gives `33123456789`.
/// Fewer than 6 remaining digits, or only zeros, is missing.
pub fn normalize_phone(raw: &str) -> Option<String> {
    let t = raw.trim();
    // "+44 (0)20 ..." : the bracketed trunk zero is not dialled from abroad.
    let digits: String = t
        .replace("(0)", "")
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let international = t.starts_with('+') || digits.starts_with("00");
    let d: &str = if international {
        let d = digits.strip_prefix("00").unwrap_or(&digits);
        d.strip_prefix("44").unwrap_or(d)
    } else {
        digits.strip_prefix('0').unwrap_or(&digits)
    };
    if d.len() < 6 || d.bytes().all(|b| b == b'0') {
        None
    } else {
        Some(d.to_string())
    }
}

/// Canonical e-mail: trimmed, lower-case, a `mailto:` prefix dropped; the `+tag` of
/// the local part dropped for every domain; for `gmail.com` (and `googlemail.com`,
/// which becomes `gmail.com`) the dots of the local part are dropped too. Missing
/// unless there is exactly one `@` with a non-empty local part and a domain holding a dot.
pub fn normalize_email(raw: &str) -> Option<String> {
    let t = raw.trim().to_lowercase();
    let t = t.strip_prefix("mailto:").unwrap_or(&t);
    let (local, domain) = t.split_once('@')?;
    if domain.contains('@') || !domain.contains('.') || local.is_empty() {
        return None;
    }
    if local.chars().any(char::is_whitespace) || domain.chars().any(char::is_whitespace) {
        return None;
    }
    let local = local.split('+').next().unwrap_or(local);
    let domain = if domain == "googlemail.com" {
        "gmail.com"
    } else {
        domain
    };
    let local: String = if domain == "gmail.com" {
        local.chars().filter(|c| *c != '.').collect()
    } else {
        local.to_string()
    };
    if local.is_empty() {
        return None;
    }
    Some(format!("{local}@{domain}"))
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Reads a date. Accepted forms (a time after `T` or a space following an ISO date is
/// ignored):
/// - `YYYYMMDD`;
/// - year first with `-`, `/` or `.` separators: `YYYY-MM-DD`, `YYYY/M/D`, `YYYY.MM.DD`;
/// - **day first** when the year comes last: `DD/MM/YYYY`, `D.M.YYYY`, `DD-MM-YYYY`
///   (European order; a US month-first `MM/DD/YYYY` is read day-first, and one whose
///   "month" exceeds 12 is read month-first as the only valid reading);
/// - month names (English, 3-letter prefix): `3 Feb 1981`, `3 February 1981`,
///   `Feb 3, 1981`, `1981-Feb-03`.
///
/// Years must lie in 1800..=2100; sentinel dates `1900-01-01` and `9999-12-31`-like
/// years are missing. Invalid calendar dates are missing.
pub fn parse_date(raw: &str) -> Option<NaiveDate> {
    let mut t = raw.trim();
    if t.len() > 10 && t.as_bytes()[4] == b'-' {
        if let Some((d, _)) = t.split_once(['T', ' ']) {
            t = d;
        }
    }
    let date = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        ymd(num(&t[0..4])?, num(&t[4..6])?, num(&t[6..8])?)
    } else {
        let parts: Vec<&str> = t
            .split(['-', '/', '.', ' ', ','])
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() != 3 {
            return None;
        }
        let month_of = |p: &str| -> Option<u32> {
            let l = p.to_ascii_lowercase();
            if l.len() >= 3 && l.is_ascii() {
                MONTHS
                    .iter()
                    .position(|m| l.starts_with(m))
                    .map(|i| i as u32 + 1)
            } else {
                None
            }
        };
        let is_year = |p: &str| p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit());
        if is_year(parts[0]) {
            let m = month_of(parts[1]).or_else(|| num(parts[1]))?;
            ymd(num(parts[0])?, m, num(parts[2])?)
        } else if is_year(parts[2]) {
            let y = num(parts[2])?;
            if let Some(m) = month_of(parts[1]) {
                ymd(y, m, num(parts[0])?)
            } else if let Some(m) = month_of(parts[0]) {
                ymd(y, m, num(parts[1])?)
            } else {
                let (a, b) = (num(parts[0])?, num(parts[1])?);
                ymd(y, b, a).or_else(|| if b > 12 { ymd(y, a, b) } else { None })
            }
        } else {
            None
        }
    }?;
    if !(1800..=2100).contains(&date.year()) || (date.year() == 1900 && date.ordinal() == 1) {
        return None;
    }
    Some(date)
}

fn num(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 4 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn ymd(y: u32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)
}

/// A normalised column: the canonical values of one field plus what the comparison
/// levels read on the hot path (token sets, day numbers, parsed numbers, nickname roots),
/// and the term frequencies of its values.
#[derive(Debug, Clone)]
pub struct NormalizedColumn {
    /// The field kind.
    pub kind: FieldKind,
    /// Canonical values (`None` = missing), one per record, in input order.
    pub values: Vec<Option<Box<str>>>,
    /// Sorted, deduplicated tokens per record (Name, Text, Address; empty otherwise).
    tokens: Vec<Box<[Box<str>]>>,
    /// Days since 0001-01-01 (Date), the value (Number); NaN when missing or other kinds.
    scalar: Vec<f64>,
    /// Nickname root of the first token (Name), when it differs from the first token.
    nick: Vec<Option<&'static str>>,
    /// Share of non-missing records holding each record's value.
    tf: Vec<f64>,
}

impl NormalizedColumn {
    /// Normalises `raw` (in parallel, order kept) and precomputes the comparison inputs
    /// and term frequencies.
    pub fn new<S>(kind: FieldKind, raw: &[S]) -> NormalizedColumn
    where
        S: AsRef<str> + Sync,
    {
        let values: Vec<Option<Box<str>>> = raw
            .par_iter()
            .map(|s| normalize(kind, s.as_ref()).map(String::into_boxed_str))
            .collect();
        let tokenised = matches!(kind, FieldKind::Name | FieldKind::Text | FieldKind::Address);
        let tokens = if tokenised {
            values
                .par_iter()
                .map(|v| {
                    v.as_deref().map_or_else(Box::default, |s| {
                        crate::identity::strings::sorted_tokens(s)
                            .into_iter()
                            .map(Box::from)
                            .collect()
                    })
                })
                .collect()
        } else {
            Vec::new()
        };
        let scalar = match kind {
            FieldKind::Date => values
                .par_iter()
                .map(|v| {
                    v.as_deref()
                        .and_then(|s| NaiveDate::parse_from_str(s, "%Y%m%d").ok())
                        .map_or(f64::NAN, |d| f64::from(d.num_days_from_ce()))
                })
                .collect(),
            FieldKind::Number => values
                .par_iter()
                .map(|v| {
                    v.as_deref()
                        .and_then(|s| s.parse().ok())
                        .unwrap_or(f64::NAN)
                })
                .collect(),
            _ => Vec::new(),
        };
        let nick = if kind == FieldKind::Name {
            values
                .iter()
                .map(|v| {
                    let first = v.as_deref()?.split(' ').next()?;
                    NICKNAMES.iter().find(|(n, _)| *n == first).map(|(_, f)| *f)
                })
                .collect()
        } else {
            Vec::new()
        };
        let mut counts: HashMap<&str, u32> = HashMap::new();
        let mut present = 0u32;
        for v in values.iter().flatten() {
            *counts.entry(v).or_default() += 1;
            present += 1;
        }
        let tf = values
            .iter()
            .map(|v| {
                v.as_deref()
                    .map_or(f64::NAN, |s| f64::from(counts[s]) / f64::from(present))
            })
            .collect();
        NormalizedColumn {
            kind,
            values,
            tokens,
            scalar,
            nick,
            tf,
        }
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the column has no record.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The canonical value of record `i` (`None` when missing or out of range).
    pub fn value(&self, i: usize) -> Option<&str> {
        self.values.get(i)?.as_deref()
    }

    /// Share of the non-missing records holding record `i`'s value; `None` when the
    /// value is missing or `i` is out of range.
    pub fn term_frequency(&self, i: usize) -> Option<f64> {
        self.tf.get(i).copied().filter(|t| !t.is_nan())
    }

    /// Sorted, deduplicated tokens of record `i` (Name, Text and Address columns).
    pub fn tokens(&self, i: usize) -> &[Box<str>] {
        self.tokens.get(i).map_or(&[], |t| &t[..])
    }

    /// Day number (days from 0001-01-01, Date columns) or value (Number columns) of
    /// record `i`.
    pub fn scalar(&self, i: usize) -> Option<f64> {
        self.scalar.get(i).copied().filter(|t| !t.is_nan())
    }

    /// The name record `i` folds to under [`NICKNAMES`] (Name columns): its first token
    /// replaced by the full name, compared with the rest of the value unchanged.
    pub(crate) fn nickname_first(&self, i: usize) -> Option<&str> {
        self.nick.get(i).copied().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        use FieldKind::*;
        assert_eq!(
            normalize(Name, "  José  O'Brien-Smith ").as_deref(),
            Some("jose obrien smith")
        );
        assert_eq!(
            normalize(Address, "12 North Church Street, Apt. 3").as_deref(),
            Some("12 n church st apt 3")
        );
        assert_eq!(normalize(Date, "1981-02-03").as_deref(), Some("19810203"));
        assert_eq!(normalize(Date, "03/02/1981").as_deref(), Some("19810203"));
        assert_eq!(normalize(Date, "02/13/1981").as_deref(), Some("19810213"));
        assert_eq!(normalize(Date, "3 Feb 1981").as_deref(), Some("19810203"));
        assert_eq!(normalize(Date, "19810230"), None);
        assert_eq!(normalize(Number, "£1,234.50").as_deref(), Some("1234.5"));
        assert_eq!(
            normalize(Phone, "+44 (0)7700 900123").as_deref(),
            Some("7700900123")
        );
        assert_eq!(
            normalize(Phone, "07700 900123").as_deref(),
            Some("7700900123")
        );
        assert_eq!(normalize(Phone, "0000000"), None);
        assert_eq!(
            normalize(Email, " J.Smith+news@GoogleMail.com").as_deref(),
            Some("jsmith@gmail.com")
        );
        assert_eq!(
            normalize(Email, "j.smith+x@example.org").as_deref(),
            Some("j.smith@example.org")
        );
        assert_eq!(normalize(Postcode, "sw1a 1aa").as_deref(), Some("SW1A1AA"));
        assert_eq!(normalize(Text, "N/A"), None);
        assert_eq!(normalize(Id, "XXX"), None);
        assert_eq!(nickname_root("bob"), "robert");
    }
}
