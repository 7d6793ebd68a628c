//! Campaign contacts and campaigns from CSV: the inputs of the funnel.
//!
//! Read with [`read_contacts`] and [`read_campaigns`] (the columns are documented there).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;

use super::csv::LineCounter;
use super::table::headed_reader;
use crate::data::{CampaignRecord, Campaigns, ContactRecord, Contacts, Reached, FUNNEL_STAGES};
use crate::error::{Error, Problem, Result};

/// The first of `names` in the header.
fn find(header: &[String], names: &[&str]) -> Option<usize> {
    names
        .iter()
        .find_map(|n| header.iter().position(|h| h == n))
}

fn missing(column: &str, header: &[String]) -> Error {
    Error::MissingColumn {
        column: column.to_string(),
        available: header.to_vec(),
    }
}

fn parse_date(line: u64, field: &str, v: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .map_err(|_| Error::row(line, field, v, Problem::BadDate))
}

fn parse_flag(line: u64, field: &str, v: &str) -> Result<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" => Ok(true),
        "0" | "false" | "no" | "n" => Ok(false),
        _ => Err(Error::row(line, field, v, Problem::NotFlag)),
    }
}

/// Maps an error of a store built from records (numbered by position, fields named as
/// the record's) to the file: its line and the column name the file used.
fn to_file(e: Error, lines: &[u64], rename: impl Fn(&str) -> Option<String>) -> Error {
    match e {
        Error::Row(mut r) => {
            if let Some(&l) = (r.line as usize).checked_sub(1).and_then(|i| lines.get(i)) {
                r.line = l;
            }
            if let Some(name) = rename(&r.field) {
                r.field = name;
            }
            Error::Row(r)
        }
        e => e,
    }
}

/// Reads contacts from a header CSV.
///
/// One row per contact, with a header. Columns, by name (any order):
///
/// | column | required | meaning |
/// |---|---|---|
/// | `contact_id` (or `id`) | yes | the contact's id, unique |
/// | `campaign` | yes | the campaign that made the contact |
/// | `channel` | no | the source channel |
/// | `owner` | no | the salesperson who owns the contact (what scopes filter on) |
/// | `created` | no | the day of the contact, `YYYY-MM-DD` |
/// | `lead`, `opportunity`, `order` | no | flags: reached the stage (`1`/`0`, `true`/`false`, `yes`/`no`; empty = 0) |
/// | `lead_date` (or `qualified`), `opportunity_date`, `order_date` | no | the day the stage was reached; empty = not reached |
///
/// Each stage is read from its flag, its date or both: with a date only, a non-empty date
/// means reached on that day; with a flag only, reached on a day not recorded; with both,
/// a flag of `1` and an empty date is reached undated, and a flag of `0` with a date is a
/// contradiction ([`Problem::Conflict`]). A later stage implies the earlier ones (an order
/// marks the contact as a lead and an opportunity, undated when their dates are not
/// given). Every other column becomes a named attribute of the contact (empty values are
/// left out).
///
/// ```
/// use acrm::data::Scope;
/// use acrm::io::read_contacts;
/// let csv = "contact_id,campaign,owner,created,lead,opportunity_date,order,segment\n\
///            c1,spring,ann,2024-03-01,1,2024-03-10,0,smb\n\
///            c2,spring,bob,2024-03-02,0,,0,\n\
///            c3,web,ann,2024-03-05,,,1,ent\n";
/// let contacts = read_contacts(csv.as_bytes())?;
/// let view = contacts.view(&Scope::all());
/// assert_eq!(view.len(), 3);
/// assert_eq!(view.stage(0, 1), Some(Some(acrm::time::day_number(
///     chrono::NaiveDate::from_ymd_opt(2024, 3, 10).unwrap()))));
/// assert_eq!(view.stage(2, 0), Some(None)); // an order implies a lead, undated
/// assert_eq!(view.attribute(0, "segment"), Some("smb"));
/// assert_eq!(view.attribute(1, "segment"), None);
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] without an id (`contact_id` or `id`) or `campaign` column;
/// [`Error::Row`] naming the file line (the header is line 1), the column and the value
/// of: a date that is not `YYYY-MM-DD` ([`Problem::BadDate`]), a flag that is not one
/// ([`Problem::NotFlag`]), a flag of 0 beside a date ([`Problem::Conflict`]), and
/// everything [`Contacts::new`] checks (an empty or repeated id, an empty campaign, a
/// stage dated before the contact or an earlier stage); [`Error::EmptyInput`] without
/// data rows; [`Error::Io`].
pub fn read_contacts<R: Read>(reader: R) -> Result<Contacts> {
    // Read whole, so that errors name physical lines (the csv crate's positions are
    // before the blank lines it skips).
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader.read_to_end(&mut bytes)?;
    let mut lines_of = LineCounter::new(&bytes, 1);
    let bytes = super::text::decode_bytes(&bytes)?;
    let (mut rdr, header) = headed_reader(&bytes[..])?;
    let id = find(&header, &["contact_id", "id"]).ok_or_else(|| missing("contact_id", &header))?;
    let campaign = find(&header, &["campaign"]).ok_or_else(|| missing("campaign", &header))?;
    let channel = find(&header, &["channel"]);
    let owner = find(&header, &["owner"]);
    let created = find(&header, &["created"]);
    let flags: [Option<usize>; 3] = FUNNEL_STAGES.map(|s| find(&header, &[s]));
    let dates: [Option<usize>; 3] = [
        find(&header, &["lead_date", "qualified"]),
        find(&header, &["opportunity_date"]),
        find(&header, &["order_date"]),
    ];
    let known: Vec<usize> = [Some(id), Some(campaign), channel, owner, created]
        .into_iter()
        .chain(flags)
        .chain(dates)
        .flatten()
        .collect();
    let extra: Vec<usize> = (0..header.len()).filter(|c| !known.contains(c)).collect();

    let mut records = Vec::new();
    let mut lines = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
        let field = |c: usize| rec.get(c).map_or("", str::trim);
        let optional = |c: Option<usize>| c.map(field).filter(|v| !v.is_empty());
        let date = |c: Option<usize>| -> Result<Option<NaiveDate>> {
            match (c, optional(c)) {
                (Some(c), Some(v)) => parse_date(line, &header[c], v).map(Some),
                _ => Ok(None),
            }
        };
        let mut reached = [Reached::No; 3];
        for s in 0..3 {
            let flag = match (flags[s], optional(flags[s])) {
                (Some(c), Some(v)) => Some(parse_flag(line, &header[c], v)?),
                _ => None,
            };
            let day = date(dates[s])?;
            reached[s] = match (flag, day) {
                (Some(false), Some(_)) => {
                    let c = flags[s].unwrap_or(0);
                    return Err(Error::row(line, &header[c], field(c), Problem::Conflict));
                }
                (_, Some(d)) => Reached::On(d),
                (Some(true), None) => Reached::Undated,
                _ => Reached::No,
            };
        }
        let attributes: BTreeMap<String, String> = extra
            .iter()
            .filter(|&&c| !field(c).is_empty())
            .map(|&c| (header[c].clone(), field(c).to_string()))
            .collect();
        records.push(ContactRecord {
            id: field(id).to_string(),
            campaign: field(campaign).to_string(),
            channel: optional(channel).map(str::to_string),
            owner: optional(owner).map(str::to_string),
            created: date(created)?,
            lead: reached[0],
            opportunity: reached[1],
            order: reached[2],
            attributes,
        });
        lines.push(line);
    }
    if records.is_empty() {
        return Err(Error::EmptyInput);
    }
    Contacts::new(records).map_err(|e| {
        to_file(e, &lines, |f| match f {
            "id" => Some(header[id].clone()),
            _ => FUNNEL_STAGES
                .iter()
                .position(|s| *s == f)
                .and_then(|s| dates[s].or(flags[s]))
                .map(|c| header[c].clone()),
        })
    })
}

/// Reads contacts from a file (see [`read_contacts`]).
///
/// # Errors
/// As [`read_contacts`]; [`Error::Io`].
pub fn read_contacts_path(path: impl AsRef<Path>) -> Result<Contacts> {
    read_contacts(std::fs::File::open(path)?)
}

/// Reads campaigns from a header CSV: `id` (or `campaign`), `cost`, and optionally
/// `type`, `product`, `start`, `end`.
///
/// ```
/// use acrm::io::read_campaigns;
/// let csv = "id,type,product,start,end,cost\n\
///            spring_fair,fair,boilers,2024-03-01,2024-03-03,12000\n\
///            web_ads,advertising,,2024-03-01,,8000.5\n";
/// let campaigns = read_campaigns(csv.as_bytes())?;
/// assert_eq!(campaigns.get("web_ads").unwrap().cost, 8000.5);
/// assert_eq!(campaigns.get("spring_fair").unwrap().kind.as_deref(), Some("fair"));
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] without `id` (or `campaign`) or `cost`; [`Error::Row`] naming
/// the file line, column and value of a date that is not `YYYY-MM-DD`, a cost that is
/// empty, not a number, not finite or negative, an empty or repeated id, an end before
/// the start; [`Error::EmptyInput`] without data rows; [`Error::Io`].
pub fn read_campaigns<R: Read>(reader: R) -> Result<Campaigns> {
    // Read whole, so that errors name physical lines (the csv crate's positions are
    // before the blank lines it skips).
    let mut bytes = Vec::new();
    let mut reader = reader;
    reader.read_to_end(&mut bytes)?;
    let mut lines_of = LineCounter::new(&bytes, 1);
    let bytes = super::text::decode_bytes(&bytes)?;
    let (mut rdr, header) = headed_reader(&bytes[..])?;
    let id = find(&header, &["id", "campaign"]).ok_or_else(|| missing("id", &header))?;
    let cost = find(&header, &["cost"]).ok_or_else(|| missing("cost", &header))?;
    let kind = find(&header, &["type"]);
    let product = find(&header, &["product"]);
    let start = find(&header, &["start"]);
    let end = find(&header, &["end"]);
    let mut records = Vec::new();
    let mut lines = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
        let field = |c: usize| rec.get(c).map_or("", str::trim);
        let optional = |c: Option<usize>| c.map(field).filter(|v| !v.is_empty());
        let date = |c: Option<usize>| -> Result<Option<NaiveDate>> {
            match (c, optional(c)) {
                (Some(c), Some(v)) => parse_date(line, &header[c], v).map(Some),
                _ => Ok(None),
            }
        };
        let v = field(cost);
        if v.is_empty() {
            return Err(Error::row(line, &header[cost], v, Problem::EmptyValue));
        }
        let amount: f64 = v
            .parse()
            .map_err(|_| Error::row(line, &header[cost], v, Problem::BadNumber))?;
        records.push(CampaignRecord {
            id: field(id).to_string(),
            kind: optional(kind).map(str::to_string),
            product: optional(product).map(str::to_string),
            start: date(start)?,
            end: date(end)?,
            cost: amount,
        });
        lines.push(line);
    }
    if records.is_empty() {
        return Err(Error::EmptyInput);
    }
    Campaigns::new(records).map_err(|e| {
        to_file(e, &lines, |f| match f {
            "id" => Some(header[id].clone()),
            _ => None,
        })
    })
}

/// Reads campaigns from a file (see [`read_campaigns`]).
///
/// # Errors
/// As [`read_campaigns`]; [`Error::Io`].
pub fn read_campaigns_path(path: impl AsRef<Path>) -> Result<Campaigns> {
    read_campaigns(std::fs::File::open(path)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(result: Result<impl std::fmt::Debug>) -> (u64, String, String, Problem) {
        match result.unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn contact_errors_name_line_and_column() {
        let head = "contact_id,campaign,created,lead,lead_date,opportunity,order\n";
        let ok = "c1,a,2024-01-01,1,2024-01-02,0,0\n";
        let bad = |line: &str| row(read_contacts(format!("{head}{ok}{line}\n").as_bytes()));
        assert_eq!(
            bad("c2,a,2024-13-01,0,,0,0"),
            (3, "created".into(), "2024-13-01".into(), Problem::BadDate)
        );
        assert_eq!(
            bad("c2,a,2024-01-01,2,,0,0"),
            (3, "lead".into(), "2".into(), Problem::NotFlag)
        );
        assert_eq!(
            bad("c2,a,2024-01-01,0,2024-01-05,0,0"),
            (3, "lead".into(), "0".into(), Problem::Conflict)
        );
        assert_eq!(
            bad("c1,a,2024-01-01,0,,0,0"),
            (3, "contact_id".into(), "c1".into(), Problem::DuplicateId)
        );
        assert_eq!(
            bad("c2,,2024-01-01,0,,0,0"),
            (3, "campaign".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("c2,a,2024-01-05,1,2024-01-02,0,0"),
            (
                3,
                "lead_date".into(),
                "2024-01-02".into(),
                Problem::DateOrder
            )
        );
        assert!(matches!(
            read_contacts("contact_id,lead\nc1,1\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "campaign"
        ));
        assert_eq!(
            read_contacts(head.as_bytes()).unwrap_err(),
            Error::EmptyInput
        );
    }

    #[test]
    fn campaign_errors_name_line_and_column() {
        let head = "id,type,start,end,cost\n";
        let bad = |line: &str| {
            row(read_campaigns(
                format!("{head}a,x,,,1\n{line}\n").as_bytes(),
            ))
        };
        assert_eq!(
            bad("b,x,,,ten"),
            (3, "cost".into(), "ten".into(), Problem::BadNumber)
        );
        assert_eq!(
            bad("b,x,,,"),
            (3, "cost".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("b,x,,,-5"),
            (3, "cost".into(), "-5".into(), Problem::Negative)
        );
        assert_eq!(
            bad("a,x,,,5"),
            (3, "id".into(), "a".into(), Problem::DuplicateId)
        );
        assert_eq!(
            bad("b,x,2024-02-01,2024-01-01,5"),
            (
                3,
                "end".into(),
                "2024-01-01".into(),
                Problem::EndBeforeStart
            )
        );
        assert_eq!(
            bad("b,x,2024-02-31,,5"),
            (3, "start".into(), "2024-02-31".into(), Problem::BadDate)
        );
        assert!(matches!(
            read_campaigns("id,type\na,b\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "cost"
        ));
    }
}
