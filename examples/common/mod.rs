//! What the examples share: how they write to stdout and end, the access-scope arguments
//! and how they become the scope every analysis reads the data under, and the check that
//! a fit converged before its figures are printed.
//!
//! **Output.** Every example writes to stdout through [`outln!`] and [`out!`]: when the
//! reader goes away (`... | head -1`) the example ends quietly with status 0; any other
//! write error ends it with `error: writing to stdout: ...` and status 1.
//!
//! **Exit statuses.** 0 success; 1 bad input or a failed computation (the message names
//! the file when it is about one); 2 bad usage: an argument the example rejects itself,
//! as clap does for its own. Every error line starts with `error: `.
//!
//! **Scopes.**
//! ```text
//! --customers CUSTOMERS.csv --scope owner:ID|team:ID|branch:ID|all [--as-of-scope DATE]
//! [--hide-columns cost,margin]
//! ```
//! CUSTOMERS.csv has the header `customer_id,owner,team,branch` (and optionally `from`,
//! the date an owner takes the customer over). Its ids are read as the log's reader reads
//! them (for CDNOW, `00001` and `1` are one customer).

// Each example uses its own subset of these helpers.
#![allow(dead_code)]

use std::fmt::{self, Display};
use std::io::{ErrorKind, Write};
use std::process::ExitCode;

use acrm::data::{ColumnSet, Dataset, Scope, ScopeSpec, View};
use acrm::io::AssignmentCsv;
use chrono::NaiveDate;
use serde_json::{json, Value};

/// Writes formatted text to stdout. A closed stdout ends the process quietly with status
/// 0 (the reader has what it wanted); any other write error ends it with a message and
/// status 1. Use it through [`out!`] and [`outln!`].
pub fn write_out(args: fmt::Arguments<'_>) {
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(1);
    }
}

/// `print!` through [`write_out`]: a closed stdout ends the example quietly.
#[allow(unused_macros)]
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::common::write_out(format_args!($($arg)*))
    };
}

/// `println!` through [`write_out`]: a closed stdout ends the example quietly.
#[allow(unused_macros)]
macro_rules! outln {
    () => {
        $crate::common::write_out(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::common::write_out(format_args!("{}\n", format_args!($($arg)*)))
    };
}

// Each example uses one or both.
#[allow(unused_imports)]
pub(crate) use {out, outln};

/// Why an example stops early: a usage error (status 2, as clap's own) or a failure of
/// the input or the computation (status 1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The command line is wrong: an unknown value, flags that do not go together.
    Usage(String),
    /// The input is bad or the computation failed; the message names the file when it is
    /// about one.
    Failed(String),
}

impl Stop {
    /// A usage error.
    pub fn usage(msg: impl Display) -> Stop {
        Stop::Usage(msg.to_string())
    }

    /// Prints `error: MESSAGE` on stderr and gives the exit status: 2 for usage, 1 for
    /// a failure.
    pub fn report(self) -> ExitCode {
        match self {
            Stop::Usage(m) => usage(m),
            Stop::Failed(m) => failure(m),
        }
    }
}

impl Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Usage(m) | Stop::Failed(m) => f.write_str(m),
        }
    }
}

impl From<String> for Stop {
    fn from(m: String) -> Stop {
        Stop::Failed(m)
    }
}

impl From<&str> for Stop {
    fn from(m: &str) -> Stop {
        Stop::Failed(m.to_string())
    }
}

/// Prints `error: MESSAGE` and gives status 2, for an argument the example rejects.
pub fn usage(msg: impl Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// Prints `error: MESSAGE` and gives status 1, for bad input or a failed computation.
pub fn failure(msg: impl Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::FAILURE
}

/// The exit status of a run: 0, or that of why it stopped (after printing its message).
pub fn exit(result: Result<(), Stop>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(stop) => stop.report(),
    }
}

/// A `YYYY-MM-DD` date argument.
pub fn date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|e| format!("{s:?} is not a date YYYY-MM-DD: {e}"))
}

/// The access-scope arguments.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ScopeArgs {
    /// Customer ownership: `customer_id,owner,team,branch[,from]` (owner, team and branch
    /// are ids; a branch holds teams, a team owners; `from` dates a handover)
    #[arg(long, value_name = "CUSTOMERS.csv")]
    pub customers: Option<String>,
    /// The customers read into the analysis: one owner's, a team's, a branch's, or all
    #[arg(long, value_name = "owner:ID|team:ID|branch:ID|all")]
    pub scope: Option<String>,
    /// Read ownership as of this date (default: each customer's latest owner)
    #[arg(long = "as-of-scope", value_name = "DATE", value_parser = date)]
    pub as_of_scope: Option<NaiveDate>,
    /// Columns hidden for the run (cost, margin, quantity, product, channel, region,
    /// order): any output that needs one is an error naming it
    #[arg(long = "hide-columns", value_name = "COLUMNS")]
    pub hide_columns: Option<String>,
}

impl ScopeArgs {
    /// Whether any scope argument was given (the JSON then says which scope applied).
    pub fn given(&self) -> bool {
        self.customers.is_some()
            || self.scope.is_some()
            || self.as_of_scope.is_some()
            || self.hide_columns.is_some()
    }

    /// Attaches the ownership table to `data` (ids read as numbers when the log's ids
    /// are) and resolves the scope.
    ///
    /// A malformed `--scope` or `--hide-columns`, or `--scope` without `--customers`, is
    /// a usage error; a bad CUSTOMERS.csv, or a scope naming an id it does not hold, a
    /// failure naming the file.
    pub fn resolve(&self, data: &mut Dataset, numeric_ids: bool) -> Result<Scope, Stop> {
        let spec: ScopeSpec = match &self.scope {
            Some(s) => s
                .parse()
                .map_err(|e: acrm::Error| Stop::usage(format!("--scope: {e}")))?,
            None => ScopeSpec::All,
        };
        let hidden = match &self.hide_columns {
            Some(cols) => Some(
                ColumnSet::parse_list(cols)
                    .map_err(|e| Stop::usage(format!("--hide-columns: {e}")))?,
            ),
            None => None,
        };
        let mut scope = match (&self.customers, &spec) {
            (Some(path), _) => {
                let assignments = AssignmentCsv::new()
                    .numeric_ids(numeric_ids)
                    .read_path(path)
                    .map_err(|e| format!("{path}: {e}"))?;
                data.assign_owners(assignments.ownership)
                    .map_err(|e| format!("{path}: {e}"))?;
                assignments
                    .organisation
                    .scope(&spec)
                    .map_err(|e| format!("{path}: --scope: {e}"))?
            }
            (None, ScopeSpec::All) => Scope::all(),
            (None, _) => {
                return Err(Stop::usage(
                    "--scope other than `all` needs --customers CUSTOMERS.csv",
                ))
            }
        };
        if let Some(date) = self.as_of_scope {
            scope = scope.as_of(date);
        }
        if let Some(hidden) = hidden {
            scope = scope.hide(hidden);
        }
        Ok(scope)
    }
}

/// The `scope` object of the JSON outputs: kind, id (null for `all`) and the number of
/// customers in the view, with the date and the hidden columns when set.
pub fn scope_json(view: &View<'_>) -> Value {
    let tag = view.scope();
    let mut v = json!({"kind": tag.kind, "id": tag.id, "customers": tag.customers});
    if let Some(d) = tag.as_of {
        v["as_of"] = json!(d.to_string());
    }
    if !tag.hidden_columns.is_empty() {
        v["hidden_columns"] = json!(tag.hidden_columns);
    }
    v
}

/// An output the scope refuses (a hidden column, a forbidden area) as JSON naming why, in
/// place of the figures; anything else stays an error.
pub fn refused(e: acrm::Error) -> Result<Value, String> {
    match &e {
        acrm::Error::HiddenColumn { column, scope } => Ok(json!({
            "error": e.to_string(), "hidden_column": column.name(), "scope": scope,
        })),
        acrm::Error::ForbiddenArea { area, scope } => Ok(json!({
            "error": e.to_string(), "forbidden_area": area.name(), "scope": scope,
        })),
        _ => Err(e.to_string()),
    }
}

/// A fit that stopped before an optimum (at the iteration cap) is an error naming the
/// file, the model and the termination, unless `allow` (`--allow-nonconverged`) lets its
/// figures through.
pub fn converged(
    file: &str,
    model: &str,
    converged: bool,
    termination: impl fmt::Debug,
    iterations: u64,
    allow: bool,
) -> Result<(), Stop> {
    if converged || allow {
        return Ok(());
    }
    Err(Stop::Failed(format!(
        "{file}: the {model} fit did not converge (termination {termination:?} after \
         {iterations} iterations): its estimates are where the optimiser stopped, not an \
         optimum; --allow-nonconverged prints them anyway"
    )))
}

/// Why a standard error is `null` in the JSON (it is NaN or infinite).
pub const SINGULAR_NOTE: &str = "the information matrix is singular (or not positive definite) \
     at the estimate: the standard errors shown as null are undefined";

/// Why the spend-frequency correlation is `null`, given the number of repeat buyers.
pub fn correlation_note(repeat_buyers: usize) -> &'static str {
    if repeat_buyers < 2 {
        "fewer than two repeat buyers: the correlation is undefined"
    } else {
        "the repeat buyers' purchase counts or mean spends are all equal: the correlation \
         is undefined"
    }
}
