//! Normalisation, string metrics and comparison levels of `identity`.
//!
//! References: `tests/data/identity/compare/string_metrics.csv`, 3,000 string pairs with
//! jellyfish 1.3.0 (Jaro, Jaro–Winkler, Levenshtein, Damerau–Levenshtein) and rapidfuzz
//! 3.14.6 (`fuzz.token_set_ratio / 100`) values, and `name_folding.csv`, 400 raw names
//! folded by Python's `unicodedata`; both made by `make_reference.py` beside them.

use acrm::data::FieldKind;
use acrm::identity::strings;
use acrm::identity::{normalize, Comparison, LevelPredicate, NormalizedColumn, MISSING};

const REF: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/identity/compare/string_metrics.csv"
);

struct Row {
    a: String,
    b: String,
    jaro: f64,
    jw: f64,
    lev: usize,
    dam: usize,
    tset: f64,
}

fn reference() -> Vec<Row> {
    let mut r = csv::Reader::from_path(REF).unwrap();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            Row {
                a: rec[0].to_string(),
                b: rec[1].to_string(),
                jaro: rec[2].parse().unwrap(),
                jw: rec[3].parse().unwrap(),
                lev: rec[4].parse().unwrap(),
                dam: rec[5].parse().unwrap(),
                tset: rec[6].parse().unwrap(),
            }
        })
        .collect()
}

/// Jaro and Jaro–Winkler against jellyfish 1.3.0, tolerance 1e-12.
#[test]
fn jaro_and_jaro_winkler_match_jellyfish() {
    let rows = reference();
    assert_eq!(rows.len(), 3000);
    for r in &rows {
        let (j, jw) = (strings::jaro(&r.a, &r.b), strings::jaro_winkler(&r.a, &r.b));
        assert!(
            (j - r.jaro).abs() <= 1e-12,
            "jaro {:?} {:?}: {j} vs {}",
            r.a,
            r.b,
            r.jaro
        );
        assert!(
            (jw - r.jw).abs() <= 1e-12,
            "jw {:?} {:?}: {jw} vs {}",
            r.a,
            r.b,
            r.jw
        );
    }
}

/// Levenshtein and unrestricted Damerau–Levenshtein against jellyfish 1.3.0 (exact), and
/// `within_one_edit` against jellyfish's Damerau distance ≤ 1.
#[test]
fn edit_distances_match_jellyfish() {
    for r in &reference() {
        assert_eq!(
            strings::levenshtein(&r.a, &r.b),
            r.lev,
            "{:?} {:?}",
            r.a,
            r.b
        );
        assert_eq!(
            strings::damerau_levenshtein(&r.a, &r.b),
            r.dam,
            "{:?} {:?}",
            r.a,
            r.b
        );
        assert_eq!(
            strings::within_one_edit(&r.a, &r.b),
            r.dam <= 1,
            "{:?} {:?}",
            r.a,
            r.b
        );
    }
}

/// Token-set ratio against rapidfuzz 3.14.6 `fuzz.token_set_ratio / 100`, tolerance 1e-12.
#[test]
fn token_set_ratio_matches_rapidfuzz() {
    for r in &reference() {
        let t = strings::token_set_ratio(&r.a, &r.b);
        assert!(
            (t - r.tset).abs() <= 1e-12,
            "{:?} {:?}: {t} vs {}",
            r.a,
            r.b,
            r.tset
        );
    }
}

/// The level path (precomputed token sets of a `NormalizedColumn`) agrees with the
/// public metric on the normalised values, for every reference pair and two thresholds.
#[test]
fn token_set_level_agrees_with_metric() {
    let rows = reference();
    let a: Vec<&str> = rows.iter().map(|r| r.a.as_str()).collect();
    let b: Vec<&str> = rows.iter().map(|r| r.b.as_str()).collect();
    let ca = NormalizedColumn::new(FieldKind::Text, &a);
    let cb = NormalizedColumn::new(FieldKind::Text, &b);
    let cmp = Comparison::new(
        FieldKind::Text,
        vec![
            LevelPredicate::TokenSetAtLeast(0.8),
            LevelPredicate::JaccardAtLeast(0.5),
            LevelPredicate::JaroWinklerAtLeast(0.9),
        ],
    )
    .unwrap();
    let mut seen = [0usize; 4];
    for i in 0..rows.len() {
        let l = cmp.level(&ca, i, &cb, i);
        let (Some(x), Some(y)) = (ca.value(i), cb.value(i)) else {
            assert_eq!(l, MISSING);
            continue;
        };
        let want = if strings::token_set_ratio(x, y) >= 0.8 {
            0
        } else if strings::jaccard(x, y) >= 0.5 {
            1
        } else if strings::jaro_winkler(x, y) >= 0.9 {
            2
        } else {
            3
        };
        assert_eq!(l, want, "{x:?} {y:?}");
        seen[usize::from(l)] += 1;
    }
    assert!(seen.iter().all(|&s| s > 0), "every level reached: {seen:?}");
}

fn levels(kind: FieldKind, pairs: &[(&str, &str)]) -> Vec<u8> {
    let a: Vec<&str> = pairs.iter().map(|p| p.0).collect();
    let b: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    let (ca, cb) = (
        NormalizedColumn::new(kind, &a),
        NormalizedColumn::new(kind, &b),
    );
    let c = Comparison::default_for(kind);
    (0..pairs.len()).map(|i| c.level(&ca, i, &cb, i)).collect()
}

/// Default levels per kind on hand-made pairs (the documented level definitions).
#[test]
fn default_levels_per_kind() {
    use FieldKind::*;
    assert_eq!(
        levels(
            Name,
            &[
                ("Zoë", "zoe"),
                ("Bill", "William"),
                ("Martha", "Marhta"),
                ("Smith", "Smyth"),
                ("Ann", "Bob"),
                ("n/a", "Ann")
            ]
        ),
        [0, 1, 2, 3, 4, MISSING]
    );
    assert_eq!(
        levels(
            Date,
            &[
                ("1981-02-03", "19810203"),
                ("03/02/1981", "1981-03-02"),
                ("19810203", "19810208"),
                ("1981-02-03", "1981-02-28"),
                ("1981-02-03", "1990-07-01"),
                ("1981-02-30", "1981-02-03")
            ]
        ),
        [0, 1, 2, 3, 4, MISSING]
    );
    assert_eq!(
        levels(
            Email,
            &[
                ("A.B+x@Example.com", "a.b@example.com"),
                ("jsmith@a.com", "jsmith@b.org"),
                ("jsmith@a.com", "jsmiht@b.org"),
                ("ann@a.com", "zed@a.com"),
                ("no email", "ann@a.com")
            ]
        ),
        [0, 1, 2, 3, MISSING]
    );
    assert_eq!(
        levels(
            Phone,
            &[
                ("+44 7700 900123", "07700900123"),
                ("01632 900123", "0161 2900123"),
                ("07700 900123", "07700 901023"),
                ("07700 900123", "07999 111222"),
                ("0000000", "07700 900123")
            ]
        ),
        [0, 1, 2, 3, MISSING]
    );
    assert_eq!(
        levels(
            Postcode,
            &[
                ("sw1a 1aa", "SW1A1AA"),
                ("SW1A 1AA", "SW1A 1BB"),
                ("SW1A 1AA", "SW1A 2BB"),
                ("SW1A 1AA", "M1 1AE")
            ]
        ),
        [0, 1, 2, 3]
    );
    assert_eq!(
        levels(
            Address,
            &[
                ("12 High Street", "12 high st."),
                ("12 High Street Flat 3", "Flat 3, 12 High St, Leeds"),
                ("12 High Street", "12 Market Street"),
                ("12 High Street", "9 Park Lane")
            ]
        ),
        [0, 1, 2, 3]
    );
    assert_eq!(
        levels(
            Number,
            &[
                ("1,000", "1000.0"),
                ("1000", "1005"),
                ("1000", "1080"),
                ("1000", "2000"),
                ("abc", "1")
            ]
        ),
        [0, 1, 2, 3, MISSING]
    );
    assert_eq!(
        levels(Id, &[(" AB-12 ", "ab-12"), ("AB-12", "AB-13")]),
        [0, 1]
    );
}

/// Labels, level counts and the term-frequency level.
#[test]
fn labels_and_tf_level() {
    let c = Comparison::default_for(FieldKind::Name);
    assert_eq!(c.levels(), 5);
    let labels: Vec<String> = (0..5).map(|l| c.label(l)).collect();
    assert_eq!(
        labels,
        [
            "exact",
            "exact after nickname folding",
            "jaro_winkler >= 0.92",
            "jaro_winkler >= 0.88",
            "else"
        ]
    );
    assert_eq!(c.label(MISSING), "missing");
    assert_eq!(c.tf_level(), Some(0));
    let no_exact =
        Comparison::new(FieldKind::Text, vec![LevelPredicate::TokenSetAtLeast(0.5)]).unwrap();
    assert_eq!(no_exact.tf_level(), None);
}

/// A predicate for another kind and a NaN threshold are typed errors.
#[test]
fn custom_comparison_errors() {
    let e = Comparison::new(FieldKind::Phone, vec![LevelPredicate::DaysWithin(3)]).unwrap_err();
    assert!(e.to_string().contains("within 3 days"), "{e}");
    assert!(Comparison::new(
        FieldKind::Name,
        vec![LevelPredicate::JaroWinklerAtLeast(f64::NAN)]
    )
    .is_err());
}

/// Term frequencies are shares of the non-missing records; identical for 1 and 2 threads.
#[test]
fn term_frequencies_and_threads() {
    let raw: Vec<String> = (0..5000)
        .map(|i| match i % 7 {
            0 => String::new(),
            1 | 2 => "Smith".into(),
            k => format!("Name{}", (i * k) % 97),
        })
        .collect();
    let one = super::pool(1).install(|| NormalizedColumn::new(FieldKind::Name, &raw));
    let two = super::pool(2).install(|| NormalizedColumn::new(FieldKind::Name, &raw));
    assert_eq!(one.values, two.values);
    let present = raw.iter().filter(|r| !r.is_empty()).count() as f64;
    let smith = raw.iter().filter(|r| *r == "Smith").count() as f64;
    assert_eq!(one.term_frequency(0), None);
    assert!((one.term_frequency(1).unwrap() - smith / present).abs() < 1e-15);
    for i in 0..raw.len() {
        assert_eq!(
            one.term_frequency(i).map(f64::to_bits),
            two.term_frequency(i).map(f64::to_bits)
        );
    }
    assert_eq!(one.term_frequency(10_000), None);
}

/// Placeholders and unreadable values are missing; canonical forms as documented.
#[test]
fn normalisation_rules() {
    use FieldKind::*;
    for p in ["", "  ", "N/A", "unknown", "NULL", "-", "xxx", "none"] {
        assert_eq!(normalize(Name, p), None, "{p:?}");
    }
    assert_eq!(normalize(Date, "20010229"), None);
    assert_eq!(normalize(Date, "1900-01-01"), None);
    assert_eq!(normalize(Date, "2001.12.31").as_deref(), Some("20011231"));
    assert_eq!(normalize(Date, "31.12.2001").as_deref(), Some("20011231"));
    assert_eq!(normalize(Date, "Dec 31, 2001").as_deref(), Some("20011231"));
    assert_eq!(
        normalize(Date, "2001-12-31T10:00:00").as_deref(),
        Some("20011231")
    );
    assert_eq!(normalize(Email, "bob@@x.com"), None);
    assert_eq!(normalize(Email, "bob"), None);
    assert_eq!(
        normalize(Phone, "0033 1 23 45 67 89").as_deref(),
        Some("33123456789")
    );
    assert_eq!(normalize(Phone, "123"), None);
    assert_eq!(normalize(Number, "-0").as_deref(), Some("0"));
    assert_eq!(normalize(Number, "1e400"), None);
    assert_eq!(
        normalize(Name, "ŁUKASZ Müller-Straße").as_deref(),
        Some("lukasz muller strasse")
    );
    assert_eq!(
        normalize(Address, "Apartment 4, 1 North Avenue").as_deref(),
        Some("apt 4 1 n ave")
    );
}

/// Name folding (accents, case, punctuation) against Python `unicodedata` NFKD folding
/// in `name_folding.csv` (exact).
#[test]
fn name_folding_matches_python_unicodedata() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/identity/compare/name_folding.csv"
    );
    let mut n = 0;
    for rec in csv::Reader::from_path(path).unwrap().records() {
        let rec = rec.unwrap();
        assert_eq!(
            normalize(FieldKind::Name, &rec[0]).as_deref(),
            Some(&rec[1]),
            "{:?}",
            &rec[0]
        );
        n += 1;
    }
    assert_eq!(n, 400);
}

/// Dates in every documented format give the same canonical day; phones, e-mails,
/// addresses and placeholders per the documented rules.
#[test]
fn normalisation_formats() {
    use FieldKind::*;
    for raw in [
        "19810203",
        "1981-02-03",
        "1981/02/03",
        "1981.2.3",
        "03/02/1981",
        "3.2.1981",
        "03-02-1981",
        "3 Feb 1981",
        "3 February 1981",
        "Feb 3, 1981",
        "1981-Feb-03",
        "1981-02-03 12:30:00",
    ] {
        assert_eq!(normalize(Date, raw).as_deref(), Some("19810203"), "{raw:?}");
    }
    for raw in [
        "31/02/1981",
        "1981-13-01",
        "1799-01-01",
        "3 Foo 1981",
        "1981-02",
        "x",
    ] {
        assert_eq!(normalize(Date, raw), None, "{raw:?}");
    }
    for raw in [
        "+44 7700 900123",
        "0044 7700 900123",
        "07700 900123",
        "(07700) 900-123",
        "+44 (0)7700 900123",
    ] {
        assert_eq!(
            normalize(Phone, raw).as_deref(),
            Some("7700900123"),
            "{raw:?}"
        );
    }
    for raw in ["000 000 000", "+44 0000 000000", "12345", "n/a", "unknown"] {
        assert_eq!(normalize(Phone, raw), None, "{raw:?}");
    }
    assert_eq!(
        normalize(Email, "mailto:Ann.Lee+Shop@Example.CO.UK ").as_deref(),
        Some("ann.lee@example.co.uk")
    );
    assert_eq!(
        normalize(Email, "a.n.n@googlemail.com").as_deref(),
        Some("ann@gmail.com")
    );
    for raw in [
        "no email",
        "ann@localhost",
        "@example.com",
        "ann lee@example.com",
    ] {
        assert_eq!(normalize(Email, raw), None, "{raw:?}");
    }
    assert_eq!(
        normalize(Address, "221B Baker Street, Flat 2, Saint John's Road").as_deref(),
        Some("221b baker st apt 2 st johns rd")
    );
    assert_eq!(
        normalize(Address, "5 Park Avenue North-East").as_deref(),
        Some("5 pk ave n e")
    );
    for kind in [
        Name, Text, Address, Date, Number, Postcode, Phone, Email, Id,
    ] {
        for p in [
            "", "   ", "N/A", "n.a.", "NULL", "none", "Unknown", "-", "?", "XXX", "#N/A",
        ] {
            assert_eq!(normalize(kind, p), None, "{kind} {p:?}");
        }
    }
    assert_eq!(normalize(Postcode, " m1 1ae ").as_deref(), Some("M11AE"));
    assert_eq!(normalize(Number, "$ 12,000").as_deref(), Some("12000"));
}

/// Missing never matches: for every kind and its default levels, a pair with a missing
/// value on either side (or both) is `MISSING`, never level 0, even missing vs missing.
#[test]
fn missing_never_matches() {
    use FieldKind::*;
    let present = [
        (Name, "Ann Lee"),
        (Text, "red car"),
        (Address, "1 High St"),
        (Date, "1981-02-03"),
        (Number, "12"),
        (Postcode, "M1 1AE"),
        (Phone, "07700 900123"),
        (Email, "ann@example.com"),
        (Id, "A1"),
    ];
    for (kind, value) in present {
        let col = NormalizedColumn::new(kind, &[value, "", "n/a", "unknown"]);
        let c = Comparison::default_for(kind);
        assert_eq!(c.level(&col, 0, &col, 0), 0, "{kind}");
        for i in 0..4 {
            for j in 0..4 {
                if i > 0 || j > 0 {
                    assert_eq!(c.level(&col, i, &col, j), MISSING, "{kind} {i} {j}");
                }
            }
        }
        assert_eq!(c.level(&col, 0, &col, 99), MISSING, "{kind} out of range");
        assert_eq!(col.term_frequency(1), None);
    }
}
