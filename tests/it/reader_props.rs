//! Every reader on arbitrary bytes and on damaged copies of a valid input: no panic, a
//! typed error whose message is one human line (no `Debug` rendering), or a valid result.
//! And the wording of each kind of message, pinned.

use acrm::data::Dataset;
use acrm::data::FieldKind;
use acrm::io::{
    read_basket_csv, read_baskets, read_campaigns, read_cohorts_csv, read_contacts,
    read_discrete_patterns_csv, read_opportunities, read_organisation, read_paths, read_series_csv,
    read_spend_history, read_summary_csv, read_targets, read_touches, AssignmentCsv,
    CampaignContactCsv, CsvOptions, CustomerRecordCsv, Table,
};
use acrm::{Error, Problem, RowError};
use proptest::prelude::*;

type Reader = fn(&[u8]) -> Result<(), Error>;

/// Each reader with a valid input.
fn readers() -> Vec<(&'static str, Reader, &'static str)> {
    vec![
        ("transactions csv", |b| CsvOptions::new().read_bytes(b).map(drop),
         "customer_id,date,amount,product_id,order_id\nc1,2024-01-02,10.5,p1,o1\nc1,2024-01-02,3,p2,o1\nc2,2024-02-01,7,p1,o2\n"),
        ("cdnow master", |b| CsvOptions::cdnow_master().read_bytes(b).map(drop),
         "customer_id date number_of_cds dollar_value\n00001 19970101 1 11.77\n00002 19970112 1 12.00\n00002 19970112 5 77.00\n"),
        ("cdnow sample", |b| CsvOptions::cdnow_sample().read_bytes(b).map(drop),
         "00004 0001 19970101 2 29.33\n00018 0002 19970101 2 29.73\n00018 0002 19970407 1 12.49\n"),
        ("order lines", |b| CsvOptions::order_lines().read_bytes(b).map(drop),
         "order_id,line_no,customer_id,order_date,channel,region,category,product,quantity,amount,cost\n1,1,c2,2023-09-23,web,east,cat02,p0026,3,56.67,33.45\n1,2,c2,2023-09-23,web,east,cat04,p0076,1,11.99,7.61\n"),
        ("summary", |b| read_summary_csv(b).map(drop),
         "ID,x,t_x,T,zbar\n1,2,30.43,38.86,22.35\n2,1,1.71,38.86,11.77\n3,0,0,38.86,0\n"),
        ("bg/bb patterns", |b| read_discrete_patterns_csv(b).map(drop),
         "frequency,recency,periods,weights\n0,0,6,3464\n1,1,6,1091\n1,2,6,277\n"),
        ("cohorts", |b| read_cohorts_csv(b).map(drop),
         "cohort,period,alive\n1,0,1000\n1,1,631\n1,2,468\n2,0,1000\n2,1,869\n"),
        ("series", |b| read_series_csv(b, "t", "web").map(drop),
         "t,web,store\n1,35,10\n2,42,12\n4,65,20\n"),
        ("table", |b| {
            let t = Table::read(b)?;
            t.numbers("week")?;
            t.flags("arrest")?;
            Ok(())
        }, "week,arrest,fin\n20,1,0\n17,1,0\n25,0,1\n"),
        ("baskets", |b| read_baskets(b).map(drop), "milk yogurt butter\nmilk eggs\n\ncoffee milk\n"),
        ("basket csv", |b| read_basket_csv(b, "order_id", "item").map(drop),
         "order_id,item\no1,milk\no1,eggs\no2,milk\n"),
        ("paths", |b| read_paths(b).map(drop),
         "path;total_conversions;total_conversion_value;total_null\nsearch > email;3;300;7\nemail;1;50;9\n"),
        ("contacts", |b| read_contacts(b).map(drop),
         "contact_id,campaign,owner,created,lead,opportunity_date,order,segment\nc1,spring,ann,2024-03-01,1,2024-03-10,0,smb\nc2,spring,bob,2024-03-02,0,,0,\n"),
        ("campaigns", |b| read_campaigns(b).map(drop),
         "id,type,product,start,end,cost\nspring_fair,fair,boilers,2024-03-01,2024-03-03,12000\nweb_ads,advertising,,2024-03-01,,8000.5\n"),
        ("opportunities", |b| read_opportunities(b).map(drop),
         "opp_id,stage,amount,probability,close_date,owner,region\no1,proposal,1000,0.5,2024-10-03,ann,north\no2,prospect,400,,2024-10-20,bob,\n"),
        ("targets", |b| read_targets(b).map(drop),
         "product,region,period,from,until,revenue,units\np1,north,Q1,2024-01-01,2024-03-31,1000,50\np1,south,Q1,2024-01-01,2024-03-31,800,\n"),
        ("touches", |b| read_touches(b).map(drop),
         "customer_id,time,channel,conversion,value\nann,2024-03-01,search,0,\nann,2024-03-04,email,1,120\n"),
        ("spend", |b| read_spend_history(b).map(drop),
         "group,spend,outcome\nmail,100,40.5\nsearch,250,90\nmail,300,70\n"),
        ("ownership", |b| AssignmentCsv::new().read(b).map(drop),
         "customer_id,owner,team,branch\n00001,ann,t1,north\n2,bob,t1,north\n"),
        ("organisation", |b| read_organisation(b, "id,unit,role\nann,t1,sales\n".as_bytes(), "name,reach,hidden_columns,forbidden_areas\nsales,own,cost,\n".as_bytes()).map(drop),
         "id,level,parent\nnorth,branch,\nt1,team,north\n"),
        ("customer records", |b| CustomerRecordCsv::new("id").field("name", FieldKind::Name).field("dob", FieldKind::Date).read(b).map(drop),
         "id,name,dob\nD1,Ann Lee,1980-02-01\nD2,Bob Ray,\n"),
        ("campaign contacts", |b| {
            let contacts = CampaignContactCsv::new().outcome("click").value("revenue").read(b)?;
            let data = Dataset::default();
            let _ = contacts.view(&data.view(&acrm::data::Scope::all()));
            Ok(())
        }, "customer,campaign,arm,click,revenue\nc1,spring,control,0,0\nc2,spring,offer,1,35.5\n"),
    ]
}

/// A message must read as one human line: no `Debug` structs, no newline.
fn check_message(reader: &str, e: &Error) -> Result<(), TestCaseError> {
    let m = e.to_string();
    prop_assert!(
        !m.contains('\n'),
        "{reader}: a message of several lines: {m}"
    );
    prop_assert!(
        !m.contains("Some(") && !m.contains(" { ") && !m.contains("Position"),
        "{reader}: a Debug rendering: {m}"
    );
    prop_assert!(!m.is_empty(), "{reader}: an empty message");
    Ok(())
}

#[test]
fn every_reader_reads_its_valid_sample() {
    for (name, read, sample) in readers() {
        read(sample.as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// A damaged copy: bytes replaced, inserted or removed at random places.
fn damage(sample: &[u8], edits: &[(usize, u8, u8)]) -> Vec<u8> {
    let mut b = sample.to_vec();
    for &(at, kind, byte) in edits {
        let i = at % (b.len() + 1);
        match kind % 3 {
            0 if i < b.len() => b[i] = byte,
            1 => b.insert(i, byte),
            _ if i < b.len() => {
                b.remove(i);
            }
            _ => {}
        }
    }
    b
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_are_a_typed_error_or_a_result(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        for (name, read, sample) in readers() {
            if let Err(e) = read(&bytes) {
                check_message(name, &e)?;
            }
            // After a valid header: the rows are arbitrary.
            let header = &sample.as_bytes()[..=sample.find('\n').unwrap()];
            if let Err(e) = read(&[header, &bytes].concat()) {
                check_message(name, &e)?;
            }
        }
    }

    #[test]
    fn damaged_valid_inputs_are_a_typed_error_or_a_result(
        edits in proptest::collection::vec((any::<usize>(), any::<u8>(), prop_oneof![
            Just(b','), Just(b'\n'), Just(b'\r'), Just(b'"'), Just(b';'), Just(b' '),
            Just(b'-'), Just(b'.'), Just(b'e'), Just(0xFF), Just(0xC3), Just(b'9'), any::<u8>()
        ]), 1..6)
    ) {
        for (name, read, sample) in readers() {
            if let Err(e) = read(&damage(sample.as_bytes(), &edits)) {
                check_message(name, &e)?;
            }
        }
    }
}

fn message(read: Reader, text: &[u8]) -> String {
    read(text).expect_err("an error").to_string()
}

#[test]
fn each_kind_of_message_reads_as_pinned() {
    let csv: Reader = |b| CsvOptions::new().read_bytes(b).map(drop);
    let summary: Reader = |b| read_summary_csv(b).map(drop);
    let table: Reader = |b| Table::read(b).and_then(|t| t.flags("event")).map(drop);
    let cdnow: Reader = |b| CsvOptions::cdnow_sample().read_bytes(b).map(drop);
    let cases: Vec<(Reader, &[u8], &str)> = vec![
        (summary, b"ID,x,t_x,T\n1,1,2\n",
         "line 2: 3 fields where the first line has 4; expected the same number of fields on every line"),
        (summary, b"ID,x,t_x,T\n1,1,2,\xff\n",
         "line 2, column 4: the text is not UTF-8; expected UTF-8 text (save the file as UTF-8)"),
        (summary, b"ID,x,t_x,T\n1,1,5,4\n",
         "line 2, field `t_x`: value \"5\": expected a history a customer can have: whole x ≥ 0, 0 ≤ t_x ≤ T, T > 0, and t_x = 0 and spend 0 when x = 0"),
        (summary, b"ID,x,t_x,T\n1,one,2,4\n", "line 2, field `x`: value \"one\": expected a number"),
        (summary, b"ID,x,T\n1,1,4\n",
         "no column `t_x or recency` in the header; it has `ID`, `x`, `T`"),
        (summary, b"ID;x;t_x;T\n1;1;2;4\n",
         "no column `x or frequency` in the header; it has `ID;x;t_x;T` (is the file separated by ';' rather than commas?)"),
        (summary, b"", "the input holds no data rows (it is empty, holds only a header, or every row was skipped)"),
        (summary, b"ID,x,t_x,T\n", "the input holds no data rows (it is empty, holds only a header, or every row was skipped)"),
        (summary, b"\xff\xfeI\0D\0",
         "the input is UTF-16LE text (it starts with a UTF-16LE byte-order mark); save it as UTF-8"),
        (summary, b"ID,x,t_x,T\n1,1,2,4\n1,0,0,4\n",
         "line 3, field `ID`: value \"1\": expected an id not given on an earlier line"),
        (csv, b"customer_id,date,amount\nc1,2024-02-30,5\n",
         "line 2, field `date`: value \"2024-02-30\": expected a calendar date such as 1997-01-31 or 19970131 (or in the format the reader was given)"),
        (csv, b"customer_id,date,amount\nc1,2024-02-03,inf\n",
         "line 2, field `amount`: value \"inf\": expected a finite number"),
        (csv, b"customer_id,date,amount\nc1,2024-02-03\n",
         "line 2: no field `amount`; expected as many fields as the columns the reader uses"),
        (cdnow, b"00004 0001 1997x101 2 29.33\n",
         "line 1, column 3: value \"1997x101\": expected a calendar date such as 1997-01-31 or 19970131 (or in the format the reader was given)"),
        (cdnow, b"00004 0001\n", "line 1: no column 3; expected as many fields as the columns the reader uses"),
        (
            csv,
            b"customer_id,date,amount\nc1,2024-02-03,1e300\n",
            "line 2, field `amount`: value \"1e300\": expected an amount of at most 10^15 in absolute value (larger ones overflow the sums)",
        ),
        // CR-only line ends count lines as LF ones do.
        (csv, b"customer_id,date,amount\rc1,2024-02-03,5\rc2,2024-02-03,x\r",
         "line 3, field `amount`: value \"x\": expected a number"),
        // A UTF-8 byte-order mark is not part of the first column's name.
        (csv, b"\xef\xbb\xbfcustomer_id,date,amount\nc1,2024-02-03,x\n",
         "line 2, field `amount`: value \"x\": expected a number"),
        (table, b"week,event\n3,2\n", "line 2, field `event`: value \"2\": expected a flag 0 or 1"),
        (|b| read_discrete_patterns_csv(b).map(drop), b"frequency,recency,periods\n3,2,6\n",
         "line 2, field `frequency`: value \"3\": expected a history a customer can have: periods ≥ 1, frequency ≤ recency ≤ periods, and frequency 0 exactly when recency is 0"),
        (|b| read_cohorts_csv(b).map(drop), b"period,alive\n0,100\n2,50\n",
         "line 3, field `period`: value \"2\": expected the cohort's next period (periods run 0, 1, 2, … each once, without gaps)"),
    ];
    for (read, text, want) in cases {
        assert_eq!(
            message(read, text),
            want,
            "{}",
            String::from_utf8_lossy(text)
        );
    }
}

#[test]
fn every_problem_renders_as_a_sentence() {
    // Each problem's expectation is written for people and completes "expected ...".
    let problems = [
        Problem::MissingField,
        Problem::EmptyValue,
        Problem::BadDate,
        Problem::BadNumber,
        Problem::NonFinite,
        Problem::AmountTooLarge,
        Problem::NegativeAmount,
        Problem::UnknownCustomer,
        Problem::Inconsistent,
        Problem::Malformed,
        Problem::FieldCount,
        Problem::SummaryRange,
        Problem::NotUtf8,
        Problem::OutOfRange,
        Problem::DuplicateId,
        Problem::UnknownReference,
        Problem::Cycle,
        Problem::Conflict,
        Problem::InvalidName,
        Problem::Negative,
        Problem::NotWhole,
        Problem::PeriodSequence,
        Problem::SurvivorsIncrease,
        Problem::EmptyCohort,
        Problem::EndBeforeStart,
        Problem::NotProbability,
        Problem::BadStatus,
        Problem::DateOrder,
        Problem::NotFlag,
        Problem::NotHistory,
        Problem::PeriodOrder,
    ];
    for p in problems {
        let e = Error::Row(RowError {
            line: 7,
            field: "amount".into(),
            value: "x".into(),
            problem: p,
        });
        let m = e.to_string();
        assert!(m.starts_with("line 7"), "{m}");
        assert!(m.contains(p.expected()), "{m}");
        assert!(
            !p.expected().ends_with('.') && !p.expected().contains('{'),
            "{p:?}"
        );
    }
    let by_position = Error::Row(RowError {
        line: 3,
        field: "#2".into(),
        value: "x".into(),
        problem: Problem::BadNumber,
    });
    assert_eq!(
        by_position.to_string(),
        "line 3, column 3: value \"x\": expected a number"
    );
}

#[test]
fn budgets_stop_runaway_work_with_advice() {
    use acrm::product::{FpGrowthOptions, RuleOptions};
    // One basket of 30 items: 2^30 - 1 frequent itemsets at any support.
    let items: Vec<String> = (0..30).map(|i| format!("i{i}")).collect();
    let baskets = read_baskets(format!("{}\n", items.join(" ")).as_bytes()).unwrap();
    let err = FpGrowthOptions::new()
        .min_count(1)
        .max_itemsets(100_000)
        .compute(&baskets)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "stopped: frequent itemsets exceed the budget of 100000; raise the minimum support (now 1 of 1 baskets) or set a maximum itemset length"
    );
    // Within the budget on any thread count; the rules of 12 items' itemsets exceed theirs.
    let small = read_baskets(format!("{}\n", items[..12].join(" ")).as_bytes()).unwrap();
    let sets = FpGrowthOptions::new()
        .min_count(1)
        .max_itemsets(4095)
        .compute(&small)
        .unwrap();
    // Every non-empty subset of 12 items: 2^12 − 1 = 4,095 itemsets.
    assert_eq!(sets.len(), 4095);
    let err = FpGrowthOptions::new()
        .min_count(1)
        .max_itemsets(4094)
        .compute(&small)
        .unwrap_err();
    assert!(matches!(
        err,
        Error::Budget {
            what: "frequent itemsets",
            limit: 4094,
            ..
        }
    ));
    // 3^12 − 2·2^12 + 1 = 523,250 splits, all of them rules.
    let err = RuleOptions::new()
        .max_rules(30_000)
        .compute(&sets)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Budget {
                what: "rules",
                limit: 30_000,
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        RuleOptions::new()
            .max_rules(523_250)
            .compute(&sets)
            .unwrap()
            .len(),
        523_250
    );
    let err = RuleOptions::new().max_rules(10).compute(&sets).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Budget {
                what: "rules to look at",
                limit: 250,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_date_in_the_periods_column_stops_the_bgbb_fit_at_once() {
    use acrm::persistency::{BgBb, FitOptions};
    let patterns = read_discrete_patterns_csv(
        "frequency,recency,periods\n1,1,6\n2,19970230,19970230\n".as_bytes(),
    )
    .unwrap();
    let err = FitOptions::new().fit::<BgBb>(&patterns).unwrap_err();
    assert_eq!(
        err.to_string(),
        "stopped: terms of one BG/BB likelihood evaluation exceed the budget of 10000000; the \
         longest history has 19970230 opportunities; opportunities are periods such as years, \
         so check the periods column"
    );
}
