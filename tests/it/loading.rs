//! Loading: every bad input names its line and field.
//!
//! Reference values here are not numbers from a paper but facts about the inputs, built
//! into each test: the header is line 1, so the k-th data line of a file is line k + 1;
//! records pushed into a builder are numbered by 1-based position. Each expected line is
//! derived in a comment next to the input (or computed while the input is generated).

use acrm::data::{
    Column, ColumnState, CustomerRecord, Dataset, DatasetBuilder, History, Loaded, Mode,
    NegativeAmounts, ProductRecord, Scope, TransactionRecord,
};
use acrm::io::{read_summary_csv, read_summary_csv_path, CsvOptions, Delimiter};
use acrm::{Error, Problem, RowError};
use chrono::{NaiveDate, NaiveDateTime};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn read(csv: &str) -> acrm::Result<Loaded> {
    CsvOptions::new().read_bytes(csv.as_bytes())
}

fn lenient(csv: &str) -> Loaded {
    CsvOptions::new()
        .read_into(Dataset::builder().mode(Mode::Lenient), csv.as_bytes())
        .unwrap()
}

fn row_error<T: std::fmt::Debug>(r: acrm::Result<T>) -> RowError {
    match r {
        Err(Error::Row(e)) => e,
        other => panic!("expected a row error, got {other:?}"),
    }
}

fn bad(line: u64, field: &str, problem: Problem, value: &str) -> RowError {
    RowError {
        line,
        field: field.to_string(),
        value: value.to_string(),
        problem,
    }
}

/// Bit patterns, for checking that parsed amounts are exactly the decimal literals.
fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Amounts of one customer, in time order.
fn amounts(data: &Dataset, id: &str) -> Vec<u64> {
    let all = data.view(&Scope::all());
    let k = all
        .row(id)
        .unwrap_or_else(|| panic!("customer {id:?} not loaded"));
    bits(all.history(k).amounts)
}

fn ids(data: &Dataset) -> Vec<&str> {
    let all = data.view(&Scope::all());
    (0..all.len()).map(|k| all.id(k)).collect()
}

/// Every customer's history, in customer order (the order of the log's rows).
fn histories(data: &Dataset) -> Vec<History<'_>> {
    let all = data.view(&Scope::all());
    (0..all.len()).map(|k| all.history(k)).collect()
}

/// One column of the whole log: the customers' columns one after the other.
fn column<'a, T: Copy + 'a>(hs: &[History<'a>], col: impl Fn(&History<'a>) -> &'a [T]) -> Vec<T> {
    hs.iter().flat_map(|h| col(h).iter().copied()).collect()
}

// ---------------------------------------------------------------- 1. missing column

#[test]
fn missing_amount_column_names_the_column_and_the_header() {
    let csv = "customer_id,date,price\nA,2024-01-01,1\n";
    assert_eq!(
        read(csv).unwrap_err(),
        Error::MissingColumn {
            column: "amount".into(),
            available: vec!["customer_id".into(), "date".into(), "price".into()],
        }
    );
    // A renamed column through the options is looked up under the new name.
    let err = CsvOptions::new()
        .customer("client")
        .read_bytes(csv.as_bytes())
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumn { column, .. } if column == "client"),
        "{err:?}"
    );
    // An optional column asked for explicitly must exist too.
    let err = CsvOptions::new()
        .amount("price")
        .cost("unit_cost")
        .read_bytes(csv.as_bytes())
        .unwrap_err();
    assert!(
        matches!(&err, Error::MissingColumn { column, .. } if column == "unit_cost"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- 2.-4. bad values

#[test]
fn unparsable_date_reports_line_field_and_value() {
    // Line 1 header, line 2 first data row, line 3 the bad date (month 13).
    let csv = "customer_id,date,amount\nA,2024-01-01,1\nB,2024-13-01,2\nC,2024-01-02,3\n";
    assert_eq!(
        row_error(read(csv)),
        bad(3, "date", Problem::BadDate, "2024-13-01")
    );
    // Not a date at all, and a day past the end of February (line 2).
    let csv = "customer_id,date,amount\nA,yesterday,1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "date", Problem::BadDate, "yesterday")
    );
    let csv = "customer_id,date,amount\nA,2023-02-29,1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "date", Problem::BadDate, "2023-02-29")
    );
}

#[test]
fn unparsable_numbers_report_their_field() {
    // Line 4 (third data row) has a non-number amount.
    let csv = "customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02,2.5\nC,2024-01-03,12.5.1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(4, "amount", Problem::BadNumber, "12.5.1")
    );
    let csv = "customer_id,date,amount\nA,2024-01-01,$12\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "amount", Problem::BadNumber, "$12")
    );
    // Optional numeric columns are checked the same way, under their own names.
    let csv =
        "customer_id,date,amount,cost,quantity\nA,2024-01-01,10,4,1\nA,2024-01-02,10,four,1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(3, "cost", Problem::BadNumber, "four")
    );
    let csv = "customer_id,date,amount,cost,quantity\nA,2024-01-01,10,4,x1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "quantity", Problem::BadNumber, "x1")
    );
}

#[test]
fn nan_and_infinite_amounts_are_non_finite() {
    // Rust's f64 parser accepts "NaN", "inf", "-inf" and "infinity": they parse, so the
    // problem is that they are not finite, not that they are not numbers.
    for v in ["NaN", "nan", "inf", "-inf", "infinity", "+Infinity"] {
        let csv = format!("customer_id,date,amount\nA,2024-01-01,1\nA,2024-01-02,{v}\n");
        assert_eq!(
            row_error(read(&csv)),
            bad(3, "amount", Problem::NonFinite, v),
            "amount {v}"
        );
    }
    // 1e400 overflows to infinity when parsed.
    let csv = "customer_id,date,amount\nA,2024-01-01,1e400\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "amount", Problem::NonFinite, "1e400")
    );
    let csv = "customer_id,date,amount,cost\nA,2024-01-01,1,NaN\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "cost", Problem::NonFinite, "NaN")
    );
}

// ---------------------------------------------------------------- 5. empty input

#[test]
fn empty_inputs_are_empty_input_errors() {
    for csv in [
        "",
        "customer_id,date,amount",
        "customer_id,date,amount\n",
        "customer_id,date,amount\r\n",
        "customer_id,date,amount\n\n   \n\n",
        "\u{feff}customer_id,date,amount\n",
    ] {
        assert_eq!(read(csv).unwrap_err(), Error::EmptyInput, "input {csv:?}");
    }
    // The same without a header.
    let no_header = CsvOptions::new()
        .has_header(false)
        .customer(0)
        .date(1)
        .amount(2);
    assert_eq!(no_header.read_bytes(b"").unwrap_err(), Error::EmptyInput);
    assert_eq!(
        no_header.read_bytes(b"\n\n").unwrap_err(),
        Error::EmptyInput
    );
    // Lenient mode with every row skipped keeps nothing: also EmptyInput.
    let err = CsvOptions::new()
        .read_into(
            Dataset::builder().mode(Mode::Lenient),
            b"customer_id,date,amount\nA,x,1\nB,2024-01-01,y\n",
        )
        .unwrap_err();
    assert_eq!(err, Error::EmptyInput);
    // A builder given nothing.
    assert_eq!(Dataset::builder().build().unwrap_err(), Error::EmptyInput);
}

// ---------------------------------------------------------------- 6. unknown customer

fn known_a() -> DatasetBuilder {
    Dataset::builder()
        .customers([CustomerRecord {
            customer_id: "A".into(),
            ..Default::default()
        }])
        .require_known_customers(true)
}

#[test]
fn unknown_customer_is_reported_with_line_and_field() {
    // Line 2: A (known), line 3: B (unknown).
    let csv = "customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02,2\n";
    assert_eq!(
        row_error(CsvOptions::new().read_into(known_a(), csv.as_bytes())),
        bad(3, "customer_id", Problem::UnknownCustomer, "B")
    );
    // Only known customers: loads.
    let loaded = CsvOptions::new()
        .read_into(known_a(), b"customer_id,date,amount\nA,2024-01-01,1\n")
        .unwrap();
    assert_eq!(ids(&loaded.dataset), ["A"]);
    // Without the requirement, B is simply a new customer.
    assert_eq!(ids(&read(csv).unwrap().dataset), ["A", "B"]);
    // The same rule for records pushed one at a time: B is record 2.
    let mut b = known_a();
    b.push(TransactionRecord::new("A", date(2024, 1, 1), 1.0))
        .unwrap();
    assert_eq!(
        row_error(b.push(TransactionRecord::new("B", date(2024, 1, 2), 2.0))),
        bad(2, "customer_id", Problem::UnknownCustomer, "B")
    );
}

// ---------------------------------------------------------------- 7.-8. missing and empty

#[test]
fn too_few_fields_is_a_missing_field() {
    // Line 3 lacks the amount.
    let csv = "customer_id,date,amount\nA,2024-01-01,1\nB,2024-01-02\n";
    assert_eq!(
        row_error(read(csv)),
        bad(3, "amount", Problem::MissingField, "")
    );
    // A single field: the date is the first column missing.
    let csv = "customer_id,date,amount\nA\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "date", Problem::MissingField, "")
    );
}

#[test]
fn empty_values_are_reported_per_field() {
    let csv = "customer_id,date,amount\nA,,1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "date", Problem::EmptyValue, "")
    );
    // A value of blanks is empty once trimmed.
    let csv = "customer_id,date,amount\nA,2024-01-01,1\n   ,2024-01-02,1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(3, "customer_id", Problem::EmptyValue, "")
    );
    let csv = "customer_id,date,amount\nA,2024-01-01,\n";
    assert_eq!(
        row_error(read(csv)),
        bad(2, "amount", Problem::EmptyValue, "")
    );
}

// ---------------------------------------------------------------- 9. negative amounts

#[test]
fn negative_amounts_are_returns_unless_rejected() {
    let csv = "customer_id,date,amount\nA,2024-01-01,10\nA,2024-01-05,-2.5\n";
    // Default: kept as a return.
    let loaded = read(csv).unwrap();
    assert_eq!(loaded.report.loaded, 2);
    assert_eq!(amounts(&loaded.dataset, "A"), bits(&[10.0, -2.5]));
    // Rejected: line 3.
    let strict = Dataset::builder().negative_amounts(NegativeAmounts::Reject);
    assert_eq!(
        row_error(CsvOptions::new().read_into(strict, csv.as_bytes())),
        bad(3, "amount", Problem::NegativeAmount, "-2.5")
    );
    // The same for a pushed record (record 1).
    let mut b = Dataset::builder().negative_amounts(NegativeAmounts::Reject);
    assert_eq!(
        row_error(b.push(TransactionRecord::new("A", date(2024, 1, 1), -5.0))),
        bad(1, "amount", Problem::NegativeAmount, "-5")
    );
}

// ---------------------------------------------------------------- 10. lenient mode

#[test]
fn lenient_mode_skips_and_counts_bad_rows() {
    // Line numbers on the right; line 6 is blank (not a row).
    let csv = [
        "customer_id,date,amount", // 1 header
        "A,2024-01-01,10",         // 2 good
        "B,2024-13-01,5",          // 3 BadDate
        "C,2024-01-02,abc",        // 4 BadNumber
        "D,2024-01-03",            // 5 MissingField
        "",                        // 6 blank
        "E,2024-01-04,NaN",        // 7 NonFinite
        "A,2024-01-05,20",         // 8 good
        "F,,3",                    // 9 EmptyValue
        "G,2024-01-06,7.5",        // 10 good
        "B,2024-01-07,inf",        // 11 NonFinite
        "H,2024-01-08,-1",         // 12 good (a return)
    ]
    .join("\n");
    let loaded = lenient(&csv);
    let r = &loaded.report;
    assert_eq!(r.rows, 10, "11 lines after the header, one blank");
    assert_eq!(r.loaded, 4);
    assert_eq!(r.loaded + r.skipped_total(), r.rows);
    let expected_skips = [
        (Problem::MissingField, 1),
        (Problem::EmptyValue, 1),
        (Problem::BadDate, 1),
        (Problem::BadNumber, 1),
        (Problem::NonFinite, 2),
    ];
    assert_eq!(r.skipped, expected_skips.into_iter().collect());
    assert_eq!(
        r.examples,
        [
            bad(3, "date", Problem::BadDate, "2024-13-01"),
            bad(4, "amount", Problem::BadNumber, "abc"),
            bad(5, "amount", Problem::MissingField, ""),
            bad(7, "amount", Problem::NonFinite, "NaN"),
            bad(9, "date", Problem::EmptyValue, ""),
            bad(11, "amount", Problem::NonFinite, "inf"),
        ]
    );
    // Exactly the good rows are kept, and skipped rows leave no customer behind.
    let data = &loaded.dataset;
    assert_eq!(ids(data), ["A", "G", "H"]);
    assert_eq!(data.view(&Scope::all()).transactions(), 4);
    assert_eq!(amounts(data, "A"), bits(&[10.0, 20.0]));
    assert_eq!(amounts(data, "G"), bits(&[7.5]));
    assert_eq!(amounts(data, "H"), bits(&[-1.0]));
}

#[test]
fn lenient_mode_keeps_at_most_ten_examples_in_file_order() {
    // 25 bad rows alternating with good ones: bad row k (0-based) is on line 2 + 2k + 1.
    let mut csv = String::from("customer_id,date,amount\n");
    for k in 0..25 {
        csv.push_str(&format!("c{k},2024-01-01,{k}\nc{k},2024-01-02,bad{k}\n"));
    }
    let r = lenient(&csv).report;
    assert_eq!((r.rows, r.loaded), (50, 25));
    assert_eq!(r.skipped.get(&Problem::BadNumber), Some(&25));
    assert_eq!(r.examples.len(), acrm::data::LoadReport::EXAMPLES);
    for (k, e) in r.examples.iter().enumerate() {
        assert_eq!(
            *e,
            bad(
                3 + 2 * k as u64,
                "amount",
                Problem::BadNumber,
                &format!("bad{k}")
            )
        );
    }
}

// ---------------------------------------------------------------- 11. large files

/// A CSV of `n` good rows with `bad` rows inserted before the given 0-based good-row
/// indices and a blank line every 10,007 rows (blank lines count as lines, not rows).
/// Returns the text, the line number of each bad row (counted while writing) and the
/// records of the good rows in file order.
fn big_csv(
    n: usize,
    bad: &[(usize, &str)],
    eol: &str,
) -> (String, Vec<u64>, Vec<TransactionRecord>) {
    let mut text = format!("customer_id,date,amount{eol}");
    let mut line = 1u64;
    let mut bad_lines = Vec::new();
    let mut records = Vec::with_capacity(n);
    let start = date(2023, 1, 1);
    for i in 0..n {
        for &(at, row) in bad {
            if at == i {
                line += 1;
                bad_lines.push(line);
                text.push_str(row);
                text.push_str(eol);
            }
        }
        if i % 10_007 == 5_000 {
            line += 1;
            text.push_str(eol);
        }
        // Ids in an order of first appearance unlike their sorted order.
        let id = format!("cust{}", (i * 7_919) % 6_007);
        let day = start + chrono::Days::new((i % 365) as u64);
        let amount = format!("{}.{:02}", (i * 37) % 500, i % 100);
        line += 1;
        text.push_str(&format!("{id},{day},{amount}{eol}"));
        records.push(TransactionRecord::new(id, day, amount.parse().unwrap()));
    }
    (text, bad_lines, records)
}

const BIG: usize = 120_000;
const MIDDLE: usize = 60_000;
const NEAR_END: usize = BIG - 7;

#[test]
fn large_file_reports_bad_lines_across_parallel_chunks() {
    for eol in ["\n", "\r\n"] {
        let (text, lines, _) = big_csv(
            BIG,
            &[
                (MIDDLE, "mid,2024-02-30,1"),
                (NEAR_END, "end,2024-01-01,oops"),
            ],
            eol,
        );
        // The reader splits bodies over 1 MiB into chunks: make sure this one is split and
        // that both bad rows lie past the first MiB, in later chunks.
        assert!(text.len() > 3 << 20, "{} bytes", text.len());
        let mid_at = text.find("mid,").unwrap();
        assert!(mid_at > 1 << 20 && text.len() - mid_at > 1 << 20);

        // Strict: the first bad line exactly.
        assert_eq!(
            row_error(read(&text)),
            bad(lines[0], "date", Problem::BadDate, "2024-02-30"),
            "eol {eol:?}"
        );
        // Strict with only the last bad row: its line, counted across all chunks.
        let (only_end, end_line, _) = big_csv(BIG, &[(NEAR_END, "end,2024-01-01,oops")], eol);
        assert_eq!(
            row_error(read(&only_end)),
            bad(end_line[0], "amount", Problem::BadNumber, "oops")
        );
        // Lenient: both, in file order.
        let loaded = lenient(&text);
        let r = &loaded.report;
        assert_eq!(r.rows, BIG as u64 + 2);
        assert_eq!(r.loaded, BIG as u64);
        assert_eq!(r.skipped_total(), 2);
        assert_eq!(
            r.examples,
            [
                bad(lines[0], "date", Problem::BadDate, "2024-02-30"),
                bad(lines[1], "amount", Problem::BadNumber, "oops"),
            ]
        );
        let all = loaded.dataset.view(&Scope::all());
        assert!(all.row("mid").is_none());
        assert!(all.row("end").is_none());
    }
}

#[test]
fn large_file_matches_the_same_records_pushed_one_by_one() {
    // Two independent paths to the same dataset: the parallel CSV reader and the builder.
    let (text, _, records) = big_csv(BIG, &[], "\n");
    let from_csv = read(&text).unwrap();
    let mut b = Dataset::builder();
    b.extend(records).unwrap();
    let from_records = b.build().unwrap();
    assert_eq!(from_csv.dataset, from_records.dataset);
    assert_eq!(from_csv.report.rows, BIG as u64);
    assert_eq!(from_csv.report.loaded, BIG as u64);
}

// ---------------------------------------------------------------- 12. quotes, CRLF, BOM

#[test]
fn quoted_fields_load_through_the_csv_parser() {
    let csv = "customer_id,date,amount\n\
               \"Smith, J\",2024-01-01,10\n\
               \"O\"\"Brien\",2024-01-02,\"5.5\"\n\
               \"Smith, J\",2024-01-03, 2 \n";
    let data = read(csv).unwrap().dataset;
    assert_eq!(ids(&data), ["Smith, J", "O\"Brien"]);
    assert_eq!(amounts(&data, "Smith, J"), bits(&[10.0, 2.0]));
    assert_eq!(amounts(&data, "O\"Brien"), bits(&[5.5]));
}

#[test]
fn quoted_file_reports_the_physical_line_of_a_bad_row() {
    // Line 3 holds a quoted newline, so the record starting there ends on line 4; the bad
    // row is on line 5.
    let csv = "customer_id,date,amount\n\
               \"Smith, J\",2024-01-01,10\n\
               \"two\nlines\",2024-01-02,1\n\
               B,2024-02-30,1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(5, "date", Problem::BadDate, "2024-02-30")
    );
    let loaded = lenient(csv);
    assert_eq!(ids(&loaded.dataset), ["Smith, J", "two\nlines"]);
    assert_eq!(
        loaded.report.examples,
        [bad(5, "date", Problem::BadDate, "2024-02-30")]
    );
}

#[test]
fn quoted_file_with_crlf_reports_the_physical_line() {
    // As above with CRLF line ends: the bad row is still on line 5.
    let csv = "customer_id,date,amount\r\n\
               \"Smith, J\",2024-01-01,10\r\n\
               \"two\r\nlines\",2024-01-02,1\r\n\
               B,2024-02-30,1\r\n";
    assert_eq!(
        row_error(read(csv)),
        bad(5, "date", Problem::BadDate, "2024-02-30")
    );
    // Without the quoted newline: the bad row is the third data row, line 4.
    let csv = "customer_id,date,amount\r\n\"Smith, J\",2024-01-01,10\r\nA,2024-01-02,1\r\nB,2024-02-30,1\r\n";
    assert_eq!(
        row_error(read(csv)),
        bad(4, "date", Problem::BadDate, "2024-02-30")
    );
}

#[test]
fn quoted_file_with_blank_lines_reports_the_physical_line() {
    // Lines 3 and 4 are blank; the bad row is on line 5.
    let csv = "customer_id,date,amount\n\"Smith, J\",2024-01-01,10\n\n\nB,2024-02-30,1\n";
    assert_eq!(
        row_error(read(csv)),
        bad(5, "date", Problem::BadDate, "2024-02-30")
    );
}

#[test]
fn crlf_and_byte_order_mark() {
    // Plain (unquoted) path: a BOM before the header and CRLF line ends. Line 3 is bad;
    // the value is reported without the carriage return.
    let csv = "\u{feff}customer_id,date,amount\r\nA,2024-01-01,10\r\nB,2024-01-02,x\r\n";
    assert_eq!(
        row_error(read(csv)),
        bad(3, "amount", Problem::BadNumber, "x")
    );
    let csv = "\u{feff}customer_id,date,amount\r\nA,2024-01-01,10\r\nB,2024-01-02,2.25\r\n";
    let data = read(csv).unwrap().dataset;
    assert_eq!(ids(&data), ["A", "B"]);
    assert_eq!(amounts(&data, "B"), bits(&[2.25]));
    // Quoted path with a BOM.
    let csv = "\u{feff}customer_id,date,amount\r\n\"A\",2024-01-01,10\r\n";
    let data = read(csv).unwrap().dataset;
    assert_eq!(ids(&data), ["A"]);
}

// ---------------------------------------------------------------- 13. whitespace, CDNOW

#[test]
fn whitespace_delimited_with_numeric_ids() {
    // CDNOW style: leading blanks, runs of spaces and tabs, zero-padded ids.
    let text = "  customer_id   date     amount\n   0007  19970101    29.33\n7 19970118\t\t29.73\n  12   19970102  5  \n";
    let opts = CsvOptions::new()
        .delimiter(Delimiter::Whitespace)
        .numeric_ids(true);
    let data = opts.read_bytes(text.as_bytes()).unwrap().dataset;
    assert_eq!(ids(&data), ["7", "12"]);
    assert_eq!(amounts(&data, "7"), bits(&[29.33, 29.73]));
    let all = data.view(&Scope::all());
    let seven = all.row("7").unwrap();
    let days = all.history(seven).days;
    assert_eq!(
        days,
        [
            acrm::time::day_number(date(1997, 1, 1)),
            acrm::time::day_number(date(1997, 1, 18))
        ]
    );
    // All zeros is customer 0.
    let data = opts
        .read_bytes(b"customer_id date amount\n000 19970101 1\n0 19970102 2\n")
        .unwrap()
        .dataset;
    assert_eq!(ids(&data), ["0"]);
    // A non-numeric id with numeric ids on (line 3).
    assert_eq!(
        row_error(opts.read_bytes(b"customer_id date amount\n1 19970101 1\n1a 19970102 2\n")),
        bad(3, "customer_id", Problem::BadNumber, "1a")
    );
}

#[test]
fn cdnow_sample_format() {
    // Three lines in the format of tests/data/cdnow/CDNOW_sample.txt (master id, sample id,
    // date, CDs, dollars; CRLF; no header).
    let text = " 00004 0001 19970101  2   29.33\r\n 00004 0001 19970118  2   29.73\r\n 00018 0002 19970101  1   14.96\r\n";
    let loaded = CsvOptions::cdnow_sample()
        .read_bytes(text.as_bytes())
        .unwrap();
    let data = &loaded.dataset;
    assert_eq!(ids(data), ["1", "2"]);
    assert_eq!(amounts(data, "1"), bits(&[29.33, 29.73]));
    assert_eq!(amounts(data, "2"), bits(&[14.96]));
    assert_eq!(
        bits(&column(&histories(data), |h| h.quantities.unwrap())),
        bits(&[2.0, 2.0, 1.0])
    );
    assert_eq!(
        data.view(&Scope::all())
            .date_range()
            .map(|r| (r.first, r.last)),
        Some((date(1997, 1, 1), date(1997, 1, 18)))
    );
    // Without a header the first line is line 1; columns are named by position.
    let text = " 00004 0001 19970101  2   29.33\r\n 00004 00x1 19970118  2   29.73\r\n";
    assert_eq!(
        row_error(CsvOptions::cdnow_sample().read_bytes(text.as_bytes())),
        bad(2, "#1", Problem::BadNumber, "00x1")
    );
    let text = " 00004 0001 19970101  2   29.33\r\n 00004 0001 19970132  2   29.73\r\n";
    assert_eq!(
        row_error(CsvOptions::cdnow_sample().read_bytes(text.as_bytes())),
        bad(2, "#2", Problem::BadDate, "19970132")
    );
    let text = " 00004 0001 19970101  2\r\n";
    assert_eq!(
        row_error(CsvOptions::cdnow_sample().read_bytes(text.as_bytes())),
        bad(1, "#4", Problem::MissingField, "")
    );
}

// ---------------------------------------------------------------- 14. builder

#[test]
fn builder_numbers_records_by_position() {
    let mut with_cost = TransactionRecord::new("A", date(2024, 1, 1), 10.0);
    with_cost.cost = Some(4.0);
    let mut b = Dataset::builder();
    b.push(with_cost.clone()).unwrap();
    // The first record had a cost: the second lacks one (record 2).
    assert_eq!(
        row_error(b.push(TransactionRecord::new("B", date(2024, 1, 2), 5.0))),
        bad(2, "cost", Problem::EmptyValue, "")
    );

    // First record without optional fields; record 3 brings a product id.
    let mut b = Dataset::builder();
    b.push(TransactionRecord::new("A", date(2024, 1, 1), 1.0))
        .unwrap();
    b.push(TransactionRecord::new("B", date(2024, 1, 2), 2.0))
        .unwrap();
    let mut with_product = TransactionRecord::new("A", date(2024, 1, 3), 3.0);
    with_product.product_id = Some("p1".into());
    assert_eq!(
        row_error(b.push(with_product)),
        bad(3, "product_id", Problem::Inconsistent, "")
    );
    // Record 4: a non-finite amount; record 5: a non-finite quantity.
    assert_eq!(
        row_error(b.push(TransactionRecord::new("A", date(2024, 1, 4), f64::NAN))),
        bad(4, "amount", Problem::NonFinite, "NaN")
    );
    let mut q = TransactionRecord::new("A", date(2024, 1, 5), 1.0);
    q.quantity = Some(f64::INFINITY);
    assert_eq!(
        row_error(b.push(q)),
        bad(5, "quantity", Problem::NonFinite, "inf")
    );
    // The good records are kept, in time order per customer.
    let loaded = b.build().unwrap();
    assert_eq!(loaded.report.rows, 5);
    assert_eq!(loaded.report.loaded, 2);
    assert_eq!(ids(&loaded.dataset), ["A", "B"]);
}

/// A file read into a builder that already holds records must have the same optional
/// columns: one the records have and the file lacks is a missing column; one the file
/// brings and the records lack is inconsistent on the header's line (line 1), as a record
/// bringing a field the first one lacked is on its own line.
#[test]
fn a_file_read_after_records_needs_their_optional_columns() {
    let mut with_cost = TransactionRecord::new("A", date(2024, 1, 1), 10.0);
    with_cost.cost = Some(4.0);
    let mut b = Dataset::builder();
    b.push(with_cost).unwrap();
    let plain = "customer_id,date,amount\nB,2024-01-02,5\n";
    match CsvOptions::new().read_into(b, plain.as_bytes()) {
        Err(Error::MissingColumn { column, available }) => {
            assert_eq!(column, "cost");
            assert_eq!(available, ["customer_id", "date", "amount"]);
        }
        other => panic!("expected a missing column, got {other:?}"),
    }
    let mut b = Dataset::builder();
    b.push(TransactionRecord::new("A", date(2024, 1, 1), 10.0))
        .unwrap();
    let priced = "customer_id,date,amount,cost\nB,2024-01-02,5,2\n";
    assert_eq!(
        row_error(CsvOptions::new().read_into(b, priced.as_bytes())),
        bad(1, "cost", Problem::Inconsistent, "")
    );
}

/// A product table given record by record numbers a bad unit cost by position.
#[test]
fn a_non_finite_unit_cost_names_its_record() {
    let product = |id: &str, cost: f64| ProductRecord {
        product_id: id.into(),
        category: None,
        unit_cost: Some(cost),
    };
    let r = Dataset::builder().products([product("p", 1.0), product("q", f64::NAN)]);
    assert_eq!(
        row_error(r.map(|_| ())),
        bad(2, "unit_cost", Problem::NonFinite, "NaN")
    );
}

#[test]
fn builder_lenient_and_date_times() {
    let t = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S").unwrap();
    let mut b = Dataset::builder().mode(Mode::Lenient);
    b.extend([
        TransactionRecord::new("A", t("2024-01-02 10:00:00"), 5.0),
        TransactionRecord::new("A", t("2024-01-02 09:00:00"), 4.0),
        TransactionRecord::new("B", date(2024, 1, 1), f64::NEG_INFINITY),
        TransactionRecord::new("A", date(2024, 1, 1), 3.0),
    ])
    .unwrap();
    let loaded = b.build().unwrap();
    let r = &loaded.report;
    assert_eq!((r.rows, r.loaded), (4, 3));
    assert_eq!(r.examples, [bad(3, "amount", Problem::NonFinite, "-inf")]);
    let data = &loaded.dataset;
    assert_eq!(ids(data), ["A"]);
    // Sorted by (day, second): the date-only record counts as midnight.
    assert_eq!(amounts(data, "A"), bits(&[3.0, 4.0, 5.0]));
    let h = data.view(&Scope::all()).history(0);
    assert_eq!(h.seconds, Some(&[0, 9 * 3600, 10 * 3600][..]));
}

// ---------------------------------------------------------------- 15. determinism

#[test]
fn parallel_parse_is_deterministic_and_keeps_first_appearance_order() {
    let (text, _, records) = big_csv(BIG, &[], "\n");
    let one = crate::pool(1).install(|| read(&text).unwrap());
    let two = crate::pool(2).install(|| read(&text).unwrap());
    assert_eq!(one, two);
    // Customer indices follow first appearance in the file.
    let mut seen = std::collections::HashSet::new();
    let first_appearance: Vec<&str> = records
        .iter()
        .map(|r| r.customer_id.as_str())
        .filter(|id| seen.insert(*id))
        .collect();
    assert_eq!(ids(&one.dataset), first_appearance);
}

// ---------------------------------------------------------------- writing and reading back

#[test]
fn written_csv_reads_back_to_the_same_log() {
    use acrm::synth::SynthOptions;
    // A synthetic log has every optional column but order ids; with `times` the dates
    // are written as RFC 3339 date-times. f64 `Display` is the shortest text that parses
    // back to the same value, so every column must come back bit for bit.
    for times in [false, true] {
        let synth = SynthOptions::<acrm::Days>::new()
            .customers(3_000)
            .seed(3)
            .times(times)
            .generate()
            .unwrap();
        let original = &synth.dataset;
        let mut text = Vec::new();
        acrm::io::write_transactions_csv(&original.view(&Scope::all()), &mut text).unwrap();
        let back = CsvOptions::new().read_bytes(&text).unwrap().dataset;
        let (a, b) = (histories(original), histories(&back));
        // Customers are written in index order, so first appearance keeps their order.
        assert_eq!(ids(original), ids(&back));
        // The same number of rows per customer: the same offsets.
        let lengths = |hs: &[History<'_>]| hs.iter().map(History::len).collect::<Vec<_>>();
        assert_eq!(lengths(&a), lengths(&b));
        assert_eq!(column(&a, |h| h.days), column(&b, |h| h.days));
        let (sa, sb): (Vec<_>, Vec<_>) = a
            .iter()
            .zip(&b)
            .map(|(x, y)| (x.seconds, y.seconds))
            .unzip();
        assert_eq!(sa, sb);
        assert_eq!(original.view(&Scope::all()).has_times(), times);
        assert!(a.iter().all(|h| h.seconds.is_some() == times));
        assert_eq!(
            bits(&column(&a, |h| h.amounts)),
            bits(&column(&b, |h| h.amounts))
        );
        assert_eq!(
            bits(&column(&a, |h| h.costs.unwrap())),
            bits(&column(&b, |h| h.costs.unwrap()))
        );
        assert_eq!(
            bits(&column(&a, |h| h.quantities.unwrap())),
            bits(&column(&b, |h| h.quantities.unwrap()))
        );
        // Interned columns compare by name (indices follow first appearance).
        let products = |d: &Dataset| -> Vec<String> {
            let catalogue = d.view(&Scope::all()).catalogue().unwrap();
            column(&histories(d), |h| h.products.unwrap())
                .into_iter()
                .map(|p| catalogue.id(p).to_string())
                .collect()
        };
        assert_eq!(products(original), products(&back));
        let channels = |d: &Dataset| -> Vec<String> {
            let names = d.view(&Scope::all()).channel_names().unwrap();
            column(&histories(d), |h| h.channels.unwrap())
                .into_iter()
                .map(|c| names.name(c.get()).to_string())
                .collect()
        };
        assert_eq!(channels(original), channels(&back));
        let regions = |d: &Dataset| -> Vec<String> {
            let names = d.view(&Scope::all()).region_names().unwrap();
            column(&histories(d), |h| h.regions.unwrap())
                .into_iter()
                .map(|r| names.name(r.get()).to_string())
                .collect()
        };
        assert_eq!(regions(original), regions(&back));
        assert_eq!(
            back.view(&Scope::all()).column(Column::Order),
            ColumnState::Absent
        );
    }
}

/// `RowError::value` is documented as "the offending value as read"; with numeric ids an
/// unknown customer's id is looked up as a number (`0008` is customer `8`), but the file
/// says `0008`.
#[test]
fn unknown_numeric_id_is_reported_as_read() {
    let known = Dataset::builder()
        .customers([CustomerRecord {
            customer_id: "7".into(),
            ..Default::default()
        }])
        .require_known_customers(true);
    let opts = CsvOptions::new()
        .delimiter(Delimiter::Whitespace)
        .numeric_ids(true);
    // Line 2: 0007 is the known customer 7; line 3: 0008 is unknown.
    let text = "customer_id date amount\n0007 19970101 1\n0008 19970102 2\n";
    assert_eq!(
        row_error(opts.read_into(known, text.as_bytes())),
        bad(3, "customer_id", Problem::UnknownCustomer, "0008")
    );
}

#[test]
fn tables_give_typed_columns_and_name_bad_values() {
    use acrm::io::Table;
    let t = Table::read("a,b ,flag\n1, 2 ,true\n3,x,0\n4,,FALSE\n".as_bytes()).unwrap();
    assert_eq!(t.header(), ["a", "b", "flag"]);
    assert_eq!(t.len(), 3);
    assert_eq!(t.numbers("a").unwrap(), vec![1.0, 3.0, 4.0]);
    assert_eq!(t.flags("flag").unwrap(), vec![true, false, false]);
    assert_eq!(t.text("b").unwrap(), ["2", "x", ""]);
    // The first bad value in row order, its line counting the header as line 1.
    assert_eq!(
        row_error(t.numbers("b")),
        bad(3, "b", Problem::BadNumber, "x")
    );
    assert_eq!(row_error(t.flags("a")), bad(3, "a", Problem::NotFlag, "3"));
    assert!(matches!(t.numbers("c"), Err(Error::MissingColumn { column, .. }) if column == "c"));
    let e = Table::read("a,b\n1,2\n3\n".as_bytes()).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Row(RowError {
                line: 3,
                problem: Problem::FieldCount,
                ..
            })
        ),
        "{e}"
    );
    assert_eq!(Table::read("a,b\n".as_bytes()), Err(Error::EmptyInput));
    // Parsed in parallel: still the first bad row, of several, is the one named.
    let mut csv = String::from("t,e\n");
    for i in 0..50_000 {
        match i {
            30_000 => csv.push_str("inf,1\n"),
            40_000 => csv.push_str("oops,1\n"),
            _ => csv.push_str(&format!("{i},{}\n", i % 2)),
        }
    }
    let t = Table::read(csv.as_bytes()).unwrap();
    assert_eq!(
        row_error(t.numbers("t")),
        bad(30_002, "t", Problem::BadNumber, "inf")
    );
    // Odd rows, and the two bad-duration rows (even, flagged 1).
    assert_eq!(t.flags("e").unwrap().iter().filter(|&&e| e).count(), 25_002);
}

/// A summary CSV names the physical line of a bad row, however it is read: blank lines
/// and line ends inside quotes count, as they do for a transaction log, and both the
/// parallel reader and the `csv` crate (quotes, a field too many) say the same.
#[test]
fn summary_csv_errors_name_physical_lines() {
    let path = std::env::temp_dir().join(format!("acrm-summary-lines-{}.csv", std::process::id()));
    let error = |text: &str| {
        let from_memory = row_error(read_summary_csv(text.as_bytes()));
        std::fs::write(&path, text).unwrap();
        let from_file = row_error(read_summary_csv_path(&path));
        assert_eq!(from_memory, from_file, "{text:?}");
        from_memory
    };
    // Header 1, blank 2 and 3, the bad t_x on 4.
    assert_eq!(
        error("ID,x,t_x,T\n\n\na,1,oops,2\n"),
        bad(4, "t_x", Problem::BadNumber, "oops")
    );
    // CRLF: header 1, blank 2, bad row 3.
    assert_eq!(
        error("ID,x,t_x,T\r\n\r\na,1,oops,2\r\n"),
        bad(3, "t_x", Problem::BadNumber, "oops")
    );
    // A quoted id over lines 2 and 3, a blank line 4: the bad row is on 5.
    assert_eq!(
        error("ID,x,t_x,T\n\"a\nb\",1,1,2\n\nc,1,oops,2\n"),
        bad(5, "t_x", Problem::BadNumber, "oops")
    );
    // A field too many after blank lines 2 and 3: the csv crate's error, on line 4.
    let long = error("ID,x,t_x,T\n\n\na,1,1,2,9\n");
    assert_eq!((long.line, long.problem), (4, Problem::FieldCount));
    // `a` again on line 5, after a blank line 3.
    assert_eq!(
        error("ID,x,t_x,T\na,1,1,2\n\nb,1,1,2\na,0,0,3\n"),
        bad(5, "ID", Problem::DuplicateId, "a")
    );
    std::fs::remove_file(&path).unwrap();
}
