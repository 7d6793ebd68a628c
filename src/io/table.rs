//! Plain tables from CSV (a header row, then one row per subject): the input of the
//! survival and Cox models, whose columns the caller names.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem, Result, RowError};

/// A CSV table held as text, with typed access to named columns. Every accessor reports
/// a bad value as [`Error::Row`] naming its line (counting the header as line 1), column
/// and value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// Reads a table with a header row.
    ///
    /// # Errors
    /// [`Error::Row`] for a malformed line or one with a different number of fields than
    /// the header; [`Error::EmptyInput`] without data rows; [`Error::Io`].
    pub fn read<R: Read>(reader: R) -> Result<Table> {
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(reader);
        let header: Vec<String> = rdr
            .headers()?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let mut rows = Vec::new();
        for rec in rdr.records() {
            let rec = rec?;
            rows.push(rec.iter().map(|f| f.trim().to_string()).collect());
        }
        if rows.is_empty() {
            return Err(Error::EmptyInput);
        }
        Ok(Table { header, rows })
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
        self.rows.len()
    }

    /// Whether there are no data rows (never true for a table that was read).
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
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

    fn parse<T>(
        &self,
        name: &str,
        f: impl Fn(&str) -> Option<T>,
        problem: Problem,
    ) -> Result<Vec<T>> {
        let c = self.column(name)?;
        self.rows
            .iter()
            .enumerate()
            .map(|(i, row)| {
                let v = &row[c];
                f(v).ok_or_else(|| {
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
            })
            .collect()
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
            |v| match v.to_ascii_lowercase().as_str() {
                "1" | "1.0" | "true" => Some(true),
                "0" | "0.0" | "false" => Some(false),
                _ => None,
            },
            Problem::OutOfRange,
        )
    }

    /// A text column.
    ///
    /// # Errors
    /// [`Error::MissingColumn`].
    pub fn text(&self, name: &str) -> Result<Vec<String>> {
        let c = self.column(name)?;
        Ok(self.rows.iter().map(|r| r[c].clone()).collect())
    }
}
