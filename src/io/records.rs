//! Customer records of one source from CSV: the input of identity resolution.

use std::io::Read;
use std::path::Path;

use super::csv::LineCounter;
use super::table::headed_reader;
use super::touches::{find, missing};
use crate::data::{CustomerRecordRow, CustomerRecords, FieldKind, FieldSpec};
use crate::error::{Error, Problem, Result};
use crate::time::{DateFormat, Timestamp};

/// Which columns of a CSV of customer records to read, and as what.
///
/// One row per record, with a header. The id column is the source's own id (unique within
/// the source); each field is a column with its [`FieldKind`]; the source is a column or
/// one name for the whole file (by default the file's stem, `records` for a reader); an
/// optional column gives the record's last update (for the most-recent survivorship
/// rule). Other columns are ignored. Values are kept as written (trimmed); an empty value
/// is missing.
///
/// ```
/// use acrm::data::FieldKind;
/// use acrm::io::CustomerRecordCsv;
/// let csv = "id,name,dob\nD1,Ann Lee,1980-02-01\nD2,Bob Ray,\n";
/// let records = CustomerRecordCsv::new("id")
///     .field("name", FieldKind::Name)
///     .field("dob", FieldKind::Date)
///     .source_name("dealer")
///     .read(csv.as_bytes())?;
/// assert_eq!((records.len(), records.source_name(1), records.value(1, 1)), (2, "dealer", None));
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRecordCsv {
    id: String,
    fields: Vec<FieldSpec>,
    source_column: Option<String>,
    source_name: Option<String>,
    updated: Option<String>,
}

impl CustomerRecordCsv {
    /// Records whose source id is in column `id`.
    pub fn new(id: &str) -> Self {
        CustomerRecordCsv {
            id: id.to_string(),
            fields: Vec::new(),
            source_column: None,
            source_name: None,
            updated: None,
        }
    }

    /// Reads column `column` as a field of `kind` (a column given twice is read once, as
    /// the last kind given).
    pub fn field(mut self, column: &str, kind: FieldKind) -> Self {
        match self.fields.iter_mut().find(|f| f.name == column) {
            Some(f) => f.kind = kind,
            None => self.fields.push(FieldSpec::new(column, kind)),
        }
        self
    }

    /// The source of each record is in column `column`.
    pub fn source_column(mut self, column: &str) -> Self {
        self.source_column = Some(column.to_string());
        self
    }

    /// Every record of the file comes from source `name` (ignored with a source column).
    pub fn source_name(mut self, name: &str) -> Self {
        self.source_name = Some(name.to_string());
        self
    }

    /// Column `column` holds each record's last update (a date or date-time, as the
    /// transaction reader's automatic format; empty = unknown).
    pub fn updated(mut self, column: &str) -> Self {
        self.updated = Some(column.to_string());
        self
    }

    /// The fields to read.
    pub fn fields(&self) -> &[FieldSpec] {
        &self.fields
    }

    /// Reads records from a file; without a source column or name, the source is the
    /// file's stem.
    ///
    /// # Errors
    /// As [`read`](Self::read); [`Error::Io`].
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<CustomerRecords> {
        let path = path.as_ref();
        let mut opts = self.clone();
        if opts.source_name.is_none() {
            opts.source_name = path.file_stem().map(|s| s.to_string_lossy().into_owned());
        }
        opts.read(std::fs::File::open(path)?)
    }

    /// Reads records.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] without fields or with the id column among them;
    /// [`Error::MissingColumn`] for an id, field, source or update column the header lacks;
    /// [`Error::Row`] naming the file line (the header is line 1), the column and the
    /// value of: an empty id or source ([`Problem::EmptyValue`]), an id its source already
    /// gave ([`Problem::DuplicateId`]), an update time that is not a date
    /// ([`Problem::BadDate`]), a malformed line or text that is not UTF-8;
    /// [`Error::EmptyInput`] without data rows.
    pub fn read<R: Read>(&self, reader: R) -> Result<CustomerRecords> {
        if self.fields.iter().any(|f| f.name == self.id) {
            return Err(Error::option(
                "field",
                &self.id,
                "a column other than the id column",
            ));
        }
        let mut store = CustomerRecords::empty(self.fields.clone())?;
        // Read whole, so that errors name physical lines.
        let mut bytes = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut bytes)?;
        let body = &*super::text::decode_bytes(&bytes)?;
        let mut lines_of = LineCounter::new(body, 1);
        let (mut rdr, header) = headed_reader(body)?;
        let column = |name: &str| find(&header, &[name]).ok_or_else(|| missing(name, &header));
        let id = column(&self.id)?;
        let fields = self
            .fields
            .iter()
            .map(|f| column(&f.name))
            .collect::<Result<Vec<_>>>()?;
        let source = self.source_column.as_deref().map(column).transpose()?;
        let updated = self.updated.as_deref().map(column).transpose()?;
        let fixed_source = self.source_name.as_deref().unwrap_or("records");
        let mut seen = hashbrown::HashSet::new();
        let mut rec = csv::ByteRecord::new();
        loop {
            let line_hint = rdr.position().byte() as usize;
            let more = rdr.read_byte_record(&mut rec).map_err(|e| {
                let line = lines_of.line_at(e.position().map_or(line_hint, |p| p.byte() as usize));
                Error::row(line, "", &e.to_string(), Problem::Malformed)
            })?;
            if !more {
                break;
            }
            let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
            let text = |c: usize| -> Result<&str> {
                let raw = rec.get(c).unwrap_or(b"");
                std::str::from_utf8(raw).map(str::trim).map_err(|_| {
                    Error::row(
                        line,
                        &header[c],
                        &String::from_utf8_lossy(raw),
                        Problem::NotUtf8,
                    )
                })
            };
            let updated = match updated {
                Some(c) if !text(c)?.is_empty() => {
                    let v = text(c)?;
                    Some(
                        Timestamp::parse(v, &DateFormat::Auto)
                            .ok_or_else(|| Error::row(line, &header[c], v, Problem::BadDate))?,
                    )
                }
                _ => None,
            };
            let row = CustomerRecordRow {
                source: match source {
                    Some(c) => text(c)?.to_string(),
                    None => fixed_source.to_string(),
                },
                id: text(id)?.to_string(),
                values: fields
                    .iter()
                    .map(|&c| text(c).map(str::to_string))
                    .collect::<Result<_>>()?,
                updated,
            };
            store
                .push_checked(row, line, &mut seen)
                .map_err(|e| match e {
                    Error::Row(mut r) => {
                        r.field = match r.field.as_str() {
                            "id" => header[id].clone(),
                            "source" => {
                                source.map_or_else(|| "source".to_string(), |c| header[c].clone())
                            }
                            other => other.to_string(),
                        };
                        Error::Row(r)
                    }
                    e => e,
                })?;
        }
        if store.is_empty() {
            return Err(Error::EmptyInput);
        }
        Ok(store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_error(r: Result<CustomerRecords>) -> (u64, String, String, Problem) {
        match r.unwrap_err() {
            Error::Row(e) => (e.line, e.field, e.value, e.problem),
            e => panic!("{e}"),
        }
    }

    fn opts() -> CustomerRecordCsv {
        CustomerRecordCsv::new("rec")
            .field("name", FieldKind::Name)
            .source_column("src")
            .updated("seen")
    }

    #[test]
    fn reads_sources_values_and_update_times() {
        let csv = "src,rec,name,seen\ndealer,1,Ann,2024-01-02\nweb,1,  ,\n";
        let r = opts().read(csv.as_bytes()).unwrap();
        assert_eq!(r.sources(), ["dealer", "web"]);
        assert_eq!((r.value(0, 0), r.value(1, 0)), (Some("Ann"), None));
        assert!(r.updated(0).is_some() && r.updated(1).is_none());
    }

    #[test]
    fn errors_name_line_column_and_value() {
        let head = "src,rec,name,seen\ndealer,1,Ann,\n";
        let bad = |l: &str| row_error(opts().read(format!("{head}\n{l}\n").as_bytes()));
        assert_eq!(
            bad("dealer,1,Bob,"),
            (4, "rec".into(), "1".into(), Problem::DuplicateId)
        );
        assert_eq!(
            bad("dealer,,Bob,"),
            (4, "rec".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad(",2,Bob,"),
            (4, "src".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("dealer,2,Bob,2024-13-01"),
            (4, "seen".into(), "2024-13-01".into(), Problem::BadDate)
        );
        let mut bytes = format!("{head}dealer,2,").into_bytes();
        bytes.extend_from_slice(b"\xff\xfe,\n");
        assert_eq!(row_error(opts().read(&bytes[..])).3, Problem::NotUtf8);
        assert!(matches!(
            CustomerRecordCsv::new("id").field("x", FieldKind::Name).read("id,y\n1,2\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "x"
        ));
        assert!(matches!(
            opts().read("src,rec,name,seen\n".as_bytes()),
            Err(Error::EmptyInput)
        ));
    }
}
