//! What a scope can withhold: columns of the data and areas of analysis.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A column a role can be denied.
///
/// `Cost` is the cost of goods in any form the data holds it (the log's cost column and
/// the products' unit costs); `Margin` is any margin or profit figure, whatever its cost
/// source (an assumed margin rate included). Reading cost data needs `Cost`, producing a
/// margin needs `Margin`: a role that may see neither gets neither, a role denied only
/// `Cost` may still see margins from an assumed rate, which reveal no cost data.
///
/// The customer, date and amount of a transaction cannot be hidden: every analysis needs
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    /// Cost of goods: the log's cost column and the products' unit costs.
    Cost,
    /// Margins and profits derived from revenue and costs.
    Margin,
    /// Quantity per transaction.
    Quantity,
    /// Product (and through it, category) per transaction, and the product table.
    Product,
    /// Sales channel per transaction and per customer.
    Channel,
    /// Region per transaction and per customer.
    Region,
    /// Order id per transaction.
    Order,
}

impl Column {
    /// Every column, in declaration order.
    pub const ALL: [Column; 7] = [
        Column::Cost,
        Column::Margin,
        Column::Quantity,
        Column::Product,
        Column::Channel,
        Column::Region,
        Column::Order,
    ];

    /// The column's name (as in `--hide-columns`).
    pub const fn name(self) -> &'static str {
        match self {
            Column::Cost => "cost",
            Column::Margin => "margin",
            Column::Quantity => "quantity",
            Column::Product => "product",
            Column::Channel => "channel",
            Column::Region => "region",
            Column::Order => "order",
        }
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// An area of analysis (the 7P, plus identity resolution) a role can be denied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Area {
    /// RFM, tiers, clusters, habits, risk flags.
    Profiling,
    /// Purchase models, survival, cohorts, churn.
    Persistency,
    /// Profit, cost to serve, spend models, lifetime value.
    Profitability,
    /// Sales cubes and their changes.
    Performance,
    /// Forecasts, pipeline, lead scores.
    Prospecting,
    /// Baskets, association rules, cross-sell, prices.
    Product,
    /// Campaigns: response, uplift, attribution.
    Promotion,
    /// Identity resolution.
    Identity,
}

impl Area {
    /// Every area, in declaration order.
    pub const ALL: [Area; 8] = [
        Area::Profiling,
        Area::Persistency,
        Area::Profitability,
        Area::Performance,
        Area::Prospecting,
        Area::Product,
        Area::Promotion,
        Area::Identity,
    ];

    /// The area's name.
    pub const fn name(self) -> &'static str {
        match self {
            Area::Profiling => "profiling",
            Area::Persistency => "persistency",
            Area::Profitability => "profitability",
            Area::Performance => "performance",
            Area::Prospecting => "prospecting",
            Area::Product => "product",
            Area::Promotion => "promotion",
            Area::Identity => "identity",
        }
    }

    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

macro_rules! named {
    ($t:ident, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }

        impl FromStr for $t {
            type Err = Error;
            fn from_str(s: &str) -> Result<$t> {
                let s = s.trim();
                $t::ALL
                    .into_iter()
                    .find(|c| c.name().eq_ignore_ascii_case(s))
                    .ok_or_else(|| {
                        let names: Vec<&str> = $t::ALL.iter().map(|c| c.name()).collect();
                        Error::option(
                            $what,
                            format!("{s:?}"),
                            format!("one of {}", names.join(", ")),
                        )
                    })
            }
        }

        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<$t, D::Error> {
                let s = String::deserialize(d)?;
                s.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

named!(Column, "column");
named!(Area, "area");

macro_rules! set {
    ($(#[$doc:meta])* $set:ident of $t:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
        pub struct $set(u16);

        impl $set {
            /// The empty set.
            pub const fn new() -> Self {
                $set(0)
            }
            /// Whether `x` is in the set.
            pub const fn contains(self, x: $t) -> bool {
                self.0 & x.bit() != 0
            }
            /// Adds `x`.
            pub fn insert(&mut self, x: $t) {
                self.0 |= x.bit();
            }
            /// The union of two sets.
            pub const fn union(self, other: $set) -> $set {
                $set(self.0 | other.0)
            }
            /// Whether the set is empty.
            pub const fn is_empty(self) -> bool {
                self.0 == 0
            }
            /// The members, in declaration order.
            pub fn iter(self) -> impl Iterator<Item = $t> {
                $t::ALL.into_iter().filter(move |&x| self.contains(x))
            }
            /// Parses a comma-separated list of names (empty: the empty set).
            ///
            /// # Errors
            /// [`Error::InvalidOption`] naming a name that is not one.
            pub fn parse_list(s: &str) -> Result<$set> {
                s.split(|c| c == ',' || c == ';')
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::parse::<$t>)
                    .collect()
            }
        }

        impl FromIterator<$t> for $set {
            fn from_iter<I: IntoIterator<Item = $t>>(iter: I) -> Self {
                let mut s = $set::new();
                for x in iter {
                    s.insert(x);
                }
                s
            }
        }

        impl fmt::Display for $set {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let names: Vec<&str> = self.iter().map(|x| x.name()).collect();
                f.write_str(&names.join(","))
            }
        }

        impl Serialize for $set {
            fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
                s.collect_seq(self.iter())
            }
        }

        impl<'de> Deserialize<'de> for $set {
            fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<$set, D::Error> {
                Ok(Vec::<$t>::deserialize(d)?.into_iter().collect())
            }
        }
    };
}

set!(
    /// A set of [`Column`]s (serialised as a list of names).
    ColumnSet of Column
);
set!(
    /// A set of [`Area`]s (serialised as a list of names).
    AreaSet of Area
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_sets_serialise_as_lists() {
        for c in Column::ALL {
            assert_eq!(c.name().parse::<Column>().unwrap(), c);
        }
        for a in Area::ALL {
            assert_eq!(a.to_string().parse::<Area>().unwrap(), a);
        }
        let set = ColumnSet::parse_list("cost, margin").unwrap();
        assert!(set.contains(Column::Cost) && set.contains(Column::Margin));
        assert!(!set.contains(Column::Product));
        assert_eq!(serde_json::to_string(&set).unwrap(), r#"["cost","margin"]"#);
        let back: ColumnSet = serde_json::from_str(r#"["margin","cost"]"#).unwrap();
        assert_eq!(back, set);
        match "price".parse::<Column>() {
            Err(Error::InvalidOption { option, value, .. }) => {
                assert_eq!((option, value.as_str()), ("column", "\"price\""));
            }
            other => panic!("{other:?}"),
        }
        assert!(ColumnSet::parse_list("").unwrap().is_empty());
    }
}
