//! Arrow and Parquet in and out: the same dataset as the CSV reader for any cut of the
//! rows into batches, files and row groups; every supported column type; bad input as a
//! typed error naming the batch (or file and row group), the row and the column.
#![cfg(feature = "arrow")]

use std::sync::Arc;

use acrm::data::{Dataset, NegativeAmounts, TransactionRecord};
use acrm::io::{summary_batch, to_record_batch, ArrowOptions, CsvOptions};
use acrm::{BatchError, Error, Problem, Scope, SummaryOptions, Weeks};
use arrow::array::{
    Array, ArrayRef, Date32Array, Date64Array, Decimal128Array, DictionaryArray, Float64Array,
    Int64Array, RecordBatch, StringArray, StringViewArray, TimestampSecondArray,
};
use arrow::datatypes::Int32Type;
use chrono::NaiveDate;
use proptest::prelude::*;

fn day(d: &str) -> i32 {
    acrm::time::day_number(NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap())
}

fn batch(cols: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(cols).unwrap()
}

/// Rows (customer, day, amount in cents) as a CSV text and as the dataset it loads.
fn csv_of(rows: &[(String, i32, i64)]) -> String {
    let mut s = String::from("customer_id,date,amount\n");
    for (c, d, a) in rows {
        let date = acrm::time::date_of(*d);
        s.push_str(&format!("{c},{date},{}.{:02}\n", a / 100, a % 100));
    }
    s
}

/// The rows as batches cut at `cuts`, alternating plain, view and dictionary ids.
fn batches_of(rows: &[(String, i32, i64)], cuts: &[usize]) -> Vec<RecordBatch> {
    let mut bounds: Vec<usize> = cuts.iter().map(|&c| c % (rows.len() + 1)).collect();
    bounds.push(0);
    bounds.push(rows.len());
    bounds.sort_unstable();
    bounds.dedup();
    bounds
        .windows(2)
        .enumerate()
        .map(|(k, w)| {
            let part = &rows[w[0]..w[1]];
            let ids: Vec<&str> = part.iter().map(|r| r.0.as_str()).collect();
            let ids: ArrayRef = match k % 3 {
                0 => Arc::new(StringArray::from(ids)),
                1 => Arc::new(StringViewArray::from(ids)),
                _ => Arc::new(ids.into_iter().collect::<DictionaryArray<Int32Type>>()),
            };
            // Money as decimal(12, 2) in every other batch, as double in the others.
            let amounts: ArrayRef = if k % 2 == 0 {
                Arc::new(Float64Array::from(
                    part.iter().map(|r| r.2 as f64 / 100.0).collect::<Vec<_>>(),
                ))
            } else {
                Arc::new(
                    Decimal128Array::from(part.iter().map(|r| i128::from(r.2)).collect::<Vec<_>>())
                        .with_precision_and_scale(12, 2)
                        .unwrap(),
                )
            };
            batch(vec![
                ("customer_id", ids),
                (
                    "date",
                    Arc::new(Date32Array::from(
                        part.iter().map(|r| r.1).collect::<Vec<_>>(),
                    )),
                ),
                ("amount", amounts),
            ])
        })
        .collect()
}

fn rows_strategy() -> impl Strategy<Value = Vec<(String, i32, i64)>> {
    prop::collection::vec(
        (0u32..40, 9_000i32..9_400, 0i64..50_000).prop_map(|(c, d, a)| (format!("c{c}"), d, a)),
        1..300,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Any cut of the rows into batches of any id and money encoding loads the dataset
    /// the CSV reader loads from the same rows.
    #[test]
    fn batches_load_what_csv_loads(rows in rows_strategy(), cuts in prop::collection::vec(0usize..400, 0..6)) {
        let csv = CsvOptions::new().read_bytes(csv_of(&rows).as_bytes()).unwrap().dataset;
        let arrow = ArrowOptions::new().read(&batches_of(&rows, &cuts)).unwrap().dataset;
        prop_assert_eq!(&csv, &arrow);
    }
}

#[test]
fn date_and_id_types_read_as_their_meaning() {
    let expected = {
        let mut b = Dataset::builder();
        let at = |d: &str, h: u32| {
            NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        b.extend([
            TransactionRecord::new("7", at("2024-03-01", 23), 10.0),
            TransactionRecord::new("8", at("2024-03-02", 1), 12.5),
        ])
        .unwrap();
        b.build().unwrap().dataset
    };
    // 2024-03-01 22:00 UTC is 23:00 in Paris; 2024-03-02 00:00 UTC is 01:00 there.
    let utc = |d: &str, h: i64| i64::from(day(d)) * 86_400 + h * 3_600;
    let zoned = TimestampSecondArray::from(vec![utc("2024-03-01", 22), utc("2024-03-02", 0)])
        .with_timezone("Europe/Paris");
    let got = ArrowOptions::new()
        .read(&[batch(vec![
            ("customer_id", Arc::new(Int64Array::from(vec![7, 8]))),
            ("date", Arc::new(zoned)),
            ("amount", Arc::new(Float64Array::from(vec![10.0, 12.5]))),
        ])])
        .unwrap()
        .dataset;
    assert_eq!(got, expected);

    // Date64, ISO text and Date32 give the same dates.
    let dates: [ArrayRef; 3] = [
        Arc::new(Date32Array::from(vec![
            day("2024-03-01"),
            day("2024-03-02"),
        ])),
        Arc::new(Date64Array::from(vec![
            i64::from(day("2024-03-01")) * 86_400_000,
            i64::from(day("2024-03-02")) * 86_400_000,
        ])),
        Arc::new(StringArray::from(vec!["2024-03-01", "2024-03-02"])),
    ];
    let loads: Vec<Dataset> = dates
        .into_iter()
        .map(|d| {
            ArrowOptions::new()
                .read(&[batch(vec![
                    ("customer_id", Arc::new(StringArray::from(vec!["7", "8"]))),
                    ("date", d),
                    ("amount", Arc::new(StringArray::from(vec!["10", "12.5"]))),
                ])])
                .unwrap()
                .dataset
        })
        .collect();
    assert_eq!(loads[0], loads[1]);
    assert_eq!(loads[0], loads[2]);
}

fn three(amounts: ArrayRef) -> RecordBatch {
    let n = amounts.len();
    batch(vec![
        (
            "customer_id",
            Arc::new(StringArray::from(vec!["a"; n])) as ArrayRef,
        ),
        (
            "date",
            Arc::new(Date32Array::from(vec![day("2024-01-01"); n])),
        ),
        ("amount", amounts),
    ])
}

fn batch_error(e: Error) -> BatchError {
    match e {
        Error::Batch(b) => b,
        e => panic!("expected a batch error, got {e}"),
    }
}

#[test]
fn bad_values_name_batch_row_and_column() {
    let good = three(Arc::new(Float64Array::from(vec![1.0, 2.0])));
    let cases: Vec<(ArrayRef, Problem, &str)> = vec![
        (
            Arc::new(Float64Array::from(vec![Some(1.0), None, Some(2.0)])),
            Problem::EmptyValue,
            "null",
        ),
        (
            Arc::new(Float64Array::from(vec![1.0, f64::NAN, 2.0])),
            Problem::NonFinite,
            "NaN",
        ),
        (
            Arc::new(Float64Array::from(vec![1.0, 2e15, 2.0])),
            Problem::AmountTooLarge,
            "2000000000000000",
        ),
    ];
    for (amounts, problem, value) in cases {
        let e = ArrowOptions::new()
            .read(&[good.clone(), three(amounts)])
            .unwrap_err();
        let b = batch_error(e.clone());
        assert_eq!(
            (
                b.batch,
                b.row,
                b.column.as_str(),
                b.problem,
                b.value.as_str()
            ),
            (1, 1, "amount", problem, value)
        );
        assert!(
            e.to_string().starts_with("batch 1, row 1, column `amount`"),
            "{e}"
        );
    }
    // A negative amount where returns are rejected.
    let e = ArrowOptions::new()
        .read_into(
            Dataset::builder().negative_amounts(NegativeAmounts::Reject),
            &[three(Arc::new(Float64Array::from(vec![3.0, -1.0])))],
        )
        .unwrap_err();
    assert_eq!(batch_error(e).problem, Problem::NegativeAmount);
    // A date out of range, and a null id.
    let far = batch(vec![
        (
            "customer_id",
            Arc::new(StringArray::from(vec![Some("a"), None])),
        ),
        ("date", Arc::new(Date32Array::from(vec![3_000_000, 0]))),
        ("amount", Arc::new(Float64Array::from(vec![1.0, 1.0]))),
    ]);
    let b = batch_error(ArrowOptions::new().read(&[far.clone()]).unwrap_err());
    assert_eq!(
        (b.row, b.column.as_str(), b.problem),
        (0, "date", Problem::BadDate)
    );
    // Lenient mode skips both rows, counts them and numbers them across batches.
    let e = ArrowOptions::new()
        .read_into(
            Dataset::builder().mode(acrm::data::Mode::Lenient),
            &[good.clone(), far],
        )
        .unwrap();
    assert_eq!(e.report.loaded, 2);
    assert_eq!(e.report.skipped_total(), 2);
    let lines: Vec<u64> = e.report.examples.iter().map(|x| x.line).collect();
    assert_eq!(lines, [3, 4]);
}

#[test]
fn wrong_types_and_missing_columns_are_named() {
    let dates_as_amount = batch(vec![
        (
            "customer_id",
            Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
        ),
        ("date", Arc::new(Date32Array::from(vec![0]))),
        ("amount", Arc::new(Date32Array::from(vec![0]))),
    ]);
    let e = ArrowOptions::new().read(&[dates_as_amount]).unwrap_err();
    assert!(
        matches!(&e, Error::ColumnType { column, found, .. } if column == "amount" && found == "Date32"),
        "{e}"
    );
    let no_date = batch(vec![
        (
            "customer_id",
            Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
        ),
        ("amount", Arc::new(Float64Array::from(vec![1.0]))),
    ]);
    let e = ArrowOptions::new().read(&[no_date]).unwrap_err();
    assert!(
        matches!(&e, Error::MissingColumn { column, .. } if column == "date"),
        "{e}"
    );
    let zone = TimestampSecondArray::from(vec![0]).with_timezone("Mars/Olympus");
    let e = ArrowOptions::new()
        .read(&[batch(vec![
            (
                "customer_id",
                Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
            ),
            ("date", Arc::new(zone)),
            ("amount", Arc::new(Float64Array::from(vec![1.0]))),
        ])])
        .unwrap_err();
    assert!(
        matches!(&e, Error::ColumnType { column, .. } if column == "date"),
        "{e}"
    );
}

#[test]
fn optional_columns_come_through_as_in_csv() {
    let csv = "customer_id,date,amount,cost,product_id,channel\n\
               a,2024-01-01,10,4,p1,web\n\
               b,2024-01-02,5,2,p2,store\n\
               a,2024-01-05,7,3,p1,web\n";
    let from_csv = CsvOptions::new()
        .read_bytes(csv.as_bytes())
        .unwrap()
        .dataset;
    let b = batch(vec![
        (
            "customer_id",
            Arc::new(StringArray::from(vec!["a", "b", "a"])) as ArrayRef,
        ),
        (
            "date",
            Arc::new(StringArray::from(vec![
                "2024-01-01",
                "2024-01-02",
                "2024-01-05",
            ])),
        ),
        ("amount", Arc::new(Int64Array::from(vec![10, 5, 7]))),
        ("cost", Arc::new(Float64Array::from(vec![4.0, 2.0, 3.0]))),
        (
            "product_id",
            Arc::new(
                vec!["p1", "p2", "p1"]
                    .into_iter()
                    .collect::<DictionaryArray<Int32Type>>(),
            ),
        ),
        (
            "channel",
            Arc::new(StringViewArray::from(vec!["web", "store", "web"])),
        ),
    ]);
    let from_arrow = ArrowOptions::new().read(&[b]).unwrap().dataset;
    assert_eq!(from_csv, from_arrow);
}

#[test]
fn summary_and_tables_come_out_as_batches() {
    let rows: Vec<(String, i32, i64)> = (0..200)
        .map(|i| {
            (
                format!("c{}", i % 17),
                9_000 + (i * 7) % 300,
                100 + i as i64 * 13,
            )
        })
        .collect();
    let data = CsvOptions::new()
        .read_bytes(csv_of(&rows).as_bytes())
        .unwrap()
        .dataset;
    let end = acrm::time::date_of(9_250);
    let s = SummaryOptions::new(end)
        .compute::<Weeks>(&data.view(&Scope::all()))
        .unwrap();
    let b = summary_batch(&s).unwrap();
    assert_eq!(b.num_rows(), s.len());
    let schema = b.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "customer_id",
            "x",
            "t_x",
            "T",
            "mean_spend",
            "revenue",
            "first_purchase",
            "last_purchase",
            "orders"
        ]
    );
    assert_eq!(b.schema().metadata()["as_of"], end.to_string());
    let spend = b.column(4).as_any().downcast_ref::<Float64Array>().unwrap();
    for i in 0..s.len() {
        assert_eq!(spend.value(i).to_bits(), s.mean_spend(i).to_bits());
    }
    // Any serde table: the summary's records, out and back.
    let records = s.records().into_vec();
    let t = to_record_batch(&records).unwrap();
    assert_eq!(t.num_rows(), records.len());
    let back: Vec<acrm::summary::Rfm> = acrm::io::from_record_batch(&t).unwrap();
    assert_eq!(back, records);
    // Input records with optional fields: nulls are `None`.
    let customers = vec![
        acrm::data::CustomerRecord {
            customer_id: "a".into(),
            acquired: NaiveDate::from_ymd_opt(2024, 1, 2),
            region: None,
            channel: Some("web".into()),
            attributes: Default::default(),
        },
        acrm::data::CustomerRecord {
            customer_id: "b".into(),
            acquired: None,
            region: Some("north".into()),
            channel: None,
            attributes: [("tier".to_string(), "gold".to_string())].into(),
        },
    ];
    let t = to_record_batch(&customers).unwrap();
    assert_eq!(t.column_by_name("region").unwrap().null_count(), 1);
    let back: Vec<acrm::data::CustomerRecord> = acrm::io::from_record_batch(&t).unwrap();
    assert_eq!(back, customers);
}

#[cfg(feature = "parquet")]
mod parquet_files {
    use super::*;
    use acrm::io::write_parquet;

    /// Writes `rows` as `files` Parquet files under `dir` (in nested partition folders),
    /// each cut into row groups of `group` rows.
    fn write_folder(
        dir: &std::path::Path,
        rows: &[(String, i32, i64)],
        files: usize,
        group: usize,
    ) {
        use parquet::arrow::ArrowWriter;
        use parquet::file::properties::WriterProperties;
        let per = rows.len().div_ceil(files).max(1);
        for (f, part) in rows.chunks(per).enumerate() {
            // Nested partition folders whose path order is the rows' order.
            let sub = dir.join(format!("part={:02}", f / 2));
            std::fs::create_dir_all(&sub).unwrap();
            let props = WriterProperties::builder()
                .set_max_row_group_row_count(Some(group))
                .build();
            let batches = batches_of(part, &[part.len() / 2]);
            let file = std::fs::File::create(sub.join(format!("f{f:03}.parquet"))).unwrap();
            // Batches of one file share a schema only when their encodings agree:
            // cast them to the first one's.
            let schema = batches[0].schema();
            let mut w = ArrowWriter::try_new(file, schema.clone(), Some(props)).unwrap();
            for b in &batches {
                let cols: Vec<ArrayRef> = b
                    .columns()
                    .iter()
                    .zip(schema.fields())
                    .map(|(c, f)| arrow::compute::cast(c, f.data_type()).unwrap())
                    .collect();
                w.write(&RecordBatch::try_new(schema.clone(), cols).unwrap())
                    .unwrap();
            }
            w.close().unwrap();
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(16))]

        /// Any number of files and row-group size loads what CSV loads, on 1 or 3 threads.
        #[test]
        fn folders_load_what_csv_loads(rows in rows_strategy(), files in 1usize..6, group in 1usize..64) {
            let dir = tempdir();
            write_folder(dir.path(), &rows, files, group);
            let csv = CsvOptions::new().read_bytes(csv_of(&rows).as_bytes()).unwrap().dataset;
            for threads in [1, 3] {
                let got = crate::pool(threads)
                    .install(|| ArrowOptions::new().read_parquet(dir.path()))
                    .unwrap()
                    .dataset;
                prop_assert_eq!(&csv, &got);
            }
        }
    }

    #[test]
    fn a_bad_value_names_the_file_and_row_group() {
        let dir = tempdir();
        let rows: Vec<(String, i32, i64)> =
            (0..10).map(|i| (format!("c{i}"), 9_000 + i, 100)).collect();
        write_folder(dir.path(), &rows, 1, 4);
        let bad = three(Arc::new(Float64Array::from(vec![
            1.0,
            2.0,
            3.0,
            4.0,
            5.0,
            f64::INFINITY,
        ])));
        let path = dir.path().join("part=9");
        std::fs::create_dir_all(&path).unwrap();
        let file = path.join("z.parquet");
        use parquet::arrow::ArrowWriter;
        use parquet::file::properties::WriterProperties;
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(4))
            .build();
        let mut w = ArrowWriter::try_new(
            std::fs::File::create(&file).unwrap(),
            bad.schema(),
            Some(props),
        )
        .unwrap();
        w.write(&bad).unwrap();
        w.close().unwrap();
        let e = ArrowOptions::new().read_parquet(dir.path()).unwrap_err();
        let b = batch_error(e.clone());
        assert_eq!((b.batch, b.row, b.problem), (1, 1, Problem::NonFinite));
        assert!(b.file.as_deref().unwrap().ends_with("z.parquet"));
        assert!(
            e.to_string()
                .contains("z.parquet: row group 1, row 1, column `amount`"),
            "{e}"
        );
        // Not Parquet at all.
        std::fs::write(path.join("y.parquet"), b"not parquet").unwrap();
        let e = ArrowOptions::new().read_parquet(dir.path()).unwrap_err();
        assert!(
            matches!(&e, Error::Engine { engine: "parquet", message } if message.contains("y.parquet")),
            "{e}"
        );
    }

    #[test]
    fn written_summaries_read_back() {
        let rows: Vec<(String, i32, i64)> = (0..50)
            .map(|i| (format!("c{}", i % 7), 9_000 + i, 100 + i as i64))
            .collect();
        let data = CsvOptions::new()
            .read_bytes(csv_of(&rows).as_bytes())
            .unwrap()
            .dataset;
        let s = SummaryOptions::new(acrm::time::date_of(9_100))
            .compute::<Weeks>(&data.view(&Scope::all()))
            .unwrap();
        let b = summary_batch(&s).unwrap();
        let dir = tempdir();
        let file = dir.path().join("summary.parquet");
        write_parquet(&file, &[b.clone()]).unwrap();
        let back: Vec<RecordBatch> =
            parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
                std::fs::File::open(&file).unwrap(),
            )
            .unwrap()
            .build()
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].columns(), b.columns());
    }

    /// A fresh folder under the target directory's temp space, removed on drop.
    pub(super) struct TempDir(std::path::PathBuf);
    impl TempDir {
        pub(super) fn path(&self) -> &std::path::Path {
            &self.0
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
    pub(super) fn tempdir() -> TempDir {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let p = std::env::temp_dir().join(format!(
            "acrm-arrow-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}
