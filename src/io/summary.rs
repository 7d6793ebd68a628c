//! Per-customer summary tables (x, t_x, T and mean spend per customer) from CSV: the
//! input of model fitting when the summary was made elsewhere (another tool, a database).

use std::hash::BuildHasher;
use std::io::{BufReader, Read};
use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::csv::{fill, line_at_byte, line_block_end, split_lines};
use super::table::headed_reader;
use super::text::{decode_bytes, needs_decoding};
use crate::error::{Error, Problem, Result, RowError};
use crate::summary::Rfm;

/// A summary table read from CSV: customer ids and their records, index-aligned.
///
/// Ids live in one buffer (a million ids are two allocations, not a million strings);
/// read them with [`id`](Self::id) or [`ids`](Self::ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryTable {
    id_text: String,
    /// End of id i in `id_text`.
    id_ends: Vec<usize>,
    /// Records, in file order.
    pub records: Vec<Rfm>,
    /// Whether the file has a mean-spend column.
    pub has_spend: bool,
}

impl SummaryTable {
    /// Id of record `i` (the row number, from 1, when the file has no id column).
    ///
    /// # Panics
    /// If `i >= self.records.len()`.
    pub fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.id_ends[i - 1] };
        &self.id_text[start..self.id_ends[i]]
    }

    /// An error of a computation on [`records`](Self::records) that names a record by
    /// its position ([`Error::BadValue`] of input `records`) as an
    /// [`Error::CustomerValue`] naming the customer's id; any other error unchanged.
    ///
    /// ```
    /// use acrm::io::read_summary_csv;
    /// use acrm::numerics::FitOptions;
    /// use acrm::profitability::GammaGamma;
    /// let table = read_summary_csv("id,x,t_x,T,zbar\nc1,2,5,9,10\nc2,1,3,9,0\n".as_bytes())?;
    /// let err = FitOptions::new().fit::<GammaGamma>(&table.records).unwrap_err();
    /// assert_eq!(
    ///     table.locate(err).to_string(),
    ///     "customer `c2`: mean_spend 0: expected a finite positive mean spend for a repeat buyer (x = 1)"
    /// );
    /// # Ok::<(), acrm::Error>(())
    /// ```
    pub fn locate(&self, e: Error) -> Error {
        match e {
            Error::BadValue {
                input,
                row,
                field,
                value,
                expected,
            } if input == "records" && row < self.records.len() => Error::CustomerValue {
                customer: self.id(row).to_string(),
                field,
                value,
                expected,
            },
            e => e,
        }
    }

    /// Ids in record order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.id_ends.len()).map(|i| self.id(i))
    }

    /// The first record whose id repeats an earlier one, with that earlier record.
    fn first_repeat(&self) -> Option<(usize, usize)> {
        // Exports often list customers sorted by id. Ids that increase strictly (by length
        // then bytes, as plain numbers do, or by bytes) are all different, which one pass
        // over neighbours shows; it stops at the first pair out of order otherwise.
        let increasing = |less: fn(&str, &str) -> bool| {
            (1..self.records.len())
                .into_par_iter()
                .all(|i| less(self.id(i - 1), self.id(i)))
        };
        if increasing(|a, b| (a.len(), a) < (b.len(), b)) || increasing(|a, b| a < b) {
            return None;
        }
        // Hash in parallel, sort by hash, compare neighbours: a hash table would rehash a
        // million strings as it grows, several times slower than reading them.
        let hasher = foldhash::fast::FixedState::default();
        let mut keyed: Vec<(u64, u32)> = (0..self.records.len())
            .into_par_iter()
            .map(|i| (hasher.hash_one(self.id(i)), i as u32))
            .collect();
        keyed.par_sort_unstable();
        let mut first: Option<(usize, usize)> = None;
        for run in keyed.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
            for (k, &(_, j)) in run.iter().enumerate().skip(1) {
                let j = j as usize;
                if let Some(&(_, i)) = run[..k]
                    .iter()
                    .find(|(_, i)| self.id(*i as usize) == self.id(j))
                {
                    if first.map_or(true, |(_, fj)| j < fj) {
                        first = Some((i as usize, j));
                    }
                }
            }
        }
        first
    }
}

/// Accepted header names: ours first (`mean_spend` is what the `summarize` example writes),
/// then lifetimes' (`summary_data_from_transaction_data`).
const X: [&str; 2] = ["x", "frequency"];
const TX: [&str; 2] = ["t_x", "recency"];
const T: [&str; 1] = ["T"];
const SPEND: [&str; 3] = ["zbar", "mean_spend", "monetary_value"];

/// Reads a header CSV with columns `ID,x,t_x,T[,zbar]` (the spend column may also be
/// `mean_spend`, as `summarize --out` writes it; or lifetimes' names
/// `frequency,recency,T,monetary_value`; the id column is `ID`, `id`, `customer_id`, or
/// else the first column that is none of the others, and optional).
///
/// The input is read into memory whole ([`read_summary_csv_path`] streams a file
/// instead). Without quote characters (the common case for machine exports) it is cut
/// into blocks at line ends, each split into parts parsed in parallel and joined in file
/// order, so the table and the error reported are the same for any number of threads. A
/// file with quotes, a carriage return that does not end a line, text that is not UTF-8 or
/// a row with another number of fields than the header is read by the `csv` crate, one
/// record at a time. Errors name physical lines, as an editor numbers them: blank lines
/// (skipped, not rows) and line ends inside quotes count.
///
/// # Errors
/// [`Error::MissingColumn`] for a missing x, t_x or T column; [`Error::Row`] naming the
/// line, column and value of the first field (in file order) that is not a number or
/// breaks 0 ≤ t_x ≤ T, T > 0, t_x = 0 when x = 0 (x must be a whole number, spend finite
/// and 0 when x = 0), or of a malformed line, and else of the first id that repeats an id
/// of an earlier line (naming the later line); [`Error::EmptyInput`] without data rows;
/// [`Error::Io`].
pub fn read_summary_csv<R: Read>(mut reader: R) -> Result<SummaryTable> {
    let mut bytes = Vec::new();
    reader.read_to_end(&mut bytes)?;
    read_bytes(&bytes, block_size())
}

/// [`read_summary_csv`] of bytes in memory, in blocks of about `block` bytes.
fn read_bytes(bytes: &[u8], block: usize) -> Result<SummaryTable> {
    let bytes = &*decode_bytes(bytes)?;
    let source = Source::Bytes(bytes);
    let (rdr, header) = headed_reader(bytes)?;
    let layout = Layout::new(&header)?;
    let mut body = &bytes[header_end(&rdr, bytes.len())..];
    let mut plain = Plain::new(&layout);
    while !body.is_empty() {
        let cut = line_block_end(body, block);
        match plain.absorb(&body[..cut]) {
            Ok(true) => {}
            Ok(false) => return read_with_csv_crate(source),
            Err(bad) => return Err(layout.bad_row(source, bad)),
        }
        body = &body[cut..];
    }
    layout.finish(plain.table, source)
}

/// Reads a summary CSV file (see [`read_summary_csv`]), streaming it in blocks of a few
/// MiB: while one block is parsed in parallel the next is read, and memory holds the
/// table and two blocks, never the whole file. When a block shows that the file must go through the
/// `csv` crate, the file is read again from its start that way.
///
/// # Errors
/// As [`read_summary_csv`]; [`Error::Io`] when the file cannot be read.
pub fn read_summary_csv_path(path: impl AsRef<Path>) -> Result<SummaryTable> {
    read_file(path.as_ref(), block_size())
}

/// Bytes read and parsed at a time: 1 MiB per thread, at least 2 MiB. One part of at
/// least 1 MiB per thread is enough to keep the threads busy, and a block this small is
/// still in the processor's caches when it is parsed after being read; memory holds the
/// table and two blocks.
fn block_size() -> usize {
    (rayon::current_num_threads() << 20).max(2 << 20)
}

/// [`read_summary_csv_path`] in blocks of about `block` bytes (≥ 1).
fn read_file(path: &Path, block: usize) -> Result<SummaryTable> {
    let source = Source::File(path);
    let mut file = std::fs::File::open(path)?;
    let mut cur = Vec::with_capacity(block + (block >> 4));
    let mut eof = fill(&mut file, &mut cur, block)?;
    // A byte-order mark or CR-only line ends: read whole, as bytes are.
    if needs_decoding(&cur) {
        file.read_to_end(&mut cur)?;
        return read_bytes(&cur, block);
    }
    // The header must end inside the block: the csv crate stops before the block's end,
    // or the block is the whole file.
    let (header, start) = loop {
        let (rdr, header) = headed_reader(&cur[..])?;
        let end = header_end(&rdr, cur.len());
        if end < cur.len() || eof {
            break (header, end);
        }
        let len = cur.len() + block;
        eof = fill(&mut file, &mut cur, len)?;
    };
    let layout = Layout::new(&header)?;
    cur.drain(..start);
    let mut plain = Plain::new(&layout);
    let mut next = Vec::with_capacity(cur.capacity());
    while !cur.is_empty() {
        while !eof && memchr::memchr(b'\n', &cur).is_none() {
            let len = cur.len() + block;
            eof = fill(&mut file, &mut cur, len)?;
        }
        let cut = if eof {
            cur.len()
        } else {
            memchr::memrchr(b'\n', &cur).map_or(cur.len(), |i| i + 1)
        };
        next.clear();
        next.extend_from_slice(&cur[cut..]);
        // The next block is read while this one is parsed.
        let (read, regular) = rayon::join(
            || {
                if eof {
                    Ok(true)
                } else {
                    fill(&mut file, &mut next, block)
                }
            },
            || plain.absorb(&cur[..cut]),
        );
        match regular {
            Ok(true) => {}
            Ok(false) => return read_with_csv_crate(source),
            Err(bad) => return Err(layout.bad_row(source, bad)),
        }
        eof = read?;
        std::mem::swap(&mut cur, &mut next);
    }
    layout.finish(plain.table, source)
}

/// Where the csv crate stopped reading the header: the body starts there (after a BOM,
/// leading blank lines and the header's line end, except the `\n` of a CRLF, which the
/// body skips as a blank line).
fn header_end<R: Read>(rdr: &csv::Reader<R>, len: usize) -> usize {
    usize::try_from(rdr.position().byte()).map_or(len, |p| p.min(len))
}

/// Reads the whole input with the `csv` crate, one record at a time.
fn read_with_csv_crate(source: Source<'_>) -> Result<SummaryTable> {
    let (mut rdr, header) = headed_reader(source.open()?)?;
    let layout = Layout::new(&header)?;
    let table = layout.parse_quoted(&mut rdr, source)?;
    layout.finish(table, source)
}

/// The input, read again from its start when an error names a row. The readers count
/// data rows, not lines (blank lines and line ends inside quotes make the two differ), so
/// the physical line of a bad row is looked up only for its error.
#[derive(Clone, Copy)]
enum Source<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

impl<'a> Source<'a> {
    fn open(self) -> Result<Box<dyn Read + 'a>> {
        Ok(match self {
            Source::Bytes(bytes) => Box::new(bytes),
            Source::File(path) => Box::new(BufReader::new(std::fs::File::open(path)?)),
        })
    }

    /// The physical line of the record the csv crate positions at `pos`.
    fn line_at(self, pos: Option<&csv::Position>) -> Result<u64> {
        line_at_byte(self.open()?, pos.map_or(0, csv::Position::byte))
    }

    /// The physical line of data row `row` (from 0; blank lines are not rows).
    fn line_of_row(self, row: usize) -> Result<u64> {
        let (mut rdr, _) = headed_reader(self.open()?)?;
        let mut rec = csv::ByteRecord::new();
        for _ in 0..=row {
            if !rdr.read_byte_record(&mut rec)? {
                break;
            }
        }
        self.line_at(rec.position())
    }

    /// A `csv` crate error, naming the physical line of the record it is about.
    fn csv_error(self, e: csv::Error) -> Error {
        let pos = e.position().cloned();
        match Error::from(e) {
            Error::Row(r) => match self.line_at(pos.as_ref()) {
                Ok(line) => Error::Row(RowError { line, ..r }),
                Err(e) => e,
            },
            other => other,
        }
    }
}

/// A bad field of a data row found by the parallel reader, by the row's index among the
/// data rows (from 0): its line is looked up only for the error (see [`Source`]).
struct BadRow {
    row: usize,
    field: BadField,
    value: String,
}

/// Where the columns are, from the header.
struct Layout<'h> {
    header: &'h [String],
    x: usize,
    t_x: usize,
    t: usize,
    spend: Option<usize>,
    id: Option<usize>,
}

/// A bad field: its column and what was wrong.
type BadField = (usize, Problem);

impl<'h> Layout<'h> {
    fn new(header: &'h [String]) -> Result<Self> {
        let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
        let need = |names: &[&str]| {
            find(names).ok_or_else(|| Error::MissingColumn {
                column: names.join(" or "),
                available: header.to_vec(),
            })
        };
        let (x, t_x, t) = (need(&X)?, need(&TX)?, need(&T)?);
        let spend = find(&SPEND);
        let id = find(&["ID", "id", "customer_id"]).or_else(|| {
            (0..header.len()).find(|&i| ![Some(x), Some(t_x), Some(t), spend].contains(&Some(i)))
        });
        Ok(Layout {
            header,
            x,
            t_x,
            t,
            spend,
            id,
        })
    }

    /// One row's record from its fields (`field(c)`: column c as read, untrimmed). The
    /// checks are [`Rfm::new`]'s, made here so that a bad row names its column; fields are
    /// parsed in the order x, t_x, T, spend, and the first failure is the one reported.
    fn record<'f>(&self, field: impl Fn(usize) -> Option<&'f str>) -> Result<Rfm, BadField> {
        let text = |c: usize| field(c).map(trim).ok_or((c, Problem::MissingField));
        let num = |c: usize| -> Result<f64, BadField> {
            let v: f64 = text(c)?.parse().map_err(|_| (c, Problem::BadNumber))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err((c, Problem::NonFinite))
            }
        };
        let out = |c: usize| Err((c, Problem::SummaryRange));
        // Counts are usually plain digits, read here as the integer that parsing them as a
        // float gives; they also arrive as floats from some tools ("2.0"), and whole
        // numbers are accepted.
        let xv = match digits(text(self.x)?) {
            Some(v) => f64::from(v),
            None => num(self.x)?,
        };
        if !(xv >= 0.0 && xv.fract() == 0.0 && xv <= f64::from(u32::MAX)) {
            return out(self.x);
        }
        let (t_x, t) = (num(self.t_x)?, num(self.t)?);
        let mean_spend = match self.spend {
            Some(c) => num(c)?,
            None => 0.0,
        };
        let x = xv as u32;
        if t <= 0.0 {
            return out(self.t);
        }
        if !(0.0..=t).contains(&t_x) || (x == 0 && t_x != 0.0) {
            return out(self.t_x);
        }
        if x == 0 && mean_spend != 0.0 {
            return out(self.spend.unwrap_or(self.x));
        }
        Ok(Rfm {
            x,
            t_x,
            t,
            mean_spend,
        })
    }

    fn row_error(&self, line: u64, (c, problem): BadField, value: &str) -> Error {
        Error::Row(RowError {
            line,
            field: self.header[c].clone(),
            value: value.chars().take(200).collect(),
            problem,
        })
    }

    /// The error of a bad row found by the parallel reader, naming its line.
    fn bad_row(&self, source: Source<'_>, bad: BadRow) -> Error {
        match source.line_of_row(bad.row) {
            Ok(line) => self.row_error(line, bad.field, &bad.value),
            Err(e) => e,
        }
    }

    /// The table, unless it is empty or repeats an id.
    fn finish(&self, table: SummaryTable, source: Source<'_>) -> Result<SummaryTable> {
        if table.records.is_empty() {
            return Err(Error::EmptyInput);
        }
        if let (Some(c), Some((_, j))) = (self.id, table.first_repeat()) {
            // A customer listed twice would be counted twice.
            let line = source.line_of_row(j)?;
            return Err(self.row_error(line, (c, Problem::DuplicateId), table.id(j)));
        }
        Ok(table)
    }

    /// The rows after the header read by the `csv` crate, one at a time.
    fn parse_quoted<R: Read>(
        &self,
        rdr: &mut csv::Reader<R>,
        source: Source<'_>,
    ) -> Result<SummaryTable> {
        let (mut id_text, mut id_ends, mut records) = (String::new(), Vec::new(), Vec::new());
        let mut rec = csv::StringRecord::new();
        while rdr.read_record(&mut rec).map_err(|e| source.csv_error(e))? {
            let r = match self.record(|c| rec.get(c)) {
                Ok(r) => r,
                Err(bad) => {
                    let line = source.line_at(rec.position())?;
                    return Err(self.row_error(line, bad, rec.get(bad.0).unwrap_or("")));
                }
            };
            match self.id {
                Some(c) => id_text.push_str(trim(rec.get(c).unwrap_or(""))),
                None => id_text.push_str(&(records.len() + 1).to_string()),
            }
            id_ends.push(id_text.len());
            records.push(r);
        }
        Ok(SummaryTable {
            id_text,
            id_ends,
            records,
            has_spend: self.spend.is_some(),
        })
    }

    /// Parses one part into `records` and `id_ends` (ends within the part's own id text);
    /// stops at its first bad row, or at the first sign that the file must go through the
    /// `csv` crate: a quote, a carriage return not ending a line, text that is not UTF-8,
    /// a row whose number of fields is not the header's.
    fn parse_part(&self, part: &[u8], records: &mut [Rfm], id_ends: &mut [usize]) -> Part {
        let mut out = Part::default();
        let bare_cr = || {
            memchr::memchr_iter(b'\r', part).any(|i| part.get(i + 1).is_some_and(|&c| c != b'\n'))
        };
        let text = match std::str::from_utf8(part) {
            Ok(text) if memchr::memchr(b'"', part).is_none() && !bare_cr() => text,
            _ => {
                out.irregular = true;
                return out;
            }
        };
        // Ids take less room than their lines: this never grows (and what is not
        // written is never touched).
        out.id_text
            .reserve(if self.id.is_some() { part.len() } else { 0 });
        let width = self.header.len();
        let mut fields: Vec<&str> = Vec::with_capacity(width);
        // Commas and line ends of the whole part in one vectorised scan: fields are too
        // short for a search per field or per line to pay. They are ASCII, so the fields
        // of UTF-8 text are UTF-8.
        let mut delimiters = memchr::memchr2_iter(b',', b'\n', part);
        let mut start = 0;
        loop {
            let (end, line_end) = match delimiters.next() {
                Some(i) => (i, part[i] == b'\n'),
                None => (part.len(), true),
            };
            if fields.len() == width {
                // A row longer than the header.
                out.irregular = true;
                return out;
            }
            fields.push(&text[start..end]);
            start = end + 1;
            if !line_end {
                continue;
            }
            if let Some(last) = fields.last_mut() {
                *last = last.strip_suffix('\r').unwrap_or(last);
            }
            // The csv crate skips empty lines without counting them as records.
            if fields.len() > 1 || !fields[0].is_empty() {
                if fields.len() != width {
                    out.irregular = true;
                    return out;
                }
                match self.record(|c| fields.get(c).copied()) {
                    Ok(r) => records[out.rows] = r,
                    Err(bad) => {
                        out.error = Some((out.rows, bad, fields[bad.0].to_string()));
                        return out;
                    }
                }
                if let Some(c) = self.id {
                    out.id_text.push_str(trim(fields[c]));
                    id_ends[out.rows] = out.id_text.len();
                }
                out.rows += 1;
            }
            if end >= part.len() {
                return out;
            }
            fields.clear();
        }
    }
}

/// A placeholder for rows not yet parsed.
const UNSET: Rfm = Rfm {
    x: 0,
    t_x: 0.0,
    t: 0.0,
    mean_spend: 0.0,
};

/// The table built from blocks of whole lines of a file without quotes.
struct Plain<'l> {
    layout: &'l Layout<'l>,
    table: SummaryTable,
}

impl<'l> Plain<'l> {
    fn new(layout: &'l Layout<'l>) -> Self {
        Plain {
            layout,
            table: SummaryTable {
                id_text: String::new(),
                id_ends: Vec::new(),
                records: Vec::new(),
                has_spend: layout.spend.is_some(),
            },
        }
    }

    /// Parses a block of whole lines in parallel parts and appends its rows. `Ok(false)`
    /// when the file must go through the `csv` crate (see [`Layout::parse_part`]); the
    /// block's first bad row as the error.
    ///
    /// Each part writes its rows straight into its own range of the table's columns,
    /// sized by its line ends: fresh memory is touched once, in parallel, and not copied.
    fn absorb(&mut self, block: &[u8]) -> Result<bool, BadRow> {
        let layout = self.layout;
        let t = &mut self.table;
        let parts = split_lines(block, rayon::current_num_threads() * 4);
        // Rows per part, at most: its lines (blank ones are skipped, so maybe fewer).
        let caps: Vec<usize> = parts
            .par_iter()
            .map(|p| memchr::memchr_iter(b'\n', p).count() + usize::from(!p.ends_with(b"\n")))
            .collect();
        let n: usize = caps.iter().sum();
        let first = t.records.len();
        t.records.par_extend(rayon::iter::repeat_n(UNSET, n));
        t.id_ends.par_extend(rayon::iter::repeat_n(0, n));
        let mut parsed: Vec<Part> = parts
            .par_iter()
            .zip(split_by(&mut t.records[first..], &caps))
            .zip(split_by(&mut t.id_ends[first..], &caps))
            .map(|((part, r), e)| layout.parse_part(part, r, e))
            .collect();
        let mut rows = first;
        for p in &parsed {
            if p.irregular {
                return Ok(false);
            }
            if let Some((k, field, value)) = &p.error {
                return Err(BadRow {
                    row: rows + k,
                    field: *field,
                    value: value.clone(),
                });
            }
            rows += p.rows;
        }
        let ends = &mut t.id_ends[first..];
        if layout.id.is_none() {
            // Ids are row numbers from 1.
            let firsts = prefix_sums(parsed.iter().map(|p| p.rows), first + 1);
            parsed
                .par_iter_mut()
                .zip(split_by(ends, &caps))
                .zip(firsts)
                .for_each(|((p, ends), first)| {
                    use std::fmt::Write as _;
                    for (k, end) in ends[..p.rows].iter_mut().enumerate() {
                        let _ = write!(p.id_text, "{}", first + k);
                        *end = p.id_text.len();
                    }
                });
        }
        // Each part's id ends count from its own text: shift them by the text before it.
        let bases = prefix_sums(parsed.iter().map(|p| p.id_text.len()), t.id_text.len());
        split_by(&mut t.id_ends[first..], &caps)
            .into_par_iter()
            .zip(&parsed)
            .zip(bases)
            .for_each(|((ends, p), base)| ends[..p.rows].iter_mut().for_each(|e| *e += base));
        if rows - first < n {
            // Close the gaps that blank lines left at the ends of the parts' ranges.
            let (mut from, mut to) = (first, first);
            for (p, cap) in parsed.iter().zip(&caps) {
                t.records.copy_within(from..from + p.rows, to);
                t.id_ends.copy_within(from..from + p.rows, to);
                (from, to) = (from + cap, to + p.rows);
            }
            t.records.truncate(rows);
            t.id_ends.truncate(rows);
        }
        t.id_text
            .reserve(parsed.iter().map(|p| p.id_text.len()).sum());
        for p in &parsed {
            t.id_text.push_str(&p.id_text);
        }
        Ok(true)
    }
}

/// What parsing one part of a file without quotes found (its rows are in the table).
#[derive(Default)]
struct Part {
    /// Rows parsed.
    rows: usize,
    /// The part's ids, one after another.
    id_text: String,
    /// The first bad row: its index among the part's rows, the bad field, its value.
    error: Option<(usize, BadField, String)>,
    /// The file must be read by the `csv` crate (see [`Layout::parse_part`]).
    irregular: bool,
}

/// `s` without the whitespace `str::trim` removes, looking at its ends first: fields are
/// rarely padded. (Every byte of a multi-byte whitespace character is 0x80 or above.)
fn trim(s: &str) -> &str {
    let plain = |b: Option<&u8>| b.is_some_and(|b| (b'!'..=b'~').contains(b));
    if plain(s.as_bytes().first()) && plain(s.as_bytes().last()) {
        s
    } else {
        s.trim()
    }
}

/// The value of 1 to 9 decimal digits.
fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.len() <= 9 && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.bytes().fold(0, |v, b| v * 10 + u32::from(b - b'0')))
}

/// `v` cut into consecutive slices of the given lengths.
fn split_by<'a, T>(mut v: &'a mut [T], lens: &[usize]) -> Vec<&'a mut [T]> {
    lens.iter()
        .map(|&len| {
            let (head, tail) = std::mem::take(&mut v).split_at_mut(len);
            v = tail;
            head
        })
        .collect()
}

/// Running totals of `values` starting at `start`: the total before each value.
fn prefix_sums(values: impl Iterator<Item = usize>, start: usize) -> Vec<usize> {
    values
        .scan(start, |total, v| Some(std::mem::replace(total, *total + v)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_header_styles_and_names_bad_fields() {
        let ours =
            read_summary_csv("ID,x,t_x,T,zbar\na,2,3.5,10,20.5\nb,0,0,4,0\n".as_bytes()).unwrap();
        assert_eq!(ours.ids().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(ours.records[0], Rfm::new(2, 3.5, 10.0, 20.5).unwrap());
        assert!(ours.has_spend);
        let lt = read_summary_csv(
            "customer_id,frequency,recency,T,monetary_value\n7,1.0,2.0,3.0,9.5\n".as_bytes(),
        )
        .unwrap();
        assert_eq!((lt.id(0), lt.records[0].x), ("7", 1));
        // What `summarize --out` writes.
        let summarized =
            read_summary_csv("id,x,t_x,T,mean_spend\nc1,3,20,30,12.5\n".as_bytes()).unwrap();
        assert!(summarized.has_spend);
        assert_eq!(
            summarized.records[0],
            Rfm::new(3, 20.0, 30.0, 12.5).unwrap()
        );
        let bare = read_summary_csv("x,t_x,T\n1,1,2\n".as_bytes()).unwrap();
        assert_eq!(bare.id(0), "1");
        assert!(!bare.has_spend);

        let err = |text: &str| match read_summary_csv(text.as_bytes()).unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        };
        assert_eq!(
            err("ID,x,t_x,T\na,1,1,2\nb,2,1,4\nc,0,0,3\nb,0,0,5\na,0,0,1\n"),
            (5, "ID".into(), "b".into(), Problem::DuplicateId)
        );
        assert_eq!(
            err("ID,x,t_x,T\na,1,1,2\nb,2,5,4\n"),
            (3, "t_x".into(), "5".into(), Problem::SummaryRange)
        );
        assert_eq!(
            err("ID,x,t_x,T\na,1.5,1,2\n"),
            (2, "x".into(), "1.5".into(), Problem::SummaryRange)
        );
        assert_eq!(
            err("ID,x,t_x,T\na,1,oops,2\n"),
            (2, "t_x".into(), "oops".into(), Problem::BadNumber)
        );
        assert!(matches!(
            read_summary_csv("ID,x,T\n".as_bytes()),
            Err(Error::MissingColumn { .. })
        ));
        assert!(matches!(
            read_summary_csv("ID,x,t_x,T\n".as_bytes()),
            Err(Error::EmptyInput)
        ));
    }

    /// `n` customers on a day grid, ids `C0`, `C1`, … in order, a third without repeat
    /// purchases; rows end with `eol`. Byte for byte the same on every call.
    fn grid(n: usize, eol: &str) -> String {
        use std::fmt::Write as _;
        let mut text = format!("ID,x,t_x,T,zbar{eol}");
        for i in 0..n {
            let x = (i * 7919) % 3 * (i % 7);
            let t = 27.0 + ((i * 104_729) % 85) as f64 / 7.0;
            let (t_x, spend) = match x {
                0 => (0.0, 0.0),
                _ => (t * (i % 10) as f64 / 10.0, 10.0 + (i % 97) as f64 * 0.25),
            };
            let _ = write!(text, "C{i},{x},{t_x},{t},{spend}{eol}");
        }
        text
    }

    /// 70,000 rows: about 2.8 MB, more than one part (at least 1 MiB each) of a block.
    const ROWS: usize = 70_000;

    /// Ids and the bits of every record: equal tables, to the last bit.
    fn bits(t: &SummaryTable) -> (Vec<&str>, Vec<[u64; 4]>, bool) {
        let records = t.records.iter();
        let records = records.map(|r| {
            [
                u64::from(r.x),
                r.t_x.to_bits(),
                r.t.to_bits(),
                r.mean_spend.to_bits(),
            ]
        });
        (t.ids().collect(), records.collect(), t.has_spend)
    }

    fn threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build();
        pool.unwrap().install(f)
    }

    /// The table (or error) of the `csv` crate read one record at a time: what every
    /// way of reading must give.
    fn oracle(text: &str) -> Result<SummaryTable> {
        read_with_csv_crate(Source::Bytes(&decode_bytes(text.as_bytes())?))
    }

    #[test]
    fn parallel_parts_and_blocks_give_the_csv_crates_table_on_any_thread_count() {
        let text = grid(ROWS, "\n");
        assert!(text.len() > 2 << 20);
        let expected = oracle(&text).unwrap();
        assert_eq!(expected.records.len(), ROWS);
        for block in [8 << 20, 1 << 20, 100_003] {
            for n in [1, 2, 3] {
                let table = threads(n, || read_bytes(text.as_bytes(), block)).unwrap();
                assert_eq!(bits(&table), bits(&expected), "block {block}, {n} threads");
            }
        }
        // CRLF line ends: the same table.
        let crlf = grid(ROWS, "\r\n");
        let table = read_summary_csv(crlf.as_bytes()).unwrap();
        assert_eq!(bits(&table), bits(&expected));
        assert_eq!(bits(&oracle(&crlf).unwrap()), bits(&expected));
    }

    #[test]
    fn a_bad_row_late_in_a_large_file_is_the_error_the_csv_crate_gives() {
        let text = grid(ROWS, "\n");
        let last = text[..text.len() - 1].rfind('\n').unwrap() + 1;
        let line = ROWS as u64 + 1;
        let with_last = |row: &str| format!("{}{row}\n", &text[..last]);
        let cases = [
            ("C69999,1,oops,30,5", Problem::BadNumber, "t_x", "oops"),
            ("C69999,2,31,30,5", Problem::SummaryRange, "t_x", "31"),
            ("C69999,0,0,30,inf", Problem::NonFinite, "zbar", "inf"),
            ("C69999,1.5,1,30,5", Problem::SummaryRange, "x", "1.5"),
        ];
        for (row, problem, field, value) in cases {
            let bad = with_last(row);
            let expected = Error::Row(RowError {
                line,
                field: field.into(),
                value: value.into(),
                problem,
            });
            assert_eq!(oracle(&bad).unwrap_err(), expected);
            for n in [1, 2] {
                let err = threads(n, || read_bytes(bad.as_bytes(), 1 << 20)).unwrap_err();
                assert_eq!(err, expected, "{row}, {n} threads");
            }
        }
        // A row with a field too many goes to the csv crate, which names it.
        let long = with_last("C69999,1,1,30,5,extra");
        let err = read_summary_csv(long.as_bytes()).unwrap_err();
        assert_eq!(err, oracle(&long).unwrap_err());
        assert!(matches!(
            err,
            Error::Row(RowError {
                problem: Problem::FieldCount,
                ..
            })
        ));
        // Two bad rows: the first in file order, whichever part it is in.
        let two = with_last("C69999,1,oops,30,5").replacen("\nC5,", "\nC5,1,early,30,5\nC5b,", 1);
        let err = read_bytes(two.as_bytes(), 1 << 20).unwrap_err();
        assert_eq!(err, oracle(&two).unwrap_err());
        assert!(matches!(&err, Error::Row(r) if r.line == 7 && r.value == "early"));
        // An id repeated at the end: the later line is named.
        let dup = format!("{text}C10,0,0,30,0\n");
        let expected = Error::Row(RowError {
            line: ROWS as u64 + 2,
            field: "ID".into(),
            value: "C10".into(),
            problem: Problem::DuplicateId,
        });
        assert_eq!(oracle(&dup).unwrap_err(), expected);
        assert_eq!(read_summary_csv(dup.as_bytes()).unwrap_err(), expected);
    }

    #[test]
    fn quotes_blank_lines_and_a_bom_read_as_the_csv_crate_reads_them() {
        let quoted = "ID,x,t_x,T,zbar\n\"a, b\",2,3.5,10,20.5\nc,0,0,4,0\n";
        let table = read_summary_csv(quoted.as_bytes()).unwrap();
        assert_eq!(table.ids().collect::<Vec<_>>(), ["a, b", "c"]);
        assert_eq!(table, oracle(quoted).unwrap());
        // A large file with quoted ids: the same table as without quotes.
        let plain = grid(ROWS, "\n");
        let mut quoted = String::from("ID,x,t_x,T,zbar\n");
        for line in plain.lines().skip(1) {
            let (id, rest) = line.split_once(',').unwrap();
            quoted += &format!("\"{id}\",{rest}\n");
        }
        let table = read_bytes(quoted.as_bytes(), 1 << 20).unwrap();
        assert_eq!(bits(&table), bits(&oracle(&plain).unwrap()));
        // Blank lines are skipped, not rows, but count as lines; a BOM is not part of the
        // header.
        let text = "\u{feff}ID,x,t_x,T\n\n a ,1,1,2\n\nb,0,0,3\n\nc,1,x,4\n";
        let err = read_summary_csv(text.as_bytes()).unwrap_err();
        assert_eq!(err, oracle(text).unwrap_err());
        assert!(matches!(&err, Error::Row(r) if r.line == 7 && r.field == "t_x"));
        let text = &text[..text.find("c,1").unwrap()];
        let table = read_summary_csv(text.as_bytes()).unwrap();
        assert_eq!(table.ids().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(table, oracle(text).unwrap());
    }

    /// Hands out one byte per `read`, so every piece boundary falls inside the input.
    struct ByteByByte<'a>(&'a [u8]);

    impl Read for ByteByByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.0.len()).min(1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    #[test]
    fn a_streamed_line_is_the_line_counters() {
        use super::super::csv::LineCounter;
        let text = b"ID,x\r\n\r\na,1\n\n\n\"b\nc\",2\r\n\r\n\nd,3";
        for byte in 0..=text.len() + 1 {
            let expected = LineCounter::new(text, 1).line_at(byte);
            let b = byte as u64;
            assert_eq!(line_at_byte(&text[..], b).unwrap(), expected, "byte {byte}");
            let piecewise = line_at_byte(ByteByByte(text), b).unwrap();
            assert_eq!(piecewise, expected, "byte {byte}, one byte per read");
        }
    }

    #[test]
    fn ids_without_an_id_column_are_row_numbers_across_parts() {
        let grid = grid(ROWS, "\n");
        let mut text = String::from("x,t_x,T\n");
        for line in grid.lines().skip(1) {
            let f: Vec<&str> = line.split(',').collect();
            text += &format!("{},{},{}\n", f[1], f[2], f[3]);
        }
        let table = threads(2, || read_bytes(text.as_bytes(), 1 << 20)).unwrap();
        assert_eq!(table, oracle(&text).unwrap());
        assert_eq!(table.id(ROWS - 1), ROWS.to_string());
    }

    #[test]
    fn files_stream_in_blocks_and_fall_back_to_the_csv_crate() {
        let dir = std::env::temp_dir();
        let path = dir.join(format!("acrm-summary-{}.csv", std::process::id()));
        let plain = grid(ROWS, "\n");
        std::fs::write(&path, &plain).unwrap();
        let expected = oracle(&plain).unwrap();
        for block in [8 << 20, 1 << 20, 100_003] {
            let table = read_file(&path, block).unwrap();
            assert_eq!(bits(&table), bits(&expected), "block {block}");
        }
        // A quote in the last block: the file is read again by the csv crate.
        let quoted = format!("{plain}\"C{ROWS}\",0,0,30,0\n");
        std::fs::write(&path, &quoted).unwrap();
        let table = read_file(&path, 1 << 20).unwrap();
        assert_eq!(table, oracle(&quoted).unwrap());
        assert_eq!(table.id(ROWS), format!("C{ROWS}"));
        // A header longer than a block.
        let text = "ID,x,t_x,T\nb,0,0,3\n";
        std::fs::write(&path, text).unwrap();
        assert_eq!(read_file(&path, 4).unwrap(), oracle(text).unwrap());
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            read_summary_csv_path(&path),
            Err(Error::Io {
                kind: std::io::ErrorKind::NotFound,
                ..
            })
        ));
    }
}
