//! Transaction logs from delimited text.
//!
//! Files without quote characters (the common case for machine exports) are split into
//! chunks at line boundaries and parsed in parallel; each chunk interns ids locally and
//! the chunks are merged in file order, so indices follow first appearance in the file
//! whatever the thread count. A file with quotes goes through the `csv` crate
//! sequentially, since a quoted field may hold a newline.

use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::data::{
    check_amount, Column, ColumnState, Columns, Dataset, DatasetBuilder, IdMap, Interner, Loaded,
    Mode, RawRows, RowMaps, RowPolicy, View,
};
use crate::error::{Error, Problem, Result, RowError};
use crate::time::{DateFormat, Timestamp};

/// How fields are separated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Delimiter {
    /// One byte (`b','`, `b';'`, `b'\t'`, `b'|'`). Fields may be quoted with `"`.
    Byte(u8),
    /// Runs of spaces and tabs, leading and trailing ones ignored (CDNOW's format).
    /// Fields cannot be quoted.
    Whitespace,
}

/// A column, by header name or by 0-based position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnRef {
    /// By name in the header line.
    Name(String),
    /// By 0-based position (needed when the file has no header).
    Index(usize),
}

impl From<&str> for ColumnRef {
    fn from(s: &str) -> Self {
        ColumnRef::Name(s.to_string())
    }
}

impl From<usize> for ColumnRef {
    fn from(i: usize) -> Self {
        ColumnRef::Index(i)
    }
}

/// Options for reading a transaction log from delimited text.
///
/// Defaults: comma-separated with a header; columns `customer_id`, `date`, `amount`;
/// the optional columns `cost`, `quantity`, `product_id`, `channel`, `region` and
/// `order_id` are read when the header has them; dates in any format of
/// [`DateFormat::Auto`].
///
/// A `category` column (read with the product column only) gives each product its
/// category in the dataset's product table. A product given two categories, by two lines
/// or by a line and the product table, is a [`Problem::Conflict`] in field `category` on
/// the later line; it stops the load in lenient mode too, since which line is wrong is not
/// known. Row rules (strict or lenient, returns, known customers) belong to
/// the [`DatasetBuilder`] given to [`read_into`](Self::read_into).
///
/// ```
/// use acrm::io::CsvOptions;
/// let csv = "customer_id,date,amount\nA,2024-01-02,10.5\nB,2024-01-03,7\nA,2024-02-01,3\n";
/// let loaded = CsvOptions::new().read_bytes(csv.as_bytes())?;
/// let all = loaded.dataset.view(&acrm::data::Scope::all());
/// assert_eq!((all.transactions(), all.len()), (3, 2));
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CsvOptions {
    delimiter: Delimiter,
    has_header: bool,
    customer: ColumnRef,
    date: ColumnRef,
    amount: ColumnRef,
    optional: [Option<ColumnRef>; 7],
    detect_optional: bool,
    date_format: DateFormat,
    numeric_ids: bool,
    #[serde(default = "default_block")]
    block: usize,
}

fn default_block() -> usize {
    BLOCK
}

/// Names of the optional columns, in the order of `CsvOptions::optional`.
pub(super) const OPTIONAL: [&str; 7] = [
    "cost",
    "quantity",
    "product_id",
    "channel",
    "region",
    "order_id",
    "category",
];

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: Delimiter::Byte(b','),
            has_header: true,
            customer: "customer_id".into(),
            date: "date".into(),
            amount: "amount".into(),
            optional: Default::default(),
            detect_optional: true,
            date_format: DateFormat::Auto,
            numeric_ids: false,
            block: BLOCK,
        }
    }
}

macro_rules! optional_setter {
    ($($name:ident = $i:expr),*) => {$(
        #[doc = concat!("Reads the `", stringify!($name), "` column from `col`.")]
        pub fn $name(mut self, col: impl Into<ColumnRef>) -> Self {
            self.optional[$i] = Some(col.into());
            self
        }
    )*};
}

impl CsvOptions {
    /// The defaults (see the type's documentation).
    pub fn new() -> Self {
        Self::default()
    }

    /// CDNOW_master.txt as shipped with lifetimes: whitespace-separated, header
    /// `customer_id date number_of_cds dollar_value`, dates `YYYYMMDD`. Ids are
    /// zero-padded numbers, read as numbers (`00012` is customer `12`), as lifetimes and the
    /// published summaries do.
    pub fn cdnow_master() -> Self {
        CsvOptions::new()
            .numeric_ids(true)
            .delimiter(Delimiter::Whitespace)
            .amount("dollar_value")
            .quantity("number_of_cds")
            .date_format(DateFormat::Compact)
    }

    /// An order-line file, as the `cube` example reads it and `synthesize --kind orders`
    /// writes it: header
    /// `order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost`
    /// (`line_no` is not read; `category` goes to the product table).
    pub fn order_lines() -> Self {
        CsvOptions::new()
            .detect_optional_columns(false)
            .date("order_date")
            .cost("cost")
            .quantity("quantity")
            .product("product")
            .channel("channel")
            .region("region")
            .order("order_id")
            .category("category")
    }

    /// CDNOW_sample.txt: whitespace-separated without header: master id, sample id, date
    /// (`YYYYMMDD`), CDs, dollars. The sample id is the customer, read as a number.
    pub fn cdnow_sample() -> Self {
        CsvOptions::new()
            .numeric_ids(true)
            .delimiter(Delimiter::Whitespace)
            .has_header(false)
            .customer(1)
            .date(2)
            .quantity(3)
            .amount(4)
            .date_format(DateFormat::Compact)
    }

    /// CDNOW's layout, told from the start of the file: CDNOW_master.txt with its header,
    /// CDNOW_sample.txt (five columns, no header), or the master's four columns without
    /// a header.
    pub fn cdnow(head: &[u8]) -> Self {
        let first = head.split(|&b| b == b'\n').next().unwrap_or_default();
        let text = String::from_utf8_lossy(first);
        if text.contains("customer_id") {
            CsvOptions::cdnow_master()
        } else if text.split_whitespace().count() == 5 {
            CsvOptions::cdnow_sample()
        } else {
            CsvOptions::cdnow_master()
                .has_header(false)
                .customer(0)
                .date(1)
                .quantity(2)
                .amount(3)
        }
    }

    /// Whether customer ids are read as numbers ([`numeric_ids`](Self::numeric_ids)): other
    /// files naming the same customers must read them the same way.
    pub fn ids_are_numeric(&self) -> bool {
        self.numeric_ids
    }

    /// The field separator.
    pub fn delimiter(mut self, d: Delimiter) -> Self {
        self.delimiter = d;
        self
    }
    /// Whether the first line is a header.
    pub fn has_header(mut self, yes: bool) -> Self {
        self.has_header = yes;
        self
    }
    /// The customer id column.
    pub fn customer(mut self, col: impl Into<ColumnRef>) -> Self {
        self.customer = col.into();
        self
    }
    /// The date column.
    pub fn date(mut self, col: impl Into<ColumnRef>) -> Self {
        self.date = col.into();
        self
    }
    /// The amount column.
    pub fn amount(mut self, col: impl Into<ColumnRef>) -> Self {
        self.amount = col.into();
        self
    }
    optional_setter!(
        cost = 0,
        quantity = 1,
        product = 2,
        channel = 3,
        region = 4,
        order = 5,
        category = 6
    );
    /// Whether to read optional columns found in the header under their default names
    /// (on by default).
    pub fn detect_optional_columns(mut self, yes: bool) -> Self {
        self.detect_optional = yes;
        self
    }
    /// Read customer ids as decimal numbers: leading zeros are dropped (`007` is `7`);
    /// an id that is not all digits is a [`Problem::BadNumber`].
    pub fn numeric_ids(mut self, yes: bool) -> Self {
        self.numeric_ids = yes;
        self
    }
    /// The date format.
    pub fn date_format(mut self, f: DateFormat) -> Self {
        self.date_format = f;
        self
    }

    /// Bytes parsed per block (default 8 MiB, at least 1): memory while loading is the
    /// dataset plus a few blocks. Lines longer than a block are read whole.
    pub fn block_size(mut self, bytes: usize) -> Self {
        self.block = bytes.max(1);
        self
    }

    /// Reads a file with a default [`DatasetBuilder`] (strict), streaming it in blocks
    /// (see [`read_from`](Self::read_from)).
    ///
    /// # Errors
    /// See [`read_into`](Self::read_into); [`Error::Io`] when the file cannot be read.
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<Loaded> {
        self.read_from(Dataset::builder(), std::fs::File::open(path)?)
    }

    /// Reads bytes with a default [`DatasetBuilder`] (strict).
    ///
    /// # Errors
    /// See [`read_into`](Self::read_into).
    pub fn read_bytes(&self, bytes: &[u8]) -> Result<Loaded> {
        self.read_into(Dataset::builder(), bytes)
    }

    /// Reads bytes into a builder, which carries the row rules and any customer and
    /// product tables given beforehand, and builds the dataset.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for a column not in the header, or an optional column
    /// the builder's records have and the file lacks; an [`Error::Row`] of
    /// [`Problem::Inconsistent`](crate::Problem::Inconsistent) on line 1 for an
    /// optional column the file has and the builder's records lack; [`Error::EmptyInput`]
    /// when no row is kept; in strict mode, the [`RowError`] of the first bad row: too few
    /// fields, an empty or unparsable value, a non-finite number, a rejected negative
    /// amount, an unknown customer.
    pub fn read_into(&self, builder: DatasetBuilder, bytes: &[u8]) -> Result<Loaded> {
        let bytes = &*super::text::decode_bytes(bytes)?;
        let (ctx, mut sink, mut rest) = Loader::start(self, builder, bytes)?;
        let mut parsed = Vec::new();
        while !rest.is_empty() {
            // Blocks end at a line end, so a block without quotes holds no part of a
            // quoted field.
            let cut = line_block_end(rest, self.block);
            if ctx.quotable && memchr::memchr(b'"', &rest[..cut]).is_some() {
                sink.absorb(std::mem::take(&mut parsed))?;
                parsed = vec![ctx.quoted(rest)?];
                break;
            }
            // Block k + 1 is parsed while block k is merged.
            let (merged, next) = rayon::join(|| sink.absorb(parsed), || ctx.plain(&rest[..cut]));
            merged?;
            parsed = next;
            rest = &rest[cut..];
        }
        sink.absorb(parsed)?;
        sink.builder.build()
    }

    /// Reads from any reader into a builder, in blocks of 8 MiB: while one block is
    /// parsed in parallel, the next is read and the previous one merged, and memory holds
    /// the dataset and a few blocks, never the whole input. Once a block holds a quote
    /// character, the rest of the input is read into memory and parsed by the `csv` crate
    /// (a quoted field may span lines).
    ///
    /// # Errors
    /// As [`read_into`](Self::read_into); [`Error::Io`] when reading fails.
    pub fn read_from<R: Read + Send>(&self, builder: DatasetBuilder, input: R) -> Result<Loaded> {
        let mut input = super::text::Text::new(input)?;
        let block = self.block;
        let mut cur = Vec::with_capacity(block + (block >> 4));
        let mut eof = fill(&mut input, &mut cur, block)?;
        // The header (and the first block) must hold a whole line.
        while !eof && memchr::memchr(b'\n', &cur).is_none() {
            let len = cur.len() + block;
            eof = fill(&mut input, &mut cur, len)?;
        }
        let (ctx, mut sink, rest) = Loader::start(self, builder, &cur)?;
        let consumed = cur.len() - rest.len();
        cur.drain(..consumed);
        let mut next = Vec::with_capacity(cur.capacity());
        let mut parsed = Vec::new();
        loop {
            while !eof && memchr::memchr(b'\n', &cur).is_none() {
                let len = cur.len() + block;
                eof = fill(&mut input, &mut cur, len)?;
            }
            let cut = if eof {
                cur.len()
            } else {
                memchr::memrchr(b'\n', &cur).map_or(cur.len(), |i| i + 1)
            };
            if ctx.quotable && memchr::memchr(b'"', &cur[..cut]).is_some() {
                sink.absorb(std::mem::take(&mut parsed))?;
                if !eof {
                    input.read_to_end(&mut cur)?;
                }
                parsed = vec![ctx.quoted(&cur)?];
                break;
            }
            next.clear();
            next.extend_from_slice(&cur[cut..]);
            let (read, (merged, chunks)) = rayon::join(
                || {
                    if eof {
                        Ok(true)
                    } else {
                        fill(&mut input, &mut next, block)
                    }
                },
                || rayon::join(|| sink.absorb(parsed), || ctx.plain(&cur[..cut])),
            );
            merged?;
            parsed = chunks;
            let done = eof && cut == cur.len();
            eof = read?;
            std::mem::swap(&mut cur, &mut next);
            if done || (eof && cur.is_empty()) {
                break;
            }
        }
        sink.absorb(parsed)?;
        sink.builder.build()
    }

    fn delimiter_byte(&self) -> u8 {
        match self.delimiter {
            Delimiter::Byte(b) => b,
            Delimiter::Whitespace => b' ',
        }
    }

    fn header_fields(&self, line: &[u8]) -> Result<Vec<String>> {
        let fields: Vec<String> = match self.delimiter {
            Delimiter::Whitespace => trim_eol(line)
                .split(|&c| c == b' ' || c == b'\t')
                .filter(|f| !f.is_empty())
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect(),
            Delimiter::Byte(d) => {
                let mut r = ::csv::ReaderBuilder::new()
                    .has_headers(false)
                    .delimiter(d)
                    .from_reader(line);
                let mut rec = ::csv::StringRecord::new();
                r.read_record(&mut rec)?;
                rec.iter().map(str::to_string).collect()
            }
        };
        if fields.iter().all(String::is_empty) {
            return Err(Error::EmptyInput);
        }
        Ok(fields.into_iter().map(|f| f.trim().to_string()).collect())
    }

    fn layout(&self, header: Option<&[String]>) -> Result<Layout> {
        let find = |col: &ColumnRef| -> Result<(usize, String)> {
            match (col, header) {
                (ColumnRef::Index(i), Some(h)) => {
                    Ok((*i, h.get(*i).cloned().unwrap_or_else(|| format!("#{i}"))))
                }
                (ColumnRef::Index(i), None) => Ok((*i, format!("#{i}"))),
                (ColumnRef::Name(n), Some(h)) => h
                    .iter()
                    .position(|x| x == n)
                    .map(|i| (i, n.clone()))
                    .ok_or_else(|| Error::MissingColumn {
                        column: n.clone(),
                        available: h.to_vec(),
                    }),
                (ColumnRef::Name(n), None) => Err(Error::MissingColumn {
                    column: n.clone(),
                    available: Vec::new(),
                }),
            }
        };
        let mut optional: [Option<(usize, String)>; 7] = Default::default();
        for (k, slot) in optional.iter_mut().enumerate() {
            *slot = match &self.optional[k] {
                Some(col) => Some(find(col)?),
                None if self.detect_optional => header.and_then(|h| {
                    h.iter()
                        .position(|x| x == OPTIONAL[k])
                        .map(|i| (i, OPTIONAL[k].to_string()))
                }),
                None => None,
            };
        }
        if let (Some(_), None) = (&optional[6], &optional[2]) {
            // A category is a product's: without products it has nothing to describe.
            return Err(Error::MissingColumn {
                column: OPTIONAL[2].into(),
                available: header.map(<[String]>::to_vec).unwrap_or_default(),
            });
        }
        Ok(Layout {
            customer: find(&self.customer)?,
            date: find(&self.date)?,
            amount: find(&self.amount)?,
            optional,
        })
    }
}

/// Default bytes parsed per block: large enough to split into a part per core, small
/// enough that a few blocks are a rounding error next to a dataset of millions of rows.
const BLOCK: usize = 8 << 20;

/// Reads until `buf` holds `len` bytes or the input ends; true at the end.
pub(super) fn fill(input: &mut impl Read, buf: &mut Vec<u8>, len: usize) -> Result<bool> {
    let want = len.saturating_sub(buf.len());
    let got = input.by_ref().take(want as u64).read_to_end(buf)?;
    Ok(got < want)
}

/// The end of the first block of `bytes`: past the first line end at or after byte
/// `len - 1` (`len` ≥ 1).
pub(super) fn line_block_end(bytes: &[u8], len: usize) -> usize {
    if bytes.len() <= len {
        return bytes.len();
    }
    memchr::memchr(b'\n', &bytes[len - 1..]).map_or(bytes.len(), |i| len + i)
}

/// Physical line numbers of the records the `csv` crate reads from `body`.
///
/// The csv crate's position is taken before it skips blank lines and the `\n` of a CRLF,
/// so the physical line is counted here from the record's byte offset.
pub(super) struct LineCounter<'a> {
    body: &'a [u8],
    first_line: u64,
    counted_to: usize,
    newlines: u64,
}

impl<'a> LineCounter<'a> {
    /// Counting from the start of `body`, whose first line is `first_line`.
    pub(super) fn new(body: &'a [u8], first_line: u64) -> Self {
        LineCounter {
            body,
            first_line,
            counted_to: 0,
            newlines: 0,
        }
    }

    /// The line of the record whose position the csv crate gives as byte `byte` (calls
    /// must come in file order).
    pub(super) fn line_at(&mut self, byte: usize) -> u64 {
        let body = self.body;
        let mut start = byte.min(body.len());
        while start < body.len() && (body[start] == b'\r' || body[start] == b'\n') {
            start += 1;
        }
        if start > self.counted_to {
            self.newlines +=
                memchr::memchr_iter(b'\n', &body[self.counted_to..start]).count() as u64;
            self.counted_to = start;
        }
        self.first_line + self.newlines
    }
}

/// As [`LineCounter::line_at`] for one record of a whole input, read from its start in
/// small pieces (for an error's line in a file too large to hold): the physical line,
/// from 1, of the record whose position the csv crate gives as byte `byte`.
pub(super) fn line_at_byte(mut input: impl Read, byte: u64) -> Result<u64> {
    let mut buf = vec![0; 64 << 10];
    let (mut line, mut at) = (1u64, 0u64);
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(line),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        let piece = &buf[..n];
        let before = usize::try_from(byte.saturating_sub(at)).map_or(n, |b| b.min(n));
        line += memchr::memchr_iter(b'\n', &piece[..before]).count() as u64;
        // The csv crate's position is before the blank lines it skips.
        for &b in &piece[before..] {
            match b {
                b'\n' => line += 1,
                b'\r' => {}
                _ => return Ok(line),
            }
        }
        at += n as u64;
    }
}

/// Builds the error of a field: column, value, problem.
type ErrFn<'a> = dyn Fn(&(usize, String), &[u8], Problem) -> RowError + 'a;

/// What parsing a block needs: the layout from the header and the row rules. Shared by
/// the parallel parts; the [`Sink`] merges their output in order.
struct Loader<'o> {
    opts: &'o CsvOptions,
    layout: Layout,
    policy: RowPolicy,
    /// The customer table's ids, when rows must name a known customer.
    known: Option<Arc<Interner>>,
    /// The builder's id map: known customers are checked by golden id.
    id_map: Option<Arc<IdMap>>,
    /// Whether fields may be quoted (byte delimiters).
    quotable: bool,
}

/// The builder that receives parsed blocks in file order, and the line number where the
/// next block starts.
struct Sink {
    builder: DatasetBuilder,
    line: u64,
}

impl<'o> Loader<'o> {
    /// Reads the header from the start of the input; returns the loader, the sink and
    /// the input after the header.
    fn start<'b>(
        opts: &'o CsvOptions,
        mut builder: DatasetBuilder,
        bytes: &'b [u8],
    ) -> Result<(Self, Sink, &'b [u8])> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let (header, body, line) = if opts.has_header {
            let end = memchr::memchr(b'\n', bytes).map_or(bytes.len(), |i| i + 1);
            (Some(opts.header_fields(&bytes[..end])?), &bytes[end..], 2)
        } else {
            (None, bytes, 1)
        };
        let layout = opts.layout(header.as_deref())?;
        builder.set_columns(layout.columns())?;
        let policy = builder.row_policy();
        let known = policy
            .require_known_customers
            .then(|| Arc::clone(builder.customer_ids()));
        let loader = Loader {
            opts,
            layout,
            policy,
            known,
            id_map: builder.id_map_ref().cloned(),
            quotable: matches!(opts.delimiter, Delimiter::Byte(_)),
        };
        Ok((loader, Sink { builder, line }, body))
    }

    fn parser(&self) -> RowParser<'_> {
        RowParser {
            layout: &self.layout,
            format: &self.opts.date_format,
            policy: self.policy,
            known: self.known.as_deref(),
            id_map: self.id_map.as_deref(),
            numeric_ids: self.opts.numeric_ids,
        }
    }

    /// Parses whole lines without quotes, in parallel parts.
    fn plain(&self, block: &[u8]) -> Vec<Chunk> {
        let parts = split_lines(block, rayon::current_num_threads() * 2);
        let parser = self.parser();
        parts
            .par_iter()
            .map(|part| parser.parse_plain(part, self.opts.delimiter))
            .collect()
    }

    /// Parses the rest of the input with the `csv` crate.
    fn quoted(&self, rest: &[u8]) -> Result<Chunk> {
        self.parser()
            .parse_quoted(rest, self.opts.delimiter_byte(), 1)
    }
}

impl Sink {
    /// Merges parsed chunks in order; the first bad row (strict mode) is the error.
    fn absorb(&mut self, mut chunks: Vec<Chunk>) -> Result<()> {
        for c in &mut chunks {
            c.shift_lines(self.line);
            self.line += c.lines;
        }
        if let Some(e) = chunks.iter().find_map(|c| c.error.clone()) {
            return Err(e.into());
        }
        self.builder
            .absorb_chunks(chunks.into_iter().map(Chunk::into_parts))
    }
}

/// Where each column is, with the name errors use.
#[derive(Debug)]
struct Layout {
    customer: (usize, String),
    date: (usize, String),
    amount: (usize, String),
    optional: [Option<(usize, String)>; 7],
}

impl Layout {
    /// Number of leading fields a row must be split into.
    fn width(&self) -> usize {
        let opt = self.optional.iter().flatten().map(|c| c.0);
        [self.customer.0, self.date.0, self.amount.0]
            .into_iter()
            .chain(opt)
            .max()
            .unwrap_or(0)
            + 1
    }

    fn columns(&self) -> Columns {
        let o = |i: usize| self.optional[i].is_some();
        Columns {
            cost: o(0),
            quantity: o(1),
            product: o(2),
            channel: o(3),
            region: o(4),
            order: o(5),
        }
    }
}

/// Rows parsed from one chunk, with ids interned locally.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    rows: RawRows,
    /// Local interners: customers, products, channels, regions, orders.
    names: [Interner; 5],
    /// Local category names, and per local product its category and the line that
    /// first gave it (for the error when a later chunk gives another).
    categories: Interner,
    product_category: Vec<Option<(u32, u64)>>,
    report: crate::data::LoadReport,
    /// Physical lines in the chunk (for numbering later chunks).
    lines: u64,
    /// First bad row in strict mode (chunk-relative line until shifted).
    error: Option<RowError>,
}

impl Chunk {
    fn shift_lines(&mut self, first_line: u64) {
        let shift = first_line - 1;
        for e in self.error.iter_mut().chain(self.report.examples.iter_mut()) {
            e.line += shift;
        }
        for (_, line) in self.product_category.iter_mut().flatten() {
            *line += shift;
        }
    }

    fn into_parts(self) -> ChunkParts {
        let categories = self
            .product_category
            .iter()
            .enumerate()
            .filter_map(|(p, c)| c.map(|(c, line)| (p as u32, c, line)))
            .collect();
        ChunkParts {
            rows: self.rows,
            names: self.names,
            report: self.report,
            category_names: self.categories,
            categories,
        }
    }
}

impl ChunkParts {
    /// Parts made by another reader (Arrow batches).
    #[cfg(feature = "arrow")]
    pub(crate) fn new(
        rows: RawRows,
        names: [Interner; 5],
        report: crate::data::LoadReport,
        category_names: Interner,
        categories: Vec<(u32, u32, u64)>,
    ) -> Self {
        ChunkParts {
            rows,
            names,
            report,
            category_names,
            categories,
        }
    }
}

/// A parsed chunk as the builder takes it.
pub(crate) struct ChunkParts {
    rows: RawRows,
    names: [Interner; 5],
    report: crate::data::LoadReport,
    category_names: Interner,
    /// (local product, local category, line first giving it).
    categories: Vec<(u32, u32, u64)>,
}

struct RowParser<'a> {
    layout: &'a Layout,
    format: &'a DateFormat,
    policy: RowPolicy,
    known: Option<&'a Interner>,
    id_map: Option<&'a IdMap>,
    numeric_ids: bool,
}

/// Trims a trailing `\n` or `\r\n`.
fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Splits `line` into at most `width` leading fields (the rest is never scanned).
fn split_fields<'a>(line: &'a [u8], d: Delimiter, width: usize, out: &mut Vec<&'a [u8]>) {
    out.clear();
    match d {
        Delimiter::Byte(b) => {
            // Fields are short: a plain scan beats memchr's setup per call.
            let mut start = 0;
            for (i, &c) in line.iter().enumerate() {
                if c == b {
                    out.push(&line[start..i]);
                    if out.len() == width {
                        return;
                    }
                    start = i + 1;
                }
            }
            out.push(&line[start..]);
        }
        Delimiter::Whitespace => out.extend(
            line.split(|&c| c == b' ' || c == b'\t')
                .filter(|f| !f.is_empty())
                .take(width),
        ),
    }
}

/// Splits `body` into about `n` parts at line boundaries (at least 1 MiB each).
pub(super) fn split_lines(body: &[u8], n: usize) -> Vec<&[u8]> {
    let target = (body.len() / n.max(1)).max(1 << 20);
    let mut parts = Vec::new();
    let mut rest = body;
    while rest.len() > target {
        let cut = memchr::memchr(b'\n', &rest[target..]).map_or(rest.len(), |i| target + i + 1);
        let (a, b) = rest.split_at(cut);
        parts.push(a);
        rest = b;
    }
    parts.push(rest);
    parts
}

fn field_str(f: &[u8]) -> &str {
    // Only called on fields already checked as UTF-8 or for error messages.
    std::str::from_utf8(f).unwrap_or("<not UTF-8>")
}

fn clip(f: &[u8]) -> String {
    let s = String::from_utf8_lossy(f);
    s.chars().take(200).collect()
}

impl RowParser<'_> {
    fn parse_plain(&self, part: &[u8], d: Delimiter) -> Chunk {
        let mut chunk = Chunk {
            rows: RawRows::with_columns(self.layout.columns()),
            ..Chunk::default()
        };
        let mut fields: Vec<&[u8]> = Vec::with_capacity(16);
        // Fields past the last column read are never split.
        let width = self.layout.width();
        let mut start = 0;
        while start < part.len() {
            let end = memchr::memchr(b'\n', &part[start..]).map_or(part.len(), |i| start + i + 1);
            let line = trim_eol(&part[start..end]);
            start = end;
            chunk.lines += 1;
            if line.iter().all(|c| c.is_ascii_whitespace()) {
                continue;
            }
            split_fields(line, d, width, &mut fields);
            if !self.row(&fields, chunk.lines, &mut chunk) {
                break;
            }
        }
        chunk
    }

    fn parse_quoted(&self, body: &[u8], d: u8, first_line: u64) -> Result<Chunk> {
        let mut chunk = Chunk {
            rows: RawRows::with_columns(self.layout.columns()),
            ..Chunk::default()
        };
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(d)
            .from_reader(body);
        let mut rec = ::csv::ByteRecord::new();
        let mut lines = LineCounter::new(body, first_line);
        let mut line_at = |byte: usize| lines.line_at(byte);
        loop {
            match reader.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {
                    let line = line_at(rec.position().map_or(0, |p| p.byte() as usize));
                    let fields: Vec<&[u8]> = rec.iter().collect();
                    if fields.iter().all(|f| f.iter().all(u8::is_ascii_whitespace)) {
                        continue;
                    }
                    if !self.row(&fields, line, &mut chunk) {
                        break;
                    }
                }
                Err(e) => {
                    let line = line_at(e.position().map_or(0, |p| p.byte() as usize));
                    let err = RowError {
                        line,
                        field: String::new(),
                        value: e.to_string(),
                        problem: Problem::Malformed,
                    };
                    if self.policy.mode == Mode::Strict {
                        chunk.error = Some(err);
                        break;
                    }
                    chunk.report.rows += 1;
                    chunk.report.skip(err);
                }
            }
        }
        Ok(chunk)
    }

    /// Parses one row into the chunk. Returns false when parsing must stop (strict error).
    fn row(&self, fields: &[&[u8]], line: u64, chunk: &mut Chunk) -> bool {
        chunk.report.rows += 1;
        match self.parse_row(fields, line, chunk) {
            Ok(()) => {
                chunk.report.loaded += 1;
                true
            }
            // A product given two categories contradicts the file itself: which rows are
            // wrong is not known, so it stops the load in either mode.
            Err(e) if self.policy.mode == Mode::Lenient && e.problem != Problem::Conflict => {
                chunk.report.skip(e);
                true
            }
            Err(e) => {
                chunk.error = Some(e);
                false
            }
        }
    }

    /// A customer id as interned: valid UTF-8, normalised when ids are numeric, and
    /// known when the rules require it.
    fn customer_id<'f>(
        &self,
        raw: &'f [u8],
        col: &(usize, String),
        err: &ErrFn<'_>,
    ) -> Result<&'f str, RowError> {
        let raw_id = std::str::from_utf8(raw).map_err(|_| err(col, raw, Problem::NotUtf8))?;
        let mut id = raw_id;
        if self.numeric_ids {
            id = numeric_id(id).ok_or_else(|| err(col, raw, Problem::BadNumber))?;
        }
        if let Some(known) = self.known {
            let known_as = self.id_map.map_or(id, |m| m.golden(id));
            if known.get(known_as).is_none() {
                return Err(err(col, raw, Problem::UnknownCustomer));
            }
        }
        Ok(id)
    }

    fn parse_row(&self, fields: &[&[u8]], line: u64, chunk: &mut Chunk) -> Result<(), RowError> {
        let err = |(_, name): &(usize, String), f: &[u8], problem| RowError {
            line,
            field: name.clone(),
            value: clip(f),
            problem,
        };
        let get = |col: &(usize, String)| -> Result<&[u8], RowError> {
            match fields.get(col.0) {
                None => Err(err(col, b"", Problem::MissingField)),
                Some(f) => {
                    let f = f.trim_ascii();
                    if f.is_empty() {
                        Err(err(col, f, Problem::EmptyValue))
                    } else {
                        Ok(f)
                    }
                }
            }
        };
        let text = |col: &(usize, String)| -> Result<&str, RowError> {
            let f = get(col)?;
            std::str::from_utf8(f).map_err(|_| err(col, f, Problem::NotUtf8))
        };
        let number = |col: &(usize, String)| -> Result<f64, RowError> {
            let f = get(col)?;
            let v: f64 = field_str(f)
                .parse()
                .map_err(|_| err(col, f, Problem::BadNumber))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(err(col, f, Problem::NonFinite))
            }
        };
        let l = self.layout;
        // Parse every field before touching the chunk, so a bad row leaves no trace.
        // Exports usually group a customer's rows: when the id repeats byte for byte, the
        // previous row's index stands, its checks passed (and a normalised numeric id
        // equals its raw bytes), and neither UTF-8 validation nor a hash lookup is needed.
        let raw_id = get(&l.customer)?;
        let repeat = chunk
            .rows
            .customer
            .last()
            .copied()
            .filter(|&prev| chunk.names[0].name(prev as usize).as_bytes() == raw_id);
        let id = match repeat {
            Some(_) => "",
            None => self.customer_id(raw_id, &l.customer, &err)?,
        };
        let f = get(&l.date)?;
        let t: Timestamp = self
            .format
            .parse(f)
            .ok_or_else(|| err(&l.date, f, Problem::BadDate))?;
        let f = get(&l.amount)?;
        let amount = field_str(f)
            .parse::<f64>()
            .map_err(|_| err(&l.amount, f, Problem::BadNumber))
            .and_then(|v| check_amount(v, &self.policy).map_err(|p| err(&l.amount, f, p)))?;
        let cost = l.optional[0].as_ref().map(number).transpose()?;
        let quantity = l.optional[1].as_ref().map(number).transpose()?;
        let names: [Option<&str>; 4] = [
            l.optional[2].as_ref().map(text).transpose()?,
            l.optional[3].as_ref().map(text).transpose()?,
            l.optional[4].as_ref().map(text).transpose()?,
            l.optional[5].as_ref().map(text).transpose()?,
        ];
        let category = match (&l.optional[6], names[0]) {
            (Some(col), Some(product)) => {
                let name = text(col)?;
                let known = chunk.names[1]
                    .get(product)
                    .and_then(|p| chunk.product_category.get(p as usize).copied().flatten());
                match known {
                    Some((c, _)) if chunk.categories.name(c as usize) != name => {
                        let f = get(col)?;
                        return Err(err(col, f, Problem::Conflict));
                    }
                    Some(_) => None,
                    None => Some(name),
                }
            }
            _ => None,
        };
        let rows = &mut chunk.rows;
        let c = match repeat {
            Some(prev) => prev,
            None => chunk.names[0].intern(id),
        };
        rows.customer.push(c);
        rows.push_time(t);
        rows.amount.push(amount);
        if let (Some(c), Some(v)) = (&mut rows.cost, cost) {
            c.push(v);
        }
        if let (Some(c), Some(v)) = (&mut rows.quantity, quantity) {
            c.push(v);
        }
        let cols = [
            &mut rows.product,
            &mut rows.channel,
            &mut rows.region,
            &mut rows.order,
        ];
        for (k, (col, name)) in cols.into_iter().zip(names).enumerate() {
            if let (Some(c), Some(v)) = (col, name) {
                // The lines of an order repeat its id, channel and region: a repeat of the
                // previous row's value needs no hash lookup.
                let names = &mut chunk.names[k + 1];
                let id = match c.last() {
                    Some(&prev) if names.name(prev as usize) == v => prev,
                    _ => names.intern(v),
                };
                c.push(id);
            }
        }
        if let (Some(name), Some(&p)) = (category, rows.product.as_ref().and_then(|c| c.last())) {
            let c = chunk.categories.intern(name);
            let slots = &mut chunk.product_category;
            if slots.len() <= p as usize {
                slots.resize(p as usize + 1, None);
            }
            slots[p as usize] = Some((c, line));
        }
        Ok(())
    }
}

impl DatasetBuilder {
    /// Merges parsed chunks in order, mapping their local ids to the builder's.
    ///
    /// # Errors
    /// A [`Problem::Conflict`] row error in field `category` when a chunk gives a product
    /// another category than an earlier chunk (or the product table) did.
    pub(crate) fn absorb_chunks(&mut self, chunks: impl Iterator<Item = ChunkParts>) -> Result<()> {
        for chunk in chunks {
            let ChunkParts {
                rows,
                names,
                report,
                category_names,
                categories,
            } = chunk;
            let maps = self.intern_names(&names);
            for (p, c, line) in categories {
                let name = category_names.name(c as usize);
                let product = crate::data::ProductIdx(maps[1][p as usize]);
                if self.set_product_category(product, name).is_err() {
                    return Err(RowError {
                        line,
                        field: OPTIONAL[6].into(),
                        value: name.chars().take(200).collect(),
                        problem: Problem::Conflict,
                    }
                    .into());
                }
            }
            self.append_rows(
                rows,
                &RowMaps {
                    customer: &maps[0],
                    product: &maps[1],
                    channel: &maps[2],
                    region: &maps[3],
                    order: &maps[4],
                },
            );
            self.absorb_report(report);
        }
        Ok(())
    }
}

/// A numeric id as interned: leading zeros dropped (`007` is `7`, `000` is `0`); `None`
/// unless all digits. The one normalisation for every reader of CDNOW-style ids.
pub(crate) fn numeric_id(id: &str) -> Option<&str> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = id.trim_start_matches('0');
    Some(if trimmed.is_empty() { "0" } else { trimmed })
}

/// Writes the transactions a view shows as CSV: `customer_id,date,amount` and the
/// optional columns present and not hidden. Dates are `YYYY-MM-DD`, or RFC 3339 in UTC
/// when the log has times.
///
/// # Errors
/// I/O errors of the writer.
pub fn write_transactions_csv<W: Write>(view: &View<'_>, out: W) -> Result<()> {
    let mut w =
        ::csv::WriterBuilder::new().from_writer(std::io::BufWriter::with_capacity(1 << 20, out));
    let shown = |c: Column| view.column(c) == ColumnState::Present;
    let cols = [
        Column::Cost,
        Column::Quantity,
        Column::Product,
        Column::Channel,
        Column::Region,
        Column::Order,
    ];
    // The cost column of the log, not the products' unit costs.
    let has_cost_column = shown(Column::Cost) && view.costs().is_ok();
    let present = cols.map(|c| match c {
        Column::Cost => has_cost_column,
        c => shown(c),
    });
    let mut header = vec!["customer_id", "date", "amount"];
    header.extend(
        OPTIONAL
            .iter()
            .zip(present)
            .filter(|(_, p)| *p)
            .map(|(n, _)| *n),
    );
    w.write_record(&header)?;
    let products = view.catalogue().ok();
    let channels = view.channel_names().ok();
    let regions = view.region_names().ok();
    let orders = view.order_ids().ok();
    // `Display` of f64 is the shortest form that reads back to the same value.
    let mut num = String::new();
    let mut float = |w: &mut ::csv::Writer<_>, v: f64| -> Result<()> {
        use std::fmt::Write as _;
        num.clear();
        let _ = write!(num, "{v}");
        Ok(w.write_field(&num)?)
    };
    for k in 0..view.len() {
        let id = view.id(k);
        let h = view.history(k);
        for i in 0..h.len() {
            w.write_field(id)?;
            let t = Timestamp::from_parts(h.days[i], h.seconds.map(|s| s[i]));
            w.write_field(t.to_string())?;
            float(&mut w, h.amounts[i])?;
            if let (true, Some(v)) = (present[0], h.costs) {
                float(&mut w, v[i])?;
            }
            if let (true, Some(v)) = (present[1], h.quantities) {
                float(&mut w, v[i])?;
            }
            if let (Some(names), Some(v)) = (&products, h.products) {
                w.write_field(names.id(v[i]))?;
            }
            if let (Some(names), Some(v)) = (channels, h.channels) {
                w.write_field(names.name(v[i].get()))?;
            }
            if let (Some(names), Some(v)) = (regions, h.regions) {
                w.write_field(names.name(v[i].get()))?;
            }
            if let (Some(names), Some(v)) = (orders, h.orders) {
                w.write_field(names.name(v[i].get()))?;
            }
            w.write_record(None::<&[u8]>)?;
        }
    }
    w.flush()?;
    Ok(())
}
