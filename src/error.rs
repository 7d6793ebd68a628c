//! The crate's error type.
//!
//! One enum with structured variants, so callers (and tests) can match on the line,
//! field and value of a bad record instead of parsing a message.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What was wrong with one field of one input row.
///
/// The variants double as the keys of the skip counts in lenient loading, so they carry
/// no data of their own; the row's line, field and value live in [`RowError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Problem {
    /// The row has fewer fields than the column map needs.
    MissingField,
    /// The field is present but empty.
    EmptyValue,
    /// The field is not a date (or date-time) in the configured format.
    BadDate,
    /// The field is not a number.
    BadNumber,
    /// The amount (or cost, or quantity) is NaN or infinite.
    NonFinite,
    /// A negative amount where the options reject returns.
    NegativeAmount,
    /// The customer id is not in the customer table and the options require known customers.
    UnknownCustomer,
    /// An optional field present in this record but absent in the first one.
    Inconsistent,
    /// A malformed line (for example an unterminated quote) reported by the CSV parser.
    Malformed,
    /// The value is not valid UTF-8.
    NotUtf8,
    /// A number outside its column's range (a fractional count, recency beyond age, ...).
    OutOfRange,
    /// An id already given on an earlier line of a file that lists each entity once.
    DuplicateId,
    /// A negative number where only numbers ≥ 0 make sense (a count, a period, a label).
    Negative,
    /// A fractional number, or one above 4,294,967,295, where a count is expected.
    NotWhole,
    /// A cohort's period that repeats an earlier one or leaves a gap: a cohort lists
    /// periods 0, 1, 2, … each once.
    PeriodSequence,
    /// More customers of a cohort alive in a period than in the period before.
    SurvivorsIncrease,
    /// A cohort without customers in period 0, or without any period after it.
    EmptyCohort,
}

impl Problem {
    /// A short description of what was expected.
    pub fn expected(self) -> &'static str {
        match self {
            Problem::MissingField => "a value in this column",
            Problem::EmptyValue => "a non-empty value",
            Problem::BadDate => "a date in the configured format",
            Problem::BadNumber => "a number",
            Problem::NonFinite => "a finite number",
            Problem::NegativeAmount => {
                "a non-negative amount (returns are rejected by the options)"
            }
            Problem::UnknownCustomer => "a customer id present in the customer table",
            Problem::Inconsistent => "the same optional fields as the first record",
            Problem::Malformed => "a well-formed CSV record",
            Problem::NotUtf8 => "UTF-8 text",
            Problem::DuplicateId => "an id not given on an earlier line",
            Problem::Negative => "a number ≥ 0",
            Problem::NotWhole => "a whole number (at most 4294967295)",
            Problem::PeriodSequence => {
                "the cohort's next period (periods run 0, 1, 2, … each once, without gaps)"
            }
            Problem::SurvivorsIncrease => "no more customers than in the cohort's period before",
            Problem::EmptyCohort => {
                "a cohort with customers in period 0 and at least one later period"
            }
            Problem::OutOfRange => {
                "a value in range: whole x ≥ 0, 0 ≤ t_x ≤ T, T > 0, t_x = 0 and spend 0 when x = 0"
            }
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected())
    }
}

/// One bad input row: where it is and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based line in the input (the header, when present, is line 1); for records built
    /// from an iterator, the 1-based position of the record.
    pub line: u64,
    /// The column (its name, or `#N` for a 0-based position in a file without header).
    pub field: String,
    /// The offending value as read (truncated to 200 characters).
    pub value: String,
    /// What was wrong.
    pub problem: Problem,
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, field `{}`: value {:?}: expected {}",
            self.line,
            self.field,
            self.value,
            self.problem.expected()
        )
    }
}

/// Errors returned by acrm.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad input row (strict mode).
    #[error("{0}")]
    Row(RowError),
    /// A column named in the options is not in the header.
    #[error("column `{column}` not found; the header has: {available:?}")]
    MissingColumn {
        /// The column that was asked for.
        column: String,
        /// The columns the header has.
        available: Vec<String>,
    },
    /// The input holds no data rows (or, in lenient mode, every row was skipped).
    #[error("the input holds no transactions")]
    EmptyInput,
    /// An option or argument is out of its domain.
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// Name of the option or argument.
        option: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// Summaries of different dates, or overlapping customer sets, cannot be merged.
    #[error("cannot merge summaries: {reason}")]
    Merge {
        /// Why.
        reason: String,
    },
    /// An incremental update received a transaction dated on or before the summary's date.
    #[error(
        "transaction of customer `{customer}` on {date} is not after the summary date {as_of}"
    )]
    StaleTransaction {
        /// External customer id.
        customer: String,
        /// Date of the transaction.
        date: chrono::NaiveDate,
        /// The summary's date.
        as_of: chrono::NaiveDate,
    },
    /// An input cannot identify the model: a constant covariate, one collinear with
    /// others, a group without observations, no events at all.
    #[error("`{input}` cannot be used: {reason}")]
    Degenerate {
        /// The covariate, column or group at fault.
        input: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// A numerical procedure failed on the data: a singular matrix, no convergence.
    #[error("{procedure} failed: {reason}")]
    Numerical {
        /// The procedure that failed.
        procedure: &'static str,
        /// How it failed.
        reason: String,
    },
    /// An I/O error (kept as kind and message so the error stays `Clone + PartialEq`).
    #[error("I/O error ({kind:?}): {message}")]
    Io {
        /// The I/O error kind.
        kind: std::io::ErrorKind,
        /// The message of the underlying error.
        message: String,
    },
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io {
            kind: e.kind(),
            message: e.to_string(),
        }
    }
}

impl From<RowError> for Error {
    fn from(e: RowError) -> Self {
        Error::Row(e)
    }
}

impl From<csv::Error> for Error {
    fn from(e: csv::Error) -> Self {
        let line = e.position().map_or(0, |p| p.line());
        match e.into_kind() {
            csv::ErrorKind::Io(io) => io.into(),
            other => Error::Row(RowError {
                line,
                field: String::new(),
                value: format!("{other:?}"),
                problem: Problem::Malformed,
            }),
        }
    }
}
