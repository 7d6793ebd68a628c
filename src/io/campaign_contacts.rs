//! Campaign contacts from CSV: one row per contacted customer, with its arm and the
//! outcomes and value the file gives (see [`CampaignContactCsv`]).

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;

use super::csv::LineCounter;
use super::table::headed_reader;
use crate::data::{CampaignContactRecord, CampaignContacts};
use crate::error::{Error, Problem, Result};

/// The campaign of every row of a file without a campaign column.
pub const DEFAULT_CAMPAIGN: &str = "campaign";

/// Which columns of a campaign file hold what. The arm column is required; the
/// campaign, customer, date and cost columns are read under their default names when
/// the header has them (and are an error when named explicitly and absent); outcomes and
/// the value column are read only when named. Every other column becomes a named
/// attribute of the contact (empty values left out).
///
/// | field | default column | when absent |
/// |---|---|---|
/// | arm | `arm` | [`Error::MissingColumn`] |
/// | campaign | `campaign` | every row is in campaign [`DEFAULT_CAMPAIGN`] |
/// | customer | `customer` (or `customer_id`) | contacts without customer |
/// | date | `date` (`YYYY-MM-DD`) | contacts without dates |
/// | cost | `cost` | contacts without costs |
/// | outcomes | none | — (flags `1`/`0`, `true`/`false`, `yes`/`no`) |
/// | value | none | — |
///
/// A column that is read may not hold an empty value ([`Problem::EmptyValue`]): a blank
/// outcome or value would otherwise pass for a non-response or a zero.
///
/// ```
/// use acrm::data::{Dataset, Scope};
/// use acrm::io::CampaignContactCsv;
/// let csv = "customer,campaign,arm,click,revenue\n\
///            c1,spring,control,0,0\n\
///            c2,spring,offer,1,35.5\n";
/// let contacts = CampaignContactCsv::new()
///     .outcome("click")
///     .value("revenue")
///     .read(csv.as_bytes())?;
/// let data = Dataset::default();
/// let view = contacts.view(&data.view(&Scope::all()));
/// assert_eq!(view.len(), 2);
/// assert_eq!(view.arms().name(view.arm(1) as usize), "offer");
/// assert_eq!(view.value(1), Some(35.5));
/// assert!(view.outcome(1, view.outcome_index("click").unwrap()));
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CampaignContactCsv {
    arm: String,
    outcomes: Vec<String>,
    value: Option<String>,
    campaign: Option<String>,
    customer: Option<String>,
    date: Option<String>,
    cost: Option<String>,
}

impl Default for CampaignContactCsv {
    fn default() -> Self {
        CampaignContactCsv {
            arm: "arm".into(),
            outcomes: Vec::new(),
            value: None,
            campaign: None,
            customer: None,
            date: None,
            cost: None,
        }
    }
}

fn find(header: &[String], name: &str) -> Option<usize> {
    header.iter().position(|h| h == name)
}

fn missing(column: &str, header: &[String]) -> Error {
    Error::MissingColumn {
        column: column.to_string(),
        available: header.to_vec(),
    }
}

impl CampaignContactCsv {
    /// The default columns.
    pub fn new() -> Self {
        Self::default()
    }

    /// The arm column.
    pub fn arm(mut self, column: &str) -> Self {
        self.arm = column.to_string();
        self
    }

    /// Adds a 0/1 outcome column (the outcome takes the column's name).
    pub fn outcome(mut self, column: &str) -> Self {
        if !self.outcomes.iter().any(|o| o == column) {
            self.outcomes.push(column.to_string());
        }
        self
    }

    /// The value column (revenue per contact).
    pub fn value(mut self, column: &str) -> Self {
        self.value = Some(column.to_string());
        self
    }

    /// The campaign column.
    pub fn campaign(mut self, column: &str) -> Self {
        self.campaign = Some(column.to_string());
        self
    }

    /// The customer column.
    pub fn customer(mut self, column: &str) -> Self {
        self.customer = Some(column.to_string());
        self
    }

    /// The date column.
    pub fn date(mut self, column: &str) -> Self {
        self.date = Some(column.to_string());
        self
    }

    /// The cost column.
    pub fn cost(mut self, column: &str) -> Self {
        self.cost = Some(column.to_string());
        self
    }

    /// A column named explicitly (an error when absent) or by default (`None` when
    /// absent).
    fn locate(
        header: &[String],
        explicit: Option<&str>,
        defaults: &[&str],
    ) -> Result<Option<usize>> {
        match explicit {
            Some(name) => find(header, name)
                .map(Some)
                .ok_or_else(|| missing(name, header)),
            None => Ok(defaults.iter().find_map(|d| find(header, d))),
        }
    }

    /// Reads contacts from a header CSV.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] for the arm column, a named outcome or value column, or an
    /// explicitly named campaign, customer, date or cost column that the header lacks;
    /// [`Error::Row`] naming the file line (the header is line 1), the column as the
    /// header spells it and the value: an empty value in a column that is read
    /// ([`Problem::EmptyValue`]), an outcome that is not a flag ([`Problem::NotFlag`]), a
    /// value or cost that is not a number ([`Problem::BadNumber`]), a date that is not
    /// `YYYY-MM-DD` ([`Problem::BadDate`]), and everything [`CampaignContacts::new`]
    /// checks (a customer twice in a campaign, a negative or non-finite cost, a
    /// non-finite value); [`Error::EmptyInput`] without data rows; [`Error::Io`].
    pub fn read<R: Read>(&self, reader: R) -> Result<CampaignContacts> {
        // Read whole, so that errors name physical lines (the csv crate's positions are
        // before the blank lines it skips).
        let mut bytes = Vec::new();
        let mut reader = reader;
        reader.read_to_end(&mut bytes)?;
        let mut lines_of = LineCounter::new(&bytes, 1);
        let bytes = super::text::decode_bytes(&bytes)?;
        let (mut rdr, header) = headed_reader(&bytes[..])?;
        let arm = find(&header, &self.arm).ok_or_else(|| missing(&self.arm, &header))?;
        let outcomes: Vec<usize> = self
            .outcomes
            .iter()
            .map(|o| find(&header, o).ok_or_else(|| missing(o, &header)))
            .collect::<Result<_>>()?;
        let value = match &self.value {
            Some(v) => Some(find(&header, v).ok_or_else(|| missing(v, &header))?),
            None => None,
        };
        let campaign = Self::locate(&header, self.campaign.as_deref(), &["campaign"])?;
        let customer = Self::locate(
            &header,
            self.customer.as_deref(),
            &["customer", "customer_id"],
        )?;
        let date = Self::locate(&header, self.date.as_deref(), &["date"])?;
        let cost = Self::locate(&header, self.cost.as_deref(), &["cost"])?;
        let known: Vec<usize> = [Some(arm), value, campaign, customer, date, cost]
            .into_iter()
            .flatten()
            .chain(outcomes.iter().copied())
            .collect();
        let extra: Vec<usize> = (0..header.len()).filter(|c| !known.contains(c)).collect();

        let mut records = Vec::new();
        let mut lines = Vec::new();
        let mut rec = csv::StringRecord::new();
        while rdr.read_record(&mut rec)? {
            let line = lines_of.line_at(rec.position().map_or(0, |p| p.byte() as usize));
            let field = |c: usize| rec.get(c).map_or("", str::trim);
            // A column that is read must hold a value on every row.
            let required = |c: usize| -> Result<&str> {
                let v = field(c);
                if v.is_empty() {
                    Err(Error::row(line, &header[c], v, Problem::EmptyValue))
                } else {
                    Ok(v)
                }
            };
            let number = |c: usize| -> Result<f64> {
                let v = required(c)?;
                v.parse::<f64>()
                    .map_err(|_| Error::row(line, &header[c], v, Problem::BadNumber))
            };
            let mut r = CampaignContactRecord::new(
                campaign.map_or(DEFAULT_CAMPAIGN, field),
                customer.map(field).filter(|v| !v.is_empty()),
                field(arm),
            );
            if let Some(c) = date {
                let v = required(c)?;
                r.date = Some(
                    NaiveDate::parse_from_str(v, "%Y-%m-%d")
                        .map_err(|_| Error::row(line, &header[c], v, Problem::BadDate))?,
                );
            }
            if let Some(c) = cost {
                r.cost = Some(number(c)?);
            }
            if let Some(c) = value {
                r.value = Some(number(c)?);
            }
            for &c in &outcomes {
                let v = required(c)?;
                let flag = match v.to_ascii_lowercase().as_str() {
                    "1" | "true" | "yes" => true,
                    "0" | "false" | "no" => false,
                    _ => return Err(Error::row(line, &header[c], v, Problem::NotFlag)),
                };
                r.outcomes.insert(header[c].clone(), flag);
            }
            r.attributes = extra
                .iter()
                .filter(|&&c| !field(c).is_empty())
                .map(|&c| (header[c].clone(), field(c).to_string()))
                .collect::<BTreeMap<_, _>>();
            records.push(r);
            lines.push(line);
        }
        if records.is_empty() {
            return Err(Error::EmptyInput);
        }
        CampaignContacts::new(records).map_err(|e| match e {
            Error::Row(mut r) => {
                if let Some(&l) = (r.line as usize).checked_sub(1).and_then(|i| lines.get(i)) {
                    r.line = l;
                }
                let column = match r.field.as_str() {
                    "campaign" => campaign,
                    "customer" => customer,
                    "arm" => Some(arm),
                    "date" => date,
                    "cost" => cost,
                    "value" => value,
                    _ => None,
                };
                if let Some(c) = column {
                    r.field = header[c].clone();
                }
                Error::Row(r)
            }
            e => e,
        })
    }

    /// Reads contacts from a file (see [`read`](Self::read)).
    ///
    /// # Errors
    /// As [`read`](Self::read).
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<CampaignContacts> {
        self.read(std::fs::File::open(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(result: Result<CampaignContacts>) -> (u64, String, String, Problem) {
        match result.unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn errors_name_physical_line_and_header_column() {
        let csv = CampaignContactCsv::new()
            .arm("group")
            .outcome("bought")
            .value("spend");
        let head = "client,campaign,group,date,bought,spend\n";
        let ok = "a,x,control,2024-01-01,0,0\n";
        // A blank line before the bad one: the error names the physical line 4.
        let bad = |line: &str| {
            row(csv
                .clone()
                .customer("client")
                .read(format!("{head}{ok}\n{line}\n").as_bytes()))
        };
        assert_eq!(
            bad("b,x,control,2024-01-01,2,0"),
            (4, "bought".into(), "2".into(), Problem::NotFlag)
        );
        assert_eq!(
            bad("b,x,,2024-01-01,1,0"),
            (4, "group".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("b,x,offer,2024-01-01,1,"),
            (4, "spend".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            bad("b,x,offer,2024-01-01,1,ten"),
            (4, "spend".into(), "ten".into(), Problem::BadNumber)
        );
        assert_eq!(
            bad("b,x,offer,2024-02-30,1,3"),
            (4, "date".into(), "2024-02-30".into(), Problem::BadDate)
        );
        assert_eq!(
            bad("a,x,offer,2024-01-01,1,3"),
            (4, "client".into(), "a".into(), Problem::DuplicateId)
        );
        assert!(matches!(
            csv.clone().arm("arm").read(format!("{head}{ok}").as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "arm"
        ));
        assert!(matches!(
            csv.clone().cost("price").read(format!("{head}{ok}").as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "price"
        ));
        assert_eq!(csv.read(head.as_bytes()).unwrap_err(), Error::EmptyInput);
    }

    #[test]
    fn defaults_and_attributes() {
        let text = "arm,customer_id,cost,segment\ncontrol,a,0.5,smb\noffer,b,0.75,\n";
        let c = CampaignContactCsv::new().read(text.as_bytes()).unwrap();
        assert_eq!(c.len(), 2);
        let data = crate::data::Dataset::default();
        let customers = data.view(&crate::data::Scope::all());
        let v = c.view(&customers);
        assert_eq!(v.campaigns().name(v.campaign(0) as usize), DEFAULT_CAMPAIGN);
        assert_eq!(v.customer(1), Some("b"));
        assert_eq!(v.cost(1), Some(0.75));
        assert_eq!(v.attribute(0, "segment"), Some("smb"));
        assert_eq!(v.attribute(1, "segment"), None);
        assert!(!v.has_dates() && !v.has_values() && v.outcome_names().is_empty());
    }
}
