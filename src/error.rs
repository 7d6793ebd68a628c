//! The crate's error type.
//!
//! One enum with structured variants, so callers (and tests) can match on the line,
//! field and value of a bad record instead of parsing a message.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::data::{Area, Column};

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
    /// An amount beyond ±10^15 ([`MAX_AMOUNT`](crate::data::MAX_AMOUNT)), whose sums
    /// would overflow.
    AmountTooLarge,
    /// A negative amount where the options reject returns.
    NegativeAmount,
    /// The customer id is not in the customer table and the options require known customers.
    UnknownCustomer,
    /// An optional field present in this record but absent in the first one.
    Inconsistent,
    /// A malformed line (for example an unterminated quote) reported by the CSV parser.
    Malformed,
    /// A line with more or fewer fields than the header (or the first line) has.
    FieldCount,
    /// A summary row that no customer history can produce: x not a whole number ≥ 0,
    /// t_x outside [0, T], T ≤ 0, or a recency or a spend for a customer without repeat
    /// purchases.
    SummaryRange,
    /// The value is not valid UTF-8.
    NotUtf8,
    /// A number outside its column's range (an amount too large to hold in cents, ...).
    OutOfRange,
    /// An id already given on an earlier line of a file that lists each entity once.
    DuplicateId,
    /// A reference (a parent unit, a user's unit or role) to an id that is not defined,
    /// or that names more than one thing.
    UnknownReference,
    /// A parent that is the unit itself or one of its descendants.
    Cycle,
    /// A value that contradicts an earlier line (an owner placed in two teams).
    Conflict,
    /// A name with a character it may not hold (a unit level with `:`).
    InvalidName,
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
    /// A date window whose last day comes before its first.
    EndBeforeStart,
    /// A probability outside [0, 1].
    NotProbability,
    /// A deal status other than `open`, `won` or `lost`.
    BadStatus,
    /// A stage date before the date of an earlier stage (a lead qualified before it was
    /// created, an opportunity closed before it was created).
    DateOrder,
    /// A flag other than `0` or `1` (also `true`/`false`, `yes`/`no`).
    NotFlag,
    /// A BG/BB row that no customer can have: periods 0, recency above periods,
    /// frequency above recency, or exactly one of frequency and recency 0.
    NotHistory,
    /// A period number of a series that is 0 or not after the one before: a series
    /// lists periods 1, 2, … in increasing order.
    PeriodOrder,
}

impl Problem {
    /// A short description of what was expected.
    pub fn expected(self) -> &'static str {
        match self {
            Problem::MissingField => "as many fields as the columns the reader uses",
            Problem::EmptyValue => "a non-empty value",
            Problem::BadDate => {
                "a calendar date such as 1997-01-31 or 19970131 (or in the format the reader \
                 was given)"
            }
            Problem::BadNumber => "a number",
            Problem::NonFinite => "a finite number",
            Problem::AmountTooLarge => {
                "an amount of at most 10^15 in absolute value (larger ones overflow the sums)"
            }
            Problem::NegativeAmount => {
                "a non-negative amount (returns are rejected by the options)"
            }
            Problem::UnknownCustomer => "a customer id present in the customer table",
            Problem::Inconsistent => "the same optional fields as the first record",
            Problem::Malformed => "a well-formed CSV record",
            Problem::FieldCount => "the same number of fields on every line",
            Problem::SummaryRange => {
                "a history a customer can have: whole x ≥ 0, 0 ≤ t_x ≤ T, T > 0, \
                 and t_x = 0 and spend 0 when x = 0"
            }
            Problem::NotUtf8 => "UTF-8 text",
            Problem::DuplicateId => "an id not given on an earlier line",
            Problem::UnknownReference => "the id of exactly one defined unit, user or role",
            Problem::Cycle => "a parent that is not the unit itself or below it",
            Problem::Conflict => "the same value as earlier lines give",
            Problem::InvalidName => "a name without `:`",
            Problem::Negative => "a number ≥ 0",
            Problem::NotWhole => "a whole number (at most 4294967295)",
            Problem::PeriodSequence => {
                "the cohort's next period (periods run 0, 1, 2, … each once, without gaps)"
            }
            Problem::SurvivorsIncrease => "no more customers than in the cohort's period before",
            Problem::EndBeforeStart => "a last day on or after the first day",
            Problem::NotProbability => "a probability between 0 and 1",
            Problem::BadStatus => "a status `open`, `won` or `lost`",
            Problem::DateOrder => "a date on or after the dates of the earlier stages",
            Problem::NotFlag => "a flag 0 or 1",
            Problem::NotHistory => {
                "a history a customer can have: periods ≥ 1, frequency ≤ recency ≤ periods, \
                 and frequency 0 exactly when recency is 0"
            }
            Problem::PeriodOrder => "a period number ≥ 1 after the one on the line before",
            Problem::EmptyCohort => {
                "a cohort with customers in period 0 and at least one later period"
            }
            Problem::OutOfRange => "a value in the column's range",
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected())
    }
}

/// One bad row of Arrow record batches: where it is and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchError {
    /// The file the batches were read from (Parquet), if any.
    pub file: Option<String>,
    /// 0-based batch (for a Parquet file: the row group).
    pub batch: u64,
    /// 0-based row within the batch (or row group).
    pub row: u64,
    /// The column.
    pub column: String,
    /// The offending value as read (truncated to 200 characters; `null` for a null).
    pub value: String,
    /// What was wrong.
    pub problem: Problem,
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A Parquet file is read one row group per batch.
        let unit = match &self.file {
            Some(file) => {
                write!(f, "{file}: ")?;
                "row group"
            }
            None => "batch",
        };
        write!(
            f,
            "{unit} {}, row {}, column `{}`: value {}: expected {}",
            self.batch,
            self.row,
            self.column,
            self.value,
            self.problem.expected()
        )
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
        let expected = self.problem.expected();
        // Problems of a whole line carry a description, not a value, and no field.
        if matches!(self.problem, Problem::FieldCount | Problem::Malformed) {
            return write!(f, "line {}: {}; expected {expected}", self.line, self.value);
        }
        if self.problem == Problem::MissingField {
            let place = match self.column_number() {
                Some(n) => format!("column {n}"),
                None => format!("field `{}`", self.field.escape_debug()),
            };
            return write!(f, "line {}: no {place}; expected {expected}", self.line);
        }
        write!(f, "line {}", self.line)?;
        match self.column_number() {
            Some(n) => write!(f, ", column {n}")?,
            None if self.field.is_empty() => {}
            None => write!(f, ", field `{}`", self.field.escape_debug())?,
        }
        if self.problem == Problem::NotUtf8 && self.value.is_empty() {
            return write!(
                f,
                ": the text is not UTF-8; expected UTF-8 text (save the file as UTF-8)"
            );
        }
        write!(f, ": value {:?}: expected {expected}", self.value)
    }
}

impl RowError {
    /// The 1-based column number of a field named by position (`#N`, 0-based), as in a
    /// file without a header.
    fn column_number(&self) -> Option<usize> {
        let n: usize = self.field.strip_prefix('#')?.parse().ok()?;
        Some(n + 1)
    }
}

/// A header's names for a message: each escaped and cut to 40 characters, at most 12.
fn header_list(names: &[String]) -> String {
    let mut out: Vec<String> = names
        .iter()
        .take(12)
        .map(|n| {
            let cut: String = n.chars().take(40).collect();
            let more = if cut.len() < n.len() { "…" } else { "" };
            format!("`{}{more}`", cut.escape_debug())
        })
        .collect();
    if names.len() > 12 {
        out.push(format!("and {} more", names.len() - 12));
    }
    out.join(", ")
}

/// The sentence of an [`Error::MissingColumn`].
fn missing_column(column: &str, available: &[String]) -> String {
    if available.is_empty() {
        return format!("no column `{column}`: the input has no header line naming its columns");
    }
    let mut s = format!(
        "no column `{column}` in the header; it has {}",
        header_list(available)
    );
    // One name holding a separator: the file is likely separated by something else.
    if let [only] = available {
        if let Some(sep) = [';', '\t', '|'].into_iter().find(|&c| only.contains(c)) {
            s.push_str(&format!(
                " (is the file separated by {:?} rather than commas?)",
                sep
            ));
        }
    }
    s
}

/// Errors returned by acrm.
///
/// The variant is the kind of wrong, the fields are the detail: a caller (or a test)
/// matches on the variant and reads the option, column, row or value from its fields
/// instead of parsing a message.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A bad input row of a file or of records given one by one (strict mode).
    #[error("{0}")]
    Row(RowError),
    /// A bad value at a position of in-memory input (a pattern, a feature matrix, a
    /// column of labels): which input, which row and field, the value and what was expected.
    #[error("{input}, row {row}, field `{field}`: value {value}: expected {expected}")]
    BadValue {
        /// The input (argument or table) that holds the value.
        input: String,
        /// 0-based row (or element) of the input.
        row: usize,
        /// The field or column of the row.
        field: String,
        /// The value, as text.
        value: String,
        /// What was expected there.
        expected: String,
    },
    /// A bad value in one customer's row of a per-customer table (a summary file), named
    /// by the customer's id: the data, not an option, is at fault.
    #[error("customer `{customer}`: {field} {value}: expected {expected}")]
    CustomerValue {
        /// The customer's id.
        customer: String,
        /// The field of the row.
        field: String,
        /// The value, as text.
        value: String,
        /// What was expected there.
        expected: String,
    },
    /// Two inputs that must be index-aligned have different lengths.
    #[error("`{input}` has {found} entries where {expected} are needed ({against})")]
    LengthMismatch {
        /// The input whose length is wrong.
        input: &'static str,
        /// Its length.
        found: usize,
        /// The length it must have.
        expected: usize,
        /// What the expected length is the length of.
        against: &'static str,
    },
    /// A column the analysis needs is not in the data (or not in a file's header).
    #[error("{}", missing_column(column, available))]
    MissingColumn {
        /// The column that was asked for.
        column: String,
        /// The columns that are there.
        available: Vec<String>,
    },
    /// A column exists but the scope the data is read under hides it.
    #[error("column `{column}` is hidden from scope {scope}")]
    HiddenColumn {
        /// The hidden column.
        column: Column,
        /// The scope, as `kind:id` (`all` for the whole base).
        scope: String,
    },
    /// The scope the data is read under may not run this analysis area.
    #[error("the {area} area is forbidden to scope {scope}")]
    ForbiddenArea {
        /// The area.
        area: Area,
        /// The scope, as `kind:id`.
        scope: String,
    },
    /// An id that names nothing: an owner, unit, user or role not in the organisation.
    #[error("unknown {kind} `{id}`")]
    UnknownId {
        /// What kind of id (`owner`, `team`, `branch`, `user`, `role`, `unit`, ...).
        kind: String,
        /// The id as given.
        id: String,
    },
    /// The input holds no data rows (or, in lenient mode, every row was skipped).
    #[error(
        "the input holds no data rows (it is empty, holds only a header, or every row was skipped)"
    )]
    EmptyInput,
    /// The input is text in an encoding the readers do not read (UTF-16 or UTF-32,
    /// recognised by its byte-order mark).
    #[error("the input is {encoding} text (it starts with a {encoding} byte-order mark); save it as UTF-8")]
    Encoding {
        /// The encoding the mark announces.
        encoding: &'static str,
    },
    /// An option or argument outside its domain: which one, the value given, and what is
    /// allowed.
    #[error("invalid option `{option}` = {value}: expected {allowed}")]
    InvalidOption {
        /// Name of the option or argument.
        option: &'static str,
        /// The value given, as text.
        value: String,
        /// What is allowed.
        allowed: String,
    },
    /// Summaries of different dates, or overlapping customer sets, cannot be merged; nor
    /// can a summary and an update when only one of them has costs.
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
    /// A feature (or a combination of features) separates the positive from the negative
    /// labels, completely or for a subset of rows, so the likelihood of a logistic model
    /// has no maximum: its coefficient runs to infinity. Drop or merge the feature (a rare
    /// category level whose rows all share a label is the usual cause) or penalise the fit.
    #[error("`{feature}` separates the labels: {reason}")]
    Separation {
        /// The feature whose coefficient runs away.
        feature: String,
        /// What the fit saw.
        reason: String,
    },
    /// A computation whose output can explode (itemsets, rules, candidate pairs, cube
    /// cells) outgrew its budget and stopped early, before running the machine out of
    /// memory: what outgrew it, the budget, and what to change.
    #[error("stopped: {what} exceed the budget of {limit}; {advice}")]
    Budget {
        /// What was counted (`frequent itemsets`, `rules`, ...).
        what: &'static str,
        /// The budget.
        limit: u64,
        /// What to change: raise the minimum support, set a maximum length, ...
        advice: String,
    },
    /// A numerical procedure failed on the data: a singular matrix, no convergence.
    #[error("{procedure} failed: {reason}")]
    Numerical {
        /// The procedure that failed.
        procedure: &'static str,
        /// How it failed.
        reason: String,
    },
    /// A bad value in a row of Arrow record batches (or of a Parquet file read as them):
    /// the file when there is one, the batch, the row, the column and the value.
    #[error("{0}")]
    Batch(BatchError),
    /// A column of Arrow (or Parquet) input whose type cannot hold what the column means.
    #[error("column `{column}` has type {found}; expected {expected}")]
    ColumnType {
        /// The column.
        column: String,
        /// Its Arrow type, as text.
        found: String,
        /// The types that are read for it.
        expected: String,
    },
    /// An error reported by the Parquet reader or writer, or by the query engine
    /// (DataFusion, Ballista), kept as its message (the error stays `Clone + PartialEq`).
    #[error("{engine}: {message}")]
    Engine {
        /// Which library reported it (`parquet`, `datafusion`, `ballista`).
        engine: &'static str,
        /// Its message.
        message: String,
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

impl Error {
    /// An [`Error::InvalidOption`] from any displayable value.
    pub(crate) fn option(
        option: &'static str,
        value: impl fmt::Display,
        allowed: impl Into<String>,
    ) -> Error {
        Error::InvalidOption {
            option,
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }

    /// An [`Error::Row`] for `value` of `field` on `line` (the value truncated to 200
    /// characters).
    pub(crate) fn row(line: u64, field: impl Into<String>, value: &str, problem: Problem) -> Error {
        Error::Row(RowError {
            line,
            field: field.into(),
            value: value.chars().take(200).collect(),
            problem,
        })
    }

    /// An [`Error::BadValue`] from any displayable value.
    pub(crate) fn bad_value(
        input: impl Into<String>,
        row: usize,
        field: impl Into<String>,
        value: impl fmt::Display,
        expected: impl Into<String>,
    ) -> Error {
        Error::BadValue {
            input: input.into(),
            row,
            field: field.into(),
            value: value.to_string().chars().take(200).collect(),
            expected: expected.into(),
        }
    }

    /// Checks that `found` entries of `input` match the `expected` entries of `against`.
    pub(crate) fn check_len(
        input: &'static str,
        found: usize,
        expected: usize,
        against: &'static str,
    ) -> Result<()> {
        if found == expected {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                input,
                found,
                expected,
                against,
            })
        }
    }
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
        let message = e.to_string();
        let line = e.position().map_or(0, |p| p.line());
        let row = |field: String, value: String, problem| {
            Error::Row(RowError {
                line,
                field,
                value,
                problem,
            })
        };
        match e.into_kind() {
            csv::ErrorKind::Io(io) => io.into(),
            csv::ErrorKind::Utf8 { err, .. } => {
                row(format!("#{}", err.field()), String::new(), Problem::NotUtf8)
            }
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => row(
                String::new(),
                format!("{len} fields where the first line has {expected_len}"),
                Problem::FieldCount,
            ),
            _ => row(String::new(), message, Problem::Malformed),
        }
    }
}
