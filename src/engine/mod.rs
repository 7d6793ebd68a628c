//! acrm inside a query engine (feature `datafusion`): the per-customer summary as a
//! DataFusion aggregate function, scoring with a fitted model as scalar functions, and a
//! helper that runs summary → patterns in the engine and fits the model here. An edge
//! module, like `io`: it calls the analyses, nothing calls it.
//!
//! Functions registered by [`register`] (SQL names):
//!
//! | function | arguments | result |
//! |---|---|---|
//! | `acrm_summary(date, amount)` | `Date32`, `Float64` | a customer's state: `Struct{days: List<Int32>, spend: List<Decimal128(38, 0)>}` |
//! | `acrm_rfm(state, as_of)` | the state, `Date32` | `Struct{x: UInt32, t_x, T, mean_spend: Float64, t_x_days, T_days: Int32}` in the registered unit; null without a purchase on or before `as_of` |
//!
//! and by [`register_scores`]: `acrm_p_alive(x, t_x, T)`,
//! `acrm_expected_purchases(x, t_x, T)` (over the registered horizon) and
//! `acrm_clv(x, t_x, T, mean_spend)`, all `Float64`.
//!
//! The state is exact and its merge associative and commutative: the distinct purchase
//! days (`amount >= 0`, [`is_purchase`](crate::data::is_purchase)) with each day's spend as
//! a whole number of 2⁻⁴⁰ units ([`FixedSum`]). However the engine partitions the rows
//! and in whatever order it merges partial states, the result has the same bits as the
//! in-memory [`Summary`](crate::Summary) of the same rows.

#[cfg(feature = "ballista")]
pub mod ballista;
mod functions;

use std::marker::PhantomData;

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

pub use functions::{
    register, register_scores, rfm_udf, score_udf, summary_udaf, Score, ScoreKind,
};

use crate::data::ScopeTag;
use crate::error::{Error, Result};
use crate::numerics::{FitOptions, Fitted, FixedSum, MaximumLikelihood};
use crate::summary::{Compact, Pattern};
use crate::time::TimeUnit;

pub(crate) fn engine_error(e: impl std::fmt::Display) -> Error {
    Error::Engine {
        engine: "datafusion",
        message: e.to_string(),
    }
}

/// What [`fit_in_engine`] read and fitted.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(bound(serialize = "M: Serialize", deserialize = "M: Deserialize<'de>"))]
pub struct EngineFit<M, U: TimeUnit> {
    /// Rows of the table (all dates).
    pub rows: u64,
    /// Customers with a purchase on or before the calibration end.
    pub customers: u64,
    /// The patterns the engine counted, as the in-memory summary's
    /// [`compact`](crate::Summary::compact) gives them.
    pub patterns: Compact<U>,
    /// The model and its report.
    pub fitted: Fitted<M>,
    /// The engine's target partitions.
    pub partitions: usize,
    #[serde(skip)]
    unit: PhantomData<U>,
}

/// Runs summary → patterns in the engine over `table` (columns `customer_id`, `date`,
/// `amount`; `date` a date or ISO text, `amount` any number) and fits model `M` to the
/// patterns here: the same patterns, in the same order, as the in-memory summary's, so
/// the same model and report bit for bit. The context must have the functions of
/// [`register`] in unit `U`.
///
/// # Errors
/// [`Error::Engine`] for a failed query (an unknown table, a bad value: a null, a NaN or
/// an amount beyond ±10¹⁵); [`Error::EmptyInput`] when no customer purchased on or
/// before `calibration_end`; the fit's errors.
pub async fn fit_in_engine<M, U>(
    ctx: &SessionContext,
    table: &str,
    calibration_end: NaiveDate,
    options: &FitOptions,
) -> Result<EngineFit<M, U>>
where
    M: MaximumLikelihood<Row = Pattern>,
    U: TimeUnit,
{
    use datafusion::arrow::array::AsArray;
    use datafusion::arrow::datatypes::{Int32Type, Int64Type, UInt32Type};
    let table = quote_ident(table);
    let end = calibration_end.format("%Y-%m-%d");
    let count = ctx
        .sql(&format!("SELECT count(*) AS n FROM {table}"))
        .await
        .map_err(engine_error)?
        .collect()
        .await
        .map_err(engine_error)?;
    let rows = count
        .first()
        .map_or(0, |b| b.column(0).as_primitive::<Int64Type>().value(0)) as u64;
    // The second GROUP BY counts customers per integer-day pattern: exact.
    let sql = format!(
        "WITH s AS (\
           SELECT acrm_rfm(acrm_summary(CAST(\"date\" AS DATE), CAST(\"amount\" AS DOUBLE)), DATE '{end}') AS r \
           FROM {table} WHERE CAST(\"date\" AS DATE) <= DATE '{end}' GROUP BY \"customer_id\") \
         SELECT r['x'] AS x, r['t_x_days'] AS t_x, r['T_days'] AS t, CAST(count(*) AS BIGINT) AS n \
         FROM s WHERE r IS NOT NULL GROUP BY 1, 2, 3"
    );
    let batches = ctx
        .sql(&sql)
        .await
        .map_err(engine_error)?
        .collect()
        .await
        .map_err(engine_error)?;
    let mut keyed: Vec<((u32, i32, i32), u32)> = Vec::new();
    for b in &batches {
        let x = b.column(0).as_primitive::<UInt32Type>();
        let tx = b.column(1).as_primitive::<Int32Type>();
        let t = b.column(2).as_primitive::<Int32Type>();
        let n = b.column(3).as_primitive::<Int64Type>();
        for i in 0..b.num_rows() {
            let count = u32::try_from(n.value(i)).map_err(|_| {
                Error::option(
                    "patterns",
                    n.value(i),
                    "at most 2³² − 1 customers per pattern",
                )
            })?;
            keyed.push(((x.value(i), tx.value(i), t.value(i)), count));
        }
    }
    // The in-memory compact form's order: (x, t_x, T) in days.
    keyed.sort_unstable_by_key(|&(k, _)| k);
    let customers: u64 = keyed.iter().map(|&(_, n)| u64::from(n)).sum();
    if customers == 0 {
        return Err(Error::EmptyInput);
    }
    let patterns: Vec<Pattern> = keyed
        .into_iter()
        .map(|((x, tx, t), count)| Pattern {
            x,
            t_x: f64::from(tx) / U::DAYS,
            t: f64::from(t) / U::DAYS,
            count,
        })
        .collect();
    let scope = ScopeTag {
        kind: "all".into(),
        customers: customers as usize,
        ..ScopeTag::default()
    };
    let patterns = Compact::<U>::from_patterns(patterns, scope)?;
    let fitted = options.fit::<M>(&patterns)?;
    Ok(EngineFit {
        rows,
        customers,
        patterns,
        fitted,
        partitions: ctx.state().config().target_partitions(),
        unit: PhantomData,
    })
}

/// A table name as an SQL identifier (quoted unless plain lower-case).
fn quote_ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && !name.as_bytes()[0].is_ascii_digit();
    if plain {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// One customer's exact summary state: distinct purchase days, sorted, and each day's
/// spend in [`FixedSum`] units.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct DayState {
    pub days: Vec<i32>,
    pub spend: Vec<i128>,
}

impl DayState {
    /// Adds `units` of spend on `day` (rows mostly arrive in date order: appending is
    /// the common case).
    #[inline]
    pub fn add(&mut self, day: i32, units: i128) {
        match self.days.last() {
            None => self.push(day, units),
            Some(&last) if day > last => self.push(day, units),
            Some(&last) if day == last => {
                if let Some(s) = self.spend.last_mut() {
                    *s = s.wrapping_add(units);
                }
            }
            _ => match self.days.binary_search(&day) {
                Ok(i) => self.spend[i] = self.spend[i].wrapping_add(units),
                Err(i) => {
                    self.days.insert(i, day);
                    self.spend.insert(i, units);
                }
            },
        }
    }

    fn push(&mut self, day: i32, units: i128) {
        self.days.push(day);
        self.spend.push(units);
    }

    /// (x, t_x days, T days, mean repeat spend) as of day `as_of`, as the in-memory
    /// summary computes them; `None` without a purchase day on or before it.
    pub fn rfm(&self, as_of: i32) -> Option<(u32, i32, i32, f64)> {
        let n = self.days.partition_point(|&d| d <= as_of);
        if n == 0 {
            return None;
        }
        let first = self.days[0];
        let x = (n - 1) as u32;
        let repeat = self.spend[1..n]
            .iter()
            .fold(FixedSum::ZERO, |s, &u| s + FixedSum::from_raw(u));
        let mean = if x == 0 {
            0.0
        } else {
            repeat.value() / f64::from(x)
        };
        Some((x, self.days[n - 1] - first, as_of - first, mean))
    }

    pub fn heap_bytes(&self) -> usize {
        self.days.capacity() * 4 + self.spend.capacity() * 16
    }
}
