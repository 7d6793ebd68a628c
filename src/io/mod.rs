//! Reading and writing customer histories. An edge module: nothing else in `src/`
//! imports it.

mod csv;

pub use self::csv::{write_transactions_csv, Column, CsvOptions, Delimiter};
