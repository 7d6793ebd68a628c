//! Plain tables from CSV (a header row, then one row per subject): the input of the
//! survival and Cox models, whose columns the caller names.

use std::io::Read;

use rayon::prelude::*;

use serde::{Deserialize, Serialize};

use super::text::Text;
use crate::error::{Error, Problem, Result, RowError};

/// A CSV reader past its header row, and the header's trimmed names. The input's
/// encoding and line ends are settled first (see [`Text`]); a reader that also counts
/// lines in the bytes passes them through [`decode_bytes`](super::text::decode_bytes)
/// before, so both see the same bytes.
pub(super) fn headed_reader<R: Read>(reader: R) -> Result<(csv::Reader<Text<R>>, Vec<String>)> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(Text::new(reader)?);
    let header: Vec<String> = rdr
        .headers()?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    // No header at all: the input is empty (or blank), which is what to say.
    if header.iter().all(String::is_empty) {
        return Err(Error::EmptyInput);
    }
    Ok((rdr, header))
}

/// A CSV table held as text, with typed access to named columns. Every accessor reports
/// a bad value as [`Error::Row`] naming its line (counting the header as line 1), column
/// and value.
///
/// The fields are kept in one text buffer with an end offset per field, not one string
/// each: a 10M-row file then takes its own size plus 8 bytes a field, where a string per
/// field took about five times that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    header: Vec<String>,
    /// Every field's trimmed text, row after row.
    text: String,
    /// End of each field in `text`, row-major (rows × columns).
    ends: Vec<usize>,
}

impl Table {
    /// Reads a table with a header row.
    ///
    /// # Errors
    /// [`Error::Row`] for a malformed line or one with a different number of fields than
    /// the header; [`Error::EmptyInput`] without data rows; [`Error::Io`].
    pub fn read<R: Read>(reader: R) -> Result<Table> {
        let (mut rdr, header) = headed_reader(reader)?;
        let (mut text, mut ends) = (String::new(), Vec::new());
        let mut record = csv::StringRecord::new();
        while rdr.read_record(&mut record)? {
            for field in record.iter() {
                text.push_str(field.trim());
                ends.push(text.len());
            }
        }
        if ends.is_empty() {
            return Err(Error::EmptyInput);
        }
        Ok(Table { header, text, ends })
    }

    /// Reads a table from a file.
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn read_path(path: impl AsRef<std::path::Path>) -> Result<Table> {
        Table::read(std::fs::File::open(path)?)
    }

    /// Column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Number of data rows.
    pub fn len(&self) -> usize {
        self.ends.len() / self.header.len().max(1)
    }

    /// Whether there are no data rows (never true for a table that was read).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The text of row `i`, column `c`.
    fn field(&self, i: usize, c: usize) -> &str {
        let k = i * self.header.len() + c;
        let start = if k == 0 { 0 } else { self.ends[k - 1] };
        &self.text[start..self.ends[k]]
    }

    fn column(&self, name: &str) -> Result<usize> {
        self.header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::MissingColumn {
                column: name.to_string(),
                available: self.header.clone(),
            })
    }

    /// A column parsed by `f`, in parallel over the rows; the first bad value (in row
    /// order) is the error.
    fn parse<T: Send>(
        &self,
        name: &str,
        f: impl Fn(&str) -> Option<T> + Sync,
        problem: Problem,
    ) -> Result<Vec<T>> {
        let c = self.column(name)?;
        let parsed: Option<Vec<T>> = (0..self.len())
            .into_par_iter()
            .map(|i| f(self.field(i, c)))
            .collect();
        parsed.ok_or_else(|| {
            let i = (0..self.len())
                .position(|i| f(self.field(i, c)).is_none())
                .unwrap_or(0);
            let v = self.field(i, c);
            Error::Row(RowError {
                line: i as u64 + 2,
                field: name.to_string(),
                value: v.chars().take(200).collect(),
                problem: if v.is_empty() {
                    Problem::EmptyValue
                } else {
                    problem
                },
            })
        })
    }

    /// A numeric column (finite values).
    ///
    /// # Errors
    /// [`Error::MissingColumn`]; [`Error::Row`] for a value that is not a finite number.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>> {
        self.parse(
            name,
            |v| v.parse::<f64>().ok().filter(|x| x.is_finite()),
            Problem::BadNumber,
        )
    }

    /// A 0/1 (or true/false) column.
    ///
    /// # Errors
    /// [`Error::MissingColumn`]; [`Error::Row`] for any other value.
    pub fn flags(&self, name: &str) -> Result<Vec<bool>> {
        self.parse(
            name,
            |v| match v {
                "1" | "1.0" => Some(true),
                "0" | "0.0" => Some(false),
                _ if v.eq_ignore_ascii_case("true") => Some(true),
                _ if v.eq_ignore_ascii_case("false") => Some(false),
                _ => None,
            },
            Problem::NotFlag,
        )
    }

    /// A text column.
    ///
    /// # Errors
    /// [`Error::MissingColumn`].
    pub fn text(&self, name: &str) -> Result<Vec<String>> {
        let c = self.column(name)?;
        Ok((0..self.len())
            .map(|i| self.field(i, c).to_string())
            .collect())
    }
}
