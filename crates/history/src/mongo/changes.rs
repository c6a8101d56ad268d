//! Edits and deletions of stored messages: conditional updates of the message document, so applying
//! one again (the bus delivers at least once) changes nothing, followed by a refresh of the room's
//! summary in `room_latest` when the changed message is the room's newest.

use mongodb::bson::{DateTime, Document, doc};
use natter_proto::RoomId;
use uuid::Uuid;

use super::{MongoHistory, unavailable};
use crate::HistoryError;

/// The filter that finds message `message_id` of `room` (and no other room's).
pub(super) fn by_id(room: RoomId, message_id: Uuid) -> Document {
    doc! { "_id": message_id.to_string(), "room_id": room }
}

pub(super) async fn edit(
    history: &MongoHistory,
    room: RoomId,
    message_id: Uuid,
    text: &str,
    edited_at_ms: i64,
) -> Result<bool, HistoryError> {
    let at = DateTime::from_millis(edited_at_ms);
    let mut filter = by_id(room, message_id);
    // Never revive a deleted message; never let a replayed older edit undo a newer one.
    filter.insert("deleted", doc! { "$ne": true });
    filter
        .insert("$or", vec![doc! { "edited_at": { "$exists": false } }, doc! { "edited_at": { "$lt": at } }]);
    let update = doc! { "$set": { "text": text, "edited_at": at } };
    apply(history, room, message_id, filter, update).await
}

pub(super) async fn delete(
    history: &MongoHistory,
    room: RoomId,
    message_id: Uuid,
) -> Result<bool, HistoryError> {
    let update = doc! { "$set": { "text": "", "deleted": true }, "$unset": { "file": "" } };
    apply(history, room, message_id, by_id(room, message_id), update).await
}

/// Applies `update` where `filter` matches; whether the message is stored at all.
async fn apply(
    history: &MongoHistory,
    room: RoomId,
    message_id: Uuid,
    filter: Document,
    update: Document,
) -> Result<bool, HistoryError> {
    let result = history.messages.update_one(filter, update).await.map_err(unavailable)?;
    if result.matched_count == 0 {
        // Not stored yet, or stored and the change is already applied (or superseded).
        let stored = history.messages.count_documents(by_id(room, message_id)).await.map_err(unavailable)?;
        if stored == 0 {
            return Ok(false);
        }
    }
    refresh_summary(history, room, message_id).await?;
    Ok(true)
}

/// Copies the message's current state into the room's summary if the summary holds that message.
/// Also after a no-op update: a crash between the two writes is repaired by the replay.
async fn refresh_summary(history: &MongoHistory, room: RoomId, message_id: Uuid) -> Result<(), HistoryError> {
    let Some(current) = history.messages.find_one(by_id(room, message_id)).await.map_err(unavailable)? else {
        return Ok(());
    };
    let message = mongodb::bson::to_bson(&current)
        .map_err(|e| HistoryError::Unavailable(format!("encoding the room summary: {e}")))?;
    history
        .latest
        .update_one(
            doc! { "_id": room, "message._id": message_id.to_string() },
            doc! { "$set": { "message": message } },
        )
        .await
        .map_err(unavailable)?;
    Ok(())
}
