//! Touch logs from CSV: who was touched through which channel when, and which touches
//! converted — the input of multi-touch attribution.

use std::io::Read;
use std::path::Path;

use super::csv::LineCounter;
use super::table::headed_reader;
use crate::data::{TouchRecord, Touches};
use crate::error::{Error, Problem, Result};
use crate::time::{DateFormat, Timestamp};

/// The first of `names` in the header.
pub(super) fn find(header: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h == n))
}

pub(super) fn missing(column: &str, header: &[String]) -> Error {
    Error::MissingColumn {
        column: column.to_string(),
        available: header.to_vec(),
    }
}

/// Maps an error of a store built from records (numbered by position, fields named as
/// the record's) to the file: its line and the column name the file used.
pub(super) fn to_file(e: Error, lines: &[u64], rename: impl Fn(&str) -> Option<String>) -> Error {
    match e {
        Error::Row(mut r) => {
            if let Some(&l) = (r.line as usize).checked_sub(1).and_then(|i| lines.get(i)) {
                r.line = l;
            }
            if let Some(name) = rename(&r.field) {
                r.field = name;
            }
            Error::Row(r)
        }
        e => e,
    }
}

/// A number, or the row error naming the line, column and value.
pub(super) fn number(line: u64, column: &str, v: &str) -> Result<f64> {
    if v.is_empty() {
        return Err(Error::row(line, column, v, Problem::EmptyValue));
    }
    v.parse()
        .map_err(|_| Error::row(line, column, v, Problem::BadNumber))
}

/// Reads a touch log from a header CSV.
///
/// One row per touch, with a header. Columns, by name (any order):
///
/// | column | required | meaning |
/// |---|---|---|
/// | `customer_id` (or `customer`) | yes | the customer's external id |
/// | `time` (or `timestamp`, `date`) | yes | `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` (UTC) or RFC 3339 |
/// | `channel` | yes | the channel of the touch |
/// | `campaign` | no | the campaign it belongs to |
/// | `cost` | no | what it cost (≥ 0; empty = unknown) |
/// | `conversion` | no | conversion marker: `1`/`0` (`true`/`false`, `yes`/`no`; empty = 0): the customer converted at this touch |
/// | `value` (or `conversion_value`) | no | the conversion's value (≥ 0; only on a marked touch) |
///
/// Other columns are ignored.
///
/// ```
/// use acrm::data::{Conversions, Paths};
/// use acrm::io::read_touches;
/// let csv = "customer_id,time,channel,conversion,value\n\
///            ann,2024-03-01,search,0,\n\
///            ann,2024-03-04,email,1,120\n\
///            bob,2024-03-02,display,0,\n";
/// let touches = read_touches(csv.as_bytes())?;
/// let paths = Paths::from_touches(&touches.everyone(), Conversions::Marked)?;
/// assert_eq!((paths.len(), paths.total_conversions(), paths.total_value()), (2, 1.0, 120.0));
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] without a customer, time or channel column; [`Error::Row`]
/// naming the file line (the header is line 1), the column and the value of: a time that
/// is not a date or date-time ([`Problem::BadDate`]), a cost or value that is not a
/// number ([`Problem::BadNumber`]), a marker that is not a flag ([`Problem::NotFlag`]),
/// and everything [`Touches::new`] checks (an empty customer or channel, a negative or
/// non-finite cost or value, a value on a touch not marked as a conversion);
/// [`Error::EmptyInput`] without data rows; [`Error::Io`].
pub fn read_touches<R: Read>(reader: R) -> Result<Touches> {
    // Read whole, so that errors name physical lines (the csv crate's positions are
    // before the blank lines it skips).
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader.read_to_end(&mut bytes)?;
    let mut lines_of = LineCounter::new(&bytes, 1);
    let bytes = super::text::decode_bytes(&bytes)?;
    let (mut rdr, header) = headed_reader(&bytes[..])?;
    let customer = find(&header, &["customer_id", "customer"])
        .ok_or_else(|| missing("customer_id", &header))?;
    let time =
        find(&header, &["time", "timestamp", "date"]).ok_or_else(|| missing("time", &header))?;
    let channel = find(&header, &["channel"]).ok_or_else(|| missing("channel", &header))?;
    let campaign = find(&header, &["campaign"]);
    let cost = find(&header, &["cost"]);
    let conversion = find(&header, &["conversion"]);
    let value = find(&header, &["value", "conversion_value"]);
    let mut records = Vec::new();
    let mut lines = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
        let field = |c: usize| rec.get(c).map_or("", str::trim);
        let optional = |c: Option<usize>| c.map(field).filter(|v| !v.is_empty());
        let amount = |c: Option<usize>| -> Result<Option<f64>> {
            match (c, optional(c)) {
                (Some(c), Some(v)) => number(line, &header[c], v).map(Some),
                _ => Ok(None),
            }
        };
        let t = field(time);
        let at = Timestamp::parse(t, &DateFormat::Auto)
            .ok_or_else(|| Error::row(line, &header[time], t, Problem::BadDate))?;
        let converted = match (conversion, optional(conversion)) {
            (Some(c), Some(v)) => match v.to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "y" => true,
                "0" | "false" | "no" | "n" => false,
                _ => return Err(Error::row(line, &header[c], v, Problem::NotFlag)),
            },
            _ => false,
        };
        records.push(TouchRecord {
            customer_id: field(customer).to_string(),
            time: at,
            channel: field(channel).to_string(),
            campaign: optional(campaign).map(str::to_string),
            cost: amount(cost)?,
            conversion: converted,
            value: amount(value)?,
        });
        lines.push(line);
    }
    if records.is_empty() {
        return Err(Error::EmptyInput);
    }
    Touches::new(records).map_err(|e| {
        to_file(e, &lines, |f| match f {
            "customer_id" => Some(header[customer].clone()),
            "channel" => Some(header[channel].clone()),
            "cost" => cost.map(|c| header[c].clone()),
            "value" => value.map(|c| header[c].clone()),
            _ => None,
        })
    })
}

/// Reads a touch log from a file (see [`read_touches`]).
///
/// # Errors
/// As [`read_touches`]; [`Error::Io`].
pub fn read_touches_path(path: impl AsRef<Path>) -> Result<Touches> {
    read_touches(std::fs::File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(result: Result<impl std::fmt::Debug>) -> (u64, String, String, Problem) {
        match result.unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn touch_errors_name_line_and_column() {
        let head = "customer,date,channel,cost,conversion,conversion_value\n";
        let ok = "a,2024-01-01,search,1.5,0,\n";
        // A blank line before the bad one: physical lines are counted.
        let bad = |line: &str| row(read_touches(format!("{head}{ok}\n{line}\n").as_bytes()));
        assert_eq!(
            bad("b,2024-02-30,search,,0,"),
            (4, "date".into(), "2024-02-30".into(), Problem::BadDate)
        );
        assert_eq!(
            bad("b,2024-02-03,search,x,0,"),
            (4, "cost".into(), "x".into(), Problem::BadNumber)
        );
        assert_eq!(
            bad("b,2024-02-03,search,-1,0,"),
            (4, "cost".into(), "-1".into(), Problem::Negative)
        );
        assert_eq!(
            bad("b,2024-02-03,search,,2,"),
            (4, "conversion".into(), "2".into(), Problem::NotFlag)
        );
        assert_eq!(
            bad("b,2024-02-03,search,,0,10"),
            (4, "conversion_value".into(), "10".into(), Problem::Conflict)
        );
        assert_eq!(
            bad("b,2024-02-03,,,0,"),
            (4, "channel".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad(",2024-02-03,search,,0,"),
            (4, "customer".into(), "".into(), Problem::EmptyValue)
        );
        assert!(matches!(
            read_touches("customer_id,time\na,2024-01-01\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "channel"
        ));
        assert_eq!(
            read_touches(head.as_bytes()).unwrap_err(),
            Error::EmptyInput
        );
    }
}
