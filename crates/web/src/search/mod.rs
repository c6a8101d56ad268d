//! Message search: the indexer that keeps `natter_db::search` up to date from the bus.
pub(crate) mod indexer;
