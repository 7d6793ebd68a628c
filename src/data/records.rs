//! Customer records from several sources (dealers, service desk, call centre, web), the
//! input of identity resolution, and the id map that loads transactions under golden ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// What a field of a customer record holds; it decides how the field is normalised,
/// compared and blocked on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldKind {
    /// A person's name (or one part of it): compared by Jaro–Winkler bands, with
    /// nicknames and phonetic codes.
    Name,
    /// Free text: compared by token-set similarity.
    Text,
    /// A date (`YYYYMMDD`, `YYYY-MM-DD`, `DD/MM/YYYY`, ...): exact, transposed day and
    /// month, near dates.
    Date,
    /// A number: exact or relatively close.
    Number,
    /// A postcode: exact, then shared leading characters (district, area).
    Postcode,
    /// A phone number: its digits, exact or the same last digits.
    Phone,
    /// An e-mail address: canonical form, exact or the same local part.
    Email,
    /// A postal address: abbreviations folded, then token-set similarity.
    Address,
    /// An exact identifier (a licence, a VIN, a loyalty card): equal or not.
    Id,
}

impl FieldKind {
    /// Every kind, in declaration order.
    pub const ALL: [FieldKind; 9] = [
        FieldKind::Name,
        FieldKind::Text,
        FieldKind::Date,
        FieldKind::Number,
        FieldKind::Postcode,
        FieldKind::Phone,
        FieldKind::Email,
        FieldKind::Address,
        FieldKind::Id,
    ];

    /// The kind's name (as in `--field COLUMN:KIND`).
    pub const fn name(self) -> &'static str {
        match self {
            FieldKind::Name => "name",
            FieldKind::Text => "text",
            FieldKind::Date => "date",
            FieldKind::Number => "number",
            FieldKind::Postcode => "postcode",
            FieldKind::Phone => "phone",
            FieldKind::Email => "email",
            FieldKind::Address => "address",
            FieldKind::Id => "id",
        }
    }
}

impl fmt::Display for FieldKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for FieldKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        FieldKind::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::InvalidOption {
                option: "field kind",
                value: s.to_string(),
                allowed: "one of name, text, date, number, postcode, phone, email, address, id"
                    .to_string(),
            })
    }
}
