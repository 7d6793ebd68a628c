//! Per-customer summary tables (x, t_x, T and mean spend per customer) from CSV: the
//! input of model fitting when the summary was made elsewhere (another tool, a database).

use std::io::Read;

use std::hash::BuildHasher;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Problem, Result, RowError};
use crate::summary::Rfm;

/// A summary table read from CSV: customer ids and their records, index-aligned.
///
/// Ids live in one buffer (a million ids are two allocations, not a million strings);
/// read them with [`id`](Self::id) or [`ids`](Self::ids).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SummaryTable {
    id_text: String,
    /// End of id i in `id_text`.
    id_ends: Vec<usize>,
    /// Records, in file order.
    pub records: Vec<Rfm>,
    /// Whether the file has a mean-spend column.
    pub has_spend: bool,
}

impl SummaryTable {
    /// Id of record `i` (the row number, from 1, when the file has no id column).
    ///
    /// # Panics
    /// If `i >= self.records.len()`.
    pub fn id(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.id_ends[i - 1] };
        &self.id_text[start..self.id_ends[i]]
    }

    /// Ids in record order.
    pub fn ids(&self) -> impl ExactSizeIterator<Item = &str> + '_ {
        (0..self.id_ends.len()).map(|i| self.id(i))
    }

    /// The first record whose id repeats an earlier one, with that earlier record.
    fn first_repeat(&self) -> Option<(usize, usize)> {
        // Hash in parallel, sort by hash, compare neighbours: a hash table would rehash a
        // million strings as it grows, several times slower than reading them.
        let hasher = foldhash::fast::FixedState::default();
        let mut keyed: Vec<(u64, u32)> = (0..self.records.len())
            .into_par_iter()
            .map(|i| (hasher.hash_one(self.id(i)), i as u32))
            .collect();
        keyed.par_sort_unstable();
        let mut first: Option<(usize, usize)> = None;
        for run in keyed.chunk_by(|a, b| a.0 == b.0).filter(|r| r.len() > 1) {
            for (k, &(_, j)) in run.iter().enumerate().skip(1) {
                let j = j as usize;
                if let Some(&(_, i)) = run[..k]
                    .iter()
                    .find(|(_, i)| self.id(*i as usize) == self.id(j))
                {
                    if first.map_or(true, |(_, fj)| j < fj) {
                        first = Some((i as usize, j));
                    }
                }
            }
        }
        first
    }
}

/// Accepted header names: ours first, then lifetimes' (`summary_data_from_transaction_data`).
const X: [&str; 2] = ["x", "frequency"];
const TX: [&str; 2] = ["t_x", "recency"];
const T: [&str; 1] = ["T"];
const SPEND: [&str; 2] = ["zbar", "monetary_value"];

/// Reads a header CSV with columns `ID,x,t_x,T[,zbar]` (or lifetimes' names
/// `frequency,recency,T,monetary_value`; the id column is `ID`, `id`, `customer_id`, or
/// else the first column that is none of the others, and optional).
///
/// # Errors
/// [`Error::MissingColumn`] for a missing x, t_x or T column; [`Error::Row`] naming the
/// line, column and value of a field that is not a number or breaks
/// 0 ≤ t_x ≤ T, T > 0, t_x = 0 when x = 0 (x must be a whole number, spend finite and 0
/// when x = 0), or repeats an id of an earlier line; [`Error::EmptyInput`] without data
/// rows; [`Error::Io`].
pub fn read_summary_csv<R: Read>(reader: R) -> Result<SummaryTable> {
    let (mut rdr, header) = super::table::headed_reader(reader)?;
    let find = |names: &[&str]| header.iter().position(|h| names.contains(&h.as_str()));
    let need = |names: &[&str]| {
        find(names).ok_or_else(|| Error::MissingColumn {
            column: names.join(" or "),
            available: header.clone(),
        })
    };
    let (cx, ctx, ct) = (need(&X)?, need(&TX)?, need(&T)?);
    let cs = find(&SPEND);
    let cid = find(&["ID", "id", "customer_id"]).or_else(|| {
        (0..header.len()).find(|&i| ![Some(cx), Some(ctx), Some(ct), cs].contains(&Some(i)))
    });
    let (mut id_text, mut id_ends, mut records) = (String::new(), Vec::new(), Vec::new());
    let mut rec = csv::StringRecord::new();
    let mut line = 1u64;
    while rdr.read_record(&mut rec)? {
        line += 1;
        let row_error = |col: usize, problem: Problem| {
            Error::Row(RowError {
                line,
                field: header[col].clone(),
                value: rec.get(col).unwrap_or("").chars().take(200).collect(),
                problem,
            })
        };
        let num = |col: usize| -> Result<f64> {
            let s = rec
                .get(col)
                .ok_or_else(|| row_error(col, Problem::MissingField))?
                .trim();
            let v: f64 = s.parse().map_err(|_| row_error(col, Problem::BadNumber))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(row_error(col, Problem::NonFinite))
            }
        };
        let xv = num(cx)?;
        // Counts arrive as floats from some tools ("2.0"): whole numbers are accepted.
        if !(xv >= 0.0 && xv.fract() == 0.0 && xv <= f64::from(u32::MAX)) {
            return Err(row_error(cx, Problem::OutOfRange));
        }
        let (t_x, t) = (num(ctx)?, num(ct)?);
        let spend = match cs {
            Some(c) => num(c)?,
            None => 0.0,
        };
        let r = Rfm::new(xv as u32, t_x, t, spend).map_err(|e| {
            let col = match &e {
                Error::InvalidOption { option: "T", .. } => ct,
                Error::InvalidOption {
                    option: "mean_spend",
                    ..
                } => cs.unwrap_or(cx),
                _ => ctx,
            };
            row_error(col, Problem::OutOfRange)
        })?;
        match cid {
            Some(c) => id_text.push_str(rec.get(c).unwrap_or("").trim()),
            None => id_text.push_str(&(line - 1).to_string()),
        }
        id_ends.push(id_text.len());
        records.push(r);
    }
    if records.is_empty() {
        return Err(Error::EmptyInput);
    }
    let table = SummaryTable {
        id_text,
        id_ends,
        records,
        has_spend: cs.is_some(),
    };
    if let (Some(c), Some((_, j))) = (cid, table.first_repeat()) {
        // A customer listed twice would be counted twice.
        return Err(Error::Row(RowError {
            line: j as u64 + 2,
            field: header[c].clone(),
            value: table.id(j).chars().take(200).collect(),
            problem: Problem::DuplicateId,
        }));
    }
    Ok(table)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_header_styles_and_names_bad_fields() {
        let ours =
            read_summary_csv("ID,x,t_x,T,zbar\na,2,3.5,10,20.5\nb,0,0,4,0\n".as_bytes()).unwrap();
        assert_eq!(ours.ids().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(ours.records[0], Rfm::new(2, 3.5, 10.0, 20.5).unwrap());
        assert!(ours.has_spend);
        let lt = read_summary_csv(
            "customer_id,frequency,recency,T,monetary_value\n7,1.0,2.0,3.0,9.5\n".as_bytes(),
        )
        .unwrap();
        assert_eq!((lt.id(0), lt.records[0].x), ("7", 1));
        let bare = read_summary_csv("x,t_x,T\n1,1,2\n".as_bytes()).unwrap();
        assert_eq!(bare.id(0), "1");
        assert!(!bare.has_spend);

        let err = |text: &str| match read_summary_csv(text.as_bytes()).unwrap_err() {
            Error::Row(r) => (r.line, r.field, r.value, r.problem),
            e => panic!("{e}"),
        };
        assert_eq!(
            err("ID,x,t_x,T\na,1,1,2\nb,2,1,4\nc,0,0,3\nb,0,0,5\na,0,0,1\n"),
            (5, "ID".into(), "b".into(), Problem::DuplicateId)
        );
        assert_eq!(
            err("ID,x,t_x,T\na,1,1,2\nb,2,5,4\n"),
            (3, "t_x".into(), "5".into(), Problem::OutOfRange)
        );
        assert_eq!(
            err("ID,x,t_x,T\na,1.5,1,2\n"),
            (2, "x".into(), "1.5".into(), Problem::OutOfRange)
        );
        assert_eq!(
            err("ID,x,t_x,T\na,1,oops,2\n"),
            (2, "t_x".into(), "oops".into(), Problem::BadNumber)
        );
        assert!(matches!(
            read_summary_csv("ID,x,T\n".as_bytes()),
            Err(Error::MissingColumn { .. })
        ));
        assert!(matches!(
            read_summary_csv("ID,x,t_x,T\n".as_bytes()),
            Err(Error::EmptyInput)
        ));
    }
}
