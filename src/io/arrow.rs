//! Arrow record batches in and out (feature `arrow`).
//!
//! In: [`ArrowOptions`] builds a [`Dataset`] from record batches with the row rules of
//! the CSV reader; a bad value is an [`Error::Batch`] naming the batch, the row, the
//! column and the value. Out: [`summary_batch`] writes a summary with a fixed schema, and
//! [`to_record_batch`] / [`from_record_batch`] turn any of the crate's serde tables (a
//! `Vec` of result rows, or of input records such as [`CustomerRecord`](crate::data::CustomerRecord))
//! into a batch and back.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray, StringViewArray, UInt32Array,
};
use arrow::datatypes::{DataType, Field, Float64Type, Schema, TimeUnit as Unit};
use chrono::{DateTime, Offset, TimeZone};
use rayon::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::csv::{ChunkParts, OPTIONAL};
use crate::data::{
    check_amount, Columns, Dataset, DatasetBuilder, IdMap, Interner, LoadReport, Loaded, Mode,
    RawRows, RowPolicy,
};
use crate::error::{BatchError, Error, Problem, Result, RowError};
use crate::summary::Summary;
use crate::time::{day_number, DateFormat, TimeUnit, Timestamp};

/// How to read transactions from Arrow record batches: which column is which, by name.
///
/// Required columns `customer_id`, `date` and `amount`; optional columns (`cost`,
/// `quantity`, `product_id`, `channel`, `region`, `order_id`, `category`) are read when
/// the first batch has them (or when named). Types read:
///
/// | column | Arrow types |
/// |---|---|
/// | ids and names | `Utf8`, `LargeUtf8`, `Utf8View`, a dictionary of these; integers (written in decimal) |
/// | `date` | `Date32`, `Date64`, `Timestamp` of any unit (with a time zone: the local date and time there; without: as written), or text in [`DateFormat`] |
/// | money and quantities | integers, floats, `Decimal32/64/128/256`, or decimal text |
///
/// A null in a column the reader uses is an [`Problem::EmptyValue`], as an empty CSV
/// field is. Batches are converted in parallel and merged in order, so the dataset is the
/// same for any thread count and any cut of the rows into batches.
///
/// ```
/// use std::sync::Arc;
/// use arrow::array::{Date32Array, Float64Array, RecordBatch, StringArray};
/// use acrm::io::ArrowOptions;
/// let batch = RecordBatch::try_from_iter([
///     ("customer_id", Arc::new(StringArray::from(vec!["ann", "bob", "ann"])) as _),
///     ("date", Arc::new(Date32Array::from(vec![19_800, 19_801, 19_830])) as _),
///     ("amount", Arc::new(Float64Array::from(vec![10.0, 15.0, 20.0])) as _),
/// ])?;
/// let loaded = ArrowOptions::new().read(&[batch])?;
/// assert_eq!(loaded.report.loaded, 3);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct ArrowOptions {
    customer: String,
    date: String,
    amount: String,
    optional: [Option<String>; 7],
    detect_optional: bool,
    date_format: DateFormat,
}

impl Default for ArrowOptions {
    fn default() -> Self {
        ArrowOptions {
            customer: "customer_id".into(),
            date: "date".into(),
            amount: "amount".into(),
            optional: Default::default(),
            detect_optional: true,
            date_format: DateFormat::Auto,
        }
    }
}

macro_rules! optional_setter {
    ($($name:ident = $i:expr),*) => {$(
        #[doc = concat!("Reads the `", stringify!($name), "` column from the column named `col`.")]
        pub fn $name(mut self, col: impl Into<String>) -> Self {
            self.optional[$i] = Some(col.into());
            self
        }
    )*};
}

/// Where a batch came from, for errors.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin<'a> {
    /// The file (Parquet), if any.
    pub file: Option<&'a str>,
    /// The batch (or the file's row group).
    pub batch: u64,
    /// Rows of the whole input before this batch (lenient examples number rows so).
    pub first_row: u64,
}

impl ArrowOptions {
    /// The defaults: columns `customer_id`, `date`, `amount`, optional columns by their
    /// names when present, dates of text columns recognised as the CSV reader does.
    pub fn new() -> Self {
        Self::default()
    }

    /// The customer id column.
    pub fn customer(mut self, col: impl Into<String>) -> Self {
        self.customer = col.into();
        self
    }

    /// The date column.
    pub fn date(mut self, col: impl Into<String>) -> Self {
        self.date = col.into();
        self
    }

    /// The amount column.
    pub fn amount(mut self, col: impl Into<String>) -> Self {
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

    /// Whether optional columns present under their default names are read (default
    /// true); with false, only the ones named are.
    pub fn detect_optional_columns(mut self, yes: bool) -> Self {
        self.detect_optional = yes;
        self
    }

    /// The format of dates held as text.
    pub fn date_format(mut self, f: DateFormat) -> Self {
        self.date_format = f;
        self
    }

    /// The columns a reader of these options needs from a file of `available` columns:
    /// the required three and the optional ones it would read (for a Parquet projection).
    pub(crate) fn projection(&self, available: &[String]) -> Vec<String> {
        let mut cols = vec![
            self.customer.clone(),
            self.date.clone(),
            self.amount.clone(),
        ];
        for (k, name) in self.optional.iter().enumerate() {
            match name {
                Some(n) => cols.push(n.clone()),
                None if self.detect_optional && available.iter().any(|a| a == OPTIONAL[k]) => {
                    cols.push(OPTIONAL[k].into())
                }
                None => {}
            }
        }
        cols
    }

    /// Reads batches with a default (strict) builder.
    ///
    /// # Errors
    /// See [`read_into`](Self::read_into).
    pub fn read(&self, batches: &[RecordBatch]) -> Result<Loaded> {
        self.read_into(Dataset::builder(), batches)
    }

    /// Reads batches into a builder (which carries the row rules and any customer and
    /// product tables) and builds the dataset.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for a column a batch lacks; [`Error::ColumnType`] for a
    /// column of a type that cannot hold it; [`Error::EmptyInput`] when no row is kept;
    /// in strict mode the [`Error::Batch`] of the first bad value: a null, a date out of
    /// range, a non-finite, too large or (when rejected) negative amount, an unknown
    /// customer. In lenient mode bad rows are skipped and counted, and the report's
    /// examples number rows from 1 across all batches.
    pub fn read_into(&self, builder: DatasetBuilder, batches: &[RecordBatch]) -> Result<Loaded> {
        let mut reader = BatchReader::new(self, builder);
        let mut first_row = 0;
        let origins: Vec<Origin<'_>> = batches
            .iter()
            .enumerate()
            .map(|(b, batch)| {
                let o = Origin {
                    file: None,
                    batch: b as u64,
                    first_row,
                };
                first_row += batch.num_rows() as u64;
                o
            })
            .collect();
        // Waves of a few batches per thread bound the parsed-but-unmerged rows.
        let wave = rayon::current_num_threads() * 4;
        for (bs, os) in batches.chunks(wave).zip(origins.chunks(wave)) {
            let units: Vec<_> = bs.iter().zip(os).map(|(b, o)| (b, *o)).collect();
            reader.absorb_wave(&units)?;
        }
        reader.finish()
    }
}

/// Converts batches in parallel waves and merges them into a builder in order.
pub(crate) struct BatchReader<'o> {
    opts: &'o ArrowOptions,
    builder: DatasetBuilder,
    columns: Option<Columns>,
    policy: RowPolicy,
    known: Option<Arc<Interner>>,
    id_map: Option<Arc<IdMap>>,
}

impl<'o> BatchReader<'o> {
    pub(crate) fn new(opts: &'o ArrowOptions, builder: DatasetBuilder) -> Self {
        let policy = builder.row_policy();
        let known = policy
            .require_known_customers
            .then(|| Arc::clone(builder.customer_ids()));
        let id_map = builder.id_map_ref().cloned();
        BatchReader {
            opts,
            builder,
            columns: None,
            policy,
            known,
            id_map,
        }
    }

    /// Converts `units` in parallel and merges them in the order given.
    pub(crate) fn absorb_wave(&mut self, units: &[(&RecordBatch, Origin<'_>)]) -> Result<()> {
        let Some((first, _)) = units.first() else {
            return Ok(());
        };
        if self.columns.is_none() {
            let layout = Layout::new(self.opts, first.schema().as_ref(), None)?;
            self.builder.set_columns(layout.columns())?;
            self.columns = Some(layout.columns());
        }
        let columns = self.columns.unwrap_or_default();
        let converted: Vec<Result<Converted>> = units
            .par_iter()
            .map(|(batch, origin)| {
                let layout = Layout::new(self.opts, batch.schema().as_ref(), Some(columns))?;
                Ok(self.convert(batch, &layout, *origin))
            })
            .collect();
        let mut parts = Vec::with_capacity(converted.len());
        for c in converted {
            let c = c?;
            if let Some(e) = c.error {
                // Merge what came before, so the error is the first in input order.
                self.builder.absorb_chunks(parts.into_iter())?;
                return Err(Error::Batch(e));
            }
            parts.push(c.parts);
        }
        self.builder.absorb_chunks(parts.into_iter())
    }

    pub(crate) fn finish(self) -> Result<Loaded> {
        self.builder.build()
    }

    fn convert(&self, batch: &RecordBatch, layout: &Layout, origin: Origin<'_>) -> Converted {
        let n = batch.num_rows();
        let mut rows = RawRows::with_columns(layout.columns());
        let mut names: [Interner; 5] = Default::default();
        let mut categories = Interner::new();
        let mut product_category: Vec<Option<(u32, u64)>> = Vec::new();
        let mut report = LoadReport::default();
        let cols = Cols::new(batch, layout, &self.opts.date_format);
        let mut caches = Caches::new(&cols);
        let mut error = None;
        for r in 0..n {
            report.rows += 1;
            match self.row(
                &cols,
                r,
                &mut caches,
                &mut names,
                &mut categories,
                &mut product_category,
                &mut rows,
                origin,
            ) {
                Ok(()) => report.loaded += 1,
                Err((column, value, problem)) => {
                    let conflict = problem == Problem::Conflict;
                    if self.policy.mode == Mode::Lenient && !conflict {
                        report.skip(RowError {
                            line: origin.first_row + r as u64 + 1,
                            field: column,
                            value,
                            problem,
                        });
                    } else {
                        error = Some(BatchError {
                            file: origin.file.map(str::to_string),
                            batch: origin.batch,
                            row: r as u64,
                            column,
                            value,
                            problem,
                        });
                        break;
                    }
                }
            }
        }
        let categories_given = product_category
            .iter()
            .enumerate()
            .filter_map(|(p, c)| c.map(|(c, line)| (p as u32, c, line)))
            .collect();
        Converted {
            parts: ChunkParts::new(rows, names, report, categories, categories_given),
            error,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn row<'c>(
        &self,
        cols: &'c Cols<'c>,
        r: usize,
        caches: &mut Caches,
        names: &mut [Interner; 5],
        categories: &mut Interner,
        product_category: &mut Vec<Option<(u32, u64)>>,
        rows: &mut RawRows,
        origin: Origin<'_>,
    ) -> std::result::Result<(), (String, String, Problem)> {
        let bad = |name: &str, value: String, problem| (name.to_string(), value, problem);
        let text = |c: &'c Named<'c, Text<'c>>| -> std::result::Result<&'c str, (String, String, Problem)> {
            c.col.get(r).ok_or_else(|| bad(c.name, "null".into(), Problem::EmptyValue))
        };
        // Parse everything before pushing anything, so a bad row leaves no trace.
        let id = text(&cols.customer)?;
        if id.is_empty() {
            return Err(bad(cols.customer.name, String::new(), Problem::EmptyValue));
        }
        if let Some(known) = self.known.as_deref() {
            let known_as = self.id_map.as_deref().map_or(id, |m| m.golden(id));
            if known.get(known_as).is_none() {
                return Err(bad(cols.customer.name, clip(id), Problem::UnknownCustomer));
            }
        }
        let t = cols
            .date
            .col
            .get(r)
            .map_err(|(v, p)| bad(cols.date.name, v, p))?;
        let amount = cols
            .amount
            .col
            .get(r)
            .map_err(|(v, p)| bad(cols.amount.name, v, p))?;
        check_amount(amount, &self.policy)
            .map_err(|p| bad(cols.amount.name, amount.to_string(), p))?;
        let mut numbers = [None; 2];
        for (k, c) in cols.numbers.iter().enumerate() {
            if let Some(c) = c {
                let v = c.col.get(r).map_err(|(v, p)| bad(c.name, v, p))?;
                if !v.is_finite() {
                    return Err(bad(c.name, v.to_string(), Problem::NonFinite));
                }
                numbers[k] = Some(v);
            }
        }
        let mut texts: [Option<&str>; 5] = [None; 5];
        for (k, c) in cols.texts.iter().enumerate() {
            if let Some(c) = c {
                texts[k] = Some(text(c)?);
            }
        }
        let category = match (texts[4], texts[0]) {
            (Some(name), Some(product)) => {
                let known = names[1]
                    .get(product)
                    .and_then(|p| product_category.get(p as usize).copied().flatten());
                match known {
                    Some((c, _)) if categories.name(c as usize) != name => {
                        let c = cols.texts[4].as_ref().map_or("category", |c| c.name);
                        return Err((c.to_string(), clip(name), Problem::Conflict));
                    }
                    Some(_) => None,
                    None => Some(name),
                }
            }
            _ => None,
        };
        rows.customer.push(
            caches
                .customer
                .intern(&cols.customer.col, r, id, &mut names[0]),
        );
        rows.push_time(t);
        rows.amount.push(amount);
        if let (Some(c), Some(v)) = (&mut rows.cost, numbers[0]) {
            c.push(v);
        }
        if let (Some(c), Some(v)) = (&mut rows.quantity, numbers[1]) {
            c.push(v);
        }
        let targets = [
            &mut rows.product,
            &mut rows.channel,
            &mut rows.region,
            &mut rows.order,
        ];
        for (k, target) in targets.into_iter().enumerate() {
            if let (Some(out), Some(v), Some(c)) = (target, texts[k], &cols.texts[k]) {
                out.push(caches.texts[k].intern(&c.col, r, v, &mut names[k + 1]));
            }
        }
        if let (Some(name), Some(&p)) = (category, rows.product.as_ref().and_then(|c| c.last())) {
            let c = categories.intern(name);
            if product_category.len() <= p as usize {
                product_category.resize(p as usize + 1, None);
            }
            product_category[p as usize] = Some((c, origin.first_row + r as u64 + 1));
        }
        Ok(())
    }
}

struct Converted {
    parts: ChunkParts,
    error: Option<BatchError>,
}

/// Which column of a batch is which.
struct Layout {
    customer: (usize, String),
    date: (usize, String),
    amount: (usize, String),
    optional: [Option<(usize, String)>; 7],
}

impl Layout {
    /// Finds the columns in `schema`; with `columns`, the optional columns must be those
    /// (the first batch decided them).
    fn new(opts: &ArrowOptions, schema: &Schema, columns: Option<Columns>) -> Result<Layout> {
        let available = || schema.fields().iter().map(|f| f.name().clone()).collect();
        let find = |name: &str| -> Result<(usize, String)> {
            schema
                .index_of(name)
                .map(|i| (i, name.to_string()))
                .map_err(|_| Error::MissingColumn {
                    column: name.into(),
                    available: available(),
                })
        };
        let mut optional: [Option<(usize, String)>; 7] = Default::default();
        let wanted = columns.map(|c| {
            let f = c.fields();
            [f[0].1, f[1].1, f[2].1, f[3].1, f[4].1, f[5].1]
        });
        for (k, slot) in optional.iter_mut().enumerate() {
            let name = opts.optional[k].as_deref().unwrap_or(OPTIONAL[k]);
            let must = match (wanted, k) {
                (Some(w), k) if k < 6 => Some(w[k]),
                _ => None,
            };
            *slot = match (must, opts.optional[k].is_some()) {
                (Some(true), _) | (None, true) => Some(find(name)?),
                (Some(false), _) => None,
                (None, false) if opts.detect_optional => {
                    schema.index_of(name).ok().map(|i| (i, name.to_string()))
                }
                (None, false) => None,
            };
        }
        let layout = Layout {
            customer: find(&opts.customer)?,
            date: find(&opts.date)?,
            amount: find(&opts.amount)?,
            optional,
        };
        check_types(schema, &layout)?;
        Ok(layout)
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

/// The columns of one batch, ready to read row by row.
struct Cols<'a> {
    customer: Named<'a, Text<'a>>,
    date: Named<'a, Dates<'a>>,
    amount: Named<'a, Numbers<'a>>,
    /// cost, quantity.
    numbers: [Option<Named<'a, Numbers<'a>>>; 2],
    /// product, channel, region, order, category.
    texts: [Option<Named<'a, Text<'a>>>; 5],
}

struct Named<'a, T> {
    name: &'a str,
    col: T,
}

impl<'a> Cols<'a> {
    /// Column types were checked when the layout was made ([`check_types`]).
    fn new(batch: &'a RecordBatch, layout: &'a Layout, format: &'a DateFormat) -> Cols<'a> {
        let col = |c: &'a (usize, String)| batch.column(c.0);
        let named = |c: &'a (usize, String)| c.1.as_str();
        let text = |c: &'a (usize, String)| Named {
            name: named(c),
            col: Text::new(col(c)),
        };
        let number = |c: &'a (usize, String)| Named {
            name: named(c),
            col: Numbers::new(col(c)),
        };
        Cols {
            customer: text(&layout.customer),
            date: Named {
                name: named(&layout.date),
                col: Dates::new(col(&layout.date), format),
            },
            amount: number(&layout.amount),
            numbers: [
                layout.optional[0].as_ref().map(number),
                layout.optional[1].as_ref().map(number),
            ],
            texts: [
                layout.optional[2].as_ref().map(text),
                layout.optional[3].as_ref().map(text),
                layout.optional[4].as_ref().map(text),
                layout.optional[5].as_ref().map(text),
                layout.optional[6].as_ref().map(text),
            ],
        }
    }
}

/// Text values of a string column, a dictionary of strings, or integers written out.
enum Text<'a> {
    Utf8(&'a arrow::array::GenericStringArray<i32>),
    Large(&'a arrow::array::GenericStringArray<i64>),
    View(&'a StringViewArray),
    Dict {
        array: &'a dyn Array,
        keys: Vec<usize>,
        values: Box<Text<'a>>,
    },
    /// Integers, written in decimal once per batch.
    Owned(StringArray),
}

impl<'a> Text<'a> {
    fn new(a: &'a ArrayRef) -> Text<'a> {
        Self::of(a.as_ref())
    }

    fn of(a: &'a dyn Array) -> Text<'a> {
        match a.data_type() {
            DataType::Utf8 => Text::Utf8(a.as_string::<i32>()),
            DataType::LargeUtf8 => Text::Large(a.as_string::<i64>()),
            DataType::Utf8View => Text::View(a.as_string_view()),
            DataType::Dictionary(_, _) => match a.as_any_dictionary_opt() {
                Some(d) => Text::Dict {
                    array: a,
                    keys: d.normalized_keys(),
                    values: Box::new(Text::of(d.values().as_ref())),
                },
                None => Text::Owned(StringArray::new_null(a.len())),
            },
            // Integers (checked beforehand): their decimal text.
            _ => match arrow::compute::cast(a, &DataType::Utf8) {
                Ok(s) => Text::Owned(s.as_string::<i32>().clone()),
                Err(_) => Text::Owned(StringArray::new_null(a.len())),
            },
        }
    }

    /// The value of row `i`; `None` for a null.
    fn get(&self, i: usize) -> Option<&str> {
        match self {
            Text::Utf8(a) => a.is_valid(i).then(|| a.value(i)),
            Text::Large(a) => a.is_valid(i).then(|| a.value(i)),
            Text::View(a) => a.is_valid(i).then(|| a.value(i)),
            Text::Dict {
                array,
                keys,
                values,
            } => {
                if array.is_valid(i) {
                    values.get(keys[i])
                } else {
                    None
                }
            }
            Text::Owned(a) => a.is_valid(i).then(|| a.value(i)),
        }
    }

    /// The dictionary key of row `i` (for a dictionary column).
    fn key(&self, i: usize) -> Option<usize> {
        match self {
            Text::Dict { keys, .. } => Some(keys[i]),
            _ => None,
        }
    }

    fn dictionary_len(&self) -> usize {
        match self {
            Text::Dict { values, .. } => values.len(),
            _ => 0,
        }
    }

    fn len(&self) -> usize {
        match self {
            Text::Utf8(a) => a.len(),
            Text::Large(a) => a.len(),
            Text::View(a) => a.len(),
            Text::Dict { array, .. } => array.len(),
            Text::Owned(a) => a.len(),
        }
    }
}

/// Local ids of a text column's values: a dictionary's values are interned once each,
/// and a value repeating the previous row's is not looked up again.
struct Cache {
    by_key: Vec<u32>,
    last: Option<u32>,
}

impl Cache {
    fn new(t: &Text<'_>) -> Cache {
        Cache {
            by_key: vec![u32::MAX; t.dictionary_len()],
            last: None,
        }
    }

    fn intern(&mut self, t: &Text<'_>, r: usize, v: &str, names: &mut Interner) -> u32 {
        if let Some(k) = t.key(r) {
            let slot = &mut self.by_key[k];
            if *slot == u32::MAX {
                *slot = names.intern(v);
            }
            return *slot;
        }
        let id = match self.last {
            Some(prev) if names.name(prev as usize) == v => prev,
            _ => names.intern(v),
        };
        self.last = Some(id);
        id
    }
}

struct Caches {
    customer: Cache,
    texts: [Cache; 4],
}

impl Caches {
    fn new(c: &Cols<'_>) -> Caches {
        let cache = |t: &Option<Named<'_, Text<'_>>>| {
            t.as_ref().map_or(
                Cache {
                    by_key: Vec::new(),
                    last: None,
                },
                |t| Cache::new(&t.col),
            )
        };
        Caches {
            customer: Cache::new(&c.customer.col),
            texts: [
                cache(&c.texts[0]),
                cache(&c.texts[1]),
                cache(&c.texts[2]),
                cache(&c.texts[3]),
            ],
        }
    }
}

/// Day numbers of year 1 and year 9999: the dates the readers accept.
const FIRST_DAY: i32 = -719_162;
const LAST_DAY: i32 = 2_932_896;

/// Dates of a date, timestamp or text column.
enum Dates<'a> {
    Days(&'a arrow::array::Date32Array),
    Millis(&'a arrow::array::Date64Array),
    Stamps {
        array: &'a dyn Array,
        values: &'a [i64],
        /// Units of the values per second.
        per_second: i64,
        zone: Option<arrow::array::timezone::Tz>,
    },
    Text(Text<'a>, &'a DateFormat),
}

impl<'a> Dates<'a> {
    fn new(a: &'a ArrayRef, format: &'a DateFormat) -> Dates<'a> {
        let stamps = |values: &'a [i64], per_second, zone: &Option<Arc<str>>| Dates::Stamps {
            array: a.as_ref(),
            values,
            per_second,
            zone: zone.as_deref().and_then(|z| z.parse().ok()),
        };
        use arrow::datatypes::{
            TimestampMicrosecondType as Us, TimestampMillisecondType as Ms,
            TimestampNanosecondType as Ns, TimestampSecondType as S,
        };
        match a.data_type() {
            DataType::Date32 => Dates::Days(a.as_primitive()),
            DataType::Date64 => Dates::Millis(a.as_primitive()),
            DataType::Timestamp(Unit::Second, z) => stamps(a.as_primitive::<S>().values(), 1, z),
            DataType::Timestamp(Unit::Millisecond, z) => {
                stamps(a.as_primitive::<Ms>().values(), 1_000, z)
            }
            DataType::Timestamp(Unit::Microsecond, z) => {
                stamps(a.as_primitive::<Us>().values(), 1_000_000, z)
            }
            DataType::Timestamp(Unit::Nanosecond, z) => {
                stamps(a.as_primitive::<Ns>().values(), 1_000_000_000, z)
            }
            _ => Dates::Text(Text::new(a), format),
        }
    }

    fn get(&self, i: usize) -> std::result::Result<Timestamp, (String, Problem)> {
        let null = || ("null".to_string(), Problem::EmptyValue);
        let range = |day: i64, shown: String| {
            if (i64::from(FIRST_DAY)..=i64::from(LAST_DAY)).contains(&day) {
                Ok(day as i32)
            } else {
                Err((shown, Problem::BadDate))
            }
        };
        match self {
            Dates::Days(a) => {
                if a.is_null(i) {
                    return Err(null());
                }
                let d = a.value(i);
                let day = range(i64::from(d), format!("day {d} after 1970-01-01"))?;
                Ok(Timestamp::from_parts(day, None))
            }
            Dates::Millis(a) => {
                if a.is_null(i) {
                    return Err(null());
                }
                let ms = a.value(i);
                let day = range(
                    ms.div_euclid(86_400_000),
                    format!("{ms} ms after 1970-01-01"),
                )?;
                Ok(Timestamp::from_parts(day, None))
            }
            Dates::Stamps {
                array,
                values,
                per_second,
                zone,
            } => {
                if array.is_null(i) {
                    return Err(null());
                }
                let v = values[i];
                let shown = || format!("timestamp {v} ({} per second)", per_second);
                let secs = v.div_euclid(*per_second);
                let local = match zone {
                    None => secs,
                    Some(z) => {
                        let utc = DateTime::from_timestamp(secs, 0)
                            .ok_or_else(|| (shown(), Problem::BadDate))?
                            .naive_utc();
                        let offset = z.offset_from_utc_datetime(&utc).fix();
                        secs + i64::from(offset.local_minus_utc())
                    }
                };
                let day = range(local.div_euclid(86_400), shown())?;
                Ok(Timestamp::from_parts(
                    day,
                    Some(local.rem_euclid(86_400) as u32),
                ))
            }
            Dates::Text(t, format) => {
                let s = t.get(i).ok_or_else(null)?;
                let ts = Timestamp::parse(s.trim(), format)
                    .ok_or_else(|| (clip(s), Problem::BadDate))?;
                range(i64::from(ts.day()), clip(s))?;
                Ok(ts)
            }
        }
    }
}

/// Numbers of a numeric column (cast to `f64` once per batch) or of a text column.
enum Numbers<'a> {
    Floats(Float64Array),
    Text(Text<'a>),
}

impl<'a> Numbers<'a> {
    fn new(a: &'a ArrayRef) -> Numbers<'a> {
        if is_text(a.data_type()) {
            return Numbers::Text(Text::new(a));
        }
        // Decimals divide by 10^scale (exact for cents below 2⁵³), integers convert.
        match arrow::compute::cast(a, &DataType::Float64) {
            Ok(f) => Numbers::Floats(f.as_primitive::<Float64Type>().clone()),
            Err(_) => Numbers::Floats(Float64Array::new_null(a.len())),
        }
    }

    fn get(&self, i: usize) -> std::result::Result<f64, (String, Problem)> {
        match self {
            Numbers::Floats(a) => {
                if a.is_null(i) {
                    Err(("null".into(), Problem::EmptyValue))
                } else {
                    Ok(a.value(i))
                }
            }
            Numbers::Text(t) => {
                let s = t
                    .get(i)
                    .ok_or_else(|| ("null".to_string(), Problem::EmptyValue))?;
                s.trim()
                    .parse::<f64>()
                    .map_err(|_| (clip(s), Problem::BadNumber))
            }
        }
    }
}

fn is_text(t: &DataType) -> bool {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => true,
        DataType::Dictionary(_, v) => is_text(v),
        _ => false,
    }
}

fn is_integer(t: &DataType) -> bool {
    t.is_integer()
}

fn is_number(t: &DataType) -> bool {
    t.is_integer()
        || t.is_floating()
        || matches!(
            t,
            DataType::Decimal32(_, _)
                | DataType::Decimal64(_, _)
                | DataType::Decimal128(_, _)
                | DataType::Decimal256(_, _)
        )
}

fn is_date(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _)
    )
}

/// Checks that each column the layout uses has a type the reader reads.
fn check_types(schema: &Schema, layout: &Layout) -> Result<()> {
    let check = |c: &(usize, String), ok: fn(&DataType) -> bool, expected: &str| {
        let t = schema.field(c.0).data_type();
        if ok(t) {
            Ok(())
        } else {
            Err(Error::ColumnType {
                column: c.1.clone(),
                found: t.to_string(),
                expected: expected.into(),
            })
        }
    };
    const IDS: &str = "text (Utf8, LargeUtf8, Utf8View or a dictionary of them) or an integer";
    const NUMBERS: &str = "a number (integer, float or decimal) or decimal text";
    let id = |t: &DataType| is_text(t) || is_integer(t);
    let number = |t: &DataType| is_number(t) || is_text(t);
    check(&layout.customer, id, IDS)?;
    check(
        &layout.date,
        |t| is_date(t) || is_text(t),
        "Date32, Date64, a Timestamp or date text",
    )?;
    check(&layout.amount, number, NUMBERS)?;
    for (k, c) in layout.optional.iter().enumerate() {
        if let Some(c) = c {
            if k < 2 {
                check(c, number, NUMBERS)?;
            } else {
                check(c, id, IDS)?;
            }
        }
    }
    // A time zone the reader cannot place is an error, not UTC.
    if let DataType::Timestamp(_, Some(z)) = schema.field(layout.date.0).data_type() {
        if z.parse::<arrow::array::timezone::Tz>().is_err() {
            return Err(Error::ColumnType {
                column: layout.date.1.clone(),
                found: format!("Timestamp with time zone {z:?}"),
                expected: "a time zone name (Europe/Paris) or offset (+02:00)".into(),
            });
        }
    }
    Ok(())
}

fn clip(s: &str) -> String {
    s.chars().take(200).collect()
}

// ---------------------------------------------------------------------------------------
// Out.

/// A summary as a record batch, one row per customer in the summary's row order:
///
/// | column | type | meaning |
/// |---|---|---|
/// | `customer_id` | `Utf8` | the customer |
/// | `x` | `UInt32` | repeat purchases |
/// | `t_x` | `Float64` | recency, in the summary's unit |
/// | `T` | `Float64` | age, in the summary's unit |
/// | `mean_spend` | `Float64` | mean repeat spend (0 when x = 0) |
/// | `revenue` | `Float64` | purchases less returns |
/// | `first_purchase` | `Date32` | date of the first purchase |
/// | `last_purchase` | `Date32` | date of the last purchase |
/// | `orders` | `UInt32` | orders |
///
/// The schema's metadata holds `as_of` (the summary date) and `scope`.
pub fn summary_batch<U: TimeUnit>(summary: &Summary<U>) -> Result<RecordBatch> {
    let n = summary.len();
    let mut ids = Vec::with_capacity(n);
    let (mut x, mut tx, mut t, mut spend, mut revenue) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    let (mut first, mut last, mut orders) = (
        Vec::with_capacity(n),
        Vec::with_capacity(n),
        Vec::with_capacity(n),
    );
    for i in 0..n {
        let c = summary.get(i);
        ids.push(summary.id(i));
        x.push(c.x);
        tx.push(c.t_x.value());
        t.push(c.t.value());
        spend.push(c.mean_spend);
        revenue.push(c.revenue);
        first.push(day_number(c.first_purchase));
        last.push(day_number(c.last_purchase));
        orders.push(c.orders);
    }
    let schema = Schema::new(vec![
        Field::new("customer_id", DataType::Utf8, false),
        Field::new("x", DataType::UInt32, false),
        Field::new("t_x", DataType::Float64, false),
        Field::new("T", DataType::Float64, false),
        Field::new("mean_spend", DataType::Float64, false),
        Field::new("revenue", DataType::Float64, false),
        Field::new("first_purchase", DataType::Date32, false),
        Field::new("last_purchase", DataType::Date32, false),
        Field::new("orders", DataType::UInt32, false),
    ])
    .with_metadata(
        [
            ("as_of".to_string(), summary.as_of().to_string()),
            ("scope".to_string(), summary.scope().to_string()),
        ]
        .into(),
    );
    let columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from(ids)),
        Arc::new(UInt32Array::from(x)),
        Arc::new(Float64Array::from(tx)),
        Arc::new(Float64Array::from(t)),
        Arc::new(Float64Array::from(spend)),
        Arc::new(Float64Array::from(revenue)),
        Arc::new(arrow::array::Date32Array::from(first)),
        Arc::new(arrow::array::Date32Array::from(last)),
        Arc::new(UInt32Array::from(orders)),
    ];
    RecordBatch::try_new(Arc::new(schema), columns).map_err(arrow_error)
}

/// Any table of the crate (a slice of serde rows: per-customer results, cube cells,
/// rules, records) as a record batch. The schema follows the row type: one column per
/// field, in declaration order, named as the field serialises; numbers keep their Rust
/// width (`u32` → `UInt32`, `f64` → `Float64`), strings are `LargeUtf8`, `Option` fields
/// are nullable, dates (`NaiveDate`) are ISO text, nested structs are `Struct` columns,
/// maps `Map`, vectors `LargeList` and enums of unit variants dictionary-encoded strings (the rules
/// of `serde_arrow`'s tracing, which is what builds it).
///
/// # Errors
/// [`Error::Engine`] (`arrow`) when the row type has no Arrow form (a map with
/// non-string keys, an untagged enum).
pub fn to_record_batch<T: Serialize + DeserializeOwned>(rows: &[T]) -> Result<RecordBatch> {
    use serde_arrow::schema::{SchemaLike, TracingOptions};
    let options = TracingOptions::default()
        .allow_null_fields(true)
        .enums_without_data_as_strings(true)
        .map_as_struct(false);
    // The type alone describes most rows; types that serialise through strings (dates)
    // need samples to be traced.
    let fields = match Vec::<arrow::datatypes::FieldRef>::from_type::<T>(options.clone()) {
        Ok(f) => f,
        Err(_) => Vec::<arrow::datatypes::FieldRef>::from_samples(&rows, options).map_err(|e| {
            Error::Engine {
                engine: "arrow",
                message: e.to_string(),
            }
        })?,
    };
    serde_arrow::to_record_batch(&fields, &rows).map_err(|e| Error::Engine {
        engine: "arrow",
        message: e.to_string(),
    })
}

/// Rows of any serde record type from a record batch (the reverse of
/// [`to_record_batch`]; the input records of the later modules read this way, with
/// `null` for an absent optional field).
///
/// # Errors
/// [`Error::Engine`] (`arrow`) naming the column when a column's type does not fit the
/// field or a required field is null.
pub fn from_record_batch<T: DeserializeOwned>(batch: &RecordBatch) -> Result<Vec<T>> {
    serde_arrow::from_record_batch(batch).map_err(|e| Error::Engine {
        engine: "arrow",
        message: e.to_string(),
    })
}

pub(crate) fn arrow_error(e: arrow::error::ArrowError) -> Error {
    Error::Engine {
        engine: "arrow",
        message: e.to_string(),
    }
}
