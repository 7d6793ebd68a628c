//! Streaming loads: reading in blocks, from any reader, gives the same dataset, load
//! report and error lines as parsing the bytes in one piece.
//!
//! The reference is the in-memory load of the same text with the default 8 MiB block
//! (one block for these inputs); the streamed loads vary the block size down to a few
//! bytes and feed the reader a few bytes per `read` call, so block and read boundaries
//! fall inside lines, fields and CRLF pairs.

use std::io::Read;

use acrm::data::{Dataset, Loaded, Mode};
use acrm::io::CsvOptions;
use acrm::{Error, Problem, RowError};
use proptest::prelude::*;

/// A reader that returns at most `step` bytes per call.
struct Trickle<'a> {
    bytes: &'a [u8],
    step: usize,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.step.min(buf.len()).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

fn streamed(text: &str, block: usize, step: usize, mode: Mode) -> acrm::Result<Loaded> {
    CsvOptions::new().block_size(block).read_from(
        Dataset::builder().mode(mode),
        Trickle {
            bytes: text.as_bytes(),
            step,
        },
    )
}

fn in_blocks(text: &str, block: usize, mode: Mode) -> acrm::Result<Loaded> {
    CsvOptions::new()
        .block_size(block)
        .read_into(Dataset::builder().mode(mode), text.as_bytes())
}

fn whole(text: &str, mode: Mode) -> acrm::Result<Loaded> {
    CsvOptions::new().read_into(Dataset::builder().mode(mode), text.as_bytes())
}

/// A log of `rows` lines; `bad` rows get an unparsable amount, every 7th line is blank,
/// and a quoted row with an embedded newline is put at `quoted_at` when given.
fn log_text(rows: usize, bad: &[usize], eol: &str, quoted_at: Option<usize>) -> String {
    let mut t = format!("customer_id,date,amount{eol}");
    for i in 0..rows {
        if i % 7 == 3 {
            t.push_str(eol);
        }
        let id = format!("c{}", (i * 13) % 17);
        let amount = if bad.contains(&i) {
            "x1".to_string()
        } else {
            format!("{}.{}", i % 50, i % 10)
        };
        if quoted_at == Some(i) {
            t.push_str(&format!(
                "\"{id}\",2024-03-{:02},\"1{eol}5\"{eol}",
                1 + i % 28
            ));
        }
        t.push_str(&format!("{id},2024-03-{:02},{amount}{eol}", 1 + i % 28));
    }
    t
}

#[test]
fn blocks_and_short_reads_give_the_same_dataset() {
    for eol in ["\n", "\r\n"] {
        let text = log_text(300, &[], eol, None);
        let reference = whole(&text, Mode::Strict).unwrap();
        for block in [1, 2, 5, 17, 64, 1000, 1 << 20] {
            for step in [1, 3, 64, 4096] {
                let s = streamed(&text, block, step, Mode::Strict).unwrap();
                assert_eq!(s, reference, "block {block}, step {step}, eol {eol:?}");
            }
            assert_eq!(in_blocks(&text, block, Mode::Strict).unwrap(), reference);
        }
    }
}

#[test]
fn bad_rows_keep_their_physical_line_across_blocks() {
    // Data row i sits on line 2 + i + (blank lines at rows j <= i with j % 7 == 3)
    // = 2 + i + (i + 4) / 7.
    let line = |i: u64| 2 + i + (i + 4) / 7;
    let text = log_text(200, &[40, 41, 150], "\n", None);
    let first = RowError {
        line: line(40),
        field: "amount".into(),
        value: "x1".into(),
        problem: Problem::BadNumber,
    };
    for block in [1, 9, 100, 1 << 20] {
        match streamed(&text, block, 5, Mode::Strict) {
            Err(Error::Row(e)) => assert_eq!(e, first, "block {block}"),
            other => panic!("expected a row error, got {other:?}"),
        }
        let l = streamed(&text, block, 5, Mode::Lenient).unwrap();
        assert_eq!(l.report.skipped_total(), 3);
        let lines: Vec<u64> = l.report.examples.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![line(40), line(41), line(150)], "block {block}");
        assert_eq!(l, whole(&text, Mode::Lenient).unwrap());
    }
}

#[test]
fn quotes_after_plain_blocks_switch_to_the_csv_parser() {
    // Row 120 is preceded by a quoted row whose amount holds a line break: the csv
    // parser must see it whole, though small blocks have already streamed past plain rows.
    let text = log_text(200, &[], "\n", Some(120));
    let reference = whole(&text, Mode::Lenient).unwrap();
    // The embedded newline makes "1\n5" an unparsable amount: one skipped row, on the
    // physical line where the quoted record starts.
    assert_eq!(reference.report.skipped_total(), 1);
    for block in [1, 30, 500] {
        assert_eq!(streamed(&text, block, 7, Mode::Lenient).unwrap(), reference);
        assert_eq!(in_blocks(&text, block, Mode::Lenient).unwrap(), reference);
    }
}

#[test]
fn a_header_longer_than_a_block_is_read_whole() {
    let text = "customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02,2\n";
    let s = streamed(text, 4, 1, Mode::Strict).unwrap();
    assert_eq!(s, whole(text, Mode::Strict).unwrap());
    assert_eq!(
        streamed("", 4, 1, Mode::Strict).unwrap_err(),
        Error::EmptyInput
    );
    assert_eq!(
        streamed("customer_id,date,amount\n", 4, 1, Mode::Strict).unwrap_err(),
        Error::EmptyInput
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_block_and_read_size_gives_the_same_load(
        rows in 1usize..120,
        bad in proptest::collection::vec(0usize..120, 0..4),
        crlf in any::<bool>(),
        block in 1usize..400,
        step in 1usize..300,
    ) {
        let text = log_text(rows, &bad, if crlf { "\r\n" } else { "\n" }, None);
        for mode in [Mode::Strict, Mode::Lenient] {
            let reference = whole(&text, mode);
            prop_assert_eq!(&streamed(&text, block, step, mode), &reference);
            prop_assert_eq!(&in_blocks(&text, block, mode), &reference);
        }
    }
}
