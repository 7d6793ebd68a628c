//! Spend and incremental outcome of past campaigns from CSV: the input of the response
//! curves and the budget allocation.

use std::io::Read;
use std::path::Path;

use super::csv::LineCounter;
use super::table::headed_reader;
use crate::data::{SpendHistory, SpendRecord};
use crate::error::{Error, Problem, Result};

/// Reads past campaigns' spend and incremental outcome from a header CSV.
///
/// | column | meaning |
/// |---|---|
/// | `group` | the campaign type or channel |
/// | `spend` | what was spent (a finite number ≥ 0) |
/// | `outcome` | the incremental outcome (a finite number, in one unit across groups) |
///
/// Other columns are ignored.
///
/// ```
/// use acrm::io::read_spend_history;
/// let csv = "group,spend,outcome\nmail,100,40.5\nsearch,250,90\nmail,300,70\n";
/// let history = read_spend_history(csv.as_bytes())?;
/// assert_eq!(history.groups().len(), 2);
/// assert_eq!(history.group("mail").unwrap().outcome, [40.5, 70.0]);
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] without `group`, `spend` or `outcome`; [`Error::Row`]
/// naming the file line (the header is line 1), the column and the value of an empty
/// field ([`Problem::EmptyValue`]), one that is not a number ([`Problem::BadNumber`]),
/// not finite ([`Problem::NonFinite`]), or a negative spend ([`Problem::Negative`]);
/// [`Error::EmptyInput`] without data rows; [`Error::Io`].
pub fn read_spend_history<R: Read>(reader: R) -> Result<SpendHistory> {
    // Read whole, so that errors name physical lines (the csv crate's positions are
    // before the blank lines it skips).
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader.read_to_end(&mut bytes)?;
    let mut lines_of = LineCounter::new(&bytes, 1);
    let bytes = super::text::decode_bytes(&bytes)?;
    let (mut rdr, header) = headed_reader(&bytes[..])?;
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::MissingColumn {
                column: name.to_string(),
                available: header.clone(),
            })
    };
    let (group, spend, outcome) = (column("group")?, column("spend")?, column("outcome")?);
    let mut records = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
        let field = |c: usize| rec.get(c).map_or("", str::trim);
        let number = |c: usize| -> Result<f64> {
            let v = field(c);
            if v.is_empty() {
                return Err(Error::row(line, &header[c], v, Problem::EmptyValue));
            }
            let x: f64 = v
                .parse()
                .map_err(|_| Error::row(line, &header[c], v, Problem::BadNumber))?;
            if !x.is_finite() {
                return Err(Error::row(line, &header[c], v, Problem::NonFinite));
            }
            Ok(x)
        };
        let g = field(group);
        if g.is_empty() {
            return Err(Error::row(line, &header[group], g, Problem::EmptyValue));
        }
        let s = number(spend)?;
        if s < 0.0 {
            return Err(Error::row(
                line,
                &header[spend],
                field(spend),
                Problem::Negative,
            ));
        }
        records.push(SpendRecord {
            group: g.to_string(),
            spend: s,
            outcome: number(outcome)?,
        });
    }
    if records.is_empty() {
        return Err(Error::EmptyInput);
    }
    // Every rule SpendHistory checks was checked above with the file's line.
    SpendHistory::new(records)
}

/// Reads spend history from a file (see [`read_spend_history`]).
///
/// # Errors
/// As [`read_spend_history`]; [`Error::Io`].
pub fn read_spend_history_path(path: impl AsRef<Path>) -> Result<SpendHistory> {
    read_spend_history(std::fs::File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(result: Result<SpendHistory>) -> (u64, String, String, Problem) {
        match result.unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn errors_name_line_and_column() {
        let head = "group,spend,outcome,note\n";
        let ok = "tv,10,3,x\n";
        let bad = |line: &str| {
            row(read_spend_history(
                format!("{head}{ok}\n{line}\n").as_bytes(),
            ))
        };
        // The blank line counts: the bad row is physical line 4.
        assert_eq!(
            bad("tv,ten,3,"),
            (4, "spend".into(), "ten".into(), Problem::BadNumber)
        );
        assert_eq!(
            bad("tv,,3,"),
            (4, "spend".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("tv,-2,3,"),
            (4, "spend".into(), "-2".into(), Problem::Negative)
        );
        assert_eq!(
            bad("tv,inf,3,"),
            (4, "spend".into(), "inf".into(), Problem::NonFinite)
        );
        assert_eq!(
            bad("tv,1,NaN,"),
            (4, "outcome".into(), "NaN".into(), Problem::NonFinite)
        );
        assert_eq!(
            bad(",1,2,"),
            (4, "group".into(), "".into(), Problem::EmptyValue)
        );
        assert!(matches!(
            read_spend_history("group,spend\na,1\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "outcome"
        ));
        assert_eq!(
            read_spend_history(head.as_bytes()).unwrap_err(),
            Error::EmptyInput
        );
    }
}
