//! Sales targets from CSV: one line per member and period, for plan versus actual.

use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;

use super::table::headed_reader;
use crate::data::Money;
use crate::error::{Error, Problem, Result, RowError};
use crate::performance::{Dim, TargetRecord, Targets, Window};

/// The columns of a targets file that are not dimensions.
const FIXED: [&str; 6] = ["period", "from", "until", "revenue", "units", "margin"];

fn row_error(line: u64, field: &str, value: &str, problem: Problem) -> Error {
    Error::Row(RowError {
        line,
        field: field.to_string(),
        value: value.chars().take(200).collect(),
        problem,
    })
}

/// Reads targets from a header CSV: `period,from,until` (a label and its first and last
/// day, `YYYY-MM-DD`), at least one of `revenue`, `units`, `margin` (empty = no target),
/// and one column per dimension, named as [`Dim::parse`] names them (`category`,
/// `product`, `channel`, `region`, `owner`), in the order the members are to be listed.
///
/// ```
/// use acrm::io::read_targets;
/// let csv = "product,region,period,from,until,revenue,units\n\
///            p1,north,Q1,2024-01-01,2024-03-31,1000,50\n\
///            p1,south,Q1,2024-01-01,2024-03-31,800,\n";
/// let t = read_targets(csv.as_bytes())?;
/// assert_eq!(t.dims().len(), 2);
/// assert_eq!(t.records()[1].members, ["p1", "south"]);
/// assert_eq!(t.records()[1].units, None);
/// assert_eq!(t.records()[0].revenue.unwrap().cents(), 100_000);
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] without `period`, `from` or `until`, or without any of
/// `revenue`, `units` and `margin` (named `revenue`); [`Error::Row`] naming the line
/// (the header is line 1), field and value of: a column that is not a dimension
/// ([`Problem::UnknownReference`], on line 1), an empty member or period, a date that is
/// not `YYYY-MM-DD`, an amount or unit count that is not a finite number, negative units,
/// and everything [`Targets::new`] checks; [`Error::InvalidOption`] `dims` for a period
/// column such as `month`; [`Error::EmptyInput`] without data rows.
pub fn read_targets<R: Read>(reader: R) -> Result<Targets> {
    let (mut rdr, header) = headed_reader(reader)?;
    let col = |name: &str| header.iter().position(|h| h == name);
    let required = |name: &str| {
        col(name).ok_or_else(|| Error::MissingColumn {
            column: name.to_string(),
            available: header.clone(),
        })
    };
    let (period, from, until) = (required("period")?, required("from")?, required("until")?);
    let (revenue, units, margin) = (col("revenue"), col("units"), col("margin"));
    if revenue.is_none() && units.is_none() && margin.is_none() {
        return Err(Error::MissingColumn {
            column: "revenue".into(),
            available: header.clone(),
        });
    }
    let mut dims = Vec::new();
    let mut dim_cols = Vec::new();
    for (c, name) in header.iter().enumerate() {
        if FIXED.contains(&name.as_str()) {
            continue;
        }
        let dim =
            Dim::parse(name).map_err(|_| row_error(1, name, name, Problem::UnknownReference))?;
        dims.push(dim);
        dim_cols.push(c);
    }
    let mut records = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let line = records.len() as u64 + 2;
        let field = |c: usize| rec.get(c).map_or("", str::trim);
        let nonempty = |c: usize| {
            let v = field(c);
            if v.is_empty() {
                Err(row_error(line, &header[c], v, Problem::EmptyValue))
            } else {
                Ok(v)
            }
        };
        let date = |c: usize| {
            let v = nonempty(c)?;
            NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .map_err(|_| row_error(line, &header[c], v, Problem::BadDate))
        };
        let number = |c: Option<usize>| -> Result<Option<f64>> {
            let Some(c) = c else { return Ok(None) };
            let v = field(c);
            if v.is_empty() {
                return Ok(None);
            }
            let x: f64 = v
                .parse()
                .map_err(|_| row_error(line, &header[c], v, Problem::BadNumber))?;
            if !x.is_finite() {
                return Err(row_error(line, &header[c], v, Problem::NonFinite));
            }
            Ok(Some(x))
        };
        let money = |c: Option<usize>| -> Result<Option<Money>> {
            match number(c)? {
                None => Ok(None),
                Some(x) => Money::from_units(x).map(Some).ok_or_else(|| {
                    let c = c.unwrap_or(0);
                    row_error(line, &header[c], field(c), Problem::OutOfRange)
                }),
            }
        };
        let members = dim_cols
            .iter()
            .map(|&c| nonempty(c).map(str::to_string))
            .collect::<Result<Vec<_>>>()?;
        let window = Window::new(nonempty(period)?, date(from)?, date(until)?);
        let u = number(units)?;
        if let (Some(x), Some(c)) = (u, units) {
            if x < 0.0 {
                return Err(row_error(line, &header[c], field(c), Problem::Negative));
            }
        }
        records.push(TargetRecord {
            members,
            period: window,
            revenue: money(revenue)?,
            units: u,
            margin: money(margin)?,
        });
    }
    if records.is_empty() {
        return Err(Error::EmptyInput);
    }
    // Errors of `Targets::new` name record positions; the file line is one more.
    Targets::new(dims, records).map_err(|e| match e {
        Error::Row(mut r) => {
            r.line += 1;
            Error::Row(r)
        }
        e => e,
    })
}

/// Reads targets from a file (see [`read_targets`]).
///
/// # Errors
/// As [`read_targets`]; [`Error::Io`].
pub fn read_targets_path(path: impl AsRef<Path>) -> Result<Targets> {
    read_targets(std::fs::File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(text: &str) -> (u64, String, String, Problem) {
        match read_targets(text.as_bytes()).unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn bad_lines_are_named() {
        let head = "product,period,from,until,revenue,units,margin\n";
        let ok = "p1,Q1,2024-01-01,2024-03-31,10,1,\n";
        let bad = |line: &str| row(&format!("{head}{ok}{line}\n"));
        assert_eq!(
            bad(",Q1,2024-01-01,2024-03-31,10,1,"),
            (3, "product".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("p2,Q1,2024-01-01,March,10,1,"),
            (3, "until".into(), "March".into(), Problem::BadDate)
        );
        assert_eq!(
            bad("p2,Q1,2024-01-01,2024-03-31,ten,1,"),
            (3, "revenue".into(), "ten".into(), Problem::BadNumber)
        );
        assert_eq!(
            bad("p2,Q1,2024-01-01,2024-03-31,10,-1,"),
            (3, "units".into(), "-1".into(), Problem::Negative)
        );
        assert_eq!(
            bad("p2,Q1,2024-01-01,2024-03-31,10,inf,"),
            (3, "units".into(), "inf".into(), Problem::NonFinite)
        );
        assert_eq!(
            bad("p1,Q1,2024-01-01,2024-03-31,20,2,"),
            (3, "period".into(), "Q1".into(), Problem::DuplicateId)
        );
        assert_eq!(
            bad("p2,Q1,2024-01-01,2024-06-30,20,2,"),
            (3, "period".into(), "Q1".into(), Problem::Conflict)
        );
        assert_eq!(
            bad("p2,Q2,2024-03-01,2024-06-30,20,2,"),
            (3, "from".into(), "2024-03-01".into(), Problem::Conflict)
        );
        assert_eq!(
            bad("p2,Q2,2024-06-30,2024-04-01,20,2,"),
            (
                3,
                "until".into(),
                "2024-04-01".into(),
                Problem::EndBeforeStart
            )
        );
        assert_eq!(
            bad("p2,Q2,2024-04-01,2024-06-30,,,"),
            (3, "revenue".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            row("sku,period,from,until,revenue\np1,Q1,2024-01-01,2024-03-31,1\n"),
            (1, "sku".into(), "sku".into(), Problem::UnknownReference)
        );
        assert!(matches!(
            read_targets("product,period,from,revenue\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "until"
        ));
        assert!(matches!(
            read_targets("product,period,from,until\np,Q,2024-01-01,2024-01-02\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "revenue"
        ));
        assert_eq!(
            read_targets(head.as_bytes()).unwrap_err(),
            Error::EmptyInput
        );
        assert!(matches!(
            read_targets(
                "month,period,from,until,revenue\n1,Q1,2024-01-01,2024-03-31,1\n".as_bytes()
            ),
            Err(Error::InvalidOption { option: "dims", .. })
        ));
    }
}
