//! Customer records from several sources (dealers, service desk, call centre, web), the
//! input of identity resolution, and the id map that loads transactions under golden ids.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem, Result};
use crate::time::Timestamp;

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

/// A field of customer records: its name (as the file's header spells it) and its kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldSpec {
    /// The field's name.
    pub name: String,
    /// What it holds.
    pub kind: FieldKind,
}

impl FieldSpec {
    /// A field `name` of `kind`.
    pub fn new(name: impl Into<String>, kind: FieldKind) -> Self {
        FieldSpec {
            name: name.into(),
            kind,
        }
    }
}

/// One customer record as a source holds it (a row of a dealer's, the service desk's or
/// the web site's customer table).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRecordRow {
    /// The source that holds the record (`dealer_north`, `service_desk`, `web`).
    pub source: String,
    /// The source's own id of the record (unique within the source).
    pub id: String,
    /// The raw value of each field, in the order of the store's [`FieldSpec`]s; an empty
    /// string is a missing value.
    pub values: Vec<String>,
    /// When the record was last updated (for the most-recent survivorship rule).
    pub updated: Option<Timestamp>,
}

/// Customer records from one or several sources: the input of identity resolution.
///
/// Columnar: per field one raw value per record (empty = missing), the record's source and
/// its source id. Values are kept as given; normalisation belongs to `identity`, which
/// may change its rules without the store changing.
///
/// ```
/// use acrm::data::{CustomerRecordRow, CustomerRecords, FieldKind, FieldSpec};
/// let fields = vec![FieldSpec::new("name", FieldKind::Name), FieldSpec::new("email", FieldKind::Email)];
/// let row = |s: &str, id: &str, v: [&str; 2]| CustomerRecordRow {
///     source: s.into(), id: id.into(), values: v.map(String::from).to_vec(), updated: None,
/// };
/// let records = CustomerRecords::new(fields, [
///     row("dealer", "D1", ["Ann Lee", "ann@x.org"]),
///     row("web", "W7", ["ANN LEE", ""]),
/// ])?;
/// assert_eq!((records.len(), records.sources().len()), (2, 2));
/// assert_eq!(records.value(1, 1), None);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerRecords {
    fields: Vec<FieldSpec>,
    sources: Vec<String>,
    source: Vec<u16>,
    ids: Vec<Box<str>>,
    values: Vec<Vec<Box<str>>>,
    updated: Option<Vec<Option<Timestamp>>>,
}

impl CustomerRecords {
    /// The most sources a store holds (source indices are `u16`).
    pub const MAX_SOURCES: usize = u16::MAX as usize + 1;

    /// An empty store with these fields.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] for no fields or two fields of the same name.
    pub fn empty(fields: Vec<FieldSpec>) -> Result<Self> {
        if fields.is_empty() {
            return Err(Error::option(
                "fields",
                "none",
                "at least one field to compare",
            ));
        }
        for (k, f) in fields.iter().enumerate() {
            if fields[..k].iter().any(|g| g.name == f.name) {
                return Err(Error::option("fields", &f.name, "each field named once"));
            }
        }
        Ok(CustomerRecords {
            values: vec![Vec::new(); fields.len()],
            fields,
            ..Default::default()
        })
    }

    /// A store of `rows`.
    ///
    /// # Errors
    /// As [`empty`](Self::empty) and [`push`](Self::push) (lines are 1-based positions).
    pub fn new(
        fields: Vec<FieldSpec>,
        rows: impl IntoIterator<Item = CustomerRecordRow>,
    ) -> Result<Self> {
        let mut s = Self::empty(fields)?;
        let mut seen = hashbrown::HashSet::new();
        for (k, r) in rows.into_iter().enumerate() {
            s.push_checked(r, k as u64 + 1, &mut seen)?;
        }
        Ok(s)
    }

    /// Adds one record; `line` names it in errors.
    ///
    /// # Errors
    /// [`Error::LengthMismatch`] when the record has another number of values than the
    /// store has fields; [`Error::Row`] of [`Problem::EmptyValue`] for an empty source or
    /// id, [`Problem::DuplicateId`] for an id its source already gave.
    pub fn push(&mut self, row: CustomerRecordRow, line: u64) -> Result<()> {
        let mut seen: hashbrown::HashSet<(u16, Box<str>)> = self
            .source
            .iter()
            .zip(&self.ids)
            .map(|(&s, id)| (s, id.clone()))
            .collect();
        self.push_checked(row, line, &mut seen)
    }

    pub(crate) fn push_checked(
        &mut self,
        row: CustomerRecordRow,
        line: u64,
        seen: &mut hashbrown::HashSet<(u16, Box<str>)>,
    ) -> Result<()> {
        if row.values.len() != self.fields.len() {
            return Err(Error::LengthMismatch {
                input: "values",
                found: row.values.len(),
                expected: self.fields.len(),
                against: "the fields of the records",
            });
        }
        let source = row.source.trim();
        if source.is_empty() {
            return Err(Error::row(line, "source", &row.source, Problem::EmptyValue));
        }
        let id = row.id.trim();
        if id.is_empty() {
            return Err(Error::row(line, "id", &row.id, Problem::EmptyValue));
        }
        let s = match self.sources.iter().position(|x| x == source) {
            Some(s) => s,
            None if self.sources.len() < Self::MAX_SOURCES => {
                self.sources.push(source.to_string());
                self.sources.len() - 1
            }
            None => {
                return Err(Error::option(
                    "source",
                    source,
                    format!("at most {} sources", Self::MAX_SOURCES),
                ))
            }
        } as u16;
        if !seen.insert((s, id.into())) {
            return Err(Error::row(line, "id", id, Problem::DuplicateId));
        }
        if row.updated.is_some() && self.updated.is_none() {
            self.updated = Some(vec![None; self.ids.len()]);
        }
        if let Some(u) = &mut self.updated {
            u.push(row.updated);
        }
        self.source.push(s);
        self.ids.push(id.into());
        for (col, v) in self.values.iter_mut().zip(row.values) {
            col.push(v.trim().into());
        }
        Ok(())
    }

    /// Appends the records of `other` (same fields, by name and kind, in the same order).
    ///
    /// # Errors
    /// [`Error::InvalidOption`] when the fields differ; [`Error::Row`] of
    /// [`Problem::DuplicateId`] (its line the record's 1-based position in `other`) for a
    /// source id both hold.
    pub fn append(&mut self, other: &CustomerRecords) -> Result<()> {
        if other.fields != self.fields {
            return Err(Error::option(
                "fields",
                other
                    .fields
                    .iter()
                    .map(|f| format!("{}:{}", f.name, f.kind))
                    .collect::<Vec<_>>()
                    .join(","),
                "the same fields as the records appended to",
            ));
        }
        let mut seen: hashbrown::HashSet<(u16, Box<str>)> = self
            .source
            .iter()
            .zip(&self.ids)
            .map(|(&s, id)| (s, id.clone()))
            .collect();
        for i in 0..other.len() {
            self.push_checked(other.row(i), i as u64 + 1, &mut seen)?;
        }
        Ok(())
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The fields.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// The source names, in order of first appearance.
    pub fn sources(&self) -> &[String] {
        &self.sources
    }

    /// Record `i`'s source index (into [`sources`](Self::sources)).
    pub fn source_of(&self, i: usize) -> usize {
        self.source[i] as usize
    }

    /// Record `i`'s source name.
    pub fn source_name(&self, i: usize) -> &str {
        &self.sources[self.source[i] as usize]
    }

    /// Record `i`'s id in its source.
    pub fn id(&self, i: usize) -> &str {
        &self.ids[i]
    }

    /// Every record's source id, in record order.
    pub fn ids(&self) -> &[Box<str>] {
        &self.ids
    }

    /// The raw values of field `f`, one per record (empty = missing).
    pub fn column(&self, f: usize) -> &[Box<str>] {
        &self.values[f]
    }

    /// Record `i`'s raw value of field `f`, `None` when empty.
    pub fn value(&self, i: usize, f: usize) -> Option<&str> {
        Some(&*self.values[f][i]).filter(|v| !v.is_empty())
    }

    /// Record `i`'s update time, when the records have them.
    pub fn updated(&self, i: usize) -> Option<Timestamp> {
        self.updated.as_ref().and_then(|u| u[i])
    }

    /// Whether any record has an update time.
    pub fn has_updated(&self) -> bool {
        self.updated.is_some()
    }

    /// Record `i` as a row.
    pub fn row(&self, i: usize) -> CustomerRecordRow {
        CustomerRecordRow {
            source: self.source_name(i).to_string(),
            id: self.id(i).to_string(),
            values: self.values.iter().map(|c| c[i].to_string()).collect(),
            updated: self.updated(i),
        }
    }

    /// The index of the record `id` of `source`.
    pub fn find(&self, source: &str, id: &str) -> Option<usize> {
        let s = self.sources.iter().position(|x| x == source)? as u16;
        (0..self.len()).find(|&i| self.source[i] == s && &*self.ids[i] == id)
    }
}

/// Source ids to golden ids: transactions recorded under any source id load under their
/// customer's golden id ([`DatasetBuilder::id_map`](crate::data::DatasetBuilder::id_map)).
///
/// Built by identity resolution for one source (its ids are unique) or for several whose
/// ids do not collide. An id the map does not hold loads as itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdMap {
    // Ordered, so that serialised maps are the same bytes each run; lookups happen once per
    // distinct id of a chunk, not per row.
    map: std::collections::BTreeMap<Box<str>, Box<str>>,
}

impl IdMap {
    /// An empty map.
    pub fn new() -> Self {
        Self::default()
    }

    /// Maps `id` to `golden`.
    ///
    /// # Errors
    /// [`Error::Row`] of [`Problem::Conflict`] in field `id` (its line `line`) when `id`
    /// is already mapped to another golden id.
    pub fn insert(&mut self, id: &str, golden: &str, line: u64) -> Result<()> {
        match self.map.get(id) {
            Some(g) if &**g != golden => Err(Error::row(line, "id", id, Problem::Conflict)),
            Some(_) => Ok(()),
            None => {
                self.map.insert(id.into(), golden.into());
                Ok(())
            }
        }
    }

    /// The golden id of `id` (`id` itself when the map does not hold it).
    pub fn golden<'a>(&'a self, id: &'a str) -> &'a str {
        self.map.get(id).map_or(id, |g| g)
    }

    /// Whether `id` loads under another id.
    pub fn rewrites(&self, id: &str) -> bool {
        self.map.get(id).is_some_and(|g| &**g != id)
    }

    /// Number of ids mapped.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether no id is mapped.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The (id, golden id) entries, sorted by id.
    pub fn entries(&self) -> Vec<(&str, &str)> {
        self.map.iter().map(|(a, b)| (&**a, &**b)).collect()
    }
}
