//! What the room rules need, and nothing else: the store and the bus membership changes are
//! announced on. Taking this instead of the whole web `State` lets the rules run (and be unit-tested)
//! on any store, such as SQLite in memory.

use natter_bus::EventBus;
use natter_db::{Conn, Db};

use super::RoomError;

pub(crate) struct Rules<'a> {
    pub(crate) db: &'a Db,
    pub(crate) bus: &'a dyn EventBus,
    /// Prefix of the bus topics (`NATTER_KAFKA_TOPIC_PREFIX`).
    pub(crate) topic_prefix: &'a str,
}

impl crate::app::State {
    /// The rules over this web process's stores.
    pub(crate) fn rules(&self) -> Rules<'_> {
        Rules { db: &self.db, bus: self.bus.as_ref(), topic_prefix: &self.topic_prefix }
    }
}

impl Rules<'_> {
    /// Runs a use case's checks and changes in one transaction, all or nothing (see
    /// [`super::RoomContext::locked`]). `f` must not take another connection (nor call anything that
    /// does): on SQLite that would wait forever for the one it holds.
    pub(crate) async fn transaction<R, F>(&self, f: F) -> Result<R, RoomError>
    where
        F: for<'r> AsyncFnOnce(Conn<'r>) -> Result<R, RoomError>,
    {
        self.db.conn().await?.transaction(f).await
    }
}
