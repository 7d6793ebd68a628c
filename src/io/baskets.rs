//! Basket files: one basket per line (items separated by whitespace), or CSV rows of
//! (order id, item).

use std::path::Path;

use rayon::prelude::*;

use crate::data::{BasketReport, Baskets, Interner};
use crate::error::{Error, Problem, Result, RowError};

fn io_error(path: &Path, e: std::io::Error) -> Error {
    Error::Io {
        kind: e.kind(),
        message: format!("{}: {e}", path.display()),
    }
}

/// Reads a basket-per-line file (see [`read_baskets`]).
///
/// # Errors
/// As [`read_baskets`], and [`Error::Io`] when the file cannot be read.
pub fn read_baskets_path(path: impl AsRef<Path>) -> Result<Baskets> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    read_baskets(&bytes)
}

/// Baskets from text with one basket per line and items separated by spaces or tabs
/// (the FIMI format). A blank line is an empty basket: it counts in every support's
/// denominator. A line's repeated item is merged (counted in the report). Items are
/// interned in order of first appearance.
///
/// Blocks of lines are parsed in parallel, each with its own interner; the interners are
/// merged in file order, so ids are the same for any thread count.
///
/// # Errors
/// [`Error::Row`] (line, field `item`, [`Problem::NotUtf8`]) for an item that is not
/// UTF-8; [`Error::EmptyInput`] for a file with no lines.
pub fn read_baskets(bytes: &[u8]) -> Result<Baskets> {
    let bytes = &*super::text::decode_bytes(bytes)?;
    let blocks = line_blocks(bytes, rayon::current_num_threads() * 8);
    let parsed: Vec<Block> = blocks.par_iter().map(|b| parse_block(b)).collect();
    let mut items = Interner::new();
    let mut first_line = 1u64;
    let mut maps = Vec::with_capacity(parsed.len());
    for block in &parsed {
        if let Some((line, value)) = &block.bad {
            return Err(Error::Row(RowError {
                line: first_line + line,
                field: "item".into(),
                value: value.clone(),
                problem: Problem::NotUtf8,
            }));
        }
        maps.push(
            block
                .items
                .iter()
                .map(|s| items.intern(s))
                .collect::<Vec<u32>>(),
        );
        first_line += block.lines;
    }
    let remapped: Vec<(Vec<usize>, Vec<u32>, u64)> = parsed
        .into_par_iter()
        .zip(maps.par_iter())
        .map(|(block, map)| {
            let (mut offsets, mut data, mut repeated) = (Vec::new(), Vec::new(), 0u64);
            for w in block.offsets.windows(2) {
                let start = data.len();
                data.extend(block.data[w[0]..w[1]].iter().map(|&i| map[i as usize]));
                data[start..].sort_unstable();
                let mut kept = start;
                for k in start..data.len() {
                    if k == start || data[k] != data[kept - 1] {
                        data[kept] = data[k];
                        kept += 1;
                    }
                }
                repeated += (data.len() - kept) as u64;
                data.truncate(kept);
                offsets.push(data.len());
            }
            (offsets, data, repeated)
        })
        .collect();
    let mut offsets = vec![0usize];
    let mut data = Vec::with_capacity(remapped.iter().map(|r| r.1.len()).sum());
    let mut report = BasketReport::default();
    for (o, d, repeated) in remapped {
        let shift = data.len();
        offsets.extend(o.into_iter().map(|x| x + shift));
        data.extend_from_slice(&d);
        report.repeated_items += repeated;
    }
    if offsets.len() == 1 {
        return Err(Error::EmptyInput);
    }
    report.rows = data.len() as u64 + report.repeated_items;
    Ok(Baskets::from_parts(items, offsets, data, report))
}

/// Splits `bytes` into about `n` runs of whole lines.
fn line_blocks(bytes: &[u8], n: usize) -> Vec<&[u8]> {
    let target = (bytes.len() / n.max(1)).max(1 << 16);
    let mut out = Vec::new();
    let mut start = 0;
    while start < bytes.len() {
        let mut end = (start + target).min(bytes.len());
        if end < bytes.len() {
            end = memchr::memchr(b'\n', &bytes[end..]).map_or(bytes.len(), |k| end + k + 1);
        }
        out.push(&bytes[start..end]);
        start = end;
    }
    out
}

/// One block's baskets over a local interner (ids in order of first appearance). The
/// interner keeps its names in one small buffer: comparing a token with a key that points
/// back into the file would be a cache miss per token.
struct Block {
    items: Interner,
    offsets: Vec<usize>,
    data: Vec<u32>,
    lines: u64,
    /// The first non-UTF-8 item: line within the block (0-based) and its bytes, lossily.
    bad: Option<(u64, String)>,
}

/// Item names that are plain decimal numbers below this are looked up by value in a
/// table instead of hashed (FIMI files name items by such numbers; hashing them was half
/// the reading time). The table grows only to the largest number seen: at most 4 MB.
const DIRECT_IDS: usize = 1 << 20;

/// The value of a token that is a decimal number written the one plain way (digits, no
/// leading zero, no sign) and below [`DIRECT_IDS`]: "007" and "7" are different names.
fn plain_number(token: &[u8]) -> Option<usize> {
    if token.is_empty() || token.len() > 7 || (token[0] == b'0' && token.len() > 1) {
        return None;
    }
    let mut v = 0usize;
    for &b in token {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + usize::from(b - b'0');
    }
    (v < DIRECT_IDS).then_some(v)
}

fn parse_block(bytes: &[u8]) -> Block {
    let mut block = Block {
        items: Interner::new(),
        offsets: vec![0],
        data: Vec::new(),
        lines: 0,
        bad: None,
    };
    // Local id + 1 of each plain-number name seen (0: not seen yet).
    let mut direct: Vec<u32> = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let end = memchr::memchr(b'\n', &bytes[at..]).map_or(bytes.len(), |k| at + k);
        let line = &bytes[at..end];
        at = end + 1;
        // A hand-written scan: the generic split iterator costs a call per byte.
        let mut i = 0;
        while i < line.len() {
            while i < line.len() && line[i].is_ascii_whitespace() {
                i += 1;
            }
            let start = i;
            while i < line.len() && !line[i].is_ascii_whitespace() {
                i += 1;
            }
            if i == start {
                break;
            }
            let token = &line[start..i];
            let number = plain_number(token);
            if let Some(v) = number {
                if v >= direct.len() {
                    direct.resize(v + 1, 0);
                }
                if direct[v] > 0 {
                    block.data.push(direct[v] - 1);
                    continue;
                }
            }
            let Ok(name) = std::str::from_utf8(token) else {
                block.bad = Some((block.lines, String::from_utf8_lossy(token).into()));
                return block;
            };
            let id = block.items.intern(name);
            if let Some(v) = number {
                direct[v] = id + 1;
            }
            block.data.push(id);
        }
        block.offsets.push(block.data.len());
        block.lines += 1;
    }
    block
}

/// Reads an (order id, item) CSV file (see [`read_basket_csv`]).
///
/// # Errors
/// As [`read_basket_csv`], and [`Error::Io`] when the file cannot be read.
pub fn read_basket_csv_path(path: impl AsRef<Path>, order: &str, item: &str) -> Result<Baskets> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    read_basket_csv(&bytes, order, item)
}

/// Baskets from a CSV file with a header and one (order id, item) pair per row, in the
/// columns named `order` and `item`. Rows of one order need not be adjacent; baskets are
/// in order of each order id's first row.
///
/// # Errors
/// [`Error::MissingColumn`] for a column not in the header; [`Error::Row`] for a
/// malformed row or an empty order id or item (line and field named);
/// [`Error::EmptyInput`] for no rows.
pub fn read_basket_csv(bytes: &[u8], order: &str, item: &str) -> Result<Baskets> {
    let bytes = &*super::text::decode_bytes(bytes)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let malformed = |line: u64, e: csv::Error| {
        Error::Row(RowError {
            line,
            field: String::new(),
            value: e.to_string(),
            problem: Problem::Malformed,
        })
    };
    let header = reader.byte_headers().map_err(|e| malformed(1, e))?.clone();
    let available: Vec<String> = header
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let find = |name: &str| {
        available
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::MissingColumn {
                column: name.into(),
                available: available.clone(),
            })
    };
    let (oc, ic) = (find(order)?, find(item)?);
    let (mut orders, mut items) = (Interner::new(), Interner::new());
    let mut lists: Vec<Vec<u32>> = Vec::new();
    let mut record = csv::ByteRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(malformed(line, e)),
        }
        let field = |col: usize, name: &str| -> Result<&str> {
            let raw = record.get(col).unwrap_or(b"");
            let text = std::str::from_utf8(raw).map_err(|_| {
                Error::Row(RowError {
                    line,
                    field: name.into(),
                    value: String::from_utf8_lossy(raw).into(),
                    problem: Problem::NotUtf8,
                })
            })?;
            let text = text.trim();
            if text.is_empty() {
                return Err(Error::Row(RowError {
                    line,
                    field: name.into(),
                    value: String::new(),
                    problem: if record.get(col).is_none() {
                        Problem::MissingField
                    } else {
                        Problem::EmptyValue
                    },
                }));
            }
            Ok(text)
        };
        let o = orders.intern(field(oc, order)?) as usize;
        let i = items.intern(field(ic, item)?);
        if o == lists.len() {
            lists.push(Vec::new());
        }
        lists[o].push(i);
    }
    Baskets::from_id_lists(items, lists)
}
