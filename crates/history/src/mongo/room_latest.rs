//! The `room_latest` collection: one summary document per room (`_id` = room id) holding the room's
//! newest message, so a member's room list is one `find` by `_id` instead of one sorted query per room.
//!
//! `store()` keeps it up to date after inserting the message, also when the insert was a duplicate, so
//! a replay after a crash between the two writes repairs the summary. The summary only ever moves
//! forward: several pods' history writers store concurrently and a replay stores old messages again,
//! so every write is conditional on the stored position being lower.

use mongodb::Collection;
use mongodb::bson::doc;
use natter_proto::RoomId;
use natter_proto::events::StoredMessage;
use serde::{Deserialize, Serialize};

use super::{MessageDoc, is_duplicate_key, unavailable};
use crate::HistoryError;

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct LatestDoc {
    #[serde(rename = "_id")]
    room_id: i64,
    /// The message's position, on top level because the conditional update filters on it.
    position: i64,
    message: MessageDoc,
}

impl LatestDoc {
    fn new(m: &StoredMessage) -> Self {
        Self { room_id: m.posted.room_id, position: m.position, message: MessageDoc::from(m) }
    }

    pub(super) fn into_entry(self) -> Option<(RoomId, StoredMessage)> {
        Some((self.room_id, self.message.into_message()?))
    }
}

/// Makes `message` the room's summary unless the summary already holds a message at least as new.
pub(super) async fn advance(
    latest: &Collection<LatestDoc>,
    message: &StoredMessage,
) -> Result<(), HistoryError> {
    let summary = LatestDoc::new(message);
    if move_forward(latest, &summary).await? {
        return Ok(());
    }
    match latest.insert_one(&summary).await {
        Ok(_) => Ok(()),
        // The summary exists: either it is at least as new (the update rightly matched nothing), or
        // another writer inserted it between our update and insert, possibly with an older message.
        // Now that it exists, one more conditional update settles both cases.
        Err(e) if is_duplicate_key(&e) => move_forward(latest, &summary).await.map(|_| ()),
        Err(e) => Err(unavailable(e)),
    }
}

/// Replaces the summary if it holds an older message. `false` when nothing matched: the summary is
/// missing or already at least as new.
async fn move_forward(latest: &Collection<LatestDoc>, summary: &LatestDoc) -> Result<bool, HistoryError> {
    let message = mongodb::bson::to_bson(&summary.message)
        .map_err(|e| HistoryError::Unavailable(format!("encoding the room summary: {e}")))?;
    let result = latest
        .update_one(
            doc! { "_id": summary.room_id, "position": { "$lt": summary.position } },
            doc! { "$set": { "position": summary.position, "message": message } },
        )
        .await
        .map_err(unavailable)?;
    Ok(result.matched_count > 0)
}
