//! Reading and writing customer histories, per-customer summaries, the inputs of the
//! discrete-time models, basket files, sales opportunities and plain tables. An edge module: nothing else in
//! `src/` imports it.

#[cfg(feature = "arrow")]
mod arrow;
mod baskets;
mod campaign_contacts;
mod contacts;
mod csv;
mod discrete;
mod opportunities;
mod org;
#[cfg(feature = "parquet")]
mod parquet;
mod paths;
mod records;
mod spend;
mod summary;
mod table;
mod targets;
mod text;
mod touches;

#[cfg(feature = "arrow")]
pub use self::arrow::{from_record_batch, summary_batch, to_record_batch, ArrowOptions};
pub use self::baskets::{read_basket_csv, read_basket_csv_path, read_baskets, read_baskets_path};
pub use self::campaign_contacts::{CampaignContactCsv, DEFAULT_CAMPAIGN};
pub use self::contacts::{read_campaigns, read_campaigns_path, read_contacts, read_contacts_path};
pub use self::csv::{write_transactions_csv, ColumnRef, CsvOptions, Delimiter};
pub use self::discrete::{
    read_cohorts_csv, read_cohorts_csv_path, read_discrete_patterns_csv,
    read_discrete_patterns_csv_path, read_series_csv, read_series_csv_path,
};
pub use self::opportunities::{
    read_opportunities, read_opportunities_path, read_opportunities_with_history,
    read_opportunities_with_history_path,
};
pub use self::org::{read_organisation, read_organisation_paths, AssignmentCsv};
#[cfg(feature = "parquet")]
pub use self::parquet::{parquet_files, write_parquet};
pub use self::paths::{read_paths, read_paths_path, PATH_COLUMNS};
pub use self::records::CustomerRecordCsv;
pub use self::spend::{read_spend_history, read_spend_history_path};
pub use self::summary::{read_summary_csv, read_summary_csv_path, SummaryTable};
pub use self::table::Table;
pub use self::targets::{read_targets, read_targets_path};
pub use self::touches::{read_touches, read_touches_path};
