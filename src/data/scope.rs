//! Scopes: which customers an analysis may read, which columns it may not see and which
//! areas it may not run, and the tag a result carries to say so.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::access::{Area, AreaSet, Column, ColumnSet};
use super::org::OwnerSet;
use crate::error::{Error, Result};

/// A scope as named on a command line or in a request: `owner:ID`, `LEVEL:ID` (a unit:
/// `team:ID`, `branch:ID`, ...), `user:ID` (the scope of a member of staff by role) or
/// `all`. [`Organisation::scope`](super::Organisation::scope) resolves it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScopeSpec {
    /// Every customer.
    All,
    /// The customers of one owner.
    Owner(String),
    /// The customers of everyone in a unit's subtree.
    Unit {
        /// The unit's level (`team`, `branch`, ...).
        level: String,
        /// The unit's id.
        id: String,
    },
    /// What a member of staff may see, by their role.
    User(String),
}

impl FromStr for ScopeSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<ScopeSpec> {
        let s = s.trim();
        if s == "all" {
            return Ok(ScopeSpec::All);
        }
        match s.split_once(':') {
            Some((kind, id)) if !kind.trim().is_empty() && !id.trim().is_empty() => {
                let id = id.trim().to_string();
                Ok(match kind.trim() {
                    "owner" => ScopeSpec::Owner(id),
                    "user" => ScopeSpec::User(id),
                    level => ScopeSpec::Unit {
                        level: level.to_string(),
                        id,
                    },
                })
            }
            _ => Err(Error::option(
                "scope",
                format!("{s:?}"),
                "owner:ID, team:ID, branch:ID (any unit level), user:ID or all",
            )),
        }
    }
}

/// A resolved scope: the owners whose customers it reaches (or everyone), the date
/// ownership is read at, and the columns and areas it withholds.
///
/// Restrictions only grow: [`hide`](Self::hide) and [`forbid`](Self::forbid) add to them
/// and nothing removes them, so a scope handed to an analyst cannot be widened by them.
/// A [`Dataset`](super::Dataset) turns a scope into a [`View`](super::View), the only way
/// analyses read data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Scope {
    kind: String,
    id: Option<String>,
    user: Option<String>,
    owners: Option<OwnerSet>,
    as_of: Option<NaiveDate>,
    hidden: ColumnSet,
    forbidden: AreaSet,
}

impl Scope {
    /// Every customer, nothing withheld.
    pub fn all() -> Scope {
        Scope {
            kind: "all".into(),
            id: None,
            user: None,
            owners: None,
            as_of: None,
            hidden: ColumnSet::new(),
            forbidden: AreaSet::new(),
        }
    }

    /// The customers of the given owners, labelled `kind:id` (for example a scope a
    /// service assembles itself).
    pub fn of_owners<S: Into<String>>(
        kind: &str,
        id: &str,
        owners: impl IntoIterator<Item = S>,
    ) -> Scope {
        let set: BTreeSet<String> = owners.into_iter().map(Into::into).collect();
        Scope {
            kind: kind.to_string(),
            id: Some(id.to_string()),
            owners: Some(Arc::new(set)),
            ..Scope::all()
        }
    }

    /// Reads ownership as of `date` (inclusive): a customer belongs to the owner whose
    /// assignment was the latest on or before it. Without a date, the latest assignment
    /// of each customer counts.
    pub fn as_of(mut self, date: NaiveDate) -> Scope {
        self.as_of = Some(date);
        self
    }

    /// Hides more columns.
    pub fn hide(mut self, columns: ColumnSet) -> Scope {
        self.hidden = self.hidden.union(columns);
        self
    }

    /// Forbids more areas.
    pub fn forbid(mut self, areas: AreaSet) -> Scope {
        self.forbidden = self.forbidden.union(areas);
        self
    }

    pub(crate) fn for_user(mut self, user: &str) -> Scope {
        self.user = Some(user.to_string());
        self
    }

    /// `owner`, a unit level, or `all`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The owner or unit id (`None` for `all`).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// `kind:id`, or `all`.
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("{}:{id}", self.kind),
            None => self.kind.clone(),
        }
    }

    /// The owners reached, sorted (`None`: every customer, owned or not).
    pub fn owners(&self) -> Option<&BTreeSet<String>> {
        self.owners.as_deref()
    }

    /// The date ownership is read at.
    pub fn date(&self) -> Option<NaiveDate> {
        self.as_of
    }

    /// The hidden columns.
    pub fn hidden(&self) -> ColumnSet {
        self.hidden
    }

    /// The forbidden areas.
    pub fn forbidden(&self) -> AreaSet {
        self.forbidden
    }

    /// The tag of a view of `customers` customers under this scope.
    pub(crate) fn tag(&self, customers: usize) -> ScopeTag {
        ScopeTag {
            kind: self.kind.clone(),
            id: self.id.clone(),
            customers,
            as_of: self.as_of,
            user: self.user.clone(),
            hidden_columns: self.hidden,
            forbidden_areas: self.forbidden,
        }
    }
}

/// What a result says about the scope it was computed under: which customers (kind, id
/// and how many), as of when, for whom, and what was withheld. Every per-customer table
/// and summary carries one, so a salesperson's figures cannot pass for the company's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeTag {
    /// `owner`, a unit level (`team`, `branch`, ...), `all`, or `merged` for the union
    /// of results from several scopes.
    pub kind: String,
    /// The owner or unit id (`None` for `all`).
    pub id: Option<String>,
    /// Customers in the view the result was read from.
    pub customers: usize,
    /// The date ownership was read at.
    pub as_of: Option<NaiveDate>,
    /// The member of staff whose role set the scope, when one did.
    pub user: Option<String>,
    /// Columns the scope hides.
    pub hidden_columns: ColumnSet,
    /// Areas the scope forbids.
    pub forbidden_areas: AreaSet,
}

impl ScopeTag {
    /// `kind:id`, or the kind alone.
    pub fn label(&self) -> String {
        match &self.id {
            Some(id) => format!("{}:{id}", self.kind),
            None => self.kind.clone(),
        }
    }

    /// Whether the tag covers the whole base with nothing withheld.
    pub fn is_all(&self) -> bool {
        self.kind == "all" && self.hidden_columns.is_empty() && self.forbidden_areas.is_empty()
    }

    /// An error unless `area` may be run under this scope.
    ///
    /// # Errors
    /// [`Error::ForbiddenArea`] naming the area and the scope.
    pub fn require(&self, area: Area) -> Result<()> {
        if self.forbidden_areas.contains(area) {
            Err(Error::ForbiddenArea {
                area,
                scope: self.label(),
            })
        } else {
            Ok(())
        }
    }

    /// An error if `column` is hidden under this scope.
    ///
    /// # Errors
    /// [`Error::HiddenColumn`] naming the column and the scope.
    pub fn reveal(&self, column: Column) -> Result<()> {
        if self.hidden_columns.contains(column) {
            Err(Error::HiddenColumn {
                column,
                scope: self.label(),
            })
        } else {
            Ok(())
        }
    }

    /// The tag of the union of results under `self` and `other` (disjoint customers):
    /// the same tag when both are, otherwise `merged`, with both labels as its id, and
    /// every restriction of either.
    pub(crate) fn merge(&self, other: &ScopeTag) -> ScopeTag {
        if self.kind == other.kind && self.id == other.id && self.as_of == other.as_of {
            return ScopeTag {
                customers: self.customers.max(other.customers),
                hidden_columns: self.hidden_columns.union(other.hidden_columns),
                forbidden_areas: self.forbidden_areas.union(other.forbidden_areas),
                ..self.clone()
            };
        }
        ScopeTag {
            kind: "merged".into(),
            id: Some(format!("{} + {}", self.label(), other.label())),
            customers: self.customers + other.customers,
            as_of: if self.as_of == other.as_of {
                self.as_of
            } else {
                None
            },
            user: if self.user == other.user {
                self.user.clone()
            } else {
                None
            },
            hidden_columns: self.hidden_columns.union(other.hidden_columns),
            forbidden_areas: self.forbidden_areas.union(other.forbidden_areas),
        }
    }
}

impl fmt::Display for ScopeTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({} customers)", self.label(), self.customers)
    }
}

impl Default for ScopeTag {
    /// The tag of data that never went through a view (read from a summary file, built
    /// by hand): `all`, with the customer count unknown (0).
    fn default() -> Self {
        Scope::all().tag(0)
    }
}
