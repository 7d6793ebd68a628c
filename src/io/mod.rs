//! Reading and writing customer histories, basket files and plain tables. An edge module: nothing else in `src/`
//! imports it.

mod baskets;
mod csv;
mod org;
mod summary;
mod table;

pub use self::baskets::{read_basket_csv, read_basket_csv_path, read_baskets, read_baskets_path};
pub use self::csv::{write_transactions_csv, Column, CsvOptions, Delimiter};
pub use self::org::{read_organisation, read_organisation_paths, AssignmentCsv};
pub use self::summary::{read_summary_csv, SummaryTable};
pub use self::table::Table;
