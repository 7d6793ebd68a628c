//! The organisation behind access scopes: units in a tree of any depth (branches above
//! teams, regions above branches, ...), the staff who belong to them, and the roles that
//! say how far a member of staff sees and what they may not see or run.
//!
//! Who owns which customer is customer data, kept with the customer table (see
//! [`OwnershipRecord`](super::OwnershipRecord)): when a customer is handed over, the new
//! owner's scope includes them and the old owner's no longer does, without touching the
//! organisation.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::access::{AreaSet, ColumnSet};
use super::ids::Interner;
use super::scope::{Scope, ScopeSpec};
use super::OwnershipRecord;
use crate::error::{Error, Problem, Result, RowError};

/// How far a role sees.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reach {
    /// The customers the member of staff owns.
    Own,
    /// The customers owned by anyone in the subtree of the nearest unit at this level
    /// above (or at) the member's own unit: `team` for a team lead, `branch` for a branch
    /// manager.
    Level(String),
    /// Every customer.
    All,
}

impl fmt::Display for Reach {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reach::Own => f.write_str("own"),
            Reach::Level(l) => f.write_str(l),
            Reach::All => f.write_str("all"),
        }
    }
}

impl FromStr for Reach {
    type Err = Error;
    /// `own`, `all`, or the name of a unit level.
    fn from_str(s: &str) -> Result<Reach> {
        match s.trim() {
            "" => Err(Error::option("reach", "\"\"", "own, all or a unit level")),
            "own" => Ok(Reach::Own),
            "all" => Ok(Reach::All),
            level => Ok(Reach::Level(level.to_string())),
        }
    }
}

impl Serialize for Reach {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Reach {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Reach, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One unit of the organisation: a branch, a team, a region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitRecord {
    /// The unit's id, unique within its level.
    pub id: String,
    /// Its level (`team`, `branch`, ...): what scopes name it by (`team:7`).
    pub level: String,
    /// The unit above it: its id, or `level:id` when the id alone is ambiguous.
    #[serde(default)]
    pub parent: Option<String>,
}

/// A member of staff: the unit they belong to and their role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRecord {
    /// The user's id; as an owner of customers, the id in the ownership records.
    pub id: String,
    /// The unit: its id, or `level:id` when the id alone is ambiguous.
    #[serde(default)]
    pub unit: Option<String>,
    /// The role's name.
    #[serde(default)]
    pub role: Option<String>,
}

/// What a role may see and do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleRecord {
    /// The role's name.
    pub name: String,
    /// How far it sees.
    pub reach: Reach,
    /// Columns it may not see.
    #[serde(default)]
    pub hidden_columns: ColumnSet,
    /// Areas of analysis it may not run.
    #[serde(default)]
    pub forbidden_areas: AreaSet,
}

/// One line of the flat form of an organisation: a customer, their owner, the owner's
/// team and the team's branch, from a date on (the `customer_id,owner,team,branch[,from]`
/// table of the command-line examples).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentRecord {
    /// External customer id.
    pub customer_id: String,
    /// The owner (a user id).
    pub owner: String,
    /// The owner's team.
    #[serde(default)]
    pub team: Option<String>,
    /// The team's branch.
    #[serde(default)]
    pub branch: Option<String>,
    /// From when the owner holds the customer (absent: from the start).
    #[serde(default)]
    pub from: Option<NaiveDate>,
}

/// An organisation and the ownership records of its flat form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assignments {
    /// Branches, teams and owners.
    pub organisation: Organisation,
    /// Who owns which customer from when, in the organisation's order (see
    /// [`Organisation::sort_ownership`]; input order within an owner).
    pub ownership: Vec<OwnershipRecord>,
}

/// Units, users and roles, validated: unit ids unique within their level, parents and
/// users' units and roles defined, no unit its own ancestor.
///
/// ```
/// use acrm::data::{Organisation, Reach, RoleRecord, ScopeSpec, UnitRecord, UserRecord};
/// let unit = |id: &str, level: &str, parent: Option<&str>| UnitRecord {
///     id: id.into(), level: level.into(), parent: parent.map(Into::into),
/// };
/// let user = |id: &str, unit: &str, role: &str| UserRecord {
///     id: id.into(), unit: Some(unit.into()), role: Some(role.into()),
/// };
/// let role = |name: &str, reach: Reach| RoleRecord {
///     name: name.into(), reach, hidden_columns: Default::default(),
///     forbidden_areas: Default::default(),
/// };
/// let org = Organisation::new(
///     [unit("north", "branch", None), unit("t1", "team", Some("north"))],
///     [user("ann", "t1", "sales"), user("bob", "t1", "lead"), user("eve", "north", "manager")],
///     [role("sales", Reach::Own), role("lead", Reach::Level("team".into())),
///      role("manager", Reach::Level("branch".into()))],
/// )?;
/// assert_eq!(org.scope_of_user("ann")?.owners().unwrap().len(), 1);
/// assert_eq!(org.scope_of_user("bob")?.label(), "team:t1");
/// assert_eq!(org.scope_of_user("eve")?.owners().unwrap().len(), 3);
/// assert_eq!(org.scope(&"branch:north".parse::<ScopeSpec>()?)?.label(), "branch:north");
/// # Ok::<(), acrm::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Organisation {
    /// Units by key `level:id`.
    units: Interner,
    unit_parent: Vec<Option<u32>>,
    users: Interner,
    user_unit: Vec<Option<u32>>,
    user_role: Vec<Option<u32>>,
    roles: Vec<RoleRecord>,
}

/// A row error of the records given to [`Organisation::new`] (`line` is the 1-based
/// position within its kind of record).
fn record_error(line: usize, field: &str, value: &str, problem: Problem) -> Error {
    Error::Row(RowError {
        line: line as u64,
        field: field.to_string(),
        value: value.chars().take(200).collect(),
        problem,
    })
}

fn unit_key(level: &str, id: &str) -> String {
    format!("{level}:{id}")
}

impl Organisation {
    /// Builds and validates an organisation.
    ///
    /// # Errors
    /// [`Error::Row`] naming the record (its 1-based position among the records of its
    /// kind), field and value: an empty id or level, a unit, user or role given twice
    /// ([`Problem::DuplicateId`]), a parent, unit or role that is not defined or is
    /// ambiguous ([`Problem::UnknownReference`]), a unit that is its own ancestor
    /// ([`Problem::Cycle`]).
    pub fn new(
        units: impl IntoIterator<Item = UnitRecord>,
        users: impl IntoIterator<Item = UserRecord>,
        roles: impl IntoIterator<Item = RoleRecord>,
    ) -> Result<Organisation> {
        let units: Vec<UnitRecord> = units.into_iter().collect();
        let mut org = Organisation {
            units: Interner::new(),
            unit_parent: Vec::with_capacity(units.len()),
            users: Interner::new(),
            user_unit: Vec::new(),
            user_role: Vec::new(),
            roles: Vec::new(),
        };
        for (i, u) in units.iter().enumerate() {
            for (field, v) in [("id", &u.id), ("level", &u.level)] {
                if v.trim().is_empty() {
                    return Err(record_error(i + 1, field, v, Problem::EmptyValue));
                }
            }
            if u.level.contains(':') {
                return Err(record_error(i + 1, "level", &u.level, Problem::InvalidName));
            }
            let key = unit_key(&u.level, &u.id);
            if org.units.get(&key).is_some() {
                return Err(record_error(i + 1, "id", &u.id, Problem::DuplicateId));
            }
            org.units.intern(&key);
        }
        for (i, u) in units.iter().enumerate() {
            let parent = match &u.parent {
                Some(p) if !p.trim().is_empty() => {
                    Some(org.resolve_unit(p).ok_or_else(|| {
                        record_error(i + 1, "parent", p, Problem::UnknownReference)
                    })?)
                }
                _ => None,
            };
            org.unit_parent.push(parent);
        }
        // A parent chain longer than the number of units has come round to itself.
        for (i, u) in units.iter().enumerate() {
            let mut at = org.unit_parent[i];
            let mut steps = 0;
            while let Some(p) = at {
                steps += 1;
                if p as usize == i || steps > units.len() {
                    let parent = u.parent.as_deref().unwrap_or_default();
                    return Err(record_error(i + 1, "parent", parent, Problem::Cycle));
                }
                at = org.unit_parent[p as usize];
            }
        }
        let mut role_names = Interner::new();
        for (i, r) in roles.into_iter().enumerate() {
            if r.name.trim().is_empty() {
                return Err(record_error(i + 1, "name", &r.name, Problem::EmptyValue));
            }
            if role_names.get(&r.name).is_some() {
                return Err(record_error(i + 1, "name", &r.name, Problem::DuplicateId));
            }
            role_names.intern(&r.name);
            org.roles.push(r);
        }
        for (i, u) in users.into_iter().enumerate() {
            if u.id.trim().is_empty() {
                return Err(record_error(i + 1, "id", &u.id, Problem::EmptyValue));
            }
            if org.users.get(&u.id).is_some() {
                return Err(record_error(i + 1, "id", &u.id, Problem::DuplicateId));
            }
            let unit = match &u.unit {
                Some(x) if !x.trim().is_empty() => Some(
                    org.resolve_unit(x)
                        .ok_or_else(|| record_error(i + 1, "unit", x, Problem::UnknownReference))?,
                ),
                _ => None,
            };
            let role = match &u.role {
                Some(x) if !x.trim().is_empty() => Some(
                    role_names
                        .get(x)
                        .ok_or_else(|| record_error(i + 1, "role", x, Problem::UnknownReference))?,
                ),
                _ => None,
            };
            org.users.intern(&u.id);
            org.user_unit.push(unit);
            org.user_role.push(role);
        }
        Ok(org)
    }

    /// The organisation of the flat table `customer_id,owner,team,branch[,from]`: each
    /// branch a unit of level `branch`, each team a unit of level `team` under its branch,
    /// each owner a user in their team, with no roles (scopes are named directly); and
    /// the ownership records, one per line.
    ///
    /// # Errors
    /// [`Error::Row`] naming the line (1-based position) and field: an empty customer id
    /// or owner ([`Problem::EmptyValue`]), an owner placed in two teams or a team in two
    /// branches ([`Problem::Conflict`]).
    pub fn from_assignments(rows: &[AssignmentRecord]) -> Result<Assignments> {
        let text = |v: &Option<String>| -> Option<String> {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        // Each owner's unit (their team, else their branch) and each team's branch, in
        // order of first mention; a later line may add what an earlier one left empty,
        // but not contradict it.
        let mut owners: Vec<(String, Option<String>)> = Vec::new();
        let mut owner_at: BTreeMap<String, usize> = BTreeMap::new();
        let mut teams: Vec<(String, Option<String>)> = Vec::new();
        let mut team_at: BTreeMap<String, usize> = BTreeMap::new();
        let mut branches: BTreeSet<String> = BTreeSet::new();
        fn settle(
            list: &mut Vec<(String, Option<String>)>,
            at: &mut BTreeMap<String, usize>,
            key: &str,
            value: Option<String>,
        ) -> std::result::Result<(), ()> {
            match at.get(key) {
                None => {
                    at.insert(key.to_string(), list.len());
                    list.push((key.to_string(), value));
                    Ok(())
                }
                Some(&k) => match (&list[k].1, value) {
                    (Some(a), Some(b)) if *a != b => Err(()),
                    (None, v @ Some(_)) => {
                        list[k].1 = v;
                        Ok(())
                    }
                    _ => Ok(()),
                },
            }
        }
        for (i, r) in rows.iter().enumerate() {
            let line = i + 1;
            for (field, v) in [("customer_id", &r.customer_id), ("owner", &r.owner)] {
                if v.trim().is_empty() {
                    return Err(record_error(line, field, v, Problem::EmptyValue));
                }
            }
            let (team, branch) = (text(&r.team), text(&r.branch));
            let unit = match (&team, &branch) {
                (Some(t), _) => Some(unit_key("team", t)),
                (None, Some(b)) => Some(unit_key("branch", b)),
                (None, None) => None,
            };
            let conflict = |field: &str, v: &Option<String>| {
                record_error(
                    line,
                    field,
                    v.as_deref().unwrap_or_default(),
                    Problem::Conflict,
                )
            };
            let field = if team.is_some() { "team" } else { "branch" };
            let shown = if team.is_some() { &team } else { &branch };
            settle(&mut owners, &mut owner_at, r.owner.trim(), unit)
                .map_err(|()| conflict(field, shown))?;
            if let Some(t) = &team {
                settle(&mut teams, &mut team_at, t, branch.clone())
                    .map_err(|()| conflict("branch", &branch))?;
            }
            branches.extend(branch);
        }
        let units = branches
            .into_iter()
            .map(|b| UnitRecord {
                id: b,
                level: "branch".into(),
                parent: None,
            })
            .chain(teams.into_iter().map(|(t, b)| UnitRecord {
                id: t,
                level: "team".into(),
                parent: b.map(|b| unit_key("branch", &b)),
            }));
        let users = owners.into_iter().map(|(o, unit)| UserRecord {
            id: o,
            unit,
            role: None,
        });
        let organisation = Organisation::new(units, users, [])?;
        let mut ownership: Vec<OwnershipRecord> = rows
            .iter()
            .map(|r| OwnershipRecord {
                customer_id: r.customer_id.trim().to_string(),
                owner: r.owner.trim().to_string(),
                from: r.from,
            })
            .collect();
        organisation.sort_ownership(&mut ownership);
        Ok(Assignments {
            organisation,
            ownership,
        })
    }

    /// The rank of each user in the organisation's order: units depth first (children in
    /// the order given), a unit's users in the order given; users without a unit last.
    fn user_ranks(&self) -> Vec<u32> {
        let n_units = self.units.len();
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n_units];
        let mut roots = Vec::new();
        for (u, p) in self.unit_parent.iter().enumerate() {
            match p {
                Some(p) => children[*p as usize].push(u as u32),
                None => roots.push(u as u32),
            }
        }
        let mut members: Vec<Vec<u32>> = vec![Vec::new(); n_units];
        let mut unplaced = Vec::new();
        for (i, unit) in self.user_unit.iter().enumerate() {
            match unit {
                Some(u) => members[*u as usize].push(i as u32),
                None => unplaced.push(i as u32),
            }
        }
        let mut rank = vec![u32::MAX; self.users.len()];
        let mut next = 0u32;
        let mut stack: Vec<u32> = roots.into_iter().rev().collect();
        while let Some(u) = stack.pop() {
            for &m in &members[u as usize] {
                rank[m as usize] = next;
                next += 1;
            }
            stack.extend(children[u as usize].iter().rev());
        }
        for m in unplaced {
            rank[m as usize] = next;
            next += 1;
        }
        rank
    }

    /// Sorts ownership records into the organisation's order (stable): owners by their
    /// place in the tree (units depth first, a unit's staff in the order given), owners
    /// who are not users of the organisation last. Given to
    /// [`Dataset::assign_owners`](super::Dataset::assign_owners) in this order, the
    /// records make every unit's customers one run of the log, so a pass over a team's or
    /// a branch's customers streams.
    pub fn sort_ownership(&self, records: &mut [OwnershipRecord]) {
        let rank = self.user_ranks();
        records.sort_by_key(|r| {
            self.users
                .get(&r.owner)
                .map_or(u32::MAX, |u| rank[u as usize])
        });
    }

    /// A unit by id, or by `level:id`; `None` when unknown or ambiguous.
    fn resolve_unit(&self, s: &str) -> Option<u32> {
        let s = s.trim();
        if let Some(u) = self.units.get(s) {
            return Some(u);
        }
        let mut found = None;
        for (i, key) in self.units.iter().enumerate() {
            if key.split_once(':').is_some_and(|(_, id)| id == s) {
                if found.is_some() {
                    return None;
                }
                found = Some(i as u32);
            }
        }
        found
    }

    /// The level and id of unit `u`.
    fn unit_parts(&self, u: u32) -> (&str, &str) {
        // Keys are `level:id` and levels hold no colon (checked in `new`).
        let key = self.units.name(u as usize);
        key.split_once(':').unwrap_or((key, ""))
    }

    /// Number of units.
    pub fn units(&self) -> usize {
        self.units.len()
    }

    /// The user ids, in input order.
    pub fn users(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        self.users.iter()
    }

    /// Whether `id` is a user.
    pub fn has_user(&self, id: &str) -> bool {
        self.users.get(id).is_some()
    }

    /// The roles.
    pub fn roles(&self) -> &[RoleRecord] {
        &self.roles
    }

    /// Whether unit `u` lies in the subtree of unit `top`.
    fn within(&self, u: u32, top: u32) -> bool {
        self.up_from(u).any(|a| a == top)
    }

    /// Unit `u` and the units above it, nearest first. At most as many steps as there are
    /// units: a deserialised organisation is not checked for cycles the way `new` checks.
    fn up_from(&self, u: u32) -> impl Iterator<Item = u32> + '_ {
        std::iter::successors(Some(u), |&a| self.unit_parent[a as usize]).take(self.units.len())
    }

    /// The users whose unit lies in the subtree of `top`.
    fn users_under(&self, top: u32) -> BTreeSet<String> {
        (0..self.users.len())
            .filter(|&i| self.user_unit[i].is_some_and(|u| self.within(u, top)))
            .map(|i| self.users.name(i).to_string())
            .collect()
    }

    /// The unit levels of the organisation (`team`, `branch`, ...), in order of first
    /// appearance.
    pub fn levels(&self) -> Vec<String> {
        let mut levels: Vec<String> = Vec::new();
        for i in 0..self.units.len() {
            let level = self.units.name(i).split_once(':').map_or("", |(l, _)| l);
            if !levels.iter().any(|l| l == level) {
                levels.push(level.to_string());
            }
        }
        levels
    }

    /// A scope named directly (`owner:ID`, `LEVEL:ID`, `user:ID` or `all`), as an
    /// administrator or a command line asks for it: owner and unit scopes carry no
    /// restrictions of their own (add them with [`Scope::hide`] and [`Scope::forbid`]); a
    /// user scope is [`scope_of_user`](Self::scope_of_user).
    ///
    /// # Errors
    /// [`Error::UnknownId`] naming the kind and id of an owner, unit or user that is not
    /// in the organisation.
    pub fn scope(&self, spec: &ScopeSpec) -> Result<Scope> {
        match spec {
            ScopeSpec::All => Ok(Scope::all()),
            ScopeSpec::Owner(id) => {
                if !self.has_user(id) {
                    return Err(Error::UnknownId {
                        kind: "owner".into(),
                        id: id.clone(),
                    });
                }
                Ok(Scope::of_owners("owner", id, [id.clone()]))
            }
            ScopeSpec::Unit { level, id } => {
                let u = self.units.get(&unit_key(level, id)).ok_or_else(|| {
                    // A misspelt level is named as such, with the levels there are.
                    let levels = self.levels();
                    if levels.iter().any(|l| l == level) {
                        Error::UnknownId {
                            kind: level.clone(),
                            id: id.clone(),
                        }
                    } else {
                        Error::UnknownId {
                            kind: format!("unit level (levels: owner, {})", levels.join(", ")),
                            id: level.clone(),
                        }
                    }
                })?;
                Ok(Scope::of_owners(level, id, self.users_under(u)))
            }
            ScopeSpec::User(id) => self.scope_of_user(id),
        }
    }

    /// The scope of a member of staff, by their role: the customers they own, those of
    /// the subtree of their unit at the role's level, or all; with the role's hidden
    /// columns and forbidden areas.
    ///
    /// # Errors
    /// [`Error::UnknownId`] for a user not in the organisation, a user without a role
    /// (kind `role of user`), or a role reaching a level that has no unit above the user
    /// (kind `LEVEL of user`).
    pub fn scope_of_user(&self, user: &str) -> Result<Scope> {
        let unknown = |kind: String| Error::UnknownId {
            kind,
            id: user.to_string(),
        };
        let i = self.users.get(user).ok_or_else(|| unknown("user".into()))? as usize;
        let role =
            &self.roles[self.user_role[i].ok_or_else(|| unknown("role of user".into()))? as usize];
        let scope = match &role.reach {
            Reach::All => Scope::all(),
            Reach::Own => Scope::of_owners("owner", user, [user.to_string()]),
            Reach::Level(level) => {
                let top = self.user_unit[i]
                    .and_then(|u| self.up_from(u).find(|&a| self.unit_parts(a).0 == level))
                    .ok_or_else(|| unknown(format!("{level} of user")))?;
                let (level, id) = self.unit_parts(top);
                Scope::of_owners(level, id, self.users_under(top))
            }
        };
        Ok(scope
            .for_user(user)
            .hide(role.hidden_columns)
            .forbid(role.forbidden_areas))
    }
}

/// Owners as a shared sorted set, as a [`Scope`] holds them.
pub(crate) type OwnerSet = Arc<BTreeSet<String>>;
