//! The customer-record generator (`synth::PeopleSynth`): reproducibility for any thread
//! count, each perturbation's rate near its setting (binomial tolerance of 5 standard
//! errors), and the truth consistent with what was written.

use acrm::synth::{
    PeopleField, PeopleSource, PeopleSynth, Perturbation, PhoneStyle, PEOPLE_HEADER,
};

use chrono::{Datelike, NaiveDate};

use crate::pool;

fn records() -> acrm::synth::PeopleRecords {
    PeopleSynth::new().people(6000).seed(11).generate().unwrap()
}

/// |observed − p| ≤ 5 √(p(1−p)/n) + 1/n.
fn near(hits: usize, n: usize, p: f64, what: &str) {
    assert!(n > 200, "{what}: too few eligible records ({n})");
    let obs = hits as f64 / n as f64;
    let tol = 5.0 * (p * (1.0 - p) / n as f64).sqrt() + 1.0 / n as f64;
    assert!(
        (obs - p).abs() <= tol,
        "{what}: {obs} vs {p} (±{tol}, n={n})"
    );
}

#[test]
fn same_bits_for_one_and_two_threads_and_seed_dependent() {
    let a = pool(1).install(|| PeopleSynth::new().people(9000).seed(5).generate().unwrap());
    let b = pool(2).install(|| PeopleSynth::new().people(9000).seed(5).generate().unwrap());
    assert_eq!(a, b);
    let mut csv_a = Vec::new();
    let mut csv_b = Vec::new();
    a.write_csv(&mut csv_a).unwrap();
    b.write_csv(&mut csv_b).unwrap();
    assert_eq!(csv_a, csv_b);
    let text = String::from_utf8(csv_a).unwrap();
    assert_eq!(text.lines().next().unwrap(), PEOPLE_HEADER);
    assert_eq!(text.lines().count(), a.records.len() + 1);
    let c = PeopleSynth::new().people(9000).seed(6).generate().unwrap();
    assert_ne!(a.records, c.records);
}

#[test]
fn perturbation_rates_near_their_settings() {
    let r = records();
    let e = *PeopleSynth::new().error_rates();
    let n = r.records.len();
    let count = |p: Perturbation| r.records.iter().filter(|x| x.has(p)).count();
    near(
        count(Perturbation::FirstNameTypo),
        n,
        e.name_typo,
        "first-name typo",
    );
    near(
        count(Perturbation::SurnameTypo),
        n,
        e.name_typo,
        "surname typo",
    );
    near(count(Perturbation::Swapped), n, e.swap_names, "swap");
    near(
        count(Perturbation::EmailUpper),
        n,
        e.email_upper,
        "upper e-mail",
    );
    near(
        count(Perturbation::AddressVariant),
        n,
        e.address_variant,
        "address variant",
    );
    // Nicknames: among records of people whose first name has one.
    let nick: Vec<_> = r
        .records
        .iter()
        .filter(|x| {
            let f = &r.people[x.person_id as usize].first_name;
            [
                "Robert",
                "William",
                "Elizabeth",
                "Michael",
                "Andrew",
                "James",
                "Susan",
                "Thomas",
            ]
            .contains(&f.as_str())
        })
        .collect();
    let hits = nick
        .iter()
        .filter(|x| x.has(Perturbation::Nickname))
        .count();
    near(hits, nick.len(), e.nickname, "nickname");
    // Day–month transposition: among people whose day ≤ 12 and differs from the month.
    let elig: Vec<_> = r
        .records
        .iter()
        .filter(|x| {
            let d = r.people[x.person_id as usize].dob;
            d.day() <= 12 && d.day() != d.month()
        })
        .collect();
    let hits = elig
        .iter()
        .filter(|x| x.has(Perturbation::DobTransposed))
        .count();
    near(hits, elig.len(), e.dob_transposed, "dob transposed");
    // Moves: only a person's later records (all but the first generated) may move, so
    // the eligible records number records − people.
    near(
        count(Perturbation::Moved),
        n - r.people.len(),
        e.moved,
        "moved",
    );
    // E-mail typos: among records of sources that hold the e-mail.
    let with_email: Vec<_> = r
        .records
        .iter()
        .filter(|x| {
            !r.sources[usize::from(x.source)]
                .absent
                .contains(&PeopleField::Email)
        })
        .collect();
    let hits = with_email
        .iter()
        .filter(|x| x.has(Perturbation::EmailTypo))
        .count();
    near(hits, with_email.len(), e.email_typo, "e-mail typo");
    // Date-of-birth digit typos: a wrong last digit of the day or of the year (half each,
    // 9 candidate digits), skipped when the result is no date; the expected count sums
    // each record's chance of a valid candidate (on the true date: the 3% transpositions
    // drawn first change the date rarely enough not to matter at this tolerance).
    let mut expected = 0.0;
    let mut var = 0.0;
    for x in &r.records {
        let d = r.people[x.person_id as usize].dob;
        let valid = |y: i32, m: u32, day: u32| NaiveDate::from_ymd_opt(y, m, day).is_some();
        let days = (1..10)
            .filter(|k| {
                valid(
                    d.year(),
                    d.month(),
                    (d.day() / 10) * 10 + (d.day() % 10 + k) % 10,
                )
            })
            .count();
        let years = (1..10)
            .filter(|k| {
                let y = (d.year() / 10) * 10 + (d.year() % 10 + k) % 10;
                valid(y, d.month(), d.day())
            })
            .count();
        let p = e.dob_typo * (0.5 * days as f64 / 9.0 + 0.5 * years as f64 / 9.0);
        expected += p;
        var += p * (1.0 - p);
    }
    let hits = count(Perturbation::DobTypo) as f64;
    assert!(
        (hits - expected).abs() <= 5.0 * var.sqrt() + 1.0,
        "dob typo: {hits} vs {expected}"
    );
    // Missing at random: per field held by the source.
    let mut held = 0;
    let mut missing = 0;
    for x in &r.records {
        let src = &r.sources[usize::from(x.source)];
        for f in PeopleField::ALL {
            if src.absent.contains(&f) {
                assert_eq!(x.field(f), "", "absent field {f:?} written");
                continue;
            }
            held += 1;
            let v = x.field(f);
            if v.is_empty() || ["n/a", "unknown", "N/A", "-", "none", "UNKNOWN"].contains(&v) {
                missing += 1;
            }
        }
    }
    near(missing, held, e.missing, "missing");
}

#[test]
fn truth_is_consistent_with_the_records() {
    let r = records();
    assert!(r.records.len() > r.people.len());
    let mut ids: Vec<&str> = r.records.iter().map(|x| x.rec_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), r.records.len(), "record ids unique");
    let mut per_person = vec![0usize; r.people.len()];
    for x in &r.records {
        per_person[x.person_id as usize] += 1;
        let p = &r.people[x.person_id as usize];
        let src = &r.sources[usize::from(x.source)];
        let unchanged = |q: &[Perturbation]| q.iter().all(|q| !x.has(*q));
        let fold = |s: &str| s.to_lowercase();
        // A field written and not perturbed equals the person's value (case folded).
        let ok =
            |v: &str| !v.is_empty() && !["n/a", "unknown", "-", "none"].contains(&fold(v).as_str());
        if ok(&x.surname) && unchanged(&[Perturbation::SurnameTypo, Perturbation::Swapped]) {
            assert_eq!(fold(&x.surname), fold(&p.surname));
        }
        if ok(&x.first_name)
            && unchanged(&[
                Perturbation::Nickname,
                Perturbation::FirstNameTypo,
                Perturbation::Swapped,
            ])
        {
            assert_eq!(fold(&x.first_name), fold(&p.first_name));
        }
        if ok(&x.dob) && unchanged(&[Perturbation::DobTransposed, Perturbation::DobTypo]) {
            assert_eq!(x.dob.replace('-', ""), p.dob.format("%Y%m%d").to_string());
            assert_eq!(x.dob.contains('-'), !src.dob_compact);
        }
        if ok(&x.postcode) && !x.has(Perturbation::Moved) {
            assert_eq!(x.postcode, p.postcode);
        }
        if ok(&x.email) && unchanged(&[Perturbation::EmailTypo]) {
            assert_eq!(fold(&x.email), p.email);
        }
        if ok(&x.phone) {
            let digits: String = x.phone.chars().filter(char::is_ascii_digit).collect();
            let digits = digits
                .strip_prefix("44")
                .map_or(digits.clone(), |d| format!("0{d}"));
            assert_eq!(digits, p.phone);
        }
    }
    assert!(per_person.iter().all(|&k| (1..=4).contains(&k)));
    let dup = per_person.iter().filter(|&&k| k > 1).count() as f64 / r.people.len() as f64;
    near(
        (dup * r.people.len() as f64) as usize,
        r.people.len(),
        0.55,
        "people with duplicates",
    );
    // Households share an address; most share the surname.
    let mut shared = 0;
    let mut pairs = 0;
    for w in r.people.windows(2) {
        if w[0].household == w[1].household {
            pairs += 1;
            assert_eq!(w[0].address, w[1].address);
            shared += usize::from(w[0].surname == w[1].surname);
        }
    }
    assert!(pairs > 500 && shared as f64 / pairs as f64 > 0.85);
    // Zipf: the commonest surname is far more frequent than the rarest.
    let smith = r.people.iter().filter(|p| p.surname == "Smith").count();
    let rare = r
        .people
        .iter()
        .filter(|p| p.surname == "Quarrington")
        .count();
    assert!(smith > 20 * rare.max(1), "{smith} vs {rare}");
}

#[test]
fn invalid_options_are_typed_errors() {
    assert!(PeopleSynth::new().people(0).generate().is_err());
    assert!(PeopleSynth::new().sources(vec![]).generate().is_err());
    let dup = vec![PeopleSource::new("a", 1.0), PeopleSource::new("a", 1.0)];
    assert!(PeopleSynth::new().sources(dup).generate().is_err());
    assert!(PeopleSynth::new()
        .records_per_person(vec![0.0])
        .generate()
        .is_err());
    let mut e = *PeopleSynth::new().error_rates();
    e.missing = 1.5;
    assert!(PeopleSynth::new().errors(e).generate().is_err());
}

#[test]
fn sources_formats_and_copies_in_their_proportions() {
    let r = records();
    let n = r.records.len();
    let total: f64 = r.sources.iter().map(|s| s.share).sum();
    for (k, s) in r.sources.iter().enumerate() {
        let of: Vec<_> = r
            .records
            .iter()
            .filter(|x| usize::from(x.source) == k)
            .collect();
        near(of.len(), n, s.share / total, &s.name);
        // Every written phone of the source has its format; names its case.
        for x in &of {
            let ph = &x.phone;
            if ph.chars().filter(char::is_ascii_digit).count() < 10 {
                continue; // missing or a placeholder
            }
            let ok = match s.phone {
                PhoneStyle::Plain => ph.len() == 11 && ph.starts_with("07"),
                PhoneStyle::Spaced => ph.len() == 12 && ph.as_bytes()[5] == b' ',
                PhoneStyle::International => ph.starts_with("+44 7") && ph.len() == 15,
            };
            assert!(ok, "{}: phone {ph}", s.name);
        }
        if s.upper_names {
            let placeholder =
                |v: &str| ["n/a", "unknown", "none", "-"].contains(&v.to_lowercase().as_str());
            for x in of.iter().filter(|x| !placeholder(&x.surname)) {
                assert_eq!(x.surname, x.surname.to_uppercase());
            }
        }
    }
    // Records per person: 1–4 with the default weights 0.45, 0.30, 0.15, 0.10.
    let mut per_person = vec![0usize; r.people.len()];
    for x in &r.records {
        per_person[x.person_id as usize] += 1;
    }
    for (k, w) in [0.45, 0.30, 0.15, 0.10].into_iter().enumerate() {
        let hits = per_person.iter().filter(|&&c| c == k + 1).count();
        near(hits, r.people.len(), w, &format!("{} records", k + 1));
    }
    assert_eq!(
        r.true_pairs(),
        per_person
            .iter()
            .map(|&c| (c * (c - 1) / 2) as u64)
            .sum::<u64>()
    );
}

/// tests/data/identity/people_5k.csv was written by
/// `cargo run --release --example synthesize -- --kind people --people 2600 --seed 2026
/// --out tests/data/identity/people_5k.csv` (the generator's defaults): it must stay the
/// generator's output, so that the numbers recorded against it (splink_5k.json) stay valid.
#[test]
fn bundled_people_5k_is_the_generators_output() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/identity/");
    let r = PeopleSynth::new()
        .people(2600)
        .seed(2026)
        .generate()
        .unwrap();
    assert_eq!(
        r,
        PeopleSynth::new().generate().unwrap(),
        "defaults changed"
    );
    let mut csv = Vec::new();
    r.write_csv(&mut csv).unwrap();
    let bundled = std::fs::read(format!("{dir}people_5k.csv")).unwrap();
    assert!(
        csv == bundled,
        "people_5k.csv differs from the generator's output"
    );
    assert_eq!(r.records.len(), 4893);
    assert_eq!(r.true_pairs(), 3430);
    // The quickstart's three sources: `--kind people --people 160 --seed 7
    // --sources dealer,service_desk,web --by-source --out tests/data/identity/quickstart`.
    let keep = ["dealer", "service_desk", "web"];
    let sources: Vec<PeopleSource> = PeopleSource::defaults()
        .into_iter()
        .filter(|s| keep.contains(&s.name.as_str()))
        .collect();
    let q = PeopleSynth::new()
        .people(160)
        .seed(7)
        .sources(sources)
        .generate()
        .unwrap();
    for (k, name) in keep.iter().enumerate() {
        let mut csv = Vec::new();
        q.write_csv_filtered(&mut csv, |x| usize::from(x.source) == k)
            .unwrap();
        let bundled = std::fs::read(format!("{dir}quickstart/{name}.csv")).unwrap();
        assert!(csv == bundled, "quickstart/{name}.csv differs");
    }
}
