//! Message search: the indexer that keeps `natter_db::search` up to date from the bus, and the
//! search box's syntax.
pub(crate) mod backfill;
pub(crate) mod indexer;
pub(crate) mod messages;
pub(crate) mod query;
