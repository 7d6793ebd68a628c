//! Sales opportunities and their stage histories from CSV.
//!
//! The opportunities file has a header with the required columns `opp_id` (or `id`),
//! `stage`, `amount` and `close_date` (the expected close date; `expected_close` is
//! accepted too), and the optional columns `probability` (in [0, 1]; empty = none),
//! `owner`, `customer`, `product`, `created`, `status` (`open`, `won`, `lost`, also
//! `closed won` and the like; empty or absent = open), `closed` (the day a closed deal
//! closed) and `loss_reason`. Every other column becomes a named attribute (empty values
//! are absent). Dates are `YYYY-MM-DD` (or the other shapes of
//! [`DateFormat::Auto`](crate::time::DateFormat::Auto)).
//!
//! The stage-history file has the columns `opportunity`, `stage`, `entered` and
//! optionally `expected_close`.
//!
//! Every error names the line of its file (the header is line 1), the column as the
//! header names it, and the value.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;

use super::csv::LineCounter;
use super::table::headed_reader;
use crate::data::{DealStatus, Opportunities, OpportunityRecord, StageRecord};
use crate::error::{Error, Problem, Result, RowError};
use crate::time::DateFormat;

fn row_error(line: u64, field: &str, value: &str, problem: Problem) -> Error {
    Error::Row(RowError {
        line,
        field: field.to_string(),
        value: value.chars().take(200).collect(),
        problem,
    })
}

/// The column of the first of `names` the header holds.
fn find(header: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h == n))
}

fn require(header: &[String], names: &[&str]) -> Result<usize> {
    find(header, names).ok_or_else(|| Error::MissingColumn {
        column: names[0].to_string(),
        available: header.to_vec(),
    })
}

/// Typed access to the fields of one record, naming the line and column on error.
struct Fields<'a> {
    rec: &'a csv::StringRecord,
    header: &'a [String],
    line: u64,
}

impl Fields<'_> {
    fn text(&self, c: usize) -> &str {
        self.rec.get(c).map_or("", str::trim)
    }

    fn opt_text(&self, c: Option<usize>) -> Option<String> {
        c.map(|c| self.text(c))
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    }

    fn error(&self, c: usize, problem: Problem) -> Error {
        row_error(self.line, &self.header[c], self.text(c), problem)
    }

    fn nonempty(&self, c: usize) -> Result<&str> {
        let v = self.text(c);
        if v.is_empty() {
            Err(self.error(c, Problem::EmptyValue))
        } else {
            Ok(v)
        }
    }

    fn number(&self, c: usize) -> Result<f64> {
        let x: f64 = self
            .nonempty(c)?
            .parse()
            .map_err(|_| self.error(c, Problem::BadNumber))?;
        if x.is_finite() {
            Ok(x)
        } else {
            Err(self.error(c, Problem::NonFinite))
        }
    }

    fn date(&self, c: usize) -> Result<NaiveDate> {
        let v = self.nonempty(c)?;
        DateFormat::Auto
            .parse(v.as_bytes())
            .map(|t| t.date())
            .ok_or_else(|| self.error(c, Problem::BadDate))
    }

    fn opt_date(&self, c: Option<usize>) -> Result<Option<NaiveDate>> {
        match c {
            Some(c) if !self.text(c).is_empty() => self.date(c).map(Some),
            _ => Ok(None),
        }
    }
}

/// Opportunity records read from CSV, with the file line of each.
struct Read0 {
    records: Vec<OpportunityRecord>,
    lines: Vec<u64>,
    /// Header names of the id, expected close and closed columns, for errors of the store.
    id: String,
    close: String,
    closed: String,
}

fn read_records<R: Read>(reader: R) -> Result<Read0> {
    // Read whole, so that errors name physical lines (the csv crate's positions are
    // before the blank lines it skips).
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader.read_to_end(&mut bytes)?;
    let mut lines_of = LineCounter::new(&bytes, 1);
    let bytes = super::text::decode_bytes(&bytes)?;
    let (mut rdr, header) = headed_reader(&bytes[..])?;
    let id = require(&header, &["opp_id", "id"])?;
    let stage = require(&header, &["stage"])?;
    let amount = require(&header, &["amount"])?;
    let close = require(&header, &["close_date", "expected_close"])?;
    let probability = find(&header, &["probability"]);
    let owner = find(&header, &["owner"]);
    let customer = find(&header, &["customer", "customer_id"]);
    let product = find(&header, &["product"]);
    let created = find(&header, &["created"]);
    let status = find(&header, &["status"]);
    let closed = find(&header, &["closed"]);
    let reason = find(&header, &["loss_reason"]);
    let known: Vec<usize> = [
        Some(id),
        Some(stage),
        Some(amount),
        Some(close),
        probability,
        owner,
        customer,
        product,
        created,
        status,
        closed,
        reason,
    ]
    .into_iter()
    .flatten()
    .collect();
    let extra: Vec<usize> = (0..header.len()).filter(|c| !known.contains(c)).collect();
    let mut out = Read0 {
        records: Vec::new(),
        lines: Vec::new(),
        id: header[id].clone(),
        close: header[close].clone(),
        closed: closed.map_or("closed".to_string(), |c| header[c].clone()),
    };
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
        let f = Fields {
            rec: &rec,
            header: &header,
            line,
        };
        let status = match status.map(|c| (c, f.text(c))) {
            Some((c, v)) if !v.is_empty() => v
                .parse::<DealStatus>()
                .map_err(|_| f.error(c, Problem::BadStatus))?,
            _ => DealStatus::Open,
        };
        let probability = match probability {
            Some(c) if !f.text(c).is_empty() => Some(f.number(c)?),
            _ => None,
        };
        let attributes: BTreeMap<String, String> = extra
            .iter()
            .filter(|&&c| !f.text(c).is_empty())
            .map(|&c| (header[c].clone(), f.text(c).to_string()))
            .collect();
        out.records.push(OpportunityRecord {
            id: f.nonempty(id)?.to_string(),
            customer: f.opt_text(customer),
            owner: f.opt_text(owner),
            stage: f.nonempty(stage)?.to_string(),
            amount: f.number(amount)?,
            probability,
            product: f.opt_text(product),
            created: f.opt_date(created)?,
            expected_close: f.date(close)?,
            status,
            closed: f.opt_date(closed)?,
            loss_reason: f.opt_text(reason),
            attributes,
        });
        out.lines.push(line);
    }
    if out.records.is_empty() {
        return Err(Error::EmptyInput);
    }
    Ok(out)
}

fn read_history<R: Read>(reader: R) -> Result<(Vec<StageRecord>, Vec<u64>)> {
    // Read whole, so that errors name physical lines (the csv crate's positions are
    // before the blank lines it skips).
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader.read_to_end(&mut bytes)?;
    let mut lines_of = LineCounter::new(&bytes, 1);
    let bytes = super::text::decode_bytes(&bytes)?;
    let (mut rdr, header) = headed_reader(&bytes[..])?;
    let opp = require(&header, &["opportunity", "opp_id"])?;
    let stage = require(&header, &["stage"])?;
    let entered = require(&header, &["entered"])?;
    let expected = find(&header, &["expected_close", "close_date"]);
    let (mut rows, mut lines) = (Vec::new(), Vec::new());
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
        let f = Fields {
            rec: &rec,
            header: &header,
            line,
        };
        rows.push(StageRecord {
            opportunity: f.nonempty(opp)?.to_string(),
            stage: f.nonempty(stage)?.to_string(),
            entered: f.date(entered)?,
            expected_close: f.opt_date(expected)?,
        });
        lines.push(line);
    }
    Ok((rows, lines))
}

/// Builds the store, moving the record positions of its errors to file lines and its
/// field names to the file's column names.
fn build(opps: Read0, history: Vec<StageRecord>) -> Result<Opportunities> {
    let Read0 {
        records,
        lines,
        id,
        close,
        closed,
    } = opps;
    // The store names a closed deal's close date `close_date`; when the record has no
    // `closed` value, that date is the expected close date of the file's `close_date`.
    let has_closed: Vec<bool> = records.iter().map(|r| r.closed.is_some()).collect();
    Opportunities::new(records, history).map_err(|e| match e {
        Error::Row(mut r) => {
            let i = (r.line as usize).saturating_sub(1);
            r.field = match r.field.as_str() {
                "id" => id.clone(),
                "close_date" if has_closed.get(i).copied().unwrap_or(false) => closed.clone(),
                "close_date" => close.clone(),
                _ => r.field,
            };
            r.line = lines.get(i).copied().unwrap_or(r.line);
            Error::Row(r)
        }
        e => e,
    })
}

/// Reads opportunities (without stage histories) from CSV.
///
/// The file has a header with the required columns `opp_id` (or `id`), `stage`,
/// `amount` and `close_date` (the expected close date; `expected_close` is accepted
/// too), and the optional columns `probability` (in [0, 1]; empty = none), `owner`,
/// `customer`, `product`, `created`, `status` (`open`, `won`, `lost`, also `closed won`
/// and the like; empty or absent = open), `closed` (the day a closed deal closed) and
/// `loss_reason`. Every other column becomes a named attribute (empty values are
/// absent). Dates are `YYYY-MM-DD` (or another shape of
/// [`DateFormat::Auto`](crate::time::DateFormat::Auto)). Errors name the file's
/// physical line (the header is line 1, blank lines count).
///
/// ```
/// use acrm::data::Scope;
/// use acrm::io::read_opportunities;
/// let csv = "opp_id,stage,amount,probability,close_date,owner,region\n\
///            o1,proposal,1000,0.5,2024-10-03,ann,north\n\
///            o2,prospect,400,,2024-10-20,bob,\n";
/// let opps = read_opportunities(csv.as_bytes())?;
/// let view = opps.view(&Scope::all());
/// assert_eq!(view.probability(1), None);
/// assert_eq!(view.attribute(0, "region"), Some("north"));
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] without one of the required columns; [`Error::Row`] naming
/// the file line (the header is line 1), column and value of an empty required field, a
/// number or date that does not parse, a status other than open / won / lost, and
/// everything [`Opportunities::new`] checks (a repeated id, a negative amount, a
/// probability outside [0, 1], a `closed` date on an open deal or before `created`);
/// [`Error::EmptyInput`] without data rows.
pub fn read_opportunities<R: Read>(reader: R) -> Result<Opportunities> {
    build(read_records(reader)?, Vec::new())
}

/// Reads opportunities and their stage histories from two CSV files: the opportunities
/// as [`read_opportunities`] reads them, and a history with the columns `opportunity`,
/// `stage`, `entered` and optionally `expected_close`.
///
/// # Errors
/// As [`read_opportunities`], and for the history: [`Error::MissingColumn`] without
/// `opportunity`, `stage` or `entered`; [`Error::Row`] naming the history's line, column
/// and value of an empty field, a date that does not parse, an opportunity not in the
/// opportunities ([`Problem::UnknownReference`]) or a stage entered before the
/// opportunity was created ([`Problem::DateOrder`]). A field named `stage` may thus be
/// of either file; the history's own columns are `opportunity`, `entered` and
/// `expected_close`.
pub fn read_opportunities_with_history<R: Read, H: Read>(
    opportunities: R,
    history: H,
) -> Result<Opportunities> {
    let opps = read_records(opportunities)?;
    let (rows, lines) = read_history(history)?;
    // The store checks the history after the opportunities and names history rows by
    // position; check them here so that errors name the history file's lines.
    let created: HashMap<&str, Option<NaiveDate>> = opps
        .records
        .iter()
        .map(|r| (r.id.as_str(), r.created))
        .collect();
    for (r, &line) in rows.iter().zip(&lines) {
        match created.get(r.opportunity.as_str()) {
            None => {
                return Err(row_error(
                    line,
                    "opportunity",
                    &r.opportunity,
                    Problem::UnknownReference,
                ))
            }
            Some(Some(c)) if r.entered < *c => {
                return Err(row_error(
                    line,
                    "entered",
                    &r.entered.to_string(),
                    Problem::DateOrder,
                ))
            }
            _ => {}
        }
    }
    build(opps, rows)
}

/// Reads opportunities from a file (see [`read_opportunities`]).
///
/// # Errors
/// As [`read_opportunities`]; [`Error::Io`].
pub fn read_opportunities_path(path: impl AsRef<Path>) -> Result<Opportunities> {
    read_opportunities(std::fs::File::open(path)?)
}

/// Reads opportunities and their stage histories from two files (see
/// [`read_opportunities_with_history`]).
///
/// # Errors
/// As [`read_opportunities_with_history`]; [`Error::Io`].
pub fn read_opportunities_with_history_path(
    opportunities: impl AsRef<Path>,
    history: impl AsRef<Path>,
) -> Result<Opportunities> {
    read_opportunities_with_history(
        std::fs::File::open(opportunities)?,
        std::fs::File::open(history)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(opps: &str, history: Option<&str>) -> (u64, String, String, Problem) {
        let e = match history {
            None => read_opportunities(opps.as_bytes()),
            Some(h) => read_opportunities_with_history(opps.as_bytes(), h.as_bytes()),
        };
        match e.unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn bad_lines_are_named_by_file_line_and_column() {
        let head = "id,stage,amount,probability,close_date,status,closed,created\n";
        let ok = "o1,proposal,10,0.5,2024-10-03,open,,\n";
        let bad = |line: &str| row(&format!("{head}{ok}{line}\n"), None);
        assert_eq!(
            bad("o2,proposal,ten,0.5,2024-10-03,open,,"),
            (3, "amount".into(), "ten".into(), Problem::BadNumber)
        );
        assert_eq!(
            bad("o2,proposal,10,0.5,2024-13-03,open,,"),
            (
                3,
                "close_date".into(),
                "2024-13-03".into(),
                Problem::BadDate
            )
        );
        assert_eq!(
            bad("o2,proposal,10,0.5,2024-10-03,maybe,,"),
            (3, "status".into(), "maybe".into(), Problem::BadStatus)
        );
        assert_eq!(
            bad("o2,,10,0.5,2024-10-03,open,,"),
            (3, "stage".into(), "".into(), Problem::EmptyValue)
        );
        // Errors of the store, moved from record positions to file lines and columns.
        assert_eq!(
            bad("o1,proposal,10,0.5,2024-10-03,open,,"),
            (3, "id".into(), "o1".into(), Problem::DuplicateId)
        );
        assert_eq!(
            bad("o2,proposal,10,1.5,2024-10-03,open,,"),
            (
                3,
                "probability".into(),
                "1.5".into(),
                Problem::NotProbability
            )
        );
        assert_eq!(
            bad("o2,proposal,-1,0.5,2024-10-03,open,,"),
            (3, "amount".into(), "-1".into(), Problem::Negative)
        );
        assert_eq!(
            bad("o2,proposal,1,0.5,2024-10-03,open,2024-10-04,"),
            (3, "closed".into(), "2024-10-04".into(), Problem::Conflict)
        );
        assert_eq!(
            bad("o2,proposal,1,0.5,2024-10-03,won,2024-09-04,2024-09-10"),
            (3, "closed".into(), "2024-09-04".into(), Problem::DateOrder)
        );
        assert_eq!(
            bad("o2,proposal,1,0.5,2024-09-03,won,,2024-09-10"),
            (
                3,
                "close_date".into(),
                "2024-09-03".into(),
                Problem::DateOrder
            )
        );
        // A quoted field over two lines: the next record's line is the file's.
        let quoted =
            format!("{head}\"o2\nx\",proposal,1,0.5,2024-10-03,open,,\no3,p,z,,2024-10-03,,,\n");
        assert_eq!(
            row(&quoted, None),
            (4, "amount".into(), "z".into(), Problem::BadNumber)
        );
        let opps = format!(
            "opp_id,stage,amount,close_date,created\n{ok_o}",
            ok_o = "o1,a,1,2024-10-03,2024-09-01\n"
        );
        let h = "opportunity,stage,entered\no1,a,2024-09-02\n";
        assert_eq!(
            row(&opps, Some(&format!("{h}o9,a,2024-09-02\n"))),
            (
                3,
                "opportunity".into(),
                "o9".into(),
                Problem::UnknownReference
            )
        );
        assert_eq!(
            row(&opps, Some(&format!("{h}o1,b,2024-08-02\n"))),
            (3, "entered".into(), "2024-08-02".into(), Problem::DateOrder)
        );
        assert_eq!(
            row(&opps, Some(&format!("{h}o1,b,yesterday\n"))),
            (3, "entered".into(), "yesterday".into(), Problem::BadDate)
        );
        assert!(matches!(
            read_opportunities("opp_id,stage,close_date\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "amount"
        ));
        assert_eq!(
            read_opportunities("opp_id,stage,amount,close_date\n".as_bytes()).unwrap_err(),
            Error::EmptyInput
        );
    }
}
