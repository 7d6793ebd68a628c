//! The organisation and customer ownership from CSV: the flat
//! `customer_id,owner,team,branch[,from]` table of the command-line examples, and the
//! general form of units, users and roles in three tables.

use std::io::Read;
use std::path::Path;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::table::headed_reader;
use crate::data::{
    AreaSet, AssignmentRecord, Assignments, ColumnSet, Organisation, Reach, RoleRecord, UnitRecord,
    UserRecord,
};
use crate::error::{Error, Problem, Result, RowError};

/// Options for reading the flat ownership table `customer_id,owner,team,branch[,from]`:
/// one line per customer (or per handover, with `from` dates `YYYY-MM-DD`); `team`,
/// `branch` and `from` may be absent or empty. Customer ids are normalised as the
/// transaction reader normalises them ([`numeric_ids`](Self::numeric_ids) for CDNOW's
/// zero-padded numbers), so the same customer matches in both files.
///
/// ```
/// use acrm::io::AssignmentCsv;
/// let csv = "customer_id,owner,team,branch\n00001,ann,t1,north\n2,bob,t1,north\n";
/// let a = AssignmentCsv::new().numeric_ids(true).read(csv.as_bytes())?;
/// assert_eq!(a.ownership[0].customer_id, "1");
/// assert_eq!(a.organisation.users().collect::<Vec<_>>(), ["ann", "bob"]);
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentCsv {
    numeric_ids: bool,
}

/// A row error at `line` of a headed file.
fn row_error(line: u64, field: &str, value: &str, problem: Problem) -> Error {
    Error::Row(RowError {
        line,
        field: field.to_string(),
        value: value.chars().take(200).collect(),
        problem,
    })
}

/// Moves the line of a row error on records (1-based positions) to the file's line (the
/// header is line 1).
fn on_file_lines(e: Error) -> Error {
    match e {
        Error::Row(mut r) => {
            r.line += 1;
            Error::Row(r)
        }
        e => e,
    }
}

/// A header CSV as rows of named text fields (trimmed), with required and optional
/// columns; returns each row's fields in the order asked, `None` for an absent optional
/// column.
fn read_rows<R: Read>(
    reader: R,
    required: &[&str],
    optional: &[&str],
) -> Result<Vec<Vec<Option<String>>>> {
    let (mut rdr, header) = headed_reader(reader)?;
    let mut cols = Vec::new();
    for name in required {
        let c = header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| Error::MissingColumn {
                column: (*name).to_string(),
                available: header.clone(),
            })?;
        cols.push(Some(c));
    }
    cols.extend(optional.iter().map(|n| header.iter().position(|h| h == n)));
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    while rdr.read_record(&mut rec)? {
        rows.push(
            cols.iter()
                .map(|c| c.and_then(|c| rec.get(c)).map(|v| v.trim().to_string()))
                .collect(),
        );
    }
    if rows.is_empty() {
        return Err(Error::EmptyInput);
    }
    Ok(rows)
}

fn nonempty(v: &Option<String>) -> Option<String> {
    v.clone().filter(|s| !s.is_empty())
}

impl AssignmentCsv {
    /// Text ids (the default).
    pub fn new() -> Self {
        Self::default()
    }

    /// Read customer ids as decimal numbers, as
    /// [`CsvOptions::numeric_ids`](super::CsvOptions::numeric_ids) does (`007` is `7`).
    pub fn numeric_ids(mut self, yes: bool) -> Self {
        self.numeric_ids = yes;
        self
    }

    /// Reads the table.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] without `customer_id` or `owner`; [`Error::Row`] naming
    /// the line, field and value of an empty customer id or owner, a customer id that is
    /// not a number under [`numeric_ids`](Self::numeric_ids), a `from` that is not a
    /// date, an owner placed in two teams or a team in two branches
    /// ([`Problem::Conflict`]); [`Error::EmptyInput`] without data rows.
    pub fn read<R: Read>(&self, reader: R) -> Result<Assignments> {
        let rows = read_rows(
            reader,
            &["customer_id", "owner"],
            &["team", "branch", "from"],
        )?;
        let mut records = Vec::with_capacity(rows.len());
        for (i, r) in rows.iter().enumerate() {
            let line = i as u64 + 2;
            let raw = r[0].as_deref().unwrap_or_default();
            let customer_id = if self.numeric_ids && !raw.is_empty() {
                super::csv::numeric_id(raw)
                    .ok_or_else(|| row_error(line, "customer_id", raw, Problem::BadNumber))?
                    .to_string()
            } else {
                raw.to_string()
            };
            let from = match nonempty(&r[4]) {
                None => None,
                Some(v) => Some(
                    NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                        .map_err(|_| row_error(line, "from", &v, Problem::BadDate))?,
                ),
            };
            records.push(AssignmentRecord {
                customer_id,
                owner: r[1].clone().unwrap_or_default(),
                team: nonempty(&r[2]),
                branch: nonempty(&r[3]),
                from,
            });
        }
        Organisation::from_assignments(&records).map_err(on_file_lines)
    }

    /// Reads the table from a file.
    ///
    /// # Errors
    /// As [`read`](Self::read); [`Error::Io`].
    pub fn read_path(&self, path: impl AsRef<Path>) -> Result<Assignments> {
        self.read(std::fs::File::open(path)?)
    }
}

/// Reads an organisation from three header CSVs: units `id,level[,parent]` (parent: a
/// unit id, or `level:id` when ambiguous), users `id[,unit][,role]`, roles
/// `name,reach[,hidden_columns][,forbidden_areas]` (reach: `own`, `all` or a unit level;
/// lists separated by `;`).
///
/// ```
/// use acrm::io::read_organisation;
/// let units = "id,level,parent\nnorth,branch,\nt1,team,north\n";
/// let users = "id,unit,role\nann,t1,sales\neve,north,manager\n";
/// let roles = "name,reach,hidden_columns,forbidden_areas\n\
///              sales,own,cost;margin,profitability\nmanager,branch,,\n";
/// let org = read_organisation(units.as_bytes(), users.as_bytes(), roles.as_bytes())?;
/// let ann = org.scope_of_user("ann")?;
/// assert_eq!(ann.label(), "owner:ann");
/// assert_eq!(ann.hidden().to_string(), "cost,margin");
/// # Ok::<(), acrm::Error>(())
/// ```
///
/// # Errors
/// [`Error::MissingColumn`] for a missing required column; [`Error::Row`] naming the
/// line (of the file it is in), field and value of a bad entry: an unknown column or
/// area name, an empty reach, and everything [`Organisation::new`] checks;
/// [`Error::EmptyInput`] for a file without data rows.
pub fn read_organisation<A: Read, B: Read, C: Read>(
    units: A,
    users: B,
    roles: C,
) -> Result<Organisation> {
    let unit_rows = read_rows(units, &["id", "level"], &["parent"])?;
    let user_rows = read_rows(users, &["id"], &["unit", "role"])?;
    let role_rows = read_rows(
        roles,
        &["name", "reach"],
        &["hidden_columns", "forbidden_areas"],
    )?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let units: Vec<UnitRecord> = unit_rows
        .iter()
        .map(|r| UnitRecord {
            id: text(&r[0]),
            level: text(&r[1]),
            parent: nonempty(&r[2]),
        })
        .collect();
    let users: Vec<UserRecord> = user_rows
        .iter()
        .map(|r| UserRecord {
            id: text(&r[0]),
            unit: nonempty(&r[1]),
            role: nonempty(&r[2]),
        })
        .collect();
    let mut roles = Vec::with_capacity(role_rows.len());
    for (i, r) in role_rows.iter().enumerate() {
        let line = i as u64 + 2;
        let field = |k: usize, name: &'static str, problem| {
            let v = text(&r[k]);
            move |_| row_error(line, name, &v, problem)
        };
        roles.push(RoleRecord {
            name: text(&r[0]),
            reach: text(&r[1])
                .parse::<Reach>()
                .map_err(field(1, "reach", Problem::EmptyValue))?,
            hidden_columns: ColumnSet::parse_list(&text(&r[2])).map_err(field(
                2,
                "hidden_columns",
                Problem::UnknownReference,
            ))?,
            forbidden_areas: AreaSet::parse_list(&text(&r[3])).map_err(field(
                3,
                "forbidden_areas",
                Problem::UnknownReference,
            ))?,
        });
    }
    // Errors of `Organisation::new` name record positions; each kind of record is one
    // file, so the file line is the position + 1. Which file is in the field name's
    // context (units: id/level/parent, users: unit/role, roles: name).
    Organisation::new(units, users, roles).map_err(on_file_lines)
}

/// Reads an organisation from three files (see [`read_organisation`]).
///
/// # Errors
/// As [`read_organisation`]; [`Error::Io`].
pub fn read_organisation_paths(
    units: impl AsRef<Path>,
    users: impl AsRef<Path>,
    roles: impl AsRef<Path>,
) -> Result<Organisation> {
    read_organisation(
        std::fs::File::open(units)?,
        std::fs::File::open(users)?,
        std::fs::File::open(roles)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::ScopeSpec;

    fn row(e: Error) -> (u64, String, String, Problem) {
        match e {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn flat_table_builds_the_tree_and_names_bad_lines() {
        let csv = "customer_id,owner,team,branch,from\n\
                   007,ann,t1,north,\n8,bob,t1,north,\n9,cat,t2,south,\n7,bob,t1,north,2024-03-01\n";
        let a = AssignmentCsv::new()
            .numeric_ids(true)
            .read(csv.as_bytes())
            .unwrap();
        assert_eq!(a.ownership.len(), 4);
        // In the organisation's order: north's t1 (ann, then bob's two lines), south's t2.
        let order: Vec<(&str, &str)> = a
            .ownership
            .iter()
            .map(|r| (r.owner.as_str(), r.customer_id.as_str()))
            .collect();
        assert_eq!(
            order,
            [("ann", "7"), ("bob", "8"), ("bob", "7"), ("cat", "9")]
        );
        assert_eq!(a.ownership[2].from, NaiveDate::from_ymd_opt(2024, 3, 1));
        let org = &a.organisation;
        let team = org.scope(&"team:t1".parse::<ScopeSpec>().unwrap()).unwrap();
        assert_eq!(team.owners().unwrap().len(), 2);
        let north = org.scope(&"branch:north".parse().unwrap()).unwrap();
        assert_eq!(north.owners().unwrap().len(), 2);
        assert!(matches!(
            org.scope(&"branch:east".parse().unwrap()),
            Err(Error::UnknownId { kind, id }) if kind == "branch" && id == "east"
        ));
        assert!(matches!(
            org.scope(&"owner:zed".parse().unwrap()),
            Err(Error::UnknownId { kind, .. }) if kind == "owner"
        ));

        let err = |text: &str| row(AssignmentCsv::new().read(text.as_bytes()).unwrap_err());
        assert_eq!(
            err("customer_id,owner,team,branch\n1,ann,t1,north\n2,ann,t2,north\n"),
            (3, "team".into(), "t2".into(), Problem::Conflict)
        );
        assert_eq!(
            err("customer_id,owner,team,branch\n1,ann,t1,north\n2,bob,t1,south\n"),
            (3, "branch".into(), "south".into(), Problem::Conflict)
        );
        assert_eq!(
            err("customer_id,owner,team,branch\n1,,t1,north\n"),
            (2, "owner".into(), "".into(), Problem::EmptyValue)
        );
        assert_eq!(
            err("customer_id,owner,from\n1,ann,March\n"),
            (2, "from".into(), "March".into(), Problem::BadDate)
        );
        assert_eq!(
            row(AssignmentCsv::new()
                .numeric_ids(true)
                .read("customer_id,owner\nA1,ann\n".as_bytes())
                .unwrap_err()),
            (2, "customer_id".into(), "A1".into(), Problem::BadNumber)
        );
        assert!(matches!(
            AssignmentCsv::new().read("customer_id,team\n1,t\n".as_bytes()),
            Err(Error::MissingColumn { column, .. }) if column == "owner"
        ));
    }

    #[test]
    fn organisation_files_resolve_roles_and_name_bad_entries() {
        let units = "id,level,parent\nnorth,branch,\nt1,team,north\nt2,team,north\n";
        let users = "id,unit,role\nann,t1,sales\nbob,t1,lead\nkim,t2,sales\neve,north,manager\nboss,,director\n";
        let roles = "name,reach,hidden_columns,forbidden_areas\n\
                     sales,own,cost;margin,profitability\nlead,team,cost,\n\
                     manager,branch,,\ndirector,all,,\n";
        let org = read_organisation(units.as_bytes(), users.as_bytes(), roles.as_bytes()).unwrap();
        let bob = org.scope_of_user("bob").unwrap();
        assert_eq!(bob.label(), "team:t1");
        assert_eq!(
            bob.owners().unwrap().iter().collect::<Vec<_>>(),
            ["ann", "bob"]
        );
        let eve = org.scope_of_user("eve").unwrap();
        assert_eq!(eve.owners().unwrap().len(), 4);
        assert!(org.scope_of_user("boss").unwrap().owners().is_none());

        let bad = |units: &str, users: &str, roles: &str| {
            row(
                read_organisation(units.as_bytes(), users.as_bytes(), roles.as_bytes())
                    .unwrap_err(),
            )
        };
        assert_eq!(
            bad("id,level,parent\nt1,team,nowhere\n", users, roles),
            (
                2,
                "parent".into(),
                "nowhere".into(),
                Problem::UnknownReference
            )
        );
        assert_eq!(
            bad(
                "id,level,parent\na,x,b\nb,x,a\n",
                "id\nu\n",
                "name,reach\nr,own\n"
            ),
            (2, "parent".into(), "b".into(), Problem::Cycle)
        );
        assert_eq!(
            bad(units, "id,unit,role\nann,t1,boss\n", roles),
            (2, "role".into(), "boss".into(), Problem::UnknownReference)
        );
        assert_eq!(
            bad(units, users, "name,reach,hidden_columns\nsales,own,price\n"),
            (
                2,
                "hidden_columns".into(),
                "price".into(),
                Problem::UnknownReference
            )
        );
        assert_eq!(
            bad(
                "id,level\nt1,team\nt1,team\n",
                "id\nu\n",
                "name,reach\nr,own\n"
            ),
            (3, "id".into(), "t1".into(), Problem::DuplicateId)
        );
    }
}
