//! Spend and incremental outcome of past campaigns, by campaign type or channel: the
//! input of the response curves and the budget allocation of promotion.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem, Result};

/// One past campaign: the group it belongs to (a campaign type or channel), what was
/// spent on it, and the incremental outcome it brought (incremental margin, customers,
/// orders: whatever the allocation is to maximise, in one unit across groups).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendRecord {
    /// The campaign type or channel (non-empty).
    pub group: String,
    /// What was spent (finite, ≥ 0).
    pub spend: f64,
    /// The incremental outcome (finite; may be negative when measured with noise).
    pub outcome: f64,
}

/// The observations of one group, in the order given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendGroup {
    /// The group's name.
    pub name: String,
    /// Spend of each campaign.
    pub spend: Vec<f64>,
    /// Incremental outcome of each campaign.
    pub outcome: Vec<f64>,
}

/// Validated spend records, grouped, the groups in the order of their names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpendHistory {
    groups: Vec<SpendGroup>,
}

impl SpendHistory {
    /// Groups `records` by their group.
    ///
    /// # Errors
    /// [`Error::EmptyInput`] without records; [`Error::Row`] naming the 1-based position
    /// of the first record with an empty group ([`Problem::EmptyValue`]), a spend or
    /// outcome that is not finite ([`Problem::NonFinite`]), or a negative spend
    /// ([`Problem::Negative`]).
    pub fn new(records: impl IntoIterator<Item = SpendRecord>) -> Result<SpendHistory> {
        let mut groups: BTreeMap<String, SpendGroup> = BTreeMap::new();
        let mut any = false;
        for (i, r) in records.into_iter().enumerate() {
            any = true;
            let line = i as u64 + 1;
            if r.group.trim().is_empty() {
                return Err(Error::row(line, "group", &r.group, Problem::EmptyValue));
            }
            if !r.spend.is_finite() {
                return Err(Error::row(
                    line,
                    "spend",
                    &r.spend.to_string(),
                    Problem::NonFinite,
                ));
            }
            if r.spend < 0.0 {
                return Err(Error::row(
                    line,
                    "spend",
                    &r.spend.to_string(),
                    Problem::Negative,
                ));
            }
            if !r.outcome.is_finite() {
                return Err(Error::row(
                    line,
                    "outcome",
                    &r.outcome.to_string(),
                    Problem::NonFinite,
                ));
            }
            let g = groups.entry(r.group.clone()).or_insert_with(|| SpendGroup {
                name: r.group,
                spend: Vec::new(),
                outcome: Vec::new(),
            });
            g.spend.push(r.spend);
            g.outcome.push(r.outcome);
        }
        if !any {
            return Err(Error::EmptyInput);
        }
        Ok(SpendHistory {
            groups: groups.into_values().collect(),
        })
    }

    /// The groups, by name.
    pub fn groups(&self) -> &[SpendGroup] {
        &self.groups
    }

    /// The group called `name`.
    pub fn group(&self, name: &str) -> Option<&SpendGroup> {
        self.groups.iter().find(|g| g.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(group: &str, spend: f64, outcome: f64) -> SpendRecord {
        SpendRecord {
            group: group.into(),
            spend,
            outcome,
        }
    }

    #[test]
    fn groups_by_name_and_names_bad_records() {
        let h = SpendHistory::new([
            rec("tv", 1.0, 2.0),
            rec("mail", 3.0, -1.0),
            rec("tv", 5.0, 6.0),
        ])
        .unwrap();
        let names: Vec<&str> = h.groups().iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["mail", "tv"]);
        assert_eq!(h.group("tv").unwrap().spend, [1.0, 5.0]);
        let err = |r: SpendRecord| match SpendHistory::new([rec("a", 1.0, 1.0), r]).unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.problem),
            e => panic!("{e}"),
        };
        assert_eq!(
            err(rec("", 1.0, 1.0)),
            (2, "group".into(), Problem::EmptyValue)
        );
        assert_eq!(
            err(rec("a", -1.0, 1.0)),
            (2, "spend".into(), Problem::Negative)
        );
        assert_eq!(
            err(rec("a", f64::NAN, 1.0)),
            (2, "spend".into(), Problem::NonFinite)
        );
        assert_eq!(
            err(rec("a", 1.0, f64::INFINITY)),
            (2, "outcome".into(), Problem::NonFinite)
        );
        assert_eq!(SpendHistory::new([]).unwrap_err(), Error::EmptyInput);
    }
}
