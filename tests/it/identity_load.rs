//! The id map applied when transactions are loaded: source ids load under golden ids,
//! through the parallel CSV reader, the quoted (sequential) one and records pushed one
//! by one, with the merged ids counted. The expected customers and totals are worked out
//! by hand from the few lines below.

use acrm::data::{Dataset, IdMap, Scope, TransactionRecord};
use acrm::io::CsvOptions;
use acrm::Error;

fn map() -> IdMap {
    let mut m = IdMap::new();
    // D1 (dealer), S9 (service desk) and W4 (web) are one customer, golden id D1.
    m.insert("S9", "D1", 1).unwrap();
    m.insert("W4", "D1", 2).unwrap();
    m.insert("D1", "D1", 3).unwrap();
    m
}

const LOG: &str = "customer_id,date,amount\n\
    D1,2024-01-02,10\n\
    S9,2024-01-05,20\n\
    X7,2024-01-06,5\n\
    W4,2024-02-01,30\n\
    S9,2024-03-01,1\n";

fn totals(d: &Dataset) -> Vec<(String, usize, f64)> {
    let all = d.view(&Scope::all());
    let mut v: Vec<_> = (0..all.len())
        .map(|k| {
            let h = all.history(k);
            (
                all.id(k).to_string(),
                h.len(),
                h.amounts.iter().sum::<f64>(),
            )
        })
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn transactions_load_under_golden_ids_and_the_report_counts_merged_ids() {
    let want = vec![("D1".to_string(), 4, 61.0), ("X7".to_string(), 1, 5.0)];
    // Plain (parallel) path.
    let loaded = CsvOptions::new()
        .read_into(Dataset::builder().id_map(map()), LOG.as_bytes())
        .unwrap();
    assert_eq!(totals(&loaded.dataset), want);
    // S9 and W4 were rewritten; D1 maps to itself and is not counted.
    assert_eq!(loaded.report.merged_ids, 2);
    // Quoted path (a quote sends the file through the csv crate).
    let quoted = LOG.replace("X7", "\"X7\"");
    let loaded = CsvOptions::new()
        .read_into(Dataset::builder().id_map(map()), quoted.as_bytes())
        .unwrap();
    assert_eq!(totals(&loaded.dataset), want);
    assert_eq!(loaded.report.merged_ids, 2);
    // Records one by one.
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2024, m, day).unwrap();
    let mut b = Dataset::builder().id_map(map());
    b.extend([
        TransactionRecord::new("W4", d(1, 1), 2.0),
        TransactionRecord::new("D1", d(1, 2), 3.0),
        TransactionRecord::new("W4", d(1, 3), 4.0),
    ])
    .unwrap();
    let loaded = b.build().unwrap();
    assert_eq!(totals(&loaded.dataset), vec![("D1".to_string(), 3, 9.0)]);
    assert_eq!(loaded.report.merged_ids, 1);
    // Without a map nothing is merged.
    let plain = CsvOptions::new().read_bytes(LOG.as_bytes()).unwrap();
    assert_eq!(
        (plain.report.merged_ids, totals(&plain.dataset).len()),
        (0, 4)
    );
}

#[test]
fn known_customers_are_checked_by_golden_id_and_conflicting_maps_are_refused() {
    let customer = |id: &str| acrm::data::CustomerRecord {
        customer_id: id.to_string(),
        ..Default::default()
    };
    let customers = [customer("D1"), customer("X7")];
    let loaded = CsvOptions::new()
        .read_into(
            Dataset::builder()
                .customers(customers.clone())
                .require_known_customers(true)
                .id_map(map()),
            LOG.as_bytes(),
        )
        .unwrap();
    assert_eq!(loaded.report.loaded, 5);
    let mut m = map();
    assert!(matches!(
        m.insert("S9", "X7", 4),
        Err(Error::Row(r)) if r.line == 4 && r.value == "S9"
    ));
    assert!(m.insert("S9", "D1", 5).is_ok());
    assert_eq!(
        (m.golden("S9"), m.golden("nobody"), m.len()),
        ("D1", "nobody", 3)
    );
}
