//! External string ids interned to dense `u32` indices.

use std::fmt;
use std::hash::BuildHasher;

use hashbrown::HashTable;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! index_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize)]
        #[repr(transparent)]
        #[serde(transparent)]
        pub struct $name(pub u32);

        impl $name {
            /// The index as a `usize`, for indexing per-entity vectors.
            #[inline]
            pub const fn get(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

index_type!(
    /// Dense index of a customer within a [`Dataset`](crate::data::Dataset).
    CustomerIdx
);
index_type!(
    /// Dense index of a product.
    ProductIdx
);
index_type!(
    /// Dense index of a product category.
    CategoryIdx
);
index_type!(
    /// Dense index of a sales channel.
    ChannelIdx
);
index_type!(
    /// Dense index of a region.
    RegionIdx
);
index_type!(
    /// Dense index of an order id.
    OrderIdx
);

/// Maps strings to dense indices `0..len` in order of first appearance.
///
/// Strings live in one buffer and the hash table holds only indices, so an interner of a
/// million ids is two allocations, not a million.
#[derive(Clone, Default)]
pub struct Interner {
    buf: String,
    /// `ends[i]` is the end of string `i` in `buf`; string `i` starts at `ends[i - 1]`.
    ends: Vec<usize>,
    /// The hash of each string: growing the table rehashes from these instead of
    /// reading and hashing every string again (for millions of order ids, most of the
    /// cost of interning them).
    hashes: Vec<u64>,
    table: HashTable<u32>,
    hasher: foldhash::fast::FixedState,
}

impl Interner {
    /// An empty interner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether no string has been interned.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The string with index `i`.
    ///
    /// # Panics
    /// If `i >= self.len()` (a programmer error: indices come from this interner).
    pub fn name(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.buf[start..self.ends[i]]
    }

    /// The index of `s`, if interned.
    pub fn get(&self, s: &str) -> Option<u32> {
        let h = self.hasher.hash_one(s);
        self.table.find(h, |&i| self.name(i as usize) == s).copied()
    }

    /// The index of `s`, interning it if new.
    ///
    /// # Panics
    /// Past `u32::MAX` distinct strings (over four billion; the dense indices are `u32`).
    pub fn intern(&mut self, s: &str) -> u32 {
        let h = self.hasher.hash_one(s);
        let Self {
            buf,
            ends,
            hashes,
            table,
            hasher: _,
        } = self;
        let name = |i: u32| {
            let i = i as usize;
            let start = if i == 0 { 0 } else { ends[i - 1] };
            &buf[start..ends[i]]
        };
        if let Some(&i) = table.find(h, |&i| name(i) == s) {
            return i;
        }
        let i = u32::try_from(ends.len()).expect("more than u32::MAX distinct ids");
        buf.push_str(s);
        ends.push(buf.len());
        hashes.push(h);
        let hashes = &*hashes;
        table.insert_unique(h, i, |&j| hashes[j as usize]);
        i
    }

    /// Iterates over the strings in index order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.len()).map(|i| self.name(i))
    }
}

impl fmt::Debug for Interner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter().take(20)).finish()?;
        if self.len() > 20 {
            write!(f, " (+{} more)", self.len() - 20)?;
        }
        Ok(())
    }
}

impl PartialEq for Interner {
    fn eq(&self, other: &Self) -> bool {
        self.ends == other.ends && self.buf == other.buf
    }
}

impl<S: AsRef<str>> FromIterator<S> for Interner {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut out = Interner::new();
        for s in iter {
            out.intern(s.as_ref());
        }
        out
    }
}

impl Serialize for Interner {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Interner {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        let out: Interner = names.iter().collect();
        if out.len() != names.len() {
            return Err(serde::de::Error::custom("duplicate id in interner"));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interns_in_order_of_first_appearance() {
        let mut ids = Interner::new();
        assert_eq!(ids.intern("b"), 0);
        assert_eq!(ids.intern("a"), 1);
        assert_eq!(ids.intern("b"), 0);
        assert_eq!(ids.intern(""), 2);
        assert_eq!(ids.len(), 3);
        assert_eq!(ids.name(1), "a");
        assert_eq!(ids.get("a"), Some(1));
        assert_eq!(ids.get("c"), None);
        let json = serde_json::to_string(&ids).unwrap();
        assert_eq!(json, r#"["b","a",""]"#);
        let back: Interner = serde_json::from_str(&json).unwrap();
        assert_eq!(back, ids);
        assert_eq!(back.get(""), Some(2));
    }

    #[test]
    fn many_ids() {
        let ids: Interner = (0..100_000).map(|i| format!("c{i}")).collect();
        assert_eq!(ids.len(), 100_000);
        assert_eq!(ids.get("c99999"), Some(99_999));
        assert_eq!(ids.name(12_345), "c12345");
    }
}
