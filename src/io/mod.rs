//! Reading and writing customer histories and plain tables. An edge module: nothing else in `src/`
//! imports it.

mod csv;
mod summary;
mod table;

pub use self::csv::{write_transactions_csv, Column, CsvOptions, Delimiter};
pub use self::summary::{read_summary_csv, SummaryTable};
pub use self::table::Table;
