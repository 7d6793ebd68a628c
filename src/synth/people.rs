//! Seeded synthetic customer records from several sources with planted duplicates and
//! the truth (person id) kept, for identity resolution.
//!
//! People live in households (1–4 people sharing an address and, 90% of the time, a
//! surname). Each person gets a number of records drawn from the duplicate distribution,
//! each at a source drawn by the source shares, and each record is perturbed
//! independently at the configured rates ([`PeopleErrors`]): nicknames (Robert → Bob),
//! typos in names, e-mails and addresses (one substitution, deletion, insertion or
//! adjacent transposition), first name and surname swapped, date of birth with day and
//! month transposed or one digit wrong, moved addresses (any record but a person's first
//! may carry a new address, postcode and town), fields missing at random (written empty
//! or as a placeholder such as `n/a`), and per-source formats and gaps ([`PeopleSource`]).
//!
//! Names are drawn from the embedded lists of `names.rs` (300 surnames, about 90 first
//! names of each sex, 55 nicknames, 90 streets, 40 towns; written by hand from common
//! British names) with Zipf weights 1/(k+1)^s by list position (s = 1 for surnames, 0.8
//! for first names), so "Smith" is common and "Quarrington" rare.
//!
//! People are generated in blocks of 4,096 with a random stream derived from (seed,
//! block); the records are then shuffled by one stream derived from the seed, so the
//! output is identical for any number of threads.

use std::io::Write;

use chrono::{Datelike, NaiveDate};
use rand::distributions::WeightedIndex;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::Distribution;
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::mix;
use super::names::{
    DOMAINS, FEMALE, MALE, NICKNAMES, PLACEHOLDERS, STREETS, STREET_TYPES, SURNAMES, TOWNS,
};
use crate::data::FieldKind;
use crate::error::{Error, Result};
use crate::io::CustomerRecordCsv;

const BLOCK: usize = 4096;

/// The CSV header [`PeopleRecords::write_csv`] writes.
pub const PEOPLE_HEADER: &str =
    "rec_id,source,first_name,surname,dob,email,phone,postcode,address,city,person_id";

/// The reader of what [`PeopleRecords::write_csv`] writes: id `rec_id`, source
/// `source`, and the seven fields identity resolution compares, with their kinds
/// (`city` and the truth `person_id` are not read).
pub fn people_reader() -> CustomerRecordCsv {
    CustomerRecordCsv::new("rec_id")
        .source_column("source")
        .field("first_name", FieldKind::Name)
        .field("surname", FieldKind::Name)
        .field("dob", FieldKind::Date)
        .field("email", FieldKind::Email)
        .field("phone", FieldKind::Phone)
        .field("postcode", FieldKind::Postcode)
        .field("address", FieldKind::Address)
}

/// A field of a customer record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PeopleField {
    /// First name.
    FirstName,
    /// Surname.
    Surname,
    /// Date of birth.
    Dob,
    /// E-mail address.
    Email,
    /// Phone number.
    Phone,
    /// Postcode.
    Postcode,
    /// Street address.
    Address,
    /// Town.
    City,
}

impl PeopleField {
    /// Every field, in CSV order.
    pub const ALL: [PeopleField; 8] = [
        PeopleField::FirstName,
        PeopleField::Surname,
        PeopleField::Dob,
        PeopleField::Email,
        PeopleField::Phone,
        PeopleField::Postcode,
        PeopleField::Address,
        PeopleField::City,
    ];
}

/// How a source writes phone numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PhoneStyle {
    /// `07700900123`.
    Plain,
    /// `07700 900123`.
    Spaced,
    /// `+44 7700 900123`.
    International,
}

/// One source of records: its name, share of the records and the way it writes them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeopleSource {
    /// Name, written in the `source` column.
    pub name: String,
    /// Relative share of the records (> 0, finite; shares need not sum to 1).
    pub share: f64,
    /// Dates of birth as `YYYYMMDD` (true) or `YYYY-MM-DD` (false).
    pub dob_compact: bool,
    /// Phone format.
    pub phone: PhoneStyle,
    /// Names in upper case.
    pub upper_names: bool,
    /// Fields the source never records (written empty).
    pub absent: Vec<PeopleField>,
}

impl PeopleSource {
    /// A source with ISO dates, plain phones, capitalised names and every field.
    pub fn new(name: impl Into<String>, share: f64) -> Self {
        PeopleSource {
            name: name.into(),
            share,
            dob_compact: false,
            phone: PhoneStyle::Plain,
            upper_names: false,
            absent: Vec::new(),
        }
    }

    /// The default four: `dealer` (35%; ISO dates, spaced phones, every field),
    /// `service_desk` (30%; `YYYYMMDD` dates, plain phones), `call_centre` (15%; ISO dates,
    /// `+44` phones, names in upper case, no e-mail) and `web` (20%; `YYYYMMDD` dates, plain
    /// phones, no street address or town).
    pub fn defaults() -> Vec<PeopleSource> {
        vec![
            PeopleSource {
                phone: PhoneStyle::Spaced,
                ..PeopleSource::new("dealer", 0.35)
            },
            PeopleSource {
                dob_compact: true,
                ..PeopleSource::new("service_desk", 0.30)
            },
            PeopleSource {
                phone: PhoneStyle::International,
                upper_names: true,
                absent: vec![PeopleField::Email],
                ..PeopleSource::new("call_centre", 0.15)
            },
            PeopleSource {
                dob_compact: true,
                absent: vec![PeopleField::Address, PeopleField::City],
                ..PeopleSource::new("web", 0.20)
            },
        ]
    }
}

/// Perturbation rates, each a probability in [0, 1] applied per record (per field where
/// said). A perturbation that cannot apply (no nickname for the name, a day above 12 for
/// a day–month transposition, a person's first record for a move) is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PeopleErrors {
    /// First name replaced by its nickname (default 0.15).
    pub nickname: f64,
    /// A typo in the first name, and independently in the surname (default 0.08 each).
    pub name_typo: f64,
    /// First name and surname swapped (default 0.02).
    pub swap_names: f64,
    /// Day and month of the date of birth transposed (default 0.03).
    pub dob_transposed: f64,
    /// One digit of the date of birth's day or year wrong (default 0.02).
    pub dob_typo: f64,
    /// A person's later record carries a new address, postcode and town (default 0.10).
    pub moved: f64,
    /// A typo in the e-mail's local part (default 0.03).
    pub email_typo: f64,
    /// The street written with its abbreviation or a typo (default 0.10).
    pub address_variant: f64,
    /// Each field the source holds missing (default 0.05 per field).
    pub missing: f64,
    /// A missing field written as a placeholder (`n/a`, `unknown`, …) rather than empty
    /// (default 0.3).
    pub placeholder: f64,
    /// The e-mail written in upper case (default 0.1).
    pub email_upper: f64,
}

impl Default for PeopleErrors {
    fn default() -> Self {
        PeopleErrors {
            nickname: 0.15,
            name_typo: 0.08,
            swap_names: 0.02,
            dob_transposed: 0.03,
            dob_typo: 0.02,
            moved: 0.10,
            email_typo: 0.03,
            address_variant: 0.10,
            missing: 0.05,
            placeholder: 0.3,
            email_upper: 0.1,
        }
    }
}

/// What was done to a record, for tests and diagnostics (bits of [`PeopleRecord::applied`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Perturbation {
    /// First name written as its nickname.
    Nickname,
    /// Typo in the first name.
    FirstNameTypo,
    /// Typo in the surname.
    SurnameTypo,
    /// First name and surname swapped.
    Swapped,
    /// Day and month of birth transposed.
    DobTransposed,
    /// A digit of the date of birth wrong.
    DobTypo,
    /// A new address.
    Moved,
    /// Typo in the e-mail.
    EmailTypo,
    /// Street abbreviated or mistyped.
    AddressVariant,
    /// At least one field missing at random.
    Missing,
    /// E-mail in upper case.
    EmailUpper,
}

impl Perturbation {
    /// The bit of this perturbation in [`PeopleRecord::applied`].
    pub fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A person as generated, before any record is written (the truth).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Person {
    /// First name.
    pub first_name: String,
    /// Surname.
    pub surname: String,
    /// Date of birth.
    pub dob: NaiveDate,
    /// E-mail address.
    pub email: String,
    /// Mobile number, 11 digits from `07`.
    pub phone: String,
    /// Postcode.
    pub postcode: String,
    /// Street address.
    pub address: String,
    /// Town.
    pub city: String,
    /// Household number: people sharing it share the address.
    pub household: u32,
}

/// One record as a source wrote it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeopleRecord {
    /// Record id: the source's initial and the row number.
    pub rec_id: String,
    /// Index into [`PeopleRecords::sources`].
    pub source: u16,
    /// First name as written.
    pub first_name: String,
    /// Surname as written.
    pub surname: String,
    /// Date of birth as written.
    pub dob: String,
    /// E-mail as written.
    pub email: String,
    /// Phone as written.
    pub phone: String,
    /// Postcode as written.
    pub postcode: String,
    /// Address as written.
    pub address: String,
    /// Town as written.
    pub city: String,
    /// The person (index into [`PeopleRecords::people`]): the truth.
    pub person_id: u32,
    /// The [`Perturbation`] bits applied.
    pub applied: u32,
}

impl PeopleRecord {
    /// Whether a perturbation was applied.
    pub fn has(&self, p: Perturbation) -> bool {
        self.applied & p.bit() != 0
    }

    /// The value of a field as written.
    pub fn field(&self, f: PeopleField) -> &str {
        match f {
            PeopleField::FirstName => &self.first_name,
            PeopleField::Surname => &self.surname,
            PeopleField::Dob => &self.dob,
            PeopleField::Email => &self.email,
            PeopleField::Phone => &self.phone,
            PeopleField::Postcode => &self.postcode,
            PeopleField::Address => &self.address,
            PeopleField::City => &self.city,
        }
    }
}

/// Generated records, the people behind them and the sources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeopleRecords {
    /// The sources, in the order of the options.
    pub sources: Vec<PeopleSource>,
    /// The people (truth), indexed by person id.
    pub people: Vec<Person>,
    /// The records, shuffled.
    pub records: Vec<PeopleRecord>,
}

impl PeopleRecords {
    /// Writes the records as CSV with the header [`PEOPLE_HEADER`].
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_csv(&self, out: impl Write) -> Result<()> {
        self.write_csv_filtered(out, |_| true)
    }

    /// Writes the records for which `keep` holds, as [`write_csv`](Self::write_csv).
    ///
    /// # Errors
    /// [`Error::Io`] when writing fails.
    pub fn write_csv_filtered(
        &self,
        out: impl Write,
        keep: impl Fn(&PeopleRecord) -> bool,
    ) -> Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(PEOPLE_HEADER.split(','))?;
        for r in self.records.iter().filter(|r| keep(r)) {
            let person = r.person_id.to_string();
            w.write_record([
                r.rec_id.as_str(),
                self.sources[usize::from(r.source)].name.as_str(),
                &r.first_name,
                &r.surname,
                &r.dob,
                &r.email,
                &r.phone,
                &r.postcode,
                &r.address,
                &r.city,
                &person,
            ])?;
        }
        w.flush()?;
        Ok(())
    }

    /// The number of true duplicate pairs: pairs of records of one person.
    pub fn true_pairs(&self) -> u64 {
        let mut count = vec![0u64; self.people.len()];
        for r in &self.records {
            count[r.person_id as usize] += 1;
        }
        count.iter().map(|&c| c * c.saturating_sub(1) / 2).sum()
    }
}

/// Settings of the customer-record generator (defaults: 2,600 people — about 5,000
/// records —, seed 2026, the [default sources](PeopleSource::defaults), 1–4 records per
/// person with weights 0.45, 0.30, 0.15, 0.10, the [default rates](PeopleErrors)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeopleSynth {
    people: usize,
    seed: u64,
    sources: Vec<PeopleSource>,
    records_per_person: Vec<f64>,
    errors: PeopleErrors,
}

impl Default for PeopleSynth {
    fn default() -> Self {
        PeopleSynth {
            people: 2600,
            seed: 2026,
            sources: PeopleSource::defaults(),
            records_per_person: vec![0.45, 0.30, 0.15, 0.10],
            errors: PeopleErrors::default(),
        }
    }
}

/// Lookup tables shared by every block.
struct Tables {
    surnames: WeightedIndex<f64>,
    male: WeightedIndex<f64>,
    female: WeightedIndex<f64>,
    streets: WeightedIndex<f64>,
    towns: WeightedIndex<f64>,
    domains: WeightedIndex<f64>,
    sources: WeightedIndex<f64>,
    copies: WeightedIndex<f64>,
}

fn zipf(n: usize, s: f64) -> WeightedIndex<f64> {
    // Weights 1/(k+1)^s are positive and finite, so the index always builds.
    WeightedIndex::new((0..n).map(|k| 1.0 / ((k + 1) as f64).powf(s)))
        .expect("positive finite weights")
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// One typo: substitution, deletion, insertion or adjacent transposition (a quarter each),
/// at a position drawn uniformly; the result always differs from the input when the input
/// has at least two characters.
fn typo(rng: &mut Xoshiro256PlusPlus, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 2 {
        c.push(LETTERS[rng.gen_range(0..26)] as char);
        return c.into_iter().collect();
    }
    let upper = c.iter().all(|ch| !ch.is_lowercase());
    let letter = |rng: &mut Xoshiro256PlusPlus| {
        let l = LETTERS[rng.gen_range(0..26)] as char;
        if upper {
            l.to_ascii_uppercase()
        } else {
            l
        }
    };
    // Positions after the first character: clerks rarely get the initial wrong.
    match rng.gen_range(0..4) {
        0 => {
            let i = rng.gen_range(1..c.len());
            let mut l = letter(rng);
            while l.eq_ignore_ascii_case(&c[i]) {
                l = letter(rng);
            }
            c[i] = l;
        }
        1 => {
            let i = rng.gen_range(1..c.len());
            c.remove(i);
        }
        2 => {
            let i = rng.gen_range(1..=c.len());
            let l = letter(rng);
            c.insert(i, l);
        }
        _ => {
            // Transpose a pair of different characters when there is one.
            let pairs: Vec<usize> = (1..c.len() - 1).filter(|&i| c[i] != c[i + 1]).collect();
            if let Some(&i) = pairs.get(rng.gen_range(0..pairs.len().max(1))) {
                c.swap(i, i + 1);
            } else {
                c.remove(c.len() - 1);
            }
        }
    }
    c.into_iter().collect()
}

fn nickname(first: &str) -> Option<&'static str> {
    NICKNAMES.iter().find(|(f, _)| *f == first).map(|(_, n)| *n)
}

struct Place {
    number: u32,
    street: usize,
    kind: usize,
    town: usize,
    postcode: String,
}

impl Place {
    fn draw(rng: &mut Xoshiro256PlusPlus, t: &Tables) -> Place {
        let town = t.towns.sample(rng);
        let district = rng.gen_range(1..=20);
        let postcode = format!(
            "{}{} {}{}{}",
            TOWNS[town].1,
            district,
            rng.gen_range(1..=9),
            LETTERS[rng.gen_range(0..26)].to_ascii_uppercase() as char,
            LETTERS[rng.gen_range(0..26)].to_ascii_uppercase() as char,
        );
        Place {
            number: rng.gen_range(1..=240),
            street: t.streets.sample(rng),
            kind: rng.gen_range(0..STREET_TYPES.len()),
            town,
            postcode,
        }
    }

    fn address(&self, abbreviated: bool) -> String {
        let (full, short) = STREET_TYPES[self.kind];
        format!(
            "{} {} {}",
            self.number,
            STREETS[self.street],
            if abbreviated { short } else { full }
        )
    }
}

fn format_dob(d: NaiveDate, compact: bool) -> String {
    if compact {
        format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
    } else {
        format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day())
    }
}

fn format_phone(digits: &str, style: PhoneStyle) -> String {
    match style {
        PhoneStyle::Plain => digits.to_string(),
        PhoneStyle::Spaced => format!("{} {}", &digits[..5], &digits[5..]),
        PhoneStyle::International => format!("+44 {} {}", &digits[1..5], &digits[5..]),
    }
}

impl PeopleSynth {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of people (≥ 1; the records number about 1.9 per person by default).
    pub fn people(mut self, n: usize) -> Self {
        self.people = n;
        self
    }

    /// Seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sources (at least one, names unique and non-empty, at most 65,535).
    pub fn sources(mut self, sources: Vec<PeopleSource>) -> Self {
        self.sources = sources;
        self
    }

    /// Weights of 1, 2, … records per person (finite, ≥ 0, not all 0).
    pub fn records_per_person(mut self, weights: Vec<f64>) -> Self {
        self.records_per_person = weights;
        self
    }

    /// Perturbation rates.
    pub fn errors(mut self, errors: PeopleErrors) -> Self {
        self.errors = errors;
        self
    }

    /// The perturbation rates in use.
    pub fn error_rates(&self) -> &PeopleErrors {
        &self.errors
    }

    /// Checks the options.
    ///
    /// # Errors
    /// [`Error::InvalidOption`] naming the option.
    pub fn validate(&self) -> Result<()> {
        if self.people == 0 || self.people > u32::MAX as usize {
            return Err(Error::option("people", self.people, "1 to 4294967295"));
        }
        if self.sources.is_empty() || self.sources.len() > usize::from(u16::MAX) {
            return Err(Error::option(
                "sources",
                self.sources.len(),
                "1 to 65535 sources",
            ));
        }
        for (i, s) in self.sources.iter().enumerate() {
            if s.name.trim().is_empty() || self.sources[..i].iter().any(|o| o.name == s.name) {
                return Err(Error::option("sources", &s.name, "unique non-empty names"));
            }
            if !(s.share.is_finite() && s.share > 0.0) {
                return Err(Error::option("sources", s.share, "a finite share > 0"));
            }
        }
        let w = &self.records_per_person;
        if w.is_empty()
            || w.iter().any(|x| !(x.is_finite() && *x >= 0.0))
            || w.iter().all(|x| *x == 0.0)
        {
            return Err(Error::option(
                "records_per_person",
                format!("{w:?}"),
                "finite weights ≥ 0, not all 0",
            ));
        }
        let e = &self.errors;
        for (name, v) in [
            ("nickname", e.nickname),
            ("name_typo", e.name_typo),
            ("swap_names", e.swap_names),
            ("dob_transposed", e.dob_transposed),
            ("dob_typo", e.dob_typo),
            ("moved", e.moved),
            ("email_typo", e.email_typo),
            ("address_variant", e.address_variant),
            ("missing", e.missing),
            ("placeholder", e.placeholder),
            ("email_upper", e.email_upper),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::option(name, v, "a probability in [0, 1]"));
            }
        }
        Ok(())
    }

    /// Generates the people and their records.
    ///
    /// # Errors
    /// As [`validate`](Self::validate).
    pub fn generate(&self) -> Result<PeopleRecords> {
        self.validate()?;
        let tables = Tables {
            surnames: zipf(SURNAMES.len(), 1.0),
            male: zipf(MALE.len(), 0.8),
            female: zipf(FEMALE.len(), 0.8),
            streets: zipf(STREETS.len(), 0.7),
            towns: zipf(TOWNS.len(), 0.9),
            domains: zipf(DOMAINS.len(), 1.0),
            sources: WeightedIndex::new(self.sources.iter().map(|s| s.share))
                .map_err(|e| Error::option("sources", e, "finite shares > 0"))?,
            copies: WeightedIndex::new(self.records_per_person.iter().copied())
                .map_err(|e| Error::option("records_per_person", e, "finite weights ≥ 0"))?,
        };
        let blocks = self.people.div_ceil(BLOCK);
        let parts: Vec<(Vec<Person>, Vec<PeopleRecord>)> = (0..blocks)
            .into_par_iter()
            .map(|b| self.block(b, &tables))
            .collect();
        let mut people = Vec::with_capacity(self.people);
        let mut records = Vec::new();
        for (p, r) in parts {
            people.extend(p);
            records.extend(r);
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(self.seed, u64::MAX));
        records.shuffle(&mut rng);
        for (i, r) in records.iter_mut().enumerate() {
            let initial = self.sources[usize::from(r.source)]
                .name
                .chars()
                .next()
                .map_or('R', |c| c.to_ascii_uppercase());
            r.rec_id = format!("{initial}{:07}", i + 1);
        }
        Ok(PeopleRecords {
            sources: self.sources.clone(),
            people,
            records,
        })
    }

    /// One block's people and records.
    fn block(&self, b: usize, t: &Tables) -> (Vec<Person>, Vec<PeopleRecord>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix(self.seed, b as u64));
        let first = b * BLOCK;
        let end = (first + BLOCK).min(self.people);
        let mut people = Vec::with_capacity(end - first);
        let mut places = Vec::with_capacity(end - first);
        let household_size = WeightedIndex::new([0.55, 0.25, 0.12, 0.08]).expect("weights");
        while first + people.len() < end {
            let household = (first + people.len()) as u32;
            let size = (household_size.sample(&mut rng) + 1).min(end - first - people.len());
            let surname = SURNAMES[t.surnames.sample(&mut rng)];
            let place = Place::draw(&mut rng, t);
            for m in 0..size {
                let surname = if m == 0 || rng.gen_bool(0.9) {
                    surname
                } else {
                    SURNAMES[t.surnames.sample(&mut rng)]
                };
                let first_name = if rng.gen_bool(0.5) {
                    MALE[t.male.sample(&mut rng)]
                } else {
                    FEMALE[t.female.sample(&mut rng)]
                };
                let dob = NaiveDate::from_ymd_opt(1940, 1, 1).expect("valid date")
                    + chrono::Duration::days(rng.gen_range(0..65 * 365));
                let domain = DOMAINS[t.domains.sample(&mut rng)];
                let (f, s) = (
                    first_name.to_lowercase(),
                    surname.to_lowercase().replace('\'', ""),
                );
                let email = match rng.gen_range(0..4) {
                    0 => format!("{f}.{s}@{domain}"),
                    1 => format!("{}{s}{}@{domain}", &f[..1], rng.gen_range(1..100)),
                    2 => format!("{f}{}@{domain}", rng.gen_range(1940..2010)),
                    _ => format!("{s}.{f}{}@{domain}", rng.gen_range(1..10)),
                };
                let phone = format!("07{:09}", rng.gen_range(0..1_000_000_000u64));
                people.push(Person {
                    first_name: first_name.to_string(),
                    surname: surname.to_string(),
                    dob,
                    email,
                    phone,
                    postcode: place.postcode.clone(),
                    address: place.address(false),
                    city: TOWNS[place.town].0.to_string(),
                    household,
                });
                places.push(Place {
                    postcode: place.postcode.clone(),
                    ..place
                });
            }
        }
        let mut records = Vec::new();
        for (k, (p, place)) in people.iter().zip(&places).enumerate() {
            let copies = t.copies.sample(&mut rng) + 1;
            for c in 0..copies {
                let source = t.sources.sample(&mut rng);
                records.push(self.record(&mut rng, t, p, place, (first + k) as u32, source, c));
            }
        }
        (people, records)
    }

    /// One record of a person at a source; `copy` 0 is the person's first record.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        rng: &mut Xoshiro256PlusPlus,
        t: &Tables,
        p: &Person,
        home: &Place,
        person_id: u32,
        source: usize,
        copy: usize,
    ) -> PeopleRecord {
        let e = &self.errors;
        let src = &self.sources[source];
        let mut applied = 0u32;
        let mut flag = |q: Perturbation| applied |= q.bit();
        let mut first = p.first_name.clone();
        if let Some(n) = nickname(&first) {
            if rng.gen_bool(e.nickname) {
                first = n.to_string();
                flag(Perturbation::Nickname);
            }
        }
        if rng.gen_bool(e.name_typo) {
            first = typo(rng, &first);
            flag(Perturbation::FirstNameTypo);
        }
        let mut surname = p.surname.clone();
        if rng.gen_bool(e.name_typo) {
            surname = typo(rng, &surname);
            flag(Perturbation::SurnameTypo);
        }
        if rng.gen_bool(e.swap_names) {
            std::mem::swap(&mut first, &mut surname);
            flag(Perturbation::Swapped);
        }
        if src.upper_names {
            first = first.to_uppercase();
            surname = surname.to_uppercase();
        }
        let mut dob = p.dob;
        if rng.gen_bool(e.dob_transposed) && dob.day() <= 12 && dob.day() != dob.month() {
            if let Some(d) = NaiveDate::from_ymd_opt(dob.year(), dob.day(), dob.month()) {
                dob = d;
                flag(Perturbation::DobTransposed);
            }
        }
        if rng.gen_bool(e.dob_typo) {
            // A wrong last digit of the day or of the year, kept a valid date.
            let d = if rng.gen_bool(0.5) {
                let day = dob.day();
                let wrong = (day / 10) * 10 + (day % 10 + rng.gen_range(1..10)) % 10;
                NaiveDate::from_ymd_opt(dob.year(), dob.month(), wrong)
            } else {
                let y = dob.year();
                let wrong = (y / 10) * 10 + (y % 10 + rng.gen_range(1..10)) % 10;
                NaiveDate::from_ymd_opt(wrong, dob.month(), dob.day())
            };
            if let Some(d) = d.filter(|d| *d != dob) {
                dob = d;
                flag(Perturbation::DobTypo);
            }
        }
        let moved_place;
        let place = if copy > 0 && rng.gen_bool(e.moved) {
            flag(Perturbation::Moved);
            moved_place = Place::draw(rng, t);
            &moved_place
        } else {
            home
        };
        let mut address = place.address(false);
        if rng.gen_bool(e.address_variant) {
            address = if rng.gen_bool(0.5) {
                place.address(true)
            } else {
                typo(rng, &address)
            };
            flag(Perturbation::AddressVariant);
        }
        let mut email = p.email.clone();
        if rng.gen_bool(e.email_typo) {
            let at = email.find('@').unwrap_or(email.len());
            email = format!("{}{}", typo(rng, &email[..at]), &email[at..]);
            flag(Perturbation::EmailTypo);
        }
        if rng.gen_bool(e.email_upper) {
            email = email.to_uppercase();
            flag(Perturbation::EmailUpper);
        }
        let mut values = [
            first,
            surname,
            format_dob(dob, src.dob_compact),
            email,
            format_phone(&p.phone, src.phone),
            place.postcode.clone(),
            address,
            TOWNS[place.town].0.to_string(),
        ];
        for (v, f) in values.iter_mut().zip(PeopleField::ALL) {
            if src.absent.contains(&f) {
                v.clear();
            } else if rng.gen_bool(e.missing) {
                flag(Perturbation::Missing);
                *v = if rng.gen_bool(e.placeholder) {
                    PLACEHOLDERS[rng.gen_range(0..PLACEHOLDERS.len())].to_string()
                } else {
                    String::new()
                };
            }
        }
        let [first_name, surname, dob, email, phone, postcode, address, city] = values;
        PeopleRecord {
            rec_id: String::new(),
            source: source as u16,
            first_name,
            surname,
            dob,
            email,
            phone,
            postcode,
            address,
            city,
            person_id,
            applied,
        }
    }
}
