//! Inputs of the discrete-time models from CSV: BG/BB histories (x transactions in n
//! opportunities, the last at t_x) and shifted-beta-geometric cohorts (customers still
//! renewing after each period).
//!
//! These files hold one row per distinct history or per cohort period, so they are small:
//! they are read into memory and parsed by the `csv` crate (quoted fields welcome), which
//! lets errors name physical lines (blank lines counted).

use std::io::Read;
use std::path::Path;

use hashbrown::HashMap;

use super::csv::LineCounter;
use super::table::headed_reader;
use super::text::{decode_bytes, Text};
use crate::error::{Error, Problem, Result, RowError};
use crate::persistency::{Cohort, DiscretePattern};
use crate::prospecting::Series;

/// The position of column `name` in the header.
fn column(header: &[String], name: &str) -> Result<usize> {
    header
        .iter()
        .position(|h| h == name)
        .ok_or_else(|| Error::MissingColumn {
            column: name.to_string(),
            available: header.to_vec(),
        })
}

/// A header CSV read whole: the reader past the header, the header's names, and the
/// physical line of each record.
struct Input<'b> {
    rdr: csv::Reader<Text<&'b [u8]>>,
    header: Vec<String>,
    lines: LineCounter<'b>,
    rec: csv::StringRecord,
}

impl<'b> Input<'b> {
    fn new(bytes: &'b [u8]) -> Result<Self> {
        let (rdr, header) = headed_reader(bytes)?;
        Ok(Input {
            rdr,
            header,
            lines: LineCounter::new(bytes, 1),
            rec: csv::StringRecord::new(),
        })
    }

    /// The next record, or `None` at the end.
    fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        if !self.rdr.read_record(&mut self.rec)? {
            return Ok(None);
        }
        let byte = self.rec.position().map_or(0, |p| p.byte() as usize);
        Ok(Some(Row {
            rec: &self.rec,
            header: &self.header,
            line: self.lines.line_at(byte),
        }))
    }
}

/// One data record, its physical line and the header, for checked numbers and errors
/// that name the line, column and value.
struct Row<'a> {
    rec: &'a csv::StringRecord,
    header: &'a [String],
    line: u64,
}

impl Row<'_> {
    fn error(&self, col: usize, value: &str, problem: Problem) -> Error {
        row_error(self.line, &self.header[col], value, problem)
    }

    /// A finite number ≥ 0.
    fn non_negative(&self, col: usize) -> Result<f64> {
        let raw = self.rec.get(col).unwrap_or("");
        let bad = |problem| self.error(col, raw, problem);
        let s = raw.trim();
        if s.is_empty() {
            return Err(bad(if col < self.rec.len() {
                Problem::EmptyValue
            } else {
                Problem::MissingField
            }));
        }
        let v: f64 = s.parse().map_err(|_| bad(Problem::BadNumber))?;
        if !v.is_finite() {
            return Err(bad(Problem::NonFinite));
        }
        if v < 0.0 {
            return Err(bad(Problem::Negative));
        }
        // -0 is 0 (and one cohort label, not two).
        Ok(v + 0.0)
    }

    /// A count: a whole number from 0 to `u32::MAX`, written `3` or `3.0`.
    fn count(&self, col: usize) -> Result<u32> {
        let v = self.non_negative(col)?;
        if v.fract() != 0.0 || v > f64::from(u32::MAX) {
            return Err(self.error(col, self.rec.get(col).unwrap_or(""), Problem::NotWhole));
        }
        Ok(v as u32)
    }
}

fn row_error(line: u64, field: &str, value: &str, problem: Problem) -> Error {
    Error::Row(RowError {
        line,
        field: field.to_string(),
        value: value.chars().take(200).collect(),
        problem,
    })
}

/// Reads BG/BB histories from a header CSV with columns `frequency,recency,periods` and
/// an optional `weights` (customers with that history, 1 without the column), in any
/// order and among other columns: one [`DiscretePattern`] per row, in file order. Counts
/// may be written as `3` or `3.0`.
///
/// ```
/// use acrm::io::read_discrete_patterns_csv;
/// let csv = "frequency,recency,periods,weights\n0,0,6,3464\n1,1,6,1091\n6,6,6,1203\n";
/// let patterns = read_discrete_patterns_csv(csv.as_bytes())?;
/// assert_eq!((patterns[1].x, patterns[1].t_x, patterns[1].n, patterns[1].count), (1, 1, 6, 1091));
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// Each row must be a history the model can produce (x ≤ t_x ≤ n, n ≥ 1, x = 0 exactly
/// when t_x = 0): else [`Problem::NotHistory`] names its line and column.
///
/// # Errors
/// [`Error::MissingColumn`] without a `frequency`, `recency` or `periods` column;
/// [`Error::Row`] naming the line, column and value of the first field that is empty
/// ([`Problem::EmptyValue`]), not a number ([`Problem::BadNumber`]), infinite or NaN
/// ([`Problem::NonFinite`]), negative ([`Problem::Negative`]), or fractional or above
/// `u32::MAX` ([`Problem::NotWhole`]), or of a malformed CSV line
/// ([`Problem::Malformed`]); [`Error::EmptyInput`] without data rows; [`Error::Io`].
pub fn read_discrete_patterns_csv<R: Read>(mut reader: R) -> Result<Vec<DiscretePattern>> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let bytes = decode_bytes(&bytes)?;
    let mut input = Input::new(&bytes)?;
    let header = &input.header;
    let (cx, ctx, cn) = (
        column(header, "frequency")?,
        column(header, "recency")?,
        column(header, "periods")?,
    );
    let cw = header.iter().position(|h| h == "weights");
    let mut patterns = Vec::new();
    while let Some(row) = input.next_row()? {
        let p = DiscretePattern {
            x: row.count(cx)?,
            t_x: row.count(ctx)?,
            n: row.count(cn)?,
            count: cw.map_or(Ok(1), |c| row.count(c))?,
        };
        // The fit checks this too, but here the line and the column can be named.
        if !p.is_history() {
            let (c, v) = if p.n < 1 || p.t_x > p.n {
                (
                    if p.n < 1 { cn } else { ctx },
                    if p.n < 1 { p.n } else { p.t_x },
                )
            } else {
                (cx, p.x)
            };
            return Err(row.error(c, &v.to_string(), Problem::NotHistory));
        }
        patterns.push(p);
    }
    if patterns.is_empty() {
        return Err(Error::EmptyInput);
    }
    Ok(patterns)
}

/// Reads BG/BB histories from a file (see [`read_discrete_patterns_csv`]).
///
/// # Errors
/// As [`read_discrete_patterns_csv`]; [`Error::Io`] when the file cannot be opened.
pub fn read_discrete_patterns_csv_path(path: impl AsRef<Path>) -> Result<Vec<DiscretePattern>> {
    read_discrete_patterns_csv(std::fs::File::open(path)?)
}

/// One cohort's rows as read: period, customers alive, line.
type CohortRows = Vec<(u32, u32, u64)>;

/// Reads cohorts for the shifted-beta-geometric model from a header CSV with columns
/// `period,alive` (one cohort) or `cohort,period,alive`: the customers of each cohort
/// still renewing after each period, period 0 being the customers who joined.
///
/// Cohorts come out in order of first appearance in the file; a cohort label is a number
/// ≥ 0 (`1` and `1.0` are one cohort). Within a cohort the rows may come in any order,
/// but its periods must run 0, 1, 2, … each once.
///
/// ```
/// use acrm::io::read_cohorts_csv;
/// let csv = "cohort,period,alive\n1,1,631\n1,0,1000\n2,0,1000\n2,1,869\n1,2,468\n";
/// let cohorts = read_cohorts_csv(csv.as_bytes())?;
/// assert_eq!(cohorts[0].alive(), [1000, 631, 468]);
/// assert_eq!(cohorts[1].alive(), [1000, 869]);
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] without a `period` or `alive` column; [`Error::Row`] naming
/// the line, column and value of
/// - while reading, the first field that is empty ([`Problem::EmptyValue`]), not a
///   number ([`Problem::BadNumber`]), infinite or NaN ([`Problem::NonFinite`]), negative
///   ([`Problem::Negative`]), or, for `period` and `alive`, fractional or above
///   `u32::MAX` ([`Problem::NotWhole`]); a malformed CSV line ([`Problem::Malformed`]);
/// - then, cohort by cohort in order of appearance, period by period: a period that
///   repeats or follows a gap ([`Problem::PeriodSequence`]; a cohort without period 0
///   reports its first period), more customers alive than in the period before
///   ([`Problem::SurvivorsIncrease`]), and a cohort with nobody in period 0 or with no
///   period after it ([`Problem::EmptyCohort`], on its period-0 row);
///
/// [`Error::EmptyInput`] without data rows; [`Error::Io`].
pub fn read_cohorts_csv<R: Read>(mut reader: R) -> Result<Vec<Cohort>> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let bytes = decode_bytes(&bytes)?;
    let mut input = Input::new(&bytes)?;
    let (cp, ca) = (
        column(&input.header, "period")?,
        column(&input.header, "alive")?,
    );
    let cc = input.header.iter().position(|h| h == "cohort");
    // Cohort label (as bits) → position in order of first appearance.
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut rows: Vec<CohortRows> = Vec::new();
    while let Some(row) = input.next_row()? {
        let label = cc.map_or(Ok(0.0), |c| row.non_negative(c))?;
        let (period, alive) = (row.count(cp)?, row.count(ca)?);
        let k = *index.entry(label.to_bits()).or_insert_with(|| {
            rows.push(Vec::new());
            rows.len() - 1
        });
        rows[k].push((period, alive, row.line));
    }
    if rows.is_empty() {
        return Err(Error::EmptyInput);
    }
    let (period_col, alive_col) = (&input.header[cp], &input.header[ca]);
    let mut cohorts = Vec::with_capacity(rows.len());
    for mut cohort in rows {
        // By period, then line: of two rows with one period, the later one is reported.
        cohort.sort_unstable_by_key(|&(period, _, line)| (period, line));
        for (k, &(period, alive, line)) in cohort.iter().enumerate() {
            if period as usize != k {
                let value = period.to_string();
                return Err(row_error(line, period_col, &value, Problem::PeriodSequence));
            }
            if k > 0 && alive > cohort[k - 1].1 {
                let value = alive.to_string();
                return Err(row_error(
                    line,
                    alive_col,
                    &value,
                    Problem::SurvivorsIncrease,
                ));
            }
        }
        let (_, first, line) = cohort[0];
        if first == 0 {
            return Err(row_error(line, alive_col, "0", Problem::EmptyCohort));
        }
        if cohort.len() < 2 {
            return Err(row_error(line, period_col, "0", Problem::EmptyCohort));
        }
        // The counts were checked above, so this cannot fail.
        cohorts.push(Cohort::new(
            cohort.iter().map(|&(_, a, _)| u64::from(a)).collect(),
        )?);
    }
    Ok(cohorts)
}

/// Reads cohorts from a file (see [`read_cohorts_csv`]).
///
/// # Errors
/// As [`read_cohorts_csv`]; [`Error::Io`] when the file cannot be opened.
pub fn read_cohorts_csv_path(path: impl AsRef<Path>) -> Result<Vec<Cohort>> {
    read_cohorts_csv(std::fs::File::open(path)?)
}

/// Reads a series of new customers per period (the input of a Bass fit) from a header
/// CSV: the column `period` holds the period numbers (whole, ≥ 1, increasing; gaps
/// allowed) and the column `values` the new customers of each (finite, ≥ 0), among any
/// other columns.
///
/// ```
/// use acrm::io::read_series_csv;
/// let csv = "t,web,store\n1,35,10\n2,42,12\n4,65,20\n";
/// let series = read_series_csv(csv.as_bytes(), "t", "web")?;
/// assert_eq!(series.periods(), [1.0, 2.0, 4.0]);
/// assert_eq!(series.values(), [35.0, 42.0, 65.0]);
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] without either column; [`Error::Row`] naming the line,
/// column and value of the first field that is empty ([`Problem::EmptyValue`]), not a
/// number ([`Problem::BadNumber`]), infinite or NaN ([`Problem::NonFinite`]), negative
/// ([`Problem::Negative`]), a fractional period ([`Problem::NotWhole`]), a period 0 or
/// not after the one before ([`Problem::PeriodOrder`]), or of a malformed CSV line
/// ([`Problem::Malformed`]); [`Error::EmptyInput`] without data rows; [`Error::Io`].
pub fn read_series_csv<R: Read>(mut reader: R, period: &str, values: &str) -> Result<Series> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    let bytes = decode_bytes(&bytes)?;
    let mut input = Input::new(&bytes)?;
    let (ct, cv) = (
        column(&input.header, period)?,
        column(&input.header, values)?,
    );
    let (mut periods, mut counts): (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
    while let Some(row) = input.next_row()? {
        let t = f64::from(row.count(ct)?);
        if t < 1.0 || periods.last().is_some_and(|&before| t <= before) {
            return Err(row.error(ct, row.rec.get(ct).unwrap_or(""), Problem::PeriodOrder));
        }
        periods.push(t);
        counts.push(row.non_negative(cv)?);
    }
    Series::with_periods(periods, counts)
}

/// Reads a series of new customers per period from a file (see [`read_series_csv`]).
///
/// # Errors
/// As [`read_series_csv`]; [`Error::Io`] when the file cannot be opened.
pub fn read_series_csv_path(path: impl AsRef<Path>, period: &str, values: &str) -> Result<Series> {
    read_series_csv(std::fs::File::open(path)?, period, values)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (line, field, value, problem) of a row error.
    fn row_err(e: Error) -> (u64, String, String, Problem) {
        match e {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("not a row error: {e}"),
        }
    }

    fn bad(
        line: u64,
        field: &str,
        value: &str,
        problem: Problem,
    ) -> (u64, String, String, Problem) {
        (line, field.into(), value.into(), problem)
    }

    fn pattern(x: u32, t_x: u32, n: u32, count: u32) -> DiscretePattern {
        DiscretePattern { x, t_x, n, count }
    }

    #[test]
    fn patterns_read_with_and_without_weights() {
        let p = read_discrete_patterns_csv(
            "frequency,recency,periods,weights\n0,0,6,3464\n1,1,6,1091\n2.0,5,6,\"12\"\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(
            p,
            [
                pattern(0, 0, 6, 3464),
                pattern(1, 1, 6, 1091),
                pattern(2, 5, 6, 12)
            ]
        );
        // Other columns, other order, blank lines, CRLF, no weights: one customer each.
        let p = read_discrete_patterns_csv(
            "id,periods,recency,frequency\r\na, 6 ,3,2\r\n\r\nb,6,0,0\r\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(p, [pattern(2, 3, 6, 1), pattern(0, 0, 6, 1)]);
    }

    #[test]
    fn patterns_name_each_kind_of_bad_row() {
        let err = |body: &str| {
            let text = format!("frequency,recency,periods,weights\n1,1,6,10\n{body}\n");
            row_err(read_discrete_patterns_csv(text.as_bytes()).unwrap_err())
        };
        assert_eq!(err("1,x,6,1"), bad(3, "recency", "x", Problem::BadNumber));
        assert_eq!(err("1,1,,1"), bad(3, "periods", "", Problem::EmptyValue));
        assert_eq!(
            err("inf,1,6,1"),
            bad(3, "frequency", "inf", Problem::NonFinite)
        );
        assert_eq!(
            err("1,1,6,NaN"),
            bad(3, "weights", "NaN", Problem::NonFinite)
        );
        assert_eq!(
            err("-1,1,6,1"),
            bad(3, "frequency", "-1", Problem::Negative)
        );
        assert_eq!(
            err("1,1.5,6,1"),
            bad(3, "recency", "1.5", Problem::NotWhole)
        );
        assert_eq!(
            err("1,1,6,5e9"),
            bad(3, "weights", "5e9", Problem::NotWhole)
        );
        // Lines are physical lines: the blank one counts.
        assert_eq!(err("\n1,x,6,1"), bad(4, "recency", "x", Problem::BadNumber));
        let crlf = "frequency,recency,periods\r\n1,1,6\r\n\r\n1,x,6\r\n";
        assert_eq!(
            row_err(read_discrete_patterns_csv(crlf.as_bytes()).unwrap_err()),
            bad(4, "recency", "x", Problem::BadNumber)
        );
        // A row with a field too few has the wrong number of fields.
        assert_eq!(err("1,1,6").3, Problem::FieldCount);
        assert_eq!(
            read_discrete_patterns_csv("frequency,periods\n1,6\n".as_bytes()).unwrap_err(),
            Error::MissingColumn {
                column: "recency".into(),
                available: vec!["frequency".into(), "periods".into()],
            }
        );
        assert_eq!(
            read_discrete_patterns_csv("frequency,recency,periods\n".as_bytes()).unwrap_err(),
            Error::EmptyInput
        );
    }

    #[test]
    fn cohorts_in_order_of_appearance_periods_in_any_order() {
        let c = read_cohorts_csv(
            "cohort,period,alive\n2,1,869\n1,0,1000\n2,0,1000\n1,2,468\n1.0,1,631\n2,2,743\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].alive(), [1000, 869, 743]);
        assert_eq!(c[1].alive(), [1000, 631, 468]);
        let one = read_cohorts_csv("period,alive\n2,326\n0,1000\n1,631.0\n".as_bytes()).unwrap();
        assert_eq!(one.len(), 1);
        assert_eq!(one[0].alive(), [1000, 631, 326]);
    }

    #[test]
    fn cohorts_name_each_kind_of_bad_row() {
        let err = |text: &str| row_err(read_cohorts_csv(text.as_bytes()).unwrap_err());
        let head = "cohort,period,alive\n1,0,100\n";
        let with = |body: &str| err(&format!("{head}{body}\n"));
        assert_eq!(
            with("1,1,many"),
            bad(3, "alive", "many", Problem::BadNumber)
        );
        assert_eq!(with("1,,90"), bad(3, "period", "", Problem::EmptyValue));
        assert_eq!(
            with("-inf,1,90"),
            bad(3, "cohort", "-inf", Problem::NonFinite)
        );
        assert_eq!(with("-2,1,90"), bad(3, "cohort", "-2", Problem::Negative));
        assert_eq!(with("1,1,-90"), bad(3, "alive", "-90", Problem::Negative));
        assert_eq!(with("1,0.5,90"), bad(3, "period", "0.5", Problem::NotWhole));
        // A gap: period 2 without period 1; a repeated period: the later line.
        assert_eq!(
            with("1,2,90"),
            bad(3, "period", "2", Problem::PeriodSequence)
        );
        assert_eq!(
            with("1,1,90\n1,1,80"),
            bad(4, "period", "1", Problem::PeriodSequence)
        );
        // A cohort without period 0 reports its first period.
        assert_eq!(
            with("1,1,90\n2,1,50\n2,2,40"),
            bad(4, "period", "1", Problem::PeriodSequence)
        );
        assert_eq!(
            with("1,2,95\n1,1,90"),
            bad(3, "alive", "95", Problem::SurvivorsIncrease)
        );
        assert_eq!(
            err("period,alive\n0,0\n1,0\n"),
            bad(2, "alive", "0", Problem::EmptyCohort)
        );
        assert_eq!(
            with("1,1,90\n2,0,50"),
            bad(4, "period", "0", Problem::EmptyCohort)
        );
        assert_eq!(
            read_cohorts_csv("cohort,period\n1,0\n".as_bytes()).unwrap_err(),
            Error::MissingColumn {
                column: "alive".into(),
                available: vec!["cohort".into(), "period".into()],
            }
        );
        assert_eq!(
            read_cohorts_csv("period,alive\n".as_bytes()).unwrap_err(),
            Error::EmptyInput
        );
    }
}
