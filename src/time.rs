//! Time: explicit units as types, integer day counts inside.
//!
//! Inside the crate a date is a day number (`i32`, days since 1970-01-01, UTC) and a
//! date-time adds the second of that day. Model time is a [`Span`] in a unit that is part
//! of its type ([`Days`], [`Weeks`], [`Months`]), so a rate fitted per week can never be
//! read as a rate per day.

use std::fmt;
use std::marker::PhantomData;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, TimeZone, Timelike};
use serde::{Deserialize, Serialize};

/// A unit of model time. Implemented by the zero-sized markers [`Days`], [`Weeks`] and
/// [`Months`].
pub trait TimeUnit: Copy + Default + fmt::Debug + Send + Sync + 'static {
    /// Length of one unit in days.
    const DAYS: f64;
    /// Lower-case plural name (`"weeks"`), used in output.
    const NAME: &'static str;
}

/// One day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Days;
/// Seven days: the unit of the BTYD literature (CDNOW's 39-week calibration period).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Weeks;
/// The mean Gregorian month, 365.2425 / 12 = 30.436875 days.
///
/// A fixed length keeps every span exact and comparable; calendar months (28 to 31 days)
/// are used only where an analysis groups by calendar period (cohorts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Months;

impl TimeUnit for Days {
    const DAYS: f64 = 1.0;
    const NAME: &'static str = "days";
}
impl TimeUnit for Weeks {
    const DAYS: f64 = 7.0;
    const NAME: &'static str = "weeks";
}
impl TimeUnit for Months {
    const DAYS: f64 = 365.2425 / 12.0;
    const NAME: &'static str = "months";
}

/// A length of time measured in unit `U`.
///
/// ```
/// use acrm::time::{Span, Days, Weeks};
/// let t = Span::<Weeks>::new(39.0);
/// assert_eq!(t.to::<Days>().value(), 273.0);
/// ```
#[derive(Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent, bound = "")]
pub struct Span<U: TimeUnit> {
    value: f64,
    #[serde(skip)]
    unit: PhantomData<U>,
}

impl<U: TimeUnit> Span<U> {
    /// A span of `value` units.
    pub const fn new(value: f64) -> Self {
        Span {
            value,
            unit: PhantomData,
        }
    }
    /// A span from a (possibly fractional) number of days.
    pub fn from_days(days: f64) -> Self {
        Span::new(days / U::DAYS)
    }
    /// The number of units.
    pub const fn value(self) -> f64 {
        self.value
    }
    /// The length in days.
    pub fn days(self) -> f64 {
        self.value * U::DAYS
    }
    /// The same length in another unit.
    pub fn to<V: TimeUnit>(self) -> Span<V> {
        Span::from_days(self.days())
    }
}

impl<U: TimeUnit> fmt::Debug for Span<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.value, U::NAME)
    }
}

impl<U: TimeUnit> fmt::Display for Span<U> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Days from 0001-01-01 (chrono's day 1) to 1970-01-01.
const EPOCH_FROM_CE: i32 = 719_163;

/// Day number (days since 1970-01-01) of a date.
pub fn day_number(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - EPOCH_FROM_CE
}

/// The date of a day number. Day numbers outside chrono's range (about ±262,000 years)
/// saturate at its limits; every day number the crate creates comes from a valid date.
pub fn date_of(day: i32) -> NaiveDate {
    day.checked_add(EPOCH_FROM_CE)
        .and_then(NaiveDate::from_num_days_from_ce_opt)
        .unwrap_or(if day < 0 {
            NaiveDate::MIN
        } else {
            NaiveDate::MAX
        })
}

/// A point in time as stored in a transaction log: a day number and, for date-time
/// input, the second of that day (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Timestamp {
    day: i32,
    second: Option<u32>,
}

impl Timestamp {
    /// Midnight-less timestamp of a date.
    pub fn from_date(date: NaiveDate) -> Self {
        Timestamp {
            day: day_number(date),
            second: None,
        }
    }
    /// A timestamp from a day number and an optional second of the day (`< 86_400`).
    pub(crate) fn from_parts(day: i32, second: Option<u32>) -> Self {
        Timestamp { day, second }
    }
    /// Day number (days since 1970-01-01).
    pub fn day(self) -> i32 {
        self.day
    }
    /// Second of the day, for date-time input.
    pub fn second(self) -> Option<u32> {
        self.second
    }
    /// The date.
    pub fn date(self) -> NaiveDate {
        date_of(self.day)
    }
    /// Parses a date or date-time in the given format.
    pub fn parse(s: &str, format: &DateFormat) -> Option<Self> {
        format.parse(s.as_bytes())
    }
}

impl From<NaiveDate> for Timestamp {
    fn from(d: NaiveDate) -> Self {
        Timestamp::from_date(d)
    }
}

impl From<NaiveDateTime> for Timestamp {
    /// A naive date-time is taken as UTC.
    fn from(t: NaiveDateTime) -> Self {
        Timestamp {
            day: day_number(t.date()),
            second: Some(t.num_seconds_from_midnight()),
        }
    }
}

impl<Tz: TimeZone> From<DateTime<Tz>> for Timestamp {
    /// Converted to UTC: days begin at UTC midnight.
    fn from(t: DateTime<Tz>) -> Self {
        t.naive_utc().into()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.date();
        match self.second {
            None => write!(f, "{d}"),
            Some(s) => write!(f, "{d}T{:02}:{:02}:{:02}Z", s / 3600, (s / 60) % 60, s % 60),
        }
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(deserializer)?;
        DateFormat::Auto
            .parse(s.as_bytes())
            .ok_or_else(|| serde::de::Error::custom(format!("not a date or date-time: {s:?}")))
    }
}

/// How dates are written in the input.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DateFormat {
    /// Recognised per value by shape: `YYYY-MM-DD`, `YYYYMMDD`, RFC 3339
    /// (`1997-01-01T10:30:00+01:00`, converted to UTC) or `YYYY-MM-DD HH:MM:SS` (taken as UTC).
    #[default]
    Auto,
    /// `YYYY-MM-DD`.
    Iso,
    /// `YYYYMMDD` (CDNOW).
    Compact,
    /// RFC 3339 date-time, converted to UTC.
    Rfc3339,
    /// A chrono `strftime` pattern for a date (`%d/%m/%Y`) or a date-time (`%d/%m/%Y %H:%M`).
    Custom(String),
}

fn digits<const N: usize>(b: &[u8]) -> Option<u32> {
    if b.len() != N {
        return None;
    }
    let mut v = 0u32;
    for &c in b {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + u32::from(d);
    }
    Some(v)
}

fn ymd(y: u32, m: u32, d: u32) -> Option<Timestamp> {
    // y has at most 4 digits, so the cast is lossless.
    NaiveDate::from_ymd_opt(y as i32, m, d).map(Timestamp::from_date)
}

impl DateFormat {
    /// Parses one field. Hand-written for the fixed formats because chrono's general
    /// `parse_from_str` costs several times more than the rest of a CSV row.
    pub(crate) fn parse(&self, b: &[u8]) -> Option<Timestamp> {
        match self {
            DateFormat::Iso => parse_iso(b),
            DateFormat::Compact => ymd(
                digits::<4>(b.get(..4)?)?,
                digits::<2>(b.get(4..6)?)?,
                digits::<2>(b.get(6..)?)?,
            ),
            DateFormat::Rfc3339 => parse_rfc3339(b),
            DateFormat::Auto => match b.len() {
                8 => DateFormat::Compact.parse(b),
                10 => parse_iso(b),
                19 if b[10] == b' ' || b[10] == b'T' => parse_naive_datetime(b),
                _ => parse_rfc3339(b),
            },
            DateFormat::Custom(fmt) => {
                let s = std::str::from_utf8(b).ok()?;
                NaiveDateTime::parse_from_str(s, fmt)
                    .map(Timestamp::from)
                    .or_else(|_| NaiveDate::parse_from_str(s, fmt).map(Timestamp::from))
                    .ok()
            }
        }
    }
}

fn parse_iso(b: &[u8]) -> Option<Timestamp> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    ymd(
        digits::<4>(&b[..4])?,
        digits::<2>(&b[5..7])?,
        digits::<2>(&b[8..])?,
    )
}

fn parse_naive_datetime(b: &[u8]) -> Option<Timestamp> {
    let date = parse_iso(&b[..10])?;
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, m, s) = (
        digits::<2>(&b[11..13])?,
        digits::<2>(&b[14..16])?,
        digits::<2>(&b[17..19])?,
    );
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    // A leap second folds into the last second of its minute.
    Some(Timestamp::from_parts(
        date.day,
        Some(h * 3600 + m * 60 + s.min(59)),
    ))
}

fn parse_rfc3339(b: &[u8]) -> Option<Timestamp> {
    let s = std::str::from_utf8(b).ok()?;
    DateTime::parse_from_rfc3339(s).ok().map(Timestamp::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use approx::assert_relative_eq;

    #[test]
    fn day_numbers_round_trip() {
        let d = NaiveDate::from_ymd_opt(1997, 9, 30).unwrap();
        assert_eq!(day_number(NaiveDate::from_ymd_opt(1970, 1, 1).unwrap()), 0);
        assert_eq!(date_of(day_number(d)), d);
        // CDNOW: 1997-01-01 to 1997-09-30 is 272 days = 38.86 weeks (published summary).
        let first = NaiveDate::from_ymd_opt(1997, 1, 1).unwrap();
        let t = Span::<Weeks>::from_days(f64::from(day_number(d) - day_number(first)));
        assert_relative_eq!(t.value(), 272.0 / 7.0);
    }

    #[test]
    fn parses_date_formats() {
        let d = |s: &str, f: DateFormat| Timestamp::parse(s, &f);
        let jan2_day = Timestamp::from_date(NaiveDate::from_ymd_opt(1997, 1, 2).unwrap());
        let jan2 = Some(jan2_day);
        assert_eq!(d("19970102", DateFormat::Compact), jan2);
        assert_eq!(d("1997-01-02", DateFormat::Iso), jan2);
        assert_eq!(d("19970102", DateFormat::Auto), jan2);
        assert_eq!(d("1997-01-02", DateFormat::Auto), jan2);
        assert_eq!(d("02/01/1997", DateFormat::Custom("%d/%m/%Y".into())), jan2);
        assert_eq!(d("1997-02-30", DateFormat::Iso), None);
        assert_eq!(d("1997-1-02", DateFormat::Iso), None);
        assert_eq!(d("199701O2", DateFormat::Compact), None);
        assert_eq!(d("1997-01-02", DateFormat::Compact), None);
        // 23:30 at UTC-02:00 is 01:30 UTC the next day.
        let t = d("1997-01-01T23:30:00-02:00", DateFormat::Rfc3339).unwrap();
        assert_eq!(t.date(), NaiveDate::from_ymd_opt(1997, 1, 2).unwrap());
        assert_eq!(t.second(), Some(5400));
        let t = d("1997-01-02 10:00:05", DateFormat::Auto).unwrap();
        assert_eq!((t.day(), t.second()), (jan2_day.day(), Some(36_005)));
        assert_eq!(d("1997-01-02 24:00:00", DateFormat::Auto), None);
        assert_eq!(t.to_string(), "1997-01-02T10:00:05Z");
    }

    #[test]
    fn span_conversions() {
        let m = Span::<Months>::new(12.0);
        assert_relative_eq!(m.to::<Days>().value(), 365.2425);
        assert_relative_eq!(Span::<Days>::new(14.0).to::<Weeks>().value(), 2.0);
    }
}

/// A calendar period: cohorts, price series and other per-period tables bucket days
/// with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    /// Weeks starting on Monday.
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
    /// Calendar years (the period of yearly diffusion series such as the Bass model's).
    Year,
}

impl Period {
    /// Period number of a day (consecutive integers for consecutive periods).
    pub fn index(self, day: i32) -> i32 {
        match self {
            // Day 0 of the crate's day numbering is a Thursday (1970-01-01): shift so
            // that weeks start on Monday.
            Period::Week => (day + 3).div_euclid(7),
            Period::Year => date_of(day).year(),
            Period::Month | Period::Quarter => {
                let d = date_of(day);
                let m = d.year() * 12 + d.month0() as i32;
                if self == Period::Month {
                    m
                } else {
                    m.div_euclid(3)
                }
            }
        }
    }

    /// First day of period number `p`.
    pub fn start(self, p: i32) -> NaiveDate {
        match self {
            Period::Week => date_of(p * 7 - 3),
            Period::Year => NaiveDate::from_ymd_opt(p, 1, 1).unwrap_or(NaiveDate::MIN),
            Period::Month | Period::Quarter => {
                let m = if self == Period::Month { p } else { p * 3 };
                NaiveDate::from_ymd_opt(m.div_euclid(12), m.rem_euclid(12) as u32 + 1, 1)
                    .unwrap_or(NaiveDate::MIN)
            }
        }
    }
}

/// A fiscal calendar of whole weeks: each fiscal year starts on the `week_start` weekday
/// nearest its anchor date (`month`/`day` of the calendar year that names it), so years
/// have 52 or 53 weeks; week `w` (from 0) lies in quarter `w / 13` + 1, and a 53rd week
/// joins the fourth quarter (the 4-4-5 retail calendar's convention).
///
/// The default, January 1 with weeks from Monday, is the ISO week-numbering year.
///
/// ```
/// use acrm::time::FiscalCalendar;
/// use chrono::{NaiveDate, Weekday};
/// let iso = FiscalCalendar::default();
/// let d = NaiveDate::from_ymd_opt(2021, 1, 3).unwrap(); // ISO week 53 of 2020
/// assert_eq!(iso.quarter_of(d), (2020, 4));
/// let april = FiscalCalendar::new(4, 1, Weekday::Sun).unwrap();
/// assert_eq!(april.year_start(2024), NaiveDate::from_ymd_opt(2024, 3, 31).unwrap());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FiscalCalendar {
    month: u32,
    day: u32,
    /// Weekday the weeks start on, days from Monday (0) to Sunday (6).
    week_start: u32,
}

impl Default for FiscalCalendar {
    fn default() -> Self {
        FiscalCalendar {
            month: 1,
            day: 1,
            week_start: 0,
        }
    }
}

impl FiscalCalendar {
    /// Fiscal years anchored at `month`/`day`, weeks starting on `week_start`.
    ///
    /// # Errors
    /// [`Error::InvalidOption`](crate::Error::InvalidOption) `fiscal_year_start` when the
    /// month and day are not a date of every year (February 29 is not).
    pub fn new(month: u32, day: u32, week_start: chrono::Weekday) -> crate::Result<Self> {
        if NaiveDate::from_ymd_opt(2023, month, day).is_none() {
            return Err(crate::Error::option(
                "fiscal_year_start",
                format!("{month:02}-{day:02}"),
                "a month and day that every year has (not 02-29)",
            ));
        }
        Ok(FiscalCalendar {
            month,
            day,
            week_start: week_start.num_days_from_monday(),
        })
    }

    /// First day of fiscal year `year`.
    pub fn year_start(&self, year: i32) -> NaiveDate {
        date_of(self.start_day(year))
    }

    fn start_day(&self, year: i32) -> i32 {
        let anchor = NaiveDate::from_ymd_opt(year, self.month, self.day).map_or(
            if year < 0 { i32::MIN / 2 } else { i32::MAX / 2 },
            day_number,
        );
        // Day 0 (1970-01-01) is a Thursday: weekday 3 counted from Monday.
        let weekday = (anchor + 3).rem_euclid(7) as u32;
        // The week-start weekday nearest the anchor: at most 3 days before or after.
        let back = (weekday + 7 - self.week_start) % 7;
        if back <= 3 {
            anchor - back as i32
        } else {
            anchor + (7 - back) as i32
        }
    }

    /// Fiscal year and week (from 0) of day number `day`.
    pub fn week_of_day(&self, day: i32) -> (i32, u32) {
        let mut year = date_of(day).year();
        let mut start = self.start_day(year);
        if day < start {
            year -= 1;
            start = self.start_day(year);
        } else {
            let next = self.start_day(year + 1);
            if day >= next {
                year += 1;
                start = next;
            }
        }
        (year, ((day - start) / 7) as u32)
    }

    /// Fiscal year and quarter (1 to 4) of `date`.
    pub fn quarter_of(&self, date: NaiveDate) -> (i32, u32) {
        self.quarter_of_day(day_number(date))
    }

    /// Fiscal year and quarter (1 to 4) of day number `day`.
    pub fn quarter_of_day(&self, day: i32) -> (i32, u32) {
        let (year, week) = self.week_of_day(day);
        (year, (week / 13).min(3) + 1)
    }
}

#[cfg(test)]
mod fiscal_tests {
    use super::*;

    #[test]
    fn default_calendar_is_iso_weeks() {
        let iso = FiscalCalendar::default();
        let mut d = NaiveDate::from_ymd_opt(1998, 12, 1).unwrap();
        while d.year() < 2031 {
            let w = d.iso_week();
            let (year, week) = iso.week_of_day(day_number(d));
            assert_eq!((year, week + 1), (w.year(), w.week()), "{d}");
            d = d.succ_opt().unwrap();
        }
    }

    #[test]
    fn years_have_52_or_53_weeks() {
        let cal = FiscalCalendar::new(7, 1, chrono::Weekday::Sat).unwrap();
        for y in 1990..2040 {
            let len = cal.start_day(y + 1) - cal.start_day(y);
            assert!(len == 364 || len == 371, "{y}: {len}");
            assert_eq!(date_of(cal.start_day(y)).weekday(), chrono::Weekday::Sat);
        }
        assert!(FiscalCalendar::new(2, 29, chrono::Weekday::Mon).is_err());
    }
}
