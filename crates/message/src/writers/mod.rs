//! The history writers: consumers of one group shared by every pod, so each record is written once.

pub(crate) mod edits;
pub(crate) mod sequencer;

use std::sync::Arc;

use natter_bus::EventBus;

/// Where a writer announces what it stored: a topic every pod fans out (the sequenced topic for
/// placed messages, the edits topic for counted reactions), by its full name.
pub(crate) struct Announcer {
    pub(crate) bus: Arc<dyn EventBus>,
    pub(crate) topic: String,
}
