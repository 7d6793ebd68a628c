//! Aggregated touch paths from a `;`-separated file: the input of attribution when the
//! journeys were counted elsewhere.

use std::io::Read;
use std::path::Path;

use super::csv::LineCounter;
use super::touches::{find, missing, number, to_file};
use crate::data::{Paths, PathsBuilder};
use crate::error::{Error, Result};

/// The columns of an aggregated path file, in the order they are written.
pub const PATH_COLUMNS: [&str; 4] = [
    "path",
    "total_conversions",
    "total_conversion_value",
    "total_null",
];

/// Reads aggregated paths:
///
/// ```text
/// path;total_conversions;total_conversion_value;total_null
/// search > email > search;12;1450.5;40
/// display;0;0;310
/// ```
///
/// A header line, then one line per path, fields separated by `;` (the columns found by
/// name, in any order; others ignored). The channels of a path are separated by `>`,
/// with the spaces around them trimmed. Counts need not be whole. Identical paths are
/// merged (their counts added).
///
/// ```
/// use acrm::io::read_paths;
/// let file = "path;total_conversions;total_conversion_value;total_null\n\
///             search > email;3;300;7\n\
///             email;1;50;9\n\
///             search>email;1;20;0\n";
/// let paths = read_paths(file.as_bytes())?;
/// assert_eq!(paths.len(), 2);
/// assert_eq!(paths.channels().iter().collect::<Vec<_>>(), ["search", "email"]);
/// assert_eq!((paths.conversions(0), paths.value(0), paths.nulls(0)), (4.0, 320.0, 7.0));
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] for a column of [`PATH_COLUMNS`] not in the header;
/// [`Error::Row`] naming the file line (the header is line 1), the column and the
/// value of: a count that is empty, not a number, not finite or negative, a path
/// without channels or with an empty channel; a line with too few fields
/// ([`Problem::MissingField`](crate::Problem::MissingField)); [`Error::EmptyInput`]
/// without data lines; [`Error::Io`].
pub fn read_paths<R: Read>(reader: R) -> Result<Paths> {
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader.read_to_end(&mut bytes)?;
    let bytes = super::text::decode_bytes(&bytes)?;
    let mut lines_of = LineCounter::new(&bytes, 1);
    let mut rdr = csv::ReaderBuilder::new()
        .delimiter(b';')
        .has_headers(true)
        .flexible(true)
        .from_reader(&bytes[..]);
    let header: Vec<String> = rdr
        .headers()?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    let cols = PATH_COLUMNS
        .iter()
        .map(|c| find(&header, &[c]).ok_or_else(|| missing(c, &header)))
        .collect::<Result<Vec<usize>>>()?;
    let mut b = PathsBuilder::new();
    let mut lines = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
        let field = |c: usize| -> Result<&str> {
            rec.get(c).map(str::trim).ok_or_else(|| {
                Error::row(line, &header[c], "", crate::error::Problem::MissingField)
            })
        };
        let path = field(cols[0])?;
        let mut counts = [0.0; 3];
        for (k, count) in counts.iter_mut().enumerate() {
            *count = number(line, &header[cols[k + 1]], field(cols[k + 1])?)?;
        }
        let channels: Vec<&str> = if path.is_empty() {
            Vec::new()
        } else {
            path.split('>').map(str::trim).collect()
        };
        lines.push(line);
        b.push(&channels, counts[0], counts[1], counts[2])
            .map_err(|e| to_file(e, &lines, |_| None))?;
    }
    b.build()
}

/// Reads aggregated paths from a file (see [`read_paths`]).
///
/// # Errors
/// As [`read_paths`]; [`Error::Io`].
pub fn read_paths_path(path: impl AsRef<Path>) -> Result<Paths> {
    read_paths(std::fs::File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Problem;

    fn row(result: Result<impl std::fmt::Debug>) -> (u64, String, String, Problem) {
        match result.unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn path_errors_name_line_and_column() {
        let head = "path;total_conversions;total_conversion_value;total_null\n";
        let ok = "a > b;1;10;2\n";
        let bad = |line: &str| row(read_paths(format!("{head}{ok}\r\n{line}\n").as_bytes()));
        assert_eq!(
            bad("a;-1;0;2"),
            (
                4,
                "total_conversions".into(),
                "-1".into(),
                Problem::Negative
            )
        );
        assert_eq!(
            bad("a;1;x;2"),
            (
                4,
                "total_conversion_value".into(),
                "x".into(),
                Problem::BadNumber
            )
        );
        assert_eq!(
            bad("a;1;1;"),
            (4, "total_null".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("a;1;1;inf"),
            (4, "total_null".into(), "inf".into(), Problem::NonFinite)
        );
        assert_eq!(
            bad("a >  > b;1;1;1"),
            (4, "path".into(), "a >  > b".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad(";1;1;1"),
            (4, "path".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("a;1;1"),
            (4, "total_null".into(), "".into(), Problem::MissingField)
        );
        assert!(matches!(
            read_paths("path;total_conversions;total_null\na;1;1\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "total_conversion_value"
        ));
        assert_eq!(read_paths(head.as_bytes()).unwrap_err(), Error::EmptyInput);
    }
}
